import * as http from "node:http";
import * as path from "node:path";
import Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { readSqlFacts, regionRegistry, RegistryDocument, tenantGrantFindings, usageStatementCrd, USAGE_STATEMENTS } from "compute-region-policies/model";
import { main } from "../billing/cli";
import { issueInvoice, addAdjustment, Invoice } from "../billing/invoice";
import { EndpointUsageRecord, GpuUsageRecord, ModelUsageRecord, Window, writeUsage } from "../billing/metering";
import { loadMigrations, migrate } from "../billing/migrate";
import { kubernetesStatementStore, publishStatements, readableTenants } from "../billing/publish";
import { syncRegistry } from "../billing/registry";
import { readStatement, Statement, StatementError, statementText } from "../billing/statement";
import { parseRegionConfig } from "../stacks/config";
import { devStackConfig, engineValues } from "./helpers";
import { startPostgres, TestPostgres } from "./postgres";
import { utc } from "./usage-series";

/**
 * The tenants' views on a real PostgreSQL, with the roles a real database has: the registry Job's
 * (which makes a role per tenant), metering's and invoicing's (which write, under row-level security
 * now), and the statement Job's (`statements`), which reads each tenant's statement as that tenant's
 * role. Three hours of usage end November for acme, globex and initech (as the dev stack sells them),
 * acme's and globex's invoices issued; then each tenant's role reads its own rows and none of the
 * other's, by the views, the base tables and the functions, and writes nothing.
 */

const FIRST_SYNC = utc("2026-11-30T21:00");
const WINDOWS: Window[] = [0, 1, 2].map((i) => ({ start: new Date(FIRST_SYNC.getTime() + i * 3_600_000), end: new Date(FIRST_SYNC.getTime() + (i + 1) * 3_600_000) }));
const INVOICED_AT = utc("2026-12-01T01:00");

let pg: TestPostgres;
const clients: Record<string, Client> = {};
const as = (role: string) => clients[role];

function registryOf(edit: (config: Record<string, any>) => void = () => {}): RegistryDocument {
    const config = devStackConfig();
    edit(config);
    return regionRegistry(parseRegionConfig(engineValues(config), "dev"))!;
}

const gpu = (tenant: string, pool: string, track: GpuUsageRecord["track"], gpus: number, w: Window, seconds = 3600): GpuUsageRecord => ({ tenant, pool, gpuModel: "l40s", track, window: w, gpuSeconds: gpus * seconds });
/** initech's dedicated endpoint of llama-3-8b: one replica held all hour. */
const replicas = (w: Window): EndpointUsageRecord => ({ tenant: "initech", model: "llama-3-8b", track: "dedicated_endpoint", window: w, replicaSeconds: 3600 });
const tokens = (w: Window): ModelUsageRecord => ({ tenant: "initech", model: "llama-3-8b", window: w, requests: 100, inputTokens: 5_000_000, cachedInputTokens: 1_000_000, outputTokens: 2_000_000 });

/** Runs `sql` as `tenant`'s role through the statements login, in a transaction rolled back after. */
async function asTenant<T = any>(tenant: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = as("statements");
    await c.query("BEGIN");
    try {
        await c.query(`SET LOCAL ROLE "tenant_${tenant}"`);
        return (await c.query(sql, params)).rows as T[];
    } finally {
        await c.query("ROLLBACK");
    }
}

beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase("billing");
    clients.admin = await pg.connect("billing");
    await migrate(clients.admin, loadMigrations(path.resolve(__dirname, "../billing/migrations")));
    for (const role of ["registry", "metering", "invoicing", "statements"]) clients[role] = await pg.connect("billing", role);
});
afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.end()));
    await pg?.stop();
});

describe("tenants' database roles", () => {
    it("are made by the registry Job's role on its sync, one per tenant, unable to log in, readable by the statement Job", async () => {
        const result = await syncRegistry(as("registry"), registryOf(), FIRST_SYNC);
        expect(result.changes.roles).toEqual([
            "tenant_acme created",
            "tenant_acme readable by statements (active)",
            "tenant_globex created",
            "tenant_globex readable by statements (active)",
            "tenant_initech created",
            "tenant_initech readable by statements (active)",
        ]);
        const roles = (
            await as("admin").query(
                `SELECT r.rolname, r.rolcanlogin, pg_has_role(r.rolname, 'billing_tenant', 'MEMBER') AS tenant, pg_has_role('statements', r.rolname, 'MEMBER') AS readable
                 FROM pg_roles r WHERE r.rolname LIKE 'tenant\\_%' ORDER BY 1`,
            )
        ).rows;
        expect(roles).toEqual(["acme", "globex", "initech"].map((t) => ({ rolname: `tenant_${t}`, rolcanlogin: false, tenant: true, readable: true })));
        await expect(pg.connect("billing", "tenant_acme")).rejects.toThrow(/not permitted to log in/);
        expect(await readableTenants(as("statements"))).toEqual(["acme", "globex", "initech"]);
        // A second sync changes nothing.
        expect((await syncRegistry(as("registry"), registryOf(), utc("2026-11-30T21:30"))).changed).toBe(false);
    });

    it("leave the billing jobs' roles their rows: metering writes usage, invoicing issues invoices and adjustments", async () => {
        for (const w of WINDOWS) {
            const r = await writeUsage(
                as("metering"),
                {
                    gpu: [gpu("acme", "shared-l40s", "reserved", 6, w), gpu("acme", "shared-l40s", "reserved_use", 2, w), gpu("acme", "acme-l40s", "dedicated", 4, w), gpu("globex", "shared-l40s", "reserved", 4, w), gpu("globex", "shared-l40s", "spot", 2, w, 1800)],
                    hosted: [tokens(w)],
                    endpoint: [replicas(w)],
                },
                "test",
                w,
            );
            expect(r).toMatchObject({ inserted: 7, rejected: [], complete: true });
        }
        await addAdjustment(as("invoicing"), { tenant: "globex", month: "2026-11", amount: "-5.00", reason: "SLO credit", source: "slo", reference: "slo-2026-11-globex" });
        expect((await as("admin").query("SELECT count(*)::int AS n FROM gpu_usage")).rows[0].n).toBe(15);
    });
});

describe("a tenant's statement", () => {
    const open: Record<string, Statement> = {};
    const invoices: Record<string, Invoice> = {};

    it("prices a month not invoiced yet as its invoice will be, as the tenant's role", async () => {
        for (const t of ["acme", "globex"]) open[t] = await readStatement(as("statements"), t, "2026-11", INVOICED_AT);
        expect(open.acme).toMatchObject({ tenant: "acme", month: "2026-11", status: "open", currency: "USD", state: "active", meteredThrough: "2026-12-01T00:00:00.000Z" });
        // 18 GPU-hours reserved at 1.95 and 12 dedicated at 2.10, 10% off.
        expect(open.acme.charges.lines.map((l) => [l.description, l.quantity, l.unitPrice, l.amount])).toEqual([
            ["dedicated l40s GPUs on acme-l40s", "12", "2.1", "22.68"],
            ["reserved l40s GPUs on shared-l40s", "18", "1.95", "31.59"],
        ]);
        expect(open.acme.charges.total).toBe("54.27");
        expect(open.globex.charges.adjustments).toEqual([{ amount: "-5.00", reason: "SLO credit", source: "slo", reference: "slo-2026-11-globex" }]);
    });

    it("is the invoice once issued, and the open statement had its figures", async () => {
        for (const t of ["acme", "globex"]) invoices[t] = await issueInvoice(as("invoicing"), t, "2026-11", INVOICED_AT);
        for (const t of ["acme", "globex"]) {
            const s = await readStatement(as("statements"), t, "2026-11", utc("2026-12-01T02:00"));
            expect(s.status).toBe("invoiced");
            expect(s.charges.invoice).toMatchObject({ invoiceId: invoices[t].invoiceId, issuedAt: INVOICED_AT.toISOString() });
            expect(s.charges.lines).toEqual(invoices[t].lines.filter((l) => l.kind === "charge"));
            expect(s.charges.total).toBe(invoices[t].total);
            expect(open[t].charges.lines).toEqual(s.charges.lines);
            expect(open[t].charges.total).toBe(s.charges.total);
        }
        expect(invoices.globex.total).toBe("20.95"); // 12 reserved GPU-hours x 1.95 + 3 spot x 0.85 - 5.00
        const acme = await readStatement(as("statements"), "acme", "2026-11", utc("2026-12-01T02:00"));
        expect(acme.bought).toEqual([
            { track: "dedicated", subject: "acme-l40s", gpuModel: "l40s", quantity: 4, from: FIRST_SYNC.toISOString(), to: "2026-12-01T00:00:00.000Z" },
            { track: "reserved", subject: "shared-l40s", gpuModel: "l40s", quantity: 6, from: FIRST_SYNC.toISOString(), to: "2026-12-01T00:00:00.000Z" },
        ]);
        expect(acme.gpu).toEqual([
            { pool: "acme-l40s", gpuModel: "l40s", track: "dedicated", billed: true, gpuHours: "12" },
            { pool: "shared-l40s", gpuModel: "l40s", track: "reserved", billed: true, gpuHours: "18" },
            { pool: "shared-l40s", gpuModel: "l40s", track: "reserved_use", billed: false, gpuHours: "6" },
        ]);
        expect(acme.contracts).toEqual([{ from: FIRST_SYNC.toISOString(), to: "2026-12-01T00:00:00.000Z", startsOn: "2026-01-01", discountPercent: "10", reference: "ACME-MSA-2026-014" }]);
        const initech = await readStatement(as("statements"), "initech", "2026-11", utc("2026-12-01T02:00"));
        expect(initech.tokens).toEqual([{ model: "llama-3-8b", track: "hosted", requests: "300", inputTokens: "15000000", cachedInputTokens: "3000000", outputTokens: "6000000" }]);
        expect(initech.gpu).toEqual([]);
        // Its dedicated endpoint's replica-hours (0007's endpoint_usage, its own rows since 0009) are charged: 3 x 2.40.
        expect(initech.charges.lines).toContainEqual(expect.objectContaining({ track: "dedicated_endpoint", quantity: "3", unitPrice: "2.4", amount: "7.20" }));
        const globex = await readStatement(as("statements"), "globex", "2026-11", utc("2026-12-01T02:00"));
        expect(globex.gpu.find((g) => g.track === "spot")).toEqual({ pool: "shared-l40s", gpuModel: "l40s", track: "spot", billed: true, gpuHours: "3" });
    });

    it("comes from the CLI as JSON and as text", async () => {
        const run = async (...argv: string[]) => {
            let out = "";
            let err = "";
            const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) }, () => pg.connect("billing", "statements"));
            return { code, out, err };
        };
        const json = await run("statement", "--tenant", "acme", "--month", "2026-11", "--format", "json", "--at", "2026-12-01T02:00:00Z");
        expect(json.code).toBe(0);
        expect((JSON.parse(json.out) as Statement).charges.total).toBe(invoices.acme.total);
        const text = await run("statement", "--tenant", "acme", "--month", "2026-11", "--at", "2026-12-01T02:00:00Z");
        expect(text.out).toBe(statementText(JSON.parse(json.out)));
        expect(text.out).toContain(`Usage statement: acme, 2026-11 (invoiced: invoice ${invoices.acme.invoiceId}`);
        expect(text.out).toContain("Total: USD 54.27");
        expect((await run("statement", "--tenant", "acme", "--month", "2026-13")).code).toBe(2);
        expect((await run("statement", "--tenant", "hooli", "--month", "2026-11", "--at", "2026-12-01T02:00:00Z")).err).toContain("tenant hooli has no database role tenant_hooli: the registry has never listed it");
    });
});

describe("row-level security holds each tenant's role to its own rows", () => {
    const TENANT_TABLES = ["tenants", "tenant_states", "contracts", "commitments", "gpu_usage", "model_usage", "endpoint_usage", "invoices", "invoice_adjustments", "billable_usage"];

    it("in every view and base table it may read: all of its own rows, none of the other's", async () => {
        const views = (await as("admin").query<{ name: string; tenant: boolean }>(
            "SELECT c.relname AS name, EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id') AS tenant FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'tenant_billing' AND c.relkind = 'v' ORDER BY 1",
        )).rows;
        expect(views.length).toBeGreaterThanOrEqual(12);
        for (const [me, other] of [["acme", "globex"], ["globex", "acme"]]) {
            for (const v of views.filter((x) => x.tenant)) {
                // What the table owner sees of this tenant in the view (owners are exempt from row-level security).
                const own = (await as("admin").query(`SELECT count(*)::int AS n FROM tenant_billing.${v.name} WHERE tenant_id = $1`, [me])).rows[0].n;
                expect(await asTenant(me, `SELECT tenant_id, count(*)::int AS n FROM tenant_billing.${v.name} GROUP BY 1`), `${me} in tenant_billing.${v.name}`).toEqual(own > 0 ? [{ tenant_id: me, n: own }] : []);
                expect(await asTenant(me, `SELECT * FROM tenant_billing.${v.name} WHERE tenant_id = $1`, [other])).toEqual([]);
            }
            for (const table of TENANT_TABLES) {
                const own = (await as("admin").query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [me])).rows[0].n;
                const others = (await as("admin").query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id <> $1`, [me])).rows[0].n;
                expect(own + others, `rows in ${table}`).toBeGreaterThan(0);
                expect(await asTenant(me, `SELECT tenant_id, count(*)::int AS n FROM ${table} GROUP BY 1`), `${me} in ${table}`).toEqual(own > 0 ? [{ tenant_id: me, n: own }] : []);
            }
            const lines = await asTenant(me, "SELECT DISTINCT invoice_id::int AS id FROM invoice_lines");
            expect(lines).toEqual([{ id: (await as("admin").query("SELECT invoice_id::int AS id FROM invoices WHERE tenant_id = $1", [me])).rows[0].id }]);
        }
        // Tokens: initech's only, and only to initech.
        expect(await asTenant("acme", "SELECT * FROM tenant_billing.model_usage")).toEqual([]);
        expect((await asTenant("initech", "SELECT DISTINCT tenant_id FROM tenant_billing.model_usage")).map((r) => r.tenant_id)).toEqual(["initech"]);
    });

    it("not by the functions either: charge_lines of another tenant is empty, the rest are not its to call", async () => {
        const range = ["globex", "2026-11-01T00:00Z", "2026-12-01T00:00Z"];
        expect((await as("admin").query("SELECT * FROM charge_lines($1, $2, $3)", range)).rows.length).toBeGreaterThan(0);
        expect(await asTenant("acme", "SELECT * FROM charge_lines($1, $2, $3)", range)).toEqual([]);
        expect(await asTenant("acme", "SELECT billing_current_tenant() AS t")).toEqual([{ t: "acme" }]);
        for (const call of [
            "SELECT issue_invoice('globex', '2026-11-01')",
            "SELECT add_invoice_adjustment('globex', '2026-12-01', -1, 'x', 'slo', 'x')",
            "SELECT lock_tenant_month('globex', '2026-12-01')",
            "SELECT price_on('l40s', 'raw', '2026-11-01')",
            "SELECT sync_tenant_roles()",
        ]) {
            await expect(asTenant("acme", call), call).rejects.toThrow(/permission denied for function/);
        }
    });

    it("and it writes nothing: no table, view, schema or temporary table", async () => {
        const relations = (await as("admin").query<{ name: string; kind: string }>(
            "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'tenant_billing') AND c.relkind IN ('r', 'v') ORDER BY 1",
        )).rows;
        expect(relations.length).toBeGreaterThan(30);
        for (const r of relations) {
            const column = (await as("admin").query("SELECT quote_ident(attname) AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = '' ORDER BY attnum DESC LIMIT 1", [r.name])).rows[0].c;
            for (const sql of [`INSERT INTO ${r.name} DEFAULT VALUES`, `UPDATE ${r.name} SET ${column} = ${column}`, `DELETE FROM ${r.name}`, ...(r.kind === "r" ? [`TRUNCATE ${r.name}`] : [])]) {
                await expect(asTenant("acme", sql), sql).rejects.toThrow(/permission denied|cannot (insert into|update|delete from) (view|column)/);
            }
        }
        for (const sql of ["CREATE TABLE public.mine (x int)", "CREATE TABLE tenant_billing.mine (x int)", "CREATE TEMP TABLE mine (x int)", "CREATE VIEW tenant_billing.all_usage AS SELECT 1", "CREATE SCHEMA mine"]) {
            await expect(asTenant("acme", sql), sql).rejects.toThrow(/permission denied/);
        }
    });

    it("and the statement Job's own role reads no tenant's rows until it acts as one", async () => {
        const c = as("statements");
        for (const v of ["tenant_billing.gpu_usage", "tenant_billing.invoices", "gpu_usage", "invoices", "tenants"]) expect((await c.query(`SELECT count(*)::int AS n FROM ${v}`)).rows[0].n, v).toBe(0);
        for (const other of ["registry", "metering", "invoicing", "postgres"]) await expect(c.query(`SET ROLE ${other}`)).rejects.toThrow(/permission denied to set role/);
        await expect(c.query("SELECT * FROM registry_syncs")).rejects.toThrow(/permission denied/);
    });
});

describe("what tenant-billing-rows-scoped reads of the migrations is what PostgreSQL made of them", () => {
    // The policy reads the migrations' text (policies/model/analyses/sql-grants.ts); the catalog is the truth.
    const facts = () => readSqlFacts(loadMigrations(path.resolve(__dirname, "../billing/migrations")).map((m) => ({ file: m.name, sql: m.sql })));
    const rows = async (sql: string) => (await as("admin").query<{ name: string }>(sql)).rows.map((r) => r.name).sort();
    const RELATION = "CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END";

    it("the same tables under row-level security, invoker views, owner's-rights functions, tenants' policies and grants; and no finding", async () => {
        const f = facts();
        // Not empty on either side: nine tables of tenants' rows, the tenant_billing views, the registry's role-making function.
        expect([...f.tables].filter(([, t]) => t.rowLevelSecurity)).toHaveLength(12);
        expect([...f.views].filter(([n, v]) => v.securityInvoker && n.startsWith("tenant_billing.")).length).toBeGreaterThanOrEqual(12);
        expect(f.functions.get("sync_tenant_roles")).toEqual({ securityDefiner: true, publicExecute: false });
        expect([...f.tables].filter(([, t]) => t.rowLevelSecurity).map(([n]) => n).sort()).toEqual(
            await rows(`SELECT ${RELATION} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relrowsecurity AND n.nspname IN ('public', 'tenant_billing')`),
        );
        expect([...f.views].filter(([, v]) => v.securityInvoker).map(([n]) => n).sort()).toEqual(
            await rows(`SELECT ${RELATION} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND 'security_invoker=true' = ANY (coalesce(c.reloptions, '{}')) AND n.nspname IN ('public', 'tenant_billing')`),
        );
        expect([...f.views].filter(([, v]) => !v.securityInvoker).map(([n]) => n).sort()).toEqual(
            await rows(`SELECT ${RELATION} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND NOT 'security_invoker=true' = ANY (coalesce(c.reloptions, '{}')) AND n.nspname IN ('public', 'tenant_billing')`),
        );
        expect([...f.functions].filter(([, fn]) => fn.securityDefiner).map(([n]) => n).sort()).toEqual(await rows("SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef"));
        expect([...f.functions].filter(([, fn]) => fn.publicExecute).map(([n]) => n).sort()).toEqual(
            await rows("SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))"),
        );
        const tenantGrants = f.grants.filter((g) => g.grantee === "billing_tenant");
        expect(tenantGrants.filter((g) => g.kind === "relation" && g.privilege === "SELECT").map((g) => g.object).sort()).toEqual(
            await rows(`SELECT ${RELATION} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v') AND n.nspname IN ('public', 'tenant_billing') AND EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee = 'billing_tenant'::regrole AND a.privilege_type = 'SELECT')`),
        );
        expect(tenantGrants.filter((g) => g.kind === "function").map((g) => g.object).sort()).toEqual(
            await rows("SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 'billing_tenant'::regrole AND a.privilege_type = 'EXECUTE')"),
        );
        // No write of any kind is granted to tenants in the catalog, as the reading says.
        expect(tenantGrants.filter((g) => !["SELECT", "USAGE", "EXECUTE"].includes(g.privilege))).toEqual([]);
        expect(await rows("SELECT c.relname AS name FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = 'billing_tenant'::regrole AND a.privilege_type <> 'SELECT'")).toEqual([]);
        expect(f.policies.filter((p) => p.roles.includes("billing_tenant")).map((p) => `${p.table}/${p.name}/${p.command}`).sort()).toEqual(
            await rows("SELECT tablename || '/' || policyname || '/' || cmd AS name FROM pg_policies WHERE 'billing_tenant' = ANY (roles)"),
        );
        expect(tenantGrantFindings(f)).toEqual([]);
    });
});

describe("0006 and 0009 on a database that had 0007 first", () => {
    it("end in the same grants, row-level security, policies and views as on a new one", async () => {
        // What a database deployed before 0006 landed has (0001-0005 and 0007), then the migrations after it
        // (0008, issue 23's SLO terms and events, needs 0006's tenant roles, and landed after it).
        const all = loadMigrations(path.resolve(__dirname, "../billing/migrations"));
        await pg.createDatabase("late_tenant_views");
        const late = await pg.connect("late_tenant_views");
        try {
            await migrate(late, all.filter((m) => m.version <= 5 || m.version === 7));
            expect((await migrate(late, all)).applied).toEqual(["0006_tenant_views", "0008_slo_attainment_credits", "0009_tenant_endpoint_usage"]);
            const catalog = async (c: Client) => {
                const q = async (sql: string) => (await c.query<{ x: string }>(sql)).rows.map((r) => r.x).sort();
                return {
                    rls: await q("SELECT n.nspname || '.' || c.relname AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity"),
                    views: await q("SELECT n.nspname || '.' || c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '') AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname IN ('public', 'tenant_billing')"),
                    policies: await q("SELECT tablename || ' ' || policyname || ' ' || cmd || ' ' || array_to_string(roles, ',') || ' ' || coalesce(qual, '') AS x FROM pg_policies"),
                    grants: await q("SELECT n.nspname || '.' || c.relname || ' ' || a.grantee::regrole || ' ' || a.privilege_type AS x FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a WHERE n.nspname IN ('public', 'tenant_billing') AND a.grantee <> c.relowner"),
                    functions: await q("SELECT p.proname || ' ' || p.prosecdef || ' ' || coalesce(p.proacl::text, 'default') AS x FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"),
                };
            };
            const fresh = await catalog(as("admin"));
            expect(fresh.views.find((v) => v.startsWith("public.billable_usage "))).toBe("public.billable_usage security_invoker=true");
            expect(fresh.rls).toContain("public.endpoint_usage");
            expect(await catalog(late)).toEqual(fresh);
        } finally {
            await late.end();
        }
    });
});

describe("statements published to the tenants' namespaces", () => {
    /** A loopback stand-in for the Kubernetes API: it answers the list and the server-side apply the Job makes, and keeps what it was sent. */
    async function apiServer() {
        const stored = new Map<string, Record<string, any>>();
        const requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
        const server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => {
                requests.push({ method: req.method!, url: req.url!, headers: req.headers });
                const url = new URL(req.url!, "http://x");
                const m = /^\/apis\/billing\.compute-region\.io\/v1alpha1\/namespaces\/([^/]+)\/usagestatements(?:\/([^/]+))?$/.exec(url.pathname);
                if (!m || req.headers.authorization !== "Bearer token-1") {
                    res.writeHead(m ? 401 : 404).end(JSON.stringify({ message: m ? "Unauthorized" : "not found" }));
                    return;
                }
                if (m[1] === "tenant-globex") {
                    res.writeHead(403).end(JSON.stringify({ message: 'usagestatements is forbidden: User "system:serviceaccount:billing:billing-statements" cannot list resource' }));
                    return;
                }
                if (req.method === "GET") {
                    res.writeHead(200).end(JSON.stringify({ items: [...stored.values()].filter((o) => o.metadata.namespace === m[1]) }));
                    return;
                }
                const object = JSON.parse(body);
                stored.set(`${m[1]}/${m[2]}`, object);
                res.writeHead(200).end(body);
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, stored, requests, close: () => new Promise((r) => server.close(r)) };
    }

    it("applies each readable tenant's months as UsageStatements the CRD's schema accepts, and a failing tenant does not stop the rest", async () => {
        const api = await apiServer();
        try {
            const store = kubernetesStatementStore({ server: api.url, token: () => "token-1" });
            const first = await publishStatements(as("statements"), store, utc("2026-12-01T02:00"));
            expect(first.published.map((p) => `${p.tenant} ${p.month} ${p.status} ${p.total}`)).toEqual(["acme 2026-11 invoiced 54.27", "acme 2026-12 open 0.00", "initech 2026-11 open 9.75", "initech 2026-12 open 0.00"]);
            expect(first.failed).toEqual([{ tenant: "globex", reason: expect.stringContaining("403 usagestatements is forbidden") }]);
            const patch = api.requests.find((r) => r.method === "PATCH")!;
            expect(patch.url).toBe("/apis/billing.compute-region.io/v1alpha1/namespaces/tenant-acme/usagestatements/2026-11?fieldManager=billing-statements&force=true");
            expect(patch.headers["content-type"]).toBe("application/apply-patch+yaml");
            const validate = new Ajv({ strict: false }).compile(usageStatementCrd().spec.versions[0].schema.openAPIV3Schema);
            for (const [key, object] of api.stored) {
                expect(validate(object), `${key}: ${JSON.stringify(validate.errors)}`).toBe(true);
                expect(object).toMatchObject({ apiVersion: `${USAGE_STATEMENTS.group}/${USAGE_STATEMENTS.version}`, kind: USAGE_STATEMENTS.kind, metadata: { name: key.split("/")[1], namespace: key.split("/")[0] } });
                expect(object.statement.tenant).toBe(key.split("/")[0].replace("tenant-", ""));
            }
            // The next run leaves the invoiced month alone and refreshes the open ones.
            api.requests.length = 0;
            await publishStatements(as("statements"), store, utc("2026-12-01T03:00"));
            expect(api.requests.filter((r) => r.method === "PATCH").map((r) => r.url.split("?")[0].split("/").slice(-3).join("/"))).toEqual(["tenant-acme/usagestatements/2026-12", "tenant-initech/usagestatements/2026-11", "tenant-initech/usagestatements/2026-12"]);
        } finally {
            await api.close();
        }
    });
});

describe("decommissioned and removed tenants", () => {
    it("keep their rows and their roles, and nobody may act as them any more", async () => {
        const before = (await as("admin").query("SELECT tenant_id, count(*)::int AS n FROM gpu_usage GROUP BY 1 ORDER BY 1")).rows;
        const doc = registryOf((config) => {
            config["compute-region:tenants"].find((t: { name: string }) => t.name === "globex").state = "decommissioned";
            config["compute-region:tenants"] = config["compute-region:tenants"].filter((t: { name: string }) => t.name !== "initech");
            // initech was the only one to submit batches: nobody could now.
            for (const m of config["compute-region:models"]) delete m.batch;
        });
        const r = await syncRegistry(as("registry"), doc, utc("2026-12-02T00:00"));
        expect(r.changes.roles).toEqual(["tenant_globex no longer readable (decommissioned): its rows stay", "tenant_initech no longer readable (removed): its rows stay"]);
        expect(await readableTenants(as("statements"))).toEqual(["acme"]);
        await expect(as("statements").query('SET ROLE "tenant_globex"')).rejects.toThrow(/permission denied to set role/);
        await expect(readStatement(as("statements"), "globex", "2026-11", utc("2026-12-02T01:00"))).rejects.toThrow(StatementError);
        await expect(readStatement(as("statements"), "initech", "2026-11", utc("2026-12-02T01:00"))).rejects.toThrow(/no longer readable as tenant_initech: the tenant is decommissioned or removed/);
        expect((await as("admin").query("SELECT tenant_id, count(*)::int AS n FROM gpu_usage GROUP BY 1 ORDER BY 1")).rows).toEqual(before);
        expect((await as("admin").query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname IN ('tenant_globex', 'tenant_initech') AND NOT rolcanlogin")).rows[0].n).toBe(2);
        // An operator (the migrator's role) still reads what globex would have seen.
        expect((await readStatement(as("admin"), "globex", "2026-11", utc("2026-12-02T01:00"))).charges.total).toBe("20.95");
    });
});
