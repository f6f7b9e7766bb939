import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import {
    GPU_RESOURCE,
    LABELS,
    TENANT_DECLARED_EGRESS,
    TENANT_INBOUND_PEERS,
    NEVER_EGRESS_CIDRS,
    PRIORITY_CLASSES,
    poolCohort,
    SHARD_LABEL,
    shardCohort,
    QUEUE_ALLOWED_LABEL_PREFIX,
    QUEUE_KIND_LABEL,
    TAGS,
    TENANT_POLICY_NAMES,
    TENANT_STATE_ANNOTATION,
    TenantPoolQuota,
    TenantState,
    tenantGroup,
    tenantNamespace,
    TENANT_OBSERVABILITY_RULES,
    TENANT_STATEMENT_RULES,
    USAGE_STATEMENTS,
} from "compute-region-policies/model";
import { DNS_EGRESS, namespaceByName } from "./network-policies";
import { dependsOnOf } from "./options";
import { tenantObservabilityAccess } from "./tenant-observability";

/** ResourceQuota limits of a tenant's namespace. */
export interface TenantLimits {
    /** CPU cores. */
    cpu: number;
    /** Memory, GiB. */
    memoryGiB: number;
    /** Volume claims' storage, GiB. */
    storageGiB: number;
    /** Pods. */
    pods: number;
}

/** A tenant's own views: its metrics through the tenant metrics API and its dashboards. */
export interface TenantViews {
    /** The tenant calls hosted models: its dashboards and metrics include the gateway's per-tenant series. */
    models: boolean;
}

/**
 * A raw-capacity tenant: its namespace, queues, quota, egress and access. Its `dependsOn` resource
 * option is what its queues, its route to the tenant metrics API and its statement binding wait for
 * (Kueue's CRDs, the observability namespace, the statement writer ClusterRole): Args carry no
 * resources, so that every Pulumi language can construct a Tenant (plugin/).
 */
export interface TenantArgs {
    /** Tenant name (DNS label). */
    name: string;
    /** Lifecycle state; see docs/tenants.md "Offboarding". */
    state: TenantState;
    /** GPUs per pool. */
    quotas: TenantPoolQuota[];
    /** IAM roles mapped to the tenant's Kubernetes group. */
    members: string[];
    /** Internet egress on or off. */
    internetEgress: boolean;
    /** Extra public CIDRs the tenant may reach. */
    allowCidrs: string[];
    /** The VPC CIDR (pods' addresses): never reachable by tenant egress. */
    vpcCidr: pulumi.Input<string>;
    /** The cluster's service CIDR: never reachable by tenant egress. */
    serviceCidr: pulumi.Input<string>;
    /** In a sharded region, the tenant's shard: its queues join the shard's cohort of each pool. */
    shard?: string;
    /** ResourceQuota backstop for CPU, memory, storage and pods. */
    limits: TenantLimits;
    /** The tenant has a workload identity: its pods may reach the Pod Identity agent (the declared egress). */
    workloadIdentity?: boolean;
    /**
     * The tenant's own views (its metrics through the tenant metrics API, its dashboards). Absent: the
     * region has no tenant metrics API and the tenant gets no way to it. The route's NetworkPolicy in
     * the observability namespace waits for what the Tenant's `dependsOn` option names (that namespace).
     */
    views?: TenantViews;
    /**
     * The region publishes usage statements (it has billing): the statement Job's service account may
     * write UsageStatements in this namespace. The binding waits for what the Tenant's `dependsOn`
     * option names (the ClusterRole, where this stack makes it). Absent or false: no statements reach the tenant.
     */
    statements?: boolean;
    /** The EKS cluster, for access entries. */
    clusterName: pulumi.Input<string>;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
}

const MEMBER_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const READ = ["get", "list", "watch"];

/** What a tenant's members may do in their namespace: run workloads; read, never write, isolation and quota objects. */
export const TENANT_MEMBER_RULES = [
    { apiGroups: [""], resources: ["pods", "pods/log", "pods/exec", "pods/portforward", "pods/attach", "services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"], verbs: MEMBER_VERBS },
    { apiGroups: [""], resources: ["events", "resourcequotas", "limitranges"], verbs: READ },
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "replicasets"], verbs: MEMBER_VERBS },
    { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: MEMBER_VERBS },
    { apiGroups: ["jobset.x-k8s.io"], resources: ["jobsets"], verbs: MEMBER_VERBS },
    { apiGroups: ["kubeflow.org"], resources: ["pytorchjobs"], verbs: MEMBER_VERBS },
    { apiGroups: ["leaderworkerset.x-k8s.io"], resources: ["leaderworkersets"], verbs: MEMBER_VERBS },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: MEMBER_VERBS },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: MEMBER_VERBS },
    { apiGroups: ["kueue.x-k8s.io"], resources: ["localqueues", "workloads"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
    // Its own metrics (through the tenant metrics API) and its LocalQueues' pending workloads (Kueue's visibility API).
    ...TENANT_OBSERVABILITY_RULES,
    // Its usage statements, which only the billing statement Job writes.
    ...TENANT_STATEMENT_RULES,
];

/** Default ResourceQuota limits, scaled with the tenant's GPUs. */
export function defaultTenantLimits(gpus: number): TenantLimits {
    return { cpu: Math.max(8, gpus * 12), memoryGiB: Math.max(32, gpus * 120), storageGiB: Math.max(100, gpus * 1000), pods: Math.max(50, gpus * 20) };
}

/** The namespace's ResourceQuota limits: defaults scaled with its GPUs, overridden where config sets a value. */
export function tenantLimits(quotas: readonly TenantPoolQuota[], configured: Partial<Record<keyof TenantLimits, number | undefined>>): TenantLimits {
    const set = Object.fromEntries(Object.entries(configured).filter(([, v]) => v !== undefined));
    return { ...defaultTenantLimits(quotas.reduce((sum, q) => sum + q.reserved + q.spot, 0)), ...set };
}

/**
 * A raw-capacity tenant: a namespace (Pod Security Admission `restricted`), a Kueue ClusterQueue per
 * pool in that pool's cohort (reserved quota as nominal quota, spot quota as borrowing) and a
 * LocalQueue per pool, a ResourceQuota backstop, a quota that refuses the platform's PriorityClasses,
 * a LimitRange, NetworkPolicies that deny everything but the namespace itself, DNS, the internet
 * where allowed (never private, link-local, VPC or service addresses) and monitoring scrapes, a
 * namespaced Role for members bound to the tenant's group, and EKS access entries mapping member
 * roles to that group with no access policy.
 *
 * Lifecycle: `active`; `suspended` (queues hold, quotas zero, no new pods); `decommissioned`
 * (access, queues and RBAC gone; the namespace stays, unprotected, until the tenant is removed from
 * config in a later change). The namespace of an active or suspended tenant is Pulumi-protected, so
 * removing such a tenant from config fails instead of deleting a customer's workloads.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the tenant's
 * ClusterQueues wait for (the Kueue release that serves their CRD).
 */
/** The child resources a Tenant hands to TypeScript callers. */
interface TenantParts {
    namespaceResource: k8s.core.v1.Namespace;
}

/** A raw-capacity tenant of the region: its namespace, Kueue queues on each pool, quota, default-deny egress and members' access. */
export class Tenant extends pulumi.ComponentResource {
    /** The tenant's namespace. */
    public readonly namespace: string;
    /** The Kubernetes group its members are mapped to. */
    public readonly group: string;

    /** The Namespace resource: what the tenant's own objects (its volume claim, its service account) wait for. */
    public get namespaceResource(): k8s.core.v1.Namespace {
        return partsOf<TenantParts>(this).namespaceResource;
    }

    constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("Tenant"), name, {}, componentOptions("Tenant", opts));
        this.namespace = tenantNamespace(args.name);
        this.group = tenantGroup(args.name);
        const ns = this.namespace;
        const active = args.state === "active";
        const live = args.state !== "decommissioned";
        const quotas = args.quotas.filter((q) => q.reserved > 0 || q.spot > 0);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: ns,
                    labels: {
                        [LABELS.tenant]: args.name,
                        [LABELS.namespaceKind]: "tenant",
                        ...(args.shard ? { [SHARD_LABEL]: args.shard } : {}),
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                        ...(live ? Object.fromEntries(quotas.map((q) => [`${QUEUE_ALLOWED_LABEL_PREFIX}${q.pool}`, "allowed"])) : {}),
                    },
                    annotations: { [TENANT_STATE_ANNOTATION]: args.state },
                },
            },
            { parent: this, protect: live },
        );
        partsOf<TenantParts>(this).namespaceResource = namespace;
        const inNs = { parent: this, dependsOn: [namespace] };

        if (live) {
            for (const q of quotas) {
                const queue = new k8s.apiextensions.CustomResource(
                    `${name}-${q.pool}-queue`,
                    {
                        apiVersion: "kueue.x-k8s.io/v1beta1",
                        kind: "ClusterQueue",
                        metadata: { name: `${args.name}-${q.pool}`, labels: { [QUEUE_KIND_LABEL]: "tenant", [LABELS.tenant]: args.name, [LABELS.pool]: q.pool, ...(args.shard ? { [SHARD_LABEL]: args.shard } : {}) } },
                        spec: {
                            cohort: args.shard ? shardCohort(args.shard, q.pool) : poolCohort(q.pool),
                            namespaceSelector: { matchLabels: { [LABELS.namespaceName]: ns } },
                            queueingStrategy: "BestEffortFIFO",
                            // A suspended tenant keeps what runs and admits nothing new.
                            stopPolicy: active ? "None" : "Hold",
                            resourceGroups: [
                                {
                                    coveredResources: [GPU_RESOURCE],
                                    flavors: [
                                        {
                                            name: q.pool,
                                            resources: [{ name: GPU_RESOURCE, nominalQuota: active ? q.reserved : 0, borrowingLimit: active ? q.spot : 0, lendingLimit: 0 }],
                                        },
                                    ],
                                },
                            ],
                            preemption: { withinClusterQueue: "LowerPriority", reclaimWithinCohort: "Never" },
                        },
                    },
                    { parent: this, dependsOn: dependsOnOf(opts) },
                );
                new k8s.apiextensions.CustomResource(
                    `${name}-${q.pool}-local`,
                    { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: q.pool, namespace: ns }, spec: { clusterQueue: `${args.name}-${q.pool}` } },
                    { parent: this, dependsOn: [namespace, queue] },
                );
            }
        }

        const gpus = active ? quotas.reduce((sum, q) => sum + q.reserved + q.spot, 0) : 0;
        new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            {
                metadata: { name: "tenant-backstop", namespace: ns },
                spec: {
                    hard: {
                        [`requests.${GPU_RESOURCE}`]: String(gpus),
                        "requests.cpu": String(args.limits.cpu),
                        "requests.memory": `${args.limits.memoryGiB}Gi`,
                        "requests.storage": `${args.limits.storageGiB}Gi`,
                        pods: active ? String(args.limits.pods) : "0",
                        "services.nodeports": "0",
                        "services.loadbalancers": "0",
                    },
                },
            },
            inNs,
        );
        new k8s.core.v1.ResourceQuota(
            `${name}-no-platform-priority`,
            {
                metadata: { name: "no-platform-priority", namespace: ns },
                spec: {
                    hard: { pods: "0" },
                    scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: PRIORITY_CLASSES.filter((p) => p.tier !== "tenant").map((p) => p.name) }] },
                },
            },
            inNs,
        );
        new k8s.core.v1.LimitRange(
            `${name}-defaults`,
            {
                metadata: { name: "tenant-defaults", namespace: ns },
                spec: { limits: [{ type: "Container", defaultRequest: { cpu: "250m", memory: "512Mi" }, default: { cpu: "2", memory: "8Gi" } }] },
            },
            inNs,
        );

        const policy = (key: keyof typeof TENANT_POLICY_NAMES, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${TENANT_POLICY_NAMES[key]}`, { metadata: { name: TENANT_POLICY_NAMES[key], namespace: ns }, spec }, inNs);
        policy("defaultDeny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        policy("sameNamespace", { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] });
        policy("dns", { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] });
        const never: pulumi.Input<string>[] = [...NEVER_EGRESS_CIDRS, args.vpcCidr, args.serviceCidr];
        const publicBlocks: { cidr: pulumi.Input<string>; except?: pulumi.Input<string>[] }[] = [...(args.internetEgress ? [{ cidr: "0.0.0.0/0", except: never }] : []), ...args.allowCidrs.map((cidr) => ({ cidr }))];
        if (live && publicBlocks.length > 0) {
            policy("internet", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: publicBlocks.map((ipBlock) => ({ ipBlock })) }] });
        }
        // The declared way out to the Pod Identity agent, for a tenant whose workloads have an AWS identity.
        if (live && args.workloadIdentity) {
            policy("podIdentity", { podSelector: {}, policyTypes: ["Egress"], egress: TENANT_DECLARED_EGRESS.map((d) => ({ to: [{ ipBlock: { cidr: d.cidr } }], ports: d.ports.map((p) => ({ ...p })) })) });
        }
        // The declared way in (Prometheus, on the port the tenant's pods name "metrics"); nothing else.
        policy("monitoring", { podSelector: {}, policyTypes: ["Ingress"], ingress: TENANT_INBOUND_PEERS.map((peer) => ({ from: [namespaceByName(peer.namespace)], ports: peer.ports.map((p) => ({ ...p })) })) });

        if (live) {
            const role = new k8s.rbac.v1.Role(`${name}-member`, { metadata: { name: "tenant-member", namespace: ns }, rules: TENANT_MEMBER_RULES }, inNs);
            new k8s.rbac.v1.RoleBinding(
                `${name}-member`,
                {
                    metadata: { name: "tenant-member", namespace: ns },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant-member" },
                    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: this.group }],
                },
                { ...inNs, dependsOn: [namespace, role] },
            );
            if (args.views) {
                tenantObservabilityAccess(name, { tenant: args.name, namespace: ns, queues: quotas.length > 0, models: args.views.models, observabilityWaitsFor: dependsOnOf(opts) }, { parent: this, dependsOn: [namespace] });
            }
            // The statement Job writes the tenant's UsageStatements here, and nowhere else it is not bound.
            if (args.statements) {
                new k8s.rbac.v1.RoleBinding(
                    `${name}-statement-writer`,
                    {
                        metadata: { name: USAGE_STATEMENTS.writerRole, namespace: ns },
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: USAGE_STATEMENTS.writerRole },
                        subjects: [{ kind: "ServiceAccount", name: USAGE_STATEMENTS.serviceAccount, namespace: USAGE_STATEMENTS.namespace }],
                    },
                    { ...inNs, dependsOn: [namespace, ...dependsOnOf(opts)] },
                );
            }
            // Access entries only: an access policy association would add rights beyond the Role.
            args.members.forEach(
                (principalArn, i) =>
                    new aws.eks.AccessEntry(
                        `${name}-member-${i}`,
                        { clusterName: args.clusterName, principalArn, type: "STANDARD", kubernetesGroups: [this.group], tags: { ...args.tags, [TAGS.tenant]: args.name } },
                        { parent: this },
                    ),
            );
        }
        this.registerOutputs({ namespace: this.namespace, group: this.group });
    }
}
