import { isSecretValue } from "compute-region-policies/engine";
import type { PlannedChange } from "./diff";
import { valueAt, parsePath } from "./values";

/**
 * Which stack-config change is behind a planned change, for the messages that refuse a plan (a
 * protected resource replaced or deleted). With the earlier config (an earlier plan carries it),
 * the config is diffed and each resource change is linked to the config values it shows; against
 * a checkpoint, which keeps no config, the resource's new values are traced to the keys that hold
 * them now, and a deleted resource is known by the labels no resource of the plan carries any more.
 */

/** One config value that changed: `compute-region:tenants[globex]` for a named list element, `compute-region:cluster.name` for a leaf. */
export interface ConfigChange {
    key: string;
    before?: unknown;
    after?: unknown;
}

/** Config values by key, structured ones parsed, lists of named objects keyed by name. */
function flatten(config: Record<string, string>): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const walk = (key: string, value: unknown) => {
        if (Array.isArray(value)) {
            const named = value.every((v) => typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string");
            value.forEach((v, i) => walk(named ? `${key}[${(v as { name: string }).name}]` : `${key}[${i}]`, v));
            if (named) for (const v of value) out.set(`${key}[${(v as { name: string }).name}]`, v);
        } else if (typeof value === "object" && value !== null) {
            for (const [k, v] of Object.entries(value)) walk(`${key}.${k}`, v);
        } else out.set(key, value);
    };
    for (const [key, text] of Object.entries(config)) {
        let value: unknown = text;
        try {
            if (/^[[{]/.test(text)) value = JSON.parse(text);
        } catch {
            // a plain string that starts with a bracket
        }
        walk(key, value);
    }
    return out;
}

/** What differs between two stack configs: named list elements added or removed whole, other values leaf by leaf. */
export function configChanges(before: Record<string, string>, after: Record<string, string>): ConfigChange[] {
    const a = flatten(before);
    const b = flatten(after);
    const changes: ConfigChange[] = [];
    const wholeElement = (key: string, other: Map<string, unknown>) => {
        const element = /^(.*\[[^\]]+\])/.exec(key)?.[1];
        return element !== undefined && element !== key && !other.has(element) && (a.has(element) || b.has(element));
    };
    for (const [key, value] of a) {
        if (wholeElement(key, b)) continue;
        if (!b.has(key)) changes.push({ key, before: value });
        else if (JSON.stringify(b.get(key)) !== JSON.stringify(value) && typeof value !== "object") changes.push({ key, before: value, after: b.get(key) });
    }
    for (const [key, value] of b) if (!a.has(key) && !wholeElement(key, a)) changes.push({ key, after: value });
    return changes;
}

/** A config change in words. */
export function describeConfigChange(c: ConfigChange): string {
    const show = (v: unknown) => (typeof v === "object" ? "" : ` ${JSON.stringify(v)}`);
    if (c.before === undefined) return `${c.key} added${show(c.after)}`;
    if (c.after === undefined) return `${c.key} removed${show(c.before)}`;
    return `${c.key} changed from ${JSON.stringify(c.before)} to ${JSON.stringify(c.after)}`;
}

/** Words of a value that a config value could have produced: strings and numbers, not secrets. */
function tokens(value: unknown, out = new Set<string>()): Set<string> {
    if (isSecretValue(value)) return out;
    if (typeof value === "string" || typeof value === "number") out.add(String(value));
    else if (Array.isArray(value)) value.forEach((v) => tokens(v, out));
    else if (typeof value === "object" && value !== null) Object.values(value).forEach((v) => tokens(v, out));
    return out;
}

/** What a resource change shows: the values at the changed paths, or the names of a deleted resource. */
function changeTokens(change: PlannedChange): Set<string> {
    const out = new Set<string>();
    if (change.op === "delete" || change.op === "create") {
        out.add(change.name);
        const props = (change.old?.props ?? change.new?.props ?? {}) as { metadata?: { name?: unknown; labels?: Record<string, unknown> } };
        tokens(props.metadata?.name, out);
        tokens(props.metadata?.labels, out);
        return out;
    }
    for (const path of change.diffs) {
        const segments = parsePath(path);
        tokens(valueAt(change.old?.props, segments), out);
        tokens(valueAt(change.new?.props, segments), out);
    }
    return out;
}

/** True when a config value shows in a resource value: equal, or one of its dash-separated words (tenant `globex` in `dev-tenant-globex-ns`). */
function shows(configValue: unknown, resourceTokens: Set<string>): boolean {
    if (typeof configValue !== "string" && typeof configValue !== "number") return false;
    const value = String(configValue);
    if (resourceTokens.has(value)) return true;
    if (value.length < 3) return false;
    const word = new RegExp(`(^|[-/.:=,\\s])${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[-/.:=,\\s])`);
    for (const t of resourceTokens) if (word.test(t)) return true;
    return false;
}

/**
 * The resource change a replacement really comes from: one replaced because its provider is, or
 * because a value it reads will be new, goes back to that provider or dependency.
 */
export function rootCause(change: PlannedChange, byUrn: ReadonlyMap<string, PlannedChange>, order: ReadonlyMap<string, number>): PlannedChange {
    const explained = (c: PlannedChange) => c.op !== "replace" || c.reasons.some((r) => !r.unknown && !r.path.startsWith("("));
    const seen = new Set<string>();
    let frontier = [change];
    for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
        // What registered first is what the others were built from (the cluster before its access entries).
        const found = frontier.filter(explained).sort((a, b) => (order.get(a.urn) ?? 0) - (order.get(b.urn) ?? 0))[0];
        if (found) return found;
        frontier = frontier
            .flatMap((c) => [c.provider, ...c.dependencies])
            .map((u) => (u && !seen.has(u) ? (seen.add(u), byUrn.get(u)) : undefined))
            .filter((d): d is PlannedChange => d !== undefined && (d.op === "replace" || d.op === "create"));
    }
    return change;
}

/**
 * The config change behind a planned change, in words: the changed keys whose values it shows
 * (when the earlier config is known), else the keys that now hold its new values.
 */
export function configBehind(change: PlannedChange, before: Record<string, string> | undefined, after: Record<string, string>, remainingLabels: ReadonlySet<string> = new Set()): string {
    const shown = changeTokens(change);
    if (before) {
        const linked = configChanges(before, after).filter((c) => {
            const element = /\[([^\]]+)\]$/.exec(c.key)?.[1];
            return shows(c.before, shown) || shows(c.after, shown) || (element !== undefined && (c.before === undefined || c.after === undefined) && shows(element, shown));
        });
        if (linked.length > 0) return linked.map(describeConfigChange).join("; ");
    }
    // Against a checkpoint: the config values its new values show and its old ones did not.
    const side = (props: unknown) => new Set(change.diffs.flatMap((p) => [...tokens(valueAt(props, parsePath(p)))]));
    const [was, now] = [side(change.old?.props), side(change.new?.props)];
    const holders = [...flatten(after)].filter(([, v]) => typeof v !== "object" && shows(v, now) && !shows(v, was));
    if (change.op !== "delete" && holders.length > 0) return holders.map(([k, v]) => `${k} is now ${JSON.stringify(v)}`).join("; ");
    if (change.op === "delete") {
        // Against a checkpoint: name what the resource was for, the labels no resource of the plan carries any more.
        const labels = Object.entries(((change.old?.props as { metadata?: { labels?: Record<string, unknown> } })?.metadata?.labels ?? {}));
        const gone = labels.filter(([, v]) => typeof v === "string" && !remainingLabels.has(v));
        if (gone.length > 0) return `nothing in the plan carries its label${gone.length > 1 ? "s" : ""} ${gone.map(([k, v]) => `${k}=${v}`).join(", ")} any more: the stack config no longer declares it`;
        return "the program no longer declares it with this stack config";
    }
    return `its ${change.replacedBy.join(", ")} changed`;
}
