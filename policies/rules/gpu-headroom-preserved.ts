import { configWithDefaults, resourcesOfType, stackPolicy } from "../engine/policy";
import { holdsSoldQuota, recomputeCapacity, sharedModelGpus } from "../model/evidence/capacity-evidence";
import { stackCapacity } from "../model/evidence/per-stack";
import { DEFAULT_HEADROOM, headroomFloorProblem, MIN_HEADROOM, percent } from "../model/domain/capacity";
import { K8S_TYPES } from "../model/domain/types";
import { batchSample } from "../samples/hosted-tiers";
import { poolSamples as s } from "../samples/pools";
import { modelDeployment } from "../samples/serving";

/** A shared pool of two p5.48xlarge: 16 GPUs, 20% headroom keeps 4, 12 sellable. */
const sharedPool = [s.nodeGroup("shared-h100", "shared", "p5.48xlarge", 2), s.flavor("shared-h100", 0.2)];

export const gpuHeadroomPreserved = stackPolicy({
    name: "gpu-headroom-preserved",
    description: "No GPU pool sells more reserved quota than its sellable GPUs; the internal headroom is never sold or lent; a serving pool sells as dedicated endpoints only what its shared models do not keep.",
    rationale:
        "The company's own workloads must always find their reserved headroom. Reserved tenant quota (ClusterQueue nominal " +
        "quota on a pool's flavor) beyond floor(guaranteed x (1 - headroom)) would eat it, and an internal queue that lends " +
        "its headroom would hand it to spot tenants. Decided from the queues and node groups themselves, so a hand-made " +
        "queue cannot slip past.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Lower the tenants' reserved quota on the pool (compute-region:tenants[].quota), raise the pool's minNodes, or lower its " +
        "headroom (not below the policy's). Internal pools sell nothing; a serving pool sells dedicated endpoints only beyond its headroom (what the shared " +
        "models keep at their minimum replicas, compute-region:gpuPools[].headroom); a dedicated pool sells only to its tenant. Internal ClusterQueues must " +
        "set lendingLimit to at most nominalQuota minus the headroom, except a serving pool's, which may lend its idle GPUs to batch inference if it " +
        "reclaims them from any borrower (reclaimWithinCohort Any).",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-2(2)", title: "Contingency Plan: Capacity Planning" },
    ],
    configSchema: {
        properties: {
            headroom: {
                type: "number",
                minimum: MIN_HEADROOM,
                maximum: 1,
                default: MIN_HEADROOM,
                description: `The floor: the least fraction of a shared pool's guaranteed GPUs kept for internal work; a pool that declares more keeps more. Defaults to ${MIN_HEADROOM}, the floor stack config enforces; raise it to hold every stack to more.`,
            },
        },
    },
    validateStack: (args, report) => {
        const { headroom: policyFloor } = configWithDefaults({ headroom: MIN_HEADROOM }, args);
        const floor = Math.max(MIN_HEADROOM, policyFloor);
        for (const evidence of stackCapacity(args.resources)) {
            for (const problem of evidence.problems) report(`pool ${evidence.pool}: ${problem}`);
            // A flavor that declares no headroom keeps what config gives a pool that says nothing.
            const declared = evidence.declaredHeadroom ?? DEFAULT_HEADROOM;
            const belowFloor = evidence.role === "shared" ? headroomFloorProblem(declared, floor) : undefined;
            if (belowFloor) report(`pool ${evidence.pool}: ${belowFloor}`);
            const headroom = evidence.role === "shared" ? Math.max(floor, declared) : evidence.role === "serving" ? evidence.declaredHeadroom : undefined;
            const pool = recomputeCapacity(evidence, headroom, evidence.sold);
            const tenantQueues = evidence.queues.filter(holdsSoldQuota);
            const figures = `${pool.guaranteed} guaranteed, headroom ${percent(pool.headroom)} keeps ${pool.headroomGpus}`;
            if (pool.role === "internal") {
                if (pool.sold > 0) report(`pool ${pool.pool} is internal: queues ${tenantQueues.map((q) => q.queue).join(", ")} hold ${pool.sold} reserved GPUs, but an internal pool sells none (${pool.guaranteed} guaranteed)`);
            } else if (pool.role === "serving") {
                // A serving pool sells only what its shared models do not keep, as dedicated endpoints.
                const kept = `${pool.guaranteed} guaranteed, the shared models keep ${pool.headroomGpus} (headroom ${percent(pool.headroom)})`;
                if (pool.sold > pool.sellable) report(`pool ${pool.pool} is oversold: queues ${tenantQueues.filter((q) => q.nominal > 0).map((q) => q.queue).join(", ")} hold ${pool.sold} GPUs, but only ${pool.sellable} are sellable as dedicated endpoints (${kept})`);
                // It reads Deployments only: handed those, not every resource, once per pool.
                const shared = sharedModelGpus(resourcesOfType(args, K8S_TYPES.deployment), pool.pool);
                if (shared.gpus > pool.headroomGpus) report(`pool ${pool.pool}: the shared models ${shared.models.join(", ")} hold ${shared.gpus} GPUs at their minimum replicas, more than the ${pool.headroomGpus} the pool keeps for them (${kept})`);
            } else if (pool.role === "dedicated") {
                const foreign = tenantQueues.filter((q) => q.tenant !== evidence.tenant);
                if (foreign.length > 0) report(`pool ${pool.pool} is dedicated to ${evidence.tenant}, but queues ${foreign.map((q) => `${q.queue} (tenant ${q.tenant ?? "none"})`).join(", ")} hold quota on it`);
                if (pool.sold > pool.guaranteed) report(`pool ${pool.pool} is oversold: ${pool.sold} reserved GPUs, but only ${pool.guaranteed} are guaranteed`);
            } else if (pool.sold > pool.sellable) {
                report(`pool ${pool.pool} is oversold: tenants hold ${pool.sold} reserved GPUs, but only ${pool.sellable} are sellable (${figures})`);
            }
            // Burst quota stands for nodes the autoscaler adds (gpu-autoscaling-matches-capacity judges it): never a promise.
            const promised = evidence.queues.filter((q) => q.kind !== "burst").reduce((sum, q) => sum + q.nominal, 0);
            if (promised > pool.guaranteed) report(`pool ${pool.pool}: its queues promise ${promised} GPUs of nominal quota, more than the ${pool.guaranteed} guaranteed`);
            for (const q of evidence.queues.filter((x) => x.kind === "internal")) {
                // A serving pool lends its idle GPUs (to batch inference) only if it takes them back from any borrower.
                if (pool.role === "serving" && q.reclaimWithinCohort === "Any" && q.lendingLimit !== undefined && q.lendingLimit <= q.nominal) continue;
                const lendable = Math.max(0, q.nominal - pool.headroomGpus);
                if (q.lendingLimit === undefined) report(`pool ${pool.pool}: internal queue ${q.queue} sets no lendingLimit, so all ${q.nominal} GPUs could be lent, including the headroom of ${pool.headroomGpus}`);
                else if (q.lendingLimit > lendable) report(`pool ${pool.pool}: internal queue ${q.queue} may lend ${q.lendingLimit} GPUs, but only ${lendable} are above the headroom of ${pool.headroomGpus}`);
            }
        }
    },
    samples: {
        allowed: [
            {
                description: "A shared pool at the floor config accepts (5% of 16 GPUs keeps 1) passes with no policy config: one floor for both.",
                resources: [s.nodeGroup("shared-h100", "shared", "p5.48xlarge", 2), s.flavor("shared-h100", 0.05), s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 1, lendingLimit: 0 }), s.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: 15 }, "acme")],
            },
            {
                description: "A shared pool selling exactly its 12 sellable GPUs; the internal queue lends nothing of its 4 GPUs of headroom.",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 4, lendingLimit: 0 }), s.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: 8 }, "acme"), s.queue("globex-shared-h100", "shared-h100", "tenant", { nominal: 4 }, "globex")],
            },
            {
                description: "Spot quota (borrowing only) is not sold capacity.",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 16, lendingLimit: 12 }), s.queue("acme-spot", "shared-h100", "tenant", { nominal: 0, borrowingLimit: 12 }, "acme")],
            },
            {
                description: "A serving pool of 8 GPUs whose shared models keep half: a dedicated endpoint holds 1 of the 4 sellable; the internal queue lends its idle GPUs to batch and reclaims them from anyone.",
                resources: [...batchSample(), modelDeployment((pod) => (pod.containers[0].resources.limits["nvidia.com/gpu"] = "2"))],
            },
            {
                description: "A dedicated pool sold whole to its tenant.",
                resources: [s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme" }), s.flavor("acme-h100"), s.queue("acme-acme-h100", "acme-h100", "tenant", { nominal: 8 }, "acme")],
            },
        ],
        disallowed: [
            {
                description: "A shared pool oversold by one GPU.",
                expect: "pool shared-h100 is oversold: tenants hold 13 reserved GPUs, but only 12 are sellable (16 guaranteed, headroom 20% keeps 4)",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 3, lendingLimit: 0 }), s.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: 13 }, "acme")],
            },
            {
                description: "A hand-made queue without labels counts as sold.",
                expect: "pool shared-h100 is oversold: tenants hold 13 reserved GPUs",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 3, lendingLimit: 0 }), s.queue("sneaky", "shared-h100", undefined, { nominal: "13" })],
            },
            {
                description: "A stack's policy config raises the floor above what the pool declares: the pool is named with the floor, in the words config uses.",
                config: { headroom: 0.3 },
                expect: "pool shared-h100: headroom 20% is below the floor of 30%: at least that share of a shared pool's guaranteed GPUs is never sold",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 6, lendingLimit: 0 }), s.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: 10 }, "acme")],
            },
            {
                description: "A stack's policy config asks for more headroom than the pool declares.",
                config: { headroom: 0.5 },
                expect: "only 8 are sellable (16 guaranteed, headroom 50% keeps 8)",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 4, lendingLimit: 0 }), s.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: 12 }, "acme")],
            },
            {
                description: "An internal queue that may lend its headroom.",
                expect: "internal queue internal-shared-h100 may lend 16 GPUs, but only 12 are above the headroom of 4",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 16, lendingLimit: 16 })],
            },
            {
                description: "Dedicated endpoints beyond what the serving pool's shared models leave.",
                expect: "pool serving-l40s is oversold: queues initech-serving-l40s hold 5 GPUs, but only 4 are sellable as dedicated endpoints (8 guaranteed, the shared models keep 4 (headroom 50%))",
                resources: batchSample((p) => (p.dedicated.spec.resourceGroups[0].flavors[0].resources[0].nominalQuota = 5)),
            },
            {
                description: "Shared models that need more than the serving pool keeps for them.",
                expect: "pool serving-l40s: the shared models model-llama hold 6 GPUs at their minimum replicas, more than the 4 the pool keeps for them",
                resources: [
                    ...batchSample(),
                    { ...modelDeployment((pod) => (pod.containers[0].resources.limits["nvidia.com/gpu"] = "2")), props: { ...modelDeployment().props, spec: { ...(modelDeployment().props.spec as object), replicas: 3, template: { metadata: { labels: { app: "model-llama" } }, spec: { containers: [{ name: "server", resources: { limits: { "nvidia.com/gpu": "2" } } }] } } } } },
                ],
            },
            {
                description: "A serving pool's internal queue lending its headroom without taking it back from borrowers.",
                expect: "internal queue internal-serving-l40s may lend 7 GPUs, but only 3 are above the headroom of 4",
                resources: batchSample((p) => (p.internal.spec.preemption.reclaimWithinCohort = "LowerPriority")),
            },
            {
                description: "Tenant quota on an internal pool.",
                expect: "pool internal-h100 is internal: queues acme-internal hold 8 reserved GPUs, but an internal pool sells none",
                resources: [s.nodeGroup("internal-h100", "internal", "p5.48xlarge", 1), s.flavor("internal-h100"), s.queue("acme-internal", "internal-h100", "tenant", { nominal: 8 }, "acme")],
            },
            {
                description: "A dedicated pool sold beyond its nodes.",
                expect: "pool acme-h100 is oversold: 9 reserved GPUs, but only 8 are guaranteed",
                resources: [s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme" }), s.flavor("acme-h100"), s.queue("acme-acme-h100", "acme-h100", "tenant", { nominal: 9 }, "acme")],
            },
            {
                description: "An internal pool's queue promising more than its nodes have.",
                expect: "pool internal-h100: its queues promise 12 GPUs of nominal quota, more than the 8 guaranteed",
                resources: [s.nodeGroup("internal-h100", "internal", "p5.48xlarge", 1), s.flavor("internal-h100"), s.queue("internal-internal-h100", "internal-h100", "internal", { nominal: 12, lendingLimit: 0 })],
            },
            {
                description: "An internal queue with no lendingLimit: Kueue may lend all of it, headroom included.",
                expect: "pool shared-h100: internal queue internal-shared-h100 sets no lendingLimit, so all 4 GPUs could be lent, including the headroom of 4",
                resources: [...sharedPool, s.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 4 })],
            },
            {
                description: "Another tenant's quota on a dedicated pool.",
                expect: "pool acme-h100 is dedicated to acme, but queues globex-acme-h100 (tenant globex) hold quota on it",
                resources: [s.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme" }), s.flavor("acme-h100"), s.queue("globex-acme-h100", "acme-h100", "tenant", { nominal: 1 }, "globex")],
            },
        ],
    },
});
