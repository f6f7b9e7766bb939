import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    gpuInstanceType,
    LABELS,
    NAMESPACES,
    PoolCapacity,
    poolCapacity,
    poolCohort,
    poolTaints,
    PROMETHEUS_URL,
    QUEUE_KIND_LABEL,
    SHARD_BUDGET_ANNOTATION,
    SHARD_LABEL,
    shardCohort,
    standardTags,
} from "compute-region-policies/model";
import type { RegionConfig } from "../stacks/config";
import { CapacityQueues } from "./capacity-queues";
import { Cluster } from "./cluster";
import { GpuDevicePlugins } from "./gpu-device-plugins";
import { GpuNodeGroup } from "./gpu-node-group";
import { awsContext } from "./kms";
import { Network } from "./network";
import { Observability } from "./observability";
import { billingAlertRules, gatewayAlertRules, servingAlertRules, tenantAlertRules } from "./alert-rules";
import { InferenceService } from "./inference-service";
import { ServingPlatform } from "./serving-platform";
import { LoadBalancerController } from "./load-balancer-controller";
import { ModelGateway } from "./model-gateway";
import { BillingDatabase } from "./billing-database";
import { billingDashboard, servingDashboard } from "./dashboards";
import { loadMigrations } from "../billing/migrate";
import * as path from "node:path";
import { projectRoot } from "../stacks/paths";
import { Tenant, tenantLimits, tenantPoolQuotas } from "./tenant";
import { TenantGuardrails } from "./tenant-guardrails";
import { nodeRole } from "./nodes";

export interface RegionArgs {
    /** The validated stack configuration (see `stacks/config.ts`). */
    config: RegionConfig;
}

/**
 * One region of the GPU cloud: wires the network, the cluster, the GPU pools and their queues,
 * tenants, serving, billing and observability from one validated configuration.
 */
export class Region extends pulumi.ComponentResource {
    public readonly network: Network;
    public readonly cluster: Cluster;
    /** Capacity per GPU pool as configured (the plan also derives it from the resources). */
    public readonly capacity: PoolCapacity[];
    public readonly queues: CapacityQueues;
    public readonly observability: Observability;
    public readonly tenants: Tenant[];
    public readonly billing?: BillingDatabase;
    /** The hosted-model gateway, when the region has one. */
    public readonly gateway?: ModelGateway;

    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:index:Region", name, {}, opts);
        const { config } = args;
        const tags = standardTags(config.stack, config.region);
        const context = awsContext({ parent: this });

        this.network = new Network(
            `${name}-network`,
            {
                availabilityZones: config.availabilityZones,
                vpcCidr: config.network.vpcCidr,
                subnetPrefixLengths: config.network.subnetPrefixLengths,
                natGateways: config.network.natGateways,
                flowLogRetentionDays: config.network.flowLogRetentionDays,
                clusterName: config.cluster.name,
                aws: context,
                tags,
            },
            { parent: this },
        );

        this.cluster = new Cluster(
            `${name}-cluster`,
            {
                clusterName: config.cluster.name,
                kubernetesVersion: config.cluster.kubernetesVersion,
                vpcId: this.network.vpcId,
                subnetIds: this.network.privateSubnetIds,
                serviceCidr: config.cluster.serviceCidr,
                publicAccess: config.cluster.endpoint.publicAccess,
                publicAccessCidrs: config.cluster.endpoint.publicAccessCidrs,
                adminRoleArns: config.cluster.adminRoleArns,
                deployerRoleArn: config.cluster.deployerRoleArn,
                logRetentionDays: config.cluster.logRetentionDays,
                systemNodeGroup: config.cluster.systemNodeGroup,
                aws: context,
                tags,
            },
            { parent: this },
        );

        // GPU pools: one node group each, on the private subnets of the pool's AZs.
        const gpuRole = config.gpuPools.length > 0 ? nodeRole(`${name}-gpu`, { partition: context.partition, tags }, this) : undefined;
        const subnetsByZone = new Map(config.availabilityZones.map((zone, i) => [zone, this.network.privateSubnetIds[i]]));
        const nodeGroups = config.gpuPools.map(
            (pool) =>
                new GpuNodeGroup(
                    `${name}-${pool.name}`,
                    {
                        clusterName: this.cluster.clusterName,
                        poolName: pool.name,
                        role: pool.role,
                        tenant: pool.tenant,
                        instanceType: pool.instanceType,
                        minNodes: pool.minNodes,
                        maxNodes: pool.maxNodes,
                        subnetIds: (pool.availabilityZones ?? config.availabilityZones).map((z) => subnetsByZone.get(z)!),
                        nodeRoleArn: gpuRole!.arn,
                        clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
                        rootVolumeGiB: pool.rootVolumeGiB,
                        placementGroup: pool.placementGroup,
                        capacityReservation: pool.capacityReservation,
                        vpcId: this.network.vpcId,
                        tags,
                    },
                    { parent: this, dependsOn: [this.cluster.systemNodeGroup] },
                ),
        );

        // What each tenant holds per pool; a dedicated pool's tenant holds the whole pool unless its quota says otherwise.
        const ownedPools = (tenant: string) =>
            new Map(config.gpuPools.filter((p) => p.role === "dedicated" && p.tenant === tenant).map((p) => [p.name, poolCapacity(p, 0).guaranteed]));
        const rawTenants = config.tenants.map((t) => ({ config: t, quotas: tenantPoolQuotas(t, ownedPools(t.name)) })).filter((t) => t.quotas.length > 0 || t.config.members.length > 0);
        const sold = new Map<string, number>();
        for (const t of rawTenants) {
            if (t.config.state !== "active") continue; // suspended and decommissioned tenants hold no quota
            for (const q of t.quotas) sold.set(q.pool, (sold.get(q.pool) ?? 0) + q.reserved);
        }
        // On a platform, what each tenant shard may sell is sold here.
        for (const shard of config.shards) for (const [pool, gpus] of Object.entries(shard.budget)) sold.set(pool, (sold.get(pool) ?? 0) + gpus);
        this.capacity = config.gpuPools.map((pool) => poolCapacity(pool, sold.get(pool.name) ?? 0));
        this.queues = new CapacityQueues(
            `${name}-queues`,
            {
                provider: this.cluster.provider,
                pools: config.gpuPools.map((pool, i) => ({ capacity: this.capacity[i], taints: poolTaints(pool.role, pool.tenant), declaredHeadroom: pool.role === "shared" ? this.capacity[i].headroom : undefined })),
                dependsOn: [this.cluster.systemNodeGroup],
            },
            { parent: this },
        );
        if (config.gpuPools.length > 0) {
            new GpuDevicePlugins(
                `${name}-device-plugins`,
                { provider: this.cluster.provider, efa: config.gpuPools.some((p) => (gpuInstanceType(p.instanceType)?.efaInterfaces ?? 0) > 0) },
                { parent: this, dependsOn: nodeGroups.length > 0 ? [this.cluster.systemNodeGroup] : [] },
            );
        }

        this.observability = new Observability(
            `${name}-observability`,
            {
                provider: this.cluster.provider,
                clusterName: this.cluster.clusterName,
                clusterNameLiteral: config.cluster.name,
                kmsKeyArn: this.cluster.kmsKeyArn,
                partition: context.partition,
                pools: this.capacity,
                prometheusRetentionDays: config.observability.prometheusRetentionDays,
                prometheusStorageGiB: config.observability.prometheusStorageGiB,
                logRetentionDays: config.observability.logRetentionDays,
                runbookBaseUrl: config.observability.runbookBaseUrl,
                extraRuleGroups: [
                    ...(rawTenants.length > 0 ? tenantAlertRules(config.observability.runbookBaseUrl) : []),
                    ...(config.billing ? billingAlertRules(config.observability.runbookBaseUrl) : []),
                    ...(config.models.length > 0 ? servingAlertRules(config.models, config.observability.runbookBaseUrl) : []),
                    ...(config.gateway ? gatewayAlertRules(config.observability.runbookBaseUrl) : []),
                ],
                extraDashboards: [...(config.billing ? [billingDashboard()] : []), ...(config.models.length > 0 ? [servingDashboard(config.models)] : [])],
                // The metering job and KEDA (queue-depth scaling of the models) read Prometheus.
                prometheusClients: [...(config.billing ? [NAMESPACES.billing] : []), ...(config.models.length > 0 ? [NAMESPACES.keda] : [])],
                storageClassName: this.cluster.storageClassName,
                dependsOn: [this.cluster.systemNodeGroup],
                tags,
            },
            { parent: this },
        );

        // The serving namespace is always default-deny; KEDA comes with the first model.
        const serving = new ServingPlatform(
                `${name}-serving`,
                {
                    provider: this.cluster.provider,
                    privateSubnetCidrs: this.network.subnetCidrs.private,
                    vpcCidr: config.network.vpcCidr,
                    serviceCidr: config.cluster.serviceCidr,
                    dependsOn: [this.queues.namespaces.serving, this.cluster.systemNodeGroup],
                    autoscaler: config.models.length > 0,
                },
                { parent: this },
            );
            const modelServices = config.models.map((model) => {
                const pool = config.gpuPools.find((p) => p.name === model.pool)!;
                return new InferenceService(
                    `${name}-model-${model.name}`,
                    {
                        model,
                        instance: gpuInstanceType(pool.instanceType)!,
                        clusterName: this.cluster.clusterName,
                        provider: this.cluster.provider,
                        prometheusUrl: PROMETHEUS_URL,
                        dependsOn: [this.queues.namespaces.serving, ...(serving.keda ? [serving.keda] : []), this.observability.namespace],
                        partition: context.partition,
                        tags,
                    },
                    { parent: this },
                );
            });

        // The hosted-model API: the load balancer controller (its only user) and the gateway.
        if (config.gateway) {
            const loadBalancers = new LoadBalancerController(
                `${name}-load-balancers`,
                {
                    clusterName: this.cluster.clusterName,
                    clusterNameLiteral: config.cluster.name,
                    region: config.region,
                    vpcId: this.network.vpcId,
                    provider: this.cluster.provider,
                    partition: context.partition,
                    dependsOn: [this.cluster.systemNodeGroup],
                    tags,
                },
                { parent: this },
            );
            this.gateway = new ModelGateway(
                `${name}-gateway`,
                {
                    provider: this.cluster.provider,
                    clusterName: config.cluster.name,
                    hostname: config.gateway.hostname,
                    certificateArn: config.gateway.certificateArn,
                    clientCidrs: config.gateway.clientCidrs,
                    replicas: config.gateway.replicas,
                    vpcCidr: config.network.vpcCidr,
                    models: config.models.map((m, i) => ({ name: m.name, serviceName: modelServices[i].serviceName })),
                    tenants: config.tenants.filter((t) => t.models.length > 0),
                    defaultRateLimits: config.gateway.tenantRateLimits,
                    dependsOn: [loadBalancers.release, this.observability, this.cluster.systemNodeGroup],
                    tags,
                },
                { parent: this },
            );
        }

        if (config.billing) {
            this.billing = new BillingDatabase(
                `${name}-billing`,
                {
                    clusterName: config.cluster.name,
                    vpcId: this.network.vpcId,
                    isolatedSubnetIds: this.network.isolatedSubnetIds,
                    isolatedSubnetCidrs: this.network.subnetCidrs.isolated,
                    privateSubnetCidrs: this.network.subnetCidrs.private,
                    clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
                    instanceClass: config.billing.instanceClass,
                    engineVersion: config.billing.engineVersion,
                    allocatedStorageGiB: config.billing.allocatedStorageGiB,
                    maxAllocatedStorageGiB: config.billing.maxAllocatedStorageGiB,
                    backupRetentionDays: config.billing.backupRetentionDays,
                    meteringImage: config.billing.meteringImage,
                    meteringSchedule: config.billing.meteringSchedule,
                    migrations: loadMigrations(path.join(projectRoot(), "billing", "migrations")),
                    eksClusterName: this.cluster.clusterName,
                    provider: this.cluster.provider,
                    aws: context,
                    tags,
                },
                { parent: this, dependsOn: [this.cluster.systemNodeGroup] },
            );
        }

        // The guardrails are cluster-wide: a platform installs them for its shards' tenants too.
        if (rawTenants.length > 0 || config.layer === "platform") new TenantGuardrails(`${name}-guardrails`, { provider: this.cluster.provider }, { parent: this });
        for (const shard of config.shards) {
            for (const [pool, gpus] of Object.entries(shard.budget)) {
                new k8s.apiextensions.CustomResource(
                    `${name}-shard-${shard.name}-${pool}`,
                    {
                        apiVersion: "kueue.x-k8s.io/v1alpha1",
                        kind: "Cohort",
                        metadata: {
                            name: shardCohort(shard.name, pool),
                            labels: { [QUEUE_KIND_LABEL]: "shard", [SHARD_LABEL]: shard.name, [LABELS.pool]: pool },
                            annotations: { [SHARD_BUDGET_ANNOTATION]: String(gpus) },
                        },
                        // The shard's tenant queues join this cohort, a child of the pool's; each tenant's
                        // nominal quota is its own, and the policies prove they fit the budget.
                        spec: { parentName: poolCohort(pool) },
                    },
                    { parent: this, provider: this.cluster.provider, dependsOn: [this.queues.kueue] },
                );
            }
        }
        this.tenants = rawTenants.map(
            (t) =>
                new Tenant(
                    `${name}-tenant-${t.config.name}`,
                    {
                        name: t.config.name,
                        state: t.config.state,
                        quotas: t.quotas,
                        members: t.config.members,
                        internetEgress: t.config.egress.internet,
                        allowCidrs: t.config.egress.allowCidrs,
                        vpcCidr: config.network.vpcCidr,
                        serviceCidr: config.cluster.serviceCidr,
                        limits: tenantLimits(t.quotas, t.config.limits),
                        provider: this.cluster.provider,
                        clusterName: this.cluster.clusterName,
                        queueDependencies: [this.queues.kueue],
                        tags,
                    },
                    { parent: this },
                ),
        );

        this.registerOutputs({
            vpcId: this.network.vpcId,
            clusterName: this.cluster.clusterName,
            clusterEndpoint: this.cluster.endpoint,
        });
    }
}
