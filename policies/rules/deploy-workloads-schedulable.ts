import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { deployment, EFA_PLUGIN_CHART, namespace, nodeGroup, NVIDIA_PLUGIN_CHART, ON_SYSTEM, release, SYSTEM_NODES } from "../samples/deploy";

const gpuNodes = nodeGroup("gpu", "g6e.12xlarge", { "compute-region.io/pool": "serving-l40s", "compute-region.io/gpu-model": "l40s" }, [{ key: "compute-region.io/pool-role", value: "serving" }], 1);
const gpuPod = {
    nodeSelector: { "compute-region.io/pool": "serving-l40s" },
    tolerations: [{ key: "compute-region.io/pool-role", operator: "Exists", effect: "NoSchedule" }],
    requests: { cpu: "8", memory: "64Gi", "nvidia.com/gpu": "1" },
};
// The chart's default affinity wants node-feature-discovery labels, which EKS nodes do not carry: the region pins it to its GPU label.
const nvidiaPlugin = release("nvidia", NVIDIA_PLUGIN_CHART, "kube-system", {
    tolerations: [{ key: "compute-region.io/pool-role", operator: "Exists", effect: "NoSchedule" }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "compute-region.io/gpu-model", operator: "Exists" }] }] } } },
});

/** An EFA-capable pool (g6e.12xlarge: one EFA interface), tainted as a GPU pool, with `labels` besides its pool's. */
const efaNodes = (labels: Record<string, string>) =>
    nodeGroup("efa", "g6e.12xlarge", { "compute-region.io/pool": "train-l40s", "compute-region.io/gpu-model": "l40s", ...labels }, [{ key: "compute-region.io/pool-role", value: "shared" }], 1);
/** The EFA device plugin (the pinned chart), tolerating the GPU pool taints, with `values`. */
const efaPlugin = (values: Record<string, unknown>) =>
    release("efa-plugin", EFA_PLUGIN_CHART, "kube-system", { tolerations: [{ key: "compute-region.io/pool-role", operator: "Exists", effect: "NoSchedule" }], ...values });

export const deployWorkloadsSchedulable = stackPolicy({
    name: "deploy-workloads-schedulable",
    description: "Every awaited workload has, before it, a node group whose labels, taints and allocatable resources fit its pods, and the device plugin that advertises the GPUs or EFA they request.",
    rationale:
        "Pulumi waits for a Deployment, Job or Helm release to become ready. Pods that fit no node group, or that request GPUs on " +
        "nodes where no device plugin advertises them yet, stay Pending until the await times out and the `up` fails. Placement " +
        "of the charts' pods (their values, defaults and fixed tolerations) is read from each chart at the pinned version.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Give the pods the nodeSelector and tolerations of a node group with room for their requests, add that node group and the " +
        "device plugin's release to the workload's dependsOn, and make sure the plugin tolerates the pool's taints.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["placement", "device-plugin"], report),
    samples: {
        allowed: [
            { description: "A controller on the tainted system nodes, after them.", resources: [SYSTEM_NODES, namespace("tools"), deployment("controller", "tools", ON_SYSTEM, { after: ["system", "ns-tools"] })] },
            {
                description: "An EFA pool under the EFA device plugin: its chart's own instance-type list covers g6e.12xlarge (the chart reads no `affinity`).",
                resources: [efaNodes({}), efaPlugin({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "compute-region.io/nowhere", operator: "Exists" }] }] } } } })],
            },
            {
                description: "An EFA pool labelled for the plugin, which selects that label through supportedInstanceLabels (as the region does).",
                resources: [efaNodes({ "compute-region.io/efa": "true" }), efaPlugin({ supportedInstanceLabels: { keys: ["compute-region.io/efa"], values: ["true"] } })],
            },
            { description: "A GPU server after its pool and the NVIDIA device plugin.", resources: [gpuNodes, nvidiaPlugin, namespace("serving"), deployment("model", "serving", gpuPod, { after: ["gpu", "nvidia", "ns-serving"] })] },
        ],
        disallowed: [
            {
                description: "A controller that tolerates no taint, in a cluster whose only nodes are tainted.",
                expect: "controller (Deployment): its pods (Deployment tools/controller) fit no node group of the stack (system: taint CriticalAddonsOnly=true:NoSchedule not tolerated)",
                resources: [SYSTEM_NODES, namespace("tools"), deployment("controller", "tools", { nodeSelector: ON_SYSTEM.nodeSelector }, { after: ["system", "ns-tools"] })],
            },
            {
                description: "A controller that fits only the system nodes, and does not wait for them.",
                expect: "controller (Deployment): its pods (Deployment tools/controller) fit only system, which nothing orders before it",
                resources: [SYSTEM_NODES, namespace("tools"), deployment("controller", "tools", ON_SYSTEM, { after: ["ns-tools"] })],
            },
            {
                description: "An EFA pool whose nodes the EFA device plugin's release does not place on (it selects a label the pool does not carry): the nodes advertise no EFA.",
                expect: "efa (NodeGroup): its nodes (g6e.12xlarge) would advertise no vpc.amazonaws.com/efa: the device plugin's pods cannot run on them (required node affinity",
                resources: [efaNodes({}), efaPlugin({ supportedInstanceLabels: { keys: ["compute-region.io/efa"], values: ["true"] } })],
            },
            {
                description: "A GPU server that waits for its pool but not for the device plugin.",
                expect: "model (Deployment): its pods (Deployment serving/model) request nvidia.com/gpu before nvidia is installed to advertise it",
                resources: [gpuNodes, nvidiaPlugin, namespace("serving"), deployment("model", "serving", gpuPod, { after: ["gpu", "ns-serving"] })],
            },
            {
                description: "A GPU server in a stack that installs no device plugin.",
                expect: "its pods (Deployment serving/model) request nvidia.com/gpu, and no device plugin that advertises it runs on gpu",
                resources: [gpuNodes, namespace("serving"), deployment("model", "serving", gpuPod, { after: ["gpu", "ns-serving"] })],
            },
        ],
    },
});
