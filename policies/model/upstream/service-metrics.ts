import type { Source } from "./types";

/**
 * What the serving path's own metrics are called and how they are cut, read from the components at
 * the versions the region pins: the Envoy AI Gateway's GenAI histograms (per model and per tenant)
 * and Envoy's request counters on the gateway's listener. The SLOs' indicators are written from these
 * facts (policies/model/domain/slo.ts), so a latency threshold can only be one of a histogram's boundaries.
 */

const AI_GATEWAY_GENAI: Source = { repo: "envoyproxy/ai-gateway", ref: "v0.5.0", file: "internal/metrics/genai.go" };

export interface HistogramFact {
    /** The Prometheus name of the histogram (its `_bucket`, `_count` and `_sum` series). */
    name: string;
    /** Its explicit bucket boundaries, seconds. */
    buckets: readonly number[];
    /** What one observation is. */
    measures: string;
    source: Source;
}

/**
 * The AI Gateway's GenAI histograms. OpenTelemetry's Prometheus exporter names them with the unit
 * (`s` becomes `_seconds`) and writes attributes with dots as underscores (`gen_ai.request.model` as
 * `gen_ai_request_model`, `error.type` as `error_type`); the tenant label is the header attribute the
 * region maps (`metricsRequestHeaderAttributes`, components/model-gateway.ts).
 */
export const GEN_AI_HISTOGRAMS = {
    requestDuration: {
        name: "gen_ai_server_request_duration_seconds",
        buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
        measures: "every request the AI Gateway's upstream processor saw, from its request headers to the end of the response body",
        source: AI_GATEWAY_GENAI,
    },
    timeToFirstToken: {
        name: "gen_ai_server_time_to_first_token_seconds",
        buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0],
        measures: "the first token of a streamed response, from the request headers",
        source: AI_GATEWAY_GENAI,
    },
} as const satisfies Record<string, HistogramFact>;

/**
 * How the AI Gateway marks a failed request: any upstream answer outside 200-299 is recorded with
 * `error.type="_OTHER"` (one placeholder value for every failure); a success has no error attribute.
 * It sees only requests that reached the upstream filter: the gateway's own rate-limit refusals and
 * the replies Envoy makes itself (no healthy endpoint) never reach it.
 */
export const GEN_AI_FAILURE = {
    label: "error_type",
    value: "_OTHER",
    sources: [
        { repo: "envoyproxy/ai-gateway", ref: "v0.5.0", file: "internal/metrics/metrics_impl.go", note: "RecordRequestCompletion: error.type=_OTHER when not successful" },
        { repo: "envoyproxy/ai-gateway", ref: "v0.5.0", file: "internal/extproc/util.go", note: "isGoodStatusCode: 200 <= code < 300" },
    ] as readonly Source[],
} as const;

/**
 * Envoy's own counters on the gateway's data-plane listener, for the gateway as a whole: every
 * response it sends (its own 502/503/504 included) by status class, and the requests its global rate
 * limit refused. Envoy Gateway names a plain-HTTP listener's connection manager `http-<port>` with the
 * container port (xDS name scheme v1, the default of 1.7); the proxies' own stats listener is
 * `eg-stats-http` and is left out. The global rate-limit filter is created without a stat prefix, so
 * its refusals are `cluster.<route cluster>.ratelimit.over_limit`.
 */
export const ENVOY_GATEWAY_STATS = {
    listenerPrefixLabel: "envoy_http_conn_manager_prefix",
    /** The listener's connection-manager stat prefix for a plain-HTTP listener on a container port. */
    listenerPrefix: (containerPort: number) => `http-${containerPort}`,
    completed: "envoy_http_downstream_rq_completed",
    byClass: "envoy_http_downstream_rq_xx",
    classLabel: "envoy_response_code_class",
    rateLimited: "envoy_cluster_ratelimit_over_limit",
    sources: [
        { repo: "envoyproxy/gateway", ref: "v1.7.3", file: "internal/xds/translator/listener.go", note: "hcmStatPrefix: http-<port> (https- with TLS), the external port only under XDSNameSchemeV2" },
        { repo: "envoyproxy/gateway", ref: "v1.7.3", file: "api/v1alpha1/envoygateway_helpers.go", note: "XDSNameSchemeV2: false by default" },
        { repo: "envoyproxy/gateway", ref: "v1.7.3", file: "internal/xds/bootstrap/bootstrap.yaml.tpl", note: "the stats listener's stat_prefix eg-stats-http" },
        { repo: "envoyproxy/gateway", ref: "v1.7.3", file: "internal/xds/translator/ratelimit.go", note: "createRateLimitFilter: no stat_prefix" },
        { repo: "envoyproxy/envoy", ref: "v1.37.2", file: "source/common/config/well_known_names.cc", note: "tag extraction: envoy.http_conn_manager_prefix, envoy.response_code_class, envoy.cluster_name (Envoy Gateway 1.7.3's default proxy image is envoy distroless-v1.37.2)" },
    ] as readonly Source[],
} as const;

/** The boundaries of a histogram as Prometheus writes its `le` label: 2.x keeps the exporter's text ("1"), 3.x normalises to a float ("1.0"). */
export function leMatcher(bound: number): string {
    const text = String(bound);
    return Number.isInteger(bound) ? `${text}|${text}\\\\.0` : text.replace(".", "\\\\.");
}
