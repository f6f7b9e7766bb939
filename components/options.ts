import * as pulumi from "@pulumi/pulumi";

/**
 * The resources a component's `dependsOn` option names, as a list its children extend. A component's
 * `dependsOn` orders only the component itself; the children that must wait get it from here.
 */
export function dependsOnOf(opts: pulumi.ResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
    const given = opts?.dependsOn;
    if (given === undefined) return [];
    if (Array.isArray(given)) return [...given];
    if (pulumi.Resource.isInstance(given)) return [given];
    throw new Error("a component's dependsOn must be a resource or a list of resources");
}
