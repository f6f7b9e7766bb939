/** Where each workload kind keeps its pod spec, for policies that judge pods the program declares. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    "kubernetes:core/v1:Pod": ["spec"],
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a workload resource, or undefined for other types. */
export function podSpecOf(type: string, props: Record<string, any>): any {
    const path = POD_SPEC_PATHS[type];
    if (!path) return undefined;
    let v: any = props;
    for (const k of path) v = v?.[k];
    return v;
}
