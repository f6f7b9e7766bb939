import type { ReplacementRule } from "./types";

/** Provider resources and the engine's own types: how their configuration changes are planned. */
const KUBERNETES_PROVIDER_SOURCE = { repo: "pulumi/pulumi-kubernetes", ref: "master@94977969d64112b04e19945818a7d5d5f38f631d", file: "provider/pkg/provider/provider.go (DiffConfig)" };

export const PULUMI_RULES: ReplacementRule[] = [
    {
        // A replaced Kubernetes provider replaces every object it manages.
        type: "pulumi:providers:kubernetes",
        forceNew: ["clusterIdentifier", "renderYamlToDirectory"],
        conditional: [
            {
                kind: "whenUnknown",
                paths: ["kubeconfig", "context", "cluster"],
                why: "DiffConfig replaces the provider when its cluster cannot be known during the preview (the cluster is being created or replaced)",
            },
        ],
        source: [KUBERNETES_PROVIDER_SOURCE],
        caveat: "tags v4.33 and v4.34 were not in the snapshot read; provider.go differs from v4.32.0 by one lint comment",
        note: "A change of the active cluster inside a known kubeconfig also replaces; the kubeconfig here is a secret, compared by presence, so that change shows only as an update.",
    },
    {
        type: "pulumi:providers:aws",
        forceNew: [],
        source: [{ repo: "pulumi/pulumi-terraform-bridge", ref: "v3.136.0", file: "pkg/tfbridge/provider.go (DiffConfig)" }],
        caveat: "the bridge's DiffConfig rules were not researched: a change of the default provider's config is planned as an update",
    },
    {
        type: "pulumi:providers:random",
        forceNew: [],
        source: [{ repo: "pulumi/pulumi-terraform-bridge", ref: "v3.136.0", file: "pkg/tfbridge/provider.go (DiffConfig)" }],
        caveat: "the bridge's DiffConfig rules were not researched: a change of the default provider's config is planned as an update",
    },
    {
        // Read, never created: the engine re-reads it on every update.
        type: "pulumi:pulumi:StackReference",
        forceNew: [],
        source: [{ repo: "pulumi/pulumi", ref: "v3.248.0", file: "pkg/resource/deploy/step_generator.go (ReadStep)" }],
    },
];
