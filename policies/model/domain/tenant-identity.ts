import { TAGS } from "./conventions";
import type { IamRequest } from "./iam-deny";

/**
 * A tenant's workload identity: the permissions boundary every IAM role the region creates for a
 * tenant carries, and the requests that boundary must deny, which the `tenant-roles-bounded` policy
 * puts to it. Effective permissions are the role's policies intersected with its boundary, and an
 * explicit Deny wins even over a resource policy (the platform's key policies delegate to this
 * account's IAM), so the platform's resources are protected by Deny statements, not by absent Allows.
 */

/** Where a boundary applies: the account and partition whose resources it protects, and the tenant it is for. */
export interface BoundaryScope {
    tenant: string;
    accountId: string;
    partition: string;
}

/**
 * The boundary of a tenant's roles: anything (the role's own policies narrow it), except, in this
 * account, every resource not tagged as the tenant's (the platform's and other tenants' secrets,
 * file systems, keys, database) and, whatever their tags, its secrets, KMS keys, databases and
 * their IAM users, the EKS cluster, and IAM (no role to assume or pass, no policy to write).
 */
export function tenantBoundaryDocument(scope: BoundaryScope): Record<string, unknown> {
    const { accountId: account, partition: p, tenant } = scope;
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Ceiling", Effect: "Allow", Action: "*", Resource: "*" },
            {
                Sid: "DenyThisAccountsResourcesNotTheTenants",
                Effect: "Deny",
                Action: "*",
                Resource: "*",
                Condition: { StringEquals: { "aws:ResourceAccount": account }, StringNotEquals: { [`aws:ResourceTag/${TAGS.tenant}`]: tenant } },
            },
            {
                Sid: "DenyThisAccountsSecretsKeysDatabasesClusterAndIam",
                Effect: "Deny",
                Action: ["kms:*", "rds:*", "rds-db:*", "eks:*", "iam:*", "sts:AssumeRole", "sts:TagSession", "secretsmanager:*"],
                Resource: [
                    `arn:${p}:secretsmanager:*:${account}:*`,
                    `arn:${p}:kms:*:${account}:*`,
                    `arn:${p}:rds:*:${account}:*`,
                    `arn:${p}:rds-db:*:${account}:dbuser:*/*`,
                    `arn:${p}:eks:*:${account}:*`,
                    `arn:${p}:iam::${account}:*`,
                ],
            },
        ],
    };
}

/** A request a tenant's role must never be allowed, and what it stands for. */
export interface BoundaryProbe {
    what: string;
    request: IamRequest;
}

/**
 * What no role of `tenant` may do in the platform's account (`accountId`): read another tenant's
 * secrets or take another tenant's file system (a backup, a link to its own bucket, an export),
 * reach the billing database (connect, snapshot, its master secret), or use the cluster's keys.
 * Context keys AWS may not send (tags, the resource account) are left out where unsure, so a
 * boundary passes only if it denies by the resource's ARN too.
 */
export function boundaryProbes(tenant: string, accountId: string, partition: string, region: string): BoundaryProbe[] {
    const other = tenant === "other-tenant" ? "another-tenant" : "other-tenant";
    const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
    const tagged = { "aws:ResourceAccount": accountId, [`aws:ResourceTag/${TAGS.tenant}`]: other };
    const fs = arn("fsx", "file-system/fs-0123456789abcdef0");
    return [
        { what: `another tenant's secret (secretsmanager:GetSecretValue, tagged ${other})`, request: { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", `secret:compute-region/cluster/gateway/${other}-AbCdEf`), context: tagged } },
        { what: "another tenant's secret, untagged in the request", request: { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", `secret:compute-region/cluster/gateway/${other}-AbCdEf`), context: {} } },
        { what: `another tenant's file system: a backup of it (fsx:CreateBackup, tagged ${other})`, request: { action: "fsx:CreateBackup", resource: fs, context: tagged } },
        { what: "another tenant's file system: a link to a bucket (fsx:CreateDataRepositoryAssociation)", request: { action: "fsx:CreateDataRepositoryAssociation", resource: fs, context: tagged } },
        { what: "another tenant's file system: an export (fsx:CreateDataRepositoryTask)", request: { action: "fsx:CreateDataRepositoryTask", resource: fs, context: tagged } },
        { what: "the billing database: connecting as a database user (rds-db:connect)", request: { action: "rds-db:connect", resource: `arn:${partition}:rds-db:${region}:${accountId}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/metering`, context: {} } },
        { what: "the billing database: a snapshot (rds:CreateDBSnapshot)", request: { action: "rds:CreateDBSnapshot", resource: arn("rds", "db:billing"), context: {} } },
        { what: "the billing database's master secret (secretsmanager:GetSecretValue)", request: { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", "secret:rds!db-0123abcd-AbCdEf"), context: { "aws:ResourceAccount": accountId } } },
        { what: "the cluster's key (kms:Decrypt)", request: { action: "kms:Decrypt", resource: arn("kms", "key/0123abcd-0123-4567-89ab-0123456789ab"), context: {} } },
        { what: "a role of this account (sts:AssumeRole)", request: { action: "sts:AssumeRole", resource: `arn:${partition}:iam::${accountId}:role/platform-admin`, context: {} } },
    ];
}

/** `arn:<partition>:iam::<account>:...` as account and partition, or undefined. */
export function iamArnAccount(arn: unknown): { accountId: string; partition: string } | undefined {
    const m = typeof arn === "string" ? /^arn:(aws[a-z-]*):iam::(\d{12}):/.exec(arn) : null;
    return m ? { partition: m[1], accountId: m[2] } : undefined;
}
