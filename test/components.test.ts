import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { capacityFromResources, K8S_TYPES, LABELS, TYPES } from "compute-region-policies/model";
import { evaluatePolicies } from "compute-region-policies/engine";
import { policies } from "compute-region-policies/rules";
import { GpuNodeGroup, GpuNodeGroupArgs } from "../components/gpu-node-group";
import { Tenant, TenantArgs } from "../components/tenant";
import { ofType, one, planComponents } from "./helpers";

/** GpuNodeGroup and Tenant built on their own, as another program would use them. */

const groupArgs = (extra: Partial<GpuNodeGroupArgs> = {}): GpuNodeGroupArgs => ({
    clusterName: "unit",
    poolName: "pool",
    role: "shared",
    instanceType: "g6e.12xlarge",
    minNodes: 1,
    maxNodes: 2,
    subnetIds: ["subnet-a"],
    nodeRoleArn: "arn:aws:iam::111122223333:role/node",
    clusterSecurityGroupId: "sg-cluster",
    rootVolumeGiB: 200,
    placementGroup: false,
    vpcId: "vpc-1",
    tags: { team: "unit" },
    ...extra,
});

describe("GpuNodeGroup on its own", () => {
    it("a dedicated pool gets a security group open only to itself, tagged with its tenant, and a taint naming the tenant", async () => {
        const p = await planComponents(() => new GpuNodeGroup("acme", groupArgs({ poolName: "acme-l40s", role: "dedicated", tenant: "acme", instanceType: "g5.48xlarge" })));
        const sg = one(p.resources, TYPES.securityGroup);
        expect(sg.props.tags).toMatchObject({ "compute-region:tenant": "acme", "compute-region:pool": "acme-l40s", team: "unit" });
        expect(sg.props.ingress).toEqual([expect.objectContaining({ self: true })]);
        const group = one(p.resources, TYPES.eksNodeGroup);
        expect(group.props.labels).toMatchObject({ "compute-region.io/pool": "acme-l40s", "compute-region.io/role": "dedicated", "compute-region.io/tenant": "acme", "compute-region.io/gpu-model": "a10g" });
        expect(group.props.taints).toEqual([{ key: "compute-region.io/tenant", value: "acme", effect: "NO_SCHEDULE" }]);
        // g5.48xlarge has one EFA card: the primary interface is EFA, in both groups.
        const lt = one(p.resources, TYPES.launchTemplate);
        expect(lt.props.networkInterfaces).toHaveLength(1);
        expect(lt.dependencies).toContain(sg.urn);
    });

    it("a pool without EFA or its own group leaves the network to EKS; a shared pool has no group of its own", async () => {
        const p = await planComponents(() => new GpuNodeGroup("shared", groupArgs({ instanceType: "g6e.12xlarge" })));
        expect(ofType(p.resources, TYPES.securityGroup)).toEqual([]);
        const lt = one(p.resources, TYPES.launchTemplate);
        // g6e.12xlarge has one EFA interface: EFA with ENA on the primary card.
        expect(lt.props.networkInterfaces.map((n: { interfaceType: string }) => n.interfaceType)).toEqual(["efa"]);
        expect(one(p.resources, TYPES.eksNodeGroup).props.scalingConfig).toEqual({ minSize: 1, maxSize: 2, desiredSize: 1 });
    });

    it("a Capacity Block pool names its instance type in the launch template only, and the capacity model still reads it", async () => {
        const p = await planComponents(() => new GpuNodeGroup("block", groupArgs({ instanceType: "p5.48xlarge", capacityReservation: { id: "cr-0123456789abcdef0", type: "capacity-block" } })));
        const group = one(p.resources, TYPES.eksNodeGroup);
        expect(group.props.capacityType).toBe("CAPACITY_BLOCK");
        expect(group.props.instanceTypes).toBeUndefined();
        const lt = one(p.resources, TYPES.launchTemplate);
        expect(lt.props).toMatchObject({ instanceType: "p5.48xlarge", instanceMarketOptions: { marketType: "capacity-block" } });
        const [pool] = capacityFromResources(p.resources);
        expect(pool).toMatchObject({ pool: "pool", instanceType: "p5.48xlarge", guaranteed: 8 });
        const verdict = evaluatePolicies(p.resources, { policies: policies.filter((x) => x.name === "capacity-blocks-launch-correctly") });
        expect(verdict.violations).toEqual([]);
        expect(verdict.notRun).toEqual([]);
    });

    it("an EFA pool labels its nodes for the EFA device plugin (every catalog type has EFA)", async () => {
        const efa = await planComponents(() => new GpuNodeGroup("efa", groupArgs({ instanceType: "p5.48xlarge" })));
        expect(one(efa.resources, TYPES.eksNodeGroup).props.labels).toMatchObject({ [LABELS.efa]: "true" });
    });

    it.each([
        ["an instance type outside the catalog", { instanceType: "m5.large" }, "m5.large is not in the GPU catalog"],
        ["a dedicated pool without its tenant", { role: "dedicated" as const }, "a dedicated pool needs its tenant"],
        ["a placement group on reserved capacity", { placementGroup: true, capacityReservation: { id: "cr-0123456789abcdef0", type: "on-demand" as const } }, "cannot be forced on reserved capacity"],
        ["fewer maximum than minimum nodes", { minNodes: 3, maxNodes: 2 }, "maxNodes 2 is below minNodes 3"],
    ])("refuses %s, naming the component", async (_what, extra, message) => {
        await expect(planComponents(() => new GpuNodeGroup("bad", groupArgs(extra)))).rejects.toThrow(new RegExp(`GpuNodeGroup bad: .*${message}`));
    });
});

const tenantArgs = (extra: Partial<TenantArgs> = {}): TenantArgs => ({
    name: "acme",
    state: "active",
    quotas: [{ pool: "shared-h100", reserved: 8, spot: 4 }],
    members: ["arn:aws:iam::111122223333:role/Acme"],
    internetEgress: false,
    allowCidrs: [],
    vpcCidr: "10.0.0.0/16",
    serviceCidr: "172.20.0.0/16",
    limits: { cpu: 16, memoryGiB: 64, storageGiB: 100, pods: 50 },
    clusterName: "unit",
    tags: {},
    ...extra,
});

/** A Tenant with its own Kubernetes provider, as a program outside the region would give it. */
function tenant(extra: Partial<TenantArgs> = {}) {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        new Tenant("acme", tenantArgs(extra), { providers: { kubernetes: provider } });
    };
}

describe("Tenant on its own", () => {
    it("uses the Kubernetes provider it is given for every object, and makes a queue pair per pool with reserved as nominal and spot as borrowing", async () => {
        const p = await planComponents(tenant());
        const provider = one(p.resources, TYPES.k8sProvider);
        for (const r of p.resources.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.opts?.provider, r.name).toBe(provider.urn);
        const queue = one(p.resources, K8S_TYPES.clusterQueue);
        expect(queue.props.spec.cohort).toBe("pool-shared-h100");
        expect(queue.props.spec.resourceGroups[0].flavors[0].resources[0]).toEqual({ name: "nvidia.com/gpu", nominalQuota: 8, borrowingLimit: 4, lendingLimit: 0 });
        expect(one(p.resources, K8S_TYPES.localQueue).props.spec.clusterQueue).toBe("acme-shared-h100");
        expect(one(p.resources, K8S_TYPES.namespace).opts?.protect).toBe(true);
        expect(one(p.resources, TYPES.eksAccessEntry).props.kubernetesGroups).toEqual(["tenant:acme:members"]);
    });

    it("opens the internet only when asked, and a shard tenant's queues join the shard's cohort", async () => {
        const closed = await planComponents(tenant());
        const names = (p: typeof closed) => ofType(p.resources, K8S_TYPES.networkPolicy).map((n) => n.props.metadata.name).sort();
        expect(names(closed)).not.toContain("allow-internet-egress");
        const open = await planComponents(tenant({ internetEgress: true, shard: "a" }));
        expect(names(open)).toContain("allow-internet-egress");
        expect(one(open.resources, K8S_TYPES.clusterQueue).props.spec.cohort).toBe("shard-a-shared-h100");
        expect(one(open.resources, K8S_TYPES.namespace).props.metadata.labels["compute-region.io/shard"]).toBe("a");
    });

    it("a decommissioned tenant keeps only its isolated, unprotected namespace", async () => {
        const p = await planComponents(tenant({ state: "decommissioned", internetEgress: true }));
        expect(one(p.resources, K8S_TYPES.namespace).opts?.protect).toBe(false);
        expect(ofType(p.resources, K8S_TYPES.clusterQueue)).toEqual([]);
        expect(ofType(p.resources, K8S_TYPES.roleBinding)).toEqual([]);
        expect(ofType(p.resources, TYPES.eksAccessEntry)).toEqual([]);
        expect(ofType(p.resources, K8S_TYPES.networkPolicy).map((n) => n.props.metadata.name)).not.toContain("allow-internet-egress");
    });
});
