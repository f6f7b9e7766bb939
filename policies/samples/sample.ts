import type { SampleResource } from "../engine/policy";

/** A sample resource; `dependsOn` and `parent` name other resources of the same sample. */
export function sample(type: string, name: string, props: Record<string, unknown>, extra: Omit<SampleResource, "type" | "name" | "props"> = {}): SampleResource {
    return { type, name, props, ...extra };
}
