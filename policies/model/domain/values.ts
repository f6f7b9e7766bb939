import { types } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ValuesRef } from "../upstream/types";

/**
 * Reads a chart's (or an add-on's) value from what the region passes it: a dotted path into the
 * values, and after `#` a dotted path into the YAML document held as a string at that value (how
 * Kueue takes its controller configuration). Undefined when the value is not set, or not readable
 * (unknown during a preview, malformed YAML): facts then fall back to the chart's defaults.
 */
export function valueAt(values: unknown, ref: ValuesRef): unknown {
    const [outer, inner] = ref.split("#");
    let value = dig(values, outer);
    if (inner === undefined) return value;
    if (typeof value !== "string") return undefined;
    return dig(parsedYaml(value), inner);
}

/** Documents parsed once: every webhook and pod of a chart reads the same one. */
const parsed = new Map<string, unknown>();
function parsedYaml(text: string): unknown {
    if (!parsed.has(text)) {
        let doc: unknown;
        try {
            doc = parseYaml(text);
        } catch {
            doc = undefined;
        }
        if (parsed.size > 64) parsed.clear();
        parsed.set(text, doc);
    }
    return parsed.get(text);
}

function dig(value: unknown, path: string): unknown {
    let v = value;
    for (const key of path.split(".")) {
        if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
        v = (v as Record<string, unknown>)[key];
    }
    return v;
}

/** The first of `refs` that the values set. */
export function firstValue(values: unknown, refs: readonly ValuesRef[] | undefined): unknown {
    for (const ref of refs ?? []) {
        const v = valueAt(values, ref);
        if (v !== undefined && v !== null) return v;
    }
    return undefined;
}

/**
 * `[value ?? []].flat()` without building it, for reading: a list as it is, nothing for null or
 * undefined, else the one value. A proxy (CrossGuard's, over a list holding a value unknown during
 * the preview) is read whole first, as flat() reads it, so an unknown anywhere in it ends the read
 * as it did; a list read as it is must not be changed.
 */
export function asList(value: unknown): readonly any[] {
    if (Array.isArray(value)) return types.isProxy(value) ? [value].flat() : value;
    return value === undefined || value === null ? [] : [value];
}
