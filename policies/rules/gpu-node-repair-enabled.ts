import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { EKS_ADDONS, LABELS } from "../model/domain/conventions";
import { cannotDecide, isUnknown, plain, unknownIn } from "../model/evidence/deploy-input";
import { kubernetesEffect, tolerates } from "../model/domain/scheduling";
import { TYPES } from "../model/domain/types";
import type { TolerationFact } from "../model/upstream/types";
import { poolSamples as s } from "../samples/pools";
import { sample } from "../samples/sample";

const REPAIR = { nodeRepairConfig: { enabled: true } };
const agent = (tolerations: unknown[] | null = [{ key: "compute-region.io/pool-role", operator: "Exists", effect: "NoSchedule" }]) =>
    sample(TYPES.eksAddon, "node-monitoring-agent", { addonName: EKS_ADDONS.nodeMonitoringAgent, ...(tolerations ? { configurationValues: JSON.stringify({ dcgmAgent: { tolerations } }) } : {}) });

/** The configurationValues of an add-on as an object; undefined when absent or not JSON. */
function configurationOf(props: Record<string, any>): Record<string, any> | undefined {
    if (typeof props.configurationValues !== "string") return undefined;
    try {
        const parsed = JSON.parse(props.configurationValues);
        return typeof parsed === "object" && parsed !== null ? parsed : undefined;
    } catch {
        return undefined;
    }
}

export const gpuNodeRepairEnabled = stackPolicy({
    name: "gpu-node-repair-enabled",
    description:
        "Every GPU node group has EKS node auto-repair on, and the cluster runs the EKS node monitoring agent with its DCGM host engine tolerating every GPU pool's taints, " +
        "so a GPU that raises an XID or double-bit ECC error makes its node unhealthy and the node is rebooted or replaced.",
    rationale:
        "Alerts alone leave a broken GPU node in its pool, taking work it fails. Auto-repair acts on the node conditions the monitoring agent sets; " +
        "the agent learns of XID and double-bit ECC errors only from its DCGM host engine (dcgm-server), which tolerates no taint by default and so " +
        "would never run on the region's tainted GPU pools (aws/eks-node-monitoring-agent v1.7.0, charts and monitors/nvidia/dcgm).",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set nodeRepairConfig.enabled on every GPU node group (components/gpu-node-group.ts does), install the eks-node-monitoring-agent add-on " +
        "(components/cluster.ts) with configurationValues dcgmAgent.tolerations covering the GPU pool taints.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-6", title: "Security and Privacy Function Verification (hardware health)" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-10", title: "System Recovery and Reconstitution" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Recovery infrastructure is maintained and monitored" },
    ],
    validateStack: (args, report) => {
        // Node groups and add-ons are read whole (plain): what is unknown during the preview is
        // noted, and once what can be judged is reported the policy ends as not run.
        let undecided: string | undefined;
        const note = (found: string | undefined): string | undefined => {
            undecided ??= found;
            return found;
        };
        const groups = args.resources
            .filter((r: PolicyResource) => r.type === TYPES.eksNodeGroup)
            .map((r: PolicyResource) => ({ r, props: plain(r.props) as Record<string, any> }))
            .filter(({ r, props }) => {
                // Whether it is a GPU pool is its pool label's to say.
                if (isUnknown(props.labels) || isUnknown(props.labels?.[LABELS.pool])) return !note(`${r.name}.labels`);
                return typeof props.labels?.[LABELS.pool] === "string";
            });
        if (groups.length === 0) {
            if (undecided) cannotDecide(undecided);
            return;
        }
        for (const { r, props } of groups) {
            if (note(unknownIn({ name: r.name, props }, "nodeRepairConfig.enabled"))) continue;
            if (props.nodeRepairConfig?.enabled !== true) report(`GPU node group ${r.name} (pool ${props.labels[LABELS.pool]}) does not enable node auto-repair (nodeRepairConfig.enabled): a faulty GPU node stays in the pool.`, r.urn);
        }
        const addons = resourcesOfType(args, TYPES.eksAddon).map((a: PolicyResource) => ({ a, props: plain(a.props) as Record<string, any> }));
        for (const { a, props } of addons) note(unknownIn({ name: a.name, props }, "addonName"));
        const agents = addons.filter(({ props }) => props.addonName === EKS_ADDONS.nodeMonitoringAgent);
        if (agents.length === 0) {
            if (undecided) cannotDecide(undecided);
            report(`the cluster has GPU node groups but no ${EKS_ADDONS.nodeMonitoringAgent} add-on: nothing marks a node with a failing GPU unhealthy, so auto-repair never acts on GPU faults.`);
            return;
        }
        const tolerationsUnknown = agents.map(({ a, props }) => unknownIn({ name: a.name, props }, "configurationValues")).find((x) => x !== undefined);
        note(tolerationsUnknown);
        const tolerations: TolerationFact[] = agents.flatMap(({ props }) => {
            const list = configurationOf(props)?.dcgmAgent?.tolerations;
            return Array.isArray(list) ? list.filter((t): t is TolerationFact => typeof t === "object" && t !== null) : [];
        });
        for (const { r, props } of groups) {
            if (note(unknownIn({ name: r.name, props }, "taints"))) continue;
            const taints = Array.isArray(props.taints) ? props.taints.filter((t: any) => typeof t?.key === "string") : [];
            const untolerated = taints.filter((t: { key: string; value?: string; effect: string }) => !tolerations.some((tol) => tolerates(tol, { ...t, effect: kubernetesEffect(t.effect) })));
            if (untolerated.length > 0 && !tolerationsUnknown) {
                report(`the node monitoring agent's DCGM host engine does not tolerate ${untolerated.map((t: { key: string; value?: string }) => `${t.key}=${t.value ?? ""}`).join(", ")} of GPU node group ${r.name}: GPU XID and double-bit ECC errors there never reach auto-repair.`, r.urn);
            }
        }
        if (undecided) cannotDecide(undecided);
    },
    samples: {
        allowed: [{ description: "Repair on, and the agent's DCGM host engine tolerates the pool-role taint.", resources: [s.nodeGroup("train", "internal", "p5.48xlarge", 2, { more: REPAIR }), agent()] }],
        disallowed: [
            { description: "A GPU pool without auto-repair.", expect: "GPU node group train-nodes (pool train) does not enable node auto-repair", resources: [s.nodeGroup("train", "internal", "p5.48xlarge", 2), agent()] },
            { description: "Repair on, but no monitoring agent to report GPU faults.", expect: "no eks-node-monitoring-agent add-on", resources: [s.nodeGroup("train", "internal", "p5.48xlarge", 2, { more: REPAIR })] },
            {
                description: "The agent's DCGM host engine left without tolerations: it never runs on the tainted GPU pool.",
                expect: "does not tolerate compute-region.io/pool-role=internal of GPU node group train-nodes",
                resources: [s.nodeGroup("train", "internal", "p5.48xlarge", 2, { more: REPAIR }), agent(null)],
            },
        ],
    },
});
