import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import * as random from "@pulumi/random";
import {
    apiKeySecretName,
    DEDICATED_ENDPOINT,
    dedicatedEndpointName,
    dedicatedModelName,
    ENDPOINT_LABEL,
    GATEWAY,
    INVOCATION_LOG_FORMAT,
    LABELS,
    MODEL_SERVER_PORT,
    modelRouteName,
    NAMESPACES,
    PlatformAddressing,
    PRIVATE_LINK_PRINCIPALS_ANNOTATION,
    TENANT_STATE_ANNOTATION,
    TenantState,
} from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { GATEWAY_CHART_PINS, pinnedRelease, REDIS_IMAGE } from "./helm";
import { DNS_EGRESS, namespaceByName } from "./network-policies";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";

/** Per-tenant budgets, per minute, across models and gateway replicas. */
/** A tenant's limits at the gateway. */
export interface RateLimits {
    /** Requests per minute. */
    requestsPerMinute: number;
    /** Tokens per minute. */
    tokensPerMinute: number;
}

/** What a tenant's config says of its hosted-model access. */
export interface GatewayTenantSettings {
    /** The tenant's name. */
    name: string;
    /** Only active tenants' keys are accepted. */
    state: TenantState;
    /** Models the tenant may call. */
    models: string[];
    /** The tenant's own limits; absent, the gateway's per-tenant defaults apply. */
    rateLimits?: RateLimits;
    /** Bumping it replaces the key. */
    apiKeyVersion: number;
    /** IAM roles allowed to read the tenant's key from Secrets Manager. */
    members: string[];
}

/** A tenant of the hosted-model API. */
export interface GatewayTenant extends GatewayTenantSettings {
    /** Models of which the tenant has a dedicated endpoint (reached as `<tenant>/<model>`). */
    dedicatedModels?: string[];
    /** Principals its PrivateLink endpoints connect as (recorded on its key Secret for the change policies). */
    privateLinkPrincipals?: string[];
}

/** A hosted model behind the gateway. */
export interface GatewayModel {
    /** The name clients ask for. */
    name: string;
    /** The Kubernetes Service in the serving namespace that serves it. */
    serviceName: string;
}

/** A tenant's dedicated endpoint behind the gateway. */
export interface GatewayDedicatedEndpoint {
    /** The tenant. */
    tenant: string;
    /** The model. */
    model: string;
    /** The Kubernetes Service in the serving namespace that serves the tenant's replicas. */
    serviceName: string;
}

/** The hosted-model API: Envoy behind an NLB, tenants' API keys and limits. */
export interface ModelGatewayArgs {
    /** The literal cluster name (names the keys in Secrets Manager). */
    clusterName: string;
    /** What clients call. */
    hostname: string;
    /** The ACM certificate the NLB terminates TLS with. */
    certificateArn: string;
    /** Client networks the NLB admits. */
    clientCidrs: string[];
    /** Envoy replicas. */
    replicas: number;
    /** The region's addresses: the VPC CIDR holds the NLB's addresses, the only source of client traffic to the Envoy pods. */
    addressing: PlatformAddressing;
    /** The hosted models: name and the Kubernetes Service in the serving namespace that serves it. */
    models: GatewayModel[];
    /** Tenants granted at least one model. */
    tenants: GatewayTenant[];
    /** Each tenant's limits unless it has its own. */
    defaultRateLimits: RateLimits;
    /** Tags for AWS resources (the keys' secrets, the NLB). */
    tags: Record<string, string>;
    /** The dedicated endpoints: tenant, model and the Kubernetes Service in the serving namespace that serves it. */
    dedicatedEndpoints?: GatewayDedicatedEndpoint[];
    /** One JSON line per request to stdout (INVOCATION_LOG_FORMAT), shipped by the CloudWatch add-on; off, the proxies log nothing. */
    invocationLogs: boolean;
}

/** Envoy Gateway serves a listener port below 1024 on the container port plus 10000. */
export const ENVOY_LISTENER_PORT = 443;
export const ENVOY_CONTAINER_PORT = 10443;
/** Envoy's Prometheus stats and the AI Gateway processor's GenAI metrics. */
export const ENVOY_METRICS_PORT = 19001;
export const AI_GATEWAY_METRICS_PORT = 1064;
/** The rate-limit counters' Redis, reached by the rate-limit service in the Envoy Gateway namespace. */
const REDIS_NAME = "ratelimit-redis";
const REDIS_PORT = 6379;
const REDIS_LABELS = { app: REDIS_NAME };
/** Where Envoy Gateway's values name the Redis (its rate-limit pods' peer). */
const REDIS_URL_VALUE = "config.envoyGateway.rateLimit.backend.redis.url";
/** Envoy Gateway's control plane (xDS) and rate-limit service ports the proxies call. */
const XDS_PORT = 18000;
const RATELIMIT_PORT = 8081;
/** The TLS policy of the NLB listener: TLS 1.3 and 1.2 only. */
export const NLB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** Every model name a tenant's key is good for: its shared models and its dedicated endpoints (`<tenant>/<model>`), sorted. */
export function tenantModelNames(tenant: Pick<GatewayTenant, "name" | "models" | "dedicatedModels">): string[] {
    return [...tenant.models, ...(tenant.dedicatedModels ?? []).map((m) => dedicatedModelName(tenant.name, m))].sort();
}

/** Which tenants may call a model: the active tenants granted it, by name. */
export function grantedTenants(model: string, tenants: readonly GatewayTenant[]): string[] {
    return tenants.filter((t) => t.state === "active" && t.models.includes(model)).map((t) => t.name).sort();
}

/** Header matches per selector and selectors per rule that Envoy Gateway allows. */
const MAX_HEADERS_PER_SELECTOR = 16;
const MAX_SELECTORS_PER_RULE = 8;

/**
 * Per tenant, across models: a request budget and a token budget per minute, shared by every Envoy
 * replica (global limits in Redis). Tokens are charged after each response from the usage the AI
 * Gateway reads; a request is refused once the budget is spent. Tenants on the defaults share one
 * pair of rules that gives each distinct tenant its own bucket; a tenant with its own limits has its
 * own pair and is excluded from the defaults' (a request matching several rules meets the strictest).
 * Suspended tenants' keys are accepted nowhere, so they need no rule.
 */
export function tenantRateLimitRules(tenants: readonly GatewayTenant[], defaults: RateLimits): Record<string, unknown>[] {
    const header = GATEWAY.tenantHeader;
    const tokenCost = { request: { from: "Number", number: 0 }, response: { from: "Metadata", metadata: { namespace: GATEWAY.costMetadataNamespace, key: GATEWAY.totalTokensKey } } };
    const pair = (clientSelectors: unknown[], limits: RateLimits) => [
        { clientSelectors, limit: { requests: limits.requestsPerMinute, unit: "Minute" }, shared: true },
        { clientSelectors, limit: { requests: limits.tokensPerMinute, unit: "Minute" }, cost: tokenCost, shared: true },
    ];
    const custom = tenants.filter((t) => t.state === "active" && t.rateLimits);
    // The defaults: every tenant its own bucket, except those with their own limits.
    const matches = [{ name: header, type: "Distinct" }, ...custom.map((t) => ({ name: header, type: "Exact", value: t.name, invert: true }))];
    const selectors: { headers: unknown[] }[] = [];
    for (let i = 0; i < matches.length; i += MAX_HEADERS_PER_SELECTOR) selectors.push({ headers: matches.slice(i, i + MAX_HEADERS_PER_SELECTOR) });
    if (selectors.length > MAX_SELECTORS_PER_RULE) throw new Error(`${custom.length} tenants with their own rate limits exceed what one rule can exclude`);
    return [...pair(selectors, defaults), ...custom.flatMap((t) => pair([{ headers: [{ name: header, type: "Exact", value: t.name }] }], t.rateLimits!))];
}

/**
 * The one way into the hosted models: Envoy Gateway with the Envoy AI Gateway extension (pinned
 * Helm charts), exposed by an internet-facing NLB that terminates TLS with the configured ACM
 * certificate. The OpenAI-compatible API (`/v1/...`) is routed by the `model` of each request to
 * the model's server; each model's route accepts only the API keys of the tenants granted it.
 * The authenticated tenant is written to a header no client can set, which keys the per-tenant
 * request and token rate limits and labels the per-tenant request and token metrics metering
 * bills from. Each tenant's key is generated at deploy, kept in Secrets Manager (readable by the
 * tenant's members) and given to the gateway as a Kubernetes Secret; it appears in no file.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the gateway's
 * namespaces wait for (the load balancer controller, the monitoring CRDs, the system nodes).
 */
export class ModelGateway extends pulumi.ComponentResource {
    /** Tenant name to the Secrets Manager secret holding its API key. */
    public readonly apiKeySecretArns: Record<string, pulumi.Output<string>>;
    /** What clients call. */
    public readonly hostname: string;

    /** The gateway namespace: the proxies, routes and keys. */
    public get namespace(): k8s.core.v1.Namespace {
        return partsOf<{ namespace: k8s.core.v1.Namespace }>(this).namespace;
    }

    constructor(name: string, args: ModelGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ModelGateway"), name, {}, componentOptions("ModelGateway", opts));
        for (const t of args.tenants) {
            for (const m of t.models) {
                if (!args.models.some((model) => model.name === m)) throw new pulumi.ResourceError(`ModelGateway ${name}: tenant ${t.name} is granted model ${m}, which the gateway does not serve`, this);
            }
        }
        const waitFor = dependsOnOf(opts);
        const namespaces = gatewayNamespaces(name, this, waitFor);
        rateLimitStore(name, this, namespaces.controller);
        const controllers = gatewayControllers(name, this, namespaces, args.addressing);
        const crdsReady = [...controllers, namespaces.gateway];
        const gateway = frontDoor(name, args, this, crdsReady);
        const keys = tenantKeys(name, args, this, namespaces.gateway);
        this.apiKeySecretArns = keys.secretArns;
        modelRoutes(name, args, this, { crdsReady, gateway, keySecrets: keys.secrets });
        dedicatedRoutes(name, args, this, { crdsReady, gateway, keySecrets: keys.secrets });
        partsOf<{ namespace: k8s.core.v1.Namespace }>(this).namespace = namespaces.gateway;
        gatewayMetrics(name, this, [...waitFor, namespaces.gateway]);
        gatewayNetworkPolicies(name, args, this, namespaces.gateway);

        this.hostname = args.hostname;
        this.registerOutputs({ hostname: this.hostname, apiKeySecretArns: this.apiKeySecretArns });
    }
}

/** The labels Envoy Gateway puts on the proxy pods of the region's Gateway. */
export const PROXY_LABELS = { "gateway.envoyproxy.io/owning-gateway-name": GATEWAY.name, "gateway.envoyproxy.io/owning-gateway-namespace": NAMESPACES.gateway };
const GATEWAY_REF = { group: "gateway.networking.k8s.io", kind: "Gateway", name: GATEWAY.name };

interface GatewayNamespaces {
    /** The proxies, the routes and the tenants' keys. */
    gateway: k8s.core.v1.Namespace;
    /** Envoy Gateway's controller, its rate-limit service and the counters' Redis. */
    controller: k8s.core.v1.Namespace;
    /** The AI Gateway's controller. */
    extension: k8s.core.v1.Namespace;
}

function gatewayNamespaces(name: string, parent: pulumi.Resource, waitFor: pulumi.Input<pulumi.Resource>[]): GatewayNamespaces {
    const namespace = (key: string, nsName: string) =>
        platformNamespace(`${name}-${key}-ns`, { name: nsName, kind: "platform", podSecurity: { enforce: "baseline", audit: "restricted", warn: "restricted" } }, { parent, dependsOn: waitFor });
    return { gateway: namespace("gateway", NAMESPACES.gateway), controller: namespace("controller", NAMESPACES.envoyGateway), extension: namespace("extension", NAMESPACES.aiGateway) };
}

/**
 * Rate-limit counters: the Envoy Gateway rate-limit service's Redis. Counters are windows of a
 * minute, so nothing is persisted; only that namespace's pods may reach it.
 */
function rateLimitStore(name: string, parent: pulumi.Resource, namespace: k8s.core.v1.Namespace): void {
    const inNs = { parent, dependsOn: [namespace] };
    const redisLabels = REDIS_LABELS;
    // In place before the pod starts: under the strict CNI a pod no policy selects is denied everything.
    const ingress = new k8s.networking.v1.NetworkPolicy(
        `${name}-redis-ingress`,
        {
            metadata: { name: `${REDIS_NAME}-ingress`, namespace: NAMESPACES.envoyGateway },
            spec: { podSelector: { matchLabels: redisLabels }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }] },
        },
        inNs,
    );
    new k8s.apps.v1.Deployment(
        `${name}-redis`,
        {
            metadata: { name: REDIS_NAME, namespace: NAMESPACES.envoyGateway, labels: redisLabels },
            spec: {
                replicas: 1,
                selector: { matchLabels: redisLabels },
                template: {
                    metadata: { labels: redisLabels },
                    spec: {
                        ...ON_SYSTEM_NODES,
                        securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "redis",
                                image: REDIS_IMAGE,
                                args: ["--save", "", "--appendonly", "no", "--protected-mode", "no"],
                                ports: [{ name: "redis", containerPort: REDIS_PORT }],
                                readinessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 5 },
                                livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, failureThreshold: 6 },
                                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                                volumeMounts: [{ name: "data", mountPath: "/data" }],
                            },
                        ],
                        volumes: [{ name: "data", emptyDir: { sizeLimit: "64Mi" } }],
                    },
                },
            },
        },
        { parent, dependsOn: [namespace, ingress] },
    );
    new k8s.core.v1.Service(
        `${name}-redis`,
        { metadata: { name: REDIS_NAME, namespace: NAMESPACES.envoyGateway }, spec: { selector: redisLabels, ports: [{ name: "redis", port: REDIS_PORT, targetPort: REDIS_PORT }] } },
        inNs,
    );
}

/** Envoy Gateway and the AI Gateway (its CRDs, then its controller, which needs Envoy Gateway's). */
function gatewayControllers(name: string, parent: pulumi.Resource, namespaces: GatewayNamespaces, addressing: PlatformAddressing): k8s.helm.v3.Release[] {
    const envoyGateway = pinnedRelease(
        `${name}-envoy-gateway`,
        GATEWAY_CHART_PINS.envoyGateway,
        {
            releaseName: "envoy-gateway",
            namespace: NAMESPACES.envoyGateway,
            values: {
                deployment: { replicas: 2, pod: ON_SYSTEM_NODES },
                podDisruptionBudget: { minAvailable: 1 },
                certgen: { job: ON_SYSTEM_NODES },
                config: {
                    envoyGateway: {
                        gateway: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" },
                        provider: {
                            type: "Kubernetes",
                            kubernetes: {
                                // The proxies run in the Gateway's namespace, the one the serving namespace admits.
                                deploy: { type: "GatewayNamespace" },
                                rateLimitDeployment: { replicas: 2, pod: ON_SYSTEM_NODES },
                            },
                        },
                        rateLimit: { backend: { type: "Redis", redis: { url: `${REDIS_NAME}.${NAMESPACES.envoyGateway}.svc.cluster.local:${REDIS_PORT}` } } },
                        extensionApis: { enableEnvoyPatchPolicy: true, enableBackend: true },
                        // The AI Gateway controller rewrites the generated Envoy configuration (its processor, routing by model).
                        extensionManager: {
                            hooks: {
                                xdsTranslator: {
                                    translation: { listener: { includeAll: true }, route: { includeAll: true }, cluster: { includeAll: true }, secret: { includeAll: true } },
                                    post: ["Translation", "Cluster", "Route"],
                                },
                            },
                            service: { fqdn: { hostname: `ai-gateway-controller.${NAMESPACES.aiGateway}.svc.cluster.local`, port: 1063 } },
                        },
                    },
                },
            },
            // The proxies (one Deployment per Gateway, made by the controller) run in the gateway namespace.
            network: { addressing, servicePods: { [REDIS_URL_VALUE]: { namespace: NAMESPACES.envoyGateway, labels: REDIS_LABELS } }, runtimeNamespaces: { proxy: [NAMESPACES.gateway] } },
        },
        { parent, dependsOn: [namespaces.controller] },
    );
    const aiGatewayCrds = pinnedRelease(
        `${name}-ai-gateway-crds`,
        GATEWAY_CHART_PINS.aiGatewayCrds,
        { releaseName: "ai-gateway-crds", namespace: NAMESPACES.aiGateway, network: { addressing } },
        { parent, dependsOn: [namespaces.extension] },
    );
    const aiGateway = pinnedRelease(
        `${name}-ai-gateway`,
        GATEWAY_CHART_PINS.aiGateway,
        {
            releaseName: "ai-gateway",
            namespace: NAMESPACES.aiGateway,
            values: {
                controller: {
                    ...ON_SYSTEM_NODES,
                    // The authenticated tenant becomes the `tenant` label of every GenAI metric.
                    metricsRequestHeaderAttributes: `${GATEWAY.tenantHeader}:${GATEWAY.tenantLabel}`,
                },
            },
            network: { addressing },
        },
        { parent, dependsOn: [aiGatewayCrds, envoyGateway] },
    );
    return [envoyGateway, aiGatewayCrds, aiGateway];
}

/**
 * The proxies on the system nodes across zones, behind an NLB that terminates TLS on 443 and admits
 * only the configured client networks; the Gateway; the client header strip and the tenants' limits.
 */
function frontDoor(name: string, args: ModelGatewayArgs, parent: pulumi.Resource, crdsReady: pulumi.Resource[]): k8s.apiextensions.CustomResource {
    const ns = NAMESPACES.gateway;
    const afterCrds = { parent, dependsOn: crdsReady };
    new k8s.apiextensions.CustomResource(
        `${name}-proxy`,
        {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: { name: GATEWAY.name, namespace: ns },
            spec: {
                // Invocation logs: one JSON line per request, nothing that can carry a key or the prompt.
                telemetry: { accessLog: args.invocationLogs ? { settings: [{ format: { type: "JSON", json: { ...INVOCATION_LOG_FORMAT } }, sinks: [{ type: "File", file: { path: "/dev/stdout" } }] }] } : { disable: true } },
                provider: {
                    type: "Kubernetes",
                    kubernetes: {
                        envoyDeployment: {
                            replicas: args.replicas,
                            pod: {
                                ...ON_SYSTEM_NODES,
                                topologySpreadConstraints: [
                                    { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: PROXY_LABELS } },
                                    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: PROXY_LABELS } },
                                ],
                            },
                            container: { resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } } },
                        },
                        envoyPDB: { minAvailable: 1 },
                        envoyService: {
                            type: "LoadBalancer",
                            loadBalancerClass: "service.k8s.aws/nlb",
                            loadBalancerSourceRanges: args.clientCidrs,
                            annotations: {
                                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": args.certificateArn,
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": String(ENVOY_LISTENER_PORT),
                                "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": NLB_TLS_POLICY,
                                "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
                                "service.beta.kubernetes.io/aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true,deletion_protection.enabled=true",
                                "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": Object.entries(args.tags).map(([k, v]) => `${k}=${v}`).join(","),
                            },
                        },
                    },
                },
            },
        },
        afterCrds,
    );
    new k8s.apiextensions.CustomResource(
        `${name}-class`,
        {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: GATEWAY.className },
            spec: {
                controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
                parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: GATEWAY.name, namespace: ns },
            },
        },
        afterCrds,
    );
    const gateway = new k8s.apiextensions.CustomResource(
        `${name}-gateway`,
        {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "Gateway",
            metadata: { name: GATEWAY.name, namespace: ns },
            spec: {
                gatewayClassName: GATEWAY.className,
                // Plain HTTP behind the NLB, which terminates TLS; the pods admit only the VPC (the NLB).
                listeners: [{ name: "api", protocol: "HTTP", port: ENVOY_LISTENER_PORT, hostname: args.hostname, allowedRoutes: { namespaces: { from: "Same" } } }],
            },
        },
        afterCrds,
    );
    const onGateway = { parent, dependsOn: [...crdsReady, gateway] };
    new k8s.apiextensions.CustomResource(
        `${name}-client-traffic`,
        {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "ClientTrafficPolicy",
            metadata: { name: GATEWAY.name, namespace: ns },
            spec: {
                targetRefs: [GATEWAY_REF],
                // A client cannot claim a tenant: the header is dropped before any filter runs,
                // then set by the API-key filter from the key it verified.
                headers: { earlyRequestHeaders: { remove: [GATEWAY.tenantHeader] } },
                // Prompts are read whole to find the model; long contexts are megabytes.
                connection: { bufferLimit: "16Mi" },
            },
        },
        onGateway,
    );
    new k8s.apiextensions.CustomResource(
        `${name}-tenant-limits`,
        {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "BackendTrafficPolicy",
            metadata: { name: "tenant-limits", namespace: ns },
            spec: { targetRefs: [GATEWAY_REF], rateLimit: { type: "Global", global: { rules: tenantRateLimitRules(args.tenants, args.defaultRateLimits) } } },
        },
        onGateway,
    );
    return gateway;
}

/**
 * Tenant keys: generated here, stored in Secrets Manager (protected, readable by the tenant's
 * members) and handed to the gateway as a Kubernetes Secret whose data key is the tenant.
 */
function tenantKeys(name: string, args: ModelGatewayArgs, parent: pulumi.Resource, namespace: k8s.core.v1.Namespace): { secretArns: Record<string, pulumi.Output<string>>; secrets: Map<string, k8s.core.v1.Secret> } {
    const secretArns: Record<string, pulumi.Output<string>> = {};
    const secrets = new Map<string, k8s.core.v1.Secret>();
    for (const t of args.tenants) {
        const key = new random.RandomPassword(`${name}-key-${t.name}`, { length: 48, special: false, keepers: { version: String(t.apiKeyVersion) } }, { parent });
        const value = pulumi.secret(pulumi.interpolate`crk-${key.result}`);
        const stored = new aws.secretsmanager.Secret(
            `${name}-key-${t.name}`,
            {
                name: `compute-region/${args.clusterName}/gateway/${t.name}`,
                description: `API key of tenant ${t.name} for the hosted-model gateway https://${args.hostname}`,
                recoveryWindowInDays: 30,
                tags: { ...args.tags, [LABELS.tenant]: t.name },
            },
            { parent, protect: true },
        );
        new aws.secretsmanager.SecretVersion(`${name}-key-${t.name}`, { secretId: stored.id, secretString: value }, { parent });
        if (t.members.length > 0) {
            new aws.secretsmanager.SecretPolicy(
                `${name}-key-${t.name}`,
                {
                    secretArn: stored.arn,
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Sid: "TenantMembersRead", Effect: "Allow", Principal: { AWS: t.members }, Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: "*" }],
                    }),
                },
                { parent },
            );
        }
        secretArns[t.name] = stored.arn;
        secrets.set(
            t.name,
            new k8s.core.v1.Secret(
                `${name}-key-${t.name}`,
                {
                    metadata: {
                        name: apiKeySecretName(t.name),
                        namespace: NAMESPACES.gateway,
                        labels: { [LABELS.tenant]: t.name },
                        annotations: {
                            [GATEWAY.grantedModelsAnnotation]: tenantModelNames(t).join(","),
                            [TENANT_STATE_ANNOTATION]: t.state,
                            ...(t.privateLinkPrincipals?.length ? { [PRIVATE_LINK_PRINCIPALS_ANNOTATION]: [...t.privateLinkPrincipals].sort().join(",") } : {}),
                        },
                    },
                    type: "Opaque",
                    // Envoy Gateway's API-key format: the data key is the client id, its value the key.
                    stringData: { [t.name]: value },
                },
                { parent, dependsOn: [namespace] },
            ),
        );
    }
    return { secretArns, secrets };
}

/** One route per model a tenant may call, accepting only those tenants' keys. */
function modelRoutes(
    name: string,
    args: ModelGatewayArgs,
    parent: pulumi.Resource,
    ready: { crdsReady: pulumi.Resource[]; gateway: pulumi.Resource; keySecrets: Map<string, k8s.core.v1.Secret> },
): void {
    const ns = NAMESPACES.gateway;
    const afterCrds = { parent, dependsOn: ready.crdsReady };
    for (const model of args.models) {
        const tenants = grantedTenants(model.name, args.tenants);
        if (tenants.length === 0) continue;
        const route = modelRouteName(model.name);
        new k8s.apiextensions.CustomResource(
            `${name}-backend-${model.name}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "Backend",
                metadata: { name: route, namespace: ns },
                spec: { endpoints: [{ fqdn: { hostname: `${model.serviceName}.${NAMESPACES.serving}.svc.cluster.local`, port: MODEL_SERVER_PORT } }] },
            },
            afterCrds,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-ai-backend-${model.name}`,
            {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIServiceBackend",
                metadata: { name: route, namespace: ns },
                spec: { schema: { name: "OpenAI" }, backendRef: { group: "gateway.envoyproxy.io", kind: "Backend", name: route } },
            },
            afterCrds,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-route-${model.name}`,
            {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIGatewayRoute",
                metadata: { name: route, namespace: ns, labels: { [LABELS.model]: model.name } },
                spec: {
                    parentRefs: [GATEWAY_REF],
                    rules: [
                        {
                            matches: [{ headers: [{ type: "Exact", name: GATEWAY.modelHeader, value: model.name }] }],
                            backendRefs: [{ name: route }],
                            // Long generations stream for minutes.
                            timeouts: { request: "600s" },
                        },
                    ],
                    llmRequestCosts: [
                        { metadataKey: "llm_input_token", type: "InputToken" },
                        { metadataKey: "llm_output_token", type: "OutputToken" },
                        { metadataKey: GATEWAY.totalTokensKey, type: "TotalToken" },
                    ],
                },
            },
            { parent, dependsOn: [...ready.crdsReady, ready.gateway] },
        );
        // The AI Gateway generates an HTTPRoute of the same name; its keys are the granted tenants'.
        new k8s.apiextensions.CustomResource(
            `${name}-auth-${model.name}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "SecurityPolicy",
                metadata: { name: route, namespace: ns, labels: { [LABELS.model]: model.name } },
                spec: {
                    targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: route }],
                    apiKeyAuth: {
                        credentialRefs: tenants.map((tenant) => ({ group: "", kind: "Secret", name: apiKeySecretName(tenant) })),
                        // OpenAI clients send `Authorization: Bearer <key>`.
                        extractFrom: [{ headers: ["authorization"] }],
                        forwardClientIDHeader: GATEWAY.tenantHeader,
                        // The model server never sees a tenant's key.
                        sanitize: true,
                    },
                },
            },
            { parent, dependsOn: [...ready.crdsReady, ...tenants.map((tenant) => ready.keySecrets.get(tenant)!)] },
        );
    }
}

/**
 * A dedicated endpoint's route: the model name `<tenant>/<model>` to the tenant's own model server,
 * accepting that tenant's key and no other. Its own BackendTrafficPolicy spreads requests over the
 * replicas by least requests, and, being the route's most specific one, takes the place of the
 * Gateway's tenant limits there (Envoy Gateway merges nothing without mergeType: envoyproxy/gateway
 * v1.7.3 api/v1alpha1/backendtrafficpolicy_types.go): a tenant's dedicated throughput is bounded by
 * the replicas it bought, and does not spend the budget of its shared-model traffic.
 */
function dedicatedRoutes(
    name: string,
    args: ModelGatewayArgs,
    parent: pulumi.Resource,
    ready: { crdsReady: pulumi.Resource[]; gateway: pulumi.Resource; keySecrets: Map<string, k8s.core.v1.Secret> },
): void {
    const ns = NAMESPACES.gateway;
    const afterCrds = { parent, dependsOn: ready.crdsReady };
    for (const endpoint of args.dedicatedEndpoints ?? []) {
        const tenant = args.tenants.find((t) => t.name === endpoint.tenant);
        if (!tenant) throw new pulumi.ResourceError(`ModelGateway ${name}: the dedicated endpoint of ${endpoint.model} belongs to ${endpoint.tenant}, which is not a tenant of the gateway`, parent);
        // A suspended tenant's endpoint keeps its server (at zero) but no route: its key is accepted nowhere.
        if (tenant.state !== "active") continue;
        const route = dedicatedEndpointName(endpoint.tenant, endpoint.model);
        const labels = { [LABELS.model]: endpoint.model, [LABELS.tenant]: endpoint.tenant, [ENDPOINT_LABEL]: DEDICATED_ENDPOINT };
        new k8s.apiextensions.CustomResource(
            `${name}-backend-${route}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "Backend",
                metadata: { name: route, namespace: ns, labels },
                spec: { endpoints: [{ fqdn: { hostname: `${endpoint.serviceName}.${NAMESPACES.serving}.svc.cluster.local`, port: MODEL_SERVER_PORT } }] },
            },
            afterCrds,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-ai-backend-${route}`,
            {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIServiceBackend",
                metadata: { name: route, namespace: ns, labels },
                spec: { schema: { name: "OpenAI" }, backendRef: { group: "gateway.envoyproxy.io", kind: "Backend", name: route } },
            },
            afterCrds,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-route-${route}`,
            {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIGatewayRoute",
                metadata: { name: route, namespace: ns, labels },
                spec: {
                    parentRefs: [GATEWAY_REF],
                    rules: [
                        {
                            matches: [{ headers: [{ type: "Exact", name: GATEWAY.modelHeader, value: dedicatedModelName(endpoint.tenant, endpoint.model) }] }],
                            backendRefs: [{ name: route }],
                            timeouts: { request: "600s" },
                        },
                    ],
                    llmRequestCosts: [
                        { metadataKey: "llm_input_token", type: "InputToken" },
                        { metadataKey: "llm_output_token", type: "OutputToken" },
                        { metadataKey: GATEWAY.totalTokensKey, type: "TotalToken" },
                    ],
                },
            },
            { parent, dependsOn: [...ready.crdsReady, ready.gateway] },
        );
        const httpRoute = { group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: route };
        new k8s.apiextensions.CustomResource(
            `${name}-auth-${route}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "SecurityPolicy",
                metadata: { name: route, namespace: ns, labels },
                spec: {
                    targetRefs: [httpRoute],
                    apiKeyAuth: {
                        credentialRefs: [{ group: "", kind: "Secret", name: apiKeySecretName(endpoint.tenant) }],
                        extractFrom: [{ headers: ["authorization"] }],
                        forwardClientIDHeader: GATEWAY.tenantHeader,
                        sanitize: true,
                    },
                },
            },
            { parent, dependsOn: [...ready.crdsReady, ready.keySecrets.get(endpoint.tenant)!] },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-traffic-${route}`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "BackendTrafficPolicy",
                metadata: { name: route, namespace: ns, labels },
                spec: { targetRefs: [httpRoute], loadBalancer: { type: "LeastRequest" } },
            },
            { parent, dependsOn: [...ready.crdsReady, ready.gateway] },
        );
    }
}

/** Scrapes: Envoy's stats and the AI Gateway processor's per-tenant GenAI metrics. */
function gatewayMetrics(name: string, parent: pulumi.Resource, waitFor: pulumi.Input<pulumi.Resource>[]): void {
    new k8s.apiextensions.CustomResource(
        `${name}-metrics`,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: { name: "gateway", namespace: NAMESPACES.gateway },
            spec: {
                selector: { matchLabels: PROXY_LABELS },
                podMetricsEndpoints: [
                    { targetPort: ENVOY_METRICS_PORT, path: "/stats/prometheus", interval: "30s" },
                    { targetPort: AI_GATEWAY_METRICS_PORT, path: "/metrics", interval: "30s" },
                ],
            },
        },
        { parent, dependsOn: waitFor },
    );
}

/**
 * The gateway namespace: clients only through the NLB (its addresses are in the VPC), scrapes from
 * monitoring; out only to DNS, the model servers and Envoy Gateway's control plane.
 */
function gatewayNetworkPolicies(name: string, args: ModelGatewayArgs, parent: pulumi.Resource, namespace: k8s.core.v1.Namespace): void {
    const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace: NAMESPACES.gateway }, spec }, { parent, dependsOn: [namespace] });
    policy("default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    policy("admit-load-balancer", {
        podSelector: { matchLabels: PROXY_LABELS },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: args.addressing.vpcCidr } }], ports: [{ protocol: "TCP", port: ENVOY_CONTAINER_PORT }] }],
    });
    policy("admit-monitoring", {
        podSelector: { matchLabels: PROXY_LABELS },
        policyTypes: ["Ingress"],
        ingress: [{ from: [namespaceByName(NAMESPACES.monitoring)], ports: [{ protocol: "TCP", port: ENVOY_METRICS_PORT }, { protocol: "TCP", port: AI_GATEWAY_METRICS_PORT }] }],
    });
    policy("proxy-egress", {
        podSelector: { matchLabels: PROXY_LABELS },
        policyTypes: ["Egress"],
        egress: [
            DNS_EGRESS,
            { to: [namespaceByName(NAMESPACES.serving)], ports: [{ protocol: "TCP", port: MODEL_SERVER_PORT }] },
            { to: [namespaceByName(NAMESPACES.envoyGateway)], ports: [{ protocol: "TCP", port: XDS_PORT }, { protocol: "TCP", port: RATELIMIT_PORT }] },
        ],
    });
}
