import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/**
 * The engine's wire format for resource properties, as recorded by the offline plan: unknown values
 * are a sentinel string, secrets a `{ <sig key>: <secret sig>, value }` wrapper. CrossGuard unwraps
 * secrets before policies see them and turns unknowns into "can't run during preview".
 */
export const UNKNOWN = unknownValue;

export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** True when a secret wrapper or an undefined property sits anywhere inside. */
function needsUnwrap(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(needsUnwrap);
    if (typeof value === "object" && value !== null) {
        if (isSecretValue(value)) return true;
        for (const v of Object.values(value)) if (v === undefined || needsUnwrap(v)) return true;
    }
    return false;
}

/**
 * Every secret wrapper replaced by its value, as CrossGuard's deserializer does. Values without a
 * secret inside are returned as they are (policies never write to them), so most resources cost
 * one read-only walk and no copy.
 */
export function unwrapSecrets(value: unknown): unknown {
    return needsUnwrap(value) ? copyUnwrapped(value) : value;
}

function copyUnwrapped(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(copyUnwrapped);
    if (isSecretValue(value)) return copyUnwrapped(value.value);
    if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            // Properties with undefined values are treated as absent, as in CrossGuard.
            if (v !== undefined) out[k] = copyUnwrapped(v);
        }
        return out;
    }
    return value;
}

/** True when the value or anything inside it is unknown during a preview. */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
    return false;
}
