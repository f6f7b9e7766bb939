import { beforeAll, describe, expect, it } from "vitest";
import { ADDON_FACTS, addonFacts, chartFacts, CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_PINS, EKS_ADDONS, fromSnapshots, GraphResource, K8S_TYPES, platformNetworkPolicies, rehearse, TYPES } from "compute-region-policies/model";
import { evaluatePolicies, ResourceSnapshot, UNKNOWN } from "compute-region-policies/engine";
import { REHEARSAL_POLICIES } from "compute-region-policies/rules";
import { AUTOSCALING_CHART_REPO, CHART_NAMESPACES, CHARTS, GATEWAY_CHART_PINS, MONITORING_CHART_PINS, SERVING_CHART_PINS } from "../components/helm";
import type { OfflinePlanResult } from "../offline/harness";
import { plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

// The Cluster Autoscaler is pinned per Kubernetes minor: every pin needs its facts.
const AUTOSCALER_PINS = Object.values(CLUSTER_AUTOSCALER_PINS).map((p) => ({ chart: CLUSTER_AUTOSCALER_CHART, repo: AUTOSCALING_CHART_REPO, version: p.chart }));
const PINS = [...Object.values(CHARTS), ...Object.values(MONITORING_CHART_PINS), ...Object.values(SERVING_CHART_PINS), ...Object.values(GATEWAY_CHART_PINS), ...AUTOSCALER_PINS];

describe("upstream facts", () => {
    it.each(PINS.map((p) => [`${p.chart} ${p.version}`, p] as const))("the pinned chart %s has facts and a namespace the region releases it into", (_label, pin) => {
        expect(chartFacts(pin.chart, pin.version), `policies/model/upstream/charts.ts has no facts for ${pin.chart} ${pin.version}`).toBeDefined();
        expect(CHART_NAMESPACES[pin.chart]).toBeDefined();
    });

    it("every EKS add-on the region installs has facts", () => {
        for (const addon of Object.values(EKS_ADDONS)) expect(addonFacts(addon), `no facts for add-on ${addon}`).toBeDefined();
        expect(ADDON_FACTS.length).toBeGreaterThan(0);
    });

    it("every fact cites the repository, tag and file (or page) it came from", () => {
        const cited = (s: unknown) => typeof s === "object" && s !== null && ("url" in s || ("repo" in s && "ref" in s && "file" in s));
        for (const f of PINS.map((p) => chartFacts(p.chart, p.version)!)) {
            expect(cited(f.source)).toBe(true);
            for (const w of f.webhooks) expect(cited(w.source), `${f.chart} webhook ${w.name}`).toBe(true);
            for (const p of f.pods) expect(cited(p.source), `${f.chart} pod ${p.id}`).toBe(true);
        }
    });
});

describe("platform NetworkPolicies from the facts", () => {
    const addressing = { vpcCidr: "10.40.0.0/16", serviceCidr: "172.20.0.0/16", clusterSubnetCidrs: ["10.40.0.0/19", "10.40.32.0/19"], privateSubnetCidrs: ["10.40.0.0/19", "10.40.32.0/19"] };

    it("admit the control plane to a webhook only from the cluster subnets and only on its port, and reach the API server at its ClusterIP", () => {
        const kueue = chartFacts(CHARTS.kueue.chart, CHARTS.kueue.version)!;
        const [controller] = platformNetworkPolicies({ facts: kueue, namespace: "kueue-system", chartNamespaces: CHART_NAMESPACES }, addressing);
        expect(controller.spec.podSelector.matchLabels).toMatchObject({ "control-plane": "controller-manager" });
        const webhook = controller.spec.ingress.find((r) => r.ports.some((p) => p.port === 9443))!;
        expect(webhook.from).toEqual(addressing.clusterSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })));
        expect(controller.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "172.20.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
    });

    it("admit a pod's callers from other charts: the AI Gateway's extension server from Envoy Gateway's controller", () => {
        const ai = chartFacts(GATEWAY_CHART_PINS.aiGateway.chart, GATEWAY_CHART_PINS.aiGateway.version)!;
        const [controller] = platformNetworkPolicies({ facts: ai, namespace: "envoy-ai-gateway-system", chartNamespaces: CHART_NAMESPACES }, addressing);
        const fromEnvoyGateway = controller.spec.ingress.find((r) => r.ports.some((p) => p.port === 1063))!;
        expect(fromEnvoyGateway.from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "envoy-gateway-system" } }, podSelector: { matchLabels: expect.objectContaining({ "control-plane": "envoy-gateway" }) } }]);
    });

    it("refuse to guess where an unplaced peer runs", () => {
        const eg = chartFacts(GATEWAY_CHART_PINS.envoyGateway.chart, GATEWAY_CHART_PINS.envoyGateway.version)!;
        expect(() => platformNetworkPolicies({ facts: eg, namespace: "envoy-gateway-system", chartNamespaces: CHART_NAMESPACES }, addressing)).toThrow(/servicePods|not given/);
    });
});

/** The dev plan as the rehearsal reads it, changed by `mutate`. */
function rehearseDev(mutate: (resources: ResourceSnapshot[]) => ResourceSnapshot[]) {
    const copy = JSON.parse(JSON.stringify(dev.resources)) as ResourceSnapshot[];
    return rehearse(fromSnapshots(mutate(copy)));
}
const named = (resources: ResourceSnapshot[], name: string) => {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name} in the dev plan`);
    return r;
};
/** Drops a resource, and every reference to it. */
const without = (resources: ResourceSnapshot[], name: string) => {
    const urn = named(resources, name).urn;
    return resources.filter((r) => r.urn !== urn).map((r) => ({ ...r, dependencies: (r.dependencies ?? []).filter((d) => d !== urn) }));
};
/** Cuts the dependencies of `name` on everything `gone` names. */
const cutDeps = (resources: ResourceSnapshot[], name: string, gone: (urn: string) => boolean) => {
    const r = named(resources, name);
    r.dependencies = (r.dependencies ?? []).filter((d) => !gone(d));
    return resources;
};
const props = (r: ResourceSnapshot) => (r.outputs ?? r.props) as Record<string, any>;

describe("the deploy rehearsal", () => {
    it("finds nothing in the dev region, and times a first up from the documented create times", () => {
        const r = rehearse(fromSnapshots(dev.resources));
        expect(r.findings).toEqual([]);
        expect(r.cni).toBe("strict");
        expect(r.functional.pathsChecked).toBeGreaterThan(50);
        // The EKS control plane (15 min typical, 30 min time-out) is on the critical path, then its nodes.
        expect(r.criticalPath.map((s) => s.type)).toEqual(expect.arrayContaining([TYPES.eksCluster, TYPES.eksNodeGroup]));
        expect(r.expectedSeconds).toBeGreaterThanOrEqual(15 * 60);
        expect(r.boundSeconds).toBeGreaterThan(r.expectedSeconds);
        const eks = r.schedule.find((s) => s.type === TYPES.eksCluster)!;
        expect(eks.basis).toMatch(/automode-get-started-cli\.adoc/);
    });

    const hazards: [string, (rs: ResourceSnapshot[]) => ResourceSnapshot[], Partial<{ check: string; resource: string; missing: RegExp; providedBy: string }>][] = [
        [
            "a custom resource before its CRD",
            (rs) => cutDeps(rs, "dev-model-llama-3-8b-monitor", (d) => d.endsWith("::dev-observability-prometheus-stack")),
            { check: "crd", resource: "dev-model-llama-3-8b-monitor", missing: /CRD monitoring\.coreos\.com\/ServiceMonitor/, providedBy: "dev-observability-prometheus-stack" },
        ],
        [
            "an apiVersion the pinned CRD does not serve",
            (rs) => {
                props(named(rs, "dev-queues-internal-l40s-flavor")).apiVersion = "kueue.x-k8s.io/v1alpha1";
                return rs;
            },
            { check: "crd", resource: "dev-queues-internal-l40s-flavor", missing: /served apiVersion of ResourceFlavor/, providedBy: "dev-queues-kueue" },
        ],
        [
            "a webhook race",
            (rs) => cutDeps(rs, "dev-model-llama-3-8b-deployment", (d) => d.includes("CapacityQueues")),
            { check: "webhook", resource: "dev-model-llama-3-8b-deployment", missing: /mdeployment\.kb\.io webhook/, providedBy: "dev-queues-kueue" },
        ],
        ["a missing namespace", (rs) => without(rs, "dev-billing-ns"), { check: "namespace", resource: "dev-billing-migrations", missing: /the namespace billing/ }],
        [
            "an awaited pod that fits no node group",
            (rs) => {
                props(named(rs, "dev-model-llama-3-8b-deployment")).spec.template.spec.nodeSelector = { "compute-region.io/pool": "no-such-pool" };
                return rs;
            },
            { check: "placement", resource: "dev-model-llama-3-8b-deployment", missing: /a node group for Deployment serving\/model-llama-3-8b/ },
        ],
        [
            "a GPU pod without its device plugin",
            (rs) => without(rs, "dev-device-plugins-nvidia"),
            { check: "device-plugin", resource: "dev-model-llama-3-8b-deployment", missing: /a device plugin advertising nvidia\.com\/gpu/ },
        ],
        [
            "an unselected pod under the strict CNI",
            (rs) => without(rs, "dev-queues-kueue-netpol-kueue-controller"),
            { check: "network", resource: "dev-queues-kueue", missing: /a NetworkPolicy that selects release kueue: controller/ },
        ],
        [
            "a required path cut",
            (rs) => {
                const spec = props(named(rs, "dev-queues-kueue-netpol-kueue-controller")).spec;
                spec.ingress = spec.ingress.filter((rule: { ports: { port: number }[] }) => !rule.ports.some((p) => p.port === 9443));
                return rs;
            },
            { check: "path", resource: "dev-queues-kueue", missing: /the EKS control plane -> release kueue: controller TCP\/9443/ },
        ],
        [
            "an image from the registry the stack creates, with no build before it",
            (rs) => {
                const job = named(rs, "dev-billing-migrate");
                props(job).spec.template.spec.containers[0].image = `111122223333.dkr.ecr.us-east-2.amazonaws.com/compute-region/gpu-dev-use2/metering@sha256:${"b".repeat(64)}`;
                return without(rs, "dev-billing-metering-build");
            },
            { check: "image", resource: "dev-billing-migrate", missing: /a build of compute-region\/gpu-dev-use2\/metering/, providedBy: "dev-billing-metering-image" },
        ],
        [
            "an await shorter than the start-up",
            (rs) => {
                const d = named(rs, "dev-model-llama-3-8b-deployment");
                d.opts = { ...d.opts, customTimeouts: undefined };
                return rs;
            },
            { check: "await", resource: "dev-model-llama-3-8b-deployment", missing: /an await of 1800s/ },
        ],
    ];

    it.each(hazards)("reports %s, naming the resource, the missing precondition and what provides it", (_hazard, mutate, expected) => {
        const { findings } = rehearseDev(mutate);
        const match = findings.find((f) => f.check === expected.check && f.resource === expected.resource && expected.missing!.test(f.missing));
        expect(match, `findings were:\n${findings.map((f) => `${f.check} ${f.resource}: ${f.missing}`).join("\n")}`).toBeDefined();
        if (expected.providedBy) expect(match!.providedBy).toBe(expected.providedBy);
        expect(match!.message).toContain(expected.resource);
    });

    it("does not find on a value unknown during the preview: the policy that needs it says not run, never a violation", () => {
        const judge = (mutate: (rs: ResourceSnapshot[]) => ResourceSnapshot[]) => {
            const copy = mutate(JSON.parse(JSON.stringify(dev.resources)) as ResourceSnapshot[]);
            return evaluatePolicies(copy, { policies: [...REHEARSAL_POLICIES] });
        };
        // The serving Namespace's name unknown: whether something creates the namespace serving is not known yet.
        const namespaceUnknown = judge((rs) => {
            props(named(rs, "dev-queues-serving")).metadata.name = UNKNOWN;
            return rs;
        });
        expect(namespaceUnknown.violations).toEqual([]);
        expect(namespaceUnknown.notRun.map((n) => n.policy)).toContain("deploy-namespaces-first");
        expect(namespaceUnknown.notRun.find((n) => n.policy === "deploy-namespaces-first")!.message).toMatch(/dev-queues-serving\.metadata\.name can't be known during preview/);
        // A model server's tolerations unknown: whether it fits a node group is not known yet.
        const tolerationsUnknown = judge((rs) => {
            props(named(rs, "dev-model-llama-3-8b-deployment")).spec.template.spec.tolerations = UNKNOWN;
            return rs;
        });
        expect(tolerationsUnknown.violations).toEqual([]);
        expect(tolerationsUnknown.notRun.map((n) => n.policy)).toContain("deploy-workloads-schedulable");
        // A finding that holds whatever the unknown turns out to be stays a violation.
        const both = judge((rs) => {
            props(named(rs, "dev-model-llama-3-8b-deployment")).spec.template.spec.tolerations = UNKNOWN;
            return without(rs, "dev-billing-ns");
        });
        expect([...new Set(both.violations.map((v) => v.policy))]).toEqual(["deploy-namespaces-first"]);
        expect(both.notRun.map((n) => n.policy)).toContain("deploy-workloads-schedulable");
    });

    it("reads the plan the way the engine walks it: a dependency on a component is one on its resources", () => {
        const graph = fromSnapshots(dev.resources) as GraphResource[];
        const deployment = graph.find((r) => r.name === "dev-model-llama-3-8b-deployment")!;
        const kueue = graph.find((r) => r.name === "dev-queues-kueue" && r.type === TYPES.helmRelease)!;
        expect(deployment.dependencies).toContain(kueue.urn);
        expect(graph.some((r) => r.type === K8S_TYPES.networkPolicy)).toBe(true);
    });
});
