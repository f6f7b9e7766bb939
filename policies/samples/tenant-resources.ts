import { PLATFORM_ADMIN_GROUP, TAGS, TENANT_FILE_SYSTEM, tenantNamespace, tenantVolumeName } from "../model/domain/conventions";
import { tenantBoundaryDocument } from "../model/domain/tenant-identity";
import { DATA_TYPES, K8S_TYPES, TYPES } from "../model/domain/types";
import { sample } from "./sample";

/** Sample tenant file systems, volumes, workload roles and their associations, as the components make them. */

export const PLATFORM_ACCOUNT = "111122223333";

/** A tenant's Lustre file system (tagged with its tenant). */
export function fileSystem(tenant: string) {
    return sample(DATA_TYPES.lustreFileSystem, `${tenant}-fs`, { deploymentType: "PERSISTENT_2", storageCapacity: 1200, tags: { [TAGS.tenant]: tenant } }, { protect: true });
}

/** A PersistentVolume of the FSx CSI driver on a file system (named by its sample), pre-bound to a claim in `namespace` (none: unbound). */
export function volume(name: string, fs: string, namespace: string | undefined, tenant?: string) {
    return sample(
        K8S_TYPES.persistentVolume,
        name,
        {
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name, ...(tenant ? { labels: { "compute-region.io/tenant": tenant } } : {}) },
            spec: {
                capacity: { storage: "1200Gi" },
                accessModes: ["ReadWriteMany"],
                persistentVolumeReclaimPolicy: "Retain",
                storageClassName: "",
                csi: { driver: "fsx.csi.aws.com", volumeHandle: "fs-0123456789abcdef0", volumeAttributes: { dnsname: "fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com", mountname: "abcdefgh" } },
                ...(namespace ? { claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name: TENANT_FILE_SYSTEM.claimName } } : {}),
            },
        },
        { dependsOn: [fs] },
    );
}

/** The tenant's own volume on its own file system. */
export function tenantVolume(tenant: string) {
    return volume(tenantVolumeName(tenant), `${tenant}-fs`, tenantNamespace(tenant), tenant);
}

/** The boundary policy of a tenant's roles, as the component writes it (or a changed document). */
export function boundary(tenant: string, document: Record<string, unknown> = tenantBoundaryDocument({ tenant, accountId: PLATFORM_ACCOUNT, partition: "aws" })) {
    return sample(TYPES.iamPolicy, `${tenant}-boundary`, { policy: JSON.stringify(document), tags: { [TAGS.tenant]: tenant } });
}

/** A role of `tenant` (tagged), with the boundary sample `${tenant}-boundary` unless `bounded` is false. */
export function tenantRole(tenant: string, bounded = true) {
    return sample(
        TYPES.iamRole,
        `${tenant}-role`,
        { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }] }), tags: { [TAGS.tenant]: tenant } },
        bounded ? { dependsOn: [`${tenant}-boundary`] } : {},
    );
}

/** A platform role (no tenant tag), such as the EBS CSI driver's. */
export const platformRole = sample(TYPES.iamRole, "ebs-csi", { assumeRolePolicy: "{}", tags: { [TAGS.stack]: "prod" } });

/** A Pod Identity association of `namespace` with the role sample `role`. */
export function association(name: string, namespace: string, role: string, targetRoleArn?: string) {
    return sample(TYPES.eksPodIdentityAssociation, name, { clusterName: "prod", namespace, serviceAccount: "workload", ...(targetRoleArn ? { targetRoleArn } : {}) }, { dependsOn: [role] });
}

/** The cluster's KMS key, whose policy delegates to the platform account's IAM (where the policies find that account). */
export const clusterKey = sample(
    TYPES.kmsKey,
    "cluster-key",
    { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${PLATFORM_ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }] }), tags: { [TAGS.region]: "us-east-2" } },
    { protect: true },
);

/** The deployer's access entry: a platform principal, in the platform's account. */
export const deployerEntry = sample(TYPES.eksAccessEntry, "deployer", { clusterName: "prod", principalArn: `arn:aws:iam::${PLATFORM_ACCOUNT}:role/PulumiDeployer`, kubernetesGroups: [PLATFORM_ADMIN_GROUP], type: "STANDARD" });
