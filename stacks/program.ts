import * as pulumi from "@pulumi/pulumi";
import { TenantShard } from "../components/tenant-shard";
import { regionFromConfig } from "./build";
import { loadStackConfig, ShardConfig } from "./config";

/**
 * The program: validate the whole stack config first (a bad config registers nothing), then build
 * a region (or a sharded region's platform) or one tenant shard, and return the outputs a platform
 * engineer (or the shards) need. A library user builds the same region from settings in code with
 * `buildRegion` (stacks/build.ts).
 */
export async function regionProgram(): Promise<Record<string, unknown>> {
    const config = loadStackConfig();
    if (config.layer === "shard") return shardProgram(config);
    return regionFromConfig(config).outputs;
}

function shardProgram(config: ShardConfig): Record<string, unknown> {
    const platform = new pulumi.StackReference(config.shard.platformStack);
    const shard = new TenantShard(`${config.stack}`, { shardName: config.shard.name, tenants: config.tenants, platformStack: config.shard.platformStack }, undefined, { platform });
    return { region: config.region, layer: "shard", shard: config.shard.name, tenants: shard.tenants.map((t) => t.namespace) };
}
