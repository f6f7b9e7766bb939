import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { deployment, dnsOnlyPolicy, namespace, networkPolicy, ON_SYSTEM, SYSTEM_NODES } from "../samples/deploy";

const base = [SYSTEM_NODES, namespace("tools")];
const app = (after: string) => deployment("app", "tools", { ...ON_SYSTEM, labels: { app: "app" } }, { after: ["system", "ns-tools", after] });

export const platformPathsOpen = stackPolicy({
    name: "platform-paths-open",
    description: "The NetworkPolicies leave open every path the region needs: DNS from every namespace with pods, the API server from controllers, the control plane to every webhook, Prometheus to every scrape target, the gateway to the model servers, the billing jobs to the database.",
    rationale:
        "Isolation is proven from both sides; so must be function. Under the strict CNI a path no policy opens does not exist: a " +
        "webhook the control plane cannot call rejects or stalls admission, a controller that cannot reach the API server never " +
        "becomes ready, a scrape that is cut silences the alerts. The paths come from the charts' and add-ons' upstream facts and " +
        "from the plan (its monitors, gateway backends and database clients), judged with Kubernetes' semantics in the configured CNI mode.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Open the path named in the finding on both ends (the caller's egress and the callee's ingress), with the narrowest peers and ports that carry it.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Environmental protections, software and recovery infrastructure" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["path"], report),
    samples: {
        allowed: [{ description: "A workload that may resolve names.", resources: [...base, dnsOnlyPolicy("app-policy", "tools", { app: "app" }, { after: ["ns-tools"] }), app("app-policy")] }],
        disallowed: [
            {
                description: "A workload whose only policy denies all egress, DNS included.",
                expect: "app (Deployment): Deployment tools/app needs Deployment tools/app -> CoreDNS UDP/53",
                resources: [...base, networkPolicy("app-policy", "tools", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, { after: ["ns-tools"] }), app("app-policy")],
            },
        ],
    },
});
