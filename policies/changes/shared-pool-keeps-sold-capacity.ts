import { changePolicy, resourcesAfter, resourcesBefore } from "../engine/change";
import { capacityFromResources, holdsSoldQuota } from "../model/evidence/capacity-evidence";
import { poolSamples as p } from "../samples/pools";

/** A shared pool of p5.48xlarge (8 GPUs a node) at 20% headroom, selling `sold` GPUs to acme. */
const pool = (nodes: number, sold: number) => [p.nodeGroup("shared-h100", "shared", "p5.48xlarge", nodes), p.flavor("shared-h100", 0.2), p.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: sold }, "acme")];

export const sharedPoolKeepsSoldCapacity = changePolicy({
    name: "shared-pool-keeps-sold-capacity",
    description: "A shared GPU pool never shrinks below the reserved quota its tenants held before the change.",
    rationale:
        "Reserved quota is capacity a customer bought. Shrinking a pool and cutting the tenants' quota to fit in the same change passes every " +
        "check of the new state (nothing is oversold afterwards) while taking away GPUs that were sold. The transition is what is wrong.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep the pool's minNodes (compute-region:gpuPools[].minNodes) high enough to sell what its tenants hold, or agree the lower quota with each tenant first and lower it in an earlier change.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-2(2)", title: "Contingency Plan: Capacity Planning" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
    ],
    validateChanges: (args, report) => {
        const before = new Map(capacityFromResources(resourcesBefore(args.changes)).map((c) => [c.pool, c]));
        for (const after of capacityFromResources(resourcesAfter(args.changes))) {
            const old = before.get(after.pool);
            if (!old || old.role !== "shared" || after.role !== "shared") continue;
            if (after.sellable < old.sold) {
                report(`pool ${after.pool} shrinks to ${after.sellable} sellable GPUs (${after.guaranteed} guaranteed), below the ${old.sold} its tenants held (${old.queues.filter((q) => holdsSoldQuota(q) && q.nominal > 0).map((q) => `${q.queue} ${q.nominal}`).join(", ")}).`);
            }
        }
    },
    samples: {
        allowed: [
            { description: "A shared pool grows.", old: pool(2, 12), new: pool(3, 12) },
            { description: "A shared pool shrinks and still sells what its tenants hold.", old: pool(2, 4), new: pool(1, 4) },
        ],
        disallowed: [
            {
                description: "A shared pool shrinks and its tenant's quota is cut to fit.",
                expect: "pool shared-h100 shrinks to 6 sellable GPUs (8 guaranteed), below the 12 its tenants held (acme-shared-h100 12)",
                old: pool(2, 12),
                new: pool(1, 6),
            },
        ],
    },
});
