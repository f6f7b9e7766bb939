import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { K8S_TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";
import { selectorMatches } from "../model/domain/label-selectors";

const WORKLOADS: readonly string[] = [K8S_TYPES.deployment, K8S_TYPES.statefulSet, K8S_TYPES.replicaSet];

const pdb = (spec: Record<string, unknown>) => sample(K8S_TYPES.podDisruptionBudget, "model-pdb", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "model", namespace: "serving" }, spec: { selector: { matchLabels: { app: "model" } }, ...spec } });
const deployment = (replicas: number) =>
    sample(K8S_TYPES.deployment, "model", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "model", namespace: "serving" }, spec: { replicas, selector: { matchLabels: { app: "model" } }, template: { metadata: { labels: { app: "model" } } } } });

/** Evictions a budget allows for a workload of `replicas`: undefined when the budget cannot be read. */
export function evictionsAllowed(spec: Record<string, any>, replicas: number): number | undefined {
    const count = (v: unknown, roundUp: boolean): number | undefined => {
        if (typeof v === "number") return v;
        const m = typeof v === "string" ? /^(\d+)%$/.exec(v) : null;
        if (!m) return undefined;
        const exact = (Number(m[1]) * replicas) / 100;
        return roundUp ? Math.ceil(exact) : Math.floor(exact);
    };
    // Kubernetes rounds a percentage up for both (pkg/controller/disruption: GetScaledValueFromIntOrPercent with roundUp true).
    if (spec.maxUnavailable !== undefined) return count(spec.maxUnavailable, true);
    if (spec.minAvailable !== undefined) {
        const min = count(spec.minAvailable, true);
        return min === undefined ? undefined : Math.max(0, replicas - min);
    }
    return undefined;
}

export const disruptionBudgetsAllowDrain = stackPolicy({
    name: "disruption-budgets-allow-drain",
    description: "Every PodDisruptionBudget lets at least one pod of the workloads it covers be evicted, so node groups can be drained and rolled.",
    rationale:
        "A managed node group update drains each node and fails with PodEvictionFailure when a budget allows no eviction: a " +
        "one-replica model with minAvailable 1 blocks every AMI, Kubernetes and launch-template rollout of its pool, and node " +
        "auto-repair cannot replace a faulty GPU node either.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: "Use maxUnavailable: 1 (or minAvailable below the replicas); run two replicas where an eviction must not interrupt service.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-2", title: "Flaw Remediation" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Environmental protections, software and recovery infrastructure" },
    ],
    validateStack: (args, report) => {
        const budgets = resourcesOfType(args, K8S_TYPES.podDisruptionBudget);
        const workloads = args.resources.filter((r: PolicyResource) => WORKLOADS.includes(r.type));
        for (const b of budgets) {
            const spec = b.props.spec ?? {};
            const selector = spec.selector;
            if (typeof selector !== "object" || selector === null) continue;
            for (const w of workloads) {
                if (w.props.metadata?.namespace !== b.props.metadata?.namespace) continue;
                const labels = w.props.spec?.template?.metadata?.labels;
                if (typeof labels !== "object" || labels === null || !selectorMatches(selector, labels)) continue;
                const replicas = typeof w.props.spec?.replicas === "number" ? w.props.spec.replicas : 1;
                const allowed = evictionsAllowed(spec, replicas);
                if (allowed === 0) {
                    report(`PodDisruptionBudget ${b.props.metadata?.namespace}/${b.props.metadata?.name} allows no eviction of ${w.props.metadata?.name} (${replicas} replicas, ${spec.maxUnavailable !== undefined ? `maxUnavailable ${spec.maxUnavailable}` : `minAvailable ${spec.minAvailable}`}): every drain of its nodes would fail.`, b.urn);
                }
            }
        }
    },
    samples: {
        allowed: [
            { description: "One replica, maxUnavailable 1: a drain moves it.", resources: [deployment(1), pdb({ maxUnavailable: 1 })] },
            { description: "Three replicas, minAvailable 2.", resources: [deployment(3), pdb({ minAvailable: 2 })] },
        ],
        disallowed: [
            { description: "One replica with minAvailable 1.", expect: "allows no eviction of model (1 replicas, minAvailable 1)", resources: [deployment(1), pdb({ minAvailable: 1 })] },
            { description: "maxUnavailable 0.", expect: "allows no eviction of model (4 replicas, maxUnavailable 0)", resources: [deployment(4), pdb({ maxUnavailable: 0 })] },
            { description: "minAvailable 100%.", expect: "allows no eviction of model (2 replicas, minAvailable 100%)", resources: [deployment(2), pdb({ minAvailable: "100%" })] },
        ],
    },
});
