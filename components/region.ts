import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { componentOptions, componentType, partsOf } from "./component-type";
import {
    dedicatedModelName,
    gpuInstanceType,
    GUARDDUTY_AGENT,
    NAMESPACES,
    PlatformAddressing,
    PoolCapacity,
    PoolRole,
    poolTopology,
    TAGS,
    BILLING_TRACKS,
    PROMETHEUS_URL,
    regionCapacity,
    RegistryContract,
    regionRegistry,
    registryText,
    registryServiceLevels,
    CreditTerm,
    SloSpec,
    standardTags,
    TenantPurchase,
    tenantNamespace,
    tenantPoolQuotas,
} from "compute-region-policies/model";
import type { Migration } from "../billing/migrate";
import { PACKAGE_ROOT, packagedMigrations } from "./package-root";
import { billingAlertRules, gatewayAlertRules, pipelineAlertRules, securityAlertRules, servingAlertRules, tenantAlertRules } from "./alert-rules";
import type { AlertingArgs } from "./alertmanager-config";
import { BillingDatabase, BillingDatabaseSettings } from "./billing-database";
import { CapacityQueues, ShardBudget } from "./capacity-queues";
import { Cluster, SystemNodeGroupArgs } from "./cluster";
import { ClusterAutoscaler } from "./cluster-autoscaler";
import { billingDashboard, servingDashboard, sloDashboard } from "./dashboards";
import { GpuDevicePlugins } from "./gpu-device-plugins";
import { GpuNodeGroup, GpuPoolNodes } from "./gpu-node-group";
import { BatchInference } from "./batch-inference";
import { DedicatedEndpoints } from "./dedicated-endpoints";
import { GatewayPrivateLink } from "./gateway-private-link";
import { InferenceService, ModelSpec } from "./inference-service";
import { InvocationLogs } from "./invocation-logs";
import { awsContext, keyPolicy } from "./kms";
import { LoadBalancerController } from "./load-balancer-controller";
import { GatewayTenantSettings, ModelGateway, RateLimits } from "./model-gateway";
import { Network, NetworkSettings } from "./network";
import { nodeRole } from "./nodes";
import { Observability, ObservabilitySettings } from "./observability";
import { ServingPlatform } from "./serving-platform";
import { sloRuleSets } from "./slo-rules";
import { ThreatDetection, ThreatDetectionSettings } from "./threat-detection";
import { Tenant, TenantLimits, tenantLimits } from "./tenant";
import { TenantGuardrails } from "./tenant-guardrails";
import { TenantMetricsApi } from "./tenant-observability";
import { lustreClientRules, lustreCsiDriver, TenantFileSystem, TenantFileSystemSettings } from "./tenant-file-system";
import { TenantWorkloadIdentity, WorkloadIdentitySettings } from "./tenant-workload-identity";

/** A GPU pool of the region. */
export interface RegionPool extends GpuPoolNodes {
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

/** A tenant's network egress. */
export interface TenantEgress {
    /** Internet egress on or off. */
    internet: boolean;
    /** Extra public CIDRs the tenant's pods may reach. */
    allowCidrs: string[];
}

/** A tenant's shared FSx for Lustre file system. */
export interface RegionTenantFileSystem extends TenantFileSystemSettings {
    /** Its zone (default: that of the tenant's first pool). */
    availabilityZone?: string;
}

/** A customer of the region: raw GPU capacity, hosted models, or both. */
export interface RegionTenant extends TenantPurchase, GatewayTenantSettings {
    /** Internet egress, and extra public CIDRs the tenant's pods may reach. */
    egress: TenantEgress;
    /** ResourceQuota limits that override the defaults scaled with the tenant's GPUs. */
    limits: Partial<TenantLimits>;
    /** A shared FSx for Lustre file system (opt-in); its zone defaults to that of the tenant's first pool. */
    fileSystem?: RegionTenantFileSystem;
    /** The tenant's workloads' AWS identity (opt-in): a role in its own account to chain to, or a policy. */
    workloadIdentity?: WorkloadIdentitySettings;
    /** Dedicated endpoints: the tenant's own replicas of hosted models (default none). */
    dedicated?: DedicatedEndpointRequest[];
    /** PrivateLink: the principals the tenant's interface endpoints connect as. */
    privateLink?: TenantPrincipals;
    /** Batch inference: the principals that upload inputs and read results under the tenant's prefix. */
    batch?: TenantPrincipals;
    /** The tenant's contract: when billing starts, a discount, a reference printed on its invoices. */
    contract?: Partial<RegistryContract>;
}

/** A tenant's dedicated endpoint: its own replicas of a hosted model. */
export interface DedicatedEndpointRequest {
    /** The hosted model (a name of the region's models). */
    model: string;
    /** Replicas held for the tenant. */
    replicas: number;
}

/** AWS principals of a tenant (IAM ARNs or account ids). */
export interface TenantPrincipals {
    /** The principals. */
    principals: string[];
}

/** Batch inference of a model. */
export interface ModelBatch {
    /** Batch jobs run at once on the model's idle serving GPUs. */
    maxConcurrentJobs: number;
}

/** A hosted model as the region serves it: the server, and batch inference if enabled. */
export interface RegionModel extends ModelSpec {
    /** Batch inference on the model's idle serving GPUs. */
    batch?: ModelBatch;
}

/** Batch inference's storage. */
export interface BatchStorage {
    /** Days before inputs and results expire. */
    objectExpirationDays: number;
}

/** Private access to the gateway over PrivateLink. */
export interface GatewayPrivateLinkSettings {
    /** Connections wait for acceptance. */
    acceptanceRequired: boolean;
}

/** The gateway's invocation logs. */
export interface InvocationLogSettings {
    /** Logs on or off. */
    enabled: boolean;
    /** Retention of the log group, days. */
    retentionDays: number;
}

/** A price of the region's price list: a track, what it prices, a figure per price field of the track, the day it takes effect. */
export interface RegionPrice {
    /** The billing track (BILLING_TRACKS): reserved, dedicated, spot, hosted, dedicated_endpoint or batch. */
    track: string;
    /** GPU tracks: the GPU model priced. */
    gpuModel?: string;
    /** Model tracks: the model priced. */
    model?: string;
    /** The day it takes effect (YYYY-MM-DD). */
    effectiveFrom: string;
    /** GPU tracks: per GPU-hour. */
    perGpuHour?: number;
    /** The hosted and batch tracks: per million input tokens (uncached). */
    perMillionInputTokens?: number;
    /** The hosted track: per million cached input tokens (default: the input price). */
    perMillionCachedInputTokens?: number;
    /** The hosted and batch tracks: per million output tokens. */
    perMillionOutputTokens?: number;
    /** The dedicated_endpoint track: per replica-hour. */
    perReplicaHour?: number;
}
/** Every price field of every track is a field of RegionPrice: a track's new field fails to compile here until it is added. */
type TrackPriceField = { [T in keyof typeof BILLING_TRACKS]: keyof (typeof BILLING_TRACKS)[T]["prices"] }[keyof typeof BILLING_TRACKS];
const _everyPriceField: [Exclude<TrackPriceField, keyof RegionPrice>] extends [never] ? true : Exclude<TrackPriceField, keyof RegionPrice> = true;
void _everyPriceField;

/** The region's billing: its database and metering, and its commercial terms. */
export interface RegionBilling extends BillingDatabaseSettings {
    /** ISO 4217 code of every price and invoice. */
    currency: string;
    /** Price entries: a track, the GPU model or model priced, a figure per price field, the day it takes effect. */
    prices: RegionPrice[];
}

/** Who may reach the cluster's API endpoint. */
export interface ClusterEndpointAccess {
    /** Expose the API endpoint publicly too, to `publicAccessCidrs` only. */
    publicAccess: boolean;
    /** CIDRs allowed to reach the public endpoint. */
    publicAccessCidrs: string[];
}

/** The region's EKS cluster. */
export interface RegionClusterArgs {
    /** The EKS cluster name. */
    name: string;
    /** Kubernetes minor version, such as "1.34". */
    kubernetesVersion: string;
    /** Service CIDR (must not overlap the VPC). */
    serviceCidr: string;
    /** Who may reach the API endpoint. */
    endpoint: ClusterEndpointAccess;
    /** IAM roles that get cluster admin through access entries. */
    adminRoleArns: string[];
    /** IAM role that runs Pulumi: an access entry with cluster admin, and the Kubernetes provider uses it. */
    deployerRoleArn: string;
    /** Control-plane log retention, days. */
    logRetentionDays: number;
    /** The system node group for add-ons and platform controllers. */
    systemNodeGroup: SystemNodeGroupArgs;
}

/** The hosted-model gateway. */
export interface RegionGateway {
    /** What clients call. */
    hostname: string;
    /** The ACM certificate the NLB terminates TLS with. */
    certificateArn: string;
    /** Client networks the NLB admits. */
    clientCidrs: string[];
    /** Each tenant's limits unless it has its own. */
    tenantRateLimits: RateLimits;
    /** Envoy replicas. */
    replicas: number;
    /** Private access over PrivateLink (tenants[].privateLink names the principals). */
    privateLink?: GatewayPrivateLinkSettings;
    /** Invocation logs in a log group of their own. */
    invocationLogs: InvocationLogSettings;
}

/** What a region stack is. */
export const RegionLayer = {
    /** A whole region in one stack. */
    Region: "region",
    /** The shared half of a sharded region (no tenants; its shards hold them). */
    Platform: "platform",
} as const;
/** What a region stack is. */
export type RegionLayer = (typeof RegionLayer)[keyof typeof RegionLayer];

/** One region of the GPU cloud, from its config. */
export interface RegionArgs {
    /** The stack's name, in every AWS resource's tags. */
    stack: string;
    /** The AWS region. */
    region: string;
    /** The region's AZs: one subnet of each tier in each. */
    availabilityZones: string[];
    /** The VPC. */
    network: NetworkSettings;
    /** The EKS cluster. */
    cluster: RegionClusterArgs;
    /** The GPU pools. */
    gpuPools: RegionPool[];
    /** Monitoring settings. */
    observability: ObservabilitySettings;
    /** The region's tenants (none on a sharded region's platform; default none). */
    tenants?: RegionTenant[];
    /** The billing database and metering; absent: the region has none. */
    billing?: RegionBilling;
    /** The billing schema's migrations, which the migration Job applies (default: the package's billing/migrations). */
    migrations?: Migration[];
    /** Hosted models, each on a serving pool (default none). */
    models?: RegionModel[];
    /** The hosted-model gateway; absent: no model is reachable from outside the cluster. */
    gateway?: RegionGateway;
    /** Batch inference's storage, for the models with batch (default: objects expire after BATCH_OBJECT_EXPIRATION_DAYS days). */
    batch?: BatchStorage;
    /** The batch worker script (components/batch/worker.py; default: read from the package when a model has batch). */
    batchWorker?: string;
    /** region: one stack; platform: the shared half of a sharded region (no tenants; default region). */
    layer?: RegionLayer;
    /** Platform layer: each tenant shard's GPU budget per pool (default none). */
    shards?: ShardBudget[];
    /** Service level objectives: recording rules, burn-rate alerts and a dashboard each (none: the fixed-threshold serving alerts stay). */
    slos?: SloSpec[];
    /** The credits a hosted model's month below its availability objective owes its tenants (highest threshold first): billing records them with the objectives and issues them on invoices. */
    sloCredits?: CreditTerm[];
    /** Alertmanager's receivers and routes; absent, alerts reach nobody (and a policy fails the region). */
    alerting?: AlertingArgs;
    /** GuardDuty for the region and its agent on every node. */
    threatDetection: ThreatDetectionSettings;
}

/** RegionArgs with its defaults applied. */
type ResolvedRegionArgs = Omit<RegionArgs, "tenants"> & Required<Pick<RegionArgs, "migrations" | "models" | "layer" | "shards" | "slos" | "batch">> & { tenants: ResolvedTenant[] };
/** A tenant with its defaults applied. */
type ResolvedTenant = RegionTenant & Required<Pick<RegionTenant, "dedicated">>;

/** Days a batch job's inputs and results are kept when the region's config says nothing. */
export const BATCH_OBJECT_EXPIRATION_DAYS = 30;


/** The batch worker shipped with the package. */
function packagedBatchWorker(): string {
    return fs.readFileSync(path.join(PACKAGE_ROOT, "components", "batch", "worker.py"), "utf8");
}

/** ResourceQuota limits with room for a file system's claim (it counts against requests.storage). */
function withStorage(limits: TenantLimits, extraGiB: number): TenantLimits {
    return { ...limits, storageGiB: limits.storageGiB + extraGiB };
}

/** The child components a Region hands to TypeScript callers. */
interface RegionParts {
    network: Network;
    cluster: Cluster;
    queues: CapacityQueues;
    observability: Observability;
    tenants: Tenant[];
    billing?: BillingDatabase;
    gateway?: ModelGateway;
    threatDetection: ThreatDetection;
    privateLink?: GatewayPrivateLink;
    invocationLogs?: InvocationLogs;
    batch?: BatchInference;
}

/**
 * One region of the GPU cloud: wires the network, the cluster, the GPU pools and their queues,
 * tenants, serving, billing and observability.
 */
export class Region extends pulumi.ComponentResource {
    /** The VPC's id. */
    public readonly vpcId: pulumi.Output<string>;
    /** The EKS cluster's name. */
    public readonly clusterName: pulumi.Output<string>;
    /** The cluster's API endpoint. */
    public readonly clusterEndpoint: pulumi.Output<string>;
    /** Kubeconfig that authenticates as the deployer role (secret). */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Capacity per GPU pool as configured (the plan also derives it from the resources). */
    public readonly capacity: PoolCapacity[];
    /** Namespaces of the region's raw-capacity tenants. */
    public readonly tenantNamespaces: string[];

    /** The VPC. */
    public get network(): Network {
        return partsOf<RegionParts>(this).network;
    }
    /** The EKS cluster. */
    public get cluster(): Cluster {
        return partsOf<RegionParts>(this).cluster;
    }
    /** Kueue and the pools' queues. */
    public get queues(): CapacityQueues {
        return partsOf<RegionParts>(this).queues;
    }
    /** Prometheus, Grafana, Alertmanager and the log groups. */
    public get observability(): Observability {
        return partsOf<RegionParts>(this).observability;
    }
    /** The raw-capacity tenants. */
    public get tenants(): Tenant[] {
        return partsOf<RegionParts>(this).tenants;
    }
    /** The billing database, when the region has billing. */
    public get billing(): BillingDatabase | undefined {
        return partsOf<RegionParts>(this).billing;
    }
    /** The hosted-model gateway, when the region has one. */
    public get gateway(): ModelGateway | undefined {
        return partsOf<RegionParts>(this).gateway;
    }
    /** GuardDuty and its agent. */
    public get threatDetection(): ThreatDetection {
        return partsOf<RegionParts>(this).threatDetection;
    }
    /** The gateway's PrivateLink endpoint service, when configured. */
    public get privateLink(): GatewayPrivateLink | undefined {
        return partsOf<RegionParts>(this).privateLink;
    }
    /** The invocation log group, when invocation logs are on. */
    public get invocationLogs(): InvocationLogs | undefined {
        return partsOf<RegionParts>(this).invocationLogs;
    }
    /** Batch inference, when a model has it. */
    public get batch(): BatchInference | undefined {
        return partsOf<RegionParts>(this).batch;
    }

    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("Region"), name, {}, componentOptions("Region", opts));
        const config: ResolvedRegionArgs = {
            ...args,
            tenants: (args.tenants ?? []).map((t) => ({ ...t, dedicated: t.dedicated ?? [] })),
            models: args.models ?? [],
            layer: args.layer ?? RegionLayer.Region,
            shards: args.shards ?? [],
            slos: args.slos ?? [],
            batch: args.batch ?? { objectExpirationDays: BATCH_OBJECT_EXPIRATION_DAYS },
            batchWorker: args.batchWorker ?? ((args.models ?? []).some((m) => m.batch) ? packagedBatchWorker() : undefined),
            migrations: args.migrations ?? (args.billing ? packagedMigrations() : []),
        };
        const parts = partsOf<RegionParts>(this);
        const tags = standardTags(config.stack, config.region);
        const context = awsContext({ parent: this });

        parts.network = new Network(
            `${name}-network`,
            { ...config.network, availabilityZones: config.availabilityZones, clusterName: config.cluster.name, aws: context, tags },
            { parent: this },
        );

        // Where the region's peers live, for every NetworkPolicy made from the upstream facts.
        const addressing: PlatformAddressing = {
            vpcCidr: config.network.vpcCidr,
            serviceCidr: config.cluster.serviceCidr,
            clusterSubnetCidrs: this.network.subnetCidrs.private,
            privateSubnetCidrs: this.network.subnetCidrs.private,
        };
        parts.cluster = new Cluster(
            `${name}-cluster`,
            {
                addressing,
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
                // A central GuardDuty's automated agent configuration stays off this cluster: the region manages its agent.
                ...(config.threatDetection.mode === "central" ? { clusterTags: { [GUARDDUTY_AGENT.exclusionTag.key]: GUARDDUTY_AGENT.exclusionTag.value } } : {}),
            },
            { parent: this },
        );
        // Everything in the cluster goes through its one Kubernetes provider; the system nodes run the add-ons.
        const inCluster = { parent: this, providers: { kubernetes: this.cluster.provider } };
        const onSystemNodes = { ...inCluster, dependsOn: [this.cluster.systemNodeGroup] };

        // Raw-capacity tenants (a namespace and queues) are those with GPUs or people; the rest only call models.
        const rawTenants = config.tenants.map((t) => ({ tenant: t, quotas: tenantPoolQuotas(t, config.gpuPools) })).filter((t) => t.quotas.length > 0 || t.tenant.members.length > 0);
        const poolOf = (pool: string) => config.gpuPools.find((p) => p.name === pool);
        // Tenant file systems (opt-in) admit only their tenant's nodes, by a clients group those nodes
        // carry: one for the shared pools, and one of its own for each such tenant's dedicated pools.
        const fsTenants = rawTenants.filter((t) => t.tenant.fileSystem);
        const zoneCidr = new Map(config.availabilityZones.map((zone, i) => [zone, this.network.subnetCidrs.private[i]]));
        const fileSystemZone = ({ tenant, quotas }: (typeof rawTenants)[number]) => tenant.fileSystem?.availabilityZone ?? poolOf(quotas[0].pool)?.availabilityZones?.[0] ?? config.availabilityZones[0];
        const serverCidrs = [...new Set(fsTenants.map((t) => zoneCidr.get(fileSystemZone(t))!))];
        const clientsGroup = (suffix: string, description: string, tenant?: string) =>
            new aws.ec2.SecurityGroup(
                `${name}-fsx-clients${suffix}`,
                {
                    vpcId: this.network.vpcId,
                    description,
                    ...lustreClientRules(serverCidrs),
                    tags: { ...tags, ...(tenant ? { [TAGS.tenant]: tenant } : {}), [TAGS.purpose]: "lustre-clients", Name: `${config.cluster.name}-fsx-clients${suffix}` },
                },
                { parent: this },
            );
        const sharedClients = fsTenants.some((t) => t.quotas.some((q) => poolOf(q.pool)?.role === "shared")) ? clientsGroup("", "Nodes of shared GPU pools: clients of tenant file systems") : undefined;
        const dedicatedClients = new Map(
            fsTenants.filter((t) => t.quotas.some((q) => poolOf(q.pool)?.role === "dedicated")).map((t) => [t.tenant.name, clientsGroup(`-${t.tenant.name}`, `Nodes of tenant ${t.tenant.name}'s dedicated pools: clients of its file system`, t.tenant.name)]),
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
                        kubernetesVersion: this.cluster.kubernetesVersion,
                        region: config.region,
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
                        ...(sharedClients && pool.role === "shared" ? { extraSecurityGroupIds: [sharedClients.id] } : {}),
                        ...(pool.tenant && dedicatedClients.has(pool.tenant) ? { extraSecurityGroupIds: [dedicatedClients.get(pool.tenant)!.id] } : {}),
                        tags,
                    },
                    { parent: this, dependsOn: [this.cluster.systemNodeGroup] },
                ),
        );
        // Dedicated endpoints are sold on their model's serving pool: replicas x GPUs per replica.
        const modelOf = (model: string) => config.models.find((m) => m.name === model)!;
        const dedicatedGpus = (t: ResolvedTenant) => {
            const gpus: Record<string, number> = {};
            for (const d of t.dedicated) gpus[modelOf(d.model).pool] = (gpus[modelOf(d.model).pool] ?? 0) + d.replicas * modelOf(d.model).gpusPerReplica;
            return gpus;
        };
        this.capacity = regionCapacity(
            config.gpuPools.map((p) => ({ ...p, window: p.capacityReservation?.window })),
            config.tenants.map((t) => ({ ...t, dedicatedGpus: dedicatedGpus(t) })),
            config.shards.map((s) => s.budget),
        );
        const batchModels = config.models.filter((m) => m.batch);
        parts.queues = new CapacityQueues(
            `${name}-queues`,
            {
                pools: config.gpuPools.map((pool, i) => ({
                    capacity: this.capacity[i],
                    tenant: pool.tenant,
                    // A serving pool declares its headroom only when it sells dedicated endpoints from it.
                    declaredHeadroom: pool.role === "shared" || (pool.role === "serving" && pool.headroom !== undefined) ? this.capacity[i].headroom : undefined,
                    topology: poolTopology(pool.role, pool.instanceType),
                    lendIdleToBatch: batchModels.some((m) => m.pool === pool.name),
                })),
                shards: config.shards,
                addressing,
            },
            onSystemNodes,
            { formerShardCohorts: { parent: this, namePrefix: name } },
        );
        // Every managed node group scales between its min and max: the GPU pools and the system group.
        new ClusterAutoscaler(
            `${name}-autoscaler`,
            { clusterName: this.cluster.clusterName, clusterNameLiteral: config.cluster.name, kubernetesVersion: config.cluster.kubernetesVersion, region: config.region, addressing, tags },
            onSystemNodes,
        );
        const devicePlugins =
            config.gpuPools.length > 0
                ? new GpuDevicePlugins(
                      `${name}-device-plugins`,
                      { efa: config.gpuPools.some((p) => (gpuInstanceType(p.instanceType)?.efaInterfaces ?? 0) > 0), addressing },
                      { ...inCluster, dependsOn: [this.cluster.systemNodeGroup] },
                  )
                : undefined;

        // Every model the servers label their metrics with: the shared ones and active tenants' dedicated endpoints (their targets are the model's).
        const servedModels = [
            ...config.models,
            ...config.tenants.filter((t) => t.state === "active").flatMap((t) => t.dedicated.map((d) => ({ name: dedicatedModelName(t.name, d.model), targets: modelOf(d.model).targets }))),
        ];
        // Invocation logs: their log group and key first, then the add-on's Fluent Bit that ships to it.
        if (config.gateway?.invocationLogs.enabled) {
            parts.invocationLogs = new InvocationLogs(`${name}-invocation-logs`, { clusterName: config.cluster.name, retentionDays: config.gateway.invocationLogs.retentionDays, aws: context, tags }, { parent: this });
        }
        const runbooks = config.observability.runbookBaseUrl;
        // Objectives supersede the fixed thresholds they measure better: a model's p95 latency, the gateway's 5% errors.
        const latencyObjectives = new Set(config.slos.filter((s) => s.service === "model" && s.indicator === "latency").map((s) => s.target!));
        const availabilityObjectives = config.slos.some((s) => s.indicator === "availability");
        parts.observability = new Observability(
            `${name}-observability`,
            {
                clusterName: this.cluster.clusterName,
                clusterNameLiteral: config.cluster.name,
                kmsKeyArn: this.cluster.kmsKeyArn,
                partition: context.partition,
                kubernetesVersion: config.cluster.kubernetesVersion,
                pools: this.capacity,
                ...config.observability,
                alerting: config.alerting,
                eksClusterName: this.cluster.clusterName,
                // The metering job and KEDA (queue-depth scaling of the models) read Prometheus.
                prometheusClients: [...(config.billing ? [NAMESPACES.billing] : []), ...(config.models.length > 0 ? [NAMESPACES.keda] : [])],
                storageClassName: this.cluster.storageClassName,
                addressing,
                tags,
            },
            onSystemNodes,
            {
                extraRuleGroups: [
                    ...(rawTenants.length > 0 ? tenantAlertRules(runbooks) : []),
                    ...(config.billing ? billingAlertRules(runbooks) : []),
                    ...(config.models.length > 0 ? servingAlertRules(servedModels, runbooks, latencyObjectives) : []),
                    ...(config.gateway ? gatewayAlertRules(runbooks, availabilityObjectives) : []),
                    ...securityAlertRules(runbooks),
                    ...pipelineAlertRules(runbooks),
                ],
                sloRules: sloRuleSets(config.slos, this.capacity, runbooks),
                extraDashboards: [...(config.billing ? [billingDashboard()] : []), ...(config.models.length > 0 ? [servingDashboard(servedModels)] : []), ...(config.slos.length > 0 ? [sloDashboard(config.slos)] : [])],
                ...(this.invocationLogs ? { fluentBit: { extraFiles: this.invocationLogs.fluentBitFiles, writesTo: [this.invocationLogs.logGroup] } } : {}),
            },
        );

        // GuardDuty, and its agent on every node (GPU pools included).
        parts.threatDetection = new ThreatDetection(
            `${name}-threat-detection`,
            {
                ...config.threatDetection,
                clusterName: this.cluster.clusterName,
                kubernetesVersion: config.cluster.kubernetesVersion,
                region: config.region,
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
                autoscaler: config.models.length > 0,
                ...(batchModels.length > 0
                    ? { kedaReadsQueues: { clusterName: this.cluster.clusterName, queueArns: pulumi.interpolate`arn:${context.partition}:sqs:${context.region}:${context.accountId}:${config.cluster.name}-batch-*`, tags } }
                    : {}),
            },
            { ...inCluster, dependsOn: [this.queues.namespaces.serving, this.cluster.systemNodeGroup] },
        );
        const modelServices = config.models.map((model) => {
            const pool = config.gpuPools.find((p) => p.name === model.pool)!;
            return new InferenceService(
                `${name}-model-${model.name}`,
                {
                    model,
                    instanceType: pool.instanceType,
                    clusterName: this.cluster.clusterName,
                    prometheusUrl: PROMETHEUS_URL,
                    partition: context.partition,
                    tags,
                },
                { ...inCluster, dependsOn: [this.queues.namespaces.serving, ...(serving.keda ? [serving.keda] : []), this.observability.namespace] },
                {
                    // The whole queues component: Kueue's release (webhooks) and the pool's LocalQueue.
                    podsWaitFor: [nodeGroups[config.gpuPools.indexOf(pool)], ...(devicePlugins ? [devicePlugins.nvidia] : []), this.queues, serving],
                    monitorWaitsFor: [this.observability.prometheusStack],
                },
            );
        });

        // Tenants' dedicated endpoints: their own queues and model servers on the serving pools.
        const servingInstances = Object.fromEntries(config.gpuPools.filter((p) => p.role === "serving").map((p) => [p.name, gpuInstanceType(p.instanceType)!]));
        const endpointSpecs = config.tenants.filter((t) => t.state !== "decommissioned").flatMap((t) => t.dedicated.map((d) => ({ tenant: t.name, active: t.state === "active", model: modelOf(d.model), replicas: d.replicas })));
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
                              config.gpuPools.map((pool, i) => [pool.name, [nodeGroups[i], ...(devicePlugins ? [devicePlugins.nvidia] : []), this.queues, serving]]),
                          ),
                          monitorWaitsFor: [this.observability.prometheusStack],
                          queuesWaitFor: [this.queues.kueue],
                          tags,
                      },
                      { ...inCluster, dependsOn: [this.queues.namespaces.serving, this.observability.namespace] },
                  )
                : undefined;

        // The hosted-model API: the load balancer controller (its only user) and the gateway.
        if (config.gateway) {
            const loadBalancers = new LoadBalancerController(
                `${name}-load-balancers`,
                {
                    clusterName: this.cluster.clusterName,
                    clusterNameLiteral: config.cluster.name,
                    region: config.region,
                    vpcId: this.network.vpcId,
                    partition: context.partition,
                    addressing,
                    tags,
                },
                onSystemNodes,
            );
            parts.gateway = new ModelGateway(
                `${name}-gateway`,
                {
                    clusterName: config.cluster.name,
                    hostname: config.gateway.hostname,
                    certificateArn: config.gateway.certificateArn,
                    clientCidrs: config.gateway.clientCidrs,
                    replicas: config.gateway.replicas,
                    addressing,
                    models: config.models.map((m, i) => ({ name: m.name, serviceName: modelServices[i].serviceName })),
                    tenants: config.tenants
                        .filter((t) => t.models.length > 0 || t.dedicated.length > 0)
                        .map((t) => ({
                            ...t,
                            dedicatedModels: t.state === "decommissioned" ? [] : t.dedicated.map((d) => d.model),
                            privateLinkPrincipals: t.state === "decommissioned" ? [] : (t.privateLink?.principals ?? []),
                        })),
                    defaultRateLimits: config.gateway.tenantRateLimits,
                    dedicatedEndpoints: endpointSpecs.map((e) => ({ tenant: e.tenant, model: e.model.name, serviceName: dedicated!.services[`${e.tenant}/${e.model.name}`].serviceName })),
                    invocationLogs: config.gateway.invocationLogs.enabled,
                    tags,
                },
                { ...inCluster, dependsOn: [loadBalancers.release, this.observability, this.cluster.systemNodeGroup] },
            );
            // PrivateLink: the endpoint service on an internal NLB in front of the gateway's proxies.
            if (config.gateway.privateLink) {
                parts.privateLink = new GatewayPrivateLink(
                    `${name}-privatelink`,
                    {
                        clusterName: config.cluster.name,
                        vpcId: this.network.vpcId,
                        vpcCidr: config.network.vpcCidr,
                        subnetIds: this.network.privateSubnetIds,
                        hostname: config.gateway.hostname,
                        certificateArn: config.gateway.certificateArn,
                        acceptanceRequired: config.gateway.privateLink.acceptanceRequired,
                        // A decommissioned tenant's principals are removed: it can connect no new endpoint.
                        tenants: config.tenants.filter((t) => t.privateLink && t.state !== "decommissioned").map((t) => ({ name: t.name, principals: t.privateLink!.principals })),
                        bindingWaitsFor: [loadBalancers.release, parts.gateway!.namespace],
                        tags,
                    },
                    inCluster,
                );
            }
        }

        // Batch inference: the S3 drop, the queues and one ScaledJob a model.
        if (batchModels.length > 0) {
            parts.batch = new BatchInference(
                `${name}-batch`,
                {
                    clusterName: config.cluster.name,
                    eksClusterName: this.cluster.clusterName,
                    aws: context,
                    models: batchModels.map((m) => ({
                        model: m,
                        instance: gpuInstanceType(config.gpuPools.find((p) => p.name === m.pool)!.instanceType)!,
                        maxConcurrentJobs: m.batch!.maxConcurrentJobs,
                        tenants: config.tenants.filter((t) => t.state === "active" && t.batch && t.models.includes(m.name)).map((t) => ({ name: t.name, principals: t.batch!.principals })),
                    })),
                    objectExpirationDays: config.batch.objectExpirationDays,
                    addressing,
                    workerSource: config.batchWorker ?? "",
                    queuesWaitFor: [this.queues.kueue],
                    kedaWaitsFor: serving.keda ? [serving.keda] : [],
                    monitorWaitsFor: [this.observability.prometheusStack],
                    tags,
                },
                inCluster,
            );
        }

        if (config.billing) {
            const { currency: _currency, prices: _prices, ...database } = config.billing;
            parts.billing = new BillingDatabase(
                `${name}-billing`,
                {
                    ...database,
                    // What the region sells and at what price: the one rendering of the config, which the
                    // registry Job applies and the plan shows.
                    registry: registryText(
                        regionRegistry({
                            ...config,
                            billing: { currency: config.billing.currency, prices: config.billing.prices.map((price) => ({ ...price })) },
                            serviceLevels: registryServiceLevels(config.slos, config.sloCredits ?? []),
                        })!,
                    ),
                    clusterName: config.cluster.name,
                    vpcId: this.network.vpcId,
                    isolatedSubnetIds: this.network.isolatedSubnetIds,
                    isolatedSubnetCidrs: this.network.subnetCidrs.isolated,
                    privateSubnetCidrs: this.network.subnetCidrs.private,
                    serviceCidr: config.cluster.serviceCidr,
                    clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
                    migrations: config.migrations,
                    eksClusterName: this.cluster.clusterName,
                    aws: context,
                    tags,
                },
                onSystemNodes,
            );
        }

        // The guardrails are cluster-wide: a platform installs them for its shards' tenants too.
        if (rawTenants.length > 0 || config.layer === "platform") new TenantGuardrails(`${name}-guardrails`, {}, inCluster);
        // Tenants read their own metrics through one route; a platform serves its shards' tenants.
        const metricsApi =
            rawTenants.length > 0 || config.layer === "platform"
                ? new TenantMetricsApi(
                      `${name}-tenant-metrics`,
                      { replicas: 2, gatewayRecords: config.models.length > 0, namespacePolicy: this.observability.namespacePolicy },
                      { ...inCluster, dependsOn: [this.observability.prometheusStack, this.observability.namespacePolicy, this.cluster.systemNodeGroup] },
                  )
                : undefined;
        parts.tenants = rawTenants.map(
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
                        vpcCidr: config.network.vpcCidr,
                        serviceCidr: config.cluster.serviceCidr,
                        // The file system's claim counts against the namespace's storage quota.
                        limits: withStorage(tenantLimits(quotas, tenant.limits), tenant.fileSystem?.storageGiB ?? 0),
                        workloadIdentity: !!tenant.workloadIdentity,
                        ...(metricsApi ? { views: { models: tenant.models.length > 0 } } : {}),
                        ...(this.billing ? { statements: true } : {}),
                        clusterName: this.cluster.clusterName,
                        tags,
                    },
                    // Its queues need Kueue's CRDs; its route to the tenant metrics API the observability
                    // namespace; its statement binding the writer ClusterRole.
                    { ...inCluster, dependsOn: [this.queues.kueue, ...(metricsApi ? [this.observability.namespace] : []), ...(this.billing ? [this.billing.statementWriterRole] : [])] },
                ),
        );

        // Tenant file systems: one key for all (it outlives each tenant's final backup), the CSI driver once.
        if (fsTenants.length > 0) {
            const key = new aws.kms.Key(
                `${name}-tenant-fsx`,
                {
                    description: `Encryption of the tenant file systems (and their backups) of ${config.cluster.name}`,
                    enableKeyRotation: true,
                    deletionWindowInDays: 30,
                    policy: keyPolicy({ ...context, allowCloudWatchLogs: false }),
                    tags: { ...tags, Name: `${config.cluster.name}-tenant-fsx` },
                },
                { parent: this, protect: true },
            );
            new aws.kms.Alias(`${name}-tenant-fsx`, { name: `alias/${config.cluster.name}-tenant-fsx`, targetKeyId: key.keyId }, { parent: this });
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

        this.vpcId = this.network.vpcId;
        this.clusterName = this.cluster.clusterName;
        this.clusterEndpoint = this.cluster.endpoint;
        this.kubeconfig = pulumi.secret(this.cluster.kubeconfig);
        this.tenantNamespaces = this.tenants.map((t) => t.namespace);
        this.registerOutputs({
            vpcId: this.vpcId,
            clusterName: this.clusterName,
            clusterEndpoint: this.clusterEndpoint,
        });
    }
}
