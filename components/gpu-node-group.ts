import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { CLUSTER_AUTOSCALER_AWS, gpuInstanceType, LABELS, PoolRole, poolTaints, TAGS } from "compute-region-policies/model";
import { NodeGroupScaling } from "./node-group-scaling";
import { dependsOnOf } from "./options";
import { NODE_REPAIR, secureLaunchTemplate } from "./nodes";

/** An On-Demand Capacity Reservation or a Capacity Block a pool launches into. */
/** The kind of reserved capacity a pool launches into. */
export const CapacityReservationType = {
    /** An On-Demand Capacity Reservation. */
    OnDemand: "on-demand",
    /** An EC2 Capacity Block for ML: reserved for a window, nodes only inside it. */
    CapacityBlock: "capacity-block",
} as const;
/** The kind of reserved capacity a pool launches into. */
export type CapacityReservationType = (typeof CapacityReservationType)[keyof typeof CapacityReservationType];

/** A Capacity Block's window (ISO 8601 instants). */
export interface CapacityBlockWindow {
    /** When the block starts. */
    startsAt: string;
    /** When it ends. */
    endsAt: string;
}

/** Reserved capacity a GPU pool launches into. */
export interface CapacityReservationArgs {
    /** The reservation's id (cr-...). */
    id: string;
    /** An On-Demand Capacity Reservation or a Capacity Block. */
    type: CapacityReservationType;
    /** Instances the reservation holds: the pool's maxNodes never exceeds them. */
    instances: number;
    /** A Capacity Block's window (ISO 8601); its nodes exist only inside it. */
    window?: CapacityBlockWindow;
}

/** A taint of a pool's nodes, as EKS managed node groups spell it. */
export interface PoolTaint {
    /** The taint's key. */
    key: string;
    /** Its value. */
    value: string;
    /** Its effect (NO_SCHEDULE). */
    effect: string;
}

/** A GPU pool's nodes: what a region's config says of each pool's node group. */
export interface GpuPoolNodes {
    /** A GPU instance type from the catalog. */
    instanceType: string;
    /** Guaranteed nodes: the autoscaler never goes below. */
    minNodes: number;
    /** Most nodes the autoscaler may reach (burst capacity above minNodes, never sold). */
    maxNodes: number;
    /** Root volume size, GiB (sized for model weights and images). */
    rootVolumeGiB: number;
    /** Launch into a cluster placement group (single AZ; never with reserved capacity). */
    placementGroup: boolean;
    /** An On-Demand Capacity Reservation or a Capacity Block to launch into. */
    capacityReservation?: CapacityReservationArgs;
}

/** A GPU pool's node group joined to an EKS cluster. */
export interface GpuNodeGroupArgs extends GpuPoolNodes {
    /** The EKS cluster to join. */
    clusterName: pulumi.Input<string>;
    /** The Kubernetes version the nodes run: the cluster's, so that they follow its upgrades. */
    kubernetesVersion: pulumi.Input<string>;
    /** The AWS region (the scaling bounds are set through the EKS API there). */
    region: pulumi.Input<string>;
    /** Pool name (node label, taint, Kueue flavor). */
    poolName: string;
    /** What the pool is for. */
    role: PoolRole;
    /** The tenant of a dedicated pool. */
    tenant?: string;
    /** Private subnets of the pool's AZs. */
    subnetIds: pulumi.Input<string>[];
    /** The GPU nodes' IAM role (only the managed policies a node needs). */
    nodeRoleArn: pulumi.Input<string>;
    /** The cluster security group: EFA interfaces declared in the launch template need it explicitly. */
    clusterSecurityGroupId: pulumi.Input<string>;
    /** The VPC, for a dedicated pool's own security group. */
    vpcId: pulumi.Input<string>;
    /** Security groups the nodes also carry (the clients group of tenant file systems). */
    extraSecurityGroupIds?: pulumi.Input<string>[];
    /** Tags for every AWS resource. */
    tags: Record<string, string>;
}

/**
 * nodeadm config for AL2023: the instance-store NVMe drives become one RAID0 array that backs the
 * kubelet's and containerd's directories, so emptyDir volumes (the model weights cache) and image
 * layers live on local NVMe. EKS merges this MIME part with its own bootstrap.
 */
export const NVME_RAID0_USER_DATA = [
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="//"',
    "",
    "--//",
    "Content-Type: application/node.eks.aws",
    "",
    "---",
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  instance:",
    "    localStorage:",
    "      strategy: RAID0",
    "",
    "--//--",
    "",
].join("\n");

/**
 * The network interfaces of an EFA instance: the primary (card 0, device 0) is an EFA with ENA, so
 * the node keeps its IP networking; every other network card gets an EFA-only interface at device
 * index 1, which carries RDMA traffic without taking VPC addresses.
 */
export function efaNetworkInterfaces(efaInterfaces: number, securityGroups: pulumi.Input<string>[]): aws.types.input.ec2.LaunchTemplateNetworkInterface[] {
    if (efaInterfaces === 0) return [];
    return Array.from({ length: efaInterfaces }, (_, card) => ({
        networkCardIndex: card,
        deviceIndex: card === 0 ? 0 : 1,
        interfaceType: card === 0 ? "efa" : "efa-only",
        securityGroups,
        deleteOnTermination: "true",
    }));
}

/**
 * One GPU pool as an EKS managed node group on the EKS NVIDIA AMI (AL2023, driver included): IMDSv2
 * with hop limit 1 (pods cannot take the node's role), an encrypted root volume sized for weights,
 * local NVMe as RAID0 for the weights cache, EFA where the type has it, an optional cluster
 * placement group, optional capacity-reservation or Capacity Block targeting, and labels and a
 * `NO_SCHEDULE` taint for its role (a dedicated pool's taint names its tenant).
 *
 * The nodes run the cluster's Kubernetes version (a node group without one stays at its creation
 * version), EKS node auto-repair replaces or reboots nodes the node monitoring agent finds unhealthy
 * (GPU XID and double-bit ECC errors among them), and the bounds are set by a NodeGroupScaling
 * resource so the Cluster Autoscaler owns the desired size. The node group's tags declare its
 * reservation and window (the capacity model reads them) and, for scale-from-zero, the EFA devices
 * its nodes will have.
 *
 * A Capacity Block node group only has capacity inside the block's window: EKS scales it to zero
 * forty minutes before the block ends (EC2 terminates the instances from thirty minutes before).
 * Upgrade its Kubernetes version while it is at zero (see docs/changing-a-region.md "Upgrade Kubernetes").
 */
/** The tags that declare a pool's reservation (and a Capacity Block's window) on its node group. */
export function reservationTags(reservation: CapacityReservationArgs | undefined): Record<string, string> {
    if (!reservation) return {};
    return {
        [TAGS.capacityReservation]: reservation.id,
        [TAGS.reservedInstances]: String(reservation.instances),
        ...(reservation.window ? { [TAGS.capacityBlockStartsAt]: reservation.window.startsAt, [TAGS.capacityBlockEndsAt]: reservation.window.endsAt } : {}),
    };
}

/** A GPU pool: a managed node group of one GPU instance type, labelled and tainted for its role, scaled by the autoscaler. */
export class GpuNodeGroup extends pulumi.ComponentResource {
    /** The managed node group's name. */
    public readonly nodeGroupName: pulumi.Output<string>;
    /** The labels of the pool's nodes. */
    public readonly labels: Record<string, string>;
    /** The taints of the pool's nodes. */
    public readonly taints: PoolTaint[];

    constructor(name: string, args: GpuNodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("GpuNodeGroup"), name, {}, componentOptions("GpuNodeGroup", opts));
        const type = gpuInstanceType(args.instanceType);
        if (!type) throw new pulumi.ResourceError(`GpuNodeGroup ${name}: ${args.instanceType} is not in the GPU catalog`, this);
        if (args.role === "dedicated" && !args.tenant) throw new pulumi.ResourceError(`GpuNodeGroup ${name}: a dedicated pool needs its tenant`, this);
        if (args.placementGroup && args.capacityReservation) {
            throw new pulumi.ResourceError(`GpuNodeGroup ${name}: a placement group cannot be forced on reserved capacity (InsufficientInstanceCapacity)`, this);
        }
        if (args.maxNodes < args.minNodes) throw new pulumi.ResourceError(`GpuNodeGroup ${name}: maxNodes ${args.maxNodes} is below minNodes ${args.minNodes}`, this);
        if (args.capacityReservation && args.maxNodes > args.capacityReservation.instances) {
            throw new pulumi.ResourceError(`GpuNodeGroup ${name}: maxNodes ${args.maxNodes} is above the ${args.capacityReservation.instances} instances reservation ${args.capacityReservation.id} holds`, this);
        }
        if (args.capacityReservation?.type === "capacity-block" && !args.capacityReservation.window) {
            throw new pulumi.ResourceError(`GpuNodeGroup ${name}: a Capacity Block pool needs the block's window`, this);
        }

        this.labels = {
            [LABELS.pool]: args.poolName,
            [LABELS.role]: args.role,
            [LABELS.gpuModel]: type.gpuModel,
            [LABELS.accelerator]: type.gpuModel,
            ...(args.tenant ? { [LABELS.tenant]: args.tenant } : {}),
            ...(type.efaInterfaces > 0 ? { [LABELS.efa]: "true" } : {}),
        };
        this.taints = poolTaints(args.role, args.tenant);
        const tags = { ...args.tags, [TAGS.pool]: args.poolName };

        const placementGroup = args.placementGroup
            ? new aws.ec2.PlacementGroup(`${name}-placement`, { strategy: "cluster", tags }, { parent: this })
            : undefined;
        const reservation = args.capacityReservation;
        const capacityBlock = reservation?.type === "capacity-block";
        // A dedicated pool gets its own security group, open only to itself (EFA needs that), so no
        // rule added later can be aimed at one tenant's nodes without the policy pack seeing it.
        const poolGroup =
            args.role === "dedicated"
                ? new aws.ec2.SecurityGroup(
                      `${name}-pool-sg`,
                      {
                          vpcId: args.vpcId,
                          description: `Nodes of dedicated pool ${args.poolName} (tenant ${args.tenant})`,
                          ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true, description: "pool members (EFA, NCCL)" }],
                          egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "outbound" }],
                          tags: { ...tags, [TAGS.tenant]: args.tenant!, Name: `${args.poolName}-pool` },
                      },
                      { parent: this },
                  )
                : undefined;
        const extraGroups = args.extraSecurityGroupIds ?? [];
        const securityGroups: pulumi.Input<string>[] = [args.clusterSecurityGroupId, ...(poolGroup ? [poolGroup.id] : []), ...extraGroups];
        const template = secureLaunchTemplate(
            name,
            {
                rootVolumeGiB: args.rootVolumeGiB,
                tags: { ...tags, Name: `${args.poolName}-gpu` },
                extra: {
                    userData: Buffer.from(NVME_RAID0_USER_DATA).toString("base64"),
                    // EKS takes a Capacity Block's instance type from the launch template only.
                    ...(capacityBlock ? { instanceType: args.instanceType } : {}),
                    ...(type.efaInterfaces > 0
                        ? { networkInterfaces: efaNetworkInterfaces(type.efaInterfaces, securityGroups) }
                        : poolGroup || extraGroups.length > 0
                          ? { vpcSecurityGroupIds: securityGroups }
                          : {}),
                    ...(placementGroup ? { placement: { groupName: placementGroup.name } } : {}),
                    ...(reservation
                        ? {
                              capacityReservationSpecification: { capacityReservationTarget: { capacityReservationId: reservation.id } },
                              ...(capacityBlock ? { instanceMarketOptions: { marketType: "capacity-block" } } : {}),
                          }
                        : {}),
                },
            },
            this,
        );

        const group = new aws.eks.NodeGroup(
            `${name}-nodes`,
            {
                clusterName: args.clusterName,
                version: args.kubernetesVersion,
                nodeRoleArn: args.nodeRoleArn,
                subnetIds: args.subnetIds,
                amiType: "AL2023_x86_64_NVIDIA",
                ...(capacityBlock ? {} : { instanceTypes: [args.instanceType] }),
                capacityType: capacityBlock ? "CAPACITY_BLOCK" : "ON_DEMAND",
                // What the group is created with; NodeGroupScaling sets the bounds from then on.
                scalingConfig: { minSize: args.minNodes, maxSize: args.maxNodes, desiredSize: args.minNodes },
                launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
                labels: this.labels,
                taints: this.taints,
                // GPU nodes drain slowly (model servers, training steps): one at a time, within their PodDisruptionBudgets.
                updateConfig: { maxUnavailable: 1 },
                nodeRepairConfig: NODE_REPAIR,
                tags: { ...tags, ...reservationTags(reservation), ...(type.efaInterfaces > 0 ? { [CLUSTER_AUTOSCALER_AWS.nodeTemplateResourceTag("vpc.amazonaws.com/efa")]: String(type.efaInterfaces) } : {}) },
            },
            // What the component waits for (the system node group, after the networking add-ons) holds
            // for its nodes too: a component's dependsOn does not reach its children by itself.
            { parent: this, dependsOn: dependsOnOf(opts), ignoreChanges: ["scalingConfig"] },
        );
        new NodeGroupScaling(
            `${name}-scaling`,
            { region: args.region, clusterName: args.clusterName, nodeGroupName: group.nodeGroupName, minSize: args.minNodes, maxSize: args.maxNodes },
            { parent: this },
        );
        this.nodeGroupName = group.nodeGroupName;
        this.registerOutputs({ nodeGroupName: this.nodeGroupName, labels: this.labels });
    }
}
