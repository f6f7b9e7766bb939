import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import {
    DEDICATED_ENDPOINT,
    dedicatedEndpointName,
    dedicatedLocalQueue,
    dedicatedModelName,
    ENDPOINT_LABEL,
    GPU_RESOURCE,
    GpuInstanceType,
    KUEUE_QUEUE_LABEL,
    LABELS,
    MODEL_SERVER_PORT,
    NAMESPACES,
    PRIORITY_CLASS,
    poolTaints,
    tolerationsFor,
} from "compute-region-policies/model";
import { AWS_CLI_IMAGE } from "./helm";
import { podIdentityRole } from "./kms";
import { dependsOnOf } from "./options";

/** A hosted model as the server needs it. */
/** How many replicas KEDA scales a model between. */
export interface ModelReplicas {
    /** Fewest replicas. */
    min: number;
    /** Most replicas. */
    max: number;
}

/** A model's scaling and alerting targets. */
export interface ModelTargets {
    /** Waiting requests per replica that make KEDA add one. */
    queueDepth: number;
    /** The p95 end-to-end latency the alerts hold it to, seconds. */
    p95LatencySeconds: number;
}

/** A hosted model: what it serves and on which pool. */
export interface ModelSpec {
    /** The name clients ask for (vLLM's served model name). */
    name: string;
    /** The serving image, pinned by tag or digest. */
    image: string;
    /** The serving pool it runs on (node label, taint and Kueue queue). */
    pool: string;
    /** GPUs per replica: the tensor-parallel size. */
    gpusPerReplica: number;
    /** Replicas KEDA scales between. */
    replicas: ModelReplicas;
    /** vLLM --max-model-len. */
    maxModelLength: number;
    /** The weights' S3 prefix (s3://bucket/prefix/). */
    weights: string;
    /** Waiting requests per replica that make KEDA add one, and the p95 latency the alerts hold it to. */
    targets: ModelTargets;
}

export interface InferenceServiceArgs {
    /** The model to serve. */
    model: ModelSpec;
    /** The serving pool's instance type (per-GPU CPU, memory and NVMe shares). */
    instance: GpuInstanceType;
    /** The cluster (Pod Identity association). */
    clusterName: pulumi.Input<string>;
    /** Prometheus, for KEDA's queue-depth trigger. */
    prometheusUrl: string;
    partition: pulumi.Input<string>;
    /**
     * What the model server's pods need before the Deployment is created: its pool's node group, the
     * device plugin that advertises the GPUs, Kueue (its webhooks intercept the Deployment and its
     * pods, failing closed) and the pool's queue, and the serving namespace's NetworkPolicies.
     */
    podsWaitFor: pulumi.Resource[];
    /** What the ServiceMonitor needs: the release that installs the Prometheus operator's CRDs. */
    monitorWaitsFor: pulumi.Resource[];
    tags: Record<string, string>;
    /**
     * A tenant's dedicated endpoint of the model instead of the shared server: fixed replicas (no
     * autoscaling), served as `<tenant>/<model>` and admitted through the tenant's dedicated queue.
     */
    dedicated?: DedicatedTo;
}

/** The tenant a dedicated model server belongs to. */
export interface DedicatedTo {
    tenant: string;
    /** Replicas the tenant bought. */
    replicas: number;
    /** Only an active tenant's replicas run; a suspended tenant's endpoint is kept at zero. */
    active: boolean;
}

const PORT = MODEL_SERVER_PORT;

/**
 * How long one model server may take to become ready, in seconds: pulling the serving image (10 min
 * allowed: vLLM images are about 10 GB), copying the weights from S3 to the node (15 min allowed),
 * then loading them, which the startup probe allows 30 minutes. Rollouts replace one replica at a
 * time (maxSurge 1, maxUnavailable 0), so an update may take that once per replica.
 */
export const MODEL_SERVER_START = { imagePullSeconds: 600, weightsCopySeconds: 900, startupProbe: { periodSeconds: 10, failureThreshold: 180 } } as const;

export function modelServerReadySeconds(): number {
    const { imagePullSeconds, weightsCopySeconds, startupProbe } = MODEL_SERVER_START;
    return imagePullSeconds + weightsCopySeconds + startupProbe.periodSeconds * startupProbe.failureThreshold;
}
const WEIGHTS = "/models";

/** S3 bucket and key prefix of an s3://bucket/prefix/ URI. */
export function s3Location(uri: string): { bucket: string; prefix: string } {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    if (!m) throw new Error(`not an S3 URI: ${uri}`);
    return { bucket: m[1], prefix: m[2] };
}

/** The vLLM server's arguments for a model whose weights are at `path`. */
export function vllmArgs(model: Pick<ModelSpec, "name" | "gpusPerReplica" | "maxModelLength">, path: string): string[] {
    return [
        "--model", path,
        "--served-model-name", model.name,
        "--tensor-parallel-size", String(model.gpusPerReplica),
        "--max-model-len", String(model.maxModelLength),
        "--port", String(PORT),
        "--disable-log-requests",
    ];
}

/**
 * One hosted model: a vLLM Deployment on the serving pool (its node label and taint, the serving
 * PriorityClass, its Kueue queue) with whole GPUs requested equal to limits; /dev/shm in memory for
 * tensor parallelism; weights copied once from S3 into a cache on the node's NVMe (a container
 * restart reuses it) by a role that can read only the model's prefix; probes that wait minutes for
 * a model to load; rolling updates that never drop below the minimum; a PodDisruptionBudget; spread
 * across nodes and AZs; no privilege and a read-only root filesystem; a Service, a ServiceMonitor,
 * and KEDA scaling on the server's waiting-request count from Prometheus, bounded by min and max.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the Kubernetes
 * objects wait for (the serving namespace, KEDA's and the Prometheus operator's CRDs).
 */
export class InferenceService extends pulumi.ComponentResource {
    public readonly serviceName: string;

    constructor(name: string, args: InferenceServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("InferenceService"), name, {}, componentOptions("InferenceService", opts));
        const { model, instance, dedicated } = args;
        const ns = NAMESPACES.serving;
        const app = dedicated ? dedicatedEndpointName(dedicated.tenant, model.name) : `model-${model.name}`;
        const servedName = dedicated ? dedicatedModelName(dedicated.tenant, model.name) : model.name;
        const queue = dedicated ? dedicatedLocalQueue(dedicated.tenant, model.pool) : model.pool;
        const replicas = dedicated ? (dedicated.active ? dedicated.replicas : 0) : model.replicas.min;
        this.serviceName = app;
        const tp = model.gpusPerReplica;
        if (instance.gpusPerNode % tp !== 0) throw new pulumi.ResourceError(`InferenceService ${name}: gpusPerReplica ${tp} does not divide the ${instance.gpusPerNode} GPUs of a node`, this);
        const { bucket, prefix } = s3Location(model.weights);

        podIdentityRole(
            `${name}-weights`,
            {
                clusterName: args.clusterName,
                namespace: ns,
                serviceAccount: app,
                policy: pulumi.output(args.partition).apply((partition) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:${partition}:s3:::${bucket}/${prefix}*` },
                            { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:${partition}:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } } },
                        ],
                    }),
                ),
                tags: args.tags,
                sameName: true,
            },
            this,
        );
        const opts0 = { parent: this, dependsOn: dependsOnOf(opts) };
        new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { name: app, namespace: ns } }, opts0);

        const labels = { app, [LABELS.model]: model.name, ...(dedicated ? { [LABELS.tenant]: dedicated.tenant, [ENDPOINT_LABEL]: DEDICATED_ENDPOINT } : {}) };
        const perGpuCpu = Math.floor((instance.vcpus / instance.gpusPerNode) * 0.8);
        const perGpuMemGiB = Math.floor((instance.memoryGiB / instance.gpusPerNode) * 0.8);
        const resources = { [GPU_RESOURCE]: String(tp), cpu: String(perGpuCpu * tp), memory: `${perGpuMemGiB * tp}Gi` };
        const cacheGB = Math.floor(((instance.localNvmeGB * 0.8) / instance.gpusPerNode) * tp);
        const restricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
        const probe = (periodSeconds: number, failureThreshold: number) => ({ httpGet: { path: "/health", port: PORT }, periodSeconds, failureThreshold, timeoutSeconds: 5 });

        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: app, namespace: ns, labels: { ...labels, [KUEUE_QUEUE_LABEL]: queue } },
                spec: {
                    replicas,
                    selector: { matchLabels: labels },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: { labels: { ...labels, [KUEUE_QUEUE_LABEL]: queue } },
                        spec: {
                            serviceAccountName: app,
                            priorityClassName: PRIORITY_CLASS.serving,
                            nodeSelector: { [LABELS.pool]: model.pool },
                            tolerations: tolerationsFor(poolTaints("serving")),
                            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                            topologySpreadConstraints: [
                                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } },
                                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } },
                            ],
                            terminationGracePeriodSeconds: 120,
                            initContainers: [
                                {
                                    name: "weights",
                                    image: AWS_CLI_IMAGE,
                                    // A restarted container finds the cache complete and downloads nothing.
                                    command: ["sh", "-c", `test -f ${WEIGHTS}/.complete || (aws s3 sync ${model.weights} ${WEIGHTS} --only-show-errors && touch ${WEIGHTS}/.complete)`],
                                    env: [{ name: "HOME", value: "/tmp" }],
                                    resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "4", memory: "2Gi" } },
                                    securityContext: restricted,
                                    volumeMounts: [{ name: "weights", mountPath: WEIGHTS }, { name: "tmp", mountPath: "/tmp" }],
                                },
                            ],
                            containers: [
                                {
                                    name: "server",
                                    image: model.image,
                                    args: vllmArgs({ ...model, name: servedName }, WEIGHTS),
                                    ports: [{ name: "http", containerPort: PORT }],
                                    env: [{ name: "HOME", value: "/tmp" }, { name: "HF_HUB_OFFLINE", value: "1" }, { name: "VLLM_NO_USAGE_STATS", value: "1" }],
                                    resources: { requests: resources, limits: resources },
                                    // Loading a large model takes minutes: startup allows 30 before liveness applies.
                                    startupProbe: probe(MODEL_SERVER_START.startupProbe.periodSeconds, MODEL_SERVER_START.startupProbe.failureThreshold),
                                    readinessProbe: probe(10, 3),
                                    livenessProbe: probe(20, 3),
                                    securityContext: restricted,
                                    volumeMounts: [
                                        { name: "weights", mountPath: WEIGHTS, readOnly: true },
                                        { name: "shm", mountPath: "/dev/shm" },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                // emptyDir lives on the kubelet's disk, the node's NVMe RAID0.
                                { name: "weights", emptyDir: { sizeLimit: `${cacheGB}G` } },
                                { name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${8 * tp}Gi` } },
                                { name: "tmp", emptyDir: { sizeLimit: "20Gi" } },
                            ],
                        },
                    },
                },
            },
            {
                ...opts0,
                dependsOn: [...opts0.dependsOn, ...args.podsWaitFor],
                // Pulumi's default await (10 min) cannot cover a GPU server's start: see MODEL_SERVER_START.
                customTimeouts: { create: `${modelServerReadySeconds()}s`, update: `${modelServerReadySeconds() * Math.max(1, replicas)}s` },
            },
        );
        // One replica at a time may be evicted: minAvailable equal to the replicas would block every
        // node drain (a node group update fails with PodEvictionFailure).
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: { name: app, namespace: ns }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } }, opts0);
        new k8s.core.v1.Service(`${name}-svc`, { metadata: { name: app, namespace: ns, labels }, spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: PORT, targetPort: PORT }] } }, opts0);
        new k8s.apiextensions.CustomResource(
            `${name}-monitor`,
            { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: app, namespace: ns }, spec: { selector: { matchLabels: labels }, endpoints: [{ port: "http", path: "/metrics", interval: "15s" }] } },
            { ...opts0, dependsOn: [...opts0.dependsOn, ...args.monitorWaitsFor] },
        );
        // A dedicated endpoint keeps the replicas its tenant bought: no autoscaling.
        if (!dedicated) new k8s.apiextensions.CustomResource(
            `${name}-autoscale`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "ScaledObject",
                metadata: { name: app, namespace: ns },
                spec: {
                    scaleTargetRef: { name: app },
                    minReplicaCount: model.replicas.min,
                    maxReplicaCount: model.replicas.max,
                    pollingInterval: 15,
                    cooldownPeriod: 600,
                    triggers: [{ type: "prometheus", metadata: { serverAddress: args.prometheusUrl, query: `sum(vllm:num_requests_waiting{model_name="${servedName}"})`, threshold: String(model.targets.queueDepth) } }],
                },
            },
            opts0,
        );
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
