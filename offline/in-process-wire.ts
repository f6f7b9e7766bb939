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
 * that keeps the value as the round trip would return it (checked the way `Value.fromJavaScript`
 * checks, so a value protobuf refuses fails the same way), hands it back from `toJavaScript`, and
 * builds its protobuf fields only if something reads them (its field map, its binary encoding), so
 * nothing that encodes for a real engine can see an empty Struct. The plan's document is the same
 * either way: test/offline-plan.test.ts plans with both and compares them byte for byte.
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

/** A Struct that holds its value as JavaScript until something needs its protobuf fields. */
class InProcessStruct extends Struct {
    private encoded: ProtoStruct | undefined;

    constructor(private readonly value: Record<string, unknown>) {
        super();
    }

    override toJavaScript(): Record<string, unknown> {
        return this.encoded ? this.encoded.toJavaScript() : (wireCopy(this.value) as Record<string, unknown>);
    }

    /** Everything that encodes a Struct (serializeBinary, toObject) reads its fields through here. */
    override getFieldsMap(noLazyCreate?: boolean): unknown {
        this.encoded ??= encodeStruct(this.value);
        return this.encoded.getFieldsMap(noLazyCreate);
    }
}

let depth = 0;

/** Runs `work` with Structs kept in process (nested calls share one switch), and restores protobuf's own after. */
export async function withInProcessStructs<T>(work: () => Promise<T>): Promise<T> {
    if (depth === 0) Struct.fromJavaScript = (value: unknown) => new InProcessStruct(structCopy(value as Record<string, unknown>));
    depth++;
    try {
        return await work();
    } finally {
        depth--;
        if (depth === 0) Struct.fromJavaScript = encodeStruct;
    }
}

/** Why a value needs the SDK's own serializer. */
const NEEDS_SDK = Symbol("needs the SDK's serializer");

/**
 * What `rpc.serializeProperties` makes of a mock's answer when it holds only plain data (strings,
 * numbers, booleans, null, arrays, objects, unknowns), computed in one pass instead of one awaited
 * call per value: functions and undefined members are left out, undefined array elements become
 * null, an unknown becomes the unknown sentinel. Anything the SDK resolves or references (a
 * promise, an output, a resource, an asset) returns undefined, and the caller uses the SDK's.
 */
export function plainWireValues(state: Record<string, unknown>): Record<string, unknown> | undefined {
    const out = plainWireValue(state);
    return out === NEEDS_SDK ? undefined : (out as Record<string, unknown>);
}

function plainWireValue(value: unknown): unknown {
    if (value === undefined || value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
    if (typeof value === "function") return undefined;
    if (typeof value !== "object") return NEEDS_SDK;
    if (pulumi.isUnknown(value)) return unknownValue;
    if (resolvedBySdk(value)) return NEEDS_SDK;
    if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (const element of value) {
            const v = plainWireValue(element);
            if (v === NEEDS_SDK) return NEEDS_SDK;
            out.push(v === undefined ? null : v);
        }
        return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
        const v = plainWireValue((value as Record<string, unknown>)[k]);
        if (v === NEEDS_SDK) return NEEDS_SDK;
        if (v !== undefined) out[k] = v;
    }
    return out;
}

/** A value `rpc.serializeProperty` resolves (a promise, an output) or turns into a reference (a resource, an asset or archive). */
function resolvedBySdk(value: object): boolean {
    return value instanceof Promise || pulumi.Output.isInstance(value) || pulumi.Resource.isInstance(value) || pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
}
