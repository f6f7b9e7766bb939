import { gpuInstanceType } from "./gpu-catalog";

/**
 * The capacity model: how many GPUs a pool guarantees, how many the company keeps as headroom, how
 * many can be sold as reserved quota and how many are still free to sell. Pure functions, shared by
 * the program (to size queues and reject bad configs), the policies (to prove the headroom from the
 * resources) and the plan (the capacity table).
 *
 * Spot use (tenants borrowing idle capacity, reclaimable at any time) is not sold capacity and does
 * not appear here.
 */

/** `internal`: the company's own work; `serving`: hosted models (sold as tokens, not GPUs);
 * `shared`: tenant reserved quota beside internal headroom; `dedicated`: one tenant's whole pool. */
export type PoolRole = "internal" | "serving" | "shared" | "dedicated";
export const POOL_ROLES: readonly PoolRole[] = ["internal", "serving", "shared", "dedicated"];

/** Headroom a shared pool keeps when its config says nothing. */
export const DEFAULT_HEADROOM = 0.2;
/** The least headroom any stack may configure, in config and in the policy's config. */
export const MIN_HEADROOM = 0.05;

/** Fractions are handled in basis points so that, e.g., 10 GPUs at headroom 0.9 leave 1, not 0.999... */
const BASIS = 10_000;

export function toBasisPoints(fraction: number): number {
    if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) throw new RangeError(`headroom must be between 0 and 1, got ${fraction}`);
    return Math.round(fraction * BASIS);
}

/** GPUs a pool guarantees: its minimum node count times GPUs per node. */
export function guaranteedGpus(minNodes: number, gpusPerNode: number): number {
    if (!Number.isInteger(minNodes) || minNodes < 0) throw new RangeError(`minNodes must be a whole number >= 0, got ${minNodes}`);
    return minNodes * gpusPerNode;
}

/** The headroom fraction that applies to a pool of this role: only shared pools choose theirs. */
export function effectiveHeadroom(role: PoolRole, configured: number | undefined): number {
    switch (role) {
        case "internal":
        case "serving":
            return 1;
        case "dedicated":
            return 0;
        case "shared":
            return configured ?? DEFAULT_HEADROOM;
    }
}

/** GPUs that may be sold as reserved quota: floor(guaranteed x (1 - headroom)). */
export function sellableGpus(guaranteed: number, headroom: number): number {
    return Math.floor((guaranteed * (BASIS - toBasisPoints(headroom))) / BASIS);
}

export interface PoolShape {
    name: string;
    role: PoolRole;
    instanceType: string;
    minNodes: number;
    maxNodes: number;
    /** Shared pools only: the fraction of guaranteed GPUs never sold. */
    headroom?: number;
}

export interface PoolCapacity {
    pool: string;
    role: PoolRole;
    instanceType: string;
    gpuModel: string;
    minNodes: number;
    maxNodes: number;
    gpusPerNode: number;
    /** min nodes x GPUs per node. */
    guaranteed: number;
    /** The headroom fraction applied. */
    headroom: number;
    /** GPUs kept for internal work: guaranteed - sellable. */
    headroomGpus: number;
    sellable: number;
    /** Reserved GPU quota sold to tenants. */
    sold: number;
    /** sellable - sold; negative when the pool is oversold. */
    free: number;
    /** max nodes x GPUs per node: what autoscaling can reach. */
    maxGpus: number;
}

export function poolCapacity(pool: PoolShape, sold: number): PoolCapacity {
    const type = gpuInstanceType(pool.instanceType);
    if (!type) throw new RangeError(`pool ${pool.name}: ${pool.instanceType} is not in the GPU catalog`);
    const guaranteed = guaranteedGpus(pool.minNodes, type.gpusPerNode);
    const headroom = effectiveHeadroom(pool.role, pool.headroom);
    const sellable = sellableGpus(guaranteed, headroom);
    return {
        pool: pool.name,
        role: pool.role,
        instanceType: pool.instanceType,
        gpuModel: type.gpuModel,
        minNodes: pool.minNodes,
        maxNodes: pool.maxNodes,
        gpusPerNode: type.gpusPerNode,
        guaranteed,
        headroom,
        headroomGpus: guaranteed - sellable,
        sellable,
        sold,
        free: sellable - sold,
        maxGpus: pool.maxNodes * type.gpusPerNode,
    };
}

/** Whole GPUs from a Kubernetes quantity (number or string); undefined when it is not a whole count. */
export function gpuCount(quantity: unknown): number | undefined {
    if (typeof quantity === "number") return Number.isInteger(quantity) && quantity >= 0 ? quantity : undefined;
    if (typeof quantity === "string" && /^\d+$/.test(quantity)) return Number(quantity);
    return undefined;
}
