// npm run plan [-- STACK [PLAN.json]]: the program's offline plan, judged by compute-region's policy
// pack, without the Pulumi CLI or an AWS account. compute-region/offline runs the compiled program
// (Pulumi.yaml main) as a preview under Pulumi's mock runtime with the stack's config as the engine
// passes it; compute-region-policies' evaluator judges what it would register, as `pulumi preview
// --policy-pack node_modules/compute-region-policies` would.
import * as fs from "node:fs";
import { planProject } from "compute-region/offline";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies";
import { evaluatePolicies, renderText } from "compute-region-policies/engine";

async function main(stack: string, out: string | undefined): Promise<number> {
    const plan = await planProject({ directory: __dirname + "/..", stack });
    const result = evaluatePolicies(plan.resources, { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
    process.stdout.write(`${plan.resources.length} resources planned for ${plan.project}/${plan.stack}\n${renderText(result, policies)}\n`);
    if (out) fs.writeFileSync(out, JSON.stringify({ resources: plan.resources, outputs: plan.outputs, policy: result }));
    return result.violations.some((v) => v.enforcementLevel === "mandatory") || result.errors.length > 0 ? 1 : 0;
}

main(process.argv[2] ?? "lab", process.argv[3]).then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(2);
    },
);
