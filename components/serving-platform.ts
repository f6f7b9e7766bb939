import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MODEL_SERVER_PORT, NAMESPACES, NEVER_EGRESS_CIDRS } from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { pinnedRelease, SERVING_CHART_PINS } from "./helm";
import { dependsOnOf } from "./options";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";

export interface ServingPlatformArgs {
    /** CIDRs of the private subnets (the AWS API interface endpoints). */
    privateSubnetCidrs: string[];
    /** The VPC and service CIDRs: never reachable by the model servers' internet egress. */
    vpcCidr: string;
    serviceCidr: string;
    /** Install KEDA (there are models to scale). */
    autoscaler: boolean;
}

/**
 * What every hosted model shares: KEDA (pinned Helm chart) for queue-depth autoscaling, and the
 * serving namespace's NetworkPolicies. The namespace admits only the gateway (the one way tenants
 * reach a model) and the monitoring namespace (scrapes); KEDA reads Prometheus, never the pods.
 * Egress: DNS, S3 for weights (public addresses, never private ranges), the AWS API endpoints and
 * the Pod Identity agent.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what everything here
 * waits for (the serving namespace, the system nodes KEDA runs on).
 */
export class ServingPlatform extends pulumi.ComponentResource {
    public readonly keda?: k8s.helm.v3.Release;

    constructor(name: string, args: ServingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:serving:ServingPlatform", name, {}, opts);
        const after = { parent: this, dependsOn: dependsOnOf(opts) };
        this.keda = args.autoscaler
            ? pinnedRelease(`${name}-keda`, SERVING_CHART_PINS.keda, { releaseName: "keda", namespace: NAMESPACES.keda, createNamespace: true, values: ON_SYSTEM_NODES }, after)
            : undefined;
        const ns = NAMESPACES.serving;
        const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace: ns }, spec }, after);
        policy("default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        policy("admit-gateway-and-monitoring", {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [{ from: [namespaceByName(NAMESPACES.gateway), namespaceByName(NAMESPACES.monitoring)], ports: [{ protocol: "TCP", port: MODEL_SERVER_PORT }] }],
        });
        policy("model-server-egress", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                DNS_EGRESS,
                { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NEVER_EGRESS_CIDRS, args.vpcCidr, args.serviceCidr] } }], ports: [{ protocol: "TCP", port: 443 }] },
                { to: args.privateSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 443 }] },
                POD_IDENTITY_AGENT_EGRESS,
            ],
        });
        this.registerOutputs({});
    }
}
