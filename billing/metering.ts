import type { ClientBase } from "pg";
import { BATCH_USAGE_METRICS, GATEWAY, GEN_AI_METRICS, ksmLabel, LABELS, parseDedicatedModelName, PRIORITY_CLASS, SLO_METERING, TENANT_NAMESPACE_PREFIX, tenantGpuInUseQuery } from "compute-region-policies/model";
import { SloEventRecord, sloEventsOf, writeSloEvents } from "./slo";

/**
 * Metering: for each closed window, what each tenant bought and used, written as usage records that
 * are idempotent on (tenant, pool or model, track, window), so a replayed window changes nothing.
 *
 * - reserved and dedicated: the GPUs the tenant had committed on each pool for every second of the
 *   window they were committed (from the registry's commitments, used or not), from its contract's start;
 * - spot: GPU time of its pods at the spot priority beyond its own idle committed GPUs (spot pods
 *   inside GPUs it already pays for are not billed twice);
 * - reserved_use: GPU time within its commitments (shown to the tenant, billed through them);
 * - unsold: GPU time beyond its commitments at a priority other than spot, which Kueue should make
 *   impossible: recorded (never billed, never dropped) and alerted by TenantGpuUseBeyondPurchase;
 * - hosted: requests, input, cached input and output tokens per tenant and model from the gateway;
 *   a tenant's calls of its own dedicated endpoint (model `<tenant>/<model>`) are recorded on
 *   dedicated_endpoint_use, never invoiced: its replica-hours pay for them;
 * - dedicated_endpoint: the replicas of each dedicated endpoint, every second they were held;
 * - batch: input and output tokens of each batch that completed, once, from the usage its Job serves;
 * - service levels: each tenant's good and valid events per objective, from the SLO recording rules
 *   (SLO_METERING, billing/slo.ts), which invoicing turns into monthly attainment and credits.
 *
 * GPU time and hosted usage come from Prometheus as range queries evaluated at the window's step
 * instants: start + 60 s, start + 120 s, ..., end. The value at instant t stands for the step
 * (t - 60 s, t], so a window's instants and the next window's never share one, and windows that tile
 * a month sum to exactly what the month's instants add up to: exact to the step, with no boundary
 * instant counted twice. No range selector is involved, so the result is the same on Prometheus 2.x
 * (closed ranges) and 3.x (left-open ranges): both evaluate an instant selector at t from the latest
 * sample within the lookback delta, and the only difference (3.x leaves out a sample exactly 5 minutes
 * old) never matters for scraped series, which end with a staleness marker.
 */

/** The step of every metering query, seconds: GPU time is exact to it. */
export const METERING_STEP_SECONDS = 60;

/**
 * The gateway's per-tenant counters: the AI Gateway's GenAI metrics, labelled with the tenant the
 * API-key filter verified (see components/model-gateway.ts).
 */
export const GATEWAY_METRICS = {
    requests: GEN_AI_METRICS.requests,
    inputTokens: GEN_AI_METRICS.inputTokens,
    cachedInputTokens: GEN_AI_METRICS.cachedInputTokens,
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

export interface PromSeries {
    metric: Record<string, string>;
    /** [unix seconds, value] at each step where the series has a value. */
    values: [number, number][];
}

export interface Prometheus {
    /** An instant query at `time`. */
    query(expr: string, time: Date): Promise<PromSample[]>;
    /** A range query: `expr` evaluated at start, start + step, ..., up to end. */
    queryRange(expr: string, start: Date, end: Date, stepSeconds: number): Promise<PromSeries[]>;
}

/** A Prometheus HTTP API client (`/api/v1/query`, `/api/v1/query_range`). */
export function httpPrometheus(baseUrl: string, fetchImpl: typeof fetch = fetch): Prometheus {
    const call = async (path: string, params: Record<string, string>, expr: string, resultType: string) => {
        const url = `${baseUrl.replace(/\/$/, "")}${path}?${new URLSearchParams(params)}`;
        const response = await fetchImpl(url);
        if (!response.ok) throw new Error(`Prometheus answered ${response.status} for ${expr}: ${(await response.text()).slice(0, 200)}`);
        const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown[] } };
        if (body.status !== "success" || !body.data) throw new Error(`Prometheus query failed: ${body.error ?? body.status}`);
        if (body.data.resultType !== resultType) throw new Error(`expected a ${resultType} from ${expr}, got ${body.data.resultType}`);
        return body.data.result;
    };
    return {
        async query(expr, time) {
            const result = (await call("/api/v1/query", { query: expr, time: String(time.getTime() / 1000) }, expr, "vector")) as { metric: Record<string, string>; value: [number, string] }[];
            return result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
        },
        async queryRange(expr, start, end, stepSeconds) {
            const params = { query: expr, start: String(start.getTime() / 1000), end: String(end.getTime() / 1000), step: String(stepSeconds) };
            const result = (await call("/api/v1/query_range", params, expr, "matrix")) as { metric: Record<string, string>; values: [number, string][] }[];
            return result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [Number(t), Number(v)] as [number, number]) }));
        },
    };
}

/** The last `count` whole windows that have closed by `now` (oldest first). */
export function closedWindows(now: Date, windowSeconds: number, count: number): Window[] {
    if (!Number.isInteger(windowSeconds) || windowSeconds <= 0 || windowSeconds % METERING_STEP_SECONDS !== 0) {
        throw new RangeError(`--window-seconds must be a whole multiple of the ${METERING_STEP_SECONDS}-second metering step, got ${windowSeconds}`);
    }
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`--windows must be a whole number at least 1, got ${count}`);
    const size = windowSeconds * 1000;
    const lastEnd = Math.floor(now.getTime() / size) * size;
    return Array.from({ length: count }, (_, i) => {
        const end = lastEnd - (count - 1 - i) * size;
        return { start: new Date(end - size), end: new Date(end) };
    });
}

const POOL = ksmLabel(LABELS.pool);
const GPU_MODEL = ksmLabel(LABELS.gpuModel);

/** GPUs in use by tenants at each step (policies/model/domain/billing.ts tenantGpuInUseQuery). */
export function tenantGpuQuery(): string {
    return tenantGpuInUseQuery();
}

/**
 * What a gateway counter added in the step ending at each instant, per tenant and model: the
 * difference from the instant one step earlier, or after a reset (the counter went down: the gateway
 * restarted) its value since the reset. A series seen for the first time counts from its first value,
 * as Prometheus's increase() does. Summed over a window's instants, the steps telescope: adjacent
 * windows add up to the counter's rise over both, with no boundary counted twice.
 */
export function hostedStepQuery(metric: string): string {
    const step = `${METERING_STEP_SECONDS}s`;
    return `sum by (${GATEWAY.tenantLabel}, ${GEN_AI_METRICS.modelLabel}) ((${metric} - ${metric} offset ${step}) >= 0 or (${metric} < ${metric} offset ${step}))`;
}

/** The measures of hosted usage, each a gateway counter. */
export const HOSTED_MEASURES = ["requests", "inputTokens", "cachedInputTokens", "outputTokens"] as const;

/** Every hosted measure's steps in one query, each series labelled with its `measure`. */
export function hostedUsageQuery(): string {
    return HOSTED_MEASURES.map((m) => `label_replace(${hostedStepQuery(GATEWAY_METRICS[m])}, "measure", "${m}", "", "")`).join(" or ");
}

/**
 * Batch usage at each step instant: the completed batches whose usage series appears at that instant
 * and did not one step earlier (each upload has a series of its own, served for about a minute), so a
 * batch counts once, in the step it first shows, per tenant and model. Instant selectors only, as for
 * the other queries: the same on Prometheus 2.x and 3.x.
 */
export function batchUsageQuery(): string {
    const step = `${METERING_STEP_SECONDS}s`;
    const first = (selector: string) => `sum by (tenant, model) (${selector} unless ${selector} offset ${step})`;
    const { tokens, requests } = BATCH_USAGE_METRICS;
    return [
        `label_replace(${first(`${requests}{outcome="succeeded"}`)}, "measure", "requests", "", "")`,
        `label_replace(${first(`${tokens}{type="input"}`)}, "measure", "inputTokens", "", "")`,
        `label_replace(${first(`${tokens}{type="output"}`)}, "measure", "outputTokens", "", "")`,
    ].join(" or ");
}

/** A GPU usage record: GPU-seconds of a tenant on a pool and track in a window. */
export interface GpuUsageRecord {
    tenant: string;
    pool: string;
    gpuModel: string;
    track: "reserved" | "dedicated" | "spot" | "reserved_use" | "unsold";
    window: Window;
    gpuSeconds: number;
}

export interface ModelUsageRecord {
    tenant: string;
    model: string;
    /** hosted (the gateway; the default), batch (completed batches), or dedicated_endpoint_use (recorded, billed through replica-hours). */
    track?: "hosted" | "batch" | "dedicated_endpoint_use";
    window: Window;
    requests: number;
    inputTokens: number;
    cachedInputTokens: number;
    outputTokens: number;
}

/** Replica-seconds of a tenant's dedicated endpoints of a model in a window. */
export interface EndpointUsageRecord {
    tenant: string;
    model: string;
    track: "dedicated_endpoint";
    window: Window;
    replicaSeconds: number;
}

/** A window's usage records, of every kind. */
export interface WindowUsage {
    gpu: GpuUsageRecord[];
    hosted: ModelUsageRecord[];
    endpoint: EndpointUsageRecord[];
    /** Each tenant's good and valid events per objective (billing/slo.ts). */
    slo?: SloEventRecord[];
}

/** A commitment row of the registry, in force over [from, to). `pool` is its subject: the pool, or a dedicated endpoint's model. */
export interface HeldCommitment {
    tenant: string;
    track: "reserved" | "dedicated" | "dedicated_endpoint";
    pool: string;
    gpuModel: string;
    quantity: number;
    from: Date;
    to: Date;
}

/** A tenant's contract from `from` on: billing of its commitments starts on `startsOn` (00:00 UTC), when set. */
export interface HeldContract {
    tenant: string;
    from: Date;
    startsOn?: Date;
}

/** What the registry says was sold over a span of windows: the commitments in force, and the contracts. */
export interface Sold {
    commitments: HeldCommitment[];
    contracts: HeldContract[];
}

/** When billing of a tenant's commitments starts, by the contract in force at the end of a window. */
function startsOnAt(sold: Sold, tenant: string, at: Date): Date | undefined {
    let found: HeldContract | undefined;
    for (const c of sold.contracts) if (c.tenant === tenant && c.from.getTime() < at.getTime() && (!found || c.from > found.from)) found = c;
    return found?.startsOn;
}

/** The commitments (reserved, dedicated) in force at some point of the span, and the contracts. */
export async function loadSold(client: ClientBase, window: Window): Promise<Sold> {
    const { rows } = await client.query<{ tenant_id: string; track: HeldCommitment["track"]; subject: string; gpu_model: string | null; quantity: number; c_from: Date; c_to: Date | null }>(
        `SELECT tenant_id, track, subject, gpu_model, quantity, c_from, c_to FROM (
             SELECT c.tenant_id, c.track, c.subject, c.gpu_model, c.quantity, c.effective_from AS c_from,
                    lead(c.effective_from) OVER (PARTITION BY c.tenant_id, c.track, c.subject ORDER BY c.effective_from) AS c_to
             FROM commitments c JOIN billing_tracks t ON t.track = c.track AND t.basis = 'commitment' AND t.priced
         ) held
         WHERE quantity > 0 AND c_from < $2 AND (c_to IS NULL OR c_to > $1)`,
        [window.start, window.end],
    );
    const contracts = await client.query<{ tenant_id: string; effective_from: Date; starts_on: Date | null }>(
        "SELECT tenant_id, effective_from, (starts_on::timestamp AT TIME ZONE 'UTC') AS starts_on FROM contracts WHERE effective_from < $1",
        [window.end],
    );
    return {
        commitments: rows.map((r) => ({ tenant: r.tenant_id, track: r.track, pool: r.subject, gpuModel: r.gpu_model ?? "unknown", quantity: r.quantity, from: r.c_from, to: r.c_to ?? new Date(8.64e15) })),
        contracts: contracts.rows.map((r) => ({ tenant: r.tenant_id, from: r.effective_from, ...(r.starts_on ? { startsOn: r.starts_on } : {}) })),
    };
}

/** Committed GPUs of a tenant on a pool at an instant. */
function committedAt(commitments: readonly HeldCommitment[], at: number): number {
    let gpus = 0;
    for (const c of commitments) if (c.from.getTime() <= at && at < c.to.getTime()) gpus += c.quantity;
    return gpus;
}

/** A tenant's usage and commitments on one pool, step by step. */
interface PoolSteps {
    tenant: string;
    pool: string;
    gpuModel: string;
    reserved: number[];
    spot: number[];
}

/**
 * Meters one window: commitments from `sold`, GPU time and hosted usage from Prometheus. The window's
 * length must be a whole number of steps (hour windows are 60 steps).
 */
export async function meterWindow(prom: Prometheus, window: Window, sold: Sold): Promise<WindowUsage> {
    const step = METERING_STEP_SECONDS;
    const seconds = (window.end.getTime() - window.start.getTime()) / 1000;
    if (!Number.isInteger(seconds / step) || seconds <= 0) throw new RangeError(`a metering window is a whole number of ${step}-second steps, got ${seconds} seconds`);
    const steps = seconds / step;
    const first = new Date(window.start.getTime() + step * 1000);
    const instant = (k: number) => window.start.getTime() + (k + 1) * step * 1000;
    const index = (unixSeconds: number) => Math.round((unixSeconds * 1000 - window.start.getTime()) / (step * 1000)) - 1;

    const [gpuSeries, hostedSeries, batchSeries, sloSeries] = await Promise.all([
        prom.queryRange(tenantGpuQuery(), first, window.end, step),
        prom.queryRange(hostedUsageQuery(), first, window.end, step),
        prom.queryRange(batchUsageQuery(), first, window.end, step),
        prom.queryRange(SLO_METERING.stepQuery(), first, window.end, step),
    ]);

    // GPUs in use per tenant and pool at each step, at the spot priority and at any other.
    const pools = new Map<string, PoolSteps>();
    for (const s of gpuSeries) {
        const namespace = s.metric.namespace ?? "";
        const pool = s.metric[POOL];
        if (!namespace.startsWith(TENANT_NAMESPACE_PREFIX) || !pool) continue;
        const tenant = namespace.slice(TENANT_NAMESPACE_PREFIX.length);
        const key = `${tenant}/${pool}`;
        let p = pools.get(key);
        if (!p) pools.set(key, (p = { tenant, pool, gpuModel: s.metric[GPU_MODEL] ?? "unknown", reserved: new Array(steps).fill(0), spot: new Array(steps).fill(0) }));
        const into = s.metric.priority_class === PRIORITY_CLASS.tenantSpot ? p.spot : p.reserved;
        for (const [t, v] of s.values) {
            const k = index(t);
            if (k >= 0 && k < steps && Number.isFinite(v)) into[k] += v;
        }
    }

    const gpu: GpuUsageRecord[] = [];
    const endpoint: EndpointUsageRecord[] = [];
    const byTenantPool = new Map<string, HeldCommitment[]>();
    const byTenantEndpoint = new Map<string, HeldCommitment[]>();
    for (const c of sold.commitments) {
        if (c.from.getTime() >= window.end.getTime() || c.to.getTime() <= window.start.getTime()) continue;
        const into = c.track === "dedicated_endpoint" ? byTenantEndpoint : byTenantPool;
        into.set(`${c.tenant}/${c.pool}`, [...(into.get(`${c.tenant}/${c.pool}`) ?? []), c]);
    }
    // A dedicated endpoint's replicas: every second of the window they were held, from the contract's start.
    for (const [key, held] of byTenantEndpoint) {
        const [tenant, model] = key.split("/");
        const from = Math.max(window.start.getTime(), startsOnAt(sold, tenant, window.end)?.getTime() ?? -Infinity);
        const replicaMs = held.reduce((sum, c) => sum + c.quantity * Math.max(0, Math.min(c.to.getTime(), window.end.getTime()) - Math.max(c.from.getTime(), from)), 0);
        if (replicaMs > 0) endpoint.push({ tenant, model, track: "dedicated_endpoint", window, replicaSeconds: replicaMs / 1000 });
    }

    // What was committed: every second of the window it was held, from the contract's start.
    for (const [key, held] of byTenantPool) {
        const [tenant, pool] = key.split("/");
        const from = Math.max(window.start.getTime(), startsOnAt(sold, tenant, window.end)?.getTime() ?? -Infinity);
        for (const track of ["reserved", "dedicated"] as const) {
            const rows = held.filter((c) => c.track === track);
            const gpuMs = rows.reduce((sum, c) => sum + c.quantity * Math.max(0, Math.min(c.to.getTime(), window.end.getTime()) - Math.max(c.from.getTime(), from)), 0);
            if (gpuMs > 0) gpu.push({ tenant, pool, gpuModel: rows[rows.length - 1].gpuModel, track, window, gpuSeconds: gpuMs / 1000 });
        }
    }

    // What was used, step by step against what was committed at that instant.
    for (const p of pools.values()) {
        const held = byTenantPool.get(`${p.tenant}/${p.pool}`) ?? [];
        let within = 0;
        let spot = 0;
        let unsold = 0;
        for (let k = 0; k < steps; k++) {
            const committed = committedAt(held, instant(k));
            const r = p.reserved[k];
            const s = p.spot[k];
            within += Math.min(r + s, committed);
            spot += Math.max(0, s - Math.max(0, committed - r));
            unsold += Math.max(0, r - committed);
        }
        const record = (track: GpuUsageRecord["track"], gpuSteps: number) => gpuSteps > 0 && gpu.push({ tenant: p.tenant, pool: p.pool, gpuModel: p.gpuModel, track, window, gpuSeconds: gpuSteps * step });
        record("reserved_use", within);
        record("spot", spot);
        record("unsold", unsold);
    }

    // Hosted and batch usage: the steps' values summed over the window. A tenant's calls of its own
    // dedicated endpoint (<tenant>/<model>) go on dedicated_endpoint_use, under the model's name.
    const hosted = new Map<string, ModelUsageRecord>();
    const add = (tenant: string, model: string, track: NonNullable<ModelUsageRecord["track"]>, measure: (typeof HOSTED_MEASURES)[number], values: [number, number][]) => {
        const key = `${tenant}\u0000${model}\u0000${track}`;
        let r = hosted.get(key);
        if (!r) hosted.set(key, (r = { tenant, model, track, window, requests: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 }));
        for (const [t, v] of values) {
            const k = index(t);
            if (k >= 0 && k < steps && Number.isFinite(v)) r[measure] += v;
        }
    };
    for (const s of hostedSeries) {
        const tenant = s.metric[GATEWAY.tenantLabel];
        const model = s.metric[GEN_AI_METRICS.modelLabel];
        const measure = HOSTED_MEASURES.find((m) => m === s.metric.measure);
        if (!tenant || !model || !measure) continue;
        const dedicated = parseDedicatedModelName(model);
        if (dedicated && dedicated.tenant === tenant) add(tenant, dedicated.model, "dedicated_endpoint_use", measure, s.values);
        else add(tenant, model, "hosted", measure, s.values);
    }
    for (const s of batchSeries) {
        const measure = HOSTED_MEASURES.find((m) => m === s.metric.measure);
        if (!s.metric.tenant || !s.metric.model || !measure) continue;
        add(s.metric.tenant, s.metric.model, "batch", measure, s.values);
    }
    const rounded = [...hosted.values()]
        .map((r) => ({ ...r, requests: Math.round(r.requests), inputTokens: Math.round(r.inputTokens), cachedInputTokens: Math.round(r.cachedInputTokens), outputTokens: Math.round(r.outputTokens) }))
        .filter((r) => r.requests > 0 || r.inputTokens > 0 || r.outputTokens > 0 || r.cachedInputTokens > 0);
    const order = (a: { tenant: string }, b: { tenant: string }) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0);
    return { gpu: gpu.sort(order), hosted: rounded.sort(order), endpoint: endpoint.sort(order), slo: sloEventsOf(sloSeries, window, steps, index, step) };
}

export interface WriteResult {
    inserted: number;
    duplicates: number;
    rejected: { record: string; reason: string }[];
    /** The window is recorded as metered (complete): nothing was rejected. */
    complete: boolean;
}

/**
 * Writes a window's usage records in one transaction: a record already written is a duplicate (never
 * a second charge); a record of a tenant the registry does not know is rejected and reported, and
 * then the window is not recorded as metered, so its month cannot be invoiced until it is resolved.
 */
export async function writeUsage(client: ClientBase, usage: Omit<WindowUsage, "endpoint"> & { endpoint?: EndpointUsageRecord[] }, source: string, window?: Window): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, duplicates: 0, rejected: [], complete: false };
    const endpoints = usage.endpoint ?? [];
    const names = [...new Set([...usage.gpu.map((g) => g.tenant), ...usage.hosted.map((h) => h.tenant), ...endpoints.map((e) => e.tenant), ...(usage.slo ?? []).map((e) => e.tenant)])];
    const models = [...new Set([...usage.hosted.map((h) => h.model), ...endpoints.map((e) => e.model)])];
    await client.query("BEGIN");
    try {
        const known = new Set((await client.query<{ tenant_id: string }>("SELECT tenant_id FROM tenants WHERE tenant_id = ANY($1)", [names])).rows.map((r) => r.tenant_id));
        const knownModels = new Set((await client.query<{ model: string }>("SELECT model FROM hosted_models WHERE model = ANY($1)", [models])).rows.map((r) => r.model));
        const gpu = usage.gpu.filter((g) => {
            if (known.has(g.tenant)) return true;
            result.rejected.push({ record: `gpu ${g.tenant}/${g.pool} ${g.track} ${g.window.start.toISOString()}`, reason: `unknown tenant ${g.tenant}: the registry does not list it` });
            return false;
        });
        const hosted = usage.hosted.filter((m) => {
            const why = !known.has(m.tenant) ? `unknown tenant ${m.tenant}: the registry does not list it` : !knownModels.has(m.model) ? `unknown model ${m.model}: the registry does not list it` : undefined;
            if (why) result.rejected.push({ record: `${m.track ?? "hosted"} ${m.tenant}/${m.model} ${m.window.start.toISOString()}`, reason: why });
            return !why;
        });
        const endpoint = endpoints.filter((e) => {
            const why = !known.has(e.tenant) ? `unknown tenant ${e.tenant}: the registry does not list it` : !knownModels.has(e.model) ? `unknown model ${e.model}: the registry does not list it` : undefined;
            if (why) result.rejected.push({ record: `${e.track} ${e.tenant}/${e.model} ${e.window.start.toISOString()}`, reason: why });
            return !why;
        });
        if (endpoint.length > 0) {
            const r = await client.query(
                `INSERT INTO endpoint_usage (tenant_id, model, track, window_start, window_end, replica_seconds, source)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::numeric[], $7::text[])
                 ON CONFLICT (tenant_id, model, track, window_start, window_end) DO NOTHING`,
                [endpoint.map((e) => e.tenant), endpoint.map((e) => e.model), endpoint.map((e) => e.track), endpoint.map((e) => e.window.start), endpoint.map((e) => e.window.end), endpoint.map((e) => e.replicaSeconds.toFixed(3)), endpoint.map(() => source)],
            );
            result.inserted += r.rowCount ?? 0;
            result.duplicates += endpoint.length - (r.rowCount ?? 0);
        }
        if (gpu.length > 0) {
            const r = await client.query(
                `INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::numeric[], $8::text[])
                 ON CONFLICT (tenant_id, pool, track, window_start, window_end) DO NOTHING`,
                [gpu.map((g) => g.tenant), gpu.map((g) => g.pool), gpu.map((g) => g.gpuModel), gpu.map((g) => g.track), gpu.map((g) => g.window.start), gpu.map((g) => g.window.end), gpu.map((g) => g.gpuSeconds.toFixed(3)), gpu.map(() => source)],
            );
            result.inserted += r.rowCount ?? 0;
            result.duplicates += gpu.length - (r.rowCount ?? 0);
        }
        if (hosted.length > 0) {
            const r = await client.query(
                `INSERT INTO model_usage (tenant_id, model, track, window_start, window_end, requests, input_tokens, cached_input_tokens, output_tokens, source)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[])
                 ON CONFLICT (tenant_id, model, track, window_start, window_end) DO NOTHING`,
                [
                    hosted.map((m) => m.tenant),
                    hosted.map((m) => m.model),
                    hosted.map((m) => m.track ?? "hosted"),
                    hosted.map((m) => m.window.start),
                    hosted.map((m) => m.window.end),
                    hosted.map((m) => m.requests),
                    hosted.map((m) => m.inputTokens),
                    hosted.map((m) => m.cachedInputTokens),
                    hosted.map((m) => m.outputTokens),
                    hosted.map(() => source),
                ],
            );
            result.inserted += r.rowCount ?? 0;
            result.duplicates += hosted.length - (r.rowCount ?? 0);
        }
        const events = (usage.slo ?? []).filter((e) => {
            if (known.has(e.tenant)) return true;
            result.rejected.push({ record: `slo ${e.tenant}/${e.slo} ${e.window.start.toISOString()}`, reason: `unknown tenant ${e.tenant}: the registry does not list it` });
            return false;
        });
        const added = await writeSloEvents(client, events, source);
        result.inserted += added;
        result.duplicates += events.length - added;
        if (window && result.rejected.length === 0) {
            await client.query("INSERT INTO metered_windows (window_start, window_end, gpu_records, model_records) VALUES ($1, $2, $3, $4) ON CONFLICT (window_start, window_end) DO NOTHING", [window.start, window.end, gpu.length, hosted.length + endpoint.length]);
            result.complete = true;
        }
        await client.query("COMMIT");
    } catch (e) {
        await client.query("ROLLBACK");
        throw e;
    }
    return result;
}

/**
 * Meters windows end to end, oldest first: what was sold (read once for the span), what was used
 * (Prometheus, `concurrency` windows at a time, so a catch-up of many windows is quick), each window
 * written in its own transaction, in order. `onWindow` hears of each as it is written.
 */
export async function meterWindows(
    client: ClientBase,
    prom: Prometheus,
    windows: readonly Window[],
    onWindow: (window: Window, result: WriteResult, usage: WindowUsage) => void,
    options: { source?: string; concurrency?: number } = {},
): Promise<void> {
    if (windows.length === 0) return;
    const sold = await loadSold(client, { start: windows[0].start, end: windows[windows.length - 1].end });
    const concurrency = options.concurrency ?? 4;
    const pending: Promise<WindowUsage>[] = [];
    const start = (i: number) => {
        if (i < windows.length) pending[i] = meterWindow(prom, windows[i], sold);
    };
    for (let i = 0; i < concurrency; i++) start(i);
    for (let i = 0; i < windows.length; i++) {
        const usage = await pending[i];
        start(i + concurrency);
        onWindow(windows[i], await writeUsage(client, usage, options.source ?? "prometheus", windows[i]), usage);
    }
}
