import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "../offline/harness";
import { plan, ROOT } from "./helpers";
import { CrdSchema, crdSchemas, validateKubernetesObjects } from "./k8s-schema";

let dev: OfflinePlanResult;
let crds: Map<string, CrdSchema>;
beforeAll(async () => {
    dev = await plan();
    crds = await crdSchemas(dev.resources);
});

const object = (type: string, name: string, props: Record<string, unknown>): ResourceSnapshot => ({ urn: `urn:pulumi:dev::compute-region::${type}::${name}`, type, name, props });
const named = (name: string) => dev.resources.find((r) => r.name === name)!;
const changed = (r: ResourceSnapshot, change: (props: Record<string, any>) => void): ResourceSnapshot => {
    const props = structuredClone(r.props) as Record<string, any>;
    change(props);
    return { ...r, props };
};

describe("Kubernetes objects of the dev plan", () => {
    it("all pass their schemas: core kinds the published Kubernetes ones, custom resources their CRDs' at the pinned versions", async () => {
        const check = await validateKubernetesObjects(dev.resources, crds);
        expect(check.errors).toEqual([]);
        expect(check.noSchema).toEqual([]);
        expect(check.validated.length).toBe(dev.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release").length);
        // Every CEL rule of the CRDs the plan uses was evaluated.
        expect(check.uncheckedRules).toEqual([]);
    });

    it("reads every custom resource's schema from a vendored source: the chart that installs it or the CRD EKS serves", () => {
        const sources = Object.fromEntries([...crds.values()].map((c) => [`${c.group}/${c.version}:${c.kind}`, c.source.split(" ")[0]]));
        expect(sources["kueue.x-k8s.io/v1beta1:ClusterQueue"]).toBe("vendor/charts/kueue-0.14.2");
        expect(sources["kueue.x-k8s.io/v1beta1:LocalQueue"]).toBe("vendor/charts/kueue-0.14.2");
        expect(sources["elbv2.k8s.aws/v1beta1:TargetGroupBinding"]).toBe("vendor/charts/aws-load-balancer-controller-1.17.1");
        expect(sources["aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute"]).toBe("vendor/charts/ai-gateway-crds-helm-v0.5.0");
        expect(sources["gateway.envoyproxy.io/v1alpha1:SecurityPolicy"]).toBe("vendor/charts/gateway-helm-v1.7.3");
        expect(sources["monitoring.coreos.com/v1:ServiceMonitor"]).toBe("vendor/charts/kube-prometheus-stack-75.15.0");
        expect(sources["keda.sh/v1alpha1:ScaledObject"]).toBe("vendor/charts/keda-2.17.2");
        expect(sources["vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy"]).toBe("vendor/crds/amazon-vpc-resource-controller-k8s-v1.7.19/crds/vpcresources.k8s.aws_securitygrouppolicies.yaml");
    });

    it("vendors the CRDs EKS serves byte for byte from upstream, with their license", () => {
        const dir = path.join(ROOT, "vendor", "crds");
        for (const d of fs.readdirSync(dir)) {
            const source = JSON.parse(fs.readFileSync(path.join(dir, d, "SOURCE.json"), "utf8")) as { files: Record<string, { blob: string }> };
            expect(fs.readFileSync(path.join(dir, d, "LICENSE"), "utf8").length).toBeGreaterThan(500);
            for (const [file, { blob }] of Object.entries(source.files)) {
                const bytes = fs.readFileSync(path.join(dir, d, file));
                expect(createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex"), `${d}/${file}`).toBe(blob);
            }
        }
    });
});

describe("schemas that catch what a shape check would not", () => {
    it("a misspelled nominalQuota fails the ClusterQueue CRD (the API server would drop it, and the quota with it)", async () => {
        const queue = dev.resources.find((r) => r.type === "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue")!;
        const bad = changed(queue, (p) => {
            const resource = p.spec.resourceGroups[0].flavors[0].resources[0];
            resource.nominalQuotta = resource.nominalQuota;
            delete resource.nominalQuota;
        });
        const check = await validateKubernetesObjects([bad], crds);
        expect(check.errors).toHaveLength(1);
        expect(check.errors[0]).toMatch(/\/spec\/resourceGroups\/0\/flavors\/0\/resources\/0: must NOT have additional properties 'nominalQuotta'/);
        expect(check.errors[0]).toMatch(/must have required property 'nominalQuota'/);
    });

    it("a ClusterQueue breaking the CRD's own CEL rule (a flavor covering fewer resources than the group) fails", async () => {
        const queue = dev.resources.find((r) => r.type === "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue")!;
        const bad = changed(queue, (p) => p.spec.resourceGroups[0].coveredResources.push("example.com/extra"));
        const check = await validateKubernetesObjects([bad], crds);
        expect(check.errors.join("\n")).toContain("flavors must have the same number of resources as the coveredResources");
    });

    it("the batch tier's queues and PrivateLink's TargetGroupBinding against their CRDs: a misspelled field, a bad enum, a missing required field", async () => {
        const queue = (resource: Record<string, unknown>, preemption: Record<string, unknown> = {}) => ({
            apiVersion: "kueue.x-k8s.io/v1beta1",
            kind: "ClusterQueue",
            metadata: { name: "batch-serving-l40s" },
            spec: { cohort: "pool-serving-l40s", preemption, resourceGroups: [{ coveredResources: ["nvidia.com/gpu"], flavors: [{ name: "serving-l40s", resources: [{ name: "nvidia.com/gpu", ...resource }] }] }] },
        });
        const check = await validateKubernetesObjects(
            [
                object("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "good-queue", queue({ nominalQuota: 0 }, { reclaimWithinCohort: "Never" })),
                object("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "misspelled", queue({ nominalQuta: 0 })),
                object("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "bad-enum", queue({ nominalQuota: 0 }, { reclaimWithinCohort: "Sometimes" })),
                object("kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", "misspelled-local", { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "LocalQueue", metadata: { name: "x", namespace: "batch-inference" }, spec: { clusterqueue: "batch-serving-l40s" } }),
                object("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "no-service", { apiVersion: "elbv2.k8s.aws/v1beta1", kind: "TargetGroupBinding", metadata: { name: "x", namespace: "gateway" }, spec: { targetGroupARN: "arn", targetType: "pod" } }),
            ],
            crds,
        );
        expect(check.validated).toEqual(["good-queue"]);
        expect(check.errors).toEqual([
            expect.stringMatching(/^misspelled \(kubernetes:kueue.x-k8s.io\/v1beta1:ClusterQueue\): .*must NOT have additional properties 'nominalQuta'.*must have required property 'nominalQuota'|^misspelled \(kubernetes:kueue.x-k8s.io\/v1beta1:ClusterQueue\): .*must have required property 'nominalQuota'.*must NOT have additional properties 'nominalQuta'/),
            expect.stringMatching(/^bad-enum .*\/spec\/preemption\/reclaimWithinCohort: must be equal to one of the allowed values/),
            expect.stringMatching(/^misspelled-local .*\/spec: must NOT have additional properties 'clusterqueue'/),
            expect.stringMatching(/^no-service .*\/spec: must have required property 'serviceRef'.*\/spec\/targetType: must be equal to one of the allowed values|^no-service .*\/spec\/targetType: must be equal to one of the allowed values.*\/spec: must have required property 'serviceRef'/),
        ]);
    });

    it("validates a server-side apply patch as its kind, waiving only the required properties a patch leaves out", async () => {
        const patch = (tolerations: unknown[]) =>
            object("kubernetes:apps/v1:DaemonSetPatch", "agent", { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "aws-guardduty-agent", namespace: "amazon-guardduty" }, spec: { template: { spec: { tolerations } } } });
        expect((await validateKubernetesObjects([patch([{ operator: "Exists" }])], crds)).errors).toEqual([]);
        const bad = await validateKubernetesObjects([patch([{ operator: "Always" }])], crds);
        expect(bad.errors).toHaveLength(1);
        expect(bad.errors[0]).toMatch(/^agent \(kubernetes:apps\/v1:DaemonSetPatch\): .*operator/);
    });

    it("a misspelled Envoy Gateway field fails its CRD (the API server would prune it in silence, and the rate limit it meant with it)", async () => {
        const misspelled = object("kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "limits", {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "BackendTrafficPolicy",
            metadata: { name: "limits", namespace: "gateway" },
            spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "models" }], rateLimits: { type: "Global" } },
        });
        const check = await validateKubernetesObjects([misspelled], crds);
        expect(check.errors).toHaveLength(1);
        expect(check.errors[0]).toMatch(/^limits \(kubernetes:gateway.envoyproxy.io\/v1alpha1:BackendTrafficPolicy\): \/spec: must NOT have additional properties 'rateLimits' \(the API server would drop it\)$/);
    });

    it("a SecurityGroupPolicy with a field its CRD does not have fails", async () => {
        const sgp = changed(named("dev-billing-db-clients"), (p) => (p.spec.securityGroup = p.spec.securityGroups));
        const check = await validateKubernetesObjects([sgp], crds);
        expect(check.errors[0]).toMatch(/^dev-billing-db-clients \(kubernetes:vpcresources.k8s.aws\/v1beta1:SecurityGroupPolicy\): \/spec: must NOT have additional properties 'securityGroup'/);
    });

    it("an AI Gateway route against its CRD, and as the HTTPRoute it generates", async () => {
        const route = (timeout: string, matchType: string) =>
            object("kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute", "route", {
                apiVersion: "aigateway.envoyproxy.io/v1alpha1",
                kind: "AIGatewayRoute",
                metadata: { name: "model-llama", namespace: "gateway" },
                spec: { parentRefs: [{ name: "models" }], rules: [{ matches: [{ headers: [{ type: matchType, name: "x-ai-eg-model", value: "llama" }] }], backendRefs: [{ name: "model-llama" }], timeouts: { request: timeout } }] },
            });
        expect((await validateKubernetesObjects([route("600s", "Exact")], crds)).errors).toEqual([]);
        const bad = await validateKubernetesObjects([route("ten minutes", "Glob")], crds);
        expect(bad.errors).toHaveLength(1);
        expect(bad.errors[0]).toMatch(/^route \(kubernetes:aigateway.envoyproxy.io\/v1alpha1:AIGatewayRoute\): .*type/);
        expect(bad.errors[0]).toMatch(/as the HTTPRoute it generates, .*timeouts/);
    });

    it("core kinds still against kubernetes-models, and Envoy Gateway's against their CRDs", async () => {
        const check = await validateKubernetesObjects(
            [
                object("kubernetes:storage.k8s.io/v1:StorageClass", "bad", { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "bad" }, provisioner: "ebs.csi.aws.com", reclaimPolicy: "Sometimes" }),
                object("kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy", "bad-policy", {
                    apiVersion: "gateway.envoyproxy.io/v1alpha1",
                    kind: "SecurityPolicy",
                    metadata: { name: "bad", namespace: "gateway" },
                    spec: { apiKeyAuth: { credentialRefs: "api-key-acme" } },
                }),
                object("kubernetes:gateway.networking.k8s.io/v1:Gateway", "bad-gateway", { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: "bad", namespace: "gateway" }, spec: { gatewayClassName: "x", listeners: [{ name: "api", protocol: "HTTP" }] } }),
            ],
            crds,
        );
        expect(check.errors).toHaveLength(3);
        expect(check.errors[0]).toMatch(/^bad \(kubernetes:storage.k8s.io\/v1:StorageClass\): .*reclaimPolicy/);
        expect(check.errors[1]).toMatch(/^bad-policy \(kubernetes:gateway.envoyproxy.io\/v1alpha1:SecurityPolicy\): .*(extractFrom|credentialRefs)/);
        expect(check.errors[2]).toMatch(/^bad-gateway \(kubernetes:gateway.networking.k8s.io\/v1:Gateway\): .*port/);
    });
});
