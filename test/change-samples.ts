import type { ChangeSample, ResourceChange } from "compute-region-policies/engine";
import { sampleSnapshots } from "compute-region-policies/engine";
import { diffResources } from "../offline/diff";
import { priorResources } from "../offline/state";

/** A change sample's transition, as the offline plan's diff makes it from the before and after resources. */
export function sampleChanges(sample: Pick<ChangeSample, "description" | "old" | "new">): ResourceChange[] {
    const before = sampleSnapshots({ description: sample.description, resources: sample.old });
    const after = sampleSnapshots({ description: sample.description, resources: sample.new });
    const prior = { kind: "plan" as const, source: "sample", project: "samples", stack: "sample", resources: priorResources(before) };
    return diffResources(prior, after, { stack: "sample", project: "samples", config: {} }).changes;
}
