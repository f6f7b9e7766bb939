import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePolicies, inShape, isStackPolicy, PREVIEW_SHAPES, propertyPaths, ResourceSnapshot, sampleSnapshots, unwrapSecrets, withPathChanged } from "../engine";
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
        const runs: Record<string, number> = {};
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
                    runs[shape] = (runs[shape] ?? 0) + 1;
                    if (shape === "secret") {
                        // The evaluator unwraps secrets before any policy sees them: what the policies get is
                        // the sample's own input, judged without error above ("samples through the evaluator").
                        expect(unwrapSecrets(props), `${resource.name}.${at.join(".")} secret`).toEqual(unwrapSecrets(resource.props));
                        continue;
                    }
                    const result = judge(base.map((r, j) => (j === i ? { ...r, props } : r)), name, sample.config);
                    expect(result.errors, `${resource.name}.${at.join(".")} ${shape}`).toEqual([]);
                }
            }
        });
        // Every sample has a property, and each of the shapes that apply to any value was tried on it.
        expect(Object.keys(runs)).toEqual(expect.arrayContaining(["removed", "unknown", "secret"]));
    });
});

describe("policy kinds", () => {
    it("resource policies tag their validation with a type or check the type themselves", () => {
        for (const p of policies) if (!isStackPolicy(p)) expect(p.validateResource).toBeTypeOf("function");
    });
});
