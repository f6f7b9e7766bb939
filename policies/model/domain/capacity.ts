import type { TenantState } from "./conventions";
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

/** What a GPU pool is for (an `as const` set, so Pulumi's schema inference serves it as an enum). */
export const PoolRole = {
    /** The company's own work. */
    Internal: "internal",
    /** Hosted models (sold as tokens, and as the GPUs of tenants' dedicated endpoints). */
    Serving: "serving",
    /** Tenants' reserved quota beside the internal headroom. */
    Shared: "shared",
    /** One tenant's whole pool. */
    Dedicated: "dedicated",
} as const;
/** `internal`: the company's own work; `serving`: hosted models (sold as tokens, and as the GPUs of
 * tenants' dedicated endpoints beyond what the shared models keep); `shared`: tenant reserved quota
 * beside internal headroom; `dedicated`: one tenant's whole pool. */
export type PoolRole = (typeof PoolRole)[keyof typeof PoolRole];
export const POOL_ROLES: readonly PoolRole[] = Object.values(PoolRole);

/** Headroom a shared pool keeps when its config says nothing. */
export const DEFAULT_HEADROOM = 0.2;
/**
 * The floor: the least headroom a shared pool may keep. The one source for it: config rejects a pool
 * below it and gpu-headroom-preserved checks it unless its policy config raises it.
 */
export const MIN_HEADROOM = 0.05;

/** A fraction as a percentage, to two decimals: 0.2 is `20%`. */
export function percent(fraction: number): string {
    return `${Math.round(fraction * 10000) / 100}%`;
}

/** Why a shared pool's headroom is not allowed, in the words config and the policy both use; undefined when it is. */
export function headroomFloorProblem(headroom: number, floor = MIN_HEADROOM): string | undefined {
    if (headroom >= floor) return undefined;
    return `headroom ${percent(headroom)} is below the floor of ${percent(floor)}: at least that share of a shared pool's guaranteed GPUs is never sold`;
}

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

/**
 * The headroom fraction that applies to a pool of this role. Shared pools choose theirs; a serving
 * pool's is what its shared models keep (all of it unless configured): the rest is sold as tenants'
 * dedicated endpoints.
 */
export function effectiveHeadroom(role: PoolRole, configured: number | undefined): number {
    switch (role) {
        case "internal":
            return 1;
        case "serving":
            return configured ?? 1;
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
    /** Shared pools: the fraction of guaranteed GPUs never sold; serving pools: the fraction kept for the shared models. */
    headroom?: number;
    /** Dedicated pools only: the tenant the whole pool belongs to. */
    tenant?: string;
    /** A Capacity Block pool: the block's window, outside which the pool has no nodes. */
    window?: CapacityWindow;
}

/** A Capacity Block's window: when its instances can run (ISO 8601 instants). */
export interface CapacityWindow {
    /** When the window starts (ISO 8601). */
    startsAt: string;
    /** When it ends (ISO 8601). */
    endsAt: string;
}

/**
 * EKS scales a Capacity Block node group to zero this long before the block ends, with a scheduled
 * action it adds itself ("Amazon EKS Node Group Capacity Scaledown Before Reservation End"; EC2 starts
 * terminating the instances 30 minutes before the end): the block's GPUs are counted until then.
 * awsdocs/amazon-eks-user-guide@2ef9e386c918fb0273527207d6af9d3d19ef4621 latest/ug/nodes/capacity-blocks-mng.adoc.
 */
export const CAPACITY_BLOCK_SCALE_DOWN_MINUTES = 40;

/** An ISO 8601 instant with a date, a time and a zone (`2026-10-01T11:30:00Z`, `2026-10-01T11:30+02:00`). */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The instant an ISO 8601 date-time names, or undefined when it is not one (a date alone, no zone, 2026-02-30). */
export function parseInstant(text: unknown): Date | undefined {
    if (typeof text !== "string") return undefined;
    const m = ISO_INSTANT.exec(text);
    if (!m) return undefined;
    const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
    // Date.parse rolls 2026-02-30 over to March: check the fields survive.
    const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
    const at = new Date(text);
    return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Why a window is not one, in the words config and the policies use; undefined when it is. */
export function windowProblem(window: Partial<CapacityWindow>): string | undefined {
    const start = parseInstant(window.startsAt);
    const end = parseInstant(window.endsAt);
    if (window.startsAt === undefined) return "startsAt is required: the block's start, ISO 8601 with a zone (such as 2026-10-01T11:30:00Z)";
    if (window.endsAt === undefined) return "endsAt is required: the block's end, ISO 8601 with a zone (such as 2026-10-15T11:30:00Z)";
    if (!start) return `startsAt ${JSON.stringify(window.startsAt)} is not an ISO 8601 date-time with a zone (such as 2026-10-01T11:30:00Z)`;
    if (!end) return `endsAt ${JSON.stringify(window.endsAt)} is not an ISO 8601 date-time with a zone (such as 2026-10-15T11:30:00Z)`;
    if (end.getTime() <= start.getTime()) return `endsAt ${window.endsAt} is not after startsAt ${window.startsAt}`;
    return undefined;
}

/** Where a date falls against a Capacity Block's window: its nodes exist only while it is `inside`. */
export type WindowPhase = "before" | "inside" | "after";

/**
 * When a block's nodes can run, in epoch milliseconds: from its start until EKS scales its group to
 * zero (40 minutes before the end). A bound that does not parse is undefined.
 */
export function usableWindow(window: CapacityWindow): { start?: number; usableEnd?: number } {
    const end = parseInstant(window.endsAt)?.getTime();
    return { start: parseInstant(window.startsAt)?.getTime(), usableEnd: end === undefined ? undefined : end - CAPACITY_BLOCK_SCALE_DOWN_MINUTES * 60_000 };
}

/** The phase at `at`: inside from the start until EKS scales the group to zero (40 minutes before the end). */
export function windowPhase(window: CapacityWindow, at: Date): WindowPhase {
    const { start = Number.POSITIVE_INFINITY, usableEnd = Number.NEGATIVE_INFINITY } = usableWindow(window);
    if (at.getTime() < start) return "before";
    return at.getTime() < usableEnd ? "inside" : "after";
}

/**
 * The GPUs a pool guarantees at a date: its guaranteed GPUs, or for a Capacity Block pool those
 * only inside the block's window (none before it starts or once EKS has scaled it down).
 */
export function guaranteedAt(pool: Pick<PoolCapacity, "guaranteed" | "window">, at: Date): number {
    return !pool.window || windowPhase(pool.window, at) === "inside" ? pool.guaranteed : 0;
}

export interface PoolCapacity {
    /** The pool's name. */
    pool: string;
    /** What the pool is for. */
    role: PoolRole;
    /** Its GPU instance type. */
    instanceType: string;
    /** The GPU model of its instances. */
    gpuModel: string;
    /** Guaranteed nodes. */
    minNodes: number;
    /** Most nodes the autoscaler may reach. */
    maxNodes: number;
    /** GPUs per node. */
    gpusPerNode: number;
    /** min nodes x GPUs per node. */
    guaranteed: number;
    /** The headroom fraction applied. */
    headroom: number;
    /** GPUs kept for internal work: guaranteed - sellable. */
    headroomGpus: number;
    /** GPUs that may be sold as reserved quota: guaranteed - headroomGpus. */
    sellable: number;
    /** Reserved GPU quota sold to tenants. */
    sold: number;
    /** sellable - sold; negative when the pool is oversold. */
    free: number;
    /** max nodes x GPUs per node: what autoscaling can reach. */
    maxGpus: number;
    /** maxGpus - guaranteed: what the autoscaler adds on demand, never sold as reserved quota. */
    burst: number;
    /** A Capacity Block pool's window. */
    window?: CapacityWindow;
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
        burst: Math.max(0, pool.maxNodes - pool.minNodes) * type.gpusPerNode,
        ...(pool.window ? { window: pool.window } : {}),
    };
}

/** Whole GPUs from a Kubernetes quantity (number or string); undefined when it is not a whole count. */
export function gpuCount(quantity: unknown): number | undefined {
    if (typeof quantity === "number") return Number.isInteger(quantity) && quantity >= 0 ? quantity : undefined;
    if (typeof quantity === "string" && /^\d+$/.test(quantity)) return Number(quantity);
    return undefined;
}

/** A tenant's GPUs on one pool. */
export interface TenantPoolQuota {
    /** The pool's name. */
    pool: string;
    /** Reserved GPUs: the queue's nominal quota (sold capacity). */
    reserved: number;
    /** Spot GPUs: what the queue may borrow from idle capacity, reclaimable. */
    spot: number;
}

/** What a tenant buys, as the capacity model reads it. */
export interface TenantPurchase {
    /** The tenant's name. */
    name: string;
    /** Only an active tenant holds quota: a suspended or decommissioned one gives its capacity back. */
    state: TenantState;
    /** Reserved GPUs per pool. */
    quota: Record<string, number>;
    /** Spot GPUs per pool. */
    spot: Record<string, number>;
    /** Dedicated endpoints: GPUs held on serving pools (replicas x GPUs per replica), sold like reserved quota. */
    dedicatedGpus?: Record<string, number>;
}

/**
 * A tenant's GPUs per pool: its reserved and spot quota, and each dedicated pool of `pools` it owns,
 * held whole (the pool's guaranteed GPUs) unless its quota names another figure.
 */
export function tenantPoolQuotas(tenant: Pick<TenantPurchase, "name" | "quota" | "spot">, pools: readonly PoolShape[] = []): TenantPoolQuota[] {
    const owned = new Map(pools.filter((p) => p.role === "dedicated" && p.tenant === tenant.name).map((p) => [p.name, poolCapacity(p, 0).guaranteed]));
    const names = new Set([...Object.keys(tenant.quota), ...Object.keys(tenant.spot), ...owned.keys()]);
    return [...names].map((pool) => ({ pool, reserved: tenant.quota[pool] ?? owned.get(pool) ?? 0, spot: tenant.spot[pool] ?? 0 }));
}

/**
 * Reserved GPUs sold per pool: every active tenant's reserved quota (a dedicated pool's owner holds
 * it whole) and dedicated endpoints' GPUs and, on a sharded region's platform, every shard's budget
 * (what it may sell is sold here).
 */
export function soldGpus(pools: readonly PoolShape[], tenants: readonly TenantPurchase[], shardBudgets: readonly Readonly<Record<string, number>>[] = []): Map<string, number> {
    const sold = new Map<string, number>();
    const add = (pool: string, gpus: number) => sold.set(pool, (sold.get(pool) ?? 0) + gpus);
    for (const t of tenants) {
        if (t.state !== "active") continue;
        for (const q of tenantPoolQuotas(t, pools)) add(q.pool, q.reserved);
        for (const [pool, gpus] of Object.entries(t.dedicatedGpus ?? {})) add(pool, gpus);
    }
    for (const budget of shardBudgets) for (const [pool, gpus] of Object.entries(budget)) add(pool, gpus);
    return sold;
}

/** Each pool's capacity with what tenants and shards hold of it. */
export function regionCapacity(pools: readonly PoolShape[], tenants: readonly TenantPurchase[], shardBudgets: readonly Readonly<Record<string, number>>[] = []): PoolCapacity[] {
    const sold = soldGpus(pools, tenants, shardBudgets);
    return pools.map((pool) => poolCapacity(pool, sold.get(pool.name) ?? 0));
}
