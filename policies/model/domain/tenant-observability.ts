import type * as PromQL from "@prometheus-io/lezer-promql" with { "resolution-mode": "import" };
import { NAMESPACES, PROMETHEUS_URL } from "./conventions";
import { KUBE_RBAC_PROXY_FACTS, KUEUE_VISIBILITY, PROM_LABEL_PROXY_CHART_QUIRKS, PROM_LABEL_PROXY_FACTS } from "../upstream/tenant-metrics";

// lezer-promql ships CommonJS beside its ES module; the pack compiles to CommonJS, so it is required.
const { parser } = require("@prometheus-io/lezer-promql") as typeof PromQL;

/**
 * What a tenant sees of the region besides its namespace, and how each view is held to the tenant:
 *
 * - **Metrics** through one query route: kube-rbac-proxy authenticates the caller's bearer token with
 *   a TokenReview (a member role's EKS token, mapped by its access entry to the tenant's group, or a
 *   service account token of the tenant's namespace) and allows the request only if a
 *   SubjectAccessReview says the caller may `get` (POST: `create`) `metrics` of this API group in the
 *   namespace the request names in its `X-Namespace` header; prom-label-proxy then injects
 *   `namespace="<that header>"` into every selector of the query before Prometheus sees it. Both
 *   read the same header, every line of it, so there is no value one checks and the other ignores.
 * - **Queue positions** through Kueue's visibility API, an aggregated API the API server authorizes
 *   like any other: the tenant's Role grants `localqueues/pendingworkloads` in its namespace only.
 */

/** The label every tenant query is held to: a series is the tenant's when its namespace is. */
export const TENANT_METRICS_LABEL = "namespace";

export const TENANT_METRICS_API = {
    /** The Helm release (prometheus-community prom-label-proxy chart with its kube-rbac-proxy sidecar) and every object it names. */
    releaseName: "tenant-metrics",
    namespace: NAMESPACES.monitoring,
    /** The header naming the namespace a request asks about (canonical spelling: Go servers canonicalise header names). */
    header: "X-Namespace",
    /** kube-rbac-proxy's port in the pod: the only one tenants reach. */
    authPort: 8100,
    /** prom-label-proxy's own port in the pod (plain HTTP, no authentication): only kube-rbac-proxy calls it, over loopback. */
    proxyPort: 8080,
    /** The Service's port (targeting authPort). */
    servicePort: 8443,
    /** The SubjectAccessReview kube-rbac-proxy makes: `get`/`create` on this resource in the namespace the header names. */
    access: { apiGroup: "monitoring.compute-region.io", resource: "metrics" },
    /** The Prometheus read API paths the route serves; kube-rbac-proxy answers 404 to any other. */
    paths: ["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/label/*", "/api/v1/query_exemplars", "/api/v1/rules", "/api/v1/alerts", "/federate"],
    /** Prometheus, the route's upstream. */
    upstream: PROMETHEUS_URL,
} as const;

/** The chart's selector labels on the route's pods (name: the chart's, instance: the release's). */
export const TENANT_METRICS_POD_LABELS = { "app.kubernetes.io/name": "prom-label-proxy", "app.kubernetes.io/instance": TENANT_METRICS_API.releaseName } as const;

/** In-cluster URL of the route (the chart's Service is `fullnameOverride`). */
export const TENANT_METRICS_URL = `https://${TENANT_METRICS_API.releaseName}.${TENANT_METRICS_API.namespace}.svc:${TENANT_METRICS_API.servicePort}`;

/** The SubjectAccessReview verbs the route needs: kube-rbac-proxy maps GET to get and POST (a form-encoded query) to create. */
export const TENANT_METRICS_VERBS = ["get", "create"] as const;

/** prom-label-proxy's arguments for the route, beyond the listen address, upstream and label the chart sets. */
export function promLabelProxyArgs(): string[] {
    return [`--header-name=${TENANT_METRICS_API.header}`, "--enable-label-apis=true", "--error-on-replace=true"];
}

/** kube-rbac-proxy's configuration file for the route. */
export function kubeRbacProxyConfig(): Record<string, unknown> {
    return {
        authorization: {
            rewrites: { byHttpHeader: { name: TENANT_METRICS_API.header } },
            resourceAttributes: { apiGroup: TENANT_METRICS_API.access.apiGroup, resource: TENANT_METRICS_API.access.resource, namespace: "{{ .Value }}" },
        },
    };
}

/** kube-rbac-proxy's extra arguments: only the Prometheus read API passes the door. */
export function kubeRbacProxyArgs(): string[] {
    return [`--allow-paths=${TENANT_METRICS_API.paths.join(",")}`];
}

/**
 * What a tenant's Role adds for its own views: the metrics of its namespace through the route, and
 * the pending workloads (with their positions) of its own LocalQueues. Both namespaced: a Role
 * cannot grant the cluster-wide `clusterqueues/pendingworkloads`, and none is asked for.
 */
export const TENANT_OBSERVABILITY_RULES = [
    { apiGroups: [TENANT_METRICS_API.access.apiGroup], resources: [TENANT_METRICS_API.access.resource], verbs: [...TENANT_METRICS_VERBS] },
    { apiGroups: [KUEUE_VISIBILITY.group], resources: [KUEUE_VISIBILITY.localQueueResource], verbs: ["get", "list", "watch"] },
];

/** The Role and RoleBinding that let a tenant namespace's own service accounts read its metrics (its Grafana, its jobs). */
export const TENANT_METRICS_READER = "tenant-metrics-reader";

/** The group Kubernetes puts every service account of a namespace in. */
export function serviceAccountsGroup(namespace: string): string {
    return `system:serviceaccounts:${namespace}`;
}

/** The namespace whose service accounts this group holds, or undefined. */
export function namespaceOfServiceAccountsGroup(group: string): string | undefined {
    return /^system:serviceaccounts:([a-z0-9-]+)$/.exec(group)?.[1];
}

/** Names of the per-tenant NetworkPolicies of the route: the tenant's way out, and the route's way in from that tenant. */
export const TENANT_METRICS_POLICY_NAMES = {
    egress: "allow-tenant-metrics-api",
    ingress: (tenant: string) => `allow-tenant-metrics-from-${tenant}`,
} as const;

/**
 * The ways a tenant's pods may reach a platform namespace, declared: the metrics route's pods, on
 * kube-rbac-proxy's port only. The reachability proof holds any other path into a platform
 * namespace as a finding, and this one too unless both its sides are this narrow.
 */
export const TENANT_DECLARED_ROUTES = [
    {
        namespace: TENANT_METRICS_API.namespace,
        pods: TENANT_METRICS_POD_LABELS,
        ports: [{ protocol: "TCP" as const, port: TENANT_METRICS_API.authPort }],
        why: "the tenant metrics API: kube-rbac-proxy authorizes the caller for the namespace it asks about, prom-label-proxy holds the query to it",
    },
] as const;

/** Label on a tenant's dashboards ConfigMap (besides the Grafana sidecar's). */
export const TENANT_DASHBOARDS = { configMap: "tenant-dashboards", label: "compute-region.io/tenant-dashboards", datasourceVariable: "datasource" } as const;

/** A vector selector of a query that is not held to the namespace, as text. */
export interface UnscopedSelector {
    selector: string;
    why: string;
}

/** A PromQL expression as the scope check reads it: its vector selectors with their label matchers, and whether it parses. */
interface ParsedQuery {
    error: boolean;
    selectors: { text: string; matchers: { label: string; op: string; value: string }[] }[];
    /** Where its string literals' contents are, [from, to) in its text. */
    strings: [number, number][];
}

function parseQuery(expr: string): ParsedQuery {
    const tree = parser.parse(expr);
    const out: ParsedQuery = { error: false, selectors: [], strings: [] };
    tree.iterate({
        enter: (node) => {
            if (node.type.isError) out.error = true;
            if (node.name === "StringLiteral") out.strings.push([node.from + 1, node.to - 1]);
            if (node.name !== "VectorSelector") return;
            const matchers: ParsedQuery["selectors"][number]["matchers"] = [];
            const cursor = node.node.cursor();
            cursor.iterate((n) => {
                if (n.name !== "UnquotedLabelMatcher" && n.name !== "QuotedLabelMatcher") return;
                const label = n.node.getChild("LabelName") ?? n.node.getChild("QuotedLabelName");
                const op = n.node.getChild("MatchOp");
                const value = n.node.getChild("StringLiteral");
                if (label && op && value) matchers.push({ label: expr.slice(label.from, label.to).replace(/^"|"$/g, ""), op: expr.slice(op.from, op.to), value: expr.slice(value.from + 1, value.to - 1) });
                return false;
            });
            out.selectors.push({ text: expr.slice(node.from, node.to), matchers });
        },
    });
    return out;
}

/**
 * A tenant's dashboards are the same queries with its namespace written in: each is judged once as a
 * template (the namespace replaced by this mark) and the namespace put back into what it found.
 * That reads the same as parsing the query itself only where the namespace stands inside string
 * literals (a string's contents never change how the rest is read) and never in a label name, so
 * a template is used only when every mark lies inside a string that is not a label name, and only
 * for a namespace that cannot end or escape a string and a query with no character of the mark.
 */
const NAMESPACE_MARK = "\u0001namespace\u0001";
const SAFE_IN_STRINGS = /^[^\\\n"'`\u0001]+$/;
/** What each template's queries report, with the mark for the namespace; undefined where the template cannot stand for them. */
const templates = new Map<string, UnscopedSelector[] | undefined>();

/** The query's template for `namespace`, or undefined when it has none (see NAMESPACE_MARK). */
function templateOf(expr: string, namespace: string): string | undefined {
    // With no mark character in the query, the marks of the template are exactly the namespace's places.
    if (!expr.includes(namespace) || expr.includes("\u0001") || !SAFE_IN_STRINGS.test(namespace)) return undefined;
    return expr.split(namespace).join(NAMESPACE_MARK);
}

function judgedTemplate(template: string): UnscopedSelector[] | undefined {
    const parsed = parseQuery(template);
    for (let at = template.indexOf(NAMESPACE_MARK); at >= 0; at = template.indexOf(NAMESPACE_MARK, at + NAMESPACE_MARK.length)) {
        if (!parsed.strings.some(([from, to]) => from <= at && at + NAMESPACE_MARK.length <= to)) return undefined;
    }
    if (parsed.selectors.some((s) => s.matchers.some((m) => m.label.includes(NAMESPACE_MARK)))) return undefined;
    return unscopedIn(parsed, template, NAMESPACE_MARK);
}

function unscopedIn(parsed: ParsedQuery, expr: string, namespace: string): UnscopedSelector[] {
    if (parsed.error) return [{ selector: expr, why: "does not parse as PromQL" }];
    const out: UnscopedSelector[] = [];
    for (const { text, matchers } of parsed.selectors) {
        const own = matchers.filter((m) => m.label === TENANT_METRICS_LABEL);
        if (!own.some((m) => m.op === "=" && m.value === namespace)) out.push({ selector: text, why: own.length === 0 ? `has no ${TENANT_METRICS_LABEL} matcher` : `matches ${own.map((m) => `${m.label}${m.op}"${m.value}"`).join(", ")}, not ${TENANT_METRICS_LABEL}="${namespace}"` });
    }
    return out;
}

/**
 * Every vector selector of a PromQL expression that does not carry `namespace="<namespace>"` (an
 * exact-match matcher on that label), parsed with Prometheus' own grammar (lezer-promql); a query
 * that does not parse is reported whole. A dashboard query whose every selector is scoped returns
 * the tenant's series only, whatever the functions and operators around them do.
 */
export function unscopedSelectors(expr: string, namespace: string): UnscopedSelector[] {
    const template = templateOf(expr, namespace);
    if (template !== undefined) {
        let found = templates.get(template);
        if (found === undefined && !templates.has(template)) {
            found = judgedTemplate(template);
            // A region's dashboards are a few templates: the cache stays small, and is emptied if not.
            if (templates.size >= 10_000) templates.clear();
            templates.set(template, found);
        }
        if (found) {
            const put = (text: string) => (text.includes(NAMESPACE_MARK) ? text.split(NAMESPACE_MARK).join(namespace) : text);
            return found.map((u) => ({ selector: put(u.selector), why: put(u.why) }));
        }
    }
    return unscopedIn(parseQuery(expr), expr, namespace);
}

/** `--name=value` or `--name value` style arguments as name to values (a bare flag is "true"). */
function parseArgs(args: unknown): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const list = Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [];
    for (let i = 0; i < list.length; i++) {
        const m = /^--?([A-Za-z0-9-]+)(?:=(.*))?$/.exec(list[i]);
        if (!m) continue;
        let value = m[2];
        if (value === undefined) value = i + 1 < list.length && !list[i + 1].startsWith("-") ? list[++i] : "true";
        out.set(m[1], [...(out.get(m[1]) ?? []), value]);
    }
    return out;
}

const canonicalHeader = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);

/** Flags of prom-label-proxy that widen or move what it enforces: any of them on the tenant route is a finding. */
const PROM_LABEL_PROXY_WIDENING = ["query-param", "label-value", "regex-match", "header-uses-list-syntax", "unsafe-passthrough-paths"] as const;

/**
 * What is wrong with a tenant metrics route, read from the values of a prometheus-community
 * prom-label-proxy release (the chart's keys at 0.22.0): each problem a sentence. The route holds a
 * tenant to its namespace only when kube-rbac-proxy runs in front, authorizes every value of the
 * header prom-label-proxy enforces, against the namespace that value names, and prom-label-proxy
 * enforces the namespace label from that header and nothing else.
 */
export function tenantMetricsRouteProblems(values: any): string[] {
    const problems: string[] = [];
    const config = values?.config ?? {};
    const krp = values?.kubeRBACProxy ?? {};
    if (config.label !== TENANT_METRICS_LABEL) problems.push(`prom-label-proxy enforces the label ${JSON.stringify(config.label ?? null)}, not ${TENANT_METRICS_LABEL} (a tenant's series are those of its namespace)`);
    const plp = parseArgs(config.extraArgs);
    for (const flag of plp.keys()) if (!(PROM_LABEL_PROXY_FACTS.flags as readonly string[]).includes(flag)) problems.push(`prom-label-proxy has no flag --${flag} at ${PROM_LABEL_PROXY_FACTS.version}: it would exit at start`);
    for (const flag of PROM_LABEL_PROXY_WIDENING) if (plp.has(flag)) problems.push(`prom-label-proxy sets --${flag}, which ${flag === "query-param" ? "reads the value from the URL query and a POST body, where kube-rbac-proxy checks the URL query only" : flag === "unsafe-passthrough-paths" ? "lets paths through unscoped" : flag === "label-value" ? "fixes the value whoever asks" : "widens a value past the one namespace kube-rbac-proxy authorized"}`);
    const header = plp.get("header-name")?.[0];
    if (!header) problems.push("prom-label-proxy takes the namespace from no header (--header-name): it is not the value kube-rbac-proxy authorizes");
    if (krp.resources !== undefined && krp.resources !== null && Object.keys(krp.resources).length > 0) problems.push(`kubeRBACProxy.resources ${PROM_LABEL_PROXY_CHART_QUIRKS[0].why} (prom-label-proxy chart 0.22.0)`);
    if (krp.enabled !== true) {
        problems.push("kube-rbac-proxy is not enabled (kubeRBACProxy.enabled): whoever reaches the pod reads any namespace's metrics");
        return problems;
    }
    const authz = krp.config?.authorization ?? {};
    const rewrites = authz.rewrites ?? {};
    if (rewrites.byQueryParameter) problems.push("kube-rbac-proxy authorizes a query parameter (rewrites.byQueryParameter): prom-label-proxy enforces the header");
    const authorized = rewrites.byHttpHeader?.name;
    if (typeof authorized !== "string" || (header && canonicalHeader(authorized) !== canonicalHeader(header))) {
        problems.push(`kube-rbac-proxy authorizes the header ${JSON.stringify(authorized ?? null)}, prom-label-proxy enforces ${JSON.stringify(header ?? null)}: the namespace checked must be the namespace enforced`);
    }
    const attrs = authz.resourceAttributes ?? {};
    if (attrs.namespace !== "{{ .Value }}") problems.push(`kube-rbac-proxy's SubjectAccessReview is in the namespace ${JSON.stringify(attrs.namespace ?? null)}, not the one the header names ("{{ .Value }}")`);
    if (attrs.apiGroup !== TENANT_METRICS_API.access.apiGroup || attrs.resource !== TENANT_METRICS_API.access.resource) {
        problems.push(`kube-rbac-proxy checks ${attrs.resource ?? "(no resource)"}.${attrs.apiGroup ?? ""}, not the ${TENANT_METRICS_API.access.resource}.${TENANT_METRICS_API.access.apiGroup} tenants' Roles grant`);
    }
    if (Array.isArray(authz.static) && authz.static.length > 0) problems.push("kube-rbac-proxy has static authorizations, which allow without a SubjectAccessReview");
    const krpArgs = parseArgs(krp.extraArgs);
    for (const flag of krpArgs.keys()) if (!(KUBE_RBAC_PROXY_FACTS.flags as readonly string[]).includes(flag)) problems.push(`kube-rbac-proxy has no flag --${flag} at ${KUBE_RBAC_PROXY_FACTS.version}`);
    if (krpArgs.has("ignore-paths")) problems.push("kube-rbac-proxy sets --ignore-paths: those paths pass with no authentication");
    if (krpArgs.has("auth-header-fields-enabled")) problems.push("kube-rbac-proxy sets --auth-header-fields-enabled: the caller's identity would go upstream in plain HTTP");
    if (!krpArgs.has("allow-paths")) problems.push("kube-rbac-proxy sets no --allow-paths: every path of prom-label-proxy, Alertmanager's included, passes the door");
    return problems;
}
