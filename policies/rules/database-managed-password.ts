import { forType, resourcePolicy } from "../engine/policy";
import { DATA_TYPES } from "../model/domain/types";
import { database } from "../samples/database";

export const databaseManagedPassword = resourcePolicy({
    name: "database-managed-password",
    description: "No database has a password input: RDS manages the master password in Secrets Manager (manageMasterUserPassword).",
    rationale:
        "A password given as a resource input lives in the Pulumi state and the plan; one RDS generates and rotates in Secrets " +
        "Manager, encrypted with the database's key, never leaves AWS. Applications use IAM database authentication.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Remove password from the aws.rds.Instance and set manageMasterUserPassword: true (with masterUserSecretKmsKeyId).",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "IA-5", title: "Authenticator Management" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security: credential management" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "1.x", title: "Credentials are managed, not embedded" },
    ],
    validateResource: forType(DATA_TYPES.rdsInstance, (db, args, report) => {
        if ("password" in db) report(`database ${args.name} takes a password input; it would be stored in the Pulumi state.`);
        if (db.manageMasterUserPassword !== true && !db.replicateSourceDb && !db.snapshotIdentifier) report(`database ${args.name} does not let RDS manage its master password (manageMasterUserPassword).`);
    }),
    samples: {
        allowed: [{ description: "A managed master password.", resources: [database()] }],
        disallowed: [
            { description: "A password input.", expect: "database billing takes a password input", resources: [database({ password: "hunter2hunter2" }, ["manageMasterUserPassword"])] },
            { description: "Neither a password nor a managed one.", expect: "does not let RDS manage its master password", resources: [database({}, ["manageMasterUserPassword"])] },
        ],
    },
});
