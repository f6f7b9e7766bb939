import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { KUEUE_QUEUE_LABEL, LABELS, NAMESPACES, PRIORITY_CLASS } from "../model/domain/conventions";
import { K8S_TYPES, TYPES } from "../model/domain/types";
import { modelDeployment, modelPdb } from "../samples/serving";
import { selectorMatches } from "../model/domain/label-selectors";


/** A pinned image: a digest, or a tag other than latest. */
export function imagePinned(image: unknown): boolean {
    if (typeof image !== "string") return false;
    if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
    const tag = /:([\w][\w.-]{0,127})$/.exec(image.replace(/^[^/]*:\d+\//, ""))?.[1];
    return !!tag && tag !== "latest";
}

export const servingWorkloadsConform = stackPolicy({
    name: "serving-workloads-conform",
    description: "Model servers in the serving namespace use pinned images, the serving PriorityClass, a serving pool (its node label, taint and Kueue queue), probes, and a PodDisruptionBudget.",
    rationale:
        "Hosted models are sold with latency and availability promises: an unpinned image changes under the customers, a model " +
        "outside the serving pool or priority competes with tenants' GPUs, and a server without probes or a disruption budget " +
        "drops requests on every rollout or node drain.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Use the InferenceService component: it pins the image from config, sets the serving PriorityClass, pool and queue, startup/readiness/liveness probes and a PodDisruptionBudget.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-2", title: "Baseline Configuration (pinned images)" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Availability: protection against disruption" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateStack: (args, report) => {
        const servingPools = new Set(resourcesOfType(args, TYPES.eksNodeGroup).filter((r) => r.props.labels?.[LABELS.role] === "serving").map((r) => r.props.labels?.[LABELS.pool]));
        const pdbs = resourcesOfType(args, K8S_TYPES.podDisruptionBudget).filter((p) => p.props.metadata?.namespace === NAMESPACES.serving);
        for (const d of resourcesOfType(args, K8S_TYPES.deployment).filter((x: PolicyResource) => x.props.metadata?.namespace === NAMESPACES.serving)) {
            const name = d.props.metadata?.name;
            const pod = d.props.spec?.template?.spec ?? {};
            const containers: any[] = [pod.containers ?? []].flat();
            for (const c of [...[pod.initContainers ?? []].flat(), ...containers]) if (!imagePinned(c?.image)) report(`model server ${name}: image ${JSON.stringify(c?.image)} is not pinned by a tag other than latest or by digest.`, d.urn);
            if (pod.priorityClassName !== PRIORITY_CLASS.serving) report(`model server ${name} uses PriorityClass ${pod.priorityClassName ?? "(none)"}, not ${PRIORITY_CLASS.serving}.`, d.urn);
            const pool = pod.nodeSelector?.[LABELS.pool];
            if (!pool || (servingPools.size > 0 && !servingPools.has(pool))) report(`model server ${name} is not pinned to a serving pool (nodeSelector ${LABELS.pool}=${pool ?? "(none)"}).`, d.urn);
            if (!d.props.metadata?.labels?.[KUEUE_QUEUE_LABEL]) report(`model server ${name} names no Kueue queue (${KUEUE_QUEUE_LABEL}).`, d.urn);
            for (const c of containers) {
                const missing = ["startupProbe", "readinessProbe", "livenessProbe"].filter((p) => !c?.[p]);
                if (missing.length > 0) report(`model server ${name}, container ${c?.name}: no ${missing.join(", ")}.`, d.urn);
            }
            const labels = d.props.spec?.template?.metadata?.labels ?? {};
            if (!pdbs.some((p) => p.props.spec?.selector && selectorMatches(p.props.spec.selector, labels))) report(`model server ${name} has no PodDisruptionBudget.`, d.urn);
        }
    },
    samples: {
        allowed: [{ description: "A model server from the InferenceService component.", resources: [modelDeployment(), modelPdb] }],
        disallowed: [
            { description: "An image on latest.", expect: 'model server model-llama: image "vllm/vllm-openai:latest" is not pinned', resources: [modelDeployment((p) => (p.containers[0].image = "vllm/vllm-openai:latest")), modelPdb] },
            { description: "An image with no tag.", expect: "is not pinned", resources: [modelDeployment((p) => (p.containers[0].image = "vllm/vllm-openai")), modelPdb] },
            {
                description: "A model server outside every queue: it takes serving GPUs Kueue does not count.",
                expect: "model server model-llama names no Kueue queue (kueue.x-k8s.io/queue-name)",
                resources: [{ ...modelDeployment(), props: { ...modelDeployment().props, metadata: { name: "model-llama", namespace: "serving" } } }, modelPdb],
            },
            { description: "Tenant priority.", expect: "uses PriorityClass tenant-reserved, not serving", resources: [modelDeployment((p) => (p.priorityClassName = "tenant-reserved")), modelPdb] },
            { description: "No probes.", expect: "container server: no startupProbe, readinessProbe, livenessProbe", resources: [modelDeployment((p) => (p.containers[0] = { name: "server", image: "x:1" })), modelPdb] },
            { description: "No PodDisruptionBudget.", expect: "model server model-llama has no PodDisruptionBudget", resources: [modelDeployment()] },
            { description: "Not on a serving pool.", expect: "is not pinned to a serving pool", resources: [modelDeployment((p) => delete p.nodeSelector), modelPdb] },
        ],
    },
});
