import { cidrProblem } from "../domain/cidr";
import { ClusterPicture, picturedOfType, PlannedPod } from "../evidence/cluster-picture";
import { LABELS, NAMESPACES, POD_IDENTITY_AGENT_ADDRESS } from "../domain/conventions";
import { isUnknown } from "../evidence/deploy-input";
import { Endpoint, namespaceLabels, PolicyIndex } from "./netpol-eval";
import { apiServerCidr, vpcResolverCidr } from "./platform-network-policies";
import { USAGE_STATEMENTS } from "../domain/tenant-billing";
import { DATA_TYPES, GATEWAY_TYPES, K8S_TYPES, MONITORING_TYPES, TYPES } from "../domain/types";
import type { PathFact, PeerFact } from "../upstream/types";
import { selectorMatches } from "../domain/label-selectors";
import type { NamespaceKind } from "../evidence/isolation-evidence";

/**
 * The functional half of the reachability proof: the paths that must exist for the region to work,
 * judged against the planned NetworkPolicies (and the CNI's mode). From the facts of every chart and
 * add-on (the control plane to each webhook and aggregated API, the API server from every
 * controller, CoreDNS from everyone, Prometheus to every metrics port) and from the plan itself
 * (DNS from every namespace that has pods, Prometheus to every ServiceMonitor and PodMonitor target,
 * the gateway to every model server, the billing jobs to the database, the statement Job to the API server).
 */

export interface RequiredPath {
    from: Endpoint;
    to: Endpoint;
    port: number;
    protocol: "TCP" | "UDP";
    why: string;
    /** Resource index of what depends on the path (the pods' owner). */
    owner?: number;
}

export interface PathFinding {
    path: string;
    why: string;
    /** What needs it: `release kueue: controller`. */
    needs: string;
    owner?: number;
}

export interface FunctionalEvidence {
    cni: ClusterPicture["cni"];
    pathsChecked: number;
    /** Required paths the policies cut. */
    cut: PathFinding[];
    /** Pods no NetworkPolicy selects, under strict mode: denied everything. */
    unselected: { pod: string; namespace: string; owner: number }[];
}

/** A representative public address of the AWS service endpoints reached through NAT. */
const PUBLIC_AWS_ENDPOINT = "52.94.0.1/32";

/** RDS PostgreSQL's default port. */
const POSTGRES_PORT = 5432;

const text = (path: RequiredPath) => `${path.from.name} -> ${path.to.name} ${path.protocol}/${path.port}`;

export function requiredPaths(picture: ClusterPicture): RequiredPath[] {
    const net = picture.network;
    const podCidrs = net.subnets.private?.length ? net.subnets.private : net.vpcCidr ? [net.vpcCidr] : ["0.0.0.0/0"];
    // Each namespace's labels made once, shared by every endpoint in it (they are only read).
    const labelsOf = new Map<string, Record<string, string>>();
    const nsLabels = (ns: string) => {
        let labels = labelsOf.get(ns);
        if (!labels) labelsOf.set(ns, (labels = namespaceLabels(ns, picture.namespaces.get(ns)?.labels)));
        return labels;
    };
    const endpoint = (pod: PlannedPod): Endpoint => ({ kind: "pods", name: pod.name, namespace: pod.namespace, namespaceLabels: nsLabels(pod.namespace), labels: pod.labels, hostNetwork: pod.hostNetwork, addresses: podCidrs });
    const addresses = (name: string, cidrs: (string | undefined)[]): Endpoint | undefined => {
        const valid = cidrs.filter((c): c is string => typeof c === "string" && !cidrProblem(c));
        return valid.length > 0 ? { kind: "addresses", name, cidrs: valid } : undefined;
    };
    const coredns: Endpoint =
        picture.pods.filter((p) => p.labels["k8s-app"] === "kube-dns").map(endpoint)[0] ??
        // Not in this plan (a tenant shard on its platform): only the clients' side is this plan's to judge.
        { kind: "pods", name: "CoreDNS", namespace: NAMESPACES.system, namespaceLabels: nsLabels(NAMESPACES.system), labels: { "k8s-app": "kube-dns" }, hostNetwork: false, addresses: podCidrs, standIn: true };
    const prometheus = picture.pods.filter((p) => p.from?.podId === "prometheus" && p.labels["app.kubernetes.io/name"] === "prometheus").map(endpoint);
    // The subnets the plan's Lustre file systems sit in (their network interfaces).
    const fileSystemCidrs = picturedOfType(picture, DATA_TYPES.lustreFileSystem)
        .flatMap((fs) => fs.dependencies.map((d) => picture.resources[picture.index.get(d) ?? -1]).filter((d) => d?.type === TYPES.subnet).map((d) => d!.props.cidrBlock));

    const podsOf = (caller: PlannedPod, peer: Extract<PeerFact, { kind: "pod" }>): PlannedPod[] =>
        picture.pods.filter((p) => p.from?.podId === peer.pod && (peer.chart ? "chart" in p.from.facts && p.from.facts.chart === peer.chart : p.from.facts === caller.from?.facts && p.owner === caller.owner));
    const services = picturedOfType(picture, K8S_TYPES.service);
    const servicePods = (namespace: string, name: string): PlannedPod[] => {
        const service = services.find((r) => r.props.metadata?.namespace === namespace && r.props.metadata?.name === name);
        const selector = service?.props.spec?.selector;
        if (!selector || typeof selector !== "object") return [];
        return picture.pods.filter((p) => p.namespace === namespace && selectorMatches({ matchLabels: selector }, p.labels));
    };
    /** `name.namespace.svc.cluster.local[:port]` as the Service's namespace and name. */
    const serviceOfHost = (host: unknown): { name: string; namespace: string } | undefined => {
        const m = typeof host === "string" && !isUnknown(host) ? /^([a-z0-9-]+)\.([a-z0-9-]+)(\.svc(\.cluster\.local)?)?(:\d+)?$/.exec(host) : null;
        return m ? { name: m[1], namespace: m[2] } : undefined;
    };

    const peerEndpoints = (caller: PlannedPod, peer: PeerFact, values: () => unknown): Endpoint[] => {
        switch (peer.kind) {
            case "controlPlane":
                return [addresses("the EKS control plane", net.clusterSubnets.length ? net.clusterSubnets : (net.subnets.private ?? []))].filter((e): e is Endpoint => !!e);
            case "apiServer":
                return net.serviceCidr ? [addresses("the Kubernetes API (kubernetes Service)", [apiServerCidr(net.serviceCidr)])!] : [];
            case "clusterDns":
                return [coredns];
            case "vpcResolver":
                return net.vpcCidr ? [addresses("the VPC resolver", [vpcResolverCidr(net.vpcCidr)])!] : [];
            case "awsApis":
                return [addresses("AWS API endpoints", [...(net.subnets.private ?? []), PUBLIC_AWS_ENDPOINT])!];
            case "podIdentityAgent":
                return [addresses("the EKS Pod Identity agent", [POD_IDENTITY_AGENT_ADDRESS])!];
            case "prometheus":
                return prometheus;
            case "nodes":
                return [addresses("node addresses", net.subnets.private ?? [])].filter((e): e is Endpoint => !!e);
            case "fileSystems":
                return [addresses("FSx for Lustre file servers", fileSystemCidrs)].filter((e): e is Endpoint => !!e);
            case "anyPod":
                return [...picture.namespaces.values()]
                    .filter((ns) => !ns.builtin || ns.name === "default")
                    // Whether each client may send is judged from the clients' own side (their DNS paths).
                    .map((ns) => ({ kind: "pods" as const, name: `a pod of ${ns.name}`, namespace: ns.name, namespaceLabels: nsLabels(ns.name), labels: {}, hostNetwork: false, addresses: podCidrs, standIn: true }));
            case "pod":
                return podsOf(caller, peer).map(endpoint);
            case "serviceFromValues": {
                const service = serviceOfHost(values());
                return service ? servicePods(service.namespace, service.name).map(endpoint) : [];
            }
        }
    };

    const paths: RequiredPath[] = [];
    const add = (from: Endpoint, to: Endpoint, fact: Pick<PathFact, "port" | "protocol" | "why">, owner?: number) => paths.push({ from, to, port: fact.port, protocol: fact.protocol ?? "TCP", why: fact.why, ...(owner !== undefined ? { owner } : {}) });

    for (const pod of picture.pods) {
        const self = endpoint(pod);
        const releaseValues = () => {
            const owner = picture.resources[pod.owner];
            const ref = pod.from && [...pod.calls, ...pod.serves].find((c) => c.peer.kind === "serviceFromValues");
            if (!ref || ref.peer.kind !== "serviceFromValues") return undefined;
            return ref.peer.url.split(".").reduce<any>((v, k) => v?.[k], owner.props.values);
        };
        for (const call of pod.calls) for (const to of peerEndpoints(pod, call.peer, releaseValues)) add(self, to, call, pod.owner);
        for (const serve of pod.serves) for (const from of peerEndpoints(pod, serve.peer, releaseValues)) add(from, self, serve, pod.owner);
        // Every workload of the plan resolves names through cluster DNS.
        if (!pod.from && !pod.hostNetwork) add(self, coredns, { port: 53, protocol: "UDP", why: "resolves names through cluster DNS" }, pod.owner);
    }

    // Namespaces whose pods are not in the plan (tenants', the company's own) need DNS too.
    const planned = new Set(picture.pods.map((p) => p.namespace));
    const kindOf = (labels: Record<string, string>): NamespaceKind | undefined => (labels[LABELS.tenant] ? "tenant" : (labels[LABELS.namespaceKind] as NamespaceKind | undefined));
    for (const ns of picture.namespaces.values()) {
        const kind = kindOf(ns.labels);
        if (planned.has(ns.name) || (kind !== "tenant" && kind !== "internal")) continue;
        const pod: Endpoint = { kind: "pods", name: `a pod of ${ns.name}`, namespace: ns.name, namespaceLabels: nsLabels(ns.name), labels: {}, hostNetwork: false, addresses: podCidrs };
        add(pod, coredns, { port: 53, protocol: "UDP", why: `${kind} workloads resolve names through cluster DNS` }, ns.createdBy);
    }

    // Prometheus to every target of a ServiceMonitor or PodMonitor of the plan.
    for (const monitor of picturedOfType(picture, MONITORING_TYPES.serviceMonitor, MONITORING_TYPES.podMonitor)) {
        const spec = monitor.props.spec ?? {};
        const own = monitor.props.metadata?.namespace ?? "default";
        const namespaces: string[] = Array.isArray(spec.namespaceSelector?.matchNames) ? spec.namespaceSelector.matchNames : [own];
        if (monitor.type === MONITORING_TYPES.serviceMonitor) {
            for (const service of services.filter((r) => namespaces.includes(r.props.metadata?.namespace) && spec.selector && selectorMatches(spec.selector, r.props.metadata?.labels ?? {}))) {
                for (const ep of Array.isArray(spec.endpoints) ? spec.endpoints : []) {
                    const ports: unknown[] = Array.isArray(service.props.spec?.ports) ? service.props.spec.ports : [];
                    const port = ports.find((p: any) => p?.name === ep?.port) as { targetPort?: unknown; port?: unknown } | undefined;
                    const target = typeof port?.targetPort === "number" ? port.targetPort : typeof port?.port === "number" ? port.port : undefined;
                    if (target === undefined) continue;
                    for (const to of servicePods(service.props.metadata.namespace, service.props.metadata.name)) for (const from of prometheus) add(from, endpoint(to), { port: target, why: `ServiceMonitor ${own}/${monitor.props.metadata?.name} scrapes it` }, to.owner);
                }
            }
        } else {
            for (const to of picture.pods.filter((p) => namespaces.includes(p.namespace) && spec.selector && selectorMatches(spec.selector, p.labels))) {
                for (const ep of Array.isArray(spec.podMetricsEndpoints) ? spec.podMetricsEndpoints : []) {
                    if (typeof ep?.targetPort !== "number") continue;
                    for (const from of prometheus) add(from, endpoint(to), { port: ep.targetPort, why: `PodMonitor ${own}/${monitor.props.metadata?.name} scrapes it` }, to.owner);
                }
            }
        }
    }

    // The gateway's proxies to every model server a Backend names.
    for (const backend of picturedOfType(picture, GATEWAY_TYPES.backend)) {
        const ns = backend.props.metadata?.namespace ?? "default";
        const proxies = picture.pods.filter((p) => p.from?.podId === "proxy" && p.namespace === ns);
        for (const ep of Array.isArray(backend.props.spec?.endpoints) ? backend.props.spec.endpoints : []) {
            const service = serviceOfHost(ep?.fqdn?.hostname);
            if (!service || typeof ep.fqdn.port !== "number") continue;
            for (const to of servicePods(service.namespace, service.name)) for (const from of proxies) add(endpoint(from), endpoint(to), { port: ep.fqdn.port, why: `the gateway routes ${backend.props.metadata?.name} to it` }, to.owner);
        }
    }

    // Database clients to every database of the stack, on its subnets.
    const databases = picturedOfType(picture, DATA_TYPES.rdsInstance);
    for (const client of picture.pods.filter((p) => p.labels[LABELS.dbClient] === "true")) {
        for (const db of databases) {
            const subnetGroup = db.dependencies.map((d) => picture.resources[picture.index.get(d) ?? -1]).find((d) => d?.type === DATA_TYPES.rdsSubnetGroup);
            const cidrs = (subnetGroup?.dependencies ?? []).map((d) => picture.resources[picture.index.get(d) ?? -1]).filter((d) => d?.type === TYPES.subnet).map((d) => d!.props.cidrBlock);
            const to = addresses(`database ${db.props.identifier ?? db.name}`, cidrs);
            // The port is computed by RDS unless set: the engine's default (PostgreSQL's 5432) until then.
            const port = typeof db.props.port === "number" ? db.props.port : POSTGRES_PORT;
            if (to) add(endpoint(client), to, { port, why: "reads and writes billing data" }, client.owner);
        }
    }

    // The statement Job applies each tenant's UsageStatements through the API server.
    const apiServer = net.serviceCidr ? addresses("the Kubernetes API (kubernetes Service)", [apiServerCidr(net.serviceCidr)]) : undefined;
    for (const publisher of picture.pods.filter((p) => p.namespace === USAGE_STATEMENTS.namespace && p.labels.app === USAGE_STATEMENTS.app)) {
        if (apiServer) add(endpoint(publisher), apiServer, { port: 443, why: "applies tenants' UsageStatements" }, publisher.owner);
    }
    return paths;
}

/** The required paths judged against the planned policies. */
export function proveFunctionalPaths(picture: ClusterPicture): FunctionalEvidence {
    const index = new PolicyIndex(picture.policies, picture.cni);
    const unselected: FunctionalEvidence["unselected"] = [];
    const unselectedNames = new Set<string>();
    if (picture.cni === "strict") {
        for (const pod of picture.pods) {
            if (pod.hostNetwork || (pod.from && pod.serves.length === 0 && pod.calls.length === 0)) continue;
            if (index.selecting(pod.namespace, pod.labels).length === 0) {
                unselected.push({ pod: pod.name, namespace: pod.namespace, owner: pod.owner });
                unselectedNames.add(pod.name);
            }
        }
    }
    const paths = requiredPaths(picture);
    const cut: PathFinding[] = [];
    const seen = new Set<string>();
    for (const path of paths) {
        // An unselected pod is reported once, as such, not once per path.
        if (unselectedNames.has(path.from.name) || unselectedNames.has(path.to.name)) continue;
        const verdict = index.allowed(path.from, path.to, path.port, path.protocol);
        if (verdict.allowed) continue;
        const key = `${text(path)}|${verdict.why}`;
        if (seen.has(key)) continue;
        seen.add(key);
        cut.push({ path: text(path), why: `${path.why}; cut by ${verdict.why}`, needs: path.from.kind === "pods" ? path.from.name : path.to.name, ...(path.owner !== undefined ? { owner: path.owner } : {}) });
    }
    return { cni: picture.cni, pathsChecked: paths.length, cut, unselected };
}
