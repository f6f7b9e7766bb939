import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
    BACKUP_RETENTION_DAYS,
    cidrProblem,
    cidrsOverlap,
    DNS_LABEL,
    DNS_LABEL_MAX,
    GPU_INSTANCE_TYPES,
    gpuInstanceType,
    MIN_HEADROOM,
    NEVER_EGRESS_CIDRS,
    POOL_ROLES,
    PROJECT,
    TENANT_NAMESPACE_PREFIX,
    TENANT_STATES,
} from "compute-region-policies/model";

/**
 * The stack configuration of one region, as one zod schema. Each top-level key of the schema is a
 * Pulumi config key (`compute-region:cluster`, `aws:region`), so an error path reads exactly like the
 * key a platform engineer has to fix in `Pulumi.<stack>.yaml`.
 */

const NS = `${PROJECT}:`;

export const dnsLabel = z
    .string()
    .max(DNS_LABEL_MAX, `must be at most ${DNS_LABEL_MAX} characters`)
    .regex(DNS_LABEL, "must be a DNS label (a-z, 0-9, -)");

const cidr = z.string().superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.replace(/, got .*$/, ""), input: value });
});

const iamRoleArn = z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");

const retentionDays = z
    .number()
    .int()
    .refine((d) => CLOUDWATCH_RETENTION_DAYS.includes(d), {
        message: "must be a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days)",
    });

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Kubernetes versions this package is tested against on EKS (standard or extended support). */
export const SUPPORTED_KUBERNETES_VERSIONS = ["1.31", "1.32", "1.33", "1.34", "1.35"] as const;

const networkSchema = z.strictObject({
    /** The VPC's IPv4 CIDR; every subnet is carved out of it. */
    vpcCidr: cidr,
    /** `perAz`: one NAT gateway per AZ (survives an AZ loss); `single`: one shared (cheaper, dev). */
    natGateways: z.enum(["perAz", "single"]).default("perAz"),
    /** Retention of the VPC flow log group, in days. */
    flowLogRetentionDays: retentionDays.default(365),
    /** Prefix lengths of each tier's subnet in every AZ. Nodes' subnets are large: pods take VPC IPs. */
    subnetPrefixLengths: z
        .strictObject({
            public: z.number().int().min(16).max(28).default(24),
            private: z.number().int().min(16).max(28).default(18),
            isolated: z.number().int().min(16).max(28).default(24),
        })
        .default({ public: 24, private: 18, isolated: 24 }),
});

const systemNodeGroupSchema = z.strictObject({
    /** Instance type of the system node group (cluster add-ons and platform controllers). */
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as m7i.xlarge"),
    minSize: z.number().int().min(1, "must be at least 1: the cluster add-ons need a node"),
    maxSize: z.number().int().min(1),
    /** Root volume size in GiB. */
    diskSizeGiB: z.number().int().min(20).max(16384).default(100),
});

const clusterSchema = z.strictObject({
    /** Explicit EKS cluster name (stable across updates, used in the log group name). */
    name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-_]{0,99}$/, "must be an EKS cluster name (letters, digits, - and _, starting with a letter, at most 100)"),
    kubernetesVersion: z.enum(SUPPORTED_KUBERNETES_VERSIONS, {
        message: `must be one of ${SUPPORTED_KUBERNETES_VERSIONS.join(", ")} (a quoted string such as "1.34")`,
    }),
    /** The cluster's service CIDR; must not overlap the VPC. */
    serviceCidr: cidr.default("172.20.0.0/16"),
    endpoint: z
        .strictObject({
            /** Also expose the API endpoint publicly (to `publicAccessCidrs` only). Private access is always on. */
            publicAccess: z.boolean().default(false),
            publicAccessCidrs: z.array(cidr).default([]),
        })
        .default({ publicAccess: false, publicAccessCidrs: [] }),
    /** IAM roles granted cluster admin through EKS access entries. */
    adminRoleArns: z.array(iamRoleArn).min(1, "must name at least one admin role"),
    /** The IAM role that runs `pulumi up` (CI): gets an access entry with cluster admin. */
    deployerRoleArn: iamRoleArn,
    /** Retention of the control-plane log group, in days. */
    logRetentionDays: retentionDays.default(365),
    systemNodeGroup: systemNodeGroupSchema,
});

const gpuPoolSchema = z.strictObject({
    /** Pool name: a DNS label, used in node labels, taints, the Kueue flavor and cohort. */
    name: dnsLabel,
    /** A GPU instance type from the catalog (policies/model/gpu-catalog.ts). */
    instanceType: z.string(),
    /** internal | serving | shared | dedicated. */
    role: z.enum(POOL_ROLES as [string, ...string[]], { message: `must be one of ${POOL_ROLES.join(", ")}` }),
    /** The one tenant a dedicated pool belongs to (declared here and nowhere else). */
    tenant: dnsLabel.optional(),
    /** Guaranteed nodes: the capacity the model counts. */
    minNodes: z.number().int().min(0),
    maxNodes: z.number().int().min(1),
    /** AZs to place nodes in (default: all of the region's). */
    availabilityZones: z.array(z.string()).min(1).optional(),
    /** Shared pools: the fraction of guaranteed GPUs never sold (default 0.2). */
    headroom: z.number().min(MIN_HEADROOM, `must be at least ${MIN_HEADROOM} (the floor no stack may go below)`).max(1).optional(),
    /** Launch nodes in a cluster placement group (single AZ only; not with a reservation or Capacity Block). */
    placementGroup: z.boolean().default(false),
    /** Target an On-Demand Capacity Reservation or a Capacity Block for ML. */
    capacityReservation: z
        .strictObject({
            id: z.string().regex(/^cr-[0-9a-f]{17}$/, "must be a capacity reservation id (cr- and 17 hex digits)"),
            type: z.enum(["on-demand", "capacity-block"]),
        })
        .optional(),
    /** Root volume size, GiB (model weights are large). */
    rootVolumeGiB: z.number().int().min(100).max(16384).default(500),
});

const observabilitySchema = z.strictObject({
    /** How long Prometheus keeps samples, days. */
    prometheusRetentionDays: z.number().int().min(1).max(365).default(15),
    /** Prometheus volume, GiB. */
    prometheusStorageGiB: z.number().int().min(10).max(16384).default(100),
    /** Retention of the cluster's CloudWatch log groups, days. */
    logRetentionDays: retentionDays.default(365),
    /** Where the alerts' runbook links point (this repository's docs/runbooks.md by default). */
    runbookBaseUrl: z.url().default("https://github.com/compute-region/compute-region/blob/main/docs/runbooks.md"),
});
const OBSERVABILITY_DEFAULTS = observabilitySchema.parse({});

/** Gateway limits for one tenant, across its models and every gateway replica together. */
const rateLimitsSchema = z.strictObject({
    requestsPerMinute: z.number().int().min(1).max(1_000_000),
    tokensPerMinute: z.number().int().min(1).max(100_000_000),
});
const DEFAULT_TENANT_RATE_LIMITS = { requestsPerMinute: 600, tokensPerMinute: 200_000 };

const gpuMap = z.record(z.string(), z.number().int().min(0, "must be a whole number of GPUs, at least 0"));

const tenantSchema = z.strictObject({
    /** Tenant name: a DNS label; its namespace is tenant-<name>. */
    name: dnsLabel.max(DNS_LABEL_MAX - TENANT_NAMESPACE_PREFIX.length, `must be at most ${DNS_LABEL_MAX - TENANT_NAMESPACE_PREFIX.length} characters (the namespace is ${TENANT_NAMESPACE_PREFIX}<name>)`),
    /** active | suspended (quota zero, no new pods) | decommissioned (access removed; the tenant may then be deleted from config). */
    state: z.enum(TENANT_STATES).default("active"),
    /** Reserved GPUs per pool (sold capacity). A dedicated pool's tenant gets the whole pool without listing it. */
    quota: gpuMap.default({}),
    /** Spot GPUs per shared pool: borrowing of idle capacity, reclaimable at any time (not sold capacity). */
    spot: gpuMap.default({}),
    /** Hosted models the tenant may call through the gateway (names from compute-region:models). */
    models: z.array(dnsLabel).default([]),
    /** The tenant's own gateway limits, instead of compute-region:gateway.tenantRateLimits (a bigger or smaller plan). */
    rateLimits: rateLimitsSchema.optional(),
    /** Bump to rotate the tenant's gateway API key (the old key stops working when the update applies). */
    apiKeyVersion: z.number().int().min(1).default(1),
    /** IAM roles of the tenant's people and CI: mapped to the tenant's Kubernetes group, nothing more. */
    members: z.array(iamRoleArn).default([]),
    egress: z
        .strictObject({
            /** Let pods reach the internet (never private ranges, the VPC, services or instance metadata). */
            internet: z.boolean().default(false),
            /** Extra public CIDRs pods may reach even when internet is off. */
            allowCidrs: z.array(cidr).default([]),
        })
        .default({ internet: false, allowCidrs: [] }),
    /** ResourceQuota backstop for the namespace (defaults scale with the tenant's GPUs). */
    limits: z
        .strictObject({
            cpu: z.number().int().min(1).optional(),
            memoryGiB: z.number().int().min(1).optional(),
            storageGiB: z.number().int().min(1).optional(),
            pods: z.number().int().min(1).optional(),
        })
        .default({}),
});

export type TenantConfig = z.infer<typeof tenantSchema>;

const billingSchema = z.strictObject({
    /** RDS instance class. */
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.r6g.large"),
    /** PostgreSQL version, 16 or later. */
    engineVersion: z.string().regex(/^(1[6-9]|[2-9]\d)(\.\d+)?$/, 'must be PostgreSQL 16 or later, such as "16.6"'),
    allocatedStorageGiB: z.number().int().min(20).max(65536).default(100),
    maxAllocatedStorageGiB: z.number().int().min(20).max(65536).default(1000),
    /** Automated backups (and point-in-time recovery) kept, days. */
    backupRetentionDays: z.number().int().min(BACKUP_RETENTION_DAYS.min, `must be at least ${BACKUP_RETENTION_DAYS.min} days`).max(BACKUP_RETENTION_DAYS.max, `must be at most ${BACKUP_RETENTION_DAYS.max} days (the RDS limit)`).default(BACKUP_RETENTION_DAYS.min),
    /** The metering image, pinned by digest: <repository>@sha256:<64 hex>. */
    meteringImage: z.string().regex(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._\/-]+@sha256:[a-f0-9]{64}$/, "must be an image referenced by digest (<repository>@sha256:<64 hex digits>), never a tag"),
    /** Cron schedule of the metering job (hourly windows). */
    meteringSchedule: z.string().default("5 * * * *"),
});

export type BillingConfig = z.infer<typeof billingSchema>;

/** A fully qualified DNS name (what clients call and the certificate covers). */
const FQDN = /^(?=.{4,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]{36}$/;

const gatewaySchema = z.strictObject({
    /** The hosted-model API's hostname: clients call https://<hostname>/v1/...; point its DNS record at the gateway's NLB. */
    hostname: z.string().regex(FQDN, "must be a fully qualified DNS name such as models.us-east-2.example.com"),
    /** ACM certificate for the hostname, in the stack's region: the NLB terminates TLS with it. */
    certificateArn: z.string().regex(ACM_CERTIFICATE_ARN, "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"),
    /** Client networks the NLB admits (its security group's sources). */
    clientCidrs: z.array(cidr).min(1, "must list at least one client CIDR").default(["0.0.0.0/0"]),
    /** Every hosted tenant's limits unless it sets its own (tenants[].rateLimits). */
    tenantRateLimits: rateLimitsSchema.default(DEFAULT_TENANT_RATE_LIMITS),
    /** Gateway (Envoy) replicas, spread across zones; at least 2, as it is the only way in. */
    replicas: z.number().int().min(2, "must be at least 2: the gateway is the only way in").max(50).default(2),
});

export type GatewayConfig = z.infer<typeof gatewaySchema>;

/**
 * Tenants with their own limits each take a request and a token rule, and an exclusion from the
 * default rules' selectors: Envoy Gateway allows 128 rules a policy (two are the defaults') and 127
 * header matches besides the default rules' own (8 selectors of 16).
 */
export const MAX_CUSTOM_LIMIT_TENANTS = 63;

const shardBudgetSchema = z.strictObject({
    /** Shard name: a DNS label (its tenant stacks set compute-region:shard.name to it). */
    name: dnsLabel,
    /** Reserved GPUs per shared pool the shard may sell to its tenants. */
    budget: gpuMap,
});

const modelSchema = z.strictObject({
    /** Model name: a DNS label; clients select it, tenants are granted it (tenants[].models). */
    name: dnsLabel,
    /** The model's id (Hugging Face style), served under the model's name. */
    modelId: z.string().min(1),
    /** Serving image pinned by tag or digest (vLLM's OpenAI-compatible server by default), never latest. */
    image: z.string().default("vllm/vllm-openai:v0.10.1"),
    /** A serving pool of compute-region:gpuPools. */
    pool: dnsLabel,
    /** GPUs per replica: vLLM's tensor parallel size; must divide the pool's GPUs per node. */
    gpusPerReplica: z.number().int().min(1).max(8),
    replicas: z.strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) }),
    /** vLLM --max-model-len. */
    maxModelLength: z.number().int().min(256),
    /** Where the weights come from: an S3 prefix, read through EKS Pod Identity with a role limited to it. */
    weights: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+\/)?$/, "must be an S3 prefix such as s3://bucket/models/llama/ (ending in /)"),
    /** Scaling and alerting targets: waiting requests per replica, and p95 end-to-end latency. */
    targets: z.strictObject({ queueDepth: z.number().int().min(1).default(8), p95LatencySeconds: z.number().positive().default(10) }).default({ queueDepth: 8, p95LatencySeconds: 10 }),
});

export type ModelConfig = z.infer<typeof modelSchema>;

const regionConfigObject = z.strictObject({
        "aws:region": z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as us-east-2"),
        [`${NS}availabilityZones`]: z.array(z.string()).min(2, "must list at least 2 availability zones (EKS requires subnets in two)"),
        [`${NS}network`]: networkSchema,
        [`${NS}cluster`]: clusterSchema,
        [`${NS}gpuPools`]: z.array(gpuPoolSchema).default([]),
        [`${NS}observability`]: observabilitySchema.default(OBSERVABILITY_DEFAULTS),
        [`${NS}tenants`]: z.array(tenantSchema).default([]),
        [`${NS}billing`]: billingSchema.optional(),
        [`${NS}models`]: z.array(modelSchema).default([]),
        /** The hosted-model gateway: required once a tenant is granted a model. */
        [`${NS}gateway`]: gatewaySchema.optional(),
        /** region (everything in one stack), or platform (everything but tenants) for a sharded region. */
        [`${NS}layer`]: z.enum(["region", "platform"]).default("region"),
        /** Platform layer: the tenant shards and the GPUs each may sell per pool. */
        [`${NS}shards`]: z.array(shardBudgetSchema).default([]),
});

/** The whole region stack's configuration, keyed by Pulumi config key, with its cross-field checks. */
export const regionConfigSchema = regionConfigObject.superRefine((config, ctx) => crossFieldChecks(config as unknown as RawRegionConfig, ctx));

type RawRegionConfig = {
    "aws:region": string;
    "compute-region:availabilityZones": string[];
    "compute-region:network": z.infer<typeof networkSchema>;
    "compute-region:cluster": z.infer<typeof clusterSchema>;
    "compute-region:gpuPools": GpuPoolConfig[];
    "compute-region:observability": z.infer<typeof observabilitySchema>;
    "compute-region:tenants": TenantConfig[];
    "compute-region:billing"?: BillingConfig;
    "compute-region:models": ModelConfig[];
    "compute-region:gateway"?: GatewayConfig;
    "compute-region:layer": "region" | "platform";
    "compute-region:shards": { name: string; budget: Record<string, number> }[];
};

export type GpuPoolConfig = Omit<z.infer<typeof gpuPoolSchema>, "role"> & { role: (typeof POOL_ROLES)[number] };

function crossFieldChecks(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const region = config["aws:region"];
    const azKey = `${NS}availabilityZones`;
    const zones = config["compute-region:availabilityZones"];
    zones.forEach((zone, i) => {
        if (!new RegExp(`^${region}[a-z]$`).test(zone)) {
            ctx.addIssue({ code: "custom", path: [azKey, i], message: `must be an availability zone of ${region} (such as ${region}a)`, input: zone });
        }
    });
    reportDuplicates(zones, (i) => [azKey, i], ctx);

    const network = config["compute-region:network"];
    const cluster = config["compute-region:cluster"];
    const vpcValid = !cidrProblem(network.vpcCidr);
    const serviceValid = !cidrProblem(cluster.serviceCidr);
    if (vpcValid && serviceValid && cidrsOverlap(network.vpcCidr, cluster.serviceCidr)) {
        ctx.addIssue({
            code: "custom",
            path: [`${NS}cluster`, "serviceCidr"],
            message: `must not overlap the VPC CIDR ${network.vpcCidr}`,
            input: cluster.serviceCidr,
        });
    }
    if (cluster.systemNodeGroup.maxSize < cluster.systemNodeGroup.minSize) {
        ctx.addIssue({
            code: "custom",
            path: [`${NS}cluster`, "systemNodeGroup", "maxSize"],
            message: `must be at least minSize (${cluster.systemNodeGroup.minSize})`,
            input: cluster.systemNodeGroup.maxSize,
        });
    }
    const endpoint = cluster.endpoint;
    if (endpoint.publicAccess) {
        if (endpoint.publicAccessCidrs.length === 0) {
            ctx.addIssue({
                code: "custom",
                path: [`${NS}cluster`, "endpoint", "publicAccessCidrs"],
                message: "must list the CIDRs allowed to reach the public endpoint when publicAccess is true (an empty list would open it to 0.0.0.0/0)",
            });
        }
        endpoint.publicAccessCidrs.forEach((c, i) => {
            if (c === "0.0.0.0/0") {
                ctx.addIssue({
                    code: "custom",
                    path: [`${NS}cluster`, "endpoint", "publicAccessCidrs", i],
                    message: "must not be 0.0.0.0/0: list the networks that administer the cluster",
                    input: c,
                });
            }
        });
    } else if (endpoint.publicAccessCidrs.length > 0) {
        ctx.addIssue({
            code: "custom",
            path: [`${NS}cluster`, "endpoint", "publicAccessCidrs"],
            message: "must be empty when publicAccess is false (the list would have no effect)",
            input: endpoint.publicAccessCidrs,
        });
    }
    checkGpuPools(config, ctx);
    checkTenants(config, ctx);
    checkShards(config, ctx);
    checkModels(config, ctx);
    const billing = config["compute-region:billing"];
    if (billing && billing.maxAllocatedStorageGiB < billing.allocatedStorageGiB) {
        ctx.addIssue({ code: "custom", path: [`${NS}billing`, "maxAllocatedStorageGiB"], message: `must be at least allocatedStorageGiB (${billing.allocatedStorageGiB})`, input: billing.maxAllocatedStorageGiB });
    }
    reportDuplicates(cluster.adminRoleArns, (i) => [`${NS}cluster`, "adminRoleArns", i], ctx);
    if (cluster.adminRoleArns.includes(cluster.deployerRoleArn)) {
        ctx.addIssue({
            code: "custom",
            path: [`${NS}cluster`, "deployerRoleArn"],
            message: "must not also be listed in adminRoleArns (EKS allows one access entry per principal)",
            input: cluster.deployerRoleArn,
        });
    }
}

function checkGpuPools(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const key = `${NS}gpuPools`;
    const zones = config["compute-region:availabilityZones"];
    const pools = config["compute-region:gpuPools"];
    reportDuplicates(pools.map((p) => p.name), (i) => [key, i, "name"], ctx);
    pools.forEach((pool, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        if (!gpuInstanceType(pool.instanceType)) {
            ctx.addIssue({ code: "custom", path: at("instanceType"), message: `must be a GPU instance type in the catalog (${GPU_INSTANCE_TYPES.join(", ")})`, input: pool.instanceType });
        }
        if (pool.maxNodes < pool.minNodes) ctx.addIssue({ code: "custom", path: at("maxNodes"), message: `must be at least minNodes (${pool.minNodes})`, input: pool.maxNodes });
        if (pool.role === "dedicated" && !pool.tenant) ctx.addIssue({ code: "custom", path: at("tenant"), message: "is required for a dedicated pool: name the one tenant it belongs to" });
        if (pool.role !== "dedicated" && pool.tenant) ctx.addIssue({ code: "custom", path: at("tenant"), message: `must be unset: only dedicated pools belong to a tenant (role is ${pool.role})`, input: pool.tenant });
        if (pool.headroom !== undefined && pool.role !== "shared") {
            ctx.addIssue({ code: "custom", path: at("headroom"), message: `must be unset for ${pool.role === "internal" ? "an" : "a"} ${pool.role} pool (internal and serving pools keep everything, dedicated pools sell everything)`, input: pool.headroom });
        }
        const poolZones = pool.availabilityZones ?? zones;
        (pool.availabilityZones ?? []).forEach((z, j) => {
            if (!zones.includes(z)) ctx.addIssue({ code: "custom", path: at("availabilityZones", j), message: `must be one of the region's availabilityZones (${zones.join(", ")})`, input: z });
        });
        if (pool.placementGroup && poolZones.length !== 1) {
            ctx.addIssue({ code: "custom", path: at("placementGroup"), message: "needs exactly one availability zone in the pool's availabilityZones (a cluster placement group is single-AZ)", input: true });
        }
        if (pool.capacityReservation) {
            if (poolZones.length !== 1) ctx.addIssue({ code: "custom", path: at("availabilityZones"), message: "must name exactly the one AZ of the capacity reservation" });
            if (pool.placementGroup) {
                ctx.addIssue({ code: "custom", path: at("placementGroup"), message: "must be false with a capacity reservation or Capacity Block (forcing a placement group on reserved capacity fails with InsufficientInstanceCapacity)", input: true });
            }
        }
    });
}

function checkTenants(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const key = `${NS}tenants`;
    const tenants = config["compute-region:tenants"];
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    const cluster = config["compute-region:cluster"];
    reportDuplicates(tenants.map((t) => t.name), (i) => [key, i, "name"], ctx);
    const memberOwner = new Map<string, string>([...cluster.adminRoleArns.map((a) => [a, "an admin role"] as const), [cluster.deployerRoleArn, "the deployer role"]]);
    const names = new Set(tenants.map((t) => t.name));
    config["compute-region:gpuPools"].forEach((pool, i) => {
        // On a platform the tenants live in the shard stacks.
        if (config["compute-region:layer"] === "region" && pool.role === "dedicated" && pool.tenant && !names.has(pool.tenant)) {
            ctx.addIssue({ code: "custom", path: [`${NS}gpuPools`, i, "tenant"], message: "must name a tenant in compute-region:tenants", input: pool.tenant });
        }
    });
    tenants.forEach((tenant, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        if (tenant.name.startsWith("internal")) {
            ctx.addIssue({ code: "custom", path: at("name"), message: 'must not start with "internal" (reserved for the platform\'s own queues)', input: tenant.name });
        }
        for (const [pool, gpus] of Object.entries(tenant.quota)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: at("quota", pool), message: `names no pool in compute-region:gpuPools (${[...pools.keys()].join(", ") || "none"})`, input: gpus });
            else if (p.role === "internal" || p.role === "serving") ctx.addIssue({ code: "custom", path: at("quota", pool), message: `pool ${pool} is ${p.role}: it sells no reserved quota`, input: gpus });
            else if (p.role === "dedicated" && p.tenant !== tenant.name) ctx.addIssue({ code: "custom", path: at("quota", pool), message: `pool ${pool} is dedicated to ${p.tenant}`, input: gpus });
        }
        for (const [pool, gpus] of Object.entries(tenant.spot)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: at("spot", pool), message: `names no pool in compute-region:gpuPools (${[...pools.keys()].join(", ") || "none"})`, input: gpus });
            else if (p.role !== "shared") ctx.addIssue({ code: "custom", path: at("spot", pool), message: `pool ${pool} is ${p.role}: spot quota borrows only from shared pools`, input: gpus });
        }
        tenant.members.forEach((arn, j) => {
            const owner = memberOwner.get(arn);
            if (owner) ctx.addIssue({ code: "custom", path: at("members", j), message: `is already ${owner} (EKS allows one access entry per principal)`, input: arn });
            else memberOwner.set(arn, `a member of tenant ${tenant.name}`);
        });
        tenant.egress.allowCidrs.forEach((c, j) => {
            if (cidrProblem(c)) return;
            const forbidden = [...NEVER_EGRESS_CIDRS, config["compute-region:network"].vpcCidr, cluster.serviceCidr].find((f) => !cidrProblem(f) && cidrsOverlap(c, f));
            if (forbidden) ctx.addIssue({ code: "custom", path: at("egress", "allowCidrs", j), message: `must not overlap ${forbidden} (private, link-local, VPC and service ranges are never reachable from tenants)`, input: c });
        });
    });
}

function checkModels(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const key = `${NS}models`;
    const models = config["compute-region:models"];
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    reportDuplicates(models.map((m) => m.name), (i) => [key, i, "name"], ctx);
    const needed = new Map<string, number>();
    models.forEach((m, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        if (/:latest$/.test(m.image) || !/(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/.test(m.image.replace(/^[^/]*:\d+\//, ""))) {
            ctx.addIssue({ code: "custom", path: at("image"), message: "must be pinned by a tag other than latest or by digest", input: m.image });
        }
        if (m.replicas.max < m.replicas.min) ctx.addIssue({ code: "custom", path: at("replicas", "max"), message: `must be at least replicas.min (${m.replicas.min})`, input: m.replicas.max });
        const pool = pools.get(m.pool);
        if (!pool) return ctx.addIssue({ code: "custom", path: at("pool"), message: `names no pool in compute-region:gpuPools`, input: m.pool });
        if (pool.role !== "serving") return ctx.addIssue({ code: "custom", path: at("pool"), message: `pool ${m.pool} is ${pool.role}: models run on serving pools`, input: m.pool });
        const type = gpuInstanceType(pool.instanceType);
        if (type && type.gpusPerNode % m.gpusPerReplica !== 0) {
            ctx.addIssue({ code: "custom", path: at("gpusPerReplica"), message: `must divide the ${type.gpusPerNode} GPUs of a ${pool.instanceType} node in pool ${m.pool} (tensor parallelism stays on one node)`, input: m.gpusPerReplica });
        }
        needed.set(m.pool, (needed.get(m.pool) ?? 0) + m.gpusPerReplica * m.replicas.min);
    });
    for (const [poolName, gpus] of needed) {
        const pool = pools.get(poolName)!;
        const guaranteed = pool.minNodes * (gpuInstanceType(pool.instanceType)?.gpusPerNode ?? 0);
        if (gpus > guaranteed) {
            ctx.addIssue({ code: "custom", path: [key], message: `models on pool ${poolName} need ${gpus} GPUs at their minimum replicas, but the pool guarantees ${guaranteed} (raise its minNodes)` });
        }
    }
    const names = new Set(models.map((m) => m.name));
    const tenants = config["compute-region:tenants"];
    tenants.forEach((t, i) => {
        t.models.forEach((m, j) => {
            if (!names.has(m)) ctx.addIssue({ code: "custom", path: [`${NS}tenants`, i, "models", j], message: `names no model in compute-region:models (${[...names].join(", ") || "none"})`, input: m });
        });
        reportDuplicates(t.models, (j) => [`${NS}tenants`, i, "models", j], ctx);
    });
    checkGateway(config, ctx);
}

function checkGateway(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const key = `${NS}gateway`;
    const gateway = config["compute-region:gateway"];
    const hosted = config["compute-region:tenants"].filter((t) => t.models.length > 0);
    if (hosted.length > 0 && !gateway) {
        ctx.addIssue({ code: "custom", path: [key], message: `is required: tenants ${hosted.map((t) => t.name).join(", ")} are granted models (set hostname and certificateArn)` });
    }
    const custom = hosted.filter((t) => t.rateLimits);
    if (custom.length > MAX_CUSTOM_LIMIT_TENANTS) {
        ctx.addIssue({ code: "custom", path: [`${NS}tenants`], message: `at most ${MAX_CUSTOM_LIMIT_TENANTS} hosted tenants may set their own rateLimits (the gateway's rate-limit policy holds two rules for each, 128 in all); ${custom.length} do: move the common figures to compute-region:gateway.tenantRateLimits` });
    }
    if (!gateway) return;
    const certRegion = ACM_CERTIFICATE_ARN.exec(gateway.certificateArn)?.[1];
    if (certRegion && certRegion !== config["aws:region"]) {
        ctx.addIssue({ code: "custom", path: [key, "certificateArn"], message: `must be a certificate in ${config["aws:region"]} (an NLB uses certificates of its own region), got one in ${certRegion}` });
    }
    if (config["compute-region:models"].length === 0) {
        ctx.addIssue({ code: "custom", path: [key], message: "has no models to serve: set compute-region:models, or remove the gateway" });
    }
}

function checkShards(config: RawRegionConfig, ctx: z.RefinementCtx): void {
    const key = `${NS}shards`;
    const shards = config["compute-region:shards"];
    if (config["compute-region:layer"] !== "platform") {
        if (shards.length > 0) ctx.addIssue({ code: "custom", path: [key], message: 'is only for compute-region:layer "platform"' });
        return;
    }
    if (config["compute-region:tenants"].length > 0) {
        ctx.addIssue({ code: "custom", path: [`${NS}tenants`], message: "must be empty on the platform layer: tenants live in the shard stacks" });
    }
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    reportDuplicates(shards.map((s) => s.name), (i) => [key, i, "name"], ctx);
    shards.forEach((shard, i) => {
        for (const [pool, gpus] of Object.entries(shard.budget)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: [key, i, "budget", pool], message: `names no pool in compute-region:gpuPools`, input: gpus });
            else if (p.role !== "shared") ctx.addIssue({ code: "custom", path: [key, i, "budget", pool], message: `pool ${pool} is ${p.role}: shards sell only shared pools`, input: gpus });
        }
    });
}

function reportDuplicates(values: readonly string[], pathOf: (i: number) => (string | number)[], ctx: z.RefinementCtx): void {
    const seen = new Map<string, number>();
    values.forEach((value, i) => {
        const first = seen.get(value);
        if (first !== undefined) {
            ctx.addIssue({ code: "custom", path: pathOf(i), message: `must be unique: already used at [${first}]`, input: value });
        } else {
            seen.set(value, i);
        }
    });
}

/** The validated configuration the components receive. */
export interface RegionConfig {
    stack: string;
    region: string;
    availabilityZones: string[];
    network: z.infer<typeof networkSchema>;
    cluster: z.infer<typeof clusterSchema>;
    gpuPools: GpuPoolConfig[];
    observability: z.infer<typeof observabilitySchema>;
    tenants: TenantConfig[];
    /** The billing database and metering; absent: the region has none. */
    billing?: BillingConfig;
    /** Hosted models served on the serving pools. */
    models: ModelConfig[];
    /** The hosted-model gateway; absent: no model is reachable from outside the cluster. */
    gateway?: GatewayConfig;
    /** region: one stack; platform: the shared half of a sharded region (no tenants). */
    layer: "region" | "platform";
    /** Platform layer: each tenant shard's GPU budget per pool. */
    shards: { name: string; budget: Record<string, number> }[];
}

/** A configuration error: every problem at once, each naming the file, the key path and what is expected. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
        this.name = "ConfigError";
    }
}

/** Formats a zod issue path as a config key path: `compute-region:tenants[2].name`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out;
}

function describe(value: unknown): string {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function issueMessage(issue: z.core.$ZodIssue): string {
    if (issue.code === "unrecognized_keys") {
        return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (a typo? see the config reference in README.md)`;
    }
    if (issue.code === "invalid_type") {
        if (issue.input === undefined) return "is required";
        return `must be ${issue.expected === "array" || issue.expected === "object" ? "an" : "a"} ${issue.expected}, got ${describe(issue.input)}`;
    }
    if (issue.code === "invalid_value" && "values" in issue) {
        const custom = issue.message && !issue.message.startsWith("Invalid") ? issue.message : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        return `${custom}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_small" && issue.origin === "number" && !issue.message.startsWith("must")) {
        return `must be at least ${issue.minimum}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_big" && issue.origin === "number" && !issue.message.startsWith("must")) {
        return `must be at most ${issue.maximum}, got ${describe(issue.input)}`;
    }
    if (issue.code === "too_small" && issue.origin === "array") return issue.message.startsWith("must") ? issue.message : `must have at least ${issue.minimum} items`;
    const got = issue.input !== undefined && typeof issue.input !== "object" ? `, got ${describe(issue.input)}` : issue.input !== undefined && Array.isArray(issue.input) ? `, got ${describe(issue.input)}` : "";
    return `${issue.message}${got}`;
}

/** The config keys the schema knows, for the unknown-key check of the whole namespace. */
export const KNOWN_KEYS = Object.keys(regionConfigObject.shape);

const shardConfigObject = z.strictObject({
    "aws:region": regionConfigObject.shape["aws:region"],
    [`${NS}layer`]: z.literal("shard"),
    [`${NS}shard`]: z.strictObject({
        /** The shard's name, as the platform stack's compute-region:shards lists it. */
        name: dnsLabel,
        /** The platform stack to read (org/project/stack), through a StackReference. */
        platformStack: z.string().regex(/^([\w.-]+\/){0,2}[\w.-]+$/, "must be a stack name such as my-org/compute-region/prod-use1-platform"),
    }),
    [`${NS}tenants`]: z.array(tenantSchema).min(1, "must list the shard's tenants"),
    [`${NS}observability`]: observabilitySchema.default(OBSERVABILITY_DEFAULTS),
});
const SHARD_KEYS = Object.keys(shardConfigObject.shape);

/** A tenant shard stack: tenants only, on a platform stack's cluster and pools. */
export interface ShardConfig {
    layer: "shard";
    stack: string;
    region: string;
    shard: { name: string; platformStack: string };
    tenants: TenantConfig[];
    observability: z.infer<typeof observabilitySchema>;
}

/** Parses any layer's config: a whole region, a platform, or a tenant shard. */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string, source = `Pulumi.${stack}.yaml`): RegionConfig | ShardConfig {
    if (decodeConfigValue(raw[`${NS}layer`] ?? "") !== "shard") return parseRegionConfig(raw, stack, source);
    const schema = shardConfigObject.superRefine((config, ctx) => {
        const tenants = (config as Record<string, unknown>)[`${NS}tenants`] as TenantConfig[];
        reportDuplicates(tenants.map((t) => t.name), (i) => [`${NS}tenants`, i, "name"], ctx);
        tenants.forEach((t, i) => {
            t.egress.allowCidrs.forEach((c, j) => {
                const forbidden = NEVER_EGRESS_CIDRS.find((f) => !cidrProblem(c) && cidrsOverlap(c, f));
                if (forbidden) ctx.addIssue({ code: "custom", path: [`${NS}tenants`, i, "egress", "allowCidrs", j], message: `must not overlap ${forbidden}`, input: c });
            });
            if (t.models.length > 0) {
                ctx.addIssue({ code: "custom", path: [`${NS}tenants`, i, "models"], message: "must be empty in a shard stack: models are served and granted by the platform stack's gateway", input: t.models });
            }
        });
    });
    const config = parseWith(schema, SHARD_KEYS, raw, source) as Record<string, any>;
    return { layer: "shard", stack, region: config["aws:region"], shard: config[`${NS}shard`], tenants: config[`${NS}tenants`], observability: config[`${NS}observability`] };
}

function parseWith(schema: z.ZodType, keys: readonly string[], raw: Readonly<Record<string, string>>, source: string): unknown {
    const problems: string[] = [];
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        if (!key.startsWith(NS) && !keys.includes(key)) continue;
        if (!keys.includes(key)) {
            problems.push(`${source}: ${key}: unknown key (known: ${keys.filter((k) => k.startsWith(NS)).join(", ")})`);
            continue;
        }
        input[key] = decodeConfigValue(value);
    }
    const result = schema.safeParse(input, { reportInput: true });
    if (!result.success) {
        for (const issue of result.error.issues) problems.push(`${source}: ${formatKeyPath(issue.path) || "(config)"}: ${issueMessage(issue)}`);
    }
    if (problems.length > 0 || !result.success) throw new ConfigError(problems);
    return result.data;
}

/**
 * Parses raw config (Pulumi config key to the string the engine passes) into a `RegionConfig`.
 * `source` names the stack file in messages. Throws a `ConfigError` listing every problem.
 */
export function parseRegionConfig(raw: Readonly<Record<string, string>>, stack: string, source = `Pulumi.${stack}.yaml`): RegionConfig {
    const data = parseWith(regionConfigSchema, KNOWN_KEYS, raw, source);
    const config = data as unknown as RawRegionConfig;
    return {
        stack,
        region: config["aws:region"],
        availabilityZones: config["compute-region:availabilityZones"],
        network: config["compute-region:network"],
        cluster: config["compute-region:cluster"],
        gpuPools: config["compute-region:gpuPools"],
        observability: config["compute-region:observability"],
        tenants: config["compute-region:tenants"],
        billing: config["compute-region:billing"],
        layer: config["compute-region:layer"],
        shards: config["compute-region:shards"],
        models: config["compute-region:models"],
        gateway: config["compute-region:gateway"],
    };
}

/**
 * The engine passes structured config values (objects, lists) as JSON text and scalars as plain text;
 * decode the first kind and keep the second as the string it is.
 */
export function decodeConfigValue(value: string): unknown {
    const trimmed = value.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(trimmed);
        } catch {
            return value;
        }
    }
    return value;
}

/** Reads the stack's config from the Pulumi runtime, exactly as the engine handed it to the program. */
export function loadStackConfig(): RegionConfig | ShardConfig {
    return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
}
