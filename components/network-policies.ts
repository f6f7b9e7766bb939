import * as k8s from "@pulumi/kubernetes";
import { LABELS, NAMESPACES, POD_IDENTITY_AGENT_ADDRESS } from "compute-region-policies/model";

/**
 * NetworkPolicy pieces the region's namespaces share. Peers are selected only by the immutable
 * namespace name label (the reachability proof and `tenant-network-isolation` insist on it).
 */
export function namespaceByName(namespace: string): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: { [LABELS.namespaceName]: namespace } } };
}

/** Egress to cluster DNS (kube-dns in kube-system), UDP and TCP 53. */
export const DNS_EGRESS: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
    to: [{ ...namespaceByName(NAMESPACES.system), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
    ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
    ],
};

/** Egress to the EKS Pod Identity agent on the node's link-local address, for pods with a Pod Identity role. */
export const POD_IDENTITY_AGENT_EGRESS: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
    to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_ADDRESS } }],
    ports: [{ protocol: "TCP", port: 80 }],
};
