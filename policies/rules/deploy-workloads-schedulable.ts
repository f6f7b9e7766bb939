import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/rehearsal";
import { deployment, namespace, nodeGroup, NVIDIA_PLUGIN_CHART, ON_SYSTEM, release, SYSTEM_NODES } from "../samples/deploy";

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
            { description: "A GPU server after its pool and the NVIDIA device plugin.", resources: [gpuNodes, nvidiaPlugin, namespace("serving"), deployment("model", "serving", gpuPod, { after: ["gpu", "nvidia", "ns-serving"] })] },
        ],
        disallowed: [
            {
                description: "A controller that tolerates no taint, in a cluster whose only nodes are tainted.",
                expect: "controller (Deployment): its pods (Deployment tools/controller) fit no node group of the stack (system: taint CriticalAddonsOnly=true:NoSchedule not tolerated)",
                resources: [SYSTEM_NODES, namespace("tools"), deployment("controller", "tools", { nodeSelector: ON_SYSTEM.nodeSelector }, { after: ["system", "ns-tools"] })],
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
