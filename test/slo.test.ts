import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { describe, expect, it } from "vitest";
import {
    attainmentText,
    BURN_RATE_WINDOWS,
    burnAlertProblems,
    burnRate,
    creditCents,
    creditPercent,
    parseRegistry,
    poolCapacity,
    RecordedTerms,
    SLO_ALERT,
    SLO_METERING,
    SLO_RECORDS,
    SloSpec,
    termsForMonth,
} from "compute-region-policies/model";
import { AlertRule, alertRulesOf } from "../components/alert-rules";
import { sloDashboard } from "../components/dashboards";
import { sloRuleGroups } from "../components/slo-rules";
import { parseRegionConfig } from "../stacks/config";
import { registryServiceLevelsOf, resolveCredits, resolveSlos } from "../stacks/config/reliability";
import { configProblems, devStackConfig, engineValues } from "./helpers";

/**
 * Service level objectives: the config that states them, the recording rules and multiwindow,
 * multi-burn-rate alerts made from them (run by promtool on synthetic series: a fast burn pages
 * within minutes, a slow burn only tickets, a budget-neutral error rate never alerts), and the
 * dashboard of their attainment and budget.
 */

const shared = poolCapacity({ name: "shared-l40s", role: "shared", instanceType: "g6e.48xlarge", minNodes: 2, maxNodes: 4, headroom: 0.25 }, 0); // 16 GPUs
const slo = (spec: Partial<SloSpec> & Pick<SloSpec, "name" | "service" | "indicator" | "objective">): SloSpec => ({ windowDays: 30, team: spec.service === "pool" ? "capacity" : "serving", description: `${spec.name} holds`, ...spec });
const SLOS: SloSpec[] = [
    slo({ name: "model-llama-availability", service: "model", target: "llama", indicator: "availability", objective: 0.999 }),
    slo({ name: "model-llama-latency", service: "model", target: "llama", indicator: "latency", objective: 0.95, latency: { metric: "timeToFirstToken", thresholdSeconds: 2.5 } }),
    // A whole-second bound: Prometheus 2.x keeps the exporter's le="1", 3.x writes le="1.0"; the rules match both.
    slo({ name: "model-qwen-latency", service: "model", target: "qwen", indicator: "latency", objective: 0.95, latency: { metric: "timeToFirstToken", thresholdSeconds: 1 } }),
    slo({ name: "gateway-availability", service: "gateway", indicator: "availability", objective: 0.999 }),
    slo({ name: "pool-shared-l40s-gpu-availability", service: "pool", target: "shared-l40s", indicator: "gpu-availability", objective: 0.99 }),
    // A 28-day window: the workbook's burn rates scale with it.
    slo({ name: "model-mistral-availability", service: "model", target: "mistral", indicator: "availability", objective: 0.99, windowDays: 28 }),
];
const groups = sloRuleGroups(SLOS, [shared], "https://runbooks.example/rb.md");

function burnAlert(name: string, severity: "critical" | "warning"): AlertRule {
    const found = alertRulesOf(groups).find((r) => r.labels.slo === name && r.labels.severity === severity);
    if (!found) throw new Error(`no ${severity} alert for ${name}`);
    return found;
}
const fires = (name: string, severity: "critical" | "warning") => {
    const r = burnAlert(name, severity);
    return { exp_labels: r.labels, exp_annotations: r.annotations };
};

const requests = (model: string, perMinute: string, failedPerMinute: string, tenant = "initech") => [
    { series: `gen_ai_server_request_duration_seconds_count{gen_ai_request_model="${model}",tenant="${tenant}"}`, values: perMinute },
    { series: `gen_ai_server_request_duration_seconds_count{gen_ai_request_model="${model}",tenant="${tenant}",error_type="_OTHER"}`, values: failedPerMinute },
];
const gpuNodes = (ready: string[]) =>
    ready.flatMap((values, i) => [
        { series: `kube_node_status_allocatable{node="shared-${i}",resource="nvidia_com_gpu"}`, values: "8x400" },
        { series: `kube_node_labels{node="shared-${i}",label_compute_region_io_pool="shared-l40s"}`, values: "1x400" },
        { series: `kube_node_status_condition{node="shared-${i}",condition="Ready",status="true"}`, values },
        { series: `kube_node_spec_unschedulable{node="shared-${i}"}`, values: "0x400" },
    ]);

const burnCases = [
    {
        slos: ["model-llama-availability"],
        name: "a fast burn pages within minutes: half of llama's requests fail from the first hour on",
        input_series: requests("llama", "0+100x60 6000+50x60", "0x60 0+50x60"),
        alert_rule_test: [
            { eval_time: "59m", alertname: SLO_ALERT, exp_alerts: [] },
            // 1h window over 14.4 x 0.1% by the third minute, the 5m window at once; the 1d/2h ticket too (a page inhibits it in Alertmanager).
            { eval_time: "63m", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-availability", "critical"), fires("model-llama-availability", "warning")] },
        ],
    },
    {
        slos: ["model-llama-availability"],
        name: "a slow burn only tickets: 0.4% of llama's requests fail for hours (4x the budget's rate)",
        input_series: requests("llama", "0+996x200", "0+4x200"),
        alert_rule_test: [
            { eval_time: "30m", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-availability", "warning")] },
            { eval_time: "3h", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-availability", "warning")] },
        ],
    },
    {
        slos: ["model-llama-availability"],
        name: "a budget-neutral error rate never alerts: 0.09% of llama's requests fail, for hours",
        input_series: requests("llama", "0+9991x200", "0+9x200"),
        alert_rule_test: [
            { eval_time: "10m", alertname: SLO_ALERT, exp_alerts: [] },
            { eval_time: "1h", alertname: SLO_ALERT, exp_alerts: [] },
            { eval_time: "3h", alertname: SLO_ALERT, exp_alerts: [] },
        ],
    },
    {
        slos: ["model-llama-availability"],
        name: "a total failure is a burn, not missing data: llama answers nothing but errors from the start",
        input_series: [{ series: 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="llama",tenant="initech",error_type="_OTHER"}', values: "0+100x30" }],
        alert_rule_test: [{ eval_time: "5m", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-availability", "critical"), fires("model-llama-availability", "warning")] }],
    },
    {
        slos: ["model-llama-latency"],
        // A 95% objective's budget is 5%: 14.4x and 6x of it need most requests slow, here all of them
        // from the first hour on; the 6h/30m pair pages about 25 minutes in.
        name: "latency: llama's first tokens all slower than 2.5 s pages within half an hour; 2% slower (under the 5% budget) did not",
        input_series: [
            { series: 'gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model="llama",tenant="initech",le="2.5"}', values: "0+98x60 5880+0x60" },
            { series: 'gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="llama",tenant="initech"}', values: "0+100x120" },
        ],
        alert_rule_test: [
            { eval_time: "59m", alertname: SLO_ALERT, exp_alerts: [] },
            { eval_time: "90m", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-latency", "critical"), fires("model-llama-latency", "warning")] },
        ],
    },
    {
        slos: ["model-qwen-latency"],
        name: "latency at a whole-second bound matches both le spellings (2.x \"1\", 3.x \"1.0\"): all slow on one tenant, all fast on the other",
        input_series: [
            { series: 'gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model="qwen",tenant="a",le="1"}', values: "0x60" },
            { series: 'gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="qwen",tenant="a"}', values: "0+100x60" },
            { series: 'gen_ai_server_time_to_first_token_seconds_bucket{gen_ai_request_model="qwen",tenant="b",le="1.0"}', values: "0+100x60" },
            { series: 'gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="qwen",tenant="b"}', values: "0+100x60" },
        ],
        promql_expr_test: [{ expr: `${SLO_RECORDS.errorRatio("1h")}{slo="model-qwen-latency"}`, eval_time: "30m", exp_samples: [{ labels: `${SLO_RECORDS.errorRatio("1h")}{slo="model-qwen-latency"}`, value: 0.5 }] }],
    },
    {
        slos: ["gateway-availability"],
        name: "the gateway: tenants' own rate-limited requests (half of all) are no failure; half the rest failing with 5xx from the first hour on pages",
        input_series: [
            { series: 'envoy_http_downstream_rq_completed{envoy_http_conn_manager_prefix="http-10443"}', values: "0+1000x120" },
            { series: 'envoy_http_downstream_rq_completed{envoy_http_conn_manager_prefix="eg-stats-http"}', values: "0+5x120" },
            { series: 'envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix="http-10443",envoy_response_code_class="4"}', values: "0+500x120" },
            { series: 'envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix="http-10443",envoy_response_code_class="5"}', values: "0x60 0+250x60" },
            { series: 'envoy_cluster_ratelimit_over_limit{envoy_cluster_name="httproute/gateway/model-llama/rule/0"}', values: "0+500x120" },
        ],
        alert_rule_test: [
            { eval_time: "59m", alertname: SLO_ALERT, exp_alerts: [] },
            { eval_time: "63m", alertname: SLO_ALERT, exp_alerts: [fires("gateway-availability", "critical"), fires("gateway-availability", "warning")] },
        ],
    },
    {
        slos: ["pool-shared-l40s-gpu-availability"],
        name: "a pool: both nodes of shared-l40s go NotReady after an hour, leaving none of the 12 GPUs sold: pages within minutes",
        input_series: [...gpuNodes(["1x60 0x40", "1x60 0x40"]), { series: 'kueue_cluster_queue_nominal_quota{cluster_queue="acme-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "12x400" }],
        alert_rule_test: [
            { eval_time: "59m", alertname: SLO_ALERT, exp_alerts: [] },
            { eval_time: "70m", alertname: SLO_ALERT, exp_alerts: [fires("pool-shared-l40s-gpu-availability", "critical"), fires("pool-shared-l40s-gpu-availability", "warning")] },
        ],
    },
    {
        slos: ["pool-shared-l40s-gpu-availability"],
        name: "a pool with healthy GPUs beyond what it sold is fully available (headroom absorbs a lost node)",
        input_series: [...gpuNodes(["1x150", "1x60 0x90"]), { series: 'kueue_cluster_queue_nominal_quota{cluster_queue="acme-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "8x150" }],
        alert_rule_test: [{ eval_time: "2h", alertname: SLO_ALERT, exp_alerts: [] }],
        promql_expr_test: [{ expr: `${SLO_RECORDS.errorRatio("1h")}{slo="pool-shared-l40s-gpu-availability"}`, eval_time: "2h", exp_samples: [{ labels: `${SLO_RECORDS.errorRatio("1h")}{slo="pool-shared-l40s-gpu-availability"}`, value: 0 }] }],
    },
    {
        slos: ["model-llama-availability"],
        name: "per tenant for billing: each tenant's good and valid rates, as metering reads them at a step",
        input_series: [...requests("llama", "0+60x120", "0x120", "initech"), ...requests("llama", "0+30x120", "0+30x120", "hooli")],
        promql_expr_test: [
            { expr: `${SLO_RECORDS.good}{slo="model-llama-availability"}`, eval_time: "90m", exp_samples: [{ labels: `${SLO_RECORDS.good}{slo="model-llama-availability",tenant="hooli"}`, value: 0.5 }, { labels: `${SLO_RECORDS.good}{slo="model-llama-availability",tenant="initech"}`, value: 1 }] },
            // What metering reads at each of its steps: both rates by objective and tenant.
            {
                expr: SLO_METERING.stepQuery(),
                eval_time: "90m",
                exp_samples: ["hooli", "initech"].flatMap((tenant) => [
                    { labels: `{events="good",slo="model-llama-availability",tenant="${tenant}"}`, value: tenant === "hooli" ? 0.5 : 1 },
                    { labels: `{events="valid",slo="model-llama-availability",tenant="${tenant}"}`, value: 1 },
                ]),
            },
        ],
    },
];

/**
 * Runs each case under `promtool test rules` with only the groups of the objectives it reads (each
 * case its own rule and test file, one promtool process): every group is evaluated at every step.
 */
function promtoolCases(cases: readonly { slos: string[]; name: string; [k: string]: unknown }[], evaluationInterval = "1m"): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slo-cases-"));
    const files = cases.map(({ slos, name: _name, ...test }, i) => {
        fs.writeFileSync(path.join(dir, `rules-${i}.yaml`), toYaml({ groups: sloRuleGroups(SLOS.filter((s) => slos.includes(s.name)), [shared], "https://runbooks.example/rb.md") }));
        fs.writeFileSync(path.join(dir, `tests-${i}.yaml`), toYaml({ rule_files: [`rules-${i}.yaml`], evaluation_interval: evaluationInterval, tests: [{ interval: "1m", ...test }] }));
        return `tests-${i}.yaml`;
    });
    const r = spawnSync("promtool", ["test", "rules", ...files], { cwd: dir, encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("SLO rules under promtool", () => {
    it("are valid rules (promtool check rules on every generated group)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slo-"));
        for (const group of groups) {
            fs.writeFileSync(path.join(dir, "g.yaml"), toYaml({ groups: [group] }));
            const r = spawnSync("promtool", ["check", "rules", "g.yaml"], { cwd: dir, encoding: "utf8" });
            expect(`${r.stdout}${r.stderr}`, group.name).toContain("SUCCESS");
        }
    });

    it("page on a fast burn within minutes, ticket on a slow one, stay silent on a budget-neutral one, per indicator", () => {
        const r = promtoolCases(burnCases);
        expect(r.output).not.toContain("FAILED");
        expect(r.output.match(/SUCCESS/g)?.length).toBe(burnCases.length);
        expect(r.status).toBe(0);
    });

    it("follow the workbook: 14.4x over 1h and 5m, 6x over 6h and 30m page; 3x over 1d and 2h, 1x over 3d and 6h ticket (30 days; 28 days scale)", () => {
        expect(BURN_RATE_WINDOWS.map((w) => [w.severity, w.long, w.short, burnRate(w, 30)])).toEqual([
            ["critical", "1h", "5m", 14.4],
            ["critical", "6h", "30m", 6],
            ["warning", "1d", "2h", 3],
            ["warning", "3d", "6h", 1],
        ]);
        expect(BURN_RATE_WINDOWS.map((w) => burnRate(w, 28))).toEqual([13.44, 5.6, 2.8, 0.9333]);
        expect(burnAlert("model-mistral-availability", "critical").expr).toContain("(13.44 * 0.01)");
        for (const s of SLOS) for (const severity of ["critical", "warning"] as const) expect(burnAlertProblems(burnAlert(s.name, severity).expr, s.name, severity, s.objective, s.windowDays)).toEqual([]);
    });

    it("would catch an alert without its long window", () => {
        const expr = burnAlert("model-llama-availability", "critical").expr.replace('slo:error_ratio:rate1h{slo="model-llama-availability"} > (14.4 * 0.001) and ', "");
        expect(burnAlertProblems(expr, "model-llama-availability", "critical", 0.999, 30)).toEqual(["has no 1h long window beside its 5m short window: a short window alone pages on every brief blip"]);
    });

    it("would catch a burn the harness misses (the test can fail)", () => {
        const r = promtoolCases([{ slos: ["model-llama-availability"], name: "wrong", input_series: requests("llama", "0+9991x100", "0+9x100"), alert_rule_test: [{ eval_time: "1h", alertname: SLO_ALERT, exp_alerts: [fires("model-llama-availability", "warning")] }] }]);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain("FAILED");
    });
});

describe("SLOs as config", () => {
    const dev = parseRegionConfig(engineValues(devStackConfig()), "dev");

    it("gives every hosted model, the gateway and every pool that sells GPUs its objectives, the stack's or the defaults", () => {
        const specs = resolveSlos(dev);
        expect(specs.map((s) => `${s.name} ${s.objective} ${s.windowDays}d ${s.team}`)).toEqual([
            "gateway-availability 0.999 30d serving",
            "gateway-latency 0.99 30d serving",
            "model-llama-3-8b-availability 0.999 30d serving",
            "model-llama-3-8b-latency 0.95 30d serving",
            "model-qwen-2-5-32b-availability 0.995 30d serving",
            "model-qwen-2-5-32b-latency 0.95 30d serving",
            "pool-shared-l40s-gpu-availability 0.99 30d capacity",
            "pool-acme-l40s-gpu-availability 0.995 30d capacity",
        ]);
        expect(specs.find((s) => s.name === "pool-acme-l40s-gpu-availability")?.tenant).toBe("acme");
        expect(specs.find((s) => s.name === "model-qwen-2-5-32b-latency")?.latency).toEqual({ metric: "timeToFirstToken", thresholdSeconds: 5 });
        expect(resolveCredits(dev.slos)).toEqual([{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }]);
        expect([0.999, 0.994, 0.98].map((a) => creditPercent(a, resolveCredits(dev.slos)))).toEqual([0, 10, 25]);
    });

    it("a stack without compute-region:slos has none (and keeps the fixed-threshold serving alerts)", () => {
        const config = devStackConfig();
        delete config["compute-region:slos"];
        expect(resolveSlos(parseRegionConfig(engineValues(config), "dev"))).toEqual([]);
    });

    it("refuses an objective outside (0, 1), an unknown model or pool, a threshold no histogram bucket has, and more", () => {
        const problems = configProblems((c) => {
            c["compute-region:slos"].models[0].availability.objective = 1;
            c["compute-region:slos"].models.push({ name: "gpt-5", availability: { objective: 0.99 } });
            c["compute-region:slos"].pools.push({ name: "internal-l40s", availability: { objective: 0 } });
            c["compute-region:slos"].gateway.latency.thresholdSeconds = 3;
            c["compute-region:slos"].window = "31d";
            c["compute-region:slos"].credits.push({ below: 0.9999, percent: 5 });
        });
        expect(problems).toEqual(
            expect.arrayContaining([
                "Pulumi.dev.yaml: compute-region:slos.window: must be \"28d\" or \"30d\" (the window an objective is measured over), got \"31d\"",
                "Pulumi.dev.yaml: compute-region:slos.models[0] (qwen-2-5-32b).availability.objective: must be strictly between 0 and 1 (0.999 is 99.9%): an objective of 1 leaves no error budget, got 1",
                "Pulumi.dev.yaml: compute-region:slos.pools[1] (internal-l40s).availability.objective: must be strictly between 0 and 1 (0.999 is 99.9%), got 0",
            ]),
        );
        const crossKey = configProblems((c) => {
            c["compute-region:slos"].models.push({ name: "gpt-5", availability: { objective: 0.99 } });
            c["compute-region:slos"].pools.push({ name: "internal-l40s", availability: { objective: 0.9 } });
            c["compute-region:slos"].gateway.latency.thresholdSeconds = 3;
            c["compute-region:slos"].credits.push({ below: 0.9999, percent: 5 });
        });
        expect(crossKey).toEqual([
            "Pulumi.dev.yaml: compute-region:slos.models[1] (gpt-5).name: names no model in compute-region:models (llama-3-8b, qwen-2-5-32b), got \"gpt-5\"",
            "Pulumi.dev.yaml: compute-region:slos.pools[1] (internal-l40s).name: pool internal-l40s is internal: it sells no GPUs, so it promises tenants nothing, got \"internal-l40s\"",
            "Pulumi.dev.yaml: compute-region:slos.gateway.latency.thresholdSeconds: must be a bucket boundary of gen_ai_server_time_to_first_token_seconds (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60): the gateway counts requests per bucket, so no other threshold can be measured, got 3",
            "Pulumi.dev.yaml: compute-region:slos.credits[2].below: must be at most 0.995, the availability objective of qwen-2-5-32b: a credit would be owed in a month the objective was met, got 0.9999",
        ]);
    });

    it("needs Prometheus to keep more than the objectives' window", () => {
        expect(configProblems((c) => (c["compute-region:observability"].prometheusRetentionDays = 30))).toEqual([
            "Pulumi.dev.yaml: compute-region:observability.prometheusRetentionDays: must be more than 30 days: the objectives' 30-day window (compute-region:slos) is measured from Prometheus' own samples, got 30",
        ]);
    });
});

describe("what billing reads of the objectives", () => {
    const dev = parseRegionConfig(engineValues(devStackConfig()), "dev");

    it("carries every objective and the credit terms in the registry document, and refuses a malformed one at its path", () => {
        const levels = registryServiceLevelsOf(dev)!;
        expect(levels.objectives).toHaveLength(8);
        expect(levels.objectives).toContainEqual({ slo: "model-qwen-2-5-32b-availability", service: "model", target: "qwen-2-5-32b", indicator: "availability", objective: 0.995, window: "30d" });
        expect(levels.objectives).toContainEqual({ slo: "pool-acme-l40s-gpu-availability", service: "pool", target: "acme-l40s", indicator: "gpu-availability", tenant: "acme", objective: 0.995, window: "30d" });
        expect(levels.credits).toEqual([{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }]);
        const doc = { version: 1, scope: "region", currency: "USD", prices: [], pools: [], models: [], tenants: [] };
        expect(() => parseRegistry(JSON.stringify({ ...doc, serviceLevels: levels }))).not.toThrow();
        const bad = { objectives: [{ ...levels.objectives[0], objective: 1 }, { ...levels.objectives[0], window: "7d" }], credits: [{ below: 0.99, percent: 120 }] };
        expect(() => parseRegistry(JSON.stringify({ ...doc, serviceLevels: bad }))).toThrow(
            [
                "serviceLevels.objectives[0].objective: must be strictly between 0 and 1, got 1",
                "serviceLevels.objectives[1].slo: repeats objective gateway-availability",
                'serviceLevels.objectives[1].window: must be 28d or 30d, got "7d"',
                "serviceLevels.credits[0].percent: must be more than 0 and at most 100, got 120",
            ].join("\n  "),
        );
    });

    it("judges a month by the terms in force when it began, or an objective's first terms during it; a later change judges later months", () => {
        const row = (effectiveFrom: string, objective: number | null, percent = 10): RecordedTerms => ({ slo: "model-a-availability", effectiveFrom: new Date(effectiveFrom), service: "model", target: "a", indicator: "availability", objective, credits: [{ below: 0.99, percent }] });
        const rows = [row("2026-09-10T00:00:00Z", 0.999, 10), row("2026-10-01T00:00:00Z", 0.999, 20), row("2026-10-15T00:00:00Z", 0.99, 30), row("2026-11-20T00:00:00Z", null)];
        const month = (m: string) => termsForMonth(rows, new Date(`${m}-01T00:00:00Z`), new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5)), 1)));
        expect(month("2026-08")).toEqual([]);
        expect(month("2026-09")[0].credits[0].percent).toBe(10);
        // A change at the very instant a month begins is in force when it begins.
        expect(month("2026-10")[0].credits[0].percent).toBe(20);
        expect(month("2026-11")[0]).toMatchObject({ objective: 0.99, credits: [{ percent: 30 }] });
        expect(month("2026-12")).toEqual([]);
        // Withdrawn, then promised again during a month: its new terms judge that month.
        expect(termsForMonth([...rows, row("2027-01-10T00:00:00Z", 0.995, 40)], new Date("2027-01-01T00:00:00Z"), new Date("2027-02-01T00:00:00Z"))[0].credits[0].percent).toBe(40);
    });

    it("credits a percent of the charges rounded once to the cent, and states attainment without rounding it up to the objective", () => {
        expect(creditCents(1_234_567n, 10)).toBe(123_457n);
        expect(creditCents(1_234_565n, 10)).toBe(123_457n);
        expect(creditCents(1_234_564n, 10)).toBe(123_456n);
        expect(creditCents(999n, 12.5)).toBe(125n);
        expect(creditCents(0n, 25)).toBe(0n);
        expect(attainmentText(0.99899)).toBe("99.89%");
        expect(attainmentText(0.998)).toBe("99.80%");
    });
});

describe("the SLO dashboard", () => {
    const dashboard = sloDashboard(SLOS);

    it("shows each objective's attainment, budget left and burn rates, with queries promtool parses", () => {
        const titles = dashboard.panels!.map((p) => ("title" in p ? p.title : ""));
        for (const s of SLOS) expect(titles).toEqual(expect.arrayContaining([`${s.name}: attainment (${s.windowDays}d)`, `${s.name}: error budget left`, `${s.name}: burn rate`]));
        const exprs = dashboard.panels!.flatMap((p) => ("targets" in p ? (p.targets ?? []) : []).map((t) => (t as { expr: string }).expr));
        expect(exprs).toContain(`${SLO_RECORDS.errorRatio("1h")}{slo="model-llama-availability"} / 0.001`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slo-dash-"));
        fs.writeFileSync(path.join(dir, "q.yaml"), toYaml({ groups: [{ name: "q", rules: exprs.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) }] }));
        const r = spawnSync("promtool", ["check", "rules", "q.yaml"], { cwd: dir, encoding: "utf8" });
        expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
    });

    it("reads attainment and budget the recording rules keep over the whole window", () => {
        const r = promtoolCases([
            {
                slos: ["model-llama-availability"],
                // 0.05% of requests fail for three hours: attainment 99.95% so far, half the 0.1% budget left.
                name: "attainment",
                input_series: requests("llama", "0+19990x200", "0+10x200"),
                promql_expr_test: [
                    { expr: `round(${SLO_RECORDS.attainment}{slo="model-llama-availability"} * 100000)`, eval_time: "3h", exp_samples: [{ labels: '{slo="model-llama-availability",window="30d"}', value: 99950 }] },
                    { expr: `round(${SLO_RECORDS.budgetRemaining}{slo="model-llama-availability"} * 100)`, eval_time: "3h", exp_samples: [{ labels: '{slo="model-llama-availability",window="30d"}', value: 50 }] },
                    { expr: `round(${SLO_RECORDS.tenantAttainment}{slo="model-llama-availability"} * 100000)`, eval_time: "3h", exp_samples: [{ labels: '{slo="model-llama-availability",tenant="initech",window="30d"}', value: 99950 }] },
                ],
            },
        ]);
        expect(r.output).not.toContain("FAILED");
        expect(r.status).toBe(0);
    });
});
