import { ALERTS, burstClusterQueue, CAPACITY_BLOCK_SCALE_DOWN_MINUTES, GEN_AI_METRICS, GPU_RESOURCE, GUARDDUTY_AGENT, internalClusterQueue, ksmLabel, LABELS, NAMESPACES, parseInstant, PoolCapacity, PRIORITY_CLASS, Team, tenantGpuInUseQuery, usableWindow } from "compute-region-policies/model";

/**
 * A Prometheus alerting rule, as PrometheusRule and promtool both read it. Every rule of the region
 * carries a `team` and a `severity`: Alertmanager routes by them (components/alertmanager-config.ts).
 */
export interface AlertRule {
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string> & { severity: string; team: Team };
    annotations: Record<string, string>;
}

/** A Prometheus recording rule. */
export interface RecordingRule {
    record: string;
    expr: string;
    labels?: Record<string, string>;
}

export interface RuleGroup {
    name: string;
    /** How often the group is evaluated (default: Prometheus' global evaluation interval). */
    interval?: string;
    rules: (AlertRule | RecordingRule)[];
}

/** The alerting rules of groups (their recording rules left out). */
export function alertRulesOf(groups: readonly RuleGroup[]): AlertRule[] {
    return groups.flatMap((g) => g.rules.filter((r): r is AlertRule => "alert" in r));
}

/** Default home of the runbooks (docs/runbooks.md); stacks point `observability.runbookBaseUrl` at their copy. */
export const DEFAULT_RUNBOOK_BASE = "https://github.com/compute-region/compute-region/blob/main/docs/runbooks.md";

const POOL_LABEL = ksmLabel(LABELS.pool);
/** kube-state-metrics spells the extended resource with underscores. */
export const KSM_GPU_RESOURCE = GPU_RESOURCE.replace(/[./]/g, "_");
const KSM_GPU = KSM_GPU_RESOURCE;

/** GPUs allocatable on a pool's nodes right now. */
export function poolAllocatableExpr(pool: string): string {
    return `sum(kube_node_status_allocatable{resource="${KSM_GPU}"} * on(node) group_left() kube_node_labels{${POOL_LABEL}="${pool}"})`;
}

/** The queues of a pool that hold sold quota: all but its internal and burst queues. */
export function soldQueuesMatcher(pool: string): string {
    return `cluster_queue!~"${internalClusterQueue(pool)}|${burstClusterQueue(pool)}"`;
}

/** GPUs tenants' queues have admitted on a pool (Kueue): everything but the pool's internal and burst queues. */
export function poolTenantUsageExpr(pool: string): string {
    return `sum(kueue_cluster_queue_resource_usage{flavor="${pool}",resource="${GPU_RESOURCE}",${soldQueuesMatcher(pool)}})`;
}

/**
 * The region's GPU alert rules. Thresholds come from the capacity model: a pool's headroom alert
 * fires when what tenants leave on its live nodes drops below the pool's headroom in GPUs.
 */
export function gpuAlertRules(pools: readonly PoolCapacity[], runbookBase = DEFAULT_RUNBOOK_BASE, capacityBlockWarningDays = DEFAULT_CAPACITY_BLOCK_WARNING_DAYS): RuleGroup[] {
    const runbook = (alert: string) => `${runbookBase}#${alert.toLowerCase()}`;
    const capacity: AlertRule[] = [];
    for (const pool of pools) {
        const ending = pool.window && capacityBlockEndingRule(pool.pool, pool.window, capacityBlockWarningDays, pool.guaranteed, runbook(ALERTS.capacityBlockEnding));
        if (ending) capacity.push(ending);
        if (pool.headroomGpus > 0) {
            capacity.push({
                alert: ALERTS.headroomBelowFloor,
                expr: `((${poolAllocatableExpr(pool.pool)} or vector(0)) - (${poolTenantUsageExpr(pool.pool)} or vector(0))) < ${pool.headroomGpus}${pool.window ? ` and on() ${insideWindowExpr(pool.window)}` : ""}`,
                for: "10m",
                labels: { severity: "critical", team: "capacity", pool: pool.pool, role: pool.role },
                annotations: {
                    summary: `Internal GPU headroom of pool ${pool.pool} is below its floor of ${pool.headroomGpus} GPUs`,
                    description: `GPUs on ${pool.pool}'s live nodes not taken by tenant queues fell below ${pool.headroomGpus} (of ${pool.guaranteed} guaranteed): nodes are missing or tenants are over their reservation.`,
                    runbook_url: runbook(ALERTS.headroomBelowFloor),
                },
            });
        }
        if (pool.role === "shared" && pool.sellable > 0) {
            capacity.push({
                alert: ALERTS.poolSoldOut,
                expr: `(${pool.sellable} - (sum(kueue_cluster_queue_nominal_quota{flavor="${pool.pool}",resource="${GPU_RESOURCE}",${soldQueuesMatcher(pool.pool)}}) or vector(0))) <= 0`,
                for: "1h",
                labels: { severity: "warning", team: "capacity", pool: pool.pool, role: pool.role },
                annotations: {
                    summary: `Pool ${pool.pool} has no GPUs left to sell (${pool.sellable} sellable)`,
                    description: `Every sellable GPU of ${pool.pool} is reserved by tenants: add nodes (minNodes) before selling more.`,
                    runbook_url: runbook(ALERTS.poolSoldOut),
                },
            });
        }
    }
    const health: AlertRule[] = [
        {
            alert: ALERTS.xidError,
            expr: "max by (Hostname, gpu, modelName, node) (DCGM_FI_DEV_XID_ERRORS) > 0",
            for: "0m",
            labels: { severity: "critical", team: "capacity" },
            annotations: { summary: "A GPU reported an XID error", description: "DCGM reports a non-zero XID on this GPU: drain the node and check the XID against NVIDIA's table.", runbook_url: runbook(ALERTS.xidError) },
        },
        {
            alert: ALERTS.eccDoubleBit,
            expr: "max by (Hostname, gpu, modelName, node) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m])) > 0",
            for: "0m",
            labels: { severity: "critical", team: "capacity" },
            annotations: { summary: "A GPU had uncorrectable (double-bit) ECC errors", description: "Uncorrectable memory errors corrupt results: cordon and drain the node, and replace the instance.", runbook_url: runbook(ALERTS.eccDoubleBit) },
        },
        {
            alert: ALERTS.gpuNodeNotReady,
            expr: `max by (node, ${POOL_LABEL}) (kube_node_status_condition{condition="Ready",status="true"} * on(node) group_left(${POOL_LABEL}) kube_node_labels{${POOL_LABEL}!=""}) == 0`,
            for: "5m",
            labels: { severity: "critical", team: "capacity" },
            annotations: { summary: "A GPU node is NotReady", description: "The node's GPUs are lost to its pool until it recovers or is replaced.", runbook_url: runbook(ALERTS.gpuNodeNotReady) },
        },
        {
            alert: ALERTS.dcgmExporterDown,
            expr: 'up{job="dcgm-exporter"} == 0 or absent(up{job="dcgm-exporter"})',
            for: "10m",
            labels: { severity: "warning", team: "capacity" },
            annotations: { summary: "The DCGM exporter is down", description: "GPU health (XID, ECC) is not being observed on at least one node.", runbook_url: runbook(ALERTS.dcgmExporterDown) },
        },
    ];
    return [
        { name: "compute-region.gpu-capacity", rules: capacity },
        { name: "compute-region.gpu-health", rules: health },
    ];
}

/** Present (one sample) only while the clock is inside a Capacity Block's window, until EKS scales its group to zero. */
export function insideWindowExpr(window: { startsAt: string; endsAt: string }): string {
    // An unparseable bound counts as the epoch, as config has already refused it.
    const { start = 0, usableEnd = -CAPACITY_BLOCK_SCALE_DOWN_MINUTES * 60_000 } = usableWindow(window);
    return `((vector(time()) >= ${Math.floor(start / 1000)}) < ${Math.floor(usableEnd / 1000)})`;
}

/** Days before a Capacity Block ends that its alert fires, unless the stack says otherwise. */
export const DEFAULT_CAPACITY_BLOCK_WARNING_DAYS = 7;

/**
 * A Capacity Block pool's expiry alert: it fires from `warningDays` before the block ends until the
 * end, on the clock alone (the window is config, not a metric), so it needs no series to fire.
 */
export function capacityBlockEndingRule(pool: string, window: { startsAt: string; endsAt: string }, warningDays: number, gpus: number, runbookUrl: string): AlertRule | undefined {
    const end = parseInstant(window.endsAt);
    if (!end) return undefined;
    const endSeconds = Math.floor(end.getTime() / 1000);
    const warnFrom = endSeconds - warningDays * 86_400;
    return {
        alert: ALERTS.capacityBlockEnding,
        expr: `(vector(time()) >= ${warnFrom}) < ${endSeconds}`,
        labels: { severity: "warning", team: "capacity", pool },
        annotations: {
            summary: `The Capacity Block of pool ${pool} ends at ${window.endsAt} (in ${warningDays} days or less)`,
            description: `EKS scales ${pool} to zero ${CAPACITY_BLOCK_SCALE_DOWN_MINUTES} minutes before the block ends and its ${gpus} GPUs go: buy the next block and set its window, or move the work and end the tenants' reserved quota on the pool before then.`,
            runbook_url: runbookUrl,
        },
    };
}

/** Tenant alerts: a tenant at 90% or more of its reserved GPU quota on a pool (a sales signal, not an incident). */
export function tenantAlertRules(runbookBase = DEFAULT_RUNBOOK_BASE): RuleGroup[] {
    const tenantQueues = `resource="${GPU_RESOURCE}",cluster_queue!~"(internal|burst)-.*"`;
    return [
        {
            name: "compute-region.tenants",
            rules: [
                {
                    alert: ALERTS.tenantQuotaNearLimit,
                    expr: `(sum by (cluster_queue, flavor) (kueue_cluster_queue_resource_usage{${tenantQueues}}) / sum by (cluster_queue, flavor) (kueue_cluster_queue_nominal_quota{${tenantQueues}} > 0)) >= 0.9`,
                    for: "30m",
                    labels: { severity: "info", team: "capacity" },
                    annotations: {
                        summary: "A tenant uses 90% or more of its reserved GPU quota on a pool",
                        description: "The tenant's next workloads on this pool will queue (or run as spot): a signal to offer more reserved capacity.",
                        runbook_url: `${runbookBase}#${ALERTS.tenantQuotaNearLimit.toLowerCase()}`,
                    },
                },
            ],
        },
    ];
}

/** Billing alert: a metering window has not been written (the hourly job has not succeeded for two hours). */
export function billingAlertRules(runbookBase = DEFAULT_RUNBOOK_BASE): RuleGroup[] {
    return [
        {
            name: "compute-region.billing",
            rules: [
                {
                    alert: ALERTS.meteringWindowMissed,
                    expr: '(time() - max(kube_cronjob_status_last_successful_time{namespace="billing",cronjob="metering"})) > 7200 or absent(kube_cronjob_status_last_successful_time{namespace="billing",cronjob="metering"})',
                    for: "15m",
                    labels: { severity: "critical", team: "billing" },
                    annotations: {
                        summary: "A metering window has not been written",
                        description: "The metering CronJob has not succeeded for over two hours: usage of the missed windows is not recorded yet (the next successful run fills the last three windows).",
                        runbook_url: `${runbookBase}#${ALERTS.meteringWindowMissed.toLowerCase()}`,
                    },
                },
                {
                    alert: ALERTS.tenantGpuUseBeyondPurchase,
                    expr: tenantUseBeyondPurchaseExpr(),
                    for: "10m",
                    labels: { severity: "warning", team: "billing" },
                    annotations: {
                        summary: "A tenant uses more GPUs than it bought, not at the spot priority",
                        description:
                            "{{ $labels.cluster_queue }} runs {{ $value }} GPUs at a priority other than spot, more than its reserved quota: Kueue should have admitted them only as spot. Metering records the excess as unsold (never billed).",
                        runbook_url: `${runbookBase}#${ALERTS.tenantGpuUseBeyondPurchase.toLowerCase()}`,
                    },
                },
            ],
        },
    ];
}

/**
 * GPUs a tenant runs on a pool at any priority but spot, above what its ClusterQueue holds as
 * reserved quota (`<tenant>-<pool>`, what it bought): the same use metering reads, joined to Kueue's
 * nominal quota by the queue's name; use on a pool where the tenant has no queue at all counts too.
 */
export function tenantUseBeyondPurchaseExpr(): string {
    const pool = ksmLabel(LABELS.pool);
    const used = `sum by (cluster_queue) (label_join(label_replace(${tenantGpuInUseQuery(`priority_class!="${PRIORITY_CLASS.tenantSpot}"`)}, "tenant", "$1", "namespace", "tenant-(.+)"), "cluster_queue", "-", "tenant", "${pool}"))`;
    const bought = `sum by (cluster_queue) (kueue_cluster_queue_nominal_quota{resource="${GPU_RESOURCE}"})`;
    return `(${used} > on (cluster_queue) ${bought}) or (${used} unless on (cluster_queue) ${bought})`;
}

/**
 * Serving alerts per model: waiting requests over the model's target (a scaling signal), and, for a
 * model without a latency objective, p95 latency over its target (an objective's burn-rate alerts
 * supersede that fixed threshold: components/slo-rules.ts).
 */
export function servingAlertRules(models: readonly { name: string; targets: { queueDepth: number; p95LatencySeconds: number } }[], runbookBase = DEFAULT_RUNBOOK_BASE, withLatencyObjective: ReadonlySet<string> = new Set()): RuleGroup[] {
    const rules: AlertRule[] = models.flatMap((m): AlertRule[] => [
        {
            alert: ALERTS.modelQueueDepth,
            expr: `sum(vllm:num_requests_waiting{model_name="${m.name}"}) / clamp_min(count(vllm:num_requests_running{model_name="${m.name}"}), 1) > ${m.targets.queueDepth}`,
            for: "10m",
            labels: { severity: "warning", team: "serving", model: m.name },
            annotations: { summary: `Model ${m.name} has more than ${m.targets.queueDepth} waiting requests per replica`, description: "Autoscaling has not caught up (at max replicas, or the serving pool is full).", runbook_url: `${runbookBase}#${ALERTS.modelQueueDepth.toLowerCase()}` },
        },
        ...(withLatencyObjective.has(m.name) ? [] : [{
            alert: ALERTS.modelLatency as string,
            expr: `histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{model_name="${m.name}"}[5m]))) > ${m.targets.p95LatencySeconds}`,
            for: "10m",
            labels: { severity: "warning", team: "serving", model: m.name },
            annotations: { summary: `Model ${m.name}'s p95 latency is over ${m.targets.p95LatencySeconds}s`, description: "Requests queue or generation slowed down: check queue depth, GPU health and replicas.", runbook_url: `${runbookBase}#${ALERTS.modelLatency.toLowerCase()}` },
        } satisfies AlertRule]),
    ]);
    return [{ name: "compute-region.serving", rules }];
}

/**
 * The hosted-model gateway: down (no Envoy replica available: every tenant is cut off, and with no
 * proxy there are no request metrics for an objective to burn on) and, where availability
 * objectives do not supersede it, failing (more than 5% of a model's requests end in an error).
 */
export function gatewayAlertRules(runbookBase = DEFAULT_RUNBOOK_BASE, availabilityObjectives = false): RuleGroup[] {
    const requests = "gen_ai_server_request_duration_seconds_count";
    return [
        {
            name: "compute-region.gateway",
            rules: [
                {
                    alert: ALERTS.gatewayDown,
                    expr: `(sum(kube_deployment_status_replicas_available{namespace="${NAMESPACES.gateway}"}) or vector(0)) < 1`,
                    for: "3m",
                    labels: { severity: "critical", team: "serving" },
                    annotations: { summary: "No gateway replica is available: the hosted-model API is down", description: "Check the Envoy pods in the gateway namespace, Envoy Gateway's controller and the NLB's targets.", runbook_url: `${runbookBase}#${ALERTS.gatewayDown.toLowerCase()}` },
                },
                ...(availabilityObjectives ? [] : [{
                    alert: ALERTS.gatewayErrors,
                    expr: `sum by (${GEN_AI_METRICS.modelLabel}) (rate(${requests}{error_type!=""}[10m])) / sum by (${GEN_AI_METRICS.modelLabel}) (rate(${requests}[10m])) > 0.05`,
                    for: "10m",
                    labels: { severity: "warning", team: "serving" },
                    annotations: { summary: "More than 5% of a model's gateway requests fail", description: "The model server errors or times out, or its backend is unreachable: see error_type on the serving dashboard.", runbook_url: `${runbookBase}#${ALERTS.gatewayErrors.toLowerCase()}` },
                } satisfies AlertRule]),
            ],
        },
    ];
}

/**
 * The alert pipeline's own heartbeat: always firing, routed to a dead man's switch that alarms when
 * the beat stops (Prometheus, Alertmanager or the way out to the receivers is down). The chart's own
 * Watchdog is disabled in its favour (components/observability.ts), so there is one, carrying the
 * region's labels.
 */
export function pipelineAlertRules(runbookBase = DEFAULT_RUNBOOK_BASE): RuleGroup[] {
    return [
        {
            name: "compute-region.pipeline",
            rules: [
                {
                    alert: ALERTS.watchdog,
                    expr: "vector(1)",
                    labels: { severity: "none", team: "capacity" },
                    annotations: {
                        summary: "The alert pipeline is working (always firing)",
                        description: "Delivered to the heartbeat receiver every minute; the heartbeat service alarms when it stops arriving.",
                        runbook_url: `${runbookBase}#${ALERTS.watchdog.toLowerCase()}`,
                    },
                },
            ],
        },
    ];
}

/**
 * Threat detection at run time: fewer GuardDuty agents ready than the cluster has nodes (a node the
 * agent does not tolerate, one it cannot start on, or the add-on degraded) for half an hour.
 */
export function securityAlertRules(runbookBase = DEFAULT_RUNBOOK_BASE): RuleGroup[] {
    const ready = `kube_daemonset_status_number_ready{namespace="${GUARDDUTY_AGENT.namespace}",daemonset="${GUARDDUTY_AGENT.daemonSet}"}`;
    return [
        {
            name: "compute-region.security",
            rules: [
                {
                    alert: ALERTS.guardDutyAgentMissing,
                    expr: `count(kube_node_info) > (sum(${ready}) or vector(0))`,
                    for: "30m",
                    labels: { severity: "warning", team: "security" },
                    annotations: {
                        summary: "Some nodes run no GuardDuty agent: runtime threat detection misses them",
                        description: "Fewer GuardDuty agent pods are ready than the cluster has nodes. Check the agent DaemonSet's tolerations (the region patches them), its pods' events and the add-on's health.",
                        runbook_url: `${runbookBase}#${ALERTS.guardDutyAgentMissing.toLowerCase()}`,
                    },
                },
            ],
        },
    ];
}
