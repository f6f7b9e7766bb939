import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MONITORING_CHARTS } from "compute-region-policies/model";

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
    prometheusStack: { chart: MONITORING_CHARTS.prometheusStack, repo: "https://prometheus-community.github.io/helm-charts", version: "75.15.0" },
    dcgmExporter: { chart: MONITORING_CHARTS.dcgmExporter, repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", version: "4.1.1" },
} as const;

/** Serving charts. */
export const SERVING_CHART_PINS = {
    keda: { chart: "keda", repo: "https://kedacore.github.io/charts", version: "2.17.2" },
} as const;

/**
 * The hosted-model gateway's charts. Envoy Gateway stays on 1.7: on 1.8.0 to 1.8.x a global rate-limit
 * rule that is both `shared` and response-costed (our per-tenant token budget) stops charging its
 * cost (envoyproxy/gateway#9244). Envoy AI Gateway 0.5 supports Envoy Gateway 1.6 and later.
 */
export const GATEWAY_CHART_PINS = {
    envoyGateway: { chart: "oci://docker.io/envoyproxy/gateway-helm", version: "v1.7.3" },
    aiGatewayCrds: { chart: "oci://docker.io/envoyproxy/ai-gateway-crds-helm", version: "v0.5.0" },
    aiGateway: { chart: "oci://docker.io/envoyproxy/ai-gateway-helm", version: "v0.5.0" },
    awsLoadBalancerController: { chart: "aws-load-balancer-controller", repo: "https://aws.github.io/eks-charts", version: "1.17.1" },
} as const;

/** Counters for the gateway's global rate limits (ephemeral by design: a restart resets the windows). */
export const REDIS_IMAGE = "docker.io/library/redis:7.4.2-alpine";

/** The image that copies a model's weights from S3 (pinned). */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.50";

/** A chart at an exact version: an OCI reference, or a chart name in a repository. */
export interface ChartPin {
    chart: string;
    version: string;
    /** The chart repository, for a chart named rather than given as an OCI reference. */
    repo?: string;
}

export interface PinnedReleaseArgs {
    /** The Helm release name. */
    releaseName: string;
    /** The namespace the release installs into. */
    namespace: string;
    /** Let Helm create the namespace (for charts whose namespace no component owns). */
    createNamespace?: boolean;
    /** The chart's values. */
    values?: pulumi.Inputs;
}

/**
 * A Helm release of a pinned chart: the one way the region installs a chart, so every release
 * carries its exact version (the `helm-releases-pinned` policy) and its repository.
 */
export function pinnedRelease(name: string, pin: ChartPin, args: PinnedReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            chart: pin.chart,
            version: pin.version,
            ...(pin.repo ? { repositoryOpts: { repo: pin.repo } } : {}),
            namespace: args.namespace,
            ...(args.createNamespace ? { createNamespace: true } : {}),
            ...(args.values ? { values: args.values } : {}),
        },
        opts,
    );
}
