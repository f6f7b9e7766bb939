import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { answerOffTheWire, wireCopy, withInProcessWire } from "../offline/in-process-wire";
import { withoutStackCapture } from "../offline/stack-capture";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Struct } = createRequire(require.resolve("@pulumi/pulumi"))("google-protobuf/google/protobuf/struct_pb");
const debuggable = require("@pulumi/pulumi/runtime/debuggable");
const sdkState = require("@pulumi/pulumi/runtime/state");
const rpc = require("@pulumi/pulumi/runtime/rpc");
/* eslint-enable @typescript-eslint/no-require-imports */

/** What a protobuf Struct round trip returns, key order included (JSON.stringify keeps it). */
const roundTrip = (value: object) => JSON.stringify(Struct.fromJavaScript(value).toJavaScript());

class WithInherited {
    own = 1;
}
(WithInherited.prototype as unknown as Record<string, unknown>).inherited = "from the prototype";

const WIRE_VALUES: Record<string, object> = {
    "nested objects and arrays, keys unsorted": { z: 1, a: { y: [3, { d: null, c: "x" }], b: true }, m: [] },
    "numbers protobuf keeps as doubles": { negativeZero: -0, big: 2 ** 60, small: 1e-300, nan: NaN, inf: -Infinity },
    "integer-like and non-ASCII keys": { "10": "ten", "9": "nine", é: "e-acute", Z: "upper", a: "lower", "": "empty" },
    "the engine's sentinels": { unknown: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", secret: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s" } },
    "an instance's inherited enumerable members (for...in reads them)": new WithInherited(),
};

describe("Structs kept in process (offline/in-process-wire.ts)", () => {
    for (const [what, value] of Object.entries(WIRE_VALUES)) {
        it(`copies ${what} as the protobuf round trip returns them`, () => {
            expect(JSON.stringify(wireCopy(value))).toBe(roundTrip(value));
        });
    }

    it("refuses what protobuf refuses, with its message", () => {
        for (const bad of [{ a: undefined }, { f: () => 1 }, { s: Symbol("s") }, { l: [1, undefined] }]) {
            expect(() => Struct.fromJavaScript(bad)).toThrow("Unexpected struct type.");
            expect(() => wireCopy(bad)).toThrow("Unexpected struct type.");
        }
    });

    it("hands the value back, and encodes to the same bytes when something asks for them", async () => {
        const encode = Struct.fromJavaScript;
        const value = WIRE_VALUES["nested objects and arrays, keys unsorted"];
        const expectedBytes = Buffer.from(encode(value).serializeBinary()).toString("hex");
        await withInProcessWire(async () => {
            expect(Struct.fromJavaScript).not.toBe(encode);
            const kept = Struct.fromJavaScript(value);
            expect(kept).toBeInstanceOf(Struct);
            // A fresh copy each read, as a decoded message gives.
            expect(kept.toJavaScript()).not.toBe(kept.toJavaScript());
            expect(JSON.stringify(kept.toJavaScript())).toBe(roundTrip(value));
            expect(Buffer.from(kept.serializeBinary()).toString("hex")).toBe(expectedBytes);
            expect(JSON.stringify(Struct.deserializeBinary(kept.serializeBinary()).toJavaScript())).toBe(roundTrip(value));
            // A value protobuf refuses fails when the monitor reads it.
            expect(() => Struct.fromJavaScript({ a: undefined }).toJavaScript()).toThrow("Unexpected struct type.");
        });
        expect(Struct.fromJavaScript).toBe(encode);
    });
});

describe("values serialized in one pass where they are plain (offline/in-process-wire.ts)", () => {
    const fn = () => "dropped";
    const resource = new pulumi.DependencyResource("urn:pulumi:dev::p::kubernetes:core/v1:Namespace::n");
    // Fresh each call: an output is read once.
    const VALUES: Record<string, () => Record<string, unknown>> = {
        "scalars, nesting and nulls": () => ({ s: "x", n: 0, b: false, nothing: null, nested: { list: [1, "two", { three: 3 }] } }),
        "undefined members left out, undefined elements as null": () => ({ gone: undefined, list: [undefined, 1], deep: { gone: undefined, kept: "k" } }),
        "functions left out": () => ({ f: fn, list: [fn], deep: { f: fn } }),
        "unknowns as the sentinel": () => ({ u: pulumi.unknown, list: [pulumi.unknown], deep: { u: pulumi.unknown } }),
        "outputs, promises and secrets at every depth": () => ({
            name: pulumi.output("n"),
            spec: { list: [1, pulumi.output({ a: [1, undefined] }), undefined, Promise.resolve("p")], gone: undefined, f: fn, deep: { secret: pulumi.secret("s"), plain: { x: 1 } } },
            later: Promise.resolve({ nested: pulumi.output("o") }),
        }),
        "resources and their outputs, which are dependencies": () => ({ ref: resource, urn: resource.urn, spec: { namespace: resource.urn.apply((u) => u.split("::")[3]), plain: "p" } }),
        "assets and archives": () => ({ code: new pulumi.asset.StringAsset("a"), bundle: new pulumi.asset.AssetArchive({ f: new pulumi.asset.StringAsset("b") }) }),
    };

    /** A serializer's result and the dependencies it gathered per property, comparable (toStrictEqual tells undefined from null and from absent). */
    async function serialized(run: () => Promise<unknown>): Promise<unknown> {
        const [result, deps] = (await run()) as [unknown, Map<string, Set<unknown>>];
        return { result, deps: [...deps].map(([k, set]) => [k, [...set].map((r) => r === resource)]) };
    }

    for (const [what, value] of Object.entries(VALUES)) {
        it(`gives what the SDK's serializers give for ${what}, dependencies included`, async () => {
            const expected = await serialized(() => rpc.serializeResourceProperties("label", value(), { keepOutputValues: false }));
            const expectedProperties = await rpc.serializeProperties("label", value());
            await withInProcessWire(async () => {
                expect(await serialized(() => rpc.serializeResourceProperties("label", value(), { keepOutputValues: false }))).toStrictEqual(expected);
                expect(await rpc.serializeProperties("label", value())).toStrictEqual(expectedProperties);
            });
        });
    }

    it("answers a mock's state as the SDK's serializer and a Struct round trip give it, keys sorted (or fails as they do)", async () => {
        // A resource reference without an id serializes with `id: undefined`, which a Struct refuses: the same error both ways.
        const outcome = (run: () => Promise<unknown>) => run().then((v) => JSON.stringify(v), (e: Error) => `error: ${e.message}`);
        for (const value of Object.values(VALUES)) {
            const expected = await outcome(async () => wireCopy(await rpc.serializeProperties("", value())));
            expect(await outcome(() => answerOffTheWire(value()))).toBe(expected);
            await withInProcessWire(async () => expect(await outcome(() => answerOffTheWire(value()))).toBe(expected));
        }
    });

    it("names the property whose value failed, as the SDK does", async () => {
        const failing = () => ({ ok: "x", spec: { deep: [Promise.reject(new Error("no value"))] } });
        const expected = await rpc.serializeProperties("label", failing()).catch((e: Error) => e.message);
        expect(expected).toBe('error serializing property "spec": no value');
        await withInProcessWire(async () => {
            expect(await rpc.serializeProperties("label", failing()).catch((e: Error) => e.message)).toBe(expected);
        });
    });

    it("puts the SDK's serializers back after the plan", async () => {
        const before = [rpc.serializeProperty, rpc.serializeProperties, rpc.serializePropertiesReturnDeps, rpc.serializeResourceProperties];
        await withInProcessWire(async () => expect(rpc.serializeProperties).not.toBe(before[1]));
        expect([rpc.serializeProperty, rpc.serializeProperties, rpc.serializePropertiesReturnDeps, rpc.serializeResourceProperties]).toEqual(before);
    });
});

describe("the SDK's promise labels, off during a plan (offline/stack-capture.ts)", () => {
    it("keeps what the leak check at exit reads: a candidate until settled, a rejection naming its promise", async () => {
        const original = debuggable.debuggablePromise;
        await withoutStackCapture(async () => {
            expect(debuggable.debuggablePromise).not.toBe(original);
            const candidates: Set<Promise<unknown>> = sdkState.getStore().leakCandidates;
            let resolve!: (v: string) => void;
            const pending = new Promise<string>((r) => (resolve = r));
            const wrapped = debuggable.debuggablePromise(pending, "a label");
            expect(candidates.has(pending)).toBe(true);
            expect(Object.getOwnPropertyNames(pending)).toEqual([]);
            resolve("value");
            await expect(wrapped).resolves.toBe("value");
            expect(candidates.has(pending)).toBe(false);

            const failing = Promise.reject(new Error("failed"));
            const rejected = debuggable.debuggablePromise(failing, "a label");
            const err = await rejected.catch((e: Error & { promise?: unknown }) => e);
            expect(err.message).toBe("failed");
            expect(err.promise).toBe(failing);
            expect(candidates.has(failing)).toBe(false);
        });
        expect(debuggable.debuggablePromise).toBe(original);
        // Back on: the SDK labels its promises again.
        const labelled = Promise.resolve(1);
        await debuggable.debuggablePromise(labelled, "after");
        expect(Object.getOwnPropertyNames(labelled)).toContain("_debugCtx");
    });
});
