import { K8S_TYPES } from "../model/domain/types";
import { sample } from "./sample";

/** Sample tenant namespaces and NetworkPolicies for the isolation policies. */
const NP = K8S_TYPES.networkPolicy;
const NS = K8S_TYPES.namespace;

export function tenantNs(tenant: string, extraLabels: Record<string, string> = {}, protect = true) {
    return sample(NS, `tenant-${tenant}`, { apiVersion: "v1", kind: "Namespace", metadata: { name: `tenant-${tenant}`, labels: { "compute-region.io/tenant": tenant, "compute-region.io/namespace-kind": "tenant", ...extraLabels } } }, { protect });
}

export function platformNs(name: string, kind: "internal" | "serving" | "platform") {
    return sample(NS, name, { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "compute-region.io/namespace-kind": kind } } });
}

export function netpol(namespace: string, name: string, spec: Record<string, unknown>) {
    return sample(NP, `${namespace}-${name}`, { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec });
}

/** The policies the Tenant component gives every tenant namespace. */
export function isolatedTenant(tenant: string, vpc = "10.40.0.0/16") {
    const ns = `tenant-${tenant}`;
    const byName = (n: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } });
    return [
        tenantNs(tenant),
        netpol(ns, "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
        netpol(ns, "allow-same-namespace", { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] }),
        netpol(ns, "allow-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ...byName("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }] }] }),
        netpol(ns, "allow-internet-egress", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", vpc] } }] }],
        }),
        netpol(ns, "allow-monitoring-scrape", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [byName("observability")], ports: [{ protocol: "TCP", port: "metrics" }] }] }),
    ];
}

export const vpcSample = sample("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.40.0.0/16" });
