import { configWithDefaults, forType, resourcePolicy } from "../engine/policy";
import { BACKUP_RETENTION_DAYS } from "../model/domain/conventions";
import { DATA_TYPES } from "../model/domain/types";
import { database } from "../samples/database";

const MIN_BACKUP_DAYS = BACKUP_RETENTION_DAYS.min;

export const databaseResilient = resourcePolicy({
    name: "database-resilient",
    description: "Databases run Multi-AZ, keep automated backups (point-in-time recovery) for at least 14 days, have deletion protection and take a final snapshot on delete.",
    rationale:
        "Losing billing data loses money and the evidence of what was sold. Multi-AZ survives an AZ; backups and point-in-time " +
        "recovery undo a bad migration or a deleted row; deletion protection and a final snapshot stop a mistaken destroy.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set multiAz: true, backupRetentionPeriod >= 14 (compute-region:billing.backupRetentionDays), deletionProtection: true, skipFinalSnapshot: false with a finalSnapshotIdentifier.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-9", title: "System Backup" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-10", title: "System Recovery and Reconstitution" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Recovery infrastructure and protection against data loss" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "2.3.2", title: "Ensure Auto Minor Version Upgrade and resilience settings for RDS" },
    ],
    configSchema: { properties: { minimumBackupDays: { type: "integer", minimum: MIN_BACKUP_DAYS, maximum: BACKUP_RETENTION_DAYS.max, default: MIN_BACKUP_DAYS, description: "Least backup retention, days (cannot go below 14)." } } },
    validateResource: forType(DATA_TYPES.rdsInstance, (db, args, report) => {
        const { minimumBackupDays } = configWithDefaults({ minimumBackupDays: MIN_BACKUP_DAYS }, args);
        if (db.multiAz !== true) report(`database ${args.name} is not Multi-AZ.`);
        const days = Number(db.backupRetentionPeriod ?? 0);
        if (days < minimumBackupDays) report(`database ${args.name} keeps backups ${days} days; at least ${minimumBackupDays} are required.`);
        if (db.deletionProtection !== true) report(`database ${args.name} has no deletion protection.`);
        if (db.skipFinalSnapshot !== false || !db.finalSnapshotIdentifier) report(`database ${args.name} takes no final snapshot on delete (skipFinalSnapshot false and a finalSnapshotIdentifier).`);
    }),
    samples: {
        allowed: [
            { description: "Multi-AZ, 14 days of backups, protected, final snapshot.", resources: [database()] },
            { description: "A stack that requires 30 days.", config: { minimumBackupDays: 30 }, resources: [database({ backupRetentionPeriod: 35 })] },
        ],
        disallowed: [
            { description: "Single-AZ.", expect: "database billing is not Multi-AZ", resources: [database({ multiAz: false })] },
            { description: "Seven days of backups.", expect: "keeps backups 7 days; at least 14 are required", resources: [database({ backupRetentionPeriod: 7 })] },
            { description: "No deletion protection.", expect: "has no deletion protection", resources: [database({ deletionProtection: false })] },
            { description: "Skips the final snapshot (the provider's default).", expect: "takes no final snapshot", resources: [database({}, ["skipFinalSnapshot", "finalSnapshotIdentifier"])] },
        ],
    },
});
