import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { BATCH_USAGE_METRICS, regionRegistry, registryText } from "compute-region-policies/model";
import type { Invoice } from "../billing/invoice";
import { batchUsageQuery, httpPrometheus } from "../billing/metering";
import { loadMigrations, migrate } from "../billing/migrate";
import { parseRegionConfig } from "../stacks/config";
import { devStackConfig, engineValues, ROOT } from "./helpers";
import { inProcessCli } from "./billing-cli";
import { startPostgres, TestPostgres } from "./postgres";
import { Series, startPrometheus, TestPrometheus } from "./prometheus";
import { gatewaySeries, utc } from "./usage-series";
import { freePort } from "./ports";

/**
 * The hosted-model tiers' billing on a real PostgreSQL and a real Prometheus, for November: the dev
 * stack's registry (initech's dedicated endpoint of llama-3-8b, one replica, and its batch access)
 * applied by `cli.js sync`; initech's calls of its shared llama-3-8b and of its own endpoint
 * (`initech/llama-3-8b`) through the gateway; two batches that completed, each as the batch worker
 * itself serves its usage (components/batch/worker.py run by Python with the real prometheus_client,
 * its exposition scraped over HTTP and loaded into Prometheus as four 15-second scrapes), one of them
 * across an hour's boundary; metering by `cli.js meter` hour by hour, and the invoice by
 * `cli.js invoice`, against figures worked out by hand.
 */

const MONTH_START = utc("2026-11-01T00:00");
const MONTH_END = utc("2026-12-01T00:00");
const FIRST_SYNC = utc("2026-10-31T22:00");
const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-tiers-"));

let pg: TestPostgres;
let prom: TestPrometheus;
let db: Client;

const cli = inProcessCli(() => pg.connect("billing"));

/**
 * What the batch worker serves for a completed batch: runs its publish_usage with the real
 * prometheus_client and reads the exposition over HTTP while it holds it.
 */
async function workerExposition(batch: string, totals: { requests: number; failed: number; input_tokens: number; output_tokens: number }): Promise<string> {
    const port = await freePort();
    const caseFile = path.join(dir, `publish-${batch}.json`);
    fs.writeFileSync(caseFile, JSON.stringify({ port, holdSeconds: 3, tenant: "initech", model: "llama-3-8b", batch, totals }));
    const child = spawn(python, [path.join(ROOT, "components", "batch", "worker.py"), "--publish", caseFile], { stdio: "ignore" });
    try {
        for (let i = 0; i < 50; i++) {
            try {
                const r = await fetch(`http://127.0.0.1:${port}/metrics`);
                if (r.ok) return await r.text();
            } catch {
                // not serving yet
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`the batch worker served no usage on port ${port}`);
    } finally {
        child.kill();
    }
}

/** The batch usage samples of an exposition, as a PodMonitor would scrape them: four scrapes 15 s apart from `at`, with the pod's target labels. */
function scraped(exposition: string, at: Date, pod: string): Series[] {
    const t0 = at.getTime() / 1000;
    const series: Series[] = [];
    for (const line of exposition.split("\n")) {
        const m = /^(compute_region_batch_\w+)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
        if (!m) continue;
        const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        series.push({ name: m[1], labels: { ...labels, namespace: "batch-inference", pod, container: "batch", endpoint: "metrics" }, samples: [0, 15, 30, 45].map((d) => [t0 + d, Number(m[3])]) });
    }
    return series;
}

const traffic = (perMinute: number) => (t: number) => {
    const d = new Date(t * 1000);
    return d.getUTCDay() % 6 !== 0 && d.getUTCHours() >= 8 && d.getUTCHours() < 20 ? perMinute : 0;
};
const shared = gatewaySeries({ tenant: "initech", model: "llama-3-8b", from: utc("2026-10-31T20:00"), to: utc("2026-12-01T02:00"), traffic: traffic(10), interval: 240 });
const own = gatewaySeries({ tenant: "initech", model: "initech/llama-3-8b", from: utc("2026-10-31T20:00"), to: utc("2026-12-01T02:00"), traffic: traffic(30), interval: 240 });
const BATCHES = [
    { batch: "0062E4F1A1", at: utc("2026-11-10T14:20"), totals: { requests: 5000, failed: 12, input_tokens: 2_480_317, output_tokens: 1_003_911 } },
    // Its four scrapes straddle 15:00: it is counted once, in the window that ends at 15:00.
    { batch: "0062E4F1B2", at: new Date(utc("2026-11-12T14:59").getTime() + 30_000), totals: { requests: 800, failed: 0, input_tokens: 512_000, output_tokens: 96_001 } },
];

beforeAll(async () => {
    const expositions = await Promise.all(BATCHES.map((b) => workerExposition(b.batch, b.totals)));
    const batchSeries = BATCHES.flatMap((b, i) => scraped(expositions[i], b.at, `batch-llama-3-8b-${i}`));
    [pg, prom] = await Promise.all([
        (async () => {
            const server = await startPostgres();
            await server.createDatabase("billing");
            return server;
        })(),
        startPrometheus([...shared.series, ...own.series, ...batchSeries]),
    ]);
    process.env.PROMETHEUS_URL = prom.url;
    db = await pg.connect("billing");
    await migrate(db, loadMigrations(path.resolve(__dirname, "../billing/migrations")));
});
afterAll(async () => {
    await db?.end();
    await Promise.all([pg?.stop(), prom?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3600n;
const M = 1_000_000n;
function cents(raw: bigint, perUnit: bigint, price: string): bigint {
    const [whole, frac = ""] = price.split(".");
    const micros = BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, "0"));
    // Cents: raw units x price per unit x 100, rounded half up once.
    const den = perUnit * 1_000_000n;
    return (2n * raw * micros * 100n + den) / (2n * den);
}
const money = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, "0")}`;
const batchInput = BigInt(BATCHES.reduce((s, b) => s + b.totals.input_tokens, 0));
const batchOutput = BigInt(BATCHES.reduce((s, b) => s + b.totals.output_tokens, 0));
const sharedMonth = shared.expectedBetween(MONTH_START, MONTH_END);
const INITECH = {
    // One replica all month at 2.40 a replica-hour.
    dedicatedEndpoint: cents(720n * HOUR, HOUR, "2.4"),
    // The two batches' tokens at the batch price, 0.05 and 0.10 per million.
    batchInput: cents(batchInput, M, "0.05"),
    batchOutput: cents(batchOutput, M, "0.1"),
    // Its shared llama-3-8b calls at the hosted price; its own endpoint's calls are in its replica-hours.
    hostedInput: cents(BigInt(sharedMonth.inputTokens - sharedMonth.cachedInputTokens), M, "0.1"),
    hostedCached: cents(BigInt(sharedMonth.cachedInputTokens), M, "0.05"),
    hostedOutput: cents(BigInt(sharedMonth.outputTokens), M, "0.2"),
};

describe("billing the hosted-model tiers on real PostgreSQL and Prometheus", () => {
    let invoice: Invoice;

    it("applies the registry with initech's dedicated endpoint (replicas) and batch access (a grant on the batch track)", async () => {
        const config = devStackConfig();
        // The month's figures are initech's: the raw-capacity tenants are left out of this registry.
        config["compute-region:tenants"] = config["compute-region:tenants"].filter((t: { name: string }) => t.name === "initech");
        config["compute-region:gpuPools"] = config["compute-region:gpuPools"].filter((p: { role: string }) => p.role !== "dedicated");
        // (and the objectives of the pools left out: a pool's objective must name a pool of the stack)
        const slos = config["compute-region:slos"];
        if (slos?.pools) slos.pools = slos.pools.filter((s: { name: string }) => config["compute-region:gpuPools"].some((p: { name: string }) => p.name === s.name));
        const doc = regionRegistry(parseRegionConfig(engineValues(config), "dev"))!;
        expect(doc.tenants[0].commitments).toEqual([
            { track: "batch", subject: "llama-3-8b", quantity: 1 },
            { track: "dedicated_endpoint", subject: "llama-3-8b", quantity: 1 },
            { track: "hosted", subject: "llama-3-8b", quantity: 1 },
            { track: "hosted", subject: "qwen-2-5-32b", quantity: 1 },
        ]);
        const file = path.join(dir, "registry.json");
        fs.writeFileSync(file, registryText(doc));
        const r = await cli("sync", "--registry", file, "--at", FIRST_SYNC.toISOString());
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
    });

    it("counts each completed batch once, in the step it first shows, even across an hour's boundary", async () => {
        const step = (at: Date) => httpPrometheus(prom.url).query(batchUsageQuery(), at);
        const measures = (samples: { metric: Record<string, string>; value: number }[]) => Object.fromEntries(samples.map((s) => [s.metric.measure, s.value]));
        // The second batch's first scrape is at 14:59:30: the step ending at 15:00 counts it, the next one does not.
        expect(measures(await step(utc("2026-11-12T15:00")))).toEqual({ requests: 800, inputTokens: 512_000, outputTokens: 96_001 });
        expect(await step(utc("2026-11-12T15:01"))).toEqual([]);
        expect(await step(utc("2026-11-12T14:59"))).toEqual([]);
    });

    it("meters the month: replica-seconds of the endpoint, the batches on their own track, the endpoint's tokens recorded apart", async () => {
        const hours = (MONTH_END.getTime() - FIRST_SYNC.getTime()) / 3_600_000;
        const r = await cli("meter", "--at", MONTH_END.toISOString(), "--windows", String(hours));
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
        const month = [MONTH_START, MONTH_END];
        const endpoint = (await db.query("SELECT sum(replica_seconds)::text AS s FROM endpoint_usage WHERE tenant_id = 'initech' AND model = 'llama-3-8b' AND window_start >= $1 AND window_start < $2", month)).rows[0];
        expect(endpoint.s).toBe((720 * 3600).toFixed(3));
        const byTrack = async (track: string) =>
            (await db.query("SELECT sum(requests)::int AS requests, sum(input_tokens)::int AS input, sum(output_tokens)::int AS output FROM model_usage WHERE tenant_id = 'initech' AND model = 'llama-3-8b' AND track = $1 AND window_start >= $2 AND window_start < $3", [track, ...month])).rows[0];
        expect(await byTrack("batch")).toEqual({ requests: 5788, input: Number(batchInput), output: Number(batchOutput) });
        const ownMonth = own.expectedBetween(MONTH_START, MONTH_END);
        expect(await byTrack("dedicated_endpoint_use")).toEqual({ requests: ownMonth.requests, input: ownMonth.inputTokens, output: ownMonth.outputTokens });
        expect(await byTrack("hosted")).toEqual({ requests: sharedMonth.requests, input: sharedMonth.inputTokens, output: sharedMonth.outputTokens });
    });

    it("invoices the endpoint per replica-hour and the batches at the batch price, and never the endpoint's own tokens", async () => {
        const r = await cli("invoice", "--tenant", "initech", "--month", "2026-11", "--format", "json", "--at", "2026-12-01T06:00:00Z");
        expect(r.err).toBe("");
        invoice = JSON.parse(r.out) as Invoice;
        const line = (track: string, unit: string) => invoice.lines.find((l) => l.track === track && l.unit === unit);
        expect(line("dedicated_endpoint", "replica-hour")).toMatchObject({ quantity: "720", unitPrice: "2.4", amount: money(INITECH.dedicatedEndpoint) });
        expect(line("batch", "1M input tokens")).toMatchObject({ unitPrice: "0.05", amount: money(INITECH.batchInput) });
        expect(line("batch", "1M output tokens")).toMatchObject({ unitPrice: "0.1", amount: money(INITECH.batchOutput) });
        expect(line("hosted", "1M input tokens")).toMatchObject({ unitPrice: "0.1", amount: money(INITECH.hostedInput) });
        expect(line("hosted", "1M output tokens")).toMatchObject({ unitPrice: "0.2", amount: money(INITECH.hostedOutput) });
        expect(invoice.lines.map((l) => l.track)).not.toContain("dedicated_endpoint_use");
        expect(invoice.total).toBe(money(Object.values(INITECH).reduce((a, b) => a + b, 0n)));
        expect(BATCH_USAGE_METRICS.tokens).toBe("compute_region_batch_tokens");
    });

    it("changes nothing when metering runs again (the day of the batch across 15:00)", async () => {
        const before = (await db.query("SELECT count(*)::int AS n FROM model_usage")).rows[0].n;
        const r = await cli("meter", "--at", "2026-11-13T00:00:00Z", "--windows", "24");
        expect(r.code).toBe(0);
        expect(r.out).not.toMatch(/[1-9]\d* inserted/);
        expect((await db.query("SELECT count(*)::int AS n FROM model_usage")).rows[0].n).toBe(before);
    });
});
