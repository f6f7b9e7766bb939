import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { LABELS, NAMESPACES, PlatformAddressing, TAINT_KEYS } from "compute-region-policies/model";
import { CHARTS, pinnedRelease } from "./helm";
import { dependsOnOf } from "./options";

export interface GpuDevicePluginsArgs {
    /** Also install the EFA device plugin (some pool has EFA interfaces). */
    efa: boolean;
    /** The region's addresses, for the plugins' NetworkPolicies. */
    addressing: PlatformAddressing;
}

/** Device plugins run on every GPU node, whatever its pool: they tolerate every GPU pool taint. */
export const GPU_POOL_TOLERATIONS = [
    { key: TAINT_KEYS.poolRole, operator: "Exists", effect: "NoSchedule" },
    { key: TAINT_KEYS.tenant, operator: "Exists", effect: "NoSchedule" },
];

const onNodesLabelled = (key: string, values?: string[]) => ({
    nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [values ? { key, operator: "In", values } : { key, operator: "Exists" }] }],
        },
    },
});

/**
 * The NVIDIA device plugin (the EKS NVIDIA AMI ships the driver and container toolkit, so the GPU
 * operator is not needed) and, where pools have EFA, the EFA device plugin: pinned Helm charts whose
 * DaemonSets tolerate the GPU pool taints and run only on GPU nodes.
 *
 * Options: the cluster's Kubernetes provider (`providers`).
 */
export class GpuDevicePlugins extends pulumi.ComponentResource {
    /** The NVIDIA device plugin: GPU workloads wait for it (their nodes advertise no GPU before it runs). */
    public readonly nvidia: k8s.helm.v3.Release;
    /** The EFA device plugin, when some pool has EFA. */
    public readonly efa?: k8s.helm.v3.Release;

    constructor(name: string, args: GpuDevicePluginsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("GpuDevicePlugins"), name, {}, componentOptions("GpuDevicePlugins", opts));
        const after = { parent: this, dependsOn: dependsOnOf(opts) };
        this.nvidia = pinnedRelease(
            `${name}-nvidia`,
            CHARTS.nvidiaDevicePlugin,
            {
                releaseName: "nvidia-device-plugin",
                namespace: NAMESPACES.system,
                values: {
                    affinity: onNodesLabelled(LABELS.gpuModel),
                    tolerations: GPU_POOL_TOLERATIONS,
                    priorityClassName: "system-node-critical",
                    // GPU feature discovery labels nodes with GPU details; not needed: pools are labelled by us.
                    gfd: { enabled: false },
                },
                network: { addressing: args.addressing },
            },
            after,
        );
        if (args.efa) {
            this.efa = pinnedRelease(
                `${name}-efa`,
                CHARTS.efaDevicePlugin,
                {
                    releaseName: "aws-efa-k8s-device-plugin",
                    namespace: NAMESPACES.system,
                    values: {
                        // The chart reads no `affinity`: it builds the pods' required node affinity from
                        // supportedInstanceLabels, one term `<key> In <values>` per key (aws/eks-charts
                        // stable/aws-efa-k8s-device-plugin v0.5.7, templates/daemonset.yaml). The GPU pools
                        // label their EFA nodes, so the plugin follows that label instead of the chart's
                        // default list of instance types, which lags the catalog.
                        supportedInstanceLabels: { keys: [LABELS.efa], values: ["true"] },
                        tolerations: GPU_POOL_TOLERATIONS,
                    },
                    network: { addressing: args.addressing },
                },
                after,
            );
        }
        this.registerOutputs({});
    }
}
