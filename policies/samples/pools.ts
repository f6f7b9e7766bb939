import type { SampleResource } from "../engine/policy";
import { sample } from "./sample";

/** Sample GPU pool resources: a node group, its ResourceFlavor, and ClusterQueues on it. */
export const poolSamples = {
    nodeGroup(pool: string, role: string, instanceType: string, minSize: number, extra: { tenant?: string; taints?: unknown[]; maxSize?: number; tags?: Record<string, string>; more?: Record<string, unknown>; dependsOn?: string[] } = {}): SampleResource {
        const labels: Record<string, string> = { "compute-region.io/pool": pool, "compute-region.io/role": role };
        if (extra.tenant) labels["compute-region.io/tenant"] = extra.tenant;
        const taints = extra.taints ?? [role === "dedicated" ? { key: "compute-region.io/tenant", value: extra.tenant, effect: "NO_SCHEDULE" } : { key: "compute-region.io/pool-role", value: role, effect: "NO_SCHEDULE" }];
        return sample(
            "aws:eks/nodeGroup:NodeGroup",
            `${pool}-nodes`,
            { instanceTypes: [instanceType], scalingConfig: { minSize, maxSize: extra.maxSize ?? minSize * 2, desiredSize: minSize }, labels, taints, launchTemplate: { id: "lt", version: "1" }, ...(extra.tags ? { tags: extra.tags } : {}), ...extra.more },
            extra.dependsOn ? { dependsOn: extra.dependsOn } : {},
        );
    },
    flavor(pool: string, headroom?: number): SampleResource {
        return sample("kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor", `${pool}-flavor`, {
            apiVersion: "kueue.x-k8s.io/v1beta1",
            kind: "ResourceFlavor",
            metadata: { name: pool, ...(headroom !== undefined ? { annotations: { "compute-region.io/headroom": String(headroom) } } : {}) },
            spec: { nodeLabels: { "compute-region.io/pool": pool } },
        });
    },
    queue(name: string, pool: string, kind: "internal" | "tenant" | "burst" | undefined, gpus: { nominal: number | string; lendingLimit?: number; borrowingLimit?: number }, tenant?: string): SampleResource {
        const labels: Record<string, string> = {};
        if (kind) labels["compute-region.io/queue-kind"] = kind;
        if (tenant) labels["compute-region.io/tenant"] = tenant;
        const resource: Record<string, unknown> = { name: "nvidia.com/gpu", nominalQuota: gpus.nominal };
        if (gpus.lendingLimit !== undefined) resource.lendingLimit = gpus.lendingLimit;
        if (gpus.borrowingLimit !== undefined) resource.borrowingLimit = gpus.borrowingLimit;
        return sample("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", name, {
            apiVersion: "kueue.x-k8s.io/v1beta1",
            kind: "ClusterQueue",
            metadata: { name, labels },
            spec: { cohort: `pool-${pool}`, resourceGroups: [{ coveredResources: ["nvidia.com/gpu"], flavors: [{ name: pool, resources: [resource] }] }] },
        });
    },
};
