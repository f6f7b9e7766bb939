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
    /** The hosted model a serving object belongs to. */
    model: "compute-region.io/model",
    /** Pods that may reach the billing database: a SecurityGroupPolicy gives them its client group. */
    dbClient: "compute-region.io/db-client",
    /** Nodes with EFA interfaces ("true"): the EFA device plugin runs there and nowhere else. */
    efa: "compute-region.io/efa",
    /**
     * The Cluster Autoscaler's GPU label on AWS (cluster-autoscaler-1.34.2 cloudprovider/aws/aws_cloud_provider.go
     * GPULabel): set at boot, it marks a node as a GPU node before the device plugin advertises its GPUs,
     * so the autoscaler does not scale out again while they come up (cloudprovider/aws/README.md).
     */
    accelerator: "k8s.amazonaws.com/accelerator",
} as const;

/** Tags the region puts on AWS resources; policies read some of them. */
export const TAGS = {
    stack: "compute-region:stack",
    region: "compute-region:region",
    /** The GPU pool a resource belongs to. */
    pool: "compute-region:pool",
    /** The tenant a resource belongs to (a dedicated pool's security group, a member's access entry). */
    tenant: "compute-region:tenant",
    /** The tenant shard a resource belongs to. */
    shard: "compute-region:shard",
    /** What data a resource holds (the billing database). */
    data: "compute-region:data",
    subnetTier: "compute-region:subnet-tier",
    /** What a security group is for: only a load balancer's may admit the internet, and then only on 80 and 443. */
    purpose: "compute-region:purpose",
    /** On a pool's node group: the capacity reservation (ODCR or Capacity Block) it launches into... */
    capacityReservation: "compute-region:capacity-reservation",
    /** ...how many instances that reservation holds (the most the pool may scale to)... */
    reservedInstances: "compute-region:reserved-instances",
    /** ...and for a Capacity Block, its window (ISO 8601, UTC). */
    capacityBlockStartsAt: "compute-region:capacity-block-starts-at",
    capacityBlockEndsAt: "compute-region:capacity-block-ends-at",
} as const;

/** Annotation on a tenant namespace with the tenant's lifecycle state. */
export const TENANT_STATE_ANNOTATION = "compute-region.io/state";

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
    /** Add-on controllers the gateway and autoscaling need (their charts' own namespaces). */
    keda: "keda",
    envoyGateway: "envoy-gateway-system",
    aiGateway: "envoy-ai-gateway-system",
    /** Batch inference: each batch a Job of the model server's batch runner, on idle serving GPUs. */
    batch: "batch-inference",
} as const;

/**
 * Namespaces of the platform's own add-ons: Kueue never holds their pods for a queue name, and
 * tenants can never land in them.
 */
export const PLATFORM_NAMESPACES = [
    NAMESPACES.system, NAMESPACES.kueue, NAMESPACES.monitoring, NAMESPACES.billing, NAMESPACES.gateway,
    NAMESPACES.keda, NAMESPACES.envoyGateway, NAMESPACES.aiGateway, "kube-public", "kube-node-lease", "amazon-cloudwatch",
    "amazon-guardduty",
] as const;

export const TENANT_NAMESPACE_PREFIX = "tenant-";

export function tenantNamespace(tenant: string): string {
    return `${TENANT_NAMESPACE_PREFIX}${tenant}`;
}

/** Taint that keeps everything but cluster-critical add-ons off the system node group. */
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" } as const;

/** The `TAGS.purpose` of a load balancer's security group. */
export const LOAD_BALANCER_PURPOSE = "load-balancer";

/** Standard tags on every AWS resource the region creates (cost allocation and ownership). */
export function standardTags(stack: string, region: string): Record<string, string> {
    return {
        [TAGS.stack]: stack,
        [TAGS.region]: region,
        [LABELS.managedBy]: "pulumi",
    };
}

/** The extended resource GPUs are requested and sold as. */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** Taint keys of GPU pools: every pool but `shared` keeps pods off unless they tolerate its role (or tenant). */
export const TAINT_KEYS = {
    poolRole: "compute-region.io/pool-role",
    tenant: "compute-region.io/tenant",
} as const;

export interface NodeTaint {
    key: string;
    value: string;
    /** EKS managed node group spelling. */
    effect: "NO_SCHEDULE";
}

/**
 * The taints a GPU pool carries: its role, and for a dedicated pool its tenant (only that tenant
 * may tolerate it). Shared pools are tainted too, so that CPU-only pods never take GPU nodes.
 */
export function poolTaints(role: "internal" | "serving" | "shared" | "dedicated", tenant?: string): NodeTaint[] {
    if (role === "dedicated") {
        if (!tenant) throw new Error("a dedicated pool needs its tenant");
        return [{ key: TAINT_KEYS.tenant, value: tenant, effect: "NO_SCHEDULE" }];
    }
    return [{ key: TAINT_KEYS.poolRole, value: role, effect: "NO_SCHEDULE" }];
}

/** The same taints as a Kubernetes pod would tolerate them. */
export function tolerationsFor(taints: readonly NodeTaint[]): { key: string; operator: "Equal"; value: string; effect: "NoSchedule" }[] {
    return taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: "NoSchedule" }));
}

/** Label on the region's PriorityClasses saying whose they are. */
export const PRIORITY_TIER_LABEL = "compute-region.io/priority-tier";

/** Names of the region's PriorityClasses. */
export const PRIORITY_CLASS = {
    internalCritical: "internal-critical",
    serving: "serving",
    internalBatch: "internal-batch",
    tenantReserved: "tenant-reserved",
    tenantSpot: "tenant-spot",
} as const;

/**
 * The Cluster Autoscaler's expendable-pods cutoff (its flag's default): pods below it never cause a
 * scale-up and never hold a node back from scaling down. Batch inference runs below it, so a batch
 * only ever uses GPUs that are already up and idle. kubernetes/autoscaler cluster-autoscaler-1.34.2
 * cluster-autoscaler/FAQ.md ("How does Cluster Autoscaler work with Pod Priority and Preemption?"),
 * flag --expendable-pods-priority-cutoff, default -10.
 */
export const EXPENDABLE_PODS_PRIORITY_CUTOFF = -10;

/**
 * The region's PriorityClasses. Every tenant value is below every internal one, all are at most
 * 1,000,000,000 (the cap for user-defined classes), and tenant classes never preempt.
 */
export const PRIORITY_CLASSES = [
    { name: PRIORITY_CLASS.internalCritical, value: 1_000_000, tier: "internal", preemptionPolicy: "PreemptLowerPriority", description: "The company's critical internal workloads." },
    { name: PRIORITY_CLASS.serving, value: 900_000, tier: "serving", preemptionPolicy: "PreemptLowerPriority", description: "Hosted-model serving." },
    { name: PRIORITY_CLASS.internalBatch, value: 500_000, tier: "internal", preemptionPolicy: "PreemptLowerPriority", description: "The company's internal batch and training work." },
    { name: PRIORITY_CLASS.tenantReserved, value: 10_000, tier: "tenant", preemptionPolicy: "Never", description: "Tenant workloads within their reserved quota." },
    { name: PRIORITY_CLASS.tenantSpot, value: 1_000, tier: "tenant", preemptionPolicy: "Never", description: "Tenant workloads on borrowed idle capacity; reclaimed first." },
] as const;

/**
 * Batch inference's PriorityClass, made with the batch tier (regions without batch have none): below
 * every tenant class, never preempting, and below the autoscaler's expendable cutoff. Tenants cannot
 * use it (the admission guardrail admits only the tenant tier).
 */
export const BATCH_PRIORITY_CLASS = {
    name: "batch-inference",
    value: EXPENDABLE_PODS_PRIORITY_CUTOFF * 10,
    tier: "batch",
    preemptionPolicy: "Never",
    description: "Batch inference on idle serving GPUs: below every tenant class, preempted first, never the reason for a new node.",
} as const;

/** Kueue names: one ResourceFlavor per pool (named as the pool), one cohort per pool. */
export function poolCohort(pool: string): string {
    return `pool-${pool}`;
}
export function internalClusterQueue(pool: string): string {
    return `internal-${pool}`;
}
/**
 * The queue holding a pool's burst quota: the GPUs between minNodes and maxNodes, which exist only
 * while the autoscaler has added nodes. It runs nothing itself and lends it all; it is never sold.
 */
export function burstClusterQueue(pool: string): string {
    return `burst-${pool}`;
}
/** The ClusterQueue batch inference borrows a serving pool's idle GPUs through (it holds no quota of its own). */
export function batchClusterQueue(pool: string): string {
    return `batch-${pool}`;
}
/** Label on ClusterQueues saying whose quota they hold: `internal`, `tenant`, `burst`, `dedicated` or `batch`. */
export const QUEUE_KIND_LABEL = "compute-region.io/queue-kind";
/** Annotation on a pool's ResourceFlavor with the headroom fraction the stack configured. */
export const HEADROOM_ANNOTATION = "compute-region.io/headroom";

/** Alert names the region's rules define (the policies check the headroom alert exists per pool). */
export const ALERTS = {
    headroomBelowFloor: "GpuHeadroomBelowFloor",
    poolSoldOut: "GpuPoolSoldOut",
    xidError: "GpuXidError",
    eccDoubleBit: "GpuEccDoubleBitError",
    gpuNodeNotReady: "GpuNodeNotReady",
    dcgmExporterDown: "DcgmExporterDown",
    tenantQuotaNearLimit: "TenantGpuQuotaNearLimit",
    meteringWindowMissed: "MeteringWindowMissed",
    tenantGpuUseBeyondPurchase: "TenantGpuUseBeyondPurchase",
    modelQueueDepth: "ModelQueueDepthHigh",
    modelLatency: "ModelLatencyHigh",
    gatewayDown: "ModelGatewayDown",
    gatewayErrors: "ModelGatewayErrorsHigh",
    capacityBlockEnding: "CapacityBlockEnding",
    /** Always firing: proves the alert pipeline end to end to the heartbeat receiver. */
    watchdog: "Watchdog",
    /** Fewer GuardDuty agents ready than nodes: runtime threat detection misses some node. */
    guardDutyAgentMissing: "GuardDutyAgentMissing",
} as const;

/** Label the Grafana sidecar provisions dashboards from. */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;

/** Helm chart names the monitoring policy looks for (the monitoring releases are named as their charts). */
export const MONITORING_CHARTS = { prometheusStack: "kube-prometheus-stack", dcgmExporter: "dcgm-exporter" } as const;

/**
 * Prometheus as kube-prometheus-stack installs it (release named as the chart): its Service and port,
 * what the metering job and KEDA read, and the service account that scrapes.
 */
export const PROMETHEUS = {
    service: `${MONITORING_CHARTS.prometheusStack}-prometheus`,
    serviceAccount: `${MONITORING_CHARTS.prometheusStack}-prometheus`,
    port: 9090,
    /** The label the chart's Prometheus selects PrometheusRules by (`release: <release name>`). */
    ruleSelector: { release: MONITORING_CHARTS.prometheusStack },
} as const;

/** Alertmanager as kube-prometheus-stack installs it: the service account its pods run as (an SNS receiver's Pod Identity). */
export const ALERTMANAGER = { serviceAccount: `${MONITORING_CHARTS.prometheusStack}-alertmanager` } as const;

/** The in-cluster URL of the region's Prometheus. */
export const PROMETHEUS_URL = `http://${PROMETHEUS.service}.${NAMESPACES.monitoring}:${PROMETHEUS.port}`;

/** The port every model server (vLLM's OpenAI-compatible server) listens on. */
export const MODEL_SERVER_PORT = 8000;

/** Every EKS control-plane log type: the cluster enables them all, the logging policy requires them. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** EKS managed add-ons the region installs, by their EKS names. */
export const EKS_ADDONS = {
    vpcCni: "vpc-cni",
    kubeProxy: "kube-proxy",
    podIdentityAgent: "eks-pod-identity-agent",
    coreDns: "coredns",
    ebsCsiDriver: "aws-ebs-csi-driver",
    cloudWatch: "amazon-cloudwatch-observability",
    nodeMonitoringAgent: "eks-node-monitoring-agent",
    guardDutyAgent: "aws-guardduty-agent",
} as const;

/** VPC CNI settings: enforce NetworkPolicy, in strict mode (a new pod is denied until its policies are in place). */
export const VPC_CNI_CONFIGURATION = {
    enableNetworkPolicy: "true",
    // Security groups for pods (the billing database admits only its client pods' group).
    env: { NETWORK_POLICY_ENFORCING_MODE: "strict", ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "standard" },
};

/** The ECR repository of a cluster's billing image (migrations and metering). */
export function meteringRepositoryName(clusterName: string): string {
    return `compute-region/${clusterName}/metering`;
}

/** Automated backups of the billing database, days: the floor the region requires, and the RDS limit. */
export const BACKUP_RETENTION_DAYS = { min: 14, max: 35 } as const;

/** kube-state-metrics' name for a Kubernetes label: `label_` and the key with non-alphanumerics as `_`. */
export function ksmLabel(key: string): string {
    return `label_${key.replace(/[^a-zA-Z0-9]/g, "_")}`;
}

/** The Kubernetes group a tenant's members are mapped to by their EKS access entries. */
export function tenantGroup(tenant: string): string {
    return `tenant:${tenant}:members`;
}

/** The tenant whose members' group this is (the inverse of `tenantGroup`), or undefined. */
export function tenantOfGroup(group: string): string | undefined {
    const m = /^tenant:([a-z0-9-]+):members$/.exec(group);
    return m?.[1];
}

/** Username the deployer's access entry maps to: the guardrails exempt it so Pulumi can manage tenant namespaces. */
export const DEPLOYER_USERNAME = "compute-region:deployer";

/**
 * The Kubernetes group of the admin and deployer access entries. Nothing binds it (their rights come
 * from the cluster admin access policy); it is set because an entry's groups left unset are computed
 * by EKS, so a preview cannot know them and tenant-rbac-confined, which must tell tenant entries from
 * these, could not run.
 */
export const PLATFORM_ADMIN_GROUP = "compute-region:platform-admins";

/**
 * Namespace label marking a Kueue LocalQueue the tenant may use: `queue.compute-region.io/<pool>`.
 * The admission guardrail reads it from the namespace (tenants cannot label namespaces).
 */
export const QUEUE_ALLOWED_LABEL_PREFIX = "queue.compute-region.io/";
export const KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";

/** Names of the tenant isolation objects in every tenant namespace. */
export const TENANT_POLICY_NAMES = {
    defaultDeny: "default-deny-all",
    sameNamespace: "allow-same-namespace",
    dns: "allow-dns",
    internet: "allow-internet-egress",
    monitoring: "allow-monitoring-scrape",
    /** Only for a tenant with a workload identity: the declared egress to the Pod Identity agent. */
    podIdentity: "allow-pod-identity-agent",
} as const;

/** The container port name a tenant gives the port Prometheus may scrape. */
export const TENANT_METRICS_PORT_NAME = "metrics";

/**
 * Who may reach into a tenant namespace besides its own pods, and on which ports: the monitoring
 * namespace (Prometheus) on the port the tenant's pods name `metrics`, nothing else. The Tenant
 * component opens exactly this, and the reachability proof holds every other path in as a finding.
 */
export const TENANT_INBOUND_PEERS = [
    { namespace: NAMESPACES.monitoring, ports: [{ protocol: "TCP" as const, port: TENANT_METRICS_PORT_NAME }], why: `Prometheus scrapes tenant pods on the container port named ${TENANT_METRICS_PORT_NAME}` },
] as const;

/** Ranges tenant egress never reaches, whatever its config: private, shared, link-local (instance metadata). */
export const NEVER_EGRESS_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"] as const;

/** The instance metadata service address. */
export const METADATA_ADDRESS = "169.254.169.254/32";

/** Tenant lifecycle (an `as const` set, so Pulumi's schema inference serves it as an enum). */
export const TenantState = {
    /** Holds its quota; its pods run. */
    Active: "active",
    /** No quota, no new pods; everything kept. */
    Suspended: "suspended",
    /** Removable on a later change; its history kept. */
    Decommissioned: "decommissioned",
} as const;
/** Tenant lifecycle: active; suspended (no quota, no new pods); decommissioned (removable on a later change). */
export type TenantState = (typeof TenantState)[keyof typeof TenantState];
export const TENANT_STATES = [TenantState.Active, TenantState.Suspended, TenantState.Decommissioned] as const;

/** The ValidatingAdmissionPolicies that guard tenant namespaces at runtime, by name. */
export const GUARDRAILS = {
    podSecurity: "tenant-pod-security",
    podPlacement: "tenant-pod-placement",
    workloadQueues: "tenant-workload-queues",
    serviceTypes: "tenant-service-types",
    isolationObjects: "tenant-isolation-objects",
} as const;
export const GUARDRAIL_POLICIES = Object.values(GUARDRAILS);

/**
 * The kinds a tenant may create that run pods, each of which must name one of the tenant's queues (the
 * `tenant-workload-queues` guardrail): by API group and resource, and where the queue label Kueue reads
 * is. A CronJob runs nothing itself: the CronJob controller makes Jobs carrying its job template's labels
 * (kubernetes/kubernetes pkg/controller/cronjob/utils.go getJobFromTemplate2), and Kueue queues those
 * Jobs by that label (kubernetes-sigs/kueue site/content/en/docs/tasks/run/run_cronjobs.md), so its
 * label is read from `spec.jobTemplate.metadata.labels`.
 */
export interface QueuedWorkload {
    apiGroup: string;
    resource: string;
    kind: string;
    /** Where the queue label is, from the object's root. */
    queueLabelsAt: readonly string[];
}
const OWN_LABELS = ["metadata", "labels"] as const;
export const QUEUED_WORKLOADS: readonly QueuedWorkload[] = [
    { apiGroup: "", resource: "pods", kind: "Pod", queueLabelsAt: OWN_LABELS },
    { apiGroup: "batch", resource: "jobs", kind: "Job", queueLabelsAt: OWN_LABELS },
    { apiGroup: "batch", resource: "cronjobs", kind: "CronJob", queueLabelsAt: ["spec", "jobTemplate", "metadata", "labels"] },
    { apiGroup: "apps", resource: "deployments", kind: "Deployment", queueLabelsAt: OWN_LABELS },
    { apiGroup: "apps", resource: "statefulsets", kind: "StatefulSet", queueLabelsAt: OWN_LABELS },
    { apiGroup: "apps", resource: "replicasets", kind: "ReplicaSet", queueLabelsAt: OWN_LABELS },
    { apiGroup: "jobset.x-k8s.io", resource: "jobsets", kind: "JobSet", queueLabelsAt: OWN_LABELS },
    { apiGroup: "kubeflow.org", resource: "pytorchjobs", kind: "PyTorchJob", queueLabelsAt: OWN_LABELS },
    { apiGroup: "leaderworkerset.x-k8s.io", resource: "leaderworkersets", kind: "LeaderWorkerSet", queueLabelsAt: OWN_LABELS },
];

/** Objects that carry a tenant's isolation and quota: tenants may read them, never write them. */
export const ISOLATION_RESOURCES = [
    { apiGroup: "networking.k8s.io", resource: "networkpolicies" },
    { apiGroup: "", resource: "resourcequotas" },
    { apiGroup: "", resource: "limitranges" },
    { apiGroup: "kueue.x-k8s.io", resource: "localqueues" },
    { apiGroup: "kueue.x-k8s.io", resource: "clusterqueues" },
    { apiGroup: "rbac.authorization.k8s.io", resource: "roles" },
    { apiGroup: "rbac.authorization.k8s.io", resource: "rolebindings" },
] as const;

/** Sharded regions: the label on a shard's namespaces and queues, and its cohort per pool (child of the pool's). */
export const SHARD_LABEL = "compute-region.io/shard";
export function shardCohort(shard: string, pool: string): string {
    return `shard-${shard}-${pool}`;
}
/** Annotation on a shard's Cohort with the GPUs of the pool the platform allots it. */
export const SHARD_BUDGET_ANNOTATION = "compute-region.io/gpu-budget";

/**
 * The hosted-model gateway. Its API-key filter writes the authenticated tenant into TENANT_HEADER
 * (overwriting whatever a client sent); the AI Gateway exports that header as the `tenant` label of
 * its GenAI metrics, the rate limits key on it, and metering bills by it.
 */
export const GATEWAY = {
    /** The Gateway (and its EnvoyProxy) in the gateway namespace. */
    name: "models",
    /** The region's GatewayClass. */
    className: "compute-region",
    /** The request header carrying the authenticated tenant. */
    tenantHeader: "x-tenant",
    /** The header the AI Gateway derives from the request body's `model`, which model routes match on. */
    modelHeader: "x-ai-eg-model",
    /** The metric label the AI Gateway writes the tenant to. */
    tenantLabel: "tenant",
    /** Where the AI Gateway records token usage (dynamic metadata namespace and keys). */
    costMetadataNamespace: "io.envoy.ai_gateway",
    totalTokensKey: "llm_total_token",
    /** Label on a tenant's API-key Secret naming the models it may call (comma-separated, sorted). */
    grantedModelsAnnotation: "compute-region.io/granted-models",
} as const;

/** The AI Gateway route (and the HTTPRoute it generates, same name) serving one model. */
export function modelRouteName(model: string): string {
    return `model-${model}`;
}

/** The Secret in the gateway namespace holding a tenant's API key (key: tenant name, value: key). */
export function apiKeySecretName(tenant: string): string {
    return `api-key-${tenant}`;
}

/**
 * The AI Gateway's GenAI metrics (OpenTelemetry semantic conventions, exported to Prometheus by its
 * external processor). Requests are counted by the request-duration histogram; failed requests
 * carry `error_type`, so billing counts only series without it.
 */
export const GEN_AI_METRICS = {
    requests: 'gen_ai_server_request_duration_seconds_count{error_type=""}',
    /** Input tokens, cached ones included (envoyproxy/ai-gateway v0.5.0 internal/translator/openai_openai.go: prompt_tokens). */
    inputTokens: 'gen_ai_client_token_usage_sum{gen_ai_token_type="input"}',
    /**
     * Cached input tokens, where the model server reports them (prompt_tokens_details.cached_tokens:
     * vLLM with --enable-prompt-tokens-details): a part of the input tokens, recorded apart
     * (envoyproxy/ai-gateway v0.5.0 internal/metrics/genai.go genaiTokenTypeCachedInput).
     */
    cachedInputTokens: 'gen_ai_client_token_usage_sum{gen_ai_token_type="cached_input"}',
    outputTokens: 'gen_ai_client_token_usage_sum{gen_ai_token_type="output"}',
    /** The label holding the model the client asked for. */
    modelLabel: "gen_ai_request_model",
} as const;

/** The EKS Pod Identity agent's link-local address, served on every node (host network) on port 80. */
export const POD_IDENTITY_AGENT_ADDRESS = "169.254.170.23/32";

/**
 * What a tenant's own egress may reach besides itself, cluster DNS and the internet, declared on
 * purpose: the Pod Identity agent on the pod's node, on its port only, for a tenant with a workload
 * identity (the SDK in the pod fetches the role's credentials there). The agent hands credentials
 * only to a pod whose projected service-account token names an associated service account, so
 * opening the address to every pod of the namespace gives no pod credentials it would not get anyway.
 * The Tenant component opens exactly this, and the reachability proof holds any other private or
 * link-local egress of a tenant as a finding.
 */
export const TENANT_DECLARED_EGRESS = [
    { cidr: POD_IDENTITY_AGENT_ADDRESS, ports: [{ protocol: "TCP" as const, port: 80 }], why: "pods of a tenant with a workload identity take its role's credentials from the EKS Pod Identity agent" },
] as const;

/** The service account a tenant's workload identity is associated with, in the tenant's namespace. */
export const TENANT_WORKLOAD_SERVICE_ACCOUNT = "workload";

/** The FSx for Lustre CSI driver's name (the PersistentVolumes' `csi.driver`). */
export const FSX_CSI_DRIVER = "fsx.csi.aws.com";

/** A tenant's shared file system as its namespace sees it: one claim, pre-bound to its volume. */
export const TENANT_FILE_SYSTEM = {
    /** The PersistentVolumeClaim in the tenant's namespace. */
    claimName: "shared-fs",
    /** Where the S3 link appears inside the file system. */
    s3Path: "/s3",
} as const;

/** The statically provisioned PersistentVolume of a tenant's file system (cluster-scoped, so named after the tenant). */
export function tenantVolumeName(tenant: string): string {
    return `tenant-${tenant}-fsx`;
}

/** PERSISTENT_2 SSD throughput tiers, MB/s per TiB (FSx API CreateFileSystemLustreConfiguration). */
export const LUSTRE_THROUGHPUT_TIERS = [125, 250, 500, 1000] as const;

/** Why a PERSISTENT_2 SSD capacity is invalid (1200 GiB, 2400 GiB, then steps of 2400: FSx API CreateFileSystem), or undefined. */
export function lustreStorageProblem(gib: number): string | undefined {
    if (gib === 1200 || (gib >= 2400 && gib % 2400 === 0)) return undefined;
    return "must be 1200 GiB, 2400 GiB or a multiple of 2400 GiB (FSx for Lustre PERSISTENT_2 SSD capacities)";
}

/**
 * Kueue Topology-Aware Scheduling over EC2's network topology: the three network-node layers EKS
 * labels nodes with (from `ec2:DescribeInstanceTopology`, broadest first) and, lowest, the node itself
 * (Kueue honours node taints only when the hostname is the lowest level, and every GPU pool is tainted).
 */
export const NETWORK_TOPOLOGY = {
    name: "ec2-network",
    levels: ["topology.k8s.aws/network-node-layer-1", "topology.k8s.aws/network-node-layer-2", "topology.k8s.aws/network-node-layer-3", "kubernetes.io/hostname"],
} as const;

/** The pod-template annotations a workload asks Kueue for a topology with (Kueue 0.14). */
export const TOPOLOGY_ANNOTATIONS = {
    required: "kueue.x-k8s.io/podset-required-topology",
    preferred: "kueue.x-k8s.io/podset-preferred-topology",
    unconstrained: "kueue.x-k8s.io/podset-unconstrained-topology",
} as const;
