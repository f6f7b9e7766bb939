import * as http from "node:http";
import { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promtoolTestRules } from "./promtool";
import { closedWindows, GATEWAY_METRICS, gpuSecondsQuery, hostedQuery, httpPrometheus, meterWindow } from "../billing/metering";

/** A fake Prometheus HTTP API: answers /api/v1/query from a table of expression to result, and records what it was asked. */
let server: http.Server;
let baseUrl: string;
const answers = new Map<string, { metric: Record<string, string>; value: number }[]>();
const asked: { query: string; time: string }[] = [];

beforeAll(async () => {
    server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        if (url.pathname !== "/api/v1/query") {
            res.writeHead(404).end("not found");
            return;
        }
        const query = url.searchParams.get("query") ?? "";
        asked.push({ query, time: url.searchParams.get("time") ?? "" });
        if (query.includes("broken")) {
            res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }));
            return;
        }
        const result = (answers.get(query) ?? []).map((s) => ({ metric: s.metric, value: [Number(url.searchParams.get("time")), String(s.value)] }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("metering windows", () => {
    it("are the last closed whole windows, oldest first", () => {
        const w = closedWindows(new Date("2026-11-23T10:17:00Z"), 3600, 3);
        expect(w.map((x) => [x.start.toISOString(), x.end.toISOString()])).toEqual([
            ["2026-11-23T07:00:00.000Z", "2026-11-23T08:00:00.000Z"],
            ["2026-11-23T08:00:00.000Z", "2026-11-23T09:00:00.000Z"],
            ["2026-11-23T09:00:00.000Z", "2026-11-23T10:00:00.000Z"],
        ]);
    });
});

describe("metering against a fake Prometheus", () => {
    const window = { start: new Date("2026-11-23T09:00:00Z"), end: new Date("2026-11-23T10:00:00Z") };

    it("turns GPU requests per tenant namespace and pool into GPU-seconds, and gateway counters into hosted usage", async () => {
        answers.set(gpuSecondsQuery(3600), [
            { metric: { namespace: "tenant-acme", label_compute_region_io_pool: "shared-l40s", label_compute_region_io_gpu_model: "l40s" }, value: 21600 },
            { metric: { namespace: "tenant-globex", label_compute_region_io_pool: "shared-l40s", label_compute_region_io_gpu_model: "l40s" }, value: 1800.4444 },
            { metric: { namespace: "tenant-idle", label_compute_region_io_pool: "shared-l40s" }, value: 0 },
            { metric: { namespace: "internal", label_compute_region_io_pool: "internal-l40s" }, value: 3600 },
        ]);
        answers.set(hostedQuery(GATEWAY_METRICS.requests, 3600), [{ metric: { tenant: "initech", model: "llama-3-8b" }, value: 120.0000001 }]);
        answers.set(hostedQuery(GATEWAY_METRICS.inputTokens, 3600), [{ metric: { tenant: "initech", model: "llama-3-8b" }, value: 64000 }]);
        answers.set(hostedQuery(GATEWAY_METRICS.outputTokens, 3600), [{ metric: { tenant: "initech", model: "llama-3-8b" }, value: 15999.7 }]);
        const usage = await meterWindow(httpPrometheus(baseUrl), window);
        expect(usage.gpu).toEqual([
            { tenant: "acme", pool: "shared-l40s", gpuModel: "l40s", window, gpuSeconds: 21600 },
            { tenant: "globex", pool: "shared-l40s", gpuModel: "l40s", window, gpuSeconds: 1800.444 },
        ]);
        expect(usage.hosted).toEqual([{ tenant: "initech", model: "llama-3-8b", window, requests: 120, inputTokens: 64000, outputTokens: 16000 }]);
        // Every query is evaluated at the window's end.
        expect(new Set(asked.map((a) => a.time))).toEqual(new Set([String(window.end.getTime() / 1000)]));
    });

    it("asks for running pods' GPU requests in tenant namespaces, joined to the node's pool", () => {
        const q = gpuSecondsQuery(3600);
        expect(q).toContain('kube_pod_container_resource_requests{resource="nvidia_com_gpu",namespace=~"tenant-.+"}');
        expect(q).toContain('kube_pod_status_phase{phase="Running"');
        expect(q).toContain("[3600s:60s]");
        expect(q).toMatch(/\* 3600$/);
    });

    it("reports a Prometheus error instead of writing nothing silently", async () => {
        await expect(httpPrometheus(baseUrl).query("broken(", new Date())).rejects.toThrow(/Prometheus answered 400 .*parse error/);
        await expect(httpPrometheus(`${baseUrl}/nope`).query("up", new Date())).rejects.toThrow(/answered 404/);
    });
});

/**
 * The hosted-usage queries under a real PromQL engine (promtool, installed by
 * scripts/install-system-deps.sh): the AI Gateway's series as it exports them, failed requests
 * left out, the model label renamed for the usage records.
 */
describe("hosted-usage queries under promtool", () => {
    function evaluate(expr: string, series: { series: string; values: string }[], expected: { labels: string; value: number }[]): { status: number | null; output: string } {
        return promtoolTestRules({ rule_files: [], evaluation_interval: "1m", tests: [{ interval: "1m", input_series: series, promql_expr_test: [{ expr, eval_time: "60m", exp_samples: expected.map((e) => ({ labels: e.labels, value: e.value })) }] }] });
    }
    const model = 'gen_ai_request_model="llama-3-8b",gen_ai_operation_name="chat",gen_ai_provider_name="openai"';

    it("counts a tenant's successful requests per model over the window, not its failed ones", () => {
        const r = evaluate(
            hostedQuery(GATEWAY_METRICS.requests, 3600),
            [
                { series: `gen_ai_server_request_duration_seconds_count{tenant="initech",${model}}`, values: "0+10x60" },
                { series: `gen_ai_server_request_duration_seconds_count{tenant="initech",${model},error_type="429"}`, values: "0+3x60" },
            ],
            [{ labels: '{tenant="initech",gen_ai_request_model="llama-3-8b",model="llama-3-8b"}', value: 600 }],
        );
        expect(r.output).toContain("SUCCESS");
        expect(r.status).toBe(0);
    });

    it("sums input and output tokens apart", () => {
        const series = [
            { series: `gen_ai_client_token_usage_sum{tenant="initech",${model},gen_ai_token_type="input"}`, values: "0+1000x60" },
            { series: `gen_ai_client_token_usage_sum{tenant="initech",${model},gen_ai_token_type="output"}`, values: "0+250x60" },
        ];
        const input = evaluate(hostedQuery(GATEWAY_METRICS.inputTokens, 3600), series, [{ labels: '{tenant="initech",gen_ai_request_model="llama-3-8b",model="llama-3-8b"}', value: 60000 }]);
        expect(input.output).toContain("SUCCESS");
        const output = evaluate(hostedQuery(GATEWAY_METRICS.outputTokens, 3600), series, [{ labels: '{tenant="initech",gen_ai_request_model="llama-3-8b",model="llama-3-8b"}', value: 15000 }]);
        expect(output.output).toContain("SUCCESS");
        // And the test would notice a wrong figure.
        const wrong = evaluate(hostedQuery(GATEWAY_METRICS.outputTokens, 3600), series, [{ labels: '{tenant="initech",gen_ai_request_model="llama-3-8b",model="llama-3-8b"}', value: 75000 }]);
        expect(wrong.status).not.toBe(0);
    });
});
