import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { deployment, dnsOnlyPolicy, namespace, ON_SYSTEM, SYSTEM_NODES } from "../samples/deploy";

const base = [SYSTEM_NODES, namespace("tools")];

export const deployPodsNetworkReady = stackPolicy({
    name: "deploy-pods-network-ready",
    description: "Under the VPC CNI's strict NetworkPolicy mode, every pod a release, add-on or workload starts is selected by a NetworkPolicy that exists before the pod.",
    rationale:
        "In strict mode a pod that no NetworkPolicy selects is denied all traffic for as long as it runs, kubelet probes included " +
        "(aws/amazon-vpc-cni-k8s v1.23.0 README; the agent seeds every new pod DEFAULT_DENY). CoreDNS would never become ready, " +
        "add-ons would end DEGRADED and every Helm wait would time out. Each chart's and add-on's pods are read from its source.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Install charts with pinnedRelease (components/helm.ts), which creates the NetworkPolicies their facts call for before the " +
        "release; give a workload of the plan a policy that selects its pods and add it to the workload's dependsOn.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["network"], report),
    samples: {
        allowed: [
            {
                description: "A controller whose policy exists before it starts.",
                resources: [...base, dnsOnlyPolicy("controller-policy", "tools", { app: "controller" }, { after: ["ns-tools"] }), deployment("controller", "tools", ON_SYSTEM, { after: ["system", "ns-tools", "controller-policy"] })],
            },
        ],
        disallowed: [
            {
                description: "A controller no NetworkPolicy selects.",
                expect: "controller (Deployment): no NetworkPolicy in tools selects Deployment tools/controller: the strict CNI denies it everything",
                resources: [...base, deployment("controller", "tools", ON_SYSTEM, { after: ["system", "ns-tools"] })],
            },
            {
                description: "A controller started alongside its policy.",
                expect: "its pods (Deployment tools/controller) start before tools/controller-policy exist",
                resources: [...base, dnsOnlyPolicy("controller-policy", "tools", { app: "controller" }, { after: ["ns-tools"] }), deployment("controller", "tools", ON_SYSTEM, { after: ["system", "ns-tools"] })],
            },
        ],
    },
});
