import type { Source } from "./types";

/**
 * IAM needs of the controllers the region runs, read from their published policies at the pinned
 * version. A component may grant less than the published policy (only what the region uses), never
 * less than what the controller calls for the features it uses.
 */

export interface IamNeed {
    /** What the controller does that needs it. */
    why: string;
    actions: readonly string[];
    /** Resource ARN patterns, `${partition}` standing for the partition. */
    resources: readonly string[];
    source: Source;
}

const lbcPolicy: Source = { repo: "kubernetes-sigs/aws-load-balancer-controller", ref: "v2.17.1", file: "docs/install/iam_policy.json" };

/** The AWS Load Balancer Controller v2.17.1 tags every listener it creates (statement 11, without a condition). */
export const LOAD_BALANCER_CONTROLLER_LISTENER_TAGGING: IamNeed = {
    why: "CreateListener with tags, and tag updates on the listeners of its network load balancers",
    actions: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    resources: ["arn:${partition}:elasticloadbalancing:*:*:listener/net/*/*/*"],
    source: { ...lbcPolicy, note: "Statement[11]; only the net/ listener ARNs: the region makes no ALBs" },
};

/** An IAM need's resource patterns in a partition. */
export function iamResources(need: IamNeed, partition: string): string[] {
    return need.resources.map((r) => r.replace("${partition}", partition));
}
