import { changePolicies } from "compute-region-policies/changes";
import { EvaluationResult, evaluateChanges, mergeEvaluations, PackPolicy, ResolvedPolicyConfig, ResourceSnapshot, runPack } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import { Differ, PlanChanges } from "./diff";
import type { RegistrationAnswer } from "./harness";
import { PlanInputError } from "./project";
import { PriorState, readCheckpoint, readPlanDocument } from "./state";

/**
 * Planning against an earlier state, the way `npm run plan` does it: with a checkpoint the diff
 * runs as the program registers (kept resources answer with the state's ids and outputs); with an
 * earlier plan (no ids, no outputs to give) it runs on what the program registered.
 */
export interface Comparison {
    prior: PriorState;
    /** For the plan's run: the state's answer to a registration. */
    onRegister?: (snapshot: ResourceSnapshot) => RegistrationAnswer | undefined;
    /** The changes, once the program has registered everything. */
    finish(resources: readonly ResourceSnapshot[]): PlanChanges;
}

/** `--state FILE` or `--against PLAN.json`, read before anything runs. */
export function readPrior(args: { state?: string; against?: string }, owner: { project: string; stack: string }): PriorState | undefined {
    if (args.state && args.against) throw new PlanInputError("--state and --against are alternatives: compare with a stack export or with an earlier plan, not both");
    if (args.state) return readCheckpoint(args.state, owner);
    if (args.against) return readPlanDocument(args.against, owner);
    return undefined;
}

export function startComparison(prior: PriorState, options: { stack: string; project: string; config: Record<string, string> }): Comparison {
    const differ = new Differ(prior, options);
    if (prior.kind === "state") return { prior, onRegister: (snapshot) => differ.answer(snapshot), finish: () => differ.finish() };
    return {
        prior,
        finish(resources) {
            for (const r of resources) differ.register(r);
            return differ.finish();
        },
    };
}

/** The pack's verdict on the plan: the resource and stack policies, and with changes the change policies too. */
export function judgePlan(resources: readonly ResourceSnapshot[], changes: PlanChanges | undefined, config: ResolvedPolicyConfig): { evaluation: EvaluationResult; policies: readonly PackPolicy[] } {
    const pack = { packName: PACK_NAME, packVersion: PACK_VERSION };
    const judged = runPack(resources, { policies, ...pack }, config);
    if (!changes) return { evaluation: judged, policies };
    return { evaluation: mergeEvaluations(judged, evaluateChanges(changes.changes, { policies: changePolicies, config, ...pack })), policies: [...policies, ...changePolicies] };
}
