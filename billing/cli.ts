#!/usr/bin/env node
/**
 * The billing image's entry point, shared by the Jobs and operators:
 *   node bin/billing/cli.js migrate [--dir /migrations]                 the migration Job
 *   node bin/billing/cli.js sync --registry FILE [--at ISO]             the registry Job: apply a registry document
 *   node bin/billing/cli.js meter [--at ISO] [--windows N] [--window-seconds S]
 *                                                                       the metering CronJob: the N closed windows before --at
 *   node bin/billing/cli.js invoice --tenant T --month YYYY-MM [--format json|text] [--at ISO]
 *                                                                       issue (or show) a month's invoice, with the SLO
 *                                                                       credits its month owes (billing/slo.ts)
 *   node bin/billing/cli.js adjust --tenant T --month YYYY-MM --amount A --reason TEXT --source S --reference R
 *                                                                       record an adjustment (A < 0: a credit) on a month not invoiced yet
 *   node bin/billing/cli.js statement --tenant T --month YYYY-MM [--format json|text] [--at ISO]
 *                                                                       the tenant's usage statement, read as its own database role
 *   node bin/billing/cli.js publish-statements [--at ISO]               the statement CronJob: each readable tenant's statements
 *                                                                       as UsageStatements in its namespace (in a pod)
 *
 * Connection: PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLROOTCERT (the RDS CA bundle), and either
 * PGPASSWORD_SECRET_ARN (the RDS-managed master secret, for migrations), PGIAMAUTH=true (IAM
 * database authentication: a token signed for PGUSER) or PGPASSWORD. Prometheus: PROMETHEUS_URL.
 *
 * Exit codes: 0 done; 1 failed (or metering rejected records); 2 bad arguments or a document the
 * registry refuses (nothing changed).
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { parseInstant, parseRegistry, PROMETHEUS_URL, RegistryError } from "compute-region-policies/model";
import { Client } from "pg";
import { addAdjustment, invoiceText, issueInvoice, monthStart } from "./invoice";
import { loadMigrations, migrate } from "./migrate";
import { closedWindows, httpPrometheus, meterWindows } from "./metering";
import { inClusterConnection, kubernetesStatementStore, publishStatements } from "./publish";
import { describeSync, SyncError, syncRegistry } from "./registry";
import { readStatement, statementText } from "./statement";

export const USAGE = `usage: cli.js <command> [options]
  migrate [--dir DIR]                                         apply the SQL migrations in DIR (default /migrations)
  sync --registry FILE [--at ISO]                             apply a registry document as of --at (default now)
  meter [--at ISO] [--windows N] [--window-seconds S]         meter the N closed windows of S seconds before --at (default now, 3, 3600)
  invoice --tenant T --month YYYY-MM [--format json|text] [--at ISO]
                                                              issue (or show) the tenant's invoice for the month,
                                                              with the SLO credits it owes and its service levels
  adjust --tenant T --month YYYY-MM --amount A --reason TEXT --source S --reference R
                                                              record an adjustment (A < 0: a credit) on a month not invoiced yet
  statement --tenant T --month YYYY-MM [--format json|text] [--at ISO]
                                                              the tenant's usage statement for the month, read as its own database role
  publish-statements [--at ISO]                               publish the statements the session's role may read as UsageStatements (in a pod)`;

/** Bad arguments: exit 2 with the usage. */
export class UsageError extends Error {}

async function password(): Promise<string | undefined> {
    const secretArn = process.env.PGPASSWORD_SECRET_ARN;
    if (secretArn) {
        const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
        const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
        return (JSON.parse(out.SecretString ?? "{}") as { password?: string }).password;
    }
    if (process.env.PGIAMAUTH === "true") {
        const { Signer } = await import("@aws-sdk/rds-signer");
        return new Signer({ hostname: process.env.PGHOST!, port: Number(process.env.PGPORT ?? 5432), username: process.env.PGUSER! }).getAuthToken();
    }
    return process.env.PGPASSWORD;
}

async function connect(): Promise<Client> {
    const ca = process.env.PGSSLROOTCERT;
    const client = new Client({ password: await password(), ...(ca ? { ssl: { ca: fs.readFileSync(ca, "utf8"), rejectUnauthorized: true } } : {}) });
    await client.connect();
    return client;
}

function instant(value: string | undefined, flag: string): Date {
    if (value === undefined) return new Date();
    const at = parseInstant(value);
    if (!at) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not an ISO 8601 date-time with a zone (such as 2026-11-01T00:00:00Z)`);
    return at;
}

function required(values: Record<string, unknown>, ...flags: string[]): void {
    const missing = flags.filter((f) => values[f] === undefined);
    if (missing.length > 0) throw new UsageError(`${missing.map((f) => `--${f}`).join(", ")} ${missing.length === 1 ? "is" : "are"} required`);
}

function wholeNumber(value: string | undefined, flag: string): number {
    const n = Number(value);
    if (!/^\d+$/.test(value ?? "") || n < 1) throw new UsageError(`${flag} must be a whole number at least 1, got ${JSON.stringify(value)}`);
    return n;
}

/** Runs one command; `out`/`err` receive the lines it prints. */
export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }, clientFactory: () => Promise<ClientLike> = connect): Promise<number> {
    const [command, ...rest] = argv;
    let values: Record<string, string | undefined>;
    try {
        values = parseArgs({
            args: rest,
            options: {
                dir: { type: "string", default: "/migrations" },
                registry: { type: "string" },
                at: { type: "string" },
                windows: { type: "string", default: "3" },
                "window-seconds": { type: "string", default: "3600" },
                tenant: { type: "string" },
                month: { type: "string" },
                format: { type: "string", default: "text" },
                amount: { type: "string" },
                reason: { type: "string" },
                source: { type: "string" },
                reference: { type: "string" },
            },
            strict: true,
            allowPositionals: false,
        }).values as Record<string, string | undefined>;
    } catch (e) {
        io.err(`error: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    try {
        // Arguments are checked before connecting: a typo never waits for the database.
        const at = instant(values.at, "--at");
        let document;
        if (command === "sync") {
            required(values, "registry");
            const text = fs.existsSync(values.registry!) ? fs.readFileSync(values.registry!, "utf8") : undefined;
            if (text === undefined) throw new UsageError(`--registry: ${values.registry} does not exist`);
            document = parseRegistry(text, values.registry);
        } else if (command === "meter") {
            closedWindows(at, wholeNumber(values["window-seconds"], "--window-seconds"), wholeNumber(values.windows, "--windows"));
        } else if (command === "invoice" || command === "statement") {
            required(values, "tenant", "month");
            monthStart(values.month!);
            if (!["json", "text"].includes(values.format!)) throw new UsageError(`--format must be json or text, got ${JSON.stringify(values.format)}`);
        } else if (command === "adjust") {
            required(values, "tenant", "month", "amount", "reason", "source", "reference");
        } else if (command !== "migrate" && command !== "publish-statements") {
            throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
        }
        const client = await clientFactory();
        try {
            if (command === "migrate") {
                const result = await migrate(client as Client, loadMigrations(values.dir!), (line) => io.out(`${line}\n`));
                io.out(`migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied\n`);
                return 0;
            }
            if (command === "sync") {
                io.out(`${describeSync(await syncRegistry(client as Client, document!, at)).join("\n")}\n`);
                return 0;
            }
            if (command === "meter") {
                const prom = httpPrometheus(process.env.PROMETHEUS_URL ?? PROMETHEUS_URL);
                let failures = 0;
                // Re-meter the last few closed windows: a window missed by a failed run is filled, and idempotence makes the rest no-ops.
                await meterWindows(client as Client, prom, closedWindows(at, Number(values["window-seconds"]), Number(values.windows)), (window, result, usage) => {
                    io.out(`${window.start.toISOString()}..${window.end.toISOString()}: ${result.inserted} inserted, ${result.duplicates} already recorded, ${result.rejected.length} rejected${result.complete ? "" : " (window not complete)"}\n`);
                    for (const r of result.rejected) io.err(`rejected ${r.record}: ${r.reason}\n`);
                    for (const u of usage.gpu.filter((g) => g.track === "unsold")) {
                        io.err(`unsold: ${u.tenant} used ${(u.gpuSeconds / 3600).toFixed(3)} GPU-hours on ${u.pool} beyond what it bought, not at the spot priority (recorded, not billed)\n`);
                    }
                    failures += result.rejected.length;
                });
                return failures > 0 ? 1 : 0;
            }
            if (command === "invoice") {
                const invoice = await issueInvoice(client as Client, values.tenant!, values.month!, at);
                io.out(values.format === "json" ? `${JSON.stringify(invoice, null, 2)}\n` : invoiceText(invoice));
                return 0;
            }
            if (command === "statement") {
                const statement = await readStatement(client as Client, values.tenant!, values.month!, at);
                io.out(values.format === "json" ? `${JSON.stringify(statement, null, 2)}\n` : statementText(statement));
                return 0;
            }
            if (command === "publish-statements") {
                const result = await publishStatements(client as Client, kubernetesStatementStore(inClusterConnection()), at, (line) => io.out(`${line}\n`));
                io.out(`statements: ${result.published.length} published, ${result.failed.length} failed\n`);
                for (const f of result.failed) io.err(`failed ${f.tenant}${f.month ? ` ${f.month}` : ""}: ${f.reason}\n`);
                return result.failed.length > 0 ? 1 : 0;
            }
            const id = await addAdjustment(client as Client, { tenant: values.tenant!, month: values.month!, amount: values.amount!, reason: values.reason!, source: values.source!, reference: values.reference! });
            io.out(`adjustment ${id}: ${values.amount} on ${values.tenant}'s ${values.month} invoice (${values.source} ${values.reference})\n`);
            return 0;
        } finally {
            await client.end();
        }
    } catch (e) {
        if (e instanceof UsageError || e instanceof RangeError) {
            io.err(`error: ${e.message}\n${e instanceof UsageError ? `${USAGE}\n` : ""}`);
            return 2;
        }
        if (e instanceof RegistryError || e instanceof SyncError) {
            io.err(`error: ${e.message}\n`);
            return 2;
        }
        // The database refused (an invoice it cannot issue yet, an adjustment on an issued month, ...): its reason.
        io.err(`error: ${(e as Error).message}\n`);
        return 1;
    }
}

/** What the commands need of a connection (a pg Client). */
type ClientLike = Pick<Client, "query" | "end">;

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exit(1);
        },
    );
}
