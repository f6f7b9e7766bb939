import { beforeAll, describe, expect, it } from "vitest";
import { MONITORING_TYPES, TYPES } from "compute-region-policies/model";
import type { OfflinePlanResult } from "../offline/harness";
import { monitoringFromResources } from "../offline/evidence";
import { ofType, one, plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const release = (name: string) => ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.name === name)!;

describe("observability", () => {
    it("installs kube-prometheus-stack with retention, persistent storage and a Grafana password that never enters Helm values", () => {
        const stack = release("kube-prometheus-stack");
        const spec = stack.props.values.prometheus.prometheusSpec;
        // The dev stack keeps more than its objectives' 30-day window (compute-region:observability).
        expect(spec.retention).toBe("35d");
        expect(spec.storageSpec.volumeClaimTemplate.spec).toMatchObject({ storageClassName: "gp3-encrypted", resources: { requests: { storage: "100Gi" } } });
        expect(stack.props.values.grafana.admin).toEqual({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
        expect(JSON.stringify(stack.props.values)).not.toMatch(/adminPassword/);
        expect(one(dev.resources, "random:index/randomPassword:RandomPassword", "dev-observability-grafana-admin").props.length).toBe(32);
    });

    it("exposes tenant and pool labels through kube-state-metrics", () => {
        const ksm = release("kube-prometheus-stack").props.values["kube-state-metrics"];
        expect(ksm.metricLabelsAllowlist).toEqual(["namespaces=[compute-region.io/tenant,compute-region.io/namespace-kind]", "nodes=[compute-region.io/pool,compute-region.io/role,compute-region.io/gpu-model,compute-region.io/tenant]"]);
    });

    it("runs the DCGM exporter on every GPU pool, with its ServiceMonitor", () => {
        const dcgm = release("dcgm-exporter");
        expect(dcgm.props.values.serviceMonitor.enabled).toBe(true);
        expect(dcgm.props.values.tolerations.map((t: { key: string }) => t.key).sort()).toEqual(["compute-region.io/pool-role", "compute-region.io/tenant"]);
    });

    it("scrapes Kueue", () => {
        const monitors = ofType(dev.resources, MONITORING_TYPES.serviceMonitor).map((m) => m.props.spec.namespaceSelector?.matchNames);
        expect(monitors).toContainEqual(["kueue-system"]);
    });

    it("admits no traffic into the observability namespace from other namespaces", () => {
        const np = ofType(dev.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => p.props.metadata.namespace === "observability")!;
        expect(np.props.spec.podSelector).toEqual({});
        expect(np.props.spec.policyTypes).toEqual(["Ingress"]);
        expect(np.props.spec.ingress).toEqual([
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } } }] },
            // The metering job reads Prometheus, and nothing else of the namespace.
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "billing" } } }], ports: [{ protocol: "TCP", port: 9090 }] },
            // KEDA reads the models' queue depth from Prometheus.
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } } }], ports: [{ protocol: "TCP", port: 9090 }] },
        ]);
    });

    it("creates the CloudWatch log groups first, with retention and the cluster key", () => {
        const groups = ofType(dev.resources, TYPES.logGroup).filter((g) => String(g.props.name).startsWith("/aws/containerinsights/"));
        expect(groups.map((g) => g.props.name).sort()).toEqual(["application", "dataplane", "host", "performance"].map((k) => `/aws/containerinsights/gpu-dev-use2/${k}`));
        const key = one(dev.resources, TYPES.kmsKey, "dev-cluster-secrets");
        for (const g of groups) {
            expect(g.props.retentionInDays).toBe(365);
            expect(g.dependencies).toContain(key.urn);
        }
        const addon = ofType(dev.resources, TYPES.eksAddon).find((a) => a.props.addonName === "amazon-cloudwatch-observability")!;
        for (const g of groups) expect(addon.opts?.dependsOn).toContain(g.urn);
    });

    it("lists the alert rules and dashboards it would deploy, with a headroom alert per pool", () => {
        const { rules, dashboards } = monitoringFromResources(dev.resources);
        expect(rules.filter((r) => r.alert === "GpuHeadroomBelowFloor").map((r) => r.pool).sort()).toEqual(["internal-l40s", "serving-l40s", "shared-l40s"]);
        expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(["GpuXidError", "GpuEccDoubleBitError", "GpuNodeNotReady", "DcgmExporterDown", "GpuPoolSoldOut"]));
        expect(dashboards).toEqual(["Region GPU capacity", "GPU health", "Billing and metering", "Model serving", "Service level objectives"]);
        // The operators' dashboards (tenants' own are in their namespaces).
        const maps = ofType(dev.resources, MONITORING_TYPES.configMap).filter((c) => c.props.metadata.labels?.grafana_dashboard === "1" && c.props.metadata.namespace === "observability");
        expect(maps).toHaveLength(5);
    });
});
