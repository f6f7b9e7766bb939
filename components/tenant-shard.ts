import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ShardConfig } from "../stacks/config";
import { TAGS } from "compute-region-policies/model";
import { Tenant, tenantLimits, tenantPoolQuotas } from "./tenant";

export interface TenantShardArgs {
    /** The shard's validated config (its tenants). */
    config: ShardConfig;
    /** Outputs of the platform stack (a StackReference). */
    platform: pulumi.StackReference;
}

/** What a platform stack exports for its shards (stacks/program.ts). */
export interface PlatformOutputs {
    clusterName: string;
    kubeconfig: string;
    vpcCidr: string;
    serviceCidr: string;
    shards: Record<string, Record<string, number>>;
}

/**
 * A tenant shard of a sharded region: the tenants of one shard, on the platform stack's cluster,
 * read through a StackReference. Their queues join the shard's cohort of each pool (the platform
 * allots the shard a budget there); guardrails, pools and queues' cohorts belong to the platform.
 */
export class TenantShard extends pulumi.ComponentResource {
    public readonly tenants: Tenant[];

    constructor(name: string, args: TenantShardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:tenants:TenantShard", name, {}, opts);
        const platform = args.platform;
        const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: platform.requireOutput("kubeconfig") as pulumi.Output<string>, enableServerSideApply: true }, { parent: this });
        this.tenants = args.config.tenants
            .map((t) => ({ t, quotas: tenantPoolQuotas(t) }))
            .filter(({ t, quotas }) => quotas.length > 0 || t.members.length > 0)
            .map(
                ({ t, quotas }) =>
                    new Tenant(
                        `${name}-tenant-${t.name}`,
                        {
                            name: t.name,
                            state: t.state,
                            quotas,
                            members: t.members,
                            internetEgress: t.egress.internet,
                            allowCidrs: t.egress.allowCidrs,
                            vpcCidr: platform.requireOutput("vpcCidr") as pulumi.Output<string>,
                            serviceCidr: platform.requireOutput("serviceCidr") as pulumi.Output<string>,
                            shard: args.config.shard.name,
                            limits: tenantLimits(quotas, t.limits),
                            provider,
                            clusterName: platform.requireOutput("clusterName") as pulumi.Output<string>,
                            queueDependencies: [],
                            tags: { [TAGS.shard]: args.config.shard.name },
                        },
                        { parent: this },
                    ),
            );
        this.registerOutputs({ tenants: this.tenants.map((t) => t.namespace) });
    }
}
