import type { Source } from "./types";

/**
 * The exact version of every EKS managed add-on the region installs, per Kubernetes minor, read from
 * a published table: the program sets `addonVersion` from here (components/cluster.ts), so an
 * upgrade of the cluster moves every add-on to a build published for the new minor in the same
 * deploy, and nothing floats between previews (no `mostRecent` look-up: a build EKS publishes
 * tomorrow is a change someone makes here, reviewed like any other).
 *
 * Sources, in order of preference: the EKS User Guide's tables ("the latest version of the Amazon EKS
 * add-on type for each Kubernetes version") where EKS publishes one (vpc-cni, kube-proxy, CoreDNS);
 * otherwise the version maps of awslabs/cdk-eks-blueprints, AWS's own blueprint library, which pins
 * each add-on per Kubernetes version from `aws eks describe-addon-versions`. The pages and the maps
 * move as builds ship: these rows are the stored snapshots cited. Before a real deploy,
 * `aws eks describe-addon-versions --addon-name <add-on> --kubernetes-version <minor>` confirms a row.
 *
 * Adding an add-on (or a Kubernetes minor) is a data change: a row here with its source, for every
 * minor the stack config accepts (stacks/config SUPPORTED_KUBERNETES_VERSIONS); test/addon-versions.test.ts
 * fails while one is missing, and `kubernetes-version-skew` holds every planned add-on to its row.
 */
export interface AddonVersionPins {
    addon: string;
    /** Kubernetes minor ("1.34") to the add-on version EKS publishes for it (`v1.21.1-eksbuild.7`). */
    versions: Readonly<Record<string, string>>;
    source: Source;
}

const blueprints = (addon: string, dir: string): Source => ({
    repo: "awslabs/cdk-eks-blueprints",
    ref: "05d3dbd0a462409bf002c989750d0de13bf83af2",
    file: `lib/addons/${dir}/index.ts`,
    note: `versionMap of the ${addon} add-on (from aws eks describe-addon-versions); main on 2026-07-01, after blueprints-1.18.2, which has no 1.35 row`,
});

export const ADDON_VERSION_PINS: readonly AddonVersionPins[] = [
    {
        addon: "vpc-cni",
        versions: { "1.31": "v1.21.1-eksbuild.7", "1.32": "v1.21.1-eksbuild.7", "1.33": "v1.21.1-eksbuild.7", "1.34": "v1.21.1-eksbuild.7", "1.35": "v1.21.1-eksbuild.7" },
        source: { url: "https://docs.amazonaws.cn/eks/latest/userguide/managing-vpc-cni.md", note: "Amazon EKS User Guide, Amazon VPC CNI versions table (latest add-on version per Kubernetes version), stored snapshot" },
    },
    {
        addon: "kube-proxy",
        versions: { "1.31": "v1.31.14-eksbuild.9", "1.32": "v1.32.13-eksbuild.5", "1.33": "v1.33.10-eksbuild.2", "1.34": "v1.34.6-eksbuild.2", "1.35": "v1.35.3-eksbuild.2" },
        source: { url: "https://docs.amazonaws.cn/zh_cn/eks/latest/userguide/managing-kube-proxy.md", note: "Amazon EKS User Guide, kube-proxy versions table (latest add-on version per Kubernetes version), stored snapshot" },
    },
    {
        addon: "coredns",
        versions: { "1.31": "v1.11.4-eksbuild.33", "1.32": "v1.11.4-eksbuild.33", "1.33": "v1.13.2-eksbuild.4", "1.34": "v1.13.2-eksbuild.4", "1.35": "v1.13.2-eksbuild.4" },
        source: { url: "https://docs.amazonaws.cn/zh_cn/eks/latest/userguide/managing-coredns.md", note: "Amazon EKS User Guide, CoreDNS versions table (latest add-on version per Kubernetes version), stored snapshot" },
    },
    {
        addon: "eks-pod-identity-agent",
        versions: { "1.31": "v1.3.10-eksbuild.2", "1.32": "v1.3.10-eksbuild.2", "1.33": "v1.3.10-eksbuild.2", "1.34": "v1.3.10-eksbuild.2", "1.35": "v1.3.10-eksbuild.2" },
        source: blueprints("eks-pod-identity-agent", "eks-pod-identity-agent"),
    },
    {
        addon: "aws-ebs-csi-driver",
        versions: { "1.31": "v1.56.0-eksbuild.1", "1.32": "v1.56.0-eksbuild.1", "1.33": "v1.56.0-eksbuild.1", "1.34": "v1.56.0-eksbuild.1", "1.35": "v1.57.1-eksbuild.1" },
        source: blueprints("aws-ebs-csi-driver", "ebs-csi-driver"),
    },
    {
        addon: "amazon-cloudwatch-observability",
        versions: { "1.31": "v2.3.0-eksbuild.1", "1.32": "v4.10.1-eksbuild.1", "1.33": "v4.10.1-eksbuild.1", "1.34": "v4.10.1-eksbuild.1", "1.35": "v5.3.1-eksbuild.1" },
        source: blueprints("amazon-cloudwatch-observability", "cloud-watch-insights"),
    },
    {
        // No per-Kubernetes-version table for this add-on was found in the stored sources (EKS User Guide
        // node-health pages, cdk-eks-blueprints, eksctl): the build of the chart the add-on is made from
        // (the facts in addons.ts) is pinned for every minor, and must be confirmed with
        // describe-addon-versions before a deploy of a new minor.
        addon: "eks-node-monitoring-agent",
        versions: { "1.31": "v1.7.0-eksbuild.1", "1.32": "v1.7.0-eksbuild.1", "1.33": "v1.7.0-eksbuild.1", "1.34": "v1.7.0-eksbuild.1", "1.35": "v1.7.0-eksbuild.1" },
        source: {
            repo: "aws/eks-node-monitoring-agent",
            ref: "v1.7.0",
            file: "charts/eks-node-monitoring-agent/values.yaml",
            note: "nodeAgent.image: the add-on's image in EKS's add-on registry (602401143452), tag v1.7.0-eksbuild.1; EKS publishes no per-Kubernetes-version table for it",
        },
    },
    {
        // No per-Kubernetes-version table for the GuardDuty agent was found in the stored sources (the
        // GuardDuty User Guide's "Kubernetes versions supported by GuardDuty security agent" is not among
        // them; cdk-eks-blueprints has no GuardDuty add-on). What is cited: its configuration schema
        // (priorityClassName, which the region sets) needs v1.5.0 or later (GUARDDUTY_AGENT.configuration.
        // minimumAddonVersion, guardduty.ts), and the guide's manual-install page names v1.16.0-eksbuild.2,
        // the newest build among its stored snapshots (earlier ones name v1.11.0-eksbuild.2 and
        // v1.12.1-eksbuild.2). That build is pinned for every minor and must be confirmed with
        // describe-addon-versions before a deploy, as the node monitoring agent's.
        addon: "aws-guardduty-agent",
        versions: { "1.31": "v1.16.0-eksbuild.2", "1.32": "v1.16.0-eksbuild.2", "1.33": "v1.16.0-eksbuild.2", "1.34": "v1.16.0-eksbuild.2", "1.35": "v1.16.0-eksbuild.2" },
        source: {
            url: "https://docs.aws.amazon.com/guardduty/latest/ug/eksrunmon-deploy-security-agent.html",
            note: "Amazon GuardDuty User Guide, installing the security agent manually: aws eks create-addon --addon-name aws-guardduty-agent --addon-version v1.16.0-eksbuild.2 (v1.5.0 or above takes the configuration schema); no per-Kubernetes-version table published in the stored sources, stored snapshot",
        },
    },
];

/** The Kubernetes minor of "1.34", "1.34.2" or "v1.34.0-eksbuild.1", or undefined. */
function minorOf(kubernetesVersion: string): string | undefined {
    return /^v?(\d+\.\d+)/.exec(kubernetesVersion)?.[1];
}

/** The pins of an add-on, or undefined when the region keeps none. */
export function addonVersionPins(addon: string): AddonVersionPins | undefined {
    return ADDON_VERSION_PINS.find((a) => a.addon === addon);
}

/** The version pinned for an add-on on a Kubernetes version ("1.34" or "1.34.2"), or undefined. */
export function addonVersionPin(addon: string, kubernetesVersion: string): string | undefined {
    const minor = minorOf(kubernetesVersion);
    return minor ? addonVersionPins(addon)?.versions[minor] : undefined;
}
