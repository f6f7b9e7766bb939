import { API_SERVER_PATH, awsApiPaths } from "./paths";
import type { AddonFacts, Source } from "./types";

/**
 * GuardDuty Runtime Monitoring's security agent, the EKS add-on `aws-guardduty-agent`, as AWS
 * documents it (the agent is not open source: these are documentation pages, kept as stored).
 *
 * - The add-on runs one agent per node, a DaemonSet `aws-guardduty-agent` in the namespace
 *   `amazon-guardduty`, and delivers runtime events to GuardDuty through the VPC endpoint
 *   `com.amazonaws.<region>.guardduty-data`. GuardDuty creates that endpoint itself only when it manages
 *   the agent (automated agent configuration); a cluster whose agent is managed by hand must have it
 *   created first ("Managing security agent manually for Amazon EKS cluster", prerequisite).
 * - Its configuration schema (add-on v1.5.0 and later) takes CPU and memory requests and limits, a
 *   PriorityClass and a dnsPolicy, and nothing else: no tolerations, so the agent runs on no node with a
 *   taint it does not tolerate (aws/containers-roadmap#2520, open; #2861). The region adds the
 *   tolerations to the DaemonSet with a server-side apply patch of its own field manager: EKS manages an
 *   add-on's objects by server-side apply and leaves fields it does not manage to their owner ("Determine
 *   fields you can customize for Amazon EKS add-ons").
 * - Whether the agent's pods use the host network is not published. The region treats them as pods on
 *   the pod network: their namespace gets a NetworkPolicy (selecting every pod of it, as their labels are
 *   not published either) admitting exactly the paths below; for host-network pods it is inert.
 */

const GUARDDUTY_DOCS = (page: string, note: string): Source => ({ url: `https://docs.aws.amazon.com/guardduty/latest/ug/${page}`, note });

export const GUARDDUTY_AGENT_SOURCES = {
    howItWorks: GUARDDUTY_DOCS("how-runtime-monitoring-works-eks.html", "the add-on aws-guardduty-agent; the agent delivers runtime events through a VPC endpoint GuardDuty creates under automated agent configuration"),
    manual: GUARDDUTY_DOCS("managing-gdu-agent-eks-manually.html", "managing the agent manually needs the VPC endpoint created first"),
    configuration: GUARDDUTY_DOCS("guardduty-configure-security-agent-eks-addon.html", "configurable parameters (v1.5.0 and later): CPU and memory requests and limits, PriorityClass, dnsPolicy"),
    exclusion: GUARDDUTY_DOCS("managing-gdu-agent-eks-automatically.html", "the cluster tag GuardDutyManaged=false keeps automated agent configuration off a cluster"),
    tolerations: { url: "https://github.com/aws/containers-roadmap/issues/2520", note: "Add Default Toleration For Guardduty Addon: open; the configuration schema has no tolerations (also #2861)" } as Source,
    fieldManagement: { url: "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-field-management.html", note: "EKS manages a minimum set of fields by server-side apply; fields it does not manage may be changed without conflict" } as Source,
} as const;

/** What the region needs to know of the agent. */
export const GUARDDUTY_AGENT = {
    addon: "aws-guardduty-agent",
    namespace: "amazon-guardduty",
    daemonSet: "aws-guardduty-agent",
    /** The VPC endpoint service the agent delivers to, in a region. */
    dataEndpointService: (region: string) => `com.amazonaws.${region}.guardduty-data`,
    /** The cluster tag that keeps GuardDuty's automated agent configuration off a cluster managed by hand. */
    exclusionTag: { key: "GuardDutyManaged", value: "false" },
    /**
     * The add-on's configuration schema as documented: what `configurationValues` may hold. Requests
     * may not go below the defaults (200m, 256Mi).
     */
    configuration: {
        keys: ["resources", "priorityClassName", "dnsPolicy"],
        priorityClassNames: ["aws-guardduty-agent.priorityclass", "aws-guardduty-agent.priorityclass-high", "system-cluster-critical", "system-node-critical"],
        dnsPolicies: ["ClusterFirst", "ClusterFirstWithHostNet", "Default"],
        requests: { cpuMilli: { min: 200, max: 10_000 }, memoryMi: { min: 256, max: 20_000 } },
        /** The oldest build that reads this schema; the build installed is pinned in ADDON_VERSION_PINS (addon-versions.ts), at or above it. */
        minimumAddonVersion: "v1.5.0",
    },
    source: GUARDDUTY_AGENT_SOURCES.configuration,
} as const;

/** The add-on as the deploy rehearsal and the platform NetworkPolicies read add-ons. */
export const GUARDDUTY_AGENT_FACTS: AddonFacts = {
    addon: GUARDDUTY_AGENT.addon,
    namespace: GUARDDUTY_AGENT.namespace,
    createsNamespace: true,
    source: GUARDDUTY_AGENT_SOURCES.howItWorks,
    crds: [],
    webhooks: [],
    pods: [
        {
            id: "agent",
            workload: `DaemonSet/${GUARDDUTY_AGENT.daemonSet}`,
            // Not published: the namespace holds only the agent, so its policy selects every pod there.
            labels: {},
            hostNetwork: false,
            // No toleration in the add-on's schema: the region patches them in (components/threat-detection.ts).
            placement: { defaults: { tolerations: [] } },
            requests: { cpu: "200m", memory: "256Mi" },
            replicas: "perNode",
            serves: [],
            calls: [
                ...awsApiPaths("delivers runtime events to GuardDuty through the guardduty-data VPC endpoint in the private subnets"),
                { ...API_SERVER_PATH, why: "reads the pods and namespaces its findings name (assumed: not published; harmless if the agent uses the node's runtime instead)" },
            ],
            source: GUARDDUTY_AGENT_SOURCES.configuration,
        },
    ],
};

/** What is wrong with an add-on configuration against the documented schema; empty when it conforms. */
export function guardDutyConfigurationProblems(configurationValues: unknown): string[] {
    if (configurationValues === undefined) return [];
    let parsed: unknown;
    try {
        parsed = typeof configurationValues === "string" ? JSON.parse(configurationValues) : configurationValues;
    } catch {
        return ["configurationValues is not JSON"];
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return ["configurationValues must be a JSON object"];
    const schema = GUARDDUTY_AGENT.configuration;
    const problems: string[] = [];
    const value = parsed as Record<string, any>;
    for (const key of Object.keys(value)) if (!(schema.keys as readonly string[]).includes(key)) problems.push(`${key} is not in the add-on's configuration schema (${schema.keys.join(", ")}): tolerations, in particular, cannot be set there`);
    if (value.priorityClassName !== undefined && !(schema.priorityClassNames as readonly string[]).includes(value.priorityClassName)) problems.push(`priorityClassName must be one of ${schema.priorityClassNames.join(", ")}`);
    if (value.dnsPolicy !== undefined && !(schema.dnsPolicies as readonly string[]).includes(value.dnsPolicy)) problems.push(`dnsPolicy must be one of ${schema.dnsPolicies.join(", ")}`);
    return problems;
}
