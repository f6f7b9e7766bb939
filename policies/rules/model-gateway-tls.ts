import { resourcesOfType, stackPolicy } from "../engine/policy";
import { modelRoutes } from "../model/evidence/gateway-evidence";
import { GATEWAY_TYPES } from "../model/domain/types";
import { gatewaySample } from "../samples/gateway";

const ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-";
/** ELB TLS policies that allow only TLS 1.2 and 1.3. */
const STRONG_TLS_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/;

export const modelGatewayTls = stackPolicy({
    name: "model-gateway-tls",
    description:
        "The Gateway serving model routes is exposed only through a network load balancer that terminates TLS 1.2+ with an ACM certificate on every listener port, and admits only listed client networks.",
    rationale: "Tenants' API keys and prompts cross the internet: a plaintext listener leaks both, and a certificate outside ACM is not renewed before it expires and takes the API down.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Point the GatewayClass at an EnvoyProxy whose envoyService uses loadBalancerClass service.k8s.aws/nlb with annotations aws-load-balancer-ssl-cert (an ACM ARN), aws-load-balancer-ssl-ports listing every Gateway listener port, and aws-load-balancer-ssl-negotiation-policy ELBSecurityPolicy-TLS13-1-2-2021-06, plus loadBalancerSourceRanges. Set compute-region:gateway.certificateArn and clientCidrs.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-8", title: "Transmission Confidentiality and Integrity" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-12", title: "Cryptographic Key Establishment and Management" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.7", title: "Restricts the transmission of data to authorized users and processes" },
    ],
    validateStack: (args, report) => {
        const served = new Set(modelRoutes(args.resources).flatMap((r) => r.gateways));
        const of = (type: string) => resourcesOfType(args, type);
        for (const gw of of(GATEWAY_TYPES.gateway)) {
            const id = `${gw.props.metadata?.namespace ?? "default"}/${gw.props.metadata?.name}`;
            if (!served.has(id)) continue;
            const className = gw.props.spec?.gatewayClassName;
            const gatewayClass = of(GATEWAY_TYPES.gatewayClass).find((c) => c.props.metadata?.name === className);
            const params = gw.props.spec?.infrastructure?.parametersRef ?? gatewayClass?.props.spec?.parametersRef;
            const proxy = of(GATEWAY_TYPES.envoyProxy).find(
                (p) => params?.kind === "EnvoyProxy" && p.props.metadata?.name === params.name && (p.props.metadata?.namespace ?? "default") === (params.namespace ?? gw.props.metadata?.namespace ?? "default"),
            );
            if (!proxy) {
                report(`gateway ${id} serves model routes but has no EnvoyProxy of this stack (through its GatewayClass ${className ?? "?"} or infrastructure): its load balancer, TLS and exposure are unknown.`);
                continue;
            }
            const service = proxy.props.spec?.provider?.kubernetes?.envoyService ?? {};
            const annotations: Record<string, string> = service.annotations ?? {};
            if (service.loadBalancerClass !== "service.k8s.aws/nlb") report(`gateway ${id}: its Service is not an NLB of the AWS Load Balancer Controller (loadBalancerClass ${JSON.stringify(service.loadBalancerClass ?? null)}).`);
            const cert = annotations[`${ANNOTATION}ssl-cert`];
            if (typeof cert !== "string" || !cert.split(",").every((c) => ACM_ARN.test(c.trim()))) report(`gateway ${id}: its NLB has no ACM certificate (${ANNOTATION}ssl-cert is ${JSON.stringify(cert ?? null)}).`);
            const tlsPorts = String(annotations[`${ANNOTATION}ssl-ports`] ?? "").split(",").map((p) => p.trim());
            for (const listener of gw.props.spec?.listeners ?? []) {
                if (!tlsPorts.includes(String(listener?.port))) report(`gateway ${id}: listener ${listener?.name ?? "?"} on port ${listener?.port} is served in plaintext (not in ${ANNOTATION}ssl-ports).`);
            }
            const tlsPolicy = annotations[`${ANNOTATION}ssl-negotiation-policy`];
            if (typeof tlsPolicy !== "string" || !STRONG_TLS_POLICY.test(tlsPolicy)) report(`gateway ${id}: its TLS policy ${JSON.stringify(tlsPolicy ?? null)} is not a TLS 1.2+ ELB security policy.`);
            const sources = service.loadBalancerSourceRanges;
            if (!Array.isArray(sources) || sources.length === 0) report(`gateway ${id}: its NLB lists no client networks (loadBalancerSourceRanges).`);
        }
    },
    samples: {
        allowed: [{ description: "An NLB terminating TLS 1.2+ with an ACM certificate on the only listener port.", resources: gatewaySample() }],
        disallowed: [
            { description: "A second, plaintext listener.", expect: "listener plain on port 80 is served in plaintext", resources: gatewaySample((p) => p.gateway.spec.listeners.push({ name: "plain", protocol: "HTTP", port: 80 })) },
            { description: "No certificate.", expect: "its NLB has no ACM certificate", resources: gatewaySample((p) => delete p.proxy.spec.provider.kubernetes.envoyService.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]) },
            { description: "A TLS 1.0 policy.", expect: 'its TLS policy "ELBSecurityPolicy-2016-08" is not a TLS 1.2+', resources: gatewaySample((p) => (p.proxy.spec.provider.kubernetes.envoyService.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] = "ELBSecurityPolicy-2016-08")) },
            {
                description: "A Classic Load Balancer (no loadBalancerClass): the AWS Load Balancer Controller's NLB settings do not apply.",
                expect: "gateway gateway/models: its Service is not an NLB of the AWS Load Balancer Controller (loadBalancerClass null)",
                resources: gatewaySample((p) => delete p.proxy.spec.provider.kubernetes.envoyService.loadBalancerClass),
            },
            {
                description: "An NLB open to every network.",
                expect: "gateway gateway/models: its NLB lists no client networks (loadBalancerSourceRanges)",
                resources: gatewaySample((p) => delete p.proxy.spec.provider.kubernetes.envoyService.loadBalancerSourceRanges),
            },
            { description: "No EnvoyProxy: the default, a plaintext load balancer.", expect: "has no EnvoyProxy of this stack", resources: gatewaySample((p) => delete p.gatewayClass.spec.parametersRef) },
        ],
    },
});
