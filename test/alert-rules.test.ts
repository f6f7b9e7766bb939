import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { ALERTS, poolCapacity } from "compute-region-policies/model";
import { AlertRule, alertRulesOf, billingAlertRules, gatewayAlertRules, gpuAlertRules, servingAlertRules, tenantAlertRules } from "../components/alert-rules";
import { capacityDashboard, gpuHealthDashboard } from "../components/dashboards";
import { expectValidDashboard } from "./dashboards";
import { promtoolTestRules } from "./promtool";

/**
 * The alert rules under promtool (Debian's prometheus package; scripts/install-system-deps.sh
 * installs it), on synthetic series that must fire and series that must not.
 */
const shared = poolCapacity({ name: "shared-l40s", role: "shared", instanceType: "g6e.48xlarge", minNodes: 2, maxNodes: 4, headroom: 0.25 }, 0); // 16 GPUs, 4 headroom, 12 sellable
const internal = poolCapacity({ name: "internal-l40s", role: "internal", instanceType: "g6e.12xlarge", minNodes: 1, maxNodes: 2 }, 0); // 4 GPUs, all headroom
// A Capacity Block pool whose block runs from the second to the eleventh day of promtool's clock (it starts at the epoch).
const block = poolCapacity({ name: "train-h100", role: "internal", instanceType: "p5.48xlarge", minNodes: 1, maxNodes: 1, window: { startsAt: "1970-01-02T00:00:00Z", endsAt: "1970-01-11T00:00:00Z" } }, 0);
const groups = [...gpuAlertRules([shared, internal, block], "https://runbooks.example/rb.md"), ...tenantAlertRules("https://runbooks.example/rb.md"), ...billingAlertRules("https://runbooks.example/rb.md"), ...servingAlertRules([{ name: "llama", targets: { queueDepth: 8, p95LatencySeconds: 6 } }], "https://runbooks.example/rb.md"), ...gatewayAlertRules("https://runbooks.example/rb.md")];

function rule(alert: string, pool?: string): AlertRule {
    const found = alertRulesOf(groups).find((r) => r.alert === alert && (pool === undefined || r.labels.pool === pool));
    if (!found) throw new Error(`no rule ${alert} ${pool ?? ""}`);
    return found;
}

/** The alert as promtool reports it firing: the rule's labels plus the series' labels. */
function firing(alert: string, pool: string | undefined, seriesLabels: Record<string, string> = {}) {
    const r = rule(alert, pool);
    return { exp_labels: { ...r.labels, ...seriesLabels }, exp_annotations: r.annotations };
}

const nodes = (pool: string, gpusPerNode: number, count: number, minutes = 40) =>
    Array.from({ length: count }, (_, i) => [
        { series: `kube_node_status_allocatable{node="${pool}-${i}",resource="nvidia_com_gpu"}`, values: `${gpusPerNode}x${minutes}` },
        { series: `kube_node_labels{node="${pool}-${i}",label_compute_region_io_pool="${pool}"}`, values: `1x${minutes}` },
        { series: `kube_node_status_condition{node="${pool}-${i}",condition="Ready",status="true"}`, values: `1x${minutes}` },
    ]).flat();
const tenantUsage = (pool: string, queue: string, gpus: number) => ({ series: `kueue_cluster_queue_resource_usage{cluster_queue="${queue}",flavor="${pool}",resource="nvidia.com/gpu"}`, values: `${gpus}x40` });
const nominal = (pool: string, queue: string, gpus: number) => ({ series: `kueue_cluster_queue_nominal_quota{cluster_queue="${queue}",flavor="${pool}",resource="nvidia.com/gpu"}`, values: `${gpus}x80` });
const dcgmUp = { series: 'up{job="dcgm-exporter",instance="n1"}', values: "1x40" };

/** Cases over days: the rules are evaluated hourly (evaluation_interval is the whole test file's). */
const dayCases = [
    {
        name: "a Capacity Block's end: the alert fires from seven days before (the default) until the end, on the clock alone",
        interval: "1h",
        input_series: [],
        alert_rule_test: [
            { eval_time: "70h", alertname: ALERTS.capacityBlockEnding, exp_alerts: [] },
            { eval_time: "73h", alertname: ALERTS.capacityBlockEnding, exp_alerts: [firing(ALERTS.capacityBlockEnding, "train-h100")] },
            { eval_time: "239h", alertname: ALERTS.capacityBlockEnding, exp_alerts: [firing(ALERTS.capacityBlockEnding, "train-h100")] },
            { eval_time: "241h", alertname: ALERTS.capacityBlockEnding, exp_alerts: [] },
        ],
    },
    {
        name: "a Capacity Block pool's headroom alert holds only inside its window: no nodes before it starts or after EKS scaled it down",
        interval: "1h",
        input_series: [],
        alert_rule_test: [
            { eval_time: "20h", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "internal-l40s"), firing(ALERTS.headroomBelowFloor, "shared-l40s")] },
            { eval_time: "30h", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "internal-l40s"), firing(ALERTS.headroomBelowFloor, "shared-l40s"), firing(ALERTS.headroomBelowFloor, "train-h100")] },
            { eval_time: "241h", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "internal-l40s"), firing(ALERTS.headroomBelowFloor, "shared-l40s")] },
        ],
    },
];

const cases = [
    {
        name: "burst quota is never sold: 8 reserved of 12 sellable and 16 burst GPUs is not sold out",
        input_series: [nominal("shared-l40s", "acme-shared-l40s", 8), nominal("shared-l40s", "burst-shared-l40s", 16), nominal("shared-l40s", "internal-shared-l40s", 8)],
        alert_rule_test: [{ eval_time: "75m", alertname: ALERTS.poolSoldOut, exp_alerts: [] }],
    },
    {
        name: "the gateway with no available replica fires after 3 minutes; with one it does not",
        input_series: [
            { series: 'kube_deployment_status_replicas_available{namespace="gateway",deployment="envoy-gateway-models-1a2b3c"}', values: "2x5 0x10 1x10" },
            { series: 'kube_deployment_status_replicas_available{namespace="serving",deployment="model-llama"}', values: "1x25" },
        ],
        alert_rule_test: [
            { eval_time: "4m", alertname: ALERTS.gatewayDown, exp_alerts: [] },
            { eval_time: "10m", alertname: ALERTS.gatewayDown, exp_alerts: [firing(ALERTS.gatewayDown, undefined)] },
            { eval_time: "20m", alertname: ALERTS.gatewayDown, exp_alerts: [] },
        ],
    },
    {
        name: "a model with 10% of its gateway requests failing fires; another at 2% does not",
        input_series: [
            { series: 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="llama",tenant="initech"}', values: "0+90x40" },
            { series: 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="llama",tenant="initech",error_type="503"}', values: "0+10x40" },
            { series: 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="qwen",tenant="initech"}', values: "0+98x40" },
            { series: 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="qwen",tenant="initech",error_type="503"}', values: "0+2x40" },
        ],
        alert_rule_test: [{ eval_time: "30m", alertname: ALERTS.gatewayErrors, exp_alerts: [firing(ALERTS.gatewayErrors, undefined, { gen_ai_request_model: "llama" })] }],
    },
    {
        name: "a model with 20 waiting requests on 2 replicas (10 each, target 8) fires; 16 (8 each) does not",
        input_series: [
            { series: 'vllm:num_requests_waiting{model_name="llama",pod="a"}', values: "10x30" },
            { series: 'vllm:num_requests_waiting{model_name="llama",pod="b"}', values: "10x15 6x15" },
            { series: 'vllm:num_requests_running{model_name="llama",pod="a"}', values: "4x30" },
            { series: 'vllm:num_requests_running{model_name="llama",pod="b"}', values: "4x30" },
        ],
        alert_rule_test: [
            { eval_time: "14m", alertname: ALERTS.modelQueueDepth, exp_alerts: [firing(ALERTS.modelQueueDepth, undefined)] },
            { eval_time: "28m", alertname: ALERTS.modelQueueDepth, exp_alerts: [] },
        ],
    },
    {
        name: "a tenant at 90% of its reserved quota fires; at 80% it does not; internal queues never do",
        input_series: [
            { series: 'kueue_cluster_queue_resource_usage{cluster_queue="acme-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "9x60" },
            { series: 'kueue_cluster_queue_nominal_quota{cluster_queue="acme-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "10x60" },
            { series: 'kueue_cluster_queue_resource_usage{cluster_queue="globex-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "8x60" },
            { series: 'kueue_cluster_queue_nominal_quota{cluster_queue="globex-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "10x60" },
            { series: 'kueue_cluster_queue_resource_usage{cluster_queue="internal-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "4x60" },
            { series: 'kueue_cluster_queue_nominal_quota{cluster_queue="internal-shared-l40s",flavor="shared-l40s",resource="nvidia.com/gpu"}', values: "4x60" },
        ],
        alert_rule_test: [{ eval_time: "45m", alertname: ALERTS.tenantQuotaNearLimit, exp_alerts: [firing(ALERTS.tenantQuotaNearLimit, undefined, { cluster_queue: "acme-shared-l40s", flavor: "shared-l40s" })] }],
    },
    {
        name: "metering: a job last successful 3 hours ago fires; one 30 minutes ago does not",
        input_series: [{ series: 'kube_cronjob_status_last_successful_time{namespace="billing",cronjob="metering"}', values: "0x200" }],
        alert_rule_test: [
            { eval_time: "100m", alertname: ALERTS.meteringWindowMissed, exp_alerts: [] },
            { eval_time: "180m", alertname: ALERTS.meteringWindowMissed, exp_alerts: [firing(ALERTS.meteringWindowMissed, undefined)] },
        ],
    },
    {
        name: "headroom intact: tenants use exactly the sellable 12 of 16",
        input_series: [...nodes("shared-l40s", 8, 2), ...nodes("internal-l40s", 4, 1), tenantUsage("shared-l40s", "acme-shared-l40s", 12), tenantUsage("shared-l40s", "internal-shared-l40s", 4), dcgmUp],
        alert_rule_test: [
            { eval_time: "30m", alertname: ALERTS.headroomBelowFloor, exp_alerts: [] },
            { eval_time: "30m", alertname: ALERTS.gpuNodeNotReady, exp_alerts: [] },
            { eval_time: "30m", alertname: ALERTS.dcgmExporterDown, exp_alerts: [] },
        ],
    },
    {
        name: "headroom eaten: tenants use 13 of 16, leaving 3 < 4",
        input_series: [...nodes("shared-l40s", 8, 2), ...nodes("internal-l40s", 4, 1), tenantUsage("shared-l40s", "acme-shared-l40s", 13), dcgmUp],
        alert_rule_test: [
            { eval_time: "5m", alertname: ALERTS.headroomBelowFloor, exp_alerts: [] }, // not yet: for 10m
            { eval_time: "30m", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "shared-l40s")] },
        ],
    },
    {
        name: "a node of the internal pool lost: 0 of 4 left",
        input_series: [...nodes("shared-l40s", 8, 2), dcgmUp],
        alert_rule_test: [{ eval_time: "30m", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "internal-l40s")] }],
    },
    {
        name: "sold out: tenants reserve all 12 sellable GPUs for over an hour; 11 does not fire",
        input_series: [nominal("shared-l40s", "acme-shared-l40s", 8), nominal("shared-l40s", "globex-shared-l40s", 4), nominal("shared-l40s", "internal-shared-l40s", 4)],
        alert_rule_test: [
            { eval_time: "30m", alertname: ALERTS.poolSoldOut, exp_alerts: [] },
            { eval_time: "75m", alertname: ALERTS.poolSoldOut, exp_alerts: [firing(ALERTS.poolSoldOut, "shared-l40s")] },
        ],
    },
    {
        name: "not sold out at 11 of 12",
        input_series: [nominal("shared-l40s", "acme-shared-l40s", 11)],
        alert_rule_test: [{ eval_time: "75m", alertname: ALERTS.poolSoldOut, exp_alerts: [] }],
    },
    {
        name: "GPU health: an XID, a double-bit ECC error, a NotReady GPU node, a silent exporter",
        input_series: [
            { series: 'DCGM_FI_DEV_XID_ERRORS{Hostname="n1",gpu="3",modelName="L40S"}', values: "0 0 79x20" },
            { series: 'DCGM_FI_DEV_XID_ERRORS{Hostname="n2",gpu="0",modelName="L40S"}', values: "0x20" },
            { series: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{Hostname="n1",gpu="5",modelName="L40S"}', values: "0 0 0 2x20" },
            { series: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{Hostname="n2",gpu="1",modelName="L40S"}', values: "7x20" },
            { series: 'kube_node_status_condition{node="g1",condition="Ready",status="true"}', values: "1 1 0x20" },
            { series: 'kube_node_labels{node="g1",label_compute_region_io_pool="shared-l40s"}', values: "1x22" },
            { series: 'kube_node_status_condition{node="cpu1",condition="Ready",status="true"}', values: "0x22" },
            { series: 'kube_node_labels{node="cpu1"}', values: "1x22" },
            { series: 'up{job="dcgm-exporter",instance="n1"}', values: "0x22" },
        ],
        alert_rule_test: [
            { eval_time: "10m", alertname: ALERTS.xidError, exp_alerts: [firing(ALERTS.xidError, undefined, { Hostname: "n1", gpu: "3", modelName: "L40S" })] },
            { eval_time: "10m", alertname: ALERTS.eccDoubleBit, exp_alerts: [firing(ALERTS.eccDoubleBit, undefined, { Hostname: "n1", gpu: "5", modelName: "L40S" })] },
            { eval_time: "10m", alertname: ALERTS.gpuNodeNotReady, exp_alerts: [firing(ALERTS.gpuNodeNotReady, undefined, { node: "g1", label_compute_region_io_pool: "shared-l40s" })] },
            { eval_time: "15m", alertname: ALERTS.dcgmExporterDown, exp_alerts: [firing(ALERTS.dcgmExporterDown, undefined, { job: "dcgm-exporter", instance: "n1" })] },
        ],
    },
];

function promtool(testDoc: unknown): { status: number | null; output: string } {
    return promtoolTestRules(testDoc, groups);
}

function havePromtool(): boolean {
    try {
        execFileSync("promtool", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

describe("alert rules under promtool", () => {
    it("promtool is installed (scripts/install-system-deps.sh, run by npm test and .ci/run)", () => {
        expect(havePromtool()).toBe(true);
    });

    it("fire on the series that must fire and stay silent on the rest", () => {
        const r = promtool({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: cases.map(({ name: _n, ...c }) => ({ interval: "1m", ...c })) });
        expect(r.output).toContain("SUCCESS");
        expect(r.status).toBe(0);
    });

    it("fire on the clock over days: a Capacity Block's end, and its pool's headroom only inside its window", () => {
        const r = promtool({ rule_files: ["rules.yaml"], evaluation_interval: "1h", tests: dayCases.map(({ name: _n, ...c }) => c) });
        expect(r.output).toContain("SUCCESS");
        expect(r.status).toBe(0);
    });

    it("would catch a rule that does not fire (the harness itself can fail)", () => {
        const wrong = { rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: [{ interval: "1m", input_series: [...nodes("shared-l40s", 8, 2), tenantUsage("shared-l40s", "acme", 12)], alert_rule_test: [{ eval_time: "30m", alertname: ALERTS.headroomBelowFloor, exp_alerts: [firing(ALERTS.headroomBelowFloor, "shared-l40s")] }] }] };
        const r = promtool(wrong);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain("FAILED");
    });

    it("take their thresholds from the capacity model", () => {
        expect(rule(ALERTS.headroomBelowFloor, "shared-l40s").expr).toMatch(/< 4$/);
        expect(rule(ALERTS.poolSoldOut, "shared-l40s").expr).toMatch(/^\(12 - /);
        for (const r of alertRulesOf(groups)) expect(r.annotations.runbook_url).toMatch(/^https:\/\/runbooks\.example\/rb\.md#/);
    });
});

describe("dashboards", () => {
    const dashboards = [capacityDashboard([shared, internal]), gpuHealthDashboard()];
    it.each(dashboards.map((d) => [d.title, d] as const))("%s is valid Grafana dashboard JSON", (_t, d) => {
        expectValidDashboard(d);
    });

    it("shows every pool on the capacity dashboard", () => {
        const titles = dashboards[0].panels!.map((p) => ("title" in p ? p.title : ""));
        expect(titles.some((t) => t?.startsWith("shared-l40s"))).toBe(true);
        expect(titles.some((t) => t?.startsWith("internal-l40s"))).toBe(true);
    });

    it("queries that promtool can parse (every expression is valid PromQL)", () => {
        const exprs = dashboards.flatMap((d) => d.panels!.flatMap((p) => ("targets" in p ? (p.targets ?? []) : []).map((t) => (t as { expr: string }).expr)));
        const asRules = { groups: [{ name: "dashboard-queries", rules: exprs.map((expr, i) => ({ record: `dashboard:query${i}`, expr })) }] };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
        fs.writeFileSync(path.join(dir, "q.yaml"), toYaml(asRules));
        const r = spawnSync("promtool", ["check", "rules", "q.yaml"], { cwd: dir, encoding: "utf8" });
        expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
    });
});
