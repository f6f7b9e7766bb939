import type { Source } from "./types";

/**
 * The two proxies of the tenant metrics API as read at their pinned versions: which command-line
 * flags each accepts and where each reads the value it scopes by. The component builds their
 * arguments and configuration (components/tenant-observability.ts); the `tenant-metrics-route-enforced`
 * policy and the tests hold what it builds against these facts. No binary of either ships in a
 * package this machine reaches (neither Debian nor npm has one), so their enforcement is tested
 * against these facts and, for what reaches Prometheus, with the real Prometheus.
 */

const plpSrc = (file: string): Source => ({ repo: "prometheus-community/prom-label-proxy", ref: "v0.13.0", file });
const krpSrc = (file: string): Source => ({ repo: "brancz/kube-rbac-proxy", ref: "v0.21.0", file });

export const PROM_LABEL_PROXY_FACTS = {
    image: "quay.io/prometheuscommunity/prom-label-proxy",
    version: "v0.13.0",
    /** Every flag main.go defines (flagset.StringVar/BoolVar/Var) at the tag. */
    flags: [
        "insecure-listen-address", "internal-listen-address", "query-param", "header-name", "upstream", "upstream-ca-cert", "label", "label-value",
        "enable-label-apis", "unsafe-passthrough-paths", "insecure-skip-verify", "error-on-replace", "regex-match", "header-uses-list-syntax",
        "rules-with-active-alerts", "enable-label-matchers-for-rules-api", "enable-promql-duration-expression-parsing", "enable-promql-experimental-functions",
        "enable-promql-extended-range-selectors", "enable-promql-binop-fill-modifiers",
    ],
    flagsSource: plpSrc("main.go"),
    /**
     * Where the scoping value comes from, by mode. `-query-param` reads `r.Form`, the URL query and a
     * POST body together (injectproxy/routes.go HTTPFormEnforcer.getLabelValues); `-header-name`
     * reads every line of that header, the name canonicalised (main.go http.CanonicalHeaderKey).
     * Several values are enforced as their union (`label=~"a|b"`).
     */
    valueSources: { queryParam: "URL query and POST form", headerName: "every value of the header" },
    valueSource: plpSrc("injectproxy/routes.go"),
    /** The Prometheus paths it enforces the label on; every other path answers 404 (strictMux). */
    enforcedPaths: ["/federate", "/api/v1/query", "/api/v1/query_range", "/api/v1/alerts", "/api/v1/series", "/api/v1/query_exemplars", "/api/v1/rules", "/api/v1/labels", "/api/v1/label/"],
    /** The label APIs are enforced only with -enable-label-apis (501 without). */
    labelApisFlag: "enable-label-apis",
} as const;

export const KUBE_RBAC_PROXY_FACTS = {
    image: "quay.io/brancz/kube-rbac-proxy",
    version: "v0.21.0",
    /**
     * The config file's authorization keys (pkg/authz/auth.go Config): a rewrite takes the value of a
     * query parameter (`byQueryParameter`, the URL query only) or of a header (`byHttpHeader`, every
     * line of it), and each value becomes one SubjectAccessReview, `{{ .Value }}` templated into the
     * resource attributes; all must allow (pkg/filters/auth.go WithAuthorization), and a request with
     * none is refused (400).
     */
    rewriteKeys: ["byQueryParameter", "byHttpHeader"],
    configSource: krpSrc("pkg/authz/auth.go"),
    rewriteSource: krpSrc("pkg/proxy/proxy.go"),
    /** The SubjectAccessReview's verb from the request method (pkg/proxy/proxy.go GetRequestAttributes). */
    verbs: { GET: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" },
    /** Without --tls-cert-file it serves a certificate it generates itself at start. */
    flags: ["secure-listen-address", "upstream", "upstream-force-h2c", "upstream-ca-file", "config-file", "allow-paths", "ignore-paths", "proxy-endpoints-port", "tls-cert-file", "tls-private-key-file", "tls-min-version", "tls-cipher-suites", "auth-header-fields-enabled", "auth-token-audiences", "client-ca-file", "kubeconfig", "http2-disable"],
    flagsSource: krpSrc("cmd/kube-rbac-proxy/app/options/options.go"),
} as const;

/**
 * The prometheus-community chart that runs them together (prom-label-proxy-0.22.0): prom-label-proxy
 * listens on `config.listenAddress` (its probes reach it there), kube-rbac-proxy on
 * `kubeRBACProxy.port` in the same pod with `--upstream=http://127.0.0.1:<listen port>/`, and the
 * Service targets kube-rbac-proxy's port whenever it is enabled.
 */
export const PROM_LABEL_PROXY_CHART_SOURCE: Source = { repo: "prometheus-community/helm-charts", ref: "prom-label-proxy-0.22.0", file: "charts/prom-label-proxy/templates/deployment.yaml" };

/**
 * Values the chart renders wrongly at 0.22.0 (found rendering it with Helm 3.17): the template writes
 * `resources: {{ toYaml .Values.kubeRBACProxy.resources | nindent 10 }}` at the container's own
 * indentation, so `requests` and `limits` land beside `resources` as unknown container fields and
 * the Deployment is refused. Leave these values unset.
 */
export const PROM_LABEL_PROXY_CHART_QUIRKS = [{ value: "kubeRBACProxy.resources", why: "renders beside the container's resources key, not under it: the API server refuses the Deployment", source: PROM_LABEL_PROXY_CHART_SOURCE }] as const;

/**
 * Kueue's visibility API at the pinned Kueue (0.14.2): served as `v1beta1` only (v1beta2 is later),
 * by the controller behind an APIService, on by default (VisibilityOnDemand, beta since 0.9). A
 * LocalQueue's pending workloads are the namespaced subresource `localqueues/pendingworkloads`; the
 * cluster-wide view is `clusterqueues/pendingworkloads`.
 */
export const KUEUE_VISIBILITY = {
    group: "visibility.kueue.x-k8s.io",
    version: "v1beta1",
    localQueueResource: "localqueues/pendingworkloads",
    clusterQueueResource: "clusterqueues/pendingworkloads",
    source: { repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file: "charts/kueue/templates/rbac/pending_workloads_lq_viewer_role.yaml" } as Source,
    apiServiceSource: { repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file: "charts/kueue/templates/visibility/apiservice_v1beta1.yaml" } as Source,
    featureGateSource: { repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file: "pkg/features/kube_features.go" } as Source,
} as const;

/**
 * Where each series a tenant reads gets its `namespace` label, at the pinned charts: scrapes that
 * keep the exporter's own `namespace` (honorLabels) report the object's namespace; any other scrape
 * would rename it `exported_namespace` and stamp its own target's.
 */
export const NAMESPACE_LABEL_SOURCES = [
    { metrics: "kube_* (kube-state-metrics)", how: "the chart's ServiceMonitor honours the object's namespace (kube-state-metrics.prometheus.monitor.honorLabels: true)", source: { repo: "prometheus-community/helm-charts", ref: "kube-prometheus-stack-75.15.0", file: "charts/kube-prometheus-stack/values.yaml" } as Source },
    { metrics: "container_* (the kubelet's cAdvisor)", how: "the chart's kubelet ServiceMonitor honours the pod's namespace (kubelet.serviceMonitor.honorLabels: true)", source: { repo: "prometheus-community/helm-charts", ref: "kube-prometheus-stack-75.15.0", file: "charts/kube-prometheus-stack/values.yaml" } as Source },
    { metrics: "DCGM_FI_* (dcgm-exporter)", how: "the exporter labels a GPU in use with its pod's namespace (DCGM_EXPORTER_KUBERNETES); the region sets serviceMonitor.honorLabels so the scrape keeps it", source: { repo: "NVIDIA/dcgm-exporter", ref: "4.2.3-4.1.1", file: "internal/pkg/transformation/const.go" } as Source },
    { metrics: "kueue_local_queue_* (Kueue, LocalQueueMetrics)", how: "Kueue labels each LocalQueue's series with its namespace; the region's ServiceMonitor honours it", source: { repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file: "pkg/metrics/metrics.go" } as Source },
] as const;
