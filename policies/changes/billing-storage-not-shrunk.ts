import { changePolicy } from "../engine/change";
import { DATA_TYPES } from "../model/domain/types";
import { changeSamples as s } from "../samples/changes";

export const billingStorageNotShrunk = changePolicy({
    name: "billing-storage-not-shrunk",
    description: "The billing database's allocated storage (and its autoscaling ceiling) never goes below what it had.",
    rationale:
        "RDS cannot shrink a database's storage. With storage autoscaling the provider hides the decrease (nothing changes and the config " +
        "no longer describes the database); without it RDS rejects the modification in the middle of the deploy. A ceiling below the current " +
        "storage stops autoscaling from growing it when the billing data does.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep compute-region:billing.allocatedStorageGiB at least at its current value, and maxAllocatedStorageGiB above it. A smaller database means a new one restored from a dump.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            if (c.type !== DATA_TYPES.rdsInstance || !c.old || !c.new) continue;
            const was = Number(c.old.outputs.allocatedStorage ?? c.old.props.allocatedStorage);
            const storage = Number(c.new.props.allocatedStorage);
            const ceiling = c.new.props.maxAllocatedStorage === undefined ? undefined : Number(c.new.props.maxAllocatedStorage);
            const name = c.new.props.identifier ?? c.name;
            if (storage < was) report(`database ${name}: allocated storage would shrink from ${was} to ${storage} GiB.`, c.urn);
            if (ceiling !== undefined && ceiling > 0 && ceiling < was) report(`database ${name}: the autoscaling ceiling of ${ceiling} GiB is below its ${was} GiB of storage.`, c.urn);
        }
    },
    samples: {
        allowed: [
            { description: "Storage grows from 100 to 200 GiB.", old: [s.billingDatabase(100)], new: [s.billingDatabase(200)] },
            { description: "The autoscaling ceiling rises.", old: [s.billingDatabase(100, 500)], new: [s.billingDatabase(100, 1000)] },
        ],
        disallowed: [
            { description: "Storage set back from 100 to 50 GiB.", expect: "database gpu-dev-use2-billing: allocated storage would shrink from 100 to 50 GiB", old: [s.billingDatabase(100)], new: [s.billingDatabase(50)] },
            { description: "The ceiling set below the storage.", expect: "database gpu-dev-use2-billing: the autoscaling ceiling of 80 GiB is below its 100 GiB of storage", old: [s.billingDatabase(100, 500)], new: [s.billingDatabase(100, 80)] },
        ],
    },
});
