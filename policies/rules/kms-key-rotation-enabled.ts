import { forType, resourcePolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

export const kmsKeyRotation = resourcePolicy({
    name: "kms-key-rotation-enabled",
    description: "Symmetric customer-managed KMS keys rotate their key material automatically.",
    rationale: "Rotation bounds how much data one key version protects and is required by most key-management standards.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Set enableKeyRotation: true on the aws.kms.Key (asymmetric and HMAC keys cannot rotate and are exempt).",
    controls: [
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "3.6", title: "Ensure rotation for customer-created symmetric CMKs is enabled" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-12", title: "Cryptographic Key Establishment and Management" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical and physical access controls: encryption key management" },
    ],
    validateResource: forType(TYPES.kmsKey, (key, args, report) => {
        const spec = key.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
        if (spec !== "SYMMETRIC_DEFAULT") args.notApplicable(`key spec ${spec} cannot rotate`);
        if (key.enableKeyRotation !== true) report(`KMS key ${args.name} does not rotate (enableKeyRotation is not true).`);
    }),
    samples: {
        allowed: [
            { description: "A rotating symmetric key.", resources: [sample(TYPES.kmsKey, "key", { enableKeyRotation: true })] },
            { description: "An asymmetric signing key (cannot rotate).", resources: [sample(TYPES.kmsKey, "signing", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })] },
        ],
        disallowed: [{ description: "A symmetric key without rotation.", expect: "KMS key key does not rotate", resources: [sample(TYPES.kmsKey, "key", { description: "data" })] }],
    },
});
