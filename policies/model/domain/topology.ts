import type { PoolRole } from "./capacity";
import { NETWORK_TOPOLOGY } from "./conventions";
import { gpuInstanceType } from "./gpu-catalog";

/**
 * The Kueue Topology a pool's ResourceFlavor places workloads by, or undefined: pools that sell raw
 * capacity (shared and dedicated, where multi-node jobs run) of an EFA instance type whose nodes EC2
 * labels with its network topology. Serving and internal pools stay out: every ClusterQueue whose
 * flavors all carry a topology is TAS-only, which gates every pod it admits.
 */
export function poolTopology(role: PoolRole, instanceType: string): string | undefined {
    const type = gpuInstanceType(instanceType);
    if (!type || type.efaInterfaces === 0 || type.networkNodeLayers === 0) return undefined;
    return role === "shared" || role === "dedicated" ? NETWORK_TOPOLOGY.name : undefined;
}
