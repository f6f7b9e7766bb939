import { nodeGroupInstanceType } from "./capacity-evidence";
import { cidrProblem } from "../domain/cidr";
import { CniMode, cniMode } from "./cni";
import { EKS_ADDONS, LABELS, TAGS } from "../domain/conventions";
import { GraphResource, isUnknown, unknownIn, unknownWithin } from "./deploy-input";
import { networkPoliciesFromResources, type NetworkPolicyInfo } from "./isolation-evidence";
import { cpuMilli, instanceAllocatable, kubernetesEffect, memoryBytes, NodeShape, PodShape } from "../domain/scheduling";
import { K8S_TYPES, TYPES } from "../domain/types";
import { addonFacts, chartFacts, EKS_BUILTIN_CRDS, KUBERNETES_BUILTIN_NAMESPACES } from "../upstream";
import type { AddonFacts, ChartFacts, CrdFact, PathFact, NodeSelectorRequirementFact, PlacementFact, PodFact, RequiredNodeAffinityFact, TolerationFact, WebhookFact, LabelSelector } from "../upstream/types";
import { firstValue, valueAt } from "../domain/values";
import { podSpecOf } from "../domain/workloads";

/**
 * What the planned cluster will hold once deployed, read from the plan and the upstream facts:
 * namespaces, node groups, the pods every release, add-on and workload runs (with their placement,
 * requests and network needs), the admission webhooks, who serves which CRD, the NetworkPolicies,
 * and the network it lives in. The deploy rehearsal and the functional reachability proof read it.
 */

/** A set of pods that will run: what makes them, where, and what they need. */
export interface PlannedPod {
    /** Human name: `release kueue: controller`, `Deployment serving/model-llama`. */
    name: string;
    /** Index in the picture's resources of what creates them (a release, an add-on, a workload). */
    owner: number;
    /** The owner's create waits until they are ready (or, for a Job, complete). */
    awaited: boolean;
    namespace: string;
    labels: Record<string, string>;
    hostNetwork: boolean;
    shape: PodShape;
    replicas: number | "perNode";
    /** Network paths from the facts (charts and add-ons); workloads' paths are derived from the plan. */
    serves: readonly PathFact[];
    calls: readonly PathFact[];
    /** The chart or add-on pod it stands for, to resolve `pod` peers. */
    from?: { facts: ChartFacts | AddonFacts; podId: string; releaseNamespace: string };
    /** Made at run time by a controller (nothing waits for it). */
    runtime: boolean;
    /** Seconds its own probes allow it to become ready (startup, else readiness). */
    startupSeconds?: number;
    /** Container images. */
    images: string[];
    /** Requests extended resources a device plugin must advertise. */
    extendedResources: string[];
    /** Kind of the workload that runs it (Deployment, Job, ...), for workloads of the plan. */
    kind?: string;
    /**
     * What of its definition is unknown during the preview, by what the checks read: its placement
     * (node selector, affinity, tolerations, requests, replicas), its labels, its namespace, its
     * start-up (probes, a Job's deadline). Each is the first unknown path, for the message.
     */
    unknown?: PodUnknowns;
}

export interface PodUnknowns {
    placement?: string;
    labels?: string;
    namespace?: string;
    startup?: string;
    /** Whether its owner's create waits for it (skipAwait). */
    awaited?: string;
}

/** What of a node group's nodes is unknown during the preview (the first unknown path of each). */
export interface NodeUnknowns {
    /** Label keys whose value is unknown (all of them when `allLabels`). */
    labels: Record<string, string>;
    allLabels?: string;
    taints?: string;
    /** The instance type, so the allocatable resources. */
    size?: string;
    nodes?: string;
}

export interface PlannedWebhook {
    fact: WebhookFact;
    /** Index of the release or add-on that runs it. */
    provider: number;
    /** Fail once the values are applied (Kueue renders an integration's webhooks Ignore when it is off). */
    failurePolicy: "Fail" | "Ignore";
    namespaceSelector?: LabelSelector;
    /** The pod set that serves it. */
    servedBy?: PlannedPod;
    /** Its failure policy or namespace selector comes from values unknown during the preview. */
    unknown?: string;
}

export interface CrdProvider {
    provider: number;
    crd: CrdFact;
    /** `release kueue`, `add-on coredns`, `EKS`. */
    label: string;
}

export interface PlannedNamespace {
    name: string;
    labels: Record<string, string>;
    /** The Namespace resource (or the release or add-on that creates it); undefined for Kubernetes' own. */
    createdBy?: number;
    builtin: boolean;
    /** Its labels are unknown during the preview. */
    unknownLabels?: string;
}


export interface NetworkContext {
    vpcCidr?: string;
    serviceCidr?: string;
    /** Subnet CIDRs by tier (public, private, isolated). */
    subnets: Record<string, string[]>;
    /** The subnets the EKS cluster's control-plane ENIs are placed in. */
    clusterSubnets: string[];
}

/**
 * What the picture could not resolve because a value is unknown during the preview: a check whose
 * verdict rests on one of these cannot decide (CrossGuard's "not run"), it does not find.
 */
export interface PictureUnknowns {
    /** Releases and add-ons whose chart, version or add-on name is unknown: what they install is. */
    installs: string[];
    /** Namespaces that may exist under a name unknown during the preview. */
    namespaceMakers: string[];
    /** The CNI's mode. */
    cni?: string;
    /** The VPC's, subnets' or service addresses. */
    network?: string;
    /** NetworkPolicies (by index in `policies`) with an unknown value. */
    policies: Map<number, string>;
    /** NetworkPolicies whose namespace is unknown: they may select pods of any namespace. */
    policyNamespaces: string[];
}

export interface ClusterPicture {
    resources: readonly GraphResource[];
    index: ReadonlyMap<string, number>;
    /** Each type's resources, as indices in plan order (see `picturedOfType`). */
    byType: ReadonlyMap<string, readonly number[]>;
    namespaces: Map<string, PlannedNamespace>;
    nodeGroups: (NodeShape & { resource: number; unknown?: NodeUnknowns })[];
    pods: PlannedPod[];
    webhooks: PlannedWebhook[];
    crdProviders: Map<string, CrdProvider[]>;
    /** Releases and add-ons the facts do not cover. */
    unknownInstalls: { resource: number; what: string }[];
    /** Device plugins: which resource each advertises, from which pod set. */
    devicePlugins: { resource: string; pod: PlannedPod }[];
    policies: (NetworkPolicyInfo & { resource: number })[];
    cni: CniMode;
    network: NetworkContext;
    /** The stack reads another stack (a tenant shard on its platform): what that stack installs is already there. */
    onPlatform: boolean;
    unknown: PictureUnknowns;
}

/** The first unknown value a chart's values hold at any of `refs` (or at a parent of one), as `resource.values.ref`. */
function valuesUnknown(r: GraphResource, valuesKey: string, values: unknown, refs: readonly (string | undefined)[]): string | undefined {
    if (isUnknown(values)) return `${r.name}.${valuesKey}`;
    for (const ref of refs) {
        if (!ref) continue;
        let v: unknown = values;
        let at = valuesKey;
        for (const key of ref.split("#")[0].split(".")) {
            if (isUnknown(v) || typeof v !== "object" || v === null) break;
            v = (v as Record<string, unknown>)[key];
            at = `${at}.${key}`;
        }
        const found = unknownWithin(v, at);
        if (found) return `${r.name}.${found}`;
    }
    return undefined;
}

/** Drops the absent entries of an unknowns record; undefined when nothing is unknown. */
function someUnknown<T extends object>(u: T): T | undefined {
    const kept = Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) as T;
    return Object.keys(kept).length > 0 ? kept : undefined;
}

/** An IPv4 CIDR, or undefined for anything else a preview can hold (unknown, secret, IPv6, absent). */
function ipv4Cidr(value: unknown): string | undefined {
    return typeof value === "string" && !isUnknown(value) && !cidrProblem(value) ? value : undefined;
}

/** The picture's resources of these types, in plan order: looked up, not filtered out of every resource. */
export function picturedOfType(picture: Pick<ClusterPicture, "resources" | "byType">, ...types: string[]): GraphResource[] {
    const indices = types.flatMap((t) => picture.byType.get(t) ?? []);
    if (types.length > 1) indices.sort((a, b) => a - b);
    return indices.map((i) => picture.resources[i]);
}

/** `group/Kind` of a CRD or a custom resource. */
export function crdKey(group: string, kind: string): string {
    return `${group}/${kind}`;
}

/** `kubernetes:apps/v1:Deployment` as group, version and kind (core for the legacy group). */
export function kubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    // Asked of every resource by several analyses: a plan has a few dozen types, each parsed once.
    if (parsedTypes.has(type)) return parsedTypes.get(type);
    const m = /^kubernetes:(?:([a-z0-9.-]+)\/)?([a-z0-9]+):([A-Za-z0-9]+)$/.exec(type);
    const parsed = m ? Object.freeze({ group: m[1] === undefined || m[1] === "core" ? "core" : m[1], version: m[2], kind: m[3] }) : undefined;
    if (parsedTypes.size < 1_000) parsedTypes.set(type, parsed);
    return parsed;
}
const parsedTypes = new Map<string, { group: string; version: string; kind: string } | undefined>();

/** A kind's plural resource name, as admission rules name it. */
export function pluralOf(kind: string): string {
    // Asked for every object of the plan: each kind is spelled out once.
    let plural = plurals.get(kind);
    if (plural === undefined) {
        const lower = kind.toLowerCase();
        plural = /(s|x|ch|sh)$/.test(lower) ? `${lower}es` : /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
        if (plurals.size < 1_000) plurals.set(kind, plural);
    }
    return plural;
}
const plurals = new Map<string, string>();

function str(value: unknown): string | undefined {
    return typeof value === "string" && !isUnknown(value) ? value : undefined;
}

function record(value: unknown): Record<string, string> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "string" && !isUnknown(v))) as Record<string, string>;
}

function list<T>(value: unknown): T[] {
    return Array.isArray(value) ? (value as T[]) : [];
}

/** The required node affinity of a Kubernetes affinity object. */
function requiredAffinity(affinity: unknown): RequiredNodeAffinityFact | undefined {
    const terms = (affinity as any)?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!Array.isArray(terms)) return undefined;
    return terms.map((t: any) => list<any>(t?.matchExpressions).filter((e) => typeof e?.key === "string").map((e) => ({ key: e.key, operator: e.operator, values: list<string>(e.values) })));
}

/** Where a chart's pods go, given the values a release passes it and the chart's placement facts. */
export function placementOf(values: unknown, placement: PlacementFact): Pick<PodShape, "nodeSelector" | "tolerations" | "requiredNodeAffinity"> {
    const fromValues = firstValue(values, placement.nodeSelector);
    const nodeSelector = { ...(fromValues !== undefined ? record(fromValues) : (placement.defaults?.nodeSelector ?? {})), ...(placement.fixed?.nodeSelector ?? {}) };
    const tolerationsValue = firstValue(values, placement.tolerations);
    const tolerations: TolerationFact[] = [...(placement.fixed?.tolerations ?? []), ...(tolerationsValue !== undefined ? list<TolerationFact>(tolerationsValue) : [...(placement.defaults?.tolerations ?? [])])];
    const affinityValue = firstValue(values, placement.affinity);
    const requiredNodeAffinity = placement.labelTerms
        ? labelTermsOf(values, placement.labelTerms)
        : affinityValue !== undefined
          ? requiredAffinity(affinityValue)
          : placement.defaults?.requiredNodeAffinity;
    return { nodeSelector, tolerations, ...(requiredNodeAffinity ? { requiredNodeAffinity } : {}) };
}

function labelTermsOf(values: unknown, facts: NonNullable<PlacementFact["labelTerms"]>): RequiredNodeAffinityFact {
    const keysValue = valueAt(values, facts.keys);
    const valuesValue = valueAt(values, facts.values);
    const keys = keysValue !== undefined && keysValue !== null ? list<string>(keysValue).map(String) : facts.defaultKeys;
    const allowed = valuesValue !== undefined && valuesValue !== null ? list<string>(valuesValue).map(String) : facts.defaultValues;
    const terms: NodeSelectorRequirementFact[][] = keys.map((key) => [{ key, operator: "In", values: allowed }]);
    if (terms.length === 0) return [[...facts.also]];
    terms[terms.length - 1].push(...facts.also);
    return terms;
}

function replicasOf(values: unknown, replicas: PodFact["replicas"]): number | "perNode" {
    if (replicas === "perNode" || typeof replicas === "number") return replicas;
    const v = valueAt(values, replicas.values);
    return typeof v === "number" ? v : replicas.default;
}

const EXTENDED = ["nvidia.com/gpu", "vpc.amazonaws.com/efa"];

/** Requests of a pod spec (Kubernetes: the larger of the containers' sum and any one init container). */
function specRequests(spec: any): PodShape["requests"] {
    const of = (c: any) => c?.resources?.requests ?? {};
    const sum = { cpuMilli: 0, memoryBytes: 0, extended: {} as Record<string, number> };
    for (const c of list<any>(spec?.containers)) {
        const r = of(c);
        sum.cpuMilli += cpuMilli(r.cpu);
        sum.memoryBytes += memoryBytes(r.memory);
        for (const e of EXTENDED) if (r[e] !== undefined) sum.extended[e] = (sum.extended[e] ?? 0) + Number(r[e]);
    }
    for (const c of list<any>(spec?.initContainers)) {
        const r = of(c);
        sum.cpuMilli = Math.max(sum.cpuMilli, cpuMilli(r.cpu));
        sum.memoryBytes = Math.max(sum.memoryBytes, memoryBytes(r.memory));
    }
    return sum;
}

/** How long a pod's own probes let it take to become ready: its startup probe's budget, else its readiness probe's. */
export function probeBudgetSeconds(spec: any): number | undefined {
    let budget: number | undefined;
    for (const c of list<any>(spec?.containers)) {
        const p = c?.startupProbe ?? c?.readinessProbe;
        if (!p) continue;
        const seconds = Number(p.initialDelaySeconds ?? 0) + Number(p.periodSeconds ?? 10) * Number(p.failureThreshold ?? 3);
        budget = Math.max(budget ?? 0, seconds);
    }
    return budget;
}

const AWAITED_WORKLOADS = new Set<string>([K8S_TYPES.deployment, K8S_TYPES.statefulSet, K8S_TYPES.daemonSet, K8S_TYPES.job, K8S_TYPES.replicaSet, K8S_TYPES.pod]);

export function clusterPicture(resources: readonly GraphResource[]): ClusterPicture {
    const index = new Map<string, number>();
    const byType = new Map<string, number[]>();
    resources.forEach((r, i) => {
        index.set(r.urn, i);
        const list = byType.get(r.type);
        if (list) list.push(i);
        else byType.set(r.type, [i]);
    });
    const picture: ClusterPicture = {
        resources,
        index,
        byType,
        namespaces: new Map(),
        nodeGroups: [],
        pods: [],
        webhooks: [],
        crdProviders: new Map(),
        unknownInstalls: [],
        devicePlugins: [],
        policies: [],
        cni: "strict",
        network: { subnets: {}, clusterSubnets: [] },
        onPlatform: resources.some((r) => r.type === TYPES.stackReference),
        unknown: { installs: [], namespaceMakers: [], policies: new Map(), policyNamespaces: [] },
    };
    const noteNetwork = (found: string | undefined) => {
        if (found && !picture.unknown.network) picture.unknown.network = found;
    };
    for (const name of KUBERNETES_BUILTIN_NAMESPACES) picture.namespaces.set(name, { name, labels: { [LABELS.namespaceName]: name }, builtin: true });
    const addCrds = (provider: number, crds: readonly CrdFact[], label: string) => {
        for (const crd of crds) {
            const key = crdKey(crd.group, crd.kind);
            picture.crdProviders.set(key, [...(picture.crdProviders.get(key) ?? []), { provider, crd, label }]);
        }
    };
    const ensureNamespace = (name: string, createdBy: number) => {
        if (!picture.namespaces.has(name)) picture.namespaces.set(name, { name, labels: { [LABELS.namespaceName]: name }, createdBy, builtin: false });
    };
    /** `context`: what of the release or add-on itself is unknown (its values' key, its namespace, its name). */
    const podsOf = (facts: ChartFacts | AddonFacts, owner: number, namespace: string, values: unknown, awaited: boolean, what: string, context: { valuesKey: string; namespace?: string; labels?: string; awaited?: string }) => {
        const r = resources[owner];
        const made: PlannedPod[] = [];
        for (const pod of facts.pods) {
            const objects = pod.createdAtRuntime?.perObject ? picturedOfType(picture, pod.createdAtRuntime.perObject) : [undefined];
            for (const object of objects) {
                const objectNs = str(object?.props.metadata?.namespace) ?? namespace;
                const placementRefs = [...(pod.placement.nodeSelector ?? []), ...(pod.placement.tolerations ?? []), ...(pod.placement.affinity ?? []), ...(pod.placement.labelTerms ? [pod.placement.labelTerms.keys, pod.placement.labelTerms.values] : []), ...(typeof pod.replicas === "object" ? [pod.replicas.values] : [])];
                const labels: Record<string, string> = { ...pod.labels };
                for (const [k, t] of Object.entries(pod.createdAtRuntime?.labelsFromObject ?? {})) labels[k] = t === "{name}" ? (str(object?.props.metadata?.name) ?? "") : objectNs;
                const planned: PlannedPod = {
                    name: `${what}: ${pod.id}${object ? ` of ${str(object.props.metadata?.name) ?? object.name}` : ""}`,
                    owner,
                    awaited: awaited && !pod.createdAtRuntime,
                    namespace: pod.namespace ?? (object ? objectNs : namespace),
                    labels,
                    hostNetwork: pod.hostNetwork,
                    shape: { ...placementOf(values, pod.placement), requests: { cpuMilli: cpuMilli(pod.requests?.cpu), memoryBytes: memoryBytes(pod.requests?.memory), extended: {} } },
                    replicas: replicasOf(values, pod.replicas),
                    serves: pod.serves,
                    calls: pod.calls,
                    from: { facts, podId: pod.id, releaseNamespace: namespace },
                    runtime: !!pod.createdAtRuntime,
                    images: [],
                    extendedResources: [],
                };
                const unknown = someUnknown<PodUnknowns>({
                    placement: valuesUnknown(r, context.valuesKey, values, placementRefs),
                    labels: context.labels ?? (object ? unknownIn(object, "metadata.name", "metadata.namespace") : undefined),
                    namespace: pod.namespace ? undefined : (object ? unknownIn(object, "metadata.namespace") : undefined) ?? context.namespace,
                    awaited: context.awaited,
                });
                if (unknown) planned.unknown = unknown;
                made.push(planned);
                picture.pods.push(planned);
            }
        }
        for (const w of facts.webhooks) {
            // The facts were rendered with the program's values (rendered-charts.ts): only values unknown as a whole leave them undecided.
            const unknown = valuesUnknown(r, context.valuesKey, values, []);
            picture.webhooks.push({
                fact: w,
                provider: owner,
                failurePolicy: w.failurePolicy,
                ...(w.namespaceSelector ? { namespaceSelector: w.namespaceSelector } : {}),
                servedBy: made.find((p) => p.from?.podId === w.servedBy),
                ...(unknown ? { unknown } : {}),
            });
        }
        if ("advertises" in facts) for (const a of facts.advertises ?? []) for (const p of made.filter((m) => m.from?.podId === a.pod)) picture.devicePlugins.push({ resource: a.resource, pod: p });
    };

    resources.forEach((r, i) => {
        const props = r.props;
        switch (r.type) {
            case K8S_TYPES.namespace: {
                const unknownName = unknownIn(r, "metadata.name");
                if (unknownName) {
                    picture.unknown.namespaceMakers.push(unknownName);
                    break;
                }
                const name = str(props.metadata?.name) ?? r.name;
                const unknownLabels = unknownIn(r, "metadata.labels");
                picture.namespaces.set(name, { name, labels: { ...record(props.metadata?.labels), [LABELS.namespaceName]: name }, createdBy: i, builtin: KUBERNETES_BUILTIN_NAMESPACES.includes(name), ...(unknownLabels ? { unknownLabels } : {}) });
                break;
            }
            case TYPES.eksCluster: {
                for (const crd of EKS_BUILTIN_CRDS) addCrds(i, [crd], "EKS");
                const cidr = ipv4Cidr(props.kubernetesNetworkConfig?.serviceIpv4Cidr);
                if (cidr) picture.network.serviceCidr = cidr;
                noteNetwork(unknownIn(r, "kubernetesNetworkConfig.serviceIpv4Cidr"));
                picture.network.clusterSubnets = r.dependencies
                    .map((d) => resources[index.get(d) ?? -1])
                    .filter((d) => d?.type === TYPES.subnet)
                    .map((d) => ipv4Cidr(d!.props.cidrBlock))
                    .filter((c): c is string => c !== undefined);
                break;
            }
            case TYPES.vpc: {
                const cidr = ipv4Cidr(props.cidrBlock);
                if (cidr) picture.network.vpcCidr = cidr;
                noteNetwork(unknownIn(r, "cidrBlock"));
                break;
            }
            case TYPES.subnet: {
                noteNetwork(unknownIn(r, "cidrBlock", `tags.${TAGS.subnetTier}`, "tags"));
                const tier = str(props.tags?.[TAGS.subnetTier]) ?? "private";
                const cidr = ipv4Cidr(props.cidrBlock);
                if (cidr) picture.network.subnets[tier] = [...(picture.network.subnets[tier] ?? []), cidr];
                break;
            }
            case TYPES.stackReference: {
                noteNetwork(unknownIn(r, "outputs.vpcCidr", "outputs.serviceCidr"));
                const out = props.outputs ?? {};
                if (ipv4Cidr(out.vpcCidr) && !picture.network.vpcCidr) picture.network.vpcCidr = out.vpcCidr;
                if (ipv4Cidr(out.serviceCidr) && !picture.network.serviceCidr) picture.network.serviceCidr = out.serviceCidr;
                break;
            }
            case TYPES.eksNodeGroup: {
                const instanceType = str(nodeGroupInstanceType(r, resources));
                const labels: Record<string, string> = {
                    ...record(props.labels),
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": /ARM/.test(String(props.amiType ?? "")) ? "arm64" : "amd64",
                    "eks.amazonaws.com/capacityType": str(props.capacityType) ?? "ON_DEMAND",
                    "eks.amazonaws.com/nodegroup": str(props.nodeGroupName) ?? r.name,
                    ...(instanceType ? { "node.kubernetes.io/instance-type": instanceType } : {}),
                };
                const scaling = props.scalingConfig ?? {};
                const template = resources.find((t) => t.type === TYPES.launchTemplate && r.dependencies.includes(t.urn));
                const unknownLabels: Record<string, string> = {};
                for (const [k, v] of Object.entries(typeof props.labels === "object" && props.labels !== null ? props.labels : {})) if (isUnknown(v)) unknownLabels[k] = `${r.name}.labels.${k}`;
                const ownLabel = (key: string, path: string) => {
                    const found = unknownIn(r, path);
                    if (found) unknownLabels[key] = found;
                };
                ownLabel("eks.amazonaws.com/capacityType", "capacityType");
                ownLabel("eks.amazonaws.com/nodegroup", "nodeGroupName");
                ownLabel("kubernetes.io/arch", "amiType");
                const size = unknownIn(r, "instanceTypes") ?? (template && !instanceType ? unknownIn(template, "instanceType") : undefined);
                if (size) unknownLabels["node.kubernetes.io/instance-type"] = size;
                const unknown = someUnknown<Omit<NodeUnknowns, "labels">>({ allLabels: isUnknown(props.labels) ? `${r.name}.labels` : undefined, taints: unknownIn(r, "taints"), size, nodes: unknownIn(r, "scalingConfig") });
                picture.nodeGroups.push({
                    resource: i,
                    group: r.name,
                    labels,
                    taints: list<any>(props.taints).map((t) => ({ key: String(t?.key), ...(t?.value !== undefined ? { value: String(t.value) } : {}), effect: kubernetesEffect(String(t?.effect)) })),
                    ...(instanceType ? { instanceType } : {}),
                    nodes: Number(scaling.desiredSize ?? scaling.minSize ?? 0) || 0,
                    allocatable: instanceAllocatable(instanceType),
                    ...(unknown || Object.keys(unknownLabels).length > 0 ? { unknown: { labels: unknownLabels, ...unknown } } : {}),
                });
                break;
            }
            case TYPES.helmRelease: {
                const chart = str(props.chart) ?? "";
                const version = str(props.version) ?? "";
                const namespace = str(props.namespace) ?? "default";
                const unknownNamespace = unknownIn(r, "namespace");
                if (props.createNamespace === true) ensureNamespace(namespace, i);
                const unknownMaker = unknownIn(r, "createNamespace") ?? (props.createNamespace === true ? unknownNamespace : undefined);
                if (unknownMaker) picture.unknown.namespaceMakers.push(unknownMaker);
                const facts = chartFacts(chart, version);
                if (!facts) {
                    const unresolved = unknownIn(r, "chart", "version");
                    if (unresolved) picture.unknown.installs.push(unresolved);
                    else picture.unknownInstalls.push({ resource: i, what: `chart ${chart} ${version}` });
                    break;
                }
                addCrds(i, facts.crds, `release ${str(props.name) ?? r.name}`);
                podsOf(facts, i, namespace, props.values ?? {}, props.skipAwait !== true, `release ${str(props.name) ?? r.name}`, { valuesKey: "values", namespace: unknownNamespace, labels: unknownIn(r, "name"), awaited: unknownIn(r, "skipAwait") });
                break;
            }
            case TYPES.eksAddon: {
                const addon = str(props.addonName) ?? "";
                const facts = addonFacts(addon);
                if (addon === EKS_ADDONS.vpcCni) {
                    picture.cni = cniMode(props.configurationValues);
                    const unknownMode = unknownIn(r, "configurationValues");
                    if (unknownMode) picture.unknown.cni = unknownMode;
                }
                if (!facts) {
                    const unresolved = unknownIn(r, "addonName");
                    if (unresolved) {
                        picture.unknown.installs.push(unresolved);
                        picture.unknown.namespaceMakers.push(unresolved);
                        // It may be the vpc-cni add-on, whose configuration sets the CNI's mode.
                        picture.unknown.cni ??= unresolved;
                    } else picture.unknownInstalls.push({ resource: i, what: `add-on ${addon}` });
                    break;
                }
                if (facts.createsNamespace) ensureNamespace(facts.namespace, i);
                addCrds(i, facts.crds, `add-on ${addon}`);
                let values: unknown = {};
                try {
                    values = typeof props.configurationValues === "string" && !isUnknown(props.configurationValues) ? JSON.parse(props.configurationValues) : {};
                } catch {
                    values = {};
                }
                podsOf(facts, i, facts.namespace, isUnknown(props.configurationValues) ? props.configurationValues : values, true, `add-on ${addon}`, { valuesKey: "configurationValues" });
                break;
            }
            default: {
                const spec = AWAITED_WORKLOADS.has(r.type) || r.type === K8S_TYPES.cronJob ? podSpecOf(r.type, props) : undefined;
                if (!spec) break;
                const template = r.type === K8S_TYPES.pod ? props : r.type === K8S_TYPES.cronJob ? props.spec?.jobTemplate?.spec?.template : props.spec?.template;
                const shape: PodShape = { nodeSelector: record(spec.nodeSelector), tolerations: list<TolerationFact>(spec.tolerations), requests: specRequests(spec) };
                const affinity = requiredAffinity(spec.affinity);
                if (affinity) shape.requiredNodeAffinity = affinity;
                const kind = r.type.split(":").pop()!;
                const templatePath = r.type === K8S_TYPES.pod ? "" : r.type === K8S_TYPES.cronJob ? "spec.jobTemplate.spec.template." : "spec.template.";
                const specPath = r.type === K8S_TYPES.pod ? "spec" : `${templatePath}spec`;
                const unknown = someUnknown<PodUnknowns>({
                    placement: unknownIn(r, `${specPath}.nodeSelector`, `${specPath}.tolerations`, `${specPath}.affinity`, `${specPath}.containers[].resources`, `${specPath}.initContainers[].resources`, `${specPath}.hostNetwork`, "spec.replicas"),
                    labels: unknownIn(r, `${templatePath}metadata.labels`),
                    namespace: unknownIn(r, "metadata.namespace"),
                    startup: unknownIn(r, `${specPath}.containers[].startupProbe`, `${specPath}.containers[].readinessProbe`, "spec.activeDeadlineSeconds"),
                    awaited: unknownIn(r, "metadata.annotations"),
                });
                picture.pods.push({
                    name: `${kind} ${str(props.metadata?.namespace) ?? "default"}/${str(props.metadata?.name) ?? r.name}`,
                    owner: i,
                    awaited: AWAITED_WORKLOADS.has(r.type) && props.metadata?.annotations?.["pulumi.com/skipAwait"] !== "true",
                    namespace: str(props.metadata?.namespace) ?? "default",
                    labels: record(template?.metadata?.labels),
                    hostNetwork: spec.hostNetwork === true,
                    shape,
                    replicas: r.type === K8S_TYPES.daemonSet ? "perNode" : Number(props.spec?.replicas ?? 1),
                    serves: [],
                    calls: [],
                    runtime: false,
                    ...(probeBudgetSeconds(spec) !== undefined ? { startupSeconds: probeBudgetSeconds(spec) } : {}),
                    images: [...list<any>(spec.initContainers), ...list<any>(spec.containers)].map((c) => c?.image).filter((x): x is string => typeof x === "string"),
                    extendedResources: Object.keys(shape.requests.extended),
                    kind,
                    ...(unknown ? { unknown } : {}),
                });
            }
        }
    });
    const policyResources = picturedOfType(picture, K8S_TYPES.networkPolicy);
    picture.policies = networkPoliciesFromResources(policyResources).map((p, i) => ({ ...p, resource: index.get(policyResources[i].urn)! }));
    policyResources.forEach((r, i) => {
        const unknown = unknownIn(r, "metadata.name", "metadata.namespace", "spec");
        if (unknown) picture.unknown.policies.set(i, unknown);
        const unknownNamespace = unknownIn(r, "metadata.namespace");
        if (unknownNamespace) picture.unknown.policyNamespaces.push(unknownNamespace);
    });
    return picture;
}
