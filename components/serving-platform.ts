import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { awsApiPeers, MODEL_SERVER_PORT, NAMESPACES, PlatformAddressing } from "compute-region-policies/model";
import { ON_SYSTEM_NODES } from "./nodes";
import { pinnedRelease, SERVING_CHART_PINS } from "./helm";
import { podIdentityRole } from "./kms";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";
import { DNS_EGRESS, namespaceByName, POD_IDENTITY_AGENT_EGRESS } from "./network-policies";

/** The SQS queues KEDA's operator reads the depth of, and where its role is made. */
export interface KedaQueueAccess {
    /** The EKS cluster (the Pod Identity association). */
    clusterName: pulumi.Input<string>;
    /** The queues' ARN pattern. */
    queueArns: pulumi.Input<string>;
    /** Tags for the role. */
    tags: Record<string, string>;
}

/** The serving namespace's platform: KEDA and its NetworkPolicies. */
export interface ServingPlatformArgs {
    /** The region's addresses: AWS API endpoints, and the ranges the model servers' internet egress never reaches. */
    addressing: PlatformAddressing;
    /** Install KEDA (there are models to scale). */
    autoscaler: boolean;
    /**
     * Batch inference: KEDA's operator reads the depth of these SQS queues (ARN pattern) with its own
     * EKS Pod Identity role, made before the operator starts (the agent's credentials are injected
     * into a pod only if its service account has an association when the pod is created).
     */
    kedaReadsQueues?: KedaQueueAccess;
}

/** KEDA's operator service account (kedacore/charts v2.17.2 keda/values.yaml serviceAccount.operator.name). */
export const KEDA_OPERATOR_SERVICE_ACCOUNT = "keda-operator";

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
            const queues = args.kedaReadsQueues;
            const identity = queues
                ? podIdentityRole(
                      `${name}-keda-sqs`,
                      {
                          clusterName: queues.clusterName,
                          namespace: NAMESPACES.keda,
                          serviceAccount: KEDA_OPERATOR_SERVICE_ACCOUNT,
                          policy: pulumi.output(queues.queueArns).apply((arns) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "BatchQueueDepth", Effect: "Allow", Action: "sqs:GetQueueAttributes", Resource: arns }] })),
                          tags: queues.tags,
                      },
                      this,
                  )
                : undefined;
            partsOf<{ keda?: k8s.helm.v3.Release }>(this).keda = pinnedRelease(
                `${name}-keda`,
                SERVING_CHART_PINS.keda,
                { releaseName: "keda", namespace: NAMESPACES.keda, values: ON_SYSTEM_NODES, network: { addressing: args.addressing } },
                { ...after, dependsOn: [...after.dependsOn, kedaNamespace, ...(identity ? [identity.association] : [])] },
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
