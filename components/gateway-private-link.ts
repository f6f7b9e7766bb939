import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { LOAD_BALANCER_PURPOSE, NAMESPACES, TAGS } from "compute-region-policies/model";
import { ENVOY_CONTAINER_PORT, ENVOY_LISTENER_PORT, NLB_TLS_POLICY, PROXY_LABELS } from "./model-gateway";

/** A tenant on PrivateLink: the principals its interface endpoints connect as. */
export interface PrivateLinkTenant {
    name: string;
    principals: string[];
}

export interface GatewayPrivateLinkArgs {
    /** The literal cluster name (names the load balancer and target group, tags). */
    clusterName: string;
    vpcId: pulumi.Input<string>;
    vpcCidr: string;
    /** The private subnets (one per AZ) the internal NLB takes addresses in. */
    subnetIds: pulumi.Input<string>[];
    /** The gateway's hostname: the certificate's name and the endpoint service's private DNS name. */
    hostname: string;
    certificateArn: string;
    /** Every endpoint connection waits for an operator to accept it. */
    acceptanceRequired: boolean;
    /** Tenants whose principals may connect endpoints (active and suspended ones; a decommissioned tenant has none). */
    tenants: PrivateLinkTenant[];
    /** What the TargetGroupBinding waits for: the load balancer controller (its CRD and webhooks) and the gateway namespace. */
    bindingWaitsFor: pulumi.Resource[];
    tags: Record<string, string>;
}

/** A load balancer's or target group's name: at most 32 characters, no hyphen at either end. */
export function elbName(clusterName: string, suffix: string): string {
    return `${clusterName.slice(0, 31 - suffix.length).replace(/-+$/, "")}-${suffix}`;
}

/**
 * Private access to the hosted-model API over AWS PrivateLink. A VPC endpoint service must front a
 * network load balancer by ARN; the gateway's public NLB is made at runtime by the AWS Load Balancer
 * Controller from Envoy Gateway's Service, so its ARN exists only after the controller reconciles
 * and cannot be an input of this `up` (a look-up would fail on the first one). So PrivateLink gets
 * its own internal NLB made here, whose ARN the endpoint service takes directly: a TLS listener on
 * 443 with the gateway's certificate, and a target group of the Envoy proxy pods that the controller
 * keeps registered through a TargetGroupBinding (and lets through the node security group from the
 * NLB's). Private traffic never crosses the internet-facing NLB.
 *
 * The endpoint service's allowed principals are the tenants' (one resource each, so removing a tenant
 * removes exactly its own; never `*`), acceptance is as configured, and its private DNS name is the
 * gateway's hostname: verify the domain with the TXT record in the outputs, and tenants' endpoints
 * with private DNS resolve the hostname to their endpoint in their VPC.
 *
 * Options: the Kubernetes provider (`providers`).
 */
export class GatewayPrivateLink extends pulumi.ComponentResource {
    /** The endpoint service's name (com.amazonaws.vpce.<region>.vpce-svc-...): what tenants create their interface endpoints for. */
    public readonly serviceName: pulumi.Output<string>;
    public readonly privateDnsName: string;
    /** The TXT record that proves the domain for the private DNS name: its name, type and value. */
    public readonly domainVerification: pulumi.Output<{ name: string; type: string; value: string; state: string } | undefined>;

    constructor(name: string, args: GatewayPrivateLinkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("GatewayPrivateLink"), name, {}, componentOptions("GatewayPrivateLink", opts));
        const tags = { ...args.tags, [TAGS.purpose]: LOAD_BALANCER_PURPOSE };
        // Endpoint traffic is not subject to the NLB's inbound rules (off below): there are none, so nothing in the VPC reaches it directly.
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-nlb`,
            {
                vpcId: args.vpcId,
                description: `PrivateLink NLB of the model gateway of ${args.clusterName}: endpoint traffic to the gateway pods`,
                ingress: [],
                egress: [{ protocol: "tcp", fromPort: ENVOY_CONTAINER_PORT, toPort: ENVOY_CONTAINER_PORT, cidrBlocks: [args.vpcCidr], description: "the gateway pods (traffic and health checks)" }],
                tags: { ...tags, Name: `${args.clusterName}-gateway-privatelink` },
            },
            { parent: this },
        );
        const loadBalancer = new aws.lb.LoadBalancer(
            `${name}-nlb`,
            {
                name: elbName(args.clusterName, "pl"),
                loadBalancerType: "network",
                internal: true,
                subnets: args.subnetIds,
                securityGroups: [securityGroup.id],
                enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off",
                enableCrossZoneLoadBalancing: true,
                enableDeletionProtection: true,
                tags,
            },
            { parent: this },
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-targets`,
            {
                name: elbName(args.clusterName, "pl"),
                port: ENVOY_CONTAINER_PORT,
                protocol: "TCP",
                targetType: "ip",
                vpcId: args.vpcId,
                healthCheck: { protocol: "TCP", port: "traffic-port", healthyThreshold: 2, unhealthyThreshold: 2, interval: 10 },
                // The load balancer controller registers the proxy pods in it.
                tags: { ...args.tags, "elbv2.k8s.aws/cluster": args.clusterName },
            },
            { parent: this },
        );
        new aws.lb.Listener(
            `${name}-tls`,
            {
                loadBalancerArn: loadBalancer.arn,
                port: ENVOY_LISTENER_PORT,
                protocol: "TLS",
                certificateArn: args.certificateArn,
                sslPolicy: NLB_TLS_POLICY,
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
                tags: args.tags,
            },
            { parent: this },
        );

        // The proxy pods as a Service the binding names (the controller registers its endpoints' pod IPs).
        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: "models-privatelink", namespace: NAMESPACES.gateway },
                spec: { type: "ClusterIP", selector: PROXY_LABELS, ports: [{ name: "api", protocol: "TCP", port: ENVOY_LISTENER_PORT, targetPort: ENVOY_CONTAINER_PORT }] },
            },
            { parent: this, dependsOn: args.bindingWaitsFor },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-binding`,
            {
                apiVersion: "elbv2.k8s.aws/v1beta1",
                kind: "TargetGroupBinding",
                metadata: { name: "models-privatelink", namespace: NAMESPACES.gateway },
                spec: {
                    serviceRef: { name: "models-privatelink", port: ENVOY_LISTENER_PORT },
                    targetGroupARN: targetGroup.arn,
                    targetType: "ip",
                    networking: { ingress: [{ from: [{ securityGroup: { groupID: securityGroup.id } }], ports: [{ protocol: "TCP", port: ENVOY_CONTAINER_PORT }] }] },
                },
            },
            { parent: this, dependsOn: [...args.bindingWaitsFor, service] },
        );

        const endpointService = new aws.ec2.VpcEndpointService(
            `${name}-service`,
            {
                acceptanceRequired: args.acceptanceRequired,
                networkLoadBalancerArns: [loadBalancer.arn],
                privateDnsName: args.hostname,
                supportedIpAddressTypes: ["ipv4"],
                tags: { ...args.tags, Name: `${args.clusterName}-models` },
            },
            { parent: this },
        );
        for (const tenant of args.tenants) {
            // Named by the principal, not its position: removing one never touches another.
            for (const principal of tenant.principals) {
                const id = createHash("sha256").update(principal).digest("hex").slice(0, 10);
                new aws.ec2.VpcEndpointServiceAllowedPrinciple(`${name}-${tenant.name}-${id}`, { vpcEndpointServiceId: endpointService.id, principalArn: principal }, { parent: this });
            }
        }
        this.serviceName = endpointService.serviceName;
        this.privateDnsName = args.hostname;
        this.domainVerification = endpointService.privateDnsNameConfigurations.apply((configs) => {
            const c = configs?.[0];
            return c ? { name: c.name, type: c.type, value: c.value, state: c.state } : undefined;
        });
        this.registerOutputs({ serviceName: this.serviceName, privateDnsName: this.privateDnsName, domainVerification: this.domainVerification });
    }
}
