import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_FACTS, CHART_NOTES, clusterPicture, placementOf, CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_PINS, fromSnapshots, LABELS, RENDERED_CHARTS, requirementMet } from "compute-region-policies/model";
import { AUTOSCALING_CHART_REPO, CHARTS, GATEWAY_CHART_PINS, MONITORING_CHART_PINS, SERVING_CHART_PINS, TENANT_METRICS_CHART_PIN } from "../components/helm";
import { assembleChart, chartSource, gitTreeId, VENDOR_DIR, VENDORED_CHARTS, vendoredChart } from "../scripts/chart-sources";
import { chartDefaults, parseManifests } from "../scripts/chart-facts";
import { cachedRender, plannedReleases, RENDERED_CHARTS_FILE, renderCharts, renderedChartsModule, releasesToRender } from "../scripts/render-charts";
import type { ReleaseInput } from "../scripts/chart-facts";
import type { OfflinePlanResult } from "../offline/harness";
import { plan } from "./helpers";

/**
 * The chart facts are derived, not transcribed: every pinned chart is vendored from upstream byte
 * for byte, and the facts in policies/model/upstream/rendered-charts.ts are what a real Helm render
 * of those files with the program's values shows (renders are cached by content hash in .cache/, so
 * only a changed chart or changed values costs a render).
 */

const AUTOSCALER_PINS = Object.values(CLUSTER_AUTOSCALER_PINS).map((p) => ({ chart: CLUSTER_AUTOSCALER_CHART, repo: AUTOSCALING_CHART_REPO, version: p.chart }));
const PINS = [...Object.values(CHARTS), ...Object.values(MONITORING_CHART_PINS), ...Object.values(SERVING_CHART_PINS), ...Object.values(GATEWAY_CHART_PINS), TENANT_METRICS_CHART_PIN, ...AUTOSCALER_PINS];

let dev: OfflinePlanResult;
let releases: ReleaseInput[];
beforeAll(async () => {
    dev = await plan();
    releases = releasesToRender(dev.resources);
});

describe("vendored chart sources", () => {
    it.each(PINS.map((p) => [`${p.chart} ${p.version}`, p] as const))("%s is vendored from upstream, with its license and source", (_label, pin) => {
        const chart = vendoredChart(pin.chart, pin.version);
        expect(chart, `${pin.chart} ${pin.version} has no vendored source (scripts/chart-sources.ts, scripts/vendor-chart.sh)`).toBeDefined();
        for (const dir of [chart!.dir, ...Object.values(chart!.dependencies ?? {})]) {
            const source = chartSource(dir);
            expect(source.repository).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/);
            expect(source.commit).toMatch(/^[0-9a-f]{40}$/);
            expect(fs.readFileSync(path.join(VENDOR_DIR, dir, "LICENSE"), "utf8").length).toBeGreaterThan(500);
            // Byte for byte what the repository holds at that ref and path.
            expect(gitTreeId(path.join(VENDOR_DIR, dir, "chart")), `vendor/charts/${dir}/chart differs from ${source.repository} ${source.ref}:${source.path}`).toBe(source.tree);
        }
    });

    it("vendors nothing no pin renders", () => {
        const used = new Set(VENDORED_CHARTS.flatMap((c) => [c.dir, ...Object.values(c.dependencies ?? {})]));
        expect(fs.readdirSync(VENDOR_DIR).filter((d) => !used.has(d))).toEqual([]);
        for (const c of VENDORED_CHARTS) expect(PINS.some((p) => p.chart === c.chart && p.version === c.version), `${c.dir} is no pin`).toBe(true);
    });

    it("the tree id is git's: one changed byte is seen", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tree-"));
        fs.writeFileSync(path.join(dir, "a.yaml"), "x: 1\n");
        const before = gitTreeId(dir);
        fs.writeFileSync(path.join(dir, "a.yaml"), "x: 2\n");
        expect(gitTreeId(dir)).not.toBe(before);
        // `git hash-object -t tree` of one file `a.yaml` holding "x: 2\n".
        expect(gitTreeId(dir)).toBe("ae85ebc28c6223f02e1405992b04c5ce2f135cfa");
    });
});

describe("chart facts from a real Helm render", () => {
    it("policies/model/upstream/rendered-charts.ts is what the vendored charts render with the program's values (npm run charts:render)", async () => {
        expect(renderedChartsModule(await renderCharts(releases))).toBe(fs.readFileSync(RENDERED_CHARTS_FILE, "utf8"));
    });

    it("renders every pinned chart, every one of its pod sets has its paths written, and no notes name a pod set the charts do not render", () => {
        expect(RENDERED_CHARTS.map((c) => `${c.chart} ${c.version}`).sort()).toEqual(PINS.map((p) => `${p.chart} ${p.version}`).sort());
        for (const c of RENDERED_CHARTS) {
            const notes = CHART_NOTES.find((n) => n.chart === c.chart);
            expect(notes, `${c.chart}: no notes in policies/model/upstream/charts.ts`).toBeDefined();
            for (const pod of c.pods) expect(notes!.pods[pod.workload], `${c.chart} ${c.version} renders ${pod.workload}: write its paths in charts.ts`).toBeDefined();
        }
        for (const n of CHART_NOTES) {
            for (const workload of Object.keys(n.pods)) expect(RENDERED_CHARTS.some((c) => c.chart === n.chart && c.pods.some((p) => p.workload === workload)), `${n.chart}: ${workload} is rendered by no pinned version`).toBe(true);
        }
    });

    it("knows what the issue found transcribed facts got wrong", () => {
        const facts = (chart: string) => CHART_FACTS.find((c) => c.chart === chart)!;
        // Kueue renders Fail webhooks for every integration, enabled or not.
        const kueue = facts(CHARTS.kueue.chart);
        expect(kueue.webhooks.find((w) => w.name === "mraycluster.kb.io")?.failurePolicy).toBe("Fail");
        expect(kueue.webhooks.every((w) => w.failurePolicy === "Fail" && w.servedBy === "controller" && w.port === 9443)).toBe(true);
        // The load balancer controller's three Fail pod webhooks.
        const lbc = facts(GATEWAY_CHART_PINS.awsLoadBalancerController.chart);
        expect(lbc.webhooks.filter((w) => w.failurePolicy === "Fail" && w.rules.some((r) => r.resources.includes("pods"))).map((w) => w.name).sort()).toEqual([
            "alb-target-control.namespace.elbv2.k8s.aws",
            "alb-target-control.object.elbv2.k8s.aws",
            "quicid.elbv2.k8s.aws",
        ]);
        expect(facts(SERVING_CHART_PINS.keda.chart).webhooks.map((w) => w.name)).toEqual(["vscaledobject.kb.io", "vstriggerauthentication.kb.io", "vsclustertriggerauthentication.kb.io"]);
        expect(facts(GATEWAY_CHART_PINS.aiGateway.chart).webhooks.map((w) => w.name)).toEqual(["ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local"]);
        expect(facts(CHARTS.nvidiaDevicePlugin.chart).pods.map((p) => p.workload)).toContain("DaemonSet/nvidia-device-plugin-mps-control-daemon");
    });

    it("every value the program passes a chart changes its render, or is the chart's own default (none is silently ignored)", async () => {
        // Every leaf the program sets equals the chart's default there.
        const isDefault = (value: unknown, byDefault: unknown): boolean =>
            value !== null && typeof value === "object" && !Array.isArray(value)
                ? Object.entries(value).every(([k, v]) => isDefault(v, (byDefault as Record<string, unknown> | undefined)?.[k]))
                : JSON.stringify(value) === JSON.stringify(byDefault);
        const ignored = await Promise.all(
            plannedReleases(dev.resources).flatMap((r) => {
                const render = cachedRender(r);
                const defaults = chartDefaults(assembleChart(r.chart));
                return Object.keys(r.values as object).map(async (key) => {
                    const { [key]: _dropped, ...rest } = r.values as Record<string, unknown>;
                    const full = await render(r.values);
                    // A chart that refuses to render without it (a required value) reads it.
                    const without = await render(rest).catch(() => undefined);
                    return without === full && !isDefault((r.values as Record<string, unknown>)[key], defaults[key]) ? [`${r.release}: ${key}`] : [];
                });
            }),
        );
        expect(ignored.flat()).toEqual([]);
    });
});

describe("the EFA device plugin (aws-efa-k8s-device-plugin v0.5.7) is placed through what its chart reads", () => {
    it("its rendered DaemonSet runs on every pool that has EFA, and on no other", async () => {
        const efa = releases.find((r) => r.chart.chart === CHARTS.efaDevicePlugin.chart)!;
        const daemonSet = parseManifests(await cachedRender(efa)(efa.values)).find((m) => m.object.kind === "DaemonSet")!.object;
        const terms: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[][] = daemonSet.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.map(
            (t: { matchExpressions: unknown[] }) => t.matchExpressions,
        );
        const groups = clusterPicture(fromSnapshots(dev.resources)).nodeGroups;
        const withEfa = groups.filter((g) => (g.allocatable?.extended["vpc.amazonaws.com/efa"] ?? 0) > 0);
        expect(withEfa.length).toBeGreaterThan(0);
        for (const g of groups) {
            const runs = terms.some((term) => term.every((req) => requirementMet(req, g.labels)));
            expect(runs, `${g.group} (${g.instanceType})`).toBe(withEfa.includes(g));
            if (withEfa.includes(g)) expect(g.labels[LABELS.efa]).toBe("true");
        }
    });

    it("the facts say so: no `affinity` value is read, supportedInstanceLabels is, and the chart's own list applies without it", () => {
        const plugin = CHART_FACTS.find((c) => c.chart === CHARTS.efaDevicePlugin.chart)!.pods[0];
        expect(plugin.placement.affinity).toBeUndefined();
        const efa = releases.find((r) => r.chart.chart === CHARTS.efaDevicePlugin.chart)!;
        expect(placementOf(efa.values, plugin.placement).requiredNodeAffinity).toEqual([
            [
                { key: LABELS.efa, operator: "In", values: ["true"] },
                { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["auto"] },
            ],
        ]);
        // What a release that set only `affinity` (as the component did) got: the chart's instance-type list.
        const byDefault = placementOf({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: LABELS.efa, operator: "Exists" }] }] } } } }, plugin.placement).requiredNodeAffinity!;
        expect(byDefault[0][0]).toMatchObject({ key: "node.kubernetes.io/instance-type", operator: "In" });
        expect(byDefault[0][0].values).toContain("p5.48xlarge");
    });
});
