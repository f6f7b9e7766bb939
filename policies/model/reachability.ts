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

export interface IsolationPath {
    from: string;
    to: string;
    kind: "tenant-to-tenant" | "tenant-to-internal" | "tenant-to-metadata" | "tenant-to-other-shard" | "other-shard-to-tenant";
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

/**
 * What one direction (egress or ingress) of a namespace's worst-case pod allows, summarised once per
 * namespace so the proof is linear in the number of namespaces for the common case (policies that
 * name their peers), not quadratic.
 */
interface DirectionSummary {
    /** No policy with an empty podSelector isolates this direction: everything passes. */
    open: boolean;
    /** Policies with a rule that reaches every namespace's pods (no peers, `namespaceSelector: {}`, an ipBlock over the pod CIDR). */
    all: string[];
    /** Policies reaching namespaces by their immutable name. */
    byName: Map<string, string[]>;
    /** Policies reaching namespaces by other label selectors. */
    bySelector: { selector: LabelSelector; policy: string }[];
    /** Policies reaching the namespace itself (podSelector-only peers). */
    self: string[];
    /** Policies reaching the instance metadata address (egress only). */
    metadata: string[];
}

const NAME_ONLY = (s: LabelSelector): string[] | undefined => {
    const keys = Object.keys(s.matchLabels ?? {});
    const exprs = s.matchExpressions ?? [];
    if (keys.length === 1 && keys[0] === LABELS.namespaceName && exprs.length === 0) return [s.matchLabels![LABELS.namespaceName]];
    if (keys.length === 0 && exprs.length === 1 && exprs[0].key === LABELS.namespaceName && exprs[0].operator === "In") return exprs[0].values ?? [];
    return undefined;
};

function push<K>(map: Map<K, string[]>, key: K, value: string): void {
    const list = map.get(key);
    if (list) {
        if (!list.includes(value)) list.push(value);
    } else map.set(key, [value]);
}

function addOnce(list: string[], value: string): void {
    if (!list.includes(value)) list.push(value);
}

function summarise(ns: string, policies: NetworkPolicyInfo[], type: "Ingress" | "Egress", podCidrs: readonly string[], reaches: (target: string, block: { cidr: string; except?: string[] }) => boolean): DirectionSummary {
    const summary: DirectionSummary = { open: false, all: [], byName: new Map(), bySelector: [], self: [], metadata: [] };
    const relevant = policies.filter((p) => p.types.includes(type));
    summary.open = !relevant.some((p) => isEmptySelector(p.podSelector));
    for (const p of relevant) {
        const label = `${ns}/${p.name}`;
        for (const rule of type === "Egress" ? p.egress : p.ingress) {
            const peers = rule.peers;
            if (!peers || peers.length === 0) {
                addOnce(summary.all, label);
                if (type === "Egress") addOnce(summary.metadata, label);
                continue;
            }
            for (const peer of peers) {
                if (peer.ipBlock) {
                    if (podCidrs.some((pods) => reaches(pods, peer.ipBlock!))) addOnce(summary.all, label);
                    if (type === "Egress" && reaches(METADATA_ADDRESS, peer.ipBlock)) addOnce(summary.metadata, label);
                } else if (peer.namespaceSelector) {
                    if (isEmptySelector(peer.namespaceSelector)) addOnce(summary.all, label);
                    else {
                        const names = NAME_ONLY(peer.namespaceSelector);
                        if (names) for (const n of names) push(summary.byName, n, label);
                        else summary.bySelector.push({ selector: peer.namespaceSelector, policy: label });
                    }
                } else if (peer.podSelector) addOnce(summary.self, label);
                else addOnce(summary.all, label);
            }
        }
    }
    return summary;
}

/** The policies of an isolated direction `summary` (of namespace `own`) that reach namespace `other`, or undefined. */
function reaching(summary: DirectionSummary, own: NamespaceInfo, other: NamespaceInfo, localNames?: Set<string>): string[] | undefined {
    if (other.foreign) {
        const found = [...summary.all, ...[...summary.byName.entries()].filter(([n]) => n.startsWith("tenant-") && !localNames?.has(n)).flatMap(([, p]) => p), ...summary.bySelector.map((s) => s.policy)];
        const unique = [...new Set(found)];
        return unique.length > 0 ? unique : undefined;
    }
    const found = [...summary.all, ...(summary.byName.get(other.name) ?? []), ...(own.name === other.name ? summary.self : [])];
    for (const s of summary.bySelector) if (selectorMatches(s.selector, other.labels)) found.push(s.policy);
    const unique = [...new Set(found)];
    return unique.length > 0 ? unique : undefined;
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
    // ipBlocks repeat across tenants (the same internet rule in every namespace): decide each once.
    const cache = new Map<string, boolean>();
    const reaches = (target: string, block: { cidr: string; except?: string[] }) => {
        const key = `${target}|${block.cidr}|${(block.except ?? []).join(",")}`;
        let hit = cache.get(key);
        if (hit === undefined) cache.set(key, (hit = ipBlockReaches(target, block.cidr, block.except ?? [])));
        return hit;
    };
    const egress = new Map<string, DirectionSummary>();
    const ingress = new Map<string, DirectionSummary>();
    const summaryOf = (map: Map<string, DirectionSummary>, ns: string, type: "Ingress" | "Egress") => {
        let s = map.get(ns);
        if (!s) map.set(ns, (s = summarise(ns, byNamespace.get(ns) ?? [], type, input.podCidrs, reaches)));
        return s;
    };
    const openMessage = (ns: string, direction: string) => [`no policy in ${ns} isolates every pod's ${direction}`];

    const tenants = input.namespaces.filter((n) => n.kind === "tenant" && !n.foreign);
    const foreign = input.namespaces.filter((n) => n.foreign);
    const localNames = new Set(input.namespaces.filter((n) => !n.foreign).map((n) => n.name));
    const protectedTargets = input.namespaces.filter((n) => n.kind === "internal" || n.kind === "serving" || n.kind === "platform");
    const targets = [...tenants, ...protectedTargets];
    const byName = new Map(targets.map((t) => [t.name, t]));
    const paths: IsolationPath[] = [];
    for (const from of tenants) {
        const out = summaryOf(egress, from.name, "Egress");
        // Only namespaces the sender's egress can reach at all need their ingress checked.
        const candidates = out.open || out.all.length > 0 ? targets : [...new Set([...[...out.byName.keys()].map((n) => byName.get(n)).filter((t): t is NamespaceInfo => !!t), ...(out.bySelector.length > 0 ? targets.filter((t) => out.bySelector.some((s) => selectorMatches(s.selector, t.labels))) : [])])];
        for (const to of candidates) {
            if (to.name === from.name) continue;
            const egressBy = out.open ? openMessage(from.name, "egress") : reaching(out, from, to);
            if (!egressBy) continue;
            const inSummary = summaryOf(ingress, to.name, "Ingress");
            const ingressBy = inSummary.open ? openMessage(to.name, "ingress") : reaching(inSummary, to, from);
            if (!ingressBy) continue;
            paths.push({ from: from.name, to: to.name, kind: to.kind === "tenant" ? "tenant-to-tenant" : "tenant-to-internal", egress: egressBy, ingress: ingressBy });
        }
        for (const other of foreign) {
            // Their side is unknown: a rule of ours that could reach them, either way, is the path.
            const egressBy = out.open ? openMessage(from.name, "egress") : reaching(out, from, other, localNames);
            if (egressBy) paths.push({ from: from.name, to: other.name, kind: "tenant-to-other-shard", egress: egressBy, ingress: ["unknown (another stack)"] });
            const inSummary = summaryOf(ingress, from.name, "Ingress");
            const ingressBy = inSummary.open ? openMessage(from.name, "ingress") : reaching(inSummary, from, other, localNames);
            if (ingressBy) paths.push({ from: other.name, to: from.name, kind: "other-shard-to-tenant", egress: ["unknown (another stack)"], ingress: ingressBy });
        }
        const toMetadata = out.open ? openMessage(from.name, "egress") : out.metadata.length > 0 ? out.metadata : undefined;
        if (toMetadata) paths.push({ from: from.name, to: METADATA_ADDRESS.replace("/32", ""), kind: "tenant-to-metadata", egress: toMetadata, ingress: [] });
    }
    return {
        tenantsAnalysed: tenants.length,
        namespacesAnalysed: input.namespaces.length,
        policiesAnalysed: input.policies.length,
        // Every tenant against every other tenant, every protected namespace and the metadata address.
        pairsChecked: tenants.length * (targets.length - 1 + 1 + 2 * foreign.length),
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
