import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { FSX_CSI_DRIVER, LABELS, LUSTRE_PORTS, NAMESPACES, PlatformAddressing, TAGS, TENANT_FILE_SYSTEM, tenantVolumeName } from "compute-region-policies/model";
import { CHARTS, pinnedRelease } from "./helm";
import { ON_SYSTEM_NODES } from "./nodes";
import { dependsOnOf } from "./options";

/**
 * The FSx for Lustre CSI driver, as its pinned Helm chart (not the EKS add-on). The region mounts
 * statically provisioned volumes only, which the node plugin alone serves; the chart lets the
 * controller (dynamic provisioning: privileged, and an IAM role that may create and delete file
 * systems) be scaled to none, which the add-on does not, and its version, pods and values are read
 * from the chart's source at the tag, where the add-on's versions per Kubernetes release and its
 * configuration schema are known only to the live EKS API.
 *
 * The node plugin runs on the nodes tenants run on (shared and dedicated pools), tolerating their
 * taints. It is updated OnDelete: it mounts through LNet in its own network namespace, and a
 * restarted CSI node pod under live mounts is what hung the EFS driver's mounts (aws-efs-csi-driver
 * #1270); a new version reaches a node when the node is replaced or drained.
 *
 * Options: the Kubernetes provider and, in `dependsOn`, the system node group.
 */
export function lustreCsiDriver(name: string, addressing: PlatformAddressing, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return pinnedRelease(
        name,
        CHARTS.fsxCsiDriver,
        {
            releaseName: "aws-fsx-csi-driver",
            namespace: NAMESPACES.system,
            values: {
                controller: { replicaCount: 0, ...ON_SYSTEM_NODES },
                node: {
                    affinity: {
                        nodeAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: {
                                nodeSelectorTerms: [
                                    {
                                        matchExpressions: [
                                            { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["fargate"] },
                                            { key: LABELS.role, operator: "In", values: ["shared", "dedicated"] },
                                        ],
                                    },
                                ],
                            },
                        },
                    },
                    updateStrategy: { type: "OnDelete" },
                },
            },
            network: { addressing },
        },
        opts,
    );
}

/** An S3 prefix linked into a file system at /s3. */
export interface FileSystemS3Link {
    /** The tenant's S3 prefix (s3://bucket/prefix/). */
    path: string;
    /** New and changed objects appear in the file system. */
    autoImport: boolean;
    /** Files written are exported to the prefix. */
    autoExport: boolean;
}

/** What a tenant's config says of its file system. */
export interface TenantFileSystemSettings {
    /** Capacity, GiB (1200, 2400 or a multiple of 2400). */
    storageGiB: number;
    /** Throughput tier, MB/s per TiB. */
    throughput: number;
    /** The tenant's S3 prefix to link at /s3, with the directions that sync. */
    s3?: FileSystemS3Link;
}

/** A tenant's FSx for Lustre file system in its namespace. */
export interface TenantFileSystemArgs extends TenantFileSystemSettings {
    /** The tenant (DNS label). */
    tenant: string;
    /** The tenant's namespace: the claim goes there, and the volume is bound to it alone. */
    namespace: string;
    /** Pulumi-protect the file system (the tenant is active or suspended). */
    protect: boolean;
    /** The one private subnet the file servers go in. */
    subnetId: pulumi.Input<string>;
    vpcId: pulumi.Input<string>;
    /** Security groups of the nodes the tenant's pods run on: the only clients the file servers admit. */
    clientSecurityGroupIds: pulumi.Input<string>[];
    /** The customer-managed key the file system (and its backups) are encrypted with. */
    kmsKeyArn: pulumi.Input<string>;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
}

/** Lustre's ports as security group ranges: 988, and 1018-1023. */
export const LUSTRE_PORT_RANGES: { fromPort: number; toPort: number }[] = LUSTRE_PORTS.reduce<{ fromPort: number; toPort: number }[]>((ranges, port) => {
    const last = ranges[ranges.length - 1];
    if (last && last.toPort === port - 1) last.toPort = port;
    else ranges.push({ fromPort: port, toPort: port });
    return ranges;
}, []);

/**
 * The inline rules of a group of file-system clients (nodes): Lustre to the file servers, and from
 * them calling back, by the CIDRs of the subnets the servers sit in. By CIDR, not by the servers'
 * groups: those groups admit the clients' groups by id, and a rule of each referring to the other
 * would need rule resources, which the provider cannot mix with a group's inline rules.
 */
export function lustreClientRules(serverSubnetCidrs: pulumi.Input<string>[]): { ingress: aws.types.input.ec2.SecurityGroupIngress[]; egress: aws.types.input.ec2.SecurityGroupEgress[] } {
    const rules = (description: string) => LUSTRE_PORT_RANGES.map((r) => ({ protocol: "tcp", ...r, cidrBlocks: serverSubnetCidrs, description }));
    return { ingress: rules("Lustre from tenant file servers (call-backs)"), egress: rules("Lustre to tenant file servers") };
}

/**
 * A tenant's shared file system: FSx for Lustre PERSISTENT_2 (Lustre 2.15, LZ4, daily backups kept
 * a week, a final backup on deletion) encrypted with a customer-managed key, in one private subnet,
 * behind a security group that admits only itself and the tenant's nodes on Lustre's ports; linked
 * to the tenant's S3 prefix where config asks; and, in the cluster, a statically provisioned
 * PersistentVolume of the FSx CSI driver pre-bound (claimRef) to the claim `shared-fs` in the
 * tenant's namespace, so no other claim, in any namespace, can bind it.
 *
 * The file system is protected while the tenant is active or suspended. The volume's reclaim policy
 * is Retain: deleting the Kubernetes objects never deletes the data.
 *
 * Options: the cluster's Kubernetes provider (`providers`) and, in `dependsOn`, the tenant's namespace.
 */
export class TenantFileSystem extends pulumi.ComponentResource {
    public readonly fileSystemId: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly volumeName: string;

    constructor(name: string, args: TenantFileSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("TenantFileSystem"), name, {}, componentOptions("TenantFileSystem", opts));
        if (args.clientSecurityGroupIds.length === 0) throw new pulumi.ResourceError(`TenantFileSystem ${name}: no client security group (the tenant has no nodes to mount it)`, this);
        const tags = { ...args.tags, [TAGS.tenant]: args.tenant };

        // The file servers talk to each other on these ports (creation fails otherwise), and the tenant's
        // nodes and the servers talk both ways; nothing else reaches them. The nodes' groups admit the
        // servers calling back themselves (see lustreClientRules).
        const lustre = (peers: { self?: boolean; securityGroups?: pulumi.Input<string>[] }, description: string) => LUSTRE_PORT_RANGES.map((r) => ({ protocol: "tcp", ...r, ...peers, description }));
        const group = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: args.vpcId,
                description: `FSx for Lustre file system of tenant ${args.tenant}: Lustre from itself and the tenant's nodes only`,
                ingress: [...lustre({ self: true }, "Lustre between the file servers"), ...lustre({ securityGroups: args.clientSecurityGroupIds }, `Lustre from tenant ${args.tenant}'s nodes`)],
                egress: [...lustre({ self: true }, "Lustre between the file servers"), ...lustre({ securityGroups: args.clientSecurityGroupIds }, `Lustre to tenant ${args.tenant}'s nodes (call-backs)`)],
                tags: { ...tags, [TAGS.purpose]: "lustre-file-system", Name: `fsx-${args.tenant}` },
            },
            { parent: this },
        );
        this.securityGroupId = group.id;

        const fs = new aws.fsx.LustreFileSystem(
            `${name}-fs`,
            {
                deploymentType: "PERSISTENT_2",
                storageType: "SSD",
                storageCapacity: args.storageGiB,
                perUnitStorageThroughput: args.throughput,
                fileSystemTypeVersion: "2.15",
                metadataConfiguration: { mode: "AUTOMATIC" },
                dataCompressionType: "LZ4",
                subnetIds: args.subnetId,
                securityGroupIds: [group.id],
                kmsKeyId: args.kmsKeyArn,
                automaticBackupRetentionDays: 7,
                copyTagsToBackups: true,
                // Deleting the file system (the tenant removed from config) leaves a final backup.
                skipFinalBackup: false,
                tags: { ...tags, Name: `tenant-${args.tenant}` },
            },
            { parent: this, protect: args.protect },
        );
        this.fileSystemId = fs.id;

        if (args.s3) {
            const events = ["NEW", "CHANGED", "DELETED"];
            new aws.fsx.DataRepositoryAssociation(
                `${name}-s3`,
                {
                    fileSystemId: fs.id,
                    fileSystemPath: TENANT_FILE_SYSTEM.s3Path,
                    dataRepositoryPath: args.s3.path,
                    batchImportMetaDataOnCreate: args.s3.autoImport,
                    // Removing the link never deletes the files it brought in, nor anything in S3.
                    deleteDataInFilesystem: false,
                    ...(args.s3.autoImport || args.s3.autoExport
                        ? { s3: { ...(args.s3.autoImport ? { autoImportPolicy: { events } } : {}), ...(args.s3.autoExport ? { autoExportPolicy: { events } } : {}) } }
                        : {}),
                    tags,
                },
                { parent: this },
            );
        }

        const k8sOpts = { parent: this, dependsOn: dependsOnOf(opts) };
        this.volumeName = tenantVolumeName(args.tenant);
        const storage = `${args.storageGiB}Gi`;
        const labels = { [LABELS.tenant]: args.tenant };
        const volume = new k8s.core.v1.PersistentVolume(
            `${name}-pv`,
            {
                metadata: { name: this.volumeName, labels },
                spec: {
                    capacity: { storage },
                    volumeMode: "Filesystem",
                    accessModes: ["ReadWriteMany"],
                    persistentVolumeReclaimPolicy: "Retain",
                    storageClassName: "",
                    mountOptions: ["flock"],
                    csi: { driver: FSX_CSI_DRIVER, volumeHandle: fs.id, volumeAttributes: { dnsname: fs.dnsName, mountname: fs.mountName } },
                    // Pre-bound: only this claim, in this namespace, can ever bind the volume.
                    claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: args.namespace, name: TENANT_FILE_SYSTEM.claimName },
                },
            },
            k8sOpts,
        );
        new k8s.core.v1.PersistentVolumeClaim(
            `${name}-pvc`,
            {
                metadata: { name: TENANT_FILE_SYSTEM.claimName, namespace: args.namespace, labels },
                spec: { storageClassName: "", volumeName: this.volumeName, accessModes: ["ReadWriteMany"], resources: { requests: { storage } } },
            },
            { parent: this, dependsOn: [...dependsOnOf(opts), volume] },
        );
        this.registerOutputs({ fileSystemId: this.fileSystemId, securityGroupId: this.securityGroupId, volumeName: this.volumeName });
    }
}
