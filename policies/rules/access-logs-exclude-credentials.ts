import { resourcesOfType, stackPolicy } from "../engine/policy";
import { AccessLogFormat, containsProbeKey, ENVOY_GATEWAY_DEFAULT_FORMAT, probeRequest, renderAccessLog } from "../model/domain/access-log";
import { cannotDecide, plain, unknownIn } from "../model/evidence/deploy-input";
import { GATEWAY_TYPES } from "../model/domain/types";
import { accessLogSample } from "../samples/hosted-tiers";

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** Headers that carry credentials whatever the gateway is set to read. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"];

export const accessLogsExcludeCredentials = stackPolicy({
    name: "access-logs-exclude-credentials",
    description: "The gateway's access logs (invocation logs) never record an API key: no Authorization header, no header an API-key policy reads, no query string, no cookie.",
    rationale:
        "Invocation logs are kept for months, read by operators and auditors and shipped to CloudWatch: a key in them is a key handed to everyone who can read " +
        "the log group. Each configured format is rendered, as Envoy renders it, for a request that carries a probe key everywhere a client may put one; the key " +
        "must appear nowhere. An Envoy Gateway proxy with no access-log settings writes Envoy Gateway's default format, which logs the path with its query string.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set the EnvoyProxy's telemetry.accessLog settings to the invocation-log format (policies/model/domain/hosted-tiers.ts INVOCATION_LOG_FORMAT): headers by name " +
        "(never Authorization or the API-key header), %REQ_WITHOUT_QUERY(:PATH)% instead of %REQ(:PATH)%, token counts from dynamic metadata; no ALS request headers " +
        "that carry credentials. Or disable access logging.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-9", title: "Protection of Audit Information" },
        { framework: "NIST SP 800-53 Rev. 5", control: "IA-5(7)", title: "No Embedded Unencrypted Static Authenticators" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security: credentials are protected" },
    ],
    validateStack: (args, report) => {
        // A value unknown during the preview that could decide the verdict: the policy says "not run" (what it reported stands).
        let undecided: string | undefined;
        const note = (path: string | undefined) => {
            undecided ??= path;
            return path !== undefined;
        };
        // Where the gateway's API-key policies read keys from: also credential headers.
        const keyHeaders = [
            ...new Set(
                resourcesOfType(args, GATEWAY_TYPES.securityPolicy)
                    .map((p) => ({ name: p.name, props: plain(p.props) as Record<string, any> }))
                    .filter((p) => !note(unknownIn(p, "spec.apiKeyAuth.extractFrom")))
                    .flatMap((p) => list<any>(p.props.spec?.apiKeyAuth?.extractFrom).flatMap((e) => list<string>(e?.headers).map((h) => String(h).toLowerCase()))),
            ),
        ];
        const credentialHeaders = [...new Set([...CREDENTIAL_HEADERS, ...keyHeaders])];
        const probe = probeRequest(keyHeaders);
        const leaks = (format: AccessLogFormat): string[] => {
            if (format.json) return Object.keys(format.json).filter((k) => containsProbeKey(renderAccessLog({ json: { [k]: format.json![k] } }, probe).line));
            return containsProbeKey(renderAccessLog(format, probe).line) ? ["its text format"] : [];
        };
        for (const proxy of resourcesOfType(args, GATEWAY_TYPES.envoyProxy)) {
            const props = plain(proxy.props) as Record<string, any>;
            const name = `${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? proxy.name}`;
            const accessLog = props.spec?.telemetry?.accessLog as Record<string, any> | undefined;
            if (accessLog?.disable === true) continue;
            // Its format, sinks or the settings themselves unknown: what it logs is known only at deploy.
            if (note(unknownIn({ name: proxy.name, props }, "spec.telemetry.accessLog"))) continue;
            const settings = list<any>(accessLog?.settings);
            if (settings.length === 0) {
                const fields = leaks(ENVOY_GATEWAY_DEFAULT_FORMAT);
                report(`EnvoyProxy ${name} sets no access-log format, so Envoy Gateway writes its default one, whose ${fields.join(", ")} would record a key sent in the query string.`, proxy.urn);
                continue;
            }
            settings.forEach((setting, i) => {
                const format: AccessLogFormat = setting?.format?.json ? { json: setting.format.json } : typeof setting?.format?.text === "string" ? { text: setting.format.text } : ENVOY_GATEWAY_DEFAULT_FORMAT;
                const rendered = renderAccessLog(format, probe);
                if (rendered.unknownOperators.length > 0) report(`EnvoyProxy ${name} access log ${i} uses ${rendered.unknownOperators.join(", ")}, which this policy cannot prove carries no credential.`, proxy.urn);
                const fields = leaks(format);
                if (fields.length > 0) report(`EnvoyProxy ${name} access log ${i} records an API key: ${fields.join(", ")} ${fields.length === 1 ? "renders" : "render"} the probe key of a request that carries one (Authorization, the API-key headers, the query string or a cookie).`, proxy.urn);
                for (const sink of list<any>(setting?.sinks)) {
                    const headers = list<string>(sink?.als?.http?.requestHeaders).filter((h) => credentialHeaders.includes(String(h).toLowerCase()));
                    if (headers.length > 0) report(`EnvoyProxy ${name} access log ${i} sends request headers ${headers.join(", ")} to its ALS sink: they carry credentials.`, proxy.urn);
                }
            });
        }
        if (undecided) cannotDecide(undecided);
    },
    samples: {
        allowed: [
            { description: "The invocation-log format: tenant, model, route, status, latency, tokens and request id.", resources: accessLogSample() },
            { description: "Access logging turned off.", resources: accessLogSample((t) => (t.accessLog = { disable: true })) },
            { description: "The path without its query string.", resources: accessLogSample((t) => (t.accessLog.settings[0].format.json.path = "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%")) },
        ],
        disallowed: [
            { description: "The Authorization header logged.", expect: "access log 0 records an API key: auth renders the probe key", resources: accessLogSample((t) => (t.accessLog.settings[0].format.json.auth = "%REQ(AUTHORIZATION)%")) },
            { description: "The header an API-key policy reads, in a text format.", expect: "access log 0 records an API key: its text format renders", resources: accessLogSample((t) => (t.accessLog.settings[0].format = { type: "Text", text: "%START_TIME% %REQ(authorization):20% %RESPONSE_CODE%\n" })) },
            { description: "The path with its query string.", expect: "records an API key: path renders the probe key", resources: accessLogSample((t) => (t.accessLog.settings[0].format.json.path = "%REQ(:PATH)%")) },
            { description: "Envoy Gateway's default format (no settings).", expect: "sets no access-log format, so Envoy Gateway writes its default one, whose x-envoy-origin-path would record a key", resources: accessLogSample((t) => delete t.accessLog) },
            { description: "An operator the policy cannot render.", expect: "uses %FILTER_STATE(io.envoy.ai_gateway)%, which this policy cannot prove", resources: accessLogSample((t) => (t.accessLog.settings[0].format.json.state = "%FILTER_STATE(io.envoy.ai_gateway)%")) },
            {
                description: "Credential headers sent to an access-log service.",
                expect: "sends request headers authorization to its ALS sink",
                resources: accessLogSample((t) => t.accessLog.settings[0].sinks.push({ type: "ALS", als: { type: "HTTP", backendRefs: [{ name: "als", port: 9000 }], http: { requestHeaders: ["authorization", "x-request-id"] } } })),
            },
        ],
    },
});
