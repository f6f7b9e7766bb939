import { resourcesOfType, stackPolicy } from "../engine/policy";
import { GATEWAY, LABELS } from "../model/domain/conventions";
import { credentialSecrets, keySecrets, modelRoutes, policiesTargeting } from "../model/evidence/gateway-evidence";
import { DEDICATED_ENDPOINT, dedicatedModelName, ENDPOINT_LABEL, parseDedicatedModelName } from "../model/domain/hosted-tiers";
import { cannotDecide } from "../model/evidence/deploy-input";
import { routeTargets } from "../model/evidence/hosted-tiers-evidence";
import { GATEWAY_TYPES } from "../model/domain/types";
import { dedicatedSample } from "../samples/hosted-tiers";

export const dedicatedEndpointsOneTenant = stackPolicy({
    name: "dedicated-endpoints-one-tenant",
    description:
        "A dedicated endpoint's route accepts its own tenant's API key and no other, serves the model name <tenant>/<model>, and reaches only that tenant's dedicated model servers; no other route reaches them.",
    rationale:
        "A dedicated endpoint is capacity one tenant bought (Bedrock's Provisioned Throughput, a Together or Fireworks dedicated deployment): " +
        "another tenant's key on its route, or a shared route sending traffic to it, would let others slow it down and use what they did not buy; " +
        "a dedicated route in front of the shared servers would sell shared capacity as dedicated.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: `Declare dedicated endpoints in compute-region:tenants[].dedicated: the program makes the route ${"dedicated-<tenant>-<model>"} (labels ${ENDPOINT_LABEL}=${DEDICATED_ENDPOINT}, ${LABELS.tenant}, ${LABELS.model}) matching ${GATEWAY.modelHeader} <tenant>/<model>, a SecurityPolicy with that tenant's key Secret only, and a Backend for the tenant's own model server. Never point another route at a dedicated model server.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-3", title: "Access Enforcement" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Block access to other tenant resources" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security software, infrastructure, and architectures" },
    ],
    validateStack: (args, report) => {
        const secrets = keySecrets(args.resources);
        const routes = resourcesOfType(args, GATEWAY_TYPES.aiRoute);
        // Links a route's backends could not be followed through for a value unknown during the preview.
        const blind: string[] = [];
        for (const route of modelRoutes(args.resources)) {
            const resource = routes.find((r) => (r.props.metadata?.name ?? "?") === route.name && (r.props.metadata?.namespace ?? "default") === route.namespace)!;
            const labels = resource.props.metadata?.labels ?? {};
            const at = `${route.namespace}/${route.name}`;
            const dedicatedModels = route.models.map(parseDedicatedModelName).filter((m): m is { tenant: string; model: string } => !!m);
            const labelled = labels[ENDPOINT_LABEL] === DEDICATED_ENDPOINT;
            const { servers, unresolved, undecided } = routeTargets(args.resources, resource);
            blind.push(...undecided);
            if (!labelled && dedicatedModels.length === 0) {
                // A shared route: it must reach no tenant's dedicated servers.
                for (const s of servers.filter((x) => x.dedicatedTo !== undefined)) report(`route ${at} (shared models ${route.models.join(", ")}) sends traffic to ${s.namespace}/${s.name}, tenant ${s.dedicatedTo}'s dedicated endpoint.`);
                continue;
            }
            const tenant = labels[LABELS.tenant];
            const model = labels[LABELS.model];
            if (!labelled || typeof tenant !== "string" || typeof model !== "string") {
                report(`route ${at} serves dedicated model names (${route.models.join(", ")}) but is not labelled as a dedicated endpoint with its tenant and model (${ENDPOINT_LABEL}=${DEDICATED_ENDPOINT}, ${LABELS.tenant}, ${LABELS.model}).`);
                continue;
            }
            const expected = dedicatedModelName(tenant, model);
            if (route.models.length === 0 || route.models.some((m) => m !== expected)) report(`dedicated route ${at} of tenant ${tenant} matches ${route.models.join(", ") || "no model"}: it must match exactly ${expected} on ${GATEWAY.modelHeader}.`);
            const policies = policiesTargeting(args.resources, GATEWAY_TYPES.securityPolicy, route.namespace, "HTTPRoute", route.name).filter((p) => p.props.spec?.apiKeyAuth);
            const refs = policies.flatMap((p) => credentialSecrets(p, secrets));
            const others = [...new Set(refs.filter((r) => r.secret?.tenant !== tenant).map((r) => (r.secret?.tenant ? `tenant ${r.secret.tenant} (${r.ref})` : r.ref)))];
            if (others.length > 0) report(`dedicated route ${at} of tenant ${tenant} admits the keys of ${others.join(", ")}: it must admit ${tenant}'s key only.`);
            if (policies.length === 0 || !refs.some((r) => r.secret?.tenant === tenant)) report(`dedicated route ${at} of tenant ${tenant} does not require ${tenant}'s API key (no SecurityPolicy with apiKeyAuth naming its key Secret).`);
            for (const link of unresolved) report(`dedicated route ${at}: ${link} is not a resource of this stack, so what it serves cannot be checked.`);
            if (unresolved.length === 0 && undecided.length === 0 && servers.length === 0) report(`dedicated route ${at} of tenant ${tenant} reaches no model server.`);
            for (const s of servers.filter((x) => x.dedicatedTo !== tenant)) {
                report(`dedicated route ${at} of tenant ${tenant} sends traffic to ${s.namespace}/${s.name}, ${s.dedicatedTo === undefined ? "a shared model server" : `tenant ${s.dedicatedTo}'s dedicated endpoint`}.`);
            }
        }
        if (blind.length > 0) cannotDecide(blind[0]);
    },
    samples: {
        allowed: [{ description: "A tenant's dedicated route: its model name, its key only, its own model server; the shared route reaches the shared server.", resources: dedicatedSample() }],
        disallowed: [
            {
                description: "Another tenant's key on the dedicated route.",
                expect: "dedicated route gateway/dedicated-initech-llama of tenant initech admits the keys of tenant globex (gateway/api-key-globex): it must admit initech's key only",
                resources: dedicatedSample((p) => p.dedicatedAuth.spec.apiKeyAuth.credentialRefs.push({ group: "", kind: "Secret", name: "api-key-globex" })),
            },
            {
                description: "The dedicated route has no API-key policy.",
                expect: "does not require initech's API key",
                resources: dedicatedSample((p) => (p.dedicatedAuth.spec.targetRefs[0].name = "elsewhere")),
            },
            {
                description: "The dedicated route in front of the shared model server.",
                expect: "sends traffic to serving/model-llama, a shared model server",
                resources: dedicatedSample((p) => (p.dedicatedBackend.spec.endpoints[0].fqdn.hostname = "model-llama.serving.svc.cluster.local")),
            },
            {
                description: "The shared route sends traffic to the tenant's dedicated servers.",
                expect: "route gateway/model-llama (shared models llama) sends traffic to serving/dedicated-initech-llama, tenant initech's dedicated endpoint",
                resources: dedicatedSample((p) => (p.sharedBackend.spec.endpoints[0].fqdn.hostname = "dedicated-initech-llama.serving.svc.cluster.local")),
            },
            {
                description: "The dedicated route matches another tenant's model name.",
                expect: "matches globex/llama: it must match exactly initech/llama",
                resources: dedicatedSample((p) => (p.dedicatedRoute.spec.rules[0].matches[0].headers[0].value = "globex/llama")),
            },
            {
                description: "A route serving a dedicated model name without the dedicated labels.",
                expect: "serves dedicated model names (initech/llama) but is not labelled as a dedicated endpoint",
                resources: dedicatedSample((p) => delete p.dedicatedRoute.metadata.labels),
            },
            {
                description: "The dedicated route's backend is not in the stack.",
                expect: "Backend gateway/dedicated-initech-llama is not a resource of this stack",
                resources: dedicatedSample((p) => (p.dedicatedAiBackend.spec.backendRef.name = "dedicated-initech-llama")).filter((r) => r.name !== "dedicated-backend"),
            },
            {
                description: "The dedicated route reaches no model server (its Service selects nothing).",
                expect: "reaches no model server",
                resources: dedicatedSample((p) => (p.dedicatedService.spec.selector = { app: "nothing" })),
            },
        ],
    },
});
