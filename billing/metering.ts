import type { ClientBase } from "pg";
import { GATEWAY, GEN_AI_METRICS } from "compute-region-policies/model";

/**
 * Metering: for each closed window, per-tenant GPU usage (GPU requests of running pods in tenant
 * namespaces, by pool, from kube-state-metrics) and hosted-model usage (the gateway's per-tenant
 * counters) read from Prometheus and written as usage records. Records are idempotent on (tenant,
 * pool or model, window): a replayed window changes nothing.
 */

/**
 * The gateway's per-tenant counters: the AI Gateway's GenAI metrics, labelled with the tenant the
 * API-key filter verified (see components/model-gateway.ts).
 */
export const GATEWAY_METRICS = {
    requests: GEN_AI_METRICS.requests,
    inputTokens: GEN_AI_METRICS.inputTokens,
    outputTokens: GEN_AI_METRICS.outputTokens,
} as const;

export interface Window {
    start: Date;
    end: Date;
}

export interface PromSample {
    metric: Record<string, string>;
    value: number;
}

export interface Prometheus {
    /** An instant query at `time`. */
    query(expr: string, time: Date): Promise<PromSample[]>;
}

/** A Prometheus HTTP API client (`/api/v1/query`). */
export function httpPrometheus(baseUrl: string, fetchImpl: typeof fetch = fetch): Prometheus {
    return {
        async query(expr, time) {
            const url = `${baseUrl.replace(/\/$/, "")}/api/v1/query?${new URLSearchParams({ query: expr, time: String(time.getTime() / 1000) })}`;
            const response = await fetchImpl(url);
            if (!response.ok) throw new Error(`Prometheus answered ${response.status} for ${expr}: ${(await response.text()).slice(0, 200)}`);
            const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
            if (body.status !== "success" || !body.data) throw new Error(`Prometheus query failed: ${body.error ?? body.status}`);
            if (body.data.resultType !== "vector") throw new Error(`expected a vector from ${expr}, got ${body.data.resultType}`);
            return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
        },
    };
}

/** The last `count` whole windows that have closed by `now` (oldest first). */
export function closedWindows(now: Date, windowSeconds: number, count: number): Window[] {
    const size = windowSeconds * 1000;
    const lastEnd = Math.floor(now.getTime() / size) * size;
    return Array.from({ length: count }, (_, i) => {
        const end = lastEnd - (count - 1 - i) * size;
        return { start: new Date(end - size), end: new Date(end) };
    });
}

const POOL = "label_compute_region_io_pool";
const GPU_MODEL = "label_compute_region_io_gpu_model";

/** Average GPUs requested by running pods per tenant namespace and pool over the window, times its length. */
export function gpuSecondsQuery(windowSeconds: number): string {
    const requests = 'kube_pod_container_resource_requests{resource="nvidia_com_gpu",namespace=~"tenant-.+"}';
    const running = 'kube_pod_status_phase{phase="Running",namespace=~"tenant-.+"} == 1';
    const onNode = "max by (namespace, pod, node) (kube_pod_info)";
    const perPod = `sum by (namespace, pod) (${requests}) * on (namespace, pod) group_left() (${running}) * on (namespace, pod) group_left(node) ${onNode} * on (node) group_left(${POOL}, ${GPU_MODEL}) kube_node_labels`;
    return `sum by (namespace, ${POOL}, ${GPU_MODEL}) (avg_over_time((${perPod})[${windowSeconds}s:60s])) * ${windowSeconds}`;
}

/** A gateway counter's increase over the window per tenant and model (the label the gateway writes is `model`). */
export function hostedQuery(metric: string, windowSeconds: number): string {
    return `label_replace(sum by (${GATEWAY.tenantLabel}, ${GEN_AI_METRICS.modelLabel}) (increase(${metric}[${windowSeconds}s])), "model", "$1", "${GEN_AI_METRICS.modelLabel}", "(.*)")`;
}

export interface GpuUsageRecord {
    tenant: string;
    pool: string;
    gpuModel: string;
    window: Window;
    gpuSeconds: number;
}

export interface ModelUsageRecord {
    tenant: string;
    model: string;
    window: Window;
    requests: number;
    inputTokens: number;
    outputTokens: number;
}

export async function meterWindow(prom: Prometheus, window: Window): Promise<{ gpu: GpuUsageRecord[]; hosted: ModelUsageRecord[] }> {
    const seconds = (window.end.getTime() - window.start.getTime()) / 1000;
    const gpu = (await prom.query(gpuSecondsQuery(seconds), window.end))
        .filter((s) => s.metric.namespace?.startsWith("tenant-") && s.metric[POOL] && Number.isFinite(s.value) && s.value > 0)
        .map((s) => ({ tenant: s.metric.namespace.slice("tenant-".length), pool: s.metric[POOL], gpuModel: s.metric[GPU_MODEL] ?? "unknown", window, gpuSeconds: Math.round(s.value * 1000) / 1000 }));
    const [requests, input, output] = await Promise.all([GATEWAY_METRICS.requests, GATEWAY_METRICS.inputTokens, GATEWAY_METRICS.outputTokens].map((m) => prom.query(hostedQuery(m, seconds), window.end)));
    const key = (s: PromSample) => `${s.metric.tenant}\u0000${s.metric.model}`;
    const lookup = (samples: PromSample[]) => new Map(samples.map((s) => [key(s), Math.round(s.value)]));
    const inputs = lookup(input);
    const outputs = lookup(output);
    const hosted = requests
        .filter((s) => s.metric.tenant && s.metric.model)
        .map((s) => ({ tenant: s.metric.tenant, model: s.metric.model, window, requests: Math.round(s.value), inputTokens: inputs.get(key(s)) ?? 0, outputTokens: outputs.get(key(s)) ?? 0 }))
        .filter((r) => r.requests > 0 || r.inputTokens > 0 || r.outputTokens > 0);
    return { gpu, hosted };
}

export interface WriteResult {
    inserted: number;
    duplicates: number;
    rejected: { record: string; reason: string }[];
}

/** Writes usage records; a record already written is a duplicate (never a second charge), a bad one is rejected and reported. */
export async function writeUsage(client: ClientBase, usage: { gpu: GpuUsageRecord[]; hosted: ModelUsageRecord[] }, source: string): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, duplicates: 0, rejected: [] };
    const insert = async (label: string, sql: string, params: unknown[]) => {
        await client.query("SAVEPOINT usage_record");
        try {
            const r = await client.query(sql, params);
            if (r.rowCount === 1) result.inserted++;
            else result.duplicates++;
            await client.query("RELEASE SAVEPOINT usage_record");
        } catch (e) {
            await client.query("ROLLBACK TO SAVEPOINT usage_record");
            result.rejected.push({ record: label, reason: (e as Error).message });
        }
    };
    await client.query("BEGIN");
    try {
        for (const g of usage.gpu) {
            await insert(
                `gpu ${g.tenant}/${g.pool} ${g.window.start.toISOString()}`,
                `INSERT INTO gpu_usage (tenant_id, pool, gpu_model, window_start, window_end, gpu_seconds, source) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant_id, pool, track, window_start, window_end) DO NOTHING`,
                [g.tenant, g.pool, g.gpuModel, g.window.start, g.window.end, g.gpuSeconds, source],
            );
        }
        for (const m of usage.hosted) {
            await insert(
                `hosted ${m.tenant}/${m.model} ${m.window.start.toISOString()}`,
                `INSERT INTO model_usage (tenant_id, model, window_start, window_end, requests, input_tokens, output_tokens, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, model, window_start, window_end) DO NOTHING`,
                [m.tenant, m.model, m.window.start, m.window.end, m.requests, m.inputTokens, m.outputTokens, source],
            );
        }
        await client.query("COMMIT");
    } catch (e) {
        await client.query("ROLLBACK");
        throw e;
    }
    return result;
}
