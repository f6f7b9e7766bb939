import type { SampleResource } from "../engine/policy";
import { DATA_TYPES, K8S_TYPES, TYPES } from "../model/domain/types";
import { sample } from "./sample";

/**
 * Small first-`up` shapes for the deploy rehearsal's policies: releases of pinned charts (their
 * upstream facts apply), namespaces, node groups, workloads and their NetworkPolicies. `after`
 * names what a resource waits for (dependsOn).
 */

type Extra = { after?: string[]; customTimeouts?: { create?: string } };
const opts = (extra: Extra = {}) => ({ ...(extra.after ? { dependsOn: extra.after } : {}), ...(extra.customTimeouts ? { customTimeouts: extra.customTimeouts } : {}) });

export const KUEUE_CHART = { chart: "oci://registry.k8s.io/kueue/charts/kueue", version: "0.14.2" } as const;
export const PROMETHEUS_CHART = { chart: "kube-prometheus-stack", version: "75.15.0" } as const;
export const NVIDIA_PLUGIN_CHART = { chart: "nvidia-device-plugin", version: "0.17.1" } as const;
export const EFA_PLUGIN_CHART = { chart: "aws-efa-k8s-device-plugin", version: "v0.5.7" } as const;

export function namespace(name: string, extra?: Extra): SampleResource {
    return sample(K8S_TYPES.namespace, `ns-${name}`, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, opts(extra));
}

export function release(name: string, pin: { chart: string; version: string }, ns: string, values: Record<string, unknown> = {}, extra?: Extra): SampleResource {
    return sample(TYPES.helmRelease, name, { name, chart: pin.chart, version: pin.version, namespace: ns, values }, opts(extra));
}

/** A node group of one instance type with its labels and taints (EKS spelling), `nodes` at creation. */
export function nodeGroup(name: string, instanceType: string, labels: Record<string, string>, taints: { key: string; value: string }[], nodes = 1, extra?: Extra): SampleResource {
    return sample(
        TYPES.eksNodeGroup,
        name,
        { instanceTypes: [instanceType], labels, taints: taints.map((t) => ({ ...t, effect: "NO_SCHEDULE" })), scalingConfig: { minSize: nodes, desiredSize: nodes, maxSize: nodes + 1 } },
        opts(extra),
    );
}

export interface PodTemplate {
    labels?: Record<string, string>;
    nodeSelector?: Record<string, string>;
    tolerations?: Record<string, string>[];
    requests?: Record<string, string>;
    image?: string;
    startupProbe?: { periodSeconds: number; failureThreshold: number };
}

function podSpec(t: PodTemplate, restartPolicy?: string) {
    return {
        ...(restartPolicy ? { restartPolicy } : {}),
        ...(t.nodeSelector ? { nodeSelector: t.nodeSelector } : {}),
        ...(t.tolerations ? { tolerations: t.tolerations } : {}),
        containers: [
            {
                name: "main",
                image: t.image ?? "public.ecr.aws/docker/library/busybox:1.37",
                resources: { requests: t.requests ?? { cpu: "100m", memory: "128Mi" }, limits: t.requests ?? { cpu: "100m", memory: "128Mi" } },
                ...(t.startupProbe ? { startupProbe: { httpGet: { path: "/health", port: 8000 }, ...t.startupProbe } } : {}),
            },
        ],
    };
}

export function deployment(name: string, ns: string, t: PodTemplate = {}, extra?: Extra): SampleResource {
    const labels = t.labels ?? { app: name };
    return sample(
        K8S_TYPES.deployment,
        name,
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: ns }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(t) } } },
        opts(extra),
    );
}

export function job(name: string, ns: string, t: PodTemplate & { activeDeadlineSeconds?: number } = {}, extra?: Extra): SampleResource {
    const labels = t.labels ?? { app: name };
    return sample(
        K8S_TYPES.job,
        name,
        {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name, namespace: ns },
            spec: { ...(t.activeDeadlineSeconds ? { activeDeadlineSeconds: t.activeDeadlineSeconds } : {}), template: { metadata: { labels }, spec: podSpec(t, "Never") } },
        },
        opts(extra),
    );
}

export function networkPolicy(name: string, ns: string, spec: Record<string, unknown>, extra?: Extra): SampleResource {
    return sample(K8S_TYPES.networkPolicy, name, { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: ns }, spec }, opts(extra));
}

/** A policy that selects `labels` and lets them resolve names (cluster DNS) and nothing else. */
export function dnsOnlyPolicy(name: string, ns: string, labels: Record<string, string>, extra?: Extra): SampleResource {
    return networkPolicy(
        name,
        ns,
        {
            podSelector: { matchLabels: labels },
            policyTypes: ["Ingress", "Egress"],
            egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }],
        },
        extra,
    );
}

export function customResource(name: string, apiVersion: string, kind: string, ns: string | undefined, spec: Record<string, unknown> = {}, extra?: Extra): SampleResource {
    const [group, version] = apiVersion.split("/");
    return sample(`kubernetes:${group}/${version}:${kind}`, name, { apiVersion, kind, metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec }, opts(extra));
}

export function ecrRepository(name: string): SampleResource {
    return sample(DATA_TYPES.ecrRepository, name, { name });
}

export function imageBuild(name: string, extra?: Extra): SampleResource {
    return sample("docker-build:index:Image", name, { push: true, context: { location: "." } }, opts(extra));
}

/** The system node group every sample's platform pods run on. */
export const SYSTEM_NODES = nodeGroup("system", "m7i.xlarge", { "compute-region.io/role": "system" }, [{ key: "CriticalAddonsOnly", value: "true" }], 2);
export const ON_SYSTEM = { nodeSelector: { "compute-region.io/role": "system" }, tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }] };
