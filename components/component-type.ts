import * as pulumi from "@pulumi/pulumi";

/**
 * Type tokens of the components. Every component is `compute-region:index:<Name>`: the token Pulumi's
 * schema inference gives a component served to other languages (plugin/), which a YAML, Python or Go
 * program constructs. Before the first release (0.1.0) they were `compute-region:<module>:<Name>`; each component keeps its
 * former token as an alias, so a stack deployed before finds every resource under it (the engine
 * matches a component by its alias and its children through the alias they inherit from it:
 * pulumi/pulumi v3.248.0 pkg/resource/deploy/step_generator.go `generateAliases`).
 */
export const FORMER_COMPONENT_TYPES = {
    BatchInference: "compute-region:serving:BatchInference",
    DedicatedEndpoints: "compute-region:serving:DedicatedEndpoints",
    GatewayPrivateLink: "compute-region:gateway:GatewayPrivateLink",
    InvocationLogs: "compute-region:gateway:InvocationLogs",
    BillingDatabase: "compute-region:billing:BillingDatabase",
    CapacityQueues: "compute-region:queues:CapacityQueues",
    ClusterAutoscaler: "compute-region:capacity:ClusterAutoscaler",
    Cluster: "compute-region:cluster:Cluster",
    GpuDevicePlugins: "compute-region:gpu:GpuDevicePlugins",
    GpuNodeGroup: "compute-region:gpu:GpuNodeGroup",
    InferenceService: "compute-region:serving:InferenceService",
    LoadBalancerController: "compute-region:gateway:LoadBalancerController",
    ModelGateway: "compute-region:gateway:ModelGateway",
    Network: "compute-region:network:Network",
    Observability: "compute-region:observability:Observability",
    ServingPlatform: "compute-region:serving:ServingPlatform",
    TenantFileSystem: "compute-region:tenants:TenantFileSystem",
    TenantGuardrails: "compute-region:tenants:TenantGuardrails",
    TenantShard: "compute-region:tenants:TenantShard",
    TenantWorkloadIdentity: "compute-region:tenants:TenantWorkloadIdentity",
    Tenant: "compute-region:tenants:Tenant",
    ThreatDetection: "compute-region:security:ThreatDetection",
} as const;

/** Components that never had another token: `Region` (its token never moved) and those added since the move. */
export const UNMOVED_COMPONENTS = ["Region", "TenantMetricsApi"] as const;

/** A component's name (its class's). */
export type ComponentName = keyof typeof FORMER_COMPONENT_TYPES | (typeof UNMOVED_COMPONENTS)[number];

/** The package every token is in: the plugin's name, so inference builds the same tokens. */
export const PACKAGE_NAME = "compute-region";

/** A component's type token. */
export function componentType(name: ComponentName): string {
    return `${PACKAGE_NAME}:index:${name}`;
}

/** The options a component registers with: the caller's, plus its former token as an alias when it had one. */
export function componentOptions(name: ComponentName, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
    const former = (FORMER_COMPONENT_TYPES as Partial<Record<ComponentName, string>>)[name];
    if (!former) return opts ?? {};
    return { ...opts, aliases: [...(opts?.aliases ?? []), { type: former }] };
}

const parts = new WeakMap<object, object>();

/**
 * The child resources a component hands to TypeScript callers (its Kubernetes provider, a release to
 * depend on), read through getters. Kept off the instance: every class property of a component is an
 * output of its inferred schema, and a resource of this package is not a value inference can serve.
 */
export function partsOf<T extends object>(owner: pulumi.ComponentResource): T {
    let found = parts.get(owner);
    if (!found) parts.set(owner, (found = {}));
    return found as T;
}
