import { changePolicy, isGone } from "../engine/change";
import { K8S_TYPES } from "../model/domain/types";
import { LABELS, TENANT_STATE_ANNOTATION } from "../model/domain/conventions";
import { changeSamples as s } from "../samples/changes";

const stateOf = (props: Record<string, any> | undefined) => props?.metadata?.annotations?.[TENANT_STATE_ANNOTATION] ?? "active";

export const tenantOffboardedInOrder = changePolicy({
    name: "tenant-offboarded-in-order",
    description: "A tenant leaves through suspended, then decommissioned, then removal: its namespace is never deleted while it is active or suspended, and an active tenant is suspended before it is decommissioned.",
    rationale:
        "Deleting a tenant namespace deletes every pod, volume claim and secret the customer put there. Suspending first stops new work and " +
        "returns the capacity while the customer keeps access to its data; decommissioning then removes access; only a later change deletes " +
        "the namespace. A plan that skips a step takes a customer's workloads without warning.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set compute-region:tenants[].state to suspended and deploy; then to decommissioned and deploy; remove the tenant from config only in a later change.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-12", title: "Information Management and Retention" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            if (c.type !== K8S_TYPES.namespace || !c.old) continue;
            const tenant = c.old.props.metadata?.labels?.[LABELS.tenant];
            if (!tenant) continue;
            const before = stateOf(c.old.props);
            const name = c.old.props.metadata?.name;
            if (isGone(c) && before !== "decommissioned") {
                report(`namespace ${name} of ${before} tenant ${tenant} is ${c.op === "delete" ? "deleted" : "replaced (deleted and created again)"}; it must be decommissioned in an earlier update first.`, c.urn);
            } else if (c.new && before === "active" && stateOf(c.new.props) === "decommissioned") {
                report(`tenant ${tenant} goes from active to decommissioned without being suspended first.`, c.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "An active tenant is suspended.", old: [s.tenantNamespace("acme", "active")], new: [s.tenantNamespace("acme", "suspended")] },
            { description: "A suspended tenant is decommissioned.", old: [s.tenantNamespace("acme", "suspended")], new: [s.tenantNamespace("acme", "decommissioned")] },
            { description: "A decommissioned tenant is removed, deleting its namespace.", old: [s.tenantNamespace("acme", "decommissioned")], new: [] },
        ],
        disallowed: [
            { description: "An active tenant is removed from config.", expect: "namespace tenant-acme of active tenant acme is deleted", old: [s.tenantNamespace("acme", "active")], new: [] },
            { description: "A suspended tenant is removed before it is decommissioned.", expect: "namespace tenant-acme of suspended tenant acme is deleted", old: [s.tenantNamespace("acme", "suspended")], new: [] },
            { description: "An active tenant is decommissioned at once.", expect: "tenant acme goes from active to decommissioned without being suspended first", old: [s.tenantNamespace("acme", "active")], new: [s.tenantNamespace("acme", "decommissioned")] },
        ],
    },
});
