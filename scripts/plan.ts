#!/usr/bin/env node
/**
 * npm run plan -- --stack NAME [--config-file PATH] [--state FILE | --against PLAN.json] [--json FILE] [--policy-config FILE] [--report FILE.md] [--sarif FILE]
 *
 * The offline plan: runs the compiled Pulumi program as a preview under Pulumi's mock runtime, with
 * the config the engine would hand it, prints what it would create (or, against a stack's state or
 * an earlier plan, what it would change), and judges it with the policy pack.
 *
 * Exit codes: 0 planned, no mandatory violation; 1 a mandatory policy violation; 2 bad config or bad
 * arguments; 3 a policy error (a policy threw: a real preview would fail); 4 the program failed;
 * 5 the engine would refuse the update (a protected resource replaced or deleted); 6 the state has
 * pending operations of an interrupted update (resolve them with pulumi refresh first).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseStackConfig } from "../stacks/config";
import { OfflinePlanResult, runOfflinePlan } from "../offline/harness";
import { PlanInputError, readProject, readStackConfig } from "../offline/project";
import { isolationMarkdown, rehearsalMarkdown, renderSummary } from "../offline/summary";
import { timelineSvg } from "../offline/timeline";
import { planEvidence } from "../offline/evidence";
import { judgePlan, readPrior, startComparison } from "../offline/compare";
import { changeSections } from "../offline/change-report";
import { billingChangeJson, billingChangeLines, billingChangeMarkdown, billingChanges, billingEvidence, billingJson, billingLines } from "../offline/billing-report";
import { billingPriceNotRetroactive, changePolicies } from "compute-region-policies/changes";
import { parseInstant } from "compute-region-policies/model";
import { readStackOutputs } from "../offline/stack-outputs";
import { POLICY_EXIT, PolicyInputError, policyExitCode, policyJson, readPolicyConfig, renderMarkdown, renderSarif, renderText } from "compute-region-policies/engine";
import { billingCoversSales, capacityBlockQuotaWithinWindow, PACK_VERSION, policies } from "compute-region-policies/rules";
import { CliIo, PROCESS_IO, writeOutput } from "./io";
import { stackTracesRequested } from "../offline/stack-capture";

export const EXIT = { planned: POLICY_EXIT.ok, mandatoryViolation: POLICY_EXIT.mandatoryViolation, badInput: POLICY_EXIT.badInput, policyError: POLICY_EXIT.policyError, programFailed: 4, refused: 5, pendingOperations: 6 } as const;

const USAGE = `usage: npm run plan -- --stack NAME [options]

  --stack NAME           the stack to plan (reads Pulumi.NAME.yaml)
  --config-file PATH     read this stack file instead, as pulumi --config-file does
  --state FILE           plan against the stack's state (pulumi stack export): what changes
  --against PLAN.json    plan against an earlier plan's --json document (a branch against main)
  --json FILE            also write the plan document (resources, outputs, policy results) as JSON
  --policy-config FILE   policy pack config, as pulumi --policy-pack-config reads it
  --stack-outputs NAME=FILE  outputs of another stack for StackReference reads (a plan --json or
                         pulumi stack output --json); repeatable
  --report FILE.md       write the policy results as a pull-request comment (Markdown)
  --sarif FILE           write the policy results as SARIF 2.1.0
  --timeline FILE.svg    draw the first-up rehearsal (deploy waves, critical path) as a timeline
  --at DATE              judge dates (Capacity Block windows) as of DATE (ISO 8601 with a zone) instead of now
  --quiet                print only the headline and the policy verdict
  --progress             print "planning... N resources registered" to stderr every 5 s of a long
                         run even when stderr is not a terminal (on a terminal it is updated in place
                         anyway); without it, stderr holds only errors`;

interface PlanArgs {
    stack: string;
    configFile?: string;
    state?: string;
    against?: string;
    json?: string;
    policyConfig?: string;
    report?: string;
    sarif?: string;
    timeline?: string;
    at?: string;
    stackOutputs: string[];
    quiet: boolean;
    progress: boolean;
}

function parseCommandLine(argv: string[]): PlanArgs | "help" {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s" },
                "config-file": { type: "string" },
                state: { type: "string" },
                against: { type: "string" },
                json: { type: "string" },
                "policy-config": { type: "string" },
                report: { type: "string" },
                sarif: { type: "string" },
                timeline: { type: "string" },
                at: { type: "string" },
                "stack-outputs": { type: "string", multiple: true },
                quiet: { type: "boolean", default: false },
                progress: { type: "boolean", default: false },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        });
    } catch (e) {
        throw new PlanInputError(`${(e as Error).message}\n${USAGE}`);
    }
    const v = parsed.values;
    if (v.help) return "help";
    if (!v.stack) throw new PlanInputError(`--stack is required\n${USAGE}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(v.stack)) throw new PlanInputError(`--stack: ${JSON.stringify(v.stack)} is not a stack name (letters, digits, _ . -)`);
    return { stack: v.stack, configFile: v["config-file"], state: v.state, against: v.against, json: v.json, policyConfig: v["policy-config"], report: v.report, sarif: v.sarif, timeline: v.timeline, at: v.at, stackOutputs: v["stack-outputs"] ?? [], quiet: v.quiet ?? false, progress: v.progress ?? false };
}

/**
 * Progress lines for long runs: on a terminal, one line updated in place; elsewhere (a CI log, a
 * pipe) only when asked (`--progress`), a line every 5 s. Whether a run passes two seconds depends on
 * the machine, so what a non-terminal stderr holds must not: errors only, unless asked.
 */
export function progressReporter(io: CliIo, asked: boolean, clock: () => number = Date.now): { onProgress: (n: number) => void; done: () => void } {
    const started = clock();
    let lastPrinted = Number.NEGATIVE_INFINITY;
    let printed = false;
    const tty = io.progress === process.stderr && process.stderr.isTTY === true;
    if (!tty && !asked) return { onProgress: () => undefined, done: () => undefined };
    return {
        onProgress(count) {
            const now = clock();
            // Only long runs get a progress line: after the first two seconds, on a terminal four times a second, elsewhere every 5 s.
            if (now - started < 2000 || now - lastPrinted < (tty ? 250 : 5000)) return;
            lastPrinted = now;
            printed = true;
            const line = `planning... ${count} resources registered (${((now - started) / 1000).toFixed(0)}s)`;
            io.progress?.write(tty ? `\r${line}` : `${line}\n`);
        },
        done() {
            if (printed && tty) io.progress?.write("\n");
        },
    };
}

/** The plan, its reports and its exit code; errors are thrown (see `runPlan` for the CLI's handling of them). */
export async function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
    const args = parseCommandLine(argv);
    if (args === "help") {
        io.stdout.write(`${USAGE}\n`);
        return EXIT.planned;
    }
    const project = readProject(io.cwd);
    const config = readStackConfig(project, args.stack, args.configFile);
    // Validate before running anything, naming the file actually read (the program names Pulumi.<stack>.yaml).
    const region = parseStackConfig(config.values, args.stack, config.source);
    const at = args.at === undefined ? new Date() : parseInstant(args.at);
    if (!at) throw new PlanInputError(`--at: ${JSON.stringify(args.at)} is not an ISO 8601 date-time with a zone (such as 2026-10-20T00:00:00Z)`);
    const policyConfig = withJudgementDate(readPolicyConfig(args.policyConfig, [...policies, ...changePolicies]), args.at);
    const prior = readPrior(args, { project: project.name, stack: args.stack });
    const comparison = prior && startComparison(prior, { stack: args.stack, project: project.name, config: config.values });
    const stackOutputs = readStackOutputs(args.stackOutputs);
    if (region.layer === "shard" && !stackOutputs[region.shard.platformStack]) {
        throw new PlanInputError(`${config.source}: compute-region:shard.platformStack ${region.shard.platformStack} is read through a StackReference: pass --stack-outputs ${region.shard.platformStack}=FILE (the platform's plan --json)`);
    }
    if (!args.configFile && !fs.existsSync(project.main)) {
        throw new PlanInputError(`${path.relative(io.cwd, project.main)} does not exist: run npm run build first`);
    }
    const progress = progressReporter(io, args.progress);
    const someRole = region.layer === "shard" ? region.tenants.flatMap((t) => t.members)[0] : region.cluster.deployerRoleArn;
    const accountId = /^arn:[^:]+:iam::(\d{12}):/.exec(someRole ?? "")?.[1] ?? "000000000000";
    let plan: OfflinePlanResult;
    try {
        plan = await runOfflinePlan({ project, stack: args.stack, config, facts: { region: region.region, accountId, stackOutputs }, onProgress: progress.onProgress, onRegister: comparison?.onRegister });
    } finally {
        progress.done();
    }
    const evidence = planEvidence(plan.resources, at);
    const summary = renderSummary(plan, config.source, evidence, prior && `${prior.kind === "state" ? "the state" : "the plan"} ${prior.source}`);
    const changes = comparison?.finish(plan.resources);
    const { evaluation, policies: allPolicies } = judgePlan(plan.resources, changes, policyConfig);
    const changed = changeSections(changes, { config: config.values, configBefore: prior?.config }, args.quiet);
    // The money: what is sold and what a month of it is worth, and what each tenant's charge becomes.
    const billing = billingEvidence(plan.resources, at);
    const money = billingChanges(changes, at);
    const moneyLines = billingChangeLines(money);
    const changedText = moneyLines.length > 0 ? `${changed.text}${moneyLines.join("\n")}\n\n` : changed.text;
    const policyText = renderText(evaluation, allPolicies);
    io.stdout.write(args.quiet ? `${changedText}${summary.split("\n").slice(0, 3).join("\n")}\n${policyText.split("\n")[1]}\n` : `${changedText}${summary}\n\n${billingLines(billing).join("\n")}\n\n${policyText}\n`);
    const { placeholderSecrets: _omit, ...document } = plan;
    if (args.json) {
        const capacity = evidence.capacity.map(({ problems: _p, ...row }) => row);
        const changesJson = changed.json.changes && money ? { changes: { ...changed.json.changes, billing: billingChangeJson(money) } } : changed.json;
        writeOutput(args.json, `${JSON.stringify({ ...document, config: config.values, policy: policyJson(evaluation), capacity, autoscaling: evidence.autoscaling, monitoring: evidence.monitoring, isolation: evidence.isolation, rehearsal: evidence.rehearsal, ...billingJson(billing), ...changesJson }, null, 2)}\n`);
        io.stdout.write(`Wrote the plan document to ${args.json}\n`);
    }
    if (args.report) {
        const moneyMarkdown = billingChangeMarkdown(money);
        writeOutput(args.report, `${changed.markdown}${moneyMarkdown.length > 0 ? `${moneyMarkdown.join("\n")}\n` : ""}${renderMarkdown(evaluation, allPolicies, `Policy results: offline plan of ${plan.project}/${plan.stack}`)}\n${isolationMarkdown(evidence.isolation)}\n\n${rehearsalMarkdown(evidence.rehearsal)}\n`);
        io.stdout.write(`Wrote the pull-request report to ${args.report}\n`);
    }
    if (args.timeline) {
        writeOutput(args.timeline, `${timelineSvg(evidence.rehearsal, `First pulumi up of ${plan.project}/${plan.stack}: the rehearsal`)}\n`);
        io.stdout.write(`Wrote the rehearsal timeline to ${args.timeline}\n`);
    }
    if (args.sarif) {
        writeOutput(args.sarif, `${JSON.stringify(renderSarif(evaluation, allPolicies, { version: PACK_VERSION, artifactUri: config.source }), null, 2)}\n`);
        io.stdout.write(`Wrote SARIF to ${args.sarif}\n`);
    }
    // An interrupted update's pending operations come first: the state must be repaired before anything else applies.
    if (changes?.pendingOperations.length) return EXIT.pendingOperations;
    const verdict = policyExitCode(evaluation);
    return verdict === EXIT.policyError || !changes?.protectErrors.length ? verdict : EXIT.refused;
}

/**
 * `--at` reaches the policies as the config of those that judge dates, as a real preview's
 * `--policy-pack-config` would (unset there, a policy judges at the time the preview runs).
 */
export function withJudgementDate<T extends Record<string, Record<string, unknown>>>(config: T, at: string | undefined): T {
    if (at === undefined) return config;
    const dated = [capacityBlockQuotaWithinWindow, billingCoversSales, billingPriceNotRetroactive].map((p) => p.name);
    return { ...config, ...Object.fromEntries(dated.map((name) => [name, { ...(config[name] ?? {}), at }])) };
}

/** Maps an error to the exit code and message the CLI reports. */
export function failure(e: unknown): { code: number; message: string } {
    if (e instanceof PlanInputError || e instanceof PolicyInputError || e instanceof ConfigError || (e as Error)?.name === "ConfigError") {
        return { code: EXIT.badInput, message: (e as Error).message };
    }
    return { code: EXIT.programFailed, message: `the program failed: ${(e as Error)?.stack ?? String(e)}` };
}

/**
 * `main` as the command line runs it: an error is printed and mapped to its exit code. The tests
 * call it in-process (the CLI's own paths, its exit codes and argument errors, are also run as a
 * process by a few of them).
 */
export async function runPlan(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
    try {
        return await main(argv, io);
    } catch (e) {
        const { code, message } = failure(e);
        io.stderr.write(`error: ${message}\n`);
        return code;
    }
}

if (require.main === module) {
    // An error inside an apply surfaces as an unhandled rejection; report it like any other failure.
    const fail = (e: unknown) => {
        const { code, message } = failure(e);
        if (code === EXIT.programFailed && !stackTracesRequested()) {
            // The plan ran with the SDK's stack capture off (offline/stack-capture.ts): run the
            // program once more with it on, so the error says where it was thrown.
            const again = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, COMPUTE_REGION_STACK_TRACES: "1" } });
            process.exit(again.status ?? code);
        }
        process.stderr.write(`error: ${message}\n`);
        process.exit(code);
    };
    process.on("unhandledRejection", fail);
    main(process.argv.slice(2)).then((code) => process.exit(code), fail);
}
