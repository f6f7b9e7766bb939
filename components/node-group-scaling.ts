import * as pulumi from "@pulumi/pulumi";

/**
 * A managed node group's bounds, owned apart from the node group so that the autoscaler keeps its
 * desired size.
 *
 * Why not the node group's own `scalingConfig`: the provider sends the whole block (desired, min,
 * max) on any change to it (terraform-provider-aws internal/service/eks/node_group.go, update), and
 * with `ignoreChanges` on the desired size the engine fills in the value of the last `up`
 * (pulumi/pulumi v3.248.0 step_generator.go processIgnoreChanges). Once the Cluster Autoscaler runs
 * that value is stale: a raised minNodes above it is refused by EKS ("Minimum capacity N can't be
 * greater than desired size M"), and a lower one terminates nodes the autoscaler added (EKS API
 * NodegroupScalingConfig: a desired size below the running nodes terminates nodes). So the node group
 * ignores its `scalingConfig` after creation, and this resource sets the bounds with one
 * UpdateNodegroupConfig call that carries the live desired size, moved only when it falls outside
 * the new bounds.
 */

export interface ScalingBounds {
    minSize: number;
    maxSize: number;
}

export interface LiveScaling extends ScalingBounds {
    desiredSize: number;
}

/**
 * The scaling config to send so the node group gets `wanted`: the live desired size clamped into the
 * new bounds (the autoscaler's size is kept when it still fits); undefined when nothing changes.
 */
export function scalingUpdate(live: LiveScaling, wanted: ScalingBounds): LiveScaling | undefined {
    if (wanted.minSize > wanted.maxSize) throw new RangeError(`minSize ${wanted.minSize} is above maxSize ${wanted.maxSize}`);
    const desiredSize = Math.min(wanted.maxSize, Math.max(wanted.minSize, live.desiredSize));
    if (live.minSize === wanted.minSize && live.maxSize === wanted.maxSize && live.desiredSize === desiredSize) return undefined;
    return { minSize: wanted.minSize, maxSize: wanted.maxSize, desiredSize };
}

/** The inputs of a NodeGroupScaling resource as its provider receives them. */
export interface NodeGroupScalingInputs extends ScalingBounds {
    region: string;
    clusterName: string;
    nodeGroupName: string;
}

/** The part of the EKS API the provider uses (an `EKSClient` of @aws-sdk/client-eks has it). */
export interface EksApi {
    send(command: { input: unknown; constructor: { name: string } }): Promise<any>;
}

/** Commands as the provider builds them: the SDK's classes at run time, plain objects in tests. */
export interface EksCommands {
    describeNodegroup(input: { clusterName: string; nodegroupName: string }): { input: unknown; constructor: { name: string } };
    updateNodegroupConfig(input: { clusterName: string; nodegroupName: string; scalingConfig: LiveScaling }): { input: unknown; constructor: { name: string } };
    describeUpdate(input: { name: string; nodegroupName: string; updateId: string }): { input: unknown; constructor: { name: string } };
}

/**
 * Reads the node group's live scaling config, sends the update `scalingUpdate` computes (if any) and
 * waits for EKS to finish it, so the next update of the node group (a version, say) does not meet it
 * in progress. Returns what was sent, or undefined when the node group already had the bounds.
 */
export async function applyScaling(eks: EksApi, commands: EksCommands, inputs: NodeGroupScalingInputs, pollMs = 10_000, timeoutMs = 30 * 60_000): Promise<LiveScaling | undefined> {
    const ids = { clusterName: inputs.clusterName, nodegroupName: inputs.nodeGroupName };
    const described = await eks.send(commands.describeNodegroup(ids));
    const live = described?.nodegroup?.scalingConfig;
    if (typeof live?.desiredSize !== "number") throw new Error(`node group ${inputs.nodeGroupName} of ${inputs.clusterName}: DescribeNodegroup returned no scaling config`);
    const update = scalingUpdate(live, inputs);
    if (!update) return undefined;
    const sent = await eks.send(commands.updateNodegroupConfig({ ...ids, scalingConfig: update }));
    const updateId = sent?.update?.id;
    if (typeof updateId !== "string") return update;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const status = (await eks.send(commands.describeUpdate({ name: inputs.clusterName, nodegroupName: inputs.nodeGroupName, updateId })))?.update;
        if (status?.status === "Successful") return update;
        if (status?.status === "Failed" || status?.status === "Cancelled") {
            const errors = (status.errors ?? []).map((e: { errorMessage?: string }) => e.errorMessage).join("; ");
            throw new Error(`node group ${inputs.nodeGroupName}: scaling update ${updateId} ${status.status}${errors ? `: ${errors}` : ""}`);
        }
        if (Date.now() > deadline) throw new Error(`node group ${inputs.nodeGroupName}: scaling update ${updateId} still ${status?.status ?? "unknown"} after ${timeoutMs / 60_000} minutes`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
}

/** The provider: the AWS SDK is loaded where it runs (the dynamic provider host), not captured. */
const provider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: NodeGroupScalingInputs, news: NodeGroupScalingInputs) {
        const replaces = (["region", "clusterName", "nodeGroupName"] as const).filter((k) => olds[k] !== news[k]);
        const changes = replaces.length > 0 || olds.minSize !== news.minSize || olds.maxSize !== news.maxSize;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs: NodeGroupScalingInputs) {
        await applyScaling(sdkClient(inputs.region), sdkCommands(), inputs);
        return { id: `${inputs.clusterName}:${inputs.nodeGroupName}`, outs: inputs };
    },
    async update(_id: string, _olds: NodeGroupScalingInputs, news: NodeGroupScalingInputs) {
        await applyScaling(sdkClient(news.region), sdkCommands(), news);
        return { outs: news };
    },
    // The bounds belong to the node group: removing this resource leaves them as they are.
    async delete() {},
};

function sdkClient(region: string): EksApi {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { EKSClient } = require("@aws-sdk/client-eks");
    return new EKSClient({ region });
}

function sdkCommands(): EksCommands {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@aws-sdk/client-eks");
    return {
        describeNodegroup: (input) => new sdk.DescribeNodegroupCommand(input),
        updateNodegroupConfig: (input) => new sdk.UpdateNodegroupConfigCommand(input),
        describeUpdate: (input) => new sdk.DescribeUpdateCommand(input),
    };
}

export interface NodeGroupScalingArgs {
    /** The AWS region of the cluster. */
    region: pulumi.Input<string>;
    /** The cluster the node group belongs to. */
    clusterName: pulumi.Input<string>;
    /** The node group (its EKS name). */
    nodeGroupName: pulumi.Input<string>;
    /** The fewest nodes: the autoscaler never goes below. */
    minSize: pulumi.Input<number>;
    /** The most nodes: the autoscaler never goes above. */
    maxSize: pulumi.Input<number>;
}

/** A node group's min and max, set with the live desired size kept inside them (see the file comment). */
export class NodeGroupScaling extends pulumi.dynamic.Resource {
    constructor(name: string, args: NodeGroupScalingArgs, opts?: pulumi.CustomResourceOptions) {
        // The token is TYPES.nodeGroupScaling (a test holds them equal); scripts/provider-types.ts reads these literals.
        super(provider, name, { ...args }, opts, "compute-region", "NodeGroupScaling");
    }
}
