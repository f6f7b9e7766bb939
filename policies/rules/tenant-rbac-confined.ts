import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { ISOLATION_RESOURCES, tenantOfGroup } from "../model/domain/conventions";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { asList } from "../model/domain/values";
import { sample } from "../samples/sample";

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "*", "escalate", "bind"];

function tenantSubjects(binding: PolicyResource): string[] {
    return [binding.props.subjects ?? []].flat().filter((s: any) => s?.kind === "Group" && tenantOfGroup(String(s.name)) !== undefined).map((s: any) => s.name);
}

/** The isolation objects a rule may write. */
function writableIsolation(rule: any): string[] {
    const verbs: readonly string[] = asList(rule?.verbs);
    if (!verbs.some((v) => WRITE_VERBS.includes(v))) return [];
    const groups: readonly string[] = asList(rule?.apiGroups);
    const resources: readonly string[] = asList(rule?.resources);
    return ISOLATION_RESOURCES.filter((iso) => (groups.includes("*") || groups.includes(iso.apiGroup)) && (resources.includes("*") || resources.includes(iso.resource))).map((iso) => iso.resource);
}

const ROLE = K8S_TYPES.role;
const ROLE_BINDING = K8S_TYPES.roleBinding;
const CLUSTER_ROLE_BINDING = K8S_TYPES.clusterRoleBinding;

const role = (rules: unknown[]) => sample(ROLE, "member", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "tenant-member", namespace: "tenant-acme" }, rules });
const binding = (roleRef: Record<string, string>) =>
    sample(ROLE_BINDING, "member-binding", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "tenant-member", namespace: "tenant-acme" }, roleRef, subjects: [{ kind: "Group", name: "tenant:acme:members", apiGroup: "rbac.authorization.k8s.io" }] }, { dependsOn: roleRef.kind === "Role" ? ["member"] : [] });
const goodRules = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "delete"] }, { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] }];
const entry = sample(TYPES.eksAccessEntry, "acme-member", { clusterName: "prod", principalArn: "arn:aws:iam::111122223333:role/Acme", kubernetesGroups: ["tenant:acme:members"], type: "STANDARD" });

export const tenantRbacConfined = stackPolicy({
    name: "tenant-rbac-confined",
    description: "Tenant groups get namespaced Roles that cannot write NetworkPolicies, quotas, LimitRanges, queues or RBAC; no cluster-scoped grant; and tenant access entries carry no EKS access policy.",
    rationale:
        "NetworkPolicies add up, so a tenant able to create one could widen its own egress; one able to edit quotas or queues " +
        "could take capacity it did not buy. EKS access policies add to RBAC, and the namespaced edit/admin ones grant " +
        "NetworkPolicy writes.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Bind tenant groups only to the Tenant component's tenant-member Role; map member roles with access entries (kubernetesGroups) and no AccessPolicyAssociation.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-CR-1", title: "Block access to cluster resources" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-OPS-1", title: "Block modification of resource quotas and network policies" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "4.1.x", title: "RBAC: least privilege for users" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" },
    ],
    validateStack: (args, report) => {
        const roles = new Map(resourcesOfType(args, ROLE).map((r) => [`${r.props.metadata?.namespace}/${r.props.metadata?.name}`, r]));
        for (const b of resourcesOfType(args, ROLE_BINDING)) {
            const groups = tenantSubjects(b);
            if (groups.length === 0) continue;
            const ref = b.props.roleRef ?? {};
            const where = `${b.props.metadata?.namespace}/${b.props.metadata?.name}`;
            if (ref.kind !== "Role") {
                report(`RoleBinding ${where} gives ${groups.join(", ")} the ClusterRole ${ref.name}, which tenants must not get.`, b.urn);
                continue;
            }
            const target = roles.get(`${b.props.metadata?.namespace}/${ref.name}`);
            if (!target) {
                report(`RoleBinding ${where} gives ${groups.join(", ")} the Role ${ref.name}, which this stack does not define, so its rights cannot be checked.`, b.urn);
                continue;
            }
            const writable = [...new Set([target.props.rules ?? []].flat().flatMap(writableIsolation))];
            if (writable.length > 0) report(`Role ${where.split("/")[0]}/${ref.name} bound to ${groups.join(", ")} can write ${writable.join(", ")}.`, target.urn);
        }
        for (const b of resourcesOfType(args, CLUSTER_ROLE_BINDING)) {
            const groups = tenantSubjects(b);
            if (groups.length > 0) report(`ClusterRoleBinding ${b.props.metadata?.name} grants ${groups.join(", ")} cluster-wide rights.`, b.urn);
        }
        const tenantEntries = resourcesOfType(args, TYPES.eksAccessEntry).filter((e) => [e.props.kubernetesGroups ?? []].flat().some((g: string) => tenantOfGroup(g) !== undefined));
        for (const assoc of resourcesOfType(args, TYPES.eksAccessPolicyAssociation)) {
            const entryOf = tenantEntries.find((e) => assoc.dependencies.includes(e) || (typeof assoc.props.principalArn === "string" && assoc.props.principalArn === e.props.principalArn));
            if (entryOf) report(`access entry ${entryOf.name} of a tenant has the access policy ${String(assoc.props.policyArn).split("/").pop()}: access policies add to RBAC.`, assoc.urn);
        }
    },
    samples: {
        allowed: [{ description: "The Tenant component's Role, binding and access entry.", resources: [role(goodRules), binding({ kind: "Role", name: "tenant-member", apiGroup: "rbac.authorization.k8s.io" }), entry] }],
        disallowed: [
            { description: "A member Role that can create NetworkPolicies.", expect: "Role tenant-acme/tenant-member bound to tenant:acme:members can write networkpolicies", resources: [role([...goodRules, { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create"] }]), binding({ kind: "Role", name: "tenant-member", apiGroup: "rbac.authorization.k8s.io" })] },
            { description: "A wildcard Role.", expect: "can write networkpolicies, resourcequotas, limitranges, localqueues, clusterqueues, roles, rolebindings", resources: [role([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), binding({ kind: "Role", name: "tenant-member", apiGroup: "rbac.authorization.k8s.io" })] },
            {
                description: "A binding to a Role nothing in the stack defines (made by hand in the cluster).",
                expect: "RoleBinding tenant-acme/tenant-member gives tenant:acme:members the Role hand-made, which this stack does not define, so its rights cannot be checked",
                resources: [{ ...binding({ kind: "Role", name: "hand-made", apiGroup: "rbac.authorization.k8s.io" }), dependsOn: [] }],
            },
            { description: "A tenant bound to the built-in edit ClusterRole.", expect: "gives tenant:acme:members the ClusterRole edit", resources: [binding({ kind: "ClusterRole", name: "edit", apiGroup: "rbac.authorization.k8s.io" })] },
            {
                description: "A cluster-wide grant.",
                expect: "ClusterRoleBinding tenant-view grants tenant:acme:members cluster-wide rights",
                resources: [sample(CLUSTER_ROLE_BINDING, "crb", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "tenant-view" }, roleRef: { kind: "ClusterRole", name: "view" }, subjects: [{ kind: "Group", name: "tenant:acme:members" }] })],
            },
            {
                description: "An access policy on a tenant's access entry.",
                expect: "access entry acme-member of a tenant has the access policy AmazonEKSEditPolicy",
                resources: [entry, sample(TYPES.eksAccessPolicyAssociation, "acme-edit", { clusterName: "prod", principalArn: "arn:aws:iam::111122223333:role/Acme", policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", accessScope: { type: "namespace", namespaces: ["tenant-acme"] } }, { dependsOn: ["acme-member"] })],
            },
        ],
    },
});
