import { beforeAll, describe, expect, it } from "vitest";
import { capacityFromResources, K8S_TYPES, MIN_HEADROOM, TYPES } from "compute-region-policies/model";
import { evaluatePolicies } from "compute-region-policies/engine";
import { policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { configProblems, devStackConfig, ofType, one, plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const byPool = (pool: string) => (r: { props: Record<string, any> }) => r.props.labels?.["compute-region.io/pool"] === pool;

describe("GPU node groups", () => {
    it("run the EKS NVIDIA AMI with the pool's labels and role taint", () => {
        const groups = ofType(dev.resources, TYPES.eksNodeGroup).filter((g) => g.props.labels?.["compute-region.io/pool"]);
        expect(groups.map((g) => g.props.labels["compute-region.io/pool"]).sort()).toEqual(["acme-l40s", "internal-l40s", "serving-l40s", "shared-l40s"]);
        for (const g of groups) {
            expect(g.props.amiType).toBe("AL2023_x86_64_NVIDIA");
            expect(g.props.capacityType).toBe("ON_DEMAND");
            const role = g.props.labels["compute-region.io/role"];
            const taint = role === "dedicated" ? { key: "compute-region.io/tenant", value: "acme", effect: "NO_SCHEDULE" } : { key: "compute-region.io/pool-role", value: role, effect: "NO_SCHEDULE" };
            expect(g.props.taints).toEqual([taint]);
            expect(g.props.labels["compute-region.io/gpu-model"]).toBe("l40s");
        }
    });

    it("launch with IMDSv2 hop limit 1, an encrypted root volume, NVMe as RAID0 and EFA where the type has it", () => {
        const templates = ofType(dev.resources, TYPES.launchTemplate).filter((t) => t.name.includes("-l40s"));
        expect(templates).toHaveLength(4);
        for (const t of templates) {
            expect(t.props.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
            expect(t.props.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: "true", volumeSize: 500 });
            expect(Buffer.from(t.props.userData, "base64").toString()).toContain("strategy: RAID0");
        }
        // g6e.48xlarge: 4 EFA cards; primary EFA with ENA, the rest EFA-only at device index 1.
        const shared = one(dev.resources, TYPES.launchTemplate, "dev-shared-l40s-lt");
        expect(shared.props.networkInterfaces.map((n: any) => [n.networkCardIndex, n.deviceIndex, n.interfaceType])).toEqual([
            [0, 0, "efa"],
            [1, 1, "efa-only"],
            [2, 1, "efa-only"],
            [3, 1, "efa-only"],
        ]);
        expect(shared.props.placement).toBeUndefined();
    });

    it("target a Capacity Block with the capacity-block market and capacity type, in one AZ", async () => {
        const config = devStackConfig();
        config["compute-region:gpuPools"].push({ name: "train-h100", role: "internal", instanceType: "p5.48xlarge", minNodes: 0, maxNodes: 2, availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, startsAt: "2026-10-01T11:30:00Z", endsAt: "2026-10-15T11:30:00Z" } });
        config["compute-region:gpuPools"].push({ name: "ring-h100", role: "internal", instanceType: "p5.48xlarge", minNodes: 1, maxNodes: 1, availabilityZones: ["us-east-2b"], placementGroup: true });
        const p = await plan(config);
        const block = ofType(p.resources, TYPES.eksNodeGroup).find(byPool("train-h100"))!;
        expect(block.props.capacityType).toBe("CAPACITY_BLOCK");
        expect(block.props.subnetIds).toHaveLength(1);
        // The node group declares the block, its size and its window: the capacity model and the policies read them.
        expect(block.props.tags).toMatchObject({ "compute-region:capacity-reservation": "cr-0123456789abcdef0", "compute-region:reserved-instances": "2", "compute-region:capacity-block-starts-at": "2026-10-01T11:30:00Z", "compute-region:capacity-block-ends-at": "2026-10-15T11:30:00Z" });
        const lt = one(p.resources, TYPES.launchTemplate, "dev-train-h100-lt");
        expect(lt.props.instanceMarketOptions).toEqual({ marketType: "capacity-block" });
        expect(lt.props.capacityReservationSpecification).toEqual({ capacityReservationTarget: { capacityReservationId: "cr-0123456789abcdef0" } });
        expect(lt.props.placement).toBeUndefined();
        expect(lt.props.networkInterfaces).toHaveLength(32);
        expect(ofType(p.resources, "aws:ec2/placementGroup:PlacementGroup").map((g) => g.name)).toEqual(["dev-ring-h100-placement"]);
        expect(one(p.resources, "aws:ec2/placementGroup:PlacementGroup").props.strategy).toBe("cluster");
    });
});

describe("quota machinery", () => {
    it("installs pinned Helm charts: Kueue managing pods without a queue name, the NVIDIA and EFA device plugins tolerating GPU taints", () => {
        const releases = Object.fromEntries(ofType(dev.resources, TYPES.helmRelease).map((r) => [r.props.name, r.props]));
        expect(Object.keys(releases)).toEqual(expect.arrayContaining(["aws-efa-k8s-device-plugin", "kueue", "nvidia-device-plugin"]));
        for (const r of Object.values(releases) as { version: string }[]) expect(r.version).toMatch(/^v?\d+\.\d+\.\d+$/);
        const kueueConfig = releases.kueue.values.managerConfig.controllerManagerConfigYaml as string;
        expect(kueueConfig).toContain("manageJobsWithoutQueueName: true");
        expect(releases["nvidia-device-plugin"].values.tolerations).toEqual(
            expect.arrayContaining([expect.objectContaining({ key: "compute-region.io/pool-role", operator: "Exists" }), expect.objectContaining({ key: "compute-region.io/tenant", operator: "Exists" })]),
        );
    });

    it("makes a flavor and a cohort per pool, and internal queues that never lend the headroom", () => {
        const flavors = ofType(dev.resources, K8S_TYPES.resourceFlavor).map((f) => f.props.metadata.name);
        expect(flavors.sort()).toEqual(["acme-l40s", "internal-l40s", "serving-l40s", "shared-l40s"]);
        const queues = Object.fromEntries(ofType(dev.resources, K8S_TYPES.clusterQueue).map((q) => [q.props.metadata.name, q.props.spec]));
        expect(queues["internal-shared-l40s"].cohort).toBe("pool-shared-l40s");
        expect(queues["internal-shared-l40s"].resourceGroups[0].flavors[0].resources[0]).toEqual({ name: "nvidia.com/gpu", nominalQuota: 6, lendingLimit: 2 }); // 16 guaranteed - 10 sold; 4 of headroom never lent
        expect(queues["internal-internal-l40s"].resourceGroups[0].flavors[0].resources[0]).toEqual({ name: "nvidia.com/gpu", nominalQuota: 4, lendingLimit: 0 });
        expect(queues["internal-shared-l40s"].preemption.reclaimWithinCohort).toBe("Any");
    });

    it("orders PriorityClasses: every tenant value below every internal one, tenants never preempt", () => {
        const classes = ofType(dev.resources, K8S_TYPES.priorityClass).map((c) => c.props);
        const tenant = classes.filter((c) => c.metadata.labels["compute-region.io/priority-tier"] === "tenant");
        const internal = classes.filter((c) => ["internal", "serving"].includes(c.metadata.labels["compute-region.io/priority-tier"]));
        expect(Math.max(...tenant.map((c) => c.value))).toBeLessThan(Math.min(...internal.map((c) => c.value)));
        // Batch inference sits below every tenant class, and never preempts either.
        const batch = classes.filter((c) => c.metadata.labels["compute-region.io/priority-tier"] === "batch");
        expect(batch.map((c) => [c.metadata.name, c.value, c.preemptionPolicy])).toEqual([["batch-inference", -100, "Never"]]);
        expect(Math.max(...batch.map((c) => c.value))).toBeLessThan(Math.min(...tenant.map((c) => c.value)));
        expect(tenant.length + internal.length + batch.length).toBe(classes.length);
        for (const c of tenant) expect(c.preemptionPolicy).toBe("Never");
        for (const c of classes) {
            expect(c.value).toBeLessThanOrEqual(1_000_000_000);
            expect(c.globalDefault).toBe(false);
        }
    });
});

describe("capacity table", () => {
    it("is the same from the resources (plan, policy) and from the config (stack output)", () => {
        const fromResources = capacityFromResources(dev.resources).map(({ problems: _p, nodeGroups: _n, queues: _q, declaredHeadroom: _d, tenant: _t, ...row }) => row);
        const fromConfig = [...(dev.outputs.capacity as Record<string, unknown>[])].sort((a, b) => String(a.pool).localeCompare(String(b.pool)));
        expect(fromResources).toEqual(fromConfig);
        expect(fromResources.find((r) => r.pool === "shared-l40s")).toMatchObject({ guaranteed: 16, headroom: 0.25, headroomGpus: 4, sellable: 12, sold: 10, free: 2 });
        expect(fromResources.find((r) => r.pool === "acme-l40s")).toMatchObject({ role: "dedicated", guaranteed: 4, sellable: 4, sold: 4, free: 0 });
    });
});

describe("the headroom floor", () => {
    it("is one: a shared pool at the least headroom config accepts passes gpu-headroom-preserved with no policy config", async () => {
        const config = devStackConfig();
        config["compute-region:gpuPools"][1].headroom = MIN_HEADROOM;
        // 16 guaranteed at 5% keeps 1: 15 sellable; 14 sold would be oversold at the old 20% floor.
        config["compute-region:tenants"][0].quota["shared-l40s"] = 10;
        const atFloor = await plan(config);
        const result = evaluatePolicies(atFloor.resources, { policies: policies.filter((p) => p.name === "gpu-headroom-preserved") });
        expect(result.errors).toEqual([]);
        expect(result.violations).toEqual([]);
        // Raised in policy config, the floor is reported in the words config uses.
        const raised = evaluatePolicies(atFloor.resources, { policies: policies.filter((p) => p.name === "gpu-headroom-preserved"), config: { "gpu-headroom-preserved": { headroom: 0.2 } } });
        expect(raised.violations.map((v) => v.message)).toContain(
            "No GPU pool sells more reserved quota than its sellable GPUs; the internal headroom is never sold or lent; a serving pool sells as dedicated endpoints only what its shared models do not keep.\npool shared-l40s: headroom 5% is below the floor of 20%: at least that share of a shared pool's guaranteed GPUs is never sold",
        );
    });
});

describe("pool config errors", () => {
    const problems = (mutate: (pools: any[]) => void) => configProblems((c) => mutate(c["compute-region:gpuPools"]));
    it.each([
        ["an instance type outside the catalog", (p: any[]) => (p[0].instanceType = "p3.16xlarge"), 'Pulumi.dev.yaml: compute-region:gpuPools[0] (internal-l40s).instanceType: must be a GPU instance type in the catalog (p5.48xlarge, p5e.48xlarge, p5en.48xlarge, p4d.24xlarge, g6e.48xlarge, g6e.12xlarge, g5.48xlarge), got "p3.16xlarge"'],
        ["a dedicated pool without its tenant", (p: any[]) => (p[1].role = "dedicated"), "compute-region:gpuPools[1] (shared-l40s).tenant: is required for a dedicated pool"],
        ["headroom below the floor", (p: any[]) => (p[1].headroom = 0.01), "compute-region:gpuPools[1] (shared-l40s).headroom: headroom 1% is below the floor of 5%: at least that share of a shared pool's guaranteed GPUs is never sold, got 0.01"],
        ["headroom on an internal pool", (p: any[]) => (p[0].headroom = 0.3), "compute-region:gpuPools[0] (internal-l40s).headroom: must be unset for an internal pool"],
        ["a placement group across AZs", (p: any[]) => (p[1].placementGroup = true), "compute-region:gpuPools[1] (shared-l40s).placementGroup: needs exactly one availability zone"],
        ["a repeated pool name", (p: any[]) => (p[2].name = p[0].name), 'compute-region:gpuPools[2] (internal-l40s).name: must be unique: already used at [0], got "internal-l40s"'],
        ["an unknown role", (p: any[]) => (p[0].role = "batch"), 'compute-region:gpuPools[0] (internal-l40s).role: must be one of internal, serving, shared, dedicated, got "batch"'],
        ["a placement group on a Capacity Block", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], placementGroup: true, capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, startsAt: "2026-10-01T11:30:00Z", endsAt: "2026-10-15T11:30:00Z" } }), "must be false with a capacity reservation or Capacity Block"],
        ["a reservation without its size", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand" } }), "compute-region:gpuPools[0] (internal-l40s).capacityReservation.instances: is required"],
        ["more nodes than the reservation holds", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], maxNodes: 3, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 2 } }), "compute-region:gpuPools[0] (internal-l40s).maxNodes: must keep the pool within the 2 instances reservation cr-0123456789abcdef0 holds: the autoscaler never scales past the reservation, got 3"],
        [
            "two pools that together outgrow one reservation",
            (p: any[]) => {
                Object.assign(p[0], { availabilityZones: ["us-east-2a"], maxNodes: 2, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 3 } });
                Object.assign(p[2], { availabilityZones: ["us-east-2a"], maxNodes: 2, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 3 } });
            },
            "compute-region:gpuPools[2] (serving-l40s).maxNodes: must keep the pool within the 3 instances reservation cr-0123456789abcdef0 holds with internal-l40s (which target the same reservation), maxNodes add up to 4",
        ],
        ["a Capacity Block without its window", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2 } }), "compute-region:gpuPools[0] (internal-l40s).capacityReservation.startsAt: startsAt is required: the block's start, ISO 8601 with a zone (such as 2026-10-01T11:30:00Z): a Capacity Block pool names the block's window"],
        ["a window without a zone", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, startsAt: "2026-10-01T11:30:00", endsAt: "2026-10-15T11:30:00Z" } }), 'capacityReservation.startsAt: startsAt "2026-10-01T11:30:00" is not an ISO 8601 date-time with a zone (such as 2026-10-01T11:30:00Z): a Capacity Block pool names the block\'s window, got "2026-10-01T11:30:00"'],
        ["an impossible date", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, startsAt: "2026-02-30T11:30:00Z", endsAt: "2026-10-15T11:30:00Z" } }), 'startsAt "2026-02-30T11:30:00Z" is not an ISO 8601 date-time'],
        ["a window that ends before it starts", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block", instances: 2, startsAt: "2026-10-15T11:30:00Z", endsAt: "2026-10-01T11:30:00Z" } }), "capacityReservation.endsAt: endsAt 2026-10-01T11:30:00Z is not after startsAt 2026-10-15T11:30:00Z"],
        ["a window on an on-demand reservation", (p: any[]) => Object.assign(p[0], { availabilityZones: ["us-east-2a"], capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand", instances: 2, endsAt: "2026-10-15T11:30:00Z" } }), "capacityReservation.endsAt: must be unset for an on-demand reservation (only a Capacity Block has a window)"],
    ])("rejects %s", (_w, mutate, expected) => {
        const found = problems(mutate);
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
    });
});
