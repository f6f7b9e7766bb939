import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Where a customer-managed key is used, for its key policy. */
export interface KeyPolicyArgs {
    /** Account that owns the key: its root principal administers it through IAM. */
    accountId: pulumi.Input<string>;
    partition: pulumi.Input<string>;
    region: pulumi.Input<string>;
    /** Let CloudWatch Logs in this account and region encrypt log groups with the key. */
    allowCloudWatchLogs: boolean;
}

/**
 * A key policy that delegates administration to IAM in the owning account and, where asked, lets
 * CloudWatch Logs use the key for this account's log groups only (the encryption-context condition).
 */
export function keyPolicy(args: KeyPolicyArgs): pulumi.Output<string> {
    return pulumi.all([args.accountId, args.partition, args.region]).apply(([accountId, partition, region]) => {
        const statements: Record<string, unknown>[] = [
            {
                Sid: "AccountAdministersKeyThroughIam",
                Effect: "Allow",
                Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
                Action: "kms:*",
                Resource: "*",
            },
        ];
        if (args.allowCloudWatchLogs) {
            statements.push({
                Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: {
                    ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` },
                },
            });
        }
        return JSON.stringify({ Version: "2012-10-17", Statement: statements });
    });
}

/** Account, partition and region of the default provider: one lookup each, shared by the components. */
/** The account, partition and region a stack deploys to, looked up once per region. */
export interface AwsContext {
    /** The AWS account id. */
    accountId: pulumi.Output<string>;
    /** The partition (aws, aws-cn, aws-us-gov). */
    partition: pulumi.Output<string>;
    /** The AWS region. */
    region: pulumi.Output<string>;
    /** DNS suffix of the partition (amazonaws.com), for service principals and endpoint names. */
    dnsSuffix: pulumi.Output<string>;
}

export function awsContext(opts?: pulumi.InvokeOutputOptions): AwsContext {
    const identity = aws.getCallerIdentityOutput({}, opts);
    const partition = aws.getPartitionOutput({}, opts);
    const region = aws.getRegionOutput({}, opts);
    return {
        accountId: identity.accountId,
        partition: partition.partition,
        region: region.region,
        dnsSuffix: partition.dnsSuffix,
    };
}

/** The trust policy of a role that EKS Pod Identity hands to pods (the agent assumes it and tags the session). */
export const POD_IDENTITY_TRUST_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
});

export interface PodIdentityRoleArgs {
    clusterName: pulumi.Input<string>;
    namespace: string;
    serviceAccount: string;
    /** The role's inline policy document (JSON). */
    policy: pulumi.Input<string>;
    tags: Record<string, string>;
    /**
     * Name the role, its policy and the association all `name`, as the billing and model-weights roles
     * were first deployed (renaming them would replace them), instead of `<name>-role`, `-policy`, `-identity`.
     */
    sameName?: boolean;
}

/**
 * An IAM role with one inline policy, bound to a service account through EKS Pod Identity: the role
 * (`<name>-role`), its policy (`<name>-policy`) and the association (`<name>-identity`), or all three
 * `name` with `sameName`. A pod must not start before the association exists: depend on it.
 */
export function podIdentityRole(name: string, args: PodIdentityRoleArgs, parent: pulumi.Resource): { role: aws.iam.Role; association: aws.eks.PodIdentityAssociation } {
    const named = (suffix: string) => (args.sameName ? name : `${name}-${suffix}`);
    const role = new aws.iam.Role(named("role"), { assumeRolePolicy: POD_IDENTITY_TRUST_POLICY, tags: args.tags }, { parent });
    new aws.iam.RolePolicy(named("policy"), { role: role.id, policy: args.policy }, { parent });
    const association = new aws.eks.PodIdentityAssociation(
        named("identity"),
        { clusterName: args.clusterName, namespace: args.namespace, serviceAccount: args.serviceAccount, roleArn: role.arn, tags: args.tags },
        { parent },
    );
    return { role, association };
}
