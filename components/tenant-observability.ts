import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    DASHBOARD_LABEL,
    KUBE_RBAC_PROXY_FACTS,
    kubeRbacProxyArgs,
    kubeRbacProxyConfig,
    PROMETHEUS,
    promLabelProxyArgs,
    serviceAccountsGroup,
    TENANT_DASHBOARDS,
    TENANT_DECLARED_ROUTES,
    TENANT_METRICS_API,
    TENANT_METRICS_LABEL,
    TENANT_METRICS_POLICY_NAMES,
    TENANT_METRICS_READER,
    TENANT_OBSERVABILITY_RULES,
} from "compute-region-policies/model";
import { componentOptions, componentType } from "./component-type";
import { pinnedRelease, TENANT_METRICS_CHART_PIN } from "./helm";
import { namespaceByName } from "./network-policies";
import { ON_SYSTEM_NODES } from "./nodes";
import { dependsOnOf } from "./options";
import { tenantDashboards, tenantGatewayRecordingRules } from "./tenant-dashboards";

export interface TenantMetricsApiArgs {
    /** Replicas of the route's pod (kube-rbac-proxy and prom-label-proxy together), spread by the scheduler. */
    replicas: number;
    /** The region serves hosted models: record the gateway's per-tenant series under the tenants' namespaces. */
    gatewayRecords: boolean;
    /** The NetworkPolicy that selects every pod of the observability namespace (its ingress from there only). */
    namespacePolicy: pulumi.Resource;
}

/**
 * The tenant metrics API: the one route by which a tenant reads the region's Prometheus. A pinned
 * prometheus-community `prom-label-proxy` chart release in the observability namespace, its pod
 * running kube-rbac-proxy in front of prom-label-proxy:
 *
 * - kube-rbac-proxy authenticates the bearer token with a TokenReview (a member role's
 *   `aws eks get-token` token, which the tenant's access entry maps to its group, or a service
 *   account token of the tenant's namespace) and allows the request only when a SubjectAccessReview
 *   says the caller may `get` (a POST: `create`) `metrics.monitoring.compute-region.io` in the
 *   namespace named by the `X-Namespace` header, every line of it; only the Prometheus read API passes;
 * - prom-label-proxy (upstream Prometheus) injects `namespace="<that header>"` into every selector,
 *   refuses a query naming another namespace (`--error-on-replace`), and filters rules and alerts.
 *
 * Tenants reach the pods on kube-rbac-proxy's port only, each tenant by a NetworkPolicy of its own
 * (tenantObservabilityAccess); prom-label-proxy's port is called over loopback by kube-rbac-proxy and
 * by nothing else. kube-rbac-proxy serves a certificate it generates at start (no cluster CA signs
 * one here): in-cluster clients skip verification, and only tenant namespaces reach the port.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the release
 * waits for (Prometheus, the namespace).
 */
export class TenantMetricsApi extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: TenantMetricsApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("TenantMetricsApi"), name, {}, componentOptions("TenantMetricsApi", opts));
        if (!Number.isInteger(args.replicas) || args.replicas < 1) throw new pulumi.ResourceError(`${name}: replicas must be a whole number of at least 1, got ${args.replicas}`, this);
        this.release = pinnedRelease(
            `${name}-release`,
            TENANT_METRICS_CHART_PIN,
            {
                releaseName: TENANT_METRICS_API.releaseName,
                namespace: TENANT_METRICS_API.namespace,
                values: {
                    fullnameOverride: TENANT_METRICS_API.releaseName,
                    replicaCount: args.replicas,
                    // No image: the chart's own (its appVersion, PROM_LABEL_PROXY_FACTS.version) is the pinned
                    // binary; a tag equal to it would change nothing the chart renders.
                    ...ON_SYSTEM_NODES,
                    podDisruptionBudget: { maxUnavailable: 1 },
                    service: { port: TENANT_METRICS_API.servicePort },
                    config: {
                        // The pod's address: the kubelet's probes reach it there; tenants' NetworkPolicies admit only authPort.
                        listenAddress: `0.0.0.0:${TENANT_METRICS_API.proxyPort}`,
                        upstream: TENANT_METRICS_API.upstream,
                        label: TENANT_METRICS_LABEL,
                        extraArgs: promLabelProxyArgs(),
                    },
                    kubeRBACProxy: {
                        enabled: true,
                        port: TENANT_METRICS_API.authPort,
                        image: { repository: KUBE_RBAC_PROXY_FACTS.image, tag: KUBE_RBAC_PROXY_FACTS.version },
                        config: kubeRbacProxyConfig(),
                        extraArgs: kubeRbacProxyArgs(),
                        // No resources: the chart renders kubeRBACProxy.resources beside the container's
                        // `resources` key, not under it (PROM_LABEL_PROXY_CHART_QUIRKS), which the API server rejects.
                    },
                },
                network: { governedBy: [args.namespacePolicy] },
            },
            { parent: this, dependsOn: dependsOnOf(opts) },
        );
        if (args.gatewayRecords) {
            new k8s.apiextensions.CustomResource(
                `${name}-records`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: "tenant-views", namespace: TENANT_METRICS_API.namespace, labels: { ...PROMETHEUS.ruleSelector } },
                    spec: { groups: tenantGatewayRecordingRules() },
                },
                { parent: this, dependsOn: dependsOnOf(opts) },
            );
        }
        this.registerOutputs({ release: this.release.name });
    }
}

export interface TenantObservabilityAccessArgs {
    /** The tenant's name. */
    tenant: string;
    /** The tenant's namespace. */
    namespace: string;
    /** The tenant has GPU queues (its queue dashboard). */
    queues: boolean;
    /** The tenant calls hosted models (its model dashboard). */
    models: boolean;
    /** What the route's NetworkPolicy in the observability namespace waits for (that namespace, where this stack makes it). */
    observabilityWaitsFor: pulumi.Input<pulumi.Resource>[];
}

/**
 * A tenant's side of its views, made by the Tenant component for a tenant that is not
 * decommissioned: its namespace's service accounts may read its metrics (a Role with only that, bound
 * to the namespace's service-account group; members get it through their own Role), its pods may
 * reach the metrics API's kube-rbac-proxy port (an egress policy in its namespace, and an ingress
 * policy in the observability namespace admitting this namespace only), and its dashboards, in a
 * ConfigMap of its namespace that a Grafana sidecar picks up by the usual label.
 */
export function tenantObservabilityAccess(name: string, args: TenantObservabilityAccessArgs, opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] }): void {
    const ns = args.namespace;
    const inNs = { parent: opts.parent, dependsOn: opts.dependsOn };
    const metricsRule = TENANT_OBSERVABILITY_RULES.filter((r) => r.apiGroups.some((g) => g === TENANT_METRICS_API.access.apiGroup));
    const role = new k8s.rbac.v1.Role(`${name}-metrics-reader`, { metadata: { name: TENANT_METRICS_READER, namespace: ns }, rules: metricsRule }, inNs);
    new k8s.rbac.v1.RoleBinding(
        `${name}-metrics-reader`,
        {
            metadata: { name: TENANT_METRICS_READER, namespace: ns },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: TENANT_METRICS_READER },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: serviceAccountsGroup(ns) }],
        },
        { ...inNs, dependsOn: [...opts.dependsOn, role] },
    );
    const [route] = TENANT_DECLARED_ROUTES;
    const ports = route.ports.map((p) => ({ ...p }));
    new k8s.networking.v1.NetworkPolicy(
        `${name}-${TENANT_METRICS_POLICY_NAMES.egress}`,
        {
            metadata: { name: TENANT_METRICS_POLICY_NAMES.egress, namespace: ns },
            spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ...namespaceByName(route.namespace), podSelector: { matchLabels: { ...route.pods } } }], ports }] },
        },
        inNs,
    );
    new k8s.networking.v1.NetworkPolicy(
        `${name}-metrics-ingress`,
        {
            metadata: { name: TENANT_METRICS_POLICY_NAMES.ingress(args.tenant), namespace: route.namespace },
            spec: { podSelector: { matchLabels: { ...route.pods } }, policyTypes: ["Ingress"], ingress: [{ from: [namespaceByName(ns)], ports }] },
        },
        { parent: opts.parent, dependsOn: args.observabilityWaitsFor },
    );
    const dashboards = tenantDashboards(ns, { queues: args.queues, models: args.models });
    new k8s.core.v1.ConfigMap(
        `${name}-dashboards`,
        {
            metadata: { name: TENANT_DASHBOARDS.configMap, namespace: ns, labels: { [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value, [TENANT_DASHBOARDS.label]: "true" } },
            data: Object.fromEntries(dashboards.map((d) => [`${d.uid}.json`, JSON.stringify(d)])),
        },
        inNs,
    );
}
