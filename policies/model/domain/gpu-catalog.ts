/**
 * The GPU instance types a region can offer, with their published figures (AWS EC2 accelerated
 * computing instance specifications). Capacity math, node group settings (EFA interfaces, local
 * NVMe) and config validation all read this one table.
 */
export type GpuModel = "h100" | "h200" | "a100" | "l40s" | "a10g";

export interface GpuInstanceType {
    instanceType: string;
    /** Short model name, used as a node label value. */
    gpuModel: GpuModel;
    /** Marketing name of the accelerator. */
    gpuName: string;
    gpusPerNode: number;
    /** Memory of one GPU, GiB. */
    gpuMemoryGiB: number;
    vcpus: number;
    /** Instance memory, GiB. */
    memoryGiB: number;
    /** Network cards that carry an EFA interface (0: no EFA). */
    efaInterfaces: number;
    /** Aggregate network bandwidth, Gbps. */
    networkGbps: number;
    /** Instance-store NVMe, GB (decimal, as EC2 publishes it). */
    localNvmeGB: number;
    /**
     * Layers of EC2's instance topology (`ec2:DescribeInstanceTopology`) its nodes are labelled with
     * (`topology.k8s.aws/network-node-layer-N`); 0 where EC2 publishes none for the type
     * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-topology-prerequisites.html).
     */
    networkNodeLayers: 0 | 3;
}

const entries: GpuInstanceType[] = [
    { instanceType: "p5.48xlarge", gpuModel: "h100", gpuName: "NVIDIA H100 80GB HBM3", gpusPerNode: 8, gpuMemoryGiB: 80, vcpus: 192, memoryGiB: 2048, efaInterfaces: 32, networkGbps: 3200, localNvmeGB: 30720, networkNodeLayers: 3 },
    { instanceType: "p5e.48xlarge", gpuModel: "h200", gpuName: "NVIDIA H200 141GB HBM3e", gpusPerNode: 8, gpuMemoryGiB: 141, vcpus: 192, memoryGiB: 2048, efaInterfaces: 32, networkGbps: 3200, localNvmeGB: 30720, networkNodeLayers: 3 },
    { instanceType: "p5en.48xlarge", gpuModel: "h200", gpuName: "NVIDIA H200 141GB HBM3e", gpusPerNode: 8, gpuMemoryGiB: 141, vcpus: 192, memoryGiB: 2048, efaInterfaces: 16, networkGbps: 3200, localNvmeGB: 30720, networkNodeLayers: 3 },
    { instanceType: "p4d.24xlarge", gpuModel: "a100", gpuName: "NVIDIA A100 40GB", gpusPerNode: 8, gpuMemoryGiB: 40, vcpus: 96, memoryGiB: 1152, efaInterfaces: 4, networkGbps: 400, localNvmeGB: 8000, networkNodeLayers: 3 },
    { instanceType: "g6e.48xlarge", gpuModel: "l40s", gpuName: "NVIDIA L40S 48GB", gpusPerNode: 8, gpuMemoryGiB: 48, vcpus: 192, memoryGiB: 1536, efaInterfaces: 4, networkGbps: 400, localNvmeGB: 7600, networkNodeLayers: 3 },
    { instanceType: "g6e.12xlarge", gpuModel: "l40s", gpuName: "NVIDIA L40S 48GB", gpusPerNode: 4, gpuMemoryGiB: 48, vcpus: 48, memoryGiB: 384, efaInterfaces: 1, networkGbps: 100, localNvmeGB: 3800, networkNodeLayers: 3 },
    { instanceType: "g5.48xlarge", gpuModel: "a10g", gpuName: "NVIDIA A10G 24GB", gpusPerNode: 8, gpuMemoryGiB: 24, vcpus: 192, memoryGiB: 768, efaInterfaces: 1, networkGbps: 100, localNvmeGB: 7600, networkNodeLayers: 0 },
];

export const GPU_CATALOG: Readonly<Record<string, GpuInstanceType>> = Object.freeze(Object.fromEntries(entries.map((e) => [e.instanceType, Object.freeze(e)])));

export function gpuInstanceType(instanceType: string): GpuInstanceType | undefined {
    return Object.prototype.hasOwnProperty.call(GPU_CATALOG, instanceType) ? GPU_CATALOG[instanceType] : undefined;
}

export const GPU_INSTANCE_TYPES = Object.keys(GPU_CATALOG);
