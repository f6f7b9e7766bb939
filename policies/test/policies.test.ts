import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePolicies, inShape, isStackPolicy, PREVIEW_SHAPES, propertyPaths, ResourceSnapshot, sampleSnapshots, withPathChanged } from "../engine";
import { changePolicies } from "../changes";
import { PACK_NAME, PACK_VERSION, policies } from "../rules";

const REPO = path.resolve(__dirname, "../..");

function judge(resources: ResourceSnapshot[], policyName: string, config?: Record<string, unknown>) {
    const policy = policies.find((p) => p.name === policyName)!;
    return evaluatePolicies(resources, { policies: [policy], config: config ? { [policyName]: config } : {}, packName: PACK_NAME, packVersion: PACK_VERSION });
}

describe("the pack's rules (checked here because constructing a PolicyPack exits the process on them)", () => {
    it("has a valid pack name and a version equal to policies/package.json", () => {
        expect(PACK_NAME).toMatch(/^[a-zA-Z0-9-_.]{1,100}$/);
        expect(PACK_VERSION).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "policies/package.json"), "utf8")).version);
    });

    it("names every policy uniquely, lowercase-hyphenated, never 'all'", () => {
        const names = [...policies, ...changePolicies].map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
        for (const name of names) {
            expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(name).not.toBe("all");
        }
    });

    it("keeps enforcementLevel out of every configSchema", () => {
        for (const p of [...policies, ...changePolicies]) {
            expect(Object.keys(p.configSchema?.properties ?? {})).not.toContain("enforcementLevel");
            expect(p.configSchema?.required ?? []).not.toContain("enforcementLevel");
        }
    });

    it.each([...policies, ...changePolicies].map((p) => [p.name, p] as const))("%s is complete: description, severity, enforcement, remediation, mappings, samples", (_name, p) => {
        expect(p.description.length).toBeGreaterThan(20);
        expect(p.rationale.length).toBeGreaterThan(20);
        expect(["low", "medium", "high", "critical"]).toContain(p.severity);
        expect(["advisory", "mandatory", "remediate", "disabled"]).toContain(p.enforcementLevel);
        expect(p.remediationSteps.length).toBeGreaterThan(20);
        expect(new Set(p.controls.map((c) => c.framework)).size).toBeGreaterThanOrEqual(2);
        expect(p.framework?.reference).toBe(p.controls[0].control);
        expect(p.samples.allowed.length).toBeGreaterThan(0);
        expect(p.samples.disallowed.length).toBeGreaterThan(0);
    });
});

const allowed = policies.flatMap((p) => p.samples.allowed.map((s) => [p.name, s.description, s] as const));
const disallowed = policies.flatMap((p) => p.samples.disallowed.map((s) => [p.name, s.description, s] as const));

describe("samples through the evaluator", () => {
    it.each(allowed)("%s allows: %s", (name, _d, sample) => {
        const result = judge(sampleSnapshots(sample), name, sample.config);
        expect(result.errors).toEqual([]);
        expect(result.notRun).toEqual([]);
        expect(result.violations).toEqual([]);
    });

    it.each(disallowed)("%s rejects: %s", (name, _d, sample) => {
        const result = judge(sampleSnapshots(sample), name, sample.config);
        expect(result.errors).toEqual([]);
        expect(result.violations.length).toBeGreaterThan(0);
        for (const v of result.violations) expect(v.policy).toBe(name);
        expect(result.violations.map((v) => v.message).join("\n")).toContain(sample.expect);
        expect(result.summary.mandatoryViolations).toBeGreaterThan(0);
    });
});

describe("robustness: no policy throws on any shape a preview can produce", () => {
    const all = [...allowed, ...disallowed];
    it.each(all)("%s on '%s' with each property, at every depth, absent, unknown, secret, emptied or IPv6", (name, _d, sample) => {
        const base = sampleSnapshots(sample);
        let runs = 0;
        base.forEach((resource, i) => {
            for (const at of propertyPaths(resource.props)) {
                for (const shape of PREVIEW_SHAPES) {
                    let applies = true;
                    const props = withPathChanged(resource.props, at, (v) => {
                        const changed = inShape(v, shape);
                        applies = changed !== undefined;
                        return applies ? changed : v;
                    });
                    if (!applies) continue;
                    const result = judge(base.map((r, j) => (j === i ? { ...r, props } : r)), name, sample.config);
                    expect(result.errors, `${resource.name}.${at.join(".")} ${shape}`).toEqual([]);
                    runs++;
                }
            }
        });
        expect(runs).toBeGreaterThan(0);
    });
});

describe("samples through the CLI", () => {
    const cli = path.join(REPO, "bin/scripts/policy-check.js");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-samples-"));
    const run = (resources: ResourceSnapshot[], name: string, config?: Record<string, unknown>) => {
        const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(resources));
        const args = [cli, "--resources", file, "--format", "json"];
        // Only this policy is enforced; the rest are disabled, so a sample is judged by its own policy.
        const policyConfig: Record<string, unknown> = { all: "disabled", [name]: { enforcementLevel: policies.find((p) => p.name === name)!.enforcementLevel, ...(config ?? {}) } };
        const configFile = `${file}.config.json`;
        fs.writeFileSync(configFile, JSON.stringify(policyConfig));
        args.push("--policy-config", configFile);
        const r = spawnSync(process.execPath, args, { encoding: "utf8" });
        return { status: r.status, out: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
    };

    it.each(policies.map((p) => [p.name, p] as const))("%s: allowed samples exit 0, disallowed exit 1 naming the finding", (name, p) => {
        for (const s of p.samples.allowed) {
            const r = run(sampleSnapshots(s), name, s.config);
            expect(r.stderr).toBe("");
            expect(r.status, s.description).toBe(0);
            expect(r.out.violations).toEqual([]);
        }
        for (const s of p.samples.disallowed) {
            const r = run(sampleSnapshots(s), name, s.config);
            expect(r.status, s.description).toBe(1);
            expect(r.out.violations.map((v: { message: string }) => v.message).join("\n")).toContain(s.expect);
        }
    });
});

describe("policy kinds", () => {
    it("resource policies tag their validation with a type or check the type themselves", () => {
        for (const p of policies) if (!isStackPolicy(p)) expect(p.validateResource).toBeTypeOf("function");
    });
});
