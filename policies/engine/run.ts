import * as fs from "node:fs";
import { PolicyConfigError, resolvePolicyConfig, ResolvedPolicyConfig } from "./config";
import { evaluatePolicies, EvaluationResult } from "./evaluate";
import { PolicyInputError } from "./input";
import type { PackPolicy, RegionPolicy } from "./policy";
import type { ResourceSnapshot } from "./snapshot";

/** Reads a JSON file for the CLIs, turning every failure into a message that names the file. */
export function readJsonFile(file: string, what: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new PolicyInputError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        throw new PolicyInputError(`${file}: is not JSON: ${(e as Error).message}`);
    }
}

/** The `--policy-config FILE` of the CLIs, validated against the policies' schemas. */
export function readPolicyConfig(file: string | undefined, policies: readonly PackPolicy[]): ResolvedPolicyConfig {
    if (!file) return {};
    try {
        return resolvePolicyConfig(readJsonFile(file, "the policy config"), policies, file);
    } catch (e) {
        if (e instanceof PolicyConfigError) throw new PolicyInputError(e.message);
        throw e;
    }
}

export interface PackRun {
    policies: readonly RegionPolicy[];
    packName: string;
    packVersion: string;
}

export function runPack(resources: readonly ResourceSnapshot[], pack: PackRun, config: ResolvedPolicyConfig = {}): EvaluationResult {
    return evaluatePolicies(resources, { policies: pack.policies, config, packName: pack.packName, packVersion: pack.packVersion });
}
