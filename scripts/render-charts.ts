#!/usr/bin/env node
/**
 * npm run charts:render [-- --check]
 *
 * Renders every chart the region pins with a real Helm 3 (scripts/helm.ts) from its vendored source
 * (vendor/charts/, scripts/chart-sources.ts), with exactly the values the program passes it: the
 * `kubernetes:helm.sh/v3:Release` inputs of the dev stack's offline plan (secrets unwrapped; a value
 * unknown during the preview rendered as a placeholder string). A pinned chart the dev stack does not
 * release (the Cluster Autoscaler of another Kubernetes minor) is rendered with the dev release's
 * values and that pin's image tag, which is all the component changes between minors.
 *
 * It writes the facts the renders show (scripts/chart-facts.ts) to
 * policies/model/upstream/rendered-charts.ts; the hand-written rest (runtime pods, network paths,
 * what device plugins advertise) is in policies/model/upstream/charts.ts. `--check` exits 1 instead
 * of writing when the file differs from a fresh render (test/chart-facts.test.ts does the same).
 */
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ResourceSnapshot, UNKNOWN, unwrapSecrets } from "compute-region-policies/engine";
import type { RenderedChart } from "compute-region-policies/model";
import { CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_PINS } from "compute-region-policies/model";
import { runOfflinePlan } from "../offline/harness";
import { readProject, readStackConfig } from "../offline/project";
import { parseStackConfig } from "../stacks/config";
import { chartSource, cleanAssembledCharts, assembleChart, VendoredChart, vendoredChart } from "./chart-sources";
import { deriveChartFacts, ReleaseInput } from "./chart-facts";
import { helmBinary, helmTemplate, REPO_ROOT } from "./helm";

export const RENDERED_CHARTS_FILE = path.join(REPO_ROOT, "policies", "model", "upstream", "rendered-charts.ts");
/** Renders and the Helm binary are kept here, outside node_modules, so that `npm ci` keeps them. */
export const CACHE_DIR = path.join(REPO_ROOT, ".cache", "compute-region");
const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** What a value unknown during the preview is rendered as: the chart sees a string, as it will see the real one. */
export const UNKNOWN_PLACEHOLDER = "unknown-during-preview";

function known(value: unknown): unknown {
    if (value === UNKNOWN) return UNKNOWN_PLACEHOLDER;
    if (Array.isArray(value)) return value.map(known);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, known(v)]));
    return value;
}

/** The releases of a plan, with the values the program passes them. */
export function plannedReleases(resources: readonly ResourceSnapshot[]): ReleaseInput[] {
    const cluster = resources.find((r) => r.type === "aws:eks/cluster:Cluster");
    const minor = /^(\d+\.\d+)/.exec(String(cluster?.props.version ?? ""))?.[1];
    if (!minor) throw new Error("the plan has no EKS cluster with a Kubernetes version: the charts' .Capabilities.KubeVersion is unknown");
    return resources
        .filter((r) => r.type === RELEASE_TYPE)
        .map((r) => {
            const props = known(unwrapSecrets(r.props)) as Record<string, any>;
            const chart = vendoredChart(props.chart, props.version);
            if (!chart) throw new Error(`${r.name}: chart ${props.chart} ${props.version} has no vendored source in vendor/charts (scripts/chart-sources.ts VENDORED_CHARTS): vendor it with scripts/vendor-chart.sh`);
            return { chart, release: props.name, namespace: props.namespace, values: props.values ?? {}, kubeVersion: `${minor}.0` };
        })
        .sort((a, b) => `${a.chart.chart}@${a.chart.version}`.localeCompare(`${b.chart.chart}@${b.chart.version}`));
}

/** The plan's releases, and a release of every other Cluster Autoscaler pin (the dev release's values, the pin's image tag and minor). */
export function releasesToRender(resources: readonly ResourceSnapshot[]): ReleaseInput[] {
    const planned = plannedReleases(resources);
    const autoscaler = planned.find((r) => r.chart.chart === CLUSTER_AUTOSCALER_CHART);
    const others = Object.entries(CLUSTER_AUTOSCALER_PINS)
        .filter(([, pin]) => pin.chart !== autoscaler?.chart.version)
        .map(([minor, pin]): ReleaseInput => {
            if (!autoscaler) throw new Error("the plan releases no Cluster Autoscaler to take its values from");
            const values = structuredClone(autoscaler.values) as Record<string, any>;
            values.image = { ...(values.image ?? {}), tag: pin.imageTag };
            return { ...autoscaler, chart: vendoredChart(CLUSTER_AUTOSCALER_CHART, pin.chart)!, values, kubeVersion: `${minor}.0` };
        });
    return [...planned, ...others].sort((a, b) => `${a.chart.chart}@${a.chart.version}`.localeCompare(`${b.chart.chart}@${b.chart.version}`, "en", { numeric: true }));
}

/**
 * A render, kept in .cache/ under the hash of everything it depends on: the vendored
 * files (their git tree ids, which test/chart-facts.test.ts proves), how the chart is packaged, the
 * release, the values, the cluster version and the Helm build.
 */
export function cachedRender(release: ReleaseInput): (values: unknown) => Promise<string> {
    const dir = path.join(CACHE_DIR, "helm-renders");
    const chartKey = (c: VendoredChart) => ({ tree: chartSource(c.dir).tree, packaging: c.packaging, dependencies: Object.values(c.dependencies ?? {}).map((d) => chartSource(d).tree) });
    const fixed = { chart: chartKey(release.chart), release: release.release, namespace: release.namespace, kubeVersion: release.kubeVersion, helm: path.basename(path.dirname(helmBinary())) };
    return async (values) => {
        const key = createHash("sha256").update(JSON.stringify({ ...fixed, values })).digest("hex");
        const file = path.join(dir, `${key}.yaml`);
        if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
        const out = await helmTemplate(assembleChart(release.chart), { release: release.release, namespace: release.namespace, values, kubeVersion: release.kubeVersion });
        // Test workers (threads of one process: one pid) render the same release at once: each writes a
        // temporary file of its own and renames it into place (atomic), and an entry another wrote
        // meanwhile is the same render, so it is done.
        if (fs.existsSync(file)) return out;
        fs.mkdirSync(dir, { recursive: true });
        const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
        try {
            fs.writeFileSync(temporary, out);
            fs.renameSync(temporary, file);
        } finally {
            fs.rmSync(temporary, { force: true });
        }
        return out;
    };
}

/** The facts of every release, the charts rendered side by side. */
export async function renderCharts(releases: readonly ReleaseInput[]): Promise<RenderedChart[]> {
    try {
        return await Promise.all(releases.map((r) => deriveChartFacts(r, cachedRender(r))));
    } finally {
        cleanAssembledCharts();
    }
}

/** The generated module's text. */
export function renderedChartsModule(charts: readonly RenderedChart[]): string {
    return [
        "// Generated by `npm run charts:render` (scripts/render-charts.ts) from `helm template` of the charts vendored in",
        "// vendor/charts/, with the values the program passes them. Do not edit: test/chart-facts.test.ts fails when it",
        "// differs from a fresh render. What a render cannot show is in charts.ts.",
        'import type { RenderedChart } from "./types";',
        "",
        `export const RENDERED_CHARTS: readonly RenderedChart[] = ${JSON.stringify(charts, null, 4)};`,
        "",
    ].join("\n");
}

/** The dev stack's offline plan, as the tests make it. */
export async function devPlanResources(): Promise<ResourceSnapshot[]> {
    const project = readProject(REPO_ROOT);
    const config = readStackConfig(project, "dev");
    const region = parseStackConfig(config.values, "dev", config.source);
    if (region.layer === "shard") throw new Error("the dev stack is a region, not a shard");
    const accountId = /^arn:[^:]+:iam::(\d{12}):/.exec(region.cluster.deployerRoleArn ?? "")?.[1] ?? "000000000000";
    const plan = await runOfflinePlan({ project, stack: "dev", config, facts: { region: region.region, accountId } });
    return plan.resources;
}

async function main(argv: string[]): Promise<number> {
    const check = argv.includes("--check");
    const text = renderedChartsModule(await renderCharts(releasesToRender(await devPlanResources())));
    const current = fs.existsSync(RENDERED_CHARTS_FILE) ? fs.readFileSync(RENDERED_CHARTS_FILE, "utf8") : "";
    const rel = path.relative(process.cwd(), RENDERED_CHARTS_FILE);
    if (check) {
        if (current === text) return 0;
        process.stderr.write(`${rel} differs from a fresh render: run npm run charts:render\n`);
        return 1;
    }
    fs.writeFileSync(RENDERED_CHARTS_FILE, text);
    process.stdout.write(`wrote ${rel}\n`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
            process.exit(2);
        },
    );
}
