import { gpuInstanceType } from "./gpu-catalog";
import type { NodeSelectorRequirementFact, RequiredNodeAffinityFact, Source, TolerationFact } from "../upstream/types";

/**
 * Where pods can run: the nodes an EKS managed node group brings (their labels, taints and
 * allocatable resources) and the Kubernetes scheduling rules a pod's nodeSelector, required node
 * affinity and tolerations are judged by. Used by the deploy rehearsal to say whether an awaited
 * workload's pods fit a node group that exists when they are created.
 */

export interface NodeShape {
    /** The node group (a resource name in the plan). */
    group: string;
    labels: Record<string, string>;
    taints: { key: string; value?: string; effect: string }[];
    instanceType?: string;
    /** Nodes there are when the group is created (its minimum). */
    nodes: number;
    /** Allocatable per node: millicores, bytes, and extended resources (GPUs, EFA interfaces). */
    allocatable?: { cpuMilli: number; memoryBytes: number; extended: Record<string, number> };
}

export interface PodShape {
    nodeSelector: Record<string, string>;
    tolerations: readonly TolerationFact[];
    requiredNodeAffinity?: RequiredNodeAffinityFact;
    requests: { cpuMilli: number; memoryBytes: number; extended: Record<string, number> };
}

/**
 * Labels every node of an EKS managed node group carries besides its own (`labels`): the kubelet's
 * well-known ones and the node group's.
 */
export const EKS_NODE_LABELS_SOURCE: readonly Source[] = [
    { url: "https://kubernetes.io/docs/reference/labels-annotations-taints/", note: "kubernetes.io/os, kubernetes.io/arch, node.kubernetes.io/instance-type" },
    { repo: "awsdocs/amazon-eks-user-guide", ref: "4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7", file: "latest/ug/nodes/managed-node-groups.adoc", note: "eks.amazonaws.com/capacityType (line 93)" },
    { repo: "awsdocs/amazon-eks-user-guide", ref: "4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7", file: "latest/ug/nodes/managed-node-update-behavior.adoc", note: "eks.amazonaws.com/nodegroup (line 47)" },
];

/** vCPUs and memory (GiB) of the general-purpose and compute types a system node group is likely to use. */
const GENERAL_PURPOSE: Record<string, [number, number]> = {};
for (const [family, gibPerVcpu] of [["m5", 4], ["m6i", 4], ["m7i", 4], ["m6a", 4], ["m7a", 4], ["c6i", 2], ["c7i", 2], ["r6i", 8], ["r7i", 8]] as const) {
    for (const [size, vcpus] of [["large", 2], ["xlarge", 4], ["2xlarge", 8], ["4xlarge", 16], ["8xlarge", 32]] as const) GENERAL_PURPOSE[`${family}.${size}`] = [vcpus, vcpus * gibPerVcpu];
}
/** Where the general-purpose figures come from. */
export const GENERAL_PURPOSE_SOURCE: Source = { url: "https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html", note: "M, C and R families: 4, 2 and 8 GiB per vCPU" };

const GiB = 1024 ** 3;

/** Per-node allocatable resources of an instance type, where the type is known. */
export function instanceAllocatable(instanceType: string | undefined): NodeShape["allocatable"] {
    if (!instanceType) return undefined;
    const gpu = gpuInstanceType(instanceType);
    if (gpu) {
        return {
            cpuMilli: gpu.vcpus * 1000,
            memoryBytes: gpu.memoryGiB * GiB,
            extended: { "nvidia.com/gpu": gpu.gpusPerNode, ...(gpu.efaInterfaces > 0 ? { "vpc.amazonaws.com/efa": gpu.efaInterfaces } : {}) },
        };
    }
    const general = GENERAL_PURPOSE[instanceType];
    return general ? { cpuMilli: general[0] * 1000, memoryBytes: general[1] * GiB, extended: {} } : undefined;
}

/** EKS spells taint effects NO_SCHEDULE; Kubernetes NoSchedule. */
export function kubernetesEffect(effect: string): string {
    return ({ NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" } as Record<string, string>)[effect] ?? effect;
}

/** Whether one toleration tolerates a taint, with Kubernetes semantics. */
export function tolerates(t: TolerationFact, taint: { key: string; value?: string; effect: string }): boolean {
    if (t.effect && t.effect !== taint.effect) return false;
    if ((t.operator ?? "Equal") === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}

export function requirementMet(r: NodeSelectorRequirementFact, labels: Record<string, string>): boolean {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
        case "In":
            return has && (r.values ?? []).includes(labels[r.key]);
        case "NotIn":
            return !has || !(r.values ?? []).includes(labels[r.key]);
        case "Exists":
            return has;
        case "DoesNotExist":
            return !has;
    }
}

/** Why a pod cannot run on a node group's nodes, or undefined when it can. */
export function whyNotSchedulable(pod: PodShape, node: NodeShape): string | undefined {
    for (const [k, v] of Object.entries(pod.nodeSelector)) {
        if (node.labels[k] !== v) return `nodeSelector ${k}=${v} (its nodes have ${k}=${node.labels[k] ?? "(none)"})`;
    }
    if (pod.requiredNodeAffinity && pod.requiredNodeAffinity.length > 0 && !pod.requiredNodeAffinity.some((term) => term.every((r) => requirementMet(r, node.labels)))) {
        return `required node affinity (no term matches its nodes' labels)`;
    }
    const untolerated = node.taints.filter((taint) => (taint.effect === "NoSchedule" || taint.effect === "NoExecute") && !pod.tolerations.some((t) => tolerates(t, taint)));
    if (untolerated.length > 0) return `taint ${untolerated.map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).join(", ")} not tolerated`;
    const a = node.allocatable;
    if (a) {
        if (pod.requests.cpuMilli > a.cpuMilli) return `it requests ${pod.requests.cpuMilli}m CPU, more than a node's ${a.cpuMilli}m`;
        if (pod.requests.memoryBytes > a.memoryBytes) return `it requests ${Math.round(pod.requests.memoryBytes / GiB)}GiB memory, more than a node's ${Math.round(a.memoryBytes / GiB)}GiB`;
    }
    for (const [resource, n] of Object.entries(pod.requests.extended)) {
        const have = a?.extended[resource] ?? 0;
        if (n > have) return `it requests ${n} ${resource}, and a node has ${have}`;
    }
    return undefined;
}

/** Kubernetes CPU quantity to millicores; undefined when not a quantity. */
export function cpuMilli(q: unknown): number {
    if (typeof q === "number") return q * 1000;
    if (typeof q !== "string") return 0;
    const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
    if (!m) return 0;
    return m[2] === "m" ? Number(m[1]) : Number(m[1]) * 1000;
}

const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Kubernetes memory quantity to bytes. */
export function memoryBytes(q: unknown): number {
    if (typeof q === "number") return q;
    if (typeof q !== "string") return 0;
    const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
    return m ? Number(m[1]) * UNITS[m[2] ?? ""] : 0;
}
