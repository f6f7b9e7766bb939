import { forType, resourcePolicy } from "../engine/policy";
import { DATA_TYPES } from "../model/domain/types";
import { database } from "../samples/database";

export const databaseEncryptedPrivate = resourcePolicy({
    name: "database-encrypted-private",
    description: "Databases encrypt storage with a customer-managed KMS key and are never publicly accessible.",
    rationale:
        "The billing database holds every tenant's usage and invoices. Encryption under a key the company controls keeps " +
        "snapshots and volumes unreadable without it; a publicly accessible instance gets a public DNS name and address.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Set storageEncrypted: true with kmsKeyId (a customer-managed key) and publiclyAccessible: false; place the instance in the isolated subnets.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-28", title: "Protection of Information at Rest" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "2.3.1", title: "Ensure that encryption-at-rest is enabled for RDS Instances" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "2.3.3", title: "Ensure that public access is not given to RDS Instance" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical and physical access controls: encryption of data at rest" },
    ],
    validateResource: forType(DATA_TYPES.rdsInstance, (db, args, report) => {
        if (db.storageEncrypted !== true) report(`database ${args.name} does not encrypt its storage.`);
        // Presence, not the value: the key's ARN is unknown until the key exists.
        else if (!("kmsKeyId" in db)) report(`database ${args.name} encrypts with the AWS-managed key, not a customer-managed one (no kmsKeyId).`);
        if (db.publiclyAccessible === true) report(`database ${args.name} is publicly accessible.`);
    }),
    samples: {
        allowed: [{ description: "Encrypted with a customer-managed key, private.", resources: [database()] }],
        disallowed: [
            { description: "Unencrypted storage.", expect: "database billing does not encrypt its storage", resources: [database({ storageEncrypted: false }, ["kmsKeyId"])] },
            { description: "Encrypted with the AWS-managed key.", expect: "not a customer-managed one", resources: [database({}, ["kmsKeyId"])] },
            { description: "Publicly accessible.", expect: "database billing is publicly accessible", resources: [database({ publiclyAccessible: true })] },
        ],
    },
});
