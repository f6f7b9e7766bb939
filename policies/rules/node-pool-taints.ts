import { forType, resourcePolicy } from "../engine/policy";
import { LABELS, poolTaints, SYSTEM_TAINT } from "../model/domain/conventions";
import { POOL_ROLES, PoolRole } from "../model/domain/capacity";
import { TYPES } from "../model/domain/types";
import { poolSamples as s } from "../samples/pools";
import { sample } from "../samples/sample";

export const nodePoolTaints = resourcePolicy({
    name: "node-pool-taints",
    description: "Every node group declares its role, and system, internal, serving, shared and dedicated pools carry their NO_SCHEDULE taint (a dedicated pool's names its tenant).",
    rationale:
        "Taints are what keep tenant pods off internal, serving and other tenants' nodes, and everything but add-ons off the " +
        "system nodes. A pool without its taint is open to any pod the scheduler places there.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        `Label the node group ${LABELS.role}=<role> (and ${LABELS.tenant}=<tenant> for dedicated pools) and add the taint from ` +
        "poolTaints() in policies/model/domain/conventions.ts (the GpuNodeGroup component does both).",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-1", title: "Tenant workload isolation: dedicated nodes per tenant where required" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-2", title: "Separation of System and User Functionality" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access controls: segregation of workloads" },
    ],
    validateResource: forType(TYPES.eksNodeGroup, (ng, args, report) => {
        const labels = ng.labels ?? {};
        const role = labels[LABELS.role];
        const taints: any[] = [ng.taints ?? []].flat();
        const has = (key: string, value: string) => taints.some((t) => t?.key === key && t?.value === value && t?.effect === "NO_SCHEDULE");
        if (role === "system") {
            if (!has(SYSTEM_TAINT.key, SYSTEM_TAINT.value)) report(`node group ${args.name} is a system group without the ${SYSTEM_TAINT.key}=${SYSTEM_TAINT.value}:NO_SCHEDULE taint.`);
            return;
        }
        if (!POOL_ROLES.includes(role)) {
            report(`node group ${args.name} has no valid ${LABELS.role} label (got ${JSON.stringify(role)}; expected system or ${POOL_ROLES.join(", ")}).`);
            return;
        }
        const tenant = labels[LABELS.tenant];
        if (role === "dedicated" && typeof tenant !== "string") {
            report(`node group ${args.name} is dedicated but names no tenant (${LABELS.tenant} label).`);
            return;
        }
        for (const t of poolTaints(role as PoolRole, tenant)) {
            if (!has(t.key, t.value)) report(`node group ${args.name} (${role}${tenant ? ` for ${tenant}` : ""}) lacks the taint ${t.key}=${t.value}:NO_SCHEDULE.`);
        }
    }),
    samples: {
        allowed: [
            { description: "A tainted system group.", resources: [sample(TYPES.eksNodeGroup, "system", { labels: { [LABELS.role]: "system" }, taints: [SYSTEM_TAINT] })] },
            { description: "A dedicated pool tainted for its tenant.", resources: [s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme" })] },
            { description: "A serving pool with its role taint.", resources: [s.nodeGroup("serving-l40s", "serving", "g6e.12xlarge", 1)] },
        ],
        disallowed: [
            { description: "An internal pool without its taint.", expect: "node group internal-h100-nodes (internal) lacks the taint compute-region.io/pool-role=internal:NO_SCHEDULE", resources: [s.nodeGroup("internal-h100", "internal", "p5.48xlarge", 1, { taints: [] })] },
            {
                description: "A dedicated pool tainted for the wrong tenant.",
                expect: "(dedicated for acme) lacks the taint compute-region.io/tenant=acme:NO_SCHEDULE",
                resources: [s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme", taints: [{ key: "compute-region.io/tenant", value: "globex", effect: "NO_SCHEDULE" }] })],
            },
            {
                description: "A dedicated pool for no one.",
                expect: "node group orphan-h100-nodes is dedicated but names no tenant (compute-region.io/tenant label)",
                resources: [s.nodeGroup("orphan-h100", "dedicated", "p5.48xlarge", 1, { taints: [{ key: "compute-region.io/tenant", value: "acme", effect: "NO_SCHEDULE" }] })],
            },
            { description: "A node group with no role.", expect: "has no valid compute-region.io/role label", resources: [sample(TYPES.eksNodeGroup, "mystery", { labels: {} })] },
            { description: "An untainted system group.", expect: "is a system group without the CriticalAddonsOnly=true:NO_SCHEDULE taint", resources: [sample(TYPES.eksNodeGroup, "system", { labels: { [LABELS.role]: "system" } })] },
        ],
    },
});
