/**
 * compute-region as a TypeScript library (`import { buildRegion } from "compute-region"`): the
 * region and its components with their Args, the settings a program builds a region from and their
 * validation, and the capacity model. Importing it registers nothing and reads no config; only a
 * constructor or `buildRegion`, called inside a Pulumi program, does.
 *
 * The Pulumi project's own program (Pulumi.yaml `main`, bin/stacks/index.js) is `regionProgram`: it
 * reads a stack file's config and calls `regionFromConfig`, as `buildRegion` does with settings
 * written in code. `compute-region/offline` plans a program offline under Pulumi's mock runtime.
 */

// Building a region from settings in code (or from a stack's config, as the program does).
export { buildRegion, regionArgs, regionFromConfig, regionOutputs } from "./stacks/build";
export type { BuildRegionOptions, BuiltRegion } from "./stacks/build";
export { parseRegionSettings } from "./stacks/config/settings";
export type { RegionSettings } from "./stacks/config/settings";
export { ConfigError, loadStackConfig, parseRegionConfig, parseStackConfig, regionConfigSchema, SUPPORTED_KUBERNETES_VERSIONS } from "./stacks/config";
export type {
    AlertingConfig,
    BillingConfig,
    GatewayConfig,
    GpuPoolConfig,
    ModelConfig,
    ReceiverConfig,
    RegionConfig,
    ShardConfig,
    SlosConfig,
    TenantConfig,
    ThreatDetectionConfig,
} from "./stacks/config";
export { regionProgram } from "./stacks/program";

// The components, each with its Args.
export { BATCH_OBJECT_EXPIRATION_DAYS, Region, RegionLayer } from "./components/region";
export type {
    BatchStorage,
    ClusterEndpointAccess,
    DedicatedEndpointRequest,
    GatewayPrivateLinkSettings,
    InvocationLogSettings,
    ModelBatch,
    RegionArgs,
    RegionBilling,
    RegionClusterArgs,
    RegionGateway,
    RegionModel,
    RegionPool,
    RegionPrice,
    RegionTenant,
    RegionTenantFileSystem,
    TenantEgress,
    TenantPrincipals,
} from "./components/region";
export { Network } from "./components/network";
export type { NetworkArgs, SubnetTier } from "./components/network";
export { Cluster } from "./components/cluster";
export type { ClusterArgs, SystemNodeGroupArgs } from "./components/cluster";
export { GpuNodeGroup } from "./components/gpu-node-group";
export type { CapacityReservationArgs, GpuNodeGroupArgs } from "./components/gpu-node-group";
export { GpuDevicePlugins } from "./components/gpu-device-plugins";
export type { GpuDevicePluginsArgs } from "./components/gpu-device-plugins";
export { ClusterAutoscaler } from "./components/cluster-autoscaler";
export type { ClusterAutoscalerArgs } from "./components/cluster-autoscaler";
export { LoadBalancerController } from "./components/load-balancer-controller";
export type { LoadBalancerControllerArgs } from "./components/load-balancer-controller";
export { CapacityQueues } from "./components/capacity-queues";
export type { CapacityQueuesArgs, CapacityQueuesWiring, FormerShardCohorts, PoolQueueSpec, ShardBudget } from "./components/capacity-queues";
export { Tenant } from "./components/tenant";
export type { TenantArgs, TenantLimits, TenantViews } from "./components/tenant";
export { TenantGuardrails } from "./components/tenant-guardrails";
export type { TenantGuardrailsArgs } from "./components/tenant-guardrails";
export { TenantFileSystem } from "./components/tenant-file-system";
export type { TenantFileSystemArgs } from "./components/tenant-file-system";
export { TenantWorkloadIdentity } from "./components/tenant-workload-identity";
export type { TenantWorkloadIdentityArgs } from "./components/tenant-workload-identity";
export { TenantMetricsApi } from "./components/tenant-observability";
export type { TenantMetricsApiArgs } from "./components/tenant-observability";
export { TenantShard } from "./components/tenant-shard";
export type { PlatformOutputs, ShardTenant, TenantShardArgs, TenantShardWiring } from "./components/tenant-shard";
export { ServingPlatform } from "./components/serving-platform";
export type { ServingPlatformArgs } from "./components/serving-platform";
export { InferenceService } from "./components/inference-service";
export type { DedicatedTo, InferenceServiceArgs, InferenceServiceWiring, ModelSpec } from "./components/inference-service";
export { ModelGateway } from "./components/model-gateway";
export type { GatewayTenant, ModelGatewayArgs, RateLimits } from "./components/model-gateway";
export { DedicatedEndpoints } from "./components/dedicated-endpoints";
export type { DedicatedEndpointSpec, DedicatedEndpointsArgs } from "./components/dedicated-endpoints";
export { BatchInference } from "./components/batch-inference";
export type { BatchInferenceArgs, BatchModel } from "./components/batch-inference";
export { GatewayPrivateLink } from "./components/gateway-private-link";
export type { GatewayPrivateLinkArgs, PrivateLinkTenant } from "./components/gateway-private-link";
export { InvocationLogs } from "./components/invocation-logs";
export type { InvocationLogsArgs } from "./components/invocation-logs";
export { Observability } from "./components/observability";
export type { FluentBitExtras, ObservabilityArgs, ObservabilityWiring, SloRuleSet } from "./components/observability";
export type { AlertingArgs, AlertReceiver } from "./components/alertmanager-config";
export { BillingDatabase } from "./components/billing-database";
export type { BillingDatabaseArgs, MeteringImageBuild } from "./components/billing-database";
export { ThreatDetection } from "./components/threat-detection";
export type { ThreatDetectionArgs } from "./components/threat-detection";

// The capacity model: what a pool guarantees, what may be sold, and what each tenant bought.
export {
    CAPACITY_BLOCK_SCALE_DOWN_MINUTES,
    DEFAULT_HEADROOM,
    effectiveHeadroom,
    GPU_CATALOG,
    GPU_INSTANCE_TYPES,
    gpuCount,
    gpuInstanceType,
    guaranteedAt,
    guaranteedGpus,
    MIN_HEADROOM,
    POOL_ROLES,
    poolCapacity,
    regionCapacity,
    sellableGpus,
    soldGpus,
    tenantPoolQuotas,
    usableWindow,
    windowPhase,
} from "compute-region-policies/model";
export type { CapacityWindow, GpuInstanceType, GpuModel, PoolCapacity, PoolRole, PoolShape, TenantPoolQuota, TenantPurchase, WindowPhase } from "compute-region-policies/model";
