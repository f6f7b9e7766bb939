import type { EnforcementLevel, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";
import { isStackPolicy, RegionPolicy, RegionResourcePolicy } from "./policy";
import type { ResolvedPolicyConfig } from "./config";
import type { ResourceSnapshot } from "./snapshot";
import { aliasUrn, parseUrn } from "./urn";
import { propsForPolicies } from "./unknown-view";
import { durationSeconds } from "../model/evidence/deploy-input";

/**
 * The in-process evaluator: CrossGuard's semantics over the offline plan's resource snapshots, so the
 * same policies judge a real `pulumi preview --policy-pack policies`, the offline plan, the tests and
 * the CLI. It follows `@pulumi/policy`'s analyzer (server.js) step by step:
 * - resource policies see each resource's inputs; stack policies see every resource once, its
 *   outputs (`outputs` of a snapshot, when recorded), with `parent` and `dependencies` as resource objects;
 * - enforcement level: the config's for that policy, else the policy's, else the pack's (advisory);
 *   `disabled` skips; `remediate` runs `remediateResource` first and reports what is still wrong as mandatory;
 * - a violation's message is the description, a newline, and the reported text;
 * - props are read through CrossGuard's unknown-checking proxy (put only where an unknown can be read,
 *   see unknown-view.ts): a policy that reads a value unknown during the preview could not run,
 *   reported as advisory; secrets reach policies unwrapped;
 * - a policy that throws anything else fails a real preview: here it is a policy error naming both ends.
 *   CrossGuard's analyzer answers one call per resource (`analyze`) and one for the stack
 *   (`analyzeStack`); a throw fails the whole call, so none of the other policies' results from that
 *   call reach the engine (server.js rethrows out of its loop and answers the call with the error
 *   alone). The evaluator carries on and reports them, marked `withheld`, and lists the failed call
 *   in `failedAnalyses`, so a report can say what a real preview would and would not show.
 */

export type Severity = "low" | "medium" | "high" | "critical";

export interface Violation {
    policy: string;
    severity: Severity;
    enforcementLevel: "advisory" | "mandatory";
    urn?: string;
    name?: string;
    message: string;
    /** True when another policy threw in the same analysis call, so CrossGuard would not deliver this result. */
    withheld?: boolean;
}

export interface PolicyNotRun {
    policy: string;
    urn?: string;
    name?: string;
    message: string;
    /** As for `Violation`. */
    withheld?: boolean;
}

/** An analysis call CrossGuard's analyzer would fail: the stack's, or one resource's (with its URN). */
export interface FailedAnalysis {
    scope: "stack" | "resource";
    urn?: string;
    name?: string;
    /** The policies that threw in it. */
    policies: string[];
    /** Results of other policies in the same call that the evaluator reports but CrossGuard would drop. */
    withheld: number;
}

export interface PolicyError {
    policy: string;
    urn?: string;
    name?: string;
    message: string;
}

export interface Remediation {
    policy: string;
    urn: string;
    name: string;
}

export interface PolicyOutcome {
    policy: string;
    severity: Severity;
    /** Effective enforcement level after config. */
    enforcementLevel: EnforcementLevel;
    status: "passed" | "violated" | "disabled" | "not-run" | "error";
    violations: number;
}

export interface EvaluationSummary {
    policies: number;
    resources: number;
    mandatoryViolations: number;
    advisoryViolations: number;
    notRun: number;
    errors: number;
    /** Results CrossGuard would not deliver because a policy threw in the same analysis call. */
    withheld: number;
    passed: number;
    disabled: number;
}

export interface EvaluationResult {
    violations: Violation[];
    notRun: PolicyNotRun[];
    errors: PolicyError[];
    remediations: Remediation[];
    /** Analysis calls a policy error would fail in CrossGuard (their other results are `withheld`). */
    failedAnalyses: FailedAnalysis[];
    policies: PolicyOutcome[];
    summary: EvaluationSummary;
}

export interface EvaluateOptions {
    policies: readonly RegionPolicy[];
    /** Resolved per-policy config (see `resolvePolicyConfig`); empty when none was given. */
    config?: ResolvedPolicyConfig;
    packName?: string;
    packVersion?: string;
    /** The pack's own enforcement level; CrossGuard's default is advisory. */
    packEnforcementLevel?: EnforcementLevel;
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicableError(reason);
};

/**
 * The stack's tags, none offline: one read-only map for every call, as CrossGuard's analyzer hands
 * every policy the same frozen view of its map (server.js `freezeMap`).
 */
const NO_STACK_TAGS: ReadonlyMap<string, string> = (() => {
    const map = new Map<string, string>();
    return Object.freeze({
        entries: map.entries.bind(map),
        forEach: map.forEach.bind(map),
        get: map.get.bind(map),
        has: map.has.bind(map),
        keys: map.keys.bind(map),
        size: map.size,
        values: map.values.bind(map),
        [Symbol.iterator]: map[Symbol.iterator].bind(map),
    }) as ReadonlyMap<string, string>;
})();

function pulumiTypeOf(fn: unknown): string | undefined {
    const t = (fn as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof t === "string" && t.length > 0 ? t : undefined;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const pulumiType = pulumiTypeOf(resourceClass);
    if (pulumiType) return type === pulumiType;
    const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function errorText(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

export function evaluatePolicies(resources: readonly ResourceSnapshot[], options: EvaluateOptions): EvaluationResult {
    const packName = options.packName ?? "compute-region";
    const packVersion = options.packVersion ?? "0.0.0";
    const packLevel = options.packEnforcementLevel ?? "advisory";
    const config = options.config ?? {};
    const from = (policy: string) => `policy '${policy}' from policy pack '${packName}@v${packVersion}'`;

    const result: EvaluationResult = { violations: [], notRun: [], errors: [], remediations: [], failedAnalyses: [], policies: [], summary: undefined as never };
    /** Marks the results recorded since `mark` as withheld when the call they belong to failed. */
    const markOf = () => ({ violations: result.violations.length, notRun: result.notRun.length, errors: result.errors.length });
    const closeAnalysis = (mark: ReturnType<typeof markOf>, scope: FailedAnalysis["scope"], target?: { urn: string; name: string }) => {
        const errors = result.errors.slice(mark.errors);
        if (errors.length === 0) return;
        const withheld = [...result.violations.slice(mark.violations), ...result.notRun.slice(mark.notRun)];
        for (const r of withheld) r.withheld = true;
        result.failedAnalyses.push({ scope, ...(target ? { urn: target.urn, name: target.name } : {}), policies: [...new Set(errors.map((e) => e.policy))], withheld: withheld.length });
    };
    const levelOf = (p: RegionPolicy): EnforcementLevel => config[p.name]?.enforcementLevel ?? p.enforcementLevel ?? packLevel;
    const getConfigFor = (p: RegionPolicy) => <T extends object>(): T => {
        const { enforcementLevel: _level, ...properties } = config[p.name] ?? {};
        return properties as T;
    };
    const report = (p: RegionPolicy, level: EnforcementLevel, fallback?: { urn: string; name: string }) => (message?: string | { message?: string }, urn?: string) => {
        const text = typeof message === "object" && message !== null ? message.message : message;
        const target = urn ?? fallback?.urn;
        result.violations.push({
            policy: p.name,
            severity: p.severity,
            enforcementLevel: level === "advisory" ? "advisory" : "mandatory",
            urn: target,
            name: target ? resources.find((r) => r.urn === target)?.name ?? fallback?.name : undefined,
            message: text ? `${p.description}\n${text}` : p.description,
        });
    };

    const resourcePolicies = options.policies.filter((p): p is RegionResourcePolicy => !isStackPolicy(p));
    // Each policy's level and type filter are read once, not once a resource (thousands of them).
    const validating = resourcePolicies.flatMap((p) => {
        const level = levelOf(p);
        if (level === "disabled" || !p.validateResource) return [];
        const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
        return [{ p, level: level === "remediate" ? ("mandatory" as const) : level, validations, type: validations.length === 1 ? pulumiTypeOf(validations[0]) : undefined, getConfig: getConfigFor(p) }];
    });
    const remediating = resourcePolicies.filter((p) => levelOf(p) === "remediate" && p.remediateResource).map((p) => ({ p, type: pulumiTypeOf(p.remediateResource), getConfig: getConfigFor(p) }));
    // The policies that apply to each type, in pack order, found once a type: a resource is then
    // handed to those alone, not checked against every policy of the pack.
    const applying = <T extends { type?: string }>(all: readonly T[]) => {
        const byType = new Map<string, readonly T[]>();
        return (type: string) => {
            let list = byType.get(type);
            if (!list) byType.set(type, (list = all.filter((x) => !x.type || x.type === type)));
            return list;
        };
    };
    const validatingOf = applying(validating);
    const remediatingOf = applying(remediating);
    // Each resource's inputs as policies read them (one walk: secrets unwrapped, unknowns marked), made
    // when a policy first reads them and shared with the stack policies' view of a resource without outputs.
    const inputViews = new Map<ResourceSnapshot, Record<string, unknown>>();
    const inputViewOf = (resource: ResourceSnapshot) => {
        let view = inputViews.get(resource);
        if (!view) inputViews.set(resource, (view = propsForPolicies(resource.props)));
        return view;
    };
    for (const resource of resources) {
        let remediated: Record<string, unknown> | undefined;
        const inputs = () => remediated ?? inputViewOf(resource);
        // Most resources are judged only by policies that look at their type first: their props and
        // options are made when a policy reads them (getters for that, the one difference from
        // CrossGuard's arguments a policy could see).
        let opts: PolicyResourceOptions | undefined;
        const argsFor = (getConfig: ResourceValidationArgs["getConfig"]): ResourceValidationArgs => ({
            type: resource.type,
            get props() {
                return inputs();
            },
            urn: resource.urn,
            name: resource.name,
            get opts() {
                return (opts ??= policyOptions(resource));
            },
            stackTags: NO_STACK_TAGS,
            isType: (cls: unknown) => isTypeOf(resource.type, cls),
            asType: ((cls: unknown) => (isTypeOf(resource.type, cls) ? inputs() : undefined)) as ResourceValidationArgs["asType"],
            getConfig,
            notApplicable: throwNotApplicable,
        });

        // Remediations run first, in order, each seeing the previous one's result.
        for (const { p, getConfig } of remediatingOf(resource.type)) {
            try {
                const changed = p.remediateResource!(argsFor(getConfig));
                if (changed && typeof (changed as Promise<unknown>).then === "function") {
                    throw new Error("asynchronous remediations are not supported by the in-process evaluator");
                }
                if (changed) {
                    remediated = propsForPolicies(changed as Record<string, unknown>);
                    result.remediations.push({ policy: p.name, urn: resource.urn, name: resource.name });
                }
            } catch (e) {
                if (e instanceof UnknownValueError) result.notRun.push({ policy: p.name, urn: resource.urn, name: resource.name, message: `can't run remediation '${p.name}' during preview: ${(e as Error).message}` });
                else if (!(e instanceof NotApplicableError)) result.errors.push({ policy: p.name, urn: resource.urn, name: resource.name, message: `Error remediating resource with ${from(p.name)}: ${errorText(e)}` });
            }
        }

        const analysis = markOf();
        for (const { p, level, validations, getConfig } of validatingOf(resource.type)) {
            for (const validation of validations) {
                try {
                    const outcome = validation(argsFor(getConfig), report(p, level, resource));
                    if (outcome && typeof (outcome as Promise<void>).then === "function") {
                        throw new Error("asynchronous validations are not supported by the in-process evaluator");
                    }
                } catch (e) {
                    if (e instanceof UnknownValueError) {
                        result.notRun.push({ policy: p.name, urn: resource.urn, name: resource.name, message: `can't run ${from(p.name)} during preview: ${(e as Error).message}` });
                    } else if (!(e instanceof NotApplicableError)) {
                        result.errors.push({ policy: p.name, urn: resource.urn, name: resource.name, message: `Error validating resource with ${from(p.name)}: ${errorText(e)}` });
                    }
                }
            }
        }
        closeAnalysis(analysis, "resource", resource);
    }

    const stackPolicies = options.policies.filter(isStackPolicy);
    if (stackPolicies.length > 0) {
        const policyResources = toPolicyResources(resources, inputViewOf);
        const analysis = markOf();
        for (const p of stackPolicies) {
            let level = levelOf(p);
            if (level === "disabled") continue;
            if (level === "remediate") level = "mandatory";
            const type = pulumiTypeOf(p.validateStack);
            if (type && !resources.some((r) => r.type === type)) continue;
            const args: StackValidationArgs = { resources: policyResources, getConfig: getConfigFor(p), stackTags: NO_STACK_TAGS, notApplicable: throwNotApplicable };
            try {
                const outcome = p.validateStack(args, report(p, level));
                if (outcome && typeof (outcome as Promise<void>).then === "function") {
                    throw new Error("asynchronous validations are not supported by the in-process evaluator");
                }
            } catch (e) {
                if (e instanceof UnknownValueError) result.notRun.push({ policy: p.name, message: `can't run ${from(p.name)} during preview: ${(e as Error).message}` });
                // CrossGuard's analyzeStack words it as for a resource; kept, so the text matches a real preview's.
                else if (!(e instanceof NotApplicableError)) result.errors.push({ policy: p.name, message: `Error validating resource with ${from(p.name)}: ${errorText(e)}` });
            }
        }
        closeAnalysis(analysis, "stack");
    }

    result.policies = options.policies.map((p) => outcomeOf(p.name, p.severity, levelOf(p), result));
    result.summary = summarize(result, options.policies.length, resources.length);
    return result;
}

/** How one policy fared: disabled, errored, violated, could not run during the preview, or passed. */
export function outcomeOf(policy: string, severity: Severity, level: EnforcementLevel, result: Pick<EvaluationResult, "violations" | "errors" | "notRun">): PolicyOutcome {
    const violations = result.violations.filter((v) => v.policy === policy).length;
    const status: PolicyOutcome["status"] =
        level === "disabled"
            ? "disabled"
            : result.errors.some((e) => e.policy === policy)
              ? "error"
              : violations > 0
                ? "violated"
                : result.notRun.some((n) => n.policy === policy)
                  ? "not-run"
                  : "passed";
    return { policy, severity, enforcementLevel: level, status, violations };
}

export function summarize(result: Omit<EvaluationResult, "summary">, policies: number, resources: number): EvaluationSummary {
    return {
        policies,
        resources,
        mandatoryViolations: result.violations.filter((v) => v.enforcementLevel === "mandatory").length,
        advisoryViolations: result.violations.filter((v) => v.enforcementLevel === "advisory").length,
        notRun: result.notRun.length,
        errors: result.errors.length,
        withheld: result.violations.filter((v) => v.withheld).length + result.notRun.filter((n) => n.withheld).length,
        passed: result.policies.filter((o) => o.status === "passed").length,
        disabled: result.policies.filter((o) => o.status === "disabled").length,
    };
}

/** Stack policies' view: outputs proxied, `parent` and `dependencies` resolved to the resource objects. */
function toPolicyResources(resources: readonly ResourceSnapshot[], inputViewOf: (r: ResourceSnapshot) => Record<string, unknown>): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const out = resources.map((r) => {
        const props = r.outputs ? propsForPolicies(r.outputs) : inputViewOf(r);
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: policyOptions(r),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls: unknown) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(r.urn, resource);
        return resource;
    });
    resources.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) out[i].parent = parent;
        // CrossGuard gives a resource its provider; a default provider the plan did not record has no props to give.
        const provider = r.opts?.provider ? byUrn.get(r.opts.provider) : undefined;
        if (provider) out[i].provider = { type: provider.type, props: provider.props, urn: provider.urn, name: provider.name };
        const dependencies: PolicyResource[] = [];
        for (const urn of r.dependencies ?? []) {
            const d = byUrn.get(urn);
            if (d !== undefined) dependencies.push(d);
        }
        out[i].dependencies = dependencies;
    });
    return out;
}

/** The resource options CrossGuard hands a policy, from what the plan recorded. */
function policyOptions(r: ResourceSnapshot): PolicyResourceOptions {
    const opts = r.opts ?? {};
    const timeouts = opts.customTimeouts;
    // Built field by field (no spreads): a stack analysis makes one for every resource.
    const options = { protect: opts.protect === true, ignoreChanges: opts.ignoreChanges ?? [] } as PolicyResourceOptions;
    if (opts.deleteBeforeReplace) options.deleteBeforeReplace = true;
    options.customTimeouts = timeouts
        ? { createSeconds: durationSeconds(timeouts.create) ?? 0, updateSeconds: durationSeconds(timeouts.update) ?? 0, deleteSeconds: durationSeconds(timeouts.delete) ?? 0 }
        : { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 };
    options.additionalSecretOutputs = [];
    if (r.parent) options.parent = r.parent;
    const declared = opts.aliases;
    if (!declared?.length) {
        options.aliases = [];
        return options;
    }
    // Alias URNs are computed when a policy reads them: most policies never do.
    let aliases: string[] | undefined;
    return Object.defineProperty(options, "aliases", {
        enumerable: true,
        get: () => {
            const where = parseUrn(r.urn);
            return (aliases ??= where ? declared.map((a) => aliasUrn(a, r, where.stack, where.project)) : []);
        },
    });
}

