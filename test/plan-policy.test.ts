import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import { planCli, planProcess } from "./cli";
import { plan } from "./helpers";

describe("the dev plan under the policy pack", () => {
    it("passes every policy, and every policy could run at preview", async () => {
        const dev = await plan();
        const result = evaluatePolicies(dev.resources, { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
        expect(result.errors).toEqual([]);
        expect(result.notRun).toEqual([]);
        expect(result.violations).toEqual([]);
        expect(result.policies.every((p) => p.status === "passed")).toBe(true);
    });

    it("writes the policy section, a Markdown report and SARIF from the CLI", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cr-plan-"));
        // As a process: the formats a user's command writes, and its exit status.
        const r = planProcess(["--stack", "dev", "--json", `${dir}/p.json`, "--report", `${dir}/r.md`, "--sarif", `${dir}/r.sarif`]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/PASSED: \d+ policies on \d+ resources/);
        const doc = JSON.parse(fs.readFileSync(`${dir}/p.json`, "utf8"));
        expect(Object.keys(doc.policy)).toEqual(expect.arrayContaining(["violations", "notRun", "errors", "summary"]));
        expect(doc.policy.summary.policies).toBe(policies.length);
        expect(fs.readFileSync(`${dir}/r.md`, "utf8")).toMatch(/^### :white_check_mark: Policy results: offline plan of compute-region\/dev/);
        const sarif = JSON.parse(fs.readFileSync(`${dir}/r.sarif`, "utf8"));
        expect(sarif.version).toBe("2.1.0");
        expect(sarif.runs[0].tool.driver.rules).toHaveLength(policies.length);
    });

    it("exits 2 on a policy config naming an unknown policy, before planning", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cr-plan-"));
        fs.writeFileSync(`${dir}/c.json`, JSON.stringify({ "no-such-policy": "mandatory" }));
        const r = await planCli(["--stack", "dev", "--policy-config", `${dir}/c.json`]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("no-such-policy: unknown policy");
        expect(r.stdout).toBe("");
    });
});
