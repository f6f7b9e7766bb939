import type { Source } from "./types";

/**
 * The Kubernetes Cluster Autoscaler, one chart per Kubernetes minor version: its README (Releases)
 * recommends the autoscaler built for the control plane's minor ("we don't do cross version
 * testing"), and the chart README warns that it simulates the scheduler, so a mismatch fails
 * subtly. The chart renders its image from `image.tag`, never from `appVersion` (9.54.0 to 9.55.0
 * declare appVersion 1.35.0 but ship v1.34.2), so each pin names both and the release sets the tag.
 * Each row is the newest chart of its line whose default `image.tag` is of that minor, read at the
 * chart's tag in kubernetes/autoscaler (Chart.yaml and values.yaml).
 */
export interface ClusterAutoscalerPin {
    /** The chart version (helm repo https://kubernetes.github.io/autoscaler, chart cluster-autoscaler). */
    chart: string;
    /** The autoscaler image tag the chart's values.yaml sets, which the release sets explicitly. */
    imageTag: string;
    source: Source;
}

const chartDir = (version: string) => (Number(version.split(".")[1]) >= 52 ? "cluster-autoscaler/charts/cluster-autoscaler" : "charts/cluster-autoscaler");
const pinSource = (version: string): Source => ({ repo: "kubernetes/autoscaler", ref: `cluster-autoscaler-chart-${version}`, file: `${chartDir(version)}/values.yaml`, note: "image.tag; Chart.yaml appVersion agrees" });
const pin = (chart: string, imageTag: string): ClusterAutoscalerPin => ({ chart, imageTag, source: pinSource(chart) });

export const CLUSTER_AUTOSCALER_PINS: Readonly<Record<string, ClusterAutoscalerPin>> = {
    "1.31": pin("9.44.0", "v1.31.0"),
    "1.32": pin("9.46.6", "v1.32.0"),
    "1.33": pin("9.51.0", "v1.33.0"),
    "1.34": pin("9.53.0", "v1.34.2"),
    "1.35": pin("9.59.0", "v1.35.0"),
};

/** The chart name the pins are versions of. */
export const CLUSTER_AUTOSCALER_CHART = "cluster-autoscaler";

/** The pin for a cluster's Kubernetes version ("1.34" or "1.34.2"), or undefined when there is none. */
export function clusterAutoscalerPin(kubernetesVersion: string): ClusterAutoscalerPin | undefined {
    const minor = /^v?(\d+\.\d+)/.exec(kubernetesVersion)?.[1];
    return minor ? CLUSTER_AUTOSCALER_PINS[minor] : undefined;
}

/**
 * How the region runs it (kubernetes/autoscaler cluster-autoscaler-1.34.2): auto-discovery of the
 * Auto Scaling groups by the tags EKS puts on every managed node group's group
 * (`k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>`; README "Auto-Discovery
 * Setup"), and the AWS calls its provider makes (aws_wrapper.go, auto_scaling_groups.go): Describe
 * calls that take no resource-level conditions, and the two that change a group.
 */
export const CLUSTER_AUTOSCALER_AWS = {
    discoveryTagKeys: (clusterName: string) => ["k8s.io/cluster-autoscaler/enabled", `k8s.io/cluster-autoscaler/${clusterName}`],
    readActions: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup",
    ],
    writeActions: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
    /** Scale from zero: extended resources a node group's nodes will have, read from the node group's tags (aws_manager.go). */
    nodeTemplateResourceTag: (resource: string) => `k8s.io/cluster-autoscaler/node-template/resources/${resource}`,
    source: [
        { repo: "kubernetes/autoscaler", ref: "cluster-autoscaler-1.34.2", file: "cluster-autoscaler/cloudprovider/aws/README.md", note: "Full Cluster Autoscaler Features Policy; restrict the second block by tag" },
        { repo: "kubernetes/autoscaler", ref: "cluster-autoscaler-1.34.2", file: "cluster-autoscaler/cloudprovider/aws/aws_manager.go", note: "buildNodeFromTemplate reads DescribeNodegroup labels, taints and node-template resource tags" },
        { url: "https://docs.aws.amazon.com/autoscaling/ec2/userguide/security_iam_id-based-policy-examples.html", note: "autoscaling:ResourceTag/<key>; Describe actions take no conditions" },
    ] as readonly Source[],
} as const;

/**
 * How the region runs the autoscaler. A node is a scale-down candidate only while its utilization is
 * below the threshold, and a GPU node's utilization is its pods' GPU requests over its allocatable
 * GPUs (cluster-autoscaler-1.34.2 core/scaledown/eligibility/eligibility.go isNodeBelowUtilizationThreshold;
 * simulator/utilization/info.go Calculate): below one GPU's share of any pool's node, only a GPU node
 * that runs no GPU pod is ever removed, so scale-down evicts no GPU workload (the default, 0.5, would
 * move half-used nodes' pods).
 */
export const CLUSTER_AUTOSCALER_SETTINGS = {
    scaleDownGpuUtilizationThreshold: 0.01,
    /** The flag, as the chart's `extraArgs` key. */
    gpuThresholdFlag: "scale-down-gpu-utilization-threshold",
    /** The autoscaler's own default for it (config/flags/flags.go). */
    defaultGpuThreshold: 0.5,
} as const;
