import type { z } from "zod";
import { PROJECT } from "compute-region-policies/model";
import { regionConfigSchema, KNOWN_KEYS } from "./index";
import { ConfigError, formatKeyPath, issueMessage } from "./messages";
import { ConfigField, RegionConfig, regionConfigObject, withoutNamespaces } from "./schema";

/**
 * A region's settings as a library user writes them in code: the keys of a region stack file
 * without their namespaces (`region` for `aws:region`, `network` for `compute-region:network`), every
 * default optional, plus the stack's name. `parseRegionSettings` validates them with the very schema
 * and cross-key checks a stack file gets, so a region built from code is held to the same rules.
 */
export type RegionSettings = {
    /** The stack's name, in every AWS resource's tags (default: the Pulumi stack the program runs in). */
    stack?: string;
} & { [K in keyof z.input<typeof regionConfigObject> as ConfigField<K>]: z.input<typeof regionConfigObject>[K] };

/** The settings key of a config key (`compute-region:network` is `network`, `aws:region` is `region`). */
const settingsKey = (configKey: string) => Object.keys(withoutNamespaces({ [configKey]: true }))[0];
const CONFIG_KEY_OF = new Map(KNOWN_KEYS.map((key) => [settingsKey(key), key]));

/**
 * Validates a region's settings (an object a program builds, not a stack file) and applies the
 * defaults. Throws a `ConfigError` listing every problem, each naming the settings key path
 * (`gpuPools[0] (shared-h100).headroom`) and what is expected; nothing is built from settings with one.
 * `source` names the settings in messages.
 */
export function parseRegionSettings(settings: RegionSettings, stack: string, source = "region settings"): RegionConfig {
    const problems: string[] = [];
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(settings)) {
        if (key === "stack" || value === undefined) continue;
        const configKey = CONFIG_KEY_OF.get(key);
        if (configKey) input[configKey] = value;
        else problems.push(`${source}: ${key}: unknown key (known: stack, ${[...CONFIG_KEY_OF.keys()].join(", ")})`);
    }
    const result = regionConfigSchema.safeParse(input, { reportInput: true });
    if (!result.success) {
        for (const issue of result.error.issues) {
            const [first, ...rest] = issue.path;
            const path = typeof first === "string" ? [settingsKey(first), ...rest] : issue.path;
            // The checks speak of stack keys (compute-region:gpuPools); a settings object has them without the namespace.
            const message = issueMessage(issue).replaceAll(`${PROJECT}:`, "");
            problems.push(`${source}: ${formatKeyPath(path, settings) || "(settings)"}: ${message}`);
        }
    }
    if (problems.length > 0 || !result.success) throw new ConfigError(problems);
    return { stack, ...withoutNamespaces(result.data as Record<string, unknown>) } as unknown as RegionConfig;
}
