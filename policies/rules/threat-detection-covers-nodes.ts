import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { EKS_ADDONS, LABELS } from "../model/domain/conventions";
import { kubernetesEffect, tolerates } from "../model/domain/scheduling";
import { SECURITY_TYPES, TYPES } from "../model/domain/types";
import { GUARDDUTY_AGENT, guardDutyConfigurationProblems } from "../model/upstream/guardduty";
import type { TolerationFact } from "../model/upstream/types";
import { poolSamples as pools } from "../samples/pools";
import { threatSamples as t } from "../samples/reliability";
import { sample } from "../samples/sample";

/** The tag on the agent's add-on saying who runs GuardDuty: `managed` (this stack) or `central` (the security team). */
export const THREAT_DETECTION_MODE_TAG = "compute-region:threat-detection";

const system = sample("aws:eks/nodeGroup:NodeGroup", "system", { labels: { [LABELS.role]: "system" }, taints: [{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }] });
const gpu = pools.nodeGroup("train", "internal", "p5.48xlarge", 2);
const tenantPool = pools.nodeGroup("acme-h100", "dedicated", "p5.48xlarge", 1, { tenant: "acme" });
const cluster = sample(TYPES.eksCluster, "cluster", { name: "prod" });
const managed = [cluster, system, gpu, tenantPool, ...t.detector(), ...t.findings(), t.endpoint(), t.agent(), t.tolerations()];
const without = (names: string[]) => managed.filter((r) => !names.includes(r.name));

export const threatDetectionCoversNodes = stackPolicy({
    name: "threat-detection-covers-nodes",
    description:
        "GuardDuty watches the region with EKS audit log monitoring and runtime monitoring (run by this stack, or asserted as the security team's), its security agent add-on tolerates " +
        "the taints of every node group, GPU pools included, and reaches GuardDuty through the guardduty-data VPC endpoint; findings of a GuardDuty this stack runs are routed to the security team.",
    rationale:
        "A region that runs strangers' containers on GPUs needs runtime threat detection on exactly those nodes. The agent's add-on tolerates no taint and its configuration cannot give it any " +
        "(aws/containers-roadmap#2520), so enabled naively it runs on none of the tainted pools; without its VPC endpoint it delivers nothing; and findings nobody receives protect nobody.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep the ThreatDetection component in the region (components/threat-detection.ts): it enables the detector's EKS_AUDIT_LOGS and RUNTIME_MONITORING features (agent management off), creates " +
        "the guardduty-data endpoint, installs aws-guardduty-agent and patches its DaemonSet to tolerate every taint, and routes findings through EventBridge to the security team's SNS topic. " +
        "Where the security team runs GuardDuty, set compute-region:threatDetection.mode to central.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4", title: "System Monitoring" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-3", title: "Malicious Code Protection" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "5.x", title: "Managed services: runtime threat detection for worker nodes" },
        { framework: "SOC 2 (2017 TSC)", control: "CC7.2", title: "Monitoring of system components for anomalies" },
    ],
    validateStack: (args, report) => {
        if (resourcesOfType(args, TYPES.eksCluster).length === 0) return args.notApplicable("no cluster in this stack");
        const agent = resourcesOfType(args, TYPES.eksAddon).find((r: PolicyResource) => r.props.addonName === EKS_ADDONS.guardDutyAgent);
        if (!agent) {
            report(`the cluster has no ${EKS_ADDONS.guardDutyAgent} add-on: no node is watched for runtime threats.`);
            return;
        }
        const agentProps = (agent.props) as Record<string, any>;
        for (const problem of guardDutyConfigurationProblems(agentProps.configurationValues)) report(`the ${EKS_ADDONS.guardDutyAgent} add-on's configuration breaks its documented schema: ${problem}.`, agent.urn);
        const mode = agentProps.tags?.[THREAT_DETECTION_MODE_TAG] === "central" ? "central" : "managed";
        const features = resourcesOfType(args, SECURITY_TYPES.guardDutyFeature).map((r) => (r.props) as Record<string, any>);
        if (mode === "managed") {
            const detector = resourcesOfType(args, SECURITY_TYPES.guardDutyDetector)[0];
            if (!detector || (detector.props.enable) === false) report(`no enabled GuardDuty detector, and the agent's add-on does not say a central one watches (tag ${THREAT_DETECTION_MODE_TAG}=central): nothing receives the agent's events.`);
            const enabled = (name: string) => features.some((f) => f.name === name && f.status === "ENABLED");
            if (!enabled("EKS_AUDIT_LOGS")) report("the GuardDuty detector does not enable EKS_AUDIT_LOGS: the cluster's API activity is not analysed.");
            if (!enabled("RUNTIME_MONITORING") && !enabled("EKS_RUNTIME_MONITORING")) report("the GuardDuty detector does not enable RUNTIME_MONITORING: the agent's events are not analysed.");
            const automated = features.some((f) => (f.additionalConfigurations ?? []).some((c: { name?: string; status?: string }) => c?.name === "EKS_ADDON_MANAGEMENT" && c?.status === "ENABLED"));
            if (automated) report("GuardDuty's automated agent configuration (EKS_ADDON_MANAGEMENT) is on: it manages the agent add-on itself, without the tolerations the region patches in, and fights the program over it.");
            const rules = resourcesOfType(args, SECURITY_TYPES.eventRule).filter((r) => {
                try {
                    return (JSON.parse(String((r.props.eventPattern) ?? "{}")).source ?? []).includes("aws.guardduty");
                } catch (e) {
                    // An unreadable pattern matches nothing; an unknown one (a preview) is not this policy's to judge.
                    if (e instanceof SyntaxError) return false;
                    throw e;
                }
            });
            const targeted = rules.some((rule) => resourcesOfType(args, SECURITY_TYPES.eventTarget).some((target) => target.dependencies.some((d) => d.urn === rule.urn) || (target.props.rule) === rule.name || (target.props.rule) === (rule.props.name)));
            if (!targeted) report("GuardDuty findings are routed nowhere: no EventBridge rule on aws.guardduty findings with a target (set compute-region:threatDetection.findingsReceiver, or give the security team an sns page receiver).");
        }
        const endpoint = resourcesOfType(args, TYPES.vpcEndpoint).find((r) => String((r.props.serviceName) ?? "").endsWith(".guardduty-data"));
        if (!endpoint) report("no guardduty-data VPC endpoint: the agent, managed here and not by GuardDuty's automation, has nowhere to deliver its events.");
        else if ((endpoint.props.privateDnsEnabled) !== true) report("the guardduty-data VPC endpoint has no private DNS: the agent resolves GuardDuty's public name and its events leave the VPC or fail.", endpoint.urn);

        const patch = resourcesOfType(args, SECURITY_TYPES.daemonSetPatch).find((r) => {
            const meta = (r.props.metadata) as { name?: string; namespace?: string } | undefined;
            return meta?.name === GUARDDUTY_AGENT.daemonSet && meta?.namespace === GUARDDUTY_AGENT.namespace;
        });
        const list = patch ? ((patch.props.spec) as any)?.template?.spec?.tolerations : [];
        const tolerations: TolerationFact[] = Array.isArray(list) ? list.filter((x): x is TolerationFact => typeof x === "object" && x !== null) : [];
        for (const group of resourcesOfType(args, TYPES.eksNodeGroup)) {
            const props = (group.props) as Record<string, any>;
            const taints = (Array.isArray(props.taints) ? props.taints : []).filter((x: any) => typeof x?.key === "string");
            const untolerated = taints.filter((x: { key: string; value?: string; effect: string }) => !tolerations.some((tol) => tolerates(tol, { ...x, effect: kubernetesEffect(x.effect) })));
            if (untolerated.length === 0) continue;
            const pool = props.labels?.[LABELS.pool];
            report(
                `the GuardDuty agent does not tolerate ${untolerated.map((x: { key: string; value?: string }) => `${x.key}=${x.value ?? ""}`).join(", ")} of node group ${group.name}${pool ? ` (pool ${pool})` : ""}: runtime threats on its nodes go unseen` +
                    `${patch ? "" : ` (the add-on's schema sets no tolerations: patch them onto DaemonSet ${GUARDDUTY_AGENT.namespace}/${GUARDDUTY_AGENT.daemonSet})`}.`,
                group.urn,
            );
        }
    },
    samples: {
        allowed: [
            { description: "GuardDuty run here, its findings routed, the agent tolerating every taint through its endpoint.", resources: managed },
            { description: "A central GuardDuty: no detector here, the agent covering every node.", resources: [cluster, system, gpu, t.endpoint(), t.agent("central"), t.tolerations()] },
            { description: "A tenant shard stack (no cluster of its own).", resources: [sample("kubernetes:core/v1:Namespace", "tenant-acme", { metadata: { name: "tenant-acme" } })] },
        ],
        disallowed: [
            { description: "No agent add-on.", expect: "no aws-guardduty-agent add-on", resources: without(["guardduty-agent", "guardduty-agent-tolerations"]) },
            { description: "The add-on as GuardDuty's automation would leave it: no tolerations, so no agent on any tainted pool.", expect: "does not tolerate compute-region.io/pool-role=internal of node group train-nodes (pool train)", resources: without(["guardduty-agent-tolerations"]) },
            {
                description: "Tolerations for the pool roles only: a dedicated tenant's GPU pool goes unwatched.",
                expect: "does not tolerate compute-region.io/tenant=acme of node group acme-h100-nodes (pool acme-h100)",
                resources: [...without(["guardduty-agent-tolerations"]), t.tolerations([{ key: "compute-region.io/pool-role", operator: "Exists" }, { key: "CriticalAddonsOnly", operator: "Exists" }])],
            },
            { description: "No detector, and no central one declared.", expect: "no enabled GuardDuty detector", resources: without(["detector", "eks_audit_logs", "runtime_monitoring"]) },
            { description: "Runtime monitoring off.", expect: "does not enable RUNTIME_MONITORING", resources: [...without(["detector", "eks_audit_logs", "runtime_monitoring"]), ...t.detector({ EKS_AUDIT_LOGS: "ENABLED", RUNTIME_MONITORING: "DISABLED" })] },
            { description: "EKS audit logs off.", expect: "does not enable EKS_AUDIT_LOGS", resources: [...without(["detector", "eks_audit_logs", "runtime_monitoring"]), ...t.detector({ RUNTIME_MONITORING: "ENABLED" })] },
            { description: "GuardDuty's automation manages the agent too.", expect: "automated agent configuration (EKS_ADDON_MANAGEMENT) is on", resources: [...without(["detector", "eks_audit_logs", "runtime_monitoring"]), ...t.detector(undefined, "ENABLED")] },
            { description: "Findings go nowhere.", expect: "GuardDuty findings are routed nowhere", resources: [...without(["findings", "findings-target"]), ...t.findings(false)] },
            { description: "No data endpoint for the agent.", expect: "no guardduty-data VPC endpoint", resources: without(["guardduty-data"]) },
            { description: "The endpoint without private DNS.", expect: "has no private DNS", resources: [...without(["guardduty-data"]), t.endpoint(undefined, false)] },
            { description: "Tolerations put in the add-on's configuration, which its schema refuses.", expect: "tolerations is not in the add-on's configuration schema", resources: [...without(["guardduty-agent"]), t.agent("managed", { tolerations: [{ operator: "Exists" }] })] },
        ],
    },
});
