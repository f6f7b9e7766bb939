import { changePolicy } from "../engine/change";
import { DATA_TYPES, TYPES } from "../model/domain/types";
import { changeSamples as s } from "../samples/changes";

/** What the region stands on: replacing one takes down (or loses) everything on it. */
const FOUNDATION: Record<string, string> = {
    [TYPES.eksCluster]: "the EKS cluster (every Kubernetes object and tenant workload on it is lost)",
    [TYPES.vpc]: "the VPC (every subnet, node and endpoint in it goes with it)",
    [TYPES.subnet]: "a subnet (its nodes and network interfaces go with it)",
    [DATA_TYPES.rdsInstance]: "the billing database (a new, empty database)",
    [TYPES.kmsKey]: "a KMS key (what the old key encrypted can no longer be read once it is deleted)",
};

export const foundationNotReplaced = changePolicy({
    name: "foundation-not-replaced",
    description: "The change replaces none of the region's foundations: the EKS cluster, the VPC, its subnets, the billing database or a KMS key.",
    rationale:
        "A replacement is a delete and a create. For the cluster, the VPC and its subnets that means an outage and every workload rebuilt; " +
        "for the billing database, data restored from a snapshot at best; for a KMS key, data the old key encrypted becomes unreadable once " +
        "the key is deleted. A renamed cluster or a new CIDR looks like a one-line config change.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Revert the property that forces the replacement (the plan names it). To really rebuild one, plan a migration: a new resource beside the old one, the workloads moved, then the old one retired with its protection lifted.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-10", title: "System Recovery and Reconstitution" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Recovery infrastructure and protection against data loss" },
    ],
    validateChanges: (args, report) => {
        for (const c of args.changes) {
            const what = FOUNDATION[c.type];
            if (!what || c.op !== "replace") continue;
            report(`${c.name} would be replaced: ${what}. Forced by: ${c.replacedBy.join(", ")}.`, c.urn);
        }
    },
    samples: {
        allowed: [
            { description: "The cluster moves to the next Kubernetes version (in place).", old: [s.cluster("1.33")], new: [s.cluster("1.34")] },
            { description: "The billing database grows its storage (in place).", old: [s.billingDatabase(100)], new: [s.billingDatabase(200)] },
        ],
        disallowed: [
            { description: "The cluster is renamed.", expect: "cluster would be replaced: the EKS cluster (every Kubernetes object and tenant workload on it is lost). Forced by: name", old: [s.cluster("1.34")], new: [s.cluster("1.34", { name: "gpu-prod-use2" })] },
            { description: "The VPC gets a new CIDR.", expect: "vpc would be replaced: the VPC (every subnet, node and endpoint in it goes with it). Forced by: cidrBlock", old: [s.vpc("10.40.0.0/16")], new: [s.vpc("10.41.0.0/16")] },
            { description: "The billing database moves to another engine.", expect: "billing would be replaced: the billing database (a new, empty database). Forced by: engine", old: [s.billingDatabase(100)], new: [s.billingDatabase(100, 1000, { engine: "aurora-postgresql" })] },
            { description: "A KMS key changes its usage.", expect: "secrets-key would be replaced: a KMS key", old: [s.kmsKey()], new: [s.kmsKey({ keyUsage: "SIGN_VERIFY" })] },
        ],
    },
});
