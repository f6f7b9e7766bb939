import { CapacityWindow, gpuCount, PoolCapacity, poolCapacity, PoolRole, POOL_ROLES } from "../domain/capacity";
import { GPU_RESOURCE, HEADROOM_ANNOTATION, KUEUE_QUEUE_LABEL, LABELS, NAMESPACES, QUEUE_KIND_LABEL, SHARD_BUDGET_ANNOTATION, SHARD_LABEL, TAGS } from "../domain/conventions";
import { gpuInstanceType } from "../domain/gpu-catalog";
import { isUnknown, isUnknownValueError } from "./deploy-input";
import { K8S_TYPES, TYPES } from "../domain/types";
import { asList } from "../domain/values";

/**
 * Capacity as the resources show it, not as the config says: node groups give each pool's
 * instance type and guaranteed nodes, ResourceFlavors its declared headroom, and the nominal GPU
 * quota of every ClusterQueue on the pool's flavor other than the region's internal queue counts as
 * sold. So a hand-made queue cannot slip past the headroom policy, and the plan's table is evidence.
 */
export interface ResourceLike {
    type: string;
    name: string;
    props: Record<string, any>;
    urn?: string;
    /** URNs (offline plan) or resources (CrossGuard) it depends on. */
    dependencies?: readonly (string | { urn: string })[];
}

/**
 * A property as a policy may read it: undefined when the preview cannot know it (CrossGuard's
 * proxy throws on reading it; the offline plan holds the engine's unknown sentinel).
 */
export function known(read: () => unknown): unknown {
    try {
        const value = read();
        return isUnknown(value) ? undefined : value;
    } catch (e) {
        if (isUnknownValueError(e)) return undefined;
        throw e;
    }
}

/**
 * A node group's instance type: from the node group, or else from its launch template (a Capacity
 * Block node group must name the type in the template only).
 */
export function nodeGroupInstanceType(group: ResourceLike, resources: readonly ResourceLike[]): string | undefined {
    // A group that names no type (a Capacity Block's) has it computed by the provider: unknown during a preview.
    const direct = [known(() => group.props.instanceTypes) ?? []].flat()[0];
    if (typeof direct === "string") return direct;
    const urns = new Set((group.dependencies ?? []).map((d) => (typeof d === "string" ? d : d.urn)));
    const template = resources.find((r) => r.type === TYPES.launchTemplate && r.urn !== undefined && urns.has(r.urn));
    return typeof template?.props.instanceType === "string" ? template.props.instanceType : undefined;
}

const dependencyUrns = (r: ResourceLike) => new Set((r.dependencies ?? []).map((d) => (typeof d === "string" ? d : d.urn)));

/**
 * Each node group's bounds: from the NodeGroupScaling resource that sets them once the node group
 * exists (its own scalingConfig is only what it was created with, and the engine shows a policy the
 * old value of an ignored property), else from the node group.
 */
export function nodeGroupBounds(resources: readonly ResourceLike[]): (group: ResourceLike) => { minSize: number; maxSize: number; scaledBy?: string } {
    const scalers = resources.filter((r) => r.type === TYPES.nodeGroupScaling).map((r) => ({ r, deps: dependencyUrns(r) }));
    return (group) => {
        const scaler = group.urn === undefined ? undefined : scalers.find((s) => s.deps.has(group.urn!))?.r;
        const own = group.props.scalingConfig ?? {};
        const pick = (key: "minSize" | "maxSize") => Number(typeof scaler?.props[key] === "number" ? scaler.props[key] : (own[key] ?? 0));
        return { minSize: pick("minSize"), maxSize: pick("maxSize"), ...(scaler ? { scaledBy: scaler.name } : {}) };
    };
}

export interface QueueQuota {
    queue: string;
    kind: "internal" | "tenant" | "shard" | "burst" | "dedicated" | "batch" | "other";
    tenant?: string;
    nominal: number;
    lendingLimit?: number;
    borrowingLimit?: number;
    /** The queue's spec.preemption.reclaimWithinCohort: whether it takes back what it lent from any borrower. */
    reclaimWithinCohort?: string;
}

/** What a node group's tags say about the reserved capacity it launches into. */
export interface ReservationEvidence {
    /** The ODCR or Capacity Block id. */
    id: string;
    /** Instances the reservation holds, as declared; undefined when the tag is missing or not a count. */
    instances?: number;
}

/** A node group's reservation, from its tags; undefined when it declares none. */
export function nodeGroupReservation(group: ResourceLike): ReservationEvidence | undefined {
    const tags = group.props.tags ?? {};
    const id = tags[TAGS.capacityReservation];
    if (typeof id !== "string") return undefined;
    const instances = gpuCount(tags[TAGS.reservedInstances]);
    return { id, ...(instances !== undefined ? { instances } : {}) };
}

/** A Capacity Block node group's window, from its tags; undefined when it declares none. */
export function nodeGroupWindow(group: ResourceLike): CapacityWindow | undefined {
    const tags = group.props.tags ?? {};
    const startsAt = tags[TAGS.capacityBlockStartsAt];
    const endsAt = tags[TAGS.capacityBlockEndsAt];
    return typeof startsAt === "string" || typeof endsAt === "string" ? { startsAt: String(startsAt), endsAt: String(endsAt) } : undefined;
}

/** Whether a queue's quota is sold: every queue but the pool's internal (its own work) and burst (the autoscaler's) ones. */
export function holdsSoldQuota(q: Pick<QueueQuota, "kind">): boolean {
    return q.kind !== "internal" && q.kind !== "burst";
}

export interface PoolEvidence extends PoolCapacity {
    /** Node groups that make up the pool. */
    nodeGroups: string[];
    /** Headroom the pool's ResourceFlavor declares, if any. */
    declaredHeadroom?: number;
    /** The dedicated pool's tenant, from its node group labels. */
    tenant?: string;
    queues: QueueQuota[];
    /** Problems reading the evidence (a non-integer quota, a pool of unknown type). */
    problems: string[];
}

function metadataName(r: ResourceLike): string {
    return typeof r.props.metadata?.name === "string" ? r.props.metadata.name : r.name;
}

/** The GPU nominal quota, and limits, a ClusterQueue sets on a flavor. */
export function queueQuotaOn(queue: ResourceLike, flavor: string): { nominal: number; lendingLimit?: number; borrowingLimit?: number; invalid?: string } | undefined {
    let found: { nominal: number; lendingLimit?: number; borrowingLimit?: number; invalid?: string } | undefined;
    for (const group of asList(queue.props.spec?.resourceGroups)) {
        for (const f of asList(group?.flavors)) {
            if (f?.name !== flavor) continue;
            for (const res of asList(f.resources)) {
                if (res?.name !== GPU_RESOURCE) continue;
                const nominal = gpuCount(res.nominalQuota ?? 0);
                const lending = res.lendingLimit === undefined ? undefined : gpuCount(res.lendingLimit);
                const borrowing = res.borrowingLimit === undefined ? undefined : gpuCount(res.borrowingLimit);
                const invalid = nominal === undefined ? `nominalQuota ${JSON.stringify(res.nominalQuota)} is not a whole number of GPUs` : undefined;
                found = {
                    nominal: (found?.nominal ?? 0) + (nominal ?? 0),
                    ...(lending !== undefined ? { lendingLimit: lending } : {}),
                    ...(borrowing !== undefined ? { borrowingLimit: borrowing } : {}),
                    ...(invalid ? { invalid } : {}),
                };
            }
        }
    }
    return found;
}

/**
 * `onlyQueues` reads only the ClusterQueues it selects (cheaper on a region of many tenants, for a
 * policy that needs no tenant queue; `sold` then counts only those).
 */
export function capacityFromResources(resources: readonly ResourceLike[], onlyQueues?: (queue: ResourceLike) => boolean): PoolEvidence[] {
    const pools = new Map<string, PoolEvidence>();
    const boundsOf = nodeGroupBounds(resources);
    for (const group of resources.filter((r) => r.type === TYPES.eksNodeGroup)) {
        const labels = group.props.labels ?? {};
        const pool = labels[LABELS.pool];
        if (typeof pool !== "string") continue; // not a GPU pool (the system node group)
        const role = labels[LABELS.role] as PoolRole;
        const instanceType = nodeGroupInstanceType(group, resources);
        const { minSize: minNodes, maxSize: maxNodes } = boundsOf(group);
        const existing = pools.get(pool);
        const problems: string[] = existing?.problems ?? [];
        if (!POOL_ROLES.includes(role)) problems.push(`node group ${group.name} has role ${JSON.stringify(role)}, not one of ${POOL_ROLES.join(", ")}`);
        if (!gpuInstanceType(String(instanceType))) {
            problems.push(`node group ${group.name} runs ${JSON.stringify(instanceType)}, which is not in the GPU catalog`);
            continue;
        }
        const window = nodeGroupWindow(group) ?? existing?.window;
        const shape = { name: pool, role: POOL_ROLES.includes(role) ? role : "shared", instanceType: String(instanceType), minNodes: (existing?.minNodes ?? 0) + minNodes, maxNodes: (existing?.maxNodes ?? 0) + maxNodes, ...(window ? { window } : {}) };
        pools.set(pool, {
            ...poolCapacity(shape, 0),
            nodeGroups: [...(existing?.nodeGroups ?? []), group.name],
            ...(labels[LABELS.tenant] ? { tenant: labels[LABELS.tenant] } : {}),
            queues: [],
            problems,
        });
    }
    for (const flavor of resources.filter((r) => r.type === K8S_TYPES.resourceFlavor)) {
        const pool = pools.get(metadataName(flavor));
        const declared = flavor.props.metadata?.annotations?.[HEADROOM_ANNOTATION];
        if (pool && declared !== undefined) {
            const value = Number(declared);
            if (Number.isFinite(value) && value >= 0 && value <= 1) pool.declaredHeadroom = value;
            else pool.problems.push(`ResourceFlavor ${flavor.name} declares headroom ${JSON.stringify(declared)}, not a fraction between 0 and 1`);
        }
    }
    for (const queue of resources.filter((r) => r.type === K8S_TYPES.clusterQueue && (!onlyQueues || onlyQueues(r)))) {
        const labels = queue.props.metadata?.labels ?? {};
        const declared = labels[QUEUE_KIND_LABEL];
        const kind = (["internal", "tenant", "burst", "dedicated", "batch"] as const).find((k) => k === declared) ?? "other";
        for (const pool of pools.values()) {
            const quota = queueQuotaOn(queue, pool.pool);
            if (!quota) continue;
            if (quota.invalid) pool.problems.push(`ClusterQueue ${metadataName(queue)}: ${quota.invalid}`);
            pool.queues.push({
                queue: metadataName(queue),
                kind,
                ...(labels[LABELS.tenant] ? { tenant: labels[LABELS.tenant] } : {}),
                nominal: quota.nominal,
                ...(quota.lendingLimit !== undefined ? { lendingLimit: quota.lendingLimit } : {}),
                ...(quota.borrowingLimit !== undefined ? { borrowingLimit: quota.borrowingLimit } : {}),
                ...(typeof queue.props.spec?.preemption?.reclaimWithinCohort === "string" ? { reclaimWithinCohort: queue.props.spec.preemption.reclaimWithinCohort } : {}),
            });
        }
    }
    // A shard's budget on a pool is sold capacity of the platform, as its Cohort declares it.
    for (const cohort of resources.filter((r) => r.type === K8S_TYPES.cohort && r.props.metadata?.labels?.[QUEUE_KIND_LABEL] === "shard")) {
        const labels = cohort.props.metadata?.labels ?? {};
        const pool = pools.get(labels[LABELS.pool]);
        if (!pool) continue;
        const budget = gpuCount(cohort.props.metadata?.annotations?.[SHARD_BUDGET_ANNOTATION]);
        if (budget === undefined) pool.problems.push(`shard Cohort ${metadataName(cohort)} declares no whole-GPU budget (${SHARD_BUDGET_ANNOTATION})`);
        pool.queues.push({ queue: metadataName(cohort), kind: "shard", nominal: budget ?? 0, ...(labels[SHARD_LABEL] ? { tenant: `shard ${labels[SHARD_LABEL]}` } : {}) });
    }
    for (const pool of pools.values()) {
        const sold = pool.queues.filter(holdsSoldQuota).reduce((sum, q) => sum + q.nominal, 0);
        Object.assign(pool, recomputeCapacity(pool, pool.declaredHeadroom, sold));
    }
    return [...pools.values()].sort((a, b) => a.pool.localeCompare(b.pool));
}

/** The pool's capacity figures again, at another headroom (for shared pools) or another sold count. */
export function recomputeCapacity(pool: PoolCapacity, headroom: number | undefined, sold = pool.sold): PoolCapacity {
    return poolCapacity({ name: pool.pool, role: pool.role, instanceType: pool.instanceType, minNodes: pool.minNodes, maxNodes: pool.maxNodes, headroom, ...(pool.window ? { window: pool.window } : {}) }, sold);
}

/** GPUs one pod of a workload requests: its containers' GPU limits, or an init container's if more. */
export function podGpus(podSpec: Record<string, any> | undefined): number {
    const gpus = (c: any) => gpuCount(known(() => c?.resources?.limits?.[GPU_RESOURCE]) ?? 0) ?? 0;
    const main = [known(() => podSpec?.containers) ?? []].flat().reduce((sum: number, c: any) => sum + gpus(c), 0);
    const init = Math.max(0, ...[known(() => podSpec?.initContainers) ?? []].flat().map(gpus));
    return Math.max(main, init);
}

/**
 * What a serving pool's shared models hold at their planned replicas: the model servers in the serving
 * namespace admitted through the pool's own LocalQueue (named as the pool), their GPUs times their
 * replicas. Dedicated endpoints go through their tenant's queue and are not counted here; a Deployment
 * whose replicas or GPUs are unknown during a preview is left out (`unknown` names it).
 */
export function sharedModelGpus(resources: readonly ResourceLike[], pool: string): { gpus: number; models: string[]; unknown: string[] } {
    let gpus = 0;
    const models: string[] = [];
    const unknown: string[] = [];
    for (const d of resources.filter((r) => r.type === K8S_TYPES.deployment && known(() => r.props.metadata?.namespace) === NAMESPACES.serving)) {
        if (known(() => d.props.spec?.template?.metadata?.labels?.[KUEUE_QUEUE_LABEL] ?? d.props.metadata?.labels?.[KUEUE_QUEUE_LABEL]) !== pool) continue;
        const replicas = known(() => d.props.spec?.replicas);
        const name = metadataName(d);
        if (typeof replicas !== "number") {
            unknown.push(name);
            continue;
        }
        gpus += replicas * podGpus(known(() => d.props.spec?.template?.spec) as Record<string, any> | undefined);
        models.push(name);
    }
    return { gpus, models: models.sort(), unknown };
}
