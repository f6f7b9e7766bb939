import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TENANT_NAMESPACE_PREFIX } from "../model/domain/conventions";
import { tenantMetricsRouteProblems } from "../model/domain/tenant-observability";
import { MONITORING_TYPES, TYPES } from "../model/domain/types";
import { routeRelease, routeValues } from "../samples/tenant-views";
import { sample } from "../samples/sample";

/** The chart of the tenant metrics route (components/helm.ts TENANT_METRICS_CHART_PIN). */
const ROUTE_CHART = "prom-label-proxy";

/** Whether a monitor's namespaceSelector can select a tenant namespace. */
function selectsTenants(selector: any): boolean {
    if (!selector || typeof selector !== "object") return false;
    if (selector.any === true) return true;
    return [selector.matchNames ?? []].flat().some((n: unknown) => typeof n === "string" && n.startsWith(TENANT_NAMESPACE_PREFIX));
}

const monitor = (type: string, name: string, spec: Record<string, unknown>) => sample(type, name, { apiVersion: "monitoring.coreos.com/v1", kind: type.split(":").pop(), metadata: { name, namespace: "observability" }, spec });

export const tenantMetricsRouteEnforced = stackPolicy({
    name: "tenant-metrics-route-enforced",
    description:
        "The tenant metrics API (a prom-label-proxy release) runs kube-rbac-proxy in front, authorizes every value of the header prom-label-proxy enforces against the namespace that value names, enforces the namespace label from that header alone, and opens only the Prometheus read API; no scrape of a tenant namespace honours the target's own labels.",
    rationale:
        "A tenant's metrics are the series whose namespace label is its namespace. The route is sound only if the namespace a " +
        "caller is authorized for is the namespace the query is held to: prom-label-proxy reads a query parameter from the URL and " +
        "a POST body alike while kube-rbac-proxy checks the URL only, so the two must agree on a header, every line of it. " +
        "prom-label-proxy authenticates nobody. And the label is only worth its scrape: a tenant target scraped with honorLabels " +
        "could name another namespace in its own series.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Install the route with components/tenant-observability.ts (TenantMetricsApi): kubeRBACProxy.enabled, its config from " +
        "kubeRbacProxyConfig() and arguments from kubeRbacProxyArgs(), prom-label-proxy's from promLabelProxyArgs(), label namespace. " +
        "Scrape tenant targets without honorLabels.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Block access to other tenant resources" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-3", title: "Access Enforcement" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-4", title: "Information Flow Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security software, infrastructure and architectures" },
    ],
    validateStack: (args, report) => {
        for (const r of resourcesOfType(args, TYPES.helmRelease).filter((x) => x.props.chart === ROUTE_CHART)) {
            for (const problem of tenantMetricsRouteProblems(r.props.values)) report(`tenant metrics route ${r.props.namespace}/${r.props.name}: ${problem}.`, r.urn);
        }
        for (const type of [MONITORING_TYPES.serviceMonitor, MONITORING_TYPES.podMonitor]) {
            for (const m of resourcesOfType(args, type)) {
                if (!selectsTenants(m.props.spec?.namespaceSelector)) continue;
                const endpoints = [m.props.spec?.endpoints ?? m.props.spec?.podMetricsEndpoints ?? []].flat();
                if (endpoints.some((e: any) => e?.honorLabels === true)) {
                    report(`${type.split(":").pop()} ${m.props.metadata?.namespace}/${m.props.metadata?.name} scrapes tenant namespaces with honorLabels: a tenant's target could label its series with another namespace.`, m.urn);
                }
            }
        }
    },
    samples: {
        allowed: [
            { description: "The route as TenantMetricsApi installs it.", resources: [routeRelease()] },
            { description: "A ServiceMonitor of a platform namespace may keep the exporter's labels.", resources: [monitor(MONITORING_TYPES.serviceMonitor, "kueue", { namespaceSelector: { matchNames: ["kueue-system"] }, endpoints: [{ port: "https", honorLabels: true }] })] },
        ],
        disallowed: [
            {
                description: "prom-label-proxy alone: nothing authenticates the caller.",
                expect: "kube-rbac-proxy is not enabled (kubeRBACProxy.enabled): whoever reaches the pod reads any namespace's metrics",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.enabled = false)))],
            },
            {
                description: "The OpenShift-style query parameter: prom-label-proxy reads it from a POST body too, kube-rbac-proxy from the URL only.",
                expect: "prom-label-proxy sets --query-param, which reads the value from the URL query and a POST body, where kube-rbac-proxy checks the URL query only",
                resources: [
                    routeRelease(
                        routeValues((v) => {
                            v.config.extraArgs = ["--query-param=namespace"];
                            v.kubeRBACProxy.config.authorization.rewrites = { byQueryParameter: { name: "namespace" } };
                        }),
                    ),
                ],
            },
            {
                description: "kube-rbac-proxy authorizes a query parameter while prom-label-proxy enforces the header.",
                expect: "kube-rbac-proxy authorizes a query parameter (rewrites.byQueryParameter): prom-label-proxy enforces the header",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.config.authorization.rewrites = { byQueryParameter: { name: "namespace" }, byHttpHeader: { name: "X-Namespace" } })))],
            },
            {
                description: "The two proxies read different headers.",
                expect: 'kube-rbac-proxy authorizes the header "X-Tenant", prom-label-proxy enforces "X-Namespace"',
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.config.authorization.rewrites = { byHttpHeader: { name: "X-Tenant" } })))],
            },
            {
                description: "The SubjectAccessReview is made in a fixed namespace, whatever the caller asks about.",
                expect: 'kube-rbac-proxy\'s SubjectAccessReview is in the namespace "observability", not the one the header names',
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.config.authorization.resourceAttributes.namespace = "observability")))],
            },
            {
                description: "kube-rbac-proxy checks a resource tenants are not granted (pods/metrics): the grants and the check disagree.",
                expect: "kube-rbac-proxy checks pods.metrics.k8s.io, not the metrics.monitoring.compute-region.io tenants' Roles grant",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.config.authorization.resourceAttributes = { apiGroup: "metrics.k8s.io", resource: "pods", namespace: "{{ .Value }}" })))],
            },
            {
                description: "A static authorization lets a user through without a SubjectAccessReview.",
                expect: "kube-rbac-proxy has static authorizations",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.config.authorization.static = [{ user: { name: "grafana" }, verb: "get", resourceRequest: true }])))],
            },
            {
                description: "prom-label-proxy enforces a label other than the namespace.",
                expect: 'prom-label-proxy enforces the label "tenant", not namespace',
                resources: [routeRelease(routeValues((v) => (v.config.label = "tenant")))],
            },
            {
                description: "A regular expression would let one authorized value match many namespaces.",
                expect: "prom-label-proxy sets --regex-match, which widens a value past the one namespace kube-rbac-proxy authorized",
                resources: [routeRelease(routeValues((v) => v.config.extraArgs.push("--regex-match")))],
            },
            {
                description: "A fixed label value ignores who asks.",
                expect: "prom-label-proxy sets --label-value, which fixes the value whoever asks",
                resources: [routeRelease(routeValues((v) => (v.config.extraArgs = ["--label-value=tenant-acme"])))],
            },
            {
                description: "List syntax turns one header line into several namespaces.",
                expect: "prom-label-proxy sets --header-uses-list-syntax, which widens a value past the one namespace kube-rbac-proxy authorized",
                resources: [routeRelease(routeValues((v) => v.config.extraArgs.push("--header-uses-list-syntax")))],
            },
            {
                description: "A passthrough path reaches Prometheus unscoped.",
                expect: "prom-label-proxy sets --unsafe-passthrough-paths, which lets paths through unscoped",
                resources: [routeRelease(routeValues((v) => v.config.extraArgs.push("--unsafe-passthrough-paths=/api/v1/status/config")))],
            },
            {
                description: "No header to enforce (the proxy would default to a query parameter named after the label).",
                expect: "prom-label-proxy takes the namespace from no header (--header-name)",
                resources: [routeRelease(routeValues((v) => (v.config.extraArgs = ["--enable-label-apis=true"])))],
            },
            {
                description: "A flag the pinned prom-label-proxy does not have (it exits at start).",
                expect: "prom-label-proxy has no flag --tenant-header at v0.13.0",
                resources: [routeRelease(routeValues((v) => v.config.extraArgs.push("--tenant-header=X-Namespace")))],
            },
            {
                description: "A flag the pinned kube-rbac-proxy does not have.",
                expect: "kube-rbac-proxy has no flag --insecure-listen at v0.21.0",
                resources: [routeRelease(routeValues((v) => v.kubeRBACProxy.extraArgs.push("--insecure-listen=:8080")))],
            },
            {
                description: "Paths kube-rbac-proxy lets through unauthenticated.",
                expect: "kube-rbac-proxy sets --ignore-paths: those paths pass with no authentication",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.extraArgs = ["--ignore-paths=/api/v1/query"])))],
            },
            {
                description: "No path filter: Alertmanager's silences API would pass the door too.",
                expect: "kube-rbac-proxy sets no --allow-paths",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.extraArgs = [])))],
            },
            {
                description: "Requests for kube-rbac-proxy: the chart renders them outside the container's resources (found with Helm), so the Deployment is refused.",
                expect: "kubeRBACProxy.resources renders beside the container's resources key, not under it",
                resources: [routeRelease(routeValues((v) => (v.kubeRBACProxy.resources = { requests: { cpu: "50m" } })))],
            },
            {
                description: "The caller's identity sent upstream over plain HTTP.",
                expect: "kube-rbac-proxy sets --auth-header-fields-enabled",
                resources: [routeRelease(routeValues((v) => v.kubeRBACProxy.extraArgs.push("--auth-header-fields-enabled")))],
            },
            {
                description: "A PodMonitor that scrapes every namespace and keeps the targets' labels.",
                expect: "PodMonitor observability/workloads scrapes tenant namespaces with honorLabels",
                resources: [monitor(MONITORING_TYPES.podMonitor, "workloads", { namespaceSelector: { any: true }, podMetricsEndpoints: [{ port: "metrics", honorLabels: true }] })],
            },
            {
                description: "A ServiceMonitor on a tenant's namespace that keeps the target's labels.",
                expect: "ServiceMonitor observability/acme-app scrapes tenant namespaces with honorLabels",
                resources: [monitor(MONITORING_TYPES.serviceMonitor, "acme-app", { namespaceSelector: { matchNames: ["tenant-acme"] }, endpoints: [{ port: "metrics", honorLabels: true }] })],
            },
        ],
    },
});
