#!/usr/bin/env node
/**
 * npm run bench [-- --sizes 10,100,1000] [--out out/bench.json]
 *
 * Plans generated regions of 10, 100 and 1,000 tenants with the policy pack, each in a fresh Node
 * process under --cpu-prof, and prints per size: resources, resources per tenant, program time,
 * policy time (the reachability proof on its own line), peak RSS and KB per resource, and the
 * share of CPU time spent in the project's own code against node_modules (self time by file from
 * the CPU profile). Ends with the targets and writes JSON so two commits can be compared.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../stacks/paths";
import { writeBenchStack } from "./bench-config";
import { writeOutput } from "./io";
import { textTable } from "../offline/summary";

interface Run {
    tenants: number;
    rawTenants: number;
    pools: number;
    resources: number;
    programMs: number;
    policyMs: number;
    proofMs: number;
    rehearsalMs: number;
    rehearsalFindings: number;
    perPolicy: Record<string, number>;
    pathsFound: number;
    pairsChecked: number;
    violations: number;
    errors: number;
    notRun: number;
    peakRssKb: number;
    perTenantResources: Record<string, number>;
    cpu: CpuShare;
}

interface CpuShare {
    totalMs: number;
    projectMs: number;
    nodeModulesMs: number;
    otherMs: number;
    topProjectFiles: [string, number][];
    topPackages: [string, number][];
}

interface ProfileNode {
    id: number;
    callFrame: { url: string; functionName: string };
}

/** Self time by file from a V8 CPU profile: the project's files against node_modules and the rest (GC, Node internals). */
export function attributeCpu(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, root: string): CpuShare {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const files = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
        const node = byId.get(id);
        const us = profile.timeDeltas[i] ?? 0;
        if (!node || node.callFrame.functionName === "(idle)") return;
        total += us;
        const url = node.callFrame.url.replace(/^file:\/\//, "");
        files.set(url, (files.get(url) ?? 0) + us);
    });
    let project = 0;
    let deps = 0;
    const projectFiles: [string, number][] = [];
    const packages = new Map<string, number>();
    for (const [url, us] of files) {
        if (url.includes("/node_modules/")) {
            deps += us;
            const pkg = /\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? "?";
            packages.set(pkg, (packages.get(pkg) ?? 0) + us);
        } else if (url.startsWith(root)) {
            project += us;
            projectFiles.push([path.relative(root, url), us / 1000]);
        }
    }
    return {
        totalMs: total / 1000,
        projectMs: project / 1000,
        nodeModulesMs: deps / 1000,
        otherMs: (total - project - deps) / 1000,
        topProjectFiles: projectFiles.sort((a, b) => b[1] - a[1]).slice(0, 8),
        topPackages: [...packages.entries()].map(([k, v]) => [k, v / 1000] as [string, number]).sort((a, b) => b[1] - a[1]).slice(0, 6),
    };
}

function measure(root: string, tenants: number, work: string): Run {
    const stackFile = writeBenchStack(work, path.join(root, "Pulumi.dev.yaml"), tenants);
    const profDir = fs.mkdtempSync(path.join(work, `prof-${tenants}-`));
    const r = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--max-old-space-size=8192", path.join(root, "bin/scripts/bench-run.js"), "--config-file", stackFile, "--stack", `bench-${tenants}`], {
        cwd: root,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`benchmark of ${tenants} tenants failed:\n${r.stderr}`);
    const run = JSON.parse(r.stdout.trim().split("\n").pop()!) as Omit<Run, "cpu">;
    const profile = JSON.parse(fs.readFileSync(path.join(profDir, fs.readdirSync(profDir)[0]), "utf8"));
    return { ...run, cpu: attributeCpu(profile, root) };
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : "-");

function main(): void {
    const { values } = parseArgs({ options: { sizes: { type: "string", default: "10,100,1000" }, out: { type: "string", default: "out/bench.json" } } });
    const sizes = values.sizes!.split(",").map(Number);
    const root = projectRoot();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-bench-"));
    const runs: Run[] = [];
    for (const n of sizes) {
        process.stderr.write(`planning ${n} tenants...\n`);
        const run = measure(root, n, work);
        runs.push(run);
        const kbPerResource = run.peakRssKb / run.resources;
        process.stdout.write(
            [
                `== ${n} tenants (${run.rawTenants} raw-capacity, ${run.pools} pools)`,
                `  resources registered        ${run.resources} (${(run.resources / n).toFixed(1)} per tenant)`,
                `  program time                ${run.programMs.toFixed(0)} ms (${(run.programMs / run.resources).toFixed(2)} ms per resource)`,
                `  policy evaluation           ${run.policyMs.toFixed(0)} ms (${pct(run.policyMs, run.programMs)} of program time); ${run.violations} violations, ${run.errors} errors, ${run.notRun} not run`,
                `  reachability proof alone    ${run.proofMs.toFixed(0)} ms (${run.pairsChecked} pairs, ${run.pathsFound} paths)`,
                `  deploy rehearsal alone      ${run.rehearsalMs.toFixed(0)} ms (${pct(run.rehearsalMs, run.programMs)} of program time; ${run.rehearsalFindings} findings)`,
                `  peak RSS                    ${(run.peakRssKb / 1024).toFixed(0)} MB (${kbPerResource.toFixed(0)} KB per resource)`,
                `  CPU self time               ${run.cpu.totalMs.toFixed(0)} ms: project ${pct(run.cpu.projectMs, run.cpu.totalMs)}, node_modules ${pct(run.cpu.nodeModulesMs, run.cpu.totalMs)}, Node/GC ${pct(run.cpu.otherMs, run.cpu.totalMs)}`,
                `  project files (self ms)     ${run.cpu.topProjectFiles.map(([f, ms]) => `${f} ${ms.toFixed(0)}`).join(", ")}`,
                `  packages (self ms)          ${run.cpu.topPackages.map(([p, ms]) => `${p} ${ms.toFixed(0)}`).join(", ")}`,
                `  slowest policies (ms)       ${Object.entries(run.perPolicy).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([p, ms]) => `${p} ${ms.toFixed(0)}`).join(", ")}`,
                "",
            ].join("\n"),
        );
    }
    const one = runs[0];
    process.stdout.write(`A raw-capacity tenant costs ${Object.values(one.perTenantResources).reduce((a, b) => a + b, 0)} resources: ${Object.entries(one.perTenantResources).map(([t, c]) => `${c} ${t.split(":").pop()}`).join(", ")}\n\n`);
    process.stdout.write(
        `${textTable(
            ["tenants", "resources", "res/tenant", "program ms", "policy ms", "proof ms", "policy/program", "peak MB", "KB/resource", "project CPU"],
            runs.map((r) => [r.tenants, r.resources, (r.resources / r.tenants).toFixed(1), r.programMs.toFixed(0), r.policyMs.toFixed(0), r.proofMs.toFixed(0), pct(r.policyMs, r.programMs), (r.peakRssKb / 1024).toFixed(0), (r.peakRssKb / r.resources).toFixed(0), pct(r.cpu.projectMs, r.cpu.totalMs)]),
        )}\n`,
    );
    const big = runs.find((r) => r.tenants === 1000) ?? runs[runs.length - 1];
    const mid = runs.find((r) => r.tenants === 100);
    const targets: [string, boolean, string][] = [
        ["project code <= 15% of CPU at the largest size", big.cpu.projectMs / big.cpu.totalMs <= 0.15, pct(big.cpu.projectMs, big.cpu.totalMs)],
        ["policy evaluation <= 10% of program time at the largest size", big.policyMs / big.programMs <= 0.1, pct(big.policyMs, big.programMs)],
        ["deploy rehearsal <= 10% of program time at the largest size", big.rehearsalMs / big.programMs <= 0.1, pct(big.rehearsalMs, big.programMs)],
        ["peak memory <= 250 KB per resource at the largest size", big.peakRssKb / big.resources <= 250, `${(big.peakRssKb / big.resources).toFixed(0)} KB (by size: ${runs.map((r) => (r.peakRssKb / r.resources).toFixed(0)).join(", ")}; small regions are dominated by the ~200 MB of loading the SDKs)`],
    ];
    if (runs.length > 1) {
        const small = runs[0];
        process.stdout.write(`Marginal memory: ${((big.peakRssKb - small.peakRssKb) / (big.resources - small.resources)).toFixed(0)} KB per additional resource (${small.tenants} -> ${big.tenants} tenants)\n`);
    }
    if (mid && big !== mid) {
        const growth = (a: number, b: number) => b / a;
        targets.push(["time grows at most 11x from 100 to 1,000 tenants", growth(mid.programMs + mid.policyMs, big.programMs + big.policyMs) <= 11, `${growth(mid.programMs + mid.policyMs, big.programMs + big.policyMs).toFixed(1)}x`]);
        targets.push(["memory grows at most 11x from 100 to 1,000 tenants", growth(mid.peakRssKb, big.peakRssKb) <= 11, `${growth(mid.peakRssKb, big.peakRssKb).toFixed(1)}x`]);
    }
    process.stdout.write(`\nTargets\n${targets.map(([t, ok, v]) => `  [${ok ? "met" : "MISSED"}] ${t}: ${v}`).join("\n")}\n`);
    writeOutput(values.out!, `${JSON.stringify({ node: process.version, cpus: os.cpus().length, date: new Date().toISOString(), runs, targets: targets.map(([t, ok, v]) => ({ target: t, met: ok, value: v })) }, null, 2)}\n`);
    process.stdout.write(`\nWrote ${values.out}\n`);
}

if (require.main === module) main();
