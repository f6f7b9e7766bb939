import { describe, expect, it } from "vitest";
import {
    effectiveHeadroom,
    GPU_CATALOG,
    gpuCount,
    gpuInstanceType,
    guaranteedGpus,
    poolCapacity,
    regionCapacity,
    sellableGpus,
    soldGpus,
    tenantPoolQuotas,
    toBasisPoints,
} from "compute-region-policies/model";

describe("GPU catalog", () => {
    it("knows nothing else, not even inherited names", () => {
        expect(gpuInstanceType("p3.2xlarge")).toBeUndefined();
        expect(gpuInstanceType("constructor")).toBeUndefined();
    });

    it("is consistent: every entry has GPUs, memory, CPUs and NVMe to share out per GPU, and a label-safe model name", () => {
        for (const e of Object.values(GPU_CATALOG)) {
            expect(e.gpusPerNode).toBeGreaterThan(0);
            // A model server takes 80% of a node's per-GPU CPU and memory: there must be whole units to share.
            expect(Math.floor((e.vcpus / e.gpusPerNode) * 0.8), e.instanceType).toBeGreaterThanOrEqual(1);
            expect(e.memoryGiB).toBeGreaterThan(e.gpusPerNode * 8);
            expect(e.localNvmeGB).toBeGreaterThan(0);
            expect(e.gpuModel).toMatch(/^[a-z0-9]+$/);
        }
    });
});

describe("capacity model", () => {
    it("guarantees min nodes x GPUs per node, zero for a zero-node pool", () => {
        expect(guaranteedGpus(2, 8)).toBe(16);
        expect(guaranteedGpus(0, 8)).toBe(0);
        expect(() => guaranteedGpus(-1, 8)).toThrow(RangeError);
        expect(() => guaranteedGpus(1.5, 8)).toThrow(RangeError);
    });

    it("sells floor(guaranteed x (1 - headroom)) with exact rounding", () => {
        expect(sellableGpus(16, 0.2)).toBe(12); // 12.8 -> 12
        expect(sellableGpus(16, 0.25)).toBe(12);
        expect(sellableGpus(10, 0.9)).toBe(1); // not 0.999... -> 0
        expect(sellableGpus(10, 0.7)).toBe(3);
        expect(sellableGpus(3, 0.5)).toBe(1);
        expect(sellableGpus(16, 0)).toBe(16);
        expect(sellableGpus(16, 1)).toBe(0);
        expect(sellableGpus(0, 0.2)).toBe(0);
        expect(() => toBasisPoints(1.2)).toThrow(RangeError);
        expect(() => toBasisPoints(-0.1)).toThrow(RangeError);
        expect(() => toBasisPoints(Number.NaN)).toThrow(RangeError);
    });

    it("lets only shared pools choose their headroom", () => {
        expect(effectiveHeadroom("internal", 0.1)).toBe(1);
        expect(effectiveHeadroom("serving", undefined)).toBe(1);
        expect(effectiveHeadroom("dedicated", 0.5)).toBe(0);
        expect(effectiveHeadroom("shared", undefined)).toBe(0.2);
        expect(effectiveHeadroom("shared", 0.3)).toBe(0.3);
    });

    it("computes a pool's table row, free going negative when oversold", () => {
        const row = poolCapacity({ name: "shared-h100", role: "shared", instanceType: "p5.48xlarge", minNodes: 2, maxNodes: 4, headroom: 0.2 }, 13);
        expect(row).toMatchObject({ guaranteed: 16, headroomGpus: 4, sellable: 12, sold: 13, free: -1, maxGpus: 32, gpuModel: "h100" });
        expect(poolCapacity({ name: "i", role: "internal", instanceType: "g6e.12xlarge", minNodes: 1, maxNodes: 1 }, 0)).toMatchObject({ guaranteed: 4, sellable: 0, headroomGpus: 4 });
        expect(poolCapacity({ name: "d", role: "dedicated", instanceType: "g5.48xlarge", minNodes: 0, maxNodes: 2 }, 0)).toMatchObject({ guaranteed: 0, sellable: 0, free: 0 });
        expect(() => poolCapacity({ name: "x", role: "shared", instanceType: "m5.large", minNodes: 1, maxNodes: 1 }, 0)).toThrow(/not in the GPU catalog/);
    });

    it("reads whole GPU counts from Kubernetes quantities only", () => {
        expect(gpuCount(8)).toBe(8);
        expect(gpuCount("8")).toBe(8);
        expect(gpuCount("500m")).toBeUndefined();
        expect(gpuCount(1.5)).toBeUndefined();
        expect(gpuCount(-1)).toBeUndefined();
        expect(gpuCount(undefined)).toBeUndefined();
    });
});

describe("what is sold", () => {
    const pools = [
        { name: "shared-h100", role: "shared" as const, instanceType: "p5.48xlarge", minNodes: 2, maxNodes: 4, headroom: 0.25 },
        { name: "acme-h100", role: "dedicated" as const, tenant: "acme", instanceType: "p5.48xlarge", minNodes: 1, maxNodes: 1 },
    ];
    const acme = { name: "acme", state: "active" as const, quota: { "shared-h100": 4 }, spot: {} };

    it("gives a dedicated pool's tenant the whole pool unless its quota names a figure, and spot-only pools no reservation", () => {
        expect(tenantPoolQuotas(acme, pools)).toEqual([
            { pool: "shared-h100", reserved: 4, spot: 0 },
            { pool: "acme-h100", reserved: 8, spot: 0 },
        ]);
        expect(tenantPoolQuotas({ ...acme, quota: { "acme-h100": 2 } }, pools)).toEqual([{ pool: "acme-h100", reserved: 2, spot: 0 }]);
        expect(tenantPoolQuotas({ name: "globex", quota: {}, spot: { "shared-h100": 3 } }, pools)).toEqual([{ pool: "shared-h100", reserved: 0, spot: 3 }]);
    });

    it("counts only active tenants' reservations, and a platform's shard budgets, as sold", () => {
        const globex = { name: "globex", state: "suspended" as const, quota: { "shared-h100": 6 }, spot: {} };
        expect(Object.fromEntries(soldGpus(pools, [acme, globex]))).toEqual({ "shared-h100": 4, "acme-h100": 8 });
        expect(Object.fromEntries(soldGpus(pools, [], [{ "shared-h100": 5 }, { "shared-h100": 3 }]))).toEqual({ "shared-h100": 8 });
        const [shared] = regionCapacity(pools, [acme], [{ "shared-h100": 9 }]);
        // 16 guaranteed, 25% headroom keeps 4: 12 sellable, 13 sold.
        expect(shared).toMatchObject({ sellable: 12, sold: 13, free: -1 });
    });
});
