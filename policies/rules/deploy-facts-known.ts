import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { KUEUE_CHART, namespace, release } from "../samples/deploy";

export const deployFactsKnown = stackPolicy({
    name: "deploy-facts-known",
    description: "Every Helm release and EKS add-on has upstream facts (its CRDs, webhooks, pods and paths) at the pinned version.",
    rationale:
        "The deploy rehearsal and the platform NetworkPolicies rest on what each chart and add-on installs, read from its source at " +
        "the pinned version. A release without facts cannot be judged: its CRDs, webhooks and pods would be invisible to every " +
        "first-`up` check, and under the strict CNI its pods would get no NetworkPolicy.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Vendor the chart at the new version (scripts/vendor-chart.sh, scripts/chart-sources.ts), run npm run charts:render to " +
        "derive its CRDs, webhooks and pod sets from a real Helm render, and write the network paths of any new pod set in " +
        "policies/model/upstream/charts.ts (add-ons: addons.ts, with the repository, tag and file each fact came from).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["facts"], report),
    samples: {
        allowed: [{ description: "Kueue at the pinned 0.14.2, whose facts the region keeps.", resources: [namespace("kueue-system"), release("kueue", KUEUE_CHART, "kueue-system", {}, { after: ["ns-kueue-system"] })] }],
        disallowed: [
            {
                description: "Kueue bumped to a version nobody has read.",
                expect: "the rehearsal has no upstream facts for chart oci://registry.k8s.io/kueue/charts/kueue 0.15.0",
                resources: [namespace("kueue-system"), release("kueue", { ...KUEUE_CHART, version: "0.15.0" }, "kueue-system", {}, { after: ["ns-kueue-system"] })],
            },
        ],
    },
});
