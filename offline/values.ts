import { containsUnknown, isSecretValue, UNKNOWN } from "compute-region-policies/engine";

/**
 * Property values as the engine compares them: paths into inputs, secrets compared by presence
 * (the state's are encrypted), unknown values (the preview's sentinel) always a change.
 */

/** A path into a value: property names and list indexes. */
export type Segments = (string | number)[];

/** `a.b[0]["x.y"]`, the way Pulumi prints property paths. */
export function formatPath(path: Segments): string {
    let out = "";
    for (const s of path) {
        if (typeof s === "number") out += `[${s}]`;
        else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
        else out += `[${JSON.stringify(s)}]`;
    }
    return out;
}

/** The segments of a rule path such as `launchTemplate.id` or `tagFieldSpecifications[*].tagKeys` (`*` any index). */
export function parsePath(path: string): Segments {
    const out: Segments = [];
    const re = /([^.[\]]+)|\[(\*|\d+|"(?:[^"\\]|\\.)*")\]/g;
    for (const m of path.matchAll(re)) {
        if (m[1] !== undefined) out.push(m[1]);
        else if (m[2] === "*") out.push("*");
        else if (m[2].startsWith('"')) out.push(JSON.parse(m[2]) as string);
        else out.push(Number(m[2]));
    }
    return out;
}

/** True when one path lies at or beneath the other (`*` in the pattern matches any index). */
export function pathsOverlap(pattern: Segments, path: Segments): boolean {
    const n = Math.min(pattern.length, path.length);
    for (let i = 0; i < n; i++) {
        if (pattern[i] === "*" ? typeof path[i] !== "number" && path[i] !== "*" : pattern[i] !== path[i]) return false;
    }
    return true;
}

export function valueAt(value: unknown, path: Segments): unknown {
    let v = value;
    for (const s of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string | number, unknown>)[s];
    }
    return v;
}

/** `value` with `path` set to `to` (or removed when `to` is undefined), copying only along the path. */
export function withValueAt(value: Record<string, unknown>, path: Segments, to: unknown): Record<string, unknown> {
    const set = (node: unknown, i: number): unknown => {
        const key = path[i];
        const copy: any = Array.isArray(node) ? [...node] : typeof node === "object" && node !== null ? { ...node } : typeof key === "number" ? [] : {};
        if (i === path.length - 1) {
            if (to === undefined) delete copy[key];
            else copy[key] = to;
        } else copy[key] = set(copy[key], i + 1);
        return copy;
    };
    return path.length === 0 ? value : (set(value, 0) as Record<string, unknown>);
}

/** Absent, as the engine treats it: undefined and null alike. */
function isAbsent(value: unknown): boolean {
    return value === undefined || value === null;
}

export interface ValueDiff {
    path: Segments;
    kind: "add" | "delete" | "update";
    /** The new value is unknown until the deploy. */
    unknown: boolean;
}

export interface DiffOptions {
    /** Whether an unknown on both sides (two plans) under this top-level property is the same value; when not, it is a change. */
    unknownsEqual: (property: string | number | undefined) => boolean;
}

/**
 * The leaf paths where `next` differs from `prior`. Secrets are equal when both sides are secret
 * and the new one is known (the state's value cannot be read); an unknown new value is a change.
 */
export function diffValues(prior: unknown, next: unknown, options: DiffOptions, path: Segments = [], out: ValueDiff[] = []): ValueDiff[] {
    if (next === UNKNOWN || (isSecretValue(next) && containsUnknown(next))) {
        if (!(containsUnknown(prior) && options.unknownsEqual(path[0]))) out.push({ path, kind: isAbsent(prior) ? "add" : "update", unknown: true });
        return out;
    }
    if (isSecretValue(prior) || isSecretValue(next)) {
        if (isAbsent(prior) || isAbsent(next)) out.push({ path, kind: isAbsent(prior) ? "add" : "delete", unknown: false });
        else if (isSecretValue(prior) && !isSecretValue(next)) out.push({ path, kind: "update", unknown: false }); // ciphertext against a plain value
        else if (!isSecretValue(prior) && diffValues(prior, (next as { value: unknown }).value, options).length > 0) out.push({ path, kind: "update", unknown: false });
        return out;
    }
    if (isAbsent(prior) && isAbsent(next)) return out;
    if (isAbsent(prior)) {
        out.push({ path, kind: "add", unknown: false });
        return out;
    }
    if (isAbsent(next)) {
        out.push({ path, kind: "delete", unknown: false });
        return out;
    }
    if (Array.isArray(prior) && Array.isArray(next)) {
        const n = Math.max(prior.length, next.length);
        for (let i = 0; i < n; i++) diffValues(prior[i], next[i], options, [...path, i], out);
        return out;
    }
    if (typeof prior === "object" && typeof next === "object" && !Array.isArray(prior) && !Array.isArray(next)) {
        const a = prior as Record<string, unknown>;
        const b = next as Record<string, unknown>;
        for (const key of Object.keys(a)) diffValues(a[key], b[key], options, [...path, key], out);
        for (const key of Object.keys(b)) if (!(key in a)) diffValues(undefined, b[key], options, [...path, key], out);
        return out;
    }
    if (prior !== next) out.push({ path, kind: "update", unknown: false });
    return out;
}
