import type { Dashboard, Panel } from "@grafana/schema";
import { BURN_RATE_WINDOWS, burnRate, GATEWAY, GEN_AI_METRICS, ksmLabel, LABELS, PoolCapacity, SLO_LABEL, SLO_RECORDS, SloErrorWindow, SloSpec } from "compute-region-policies/model";
import { poolAllocatableExpr, poolTenantUsageExpr, soldQueuesMatcher } from "./alert-rules";

/**
 * Grafana dashboards as typed code (`@grafana/schema`'s Dashboard type), provisioned as ConfigMaps
 * the Grafana sidecar picks up. Queries reuse the alert rules' expressions, so a panel shows exactly
 * what its alert judges.
 */
const PROMETHEUS = { type: "prometheus", uid: "prometheus" };

/** A panel before layout: its queries and how it shows them. */
export interface PanelSpec {
    title: string;
    type: "timeseries" | "stat" | "table";
    queries: { expr: string; legend?: string }[];
    unit?: string;
    description?: string;
}

/** Lays panels out on Grafana's 24-column grid, `perRow` to a row, each querying `datasource` (the region's Prometheus unless given). */
export function layout(specs: PanelSpec[], perRow: number, height = 8, datasource: { type: string; uid: string } = PROMETHEUS): Panel[] {
    const width = Math.floor(24 / perRow);
    return specs.map((spec, i) => ({
        id: i + 1,
        type: spec.type,
        title: spec.title,
        description: spec.description,
        datasource,
        gridPos: { x: (i % perRow) * width, y: Math.floor(i / perRow) * height, w: width, h: height },
        targets: spec.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource, expr: q.expr, legendFormat: q.legend ?? "" })),
        fieldConfig: { defaults: { unit: spec.unit ?? "none" }, overrides: [] },
        options: {},
    }));
}

/** A dashboard of the region's style: read-only, UTC, the last 24 hours, refreshed every minute. */
export function dashboard(uid: string, title: string, panels: Panel[], tags: string[], variables: NonNullable<Dashboard["templating"]>["list"] = []): Dashboard {
    return {
        uid,
        title,
        tags: ["compute-region", ...tags],
        editable: false,
        schemaVersion: 39,
        time: { from: "now-24h", to: "now" },
        refresh: "1m",
        timezone: "utc",
        panels,
        templating: { list: variables },
        annotations: { list: [] },
    } as Dashboard;
}

/** Region capacity: per pool, internal, sold, free and idle GPUs. */
export function capacityDashboard(pools: readonly PoolCapacity[]): Dashboard {
    const specs: PanelSpec[] = [];
    for (const pool of pools) {
        specs.push({
            title: `${pool.pool} (${pool.role}, ${pool.instanceType}): GPUs`,
            type: "timeseries",
            description: `Guaranteed ${pool.guaranteed}, headroom ${pool.headroomGpus}, sellable ${pool.sellable}.`,
            queries: [
                { expr: poolAllocatableExpr(pool.pool), legend: "allocatable" },
                { expr: poolTenantUsageExpr(pool.pool), legend: "used by tenants (reserved + spot)" },
                { expr: `sum(kueue_cluster_queue_resource_usage{flavor="${pool.pool}",cluster_queue="internal-${pool.pool}",resource="nvidia.com/gpu"})`, legend: "used internally" },
                { expr: `sum(kueue_cluster_queue_nominal_quota{flavor="${pool.pool}",${soldQueuesMatcher(pool.pool)},resource="nvidia.com/gpu"})`, legend: "sold (reserved quota)" },
                { expr: `vector(${pool.headroomGpus})`, legend: "headroom floor" },
            ],
        });
        specs.push({
            title: `${pool.pool}: idle GPUs`,
            type: "stat",
            description: "GPUs with utilisation under 5% over the last 15 minutes.",
            queries: [
                {
                    expr: `count(avg_over_time(DCGM_FI_DEV_GPU_UTIL[15m]) * on(Hostname) group_left() label_replace(kube_node_labels{${ksmLabel(LABELS.pool)}="${pool.pool}"}, "Hostname", "$1", "node", "(.*)") < 5) or vector(0)`,
                    legend: "idle",
                },
            ],
        });
    }
    return dashboard("compute-region-capacity", "Region GPU capacity", layout(specs, 2), ["capacity"]);
}

/** GPU health: utilisation, memory, temperature, power, XID and ECC, per GPU. */
export function gpuHealthDashboard(): Dashboard {
    const perGpu = "{{Hostname}} gpu{{gpu}}";
    return dashboard(
        "compute-region-gpu-health",
        "GPU health",
        layout(
            [
                { title: "GPU utilisation", type: "timeseries", unit: "percent", queries: [{ expr: "DCGM_FI_DEV_GPU_UTIL", legend: perGpu }] },
                { title: "GPU memory used", type: "timeseries", unit: "decmbytes", queries: [{ expr: "DCGM_FI_DEV_FB_USED", legend: perGpu }] },
                { title: "GPU temperature", type: "timeseries", unit: "celsius", queries: [{ expr: "DCGM_FI_DEV_GPU_TEMP", legend: perGpu }] },
                { title: "Power draw", type: "timeseries", unit: "watt", queries: [{ expr: "DCGM_FI_DEV_POWER_USAGE", legend: perGpu }] },
                { title: "XID errors (last code)", type: "table", queries: [{ expr: "DCGM_FI_DEV_XID_ERRORS > 0", legend: perGpu }] },
                { title: "Uncorrectable ECC errors (10m)", type: "table", queries: [{ expr: "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0", legend: perGpu }] },
                { title: "GPU nodes not Ready", type: "stat", queries: [{ expr: `count(kube_node_status_condition{condition="Ready",status="true"} * on(node) group_left() kube_node_labels{${ksmLabel(LABELS.pool)}!=""} == 0) or vector(0)` }] },
                { title: "DCGM exporters up", type: "stat", queries: [{ expr: 'sum(up{job="dcgm-exporter"})' }] },
            ],
            2,
        ),
        ["gpu"],
    );
}

/** Billing: metering health and what each tenant used (GPU-hours, hosted tokens). */
export function billingDashboard(): Dashboard {
    return dashboard(
        "compute-region-billing",
        "Billing and metering",
        layout(
            [
                { title: "Hours since the last successful metering run", type: "stat", unit: "h", queries: [{ expr: '(time() - max(kube_cronjob_status_last_successful_time{namespace="billing",cronjob="metering"})) / 3600' }] },
                { title: "Failed metering jobs (24h)", type: "stat", queries: [{ expr: 'sum(increase(kube_job_status_failed{namespace="billing",job_name=~"metering-.*"}[24h])) or vector(0)' }] },
                {
                    title: "GPUs in use per tenant",
                    type: "timeseries",
                    queries: [{ expr: 'sum by (namespace) (kube_pod_container_resource_requests{resource="nvidia_com_gpu",namespace=~"tenant-.+"})', legend: "{{namespace}}" }],
                },
                { title: "Hosted tokens per tenant (1h)", type: "timeseries", queries: [{ expr: `sum by (${GATEWAY.tenantLabel}) (increase(${GEN_AI_METRICS.inputTokens}[1h])) + sum by (${GATEWAY.tenantLabel}) (increase(${GEN_AI_METRICS.outputTokens}[1h]))`, legend: `{{${GATEWAY.tenantLabel}}}` }] },
            ],
            2,
        ),
        ["billing"],
    );
}

/** Serving: latency, throughput and queue per model. */
export function servingDashboard(models: readonly { name: string }[]): Dashboard {
    const specs: PanelSpec[] = [];
    for (const m of models) {
        const sel = `model_name="${m.name}"`;
        specs.push({ title: `${m.name}: p50 / p95 latency`, type: "timeseries", unit: "s", queries: [0.5, 0.95].map((q) => ({ expr: `histogram_quantile(${q}, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{${sel}}[5m])))`, legend: `p${q * 100}` })) });
        specs.push({ title: `${m.name}: tokens per second`, type: "timeseries", queries: [{ expr: `sum(rate(vllm:prompt_tokens_total{${sel}}[5m]))`, legend: "prompt" }, { expr: `sum(rate(vllm:generation_tokens_total{${sel}}[5m]))`, legend: "generated" }] });
        specs.push({ title: `${m.name}: requests running and waiting`, type: "timeseries", queries: [{ expr: `sum(vllm:num_requests_running{${sel}})`, legend: "running" }, { expr: `sum(vllm:num_requests_waiting{${sel}})`, legend: "waiting" }] });
    }
    // What each tenant sends through the gateway, as metering counts it.
    const t = GATEWAY.tenantLabel;
    specs.push({ title: "Requests per second per tenant", type: "timeseries", queries: [{ expr: `sum by (${t}) (rate(${GEN_AI_METRICS.requests}[5m]))`, legend: `{{${t}}}` }] });
    specs.push({
        title: "Tokens per second per tenant",
        type: "timeseries",
        queries: [
            { expr: `sum by (${t}) (rate(${GEN_AI_METRICS.inputTokens}[5m]))`, legend: `{{${t}}} input` },
            { expr: `sum by (${t}) (rate(${GEN_AI_METRICS.outputTokens}[5m]))`, legend: `{{${t}}} output` },
        ],
    });
    specs.push({ title: "Failed requests per tenant", type: "timeseries", queries: [{ expr: `sum by (${t}, error_type) (rate(gen_ai_server_request_duration_seconds_count{error_type!=""}[5m]))`, legend: `{{${t}}} {{error_type}}` }] });
    return dashboard("compute-region-serving", "Model serving", layout(specs, 3), ["serving"]);
}

/**
 * Service level objectives: per objective, its attainment over its window, the share of its error
 * budget left, and how fast it burns now (the error ratio over the alerts' long windows, in multiples
 * of the sustainable rate, beside the page and ticket thresholds). Read from the SLO recording rules.
 */
export function sloDashboard(slos: readonly SloSpec[]): Dashboard {
    const specs: PanelSpec[] = slos.flatMap((slo): PanelSpec[] => {
        const sel = `{${SLO_LABEL}="${slo.name}"}`;
        const budget = Number((1 - slo.objective).toPrecision(6));
        return [
            { title: `${slo.name}: attainment (${slo.windowDays}d)`, type: "stat", unit: "percentunit", description: `${slo.description}. Objective ${slo.objective}.`, queries: [{ expr: `${SLO_RECORDS.attainment}${sel}`, legend: "attained" }, { expr: `${SLO_RECORDS.objective}${sel}`, legend: "objective" }] },
            { title: `${slo.name}: error budget left`, type: "stat", unit: "percentunit", description: "1 is untouched, 0 is spent; below 0 the objective is missed for the window.", queries: [{ expr: `${SLO_RECORDS.budgetRemaining}${sel}`, legend: "left" }] },
            {
                title: `${slo.name}: burn rate`,
                type: "timeseries",
                description: "Error ratio over the alerts' long windows, as multiples of the rate that spends the budget exactly over the window.",
                queries: [
                    ...BURN_RATE_WINDOWS.map((w) => ({ expr: `${SLO_RECORDS.errorRatio(w.long as SloErrorWindow)}${sel} / ${budget}`, legend: w.long })),
                    { expr: `vector(${burnRate(BURN_RATE_WINDOWS[0], slo.windowDays)})`, legend: "pages above (1h)" },
                    { expr: "vector(1)", legend: "sustainable" },
                ],
            },
        ];
    });
    return dashboard("compute-region-slos", "Service level objectives", layout(specs, 3), ["slo"]);
}
