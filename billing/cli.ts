#!/usr/bin/env node
/**
 * The billing image's entry point:
 *   node bin/billing/cli.js migrate --dir /migrations      (the migration Job)
 *   node bin/billing/cli.js meter [--windows N]            (the hourly metering CronJob)
 *
 * Connection: PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLROOTCERT (the RDS CA bundle), and either
 * PGPASSWORD_SECRET_ARN (the RDS-managed master secret, for migrations) or IAM database
 * authentication (metering: a token signed for PGUSER). Prometheus: PROMETHEUS_URL.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { PROMETHEUS_URL } from "compute-region-policies/model";
import { Client } from "pg";
import { loadMigrations, migrate } from "./migrate";
import { closedWindows, httpPrometheus, meterWindow, writeUsage } from "./metering";

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

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    const { values } = parseArgs({ args: rest, options: { dir: { type: "string", default: "/migrations" }, windows: { type: "string", default: "3" }, "window-seconds": { type: "string", default: "3600" } } });
    const client = await connect();
    try {
        if (command === "migrate") {
            const result = await migrate(client, loadMigrations(values.dir!), (line) => console.log(line));
            console.log(`migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
            return 0;
        }
        if (command === "meter") {
            const prom = httpPrometheus(process.env.PROMETHEUS_URL ?? PROMETHEUS_URL);
            let failures = 0;
            // Re-meter the last few closed windows: a window missed by a failed run is filled, and idempotence makes the rest no-ops.
            for (const window of closedWindows(new Date(), Number(values["window-seconds"]), Number(values.windows))) {
                const result = await writeUsage(client, await meterWindow(prom, window), "prometheus");
                console.log(`${window.start.toISOString()}..${window.end.toISOString()}: ${result.inserted} inserted, ${result.duplicates} already recorded, ${result.rejected.length} rejected`);
                for (const r of result.rejected) console.error(`rejected ${r.record}: ${r.reason}`);
                failures += result.rejected.length;
            }
            return failures > 0 ? 1 : 0;
        }
        console.error("usage: cli.js migrate --dir DIR | meter [--windows N] [--window-seconds S]");
        return 2;
    } finally {
        await client.end();
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`error: ${(e as Error).message}`);
            process.exit(1);
        },
    );
}
