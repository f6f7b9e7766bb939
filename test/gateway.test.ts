import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePolicies, UNKNOWN } from "compute-region-policies/engine";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { configProblems, devStackConfig, ofType, one, plan, ROOT } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const custom = (result: OfflinePlanResult, kind: string) => ofType(result.resources, `kubernetes:${kind}`);
const named = (result: OfflinePlanResult, kind: string, name: string) => custom(result, kind).find((r) => r.props.metadata.name === name)!;
const release = (result: OfflinePlanResult, name: string) => ofType(result.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.props.name === name)!;
const SECURITY_POLICY = "gateway.envoyproxy.io/v1alpha1:SecurityPolicy";
const credentialsOf = (result: OfflinePlanResult, model: string) => named(result, SECURITY_POLICY, `model-${model}`)?.props.spec.apiKeyAuth.credentialRefs.map((r: { name: string }) => r.name);

describe("the hosted-model gateway", () => {
    it("installs Envoy Gateway 1.7 (proxies in the gateway namespace, global limits in Redis) and the AI Gateway labelling metrics with the tenant", () => {
        const eg = release(dev, "envoy-gateway");
        expect(eg.props.namespace).toBe("envoy-gateway-system");
        const config = eg.props.values.config.envoyGateway;
        expect(config.provider.kubernetes.deploy).toEqual({ type: "GatewayNamespace" });
        expect(config.rateLimit.backend).toEqual({ type: "Redis", redis: { url: "ratelimit-redis.envoy-gateway-system.svc.cluster.local:6379" } });
        expect(config.extensionManager.service.fqdn).toEqual({ hostname: "ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local", port: 1063 });
        const ai = release(dev, "ai-gateway");
        expect(ai.props.values.controller.metricsRequestHeaderAttributes).toBe("x-tenant:tenant");
        // The AI Gateway's CRDs come first, and its controller after Envoy Gateway.
        const urn = (r: ResourceSnapshot) => r.urn;
        expect(ai.opts?.dependsOn).toEqual(expect.arrayContaining([urn(release(dev, "ai-gateway-crds")), urn(eg)]));
    });

    it("exposes one HTTPS entry point: an internet-facing NLB terminating TLS 1.2+ with the configured ACM certificate, only for the client networks", () => {
        const gateway = named(dev, "gateway.networking.k8s.io/v1:Gateway", "models");
        expect(gateway.props.spec.listeners).toEqual([{ name: "api", protocol: "HTTP", port: 443, hostname: "models.dev.example.com", allowedRoutes: { namespaces: { from: "Same" } } }]);
        const proxy = named(dev, "gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "models").props.spec.provider.kubernetes;
        const service = proxy.envoyService;
        expect(service.loadBalancerClass).toBe("service.k8s.aws/nlb");
        expect(service.loadBalancerSourceRanges).toEqual(["0.0.0.0/0"]);
        expect(service.annotations).toMatchObject({
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": devStackConfig()["compute-region:gateway"].certificateArn,
            "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
            "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        });
        expect(proxy.envoyDeployment.replicas).toBe(2);
        expect(proxy.envoyPDB).toEqual({ minAvailable: 1 });
        expect(proxy.envoyDeployment.pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
        expect(named(dev, "gateway.networking.k8s.io/v1:GatewayClass", "compute-region").props.spec.parametersRef).toEqual({ group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "models", namespace: "gateway" });
    });

    it("installs the AWS Load Balancer Controller with a Pod Identity role that can only make and change load balancers tagged for this cluster", () => {
        const lbc = release(dev, "aws-load-balancer-controller");
        expect(lbc.props.namespace).toBe("kube-system");
        expect(lbc.props.values).toMatchObject({ enableServiceMutatorWebhook: false, serviceAccount: { create: true, name: "aws-load-balancer-controller" } });
        const association = one(dev.resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "dev-load-balancers-identity");
        expect(association.props).toMatchObject({ namespace: "kube-system", serviceAccount: "aws-load-balancer-controller" });
        expect(lbc.opts?.dependsOn).toContain(association.urn);
        const policy = JSON.parse(one(dev.resources, "aws:iam/rolePolicy:RolePolicy", "dev-load-balancers-policy").props.policy);
        const statement = (sid: string) => policy.Statement.find((s: { Sid: string }) => s.Sid === sid);
        expect(statement("CreateOwnLoadBalancers").Condition).toEqual({ StringEquals: { "aws:RequestTag/elbv2.k8s.aws/cluster": "gpu-dev-use2" } });
        expect(statement("ManageOwnLoadBalancers").Condition).toEqual({ StringEquals: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "gpu-dev-use2" } });
        expect(statement("ManageOwnLoadBalancers").Resource).toContain("arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*");
        // No ALB, WAF, Shield or Cognito rights: the region makes only NLBs.
        const actions = policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
        expect(actions.filter((a: string) => /^(wafv2|waf-regional|shield|cognito-idp):/.test(a))).toEqual([]);
    });

    it("routes each model by the request's model to its server, accepting only the keys of tenants granted it", async () => {
        const route = named(dev, "aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "model-qwen-2-5-32b");
        expect(route.props.spec.rules[0].matches).toEqual([{ headers: [{ type: "Exact", name: "x-ai-eg-model", value: "qwen-2-5-32b" }] }]);
        expect(named(dev, "gateway.envoyproxy.io/v1alpha1:Backend", "model-qwen-2-5-32b").props.spec.endpoints).toEqual([{ fqdn: { hostname: "model-qwen-2-5-32b.serving.svc.cluster.local", port: 8000 } }]);
        const auth = named(dev, SECURITY_POLICY, "model-qwen-2-5-32b").props.spec;
        expect(auth.targetRefs).toEqual([{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "model-qwen-2-5-32b" }]);
        expect(auth.apiKeyAuth).toMatchObject({ forwardClientIDHeader: "x-tenant", sanitize: true, extractFrom: [{ headers: ["authorization"] }] });
        expect(credentialsOf(dev, "qwen-2-5-32b")).toEqual(["api-key-initech"]);

        // Grant acme llama only and suspend globex after granting it both: each route takes exactly its tenants.
        const config = devStackConfig();
        const tenants = config["compute-region:tenants"];
        tenants.find((t: { name: string }) => t.name === "acme").models = ["llama-3-8b"];
        Object.assign(tenants.find((t: { name: string }) => t.name === "globex"), { models: ["llama-3-8b", "qwen-2-5-32b"], state: "suspended" });
        const granted = await plan(config);
        expect(credentialsOf(granted, "llama-3-8b")).toEqual(["api-key-acme", "api-key-initech"]);
        expect(credentialsOf(granted, "qwen-2-5-32b")).toEqual(["api-key-initech"]);
        // The suspended tenant keeps its key (it is protected) but no route accepts it and it has no limits.
        expect(named(granted, "core/v1:Secret", "api-key-globex")).toBeDefined();
        // Only active tenants with their own limits have rules of their own (acme and globex are on the defaults).
        const own = named(granted, "gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "tenant-limits").props.spec.rateLimit.global.rules.slice(2).map((r: any) => r.clientSelectors[0].headers[0].value);
        expect(own).toEqual(["initech", "initech"]);
    });

    it("keeps each tenant's key out of every file: generated at deploy, a secret in state, in Secrets Manager (protected, readable by its members) and a Kubernetes Secret", async () => {
        const key = one(dev.resources, "random:index/randomPassword:RandomPassword", "dev-gateway-key-initech");
        expect(key.props).toMatchObject({ length: 48, special: false, keepers: { version: "1" } });
        const stored = one(dev.resources, "aws:secretsmanager/secret:Secret", "dev-gateway-key-initech");
        expect(stored.opts?.protect).toBe(true);
        expect(stored.props).toMatchObject({ name: "compute-region/gpu-dev-use2/gateway/initech", recoveryWindowInDays: 30 });
        const k8sSecret = named(dev, "core/v1:Secret", "api-key-initech");
        // Unknown until deploy, and a secret then: the plan holds no key material.
        expect(k8sSecret.props.stringData).toBe(UNKNOWN);
        // Its shared models and its dedicated endpoint's name.
        expect(k8sSecret.props.metadata.annotations["compute-region.io/granted-models"]).toBe("initech/llama-3-8b,llama-3-8b,qwen-2-5-32b");
        for (const file of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..*\.yaml$/.test(f))) expect(fs.readFileSync(path.join(ROOT, file), "utf8")).not.toMatch(/crk-|apiKey:|api_key/i);
        expect(ofType(dev.resources, "aws:secretsmanager/secretPolicy:SecretPolicy")).toEqual([]);

        // A tenant with members may read its own key; bumping apiKeyVersion rotates it.
        const config = devStackConfig();
        Object.assign(config["compute-region:tenants"].find((t: { name: string }) => t.name === "initech"), { members: ["arn:aws:iam::111122223333:role/InitechApps"], apiKeyVersion: 2 });
        const rotated = await plan(config);
        expect(one(rotated.resources, "random:index/randomPassword:RandomPassword", "dev-gateway-key-initech").props.keepers).toEqual({ version: "2" });
        const policy = JSON.parse(one(rotated.resources, "aws:secretsmanager/secretPolicy:SecretPolicy", "dev-gateway-key-initech").props.policy);
        expect(policy.Statement).toEqual([{ Sid: "TenantMembersRead", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::111122223333:role/InitechApps"] }, Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: "*" }]);
    });

    it("limits each tenant's requests and tokens per minute across models and gateway replicas: the defaults per tenant, or its own", async () => {
        const spec = named(dev, "gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "tenant-limits").props.spec;
        expect(spec.targetRefs).toEqual([{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "models" }]);
        expect(spec.rateLimit.type).toBe("Global");
        const tokenCost = { request: { from: "Number", number: 0 }, response: { from: "Metadata", metadata: { namespace: "io.envoy.ai_gateway", key: "llm_total_token" } } };
        // The defaults count each tenant in its own bucket, except initech, which has its own limits.
        const defaults = [{ headers: [{ name: "x-tenant", type: "Distinct" }, { name: "x-tenant", type: "Exact", value: "initech", invert: true }] }];
        const initech = [{ headers: [{ name: "x-tenant", type: "Exact", value: "initech" }] }];
        expect(spec.rateLimit.global.rules).toEqual([
            { clientSelectors: defaults, limit: { requests: 600, unit: "Minute" }, shared: true },
            { clientSelectors: defaults, limit: { requests: 200000, unit: "Minute" }, cost: tokenCost, shared: true },
            { clientSelectors: initech, limit: { requests: 300, unit: "Minute" }, shared: true },
            { clientSelectors: initech, limit: { requests: 150000, unit: "Minute" }, cost: tokenCost, shared: true },
        ]);

        // Many tenants with their own limits: the exclusions spread over selectors of at most 16 matches.
        const config = devStackConfig();
        config["compute-region:gateway"].tenantRateLimits = { requestsPerMinute: 100, tokensPerMinute: 50000 };
        for (let i = 0; i < 40; i++) config["compute-region:tenants"].push({ name: `hosted-${i}`, models: ["llama-3-8b"], rateLimits: { requestsPerMinute: 10 + i, tokensPerMinute: 1000 } });
        const manyPlan = await plan(config);
        const many = named(manyPlan, "gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "tenant-limits").props.spec.rateLimit.global.rules;
        expect(many).toHaveLength(2 + 2 * 41);
        expect(many[0].limit).toEqual({ requests: 100, unit: "Minute" });
        expect(many[0].clientSelectors.map((s: { headers: unknown[] }) => s.headers.length)).toEqual([16, 16, 10]);
        const policyResult = evaluatePolicies(manyPlan.resources, { policies, packName: PACK_NAME, packVersion: PACK_VERSION });
        expect(policyResult.violations.filter((v) => v.policy === "model-tenants-rate-limited")).toEqual([]);
        // Token usage is recorded where the token rule reads it, and clients cannot claim a tenant.
        expect(named(dev, "aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "model-llama-3-8b").props.spec.llmRequestCosts).toContainEqual({ metadataKey: "llm_total_token", type: "TotalToken" });
        expect(named(dev, "gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy", "models").props.spec.headers.earlyRequestHeaders.remove).toEqual(["x-tenant"]);
    });

    it("admits clients only from the NLB and scrapes from monitoring; the proxies reach only DNS, the model servers and Envoy Gateway", () => {
        const netpol = (name: string) => ofType(dev.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => p.props.metadata.namespace === "gateway" && p.props.metadata.name === name)!.props.spec;
        expect(netpol("default-deny-all")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(netpol("admit-load-balancer").ingress).toEqual([{ from: [{ ipBlock: { cidr: "10.40.0.0/16" } }], ports: [{ protocol: "TCP", port: 10443 }] }]);
        const egress = netpol("proxy-egress").egress;
        expect(egress.map((e: any) => e.to.map((t: any) => t.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"]))).toEqual([["kube-system"], ["serving"], ["envoy-gateway-system"]]);
        // The per-tenant GenAI metrics are scraped.
        const monitor = named(dev, "monitoring.coreos.com/v1:PodMonitor", "gateway");
        expect(monitor.props.spec.podMetricsEndpoints.map((e: { targetPort: number }) => e.targetPort)).toEqual([19001, 1064]);
    });

    it("keeps the gateway's and autoscaler's add-on namespaces out of Kueue, which would otherwise hold their pods", () => {
        const kueue = release(dev, "kueue");
        const selector = kueue.props.values.managerConfig.controllerManagerConfigYaml as string;
        for (const ns of ["keda", "envoy-gateway-system", "envoy-ai-gateway-system", "gateway"]) expect(selector).toContain(`- ${ns}`);
    });

    it("outputs the API's URL and where each tenant's key is kept, never the key", () => {
        const api = dev.outputs.modelApi as { url: string; apiKeySecrets: Record<string, unknown> };
        expect(api.url).toBe("https://models.dev.example.com/v1");
        expect(Object.keys(api.apiKeySecrets)).toEqual(["initech"]);
    });
});

describe("gateway config", () => {
    it("is required once a tenant is granted a model", () => {
        // (The stack's gateway objectives would be refused too: test/slo.test.ts; and initech's PrivateLink, which needs the gateway.)
        expect(configProblems((c) => delete c["compute-region:gateway"] && delete c["compute-region:slos"] && delete c["compute-region:tenants"][2].privateLink)).toEqual([
            "Pulumi.dev.yaml: compute-region:gateway: is required: tenants initech are granted models (set hostname and certificateArn)",
        ]);
    });

    it("needs a certificate of the stack's region, a real hostname and two replicas", () => {
        const problems = configProblems((c) => {
            c["compute-region:gateway"].certificateArn = "arn:aws:acm:eu-west-1:111122223333:certificate/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b";
            c["compute-region:gateway"].hostname = "models";
            c["compute-region:gateway"].replicas = 1;
        });
        expect(problems).toEqual([
            'Pulumi.dev.yaml: compute-region:gateway.hostname: must be a fully qualified DNS name such as models.us-east-2.example.com, got "models"',
            "Pulumi.dev.yaml: compute-region:gateway.replicas: must be at least 2: the gateway is the only way in, got 1",
            "Pulumi.dev.yaml: compute-region:gateway.certificateArn: must be a certificate in us-east-2 (an NLB uses certificates of its own region), got one in eu-west-1",
        ]);
    });

    it("takes at most 63 tenants with limits of their own (the rest share the defaults, one bucket each)", () => {
        const problems = configProblems((c) => {
            for (let i = 0; i < 63; i++) c["compute-region:tenants"].push({ name: `hosted-${i}`, models: ["llama-3-8b"], rateLimits: { requestsPerMinute: 10, tokensPerMinute: 1000 } });
        });
        expect(problems).toEqual([
            "Pulumi.dev.yaml: compute-region:tenants: at most 63 hosted tenants may set their own rateLimits (the gateway's rate-limit policy holds two rules for each, 128 in all); 64 do: move the common figures to compute-region:gateway.tenantRateLimits",
        ]);
    });

    it("rejects a gateway with nothing to serve, a model granted twice, and keys left in plain config", () => {
        expect(
            configProblems((c) => {
                c["compute-region:models"] = [];
                const initech = c["compute-region:tenants"].find((t: { name: string }) => t.name === "initech");
                Object.assign(initech, { models: [], dedicated: [] });
                delete initech.batch;
                delete initech.privateLink;
                delete c["compute-region:slos"];
            }),
        ).toEqual(["Pulumi.dev.yaml: compute-region:gateway: has no models to serve: set compute-region:models, or remove the gateway"]);
        expect(configProblems((c) => c["compute-region:tenants"].find((t: { name: string }) => t.name === "initech").models.push("llama-3-8b"))).toEqual([
            'Pulumi.dev.yaml: compute-region:tenants[2] (initech).models[2]: must be unique: already used at [0], got "llama-3-8b"',
        ]);
        // There is no key to put a key in: unknown keys are rejected.
        expect(configProblems((c) => (c["compute-region:tenants"].find((t: { name: string }) => t.name === "initech").apiKey = "sk-123"))).toEqual([
            'Pulumi.dev.yaml: compute-region:tenants[2] (initech): unknown key "apiKey" (a typo? see the config reference in docs/configuration.md)',
        ]);
    });
});
