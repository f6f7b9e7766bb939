import { changePolicy } from "../engine/change";
import { formatMinor, KUBERNETES_SKEW, minorsBetween, minorVersion } from "../model/domain/kubernetes-versions";
import { TYPES } from "../model/domain/types";
import { changeSamples as s } from "../samples/changes";

export const kubernetesUpgradeOneMinor = changePolicy({
    name: "kubernetes-upgrade-one-minor",
    description: "The EKS cluster's Kubernetes version, and each managed node group's, moves forward one minor version at a time and never back.",
    rationale:
        "EKS updates the control plane one minor version at a time and cannot downgrade a cluster (Amazon EKS User Guide, Update existing " +
        "cluster); Kubernetes itself never lets kube-apiserver skip a minor version. The provider sends either change to EKS, which refuses it " +
        "in the middle of the deploy.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Raise compute-region:cluster.kubernetesVersion by one minor version per deploy (1.33, then 1.34, then 1.35). To go back, create a new cluster on the older version and move the workloads.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-2", title: "Flaw Remediation (supported versions)" },
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            if ((c.type !== TYPES.eksCluster && c.type !== TYPES.eksNodeGroup) || c.op !== "update" || !c.old || !c.new) continue;
            const before = minorVersion(c.old.outputs.version ?? c.old.props.version);
            const after = minorVersion(c.new.props.version);
            if (!before || !after) continue;
            const step = minorsBetween(before, after);
            // Node groups follow the cluster (components set version to the cluster's): the same rules hold for them.
            const what = c.type === TYPES.eksCluster ? `cluster ${c.new.props.name ?? c.name}` : `node group ${c.new.props.nodeGroupName ?? c.name}`;
            if (step < 0) report(`${what} would go back from ${formatMinor(before)} to ${formatMinor(after)}: EKS cannot downgrade a ${c.type === TYPES.eksCluster ? "cluster" : "node group"}.`, c.urn);
            else if (step > KUBERNETES_SKEW.maxMinorStep) {
                report(`${what} would go from ${formatMinor(before)} to ${formatMinor(after)}, skipping ${step - 1} minor version${step > 2 ? "s" : ""}: EKS updates one minor version at a time.`, c.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "1.33 to 1.34.", old: [s.cluster("1.33")], new: [s.cluster("1.34")] },
            { description: "The version stays.", old: [s.cluster("1.34")], new: [s.cluster("1.34", { tags: { team: "platform" } })] },
            { description: "The cluster and its node groups, 1.34 to 1.35 together.", old: [s.cluster("1.34"), s.nodeGroup("gpu", "1.34")], new: [s.cluster("1.35"), s.nodeGroup("gpu", "1.35")] },
        ],
        disallowed: [
            { description: "1.33 to 1.35 in one step.", expect: "would go from 1.33 to 1.35, skipping 1 minor version: EKS updates one minor version at a time", old: [s.cluster("1.33")], new: [s.cluster("1.35")] },
            { description: "1.33 back to 1.32.", expect: "would go back from 1.33 to 1.32: EKS cannot downgrade a cluster", old: [s.cluster("1.33")], new: [s.cluster("1.32")] },
            { description: "A node group sent back with its cluster.", expect: "node group gpu would go back from 1.34 to 1.33: EKS cannot downgrade a node group", old: [s.cluster("1.34"), s.nodeGroup("gpu", "1.34")], new: [s.cluster("1.34"), s.nodeGroup("gpu", "1.33")] },
        ],
    },
});
