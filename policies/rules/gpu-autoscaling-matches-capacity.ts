import type { PolicyResource } from "@pulumi/policy";
import { stackPolicy } from "../engine/policy";
import { capacityFromResources } from "../model/evidence/capacity-evidence";
import { QUEUE_KIND_LABEL } from "../model/domain/conventions";
import { cannotDecide, plain, unknownIn } from "../model/evidence/deploy-input";
import { CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_SETTINGS } from "../model/upstream/cluster-autoscaler";
import { formatMinor, minorsBetween, minorVersion } from "../model/domain/kubernetes-versions";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { poolSamples as s } from "../samples/pools";
import { sample } from "../samples/sample";

const CLUSTER = "gpu-prod-use1";
const cluster = (version = "1.34") => sample(TYPES.eksCluster, "eks", { name: CLUSTER, version });
const autoscaler = (extra: { clusterName?: string; tag?: string; threshold?: number | null } = {}) =>
    sample(TYPES.helmRelease, "cluster-autoscaler", {
        chart: CLUSTER_AUTOSCALER_CHART,
        version: "9.53.0",
        namespace: "kube-system",
        values: {
            autoDiscovery: { clusterName: extra.clusterName ?? CLUSTER },
            image: { tag: extra.tag ?? "v1.34.2" },
            extraArgs: extra.threshold === null ? {} : { [CLUSTER_AUTOSCALER_SETTINGS.gpuThresholdFlag]: extra.threshold ?? CLUSTER_AUTOSCALER_SETTINGS.scaleDownGpuUtilizationThreshold },
        },
    });
/** Two p5.48xlarge guaranteed, four at most: 16 burst GPUs. */
const pool = [s.nodeGroup("shared-h100", "shared", "p5.48xlarge", 2, { maxSize: 4 }), s.flavor("shared-h100", 0.2), s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 4, lendingLimit: 0 })];
/** A sample queue with more in its spec. */
const withSpec = (queue: ReturnType<typeof s.queue>, spec: Record<string, unknown>) => ({ ...queue, props: { ...queue.props, spec: { ...(queue.props.spec as Record<string, unknown>), ...spec } } });
const burst = (nominal: number, extra: { lendingLimit?: number } = {}) => s.queue("burst-shared-h100", "shared-h100", "burst", { nominal, lendingLimit: extra.lendingLimit ?? nominal });

export const gpuAutoscalingMatchesCapacity = stackPolicy({
    name: "gpu-autoscaling-matches-capacity",
    description:
        "Every GPU pool that may grow above its guaranteed nodes has a Cluster Autoscaler to grow it, built for the cluster's Kubernetes minor and discovering its node groups, " +
        "whose scale-down never removes a node that runs a GPU pod; and its Kueue burst quota is exactly what the autoscaler can add (maxNodes - minNodes nodes), lent whole and never used or sold directly.",
    rationale:
        "A pool's minNodes is what the capacity model guarantees and sells from; the nodes between minNodes and maxNodes exist only while the " +
        "autoscaler adds them. Without an autoscaler no node is ever added; with more burst quota than the autoscaler can add, Kueue admits work " +
        "no node will run; with less, the pool cannot use what it may grow to. The autoscaler's default GPU scale-down threshold (0.5) removes " +
        "half-used GPU nodes and evicts their pods, internal and serving work within its guarantee included; one built for another Kubernetes minor " +
        "simulates the scheduler wrongly (kubernetes/autoscaler README, Releases).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Install the Cluster Autoscaler (components/cluster-autoscaler.ts) with autoDiscovery.clusterName set to the cluster, image.tag of the cluster's minor " +
        "(CLUSTER_AUTOSCALER_PINS) and scale-down-gpu-utilization-threshold below one GPU's share of a node; give each pool that is not dedicated a burst " +
        "ClusterQueue (components/capacity-queues.ts) with nominalQuota and lendingLimit (maxNodes - minNodes) x GPUs per node and no namespaceSelector.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-2", title: "Baseline Configuration" },
    ],
    validateStack: (args, report) => {
        const resources = args.resources;
        const releases = resources.filter((r: PolicyResource) => r.type === TYPES.helmRelease && r.props.chart === CLUSTER_AUTOSCALER_CHART).map((r: PolicyResource) => ({ r, props: plain(r.props) as Record<string, any> }));
        const clusterResources = resources.filter((r: PolicyResource) => r.type === TYPES.eksCluster);
        const clusters = clusterResources.map((r: PolicyResource) => plain(r.props) as Record<string, any>);
        const clusterNames = clusterResources.map((r: PolicyResource) => r.name);
        for (const { r, props } of releases) {
            // The values were read whole (plain): the ones judged here must be known.
            const undecided = unknownIn({ name: r.name, props }, "values.autoDiscovery.clusterName", "values.image.tag") ?? clusters.map((c, i) => unknownIn({ name: clusterNames[i], props: c }, "name", "version")).find((x) => x !== undefined);
            if (undecided) cannotDecide(undecided);
            const values = props.values ?? {};
            const discovers = values.autoDiscovery?.clusterName;
            const names = clusters.map((c) => c.name).filter((n): n is string => typeof n === "string");
            if (typeof discovers !== "string" || discovers === "") report(`Cluster Autoscaler ${r.name} sets no autoDiscovery.clusterName: the chart then deploys no autoscaler at all.`, r.urn);
            else if (names.length > 0 && !names.includes(discovers)) report(`Cluster Autoscaler ${r.name} discovers the node groups of cluster ${discovers}, not this stack's ${names.join(", ")}.`, r.urn);
            const image = minorVersion(values.image?.tag);
            for (const c of clusters) {
                const control = minorVersion(c.version);
                if (image && control && minorsBetween(image, control) !== 0) {
                    report(`Cluster Autoscaler ${r.name} runs ${values.image.tag}, built for Kubernetes ${formatMinor(image)}, on a ${formatMinor(control)} control plane: it must be the build of the cluster's minor.`, r.urn);
                }
            }
        }
        const isBurst = (r: { type: string; props: Record<string, any> }) => r.type === K8S_TYPES.clusterQueue && r.props.metadata?.labels?.[QUEUE_KIND_LABEL] === "burst";
        const queueProps = new Map(resources.filter(isBurst).map((r: PolicyResource) => [r.props.metadata?.name ?? r.name, { r, props: plain(r.props) as Record<string, any> }]));
        // Only the burst queues matter here: a region's thousands of tenant queues are not read.
        for (const pool of capacityFromResources(resources, isBurst)) {
            const burstQueues = pool.queues.filter((q) => q.kind === "burst");
            const quota = burstQueues.reduce((sum, q) => sum + q.nominal, 0);
            const expected = pool.role === "dedicated" ? 0 : pool.burst;
            const range = `${pool.minNodes} to ${pool.maxNodes} nodes`;
            if (quota !== expected) {
                report(
                    pool.role === "dedicated"
                        ? `pool ${pool.pool} is dedicated: its tenant holds the guaranteed GPUs and borrows nothing, so no burst queue may hold quota on it (${burstQueues.map((q) => q.queue).join(", ")} hold ${quota}).`
                        : `pool ${pool.pool} scales from ${range} (${pool.burst} burst GPUs), but its burst queues hold ${quota}: Kueue must admit exactly what the autoscaler can add.`,
                );
            }
            for (const q of burstQueues) {
                if (q.lendingLimit !== undefined && q.lendingLimit < q.nominal) report(`pool ${pool.pool}: burst queue ${q.queue} lends only ${q.lendingLimit} of its ${q.nominal} GPUs: burst capacity is for the cohort to borrow.`);
                if (queueProps.get(q.queue)?.props.spec?.namespaceSelector !== undefined) report(`pool ${pool.pool}: burst queue ${q.queue} selects namespaces: its quota must only be lent, never used directly.`);
            }
            if (pool.burst === 0) continue;
            if (releases.length === 0) {
                report(`pool ${pool.pool} may scale from ${range}, but the stack installs no Cluster Autoscaler: no node is ever added above ${pool.minNodes}.`);
                continue;
            }
            const share = 1 / pool.gpusPerNode;
            for (const { r, props } of releases) {
                const given = props.values?.extraArgs?.[CLUSTER_AUTOSCALER_SETTINGS.gpuThresholdFlag];
                const threshold = given === undefined ? CLUSTER_AUTOSCALER_SETTINGS.defaultGpuThreshold : Number(given);
                if (!(threshold <= share)) {
                    report(`pool ${pool.pool}: Cluster Autoscaler ${r.name}'s GPU scale-down threshold is ${given ?? `${threshold} (its default)`}, at or above one GPU's share of a ${pool.instanceType} node (${share}): it would remove nodes that run GPU pods and evict them.`, r.urn);
                }
            }
        }
    },
    samples: {
        allowed: [
            { description: "A pool of 2 to 4 p5.48xlarge with 16 burst GPUs lent whole, and an autoscaler of the cluster's minor that removes only GPU-idle nodes.", resources: [cluster(), autoscaler(), ...pool, burst(16)] },
            { description: "A pool that cannot grow needs neither burst quota nor an autoscaler.", resources: [cluster(), s.nodeGroup("shared-h100", "shared", "p5.48xlarge", 2, { maxSize: 2 }), s.flavor("shared-h100", 0.2)] },
        ],
        disallowed: [
            { description: "A pool that may grow, and nothing to grow it.", expect: "pool shared-h100 may scale from 2 to 4 nodes, but the stack installs no Cluster Autoscaler", resources: [cluster(), ...pool, burst(16)] },
            { description: "Burst quota beyond what the autoscaler can add.", expect: "pool shared-h100 scales from 2 to 4 nodes (16 burst GPUs), but its burst queues hold 24", resources: [cluster(), autoscaler(), ...pool, burst(24)] },
            { description: "No burst quota: Kueue never admits the work the extra nodes are for.", expect: "but its burst queues hold 0", resources: [cluster(), autoscaler(), ...pool] },
            { description: "A burst queue that keeps half its quota for itself.", expect: "burst queue burst-shared-h100 lends only 8 of its 16 GPUs", resources: [cluster(), autoscaler(), ...pool, burst(16, { lendingLimit: 8 })] },
            { description: "The autoscaler's default GPU threshold (0.5) would evict GPU pods from half-used nodes.", expect: "GPU scale-down threshold is 0.5 (its default), at or above one GPU's share of a p5.48xlarge node (0.125)", resources: [cluster(), autoscaler({ threshold: null }), ...pool, burst(16)] },
            { description: "An autoscaler built for another Kubernetes minor.", expect: "runs v1.33.0, built for Kubernetes 1.33, on a 1.34 control plane", resources: [cluster(), autoscaler({ tag: "v1.33.0" }), ...pool, burst(16)] },
            { description: "An autoscaler without a cluster to discover: the chart renders no Deployment.", expect: "Cluster Autoscaler cluster-autoscaler sets no autoDiscovery.clusterName: the chart then deploys no autoscaler at all", resources: [cluster(), autoscaler({ clusterName: "" }), ...pool, burst(16)] },
            {
                description: "Burst quota on a dedicated pool: its tenant owns the guaranteed GPUs and nothing is added for others.",
                expect: "pool acme-h100 is dedicated: its tenant holds the guaranteed GPUs and borrows nothing, so no burst queue may hold quota on it (burst-acme-h100 hold 8)",
                resources: [
                    cluster(),
                    autoscaler(),
                    s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme", maxSize: 1 }),
                    s.flavor("acme-h100"),
                    s.queue("acme-acme-h100", "acme-h100", "tenant", { nominal: 8 }, "acme"),
                    s.queue("burst-acme-h100", "acme-h100", "burst", { nominal: 8, lendingLimit: 8 }),
                ],
            },
            {
                description: "A burst queue that admits a namespace's work directly instead of only lending.",
                expect: "pool shared-h100: burst queue burst-shared-h100 selects namespaces: its quota must only be lent, never used directly",
                resources: [cluster(), autoscaler(), ...pool, withSpec(burst(16), { namespaceSelector: {} })],
            },
            { description: "An autoscaler that discovers another cluster's node groups.", expect: "discovers the node groups of cluster gpu-staging, not this stack's gpu-prod-use1", resources: [cluster(), autoscaler({ clusterName: "gpu-staging" }), ...pool, burst(16)] },
        ],
    },
});
