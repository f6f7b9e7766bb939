import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { ClientBase } from "pg";
import { tenantNamespace, TENANT_BILLING_DB, USAGE_STATEMENTS, usageStatementObject } from "compute-region-policies/model";
import { monthBounds, readStatement, Statement } from "./statement";

/**
 * The statement Job (`cli.js publish-statements`): for every tenant whose role the session's role
 * may act as (the `statements` role: active and suspended tenants), reads its statements as that
 * tenant and applies each as a UsageStatement in the tenant's namespace.
 *
 * The months published: the current one and the one before (its invoice is usually issued in the
 * first days of the next), and any month whose published statement is still open. An invoiced
 * statement is final and is not read again.
 */

/** Where statements go: the Kubernetes API (in-cluster), or anything else that stores them. */
export interface StatementStore {
    /** The statements already in a namespace: their month and status. */
    list(namespace: string): Promise<{ month: string; status?: string }[]>;
    /** Creates or replaces a statement (server-side apply: the Job owns every field it writes). */
    apply(object: Record<string, unknown>): Promise<void>;
}

export interface PublishResult {
    published: { tenant: string; month: string; status: string; total: string }[];
    failed: { tenant: string; month?: string; reason: string }[];
}

const monthOf = (d: Date) => d.toISOString().slice(0, 7);
const previousMonth = (month: string) => monthOf(new Date(monthBounds(month).from.getTime() - 1));

/** The tenants the session's role may read statements of (its tenant role memberships). */
export async function readableTenants(client: ClientBase): Promise<string[]> {
    const { rows } = await client.query<{ tenant: string }>(
        `SELECT substr(g.rolname, $1::int + 1) AS tenant
         FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
         WHERE r.rolname = session_user AND starts_with(g.rolname, $2) ORDER BY 1`,
        [TENANT_BILLING_DB.tenantRolePrefix.length, TENANT_BILLING_DB.tenantRolePrefix],
    );
    return rows.map((r) => r.tenant);
}

/** Publishes the statements due at `at`; a tenant that fails (its namespace gone, a refusal) does not stop the others. */
export async function publishStatements(client: ClientBase, store: StatementStore, at: Date, log: (line: string) => void = () => {}): Promise<PublishResult> {
    const result: PublishResult = { published: [], failed: [] };
    const current = monthOf(at);
    for (const tenant of await readableTenants(client)) {
        const namespace = tenantNamespace(tenant);
        let months: string[];
        try {
            const listed = await store.list(namespace);
            months = [...new Set([previousMonth(current), current, ...listed.filter((s) => s.status !== "invoiced" && s.month <= current).map((s) => s.month)])].sort();
            // An invoiced month published already is final.
            months = months.filter((m) => !listed.some((s) => s.month === m && s.status === "invoiced"));
        } catch (e) {
            result.failed.push({ tenant, reason: (e as Error).message });
            log(`${tenant}: ${(e as Error).message}`);
            continue;
        }
        for (const month of months) {
            try {
                const statement: Statement = await readStatement(client, tenant, month, at);
                await store.apply(usageStatementObject(namespace, statement));
                result.published.push({ tenant, month, status: statement.status, total: statement.charges.total });
                log(`${namespace}/${month}: ${statement.status}, ${statement.currency} ${statement.charges.total}`);
            } catch (e) {
                result.failed.push({ tenant, month, reason: (e as Error).message });
                log(`${namespace}/${month}: ${(e as Error).message}`);
            }
        }
    }
    return result;
}

/** Refused by the Kubernetes API: its status code and message. */
export class KubernetesError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

export interface KubernetesConnection {
    /** The API server's base URL (https://host:port). */
    server: string;
    /** A bearer token, read again for every request (projected tokens rotate). */
    token: () => string;
    /** The CA bundle that signs the API server's certificate. */
    ca?: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own connection: the kubernetes Service from the environment, its service account's token and CA. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubernetesConnection {
    const host = env.KUBERNETES_SERVICE_HOST;
    if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: publish-statements runs in a pod (or set it, with a token and CA, to reach an API server)");
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    return { server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`, token: () => fs.readFileSync(`${dir}/token`, "utf8").trim(), ca: fs.readFileSync(`${dir}/ca.crt`, "utf8") };
}

/**
 * UsageStatements through the Kubernetes API: a list and a server-side apply, the two requests the
 * Job makes. Written against node:https rather than a Kubernetes client library, whose dependencies
 * would all ship in the billing image for two requests.
 */
export function kubernetesStatementStore(connection: KubernetesConnection): StatementStore {
    const base = `/apis/${USAGE_STATEMENTS.group}/${USAGE_STATEMENTS.version}/namespaces`;
    const request = (method: string, path: string, body?: string, contentType?: string) =>
        new Promise<unknown>((resolve, reject) => {
            const url = new URL(path, connection.server);
            const transport = url.protocol === "https:" ? https : http;
            const req = transport.request(
                url,
                {
                    method,
                    ...(url.protocol === "https:" && connection.ca ? { ca: connection.ca } : {}),
                    headers: { Authorization: `Bearer ${connection.token()}`, Accept: "application/json", ...(body !== undefined ? { "Content-Type": contentType!, "Content-Length": Buffer.byteLength(body) } : {}) },
                    timeout: 30_000,
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (d) => (text += d));
                    res.on("end", () => {
                        const status = res.statusCode ?? 0;
                        let parsed: any;
                        try {
                            parsed = text ? JSON.parse(text) : undefined;
                        } catch {
                            parsed = undefined;
                        }
                        if (status >= 200 && status < 300) resolve(parsed);
                        else reject(new KubernetesError(status, `${method} ${url.pathname}: ${status} ${parsed?.message ?? text.slice(0, 200)}`));
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 30 s`)));
            req.on("error", reject);
            if (body !== undefined) req.write(body);
            req.end();
        });
    return {
        async list(namespace) {
            const list = (await request("GET", `${base}/${encodeURIComponent(namespace)}/${USAGE_STATEMENTS.plural}`)) as { items?: { metadata?: { name?: string }; statement?: { status?: string } }[] };
            return (list.items ?? []).map((i) => ({ month: String(i.metadata?.name ?? ""), ...(i.statement?.status ? { status: i.statement.status } : {}) }));
        },
        async apply(object) {
            const meta = object.metadata as { name: string; namespace: string };
            const query = `fieldManager=${encodeURIComponent(USAGE_STATEMENTS.fieldManager)}&force=true`;
            // Server-side apply takes JSON (a subset of YAML) under the apply-patch content type.
            await request("PATCH", `${base}/${encodeURIComponent(meta.namespace)}/${USAGE_STATEMENTS.plural}/${encodeURIComponent(meta.name)}?${query}`, JSON.stringify(object), "application/apply-patch+yaml");
        },
    };
}
