import { resourcesOfType, stackPolicy } from "../engine/policy";
import { stackNamespaces, stackNetworkPolicies } from "../model/evidence/per-stack";
import { K8S_TYPES } from "../model/domain/types";
import { isolatedTenant, netpol, tenantNs } from "../samples/tenants";

export const tenantNamespaceDefaultDeny = stackPolicy({
    name: "tenant-namespace-default-deny",
    description: "Every tenant namespace has a NetworkPolicy that selects all pods and denies all ingress and egress.",
    rationale:
        "NetworkPolicies only allow; a pod no policy selects is open in both directions. A default-deny over every pod makes " +
        "the namespace closed unless another policy opens a specific path.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Keep the Tenant component's default-deny-all policy (podSelector {}, policyTypes [Ingress, Egress], no rules) in every tenant namespace.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL2-BC-OPS-4", title: "Block network traffic among namespaces (default deny)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7(5)", title: "Boundary Protection: Deny by Default, Allow by Exception" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "4.3.2", title: "Ensure that all Namespaces have Network Policies defined" },
    ],
    validateStack: (args, report) => {
        // By namespace: a region's thousands of tenants each look only at their own policies.
        const policies = new Map<string, ReturnType<typeof stackNetworkPolicies>[number][]>();
        for (const p of stackNetworkPolicies(args.resources)) {
            const list = policies.get(p.namespace);
            if (list) list.push(p);
            else policies.set(p.namespace, [p]);
        }
        const namespaces = resourcesOfType(args, K8S_TYPES.namespace);
        for (const ns of stackNamespaces(args.resources).filter((n) => n.kind === "tenant")) {
            const denies = (policies.get(ns.name) ?? []).filter(
                (p) =>
                    Object.keys(p.podSelector.matchLabels ?? {}).length === 0 &&
                    (p.podSelector.matchExpressions ?? []).length === 0 &&
                    p.types.includes("Ingress") &&
                    p.types.includes("Egress") &&
                    p.ingress.length === 0 &&
                    p.egress.length === 0,
            );
            if (denies.length === 0) report(`tenant namespace ${ns.name} has no default-deny policy for both ingress and egress.`, namespaces.find((n) => n.props.metadata?.name === ns.name)?.urn);
        }
    },
    samples: {
        allowed: [{ description: "A tenant namespace with the Tenant component's policies.", resources: isolatedTenant("acme") }],
        disallowed: [
            { description: "A tenant namespace with no policies.", expect: "tenant namespace tenant-acme has no default-deny policy", resources: [tenantNs("acme")] },
            {
                description: "A deny that covers ingress only.",
                expect: "tenant namespace tenant-acme has no default-deny policy for both ingress and egress",
                resources: [tenantNs("acme"), netpol("tenant-acme", "deny-in", { podSelector: {}, policyTypes: ["Ingress"] })],
            },
            {
                description: "A deny that selects only some pods.",
                expect: "has no default-deny policy",
                resources: [tenantNs("acme"), netpol("tenant-acme", "deny-app", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress", "Egress"] })],
            },
        ],
    },
});
