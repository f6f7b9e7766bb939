import { GATEWAY, LABELS } from "./conventions";

/**
 * Names and layouts of the hosted-model tiers beyond shared access: dedicated endpoints, batch
 * inference and invocation logs. The components write them and the policies, alerts and SLOs read
 * them, so a dedicated endpoint is named the same wherever it appears.
 */

/**
 * What a tenant's client sends as `model` to reach its dedicated endpoint of `model`, as Together
 * and Fireworks name dedicated deployments: the account, then the model. It is also the vLLM
 * served-model-name, so the model server's metrics and the gateway's carry the same `model`.
 */
export function dedicatedModelName(tenant: string, model: string): string {
    return `${tenant}/${model}`;
}

/** The Kubernetes name of a dedicated endpoint: its Deployment, Service, route, backend and policies. */
export function dedicatedEndpointName(tenant: string, model: string): string {
    return `dedicated-${tenant}-${model}`;
}

/** The tenant and model a dedicated model name (`tenant/model`) stands for, or undefined for a shared model. */
export function parseDedicatedModelName(name: string): { tenant: string; model: string } | undefined {
    const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(name);
    return m ? { tenant: m[1], model: m[2] } : undefined;
}

/** Label on a dedicated endpoint's objects (Deployment, Service, routes): `dedicated`. Its tenant is in LABELS.tenant, its model in LABELS.model. */
export const ENDPOINT_LABEL = "compute-region.io/endpoint";
export const DEDICATED_ENDPOINT = "dedicated";

/** The LocalQueue (serving namespace) a tenant's dedicated endpoints on a pool are admitted through. */
export function dedicatedLocalQueue(tenant: string, pool: string): string {
    return `dedicated-${tenant}-${pool}`;
}

/** The ClusterQueue holding a tenant's dedicated GPUs on a serving pool: sold capacity, as a tenant queue is named. */
export function dedicatedClusterQueue(tenant: string, pool: string): string {
    return `${tenant}-${pool}`;
}

/**
 * Batch inference through an S3 drop, as Bedrock runs batch jobs from S3: a tenant uploads a JSONL
 * file (one OpenAI batch request a line) under its input prefix, and the result appears under its
 * output prefix with the same name.
 */
export const BATCH = {
    /** The Kueue LocalQueue, in the batch namespace, of each serving pool (named as the pool). */
    inputSegment: "input",
    outputSegment: "output",
    /** Input objects must end so (the S3 event filter's suffix). */
    suffix: ".jsonl",
    /** The ConfigMap holding the batch worker and the key it is mounted at. */
    workerConfigMap: "batch-worker",
    workerFile: "worker.py",
    /** Label on the batch Job pods with the tenant (from the object's prefix) that metering reads. */
    tenantLabel: LABELS.tenant,
} as const;

/**
 * The name batch runs of a model serve under first, so vLLM labels their metrics with it
 * (`model_name`: vllm-project/vllm v0.10.1 vllm/config/__init__.py get_served_model_name takes the
 * first served name): the shared server's autoscaling, alerts and metering never count batch load.
 * Batch requests name the model itself (responses echo the name a request used: serving_engine.py
 * _get_model_name). Tenant names never start with `batch`.
 */
export function batchModelName(model: string): string {
    return `batch/${model}`;
}

/** The prefix under which `tenant` drops batches for `model`. */
export function batchInputPrefix(tenant: string, model: string): string {
    return `${tenant}/${model}/${BATCH.inputSegment}/`;
}

/** The prefix under which `tenant` finds the results of its batches for `model`. */
export function batchOutputPrefix(tenant: string, model: string): string {
    return `${tenant}/${model}/${BATCH.outputSegment}/`;
}

/**
 * Where the result of an input object goes: the same tenant, model and name under the output
 * prefix. Undefined for a key that is not an input object of a tenant and model (the worker refuses
 * those: it never writes outside the tenant's own prefix).
 */
export function batchOutputKey(inputKey: string): string | undefined {
    const m = /^([a-z0-9-]+)\/([a-z0-9-]+)\/input\/([A-Za-z0-9._=-][A-Za-z0-9._=/-]*\.jsonl)$/.exec(inputKey);
    if (!m || m[3].split("/").some((part) => part === "" || part === "." || part === "..")) return undefined;
    return `${batchOutputPrefix(m[1], m[2])}${m[3]}`;
}

/**
 * The usage a batch Job serves once its batch completes (components/batch/worker.py publish_usage),
 * summed from vLLM's output file: gauges labelled tenant, model, batch (one per upload) and type
 * (input, output) or outcome (succeeded, failed). Metering bills each batch once, at the first step
 * its series appears.
 */
export const BATCH_USAGE_METRICS = {
    tokens: "compute_region_batch_tokens",
    requests: "compute_region_batch_requests",
} as const;

/** The service account of a model's batch Jobs (its Pod Identity role reaches only the granted tenants' prefixes of that model). */
export function batchServiceAccount(model: string): string {
    return `batch-${model}`;
}

/**
 * Invocation logs: one JSON line per request, written by the gateway's Envoy to stdout and shipped
 * by the CloudWatch add-on's Fluent Bit to the gateway's own log group. Each field is an Envoy
 * command operator (envoyproxy/envoy v1.37.2, the proxy Envoy Gateway v1.7.3 runs:
 * api/v1alpha1/shared_types.go DefaultEnvoyProxyImage); the token counts are the dynamic metadata
 * the AI Gateway writes for the route's llmRequestCosts (envoyproxy/ai-gateway v0.5.0
 * examples/access-log/basic.yaml). Nothing here reads the Authorization header, any other header
 * that can carry a key, the query string or a body.
 */
export const INVOCATION_LOG_FORMAT: Readonly<Record<string, string>> = {
    time: "%START_TIME%",
    tenant: `%REQ(${GATEWAY.tenantHeader.toUpperCase()})%`,
    model: `%REQ(${GATEWAY.modelHeader.toUpperCase()})%`,
    route: "%ROUTE_NAME%",
    status: "%RESPONSE_CODE%",
    latency_ms: "%DURATION%",
    input_tokens: `%DYNAMIC_METADATA(${GATEWAY.costMetadataNamespace}:llm_input_token)%`,
    output_tokens: `%DYNAMIC_METADATA(${GATEWAY.costMetadataNamespace}:llm_output_token)%`,
    request_id: "%REQ(X-REQUEST-ID)%",
    response_flags: "%RESPONSE_FLAGS%",
};

/** Where the invocation log group of a cluster is. */
export function invocationLogGroupName(clusterName: string): string {
    return `/compute-region/${clusterName}/gateway/invocations`;
}

/** Annotation on a tenant's API-key Secret: the principals its PrivateLink endpoints connect as (the change policy reads whose a principal was). */
export const PRIVATE_LINK_PRINCIPALS_ANNOTATION = "compute-region.io/privatelink-principals";

/** The Fluent Bit tag the gateway's access lines are re-tagged to on their way to the invocation log group. */
export const INVOCATION_LOG_TAG = "gateway-invocations";
