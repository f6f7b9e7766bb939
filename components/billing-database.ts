import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { createHash } from "node:crypto";
import {
    apiServerCidr,
    BACKUP_RETENTION_DAYS,
    BILLING_REGISTRY,
    LABELS,
    meteringRepositoryName,
    NAMESPACES,
    PROMETHEUS,
    PROMETHEUS_URL,
    parseRegistry,
    RegistryDocument,
    registryText,
    STATEMENT_WRITER_RULES,
    TAGS,
    TENANT_BILLING_DB,
    USAGE_STATEMENTS,
    usageStatementCrd,
} from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import type { Migration } from "../billing/migrate";
import { packagedMigrations } from "./package-root";
import { AwsContext, keyPolicy, podIdentityRole } from "./kms";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";

/** What a region's config says of its billing database and metering. */
export interface BillingDatabaseSettings {
    /** RDS instance class, e.g. db.r6g.large. */
    instanceClass: string;
    /**
     * PostgreSQL major version, 16 or later ("16"). Minor versions follow RDS's automatic minor
     * upgrades: a pinned minor would make the next `up` try to go back once AWS upgrades it.
     */
    engineVersion: string;
    /** Storage allocated at creation, GiB. */
    allocatedStorageGiB: number;
    /** The most storage autoscaling may grow it to, GiB. */
    maxAllocatedStorageGiB: number;
    /** Automated backups kept, days (`BACKUP_RETENTION_DAYS`: 14 to 35). */
    backupRetentionDays: number;
    /**
     * The billing image (migrations and metering): an image built elsewhere, by digest
     * (`repository@sha256:...`, never in the repository this component creates, which is empty on a
     * first `up`), or a build of it that this component pushes to that repository first.
     */
    meteringImage?: string;
    /** Or: how to build the billing image, which this component pushes to its repository first. */
    meteringImageBuild?: MeteringImageBuild;
    /** Cron schedule of the metering job. */
    meteringSchedule: string;
}

/** The billing database, its metering and registry Jobs and the billing image. */
export interface BillingDatabaseArgs extends BillingDatabaseSettings {
    /** Fixed cluster name, for resource names. */
    clusterName: string;
    /** The region's VPC (the security groups). */
    vpcId: pulumi.Input<string>;
    /** Isolated subnets (no route out) for the database. */
    isolatedSubnetIds: pulumi.Input<string>[];
    /** CIDRs of the isolated subnets (the pods' egress rule to the database). */
    isolatedSubnetCidrs: string[];
    /** CIDRs of the private subnets (the AWS API interface endpoints live there). */
    privateSubnetCidrs: string[];
    /** The cluster's Service CIDR: the statement Job reaches the API server at its first address. */
    serviceCidr: string;
    /** The cluster security group (pods with their own security groups keep it for in-cluster traffic). */
    clusterSecurityGroupId: pulumi.Input<string>;
    /** The SQL migrations the Job applies (default: the package's billing/migrations). */
    migrations?: Migration[];
    /**
     * The billing registry (what is sold and at what price) as its JSON document (`registryText` of
     * what `renderRegistry` renders from the stack config; checked by `parseRegistry`): the registry
     * Job applies it after the migrations and before metering first runs.
     */
    registry: string;
    /** The EKS cluster (Pod Identity associations). */
    eksClusterName: pulumi.Input<string>;
    /** The account, partition, region and DNS suffix (key policies, Pod Identity roles, endpoints). */
    aws: AwsContext;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
}

interface BillingDatabaseParts {
    registry: RegistryDocument;
    statementWriterRole: k8s.rbac.v1.ClusterRole;
}

/** How to build the billing image: `docker buildx` on the machine that runs `pulumi up`. */
export interface MeteringImageBuild {
    /** The build context (the repository root). */
    context: string;
    /** The Dockerfile, relative to the context. */
    dockerfile: string;
    /** The tag to push: it must change with the sources (the repository's tags are immutable). */
    tag: string;
}

/**
 * How long the migration Job may run, in seconds: scheduling on a system node, attaching the pod's
 * security group (a branch ENI), pulling the image and applying the migrations take a few minutes;
 * ten bound every retry together (activeDeadlineSeconds), and Pulumi's await allows five more.
 */
export const MIGRATION_JOB = { activeDeadlineSeconds: 600, awaitSeconds: 900 } as const;

/** The registry Job runs in the same conditions as the migration Job: the same deadline and await. */
export const REGISTRY_JOB = MIGRATION_JOB;

/** Pods that may reach the database carry this label; a SecurityGroupPolicy gives them the client security group. */
export const DB_CLIENT_LABEL = LABELS.dbClient;

/**
 * The billing database: RDS PostgreSQL in the isolated subnets, encrypted with a customer-managed
 * key (storage, Performance Insights, the master secret), Multi-AZ, backups with point-in-time
 * recovery, deletion protection, a final snapshot, Pulumi protect on the instance and its key, never
 * public, TLS forced by its parameter group, IAM database authentication, and a master password RDS
 * keeps in Secrets Manager (no password is ever a resource input). Only pods labelled as database
 * clients (the migration Job, the registry Job, the metering and statement CronJobs) reach port 5432,
 * through security groups for pods. Also: the ECR repository of the billing image, the migration Job,
 * the registry Job (it applies the registry document, in a ConfigMap, once the migrations are in; a
 * change of the document is a new Job), the metering CronJob, created once the registry is applied,
 * and the tenants' statements: the UsageStatement CRD, the ClusterRole that writes them (bound in each
 * tenant's namespace by the Tenant component, to the statement Job's service account only) and the
 * statement CronJob, which reads each tenant's statement as the tenant's database role and applies it
 * in the tenant's namespace (USAGE_STATEMENTS).
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the migration Job
 * waits for (the system nodes it runs on).
 */
export class BillingDatabase extends pulumi.ComponentResource {
    /** The database's address (host name). */
    public readonly endpoint: pulumi.Output<string>;
    /** The Secrets Manager secret RDS keeps the master password in. */
    public readonly masterSecretArn: pulumi.Output<string>;
    /** The ECR repository of the billing image. */
    public readonly repositoryUrl: pulumi.Output<string>;
    /** The billing image its Jobs run, by digest (a shard's registry Job runs it too). */
    public readonly image: pulumi.Output<string>;
    /** The registry document its registry Job applies. */
    public get registry(): RegistryDocument {
        return partsOf<BillingDatabaseParts>(this).registry;
    }
    /** The ClusterRole that writes UsageStatements: tenants' namespaces bind it to the statement Job's service account. */
    public get statementWriterRole(): k8s.rbac.v1.ClusterRole {
        return partsOf<BillingDatabaseParts>(this).statementWriterRole;
    }

    constructor(name: string, args: BillingDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("BillingDatabase"), name, {}, componentOptions("BillingDatabase", opts));
        const parts = partsOf<BillingDatabaseParts>(this);
        try {
            parts.registry = parseRegistry(args.registry, `BillingDatabase ${name} registry`);
        } catch (e) {
            throw new pulumi.ResourceError((e as Error).message, this);
        }
        const migrations = args.migrations ?? packagedMigrations();
        if (!/^\d+$/.test(args.engineVersion) || Number(args.engineVersion) < 16) {
            throw new pulumi.ResourceError(`BillingDatabase ${name}: engineVersion must be a PostgreSQL major version, 16 or later ("16"), got ${JSON.stringify(args.engineVersion)}: minor versions follow RDS's automatic minor upgrades`, this);
        }
        if ((args.meteringImage === undefined) === (args.meteringImageBuild === undefined)) {
            throw new pulumi.ResourceError(`BillingDatabase ${name}: give exactly one of meteringImage (an image by digest) and meteringImageBuild (a build this component pushes)`, this);
        }
        const major = Number(args.engineVersion);
        if (args.backupRetentionDays < BACKUP_RETENTION_DAYS.min || args.backupRetentionDays > BACKUP_RETENTION_DAYS.max) {
            throw new pulumi.ResourceError(`BillingDatabase ${name}: backupRetentionDays must be ${BACKUP_RETENTION_DAYS.min} to ${BACKUP_RETENTION_DAYS.max}, got ${args.backupRetentionDays}`, this);
        }
        const tags = { ...args.tags, [TAGS.data]: "billing" };
        const identifier = `${args.clusterName}-billing`;

        const key = new aws.kms.Key(
            `${name}-key`,
            { description: `Billing database of ${args.clusterName}: storage, Performance Insights, master secret`, enableKeyRotation: true, deletionWindowInDays: 30, policy: keyPolicy({ ...args.aws, allowCloudWatchLogs: true }), tags },
            { parent: this, protect: true },
        );
        new aws.kms.Alias(`${name}-key`, { name: `alias/${identifier}`, targetKeyId: key.keyId }, { parent: this });

        const clients = new aws.ec2.SecurityGroup(
            `${name}-clients`,
            {
                vpcId: args.vpcId,
                description: "Pods allowed to reach the billing database (security groups for pods)",
                // Nothing connects to the client pods; an explicit empty list (not an unset one, which
                // the provider computes) also lets a preview and its policies know it.
                ingress: [],
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "egress is narrowed by the billing namespace's NetworkPolicies" }],
                tags: { ...tags, Name: `${identifier}-clients` },
            },
            { parent: this },
        );
        const dbGroup = new aws.ec2.SecurityGroup(
            `${name}-db`,
            {
                vpcId: args.vpcId,
                description: "Billing database: PostgreSQL from the billing client pods only",
                ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [clients.id], description: "migration and metering pods" }],
                tags: { ...tags, Name: `${identifier}-db` },
            },
            { parent: this },
        );
        const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.isolatedSubnetIds, description: "Isolated subnets: no route out", tags }, { parent: this });
        const parameters = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                family: `postgres${major}`,
                description: "Billing: TLS only, slow statements logged",
                parameters: [
                    { name: "rds.force_ssl", value: "1" },
                    { name: "log_min_duration_statement", value: "1000" },
                    { name: "log_connections", value: "1" },
                    { name: "log_disconnections", value: "1" },
                    { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
                ],
                tags,
            },
            { parent: this },
        );
        const db = new aws.rds.Instance(
            `${name}-postgres`,
            {
                identifier,
                engine: "postgres",
                engineVersion: args.engineVersion,
                instanceClass: args.instanceClass,
                dbName: "billing",
                username: "billing_admin",
                manageMasterUserPassword: true,
                masterUserSecretKmsKeyId: key.keyId,
                iamDatabaseAuthenticationEnabled: true,
                allocatedStorage: args.allocatedStorageGiB,
                maxAllocatedStorage: args.maxAllocatedStorageGiB,
                storageType: "gp3",
                storageEncrypted: true,
                kmsKeyId: key.arn,
                multiAz: true,
                dbSubnetGroupName: subnets.name,
                vpcSecurityGroupIds: [dbGroup.id],
                publiclyAccessible: false,
                parameterGroupName: parameters.name,
                backupRetentionPeriod: args.backupRetentionDays,
                backupWindow: "03:00-04:00",
                maintenanceWindow: "sun:04:30-sun:05:30",
                copyTagsToSnapshot: true,
                deletionProtection: true,
                skipFinalSnapshot: false,
                finalSnapshotIdentifier: `${identifier}-final`,
                performanceInsightsEnabled: true,
                performanceInsightsKmsKeyId: key.arn,
                performanceInsightsRetentionPeriod: 7,
                enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
                autoMinorVersionUpgrade: true,
                tags,
            },
            { parent: this, protect: true },
        );
        this.endpoint = db.address;
        this.masterSecretArn = db.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? "");

        const repository = new aws.ecr.Repository(
            `${name}-metering-image`,
            {
                name: meteringRepositoryName(args.clusterName),
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
                tags,
            },
            { parent: this },
        );
        this.repositoryUrl = repository.repositoryUrl;
        const built = args.meteringImage === undefined && args.meteringImageBuild ? buildImage(`${name}-metering-build`, args.meteringImageBuild, repository, this) : undefined;
        const image: pulumi.Input<string> = built ? pulumi.interpolate`${repository.repositoryUrl}@${built.digest}` : args.meteringImage!;
        this.image = pulumi.output(image);

        // Pod Identity: the migrator reads the master secret; the registry Job and metering log in with
        // IAM as their own database roles (billing/migrations/0003, 0005).
        const podRole = (suffix: string, policy: pulumi.Input<string>) =>
            podIdentityRole(`${name}-${suffix}`, { clusterName: args.eksClusterName, namespace: NAMESPACES.billing, serviceAccount: suffix, policy, tags, sameName: true }, this).association;
        const dbUser = (user: string) =>
            pulumi.all([db.resourceId, args.aws.region, args.aws.accountId, args.aws.partition]).apply(([resourceId, region, account, partition]) =>
                JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "rds-db:connect", Resource: `arn:${partition}:rds-db:${region}:${account}:dbuser:${resourceId}/${user}` }] }),
            );
        const migratorIdentity = podRole(
            "billing-migrator",
            pulumi.all([this.masterSecretArn, key.arn]).apply(([secret, keyArn]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secret },
                        { Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn },
                    ],
                }),
            ),
        );
        const meteringIdentity = podRole("metering", dbUser("metering"));
        const registryIdentity = podRole("billing-registry", dbUser("registry"));
        const statementsIdentity = podRole(USAGE_STATEMENTS.serviceAccount, dbUser(TENANT_BILLING_DB.statementsRole));

        const ns = platformNamespace(`${name}-ns`, { name: NAMESPACES.billing, kind: "platform", podSecurity: { enforce: "restricted", warn: "restricted" } }, { parent: this });
        const inNs = { parent: this, dependsOn: [ns] };
        // A pod this selects gets a branch ENI with only these groups: the clients group (the only one the
        // database admits) and the cluster security group, which the nodes running CoreDNS and Prometheus
        // carry and which admits only its own members. It applies to pods created after it (the VPC
        // resource controller's webhook gives a pod its branch ENI at admission), so the Job and the
        // CronJob wait for it.
        const dbClients = new k8s.apiextensions.CustomResource(
            `${name}-db-clients`,
            {
                apiVersion: "vpcresources.k8s.aws/v1beta1",
                kind: "SecurityGroupPolicy",
                metadata: { name: "billing-db-clients", namespace: NAMESPACES.billing },
                spec: { podSelector: { matchLabels: { [DB_CLIENT_LABEL]: "true" } }, securityGroups: { groupIds: [clients.id, args.clusterSecurityGroupId] } },
            },
            inNs,
        );
        const netpol = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${suffix}`, { metadata: { name: suffix, namespace: NAMESPACES.billing }, spec }, inNs);
        const denyAll = netpol("default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const clientEgress = netpol("db-clients-egress", {
            podSelector: { matchLabels: { [DB_CLIENT_LABEL]: "true" } },
            policyTypes: ["Egress"],
            egress: [
                DNS_EGRESS,
                { to: args.isolatedSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 5432 }] },
                { to: args.privateSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 443 }] },
                POD_IDENTITY_AGENT_EGRESS,
                { to: [namespaceByName(NAMESPACES.monitoring)], ports: [{ protocol: "TCP", port: PROMETHEUS.port }] },
            ],
        });
        for (const sa of ["billing-migrator", "billing-registry", "metering", USAGE_STATEMENTS.serviceAccount]) {
            new k8s.core.v1.ServiceAccount(`${name}-${sa}-sa`, { metadata: { name: sa, namespace: NAMESPACES.billing } }, inNs);
        }

        const migrationsMap = new k8s.core.v1.ConfigMap(
            `${name}-migrations`,
            { metadata: { name: "billing-migrations", namespace: NAMESPACES.billing }, data: Object.fromEntries(migrations.map((m) => [`${String(m.version).padStart(4, "0")}_${m.name}.sql`, m.sql])) },
            inNs,
        );
        const digest = createHash("sha256").update(migrations.map((m) => m.checksum).join()).digest("hex").slice(0, 10);
        const target: BillingPodTarget = { image, databaseHost: db.address };
        const podSpec = (serviceAccountName: string, command: string[], extraEnv: { name: string; value: pulumi.Input<string> }[], volumes: k8s.types.input.core.v1.Volume[] = [], mounts: k8s.types.input.core.v1.VolumeMount[] = []) =>
            billingPodSpec(target, { serviceAccountName, command, env: extraEnv, volumes, mounts });
        const migrateJob = new k8s.batch.v1.Job(
            `${name}-migrate`,
            {
                metadata: { name: `billing-migrate-${digest}`, namespace: NAMESPACES.billing },
                spec: {
                    backoffLimit: 3,
                    activeDeadlineSeconds: MIGRATION_JOB.activeDeadlineSeconds,
                    ttlSecondsAfterFinished: 7 * 24 * 3600,
                    template: {
                        metadata: { labels: { [DB_CLIENT_LABEL]: "true", app: "billing-migrate" } },
                        spec: podSpec("billing-migrator", ["migrate", "--dir", "/migrations"], [{ name: "PGUSER", value: "billing_admin" }, { name: "PGPASSWORD_SECRET_ARN", value: this.masterSecretArn }], [{ name: "migrations", configMap: { name: "billing-migrations" } }], [{ name: "migrations", mountPath: "/migrations", readOnly: true }]),
                    },
                },
            },
            {
                ...inNs,
                // Its pods need their security group (given only at pod creation), their NetworkPolicies
                // (the strict CNI), their image and a system node.
                dependsOn: [ns, migrationsMap, db, dbClients, denyAll, clientEgress, migratorIdentity, ...(built ? [built] : []), ...dependsOnOf(opts)],
                customTimeouts: { create: `${MIGRATION_JOB.awaitSeconds}s`, update: `${MIGRATION_JOB.awaitSeconds}s` },
            },
        );

        // The registry: the document the program rendered from the config, applied by a Job named by
        // its hash, so a changed document (a price, a tenant's commitments) is a new Job that runs once.
        const { job: registryJob } = registrySync(
            `${name}-registry`,
            { target, text: registryText(parts.registry), scope: parts.registry.scope, dependsOn: [migrateJob, registryIdentity, dbClients, denyAll, clientEgress] },
            { parent: this, dependsOn: [ns] },
        );
        new k8s.batch.v1.CronJob(
            `${name}-metering`,
            billingCronJob({
                name: "metering",
                schedule: args.meteringSchedule,
                app: "metering",
                pod: podSpec("metering", ["meter", "--windows", "3"], [{ name: "PGUSER", value: "metering" }, { name: "PGIAMAUTH", value: "true" }, { name: "PROMETHEUS_URL", value: PROMETHEUS_URL }]),
            }),
            // Created once the registry is applied: its first run meters tenants the database knows.
            { ...inNs, dependsOn: [ns, dbClients, denyAll, clientEgress, meteringIdentity, registryJob, ...(built ? [built] : [])] },
        );

        // Tenants' statements: the objects they read, who writes them, and the Job that does.
        const crd = new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-usage-statements`, usageStatementCrd(), { parent: this });
        parts.statementWriterRole = new k8s.rbac.v1.ClusterRole(
            `${name}-statement-writer`,
            { metadata: { name: USAGE_STATEMENTS.writerRole }, rules: STATEMENT_WRITER_RULES },
            { parent: this, dependsOn: [crd] },
        );
        // Its only way out besides the database's: the API server, where it applies the statements.
        const apiEgress = netpol("statements-egress", {
            podSelector: { matchLabels: { app: USAGE_STATEMENTS.app } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: apiServerCidr(args.serviceCidr) } }], ports: [{ protocol: "TCP", port: 443 }] }],
        });
        new k8s.batch.v1.CronJob(
            `${name}-statements`,
            billingCronJob({
                name: USAGE_STATEMENTS.cronJob,
                schedule: USAGE_STATEMENTS.schedule,
                app: USAGE_STATEMENTS.app,
                activeDeadlineSeconds: 1800,
                pod: podSpec(USAGE_STATEMENTS.serviceAccount, ["publish-statements"], [
                    { name: "PGUSER", value: TENANT_BILLING_DB.statementsRole },
                    { name: "PGIAMAUTH", value: "true" },
                ]),
            }),
            // Its tenants' roles exist once the registry is applied (the migration makes them for tenants already listed).
            { ...inNs, dependsOn: [ns, dbClients, denyAll, clientEgress, apiEgress, statementsIdentity, registryJob, crd, this.statementWriterRole, ...(built ? [built] : [])] },
        );
        this.registerOutputs({ endpoint: this.endpoint, repositoryUrl: this.repositoryUrl, image: this.image });
    }
}

/**
 * A billing CronJob (metering, statements): never two runs at once, a missed start given up after ten
 * minutes, a run retried twice, its pods database clients (the label the database's ingress admits).
 */
function billingCronJob(job: {
    name: string;
    schedule: pulumi.Input<string>;
    app: string;
    pod: k8s.types.input.core.v1.PodSpec;
    activeDeadlineSeconds?: number;
}): k8s.batch.v1.CronJobArgs {
    return {
        metadata: { name: job.name, namespace: NAMESPACES.billing },
        spec: {
            schedule: job.schedule,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 5,
            jobTemplate: {
                spec: {
                    backoffLimit: 2,
                    ...(job.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: job.activeDeadlineSeconds }),
                    template: { metadata: { labels: { [DB_CLIENT_LABEL]: "true", app: job.app } }, spec: job.pod },
                },
            },
        },
    };
}

/** Where a billing pod runs: the billing image (by digest) and the database's address. */
export interface BillingPodTarget {
    image: pulumi.Input<string>;
    databaseHost: pulumi.Input<string>;
}

/**
 * The pod of a billing Job or CronJob: the billing image on a system node, as user 1000 with a
 * read-only root file system and no capabilities, connecting to the database over TLS (the RDS CA
 * bundle in the image); `env` adds the role to log in as and its credentials.
 */
export function billingPodSpec(
    target: BillingPodTarget,
    pod: { serviceAccountName: string; command: string[]; env: { name: string; value: pulumi.Input<string> }[]; volumes?: k8s.types.input.core.v1.Volume[]; mounts?: k8s.types.input.core.v1.VolumeMount[] },
) {
    return {
        serviceAccountName: pod.serviceAccountName,
        restartPolicy: "Never",
        ...ON_SYSTEM_NODES,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
        volumes: [{ name: "tmp", emptyDir: {} }, ...(pod.volumes ?? [])],
        containers: [
            {
                name: "billing",
                image: target.image,
                command: ["node", "bin/billing/cli.js", ...pod.command],
                env: [
                    { name: "PGHOST", value: target.databaseHost },
                    { name: "PGPORT", value: "5432" },
                    { name: "PGDATABASE", value: "billing" },
                    { name: "PGSSLROOTCERT", value: "/etc/ssl/rds/global-bundle.pem" },
                    ...pod.env,
                ],
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...(pod.mounts ?? [])],
            },
        ],
    };
}

/** The ConfigMap of a registry scope: `billing-registry`, or `billing-registry-shard-<name>` for a shard's. */
export function registryConfigMapName(scope: string): string {
    return scope.startsWith("shard:") ? `${BILLING_REGISTRY.configMap}-shard-${scope.slice("shard:".length)}` : BILLING_REGISTRY.configMap;
}

/**
 * A registry document in its ConfigMap and the Job that applies it (`cli.js sync`, as the database's
 * `registry` role through the `billing-registry` service account's Pod Identity association), named
 * by the document's hash so that a changed document is a new Job that runs once. Bounded and awaited
 * like the migration Job; `dependsOn` names what its pods need first (the migrations, their
 * security group policy and NetworkPolicies, the association).
 */
export function registrySync(
    name: string,
    args: { target: BillingPodTarget; text: pulumi.Input<string>; scope: string; dependsOn: pulumi.Input<pulumi.Resource>[] },
    opts: pulumi.CustomResourceOptions,
): { configMap: k8s.core.v1.ConfigMap; job: k8s.batch.v1.Job } {
    const mapName = registryConfigMapName(args.scope);
    const configMap = new k8s.core.v1.ConfigMap(
        name,
        { metadata: { name: mapName, namespace: NAMESPACES.billing, labels: { [BILLING_REGISTRY.label]: args.scope.replace(":", ".") } }, data: { [BILLING_REGISTRY.key]: args.text } },
        opts,
    );
    const jobName = pulumi.output(args.text).apply((text) => `${mapName}-${createHash("sha256").update(text).digest("hex").slice(0, 10)}`);
    const job = new k8s.batch.v1.Job(
        `${name}-sync`,
        {
            metadata: { name: jobName, namespace: NAMESPACES.billing },
            spec: {
                backoffLimit: 3,
                activeDeadlineSeconds: REGISTRY_JOB.activeDeadlineSeconds,
                ttlSecondsAfterFinished: 7 * 24 * 3600,
                template: {
                    metadata: { labels: { [DB_CLIENT_LABEL]: "true", app: "billing-registry" } },
                    spec: billingPodSpec(args.target, {
                        serviceAccountName: "billing-registry",
                        command: ["sync", "--registry", `/registry/${BILLING_REGISTRY.key}`],
                        env: [
                            { name: "PGUSER", value: "registry" },
                            { name: "PGIAMAUTH", value: "true" },
                        ],
                        volumes: [{ name: "registry", configMap: { name: mapName } }],
                        mounts: [{ name: "registry", mountPath: "/registry", readOnly: true }],
                    }),
                },
            },
        },
        {
            ...opts,
            dependsOn: [...((opts.dependsOn as pulumi.Input<pulumi.Resource>[] | undefined) ?? []), configMap, ...args.dependsOn],
            customTimeouts: { create: `${REGISTRY_JOB.awaitSeconds}s`, update: `${REGISTRY_JOB.awaitSeconds}s` },
        },
    );
    return { configMap, job };
}

/** Builds the billing image for the system nodes (x86_64) and pushes it to the repository. */
function buildImage(name: string, build: MeteringImageBuild, repository: aws.ecr.Repository, parent: pulumi.Resource): dockerBuild.Image {
    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent });
    return new dockerBuild.Image(
        name,
        {
            context: { location: build.context },
            dockerfile: { location: `${build.context}/${build.dockerfile}` },
            platforms: ["linux/amd64"],
            push: true,
            registries: [{ address: repository.repositoryUrl, username: token.userName, password: pulumi.secret(token.password) }],
            tags: [pulumi.interpolate`${repository.repositoryUrl}:${build.tag}`],
        },
        { parent },
    );
}
