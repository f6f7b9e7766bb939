import type { SampleResource } from "../engine/policy";
import { gatewayParts, gatewaySample } from "./gateway";
import { poolSamples } from "./pools";
import { sample } from "./sample";

/**
 * Samples of the hosted-model tiers: a dedicated endpoint beside the shared model (routes, backends,
 * Services, model servers, keys), a serving pool with batch inference, PrivateLink endpoint services
 * and access-log settings. Each passes every policy; samples change one thing at a time.
 */

const ref = (name: string) => ({ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name });
const server = (name: string, labels: Record<string, string>) =>
    sample("kubernetes:apps/v1:Deployment", name, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "serving", labels },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: "server", image: "vllm/vllm-openai:v0.10.1" }] } } },
    });

export interface DedicatedParts {
    dedicatedRoute: Record<string, any>;
    dedicatedAuth: Record<string, any>;
    dedicatedAiBackend: Record<string, any>;
    dedicatedBackend: Record<string, any>;
    dedicatedService: Record<string, any>;
    sharedAiBackend: Record<string, any>;
    sharedBackend: Record<string, any>;
    sharedService: Record<string, any>;
    globexSecret: Record<string, any>;
}

function dedicatedParts(): DedicatedParts {
    const labels = { "compute-region.io/endpoint": "dedicated", "compute-region.io/tenant": "initech", "compute-region.io/model": "llama" };
    const backend = (name: string, host: string) => ({ apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "Backend", metadata: { name, namespace: "gateway" }, spec: { endpoints: [{ fqdn: { hostname: host, port: 8000 } }] } });
    const aiBackend = (name: string) => ({ apiVersion: "aigateway.envoyproxy.io/v1alpha1", kind: "AIServiceBackend", metadata: { name, namespace: "gateway" }, spec: { schema: { name: "OpenAI" }, backendRef: { group: "gateway.envoyproxy.io", kind: "Backend", name } } });
    const service = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "serving" }, spec: { selector: { app: name }, ports: [{ port: 8000 }] } });
    const globex = gatewayParts().secret;
    globex.metadata = { name: "api-key-globex", namespace: "gateway", labels: { "compute-region.io/tenant": "globex" }, annotations: { "compute-region.io/granted-models": "llama" } };
    globex.stringData = { globex: "[secret]" };
    return {
        dedicatedRoute: {
            apiVersion: "aigateway.envoyproxy.io/v1alpha1",
            kind: "AIGatewayRoute",
            metadata: { name: "dedicated-initech-llama", namespace: "gateway", labels },
            spec: {
                parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "models" }],
                rules: [{ matches: [{ headers: [{ type: "Exact", name: "x-ai-eg-model", value: "initech/llama" }] }], backendRefs: [{ name: "dedicated-initech-llama" }] }],
            },
        },
        dedicatedAuth: {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "SecurityPolicy",
            metadata: { name: "dedicated-initech-llama", namespace: "gateway" },
            spec: {
                targetRefs: [ref("dedicated-initech-llama")],
                apiKeyAuth: { credentialRefs: [{ group: "", kind: "Secret", name: "api-key-initech" }], extractFrom: [{ headers: ["authorization"] }], forwardClientIDHeader: "x-tenant", sanitize: true },
            },
        },
        dedicatedAiBackend: aiBackend("dedicated-initech-llama"),
        dedicatedBackend: backend("dedicated-initech-llama", "dedicated-initech-llama.serving.svc.cluster.local"),
        dedicatedService: service("dedicated-initech-llama"),
        sharedAiBackend: aiBackend("model-llama"),
        sharedBackend: backend("model-llama", "model-llama.serving.svc.cluster.local"),
        sharedService: service("model-llama"),
        globexSecret: globex,
    };
}

/** The gateway sample plus initech's dedicated endpoint of llama, after `change` edits the parts. */
export function dedicatedSample(change: (parts: DedicatedParts) => void = () => {}): SampleResource[] {
    const p = dedicatedParts();
    change(p);
    const gateway = gatewaySample((g) => {
        g.secret.metadata.annotations["compute-region.io/granted-models"] = "initech/llama,llama";
    });
    return [
        ...gateway,
        sample("kubernetes:core/v1:Secret", "key-globex", p.globexSecret),
        sample("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "dedicated-route", p.dedicatedRoute),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "dedicated-auth", p.dedicatedAuth),
        sample("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIServiceBackend", "dedicated-ai-backend", p.dedicatedAiBackend),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:Backend", "dedicated-backend", p.dedicatedBackend),
        sample("kubernetes:core/v1:Service", "dedicated-service", p.dedicatedService),
        server("dedicated-initech-llama", { "compute-region.io/endpoint": "dedicated", "compute-region.io/tenant": "initech", "compute-region.io/model": "llama" }),
        sample("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIServiceBackend", "shared-ai-backend", p.sharedAiBackend),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:Backend", "shared-backend", p.sharedBackend),
        sample("kubernetes:core/v1:Service", "shared-service", p.sharedService),
        server("model-llama", { "compute-region.io/model": "llama" }),
    ];
}

/** A serving pool of two g6e.12xlarge (8 GPUs) whose shared models keep half, with batch inference and a dedicated endpoint. */
export interface BatchParts {
    internal: Record<string, any>;
    dedicated: Record<string, any>;
    batch: Record<string, any>;
    local: Record<string, any>;
    priority: Record<string, any>;
    jobs: Record<string, any>;
}

function batchParts(): BatchParts {
    const queue = (name: string, kind: string, resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
        apiVersion: "kueue.x-k8s.io/v1beta1",
        kind: "ClusterQueue",
        metadata: { name, labels: { "compute-region.io/queue-kind": kind, "compute-region.io/pool": "serving-l40s", ...(kind === "dedicated" ? { "compute-region.io/tenant": "initech" } : {}) } },
        spec: { cohort: "pool-serving-l40s", resourceGroups: [{ coveredResources: ["nvidia.com/gpu"], flavors: [{ name: "serving-l40s", resources: [{ name: "nvidia.com/gpu", ...resource }] }] }], ...extra },
    });
    return {
        internal: queue("internal-serving-l40s", "internal", { nominalQuota: 7, lendingLimit: 7 }, { preemption: { reclaimWithinCohort: "Any", withinClusterQueue: "LowerPriority" } }),
        dedicated: queue("initech-serving-l40s", "dedicated", { nominalQuota: 1, borrowingLimit: 1, lendingLimit: 0 }, { preemption: { reclaimWithinCohort: "Never", withinClusterQueue: "Never" } }),
        batch: queue("batch-serving-l40s", "batch", { nominalQuota: 0 }, { preemption: { reclaimWithinCohort: "Never", withinClusterQueue: "Never", borrowWithinCohort: { policy: "Never" } } }),
        local: { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: "serving-l40s", namespace: "batch-inference" }, spec: { clusterQueue: "batch-serving-l40s" } },
        priority: { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "batch-inference", labels: { "compute-region.io/priority-tier": "batch" } }, value: -100, preemptionPolicy: "Never" },
        jobs: {
            apiVersion: "keda.sh/v1alpha1",
            kind: "ScaledJob",
            metadata: { name: "batch-llama", namespace: "batch-inference" },
            spec: {
                jobTargetRef: {
                    template: {
                        metadata: { labels: { "kueue.x-k8s.io/queue-name": "serving-l40s" } },
                        spec: { priorityClassName: "batch-inference", restartPolicy: "Never", containers: [{ name: "batch", image: "vllm/vllm-openai:v0.10.1", resources: { limits: { "nvidia.com/gpu": "1" } } }] },
                    },
                },
                triggers: [{ type: "aws-sqs-queue", metadata: { queueURL: "https://sqs.us-east-2.amazonaws.com/111122223333/gpu-dev-use2-batch-llama", queueLength: "1" } }],
            },
        },
    };
}

const tenantClasses = [
    sample("kubernetes:scheduling.k8s.io/v1:PriorityClass", "tenant-reserved", { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "tenant-reserved", labels: { "compute-region.io/priority-tier": "tenant" } }, value: 10_000, preemptionPolicy: "Never" }),
    sample("kubernetes:scheduling.k8s.io/v1:PriorityClass", "tenant-spot", { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "tenant-spot", labels: { "compute-region.io/priority-tier": "tenant" } }, value: 1_000, preemptionPolicy: "Never" }),
];

/** A serving pool with a dedicated endpoint's queue and batch inference, after `change` edits the parts. */
export function batchSample(change: (parts: BatchParts) => void = () => {}): SampleResource[] {
    const p = batchParts();
    change(p);
    return [
        poolSamples.nodeGroup("serving-l40s", "serving", "g6e.12xlarge", 2, { maxSize: 3 }),
        poolSamples.flavor("serving-l40s", 0.5),
        sample("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "internal-queue", p.internal),
        sample("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "dedicated-queue", p.dedicated),
        sample("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "batch-queue", p.batch),
        sample("kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", "batch-local", p.local),
        sample("kubernetes:scheduling.k8s.io/v1:PriorityClass", "batch-priority", p.priority),
        ...tenantClasses,
        sample("kubernetes:keda.sh/v1alpha1:ScaledJob", "batch-jobs", p.jobs),
    ];
}

/** A PrivateLink endpoint service with one tenant's account allowed, as separate principal resources or inline. */
export function endpointServiceSample(change: (parts: { service: Record<string, any>; principals: Record<string, any>[] }) => void = () => {}): SampleResource[] {
    const parts = {
        service: { acceptanceRequired: true, networkLoadBalancerArns: ["arn:aws:elasticloadbalancing:us-east-2:111122223333:loadbalancer/net/gpu-dev-use2-pl/0123456789abcdef"], privateDnsName: "models.example.com" },
        principals: [{ vpcEndpointServiceId: "vpce-svc-0123456789abcdef0", principalArn: "arn:aws:iam::777788889999:root" }],
    };
    change(parts);
    return [
        sample("aws:ec2/vpcEndpointService:VpcEndpointService", "privatelink", parts.service),
        ...parts.principals.map((p, i) => sample("aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple", `privatelink-initech-${i}`, p)),
    ];
}

/** The invocation-log EnvoyProxy of the region, after `change` edits its telemetry; with the API-key policy that names the key header. */
export function accessLogSample(change: (telemetry: Record<string, any>) => void = () => {}): SampleResource[] {
    const proxy = gatewayParts().proxy;
    proxy.spec.telemetry = {
        accessLog: {
            settings: [
                {
                    format: {
                        type: "JSON",
                        json: {
                            time: "%START_TIME%",
                            tenant: "%REQ(X-TENANT)%",
                            model: "%REQ(X-AI-EG-MODEL)%",
                            route: "%ROUTE_NAME%",
                            status: "%RESPONSE_CODE%",
                            latency_ms: "%DURATION%",
                            input_tokens: "%DYNAMIC_METADATA(io.envoy.ai_gateway:llm_input_token)%",
                            output_tokens: "%DYNAMIC_METADATA(io.envoy.ai_gateway:llm_output_token)%",
                            request_id: "%REQ(X-REQUEST-ID)%",
                        },
                    },
                    sinks: [{ type: "File", file: { path: "/dev/stdout" } }],
                },
            ],
        },
    };
    change(proxy.spec.telemetry);
    return gatewaySample((g) => (g.proxy = proxy)).filter((r) => r.type === "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy" || r.type === "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy");
}

/** Change samples: a tenant's gateway key Secret in a state, with its PrivateLink principals. */
export function hostedKeySecret(tenant: string, state: "active" | "suspended" | "decommissioned", principals: string[] = []): SampleResource {
    return sample("kubernetes:core/v1:Secret", `key-${tenant}`, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
            name: `api-key-${tenant}`,
            namespace: "gateway",
            labels: { "compute-region.io/tenant": tenant },
            annotations: {
                "compute-region.io/granted-models": "llama",
                "compute-region.io/state": state,
                ...(principals.length > 0 ? { "compute-region.io/privatelink-principals": principals.join(",") } : {}),
            },
        },
        type: "Opaque",
        stringData: { [tenant]: "crk-1" },
    });
}

/** Change samples: a tenant's dedicated model server. */
export function dedicatedServer(tenant: string, model: string, replicas = 1): SampleResource {
    const name = `dedicated-${tenant}-${model}`;
    const labels = { app: name, "compute-region.io/endpoint": "dedicated", "compute-region.io/tenant": tenant, "compute-region.io/model": model };
    return sample("kubernetes:apps/v1:Deployment", name, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "serving", labels },
        spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels }, spec: { containers: [{ name: "server", image: "vllm/vllm-openai:v0.10.1" }] } } },
    });
}

/** Change samples: one principal allowed on the gateway's endpoint service. */
export function allowedPrincipal(tenant: string, principal: string): SampleResource {
    return sample("aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple", `privatelink-${tenant}-${principal.split(":")[4]}`, { vpcEndpointServiceId: "vpce-svc-0123456789abcdef0", principalArn: principal });
}
