import { changePolicy } from "../engine/change";
import { droppedTenants } from "../model/domain/billing";
import { billingSamples as b, sampleRegistry } from "../samples/billing";
import { registryOf } from "../model/evidence/billing-evidence";

const without = (tenant: string, state?: "active" | "suspended" | "decommissioned") => {
    const doc = sampleRegistry({ initechState: state });
    return { ...doc, tenants: doc.tenants.filter((t) => t.name !== tenant), pools: doc.pools.filter((p) => p.tenant !== tenant) };
};

export const billingHistoryKept = changePolicy({
    name: "billing-history-kept",
    description:
        "A tenant leaves the billing registry only after an up that decommissioned it, and the registry itself is never removed while it bills tenants: a tenant's billing history (its commitments, usage and invoices) is closed in order, never dropped.",
    rationale:
        "The registry Job ends a tenant's commitments when it is decommissioned, and keeps its rows when it later leaves the config. A tenant dropped " +
        "straight from active or suspended ends its commitments without the offboarding the contract and the tenant expect (its final month bills from " +
        "whenever the up runs), and a hosted-only tenant has no namespace for tenant-offboarded-in-order to catch. Removing the registry stops billing " +
        "every tenant at once.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set the tenant's compute-region:tenants[].state to decommissioned and deploy it; remove the tenant from the config in a later change. Keep compute-region:billing while the region sells anything.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "SOC 2 (2017 TSC)", control: "PI1.3", title: "Processing is complete, accurate and authorized" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-11", title: "Audit Record Retention" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            const before = c.old ? registryOf({ type: c.type, name: c.name, props: c.old.props })?.doc : undefined;
            if (!before) continue;
            const after = c.new ? registryOf({ type: c.type, name: c.name, props: c.new.props })?.doc : undefined;
            if (!after) {
                const billed = before.tenants.filter((t) => t.state !== "decommissioned").map((t) => t.name);
                if (billed.length > 0) report(`the billing registry would be removed while it bills tenants ${billed.join(", ")}: nothing would apply what they buy any more.`, c.urn);
                continue;
            }
            for (const t of droppedTenants(before, after)) {
                if (t.state !== "decommissioned") report(`tenant ${t.name} would leave the billing registry while ${t.state}: decommission it in an up first, then remove it.`, c.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "A decommissioned tenant leaves the registry.", old: [b.registry(sampleRegistry({ initechState: "decommissioned" }))], new: [b.registry(without("initech"))] },
            { description: "A tenant is decommissioned (it stays listed).", old: [b.registry(sampleRegistry())], new: [b.registry(sampleRegistry({ initechState: "decommissioned" }))] },
            { description: "A registry appears.", old: [], new: [b.registry(sampleRegistry())] },
        ],
        disallowed: [
            { description: "An active tenant dropped from the registry.", expect: "tenant initech would leave the billing registry while active: decommission it in an up first", old: [b.registry(sampleRegistry())], new: [b.registry(without("initech"))] },
            { description: "A suspended tenant dropped.", expect: "tenant initech would leave the billing registry while suspended", old: [b.registry(sampleRegistry({ initechState: "suspended" }))], new: [b.registry(without("initech"))] },
            { description: "The registry removed while it bills tenants.", expect: "the billing registry would be removed while it bills tenants acme, initech", old: [b.registry(sampleRegistry())], new: [] },
        ],
    },
});
