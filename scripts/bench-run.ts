#!/usr/bin/env node
/**
 * One benchmark measurement (run by scripts/bench.ts in a fresh process, under --cpu-prof): the
 * offline plan of one generated region and the policy pack on what it recorded. Prints one JSON line.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { changePolicies } from "compute-region-policies/changes";
import { evaluateChanges, evaluatePolicies } from "compute-region-policies/engine";
import { fromSnapshots, isolationFromResources, rehearse } from "compute-region-policies/model";
import { PACK_NAME, PACK_VERSION, policies, REHEARSAL_POLICIES } from "compute-region-policies/rules";
import { stopBenchProfile } from "./bench-profile";
import { startComparison } from "../offline/compare";
import { checkpointFromPlan, planDeployed } from "../offline/deployed-state";
import { runOfflinePlan } from "../offline/harness";
import { readProject, readStackConfig } from "../offline/project";
import { readCheckpoint } from "../offline/state";
import { parseRegionConfig } from "../stacks/config";
import { projectRoot } from "../stacks/paths";
import { componentType } from "../components/component-type";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { "config-file": { type: "string" }, stack: { type: "string" }, state: { type: "string" }, "write-state": { type: "string" } } });
    const project = readProject(projectRoot());
    const stack = values.stack ?? "bench";
    const config = readStackConfig(project, stack, values["config-file"]);
    const region = parseRegionConfig(config.values, stack, config.source);
    const facts = { region: region.region, accountId: "111122223333" };

    if (values["write-state"]) {
        // The region's own state, as if its plan had been deployed: what --state compares with.
        const deployed = await planDeployed({ project, stack, config, facts }, facts);
        fs.writeFileSync(values["write-state"], JSON.stringify(checkpointFromPlan(deployed, { ...facts, config: config.values })));
        process.stdout.write(`${JSON.stringify({ resources: deployed.resources.length, bytes: fs.statSync(values["write-state"]).size })}\n`);
        return;
    }

    // Against a state: reading it, and the diff as the program registers, count as the plan's time.
    const t0 = performance.now();
    const prior = values.state ? readCheckpoint(values.state, { project: project.name, stack }) : undefined;
    const readMs = performance.now() - t0;
    const comparison = prior && startComparison(prior, { stack, project: project.name, config: config.values });
    const plan = await runOfflinePlan({ project, stack, config, facts, onRegister: comparison?.onRegister });
    const changes = comparison?.finish(plan.resources);
    const programMs = performance.now() - t0;

    const t1 = performance.now();
    const result = evaluatePolicies(plan.resources, { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
    const changeResult = changes ? evaluateChanges(changes.changes, { policies: changePolicies, packName: PACK_NAME, packVersion: PACK_VERSION }) : undefined;
    const policyMs = performance.now() - t1;

    // What the plan itself costs ends here; what follows is the benchmark's own diagnostics.
    const peakRssKb = process.resourceUsage().maxRSS;
    await stopBenchProfile();

    const t2 = performance.now();
    const evidence = isolationFromResources(plan.resources);
    const proofMs = performance.now() - t2;

    const t3 = performance.now();
    const rehearsal = rehearse(fromSnapshots(plan.resources));
    const rehearsalMs = performance.now() - t3;

    // Per-policy time, to see which policy grows (each run alone on the same resources); the
    // rehearsal's policies share one rehearsal in an evaluation, so they are timed together.
    const perPolicy: Record<string, number> = {};
    const alone = policies.filter((p) => !REHEARSAL_POLICIES.includes(p));
    for (const group of [...alone.map((p) => [p]), REHEARSAL_POLICIES]) {
        const t = performance.now();
        evaluatePolicies(plan.resources, { policies: [...group] });
        perPolicy[group.length === 1 ? group[0].name : `deploy rehearsal (${group.length} policies)`] = performance.now() - t;
    }

    const byType = new Map<string, number>();
    for (const r of plan.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    // What one raw-capacity tenant costs: the resources under its Tenant component.
    const tenantComponent = plan.resources.find((r) => r.type === componentType("Tenant"));
    const perTenant = new Map<string, number>();
    if (tenantComponent) for (const r of plan.resources.filter((x) => x.parent === tenantComponent.urn)) perTenant.set(r.type, (perTenant.get(r.type) ?? 0) + 1);

    process.stdout.write(
        `${JSON.stringify({
            tenants: region.tenants.length,
            rawTenants: plan.resources.filter((r) => r.type === componentType("Tenant")).length,
            pools: region.gpuPools.length,
            resources: plan.resources.length,
            programMs,
            policyMs,
            proofMs,
            rehearsalMs,
            rehearsalFindings: rehearsal.findings.length,
            perPolicy,
            pathsFound: evidence.pathsFound,
            pairsChecked: evidence.pairsChecked,
            violations: result.violations.length,
            notRun: result.notRun.length,
            errors: result.errors.length,
            peakRssKb,
            ...(changes ? { compare: { readMs, counts: changes.counts, protectErrors: changes.protectErrors.length, changeViolations: changeResult!.violations.length } } : {}),
            perTenantResources: Object.fromEntries(perTenant),
            resourcesByType: Object.fromEntries(byType),
        })}\n`,
    );
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`bench-run failed: ${(e as Error).stack}\n`);
        process.exit(1);
    },
);
