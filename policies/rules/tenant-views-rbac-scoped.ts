import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TENANT_NAMESPACE_PREFIX, tenantNamespace, tenantOfGroup } from "../model/domain/conventions";
import { STATEMENT_WRITER_RULES, TENANT_STATEMENT_RULES, USAGE_STATEMENTS } from "../model/domain/tenant-billing";
import { namespaceOfServiceAccountsGroup, TENANT_METRICS_API } from "../model/domain/tenant-observability";
import { K8S_TYPES } from "../model/domain/types";
import { asList } from "../model/domain/values";
import { KUEUE_VISIBILITY } from "../model/upstream/tenant-metrics";
import { sample } from "../samples/sample";
import { group, VIEW_RULES, viewBinding, viewRole } from "../samples/tenant-views";

type View = "metrics" | "queue positions" | "statements" | "the cluster-wide queues";

/** The verbs that change an object: a grant of one on UsageStatements lets its holder write what a tenant is told it owes. */
const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "*"];

/**
 * Kueue's own ClusterRoles that grant the visibility API (charts/kueue/templates/rbac at v0.14.2,
 * aggregated by label into the batch roles): binding one is granting what it aggregates.
 */
const KUEUE_VIEW_CLUSTER_ROLES: Readonly<Record<string, View[]>> = {
    "kueue-pending-workloads-lq-viewer-role": ["queue positions"],
    "kueue-pending-workloads-cq-viewer-role": ["the cluster-wide queues"],
    "kueue-batch-user-role": ["queue positions"],
    "kueue-batch-admin-role": ["queue positions", "the cluster-wide queues"],
};

const has = (list: unknown, value: string) => asList(list).some((x) => x === value || x === "*");

/** What of the tenant views a role's rules grant. */
function viewsOf(rules: unknown): View[] {
    const views = new Set<View>();
    for (const rule of asList(rules)) {
        if (!rule || asList(rule.verbs).length === 0) continue;
        if (has(rule.apiGroups, TENANT_METRICS_API.access.apiGroup) && has(rule.resources, TENANT_METRICS_API.access.resource)) views.add("metrics");
        if (has(rule.apiGroups, USAGE_STATEMENTS.group) && has(rule.resources, USAGE_STATEMENTS.plural)) views.add("statements");
        if (has(rule.apiGroups, KUEUE_VISIBILITY.group)) {
            const resources: readonly string[] = asList(rule.resources);
            if (resources.some((r) => r === "*" || r === KUEUE_VISIBILITY.localQueueResource || r === "localqueues/*")) views.add("queue positions");
            if (resources.some((r) => r === "*" || r === KUEUE_VISIBILITY.clusterQueueResource || r === "clusterqueues/*")) views.add("the cluster-wide queues");
        }
    }
    return [...views];
}

/** The verbs of a role's rules that write UsageStatements. */
function statementWrites(rules: unknown): string[] {
    const verbs = new Set<string>();
    for (const rule of [rules ?? []].flat() as any[]) {
        if (!rule || !has(rule.apiGroups, USAGE_STATEMENTS.group) || !has(rule.resources, USAGE_STATEMENTS.plural)) continue;
        for (const v of [rule.verbs ?? []].flat() as string[]) if (WRITE_VERBS.includes(v)) verbs.add(v);
    }
    return [...verbs];
}

/** The statement Job's service account: it reads and writes every tenant's statements, and deletes none. */
const isStatementJob = (s: any) => s?.kind === "ServiceAccount" && s?.name === USAGE_STATEMENTS.serviceAccount && s?.namespace === USAGE_STATEMENTS.namespace;

/** Views joined for a sentence: "metrics", "metrics and statements", "metrics, queue positions and statements". */
const listed = (views: readonly string[]) => (views.length < 2 ? views.join("") : `${views.slice(0, -1).join(", ")} and ${views[views.length - 1]}`);

/** The tenant namespace a subject belongs to (its tenant's group, its service accounts' group, a service account there), or undefined. */
function subjectNamespace(subject: any, bindingNamespace: string | undefined): string | undefined {
    if (subject?.kind === "Group") {
        const tenant = tenantOfGroup(String(subject.name));
        if (tenant) return tenantNamespace(tenant);
        const ns = namespaceOfServiceAccountsGroup(String(subject.name));
        if (ns?.startsWith(TENANT_NAMESPACE_PREFIX)) return ns;
    }
    if (subject?.kind === "ServiceAccount") {
        const ns = String(subject.namespace ?? bindingNamespace ?? "");
        if (ns.startsWith(TENANT_NAMESPACE_PREFIX)) return ns;
    }
    return undefined;
}

/** Groups that hold every caller, or every service account, of the cluster. */
const EVERYONE = new Set(["system:authenticated", "system:unauthenticated", "system:serviceaccounts"]);
const subjectText = (s: any) => `${s?.kind ?? "?"} ${s?.kind === "ServiceAccount" && s?.namespace ? `${s.namespace}/` : ""}${s?.name ?? "?"}`;

const statementJob = { kind: "ServiceAccount", name: USAGE_STATEMENTS.serviceAccount, namespace: USAGE_STATEMENTS.namespace };

/** The writer ClusterRole and its binding in `namespace`, as the billing database and Tenant components make them (or to other subjects, other rules). */
const statementWriter = (namespace: string, subjects: unknown[] = [statementJob], rules: unknown[] = STATEMENT_WRITER_RULES) => [
    sample(K8S_TYPES.clusterRole, "statement-writer", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: USAGE_STATEMENTS.writerRole }, rules }),
    viewBinding(namespace, subjects, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: USAGE_STATEMENTS.writerRole }, USAGE_STATEMENTS.writerRole),
];

export const tenantViewsRbacScoped = stackPolicy({
    name: "tenant-views-rbac-scoped",
    description:
        "The tenant views (metrics through the tenant metrics API, the pending workloads of LocalQueues, the UsageStatements) are granted in a tenant's namespace to that tenant's own members and service accounts only, never cluster-wide, and never the cluster-wide ClusterQueue view; only the billing statement Job writes UsageStatements, and nobody deletes them.",
    rationale:
        "The metrics route authorizes a caller for a namespace with a SubjectAccessReview, and the API server authorizes Kueue's " +
        "visibility API the same way: whoever holds the grant in a namespace reads that namespace's series and queue. A grant to another " +
        "tenant's group, to every authenticated user or cluster-wide is another customer's usage disclosed; the ClusterQueue view " +
        "lists every workload queued on a cohort, other customers' included. A UsageStatement is what the billing database says a tenant used and " +
        "owes: read by another tenant it discloses a customer's spend, written by anyone but the statement Job (which reads it as the tenant's " +
        "own database role) it tells a tenant something its invoice will not say, and deleted it is a month of the tenant's history gone.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Grant the views only through the Tenant component: its tenant-member Role (the tenant's group) and tenant-metrics-reader Role " +
        "(system:serviceaccounts:<its namespace>). Never bind Kueue's batch-admin or ClusterQueue viewer roles to tenants. Grant writes to " +
        "usagestatements only through the billing-statement-writer ClusterRole, bound in tenant namespaces to billing/billing-statements, without delete.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Block access to other tenant resources" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-CR-1", title: "Block access to cluster resources" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" },
    ],
    validateStack: (args, report) => {
        const roles = new Map(resourcesOfType(args, K8S_TYPES.role).map((r) => [`${r.props.metadata?.namespace}/${r.props.metadata?.name}`, r]));
        const clusterRoles = new Map(resourcesOfType(args, K8S_TYPES.clusterRole).map((r) => [String(r.props.metadata?.name), r]));
        // A role bound many times (a thousand tenants' bindings of the same ClusterRole) is read once.
        const viewsOfRole = new Map<PolicyResource, View[]>();
        const roleViews = (role: PolicyResource) => {
            let views = viewsOfRole.get(role);
            if (!views) viewsOfRole.set(role, (views = viewsOf(role.props.rules)));
            return views;
        };
        const grantedBy = (ref: any, ns: string | undefined): { views: View[]; role?: PolicyResource } => {
            if (ref?.kind === "Role") {
                const role = roles.get(`${ns}/${ref.name}`);
                return { views: role ? roleViews(role) : [], role };
            }
            const role = clusterRoles.get(String(ref?.name));
            return { views: role ? roleViews(role) : (KUEUE_VIEW_CLUSTER_ROLES[String(ref?.name)] ?? []), role };
        };
        for (const b of resourcesOfType(args, K8S_TYPES.roleBinding)) {
            const ns = b.props.metadata?.namespace as string | undefined;
            const { views } = grantedBy(b.props.roleRef, ns);
            if (views.length === 0) continue;
            const where = `RoleBinding ${ns}/${b.props.metadata?.name}`;
            for (const s of [b.props.subjects ?? []].flat() as any[]) {
                const own = subjectNamespace(s, ns);
                if (views.includes("the cluster-wide queues") && own) report(`${where} gives ${subjectText(s)} the cluster-wide queues (${KUEUE_VISIBILITY.clusterQueueResource}): every cohort's workloads, other customers' included.`, b.urn);
                // The statement Job reads the statements it writes.
                const scoped = views.filter((v) => v !== "the cluster-wide queues" && !(v === "statements" && isStatementJob(s)));
                if (scoped.length === 0 || own === ns) continue;
                if (ns?.startsWith(TENANT_NAMESPACE_PREFIX)) report(`${where} gives ${subjectText(s)}${own ? ` (of ${own})` : ""} the ${listed(scoped)} of ${ns}: only ${ns}'s own members and service accounts may have them.`, b.urn);
                else if (own || EVERYONE.has(String(s?.name))) report(`${where} gives ${subjectText(s)} the ${listed(scoped)} of the platform namespace ${ns}.`, b.urn);
            }
        }
        for (const b of resourcesOfType(args, K8S_TYPES.clusterRoleBinding)) {
            const { views } = grantedBy(b.props.roleRef, undefined);
            if (views.length === 0) continue;
            for (const s of [b.props.subjects ?? []].flat() as any[]) {
                if (subjectNamespace(s, undefined) || EVERYONE.has(String(s?.name))) report(`ClusterRoleBinding ${b.props.metadata?.name} gives ${subjectText(s)} the ${listed(views)} of every namespace.`, b.urn);
            }
        }
        // Who writes UsageStatements: the statement Job, in tenants' namespaces, and it deletes none.
        const writesOfRole = new Map<PolicyResource | undefined, string[]>();
        const writesOf = (ref: any, ns: string | undefined) => {
            const role = ref?.kind === "Role" ? roles.get(`${ns}/${ref.name}`) : clusterRoles.get(String(ref?.name));
            let writes = writesOfRole.get(role);
            if (!writes) writesOfRole.set(role, (writes = statementWrites(role?.props.rules)));
            return writes;
        };
        const bindings = [...resourcesOfType(args, K8S_TYPES.roleBinding), ...resourcesOfType(args, K8S_TYPES.clusterRoleBinding)];
        for (const b of bindings) {
            const ns = b.type === K8S_TYPES.roleBinding ? (b.props.metadata?.namespace as string | undefined) : undefined;
            const writes = writesOf(b.props.roleRef, ns);
            if (writes.length === 0) continue;
            const where = ns ? `RoleBinding ${ns}/${b.props.metadata?.name}` : `ClusterRoleBinding ${b.props.metadata?.name}`;
            const scope = ns ? `in ${ns}` : "in every namespace";
            for (const s of [b.props.subjects ?? []].flat() as any[]) {
                if (!isStatementJob(s)) {
                    report(`${where} lets ${subjectText(s)} ${writes.join(", ")} UsageStatements ${scope}: only the billing statement Job (ServiceAccount ${USAGE_STATEMENTS.namespace}/${USAGE_STATEMENTS.serviceAccount}) writes them, from the billing database as the tenant's own role.`, b.urn);
                    continue;
                }
                const deletes = writes.filter((v) => v === "delete" || v === "deletecollection" || v === "*");
                if (deletes.length > 0) report(`${where} lets the statement Job ${deletes.join(", ")} UsageStatements ${scope}: statements are the tenants' history, published and never removed.`, b.urn);
            }
        }
    },
    samples: {
        allowed: [
            {
                description: "A tenant's members read its statements; the statement Job writes them there through the writer ClusterRole.",
                resources: [
                    viewRole("tenant-acme", [...VIEW_RULES, ...TENANT_STATEMENT_RULES]),
                    viewBinding("tenant-acme", [group("tenant:acme:members")]),
                    ...statementWriter("tenant-acme"),
                ],
            },
            {
                description: "The Tenant component's grants: the member Role to the tenant's group, the metrics reader to its namespace's service accounts.",
                resources: [
                    viewRole("tenant-acme"),
                    viewBinding("tenant-acme", [group("tenant:acme:members")]),
                    viewRole("tenant-acme", [VIEW_RULES[0]], "tenant-metrics-reader"),
                    viewBinding("tenant-acme", [group("system:serviceaccounts:tenant-acme")], { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant-metrics-reader" }, "tenant-metrics-reader"),
                ],
            },
        ],
        disallowed: [
            {
                description: "Another tenant's members bound to the Role that reads acme's statements.",
                expect: "RoleBinding tenant-acme/tenant-member gives Group tenant:globex:members (of tenant-globex) the statements of tenant-acme",
                resources: [viewRole("tenant-acme", TENANT_STATEMENT_RULES), viewBinding("tenant-acme", [group("tenant:acme:members"), group("tenant:globex:members")])],
            },
            {
                description: "The statement writer bound to acme's members: a tenant could write what it is told it owes.",
                expect: "RoleBinding tenant-acme/billing-statement-writer lets Group tenant:acme:members create, patch, update UsageStatements in tenant-acme: only the billing statement Job",
                resources: statementWriter("tenant-acme", [group("tenant:acme:members")]),
            },
            {
                description: "A ClusterRole that writes statements everywhere, bound to a platform service account.",
                expect: "ClusterRoleBinding statements-everywhere lets ServiceAccount observability/grafana create UsageStatements in every namespace",
                resources: [
                    sample(K8S_TYPES.clusterRole, "statements-everywhere", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "statements-everywhere" }, rules: [{ apiGroups: [USAGE_STATEMENTS.group], resources: [USAGE_STATEMENTS.plural], verbs: ["create"] }] }),
                    sample(K8S_TYPES.clusterRoleBinding, "statements-everywhere", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "statements-everywhere" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "statements-everywhere" }, subjects: [{ kind: "ServiceAccount", name: "grafana", namespace: "observability" }] }),
                ],
            },
            {
                description: "The statement Job allowed to delete statements: a month of a tenant's history could go.",
                expect: "RoleBinding tenant-acme/billing-statement-writer lets the statement Job delete UsageStatements in tenant-acme: statements are the tenants' history",
                resources: statementWriter("tenant-acme", [statementJob], [{ ...STATEMENT_WRITER_RULES[0], verbs: [...STATEMENT_WRITER_RULES[0].verbs, "delete"] }]),
            },
            {
                description: "Another tenant's members bound to acme's member Role.",
                expect: "RoleBinding tenant-acme/tenant-member gives Group tenant:globex:members (of tenant-globex) the metrics and queue positions of tenant-acme",
                resources: [viewRole("tenant-acme"), viewBinding("tenant-acme", [group("tenant:acme:members"), group("tenant:globex:members")])],
            },
            {
                description: "Another tenant's service accounts reading acme's metrics.",
                expect: "gives Group system:serviceaccounts:tenant-globex (of tenant-globex) the metrics of tenant-acme",
                resources: [viewRole("tenant-acme", [VIEW_RULES[0]], "reader"), viewBinding("tenant-acme", [group("system:serviceaccounts:tenant-globex")], { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" }, "reader")],
            },
            {
                description: "Every authenticated caller may read acme's metrics.",
                expect: "gives Group system:authenticated the metrics of tenant-acme",
                resources: [viewRole("tenant-acme", [VIEW_RULES[0]], "reader"), viewBinding("tenant-acme", [group("system:authenticated")], { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" }, "reader")],
            },
            {
                description: "A tenant's service account with a cluster-wide metrics grant.",
                expect: "ClusterRoleBinding all-metrics gives ServiceAccount tenant-acme/grafana the metrics of every namespace",
                resources: [
                    sample(K8S_TYPES.clusterRole, "metrics", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "all-metrics" }, rules: [VIEW_RULES[0]] }),
                    sample(K8S_TYPES.clusterRoleBinding, "all-metrics", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "all-metrics" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "all-metrics" }, subjects: [{ kind: "ServiceAccount", name: "grafana", namespace: "tenant-acme" }] }),
                ],
            },
            {
                description: "The ClusterQueue view in a tenant's Role.",
                expect: "gives Group tenant:acme:members the cluster-wide queues (clusterqueues/pendingworkloads)",
                resources: [viewRole("tenant-acme", [...VIEW_RULES, { apiGroups: ["visibility.kueue.x-k8s.io"], resources: ["clusterqueues/pendingworkloads"], verbs: ["get"] }]), viewBinding("tenant-acme", [group("tenant:acme:members")])],
            },
            {
                description: "Kueue's batch admin ClusterRole bound in the tenant's namespace: it aggregates the ClusterQueue view.",
                expect: "RoleBinding tenant-acme/kueue-admin gives Group tenant:acme:members the cluster-wide queues",
                resources: [viewBinding("tenant-acme", [group("tenant:acme:members")], { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kueue-batch-admin-role" }, "kueue-admin")],
            },
            {
                description: "A tenant given the metrics of the platform's own namespace.",
                expect: "RoleBinding observability/reader gives Group tenant:acme:members the metrics of the platform namespace observability",
                resources: [viewRole("observability", [VIEW_RULES[0]], "reader"), viewBinding("observability", [group("tenant:acme:members")], { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" }, "reader")],
            },
        ],
    },
});
