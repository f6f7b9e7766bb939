import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
    batchOutputKey,
    capacityFromResources,
    containsProbeKey,
    ENVOY_GATEWAY_DEFAULT_FORMAT,
    INVOCATION_LOG_FORMAT,
    PROBE_KEY,
    probeRequest,
    regionCapacity,
    renderAccessLog,
} from "compute-region-policies/model";
import { UNKNOWN } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "../offline/harness";
import { batchBucketPolicy } from "../components/batch-inference";
import type { ModelSpec } from "../components/inference-service";
import { configProblems, ofType, one, plan, ROOT } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

const k8s = (kind: string, name: string, namespace?: string) =>
    ofType(dev.resources, `kubernetes:${kind}`).find((r) => r.props.metadata?.name === name && (namespace === undefined || r.props.metadata?.namespace === namespace))!;
const json = (value: unknown) => JSON.parse(value as string);

describe("dedicated endpoints", () => {
    it("give the tenant its own model server, sized and placed like the shared one, with its fixed replicas and no autoscaler", () => {
        const shared = k8s("apps/v1:Deployment", "model-llama-3-8b", "serving").props;
        const own = k8s("apps/v1:Deployment", "dedicated-initech-llama-3-8b", "serving").props;
        expect(own.spec.replicas).toBe(1);
        expect(own.metadata.labels).toMatchObject({ "compute-region.io/tenant": "initech", "compute-region.io/endpoint": "dedicated", "compute-region.io/model": "llama-3-8b", "kueue.x-k8s.io/queue-name": "dedicated-initech-serving-l40s" });
        const pod = (d: any) => d.spec.template.spec;
        expect(pod(own).containers[0].resources).toEqual(pod(shared).containers[0].resources);
        expect(pod(own).nodeSelector).toEqual(pod(shared).nodeSelector);
        expect(pod(own).priorityClassName).toBe("serving");
        expect(pod(own).containers[0].args).toEqual(expect.arrayContaining(["--served-model-name", "initech/llama-3-8b"]));
        expect(ofType(dev.resources, "kubernetes:keda.sh/v1alpha1:ScaledObject").map((r) => r.props.metadata.name).sort()).toEqual(["model-llama-3-8b", "model-qwen-2-5-32b"]);
    });

    it("hold their GPUs as sold on the serving pool (a queue that lends nothing and borrows one replica for a rollout), and the capacity table counts them", () => {
        const queue = k8s("kueue.x-k8s.io/v1beta1:ClusterQueue", "initech-serving-l40s").props;
        expect(queue.metadata.labels).toMatchObject({ "compute-region.io/queue-kind": "dedicated", "compute-region.io/tenant": "initech" });
        expect(queue.spec.cohort).toBe("pool-serving-l40s");
        expect(queue.spec.resourceGroups[0].flavors[0].resources[0]).toEqual({ name: "nvidia.com/gpu", nominalQuota: 1, borrowingLimit: 1, lendingLimit: 0 });
        // As the plan's capacity table counts it, from the planned node groups and queues.
        const serving = capacityFromResources(dev.resources).find((p) => p.pool === "serving-l40s")!;
        expect(serving).toMatchObject({ guaranteed: 8, headroomGpus: 4, sellable: 4, sold: 1, free: 3 });
        // The internal queue keeps the rest and lends its idle GPUs to batch, taking them back from anyone.
        const internal = k8s("kueue.x-k8s.io/v1beta1:ClusterQueue", "internal-serving-l40s").props;
        expect(internal.spec.resourceGroups[0].flavors[0].resources[0]).toMatchObject({ nominalQuota: 7, lendingLimit: 7 });
        expect(internal.spec.preemption.reclaimWithinCohort).toBe("Any");
    });

    it("are routed by the model name <tenant>/<model> with that tenant's key only, outside the tenant's shared-model limits", () => {
        const route = k8s("aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "dedicated-initech-llama-3-8b").props;
        expect(route.spec.rules[0].matches).toEqual([{ headers: [{ type: "Exact", name: "x-ai-eg-model", value: "initech/llama-3-8b" }] }]);
        expect(k8s("gateway.envoyproxy.io/v1alpha1:Backend", "dedicated-initech-llama-3-8b").props.spec.endpoints[0].fqdn.hostname).toBe("dedicated-initech-llama-3-8b.serving.svc.cluster.local");
        const auth = k8s("gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "dedicated-initech-llama-3-8b").props.spec.apiKeyAuth;
        expect(auth.credentialRefs).toEqual([{ group: "", kind: "Secret", name: "api-key-initech" }]);
        expect(k8s("gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "dedicated-initech-llama-3-8b").props.spec).toEqual({
            targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "dedicated-initech-llama-3-8b" }],
            loadBalancer: { type: "LeastRequest" },
        });
        // The shared routes and the Gateway's tenant limits are as before.
        expect(k8s("gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "model-llama-3-8b").props.spec.apiKeyAuth.credentialRefs).toEqual([{ group: "", kind: "Secret", name: "api-key-initech" }]);
        expect(dev.outputs.modelApi).toMatchObject({ dedicatedModels: { initech: ["initech/llama-3-8b"] } });
    });

    it("are config errors when the pool cannot sell them, the model is unknown or the name is too long", () => {
        expect(configProblems((c) => (c["compute-region:tenants"][2].dedicated = [{ model: "llama-3-8b", replicas: 5 }]))).toEqual([
            "Pulumi.dev.yaml: compute-region:gpuPools[2] (serving-l40s).headroom: leaves 4 GPUs of pool serving-l40s to sell as dedicated endpoints (8 guaranteed, the shared models keep 4), but initech/llama-3-8b (5 x 1) hold 5: lower the headroom, raise minNodes or sell fewer replicas, got 0.5",
        ]);
        expect(configProblems((c) => (c["compute-region:tenants"][2].dedicated = [{ model: "gpt-9", replicas: 1 }]))).toEqual([
            'Pulumi.dev.yaml: compute-region:tenants[2] (initech).dedicated[0].model: names no model in compute-region:models (llama-3-8b, qwen-2-5-32b), got "gpt-9"',
        ]);
        expect(configProblems((c) => c["compute-region:tenants"][2].dedicated.push({ model: "llama-3-8b", replicas: 1 }))[0]).toMatch(/dedicated\[1\]\.model: must be unique/);
        expect(
            configProblems((c) => {
                c["compute-region:models"][0].name = "a".repeat(50);
                c["compute-region:tenants"][2].models = ["qwen-2-5-32b"];
                c["compute-region:tenants"][2].dedicated = [{ model: "a".repeat(50), replicas: 1 }];
                delete c["compute-region:tenants"][2].batch;
                delete c["compute-region:models"][0].batch;
            }),
        ).toContainEqual(expect.stringContaining(`makes the endpoint name dedicated-initech-${"a".repeat(50)}, longer than 63 characters`));
    });

    it("need prices in force on their own tracks: the endpoint per replica-hour, batch per million tokens", () => {
        const without = (track: string) => (c: Record<string, any>) => (c["compute-region:billing"].prices = c["compute-region:billing"].prices.filter((p: { track: string }) => p.track !== track));
        expect(configProblems(without("dedicated_endpoint"))).toEqual([
            `Pulumi.dev.yaml: compute-region:tenants[2] (initech).dedicated[0].model: tenant initech's dedicated endpoint of llama-3-8b has no dedicated_endpoint price of llama-3-8b per replica-hour in force on ${new Date().toISOString().slice(0, 10)}: add one to compute-region:billing.prices`,
        ]);
        expect(configProblems(without("batch"))).toEqual([
            `Pulumi.dev.yaml: compute-region:tenants[2] (initech).models[0]: batch inference of llama-3-8b for tenant initech has no batch price of llama-3-8b per 1M input tokens in force on ${new Date().toISOString().slice(0, 10)}: add one to compute-region:billing.prices`,
        ]);
    });

    it("are counted as sold only while their tenant is active", () => {
        const pools = [{ name: "serving", role: "serving" as const, instanceType: "g6e.12xlarge", minNodes: 2, maxNodes: 3, headroom: 0.5 }];
        const tenant = (state: "active" | "suspended") => ({ name: "initech", state, quota: {}, spot: {}, dedicatedGpus: { serving: 2 } });
        expect(regionCapacity(pools, [tenant("active")])[0]).toMatchObject({ sellable: 4, sold: 2, free: 2 });
        expect(regionCapacity(pools, [tenant("suspended")])[0]).toMatchObject({ sold: 0 });
        // A serving pool that configures no headroom keeps everything for its shared models, as before.
        expect(regionCapacity([{ ...pools[0], headroom: undefined }], [])[0]).toMatchObject({ headroomGpus: 8, sellable: 0 });
    });
});

describe("batch inference", () => {
    it("keeps the tenants' files in a protected bucket under a customer-managed key, expired after the configured days, private, TLS only, KMS only", () => {
        const bucket = one(dev.resources, "aws:s3/bucket:Bucket");
        expect(bucket.props.bucket).toBe("gpu-dev-use2-batch-111122223333");
        expect(bucket.opts?.protect).toBe(true);
        const key = one(dev.resources, "aws:kms/key:Key", "dev-batch-key");
        expect(key.props.enableKeyRotation).toBe(true);
        expect(key.opts?.protect).toBe(true);
        const keyPolicy = json(key.props.policy);
        expect(keyPolicy.Statement.find((s: any) => s.Sid === "TenantinitechObjectsThroughS3")).toMatchObject({
            Principal: { AWS: ["arn:aws:iam::777788889999:role/initech-batch"] },
            Condition: { StringEquals: { "kms:ViaService": "s3.us-east-2.amazonaws.com" }, StringLike: { "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::gpu-dev-use2-batch-111122223333/initech/*" } },
        });
        const sse = one(dev.resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").props.rules[0];
        expect(sse.applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
        expect(sse.bucketKeyEnabled).toBe(false);
        expect(one(dev.resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").props.rules).toEqual([
            { id: "expire-batches", status: "Enabled", filter: {}, expiration: { days: 30 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
        ]);
        expect(one(dev.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").props).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        // The bucket policy names the key's ARN, known at deploy: it is unknown in the plan and built by batchBucketPolicy.
        expect(one(dev.resources, "aws:s3/bucketPolicy:BucketPolicy").props.policy).toBe(UNKNOWN);
        const arn = "arn:aws:s3:::gpu-dev-use2-batch-111122223333";
        const llama = { name: "llama-3-8b" } as ModelSpec;
        const policy = batchBucketPolicy(arn, "arn:aws:kms:us-east-2:111122223333:key/k", [
            { model: llama, tenants: [{ name: "initech", principals: ["arn:aws:iam::777788889999:role/initech-batch"] }, { name: "hooli", principals: [] }] },
        ]) as { Statement: any[] };
        const sid = (s: string) => policy.Statement.find((x: any) => x.Sid === s);
        expect(policy.Statement.map((x) => x.Sid)).toEqual(["TlsOnly", "OnlyKmsEncryption", "OnlyTheBatchKey", "TenantinitechUploads", "TenantinitechReads", "TenantinitechLists"]);
        expect(sid("OnlyTheBatchKey").Condition).toEqual({ StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-2:111122223333:key/k" } });
        expect(sid("TenantinitechReads").Resource).toEqual([`${arn}/initech/llama-3-8b/input/*`, `${arn}/initech/llama-3-8b/output/*`]);
        expect(sid("TlsOnly").Effect).toBe("Deny");
        expect(sid("OnlyKmsEncryption").Condition).toEqual({ StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } });
        expect(sid("TenantinitechUploads").Resource).toEqual(["arn:aws:s3:::gpu-dev-use2-batch-111122223333/initech/llama-3-8b/input/*"]);
        expect(sid("TenantinitechLists").Condition).toEqual({ StringLike: { "s3:prefix": ["initech/*"] } });
    });

    it("notifies one encrypted queue a model of each granted tenant's .jsonl inputs", () => {
        const queue = one(dev.resources, "aws:sqs/queue:Queue", "dev-batch-llama-3-8b-queue").props;
        expect(queue).toMatchObject({ name: "gpu-dev-use2-batch-llama-3-8b", visibilityTimeoutSeconds: 900, kmsMasterKeyId: UNKNOWN });
        const notification = one(dev.resources, "aws:s3/bucketNotification:BucketNotification").props;
        expect(notification.queues).toEqual([{ id: "initech-llama-3-8b", queueArn: UNKNOWN, events: ["s3:ObjectCreated:*"], filterPrefix: "initech/llama-3-8b/input/", filterSuffix: ".jsonl" }]);
    });

    it("runs each batch as a Job of vLLM's batch runner in a lowest-priority queue that holds no GPUs and never preempts", () => {
        const jobs = k8s("keda.sh/v1alpha1:ScaledJob", "batch-llama-3-8b", "batch-inference").props;
        const pod = jobs.spec.jobTargetRef.template;
        expect(pod.metadata.labels["kueue.x-k8s.io/queue-name"]).toBe("serving-l40s");
        expect(pod.spec.priorityClassName).toBe("batch-inference");
        expect(pod.spec.containers[0].image).toBe("vllm/vllm-openai:v0.10.1");
        expect(pod.spec.containers[0].command).toEqual(["python3", "/opt/batch/worker.py"]);
        expect(pod.spec.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
        expect(jobs.spec).toMatchObject({ maxReplicaCount: 2, triggers: [{ type: "aws-sqs-queue", authenticationRef: { name: "batch-sqs" } }] });
        expect(k8s("keda.sh/v1alpha1:TriggerAuthentication", "batch-sqs").props.spec).toEqual({ podIdentity: { provider: "aws" } });
        const priority = one(dev.resources, "kubernetes:scheduling.k8s.io/v1:PriorityClass", "dev-batch-priority").props;
        expect(priority).toMatchObject({ value: -100, preemptionPolicy: "Never" });
        const queue = k8s("kueue.x-k8s.io/v1beta1:ClusterQueue", "batch-serving-l40s").props;
        expect(queue.spec.resourceGroups[0].flavors[0].resources).toEqual([{ name: "nvidia.com/gpu", nominalQuota: 0 }]);
        expect(queue.spec.preemption).toEqual({ withinClusterQueue: "Never", reclaimWithinCohort: "Never", borrowWithinCohort: { policy: "Never" } });
        expect(k8s("core/v1:ConfigMap", "batch-worker", "batch-inference").props.data["worker.py"]).toContain("vllm.entrypoints.openai.run_batch");
        // Batch runs label their metrics batch/<model>: the shared server's KEDA trigger, alerts and metering never count them.
        expect(pod.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: "METRICS_MODEL_NAME", value: "batch/llama-3-8b" }, { name: "MODEL_NAME", value: "llama-3-8b" }]));
    });

    it("gives KEDA's operator its SQS role before the operator starts", () => {
        const association = one(dev.resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "dev-serving-keda-sqs-identity");
        expect(association.props).toMatchObject({ namespace: "keda", serviceAccount: "keda-operator" });
        const keda = ofType(dev.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.props.name === "keda")!;
        expect(keda.opts?.dependsOn).toContain(association.urn);
    });

    it("never writes outside the tenant's own prefix, takes the tenant from the object's key, and counts a batch's usage from vLLM's output", () => {
        const keys = [
            "initech/llama-3-8b/input/jobs.jsonl",
            "initech/llama-3-8b/input/2026/12/a.jsonl",
            "initech/llama-3-8b/input/../../globex/llama-3-8b/input/x.jsonl",
            "initech/llama-3-8b/input/a/../b.jsonl",
            "initech/llama-3-8b/output/x.jsonl",
            "initech/llama-3-8b/input/x.json",
            "initech/llama-3-8b/input/.jsonl",
            "Initech/llama-3-8b/input/x.jsonl",
            "initech/llama-3-8b/input/x y.jsonl",
        ];
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batch-worker-"));
        // Two lines of run_batch's output (BatchRequestOutput, vllm-project/vllm v0.10.1 protocol.py): one answered, one refused.
        const outputFile = path.join(dir, "output.jsonl");
        fs.writeFileSync(
            outputFile,
            [
                { id: "vllm-1", custom_id: "q-1", response: { status_code: 200, request_id: "vllm-batch-1", body: { id: "chatcmpl-1", object: "chat.completion", model: "llama-3-8b", choices: [], usage: { prompt_tokens: 17, completion_tokens: 22, total_tokens: 39 } } }, error: null },
                { id: "vllm-2", custom_id: "q-2", response: { status_code: 400, request_id: "vllm-batch-2" }, error: { object: "error", message: "too long", type: "BadRequestError", code: 400 } },
            ].map((l) => JSON.stringify(l)).join("\n") + "\n",
        );
        // An S3 event (the notification format of the S3 User Guide, as SQS delivers it): a key URL-encoded, another tenant's object, a foreign model's.
        const record = (key: string, sequencer: string) => ({ eventName: "ObjectCreated:Put", s3: { bucket: { name: "gpu-dev-use2-batch-111122223333" }, object: { key, sequencer } } });
        const event = { Records: [record("initech/llama-3-8b/input/run%3D2026-12-06.jsonl", "0062E4F1"), record("globex/llama-3-8b/input/x.jsonl", "0062E4F2"), record("initech/qwen-2-5-32b/input/x.jsonl", "0062E4F3")] };
        const caseFile = path.join(dir, "case.json");
        fs.writeFileSync(caseFile, JSON.stringify({ keys, outputFile, event, model: "llama-3-8b", tenants: ["initech"] }));
        const worker = path.join(ROOT, "components", "batch", "worker.py");
        const lines = execFileSync("python3", [worker, "--check", caseFile], { encoding: "utf8" }).trim().split("\n").map((l) => JSON.parse(l));
        const checked = lines.pop();
        // The objects it will not run are logged, not touched.
        expect(lines.map((l) => [l.event, l.key])).toEqual([["batch-skipped", "globex/llama-3-8b/input/x.jsonl"], ["batch-skipped", "initech/qwen-2-5-32b/input/x.jsonl"]]);
        const fromModel = keys.map((k) => batchOutputKey(k) ?? null);
        expect(checked.outputKeys).toEqual(fromModel);
        expect(fromModel).toEqual(["initech/llama-3-8b/output/jobs.jsonl", "initech/llama-3-8b/output/2026/12/a.jsonl", null, null, null, null, null, null, null]);
        expect(checked.usage).toEqual({ requests: 2, failed: 1, input_tokens: 17, output_tokens: 22 });
        expect(checked.inputs).toEqual([["initech", "initech/llama-3-8b/input/run=2026-12-06.jsonl", "initech/llama-3-8b/output/run=2026-12-06.jsonl", "0062E4F1"]]);
    });

    it("are config errors without a tenant to submit, or for a tenant with no batch model", () => {
        expect(configProblems((c) => delete c["compute-region:tenants"][2].batch)).toEqual([
            "Pulumi.dev.yaml: compute-region:models[0] (llama-3-8b).batch: is set, but no tenant granted model llama-3-8b names batch principals (tenants[].batch): nobody could submit a batch",
        ]);
        expect(configProblems((c) => delete c["compute-region:models"][0].batch)).toEqual([
            "Pulumi.dev.yaml: compute-region:tenants[2] (initech).batch: needs a granted model with batch set (models[].batch); initech is granted llama-3-8b, qwen-2-5-32b",
        ]);
        expect(configProblems((c) => (c["compute-region:tenants"][2].batch.principals = ["*"]))[0]).toMatch(/batch\.principals\[0\]: must be an account root, role or user ARN/);
    });
});

describe("private access (PrivateLink)", () => {
    it("puts an endpoint service on an internal NLB the program owns, with acceptance as configured and the gateway's hostname as private DNS name", () => {
        const service = one(dev.resources, "aws:ec2/vpcEndpointService:VpcEndpointService");
        expect(service.props).toMatchObject({ acceptanceRequired: true, privateDnsName: "models.dev.example.com", supportedIpAddressTypes: ["ipv4"] });
        const nlb = one(dev.resources, "aws:lb/loadBalancer:LoadBalancer");
        expect(nlb.props).toMatchObject({ name: "gpu-dev-use2-pl", loadBalancerType: "network", internal: true, enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off", enableDeletionProtection: true });
        // The endpoint service takes the NLB's ARN as an input: Pulumi creates it first, no look-up.
        expect(service.propertyDependencies?.networkLoadBalancerArns).toEqual([nlb.urn]);
        expect(one(dev.resources, "aws:lb/listener:Listener").props).toMatchObject({ port: 443, protocol: "TLS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
        const binding = k8s("elbv2.k8s.aws/v1beta1:TargetGroupBinding", "models-privatelink", "gateway");
        expect(binding.props.spec).toMatchObject({ serviceRef: { name: "models-privatelink", port: 443 }, targetType: "ip" });
        const lbc = ofType(dev.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.props.name === "aws-load-balancer-controller")!;
        expect(binding.opts?.dependsOn).toContain(lbc.urn);
    });

    it("allows each tenant's principals from its config (one resource each), and outputs the service name and the domain's verification record", () => {
        const allowed = ofType(dev.resources, "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple");
        expect(allowed.map((r) => r.props.principalArn)).toEqual(["arn:aws:iam::777788889999:root"]);
        expect(allowed[0].name).toMatch(/^dev-privatelink-initech-[0-9a-f]{10}$/);
        expect(dev.outputs.modelApi).toMatchObject({ privateLink: { serviceName: UNKNOWN, privateDnsName: "models.dev.example.com", domainVerification: UNKNOWN } });
    });

    it("removes a decommissioned tenant's principals, and rejects * and principals shared between tenants", async () => {
        expect(configProblems((c) => (c["compute-region:tenants"][2].privateLink.principals = ["*"]))[0]).toMatch(/privateLink\.principals\[0\]: must be an account root, role or user ARN .*never \* or a wildcard/);
        expect(
            configProblems((c) => c["compute-region:tenants"].push({ name: "hooli", models: ["qwen-2-5-32b"], privateLink: { principals: ["arn:aws:iam::777788889999:root"] } })),
        ).toEqual(['Pulumi.dev.yaml: compute-region:tenants[3] (hooli).privateLink.principals[0]: is already a principal of tenant initech: a principal belongs to one tenant, so removing a tenant removes exactly its own, got "arn:aws:iam::777788889999:root"']);
        expect(configProblems((c) => delete c["compute-region:gateway"].privateLink)).toEqual([
            "Pulumi.dev.yaml: compute-region:tenants[2] (initech).privateLink: needs compute-region:gateway.privateLink (the endpoint service the principals are allowed on)",
        ]);
    });
});

describe("invocation logs", () => {
    const proxy = () => k8s("gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "models", "gateway").props.spec.telemetry.accessLog;

    it("write one JSON line per request to stdout with the configured fields", () => {
        expect(proxy()).toEqual({ settings: [{ format: { type: "JSON", json: INVOCATION_LOG_FORMAT }, sinks: [{ type: "File", file: { path: "/dev/stdout" } }] }] });
    });

    it("render, for a request carrying an Authorization header, a line with the tenant, model, route, status, latency, tokens and request id and no credential", () => {
        const format = proxy().settings[0].format;
        const request = probeRequest(["authorization"]);
        expect(request.requestHeaders.authorization).toBe(`Bearer ${PROBE_KEY}`);
        const { line, unknownOperators } = renderAccessLog({ json: format.json }, request);
        expect(unknownOperators).toEqual([]);
        expect(line).not.toContain(PROBE_KEY);
        expect(containsProbeKey(line)).toBe(false);
        expect(line).not.toContain("secret prompt");
        expect(JSON.parse(line)).toEqual({
            time: "2026-12-06T04:10:37.844Z",
            tenant: "initech",
            model: "llama-3-8b",
            route: "httproute/gateway/model-llama-3-8b/rule/0/match/0/models_dev_example_com",
            status: 200,
            latency_ms: 840,
            input_tokens: 412,
            output_tokens: 96,
            request_id: "6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b",
            response_flags: "-",
        });
        // The same renderer finds the key where a format does log it (the check can fail).
        expect(containsProbeKey(renderAccessLog({ json: { ...format.json, auth: "%REQ(AUTHORIZATION)%" } }, request).line)).toBe(true);
        expect(containsProbeKey(renderAccessLog({ text: "%REQ(:PATH)% %REQ(authorization):16%" }, request).line)).toBe(true);
        expect(containsProbeKey(renderAccessLog(ENVOY_GATEWAY_DEFAULT_FORMAT, request).line)).toBe(true);
        expect(renderAccessLog({ text: "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%" }, request).line).toBe("/v1/chat/completions");
    });

    it("go to a log group of their own, under a key of their own, kept for the configured days, shipped by the CloudWatch add-on's Fluent Bit", () => {
        const group = one(dev.resources, "aws:cloudwatch/logGroup:LogGroup", "dev-invocation-logs-group");
        expect(group.props).toMatchObject({ name: "/compute-region/gpu-dev-use2/gateway/invocations", retentionInDays: 90, kmsKeyId: UNKNOWN });
        expect(group.opts?.protect).toBe(true);
        const key = one(dev.resources, "aws:kms/key:Key", "dev-invocation-logs-key");
        expect(key.props.enableKeyRotation).toBe(true);
        expect(json(key.props.policy).Statement.map((s: any) => s.Sid)).toContain("CloudWatchLogsEncryptsThisAccountsLogGroups");
        const addon = one(dev.resources, "aws:eks/addon:Addon", "dev-observability-cloudwatch");
        const files = json(addon.props.configurationValues).containerLogs.fluentBit.config.extraFiles;
        expect(Object.keys(files)).toEqual(["invocation-log.conf"]);
        expect(files["invocation-log.conf"]).toContain("Match         application.var.log.containers.*_gateway_envoy-*");
        expect(files["invocation-log.conf"]).toContain("Rule          $stream ^stdout$ gateway-invocations false");
        expect(files["invocation-log.conf"]).toContain("log_group_name      /compute-region/gpu-dev-use2/gateway/invocations");
        expect(files["invocation-log.conf"]).toContain("auto_create_group   false");
        expect(addon.opts?.dependsOn).toContain(group.urn);
    });
});
