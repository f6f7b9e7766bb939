import { describe, expect, it } from "vitest";
import { changePolicies } from "compute-region-policies/changes";
import { ChangeSample, evaluateChanges, ResourceChange, sampleSnapshots, UNKNOWN } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION } from "compute-region-policies/rules";
import { diffResources } from "../offline/diff";
import { priorResources } from "../offline/state";

/** A sample's transition, as the offline plan's diff makes it from the before and after resources. */
function sampleChanges(sample: ChangeSample): ResourceChange[] {
    const before = sampleSnapshots({ description: sample.description, resources: sample.old });
    const after = sampleSnapshots({ description: sample.description, resources: sample.new });
    const prior = { kind: "plan" as const, source: "sample", project: "samples", stack: "sample", resources: priorResources(before) };
    return diffResources(prior, after, { stack: "sample", project: "samples", config: {} }).changes;
}

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
    it.each([...allowed, ...disallowed])("%s on '%s' with each top-level property of the new side removed or unknown", (name, _d, sample) => {
        sample.new.forEach((resource, i) => {
            for (const key of Object.keys(resource.props)) {
                for (const value of [undefined, UNKNOWN]) {
                    const props = { ...resource.props, [key]: value };
                    if (value === undefined) delete props[key];
                    const changed = { ...sample, new: sample.new.map((r, j) => (j === i ? { ...r, props } : r)) };
                    expect(judge(sampleChanges(changed), name, sample.config).errors, `${resource.name}.${key}`).toEqual([]);
                }
            }
        });
    });
});
