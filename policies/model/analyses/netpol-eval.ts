import { cidrContains, cidrProblem, cidrsOverlap } from "../domain/cidr";
import type { CniMode } from "../evidence/cni";
import { LABELS } from "../domain/conventions";
import { selectorMatches } from "../domain/label-selectors";
import { NetworkPolicyInfo, NetworkPolicyPeer, NetworkPolicyRule } from "../evidence/isolation-evidence";

/**
 * Whether one connection is allowed by the NetworkPolicies of both ends, with Kubernetes semantics
 * as the VPC CNI enforces them: a pod some policy selects is isolated in a direction only by a
 * selecting policy of that type; in strict mode a pod no policy selects is denied everything; host
 * networking is outside NetworkPolicy. This answers "must this path exist?" questions, so an ipBlock
 * counts only when it contains the whole address range of the other end.
 */

/** One end of a connection: pods (a namespace and their labels) or a range of addresses. */
export type Endpoint =
    | {
          kind: "pods";
          name: string;
          namespace: string;
          namespaceLabels: Record<string, string>;
          labels: Record<string, string>;
          hostNetwork: boolean;
          addresses: readonly string[];
          /** Stands for any pod of the namespace as a peer of the other end: its own policies are not judged. */
          standIn?: boolean;
      }
    | { kind: "addresses"; name: string; cidrs: readonly string[] };

export interface Verdict {
    allowed: boolean;
    /** Why not: which side, and what. */
    why?: string;
}

export class PolicyIndex {
    private readonly byNamespace = new Map<string, NetworkPolicyInfo[]>();

    constructor(
        policies: readonly NetworkPolicyInfo[],
        readonly cni: CniMode,
    ) {
        // Appended in place: a namespace with a policy for each of a thousand tenants was copied a thousand times.
        for (const p of policies) {
            const list = this.byNamespace.get(p.namespace);
            if (list) list.push(p);
            else this.byNamespace.set(p.namespace, [p]);
        }
    }

    /** What `selecting` found, by namespace and labels object: CoreDNS is asked about once for every namespace's pods. */
    private readonly selected = new Map<string, WeakMap<object, readonly NetworkPolicyInfo[]>>();

    /** Policies that select pods with these labels in this namespace (read-only: shared by every caller with the same labels object). */
    selecting(namespace: string, labels: Record<string, string>): readonly NetworkPolicyInfo[] {
        let byLabels = this.selected.get(namespace);
        if (!byLabels) this.selected.set(namespace, (byLabels = new WeakMap()));
        let found = byLabels.get(labels);
        if (!found) byLabels.set(labels, (found = (this.byNamespace.get(namespace) ?? []).filter((p) => selectorMatches(p.podSelector, labels))));
        return found;
    }

    /** Whether `from` may open a connection to `to` on a port. */
    allowed(from: Endpoint, to: Endpoint, port: number, protocol: "TCP" | "UDP" = "TCP"): Verdict {
        if (this.cni === "off") return { allowed: true };
        if (from.kind === "pods" && !from.hostNetwork && !from.standIn) {
            const v = this.side(from, "Egress", to, port, protocol);
            if (!v.allowed) return v;
        }
        if (to.kind === "pods" && !to.hostNetwork && !to.standIn) {
            const v = this.side(to, "Ingress", from, port, protocol);
            if (!v.allowed) return v;
        }
        return { allowed: true };
    }

    private side(pod: Extract<Endpoint, { kind: "pods" }>, direction: "Ingress" | "Egress", peer: Endpoint, port: number, protocol: string): Verdict {
        const selecting = this.selecting(pod.namespace, pod.labels);
        if (selecting.length === 0) {
            return this.cni === "strict" ? { allowed: false, why: `no NetworkPolicy in ${pod.namespace} selects ${pod.name} (strict mode denies it everything)` } : { allowed: true };
        }
        const isolating = selecting.filter((p) => p.types.includes(direction));
        if (isolating.length === 0) return { allowed: true };
        const allows = (part: Endpoint) => isolating.some((p) => (direction === "Egress" ? p.egress : p.ingress).some((rule) => ruleAllows(rule, p.namespace, part, port, protocol)));
        // Rules add up: a range of addresses may be covered piecewise, one ipBlock (or rule) per piece.
        const ranges = peer.kind === "addresses" ? peer.cidrs : peer.addresses;
        const piecewise = () => ranges.length > 0 && ranges.every((c) => allows(peer.kind === "addresses" ? { ...peer, cidrs: [c] } : { ...peer, addresses: [c] }));
        if (allows(peer) || piecewise()) return { allowed: true };
        return {
            allowed: false,
            why: `${direction === "Egress" ? "egress" : "ingress"} of ${pod.name} in ${pod.namespace}: ${isolating.map((p) => `${p.namespace}/${p.name}`).join(", ")} ${direction === "Egress" ? "allow no rule to" : "admit no rule from"} ${peer.name} on ${protocol} ${port}`,
        };
    }
}

function portMatches(ports: NetworkPolicyRule["ports"], port: number, protocol: string): boolean {
    // No ports (or, during a preview, ports not known yet): every port.
    if (!Array.isArray(ports) || ports.length === 0) return true;
    return ports.some((p) => {
        if (typeof p !== "object" || p === null) return false;
        if ((p.protocol ?? "TCP") !== protocol) return false;
        if (p.port === undefined) return true;
        // A named port is resolved against the pod's container ports, which a path's facts do not name.
        if (typeof p.port !== "number") return false;
        return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    });
}

function ruleAllows(rule: NetworkPolicyRule, policyNamespace: string, peer: Endpoint, port: number, protocol: string): boolean {
    if (!portMatches(rule.ports, port, protocol)) return false;
    const peers = rule.peers;
    if (!Array.isArray(peers) || peers.length === 0) return true;
    return peers.some((p) => typeof p === "object" && p !== null && peerMatches(p, policyNamespace, peer));
}

/** Whether an ipBlock contains every one of the ranges (and excepts none of them). */
function blockContainsAll(block: NonNullable<NetworkPolicyPeer["ipBlock"]>, cidrs: readonly string[]): boolean {
    if (cidrProblem(block.cidr) || cidrs.length === 0) return false;
    const except = Array.isArray(block.except) ? block.except : [];
    return cidrs.every((c) => !cidrProblem(c) && cidrContains(block.cidr, c) && !except.some((e) => typeof e === "string" && !cidrProblem(e) && cidrsOverlap(e, c)));
}

function peerMatches(p: NetworkPolicyPeer, policyNamespace: string, peer: Endpoint): boolean {
    if (p.ipBlock) return typeof p.ipBlock === "object" && blockContainsAll(p.ipBlock, peer.kind === "addresses" ? peer.cidrs : peer.addresses);
    if (peer.kind !== "pods") return false;
    if (p.namespaceSelector) {
        if (!selectorMatches(p.namespaceSelector, peer.namespaceLabels)) return false;
    } else if (peer.namespace !== policyNamespace) {
        return false;
    }
    return !p.podSelector || selectorMatches(p.podSelector, peer.labels);
}

/** A namespace's labels as the API server keeps them (with its immutable name label). */
export function namespaceLabels(name: string, labels: Record<string, string> = {}): Record<string, string> {
    return { ...labels, [LABELS.namespaceName]: name };
}
