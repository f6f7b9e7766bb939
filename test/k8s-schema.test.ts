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

    it("validates a server-side apply patch as its kind, waiving only the required properties a patch leaves out", async () => {
        const patch = (tolerations: unknown[]) => ({
            urn: "urn:pulumi:dev::compute-region::kubernetes:apps/v1:DaemonSetPatch::agent",
            type: "kubernetes:apps/v1:DaemonSetPatch",
            name: "agent",
            props: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "aws-guardduty-agent", namespace: "amazon-guardduty" }, spec: { template: { spec: { tolerations } } } },
        });
        expect((await validateKubernetesObjects([patch([{ operator: "Exists" }])])).errors).toEqual([]);
        const bad = await validateKubernetesObjects([patch([{ operator: "Always" }])]);
        expect(bad.errors).toHaveLength(1);
        expect(bad.errors[0]).toMatch(/^agent \(kubernetes:apps\/v1:DaemonSetPatch\): .*operator/);
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
