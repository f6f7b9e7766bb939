// npm run check -- [PLAN.json] [--policy-config FILE] [--json OUT]
//
// The lab's pack without the Pulumi CLI, through compute-region-policies' evaluator (what CrossGuard
// would report on the same resources): the lab's own policies on their samples (each allowed sample
// passes, each disallowed one fails with the text it expects), then, given a plan document (`npm run
// plan -- --json` of compute-region, or any { resources } in its format), the whole pack on it.
// Exit 1 on a failed sample or a mandatory violation.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { policies as computeRegionPolicies } from "compute-region-policies";
import { evaluatePolicies, EvaluationResult, readPolicyConfig, renderText, ResourceSnapshot, sampleSnapshots } from "compute-region-policies/engine";
import { labPolicies } from "./policies";

const PACK = { packName: "gpu-lab", packVersion: "1.0.0" };
const own = labPolicies.filter((p) => !computeRegionPolicies.includes(p));

/** Each of the lab's own policies on its samples: the problems, none when every sample is judged as it says. */
function sampleProblems(): string[] {
    const problems: string[] = [];
    for (const policy of own) {
        const judge = (config: Record<string, unknown> | undefined, resources: ResourceSnapshot[]) =>
            evaluatePolicies(resources, { policies: [policy], config: config ? { [policy.name]: config } : {}, ...PACK });
        for (const sample of policy.samples.allowed) {
            const r = judge(sample.config, sampleSnapshots(sample));
            if (r.violations.length + r.notRun.length + r.errors.length > 0) problems.push(`${policy.name} should allow "${sample.description}": ${JSON.stringify([...r.violations, ...r.notRun, ...r.errors].map((v) => v.message))}`);
        }
        for (const sample of policy.samples.disallowed) {
            const r = judge(sample.config, sampleSnapshots(sample));
            if (r.violations.length === 0 || r.violations.some((v) => !v.message.includes(sample.expect))) {
                problems.push(`${policy.name} should reject "${sample.description}" with "${sample.expect}": got ${JSON.stringify(r.violations.map((v) => v.message))}`);
            }
        }
    }
    return problems;
}

function main(argv: string[]): number {
    const { values, positionals } = parseArgs({ args: argv, options: { "policy-config": { type: "string" }, json: { type: "string" } }, allowPositionals: true });
    const problems = sampleProblems();
    const samples = own.reduce((n, p) => n + p.samples.allowed.length + p.samples.disallowed.length, 0);
    process.stdout.write(`${own.length} policy of the lab's own, ${samples} samples: ${problems.length === 0 ? "each judged as it says" : `${problems.length} wrong`}\n`);
    for (const p of problems) process.stdout.write(`  ${p}\n`);
    let result: EvaluationResult | undefined;
    if (positionals[0]) {
        const plan = JSON.parse(fs.readFileSync(positionals[0], "utf8")) as { resources: ResourceSnapshot[] };
        const config = readPolicyConfig(values["policy-config"], labPolicies);
        result = evaluatePolicies(plan.resources, { policies: labPolicies, config, ...PACK });
        process.stdout.write(`${renderText(result, labPolicies)}\n`);
    }
    if (values.json) fs.writeFileSync(values.json, JSON.stringify({ policies: labPolicies.map((p) => p.name), sampleProblems: problems, plan: result }));
    return problems.length > 0 || result?.violations.some((v) => v.enforcementLevel === "mandatory") || (result?.errors.length ?? 0) > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
