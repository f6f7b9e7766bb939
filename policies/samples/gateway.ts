import type { SampleResource } from "../engine/policy";
import { sample } from "./sample";

/**
 * A hosted-model gateway that passes every gateway policy: one Gateway behind a TLS NLB, one model
 * route whose SecurityPolicy takes the granted tenant's key, the tenant's key Secret, the client
 * header strip and the tenant's limits. Samples change one thing at a time.
 */
export interface GatewayParts {
    route: Record<string, any>;
    security: Record<string, any>;
    secret: Record<string, any>;
    clientTraffic: Record<string, any>;
    limits: Record<string, any>;
    proxy: Record<string, any>;
    gateway: Record<string, any>;
    gatewayClass: Record<string, any>;
}

const gatewayRef = { group: "gateway.networking.k8s.io", kind: "Gateway", name: "models" };

export function gatewayParts(): GatewayParts {
    const tenantRule = (extra: Record<string, unknown>) => ({ clientSelectors: [{ headers: [{ name: "x-tenant", type: "Exact", value: "initech" }] }], shared: true, ...extra });
    return {
        route: {
            apiVersion: "aigateway.envoyproxy.io/v1alpha1",
            kind: "AIGatewayRoute",
            metadata: { name: "model-llama", namespace: "gateway" },
            spec: { parentRefs: [gatewayRef], rules: [{ matches: [{ headers: [{ type: "Exact", name: "x-ai-eg-model", value: "llama" }] }], backendRefs: [{ name: "model-llama" }] }] },
        },
        security: {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "SecurityPolicy",
            metadata: { name: "model-llama", namespace: "gateway" },
            spec: {
                targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "model-llama" }],
                apiKeyAuth: { credentialRefs: [{ group: "", kind: "Secret", name: "api-key-initech" }], extractFrom: [{ headers: ["authorization"] }], forwardClientIDHeader: "x-tenant", sanitize: true },
            },
        },
        secret: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "api-key-initech", namespace: "gateway", labels: { "compute-region.io/tenant": "initech" }, annotations: { "compute-region.io/granted-models": "llama" } },
            type: "Opaque",
            stringData: { initech: "[secret]" },
        },
        clientTraffic: {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "ClientTrafficPolicy",
            metadata: { name: "models", namespace: "gateway" },
            spec: { targetRefs: [gatewayRef], headers: { earlyRequestHeaders: { remove: ["x-tenant"] } } },
        },
        limits: {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "BackendTrafficPolicy",
            metadata: { name: "tenant-limits", namespace: "gateway" },
            spec: {
                targetRefs: [gatewayRef],
                rateLimit: {
                    type: "Global",
                    global: {
                        rules: [
                            tenantRule({ limit: { requests: 600, unit: "Minute" } }),
                            tenantRule({ limit: { requests: 200000, unit: "Minute" }, cost: { request: { from: "Number", number: 0 }, response: { from: "Metadata", metadata: { namespace: "io.envoy.ai_gateway", key: "llm_total_token" } } } }),
                        ],
                    },
                },
            },
        },
        proxy: {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: { name: "models", namespace: "gateway" },
            spec: {
                provider: {
                    type: "Kubernetes",
                    kubernetes: {
                        envoyService: {
                            type: "LoadBalancer",
                            loadBalancerClass: "service.k8s.aws/nlb",
                            loadBalancerSourceRanges: ["0.0.0.0/0"],
                            annotations: {
                                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn:aws:acm:us-east-2:111122223333:certificate/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b",
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                            },
                        },
                    },
                },
            },
        },
        gateway: {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "Gateway",
            metadata: { name: "models", namespace: "gateway" },
            spec: { gatewayClassName: "compute-region", listeners: [{ name: "api", protocol: "HTTP", port: 443, hostname: "models.example.com" }] },
        },
        gatewayClass: {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: "compute-region" },
            spec: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller", parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "models", namespace: "gateway" } },
        },
    };
}

/** The gateway's resources, after `change` edits the parts. */
export function gatewaySample(change: (parts: GatewayParts) => void = () => {}): SampleResource[] {
    const parts = gatewayParts();
    change(parts);
    return [
        sample("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "route", parts.route),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "security", parts.security),
        sample("kubernetes:core/v1:Secret", "key-initech", parts.secret),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy", "client-traffic", parts.clientTraffic),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "limits", parts.limits),
        sample("kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "proxy", parts.proxy),
        sample("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway", parts.gateway),
        sample("kubernetes:gateway.networking.k8s.io/v1:GatewayClass", "class", parts.gatewayClass),
    ];
}
