import { sample } from "./sample";

const gpu = { "nvidia.com/gpu": "2", cpu: "16", memory: "120Gi" };
const probe = { httpGet: { path: "/health", port: 8000 } };

/** A model Deployment that passes every serving policy; samples change one thing at a time. */
export function modelDeployment(change: (spec: Record<string, any>) => void = () => {}, namespace = "serving") {
    const pod: Record<string, any> = {
        priorityClassName: "serving",
        nodeSelector: { "compute-region.io/pool": "serving-l40s" },
        tolerations: [{ key: "compute-region.io/pool-role", operator: "Equal", value: "serving", effect: "NoSchedule" }],
        containers: [{ name: "server", image: "vllm/vllm-openai:v0.10.1", resources: { requests: { ...gpu }, limits: { ...gpu } }, startupProbe: probe, readinessProbe: probe, livenessProbe: probe }],
    };
    change(pod);
    return sample("kubernetes:apps/v1:Deployment", "model-llama", {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "model-llama", namespace, labels: { "kueue.x-k8s.io/queue-name": "serving-l40s" } },
        spec: { selector: { matchLabels: { app: "model-llama" } }, template: { metadata: { labels: { app: "model-llama" } }, spec: pod } },
    });
}

export const modelPdb = sample("kubernetes:policy/v1:PodDisruptionBudget", "model-llama-pdb", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "model-llama", namespace: "serving" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "model-llama" } } } });
