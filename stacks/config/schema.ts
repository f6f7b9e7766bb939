import { z } from "zod";
import {
    BACKUP_RETENTION_DAYS,
    BILLING_TRACKS,
    BillingTrack,
    decimalText,
    GPU_MODELS,
    parseDay,
    PriceConfig,
    cidrProblem,
    DNS_LABEL,
    DNS_LABEL_MAX,
    headroomFloorProblem,
    LUSTRE_THROUGHPUT_TIERS,
    lustreStorageProblem,
    POOL_ROLES,
    PoolRole,
    PROJECT,
    TENANT_NAMESPACE_PREFIX,
    TENANT_STATES,
} from "compute-region-policies/model";

/**
 * The stack configuration of one region, as one zod schema. Each top-level key of the schema is a
 * Pulumi config key (`compute-region:cluster`, `aws:region`), so an error path reads exactly like the
 * key a platform engineer has to fix in `Pulumi.<stack>.yaml`.
 */

export const dnsLabel = z
    .string()
    .max(DNS_LABEL_MAX, `must be at most ${DNS_LABEL_MAX} characters`)
    .regex(DNS_LABEL, "must be a DNS label (a-z, 0-9, -)");

export const cidr = z.string().superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.replace(/, got .*$/, ""), input: value });
});

export const iamRoleArn = z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");

export const retentionDays = z
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

export const networkSchema = z.strictObject({
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

export const systemNodeGroupSchema = z.strictObject({
    /** Instance type of the system node group (cluster add-ons and platform controllers). */
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as m7i.xlarge"),
    minSize: z.number().int().min(1, "must be at least 1: the cluster add-ons need a node"),
    maxSize: z.number().int().min(1),
    /** Root volume size in GiB. */
    diskSizeGiB: z.number().int().min(20).max(16384).default(100),
});

export const clusterSchema = z.strictObject({
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

export const gpuPoolSchema = z.strictObject({
    /** Pool name: a DNS label, used in node labels, taints, the Kueue flavor and cohort. */
    name: dnsLabel,
    /** A GPU instance type from the catalog (policies/model/domain/gpu-catalog.ts). */
    instanceType: z.string(),
    /** internal | serving | shared | dedicated. */
    role: z.enum(POOL_ROLES as [PoolRole, ...PoolRole[]], { message: `must be one of ${POOL_ROLES.join(", ")}` }),
    /** The one tenant a dedicated pool belongs to (declared here and nowhere else). */
    tenant: dnsLabel.optional(),
    /** Guaranteed nodes: the capacity the model counts. */
    minNodes: z.number().int().min(0),
    maxNodes: z.number().int().min(1),
    /** AZs to place nodes in (default: all of the region's). */
    availabilityZones: z.array(z.string()).min(1).optional(),
    /** Shared pools: the fraction of guaranteed GPUs never sold (default 0.2). Serving pools: the fraction kept for the shared models (default 1: no dedicated endpoints). */
    headroom: z
        .number()
        .max(1)
        .superRefine((headroom, ctx) => {
            const problem = headroomFloorProblem(headroom);
            if (problem) ctx.addIssue({ code: "custom", message: problem, input: headroom });
        })
        .optional(),
    /** Launch nodes in a cluster placement group (single AZ only; not with a reservation or Capacity Block). */
    placementGroup: z.boolean().default(false),
    /** Target an On-Demand Capacity Reservation or a Capacity Block for ML. */
    capacityReservation: z
        .strictObject({
            id: z.string().regex(/^cr-[0-9a-f]{17}$/, "must be a capacity reservation id (cr- and 17 hex digits)"),
            type: z.enum(["on-demand", "capacity-block"]),
            /** Instances the reservation holds: the pool never scales past them (maxNodes at most this). */
            instances: z.number().int().min(1, "must be at least 1: the instances the reservation holds"),
            /** A Capacity Block's window (ISO 8601 with a zone, as EC2 shows it): its GPUs count only inside it. */
            startsAt: z.string().optional(),
            endsAt: z.string().optional(),
        })
        .optional(),
    /** Root volume size, GiB (model weights are large). */
    rootVolumeGiB: z.number().int().min(100).max(16384).default(500),
});

export const observabilitySchema = z.strictObject({
    /** How long Prometheus keeps samples, days. */
    prometheusRetentionDays: z.number().int().min(1).max(365).default(15),
    /** Prometheus volume, GiB. */
    prometheusStorageGiB: z.number().int().min(10).max(16384).default(100),
    /** Retention of the cluster's CloudWatch log groups, days. */
    logRetentionDays: retentionDays.default(365),
    /** Where the alerts' runbook links point (this repository's docs/runbooks.md by default). */
    runbookBaseUrl: z.url().default("https://github.com/compute-region/compute-region/blob/main/docs/runbooks.md"),
    /** Days before a Capacity Block ends that its alert fires (time to buy the next block or move work). */
    capacityBlockWarningDays: z.number().int().min(1).max(180).default(7),
});
export const OBSERVABILITY_DEFAULTS = observabilitySchema.parse({});

/** Gateway limits for one tenant, across its models and every gateway replica together. */
export const rateLimitsSchema = z.strictObject({
    requestsPerMinute: z.number().int().min(1).max(1_000_000),
    tokensPerMinute: z.number().int().min(1).max(100_000_000),
});
export const DEFAULT_TENANT_RATE_LIMITS = { requestsPerMinute: 600, tokensPerMinute: 200_000 };

export const gpuMap = z.record(z.string(), z.number().int().min(0, "must be a whole number of GPUs, at least 0"));

/** An S3 prefix: s3://bucket/ or s3://bucket/prefix/ (ending in /). */
export const s3Prefix = (example: string) => z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(.+\/)?$/, `must be an S3 prefix such as ${example} (ending in /)`);

/** A tenant's shared FSx for Lustre file system (opt-in). */
export const fileSystemSchema = z.strictObject({
    /** Capacity, GiB: 1200, 2400 or a multiple of 2400 (PERSISTENT_2 SSD). */
    storageGiB: z
        .number()
        .int()
        .superRefine((gib, ctx) => {
            const problem = lustreStorageProblem(gib);
            if (problem) ctx.addIssue({ code: "custom", message: problem, input: gib });
        }),
    /** Throughput tier, MB/s per TiB of storage. */
    throughput: z
        .number()
        .refine((t) => (LUSTRE_THROUGHPUT_TIERS as readonly number[]).includes(t), { message: `must be one of ${LUSTRE_THROUGHPUT_TIERS.join(", ")} (MB/s per TiB, PERSISTENT_2 SSD)` })
        .default(250),
    /** The AZ the file servers go in (one subnet); default: the AZ of the tenant's first pool. */
    availabilityZone: z.string().optional(),
    /** Link the file system to the tenant's S3 prefix (a data repository association), at /s3 in the file system. */
    s3: z
        .strictObject({
            /** The tenant's prefix; its bucket policy must let this account's FSx service-linked role read (and write, to export) it. */
            path: s3Prefix("s3://bucket/datasets/"),
            /** Objects created, changed or deleted in S3 appear in the file system. */
            autoImport: z.boolean().default(true),
            /** Files created, changed or deleted in the file system are written back to S3. */
            autoExport: z.boolean().default(false),
        })
        .optional(),
});

/** What a tenant's workloads reach its own AWS resources as (EKS Pod Identity on one service account). */
export const workloadIdentitySchema = z.strictObject({
    /** A role in the tenant's own account, which the region's role chains to (its trust policy must admit that role). */
    targetRoleArn: iamRoleArn.optional(),
    /** Or: the IAM policy document of a role created here (bounded like every tenant role). */
    policy: z
        .strictObject({
            Version: z.literal("2012-10-17", { message: 'must be "2012-10-17"' }),
            Statement: z.array(z.record(z.string(), z.unknown())).min(1, "must list at least one statement"),
        })
        .optional(),
});

/** A tenant's dedicated endpoint: its own replicas of a hosted model, which only its key reaches. */
export const dedicatedEndpointSchema = z.strictObject({
    /** The hosted model (compute-region:models): the endpoint runs it on the model's serving pool, sized like it. */
    model: dnsLabel,
    /** Replicas the tenant buys (each the model's gpusPerReplica GPUs), billed per replica-hour. */
    replicas: z.number().int().min(1).max(64),
});

/**
 * An AWS account or IAM principal a PrivateLink endpoint service may admit: an account root, a role
 * or a user ARN. Never `*` (anyone in any account) or a wildcard.
 */
export const endpointPrincipal = z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@\/-]+|user\/[\w+=,.@\/-]+)$/, "must be an account root, role or user ARN (arn:aws:iam::<account>:root), never * or a wildcard");

/** A day, YYYY-MM-DD (00:00 UTC). */
export const day = z.string().refine((d) => parseDay(d) !== undefined, { message: "must be a date, YYYY-MM-DD (quote it in YAML)" });

/** What a tenant signed beyond what it bought: when billing starts, a discount, the contract's reference. */
export const contractSchema = z.strictObject({
    /** Billing of the tenant's commitments starts on this day (00:00 UTC); capacity granted before it is not billed until then. */
    startsOn: day.optional(),
    /** Percent off every charge of the tenant (a negotiated discount), 0 to 100. */
    discountPercent: z.number().min(0, "must be at least 0 (percent)").max(100, "must be at most 100 (percent)").default(0),
    /** The contract or purchase-order reference, printed on the tenant's invoices. */
    reference: z.string().min(1).max(100, "must be at most 100 characters").optional(),
});

/** A money figure per unit: at least 0, at most 6 decimals (the schema's numeric(14, 6)). */
export const unitPrice = z
    .number()
    .min(0, "must be a price of at least 0")
    .max(99_999_999, "must be below 100,000,000")
    .refine((n) => {
        try {
            decimalText(n);
            return true;
        } catch {
            return false;
        }
    }, "must have at most 6 decimals");

/**
 * One entry of the price list, shaped by its track (policies/model/domain/billing.ts BILLING_TRACKS): what
 * it prices (a GPU model or a hosted model), a figure per price field of the track, and the day it
 * takes effect. Generated from the tracks, so a new track is data there, not a new schema here.
 */
function priceEntrySchema(name: string, track: BillingTrack) {
    const item = track.item === "gpuModel" ? { gpuModel: z.enum(GPU_MODELS as [string, ...string[]], { message: `must be a GPU model of the catalog (${GPU_MODELS.join(", ")})` }) } : { model: dnsLabel };
    const fields = Object.fromEntries(Object.keys(track.prices).map((f) => [f, track.defaults?.[f] ? unitPrice.optional() : unitPrice]));
    return z.strictObject({ track: z.literal(name), ...item, ...fields, effectiveFrom: day });
}
export const priceSchema: z.ZodType<PriceConfig> = z.discriminatedUnion(
    "track",
    Object.entries(BILLING_TRACKS).map(([name, track]) => priceEntrySchema(name, track)) as unknown as [ReturnType<typeof priceEntrySchema>, ...ReturnType<typeof priceEntrySchema>[]],
    { error: (issue) => (issue.code === "invalid_union" ? `must name its track: one of ${Object.keys(BILLING_TRACKS).join(", ")}` : undefined) },
) as unknown as z.ZodType<PriceConfig>;

export const tenantSchema = z.strictObject({
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
    /** Dedicated endpoints (one per model): reachable as model <tenant>/<model> through the gateway, with this tenant's key only. */
    dedicated: z.array(dedicatedEndpointSchema).default([]),
    /** Batch inference: the principals (in the tenant's own account) that upload inputs and download results under its prefix of the batch bucket. */
    batch: z.strictObject({ principals: z.array(endpointPrincipal).min(1, "must list at least one principal (a role in the tenant's account)") }).optional(),
    /** Private access to the gateway over AWS PrivateLink: the principals allowed to connect interface endpoints (needs compute-region:gateway.privateLink). */
    privateLink: z.strictObject({ principals: z.array(endpointPrincipal).min(1, "must list at least one principal (the tenant's account root or a role)") }).optional(),
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
    /** A shared FSx for Lustre file system, mounted as the claim shared-fs in the tenant's namespace (opt-in). */
    fileSystem: fileSystemSchema.optional(),
    /** The tenant's workloads' AWS identity, on the service account `workload` of its namespace (opt-in). */
    workloadIdentity: workloadIdentitySchema.optional(),
    /** The tenant's contract: when billing starts, a discount, a reference (what it buys is quota, spot, a dedicated pool and models). */
    contract: contractSchema.optional(),
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

export const billingSchema = z.strictObject({
    /** RDS instance class. */
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.r6g.large"),
    /** PostgreSQL major version, 16 or later: minor versions follow RDS's automatic minor upgrades. */
    engineVersion: z
        .string()
        .regex(/^(1[6-9]|[2-9]\d)(\.\d+)*$/, 'must be PostgreSQL 16 or later, given as the major version such as "16"')
        .regex(/^\d+$/, 'must be the major version only, such as "16": RDS upgrades minor versions automatically, and a pinned minor would make the next up try to go back'),
    allocatedStorageGiB: z.number().int().min(20).max(65536).default(100),
    maxAllocatedStorageGiB: z.number().int().min(20).max(65536).default(1000),
    /** Automated backups (and point-in-time recovery) kept, days. */
    backupRetentionDays: z.number().int().min(BACKUP_RETENTION_DAYS.min, `must be at least ${BACKUP_RETENTION_DAYS.min} days`).max(BACKUP_RETENTION_DAYS.max, `must be at most ${BACKUP_RETENTION_DAYS.max} days (the RDS limit)`).default(BACKUP_RETENTION_DAYS.min),
    /**
     * The billing image built elsewhere, pinned by digest: <repository>@sha256:<64 hex>. Absent, the
     * program builds billing/Dockerfile and pushes it to the stack's own repository first.
     */
    meteringImage: z
        .string()
        .regex(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._\/-]+@sha256:[a-f0-9]{64}$/, "must be an image referenced by digest (<repository>@sha256:<64 hex digits>), never a tag")
        .optional(),
    /** Cron schedule of the metering job (hourly windows). */
    meteringSchedule: z.string().default("5 * * * *"),
    /** The currency of every price and invoice (ISO 4217). */
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 currency code such as USD").default("USD"),
    /**
     * The price list: per track, GPU model or hosted model, from a day. A change is a new entry from
     * the day it takes effect; entries that took effect stay (they are the price history).
     */
    prices: z.array(priceSchema).default([]),
});

/*
 * Reliability (issue 23): the objectives the region promises, who is told of which alert, and threat
 * detection. Defaults for what a stack leaves out are applied by the program (stacks/reliability.ts),
 * so the cross-key checks see only what the stack file says.
 */

/** The fraction of good events an objective promises, strictly between 0 and 1. */
export const objectiveSchema = z
    .number()
    .gt(0, "must be strictly between 0 and 1 (0.999 is 99.9%)")
    .lt(1, "must be strictly between 0 and 1 (0.999 is 99.9%): an objective of 1 leaves no error budget");

export const sloWindowSchema = z.enum(["28d", "30d"], { message: 'must be "28d" or "30d" (the window an objective is measured over)' });

export const availabilityObjectiveSchema = z.strictObject({
    objective: objectiveSchema,
    /** The window it is measured over (default: compute-region:slos.window). */
    window: sloWindowSchema.optional(),
});

export const latencyObjectiveSchema = z.strictObject({
    objective: objectiveSchema,
    /** A good request stays under this many seconds: one of the histogram's bucket boundaries. */
    thresholdSeconds: z.number().positive(),
    /** Time to the first streamed token (the default) or the whole request, from the gateway's histograms. */
    indicator: z.enum(["timeToFirstToken", "requestDuration"]).default("timeToFirstToken"),
    window: sloWindowSchema.optional(),
});

export const slosSchema = z.strictObject({
    /** The window every objective is measured over unless it names its own. */
    window: sloWindowSchema.default("30d"),
    /** The gateway as a whole (default 99.9% available, 99% of first tokens within 5 s). */
    gateway: z.strictObject({ availability: availabilityObjectiveSchema.optional(), latency: latencyObjectiveSchema.optional() }).optional(),
    /** Per hosted model, by name; a model not listed gets `defaults.model`. */
    models: z.array(z.strictObject({ name: dnsLabel, availability: availabilityObjectiveSchema.optional(), latency: latencyObjectiveSchema.optional() })).default([]),
    /** Per GPU pool that sells GPUs, by name; such a pool not listed gets `defaults.pool`. */
    pools: z.array(z.strictObject({ name: dnsLabel, availability: availabilityObjectiveSchema })).default([]),
    /** What models and pools not listed get (default: 99.9% available and 95% of first tokens within 2.5 s; pools 99%). */
    defaults: z
        .strictObject({
            model: z.strictObject({ availability: availabilityObjectiveSchema.optional(), latency: latencyObjectiveSchema.optional() }).optional(),
            pool: z.strictObject({ availability: availabilityObjectiveSchema }).optional(),
        })
        .optional(),
    /** What a tenant is credited when a hosted model's availability for a month ends below a threshold. */
    credits: z
        .array(z.strictObject({ below: objectiveSchema, percent: z.number().gt(0, "must be more than 0").max(100, "must be at most 100 (percent of the month's charges)") }))
        .default([]),
});

/** A Secrets Manager secret, by name or ARN: read at deploy, never written in the stack file. */
export const secretRefSchema = z
    .string()
    .regex(/^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/, "must be a Secrets Manager secret name or ARN (the value itself never goes in the stack file)");

export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}$/;

export const receiverSchema = z.strictObject({
    /** The receiver's name in Alertmanager and in `teams`. */
    name: dnsLabel,
    /** PagerDuty Events API v2: the routing key from Secrets Manager. Pages. */
    pagerduty: z.strictObject({ routingKeySecret: secretRefSchema }).optional(),
    /** An SNS topic (Alertmanager publishes with its own Pod Identity role). Pages, through whatever the topic fans out to. */
    sns: z.strictObject({ topicArn: z.string().regex(SNS_TOPIC_ARN, "must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)") }).optional(),
    /** A Slack incoming webhook: the URL from Secrets Manager. A ticket, not a page. */
    slack: z.strictObject({ webhookUrlSecret: secretRefSchema, channel: z.string().regex(/^[#@]?[a-z0-9._-]{1,80}$/, "must be a Slack channel such as #gpu-alerts") }).optional(),
    /** Email through an SMTP relay (TLS required); the password from Secrets Manager. A ticket. */
    email: z
        .strictObject({
            to: z.email(),
            from: z.email(),
            smarthost: z.string().regex(/^[a-z0-9.-]+:\d{1,5}$/, "must be host:port of an SMTP relay"),
            username: z.string().min(1).optional(),
            passwordSecret: secretRefSchema.optional(),
        })
        .optional(),
    /**
     * A webhook (a heartbeat service, a ticketing bridge): the URL is plain config and must carry no
     * credential; the Authorization credentials come from Secrets Manager.
     */
    webhook: z
        .strictObject({
            url: z.url({ protocol: /^https$/, message: "must be an https URL (with no credential in it: put that in credentialsSecret)" }),
            credentialsSecret: secretRefSchema.optional(),
            /** The Authorization scheme the credentials are sent with (Opsgenie's heartbeats take GenieKey). */
            credentialsType: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/).default("Bearer"),
        })
        .optional(),
});

export const teamRoutingSchema = z.strictObject({
    /** The receiver critical alerts page. */
    page: dnsLabel.optional(),
    /** The receiver warning and info alerts open a ticket in. */
    ticket: dnsLabel.optional(),
});

const alertDuration = z.string().regex(/^\d+[smh]$/, "must be a duration such as 30s, 5m or 4h");

export const alertingSchema = z.strictObject({
    receivers: z.array(receiverSchema).default([]),
    /** Who is told for each team's alerts. */
    teams: z.strictObject({ capacity: teamRoutingSchema.optional(), serving: teamRoutingSchema.optional(), billing: teamRoutingSchema.optional(), security: teamRoutingSchema.optional() }).default({}),
    /** The receiver the Watchdog alert beats to (a dead man's switch that alarms when the beat stops). */
    heartbeat: dnsLabel.optional(),
    /** Where an alert without a known team goes (default: the capacity team's ticket receiver). */
    defaultReceiver: dnsLabel.optional(),
    timing: z
        .strictObject({ groupWait: alertDuration.default("30s"), groupInterval: alertDuration.default("5m"), pageRepeat: alertDuration.default("4h"), ticketRepeat: alertDuration.default("24h") })
        .default({ groupWait: "30s", groupInterval: "5m", pageRepeat: "4h", ticketRepeat: "24h" }),
});

export const threatDetectionSchema = z.strictObject({
    /** managed: this stack runs GuardDuty for the account's region; central: the security team does, and the stack checks it. */
    mode: z.enum(["managed", "central"]).default("managed"),
    /** central: the detector GuardDuty's administrator runs in this account and region (32 hex digits). */
    detectorId: z.string().regex(/^[0-9a-f]{32}$/, "must be a GuardDuty detector id (32 hex digits)").optional(),
    /** managed: the receiver findings go to (an sns receiver); default the security team's page receiver. */
    findingsReceiver: dnsLabel.optional(),
    /** managed: the least GuardDuty severity routed (1 to 8.9; 4 is Medium). */
    minimumSeverity: z.number().min(1).max(8.9).default(4),
    /** The agent's PriorityClass (the add-on's schema): system-node-critical lets it displace work to run on every node. */
    agentPriorityClass: z.enum(["aws-guardduty-agent.priorityclass", "aws-guardduty-agent.priorityclass-high", "system-cluster-critical", "system-node-critical"]).default("system-node-critical"),
});

/** A fully qualified DNS name (what clients call and the certificate covers). */
export const FQDN = /^(?=.{4,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]{36}$/;

export const gatewaySchema = z.strictObject({
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
    /**
     * Private access over AWS PrivateLink: a VPC endpoint service on an internal NLB in front of the
     * gateway, admitting the principals of tenants[].privateLink; its private DNS name is the hostname.
     */
    privateLink: z
        .strictObject({
            /** Each endpoint connection waits for an operator to accept it (aws ec2 accept-vpc-endpoint-connections). */
            acceptanceRequired: z.boolean().default(true),
        })
        .optional(),
    /** Invocation logs: one JSON line per request (no key, no header that can carry one, no body) in a KMS-encrypted log group. */
    invocationLogs: z
        .strictObject({
            enabled: z.boolean().default(true),
            /** How long the log group keeps them, days. */
            retentionDays: retentionDays.default(365),
        })
        .default({ enabled: true, retentionDays: 365 }),
});

/** Batch inference (models[].batch): where the tenants' JSONL files go and how long they are kept. */
export const batchSchema = z.strictObject({
    /** Days after which input and output objects expire (S3 lifecycle); Bedrock's batch window is a day, results stay for download. */
    objectExpirationDays: z.number().int().min(1).max(365).default(30),
});

/**
 * Tenants with their own limits each take a request and a token rule, and an exclusion from the
 * default rules' selectors: Envoy Gateway allows 128 rules a policy (two are the defaults') and 127
 * header matches besides the default rules' own (8 selectors of 16).
 */
export const MAX_CUSTOM_LIMIT_TENANTS = 63;

export const shardBudgetSchema = z.strictObject({
    /** Shard name: a DNS label (its tenant stacks set compute-region:shard.name to it). */
    name: dnsLabel,
    /** Reserved GPUs per shared pool the shard may sell to its tenants. */
    budget: gpuMap,
});

export const modelSchema = z.strictObject({
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
    weights: s3Prefix("s3://bucket/models/llama/"),
    /** Scaling and alerting targets: waiting requests per replica, and p95 end-to-end latency. */
    targets: z.strictObject({ queueDepth: z.number().int().min(1).default(8), p95LatencySeconds: z.number().positive().default(10) }).default({ queueDepth: 8, p95LatencySeconds: 10 }),
    /** Batch inference on the model's idle serving GPUs, for the tenants granted it (an S3 drop; see compute-region:batch). */
    batch: z
        .strictObject({
            /** Batches of this model that may run at once (each a Job of one replica's GPUs). */
            maxConcurrentJobs: z.number().int().min(1).max(64).default(2),
        })
        .optional(),
});

/**
 * A region (or platform) stack's config, keyed by Pulumi config key, so an error path reads exactly
 * like the key a platform engineer has to fix in `Pulumi.<stack>.yaml`.
 */
export const regionConfigObject = z.strictObject({
    "aws:region": z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as us-east-2"),
    "compute-region:availabilityZones": z.array(z.string()).min(2, "must list at least 2 availability zones (EKS requires subnets in two)"),
    "compute-region:network": networkSchema,
    "compute-region:cluster": clusterSchema,
    "compute-region:gpuPools": z.array(gpuPoolSchema).default([]),
    "compute-region:observability": observabilitySchema.default(OBSERVABILITY_DEFAULTS),
    "compute-region:tenants": z.array(tenantSchema).default([]),
    "compute-region:billing": billingSchema.optional(),
    "compute-region:models": z.array(modelSchema).default([]),
    /** The hosted-model gateway: required once a tenant is granted a model. */
    "compute-region:gateway": gatewaySchema.optional(),
    /** Batch inference's storage, for the models with batch set. */
    "compute-region:batch": batchSchema.default({ objectExpirationDays: 30 }),
    /** region (everything in one stack), or platform (everything but tenants) for a sharded region. */
    "compute-region:layer": z.enum(["region", "platform"]).default("region"),
    /** Platform layer: the tenant shards and the GPUs each may sell per pool. */
    "compute-region:shards": z.array(shardBudgetSchema).default([]),
    /** Service level objectives: what the region promises and is alerted on (issue 23). */
    "compute-region:slos": slosSchema.optional(),
    /** Who is told of which alert: Alertmanager's receivers and routes. */
    "compute-region:alerting": alertingSchema.optional(),
    /** GuardDuty with EKS audit logs and runtime monitoring (default: managed by this stack). */
    "compute-region:threatDetection": threatDetectionSchema.default({ mode: "managed", minimumSeverity: 4, agentPriorityClass: "system-node-critical" }),
});

/** The config key of a region stack's key path: `aws:region` is the region, `compute-region:<key>` is `<key>`. */
export type ConfigField<K> = K extends `${typeof PROJECT}:${infer Key}` ? Key : K extends "aws:region" ? "region" : never;

/** A region stack's validated config keyed by Pulumi config key, as the cross-field checks read it. */
export type NamespacedRegionConfig = z.output<typeof regionConfigObject>;

/**
 * The validated configuration of a region (or a sharded region's platform) stack: the schema's
 * output with each key's namespace dropped, so a new key is written once, in the schema.
 */
export type RegionConfig = { stack: string } & { [K in keyof NamespacedRegionConfig as ConfigField<K>]: NamespacedRegionConfig[K] };

export type TenantConfig = z.output<typeof tenantSchema>;
export type BillingConfig = z.output<typeof billingSchema>;
export type GatewayConfig = z.output<typeof gatewaySchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type GpuPoolConfig = z.output<typeof gpuPoolSchema>;
export type SlosConfig = z.output<typeof slosSchema>;
export type AlertingConfig = z.output<typeof alertingSchema>;
export type ReceiverConfig = z.output<typeof receiverSchema>;
export type ThreatDetectionConfig = z.output<typeof threatDetectionSchema>;

/** Drops each key's namespace: the inverse of the schema's Pulumi config keys. */
export function withoutNamespaces(config: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [key === "aws:region" ? "region" : key.slice(key.indexOf(":") + 1), value]));
}
