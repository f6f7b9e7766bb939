import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { evaluatePolicies, type ResourceSnapshot } from "compute-region-policies/engine";
import {
    clusterPicture,
    fromSnapshots,
    isolationFromResources,
    proveFunctionalPaths,
    requiredPaths,
    TENANT_BILLING_DB,
    USAGE_STATEMENTS,
    K8S_TYPES,
    KUBE_RBAC_PROXY_FACTS,
    KUEUE_VISIBILITY,
    MONITORING_TYPES,
    PROM_LABEL_PROXY_FACTS,
    TENANT_DASHBOARDS,
    TENANT_METRICS_API,
    TENANT_METRICS_URL,
    tenantMetricsRouteProblems,
    TYPES,
    unscopedSelectors,
} from "compute-region-policies/model";
import { policies } from "compute-region-policies/rules";
import type { Dashboard } from "@grafana/schema";
import type { OfflinePlanResult } from "../offline/harness";
import { TENANT_GATEWAY_RECORDS, tenantDashboards, tenantGatewayRecordingRules } from "../components/tenant-dashboards";
import { expectValidDashboard } from "./dashboards";
import { ofType, one, plan, ROOT } from "./helpers";
import { promtoolTestRules } from "./promtool";
import { Series, startPrometheus, TestPrometheus } from "./prometheus";

/**
 * What a tenant sees of its own usage, and nothing of another's: the tenant metrics API as the dev
 * plan installs it (judged against the two proxies' flags and behaviour read at their pinned
 * versions: no binary of either ships in a package this machine reaches), the grants and network
 * paths each tenant gets, its dashboards (valid dashboards whose every query a real Prometheus
 * answers with the tenant's series only), and the recording rules that put the gateway's per-tenant
 * series under the tenant's namespace, under promtool.
 */

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const violationsOf = (resources: readonly ResourceSnapshot[], policy: string) =>
    evaluatePolicies(resources, { policies: policies.filter((p) => p.name === policy) })
        .violations.filter((v) => v.policy === policy)
        .map((v) => v.message.split("\n").pop()!);
/** The dev plan with the props (and so what the preview returns) of the resources `match` selects changed. */
const changed = (match: (r: ResourceSnapshot) => boolean, change: (props: Record<string, any>) => void) =>
    dev.resources.map((r) => {
        if (!match(r)) return r;
        const edit = (v: unknown) => {
            const copy = structuredClone(v) as Record<string, any>;
            change(copy);
            return copy;
        };
        return { ...r, props: edit(r.props), ...(r.outputs ? { outputs: edit(r.outputs) } : {}) };
    });
const route = () => ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.chart === "prom-label-proxy")!;

/** `--name=value` arguments as [name, value]. */
const flags = (args: string[]) => args.map((a) => /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a)!).map((m) => [m[1], m[2]] as const);

describe("the tenant metrics API in the dev plan", () => {
    it("is one pinned release in the observability namespace: kube-rbac-proxy in front of prom-label-proxy, with no route problem", () => {
        const release = route();
        expect(release.props).toMatchObject({ name: "tenant-metrics", chart: "prom-label-proxy", version: "0.22.0", namespace: "observability" });
        expect(tenantMetricsRouteProblems(release.props.values)).toEqual([]);
        const v = release.props.values;
        // prom-label-proxy is the chart's own image: its appVersion, from its repository, at the vendored tag.
        expect(v.image).toBeUndefined();
        const chartDir = path.join(ROOT, "vendor/charts/prom-label-proxy-0.22.0/chart");
        expect(YAML.parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")).appVersion).toBe(PROM_LABEL_PROXY_FACTS.version);
        expect(YAML.parse(fs.readFileSync(path.join(chartDir, "values.yaml"), "utf8")).image).toMatchObject({ repository: PROM_LABEL_PROXY_FACTS.image, tag: "" });
        expect(PROM_LABEL_PROXY_FACTS.version).toBe("v0.13.0");
        expect(v.kubeRBACProxy.image).toEqual({ repository: KUBE_RBAC_PROXY_FACTS.image, tag: "v0.21.0" });
        expect(v.config).toMatchObject({ label: "namespace", upstream: "http://kube-prometheus-stack-prometheus.observability:9090" });
        expect(v.kubeRBACProxy.config).toEqual({
            authorization: { rewrites: { byHttpHeader: { name: "X-Namespace" } }, resourceAttributes: { apiGroup: "monitoring.compute-region.io", resource: "metrics", namespace: "{{ .Value }}" } },
        });
        expect(v.replicaCount).toBe(2);
    });

    it("passes each proxy only flags it has at its pinned version, the chart's own included", () => {
        const v = route().props.values;
        // What the chart adds itself (charts/prom-label-proxy/templates/deployment.yaml at prom-label-proxy-0.22.0).
        const plpArgs = [`--insecure-listen-address=${v.config.listenAddress}`, `--upstream=${v.config.upstream}`, `--label=${v.config.label}`, ...v.config.extraArgs];
        const krpArgs = [...v.kubeRBACProxy.extraArgs, `--secure-listen-address=:${v.kubeRBACProxy.port}`, "--upstream=http://127.0.0.1:8080/", "--proxy-endpoints-port=8888", "--config-file=/etc/kube-rbac-proxy-config/config-file.yaml"];
        for (const [flag] of flags(plpArgs)) expect(PROM_LABEL_PROXY_FACTS.flags, flag).toContain(flag);
        for (const [flag] of flags(krpArgs)) expect(KUBE_RBAC_PROXY_FACTS.flags, flag).toContain(flag);
        // kube-rbac-proxy's upstream is prom-label-proxy's listen port, over loopback.
        expect(v.config.listenAddress.split(":").pop()).toBe(String(TENANT_METRICS_API.proxyPort));
        // Only the Prometheus read API passes kube-rbac-proxy, and every such path is one prom-label-proxy enforces.
        const allowed = flags(v.kubeRBACProxy.extraArgs).find(([f]) => f === "allow-paths")![1]!.split(",");
        for (const p of allowed) expect(PROM_LABEL_PROXY_FACTS.enforcedPaths.some((e) => p === e || p.replace("*", "") === e), p).toBe(true);
        expect(allowed).not.toContain("/api/v2/silences");
        // The label APIs are enforced only with the flag (501 without it).
        expect(v.config.extraArgs).toContain(`--${PROM_LABEL_PROXY_FACTS.labelApisFlag}=true`);
    });

    it("is reached by each raw-capacity tenant on kube-rbac-proxy's port only, each by a policy of its own on both sides", () => {
        const policies = ofType(dev.resources, K8S_TYPES.networkPolicy);
        for (const tenant of ["acme", "globex"]) {
            const out = policies.find((p) => p.props.metadata.namespace === `tenant-${tenant}` && p.props.metadata.name === "allow-tenant-metrics-api")!;
            expect(out.props.spec.egress).toEqual([
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prom-label-proxy", "app.kubernetes.io/instance": "tenant-metrics" } } }],
                    ports: [{ protocol: "TCP", port: 8100 }],
                },
            ]);
            const into = policies.find((p) => p.props.metadata.namespace === "observability" && p.props.metadata.name === `allow-tenant-metrics-from-${tenant}`)!;
            expect(into.props.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `tenant-${tenant}` } } }], ports: [{ protocol: "TCP", port: 8100 }] }]);
        }
        // initech only calls models: no namespace, no identity, no route.
        expect(policies.filter((p) => String(p.props.metadata.name).includes("initech"))).toEqual([]);
        const evidence = isolationFromResources(dev.resources);
        expect(evidence.paths).toEqual([]);
        expect(evidence.declaredRoutes.map((d) => `${d.from} -> ${d.to} ${d.ports}`)).toEqual([
            "tenant-acme -> observability (app.kubernetes.io/name=prom-label-proxy,app.kubernetes.io/instance=tenant-metrics) TCP/8100",
            "tenant-globex -> observability (app.kubernetes.io/name=prom-label-proxy,app.kubernetes.io/instance=tenant-metrics) TCP/8100",
        ]);
    });

    it("is a path the proof holds as a finding once either side opens more: prom-label-proxy's own port, or Prometheus", () => {
        const wider = changed(
            (r) => r.type === K8S_TYPES.networkPolicy && (r.props as any).metadata.name === "allow-tenant-metrics-api" && (r.props as any).metadata.namespace === "tenant-acme",
            (p) => p.spec.egress[0].ports.push({ protocol: "TCP", port: 8080 }),
        );
        expect(violationsOf(wider, "tenant-network-isolation")).toEqual([
            "tenant side: tenant-acme/allow-tenant-metrics-api egress[0] reaches the declared route into observability on TCP/8080, beyond its TCP/8100.",
            "tenant-to-internal: tenant-acme can reach observability, opened by egress tenant-acme/allow-tenant-metrics-api; ingress observability/allow-tenant-metrics-from-acme.",
        ]);
        const toPrometheus = changed(
            (r) => r.type === K8S_TYPES.networkPolicy && (r.props as any).metadata.name === "allow-tenant-metrics-from-globex",
            (p) => (p.spec.podSelector = {}),
        );
        expect(violationsOf(toPrometheus, "tenant-network-isolation")).toEqual([
            "tenant-to-internal: tenant-globex can reach observability, opened by egress tenant-globex/allow-tenant-metrics-api; ingress observability/allow-tenant-metrics-from-globex.",
        ]);
        const toAcme = changed(
            (r) => r.type === K8S_TYPES.networkPolicy && (r.props as any).metadata.name === "allow-tenant-metrics-api" && (r.props as any).metadata.namespace === "tenant-globex",
            (p) => (p.spec.egress[0].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"] = "tenant-acme"),
        );
        expect(violationsOf(toAcme, "tenant-network-isolation")[0]).toContain("tenant-globex/allow-tenant-metrics-api egress[0] reaches namespace tenant-acme");
    });
});

describe("what each tenant may read", () => {
    const role = (ns: string, name: string) => ofType(dev.resources, K8S_TYPES.role).find((r) => r.props.metadata.namespace === ns && r.props.metadata.name === name)!;
    const binding = (ns: string, name: string) => ofType(dev.resources, K8S_TYPES.roleBinding).find((r) => r.props.metadata.namespace === ns && r.props.metadata.name === name)!;

    it("members: the metrics of their namespace and the pending workloads of their own LocalQueues, nothing cluster-wide", () => {
        const rules = role("tenant-acme", "tenant-member").props.rules;
        expect(rules).toContainEqual({ apiGroups: ["monitoring.compute-region.io"], resources: ["metrics"], verbs: ["get", "create"] });
        expect(rules).toContainEqual({ apiGroups: [KUEUE_VISIBILITY.group], resources: ["localqueues/pendingworkloads"], verbs: ["get", "list", "watch"] });
        expect(JSON.stringify(rules)).not.toContain("clusterqueues/pendingworkloads");
        expect(binding("tenant-acme", "tenant-member").props.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "tenant:acme:members" }]);
        // The visibility API at Kueue 0.14.2 is v1beta1, and the LocalQueue it names is acme's own.
        expect(KUEUE_VISIBILITY.version).toBe("v1beta1");
        const queues = ofType(dev.resources, K8S_TYPES.localQueue).filter((q) => q.props.metadata.namespace === "tenant-acme").map((q) => q.props.metadata.name);
        expect(queues.sort()).toEqual(["acme-l40s", "shared-l40s"]);
    });

    it("service accounts of the namespace: its metrics only (for the tenant's own Grafana and jobs)", () => {
        expect(role("tenant-globex", "tenant-metrics-reader").props.rules).toEqual([{ apiGroups: ["monitoring.compute-region.io"], resources: ["metrics"], verbs: ["get", "create"] }]);
        expect(binding("tenant-globex", "tenant-metrics-reader").props.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:serviceaccounts:tenant-globex" }]);
    });

    it("each grant, widened to another tenant, fails tenant-views-rbac-scoped", () => {
        const shared = changed(
            (r) => r.type === K8S_TYPES.roleBinding && (r.props as any).metadata.namespace === "tenant-acme" && (r.props as any).metadata.name === "tenant-member",
            (p) => p.subjects.push({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "tenant:globex:members" }),
        );
        expect(violationsOf(shared, "tenant-views-rbac-scoped")).toEqual([
            "RoleBinding tenant-acme/tenant-member gives Group tenant:globex:members (of tenant-globex) the metrics, queue positions and statements of tenant-acme: only tenant-acme's own members and service accounts may have them.",
        ]);
        expect(violationsOf(dev.resources, "tenant-views-rbac-scoped")).toEqual([]);
    });

    it("the Kueue release turns on LocalQueue metrics, and the DCGM and Kueue scrapes keep the workload's namespace", () => {
        const kueue = ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.name === "kueue")!;
        expect(kueue.props.values.controllerManager.featureGates).toEqual([{ name: "LocalQueueMetrics", enabled: true }]);
        expect(ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.name === "dcgm-exporter")!.props.values.serviceMonitor.honorLabels).toBe(true);
        const kueueMonitor = ofType(dev.resources, MONITORING_TYPES.serviceMonitor).find((m) => m.props.metadata.name === "kueue")!;
        expect(kueueMonitor.props.spec.endpoints[0].honorLabels).toBe(true);
        expect(violationsOf(dev.resources, "tenant-metrics-route-enforced")).toEqual([]);
    });
});

describe("acme's statements in the dev plan", () => {
    type Subject = { kind: "Group" | "ServiceAccount"; name: string; namespace?: string };
    const members = (tenant: string): Subject => ({ kind: "Group", name: `tenant:${tenant}:members` });
    const serviceAccount = (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", name, namespace });
    const statementJob = serviceAccount(USAGE_STATEMENTS.namespace, USAGE_STATEMENTS.serviceAccount);
    /** The groups the API server puts a subject in (a service account's namespace group and the cluster-wide ones). */
    const groupsOf = (s: Subject) => (s.kind === "Group" ? [s.name, "system:authenticated"] : [`system:serviceaccounts:${s.namespace}`, "system:serviceaccounts", "system:authenticated"]);
    const bound = (subject: Subject, b: Record<string, any>) =>
        [b.subjects ?? []].flat().some((x: any) => (x.kind === "Group" && groupsOf(subject).includes(x.name)) || (x.kind === "ServiceAccount" && subject.kind === "ServiceAccount" && x.name === subject.name && (x.namespace ?? b.metadata?.namespace) === subject.namespace));
    const grants = (rules: unknown, verb: string) =>
        [rules ?? []].flat().some((r: any) => [r.apiGroups].flat().some((g: string) => g === USAGE_STATEMENTS.group || g === "*") && [r.resources].flat().some((x: string) => x === USAGE_STATEMENTS.plural || x === "*") && [r.verbs].flat().some((v: string) => v === verb || v === "*"));
    /** What RBAC in the plan lets `subject` do to UsageStatements in `namespace`, as the API server's RBAC authorizer decides it. */
    function may(subject: Subject, verb: string, namespace: string): boolean {
        const roles = ofType(dev.resources, K8S_TYPES.role);
        const clusterRoles = ofType(dev.resources, K8S_TYPES.clusterRole);
        const rulesOf = (ref: any, ns?: string) => (ref.kind === "Role" ? roles.find((r) => r.props.metadata.namespace === ns && r.props.metadata.name === ref.name) : clusterRoles.find((r) => r.props.metadata.name === ref.name))?.props.rules;
        const inNamespace = ofType(dev.resources, K8S_TYPES.roleBinding).filter((b) => b.props.metadata.namespace === namespace);
        return [...inNamespace, ...ofType(dev.resources, K8S_TYPES.clusterRoleBinding)].some((b) => bound(subject, b.props) && grants(rulesOf(b.props.roleRef, b.props.metadata.namespace), verb));
    }
    const READ = ["get", "list", "watch"];
    const WRITE = ["create", "update", "patch", "delete", "deletecollection"];

    it("acme's members read acme's statements, write none, and read nothing of globex's (nor globex of acme's)", () => {
        for (const verb of READ) {
            expect(may(members("acme"), verb, "tenant-acme"), verb).toBe(true);
            expect(may(members("acme"), verb, "tenant-globex"), verb).toBe(false);
            expect(may(members("globex"), verb, "tenant-acme"), verb).toBe(false);
            expect(may(members("globex"), verb, "tenant-globex"), verb).toBe(true);
        }
        for (const verb of WRITE) for (const ns of ["tenant-acme", "tenant-globex"]) expect(may(members("acme"), verb, ns), `${verb} in ${ns}`).toBe(false);
        // Their pods neither: acme's service accounts read metrics only.
        for (const verb of [...READ, ...WRITE]) expect(may(serviceAccount("tenant-acme", "default"), verb, "tenant-acme"), verb).toBe(false);
        // The members reach the API server as that group only: an access entry per member role, no access policy.
        const entries = ofType(dev.resources, TYPES.eksAccessEntry).filter((e) => e.props.kubernetesGroups?.includes("tenant:acme:members"));
        expect(entries.length).toBeGreaterThan(0);
        for (const e of entries) expect(e.props.kubernetesGroups).toEqual(["tenant:acme:members"]);
        expect(dev.resources.filter((r) => r.type === "aws:eks/accessPolicyAssociation:AccessPolicyAssociation" && String(r.props.principalArn).includes("acme"))).toEqual([]);
    });

    it("only the statement Job writes them, in tenants' namespaces only, and deletes none", () => {
        for (const ns of ["tenant-acme", "tenant-globex"]) {
            for (const verb of ["get", "list", "create", "patch", "update"]) expect(may(statementJob, verb, ns), `${verb} in ${ns}`).toBe(true);
            for (const verb of ["delete", "deletecollection"]) expect(may(statementJob, verb, ns), `${verb} in ${ns}`).toBe(false);
        }
        for (const ns of ["billing", "observability", "kube-system", "default"]) expect(may(statementJob, "create", ns), ns).toBe(false);
        const crd = ofType(dev.resources, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").find((c) => c.props.metadata.name === `${USAGE_STATEMENTS.plural}.${USAGE_STATEMENTS.group}`)!;
        expect(crd.props.spec).toMatchObject({ group: USAGE_STATEMENTS.group, scope: "Namespaced", names: { kind: "UsageStatement" } });
        const job = ofType(dev.resources, K8S_TYPES.cronJob).find((j) => j.props.metadata.namespace === "billing" && j.props.metadata.name === USAGE_STATEMENTS.cronJob)!;
        const pod = job.props.spec.jobTemplate.spec.template;
        expect(pod.spec.serviceAccountName).toBe(USAGE_STATEMENTS.serviceAccount);
        expect(pod.spec.containers[0].command).toContain("publish-statements");
        expect(pod.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: "PGUSER", value: TENANT_BILLING_DB.statementsRole }, { name: "PGIAMAUTH", value: "true" }]));
        expect(ofType(dev.resources, TYPES.eksPodIdentityAssociation).filter((a) => a.props.serviceAccount === USAGE_STATEMENTS.serviceAccount).map((a) => a.props.namespace)).toEqual(["billing"]);
        expect(violationsOf(dev.resources, "tenant-billing-rows-scoped")).toEqual([]);
        expect(violationsOf(dev.resources, "tenant-views-rbac-scoped")).toEqual([]);
    });

    it("the Job's way to the API server is a path the functional proof requires: without its egress policy it is cut", () => {
        const picture = clusterPicture(fromSnapshots(dev.resources));
        const publish = requiredPaths(picture).filter((p) => p.why === "applies tenants' UsageStatements");
        expect(publish.map((p) => `${p.from.name} -> ${p.to.name} ${p.port}`)).toHaveLength(1);
        expect(proveFunctionalPaths(picture).cut).toEqual([]);
        const withoutEgress = dev.resources.filter((r) => !(r.type === K8S_TYPES.networkPolicy && (r.props as any).metadata.name === "statements-egress"));
        const cut = proveFunctionalPaths(clusterPicture(fromSnapshots(withoutEgress))).cut.map((c) => c.path);
        expect(cut.some((c) => c.includes("the Kubernetes API") && c.includes("TCP/443"))).toBe(true);
    });

    it("written by acme's members (the writer's binding widened to them) fails tenant-views-rbac-scoped", () => {
        const shared = changed(
            (r) => r.type === K8S_TYPES.roleBinding && (r.props as any).metadata.namespace === "tenant-acme" && (r.props as any).metadata.name === USAGE_STATEMENTS.writerRole,
            (p) => p.subjects.push({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "tenant:acme:members" }),
        );
        expect(violationsOf(shared, "tenant-views-rbac-scoped")).toEqual([
            "RoleBinding tenant-acme/billing-statement-writer lets Group tenant:acme:members create, patch, update UsageStatements in tenant-acme: only the billing statement Job (ServiceAccount billing/billing-statements) writes them, from the billing database as the tenant's own role.",
        ]);
    });

    it("no tenant has any network path into the billing namespace: statements reach tenants through the API server", () => {
        const evidence = isolationFromResources(dev.resources);
        expect(evidence.paths).toEqual([]);
        expect(evidence.declaredRoutes.filter((d) => d.to.startsWith("billing"))).toEqual([]);
        // The billing namespace is one the proof judges every tenant against (every namespace of the plan).
        expect(ofType(dev.resources, K8S_TYPES.namespace).map((n) => n.props.metadata.name)).toEqual(expect.arrayContaining(["billing", "tenant-acme", "tenant-globex"]));
        expect(evidence.namespacesAnalysed).toBeGreaterThanOrEqual(ofType(dev.resources, K8S_TYPES.namespace).length);
        expect(evidence.tenantsAnalysed).toBe(2);
    });
});

describe("the tenant guide", () => {
    it("gives the commands against the route, header and visibility API version the plan installs", () => {
        const guide = fs.readFileSync(path.join(ROOT, "docs/tenant-guide.md"), "utf8");
        expect(guide).toContain(TENANT_METRICS_URL);
        expect(guide).toContain(`${TENANT_METRICS_API.header}: tenant-acme`);
        expect(guide).toContain(`kubectl get --raw /apis/${KUEUE_VISIBILITY.group}/${KUEUE_VISIBILITY.version}/namespaces/tenant-acme/localqueues/shared-l40s/pendingworkloads`);
        for (const record of Object.values(TENANT_GATEWAY_RECORDS)) expect(guide).toContain(record);
        const release = route().props;
        expect(`https://${release.values.fullnameOverride}.${release.namespace}.svc:${release.values.service.port}`).toBe(TENANT_METRICS_URL);
    });
});

describe("the tenant guide on usage statements", () => {
    it("names the objects, columns, schedule and fields the plan's CRD and Job have", () => {
        const guide = fs.readFileSync(path.join(ROOT, "docs/tenant-guide.md"), "utf8");
        const section = guide.slice(guide.indexOf("## 10. What you used"), guide.indexOf("## Closing an account"));
        expect(section.length).toBeGreaterThan(1000);
        const crd = ofType(dev.resources, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").find((c) => c.props.spec.group === USAGE_STATEMENTS.group)!;
        const version = crd.props.spec.versions[0];
        expect(section).toContain(`kubectl get ${crd.props.spec.names.plural}`);
        expect(section).toContain(`kubectl get ${crd.props.spec.names.shortNames[0]}`);
        // kubectl's table header: NAME, then the printer columns upper-cased.
        expect(section).toMatch(new RegExp(["NAME", ...version.additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase())].join("\\s+")));
        const minute = ofType(dev.resources, K8S_TYPES.cronJob).find((j) => j.props.metadata.name === USAGE_STATEMENTS.cronJob)!.props.spec.schedule.split(" ")[0];
        expect(section).toContain(`at minute ${minute}`);
        // Every field path the guide reads is in the CRD's schema.
        const schema = version.schema.openAPIV3Schema;
        const paths = [...section.matchAll(/\.statement((?:\.[a-zA-Z]+(?:\[\*\])?)+)/g)].map((m) => m[1]);
        expect(paths).toHaveLength(5);
        const at = (p: string) => {
            let node: any = schema.properties.statement;
            for (const key of p.split(".").filter(Boolean)) {
                node = (node.type === "array" ? node.items : node).properties?.[key.replace("[*]", "")];
                expect(node, `.statement${p} in the guide is not in the UsageStatement schema`).toBeDefined();
            }
            return node;
        };
        for (const p of paths) at(p);
        // And each field a range prints is a property of the list's items.
        const ranges = [...section.matchAll(/\{range \.statement([^}]+)\[\*\]\}(.*?)\{end\}/g)];
        expect(ranges).toHaveLength(3);
        for (const [, list, body] of ranges) {
            const items = at(list).items;
            for (const [, field] of body.matchAll(/\{\.([a-zA-Z]+)\}/g)) expect(items.properties[field], `${field} of .statement${list}`).toBeDefined();
        }
        for (const field of ["status", "bought", "contracts", "gpu", "tokens", "charges"]) expect(section).toContain(`| \`${field}\` |`);
    });
});

describe("tenant dashboards", () => {
    const maps = () => ofType(dev.resources, MONITORING_TYPES.configMap).filter((c) => c.props.metadata.labels?.[TENANT_DASHBOARDS.label] === "true");

    it("each raw-capacity tenant gets its own, in its namespace, for a Grafana sidecar", () => {
        expect(maps().map((m) => `${m.props.metadata.namespace}: ${Object.keys(m.props.data).sort().join(", ")}`).sort()).toEqual(["tenant-acme: tenant-queues.json, tenant-usage.json", "tenant-globex: tenant-queues.json, tenant-usage.json"]);
        for (const m of maps()) expect(m.props.metadata.labels.grafana_dashboard).toBe("1");
    });

    it.each(tenantDashboards("tenant-acme", { queues: true, models: true }).map((d) => [d.title, d] as const))("%s is a valid dashboard whose every selector is acme's", (_t, d) => {
        expectValidDashboard(d);
        const targets = (d.panels ?? []).flatMap((p) => ("targets" in p ? (p.targets ?? []) : [])) as { expr: string; datasource: { uid: string } }[];
        expect(targets.length).toBeGreaterThan(2);
        for (const t of targets) {
            expect(t.datasource.uid).toBe("${datasource}");
            expect(unscopedSelectors(t.expr, "tenant-acme"), t.expr).toEqual([]);
            // The same query is not globex's: the check is about the namespace, not about having one.
            expect(unscopedSelectors(t.expr, "tenant-globex").length).toBeGreaterThan(0);
        }
        expect(d.templating?.list?.[0]).toMatchObject({ name: "datasource", type: "datasource", query: "prometheus" });
    });

    it("reads a query the same whichever namespace's query of the same template was read before", () => {
        const cases: [expr: string, namespace: string, unscoped: { selector: string; why: string }[]][] = [
            ['x{namespace="tenant-b"}', "tenant-b", []],
            ['x{namespace="tenant-a"}', "tenant-a", []],
            ['x{namespace="tenant-a"}', "tenant-b", [{ selector: 'x{namespace="tenant-a"}', why: 'matches namespace="tenant-a", not namespace="tenant-b"' }]],
            ['x{namespace=~"tenant-a|tenant-b"}', "tenant-a", [{ selector: 'x{namespace=~"tenant-a|tenant-b"}', why: 'matches namespace=~"tenant-a|tenant-b", not namespace="tenant-a"' }]],
            ['x{"namespace"="tenant-c"} # tenant-c', "tenant-c", []],
            // Outside a string the namespace is read as PromQL: two series subtracted, or a metric name.
            ['sum(tenant-acme{namespace="tenant-acme"})', "tenant-acme", [{ selector: "tenant", why: "has no namespace matcher" }]],
            ['sum(tenant-acme{namespace="tenant-globex"})', "tenant-globex", [{ selector: "tenant", why: "has no namespace matcher" }]],
            ['up{namespace="up"}', "up", []],
            // Inside a quoted label name it is part of the name.
            ['x{"namespace"="space"}', "space", []],
            ['x{namespace="tenant-acme', "tenant-acme", [{ selector: 'x{namespace="tenant-acme', why: "does not parse as PromQL" }]],
        ];
        for (const [expr, namespace, unscoped] of cases) expect(unscopedSelectors(expr, namespace), `${expr} for ${namespace}`).toEqual(unscoped);
    });

    it("a dashboard query edited to drop the namespace fails tenant-dashboards-scoped", () => {
        const edited = changed(
            (r) => r.type === MONITORING_TYPES.configMap && (r.props as any).metadata.namespace === "tenant-globex" && (r.props as any).metadata.name === "tenant-dashboards",
            (p) => (p.data["tenant-usage.json"] = p.data["tenant-usage.json"].replace('DCGM_FI_DEV_GPU_UTIL{namespace=\\"tenant-globex\\"}', "DCGM_FI_DEV_GPU_UTIL")),
        );
        expect(violationsOf(edited, "tenant-dashboards-scoped")).toEqual(['tenant dashboard tenant-globex/tenant-usage panel "GPU utilisation" query A: DCGM_FI_DEV_GPU_UTIL has no namespace matcher.']);
        expect(violationsOf(dev.resources, "tenant-dashboards-scoped")).toEqual([]);
    });
});

// ---------------------------------------------------------------------------------------------
// The dashboards' queries on a real Prometheus (Debian's 2.x; the region runs 3.x: every range here
// is many scrape intervals long, so the left-open ranges of 3.0 change no result).

const END = Date.UTC(2026, 10, 2, 12, 0) / 1000;
const START = END - 2 * 3600;
const times = Array.from({ length: (END - START) / 60 + 1 }, (_, i) => START + i * 60);
const gauge = (name: string, labels: Record<string, string>, value: number): Series => ({ name, labels, samples: times.map((t) => [t, value]) });
const counter = (name: string, labels: Record<string, string>, perSecond: number): Series => ({ name, labels, samples: times.map((t) => [t, (t - START) * perSecond]) });

/**
 * One tenant's series as the exporters (and the tenant-views recording rules) write them; `scale`
 * keeps each tenant's values apart, and its histograms differ in shape too (so a quantile would).
 */
function tenantSeries(tenant: string, scale: number): Series[] {
    const shape = (i: number) => (scale === 1 ? i + 1 : 5);
    const namespace = `tenant-${tenant}`;
    const pod = `${tenant}-train-0`;
    const queue = { namespace, name: "shared-l40s" };
    const model = { namespace, gen_ai_request_model: "llama-3-8b" };
    const wait = [1, 10, 60, 600, "+Inf"].map((le, i) => counter("kueue_local_queue_admission_wait_time_seconds_bucket", { ...queue, le: String(le) }, 0.01 * scale * shape(i)));
    const latency = [0.5, 1, 5, "+Inf"].map((le, i) => gauge(TENANT_GATEWAY_RECORDS.latencyBuckets, { ...model, le: String(le) }, scale * shape(i)));
    return [
        gauge("DCGM_FI_DEV_GPU_UTIL", { namespace, pod, gpu: "0", Hostname: "gpu-node-1" }, 10 * scale),
        gauge("DCGM_FI_DEV_FB_USED", { namespace, pod, gpu: "0", Hostname: "gpu-node-1" }, 1000 * scale),
        gauge("kube_pod_container_resource_requests", { namespace, pod, container: "train", resource: "nvidia_com_gpu", unit: "integer" }, scale),
        gauge("kube_pod_status_phase", { namespace, pod, phase: "Running" }, 1),
        gauge("kube_pod_status_phase", { namespace, pod, phase: "Pending" }, 0),
        gauge("kube_resourcequota", { namespace, resourcequota: "tenant-backstop", resource: "requests.nvidia.com/gpu", type: "hard" }, 2 * scale),
        counter("container_cpu_usage_seconds_total", { namespace, pod, container: "train" }, scale),
        gauge("container_memory_working_set_bytes", { namespace, pod, container: "train" }, 1e9 * scale),
        gauge("kueue_local_queue_pending_workloads", { ...queue, status: "active" }, scale),
        gauge("kueue_local_queue_admitted_active_workloads", queue, 2 * scale),
        gauge("kueue_local_queue_resource_usage", { ...queue, flavor: "shared-l40s", resource: "nvidia.com/gpu" }, scale),
        ...wait,
        counter("kueue_local_queue_evicted_workloads_total", { ...queue, reason: "Preempted" }, scale / 3600),
        gauge(TENANT_GATEWAY_RECORDS.requests, model, 3 * scale),
        gauge(TENANT_GATEWAY_RECORDS.requests, { ...model, error_type: "_OTHER" }, 0.1 * scale),
        gauge(TENANT_GATEWAY_RECORDS.tokens, { ...model, gen_ai_token_type: "input" }, 100 * scale),
        gauge(TENANT_GATEWAY_RECORDS.tokens, { ...model, gen_ai_token_type: "output" }, 50 * scale),
        ...latency,
    ];
}

/** An idle GPU: no pod, so the scrape's own namespace (dcgm-exporter's). */
const unallocated = gauge("DCGM_FI_DEV_GPU_UTIL", { namespace: "observability", pod: "dcgm-exporter-abcde", gpu: "3", Hostname: "gpu-node-1" }, 0);

async function query(server: TestPrometheus, expr: string): Promise<string> {
    const r = await fetch(`${server.url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(END) })}`);
    const body = (await r.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return JSON.stringify(body.data.result.map((s) => [s.metric, s.value[1]]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
}

describe("acme's dashboards on a real Prometheus holding both tenants' series", () => {
    let both: TestPrometheus;
    let acmeOnly: TestPrometheus;
    const acme = tenantSeries("acme", 1);
    beforeAll(async () => {
        [both, acmeOnly] = await Promise.all([startPrometheus([...acme, ...tenantSeries("globex", 7), unallocated]), startPrometheus(acme)]);
    }, 60_000);
    afterAll(async () => {
        await Promise.all([both?.stop(), acmeOnly?.stop()]);
    });

    const dashboards: Dashboard[] = tenantDashboards("tenant-acme", { queues: true, models: true });
    const exprs = dashboards.flatMap((d) => (d.panels ?? []).flatMap((p) => ("targets" in p ? ((p.targets ?? []) as { expr: string }[]) : []).map((t) => [`${d.uid}: ${p.title}`, t.expr] as const)));

    it.each(exprs)("%s: the same answer with globex's series there or not, and an answer", async (_where, expr) => {
        const withGlobex = await query(both, expr);
        expect(withGlobex).toBe(await query(acmeOnly, expr));
        expect(withGlobex).not.toBe("[]");
        expect(withGlobex).not.toContain("globex");
        // Without its namespace matcher the same query would show globex's series, or its numbers: the test can tell.
        const unscoped = expr.replaceAll('namespace="tenant-acme"', 'namespace!=""');
        expect(await query(both, unscoped)).not.toBe(await query(acmeOnly, unscoped));
    });
});

describe("the tenant-views recording rules under promtool", () => {
    it("put each tenant's gateway series under its own namespace, by model", () => {
        const series = (name: string, labels: string, values: string) => ({ series: `${name}{${labels}}`, values });
        const gw = 'namespace="envoy-ai-gateway-system",gen_ai_request_model="llama-3-8b"';
        const doc = {
            rule_files: ["rules.yaml"],
            evaluation_interval: "1m",
            tests: [
                {
                    interval: "1m",
                    input_series: [
                        series("gen_ai_server_request_duration_seconds_count", `${gw},tenant="acme"`, "0+60x20"),
                        series("gen_ai_server_request_duration_seconds_count", `${gw},tenant="globex"`, "0+600x20"),
                        series("gen_ai_server_request_duration_seconds_count", `${gw},tenant="acme",error_type="_OTHER"`, "0+6x20"),
                        // Requests the gateway could not tie to a tenant stay the gateway's.
                        series("gen_ai_server_request_duration_seconds_count", gw, "0+30x20"),
                        series("gen_ai_client_token_usage_sum", `${gw},tenant="acme",gen_ai_token_type="input"`, "0+1200x20"),
                        series("gen_ai_server_request_duration_seconds_bucket", `${gw},tenant="acme",le="1"`, "0+60x20"),
                        series("gen_ai_server_request_duration_seconds_bucket", `${gw},tenant="acme",le="+Inf"`, "0+60x20"),
                    ],
                    promql_expr_test: [
                        {
                            expr: TENANT_GATEWAY_RECORDS.requests,
                            eval_time: "15m",
                            exp_samples: [
                                { labels: `${TENANT_GATEWAY_RECORDS.requests}{namespace="tenant-acme",gen_ai_request_model="llama-3-8b"}`, value: 1 },
                                { labels: `${TENANT_GATEWAY_RECORDS.requests}{namespace="tenant-acme",gen_ai_request_model="llama-3-8b",error_type="_OTHER"}`, value: 0.1 },
                                { labels: `${TENANT_GATEWAY_RECORDS.requests}{namespace="tenant-globex",gen_ai_request_model="llama-3-8b"}`, value: 10 },
                            ],
                        },
                        { expr: TENANT_GATEWAY_RECORDS.tokens, eval_time: "15m", exp_samples: [{ labels: `${TENANT_GATEWAY_RECORDS.tokens}{namespace="tenant-acme",gen_ai_request_model="llama-3-8b",gen_ai_token_type="input"}`, value: 20 }] },
                        {
                            expr: TENANT_GATEWAY_RECORDS.latencyBuckets,
                            eval_time: "15m",
                            exp_samples: ["1", "+Inf"].map((le) => ({ labels: `${TENANT_GATEWAY_RECORDS.latencyBuckets}{namespace="tenant-acme",gen_ai_request_model="llama-3-8b",le="${le}"}`, value: 1 })),
                        },
                    ],
                },
            ],
        };
        const r = promtoolTestRules(doc, tenantGatewayRecordingRules());
        expect(r.output).toContain("SUCCESS");
        expect(r.status).toBe(0);
        // The plan installs them where the region serves models.
        const rule = one(dev.resources, MONITORING_TYPES.prometheusRule, "dev-tenant-metrics-records");
        expect(rule.props.spec.groups).toEqual(tenantGatewayRecordingRules());
    });
});
