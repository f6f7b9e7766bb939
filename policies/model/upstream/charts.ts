import { API_SERVER_PATH, awsApiPaths, clusterDnsPaths, lustrePaths } from "./paths";
import { CLUSTER_AUTOSCALER_CHART } from "./cluster-autoscaler";
import { RENDERED_CHARTS } from "./rendered-charts";
import type { ChartFacts, PathFact, PodFact, RenderedChart, Source } from "./types";

/**
 * The Helm charts the region pins (components/helm.ts), as they are at those versions. What `helm
 * template` of each vendored chart shows with the values the program passes (its CRDs, admission
 * webhooks, aggregated APIs and pod sets: labels, placement, requests, replicas) is generated into
 * rendered-charts.ts (`npm run charts:render`). What a render cannot show is written here, cited:
 * the network paths each pod set serves and calls, the pods the charts' controllers make at run
 * time, and the extended resources device plugins advertise.
 */

const apiServer = API_SERVER_PATH;
const [dns, dnsTcp] = clusterDnsPaths();
const webhookFromControlPlane = (port: number): PathFact => ({ peer: { kind: "controlPlane" }, port, why: "the API server calls its admission webhooks" });
const scrape = (port: number): PathFact => ({ peer: { kind: "prometheus" }, port, why: "Prometheus scrapes its metrics" });

/** A rendered pod set's id (how paths and webhooks name it) and the paths it serves and calls. */
interface PodNotes {
    id: string;
    serves: readonly PathFact[];
    calls: readonly PathFact[];
}

/** What a render of a chart cannot show. */
export interface ChartNotes {
    chart: string;
    /** The rendered pod sets, by workload (`Deployment/kueue-controller-manager`). */
    pods: Readonly<Record<string, PodNotes>>;
    /** Pods the chart's controllers make at run time (no release waits for them): not in a render. */
    runtimePods?: readonly PodFact[];
    advertises?: ChartFacts["advertises"];
}

// ---------------------------------------------------------------------------------------------
// Kueue 0.14.2
const kueueSrc = (file: string): Source => ({ repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file });

/**
 * What the chart's default `managerConfig.controllerManagerConfigYaml` sets beyond Kueue's built-in
 * defaults: a release that replaces the document (as the region does) must carry these itself, or
 * the controller falls back to client QPS 20 / burst 30 and a concurrency of 1 per kind.
 */
export const KUEUE_CHART_MANAGER_DEFAULTS = {
    source: kueueSrc("charts/kueue/values.yaml"),
    controller: {
        groupKindConcurrency: {
            "Job.batch": 5,
            Pod: 5,
            "Workload.kueue.x-k8s.io": 5,
            "LocalQueue.kueue.x-k8s.io": 1,
            "ClusterQueue.kueue.x-k8s.io": 1,
            "ResourceFlavor.kueue.x-k8s.io": 1,
        },
    },
    clientConnection: { qps: 50, burst: 100 },
} as const;

/**
 * The labels of the chart's metrics Service. The visibility server's Service carries the same
 * selector labels and an `https` port too, so a ServiceMonitor must also match the component label.
 */
export const KUEUE_METRICS_SERVICE_LABELS = { "control-plane": "controller-manager", "app.kubernetes.io/component": "metrics" } as const;
export const KUEUE_METRICS_SERVICE_SOURCE = kueueSrc("charts/kueue/templates/_helpers.tpl");

const KUEUE: ChartNotes = {
    chart: "oci://registry.k8s.io/kueue/charts/kueue",
    pods: {
        "Deployment/kueue-controller-manager": {
            id: "controller",
            serves: [webhookFromControlPlane(9443), { peer: { kind: "controlPlane" }, port: 8082, why: "the API server serves the visibility API from it" }, scrape(8443)],
            calls: [apiServer],
        },
    },
};

// ---------------------------------------------------------------------------------------------
// KEDA 2.17.2
const KEDA: ChartNotes = {
    chart: "keda",
    pods: {
        "Deployment/keda-operator": {
            id: "operator",
            serves: [],
            calls: [
                apiServer,
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "prometheus", chart: "kube-prometheus-stack" }, port: 9090, why: "queries Prometheus for the models' queue-depth triggers" },
                // kedacore/keda v2.17.2 pkg/scalers/aws_sqs_queue_scaler.go, pkg/scalers/aws/aws_common.go (podIdentity provider aws: the operator's own credentials).
                ...awsApiPaths("reads the batch queues' depth from SQS (aws-sqs-queue scaler)"),
                { peer: { kind: "podIdentityAgent" }, port: 80, why: "takes its IAM role's credentials for the SQS scaler" },
            ],
        },
        "Deployment/keda-operator-metrics-apiserver": {
            id: "metrics",
            serves: [{ peer: { kind: "controlPlane" }, port: 6443, why: "the API server serves external.metrics.k8s.io (the HPA's metrics) from it" }],
            calls: [apiServer, dns, dnsTcp, { peer: { kind: "pod", pod: "operator" }, port: 9666, why: "reads metric values from the operator over gRPC" }],
        },
        "Deployment/keda-admission-webhooks": { id: "admission", serves: [webhookFromControlPlane(9443)], calls: [apiServer] },
    },
};

// ---------------------------------------------------------------------------------------------
// kube-prometheus-stack 75.15.0 (prometheus-operator v0.83.0)
const promOperatorSrc = (file: string): Source => ({ repo: "prometheus-operator/prometheus-operator", ref: "v0.83.0", file });

const KUBE_PROMETHEUS_STACK: ChartNotes = {
    chart: "kube-prometheus-stack",
    pods: {
        "Deployment/kube-prometheus-stack-operator": { id: "operator", serves: [scrape(8080)], calls: [apiServer] },
        "Deployment/kube-prometheus-stack-grafana": {
            id: "grafana",
            serves: [scrape(3000)],
            calls: [
                apiServer,
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "prometheus" }, port: 9090, why: "queries its Prometheus data source" },
                { peer: { kind: "pod", pod: "alertmanager" }, port: 9093, why: "reads its Alertmanager data source" },
            ],
        },
        "Deployment/kube-prometheus-stack-kube-state-metrics": { id: "kube-state-metrics", serves: [scrape(8080)], calls: [apiServer] },
        "DaemonSet/kube-prometheus-stack-prometheus-node-exporter": { id: "node-exporter", serves: [], calls: [] },
    },
    // Made by the operator from the chart's Prometheus and Alertmanager objects; the release's wait covers neither.
    runtimePods: [
        {
            id: "prometheus",
            workload: "StatefulSet/prometheus-kube-prometheus-stack-prometheus",
            labels: { "app.kubernetes.io/name": "prometheus", prometheus: "kube-prometheus-stack-prometheus", "operator.prometheus.io/name": "kube-prometheus-stack-prometheus" },
            hostNetwork: false,
            placement: { nodeSelector: ["prometheus.prometheusSpec.nodeSelector"], tolerations: ["prometheus.prometheusSpec.tolerations"] },
            replicas: { values: "prometheus.prometheusSpec.replicas", default: 1 },
            serves: [{ peer: { kind: "prometheus" }, port: 9090, why: "its own metrics and the clients' queries" }],
            calls: [
                apiServer,
                dns,
                dnsTcp,
                { peer: { kind: "nodes" }, port: 10250, why: "scrapes the kubelets (cAdvisor, probes)" },
                { peer: { kind: "nodes" }, port: 9100, why: "scrapes node-exporter on the node address" },
                { peer: { kind: "pod", pod: "alertmanager" }, port: 9093, why: "sends alerts" },
            ],
            source: promOperatorSrc("pkg/prometheus/statefulset.go"),
        },
        {
            id: "alertmanager",
            workload: "StatefulSet/alertmanager-kube-prometheus-stack-alertmanager",
            labels: { "app.kubernetes.io/name": "alertmanager", alertmanager: "kube-prometheus-stack-alertmanager" },
            hostNetwork: false,
            placement: { nodeSelector: ["alertmanager.alertmanagerSpec.nodeSelector"], tolerations: ["alertmanager.alertmanagerSpec.tolerations"] },
            replicas: { values: "alertmanager.alertmanagerSpec.replicas", default: 1 },
            serves: [scrape(9093)],
            calls: [dns, dnsTcp],
            source: promOperatorSrc("pkg/alertmanager/statefulset.go"),
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// dcgm-exporter 4.1.1, NVIDIA device plugin 0.17.1, EFA device plugin v0.5.7
const DCGM_EXPORTER: ChartNotes = { chart: "dcgm-exporter", pods: { "DaemonSet/dcgm-exporter": { id: "exporter", serves: [scrape(9400)], calls: [] } } };

const NVIDIA_DEVICE_PLUGIN: ChartNotes = {
    chart: "nvidia-device-plugin",
    pods: {
        // Both talk only to the kubelet's device-plugin socket and each other through the host: no network path.
        "DaemonSet/nvidia-device-plugin": { id: "plugin", serves: [], calls: [] },
        // Runs only where GPU feature discovery labels a node nvidia.com/mps.capable=true (the region runs no GFD).
        "DaemonSet/nvidia-device-plugin-mps-control-daemon": { id: "mps-control-daemon", serves: [], calls: [] },
    },
    advertises: [{ resource: "nvidia.com/gpu", pod: "plugin", source: { repo: "NVIDIA/k8s-device-plugin", ref: "v0.17.1", file: "internal/rm/rm.go" } }],
};

const EFA_DEVICE_PLUGIN: ChartNotes = {
    chart: "aws-efa-k8s-device-plugin",
    pods: { "DaemonSet/aws-efa-k8s-device-plugin": { id: "plugin", serves: [], calls: [] } },
    advertises: [
        {
            resource: "vpc.amazonaws.com/efa",
            pod: "plugin",
            source: { repo: "aws/eks-charts", ref: "41ef4da8c1cfb2454f553dfe5e2eae971f1d05af", file: "stable/aws-efa-k8s-device-plugin/templates/NOTES.txt" },
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// Envoy Gateway v1.7.3 and Envoy AI Gateway v0.5.0
const egSrc = (file: string): Source => ({ repo: "envoyproxy/gateway", ref: "v1.7.3", file });
const EG_PROVIDER = "config.envoyGateway.provider.kubernetes";
const AI_GATEWAY_CHART = "oci://docker.io/envoyproxy/ai-gateway-helm";

const ENVOY_GATEWAY: ChartNotes = {
    chart: "oci://docker.io/envoyproxy/gateway-helm",
    pods: {
        "Deployment/envoy-gateway": {
            id: "controller",
            serves: [webhookFromControlPlane(9443), scrape(19001)],
            calls: [apiServer, dns, dnsTcp, { peer: { kind: "pod", pod: "controller", chart: AI_GATEWAY_CHART }, port: 1063, why: "calls the AI Gateway's extension server for every translation" }],
        },
        "Job/envoy-gateway-gateway-helm-certgen": { id: "certgen", serves: [], calls: [apiServer] },
    },
    runtimePods: [
        {
            id: "ratelimit",
            workload: "Deployment/envoy-ratelimit",
            labels: { "app.kubernetes.io/name": "envoy-ratelimit", "app.kubernetes.io/component": "ratelimit", "app.kubernetes.io/managed-by": "envoy-gateway" },
            hostNetwork: false,
            createdAtRuntime: {},
            placement: { nodeSelector: [`${EG_PROVIDER}.rateLimitDeployment.pod.nodeSelector`], tolerations: [`${EG_PROVIDER}.rateLimitDeployment.pod.tolerations`] },
            replicas: { values: `${EG_PROVIDER}.rateLimitDeployment.replicas`, default: 1 },
            serves: [scrape(19001)],
            calls: [
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "controller" }, port: 18001, why: "takes its rate-limit configuration from the controller (xDS)" },
                { peer: { kind: "serviceFromValues", url: "config.envoyGateway.rateLimit.backend.redis.url" }, port: 6379, why: "keeps the counters in Redis" },
            ],
            source: egSrc("internal/infrastructure/kubernetes/ratelimit/resource.go"),
        },
        {
            id: "proxy",
            workload: "Deployment/<gateway>",
            labels: { "app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway" },
            hostNetwork: false,
            // One proxy Deployment per Gateway, in the Gateway's namespace (deploy.type GatewayNamespace).
            createdAtRuntime: {
                perObject: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
                labelsFromObject: { "gateway.envoyproxy.io/owning-gateway-name": "{name}", "gateway.envoyproxy.io/owning-gateway-namespace": "{namespace}" },
            },
            placement: {},
            replicas: 1,
            serves: [scrape(19001)],
            calls: [
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "controller" }, port: 18000, why: "takes its configuration from the controller (xDS)" },
                { peer: { kind: "pod", pod: "ratelimit" }, port: 8081, why: "asks the rate-limit service before forwarding" },
            ],
            source: egSrc("internal/infrastructure/kubernetes/proxy/resource_provider.go"),
        },
    ],
};

const AI_GATEWAY_CRDS: ChartNotes = { chart: "oci://docker.io/envoyproxy/ai-gateway-crds-helm", pods: {} };

const AI_GATEWAY: ChartNotes = {
    chart: AI_GATEWAY_CHART,
    // Its webhook adds the external processor to Envoy Gateway's pods (the proxies and the rate-limit service).
    pods: { "Deployment/ai-gateway-controller": { id: "controller", serves: [webhookFromControlPlane(9443)], calls: [apiServer] } },
};

// ---------------------------------------------------------------------------------------------
// AWS Load Balancer Controller 1.17.1, FSx for Lustre CSI driver 1.17.0, Cluster Autoscaler
const AWS_LOAD_BALANCER_CONTROLLER: ChartNotes = {
    chart: "aws-load-balancer-controller",
    pods: {
        "Deployment/aws-load-balancer-controller": {
            id: "controller",
            serves: [webhookFromControlPlane(9443), scrape(8080)],
            calls: [
                apiServer,
                ...awsApiPaths("manages load balancers, target groups and security groups (ELB, EC2, ACM)"),
                { peer: { kind: "podIdentityAgent" }, port: 80, why: "takes its IAM role's credentials" },
            ],
        },
    },
};

const lustre = lustrePaths("mounts tenants' file systems");
const FSX_CSI_DRIVER_CHART: ChartNotes = {
    chart: "aws-fsx-csi-driver",
    pods: {
        // Dynamic provisioning only: the region provisions statically and runs none (controller.replicaCount 0).
        "Deployment/fsx-csi-controller": { id: "controller", serves: [], calls: [apiServer, ...awsApiPaths("creates and resizes file systems (dynamic provisioning)")] },
        // Not host-network since 2023 (PR #332). Its fsx-plugin container runs mount.lustre, and LNet keeps
        // the network namespace of the process that first configures it (lnet/lnet/config.c, "Store net
        // namespace in which current ni is being created"): the Lustre traffic is this pod's. Region and
        // instance come from the node object when IMDS is out of reach (hop limit 1); it also removes its
        // start-up taint there. The file system's DNS name resolves through CoreDNS.
        "DaemonSet/fsx-csi-node": {
            id: "node",
            serves: lustre.serves,
            calls: [apiServer, ...clusterDnsPaths("resolves the file systems' DNS names"), ...lustre.calls],
        },
    },
};

/** The five pinned versions render the same pod set (CLUSTER_AUTOSCALER_AWS cites the calls it makes). */
const CLUSTER_AUTOSCALER: ChartNotes = {
    chart: CLUSTER_AUTOSCALER_CHART,
    pods: {
        "Deployment/cluster-autoscaler-aws-cluster-autoscaler": {
            id: "autoscaler",
            serves: [{ peer: { kind: "prometheus" }, port: 8085, why: "Prometheus scrapes its metrics" }],
            calls: [
                API_SERVER_PATH,
                ...awsApiPaths("reads and resizes the node groups' Auto Scaling groups (autoscaling, ec2, eks:DescribeNodegroup)"),
                { peer: { kind: "podIdentityAgent" }, port: 80, why: "takes its IAM role's credentials" },
            ],
        },
    },
};

// ---------------------------------------------------------------------------------------------
// prom-label-proxy 0.22.0 (prometheus-community/helm-charts; prom-label-proxy v0.13.0 with
// kube-rbac-proxy as its sidecar): the tenant metrics API (components/tenant-observability.ts).
const PROM_LABEL_PROXY: ChartNotes = {
    chart: "prom-label-proxy",
    pods: {
        "Deployment/tenant-metrics": {
            id: "proxy",
            // Tenants call kube-rbac-proxy's port: a declared route the reachability proof checks
            // (TENANT_DECLARED_ROUTES), not a platform path.
            serves: [],
            calls: [
                { ...apiServer, why: "kube-rbac-proxy authenticates callers (TokenReview) and authorizes them (SubjectAccessReview)" },
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "prometheus", chart: "kube-prometheus-stack" }, port: 9090, why: "prom-label-proxy forwards the scoped queries to Prometheus" },
            ],
        },
    },
};

/** What a render cannot show, for every chart the region pins. */
export const CHART_NOTES: readonly ChartNotes[] = [
    KUEUE, KEDA, KUBE_PROMETHEUS_STACK, DCGM_EXPORTER, NVIDIA_DEVICE_PLUGIN, EFA_DEVICE_PLUGIN, ENVOY_GATEWAY, AI_GATEWAY_CRDS, AI_GATEWAY, AWS_LOAD_BALANCER_CONTROLLER, FSX_CSI_DRIVER_CHART, PROM_LABEL_PROXY,
    CLUSTER_AUTOSCALER,
];

/**
 * A chart's facts: its render, its pod sets named and given their paths by its notes, its runtime
 * pods. A rendered pod set the notes do not name keeps its workload as id and has no paths
 * (test/chart-facts.test.ts fails on it: a new pod set needs its paths read).
 */
export function chartFactsOf(rendered: RenderedChart, notes: ChartNotes | undefined): ChartFacts {
    const idOf = (workload: string | undefined) => (workload === undefined ? "" : (notes?.pods[workload]?.id ?? workload));
    const pods: PodFact[] = rendered.pods.map((p) => {
        const note = notes?.pods[p.workload];
        return {
            id: idOf(p.workload),
            workload: p.workload,
            ...(p.namespace ? { namespace: p.namespace } : {}),
            labels: p.labels,
            selector: p.selector,
            hostNetwork: p.hostNetwork,
            ...(p.helmHook ? { helmHook: true } : {}),
            placement: p.placement,
            ...(p.requests ? { requests: p.requests } : {}),
            replicas: p.replicas,
            serves: note?.serves ?? [],
            calls: note?.calls ?? [],
            source: p.source,
        };
    });
    return {
        chart: rendered.chart,
        version: rendered.version,
        source: rendered.rendered.source,
        crds: rendered.crds,
        crdSource: rendered.rendered.source,
        webhooks: rendered.webhooks.map(({ servedBy, port, ...w }) => ({ ...w, servedBy: idOf(servedBy), port: port ?? 443 })),
        apiServices: rendered.apiServices.map(({ servedBy, port, ...a }) => ({ ...a, servedBy: idOf(servedBy), port: port ?? 443 })),
        pods: [...pods, ...(notes?.runtimePods ?? [])],
        ...(notes?.advertises ? { advertises: notes.advertises } : {}),
    };
}

/** Every chart the region can install, keyed by chart and version. */
export const CHART_FACTS: readonly ChartFacts[] = RENDERED_CHARTS.map((r) => chartFactsOf(r, CHART_NOTES.find((n) => n.chart === r.chart)));
