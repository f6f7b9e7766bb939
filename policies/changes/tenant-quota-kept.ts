import { changePolicy, isModified } from "../engine/change";
import { GPU_RESOURCE, LABELS, QUEUE_KIND_LABEL } from "../model/domain/conventions";
import { queueQuotaOn } from "../model/evidence/capacity-evidence";
import { K8S_TYPES } from "../model/domain/types";
import { poolSamples as p } from "../samples/pools";

/** Reserved GPUs per flavor a ClusterQueue sets. */
function reserved(props: Record<string, any>): Map<string, number> {
    const out = new Map<string, number>();
    for (const group of [props.spec?.resourceGroups ?? []].flat()) {
        for (const flavor of [group?.flavors ?? []].flat()) {
            const quota = queueQuotaOn({ type: K8S_TYPES.clusterQueue, name: "", props }, flavor?.name);
            if (quota && !quota.invalid) out.set(flavor.name, quota.nominal);
        }
    }
    return out;
}

const tenantQueue = (nominal: number, extra: Record<string, unknown> = {}) => {
    const q = p.queue("acme-shared-h100", "shared-h100", "tenant", { nominal }, "acme");
    return { ...q, props: { ...q.props, spec: { ...(q.props.spec as object), ...extra } } };
};

export const tenantQuotaKept = changePolicy({
    name: "tenant-quota-kept",
    description: "A change that lowers an active tenant's reserved GPU quota is called out, so that the cut is agreed with the tenant.",
    rationale:
        "Reserved quota is what a tenant pays for. Lowering it can be right (a contract changed), but the tenant's running work beyond the new " +
        "quota is preempted by Kueue, so the reviewer should see it. Suspension sets quota to zero on purpose and is not a cut.",
    severity: "medium",
    enforcementLevel: "advisory",
    remediationSteps: "Confirm the new quota with the tenant (compute-region:tenants[].quota) before deploying; to stop a tenant, suspend it instead.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            if (c.type !== K8S_TYPES.clusterQueue || !isModified(c)) continue;
            const labels = c.new.props.metadata?.labels ?? {};
            if (labels[QUEUE_KIND_LABEL] !== "tenant" || c.new.props.spec?.stopPolicy === "Hold") continue;
            const before = reserved(c.old.props);
            for (const [pool, after] of reserved(c.new.props)) {
                const was = before.get(pool) ?? 0;
                if (after < was) report(`tenant ${labels[LABELS.tenant] ?? c.name}'s reserved quota on ${pool} drops from ${was} to ${after} ${GPU_RESOURCE} (ClusterQueue ${c.new.props.metadata?.name}).`, c.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "A tenant's quota is raised.", old: [tenantQueue(4)], new: [tenantQueue(8)] },
            { description: "A suspended tenant's queue holds and its quota goes to zero.", old: [tenantQueue(8)], new: [tenantQueue(0, { stopPolicy: "Hold" })] },
        ],
        disallowed: [{ description: "An active tenant's quota is halved.", expect: "tenant acme's reserved quota on shared-h100 drops from 8 to 4 nvidia.com/gpu", old: [tenantQueue(8)], new: [tenantQueue(4)] }],
    },
});
