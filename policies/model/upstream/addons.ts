import { API_SERVER_PATH, awsApiPaths } from "./paths";
import type { AddonFacts, Source } from "./types";
import { GUARDDUTY_AGENT_FACTS } from "./guardduty";

/**
 * The EKS managed add-ons the region installs, as read from what they are built from: the
 * namespace their pods run in, those pods (labels, host networking, tolerations, the paths they
 * serve and call), their CRDs and webhooks. Placement values are paths in the add-on's
 * `configurationValues`. Host-network pods (aws-node, kube-proxy, the Pod Identity agent, the
 * CloudWatch agent and Fluent Bit) are outside NetworkPolicy; the rest must be given paths.
 */

const apiServer = API_SERVER_PATH;
const tolerateAll = [{ operator: "Exists" as const }];

const vpcCniSrc: Source = { repo: "aws/amazon-vpc-cni-k8s", ref: "v1.23.0", file: "config/master/aws-k8s-cni.yaml" };
export const VPC_CNI: AddonFacts = {
    addon: "vpc-cni",
    namespace: "kube-system",
    createsNamespace: false,
    source: vpcCniSrc,
    crds: [{ group: "crd.k8s.amazonaws.com", kind: "ENIConfig", scope: "Cluster", served: ["v1alpha1"] }],
    webhooks: [],
    pods: [
        {
            id: "aws-node",
            workload: "DaemonSet/aws-node",
            labels: { "k8s-app": "aws-node" },
            hostNetwork: true,
            placement: { defaults: { tolerations: tolerateAll } },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: vpcCniSrc,
        },
    ],
};

const kubeProxySrc: Source = { repo: "eksctl-io/eksctl", ref: "v0.230.0", file: "pkg/addons/default/testdata/sample-1.15-eksbuild.1.json", note: "kube-proxy runs host-network (EKS networking add-ons guide)" };
export const KUBE_PROXY: AddonFacts = {
    addon: "kube-proxy",
    namespace: "kube-system",
    createsNamespace: false,
    source: kubeProxySrc,
    crds: [],
    webhooks: [],
    pods: [{ id: "kube-proxy", workload: "DaemonSet/kube-proxy", labels: { "k8s-app": "kube-proxy" }, hostNetwork: true, placement: { defaults: { tolerations: tolerateAll } }, replicas: "perNode", serves: [], calls: [], source: kubeProxySrc }],
};

const podIdentitySrc: Source = { repo: "aws/eks-pod-identity-agent", ref: "v0.1.37", file: "charts/eks-pod-identity-agent/templates/daemonset.yaml" };
export const POD_IDENTITY_AGENT: AddonFacts = {
    addon: "eks-pod-identity-agent",
    namespace: "kube-system",
    createsNamespace: false,
    source: podIdentitySrc,
    crds: [],
    webhooks: [],
    pods: [
        {
            id: "agent",
            workload: "DaemonSet/eks-pod-identity-agent",
            labels: { "app.kubernetes.io/name": "eks-pod-identity-agent" },
            // Listens on the node's 169.254.170.23:80 for every pod of the node.
            hostNetwork: true,
            placement: { defaults: { tolerations: tolerateAll } },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: podIdentitySrc,
        },
    ],
};

const corednsSrc: Source = { repo: "eksctl-io/eksctl", ref: "v0.230.0", file: "pkg/addons/default/assets/coredns-1.35.json", note: "CoreDNS as EKS ships it" };
export const COREDNS: AddonFacts = {
    addon: "coredns",
    namespace: "kube-system",
    createsNamespace: false,
    source: corednsSrc,
    crds: [],
    webhooks: [],
    pods: [
        {
            id: "coredns",
            workload: "Deployment/coredns",
            labels: { "k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns" },
            hostNetwork: false,
            placement: {
                tolerations: ["tolerations"],
                nodeSelector: ["nodeSelector"],
                defaults: { tolerations: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }, { key: "CriticalAddonsOnly", operator: "Exists" }] },
            },
            requests: { cpu: "100m", memory: "70Mi" },
            replicas: { values: "replicaCount", default: 2 },
            serves: [
                { peer: { kind: "anyPod" }, port: 53, protocol: "UDP", why: "answers every pod's DNS queries" },
                { peer: { kind: "anyPod" }, port: 53, protocol: "TCP", why: "answers every pod's DNS queries (large answers)" },
                { peer: { kind: "prometheus" }, port: 9153, why: "Prometheus scrapes its metrics" },
            ],
            calls: [
                apiServer,
                { peer: { kind: "vpcResolver" }, port: 53, protocol: "UDP", why: "forwards names outside the cluster to the VPC resolver" },
                { peer: { kind: "vpcResolver" }, port: 53, protocol: "TCP", why: "forwards names outside the cluster to the VPC resolver (large answers)" },
            ],
            source: corednsSrc,
        },
    ],
};

const ebsSrc = (file: string): Source => ({ repo: "kubernetes-sigs/aws-ebs-csi-driver", ref: "helm-chart-aws-ebs-csi-driver-2.64.0", file });
export const EBS_CSI_DRIVER: AddonFacts = {
    addon: "aws-ebs-csi-driver",
    namespace: "kube-system",
    createsNamespace: false,
    source: ebsSrc("charts/aws-ebs-csi-driver"),
    crds: [],
    webhooks: [],
    pods: [
        {
            id: "controller",
            workload: "Deployment/ebs-csi-controller",
            labels: { app: "ebs-csi-controller", "app.kubernetes.io/name": "aws-ebs-csi-driver" },
            hostNetwork: false,
            placement: {
                tolerations: ["controller.tolerations"],
                nodeSelector: ["controller.nodeSelector"],
                defaults: { tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { operator: "Exists", effect: "NoExecute" }] },
                fixed: { nodeSelector: { "kubernetes.io/os": "linux" } },
            },
            // The driver container requests 10m/40Mi; its sidecars request nothing (values.yaml controller.resources).
            requests: { cpu: "10m", memory: "40Mi" },
            replicas: { values: "controller.replicaCount", default: 2 },
            serves: [],
            calls: [
                apiServer,
                ...awsApiPaths("creates, attaches and deletes EBS volumes (EC2)"),
                { peer: { kind: "podIdentityAgent" }, port: 80, why: "takes its IAM role's credentials" },
            ],
            source: ebsSrc("charts/aws-ebs-csi-driver/templates/controller.yaml"),
        },
        {
            id: "node",
            workload: "DaemonSet/ebs-csi-node",
            labels: { app: "ebs-csi-node", "app.kubernetes.io/name": "aws-ebs-csi-driver" },
            hostNetwork: false,
            placement: { defaults: { tolerations: tolerateAll }, fixed: { nodeSelector: { "kubernetes.io/os": "linux" } } },
            replicas: "perNode",
            serves: [],
            // The node plugin reads instance metadata from the Kubernetes API when IMDS is out of its reach (hop limit 1).
            calls: [apiServer],
            source: ebsSrc("charts/aws-ebs-csi-driver/templates/node.yaml"),
        },
    ],
};

const cwSrc = (file: string): Source => ({ repo: "aws-observability/helm-charts", ref: "amazon-cloudwatch-observability-6.4.0", file, note: "the chart the add-on is built from" });
const cwWebhook = (name: string, group: string, resources: string[]) => ({
    name,
    kind: "mutating" as const,
    failurePolicy: "Ignore" as const,
    rules: [{ apiGroups: [group], apiVersions: ["v1"], resources, operations: ["CREATE", "UPDATE"] as ("CREATE" | "UPDATE")[] }],
    servedBy: "operator",
    port: 9443,
    source: cwSrc("charts/amazon-cloudwatch-observability/templates/admission-webhooks/operator-webhook.yaml"),
});
export const CLOUDWATCH_OBSERVABILITY: AddonFacts = {
    addon: "amazon-cloudwatch-observability",
    namespace: "amazon-cloudwatch",
    createsNamespace: true,
    source: cwSrc("charts/amazon-cloudwatch-observability"),
    crds: [
        { group: "cloudwatch.aws.amazon.com", kind: "AmazonCloudWatchAgent", scope: "Namespaced", served: ["v1alpha1"] },
        { group: "cloudwatch.aws.amazon.com", kind: "DcgmExporter", scope: "Namespaced", served: ["v1alpha1"] },
        { group: "cloudwatch.aws.amazon.com", kind: "Instrumentation", scope: "Namespaced", served: ["v1alpha1"] },
        { group: "cloudwatch.aws.amazon.com", kind: "NeuronMonitor", scope: "Namespaced", served: ["v1alpha1"] },
    ],
    // Auto-instrumentation: every pod, namespace and workload goes through the operator (Ignore, 10 s time-out).
    webhooks: [cwWebhook("mpod.kb.io", "", ["pods"]), cwWebhook("mnamespace.kb.io", "", ["namespaces"]), cwWebhook("mworkload.kb.io", "apps", ["deployments", "daemonsets", "statefulsets"])],
    pods: [
        {
            id: "operator",
            workload: "Deployment/amazon-cloudwatch-observability-controller-manager",
            labels: { "app.kubernetes.io/name": "amazon-cloudwatch-observability", "control-plane": "controller-manager" },
            hostNetwork: false,
            // The chart's manager.tolerations ([]) overrides the root tolerations: the operator tolerates no taint unless configured.
            placement: { tolerations: ["manager.tolerations"], defaults: { tolerations: [] }, fixed: { nodeSelector: { "kubernetes.io/os": "linux" } } },
            requests: { cpu: "100m", memory: "64Mi" },
            replicas: 1,
            serves: [{ peer: { kind: "controlPlane" }, port: 9443, why: "the API server calls its admission webhooks" }],
            calls: [apiServer],
            source: cwSrc("charts/amazon-cloudwatch-observability/templates/operator-deployment.yaml"),
        },
        {
            id: "agent",
            workload: "DaemonSet/cloudwatch-agent",
            labels: { "app.kubernetes.io/name": "cloudwatch-agent" },
            hostNetwork: true,
            createdAtRuntime: {},
            placement: { defaults: { tolerations: tolerateAll } },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: cwSrc("charts/amazon-cloudwatch-observability/templates/linux/cloudwatch-agent-daemonset.yaml"),
        },
        {
            id: "fluent-bit",
            workload: "DaemonSet/fluent-bit",
            labels: { "k8s-app": "fluent-bit" },
            hostNetwork: true,
            placement: { defaults: { tolerations: tolerateAll } },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: cwSrc("charts/amazon-cloudwatch-observability/templates/linux/fluent-bit-daemonset.yaml"),
        },
        {
            id: "dcgm-exporter",
            workload: "DaemonSet/dcgm-exporter",
            labels: { "k8s-app": "dcgm-exporter" },
            hostNetwork: false,
            createdAtRuntime: {},
            placement: { defaults: { tolerations: tolerateAll } },
            replicas: "perNode",
            serves: [{ peer: { kind: "nodes" }, port: 9400, why: "the host-network CloudWatch agent scrapes the GPU metrics" }],
            calls: [],
            source: { repo: "aws/amazon-cloudwatch-agent-operator", ref: "v3.6.0", file: "internal/manifests/dcgmexporter/daemonset.go" },
        },
    ],
};

const nmaSrc = (file: string): Source => ({ repo: "aws/eks-node-monitoring-agent", ref: "v1.7.0", file, note: "the chart the add-on is built from (image v1.7.0-eksbuild.1)" });
/** The NVIDIA instance types the chart's dcgm-server affinity lists (`dcgmAgent.affinity`). */
const DCGM_SERVER_INSTANCE_TYPES = [
    "g3.16xlarge", "g3.4xlarge", "g3.8xlarge", "g3s.xlarge", "g4dn.12xlarge", "g4dn.16xlarge", "g4dn.2xlarge", "g4dn.4xlarge", "g4dn.8xlarge", "g4dn.metal", "g4dn.xlarge",
    "g5.12xlarge", "g5.16xlarge", "g5.24xlarge", "g5.2xlarge", "g5.48xlarge", "g5.4xlarge", "g5.8xlarge", "g5.xlarge", "g5g.16xlarge", "g5g.2xlarge", "g5g.4xlarge",
    "g5g.8xlarge", "g5g.metal", "g5g.xlarge", "g6.12xlarge", "g6.16xlarge", "g6.24xlarge", "g6.2xlarge", "g6.48xlarge", "g6.4xlarge", "g6.8xlarge", "g6.xlarge",
    "g6e.12xlarge", "g6e.16xlarge", "g6e.24xlarge", "g6e.2xlarge", "g6e.48xlarge", "g6e.4xlarge", "g6e.8xlarge", "g6e.xlarge", "g6f.2xlarge", "g6f.4xlarge", "g6f.large",
    "g6f.xlarge", "g7.12xlarge", "g7.24xlarge", "g7.2xlarge", "g7.48xlarge", "g7.4xlarge", "g7.8xlarge", "g7e.12xlarge", "g7e.24xlarge", "g7e.2xlarge", "g7e.48xlarge",
    "g7e.4xlarge", "g7e.8xlarge", "gr6.4xlarge", "gr6.8xlarge", "gr6f.4xlarge", "p2.16xlarge", "p2.8xlarge", "p2.xlarge", "p3.16xlarge", "p3.2xlarge", "p3.8xlarge",
    "p3dn.24xlarge", "p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5.4xlarge", "p5e.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge", "p6-b300.48xlarge",
    "p6e-gb200.36xlarge", "p6e-gb300.36xlarge",
];
/**
 * The EKS node monitoring agent: a host-network agent on every node that turns kernel, network,
 * storage and GPU faults into node conditions node auto-repair acts on, and on NVIDIA nodes a DCGM
 * host engine (`dcgm-server`, pod network, hostPort 5555) the agent reads GPU health from: XID and
 * double-bit ECC errors reach the agent only through it (monitors/nvidia/dcgm/dcgm_policies.go,
 * handleXidFinding, handleDbeFinding). The host engine tolerates no taint unless configured.
 */
export const NODE_MONITORING_AGENT: AddonFacts = {
    addon: "eks-node-monitoring-agent",
    namespace: "kube-system",
    createsNamespace: false,
    source: nmaSrc("charts/eks-node-monitoring-agent"),
    crds: [{ group: "eks.amazonaws.com", kind: "NodeDiagnostic", scope: "Cluster", served: ["v1alpha1"] }],
    webhooks: [],
    pods: [
        {
            id: "agent",
            workload: "DaemonSet/eks-node-monitoring-agent",
            labels: { "app.kubernetes.io/name": "eks-node-monitoring-agent", "app.kubernetes.io/instance": "eks-node-monitoring-agent" },
            hostNetwork: true,
            placement: { tolerations: ["nodeAgent.tolerations"], defaults: { tolerations: tolerateAll }, fixed: { nodeSelector: { "kubernetes.io/os": "linux" } } },
            requests: { cpu: "10m", memory: "30Mi" },
            replicas: "perNode",
            serves: [],
            calls: [],
            source: nmaSrc("charts/eks-node-monitoring-agent/templates/daemonset.yaml"),
        },
        {
            id: "dcgm-server",
            workload: "DaemonSet/dcgm-server",
            labels: { "k8s-app": "dcgm-server", version: "v1" },
            hostNetwork: false,
            placement: {
                tolerations: ["dcgmAgent.tolerations"],
                nodeSelector: ["dcgmAgent.nodeSelector"],
                defaults: { tolerations: [], requiredNodeAffinity: [[{ key: "node.kubernetes.io/instance-type", operator: "In", values: DCGM_SERVER_INSTANCE_TYPES }, { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }]] },
                fixed: { nodeSelector: { "kubernetes.io/os": "linux" } },
            },
            replicas: "perNode",
            // The host-network agent connects to localhost:5555, the pod's hostPort: traffic from the node.
            serves: [{ peer: { kind: "nodes" }, port: 5555, why: "the host-network agent reads GPU health (XID, double-bit ECC) from the DCGM host engine" }],
            calls: [],
            source: nmaSrc("charts/eks-node-monitoring-agent/templates/dcgm-daemonset.yaml"),
        },
    ],
};

export const ADDON_FACTS: readonly AddonFacts[] = [VPC_CNI, KUBE_PROXY, POD_IDENTITY_AGENT, COREDNS, EBS_CSI_DRIVER, CLOUDWATCH_OBSERVABILITY, NODE_MONITORING_AGENT, GUARDDUTY_AGENT_FACTS];
