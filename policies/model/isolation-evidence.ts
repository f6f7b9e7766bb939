import type { ResourceLike } from "./capacity-evidence";
import { cidrProblem, isIpv6Cidr } from "./cidr";
import { planCniMode } from "./cni";
import { LABELS, NEVER_EGRESS_CIDRS, SHARD_LABEL, TENANT_DECLARED_EGRESS, TENANT_INBOUND_PEERS } from "./conventions";
import { IsolationEvidence, NamespaceInfo, NamespaceKind, NetworkPolicyInfo, NetworkPolicyRule, proveIsolation } from "./reachability";
import { TENANT_DECLARED_ROUTES } from "./tenant-observability";
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
export function isolationFromResources(resources: readonly ResourceLike[]): RegionIsolationEvidence {
    // A VPC whose CIDR is absent or unknown (an IPAM pool, a preview) adds none: any address may then be a pod's.
    const podCidrs = resources.filter((r) => r.type === TYPES.vpc && typeof r.props.cidrBlock === "string" && !cidrProblem(r.props.cidrBlock)).map((r) => r.props.cidrBlock as string);
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
    const policies = networkPoliciesFromResources(resources);
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
