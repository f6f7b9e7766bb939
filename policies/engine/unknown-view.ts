import { UnknownValueError } from "@pulumi/policy";
import { isSecretValue, unwrapSecrets } from "./wire";

/**
 * CrossGuard's unknown-checking proxy (`@pulumi/policy` proxy.js, `unknownCheckingProxy`), put only
 * where an unknown can be read. CrossGuard wraps a resource's whole props and every object read out
 * of them, so every property read of every policy goes through a trap; during a preview most
 * resources hold no unknown at all, and a read that cannot reach an unknown gives the same value
 * through the proxy as without it. So the evaluator hands out:
 * - the props themselves when nothing inside them is unknown;
 * - otherwise a proxy whose reads behave as CrossGuard's: reading an unknown throws its
 *   `UnknownValueError` with the same path, `__isSpecialProxy` and `__getSpecialProxyTarget` answer
 *   as there, an object that holds an unknown is handed out behind the same kind of proxy (its path
 *   carried on), and an object that holds none is handed out as it is.
 * What a policy can tell apart is only what no policy should depend on: that a value free of
 * unknowns is the same object each time it is read, and is not marked as a proxy.
 */

/** @pulumi/policy's sentinels for values unknown during a preview (proxy.js, `isUnknown`), and its proxy's own keys. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxyModule = require("@pulumi/policy/proxy") as Record<string, string>;
const UNKNOWN_SENTINELS: ReadonlySet<unknown> = new Set(
    ["unknownBooleanValue", "unknownNumberValue", "unknownStringValue", "unknownArrayValue", "unknownAssetValue", "unknownArchiveValue", "unknownObjectValue"].map((k) => proxyModule[k]),
);
const IS_SPECIAL_PROXY = proxyModule.isSpecialProxy;
const GET_SPECIAL_PROXY_TARGET = proxyModule.getSpecialProxyTarget;

/** Every sentinel is a UUID: a string of another length (most, and every long one) is not looked up. */
const SENTINEL_LENGTH = 36;
if (UNKNOWN_SENTINELS.size !== 7 || [...UNKNOWN_SENTINELS].some((v) => typeof v !== "string" || v.length !== SENTINEL_LENGTH) || typeof IS_SPECIAL_PROXY !== "string" || typeof GET_SPECIAL_PROXY_TARGET !== "string") {
    throw new Error("@pulumi/policy/proxy no longer exports the unknown sentinels and proxy keys the evaluator mirrors");
}

function isUnknownSentinel(value: unknown): boolean {
    return typeof value === "string" && value.length === SENTINEL_LENGTH && UNKNOWN_SENTINELS.has(value);
}

function view<T extends object>(target: T, path: readonly PropertyKey[], holders: Set<object>): T {
    return new Proxy(target, {
        get: (obj, prop) => {
            if (prop === IS_SPECIAL_PROXY) return true;
            if (prop === GET_SPECIAL_PROXY_TARGET) return obj;
            const field = (obj as Record<PropertyKey, unknown>)[prop];
            if (isUnknownSentinel(field)) throw new UnknownValueError(field, [...path, prop]);
            if ((typeof field !== "object" && typeof field !== "function") || field === null || !holders.has(field)) return field;
            // The Proxy invariant CrossGuard's proxy honours too: a non-configurable, non-writable own value is returned as it is.
            const desc = Object.getOwnPropertyDescriptor(obj, prop);
            if (desc && "value" in desc && desc.configurable === false && desc.writable === false) return field;
            return view(field, [...path, prop], holders);
        },
    });
}

/** What `scan` found at or below a value. */
const HOLDS_UNKNOWN = 1;
const NEEDS_UNWRAP = 2;

/**
 * Marks in `holders` every object and array at or below `value` that holds an unknown (anything but
 * plain objects, arrays and primitives, a class instance or a function, counts as one, so it stays
 * behind the proxy as in CrossGuard), and in the same walk finds whether a secret wrapper or an
 * undefined property is inside (see wire.ts `unwrapSecrets`; a wrapper is not walked into).
 */
function scan(value: unknown, holders: Set<object>): number {
    if (typeof value === "string") return isUnknownSentinel(value) ? HOLDS_UNKNOWN : 0;
    if (typeof value === "function") {
        holders.add(value);
        return HOLDS_UNKNOWN;
    }
    if (typeof value !== "object" || value === null) return 0;
    if (isSecretValue(value)) return NEEDS_UNWRAP;
    let found = 0;
    if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) found |= HOLDS_UNKNOWN;
        for (let i = 0; i < value.length; i++) found |= scan(value[i], holders);
    } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) found |= HOLDS_UNKNOWN;
        for (const key in value) {
            const v = (value as Record<string, unknown>)[key];
            found |= v === undefined ? NEEDS_UNWRAP : scan(v, holders);
        }
    }
    if (found & HOLDS_UNKNOWN) holders.add(value);
    return found;
}

/**
 * Props as the engine sends them (secrets wrapped) as a policy reads them during a preview: the
 * secrets' values in place (as CrossGuard's deserializer puts them), and the props themselves when
 * they hold no unknown, else behind an unknown-checking proxy where (and only where) an unknown can
 * be read. Props with no secret inside (most) take one walk and no copy; others are unwrapped (a
 * copy with neither wrappers nor undefined properties) and walked again.
 */
export function propsForPolicies<T extends Record<string, unknown>>(props: T): T {
    let holders = new Set<object>();
    let found = scan(props, holders);
    let unwrapped = props;
    if (found & NEEDS_UNWRAP) {
        unwrapped = unwrapSecrets(props) as T;
        holders = new Set<object>();
        found = scan(unwrapped, holders);
    }
    return found & HOLDS_UNKNOWN ? view(unwrapped, [], holders) : unwrapped;
}
