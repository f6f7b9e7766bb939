import { stringify as toYaml } from "yaml";
import { parse as parseYaml } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Region configs for the benchmark: the dev region scaled to N tenants, with pools in proportion
 * (one shared pool for every 50 tenants, each sized to sell every tenant its quota) and every fifth
 * tenant a hosted-model-only customer.
 */
export function benchConfig(devFile: string, tenants: number): Record<string, unknown> {
    const dev = (parseYaml(fs.readFileSync(devFile, "utf8")) as { config: Record<string, any> }).config;
    const sharedPools = Math.max(1, Math.ceil(tenants / 50));
    const pools: Record<string, unknown>[] = dev["compute-region:gpuPools"].filter((p: { role: string }) => p.role === "internal" || p.role === "serving");
    const tenantList: Record<string, unknown>[] = [];
    const perPool = new Map<number, number>();
    for (let i = 0; i < tenants; i++) {
        const name = `t${String(i).padStart(4, "0")}`;
        if (i % 5 === 4) {
            tenantList.push({ name, models: ["llama-3-8b"] });
            continue;
        }
        const pool = i % sharedPools;
        perPool.set(pool, (perPool.get(pool) ?? 0) + 2);
        tenantList.push({
            name,
            quota: { [`shared-${pool}`]: 2 },
            ...(i % 3 === 0 ? { spot: { [`shared-${pool}`]: 2 } } : {}),
            members: [`arn:aws:iam::111122223333:role/tenant-${name}`],
            egress: { internet: i % 2 === 0 },
        });
    }
    for (let p = 0; p < sharedPools; p++) {
        // 8 GPUs a node; sell everything a tenant bought and keep 20% headroom.
        const minNodes = Math.ceil((perPool.get(p) ?? 0) / 8 / 0.8) + 1;
        pools.push({ name: `shared-${p}`, role: "shared", instanceType: "p5.48xlarge", minNodes, maxNodes: minNodes * 2, headroom: 0.2 });
    }
    return {
        ...dev,
        "compute-region:network": { ...dev["compute-region:network"], vpcCidr: "10.0.0.0/12", subnetPrefixLengths: { public: 24, private: 16, isolated: 24 } },
        // The dev models without batch inference: a model's batch needs a tenant naming batch principals, and the
        // generated tenants take none of the hosted-model tiers (dedicated endpoints, batch, PrivateLink), so the
        // figures stay comparable with the earlier runs'; the dev plan and its tests cover the tiers.
        "compute-region:models": dev["compute-region:models"].map(({ batch: _batch, ...model }: { batch?: unknown }) => model),
        "compute-region:gpuPools": pools,
        "compute-region:tenants": tenantList,
        // The dev stack's objectives, but for pools it names that the generated region does not have.
        ...(dev["compute-region:slos"] ? { "compute-region:slos": { ...dev["compute-region:slos"], pools: [] } } : {}),
    };
}

export function writeBenchStack(dir: string, devFile: string, tenants: number): string {
    const file = path.join(dir, `Pulumi.bench-${tenants}.yaml`);
    fs.writeFileSync(file, toYaml({ config: benchConfig(devFile, tenants) }));
    return file;
}
