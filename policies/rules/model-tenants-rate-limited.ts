import { stackPolicy } from "../engine/policy";
import { GATEWAY } from "../model/conventions";
import { credentialSecrets, keySecrets, modelRoutes, policiesTargeting, tenantLimitRules, UncoveredReason } from "../model/gateway-evidence";
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
                    for (const [what, costed] of [["request", false], ["token", true]] as const) {
                        const ofKind = rules.filter((r) => r.requests > 0 && r.costed === costed);
                        if (ofKind.some((r) => r.covers(tenant))) continue;
                        const missing = `tenant ${tenant} has no ${what} limit on gateway ${gateway} (route ${route.namespace}/${route.name})`;
                        if (ofKind.length === 0) {
                            report(`${missing}: no rate-limit rule there limits ${what}s.`);
                            continue;
                        }
                        // Why each of the rules that could have been its budget is not, once per reason.
                        const seen = new Set<string>();
                        for (const why of ofKind.map((r) => r.uncovered(tenant)).filter((w): w is UncoveredReason => w !== undefined)) {
                            const key = JSON.stringify(why);
                            if (seen.has(key)) continue;
                            seen.add(key);
                            switch (why.reason) {
                                case "shared":
                                    report(`${missing}: a rule there counts every tenant in one bucket (it selects no client).`);
                                    break;
                                case "conditions":
                                    report(`${missing}: a rule there also selects on ${why.conditions.join(", ")}, not only on the verified ${GATEWAY.tenantHeader} header, so it counts part of the traffic or buckets clients set.`);
                                    break;
                                case "no-own-bucket":
                                    report(`${missing}: a rule there only excludes tenants (inverted matches), so it counts every other tenant in one bucket.`);
                                    break;
                                case "excluded":
                                    report(`${missing}: the rules there leave it out (an exact match of another tenant, or an inverted match of it).`);
                                    break;
                            }
                        }
                    }
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
            { description: "No token budget.", expect: "tenant initech has no token limit on gateway gateway/models (route gateway/model-llama): no rate-limit rule there limits tokens", resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.pop()) },
            { description: "No limits at all.", expect: "tenant initech has no request limit on gateway gateway/models (route gateway/model-llama): no rate-limit rule there limits requests", resources: gatewaySample((p) => (p.limits.spec.rateLimit.global.rules = [])) },
            {
                description: "One bucket for all tenants together (no selector), not one per tenant.",
                expect: "tenant initech has no request limit on gateway gateway/models (route gateway/model-llama): a rule there counts every tenant in one bucket (it selects no client)",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => delete r.clientSelectors)),
            },
            {
                description: "The tenant excluded from the default limits and given none of its own.",
                expect: "tenant initech has no token limit on gateway gateway/models (route gateway/model-llama): the rules there leave it out",
                resources: gatewaySample((p) => {
                    const [requests, tokens] = p.limits.spec.rateLimit.global.rules;
                    requests.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Exact", value: "initech" }] }];
                    tokens.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Distinct" }, { name: "x-tenant", type: "Exact", value: "initech", invert: true }] }];
                }),
            },
            {
                description: "Limits keyed on a header a client sets, not the verified tenant.",
                expect: "tenant initech has no request limit on gateway gateway/models (route gateway/model-llama): a rule there also selects on header x-user, not only on the verified x-tenant header",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => (r.clientSelectors[0].headers[0].name = "x-user"))),
            },
            {
                description: "Limits that only exclude one tenant: everyone else shares one bucket.",
                expect: "tenant initech has no request limit on gateway gateway/models (route gateway/model-llama): a rule there only excludes tenants (inverted matches)",
                resources: gatewaySample((p) => p.limits.spec.rateLimit.global.rules.forEach((r: any) => (r.clientSelectors = [{ headers: [{ name: "x-tenant", type: "Exact", value: "globex", invert: true }] }]))),
            },
        ],
    },
});
