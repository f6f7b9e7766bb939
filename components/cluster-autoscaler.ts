import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { CLUSTER_AUTOSCALER_AWS, CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_SETTINGS, clusterAutoscalerPin, NAMESPACES, PlatformAddressing } from "compute-region-policies/model";
import { AUTOSCALING_CHART_REPO, pinnedRelease } from "./helm";
import { podIdentityRole } from "./kms";
import { ON_SYSTEM_NODES } from "./nodes";
import { dependsOnOf } from "./options";

export interface ClusterAutoscalerArgs {
    /** The EKS cluster (its name, as an output, orders the role's association after the cluster). */
    clusterName: pulumi.Input<string>;
    /** The literal cluster name: the Auto Scaling groups' discovery tags and the IAM condition name it. */
    clusterNameLiteral: string;
    /** The cluster's Kubernetes version: the autoscaler is the build for its minor. */
    kubernetesVersion: string;
    /** The AWS region (the autoscaler is told it, so it never asks instance metadata). */
    region: string;
    /** The region's addresses, for the autoscaler's NetworkPolicy (API server, AWS APIs, Pod Identity). */
    addressing: PlatformAddressing;
    tags: Record<string, string>;
}

/** The autoscaler's service account in kube-system (the Pod Identity association names it). */
export const CLUSTER_AUTOSCALER_SA = "cluster-autoscaler";

/**
 * What the autoscaler may do: read Auto Scaling groups, launch templates, instance types and node
 * groups (Describe actions take no resource conditions), and resize or shrink only the groups EKS
 * tagged for this cluster's autoscaler (`k8s.io/cluster-autoscaler/<cluster>` present). The README's
 * recommended policy leaves the second statement open to every group; this one is confined.
 */
export function clusterAutoscalerPolicy(clusterName: string): Record<string, unknown> {
    const [enabledKey, clusterKey] = CLUSTER_AUTOSCALER_AWS.discoveryTagKeys(clusterName);
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Discover", Effect: "Allow", Action: [...CLUSTER_AUTOSCALER_AWS.readActions], Resource: "*" },
            {
                Sid: "ResizeThisClustersGroups",
                Effect: "Allow",
                Action: [...CLUSTER_AUTOSCALER_AWS.writeActions],
                Resource: "*",
                Condition: { Null: { [`autoscaling:ResourceTag/${enabledKey}`]: "false", [`autoscaling:ResourceTag/${clusterKey}`]: "false" } },
            },
        ],
    };
}

/**
 * The Kubernetes Cluster Autoscaler (the pinned chart of the cluster's Kubernetes minor) on the
 * system nodes, with an IAM role bound through EKS Pod Identity. It discovers every managed node
 * group by the tags EKS gives their Auto Scaling groups and moves each group's desired size between
 * its min and max: up for pods that cannot be scheduled, down for GPU nodes that run no GPU pod
 * (`scale-down-gpu-utilization-threshold` below one GPU's share), so scale-down never evicts a GPU
 * workload and never goes below a group's min (the pool's guaranteed nodes).
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` the system nodes it runs on.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ClusterAutoscaler"), name, {}, componentOptions("ClusterAutoscaler", opts));
        const pin = clusterAutoscalerPin(args.kubernetesVersion);
        if (!pin) throw new pulumi.ResourceError(`ClusterAutoscaler ${name}: no Cluster Autoscaler is pinned for Kubernetes ${args.kubernetesVersion} (CLUSTER_AUTOSCALER_PINS)`, this);
        // The chart renders no Deployment at all without a cluster name, and says nothing.
        if (!args.clusterNameLiteral) throw new pulumi.ResourceError(`ClusterAutoscaler ${name}: clusterNameLiteral is empty (the chart would deploy no autoscaler)`, this);

        const { role, association } = podIdentityRole(
            name,
            { clusterName: args.clusterName, namespace: NAMESPACES.system, serviceAccount: CLUSTER_AUTOSCALER_SA, policy: JSON.stringify(clusterAutoscalerPolicy(args.clusterNameLiteral)), tags: args.tags },
            this,
        );
        this.release = pinnedRelease(
            `${name}-release`,
            { chart: CLUSTER_AUTOSCALER_CHART, repo: AUTOSCALING_CHART_REPO, version: pin.chart },
            {
                releaseName: "cluster-autoscaler",
                namespace: NAMESPACES.system,
                values: {
                    cloudProvider: "aws",
                    awsRegion: args.region,
                    autoDiscovery: { clusterName: args.clusterNameLiteral },
                    // The chart's image is image.tag, not its appVersion: set it to the pin's.
                    image: { tag: pin.imageTag },
                    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SA } },
                    extraArgs: clusterAutoscalerArgs(),
                    ...ON_SYSTEM_NODES,
                },
                network: { addressing: args.addressing },
            },
            // The role must be bound before the autoscaler's first call to AWS.
            { parent: this, dependsOn: [...dependsOnOf(opts), association] },
        );
        this.roleArn = role.arn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}

/** The autoscaler's flags beyond the chart's defaults (the chart renders each as `--key=value`). */
export function clusterAutoscalerArgs(): Record<string, string | number | boolean> {
    return {
        [CLUSTER_AUTOSCALER_SETTINGS.gpuThresholdFlag]: CLUSTER_AUTOSCALER_SETTINGS.scaleDownGpuUtilizationThreshold,
        // Pools differ by label and taint: never balance one against another.
        "balance-similar-node-groups": false,
    };
}
