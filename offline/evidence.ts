import { capacityFromResources, DASHBOARD_LABEL, fromSnapshots, isolationFromResources, MONITORING_TYPES, Rehearsal, RegionIsolationEvidence, rehearse } from "compute-region-policies/model";
import type { ResourceSnapshot } from "compute-region-policies/engine";

/** What the plan derives from its resources for the summary, the JSON document and the report: computed once. */
export interface PlanEvidence {
    capacity: ReturnType<typeof capacityFromResources>;
    monitoring: ReturnType<typeof monitoringFromResources>;
    isolation: RegionIsolationEvidence;
    /** The first-`up` rehearsal: deploy waves, the critical path, the expected duration, the findings. */
    rehearsal: Rehearsal;
}

export function planEvidence(resources: readonly ResourceSnapshot[]): PlanEvidence {
    return { capacity: capacityFromResources(resources), monitoring: monitoringFromResources(resources), isolation: isolationFromResources(resources), rehearsal: rehearse(fromSnapshots(resources)) };
}

/** The alert rules (PrometheusRule objects) and dashboards (sidecar ConfigMaps) the plan would deploy. */
export function monitoringFromResources(resources: readonly ResourceSnapshot[]) {
    const rules: { group: string; alert: string; severity: string; for: string; pool: string }[] = [];
    for (const r of resources.filter((x) => x.type === MONITORING_TYPES.prometheusRule)) {
        for (const group of ((r.props.spec as { groups?: { name: string; rules: Record<string, any>[] }[] })?.groups ?? [])) {
            for (const rule of group.rules ?? []) {
                if (rule.alert) rules.push({ group: group.name, alert: rule.alert, severity: rule.labels?.severity ?? "", for: rule.for ?? "", pool: rule.labels?.pool ?? "" });
            }
        }
    }
    const dashboards: string[] = [];
    for (const r of resources.filter((x) => x.type === MONITORING_TYPES.configMap)) {
        const meta = r.props.metadata as { labels?: Record<string, string> } | undefined;
        if (meta?.labels?.[DASHBOARD_LABEL.key] !== DASHBOARD_LABEL.value) continue;
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

