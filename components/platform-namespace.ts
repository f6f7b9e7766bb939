import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "compute-region-policies/model";

/** A Pod Security Admission level. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

export interface PlatformNamespaceArgs {
    /** The namespace's name. */
    name: string;
    /** What the namespace is for: the reachability proof and the policies judge it by this label. */
    kind: "platform" | "internal" | "serving";
    /** Pod Security Admission: the enforced level, and the levels audited and warned about. */
    podSecurity: { enforce: PodSecurityLevel; audit?: PodSecurityLevel; warn: PodSecurityLevel };
}

/**
 * A namespace the platform owns: labelled with its kind (never `tenant`) and its Pod Security
 * Admission levels. Tenant namespaces are made by the Tenant component.
 */
export function platformNamespace(name: string, args: PlatformNamespaceArgs, opts: pulumi.CustomResourceOptions): k8s.core.v1.Namespace {
    const { enforce, audit, warn } = args.podSecurity;
    return new k8s.core.v1.Namespace(
        name,
        {
            metadata: {
                name: args.name,
                labels: {
                    [LABELS.namespaceKind]: args.kind,
                    "pod-security.kubernetes.io/enforce": enforce,
                    ...(audit ? { "pod-security.kubernetes.io/audit": audit } : {}),
                    "pod-security.kubernetes.io/warn": warn,
                },
            },
        },
        opts,
    );
}
