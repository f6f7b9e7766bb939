import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TENANT_NAMESPACE_PREFIX } from "../model/domain/conventions";
import { TENANT_DASHBOARDS, unscopedSelectors } from "../model/domain/tenant-observability";
import { MONITORING_TYPES } from "../model/domain/types";
import { dashboardJson, dashboardsMap } from "../samples/tenant-views";

const OWN = 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="tenant-acme",container!=""}[5m]))';
const QUEUES = 'sum by (name, status) (kueue_local_queue_pending_workloads{namespace="tenant-acme"})';

/** Every panel target of a dashboard document, with where it is. */
function targets(dashboard: any): { panel: string; refId: string; expr: unknown; datasource: any }[] {
    const out: { panel: string; refId: string; expr: unknown; datasource: any }[] = [];
    const visit = (panels: unknown) => {
        for (const p of Array.isArray(panels) ? panels : []) {
            if (typeof p !== "object" || p === null) continue;
            const panel = p as any;
            for (const t of Array.isArray(panel.targets) ? panel.targets : []) out.push({ panel: String(panel.title ?? panel.id ?? "?"), refId: String(t?.refId ?? "?"), expr: t?.expr, datasource: t?.datasource ?? panel.datasource });
            visit(panel.panels); // rows hold panels of their own
        }
    };
    visit(dashboard?.panels);
    return out;
}

export const tenantDashboardsScoped = stackPolicy({
    name: "tenant-dashboards-scoped",
    description:
        "Every dashboard the region hands a tenant (the tenant-dashboards ConfigMap of its namespace) queries through the data source the tenant picks (the tenant metrics API) and holds every selector of every query to the tenant's own namespace.",
    rationale:
        "A tenant imports these dashboards into a Grafana of its own and may point them at any data source. A query that names " +
        "another namespace, or none, shows other customers' series wherever the data source does not enforce the namespace; held " +
        "in every selector, the dashboard is scoped whatever it runs against. Queries are parsed with Prometheus' own grammar.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Build tenant dashboards with components/tenant-dashboards.ts, whose every selector goes through scoped(namespace, ...).",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-DI-1", title: "Data isolation between tenants" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-4", title: "Information Flow Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security software, infrastructure and architectures" },
    ],
    validateStack: (args, report) => {
        const maps = resourcesOfType(args, MONITORING_TYPES.configMap).filter((r) => r.props.metadata?.labels?.[TENANT_DASHBOARDS.label] === "true");
        for (const m of maps) {
            const ns = String(m.props.metadata?.namespace ?? "");
            if (!ns.startsWith(TENANT_NAMESPACE_PREFIX)) {
                report(`tenant dashboards ConfigMap ${ns}/${m.props.metadata?.name} is not in a tenant namespace: a tenant dashboard belongs to its tenant's namespace.`, m.urn);
                continue;
            }
            for (const [key, text] of Object.entries(m.props.data ?? {})) {
                let dashboard: any;
                try {
                    dashboard = JSON.parse(String(text));
                } catch {
                    report(`tenant dashboard ${ns}/${key} is not JSON.`, m.urn);
                    continue;
                }
                const uid = dashboard?.uid ?? key;
                const all = targets(dashboard);
                if (all.length === 0) report(`tenant dashboard ${ns}/${uid} has no queries.`, m.urn);
                for (const t of all) {
                    const where = `tenant dashboard ${ns}/${uid} panel "${t.panel}" query ${t.refId}`;
                    const uidOf = t.datasource?.uid;
                    if (uidOf !== `\${${TENANT_DASHBOARDS.datasourceVariable}}`) report(`${where} queries the data source ${JSON.stringify(uidOf ?? null)}, not the one the tenant picks (\${${TENANT_DASHBOARDS.datasourceVariable}}, the tenant metrics API).`, m.urn);
                    if (typeof t.expr !== "string" || t.expr.trim() === "") {
                        report(`${where} has no PromQL expression.`, m.urn);
                        continue;
                    }
                    for (const u of unscopedSelectors(t.expr, ns)) report(`${where}: ${u.selector} ${u.why}.`, m.urn);
                }
            }
        }
    },
    samples: {
        allowed: [{ description: "acme's dashboards: every selector held to tenant-acme.", resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", [OWN, QUEUES, `sum(${'kube_pod_status_phase{namespace="tenant-acme",phase="Running"}'} == 1) or vector(0)`]) })] }],
        disallowed: [
            {
                description: "A query with no namespace at all: every tenant's GPUs.",
                expect: 'tenant dashboard tenant-acme/tenant-usage panel "panel 2" query A: DCGM_FI_DEV_GPU_UTIL has no namespace matcher',
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", [OWN, "DCGM_FI_DEV_GPU_UTIL"]) })],
            },
            {
                description: "One side of a join unscoped.",
                expect: 'kube_pod_status_phase{phase="Running"} has no namespace matcher',
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", ['sum(kube_pod_container_resource_requests{namespace="tenant-acme"} * on(namespace, pod) group_left() kube_pod_status_phase{phase="Running"})']) })],
            },
            {
                description: "A regular expression over every tenant namespace.",
                expect: 'matches namespace=~"tenant-.+", not namespace="tenant-acme"',
                resources: [dashboardsMap("tenant-acme", { "tenant-queues.json": dashboardJson("tenant-queues", ['sum by (namespace) (kueue_local_queue_pending_workloads{namespace=~"tenant-.+"})']) })],
            },
            {
                description: "Another tenant's namespace.",
                expect: 'matches namespace="tenant-globex", not namespace="tenant-acme"',
                resources: [dashboardsMap("tenant-acme", { "tenant-queues.json": dashboardJson("tenant-queues", ['kueue_local_queue_pending_workloads{namespace="tenant-globex"}']) })],
            },
            {
                description: "The operators' Prometheus data source, which enforces nothing.",
                expect: 'queries the data source "prometheus", not the one the tenant picks',
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", [OWN], { type: "prometheus", uid: "prometheus" }) })],
            },
            {
                description: "A query that does not parse cannot be shown to be scoped.",
                expect: 'sum(rate(container_cpu_usage_seconds_total{namespace="tenant-acme"}[5m]) does not parse as PromQL',
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", ['sum(rate(container_cpu_usage_seconds_total{namespace="tenant-acme"}[5m])']) })],
            },
            {
                description: "A dashboard that is not JSON.",
                expect: "tenant dashboard tenant-acme/tenant-usage.json is not JSON",
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": "{ not json" })],
            },
            {
                description: "A panel with no expression.",
                expect: 'panel "panel 1" query A has no PromQL expression',
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", [""]) })],
            },
            {
                description: "A dashboard with no queries at all.",
                expect: "tenant dashboard tenant-acme/tenant-usage has no queries",
                resources: [dashboardsMap("tenant-acme", { "tenant-usage.json": dashboardJson("tenant-usage", []) })],
            },
            {
                description: "Tenant dashboards outside any tenant namespace.",
                expect: "tenant dashboards ConfigMap observability/tenant-dashboards is not in a tenant namespace",
                resources: [dashboardsMap("observability", { "tenant-usage.json": dashboardJson("tenant-usage", [OWN]) })],
            },
        ],
    },
});
