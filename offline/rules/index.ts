import { AWS_RULES } from "./aws";
import { DOCKER_BUILD_RULES } from "./docker-build";
import { KUBERNETES_RULES } from "./kubernetes";
import { PULUMI_RULES } from "./pulumi";
import { RANDOM_RULES } from "./random";
import type { ReplacementRule } from "./types";

export * from "./types";

/** Every resource type the program uses, with what forces its replacement and where that was read. */
export const REPLACEMENT_RULES: readonly ReplacementRule[] = [...AWS_RULES, ...RANDOM_RULES, ...KUBERNETES_RULES, ...PULUMI_RULES, ...DOCKER_BUILD_RULES];

const byType = new Map(REPLACEMENT_RULES.map((r) => [r.type, r]));

/** The rule for a type, or undefined when the project holds none (the diff then says so). */
export function replacementRule(type: string): ReplacementRule | undefined {
    return byType.get(type);
}
