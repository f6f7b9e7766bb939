import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvaluationResult, ResourceSnapshot } from "compute-region-policies/engine";
import { policies as packPolicies } from "compute-region-policies/rules";
import { ofType, one, plan, ROOT } from "./helpers";
import { PackAnalyzer, startPackAnalyzer } from "./policy-analyzer";

/**
 * compute-region as another team uses it, from outside the repository: both packages packed (`npm
 * pack`), installed from their tarballs into a project of the consumer's own, and the two examples
 * built there against them: examples/typescript-region (a program that builds a region from the
 * library with its own config) type-checked with tsc strict and planned offline with the library's
 * compute-region/offline; examples/extend-policy-pack (compute-region's policies spread into a
 * pack with one of the lab's own) type-checked, judged on its samples and on the dev region's plan
 * by compute-region-policies' evaluator, and served by CrossGuard's own analyzer as `pulumi preview
 * --policy-pack` would.
 *
 * Installing the providers' SDKs is the slow part: the consumer project is kept in
 * .cache/consumer/<hash of the examples' dependencies> and installed from the npm cache
 * (`--prefer-offline`); when the tarballs change, npm replaces those two packages in it. Packing,
 * installing what changed, type-checking, planning and evaluating run every time.
 */

const CACHE = path.join(ROOT, ".cache", "consumer");
const EXAMPLES = ["typescript-region", "extend-policy-pack"];

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

function must(result: Run, what: string): Run {
    if (result.status !== 0) throw new Error(`${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    return result;
}

/** Copies `from` into `to`, skipping build output and installs, rewriting only files whose content changed (tsc -b then knows what is current). */
function syncTree(from: string, to: string): void {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
        if (entry.name === "node_modules" || entry.name === "bin") continue;
        const source = path.join(from, entry.name);
        const target = path.join(to, entry.name);
        if (entry.isDirectory()) syncTree(source, target);
        else if (!fs.existsSync(target) || !fs.readFileSync(target).equals(fs.readFileSync(source))) fs.copyFileSync(source, target);
    }
}

function readJson<T = any>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Every installed copy of `name` under `dir`'s node_modules, nested ones included. */
function installedCopies(dir: string, name: string): string[] {
    const found: string[] = [];
    const walk = (modules: string) => {
        if (!fs.existsSync(modules)) return;
        for (const entry of fs.readdirSync(modules)) {
            const names = entry.startsWith("@") ? fs.readdirSync(path.join(modules, entry)).map((e) => `${entry}/${e}`) : [entry];
            for (const pkgName of names) {
                const pkgDir = path.join(modules, pkgName);
                if (pkgName === name) found.push(pkgDir);
                walk(path.join(pkgDir, "node_modules"));
            }
        }
    };
    walk(path.join(dir, "node_modules"));
    return found;
}

let project: string;
let tarballs: { name: string; files: string[] }[];
let lab: { status: number | null; plan: { resources: ResourceSnapshot[]; outputs: Record<string, unknown>; policy: EvaluationResult } };
let devPlanFile: string;
let packCheck: { run: Run; report: { policies: string[]; sampleProblems: string[]; plan: EvaluationResult } };
let packCheckH100Only: { run: Run; report: { plan: EvaluationResult } };

beforeAll(async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-consumer-"));
    // Both packages as npm would publish them (the build is npm test's own, just before).
    const packed = must(await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch, "--workspaces", "--include-workspace-root"], ROOT), "npm pack");
    const manifests = JSON.parse(packed.stdout) as { name: string; filename: string; files: { path: string }[] }[];
    tarballs = manifests.map((m) => ({ name: m.name, files: m.files.map((f) => f.path) }));

    // The consumer's project: the examples' own dependencies, and compute-region and
    // compute-region-policies from the tarballs (named by their content, so npm replaces exactly
    // those two when they change and keeps the SDKs it installed before).
    const dependencies: Record<string, string> = {};
    for (const example of EXAMPLES) {
        const pkg = readJson(path.join(ROOT, "examples", example, "package.json"));
        Object.assign(dependencies, pkg.dependencies, pkg.devDependencies);
    }
    project = path.join(CACHE, createHash("sha256").update(JSON.stringify(dependencies)).digest("hex").slice(0, 16));
    if (!fs.existsSync(project)) fs.rmSync(CACHE, { recursive: true, force: true }); // installs of other dependencies
    fs.mkdirSync(project, { recursive: true });
    for (const m of manifests) {
        const content = fs.readFileSync(path.join(scratch, m.filename));
        const file = m.filename.replace(/\.tgz$/, `-${createHash("sha256").update(content).digest("hex").slice(0, 12)}.tgz`);
        if (!fs.existsSync(path.join(project, file))) fs.writeFileSync(path.join(project, file), content);
        dependencies[m.name] = `file:./${file}`;
    }
    const manifest = `${JSON.stringify({ name: "compute-region-consumer", private: true, dependencies }, null, 2)}\n`;
    const installed = path.join(project, ".installed");
    if (!fs.existsSync(installed) || fs.readFileSync(installed, "utf8") !== manifest) {
        fs.writeFileSync(path.join(project, "package.json"), manifest);
        must(await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], project), "npm install of the tarballs");
        fs.writeFileSync(installed, manifest);
        for (const f of fs.readdirSync(project).filter((f) => f.endsWith(".tgz") && !manifest.includes(`file:./${f}`))) fs.rmSync(path.join(project, f));
    }
    fs.rmSync(scratch, { recursive: true, force: true });

    for (const example of EXAMPLES) syncTree(path.join(ROOT, "examples", example), path.join(project, example));
    must(await run(process.execPath, [path.join(project, "node_modules/typescript/bin/tsc"), "-b", ...EXAMPLES], project), "tsc of the examples");

    // The lab's plan (a process of the consumer's) while the dev region is planned here.
    devPlanFile = path.join(project, "plan-dev.json");
    const labPlanFile = path.join(project, "plan-lab.json");
    const [labRun, dev] = await Promise.all([run(process.execPath, ["bin/plan.js", "lab", labPlanFile], path.join(project, "typescript-region")), plan()]);
    if (labRun.status === null || labRun.status > 1) must(labRun, "the lab's offline plan");
    lab = { status: labRun.status, plan: readJson(labPlanFile) };
    fs.writeFileSync(devPlanFile, JSON.stringify({ resources: dev.resources }));

    const h100Only = path.join(project, "policy-config-h100-only.json");
    fs.writeFileSync(h100Only, JSON.stringify({ "gpu-models-approved": { approvedGpuModels: ["h100"] } }));
    const packDir = path.join(project, "extend-policy-pack");
    const [check, checkH100] = await Promise.all([
        run(process.execPath, ["bin/check.js", devPlanFile, "--json", "check-dev.json"], packDir),
        run(process.execPath, ["bin/check.js", devPlanFile, "--policy-config", h100Only, "--json", "check-dev-h100.json"], packDir),
    ]);
    packCheck = { run: check, report: readJson(path.join(packDir, "check-dev.json")) };
    packCheckH100Only = { run: checkH100, report: readJson(path.join(packDir, "check-dev-h100.json")) };
});

describe("the packages as a user installs them", () => {
    it("pack without tests, source maps or the repository's tools, and install with one copy of each Pulumi SDK", () => {
        expect(tarballs.map((t) => t.name).sort()).toEqual(["compute-region", "compute-region-policies"]);
        const files = tarballs.flatMap((t) => t.files.map((f) => `${t.name}/${f}`));
        expect(files).toEqual(expect.arrayContaining(["compute-region/bin/index.d.ts", "compute-region/bin/offline/index.js", "compute-region/billing/migrations/0001_core_schema.sql", "compute-region/CHANGELOG.md", "compute-region/components/batch/worker.py", "compute-region/plugin/PulumiPlugin.yaml", "compute-region/plugin/index.ts", "compute-region/bin/plugin/host.js", "compute-region-policies/bin/index.js", "compute-region-policies/bin/pack.js", "compute-region-policies/PulumiPolicy.yaml"]));
        expect(files.filter((f) => /\.map$|\/test\/|\.test\.|tsbuildinfo|\/bin\/scripts\/(?!provider-types\.d\.ts)|Dockerfile/.test(f))).toEqual([]);
        for (const name of ["@pulumi/pulumi", "@pulumi/policy", "compute-region-policies"]) {
            expect(installedCopies(project, name).map((d) => path.relative(project, d))).toEqual([`node_modules/${name}`]);
        }
        // Installed from the tarball, not linked to the repository.
        expect(fs.lstatSync(path.join(project, "node_modules/compute-region")).isSymbolicLink()).toBe(false);
    });
});

describe("examples/typescript-region: a program on the library, type-checked and planned offline", () => {
    it("builds the region from its own config (gpu-lab:*), not a stack file of compute-region's", () => {
        const resources = lab.plan.resources;
        expect(one(resources, "compute-region:index:Region").name).toBe("lab");
        expect(resources[0].urn).toMatch(/^urn:pulumi:lab::gpu-lab::pulumi:pulumi:Stack::gpu-lab-lab$/);
        expect(one(resources, "aws:ec2/vpc:Vpc").props.cidrBlock).toBe("10.60.0.0/16");
        expect(one(resources, "aws:eks/cluster:Cluster").props.name).toBe("gpu-lab-euw1");
        expect(ofType(resources, "aws:ec2/subnet:Subnet").map((s) => s.props.availabilityZone).sort()).toEqual(["eu-west-1a", "eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1b", "eu-west-1c", "eu-west-1c", "eu-west-1c"]);
        // The lab's teams, as tenants of its H100 pool with their budgets.
        const gpuNodes = ofType(resources, "aws:eks/nodeGroup:NodeGroup").filter((g) => g.props.labels?.["compute-region.io/pool"] === "shared-h100");
        expect(gpuNodes.map((g) => [g.props.instanceTypes, g.props.scalingConfig.minSize])).toEqual([[["p5.48xlarge"], 2]]);
        const tenantQueues = ofType(resources, "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue").filter((q) => q.props.spec.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]?.startsWith("tenant-"));
        expect(tenantQueues.map((q) => [q.props.spec.namespaceSelector.matchLabels["kubernetes.io/metadata.name"], q.props.spec.resourceGroups[0].flavors[0].resources[0].nominalQuota]).sort()).toEqual([
            ["tenant-speech", 4],
            ["tenant-vision", 8],
        ]);
        expect(Object.keys(lab.plan.outputs).sort()).toEqual(["capacity", "clusterName", "kubeconfig", "tenantNamespaces"]);
    });

    it("ships what the region needs at deploy: the billing schema's migrations from the package, the metering image the lab names", () => {
        const resources = lab.plan.resources;
        const migrations = ofType(resources, "kubernetes:core/v1:ConfigMap").find((c) => Object.keys(c.props.data ?? {}).some((k) => k.endsWith(".sql")));
        expect(Object.keys(migrations!.props.data).filter((k) => k.endsWith(".sql")).sort()).toEqual(fs.readdirSync(path.join(ROOT, "billing/migrations")).filter((f) => f.endsWith(".sql")).sort());
        const jobs = [...ofType(resources, "kubernetes:batch/v1:Job"), ...ofType(resources, "kubernetes:batch/v1:CronJob")];
        expect(jobs.length).toBeGreaterThanOrEqual(2);
        for (const job of jobs) expect(JSON.stringify(job.props)).toContain("compute-region-billing@sha256:4d5e6f70");
        expect(ofType(resources, "docker-build:index:Image")).toEqual([]);
    });

    it("passes every policy of the pack, judged from the consumer's project", () => {
        expect(lab.status).toBe(0);
        expect(lab.plan.policy.violations).toEqual([]);
        expect(lab.plan.policy.errors).toEqual([]);
        expect(lab.plan.policy.notRun).toEqual([]);
        expect(lab.plan.policy.policies.map((p) => p.policy)).toEqual(packPolicies.map((p) => p.name));
    });
});

describe("examples/extend-policy-pack: compute-region's policies and one of the lab's own", () => {
    it("judges its own policy's samples as they say, and passes the dev region's plan at its defaults", () => {
        expect(packCheck.report.sampleProblems).toEqual([]);
        expect(packCheck.report.policies).toEqual([...packPolicies.map((p) => p.name), "gpu-models-approved"]);
        expect(packCheck.report.plan.violations).toEqual([]);
        expect(packCheck.report.plan.errors).toEqual([]);
        expect(packCheck.run.status).toBe(0);
    });

    it("with only H100s approved, fails the dev region's L40S pools, and only them", () => {
        expect(packCheckH100Only.run.status).toBe(1);
        const violations = packCheckH100Only.report.plan.violations;
        expect(new Set(violations.map((v) => v.policy))).toEqual(new Set(["gpu-models-approved"]));
        expect(violations.map((v) => v.name).sort()).toEqual(["dev-acme-l40s-nodes", "dev-internal-l40s-nodes", "dev-serving-l40s-nodes", "dev-shared-l40s-nodes"]);
        expect(violations[0].message).toMatch(/runs g6e\.\d+xlarge \(NVIDIA L40S 48GB\), a GPU model the lab has not approved \(approved: h100\)/);
    });
});

describe("examples/extend-policy-pack served by CrossGuard's own analyzer", () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
    const structPb = require("google-protobuf/google/protobuf/struct_pb");
    const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
    /* eslint-enable @typescript-eslint/no-require-imports */
    let analyzer: PackAnalyzer | undefined;
    const call = <T>(method: string, request: unknown) => analyzer!.call<T>(method, request);

    beforeAll(async () => {
        // As `pulumi preview --policy-pack extend-policy-pack` runs it: the consumer's own SDK runs the pack's main.
        analyzer = await startPackAnalyzer(project, path.join(project, "extend-policy-pack"));
    });

    afterAll(() => analyzer?.stop());

    it("announces the lab's pack with every compute-region policy and its own, and reports its own policy's finding", async () => {
        const info = await call<any>("getAnalyzerInfo", new emptyPb.Empty());
        expect([info.getName(), info.getVersion()]).toEqual(["gpu-lab", "1.0.0"]);
        expect(info.getPoliciesList().map((p: any) => p.getName())).toEqual([...packPolicies.map((p) => p.name), "gpu-models-approved"]);
        const analyze = async (instanceTypes: string[]) => {
            const request = new analyzerPb.AnalyzeRequest();
            request.setType("aws:eks/nodeGroup:NodeGroup");
            request.setName("train-a100-nodes");
            request.setUrn("urn:pulumi:lab::gpu-lab::aws:eks/nodeGroup:NodeGroup::train-a100-nodes");
            request.setProperties(structPb.Struct.fromJavaScript({ instanceTypes }));
            request.setOptions(new analyzerPb.AnalyzerResourceOptions());
            const response = await call<any>("analyze", request);
            return response.getDiagnosticsList().filter((d: any) => d.getPolicyname() === "gpu-models-approved").map((d: any) => d.getMessage());
        };
        // CrossGuard prefixes the policy's description to what it reported.
        expect(await analyze(["p4d.24xlarge"])).toEqual([expect.stringMatching(/\nnode group train-a100-nodes runs p4d\.24xlarge \(NVIDIA A100 40GB\), a GPU model the lab has not approved \(approved: h100, l40s\)\.$/)]);
        expect(await analyze(["p5.48xlarge"])).toEqual([]);
    });
});
