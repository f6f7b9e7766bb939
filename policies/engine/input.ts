import type { ResourceSnapshot } from "./snapshot";

/** Bad input to the evaluator's CLI (unreadable file, wrong shape): exit code 2. */
export class PolicyInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyInputError";
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The resources to judge, from either the offline plan's `--json` document or a bare array of
 * `{ type, name, props, outputs?, urn?, parent?, opts?, dependencies? }`. A resource without a URN gets the one
 * the engine would give a top-level resource of that type and name.
 */
export function readResources(document: unknown, source: string): ResourceSnapshot[] {
    const list = Array.isArray(document) ? document : isRecord(document) && Array.isArray(document.resources) ? document.resources : undefined;
    if (!list) throw new PolicyInputError(`${source}: must be the plan's --json document (with "resources") or an array of resources`);
    const stack = isRecord(document) && typeof document.stack === "string" ? document.stack : "stack";
    const project = isRecord(document) && typeof document.project === "string" ? document.project : "project";
    const problems: string[] = [];
    const resources = list.map((item, i): ResourceSnapshot | undefined => {
        const where = `${source}: resources[${i}]`;
        if (!isRecord(item)) {
            problems.push(`${where}: must be an object`);
            return undefined;
        }
        if (typeof item.type !== "string" || item.type === "") problems.push(`${where}.type: must be a type token such as "aws:eks/cluster:Cluster"`);
        if (typeof item.name !== "string" || item.name === "") problems.push(`${where}.name: must be a non-empty string`);
        if (item.props !== undefined && !isRecord(item.props)) problems.push(`${where}.props: must be an object`);
        if (item.outputs !== undefined && !isRecord(item.outputs)) problems.push(`${where}.outputs: must be an object`);
        if (item.urn !== undefined && typeof item.urn !== "string") problems.push(`${where}.urn: must be a string`);
        if (item.dependencies !== undefined && !(Array.isArray(item.dependencies) && item.dependencies.every((d) => typeof d === "string"))) {
            problems.push(`${where}.dependencies: must be a list of URNs`);
        }
        if (item.opts !== undefined && !isRecord(item.opts)) problems.push(`${where}.opts: must be an object`);
        return {
            urn: typeof item.urn === "string" ? item.urn : `urn:pulumi:${stack}::${project}::${String(item.type)}::${String(item.name)}`,
            type: String(item.type),
            name: String(item.name),
            props: isRecord(item.props) ? item.props : {},
            ...(isRecord(item.outputs) ? { outputs: item.outputs } : {}),
            ...(typeof item.parent === "string" ? { parent: item.parent } : {}),
            opts: isRecord(item.opts) ? (item.opts as ResourceSnapshot["opts"]) : {},
            dependencies: Array.isArray(item.dependencies) ? (item.dependencies as string[]) : [],
            ...(typeof item.custom === "boolean" ? { custom: item.custom } : {}),
        };
    });
    if (problems.length > 0) throw new PolicyInputError(problems.slice(0, 20).join("\n") + (problems.length > 20 ? `\n... and ${problems.length - 20} more` : ""));
    return resources as ResourceSnapshot[];
}
