import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { PLATFORM_ADMIN_GROUP, TAGS, TENANT_NAMESPACE_PREFIX } from "../model/domain/conventions";
import { iamArnAccount } from "../model/domain/tenant-identity";
import { sample } from "../samples/sample";
import { TYPES } from "../model/domain/types";
import { association, deployerEntry, platformRole, tenantRole, PLATFORM_ACCOUNT } from "../samples/tenant-resources";

/** The accounts of the platform's own principals (the admin and deployer access entries). */
export function platformAccounts(resources: readonly PolicyResource[]): Set<string> {
    const entries = resources.filter((r) => r.type === TYPES.eksAccessEntry && [r.props.kubernetesGroups ?? []].flat().includes(PLATFORM_ADMIN_GROUP));
    return new Set(entries.map((e) => iamArnAccount(e.props.principalArn)?.accountId).filter((a): a is string => !!a));
}

const roleTenant = (role: PolicyResource | undefined): string | undefined => (typeof role?.props.tags?.[TAGS.tenant] === "string" ? role.props.tags[TAGS.tenant] : undefined);

export const tenantPodIdentityConfined = stackPolicy({
    name: "tenant-pod-identity-confined",
    description: "A tenant's role is associated (EKS Pod Identity) with its own namespace only, a tenant namespace gets only its own tenant's roles, and no tenant association chains to a role in the platform's account.",
    rationale:
        "A Pod Identity association hands a role's credentials to every pod of one service account. A tenant role associated with " +
        "another namespace gives that tenant's pods the first tenant's AWS access; a platform role associated with a tenant namespace " +
        "(the EBS driver's, the load balancer controller's) gives a customer the platform's; a target role in the platform's account " +
        "would escape the tenant's boundary, which binds only the role it is attached to.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Associate tenant namespaces only through the TenantWorkloadIdentity component, which creates the tenant's own role; name target roles in the tenant's own account (tenants[].workloadIdentity.targetRoleArn).",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Tenant identities confined to their own resources" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "5.2.x", title: "Identity and access management for workloads" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.3", title: "Access is authorized and modified by role" },
    ],
    validateStack: (args, report) => {
        const platform = platformAccounts(args.resources);
        for (const assoc of resourcesOfType(args, TYPES.eksPodIdentityAssociation)) {
            const namespace = typeof assoc.props.namespace === "string" ? assoc.props.namespace : undefined;
            const nsTenant = namespace?.startsWith(TENANT_NAMESPACE_PREFIX) ? namespace.slice(TENANT_NAMESPACE_PREFIX.length) : undefined;
            // The role's ARN is unknown during a preview: the association depends on the role it names.
            const role = assoc.dependencies.find((d) => d.type === TYPES.iamRole);
            const owner = roleTenant(role);
            if (owner && owner !== nsTenant) report(`association ${assoc.name} gives namespace ${namespace} tenant ${owner}'s role ${role!.name}: a tenant's role serves its own namespace only.`, assoc.urn);
            if (!nsTenant) continue;
            if (!role) report(`association ${assoc.name} gives namespace ${namespace} a role this stack does not create for tenant ${nsTenant}.`, assoc.urn);
            else if (!owner) report(`association ${assoc.name} gives namespace ${namespace} the platform role ${role.name} (not tagged ${TAGS.tenant}=${nsTenant}).`, assoc.urn);
            const target = assoc.props.targetRoleArn;
            const targetAccount = iamArnAccount(target)?.accountId;
            if (targetAccount && platform.has(targetAccount)) report(`association ${assoc.name} of namespace ${namespace} chains to ${target}, a role in the platform's account ${targetAccount}: a tenant's target role lives in its own account.`, assoc.urn);
        }
    },
    samples: {
        allowed: [{ description: "acme's role, associated with acme's namespace, chained to a role in acme's own account.", resources: [deployerEntry, tenantRole("acme", false), association("acme-workload", "tenant-acme", "acme-role", "arn:aws:iam::444455556666:role/workloads")] }],
        disallowed: [
            { description: "acme's role associated with globex's namespace.", expect: "association globex-workload gives namespace tenant-globex tenant acme's role acme-role", resources: [tenantRole("acme", false), association("globex-workload", "tenant-globex", "acme-role")] },
            {
                description: "A tenant association whose role this stack does not make (a hand-made role): nothing here says whose it is.",
                expect: "association acme-workload gives namespace tenant-acme a role this stack does not create for tenant acme",
                resources: [sample(TYPES.eksPodIdentityAssociation, "acme-workload", { clusterName: "prod", namespace: "tenant-acme", serviceAccount: "workload", roleArn: "arn:aws:iam::111122223333:role/hand-made" })],
            },
            { description: "A platform role (the EBS CSI driver's) associated with a tenant namespace.", expect: "association acme-workload gives namespace tenant-acme the platform role ebs-csi", resources: [platformRole, association("acme-workload", "tenant-acme", "ebs-csi")] },
            {
                description: "A tenant association chained to a role in the platform's account.",
                expect: `chains to arn:aws:iam::${PLATFORM_ACCOUNT}:role/PlatformAdmin, a role in the platform's account ${PLATFORM_ACCOUNT}`,
                resources: [deployerEntry, tenantRole("acme", false), association("acme-workload", "tenant-acme", "acme-role", `arn:aws:iam::${PLATFORM_ACCOUNT}:role/PlatformAdmin`)],
            },
        ],
    },
});
