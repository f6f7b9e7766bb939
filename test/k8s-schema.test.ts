import { describe, expect, it } from "vitest";
import { plan } from "./helpers";
import { validateKubernetesObjects } from "./k8s-schema";

describe("Kubernetes objects of the dev plan", () => {
    it("all pass the published Kubernetes schemas", async () => {
        const dev = await plan();
        const check = await validateKubernetesObjects(dev.resources);
        expect(check.errors).toEqual([]);
        expect(check.noSchema).toEqual([]);
        expect(check.validated.length).toBeGreaterThan(0);
    });

    it("would catch an object that breaks its schema", async () => {
        const check = await validateKubernetesObjects([
            {
                urn: "urn:pulumi:dev::compute-region::kubernetes:storage.k8s.io/v1:StorageClass::bad",
                type: "kubernetes:storage.k8s.io/v1:StorageClass",
                name: "bad",
                props: { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "bad" }, provisioner: "ebs.csi.aws.com", reclaimPolicy: "Sometimes" },
            },
        ]);
        expect(check.errors).toHaveLength(1);
        expect(check.errors[0]).toMatch(/^bad \(kubernetes:storage.k8s.io\/v1:StorageClass\): .*reclaimPolicy/);
    });

    it("would catch a Kueue queue or a TargetGroupBinding that breaks its vendored CRD: a misspelled field, a bad enum, a missing required field", async () => {
        const object = (name: string, type: string, props: Record<string, unknown>) => ({ urn: `urn:pulumi:dev::compute-region::${type}::${name}`, type, name, props });
        const queue = (resource: Record<string, unknown>, preemption: Record<string, unknown> = {}) => ({
            apiVersion: "kueue.x-k8s.io/v1beta1",
            kind: "ClusterQueue",
            metadata: { name: "batch-serving-l40s" },
            spec: { cohort: "pool-serving-l40s", preemption, resourceGroups: [{ coveredResources: ["nvidia.com/gpu"], flavors: [{ name: "serving-l40s", resources: [{ name: "nvidia.com/gpu", ...resource }] }] }] },
        });
        const check = await validateKubernetesObjects([
            object("good-queue", "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", queue({ nominalQuota: 0 }, { reclaimWithinCohort: "Never" })),
            object("misspelled", "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", queue({ nominalQuta: 0 })),
            object("bad-enum", "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", queue({ nominalQuota: 0 }, { reclaimWithinCohort: "Sometimes" })),
            object("misspelled-local", "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: "x", namespace: "batch-inference" }, spec: { clusterqueue: "batch-serving-l40s" } }),
            object("no-service", "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", { apiVersion: "elbv2.k8s.aws/v1beta1", kind: "TargetGroupBinding", metadata: { name: "x", namespace: "gateway" }, spec: { targetGroupARN: "arn", targetType: "pod" } }),
        ]);
        expect(check.validated).toEqual(["good-queue"]);
        expect(check.errors).toEqual([
            expect.stringMatching(/^misspelled .*against its vendored CRD: .*nominalQuota.*nominalQuta|^misspelled .*nominalQuta/),
            expect.stringMatching(/^bad-enum .*\/spec\/preemption\/reclaimWithinCohort must be equal to one of the allowed values/),
            expect.stringMatching(/^misspelled-local .*\/spec must NOT have additional properties \(clusterqueue\)/),
            expect.stringMatching(/^no-service .*\/spec must have required property 'serviceRef'.*\/spec\/targetType must be equal to one of the allowed values/),
        ]);
    });

    it("would catch an Envoy Gateway object that breaks its schema (the ESM models load and validate under this Node)", async () => {
        const check = await validateKubernetesObjects([
            {
                urn: "urn:pulumi:dev::compute-region::kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy::bad",
                type: "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy",
                name: "bad",
                props: { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "SecurityPolicy", metadata: { name: "bad", namespace: "gateway" }, spec: { apiKeyAuth: { credentialRefs: "api-key-acme" } } },
            },
            {
                urn: "urn:pulumi:dev::compute-region::kubernetes:gateway.networking.k8s.io/v1:Gateway::bad-gateway",
                type: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
                name: "bad-gateway",
                props: { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: "bad", namespace: "gateway" }, spec: { gatewayClassName: "x", listeners: [{ name: "api", protocol: "HTTP" }] } },
            },
        ]);
        expect(check.errors).toHaveLength(2);
        expect(check.errors[0]).toMatch(/^bad \(kubernetes:gateway.envoyproxy.io\/v1alpha1:SecurityPolicy\): .*(extractFrom|credentialRefs)/);
        expect(check.errors[1]).toMatch(/^bad-gateway \(kubernetes:gateway.networking.k8s.io\/v1:Gateway\): .*port/);
    });

    it("checks an AI Gateway route as the HTTPRoute it generates", async () => {
        const route = (timeout: string, matchType: string) => ({
            urn: "urn:pulumi:dev::compute-region::kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute::route",
            type: "kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute",
            name: "route",
            props: {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIGatewayRoute",
                metadata: { name: "model-llama", namespace: "gateway" },
                spec: { parentRefs: [{ name: "models" }], rules: [{ matches: [{ headers: [{ type: matchType, name: "x-ai-eg-model", value: "llama" }] }], backendRefs: [{ name: "model-llama" }], timeouts: { request: timeout } }] },
            },
        });
        expect((await validateKubernetesObjects([route("600s", "Exact")])).errors).toEqual([]);
        const bad = await validateKubernetesObjects([route("ten minutes", "Glob")]);
        expect(bad.errors).toHaveLength(1);
        expect(bad.errors[0]).toMatch(/^route \(kubernetes:aigateway.envoyproxy.io\/v1alpha1:AIGatewayRoute\), as the HTTPRoute it generates: .*(timeouts|type)/);
    });
});
