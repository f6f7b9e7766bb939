import type {
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/**
 * The pack's own policy type: CrossGuard's policy plus what auditors need and CrossGuard lacks.
 * Each policy maps to controls in several frameworks and carries allowed and disallowed samples,
 * which are at once its tests (the build fails without them) and its documentation (the catalog).
 */

/** Frameworks the pack maps to. */
export type Framework = "NIST SP 800-53 Rev. 5" | "CIS Amazon EKS Benchmark v1.7.0" | "CIS AWS Foundations Benchmark v3.0.0" | "SOC 2 (2017 TSC)" | "Multi-Tenancy Benchmarks";

export interface ControlMapping {
    framework: Framework;
    /** Control id in that framework, e.g. `SC-7`, `5.4.2`, `CC6.6`, `MTB-PL1-CC-TI-1`. */
    control: string;
    /** Short title of the control, for auditors reading the catalog. */
    title: string;
}

/** A resource in a sample: what the plan would record, with dependencies named by resource name. */
export interface SampleResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    protect?: boolean;
    /** Names of resources in the same sample this one depends on (through inputs or dependsOn). */
    dependsOn?: string[];
    /** Name of the parent resource in the same sample. */
    parent?: string;
    /** Resource option customTimeouts, as the engine's duration strings ("30m"). */
    customTimeouts?: { create?: string; update?: string; delete?: string };
}

export interface PolicySample {
    /** What the sample shows, in a sentence. */
    description: string;
    resources: SampleResource[];
    /** Policy config for this sample (what `getConfig()` returns). */
    config?: Record<string, unknown>;
}

export interface DisallowedSample extends PolicySample {
    /** Text every violation report for this sample must contain: proves it fails for the stated reason. */
    expect: string;
}

export interface PolicySamples {
    allowed: PolicySample[];
    disallowed: DisallowedSample[];
}

/** What every policy of the pack carries for auditors, whatever it judges. */
export interface AuditFields<Samples = PolicySamples> {
    severity: Severity;
    /** Why the policy exists: the risk it removes. */
    rationale: string;
    remediationSteps: string;
    /** Control mappings; the first is the primary one, also given to CrossGuard as `framework`. */
    controls: ControlMapping[];
    samples: Samples;
}

export type RegionResourcePolicy = ResourceValidationPolicy & AuditFields;
export type RegionStackPolicy = StackValidationPolicy & AuditFields;
export type RegionPolicy = RegionResourcePolicy | RegionStackPolicy;

/** What the reports and the config reader need of any policy of the pack, whatever it judges. */
export type PackPolicy = Pick<RegionPolicy, "name" | "description" | "enforcementLevel" | "configSchema"> & AuditFields<unknown>;

export function isStackPolicy(policy: RegionPolicy): policy is RegionStackPolicy {
    return typeof (policy as RegionStackPolicy).validateStack === "function";
}

/** CrossGuard's `framework` field, from the primary mapping. */
export function primaryFramework(controls: readonly ControlMapping[]): PolicyComplianceFramework | undefined {
    const primary = controls[0];
    if (!primary) return undefined;
    const [name, version] = splitFramework(primary.framework);
    return { name, version, reference: primary.control, specification: primary.title };
}

function splitFramework(framework: Framework): [string, string] {
    const m = /^(.*?) (v?[\d.]+|Rev\. \d+|\(2017 TSC\))$/.exec(framework);
    return m ? [m[1], m[2]] : [framework, ""];
}

/** Completes a policy: sets CrossGuard's `framework` from the primary control mapping. */
export function resourcePolicy(policy: Omit<RegionResourcePolicy, "framework">): RegionResourcePolicy {
    return { ...policy, framework: primaryFramework(policy.controls) };
}

export function stackPolicy(policy: Omit<RegionStackPolicy, "framework">): RegionStackPolicy {
    return { ...policy, framework: primaryFramework(policy.controls) };
}

/** Properties as policies read them: plain JSON, any field possibly absent. */
export type Props = Record<string, any>;

/**
 * A resource validation for one type token. Like `validateResourceOfType`, it tags the function with
 * the type so CrossGuard (and the evaluator) skip other types without calling it, but it matches on
 * the token, so the pack does not load the provider SDKs.
 */
export function forType(
    typeToken: string,
    validate: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void | Promise<void>,
): (args: ResourceValidationArgs, report: ReportViolation) => void | Promise<void> {
    const fn = (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type === typeToken) return validate(args.props as Props, args, report);
        return undefined;
    };
    (fn as unknown as { __pulumiType: string }).__pulumiType = typeToken;
    return fn;
}

/**
 * The stack's resources of one type, in their order (a new array each call). Fifty-odd policies ask,
 * each of a 1,000-tenant region's 17,679 resources: they are indexed by type once per stack analysis,
 * keyed by the resources array, which CrossGuard (and the evaluator) make afresh for each analysis
 * and hand every stack policy unchanged.
 */
export function resourcesOfType(args: StackValidationArgs, typeToken: string) {
    let index = byType.get(args.resources);
    if (!index) {
        index = new Map();
        for (const r of args.resources) {
            const list = index.get(r.type);
            if (list) list.push(r);
            else index.set(r.type, [r]);
        }
        byType.set(args.resources, index);
    }
    return index.get(typeToken)?.slice() ?? [];
}
const byType = new WeakMap<StackValidationArgs["resources"], Map<string, StackValidationArgs["resources"][number][]>>();

/** A policy's config: its defaults overlaid by what `getConfig()` returns (CrossGuard fills in no defaults). */
export function configWithDefaults<T extends object>(defaults: T, args: { getConfig<C extends object>(): C }): T {
    return { ...defaults, ...args.getConfig<Partial<T>>() };
}
