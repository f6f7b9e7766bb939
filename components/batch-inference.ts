import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import {
    awsApiPeers,
    BATCH,
    BATCH_PRIORITY_CLASS,
    batchClusterQueue,
    batchModelName,
    batchInputPrefix,
    batchOutputPrefix,
    batchServiceAccount,
    GPU_RESOURCE,
    GpuInstanceType,
    KUEUE_QUEUE_LABEL,
    LABELS,
    MODEL_SERVER_PORT,
    NAMESPACES,
    PlatformAddressing,
    poolCohort,
    poolTaints,
    PRIORITY_TIER_LABEL,
    QUEUE_KIND_LABEL,
    tolerationsFor,
} from "compute-region-policies/model";
import { AWS_CLI_IMAGE } from "./helm";
import { AwsContext, keyPolicy, podIdentityRole } from "./kms";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";
import { platformNamespace } from "./platform-namespace";
import { ModelSpec, s3Location } from "./inference-service";

/** A model with batch inference, and the tenants that may submit batches of it. */
export interface BatchModel {
    model: ModelSpec;
    /** The serving pool's instance type (per-GPU CPU and memory, like the model server). */
    instance: GpuInstanceType;
    /** Batches of this model that may run at once. */
    maxConcurrentJobs: number;
    /** Tenants granted the model, with the AWS principals (in their own accounts) that upload and download. */
    tenants: { name: string; principals: string[] }[];
}

export interface BatchInferenceArgs {
    /** The literal cluster name (names the bucket, key and queues). */
    clusterName: string;
    /** The EKS cluster (Pod Identity associations). */
    eksClusterName: pulumi.Input<string>;
    aws: AwsContext;
    models: BatchModel[];
    /** Days after which input and output objects expire. */
    objectExpirationDays: number;
    /** The region's addresses (AWS API endpoints for the Jobs' egress). */
    addressing: PlatformAddressing;
    /** The batch worker (components/batch/worker.py), mounted into every batch Job. */
    workerSource: string;
    /** What the Kueue objects wait for (the Kueue release). */
    queuesWaitFor: pulumi.Resource[];
    /** What the ScaledJobs wait for: KEDA (its CRDs and the operator's SQS identity). */
    kedaWaitsFor: pulumi.Resource[];
    /** What the PodMonitor waits for: the Prometheus operator's CRDs. */
    monitorWaitsFor: pulumi.Resource[];
    tags: Record<string, string>;
}

/** SQS's limit on a message's invisibility, and how long a batch may wait in the queue. */
const MESSAGE_RETENTION_SECONDS = 4 * 24 * 3600;
/** Attempts of one batch (preemptions count too) before its message goes to the dead-letter queue. */
const MAX_RECEIVES = 5;
/** A batch Job's own deadline: Bedrock's batch window is 24 hours. */
const JOB_DEADLINE_SECONDS = 24 * 3600;
const WORK = "/work";
const WEIGHTS = "/models";

/** The name of a model's batch queue (SQS), the one its ScaledJob watches. */
export function batchQueueName(clusterName: string, model: string): string {
    return `${clusterName}-batch-${model}`;
}

/** The bucket batches are dropped in: one per cluster and account (bucket names are global). */
export function batchBucketName(clusterName: string, accountId: string): string {
    return `${clusterName.toLowerCase().replace(/_/g, "-")}-batch-${accountId}`;
}

/**
 * The batch bucket's policy: TLS only; objects encrypted with the batch key only; each tenant's
 * principals may put inputs under their own models' input prefixes, read their inputs and results,
 * and list their own prefix, nothing else.
 */
export function batchBucketPolicy(arn: string, keyArn: string, models: readonly Pick<BatchModel, "model" | "tenants">[]): Record<string, unknown> {
    const tenants = [...new Map(models.flatMap((m) => m.tenants).map((t) => [t.name, t])).values()].filter((t) => t.principals.length > 0);
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
            { Sid: "OnlyKmsEncryption", Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `${arn}/*`, Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } } },
            { Sid: "OnlyTheBatchKey", Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `${arn}/*`, Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } } },
            ...tenants.flatMap((t) => {
                const granted = models.filter((m) => m.tenants.some((x) => x.name === t.name)).map((m) => m.model.name);
                const sid = t.name.replace(/[^A-Za-z0-9]/g, "");
                return [
                    { Sid: `Tenant${sid}Uploads`, Effect: "Allow", Principal: { AWS: t.principals }, Action: "s3:PutObject", Resource: granted.map((m) => `${arn}/${batchInputPrefix(t.name, m)}*`) },
                    { Sid: `Tenant${sid}Reads`, Effect: "Allow", Principal: { AWS: t.principals }, Action: "s3:GetObject", Resource: granted.flatMap((m) => [`${arn}/${batchInputPrefix(t.name, m)}*`, `${arn}/${batchOutputPrefix(t.name, m)}*`]) },
                    { Sid: `Tenant${sid}Lists`, Effect: "Allow", Principal: { AWS: t.principals }, Action: "s3:ListBucket", Resource: arn, Condition: { StringLike: { "s3:prefix": [`${t.name}/*`] } } },
                ];
            }),
        ],
    };
}

/**
 * Batch inference through an S3 drop (why not the OpenAI /v1/files and /v1/batches API: see the
 * README): a tenant's principals put a JSONL file of OpenAI batch requests under
 * `<tenant>/<model>/input/` in the region's batch bucket; S3 notifies the model's SQS queue; a KEDA
 * ScaledJob starts one Job per message; the Job runs vLLM's batch runner on one replica's GPUs and
 * writes the result to `<tenant>/<model>/output/` under the same name.
 *
 * Everything is encrypted with a customer-managed key (objects, queues); objects expire after the
 * configured days; the bucket admits each tenant's principals to their own prefix only, over TLS, and
 * refuses objects not encrypted with the key. The Jobs are admitted through a per-pool ClusterQueue
 * that holds no GPUs of its own and only borrows what the pool's cohort lends (the serving pool's idle
 * GPUs; dedicated endpoints lend nothing), at a PriorityClass below every tenant's and below the
 * Cluster Autoscaler's expendable cutoff: a batch never adds a node and is preempted first.
 *
 * Options: the Kubernetes provider (`providers`).
 */
export class BatchInference extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** Each model's input prefix pattern, `s3://<bucket>/<tenant>/<model>/input/`. */
    public readonly inputPrefixes: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: BatchInferenceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("BatchInference"), name, {}, componentOptions("BatchInference", opts));
        const { accountId, partition, region } = args.aws;
        const bucketName = accountId.apply((account) => batchBucketName(args.clusterName, account));
        const bucketArn = pulumi.interpolate`arn:${partition}:s3:::${bucketName}`;
        const tenants = [...new Map(args.models.flatMap((m) => m.tenants).map((t) => [t.name, t])).values()];

        // The key: objects (each tenant's principals may use it through S3 for their own prefix only) and queues.
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Batch inference objects and queues of ${args.clusterName}`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi
                    .all([keyPolicy({ accountId, partition, region, allowCloudWatchLogs: false }), bucketArn, region, accountId])
                    .apply(([base, bucket, regionName, account]) => {
                        const policy = JSON.parse(base);
                        policy.Statement.push({
                            Sid: "S3NotifiesEncryptedQueues",
                            Effect: "Allow",
                            Principal: { Service: "s3.amazonaws.com" },
                            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                            Resource: "*",
                            Condition: { ArnEquals: { "aws:SourceArn": bucket }, StringEquals: { "aws:SourceAccount": account } },
                        });
                        for (const t of tenants.filter((x) => x.principals.length > 0)) {
                            policy.Statement.push({
                                Sid: `Tenant${t.name.replace(/[^A-Za-z0-9]/g, "")}ObjectsThroughS3`,
                                Effect: "Allow",
                                Principal: { AWS: t.principals },
                                Action: ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
                                Resource: "*",
                                Condition: { StringEquals: { "kms:ViaService": `s3.${regionName}.amazonaws.com` }, StringLike: { "kms:EncryptionContext:aws:s3:arn": `${bucket}/${t.name}/*` } },
                            });
                        }
                        return JSON.stringify(policy);
                    }),
                tags: { ...args.tags, Name: `${args.clusterName}-batch` },
            },
            { parent: this, protect: true },
        );
        new aws.kms.Alias(`${name}-key`, { name: `alias/${args.clusterName}-batch`, targetKeyId: key.keyId }, { parent: this });
        this.kmsKeyArn = key.arn;

        const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: bucketName, forceDestroy: false, tags: { ...args.tags, Name: `${args.clusterName}-batch` } }, { parent: this, protect: true });
        this.bucketName = bucket.bucket;
        new aws.s3.BucketPublicAccessBlock(`${name}-bucket`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, { parent: this });
        new aws.s3.BucketOwnershipControls(`${name}-bucket`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
        // Per-object encryption context (no bucket key), so the key policy's per-tenant prefix condition holds.
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-bucket`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: false }] },
            { parent: this },
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                rules: [
                    { id: "expire-batches", status: "Enabled", filter: {}, expiration: { days: args.objectExpirationDays }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
                ],
            },
            { parent: this },
        );
        new aws.s3.BucketPolicy(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                policy: pulumi.all([bucketArn, key.arn]).apply(([arn, keyArn]) => JSON.stringify(batchBucketPolicy(arn, keyArn, args.models))),
            },
            { parent: this },
        );

        // One queue a model (S3 notifies it of every tenant's input), with a dead-letter queue.
        const queues = args.models.map((m) => {
            const queueName = batchQueueName(args.clusterName, m.model.name);
            const deadLetter = new aws.sqs.Queue(`${name}-${m.model.name}-dlq`, { name: `${queueName}-failed`, kmsMasterKeyId: key.arn, messageRetentionSeconds: 14 * 24 * 3600, tags: args.tags }, { parent: this });
            const queue = new aws.sqs.Queue(
                `${name}-${m.model.name}-queue`,
                {
                    name: queueName,
                    kmsMasterKeyId: key.arn,
                    visibilityTimeoutSeconds: 900,
                    messageRetentionSeconds: MESSAGE_RETENTION_SECONDS,
                    redrivePolicy: deadLetter.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: MAX_RECEIVES + 1 })),
                    tags: args.tags,
                },
                { parent: this },
            );
            const policy = new aws.sqs.QueuePolicy(
                `${name}-${m.model.name}-queue`,
                {
                    queueUrl: queue.url,
                    policy: pulumi.all([queue.arn, bucketArn, accountId]).apply(([queueArn, bucket, account]) =>
                        JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [
                                {
                                    Sid: "BucketNotifies",
                                    Effect: "Allow",
                                    Principal: { Service: "s3.amazonaws.com" },
                                    Action: "sqs:SendMessage",
                                    Resource: queueArn,
                                    Condition: { ArnEquals: { "aws:SourceArn": bucket }, StringEquals: { "aws:SourceAccount": account } },
                                },
                            ],
                        }),
                    ),
                },
                { parent: this },
            );
            return { m, queue, policy };
        });
        new aws.s3.BucketNotification(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                queues: queues.flatMap(({ m, queue }) =>
                    m.tenants.map((t) => ({ id: `${t.name}-${m.model.name}`, queueArn: queue.arn, events: ["s3:ObjectCreated:*"], filterPrefix: batchInputPrefix(t.name, m.model.name), filterSuffix: BATCH.suffix })),
                ),
            },
            { parent: this, dependsOn: queues.map((q) => q.policy) },
        );
        this.inputPrefixes = Object.fromEntries(args.models.map((m) => [m.model.name, pulumi.interpolate`s3://${bucketName}/<tenant>/${m.model.name}/${BATCH.inputSegment}/`]));

        // The Jobs' namespace: nothing comes in but scrapes; out only DNS, AWS APIs (S3, SQS) and the Pod Identity agent.
        const ns = NAMESPACES.batch;
        const namespace = platformNamespace(`${name}-ns`, { name: ns, kind: "serving", podSecurity: { enforce: "restricted", audit: "restricted", warn: "restricted" } }, { parent: this });
        const inNs = { parent: this, dependsOn: [namespace] };
        const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace: ns }, spec }, inNs);
        const policies = [
            policy("default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
            policy("admit-monitoring", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [namespaceByName(NAMESPACES.monitoring)], ports: [{ protocol: "TCP", port: MODEL_SERVER_PORT }] }] }),
            policy("batch-egress", { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS, { to: awsApiPeers(args.addressing), ports: [{ protocol: "TCP", port: 443 }] }, POD_IDENTITY_AGENT_EGRESS] }),
        ];
        const worker = new k8s.core.v1.ConfigMap(`${name}-worker`, { metadata: { name: BATCH.workerConfigMap, namespace: ns }, data: { [BATCH.workerFile]: args.workerSource } }, inNs);

        new k8s.scheduling.v1.PriorityClass(
            `${name}-priority`,
            {
                metadata: { name: BATCH_PRIORITY_CLASS.name, labels: { [PRIORITY_TIER_LABEL]: BATCH_PRIORITY_CLASS.tier } },
                value: BATCH_PRIORITY_CLASS.value,
                preemptionPolicy: BATCH_PRIORITY_CLASS.preemptionPolicy,
                globalDefault: false,
                description: BATCH_PRIORITY_CLASS.description,
            },
            { parent: this },
        );

        // Per serving pool: a queue with no GPUs of its own, borrowing only, never preempting anything.
        const pools = [...new Set(args.models.map((m) => m.model.pool))];
        const localQueues = new Map<string, pulumi.Resource>();
        for (const pool of pools) {
            const clusterQueue = new k8s.apiextensions.CustomResource(
                `${name}-${pool}-queue`,
                {
                    apiVersion: "kueue.x-k8s.io/v1beta1",
                    kind: "ClusterQueue",
                    metadata: { name: batchClusterQueue(pool), labels: { [QUEUE_KIND_LABEL]: "batch", [LABELS.pool]: pool } },
                    spec: {
                        cohort: poolCohort(pool),
                        namespaceSelector: { matchExpressions: [{ key: LABELS.namespaceName, operator: "In", values: [ns] }] },
                        queueingStrategy: "BestEffortFIFO",
                        resourceGroups: [{ coveredResources: [GPU_RESOURCE], flavors: [{ name: pool, resources: [{ name: GPU_RESOURCE, nominalQuota: 0 }] }] }],
                        preemption: { withinClusterQueue: "Never", reclaimWithinCohort: "Never", borrowWithinCohort: { policy: "Never" } },
                    },
                },
                { parent: this, dependsOn: args.queuesWaitFor },
            );
            localQueues.set(
                pool,
                new k8s.apiextensions.CustomResource(
                    `${name}-${pool}-local`,
                    { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: pool, namespace: ns }, spec: { clusterQueue: batchClusterQueue(pool) } },
                    { parent: this, dependsOn: [...args.queuesWaitFor, namespace, clusterQueue] },
                ),
            );
        }

        // KEDA reads the queues' depth with its operator's own identity (EKS Pod Identity).
        const auth = new k8s.apiextensions.CustomResource(
            `${name}-sqs-auth`,
            { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication", metadata: { name: "batch-sqs", namespace: ns }, spec: { podIdentity: { provider: "aws" } } },
            { parent: this, dependsOn: [namespace, ...args.kedaWaitsFor] },
        );

        for (const { m, queue } of queues) {
            const model = m.model;
            const serviceAccount = batchServiceAccount(model.name);
            const weights = s3Location(model.weights);
            const { association } = podIdentityRole(
                `${name}-${model.name}`,
                {
                    clusterName: args.eksClusterName,
                    namespace: ns,
                    serviceAccount,
                    policy: pulumi.all([partition, bucketArn, queue.arn, key.arn]).apply(([p, arn, queueArn, keyArn]) =>
                        JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [
                                { Sid: "ReadInputs", Effect: "Allow", Action: "s3:GetObject", Resource: m.tenants.map((t) => `${arn}/${batchInputPrefix(t.name, model.name)}*`) },
                                { Sid: "WriteResults", Effect: "Allow", Action: "s3:PutObject", Resource: m.tenants.map((t) => `${arn}/${batchOutputPrefix(t.name, model.name)}*`) },
                                { Sid: "TakeBatches", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], Resource: queueArn },
                                { Sid: "BatchKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: keyArn },
                                { Sid: "ReadWeights", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:${p}:s3:::${weights.bucket}/${weights.prefix}*` },
                                { Sid: "ListWeights", Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:${p}:s3:::${weights.bucket}`, Condition: { StringLike: { "s3:prefix": [`${weights.prefix}*`] } } },
                            ],
                        }),
                    ),
                    tags: args.tags,
                },
                this,
            );
            const sa = new k8s.core.v1.ServiceAccount(`${name}-${model.name}-sa`, { metadata: { name: serviceAccount, namespace: ns } }, inNs);
            const perGpuCpu = Math.floor((m.instance.vcpus / m.instance.gpusPerNode) * 0.8);
            const perGpuMemGiB = Math.floor((m.instance.memoryGiB / m.instance.gpusPerNode) * 0.8);
            const tp = model.gpusPerReplica;
            const resources = { [GPU_RESOURCE]: String(tp), cpu: String(perGpuCpu * tp), memory: `${perGpuMemGiB * tp}Gi` };
            const cacheGB = Math.floor(((m.instance.localNvmeGB * 0.8) / m.instance.gpusPerNode) * tp);
            const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
            const labels = { app: `batch-${model.name}`, [LABELS.model]: model.name, [KUEUE_QUEUE_LABEL]: model.pool };
            new k8s.apiextensions.CustomResource(
                `${name}-${model.name}-jobs`,
                {
                    apiVersion: "keda.sh/v1alpha1",
                    kind: "ScaledJob",
                    metadata: { name: `batch-${model.name}`, namespace: ns, labels: { [LABELS.model]: model.name } },
                    spec: {
                        jobTargetRef: {
                            parallelism: 1,
                            completions: 1,
                            // A failed batch is retried by its message coming back, on a new Job.
                            backoffLimit: 0,
                            activeDeadlineSeconds: JOB_DEADLINE_SECONDS,
                            ttlSecondsAfterFinished: 3600,
                            template: {
                                metadata: { labels },
                                spec: {
                                    serviceAccountName: serviceAccount,
                                    priorityClassName: BATCH_PRIORITY_CLASS.name,
                                    restartPolicy: "Never",
                                    nodeSelector: { [LABELS.pool]: model.pool },
                                    tolerations: tolerationsFor(poolTaints("serving")),
                                    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                                    terminationGracePeriodSeconds: 60,
                                    initContainers: [
                                        {
                                            name: "weights",
                                            image: AWS_CLI_IMAGE,
                                            command: ["sh", "-c", `aws s3 sync ${model.weights} ${WEIGHTS} --only-show-errors`],
                                            env: [{ name: "HOME", value: "/tmp" }],
                                            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "2Gi" } },
                                            securityContext: restricted,
                                            volumeMounts: [{ name: "weights", mountPath: WEIGHTS }, { name: "tmp", mountPath: "/tmp" }],
                                        },
                                    ],
                                    containers: [
                                        {
                                            name: "batch",
                                            image: model.image,
                                            command: ["python3", `/opt/batch/${BATCH.workerFile}`],
                                            env: [
                                                { name: "QUEUE_URL", value: queue.url },
                                                { name: "BUCKET", value: bucket.bucket },
                                                { name: "KMS_KEY_ARN", value: key.arn },
                                                { name: "MODEL_NAME", value: model.name },
                                                { name: "METRICS_MODEL_NAME", value: batchModelName(model.name) },
                                                { name: "TENANTS", value: m.tenants.map((t) => t.name).join(",") },
                                                { name: "WEIGHTS", value: WEIGHTS },
                                                { name: "TENSOR_PARALLEL_SIZE", value: String(tp) },
                                                { name: "MAX_MODEL_LEN", value: String(model.maxModelLength) },
                                                { name: "MAX_RECEIVES", value: String(MAX_RECEIVES) },
                                                { name: "METRICS_PORT", value: String(MODEL_SERVER_PORT) },
                                                { name: "HOME", value: "/tmp" },
                                                { name: "HF_HUB_OFFLINE", value: "1" },
                                                { name: "VLLM_NO_USAGE_STATS", value: "1" },
                                            ],
                                            ports: [{ name: "metrics", containerPort: MODEL_SERVER_PORT, protocol: "TCP" }],
                                            resources: { requests: resources, limits: resources },
                                            securityContext: restricted,
                                            volumeMounts: [
                                                { name: "worker", mountPath: "/opt/batch", readOnly: true },
                                                { name: "weights", mountPath: WEIGHTS, readOnly: true },
                                                { name: "work", mountPath: WORK },
                                                { name: "shm", mountPath: "/dev/shm" },
                                                { name: "tmp", mountPath: "/tmp" },
                                            ],
                                        },
                                    ],
                                    volumes: [
                                        { name: "worker", configMap: { name: BATCH.workerConfigMap } },
                                        { name: "weights", emptyDir: { sizeLimit: `${cacheGB}G` } },
                                        { name: "work", emptyDir: { sizeLimit: "50Gi" } },
                                        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${8 * tp}Gi` } },
                                        { name: "tmp", emptyDir: { sizeLimit: "20Gi" } },
                                    ],
                                },
                            },
                        },
                        pollingInterval: 30,
                        maxReplicaCount: m.maxConcurrentJobs,
                        successfulJobsHistoryLimit: 5,
                        failedJobsHistoryLimit: 5,
                        // Messages in flight are batches being run: each is one Job already.
                        scalingStrategy: { strategy: "accurate" },
                        triggers: [
                            {
                                type: "aws-sqs-queue",
                                authenticationRef: { name: "batch-sqs" },
                                metadata: { queueURL: queue.url, queueLength: "1", awsRegion: region },
                            },
                        ],
                    },
                },
                { parent: this, dependsOn: [...args.kedaWaitsFor, ...policies, auth, worker, sa, association, localQueues.get(model.pool)!] },
            );
        }
        // The batch runners' own metrics (vLLM's, with --enable-metrics): progress and tokens per model.
        new k8s.apiextensions.CustomResource(
            `${name}-metrics`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PodMonitor",
                metadata: { name: "batch", namespace: ns },
                spec: { selector: { matchExpressions: [{ key: LABELS.model, operator: "Exists" }] }, podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }] },
            },
            { parent: this, dependsOn: [namespace, ...args.monitorWaitsFor] },
        );
        this.registerOutputs({ bucketName: this.bucketName, kmsKeyArn: this.kmsKeyArn });
    }
}
