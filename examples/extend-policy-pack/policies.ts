// The lab's pack: every compute-region policy, spread in as they are, and one of the lab's own,
// written like compute-region's (description, severity, control mappings, remediation, and samples
// that are its tests) and built on compute-region's model (its GPU catalog and type tokens).
import { policies as computeRegionPolicies, RegionPolicy } from "compute-region-policies";
import { forType, resourcePolicy } from "compute-region-policies/engine";
import { GPU_CATALOG, gpuInstanceType, TYPES } from "compute-region-policies/model";

/** The GPU models the lab's procurement contract and driver validation cover, unless configured. */
export const DEFAULT_APPROVED_GPU_MODELS = ["h100", "l40s"];

export const gpuModelsApproved = resourcePolicy({
    name: "gpu-models-approved",
    description: "GPU node groups run only the GPU models the lab has approved (approvedGpuModels; default H100 and L40S).",
    rationale:
        "The lab buys capacity under a contract that names its GPU models and validates drivers and images per model; a pool " +
        "of another model is unbudgeted spend and runs images nobody has validated on it.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Move the pool to an approved GPU instance type, or add its GPU model to the policy's approvedGpuModels once procurement has approved it.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-7", title: "Least Functionality" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Change management: authorized infrastructure changes" },
    ],
    configSchema: {
        properties: { approvedGpuModels: { type: "array", items: { type: "string", enum: [...new Set(Object.values(GPU_CATALOG).map((g) => g.gpuModel))] } } },
    },
    validateResource: forType(TYPES.eksNodeGroup, (group, args, report) => {
        const approved = args.getConfig<{ approvedGpuModels?: string[] }>().approvedGpuModels ?? DEFAULT_APPROVED_GPU_MODELS;
        for (const instanceType of [group.instanceTypes ?? []].flat()) {
            const gpu = gpuInstanceType(String(instanceType));
            if (gpu && !approved.includes(gpu.gpuModel)) {
                report(`node group ${args.name} runs ${instanceType} (${gpu.gpuName}), a GPU model the lab has not approved (approved: ${approved.join(", ")}).`);
            }
        }
    }),
    samples: {
        allowed: [
            { description: "An H100 pool.", resources: [{ type: TYPES.eksNodeGroup, name: "shared-h100-nodes", props: { instanceTypes: ["p5.48xlarge"] } }] },
            { description: "The system node group (no GPU).", resources: [{ type: TYPES.eksNodeGroup, name: "system", props: { instanceTypes: ["m7i.xlarge"] } }] },
            {
                description: "An A100 pool once procurement approved A100s.",
                config: { approvedGpuModels: ["h100", "a100"] },
                resources: [{ type: TYPES.eksNodeGroup, name: "train-a100-nodes", props: { instanceTypes: ["p4d.24xlarge"] } }],
            },
        ],
        disallowed: [
            {
                description: "An A100 pool the lab has not approved.",
                expect: "node group train-a100-nodes runs p4d.24xlarge (NVIDIA A100 40GB), a GPU model the lab has not approved (approved: h100, l40s).",
                resources: [{ type: TYPES.eksNodeGroup, name: "train-a100-nodes", props: { instanceTypes: ["p4d.24xlarge"] } }],
            },
        ],
    },
});

/** compute-region's policies and the lab's own: the pack index.ts serves and check.ts judges. */
export const labPolicies: RegionPolicy[] = [...computeRegionPolicies, gpuModelsApproved];
