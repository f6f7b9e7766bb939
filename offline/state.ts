import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { parseUrn, ResourceSnapshot } from "compute-region-policies/engine";
import { PlanInputError } from "./project";

/**
 * The earlier state a plan is compared with: a `pulumi stack export` checkpoint, or an earlier
 * plan's `--json` document (a branch against main). Read strictly: a file of another project or
 * stack, a format version or feature this reader does not know, or truncated JSON is refused with
 * a message that says which (exit code 2), as the engine refuses a deployment it cannot read.
 *
 * Format (pulumi/pulumi v3.259.0 sdk/go/common/apitype/core.go and pkg/resource/stack/deployment.go,
 * spot-checked at v3.248.0): `{ version, features?, deployment: { manifest, secrets_providers?,
 * resources: [ResourceV3] } }`; version 3 when no feature is used, 4 with a `features` list.
 */

/** A resource of the earlier state. */
export interface PriorResource {
    urn: string;
    type: string;
    custom: boolean;
    /** The cloud's id; absent for components and in an earlier plan (unknown there). */
    id?: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    parent?: string;
    protect: boolean;
    dependencies: string[];
    /** The provider's URN (the reference without its id). */
    provider?: string;
    /** Left by an interrupted replacement: deleted by the next update. */
    pendingDelete?: boolean;
    /** Marked for replacement (`pulumi state taint`). */
    taint?: boolean;
    retainOnDelete?: boolean;
    /** Read, not managed (`get` functions, StackReferences). */
    external?: boolean;
    /** An earlier plan's provider: the version it was registered with (a checkpoint keeps it in the inputs). */
    version?: string;
}

/**
 * An operation an interrupted update left in the state (`deployment.pending_operations`, OperationV2):
 * the engine cannot know whether it completed. The next update writes back only pending creates
 * (pkg/backend/snapshot.go), so those are the ones a state keeps.
 */
export interface PendingOperation {
    type: (typeof PENDING_OPERATION_TYPES)[number];
    urn: string;
    resourceType: string;
    /** The cloud id, when the operation had one (an update, a delete, an import). */
    id?: string;
}

/** OperationType values (sdk/go/common/apitype/core.go; `importing` from pulumi refresh --import-pending-creates, sdk/go/common/resource). */
export const PENDING_OPERATION_TYPES = ["creating", "updating", "deleting", "reading", "importing"] as const;

export interface PriorState {
    kind: "state" | "plan";
    /** The file read, for messages. */
    source: string;
    project: string;
    stack: string;
    resources: PriorResource[];
    /** The stack config of an earlier plan (absent in a checkpoint, which keeps none). */
    config?: Record<string, string>;
    /** A checkpoint's pending operations, when an update was interrupted. */
    pendingOperations?: PendingOperation[];
}

/**
 * The checkpoint's integrity cookie: the SHA-256 of the engine version that wrote it, in hex
 * (pulumi/pulumi v3.248.0 sdk/go/common/apitype/core.go ManifestV1.NewMagic). `pulumi stack import`
 * refuses a checkpoint whose magic does not match (pkg/resource/deploy/snapshot.go VerifyIntegrity).
 */
export function manifestMagic(engineVersion: string): string {
    return engineVersion === "" ? "" : createHash("sha256").update(engineVersion).digest("hex");
}

/** Deployment format versions this reader knows. */
export const CHECKPOINT_VERSIONS = [3, 4] as const;

/**
 * Version-4 features (pkg/resource/stack/deployment.go at v3.259.0) and what this reader does with
 * them: those it plans with, and those it refuses because it would plan them wrong.
 */
export const CHECKPOINT_FEATURES: Record<string, { supported: boolean; meaning: string }> = {
    refreshBeforeUpdate: { supported: true, meaning: "resources refreshed before each update (nothing to plan offline)" },
    hooks: { supported: true, meaning: "resource hooks (they run programs, they change no diff)" },
    taint: { supported: true, meaning: "resources marked for replacement (planned as replacements)" },
    views: { supported: false, meaning: "view resources a provider owns (Pulumi CLI 3.187)" },
    replaceWith: { supported: false, meaning: "replacement dependencies between resources (Pulumi CLI 3.207)" },
    "snippets-prototype": { supported: false, meaning: "program snippets (Pulumi CLI 3.246)" },
    extensionParameterization: { supported: false, meaning: "parameterized extensions (Pulumi CLI 3.249)" },
    byteString: { supported: false, meaning: "strings that are not UTF-8 (Pulumi CLI 3.254)" },
};

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a JSON file, telling truncated JSON from other damage. */
function readJson(file: string, flag: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new PlanInputError(`${flag} ${file}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        const message = (e as Error).message;
        // A cut after a whole value reads as a missing separator at the very end ("Expected ',' or ']' ... at position <length>").
        const position = /at position (\d+)/.exec(message);
        const atEnd = position !== null && Number(position[1]) >= text.trimEnd().length;
        const truncated = /Unexpected end of JSON input|Unterminated string|end of data/i.test(message) || text.trim().length === 0 || atEnd;
        throw new PlanInputError(
            truncated
                ? `${flag} ${file}: the JSON ends early (${text.length} bytes; truncated?): ${message}. Export it again with pulumi stack export --file ${file}`
                : `${flag} ${file}: is not JSON: ${message}`,
        );
    }
}

/** Every URN of the file must be of this project and stack. */
function checkOwner(resources: readonly { urn: string }[], expected: { project: string; stack: string }, source: string): void {
    for (const r of resources) {
        const parts = parseUrn(r.urn);
        if (!parts) throw new PlanInputError(`${source}: ${JSON.stringify(r.urn)} is not a URN (urn:pulumi:<stack>::<project>::<type>::<name>)`);
        if (parts.project !== expected.project || parts.stack !== expected.stack) {
            throw new PlanInputError(
                `${source}: is the state of ${parts.project}/${parts.stack}, not of ${expected.project}/${expected.stack} (resource ${r.urn}): export the stack you plan (pulumi stack export -s ${expected.stack})`,
            );
        }
    }
}

/** A `pulumi stack export` checkpoint of `expected`'s stack. */
export function readCheckpoint(file: string, expected: { project: string; stack: string }): PriorState {
    const doc = readJson(file, "--state");
    if (!isRecord(doc)) throw new PlanInputError(`--state ${file}: must be a pulumi stack export document (an object with "version" and "deployment")`);
    if (Array.isArray(doc.resources) && !("deployment" in doc)) {
        throw new PlanInputError(`--state ${file}: is a plan document, not a stack export: pass it with --against`);
    }
    const version = doc.version;
    if (typeof version !== "number" || !CHECKPOINT_VERSIONS.includes(version as 3 | 4)) {
        const why = typeof version !== "number" ? `has no format version` : version > 4 ? `has format version ${version}, newer than this reader knows` : `has format version ${version}, older than this reader knows`;
        throw new PlanInputError(`--state ${file}: ${why} (it reads versions ${CHECKPOINT_VERSIONS.join(" and ")}, what pulumi stack export writes since Pulumi CLI 3.183)`);
    }
    if (version === 4) {
        if (doc.features !== undefined && !(Array.isArray(doc.features) && doc.features.every((f) => typeof f === "string"))) {
            throw new PlanInputError(`--state ${file}: "features" must be a list of feature names`);
        }
        const features = (doc.features ?? []) as string[];
        const unknown = features.filter((f) => !CHECKPOINT_FEATURES[f]);
        if (unknown.length > 0) {
            throw new PlanInputError(`--state ${file}: uses the deployment feature${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}, which this reader does not know (it knows ${Object.keys(CHECKPOINT_FEATURES).join(", ")})`);
        }
        const unsupported = features.filter((f) => !CHECKPOINT_FEATURES[f].supported);
        if (unsupported.length > 0) {
            throw new PlanInputError(
                `--state ${file}: uses the deployment feature${unsupported.length > 1 ? "s" : ""} ${unsupported.map((f) => `${f} (${CHECKPOINT_FEATURES[f].meaning})`).join(", ")}, which this reader does not plan`,
            );
        }
    }
    const deployment = doc.deployment;
    if (!isRecord(deployment)) throw new PlanInputError(`--state ${file}: has no "deployment" object`);
    // The engine's integrity check (VerifyIntegrity): the magic is the SHA-256 of the engine version in the manifest.
    const manifest = isRecord(deployment.manifest) ? deployment.manifest : {};
    const engineVersion = typeof manifest.version === "string" ? manifest.version : "";
    const magic = typeof manifest.magic === "string" ? manifest.magic : "";
    if (magic !== manifestMagic(engineVersion)) {
        throw new PlanInputError(
            `--state ${file}: its manifest's magic ${JSON.stringify(magic)} is not the one engine ${JSON.stringify(engineVersion)} writes (the checkpoint was edited or damaged): pulumi stack import refuses it ("magic cookie mismatch"). Export it again with pulumi stack export`,
        );
    }
    const list = deployment.resources ?? [];
    if (!Array.isArray(list)) throw new PlanInputError(`--state ${file}: deployment.resources must be a list`);
    const resources = list.map((item, i): PriorResource => {
        const where = `--state ${file}: deployment.resources[${i}]`;
        if (!isRecord(item) || typeof item.urn !== "string" || typeof item.type !== "string" || typeof item.custom !== "boolean") {
            throw new PlanInputError(`${where}: must have "urn", "type" and "custom" (ResourceV3)`);
        }
        const provider = typeof item.provider === "string" && item.provider ? item.provider.slice(0, item.provider.lastIndexOf("::")) : undefined;
        return {
            urn: item.urn,
            type: item.type,
            custom: item.custom,
            ...(typeof item.id === "string" && item.id ? { id: item.id } : {}),
            inputs: isRecord(item.inputs) ? item.inputs : {},
            outputs: isRecord(item.outputs) ? item.outputs : {},
            ...(typeof item.parent === "string" && item.parent ? { parent: item.parent } : {}),
            protect: item.protect === true,
            dependencies: Array.isArray(item.dependencies) ? item.dependencies.filter((d): d is string => typeof d === "string") : [],
            ...(provider ? { provider } : {}),
            ...(item.delete === true ? { pendingDelete: true } : {}),
            ...(item.taint === true ? { taint: true } : {}),
            ...(item.retainOnDelete === true ? { retainOnDelete: true } : {}),
            ...(item.external === true ? { external: true } : {}),
        };
    });
    checkOwner(resources, expected, `--state ${file}`);
    const pendingOperations = readPendingOperations(deployment.pending_operations, `--state ${file}`);
    checkOwner(pendingOperations, expected, `--state ${file}`);
    return { kind: "state", source: file, project: expected.project, stack: expected.stack, resources, ...(pendingOperations.length > 0 ? { pendingOperations } : {}) };
}

/** `deployment.pending_operations`: OperationV2 entries, `{ resource: ResourceV3, type }`. */
function readPendingOperations(list: unknown, source: string): PendingOperation[] {
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) throw new PlanInputError(`${source}: deployment.pending_operations must be a list`);
    return list.map((item, i): PendingOperation => {
        const where = `${source}: deployment.pending_operations[${i}]`;
        const resource = isRecord(item) && isRecord(item.resource) ? item.resource : undefined;
        if (!resource || typeof resource.urn !== "string" || typeof resource.type !== "string") throw new PlanInputError(`${where}: must have "resource" with "urn" and "type" (OperationV2)`);
        const type = (item as Record<string, unknown>).type;
        if (!PENDING_OPERATION_TYPES.includes(type as PendingOperation["type"])) throw new PlanInputError(`${where}: "type" must be one of ${PENDING_OPERATION_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
        return { type: type as PendingOperation["type"], urn: resource.urn, resourceType: resource.type, ...(typeof resource.id === "string" && resource.id ? { id: resource.id } : {}) };
    });
}

/** An earlier plan's `--json` document of `expected`'s stack. */
export function readPlanDocument(file: string, expected: { project: string; stack: string }): PriorState {
    const doc = readJson(file, "--against");
    if (isRecord(doc) && "deployment" in doc) throw new PlanInputError(`--against ${file}: is a stack export, not a plan document: pass it with --state`);
    if (!isRecord(doc) || !Array.isArray(doc.resources) || typeof doc.stack !== "string" || typeof doc.project !== "string") {
        throw new PlanInputError(`--against ${file}: must be a plan document written by npm run plan -- --json (with "project", "stack" and "resources")`);
    }
    if (doc.project !== expected.project || doc.stack !== expected.stack) {
        throw new PlanInputError(`--against ${file}: is a plan of ${doc.project}/${doc.stack}, not of ${expected.project}/${expected.stack}`);
    }
    (doc.resources as unknown[]).forEach((item, i) => {
        if (!isRecord(item) || typeof item.urn !== "string" || typeof item.type !== "string" || !isRecord(item.props)) {
            throw new PlanInputError(`--against ${file}: resources[${i}]: must have "urn", "type" and "props"`);
        }
    });
    const resources = priorResources(doc.resources as ResourceSnapshot[]);
    checkOwner(resources, expected, `--against ${file}`);
    const config = isRecord(doc.config) ? (Object.fromEntries(Object.entries(doc.config).filter(([, v]) => typeof v === "string")) as Record<string, string>) : undefined;
    return { kind: "plan", source: file, project: expected.project, stack: expected.stack, resources, ...(config ? { config } : {}) };
}

/** Recorded resources as an earlier state: their inputs stand for their outputs, which a plan does not know. */
export function priorResources(snapshots: readonly ResourceSnapshot[]): PriorResource[] {
    return snapshots.map((r) => ({
        urn: r.urn,
        type: r.type,
        custom: r.custom !== false,
        inputs: r.props,
        outputs: r.props,
        ...(r.parent ? { parent: r.parent } : {}),
        protect: r.opts?.protect === true,
        dependencies: r.dependencies ?? [],
        ...(r.opts?.provider ? { provider: r.opts.provider } : {}),
        ...(r.opts?.version ? { version: r.opts.version } : {}),
    }));
}
