import { stackPolicy } from "../engine/policy";
import { GATEWAY } from "../model/conventions";
import { credentialSecrets, keySecrets, modelRoutes, policiesTargeting, tenantLimitRules } from "../model/gateway-evidence";
import { GATEWAY_TYPES } from "../model/types";
import { gatewaySample } from "../samples/gateway";

export const modelTenantsRateLimited = stackPolicy({
    name: "model-tenants-rate-limited",
    description: "Every tenant a model route accepts has a request limit and a token limit on that route's Gateway, keyed on the verified tenant header.",
    rationale:
        "The serving pool is shared by every hosted tenant and by the company's own use: a tenant without limits can queue enough work to push every other tenant's latency past its target, and spend capacity faster than the pool scales.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: `Give the Gateway a BackendTrafficPolicy whose rules count each tenant in its own bucket on header ${GATEWAY.tenantHeader} (Distinct, or Exact on the tenant's name) and on nothing else: one limiting requests, and one whose cost comes from the response metadata (${GATEWAY.costMetadataNamespace}/${GATEWAY.totalTokensKey}) limiting tokens. Set them with compute-region:gateway.tenantRateLimits and tenants[].rateLimits.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-5", title: "Denial-of-service Protection" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is maintained, monitored, and evaluated to meet objectives" },
    ],
    validateStack: (args, report) => {
        const secrets = keySecrets(args.resources);
        for (const route of modelRoutes(args.resources)) {
            const tenants = new Set(
                policiesTargeting(args.resources, GATEWAY_TYPES.securityPolicy, route.namespace, "HTTPRoute", route.name)
                    .flatMap((p) => credentialSecrets(p, secrets))
                    .map((c) => c.secret?.tenant)
                    .filter((t): t is string => typeof t === "string"),
            );
            for (const gateway of route.gateways) {
                const [gatewayNs, gatewayName] = gateway.split("/");
                const rules = [
                    ...policiesTargeting(args.resources, GATEWAY_TYPES.backendTrafficPolicy, gatewayNs, "Gateway", gatewayName),
                    ...policiesTargeting(args.resources, GATEWAY_TYPES.backendTrafficPolicy, route.namespace, "HTTPRoute", route.name),
                ].flatMap(tenantLimitRules);
                for (const tenant of [...tenants].sort()) {
                    const own = rules.filter((r) => r.requests > 0 && r.covers(tenant));
                    if (!own.some((r) => !r.costed)) report(`tenant ${tenant} has no request limit on gateway ${gateway} (route ${route.namespace}/${route.name}).`);
                    if (!own.some((r) => r.costed)) report(`tenant ${tenant} has no token limit on gateway ${gateway} (route ${route.namespace}/${route.name}).`);
                }
            }
        }
    },
    samples: {
        allowed: [
            { description: "The granted tenant has its own request and token budget on the gateway.", resources: gatewaySample() },
            {
                description: "Every tenant on the default budgets, one bucket per tenant (Distinct).",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => (r.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Distinct" }, { name: "x-tenant", type: "Exact", value: "globex", invert: true }] }]))),
            },
        ],
        disallowed: [
            { description: "No token budget.", expect: "tenant initech has no token limit on gateway gateway/models", resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.pop()) },
            { description: "No limits at all.", expect: "tenant initech has no request limit", resources: gatewaySample((p) => (p.limits.spec.rateLimit.global.rules = [])) },
            {
                description: "One bucket for all tenants together (no selector), not one per tenant.",
                expect: "tenant initech has no request limit",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => delete r.clientSelectors)),
            },
            {
                description: "The tenant excluded from the default limits and given none of its own.",
                expect: "tenant initech has no token limit",
                resources: gatewaySample((p) => {
                    const [requests, tokens] = p.limits.spec.rateLimit.global.rules;
                    requests.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Exact", value: "initech" }] }];
                    tokens.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Distinct" }, { name: "x-tenant", type: "Exact", value: "initech", invert: true }] }];
                }),
            },
            {
                description: "Limits keyed on a header a client sets, not the verified tenant.",
                expect: "tenant initech has no request limit",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => (r.clientSelectors[0].headers[0].name = "x-user"))),
            },
        ],
    },
});
