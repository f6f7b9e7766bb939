import type { TypeShape } from "../scripts/provider-types";
import { decodeConfigValue } from "../stacks/config";
import type { EngineConfig } from "./project";
import { PROVIDER_TYPES } from "./preview-outputs";

/**
 * Provider config as the providers check it. A bridged provider (aws, random) validates its config
 * when the engine configures its default provider, and fails the preview on a key it does not know
 * (a typo such as `aws:regoin`) or a value of the wrong type. The keys and types are the providers'
 * own `ProviderArgs` (offline/provider-types.json); only providers whose default provider the program
 * uses are checked, as only those read the stack's config.
 */

function describe(value: unknown): string {
    const text = JSON.stringify(value);
    return text && text.length > 60 ? `${text.slice(0, 57)}...` : String(text);
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? "an" : "a";
}

/** Problems of a (decoded) value against a shape; `at` is the key path for messages. */
function valueProblems(value: unknown, shape: TypeShape, at: string): string[] {
    switch (shape.type) {
        case "any":
            return [];
        case "string":
            return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? [] : [`${at}: must be a string, got ${describe(value)}`];
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false" ? [] : [`${at}: must be true or false, got ${describe(value)}`];
        case "number":
            return (typeof value === "number" && Number.isFinite(value)) || (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) ? [] : [`${at}: must be a number, got ${describe(value)}`];
        case "array":
            if (!Array.isArray(value)) return [`${at}: must be a list, got ${describe(value)}`];
            return value.flatMap((v, i) => valueProblems(v, shape.items, `${at}[${i}]`));
        case "map":
            if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: must be a mapping, got ${describe(value)}`];
            return Object.entries(value).flatMap(([k, v]) => valueProblems(v, shape.values, `${at}.${k}`));
        case "object": {
            if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${at}: must be ${article(shape.type)} ${shape.type} (${shape.name}), got ${describe(value)}`];
            const known = Object.keys(shape.properties);
            return Object.entries(value).flatMap(([k, v]) =>
                shape.properties[k] ? valueProblems(v, shape.properties[k], `${at}.${k}`) : [`${at}.${k}: unknown key (known: ${known.join(", ")})`],
            );
        }
    }
}


/**
 * Every problem of the stack's config for the providers `packages` (those whose default provider the
 * program uses), each naming the file and the key: `Pulumi.dev.yaml: aws:regoin: unknown key ...`.
 */
export function providerConfigProblems(config: EngineConfig, packages: Iterable<string>): string[] {
    const problems: string[] = [];
    const used = new Set(packages);
    for (const [key, raw] of Object.entries(config.values)) {
        const pkg = key.slice(0, key.indexOf(":"));
        const schema = PROVIDER_TYPES.providerConfig[pkg];
        if (!used.has(pkg) || !schema) continue;
        const name = key.slice(pkg.length + 1);
        const shape = schema[name];
        if (!shape) {
            const known = Object.keys(schema);
            problems.push(`${config.source}: ${key}: unknown key for the ${pkg} provider, which rejects it (${known.length > 0 ? `known: ${known.join(", ")}` : "it takes no config"})`);
            continue;
        }
        // A secure value is a placeholder offline: its type cannot be checked.
        if (config.placeholderSecrets.includes(key)) continue;
        // The engine passes structured values as JSON text, scalars as plain text.
        problems.push(...valueProblems(decodeConfigValue(raw), shape, key).map((p) => `${config.source}: ${p}`));
    }
    return problems;
}
