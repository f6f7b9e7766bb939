import { AmConfig, AutoscalingEvidence, autoscalingFromResources, capacityFromResources, DASHBOARD_LABEL, fromSnapshots, guaranteedAt, isolationFromResources, MONITORING_CHARTS, MONITORING_TYPES, Rehearsal, RegionIsolationEvidence, rehearse, routeAlert, TENANT_DASHBOARDS, TYPES, windowPhase, WindowPhase } from "compute-region-policies/model";
import type { ResourceSnapshot } from "compute-region-policies/engine";

/** What the plan derives from its resources for the summary, the JSON document and the report: computed once. */
/** A pool's capacity row, with what it guarantees at the plan's date (a Capacity Block only inside its window). */
export type CapacityRow = ReturnType<typeof capacityFromResources>[number] & { countedAt: string; guaranteedAt: number; windowPhase?: WindowPhase };

export interface PlanEvidence {
    capacity: CapacityRow[];
    /** How capacity moves: each node group's bounds, version and repair; the autoscaler; the node monitoring agent. */
    autoscaling: AutoscalingEvidence;
    monitoring: ReturnType<typeof monitoringFromResources>;
    isolation: RegionIsolationEvidence;
    /** The first-`up` rehearsal: deploy waves, the critical path, the expected duration, the findings. */
    rehearsal: Rehearsal;
}

/** `at`: the date capacity is counted at (the plan's `--at`, else now). */
export function planEvidence(resources: readonly ResourceSnapshot[], at: Date = new Date()): PlanEvidence {
    const capacity = capacityFromResources(resources).map((pool) => ({
        ...pool,
        countedAt: at.toISOString(),
        guaranteedAt: guaranteedAt(pool, at),
        ...(pool.window ? { windowPhase: windowPhase(pool.window, at) } : {}),
    }));
    return { capacity, autoscaling: autoscalingFromResources(resources), monitoring: monitoringFromResources(resources), isolation: isolationFromResources(resources), rehearsal: rehearse(fromSnapshots(resources)) };
}

/**
 * The alert rules (PrometheusRule objects) the plan would deploy, each with the receivers
 * Alertmanager's configuration (the Prometheus stack's values) routes it to, and the dashboards
 * (sidecar ConfigMaps).
 */
export function monitoringFromResources(resources: readonly ResourceSnapshot[]) {
    const release = resources.find((r) => r.type === TYPES.helmRelease && String(r.props.chart ?? "").split("/").pop() === MONITORING_CHARTS.prometheusStack);
    const alertmanager = (release?.props.values as { alertmanager?: { config?: AmConfig } } | undefined)?.alertmanager?.config;
    const rules: { group: string; alert: string; severity: string; team: string; for: string; pool: string; model: string; slo: string; receivers: string[] }[] = [];
    for (const r of resources.filter((x) => x.type === MONITORING_TYPES.prometheusRule)) {
        for (const group of ((r.props.spec as { groups?: { name: string; rules: Record<string, any>[] }[] })?.groups ?? [])) {
            for (const rule of group.rules ?? []) {
                if (!rule.alert) continue;
                const receivers = alertmanager?.route ? [...new Set(routeAlert(alertmanager.route, { ...rule.labels, alertname: rule.alert }).map((d) => d.receiver))] : [];
                rules.push({ group: group.name, alert: rule.alert, severity: rule.labels?.severity ?? "", team: rule.labels?.team ?? "", for: rule.for ?? "", pool: rule.labels?.pool ?? "", model: rule.labels?.model ?? "", slo: rule.labels?.slo ?? "", receivers });
            }
        }
    }
    const dashboards: string[] = [];
    for (const r of resources.filter((x) => x.type === MONITORING_TYPES.configMap)) {
        const meta = r.props.metadata as { labels?: Record<string, string> } | undefined;
        if (meta?.labels?.[DASHBOARD_LABEL.key] !== DASHBOARD_LABEL.value) continue;
        // A tenant's own dashboards, in its namespace, are not the region's.
        if (meta.labels[TENANT_DASHBOARDS.label] === "true") continue;
        for (const json of Object.values((r.props.data as Record<string, string>) ?? {})) {
            try {
                dashboards.push(JSON.parse(json).title);
            } catch {
                dashboards.push(`(invalid JSON in ${r.name})`);
            }
        }
    }
    return { rules, dashboards };
}

