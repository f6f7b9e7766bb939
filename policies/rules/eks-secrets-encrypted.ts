import { forType, resourcePolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const encrypted = { name: "prod", roleArn: "arn:aws:iam::111122223333:role/eks", vpcConfig: { subnetIds: ["subnet-1", "subnet-2"] } };

export const eksSecretsEncrypted = resourcePolicy({
    name: "eks-secrets-encrypted",
    description: "EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    rationale:
        "Without envelope encryption, Secrets (tenant API keys, database credentials) sit in etcd protected only by the " +
        "control plane's disk encryption; a KMS key adds an access-controlled, audited, revocable layer.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        'Set encryptionConfig: { resources: ["secrets"], provider: { keyArn: <KMS key ARN> } } on the aws.eks.Cluster ' +
        "(the Cluster component does this with its own rotating key). Encryption cannot be turned off once on.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-28", title: "Protection of Information at Rest" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "5.3.1", title: "Ensure Kubernetes Secrets are encrypted using CMKs managed in AWS KMS" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical and physical access controls: encryption of data at rest" },
    ],
    validateResource: forType(TYPES.eksCluster, (cluster, _args, report) => {
        const configs: any[] = cluster.encryptionConfig ? [cluster.encryptionConfig].flat() : [];
        const forSecrets = configs.find((c) => (c?.resources ?? []).includes("secrets"));
        if (!forSecrets) {
            report(`Cluster ${cluster.name ?? ""} has no encryptionConfig for "secrets".`);
        } else if (!forSecrets.provider || !("keyArn" in forSecrets.provider)) {
            // Presence, not the value: the key's ARN is unknown until the key exists.
            report(`Cluster ${cluster.name ?? ""} encrypts secrets but names no KMS key (encryptionConfig.provider.keyArn).`);
        }
    }),
    samples: {
        allowed: [
            {
                description: "Secrets encrypted with a customer-managed key.",
                resources: [sample(TYPES.eksCluster, "cluster", { ...encrypted, encryptionConfig: { resources: ["secrets"], provider: { keyArn: "arn:aws:kms:us-east-2:111122223333:key/1" } } })],
            },
        ],
        disallowed: [
            { description: "No encryptionConfig at all.", expect: 'has no encryptionConfig for "secrets"', resources: [sample(TYPES.eksCluster, "cluster", encrypted)] },
            {
                description: "An encryptionConfig with no key.",
                expect: "names no KMS key",
                resources: [sample(TYPES.eksCluster, "cluster", { ...encrypted, encryptionConfig: { resources: ["secrets"], provider: {} } })],
            },
        ],
    },
});
