import { ClusterPicture, clusterPicture, crdKey, kubernetesType, PlannedPod, PodUnknowns, pluralOf } from "../evidence/cluster-picture";
import { cannotDecide, fromPolicyResources, GraphResource, isUnknown, unknownIn } from "../evidence/deploy-input";
import { FunctionalEvidence, proveFunctionalPaths } from "./functional-paths";
import { whyNotSchedulable } from "../domain/scheduling";
import { DATA_TYPES, K8S_TYPES, TYPES } from "../domain/types";
import { AWS_CREATE_TIMES, CHART_FACTS, ADDON_FACTS, HELM_WAIT_TYPICAL_SECONDS, KUBERNETES_AWAIT, KUBERNETES_BUILTIN_GROUPS } from "../upstream";
import type { Source } from "../upstream/types";
import { selectorMatches } from "../domain/label-selectors";

/**
 * The deploy rehearsal: the planned resource graph replayed the way the engine walks it on a first
 * `pulumi up` (a resource starts once everything it depends on is created, and a Kubernetes or Helm
 * resource is created only once what it waits for is ready), against what the installed systems
 * need to start. Every resource whose precondition is not met when it would be created is a finding
 * that names the resource, the missing precondition and what provides it:
 * - a custom resource needs the release or add-on that installs its CRD, at a served apiVersion;
 * - an object a failing-closed admission webhook intercepts needs the release that runs the webhook;
 * - a namespaced object needs its Namespace (unless Kubernetes creates it);
 * - an awaited workload needs a node group whose labels, taints and allocatable resources fit its
 *   pods and, for GPUs or EFA, the device plugin that advertises them;
 * - under a strict CNI, every pod needs a NetworkPolicy that selects it, in place before it starts,
 *   and the paths it must have (the functional reachability proof);
 * - an image from a registry the stack creates needs a build step before it;
 * - an await must last as long as the pods' own start-up allowance.
 * It also times the replay: each resource's wave, and the critical path of the create times.
 */

export type RehearsalCheck = "facts" | "crd" | "webhook" | "namespace" | "placement" | "device-plugin" | "network" | "path" | "image" | "await";

export interface RehearsalFinding {
    check: RehearsalCheck;
    /** The resource whose precondition is not met. */
    resource: string;
    urn?: string;
    /** The precondition, in a phrase. */
    missing: string;
    /** What provides it, where the plan has it. */
    providedBy?: string;
    message: string;
    /**
     * The value unknown during the preview that the finding rests on (`resource.path`): with it
     * known the precondition may well hold, so a policy reports "not run", as CrossGuard does for a
     * policy that reads an unknown, never a violation. Absent when the finding holds whatever the
     * unknowns turn out to be.
     */
    undecided?: string;
}

export interface ScheduledResource {
    name: string;
    type: string;
    wave: number;
    /** When it starts and how long it takes, expected (typical create times). */
    startSeconds: number;
    seconds: number;
    /** Where the expected figure comes from: a documented typical time, a modelled one, or the bound. */
    basis: string;
    /** How long it may take at most (its time-out), and why. */
    boundSeconds: number;
    boundBasis: string;
}

export interface Rehearsal {
    cni: ClusterPicture["cni"];
    resources: number;
    waves: number;
    /** The critical path's length with typical create times: how long a first up is expected to take. */
    expectedSeconds: number;
    /** The longest path with every create at its time-out: a first up takes at most this long. */
    boundSeconds: number;
    /** The resources on the expected critical path, in order. */
    criticalPath: ScheduledResource[];
    schedule: ScheduledResource[];
    /** Unmet preconditions that hold whatever the values unknown during the preview turn out to be. */
    findings: RehearsalFinding[];
    /** Those that rest on a value unknown during the preview (their `undecided` says which): judged at deploy. */
    undecided: RehearsalFinding[];
    functional: Pick<FunctionalEvidence, "pathsChecked"> & { pathsCut: number; podsUnselected: number };
}

/** What a resource that awaits nothing takes: one API call (a modelling figure, not a documented one). */
export const API_CALL_SECONDS = 2;

/** What building and pushing an image takes: modelling figures (a Node.js image from a cold cache, and a slow runner). */
export const IMAGE_BUILD_SECONDS = { typical: 5 * 60, bound: 30 * 60 } as const;

/** Types that build and push an image, so a registry the stack creates is no longer empty. */
export const IMAGE_BUILD_TYPES: readonly string[] = ["docker-build:index:Image", "docker:index/image:Image"];

/**
 * A graph of resources with, for each, which of the tracked resources (those a precondition can
 * name: releases, add-ons, namespaces, node groups, repositories, builds) it transitively depends on, as
 * bits. Tracking only those keeps a 1,000-tenant region's graph small; any other pair (a workload's
 * NetworkPolicies, asked about for the few awaited workloads) is answered by walking the dependencies.
 */
class Graph {
    readonly deps: number[][];
    readonly order: number[];
    /** Each resource's row of `words` words, in one buffer (a row of a resource not yet reached is empty). */
    private readonly ancestors: Uint32Array;
    private readonly words: number;
    private readonly bit: Int32Array;

    constructor(readonly resources: readonly GraphResource[], index: ReadonlyMap<string, number>, tracked: (r: GraphResource) => boolean) {
        const n = resources.length;
        this.deps = resources.map((r) => {
            const deps: number[] = [];
            for (const urn of r.dependencies) {
                const d = index.get(urn);
                if (d !== undefined && !deps.includes(d)) deps.push(d);
            }
            return deps;
        });
        // Kahn's order; what is left (a cycle, which the engine would refuse) goes last as recorded.
        const indegree = this.deps.map((d) => d.length);
        const dependents: number[][] = resources.map(() => []);
        this.deps.forEach((ds, i) => ds.forEach((d) => dependents[d].push(i)));
        const queue = indegree.map((d, i) => (d === 0 ? i : -1)).filter((i) => i >= 0);
        const order: number[] = [];
        for (let q = 0; q < queue.length; q++) {
            const i = queue[q];
            order.push(i);
            for (const j of dependents[i]) if (--indegree[j] === 0) queue.push(j);
        }
        if (order.length < n) for (let i = 0; i < n; i++) if (indegree[i] > 0) order.push(i);
        this.order = order;
        this.bit = new Int32Array(n).fill(-1);
        let bits = 0;
        resources.forEach((r, i) => {
            if (tracked(r)) this.bit[i] = bits++;
        });
        const words = Math.max(1, Math.ceil(bits / 32));
        const ancestors = new Uint32Array(n * words);
        for (const i of order) {
            const row = i * words;
            for (const d of this.deps[i]) {
                const b = this.bit[d];
                if (b >= 0) ancestors[row + (b >>> 5)] |= 1 << (b & 31);
                const from = d * words;
                for (let w = 0; w < words; w++) ancestors[row + w] |= ancestors[from + w];
            }
        }
        this.ancestors = ancestors;
        this.words = words;
    }

    /** Whether `a` is created before `r` starts (a transitive dependency of it). */
    before(a: number, r: number): boolean {
        if (a === r) return false;
        const b = this.bit[a];
        if (b >= 0) return ((this.ancestors[r * this.words + (b >>> 5)] >>> (b & 31)) & 1) === 1;
        const seen = new Set<number>();
        const stack = [...this.deps[r]];
        while (stack.length > 0) {
            const d = stack.pop()!;
            if (d === a) return true;
            if (seen.has(d)) continue;
            seen.add(d);
            stack.push(...this.deps[d]);
        }
        return false;
    }
}

/** Resources a precondition can name as what provides it. */
const PROVIDER_TYPES: ReadonlySet<string> = new Set([TYPES.helmRelease, TYPES.eksAddon, TYPES.eksCluster, TYPES.eksNodeGroup, K8S_TYPES.namespace, DATA_TYPES.ecrRepository, ...IMAGE_BUILD_TYPES]);

function label(r: GraphResource): string {
    return `${r.name} (${r.type.split(":").pop()})`;
}

interface Duration {
    expected: number;
    basis: string;
    bound: number;
    boundBasis: string;
}

/** How long creating a resource takes: typically, and at most (its time-out), each with its source. */
function duration(r: GraphResource): Duration {
    const call = (why: string): Duration => ({ expected: API_CALL_SECONDS, basis: why, bound: API_CALL_SECONDS, boundBasis: why });
    const aws = AWS_CREATE_TIMES[r.type];
    if (aws) {
        const bound = r.createTimeoutSeconds ?? aws.boundSeconds;
        const boundBasis = r.createTimeoutSeconds ? `customTimeouts.create ${bound}s` : `the provider's create time-out (${sourceText(aws.boundSource)})`;
        return aws.typicalSeconds !== undefined && aws.typicalSource
            ? { expected: Math.min(aws.typicalSeconds, bound), basis: sourceText(aws.typicalSource), bound, boundBasis }
            : { expected: bound, basis: "no documented typical time: its time-out", bound, boundBasis };
    }
    if (IMAGE_BUILD_TYPES.includes(r.type)) {
        return { expected: IMAGE_BUILD_SECONDS.typical, basis: "docker buildx build and push (modelled)", bound: IMAGE_BUILD_SECONDS.bound, boundBasis: "no time-out of its own (modelled bound)" };
    }
    if (r.type === TYPES.helmRelease) {
        if (r.props.skipAwait === true) return call("a Helm install that awaits nothing");
        const t = typeof r.props.timeout === "number" ? r.props.timeout : KUBERNETES_AWAIT.helmReleaseDefaultTimeoutSeconds;
        return { expected: Math.min(HELM_WAIT_TYPICAL_SECONDS, t), basis: "helm --wait on running nodes (modelled)", bound: t, boundBasis: `helm --wait, timeout ${t}s` };
    }
    const k8s = kubernetesType(r.type);
    if (k8s && KUBERNETES_AWAIT.awaitedKinds.includes(`${k8s.group === "core" ? "core" : k8s.group}/${k8s.version}:${k8s.kind}`) && !(k8s.kind === "Service" && r.props.spec?.type !== "LoadBalancer")) {
        if (r.props.metadata?.annotations?.["pulumi.com/skipAwait"] === "true") return call("skipAwait");
        const t = r.createTimeoutSeconds ?? KUBERNETES_AWAIT.defaultSeconds;
        // An await sized to its pods' start-up (customTimeouts) is expected to use it; others are quick.
        return r.createTimeoutSeconds
            ? { expected: t, basis: `its start-up allowance (customTimeouts.create ${t}s)`, bound: t, boundBasis: `customTimeouts.create ${t}s` }
            : { expected: Math.min(HELM_WAIT_TYPICAL_SECONDS, t), basis: "ready on running nodes (modelled)", bound: t, boundBasis: `pulumi-kubernetes' default await, ${t}s` };
    }
    return r.custom ? call("one API call") : { expected: 0, basis: "a component", bound: 0, boundBasis: "a component" };
}

function sourceText(source: Source): string {
    // The ref stays in the facts; a commit hash would only lengthen every line that cites it.
    const ref = "ref" in source && !/^[0-9a-f]{40}$/.test(source.ref) ? `@${source.ref}` : "";
    return "url" in source ? `${source.url}${source.note ? `: ${source.note}` : ""}` : `${source.repo}${ref} ${source.file}${source.note ? `: ${source.note}` : ""}`;
}

const knownCrd = (group: string, kind: string) => [...CHART_FACTS, ...ADDON_FACTS].flatMap((f) => f.crds).find((c) => c.group === group && c.kind === kind);

export function rehearse(resources: readonly GraphResource[]): Rehearsal {
    return withTiming(checkRehearsal(resources));
}

/** The rehearsal's checks, without its timing (what the policies report): findings, and the graph the timing walks. */
interface RehearsalChecks extends Pick<Rehearsal, "cni" | "findings" | "undecided" | "functional"> {
    resources: readonly GraphResource[];
    graph: Graph;
}

function checkRehearsal(resources: readonly GraphResource[]): RehearsalChecks {
    const picture = clusterPicture(resources);
    const graph = new Graph(resources, picture.index, (r) => PROVIDER_TYPES.has(r.type));
    const findings: RehearsalFinding[] = [];
    const report: Report = (check, i, missing, message, providedBy, undecided) => {
        const r = resources[i];
        findings.push({ check, resource: r.name, urn: r.urn, missing, ...(providedBy !== undefined ? { providedBy: resources[providedBy].name } : {}), message: `${label(r)}: ${message}`, ...(undecided ? { undecided } : {}) });
    };
    // A precondition that can only be judged once `unknown` is known: never a finding, always "not run".
    const judgedAtDeploy = (check: RehearsalCheck, i: number, missing: string, message: string, unknown: string) => report(check, i, missing, message, undefined, unknown);
    const u = picture.unknown;
    const namespaceLabelsUnknown = (namespace: string) => picture.namespaces.get(namespace)?.unknownLabels ?? (picture.namespaces.has(namespace) ? undefined : u.namespaceMakers[0]);

    for (const u of picture.unknownInstalls) {
        report("facts", u.resource, `upstream facts for ${u.what}`, `the rehearsal has no upstream facts for ${u.what} (policies/model/upstream): its CRDs, webhooks and pods cannot be judged`);
    }
    // A release or add-on whose chart, version or name is unknown during the preview: whether facts exist is not known yet.
    resources.forEach((r, i) => {
        const unknown = r.type === TYPES.helmRelease ? unknownIn(r, "chart", "version") : r.type === TYPES.eksAddon ? unknownIn(r, "addonName") : undefined;
        if (unknown) judgedAtDeploy("facts", i, `upstream facts for ${r.name}`, `what it installs is known only after the deploy`, unknown);
    });

    // Webhooks that fail closed, by the API group and resource their rules name (or a wildcard).
    const failClosed = picture.webhooks.filter((w) => w.failurePolicy === "Fail");
    const byResource = new Map<string, typeof failClosed>();
    const webhooksFor = (group: string, resource: string) => {
        const key = `${group}/${resource}`;
        let list = byResource.get(key);
        if (!list) {
            const g = group === "core" ? "" : group;
            byResource.set(key, (list = failClosed.filter((w) => w.fact.rules.some((rule) => (rule.apiGroups.includes(g) || rule.apiGroups.includes("*")) && (rule.resources.includes(resource) || rule.resources.includes("*"))))));
        }
        return list;
    };

    resources.forEach((r, i) => {
        const k8s = kubernetesType(r.type);
        if (!k8s || r.type === TYPES.helmRelease) return;
        const apiVersion = typeof r.props.apiVersion === "string" && !isUnknown(r.props.apiVersion) ? r.props.apiVersion : `${k8s.group === "core" ? "" : `${k8s.group}/`}${k8s.version}`;
        const version = apiVersion.split("/").pop()!;
        const namespace = typeof r.props.metadata?.namespace === "string" ? r.props.metadata.namespace : undefined;

        // CRDs.
        if (!KUBERNETES_BUILTIN_GROUPS.includes(k8s.group)) {
            const providers = picture.crdProviders.get(crdKey(k8s.group, k8s.kind)) ?? [];
            const crd = providers[0]?.crd ?? knownCrd(k8s.group, k8s.kind);
            if (crd && !crd.served.includes(version)) {
                report("crd", i, `a served apiVersion of ${k8s.kind}`, `${k8s.group}/${version} is not served: ${providers[0]?.label ?? "its CRD"} serves ${k8s.kind} only as ${crd.served.map((v) => `${k8s.group}/${v}`).join(", ")}`, providers[0]?.provider, unknownIn(r, "apiVersion"));
            }
            // A release or add-on whose chart or name is unknown may be the one that installs it, before it.
            if (providers.length === 0 && !picture.onPlatform) {
                report("crd", i, `the CRD ${k8s.group}/${k8s.kind}`, `no release or add-on of this stack installs the CRD ${crdKey(k8s.group, k8s.kind)}`, undefined, u.installs[0]);
            } else if (providers.length > 0 && !providers.some((p) => graph.before(p.provider, i))) {
                report("crd", i, `the CRD ${crdKey(k8s.group, k8s.kind)}`, `it is created before ${providers[0].label} installs its CRD: nothing orders it after ${resources[providers[0].provider].name}`, providers[0].provider, u.installs[0]);
            }
        }

        // Admission webhooks that fail closed.
        const nsLabels = namespace ? (picture.namespaces.get(namespace)?.labels ?? { "kubernetes.io/metadata.name": namespace }) : undefined;
        const objectLabels = r.props.metadata?.labels ?? {};
        for (const w of webhooksFor(k8s.group, pluralOf(k8s.kind))) {
            if (w.failurePolicy !== "Fail" || w.provider === i || graph.before(w.provider, i)) continue;
            if (!webhookMatches(w, k8s.group, version, pluralOf(k8s.kind), nsLabels, objectLabels)) continue;
            const undecided = w.unknown ?? unknownIn(r, "apiVersion", "metadata.namespace", "metadata.labels") ?? (namespace ? namespaceLabelsUnknown(namespace) : undefined);
            report("webhook", i, `the ${w.fact.name} webhook`, `the ${w.fact.name} webhook of ${resources[w.provider].name} (failurePolicy Fail) intercepts it, and nothing orders it after that release`, w.provider, undecided);
        }

        // Namespaces.
        if (namespace && !isUnknown(namespace)) checkNamespace(picture, graph, i, namespace, report);
    });

    // Helm releases install into their namespace.
    resources.forEach((r, i) => {
        if (r.type !== TYPES.helmRelease || r.props.createNamespace === true) return;
        if (typeof r.props.namespace === "string" && !isUnknown(r.props.namespace)) checkNamespace(picture, graph, i, r.props.namespace, report);
    });

    // A stack on a platform (a shard) may run pods in a namespace the platform creates (a shard's
    // registry Job in billing): the platform's node groups place them and its NetworkPolicies admit
    // them, which this stack cannot see; the platform's own plan judges those.
    const platformOwned = (namespace: string) => picture.onPlatform && picture.namespaces.get(namespace)?.createdBy === undefined && !picture.namespaces.get(namespace)?.builtin;
    // Awaited pods: webhooks on their creation, placement, device plugins, network, images and awaits.
    const functional = proveFunctionalPaths(picture);
    const registries = registriesOf(picture);
    for (const pod of picture.pods) {
        if (!pod.awaited || pod.replicas === 0) continue;
        const owner = pod.owner;
        const nsLabels = picture.namespaces.get(pod.namespace)?.labels ?? { "kubernetes.io/metadata.name": pod.namespace };
        for (const w of picture.webhooks) {
            if (w.failurePolicy !== "Fail" || w.provider === owner || graph.before(w.provider, owner)) continue;
            if (!webhookMatches(w, "core", "v1", "pods", nsLabels, pod.labels)) continue;
            const undecided = w.unknown ?? podUnknown(pod, "labels", "namespace", "awaited", "placement") ?? namespaceLabelsUnknown(pod.namespace);
            report("webhook", owner, `the ${w.fact.name} webhook`, `its pods (${pod.name}) are created through the ${w.fact.name} webhook of ${resources[w.provider].name} (failurePolicy Fail), and nothing orders it after that release`, w.provider, undecided);
        }
        if (pod.replicas !== "perNode" && !platformOwned(pod.namespace)) checkPlacement(picture, graph, pod, report);
        checkImages(picture, graph, pod, registries, report);
        checkAwait(picture, pod, report);
    }
    for (const group of picture.nodeGroups) {
        for (const [resource, count] of Object.entries(group.allocatable?.extended ?? {})) {
            if (count <= 0) continue;
            const plugins = picture.devicePlugins.filter((d) => d.resource === resource);
            const reasons = plugins.map((p) => whyNotSchedulable({ ...p.pod.shape, requests: { cpuMilli: 0, memoryBytes: 0, extended: {} } }, group)).filter((w): w is string => w !== undefined);
            if (plugins.length > 0 && reasons.length === plugins.length) {
                const undecided = plugins.map((p) => podUnknown(p.pod, "placement") ?? nodeGroupUnknown(group, p.pod)).find((x) => x !== undefined);
                report("device-plugin", group.resource, `a device plugin advertising ${resource}`, `its nodes (${group.instanceType}) would advertise no ${resource}: the device plugin's pods cannot run on them (${reasons.join("; ")})`, plugins[0].pod.owner, undecided);
            }
        }
    }

    // Strict CNI: pods no policy selects, policies that come after the pods, and cut paths. Which
    // policies select a pod rests on the policies of its namespace (and those whose namespace is unknown).
    const policyUnknown = (namespace: string) => picture.policies.map((p, i) => (p.namespace === namespace ? u.policies.get(i) : undefined)).find((x) => x !== undefined) ?? u.policyNamespaces[0];
    const selectionUnknown = (pod: PlannedPod | undefined, namespace: string) => u.cni ?? (pod ? podUnknown(pod, "labels", "namespace") : undefined) ?? policyUnknown(namespace);
    for (const un of functional.unselected.filter((un) => !platformOwned(un.namespace))) {
        const pod = picture.pods.find((p) => p.name === un.pod && p.owner === un.owner);
        report("network", un.owner, `a NetworkPolicy that selects ${un.pod}`, `no NetworkPolicy in ${un.namespace} selects ${un.pod}: the ${picture.cni} CNI denies it everything`, undefined, selectionUnknown(pod, un.namespace));
    }
    // Each pod is matched against its own namespace's policies, not every policy of the region.
    const policiesIn = new Map<string, ClusterPicture["policies"]>();
    for (const p of picture.policies) {
        const list = policiesIn.get(p.namespace);
        if (list) list.push(p);
        else policiesIn.set(p.namespace, [p]);
    }
    for (const pod of picture.pods) {
        if (!pod.awaited || pod.replicas === 0 || pod.hostNetwork || picture.cni !== "strict") continue;
        const selecting = (policiesIn.get(pod.namespace) ?? []).filter((p) => selectorMatches(p.podSelector, pod.labels));
        if (selecting.length > 0 && !selecting.some((p) => graph.before(p.resource, pod.owner))) {
            const undecided = selectionUnknown(pod, pod.namespace) ?? podUnknown(pod, "awaited", "placement");
            report("network", pod.owner, `its NetworkPolicies first`, `its pods (${pod.name}) start before ${selecting.map((p) => `${p.namespace}/${p.name}`).join(", ")} exist: under the strict CNI they are denied everything, probes included, until then`, selecting[0].resource, undecided);
        }
    }
    // Whether a required path is cut rests on every policy it crosses, the addresses it is judged on,
    // and the pods and namespaces at its ends: with any of those unknown, none is decided.
    const pathsUnknown =
        u.cni ??
        u.network ??
        [...u.policies.values()][0] ??
        u.policyNamespaces[0] ??
        picture.pods.map((p) => podUnknown(p, "labels", "namespace")).find((x) => x !== undefined) ??
        [...picture.namespaces.values()].map((n) => n.unknownLabels).find((x) => x !== undefined) ??
        u.namespaceMakers[0] ??
        u.installs[0];
    for (const c of functional.cut) {
        const owner = c.owner !== undefined ? resources[c.owner] : undefined;
        findings.push({
            check: "path",
            resource: owner ? owner.name : c.needs,
            ...(owner ? { urn: owner.urn } : {}),
            missing: `the path ${c.path}`,
            message: `${owner ? `${label(owner)}: ` : ""}${c.needs} needs ${c.path}: ${c.why}`,
            ...(pathsUnknown ? { undecided: pathsUnknown } : {}),
        });
    }

    return {
        resources,
        graph,
        cni: picture.cni,
        findings: findings.filter((f) => !f.undecided),
        undecided: findings.filter((f) => f.undecided),
        functional: { pathsChecked: functional.pathsChecked, pathsCut: functional.cut.length, podsUnselected: functional.unselected.filter((un) => !platformOwned(un.namespace)).length },
    };
}

/** Timing: each resource starts once everything it depends on is created. */
function withTiming({ resources, graph, cni, findings, undecided, functional }: RehearsalChecks): Rehearsal {
    const schedule: ScheduledResource[] = new Array(resources.length);
    const finish = new Array<number>(resources.length).fill(0);
    const finishBound = new Array<number>(resources.length).fill(0);
    const wave = new Array<number>(resources.length).fill(0);
    for (const i of graph.order) {
        const deps = graph.deps[i];
        const start = deps.reduce((m, d) => Math.max(m, finish[d]), 0);
        const startBound = deps.reduce((m, d) => Math.max(m, finishBound[d]), 0);
        wave[i] = deps.reduce((m, d) => Math.max(m, wave[d] + (resources[d].custom ? 1 : 0)), 0);
        const d = duration(resources[i]);
        finish[i] = start + d.expected;
        finishBound[i] = startBound + d.bound;
        schedule[i] = { name: resources[i].name, type: resources[i].type, wave: wave[i], startSeconds: start, seconds: d.expected, basis: d.basis, boundSeconds: d.bound, boundBasis: d.boundBasis };
    }
    const critical: ScheduledResource[] = [];
    if (resources.length > 0) {
        let last = finish.reduce((m, f, i) => (f > finish[m] ? i : m), 0);
        for (;;) {
            critical.unshift(schedule[last]);
            const prev = graph.deps[last].find((d) => finish[d] === schedule[last].startSeconds && schedule[last].startSeconds > 0);
            if (prev === undefined) break;
            last = prev;
        }
    }
    const custom = schedule.filter((s, i) => s && resources[i].custom);
    return {
        cni,
        resources: custom.length,
        waves: custom.reduce((m, s) => Math.max(m, s.wave + 1), 0),
        expectedSeconds: finish.reduce((m, f) => Math.max(m, f), 0),
        boundSeconds: finishBound.reduce((m, f) => Math.max(m, f), 0),
        criticalPath: critical.filter((s) => s.seconds > 0),
        schedule: custom,
        findings,
        undecided,
        functional,
    };
}

function webhookMatches(w: ClusterPicture["webhooks"][number], group: string, version: string, resource: string, nsLabels: Record<string, string> | undefined, objectLabels: Record<string, string>): boolean {
    const g = group === "core" ? "" : group;
    const ruleHit = w.fact.rules.some(
        (rule) =>
            (rule.apiGroups.includes(g) || rule.apiGroups.includes("*")) &&
            (rule.apiVersions.includes(version) || rule.apiVersions.includes("*")) &&
            (rule.resources.includes(resource) || rule.resources.includes("*")) &&
            (rule.operations.includes("CREATE") || (rule.operations as readonly string[]).includes("*")),
    );
    if (!ruleHit) return false;
    // A namespaceSelector is not applied to cluster-scoped objects.
    if (nsLabels && w.namespaceSelector && !selectorMatches(w.namespaceSelector, nsLabels)) return false;
    return !w.fact.objectSelector || selectorMatches(w.fact.objectSelector, objectLabels);
}

type Report = (check: RehearsalCheck, i: number, missing: string, message: string, providedBy?: number, undecided?: string) => void;

/** The first of a pod's aspects that is unknown during the preview. */
function podUnknown(pod: PlannedPod, ...aspects: (keyof PodUnknowns)[]): string | undefined {
    for (const a of aspects) if (pod.unknown?.[a]) return pod.unknown[a];
    return undefined;
}

/**
 * What of a node group, unknown during the preview, could decide whether `pod` fits it: its taints,
 * its size, how many nodes it has, and the labels the pod selects on.
 */
function nodeGroupUnknown(group: ClusterPicture["nodeGroups"][number], pod: PlannedPod): string | undefined {
    const g = group.unknown;
    if (!g) return undefined;
    const selected = [...Object.keys(pod.shape.nodeSelector), ...(pod.shape.requiredNodeAffinity ?? []).flatMap((term) => term.map((r) => r.key))];
    return g.allLabels ?? g.taints ?? g.size ?? g.nodes ?? selected.map((k) => g.labels[k]).find((x) => x !== undefined);
}

/** Whether a pod fits the node groups rests on its own placement and on what of the groups is unknown. */
function placementUnknown(picture: ClusterPicture, pod: PlannedPod): string | undefined {
    return podUnknown(pod, "placement", "awaited") ?? picture.nodeGroups.map((g) => nodeGroupUnknown(g, pod)).find((x) => x !== undefined);
}

function checkNamespace(picture: ClusterPicture, graph: Graph, i: number, namespace: string, report: Report): void {
    const ns = picture.namespaces.get(namespace);
    if (ns?.builtin) return;
    if (!ns || ns.createdBy === undefined) {
        // A namespace made under a name unknown during the preview may be this one.
        if (!picture.onPlatform) report("namespace", i, `the namespace ${namespace}`, `no resource of this stack creates the namespace ${namespace}`, undefined, picture.unknown.namespaceMakers[0]);
        return;
    }
    if (ns.createdBy === i || graph.before(ns.createdBy, i)) return;
    // Another namespace made under a name unknown during the preview may be this one, ordered before it.
    report("namespace", i, `the namespace ${namespace}`, `it is created before the namespace ${namespace}: nothing orders it after ${picture.resources[ns.createdBy].name}`, ns.createdBy, picture.unknown.namespaceMakers[0]);
}

function checkPlacement(picture: ClusterPicture, graph: Graph, pod: PlannedPod, report: Report): void {
    const owner = pod.owner;
    const candidates = picture.nodeGroups.filter((g) => g.nodes > 0);
    const fits = candidates.filter((g) => !whyNotSchedulable(pod.shape, g));
    const ready = fits.filter((g) => graph.before(g.resource, owner));
    const undecided = placementUnknown(picture, pod);
    if (ready.length === 0) {
        if (fits.length > 0) {
            report("placement", owner, `a node group for ${pod.name}`, `its pods (${pod.name}) fit only ${fits.map((g) => g.group).join(", ")}, which nothing orders before it`, fits[0].resource, undecided);
        } else {
            const reasons = picture.nodeGroups.map((g) => `${g.group}: ${g.nodes === 0 ? "no nodes at creation (minimum 0)" : whyNotSchedulable(pod.shape, g)}`);
            report("placement", owner, `a node group for ${pod.name}`, `its pods (${pod.name}) fit no node group of the stack (${reasons.join("; ") || "there is none"})`, undefined, undecided);
        }
        return;
    }
    for (const resource of pod.extendedResources) {
        const plugins = picture.devicePlugins.filter((d) => d.resource === resource);
        const usable = plugins.filter((p) => ready.some((g) => !whyNotSchedulable({ ...p.pod.shape, requests: { cpuMilli: 0, memoryBytes: 0, extended: {} } }, g)));
        const pluginsUnknown = undecided ?? plugins.map((p) => placementUnknown(picture, p.pod)).find((x) => x !== undefined);
        if (usable.length === 0) {
            // A release or add-on whose chart, version or name is unknown during the preview may be the plugin.
            report("device-plugin", owner, `a device plugin advertising ${resource}`, `its pods (${pod.name}) request ${resource}, and no device plugin that advertises it runs on ${ready.map((g) => g.group).join(", ")}`, plugins[0]?.pod.owner, pluginsUnknown ?? picture.unknown.installs[0]);
        } else if (!usable.some((p) => graph.before(p.pod.owner, owner))) {
            report("device-plugin", owner, `a device plugin advertising ${resource}`, `its pods (${pod.name}) request ${resource} before ${picture.resources[usable[0].pod.owner].name} is installed to advertise it`, usable[0].pod.owner, pluginsUnknown);
        }
    }
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>` of an image reference. */
function ecrRepository(image: string): string | undefined {
    const m = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
    return m?.[1];
}

/** The ECR repositories the stack creates and the resources that build images, found once for every pod. */
interface Registries {
    repositories: { r: GraphResource; i: number }[];
    builds: { r: GraphResource; i: number }[];
}

function registriesOf(picture: ClusterPicture): Registries {
    const out: Registries = { repositories: [], builds: [] };
    picture.resources.forEach((r, i) => {
        if (r.type === DATA_TYPES.ecrRepository && typeof r.props.name === "string") out.repositories.push({ r, i });
        if (IMAGE_BUILD_TYPES.includes(r.type)) out.builds.push({ r, i });
    });
    return out;
}

function checkImages(picture: ClusterPicture, graph: Graph, pod: PlannedPod, { repositories, builds }: Registries, report: Report): void {
    for (const image of pod.images) {
        const repository = ecrRepository(image);
        const created = repository && repositories.find(({ r }) => r.props.name === repository);
        if (!created) continue;
        if (!builds.some(({ i }) => graph.before(i, pod.owner))) {
            report("image", pod.owner, `a build of ${repository}`, `its pods pull ${image} from the repository ${repository}, which this stack creates (${created.r.name}) and which is empty on a first up: nothing builds and pushes the image before it`, created.i, podUnknown(pod, "awaited", "placement"));
        }
    }
}

function checkAwait(picture: ClusterPicture, pod: PlannedPod, report: Report): void {
    const owner = picture.resources[pod.owner];
    if (!pod.kind) return;
    const timeout = owner.createTimeoutSeconds ?? KUBERNETES_AWAIT.defaultSeconds;
    const undecided = podUnknown(pod, "startup", "awaited", "placement");
    if (pod.kind === "Job") {
        const deadline = owner.props.spec?.activeDeadlineSeconds;
        if (typeof deadline !== "number" || isUnknown(deadline)) {
            report("await", pod.owner, "a bounded run", `an awaited Job sets no spec.activeDeadlineSeconds, so its await cannot be sized to it (the await gives up after ${timeout}s)`, undefined, undecided);
        } else if (timeout < deadline) {
            report("await", pod.owner, `an await of ${deadline}s`, `its await of ${timeout}s is shorter than the ${deadline}s the Job may run (activeDeadlineSeconds)`, undefined, undecided);
        }
        return;
    }
    if (pod.startupSeconds !== undefined && timeout < pod.startupSeconds) {
        report("await", pod.owner, `an await of ${pod.startupSeconds}s`, `its await of ${timeout}s (${owner.createTimeoutSeconds ? "customTimeouts" : "pulumi-kubernetes' default"}) is shorter than the ${pod.startupSeconds}s its own probes allow its pods to start`, undefined, undecided);
    }
}

/**
 * Reports a stack policy's share of the rehearsal's findings: each names the resource, what it
 * misses and, where the plan has it, what provides it.
 */
export function reportRehearsal(resources: Parameters<typeof rehearsalOf>[0], checks: readonly RehearsalCheck[], report: (message: string, urn?: string) => void): void {
    // The findings are all the policies read: the timing of every resource is not worked out for them.
    const rehearsal = checksOf(resources);
    for (const f of rehearsal.findings) {
        if (!checks.includes(f.check)) continue;
        report(`${f.message}. Missing: ${f.missing}${f.providedBy ? `; provided by ${f.providedBy}` : ""}.`, f.urn);
    }
    // A precondition that rests on a value unknown during the preview cannot be judged: the policy
    // could not run, as CrossGuard reports a policy that reads an unknown (the findings above stand).
    const undecided = rehearsal.undecided.find((f) => checks.includes(f.check));
    if (undecided) cannotDecide(undecided.undecided!);
}


/** The rehearsal's checks of a stack policy's resources, computed once for all the rehearsal's policies. */
const checksCache = new WeakMap<object, RehearsalChecks>();
function checksOf(resources: readonly Parameters<typeof fromPolicyResources>[0][number][]): RehearsalChecks {
    let r = checksCache.get(resources);
    if (!r) checksCache.set(resources, (r = checkRehearsal(fromPolicyResources(resources))));
    return r;
}

/** The rehearsal of a stack policy's resources, computed once for every policy that asks. */
const cache = new WeakMap<object, Rehearsal>();
export function rehearsalOf(resources: readonly Parameters<typeof fromPolicyResources>[0][number][]): Rehearsal {
    let r = cache.get(resources);
    if (!r) cache.set(resources, (r = withTiming(checksOf(resources))));
    return r;
}
