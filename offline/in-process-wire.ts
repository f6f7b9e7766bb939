import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { createRequire } from "node:module";

/**
 * The offline plan's monitor lives in the program's process, so the protobuf Structs the SDK builds
 * for it (every registration's inputs, every component's outputs, every invoke's arguments) are
 * encoded value by value only to be decoded a moment later by the monitor. At 1,000 tenants that
 * round trip was about 1.5 s of a 17 s plan and a tenth of what it allocated.
 *
 * While a plan runs, `Struct.fromJavaScript` makes an {@link InProcessStruct} instead: a real Struct
 * that holds the value and hands it back from `toJavaScript` as the round trip would return it
 * (checked the way `Value.fromJavaScript` checks, so a value protobuf refuses fails the same way, at
 * the monitor's read), and builds its protobuf fields only if something reads them (its field map,
 * its binary encoding), so nothing that encodes for a real engine can see an empty Struct.
 *
 * Before that, the SDK serializes the values (rpc.serializeProperty): one awaited call per value,
 * nested ones included, so a Kubernetes spec of a hundred plain values takes a hundred promise turns,
 * and all 17,000 registrations of a large region hold their half-serialized state at once (most of
 * what the garbage collector copies). While a plan runs, the SDK's exported serializers take plain
 * subtrees (strings, numbers, booleans, null, arrays, objects) in one synchronous pass and hand
 * everything else (an output, a promise, a resource, an asset, at any depth) to the SDK's own
 * serializeProperty, so what reaches the monitor, and the dependencies gathered, are the same.
 *
 * The plan's resources are the same either way (test/offline-plan.test.ts plans with both and
 * compares them; test/offline-runtime.test.ts compares each piece with the SDK's and protobuf's own).
 */

/* eslint-disable @typescript-eslint/no-require-imports */
// google-protobuf is the SDK's dependency, not ours: patch the copy the SDK uses, wherever npm put it.
const structproto = createRequire(require.resolve("@pulumi/pulumi"))("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

/** The parts of google-protobuf's Struct this module touches (its typings are not the SDK's to give us). */
interface ProtoStruct {
    toJavaScript(): Record<string, unknown>;
    getFieldsMap(noLazyCreate?: boolean): unknown;
}
interface StructClass {
    new (): ProtoStruct;
    fromJavaScript(value: unknown): ProtoStruct;
}
const Struct = structproto.Struct as StructClass;
const encodeStruct = Struct.fromJavaScript;

/**
 * A wire value as a protobuf Struct round trip returns it: a fresh copy, object keys sorted (a
 * protobuf map iterates its keys sorted), an object's enumerable properties as `for...in` finds them;
 * anything but a string, number, boolean, null, array or object throws as `Value.fromJavaScript` does.
 */
export function wireCopy(value: unknown): unknown {
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
    if (Array.isArray(value)) {
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = wireCopy(value[i]);
        return out;
    }
    if (typeof value === "object") return structCopy(value as Record<string, unknown>);
    throw new Error("Unexpected struct type.");
}

/** The top level of a Struct: `Struct.fromJavaScript` reads any value's properties with `for...in`. */
function structCopy(value: Record<string, unknown>): Record<string, unknown> {
    const keys: string[] = [];
    for (const k in value) keys.push(k);
    keys.sort();
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = wireCopy(value[k]);
    return out;
}

/**
 * A Struct that holds its value as JavaScript until something needs its protobuf fields. It holds the
 * value itself, not a copy: every caller of `Struct.fromJavaScript` in the SDK and its mock monitor
 * hands over a value it built for the message and never changes again. The value is checked (and
 * copied, sorted) when it is read, so a value protobuf refuses fails at the monitor's read instead.
 */
class InProcessStruct extends Struct {
    private encoded: ProtoStruct | undefined;

    constructor(private readonly value: Record<string, unknown>) {
        super();
    }

    override toJavaScript(): Record<string, unknown> {
        return this.encoded ? this.encoded.toJavaScript() : structCopy(this.value);
    }

    /** Everything that encodes a Struct (serializeBinary, toObject) reads its fields through here. */
    override getFieldsMap(noLazyCreate?: boolean): unknown {
        this.encoded ??= encodeStruct(this.value);
        return this.encoded.getFieldsMap(noLazyCreate);
    }
}

let depth = 0;

/**
 * Runs `work` with Structs kept in process and plain values serialized in one pass (nested calls
 * share one switch), and restores protobuf's and the SDK's own after.
 */
export async function withInProcessWire<T>(work: () => Promise<T>): Promise<T> {
    if (depth === 0) {
        Struct.fromJavaScript = (value: unknown) => new InProcessStruct(value as Record<string, unknown>);
        Object.assign(rpc, ONE_PASS);
    }
    depth++;
    try {
        return await work();
    } finally {
        depth--;
        if (depth === 0) {
            Struct.fromJavaScript = encodeStruct;
            Object.assign(rpc, SDK_SERIALIZERS);
        }
    }
}

/**
 * A mock's answer as the monitor sends it: serialized as rpc.serializeProperties does, then as a
 * protobuf Struct round trip returns it (keys sorted): in one pass when it is plain and the
 * in-process wire is on; else through the SDK's serializer and wireCopy.
 */
export async function answerOffTheWire(state: Record<string, unknown>): Promise<Record<string, unknown>> {
    const plain = depth > 0 ? plainWireValue(state, true) : NEEDS_SDK;
    if (plain !== NEEDS_SDK) return plain as Record<string, unknown>;
    return wireCopy(await rpc.serializeProperties("", state)) as Record<string, unknown>;
}

/** Why a value needs the SDK's own serializer. */
const NEEDS_SDK = Symbol("needs the SDK's serializer");

type Serialize = (ctx: string, prop: unknown, dependentResources: Set<pulumi.Resource> | undefined, opts?: object) => Promise<unknown>;
type SerializeAll = (label: string, props: Record<string, unknown>, opts?: object) => Promise<unknown>;
/** The SDK's exported serializers (runtime/rpc.js): other SDK modules call them through the module's exports. */
interface RpcSerializers {
    serializeProperty: Serialize;
    serializeProperties: SerializeAll;
    serializePropertiesReturnDeps: SerializeAll;
    serializeResourceProperties: SerializeAll;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc: RpcSerializers = require("@pulumi/pulumi/runtime/rpc");
const SDK_SERIALIZERS: RpcSerializers = {
    serializeProperty: rpc.serializeProperty,
    serializeProperties: rpc.serializeProperties,
    serializePropertiesReturnDeps: rpc.serializePropertiesReturnDeps,
    serializeResourceProperties: rpc.serializeResourceProperties,
};

/**
 * rpc.serializeProperty with plain subtrees taken in one pass: an array or object that holds an
 * output somewhere is walked as the SDK walks it (undefined elements as null, undefined members
 * left out), and whatever the SDK resolves or references is the SDK's to serialize.
 */
async function serializeProperty(ctx: string, prop: unknown, dependentResources: Set<pulumi.Resource> | undefined, opts?: object): Promise<unknown> {
    const plain = plainWireValue(prop);
    return plain !== NEEDS_SDK ? plain : serializeNotPlain(ctx, prop, dependentResources, opts);
}

/** serializeProperty of a value plainWireValue found not plain: the SDK's own, or a container walked member by member. */
async function serializeNotPlain(ctx: string, prop: unknown, dependentResources: Set<pulumi.Resource> | undefined, opts?: object): Promise<unknown> {
    // plainWireValue answers for null and unknowns: what is left is an object the SDK resolves or a container holding one.
    if (typeof prop !== "object" || prop === null || resolvedBySdk(prop)) return SDK_SERIALIZERS.serializeProperty(ctx, prop, dependentResources, opts);
    if (prop instanceof Array) {
        const result: unknown[] = [];
        for (let i = 0; i < prop.length; i++) {
            const element = await serializeProperty(`${ctx}[${i}]`, prop[i], dependentResources, opts);
            result.push(element === undefined ? null : element);
        }
        return result;
    }
    const result: Record<string, unknown> = {};
    for (const k of Object.keys(prop)) {
        const v = await serializeProperty(`${ctx}.${k}`, (prop as Record<string, unknown>)[k], dependentResources, opts);
        if (v !== undefined) result[k] = v;
    }
    return result;
}

/** rpc's serializeFilteredProperties (not exported; its three exported callers are replaced below), with the serializer above. */
async function serializeFilteredProperties(label: string, props: Record<string, unknown>, acceptKey: (key: string) => boolean, opts?: object): Promise<[Record<string, unknown>, Map<string, Set<pulumi.Resource>>]> {
    const propertyToDependentResources = new Map<string, Set<pulumi.Resource>>();
    const result: Record<string, unknown> = {};
    for (const k of Object.keys(props)) {
        if (!acceptKey(k)) continue;
        const dependentResources = new Set<pulumi.Resource>();
        let v: unknown;
        try {
            const plain = plainWireValue(props[k]);
            v = plain !== NEEDS_SDK ? plain : await serializeNotPlain(`${label}.${k}`, props[k], dependentResources, opts);
        } catch (err) {
            // As the SDK does: the property named, the same error rethrown (its identity matters to the SDK's error handler).
            if (err instanceof Error) {
                err.message = `error serializing property "${k}": ${err.message}`;
                throw err;
            }
            throw new Error(`error serializing property "${k}": ${String(err)}`);
        }
        if (v !== undefined) {
            result[k] = v;
            propertyToDependentResources.set(k, dependentResources);
        }
    }
    return [result, propertyToDependentResources];
}

/** The serializers installed while a plan runs, each as its SDK counterpart is defined over serializeFilteredProperties. */
const ONE_PASS: RpcSerializers = {
    serializeProperty,
    serializeProperties: async (label, props, opts) => (await serializeFilteredProperties(label, props, () => true, opts))[0],
    serializePropertiesReturnDeps: (label, props, opts) => serializeFilteredProperties(label, props, () => true, opts),
    serializeResourceProperties: (label, props, opts) => serializeFilteredProperties(label, props, (key) => key !== "id" && key !== "urn", opts),
};

/**
 * What `rpc.serializeProperty` makes of a plain value (strings, numbers, booleans, null, arrays,
 * objects, unknowns), computed in one pass: functions and undefined members are left out, undefined
 * array elements become null, an unknown becomes the unknown sentinel. NEEDS_SDK when the value holds
 * anything the SDK resolves or references (a promise, an output, a resource, an asset). With
 * `sortKeys`, objects come out with their keys sorted, as a Struct round trip of the result returns them.
 */
function plainWireValue(value: unknown, sortKeys = false): unknown {
    if (value === undefined || value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
    if (typeof value === "function") return undefined;
    if (typeof value !== "object") return NEEDS_SDK;
    if (pulumi.isUnknown(value)) return unknownValue;
    if (resolvedBySdk(value)) return NEEDS_SDK;
    if (value instanceof Array) {
        const out: unknown[] = [];
        for (const element of value) {
            const v = plainWireValue(element, sortKeys);
            if (v === NEEDS_SDK) return NEEDS_SDK;
            out.push(v === undefined ? null : v);
        }
        return out;
    }
    const out: Record<string, unknown> = {};
    const keys = Object.keys(value);
    if (sortKeys) keys.sort();
    for (const k of keys) {
        const v = plainWireValue((value as Record<string, unknown>)[k], sortKeys);
        if (v === NEEDS_SDK) return NEEDS_SDK;
        if (v !== undefined) out[k] = v;
    }
    return out;
}

/** A value `rpc.serializeProperty` resolves (a promise, an output) or turns into a reference (a resource, an asset or archive). */
function resolvedBySdk(value: object): boolean {
    return value instanceof Promise || pulumi.Output.isInstance(value) || pulumi.Resource.isInstance(value) || pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
}
