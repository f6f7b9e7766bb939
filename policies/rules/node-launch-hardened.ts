import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const secure = {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 500, volumeType: "gp3", encrypted: "true" } }],
};
const group = (extra: Record<string, unknown> = { launchTemplate: { id: "lt", version: "1" } }) =>
    sample(TYPES.eksNodeGroup, "gpu-nodes", { instanceTypes: ["p5.48xlarge"], scalingConfig: { minSize: 1, maxSize: 2 }, ...extra }, { dependsOn: extra.launchTemplate ? ["gpu-lt"] : [] });

function launchTemplateProblems(lt: PolicyResource): string[] {
    const problems: string[] = [];
    const md = lt.props.metadataOptions ?? {};
    if (md.httpTokens !== "required") problems.push(`does not require IMDSv2 (metadataOptions.httpTokens is ${md.httpTokens ?? "unset: optional"})`);
    if (md.httpPutResponseHopLimit !== 1) problems.push(`lets pods reach the instance metadata service (hop limit ${md.httpPutResponseHopLimit ?? "unset"}, must be 1)`);
    const mappings: any[] = [lt.props.blockDeviceMappings ?? []].flat();
    if (mappings.length === 0) problems.push("sets no block device mapping, so the root volume's encryption is the account default");
    for (const m of mappings) {
        if (m?.ebs && String(m.ebs.encrypted) !== "true") problems.push(`does not encrypt volume ${m.deviceName ?? "(unnamed)"}`);
    }
    return problems;
}

export const nodeLaunchHardened = stackPolicy({
    name: "node-launch-hardened",
    description: "Every node group launches from a template that requires IMDSv2 with hop limit 1 and encrypts its volumes.",
    rationale:
        "With hop limit 2 (the EKS default) any pod can fetch the node role's credentials from the instance metadata service " +
        "and act as the node; on a shared GPU node that is one tenant acting for all. Unencrypted volumes hold model weights " +
        "and tenant data in the clear.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Launch node groups from a launch template with metadataOptions { httpTokens: required, httpPutResponseHopLimit: 1 } and " +
        "blockDeviceMappings with ebs.encrypted true (components/nodes.ts secureLaunchTemplate).",
    controls: [
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "4.2.x", title: "Restrict access to the instance metadata service (EKS best practice, IMDSv2 hop limit 1)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-28", title: "Protection of Information at Rest" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-HI-1", title: "Block access to the node's cloud credentials" },
    ],
    validateStack: (args, report) => {
        for (const lt of resourcesOfType(args, TYPES.launchTemplate)) {
            for (const problem of launchTemplateProblems(lt)) report(`launch template ${lt.name} ${problem}.`, lt.urn);
        }
        for (const ng of resourcesOfType(args, TYPES.eksNodeGroup)) {
            // The template id is unknown until it exists: the node group's dependency on it is known.
            const lt = ng.dependencies.find((d) => d.type === TYPES.launchTemplate);
            if (!ng.props.launchTemplate || !lt) report(`node group ${ng.name} uses no launch template of this stack, so it gets EKS defaults (IMDS hop limit 2).`, ng.urn);
            if (ng.props.remoteAccess) report(`node group ${ng.name} enables SSH remote access.`, ng.urn);
        }
    },
    samples: {
        allowed: [{ description: "A GPU node group on a hardened launch template.", resources: [sample(TYPES.launchTemplate, "gpu-lt", secure), group()] }],
        disallowed: [
            {
                description: "SSH into the nodes (remoteAccess), around the hardened launch template.",
                expect: "node group gpu-nodes enables SSH remote access",
                resources: [sample(TYPES.launchTemplate, "gpu-lt", secure), group({ launchTemplate: { id: "lt", version: "1" }, remoteAccess: { ec2SshKey: "ops" } })],
            },
            { description: "A node group with no launch template.", expect: "node group gpu-nodes uses no launch template of this stack", resources: [group({})] },
            {
                description: "Hop limit 2 lets pods take the node role.",
                expect: "launch template gpu-lt lets pods reach the instance metadata service (hop limit 2, must be 1)",
                resources: [sample(TYPES.launchTemplate, "gpu-lt", { ...secure, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), group()],
            },
            {
                description: "IMDSv1 allowed and an unencrypted root volume.",
                expect: "does not encrypt volume /dev/xvda",
                resources: [sample(TYPES.launchTemplate, "gpu-lt", { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 }, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 100 } }] }), group()],
            },
        ],
    },
});
