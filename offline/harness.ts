import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { createRequire } from "node:module";
import { deserializeProperty } from "@pulumi/pulumi/runtime/rpc";
import type { AliasSpec, PlanDocument, ResourceSnapshot, ResourceSnapshotOptions } from "compute-region-policies/engine";
import { childUrn, containsUnknown, ROOT_STACK_TYPE } from "compute-region-policies/engine";
import type { OfflineFacts } from "./mocks";
import { offlineMocks } from "./mocks";
import { EngineConfig, PlanInputError, PulumiProject } from "./project";
import { providerConfigProblems } from "./provider-config";
import { answerOffTheWire, wireCopy, withInProcessWire } from "./in-process-wire";
import { stackTracesRequested, withoutStackCapture } from "./stack-capture";

/** Protobuf `Struct` as the SDK sends it. */
interface StructLike {
    toJavaScript(): Record<string, unknown>;
}

/** The parts of a RegisterResourceRequest the recorder reads. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): StructLike | undefined;
    getProtect(): boolean | undefined;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getProvider(): string;
    getVersion(): string;
    getAliasesList(): AliasMessage[];
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getDeletebeforereplace(): boolean;
    hasRetainondelete(): boolean;
    getRetainondelete(): boolean | undefined;
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

/** An alias as the SDK sends it: a URN, or a spec of the parts that differ. */
interface AliasMessage {
    hasUrn(): boolean;
    getUrn(): string;
    getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; hasParenturn(): boolean; getParenturn(): string; hasNoparent(): boolean; getNoparent(): boolean } | undefined;
}

/** What stands in for the mocks' answer to a registration: the id and outputs of a resource the engine keeps. */
export interface RegistrationAnswer {
    id: string;
    /** Outputs in the engine's wire format (secrets wrapped, unknowns as the sentinel). */
    outputs: Record<string, unknown>;
}

type Callback = (err: unknown, response?: unknown) => void;

/**
 * SDK internals the plan needs, typed here once: they are marked @internal in the SDK's typings,
 * but they are exactly what `pulumi.runtime.setMocks` uses.
 */
interface SdkInternals {
    settings: {
        setMockOptions(monitor: unknown, project?: string, stack?: string, preview?: boolean): void;
        waitForRPCs(): Promise<void>;
    };
    state: { getStore(): Record<string, unknown> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk: SdkInternals = { settings: require("@pulumi/pulumi/runtime/settings"), state: require("@pulumi/pulumi/runtime/state") };
/* eslint-disable @typescript-eslint/no-require-imports */
const resproto = require("@pulumi/pulumi/proto/resource_pb");
// google-protobuf is the SDK's dependency, not ours: load the copy the SDK uses, wherever npm put it.
const structproto = createRequire(require.resolve("@pulumi/pulumi"))("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

/** MockMonitor with its (private in the typings) URN hook visible to a subclass. */
const BaseMonitor = MockMonitor as unknown as new (mocks: pulumi.runtime.Mocks) => {
    readonly mocks: pulumi.runtime.Mocks;
    readonly resources: Map<string, { urn: string; id: string | null; state: unknown }>;
    newUrn(parent: string, type: string, name: string): string;
    registerResource(req: unknown, callback: Callback): Promise<void>;
    readResource(req: unknown, callback: Callback): Promise<void>;
    registerResourceOutputs(req: unknown, callback: Callback): void;
    invoke(req: unknown, callback: Callback): Promise<void>;
};

/**
 * The mock monitor, made to behave like the engine where the plan needs it: URNs carry the full
 * parent type chain (as the engine's do; the plain mock monitor keeps only the nearest parent), and
 * every registration is recorded with its inputs, parent, options, provider and dependencies.
 */
export class RecordingMonitor extends BaseMonitor {
    readonly records: ResourceSnapshot[] = [];
    /** Packages whose default provider the program uses (for a resource or an invoke). */
    readonly defaultProviders = new Set<string>();
    stackOutputs: Record<string, unknown> = {};
    private stackUrn: string | undefined;

    constructor(
        mocks: pulumi.runtime.Mocks,
        private readonly project: string,
        private readonly stack: string,
        private readonly onRecord?: (count: number) => void,
        private readonly onRegister?: (snapshot: ResourceSnapshot) => RegistrationAnswer | undefined,
    ) {
        super(mocks);
    }

    override newUrn(parent: string, type: string, name: string): string {
        return childUrn(this.stack, this.project, parent, type, name);
    }

    override async registerResource(req: any, callback: Callback): Promise<void> {
        const request = req as RegisterRequest;
        const urn = this.newUrn(request.getParent(), request.getType(), request.getName());
        if (request.getType() === ROOT_STACK_TYPE) this.stackUrn = urn;
        // The inputs as the engine receives them, read off the wire once: for the record and for the mocks.
        const props = request.getObject()?.toJavaScript() ?? {};
        const record = this.snapshot(urn, request, props);
        this.records.push(record);
        this.onRecord?.(this.records.length);
        const answer = this.onRegister?.(record);
        if (answer) {
            // A resource the engine keeps (planned against a state): its outputs are the state's.
            if (record.custom) record.outputs = answer.outputs;
            return this.answer(urn, answer, callback);
        }
        return this.registerNew(urn, req, props, record, callback);
    }

    /**
     * MockMonitor.registerResource, with the request's inputs deserialized from the values already
     * read (the base class reads the wire again) and the answer's outputs handed over as a protobuf
     * Struct would carry them without building one (wireResponse). What the SDK receives is the same.
     */
    private async registerNew(urn: string, req: any, props: Record<string, unknown>, record: ResourceSnapshot, callback: Callback): Promise<void> {
        try {
            const inputs: Record<string, unknown> = {};
            // As rpc.deserializeProperties does: absent values are no property.
            for (const k of Object.keys(props)) if (props[k] !== undefined) inputs[k] = deserializeProperty(props[k]);
            const result = await this.mocks.newResource({ type: req.getType(), name: req.getName(), inputs, provider: req.getProvider(), custom: req.getCustom(), id: req.getImportid() });
            // The answer as it comes off the wire, kept once: what the preview returns is what stack
            // policies see (CrossGuard hands them outputs), and what the mock monitor answers reads of it with.
            const outputs = await answerOffTheWire(result.state);
            this.resources.set(urn, { urn, id: result.id ?? null, state: outputs });
            if (record.custom) record.outputs = outputs;
            callback(null, wireResponse(urn, result.id || "", outputs));
        } catch (err) {
            callback(err, undefined);
        }
    }

    /** Answers a registration as MockMonitor does, with the given id and outputs instead of the mocks'. */
    private async answer(urn: string, answer: RegistrationAnswer, callback: Callback): Promise<void> {
        try {
            (this as unknown as { resources: Map<string, unknown> }).resources.set(urn, { urn, id: answer.id, state: answer.outputs });
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(urn);
            response.setId(answer.id);
            response.setObject(structproto.Struct.fromJavaScript(answer.outputs));
            callback(null, response);
        } catch (e) {
            callback(e);
        }
    }

    /** Reads (StackReference, `get` functions) are recorded with the state they returned, as the engine shows them to stack policies. */
    override async readResource(req: any, callback: Callback): Promise<void> {
        const urn = this.newUrn(req.getParent(), req.getType(), req.getName());
        return super.readResource(req, (err: unknown, response?: any) => {
            if (!err && response) {
                const record: ResourceSnapshot = {
                    urn,
                    type: req.getType(),
                    name: req.getName(),
                    props: response.getProperties()?.toJavaScript() ?? {},
                    opts: { protect: false, dependsOn: [] },
                    dependencies: [...new Set<string>(req.getDependenciesList?.() ?? [])],
                    custom: true,
                };
                if (req.getParent()) record.parent = req.getParent();
                this.records.push(record);
                this.onRecord?.(this.records.length);
            }
            callback(err, response);
        });
    }

    /** An invoke without an explicit provider runs on the package's default provider. */
    override async invoke(req: any, callback: Callback): Promise<void> {
        const pkg = String(req.getTok()).split(":")[0];
        if (!req.getProvider() && pkg !== "pulumi") this.defaultProviders.add(pkg);
        return super.invoke(req, callback);
    }

    override registerResourceOutputs(req: any, callback: Callback): void {
        if (req.getUrn() === this.stackUrn) {
            this.stackOutputs = (req.getOutputs() as StructLike | undefined)?.toJavaScript() ?? {};
        }
        super.registerResourceOutputs(req, callback);
    }

    private snapshot(urn: string, req: RegisterRequest, props: Record<string, unknown>): ResourceSnapshot {
        const type = req.getType();
        const dependencies = [...new Set(req.getDependenciesList())];
        // The request carries all dependencies; those not owed to an input are the explicit dependsOn.
        const fromInputs = new Set<string>();
        const unknownFrom: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            deps.getUrnsList().forEach((u) => fromInputs.add(u));
            if (containsUnknown(props[key]) && deps.getUrnsList().length > 0) unknownFrom[key] = deps.getUrnsList();
        });
        const snapshot: ResourceSnapshot = {
            urn,
            type,
            name: req.getName(),
            props,
            opts: {
                protect: req.getProtect() === true,
                dependsOn: dependencies.filter((d) => !fromInputs.has(d)),
                ...lifecycleOptions(req),
            },
            dependencies,
            custom: req.getCustom(),
        };
        if (req.getParent()) snapshot.parent = req.getParent();
        if (Object.keys(unknownFrom).length > 0) snapshot.propertyDependencies = unknownFrom;
        const provider = this.providerUrn(type, req);
        if (provider) snapshot.opts!.provider = provider;
        if (type.startsWith("pulumi:providers:") && req.getVersion()) snapshot.opts!.version = req.getVersion();
        const timeouts = req.getCustomtimeouts();
        const customTimeouts = Object.fromEntries(
            (["create", "update", "delete"] as const).map((op) => [op, timeouts?.[`get${op[0].toUpperCase()}${op.slice(1)}` as "getCreate"]() ?? ""]).filter(([, v]) => v !== ""),
        );
        if (Object.keys(customTimeouts).length > 0) snapshot.opts!.customTimeouts = customTimeouts;
        return snapshot;
    }

    /** The explicit provider's URN, or the default provider the engine would create for the package. */
    private providerUrn(type: string, req: RegisterRequest): string | undefined {
        if (!req.getCustom() || type.startsWith("pulumi:providers:")) return undefined;
        const reference = req.getProvider();
        if (reference) return reference.slice(0, reference.lastIndexOf("::"));
        const pkg = type.split(":")[0];
        this.defaultProviders.add(pkg);
        const version = req.getVersion();
        return `urn:pulumi:${this.stack}::${this.project}::pulumi:providers:${pkg}::default${version ? `_${version.replace(/[.-]/g, "_")}` : ""}`;
    }
}

/**
 * A RegisterResourceResponse with what the SDK reads of one (the shape the SDK itself uses when a
 * registration fails): the outputs come out of `getObject().toJavaScript()` as from a Struct, a
 * fresh copy with sorted keys each call. Building the Struct only to read it back cost a protobuf
 * message per value, twice per resource.
 */
function wireResponse(urn: string, id: string, outputs: Record<string, unknown>): unknown {
    return {
        getUrn: () => urn,
        getId: () => id,
        getObject: () => ({ toJavaScript: () => wireCopy(outputs) }),
        getPropertydependenciesMap: () => undefined,
        getResult: () => resproto.Result.SUCCESS,
    };
}

/** The options that shape how the engine diffs, replaces and deletes the resource; only those set, to keep the document small. */
function lifecycleOptions(req: RegisterRequest): ResourceSnapshotOptions {
    const opts: ResourceSnapshotOptions = {};
    const aliases = req.getAliasesList().map((a) => aliasSpec(a, req.getParent()));
    if (aliases.length > 0) opts.aliases = aliases;
    if (req.getIgnorechangesList().length > 0) opts.ignoreChanges = req.getIgnorechangesList();
    if (req.getReplaceonchangesList().length > 0) opts.replaceOnChanges = req.getReplaceonchangesList();
    if (req.getDeletebeforereplace()) opts.deleteBeforeReplace = true;
    if (req.hasRetainondelete() && req.getRetainondelete()) opts.retainOnDelete = true;
    const timeouts = req.getCustomtimeouts();
    const given = timeouts ? Object.entries({ create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }).filter(([, v]) => v) : [];
    if (given.length > 0) opts.customTimeouts = Object.fromEntries(given);
    return opts;
}

/** The alias as the engine reads it; a parent equal to the resource's own (which the SDK always sends) is left out, as it changes nothing. */
function aliasSpec(alias: AliasMessage, parent: string): AliasSpec {
    if (alias.hasUrn()) return { urn: alias.getUrn() };
    const spec = alias.getSpec();
    const out: Exclude<AliasSpec, { urn: string }> = {};
    if (spec?.getName()) out.name = spec.getName();
    if (spec?.getType()) out.type = spec.getType();
    if (spec?.getStack()) out.stack = spec.getStack();
    if (spec?.getProject()) out.project = spec.getProject();
    if (spec?.hasParenturn() && spec.getParenturn() !== parent) out.parentUrn = spec.getParenturn();
    if (spec?.hasNoparent() && spec.getNoparent()) out.noParent = true;
    return out;
}

export interface OfflinePlanOptions {
    project: PulumiProject;
    stack: string;
    config: EngineConfig;
    facts: OfflineFacts;
    /**
     * The program to run. Defaults to the project's compiled `main`, loaded as the Node.js language
     * host loads it (an exported function is called and its result awaited).
     */
    program?: () => unknown;
    /** Called with the number of resources registered so far. */
    onProgress?: (count: number) => void;
    /**
     * Called for each registration, in order. An answer replaces the mocks': the engine returns the
     * old id and outputs of a resource it keeps, so they are known during the preview.
     */
    onRegister?: (snapshot: ResourceSnapshot) => RegistrationAnswer | undefined;
    /**
     * Keep the SDK's per-promise and per-resource stack traces (off by default: the plan reads none
     * of them and they cost half its time; see stack-capture.ts). COMPUTE_REGION_STACK_TRACES=1 sets it.
     */
    stackTraces?: boolean;
    /**
     * Serialize the program's values as the SDK does and encode them as protobuf messages, as for a
     * monitor across gRPC (off by default: the monitor is in process and reads them back at once, so
     * plain values are serialized in one pass and Structs kept as JavaScript; see in-process-wire.ts).
     */
    sdkWire?: boolean;
}

export interface OfflinePlanResult extends PlanDocument {
    /** Keys whose secure values were replaced by placeholders. */
    placeholderSecrets: string[];
}

/** Runs the program as a preview under Pulumi's mock runtime and returns what it registered. */
export async function runOfflinePlan(options: OfflinePlanOptions): Promise<OfflinePlanResult> {
    const run = options.sdkWire ? () => planProgram(options) : () => withInProcessWire(() => planProgram(options));
    return (options.stackTraces ?? stackTracesRequested()) ? run() : withoutStackCapture(run);
}

async function planProgram(options: OfflinePlanOptions): Promise<OfflinePlanResult> {
    const { project, stack, config } = options;
    const monitor = new RecordingMonitor(offlineMocks(options.facts), project.name, stack, options.onProgress, options.onRegister);
    sdk.settings.setMockOptions(monitor, project.name, stack, true);
    const store = sdk.state.getStore();
    // What the engine negotiates with a current SDK (the same flags setMocks sets).
    Object.assign(store, {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: false,
    });
    // The engine hands the program its config as PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS.
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);

    const program =
        options.program ??
        (() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const exported = require(project.main);
            return exported instanceof Function ? exported() : exported;
        });
    // The language host reports a program's error once and fails the run. Catching it inside the
    // stack's init (and rethrowing after the registrations settle) keeps it from surfacing again
    // through every promise the SDK derived from the stack resource.
    let programError: unknown;
    let failed = false;
    await pulumi.runtime.runInPulumiStack(async () => {
        try {
            return (await program()) as Record<string, unknown>;
        } catch (e) {
            programError = e;
            failed = true;
            return {};
        }
    });
    await sdk.settings.waitForRPCs();
    if (failed) throw programError;
    // The engine configures each default provider the program uses; a bridged one rejects config it does not know.
    const providerProblems = providerConfigProblems(config, monitor.defaultProviders);
    if (providerProblems.length > 0) throw new PlanInputError(`invalid provider configuration (${providerProblems.length} problem${providerProblems.length === 1 ? "" : "s"}):\n  ${providerProblems.join("\n  ")}`);

    return {
        stack,
        project: project.name,
        resources: monitor.records,
        outputs: monitor.stackOutputs,
        placeholderSecrets: config.placeholderSecrets,
    };
}
