import { UNKNOWN } from "compute-region-policies/engine";
import providerTypesJson from "./provider-types.json";
import type { ProviderTypes } from "../scripts/provider-types";

/**
 * A resource's outputs in a create preview: its inputs, with every property the provider computes
 * and the program did not set unknown, nested ones included (offline/provider-types.json, generated
 * from the providers' own type declarations by scripts/provider-types.ts, says which). The engine
 * turns those into unknown outputs for the program; an absent value where the engine passes an
 * unknown one would hide bugs (a `null` security group id, say).
 */
export const PROVIDER_TYPES = providerTypesJson as unknown as ProviderTypes;

/** Packages whose resources all have a class of their own, so a type missing from the facts is a stale file. */
const TYPED_PACKAGES = new Set(["aws", "random"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** Sets `path` (segments; `x[]` walks every element of list `x`) to unknown where it is absent. */
function markUnknown(target: Record<string, unknown>, segments: readonly string[]): void {
    const [head, ...rest] = segments;
    if (rest.length === 0) {
        if (target[head] === undefined) target[head] = UNKNOWN;
        return;
    }
    const list = head.endsWith("[]");
    const child = target[list ? head.slice(0, -2) : head];
    // An absent parent is either computed itself (already unknown) or optional and not set (stays absent).
    if (list) {
        if (Array.isArray(child)) for (const element of child) if (isPlainObject(element)) markUnknown(element, rest);
    } else if (isPlainObject(child)) {
        markUnknown(child, rest);
    }
}

function copy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(copy);
    if (isPlainObject(value)) {
        // A loop, not fromEntries(entries().map()): this runs on every input of every resource.
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(value)) {
            if (k === "__proto__") Object.defineProperty(out, k, { value: copy(value[k]), enumerable: true, writable: true, configurable: true });
            else out[k] = copy(value[k]);
        }
        return out;
    }
    return value;
}

/** The state a create preview returns for a new resource of `type` with `inputs`. */
export function previewOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const facts = PROVIDER_TYPES.resources[type];
    if (!facts) {
        const pkg = type.split(":")[0];
        if (TYPED_PACKAGES.has(pkg)) throw new Error(`offline/provider-types.json has no facts for ${type}: run npm run provider-types`);
        // Kubernetes kinds without a class (CustomResource) and the engine's own types: the inputs as they are.
        return { ...inputs };
    }
    const state = copy(inputs) as Record<string, unknown>;
    for (const path of facts.previewUnknown) markUnknown(state, path.split("."));
    return state;
}
