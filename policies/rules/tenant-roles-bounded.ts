import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TAGS } from "../model/domain/conventions";
import { denyingStatement, policyStatements } from "../model/domain/iam-deny";
import { boundaryProbes, iamArnAccount, tenantBoundaryDocument } from "../model/domain/tenant-identity";
import { TYPES } from "../model/domain/types";
import { boundary, clusterKey, PLATFORM_ACCOUNT, tenantRole } from "../samples/tenant-resources";

/**
 * The platform's account, partition and region: the accounts the platform's KMS keys delegate to
 * through IAM (their key policies' `:root` principals), where a role could use them, and the region
 * the keys are tagged with.
 */
function platformScopes(resources: readonly PolicyResource[]): { accountId: string; partition: string; region: string }[] {
    const scopes = new Map<string, { accountId: string; partition: string; region: string }>();
    for (const key of resources.filter((r) => r.type === TYPES.kmsKey && !r.props.tags?.[TAGS.tenant])) {
        const region = typeof key.props.tags?.[TAGS.region] === "string" ? key.props.tags[TAGS.region] : "us-east-1";
        for (const statement of policyStatements(key.props.policy) ?? []) {
            for (const principal of [(statement.Principal as { AWS?: unknown } | undefined)?.AWS ?? []].flat()) {
                const account = typeof principal === "string" && principal.endsWith(":root") ? iamArnAccount(principal) : undefined;
                if (account) scopes.set(account.accountId, { ...account, region });
            }
        }
    }
    return [...scopes.values()];
}

export const tenantRolesBounded = stackPolicy({
    name: "tenant-roles-bounded",
    description: "Every IAM role created for a tenant carries a permissions boundary of this stack that denies it another tenant's secrets and file systems, the billing database and the cluster's keys in the platform's account.",
    rationale:
        "A tenant names its role's policy (or the role it chains to), so the policy cannot be trusted to leave the platform alone. " +
        "The platform's key policies delegate to this account's IAM, so any role here with kms:Decrypt in its policy could use the " +
        "cluster's keys; only an explicit Deny in a boundary, which also overrides resource policies, takes that away from every role at once.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Create tenant roles through the TenantWorkloadIdentity component, which attaches the tenant's boundary (policies/model/domain/tenant-identity.ts); do not edit the boundary's Deny statements.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6(10)", title: "Least Privilege: prohibit non-privileged users from executing privileged functions" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "1.16", title: "IAM policies that allow full administrative privileges are not attached" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Tenant identities confined to their own resources" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.3", title: "Access is authorized and modified by role" },
    ],
    validateStack: (args, report) => {
        const scopes = platformScopes(args.resources);
        for (const role of resourcesOfType(args, TYPES.iamRole)) {
            const tenant = role.props.tags?.[TAGS.tenant];
            if (typeof tenant !== "string") continue;
            // The boundary's ARN is unknown during a preview: the role depends on the policy it names.
            const bound = role.dependencies.find((d) => d.type === TYPES.iamPolicy);
            if (!bound) {
                const arn = role.props.permissionsBoundary;
                report(
                    typeof arn === "string" && arn !== ""
                        ? `role ${role.name} of tenant ${tenant} has the boundary ${arn}, which this stack does not create, so what it denies cannot be judged.`
                        : `role ${role.name} of tenant ${tenant} has no permissions boundary: its own policy alone decides what it may do in the platform's account.`,
                    role.urn,
                );
                continue;
            }
            for (const scope of scopes) {
                const missed = boundaryProbes(tenant, scope.accountId, scope.partition, scope.region).filter((p) => !denyingStatement(bound.props.policy, p.request));
                for (const probe of missed) report(`role ${role.name} of tenant ${tenant}: its boundary ${bound.name} does not deny ${probe.what} in account ${scope.accountId}.`, role.urn);
            }
        }
    },
    samples: {
        allowed: [{ description: "acme's role under the boundary the component writes.", resources: [clusterKey, boundary("acme"), tenantRole("acme")] }],
        disallowed: [
            { description: "A tenant role without a boundary.", expect: "role acme-role of tenant acme has no permissions boundary", resources: [clusterKey, tenantRole("acme", false)] },
            {
                description: "A boundary the stack does not make: what it denies cannot be read.",
                expect: "role acme-role of tenant acme has the boundary arn:aws:iam::111122223333:policy/hand-made, which this stack does not create, so what it denies cannot be judged",
                resources: [clusterKey, { ...tenantRole("acme", false), props: { ...tenantRole("acme", false).props, permissionsBoundary: "arn:aws:iam::111122223333:policy/hand-made" } }],
            },
            {
                description: "A boundary that denies only by tag: the cluster's key, the billing database and untagged requests stay open.",
                expect: "its boundary acme-boundary does not deny the cluster's key (kms:Decrypt)",
                resources: [
                    clusterKey,
                    boundary("acme", { ...tenantBoundaryDocument({ tenant: "acme", accountId: PLATFORM_ACCOUNT, partition: "aws" }), Statement: (tenantBoundaryDocument({ tenant: "acme", accountId: PLATFORM_ACCOUNT, partition: "aws" }).Statement as unknown[]).slice(0, 2) }),
                    tenantRole("acme"),
                ],
            },
        ],
    },
});
