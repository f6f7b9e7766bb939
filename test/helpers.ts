import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import * as fs from "node:fs";
import * as os from "node:os";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { OfflinePlanOptions, OfflinePlanResult, runOfflinePlan } from "../offline/harness";
import { readProject, readStackConfig } from "../offline/project";
import { ConfigError, parseRegionConfig } from "../stacks/config";
import { regionProgram } from "../stacks/program";

export const ROOT = path.resolve(__dirname, "..");

/** The dev stack file's `config:` mapping, as a fresh object a test may change. */
export function devStackConfig(): Record<string, any> {
    return (parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, any> }).config;
}

/** Writes a stack file with `config` to a temporary directory and returns its path. */
export function writeStackFile(config: Record<string, unknown>, name = "Pulumi.test.yaml"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, stringifyYaml({ config }));
    return file;
}

/**
 * Plans of a stack's own file, unchanged, kept for the worker's life: vitest runs file after file in
 * one process (`isolate: false`), and some twenty files plan the dev stack as it is, each the same
 * plan. Frozen, so a test that changed the shared plan fails there instead of changing what the next
 * file reads; a test that needs to change one copies it (structuredClone).
 */
const pristinePlans = new Map<string, Promise<OfflinePlanResult>>();

function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
    }
    return value;
}

/** The key of `config` when it is the stack file's own config (unchanged), else undefined. */
function pristineKey(config: Record<string, unknown>, stack: string): string | undefined {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return undefined;
    const own = JSON.stringify((parseYaml(fs.readFileSync(file, "utf8")) as { config?: unknown }).config ?? {});
    return JSON.stringify(config) === own ? `${stack}\n${own}` : undefined;
}

/**
 * Runs the offline plan of the program's TypeScript source on a stack config (the dev stack unless
 * given). A stack's own config, planned without options, is planned once a worker and shared, frozen.
 */
export async function plan(config: Record<string, unknown> = devStackConfig(), stack = "dev", options: Pick<OfflinePlanOptions, "onRegister" | "stackTraces" | "sdkWire"> = {}): Promise<OfflinePlanResult> {
    const key = Object.keys(options).length === 0 ? pristineKey(config, stack) : undefined;
    if (key === undefined) return planOnce(config, stack, options);
    let shared = pristinePlans.get(key);
    if (!shared) {
        shared = planOnce(config, stack, options).then(deepFreeze);
        pristinePlans.set(key, shared);
        shared.catch(() => pristinePlans.delete(key));
    }
    return shared;
}

async function planOnce(config: Record<string, unknown>, stack: string, options: Pick<OfflinePlanOptions, "onRegister" | "stackTraces" | "sdkWire">): Promise<OfflinePlanResult> {
    const project = readProject(ROOT);
    const engineConfig = readStackConfig(project, stack, writeStackFile(config));
    const region = parseRegionConfig(engineConfig.values, stack, engineConfig.source);
    return runOfflinePlan({
        project,
        stack,
        config: engineConfig,
        facts: { region: region.region, accountId: "111122223333" },
        program: regionProgram,
        ...options,
    });
}

/** Resources by URN: an order that does not depend on how registrations interleaved. */
export function byUrn<T extends { urn: string }>(resources: readonly T[]): T[] {
    return [...resources].sort((a, b) => a.urn.localeCompare(b.urn));
}

/** A recorded resource whose props a test reads freely. */
export type Recorded = ResourceSnapshot & { props: Record<string, any> };

export function ofType(resources: readonly ResourceSnapshot[], type: string): Recorded[] {
    return resources.filter((r) => r.type === type) as Recorded[];
}

export function one(resources: readonly ResourceSnapshot[], type: string, name?: string): Recorded {
    const found = ofType(resources, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}

/** The engine's view of a stack file: every value a string, structured ones as JSON text. */
export function engineValues(config: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** The problems the config schema reports for the dev stack changed by `mutate`; fails the test if it is accepted. */
export function configProblems(mutate: (config: Record<string, any>) => void): string[] {
    const config = devStackConfig();
    mutate(config);
    try {
        parseRegionConfig(engineValues(config), "dev");
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
    throw new Error("the config was accepted");
}

/** Runs `build` (which constructs components on their own, outside a region) under the offline plan. */
export async function planComponents(build: () => void, stack = "unit"): Promise<OfflinePlanResult> {
    return runOfflinePlan({
        project: readProject(ROOT),
        stack,
        config: { values: { "aws:region": "us-east-2" }, secretKeys: [], placeholderSecrets: [], source: "test" },
        facts: { region: "us-east-2", accountId: "111122223333" },
        program: async () => {
            build();
            return {};
        },
    });
}
