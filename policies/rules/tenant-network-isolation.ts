import type { PolicyResource } from "@pulumi/policy";
import { stackPolicy } from "../engine/policy";
import { isolationFromResources } from "../model/isolation-evidence";
import { K8S_TYPES } from "../model/types";
import { IMMUTABLE_NAMESPACE_LABEL, selectorKeys } from "../model/reachability";
import { isolatedTenant, netpol, platformNs, vpcSample } from "../samples/tenants";

export const tenantNetworkIsolation = stackPolicy({
    name: "tenant-network-isolation",
    description:
        "The reachability proof: no path between two tenants, from a tenant to an internal, serving or platform namespace, or from a tenant to the instance metadata address; the region's policies select namespaces only by their immutable name label.",
    rationale:
        "Tenants are outside customers on shared GPUs. The proof computes, from every NetworkPolicy and namespace label the " +
        "region deploys, which namespaces can reach which with Kubernetes semantics, for the worst-case pod a tenant can " +
        "create. A label a tenant could set must never decide who reaches whom.",
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
        const evidence = isolationFromResources(args.resources);
        const urnOf = (namespace: string, policy: string) => args.resources.find((r) => r.type === K8S_TYPES.networkPolicy && r.props.metadata?.namespace === namespace && r.props.metadata?.name === policy)?.urn;
        for (const path of evidence.paths) {
            const opened = [...path.egress.map((p) => `egress ${p}`), ...path.ingress.map((p) => `ingress ${p}`)].join("; ");
            const first = path.egress.find((p) => p.includes("/"));
            report(`${path.kind}: ${path.from} can reach ${path.to}, opened by ${opened}.`, first ? urnOf(path.from, first.split("/")[1]) : undefined);
        }
        for (const r of args.resources.filter((x: PolicyResource) => x.type === K8S_TYPES.networkPolicy)) {
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
                expect: "tenant-to-metadata: tenant-acme can reach 169.254.169.254, opened by egress no policy in tenant-acme isolates every pod's egress",
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
                description: "A policy that selects namespaces by a label other than the immutable name.",
                expect: "selects namespaces by team, not only by kubernetes.io/metadata.name",
                resources: [vpcSample, ...isolatedTenant("acme"), netpol("tenant-acme", "by-team", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "ml" } } }] }] })],
            },
        ],
    },
});
