import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { REPO_ROOT } from "./helm";

/**
 * The vendored source of every chart the region pins (vendor/charts/<name>-<version>/, written by
 * scripts/vendor-chart.sh): how each is put together for `helm template` the way its project
 * packages it, and a check that the files are upstream's, byte for byte.
 */

export const VENDOR_DIR = path.join(REPO_ROOT, "vendor", "charts");

/** What a project's release does to the chart source before `helm package`, read from its release tooling. */
export interface Packaging {
    /** `helm package --version --app-version`. */
    version: string;
    appVersion: string;
    /** values.yaml is generated from a template by environment substitution (envsubst). */
    valuesFromTemplate?: { template: string; env: Readonly<Record<string, string>> };
    source: string;
}

export interface VendoredChart {
    /** The chart as components/helm.ts pins it: a chart name or OCI reference, and its version. */
    chart: string;
    version: string;
    /** Its directory under vendor/charts/. */
    dir: string;
    /** Subcharts its Chart.yaml depends on, by name, to their directories: what `helm dependency build` puts in charts/. */
    dependencies?: Readonly<Record<string, string>>;
    packaging?: Packaging;
}

export interface ChartSource {
    repository: string;
    ref: string;
    commit: string;
    path: string;
    /** The git tree id of ref:path: test/chart-facts.test.ts recomputes it from the vendored files. */
    tree: string;
    license: string;
    note?: string;
}

const egPackaging: Packaging = {
    version: "v1.7.3",
    appVersion: "v1.7.3",
    valuesFromTemplate: { template: "values.tmpl.yaml", env: { GatewayImage: "docker.io/envoyproxy/gateway:v1.7.3", GatewayImagePullPolicy: "IfNotPresent" } },
    source: "envoyproxy/gateway v1.7.3 .github/workflows/release.yaml (IMAGE=docker.io/envoyproxy/gateway TAG=v1.7.3 CHART_VERSION=v1.7.3 make helm-package) and tools/make/helm.mk (helm-generate: envsubst < values.tmpl.yaml > values.yaml)",
};
const aigPackaging: Packaging = {
    version: "v0.5.0",
    appVersion: "v0.5.0",
    source: "envoyproxy/ai-gateway v0.5.0 Makefile helm-package (helm package --app-version ${TAG} --version ${HELM_CHART_VERSION}; both the release tag)",
};

/** Every vendored chart a pin renders, subcharts apart. */
export const VENDORED_CHARTS: readonly VendoredChart[] = [
    { chart: "oci://registry.k8s.io/kueue/charts/kueue", version: "0.14.2", dir: "kueue-0.14.2" },
    { chart: "nvidia-device-plugin", version: "0.17.1", dir: "nvidia-device-plugin-0.17.1" },
    { chart: "aws-efa-k8s-device-plugin", version: "v0.5.7", dir: "aws-efa-k8s-device-plugin-v0.5.7" },
    { chart: "aws-fsx-csi-driver", version: "1.17.0", dir: "aws-fsx-csi-driver-1.17.0" },
    {
        chart: "kube-prometheus-stack",
        version: "75.15.0",
        dir: "kube-prometheus-stack-75.15.0",
        // Chart.yaml's dependencies (crds is the chart's own charts/crds).
        dependencies: {
            "kube-state-metrics": "kube-state-metrics-6.1.0",
            "prometheus-node-exporter": "prometheus-node-exporter-4.47.3",
            grafana: "grafana-9.3.0",
            "prometheus-windows-exporter": "prometheus-windows-exporter-0.12.0",
        },
    },
    { chart: "dcgm-exporter", version: "4.1.1", dir: "dcgm-exporter-4.1.1" },
    { chart: "keda", version: "2.17.2", dir: "keda-2.17.2" },
    { chart: "oci://docker.io/envoyproxy/gateway-helm", version: "v1.7.3", dir: "gateway-helm-v1.7.3", packaging: egPackaging },
    { chart: "oci://docker.io/envoyproxy/ai-gateway-crds-helm", version: "v0.5.0", dir: "ai-gateway-crds-helm-v0.5.0", packaging: aigPackaging },
    { chart: "oci://docker.io/envoyproxy/ai-gateway-helm", version: "v0.5.0", dir: "ai-gateway-helm-v0.5.0", packaging: aigPackaging },
    { chart: "aws-load-balancer-controller", version: "1.17.1", dir: "aws-load-balancer-controller-1.17.1" },
    { chart: "prom-label-proxy", version: "0.22.0", dir: "prom-label-proxy-0.22.0" },
    ...["9.44.0", "9.46.6", "9.51.0", "9.53.0", "9.59.0"].map((version) => ({ chart: "cluster-autoscaler", version, dir: `cluster-autoscaler-${version}` })),
];

/** The vendored chart of a pin, or undefined. */
export function vendoredChart(chart: string, version: string): VendoredChart | undefined {
    return VENDORED_CHARTS.find((c) => c.chart === chart && c.version === version);
}

export function chartSource(dir: string): ChartSource {
    return JSON.parse(fs.readFileSync(path.join(VENDOR_DIR, dir, "SOURCE.json"), "utf8")) as ChartSource;
}

/**
 * The git tree id of a directory as git would store it (blobs `blob <size>\0<bytes>`, trees of
 * `<mode> <name>\0<20-byte id>` entries sorted by name, directories as if their name ended in `/`).
 * Written here rather than by running git: a clean clone and a worktree with uncommitted changes
 * must both be judged by the files that are actually there.
 */
export function gitTreeId(dir: string): string {
    const hash = (type: string, body: Buffer) => createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest();
    const tree = (at: string): Buffer => {
        const entries = fs.readdirSync(at, { withFileTypes: true }).map((e) => {
            const full = path.join(at, e.name);
            if (e.isSymbolicLink()) return { name: e.name, sortKey: e.name, mode: "120000", id: hash("blob", Buffer.from(fs.readlinkSync(full))) };
            if (e.isDirectory()) return { name: e.name, sortKey: `${e.name}/`, mode: "40000", id: tree(full) };
            const executable = (fs.statSync(full).mode & 0o111) !== 0;
            return { name: e.name, sortKey: e.name, mode: executable ? "100755" : "100644", id: hash("blob", fs.readFileSync(full)) };
        });
        entries.sort((a, b) => (Buffer.compare(Buffer.from(a.sortKey), Buffer.from(b.sortKey))));
        return hash("tree", Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), e.id])));
    };
    return tree(dir).toString("hex");
}

/** Environment substitution as envsubst does it (`$NAME` and `${NAME}`; unset names become empty). */
function envsubst(text: string, env: Readonly<Record<string, string>>): string {
    return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? "");
}

const assembled = new Map<string, string>();

/**
 * A directory Helm can render: the vendored chart, packaged as its project releases it (version,
 * generated values), with its subcharts in charts/. Built once per process in a temporary directory.
 */
export function assembleChart(chart: VendoredChart): string {
    const done = assembled.get(chart.dir);
    if (done) return done;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-chart-"));
    const dir = path.join(work, chart.dir);
    fs.cpSync(path.join(VENDOR_DIR, chart.dir, "chart"), dir, { recursive: true, verbatimSymlinks: true });
    if (chart.packaging) {
        const file = path.join(dir, "Chart.yaml");
        const doc = parseDocument(fs.readFileSync(file, "utf8"));
        doc.set("version", chart.packaging.version);
        doc.set("appVersion", chart.packaging.appVersion);
        fs.writeFileSync(file, doc.toString());
        const template = chart.packaging.valuesFromTemplate;
        if (template) fs.writeFileSync(path.join(dir, "values.yaml"), envsubst(fs.readFileSync(path.join(dir, template.template), "utf8"), template.env));
    }
    for (const [name, sub] of Object.entries(chart.dependencies ?? {})) {
        fs.mkdirSync(path.join(dir, "charts"), { recursive: true });
        fs.cpSync(path.join(VENDOR_DIR, sub, "chart"), path.join(dir, "charts", name), { recursive: true, verbatimSymlinks: true });
    }
    assembled.set(chart.dir, dir);
    return dir;
}

/** Removes the directories assembleChart made. */
export function cleanAssembledCharts(): void {
    for (const dir of assembled.values()) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    assembled.clear();
}
