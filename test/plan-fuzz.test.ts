import { beforeAll, describe, expect, it } from "vitest";
import { damaged, evaluatePolicies, PREVIEW_SHAPES, PreviewShape, ResourceSnapshot, seededRandom, seedOf } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies, REHEARSAL_POLICIES } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { byUrn, plan, ROOT } from "./helpers";

/**
 * Every policy gives a result on any shape a preview can produce: the whole dev plan with properties
 * absent, unknown, secret, emptied or turned IPv6 at every depth, in seeded random rounds. A policy
 * error fails a real preview, so there must be none. And with only values unknown (as a real
 * preview has values the providers compute), no policy may report a violation: the dev plan passes,
 * and a value that is merely not known yet may well be the one it has, so a policy that cannot decide
 * says "not run" (CrossGuard's answer to a policy that reads an unknown).
 *
 * The rounds' seed is derived from the dev plan (the same plan, the same rounds; a changed plan is
 * damaged anew) and printed in the test's name. A failure names its seed; replay it with
 * POLICY_FUZZ_SEED=<seed> npx vitest run test/plan-fuzz.test.ts (POLICY_FUZZ_ROUNDS sets the count).
 */

const ROUNDS = Number(process.env.POLICY_FUZZ_ROUNDS ?? 24);
/** Share of the property paths changed in a round. */
const RATE = Number(process.env.POLICY_FUZZ_RATE ?? 0.03);
/** Share of the values made unknown in a round of unknowns only. */
const UNKNOWN_RATE = 0.05;
/** The policies that judge network paths (the rehearsal's platform-paths-open is one of REHEARSAL_POLICIES). */
const PATH_POLICIES = ["tenant-network-isolation", "dedicated-pool-network-confined", "serving-ingress-confined"];

let dev: OfflinePlanResult;
let base: number;
beforeAll(async () => {
    dev = await plan();
    // Derived from the plan itself, in an order that does not depend on registration timing, and
    // without the checkout's path (the billing image's build context names it): a seed replays the
    // same rounds in any clone.
    base = Number(process.env.POLICY_FUZZ_SEED ?? seedOf(JSON.stringify(byUrn(dev.resources).map((r) => [r.urn, r.props])).split(ROOT).join("<checkout>")));
    console.info(`plan-fuzz: ${seeds().length} rounds from seed ${base} (replay one: POLICY_FUZZ_SEED=<seed> npx vitest run test/plan-fuzz.test.ts)`);
});

const seeds = () => (process.env.POLICY_FUZZ_SEED ? [base] : Array.from({ length: ROUNDS }, (_, i) => base + i));
const replay = (seed: number, log: string[]) => `seed ${seed} (replay: POLICY_FUZZ_SEED=${seed} npx vitest run test/plan-fuzz.test.ts); changes:\n  ${log.join("\n  ")}`;

function damagedPlan(seed: number, log: string[], rate: number, shapes: readonly PreviewShape[] = PREVIEW_SHAPES): ResourceSnapshot[] {
    const next = seededRandom(seed);
    // Resource policies read the inputs, stack policies the outputs: both are damaged, resource by
    // resource in URN order (registrations may interleave in another order from one commit to the next).
    return byUrn(dev.resources).map((r) => {
        const before = log.length;
        const props = damaged(r.props, next, rate, log, "", shapes) as Record<string, unknown>;
        for (let i = before; i < log.length; i++) log[i] = `${r.name}.${log[i]}`;
        const mid = log.length;
        const outputs = r.outputs ? (damaged(r.outputs, next, rate, log, "", shapes) as Record<string, unknown>) : undefined;
        for (let i = mid; i < log.length; i++) log[i] = `${r.name} (outputs).${log[i]}`;
        return { ...r, props, ...(outputs ? { outputs } : {}) };
    });
}

describe("every policy on a randomly damaged dev plan", () => {
    it("gives a result, never a policy error (rounds from a seed derived from the plan, printed on failure)", () => {
        const seen = new Set<string>();
        for (const seed of seeds()) {
            const log: string[] = [];
            const result = evaluatePolicies(damagedPlan(seed, log, RATE), { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
            for (const l of log) seen.add(l.slice(l.lastIndexOf(": ") + 2));
            expect(result.errors.map((e) => `${e.policy}: ${e.message.split("\n")[0]}`), replay(seed, log)).toEqual([]);
        }
        // The rounds reached every shape: a fuzz that changes nothing proves nothing.
        if (seeds().length >= 10) expect([...seen].sort(), `seed ${base}`).toEqual([...PREVIEW_SHAPES].sort());
    });

    it("with values unknown, as in a preview: no violation from any policy; the rehearsal and path policies say not run when they cannot decide", () => {
        const rehearsal = new Set(REHEARSAL_POLICIES.map((p) => p.name));
        const notRun = new Map<string, number>();
        let rehearsalRounds = 0;
        for (const seed of seeds()) {
            const log: string[] = [];
            const result = evaluatePolicies(damagedPlan(seed, log, UNKNOWN_RATE, ["unknown"]), { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
            expect(log.length, `seed ${seed}`).toBeGreaterThan(100);
            expect(result.errors.map((e) => `${e.policy}: ${e.message.split("\n")[0]}`), replay(seed, log)).toEqual([]);
            expect(result.violations.map((v) => `${v.policy}: ${v.message.split("\n")[1] ?? v.message}`), replay(seed, log)).toEqual([]);
            const names = new Set(result.notRun.map((n) => n.policy));
            for (const n of names) notRun.set(n, (notRun.get(n) ?? 0) + 1);
            if ([...names].some((n) => rehearsal.has(n))) rehearsalRounds++;
        }
        // The unknowns reached what these policies judge: they could not decide, rather than passing on a guess.
        if (seeds().length >= 10) {
            expect(rehearsalRounds, `rounds in which a rehearsal policy said "not run", of ${seeds().length} from seed ${base}`).toBeGreaterThanOrEqual(seeds().length / 2);
            for (const name of [...PATH_POLICIES, "platform-paths-open"]) expect(notRun.get(name) ?? 0, `${name} never said "not run" in ${seeds().length} rounds from seed ${base}`).toBeGreaterThan(0);
        }
    });
});
