/**
 * How far a cluster's Kubernetes version may move in one update, and how far its nodes and
 * kube-proxy may lag, as upstream and EKS document it:
 * - kubernetes/website@01bc09751ea95187842d07b12453df0eba104622 content/en/releases/version-skew-policy.md:
 *   kubelet and kube-proxy must not be newer than kube-apiserver, and may be up to three minor
 *   versions older (two when they are older than 1.25); kube-apiserver never skips a minor version.
 * - awsdocs/amazon-eks-user-guide@4d52b4d05e3478582e7d10a73cbd9ba9194dd5f7 latest/ug/clusters/update-cluster.adoc:
 *   EKS updates one minor version at a time, cannot downgrade, and before a control-plane update
 *   the managed and Fargate nodes must run the control plane's current minor version.
 * The other EKS add-ons version independently; their compatibility per Kubernetes version comes
 * from `aws eks describe-addon-versions`, which the offline plan cannot ask.
 */
export const KUBERNETES_SKEW = {
    /** Minor versions a control-plane update may move forward. */
    maxMinorStep: 1,
    /** Minor versions kubelet and kube-proxy may lag behind kube-apiserver... */
    nodeLag: 3,
    /** ...and below this version, only this many. */
    oldNodeLag: { before: 25, lag: 2 },
} as const;

export interface MinorVersion {
    major: number;
    minor: number;
}

/** The major and minor of "1.34", "1.34.2", "v1.34.0-eksbuild.1"; undefined when there is none. */
export function minorVersion(version: unknown): MinorVersion | undefined {
    const m = typeof version === "string" ? /^v?(\d+)\.(\d+)/.exec(version) : null;
    return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function formatMinor(v: MinorVersion): string {
    return `${v.major}.${v.minor}`;
}

/** Minor versions from `a` to `b` (negative when `b` is older); major versions other than 1 are not compared. */
export function minorsBetween(a: MinorVersion, b: MinorVersion): number {
    return (b.major - a.major) * 1000 + (b.minor - a.minor);
}

/** How many minor versions a node (kubelet) or kube-proxy of `version` may lag behind the control plane. */
export function allowedNodeLag(version: MinorVersion): number {
    return version.major === 1 && version.minor < KUBERNETES_SKEW.oldNodeLag.before ? KUBERNETES_SKEW.oldNodeLag.lag : KUBERNETES_SKEW.nodeLag;
}
