import { resourcesOfType, stackPolicy } from "../engine/policy";
import { queueQuotaOn } from "../model/evidence/capacity-evidence";
import { LABELS, QUEUE_KIND_LABEL, SHARD_LABEL } from "../model/domain/conventions";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { poolSamples } from "../samples/pools";
import { sample } from "../samples/sample";

const REF = TYPES.stackReference;

function shardQueue(tenant: string, shard: string, pool: string, gpus: number) {
    const q = poolSamples.queue(`${tenant}-${pool}`, pool, "tenant", { nominal: gpus }, tenant);
    (q.props.metadata as { labels: Record<string, string> }).labels[SHARD_LABEL] = shard;
    (q.props.metadata as { labels: Record<string, string> }).labels[LABELS.pool] = pool;
    return q;
}
const platformRef = (shards: Record<string, Record<string, number>>) => sample(REF, "platform", { name: "org/compute-region/prod-platform", outputs: { layer: "platform", shards, vpcCidr: "10.40.0.0/16" } });

export const shardWithinBudget = stackPolicy({
    name: "shard-within-budget",
    description: "In a tenant shard stack, the shard's tenants hold no more reserved GPUs on any pool than the budget the platform stack allots the shard.",
    rationale:
        "A sharded region splits its tenants across stacks; the platform proves the shards' budgets fit each pool's sellable " +
        "GPUs (gpu-headroom-preserved counts them as sold), and each shard must prove its tenants fit its budget, or the " +
        "pool is oversold without any single stack seeing it.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Lower the shard's tenants' quota on the pool, or raise the shard's budget in the platform stack's compute-region:shards (within the pool's sellable GPUs) and deploy the platform first.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
    ],
    validateStack: (args, report) => {
        const queues = resourcesOfType(args, K8S_TYPES.clusterQueue).filter((q) => q.props.metadata?.labels?.[SHARD_LABEL] && q.props.metadata?.labels?.[QUEUE_KIND_LABEL] === "tenant");
        if (queues.length === 0) return;
        const budgets = resourcesOfType(args, REF).map((r) => r.props.outputs?.shards).find((s) => s && typeof s === "object");
        const sold = new Map<string, { gpus: number; queues: string[] }>();
        for (const q of queues) {
            const shard = q.props.metadata.labels[SHARD_LABEL];
            const pool = q.props.metadata.labels[LABELS.pool];
            const gpus = queueQuotaOn(q, pool)?.nominal ?? 0;
            const key = `${shard}\u0000${pool}`;
            const entry = sold.get(key) ?? { gpus: 0, queues: [] };
            entry.gpus += gpus;
            entry.queues.push(q.props.metadata.name);
            sold.set(key, entry);
        }
        for (const [key, { gpus, queues: names }] of sold) {
            const [shard, pool] = key.split("\u0000");
            if (!budgets) {
                report(`shard ${shard} sells ${gpus} GPUs on pool ${pool}, but no platform stack reference gives its budget.`);
                continue;
            }
            const budget = Number(budgets[shard]?.[pool] ?? 0);
            if (gpus > budget) report(`shard ${shard} oversells pool ${pool}: its tenants hold ${gpus} reserved GPUs (${names.join(", ")}), but its budget is ${budget}.`);
        }
    },
    samples: {
        allowed: [{ description: "Two tenants within shard a's budget of 6.", resources: [platformRef({ a: { "shared-h100": 6 } }), shardQueue("acme", "a", "shared-h100", 4), shardQueue("globex", "a", "shared-h100", 2)] }],
        disallowed: [
            {
                description: "Shard a's tenants hold one GPU more than its budget.",
                expect: "shard a oversells pool shared-h100: its tenants hold 7 reserved GPUs (acme-shared-h100, globex-shared-h100), but its budget is 6",
                resources: [platformRef({ a: { "shared-h100": 6 } }), shardQueue("acme", "a", "shared-h100", 4), shardQueue("globex", "a", "shared-h100", 3)],
            },
            { description: "A pool the platform gave the shard no budget on.", expect: "but its budget is 0", resources: [platformRef({ a: {} }), shardQueue("acme", "a", "shared-h100", 1)] },
            { description: "No platform reference at all.", expect: "no platform stack reference gives its budget", resources: [shardQueue("acme", "a", "shared-h100", 1)] },
        ],
    },
});
