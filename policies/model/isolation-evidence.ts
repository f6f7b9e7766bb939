import type { ResourceLike } from "./capacity-evidence";
import { cidrProblem } from "./cidr";
import { LABELS, SHARD_LABEL } from "./conventions";
import { IsolationEvidence, NamespaceInfo, NamespaceKind, NetworkPolicyInfo, NetworkPolicyRule, proveIsolation } from "./reachability";
import { K8S_TYPES, TYPES } from "./types";

const KINDS: NamespaceKind[] = ["tenant", "internal", "serving", "platform", "system", "other"];

/** Namespaces every EKS cluster has, whether or not the plan creates them. */
const BUILTIN_NAMESPACES = ["kube-system", "default"];

export function namespacesFromResources(resources: readonly ResourceLike[]): NamespaceInfo[] {
    const out = new Map<string, NamespaceInfo>();
    for (const name of BUILTIN_NAMESPACES) out.set(name, { name, labels: { [LABELS.namespaceName]: name }, kind: name === "kube-system" ? "system" : "other" });
    for (const r of resources.filter((x) => x.type === K8S_TYPES.namespace)) {
        const name = String(r.props.metadata?.name ?? r.name);
        // The API server sets kubernetes.io/metadata.name itself; nobody can change it.
        const labels: Record<string, string> = { ...(r.props.metadata?.labels ?? {}), [LABELS.namespaceName]: name };
        const declared = labels[LABELS.namespaceKind] as NamespaceKind;
        const kind: NamespaceKind = labels[LABELS.tenant] ? "tenant" : KINDS.includes(declared) ? declared : "other";
        out.set(name, { name, labels, kind, ...(labels[LABELS.tenant] ? { tenant: labels[LABELS.tenant] } : {}) });
    }
    return [...out.values()];
}

function rules(list: unknown, peerKey: "from" | "to"): NetworkPolicyRule[] {
    return [list ?? []].flat().filter((r): r is Record<string, any> => typeof r === "object" && r !== null).map((r) => ({ peers: r[peerKey], ports: r.ports }));
}

/**
 * The policy types the API server stores: an empty or absent `policyTypes` becomes Ingress, plus
 * Egress when the spec has egress rules (kubernetes/kubernetes pkg/apis/networking/v1/defaults.go,
 * SetDefaults_NetworkPolicy).
 */
export function effectivePolicyTypes(spec: { policyTypes?: unknown; egress?: unknown }): ("Ingress" | "Egress")[] {
    const declared = spec.policyTypes;
    const list = Array.isArray(declared) && declared.length > 0 ? declared : ["Ingress", ...(Array.isArray(spec.egress) && spec.egress.length > 0 ? ["Egress"] : [])];
    return list.filter((t): t is "Ingress" | "Egress" => t === "Ingress" || t === "Egress");
}

export function networkPoliciesFromResources(resources: readonly ResourceLike[]): NetworkPolicyInfo[] {
    return resources
        .filter((r) => r.type === K8S_TYPES.networkPolicy)
        .map((r) => {
            const spec = r.props.spec ?? {};
            const egress = rules(spec.egress, "to");
            const types = effectivePolicyTypes(spec);
            return {
                name: String(r.props.metadata?.name ?? r.name),
                namespace: String(r.props.metadata?.namespace ?? "default"),
                podSelector: spec.podSelector ?? {},
                ingress: rules(spec.ingress, "from"),
                egress,
                types,
            };
        });
}

/** The proof over a plan's resources: pod CIDRs are the VPCs' CIDRs (pods take VPC addresses). */
export function isolationFromResources(resources: readonly ResourceLike[]): IsolationEvidence {
    const podCidrs = resources.filter((r) => r.type === TYPES.vpc && typeof r.props.cidrBlock === "string").map((r) => r.props.cidrBlock as string);
    // A shard stack has no VPC of its own: its platform's (read through a StackReference) holds the pods.
    for (const ref of resources.filter((r) => r.type === TYPES.stackReference)) {
        const cidr = ref.props.outputs?.vpcCidr;
        if (typeof cidr === "string" && !cidrProblem(cidr)) podCidrs.push(cidr);
    }
    const namespaces = namespacesFromResources(resources);
    // A shard sees only its own tenants: the others stand behind one foreign namespace.
    const shards = [...new Set(namespaces.map((n) => n.labels[SHARD_LABEL]).filter((s): s is string => !!s))];
    if (shards.length > 0) {
        namespaces.push({ name: "(other shards' tenants)", labels: { [LABELS.namespaceKind]: "tenant" }, kind: "tenant", foreign: true });
    }
    // With no VPC known at all, any address may be a pod's.
    return proveIsolation({ namespaces, policies: networkPoliciesFromResources(resources), podCidrs: podCidrs.length > 0 ? podCidrs : ["0.0.0.0/0"] });
}
