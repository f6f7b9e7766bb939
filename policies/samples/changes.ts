import type { SampleResource } from "../engine/policy";
import { GATEWAY, LABELS, NAMESPACES, TENANT_STATE_ANNOTATION, apiKeySecretName } from "../model/domain/conventions";
import { DATA_TYPES, K8S_TYPES, TYPES } from "../model/domain/types";
import { sample } from "./sample";

/** Sample resources for the change policies: each sample is a before and an after of these. */
export const changeSamples = {
    /** A tenant's namespace in a lifecycle state (protected unless decommissioned, as the Tenant component does). */
    tenantNamespace(tenant: string, state: "active" | "suspended" | "decommissioned"): SampleResource {
        return sample(
            K8S_TYPES.namespace,
            `tenant-${tenant}`,
            { apiVersion: "v1", kind: "Namespace", metadata: { name: `tenant-${tenant}`, labels: { [LABELS.tenant]: tenant, [LABELS.namespaceKind]: "tenant" }, annotations: { [TENANT_STATE_ANNOTATION]: state } } },
            { protect: state !== "decommissioned" },
        );
    },
    cluster(version: string, extra: Record<string, unknown> = {}): SampleResource {
        return sample(TYPES.eksCluster, "cluster", { name: "gpu-dev-use2", version, roleArn: "arn:aws:iam::111122223333:role/eks", encryptionConfig: { resources: ["secrets"] }, ...extra }, { protect: true });
    },
    /** A managed node group; `version` is its Kubernetes version when the program sets one. */
    nodeGroup(name: string, version?: string): SampleResource {
        return sample(TYPES.eksNodeGroup, name, { clusterName: "gpu-dev-use2", instanceTypes: ["p5.48xlarge"], scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 }, ...(version ? { version } : {}) });
    },
    addon(addonName: string, addonVersion?: string): SampleResource {
        return sample(TYPES.eksAddon, addonName, { clusterName: "gpu-dev-use2", addonName, ...(addonVersion ? { addonVersion } : {}) });
    },
    vpc(cidrBlock: string): SampleResource {
        return sample(TYPES.vpc, "vpc", { cidrBlock, enableDnsHostnames: true });
    },
    kmsKey(extra: Record<string, unknown> = {}): SampleResource {
        return sample(TYPES.kmsKey, "secrets-key", { enableKeyRotation: true, deletionWindowInDays: 30, ...extra }, { protect: true });
    },
    billingDatabase(allocatedStorage: number, maxAllocatedStorage = 1000, extra: Record<string, unknown> = {}): SampleResource {
        return sample(DATA_TYPES.rdsInstance, "billing", { identifier: "gpu-dev-use2-billing", engine: "postgres", engineVersion: "16.6", allocatedStorage, maxAllocatedStorage, ...extra }, { protect: true });
    },
    /** The gateway's API-key Secret of a tenant, granted `models`. */
    apiKeySecret(tenant: string, key: string, models: string[]): SampleResource {
        return sample(K8S_TYPES.secret, `key-${tenant}`, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: apiKeySecretName(tenant), namespace: NAMESPACES.gateway, labels: { [LABELS.tenant]: tenant }, annotations: { [GATEWAY.grantedModelsAnnotation]: models.join(",") } },
            type: "Opaque",
            stringData: { [tenant]: key },
        });
    },
};
