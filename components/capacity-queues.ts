import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { stringify as toYaml } from "yaml";
import {
    awsApiPeers,
    burstClusterQueue,
    GPU_RESOURCE,
    HEADROOM_ANNOTATION,
    internalClusterQueue,
    KUEUE_CHART_MANAGER_DEFAULTS,
    LABELS,
    NAMESPACES,
    NETWORK_TOPOLOGY,
    PlatformAddressing,
    PoolCapacity,
    poolCohort,
    PLATFORM_NAMESPACES,
    poolTaints,
    PRIORITY_CLASSES,
    PRIORITY_TIER_LABEL,
    QUEUE_KIND_LABEL,
    SHARD_BUDGET_ANNOTATION,
    SHARD_LABEL,
    shardCohort,
    tolerationsFor,
} from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { CHARTS, pinnedRelease } from "./helm";
import { dependsOnOf } from "./options";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";
import { platformNamespace } from "./platform-namespace";

/** A pool as the queues see it: its capacity figures, and a dedicated pool's tenant (its node taint). */
export interface PoolQueueSpec {
    /** The pool's capacity figures (the Region's `capacity` output has one a pool). */
    capacity: PoolCapacity;
    /** A dedicated pool's tenant: its nodes carry the tenant's taint, which the pool's flavor tolerates. */
    tenant?: string;
    /** The headroom fraction the stack configured, declared on the flavor for the policy to read. */
    declaredHeadroom?: number;
    /** The Kueue Topology the pool's flavor places by (Topology-Aware Scheduling), if any. */
    topology?: string;
    /**
     * A serving pool with batch inference: its internal queue lends all its idle GPUs (batch borrows
     * them at the lowest priority), and takes them back from any borrower when a model needs them.
     */
    lendIdleToBatch?: boolean;
}

/** What a tenant shard of a sharded region may sell of each pool. */
export interface ShardBudget {
    /** The shard's name. */
    name: string;
    /** Reserved GPUs per pool. */
    budget: Record<string, number>;
}

export interface CapacityQueuesArgs {
    /** Every GPU pool of the region. */
    pools: PoolQueueSpec[];
    /** On a sharded region's platform: each tenant shard's budget, a Kueue Cohort per shard and pool. */
    shards?: ShardBudget[];
    /** The region's addresses, for the NetworkPolicies Kueue's controller needs (webhooks, API server, scrapes). */
    addressing: PlatformAddressing;
}

/** Where the shard Cohorts were declared before this component made them. */
export interface FormerShardCohorts {
    /** The resource they were children of (the Region). */
    parent: pulumi.Resource;
    /** Their names' prefix: `<namePrefix>-shard-<shard>-<pool>`. */
    namePrefix: string;
}

/**
 * What the Region gives its queues beyond their Args: a resource, which only a TypeScript program
 * has, so a separate constructor parameter that schema inference does not read (it reads `args` only).
 */
export interface CapacityQueuesWiring {
    /** Aliases that keep the shard Cohorts of a platform deployed before this component made them. */
    formerShardCohorts?: FormerShardCohorts;
}

interface CapacityQueuesParts {
    kueue: k8s.helm.v3.Release;
    namespaces: Record<"internal" | "serving", k8s.core.v1.Namespace>;
}

/** Which platform namespace an internal queue of a pool serves. */
function internalNamespaceFor(role: PoolCapacity["role"]): string {
    return role === "serving" ? NAMESPACES.serving : NAMESPACES.internal;
}

/** Kueue feature gates the region turns on, beyond the release's defaults. */
export const KUEUE_FEATURE_GATES = [{ name: "LocalQueueMetrics", enabled: true }] as const;

/** The Kueue controller configuration: every pod in a managed namespace goes through a queue. */
export function kueueManagerConfig(platformNamespaces: string[]): Record<string, unknown> {
    return {
        apiVersion: "config.kueue.x-k8s.io/v1beta1",
        kind: "Configuration",
        namespace: NAMESPACES.kueue,
        health: { healthProbeBindAddress: ":8081" },
        metrics: { bindAddress: ":8443", enableClusterQueueResources: true },
        webhook: { port: 9443 },
        leaderElection: { leaderElect: true, resourceName: "c1f6bfd2.kueue.x-k8s.io" },
        // The chart's own document sets these; replacing it must keep them (see the fact's source).
        controller: KUEUE_CHART_MANAGER_DEFAULTS.controller,
        clientConnection: KUEUE_CHART_MANAGER_DEFAULTS.clientConnection,
        // Nothing bypasses quota: workloads without a queue name are held, not run.
        manageJobsWithoutQueueName: true,
        // ...except in the platform's own namespaces (add-ons, monitoring, Kueue itself).
        managedJobsNamespaceSelector: { matchExpressions: [{ key: LABELS.namespaceName, operator: "NotIn", values: platformNamespaces }] },
        integrations: { frameworks: ["batch/job", "pod", "deployment", "statefulset", "jobset.x-k8s.io/jobset", "kubeflow.org/pytorchjob", "leaderworkerset.x-k8s.io/leaderworkerset"] },
        // GPUs are what is sold and queued; CPU and memory are bounded by each namespace's ResourceQuota.
        resources: { excludeResourcePrefixes: ["cpu", "memory", "ephemeral-storage", "pods", "vpc.amazonaws.com/efa", "hugepages-"] },
        waitForPodsReady: { enable: true, timeout: "30m", blockAdmission: false },
    };
}

/**
 * The quota machinery: Kueue (pinned Helm chart) set to manage pods that carry no queue name; the
 * region's PriorityClasses; per pool a ResourceFlavor (its node labels and taints) and a cohort
 * holding the internal ClusterQueue, whose preemption reclaims anything lent and whose lendingLimit
 * keeps the headroom from ever being lent. Tenant ClusterQueues join the same cohorts; on a sharded
 * region's platform, each shard's budget on a pool is a Cohort, a child of the pool's, that its
 * tenants' queues join.
 *
 * Options: the Kubernetes provider (`providers`), and in `dependsOn` what Kueue must wait for (the
 * system node group it runs on).
 */
export class CapacityQueues extends pulumi.ComponentResource {
    /** Kueue's release: its CRDs and webhooks, which every queue and queued workload waits for. */
    public get kueue(): k8s.helm.v3.Release {
        return partsOf<CapacityQueuesParts>(this).kueue;
    }
    /** The internal and serving namespaces, whose LocalQueues this component makes. */
    public get namespaces(): Record<"internal" | "serving", k8s.core.v1.Namespace> {
        return partsOf<CapacityQueuesParts>(this).namespaces;
    }

    constructor(name: string, args: CapacityQueuesArgs, opts?: pulumi.ComponentResourceOptions, wiring: CapacityQueuesWiring = {}) {
        super(componentType("CapacityQueues"), name, {}, componentOptions("CapacityQueues", opts));
        const parts = partsOf<CapacityQueuesParts>(this);
        const platformNamespaces = [...PLATFORM_NAMESPACES];

        // The namespace is made here, not by Helm, so the controller's NetworkPolicies are in place first.
        const kueueNamespace = platformNamespace(`${name}-kueue-ns`, { name: NAMESPACES.kueue, kind: "platform", podSecurity: { enforce: "restricted", warn: "restricted" } }, { parent: this });
        parts.kueue = pinnedRelease(
            `${name}-kueue`,
            CHARTS.kueue,
            {
                releaseName: "kueue",
                namespace: NAMESPACES.kueue,
                values: {
                    // LocalQueueMetrics (alpha in 0.14, off by default): per-LocalQueue series labelled with
                    // the queue's namespace, which is what a tenant may read of Kueue through the metrics API.
                    controllerManager: { ...ON_SYSTEM_NODES, featureGates: [...KUEUE_FEATURE_GATES] },
                    managerConfig: { controllerManagerConfigYaml: toYaml(kueueManagerConfig(platformNamespaces)) },
                },
                network: { addressing: args.addressing },
            },
            { parent: this, dependsOn: [...dependsOnOf(opts), kueueNamespace] },
        );
        const afterKueue = { parent: this, dependsOn: [this.kueue] };

        for (const pc of PRIORITY_CLASSES) {
            new k8s.scheduling.v1.PriorityClass(
                `${name}-${pc.name}`,
                {
                    metadata: { name: pc.name, labels: { [PRIORITY_TIER_LABEL]: pc.tier } },
                    value: pc.value,
                    preemptionPolicy: pc.preemptionPolicy,
                    globalDefault: false,
                    description: pc.description,
                },
                { parent: this },
            );
        }

        const namespace = (kind: "internal" | "serving") =>
            platformNamespace(
                `${name}-${kind}`,
                // Model servers run restricted; internal work may need baseline (e.g. running as root).
                { name: NAMESPACES[kind], kind, podSecurity: { enforce: kind === "serving" ? "restricted" : "baseline", audit: "restricted", warn: "restricted" } },
                { parent: this },
            );
        parts.namespaces = { internal: namespace("internal"), serving: namespace("serving") };
        internalNetworkPolicies(name, args.addressing, { parent: this, dependsOn: [this.namespaces.internal] });

        // EC2's network topology as a Kueue Topology, for the pools whose flavors place by it.
        const topology = args.pools.some((p) => p.topology === NETWORK_TOPOLOGY.name)
            ? new k8s.apiextensions.CustomResource(
                  `${name}-topology`,
                  { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "Topology", metadata: { name: NETWORK_TOPOLOGY.name }, spec: { levels: NETWORK_TOPOLOGY.levels.map((nodeLabel) => ({ nodeLabel })) } },
                  afterKueue,
              )
            : undefined;

        for (const { capacity, tenant, declaredHeadroom, topology: topologyName, lendIdleToBatch } of args.pools) {
            if (capacity.role === "dedicated" && !tenant) throw new pulumi.ResourceError(`CapacityQueues ${name}: pool ${capacity.pool} is dedicated and needs its tenant`, this);
            const taints = poolTaints(capacity.role, tenant);
            const pool = capacity.pool;
            // Kueue freezes a flavor's whole spec once it names a topology: a change must replace it.
            const flavorOptions = topologyName && topology ? { parent: this, dependsOn: [this.kueue, topology], replaceOnChanges: ["spec"], deleteBeforeReplace: true } : afterKueue;
            new k8s.apiextensions.CustomResource(
                `${name}-${pool}-flavor`,
                {
                    apiVersion: "kueue.x-k8s.io/v1beta1",
                    kind: "ResourceFlavor",
                    metadata: {
                        name: pool,
                        labels: { [LABELS.pool]: pool, [LABELS.role]: capacity.role },
                        ...(declaredHeadroom !== undefined ? { annotations: { [HEADROOM_ANNOTATION]: String(declaredHeadroom) } } : {}),
                    },
                    spec: {
                        nodeLabels: { [LABELS.pool]: pool },
                        nodeTaints: taints.map((t) => ({ key: t.key, value: t.value, effect: "NoSchedule" })),
                        // Topology-Aware Scheduling does not see tolerations a webhook adds: the flavor lists them.
                        ...(topologyName ? { topologyName, tolerations: tolerationsFor(taints) } : {}),
                    },
                },
                flavorOptions,
            );
            if (capacity.burst > 0 && capacity.role !== "dedicated") {
                // The GPUs between minNodes and maxNodes: quota for workloads the autoscaler adds nodes
                // for. No namespace may use the queue itself (a null namespaceSelector selects none:
                // kubernetes-sigs/kueue v0.14.2 apis/kueue/v1beta1/clusterqueue_types.go); it lends all of
                // it to the cohort (internal work, model replicas above their minimum, spot tenants) and
                // sells none: reserved tenant queues borrow only their spot. A dedicated pool's tenant
                // holds its guaranteed GPUs and borrows nothing, so its pool has no burst to share.
                new k8s.apiextensions.CustomResource(
                    `${name}-${pool}-burst`,
                    {
                        apiVersion: "kueue.x-k8s.io/v1beta1",
                        kind: "ClusterQueue",
                        metadata: { name: burstClusterQueue(pool), labels: { [QUEUE_KIND_LABEL]: "burst", [LABELS.pool]: pool } },
                        spec: {
                            cohort: poolCohort(pool),
                            resourceGroups: [{ coveredResources: [GPU_RESOURCE], flavors: [{ name: pool, resources: [{ name: GPU_RESOURCE, nominalQuota: capacity.burst, lendingLimit: capacity.burst }] }] }],
                        },
                    },
                    afterKueue,
                );
            }
            if (capacity.role === "dedicated") continue; // the whole pool is its tenant's: no internal queue
            const internalNamespace = internalNamespaceFor(capacity.role);
            const nominal = capacity.guaranteed - capacity.sold;
            const queueName = internalClusterQueue(pool);
            new k8s.apiextensions.CustomResource(
                `${name}-${pool}-internal`,
                {
                    apiVersion: "kueue.x-k8s.io/v1beta1",
                    kind: "ClusterQueue",
                    metadata: { name: queueName, labels: { [QUEUE_KIND_LABEL]: "internal", [LABELS.pool]: pool } },
                    spec: {
                        cohort: poolCohort(pool),
                        namespaceSelector: { matchExpressions: [{ key: LABELS.namespaceName, operator: "In", values: [internalNamespace] }] },
                        queueingStrategy: "BestEffortFIFO",
                        resourceGroups: [
                            {
                                coveredResources: [GPU_RESOURCE],
                                flavors: [
                                    {
                                        name: pool,
                                        resources: [
                                            {
                                                name: GPU_RESOURCE,
                                                nominalQuota: nominal,
                                                // Unsold capacity may be lent as reclaimable spot; the headroom never is, except a
                                                // serving pool's idle GPUs to batch inference (reclaimed from any borrower below).
                                                lendingLimit: lendIdleToBatch && capacity.role === "serving" ? nominal : Math.max(0, nominal - capacity.headroomGpus),
                                            },
                                        ],
                                    },
                                ],
                            },
                        ],
                        preemption: {
                            reclaimWithinCohort: "Any",
                            borrowWithinCohort: { policy: "LowerPriority", maxPriorityThreshold: Math.max(...PRIORITY_CLASSES.filter((p) => p.tier === "tenant").map((p) => p.value)) },
                            withinClusterQueue: "LowerPriority",
                        },
                    },
                },
                afterKueue,
            );
            new k8s.apiextensions.CustomResource(
                `${name}-${pool}-internal-local`,
                {
                    apiVersion: "kueue.x-k8s.io/v1beta1",
                    kind: "LocalQueue",
                    metadata: { name: pool, namespace: internalNamespace },
                    spec: { clusterQueue: queueName },
                },
                { ...afterKueue, dependsOn: [this.kueue, this.namespaces[capacity.role === "serving" ? "serving" : "internal"]] },
            );
        }
        for (const shard of args.shards ?? []) {
            for (const [pool, gpus] of Object.entries(shard.budget)) {
                new k8s.apiextensions.CustomResource(
                    `${name}-shard-${shard.name}-${pool}`,
                    {
                        apiVersion: "kueue.x-k8s.io/v1beta1",
                        kind: "Cohort",
                        metadata: {
                            name: shardCohort(shard.name, pool),
                            labels: { [QUEUE_KIND_LABEL]: "shard", [SHARD_LABEL]: shard.name, [LABELS.pool]: pool },
                            annotations: { [SHARD_BUDGET_ANNOTATION]: String(gpus) },
                        },
                        // The shard's tenant queues join this cohort, a child of the pool's; each tenant's
                        // nominal quota is its own, and the policies prove they fit the budget.
                        spec: { parentName: poolCohort(pool) },
                    },
                    {
                        ...afterKueue,
                        aliases: wiring.formerShardCohorts ? [{ name: `${wiring.formerShardCohorts.namePrefix}-shard-${shard.name}-${pool}`, parent: wiring.formerShardCohorts.parent }] : [],
                    },
                );
            }
        }
        this.registerOutputs({});
    }
}

/**
 * The company's own workloads: under the strict CNI a pod no policy selects is denied everything, so
 * the namespace admits its own pods and monitoring, and reaches itself (NCCL between workers), DNS,
 * AWS APIs and the internet over HTTPS (datasets, checkpoints in S3) and the Pod Identity agent;
 * never a tenant's or the platform's pods.
 */
function internalNetworkPolicies(name: string, addressing: PlatformAddressing, opts: pulumi.CustomResourceOptions): void {
    const ns = NAMESPACES.internal;
    const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-internal-${policyName}`, { metadata: { name: policyName, namespace: ns }, spec }, opts);
    policy("admit-own-and-monitoring", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [namespaceByName(ns), namespaceByName(NAMESPACES.monitoring)] }],
    });
    policy("internal-egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
            DNS_EGRESS,
            { to: [namespaceByName(ns)] },
            { to: awsApiPeers(addressing), ports: [{ protocol: "TCP", port: 443 }] },
            POD_IDENTITY_AGENT_EGRESS,
        ],
    });
}
