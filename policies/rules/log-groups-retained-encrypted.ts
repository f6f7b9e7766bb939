import { forType, resourcePolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

export const logGroupsRetainedEncrypted = resourcePolicy({
    name: "log-groups-retained-encrypted",
    description: "CloudWatch log groups set a retention period and are encrypted with a customer-managed KMS key.",
    rationale:
        "Logs hold tenant identifiers, request paths and sometimes payloads: they must be encrypted under a key the company " +
        "controls, and kept only as long as needed (CloudWatch keeps them forever by default).",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set retentionInDays and kmsKeyId (a key whose policy lets CloudWatch Logs use it, such as the cluster key) on the aws.cloudwatch.LogGroup.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-11", title: "Audit Record Retention" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-9", title: "Protection of Audit Information" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical and physical access controls: encryption of data at rest" },
    ],
    validateResource: forType(TYPES.logGroup, (group, args, report) => {
        const name = typeof group.name === "string" ? group.name : args.name;
        if (!(typeof group.retentionInDays === "number" && group.retentionInDays > 0)) report(`log group ${name} keeps logs forever (no retentionInDays).`);
        // Presence, not the value: the key's ARN is unknown until the key exists.
        if (!("kmsKeyId" in group)) report(`log group ${name} is not encrypted with a customer-managed key (no kmsKeyId).`);
    }),
    samples: {
        allowed: [{ description: "Retention and a KMS key.", resources: [sample(TYPES.logGroup, "logs", { name: "/aws/eks/prod/cluster", retentionInDays: 365, kmsKeyId: "arn:aws:kms:us-east-2:111122223333:key/1" })] }],
        disallowed: [
            { description: "Kept forever.", expect: "log group /aws/eks/prod/cluster keeps logs forever", resources: [sample(TYPES.logGroup, "logs", { name: "/aws/eks/prod/cluster", kmsKeyId: "arn:aws:kms:us-east-2:111122223333:key/1" })] },
            { description: "Not encrypted with a customer-managed key.", expect: "is not encrypted with a customer-managed key", resources: [sample(TYPES.logGroup, "logs", { name: "/app", retentionInDays: 30 })] },
        ],
    },
});
