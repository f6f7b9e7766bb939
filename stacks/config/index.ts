import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { PROJECT } from "compute-region-policies/model";
import { crossFieldChecks } from "./checks";
import { ConfigError, formatKeyPath, issueMessage } from "./messages";
import { RegionConfig, regionConfigObject, withoutNamespaces } from "./schema";
import { shardConfigObject, shardConfigSchema, ShardConfig } from "./shard";

/**
 * The stack configuration: one zod schema per layer keyed by Pulumi config key (`schema.ts`,
 * `shard.ts`), the checks across keys (`checks.ts`), and messages that name the file, the key path
 * and what is expected (`messages.ts`). Parsing reports every problem at once and nothing is built
 * from a config with any.
 */
export { ConfigError, formatKeyPath } from "./messages";
export type { ShardConfig } from "./shard";
export * from "./schema";

const NS = `${PROJECT}:`;

/** The whole region stack's configuration, keyed by Pulumi config key, with its cross-field checks. */
export const regionConfigSchema = regionConfigObject.superRefine((config, ctx) => crossFieldChecks(config, ctx));

/** The config keys the schema knows, for the unknown-key check of the whole namespace. */
export const KNOWN_KEYS = Object.keys(regionConfigObject.shape);
const SHARD_KEYS = Object.keys(shardConfigObject.shape);

/** Parses any layer's config: a whole region, a platform, or a tenant shard. */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string, source = `Pulumi.${stack}.yaml`): RegionConfig | ShardConfig {
    if (decodeConfigValue(raw[`${NS}layer`] ?? "") !== "shard") return parseRegionConfig(raw, stack, source);
    const config = parseWith(shardConfigSchema, SHARD_KEYS, raw, source) as Record<string, unknown>;
    return { stack, ...withoutNamespaces(config) } as unknown as ShardConfig;
}

/**
 * Parses raw config (Pulumi config key to the string the engine passes) into a `RegionConfig`.
 * `source` names the stack file in messages. Throws a `ConfigError` listing every problem.
 */
export function parseRegionConfig(raw: Readonly<Record<string, string>>, stack: string, source = `Pulumi.${stack}.yaml`): RegionConfig {
    const config = parseWith(regionConfigSchema, KNOWN_KEYS, raw, source) as Record<string, unknown>;
    return { stack, ...withoutNamespaces(config) } as unknown as RegionConfig;
}

function parseWith(schema: z.ZodType, keys: readonly string[], raw: Readonly<Record<string, string>>, source: string): unknown {
    const problems: string[] = [];
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        if (!key.startsWith(NS) && !keys.includes(key)) continue;
        if (!keys.includes(key)) {
            problems.push(`${source}: ${key}: unknown key (known: ${keys.filter((k) => k.startsWith(NS)).join(", ")})`);
            continue;
        }
        input[key] = decodeConfigValue(value);
    }
    const result = schema.safeParse(input, { reportInput: true });
    if (!result.success) {
        for (const issue of result.error.issues) problems.push(`${source}: ${formatKeyPath(issue.path, input) || "(config)"}: ${issueMessage(issue)}`);
    }
    if (problems.length > 0 || !result.success) throw new ConfigError(problems);
    return result.data;
}

/**
 * The engine passes structured config values (objects, lists) as JSON text and scalars as plain text;
 * decode the first kind and keep the second as the string it is.
 */
export function decodeConfigValue(value: string): unknown {
    const trimmed = value.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return value;
        }
    }
    return value;
}

/** Reads the stack's config from the Pulumi runtime, exactly as the engine handed it to the program. */
export function loadStackConfig(): RegionConfig | ShardConfig {
    return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
}
