import { z } from "zod";
import {
    BILLING_TRACKS,
    BILLING_UNITS,
    cidrProblem,
    cidrsOverlap,
    dedicatedEndpointName,
    DNS_LABEL_MAX,
    GPU_INSTANCE_TYPES,
    gpuInstanceType,
    iamArnAccount,
    meteringRepositoryName,
    NEVER_EGRESS_CIDRS,
    parseDay,
    poolCapacity,
    priceInForce,
    PriceConfig,
    priceRows,
    RegistryPrice,
    tenantPoolQuotas,
    windowProblem,
} from "compute-region-policies/model";
import { ACM_CERTIFICATE_ARN, MAX_CUSTOM_LIMIT_TENANTS, NamespacedRegionConfig } from "./schema";
import { checkReliability } from "./reliability";

/**
 * The checks no single key's schema can make: names unique across lists, references between keys
 * (a tenant's quota names a pool, a model's pool is a serving pool), CIDRs that must not overlap,
 * and capacity that must add up. Each problem names the key path to fix.
 */
export function crossFieldChecks(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const region = config["aws:region"];
    const azKey = "compute-region:availabilityZones";
    const zones = config["compute-region:availabilityZones"];
    zones.forEach((zone, i) => {
        if (!new RegExp(`^${region}[a-z]$`).test(zone)) {
            ctx.addIssue({ code: "custom", path: [azKey, i], message: `must be an availability zone of ${region} (such as ${region}a)`, input: zone });
        }
    });
    reportDuplicates(zones, (i) => [azKey, i], ctx);

    const network = config["compute-region:network"];
    const cluster = config["compute-region:cluster"];
    const vpcValid = !cidrProblem(network.vpcCidr);
    const serviceValid = !cidrProblem(cluster.serviceCidr);
    if (vpcValid && serviceValid && cidrsOverlap(network.vpcCidr, cluster.serviceCidr)) {
        ctx.addIssue({
            code: "custom",
            path: ["compute-region:cluster", "serviceCidr"],
            message: `must not overlap the VPC CIDR ${network.vpcCidr}`,
            input: cluster.serviceCidr,
        });
    }
    if (cluster.systemNodeGroup.maxSize < cluster.systemNodeGroup.minSize) {
        ctx.addIssue({
            code: "custom",
            path: ["compute-region:cluster", "systemNodeGroup", "maxSize"],
            message: `must be at least minSize (${cluster.systemNodeGroup.minSize})`,
            input: cluster.systemNodeGroup.maxSize,
        });
    }
    const endpoint = cluster.endpoint;
    if (endpoint.publicAccess) {
        if (endpoint.publicAccessCidrs.length === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["compute-region:cluster", "endpoint", "publicAccessCidrs"],
                message: "must list the CIDRs allowed to reach the public endpoint when publicAccess is true (an empty list would open it to 0.0.0.0/0)",
            });
        }
        endpoint.publicAccessCidrs.forEach((c, i) => {
            if (c === "0.0.0.0/0") {
                ctx.addIssue({
                    code: "custom",
                    path: ["compute-region:cluster", "endpoint", "publicAccessCidrs", i],
                    message: "must not be 0.0.0.0/0: list the networks that administer the cluster",
                    input: c,
                });
            }
        });
    } else if (endpoint.publicAccessCidrs.length > 0) {
        ctx.addIssue({
            code: "custom",
            path: ["compute-region:cluster", "endpoint", "publicAccessCidrs"],
            message: "must be empty when publicAccess is false (the list would have no effect)",
            input: endpoint.publicAccessCidrs,
        });
    }
    checkGpuPools(config, ctx);
    checkTenants(config, ctx);
    checkShards(config, ctx);
    checkModels(config, ctx);
    checkBilling(config, ctx);
    checkReliability(config, ctx);
    const billing = config["compute-region:billing"];
    if (billing && billing.maxAllocatedStorageGiB < billing.allocatedStorageGiB) {
        ctx.addIssue({ code: "custom", path: ["compute-region:billing", "maxAllocatedStorageGiB"], message: `must be at least allocatedStorageGiB (${billing.allocatedStorageGiB})`, input: billing.maxAllocatedStorageGiB });
    }
    const ownRepository = `/${meteringRepositoryName(cluster.name)}@`;
    if (billing?.meteringImage?.includes(ownRepository)) {
        ctx.addIssue({
            code: "custom",
            path: ["compute-region:billing", "meteringImage"],
            message: `points into ${meteringRepositoryName(cluster.name)}, the repository this stack creates, which is empty on a first up: leave meteringImage out and the program builds and pushes the image there first`,
            input: billing.meteringImage,
        });
    }
    reportDuplicates(cluster.adminRoleArns, (i) => ["compute-region:cluster", "adminRoleArns", i], ctx);
    if (cluster.adminRoleArns.includes(cluster.deployerRoleArn)) {
        ctx.addIssue({
            code: "custom",
            path: ["compute-region:cluster", "deployerRoleArn"],
            message: "must not also be listed in adminRoleArns (EKS allows one access entry per principal)",
            input: cluster.deployerRoleArn,
        });
    }
}

function checkGpuPools(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:gpuPools";
    const zones = config["compute-region:availabilityZones"];
    const pools = config["compute-region:gpuPools"];
    reportDuplicates(pools.map((p) => p.name), (i) => [key, i, "name"], ctx);
    pools.forEach((pool, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        if (!gpuInstanceType(pool.instanceType)) {
            ctx.addIssue({ code: "custom", path: at("instanceType"), message: `must be a GPU instance type in the catalog (${GPU_INSTANCE_TYPES.join(", ")})`, input: pool.instanceType });
        }
        if (pool.maxNodes < pool.minNodes) ctx.addIssue({ code: "custom", path: at("maxNodes"), message: `must be at least minNodes (${pool.minNodes})`, input: pool.maxNodes });
        if (pool.role === "dedicated" && !pool.tenant) ctx.addIssue({ code: "custom", path: at("tenant"), message: "is required for a dedicated pool: name the one tenant it belongs to" });
        if (pool.role !== "dedicated" && pool.tenant) ctx.addIssue({ code: "custom", path: at("tenant"), message: `must be unset: only dedicated pools belong to a tenant (role is ${pool.role})`, input: pool.tenant });
        if (pool.headroom !== undefined && pool.role !== "shared" && pool.role !== "serving") {
            ctx.addIssue({ code: "custom", path: at("headroom"), message: `must be unset for ${pool.role === "internal" ? "an" : "a"} ${pool.role} pool (internal pools keep everything, dedicated pools sell everything)`, input: pool.headroom });
        }
        const poolZones = pool.availabilityZones ?? zones;
        (pool.availabilityZones ?? []).forEach((z, j) => {
            if (!zones.includes(z)) ctx.addIssue({ code: "custom", path: at("availabilityZones", j), message: `must be one of the region's availabilityZones (${zones.join(", ")})`, input: z });
        });
        if (pool.placementGroup && poolZones.length !== 1) {
            ctx.addIssue({ code: "custom", path: at("placementGroup"), message: "needs exactly one availability zone in the pool's availabilityZones (a cluster placement group is single-AZ)", input: true });
        }
        if (pool.capacityReservation) {
            const reservation = pool.capacityReservation;
            if (poolZones.length !== 1) ctx.addIssue({ code: "custom", path: at("availabilityZones"), message: "must name exactly the one AZ of the capacity reservation" });
            if (pool.placementGroup) {
                ctx.addIssue({ code: "custom", path: at("placementGroup"), message: "must be false with a capacity reservation or Capacity Block (forcing a placement group on reserved capacity fails with InsufficientInstanceCapacity)", input: true });
            }
            if (reservation.type === "capacity-block") {
                const problem = windowProblem(reservation);
                const key = problem?.startsWith("startsAt") ? "startsAt" : "endsAt";
                if (problem) ctx.addIssue({ code: "custom", path: at("capacityReservation", key), message: `${problem}: a Capacity Block pool names the block's window`, input: reservation[key] });
            } else {
                for (const key of ["startsAt", "endsAt"] as const) {
                    if (reservation[key] !== undefined) ctx.addIssue({ code: "custom", path: at("capacityReservation", key), message: "must be unset for an on-demand reservation (only a Capacity Block has a window)", input: reservation[key] });
                }
            }
        }
    });
    // A reservation is shared by every pool that targets it: together they never scale past it.
    const byReservation = new Map<string, number[]>();
    pools.forEach((p, i) => p.capacityReservation && byReservation.set(p.capacityReservation.id, [...(byReservation.get(p.capacityReservation.id) ?? []), i]));
    for (const [id, indexes] of byReservation) {
        const instances = pools[indexes[0]].capacityReservation!.instances;
        indexes.forEach((i) => {
            if (pools[i].capacityReservation!.instances !== instances) {
                ctx.addIssue({ code: "custom", path: [key, i, "capacityReservation", "instances"], message: `must be ${instances}, as pool ${pools[indexes[0]].name} says reservation ${id} holds`, input: pools[i].capacityReservation!.instances });
            }
        });
        const maxNodes = indexes.reduce((sum, i) => sum + pools[i].maxNodes, 0);
        if (maxNodes > instances) {
            const last = indexes[indexes.length - 1];
            const others = indexes.slice(0, -1).map((i) => pools[i].name);
            const share = others.length > 0 ? ` with ${others.join(", ")} (which target the same reservation), maxNodes add up to ${maxNodes}` : "";
            ctx.addIssue({ code: "custom", path: [key, last, "maxNodes"], message: `must keep the pool within the ${instances} instances reservation ${id} holds${share}: the autoscaler never scales past the reservation`, input: pools[last].maxNodes });
        }
    }
}

/**
 * Commercial terms: one price per track, item and effective day; and everything sold (an active
 * tenant's reserved GPUs, its dedicated pools, its spot allowance, the models it may call, a shard's
 * budget) has a price in force from when it is billed (today, or the tenant's contract start). A
 * region that sells anything needs the billing database that bills it.
 */
function checkBilling(config: NamespacedRegionConfig, ctx: z.RefinementCtx, now = new Date()): void {
    const billing = config["compute-region:billing"];
    const pools = config["compute-region:gpuPools"];
    const tenants = config["compute-region:tenants"].map((t, i) => ({ t, i })).filter(({ t }) => t.state === "active");
    const shards = config["compute-region:shards"];
    const buyers = tenants.filter(({ t }) => t.models.length > 0 || t.dedicated.length > 0 || tenantPoolQuotas(t, pools).some((q) => q.reserved > 0 || q.spot > 0)).map(({ t }) => t.name);
    const batchModels = new Set(config["compute-region:models"].filter((m) => m.batch).map((m) => m.name));
    const modelNames = new Set(config["compute-region:models"].map((m) => m.name));
    const budgets = shards.filter((s) => Object.values(s.budget).some((g) => g > 0)).map((s) => s.name);
    if (!billing) {
        if (buyers.length > 0 || budgets.length > 0) {
            const who = [...(buyers.length > 0 ? [`tenants ${buyers.join(", ")} buy capacity or models`] : []), ...(budgets.length > 0 ? [`shards ${budgets.join(", ")} sell reserved GPUs`] : [])].join(" and ");
            ctx.addIssue({ code: "custom", path: ["compute-region:billing"], message: `is required: ${who}, and nothing would bill them (set the billing database and its prices)` });
        }
        return;
    }
    const rows: RegistryPrice[] = [];
    const seen = new Map<string, number>();
    billing.prices.forEach((entry, i) => {
        let entryRows: RegistryPrice[];
        try {
            entryRows = priceRows(entry as PriceConfig);
        } catch (e) {
            return ctx.addIssue({ code: "custom", path: ["compute-region:billing", "prices", i], message: (e as Error).message });
        }
        const key = `${entry.track}/${entryRows[0]?.item}/${entry.effectiveFrom}`;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: "custom", path: ["compute-region:billing", "prices", i], message: `repeats prices[${first}]: one ${entry.track} price of ${entryRows[0]?.item} per effective date (a new price is a new entry from a later day)` });
        else seen.set(key, i);
        rows.push(...entryRows);
    });
    const poolByName = new Map(pools.map((p) => [p.name, p]));
    const gpuModelOf = (pool: string) => gpuInstanceType(poolByName.get(pool)?.instanceType ?? "")?.gpuModel;
    /** The first unit of `track` with no price for `item` in force at `from`. */
    const missing = (track: keyof typeof BILLING_TRACKS, item: string, from: Date) => Object.values(BILLING_TRACKS[track].prices).find((unit) => !priceInForce(rows, { track, item, unit }, from));
    const require = (path: (string | number)[], what: string, track: keyof typeof BILLING_TRACKS, item: string | undefined, from: Date) => {
        if (!item) return;
        const unit = missing(track, item, from);
        if (unit) ctx.addIssue({ code: "custom", path, message: `${what} has no ${track} price of ${item} per ${BILLING_UNITS[unit].label} in force on ${from.toISOString().slice(0, 10)}: add one to compute-region:billing.prices` });
    };
    for (const { t, i } of tenants) {
        const starts = parseDay(t.contract?.startsOn);
        const from = starts && starts.getTime() > now.getTime() ? starts : now;
        const at = (...path: (string | number)[]) => ["compute-region:tenants", i, ...path];
        for (const q of tenantPoolQuotas(t, pools)) {
            const pool = poolByName.get(q.pool);
            if (!pool) continue;
            const dedicated = pool.role === "dedicated";
            const path = t.quota[q.pool] !== undefined || !dedicated ? at("quota", q.pool) : ["compute-region:gpuPools", pools.indexOf(pool), "tenant"];
            if (q.reserved > 0) require(path, dedicated ? `dedicated pool ${q.pool} of tenant ${t.name}` : `tenant ${t.name}'s reserved quota on ${q.pool}`, dedicated ? "dedicated" : "reserved", gpuModelOf(q.pool), from);
            if (q.spot > 0 && pool.role === "shared") require(at("spot", q.pool), `tenant ${t.name}'s spot allowance on ${q.pool}`, "spot", gpuModelOf(q.pool), from);
        }
        t.models.forEach((m, j) => require(at("models", j), `model ${m} granted to tenant ${t.name}`, "hosted", m, from));
        // Endpoints of a model the region serves (checkDedicatedEndpoints reports the others); batch of its batch models.
        t.dedicated.forEach((d, j) => modelNames.has(d.model) && require(at("dedicated", j, "model"), `tenant ${t.name}'s dedicated endpoint of ${d.model}`, "dedicated_endpoint", d.model, from));
        if (t.batch) t.models.forEach((m, j) => batchModels.has(m) && require(at("models", j), `batch inference of ${m} for tenant ${t.name}`, "batch", m, from));
    }
    shards.forEach((s, i) => {
        for (const [pool, gpus] of Object.entries(s.budget)) if (gpus > 0) require(["compute-region:shards", i, "budget", pool], `shard ${s.name}'s budget on ${pool}`, "reserved", gpuModelOf(pool), now);
    });
}

/** Tenant queues are `<tenant>-<pool>`: a tenant name must never make a pool's internal, burst or batch queue name. */
export const RESERVED_TENANT_PREFIXES = ["internal", "burst", "batch"] as const;

export function checkTenantName(name: string, path: (string | number)[], ctx: z.RefinementCtx): void {
    for (const reserved of RESERVED_TENANT_PREFIXES) {
        if (name.startsWith(reserved)) ctx.addIssue({ code: "custom", path, message: `must not start with "${reserved}" (reserved for the platform's own queues)`, input: name });
    }
}

function checkTenants(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:tenants";
    const tenants = config["compute-region:tenants"];
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    const cluster = config["compute-region:cluster"];
    reportDuplicates(tenants.map((t) => t.name), (i) => [key, i, "name"], ctx);
    const memberOwner = new Map<string, string>([...cluster.adminRoleArns.map((a) => [a, "an admin role"] as const), [cluster.deployerRoleArn, "the deployer role"]]);
    const names = new Set(tenants.map((t) => t.name));
    config["compute-region:gpuPools"].forEach((pool, i) => {
        // On a platform the tenants live in the shard stacks.
        if (config["compute-region:layer"] === "region" && pool.role === "dedicated" && pool.tenant && !names.has(pool.tenant)) {
            ctx.addIssue({ code: "custom", path: ["compute-region:gpuPools", i, "tenant"], message: "must name a tenant in compute-region:tenants", input: pool.tenant });
        }
    });
    tenants.forEach((tenant, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        checkTenantName(tenant.name, at("name"), ctx);
        for (const [pool, gpus] of Object.entries(tenant.quota)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: at("quota", pool), message: `names no pool in compute-region:gpuPools (${[...pools.keys()].join(", ") || "none"})`, input: gpus });
            else if (p.role === "internal" || p.role === "serving") ctx.addIssue({ code: "custom", path: at("quota", pool), message: `pool ${pool} is ${p.role}: it sells no reserved quota`, input: gpus });
            else if (p.role === "dedicated" && p.tenant !== tenant.name) ctx.addIssue({ code: "custom", path: at("quota", pool), message: `pool ${pool} is dedicated to ${p.tenant}`, input: gpus });
        }
        for (const [pool, gpus] of Object.entries(tenant.spot)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: at("spot", pool), message: `names no pool in compute-region:gpuPools (${[...pools.keys()].join(", ") || "none"})`, input: gpus });
            else if (p.role !== "shared") ctx.addIssue({ code: "custom", path: at("spot", pool), message: `pool ${pool} is ${p.role}: spot quota borrows only from shared pools`, input: gpus });
        }
        tenant.members.forEach((arn, j) => {
            const owner = memberOwner.get(arn);
            if (owner) ctx.addIssue({ code: "custom", path: at("members", j), message: `is already ${owner} (EKS allows one access entry per principal)`, input: arn });
            else memberOwner.set(arn, `a member of tenant ${tenant.name}`);
        });
        checkEgressCidrs(tenant.egress.allowCidrs, [config["compute-region:network"].vpcCidr, cluster.serviceCidr], at("egress", "allowCidrs"), ctx);
        checkTenantStorageAndIdentity(tenant, i, config, ctx);
    });
}

/**
 * A tenant's file system and workload identity: both need the tenant's namespace (GPU capacity), the
 * file system's zone is the region's, and a target role lives in the tenant's own account, never in
 * one of the platform's (the accounts of the admin and deployer roles).
 */
function checkTenantStorageAndIdentity(tenant: NamespacedRegionConfig["compute-region:tenants"][number], i: number, config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const at = (...path: (string | number)[]) => ["compute-region:tenants", i, ...path];
    const pools = config["compute-region:gpuPools"];
    const hasCapacity = tenantPoolQuotas(tenant, pools).length > 0;
    for (const key of ["fileSystem", "workloadIdentity"] as const) {
        if (tenant[key] && !hasCapacity) ctx.addIssue({ code: "custom", path: at(key), message: "needs GPU capacity (quota, spot or a dedicated pool): only a tenant with a namespace and nodes can use it" });
    }
    const zone = tenant.fileSystem?.availabilityZone;
    const zones = config["compute-region:availabilityZones"];
    if (zone !== undefined && !zones.includes(zone)) ctx.addIssue({ code: "custom", path: at("fileSystem", "availabilityZone"), message: `must be one of the region's availabilityZones (${zones.join(", ")})`, input: zone });
    const identity = tenant.workloadIdentity;
    if (!identity) return;
    if ((identity.targetRoleArn === undefined) === (identity.policy === undefined)) {
        ctx.addIssue({ code: "custom", path: at("workloadIdentity"), message: "must set exactly one of targetRoleArn (a role in the tenant's own account) and policy (the policy of a role created here)" });
    }
    const cluster = config["compute-region:cluster"];
    const platformAccounts = new Set([...cluster.adminRoleArns, cluster.deployerRoleArn].map((a) => iamArnAccount(a)?.accountId).filter((a): a is string => !!a));
    const target = iamArnAccount(identity.targetRoleArn);
    if (target && platformAccounts.has(target.accountId)) {
        ctx.addIssue({ code: "custom", path: at("workloadIdentity", "targetRoleArn"), message: `must be a role in the tenant's own account, not in the platform's account ${target.accountId} (that of the admin and deployer roles)`, input: identity.targetRoleArn });
    }
}

/**
 * A tenant's extra egress CIDRs never overlap the ranges tenants must never reach: private, shared
 * and link-local space and, where the stack knows them, the VPC and service CIDRs.
 */
export function checkEgressCidrs(cidrs: readonly string[], localRanges: readonly string[], path: (string | number)[], ctx: z.RefinementCtx): void {
    cidrs.forEach((c, j) => {
        if (cidrProblem(c)) return;
        const forbidden = [...NEVER_EGRESS_CIDRS, ...localRanges].find((f) => !cidrProblem(f) && cidrsOverlap(c, f));
        if (forbidden) ctx.addIssue({ code: "custom", path: [...path, j], message: `must not overlap ${forbidden} (private, link-local, VPC and service ranges are never reachable from tenants)`, input: c });
    });
}

function checkModels(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:models";
    const models = config["compute-region:models"];
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    reportDuplicates(models.map((m) => m.name), (i) => [key, i, "name"], ctx);
    const needed = new Map<string, number>();
    models.forEach((m, i) => {
        const at = (...path: (string | number)[]) => [key, i, ...path];
        if (/:latest$/.test(m.image) || !/(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/.test(m.image.replace(/^[^/]*:\d+\//, ""))) {
            ctx.addIssue({ code: "custom", path: at("image"), message: "must be pinned by a tag other than latest or by digest", input: m.image });
        }
        if (m.replicas.max < m.replicas.min) ctx.addIssue({ code: "custom", path: at("replicas", "max"), message: `must be at least replicas.min (${m.replicas.min})`, input: m.replicas.max });
        const pool = pools.get(m.pool);
        if (!pool) return ctx.addIssue({ code: "custom", path: at("pool"), message: `names no pool in compute-region:gpuPools`, input: m.pool });
        if (pool.role !== "serving") return ctx.addIssue({ code: "custom", path: at("pool"), message: `pool ${m.pool} is ${pool.role}: models run on serving pools`, input: m.pool });
        const type = gpuInstanceType(pool.instanceType);
        if (type && type.gpusPerNode % m.gpusPerReplica !== 0) {
            ctx.addIssue({ code: "custom", path: at("gpusPerReplica"), message: `must divide the ${type.gpusPerNode} GPUs of a ${pool.instanceType} node in pool ${m.pool} (tensor parallelism stays on one node)`, input: m.gpusPerReplica });
        }
        needed.set(m.pool, (needed.get(m.pool) ?? 0) + m.gpusPerReplica * m.replicas.min);
    });
    for (const [poolName, gpus] of needed) {
        const pool = pools.get(poolName)!;
        const capacity = gpuInstanceType(pool.instanceType) && poolCapacity({ ...pool, headroom: pool.headroom }, 0);
        if (!capacity) continue;
        if (gpus > capacity.headroomGpus) {
            const kept = capacity.headroomGpus === capacity.guaranteed ? `the pool guarantees ${capacity.guaranteed} (raise its minNodes)` : `the pool keeps ${capacity.headroomGpus} of its ${capacity.guaranteed} for them (headroom ${pool.headroom}; raise it or minNodes)`;
            ctx.addIssue({ code: "custom", path: [key], message: `models on pool ${poolName} need ${gpus} GPUs at their minimum replicas, but ${kept}` });
        }
    }
    const names = new Set(models.map((m) => m.name));
    const tenants = config["compute-region:tenants"];
    tenants.forEach((t, i) => {
        t.models.forEach((m, j) => {
            if (!names.has(m)) ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, "models", j], message: `names no model in compute-region:models (${[...names].join(", ") || "none"})`, input: m });
        });
        reportDuplicates(t.models, (j) => ["compute-region:tenants", i, "models", j], ctx);
    });
    checkDedicatedEndpoints(config, ctx);
    checkBatch(config, ctx);
    checkGateway(config, ctx);
}

/**
 * Dedicated endpoints run a configured model on its serving pool, one per model a tenant, and are
 * sold from what the pool's shared models do not keep: together they never exceed the pool's
 * sellable GPUs (the headroom policy's rule), so shared traffic keeps its capacity.
 */
function checkDedicatedEndpoints(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const models = new Map(config["compute-region:models"].map((m) => [m.name, m]));
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    const sold = new Map<string, { gpus: number; by: string[] }>();
    config["compute-region:tenants"].forEach((tenant, i) => {
        const at = (...path: (string | number)[]) => ["compute-region:tenants", i, "dedicated", ...path];
        reportDuplicates(tenant.dedicated.map((d) => d.model), (j) => at(j, "model"), ctx);
        tenant.dedicated.forEach((endpoint, j) => {
            const model = models.get(endpoint.model);
            if (!model) return ctx.addIssue({ code: "custom", path: at(j, "model"), message: `names no model in compute-region:models (${[...models.keys()].join(", ") || "none"})`, input: endpoint.model });
            const name = dedicatedEndpointName(tenant.name, endpoint.model);
            if (name.length > DNS_LABEL_MAX) ctx.addIssue({ code: "custom", path: at(j, "model"), message: `makes the endpoint name ${name}, longer than ${DNS_LABEL_MAX} characters (a Kubernetes Service name): shorten the tenant or model name`, input: endpoint.model });
            if (tenant.state !== "active") return;
            const entry = sold.get(model.pool) ?? { gpus: 0, by: [] };
            entry.gpus += endpoint.replicas * model.gpusPerReplica;
            entry.by.push(`${tenant.name}/${endpoint.model} (${endpoint.replicas} x ${model.gpusPerReplica})`);
            sold.set(model.pool, entry);
        });
    });
    for (const [poolName, { gpus, by }] of sold) {
        const pool = pools.get(poolName);
        if (!pool || pool.role !== "serving" || !gpuInstanceType(pool.instanceType)) continue; // checkModels reports the pool
        const capacity = poolCapacity(pool, gpus);
        if (capacity.free < 0) {
            const index = config["compute-region:gpuPools"].indexOf(pool);
            ctx.addIssue({
                code: "custom",
                path: ["compute-region:gpuPools", index, "headroom"],
                message: `leaves ${capacity.sellable} GPUs of pool ${poolName} to sell as dedicated endpoints (${capacity.guaranteed} guaranteed, the shared models keep ${capacity.headroomGpus}), but ${by.join(", ")} hold ${gpus}: lower the headroom, raise minNodes or sell fewer replicas`,
                input: pool.headroom,
            });
        }
    }
}

/** Batch inference runs on its model's serving pool, for the tenants granted the model that name principals to upload with. */
function checkBatch(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const tenants = config["compute-region:tenants"];
    const batchModels = new Set(config["compute-region:models"].filter((m) => m.batch).map((m) => m.name));
    config["compute-region:models"].forEach((model, i) => {
        if (!model.batch) return;
        const submitters = tenants.some((t) => t.batch && t.models.includes(model.name));
        if (!submitters) ctx.addIssue({ code: "custom", path: ["compute-region:models", i, "batch"], message: `is set, but no tenant granted model ${model.name} names batch principals (tenants[].batch): nobody could submit a batch` });
    });
    tenants.forEach((tenant, i) => {
        if (tenant.batch && !tenant.models.some((m) => batchModels.has(m))) {
            ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, "batch"], message: `needs a granted model with batch set (models[].batch); ${tenant.name} is granted ${tenant.models.join(", ") || "none"}` });
        }
    });
    const bucket = `${config["compute-region:cluster"].name}-batch-123456789012`;
    if (batchModels.size > 0 && bucket.length > 63) {
        ctx.addIssue({ code: "custom", path: ["compute-region:cluster", "name"], message: `is too long for batch inference: its bucket <cluster>-batch-<account> would be ${bucket.length} characters (S3 allows 63)` });
    }
}

function checkGateway(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:gateway";
    const gateway = config["compute-region:gateway"];
    const hosted = config["compute-region:tenants"].filter((t) => t.models.length > 0 || t.dedicated.length > 0);
    if (hosted.length > 0 && !gateway) {
        ctx.addIssue({ code: "custom", path: [key], message: `is required: tenants ${hosted.map((t) => t.name).join(", ")} are granted models (set hostname and certificateArn)` });
    }
    const custom = hosted.filter((t) => t.rateLimits);
    if (custom.length > MAX_CUSTOM_LIMIT_TENANTS) {
        ctx.addIssue({ code: "custom", path: ["compute-region:tenants"], message: `at most ${MAX_CUSTOM_LIMIT_TENANTS} hosted tenants may set their own rateLimits (the gateway's rate-limit policy holds two rules for each, 128 in all); ${custom.length} do: move the common figures to compute-region:gateway.tenantRateLimits` });
    }
    // PrivateLink: principals of hosted tenants only, each with one tenant, and the gateway's endpoint service on.
    const owner = new Map<string, string>();
    config["compute-region:tenants"].forEach((tenant, i) => {
        if (!tenant.privateLink) return;
        const at = ["compute-region:tenants", i, "privateLink"];
        if (tenant.models.length === 0 && tenant.dedicated.length === 0) ctx.addIssue({ code: "custom", path: at, message: "needs hosted-model access (models or dedicated): PrivateLink reaches the model gateway only" });
        if (!gateway?.privateLink) ctx.addIssue({ code: "custom", path: at, message: "needs compute-region:gateway.privateLink (the endpoint service the principals are allowed on)" });
        tenant.privateLink.principals.forEach((principal, j) => {
            const other = owner.get(principal);
            if (other) ctx.addIssue({ code: "custom", path: [...at, "principals", j], message: `is already a principal of tenant ${other}: a principal belongs to one tenant, so removing a tenant removes exactly its own`, input: principal });
            else owner.set(principal, tenant.name);
        });
    });
    if (!gateway) return;
    const certRegion = ACM_CERTIFICATE_ARN.exec(gateway.certificateArn)?.[1];
    if (certRegion && certRegion !== config["aws:region"]) {
        ctx.addIssue({ code: "custom", path: [key, "certificateArn"], message: `must be a certificate in ${config["aws:region"]} (an NLB uses certificates of its own region), got one in ${certRegion}` });
    }
    if (config["compute-region:models"].length === 0) {
        ctx.addIssue({ code: "custom", path: [key], message: "has no models to serve: set compute-region:models, or remove the gateway" });
    }
}

function checkShards(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:shards";
    const shards = config["compute-region:shards"];
    if (config["compute-region:layer"] !== "platform") {
        if (shards.length > 0) ctx.addIssue({ code: "custom", path: [key], message: 'is only for compute-region:layer "platform"' });
        return;
    }
    if (config["compute-region:tenants"].length > 0) {
        ctx.addIssue({ code: "custom", path: ["compute-region:tenants"], message: "must be empty on the platform layer: tenants live in the shard stacks" });
    }
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    reportDuplicates(shards.map((s) => s.name), (i) => [key, i, "name"], ctx);
    shards.forEach((shard, i) => {
        for (const [pool, gpus] of Object.entries(shard.budget)) {
            const p = pools.get(pool);
            if (!p) ctx.addIssue({ code: "custom", path: [key, i, "budget", pool], message: `names no pool in compute-region:gpuPools`, input: gpus });
            else if (p.role !== "shared") ctx.addIssue({ code: "custom", path: [key, i, "budget", pool], message: `pool ${pool} is ${p.role}: shards sell only shared pools`, input: gpus });
        }
    });
}

export function reportDuplicates(values: readonly string[], pathOf: (i: number) => (string | number)[], ctx: z.RefinementCtx): void {
    const seen = new Map<string, number>();
    values.forEach((value, i) => {
        const first = seen.get(value);
        if (first !== undefined) {
            ctx.addIssue({ code: "custom", path: pathOf(i), message: `must be unique: already used at [${first}]`, input: value });
        } else {
            seen.set(value, i);
        }
    });
}
