import type { ReplacementRule } from "./types";

/**
 * Kubernetes objects: what the Kubernetes provider replaces rather than patches (its forceNew
 * table in diff.go: `.metadata.name` and `.metadata.namespace` for every kind, then per group,
 * version and kind). A kind the table does not list (a custom resource, a PriorityClass, a
 * CronJob, a policy/v1 PodDisruptionBudget, a Deployment's pod template) is patched in place.
 *
 * Delete-before-replace: the provider asks for it whenever the object keeps a fixed metadata.name
 * (set, not auto-named) and the same namespace, since two objects cannot share a name.
 *
 * Read at pulumi/pulumi-kubernetes master@94977969 (2026-07-01, after v4.32.0); the tags of the
 * pinned 4.34.2 were not in the snapshot read. diff.go is identical from v4.32.0 to that commit.
 */
const DIFF = { repo: "pulumi/pulumi-kubernetes", ref: "master@94977969d64112b04e19945818a7d5d5f38f631d", file: "provider/pkg/provider/diff.go" };
const HELM = { repo: "pulumi/pulumi-kubernetes", ref: "master@94977969d64112b04e19945818a7d5d5f38f631d", file: "provider/pkg/provider/helm_release.go" };
const NAMING = { repo: "pulumi/pulumi-kubernetes", ref: "master@94977969d64112b04e19945818a7d5d5f38f631d", file: "provider/pkg/provider/provider.go, provider/pkg/metadata/naming.go" };
const CAVEAT = "@pulumi/kubernetes 4.34.2: its tag was not in the snapshot read; read at master of 2026-07-01, where diff.go equals v4.32.0's";

const METADATA = ["metadata.name", "metadata.namespace"];
const SELECTOR = ["spec.selector"];

/** An object of `type` replaced on `paths` (beyond its name and namespace). */
function kind(type: string, paths: string[] = [], extra: Partial<ReplacementRule> = {}): ReplacementRule {
    return { type, forceNew: [...METADATA, ...paths], deleteBeforeReplace: "fixed-name", source: [DIFF, NAMING], caveat: CAVEAT, ...extra };
}

/** Kinds the forceNew table does not list: only a new name or namespace replaces them. */
const UNLISTED = "not in diff.go's forceNew table: only a new name or namespace replaces it";

export const KUBERNETES_RULES: ReplacementRule[] = [
    kind("kubernetes:core/v1:Namespace"),
    kind("kubernetes:core/v1:ServiceAccount"),
    kind("kubernetes:core/v1:LimitRange"),
    kind(
        "kubernetes:core/v1:PersistentVolume",
        ["awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume"].map((source) => `spec.${source}`),
    ),
    kind("kubernetes:core/v1:PersistentVolumeClaim", ["spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"]),
    kind("kubernetes:core/v1:ResourceQuota", ["spec.scopes"]),
    kind("kubernetes:core/v1:Service", ["spec.clusterIP"]),
    kind("kubernetes:core/v1:Secret", ["type"], {
        conditional: [{ kind: "unlessProviderOption", paths: ["data", "stringData"], option: "enableSecretMutable", why: "a Secret's data is replaced, not patched, unless the provider sets enableSecretMutable (and the Secret is not immutable)" }],
    }),
    kind("kubernetes:core/v1:ConfigMap", [], {
        conditional: [{ kind: "unlessProviderOption", paths: ["data", "binaryData"], option: "enableConfigMapMutable", why: "a ConfigMap's data is replaced, not patched, unless the provider sets enableConfigMapMutable (and the ConfigMap is not immutable)" }],
    }),
    kind("kubernetes:apps/v1:Deployment", SELECTOR, { note: "the pod template is patched in place (a rolling update)" }),
    kind("kubernetes:apps/v1:DaemonSetPatch", SELECTOR, { note: "a server-side apply patch of an object another manager owns: DaemonSet's table entry (.spec.selector); a new name or namespace patches another object" }),
    kind("kubernetes:batch/v1:Job", ["spec.completions", "spec.parallelism", ...SELECTOR, "spec.template"]),
    kind("kubernetes:batch/v1:CronJob", [], { note: UNLISTED }),
    kind("kubernetes:policy/v1:PodDisruptionBudget", [], { note: "only policy/v1beta1 is in the table (.spec): policy/v1 is patched" }),
    kind("kubernetes:rbac.authorization.k8s.io/v1:Role"),
    kind("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", [], { note: UNLISTED }),
    kind("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", [], { note: UNLISTED }),
    kind("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", ["roleRef"]),
    kind("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", ["roleRef"]),
    kind("kubernetes:scheduling.k8s.io/v1:PriorityClass", [], { note: `${UNLISTED}; the API server rejects a new value (immutable), which the provider does not plan as a replacement` }),
    kind("kubernetes:storage.k8s.io/v1:StorageClass", ["parameters", "provisioner"]),
    kind("kubernetes:networking.k8s.io/v1:NetworkPolicy"),
    kind("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"),
    kind("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"),
    // Custom resources: no group of theirs is in the table.
    ...[
        "kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute",
        "kubernetes:aigateway.envoyproxy.io/v1alpha1:AIServiceBackend",
        "kubernetes:gateway.envoyproxy.io/v1alpha1:Backend",
        "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
        "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy",
        "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
        "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy",
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
        "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
        "kubernetes:keda.sh/v1alpha1:ScaledJob",
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
        "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
        "kubernetes:kueue.x-k8s.io/v1beta1:Cohort",
        "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue",
        "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue",
        "kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor",
        "kubernetes:kueue.x-k8s.io/v1beta1:Topology",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor",
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy",
    ].map((type) => kind(type, [], { note: "a custom resource: its group is not in diff.go's forceNew table" })),
    {
        // A release is upgraded in place; only a new release name or namespace replaces it.
        type: "kubernetes:helm.sh/v3:Release",
        forceNew: ["name", "namespace"],
        keptWhenUnset: ["name"],
        deleteBeforeReplace: "never",
        source: [HELM],
        caveat: CAVEAT,
        note: "a chart, version or values change is an in-place helm upgrade; an unset name keeps the release's old name",
    },
];
