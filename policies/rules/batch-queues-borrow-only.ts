import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { holdsSoldQuota, known, queueQuotaOn } from "../model/evidence/capacity-evidence";
import { stackCapacity } from "../model/evidence/per-stack";
import { EXPENDABLE_PODS_PRIORITY_CUTOFF, PRIORITY_TIER_LABEL, QUEUE_KIND_LABEL } from "../model/domain/conventions";
import { podTemplates, queueNameOf } from "../model/evidence/hosted-tiers-evidence";
import { K8S_TYPES } from "../model/domain/types";
import { batchSample } from "../samples/hosted-tiers";

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export const batchQueuesBorrowOnly = stackPolicy({
    name: "batch-queues-borrow-only",
    description:
        "Batch inference queues hold no GPUs of their own (they only borrow idle serving GPUs), never preempt, never borrow a tenant's reservation, and their workloads run at a priority below every tenant class and below the autoscaler's expendable cutoff.",
    rationale:
        "Batch inference is sold cheap because it fills serving GPUs that would sit idle: a batch queue with nominal quota would take capacity the headroom or " +
        "a tenant holds; a batch queue that preempts, or borrows from a dedicated endpoint's or tenant's queue, would slow paying traffic; and a batch Job at " +
        "a tenant's priority or above the Cluster Autoscaler's expendable cutoff would be preempted after a tenant's work or make the region buy nodes for it.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Let the BatchInference component make the batch ClusterQueues (label compute-region.io/queue-kind=batch): nominalQuota 0 on a serving pool's flavor, " +
        "preemption reclaimWithinCohort Never and borrowWithinCohort Never; give every reserved queue of that cohort lendingLimit 0; run batch workloads with the " +
        `batch-inference PriorityClass (below every ${PRIORITY_TIER_LABEL}=tenant class and below ${EXPENDABLE_PODS_PRIORITY_CUTOFF}).`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-FNS-2", title: "Block use of priority classes that preempt other tenants" },
    ],
    validateStack: (args, report) => {
        const queues = resourcesOfType(args, K8S_TYPES.clusterQueue);
        const batchQueues = queues.filter((q) => q.props.metadata?.labels?.[QUEUE_KIND_LABEL] === "batch");
        if (batchQueues.length === 0) return;
        const pools = stackCapacity(args.resources);
        const classes = resourcesOfType(args, K8S_TYPES.priorityClass);
        const tenantValues = classes.filter((c) => c.props.metadata?.labels?.[PRIORITY_TIER_LABEL] === "tenant").map((c) => Number(c.props.value));
        const below = Math.min(EXPENDABLE_PODS_PRIORITY_CUTOFF, ...tenantValues);
        const localQueues = resourcesOfType(args, K8S_TYPES.localQueue);
        for (const q of batchQueues) {
            const name = q.props.metadata?.name ?? q.name;
            // Nominal quota on any flavor is capacity held: a batch queue holds none.
            for (const group of list<any>(q.props.spec?.resourceGroups)) {
                for (const flavor of list<any>(group?.flavors)) {
                    const held = list<any>(flavor?.resources).filter((r) => Number(r?.nominalQuota ?? 0) !== 0);
                    for (const r of held) report(`batch queue ${name} holds nominalQuota ${r.nominalQuota} of ${r.name} on flavor ${flavor.name}: a batch queue holds nothing and only borrows idle GPUs.`, q.urn);
                }
            }
            const preemption = q.props.spec?.preemption ?? {};
            if ((preemption.reclaimWithinCohort ?? "Never") !== "Never") report(`batch queue ${name} reclaims within its cohort (reclaimWithinCohort ${preemption.reclaimWithinCohort}): batch never preempts other queues' workloads.`, q.urn);
            if ((preemption.borrowWithinCohort?.policy ?? "Never") !== "Never") report(`batch queue ${name} preempts to borrow (borrowWithinCohort ${preemption.borrowWithinCohort.policy}): batch never preempts other queues' workloads.`, q.urn);
            for (const pool of pools.filter((p) => queueQuotaOn(q, p.pool))) {
                if (pool.role !== "serving") report(`batch queue ${name} borrows on pool ${pool.pool}, which is ${pool.role}: batch inference runs only on serving pools' idle GPUs.`, q.urn);
                // A reservation is quota sold to a tenant (or a dedicated endpoint): it lends nothing to the cohort batch borrows from.
                for (const held of pool.queues.filter((x) => holdsSoldQuota(x) && x.kind !== "batch" && x.nominal > 0)) {
                    if (held.lendingLimit === undefined || held.lendingLimit > 0) {
                        report(`${held.queue} holds ${held.tenant ? `tenant ${held.tenant}'s` : "a"} reservation of ${held.nominal} GPUs on pool ${pool.pool} and may lend ${held.lendingLimit ?? "all of them"}: batch queue ${name} could borrow it (set its lendingLimit to 0).`);
                    }
                }
            }
            // What runs through the batch queue, and at what priority.
            const locals = localQueues.filter((l) => l.props.spec?.clusterQueue === name).map((l) => ({ namespace: l.props.metadata?.namespace ?? "default", name: l.props.metadata?.name }));
            for (const w of podTemplates(args.resources as unknown as PolicyResource[])) {
                if (!locals.some((l) => l.namespace === w.namespace && l.name === queueNameOf(w.labels))) continue;
                const className = known(() => w.spec.priorityClassName);
                const at = `${w.resource.props.metadata?.name ?? w.resource.name} (${w.namespace})`;
                const pc = classes.find((c) => c.props.metadata?.name === className);
                if (typeof className !== "string" || !pc) {
                    report(`batch workload ${at} runs at ${typeof className === "string" ? `PriorityClass ${className}, which is not in the stack` : "the default priority 0"}: batch runs below every tenant class (${below - 1} or lower).`, w.resource.urn);
                } else if (!(Number(pc.props.value) < below)) {
                    report(`batch workload ${at} runs at PriorityClass ${className} (${pc.props.value}): batch runs below every tenant class and the autoscaler's expendable cutoff (below ${below}).`, w.resource.urn);
                } else if (pc.props.preemptionPolicy !== "Never") {
                    report(`batch workload ${at} runs at PriorityClass ${className}, which may preempt (preemptionPolicy ${pc.props.preemptionPolicy ?? "PreemptLowerPriority (default)"}).`, w.resource.urn);
                }
            }
        }
    },
    samples: {
        allowed: [{ description: "A serving pool's batch queue: no quota, never preempting, borrowing what the internal queue lends; the dedicated endpoint's queue lends nothing; the ScaledJob runs at -100.", resources: batchSample() }],
        disallowed: [
            { description: "A batch queue holding quota.", expect: "batch queue batch-serving-l40s holds nominalQuota 2 of nvidia.com/gpu on flavor serving-l40s", resources: batchSample((p) => (p.batch.spec.resourceGroups[0].flavors[0].resources[0].nominalQuota = 2)) },
            { description: "A batch queue that reclaims within its cohort.", expect: "reclaims within its cohort (reclaimWithinCohort Any)", resources: batchSample((p) => (p.batch.spec.preemption.reclaimWithinCohort = "Any")) },
            { description: "A batch queue that preempts to borrow.", expect: "preempts to borrow (borrowWithinCohort LowerPriority)", resources: batchSample((p) => (p.batch.spec.preemption.borrowWithinCohort = { policy: "LowerPriority" })) },
            {
                description: "A dedicated endpoint's queue that lends its reservation.",
                expect: "initech-serving-l40s holds tenant initech's reservation of 1 GPUs on pool serving-l40s and may lend 1",
                resources: batchSample((p) => (p.dedicated.spec.resourceGroups[0].flavors[0].resources[0].lendingLimit = 1)),
            },
            { description: "Batch Jobs at a tenant's priority.", expect: "runs at PriorityClass tenant-spot (1000): batch runs below every tenant class", resources: batchSample((p) => (p.jobs.spec.jobTargetRef.template.spec.priorityClassName = "tenant-spot")) },
            { description: "Batch Jobs at the default priority.", expect: "runs at the default priority 0", resources: batchSample((p) => delete p.jobs.spec.jobTargetRef.template.spec.priorityClassName) },
            { description: "A batch class that may preempt.", expect: "which may preempt", resources: batchSample((p) => delete p.priority.preemptionPolicy) },
            {
                description: "A batch class between the expendable cutoff and the tenant classes: the autoscaler would add nodes for batch.",
                expect: "runs at PriorityClass batch-inference (0): batch runs below every tenant class and the autoscaler's expendable cutoff (below -10)",
                resources: batchSample((p) => (p.priority.value = 0)),
            },
            {
                description: "A batch queue on a shared pool.",
                expect: "borrows on pool serving-l40s, which is shared",
                resources: batchSample().map((r) => (r.name === "serving-l40s-nodes" ? { ...r, props: { ...r.props, labels: { "compute-region.io/pool": "serving-l40s", "compute-region.io/role": "shared" } } } : r)),
            },
        ],
    },
});
