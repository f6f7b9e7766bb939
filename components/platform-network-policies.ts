import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformAddressing, PlatformInstall, platformNetworkPolicies } from "compute-region-policies/model";

/**
 * The NetworkPolicies an install's pods need under the strict CNI (one per pod set, from the
 * upstream facts), created before the install so its pods are never denied while they start.
 * `opts` orders them after the namespace they go in.
 */
export function podNetworkPolicies(name: string, install: PlatformInstall, addressing: PlatformAddressing, opts: pulumi.CustomResourceOptions): k8s.networking.v1.NetworkPolicy[] {
    return platformNetworkPolicies(install, addressing).map(
        (policy) =>
            new k8s.networking.v1.NetworkPolicy(
                `${name}-netpol-${policy.name}`,
                { metadata: { name: policy.name, namespace: policy.namespace, annotations: { "compute-region.io/for-pods": policy.forPods } }, spec: policy.spec },
                opts,
            ),
    );
}
