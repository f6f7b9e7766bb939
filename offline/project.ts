import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * Reads `Pulumi.yaml` and a stack file the way the Pulumi engine does, and produces the config the
 * engine hands the program: every key namespaced (`project:key`), values as strings (structured
 * values as JSON text), the secret keys listed. `secure:` values cannot be decrypted offline: they
 * become placeholders and are reported.
 */

/** A problem with the project or stack files, or the plan's arguments: exit code 2. */
export class PlanInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PlanInputError";
    }
}

export interface PulumiProject {
    name: string;
    /** Absolute path of the program entry point (`main`, or the project directory). */
    main: string;
    directory: string;
    /** Project-level config defaults, already namespaced. */
    config: Record<string, unknown>;
}

export interface EngineConfig {
    /** What the engine puts in PULUMI_CONFIG. */
    values: Record<string, string>;
    /** What the engine puts in PULUMI_CONFIG_SECRET_KEYS. */
    secretKeys: string[];
    /** Keys whose `secure:` values were replaced by placeholders (they cannot be decrypted offline). */
    placeholderSecrets: string[];
    /** The stack file that was read, relative to the project, for messages. */
    source: string;
}

/** What an offline plan puts in place of a `secure:` value. */
export const SECRET_PLACEHOLDER = "offline-plan-placeholder-secret";

function readYamlFile(file: string, what: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new PlanInputError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return parseYaml(text) ?? {};
    } catch (e) {
        throw new PlanInputError(`${path.basename(file)} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `key` in the project's namespace unless it names one (`aws:region`). */
function namespaced(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

export function readProject(directory: string): PulumiProject {
    const file = path.join(directory, "Pulumi.yaml");
    const doc = readYamlFile(file, "the project file");
    if (!isRecord(doc) || typeof doc.name !== "string") {
        throw new PlanInputError(`${file}: must be a Pulumi project with a "name"`);
    }
    const runtime = isRecord(doc.runtime) ? doc.runtime.name : doc.runtime;
    if (runtime !== "nodejs") {
        throw new PlanInputError(`${file}: the offline plan runs Node.js programs, but runtime is ${JSON.stringify(runtime)}`);
    }
    const config: Record<string, unknown> = {};
    if (isRecord(doc.config)) {
        for (const [key, entry] of Object.entries(doc.config)) {
            // Project config is either a plain value or a declaration with `value:` or `default:`.
            if (isRecord(entry) && ("value" in entry || "default" in entry || "type" in entry)) {
                const value = "value" in entry ? entry.value : entry.default;
                if (value !== undefined) config[namespaced(doc.name, key)] = value;
            } else {
                config[namespaced(doc.name, key)] = entry;
            }
        }
    }
    const main = typeof doc.main === "string" ? doc.main : ".";
    return { name: doc.name, main: path.resolve(directory, main), directory, config };
}

/**
 * The config the engine passes for `stack`: project defaults overlaid by the stack file's `config:`.
 * `configFile` replaces `Pulumi.<stack>.yaml`, as `pulumi --config-file` does.
 */
export function readStackConfig(project: PulumiProject, stack: string, configFile?: string): EngineConfig {
    const file = configFile ? path.resolve(configFile) : path.join(project.directory, `Pulumi.${stack}.yaml`);
    const source = path.relative(process.cwd(), file) || file;
    if (!fs.existsSync(file)) {
        throw new PlanInputError(`no stack file ${source}: create it (pulumi stack init ${stack}; pulumi config set ...) or pass --config-file`);
    }
    const doc = readYamlFile(file, "the stack file");
    if (!isRecord(doc)) throw new PlanInputError(`${source}: must be a mapping with a "config:" section`);
    const stackConfig = doc.config ?? {};
    if (!isRecord(stackConfig)) throw new PlanInputError(`${source}: "config" must be a mapping of keys to values`);

    const merged: Record<string, unknown> = { ...project.config };
    for (const [key, value] of Object.entries(stackConfig)) merged[namespaced(project.name, key)] = value;

    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholderSecrets: string[] = [];
    for (const [key, value] of Object.entries(merged)) {
        if (key.startsWith("pulumi:")) continue; // engine settings such as pulumi:tags, not program config
        let hasSecret = false;
        const replaced = replaceSecure(value, () => (hasSecret = true));
        if (hasSecret) {
            secretKeys.push(key);
            placeholderSecrets.push(key);
        }
        values[key] = typeof replaced === "string" ? replaced : JSON.stringify(replaced);
    }
    return { values, secretKeys, placeholderSecrets, source };
}

/** Replaces every `{ secure: ... }` (at any depth) with the placeholder. */
function replaceSecure(value: unknown, found: () => void): unknown {
    if (Array.isArray(value)) return value.map((v) => replaceSecure(v, found));
    if (isRecord(value)) {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === "secure") {
            found();
            return SECRET_PLACEHOLDER;
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v, found)]));
    }
    return value;
}
