import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { EKS_ADDONS, GUARDDUTY_AGENT, GUARDDUTY_AGENT_FACTS, PlatformAddressing } from "compute-region-policies/model";
import { pinnedAddonVersion } from "./eks-addon";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";
import { podNetworkPolicies } from "./platform-network-policies";

/** GuardDuty features a region's detector must have on: EKS audit logs and runtime monitoring. */
export const REQUIRED_GUARDDUTY_FEATURES = ["EKS_AUDIT_LOGS", "RUNTIME_MONITORING"] as const;

/**
 * The agent's tolerations, patched onto its DaemonSet: every taint, as for the cluster's other node
 * agents (aws-node, kube-proxy), so a new pool or a dedicated tenant's taint is covered without a change.
 */
export const GUARDDUTY_AGENT_TOLERATIONS = [{ operator: "Exists" }];

/** Who runs GuardDuty in the account and region. */
export const ThreatDetectionMode = {
    /** This stack runs GuardDuty for its account and region. */
    Managed: "managed",
    /** The security team does (an organization's delegated administrator). */
    Central: "central",
} as const;
/** Who runs GuardDuty in the account and region. */
export type ThreatDetectionMode = (typeof ThreatDetectionMode)[keyof typeof ThreatDetectionMode];

/** What a region's config says of GuardDuty. */
export interface ThreatDetectionSettings {
    /** managed: this stack runs GuardDuty for its account and region; central: the security team does. */
    mode: ThreatDetectionMode;
    /** central: the detector the security team's administrator runs here, checked at deploy. */
    detectorId?: string;
    /** managed: the SNS topic findings are published to (the security team's receiver). */
    findingsTopicArn?: string;
    /** managed: the least GuardDuty severity published (4 is Medium). */
    minimumSeverity: number;
    /** The agent's PriorityClass (the add-on's configuration schema). */
    agentPriorityClass: string;
}

/** GuardDuty for a cluster's account and region, and its runtime agent on every node. */
export interface ThreatDetectionArgs extends ThreatDetectionSettings {
    /** The EKS cluster the agent runs in. */
    clusterName: pulumi.Input<string>;
    /** The cluster's Kubernetes version: the agent is installed at the build pinned for its minor (ADDON_VERSION_PINS). */
    kubernetesVersion: string;
    /** The AWS region, for the guardduty-data endpoint's service name. */
    region: string;
    /** The account: the endpoint's policy admits only its principals. */
    accountId: pulumi.Input<string>;
    /** The VPC (the guardduty-data endpoint). */
    vpcId: pulumi.Input<string>;
    /** The private subnets (nodes): the endpoint's interfaces go there. */
    privateSubnetIds: pulumi.Input<string>[];
    /** The region's addresses, for the agent's NetworkPolicy and the endpoint's security group. */
    addressing: PlatformAddressing;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
}

/**
 * Threat detection for the region's nodes and cluster: GuardDuty with EKS audit log monitoring and
 * runtime monitoring (or, in central mode, a check at deploy that the security team's detector has
 * both), its security agent installed by the program as the EKS add-on `aws-guardduty-agent` on every
 * node, GPU pools included, and findings published to the security team's SNS topic.
 *
 * The agent is managed here, not by GuardDuty's automated agent configuration (off in managed mode;
 * the cluster carries the exclusion tag for a central one, components/cluster.ts): automation would
 * install it without tolerations, so it would run on none of the tainted pools, and its add-on's
 * configuration schema has no tolerations to set (policies/model/upstream/guardduty.ts). So the
 * program creates what automation would have: the guardduty-data VPC endpoint (with a security
 * group admitting HTTPS from the VPC, and a policy admitting only this account), the agent's
 * namespace with a NetworkPolicy in place before the agent starts (strict CNI), and the add-on; then
 * it patches tolerations onto the add-on's DaemonSet under a field manager of its own (EKS leaves
 * fields it does not manage alone).
 *
 * Findings go EventBridge to SNS, not through Alertmanager: a finding is an event without a
 * resolution, Alertmanager takes no input from AWS, and GuardDuty already aggregates repeats; the
 * topic is the security team's page receiver, which Alertmanager also pages for the agent's own alert.
 *
 * Options: the Kubernetes provider (`providers`), and in `dependsOn` what the agent waits for (the
 * system node group).
 */
/** The child resources a ThreatDetection hands to TypeScript callers. */
interface ThreatDetectionParts {
    agent: aws.eks.Addon;
}

/** GuardDuty for the region's account (or a check of the security team's detector), its findings routed, and its runtime agent on every node. */
export class ThreatDetection extends pulumi.ComponentResource {
    /** The detector's id: this stack's, or the security team's once checked. */
    public readonly detectorId: pulumi.Output<string>;

    /** The GuardDuty agent add-on. */
    public get agent(): aws.eks.Addon {
        return partsOf<ThreatDetectionParts>(this).agent;
    }

    constructor(name: string, args: ThreatDetectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ThreatDetection"), name, {}, componentOptions("ThreatDetection", opts));
        const awsOnly = { parent: this };
        const features: pulumi.Resource[] = [];
        if (args.mode === "managed") {
            // GuardDuty's findings history lives in the detector: deleting it is never a side effect.
            const detector = new aws.guardduty.Detector(`${name}-detector`, { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES", tags: args.tags }, { ...awsOnly, protect: true });
            features.push(
                new aws.guardduty.DetectorFeature(`${name}-eks-audit-logs`, { detectorId: detector.id, name: "EKS_AUDIT_LOGS", status: "ENABLED" }, awsOnly),
                new aws.guardduty.DetectorFeature(
                    `${name}-runtime-monitoring`,
                    {
                        detectorId: detector.id,
                        name: "RUNTIME_MONITORING",
                        status: "ENABLED",
                        // The region installs and configures the agent itself (tolerations, its endpoint).
                        additionalConfigurations: [
                            { name: "EKS_ADDON_MANAGEMENT", status: "DISABLED" },
                            { name: "ECS_FARGATE_AGENT_MANAGEMENT", status: "DISABLED" },
                            { name: "EC2_AGENT_MANAGEMENT", status: "DISABLED" },
                        ],
                    },
                    awsOnly,
                ),
            );
            this.detectorId = detector.id;
            if (args.findingsTopicArn) {
                const rule = new aws.cloudwatch.EventRule(
                    `${name}-findings`,
                    {
                        description: `GuardDuty findings of severity ${args.minimumSeverity} and above, to the security team`,
                        eventPattern: JSON.stringify({ source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"], detail: { severity: [{ numeric: [">=", args.minimumSeverity] }] } }),
                        tags: args.tags,
                    },
                    { ...awsOnly, dependsOn: [detector] },
                );
                // The topic's policy must let events.amazonaws.com publish (docs/reliability.md: "Threat detection").
                new aws.cloudwatch.EventTarget(`${name}-findings`, { rule: rule.name, arn: args.findingsTopicArn }, awsOnly);
            }
        } else {
            // The security team's detector must exist here with both features on; a real preview reads it.
            this.detectorId = aws.guardduty.getDetectorOutput({ id: args.detectorId }, { parent: this }).apply((d) => {
                const on = (feature: string) => d.features.some((f) => f.name === feature && f.status === "ENABLED") || (feature === "RUNTIME_MONITORING" && d.features.some((f) => f.name === "EKS_RUNTIME_MONITORING" && f.status === "ENABLED"));
                const missing = REQUIRED_GUARDDUTY_FEATURES.filter((f) => !on(f));
                if (d.status !== "ENABLED" || missing.length > 0) {
                    throw new Error(`ThreatDetection ${name}: GuardDuty detector ${d.id} (central) ${d.status !== "ENABLED" ? `is ${d.status}` : `has ${missing.join(" and ")} off`}: ask the security team to enable it, or set compute-region:threatDetection.mode to managed`);
                }
                return d.id;
            });
        }

        // The endpoint the agent delivers to: GuardDuty makes it only for agents it manages.
        const endpointGroup = new aws.ec2.SecurityGroup(
            `${name}-guardduty-data`,
            {
                vpcId: args.vpcId,
                description: "HTTPS from the VPC's nodes to the GuardDuty data endpoint",
                ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [args.addressing.vpcCidr], description: "GuardDuty agents" }],
                tags: { ...args.tags, Name: `${name}-guardduty-data` },
            },
            awsOnly,
        );
        const endpoint = new aws.ec2.VpcEndpoint(
            `${name}-guardduty-data`,
            {
                vpcId: args.vpcId,
                serviceName: GUARDDUTY_AGENT.dataEndpointService(args.region),
                vpcEndpointType: "Interface",
                privateDnsEnabled: true,
                subnetIds: args.privateSubnetIds,
                securityGroupIds: [endpointGroup.id],
                // The GuardDuty guide's policy: anything, but only by this account's principals.
                policy: pulumi.output(args.accountId).apply((account) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Action: "*", Resource: "*", Effect: "Allow", Principal: "*" },
                            { Condition: { StringNotEquals: { "aws:PrincipalAccount": account } }, Action: "*", Resource: "*", Effect: "Deny", Principal: "*" },
                        ],
                    }),
                ),
                tags: { ...args.tags, Name: `${name}-guardduty-data` },
            },
            awsOnly,
        );

        // The agent's namespace, made first so its NetworkPolicy is in place before its pods (strict CNI).
        const namespace = platformNamespace(`${name}-ns`, { name: GUARDDUTY_AGENT.namespace, kind: "platform", podSecurity: { enforce: "privileged", warn: "baseline" } }, { parent: this });
        const policies = podNetworkPolicies(`${name}-agent`, { facts: GUARDDUTY_AGENT_FACTS, chartNamespaces: {} }, args.addressing, { parent: this, dependsOn: [namespace] });
        partsOf<ThreatDetectionParts>(this).agent = new aws.eks.Addon(
            `${name}-agent`,
            {
                clusterName: args.clusterName,
                addonName: EKS_ADDONS.guardDutyAgent,
                addonVersion: pinnedAddonVersion(EKS_ADDONS.guardDutyAgent, args.kubernetesVersion, this),
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "PRESERVE",
                configurationValues: JSON.stringify({ priorityClassName: args.agentPriorityClass }),
                tags: { ...args.tags, "compute-region:threat-detection": args.mode },
            },
            { parent: this, dependsOn: [...dependsOnOf(opts), ...policies, endpoint, ...features] },
        );
        // Tolerations the add-on's schema cannot set: a server-side apply patch of the fields EKS does not manage.
        new k8s.apps.v1.DaemonSetPatch(
            `${name}-agent-tolerations`,
            {
                metadata: { name: GUARDDUTY_AGENT.daemonSet, namespace: GUARDDUTY_AGENT.namespace, annotations: { "compute-region.io/why": "aws-guardduty-agent's configuration schema has no tolerations (aws/containers-roadmap#2520)" } },
                spec: { template: { spec: { tolerations: GUARDDUTY_AGENT_TOLERATIONS } } },
            },
            { parent: this, dependsOn: [this.agent] },
        );

        this.registerOutputs({ detectorId: this.detectorId });
    }
}
