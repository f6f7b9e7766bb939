import { K8S_TYPES } from "./types";

/** Where each workload kind keeps its pod spec, for policies that judge pods the program declares. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    [K8S_TYPES.pod]: ["spec"],
    [K8S_TYPES.deployment]: ["spec", "template", "spec"],
    [K8S_TYPES.statefulSet]: ["spec", "template", "spec"],
    [K8S_TYPES.daemonSet]: ["spec", "template", "spec"],
    [K8S_TYPES.replicaSet]: ["spec", "template", "spec"],
    [K8S_TYPES.job]: ["spec", "template", "spec"],
    [K8S_TYPES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a workload resource, or undefined for other types. */
export function podSpecOf(type: string, props: Record<string, any>): any {
    const path = POD_SPEC_PATHS[type];
    if (!path) return undefined;
    let v: any = props;
    for (const k of path) v = v?.[k];
    return v;
}
