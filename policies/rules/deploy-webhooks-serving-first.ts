import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { deployment, KUEUE_CHART, namespace, release } from "../samples/deploy";

/** Kueue with its Deployment integration on: its deployment and pod webhooks fail closed. */
const kueue = [
    namespace("kueue-system"),
    release("kueue", KUEUE_CHART, "kueue-system", { managerConfig: { controllerManagerConfigYaml: "integrations:\n  frameworks: [deployment, pod]\n" } }, { after: ["ns-kueue-system"] }),
    namespace("serving"),
];

export const deployWebhooksServingFirst = stackPolicy({
    name: "deploy-webhooks-serving-first",
    description: "Every object an admission webhook intercepts, failing closed, waits for the release that runs the webhook.",
    rationale:
        "A webhook with failurePolicy Fail rejects everything it intercepts while its server is not running: a Deployment created " +
        "before Kueue's controller is up is refused (\"failed calling webhook\"), and so are the pods of one whose own create " +
        "went through. The webhook's rules, selectors and failure policy are read from the chart at the pinned version.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Add the release that runs the webhook to the object's dependsOn (for a component: pass it where the component's workloads wait).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["webhook"], report),
    samples: {
        allowed: [{ description: "A model server Deployment that waits for Kueue.", resources: [...kueue, deployment("model", "serving", {}, { after: ["kueue", "ns-serving"] })] }],
        disallowed: [
            {
                description: "A Deployment created while Kueue's webhooks may not be serving yet.",
                expect: "model (Deployment): the mdeployment.kb.io webhook of kueue (failurePolicy Fail) intercepts it, and nothing orders it after that release",
                resources: [...kueue, deployment("model", "serving", {}, { after: ["ns-serving"] })],
            },
            {
                description: "The same Deployment's pods: created through Kueue's pod webhook, which fails closed too.",
                expect: "model (Deployment): its pods (Deployment serving/model) are created through the mpod.kb.io webhook of kueue (failurePolicy Fail), and nothing orders it after that release",
                resources: [...kueue, deployment("model", "serving", {}, { after: ["ns-serving"] })],
            },
        ],
    },
});
