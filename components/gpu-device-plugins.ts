import * as pulumi from "@pulumi/pulumi";
import { LABELS, NAMESPACES, TAINT_KEYS } from "compute-region-policies/model";
import { CHARTS, pinnedRelease } from "./helm";

export interface GpuDevicePluginsArgs {
    /** Also install the EFA device plugin (some pool has EFA interfaces). */
    efa: boolean;
}

/** Device plugins run on every GPU node, whatever its pool: they tolerate every GPU pool taint. */
export const GPU_POOL_TOLERATIONS = [
    { key: TAINT_KEYS.poolRole, operator: "Exists", effect: "NoSchedule" },
    { key: TAINT_KEYS.tenant, operator: "Exists", effect: "NoSchedule" },
];

const onGpuNodes = {
    nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: LABELS.gpuModel, operator: "Exists" }] }],
        },
    },
};

/**
 * The NVIDIA device plugin (the EKS NVIDIA AMI ships the driver and container toolkit, so the GPU
 * operator is not needed) and, where pools have EFA, the EFA device plugin: pinned Helm charts whose
 * DaemonSets tolerate the GPU pool taints and run only on GPU nodes.
 *
 * Options: the cluster's Kubernetes provider (`providers`).
 */
export class GpuDevicePlugins extends pulumi.ComponentResource {
    constructor(name: string, args: GpuDevicePluginsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:gpu:GpuDevicePlugins", name, {}, opts);
        pinnedRelease(
            `${name}-nvidia`,
            CHARTS.nvidiaDevicePlugin,
            {
                releaseName: "nvidia-device-plugin",
                namespace: NAMESPACES.system,
                values: {
                    affinity: onGpuNodes,
                    tolerations: GPU_POOL_TOLERATIONS,
                    priorityClassName: "system-node-critical",
                    // GPU feature discovery labels nodes with GPU details; not needed: pools are labelled by us.
                    gfd: { enabled: false },
                },
            },
            { parent: this },
        );
        if (args.efa) {
            pinnedRelease(
                `${name}-efa`,
                CHARTS.efaDevicePlugin,
                {
                    releaseName: "aws-efa-k8s-device-plugin",
                    namespace: NAMESPACES.system,
                    values: {
                        nodeSelector: { "vpc.amazonaws.com/efa.present": "true" },
                        tolerations: GPU_POOL_TOLERATIONS,
                    },
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
