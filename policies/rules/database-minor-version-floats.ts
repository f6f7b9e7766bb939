import { forType, resourcePolicy } from "../engine/policy";
import { DATA_TYPES } from "../model/domain/types";
import { database } from "../samples/database";

export const databaseMinorVersionFloats = resourcePolicy({
    name: "database-minor-version-floats",
    description: "A database with automatic minor version upgrades names its engine's major version only.",
    rationale:
        "RDS upgrades the minor version in the maintenance window (autoMinorVersionUpgrade, on by default). A configuration " +
        "pinned to a minor version then differs from the database, and the next `up` tries to take it back to the older minor, " +
        "which RDS refuses: the deployment fails, or is left to drift. The provider accepts a version prefix for exactly this.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: 'Set engineVersion to the major version ("16"; compute-region:billing.engineVersion), or turn autoMinorVersionUpgrade off and upgrade minors deliberately.',
    controls: [
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "2.3.2", title: "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-2", title: "Flaw Remediation" },
    ],
    validateResource: forType(DATA_TYPES.rdsInstance, (db, args, report) => {
        const floats = db.autoMinorVersionUpgrade !== false;
        if (floats && typeof db.engineVersion === "string" && /^\d+\.\d+/.test(db.engineVersion)) {
            report(`database ${args.name} pins engineVersion ${db.engineVersion} while RDS upgrades its minor version itself: name the major version ("${db.engineVersion.split(".")[0]}").`);
        }
    }),
    samples: {
        allowed: [
            { description: "The major version, minors upgraded by RDS.", resources: [database({ engineVersion: "16", autoMinorVersionUpgrade: true })] },
            { description: "A pinned minor with automatic upgrades off.", resources: [database({ engineVersion: "16.6", autoMinorVersionUpgrade: false })] },
        ],
        disallowed: [
            { description: "A pinned minor with automatic upgrades on.", expect: 'pins engineVersion 16.6 while RDS upgrades its minor version itself: name the major version ("16")', resources: [database({ engineVersion: "16.6", autoMinorVersionUpgrade: true })] },
            { description: "A pinned minor, automatic upgrades left at their default (on).", expect: "pins engineVersion 16.4", resources: [database({ engineVersion: "16.4" }, ["autoMinorVersionUpgrade"])] },
        ],
    },
});
