import { stackPolicy } from "../engine/policy";
import { reportRehearsal } from "../model/analyses/rehearsal";
import { ecrRepository, imageBuild, job, namespace, ON_SYSTEM, SYSTEM_NODES } from "../samples/deploy";

const image = "111122223333.dkr.ecr.us-east-2.amazonaws.com/billing/metering@sha256:" + "a".repeat(64);
const base = [SYSTEM_NODES, namespace("billing"), ecrRepository("billing/metering")];

export const deployImagesBuiltFirst = stackPolicy({
    name: "deploy-images-built-first",
    description: "A workload that pulls from a registry the stack creates waits for a build step that pushes the image.",
    rationale:
        "A repository created by the same `up` is empty: the pods fail with ImagePullBackOff and the awaited workload times out. " +
        "The image must be built and pushed in the same deployment (a docker-build Image) before the workload, or come from a " +
        "registry the stack does not create.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Leave compute-region:billing.meteringImage out so the program builds and pushes the image first, or point it at an image pushed elsewhere.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SA-10", title: "Developer Configuration Management" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => reportRehearsal(args.resources, ["image"], report),
    samples: {
        allowed: [
            {
                description: "The image is built and pushed before the Job pulls it.",
                resources: [...base, imageBuild("metering-build", { after: ["billing/metering"] }), job("migrate", "billing", { ...ON_SYSTEM, image, activeDeadlineSeconds: 300 }, { after: ["system", "ns-billing", "metering-build"] })],
            },
        ],
        disallowed: [
            {
                description: "The Job pulls from the repository the same stack creates, with nothing pushed to it.",
                expect: "its pods pull " + image.slice(0, 60),
                resources: [...base, job("migrate", "billing", { ...ON_SYSTEM, image, activeDeadlineSeconds: 300 }, { after: ["system", "ns-billing", "billing/metering"] })],
            },
        ],
    },
});
