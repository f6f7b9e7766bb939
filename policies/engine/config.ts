import type { EnforcementLevel } from "@pulumi/policy";
import Ajv from "ajv";
import type { PackPolicy } from "./policy";

/**
 * Policy pack config, in the shape `pulumi preview --policy-pack-config FILE` reads: keyed by policy
 * name, each value an enforcement level or an object of `enforcementLevel` plus the policy's own
 * properties (its `configSchema`); `all` sets every policy's enforcement level. The engine validates
 * the file against the schemas before the pack runs; so does this.
 */
export type PolicyConfigFile = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** Per policy: the enforcement level, if set, and the policy's config properties. */
export type ResolvedPolicyConfig = Record<string, { enforcementLevel?: EnforcementLevel } & Record<string, unknown>>;

export const ENFORCEMENT_LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export class PolicyConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid policy config:\n  ${problems.join("\n  ")}`);
        this.name = "PolicyConfigError";
    }
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** Validates a policy config file against the policies' schemas and resolves `all`. Throws `PolicyConfigError`. */
export function resolvePolicyConfig(file: unknown, policies: readonly PackPolicy[], source = "policy config"): ResolvedPolicyConfig {
    const problems: string[] = [];
    if (typeof file !== "object" || file === null || Array.isArray(file)) {
        throw new PolicyConfigError([`${source}: must be a JSON object keyed by policy name`]);
    }
    const byName = new Map(policies.map((p) => [p.name, p]));
    const resolved: ResolvedPolicyConfig = {};
    let allLevel: EnforcementLevel | undefined;
    for (const [key, raw] of Object.entries(file as Record<string, unknown>)) {
        const entry = typeof raw === "string" ? { enforcementLevel: raw } : raw;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            problems.push(`${source}: ${key}: must be an enforcement level (${ENFORCEMENT_LEVELS.join(", ")}) or an object`);
            continue;
        }
        const { enforcementLevel, ...properties } = entry as Record<string, unknown>;
        if (enforcementLevel !== undefined && !ENFORCEMENT_LEVELS.includes(enforcementLevel as EnforcementLevel)) {
            problems.push(`${source}: ${key}.enforcementLevel: must be one of ${ENFORCEMENT_LEVELS.join(", ")}, got ${JSON.stringify(enforcementLevel)}`);
        }
        if (key === "all") {
            if (Object.keys(properties).length > 0) problems.push(`${source}: all: may only set enforcementLevel, got ${Object.keys(properties).join(", ")}`);
            allLevel = enforcementLevel as EnforcementLevel;
            continue;
        }
        const policy = byName.get(key);
        if (!policy) {
            problems.push(`${source}: ${key}: unknown policy (the pack has: ${[...byName.keys()].join(", ")})`);
            continue;
        }
        const schema = {
            type: "object",
            properties: policy.configSchema?.properties ?? {},
            required: policy.configSchema?.required ?? [],
            additionalProperties: false,
        };
        const validate = ajv.compile(schema);
        if (!validate(properties)) {
            for (const err of validate.errors ?? []) {
                const where = err.instancePath ? err.instancePath.slice(1).replace(/\//g, ".") : "";
                const detail = err.keyword === "additionalProperties" ? `unknown property ${JSON.stringify((err.params as { additionalProperty: string }).additionalProperty)}` : err.message;
                problems.push(`${source}: ${key}${where ? `.${where}` : ""}: ${detail}`);
            }
        }
        resolved[key] = { ...(enforcementLevel ? { enforcementLevel: enforcementLevel as EnforcementLevel } : {}), ...properties };
    }
    if (problems.length > 0) throw new PolicyConfigError(problems);
    if (allLevel) {
        for (const p of policies) resolved[p.name] = { enforcementLevel: allLevel, ...(resolved[p.name] ?? {}) };
    }
    return resolved;
}
