import { API_SERVER_PATH, awsApiPaths, clusterDnsPaths, lustrePaths } from "./paths";
import { CLUSTER_AUTOSCALER_CHART_FACTS } from "./cluster-autoscaler";
import type { ChartFacts, CrdFact, PathFact, Source, WebhookFact } from "./types";

/**
 * The Helm charts the region pins (components/helm.ts), as read at those versions: the CRDs they
 * install, the admission webhooks and aggregated APIs they run, their pods (labels, placement
 * values, requests, host networking) and the network paths those pods serve and call. Read from each
 * chart's source at the tag, rendered with `helm template` and the values the components pass.
 */

const apiServer = API_SERVER_PATH;
const [dns, dnsTcp] = clusterDnsPaths();
const webhookFromControlPlane = (port: number): PathFact => ({ peer: { kind: "controlPlane" }, port, why: "the API server calls its admission webhooks" });
const scrape = (port: number): PathFact => ({ peer: { kind: "prometheus" }, port, why: "Prometheus scrapes its metrics" });

const served = (group: string, versions: readonly string[], kinds: readonly [string, "Namespaced" | "Cluster"][]): CrdFact[] => kinds.map(([kind, scope]) => ({ group, kind, scope, served: versions }));

// ---------------------------------------------------------------------------------------------
// Kueue 0.14.2
const kueueSrc = (file: string): Source => ({ repo: "kubernetes-sigs/kueue", ref: "v0.14.2", file });
const KUEUE_CONFIG = "managerConfig.controllerManagerConfigYaml";
const kueueIntegration = (resource: string, group: string, version: string, integration?: string): WebhookFact[] =>
    (["mutating", "validating"] as const).map((kind) => ({
        name: `${kind === "mutating" ? "m" : "v"}${resource.replace(/s$/, "")}.kb.io`,
        kind,
        failurePolicy: "Fail" as const,
        rules: [{ apiGroups: [group], apiVersions: [version], resources: [resource], operations: kind === "mutating" ? ["CREATE"] : ["CREATE", "UPDATE"] }],
        namespaceSelectorFromValues: `${KUEUE_CONFIG}#managedJobsNamespaceSelector`,
        ...(integration ? { onlyWhen: { values: `${KUEUE_CONFIG}#integrations.frameworks`, includes: integration } } : {}),
        servedBy: "controller",
        port: 9443,
        source: kueueSrc("charts/kueue/templates/webhook/manifests.yaml"),
    }));
const kueueOwn = (resource: string, kinds: readonly ("mutating" | "validating")[]): WebhookFact[] =>
    kinds.map((kind) => ({
        name: `${kind === "mutating" ? "m" : "v"}${resource.replace(/s$/, "")}.kb.io`,
        kind,
        failurePolicy: "Fail" as const,
        rules: [{ apiGroups: ["kueue.x-k8s.io"], apiVersions: ["v1beta1"], resources: [resource], operations: kind === "mutating" ? ["CREATE"] : ["CREATE", "UPDATE"] }],
        servedBy: "controller",
        port: 9443,
        source: kueueSrc("charts/kueue/templates/webhook/manifests.yaml"),
    }));

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

export const KUEUE: ChartFacts = {
    chart: "oci://registry.k8s.io/kueue/charts/kueue",
    version: "0.14.2",
    source: kueueSrc("charts/kueue"),
    // Every Kueue CRD serves only v1beta1 in 0.14 (Cohort v1alpha1 was removed in 0.13).
    crds: served("kueue.x-k8s.io", ["v1beta1"], [
        ["AdmissionCheck", "Cluster"], ["ClusterQueue", "Cluster"], ["Cohort", "Cluster"], ["LocalQueue", "Namespaced"], ["MultiKueueCluster", "Cluster"],
        ["MultiKueueConfig", "Cluster"], ["ProvisioningRequestConfig", "Cluster"], ["ResourceFlavor", "Cluster"], ["Topology", "Cluster"],
        ["WorkloadPriorityClass", "Cluster"], ["Workload", "Namespaced"],
    ]),
    crdSource: kueueSrc("charts/kueue/templates/crd/"),
    webhooks: [
        ...kueueIntegration("pods", "", "v1", "pod"),
        ...kueueIntegration("deployments", "apps", "v1", "deployment"),
        ...kueueIntegration("statefulsets", "apps", "v1", "statefulset"),
        ...kueueIntegration("jobs", "batch", "v1"),
        ...kueueIntegration("jobsets", "jobset.x-k8s.io", "v1alpha2"),
        ...kueueIntegration("leaderworkersets", "leaderworkerset.x-k8s.io", "v1"),
        ...kueueIntegration("pytorchjobs", "kubeflow.org", "v1"),
        ...kueueOwn("clusterqueues", ["mutating", "validating"]),
        ...kueueOwn("resourceflavors", ["mutating", "validating"]),
        ...kueueOwn("cohorts", ["validating"]),
        ...kueueOwn("workloads", ["mutating", "validating"]),
    ],
    apiServices: [{ group: "visibility.kueue.x-k8s.io", version: "v1beta1", servedBy: "controller", port: 8082, source: kueueSrc("charts/kueue/templates/visibility/apiservice_v1beta1.yaml") }],
    pods: [
        {
            id: "controller",
            workload: "Deployment/kueue-controller-manager",
            labels: { "app.kubernetes.io/name": "kueue", "app.kubernetes.io/instance": "kueue", "control-plane": "controller-manager" },
            hostNetwork: false,
            placement: { nodeSelector: ["controllerManager.nodeSelector"], tolerations: ["controllerManager.tolerations"] },
            requests: { cpu: "500m", memory: "512Mi" },
            replicas: { values: "controllerManager.replicas", default: 1 },
            serves: [webhookFromControlPlane(9443), { peer: { kind: "controlPlane" }, port: 8082, why: "the API server serves the visibility API from it" }, scrape(8443)],
            calls: [apiServer],
            source: kueueSrc("charts/kueue/templates/manager/manager.yaml"),
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// KEDA 2.17.2
const kedaSrc = (file: string): Source => ({ repo: "kedacore/charts", ref: "v2.17.2", file });
const kedaPlacement = { nodeSelector: ["nodeSelector"], tolerations: ["tolerations"], fixed: { nodeSelector: { "kubernetes.io/os": "linux" } } };

export const KEDA: ChartFacts = {
    chart: "keda",
    version: "2.17.2",
    source: kedaSrc("keda"),
    crds: [
        ...served("keda.sh", ["v1alpha1"], [["ScaledObject", "Namespaced"], ["ScaledJob", "Namespaced"], ["TriggerAuthentication", "Namespaced"], ["ClusterTriggerAuthentication", "Cluster"]]),
        ...served("eventing.keda.sh", ["v1alpha1"], [["CloudEventSource", "Namespaced"], ["ClusterCloudEventSource", "Cluster"]]),
    ],
    crdSource: kedaSrc("keda/templates/crds/"),
    webhooks: ["scaledobjects", "triggerauthentications", "clustertriggerauthentications"].map((resource) => ({
        name: `v${resource.replace(/s$/, "")}.kb.io`,
        kind: "validating" as const,
        failurePolicy: "Ignore" as const,
        rules: [{ apiGroups: ["keda.sh"], apiVersions: ["v1alpha1"], resources: [resource], operations: ["CREATE", "UPDATE"] }],
        servedBy: "admission",
        port: 9443,
        source: kedaSrc("keda/templates/webhooks/validatingconfiguration.yaml"),
    })),
    apiServices: [{ group: "external.metrics.k8s.io", version: "v1beta1", servedBy: "metrics", port: 6443, source: kedaSrc("keda/templates/metrics-server/apiservice.yaml") }],
    pods: [
        {
            id: "operator",
            workload: "Deployment/keda-operator",
            labels: { app: "keda-operator", name: "keda-operator", "app.kubernetes.io/name": "keda-operator", "app.kubernetes.io/instance": "keda" },
            hostNetwork: false,
            placement: kedaPlacement,
            requests: { cpu: "100m", memory: "100Mi" },
            replicas: { values: "operator.replicaCount", default: 1 },
            serves: [],
            calls: [apiServer, dns, dnsTcp, { peer: { kind: "pod", pod: "prometheus", chart: "kube-prometheus-stack" }, port: 9090, why: "queries Prometheus for the models' queue-depth triggers" }],
            source: kedaSrc("keda/templates/manager/deployment.yaml"),
        },
        {
            id: "metrics",
            workload: "Deployment/keda-operator-metrics-apiserver",
            labels: { app: "keda-operator-metrics-apiserver", "app.kubernetes.io/name": "keda-operator-metrics-apiserver", "app.kubernetes.io/instance": "keda" },
            hostNetwork: false,
            placement: kedaPlacement,
            requests: { cpu: "100m", memory: "100Mi" },
            replicas: { values: "metricsServer.replicaCount", default: 1 },
            serves: [{ peer: { kind: "controlPlane" }, port: 6443, why: "the API server serves external.metrics.k8s.io (the HPA's metrics) from it" }],
            calls: [apiServer, dns, dnsTcp, { peer: { kind: "pod", pod: "operator" }, port: 9666, why: "reads metric values from the operator over gRPC" }],
            source: kedaSrc("keda/templates/metrics-server/deployment.yaml"),
        },
        {
            id: "admission",
            workload: "Deployment/keda-admission-webhooks",
            labels: { app: "keda-admission-webhooks", name: "keda-admission-webhooks", "app.kubernetes.io/name": "keda-admission-webhooks", "app.kubernetes.io/instance": "keda" },
            hostNetwork: false,
            placement: kedaPlacement,
            requests: { cpu: "100m", memory: "100Mi" },
            replicas: { values: "webhooks.replicaCount", default: 1 },
            serves: [webhookFromControlPlane(9443)],
            calls: [apiServer],
            source: kedaSrc("keda/templates/webhooks/deployment.yaml"),
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// kube-prometheus-stack 75.15.0 (prometheus-operator v0.83.0)
const kpsSrc = (file: string): Source => ({ repo: "prometheus-community/helm-charts", ref: "kube-prometheus-stack-75.15.0", file });

export const KUBE_PROMETHEUS_STACK: ChartFacts = {
    chart: "kube-prometheus-stack",
    version: "75.15.0",
    source: kpsSrc("charts/kube-prometheus-stack"),
    // From the crds subchart's crds/ directory: Helm installs them on the first install only.
    crds: [
        ...served("monitoring.coreos.com", ["v1"], [["Alertmanager", "Namespaced"], ["PodMonitor", "Namespaced"], ["Probe", "Namespaced"], ["Prometheus", "Namespaced"], ["PrometheusRule", "Namespaced"], ["ServiceMonitor", "Namespaced"], ["ThanosRuler", "Namespaced"]]),
        ...served("monitoring.coreos.com", ["v1alpha1"], [["AlertmanagerConfig", "Namespaced"], ["PrometheusAgent", "Namespaced"], ["ScrapeConfig", "Namespaced"]]),
    ],
    crdSource: kpsSrc("charts/kube-prometheus-stack/charts/crds/crds/"),
    // The operator's admission webhooks are off in the region's values (prometheusOperator.admissionWebhooks.enabled false).
    webhooks: [],
    apiServices: [],
    pods: [
        {
            id: "operator",
            workload: "Deployment/kube-prometheus-stack-operator",
            labels: { app: "kube-prometheus-stack-operator", release: "kube-prometheus-stack", "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator", "app.kubernetes.io/instance": "kube-prometheus-stack" },
            hostNetwork: false,
            placement: { nodeSelector: ["prometheusOperator.nodeSelector"], tolerations: ["prometheusOperator.tolerations"] },
            replicas: 1,
            serves: [scrape(8080)],
            calls: [apiServer],
            source: kpsSrc("charts/kube-prometheus-stack/templates/prometheus-operator/deployment.yaml"),
        },
        {
            id: "prometheus",
            workload: "StatefulSet/prometheus-kube-prometheus-stack-prometheus",
            labels: { "app.kubernetes.io/name": "prometheus", prometheus: "kube-prometheus-stack-prometheus", "operator.prometheus.io/name": "kube-prometheus-stack-prometheus" },
            hostNetwork: false,
            // Made by the operator from the chart's Prometheus object; the release's wait covers it.
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
            source: { repo: "prometheus-operator/prometheus-operator", ref: "v0.83.0", file: "pkg/prometheus/statefulset.go" },
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
            source: { repo: "prometheus-operator/prometheus-operator", ref: "v0.83.0", file: "pkg/alertmanager/statefulset.go" },
        },
        {
            id: "grafana",
            workload: "Deployment/kube-prometheus-stack-grafana",
            labels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kube-prometheus-stack" },
            hostNetwork: false,
            placement: { nodeSelector: ["grafana.nodeSelector"], tolerations: ["grafana.tolerations"] },
            replicas: { values: "grafana.replicas", default: 1 },
            serves: [scrape(3000)],
            calls: [
                apiServer,
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "prometheus" }, port: 9090, why: "queries its Prometheus data source" },
                { peer: { kind: "pod", pod: "alertmanager" }, port: 9093, why: "reads its Alertmanager data source" },
            ],
            source: { repo: "grafana/helm-charts", ref: "grafana-9.3.0", file: "charts/grafana/templates/deployment.yaml" },
        },
        {
            id: "kube-state-metrics",
            workload: "Deployment/kube-prometheus-stack-kube-state-metrics",
            labels: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-prometheus-stack" },
            hostNetwork: false,
            placement: { nodeSelector: ["kube-state-metrics.nodeSelector"], tolerations: ["kube-state-metrics.tolerations"] },
            replicas: 1,
            serves: [scrape(8080)],
            calls: [apiServer],
            source: { repo: "prometheus-community/helm-charts", ref: "kube-state-metrics-6.1.0", file: "charts/kube-state-metrics/templates/deployment.yaml" },
        },
        {
            id: "node-exporter",
            workload: "DaemonSet/kube-prometheus-stack-prometheus-node-exporter",
            labels: { "app.kubernetes.io/name": "prometheus-node-exporter", "app.kubernetes.io/instance": "kube-prometheus-stack" },
            hostNetwork: true,
            placement: { nodeSelector: ["prometheus-node-exporter.nodeSelector"], tolerations: ["prometheus-node-exporter.tolerations"], defaults: { nodeSelector: { "kubernetes.io/os": "linux" } } },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: { repo: "prometheus-community/helm-charts", ref: "prometheus-node-exporter-4.47.3", file: "charts/prometheus-node-exporter/templates/daemonset.yaml" },
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// dcgm-exporter 4.1.1 (the published chart package dcgm-exporter-4.1.1.tgz; git tag 4.2.3-4.1.1, deployment/)
const dcgmSrc: Source = { repo: "NVIDIA/dcgm-exporter", ref: "4.2.3-4.1.1", file: "deployment/templates/daemonset.yaml", note: "the published 4.1.1 chart package was rendered" };

export const DCGM_EXPORTER: ChartFacts = {
    chart: "dcgm-exporter",
    version: "4.1.1",
    source: { repo: "NVIDIA/dcgm-exporter", ref: "4.2.3-4.1.1", file: "deployment" },
    crds: [],
    webhooks: [],
    apiServices: [],
    pods: [
        {
            id: "exporter",
            workload: "DaemonSet/dcgm-exporter",
            labels: { "app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": "dcgm-exporter" },
            hostNetwork: false,
            placement: { nodeSelector: ["nodeSelector"], tolerations: ["tolerations"], affinity: ["affinity"] },
            replicas: "perNode",
            serves: [scrape(9400)],
            calls: [],
            source: dcgmSrc,
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// NVIDIA device plugin 0.17.1
const nvidiaSrc = (file: string): Source => ({ repo: "NVIDIA/k8s-device-plugin", ref: "v0.17.1", file });

export const NVIDIA_DEVICE_PLUGIN: ChartFacts = {
    chart: "nvidia-device-plugin",
    version: "0.17.1",
    source: nvidiaSrc("deployments/helm/nvidia-device-plugin"),
    crds: [],
    webhooks: [],
    apiServices: [],
    pods: [
        {
            id: "plugin",
            workload: "DaemonSet/nvidia-device-plugin",
            labels: { "app.kubernetes.io/name": "nvidia-device-plugin", "app.kubernetes.io/instance": "nvidia-device-plugin" },
            // Talks only to the kubelet's device-plugin socket: no network path at all.
            hostNetwork: false,
            placement: {
                nodeSelector: ["nodeSelector"],
                tolerations: ["tolerations"],
                affinity: ["affinity"],
                defaults: {
                    tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                    requiredNodeAffinity: [
                        [{ key: "feature.node.kubernetes.io/pci-10de.present", operator: "In", values: ["true"] }],
                        [{ key: "feature.node.kubernetes.io/cpu-model.vendor_id", operator: "In", values: ["NVIDIA"] }],
                        [{ key: "nvidia.com/gpu.present", operator: "In", values: ["true"] }],
                    ],
                },
            },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: nvidiaSrc("deployments/helm/nvidia-device-plugin/templates/daemonset-device-plugin.yml"),
        },
    ],
    advertises: [{ resource: "nvidia.com/gpu", pod: "plugin", source: nvidiaSrc("internal/rm/rm.go") }],
};

// ---------------------------------------------------------------------------------------------
// AWS EFA device plugin chart v0.5.7 (plugin image v0.5.4)
const efaSrc = (file: string): Source => ({ repo: "aws/eks-charts", ref: "41ef4da8c1cfb2454f553dfe5e2eae971f1d05af", file, note: "the published aws-efa-k8s-device-plugin-v0.5.7.tgz was rendered" });
/** The instance types the chart's default affinity lists (`supportedInstanceLabels.values`). */
const EFA_INSTANCE_TYPES = [
    "m5dn.24xlarge", "m5dn.metal", "m5n.24xlarge", "m5n.metal", "m5zn.12xlarge", "m5zn.metal", "m6a.48xlarge", "m6a.metal", "m6i.32xlarge", "m6i.metal", "m6id.32xlarge", "m6id.metal",
    "m6idn.32xlarge", "m6idn.metal", "m6in.32xlarge", "m6in.metal", "m7a.48xlarge", "m7a.metal-48xl", "m7g.16xlarge", "m7g.metal", "m7gd.16xlarge", "m7i.48xlarge", "m7i.metal-48xl",
    "c5n.9xlarge", "c5n.18xlarge", "c5n.metal", "c6a.48xlarge", "c6a.metal", "c6gn.16xlarge", "c6i.32xlarge", "c6i.metal", "c6id.32xlarge", "c6id.metal", "c6in.32xlarge", "c6in.metal",
    "c7a.48xlarge", "c7a.metal-48xl", "c7g.16xlarge", "c7g.metal", "c7gd.16xlarge", "c7gn.16xlarge", "c7i.48xlarge", "c7i.metal-48xl", "r5dn.24xlarge", "r5dn.metal", "r5n.24xlarge",
    "r5n.metal", "r6a.48xlarge", "r6a.metal", "r6i.32xlarge", "r6i.metal", "r6idn.32xlarge", "r6idn.metal", "r6in.32xlarge", "r6in.metal", "r6id.32xlarge", "r6id.metal", "r7a.48xlarge",
    "r7a.metal-48xl", "r7g.16xlarge", "r7g.metal", "r7gd.16xlarge", "r7i.48xlarge", "r7i.metal-48xl", "r7iz.32xlarge", "r7iz.metal-32xl", "x2idn.32xlarge", "x2idn.metal", "x2iedn.32xlarge",
    "x2iedn.metal", "x2iezn.12xlarge", "x2iezn.metal", "i3en.12xlarge", "i3en.24xlarge", "i3en.metal", "i4g.16xlarge", "i4i.32xlarge", "i4i.metal", "im4gn.16xlarge", "dl1.24xlarge",
    "dl2q.24xlarge", "g4dn.8xlarge", "g4dn.12xlarge", "g4dn.16xlarge", "g4dn.metal", "g5.8xlarge", "g5.12xlarge", "g5.16xlarge", "g5.24xlarge", "g5.48xlarge", "g6.8xlarge", "g6.12xlarge",
    "g6.16xlarge", "g6.24xlarge", "g6.48xlarge", "g6e.8xlarge", "g6e.12xlarge", "g6e.16xlarge", "g6e.24xlarge", "g6e.48xlarge", "gr6.8xlarge", "inf1.24xlarge", "p3dn.24xlarge",
    "p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "trn1.32xlarge", "trn1n.32xlarge", "trn2.48xlarge", "vt1.24xlarge", "hpc6a.48xlarge",
    "hpc6id.32xlarge", "hpc7a.12xlarge", "hpc7a.24xlarge", "hpc7a.48xlarge", "hpc7a.96xlarge", "hpc7g.4xlarge", "hpc7g.8xlarge", "hpc7g.16xlarge",
];

export const EFA_DEVICE_PLUGIN: ChartFacts = {
    chart: "aws-efa-k8s-device-plugin",
    version: "v0.5.7",
    source: efaSrc("stable/aws-efa-k8s-device-plugin"),
    crds: [],
    webhooks: [],
    apiServices: [],
    pods: [
        {
            id: "plugin",
            workload: "DaemonSet/aws-efa-k8s-device-plugin",
            labels: { name: "aws-efa-k8s-device-plugin" },
            hostNetwork: true,
            placement: {
                nodeSelector: ["nodeSelector"],
                tolerations: ["tolerations"],
                defaults: {
                    requiredNodeAffinity: [[
                        { key: "node.kubernetes.io/instance-type", operator: "In", values: EFA_INSTANCE_TYPES },
                        { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["auto"] },
                    ]],
                },
                // The template always tolerates CriticalAddonsOnly, then appends the values' tolerations.
                fixed: { tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }] },
            },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: efaSrc("stable/aws-efa-k8s-device-plugin/templates/daemonset.yaml"),
        },
    ],
    advertises: [{ resource: "vpc.amazonaws.com/efa", pod: "plugin", source: efaSrc("stable/aws-efa-k8s-device-plugin/templates/NOTES.txt") }],
};

// ---------------------------------------------------------------------------------------------
// Envoy Gateway v1.7.3 (gateway-helm), with the Gateway API v1.4.1 experimental CRDs it bundles
const egSrc = (file: string): Source => ({ repo: "envoyproxy/gateway", ref: "v1.7.3", file });
const EG_PROVIDER = "config.envoyGateway.provider.kubernetes";

export const ENVOY_GATEWAY: ChartFacts = {
    chart: "oci://docker.io/envoyproxy/gateway-helm",
    version: "v1.7.3",
    source: egSrc("charts/gateway-helm"),
    crds: [
        ...served("gateway.networking.k8s.io", ["v1", "v1beta1"], [["Gateway", "Namespaced"], ["GatewayClass", "Cluster"], ["HTTPRoute", "Namespaced"]]),
        ...served("gateway.networking.k8s.io", ["v1"], [["GRPCRoute", "Namespaced"]]),
        ...served("gateway.networking.k8s.io", ["v1", "v1alpha3"], [["BackendTLSPolicy", "Namespaced"]]),
        ...served("gateway.networking.k8s.io", ["v1beta1"], [["ReferenceGrant", "Namespaced"]]),
        ...served("gateway.networking.k8s.io", ["v1alpha2"], [["TCPRoute", "Namespaced"], ["UDPRoute", "Namespaced"]]),
        ...served("gateway.networking.k8s.io", ["v1alpha2", "v1alpha3"], [["TLSRoute", "Namespaced"]]),
        ...served("gateway.networking.x-k8s.io", ["v1alpha1"], [["XBackendTrafficPolicy", "Namespaced"], ["XListenerSet", "Namespaced"], ["XMesh", "Cluster"]]),
        ...served("gateway.envoyproxy.io", ["v1alpha1"], [
            ["Backend", "Namespaced"], ["BackendTrafficPolicy", "Namespaced"], ["ClientTrafficPolicy", "Namespaced"], ["EnvoyExtensionPolicy", "Namespaced"],
            ["EnvoyPatchPolicy", "Namespaced"], ["EnvoyProxy", "Namespaced"], ["HTTPRouteFilter", "Namespaced"], ["SecurityPolicy", "Namespaced"],
        ]),
    ],
    crdSource: egSrc("charts/gateway-helm/crds/"),
    // The topology injector: with deploy.type GatewayNamespace it has no selectors, so every pod binding goes through it (Ignore).
    webhooks: [
        {
            name: "topology.webhook.gateway.envoyproxy.io",
            kind: "mutating",
            failurePolicy: "Ignore",
            rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods/binding"], operations: ["CREATE"] }],
            servedBy: "controller",
            port: 9443,
            source: egSrc("charts/gateway-helm/templates/envoy-proxy-topology-injector-webhook.yaml"),
        },
    ],
    apiServices: [],
    pods: [
        {
            id: "controller",
            workload: "Deployment/envoy-gateway",
            labels: { "control-plane": "envoy-gateway", "app.kubernetes.io/name": "gateway-helm", "app.kubernetes.io/instance": "envoy-gateway" },
            hostNetwork: false,
            placement: { nodeSelector: ["deployment.pod.nodeSelector"], tolerations: ["deployment.pod.tolerations"] },
            replicas: { values: "deployment.replicas", default: 1 },
            serves: [webhookFromControlPlane(9443), scrape(19001)],
            calls: [
                apiServer,
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "controller", chart: "oci://docker.io/envoyproxy/ai-gateway-helm" }, port: 1063, why: "calls the AI Gateway's extension server for every translation" },
            ],
            source: egSrc("charts/gateway-helm/templates/envoy-gateway-deployment.yaml"),
        },
        {
            id: "certgen",
            workload: "Job/envoy-gateway-gateway-helm-certgen",
            labels: { app: "certgen" },
            hostNetwork: false,
            helmHook: true,
            placement: { nodeSelector: ["certgen.job.nodeSelector"], tolerations: ["certgen.job.tolerations"] },
            replicas: 1,
            serves: [],
            calls: [apiServer],
            source: egSrc("charts/gateway-helm/templates/certgen.yaml"),
        },
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

// ---------------------------------------------------------------------------------------------
// Envoy AI Gateway v0.5.0: its CRDs chart and its controller chart
const aigSrc = (file: string): Source => ({ repo: "envoyproxy/ai-gateway", ref: "v0.5.0", file });

export const AI_GATEWAY_CRDS: ChartFacts = {
    chart: "oci://docker.io/envoyproxy/ai-gateway-crds-helm",
    version: "v0.5.0",
    source: aigSrc("manifests/charts/ai-gateway-crds-helm"),
    // Templates, not crds/: they upgrade with the release and go (with every route) when it is uninstalled.
    crds: served("aigateway.envoyproxy.io", ["v1alpha1"], [["AIGatewayRoute", "Namespaced"], ["AIServiceBackend", "Namespaced"], ["BackendSecurityPolicy", "Namespaced"], ["GatewayConfig", "Namespaced"], ["MCPRoute", "Namespaced"]]),
    crdSource: aigSrc("manifests/charts/ai-gateway-crds-helm/templates/"),
    webhooks: [],
    apiServices: [],
    pods: [],
};

export const AI_GATEWAY: ChartFacts = {
    chart: "oci://docker.io/envoyproxy/ai-gateway-helm",
    version: "v0.5.0",
    source: aigSrc("manifests/charts/ai-gateway-helm"),
    crds: [],
    webhooks: [
        {
            // Adds the external processor to Envoy Gateway's pods (the proxies and the rate-limit service).
            name: "envoy-gateway-pod-mutator",
            kind: "mutating",
            failurePolicy: "Fail",
            rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"] }],
            objectSelector: { matchLabels: { "app.kubernetes.io/managed-by": "envoy-gateway" } },
            servedBy: "controller",
            port: 9443,
            source: aigSrc("manifests/charts/ai-gateway-helm/templates/admission_webhook.yaml"),
        },
    ],
    apiServices: [],
    pods: [
        {
            id: "controller",
            workload: "Deployment/ai-gateway-controller",
            labels: { "app.kubernetes.io/name": "ai-gateway-helm", "app.kubernetes.io/instance": "ai-gateway" },
            hostNetwork: false,
            placement: { nodeSelector: ["controller.nodeSelector"], tolerations: ["controller.tolerations"] },
            replicas: { values: "controller.replicaCount", default: 1 },
            serves: [webhookFromControlPlane(9443)],
            calls: [apiServer],
            source: aigSrc("manifests/charts/ai-gateway-helm/templates/deployment.yaml"),
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// AWS Load Balancer Controller chart 1.17.1 (controller v2.17.1)
const lbcSrc = (file: string): Source => ({ repo: "aws/eks-charts", ref: "9639b8b69c99164b1f09af63427f8046b0634f35", file, note: "the published aws-load-balancer-controller-1.17.1.tgz was rendered" });
const lbcWebhook = (name: string, kind: "mutating" | "validating", failurePolicy: "Fail" | "Ignore", group: string, version: string, resource: string, operations: ("CREATE" | "UPDATE")[], selectors: Partial<WebhookFact> = {}): WebhookFact => ({
    name,
    kind,
    failurePolicy,
    rules: [{ apiGroups: [group], apiVersions: [version], resources: [resource], operations }],
    ...selectors,
    servedBy: "controller",
    port: 9443,
    source: lbcSrc("stable/aws-load-balancer-controller/templates/webhook.yaml"),
});
const notTheController = { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["aws-load-balancer-controller"] }] };

export const AWS_LOAD_BALANCER_CONTROLLER: ChartFacts = {
    chart: "aws-load-balancer-controller",
    version: "1.17.1",
    source: lbcSrc("stable/aws-load-balancer-controller"),
    crds: [
        ...served("elbv2.k8s.aws", ["v1alpha1", "v1beta1"], [["TargetGroupBinding", "Namespaced"]]),
        ...served("elbv2.k8s.aws", ["v1beta1"], [["IngressClassParams", "Cluster"], ["ALBTargetControlConfig", "Namespaced"]]),
        ...served("aga.k8s.aws", ["v1beta1"], [["GlobalAccelerator", "Namespaced"]]),
        ...served("gateway.k8s.aws", ["v1beta1"], [["ListenerRuleConfiguration", "Namespaced"], ["LoadBalancerConfiguration", "Namespaced"], ["TargetGroupConfiguration", "Namespaced"]]),
    ],
    crdSource: lbcSrc("stable/aws-load-balancer-controller/crds/"),
    webhooks: [
        lbcWebhook("mpod.elbv2.k8s.aws", "mutating", "Ignore", "", "v1", "pods", ["CREATE"], {
            namespaceSelector: { matchExpressions: [{ key: "elbv2.k8s.aws/pod-readiness-gate-inject", operator: "In", values: ["enabled"] }] },
            objectSelector: notTheController,
        }),
        lbcWebhook("mtargetgroupbinding.elbv2.k8s.aws", "mutating", "Fail", "elbv2.k8s.aws", "v1beta1", "targetgroupbindings", ["CREATE", "UPDATE"]),
        lbcWebhook("vtargetgroupbinding.elbv2.k8s.aws", "validating", "Fail", "elbv2.k8s.aws", "v1beta1", "targetgroupbindings", ["CREATE", "UPDATE"]),
        lbcWebhook("vingressclassparams.elbv2.k8s.aws", "validating", "Fail", "elbv2.k8s.aws", "v1beta1", "ingressclassparams", ["CREATE", "UPDATE"], { objectSelector: notTheController }),
        lbcWebhook("vingress.elbv2.k8s.aws", "validating", "Fail", "networking.k8s.io", "v1", "ingresses", ["CREATE", "UPDATE"]),
    ],
    apiServices: [],
    pods: [
        {
            id: "controller",
            workload: "Deployment/aws-load-balancer-controller",
            labels: { "app.kubernetes.io/name": "aws-load-balancer-controller", "app.kubernetes.io/instance": "aws-load-balancer-controller" },
            hostNetwork: false,
            placement: { nodeSelector: ["nodeSelector"], tolerations: ["tolerations"] },
            replicas: { values: "replicaCount", default: 2 },
            serves: [webhookFromControlPlane(9443), scrape(8080)],
            calls: [
                apiServer,
                ...awsApiPaths("manages load balancers, target groups and security groups (ELB, EC2, ACM)"),
                { peer: { kind: "podIdentityAgent" }, port: 80, why: "takes its IAM role's credentials" },
            ],
            source: lbcSrc("stable/aws-load-balancer-controller/templates/deployment.yaml"),
        },
    ],
};

// ---------------------------------------------------------------------------------------------
// FSx for Lustre CSI driver chart 1.17.0 (driver v1.9.0)
const fsxSrc = (file: string): Source => ({ repo: "kubernetes-sigs/aws-fsx-csi-driver", ref: "helm-chart-aws-fsx-csi-driver-1.17.0", file });
const fsxSelector = { "app.kubernetes.io/name": "aws-fsx-csi-driver", "app.kubernetes.io/instance": "aws-fsx-csi-driver" };
const lustre = lustrePaths("mounts tenants' file systems");

export const FSX_CSI_DRIVER_CHART: ChartFacts = {
    chart: "aws-fsx-csi-driver",
    version: "1.17.0",
    source: fsxSrc("charts/aws-fsx-csi-driver"),
    // The CSIDriver object (attachRequired false, no volumeLifecycleModes: persistent volumes only, never inline in a pod).
    crds: [],
    webhooks: [],
    apiServices: [],
    pods: [
        {
            // Dynamic provisioning only: the region provisions statically and runs none (controller.replicaCount 0).
            // nodeComponentOnly does not drop it in 1.17.0: only the PodDisruptionBudget is conditional on it.
            id: "controller",
            workload: "Deployment/fsx-csi-controller",
            labels: { app: "fsx-csi-controller", ...fsxSelector },
            hostNetwork: false,
            placement: {
                nodeSelector: ["controller.nodeSelector"],
                tolerations: ["controller.tolerations"],
                defaults: { tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { operator: "Exists", effect: "NoExecute" }] },
                fixed: { nodeSelector: { "kubernetes.io/os": "linux" } },
            },
            requests: { cpu: "10m", memory: "40Mi" },
            replicas: { values: "controller.replicaCount", default: 2 },
            serves: [],
            calls: [apiServer, ...awsApiPaths("creates and resizes file systems (dynamic provisioning)")],
            source: fsxSrc("charts/aws-fsx-csi-driver/templates/controller-deployment.yaml"),
        },
        {
            id: "node",
            workload: "DaemonSet/fsx-csi-node",
            labels: { app: "fsx-csi-node", ...fsxSelector },
            // Not host-network since 2023 (PR #332). Its fsx-plugin container runs mount.lustre, and LNet keeps
            // the network namespace of the process that first configures it (lnet/lnet/config.c, "Store net
            // namespace in which current ni is being created"): the Lustre traffic is this pod's.
            hostNetwork: false,
            placement: {
                nodeSelector: ["node.nodeSelector"],
                affinity: ["node.affinity"],
                // node.tolerateAllTaints (default true) renders a single `operator: Exists`.
                defaults: { tolerations: [{ operator: "Exists" }], requiredNodeAffinity: [[{ key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["fargate"] }]] },
                fixed: { nodeSelector: { "kubernetes.io/os": "linux" } },
            },
            requests: { cpu: "10m", memory: "40Mi" },
            replicas: "perNode",
            serves: lustre.serves,
            // Region and instance come from the node object when IMDS is out of reach (hop limit 1); it
            // also removes its start-up taint there. The file system's DNS name resolves through CoreDNS.
            calls: [apiServer, ...clusterDnsPaths("resolves the file systems' DNS names"), ...lustre.calls],
            source: fsxSrc("charts/aws-fsx-csi-driver/templates/node-daemonset.yaml"),
        },
    ],
};

/** Every chart the region can install, keyed by chart and version. */
// ---------------------------------------------------------------------------------------------
// prom-label-proxy 0.22.0 (prometheus-community/helm-charts; prom-label-proxy v0.13.0, kube-rbac-proxy
// as its sidecar): the tenant metrics API. Hand-written like the facts above, from the chart at its
// tag rendered with the values components/tenant-observability.ts passes (fullnameOverride tenant-metrics).
const plpChartSrc = (file: string): Source => ({ repo: "prometheus-community/helm-charts", ref: "prom-label-proxy-0.22.0", file });

export const PROM_LABEL_PROXY_CHART: ChartFacts = {
    chart: "prom-label-proxy",
    version: "0.22.0",
    source: plpChartSrc("charts/prom-label-proxy"),
    crds: [],
    webhooks: [],
    apiServices: [],
    pods: [
        {
            id: "proxy",
            workload: "Deployment/tenant-metrics",
            // The chart's selector labels: its name, and the release's (tenant-metrics).
            labels: { "app.kubernetes.io/name": "prom-label-proxy", "app.kubernetes.io/instance": "tenant-metrics" },
            hostNetwork: false,
            placement: { nodeSelector: ["nodeSelector"], tolerations: ["tolerations"], affinity: ["affinity"] },
            // prom-label-proxy's requests; kube-rbac-proxy's are unset (its value renders wrongly: PROM_LABEL_PROXY_CHART_QUIRKS).
            requests: { cpu: "100m", memory: "64Mi" },
            replicas: { values: "replicaCount", default: 1 },
            // Tenants call kube-rbac-proxy's port: a declared route the reachability proof checks
            // (TENANT_DECLARED_ROUTES), not a platform path.
            serves: [],
            calls: [
                { ...apiServer, why: "kube-rbac-proxy authenticates callers (TokenReview) and authorizes them (SubjectAccessReview)" },
                dns,
                dnsTcp,
                { peer: { kind: "pod", pod: "prometheus", chart: "kube-prometheus-stack" }, port: 9090, why: "prom-label-proxy forwards the scoped queries to Prometheus" },
            ],
            source: plpChartSrc("charts/prom-label-proxy/templates/deployment.yaml"),
        },
    ],
};

export const CHART_FACTS: readonly ChartFacts[] = [
    KUEUE, KEDA, KUBE_PROMETHEUS_STACK, DCGM_EXPORTER, NVIDIA_DEVICE_PLUGIN, EFA_DEVICE_PLUGIN, ENVOY_GATEWAY, AI_GATEWAY_CRDS, AI_GATEWAY, AWS_LOAD_BALANCER_CONTROLLER, FSX_CSI_DRIVER_CHART, PROM_LABEL_PROXY_CHART,
    ...CLUSTER_AUTOSCALER_CHART_FACTS,
];
