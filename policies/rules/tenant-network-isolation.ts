import { resourcesOfType, stackPolicy } from "../engine/policy";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { IMMUTABLE_NAMESPACE_LABEL, selectorKeys, isolationFromResources } from "../model/analyses/reachability";
import { stackNamespaces, stackNetworkPolicies } from "../model/evidence/per-stack";
import { LABELS, POD_IDENTITY_AGENT_ADDRESS, SHARD_LABEL } from "../model/domain/conventions";
import { sample } from "../samples/sample";
import { isolatedTenant, netpol, platformNs, tenantNs, vpcSample } from "../samples/tenants";

/** A tenant of a shard stack (its namespace carries the shard label), with the Tenant component's policies. */
const shardTenant = (tenant: string) => [tenantNs(tenant, { [SHARD_LABEL]: "a" }), ...isolatedTenant(tenant).slice(1)];

const ROUTE_PODS = { matchLabels: { "app.kubernetes.io/name": "prom-label-proxy", "app.kubernetes.io/instance": "tenant-metrics" } };

/** The observability namespace with the tenant metrics API's route from `tenant`, as the Tenant component opens it (or wider, for the disallowed samples). */
function observabilityWithRoute(tenant: string, ports = [8100], ingressPods: Record<string, unknown> = ROUTE_PODS, egressPods: Record<string, unknown> = ROUTE_PODS) {
    const tcp = ports.map((port) => ({ protocol: "TCP", port }));
    const byName = (ns: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } });
    return [
        platformNs("observability", "platform"),
        netpol("observability", "admit-only-observability", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [byName("observability")] }] }),
        netpol("observability", `from-${tenant}`, { podSelector: ingressPods, policyTypes: ["Ingress"], ingress: [{ from: [byName(`tenant-${tenant}`)], ports: tcp }] }),
        netpol(`tenant-${tenant}`, "to-metrics", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ...byName("observability"), podSelector: egressPods }], ports: tcp }] }),
    ];
}

export const tenantNetworkIsolation = stackPolicy({
    name: "tenant-network-isolation",
    description:
        "The reachability proof: no path between two tenants, from a tenant to an internal, serving or platform namespace (but a declared route, narrow on both sides) or the instance metadata address, or into a tenant from any other namespace but the declared peers; each tenant's own policies admit only itself and the declared peers and reach only itself, cluster DNS, the internet and the declared routes; namespaces are selected only by their immutable name label.",
    rationale:
        "Tenants are outside customers on shared GPUs. The proof computes, from every NetworkPolicy and namespace label the " +
        "region deploys, which namespaces can reach which with Kubernetes semantics and the CNI's configured mode (in strict " +
        "mode a pod no policy selects is isolated), for the worst-case pod. Paths are checked in both directions, into every " +
        "tenant from every namespace the cluster has, and each tenant's side is judged on its own as well: a tenant's isolation " +
        "must not rest on another namespace's policies staying as they are. A label a tenant could set must never decide who reaches whom.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Remove or narrow the policy named in the finding: select peers by kubernetes.io/metadata.name, keep ipBlocks off the " +
        "VPC, pod and service CIDRs (use except), and never open a tenant namespace to namespaceSelector {}.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL2-BC-OPS-4", title: "Block network traffic among namespaces" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-4", title: "Information Flow Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateStack: (args, report) => {
        const evidence = isolationFromResources(args.resources, { namespaces: () => stackNamespaces(args.resources), policies: () => stackNetworkPolicies(args.resources) });
        const urnOf = (namespace: string, policy: string) => resourcesOfType(args, K8S_TYPES.networkPolicy).find((r) => r.props.metadata?.namespace === namespace && r.props.metadata?.name === policy)?.urn;
        for (const side of evidence.sides) report(`tenant side: ${side.message}.`, side.policy === "-" ? undefined : urnOf(side.namespace, side.policy.split("/")[1]));
        for (const path of evidence.paths) {
            const opened = [...path.egress.map((p) => `egress ${p}`), ...path.ingress.map((p) => `ingress ${p}`)].join("; ");
            const first = path.egress.find((p) => p.includes("/"));
            report(`${path.kind}: ${path.from} can reach ${path.to}, opened by ${opened}.`, first ? urnOf(path.from, first.split("/")[1]) : undefined);
        }
        for (const r of resourcesOfType(args, K8S_TYPES.networkPolicy)) {
            const selectors = [...[r.props.spec?.ingress ?? []].flat().flatMap((rule: any) => [rule?.from ?? []].flat()), ...[r.props.spec?.egress ?? []].flat().flatMap((rule: any) => [rule?.to ?? []].flat())]
                .map((peer: any) => peer?.namespaceSelector)
                .filter((s: unknown) => s !== undefined);
            const mutable = [...new Set(selectors.flatMap((s: any) => selectorKeys(s)).filter((k: string) => k !== IMMUTABLE_NAMESPACE_LABEL))];
            if (mutable.length > 0) report(`NetworkPolicy ${r.props.metadata?.namespace}/${r.props.metadata?.name} selects namespaces by ${mutable.join(", ")}, not only by ${IMMUTABLE_NAMESPACE_LABEL}.`, r.urn);
        }
    },
    samples: {
        allowed: [
            {
                description: "Two tenants and an internal namespace, each tenant with the Tenant component's policies.",
                resources: [vpcSample, ...isolatedTenant("acme"), ...isolatedTenant("globex"), platformNs("internal", "internal"), netpol("internal", "deny", { podSelector: {}, policyTypes: ["Ingress"] })],
            },
            {
                description: "The declared route: acme reaches the tenant metrics API's pods on kube-rbac-proxy's port, and observability admits acme there only.",
                resources: [vpcSample, ...isolatedTenant("acme"), ...observabilityWithRoute("acme")],
            },
        ],
        disallowed: [
            {
                description: "globex opens its ingress to every namespace (namespaceSelector {}).",
                expect: "tenant-to-tenant: tenant-acme can reach tenant-globex, opened by egress tenant-acme/to-globex; ingress tenant-globex/open-to-all",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    ...isolatedTenant("globex"),
                    netpol("tenant-globex", "open-to-all", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
                    netpol("tenant-acme", "to-globex", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } }] }] }),
                ],
            },
            {
                description: "A podSelector reaching across namespaces (with namespaceSelector {}) opens globex to pods labelled app=train anywhere.",
                expect: "tenant-to-tenant: tenant-acme can reach tenant-globex, opened by egress tenant-acme/to-trainers; ingress tenant-globex/from-trainers",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    ...isolatedTenant("globex"),
                    netpol("tenant-globex", "from-trainers", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "train" } } }] }] }),
                    netpol("tenant-acme", "to-trainers", { podSelector: { matchLabels: { app: "train" } }, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "train" } } }] }] }),
                ],
            },
            {
                description: "An ipBlock that covers the VPC reaches every pod.",
                expect: "tenant-acme can reach tenant-globex, opened by egress tenant-acme/wide-egress; ingress tenant-globex/wide-ingress",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    ...isolatedTenant("globex"),
                    netpol("tenant-acme", "wide-egress", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] }),
                    netpol("tenant-globex", "wide-ingress", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ ipBlock: { cidr: "10.40.0.0/16" } }] }] }),
                ],
            },
            {
                description: "A tenant with no egress isolation reaches the instance metadata address.",
                expect: "tenant-to-metadata: tenant-acme can reach 169.254.169.254, opened by egress a pod in tenant-acme that a policy selects without isolating its egress",
                resources: [vpcSample, netpol("tenant-acme", "deny-in", { podSelector: {}, policyTypes: ["Ingress"] }), ...isolatedTenant("acme").filter((r) => r.type !== K8S_TYPES.networkPolicy)],
            },
            {
                description: "An empty policyTypes is not a policy that isolates nothing: the API server stores it as Ingress, so its rule admits every namespace.",
                expect: "tenant-to-tenant: tenant-acme can reach tenant-globex, opened by egress tenant-acme/to-globex; ingress tenant-globex/types-left-empty",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    ...isolatedTenant("globex"),
                    netpol("tenant-globex", "types-left-empty", { podSelector: {}, policyTypes: [], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
                    netpol("tenant-acme", "to-globex", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } }] }] }),
                ],
            },
            {
                description: "acme's egress names globex's namespace: no path today (globex's ingress refuses it), but acme's side alone must not open it.",
                expect: "tenant side: tenant-acme/to-globex egress[0] reaches namespace tenant-globex: a tenant's egress may reach only itself, cluster DNS and the internet",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    ...isolatedTenant("globex"),
                    netpol("tenant-acme", "to-globex", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } }] }] }),
                ],
            },
            {
                description: "globex admits every namespace: no other tenant's egress reaches it today, but its own side must not admit them.",
                expect: "tenant side: tenant-globex/open-to-all ingress[0] admits namespaces selected by {}, beyond itself and the declared peers (observability on TCP/metrics)",
                resources: [vpcSample, ...isolatedTenant("acme"), ...isolatedTenant("globex"), netpol("tenant-globex", "open-to-all", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] })],
            },
            {
                description: "The monitoring scrape opened on every port instead of the declared metrics port.",
                expect: "tenant side: tenant-acme/scrape-all ingress[0] admits observability on every port, beyond its declared TCP/metrics",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "scrape-all", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } } }] }] })],
            },
            {
                description: "A platform namespace with open egress, and a tenant that admits it: a path in from outside the declared peers.",
                expect: "into-tenant: tools can reach tenant-acme, opened by egress a pod in tools that a policy selects without isolating its egress; ingress tenant-acme/from-tools",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    platformNs("tools", "platform"),
                    netpol("tools", "ingress-only", { podSelector: {}, policyTypes: ["Ingress"] }),
                    netpol("tenant-acme", "from-tools", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tools" } } }] }] }),
                ],
            },
            {
                description: "The route opened on prom-label-proxy's own port too, which kube-rbac-proxy does not guard.",
                expect: "tenant side: tenant-acme/to-metrics egress[0] reaches the declared route into observability on TCP/8080, beyond its TCP/8100",
                resources: [vpcSample, ...isolatedTenant("acme"), ...observabilityWithRoute("acme", [8100, 8080])],
            },
            {
                description: "The route's ingress policy selects every pod of observability (Prometheus included): a path beyond the declared route.",
                expect: "tenant-to-internal: tenant-acme can reach observability, opened by egress tenant-acme/to-metrics; ingress observability/from-acme",
                resources: [vpcSample, ...isolatedTenant("acme"), ...observabilityWithRoute("acme", [8100], {})],
            },
            {
                description: "acme's egress into observability selects every pod there, not the route's.",
                expect: "tenant side: tenant-acme/to-metrics egress[0] reaches namespace observability: a tenant's egress may reach only itself, cluster DNS and the internet (and the declared routes",
                resources: [vpcSample, ...isolatedTenant("acme"), ...observabilityWithRoute("acme", [8100], undefined, {})],
            },
            {
                description: "A tenant's egress to an internal namespace that admits every namespace: a path from a customer into the company's own work.",
                expect: "tenant-to-internal: tenant-acme can reach internal, opened by egress tenant-acme/to-internal; ingress internal/open",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    platformNs("internal", "internal"),
                    netpol("internal", "open", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
                    netpol("tenant-acme", "to-internal", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "internal" } } }] }] }),
                ],
            },
            {
                description: "A shard's tenant reaching every tenant namespace by its kind label: the other shards' tenants too.",
                expect: "tenant-to-other-shard: tenant-acme can reach (other shards' tenants), opened by egress tenant-acme/to-tenants; ingress unknown (another stack)",
                resources: [vpcSample, ...shardTenant("acme"), netpol("tenant-acme", "to-tenants", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { [LABELS.namespaceKind]: "tenant" } } }] }] })],
            },
            {
                description: "A shard's tenant admitting every tenant namespace by its kind label: the other shards' tenants too.",
                expect: "other-shard-to-tenant: (other shards' tenants) can reach tenant-acme, opened by egress unknown (another stack); ingress tenant-acme/from-tenants",
                resources: [vpcSample, ...shardTenant("acme"), netpol("tenant-acme", "from-tenants", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { [LABELS.namespaceKind]: "tenant" } } }] }] })],
            },
            {
                description: "A cluster whose CNI enforces no NetworkPolicy: every policy is decoration.",
                expect: "tenant side: tenant-acme is not isolated: the CNI enforces no NetworkPolicy",
                resources: [vpcSample, ...isolatedTenant("acme"), sample(TYPES.eksAddon, "vpc-cni", { addonName: "vpc-cni", configurationValues: JSON.stringify({ enableNetworkPolicy: "false" }) })],
            },
            {
                description: "A tenant whose only isolating policy is for ingress: its egress is open.",
                expect: "tenant side: tenant-acme has no policy that isolates every pod's egress (a podSelector {} policy of type Egress)",
                resources: [vpcSample, netpol("tenant-acme", "deny-in", { podSelector: {}, policyTypes: ["Ingress"] }), ...isolatedTenant("acme").filter((r) => r.type !== K8S_TYPES.networkPolicy)],
            },
            {
                description: "An ingress rule with no sources admits everything.",
                expect: "tenant side: tenant-acme/open-ingress ingress[0] admits every source, beyond itself and the declared peers (observability on TCP/metrics)",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "open-ingress", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] })],
            },
            {
                description: "An ingress ipBlock: addresses, not namespaces, and the VPC's are every pod's.",
                expect: "tenant side: tenant-acme/from-vpc ingress[0] admits addresses 10.40.0.0/16, beyond itself and the declared peers",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "from-vpc", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ ipBlock: { cidr: "10.40.0.0/16" } }] }] })],
            },
            {
                description: "Ingress from a namespace that is not a declared peer, before any path exists.",
                expect: "tenant side: tenant-acme/from-tools ingress[0] admits namespace tools, which is neither itself nor a declared peer",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "from-tools", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tools" } } }] }] })],
            },
            {
                description: "An egress rule with no destinations reaches everything.",
                expect: "tenant side: tenant-acme/open-egress egress[0] reaches every destination, pods and private ranges included",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "open-egress", { podSelector: {}, policyTypes: ["Egress"], egress: [{}] })],
            },
            {
                description: "The Pod Identity agent opened on more than its declared port.",
                expect: `tenant side: tenant-acme/agent-any-port egress[0] reaches ${POD_IDENTITY_AGENT_ADDRESS} on TCP/443, beyond its declared TCP/80`,
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "agent-any-port", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_ADDRESS } }], ports: [{ protocol: "TCP", port: 443 }] }] })],
            },
            {
                description: "An egress ipBlock over private ranges, before any other namespace admits it.",
                expect: "through ipBlock 10.0.0.0/8: a tenant's egress may reach only the internet",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "to-private", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] })],
            },
            {
                description: "CoreDNS reached on more than DNS.",
                expect: "tenant side: tenant-acme/dns-all-ports egress[0] reaches CoreDNS on TCP/9153, beyond port 53",
                resources: [
                    vpcSample,
                    ...isolatedTenant("acme"),
                    netpol("tenant-acme", "dns-all-ports", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "TCP", port: 9153 }] }] }),
                ],
            },
            {
                description: "A policy that selects namespaces by a label other than the immutable name.",
                expect: "selects namespaces by team, not only by kubernetes.io/metadata.name",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "by-team", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "ml" } } }] }] })],
            },
        ],
    },
});
