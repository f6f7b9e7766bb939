import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify as toYaml } from "yaml";
import {
    GPU_RESOURCE,
    HEADROOM_ANNOTATION,
    internalClusterQueue,
    LABELS,
    NAMESPACES,
    NodeTaint,
    PoolCapacity,
    poolCohort,
    PLATFORM_NAMESPACES,
    PRIORITY_CLASSES,
    PRIORITY_TIER_LABEL,
    QUEUE_KIND_LABEL,
} from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { CHARTS } from "./helm";

/** A pool as the queues see it: its capacity figures and its node taints. */
export interface PoolQueueSpec {
    capacity: PoolCapacity;
    taints: NodeTaint[];
    /** The headroom fraction the stack configured, declared on the flavor for the policy to read. */
    declaredHeadroom?: number;
}

export interface CapacityQueuesArgs {
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** Every GPU pool of the region. */
    pools: PoolQueueSpec[];
    /** Resources Kueue must wait for (the system node group it runs on). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Which platform namespace an internal queue of a pool serves. */
function internalNamespaceFor(role: PoolCapacity["role"]): string {
    return role === "serving" ? NAMESPACES.serving : NAMESPACES.internal;
}

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
 * keeps the headroom from ever being lent. Tenant ClusterQueues join the same cohorts.
 */
export class CapacityQueues extends pulumi.ComponentResource {
    public readonly kueue: k8s.helm.v3.Release;
    public readonly namespaces: Record<"internal" | "serving", k8s.core.v1.Namespace>;

    constructor(name: string, args: CapacityQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:queues:CapacityQueues", name, {}, opts);
        const provider = args.provider;
        const platformNamespaces = [...PLATFORM_NAMESPACES];

        this.kueue = new k8s.helm.v3.Release(
            `${name}-kueue`,
            {
                name: "kueue",
                chart: CHARTS.kueue.chart,
                version: CHARTS.kueue.version,
                namespace: NAMESPACES.kueue,
                createNamespace: true,
                values: {
                    controllerManager: ON_SYSTEM_NODES,
                    managerConfig: { controllerManagerConfigYaml: toYaml(kueueManagerConfig(platformNamespaces)) },
                },
            },
            { parent: this, provider, dependsOn: args.dependsOn },
        );
        const afterKueue = { parent: this, provider, dependsOn: [this.kueue] };

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
                { parent: this, provider },
            );
        }

        const namespace = (kind: "internal" | "serving") =>
            new k8s.core.v1.Namespace(
                `${name}-${kind}`,
                {
                    metadata: {
                        name: NAMESPACES[kind],
                        labels: {
                            [LABELS.namespaceKind]: kind,
                            // Model servers run restricted; internal work may need baseline (e.g. running as root).
                            "pod-security.kubernetes.io/enforce": kind === "serving" ? "restricted" : "baseline",
                            "pod-security.kubernetes.io/audit": "restricted",
                            "pod-security.kubernetes.io/warn": "restricted",
                        },
                    },
                },
                { parent: this, provider },
            );
        this.namespaces = { internal: namespace("internal"), serving: namespace("serving") };

        for (const { capacity, taints, declaredHeadroom } of args.pools) {
            const pool = capacity.pool;
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
                    },
                },
                afterKueue,
            );
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
                                                // Unsold capacity may be lent as reclaimable spot; the headroom never is.
                                                lendingLimit: Math.max(0, nominal - capacity.headroomGpus),
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
        this.registerOutputs({});
    }
}
