import { types } from "node:util";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { PROJECT } from "../domain/conventions";
import { DATA_TYPES, GATEWAY_TYPES, K8S_TYPES, MONITORING_TYPES, TYPES } from "../domain/types";

/**
 * A planned resource as the deploy rehearsal reads it: what the engine knows of it before the
 * deploy, from the offline plan's snapshots or from a CrossGuard stack policy's resources. Values
 * unknown during a preview are the engine's unknown sentinel.
 */
export interface GraphResource {
    urn: string;
    type: string;
    name: string;
    props: Record<string, any>;
    /** URNs of everything it waits for: input and explicit dependencies, and its explicit provider. */
    dependencies: readonly string[];
    /** False for component resources (they are not created, only their children). */
    custom: boolean;
    /** Resource option customTimeouts.create, in seconds, when set. */
    createTimeoutSeconds?: number;
    protect?: boolean;
}

/** The engine's unknown value, as the offline plan records it. */
export const UNKNOWN_VALUE: string = unknownValue;

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN_VALUE;
}

/**
 * Whether `e` is CrossGuard's UnknownValueError, thrown by its proxy when a policy reads a value
 * unknown during the preview (matched by name: the pack's copy of @pulumi/policy may not be the one
 * whose proxy threw it).
 */
export function isUnknownValueError(e: unknown): boolean {
    return (e as Error)?.constructor?.name === "UnknownValueError";
}

/**
 * Ends a policy that cannot decide because a value it needs (`resource.path`) is unknown during the
 * preview: it throws CrossGuard's own UnknownValueError, which the analyzer (and the evaluator)
 * report as "can't run policy during preview", never a violation; what the policy reported before
 * stands. The class is loaded from @pulumi/policy's dependency-free proxy module: the program imports
 * this model and must not load the policy SDK's gRPC server with it (its typings declare nothing).
 */
export function cannotDecide(path: string): never {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { UnknownValueError } = require("@pulumi/policy/proxy") as { UnknownValueError: new (sentinel: string, path: string[]) => Error };
    throw new UnknownValueError(UNKNOWN_VALUE, path.split("."));
}

/** The first path at or below `value` that is unknown during the preview (`a.b[2].c`), or undefined. */
export function unknownWithin(value: unknown, at = ""): string | undefined {
    // The path is spelled out only where there is an unknown to name: most values hold none.
    return holdsUnknown(value) ? unknownPath(value, at) : undefined;
}

function holdsUnknown(value: unknown): boolean {
    if (value === UNKNOWN_VALUE) return true;
    if (typeof value !== "object" || value === null) return false;
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (holdsUnknown(value[i])) return true;
        return false;
    }
    for (const k of Object.keys(value)) if (holdsUnknown((value as Record<string, unknown>)[k])) return true;
    return false;
}

function unknownPath(value: unknown, at: string): string | undefined {
    if (value === UNKNOWN_VALUE) return at || "(value)";
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
            const found = unknownPath(value[i], `${at}[${i}]`);
            if (found) return found;
        }
        return undefined;
    }
    if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value)) {
            const found = unknownPath(v, at ? `${at}.${k}` : k);
            if (found) return found;
        }
    }
    return undefined;
}

/**
 * The first unknown among `paths` of a resource's props (dotted paths, `list[]` for every element
 * of a list; a path whose parent is unknown is unknown too), as `name.path`: what a check that reads
 * those paths cannot decide on.
 */
export function unknownIn(r: Pick<GraphResource, "name" | "props">, ...paths: string[]): string | undefined {
    for (const path of paths) {
        const keys = keysOf(path);
        // Looked for first, spelled out only when found: the rehearsal asks this of every resource.
        if (!unknownOnPath(r.props, keys, 0)) continue;
        const found = unknownAlong(r.props, keys, "");
        if (found) return `${r.name}.${found}`;
    }
    return undefined;
}

/** A dotted path's keys, split once (the rehearsal asks about the same few paths of every resource). */
const splitPaths = new Map<string, readonly string[]>();
function keysOf(path: string): readonly string[] {
    let keys = splitPaths.get(path);
    if (!keys) {
        keys = path.split(".");
        if (splitPaths.size < 1_000) splitPaths.set(path, keys);
    }
    return keys;
}

/** Whether `unknownAlong` finds anything, without spelling out where. */
function unknownOnPath(value: unknown, keys: readonly string[], k: number): boolean {
    if (value === UNKNOWN_VALUE) return true;
    if (k === keys.length) return holdsUnknown(value);
    if (typeof value !== "object" || value === null) return false;
    const key = keys[k];
    const list = key.endsWith("[]");
    const child = (value as Record<string, unknown>)[list ? key.slice(0, -2) : key];
    if (!list) return unknownOnPath(child, keys, k + 1);
    if (child === UNKNOWN_VALUE) return true;
    if (!Array.isArray(child)) return false;
    for (let i = 0; i < child.length; i++) if (unknownOnPath(child[i], keys, k + 1)) return true;
    return false;
}

function unknownAlong(value: unknown, keys: readonly string[], at: string): string | undefined {
    if (value === UNKNOWN_VALUE) return at || "(value)";
    if (keys.length === 0) return unknownWithin(value, at);
    if (typeof value !== "object" || value === null) return undefined;
    const [key, ...rest] = keys;
    const list = key.endsWith("[]");
    const name = list ? key.slice(0, -2) : key;
    const child = (value as Record<string, unknown>)[name];
    const here = at ? `${at}.${name}` : name;
    if (!list) return unknownAlong(child, rest, here);
    if (child === UNKNOWN_VALUE) return here;
    if (!Array.isArray(child)) return undefined;
    for (let i = 0; i < child.length; i++) {
        const found = unknownAlong(child[i], rest, `${here}[${i}]`);
        if (found) return found;
    }
    return undefined;
}


/** A snapshot as the offline plan records it (see policies/engine/snapshot.ts). */
interface SnapshotLike {
    urn: string;
    type: string;
    name: string;
    props: Record<string, unknown>;
    /** What the preview returned (inputs and computed values): what stack policies see. */
    outputs?: Record<string, unknown>;
    dependencies?: readonly string[];
    custom?: boolean;
    opts?: { provider?: string; protect?: boolean; customTimeouts?: { create?: string | number } };
}

export function fromSnapshots(resources: readonly SnapshotLike[]): GraphResource[] {
    return resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        props: (r.outputs ?? r.props) as Record<string, any>,
        dependencies: [...(r.dependencies ?? []), ...(r.opts?.provider ? [r.opts.provider] : [])],
        custom: r.custom !== false && !isComponentType(r.type),
        ...(durationSeconds(r.opts?.customTimeouts?.create) !== undefined ? { createTimeoutSeconds: durationSeconds(r.opts?.customTimeouts?.create) } : {}),
        protect: r.opts?.protect === true,
    }));
}

/** A CrossGuard stack policy's resource (dependencies resolved to resources, props behind its unknown-checking proxy). */
interface PolicyResourceLike {
    urn: string;
    type: string;
    name: string;
    props: Record<string, any>;
    dependencies: readonly { urn: string }[];
    opts: { protect?: boolean; customTimeouts?: { createSeconds?: number } };
    provider?: { urn: string };
}

/** Types whose whole props the rehearsal reads; of other Kubernetes objects it reads the header, of other resources nothing. */
const READ_WHOLE: ReadonlySet<string> = new Set([
    TYPES.helmRelease, TYPES.eksAddon, TYPES.eksCluster, TYPES.eksNodeGroup, TYPES.launchTemplate, TYPES.vpc, TYPES.subnet, TYPES.stackReference,
    DATA_TYPES.rdsInstance, DATA_TYPES.rdsSubnetGroup, DATA_TYPES.ecrRepository,
    K8S_TYPES.namespace, K8S_TYPES.networkPolicy, K8S_TYPES.service, K8S_TYPES.deployment, K8S_TYPES.statefulSet, K8S_TYPES.daemonSet, K8S_TYPES.job,
    K8S_TYPES.cronJob, K8S_TYPES.replicaSet, K8S_TYPES.pod, MONITORING_TYPES.serviceMonitor, MONITORING_TYPES.podMonitor, GATEWAY_TYPES.backend,
]);

/**
 * What of a resource's props the rehearsal reads, as plain values. Reading through CrossGuard's
 * proxy costs per property: a 1,000-tenant region's quotas, roles and IAM documents are skipped.
 */
function readProps(type: string, props: Record<string, any>): Record<string, any> {
    if (READ_WHOLE.has(type)) return plain(props) as Record<string, any>;
    if (!type.startsWith("kubernetes:")) return {};
    const header: Record<string, unknown> = {};
    for (const key of ["apiVersion", "kind", "metadata"]) {
        try {
            if (props[key] !== undefined) header[key] = plain(props[key]);
        } catch (e) {
            if (!isUnknownValueError(e)) throw e;
            header[key] = UNKNOWN_VALUE;
        }
    }
    return header;
}

export function fromPolicyResources(resources: readonly PolicyResourceLike[]): GraphResource[] {
    // A plain loop, no spreads: a 1,000-tenant region has 17,679 resources.
    const out: GraphResource[] = new Array(resources.length);
    for (let i = 0; i < resources.length; i++) {
        const r = resources[i];
        const dependencies: string[] = [];
        for (const d of r.dependencies) dependencies.push(d.urn);
        if (r.provider?.urn) dependencies.push(r.provider.urn);
        const resource: GraphResource = { urn: r.urn, type: r.type, name: r.name, props: readProps(r.type, r.props), dependencies, custom: !isComponentType(r.type) };
        const createSeconds = r.opts.customTimeouts?.createSeconds;
        if (createSeconds) resource.createTimeoutSeconds = createSeconds;
        resource.protect = r.opts.protect === true;
        out[i] = resource;
    }
    return out;
}

const DURATION_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/** Seconds in a Go duration such as `1h30m` (what customTimeouts carry), or undefined when absent or unreadable. */
export function durationSeconds(duration: string | number | undefined): number | undefined {
    if (typeof duration === "number") return duration;
    if (!duration || !/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(duration.trim())) return undefined;
    let seconds = 0;
    for (const m of duration.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) seconds += Number(m[1]) * DURATION_UNITS[m[2]];
    return seconds;
}

/** The stack and this project's components are not created; every other type has a provider. */
function isComponentType(type: string): boolean {
    return type === "pulumi:pulumi:Stack" || type.startsWith(COMPONENT_TYPE_PREFIX);
}
const COMPONENT_TYPE_PREFIX = `${PROJECT}:`;

/** @pulumi/policy's key for the object behind its unknown-checking proxy (proxy.js `getSpecialProxyTarget`). */
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

/**
 * Plain values out of CrossGuard's unknown-checking proxy: a value it refuses to read (unknown
 * during the preview) becomes the unknown sentinel, as in the offline plan's snapshots.
 */
export function plain(value: unknown): unknown {
    if (typeof value !== "object" || value === null) return value;
    // CrossGuard's proxy hands out the object it wraps under this key (@pulumi/policy proxy.js,
    // getSpecialProxyTarget): the same values, unknowns as the sentinel, read without a trap per
    // property and an UnknownValueError (with its stack) per unknown. Callers only read it.
    const target = (value as Record<string, unknown>)[PROXY_TARGET_KEY];
    if (typeof target === "object" && target !== null && target !== value) return target;
    // Plain data with no proxy anywhere inside (the evaluator hands out values free of unknowns as
    // they are) already is what reading it gives: returned as it is, not copied.
    if (isPlainData(value)) return value;
    const read = (key: string | number) => {
        try {
            return plain((value as Record<string | number, unknown>)[key]);
        } catch (e) {
            if (isUnknownValueError(e)) return UNKNOWN_VALUE;
            throw e;
        }
    };
    if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(i));
    return Object.fromEntries(Object.keys(value).map((k) => [k, read(k)]));
}

/** Arrays and plain objects all the way down, with no proxy (CrossGuard's or any other, whose reads may differ from its target's). */
function isPlainData(value: object): boolean {
    if (types.isProxy(value)) return false;
    const proto = Object.getPrototypeOf(value);
    if (Array.isArray(value)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) {
            const v: unknown = value[i];
            if (typeof v === "object" && v !== null && !isPlainData(v)) return false;
        }
        return true;
    }
    if (proto !== Object.prototype && proto !== null) return false;
    for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (typeof v === "object" && v !== null && !isPlainData(v)) return false;
    }
    return true;
}
