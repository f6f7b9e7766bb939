import { resourcesOfType, stackPolicy } from "../engine/policy";
import { GATEWAY, LABELS } from "../model/domain/conventions";
import { DEDICATED_ENDPOINT, ENDPOINT_LABEL } from "../model/domain/hosted-tiers";
import { credentialSecrets, keySecrets, modelRoutes, policiesTargeting, tenantLimitRules, UncoveredReason } from "../model/evidence/gateway-evidence";
import { GATEWAY_TYPES } from "../model/domain/types";
import { gatewaySample } from "../samples/gateway";
import { dedicatedSample } from "../samples/hosted-tiers";
import { sample } from "../samples/sample";

/** A route's own BackendTrafficPolicy (least-request balancing, no limits). */
const routeTraffic = (route: string, extra: Record<string, unknown> = {}) =>
    sample("kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", `traffic-${route}`, {
        apiVersion: "gateway.envoyproxy.io/v1alpha1",
        kind: "BackendTrafficPolicy",
        metadata: { name: route, namespace: "gateway" },
        spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: route }], loadBalancer: { type: "LeastRequest" }, ...extra },
    });

export const modelTenantsRateLimited = stackPolicy({
    name: "model-tenants-rate-limited",
    description: "Every tenant a shared model route accepts has a request limit and a token limit on that route, keyed on the verified tenant header (a tenant's own dedicated endpoint is bounded by its replicas instead).",
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
            // A tenant's dedicated endpoint is its own capacity: its replicas bound it (dedicated-endpoints-one-tenant proves whose it is).
            const resource = resourcesOfType(args, GATEWAY_TYPES.aiRoute).find((r) => r.props.metadata?.name === route.name && (r.props.metadata?.namespace ?? "default") === route.namespace);
            const labels = resource?.props.metadata?.labels ?? {};
            if (labels[ENDPOINT_LABEL] === DEDICATED_ENDPOINT && tenants.size === 1 && tenants.has(labels[LABELS.tenant])) continue;
            // Envoy Gateway applies only the most specific BackendTrafficPolicy, unless it sets mergeType
            // (envoyproxy/gateway v1.7.3 api/v1alpha1/backendtrafficpolicy_types.go): a route's own replaces the Gateway's limits.
            const routeLevel = policiesTargeting(args.resources, GATEWAY_TYPES.backendTrafficPolicy, route.namespace, "HTTPRoute", route.name);
            const replaces = routeLevel.length > 0 && !routeLevel.some((p) => p.props.spec?.mergeType);
            for (const gateway of route.gateways) {
                const [gatewayNs, gatewayName] = gateway.split("/");
                const rules = [...(replaces ? [] : policiesTargeting(args.resources, GATEWAY_TYPES.backendTrafficPolicy, gatewayNs, "Gateway", gatewayName)), ...routeLevel].flatMap(tenantLimitRules);
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
            { description: "A tenant's dedicated endpoint: its own load-balancing policy replaces the Gateway's limits; its replicas bound it.", resources: [...dedicatedSample(), routeTraffic("dedicated-initech-llama")] },
            { description: "A route's own policy that merges into the Gateway's keeps the tenant limits.", resources: [...gatewaySample(), routeTraffic("model-llama", { mergeType: "StrategicMerge" })] },
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
            {
                description: "A shared route's own BackendTrafficPolicy (no mergeType) replaces the Gateway's limits there.",
                expect: "tenant initech has no request limit on gateway gateway/models (route gateway/model-llama): no rate-limit rule there limits requests.",
                resources: [...gatewaySample(), routeTraffic("model-llama")],
            },
        ],
    },
});
