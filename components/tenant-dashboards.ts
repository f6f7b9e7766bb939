import type { Dashboard, VariableModel } from "@grafana/schema";
import { GEN_AI_METRICS, GPU_RESOURCE, TENANT_DASHBOARDS, TENANT_METRICS_LABEL } from "compute-region-policies/model";
import { dashboard, layout, PanelSpec } from "./dashboards";

/**
 * A tenant's own dashboards, built like the operators' (`@grafana/schema`'s Dashboard type, the same
 * layout), for the tenant's Grafana: every query reads through the tenant metrics API (a data source
 * the tenant picks on import, the `datasource` variable) and every selector of every query carries
 * the tenant's namespace itself, so a dashboard shows only the tenant's series even against a data
 * source that enforced nothing. The `tenant-dashboards-scoped` policy parses each query to hold it to that.
 */

const DATASOURCE = { type: "prometheus", uid: `\${${TENANT_DASHBOARDS.datasourceVariable}}` };
const DATASOURCE_VARIABLE: VariableModel = { name: TENANT_DASHBOARDS.datasourceVariable, label: "Data source (the tenant metrics API)", type: "datasource", query: "prometheus", hide: 0, refresh: 1, options: [] };

/** kube-state-metrics spells the GPU resource with underscores. */
const KSM_GPU = GPU_RESOURCE.replace(/[./]/g, "_");

/** `metric{namespace="<namespace>",<more>}`: every selector a tenant dashboard writes goes through here. */
function scoped(namespace: string, metric: string, more = ""): string {
    return `${metric}{${TENANT_METRICS_LABEL}="${namespace}"${more ? `,${more}` : ""}}`;
}

/**
 * Recording rules that put the gateway's per-tenant GenAI series under the tenant's namespace label
 * (the AI Gateway labels them `tenant`; the tenant metrics API holds queries to `namespace`). Rates
 * over 5m by model: what the tenant's model dashboard reads. Prometheus 2.x and 3.x give the same
 * rates here: the ranges are far longer than the scrape interval.
 */
export const TENANT_GATEWAY_RECORDS = {
    requests: "namespace:gen_ai_requests:rate5m",
    tokens: "namespace:gen_ai_tokens:rate5m",
    latencyBuckets: "namespace:gen_ai_request_duration_seconds_bucket:rate5m",
} as const;

/** A Prometheus recording rule (the alert rules' RuleGroup holds alerting rules only). */
export interface RecordingRule {
    record: string;
    expr: string;
}

export function tenantGatewayRecordingRules(): { name: string; rules: RecordingRule[] }[] {
    const model = GEN_AI_METRICS.modelLabel;
    const toNamespace = (expr: string) => `label_replace(${expr}, "${TENANT_METRICS_LABEL}", "tenant-$1", "tenant", "(.+)")`;
    return [
        {
            name: "compute-region.tenant-views",
            rules: [
                { record: TENANT_GATEWAY_RECORDS.requests, expr: `sum by (${TENANT_METRICS_LABEL}, ${model}, error_type) (${toNamespace('rate(gen_ai_server_request_duration_seconds_count{tenant!=""}[5m])')})` },
                { record: TENANT_GATEWAY_RECORDS.tokens, expr: `sum by (${TENANT_METRICS_LABEL}, ${model}, gen_ai_token_type) (${toNamespace('rate(gen_ai_client_token_usage_sum{tenant!=""}[5m])')})` },
                { record: TENANT_GATEWAY_RECORDS.latencyBuckets, expr: `sum by (${TENANT_METRICS_LABEL}, ${model}, le) (${toNamespace('rate(gen_ai_server_request_duration_seconds_bucket{tenant!=""}[5m])')})` },
            ],
        },
    ];
}

/** What a tenant uses: its GPUs (DCGM), what its pods request and use, and its quota backstop. */
export function tenantUsageDashboard(namespace: string): Dashboard {
    const perGpu = "{{pod}} gpu{{gpu}}";
    const specs: PanelSpec[] = [
        { title: "GPU utilisation", type: "timeseries", unit: "percent", queries: [{ expr: scoped(namespace, "DCGM_FI_DEV_GPU_UTIL"), legend: perGpu }] },
        { title: "GPU memory used", type: "timeseries", unit: "decmbytes", queries: [{ expr: scoped(namespace, "DCGM_FI_DEV_FB_USED"), legend: perGpu }] },
        {
            title: "GPUs held by running pods, and the namespace's GPU quota",
            type: "timeseries",
            queries: [
                { expr: `sum(${scoped(namespace, "kube_pod_container_resource_requests", `resource="${KSM_GPU}"`)} * on(namespace, pod) group_left() (${scoped(namespace, "kube_pod_status_phase", 'phase="Running"')} == 1)) or vector(0)`, legend: "in use" },
                { expr: `sum(${scoped(namespace, "kube_resourcequota", `resource="requests.${GPU_RESOURCE}",type="hard"`)})`, legend: "quota (reserved + spot)" },
            ],
        },
        { title: "CPU used per pod", type: "timeseries", queries: [{ expr: `sum by (pod) (rate(${scoped(namespace, "container_cpu_usage_seconds_total", 'container!=""')}[5m]))`, legend: "{{pod}}" }] },
        { title: "Memory used per pod", type: "timeseries", unit: "bytes", queries: [{ expr: `sum by (pod) (${scoped(namespace, "container_memory_working_set_bytes", 'container!=""')})`, legend: "{{pod}}" }] },
        { title: "Pods by phase", type: "stat", queries: [{ expr: `sum by (phase) (${scoped(namespace, "kube_pod_status_phase")} == 1)`, legend: "{{phase}}" }] },
    ];
    return dashboard("tenant-usage", "Your GPUs and pods", layout(specs, 2, 8, DATASOURCE), ["tenant", "usage"], [DATASOURCE_VARIABLE]);
}

/** The tenant's queues: what waits, what runs, how long admission takes. Positions come from the visibility API (see the description). */
export function tenantQueuesDashboard(namespace: string): Dashboard {
    const specs: PanelSpec[] = [
        {
            title: "Pending workloads per queue",
            type: "timeseries",
            description: `Positions: kubectl get --raw /apis/visibility.kueue.x-k8s.io/v1beta1/namespaces/${namespace}/localqueues/<queue>/pendingworkloads`,
            queries: [{ expr: `sum by (name, status) (${scoped(namespace, "kueue_local_queue_pending_workloads")})`, legend: "{{name}} {{status}}" }],
        },
        { title: "Admitted workloads running per queue", type: "timeseries", queries: [{ expr: `sum by (name) (${scoped(namespace, "kueue_local_queue_admitted_active_workloads")})`, legend: "{{name}}" }] },
        { title: "GPUs in use per queue", type: "timeseries", queries: [{ expr: `sum by (name, flavor) (${scoped(namespace, "kueue_local_queue_resource_usage", `resource="${GPU_RESOURCE}"`)})`, legend: "{{name}} on {{flavor}}" }] },
        {
            title: "Wait for admission, p90 over the last hour",
            type: "timeseries",
            unit: "s",
            queries: [{ expr: `histogram_quantile(0.9, sum by (le, name) (rate(${scoped(namespace, "kueue_local_queue_admission_wait_time_seconds_bucket")}[1h])))`, legend: "{{name}}" }],
        },
        { title: "Workloads evicted in the last 24 hours", type: "table", queries: [{ expr: `sum by (name, reason) (increase(${scoped(namespace, "kueue_local_queue_evicted_workloads_total")}[24h])) > 0`, legend: "{{name}} {{reason}}" }] },
    ];
    return dashboard("tenant-queues", "Your queues", layout(specs, 2, 8, DATASOURCE), ["tenant", "queues"], [DATASOURCE_VARIABLE]);
}

/** The tenant's hosted-model traffic through the gateway: requests, failures, tokens and latency per model. */
export function tenantModelsDashboard(namespace: string): Dashboard {
    const model = GEN_AI_METRICS.modelLabel;
    const specs: PanelSpec[] = [
        { title: "Requests per second per model", type: "timeseries", queries: [{ expr: `sum by (${model}) (${scoped(namespace, TENANT_GATEWAY_RECORDS.requests, 'error_type=""')})`, legend: `{{${model}}}` }] },
        { title: "Failed requests per second per model", type: "timeseries", queries: [{ expr: `sum by (${model}, error_type) (${scoped(namespace, TENANT_GATEWAY_RECORDS.requests, 'error_type!=""')})`, legend: `{{${model}}} {{error_type}}` }] },
        { title: "Tokens per second per model", type: "timeseries", queries: [{ expr: `sum by (${model}, gen_ai_token_type) (${scoped(namespace, TENANT_GATEWAY_RECORDS.tokens)})`, legend: `{{${model}}} {{gen_ai_token_type}}` }] },
        {
            title: "Latency per model",
            type: "timeseries",
            unit: "s",
            queries: [0.5, 0.95].map((q) => ({ expr: `histogram_quantile(${q}, sum by (le, ${model}) (${scoped(namespace, TENANT_GATEWAY_RECORDS.latencyBuckets)}))`, legend: `{{${model}}} p${q * 100}` })),
        },
    ];
    return dashboard("tenant-models", "Your hosted-model traffic", layout(specs, 2, 8, DATASOURCE), ["tenant", "models"], [DATASOURCE_VARIABLE]);
}

/** Every dashboard a tenant gets: usage and queues for a tenant with capacity, models for one granted models. */
export function tenantDashboards(namespace: string, opts: { queues: boolean; models: boolean }): Dashboard[] {
    return [tenantUsageDashboard(namespace), ...(opts.queues ? [tenantQueuesDashboard(namespace)] : []), ...(opts.models ? [tenantModelsDashboard(namespace)] : [])];
}
