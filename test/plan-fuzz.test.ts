import { beforeAll, describe, expect, it } from "vitest";
import { damaged, evaluatePolicies, PREVIEW_SHAPES, ResourceSnapshot, seededRandom } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { plan } from "./helpers";

/**
 * Every policy gives a result on any shape a preview can produce: the whole dev plan with properties
 * absent, unknown, secret, emptied or turned IPv6 at every depth, in seeded random rounds. A policy
 * error fails a real preview, so there must be none. A failure names its seed; replay it with
 * POLICY_FUZZ_SEED=<seed> npx vitest run test/plan-fuzz.test.ts (POLICY_FUZZ_ROUNDS sets the count).
 */

const ROUNDS = Number(process.env.POLICY_FUZZ_ROUNDS ?? 24);
/** Share of the property paths changed in a round. */
const RATE = Number(process.env.POLICY_FUZZ_RATE ?? 0.03);

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

function damagedPlan(seed: number, log: string[]): ResourceSnapshot[] {
    const next = seededRandom(seed);
    // Resource policies read the inputs, stack policies the outputs: both are damaged.
    return dev.resources.map((r) => {
        const before = log.length;
        const props = damaged(r.props, next, RATE, log) as Record<string, unknown>;
        for (let i = before; i < log.length; i++) log[i] = `${r.name}.${log[i]}`;
        const mid = log.length;
        const outputs = r.outputs ? (damaged(r.outputs, next, RATE, log) as Record<string, unknown>) : undefined;
        for (let i = mid; i < log.length; i++) log[i] = `${r.name} (outputs).${log[i]}`;
        return { ...r, props, ...(outputs ? { outputs } : {}) };
    });
}

describe("every policy on a randomly damaged dev plan", () => {
    const base = Number(process.env.POLICY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = process.env.POLICY_FUZZ_SEED ? [base] : Array.from({ length: ROUNDS }, (_, i) => base + i);

    it(`gives a result, never a policy error (${seeds.length} rounds from seed ${base})`, () => {
        const seen = new Set<string>();
        for (const seed of seeds) {
            const log: string[] = [];
            const result = evaluatePolicies(damagedPlan(seed, log), { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
            for (const l of log) seen.add(l.slice(l.lastIndexOf(": ") + 2));
            const replay = `seed ${seed} (replay: POLICY_FUZZ_SEED=${seed} npx vitest run test/plan-fuzz.test.ts); changes:\n  ${log.join("\n  ")}`;
            expect(result.errors.map((e) => `${e.policy}: ${e.message.split("\n")[0]}`), replay).toEqual([]);
        }
        // The rounds reached every shape: a fuzz that changes nothing proves nothing.
        if (seeds.length >= 10) expect([...seen].sort()).toEqual([...PREVIEW_SHAPES].sort());
    });
});
