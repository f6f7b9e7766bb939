import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { stackCapacity } from "../model/evidence/per-stack";
import { ALERTS, MONITORING_CHARTS, TAINT_KEYS } from "../model/domain/conventions";
import { MONITORING_TYPES, TYPES } from "../model/domain/types";
import { poolSamples as pools } from "../samples/pools";
import { sample } from "../samples/sample";

function releaseOf(args: { resources: PolicyResource[] }, chart: string): PolicyResource | undefined {
    return resourcesOfType(args as never, TYPES.helmRelease).find((r) => String(r.props.chart ?? "").split("/").pop() === chart);
}

const stack = sample(TYPES.helmRelease, "prometheus-stack", { chart: "kube-prometheus-stack", version: "75.15.0" });
const dcgm = (tolerations: unknown[]) => sample(TYPES.helmRelease, "dcgm-exporter", { chart: "dcgm-exporter", version: "4.1.1", values: { tolerations } });
const allTaints = [{ key: TAINT_KEYS.poolRole, operator: "Exists" }, { key: TAINT_KEYS.tenant, operator: "Exists" }];
const rules = (poolsWithAlert: string[]) =>
    sample(MONITORING_TYPES.prometheusRule, "rules", {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "compute-region", namespace: "observability" },
        spec: { groups: [{ name: "capacity", rules: poolsWithAlert.map((pool) => ({ alert: ALERTS.headroomBelowFloor, expr: "vector(1) < 4", labels: { pool } })) }] },
    });
const shared = [pools.nodeGroup("shared-h100", "shared", "p5.48xlarge", 2), pools.flavor("shared-h100", 0.2)];

export const regionMonitoringInPlace = stackPolicy({
    name: "region-monitoring-in-place",
    description: "The region runs the monitoring stack, the DCGM exporter on every GPU pool, and a headroom alert for every pool that keeps headroom.",
    rationale:
        "The headroom is a promise to the company's own workloads; without the alert nobody is paged before it is eaten. " +
        "Without the DCGM exporter, failing GPUs (XID, ECC) go unnoticed while tenants are billed for them.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep the Observability component in the region: it installs kube-prometheus-stack and the dcgm-exporter (tolerating the " +
        "GPU pool taints) and generates a GpuHeadroomBelowFloor rule per pool from the capacity model.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4", title: "System Monitoring" },
        { framework: "SOC 2 (2017 TSC)", control: "CC7.2", title: "Monitoring of system components for anomalies" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateStack: (args, report) => {
        // A tenant shard stack has no cluster of its own: its platform carries the monitoring.
        if (resourcesOfType(args, TYPES.eksCluster).length === 0 && !releaseOf(args, MONITORING_CHARTS.prometheusStack)) args.notApplicable("no cluster in this stack");
        const gpuPools = stackCapacity(args.resources);
        if (!releaseOf(args, MONITORING_CHARTS.prometheusStack)) report(`no ${MONITORING_CHARTS.prometheusStack} Helm release: the region has no Prometheus, Alertmanager or Grafana.`);
        if (gpuPools.length === 0) return;
        const exporter = releaseOf(args, MONITORING_CHARTS.dcgmExporter);
        if (!exporter) report(`no ${MONITORING_CHARTS.dcgmExporter} Helm release: GPU health of ${gpuPools.map((p) => p.pool).join(", ")} is not observed.`);
        else {
            const tolerated = new Set([exporter.props.values?.tolerations ?? []].flat().map((t: any) => (t?.operator === "Exists" && !t.key ? "*" : t?.key)));
            const missing = [TAINT_KEYS.poolRole, TAINT_KEYS.tenant].filter((k) => !tolerated.has(k) && !tolerated.has("*"));
            if (missing.length > 0) report(`the ${MONITORING_CHARTS.dcgmExporter} does not tolerate ${missing.join(", ")}, so it skips tainted GPU pools.`, exporter.urn);
        }
        const alerted = new Set<string>();
        for (const rule of resourcesOfType(args, MONITORING_TYPES.prometheusRule)) {
            for (const group of [rule.props.spec?.groups ?? []].flat()) {
                for (const r of [group?.rules ?? []].flat()) if (r?.alert === ALERTS.headroomBelowFloor && r.labels?.pool) alerted.add(r.labels.pool);
            }
        }
        for (const pool of gpuPools) {
            if (pool.headroomGpus > 0 && !alerted.has(pool.pool)) report(`pool ${pool.pool} keeps ${pool.headroomGpus} GPUs of headroom but has no ${ALERTS.headroomBelowFloor} alert.`);
        }
    },
    samples: {
        allowed: [
            { description: "Monitoring stack, DCGM exporter tolerating the pool taints, and the pool's headroom alert.", resources: [stack, dcgm(allTaints), rules(["shared-h100"]), ...shared] },
            { description: "A tenant shard stack (no cluster of its own; the platform monitors).", resources: [sample("kubernetes:core/v1:Namespace", "tenant-acme", { metadata: { name: "tenant-acme" } })] },
        ],
        disallowed: [
            { description: "A cluster with no monitoring stack at all.", expect: "no kube-prometheus-stack Helm release", resources: [sample(TYPES.eksCluster, "cluster", { name: "prod" }), dcgm(allTaints), rules(["shared-h100"]), ...shared] },
            { description: "No headroom alert for a pool.", expect: "pool shared-h100 keeps 4 GPUs of headroom but has no GpuHeadroomBelowFloor alert", resources: [stack, dcgm(allTaints), rules([]), ...shared] },
            { description: "A DCGM exporter that skips dedicated pools.", expect: "does not tolerate compute-region.io/tenant", resources: [stack, dcgm([allTaints[0]]), rules(["shared-h100"]), ...shared] },
            { description: "GPU pools with no DCGM exporter.", expect: "no dcgm-exporter Helm release", resources: [stack, rules(["shared-h100"]), ...shared] },
        ],
    },
});
