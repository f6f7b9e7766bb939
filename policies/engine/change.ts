import type { ReportViolation } from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import type { EnforcementLevel } from "@pulumi/policy";
import type { ResolvedPolicyConfig } from "./config";
import type { EvaluationResult } from "./evaluate";
import { outcomeOf, summarize } from "./evaluate";
import type { AuditFields, RegionPolicy, SampleResource } from "./policy";
import { primaryFramework } from "./policy";
import { unwrapSecrets } from "./wire";

/**
 * Change policies judge a transition, the resources before and after a change, which CrossGuard
 * cannot: its analyzer sees only the new resources. They run where an earlier state is known, the
 * offline plan against a state or an earlier plan (`npm run plan -- --state/--against`) and the
 * pull-request workflow, with the same enforcement levels, config and reports as the other policies.
 */

/** What the plan does to one resource, as the engine would. */
export type ChangeOp = "create" | "update" | "replace" | "delete" | "same";

/** What the plan does to one resource; `Props` is how its properties are typed. */
interface Change<Props> {
    urn: string;
    type: string;
    name: string;
    op: ChangeOp;
    /** Input paths that change (update and replace), such as `spec.resourceGroups[0].flavors[0]`. */
    diffs: string[];
    /** For a replacement: the paths (or the reason) that force it. */
    replacedBy: string[];
    /** Before: the state's inputs and outputs. Absent for a create. */
    old?: { props: Props; outputs: Props; protect: boolean };
    /** After: the planned inputs. Absent for a delete. */
    new?: { props: Props; protect: boolean };
}

export type ResourceChange = Change<Record<string, unknown>>;

/** A change as a change policy reads it: props proxied (unknown values stop the policy), secrets unwrapped. */
export type PolicyChange = Change<Record<string, any>>;

export interface ChangeValidationArgs {
    /** Every resource of the plan and of the state, with what happens to it (unchanged ones included). */
    changes: PolicyChange[];
    getConfig<T extends object>(): T;
}

/** A change sample: the resources before and after; the diff between them is what the policy judges. */
export interface ChangeSample {
    description: string;
    old: SampleResource[];
    new: SampleResource[];
    config?: Record<string, unknown>;
}

export interface DisallowedChangeSample extends ChangeSample {
    /** Text every finding for this sample must contain. */
    expect: string;
}

export interface ChangePolicy extends AuditFields<{ allowed: ChangeSample[]; disallowed: DisallowedChangeSample[] }> {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    configSchema?: RegionPolicy["configSchema"];
    framework?: ReturnType<typeof primaryFramework>;
    validateChanges(args: ChangeValidationArgs, report: ReportViolation): void;
}

/** Completes a change policy: CrossGuard's `framework` from the primary control mapping, as for the others. */
export function changePolicy(policy: Omit<ChangePolicy, "framework">): ChangePolicy {
    return { ...policy, framework: primaryFramework(policy.controls) };
}

/** The changes as policies read them. */
function policyView(changes: readonly ResourceChange[]): PolicyChange[] {
    const view = (props: Record<string, unknown>) => unknownCheckingProxy(unwrapSecrets(props) as Record<string, unknown>);
    return changes.map((c) => ({
        urn: c.urn,
        type: c.type,
        name: c.name,
        op: c.op,
        diffs: c.diffs,
        replacedBy: c.replacedBy,
        ...(c.old ? { old: { props: view(c.old.props), outputs: view(c.old.outputs), protect: c.old.protect } } : {}),
        ...(c.new ? { new: { props: view(c.new.props), protect: c.new.protect } } : {}),
    }));
}

export interface EvaluateChangesOptions {
    policies: readonly ChangePolicy[];
    config?: ResolvedPolicyConfig;
    packName?: string;
    packVersion?: string;
}

/** Runs the change policies with the evaluator's semantics (levels, config, not-run on unknowns, errors). */
export function evaluateChanges(changes: readonly ResourceChange[], options: EvaluateChangesOptions): EvaluationResult {
    const config = options.config ?? {};
    const from = (policy: string) => `policy '${policy}' from policy pack '${options.packName ?? "compute-region"}@v${options.packVersion ?? "0.0.0"}'`;
    // Change policies run only here (CrossGuard has no such analysis): nothing is withheld.
    const result: EvaluationResult = { violations: [], notRun: [], errors: [], remediations: [], failedAnalyses: [], policies: [], summary: undefined as never };
    const view = policyView(changes);
    const names = new Map(changes.map((c) => [c.urn, c.name]));
    for (const p of options.policies) {
        let level = config[p.name]?.enforcementLevel ?? p.enforcementLevel;
        if (level === "disabled") continue;
        if (level === "remediate") level = "mandatory";
        const report: ReportViolation = (message, urn) => {
            const text = typeof message === "object" && message !== null ? (message as { message?: string }).message : message;
            result.violations.push({
                policy: p.name,
                severity: p.severity,
                enforcementLevel: level === "advisory" ? "advisory" : "mandatory",
                urn,
                name: urn ? names.get(urn) : undefined,
                message: text ? `${p.description}\n${text}` : p.description,
            });
        };
        const { enforcementLevel: _level, ...properties } = config[p.name] ?? {};
        try {
            p.validateChanges({ changes: view, getConfig: <T extends object>() => properties as T }, report);
        } catch (e) {
            if (e instanceof UnknownValueError) result.notRun.push({ policy: p.name, message: `can't run ${from(p.name)} during preview: ${(e as Error).message}` });
            else result.errors.push({ policy: p.name, message: `Error validating changes with ${from(p.name)}: ${e instanceof Error ? e.message : String(e)}` });
        }
    }
    result.policies = options.policies.map((p) => outcomeOf(p.name, p.severity, config[p.name]?.enforcementLevel ?? p.enforcementLevel, result));
    result.summary = summarize(result, options.policies.length, changes.length);
    return result;
}

/** One verdict from the resource and stack policies' results and the change policies'. */
export function mergeEvaluations(a: EvaluationResult, b: EvaluationResult): EvaluationResult {
    const merged: EvaluationResult = {
        violations: [...a.violations, ...b.violations],
        notRun: [...a.notRun, ...b.notRun],
        errors: [...a.errors, ...b.errors],
        remediations: [...a.remediations, ...b.remediations],
        failedAnalyses: [...a.failedAnalyses, ...b.failedAnalyses],
        policies: [...a.policies, ...b.policies],
        summary: undefined as never,
    };
    merged.summary = summarize(merged, a.summary.policies + b.summary.policies, a.summary.resources);
    return merged;
}

/** The resources before the change (what the state holds), as stack policies and the model read them. */
export function resourcesBefore(changes: readonly PolicyChange[]): { type: string; name: string; urn: string; props: Record<string, any>; outputs: Record<string, any> }[] {
    return changes.filter((c) => c.old).map((c) => ({ type: c.type, name: c.name, urn: c.urn, props: c.old!.props, outputs: c.old!.outputs }));
}

/** The resources after the change (what the plan registers). */
export function resourcesAfter(changes: readonly PolicyChange[]): { type: string; name: string; urn: string; props: Record<string, any> }[] {
    return changes.filter((c) => c.new).map((c) => ({ type: c.type, name: c.name, urn: c.urn, props: c.new!.props }));
}

/** True when the resource goes away: deleted, or replaced (a new one stands where the old was). */
export function isGone(change: Pick<PolicyChange, "op">): boolean {
    return change.op === "delete" || change.op === "replace";
}

/** True when the resource is there before and after and its inputs change (in place or by a replacement). */
export function isModified(change: PolicyChange): change is PolicyChange & Required<Pick<PolicyChange, "old" | "new">> {
    return (change.op === "update" || change.op === "replace") && change.old !== undefined && change.new !== undefined;
}
