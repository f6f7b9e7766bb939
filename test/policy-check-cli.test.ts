import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ResourceSnapshot, sampleSnapshots } from "compute-region-policies/engine";
import { policies } from "compute-region-policies/rules";
import { policyCheckCli, policyCheckProcess } from "./cli";

/**
 * Every policy's samples through `npm run policy:check`: the command's own reading of the
 * resources file and the policy config, its JSON output and its exit code, in-process. The process
 * itself (its exit status, what it prints on bad arguments) is run once a path at the end.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-samples-"));
let files = 0;

/** Writes the resources and a config enforcing only `name` (the rest disabled), and returns the CLI's arguments. */
function argsFor(resources: ResourceSnapshot[], name: string, config?: Record<string, unknown>, format = "json"): string[] {
    const file = path.join(dir, `${name}-${files++}.json`);
    fs.writeFileSync(file, JSON.stringify(resources));
    const policyConfig: Record<string, unknown> = { all: "disabled", [name]: { enforcementLevel: policies.find((p) => p.name === name)!.enforcementLevel, ...(config ?? {}) } };
    fs.writeFileSync(`${file}.config.json`, JSON.stringify(policyConfig));
    return ["--resources", file, "--format", format, "--policy-config", `${file}.config.json`];
}

describe("samples through the CLI", () => {
    it.each(policies.map((p) => [p.name, p] as const))("%s: allowed samples exit 0, disallowed exit 1 naming the finding", (name, p) => {
        expect([p.samples.allowed.length, p.samples.disallowed.length].every((n) => n > 0)).toBe(true);
        for (const s of p.samples.allowed) {
            const r = policyCheckCli(argsFor(sampleSnapshots(s), name, s.config));
            expect(r.stderr).toBe("");
            expect(r.status, s.description).toBe(0);
            expect(JSON.parse(r.stdout).violations).toEqual([]);
        }
        for (const s of p.samples.disallowed) {
            const r = policyCheckCli(argsFor(sampleSnapshots(s), name, s.config));
            expect(r.status, s.description).toBe(1);
            expect(JSON.parse(r.stdout).violations.map((v: { message: string }) => v.message).join("\n")).toContain(s.expect);
        }
    });
});

describe("npm run policy:check as a process", () => {
    const policy = policies.find((p) => p.name === "eks-secrets-encrypted")!;
    const allowed = policy.samples.allowed[0];
    const disallowed = policy.samples.disallowed[0];

    it("exits 0 on an allowed sample (text), 1 on a disallowed one (SARIF), 2 on bad arguments, printing only to stdout unless it fails", () => {
        const ok = policyCheckProcess(argsFor(sampleSnapshots(allowed), policy.name, allowed.config, "text"));
        expect([ok.status, ok.stderr]).toEqual([0, ""]);
        expect(ok.stdout).toMatch(/^PASSED: /m);
        const bad = policyCheckProcess(argsFor(sampleSnapshots(disallowed), policy.name, disallowed.config, "sarif"));
        expect([bad.status, bad.stderr]).toEqual([1, ""]);
        expect(JSON.parse(bad.stdout).runs[0].results.map((r: { message: { text: string } }) => r.message.text).join("\n")).toContain(disallowed.expect);
        const usage = policyCheckProcess(["--format", "yaml"]);
        expect([usage.status, usage.stdout]).toEqual([2, ""]);
        expect(usage.stderr).toMatch(/^error: --resources is required\nusage: npm run policy:check/);
    });
});
