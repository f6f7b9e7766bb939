import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartFacts, CLUSTER_AUTOSCALER_CHART, MONITORING_CHARTS, NAMESPACES, PlatformAddressing, PlatformInstall } from "compute-region-policies/model";
import { dependsOnOf } from "./options";
import { podNetworkPolicies } from "./platform-network-policies";

/**
 * Pinned Helm charts the region installs. One place to bump a version; the `helm-releases-pinned`
 * policy rejects a release without an exact version.
 */
export const CHARTS = {
    kueue: { chart: "oci://registry.k8s.io/kueue/charts/kueue", version: "0.14.2" },
    nvidiaDevicePlugin: { chart: "nvidia-device-plugin", repo: "https://nvidia.github.io/k8s-device-plugin", version: "0.17.1" },
    efaDevicePlugin: { chart: "aws-efa-k8s-device-plugin", repo: "https://aws.github.io/eks-charts", version: "v0.5.7" },
    // The chart, not the EKS add-on: see components/tenant-file-system.ts (lustreCsiDriver).
    fsxCsiDriver: { chart: "aws-fsx-csi-driver", repo: "https://kubernetes-sigs.github.io/aws-fsx-csi-driver", version: "1.17.0" },
} as const;

/** Monitoring charts (kept apart so the monitoring policy can name them). */
export const MONITORING_CHART_PINS = {
    prometheusStack: { chart: MONITORING_CHARTS.prometheusStack, repo: "https://prometheus-community.github.io/helm-charts", version: "75.15.0" },
    dcgmExporter: { chart: MONITORING_CHARTS.dcgmExporter, repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", version: "4.1.1" },
} as const;

/** The tenant metrics API: prom-label-proxy with its kube-rbac-proxy sidecar (components/tenant-observability.ts). */
export const TENANT_METRICS_CHART_PIN = { chart: "prom-label-proxy", repo: "https://prometheus-community.github.io/helm-charts", version: "0.22.0" } as const;

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

/**
 * The Cluster Autoscaler's chart repository. Its version is not pinned here but per Kubernetes minor
 * (CLUSTER_AUTOSCALER_PINS): the autoscaler must be the build of the cluster's minor.
 */
export const AUTOSCALING_CHART_REPO = "https://kubernetes.github.io/autoscaler";

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

/** How a release's pods get the NetworkPolicies the strict CNI makes them need. */
export type ReleaseNetwork =
    /** Policies made from the chart's facts, one per pod set, in place before the release. */
    | {
          addressing: PlatformAddressing;
          /** Pods the chart reaches by a Service URL in its values, by the values path of that URL. */
          servicePods?: PlatformInstall["servicePods"];
          /** Where the pods the chart's controller makes per object run, by pod id. */
          runtimeNamespaces?: PlatformInstall["runtimeNamespaces"];
      }
    /** Namespace-wide policies the caller made cover the pods; the release waits for them. */
    | { governedBy: pulumi.Resource[] };

export interface PinnedReleaseArgs {
    /** The Helm release name. */
    releaseName: string;
    /** The namespace the release installs into (a namespace a component creates: its policies go in first). */
    namespace: string;
    /** The chart's values. */
    values?: pulumi.Inputs;
    /** The NetworkPolicies its pods need under the strict CNI. */
    network: ReleaseNetwork;
    /**
     * Seconds `helm --wait` may take (the provider ignores customTimeouts for a release; Helm's own
     * default is 300). Set it where the pods need longer than that to become ready.
     */
    timeoutSeconds?: number;
}

/** Where the region releases each chart: a chart's pods reach another chart's pods there. */
export const CHART_NAMESPACES: Readonly<Record<string, string>> = {
    [CHARTS.kueue.chart]: NAMESPACES.kueue,
    [CHARTS.nvidiaDevicePlugin.chart]: NAMESPACES.system,
    [CHARTS.efaDevicePlugin.chart]: NAMESPACES.system,
    [CHARTS.fsxCsiDriver.chart]: NAMESPACES.system,
    [MONITORING_CHART_PINS.prometheusStack.chart]: NAMESPACES.monitoring,
    [MONITORING_CHART_PINS.dcgmExporter.chart]: NAMESPACES.monitoring,
    [TENANT_METRICS_CHART_PIN.chart]: NAMESPACES.monitoring,
    [SERVING_CHART_PINS.keda.chart]: NAMESPACES.keda,
    [GATEWAY_CHART_PINS.envoyGateway.chart]: NAMESPACES.envoyGateway,
    [GATEWAY_CHART_PINS.aiGatewayCrds.chart]: NAMESPACES.aiGateway,
    [GATEWAY_CHART_PINS.aiGateway.chart]: NAMESPACES.aiGateway,
    [GATEWAY_CHART_PINS.awsLoadBalancerController.chart]: NAMESPACES.system,
    [CLUSTER_AUTOSCALER_CHART]: NAMESPACES.system,
};

/**
 * A Helm release of a pinned chart: the one way the region installs a chart, so every release
 * carries its exact version (the `helm-releases-pinned` policy) and its repository, and its pods
 * have the NetworkPolicies their chart's facts say they need before they start.
 */
export function pinnedRelease(name: string, pin: ChartPin, args: PinnedReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    const facts = chartFacts(pin.chart, pin.version);
    if (!facts) throw new Error(`${name}: no upstream facts for chart ${pin.chart} ${pin.version} (policies/model/upstream/rendered-charts.ts): vendor the chart at that version and run npm run charts:render first`);
    if (CHART_NAMESPACES[pin.chart] !== args.namespace) {
        throw new Error(`${name}: chart ${pin.chart} is released into ${CHART_NAMESPACES[pin.chart]} (CHART_NAMESPACES), not ${args.namespace}`);
    }
    const policies =
        "governedBy" in args.network
            ? args.network.governedBy
            : podNetworkPolicies(name, { facts, namespace: args.namespace, chartNamespaces: CHART_NAMESPACES, servicePods: args.network.servicePods, runtimeNamespaces: args.network.runtimeNamespaces }, args.network.addressing, {
                  parent: opts.parent,
                  provider: opts.provider,
                  dependsOn: opts.dependsOn,
              });
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            chart: pin.chart,
            version: pin.version,
            ...(pin.repo ? { repositoryOpts: { repo: pin.repo } } : {}),
            namespace: args.namespace,
            ...(args.values ? { values: args.values } : {}),
            ...(args.timeoutSeconds ? { timeout: args.timeoutSeconds } : {}),
        },
        { ...opts, dependsOn: [...dependsOnOf(opts), ...policies] },
    );
}
