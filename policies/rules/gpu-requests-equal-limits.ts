import { stackPolicy } from "../engine/policy";
import { GPU_RESOURCE } from "../model/domain/conventions";
import { podSpecOf } from "../model/domain/workloads";
import { modelDeployment } from "../samples/serving";

export const gpuRequestsEqualLimits = stackPolicy({
    name: "gpu-requests-equal-limits",
    description: "Every container that asks for GPUs requests whole GPUs, with requests equal to limits.",
    rationale: "GPUs are not overcommitted: a request below its limit would let the scheduler and Kueue count fewer GPUs than the pod takes, and a fraction is not a GPU.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: `Set resources.requests["${GPU_RESOURCE}"] and resources.limits["${GPU_RESOURCE}"] to the same whole number.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-6", title: "Resource Availability" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateStack: (args, report) => {
        for (const r of args.resources) {
            const pod = podSpecOf(r.type, r.props);
            if (!pod) continue;
            for (const c of [...[pod?.initContainers ?? []].flat(), ...[pod?.containers ?? []].flat()]) {
                const req = c?.resources?.requests?.[GPU_RESOURCE];
                const lim = c?.resources?.limits?.[GPU_RESOURCE];
                if (req === undefined && lim === undefined) continue;
                const where = `${r.props.metadata?.namespace ?? "default"}/${r.props.metadata?.name ?? r.name}, container ${c?.name}`;
                if (String(req) !== String(lim)) report(`${where} requests ${req ?? "no"} GPUs but is limited to ${lim ?? "none"}.`, r.urn);
                else if (!/^\d+$/.test(String(lim))) report(`${where} asks for ${lim} GPUs, not a whole number.`, r.urn);
            }
        }
    },
    samples: {
        allowed: [{ description: "Two GPUs requested and limited.", resources: [modelDeployment()] }],
        disallowed: [
            { description: "Requests below limits.", expect: "serving/model-llama, container server requests 1 GPUs but is limited to 2", resources: [modelDeployment((p) => (p.containers[0].resources.requests["nvidia.com/gpu"] = "1"))] },
            {
                description: "A fractional GPU count: the device plugin advertises whole GPUs only.",
                expect: "serving/model-llama, container server asks for 0.5 GPUs, not a whole number",
                resources: [modelDeployment((p) => (p.containers[0].resources.requests["nvidia.com/gpu"] = p.containers[0].resources.limits["nvidia.com/gpu"] = "0.5"))],
            },
            { description: "A limit only (no request).", expect: "requests no GPUs but is limited to 2", resources: [modelDeployment((p) => delete p.containers[0].resources.requests["nvidia.com/gpu"])] },
        ],
    },
});
