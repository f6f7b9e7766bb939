import { stackPolicy } from "../engine/policy";
import { stackNamespaces } from "../model/evidence/per-stack";
import { podSpecOf } from "../model/domain/workloads";
import { K8S_TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";
import { tenantNs } from "../samples/tenants";

/** What in a pod spec breaks out of a tenant's sandbox. */
export function podSpecEscapes(spec: any): string[] {
    if (!spec) return [];
    const found: string[] = [];
    if (spec.hostNetwork === true) found.push("host network");
    if (spec.hostPID === true) found.push("host PID");
    if (spec.hostIPC === true) found.push("host IPC");
    if ([spec.volumes ?? []].flat().some((v: any) => v?.hostPath)) found.push("hostPath volume");
    const containers = [...[spec.initContainers ?? []].flat(), ...[spec.containers ?? []].flat()];
    if (containers.some((c: any) => [c?.ports ?? []].flat().some((p: any) => p?.hostPort))) found.push("host port");
    if (containers.some((c: any) => c?.securityContext?.privileged === true)) found.push("privileged container");
    if (containers.some((c: any) => [c?.securityContext?.capabilities?.add ?? []].flat().length > 0)) found.push("added capabilities");
    if (spec.nodeName) found.push("spec.nodeName");
    return found;
}

const deployment = (namespace: string, podSpec: Record<string, unknown>) =>
    sample("kubernetes:apps/v1:Deployment", "app", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app", namespace }, spec: { selector: { matchLabels: { app: "a" } }, template: { metadata: { labels: { app: "a" } }, spec: podSpec } } });
const service = (namespace: string, type: string) => sample("kubernetes:core/v1:Service", "svc", { apiVersion: "v1", kind: "Service", metadata: { name: "svc", namespace }, spec: { type, ports: [{ port: 80 }] } });

export const tenantWorkloadsConfined = stackPolicy({
    name: "tenant-workloads-confined",
    description: "Services in tenant namespaces are ClusterIP only, and workloads the program puts there use no host namespaces, host paths or ports, privilege or added capabilities.",
    rationale:
        "A NodePort or LoadBalancer Service exposes a tenant past every NetworkPolicy; a host namespace or privileged container " +
        "in a tenant namespace is a way onto the node and to every tenant sharing it. (Pods tenants create themselves are " +
        "held to the same rules at admission by the guardrails.)",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Use ClusterIP Services (tenants reach the outside through egress rules only) and pod specs without host access or privilege.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-HI-1", title: "Block use of host networking, ports, PID, IPC and hostPath" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-CPI-2", title: "Block privileged containers and added capabilities" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-BC-OPS-3", title: "Block NodePort Services" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-39", title: "Process Isolation" },
    ],
    validateStack: (args, report) => {
        const tenantNamespaces = new Set(stackNamespaces(args.resources).filter((n) => n.kind === "tenant").map((n) => n.name));
        for (const r of args.resources) {
            const ns = r.props.metadata?.namespace;
            if (!tenantNamespaces.has(ns)) continue;
            if (r.type === K8S_TYPES.service) {
                const type = r.props.spec?.type ?? "ClusterIP";
                if (type !== "ClusterIP") report(`Service ${ns}/${r.props.metadata?.name} in a tenant namespace is ${type}; only ClusterIP is allowed.`, r.urn);
            }
            const escapes = podSpecEscapes(podSpecOf(r.type, r.props));
            if (escapes.length > 0) report(`${r.type.split(":").pop()} ${ns}/${r.props.metadata?.name} in a tenant namespace uses ${escapes.join(", ")}.`, r.urn);
        }
    },
    samples: {
        allowed: [{ description: "A ClusterIP Service and a plain Deployment in a tenant namespace.", resources: [tenantNs("acme"), service("tenant-acme", "ClusterIP"), deployment("tenant-acme", { containers: [{ name: "c", image: "x:1" }] })] }],
        disallowed: [
            { description: "A NodePort Service in a tenant namespace.", expect: "Service tenant-acme/svc in a tenant namespace is NodePort", resources: [tenantNs("acme"), service("tenant-acme", "NodePort")] },
            {
                description: "A Deployment with host networking and a privileged container.",
                expect: "Deployment tenant-acme/app in a tenant namespace uses host network, privileged container",
                resources: [tenantNs("acme"), deployment("tenant-acme", { hostNetwork: true, containers: [{ name: "c", image: "x:1", securityContext: { privileged: true } }] })],
            },
        ],
    },
});
