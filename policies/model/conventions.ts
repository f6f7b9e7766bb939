/**
 * Naming and label conventions shared by the components (which apply them) and the policies (which
 * rely on them). Changing one here changes both sides at once.
 */

/** The Pulumi project name, the config namespace and the prefix of component type tokens. */
export const PROJECT = "compute-region";

/** Label and taint keys the region owns. Tenants cannot set labels on namespaces (RBAC), only on pods. */
export const LABELS = {
    /** Marks a namespace (and its objects) as belonging to a tenant: value is the tenant name. */
    tenant: "compute-region.io/tenant",
    /** The GPU pool a node belongs to. */
    pool: "compute-region.io/pool",
    /** The role of a node pool: internal, serving, shared, dedicated or system. */
    role: "compute-region.io/role",
    /** GPU model of a node (h100, a100, l40s, a10g). */
    gpuModel: "compute-region.io/gpu-model",
    /** Kind of namespace: tenant, internal, serving, platform. */
    namespaceKind: "compute-region.io/namespace-kind",
    /** Immutable, API-server-set namespace name label: the only label region NetworkPolicies select on. */
    namespaceName: "kubernetes.io/metadata.name",
    managedBy: "app.kubernetes.io/managed-by",
} as const;

/** A lowercase RFC 1123 DNS label: what Kubernetes names and most AWS names here must be. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

export function isDnsLabel(value: string): boolean {
    return value.length <= DNS_LABEL_MAX && DNS_LABEL.test(value);
}

/** Namespaces the platform owns. Tenant namespaces are `tenant-<name>`. */
export const NAMESPACES = {
    system: "kube-system",
    monitoring: "observability",
    kueue: "kueue-system",
    serving: "serving",
    gateway: "gateway",
    billing: "billing",
    internal: "internal",
} as const;

export const TENANT_NAMESPACE_PREFIX = "tenant-";

export function tenantNamespace(tenant: string): string {
    return `${TENANT_NAMESPACE_PREFIX}${tenant}`;
}

/** Taint that keeps everything but cluster-critical add-ons off the system node group. */
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" } as const;

/**
 * Tag that marks a security group as a load balancer's: the only kind that may admit the internet,
 * and then only on 80 and 443.
 */
export const PURPOSE_TAG = "compute-region:purpose";
export const LOAD_BALANCER_PURPOSE = "load-balancer";

/** Standard tags on every AWS resource the region creates (cost allocation and ownership). */
export function standardTags(stack: string, region: string): Record<string, string> {
    return {
        "compute-region:stack": stack,
        "compute-region:region": region,
        "app.kubernetes.io/managed-by": "pulumi",
    };
}
