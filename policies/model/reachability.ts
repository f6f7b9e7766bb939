import { ipBlockReaches } from "./cidr";
import { LABELS, METADATA_ADDRESS } from "./conventions";

/**
 * The reachability proof: from the NetworkPolicies and namespace labels a region would deploy,
 * which namespaces can reach which, with Kubernetes semantics, at namespace granularity and for the
 * worst-case pod (tenants choose their pods' labels, so any pod selector a tenant can satisfy is
 * assumed satisfied):
 * - a pod is isolated in a direction once any policy selects it for that direction; only an empty
 *   podSelector selects every pod a tenant might create, so only it isolates a whole namespace;
 * - traffic passes only if the sender's egress and the receiver's ingress both allow it;
 * - `namespaceSelector: {}` is every namespace; a peer with only a podSelector is the policy's own
 *   namespace; a rule with no peers allows everything;
 * - an ipBlock whose cidr minus except covers any of the pod CIDR reaches every pod (pods take VPC
 *   addresses under the VPC CNI, any pod any address);
 * - host-network pods are outside NetworkPolicy altogether (tenants cannot run them: admission denies it).
 */

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NetworkPolicyPeer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyRule {
    /** `from` for ingress, `to` for egress. */
    peers?: NetworkPolicyPeer[];
    ports?: { port?: number | string; protocol?: string }[];
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
}

export interface IsolationPath {
    from: string;
    to: string;
    kind: "tenant-to-tenant" | "tenant-to-internal" | "tenant-to-metadata";
    /** Policies in the sender's namespace whose egress opens the path (or why egress is open). */
    egress: string[];
    /** Policies in the receiver's namespace whose ingress opens the path (or why ingress is open). */
    ingress: string[];
}

export interface IsolationEvidence {
    tenantsAnalysed: number;
    namespacesAnalysed: number;
    policiesAnalysed: number;
    pairsChecked: number;
    pathsFound: number;
    paths: IsolationPath[];
}

function isEmptySelector(s: LabelSelector | undefined): boolean {
    return !!s && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        switch (e.operator) {
            case "In":
                if (!has || !(e.values ?? []).includes(labels[e.key])) return false;
                break;
            case "NotIn":
                if (has && (e.values ?? []).includes(labels[e.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false; // an operator Kubernetes would reject selects nothing
        }
    }
    return true;
}

/** Does a peer list (from/to) admit pods of namespace `other`, seen from a policy in `own`? */
function peersReachNamespace(peers: NetworkPolicyPeer[] | undefined, own: NamespaceInfo, other: NamespaceInfo, podCidrs: readonly string[]): boolean {
    if (!peers || peers.length === 0) return true;
    return peers.some((peer) => {
        if (peer.ipBlock) return podCidrs.some((pods) => ipBlockReaches(pods, peer.ipBlock!.cidr, peer.ipBlock!.except ?? []));
        if (peer.namespaceSelector) return selectorMatches(peer.namespaceSelector, other.labels);
        if (peer.podSelector) return other.name === own.name;
        return true;
    });
}

function peersReachAddress(peers: NetworkPolicyPeer[] | undefined, address: string): boolean {
    if (!peers || peers.length === 0) return true;
    return peers.some((peer) => !!peer.ipBlock && ipBlockReaches(address, peer.ipBlock.cidr, peer.ipBlock.except ?? []));
}

export interface ReachabilityInput {
    namespaces: NamespaceInfo[];
    policies: NetworkPolicyInfo[];
    /** CIDRs pods take addresses from (the VPC CIDR under the VPC CNI). */
    podCidrs: string[];
}

export function proveIsolation(input: ReachabilityInput): IsolationEvidence {
    const byNamespace = new Map<string, NetworkPolicyInfo[]>();
    for (const p of input.policies) {
        const list = byNamespace.get(p.namespace) ?? [];
        list.push(p);
        byNamespace.set(p.namespace, list);
    }
    const policiesIn = (ns: string) => byNamespace.get(ns) ?? [];
    const isolating = (ns: string, type: "Ingress" | "Egress") => policiesIn(ns).filter((p) => p.types.includes(type) && isEmptySelector(p.podSelector));

    const egressTo = (from: NamespaceInfo, check: (rule: NetworkPolicyRule) => boolean): string[] | undefined => {
        if (isolating(from.name, "Egress").length === 0) return [`no policy in ${from.name} isolates every pod's egress`];
        const opening = policiesIn(from.name).filter((p) => p.types.includes("Egress") && p.egress.some(check)).map((p) => `${from.name}/${p.name}`);
        return opening.length > 0 ? opening : undefined;
    };
    const ingressFrom = (to: NamespaceInfo, from: NamespaceInfo): string[] | undefined => {
        if (isolating(to.name, "Ingress").length === 0) return [`no policy in ${to.name} isolates every pod's ingress`];
        const opening = policiesIn(to.name).filter((p) => p.types.includes("Ingress") && p.ingress.some((r) => peersReachNamespace(r.peers, to, from, input.podCidrs))).map((p) => `${to.name}/${p.name}`);
        return opening.length > 0 ? opening : undefined;
    };

    const tenants = input.namespaces.filter((n) => n.kind === "tenant");
    const protectedTargets = input.namespaces.filter((n) => n.kind === "internal" || n.kind === "serving" || n.kind === "platform");
    const paths: IsolationPath[] = [];
    let pairs = 0;
    for (const from of tenants) {
        for (const to of [...tenants.filter((t) => t.name !== from.name), ...protectedTargets]) {
            pairs++;
            const egress = egressTo(from, (r) => peersReachNamespace(r.peers, from, to, input.podCidrs));
            if (!egress) continue;
            const ingress = ingressFrom(to, from);
            if (!ingress) continue;
            paths.push({ from: from.name, to: to.name, kind: to.kind === "tenant" ? "tenant-to-tenant" : "tenant-to-internal", egress, ingress });
        }
        pairs++;
        const toMetadata = egressTo(from, (r) => peersReachAddress(r.peers, METADATA_ADDRESS));
        if (toMetadata) paths.push({ from: from.name, to: METADATA_ADDRESS.replace("/32", ""), kind: "tenant-to-metadata", egress: toMetadata, ingress: [] });
    }
    return {
        tenantsAnalysed: tenants.length,
        namespacesAnalysed: input.namespaces.length,
        policiesAnalysed: input.policies.length,
        pairsChecked: pairs,
        pathsFound: paths.length,
        paths,
    };
}

/** Keys a selector reads: the region's own policies may only select namespaces by their immutable name label. */
export function selectorKeys(selector: LabelSelector | undefined): string[] {
    if (!selector) return [];
    return [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)];
}

export const IMMUTABLE_NAMESPACE_LABEL = LABELS.namespaceName;
