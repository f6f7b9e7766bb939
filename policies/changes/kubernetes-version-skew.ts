import { changePolicy } from "../engine/change";
import { EKS_ADDONS } from "../model/domain/conventions";
import { allowedNodeLag, formatMinor, minorsBetween, MinorVersion, minorVersion } from "../model/domain/kubernetes-versions";
import { TYPES } from "../model/domain/types";
import { addonVersionPin, addonVersionPins } from "../model/upstream/addon-versions";
import { changeSamples as s } from "../samples/changes";

/** The add-ons of a sample cluster at `minor`, each at the build published for it. */
const addonsAt = (minor: string, except: Record<string, string | undefined> = {}) =>
    Object.values(EKS_ADDONS).map((a) => s.addon(a, a in except ? except[a] : addonVersionPin(a, minor)));

export const kubernetesVersionSkew = changePolicy({
    name: "kubernetes-version-skew",
    description:
        "After the change, every managed node group and the kube-proxy add-on run a Kubernetes version the control plane supports (not newer, at most three minor versions older), every EKS add-on is pinned to the build published for the control plane's minor, and the control plane is updated only while the node groups run its current version.",
    rationale:
        "kubelet and kube-proxy must not be newer than kube-apiserver and may lag it by three minor versions (two before 1.25; Kubernetes " +
        "version skew policy). EKS also requires managed nodes to run the control plane's minor version before the control plane is updated. " +
        "A node group without an explicit version stays where it was created, so an upgrade of the cluster alone can leave it behind; " +
        "an add-on without an addonVersion likewise stays on the build it was installed with, which EKS may not publish for the new minor, " +
        "and one that floats (mostRecent) changes between a preview and the deploy. Each add-on's builds per minor come from a cited " +
        "published table (ADDON_VERSION_PINS).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Update the node groups to the cluster's current version in one deploy, then the cluster by one minor version in the next, with " +
        "every add-on at the build ADDON_VERSION_PINS (policies/model/upstream/addon-versions.ts) publishes for the new minor; keep nodes " +
        "within three minor versions of the control plane. A minor with no row needs one, read from the published table, first.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-2", title: "Flaw Remediation (supported versions)" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateChanges: (args, report) => {
        const cluster = args.changes.find((c) => c.type === TYPES.eksCluster && c.new);
        if (!cluster?.new) return;
        const after = minorVersion(cluster.new.props.version);
        const before = cluster.old ? minorVersion(cluster.old.outputs.version ?? cluster.old.props.version) : undefined;
        if (!after) return;
        const upgrading = before !== undefined && minorsBetween(before, after) > 0;
        /** `version` runs after the change; a node group ran `before` during it (the cluster updates first: the node groups depend on it). */
        const check = (what: string, version: MinorVersion, urn: string, nodeGroupBefore?: MinorVersion) => {
            const lag = minorsBetween(version, after);
            if (lag < 0) report(`${what} runs ${formatMinor(version)}, newer than the control plane's ${formatMinor(after)}.`, urn);
            else if (lag > allowedNodeLag(version)) report(`${what} runs ${formatMinor(version)}, ${lag} minor versions behind the control plane's ${formatMinor(after)} (at most ${allowedNodeLag(version)}).`, urn);
            else if (before && upgrading && nodeGroupBefore && minorsBetween(nodeGroupBefore, before) !== 0) {
                report(`${what} runs ${formatMinor(nodeGroupBefore)} while the control plane goes from ${formatMinor(before)} to ${formatMinor(after)}: EKS updates the control plane only when managed node groups run its current version.`, urn);
            }
        };
        for (const c of args.changes) {
            if (!c.new) continue;
            // The version the program sets, else the one the state says it runs (it keeps it).
            const running = (key: string) => minorVersion(c.new!.props[key] ?? c.old?.outputs[key] ?? c.old?.props[key]);
            const was = (key: string) => minorVersion(c.old?.outputs[key] ?? c.old?.props[key]);
            if (c.type === TYPES.eksNodeGroup) {
                const version = running("version");
                if (version) check(`node group ${c.new.props.nodeGroupName ?? c.name}`, version, c.urn, was("version"));
            } else if (c.type === TYPES.eksAddon) {
                const addonName = String(c.new.props.addonName);
                if (addonName === EKS_ADDONS.kubeProxy) {
                    const version = running("addonVersion");
                    if (version) check(`add-on ${EKS_ADDONS.kubeProxy}`, version, c.urn);
                }
                if (!addonVersionPins(addonName)) continue;
                const published = addonVersionPin(addonName, formatMinor(after));
                const pinned = c.new.props.addonVersion;
                if (published === undefined) report(`add-on ${addonName} has no build published for Kubernetes ${formatMinor(after)} in ADDON_VERSION_PINS: add the row from the published table before the cluster runs it.`, c.urn);
                else if (pinned === undefined || pinned === null || pinned === "") report(`add-on ${addonName} sets no addonVersion: EKS keeps it on the build it was installed with, whatever the control plane runs (published for ${formatMinor(after)}: ${published}).`, c.urn);
                else if (pinned !== published) report(`add-on ${addonName} runs ${String(pinned)}, not the ${published} published for the control plane's ${formatMinor(after)}.`, c.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "Cluster 1.34 to 1.35 with the node group already on 1.34, and every add-on moved to its 1.35 build.", old: [s.cluster("1.34"), s.nodeGroup("gpu", "1.34"), ...addonsAt("1.34")], new: [s.cluster("1.35"), s.nodeGroup("gpu", "1.34"), ...addonsAt("1.35")] },
            { description: "A node group three minor versions behind.", old: [s.cluster("1.35"), s.nodeGroup("gpu", "1.32"), ...addonsAt("1.35")], new: [s.cluster("1.35"), s.nodeGroup("gpu", "1.32"), ...addonsAt("1.35")] },
            { description: "Node groups without a version are judged by the version the state says they run: none here.", old: [s.cluster("1.34"), s.nodeGroup("gpu")], new: [s.cluster("1.35"), s.nodeGroup("gpu")] },
        ],
        disallowed: [
            {
                description: "The cluster goes to 1.35 while a node group still runs 1.33.",
                expect: "node group gpu runs 1.33 while the control plane goes from 1.34 to 1.35: EKS updates the control plane only when managed node groups run its current version",
                old: [s.cluster("1.34"), s.nodeGroup("gpu", "1.33")],
                new: [s.cluster("1.35"), s.nodeGroup("gpu", "1.33")],
            },
            { description: "A node group newer than the control plane.", expect: "node group gpu runs 1.35, newer than the control plane's 1.34", old: [s.cluster("1.34"), s.nodeGroup("gpu", "1.34")], new: [s.cluster("1.34"), s.nodeGroup("gpu", "1.35")] },
            {
                description: "kube-proxy four minor versions behind.",
                expect: "add-on kube-proxy runs 1.31, 4 minor versions behind the control plane's 1.35 (at most 3)",
                old: [s.cluster("1.34"), s.addon("kube-proxy", "v1.31.10-eksbuild.2")],
                new: [s.cluster("1.35"), s.addon("kube-proxy", "v1.31.10-eksbuild.2")],
            },
            {
                description: "The cluster goes to 1.35 and the EBS CSI driver stays on its 1.34 build.",
                expect: `add-on aws-ebs-csi-driver runs ${addonVersionPin("aws-ebs-csi-driver", "1.34")}, not the ${addonVersionPin("aws-ebs-csi-driver", "1.35")} published for the control plane's 1.35`,
                old: [s.cluster("1.34"), ...addonsAt("1.34")],
                new: [s.cluster("1.35"), ...addonsAt("1.35", { "aws-ebs-csi-driver": addonVersionPin("aws-ebs-csi-driver", "1.34") })],
            },
            {
                description: "An add-on left to EKS's choice (no addonVersion): it does not follow the upgrade.",
                expect: "add-on vpc-cni sets no addonVersion: EKS keeps it on the build it was installed with, whatever the control plane runs (published for 1.35:",
                old: [s.cluster("1.34"), ...addonsAt("1.34", { "vpc-cni": undefined })],
                new: [s.cluster("1.35"), ...addonsAt("1.35", { "vpc-cni": undefined })],
            },
            {
                description: "A cluster on a minor no table row publishes add-on builds for.",
                expect: "add-on coredns has no build published for Kubernetes 1.36 in ADDON_VERSION_PINS",
                old: [s.cluster("1.35"), s.addon("coredns", addonVersionPin("coredns", "1.35"))],
                new: [s.cluster("1.36"), s.addon("coredns", addonVersionPin("coredns", "1.35"))],
            },
        ],
    },
});
