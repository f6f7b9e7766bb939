import type { SampleResource } from "../engine/policy";
import { BILLING_REGISTRY, PriceConfig, RegistryDocument, registryText, renderRegistry } from "../model/domain/billing";
import { poolSamples as p } from "./pools";
import { sample } from "./sample";

/**
 * Sample billing resources: a small region's registry (a shared H100 pool where acme holds 8 reserved
 * GPUs and may borrow 4 on spot, a dedicated pool of initech's, initech's hosted model), the
 * ClusterQueues and the gateway grant that sell the same, and the registry ConfigMap. Samples change
 * one thing at a time.
 */
export const PRICES: PriceConfig[] = [
    { track: "reserved", gpuModel: "h100", perGpuHour: 3.1, effectiveFrom: "2026-01-01" },
    { track: "dedicated", gpuModel: "h100", perGpuHour: 3.4, effectiveFrom: "2026-01-01" },
    { track: "spot", gpuModel: "h100", perGpuHour: 1.3, effectiveFrom: "2026-01-01" },
    { track: "hosted", model: "llama", perMillionInputTokens: 0.1, perMillionOutputTokens: 0.2, effectiveFrom: "2026-01-01" },
    { track: "dedicated_endpoint", model: "llama", perReplicaHour: 2.4, effectiveFrom: "2026-01-01" },
    { track: "batch", model: "llama", perMillionInputTokens: 0.05, perMillionOutputTokens: 0.1, effectiveFrom: "2026-01-01" },
];

export interface SampleSales {
    /** acme's reserved and spot GPUs on shared-h100. */
    reserved?: number;
    spot?: number;
    /** initech's states and grants. */
    initechState?: "active" | "suspended" | "decommissioned";
    initechModels?: string[];
    /** initech's dedicated endpoint of llama (replicas) and its batch access to llama: none unless given. */
    initechEndpoint?: number;
    initechBatch?: boolean;
    prices?: PriceConfig[];
}

/** The registry document of the sample region. */
export function sampleRegistry(sales: SampleSales = {}): RegistryDocument {
    return renderRegistry({
        scope: "region",
        currency: "USD",
        prices: sales.prices ?? PRICES,
        pools: [
            { name: "shared-h100", role: "shared", instanceType: "p5.48xlarge", minNodes: 2, maxNodes: 4, headroom: 0.25 },
            { name: "initech-h100", role: "dedicated", tenant: "initech", instanceType: "p5.48xlarge", minNodes: 1, maxNodes: 1 },
        ],
        models: [{ name: "llama", pool: "serving-h100", batch: true }],
        tenants: [
            { name: "acme", state: "active", quota: { "shared-h100": sales.reserved ?? 8 }, spot: { "shared-h100": sales.spot ?? 4 }, models: [] },
            {
                name: "initech",
                state: sales.initechState ?? "active",
                quota: {},
                spot: {},
                models: sales.initechModels ?? ["llama"],
                contract: { discountPercent: 5 },
                ...(sales.initechEndpoint ? { dedicated: [{ model: "llama", replicas: sales.initechEndpoint }] } : {}),
                ...(sales.initechBatch ? { batch: true } : {}),
            },
        ],
    });
}

/** The sample region's registry edited by hand (its ConfigMap changed outside the config): what the registry's own checks catch. */
export function editedRegistry(edit: (doc: RegistryDocument) => void): RegistryDocument {
    const doc = structuredClone(sampleRegistry());
    edit(doc);
    return doc;
}

/** A sharded region's platform registry: its pools and prices, no tenants. */
export function platformRegistry(prices: PriceConfig[] = PRICES): RegistryDocument {
    return { ...sampleRegistry({ prices }), scope: "platform", tenants: [] };
}

export const billingSamples = {
    /** A tenant's ClusterQueue holding `gpus` reserved GPUs on `pool`. */
    queue(name: string, pool: string, gpus: number, tenant: string): SampleResource {
        return p.queue(name, pool, "tenant", { nominal: gpus, borrowingLimit: 0 }, tenant);
    },
    /** A shard's Cohort under a pool, with the GPUs the platform lets it sell. */
    shardCohort(shard: string, pool: string, gpus: number): SampleResource {
        return sample("kubernetes:kueue.x-k8s.io/v1beta1:Cohort", `shard-${shard}-${pool}`, {
            apiVersion: "kueue.x-k8s.io/v1beta1",
            kind: "Cohort",
            metadata: { name: `shard-${shard}-${pool}`, labels: { "compute-region.io/queue-kind": "shard", "compute-region.io/pool": pool, "compute-region.io/shard": shard }, annotations: { "compute-region.io/gpu-budget": String(gpus) } },
            spec: { parentName: `pool-${pool}` },
        });
    },
    /** The registry ConfigMap carrying `doc` (or a text that is not one). */
    registry(doc: RegistryDocument | string): SampleResource {
        return sample("kubernetes:core/v1:ConfigMap", "billing-registry", {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: BILLING_REGISTRY.configMap, namespace: "billing", labels: { [BILLING_REGISTRY.label]: "region" } },
            data: { [BILLING_REGISTRY.key]: typeof doc === "string" ? doc : registryText(doc) },
        });
    },
    /** What the hosted-model tiers sell initech: its dedicated model server of llama (replicas) and the batch bucket's notification of its llama inputs. */
    tierSales(tiers: { replicas?: number; batch?: boolean } = {}): SampleResource[] {
        const labels = { "compute-region.io/endpoint": "dedicated", "compute-region.io/tenant": "initech", "compute-region.io/model": "llama" };
        return [
            ...(tiers.replicas !== undefined
                ? [sample("kubernetes:apps/v1:Deployment", "dedicated-initech-llama", { metadata: { name: "dedicated-initech-llama", namespace: "serving", labels }, spec: { replicas: tiers.replicas, template: { metadata: { labels } } } })]
                : []),
            ...(tiers.batch
                ? [sample("aws:s3/bucketNotification:BucketNotification", "batch-bucket", { bucket: "gpu-dev-use2-batch-111122223333", queues: [{ id: "initech-llama", queueArn: "arn:aws:sqs:us-east-2:111122223333:gpu-dev-use2-batch-llama", events: ["s3:ObjectCreated:*"], filterPrefix: "initech/llama/input/", filterSuffix: ".jsonl" }] })]
                : []),
        ];
    },
    /** What the cluster sells: acme's queue on shared-h100, initech's on its dedicated pool, initech's grant of llama. */
    sales(sales: { reserved?: number; spot?: number; dedicated?: number; models?: string[] } = {}): SampleResource[] {
        const keyed = (sales.models ?? ["llama"]).length > 0;
        return [
            p.queue("acme-shared-h100", "shared-h100", "tenant", { nominal: sales.reserved ?? 8, borrowingLimit: sales.spot ?? 4 }, "acme"),
            p.queue("initech-initech-h100", "initech-h100", "tenant", { nominal: sales.dedicated ?? 8, borrowingLimit: 0 }, "initech"),
            ...(keyed
                ? [
                      sample("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "route-llama", {
                          metadata: { name: "model-llama", namespace: "gateway" },
                          spec: { parentRefs: [{ name: "models" }], rules: [{ matches: [{ headers: [{ type: "Exact", name: "x-ai-eg-model", value: "llama" }] }] }] },
                      }),
                      sample("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "security-llama", {
                          metadata: { name: "model-llama", namespace: "gateway" },
                          spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "model-llama" }], apiKeyAuth: { credentialRefs: [{ group: "", kind: "Secret", name: "api-key-initech" }] } },
                      }),
                      sample("kubernetes:core/v1:Secret", "key-initech", {
                          metadata: { name: "api-key-initech", namespace: "gateway", labels: { "compute-region.io/tenant": "initech" }, annotations: { "compute-region.io/granted-models": (sales.models ?? ["llama"]).join(",") } },
                          type: "Opaque",
                      }),
                  ]
                : []),
        ];
    },
};
