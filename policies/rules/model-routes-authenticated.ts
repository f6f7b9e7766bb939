import { stackPolicy } from "../engine/policy";
import { GATEWAY, LABELS } from "../model/domain/conventions";
import { credentialSecrets, keySecrets, modelRoutes, policiesTargeting } from "../model/evidence/gateway-evidence";
import { GATEWAY_TYPES } from "../model/domain/types";
import { gatewaySample } from "../samples/gateway";

export const modelRoutesAuthenticated = stackPolicy({
    name: "model-routes-authenticated",
    description:
        "Every hosted-model route requires an API key, accepts only the keys of tenants granted its model, strips the key before the model server, and forwards the verified tenant in a header clients cannot set.",
    rationale:
        "The gateway is what sells hosted models: a route without a key is free access for anyone who finds the hostname; a route taking a tenant's key for a model it did not buy is unbilled access; a tenant header a client could forge would let one tenant spend another's limits and be billed to it.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: `Attach a SecurityPolicy to each model route's HTTPRoute (same name as the AIGatewayRoute) with apiKeyAuth: credentialRefs to the granted tenants' key Secrets only (the ${GATEWAY.grantedModelsAnnotation} annotation lists their models), forwardClientIDHeader ${GATEWAY.tenantHeader}, sanitize true; and a ClientTrafficPolicy on the Gateway that removes ${GATEWAY.tenantHeader} from earlyRequestHeaders. The ModelGateway component does all of this from compute-region:tenants[].models.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "IA-2", title: "Identification and Authentication" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-3", title: "Access Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security software, infrastructure, and architectures" },
    ],
    validateStack: (args, report) => {
        const secrets = keySecrets(args.resources);
        for (const route of modelRoutes(args.resources)) {
            const at = `${route.namespace}/${route.name}`;
            if (route.models.length === 0) report(`model route ${at} matches no model exactly: every rule must match one model on ${GATEWAY.modelHeader}, so a key's grants can be checked.`);
            const policies = policiesTargeting(args.resources, GATEWAY_TYPES.securityPolicy, route.namespace, "HTTPRoute", route.name).filter((p) => p.props.spec?.apiKeyAuth);
            if (policies.length === 0) {
                report(`model route ${at} has no SecurityPolicy with apiKeyAuth on its HTTPRoute: anyone can call ${route.models.join(", ") || "it"}.`);
                continue;
            }
            for (const policy of policies) {
                const auth = policy.props.spec.apiKeyAuth;
                const refs = credentialSecrets(policy, secrets);
                if (refs.length === 0) report(`model route ${at}: its API-key policy lists no credentials.`);
                if (auth.forwardClientIDHeader !== GATEWAY.tenantHeader) report(`model route ${at} forwards the tenant in ${JSON.stringify(auth.forwardClientIDHeader ?? null)}, not ${GATEWAY.tenantHeader}: limits and metering key on ${GATEWAY.tenantHeader}.`);
                if (auth.sanitize !== true) report(`model route ${at} passes tenants' API keys on to the model server (set sanitize: true).`);
                for (const { ref, secret } of refs) {
                    if (!secret) {
                        report(`model route ${at} accepts keys from ${ref}, which is not a Secret of this stack: its tenant and grants cannot be checked.`);
                        continue;
                    }
                    if (!secret.tenant) report(`model route ${at} accepts keys from ${ref}, which names no tenant (label ${LABELS.tenant}).`);
                    else if (secret.clientIds?.some((id) => id !== secret.tenant)) report(`key Secret ${ref} holds client ids ${secret.clientIds.join(", ")}: each must be the tenant's name (${secret.tenant}), which the gateway forwards as the tenant.`);
                    for (const model of route.models) {
                        if (!secret.grantedModels.includes(model)) report(`model route ${at} accepts the key of tenant ${secret.tenant ?? "?"} (${ref}), which is not granted model ${model}.`);
                    }
                }
            }
            for (const gateway of route.gateways) {
                const [gatewayNs, gatewayName] = gateway.split("/");
                const strips = policiesTargeting(args.resources, GATEWAY_TYPES.clientTrafficPolicy, gatewayNs, "Gateway", gatewayName).some((p) =>
                    (p.props.spec?.headers?.earlyRequestHeaders?.remove ?? []).some((h: unknown) => typeof h === "string" && h.toLowerCase() === GATEWAY.tenantHeader),
                );
                if (!strips) report(`gateway ${gateway} (of route ${at}) does not remove ${GATEWAY.tenantHeader} from client requests before authentication: a client could claim a tenant.`);
            }
        }
    },
    samples: {
        allowed: [{ description: "A model route taking only the granted tenant's key, forwarding the tenant, stripping the key; the client's tenant header removed.", resources: gatewaySample() }],
        disallowed: [
            { description: "A model route with no API-key policy.", expect: "has no SecurityPolicy with apiKeyAuth", resources: gatewaySample((p) => (p.security.spec.targetRefs[0].name = "another-route")) },
            { description: "A route accepting a tenant not granted its model.", expect: "accepts the key of tenant initech (gateway/api-key-initech), which is not granted model llama", resources: gatewaySample((p) => (p.secret.metadata.annotations["compute-region.io/granted-models"] = "qwen")) },
            { description: "The tenant forwarded in another header.", expect: 'forwards the tenant in "x-client"', resources: gatewaySample((p) => (p.security.spec.apiKeyAuth.forwardClientIDHeader = "x-client")) },
            { description: "Keys passed on to the model server.", expect: "passes tenants' API keys on to the model server", resources: gatewaySample((p) => delete p.security.spec.apiKeyAuth.sanitize) },
            { description: "A key Secret whose client id is not its tenant.", expect: "holds client ids shared-key", resources: gatewaySample((p) => (p.secret.stringData = { "shared-key": "[secret]" })) },
            { description: "Clients may send the tenant header.", expect: "does not remove x-tenant from client requests", resources: gatewaySample((p) => (p.clientTraffic.spec.headers = {})) },
            {
                description: "A route that matches the model by prefix: no key's grant can be checked against it.",
                expect: "model route gateway/model-llama matches no model exactly: every rule must match one model on x-ai-eg-model",
                resources: gatewaySample((p) => (p.route.spec.rules[0].matches[0].headers[0].type = "RegularExpression")),
            },
            { description: "An API-key policy with no credentials.", expect: "model route gateway/model-llama: its API-key policy lists no credentials", resources: gatewaySample((p) => (p.security.spec.apiKeyAuth.credentialRefs = [])) },
            {
                description: "A key Secret that names no tenant: its callers cannot be limited or metered.",
                expect: "model route gateway/model-llama accepts keys from gateway/api-key-initech, which names no tenant (label compute-region.io/tenant)",
                resources: gatewaySample((p) => (p.secret.metadata.labels = {})),
            },
            { description: "A key from a Secret the stack does not make.", expect: "which is not a Secret of this stack", resources: gatewaySample((p) => (p.security.spec.apiKeyAuth.credentialRefs = [{ name: "hand-made-keys" }])) },
        ],
    },
});
