import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type {
    AdmissionOperation,
    AdmissionRuleFact,
    CrdFact,
    NodeSelectorRequirementFact,
    PlacementFact,
    RenderedApiService,
    RenderedChart,
    RenderedPodSet,
    RenderedWebhook,
    RepoFile,
    RequiredNodeAffinityFact,
    TolerationFact,
} from "compute-region-policies/model";
import { placementOf } from "compute-region-policies/model";
import { assembleChart, chartSource, VendoredChart } from "./chart-sources";

/**
 * Facts read off `helm template` of a vendored chart with the values the program passes it: the CRDs
 * it installs, its admission webhooks and aggregated APIs (and the pods that serve them), and its pod
 * sets (labels, host networking, requests, and where their placement and replica count come from).
 *
 * Which values a pod set's nodeSelector, tolerations, affinity and replicas are read from is found by
 * probing the chart: every values path named like those (in the chart's values.yaml, its subcharts'
 * and the program's values) is set to a marker no chart invents, and the render shows which pod sets
 * carry which marker. Rendering again with the winners emptied reveals any fallback (`default`
 * chains) in order of precedence, and with them unset, the chart's defaults. What a pod set carries
 * whatever the values is fixed. Nothing about a chart's templates is written down by hand.
 */

type Obj = Record<string, any>;
export type Render = (values: unknown) => Promise<string>;

export interface ReleaseInput {
    chart: VendoredChart;
    release: string;
    namespace: string;
    values: unknown;
    kubeVersion: string;
}

const PROBE = "probe.compute-region.io";
const PLACEMENT_KEYS = ["nodeSelector", "tolerations", "affinity"] as const;
type PlacementKey = (typeof PLACEMENT_KEYS)[number];
const REPLICA_KEYS = ["replicaCount", "replicas"];
const REPLICA_PROBE_BASE = 7000;
const WORKLOAD_KINDS = new Set(["Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet"]);

/**
 * Charts that build required node affinity from two lists in their values rather than take an
 * `affinity` value: the EFA device plugin ranges over supportedInstanceLabels.keys, one term per key
 * with supportedInstanceLabels.values (aws/eks-charts stable/aws-efa-k8s-device-plugin
 * templates/daemonset.yaml). Probed like the rest: a render with marker lists must show the terms.
 */
const LABEL_TERMS: Readonly<Record<string, { keys: string; values: string }>> = {
    "aws-efa-k8s-device-plugin": { keys: "supportedInstanceLabels.keys", values: "supportedInstanceLabels.values" },
};

/** The kinds the facts are read from; a render's other objects are not parsed. */
const KINDS_READ = new Set([...WORKLOAD_KINDS, "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService", "CustomResourceDefinition"]);

/**
 * Drops a CRD's `schema:` blocks (the bulk of a render: Envoy Gateway's and the Prometheus
 * operator's run to megabytes) before parsing: the facts need only its names, scope and versions.
 */
function withoutSchemas(doc: string): string {
    const out: string[] = [];
    let skipDeeperThan = -1;
    for (const line of doc.split("\n")) {
        const indent = line.length - line.trimStart().length;
        if (skipDeeperThan >= 0) {
            if (line.trim() === "" || indent > skipDeeperThan) continue;
            skipDeeperThan = -1;
        }
        if (/^\s*schema:\s*$/.test(line)) {
            skipDeeperThan = indent;
            continue;
        }
        out.push(line);
    }
    return out.join("\n");
}

/** The manifests of a render that the facts read, each with the template that made it (Helm's `# Source:` line). */
export function parseManifests(text: string): { object: Obj; template: string }[] {
    const out: { object: Obj; template: string }[] = [];
    for (const raw of text.split(/^---[ \t]*$/m)) {
        const kind = /^kind:[ \t]*["']?([A-Za-z]+)/m.exec(raw)?.[1];
        if (!kind || !KINDS_READ.has(kind)) continue;
        const object = parseYaml(kind === "CustomResourceDefinition" ? withoutSchemas(raw) : raw) as Obj | null;
        if (!object || typeof object !== "object" || !object.kind) continue;
        const source = /^# Source: (.+)$/m.exec(raw)?.[1];
        out.push({ object, template: (source ?? "").trim().replace(/^[^/]+\//, "") });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Values paths

function isRecord(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function get(values: unknown, at: readonly string[]): unknown {
    let v = values;
    for (const k of at) {
        if (!isRecord(v)) return undefined;
        v = v[k];
    }
    return v;
}

function set(values: Obj, at: readonly string[], value: unknown): void {
    let v = values;
    for (const k of at.slice(0, -1)) {
        if (!isRecord(v[k])) v[k] = {};
        v = v[k];
    }
    v[at[at.length - 1]] = value;
}

function unset(values: Obj, at: readonly string[]): void {
    const parent = get(values, at.slice(0, -1));
    if (isRecord(parent)) delete parent[at[at.length - 1]];
}

/** Paths (up to a depth, through maps only) whose last key is one of `keys`. */
function pathsNamed(values: unknown, keys: readonly string[], prefix: string[] = [], depth = 7): string[][] {
    if (!isRecord(values) || depth === 0) return [];
    return Object.entries(values).flatMap(([k, v]) => [...(keys.includes(k) ? [[...prefix, k]] : []), ...pathsNamed(v, keys, [...prefix, k], depth - 1)]);
}

/** The chart's default values with its subcharts' under their names, as Helm merges them. */
export function chartDefaults(chartDir: string): Obj {
    const read = (dir: string): Obj => {
        const file = path.join(dir, "values.yaml");
        const values = fs.existsSync(file) ? ((parseYaml(fs.readFileSync(file, "utf8")) as Obj | null) ?? {}) : {};
        const subcharts = path.join(dir, "charts");
        if (fs.existsSync(subcharts)) {
            for (const sub of fs.readdirSync(subcharts)) {
                if (!fs.statSync(path.join(subcharts, sub)).isDirectory()) continue;
                values[sub] = { ...read(path.join(subcharts, sub)), ...(isRecord(values[sub]) ? values[sub] : {}) };
            }
        }
        return values;
    };
    return read(chartDir);
}

const clone = <T>(v: T): T => structuredClone(v);
const ref = (at: readonly string[]) => at.join(".");

// ---------------------------------------------------------------------------------------------
// What a render shows

interface Workload {
    kind: string;
    name: string;
    namespace: string;
    template: string;
    helmHook: boolean;
    spec: Obj;
    podSpec: Obj;
    podLabels: Record<string, string>;
    selector: Record<string, string>;
}

function workloadsOf(manifests: { object: Obj; template: string }[], releaseNamespace: string): Workload[] {
    return manifests
        .filter(({ object }) => WORKLOAD_KINDS.has(object.kind))
        .map(({ object, template }) => ({
            kind: object.kind,
            name: object.metadata?.name,
            namespace: object.metadata?.namespace ?? releaseNamespace,
            template,
            helmHook: typeof object.metadata?.annotations?.["helm.sh/hook"] === "string",
            spec: object.spec ?? {},
            podSpec: object.spec?.template?.spec ?? {},
            podLabels: object.spec?.template?.metadata?.labels ?? {},
            selector: object.spec?.selector?.matchLabels ?? object.spec?.template?.metadata?.labels ?? {},
        }));
}

const workloadId = (w: Pick<Workload, "kind" | "name">) => `${w.kind}/${w.name}`;

function requiredTerms(podSpec: Obj): RequiredNodeAffinityFact | undefined {
    const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!Array.isArray(terms)) return undefined;
    return terms.map((t: Obj) =>
        (t.matchExpressions ?? []).map((e: Obj): NodeSelectorRequirementFact => ({ key: e.key, operator: e.operator, ...(Array.isArray(e.values) ? { values: e.values.map(String) } : {}) })),
    );
}

function tolerationOf(t: Obj): TolerationFact {
    const out: Obj = {};
    for (const k of ["key", "operator", "value", "effect"]) if (t[k] !== undefined && t[k] !== "") out[k] = t[k];
    return out as TolerationFact;
}

/** Quantities summed as Kubernetes reads them (the larger of the containers' sum and any one init container is not needed: no chart here requests more in an init container). */
function sumRequests(podSpec: Obj): { cpu: string; memory: string } | undefined {
    let milli = 0;
    let bytes = 0;
    let any = false;
    for (const c of podSpec.containers ?? []) {
        const r = c?.resources?.requests ?? {};
        if (r.cpu !== undefined) {
            any = true;
            milli += cpuMilli(String(r.cpu));
        }
        if (r.memory !== undefined) {
            any = true;
            bytes += memoryBytes(String(r.memory));
        }
    }
    if (!any) return undefined;
    return { cpu: `${milli}m`, memory: bytes % 1048576 === 0 ? `${bytes / 1048576}Mi` : `${bytes}` };
}

function cpuMilli(q: string): number {
    return q.endsWith("m") ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

function memoryBytes(q: string): number {
    const m = /^([0-9.]+)([KMGT]i?|[kmgt])?$/.exec(q);
    if (!m) throw new Error(`unreadable memory quantity ${q}`);
    const units: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1048576, Gi: 1073741824, Ti: 1099511627776 };
    return Math.round(Number(m[1]) * units[m[2] ?? ""]);
}

// ---------------------------------------------------------------------------------------------
// Probes

function probeValue(key: PlacementKey | "replicas", i: number): unknown {
    switch (key) {
        case "nodeSelector":
            return { [`${PROBE}/n${i}`]: "probe" };
        case "tolerations":
            return [{ key: `${PROBE}/t${i}`, operator: "Exists" }];
        case "affinity":
            return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: `${PROBE}/a${i}`, operator: "Exists" }] }] } } };
        case "replicas":
            return REPLICA_PROBE_BASE + i;
    }
}

const emptyOf = (key: PlacementKey) => (key === "tolerations" ? [] : {});

/** The probe indices a pod set carries in one placement field. */
function probesIn(key: PlacementKey, podSpec: Obj): number[] {
    const ids = (keys: string[], letter: string) => keys.flatMap((k) => (k.startsWith(`${PROBE}/${letter}`) ? [Number(k.slice(PROBE.length + 2))] : []));
    switch (key) {
        case "nodeSelector":
            return ids(Object.keys(podSpec.nodeSelector ?? {}), "n");
        case "tolerations":
            return ids((podSpec.tolerations ?? []).map((t: Obj) => String(t?.key ?? "")), "t");
        case "affinity":
            return ids((requiredTerms(podSpec) ?? []).flat().map((e) => e.key), "a");
    }
}

interface Candidate {
    at: string[];
    key: PlacementKey | "replicas";
}

/** The values with each active candidate set to its probe, or emptied (to reveal a fallback); the rest as the program passes them. */
function probed(values: unknown, candidates: readonly Candidate[], active: ReadonlySet<number>, emptied: ReadonlySet<number>): Obj {
    const out = clone(isRecord(values) ? values : {});
    candidates.forEach((c, i) => {
        if (!active.has(i)) return;
        if (emptied.has(i)) {
            if (c.key !== "replicas") set(out, c.at, emptyOf(c.key));
        } else set(out, c.at, probeValue(c.key, i));
    });
    return out;
}

/**
 * The candidates a chart can take a probe at. A chart that cannot (a string it passes to `tpl`, a
 * number it compares) fails to render: those are found by halving and left out.
 */
async function probeable(render: Render, values: unknown, candidates: readonly Candidate[]): Promise<Set<number>> {
    const renders = async (active: Set<number>) => {
        try {
            await render(probed(values, candidates, active, new Set()));
            return true;
        } catch {
            return false;
        }
    };
    const all = new Set(candidates.map((_, i) => i));
    if (await renders(all)) return all;
    const good = new Set<number>();
    const split = async (list: number[]): Promise<void> => {
        if (list.length === 0) return;
        if (await renders(new Set([...good, ...list]))) return void list.forEach((i) => good.add(i));
        if (list.length === 1) return;
        const mid = Math.floor(list.length / 2);
        await split(list.slice(0, mid));
        await split(list.slice(mid));
    };
    await split([...all]);
    return good;
}

// ---------------------------------------------------------------------------------------------
// Webhooks, API services, CRDs

function podSetServing(manifests: { object: Obj }[], workloads: Workload[], service: Obj | undefined, releaseNamespace: string): { servedBy?: string; port?: number } {
    if (!service?.name) return {};
    const svc = manifests.find(({ object }) => object.kind === "Service" && object.metadata?.name === service.name && (object.metadata?.namespace ?? releaseNamespace) === (service.namespace ?? releaseNamespace))?.object;
    if (!svc) return {};
    const selector: Record<string, string> = svc.spec?.selector ?? {};
    const pods = workloads.filter((w) => w.namespace === (svc.metadata?.namespace ?? releaseNamespace) && Object.entries(selector).every(([k, v]) => w.podLabels[k] === v));
    if (pods.length !== 1) return {};
    const wanted = Number(service.port ?? 443);
    const port = (svc.spec?.ports ?? []).find((p: Obj) => Number(p.port) === wanted);
    const target = port?.targetPort ?? port?.port;
    let number = typeof target === "number" ? target : Number.isFinite(Number(target)) ? Number(target) : undefined;
    if (number === undefined) {
        for (const c of pods[0].podSpec.containers ?? []) for (const p of c.ports ?? []) if (p.name === target) number = Number(p.containerPort);
    }
    return { servedBy: workloadId(pods[0]), ...(number !== undefined ? { port: number } : {}) };
}

function webhooksOf(manifests: { object: Obj; template: string }[], workloads: Workload[], releaseNamespace: string, sourceOf: SourceOf): RenderedWebhook[] {
    return manifests
        .filter(({ object }) => object.kind === "MutatingWebhookConfiguration" || object.kind === "ValidatingWebhookConfiguration")
        .flatMap(({ object, template }) =>
            (object.webhooks ?? []).map((w: Obj): RenderedWebhook => {
                const serving = podSetServing(manifests, workloads, w.clientConfig?.service, releaseNamespace);
                return {
                    name: w.name,
                    kind: object.kind === "MutatingWebhookConfiguration" ? "mutating" : "validating",
                    // admissionregistration.k8s.io/v1 defaults failurePolicy to Fail.
                    failurePolicy: w.failurePolicy === "Ignore" ? "Ignore" : "Fail",
                    rules: (w.rules ?? []).map(
                        (r: Obj): AdmissionRuleFact => ({
                            apiGroups: r.apiGroups ?? [],
                            apiVersions: r.apiVersions ?? [],
                            resources: r.resources ?? [],
                            operations: (r.operations ?? []) as AdmissionOperation[],
                        }),
                    ),
                    ...(w.namespaceSelector && Object.keys(w.namespaceSelector).length > 0 ? { namespaceSelector: w.namespaceSelector } : {}),
                    ...(w.objectSelector && Object.keys(w.objectSelector).length > 0 ? { objectSelector: w.objectSelector } : {}),
                    ...serving,
                    source: sourceOf(template),
                };
            }),
        );
}

function apiServicesOf(manifests: { object: Obj; template: string }[], workloads: Workload[], releaseNamespace: string, sourceOf: SourceOf): RenderedApiService[] {
    return manifests
        .filter(({ object }) => object.kind === "APIService" && object.spec?.service)
        .map(({ object, template }) => ({ group: object.spec.group, version: object.spec.version, ...podSetServing(manifests, workloads, object.spec.service, releaseNamespace), source: sourceOf(template) }));
}

function crdsOf(manifests: { object: Obj }[]): CrdFact[] {
    return manifests
        .filter(({ object }) => object.kind === "CustomResourceDefinition")
        .map(({ object }) => ({
            group: object.spec.group,
            kind: object.spec.names.kind,
            scope: object.spec.scope,
            served: (object.spec.versions ?? []).filter((v: Obj) => v.served !== false).map((v: Obj) => String(v.name)),
        }))
        .sort((a, b) => `${a.group}/${a.kind}`.localeCompare(`${b.group}/${b.kind}`));
}

// ---------------------------------------------------------------------------------------------
// Pod sets

async function podSetsOf(input: ReleaseInput, render: Render, baseline: { object: Obj; template: string }[], chartDir: string, sourceOf: SourceOf): Promise<RenderedPodSet[]> {
    const workloads = workloadsOf(baseline, input.namespace);
    const defaults = chartDefaults(chartDir);
    const seen = new Set<string>();
    const candidates: Candidate[] = [];
    for (const at of [...pathsNamed(defaults, PLACEMENT_KEYS), ...pathsNamed(input.values, PLACEMENT_KEYS)]) {
        if (seen.has(ref(at))) continue;
        seen.add(ref(at));
        candidates.push({ at, key: at[at.length - 1] as PlacementKey });
    }
    for (const at of [...pathsNamed(defaults, REPLICA_KEYS), ...pathsNamed(input.values, REPLICA_KEYS)]) {
        if (seen.has(ref(at)) || typeof (get(input.values, at) ?? get(defaults, at) ?? 0) !== "number") continue;
        seen.add(ref(at));
        candidates.push({ at, key: "replicas" });
    }

    // Which values each pod set reads, in order of precedence.
    const active = await probeable(render, input.values, candidates);
    const reads = new Map<string, Record<PlacementKey, string[]>>();
    const replicaRefs = new Map<string, string>();
    const emptied = new Set<number>();
    const firstProbe = parseManifests(await render(probed(input.values, candidates, active, emptied)));
    let probedRender = firstProbe;
    for (let round = 0; round < 4; round++) {
        let found = false;
        for (const w of workloadsOf(probedRender, input.namespace)) {
            const entry = reads.get(workloadId(w)) ?? { nodeSelector: [], tolerations: [], affinity: [] };
            for (const key of PLACEMENT_KEYS) {
                for (const i of probesIn(key, w.podSpec)) {
                    const r = ref(candidates[i].at);
                    if (!entry[key].includes(r)) {
                        entry[key].push(r);
                        emptied.add(i);
                        found = true;
                    }
                }
            }
            reads.set(workloadId(w), entry);
            const replicas = Number(w.spec.replicas ?? w.spec.parallelism);
            if (round === 0 && replicas >= REPLICA_PROBE_BASE && candidates[replicas - REPLICA_PROBE_BASE]?.key === "replicas") replicaRefs.set(workloadId(w), ref(candidates[replicas - REPLICA_PROBE_BASE].at));
        }
        if (!found) break;
        // Again with the values found emptied: a chart that falls back to another value shows it now.
        probedRender = parseManifests(await render(probed(input.values, candidates, active, emptied)));
    }

    // What the pod sets carry whatever the values: the probe render's entries that are no probe.
    const fixedOf = new Map(workloadsOf(firstProbe, input.namespace).map((w) => [workloadId(w), w.podSpec]));

    // The chart's defaults: the values read removed.
    const withoutRead = clone(isRecord(input.values) ? input.values : {});
    for (const entry of reads.values()) for (const key of PLACEMENT_KEYS) for (const r of entry[key]) unset(withoutRead, r.split("."));
    for (const r of replicaRefs.values()) unset(withoutRead, r.split("."));
    const defaultsOf = new Map(workloadsOf(parseManifests(await render(withoutRead)), input.namespace).map((w) => [workloadId(w), w]));

    // Required node affinity built from lists of keys and values, where the chart does that.
    const labelTermsOf = new Map<string, NonNullable<PlacementFact["labelTerms"]>>();
    const lists = LABEL_TERMS[input.chart.chart];
    if (lists) {
        const [k1, k2, v1] = [`${PROBE}/k1`, `${PROBE}/k2`, "probe-value"];
        const vals = clone(isRecord(input.values) ? input.values : {});
        set(vals, lists.keys.split("."), [k1, k2]);
        set(vals, lists.values.split("."), [v1]);
        for (const w of workloadsOf(parseManifests(await render(vals)), input.namespace)) {
            const terms = requiredTerms(w.podSpec) ?? [];
            const first = terms[0]?.[0];
            if (first?.key !== k1) continue;
            const last = terms[1] ?? [];
            if (terms.length !== 2 || terms[0].length !== 1 || last[0]?.key !== k2 || JSON.stringify(first.values) !== JSON.stringify([v1])) {
                throw new Error(`${input.chart.dir}: ${workloadId(w)} does not build its affinity from ${lists.keys} and ${lists.values} as a term per key: ${JSON.stringify(terms)}`);
            }
            labelTermsOf.set(workloadId(w), {
                keys: lists.keys,
                values: lists.values,
                defaultKeys: ((get(defaults, lists.keys.split(".")) as unknown[]) ?? []).map(String),
                defaultValues: ((get(defaults, lists.values.split(".")) as unknown[]) ?? []).map(String),
                also: last.slice(1),
            });
        }
    }

    return workloads.map((w): RenderedPodSet => {
        const id = workloadId(w);
        const read = reads.get(id) ?? { nodeSelector: [], tolerations: [], affinity: [] };
        const probeSpec = fixedOf.get(id) ?? w.podSpec;
        const fixedSelector = Object.fromEntries(Object.entries(probeSpec.nodeSelector ?? {}).filter(([k]) => !k.startsWith(PROBE)));
        const fixedTolerations = (probeSpec.tolerations ?? []).filter((t: Obj) => !String(t?.key ?? "").startsWith(PROBE)).map(tolerationOf);
        const byDefault = defaultsOf.get(id)?.podSpec ?? {};
        const defaultSelector = Object.fromEntries(Object.entries(byDefault.nodeSelector ?? {}).filter(([k]) => !(k in fixedSelector)));
        const defaultTolerations = (byDefault.tolerations ?? []).map(tolerationOf).filter((t: TolerationFact) => !fixedTolerations.some((f: TolerationFact) => JSON.stringify(f) === JSON.stringify(t)));
        const fromLists = labelTermsOf.get(id);
        const defaultAffinity = fromLists ? undefined : requiredTerms(byDefault);
        const placement: PlacementFact = {
            ...(read.nodeSelector.length > 0 ? { nodeSelector: read.nodeSelector } : {}),
            ...(read.tolerations.length > 0 ? { tolerations: read.tolerations } : {}),
            ...(read.affinity.length > 0 ? { affinity: read.affinity } : {}),
            ...(fromLists ? { labelTerms: fromLists } : {}),
            ...(Object.keys(defaultSelector).length > 0 || defaultTolerations.length > 0 || defaultAffinity
                ? {
                      defaults: {
                          ...(Object.keys(defaultSelector).length > 0 ? { nodeSelector: defaultSelector as Record<string, string> } : {}),
                          ...(defaultTolerations.length > 0 || read.tolerations.length > 0 ? { tolerations: defaultTolerations } : {}),
                          ...(defaultAffinity ? { requiredNodeAffinity: defaultAffinity } : {}),
                      },
                  }
                : {}),
            ...(Object.keys(fixedSelector).length > 0 || fixedTolerations.length > 0
                ? { fixed: { ...(Object.keys(fixedSelector).length > 0 ? { nodeSelector: fixedSelector as Record<string, string> } : {}), ...(fixedTolerations.length > 0 ? { tolerations: fixedTolerations } : {}) } }
                : {}),
        };
        const replicaRef = replicaRefs.get(id);
        const defaultReplicas = Number(defaultsOf.get(id)?.spec.replicas ?? 1);
        const requests = sumRequests(w.podSpec);
        return {
            workload: id,
            ...(w.namespace !== input.namespace ? { namespace: w.namespace } : {}),
            labels: w.podLabels,
            selector: w.selector,
            hostNetwork: w.podSpec.hostNetwork === true,
            ...(w.helmHook ? { helmHook: true } : {}),
            placement,
            ...(requests ? { requests } : {}),
            replicas: w.kind === "DaemonSet" ? "perNode" : replicaRef ? { values: replicaRef, default: defaultReplicas } : Number(w.spec.replicas ?? w.spec.parallelism ?? 1),
            source: sourceOf(w.template),
        };
    });
}

type SourceOf = (template: string) => RepoFile;

/** The upstream file a template of the chart (or of one of its vendored subcharts) is, at the vendored ref. */
function sourcesOf(chart: VendoredChart): SourceOf {
    const at = (dir: string, file: string): RepoFile => {
        const s = chartSource(dir);
        return { repo: s.repository.replace("https://github.com/", ""), ref: s.ref, file: file ? `${s.path}/${file}` : s.path };
    };
    return (template) => {
        const sub = /^charts\/([^/]+)\/(.*)$/.exec(template);
        const dep = sub && chart.dependencies?.[sub[1]];
        return dep ? at(dep, sub![2]) : at(chart.dir, template);
    };
}

/** Everything a render of one release shows. */
export async function deriveChartFacts(input: ReleaseInput, render: Render): Promise<RenderedChart> {
    const chartDir = assembleChart(input.chart);
    const baseline = parseManifests(await render(input.values));
    const workloads = workloadsOf(baseline, input.namespace);
    const sourceOf = sourcesOf(input.chart);
    return {
        chart: input.chart.chart,
        version: input.chart.version,
        rendered: { release: input.release, namespace: input.namespace, kubeVersion: input.kubeVersion, source: sourceOf("") },
        crds: crdsOf(baseline),
        webhooks: webhooksOf(baseline, workloads, input.namespace, sourceOf),
        apiServices: apiServicesOf(baseline, workloads, input.namespace, sourceOf),
        pods: await checkedPlacement(input, render, await podSetsOf(input, render, baseline, chartDir, sourceOf)),
    };
}

/** A pod spec's placement, normalised for comparison. */
function placementKey(p: { nodeSelector?: Record<string, string>; tolerations?: readonly unknown[]; requiredNodeAffinity?: unknown }): string {
    const tolerations = (p.tolerations ?? []).map((t) => JSON.stringify(tolerationOf(t as Obj))).sort();
    const affinity = (p.requiredNodeAffinity as RequiredNodeAffinityFact | undefined)?.map((term) => term.map((e) => ({ key: e.key, operator: e.operator, ...(e.values && e.values.length > 0 ? { values: [...e.values] } : {}) })));
    return JSON.stringify({ nodeSelector: Object.fromEntries(Object.entries(p.nodeSelector ?? {}).sort()), tolerations, affinity: affinity ?? null });
}

/**
 * The facts must say where the pods go for any values, as the model reads them (placementOf): checked
 * against renders with the program's values and with the chart's own defaults (when the chart renders
 * without values). A chart that places its pods by a value the facts do not name fails here.
 */
async function checkedPlacement(input: ReleaseInput, render: Render, pods: RenderedPodSet[]): Promise<RenderedPodSet[]> {
    const cases: [string, unknown][] = [["the program's values", input.values], ["the chart's defaults", {}]];
    for (const [what, values] of cases) {
        let manifests: { object: Obj; template: string }[];
        try {
            manifests = parseManifests(await render(values));
        } catch {
            if (values === input.values) throw new Error(`${input.chart.dir} does not render with the program's values`);
            continue;
        }
        for (const w of workloadsOf(manifests, input.namespace)) {
            const pod = pods.find((p) => p.workload === workloadId(w));
            if (!pod) continue;
            const rendered = placementKey({ nodeSelector: w.podSpec.nodeSelector, tolerations: w.podSpec.tolerations, requiredNodeAffinity: requiredTerms(w.podSpec) });
            const modelled = placementKey(placementOf(values, pod.placement));
            if (rendered !== modelled) throw new Error(`${input.chart.dir}: ${pod.workload} with ${what} renders placement ${rendered}, but its facts give ${modelled}: the chart reads a value the facts do not name`);
        }
    }
    return pods;
}
