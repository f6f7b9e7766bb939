import type { ResourceLike } from "./capacity-evidence";
import { LABELS } from "../domain/conventions";
import { K8S_TYPES } from "../domain/types";
import type { LabelSelector } from "../upstream/types";

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

export interface NetworkPolicyPeer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyRule {
    /** `from` for ingress, `to` for egress. */
    peers?: NetworkPolicyPeer[];
    ports?: { port?: number | string; endPort?: number; protocol?: string }[];
}

export interface NetworkPolicyInfo {
    name: string;
    namespace: string;
    podSelector: LabelSelector;
    ingress: NetworkPolicyRule[];
    egress: NetworkPolicyRule[];
    /** Effective policy types (Ingress is implied; Egress when there are egress rules). */
    types: ("Ingress" | "Egress")[];
}

export type NamespaceKind = "tenant" | "internal" | "serving" | "platform" | "system" | "other";

export interface NamespaceInfo {
    name: string;
    labels: Record<string, string>;
    kind: NamespaceKind;
    tenant?: string;
    /**
     * Stands for namespaces this stack cannot see (other shards' tenants): their own policies are
     * unknown, so traffic is assumed to pass on their side, and any name selector naming a tenant
     * namespace not in this stack, and any non-name selector, may match them.
     */
    foreign?: boolean;
}
