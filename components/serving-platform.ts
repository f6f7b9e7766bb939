import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MODEL_SERVER_PORT, NAMESPACES, NEVER_EGRESS_CIDRS } from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { SERVING_CHART_PINS } from "./helm";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";

export interface ServingPlatformArgs {
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** CIDRs of the private subnets (the AWS API interface endpoints). */
    privateSubnetCidrs: string[];
    /** The VPC and service CIDRs: never reachable by the model servers' internet egress. */
    vpcCidr: string;
    serviceCidr: string;
    /** Resources to wait for (the serving namespace, the system nodes). */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /** Install KEDA (there are models to scale). */
    autoscaler: boolean;
}

/**
 * What every hosted model shares: KEDA (pinned Helm chart) for queue-depth autoscaling, and the
 * serving namespace's NetworkPolicies. The namespace admits only the gateway (the one way tenants
 * reach a model) and the monitoring namespace (scrapes); KEDA reads Prometheus, never the pods.
 * Egress: DNS, S3 for weights (public addresses, never private ranges), the AWS API endpoints and
 * the Pod Identity agent.
 */
export class ServingPlatform extends pulumi.ComponentResource {
    public readonly keda?: k8s.helm.v3.Release;

    constructor(name: string, args: ServingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("compute-region:serving:ServingPlatform", name, {}, opts);
        const provider = args.provider;
        this.keda = !args.autoscaler ? undefined : new k8s.helm.v3.Release(
            `${name}-keda`,
            {
                name: "keda",
                chart: SERVING_CHART_PINS.keda.chart,
                version: SERVING_CHART_PINS.keda.version,
                repositoryOpts: { repo: SERVING_CHART_PINS.keda.repo },
                namespace: NAMESPACES.keda,
                createNamespace: true,
                values: ON_SYSTEM_NODES,
            },
            { parent: this, provider, dependsOn: args.dependsOn },
        );
        const ns = NAMESPACES.serving;
        const policy = (policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${policyName}`, { metadata: { name: policyName, namespace: ns }, spec }, { parent: this, provider, dependsOn: args.dependsOn });
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
