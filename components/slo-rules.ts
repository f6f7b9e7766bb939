import {
    BURN_RATE_WINDOWS,
    burnCondition,
    burnRate,
    ENVOY_GATEWAY_STATS,
    GATEWAY,
    GEN_AI_FAILURE,
    GEN_AI_HISTOGRAMS,
    GEN_AI_METRICS,
    GPU_RESOURCE,
    ksmLabel,
    LABELS,
    leMatcher,
    PoolCapacity,
    recordedRange,
    SLO_ALERT,
    SLO_ERROR_WINDOWS,
    SLO_LABEL,
    SLO_RECORDS,
    SLO_RULE_INTERVAL,
    SloSpec,
} from "compute-region-policies/model";
import { AlertRule, DEFAULT_RUNBOOK_BASE, insideWindowExpr, KSM_GPU_RESOURCE, RecordingRule, RuleGroup, soldQueuesMatcher } from "./alert-rules";

/**
 * Service level objectives as Prometheus rules: per objective, one group that records its good and
 * valid events (by tenant where the indicator knows it), its error ratio over every window the
 * workbook's alerts read, and the two multiwindow, multi-burn-rate alerts (a page and a ticket); and
 * one group that records each objective's attainment and remaining budget over its whole window.
 *
 * Prometheus 2.x and 3.x: request indicators are rates of counters (the same in both, as `rate`
 * extrapolates to the range's bounds); the pool indicator and the window-long figures are sums over
 * recorded series, whose ranges are cut half an evaluation short (`recordedRange`) so that 3.x's
 * left-open ranges and 2.x's closed ones hold the same samples; histogram buckets are matched as both
 * versions write `le` ("1" and "1.0").
 */

const gateway = ENVOY_GATEWAY_STATS;

/** The rates of good and of valid events over a window, by tenant where the indicator knows it. */
interface Indicator {
    good: (window: string) => string;
    valid: (window: string) => string;
    /** Whether the rates are of counters (requests); otherwise they are gauges read at each evaluation (GPUs). */
    counted: boolean;
    /** The tenant the whole indicator belongs to (a dedicated pool's). */
    tenant?: string;
}

/** Envoy's listener for the gateway's Envoy container port (components/model-gateway.ts). */
export const GATEWAY_LISTENER_PORT = 10443;

function indicatorOf(slo: SloSpec, pools: readonly PoolCapacity[]): Indicator {
    const byTenant = (expr: string) => `sum by (${GATEWAY.tenantLabel}) (${expr})`;
    const model = slo.target ? `${GEN_AI_METRICS.modelLabel}="${slo.target}"` : "";
    const sel = (...matchers: string[]) => `{${matchers.filter(Boolean).join(",")}}`;
    switch (slo.indicator) {
        case "availability": {
            if (slo.service === "gateway") {
                const listener = `${gateway.listenerPrefixLabel}="${gateway.listenerPrefix(GATEWAY_LISTENER_PORT)}"`;
                // Every response the listener sent, less the requests the tenants' own rate limits refused.
                const valid = (w: string) => `(sum(rate(${gateway.completed}{${listener}}[${w}])) - (sum(rate(${gateway.rateLimited}[${w}])) or vector(0)))`;
                const failed = (w: string) => `(sum(rate(${gateway.byClass}{${listener},${gateway.classLabel}="5"}[${w}])) or vector(0))`;
                return { good: (w) => `(${valid(w)} - ${failed(w)})`, valid, counted: true };
            }
            const requests = `${GEN_AI_HISTOGRAMS.requestDuration.name}_count`;
            return {
                good: (w) => byTenant(`rate(${requests}${sel(model, `${GEN_AI_FAILURE.label}=""`)}[${w}])`),
                valid: (w) => byTenant(`rate(${requests}${sel(model)}[${w}])`),
                counted: true,
            };
        }
        case "latency": {
            const latency = slo.latency!;
            const histogram = GEN_AI_HISTOGRAMS[latency.metric];
            // A request's duration counts for successful requests only: failures are the availability objective's.
            const success = latency.metric === "requestDuration" ? `${GEN_AI_FAILURE.label}=""` : "";
            return {
                good: (w) => byTenant(`rate(${histogram.name}_bucket${sel(model, success, `le=~"${leMatcher(latency.thresholdSeconds)}"`)}[${w}])`),
                valid: (w) => byTenant(`rate(${histogram.name}_count${sel(model, success)}[${w}])`),
                counted: true,
            };
        }
        case "gpu-availability": {
            const pool = slo.target!;
            const capacity = pools.find((p) => p.pool === pool);
            const inWindow = capacity?.window ? ` and on() ${insideWindowExpr(capacity.window)}` : "";
            // GPUs on Ready, schedulable nodes of the pool, and GPUs its tenants bought (their queues' quota).
            const healthy = `sum((kube_node_status_allocatable{resource="${KSM_GPU_RESOURCE}"} * on(node) group_left() kube_node_labels{${ksmLabel(LABELS.pool)}="${pool}"}) and on(node) (kube_node_status_condition{condition="Ready",status="true"} == 1) and on(node) (kube_node_spec_unschedulable == 0))`;
            const sold = `sum(kueue_cluster_queue_nominal_quota{flavor="${pool}",resource="${GPU_RESOURCE}",${soldQueuesMatcher(pool)}})${inWindow}`;
            return { good: () => `((${healthy} or vector(0)) < ${sold}) or ${sold}`, valid: () => sold, counted: false, tenant: slo.tenant };
        }
    }
}

/**
 * Each objective's rules: a group recording its events and error ratios and alerting on its burn,
 * evaluated every minute, and a group recording its attainment and budget over its whole window from
 * the recorded rates (a few series per objective and tenant, not the raw ones), every five minutes.
 * Kept per objective (components/observability.ts makes one PrometheusRule of each), so adding a model
 * adds its objectives' objects and changes no other.
 */
export function sloRuleSets(slos: readonly SloSpec[], pools: readonly PoolCapacity[], runbookBase = DEFAULT_RUNBOOK_BASE): { slo: string; groups: RuleGroup[] }[] {
    return slos.map((slo) => {
        const indicator = indicatorOf(slo, pools);
        const labels = { [SLO_LABEL]: slo.name, ...(indicator.tenant ? { [GATEWAY.tenantLabel]: indicator.tenant } : {}) };
        const sel = `{${SLO_LABEL}="${slo.name}"}`;
        const recordings: RecordingRule[] = [
            // Every tenant with valid events has a good series too (zero when none was good), so a total failure is a ratio of 0, not no data.
            { record: SLO_RECORDS.good, expr: `${indicator.good("5m")} or (0 * ${indicator.valid("5m")})`, labels },
            { record: SLO_RECORDS.valid, expr: indicator.valid("5m"), labels },
            ...SLO_ERROR_WINDOWS.map((window) => ({
                record: SLO_RECORDS.errorRatio(window),
                expr: indicator.counted
                    ? `1 - ((sum(${indicator.good(window)}) or vector(0)) / sum(${indicator.valid(window)}))`
                    : `1 - (sum(sum_over_time(${SLO_RECORDS.good}${sel}[${recordedRange(window)}])) / sum(sum_over_time(${SLO_RECORDS.valid}${sel}[${recordedRange(window)}])))`,
                labels: { [SLO_LABEL]: slo.name },
            })),
            { record: SLO_RECORDS.objective, expr: `vector(${slo.objective})`, labels: { [SLO_LABEL]: slo.name } },
        ];
        const alert = (severity: "critical" | "warning"): AlertRule => {
            const windows = BURN_RATE_WINDOWS.filter((w) => w.severity === severity);
            return {
                alert: SLO_ALERT,
                expr: windows.map((w) => burnCondition(slo.name, w, slo.objective, slo.windowDays)).join(" or "),
                labels: { severity, team: slo.team, [SLO_LABEL]: slo.name, service: slo.service, ...(slo.target ? { [slo.service]: slo.target } : {}) },
                annotations: {
                    summary: `${slo.name} is burning its error budget ${severity === "critical" ? "fast" : "steadily"}`,
                    description:
                        `${slo.description} over ${slo.windowDays} days. ` +
                        windows.map((w) => `Over the last ${w.long} and ${w.short} it failed more than ${burnRate(w, slo.windowDays)} times the sustainable rate (${(w.budgetSpent * 100).toFixed(0)}% of the budget in ${w.long})`).join("; or ") +
                        ".",
                    runbook_url: `${runbookBase}#${SLO_ALERT.toLowerCase()}`,
                },
            };
        };
        const range = recordedRange(`${slo.windowDays}d`);
        const windowLabels = { [SLO_LABEL]: slo.name, window: `${slo.windowDays}d` };
        const over = (by: string) => `sum by (${by}) (sum_over_time(${SLO_RECORDS.good}${sel}[${range}])) / sum by (${by}) (sum_over_time(${SLO_RECORDS.valid}${sel}[${range}]))`;
        const attainment: RecordingRule[] = [
            { record: SLO_RECORDS.attainment, expr: over(SLO_LABEL), labels: windowLabels },
            { record: SLO_RECORDS.tenantAttainment, expr: over(`${SLO_LABEL}, ${GATEWAY.tenantLabel}`), labels: windowLabels },
            { record: SLO_RECORDS.budgetRemaining, expr: `1 - (1 - ${SLO_RECORDS.attainment}${sel}) / ${Number((1 - slo.objective).toPrecision(6))}`, labels: windowLabels },
        ];
        return {
            slo: slo.name,
            groups: [
                { name: `compute-region.slo.${slo.name}`, interval: SLO_RULE_INTERVAL, rules: [...recordings, alert("critical"), alert("warning")] },
                { name: `compute-region.slo-attainment.${slo.name}`, interval: "5m", rules: attainment },
            ],
        };
    });
}

/** Every objective's rule groups, in one list. */
export function sloRuleGroups(slos: readonly SloSpec[], pools: readonly PoolCapacity[], runbookBase = DEFAULT_RUNBOOK_BASE): RuleGroup[] {
    return sloRuleSets(slos, pools, runbookBase).flatMap((set) => set.groups);
}
