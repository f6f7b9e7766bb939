import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { aliasUrn, ChangeOp, containsUnknown, inheritedChildAlias, isSecretValue, parseUrn, ResourceChange, ResourceSnapshot } from "compute-region-policies/engine";
import type { RegistrationAnswer } from "./harness";
import { checkedProviderInputs, checkedResourceInputs, PROVIDER_INTERNAL_KEY, providerPackage } from "./provider-check";
import { ConditionalReplacement, replacementRule, ReplacementRule, RuleSource } from "./rules";
import type { PendingOperation, PriorResource, PriorState } from "./state";
import { diffValues, formatPath, parsePath, pathsOverlap, valueAt, ValueDiff, withValueAt } from "./values";

/**
 * The offline plan's diff, as the engine's step generator makes it (pulumi/pulumi v3.248.0
 * pkg/resource/deploy/step_generator.go): each registered resource is matched with the state by
 * URN, then by its aliases (and those its parent's alias implies), and becomes a create, an update
 * (with the input paths that change), a replacement (a change the type's replacement rules or its
 * replaceOnChanges say forces one, its provider replaced, or a taint), or stays the same; what the
 * state holds and the program no longer registers is deleted. A protected resource that would be
 * replaced or deleted fails the plan with the engine's own message.
 *
 * Registration goes in program order, so when the plan runs against a state, each resource the
 * engine keeps answers the program with its old id and outputs (known, as in a real preview).
 */

/** Why a resource is replaced: the input path and the rule, with where the rule was read. */
export interface ReplaceReason {
    path: string;
    why: string;
    source?: string;
    /** The new value is known only after the deploy: the cause lies with what it comes from. */
    unknown?: true;
}

export interface PlannedChange extends ResourceChange {
    custom: boolean;
    parent?: string;
    /** What it depends on, in the plan (in the state, for a delete). */
    dependencies: string[];
    /** Its provider's URN. */
    provider?: string;
    /** The URN it has in the state, when it was found under an alias. */
    formerUrn?: string;
    reasons: ReplaceReason[];
    /** Why the old resource goes before its replacement is created, when it does. */
    deleteBeforeReplace?: string;
    /** A delete that leaves the cloud resource in place (retainOnDelete). */
    retained?: boolean;
    /** A delete left over from an interrupted replacement. */
    pendingDelete?: boolean;
    /** A create an interrupted update left pending: the resource may exist already. */
    pendingCreate?: boolean;
}

export interface ProtectError {
    urn: string;
    op: "replace" | "delete";
    /** The engine's message, word for word. */
    message: string;
}

export interface PlanChanges {
    against: { kind: PriorState["kind"]; source: string; project: string; stack: string; resources: number };
    /** Every resource of the plan in registration order, then what is deleted. */
    changes: PlannedChange[];
    counts: Record<ChangeOp, number>;
    protectErrors: ProtectError[];
    /** Custom types the plan met without a replacement rule (planned as updates). */
    unruled: string[];
    /** Operations an interrupted update left pending in the state: resolve them before the next update. */
    pendingOperations: PendingOperation[];
}

/**
 * The engine's messages (pkg/resource/deploy/step_generator.go and step.go at v3.248.0, unchanged at
 * v3.259.0): a replacement of a resource protected before and after, and the delete of one.
 */
export const ENGINE_MESSAGES = {
    /** The warning the engine prints before an update of a state with pending operations (pkg/resource/deploy/deployment_executor.go at v3.248.0). */
    pendingOperations: (ops: readonly Pick<PendingOperation, "urn" | "type">[]) =>
        `Attempting to deploy or update resources with ${ops.length} pending operations from previous deployment.\n` +
        ops.map((op) => `  * ${op.urn}, interrupted while ${op.type}\n`).join("") +
        "These resources are in an unknown state because the Pulumi CLI was interrupted while waiting for changes to these resources to complete. " +
        "You should confirm whether or not the operations listed completed successfully by checking the state of the appropriate provider. " +
        "For example, if you are using AWS, you can confirm using the AWS Console.\n\n" +
        "Once you have confirmed the status of the interrupted operations, you can repair your stack using `pulumi refresh` which will refresh the state " +
        "from the provider you are using and clear the pending operations if there are any.\n\n" +
        "Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations.",
    replaceProtected: (urn: string) =>
        `unable to replace resource ${JSON.stringify(urn)}\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``,
    deleteProtected: (urn: string) =>
        `resource ${JSON.stringify(urn)} cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect ${shellQuote(urn)}\``,
};

/** `URN.Quote()`: single quotes for a shell, as the engine prints the unprotect command. */
function shellQuote(urn: string): string {
    return `'${urn.replace(/'/g, `'"'"'`)}'`;
}

/** Reserved input keys of bridged and Kubernetes providers, not properties (pulumi-terraform-bridge reservedkeys, pulumi-kubernetes). */
const RESERVED_INPUTS = new Set(["__defaults", "__meta", "__pulumi_raw_state_delta", "__inputs"]);
/** The bridge writes `__defaults` into nested objects too (its Check converts every object level): never a property. */
const NESTED_RESERVED = "__defaults";
/** Packages the Terraform bridge serves: their inputs carry `__defaults`. */
const BRIDGED_PACKAGES = new Set(["aws", "random"]);
/** What stands in for a secret the state keeps encrypted: its value is never read or printed. */
export const OPAQUE_SECRET = "[secret kept in the state]";
const DEFAULT_PROVIDER = /^default(?:_(\d+)_(\d+)_(\d+)(?:_(.+))?)?$/;

function sourceText(sources: readonly RuleSource[]): string {
    const s = sources[0];
    return s ? `${s.repo}@${s.ref} ${s.file}` : "";
}

/**
 * The default provider the engine creates for a package (pkg/resource/deploy/providers): its
 * inputs are the package's config (`aws:region` becomes `region`) and its version.
 */
export function defaultProviderSnapshot(urn: string, config: Record<string, string>): ResourceSnapshot | undefined {
    const parts = parseUrn(urn);
    const match = parts && parts.type.startsWith("pulumi:providers:") ? DEFAULT_PROVIDER.exec(parts.name) : null;
    if (!parts || !match) return undefined;
    const pkg = parts.type.slice("pulumi:providers:".length);
    const props: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) if (key.startsWith(`${pkg}:`)) props[key.slice(pkg.length + 1)] = value;
    if (match[1]) props.version = `${match[1]}.${match[2]}.${match[3]}${match[4] ? `-${match[4].replace(/_/g, ".")}` : ""}`;
    return { urn, type: parts.type, name: parts.name, props, opts: { protect: false }, dependencies: [], custom: true };
}

export interface DifferOptions {
    stack: string;
    project: string;
    /** The stack config the program runs with: the default providers' inputs. */
    config: Record<string, string>;
}

export class Differ {
    private readonly olds = new Map<string, PriorResource>();
    private readonly claimed = new Set<string>();
    /** New URN to the state URN it was found under (the engine's `sg.aliases`). */
    private readonly formerUrns = new Map<string, string>();
    private readonly planned = new Map<string, PlannedChange>();
    private readonly order: PlannedChange[] = [];
    /** Each registration's inputs after its provider's Check: what the engine diffs and stores. */
    private readonly newProps = new Map<string, Record<string, unknown>>();
    /** An earlier plan's provider inputs after CheckConfig, by URN (a checkpoint stores them checked). */
    private readonly oldProviderInputs = new Map<string, Record<string, unknown>>();
    private readonly protectErrors: ProtectError[] = [];
    private readonly unruled = new Set<string>();

    constructor(
        private readonly prior: PriorState,
        private readonly options: DifferOptions,
    ) {
        for (const r of prior.resources) if (!r.pendingDelete) this.olds.set(r.urn, r);
        // An earlier plan records no default providers: the engine would have created them from its config.
        if (prior.kind === "plan") {
            for (const r of prior.resources) {
                if (!r.provider || this.olds.has(r.provider)) continue;
                const provider = defaultProviderSnapshot(r.provider, prior.config ?? {});
                if (provider) this.olds.set(provider.urn, { urn: provider.urn, type: provider.type, custom: true, inputs: provider.props, outputs: provider.props, protect: false, dependencies: [] });
            }
        }
    }

    /** The step for one registration, in program order; with a checkpoint, the answer the engine gives the program. */
    answer(snapshot: ResourceSnapshot): RegistrationAnswer | undefined {
        const change = this.register(snapshot);
        const old = change.formerUrn ? this.olds.get(change.formerUrn) : this.olds.get(change.urn);
        if (!snapshot.custom || !old || old.id === undefined || (change.op !== "same" && change.op !== "update")) return undefined;
        const rule = replacementRule(snapshot.type);
        // The new inputs over the old state, whose computed values stay: for an update that is the
        // provider's preview; for a resource that stays the inputs are the state's own, and overlaying
        // them gives back what the checkpoint holds encrypted (the engine decrypts it; the plan cannot).
        let outputs = overlay(stateToWire(old.outputs), snapshot.props) as Record<string, unknown>;
        if (change.op === "update") {
            for (const path of rule?.recomputedOnUpdate ?? []) outputs = withValueAt(outputs, parsePath(path), undefined);
        }
        return { id: old.id, outputs };
    }

    register(n: ResourceSnapshot): PlannedChange {
        if (n.opts?.provider && !this.planned.has(n.opts.provider)) {
            const provider = defaultProviderSnapshot(n.opts.provider, this.options.config);
            if (provider) this.register(provider);
        }
        const checked = this.checked(n);
        this.newProps.set(n.urn, checked);
        const { old, formerUrn } = this.findOld(n);
        const custom = n.custom !== false;
        const base = { urn: n.urn, type: n.type, name: n.name, custom, ...(n.parent ? { parent: n.parent } : {}), dependencies: n.dependencies ?? [], ...(n.opts?.provider ? { provider: n.opts.provider } : {}), diffs: [] as string[], replacedBy: [] as string[], reasons: [] as ReplaceReason[] };
        const newSide = { props: checked, protect: n.opts?.protect === true };
        let change: PlannedChange;
        if (!old) {
            change = { ...base, op: "create", new: newSide };
        } else {
            const rule = custom ? replacementRule(n.type) : undefined;
            if (custom && !rule && !n.type.startsWith("pulumi:providers:")) this.unruled.add(n.type);
            const { prior, next } = diffedInputs(this.priorInputs(old, n), checked, n, rule);
            const unknownsEqual = (property: string | number | undefined) => this.prior.kind === "plan" && !this.readsNewValues(n, property);
            const diffs = suppress(diffValues(prior, next, { unknownsEqual }), rule, prior, next);
            const reasons = this.replaceReasons(n, old, rule, diffs, prior, next);
            const op: ChangeOp = reasons.length > 0 ? "replace" : diffs.length > 0 ? "update" : "same";
            change = {
                ...base,
                op,
                ...(formerUrn ? { formerUrn } : {}),
                diffs: [...new Set(diffs.map((d) => formatPath(d.path)))],
                replacedBy: [...new Set(reasons.map((r) => r.path))],
                reasons,
                old: { props: old.inputs, outputs: old.outputs, protect: old.protect },
                new: newSide,
            };
            if (op === "replace") {
                const dbr = deleteBeforeReplace(n, old, rule, next);
                if (dbr) change.deleteBeforeReplace = dbr;
                // Unprotecting and replacing in one update is allowed: both must be protected to refuse.
                if (newSide.protect && old.protect) this.protectErrors.push({ urn: n.urn, op: "replace", message: ENGINE_MESSAGES.replaceProtected(n.urn) });
            }
        }
        this.planned.set(n.urn, change);
        this.order.push(change);
        return change;
    }

    /** The plan's changes: every registration's, then the deletes of what the program no longer declares. */
    finish(): PlanChanges {
        const deletes: PlannedChange[] = [];
        // The engine deletes in reverse dependency order; the state lists dependencies first.
        for (const old of [...this.prior.resources].reverse()) {
            if (!old.pendingDelete && this.claimed.has(old.urn)) continue;
            const name = parseUrn(old.urn)?.name ?? old.urn;
            deletes.push({
                urn: old.urn,
                type: old.type,
                name,
                custom: old.custom,
                ...(old.parent ? { parent: old.parent } : {}),
                dependencies: old.dependencies,
                op: "delete",
                diffs: [],
                replacedBy: [],
                reasons: [],
                old: { props: old.inputs, outputs: old.outputs, protect: old.protect },
                ...(old.retainOnDelete ? { retained: true } : {}),
                ...(old.pendingDelete ? { pendingDelete: true } : {}),
            });
            if (old.protect && !old.pendingDelete) this.protectErrors.push({ urn: old.urn, op: "delete", message: ENGINE_MESSAGES.deleteProtected(old.urn) });
        }
        const changes = [...this.order, ...deletes];
        const counts: Record<ChangeOp, number> = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
        for (const c of changes) counts[c.op]++;
        const pendingOperations = this.prior.pendingOperations ?? [];
        const pendingCreates = new Set(pendingOperations.filter((op) => op.type === "creating").map((op) => op.urn));
        for (const c of changes) if (c.op === "create" && pendingCreates.has(c.urn)) c.pendingCreate = true;
        const { kind, source, project, stack } = this.prior;
        return { against: { kind, source, project, stack, resources: this.prior.resources.length }, changes, counts, protectErrors: this.protectErrors, unruled: [...this.unruled].sort(), pendingOperations };
    }

    /** A registration's inputs as its provider's Check returns them (offline/provider-check.ts). */
    private checked(n: ResourceSnapshot): Record<string, unknown> {
        if (providerPackage(n.type)) return checkedProviderInputs(n.type, n.props, n.opts?.version);
        if (n.custom === false) return n.props;
        return checkedResourceInputs(n.type, n.props, n.opts?.provider ? this.newProps.get(n.opts.provider) : undefined);
    }

    /**
     * The old inputs as the engine stored them. A checkpoint holds them checked; an earlier plan holds
     * what its program registered, checked here the same way (a plan written before plans recorded a
     * provider's version takes the new one, so the version is no change).
     */
    private priorInputs(old: PriorResource, n: ResourceSnapshot): Record<string, unknown> {
        if (this.prior.kind === "state") return old.inputs;
        if (providerPackage(old.type)) return this.oldProviderChecked(old, n.opts?.version);
        if (!old.custom) return old.inputs;
        const provider = old.provider ? this.olds.get(old.provider) : undefined;
        return checkedResourceInputs(old.type, old.inputs, provider ? this.oldProviderChecked(provider) : undefined);
    }

    private oldProviderChecked(old: PriorResource, fallbackVersion?: string): Record<string, unknown> {
        let inputs = this.oldProviderInputs.get(old.urn);
        if (!inputs) this.oldProviderInputs.set(old.urn, (inputs = checkedProviderInputs(old.type, old.inputs, old.version ?? fallbackVersion)));
        return inputs;
    }

    /** The state's resource for a registration: by URN first, then by each alias (`getOldResource`). */
    private findOld(n: ResourceSnapshot): { old?: PriorResource; formerUrn?: string } {
        const { stack, project } = this.options;
        const candidates = [n.urn];
        const specs = n.opts?.aliases ?? [];
        const collapse = (spec: (typeof specs)[number]) => aliasUrn(spec, n, stack, project, (u) => this.formerUrns.get(u));
        for (const spec of specs) candidates.push(collapse(spec));
        const parentFormer = n.parent ? this.formerUrns.get(n.parent) : undefined;
        if (n.parent && parentFormer) {
            const parentName = parseUrn(n.parent)?.name ?? "";
            candidates.push(inheritedChildAlias(n.type, n.name, parentName, parentFormer, stack, project));
            for (const spec of specs) {
                const child = parseUrn(collapse(spec));
                if (child) candidates.push(inheritedChildAlias(child.type, child.name, parentName, parentFormer, stack, project));
            }
        }
        for (const urn of candidates) {
            const old = this.olds.get(urn);
            if (!old || this.claimed.has(urn)) continue;
            this.claimed.add(urn);
            if (urn !== n.urn) {
                this.formerUrns.set(n.urn, urn);
                return { old, formerUrn: urn };
            }
            return { old };
        }
        return {};
    }

    /**
     * Whether an unknown input may hold a new value: what it comes from (its property's dependencies,
     * or all the resource's when they were not recorded) is created or replaced.
     */
    private readsNewValues(n: ResourceSnapshot, property: string | number | undefined): boolean {
        const fresh = (urn: string) => {
            const op = this.planned.get(urn)?.op;
            return op === "create" || op === "replace";
        };
        const from = (typeof property === "string" ? n.propertyDependencies?.[property] : undefined) ?? n.dependencies ?? [];
        return from.some(fresh);
    }

    private replaceReasons(n: ResourceSnapshot, old: PriorResource, rule: ReplacementRule | undefined, diffs: ValueDiff[], prior: Record<string, unknown>, next: Record<string, unknown>): ReplaceReason[] {
        const reasons: ReplaceReason[] = [];
        const add = (path: string, why: string, source?: string, unknown = false) => {
            if (!reasons.some((r) => r.path === path && r.why === why)) reasons.push({ path, why, ...(source ? { source } : {}), ...(unknown ? { unknown: true as const } : {}) });
        };
        if (rule) {
            const source = sourceText(rule.source);
            for (const forceNew of rule.forceNew) {
                const pattern = parsePath(forceNew);
                for (const d of diffs) if (pathsOverlap(pattern, d.path)) add(formatPath(d.path), `${forceNew} forces replacement${d.unknown ? " (its new value is known only after the deploy)" : ""}`, source, d.unknown);
            }
            const providerProps = n.opts?.provider ? this.newProps.get(n.opts.provider) : undefined;
            for (const c of rule.conditional ?? []) {
                const path = conditionalReplaces(c, diffs, prior, next, old, providerProps ?? {});
                if (path !== undefined) add(path, c.why, source, c.kind === "whenUnknown" || diffs.some((d) => d.unknown && formatPath(d.path) === path));
            }
        }
        for (const p of n.opts?.replaceOnChanges ?? []) {
            const pattern = parsePath(p);
            for (const d of diffs) if (p === "*" || pathsOverlap(pattern, d.path)) add(formatPath(d.path), `replaceOnChanges ${p}`, undefined, d.unknown);
        }
        if (old.taint) add("(taint)", "marked for replacement in the state (pulumi state taint)");
        const provider = n.opts?.provider ? this.planned.get(n.opts.provider) : undefined;
        if (provider?.op === "replace") add("(provider)", `its provider ${provider.name} is replaced`);
        else if (provider?.op === "create" && old.provider && old.provider !== n.opts?.provider && this.formerUrns.get(n.opts!.provider!) !== old.provider) {
            add("(provider)", `it moves to the new provider ${provider.name}`);
        }
        return reasons;
    }
}

/** Nested `__defaults` lists dropped (copying only the objects that hold one). */
function withoutNestedDefaults(value: unknown): unknown {
    if (Array.isArray(value)) {
        const mapped = value.map(withoutNestedDefaults);
        return mapped.some((v, i) => v !== value[i]) ? mapped : value;
    }
    if (typeof value !== "object" || value === null || isSecretValue(value)) return value;
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
        const next = k === NESTED_RESERVED ? undefined : withoutNestedDefaults(v);
        if (next !== v) {
            out ??= { ...(value as Record<string, unknown>) };
            if (next === undefined) delete out[k];
            else out[k] = next;
        }
    }
    return out ?? value;
}

/**
 * What the provider diffs: the old inputs and the new ones after its Check (defaults and names kept,
 * ignoreChanges applied). A provider's `__internal` is the engine's, stripped before DiffConfig
 * (registry.go FilterProviderConfig).
 */
function diffedInputs(oldInputs: Record<string, unknown>, checked: Record<string, unknown>, n: ResourceSnapshot, rule: ReplacementRule | undefined): { prior: Record<string, unknown>; next: Record<string, unknown> } {
    const isProvider = providerPackage(n.type) !== undefined;
    const prior: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(oldInputs)) if (!RESERVED_INPUTS.has(k) && !(isProvider && k === PROVIDER_INTERNAL_KEY)) prior[k] = withoutNestedDefaults(v);
    let next = isProvider ? Object.fromEntries(Object.entries(checked).filter(([k]) => k !== PROVIDER_INTERNAL_KEY)) : checked;
    // The bridge's Check fills what it defaulted before (an auto-name, say) when the program leaves it unset.
    const kept = [...(BRIDGED_PACKAGES.has(n.type.split(":")[0]) && Array.isArray(oldInputs.__defaults) ? (oldInputs.__defaults as string[]) : []), ...(rule?.keptWhenUnset ?? [])];
    for (const key of kept) if (next[key] === undefined && prior[key] !== undefined) next = { ...next, [key]: prior[key] };
    for (const path of n.opts?.ignoreChanges ?? []) {
        const segments = parsePath(path);
        next = withValueAt(next, segments, valueAt(prior, segments));
    }
    return { prior, next };
}

/** Changes the provider hides from its diff. */
function suppress(diffs: ValueDiff[], rule: ReplacementRule | undefined, prior: Record<string, unknown>, next: Record<string, unknown>): ValueDiff[] {
    let out = diffs;
    for (const s of rule?.suppressed ?? []) {
        const path = parsePath(s.path);
        if (s.kind === "ignored") {
            out = out.filter((d) => !(d.path.length >= path.length && pathsOverlap(path, d.path)));
            continue;
        }
        const before = Number(valueAt(prior, path));
        const after = Number(valueAt(next, path));
        const limit = Number(valueAt(next, parsePath(s.limit)));
        if (before > after && limit > after) out = out.filter((d) => !pathsOverlap(path, d.path));
    }
    return out;
}

const isSet = (v: unknown) => v !== undefined && v !== null && v !== "" && v !== 0 && !(Array.isArray(v) && v.length === 0);

/** The path a conditional replacement replaces on, or undefined when it does not hold. */
function conditionalReplaces(c: ConditionalReplacement, diffs: ValueDiff[], prior: Record<string, unknown>, next: Record<string, unknown>, old: PriorResource, provider: Record<string, unknown>): string | undefined {
    const paths = "paths" in c ? c.paths : [c.path];
    for (const p of paths) {
        const path = parsePath(p);
        const changed = diffs.filter((d) => pathsOverlap(path, d.path));
        if (changed.length === 0) continue;
        if (c.kind === "whenUnknown") {
            if (containsUnknown(valueAt(next, path))) return p;
            continue;
        }
        const before = valueAt(prior, path);
        const after = valueAt(next, path);
        const holds = ((): boolean => {
            switch (c.kind) {
                case "whenRemoved":
                    return isSet(before) && !isSet(after);
                case "whenTransition":
                    return before === c.from && after === c.to;
                case "exceptTransition":
                    return !(before === c.from && after === c.to);
                case "unlessSet":
                    return !isSet(valueAt(next, parsePath(c.unlessSet)));
                case "whenOld":
                    return (valueAt(old.outputs, parsePath(c.other)) ?? valueAt(prior, parsePath(c.other))) === c.equals;
                case "whenNew":
                    return (valueAt(next, parsePath(c.other)) === c.equals) !== (c.not === true);
                case "whenChangedFromSet":
                    return isSet(before) && isSet(after);
                case "whenPriorValueChanges":
                    return isSet(before);
                case "mapIgnoringNulls":
                    return changed.some((d) => !(d.kind === "update" && valueAt(next, d.path) === null));
                case "unlessEmptyToUnset":
                    return !changed.every((d) => d.unknown) && !(before === "" && after === undefined);
                case "unlessProviderOption": {
                    const option = provider[c.option];
                    return (next as { immutable?: unknown }).immutable === true || !(option === true || option === "true");
                }
                case "unlessProviderDefault": {
                    const own = provider[c.providerInput];
                    return !((!isSet(before) && after === own) || (before === own && !isSet(after)));
                }
            }
        })();
        if (holds) return formatPath(changed[0].path);
    }
    return undefined;
}

/** Why the old resource is deleted before its replacement is created, if it is. */
function deleteBeforeReplace(n: ResourceSnapshot, old: PriorResource, rule: ReplacementRule | undefined, next: Record<string, unknown>): string | undefined {
    if (n.opts?.deleteBeforeReplace) return "the deleteBeforeReplace option";
    if (rule?.deleteBeforeReplace !== "fixed-name") return undefined;
    const meta = (next.metadata ?? {}) as { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown> };
    const oldMeta = ((old.outputs.metadata ?? old.inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown });
    const autonamed = meta.annotations?.["pulumi.com/autonamed"] === "true";
    if (typeof meta.name !== "string" || autonamed || meta.name !== oldMeta.name || (meta.namespace ?? "default") !== (oldMeta.namespace ?? "default")) return undefined;
    return `its metadata.name ${meta.name} is fixed, so the provider deletes the old object first`;
}

/**
 * New inputs laid over old outputs, as a planned update reads (Terraform keeps a computed
 * attribute's prior value unless the provider marks it recomputed): objects merge key by key, lists
 * of the same length element by element, anything else is the new value.
 */
function overlay(old: unknown, next: unknown): unknown {
    if (next === undefined) return old;
    if (isSecretValue(next) || isSecretValue(old)) return next;
    if (Array.isArray(old) && Array.isArray(next)) return old.length === next.length ? next.map((v, i) => overlay(old[i], v)) : next;
    if (typeof old === "object" && old !== null && !Array.isArray(old) && typeof next === "object" && next !== null && !Array.isArray(next)) {
        const out: Record<string, unknown> = { ...(old as Record<string, unknown>) };
        for (const [k, v] of Object.entries(next)) out[k] = overlay(out[k], v);
        return out;
    }
    return next;
}

/** State values as the program receives them: secrets stay secret, their encrypted values unread. */
export function stateToWire(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(stateToWire);
    if (typeof value === "object" && value !== null) {
        if (isSecretValue(value)) return { [specialSigKey]: specialSecretSig, value: OPAQUE_SECRET };
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = stateToWire(v);
        return out;
    }
    return value;
}

/** Compares an earlier state (a checkpoint or an earlier plan) with the resources a plan registered, in their order. */
export function diffResources(prior: PriorState, resources: readonly ResourceSnapshot[], options: DifferOptions): PlanChanges {
    const differ = new Differ(prior, options);
    for (const r of resources) differ.register(r);
    return differ.finish();
}
