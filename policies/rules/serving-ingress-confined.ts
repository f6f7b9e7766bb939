import { resourcesOfType, stackPolicy } from "../engine/policy";
import { LABELS, NAMESPACES } from "../model/domain/conventions";
import { stackNetworkPolicies } from "../model/evidence/per-stack";
import { selectorKeys } from "../model/analyses/reachability";
import { sample } from "../samples/sample";
import { netpol } from "../samples/tenants";
import { K8S_TYPES } from "../model/domain/types";

const ALLOWED = [NAMESPACES.gateway, NAMESPACES.monitoring];
const servingNs = sample(K8S_TYPES.namespace, "serving", { metadata: { name: "serving", labels: { "compute-region.io/namespace-kind": "serving" } } });
const deny = netpol("serving", "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
const admit = (names: string[]) => netpol("serving", "admit", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: names.map((n) => ({ namespaceSelector: { matchLabels: { [LABELS.namespaceName]: n } } })), ports: [{ protocol: "TCP", port: 8000 }] }] });

export const servingIngressConfined = stackPolicy({
    name: "serving-ingress-confined",
    description: "The serving namespace denies ingress by default and admits only the gateway and the monitoring namespace: tenants reach models only through the gateway.",
    rationale: "The gateway authenticates each tenant, allows only the models it bought, rate-limits and meters it; a path around it is free, unmetered, unlimited model access.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: `Keep the ServingPlatform component's policies: default deny, and ingress only from namespaces ${ALLOWED.join(" and ")} by ${LABELS.namespaceName}.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-4", title: "Information Flow Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateStack: (args, report) => {
        if (!resourcesOfType(args, K8S_TYPES.namespace).some((r) => r.props.metadata?.name === NAMESPACES.serving)) return;
        const policies = stackNetworkPolicies(args.resources).filter((p) => p.namespace === NAMESPACES.serving && p.types.includes("Ingress"));
        if (!policies.some((p) => Object.keys(p.podSelector.matchLabels ?? {}).length === 0 && (p.podSelector.matchExpressions ?? []).length === 0 && p.ingress.length === 0)) {
            report(`the ${NAMESPACES.serving} namespace has no default-deny ingress policy.`);
        }
        for (const p of policies) {
            for (const rule of p.ingress) {
                for (const peer of rule.peers ?? [{}]) {
                    const keys = selectorKeys(peer.namespaceSelector);
                    const names = peer.namespaceSelector?.matchLabels?.[LABELS.namespaceName];
                    const ok = !peer.ipBlock && peer.namespaceSelector && keys.length === 1 && keys[0] === LABELS.namespaceName && ALLOWED.includes(names as (typeof ALLOWED)[number]);
                    if (!ok) report(`${NAMESPACES.serving}/${p.name} admits ${JSON.stringify(peer)}: only ${ALLOWED.join(" and ")} may reach the model servers.`);
                }
            }
        }
    },
    samples: {
        allowed: [{ description: "Default deny, then the gateway and monitoring.", resources: [servingNs, deny, admit([NAMESPACES.gateway, NAMESPACES.monitoring])] }],
        disallowed: [
            { description: "No default deny.", expect: "has no default-deny ingress policy", resources: [servingNs, admit([NAMESPACES.gateway])] },
            { description: "A tenant admitted directly.", expect: 'admits {"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"tenant-acme"}}}', resources: [servingNs, deny, admit(["tenant-acme"])] },
            { description: "Every namespace admitted.", expect: "only gateway and observability may reach the model servers", resources: [servingNs, deny, netpol("serving", "open", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] })] },
        ],
    },
});
