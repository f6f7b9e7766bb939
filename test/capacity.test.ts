import { describe, expect, it } from "vitest";
import {
    effectiveHeadroom,
    GPU_CATALOG,
    gpuCount,
    gpuInstanceType,
    guaranteedGpus,
    poolCapacity,
    sellableGpus,
    toBasisPoints,
} from "compute-region-policies/model";

describe("GPU catalog", () => {
    it("has the instance types the region offers, with their published figures", () => {
        for (const t of ["p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "p4d.24xlarge", "g6e.48xlarge", "g6e.12xlarge", "g5.48xlarge"]) {
            expect(gpuInstanceType(t), t).toBeDefined();
        }
        expect(GPU_CATALOG["p5.48xlarge"]).toMatchObject({ gpuModel: "h100", gpusPerNode: 8, gpuMemoryGiB: 80, vcpus: 192, memoryGiB: 2048, efaInterfaces: 32 });
        expect(GPU_CATALOG["p5en.48xlarge"]).toMatchObject({ gpuModel: "h200", gpuMemoryGiB: 141, efaInterfaces: 16 });
        expect(GPU_CATALOG["p4d.24xlarge"]).toMatchObject({ gpuModel: "a100", gpusPerNode: 8, gpuMemoryGiB: 40, vcpus: 96, memoryGiB: 1152, efaInterfaces: 4 });
        expect(GPU_CATALOG["g6e.12xlarge"]).toMatchObject({ gpuModel: "l40s", gpusPerNode: 4, vcpus: 48, memoryGiB: 384 });
        expect(GPU_CATALOG["g5.48xlarge"]).toMatchObject({ gpuModel: "a10g", gpusPerNode: 8, gpuMemoryGiB: 24 });
    });

    it("knows nothing else, not even inherited names", () => {
        expect(gpuInstanceType("p3.2xlarge")).toBeUndefined();
        expect(gpuInstanceType("constructor")).toBeUndefined();
    });

    it("is consistent: every entry has GPUs, memory and CPUs", () => {
        for (const e of Object.values(GPU_CATALOG)) {
            expect(e.gpusPerNode).toBeGreaterThan(0);
            expect(e.memoryGiB).toBeGreaterThan(e.gpusPerNode * 8);
            expect(e.localNvmeGB).toBeGreaterThan(0);
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
