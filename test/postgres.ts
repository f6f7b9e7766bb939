import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { freePort } from "./ports";

/**
 * A throwaway PostgreSQL server for the billing tests: Debian's postgresql package (installed by
 * scripts/install-system-deps.sh), a temporary data directory, loopback only, a free port. initdb
 * refuses to run as root, so as root the server runs as the postgres user.
 */
export interface TestPostgres {
    port: number;
    connect(database?: string, user?: string): Promise<Client>;
    createDatabase(name: string): Promise<void>;
    stop(): Promise<void>;
}

function binDir(): string {
    const base = "/usr/lib/postgresql";
    if (!fs.existsSync(base)) throw new Error("PostgreSQL is not installed: run scripts/install-system-deps.sh (Debian's postgresql package)");
    const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
    if (versions.length === 0) throw new Error(`no initdb under ${base}`);
    return path.join(base, versions[0], "bin");
}

const INITDB_ARGS = ["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions", "--no-sync"];

/**
 * A freshly initialised data directory, made once a machine (per PostgreSQL binaries and initdb
 * arguments) and copied for each server: initdb takes seconds, a copy of its 40 MB a tenth of one.
 * Made aside and renamed into place, so two workers starting at once never see half of one.
 */
function templateCluster(bin: string, run: (cmd: string, args: string[]) => [string, string[]], asRoot: boolean): string {
    // A data directory is read by any server of its major version: the binaries' directory (Debian's /usr/lib/postgresql/<major>/bin) names it.
    const key = createHash("sha256").update(JSON.stringify([bin, INITDB_ARGS, process.getuid?.()])).digest("hex").slice(0, 16);
    const template = path.join(os.tmpdir(), `compute-region-pg-template-${key}`);
    if (fs.existsSync(path.join(template, "data", "PG_VERSION"))) return path.join(template, "data");
    const making = fs.mkdtempSync(`${template}.making-`);
    if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", making]);
    const [initCmd, initArgs] = run("initdb", ["-D", path.join(making, "data"), ...INITDB_ARGS]);
    execFileSync(initCmd, initArgs, { stdio: "pipe" });
    try {
        fs.renameSync(making, template);
    } catch {
        // Another worker's is in place: the same initdb, kept.
        fs.rmSync(making, { recursive: true, force: true });
    }
    return path.join(template, "data");
}

export async function startPostgres(): Promise<TestPostgres> {
    const bin = binDir();
    const asRoot = process.getuid?.() === 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-pg-"));
    const data = path.join(dir, "data");
    if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
    const run = (cmd: string, args: string[]) => (asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args]) as [string, string[]];
    // cp -a keeps the postgres user's ownership and the 0700 mode the server insists on.
    execFileSync("cp", ["-a", templateCluster(bin, run, asRoot), data], { stdio: "pipe" });
    const port = await freePort();
    const [pgCmd, pgArgs] = run("postgres", ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "max_connections=50"]);
    const server: ChildProcess = spawn(pgCmd, pgArgs, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    server.stderr?.on("data", (d) => (log += d));
    const connect = async (database = "postgres", user = "postgres") => {
        const client = new Client({ host: "127.0.0.1", port, user, database });
        await client.connect();
        return client;
    };
    for (let attempt = 0; ; attempt++) {
        try {
            const c = await connect();
            await c.end();
            break;
        } catch (e) {
            if (attempt > 100 || server.exitCode !== null) throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log.slice(-2000)}`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    return {
        port,
        connect,
        async createDatabase(name) {
            const c = await connect();
            await c.query(`CREATE DATABASE ${name}`);
            await c.end();
        },
        async stop() {
            // pg_ctl signals the postmaster itself (runuser does not forward signals to it).
            const [stopCmd, stopArgs] = run("pg_ctl", ["stop", "-D", data, "-m", "fast", "-w"]);
            const exited = new Promise<void>((resolve) => (server.exitCode !== null ? resolve() : server.once("exit", () => resolve())));
            try {
                execFileSync(stopCmd, stopArgs, { stdio: "pipe" });
            } catch {
                server.kill("SIGKILL");
            }
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
