import type { PolicySample } from "./policy";
import type { ResourceSnapshot } from "./snapshot";

/** A sample as the resource snapshots the evaluator judges: names become URNs, dependencies follow. */
export function sampleSnapshots(sample: PolicySample): ResourceSnapshot[] {
    const urnOf = (name: string) => {
        const r = sample.resources.find((x) => x.name === name);
        if (!r) throw new Error(`sample "${sample.description}": no resource named ${name}`);
        return `urn:pulumi:sample::samples::${r.type}::${r.name}`;
    };
    return sample.resources.map((r) => ({
        urn: urnOf(r.name),
        type: r.type,
        name: r.name,
        props: r.props,
        ...(r.parent ? { parent: urnOf(r.parent) } : {}),
        opts: { protect: r.protect === true, dependsOn: [], ...(r.customTimeouts ? { customTimeouts: r.customTimeouts } : {}) },
        dependencies: (r.dependsOn ?? []).map(urnOf),
    }));
}
