import { PoolShape, tenantPoolQuotas, TenantPurchase, poolCapacity } from "./capacity";
import { ksmLabel, LABELS, TENANT_NAMESPACE_PREFIX } from "./conventions";
import { GPU_CATALOG } from "./gpu-catalog";
import { RegistryServiceLevels, serviceLevelProblems } from "./service-levels";

/**
 * The commercial side of a region, as data shared by the program (which renders the billing
 * registry from the stack config), the billing jobs (which apply it and bill from it), the policies
 * (which judge it and its changes) and the plan (which shows what is sold and what it is worth).
 *
 * A **track** is a way of selling: reserved GPUs, a dedicated pool, spot GPU time, hosted-model
 * tokens. Each is data in `BILLING_TRACKS` (what its price is quoted for, its units, whether it bills
 * what was committed or what was used), mirrored by the `billing_tracks` and `billing_units` rows of
 * the schema: a new way of selling is a new entry there and a migration adding its rows, not a new
 * code path in the invoice.
 */

/** Units a price is quoted per. Token prices are per million tokens. */
export const BILLING_UNITS = {
    gpu_hour: { label: "GPU-hour", tokens: false },
    input_mtok: { label: "1M input tokens", tokens: true },
    cached_input_mtok: { label: "1M cached input tokens", tokens: true },
    output_mtok: { label: "1M output tokens", tokens: true },
    replica_hour: { label: "replica-hour", tokens: false },
} as const;
export type BillingUnit = keyof typeof BILLING_UNITS;

export interface BillingTrack {
    /** What a price of the track is quoted for: a GPU model (`l40s`) or a hosted model (`llama-3-8b`). */
    item: "gpuModel" | "model";
    /** `commitment`: billed for every hour it is held, used or not; `use`: billed from metered use. */
    basis: "commitment" | "use";
    /** The price fields of a config entry of the track, each with the unit it prices. */
    prices: Readonly<Record<string, BillingUnit>>;
    /** Price fields that, left out, take another field's value. */
    defaults?: Readonly<Record<string, string>>;
    /** The pool roles a GPU track sells (a GPU track's commitments name a pool). */
    poolRoles?: readonly string[];
    description: string;
}

/**
 * The region's tracks. `reserved`, `dedicated` and `spot` are priced per GPU model and GPU-hour;
 * `hosted` per model and million tokens, input, cached input (where the model server reports cached
 * prompt tokens; the gateway's input count includes them, so they are billed apart at their own
 * price, which defaults to the input price) and output.
 */
export const BILLING_TRACKS = {
    reserved: { item: "gpuModel", basis: "commitment", prices: { perGpuHour: "gpu_hour" }, poolRoles: ["shared"], description: "Reserved GPUs on a shared pool: every hour they are committed, used or not" },
    dedicated: { item: "gpuModel", basis: "commitment", prices: { perGpuHour: "gpu_hour" }, poolRoles: ["dedicated"], description: "A dedicated pool's GPUs: every hour the tenant holds the pool" },
    spot: { item: "gpuModel", basis: "use", prices: { perGpuHour: "gpu_hour" }, poolRoles: ["shared"], description: "GPU time of the tenant's pods at the spot priority, on borrowed idle capacity" },
    hosted: {
        item: "model",
        basis: "use",
        prices: { perMillionInputTokens: "input_mtok", perMillionCachedInputTokens: "cached_input_mtok", perMillionOutputTokens: "output_mtok" },
        defaults: { perMillionCachedInputTokens: "perMillionInputTokens" },
        description: "Hosted-model tokens through the gateway: input (uncached), cached input and output",
    },
    dedicated_endpoint: {
        item: "model",
        basis: "commitment",
        prices: { perReplicaHour: "replica_hour" },
        description: "A tenant's dedicated endpoint of a model: each replica it bought, every hour it is held, used or not",
    },
    batch: {
        item: "model",
        basis: "use",
        prices: { perMillionInputTokens: "input_mtok", perMillionOutputTokens: "output_mtok" },
        description: "Batch inference: the input and output tokens of the batches that complete, on idle serving GPUs",
    },
} as const satisfies Record<string, BillingTrack>;
export type BillingTrackName = keyof typeof BILLING_TRACKS;
export const BILLING_TRACK_NAMES = Object.keys(BILLING_TRACKS) as BillingTrackName[];

export function billingTrack(track: string): BillingTrack | undefined {
    return Object.prototype.hasOwnProperty.call(BILLING_TRACKS, track) ? (BILLING_TRACKS as Record<string, BillingTrack>)[track] : undefined;
}

/** The document format the registry Job applies; a change of shape is a new version. */
export const REGISTRY_VERSION = 1;

/** The ConfigMap (in the billing namespace) holding the registry document, and its key. */
export const BILLING_REGISTRY = { configMap: "billing-registry", key: "registry.json", label: "compute-region.io/billing-registry" } as const;

/** Hours in an average month (8,760 / 12): what a monthly figure of a commitment assumes. */
export const HOURS_PER_MONTH = 730;

/** One price row: from `effectiveFrom` (00:00 UTC) until the next row of the same track, item and unit. */
export interface RegistryPrice {
    track: string;
    /** The GPU model or hosted model priced. */
    item: string;
    unit: string;
    /** The price per unit, as an exact decimal string (at most 6 decimals). */
    unitPrice: string;
    /** YYYY-MM-DD. */
    effectiveFrom: string;
}

/** What a tenant bought on one track: GPUs of a pool (reserved, dedicated, spot allowance) or a model granted (quantity 1). */
export interface RegistryCommitment {
    track: string;
    /** The pool (GPU tracks) or the model (model tracks). */
    subject: string;
    quantity: number;
}

/** A tenant's contract terms. */
export interface RegistryContract {
    /** Billing of commitments starts on this day (00:00 UTC) even if the capacity is granted earlier. */
    startsOn?: string;
    /** Percent off every charge (0 to 100). */
    discountPercent: number;
    /** The contract or purchase-order reference, printed on invoices. */
    reference?: string;
}

export interface RegistryTenant {
    name: string;
    state: "active" | "suspended" | "decommissioned";
    contract: RegistryContract;
    commitments: RegistryCommitment[];
}

/**
 * The billing registry of one stack: what the region sells and at what price. `scope` says which
 * tenants the document owns: `region` (a region stack: prices, pools, models and its tenants),
 * `platform` (a sharded region's platform: prices, pools and models, no tenants) or `shard:<name>`
 * (a shard's tenants; the prices and pools are the platform's, copied for the plan's checks only).
 */
export interface RegistryDocument {
    version: typeof REGISTRY_VERSION;
    scope: string;
    currency: string;
    prices: RegistryPrice[];
    /** The pools sold (with a dedicated pool's tenant), with their GPU model and guaranteed GPUs. */
    pools: { name: string; gpuModel: string; role: string; gpus: number; tenant?: string }[];
    models: { name: string; pool: string; gpuModel: string }[];
    tenants: RegistryTenant[];
    /** What the stack promises and the credits a breach owes (policies/model/domain/service-levels.ts); absent: nothing. */
    serviceLevels?: RegistryServiceLevels;
}

/** A price as the stack config gives it: the track, what it prices and a figure per price field of the track. */
export interface PriceConfig {
    track: string;
    gpuModel?: string;
    model?: string;
    effectiveFrom: string;
    [field: string]: string | number | undefined;
}

/** What a tenant bought, as the registry reads it: its pools' GPUs, its models, its dedicated endpoints and batch access. */
export type RegistryTenantInput = TenantPurchase & {
    models: readonly string[];
    contract?: Partial<RegistryContract>;
    /** Dedicated endpoints: replicas of a model, billed per replica-hour. */
    dedicated?: readonly { model: string; replicas: number }[];
    /** Batch inference (principals that upload): its granted models that have batch are billed by batch tokens. */
    batch?: unknown;
};

/** A hosted model as the registry reads it: its pool, and whether it runs batches. */
export interface RegistryModelInput {
    name: string;
    pool: string;
    batch?: unknown;
}

export interface RegistryInput {
    scope: string;
    currency: string;
    prices: readonly PriceConfig[];
    pools: readonly PoolShape[];
    models: readonly RegistryModelInput[];
    tenants: readonly RegistryTenantInput[];
}

/** A money figure as an exact decimal string: at most 6 decimals, no trailing zeros. */
export function decimalText(value: number | string): string {
    const n = typeof value === "number" ? value : Number(value);
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`a price must be a number at least 0, got ${JSON.stringify(value)}`);
    const fixed = n.toFixed(6);
    if (Number(fixed) !== n) throw new RangeError(`a price has at most 6 decimals, got ${value}`);
    return fixed.replace(/\.?0+$/, "") || "0";
}

/** Whole micro-units of a decimal string (exact for at most 6 decimals). */
export function micros(decimal: string): bigint {
    const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(decimal);
    if (!m) throw new RangeError(`not a decimal with at most 6 places: ${JSON.stringify(decimal)}`);
    return BigInt(m[1]) * 1_000_000n + BigInt((m[2] ?? "").padEnd(6, "0"));
}

/** Cents from micro-units, rounded half away from zero (as PostgreSQL's round(numeric, 2)). */
export function centsOf(microUnits: bigint): bigint {
    const sign = microUnits < 0n ? -1n : 1n;
    const abs = microUnits * sign;
    return sign * ((abs + 5_000n) / 10_000n);
}

/** `1234.5` cents as `12.35`: a cent figure as text. */
export function moneyText(cents: bigint, currency?: string): string {
    const sign = cents < 0n ? "-" : "";
    const abs = cents < 0n ? -cents : cents;
    const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return `${sign}${currency ? `${currency} ` : ""}${whole}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** The price rows of one config entry: one per unit of its track, defaults filled in. */
export function priceRows(entry: PriceConfig): RegistryPrice[] {
    const track = billingTrack(entry.track);
    if (!track) throw new RangeError(`unknown billing track ${JSON.stringify(entry.track)} (known: ${BILLING_TRACK_NAMES.join(", ")})`);
    const item = track.item === "gpuModel" ? entry.gpuModel : entry.model;
    if (!item) throw new RangeError(`a ${entry.track} price names its ${track.item}`);
    return Object.entries(track.prices).map(([field, unit]) => {
        const value = entry[field] ?? (track.defaults?.[field] ? entry[track.defaults[field]] : undefined);
        if (value === undefined) throw new RangeError(`a ${entry.track} price of ${item} needs ${field}`);
        return { track: entry.track, item, unit, unitPrice: decimalText(value), effectiveFrom: entry.effectiveFrom };
    });
}

const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
export const priceKey = (p: Pick<RegistryPrice, "track" | "item" | "unit">) => `${p.track}/${p.item}/${p.unit}`;

/**
 * The registry document of a stack's config: prices (one row per unit), pools with their GPU model
 * and guaranteed GPUs, hosted models, and each tenant's state, contract and commitments. Only an
 * active tenant holds commitments (a suspended or decommissioned one gives its capacity back, as the
 * capacity model says). Deterministic: the same config renders the same text.
 */
export function renderRegistry(input: RegistryInput): RegistryDocument {
    const pools = input.pools.map((p) => ({ name: p.name, gpuModel: poolCapacity(p, 0).gpuModel, role: p.role, gpus: poolCapacity(p, 0).guaranteed, ...(p.tenant ? { tenant: p.tenant } : {}) }));
    return registryDocument({ scope: input.scope, currency: input.currency, prices: input.prices.flatMap(priceRows), pools, models: input.models, tenants: input.tenants, poolShapes: input.pools });
}

/** The document from price rows and pool rows (a shard's, copied from its platform's registry). */
function registryDocument(input: {
    scope: string;
    currency: string;
    prices: readonly RegistryPrice[];
    pools: RegistryDocument["pools"];
    models: readonly RegistryModelInput[];
    tenants: RegistryInput["tenants"];
    poolShapes?: readonly PoolShape[];
}): RegistryDocument {
    const poolRole = new Map(input.pools.map((p) => [p.name, p.role]));
    const batchModels = new Set(input.models.filter((m) => m.batch).map((m) => m.name));
    const gpuModelOfPool = new Map(input.pools.map((p) => [p.name, p.gpuModel]));
    return {
        version: REGISTRY_VERSION,
        scope: input.scope,
        currency: input.currency,
        prices: [...input.prices].sort(byKey((p) => `${priceKey(p)}/${p.effectiveFrom}`)),
        pools: [...input.pools].sort(byKey((p) => p.name)),
        models: input.models.map((m) => ({ name: m.name, pool: m.pool, gpuModel: gpuModelOfPool.get(m.pool) ?? "unknown" })).sort(byKey((m) => m.name)),
        tenants: [...input.tenants]
            .sort(byKey((t) => t.name))
            .map((t) => {
                const commitments: RegistryCommitment[] = [];
                if (t.state === "active") {
                    for (const q of tenantPoolQuotas(t, input.poolShapes ?? [])) {
                        if (q.reserved > 0) commitments.push({ track: poolRole.get(q.pool) === "dedicated" ? "dedicated" : "reserved", subject: q.pool, quantity: q.reserved });
                        if (q.spot > 0) commitments.push({ track: "spot", subject: q.pool, quantity: q.spot });
                    }
                    for (const m of t.models) commitments.push({ track: "hosted", subject: m, quantity: 1 });
                    for (const d of t.dedicated ?? []) commitments.push({ track: "dedicated_endpoint", subject: d.model, quantity: d.replicas });
                    if (t.batch) for (const m of t.models.filter((m) => batchModels.has(m))) commitments.push({ track: "batch", subject: m, quantity: 1 });
                }
                const contract: RegistryContract = { discountPercent: t.contract?.discountPercent ?? 0, ...(t.contract?.startsOn ? { startsOn: t.contract.startsOn } : {}), ...(t.contract?.reference ? { reference: t.contract.reference } : {}) };
                return { name: t.name, state: t.state, contract, commitments: commitments.sort(byKey((c) => `${c.track}/${c.subject}`)) };
            }),
    };
}

/** What a platform's registry tells its shards: the currency, the prices and the pools (its stack output `billing`). */
export interface PlatformBilling {
    currency: string;
    prices: RegistryPrice[];
    pools: RegistryDocument["pools"];
}

/** A platform's registry as its shards read it. */
export function platformBilling(doc: RegistryDocument): PlatformBilling {
    return { currency: doc.currency, prices: doc.prices, pools: doc.pools };
}

/**
 * A tenant shard's registry: its tenants and their commitments (`scope` shard:<name>), with the
 * platform's prices and pools copied in for the plan's checks (the shard's sync applies only its
 * tenants and bills them at the prices the platform's registry applied).
 */
export function shardRegistry(shard: string, platform: PlatformBilling, tenants: RegistryInput["tenants"]): RegistryDocument {
    return registryDocument({ scope: `shard:${shard}`, currency: platform.currency, prices: platform.prices, pools: platform.pools, models: [], tenants });
}

/** What a region (or a platform) stack sells, as its config (or the Region component's args) says it. */
export interface RegionSales {
    layer?: "region" | "platform";
    gpuPools: readonly PoolShape[];
    models: readonly RegistryModelInput[];
    tenants: RegistryInput["tenants"];
    billing?: { currency: string; prices: readonly PriceConfig[] };
    /** The objectives and credit terms the registry records (registryServiceLevels). */
    serviceLevels?: RegistryServiceLevels;
}

/**
 * The registry document of a region or platform stack: the one rendering of its config, which the
 * program puts in the registry ConfigMap (and so the plan shows) and the registry Job applies.
 * Undefined when the stack has no billing.
 */
export function regionRegistry(region: RegionSales): RegistryDocument | undefined {
    if (!region.billing) return undefined;
    const doc = renderRegistry({
        scope: region.layer === "platform" ? "platform" : "region",
        currency: region.billing.currency,
        prices: region.billing.prices,
        pools: region.gpuPools,
        models: region.models.map((m) => ({ name: m.name, pool: m.pool, ...(m.batch ? { batch: true } : {}) })),
        tenants: region.tenants,
    });
    return region.serviceLevels ? { ...doc, serviceLevels: region.serviceLevels } : doc;
}

/** The registry document as the ConfigMap carries it (and as its hash is taken). */
export function registryText(doc: RegistryDocument): string {
    return `${JSON.stringify(doc, null, 2)}\n`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a YYYY-MM-DD names (00:00 UTC), or undefined when it is not a date. */
export function parseDay(text: unknown): Date | undefined {
    if (typeof text !== "string") return undefined;
    const m = DATE.exec(text);
    if (!m) return undefined;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d : undefined;
}

/** A problem with a registry document, at a path of it. */
export interface RegistryProblem {
    path: string;
    message: string;
}

/**
 * Reads a registry document (the ConfigMap's text, or the CLI's file), checking its shape: every
 * problem at once, each at its path. Throws a `RegistryError` listing them.
 */
export function parseRegistry(text: string, source = "registry document"): RegistryDocument {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new RegistryError(source, [{ path: "(document)", message: `is not JSON: ${(e as Error).message}` }]);
    }
    const problems = shapeProblems(raw);
    if (problems.length > 0) throw new RegistryError(source, problems);
    return raw as RegistryDocument;
}

export class RegistryError extends Error {
    constructor(
        readonly source: string,
        readonly problems: RegistryProblem[],
    ) {
        super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.map((p) => `${p.path}: ${p.message}`).join("\n  ")}`);
        this.name = "RegistryError";
    }
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function shapeProblems(raw: unknown): RegistryProblem[] {
    const problems: RegistryProblem[] = [];
    const add = (path: string, message: string): void => {
        problems.push({ path, message });
    };
    const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (!obj(raw)) return [{ path: "(document)", message: "must be a JSON object" }];
    problems.push(...serviceLevelProblems(raw.serviceLevels));
    if (raw.version !== REGISTRY_VERSION) add("version", `must be ${REGISTRY_VERSION}, got ${JSON.stringify(raw.version)}`);
    if (typeof raw.scope !== "string" || !/^(region|platform|shard:[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.test(raw.scope)) add("scope", `must be region, platform or shard:<name>, got ${JSON.stringify(raw.scope)}`);
    if (typeof raw.currency !== "string" || !/^[A-Z]{3}$/.test(raw.currency)) add("currency", `must be an ISO 4217 code such as USD, got ${JSON.stringify(raw.currency)}`);
    const list = (key: string): unknown[] => {
        if (!Array.isArray(raw[key])) {
            add(key, "must be a list");
            return [];
        }
        return raw[key] as unknown[];
    };
    list("prices").forEach((p, i) => {
        const at = `prices[${i}]`;
        if (!obj(p)) return add(at, "must be an object");
        const track = billingTrack(String(p.track));
        if (!track) return add(`${at}.track`, `must be one of ${BILLING_TRACK_NAMES.join(", ")}, got ${JSON.stringify(p.track)}`);
        if (typeof p.item !== "string" || p.item === "") add(`${at}.item`, `must name the ${track.item} priced`);
        if (!Object.values(track.prices).includes(p.unit as BillingUnit)) add(`${at}.unit`, `must be a unit of the ${p.track} track (${Object.values(track.prices).join(", ")}), got ${JSON.stringify(p.unit)}`);
        if (typeof p.unitPrice !== "string" || !/^\d+(\.\d{1,6})?$/.test(p.unitPrice)) add(`${at}.unitPrice`, `must be a decimal string with at most 6 decimals, got ${JSON.stringify(p.unitPrice)}`);
        if (!parseDay(p.effectiveFrom)) add(`${at}.effectiveFrom`, `must be a date (YYYY-MM-DD), got ${JSON.stringify(p.effectiveFrom)}`);
    });
    list("pools").forEach((p, i) => {
        if (!obj(p) || typeof p.name !== "string" || typeof p.gpuModel !== "string" || typeof p.role !== "string" || typeof p.gpus !== "number" || (p.tenant !== undefined && typeof p.tenant !== "string")) add(`pools[${i}]`, "must be { name, gpuModel, role, gpus, tenant? }");
    });
    list("models").forEach((m, i) => {
        if (!obj(m) || typeof m.name !== "string" || typeof m.pool !== "string" || typeof m.gpuModel !== "string") add(`models[${i}]`, "must be { name, pool, gpuModel }");
    });
    list("tenants").forEach((t, i) => {
        const at = `tenants[${i}]`;
        if (!obj(t)) return add(at, "must be an object");
        if (typeof t.name !== "string" || !NAME.test(t.name)) add(`${at}.name`, `must be a tenant name (a DNS label), got ${JSON.stringify(t.name)}`);
        if (!["active", "suspended", "decommissioned"].includes(String(t.state))) add(`${at}.state`, `must be active, suspended or decommissioned, got ${JSON.stringify(t.state)}`);
        const c = t.contract;
        if (!obj(c)) add(`${at}.contract`, "must be an object");
        else {
            if (typeof c.discountPercent !== "number" || c.discountPercent < 0 || c.discountPercent > 100) add(`${at}.contract.discountPercent`, `must be a number from 0 to 100, got ${JSON.stringify(c.discountPercent)}`);
            if (c.startsOn !== undefined && !parseDay(c.startsOn)) add(`${at}.contract.startsOn`, `must be a date (YYYY-MM-DD), got ${JSON.stringify(c.startsOn)}`);
            if (c.reference !== undefined && typeof c.reference !== "string") add(`${at}.contract.reference`, "must be a string");
        }
        if (!Array.isArray(t.commitments)) return add(`${at}.commitments`, "must be a list");
        t.commitments.forEach((c: unknown, j: number) => {
            if (!obj(c)) return add(`${at}.commitments[${j}]`, "must be an object");
            if (!billingTrack(String(c.track))) add(`${at}.commitments[${j}].track`, `must be one of ${BILLING_TRACK_NAMES.join(", ")}, got ${JSON.stringify(c.track)}`);
            if (typeof c.subject !== "string" || c.subject === "") add(`${at}.commitments[${j}].subject`, "must name the pool or model");
            if (typeof c.quantity !== "number" || !Number.isInteger(c.quantity) || c.quantity < 0) add(`${at}.commitments[${j}].quantity`, `must be a whole number at least 0, got ${JSON.stringify(c.quantity)}`);
        });
    });
    return problems;
}

/** The price in force for a track, item and unit at an instant: the latest row effective by then. */
export function priceInForce(prices: readonly RegistryPrice[], key: Pick<RegistryPrice, "track" | "item" | "unit">, at: Date): RegistryPrice | undefined {
    let found: RegistryPrice | undefined;
    for (const p of prices) {
        if (p.track !== key.track || p.item !== key.item || p.unit !== key.unit) continue;
        const from = parseDay(p.effectiveFrom);
        if (!from || from.getTime() > at.getTime()) continue;
        if (!found || p.effectiveFrom > found.effectiveFrom) found = p;
    }
    return found;
}

/** When a tenant's commitments are first billed: the later of `at` and its contract's start. */
export function billedFrom(tenant: Pick<RegistryTenant, "contract">, at: Date): Date {
    const start = parseDay(tenant.contract.startsOn);
    return start && start.getTime() > at.getTime() ? start : at;
}

/** What a commitment's track prices it by: the pool's GPU model (GPU tracks) or the model itself. */
export function priceItem(commitment: RegistryCommitment, gpuModelOfPool: (pool: string) => string | undefined): string | undefined {
    const track = billingTrack(commitment.track);
    return track?.item === "gpuModel" ? gpuModelOfPool(commitment.subject) : commitment.subject;
}

/**
 * The registry's consistency and coverage at `at`: unique tenants and price rows, commitments on
 * pools and models the document knows (and of the role their track sells), and a price in force
 * for every unit of every commitment of an active tenant (from the later of `at` and its contract's
 * start). `pools` and `models` are the platform's for a shard's document. `doc` is a parsed one (parseRegistry).
 */
export function registryProblems(doc: RegistryDocument, at: Date): RegistryProblem[] {
    const problems: RegistryProblem[] = [];
    const seenPrice = new Map<string, number>();
    doc.prices.forEach((p, i) => {
        const key = `${priceKey(p)}/${p.effectiveFrom}`;
        const first = seenPrice.get(key);
        if (first !== undefined) problems.push({ path: `prices[${i}]`, message: `repeats prices[${first}]: one ${p.track} price of ${p.item} per ${p.unit} and effective date` });
        else seenPrice.set(key, i);
    });
    const pools = new Map(doc.pools.map((p) => [p.name, p]));
    const models = new Set(doc.models.map((m) => m.name));
    const names = new Set(doc.tenants.map((t) => t.name));
    if (doc.scope === "region") {
        doc.pools.forEach((p, i) => {
            if (p.tenant && !names.has(p.tenant)) problems.push({ path: `pools[${i}] (${p.name})`, message: `is dedicated to tenant ${p.tenant}, which the registry does not list (an unknown tenant)` });
        });
    }
    const seenTenant = new Map<string, number>();
    doc.tenants.forEach((t, i) => {
        const first = seenTenant.get(t.name);
        if (first !== undefined) problems.push({ path: `tenants[${i}].name`, message: `repeats tenants[${first}] (${t.name})` });
        else seenTenant.set(t.name, i);
        if (t.state !== "active" && t.commitments.length > 0) problems.push({ path: `tenants[${i}].commitments`, message: `tenant ${t.name} is ${t.state}: only an active tenant holds commitments` });
        const from = billedFrom(t, at);
        t.commitments.forEach((c, j) => {
            const where = `tenants[${i}] (${t.name}).commitments[${j}]`;
            const track = billingTrack(c.track);
            // Only a parsed document is judged, and parseRegistry refuses an unknown track (naming it).
            if (!track) return;
            if (track.item === "gpuModel") {
                const pool = pools.get(c.subject);
                if (!pool) return void problems.push({ path: where, message: `tenant ${t.name}'s ${c.track} GPUs are on pool ${c.subject}, which the registry does not list` });
                if (track.poolRoles && !track.poolRoles.includes(pool.role)) problems.push({ path: where, message: `tenant ${t.name} has ${c.track} GPUs on pool ${c.subject}, a ${pool.role} pool: the ${c.track} track sells ${track.poolRoles.join(" or ")} pools` });
                if (pool.tenant && pool.tenant !== t.name) problems.push({ path: where, message: `tenant ${t.name} has ${c.track} GPUs on pool ${c.subject}, which is dedicated to tenant ${pool.tenant}` });
            } else if (!models.has(c.subject)) {
                return void problems.push({ path: where, message: `tenant ${t.name} is granted model ${c.subject}, which the registry does not list` });
            }
            if (c.quantity === 0) return;
            const item = priceItem(c, (p) => pools.get(p)?.gpuModel)!;
            for (const unit of Object.values(track.prices)) {
                if (!priceInForce(doc.prices, { track: c.track, item, unit }, from)) {
                    problems.push({ path: where, message: `tenant ${t.name}'s ${c.track} ${c.subject} has no ${c.track} price of ${item} per ${BILLING_UNITS[unit].label} in force on ${from.toISOString().slice(0, 10)}` });
                }
            }
        });
    });
    return problems;
}

/** How a document's prices changed from an earlier one, judged at `at`. */
export interface PriceChange {
    kind: "added" | "changed" | "removed";
    price: RegistryPrice;
    /** The earlier figure of a changed row. */
    was?: string;
    /** A change that alters what was (or is being) billed: a row effective at or before `at`. */
    retroactive?: string;
}

/**
 * The price rows added, changed and removed between two documents. A change is retroactive (history
 * rewritten) when it changes or removes a row that has taken effect by `at`, or adds one effective by
 * `at` where an earlier row of the same track, item and unit was in force: from then on the past
 * would bill at another price. A first price of a track, item and unit may start in the past (nothing
 * was billed at any price before it), and rows that take effect after `at` may change freely.
 */
export function priceChanges(before: readonly RegistryPrice[], after: readonly RegistryPrice[], at: Date): PriceChange[] {
    const key = (p: RegistryPrice) => `${priceKey(p)}/${p.effectiveFrom}`;
    const old = new Map(before.map((p) => [key(p), p]));
    const now = new Map(after.map((p) => [key(p), p]));
    const took = (p: RegistryPrice) => (parseDay(p.effectiveFrom)?.getTime() ?? Infinity) <= at.getTime();
    const day = at.toISOString().slice(0, 10);
    const out: PriceChange[] = [];
    for (const [k, p] of now) {
        const was = old.get(k);
        if (!was) {
            const earlier = before.filter((b) => priceKey(b) === priceKey(p) && b.effectiveFrom < p.effectiveFrom);
            const retro = took(p) && earlier.length > 0 ? `the ${p.track} price of ${p.item} per ${BILLING_UNITS[p.unit as BillingUnit]?.label ?? p.unit} would become ${p.unitPrice} from ${p.effectiveFrom}, a date already past on ${day} (${earlier.sort(byKey((b) => b.effectiveFrom)).pop()!.unitPrice} was in force)` : undefined;
            out.push({ kind: "added", price: p, ...(retro ? { retroactive: retro } : {}) });
        } else if (was.unitPrice !== p.unitPrice) {
            const retro = took(p) ? `the ${p.track} price of ${p.item} per ${BILLING_UNITS[p.unit as BillingUnit]?.label ?? p.unit} effective ${p.effectiveFrom} would change from ${was.unitPrice} to ${p.unitPrice}, and it has been in force since before ${day}` : undefined;
            out.push({ kind: "changed", price: p, was: was.unitPrice, ...(retro ? { retroactive: retro } : {}) });
        }
    }
    for (const [k, p] of old) {
        if (now.has(k)) continue;
        const retro = took(p) ? `the ${p.track} price of ${p.item} per ${BILLING_UNITS[p.unit as BillingUnit]?.label ?? p.unit} effective ${p.effectiveFrom} (${p.unitPrice}) would be removed, and it has been in force since before ${day}` : undefined;
        out.push({ kind: "removed", price: p, ...(retro ? { retroactive: retro } : {}) });
    }
    return out;
}

/** One committed charge of a tenant for a month at the prices in force at a date. */
export interface MonthlyCharge {
    track: string;
    subject: string;
    quantity: number;
    unit: string;
    unitPrice?: string;
    /** Cents for a month of the commitment after the tenant's discount; undefined for what bills by use or has no price. */
    monthlyCents?: bigint;
}

export interface TenantMonthly {
    tenant: string;
    state: string;
    discountPercent: number;
    charges: MonthlyCharge[];
    /** Cents a month of the tenant's commitments bill, whether used or not. */
    committedCents: bigint;
    /** What bills by use (spot allowance, models), with its price. */
    byUse: MonthlyCharge[];
}

export interface PoolMonthly {
    pool: string;
    gpuModel: string;
    role: string;
    /** GPUs sold on the pool as commitments (reserved or a dedicated pool held). */
    soldGpus: number;
    unitPrice?: string;
    monthlyCents: bigint;
}

/**
 * What a month of the registry's commitments is worth at the prices in force at `at`
 * (HOURS_PER_MONTH hours a month, each tenant's discount applied): per tenant and per pool. What
 * bills by use (spot GPU time, tokens) is listed with its price and no figure.
 */
export function monthlyValue(doc: RegistryDocument, at: Date): { tenants: TenantMonthly[]; pools: PoolMonthly[]; totalCents: bigint } {
    const pools = new Map(doc.pools.map((p) => [p.name, p]));
    const poolTotals = new Map<string, PoolMonthly>();
    const tenants = doc.tenants.map((t) => {
        const charges: MonthlyCharge[] = [];
        const byUse: MonthlyCharge[] = [];
        let committed = 0n;
        for (const c of t.commitments) {
            const track = billingTrack(c.track);
            if (!track) continue;
            const item = priceItem(c, (p) => pools.get(p)?.gpuModel);
            for (const unit of Object.values(track.prices)) {
                const price = item ? priceInForce(doc.prices, { track: c.track, item, unit }, at) : undefined;
                const charge: MonthlyCharge = { track: c.track, subject: c.subject, quantity: c.quantity, unit, ...(price ? { unitPrice: price.unitPrice } : {}) };
                if (track.basis === "use") {
                    byUse.push(charge);
                    continue;
                }
                if (price) {
                    const gross = micros(price.unitPrice) * BigInt(c.quantity) * BigInt(HOURS_PER_MONTH);
                    // The discount in basis points of a percent, so 12.5% stays exact.
                    const net = (gross * BigInt(Math.round((100 - t.contract.discountPercent) * 100))) / 10_000n;
                    charge.monthlyCents = centsOf(net);
                    committed += charge.monthlyCents;
                    // A dedicated endpoint is a model's replicas, not GPUs of a pool: it is in the tenant's figures only.
                    if (track.item !== "gpuModel") {
                        charges.push(charge);
                        continue;
                    }
                    const pool = pools.get(c.subject);
                    const row = poolTotals.get(c.subject) ?? { pool: c.subject, gpuModel: pool?.gpuModel ?? "?", role: pool?.role ?? "?", soldGpus: 0, unitPrice: price.unitPrice, monthlyCents: 0n };
                    row.soldGpus += c.quantity;
                    row.monthlyCents += charge.monthlyCents;
                    poolTotals.set(c.subject, row);
                }
                charges.push(charge);
            }
        }
        return { tenant: t.name, state: t.state, discountPercent: t.contract.discountPercent, charges, committedCents: committed, byUse };
    });
    return { tenants, pools: [...poolTotals.values()].sort(byKey((p) => p.pool)), totalCents: tenants.reduce((s, t) => s + t.committedCents, 0n) };
}

/** Tenants an earlier document listed that a later one does not. */
export function droppedTenants(before: RegistryDocument, after: RegistryDocument): RegistryTenant[] {
    const kept = new Set(after.tenants.map((t) => t.name));
    return before.tenants.filter((t) => !kept.has(t.name));
}

/** GPU models the catalog knows (what a GPU price may name). */
export const GPU_MODELS = [...new Set(Object.values(GPU_CATALOG).map((t) => t.gpuModel))].sort();

/**
 * GPUs requested by running pods in tenant namespaces at an instant, by namespace, pool, GPU model
 * and priority class (kube-state-metrics 2.x: each pod's GPU requests, only while its phase is
 * Running, on the node it runs on, whose kube_pod_info carries its priority class, joined to that
 * node's pool labels). `pods` narrows kube_pod_info (such as `priority_class!="tenant-spot"`).
 * Metering evaluates it at each step of a window; the TenantGpuUseBeyondPurchase alert compares it
 * with the tenants' Kueue quota.
 */
export function tenantGpuInUseQuery(pods = ""): string {
    const pool = ksmLabel(LABELS.pool);
    const gpuModel = ksmLabel(LABELS.gpuModel);
    const tenants = `namespace=~"${TENANT_NAMESPACE_PREFIX}.+"`;
    const requests = `sum by (namespace, pod) (kube_pod_container_resource_requests{resource="nvidia_com_gpu",${tenants}})`;
    const running = `(kube_pod_status_phase{phase="Running",${tenants}} == 1)`;
    const onNode = `max by (namespace, pod, node, priority_class) (kube_pod_info{${tenants}${pods ? `,${pods}` : ""}})`;
    const perPod = `${requests} * on (namespace, pod) group_left() ${running} * on (namespace, pod) group_left(node, priority_class) ${onNode} * on (node) group_left(${pool}, ${gpuModel}) kube_node_labels`;
    return `sum by (namespace, ${pool}, ${gpuModel}, priority_class) (${perPod})`;
}
