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

/** Runs the offline plan of the program's TypeScript source on a stack config (the dev stack unless given). */
export async function plan(config: Record<string, unknown> = devStackConfig(), stack = "dev", options: Pick<OfflinePlanOptions, "onRegister" | "stackTraces"> = {}): Promise<OfflinePlanResult> {
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
