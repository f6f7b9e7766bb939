import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { PlatformBilling, RegistryContract, registryText, shardRegistry, TAGS, TenantPurchase, tenantPoolQuotas } from "compute-region-policies/model";
import { registrySync } from "./billing-database";
import { KUBERNETES_PROVIDER_SETTINGS } from "./cluster";
import type { TenantEgress } from "./region";
import { Tenant, TenantLimits, tenantLimits } from "./tenant";

/** A tenant of a shard: raw GPU capacity only (hosted models are granted by the platform's gateway). */
export interface ShardTenant extends TenantPurchase {
    /** IAM roles mapped to the tenant's Kubernetes group. */
    members: string[];
    /** Internet egress, and extra public CIDRs the tenant's pods may reach. */
    egress: TenantEgress;
    /** ResourceQuota limits that override the defaults scaled with the tenant's GPUs. */
    limits: Partial<TenantLimits>;
    /** The tenant's contract: when billing starts, a discount, a reference printed on its invoices. */
    contract?: Partial<RegistryContract>;
}

/** A tenant shard: its name, its tenants, and the platform stack whose cluster and billing it uses. */
export interface TenantShardArgs {
    /** The shard's name, as the platform stack's shards list it: its tenants' queues join its cohorts. */
    shardName: string;
    /** The shard's tenants. */
    tenants: ShardTenant[];
    /** The platform stack (`<organization>/<project>/<stack>`) whose outputs (PlatformOutputs) the shard reads through a StackReference. */
    platformStack: string;
}

/**
 * What a TypeScript program may give a shard beyond its Args: the StackReference it already holds
 * (a resource, so a separate constructor parameter that schema inference does not read).
 */
export interface TenantShardWiring {
    /** The platform stack's reference (default: one the shard makes, `<name>-platform`, of `platformStack`). */
    platform?: pulumi.StackReference;
}

interface TenantShardParts {
    tenants: Tenant[];
    registry: pulumi.Output<ReturnType<typeof shardRegistry>>;
}

/** What a platform stack exports for its shards (stacks/program.ts). */
export interface PlatformOutputs {
    clusterName: string;
    kubeconfig: string;
    vpcCidr: string;
    serviceCidr: string;
    shards: Record<string, Record<string, number>>;
    /** The platform's billing: the prices and pools its registry applied, the billing image and database. */
    billing: PlatformBilling & { image: string; databaseHost: string };
}

/**
 * A tenant shard of a sharded region: the tenants of one shard, on the platform stack's cluster,
 * read through a StackReference. Their queues join the shard's cohort of each pool (the platform
 * allots the shard a budget there); guardrails, pools and queues' cohorts belong to the platform.
 */
export class TenantShard extends pulumi.ComponentResource {
    /** The shard's tenants. */
    public get tenants(): Tenant[] {
        return partsOf<TenantShardParts>(this).tenants;
    }
    /** The shard's registry document (its tenants, billed at the platform's prices). */
    public get registry(): pulumi.Output<ReturnType<typeof shardRegistry>> {
        return partsOf<TenantShardParts>(this).registry;
    }
    /** The Kubernetes namespaces of the shard's tenants. */
    public readonly tenantNamespaces: string[];

    constructor(name: string, args: TenantShardArgs, opts?: pulumi.ComponentResourceOptions, wiring: TenantShardWiring = {}) {
        super(componentType("TenantShard"), name, {}, componentOptions("TenantShard", opts));
        const parts = partsOf<TenantShardParts>(this);
        if (!/^[^/\s]+(\/[^/\s]+){0,2}$/.test(args.platformStack)) throw new pulumi.ResourceError(`TenantShard ${name}: platformStack must name a stack (<organization>/<project>/<stack>), got ${JSON.stringify(args.platformStack)}`, this);
        const platform = wiring.platform ?? new pulumi.StackReference(`${name}-platform`, { name: args.platformStack }, { parent: this });
        const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: platform.requireOutput("kubeconfig") as pulumi.Output<string>, ...KUBERNETES_PROVIDER_SETTINGS }, { parent: this });
        parts.tenants = args.tenants
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
                            shard: args.shardName,
                            limits: tenantLimits(quotas, t.limits),
                            // The platform runs the tenant metrics API and makes the observability namespace.
                            views: { models: false },
                            // The platform's billing publishes its tenants' statements (its ClusterRole and Job).
                            statements: true,
                            clusterName: platform.requireOutput("clusterName") as pulumi.Output<string>,
                            tags: { [TAGS.shard]: args.shardName },
                        },
                        // The platform's Kueue serves the queues' CRDs already.
                        { parent: this, providers: { kubernetes: provider } },
                    ),
            );
        // The shard's tenants in the billing registry: a registry Job on the platform's cluster, with the
        // platform's image, database, service account and network (the platform deploys first).
        const billing = platform.requireOutput("billing") as pulumi.Output<PlatformOutputs["billing"]>;
        const scope = `shard:${args.shardName}`;
        parts.registry = billing.apply((b) => shardRegistry(args.shardName, b, args.tenants.map((t) => ({ ...t, models: [] }))));
        registrySync(
            `${name}-registry`,
            { target: { image: billing.apply((b) => b.image), databaseHost: billing.apply((b) => b.databaseHost) }, text: parts.registry.apply(registryText), scope, dependsOn: [] },
            { parent: this, provider },
        );
        this.tenantNamespaces = parts.tenants.map((t) => t.namespace);
        this.registerOutputs({ tenants: parts.tenants.map((t) => t.namespace) });
    }
}
