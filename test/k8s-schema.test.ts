import { describe, expect, it } from "vitest";
import { plan } from "./helpers";
import { validateKubernetesObjects } from "./k8s-schema";

describe("Kubernetes objects of the dev plan", () => {
    it("all pass the published Kubernetes schemas", async () => {
        const dev = await plan();
        const check = validateKubernetesObjects(dev.resources);
        expect(check.errors).toEqual([]);
        expect(check.noSchema).toEqual([]);
        expect(check.validated.length).toBeGreaterThan(0);
    });

    it("would catch an object that breaks its schema", () => {
        const check = validateKubernetesObjects([
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
});
