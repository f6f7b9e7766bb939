import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { previewOutputs } from "./preview-outputs";
import { SECRET_PLACEHOLDER } from "./project";

/**
 * Answers for the mock runtime: what a preview of a new stack would see. A resource's outputs are
 * its inputs (a provider's create preview returns its checked inputs) with every property the
 * provider computes unknown, nested ones included (offline/preview-outputs.ts).
 * Invokes get realistic answers derived from the stack config; an invoke with no answer here fails
 * loudly rather than returning something made up.
 */
export interface OfflineFacts {
    region: string;
    accountId: string;
    /** Outputs of other stacks, by stack name, for StackReference reads. */
    stackOutputs?: Record<string, Record<string, unknown>>;
}

function partitionOf(region: string): { partition: string; dnsSuffix: string; reverseDnsPrefix: string } {
    if (region.startsWith("cn-")) return { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn", reverseDnsPrefix: "cn.com.amazonaws" };
    if (region.startsWith("us-gov-")) return { partition: "aws-us-gov", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
}

/** A stable fake identifier (an AMI id, say) so two plans of the same config are identical. */
function stableId(prefix: string, ...parts: string[]): string {
    return `${prefix}-${createHash("sha256").update(parts.join("/")).digest("hex").slice(0, 17)}`;
}

/** Renders `aws.iam.getPolicyDocument` the way the provider does, for the statements the program passes. */
function renderPolicyDocument(inputs: Record<string, any>): string {
    const statements = (inputs.statements ?? []).map((s: Record<string, any>) => {
        const out: Record<string, unknown> = {};
        if (s.sid) out.Sid = s.sid;
        out.Effect = s.effect ?? "Allow";
        if (s.actions) out.Action = s.actions.length === 1 ? s.actions[0] : s.actions;
        if (s.resources) out.Resource = s.resources.length === 1 ? s.resources[0] : s.resources;
        if (s.principals) {
            out.Principal = Object.fromEntries(s.principals.map((p: any) => [p.type, p.identifiers.length === 1 ? p.identifiers[0] : p.identifiers]));
        }
        if (s.conditions) {
            const conditions: Record<string, Record<string, unknown>> = {};
            for (const c of s.conditions) conditions[c.test] = { ...(conditions[c.test] ?? {}), [c.variable]: c.values.length === 1 ? c.values[0] : c.values };
            out.Condition = conditions;
        }
        return out;
    });
    return JSON.stringify({ Version: inputs.version ?? "2012-10-17", Statement: statements });
}

export function offlineMocks(facts: OfflineFacts): pulumi.runtime.Mocks {
    const { partition, dnsSuffix, reverseDnsPrefix } = partitionOf(facts.region);
    return {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
            if (args.type === "pulumi:pulumi:StackReference") {
                const name = String(args.inputs.name ?? args.id);
                const outputs = facts.stackOutputs?.[name];
                if (!outputs) throw new Error(`the offline plan has no outputs for stack ${name}: pass --stack-outputs ${name}=FILE (the stack's plan --json or pulumi stack output --json)`);
                return { id: name, state: { name, outputs, secretOutputNames: [] } };
            }
            // A new resource has no id during a preview; its outputs are its inputs and what the provider computes, unknown.
            return { id: undefined, state: previewOutputs(args.type, args.inputs) };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
            const inputs = args.inputs as Record<string, any>;
            switch (args.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return {
                        accountId: facts.accountId,
                        arn: `arn:${partition}:sts::${facts.accountId}:assumed-role/offline-plan/offline-plan`,
                        userId: "AROAOFFLINEPLAN:offline-plan",
                        id: facts.accountId,
                    };
                case "aws:index/getPartition:getPartition":
                    return { partition, dnsSuffix, reverseDnsPrefix, id: partition };
                case "aws:index/getRegion:getRegion": {
                    const region = inputs.region ?? inputs.name ?? facts.region;
                    return { region, name: region, id: region, endpoint: `ec2.${region}.${dnsSuffix}`, description: region };
                }
                case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                    const letters = ["a", "b", "c", "d"];
                    return {
                        names: letters.map((l) => `${facts.region}${l}`),
                        zoneIds: letters.map((_, i) => `${facts.region.split("-").map((p) => p[0]).join("")}${facts.region.slice(-1)}-az${i + 1}`),
                        id: facts.region,
                        state: inputs.state,
                        groupNames: [facts.region],
                    };
                }
                case "aws:ssm/getParameter:getParameter":
                    // EKS publishes its AMI ids under /aws/service/eks/optimized-ami/...
                    return { name: inputs.name, type: "String", value: stableId("ami", facts.region, String(inputs.name)), id: inputs.name, version: 1 };
                case "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
                    // A registry login as ECR hands it out (12 hours); the token itself is made up.
                    const registry = String(inputs.registryId ?? facts.accountId);
                    return {
                        registryId: registry,
                        userName: "AWS",
                        password: "offline-plan-ecr-token",
                        authorizationToken: Buffer.from("AWS:offline-plan-ecr-token").toString("base64"),
                        proxyEndpoint: `https://${registry}.dkr.ecr.${facts.region}.${dnsSuffix}`,
                        expiresAt: "2026-01-01T12:00:00Z",
                        id: facts.region,
                    };
                }
                case "aws:secretsmanager/getSecretVersion:getSecretVersion": {
                    // A secret's value cannot be read offline (as a `secure:` config value cannot be
                    // decrypted): the placeholder stands for it, and the program holds it as a secret.
                    const secretId = String(inputs.secretId);
                    const arn = secretId.startsWith("arn:") ? secretId : `arn:${partition}:secretsmanager:${facts.region}:${facts.accountId}:secret:${secretId}-${stableId("x", secretId).slice(2, 8)}`;
                    return { arn, id: `${arn}|AWSCURRENT`, secretId, secretString: SECRET_PLACEHOLDER, secretBinary: "", versionId: stableId("v", secretId), versionStage: "AWSCURRENT", versionStages: ["AWSCURRENT"], createdDate: "2026-01-01T00:00:00Z" };
                }
                case "aws:guardduty/getDetector:getDetector": {
                    // Central threat detection: the stack names the security team's detector and a real
                    // preview reads it; offline it is answered as the stack asserts it (running, with EKS
                    // audit logs and runtime monitoring on), as the AZs are answered from the stack's list.
                    const id = String(inputs.id ?? "");
                    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`the offline plan answers aws.guardduty.getDetector only for the detector the stack names (compute-region:threatDetection.detectorId), got ${JSON.stringify(inputs.id)}`);
                    return {
                        id,
                        arn: `arn:${partition}:guardduty:${facts.region}:${facts.accountId}:detector/${id}`,
                        status: "ENABLED",
                        findingPublishingFrequency: "FIFTEEN_MINUTES",
                        serviceRoleArn: `arn:${partition}:iam::${facts.accountId}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`,
                        features: ["EKS_AUDIT_LOGS", "RUNTIME_MONITORING"].map((name) => ({ name, status: "ENABLED", additionalConfigurations: [] })),
                        region: facts.region,
                        tags: {},
                    };
                }
                case "aws:iam/getPolicyDocument:getPolicyDocument":
                    return { json: renderPolicyDocument(inputs), minifiedJson: renderPolicyDocument(inputs), id: "offline" };
                default:
                    throw new Error(`the offline plan has no answer for the invoke ${args.token}: add one to offline/mocks.ts`);
            }
        },
    };
}
