import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** A configuration error: every problem at once, each naming the file, the key path and what is expected. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
        this.name = "ConfigError";
    }
}

/**
 * Formats a zod issue path as a config key path: `compute-region:tenants[2].name`. Given the config
 * the path runs through, a list element that has a name is named too (`compute-region:gpuPools[1] (shared-h100).headroom`),
 * so a message points at the element a reader knows, not only at a count.
 */
export function formatKeyPath(path: readonly PropertyKey[], root?: unknown): string {
    let out = "";
    let at: unknown = root;
    for (const part of path) {
        at = typeof at === "object" && at !== null ? (at as Record<PropertyKey, unknown>)[part] : undefined;
        if (typeof part === "number") {
            const name = typeof at === "object" && at !== null ? (at as { name?: unknown }).name : undefined;
            out += typeof name === "string" && name !== "" ? `[${part}] (${name})` : `[${part}]`;
        } else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out;
}

function describe(value: unknown): string {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function issueMessage(issue: z.core.$ZodIssue): string {
    if (issue.code === "unrecognized_keys") {
        return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (a typo? see the config reference in docs/configuration.md)`;
    }
    if (issue.code === "invalid_type") {
        if (issue.input === undefined) return "is required";
        return `must be ${issue.expected === "array" || issue.expected === "object" ? "an" : "a"} ${issue.expected}, got ${describe(issue.input)}`;
    }
    if (issue.code === "invalid_value" && "values" in issue) {
        const custom = issue.message && !issue.message.startsWith("Invalid") ? issue.message : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        return `${custom}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_small" && issue.origin === "number" && !issue.message.startsWith("must")) {
        return `must be at least ${issue.minimum}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_big" && issue.origin === "number" && !issue.message.startsWith("must")) {
        return `must be at most ${issue.maximum}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_small" && issue.origin === "array") return issue.message.startsWith("must") ? issue.message : `must have at least ${issue.minimum} items`;
    const got = issue.input !== undefined && typeof issue.input !== "object" ? `, got ${describe(issue.input)}` : issue.input !== undefined && Array.isArray(issue.input) ? `, got ${describe(issue.input)}` : "";
    return `${issue.message}${got}`;
}
