import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LABELS, SYSTEM_TAINT } from "compute-region-policies/model";

/**
 * Pieces every node group of the region shares (the system group here, the GPU groups too), so the
 * node security settings are written once.
 */

/** Where the region's add-ons and controllers run: the system node group, tolerating its taint. */
export const ON_SYSTEM_NODES = {
    nodeSelector: { [LABELS.role]: "system" },
    tolerations: [{ key: SYSTEM_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
};

/**
 * EKS node auto-repair: a node the node monitoring agent marks unhealthy (AcceleratedHardwareReady
 * false on a GPU XID or double-bit ECC error, after 10 minutes; kernel, network, storage, runtime or
 * Ready after 30) is rebooted or replaced. EKS's own limits are kept: repair stops while more than
 * 20% of a group of more than five nodes is unhealthy, or during an ARC zonal shift
 * (awsdocs/amazon-eks-user-guide@dbc0b72986433b6f3ee9b5bcff7119048d5b2786 latest/ug/nodes/node-repair.adoc).
 */
export const NODE_REPAIR = { enabled: true } as const;

/** The managed policies a node needs, and no more: join the cluster, and pull images. CNI rights go to the CNI by IRSA. */
export const NODE_MANAGED_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"] as const;

export interface NodeRoleArgs {
    partition: pulumi.Input<string>;
    tags: Record<string, string>;
}

/** An IAM role for managed node groups with only `NODE_MANAGED_POLICIES` attached. */
export function nodeRole(name: string, args: NodeRoleArgs, parent: pulumi.Resource): aws.iam.Role {
    const role = new aws.iam.Role(
        `${name}-node`,
        {
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags: args.tags,
        },
        { parent },
    );
    for (const policy of NODE_MANAGED_POLICIES) {
        new aws.iam.RolePolicyAttachment(
            `${name}-node-${policy}`,
            { role: role.name, policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/${policy}` },
            { parent },
        );
    }
    return role;
}

export interface SecureLaunchTemplateArgs {
    /** Root volume size in GiB (gp3, encrypted). */
    rootVolumeGiB: number;
    /** Tags for the template and for the instances and volumes it launches. */
    tags: Record<string, string>;
    /** Extra launch template fields (network interfaces, placement, capacity reservation, user data). */
    extra?: Partial<aws.ec2.LaunchTemplateArgs>;
}

/**
 * IMDS hop limit 1 with IMDSv2 required: a pod (one hop further than the node) cannot reach the
 * instance metadata service and so cannot take the node's role.
 */
export const NODE_METADATA_OPTIONS = {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 1,
    instanceMetadataTags: "disabled",
} as const;

/** A launch template for managed node groups: IMDSv2 only with hop limit 1 and an encrypted gp3 root volume. */
export function secureLaunchTemplate(name: string, args: SecureLaunchTemplateArgs, parent: pulumi.Resource): aws.ec2.LaunchTemplate {
    return new aws.ec2.LaunchTemplate(
        `${name}-lt`,
        {
            description: `Node launch template for ${name}`,
            metadataOptions: NODE_METADATA_OPTIONS,
            blockDeviceMappings: [
                {
                    // AL2023 EKS AMIs boot from /dev/xvda.
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: args.rootVolumeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
                },
            ],
            tagSpecifications: [
                { resourceType: "instance", tags: args.tags },
                { resourceType: "volume", tags: args.tags },
            ],
            updateDefaultVersion: true,
            tags: args.tags,
            ...args.extra,
        },
        { parent },
    );
}
