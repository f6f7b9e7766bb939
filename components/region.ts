import * as pulumi from "@pulumi/pulumi";
import { standardTags } from "compute-region-policies/model";
import type { RegionConfig } from "../stacks/config";
import { Cluster } from "./cluster";
import { awsContext } from "./kms";
import { Network } from "./network";

export interface RegionArgs {
    /** The validated stack configuration (see `stacks/config.ts`). */
    config: RegionConfig;
}

/**
 * One region of the GPU cloud: wires the network, the cluster and (in later layers) the GPU pools,
 * tenants, serving, billing and observability from one validated configuration.
 */
export class Region extends pulumi.ComponentResource {
    public readonly network: Network;
    public readonly cluster: Cluster;

    constructor(name: string, args: RegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:index:Region", name, {}, opts);
        const { config } = args;
        const tags = standardTags(config.stack, config.region);
        const context = awsContext({ parent: this });

        this.network = new Network(
            `${name}-network`,
            {
                availabilityZones: config.availabilityZones,
                vpcCidr: config.network.vpcCidr,
                subnetPrefixLengths: config.network.subnetPrefixLengths,
                natGateways: config.network.natGateways,
                flowLogRetentionDays: config.network.flowLogRetentionDays,
                clusterName: config.cluster.name,
                aws: context,
                tags,
            },
            { parent: this },
        );

        this.cluster = new Cluster(
            `${name}-cluster`,
            {
                clusterName: config.cluster.name,
                kubernetesVersion: config.cluster.kubernetesVersion,
                vpcId: this.network.vpcId,
                subnetIds: this.network.privateSubnetIds,
                serviceCidr: config.cluster.serviceCidr,
                publicAccess: config.cluster.endpoint.publicAccess,
                publicAccessCidrs: config.cluster.endpoint.publicAccessCidrs,
                adminRoleArns: config.cluster.adminRoleArns,
                deployerRoleArn: config.cluster.deployerRoleArn,
                logRetentionDays: config.cluster.logRetentionDays,
                systemNodeGroup: config.cluster.systemNodeGroup,
                aws: context,
                tags,
            },
            { parent: this },
        );

        this.registerOutputs({
            vpcId: this.network.vpcId,
            clusterName: this.cluster.clusterName,
            clusterEndpoint: this.cluster.endpoint,
        });
    }
}
