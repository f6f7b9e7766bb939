#!/usr/bin/env node
/**
 * npm run policy:check -- --resources FILE [--policy-config FILE] [--format text|json|markdown|sarif] [--output FILE]
 *
 * Runs the policy pack with CrossGuard's semantics on recorded resources: the offline plan's --json
 * document, or a bare array of { type, name, props, urn?, parent?, opts?, dependencies? }.
 *
 * Exit codes: 0 no mandatory violation; 1 a mandatory violation; 2 bad input (unreadable file,
 * wrong shape, unknown policy or bad value in the config); 3 a policy error.
 */
import { parseArgs } from "node:util";
import {
    POLICY_EXIT,
    PolicyInputError,
    policyExitCode,
    policyJson,
    readJsonFile,
    readPolicyConfig,
    readResources,
    renderMarkdown,
    renderSarif,
    renderText,
    runPack,
} from "compute-region-policies/engine";
import { changePolicies } from "compute-region-policies/changes";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import { CliIo, PROCESS_IO, writeOutput } from "./io";

const FORMATS = ["text", "json", "markdown", "sarif"] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run policy:check -- --resources FILE [--policy-config FILE] [--format ${FORMATS.join("|")}] [--output FILE]`;

export function main(argv: string[], io: Pick<CliIo, "stdout"> = PROCESS_IO): number {
    let values;
    try {
        values = parseArgs({
            args: argv,
            options: { resources: { type: "string" }, "policy-config": { type: "string" }, format: { type: "string", default: "text" }, output: { type: "string" }, help: { type: "boolean", short: "h" } },
            strict: true,
        }).values;
    } catch (e) {
        throw new PolicyInputError(`${(e as Error).message}\n${USAGE}`);
    }
    if (values.help) {
        io.stdout.write(`${USAGE}\n`);
        return POLICY_EXIT.ok;
    }
    if (!values.resources) throw new PolicyInputError(`--resources is required\n${USAGE}`);
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new PolicyInputError(`--format must be one of ${FORMATS.join(", ")}, got ${JSON.stringify(values.format)}`);

    const resources = readResources(readJsonFile(values.resources, "the resources file"), values.resources);
    // The change policies' keys are valid too: one config file serves this and npm run plan.
    const config = readPolicyConfig(values["policy-config"], [...policies, ...changePolicies]);
    const result = runPack(resources, { policies, packName: PACK_NAME, packVersion: PACK_VERSION }, config);

    const rendered =
        format === "json"
            ? JSON.stringify(policyJson(result), null, 2)
            : format === "markdown"
              ? renderMarkdown(result, policies)
              : format === "sarif"
                ? JSON.stringify(renderSarif(result, policies, { version: PACK_VERSION }), null, 2)
                : renderText(result, policies);
    if (values.output) writeOutput(values.output, `${rendered}\n`);
    else io.stdout.write(`${rendered}\n`);
    return policyExitCode(result);
}

/** `main` as the command line runs it: an error is printed and mapped to its exit code (the tests call it in-process). */
export function runPolicyCheck(argv: string[], io: Pick<CliIo, "stdout" | "stderr"> = PROCESS_IO): number {
    try {
        return main(argv, io);
    } catch (e) {
        io.stderr.write(`error: ${(e as Error).message}\n`);
        return e instanceof PolicyInputError ? POLICY_EXIT.badInput : POLICY_EXIT.policyError;
    }
}

if (require.main === module) process.exitCode = runPolicyCheck(process.argv.slice(2));
