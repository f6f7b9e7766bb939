import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./ports";

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

/** A day: what one promtool run backfills (twelve two-hour blocks). */
const CHUNK_SECONDS = 86_400;

/**
 * Backfills `series` with promtool, a day at a time: promtool 2.x re-reads its whole input for each
 * two-hour block it writes, so a month in one file takes minutes, and a day per file takes seconds.
 * Days are whole multiples of the blocks' two hours, so the runs' blocks never overlap.
 */
async function backfill(series: readonly Series[], dir: string, data: string): Promise<void> {
    const chunks = new Map<number, Series[]>();
    for (const s of series) {
        const byDay = new Map<number, [number, number][]>();
        for (const sample of s.samples) {
            const day = Math.floor(sample[0] / CHUNK_SECONDS);
            let list = byDay.get(day);
            if (!list) byDay.set(day, (list = []));
            list.push(sample);
        }
        for (const [day, samples] of byDay) chunks.set(day, [...(chunks.get(day) ?? []), { ...s, samples }]);
    }
    const run = promisify(execFile);
    const days = [...chunks.keys()].sort((a, b) => a - b);
    // Sixteen at a time: each run mostly waits for its blocks to be synced to disk.
    for (let i = 0; i < days.length; i += 16) {
        await Promise.all(
            days.slice(i, i + 16).map(async (day) => {
                const input = path.join(dir, `series-${day}.om`);
                fs.writeFileSync(input, openMetrics(chunks.get(day)!));
                try {
                    await run("promtool", ["tsdb", "create-blocks-from", "openmetrics", "--quiet", input, data]);
                } catch (e) {
                    throw new Error(`promtool could not backfill the series: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
                }
                fs.rmSync(input);
            }),
        );
    }
}

/** Backfills `series` into a fresh TSDB and serves it. */
export async function startPrometheus(series: readonly Series[]): Promise<TestPrometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-prom-"));
    const data = path.join(dir, "data");
    await backfill(series, dir, data);
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
            // Its data is thrown away: no need to wait for it to close its blocks cleanly.
            server.kill("SIGKILL");
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
