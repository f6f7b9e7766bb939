/**
 * Pinned Helm charts the region installs. One place to bump a version; the `helm-releases-pinned`
 * policy rejects a release without an exact version.
 */
export const CHARTS = {
    kueue: { chart: "oci://registry.k8s.io/kueue/charts/kueue", version: "0.14.2" },
    nvidiaDevicePlugin: { chart: "nvidia-device-plugin", repo: "https://nvidia.github.io/k8s-device-plugin", version: "0.17.1" },
    efaDevicePlugin: { chart: "aws-efa-k8s-device-plugin", repo: "https://aws.github.io/eks-charts", version: "v0.5.7" },
} as const;

/** Monitoring charts (kept apart so the monitoring policy can name them). */
export const MONITORING_CHART_PINS = {
    prometheusStack: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "75.15.0" },
    dcgmExporter: { chart: "dcgm-exporter", repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", version: "4.1.1" },
} as const;

/** Serving charts. */
export const SERVING_CHART_PINS = {
    keda: { chart: "keda", repo: "https://kedacore.github.io/charts", version: "2.17.2" },
} as const;

/** The image that copies a model's weights from S3 (pinned). */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.50";
