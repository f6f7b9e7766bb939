import type { CrdFact, Source } from "./types";

/** What every EKS cluster has before anything is installed in it, and how its parts behave. */

const eksGuide = (file: string, note?: string): Source => ({ repo: "awsdocs/amazon-eks-user-guide", ref: "4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7", file, ...(note ? { note } : {}) });

/** Custom resources EKS serves in every cluster, from controllers in its control plane. */
export const EKS_BUILTIN_CRDS: readonly (CrdFact & { source: Source })[] = [
    {
        group: "vpcresources.k8s.aws",
        kind: "SecurityGroupPolicy",
        scope: "Namespaced",
        served: ["v1beta1"],
        // The guide deploys a SecurityGroupPolicy without installing anything: the VPC resource controller runs in the control plane.
        source: eksGuide("latest/ug/networking/eks-networking-add-ons.adoc", "security groups for Pods, lines 2817-2827"),
    },
    {
        group: "networking.k8s.aws",
        kind: "PolicyEndpoint",
        scope: "Namespaced",
        served: ["v1alpha1"],
        source: { repo: "aws/amazon-network-policy-controller-k8s", ref: "v1.1.7", file: "config/crd/bases/networking.k8s.aws_policyendpoints.yaml", note: "the controller runs in the EKS control plane" },
    },
];

/** API groups the Kubernetes API server itself serves (no CRD needed). */
export const KUBERNETES_BUILTIN_GROUPS: readonly string[] = [
    "core", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
];

/** Namespaces Kubernetes creates itself. */
export const KUBERNETES_BUILTIN_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/**
 * The VPC CNI's NetworkPolicy enforcement, as its network policy agent implements it.
 * - strict: a pod no NetworkPolicy selects is denied in both directions for as long as none selects
 *   it (not only while a new pod's policies are set up); host-network pods are exempt.
 * - once any policy selects a pod, traffic from its node's address (kubelet probes) is allowed, and
 *   a direction no selecting policy isolates is open;
 * - egress is judged before Service translation: a pod reaches a Service's ClusterIP only if a rule
 *   allows it (the `kubernetes` Service for the API server has no selector: allow its ClusterIP).
 */
export const VPC_CNI_POLICY_SEMANTICS: readonly { fact: string; source: Source }[] = [
    {
        fact: "strict mode: a pod starts default-deny both ways, and every pod in the cluster must have a NetworkPolicy; host-network pods are exempt",
        source: { repo: "aws/amazon-vpc-cni-k8s", ref: "v1.23.0", file: "README.md", note: "NETWORK_POLICY_ENFORCING_MODE, lines 738-746" },
    },
    { fact: "a pod no policy selects stays DEFAULT_DENY in strict mode (its state is seeded so and returns to it when the last policy stops selecting it)", source: { repo: "aws/aws-network-policy-agent", ref: "v1.4.1", file: "pkg/ebpf/bpf_client.go" } },
    { fact: "the local node's address is always allowed for a pod whose policies are programmed (kubelet probes)", source: { repo: "aws/aws-network-policy-agent", ref: "v1.4.1", file: "pkg/fwruleprocessor/fw_rule_processor.go", note: "ComputeMapEntriesFromEndpointRules" } },
    { fact: "NetworkPolicies cannot be applied to host-network pods", source: { repo: "aws/amazon-vpc-cni-k8s", ref: "v1.23.0", file: "docs/network-policy-faq.md" } },
    {
        fact: "egress to a Service is judged by its ClusterIP: the controller adds the ClusterIPs of Services whose selector matches an egress peer's podSelector; a Service without a selector (the API server's) needs its ClusterIP in an ipBlock",
        source: { repo: "aws/amazon-network-policy-controller-k8s", ref: "v1.1.7", file: "pkg/resolvers/endpoints.go", note: "getMatchingServiceClusterIPs" },
    },
    {
        fact: "the FAQ still says GPU instances are not supported (kernel below 5.10); that was the AL2 GPU AMI: the AL2023 NVIDIA AMI the region uses runs kernel 6.x",
        source: { repo: "aws/amazon-vpc-cni-k8s", ref: "v1.23.0", file: "docs/network-policy-faq.md" },
    },
];

/**
 * The control plane calls admission webhooks and aggregated APIs from its cross-account ENIs in the
 * cluster's subnets (recreated, possibly in other of those subnets, on every upgrade): a pod that
 * serves one must admit those subnets on its port.
 */
export const CONTROL_PLANE_SOURCE: { fact: string; source: readonly Source[] } = {
    fact: "admission webhook and aggregated API calls arrive from addresses of the cluster's subnets",
    source: [eksGuide("latest/ug/networking/network-reqs.adoc", "lines 66-68"), { url: "https://github.com/aws/aws-network-policy-agent/issues/281" }],
};

/** How long creating a resource may take: the bound the provider waits for it, and the documented typical figure where there is one. */
export interface CreateTime {
    /** The provider gives up after this long (its default create time-out). */
    boundSeconds: number;
    boundSource: Source;
    typicalSeconds?: number;
    typicalSource?: Source;
}

const tfAws = (file: string, note?: string): Source => ({ repo: "hashicorp/terraform-provider-aws", ref: "v6 (the release @pulumi/aws 7.48.0 bridges; defaults unchanged across stored versions)", file, ...(note ? { note } : {}) });

/** What the guides' "several minutes" is modelled as. */
export const SEVERAL_MINUTES = 5 * 60;

/**
 * What a Helm install that waits takes once its nodes run: pulling images and passing readiness
 * probes. A modelling figure, not a documented one (no chart documents its start-up time).
 */
export const HELM_WAIT_TYPICAL_SECONDS = 2 * 60;

/** Create times of the AWS resource types that wait for the cloud, keyed by Pulumi type token. */
export const AWS_CREATE_TIMES: Readonly<Record<string, CreateTime>> = {
    "aws:eks/cluster:Cluster": {
        boundSeconds: 30 * 60,
        boundSource: tfAws("internal/service/eks/cluster.go", "Timeouts.Create 30m"),
        typicalSeconds: 15 * 60,
        typicalSource: eksGuide("latest/ug/automode/automode-get-started-cli.adoc", "line 306: cluster creation typically takes about 15 minutes"),
    },
    "aws:eks/nodeGroup:NodeGroup": {
        boundSeconds: 60 * 60,
        boundSource: tfAws("internal/service/eks/node_group.go", "Timeouts.Create 60m"),
        typicalSeconds: SEVERAL_MINUTES,
        typicalSource: eksGuide("latest/ug/getting-started/getting-started-console.adoc", "line 339: 'After several minutes, the Status ... will change from Creating to Active' (several minutes modelled as 5)"),
    },
    "aws:eks/addon:Addon": {
        boundSeconds: 20 * 60,
        boundSource: tfAws("internal/service/eks/addon.go", "Timeouts.Create 20m; waits while CREATING or DEGRADED"),
        typicalSeconds: SEVERAL_MINUTES,
        typicalSource: eksGuide("latest/ug/workloads/eks-add-ons.adoc", "line 1599: 'Installation of the add-on can take several minutes' (modelled as 5)"),
    },
    "aws:rds/instance:Instance": { boundSeconds: 40 * 60, boundSource: tfAws("internal/service/rds/instance.go", "Timeouts.Create 40m") },
    "aws:ec2/natGateway:NatGateway": { boundSeconds: 10 * 60, boundSource: tfAws("internal/service/ec2/vpc_nat_gateway.go", "Timeouts.Create 10m") },
    "aws:ec2/vpcEndpoint:VpcEndpoint": { boundSeconds: 10 * 60, boundSource: tfAws("internal/service/ec2/vpc_endpoint.go", "Timeouts.Create 10m") },
    "aws:fsx/lustreFileSystem:LustreFileSystem": { boundSeconds: 30 * 60, boundSource: tfAws("internal/service/fsx/lustre_file_system.go", "Timeouts.Create 30m") },
};

const pulumiK8s = (file: string, note: string): Source => ({ repo: "pulumi/pulumi-kubernetes", ref: "v4.32.0 (the await code is unchanged through the pinned 4.34.2)", file, note });

/**
 * How pulumi-kubernetes waits on create: the kinds it awaits (ready or complete) and its default
 * time-out, which customTimeouts replaces; a Helm release waits (helm --wait) for its own `timeout`
 * in seconds, 300 by default, and ignores customTimeouts.
 */
export const KUBERNETES_AWAIT = {
    defaultSeconds: 10 * 60,
    defaultSource: pulumiK8s("provider/pkg/await/await.go", "customTimeouts, else pulumi.com/timeoutSeconds, else 10 minutes"),
    awaitedKinds: ["apps/v1:Deployment", "apps/v1:StatefulSet", "apps/v1:DaemonSet", "batch/v1:Job", "core/v1:Service", "core/v1:PersistentVolumeClaim", "core/v1:Pod"] as readonly string[],
    awaitedKindsSource: pulumiK8s("provider/pkg/await/awaiters.go", "kinds with a create awaiter; others return once applied"),
    helmReleaseDefaultTimeoutSeconds: 300,
    helmReleaseSource: pulumiK8s("provider/pkg/provider/helm_release.go", "timeout defaults to 300 s; customTimeouts is not passed to helm"),
} as const;
