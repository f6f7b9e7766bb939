import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A throwaway Prometheus for the billing tests (beside test/postgres.ts): Debian's `prometheus` and
 * `promtool` (installed by scripts/install-system-deps.sh), loaded with series the test writes as
 * OpenMetrics and backfills with `promtool tsdb create-blocks-from openmetrics`, served on a free
 * loopback port, stopped by `stop()` (call it in afterAll). Queries name their time explicitly: the
 * samples are history, kept by a retention of a hundred years, and no block is compacted (the
 * backfilled two-hour blocks stay as they are, so the server does no work of its own while tests run).
 */
export interface TestPrometheus {
    url: string;
    port: number;
    /** The server's version line (Debian's is 2.x). */
    version: string;
    stop(): Promise<void>;
}

/** One series: a metric name, its labels and its samples ([unix seconds, value], ascending). */
export interface Series {
    name: string;
    labels: Record<string, string>;
    samples: [number, number][];
}

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The series as an OpenMetrics text exposition with timestamps, families grouped, ending in `# EOF`. */
export function openMetrics(series: readonly Series[]): string {
    const families = new Map<string, Series[]>();
    for (const s of series) families.set(s.name, [...(families.get(s.name) ?? []), s]);
    const out: string[] = [];
    for (const [name, list] of families) {
        out.push(`# TYPE ${name} gauge`);
        for (const s of list) {
            const labels = Object.entries(s.labels)
                .map(([k, v]) => `${k}="${escape(v)}"`)
                .join(",");
            for (const [t, v] of s.samples) out.push(`${name}{${labels}} ${v} ${t}`);
        }
    }
    out.push("# EOF", "");
    return out.join("\n");
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

/** Backfills `series` into a fresh TSDB and serves it. */
export async function startPrometheus(series: readonly Series[]): Promise<TestPrometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-prom-"));
    const data = path.join(dir, "data");
    const input = path.join(dir, "series.om");
    fs.writeFileSync(input, openMetrics(series));
    try {
        execFileSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", "--quiet", input, data], { stdio: "pipe" });
    } catch (e) {
        throw new Error(`promtool could not backfill the series: ${(e as { stderr?: Buffer }).stderr?.toString() ?? (e as Error).message}`);
    }
    fs.rmSync(input);
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(config, "global:\n  scrape_interval: 1m\n");
    const version = execFileSync("prometheus", ["--version"], { encoding: "utf8" }).split("\n")[0];
    const port = await freePort();
    const server: ChildProcess = spawn(
        "prometheus",
        [
            `--config.file=${config}`,
            `--storage.tsdb.path=${data}`,
            "--storage.tsdb.retention.time=100y",
            // Backfilled blocks stay two-hour blocks: no compaction while the tests query.
            "--storage.tsdb.min-block-duration=2h",
            "--storage.tsdb.max-block-duration=2h",
            `--web.listen-address=127.0.0.1:${port}`,
            "--log.level=warn",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    server.stderr?.on("data", (d) => (log += d));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
        try {
            const r = await fetch(`${url}/-/ready`);
            if (r.ok) break;
        } catch {
            // not listening yet
        }
        if (attempt > 300 || server.exitCode !== null) {
            server.kill("SIGKILL");
            throw new Error(`Prometheus did not start: ${log.slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        url,
        port,
        version,
        async stop() {
            const exited = new Promise<void>((resolve) => (server.exitCode !== null ? resolve() : server.once("exit", () => resolve())));
            server.kill("SIGTERM");
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
