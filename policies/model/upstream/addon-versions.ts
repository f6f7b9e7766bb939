import type { Source } from "./types";

/**
 * EKS add-on versions as AWS publishes them per Kubernetes version, for the add-ons whose builds
 * follow the Kubernetes minor: kube-proxy (one build line per minor; it must not be newer than the
 * control plane) and CoreDNS (EKS builds a line per group of minors). The program pins both with
 * `aws.eks.getAddonVersion({ addonName, kubernetesVersion, mostRecent: true })`, which EKS answers
 * at deploy time; the offline plan answers the same look-up from this table (offline/mocks.ts) and
 * fails for a version it has no row for.
 *
 * The EKS User Guide's tables list "the latest version of the Amazon EKS add-on type for each
 * Kubernetes version", the `mostRecent` answer (never the default one, which only
 * `aws eks describe-addon-versions` tells). The pages change as builds ship: these rows are the
 * stored snapshot cited, so a real deploy may install a newer build of the same line.
 *
 * The other add-ons the region installs (vpc-cni, the Pod Identity agent, the EBS CSI driver,
 * CloudWatch, the node monitoring agent) release on their own, one version across Kubernetes
 * versions: EKS keeps them through a cluster upgrade and they are not pinned here.
 */
export interface PublishedAddonVersions {
    addon: string;
    /** Kubernetes minor to the newest published add-on version. */
    latest: Readonly<Record<string, string>>;
    source: Source;
}

export const PUBLISHED_ADDON_VERSIONS: readonly PublishedAddonVersions[] = [
    {
        addon: "kube-proxy",
        latest: {
            "1.31": "v1.31.14-eksbuild.9",
            "1.32": "v1.32.13-eksbuild.5",
            "1.33": "v1.33.10-eksbuild.2",
            "1.34": "v1.34.6-eksbuild.2",
            "1.35": "v1.35.3-eksbuild.2",
        },
        source: { url: "https://docs.amazonaws.cn/zh_cn/eks/latest/userguide/managing-kube-proxy.md", note: "Amazon EKS User Guide, kube-proxy versions table (latest add-on version per Kubernetes version), stored snapshot" },
    },
    {
        addon: "coredns",
        latest: {
            "1.31": "v1.11.4-eksbuild.33",
            "1.32": "v1.11.4-eksbuild.33",
            "1.33": "v1.13.2-eksbuild.4",
            "1.34": "v1.13.2-eksbuild.4",
            "1.35": "v1.13.2-eksbuild.4",
        },
        source: { url: "https://docs.amazonaws.cn/zh_cn/eks/latest/userguide/managing-coredns.md", note: "Amazon EKS User Guide, CoreDNS versions table (latest add-on version per Kubernetes version), stored snapshot" },
    },
];

/** The add-ons whose version the region pins to the cluster's Kubernetes version. */
export const VERSION_PINNED_ADDONS: readonly string[] = PUBLISHED_ADDON_VERSIONS.map((a) => a.addon);

/** The newest published version of an add-on for a Kubernetes version ("1.34" or "1.34.2"), or undefined. */
export function publishedAddonVersion(addon: string, kubernetesVersion: string): string | undefined {
    const minor = /^v?(\d+\.\d+)/.exec(kubernetesVersion)?.[1];
    return minor ? PUBLISHED_ADDON_VERSIONS.find((a) => a.addon === addon)?.latest[minor] : undefined;
}
