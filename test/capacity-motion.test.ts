import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
    ALERTS,
    capacityFromResources,
    CLUSTER_AUTOSCALER_AWS,
    CLUSTER_AUTOSCALER_PINS,
    EKS_ADDONS,
    K8S_TYPES,
    LABELS,
    addonVersionPin,
    poolTaints,
    TAGS,
    tolerates,
    TYPES,
} from "compute-region-policies/model";
import { evaluatePolicies } from "compute-region-policies/engine";
import { policies } from "compute-region-policies/rules";
import { clusterAutoscalerPolicy } from "../components/cluster-autoscaler";
import { applyScaling, EksCommands, scalingUpdate } from "../components/node-group-scaling";
import { offlineMocks } from "../offline/mocks";
import { planEvidence } from "../offline/evidence";
import { SUPPORTED_KUBERNETES_VERSIONS } from "../stacks/config";
import type { OfflinePlanResult } from "../offline/harness";
import { planCli } from "./cli";
import { configProblems, devStackConfig, ofType, one, plan } from "./helpers";

/**
 * GPU capacity that moves: the autoscaler and its bounds from the capacity model, node health and
 * repair, node groups and add-ons that follow the cluster's version, resizing, Capacity Block windows.
 */

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

/** A planned resource with `patch` applied to what both kinds of policy see (inputs and the preview's outputs). */
const patched = <T extends { props: Record<string, unknown>; outputs?: Record<string, unknown> }>(r: T, patch: (props: Record<string, any>) => Record<string, unknown>): T => ({ ...r, props: patch(r.props), ...(r.outputs ? { outputs: patch(r.outputs) } : {}) });

const judge = (resources: OfflinePlanResult["resources"], name: string, config: Record<string, unknown> = {}) => evaluatePolicies(resources, { policies: policies.filter((p) => p.name === name), config: { [name]: config } });

describe("autoscaling between minNodes and maxNodes", () => {
    it("installs the Cluster Autoscaler of the cluster's Kubernetes minor on the system nodes, discovering this cluster's groups", () => {
        const release = ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.chart === "cluster-autoscaler")!;
        const pin = CLUSTER_AUTOSCALER_PINS["1.34"];
        expect(release.props).toMatchObject({ version: pin.chart, namespace: "kube-system", repositoryOpts: { repo: "https://kubernetes.github.io/autoscaler" } });
        expect(release.props.values).toMatchObject({
            awsRegion: "us-east-2",
            autoDiscovery: { clusterName: "gpu-dev-use2" },
            image: { tag: pin.imageTag },
            nodeSelector: { [LABELS.role]: "system" },
            extraArgs: { "scale-down-gpu-utilization-threshold": 0.01 },
        });
        // Its NetworkPolicy is in place first (strict CNI): the API server, AWS APIs, the Pod Identity agent.
        const netpol = ofType(dev.resources, K8S_TYPES.networkPolicy).find((p) => p.name.startsWith("dev-autoscaler-release-netpol"))!;
        expect(release.dependencies).toContain(netpol.urn);
        expect(netpol.props.spec.egress.flatMap((e: { ports?: { port: number }[] }) => (e.ports ?? []).map((p) => p.port))).toEqual(expect.arrayContaining([443, 80, 53]));
    });

    it("binds a role through Pod Identity that may resize only the groups EKS tagged for this cluster's autoscaler", () => {
        const association = ofType(dev.resources, TYPES.eksPodIdentityAssociation).find((a) => a.name === "dev-autoscaler-identity")!;
        expect(association.props).toMatchObject({ namespace: "kube-system", serviceAccount: "cluster-autoscaler" });
        const policy = clusterAutoscalerPolicy("gpu-dev-use2") as { Statement: { Action: string[]; Resource: string; Condition?: Record<string, Record<string, string>> }[] };
        const writes = policy.Statement.find((s) => s.Action.includes("autoscaling:SetDesiredCapacity"))!;
        expect(writes.Condition).toEqual({ Null: { "autoscaling:ResourceTag/k8s.io/cluster-autoscaler/enabled": "false", "autoscaling:ResourceTag/k8s.io/cluster-autoscaler/gpu-dev-use2": "false" } });
        // Every action the autoscaler calls is granted, and nothing else.
        expect(policy.Statement.flatMap((s) => s.Action).sort()).toEqual([...CLUSTER_AUTOSCALER_AWS.readActions, ...CLUSTER_AUTOSCALER_AWS.writeActions].sort());
        const planned = ofType(dev.resources, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "dev-autoscaler-policy")!;
        expect(JSON.parse(planned.props.policy)).toEqual(policy);
    });

    it("takes every pool's bounds from the capacity model: node group and NodeGroupScaling at min and max, burst quota the GPUs between them", () => {
        const capacity = capacityFromResources(dev.resources);
        const queues = new Map(ofType(dev.resources, K8S_TYPES.clusterQueue).map((q) => [q.props.metadata.name, q.props]));
        for (const pool of dev.outputs.capacity as { pool: string; role: string; minNodes: number; maxNodes: number; gpusPerNode: number; burst: number; guaranteed: number }[]) {
            const group = ofType(dev.resources, TYPES.eksNodeGroup).find((g) => g.props.labels?.[LABELS.pool] === pool.pool)!;
            const scaling = ofType(dev.resources, TYPES.nodeGroupScaling).find((s) => s.dependencies?.includes(group.urn))!;
            expect(scaling.props).toMatchObject({ minSize: pool.minNodes, maxSize: pool.maxNodes, clusterName: "gpu-dev-use2", region: "us-east-2" });
            expect(group.props.scalingConfig).toEqual({ minSize: pool.minNodes, maxSize: pool.maxNodes, desiredSize: pool.minNodes });
            expect(pool.burst).toBe((pool.maxNodes - pool.minNodes) * pool.gpusPerNode);
            const burst = queues.get(`burst-${pool.pool}`);
            if (pool.role === "dedicated") expect(burst).toBeUndefined();
            else {
                expect(burst!.spec.resourceGroups[0].flavors[0].resources[0]).toEqual({ name: "nvidia.com/gpu", nominalQuota: pool.burst, lendingLimit: pool.burst });
                // It runs nothing itself: a null namespaceSelector selects no namespace.
                expect(burst!.spec.namespaceSelector).toBeUndefined();
            }
            // Guaranteed (and so sellable) capacity stays minNodes: burst is never sold.
            expect(capacity.find((c) => c.pool === pool.pool)).toMatchObject({ guaranteed: pool.guaranteed, minNodes: pool.minNodes });
        }
        expect(judge(dev.resources, "gpu-autoscaling-matches-capacity").violations).toEqual([]);
    });

    it("holds the autoscaler's bounds to the capacity model: more burst quota than nodes can back fails the policy", async () => {
        const grown = dev.resources.map((r) =>
            r.type === K8S_TYPES.clusterQueue && (r.props.metadata as { name: string }).name === "burst-shared-l40s"
                ? patched(r, (p) => ({ ...p, spec: { ...p.spec, resourceGroups: [{ coveredResources: ["nvidia.com/gpu"], flavors: [{ name: "shared-l40s", resources: [{ name: "nvidia.com/gpu", nominalQuota: 32, lendingLimit: 32 }] }] }] } }))
                : r,
        );
        expect(judge(grown, "gpu-autoscaling-matches-capacity").violations.map((v) => v.message).join("\n")).toContain("pool shared-l40s scales from 2 to 4 nodes (16 burst GPUs), but its burst queues hold 32");
    });

    it("declares the EFA devices a pool's nodes will have, so the autoscaler can scale an EFA pool from zero", () => {
        const shared = one(dev.resources, TYPES.eksNodeGroup, "dev-shared-l40s-nodes");
        expect(shared.props.tags).toMatchObject({ [CLUSTER_AUTOSCALER_AWS.nodeTemplateResourceTag("vpc.amazonaws.com/efa")]: "4" });
        expect(shared.props.labels).toMatchObject({ [LABELS.accelerator]: "l40s" });
    });

    it("never lets a reservation's pools scale past it (config, and the policy on the resources)", async () => {
        expect(configProblems((c) => Object.assign(c["compute-region:gpuPools"][0], { availabilityZones: ["us-east-2a"], maxNodes: 3, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 2 } })).join("\n")).toContain(
            "must keep the pool within the 2 instances reservation cr-0123456789abcdef0 holds",
        );
        const config = devStackConfig();
        Object.assign(config["compute-region:gpuPools"][0], { availabilityZones: ["us-east-2a"], maxNodes: 2, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 2 } });
        const p = await plan(config);
        expect(judge(p.resources, "pool-scaling-within-reservation").violations).toEqual([]);
        const outgrown = p.resources.map((r) => (r.type === TYPES.nodeGroupScaling && r.name === "dev-internal-l40s-scaling" ? patched(r, (q) => ({ ...q, maxSize: 3 })) : r));
        expect(judge(outgrown, "pool-scaling-within-reservation").violations.map((v) => v.message).join("\n")).toContain("node group dev-internal-l40s-nodes may scale to 3 nodes, past the 2 instances reservation cr-0123456789abcdef0 holds");
    });
});

describe("node health and repair", () => {
    it("turns auto-repair on for every GPU node group (and the system group) and installs the node monitoring agent", () => {
        for (const g of ofType(dev.resources, TYPES.eksNodeGroup)) expect(g.props.nodeRepairConfig, g.name).toEqual({ enabled: true });
        const agent = ofType(dev.resources, TYPES.eksAddon).find((a) => a.props.addonName === EKS_ADDONS.nodeMonitoringAgent)!;
        expect(agent.opts?.dependsOn).toContain(one(dev.resources, TYPES.eksNodeGroup, "dev-cluster-system").urn);
        // Its DCGM host engine tolerates every GPU pool's taints: XID and double-bit ECC errors reach repair.
        const tolerations = JSON.parse(agent.props.configurationValues).dcgmAgent.tolerations;
        for (const pool of dev.outputs.capacity as { pool: string; role: "internal" | "serving" | "shared" | "dedicated" }[]) {
            const taints = poolTaints(pool.role, pool.role === "dedicated" ? "acme" : undefined);
            for (const t of taints) expect(tolerations.some((tol: { key: string }) => tolerates(tol, { ...t, effect: "NoSchedule" })), `${pool.pool} ${t.key}`).toBe(true);
        }
        expect(judge(dev.resources, "gpu-node-repair-enabled").violations).toEqual([]);
    });

    it("fails the repair policy for a GPU pool without repair, naming it", () => {
        const off = dev.resources.map((r) => (r.name === "dev-serving-l40s-nodes" ? patched(r, (q) => ({ ...q, nodeRepairConfig: { enabled: false } })) : r));
        expect(judge(off, "gpu-node-repair-enabled").violations.map((v) => v.message).join("\n")).toContain("GPU node group dev-serving-l40s-nodes (pool serving-l40s) does not enable node auto-repair");
    });

    it("keeps the GPU fault alerts beside repair", () => {
        const rules = ofType(dev.resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => r.props.spec.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((x) => x.alert)));
        expect(rules).toEqual(expect.arrayContaining([ALERTS.xidError, ALERTS.eccDoubleBit, ALERTS.gpuNodeNotReady]));
    });
});

describe("upgrades: node groups and add-ons follow the cluster's version", () => {
    it("gives every node group the cluster's version and every add-on the build published for it", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        for (const g of ofType(dev.resources, TYPES.eksNodeGroup)) expect(g.props.version, g.name).toBe("1.34");
        const addons = ofType(dev.resources, TYPES.eksAddon);
        expect(addons.map((a) => a.props.addonName).sort()).toEqual(Object.values(EKS_ADDONS).sort());
        for (const a of addons) expect(a.props.addonVersion, a.props.addonName).toBe(addonVersionPin(a.props.addonName, "1.34"));
        expect(cluster.props.version).toBe("1.34");
    });

    it("has an autoscaler pin for every Kubernetes version config accepts (an unknown version is a config error)", () => {
        for (const version of SUPPORTED_KUBERNETES_VERSIONS) expect(CLUSTER_AUTOSCALER_PINS[version], version).toBeDefined();
        expect(configProblems((c) => (c["compute-region:cluster"].kubernetesVersion = "1.36")).join("\n")).toContain('compute-region:cluster.kubernetesVersion: must be one of 1.31, 1.32, 1.33, 1.34, 1.35 (a quoted string such as "1.34"), got "1.36"');
    });

    it("asks EKS for no add-on version at deploy time: the offline plan has no answer for the look-up", () => {
        const mocks = offlineMocks({ region: "us-east-2", accountId: "111122223333" });
        const call = (inputs: Record<string, unknown>) => mocks.call({ token: "aws:eks/getAddonVersion:getAddonVersion", inputs, provider: "" } as never);
        expect(() => call({ addonName: "kube-proxy", kubernetesVersion: "1.35", mostRecent: true })).toThrow(/no answer for the invoke aws:eks\/getAddonVersion/);
    });

    it("plans 1.35 with every node group, every add-on and the autoscaler at 1.35", async () => {
        const config = devStackConfig();
        config["compute-region:cluster"].kubernetesVersion = "1.35";
        const p = await plan(config);
        for (const grp of ofType(p.resources, TYPES.eksNodeGroup)) expect(grp.props.version).toBe("1.35");
        expect(g(p, "kube-proxy")).toBe("v1.35.3-eksbuild.2");
        for (const addon of Object.values(EKS_ADDONS)) expect(g(p, addon), addon).toBe(addonVersionPin(addon, "1.35"));
        const release = ofType(p.resources, TYPES.helmRelease).find((r) => r.props.chart === "cluster-autoscaler")!;
        expect([release.props.version, release.props.values.image.tag]).toEqual([CLUSTER_AUTOSCALER_PINS["1.35"].chart, CLUSTER_AUTOSCALER_PINS["1.35"].imageTag]);
    });
});

function g(p: OfflinePlanResult, addon: string): unknown {
    return ofType(p.resources, TYPES.eksAddon).find((a) => a.props.addonName === addon)!.props.addonVersion;
}

describe("resize: the desired size moves only when it falls outside the new bounds", () => {
    const live = (minSize: number, maxSize: number, desiredSize: number) => ({ minSize, maxSize, desiredSize });
    it.each([
        ["a raised minimum above the autoscaler's size pulls the desired size up with it", live(2, 4, 2), { minSize: 3, maxSize: 5 }, live(3, 5, 3)],
        ["a raised minimum below the autoscaler's size leaves it alone", live(2, 4, 4), { minSize: 3, maxSize: 5 }, live(3, 5, 4)],
        ["a lowered maximum below the autoscaler's size pulls it down", live(2, 6, 6), { minSize: 2, maxSize: 4 }, live(2, 4, 4)],
        ["a lowered minimum leaves the autoscaler's size", live(3, 5, 3), { minSize: 1, maxSize: 5 }, live(1, 5, 3)],
    ])("%s", (_what, current, wanted, expected) => {
        expect(scalingUpdate(current, wanted)).toEqual(expected);
    });

    it("sends nothing when the bounds already hold", () => {
        expect(scalingUpdate(live(2, 4, 3), { minSize: 2, maxSize: 4 })).toBeUndefined();
    });

    /** An EKS API that answers DescribeNodegroup with `current` and records what it is sent. */
    function fakeEks(current: ReturnType<typeof live>, updateStatuses: string[] = ["Successful"]) {
        const sent: { command: string; input: any }[] = [];
        const commands: EksCommands = {
            describeNodegroup: (input) => ({ input, constructor: { name: "DescribeNodegroupCommand" } }),
            updateNodegroupConfig: (input) => ({ input, constructor: { name: "UpdateNodegroupConfigCommand" } }),
            describeUpdate: (input) => ({ input, constructor: { name: "DescribeUpdateCommand" } }),
        };
        const eks = {
            async send(command: { input: unknown; constructor: { name: string } }) {
                sent.push({ command: command.constructor.name, input: command.input });
                if (command.constructor.name === "DescribeNodegroupCommand") return { nodegroup: { scalingConfig: current } };
                if (command.constructor.name === "UpdateNodegroupConfigCommand") return { update: { id: "u-1", status: "InProgress" } };
                return { update: { id: "u-1", status: updateStatuses.shift() ?? "Successful", errors: [{ errorMessage: "EKS said no" }] } };
            },
        };
        return { eks, commands, sent };
    }
    const inputs = { region: "us-east-2", clusterName: "gpu-dev-use2", nodeGroupName: "shared-abc", minSize: 3, maxSize: 5 };

    it("applies a raised minNodes in one UpdateNodegroupConfig carrying the live desired size, and waits for EKS to finish it", async () => {
        const { eks, commands, sent } = fakeEks(live(2, 4, 2), ["InProgress", "Successful"]);
        expect(await applyScaling(eks, commands, inputs, 0)).toEqual(live(3, 5, 3));
        expect(sent.map((s) => s.command)).toEqual(["DescribeNodegroupCommand", "UpdateNodegroupConfigCommand", "DescribeUpdateCommand", "DescribeUpdateCommand"]);
        expect(sent[1].input).toEqual({ clusterName: "gpu-dev-use2", nodegroupName: "shared-abc", scalingConfig: { minSize: 3, maxSize: 5, desiredSize: 3 } });
    });

    it("calls nothing but DescribeNodegroup when the group already has the bounds, and reports a failed update", async () => {
        const same = fakeEks(live(3, 5, 4));
        expect(await applyScaling(same.eks, same.commands, inputs, 0)).toBeUndefined();
        expect(same.sent.map((s) => s.command)).toEqual(["DescribeNodegroupCommand"]);
        const failed = fakeEks(live(2, 4, 2), ["Failed"]);
        await expect(applyScaling(failed.eks, failed.commands, inputs, 0)).rejects.toThrow("node group shared-abc: scaling update u-1 Failed: EKS said no");
    });

    it("serializes the provider without the AWS SDK (loaded where it runs)", () => {
        const scaling = ofType(dev.resources, TYPES.nodeGroupScaling)[0];
        const text = scaling.props.__provider as string;
        expect(text).toContain('require("@aws-sdk/client-eks")');
        expect(text.length).toBeLessThan(20_000);
    });
});

describe("Capacity Block windows", () => {
    const WINDOW = { startsAt: "2026-10-01T11:30:00Z", endsAt: "2026-10-15T11:30:00Z" };
    /** The dev stack with a shared pool on a two-node Capacity Block, and globex's quota moved onto it. */
    function blockConfig() {
        const config = devStackConfig();
        config["compute-region:gpuPools"].push({ name: "block-h100", role: "shared", instanceType: "p5.48xlarge", minNodes: 2, maxNodes: 2, availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, ...WINDOW } });
        config["compute-region:tenants"][1].quota["block-h100"] = 8;
        config["compute-region:observability"] = { ...config["compute-region:observability"], capacityBlockWarningDays: 5 };
        return config;
    }
    let block: OfflinePlanResult;
    beforeAll(async () => {
        block = await plan(blockConfig());
    });

    it("counts the block's GPUs only inside its window (until EKS scales the group to zero, 40 minutes before its end)", () => {
        const at = (date: string) => planEvidence(block.resources, new Date(date)).capacity.find((c) => c.pool === "block-h100")!;
        expect(at("2026-09-20T00:00:00Z")).toMatchObject({ guaranteed: 16, guaranteedAt: 0, windowPhase: "before", window: WINDOW });
        expect(at("2026-10-05T00:00:00Z")).toMatchObject({ guaranteedAt: 16, windowPhase: "inside" });
        expect(at("2026-10-15T10:49:00Z")).toMatchObject({ guaranteedAt: 16, windowPhase: "inside" });
        expect(at("2026-10-15T10:51:00Z")).toMatchObject({ guaranteedAt: 0, windowPhase: "after" });
    });

    it("fails reserved quota relying on the block after its end, judged at the plan's date; passes inside it", () => {
        expect(judge(block.resources, "capacity-block-quota-within-window", { at: "2026-10-05T00:00:00Z" }).violations).toEqual([]);
        const after = judge(block.resources, "capacity-block-quota-within-window", { at: "2026-10-16T00:00:00Z" }).violations.map((v) => v.message).join("\n");
        expect(after).toContain("pool block-h100's Capacity Block cr-0123456789abcdef0 ends at 2026-10-15T11:30:00Z (EKS scales it to zero 40 minutes before), but reserved quota still relies on it at 2026-10-16T00:00:00.000Z: globex-block-h100 8 GPUs");
    });

    it("alerts the configured number of days before the block ends", () => {
        const rule = ofType(block.resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            .flatMap((r) => r.props.spec.groups.flatMap((grp: { rules: Record<string, any>[] }) => grp.rules))
            .find((x) => x.alert === ALERTS.capacityBlockEnding && x.labels.pool === "block-h100")!;
        const end = Date.parse(WINDOW.endsAt) / 1000;
        expect(rule.expr).toBe(`(vector(time()) >= ${end - 5 * 86_400}) < ${end}`);
        expect(block.resources.find((r) => r.type === TYPES.eksNodeGroup && r.name === "dev-block-h100-nodes")!.props.tags).toMatchObject({ [TAGS.capacityBlockEndsAt]: WINDOW.endsAt });
    });

    it("shows each window in the plan's capacity table, and `--at` moves the date the CLI judges at", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "block-"));
        const file = path.join(dir, "Pulumi.block.yaml");
        fs.writeFileSync(file, toYaml({ config: blockConfig() }));
        const run = (at: string) => planCli(["--stack", "block", "--config-file", file, "--at", at]);
        const inside = await run("2026-10-05T00:00:00Z");
        expect(inside.status, inside.stderr).toBe(0);
        expect(inside.stdout).toMatch(/block-h100 .* 2026-10-01T11:30:00Z to 2026-10-15T11:30:00Z \(inside: 16 GPUs\)/);
        const after = await run("2026-10-16T00:00:00Z");
        expect(after.status).toBe(1);
        expect(after.stdout).toContain("(after: 0 GPUs)");
        expect(after.stdout).toContain("[FAIL] capacity-block-quota-within-window");
        const bad = await run("next tuesday");
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain('--at: "next tuesday" is not an ISO 8601 date-time with a zone');
    });
});
