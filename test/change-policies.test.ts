import { describe, expect, it } from "vitest";
import { changePolicies } from "compute-region-policies/changes";
import { ChangeSample, evaluateChanges, ResourceChange, UNKNOWN } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION } from "compute-region-policies/rules";
import { sampleChanges } from "./change-samples";

function judge(changes: ResourceChange[], name: string, config?: Record<string, unknown>) {
    const policy = changePolicies.find((p) => p.name === name)!;
    return evaluateChanges(changes, { policies: [policy], config: config ? { [name]: config } : {}, packName: PACK_NAME, packVersion: PACK_VERSION });
}

const allowed = changePolicies.flatMap((p) => p.samples.allowed.map((s) => [p.name, s.description, s] as const));
const disallowed = changePolicies.flatMap((p) => p.samples.disallowed.map((s) => [p.name, s.description, s] as const));

describe("change samples through the diff and the evaluator", () => {
    it.each(allowed)("%s allows: %s", (name, _d, sample) => {
        const result = judge(sampleChanges(sample), name, sample.config);
        expect(result.errors).toEqual([]);
        expect(result.notRun).toEqual([]);
        expect(result.violations).toEqual([]);
    });

    it.each(disallowed)("%s rejects: %s", (name, _d, sample) => {
        const policy = changePolicies.find((p) => p.name === name)!;
        const result = judge(sampleChanges(sample), name, sample.config);
        expect(result.errors).toEqual([]);
        expect(result.violations.length).toBeGreaterThan(0);
        expect(result.violations.map((v) => v.message).join("\n")).toContain(sample.expect);
        for (const v of result.violations) expect(v.enforcementLevel).toBe(policy.enforcementLevel === "advisory" ? "advisory" : "mandatory");
    });

    it.each(disallowed)("%s: a disallowed sample is judged as the config sets it: %s", (name, _d, sample) => {
        expect(judge(sampleChanges(sample), name, { enforcementLevel: "disabled" }).violations).toEqual([]);
        expect(judge(sampleChanges(sample), name, { enforcementLevel: "mandatory" }).summary.mandatoryViolations).toBeGreaterThan(0);
    });
});

describe("robustness: no change policy throws on partial or unknown input", () => {
    // The side that holds resources: the new one, or, for a change that deletes everything (offboarding), the old one.
    it.each([...allowed, ...disallowed])("%s on '%s' with each top-level property of a side removed or unknown", (name, _d, sample) => {
        const side: "new" | "old" = sample.new.length > 0 ? "new" : "old";
        // A state holds no unknowns: an old side's properties are only removed.
        const shapes = side === "new" ? [undefined, UNKNOWN] : [undefined];
        let runs = 0;
        sample[side].forEach((resource, i) => {
            for (const key of Object.keys(resource.props)) {
                for (const value of shapes) {
                    const props = { ...resource.props, [key]: value };
                    if (value === undefined) delete props[key];
                    const changed: ChangeSample = { ...sample, [side]: sample[side].map((r, j) => (j === i ? { ...r, props } : r)) };
                    expect(judge(sampleChanges(changed), name, sample.config).errors, `${side} ${resource.name}.${key}`).toEqual([]);
                    runs++;
                }
            }
        });
        expect(runs, "a sample with no property to damage asserts nothing").toBeGreaterThan(0);
    });
});
