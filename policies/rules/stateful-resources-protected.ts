import { resourcePolicy } from "../engine/policy";
import { DATA_TYPES, TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

/** Types whose loss loses data or locks data away: Pulumi must refuse to delete them. */
const PROTECTED_TYPES: Record<string, string> = {
    [TYPES.eksCluster]: "EKS cluster",
    [TYPES.kmsKey]: "KMS key",
    [DATA_TYPES.rdsInstance]: "database",
    // Tenants' gateway API keys: deleting one locks its tenant out (and a recreated key is a new key).
    [TYPES.secretsManagerSecret]: "secret",
};

export const statefulResourcesProtected = resourcePolicy({
    name: "stateful-resources-protected",
    description: "Stateful resources (the EKS cluster, KMS keys, databases, Secrets Manager secrets such as tenants' API keys) are Pulumi-protected, and the cluster has EKS deletion protection.",
    rationale:
        "Deleting the cluster deletes every tenant's workloads and volumes; deleting a KMS key makes everything it encrypted " +
        "unreadable. A mistaken rename or a destroy must stop at them.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the resource with { protect: true } and, for aws.eks.Cluster, deletionProtection: true. Lift protection deliberately (pulumi state unprotect) to retire one.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-9", title: "System Backup (protection against loss)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Recovery infrastructure and protection against data loss" },
    ],
    validateResource: (args, report) => {
        const kind = PROTECTED_TYPES[args.type];
        if (!kind) return;
        if (args.opts.protect !== true) report(`${kind} ${args.name} is not protected (resource option protect: true).`);
        if (args.type === TYPES.eksCluster && args.props.deletionProtection !== true) report(`${kind} ${args.name} has no EKS deletion protection (deletionProtection: true).`);
    },
    samples: {
        allowed: [
            {
                description: "A protected cluster with deletion protection, and a protected key.",
                resources: [sample(TYPES.eksCluster, "cluster", { name: "prod", deletionProtection: true }, { protect: true }), sample(TYPES.kmsKey, "key", { enableKeyRotation: true }, { protect: true })],
            },
        ],
        disallowed: [
            { description: "An unprotected KMS key.", expect: "KMS key key is not protected", resources: [sample(TYPES.kmsKey, "key", { enableKeyRotation: true })] },
            { description: "An unprotected tenant API key in Secrets Manager.", expect: "secret key-initech is not protected", resources: [sample("aws:secretsmanager/secret:Secret", "key-initech", { name: "compute-region/prod/gateway/initech" })] },
            { description: "A protected cluster without EKS deletion protection.", expect: "has no EKS deletion protection", resources: [sample(TYPES.eksCluster, "cluster", { name: "prod" }, { protect: true })] },
        ],
    },
});
