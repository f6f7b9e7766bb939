import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    dedicatedModelName,
    gpuInstanceType,
    GUARDDUTY_AGENT,
    NAMESPACES,
    PlatformAddressing,
    PoolCapacity,
    PoolRole,
    poolTaints,
    poolTopology,
    TAGS,
    PriceConfig,
    PROMETHEUS_URL,
    regionCapacity,
    RegistryContract,
    regionRegistry,
    SloSpec,
    standardTags,
    TenantPurchase,
    tenantNamespace,
    tenantPoolQuotas,
} from "compute-region-policies/model";
import type { Migration } from "../billing/migrate";
import { billingAlertRules, gatewayAlertRules, pipelineAlertRules, securityAlertRules, servingAlertRules, tenantAlertRules } from "./alert-rules";
import type { AlertingArgs } from "./alertmanager-config";
import { BillingDatabase, BillingDatabaseArgs } from "./billing-database";
import { CapacityQueues, ShardBudget } from "./capacity-queues";
import { Cluster, SystemNodeGroupArgs } from "./cluster";
import { ClusterAutoscaler } from "./cluster-autoscaler";
import { billingDashboard, servingDashboard, sloDashboard } from "./dashboards";
import { GpuDevicePlugins } from "./gpu-device-plugins";
import { GpuNodeGroup, GpuNodeGroupArgs } from "./gpu-node-group";
import { BatchInference } from "./batch-inference";
import { DedicatedEndpoints } from "./dedicated-endpoints";
import { GatewayPrivateLink } from "./gateway-private-link";
import { InferenceService, ModelSpec } from "./inference-service";
import { InvocationLogs } from "./invocation-logs";
import { awsContext, keyPolicy } from "./kms";
import { LoadBalancerController } from "./load-balancer-controller";
import { GatewayTenant, ModelGateway, RateLimits } from "./model-gateway";
import { Network, NetworkArgs } from "./network";
import { nodeRole } from "./nodes";
import { Observability, ObservabilityArgs } from "./observability";
import { ServingPlatform } from "./serving-platform";
import { sloRuleSets } from "./slo-rules";
import { ThreatDetection, ThreatDetectionArgs } from "./threat-detection";
import { Tenant, TenantArgs, tenantLimits } from "./tenant";
import { TenantGuardrails } from "./tenant-guardrails";
import { lustreClientRules, lustreCsiDriver, TenantFileSystem, TenantFileSystemArgs } from "./tenant-file-system";
import { TenantWorkloadIdentity, TenantWorkloadIdentityArgs } from "./tenant-workload-identity";

/** A GPU pool of the region. */
export interface RegionPool extends Pick<GpuNodeGroupArgs, "instanceType" | "minNodes" | "maxNodes" | "rootVolumeGiB" | "placementGroup" | "capacityReservation"> {
    /** Pool name: node label, taint, Kueue flavor and cohort. */
    name: string;
    /** What the pool is for. */
    role: PoolRole;
    /** The tenant of a dedicated pool. */
    tenant?: string;
    /** AZs the nodes go in (default: the region's). */
    availabilityZones?: string[];
    /** Shared pools: the fraction of guaranteed GPUs never sold. */
    headroom?: number;
}

/** A customer of the region: raw GPU capacity, hosted models, or both. */
export interface RegionTenant extends TenantPurchase, Omit<GatewayTenant, "state"> {
    /** Internet egress, and extra public CIDRs the tenant's pods may reach. */
    egress: { internet: boolean; allowCidrs: string[] };
    /** ResourceQuota limits that override the defaults scaled with the tenant's GPUs. */
    limits: Partial<TenantArgs["limits"]>;
    /** A shared FSx for Lustre file system (opt-in); its zone defaults to that of the tenant's first pool. */
    fileSystem?: Pick<TenantFileSystemArgs, "storageGiB" | "throughput" | "s3"> & { availabilityZone?: string };
    /** The tenant's workloads' AWS identity (opt-in): a role in its own account to chain to, or a policy. */
    workloadIdentity?: Pick<TenantWorkloadIdentityArgs, "targetRoleArn" | "policy">;
    /** Dedicated endpoints: the tenant's own replicas of hosted models. */
    dedicated: { model: string; replicas: number }[];
    /** PrivateLink: the principals the tenant's interface endpoints connect as. */
    privateLink?: { principals: string[] };
    /** Batch inference: the principals that upload inputs and read results under the tenant's prefix. */
    batch?: { principals: string[] };
    /** The tenant's contract: when billing starts, a discount, a reference printed on its invoices. */
    contract?: Partial<RegistryContract>;
}

/** A hosted model as the region serves it: the server, and batch inference if enabled. */
export interface RegionModel extends ModelSpec {
    /** Batch inference on the model's idle serving GPUs. */
    batch?: { maxConcurrentJobs: number };
}

/** The region's commercial terms: the currency and the price list (see BILLING_TRACKS). */
export interface RegionPricing {
    /** ISO 4217 code of every price and invoice. */
    currency: string;
    /** Price entries: a track, the GPU model or model priced, a figure per price field, the day it takes effect. */
    prices: PriceConfig[];
}

export interface RegionArgs {
    /** The stack's name, in every AWS resource's tags. */
    stack: string;
    /** The AWS region. */
    region: string;
    /** The region's AZs: one subnet of each tier in each. */
    availabilityZones: string[];
    /** The VPC. */
    network: Pick<NetworkArgs, "vpcCidr" | "natGateways" | "flowLogRetentionDays" | "subnetPrefixLengths">;
    /** The EKS cluster. */
    cluster: {
        name: string;
        kubernetesVersion: string;
        serviceCidr: string;
        endpoint: { publicAccess: boolean; publicAccessCidrs: string[] };
        adminRoleArns: string[];
        deployerRoleArn: string;
        logRetentionDays: number;
        systemNodeGroup: SystemNodeGroupArgs;
    };
    /** The GPU pools. */
    gpuPools: RegionPool[];
    /** Monitoring settings. */
    observability: Pick<ObservabilityArgs, "prometheusRetentionDays" | "prometheusStorageGiB" | "logRetentionDays" | "runbookBaseUrl" | "capacityBlockWarningDays">;
    /** The region's tenants (none on a sharded region's platform). */
    tenants: RegionTenant[];
    /** The billing database and metering; absent: the region has none. */
    billing?: Pick<BillingDatabaseArgs, "instanceClass" | "engineVersion" | "allocatedStorageGiB" | "maxAllocatedStorageGiB" | "backupRetentionDays" | "meteringImage" | "meteringSchedule"> & RegionPricing;
    /** The billing schema's migrations, which the migration Job applies. */
    migrations: readonly Migration[];
    /** Hosted models, each on a serving pool. */
    models: RegionModel[];
    /** The hosted-model gateway; absent: no model is reachable from outside the cluster. */
    gateway?: {
        hostname: string;
        certificateArn: string;
        clientCidrs: string[];
        tenantRateLimits: RateLimits;
        replicas: number;
        /** Private access over PrivateLink (tenants[].privateLink names the principals). */
        privateLink?: { acceptanceRequired: boolean };
        /** Invocation logs in a log group of their own. */
        invocationLogs: { enabled: boolean; retentionDays: number };
    };
    /** Batch inference's storage (for the models with batch). */
    batch: { objectExpirationDays: number };
    /** The batch worker script (components/batch/worker.py), which the program reads. */
    batchWorker?: string;
    /** region: one stack; platform: the shared half of a sharded region (no tenants). */
    layer: "region" | "platform";
    /** Platform layer: each tenant shard's GPU budget per pool. */
    shards: ShardBudget[];
    /** Service level objectives: recording rules, burn-rate alerts and a dashboard each (none: the fixed-threshold serving alerts stay). */
    slos: SloSpec[];
    /** Alertmanager's receivers and routes; absent, alerts reach nobody (and a policy fails the region). */
    alerting?: AlertingArgs;
    /** GuardDuty for the region and its agent on every node. */
    threatDetection: Pick<ThreatDetectionArgs, "mode" | "detectorId" | "findingsTopicArn" | "minimumSeverity" | "agentPriorityClass">;
}

/** ResourceQuota limits with room for a file system's claim (it counts against requests.storage). */
function withStorage(limits: TenantArgs["limits"], extraGiB: number): TenantArgs["limits"] {
    return { ...limits, storageGiB: limits.storageGiB + extraGiB };
}

/**
 * One region of the GPU cloud: wires the network, the cluster, the GPU pools and their queues,
 * tenants, serving, billing and observability.
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
    public readonly threatDetection: ThreatDetection;
    /** The gateway's PrivateLink endpoint service, when configured. */
    public readonly privateLink?: GatewayPrivateLink;
    /** The invocation log group, when invocation logs are on. */
    public readonly invocationLogs?: InvocationLogs;
    /** Batch inference, when a model has it. */
    public readonly batch?: BatchInference;

    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:index:Region", name, {}, opts);
        const tags = standardTags(args.stack, args.region);
        const context = awsContext({ parent: this });

        this.network = new Network(
            `${name}-network`,
            { ...args.network, availabilityZones: args.availabilityZones, clusterName: args.cluster.name, aws: context, tags },
            { parent: this },
        );

        // Where the region's peers live, for every NetworkPolicy made from the upstream facts.
        const addressing: PlatformAddressing = {
            vpcCidr: args.network.vpcCidr,
            serviceCidr: args.cluster.serviceCidr,
            clusterSubnetCidrs: this.network.subnetCidrs.private,
            privateSubnetCidrs: this.network.subnetCidrs.private,
        };
        this.cluster = new Cluster(
            `${name}-cluster`,
            {
                addressing,
                clusterName: args.cluster.name,
                kubernetesVersion: args.cluster.kubernetesVersion,
                vpcId: this.network.vpcId,
                subnetIds: this.network.privateSubnetIds,
                serviceCidr: args.cluster.serviceCidr,
                publicAccess: args.cluster.endpoint.publicAccess,
                publicAccessCidrs: args.cluster.endpoint.publicAccessCidrs,
                adminRoleArns: args.cluster.adminRoleArns,
                deployerRoleArn: args.cluster.deployerRoleArn,
                logRetentionDays: args.cluster.logRetentionDays,
                systemNodeGroup: args.cluster.systemNodeGroup,
                aws: context,
                tags,
                // A central GuardDuty's automated agent configuration stays off this cluster: the region manages its agent.
                ...(args.threatDetection.mode === "central" ? { clusterTags: { [GUARDDUTY_AGENT.exclusionTag.key]: GUARDDUTY_AGENT.exclusionTag.value } } : {}),
            },
            { parent: this },
        );
        // Everything in the cluster goes through its one Kubernetes provider; the system nodes run the add-ons.
        const inCluster = { parent: this, providers: { kubernetes: this.cluster.provider } };
        const onSystemNodes = { ...inCluster, dependsOn: [this.cluster.systemNodeGroup] };

        // Raw-capacity tenants (a namespace and queues) are those with GPUs or people; the rest only call models.
        const rawTenants = args.tenants.map((t) => ({ tenant: t, quotas: tenantPoolQuotas(t, args.gpuPools) })).filter((t) => t.quotas.length > 0 || t.tenant.members.length > 0);
        const poolOf = (pool: string) => args.gpuPools.find((p) => p.name === pool);
        // Tenant file systems (opt-in) admit only their tenant's nodes, by a clients group those nodes
        // carry: one for the shared pools, and one of its own for each such tenant's dedicated pools.
        const fsTenants = rawTenants.filter((t) => t.tenant.fileSystem);
        const zoneCidr = new Map(args.availabilityZones.map((zone, i) => [zone, this.network.subnetCidrs.private[i]]));
        const fileSystemZone = ({ tenant, quotas }: (typeof rawTenants)[number]) => tenant.fileSystem?.availabilityZone ?? poolOf(quotas[0].pool)?.availabilityZones?.[0] ?? args.availabilityZones[0];
        const serverCidrs = [...new Set(fsTenants.map((t) => zoneCidr.get(fileSystemZone(t))!))];
        const clientsGroup = (suffix: string, description: string, tenant?: string) =>
            new aws.ec2.SecurityGroup(
                `${name}-fsx-clients${suffix}`,
                {
                    vpcId: this.network.vpcId,
                    description,
                    ...lustreClientRules(serverCidrs),
                    tags: { ...tags, ...(tenant ? { [TAGS.tenant]: tenant } : {}), [TAGS.purpose]: "lustre-clients", Name: `${args.cluster.name}-fsx-clients${suffix}` },
                },
                { parent: this },
            );
        const sharedClients = fsTenants.some((t) => t.quotas.some((q) => poolOf(q.pool)?.role === "shared")) ? clientsGroup("", "Nodes of shared GPU pools: clients of tenant file systems") : undefined;
        const dedicatedClients = new Map(
            fsTenants.filter((t) => t.quotas.some((q) => poolOf(q.pool)?.role === "dedicated")).map((t) => [t.tenant.name, clientsGroup(`-${t.tenant.name}`, `Nodes of tenant ${t.tenant.name}'s dedicated pools: clients of its file system`, t.tenant.name)]),
        );

        // GPU pools: one node group each, on the private subnets of the pool's AZs.
        const gpuRole = args.gpuPools.length > 0 ? nodeRole(`${name}-gpu`, { partition: context.partition, tags }, this) : undefined;
        const subnetsByZone = new Map(args.availabilityZones.map((zone, i) => [zone, this.network.privateSubnetIds[i]]));
        const nodeGroups = args.gpuPools.map(
            (pool) =>
                new GpuNodeGroup(
                    `${name}-${pool.name}`,
                    {
                        clusterName: this.cluster.clusterName,
                        kubernetesVersion: this.cluster.kubernetesVersion,
                        region: args.region,
                        poolName: pool.name,
                        role: pool.role,
                        tenant: pool.tenant,
                        instanceType: pool.instanceType,
                        minNodes: pool.minNodes,
                        maxNodes: pool.maxNodes,
                        subnetIds: (pool.availabilityZones ?? args.availabilityZones).map((z) => subnetsByZone.get(z)!),
                        nodeRoleArn: gpuRole!.arn,
                        clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
                        rootVolumeGiB: pool.rootVolumeGiB,
                        placementGroup: pool.placementGroup,
                        capacityReservation: pool.capacityReservation,
                        vpcId: this.network.vpcId,
                        ...(sharedClients && pool.role === "shared" ? { extraSecurityGroupIds: [sharedClients.id] } : {}),
                        ...(pool.tenant && dedicatedClients.has(pool.tenant) ? { extraSecurityGroupIds: [dedicatedClients.get(pool.tenant)!.id] } : {}),
                        tags,
                    },
                    { parent: this, dependsOn: [this.cluster.systemNodeGroup] },
                ),
        );
        // Dedicated endpoints are sold on their model's serving pool: replicas x GPUs per replica.
        const modelOf = (model: string) => args.models.find((m) => m.name === model)!;
        const dedicatedGpus = (t: RegionTenant) => {
            const gpus: Record<string, number> = {};
            for (const d of t.dedicated) gpus[modelOf(d.model).pool] = (gpus[modelOf(d.model).pool] ?? 0) + d.replicas * modelOf(d.model).gpusPerReplica;
            return gpus;
        };
        this.capacity = regionCapacity(
            args.gpuPools.map((p) => ({ ...p, window: p.capacityReservation?.window })),
            args.tenants.map((t) => ({ ...t, dedicatedGpus: dedicatedGpus(t) })),
            args.shards.map((s) => s.budget),
        );
        const batchModels = args.models.filter((m) => m.batch);
        this.queues = new CapacityQueues(
            `${name}-queues`,
            {
                pools: args.gpuPools.map((pool, i) => ({
                    capacity: this.capacity[i],
                    taints: poolTaints(pool.role, pool.tenant),
                    // A serving pool declares its headroom only when it sells dedicated endpoints from it.
                    declaredHeadroom: pool.role === "shared" || (pool.role === "serving" && pool.headroom !== undefined) ? this.capacity[i].headroom : undefined,
                    topology: poolTopology(pool.role, pool.instanceType),
                    lendIdleToBatch: batchModels.some((m) => m.pool === pool.name),
                })),
                shards: args.shards,
                formerShardCohorts: { parent: this, namePrefix: name },
                addressing,
            },
            onSystemNodes,
        );
        // Every managed node group scales between its min and max: the GPU pools and the system group.
        new ClusterAutoscaler(
            `${name}-autoscaler`,
            { clusterName: this.cluster.clusterName, clusterNameLiteral: args.cluster.name, kubernetesVersion: args.cluster.kubernetesVersion, region: args.region, addressing, tags },
            onSystemNodes,
        );
        const devicePlugins =
            args.gpuPools.length > 0
                ? new GpuDevicePlugins(
                      `${name}-device-plugins`,
                      { efa: args.gpuPools.some((p) => (gpuInstanceType(p.instanceType)?.efaInterfaces ?? 0) > 0), addressing },
                      { ...inCluster, dependsOn: [this.cluster.systemNodeGroup] },
                  )
                : undefined;

        // Every model the servers label their metrics with: the shared ones and active tenants' dedicated endpoints (their targets are the model's).
        const servedModels = [
            ...args.models,
            ...args.tenants.filter((t) => t.state === "active").flatMap((t) => t.dedicated.map((d) => ({ name: dedicatedModelName(t.name, d.model), targets: modelOf(d.model).targets }))),
        ];
        // Invocation logs: their log group and key first, then the add-on's Fluent Bit that ships to it.
        if (args.gateway?.invocationLogs.enabled) {
            this.invocationLogs = new InvocationLogs(`${name}-invocation-logs`, { clusterName: args.cluster.name, retentionDays: args.gateway.invocationLogs.retentionDays, aws: context, tags }, { parent: this });
        }
        const runbooks = args.observability.runbookBaseUrl;
        // Objectives supersede the fixed thresholds they measure better: a model's p95 latency, the gateway's 5% errors.
        const latencyObjectives = new Set(args.slos.filter((s) => s.service === "model" && s.indicator === "latency").map((s) => s.target!));
        const availabilityObjectives = args.slos.some((s) => s.indicator === "availability");
        this.observability = new Observability(
            `${name}-observability`,
            {
                clusterName: this.cluster.clusterName,
                clusterNameLiteral: args.cluster.name,
                kmsKeyArn: this.cluster.kmsKeyArn,
                partition: context.partition,
                kubernetesVersion: args.cluster.kubernetesVersion,
                pools: this.capacity,
                ...args.observability,
                extraRuleGroups: [
                    ...(rawTenants.length > 0 ? tenantAlertRules(runbooks) : []),
                    ...(args.billing ? billingAlertRules(runbooks) : []),
                    ...(args.models.length > 0 ? servingAlertRules(servedModels, runbooks, latencyObjectives) : []),
                    ...(args.gateway ? gatewayAlertRules(runbooks, availabilityObjectives) : []),
                    ...securityAlertRules(runbooks),
                    ...pipelineAlertRules(runbooks),
                ],
                sloRules: sloRuleSets(args.slos, this.capacity, runbooks),
                extraDashboards: [...(args.billing ? [billingDashboard()] : []), ...(args.models.length > 0 ? [servingDashboard(servedModels)] : []), ...(args.slos.length > 0 ? [sloDashboard(args.slos)] : [])],
                alerting: args.alerting,
                eksClusterName: this.cluster.clusterName,
                // The metering job and KEDA (queue-depth scaling of the models) read Prometheus.
                prometheusClients: [...(args.billing ? [NAMESPACES.billing] : []), ...(args.models.length > 0 ? [NAMESPACES.keda] : [])],
                storageClassName: this.cluster.storageClassName,
                addressing,
                tags,
                ...(this.invocationLogs ? { fluentBit: { extraFiles: this.invocationLogs.fluentBitFiles, writesTo: [this.invocationLogs.logGroup] } } : {}),
            },
            onSystemNodes,
        );

        // GuardDuty, and its agent on every node (GPU pools included).
        this.threatDetection = new ThreatDetection(
            `${name}-threat-detection`,
            {
                ...args.threatDetection,
                clusterName: this.cluster.clusterName,
                kubernetesVersion: args.cluster.kubernetesVersion,
                region: args.region,
                accountId: context.accountId,
                vpcId: this.network.vpcId,
                privateSubnetIds: this.network.privateSubnetIds,
                addressing,
                tags,
            },
            onSystemNodes,
        );

        // The serving namespace is always default-deny; KEDA comes with the first model.
        const serving = new ServingPlatform(
            `${name}-serving`,
            {
                addressing,
                autoscaler: args.models.length > 0,
                ...(batchModels.length > 0
                    ? { kedaReadsQueues: { clusterName: this.cluster.clusterName, queueArns: pulumi.interpolate`arn:${context.partition}:sqs:${context.region}:${context.accountId}:${args.cluster.name}-batch-*`, tags } }
                    : {}),
            },
            { ...inCluster, dependsOn: [this.queues.namespaces.serving, this.cluster.systemNodeGroup] },
        );
        const modelServices = args.models.map((model) => {
            const pool = args.gpuPools.find((p) => p.name === model.pool)!;
            return new InferenceService(
                `${name}-model-${model.name}`,
                {
                    model,
                    instance: gpuInstanceType(pool.instanceType)!,
                    clusterName: this.cluster.clusterName,
                    prometheusUrl: PROMETHEUS_URL,
                    partition: context.partition,
                    // The whole queues component: Kueue's release (webhooks) and the pool's LocalQueue.
                    podsWaitFor: [nodeGroups[args.gpuPools.indexOf(pool)], ...(devicePlugins ? [devicePlugins.nvidia] : []), this.queues, serving],
                    monitorWaitsFor: [this.observability.prometheusStack],
                    tags,
                },
                { ...inCluster, dependsOn: [this.queues.namespaces.serving, ...(serving.keda ? [serving.keda] : []), this.observability.namespace] },
            );
        });

        // Tenants' dedicated endpoints: their own queues and model servers on the serving pools.
        const servingInstances = Object.fromEntries(args.gpuPools.filter((p) => p.role === "serving").map((p) => [p.name, gpuInstanceType(p.instanceType)!]));
        const endpointSpecs = args.tenants.filter((t) => t.state !== "decommissioned").flatMap((t) => t.dedicated.map((d) => ({ tenant: t.name, active: t.state === "active", model: modelOf(d.model), replicas: d.replicas })));
        const dedicated =
            endpointSpecs.length > 0
                ? new DedicatedEndpoints(
                      `${name}-dedicated`,
                      {
                          endpoints: endpointSpecs,
                          instances: servingInstances,
                          clusterName: this.cluster.clusterName,
                          prometheusUrl: PROMETHEUS_URL,
                          partition: context.partition,
                          podsWaitFor: Object.fromEntries(
                              args.gpuPools.map((pool, i) => [pool.name, [nodeGroups[i], ...(devicePlugins ? [devicePlugins.nvidia] : []), this.queues, serving]]),
                          ),
                          monitorWaitsFor: [this.observability.prometheusStack],
                          queuesWaitFor: [this.queues.kueue],
                          tags,
                      },
                      { ...inCluster, dependsOn: [this.queues.namespaces.serving, this.observability.namespace] },
                  )
                : undefined;

        // The hosted-model API: the load balancer controller (its only user) and the gateway.
        if (args.gateway) {
            const loadBalancers = new LoadBalancerController(
                `${name}-load-balancers`,
                {
                    clusterName: this.cluster.clusterName,
                    clusterNameLiteral: args.cluster.name,
                    region: args.region,
                    vpcId: this.network.vpcId,
                    partition: context.partition,
                    addressing,
                    tags,
                },
                onSystemNodes,
            );
            this.gateway = new ModelGateway(
                `${name}-gateway`,
                {
                    clusterName: args.cluster.name,
                    hostname: args.gateway.hostname,
                    certificateArn: args.gateway.certificateArn,
                    clientCidrs: args.gateway.clientCidrs,
                    replicas: args.gateway.replicas,
                    addressing,
                    models: args.models.map((m, i) => ({ name: m.name, serviceName: modelServices[i].serviceName })),
                    tenants: args.tenants
                        .filter((t) => t.models.length > 0 || t.dedicated.length > 0)
                        .map((t) => ({
                            ...t,
                            dedicatedModels: t.state === "decommissioned" ? [] : t.dedicated.map((d) => d.model),
                            privateLinkPrincipals: t.state === "decommissioned" ? [] : (t.privateLink?.principals ?? []),
                        })),
                    defaultRateLimits: args.gateway.tenantRateLimits,
                    dedicatedEndpoints: endpointSpecs.map((e) => ({ tenant: e.tenant, model: e.model.name, serviceName: dedicated!.services[`${e.tenant}/${e.model.name}`].serviceName })),
                    invocationLogs: args.gateway.invocationLogs.enabled,
                    tags,
                },
                { ...inCluster, dependsOn: [loadBalancers.release, this.observability, this.cluster.systemNodeGroup] },
            );
            // PrivateLink: the endpoint service on an internal NLB in front of the gateway's proxies.
            if (args.gateway.privateLink) {
                this.privateLink = new GatewayPrivateLink(
                    `${name}-privatelink`,
                    {
                        clusterName: args.cluster.name,
                        vpcId: this.network.vpcId,
                        vpcCidr: args.network.vpcCidr,
                        subnetIds: this.network.privateSubnetIds,
                        hostname: args.gateway.hostname,
                        certificateArn: args.gateway.certificateArn,
                        acceptanceRequired: args.gateway.privateLink.acceptanceRequired,
                        // A decommissioned tenant's principals are removed: it can connect no new endpoint.
                        tenants: args.tenants.filter((t) => t.privateLink && t.state !== "decommissioned").map((t) => ({ name: t.name, principals: t.privateLink!.principals })),
                        bindingWaitsFor: [loadBalancers.release, this.gateway.namespace],
                        tags,
                    },
                    inCluster,
                );
            }
        }

        // Batch inference: the S3 drop, the queues and one ScaledJob a model.
        if (batchModels.length > 0) {
            this.batch = new BatchInference(
                `${name}-batch`,
                {
                    clusterName: args.cluster.name,
                    eksClusterName: this.cluster.clusterName,
                    aws: context,
                    models: batchModels.map((m) => ({
                        model: m,
                        instance: gpuInstanceType(args.gpuPools.find((p) => p.name === m.pool)!.instanceType)!,
                        maxConcurrentJobs: m.batch!.maxConcurrentJobs,
                        tenants: args.tenants.filter((t) => t.state === "active" && t.batch && t.models.includes(m.name)).map((t) => ({ name: t.name, principals: t.batch!.principals })),
                    })),
                    objectExpirationDays: args.batch.objectExpirationDays,
                    addressing,
                    workerSource: args.batchWorker ?? "",
                    queuesWaitFor: [this.queues.kueue],
                    kedaWaitsFor: serving.keda ? [serving.keda] : [],
                    monitorWaitsFor: [this.observability.prometheusStack],
                    tags,
                },
                inCluster,
            );
        }

        if (args.billing) {
            const { currency: _currency, prices: _prices, ...database } = args.billing;
            this.billing = new BillingDatabase(
                `${name}-billing`,
                {
                    ...database,
                    // What the region sells and at what price: the one rendering of the config, which the
                    // registry Job applies and the plan shows.
                    registry: regionRegistry(args)!,
                    clusterName: args.cluster.name,
                    vpcId: this.network.vpcId,
                    isolatedSubnetIds: this.network.isolatedSubnetIds,
                    isolatedSubnetCidrs: this.network.subnetCidrs.isolated,
                    privateSubnetCidrs: this.network.subnetCidrs.private,
                    clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
                    migrations: args.migrations,
                    eksClusterName: this.cluster.clusterName,
                    aws: context,
                    tags,
                },
                onSystemNodes,
            );
        }

        // The guardrails are cluster-wide: a platform installs them for its shards' tenants too.
        if (rawTenants.length > 0 || args.layer === "platform") new TenantGuardrails(`${name}-guardrails`, {}, inCluster);
        this.tenants = rawTenants.map(
            ({ tenant, quotas }) =>
                new Tenant(
                    `${name}-tenant-${tenant.name}`,
                    {
                        name: tenant.name,
                        state: tenant.state,
                        quotas,
                        members: tenant.members,
                        internetEgress: tenant.egress.internet,
                        allowCidrs: tenant.egress.allowCidrs,
                        vpcCidr: args.network.vpcCidr,
                        serviceCidr: args.cluster.serviceCidr,
                        // The file system's claim counts against the namespace's storage quota.
                        limits: withStorage(tenantLimits(quotas, tenant.limits), tenant.fileSystem?.storageGiB ?? 0),
                        workloadIdentity: !!tenant.workloadIdentity,
                        clusterName: this.cluster.clusterName,
                        tags,
                    },
                    // Its queues need Kueue's CRDs.
                    { ...inCluster, dependsOn: [this.queues.kueue] },
                ),
        );

        // Tenant file systems: one key for all (it outlives each tenant's final backup), the CSI driver once.
        if (fsTenants.length > 0) {
            const key = new aws.kms.Key(
                `${name}-tenant-fsx`,
                {
                    description: `Encryption of the tenant file systems (and their backups) of ${args.cluster.name}`,
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    policy: keyPolicy({ ...context, allowCloudWatchLogs: false }),
                    tags: { ...tags, Name: `${args.cluster.name}-tenant-fsx` },
                },
                { parent: this, protect: true },
            );
            new aws.kms.Alias(`${name}-tenant-fsx`, { name: `alias/${args.cluster.name}-tenant-fsx`, targetKeyId: key.keyId }, { parent: this });
            lustreCsiDriver(`${name}-fsx-csi`, addressing, { parent: this, provider: this.cluster.provider, dependsOn: [this.cluster.systemNodeGroup] });
            for (const fsTenant of fsTenants) {
                const { tenant, quotas } = fsTenant;
                const owner = this.tenants.find((t) => t.namespace === tenantNamespace(tenant.name))!;
                const fileSystem = tenant.fileSystem!;
                const zone = fileSystemZone(fsTenant);
                const clients = quotas.map((q) => (poolOf(q.pool)?.role === "dedicated" ? dedicatedClients.get(tenant.name)?.id : sharedClients?.id));
                new TenantFileSystem(
                    `${name}-tenant-${tenant.name}-fsx`,
                    {
                        tenant: tenant.name,
                        namespace: owner.namespace,
                        protect: tenant.state !== "decommissioned",
                        storageGiB: fileSystem.storageGiB,
                        throughput: fileSystem.throughput,
                        s3: fileSystem.s3,
                        subnetId: subnetsByZone.get(zone)!,
                        vpcId: this.network.vpcId,
                        clientSecurityGroupIds: [...new Set(clients.filter((c): c is pulumi.Output<string> => !!c))],
                        kmsKeyArn: key.arn,
                        tags,
                    },
                    { parent: owner, providers: { kubernetes: this.cluster.provider }, dependsOn: [owner.namespaceResource] },
                );
            }
        }
        for (const { tenant } of rawTenants.filter((t) => t.tenant.workloadIdentity && t.tenant.state !== "decommissioned")) {
            const owner = this.tenants.find((t) => t.namespace === tenantNamespace(tenant.name))!;
            new TenantWorkloadIdentity(
                `${name}-tenant-${tenant.name}-identity`,
                { tenant: tenant.name, namespace: owner.namespace, clusterName: this.cluster.clusterName, ...tenant.workloadIdentity!, accountId: context.accountId, partition: context.partition, tags },
                { parent: owner, providers: { kubernetes: this.cluster.provider }, dependsOn: [owner.namespaceResource] },
            );
        }

        this.registerOutputs({
            vpcId: this.network.vpcId,
            clusterName: this.cluster.clusterName,
            clusterEndpoint: this.cluster.endpoint,
        });
    }
}
