import { PRIORITY_CLASS } from "compute-region-policies/model";
import type { Series } from "./prometheus";

/**
 * Scripted usage as the region's exporters would have written it, for test/prometheus.ts: the
 * kube-state-metrics series metering joins (kube_node_labels, kube_pod_info, kube_pod_status_phase,
 * kube_pod_container_resource_requests) and the AI Gateway's GenAI counters, sampled at half past
 * each minute (or every few minutes, within Prometheus's 5-minute lookback) as a scrape would. A
 * pod's phase turns Running at the first sample after it starts and stops being Running at the first
 * sample after it ends, so metering's step instants see it for exactly the minutes it ran.
 */

/** "2026-11-02T09:37" as a UTC instant. */
export const utc = (minute: string): Date => new Date(`${minute}:00Z`);
const seconds = (d: Date) => d.getTime() / 1000;

/** Sample instants at half past the minute, every `interval` seconds, over [from, to). */
function grid(from: number, to: number, interval: number): number[] {
    const out: number[] = [];
    for (let t = Math.ceil((from - 30) / 60) * 60 + 30; t < to; t += interval) out.push(t);
    return out;
}

export interface Node {
    node: string;
    pool: string;
    gpuModel: string;
}

/** kube_node_labels of each node (its pool and GPU model labels) over [from, to). */
export function nodeSeries(from: Date, to: Date, nodes: readonly Node[], interval = 60): Series[] {
    const times = grid(seconds(from) - 600, seconds(to) + 600, interval);
    return nodes.map((n) => ({
        name: "kube_node_labels",
        labels: { node: n.node, label_compute_region_io_pool: n.pool, label_compute_region_io_gpu_model: n.gpuModel },
        samples: times.map((t) => [t, 1] as [number, number]),
    }));
}

export interface Pod {
    tenant: string;
    pod: string;
    node: string;
    gpus: number;
    start: Date;
    end: Date;
    /** The pod's PriorityClass (default: the tenant's reserved one). */
    priority?: string;
    interval?: number;
}

/** A pod's series: it exists from 5 minutes before it starts to 7 after it ends, Running in between. */
export function podSeries(p: Pod): Series[] {
    const start = seconds(p.start);
    const end = seconds(p.end);
    const times = [...new Set([...grid(start - 300, end + 420, p.interval ?? 60), start + 30, end + 30])].sort((a, b) => a - b);
    const uid = `uid-${p.tenant}-${p.pod}`;
    const namespace = `tenant-${p.tenant}`;
    return [
        { name: "kube_pod_info", labels: { namespace, pod: p.pod, uid, node: p.node, priority_class: p.priority ?? PRIORITY_CLASS.tenantReserved, created_by_kind: "Job" }, samples: times.map((t) => [t, 1]) },
        { name: "kube_pod_container_resource_requests", labels: { namespace, pod: p.pod, uid, container: "main", node: p.node, resource: "nvidia_com_gpu", unit: "integer" }, samples: times.map((t) => [t, p.gpus]) },
        { name: "kube_pod_status_phase", labels: { namespace, pod: p.pod, uid, phase: "Running" }, samples: times.map((t) => [t, t >= start && t < end ? 1 : 0]) },
    ];
}

export interface Traffic {
    tenant: string;
    model: string;
    from: Date;
    to: Date;
    /** Requests served in the interval ending at sample instant t (unix seconds). */
    traffic: (t: number) => number;
    /** The gateway pod restarts in place at these instants: its counters start again from zero. */
    resetAt?: readonly Date[];
    /** Another gateway pod replaces it at this instant (a new series, from zero). */
    replacedAt?: Date;
    interval?: number;
    /** Tokens per request: input (cached included), cached input, output. */
    tokens?: { input: number; cached: number; output: number };
}

export interface HostedTotals {
    requests: number;
    inputTokens: number;
    cachedInputTokens: number;
    outputTokens: number;
}

/**
 * The gateway's counters for one tenant and model, and the figures they must meter to: the sum of
 * every increment the script made (a series' first sample is its zero, so nothing is lost), failed
 * requests (error_type set) apart.
 */
export function gatewaySeries(t: Traffic): { series: Series[]; expected: HostedTotals; failedRequests: number; expectedBetween(a: Date, b: Date): HostedTotals } {
    const tokens = t.tokens ?? { input: 800, cached: 300, output: 250 };
    const times = grid(seconds(t.from), seconds(t.to), t.interval ?? 60);
    const resets = new Set((t.resetAt ?? []).map((r) => times.find((s) => s > seconds(r))!));
    const increments: { t: number; n: number }[] = [];
    const pods = new Map<string, { totals: number[]; samples: [number, number][][] }>();
    let failed = 0;
    for (const s of times) {
        const pod = t.replacedAt && s > seconds(t.replacedAt) ? "gw-2" : "gw-1";
        let p = pods.get(pod);
        const first = !p;
        if (!p) pods.set(pod, (p = { totals: [0, 0, 0, 0, 0], samples: [[], [], [], [], []] }));
        const n = first ? 0 : t.traffic(s);
        const failures = n > 5 ? 1 : 0;
        if (resets.has(s)) p.totals = [0, 0, 0, 0, 0];
        const add = [n, n * tokens.input, n * tokens.cached, n * tokens.output, failures];
        p.totals = p.totals.map((v, i) => v + add[i]);
        p.totals.forEach((v, i) => p!.samples[i].push([s, v]));
        if (!first) increments.push({ t: s, n });
        failed += failures;
    }
    const base = { tenant: t.tenant, gen_ai_request_model: t.model };
    const series: Series[] = [];
    for (const [pod, p] of pods) {
        series.push({ name: "gen_ai_server_request_duration_seconds_count", labels: { ...base, pod }, samples: p.samples[0] });
        series.push({ name: "gen_ai_client_token_usage_sum", labels: { ...base, pod, gen_ai_token_type: "input" }, samples: p.samples[1] });
        series.push({ name: "gen_ai_client_token_usage_sum", labels: { ...base, pod, gen_ai_token_type: "cached_input" }, samples: p.samples[2] });
        series.push({ name: "gen_ai_client_token_usage_sum", labels: { ...base, pod, gen_ai_token_type: "output" }, samples: p.samples[3] });
        series.push({ name: "gen_ai_server_request_duration_seconds_count", labels: { ...base, pod, error_type: "_OTHER" }, samples: p.samples[4] });
    }
    const between = (a: number, b: number): HostedTotals => {
        const n = increments.filter((i) => i.t > a && i.t < b).reduce((s, i) => s + i.n, 0);
        return { requests: n, inputTokens: n * tokens.input, cachedInputTokens: n * tokens.cached, outputTokens: n * tokens.output };
    };
    return { series, expected: between(-Infinity, Infinity), failedRequests: failed, expectedBetween: (a, b) => between(seconds(a), seconds(b)) };
}
