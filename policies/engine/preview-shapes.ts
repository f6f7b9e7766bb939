import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { UNKNOWN } from "./wire";

/**
 * The shapes a preview can hand a policy that the plan it was written against never had: a property
 * absent at any depth, unknown, secret, an empty list or object, an IPv6 range where an IPv4 CIDR was.
 * The robustness tests apply them to the samples (every path, every shape) and to whole plans (seeded
 * random rounds): a policy must give a result on all of them, because a throw fails a real preview.
 */

/** What a change returns to drop the property altogether. */
export const REMOVED = Symbol("removed");

const IPV6_CIDRS = ["::/0", "2600:1f18:abcd::/56", "fd00::/8"];
const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

export function looksLikeIpv4Cidr(value: unknown): boolean {
    return typeof value === "string" && IPV4_CIDR.test(value);
}

export type PreviewShape = "removed" | "unknown" | "secret" | "empty" | "ipv6";
export const PREVIEW_SHAPES: readonly PreviewShape[] = ["removed", "unknown", "secret", "empty", "ipv6"];

/** `value` in the given shape, or undefined when that shape does not apply to it (`empty` on a scalar, `ipv6` on a non-CIDR). */
export function inShape(value: unknown, shape: PreviewShape, pick = 0): unknown {
    switch (shape) {
        case "removed":
            return REMOVED;
        case "unknown":
            return UNKNOWN;
        case "secret":
            return { [specialSigKey]: specialSecretSig, value };
        case "empty":
            return Array.isArray(value) ? [] : typeof value === "object" && value !== null ? {} : undefined;
        case "ipv6":
            return looksLikeIpv4Cidr(value) ? IPV6_CIDRS[pick % IPV6_CIDRS.length] : undefined;
    }
}

/** Every property path of a value, at every depth (list elements by index). */
export function propertyPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...propertyPaths(v, [...prefix, i])]);
    if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...propertyPaths(v, [...prefix, k])]);
    return [];
}

/** A copy of `root` with the value at `path` replaced by `replace(value)` (or dropped for `REMOVED`). */
export function withPathChanged(root: Record<string, unknown>, path: readonly (string | number)[], replace: (value: unknown) => unknown): Record<string, unknown> {
    const copy = structuredClone(root);
    let parent: any = copy;
    for (const k of path.slice(0, -1)) parent = parent[k];
    const last = path[path.length - 1];
    const next = replace(parent[last]);
    if (next !== REMOVED) parent[last] = next;
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return copy;
}

/** mulberry32: a small seeded generator, so a failing round can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * A copy of `value` with about `rate` of its paths (at every depth) put in a random applicable shape
 * of `shapes` (all by default); CIDRs are changed five times as often, half of the time to IPv6 when
 * it is among the shapes. Each change is logged as `path: shape`.
 */
export function damaged(value: unknown, next: () => number, rate: number, log: string[], at = "", shapes: readonly PreviewShape[] = PREVIEW_SHAPES): unknown {
    // A secret is a wrapper on the wire: what a preview can make unknown or absent is the value inside,
    // never its signature (an engine would not send one, and the policy SDK refuses it).
    if (isSecretWrapper(value)) {
        const inner = damagedProperty(value.value, next, rate, log, at, shapes);
        return inner === REMOVED ? REMOVED : { ...value, value: inner };
    }
    if (Array.isArray(value)) {
        const out: unknown[] = [];
        value.forEach((v, i) => {
            const changed = damagedProperty(v, next, rate, log, `${at}[${i}]`, shapes);
            if (changed !== REMOVED) out.push(changed);
        });
        return out;
    }
    if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const changed = damagedProperty(v, next, rate, log, at ? `${at}.${k}` : k, shapes);
            if (changed !== REMOVED) out[k] = changed;
        }
        return out;
    }
    return value;
}

function isSecretWrapper(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

function damagedProperty(value: unknown, next: () => number, rate: number, log: string[], at: string, shapes: readonly PreviewShape[]): unknown {
    const cidr = looksLikeIpv4Cidr(value);
    if (next() < (cidr ? rate * 5 : rate)) {
        const shape = cidr && shapes.includes("ipv6") && next() < 0.5 ? "ipv6" : shapes[Math.floor(next() * shapes.length)];
        const changed = inShape(value, shape, Math.floor(next() * 3));
        if (changed !== undefined) {
            log.push(`${at}: ${shape}`);
            return changed;
        }
    }
    return damaged(value, next, rate, log, at, shapes);
}

/** A seed derived from a value (FNV-1a over its JSON): rounds that follow the plan they damage, the same for the same plan. */
export function seedOf(text: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h & 0x7fffffff;
}
