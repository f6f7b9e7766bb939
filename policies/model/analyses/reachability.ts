import { cidrContains, cidrProblem, ipBlockReaches, isIpv6Cidr } from "../domain/cidr";
import { type CniMode, planCniMode } from "../evidence/cni";
import { LABELS, METADATA_ADDRESS, SHARD_LABEL, TENANT_INBOUND_PEERS, NEVER_EGRESS_CIDRS, TENANT_DECLARED_EGRESS } from "../domain/conventions";
import type { LabelSelector } from "../upstream/types";
import { selectorMatches } from "../domain/label-selectors";
import { type NetworkPolicyPeer, type NetworkPolicyRule, type NetworkPolicyInfo, type NamespaceInfo, namespacesFromResources, networkPoliciesFromResources } from "../evidence/isolation-evidence";
import { TENANT_DECLARED_ROUTES } from "../domain/tenant-observability";
import { TYPES } from "../domain/types";
import type { ResourceLike } from "../evidence/capacity-evidence";

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

export interface IsolationPath {
    from: string;
    to: string;
    kind: "tenant-to-tenant" | "tenant-to-internal" | "tenant-to-metadata" | "tenant-to-other-shard" | "other-shard-to-tenant" | "into-tenant";
    /** Policies in the sender's namespace whose egress opens the path (or why egress is open). */
    egress: string[];
    /** Policies in the receiver's namespace whose ingress opens the path (or why ingress is open). */
    ingress: string[];
}

/** A path into (or out of) a tenant the region declares on purpose (Prometheus scraping its metrics port; the Pod Identity agent). */
export interface DeclaredPath {
    from: string;
    to: string;
    ports: string;
    why: string;
}

/** A rule of a tenant namespace's own policies that opens more than that side may. */
export interface SideFinding {
    namespace: string;
    /** `namespace/policy`. */
    policy: string;
    /** `ingress[0]`, `egress[2]`, or `-` when the finding is about a missing policy. */
    rule: string;
    message: string;
}

export interface IsolationEvidence {
    /** The CNI policy mode the proof assumed. */
    cni: CniMode;
    /** Paths into tenants the region declares, from its allow-list. */
    declared: DeclaredPath[];
    /** Paths from tenants to platform pods the region declares (the tenant metrics API), each tenant's own, both sides that narrow. */
    declaredRoutes: DeclaredPath[];
    /** Paths out of tenants into never-reached ranges the region declares (the Pod Identity agent), by tenant. */
    declaredOut: DeclaredPath[];
    /** Each tenant side judged on its own: rules that open more than the tenant's own policies may. */
    sides: SideFinding[];
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

function summarise(ns: string, policies: NetworkPolicyInfo[], type: "Ingress" | "Egress", podCidrs: readonly string[], reaches: (target: string, block: { cidr: string; except?: string[] }) => boolean, cni: CniMode): DirectionSummary {
    const summary: DirectionSummary = { open: false, all: [], byName: new Map(), bySelector: [], self: [], metadata: [] };
    const relevant = policies.filter((p) => p.types.includes(type));
    // The worst-case pod: unisolated in this direction unless every pod is (an empty selector).
    // Strict mode denies a pod no policy selects, so there a pod is open only when a policy selects
    // it without isolating this direction; off, nothing is enforced.
    const isolatesEvery = relevant.some((p) => isEmptySelector(p.podSelector));
    summary.open = cni === "off" || (!isolatesEvery && (cni === "standard" || policies.some((p) => !p.types.includes(type))));
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

/** A namespace allowed into every tenant, on these ports only (numbers or container port names). */
export interface InboundAllowance {
    namespace: string;
    ports: readonly { protocol: "TCP" | "UDP"; port: number | string }[];
    why: string;
}

export interface ReachabilityInput {
    namespaces: NamespaceInfo[];
    policies: NetworkPolicyInfo[];
    /** CIDRs pods take addresses from (the VPC CIDR under the VPC CNI). */
    podCidrs: string[];
    /** The cluster's CNI policy mode (default strict, the region's). */
    cni?: CniMode;
    /** Who may reach into a tenant, declared (the monitoring scrape); every other path in is a finding. */
    inboundAllowed?: readonly InboundAllowance[];
    /** Ranges a tenant's own egress must never reach, besides the pods': the service CIDR, private and link-local ranges. */
    neverEgress?: readonly string[];
    /** Addresses inside those ranges a tenant's egress may reach, declared, on these ports only (the Pod Identity agent). */
    egressAllowed?: readonly EgressAllowance[];
    /** Platform pods a tenant's pods may reach, declared (the tenant metrics API); every other path into a platform namespace is a finding. */
    routesAllowed?: readonly RouteAllowance[];
}

/**
 * Platform pods a tenant's pods may reach, declared, on these ports only (the tenant metrics API).
 * A path from a tenant into the namespace is declared only when every rule that opens it, on both
 * sides, is this narrow: the tenant's egress names the namespace and a pod selector that requires the
 * route's labels, the namespace's ingress admits the tenant only into policies selecting those pods,
 * and both stay on the route's ports.
 */
export interface RouteAllowance {
    namespace: string;
    pods: Readonly<Record<string, string>>;
    ports: readonly { protocol: "TCP" | "UDP"; port: number }[];
    why: string;
}

/** An address a tenant's own egress may reach although it is in a never-reached range, on these ports only. */
export interface EgressAllowance {
    cidr: string;
    ports: readonly { protocol: "TCP" | "UDP"; port: number }[];
    why: string;
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
        if (!s) map.set(ns, (s = summarise(ns, byNamespace.get(ns) ?? [], type, input.podCidrs, reaches, cni)));
        return s;
    };
    const cni: CniMode = input.cni ?? "strict";
    const openMessage = (ns: string, direction: string) => [
        cni === "off" ? "the CNI enforces no NetworkPolicy" : cni === "standard" ? `no policy in ${ns} isolates every pod's ${direction}` : `a pod in ${ns} that a policy selects without isolating its ${direction}`,
    ];

    const tenants = input.namespaces.filter((n) => n.kind === "tenant" && !n.foreign);
    const foreign = input.namespaces.filter((n) => n.foreign);
    const localNames = new Set(input.namespaces.filter((n) => !n.foreign).map((n) => n.name));
    const protectedTargets = input.namespaces.filter((n) => n.kind === "internal" || n.kind === "serving" || n.kind === "platform");
    const targets = [...tenants, ...protectedTargets];
    const byName = new Map(targets.map((t) => [t.name, t]));
    const paths: IsolationPath[] = [];
    const declaredRoutes: DeclaredPath[] = [];
    const indexes = new Map<string, IngressIndex>();
    const indexOf = (ns: string) => {
        let index = indexes.get(ns);
        if (!index) indexes.set(ns, (index = ingressIndex(byNamespace.get(ns) ?? [])));
        return index;
    };
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
            const route = out.open || inSummary.open ? undefined : (input.routesAllowed ?? []).find((r) => r.namespace === to.name && onlyRoute(from, to, r, byNamespace, input.podCidrs, reaches, indexOf(to.name)));
            if (route) {
                declaredRoutes.push({ from: from.name, to: `${to.name} (${Object.entries(route.pods).map(([k, v]) => `${k}=${v}`).join(",")})`, ports: route.ports.map(portText).join(", "), why: route.why });
                continue;
            }
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

    // Into every tenant from every other namespace the cluster has, tenant or not: a tenant's
    // isolation must not rest on the other side's egress alone. Declared peers are listed, not paths.
    const allowed = new Map((input.inboundAllowed ?? []).map((a) => [a.namespace, a]));
    const declared: DeclaredPath[] = [];
    const sources = input.namespaces.filter((n) => !n.foreign && n.kind !== "tenant");
    for (const to of tenants) {
        const inSummary = summaryOf(ingress, to.name, "Ingress");
        for (const from of sources) {
            const ingressBy = inSummary.open ? openMessage(to.name, "ingress") : reaching(inSummary, to, from);
            if (!ingressBy) continue;
            const out = summaryOf(egress, from.name, "Egress");
            const egressBy = out.open ? openMessage(from.name, "egress") : reaching(out, from, to);
            if (!egressBy) continue;
            const allowance = allowed.get(from.name);
            if (allowance) {
                declared.push({ from: from.name, to: to.name, ports: allowance.ports.map((p) => `${p.protocol}/${p.port}`).join(", "), why: allowance.why });
                continue;
            }
            paths.push({ from: from.name, to: to.name, kind: "into-tenant", egress: egressBy, ingress: ingressBy });
        }
    }
    const sides = tenants.flatMap((t) => tenantSideFindings(t, byNamespace.get(t.name) ?? [], input, cni));
    const declaredOut: DeclaredPath[] = [];
    for (const t of tenants) {
        for (const allowance of input.egressAllowed ?? []) {
            if (declaredEgressRules(byNamespace.get(t.name) ?? [], allowance).length > 0) declaredOut.push({ from: t.name, to: allowance.cidr.replace(/\/32$/, ""), ports: allowance.ports.map(portText).join(", "), why: allowance.why });
        }
    }
    return {
        cni,
        declared,
        declaredRoutes,
        declaredOut,
        sides,
        tenantsAnalysed: tenants.length,
        namespacesAnalysed: input.namespaces.length,
        policiesAnalysed: input.policies.length,
        // Every tenant against every other tenant, every protected namespace and the metadata address,
        // and every non-tenant namespace against every tenant.
        pairsChecked: tenants.length * (targets.length - 1 + 1 + 2 * foreign.length) + tenants.length * sources.length,
        pathsFound: paths.length,
        paths,
    };
}

/** Whether a pod selector can select only pods that carry every label of the route (it requires them all). */
function selectsOnlyRoute(selector: LabelSelector | undefined, route: RouteAllowance): boolean {
    if (!selector || typeof selector !== "object") return false;
    return Object.entries(route.pods).every(([k, v]) => selector.matchLabels?.[k] === v);
}

/** Whether a policy peer reaches namespace `other` (from a policy of namespace `own`), at namespace granularity. */
function peerReaches(peer: NetworkPolicyPeer, own: NamespaceInfo, other: NamespaceInfo, podCidrs: readonly string[], reaches: (target: string, block: { cidr: string; except?: string[] }) => boolean): boolean {
    if (typeof peer !== "object" || peer === null) return false;
    if (peer.ipBlock) return podCidrs.some((pods) => reaches(pods, peer.ipBlock!));
    if (peer.namespaceSelector) {
        if (isEmptySelector(peer.namespaceSelector)) return true;
        const names = NAME_ONLY(peer.namespaceSelector);
        return names ? names.includes(other.name) : selectorMatches(peer.namespaceSelector, other.labels);
    }
    return own.name === other.name;
}

/**
 * Whether every rule that opens a path from tenant `from` into `to` keeps to the route: the tenant's
 * egress rules that reach `to` name its pods by the route's labels, the ingress rules of `to` that
 * admit `from` belong to policies selecting only the route's pods, and all stay on its ports.
 */
/** A namespace's ingress rules by the namespace names their peers name, and those whose peers select otherwise (to judge per source). */
interface IngressIndex {
    byName: Map<string, { policy: NetworkPolicyInfo; rule: NetworkPolicyRule }[]>;
    other: { policy: NetworkPolicyInfo; rule: NetworkPolicyRule }[];
}

function ingressIndex(policies: readonly NetworkPolicyInfo[]): IngressIndex {
    const index: IngressIndex = { byName: new Map(), other: [] };
    for (const policy of policies.filter((x) => x.types.includes("Ingress"))) {
        for (const rule of policy.ingress) {
            const peers = Array.isArray(rule.peers) ? rule.peers : [];
            const named = peers.map((peer) => (peer && typeof peer === "object" && peer.namespaceSelector && !peer.ipBlock ? NAME_ONLY(peer.namespaceSelector) : undefined));
            if (peers.length > 0 && named.every((n) => n !== undefined)) {
                for (const name of new Set(named.flat() as string[])) {
                    const list = index.byName.get(name) ?? [];
                    list.push({ policy, rule });
                    index.byName.set(name, list);
                }
            } else index.other.push({ policy, rule });
        }
    }
    return index;
}

function onlyRoute(from: NamespaceInfo, to: NamespaceInfo, route: RouteAllowance, byNamespace: Map<string, NetworkPolicyInfo[]>, podCidrs: readonly string[], reaches: (target: string, block: { cidr: string; except?: string[] }) => boolean, index: IngressIndex): boolean {
    const within = (rule: NetworkPolicyRule) => portsBeyond(rule, route.ports).length === 0;
    for (const p of (byNamespace.get(from.name) ?? []).filter((x) => x.types.includes("Egress"))) {
        for (const rule of p.egress) {
            const peers = Array.isArray(rule.peers) ? rule.peers : [];
            if (peers.length === 0) return false;
            for (const peer of peers) if (peerReaches(peer, from, to, podCidrs, reaches) && !(peer.namespaceSelector && selectsOnlyRoute(peer.podSelector, route) && within(rule))) return false;
        }
    }
    // Only the rules that name this tenant, and those that select by other means, can admit it.
    for (const { policy, rule } of [...(index.byName.get(from.name) ?? []), ...index.other]) {
        const peers = Array.isArray(rule.peers) ? rule.peers : [];
        const admits = peers.length === 0 || peers.some((peer) => peerReaches(peer, to, from, podCidrs, reaches));
        if (admits && !(selectsOnlyRoute(policy.podSelector, route) && within(rule))) return false;
    }
    return true;
}

/** Keys a selector reads: the region's own policies may only select namespaces by their immutable name label. */
export function selectorKeys(selector: LabelSelector | undefined): string[] {
    if (!selector) return [];
    return [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)];
}

export const IMMUTABLE_NAMESPACE_LABEL = LABELS.namespaceName;


/** The DNS peer a tenant may reach: CoreDNS in kube-system, by the immutable name label. */
function isClusterDns(peer: NetworkPolicyPeer): boolean {
    const names = peer.namespaceSelector ? NAME_ONLY(peer.namespaceSelector) : undefined;
    return !!names && names.length === 1 && names[0] === "kube-system" && !!peer.podSelector && peer.podSelector.matchLabels?.["k8s-app"] === "kube-dns" && Object.keys(peer.podSelector.matchLabels).length === 1 && (peer.podSelector.matchExpressions ?? []).length === 0;
}

const portText = (p: { protocol?: string; port?: number | string; endPort?: number }) => `${p.protocol ?? "TCP"}/${p.port ?? "any"}${p.endPort !== undefined ? `-${p.endPort}` : ""}`;

/** Ports a rule opens that are outside `allowed` (a rule with no ports opens every port). */
function portsBeyond(rule: NetworkPolicyRule, allowed: readonly { protocol?: string; port: number | string }[]): string[] {
    const ports = Array.isArray(rule.ports) ? rule.ports.filter((p) => typeof p === "object" && p !== null) : [];
    if (ports.length === 0) return ["every port"];
    return ports.filter((p) => p.endPort !== undefined || !allowed.some((a) => (a.protocol ?? "TCP") === (p.protocol ?? "TCP") && a.port === p.port)).map(portText);
}

/**
 * A tenant namespace's own side, whatever the other namespaces do: its ingress admits only itself and
 * the declared peers on their ports; its egress reaches only itself, cluster DNS on port 53 and
 * addresses outside every pod, service, private and link-local range. Each finding names the policy and the rule.
 */
/** The egress rules of a namespace's policies whose ipBlocks lie inside a declared allowance. */
function declaredEgressRules(policies: readonly NetworkPolicyInfo[], allowance: EgressAllowance): NetworkPolicyRule[] {
    return policies.filter((p) => p.types.includes("Egress")).flatMap((p) => p.egress.filter((rule) => Array.isArray(rule.peers) && rule.peers.some((peer) => withinAllowance(peer?.ipBlock, allowance))));
}

/** `ipBlockReaches`, each question decided once: every tenant's internet rule is the same block against the same ranges. */
const reachesCache = new Map<string, boolean>();
function blockReaches(target: string, cidr: string, excepts: readonly unknown[]): boolean {
    if (typeof target !== "string" || typeof cidr !== "string" || !excepts.every((e) => typeof e === "string")) return ipBlockReaches(target, cidr, excepts as string[]);
    const key = JSON.stringify([target, cidr, excepts]);
    let hit = reachesCache.get(key);
    if (hit === undefined) {
        if (reachesCache.size >= 10_000) reachesCache.clear();
        reachesCache.set(key, (hit = ipBlockReaches(target, cidr, excepts as string[])));
    }
    return hit;
}

/** Whether an ipBlock lies inside an allowance; the same blocks repeat in every tenant, so each pair is decided once. */
const withinCache = new Map<string, boolean>();
function withinAllowance(block: { cidr: string; except?: string[] } | undefined, allowance: EgressAllowance): boolean {
    if (!block || typeof block.cidr !== "string") return false;
    const key = `${allowance.cidr}|${block.cidr}`;
    let hit = withinCache.get(key);
    if (hit === undefined) withinCache.set(key, (hit = !cidrProblem(block.cidr) && cidrContains(allowance.cidr, block.cidr)));
    return hit;
}

export function tenantSideFindings(tenant: NamespaceInfo, policies: readonly NetworkPolicyInfo[], input: Pick<ReachabilityInput, "podCidrs" | "inboundAllowed" | "neverEgress" | "egressAllowed" | "routesAllowed">, cni: CniMode = "strict"): SideFinding[] {
    const findings: SideFinding[] = [];
    const ns = tenant.name;
    const add = (policy: string, rule: string, message: string) => findings.push({ namespace: ns, policy: policy === "-" ? "-" : `${ns}/${policy}`, rule, message: `${policy === "-" ? ns : `${ns}/${policy}`} ${rule === "-" ? "" : `${rule} `}${message}` });
    const allowed = new Map((input.inboundAllowed ?? []).map((a) => [a.namespace, a]));
    // Spelled out only for a finding: a region's thousand tenants mostly have none.
    let declared: string | undefined;
    const declaredText = () => (declared ??= [...allowed.values()].map((a) => `${a.namespace} on ${a.ports.map(portText).join(", ")}`).join("; ") || "none");
    if (cni === "off") add("-", "-", "is not isolated: the CNI enforces no NetworkPolicy");
    for (const direction of ["Ingress", "Egress"] as const) {
        if (!policies.some((p) => p.types.includes(direction) && isEmptySelector(p.podSelector))) {
            add("-", "-", `has no policy that isolates every pod's ${direction.toLowerCase()} (a podSelector {} policy of type ${direction})`);
        }
    }
    const never = [...input.podCidrs, ...(input.neverEgress ?? [])];
    for (const p of policies) {
        if (p.types.includes("Ingress")) {
            p.ingress.forEach((rule, i) => {
                const at = `ingress[${i}]`;
                const peers = Array.isArray(rule.peers) ? rule.peers : [];
                if (peers.length === 0) {
                    add(p.name, at, `admits every source, beyond itself and the declared peers (${declaredText()})`);
                    return;
                }
                for (const peer of peers) {
                    if (typeof peer !== "object" || peer === null) continue;
                    if (peer.ipBlock) {
                        add(p.name, at, `admits addresses ${peer.ipBlock.cidr}, beyond itself and the declared peers (${declaredText()})`);
                        continue;
                    }
                    if (!peer.namespaceSelector) continue; // its own pods
                    const names = NAME_ONLY(peer.namespaceSelector);
                    if (!names) {
                        add(p.name, at, `admits namespaces selected by ${JSON.stringify(peer.namespaceSelector)}, beyond itself and the declared peers (${declaredText()})`);
                        continue;
                    }
                    for (const name of names) {
                        if (name === ns) continue;
                        const allowance = allowed.get(name);
                        if (!allowance) add(p.name, at, `admits namespace ${name}, which is neither itself nor a declared peer (${declaredText()})`);
                        else {
                            const beyond = portsBeyond(rule, allowance.ports);
                            if (beyond.length > 0) add(p.name, at, `admits ${name} on ${beyond.join(", ")}, beyond its declared ${allowance.ports.map(portText).join(", ")}`);
                        }
                    }
                }
            });
        }
        if (p.types.includes("Egress")) {
            p.egress.forEach((rule, i) => {
                const at = `egress[${i}]`;
                const peers = Array.isArray(rule.peers) ? rule.peers : [];
                if (peers.length === 0) {
                    add(p.name, at, "reaches every destination, pods and private ranges included");
                    return;
                }
                for (const peer of peers) {
                    if (typeof peer !== "object" || peer === null) continue;
                    const allowance = (input.egressAllowed ?? []).find((a) => withinAllowance(peer.ipBlock, a));
                    if (allowance) {
                        const beyond = portsBeyond(rule, allowance.ports);
                        if (beyond.length > 0) add(p.name, at, `reaches ${peer.ipBlock!.cidr} on ${beyond.join(", ")}, beyond its declared ${allowance.ports.map(portText).join(", ")}`);
                        continue;
                    }
                    if (peer.ipBlock) {
                        const except = Array.isArray(peer.ipBlock.except) ? peer.ipBlock.except : [];
                        const hit = never.filter((range) => blockReaches(range, peer.ipBlock!.cidr, except));
                        if (hit.length > 0) add(p.name, at, `reaches ${hit.join(", ")} through ipBlock ${peer.ipBlock.cidr}: a tenant's egress may reach only the internet`);
                        continue;
                    }
                    if (!peer.namespaceSelector) continue; // its own pods
                    if (isClusterDns(peer)) {
                        const beyond = portsBeyond(rule, [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }]);
                        if (beyond.length > 0) add(p.name, at, `reaches CoreDNS on ${beyond.join(", ")}, beyond port 53`);
                        continue;
                    }
                    const names = NAME_ONLY(peer.namespaceSelector);
                    const others = names ? names.filter((n) => n !== ns) : [JSON.stringify(peer.namespaceSelector)];
                    for (const other of others) {
                        const route = names ? (input.routesAllowed ?? []).find((r) => r.namespace === other) : undefined;
                        if (route && selectsOnlyRoute(peer.podSelector, route)) {
                            const beyond = portsBeyond(rule, route.ports);
                            if (beyond.length > 0) add(p.name, at, `reaches the declared route into ${other} on ${beyond.join(", ")}, beyond its ${route.ports.map(portText).join(", ")}`);
                            continue;
                        }
                        const routes = (input.routesAllowed ?? []).map((r) => `${r.namespace} pods ${Object.entries(r.pods).map(([k, v]) => `${k}=${v}`).join(",")} on ${r.ports.map(portText).join(", ")}`);
                        add(p.name, at, `reaches ${names ? `namespace ${other}` : `namespaces selected by ${other}`}: a tenant's egress may reach only itself, cluster DNS and the internet${routes.length > 0 ? ` (and the declared routes: ${routes.join("; ")})` : ""}`);
                    }
                }
            });
        }
    }
    return findings;
}

/** The proof, and what it does not cover: tenant egress to IPv6 ranges. */
export interface RegionIsolationEvidence extends IsolationEvidence {
    /**
     * Tenant egress rules with an IPv6 ipBlock, as `namespace/policy: cidr`. Pods here take IPv4
     * addresses, so such a block reaches no pod and no metadata address, and the proof rightly finds no
     * path through it; but `::/0` still opens the IPv6 internet wherever the VPC routes IPv6.
     */
    ipv6Egress: string[];
}

/** Tenant egress peers whose ipBlock is IPv6. */
function ipv6EgressOf(policies: readonly NetworkPolicyInfo[], tenantNamespaces: ReadonlySet<string>): string[] {
    return policies
        .filter((p) => tenantNamespaces.has(p.namespace) && p.types.includes("Egress"))
        .flatMap((p) => p.egress.flatMap((rule) => [rule.peers ?? []].flat().filter((peer) => isIpv6Cidr(peer?.ipBlock?.cidr)).map((peer) => `${p.namespace}/${p.name}: ${peer.ipBlock!.cidr}`)));
}

/** The proof over a plan's resources: pod CIDRs are the VPCs' CIDRs (pods take VPC addresses). */
/**
 * `shared` supplies the namespaces and NetworkPolicies of these resources when they were worked out
 * already (a stack policy's, shared by the policies of one analysis): each is asked for where it
 * would otherwise be worked out here, so what is read when stays the same.
 */
export function isolationFromResources(
    resources: readonly ResourceLike[],
    shared: { namespaces?: () => readonly NamespaceInfo[]; policies?: () => readonly NetworkPolicyInfo[] } = {},
): RegionIsolationEvidence {
    // A VPC whose CIDR is absent or unknown (an IPAM pool, a preview) adds none: any address may then be a pod's.
    const podCidrs = resources.filter((r) => r.type === TYPES.vpc && typeof r.props.cidrBlock === "string" && !cidrProblem(r.props.cidrBlock)).map((r) => r.props.cidrBlock as string);
    // A shard stack has no VPC of its own: its platform's (read through a StackReference) holds the pods.
    for (const ref of resources.filter((r) => r.type === TYPES.stackReference)) {
        const cidr = ref.props.outputs?.vpcCidr;
        if (typeof cidr === "string" && !cidrProblem(cidr)) podCidrs.push(cidr);
    }
    const namespaces = shared.namespaces ? [...shared.namespaces()] : namespacesFromResources(resources);
    // A shard sees only its own tenants: the others stand behind one foreign namespace.
    const shards = [...new Set(namespaces.map((n) => n.labels[SHARD_LABEL]).filter((s): s is string => !!s))];
    if (shards.length > 0) {
        namespaces.push({ name: "(other shards' tenants)", labels: { [LABELS.namespaceKind]: "tenant" }, kind: "tenant", foreign: true });
    }
    // With no VPC known at all, any address may be a pod's.
    const policies = shared.policies ? [...shared.policies()] : networkPoliciesFromResources(resources);
    // The service CIDR: an ipBlock over it reaches every Service's ClusterIP (egress is judged before DNAT).
    const serviceCidrs = [
        ...resources.filter((r) => r.type === TYPES.eksCluster).map((r) => r.props.kubernetesNetworkConfig?.serviceIpv4Cidr),
        ...resources.filter((r) => r.type === TYPES.stackReference).map((r) => r.props.outputs?.serviceCidr),
    ].filter((c): c is string => typeof c === "string" && !cidrProblem(c));
    const proof = proveIsolation({
        namespaces,
        policies,
        podCidrs: podCidrs.length > 0 ? podCidrs : ["0.0.0.0/0"],
        cni: planCniMode(resources),
        inboundAllowed: TENANT_INBOUND_PEERS,
        neverEgress: [...NEVER_EGRESS_CIDRS, ...serviceCidrs],
        egressAllowed: TENANT_DECLARED_EGRESS,
        routesAllowed: TENANT_DECLARED_ROUTES,
    });
    return { ...proof, ipv6Egress: ipv6EgressOf(policies, new Set(namespaces.filter((n) => n.kind === "tenant").map((n) => n.name))) };
}
