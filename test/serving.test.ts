import { servingAlertRules } from "../components/alert-rules";
import { beforeAll, describe, expect, it } from "vitest";
import { TYPES } from "compute-region-policies/model";
import type { OfflinePlanResult } from "../offline/harness";
import { monitoringFromResources } from "../offline/evidence";
import { configProblems, ofType, plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const deployment = (name: string) => ofType(dev.resources, "kubernetes:apps/v1:Deployment").find((d) => d.props.metadata.name === `model-${name}`)!;

describe("hosted models", () => {
    it("run both dev models on the serving pool with the serving PriorityClass, its taint and its Kueue queue", () => {
        for (const name of ["llama-3-8b", "qwen-2-5-32b"]) {
            const d = deployment(name);
            const pod = d.props.spec.template.spec;
            expect(d.props.metadata.namespace).toBe("serving");
            expect(pod.priorityClassName).toBe("serving");
            expect(pod.nodeSelector).toEqual({ "compute-region.io/pool": "serving-l40s" });
            expect(pod.tolerations).toEqual([{ key: "compute-region.io/pool-role", operator: "Equal", value: "serving", effect: "NoSchedule" }]);
            expect(d.props.metadata.labels["kueue.x-k8s.io/queue-name"]).toBe("serving-l40s");
        }
    });

    it("request whole GPUs equal to limits, tensor parallel over several GPUs, with /dev/shm sized for it", () => {
        const qwen = deployment("qwen-2-5-32b").props.spec.template.spec;
        const server = qwen.containers[0];
        expect(server.resources.requests["nvidia.com/gpu"]).toBe("2");
        expect(server.resources.requests).toEqual(server.resources.limits);
        expect(server.args).toEqual(expect.arrayContaining(["--tensor-parallel-size", "2", "--served-model-name", "qwen-2-5-32b", "--max-model-len", "32768"]));
        expect(qwen.volumes.find((v: { name: string }) => v.name === "shm").emptyDir).toEqual({ medium: "Memory", sizeLimit: "16Gi" });
        const llama = deployment("llama-3-8b").props.spec.template.spec.containers[0];
        expect(llama.resources.limits["nvidia.com/gpu"]).toBe("1");
    });

    it("wait minutes for a model to load, never drop below the minimum on rollout, spread across nodes and AZs", () => {
        const d = deployment("llama-3-8b");
        const server = d.props.spec.template.spec.containers[0];
        expect(server.startupProbe.periodSeconds * server.startupProbe.failureThreshold).toBeGreaterThanOrEqual(1200);
        expect(server.readinessProbe.httpGet).toEqual({ path: "/health", port: 8000 });
        expect(server.livenessProbe).toBeDefined();
        expect(d.props.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        expect(d.props.spec.template.spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
        const pdb = ofType(dev.resources, "kubernetes:policy/v1:PodDisruptionBudget").find((p) => p.props.metadata.name === "model-llama-3-8b")!;
        // One replica at a time may go: a budget that admits no eviction blocks every node drain.
        expect(pdb.props.spec).toMatchObject({ maxUnavailable: 1 });
        expect(pdb.props.spec.minAvailable).toBeUndefined();
    });

    it("run unprivileged with a read-only root filesystem, and cache weights copied once from S3 by a role limited to the prefix", () => {
        const pod = deployment("llama-3-8b").props.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        for (const c of [...pod.initContainers, ...pod.containers]) expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(pod.initContainers[0].command[2]).toContain("test -f /models/.complete || (aws s3 sync s3://compute-region-dev-models/meta-llama/Llama-3.1-8B-Instruct/ /models");
        const policy = JSON.parse(ofType(dev.resources, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "dev-model-llama-3-8b-weights")!.props.policy);
        expect(policy.Statement[0]).toEqual({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::compute-region-dev-models/meta-llama/Llama-3.1-8B-Instruct/*" });
        expect(policy.Statement[1].Condition).toEqual({ StringLike: { "s3:prefix": ["meta-llama/Llama-3.1-8B-Instruct/*"] } });
    });

    it("scale with KEDA on waiting requests, between min and max", () => {
        const scaled = ofType(dev.resources, "kubernetes:keda.sh/v1alpha1:ScaledObject").find((s) => s.props.metadata.name === "model-llama-3-8b")!;
        expect(scaled.props.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 2, scaleTargetRef: { name: "model-llama-3-8b" } });
        expect(scaled.props.spec.triggers[0]).toMatchObject({ type: "prometheus", metadata: { query: 'sum(vllm:num_requests_waiting{model_name="llama-3-8b"})', threshold: "8" } });
        expect(ofType(dev.resources, TYPES.helmRelease).find((r) => r.props.name === "keda")).toBeDefined();
    });

    it("admit ingress only from the gateway and monitoring namespaces", () => {
        const admit = ofType(dev.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => p.props.metadata.namespace === "serving" && p.props.metadata.name === "admit-gateway-and-monitoring")!;
        expect(admit.props.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } }, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } } }]);
    });

    it("alert on queue depth per model, and on latency through each model's objective, with a serving dashboard", () => {
        const { rules, dashboards } = monitoringFromResources(dev.resources);
        // The two shared models and initech's dedicated endpoint, by the name vLLM labels its metrics with.
        expect(rules.filter((r) => r.alert === "ModelQueueDepthHigh")).toHaveLength(3);
        const ruleObject = ofType(dev.resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            .flatMap((r) => r.props.spec.groups)
            .find((g: { name: string }) => g.name === "compute-region.serving");
        expect(ruleObject.rules.filter((r: { alert: string }) => r.alert === "ModelQueueDepthHigh").map((r: { labels: { model: string } }) => r.labels.model)).toEqual(["llama-3-8b", "qwen-2-5-32b", "initech/llama-3-8b"]);
        // The latency objectives' burn alerts supersede the fixed p95 threshold (servingAlertRules keeps it for a model without one:
        // the dedicated endpoint, which has no objective of its own).
        expect(rules.filter((r) => r.alert === "ModelLatencyHigh").map((r) => r.model)).toEqual(["initech/llama-3-8b"]);
        expect(rules.filter((r) => r.alert === "SloErrorBudgetBurn" && /^model-.*-latency$/.test(r.slo)).map((r) => `${r.slo} ${r.severity}`)).toEqual([
            "model-llama-3-8b-latency critical",
            "model-llama-3-8b-latency warning",
            "model-qwen-2-5-32b-latency critical",
            "model-qwen-2-5-32b-latency warning",
        ]);
        expect(servingAlertRules([{ name: "m", targets: { queueDepth: 8, p95LatencySeconds: 6 } }]).flatMap((g) => g.rules).map((r) => ("alert" in r ? r.alert : ""))).toEqual(["ModelQueueDepthHigh", "ModelLatencyHigh"]);
        expect(dashboards).toContain("Model serving");
    });
});

describe("model config errors", () => {
    const problems = (mutate: (models: any[], config: Record<string, any>) => void) => configProblems((c) => mutate(c["compute-region:models"], c));
    it.each([
        ["a tensor parallel size that does not divide the node's GPUs", (m: any[]) => (m[1].gpusPerReplica = 3), "Pulumi.dev.yaml: compute-region:models[1] (qwen-2-5-32b).gpusPerReplica: must divide the 4 GPUs of a g6e.12xlarge node in pool serving-l40s (tensor parallelism stays on one node), got 3"],
        ["an image on latest", (m: any[]) => (m[0].image = "vllm/vllm-openai:latest"), 'compute-region:models[0] (llama-3-8b).image: must be pinned by a tag other than latest or by digest, got "vllm/vllm-openai:latest"'],
        ["a model on a shared pool", (m: any[]) => (m[0].pool = "shared-l40s"), "compute-region:models[0] (llama-3-8b).pool: pool shared-l40s is shared: models run on serving pools"],
        ["more GPUs than the pool keeps for its shared models", (m: any[]) => (m[0].replicas.min = 2) && (m[0].replicas.max = 3) && (m[1].replicas = { min: 2, max: 2 }), "models on pool serving-l40s need 6 GPUs at their minimum replicas, but the pool keeps 4 of its 8 for them (headroom 0.5; raise it or minNodes)"],
        [
            "more GPUs than the pool guarantees",
            (m: any[], c: Record<string, any>) => {
                delete c["compute-region:gpuPools"][2].headroom;
                c["compute-region:tenants"][2].dedicated = [];
                m[0].replicas = { min: 4, max: 4 };
                m[1].replicas = { min: 3, max: 3 };
            },
            "models on pool serving-l40s need 10 GPUs at their minimum replicas, but the pool guarantees 8 (raise its minNodes)",
        ],
        ["a tenant granted an unknown model", (_m: any[], c: Record<string, any>) => (c["compute-region:tenants"][2].models = ["gpt-9"]), "compute-region:tenants[2] (initech).models[0]: names no model in compute-region:models"],
        ["weights that are not an S3 prefix", (m: any[]) => (m[0].weights = "https://example.com/llama"), "compute-region:models[0] (llama-3-8b).weights: must be an S3 prefix"],
    ])("rejects %s", (_w, mutate, expected) => {
        const found = problems(mutate as never);
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
    });
});
