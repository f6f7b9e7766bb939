import { configWithDefaults, resourcesOfType, stackPolicy } from "../engine/policy";
import { CAPACITY_BLOCK_SCALE_DOWN_MINUTES, parseInstant, windowPhase, windowProblem } from "../model/domain/capacity";
import { holdsSoldQuota, nodeGroupReservation, nodeGroupWindow } from "../model/evidence/capacity-evidence";
import { stackCapacity } from "../model/evidence/per-stack";
import { LABELS, TAGS } from "../model/domain/conventions";
import { plain } from "../model/evidence/deploy-input";
import { TYPES } from "../model/domain/types";
import { poolSamples as s } from "../samples/pools";

const BLOCK = "cr-0123456789abcdef0";
const WINDOW = { startsAt: "2026-10-01T11:30:00Z", endsAt: "2026-10-15T11:30:00Z" };
const block = (window: Partial<typeof WINDOW> | null = WINDOW) =>
    s.nodeGroup("train-h100", "shared", "p5.48xlarge", 2, {
        maxSize: 2,
        tags: { [TAGS.capacityReservation]: BLOCK, [TAGS.reservedInstances]: "2", ...(window?.startsAt ? { [TAGS.capacityBlockStartsAt]: window.startsAt } : {}), ...(window?.endsAt ? { [TAGS.capacityBlockEndsAt]: window.endsAt } : {}) },
        more: { capacityType: "CAPACITY_BLOCK" },
    });
const sold = [s.flavor("train-h100", 0.25), s.queue("internal-train-h100", "train-h100", "internal", { nominal: 4, lendingLimit: 0 }), s.queue("acme-train-h100", "train-h100", "tenant", { nominal: 8 }, "acme")];

export const capacityBlockQuotaWithinWindow = stackPolicy({
    name: "capacity-block-quota-within-window",
    description:
        "A pool on a Capacity Block declares the block's window, and no reserved tenant quota relies on a block after its end: judged at the plan's date (policy config `at`, the time of the preview when unset).",
    rationale:
        "A Capacity Block's instances exist only inside its window: EKS scales the node group to zero forty minutes before the block ends and EC2 " +
        "terminates the instances from thirty minutes before. Quota sold from a block outlives it unless someone ends it, so a tenant keeps paying " +
        "for GPUs that are gone and its queued work never runs. A block pool without a window cannot be judged at all.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set compute-region:gpuPools[].capacityReservation.startsAt and endsAt to the block's window. Before the block ends, move its tenants' reserved " +
        "quota (compute-region:tenants[].quota) to another pool or end it, or buy the next block and set the pool's reservation and window to it.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-2(2)", title: "Contingency Plan: Capacity Planning" },
    ],
    configSchema: {
        properties: {
            at: {
                type: "string",
                description:
                    "The date the windows are judged at, ISO 8601 with a zone (2026-10-20T00:00:00Z). Unset, the time the preview runs. `npm run plan -- --at DATE` sets it, to review a plan as of a date.",
            },
        },
    },
    validateStack: (args, report) => {
        const { at: given } = configWithDefaults<{ at?: string }>({}, args);
        const at = given === undefined ? new Date() : parseInstant(given);
        if (!at) {
            report(`policy config at ${JSON.stringify(given)} is not an ISO 8601 date-time with a zone (such as 2026-10-20T00:00:00Z): no window can be judged.`);
            return;
        }
        const blocks = new Map<string, string>();
        for (const g of resourcesOfType(args, TYPES.eksNodeGroup)) {
            const props = plain(g.props) as Record<string, any>;
            const pool = props.labels?.[LABELS.pool];
            const window = nodeGroupWindow({ ...g, props });
            const isBlock = props.capacityType === "CAPACITY_BLOCK";
            if (isBlock && !window) {
                report(`node group ${g.name} is a Capacity Block group but declares no window (${TAGS.capacityBlockStartsAt}, ${TAGS.capacityBlockEndsAt}): the capacity model cannot date its GPUs.`, g.urn);
                continue;
            }
            if (!window) continue;
            const problem = windowProblem(window);
            if (problem) report(`node group ${g.name}'s Capacity Block window: ${problem}.`, g.urn);
            if (typeof pool === "string") blocks.set(pool, nodeGroupReservation({ ...g, props })?.id ?? "(no reservation declared)");
        }
        // Without a block there is nothing to date (and a large region's queues need not be read).
        if (blocks.size === 0) return;
        for (const pool of stackCapacity(args.resources)) {
            if (!pool.window || windowProblem(pool.window) || windowPhase(pool.window, at) !== "after") continue;
            const holders = pool.queues.filter((q) => holdsSoldQuota(q) && q.nominal > 0);
            if (holders.length === 0) continue;
            report(
                `pool ${pool.pool}'s Capacity Block ${blocks.get(pool.pool) ?? ""} ends at ${pool.window.endsAt} (EKS scales it to zero ${CAPACITY_BLOCK_SCALE_DOWN_MINUTES} minutes before), ` +
                    `but reserved quota still relies on it at ${at.toISOString()}: ${holders.map((q) => `${q.queue} ${q.nominal}`).join(", ")} GPUs.`,
            );
        }
    },
    samples: {
        allowed: [
            { description: "Quota sold from a block, judged inside its window.", config: { at: "2026-10-10T00:00:00Z" }, resources: [block(), ...sold] },
            { description: "Quota sold from a block ahead of its start (the tenant bought the window).", config: { at: "2026-09-20T00:00:00Z" }, resources: [block(), ...sold] },
            { description: "After the block, nothing is sold from the pool any more.", config: { at: "2026-10-20T00:00:00Z" }, resources: [block(), s.flavor("train-h100", 0.25), s.queue("internal-train-h100", "train-h100", "internal", { nominal: 16, lendingLimit: 0 })] },
        ],
        disallowed: [
            {
                description: "Judged after the block: a tenant still holds reserved quota on it.",
                config: { at: "2026-10-20T00:00:00Z" },
                expect: "pool train-h100's Capacity Block cr-0123456789abcdef0 ends at 2026-10-15T11:30:00Z (EKS scales it to zero 40 minutes before), but reserved quota still relies on it at 2026-10-20T00:00:00.000Z: acme-train-h100 8 GPUs",
                resources: [block(), ...sold],
            },
            {
                description: "Judged 30 minutes before the end: EKS has already scaled the block's group to zero.",
                config: { at: "2026-10-15T11:00:00Z" },
                expect: "but reserved quota still relies on it at 2026-10-15T11:00:00.000Z",
                resources: [block(), ...sold],
            },
            {
                description: "A policy config date without a zone: no window can be judged.",
                config: { at: "2026-10-20 00:00" },
                expect: 'policy config at "2026-10-20 00:00" is not an ISO 8601 date-time with a zone (such as 2026-10-20T00:00:00Z): no window can be judged',
                resources: [block(), ...sold],
            },
            { description: "A Capacity Block group without its window.", config: { at: "2026-10-10T00:00:00Z" }, expect: "is a Capacity Block group but declares no window", resources: [block(null), ...sold] },
            { description: "A window that ends before it starts.", config: { at: "2026-10-10T00:00:00Z" }, expect: "endsAt 2026-09-15T11:30:00Z is not after startsAt 2026-10-01T11:30:00Z", resources: [block({ ...WINDOW, endsAt: "2026-09-15T11:30:00Z" }), ...sold] },
        ],
    },
});
