import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { awsApiPeers, MODEL_SERVER_PORT, NAMESPACES, PlatformAddressing } from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { pinnedRelease, SERVING_CHART_PINS } from "./helm";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";

export interface ServingPlatformArgs {
    /** The region's addresses: AWS API endpoints, and the ranges the model servers' internet egress never reaches. */
    addressing: PlatformAddressing;
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
    /** KEDA's release, when the platform has the autoscaler. */
    public get keda(): k8s.helm.v3.Release | undefined {
        return partsOf<{ keda?: k8s.helm.v3.Release }>(this).keda;
    }

    constructor(name: string, args: ServingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ServingPlatform"), name, {}, componentOptions("ServingPlatform", opts));
        const after = { parent: this, dependsOn: dependsOnOf(opts) };
        if (args.autoscaler) {
            // The namespace is made here, not by Helm, so KEDA's NetworkPolicies are in place first.
            const kedaNamespace = platformNamespace(`${name}-keda-ns`, { name: NAMESPACES.keda, kind: "platform", podSecurity: { enforce: "restricted", warn: "restricted" } }, { parent: this });
            partsOf<{ keda?: k8s.helm.v3.Release }>(this).keda = pinnedRelease(
                `${name}-keda`,
                SERVING_CHART_PINS.keda,
                { releaseName: "keda", namespace: NAMESPACES.keda, values: ON_SYSTEM_NODES, network: { addressing: args.addressing } },
                { ...after, dependsOn: [...after.dependsOn, kedaNamespace] },
            );
        }
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
                // S3 (the weights) and the other AWS APIs.
                { to: awsApiPeers(args.addressing), ports: [{ protocol: "TCP", port: 443 }] },
                POD_IDENTITY_AGENT_EGRESS,
            ],
        });
        this.registerOutputs({});
    }
}
