import type { SampleResource } from "../engine/policy";
import { kubeRbacProxyArgs, kubeRbacProxyConfig, promLabelProxyArgs, TENANT_DASHBOARDS, TENANT_METRICS_API } from "../model/domain/tenant-observability";
import { K8S_TYPES, MONITORING_TYPES, TYPES } from "../model/domain/types";
import { sample } from "./sample";

/** Samples of the tenant views: the metrics route's release, tenant dashboards, and the RBAC that grants the views. */

/** The tenant metrics API's release values, as the component passes them, with `change` applied to a copy. */
export function routeValues(change: (values: any) => void = () => {}): Record<string, unknown> {
    const values: any = {
        fullnameOverride: TENANT_METRICS_API.releaseName,
        config: { listenAddress: `0.0.0.0:${TENANT_METRICS_API.proxyPort}`, upstream: TENANT_METRICS_API.upstream, label: "namespace", extraArgs: promLabelProxyArgs() },
        kubeRBACProxy: { enabled: true, port: TENANT_METRICS_API.authPort, config: kubeRbacProxyConfig(), extraArgs: kubeRbacProxyArgs() },
    };
    change(values);
    return values;
}

export function routeRelease(values: Record<string, unknown> = routeValues()): SampleResource {
    return sample(TYPES.helmRelease, "tenant-metrics", { name: TENANT_METRICS_API.releaseName, chart: "prom-label-proxy", version: "0.22.0", namespace: TENANT_METRICS_API.namespace, values });
}

/** A dashboard with one panel per query, as the tenant dashboards are built. */
export function dashboardJson(uid: string, exprs: string[], datasource = { type: "prometheus", uid: `\${${TENANT_DASHBOARDS.datasourceVariable}}` }): string {
    return JSON.stringify({
        uid,
        title: uid,
        schemaVersion: 39,
        panels: exprs.map((expr, i) => ({ id: i + 1, type: "timeseries", title: `panel ${i + 1}`, datasource, targets: [{ refId: "A", datasource, expr }] })),
        templating: { list: [{ name: TENANT_DASHBOARDS.datasourceVariable, type: "datasource", query: "prometheus" }] },
    });
}

export function dashboardsMap(namespace: string, dashboards: Record<string, string>, name = "dashboards"): SampleResource {
    return sample(MONITORING_TYPES.configMap, name, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: TENANT_DASHBOARDS.configMap, namespace, labels: { grafana_dashboard: "1", [TENANT_DASHBOARDS.label]: "true" } },
        data: dashboards,
    });
}

export const VIEW_RULES = [
    { apiGroups: [TENANT_METRICS_API.access.apiGroup], resources: [TENANT_METRICS_API.access.resource], verbs: ["get", "create"] },
    { apiGroups: ["visibility.kueue.x-k8s.io"], resources: ["localqueues/pendingworkloads"], verbs: ["get", "list", "watch"] },
];

export function viewRole(namespace: string, rules: unknown[] = VIEW_RULES, name = "tenant-member"): SampleResource {
    return sample(K8S_TYPES.role, `${namespace}-${name}`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace }, rules });
}

export function viewBinding(namespace: string, subjects: unknown[], roleRef: Record<string, string> = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant-member" }, name = "tenant-member"): SampleResource {
    return sample(K8S_TYPES.roleBinding, `${namespace}-${name}-binding`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace }, roleRef, subjects });
}

export const group = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name });
