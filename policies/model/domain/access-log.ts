/**
 * Envoy access-log formats as Envoy renders them, for the operators a gateway log may use: enough to
 * render a line from a configured format for a given request and see what reaches the log. Semantics
 * from envoyproxy/envoy v1.37.2 (the proxy of Envoy Gateway v1.7.3), docs/root/configuration/
 * observability/access_log/usage.rst: a format dictionary's value that is exactly one operator is
 * rendered typed (a number for codes, durations and byte counts; null when the value is not
 * available); any other value is a string in which an unavailable operator reads `-`; header names
 * match case-insensitively; `%REQ(A?B)%` falls back to B when A is absent; `:N` truncates to N
 * characters; `%REQ(:PATH)%` carries the query string, `%REQ_WITHOUT_QUERY(...)%` does not.
 *
 * Operators outside this list are not rendered: `renderAccessLog` reports them as unknown, and the
 * credential policy cannot prove a format that uses them.
 */

/** A request as the access log sees it once the response is sent. */
export interface LoggedRequest {
    /** Request headers, names in any case (pseudo-headers `:path`, `:method`, `:authority` included). */
    requestHeaders: Readonly<Record<string, string>>;
    responseHeaders: Readonly<Record<string, string>>;
    /** The request body, which no operator reads: it is here so a test can prove it never appears. */
    body: string;
    /** Dynamic metadata by namespace (the AI Gateway's token counts). */
    dynamicMetadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    startTime: string;
    responseCode: number;
    responseFlags: string;
    durationMs: number;
    routeName: string;
    bytesReceived: number;
    bytesSent: number;
    protocol: string;
    upstreamHost?: string;
    upstreamCluster?: string;
    downstreamRemoteAddress: string;
}

type Value = string | number | null;

/** Operators that read a header, by what they read. */
const REQUEST_HEADER_OPERATORS = new Set(["REQ", "REQUEST_HEADER", "REQ_WITHOUT_QUERY"]);
const RESPONSE_HEADER_OPERATORS = new Set(["RESP", "RESPONSE_HEADER"]);
const TRAILER_OPERATORS = new Set(["TRAILER", "RESPONSE_TRAILER"]);

/** Operators without an argument, and what each reads from the request. */
const PLAIN_OPERATORS: Readonly<Record<string, (r: LoggedRequest) => Value>> = {
    START_TIME: (r) => r.startTime,
    RESPONSE_CODE: (r) => r.responseCode,
    RESPONSE_FLAGS: (r) => r.responseFlags || null,
    DURATION: (r) => r.durationMs,
    ROUTE_NAME: (r) => r.routeName || null,
    BYTES_RECEIVED: (r) => r.bytesReceived,
    BYTES_SENT: (r) => r.bytesSent,
    PROTOCOL: (r) => r.protocol,
    UPSTREAM_HOST: (r) => r.upstreamHost ?? null,
    UPSTREAM_CLUSTER: (r) => r.upstreamCluster ?? null,
    DOWNSTREAM_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress,
};

/** One `%OPERATOR(arg):N%` of a format. */
const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

function header(headers: Readonly<Record<string, string>>, name: string): string | undefined {
    const wanted = name.toLowerCase();
    return Object.entries(headers).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

/** Whether an operator is one this module renders (for a format's whole set of operators). */
export function operatorsOf(format: string): { operator: string; argument?: string }[] {
    return [...format.matchAll(OPERATOR)].map((m) => ({ operator: m[1], ...(m[2] !== undefined ? { argument: m[2] } : {}) }));
}

export function isKnownOperator(operator: string, argument?: string): boolean {
    if (REQUEST_HEADER_OPERATORS.has(operator) || RESPONSE_HEADER_OPERATORS.has(operator) || TRAILER_OPERATORS.has(operator)) return !!argument;
    if (operator === "DYNAMIC_METADATA") return !!argument && argument.includes(":");
    return operator in PLAIN_OPERATORS && argument === undefined;
}

function evaluate(operator: string, argument: string | undefined, request: LoggedRequest): Value {
    if (REQUEST_HEADER_OPERATORS.has(operator) || RESPONSE_HEADER_OPERATORS.has(operator) || TRAILER_OPERATORS.has(operator)) {
        const headers = RESPONSE_HEADER_OPERATORS.has(operator) ? request.responseHeaders : TRAILER_OPERATORS.has(operator) ? {} : request.requestHeaders;
        const [first, fallback] = (argument ?? "").split("?");
        let value = header(headers, first) ?? (fallback ? header(headers, fallback) : undefined);
        if (value !== undefined && operator === "REQ_WITHOUT_QUERY") value = value.split("?")[0];
        return value ?? null;
    }
    if (operator === "DYNAMIC_METADATA") {
        const [namespace, ...path] = (argument ?? "").split(":");
        let value: unknown = request.dynamicMetadata[namespace];
        for (const key of path) value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
        return typeof value === "number" || typeof value === "string" ? value : value === undefined || value === null ? null : JSON.stringify(value);
    }
    return PLAIN_OPERATORS[operator](request);
}

/** Renders one format string; unknown operators are collected, not guessed. */
function renderString(format: string, request: LoggedRequest, unknown: Set<string>): Value {
    const matches = [...format.matchAll(OPERATOR)];
    const value = (m: RegExpMatchArray): Value => {
        const [, operator, argument, max] = m;
        if (!isKnownOperator(operator, argument)) {
            unknown.add(`%${operator}${argument !== undefined ? `(${argument})` : ""}%`);
            return null;
        }
        const v = evaluate(operator, argument, request);
        return max !== undefined && v !== null ? String(v).slice(0, Number(max)) : v;
    };
    if (matches.length === 1 && matches[0][0] === format) return value(matches[0]);
    return format.replace(OPERATOR, (...args) => {
        const v = value(args.slice(0, 4) as unknown as RegExpMatchArray);
        return v === null ? "-" : String(v);
    });
}

/** An Envoy Gateway access-log format: a JSON dictionary or a text string. */
export interface AccessLogFormat {
    json?: Readonly<Record<string, string>>;
    text?: string;
}

/** The line Envoy writes for `request` with `format`, and the operators it could not render. */
export function renderAccessLog(format: AccessLogFormat, request: LoggedRequest): { line: string; unknownOperators: string[] } {
    const unknown = new Set<string>();
    let line: string;
    if (format.json) {
        const fields = Object.fromEntries(Object.keys(format.json).sort().map((key) => [key, renderString(format.json![key], request, unknown)]));
        line = JSON.stringify(fields);
    } else {
        const v = renderString(format.text ?? "", request, unknown);
        line = v === null ? "-" : String(v);
    }
    return { line, unknownOperators: [...unknown].sort() };
}

/**
 * Envoy Gateway's format when an EnvoyProxy configures no access-log settings: its JSON fields,
 * written to stdout (envoyproxy/gateway v1.7.3 internal/xds/translator/accesslog.go EnvoyJSONLogFields).
 */
export const ENVOY_GATEWAY_DEFAULT_FORMAT: AccessLogFormat = {
    json: {
        start_time: "%START_TIME%",
        method: "%REQ(:METHOD)%",
        "x-envoy-origin-path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
        protocol: "%PROTOCOL%",
        response_code: "%RESPONSE_CODE%",
        response_flags: "%RESPONSE_FLAGS%",
        duration: "%DURATION%",
        "x-forwarded-for": "%REQ(X-FORWARDED-FOR)%",
        "user-agent": "%REQ(USER-AGENT)%",
        "x-request-id": "%REQ(X-REQUEST-ID)%",
        ":authority": "%REQ(:AUTHORITY)%",
        upstream_host: "%UPSTREAM_HOST%",
        upstream_cluster: "%UPSTREAM_CLUSTER%",
        downstream_remote_address: "%DOWNSTREAM_REMOTE_ADDRESS%",
        route_name: "%ROUTE_NAME%",
    },
};

/** A value no real credential is: the probe's key, so finding it in a line proves a leak. */
export const PROBE_KEY = "crk-PROBEKEYpr0be0NLYf0rTHEacce55l0gQx7Zk2Wv9Jm4Ty8Lp3Rc";

/** Whether a rendered line holds the probe key or any 10 characters of it (a truncated key is still a leak). */
export function containsProbeKey(line: string): boolean {
    for (let i = 0; i + 10 <= PROBE_KEY.length; i++) if (line.includes(PROBE_KEY.slice(i, i + 10))) return true;
    return false;
}

/**
 * A hosted-model request carrying a key everywhere a client may put one: `Authorization: Bearer`,
 * the headers the gateway's API-key policies read (`keyHeaders`), `x-api-key`, a cookie and the
 * query string; the prompt in the body. The gateway has authenticated it (the tenant header set,
 * the key sanitized from Authorization is still what the access log sees if it reads the header:
 * Envoy logs the request headers as the filters left them, and a misconfigured route may not
 * sanitize), routed it and counted its tokens.
 */
export function probeRequest(keyHeaders: readonly string[] = []): LoggedRequest {
    const keyed = Object.fromEntries(keyHeaders.map((h) => [h, PROBE_KEY]));
    return {
        requestHeaders: {
            ...keyed,
            ":method": "POST",
            ":path": `/v1/chat/completions?api-key=${PROBE_KEY}`,
            ":authority": "models.example.com",
            authorization: `Bearer ${PROBE_KEY}`,
            "x-api-key": PROBE_KEY,
            "api-key": PROBE_KEY,
            cookie: `session=${PROBE_KEY}`,
            "x-tenant": "initech",
            "x-ai-eg-model": "llama-3-8b",
            "x-request-id": "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b",
            "user-agent": "OpenAI/Python 1.40.0",
            "x-forwarded-for": "198.51.100.7",
        },
        responseHeaders: { "content-type": "application/json", "x-envoy-upstream-service-time": "812" },
        body: JSON.stringify({ model: "llama-3-8b", messages: [{ role: "user", content: `secret prompt ${PROBE_KEY}` }] }),
        dynamicMetadata: { "io.envoy.ai_gateway": { llm_input_token: 412, llm_output_token: 96, llm_total_token: 508 } },
        startTime: "2026-12-06T04:10:37.844Z",
        responseCode: 200,
        responseFlags: "-",
        durationMs: 840,
        routeName: "httproute/gateway/model-llama-3-8b/rule/0/match/0/models_dev_example_com",
        bytesReceived: 2048,
        bytesSent: 4096,
        protocol: "HTTP/1.1",
        upstreamHost: "10.40.12.7:8000",
        upstreamCluster: "httproute/gateway/model-llama-3-8b/rule/0",
        downstreamRemoteAddress: "10.40.1.20:51234",
    };
}
