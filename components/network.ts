import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { allocateSubnets, TAGS } from "compute-region-policies/model";
import { AwsContext, awsContext, keyPolicy } from "./kms";

/** The three subnet tiers of every AZ. */
export type SubnetTier = "public" | "private" | "isolated";

/** Interface endpoints that keep node traffic to AWS APIs inside the VPC. */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager", "ec2", "eks-auth"] as const;

/** How many NAT gateways the VPC has. */
export const NatGatewayMode = {
    /** One per AZ: survives the loss of an AZ. */
    PerAz: "perAz",
    /** One shared by every AZ (cheaper, for dev). */
    Single: "single",
} as const;
/** How many NAT gateways the VPC has. */
export type NatGatewayMode = (typeof NatGatewayMode)[keyof typeof NatGatewayMode];

/** Prefix length of each tier's subnet in every AZ. */
export interface SubnetPrefixLengths {
    /** Public subnets (load balancers, NAT gateways). */
    public: number;
    /** Private subnets (nodes and pods). */
    private: number;
    /** Isolated subnets (databases; no route out). */
    isolated: number;
}

/** Subnet CIDRs of each tier, in AZ order. */
export interface SubnetCidrs {
    /** Public subnets. */
    public: string[];
    /** Private subnets. */
    private: string[];
    /** Isolated subnets. */
    isolated: string[];
}

/** The VPC's own settings: what a region's config says of its network. */
export interface NetworkSettings {
    /** The VPC's IPv4 CIDR. */
    vpcCidr: string;
    /** Prefix length of each tier's subnet in every AZ. */
    subnetPrefixLengths: SubnetPrefixLengths;
    /** `perAz` NAT gateways survive the loss of an AZ; `single` shares one (cheaper, for dev). */
    natGateways: NatGatewayMode;
    /** Retention of the flow-log group, in days. */
    flowLogRetentionDays: number;
}

/** A VPC of three subnet tiers across the region's AZs, with NAT, flow logs and interface endpoints. */
export interface NetworkArgs extends NetworkSettings {
    /** Availability zones to span; one subnet of each tier is created in each. */
    availabilityZones: string[];
    /** EKS cluster name, for the subnet discovery tags of the load balancer controller. */
    clusterName: string;
    /** Account, partition and region lookups shared across the region (default: looked up here). */
    aws?: AwsContext;
    /** Tags for every resource. */
    tags: Record<string, string>;
}

/** The region's VPC: public, private and isolated subnets in each AZ, NAT, flow logs and the endpoints nodes use. */
export class Network extends pulumi.ComponentResource {
    /** The VPC's id. */
    public readonly vpcId: pulumi.Output<string>;
    /** The VPC's CIDR. */
    public readonly vpcCidr: string;
    /** Public subnets, in AZ order. */
    public readonly publicSubnetIds: pulumi.Output<string>[];
    /** Private subnets (nodes, pods), in AZ order. */
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** Isolated subnets (no route out), in AZ order. */
    public readonly isolatedSubnetIds: pulumi.Output<string>[];
    /** Subnet CIDRs by tier, in AZ order: known at preview, so policies can reason about them. */
    public readonly subnetCidrs: SubnetCidrs;
    /** The flow-log group's name. */
    public readonly flowLogGroupName: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("Network"), name, {}, componentOptions("Network", opts));
        const zones = args.availabilityZones;
        const context = args.aws ?? awsContext({ parent: this });
        if (zones.length < 2) {
            throw new pulumi.ResourceError(`Network ${name}: availabilityZones must list at least 2 zones, got ${zones.length}`, this);
        }
        let layout: Map<string, string>;
        try {
            layout = allocateSubnets(
                args.vpcCidr,
                (["private", "public", "isolated"] as const).flatMap((tier) =>
                    zones.map((zone) => ({ key: `${tier}/${zone}`, prefixLength: args.subnetPrefixLengths[tier] })),
                ),
            );
        } catch (e) {
            throw new pulumi.ResourceError(`Network ${name}: vpcCidr ${args.vpcCidr}: ${(e as Error).message}`, this);
        }
        this.vpcCidr = args.vpcCidr;
        this.subnetCidrs = {
            public: zones.map((z) => layout.get(`public/${z}`)!),
            private: zones.map((z) => layout.get(`private/${z}`)!),
            isolated: zones.map((z) => layout.get(`isolated/${z}`)!),
        };
        const tags = (extra: Record<string, string>) => ({ ...args.tags, ...extra });

        const vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags({ Name: name }) },
            { parent: this },
        );
        this.vpcId = vpc.id;

        // The default security group would admit everything from itself; leave it with no rules.
        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: tags({ Name: `${name}-default-unused` }) }, { parent: this });

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags({ Name: name }) }, { parent: this });

        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public-rt`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags({ Name: `${name}-public` }) },
            { parent: this },
        );
        const isolatedRoutes = new aws.ec2.RouteTable(`${name}-isolated-rt`, { vpcId: vpc.id, tags: tags({ Name: `${name}-isolated` }) }, { parent: this });

        const subnet = (tier: SubnetTier, zone: string, i: number, extraTags: Record<string, string>) =>
            new aws.ec2.Subnet(
                `${name}-${tier}-${zone}`,
                {
                    vpcId: vpc.id,
                    availabilityZone: zone,
                    cidrBlock: this.subnetCidrs[tier][i],
                    mapPublicIpOnLaunch: false,
                    tags: tags({ Name: `${name}-${tier}-${zone}`, [TAGS.subnetTier]: tier, ...extraTags }),
                },
                { parent: this },
            );
        const clusterTag = `kubernetes.io/cluster/${args.clusterName}`;
        const publicSubnets = zones.map((z, i) => subnet("public", z, i, { "kubernetes.io/role/elb": "1", [clusterTag]: "shared" }));
        const privateSubnets = zones.map((z, i) => subnet("private", z, i, { "kubernetes.io/role/internal-elb": "1", [clusterTag]: "shared" }));
        const isolatedSubnets = zones.map((z, i) => subnet("isolated", z, i, {}));
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.isolatedSubnetIds = isolatedSubnets.map((s) => s.id);

        publicSubnets.forEach((s, i) =>
            new aws.ec2.RouteTableAssociation(`${name}-public-${zones[i]}`, { subnetId: s.id, routeTableId: publicRoutes.id }, { parent: this }),
        );
        isolatedSubnets.forEach((s, i) =>
            new aws.ec2.RouteTableAssociation(`${name}-isolated-${zones[i]}`, { subnetId: s.id, routeTableId: isolatedRoutes.id }, { parent: this }),
        );

        const natZones = args.natGateways === "perAz" ? zones : [zones[0]];
        const natGateways = natZones.map((zone) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${zone}`, { domain: "vpc", tags: tags({ Name: `${name}-nat-${zone}` }) }, { parent: this });
            return new aws.ec2.NatGateway(
                `${name}-nat-${zone}`,
                { allocationId: eip.id, subnetId: publicSubnets[zones.indexOf(zone)].id, tags: tags({ Name: `${name}-nat-${zone}` }) },
                { parent: this, dependsOn: [igw] },
            );
        });
        const privateRouteTables = privateSubnets.map((s, i) => {
            const nat = natGateways[args.natGateways === "perAz" ? i : 0];
            const table = new aws.ec2.RouteTable(
                `${name}-private-${zones[i]}`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tags({ Name: `${name}-private-${zones[i]}` }) },
                { parent: this },
            );
            new aws.ec2.RouteTableAssociation(`${name}-private-${zones[i]}`, { subnetId: s.id, routeTableId: table.id }, { parent: this });
            return table;
        });

        // S3 (ECR image layers live there) through a free gateway endpoint on the private and isolated tables.
        new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.id,
                serviceName: pulumi.interpolate`com.amazonaws.${context.region}.s3`,
                vpcEndpointType: "Gateway",
                routeTableIds: [...privateRouteTables.map((t) => t.id), isolatedRoutes.id],
                tags: tags({ Name: `${name}-s3` }),
            },
            { parent: this },
        );
        const endpointSg = new aws.ec2.SecurityGroup(
            `${name}-endpoints`,
            {
                vpcId: vpc.id,
                description: "HTTPS from inside the VPC to the AWS API interface endpoints",
                ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [args.vpcCidr], description: "VPC to AWS APIs" }],
                tags: tags({ Name: `${name}-endpoints` }),
            },
            { parent: this },
        );
        for (const service of INTERFACE_ENDPOINT_SERVICES) {
            new aws.ec2.VpcEndpoint(
                `${name}-${service.replace(".", "-")}`,
                {
                    vpcId: vpc.id,
                    serviceName: pulumi.interpolate`com.amazonaws.${context.region}.${service}`,
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true,
                    subnetIds: this.privateSubnetIds,
                    securityGroupIds: [endpointSg.id],
                    tags: tags({ Name: `${name}-${service}` }),
                },
                { parent: this },
            );
        }

        // Flow logs: every accepted and rejected flow, to an encrypted log group with bounded retention.
        const flowLogKey = new aws.kms.Key(
            `${name}-flow-logs`,
            {
                description: `Encrypts the VPC flow logs of ${name}`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: keyPolicy({ ...context, allowCloudWatchLogs: true }),
                tags: tags({ Name: `${name}-flow-logs` }),
            },
            { parent: this, protect: true },
        );
        const flowLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-flow-logs`,
            { name: `/compute-region/${args.clusterName}/vpc-flow-logs`, retentionInDays: args.flowLogRetentionDays, kmsKeyId: flowLogKey.arn, tags: args.tags },
            { parent: this },
        );
        this.flowLogGroupName = flowLogGroup.name;
        const flowLogRole = new aws.iam.Role(
            `${name}-flow-logs`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
                tags: args.tags,
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-flow-logs`,
            {
                role: flowLogRole.id,
                policy: flowLogGroup.arn.apply((arn) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                Resource: [arn, `${arn}:*`],
                            },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
        new aws.ec2.FlowLog(
            `${name}-flow-logs`,
            {
                vpcId: vpc.id,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: flowLogGroup.arn,
                iamRoleArn: flowLogRole.arn,
                maxAggregationInterval: 60,
                tags: tags({ Name: name }),
            },
            { parent: this },
        );

        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
            subnetCidrs: this.subnetCidrs,
            flowLogGroupName: this.flowLogGroupName,
        });
    }
}
