import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PlanInputError, readProject, readStackConfig, SECRET_PLACEHOLDER } from "../offline/project";
import { renderKubeconfig } from "../components/cluster";
import { runOfflinePlan } from "../offline/harness";
import { regionProgram } from "../stacks/program";
import { planCli, planProcess } from "./cli";
import { progressReporter } from "../scripts/plan";
import { byUrn, devStackConfig, plan, ROOT, writeStackFile } from "./helpers";

describe("reading the project and stack files as the engine does", () => {
    const project = readProject(ROOT);

    it("takes the project name and the compiled entry point from Pulumi.yaml", () => {
        expect(project.name).toBe("compute-region");
        expect(project.main).toBe(path.join(ROOT, "bin/stacks/index.js"));
    });

    it("namespaces bare keys with the project, passes structured values as JSON text", () => {
        const file = writeStackFile({ "aws:region": "us-east-2", network: { vpcCidr: "10.0.0.0/16" }, count: 3 });
        const config = readStackConfig(project, "x", file);
        expect(config.values["aws:region"]).toBe("us-east-2");
        expect(config.values["compute-region:network"]).toBe('{"vpcCidr":"10.0.0.0/16"}');
        expect(config.values["compute-region:count"]).toBe("3");
    });

    it("replaces secure values, at any depth, with a placeholder and marks the key secret", () => {
        const file = writeStackFile({ "compute-region:alerting": { pagerDutyKey: { secure: "v1:abc" } }, "compute-region:token": { secure: "v1:def" } });
        const config = readStackConfig(project, "x", file);
        expect(JSON.parse(config.values["compute-region:alerting"]).pagerDutyKey).toBe(SECRET_PLACEHOLDER);
        expect(config.values["compute-region:token"]).toBe(SECRET_PLACEHOLDER);
        expect(config.secretKeys.sort()).toEqual(["compute-region:alerting", "compute-region:token"]);
        expect(config.placeholderSecrets).toEqual(config.secretKeys);
    });

    it("says which stack file is missing", () => {
        expect(() => readStackConfig(project, "nosuchstack")).toThrow(PlanInputError);
        expect(() => readStackConfig(project, "nosuchstack")).toThrow(/no stack file Pulumi\.nosuchstack\.yaml/);
    });

    it("rejects a stack file that is not YAML", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cr-"));
        const file = path.join(dir, "Pulumi.bad.yaml");
        fs.writeFileSync(file, "config: [unclosed");
        expect(() => readStackConfig(project, "bad", file)).toThrow(/is not valid YAML/);
    });
});

describe("kubeconfig", () => {
    it("authenticates with aws eks get-token as the deployer, holding no credential", () => {
        const text = renderKubeconfig({ clusterName: "c", endpoint: "https://x", certificateAuthority: "Q0E=", region: "us-east-2", roleArn: "arn:aws:iam::1:role/d" });
        const doc = JSON.parse(text);
        expect(doc.users[0].user.exec.args).toEqual(["eks", "get-token", "--cluster-name", "c", "--region", "us-east-2", "--output", "json", "--role-arn", "arn:aws:iam::1:role/d"]);
        expect(doc.users[0].user.token).toBeUndefined();
    });
});

describe("npm run plan", () => {
    it("prints progress lines on a stderr that is no terminal only when asked (--progress): what stderr holds must not depend on how fast the machine is", () => {
        let now = 0;
        let written = "";
        const io = { stdout: { write: () => true }, stderr: { write: () => true }, progress: { write: (t: string) => (written += t) }, cwd: ROOT };
        const run = (asked: boolean) => {
            now = 0;
            written = "";
            const progress = progressReporter(io, asked, () => now);
            for (const [at, count] of [[1000, 10], [2500, 40], [4000, 60], [8000, 90], [12000, 120]] as const) {
                now = at;
                progress.onProgress(count);
            }
            progress.done();
            return written;
        };
        expect(run(false)).toBe("");
        // Asked: none in the first two seconds, then one every 5 s, each a line of its own.
        expect(run(true)).toBe("planning... 40 resources registered (3s)\nplanning... 90 resources registered (8s)\n");
    });

    it("plans the dev stack, exits 0 and writes the plan document", async () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cr-")), "plan.json");
        const r = await planCli(["--stack", "dev", "--json", out]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/Offline plan of compute-region\/dev from Pulumi\.dev\.yaml/);
        expect(r.stdout).toMatch(/Resources: \d+ to create/);
        const doc = JSON.parse(fs.readFileSync(out, "utf8"));
        expect(Object.keys(doc)).toEqual(expect.arrayContaining(["stack", "project", "resources", "outputs"]));
        expect(doc.resources[0]).toEqual(expect.objectContaining({ urn: expect.any(String), type: expect.any(String), name: expect.any(String), props: expect.any(Object), opts: expect.any(Object), dependencies: expect.any(Array) }));
    });

    it("exits 2 with the file, key and expectation on a bad config, registering nothing", async () => {
        const config = devStackConfig();
        config["compute-region:cluster"].name = "9 lives";
        const file = writeStackFile(config, "Pulumi.broken.yaml");
        const r = await planCli(["--stack", "broken", "--config-file", file]);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/Pulumi\.broken\.yaml: compute-region:cluster\.name: must be an EKS cluster name .*got "9 lives"/);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(r.stdout).toBe("");
    });

    it("exits 2 on bad arguments", async () => {
        // As a process once: an unknown flag is the command's exit status 2, with its usage.
        const flag = planProcess(["--stack", "dev", "--frobnicate"]);
        expect([flag.status, flag.stdout]).toEqual([2, ""]);
        expect(flag.stderr).toMatch(/^error: Unknown option '--frobnicate'.*\nusage: npm run plan/s);
        expect((await planCli([])).status).toBe(2);
        const missing = await planCli(["--stack", "nosuch"]);
        expect(missing.status).toBe(2);
        expect(missing.stderr).toMatch(/no stack file Pulumi\.nosuch\.yaml/);
    });

    it("exits 4 when the program fails, saying where: the SDK's stack capture, off while planning, is on for a second run", () => {
        // A project whose program throws; its stack file is the dev region's, so the config checks pass.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cr-failing-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: compute-region\nruntime: nodejs\nmain: main.js\n");
        fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
        fs.writeFileSync(path.join(dir, "main.js"), "module.exports = function failingProgram() {\n    throw new Error('the region cannot be built');\n};\n");
        const r = spawnSync(process.execPath, [path.join(ROOT, "bin/scripts/plan.js"), "--stack", "dev"], { cwd: dir, encoding: "utf8" });
        expect(r.status).toBe(4);
        expect(r.stdout).toBe("");
        expect(r.stderr.match(/^error: the program failed: Error: the region cannot be built$/gm)).toHaveLength(1);
        expect(r.stderr).toMatch(/\n\s+at failingProgram \(.*main\.js:2:11\)/);
    });
});

describe("the program itself", () => {
    // What the plan turns off in the SDK (offline/stack-capture.ts) and the protobuf round trip it
    // skips (offline/in-process-wire.ts) change how many promise turns a registration takes, so the
    // order in which registrations interleave may change (as it does over gRPC); what is registered may not.
    it("plans the same resources with the SDK's stack capture and promise labels on as off", async () => {
        // A first plan in a process serializes the dynamic providers' code (asynchronously), which later plans reuse.
        await plan();
        const on = await plan(devStackConfig(), "dev", { stackTraces: true });
        const off = await plan(devStackConfig(), "dev", { stackTraces: false });
        expect(on.resources.length).toBeGreaterThan(100);
        expectSamePlan(off, on);
        // And the capture is back once the plan is done.
        expect(Error.stackTraceLimit).toBeGreaterThan(0);
        expect(new Error("x").stack).toMatch(/\n\s+at /);
    });

    it("plans the same resources with values serialized and encoded as the SDK does for gRPC as in one pass, in process", async () => {
        const encoded = await plan(devStackConfig(), "dev", { sdkWire: true });
        const inProcess = await plan(devStackConfig(), "dev", { sdkWire: false });
        expect(encoded.resources.length).toBeGreaterThan(100);
        expectSamePlan(inProcess, encoded);
    });

    it("registers nothing but the stack when its config is bad", async () => {
        const config = devStackConfig();
        config["compute-region:network"].vpcCidr = "10.40.0.0";
        const project = readProject(ROOT);
        const engineConfig = readStackConfig(project, "dev", writeStackFile(config));
        let registered = 0;
        await expect(
            runOfflinePlan({ project, stack: "dev", config: engineConfig, facts: { region: "us-east-2", accountId: "111122223333" }, program: regionProgram, onProgress: (n) => (registered = n) }),
        ).rejects.toThrow(/Pulumi\.dev\.yaml: compute-region:network\.vpcCidr: must be an IPv4 CIDR/);
        expect(registered).toBeLessThanOrEqual(1); // the root stack resource only
    });
});

describe("provider config, checked as the providers whose default provider the program uses check it", () => {
    const withConfig = (extra: Record<string, unknown>) => ({ ...devStackConfig(), ...extra });

    it("rejects an unknown aws: or random: key and a known key of the wrong type, naming the file and the key", async () => {
        const file = writeStackFile(withConfig({ "aws:regoin": "us-east-2", "aws:maxRetries": "many", "aws:defaultTags": { tag: { team: "gpu" } }, "random:length": 3 }));
        const r = await planCli(["--stack", "dev", "--config-file", file]);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        const source = path.relative(ROOT, file);
        expect(r.stderr).toContain(`${source}: aws:regoin: unknown key for the aws provider`);
        expect(r.stderr).toContain(`${source}: aws:maxRetries: must be a number, got "many"`);
        expect(r.stderr).toContain(`${source}: aws:defaultTags.tag: unknown key (known: tags)`);
        expect(r.stderr).toContain(`${source}: random:length: unknown key for the random provider, which rejects it (it takes no config)`);
    });

    it("accepts the providers' own keys, and leaves alone packages with no default provider in use (Kubernetes providers are explicit)", async () => {
        const project = readProject(ROOT);
        const config = withConfig({ "aws:skipCredentialsValidation": true, "aws:defaultTags": { tags: { team: "gpu" } }, "aws:allowedAccountIds": ["111122223333"], "kubernetes:notAKey": "x" });
        const engine = readStackConfig(project, "dev", writeStackFile(config));
        const planned = await runOfflinePlan({ project, stack: "dev", config: engine, facts: { region: "us-east-2", accountId: "111122223333" }, program: regionProgram });
        expect(planned.resources.length).toBeGreaterThan(100);
        const broken = readStackConfig(project, "dev", writeStackFile(withConfig({ "aws:allowedAccountIds": "111122223333" })));
        await expect(runOfflinePlan({ project, stack: "dev", config: broken, facts: { region: "us-east-2", accountId: "111122223333" }, program: regionProgram })).rejects.toThrow(PlanInputError);
    });
});

/**
 * Two plans register the same resources with the same inputs, options, dependencies and outputs, and
 * the same stack outputs; and each lists a resource after its parent and its dependencies (the
 * order the engine's snapshot keeps), whatever the order their registrations interleaved in.
 */
function expectSamePlan(actual: Awaited<ReturnType<typeof plan>>, expected: Awaited<ReturnType<typeof plan>>): void {
    for (const doc of [actual, expected]) {
        const seen = new Set<string>();
        const registered = new Set(doc.resources.map((r) => r.urn));
        const outOfOrder = doc.resources.filter((r) => {
            const before = [r.parent, ...(r.dependencies ?? [])].filter((u): u is string => u !== undefined && registered.has(u));
            seen.add(r.urn);
            return before.some((u) => !seen.has(u));
        });
        expect(outOfOrder.map((r) => r.urn), "resources listed before their parent or a dependency").toEqual([]);
    }
    const keyed = (doc: Awaited<ReturnType<typeof plan>>) => JSON.stringify({ ...doc, resources: byUrn(doc.resources) });
    const [a, b] = [keyed(actual), keyed(expected)];
    let at = 0;
    while (at < a.length && a[at] === b[at]) at++;
    expect(a.slice(Math.max(0, at - 300), at + 200), "the first difference").toBe(b.slice(Math.max(0, at - 300), at + 200));
}
