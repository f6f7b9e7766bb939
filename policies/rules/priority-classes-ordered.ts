import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { PRIORITY_TIER_LABEL } from "../model/domain/conventions";
import { K8S_TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

/** The cap for user-defined PriorityClasses: higher values are reserved for system classes. */
const USER_PRIORITY_CAP = 1_000_000_000;

const pc = (name: string, value: number, tier: string | undefined, extra: Record<string, unknown> = {}) =>
    sample(K8S_TYPES.priorityClass, name, { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name, ...(tier ? { labels: { [PRIORITY_TIER_LABEL]: tier } } : {}) }, value, ...extra });
const good = [pc("internal-critical", 1_000_000, "internal"), pc("serving", 900_000, "serving"), pc("tenant-reserved", 10_000, "tenant", { preemptionPolicy: "Never" }), pc("tenant-spot", 1_000, "tenant", { preemptionPolicy: "Never" })];

function describe(r: PolicyResource): string {
    return `${r.props.metadata?.name ?? r.name} (${r.props.value})`;
}

export const priorityClassesOrdered = stackPolicy({
    name: "priority-classes-ordered",
    description: "Every tenant PriorityClass ranks below every internal and serving one, never preempts, is not the default, and all stay at or under 1,000,000,000.",
    rationale:
        "Internal workloads keep priority only if no tenant pod can outrank or preempt them. A PriorityClass without the " +
        "internal or serving tier label is usable by tenants, so it is judged as a tenant class.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        `Give tenant classes values below the lowest internal one and preemptionPolicy: Never; keep globalDefault false; label the ` +
        `region's own classes ${PRIORITY_TIER_LABEL}=internal|serving; keep values at or below ${USER_PRIORITY_CAP}.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-FNS-2", title: "Block use of priority classes that preempt other tenants" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateStack: (args, report) => {
        const classes = resourcesOfType(args, K8S_TYPES.priorityClass);
        const tierOf = (r: PolicyResource) => r.props.metadata?.labels?.[PRIORITY_TIER_LABEL];
        const privileged = classes.filter((r) => tierOf(r) === "internal" || tierOf(r) === "serving");
        const tenant = classes.filter((r) => !privileged.includes(r));
        for (const r of classes) {
            if (typeof r.props.value !== "number" || r.props.value > USER_PRIORITY_CAP) report(`PriorityClass ${describe(r)} is above the ${USER_PRIORITY_CAP} cap for user-defined classes.`, r.urn);
        }
        const lowestInternal = Math.min(...privileged.map((r) => Number(r.props.value)));
        for (const r of tenant) {
            if (Number(r.props.value) >= lowestInternal) {
                const below = privileged.filter((p) => Number(p.props.value) <= Number(r.props.value)).map(describe);
                report(`tenant PriorityClass ${describe(r)} is not below internal ${below.join(", ")}.`, r.urn);
            }
            if (r.props.preemptionPolicy !== "Never") report(`tenant PriorityClass ${describe(r)} may preempt (preemptionPolicy ${r.props.preemptionPolicy ?? "PreemptLowerPriority (default)"}); it must be Never.`, r.urn);
            if (r.props.globalDefault === true) report(`tenant PriorityClass ${describe(r)} is the cluster's global default.`, r.urn);
        }
    },
    samples: {
        allowed: [{ description: "The region's classes: internal and serving above tenant classes that never preempt.", resources: good }],
        disallowed: [
            { description: "A tenant class above an internal one.", expect: "tenant PriorityClass tenant-reserved (950000) is not below internal serving (900000)", resources: [good[0], good[1], pc("tenant-reserved", 950_000, "tenant", { preemptionPolicy: "Never" })] },
            { description: "A tenant class that preempts.", expect: "tenant PriorityClass tenant-spot (1000) may preempt", resources: [good[0], pc("tenant-spot", 1_000, "tenant")] },
            { description: "An unlabelled class counts as a tenant's.", expect: "tenant PriorityClass vip (2000000) is not below internal internal-critical (1000000)", resources: [good[0], pc("vip", 2_000_000, undefined, { preemptionPolicy: "Never" })] },
            { description: "A class above the user cap.", expect: "is above the 1000000000 cap", resources: [pc("internal-critical", 1_500_000_000, "internal")] },
            { description: "A tenant class as the global default.", expect: "is the cluster's global default", resources: [good[0], pc("tenant-reserved", 10_000, "tenant", { preemptionPolicy: "Never", globalDefault: true })] },
        ],
    },
});
