/**
 * The shape of what the region knows about the systems it installs (Helm charts, EKS add-ons, EKS
 * itself): facts read from the upstream sources at the pinned versions, kept as data with where each
 * was read, so the deploy rehearsal, the platform NetworkPolicies and the functional reachability
 * proof all rest on the same, checkable facts.
 */

/** A file of a repository at a tag or commit. */
export interface RepoFile {
    repo: string;
    ref: string;
    file: string;
}

/** Where a fact was read: a repository at a tag or commit and a file, or a documentation page. */
export type Source = (RepoFile & { note?: string }) | { url: string; note?: string };

export interface CrdFact {
    group: string;
    kind: string;
    scope: "Namespaced" | "Cluster";
    /** The versions the API server serves once the CRD is installed. */
    served: readonly string[];
}

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRuleFact {
    apiGroups: readonly string[];
    apiVersions: readonly string[];
    resources: readonly string[];
    operations: readonly AdmissionOperation[];
}

/**
 * A value the chart reads from the release's values: a dotted path (`controllerManager.tolerations`),
 * and after `#` a dotted path inside the YAML document held at that value (`managerConfig.controllerManagerConfigYaml#integrations.frameworks`).
 */
export type ValuesRef = string;

export interface WebhookFact {
    name: string;
    kind: "mutating" | "validating";
    /** Fail: nothing it intercepts can be admitted while it is unreachable; Ignore: admitted after a time-out. */
    failurePolicy: "Fail" | "Ignore";
    rules: readonly AdmissionRuleFact[];
    namespaceSelector?: LabelSelector;
    objectSelector?: LabelSelector;
    /** The pod (`PodFact.id`) that serves it, and the port the API server calls on that pod. */
    servedBy: string;
    port: number;
    source: Source;
}

export interface ApiServiceFact {
    group: string;
    version: string;
    servedBy: string;
    port: number;
    source: Source;
}

export interface TolerationFact {
    key?: string;
    operator?: "Exists" | "Equal";
    value?: string;
    effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface NodeSelectorRequirementFact {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: readonly string[];
}

/** Required node affinity: the pod fits a node that matches any one term (each term: all its requirements). */
export type RequiredNodeAffinityFact = readonly (readonly NodeSelectorRequirementFact[])[];

export interface PlacementFact {
    /** Values the chart reads for the pods' nodeSelector, tolerations and required node affinity, in order of precedence (the first set wins). */
    nodeSelector?: readonly ValuesRef[];
    tolerations?: readonly ValuesRef[];
    affinity?: readonly ValuesRef[];
    /**
     * The chart builds the pods' required node affinity from two lists in its values (the EFA device
     * plugin's `supportedInstanceLabels`): one term `<key> In <values>` per key, `also` added to the
     * last term. It decides the affinity whatever `affinity` says; the defaults are the chart's own lists.
     */
    labelTerms?: { keys: ValuesRef; values: ValuesRef; defaultKeys: readonly string[]; defaultValues: readonly string[]; also: readonly NodeSelectorRequirementFact[] };
    /** What the pods get when none of those values is set. */
    defaults?: { nodeSelector?: Readonly<Record<string, string>>; tolerations?: readonly TolerationFact[]; requiredNodeAffinity?: RequiredNodeAffinityFact };
    /** What the chart always adds, whatever the values. */
    fixed?: { nodeSelector?: Readonly<Record<string, string>>; tolerations?: readonly TolerationFact[] };
}

/** Who is at the other end of a network path a pod serves or calls. */
export type PeerFact =
    /** The EKS control plane calling into the cluster (admission webhooks, aggregated APIs), from its ENIs in the cluster subnets. */
    | { kind: "controlPlane" }
    /** The Kubernetes API, through the `kubernetes` Service's ClusterIP. */
    | { kind: "apiServer" }
    /** Cluster DNS (CoreDNS, the kube-dns Service). */
    | { kind: "clusterDns" }
    /** The VPC's DNS resolver (the base of the VPC CIDR plus two). */
    | { kind: "vpcResolver" }
    /** AWS service APIs over HTTPS: interface endpoints in the private subnets, the rest through NAT. */
    | { kind: "awsApis" }
    /** The EKS Pod Identity agent on the node's link-local address. */
    | { kind: "podIdentityAgent" }
    /** The region's Prometheus, scraping. */
    | { kind: "prometheus" }
    /** Node addresses (kubelets, host-network exporters). */
    | { kind: "nodes" }
    /** FSx for Lustre file servers: their network interfaces in the private subnets. */
    | { kind: "fileSystems" }
    /** Every pod of the cluster (the clients of cluster DNS). */
    | { kind: "anyPod" }
    /** A pod of the same chart or add-on, or of another chart the region installs. */
    | { kind: "pod"; pod: string; chart?: string }
    /** The pods behind a Service named by a URL in the release's values (a Redis the chart's pods use). */
    | { kind: "serviceFromValues"; url: ValuesRef };

export interface PathFact {
    peer: PeerFact;
    port: number;
    protocol?: "TCP" | "UDP";
    /** Why the path must exist. */
    why: string;
}

export interface PodFact {
    /** Short id within its chart or add-on (`controller`). */
    id: string;
    /** The workload that makes the pods (`Deployment/kueue-controller-manager`). */
    workload: string;
    /** A fixed namespace; default: the release's. */
    namespace?: string;
    labels: Readonly<Record<string, string>>;
    /** The workload's pod selector (stable across chart versions): what the region's NetworkPolicies select its pods by; default: `labels`. */
    selector?: Readonly<Record<string, string>>;
    /** Host-network pods are outside NetworkPolicy altogether. */
    hostNetwork: boolean;
    /**
     * Made by the chart's controller at run time rather than by the release (so no release waits for
     * them); `perObject` makes one set for every object of that Kubernetes type in the plan, in its namespace.
     */
    createdAtRuntime?: { perObject?: string; labelsFromObject?: Readonly<Record<string, "{name}" | "{namespace}">> };
    /** A Helm hook (a Job run before the release's other resources). */
    helmHook?: boolean;
    placement: PlacementFact;
    /** Requests of one pod. */
    requests?: { cpu: string; memory: string };
    /** How many run: a count (or the value that sets it), or one on every node it fits. */
    replicas: number | { values: ValuesRef; default: number } | "perNode";
    /** Paths into the pod: who must reach it, on which port. */
    serves: readonly PathFact[];
    /** Paths out of the pod. */
    calls: readonly PathFact[];
    source: Source;
}

export interface ChartFacts {
    chart: string;
    version: string;
    /** Where the chart was read. */
    source: Source;
    crds: readonly CrdFact[];
    crdSource?: Source;
    webhooks: readonly WebhookFact[];
    apiServices: readonly ApiServiceFact[];
    pods: readonly PodFact[];
    /** Extended resources the chart's pods advertise on the nodes they run on (device plugins). */
    advertises?: readonly { resource: string; pod: string; source: Source }[];
}

export interface AddonFacts {
    addon: string;
    /** The namespace its pods run in, and whether the add-on creates it. */
    namespace: string;
    createsNamespace: boolean;
    /** What the add-on is built from, as read. */
    source: Source;
    crds: readonly CrdFact[];
    webhooks: readonly WebhookFact[];
    /** Its pods; their placement values are paths in the add-on's `configurationValues`. */
    pods: readonly PodFact[];
}

/**
 * What `helm template` of a pinned chart shows with the values the program passes it
 * (policies/model/upstream/rendered-charts.ts, generated by `npm run charts:render` from the charts
 * vendored in vendor/charts/). Pod sets are named by their workload (`Deployment/kueue-controller-manager`);
 * `source` is the chart file that made the object, in its upstream repository at the vendored ref.
 */
export interface RenderedWebhook {
    name: string;
    kind: "mutating" | "validating";
    failurePolicy: "Fail" | "Ignore";
    rules: readonly AdmissionRuleFact[];
    namespaceSelector?: LabelSelector;
    objectSelector?: LabelSelector;
    /** The pod set behind its Service, and the container port the Service sends to. */
    servedBy?: string;
    port?: number;
    source: RepoFile;
}

export interface RenderedApiService {
    group: string;
    version: string;
    servedBy?: string;
    port?: number;
    source: RepoFile;
}

export interface RenderedPodSet {
    workload: string;
    namespace?: string;
    labels: Readonly<Record<string, string>>;
    selector: Readonly<Record<string, string>>;
    hostNetwork: boolean;
    helmHook?: boolean;
    placement: PlacementFact;
    requests?: { cpu: string; memory: string };
    replicas: PodFact["replicas"];
    source: RepoFile;
}

export interface RenderedChart {
    chart: string;
    version: string;
    /** How it was rendered: the release, its namespace, the cluster version, and the vendored source. */
    rendered: { release: string; namespace: string; kubeVersion: string; source: RepoFile };
    crds: readonly CrdFact[];
    webhooks: readonly RenderedWebhook[];
    apiServices: readonly RenderedApiService[];
    pods: readonly RenderedPodSet[];
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
