import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { iamResources, LOAD_BALANCER_CONTROLLER_LISTENER_TAGGING, NAMESPACES, PlatformAddressing } from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { GATEWAY_CHART_PINS, pinnedRelease } from "./helm";
import { podIdentityRole } from "./kms";
import { dependsOnOf } from "./options";

export interface LoadBalancerControllerArgs {
    /** The EKS cluster the controller serves (its name tags every load balancer it makes). */
    clusterName: pulumi.Input<string>;
    /** The literal cluster name, for the IAM conditions that confine the controller to its own load balancers. */
    clusterNameLiteral: string;
    /** The region and VPC the load balancers go in. */
    region: string;
    vpcId: pulumi.Input<string>;
    /** AWS partition (aws, aws-us-gov, aws-cn). */
    partition: pulumi.Input<string>;
    /** The region's addresses, for the controller's NetworkPolicy (webhooks, API server, AWS APIs). */
    addressing: PlatformAddressing;
    tags: Record<string, string>;
}

/** The controller's service account in kube-system (the Pod Identity association names it). */
export const LOAD_BALANCER_CONTROLLER_SA = "aws-load-balancer-controller";

/** The tag the controller puts on every load balancer, target group and security group it creates. */
const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

/**
 * What the controller may do: read the network and load balancers, and create and change only
 * network load balancers, target groups and security groups that carry its cluster tag. Written
 * here rather than taken whole from the controller's published policy, which also grants ALB, WAF,
 * Shield and Cognito actions this region never uses (it only serves `Service`s as NLBs).
 */
export function loadBalancerControllerPolicy(partition: string, clusterName: string): Record<string, unknown> {
    const tagged = { StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: clusterName } };
    const taggedOnCreate = { StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName } };
    const nlb = `arn:${partition}:elasticloadbalancing:*:*:loadbalancer/net/*/*`;
    const targetGroup = `arn:${partition}:elasticloadbalancing:*:*:targetgroup/*/*`;
    const listener = `arn:${partition}:elasticloadbalancing:*:*:listener/net/*/*/*`;
    const securityGroup = `arn:${partition}:ec2:*:*:security-group/*`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ServiceLinkedRole",
                Effect: "Allow",
                Action: "iam:CreateServiceLinkedRole",
                Resource: "*",
                Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
            },
            {
                Sid: "Read",
                Effect: "Allow",
                Action: [
                    "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
                    "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
                    "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeCoipPools", "ec2:GetCoipPoolUsage",
                    "elasticloadbalancing:Describe*", "acm:ListCertificates", "acm:DescribeCertificate",
                ],
                Resource: "*",
            },
            { Sid: "CreateSecurityGroups", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: "*" },
            {
                Sid: "TagNewSecurityGroups",
                Effect: "Allow",
                Action: "ec2:CreateTags",
                Resource: securityGroup,
                Condition: { ...taggedOnCreate, StringEqualsIfExists: { "ec2:CreateAction": "CreateSecurityGroup" } },
            },
            {
                Sid: "ManageOwnSecurityGroups",
                Effect: "Allow",
                Action: ["ec2:CreateTags", "ec2:DeleteTags", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
                Resource: securityGroup,
                Condition: tagged,
            },
            // The node and pod security groups admit the NLB's health checks and traffic.
            {
                Sid: "AdmitLoadBalancerTraffic",
                Effect: "Allow",
                Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
                Resource: securityGroup,
                Condition: { StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${clusterName}`]: "owned" } },
            },
            {
                Sid: "CreateOwnLoadBalancers",
                Effect: "Allow",
                Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
                Resource: "*",
                Condition: taggedOnCreate,
            },
            {
                Sid: "TagOnCreate",
                Effect: "Allow",
                Action: "elasticloadbalancing:AddTags",
                Resource: [nlb, targetGroup],
                Condition: { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup"] } },
            },
            {
                Sid: "ManageOwnLoadBalancers",
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags", "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:CreateListener",
                ],
                Resource: [nlb, targetGroup],
                Condition: tagged,
            },
            {
                Sid: "ManageListenersAndTargets",
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
                ],
                Resource: [listener, targetGroup],
            },
            {
                // Without it CreateListener with tags is denied: the NLB comes up with no listener while `up` succeeds.
                Sid: "TagOwnListeners",
                Effect: "Allow",
                Action: [...LOAD_BALANCER_CONTROLLER_LISTENER_TAGGING.actions],
                Resource: iamResources(LOAD_BALANCER_CONTROLLER_LISTENER_TAGGING, partition),
            },
        ],
    };
}

/**
 * The AWS Load Balancer Controller (pinned Helm chart) on the system nodes, with an IAM role bound
 * through EKS Pod Identity. It turns `LoadBalancer` Services that ask for the
 * `service.k8s.aws/nlb` class into network load balancers; its Service mutating webhook is off, so
 * no other Service becomes a load balancer by default.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the controller
 * waits for (the system nodes it runs on).
 */
export class LoadBalancerController extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("LoadBalancerController"), name, {}, componentOptions("LoadBalancerController", opts));
        const { role, association } = podIdentityRole(
            name,
            {
                clusterName: args.clusterName,
                namespace: NAMESPACES.system,
                serviceAccount: LOAD_BALANCER_CONTROLLER_SA,
                policy: pulumi.output(args.partition).apply((partition) => JSON.stringify(loadBalancerControllerPolicy(partition, args.clusterNameLiteral))),
                tags: args.tags,
            },
            this,
        );
        this.release = pinnedRelease(
            `${name}-release`,
            GATEWAY_CHART_PINS.awsLoadBalancerController,
            {
                releaseName: "aws-load-balancer-controller",
                namespace: NAMESPACES.system,
                values: {
                    clusterName: args.clusterName,
                    region: args.region,
                    vpcId: args.vpcId,
                    replicaCount: 2,
                    serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SA },
                    enableServiceMutatorWebhook: false,
                    enableShield: false,
                    enableWaf: false,
                    enableWafv2: false,
                    ...ON_SYSTEM_NODES,
                },
                network: { addressing: args.addressing },
            },
            // The role must be bound before the controller's first call to AWS.
            { parent: this, dependsOn: [...dependsOnOf(opts), association] },
        );
        this.roleArn = role.arn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
