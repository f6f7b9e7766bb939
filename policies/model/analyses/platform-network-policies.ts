import { hostAt } from "../domain/cidr";
import { LABELS, NAMESPACES, NEVER_EGRESS_CIDRS, POD_IDENTITY_AGENT_ADDRESS } from "../domain/conventions";
import { CHART_FACTS } from "../upstream";
import type { AddonFacts, ChartFacts, PathFact, PeerFact, PodFact, LabelSelector } from "../upstream/types";
import type { NetworkPolicyPeer } from "../evidence/isolation-evidence";

/**
 * The NetworkPolicies a platform namespace needs under the VPC CNI's strict mode, where a pod that no
 * policy selects is denied everything for as long as it runs. Each pod set a chart or add-on runs
 * gets one policy that selects exactly it and admits exactly what its facts say it serves and calls
 * (upstream facts, `policies/model/upstream`), so the policies follow the pinned versions and the
 * functional reachability proof judges the same facts from the other side.
 */

/** The addresses the region's peers live at. */
export interface PlatformAddressing {
    /** The VPC's CIDR. */
    vpcCidr: string;
    /** The Kubernetes Service CIDR: the API server is its first host (the `kubernetes` Service). */
    serviceCidr: string;
    /** Subnets the EKS control plane's ENIs sit in: webhooks and aggregated APIs are called from there. */
    clusterSubnetCidrs: string[];
    /** Subnets of the nodes and pods (interface VPC endpoints sit here too). */
    privateSubnetCidrs: string[];
}

/** The API server as pods address it: the `kubernetes` Service's ClusterIP (egress is enforced before DNAT). */
export function apiServerCidr(serviceCidr: string): string {
    return hostAt(serviceCidr, 1);
}

/** The VPC's DNS resolver: the base of the VPC CIDR plus two. */
export function vpcResolverCidr(vpcCidr: string): string {
    return hostAt(vpcCidr, 2);
}

/**
 * AWS service APIs over HTTPS as NetworkPolicy peers: the interface endpoints in the private subnets,
 * and public addresses (through NAT) outside every private, link-local and cluster range.
 */
export function awsApiPeers(addressing: Pick<PlatformAddressing, "vpcCidr" | "serviceCidr" | "privateSubnetCidrs">): NetworkPolicyPeer[] {
    return [
        { ipBlock: { cidr: "0.0.0.0/0", except: [...NEVER_EGRESS_CIDRS, addressing.vpcCidr, addressing.serviceCidr] } },
        ...addressing.privateSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })),
    ];
}

/** A plain NetworkPolicy spec (what the Kubernetes API takes), and where it goes. */
export interface PlatformNetworkPolicy {
    name: string;
    namespace: string;
    /** The pod set it is for (`kueue: controller`). */
    forPods: string;
    spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: ("Ingress" | "Egress")[];
        ingress: { from?: NetworkPolicyPeer[]; ports: { protocol: "TCP" | "UDP"; port: number }[] }[];
        egress: { to?: NetworkPolicyPeer[]; ports: { protocol: "TCP" | "UDP"; port: number }[] }[];
    };
}

/** One install: a chart released into a namespace, or an EKS add-on. */
export interface PlatformInstall {
    facts: ChartFacts | AddonFacts;
    /** The namespace it is installed in (an add-on's own when omitted). */
    namespace?: string;
    /** Where the region releases each chart, by chart: `pod` peers of another chart are found there. */
    chartNamespaces: Readonly<Record<string, string>>;
    /**
     * Where pods that a controller makes per object (`createdAtRuntime.perObject`) run, by pod id: a
     * caller of this install's pods found there is admitted from those namespaces.
     */
    runtimeNamespaces?: Readonly<Record<string, readonly string[]>>;
    /** Pods the install's peers reach by a Service URL in its values, by that URL: the Service's namespace and pod labels. */
    servicePods?: Readonly<Record<string, { namespace: string; labels: Readonly<Record<string, string>> }>>;
}

const byName = (namespace: string): LabelSelector => ({ matchLabels: { [LABELS.namespaceName]: namespace } });

/** Whether a pod set gets a policy: it is on the pod network and is made in the install's namespace. */
/** The labels the region's NetworkPolicies select a pod set by: its workload's selector, stable across chart versions. */
function podSelectorOf(pod: PodFact): Readonly<Record<string, string>> {
    return pod.selector ?? pod.labels;
}

function governed(pod: PodFact): boolean {
    return !pod.hostNetwork && !pod.createdAtRuntime?.perObject;
}

/**
 * The policies an install's pods need. Peers: the control plane from its subnets, the API server at
 * its ClusterIP, cluster DNS by CoreDNS's labels, AWS APIs over HTTPS (interface endpoints in the
 * private subnets, the rest through NAT outside private ranges), Prometheus by its labels, and pods
 * of the same or another chart by their labels and namespace.
 */
export function platformNetworkPolicies(install: PlatformInstall, addressing: PlatformAddressing): PlatformNetworkPolicy[] {
    const facts = install.facts;
    const namespace = install.namespace ?? ("addon" in facts ? facts.namespace : undefined);
    if (!namespace) throw new Error(`platformNetworkPolicies: chart ${"chart" in facts ? facts.chart : ""} needs the namespace it is released into`);
    const owner = "addon" in facts ? facts.addon : facts.chart.split("/").pop()!.replace(/-helm$/, "");
    const peers = (peer: PeerFact, self: PodFact): NetworkPolicyPeer[] | undefined => {
        switch (peer.kind) {
            case "controlPlane":
                return addressing.clusterSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } }));
            case "apiServer":
                return [{ ipBlock: { cidr: apiServerCidr(addressing.serviceCidr) } }];
            case "clusterDns":
                return [{ namespaceSelector: byName(NAMESPACES.system), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }];
            case "vpcResolver":
                return [{ ipBlock: { cidr: vpcResolverCidr(addressing.vpcCidr) } }];
            case "awsApis":
                return awsApiPeers(addressing);
            case "podIdentityAgent":
                return [{ ipBlock: { cidr: POD_IDENTITY_AGENT_ADDRESS } }];
            case "prometheus":
                return [{ namespaceSelector: byName(NAMESPACES.monitoring), podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }];
            case "nodes":
            case "fileSystems":
                return addressing.privateSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } }));
            case "anyPod":
                // Every pod, and host-network pods from their nodes' addresses: no `from` at all.
                return undefined;
            case "pod": {
                const chart = peer.chart ? CHART_FACTS.find((f) => f.chart === peer.chart) : facts;
                const target = chart?.pods.find((p) => p.id === peer.pod);
                const namespaces = target?.createdAtRuntime?.perObject ? (install.runtimeNamespaces?.[target.id] ?? []) : [peer.chart ? install.chartNamespaces[peer.chart] : namespace];
                if (!target || namespaces.length === 0 || namespaces.some((n) => !n)) throw new Error(`${owner}: ${self.id} reaches ${peer.chart ?? owner} pod ${peer.pod}, which the facts do not place`);
                return namespaces.map((ns) => ({ namespaceSelector: byName(ns!), podSelector: { matchLabels: { ...podSelectorOf(target) } } }));
            }
            case "serviceFromValues": {
                const service = install.servicePods?.[peer.url];
                if (!service) throw new Error(`${owner}: ${self.id} reaches the Service at values ${peer.url}: pass its pods in servicePods`);
                return [{ namespaceSelector: byName(service.namespace), podSelector: { matchLabels: { ...service.labels } } }];
            }
        }
    };
    /** A calling pod, by its fixed selector labels (labels a controller copies from an object are left out), in a namespace. */
    const callerPeer = (peer: Extract<PeerFact, { kind: "pod" }>, ns: string): NetworkPolicyPeer[] => {
        const chart = peer.chart ? CHART_FACTS.find((f) => f.chart === peer.chart) : facts;
        const caller = chart?.pods.find((p) => p.id === peer.pod);
        const fixed = Object.fromEntries(Object.entries(caller ? podSelectorOf(caller) : {}).filter(([k]) => !(k in (caller?.createdAtRuntime?.labelsFromObject ?? {}))));
        return [{ namespaceSelector: byName(ns), podSelector: { matchLabels: fixed } }];
    };
    // Paths to the same peers are one rule with every port.
    const rules = (paths: readonly (PathFact & { inNamespace?: string })[], self: PodFact) => {
        const grouped = new Map<string, { peers: NetworkPolicyPeer[] | undefined; ports: { protocol: "TCP" | "UDP"; port: number }[] }>();
        for (const path of paths) {
            const to = path.inNamespace && path.peer.kind === "pod" ? callerPeer(path.peer, path.inNamespace) : peers(path.peer, self);
            const key = JSON.stringify(to ?? null);
            const rule = grouped.get(key) ?? { peers: to, ports: [] };
            const port = { protocol: path.protocol ?? "TCP", port: path.port };
            if (!rule.ports.some((p) => p.protocol === port.protocol && p.port === port.port)) rule.ports.push(port);
            grouped.set(key, rule);
        }
        return [...grouped.values()];
    };
    // Paths are stated by the side that opens them: a pod's ingress also admits every pod whose
    // facts call it (in this install, or in another chart the region releases).
    const callers = (pod: PodFact): PathFact[] => {
        const found: PathFact[] = [];
        for (const other of [facts, ...CHART_FACTS.filter((f) => f !== facts)]) {
            const otherChart = "chart" in other ? other.chart : undefined;
            for (const caller of other.pods) {
                if (caller.hostNetwork) continue;
                for (const call of caller.calls) {
                    if (call.peer.kind !== "pod" || call.peer.pod !== pod.id) continue;
                    const targetsThis = call.peer.chart ? "chart" in facts && call.peer.chart === facts.chart : other === facts;
                    if (!targetsThis) continue;
                    const namespaces = caller.createdAtRuntime?.perObject
                        ? (install.runtimeNamespaces?.[caller.id] ?? [])
                        : [caller.namespace ?? (other === facts ? namespace : otherChart ? install.chartNamespaces[otherChart] : undefined)].filter((n): n is string => !!n);
                    if (namespaces.length === 0) throw new Error(`${owner}: ${caller.id} of ${otherChart ?? owner} calls ${pod.id}, and where it runs is not given`);
                    for (const ns of namespaces) found.push({ ...call, peer: { kind: "pod", pod: caller.id, ...(other === facts ? {} : { chart: otherChart }) }, inNamespace: ns } as PathFact & { inNamespace: string });
                }
            }
        }
        return found;
    };
    return facts.pods.filter(governed).map((pod) => ({
        name: owner === pod.id ? owner : `${owner}-${pod.id}`,
        namespace: pod.namespace ?? namespace,
        forPods: `${owner}: ${pod.id}`,
        spec: {
            podSelector: { matchLabels: { ...podSelectorOf(pod) } },
            policyTypes: ["Ingress", "Egress"],
            ingress: rules([...pod.serves, ...callers(pod)], pod).map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ports: r.ports })),
            egress: rules(pod.calls, pod).map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ports: r.ports })),
        },
    }));
}
