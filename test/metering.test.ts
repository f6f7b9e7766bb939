import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedWindows, GATEWAY_METRICS, GpuUsageRecord, hostedStepQuery, hostedUsageQuery, httpPrometheus, meterWindow, METERING_STEP_SECONDS, Prometheus, Sold, tenantGpuQuery, Window } from "../billing/metering";
import { tenantUseBeyondPurchaseExpr } from "../components/alert-rules";
import { startPrometheus, TestPrometheus } from "./prometheus";
import { gatewaySeries, nodeSeries, podSeries, utc } from "./usage-series";

/**
 * Metering against a real Prometheus (Debian's 2.x, started here on a loopback port) loaded with two
 * scripted days of kube-state-metrics and gateway series, so the PromQL that bills is evaluated by
 * Prometheus itself. Every expected figure is worked out by hand from the script below.
 */

const DAY1 = utc("2026-11-02T00:00");
const DAY3 = utc("2026-11-04T00:00");
const at = (iso: string) => utc(`2026-11-0${iso}`);

// acme: 6 reserved GPUs on shared-l40s and the dedicated pool acme-l40s (4 GPUs); globex: 4 reserved, spot allowed.
const SOLD: Sold = {
    commitments: [
        { tenant: "acme", track: "reserved", pool: "shared-l40s", gpuModel: "l40s", quantity: 6, from: utc("2026-10-01T00:00"), to: new Date(8.64e15) },
        { tenant: "acme", track: "dedicated", pool: "acme-l40s", gpuModel: "l40s", quantity: 4, from: utc("2026-10-01T00:00"), to: new Date(8.64e15) },
        { tenant: "globex", track: "reserved", pool: "shared-l40s", gpuModel: "l40s", quantity: 4, from: utc("2026-10-01T00:00"), to: new Date(8.64e15) },
    ],
    contracts: [],
};

/** Gateway traffic: requests in every minute from 08:00 to 20:00, tokens in proportion. */
const traffic = (t: number) => {
    const hour = new Date(t * 1000).getUTCHours();
    return hour >= 8 && hour < 20 ? (Math.floor(t / 60) % 7) + 1 : 0;
};

let prom: TestPrometheus;
let client: Prometheus;
const gw = gatewaySeries({
    tenant: "initech",
    model: "llama-3-8b",
    from: DAY1,
    to: DAY3,
    traffic,
    // The gateway pod restarts in place at 15:00 (its counters reset) and is replaced by another at midnight.
    resetAt: [at("2T15:00")],
    replacedAt: at("3T00:00"),
});

beforeAll(async () => {
    prom = await startPrometheus([
        ...nodeSeries(DAY1, DAY3, [
            { node: "node-a", pool: "shared-l40s", gpuModel: "l40s" },
            { node: "node-d", pool: "acme-l40s", gpuModel: "l40s" },
        ]),
        // acme trains on 6 GPUs from 09:37 to 11:13: 96 minutes across three hours.
        ...podSeries({ tenant: "acme", pod: "train-1", node: "node-a", gpus: 6, start: at("2T09:37"), end: at("2T11:13") }),
        // globex keeps its 4 reserved GPUs busy from 08:00 to 18:00 and bursts 4 more on spot from 10:17 to 14:43.
        ...podSeries({ tenant: "globex", pod: "steady", node: "node-a", gpus: 4, start: at("2T08:00"), end: at("2T18:00") }),
        ...podSeries({ tenant: "globex", pod: "burst", node: "node-a", gpus: 4, start: at("2T10:17"), end: at("2T14:43"), priority: "tenant-spot" }),
        // On day 2 globex uses 2 of its 4 GPUs from 00:00 to 06:00 and runs 4 spot GPUs from 01:30 to 03:00.
        ...podSeries({ tenant: "globex", pod: "half", node: "node-a", gpus: 2, start: at("3T00:00"), end: at("3T06:00") }),
        ...podSeries({ tenant: "globex", pod: "spot-2", node: "node-a", gpus: 4, start: at("3T01:30"), end: at("3T03:00"), priority: "tenant-spot" }),
        // acme runs 8 GPUs at its reserved priority for half an hour: 2 beyond its 6 (what Kueue should never admit).
        ...podSeries({ tenant: "acme", pod: "over", node: "node-a", gpus: 8, start: at("3T12:00"), end: at("3T12:30") }),
        // acme's dedicated pool: 4 GPUs busy from 20:00 to 22:30 on day 2.
        ...podSeries({ tenant: "acme", pod: "dedicated", node: "node-d", gpus: 4, start: at("3T20:00"), end: at("3T22:30") }),
        ...gw.series,
        // Kueue's reserved quota of each tenant queue, as its metrics export it.
        ...[
            ["acme-shared-l40s", "shared-l40s", 6],
            ["globex-shared-l40s", "shared-l40s", 4],
            ["acme-acme-l40s", "acme-l40s", 4],
        ].map(([queue, flavor, gpus]) => ({
            name: "kueue_cluster_queue_nominal_quota",
            labels: { cluster_queue: String(queue), flavor: String(flavor), resource: "nvidia.com/gpu", cohort: `pool-${flavor}` },
            samples: nodeSeries(DAY1, DAY3, [{ node: "x", pool: "x", gpuModel: "x" }])[0].samples.map(([t]) => [t, Number(gpus)] as [number, number]),
        })),
    ]);
    client = httpPrometheus(prom.url);
});
afterAll(async () => {
    await prom?.stop();
});

const hours = (from: Date, to: Date): Window[] => closedWindows(to, 3600, (to.getTime() - from.getTime()) / 3_600_000);
const sum = (records: GpuUsageRecord[], tenant: string, pool: string, track: string) => records.filter((r) => r.tenant === tenant && r.pool === pool && r.track === track).reduce((s, r) => s + r.gpuSeconds, 0);

async function meter(windows: Window[]) {
    const all = await Promise.all(windows.map((w) => meterWindow(client, w, SOLD)));
    return { gpu: all.flatMap((u) => u.gpu), hosted: all.flatMap((u) => u.hosted) };
}

describe("metering against a real Prometheus", () => {
    it("runs on Debian's Prometheus 2.x, and its queries have no range selector, so 3.x's left-open ranges cannot change them", () => {
        expect(prom.version).toMatch(/^prometheus, version 2\./);
        for (const q of [tenantGpuQuery(), hostedUsageQuery(), ...Object.values(GATEWAY_METRICS).map(hostedStepQuery)]) expect(q).not.toMatch(/\[[^\]]*\]/);
    });

    it("bills a pod that ran part of an hour for the minutes it ran, where the average over samples billed the whole hour", async () => {
        const window = { start: at("2T09:00"), end: at("2T10:00") };
        const usage = await meterWindow(client, window, SOLD);
        // 09:37 to 10:00: 23 minutes of 6 GPUs.
        expect(sum(usage.gpu, "acme", "shared-l40s", "reserved_use")).toBe(23 * 60 * 6);
        // The expression metering used before: the average GPUs over the samples where the pod exists, times the hour.
        const before = "sum by (namespace) (avg_over_time((sum by (namespace, pod) (kube_pod_container_resource_requests{resource=\"nvidia_com_gpu\",namespace=\"tenant-acme\"}) * on (namespace, pod) group_left() (kube_pod_status_phase{phase=\"Running\",namespace=\"tenant-acme\"} == 1))[3600s:60s])) * 3600";
        const [old] = await client.query(before, window.end);
        expect(old.value).toBe(6 * 3600);
        // Over the three hours the pod touched: 96 minutes (9.6 GPU-hours), where the old figure was 18 GPU-hours.
        const three = await meter(hours(at("2T09:00"), at("2T12:00")));
        expect(sum(three.gpu, "acme", "shared-l40s", "reserved_use") / 3600).toBe(9.6);
    });

    it("bills commitments for every second held, used or not, and spot only beyond the tenant's own idle reserved GPUs", async () => {
        const day = await meter(hours(DAY1, at("3T00:00")));
        // Reserved and dedicated: the whole day, whatever ran.
        expect(sum(day.gpu, "acme", "shared-l40s", "reserved")).toBe(6 * 86400);
        expect(sum(day.gpu, "acme", "acme-l40s", "dedicated")).toBe(4 * 86400);
        expect(sum(day.gpu, "globex", "shared-l40s", "reserved")).toBe(4 * 86400);
        // globex's reserved GPUs were busy from 08:00 to 18:00, so its 4-GPU burst from 10:17 to 14:43 (266 minutes) is all spot.
        expect(sum(day.gpu, "globex", "shared-l40s", "spot")).toBe(266 * 60 * 4);
        expect(sum(day.gpu, "globex", "shared-l40s", "reserved_use")).toBe(600 * 60 * 4);
        // Day 2: 2 of its 4 GPUs busy, so of the 4 spot GPUs from 01:30 to 03:00 two ride on the idle reserved ones.
        const day2 = await meter(hours(at("3T00:00"), DAY3));
        expect(sum(day2.gpu, "globex", "shared-l40s", "spot")).toBe(90 * 60 * 2);
        expect(sum(day2.gpu, "globex", "shared-l40s", "reserved_use")).toBe(360 * 60 * 2 + 90 * 60 * 2);
        // acme's 8 GPUs at reserved priority for 30 minutes: 6 within what it bought, 2 beyond it, recorded as unsold.
        expect(sum(day2.gpu, "acme", "shared-l40s", "unsold")).toBe(30 * 60 * 2);
        expect(sum(day2.gpu, "acme", "shared-l40s", "reserved_use")).toBe(30 * 60 * 6);
        expect(sum(day2.gpu, "acme", "acme-l40s", "reserved_use")).toBe(150 * 60 * 4);
        expect(day2.gpu.filter((r) => r.track === "unsold").map((r) => r.window.start.toISOString())).toEqual(["2026-11-03T12:00:00.000Z"]);
    });

    it("sums adjacent windows to exactly what one window over the same time meters: no boundary instant counted twice or missed", async () => {
        const hourly = await meter(hours(DAY1, DAY3));
        const daily = await meter(closedWindows(DAY3, 86400, 2));
        const totals = (u: typeof hourly) => {
            const out: Record<string, number> = {};
            for (const r of u.gpu) out[`${r.tenant}/${r.pool}/${r.track}`] = (out[`${r.tenant}/${r.pool}/${r.track}`] ?? 0) + r.gpuSeconds;
            for (const r of u.hosted) for (const k of ["requests", "inputTokens", "cachedInputTokens", "outputTokens"] as const) out[`${r.tenant}/${r.model}/${k}`] = (out[`${r.tenant}/${r.model}/${k}`] ?? 0) + r[k];
            return out;
        };
        expect(totals(hourly)).toEqual(totals(daily));
        expect(Object.keys(totals(hourly)).length).toBeGreaterThan(10);
    });

    it("counts gateway usage per tenant and model as the counters rose, through a reset and a replaced gateway pod", async () => {
        const usage = await meter(hours(DAY1, DAY3));
        const total = (k: "requests" | "inputTokens" | "cachedInputTokens" | "outputTokens") => usage.hosted.reduce((s, r) => s + r[k], 0);
        expect(total("requests")).toBe(gw.expected.requests);
        expect(total("inputTokens")).toBe(gw.expected.inputTokens);
        expect(total("cachedInputTokens")).toBe(gw.expected.cachedInputTokens);
        expect(total("outputTokens")).toBe(gw.expected.outputTokens);
        // Failed requests (error_type set) are not billed: the script has them, the figure leaves them out.
        expect(gw.failedRequests).toBeGreaterThan(0);
        // Hour by hour as well: the 15:00 hour holds the reset.
        const reset = usage.hosted.find((r) => r.window.start.getTime() === at("2T15:00").getTime())!;
        expect(reset.requests).toBe(gw.expectedBetween(at("2T15:00"), at("2T16:00")).requests);
    });

    it("alerts on use beyond what a tenant bought, evaluated by Prometheus itself, and not on spot use", async () => {
        const alert = tenantUseBeyondPurchaseExpr();
        const during = await client.query(alert, at("3T12:15"));
        expect(during.map((s) => [s.metric.cluster_queue, s.value])).toEqual([["acme-shared-l40s", 8]]);
        expect(await client.query(alert, at("3T12:45"))).toEqual([]);
        // globex's 4 reserved and 4 spot GPUs at 12:00 on day 1: its spot use is bought.
        expect(await client.query(alert, at("2T12:00"))).toEqual([]);
    });

    it("reports a Prometheus error instead of writing nothing silently", async () => {
        await expect(client.query("sum(", new Date())).rejects.toThrow(/Prometheus answered 400/);
        await expect(httpPrometheus(`${prom.url}/nope`).query("up", new Date())).rejects.toThrow(/answered 404/);
    });

    it("meters only whole steps of closed windows", () => {
        expect(() => closedWindows(DAY1, 90, 1)).toThrow(/whole multiple of the 60-second metering step/);
        expect(closedWindows(utc("2026-11-23T10:17"), 3600, 3).map((w) => w.start.toISOString())).toEqual(["2026-11-23T07:00:00.000Z", "2026-11-23T08:00:00.000Z", "2026-11-23T09:00:00.000Z"]);
        expect(METERING_STEP_SECONDS).toBe(60);
    });
});
