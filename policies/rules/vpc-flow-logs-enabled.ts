import { resourcesOfType, stackPolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const vpc = sample(TYPES.vpc, "vpc", { cidrBlock: "10.0.0.0/16" });

export const vpcFlowLogsEnabled = stackPolicy({
    name: "vpc-flow-logs-enabled",
    description: "Every VPC has a flow log that records all traffic (accepted and rejected).",
    rationale:
        "Flow logs are the evidence that tenants did not reach each other or the internal network, and the first " +
        "source when investigating exfiltration. A flow log of rejected traffic only misses what got through.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: 'Create an aws.ec2.FlowLog for the VPC with trafficType "ALL" (the Network component does, to an encrypted log group).',
    controls: [
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "3.7", title: "Ensure VPC flow logging is enabled in all VPCs" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-12", title: "Audit Record Generation" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4", title: "System Monitoring" },
        { framework: "SOC 2 (2017 TSC)", control: "CC7.2", title: "Monitoring of system components for anomalies" },
    ],
    validateStack: (args, report) => {
        const flowLogs = resourcesOfType(args, TYPES.flowLog);
        for (const v of resourcesOfType(args, TYPES.vpc)) {
            // The flow log's vpcId is unknown until the VPC exists; its dependency on the VPC is known.
            const logs = flowLogs.filter((f) => f.dependencies.includes(v));
            if (logs.length === 0) report(`VPC ${v.name} has no flow log.`, v.urn);
            else if (!logs.some((f) => f.props.trafficType === "ALL")) {
                report(`VPC ${v.name} has flow logs only of ${logs.map((f) => f.props.trafficType).join(", ")} traffic; one must record ALL.`, v.urn);
            }
        }
    },
    samples: {
        allowed: [{ description: "A VPC with a flow log of all traffic.", resources: [vpc, sample(TYPES.flowLog, "flow", { trafficType: "ALL", logDestinationType: "cloud-watch-logs" }, { dependsOn: ["vpc"] })] }],
        disallowed: [
            { description: "A VPC with no flow log.", expect: "VPC vpc has no flow log", resources: [vpc] },
            { description: "Only rejected traffic is logged.", expect: "only of REJECT traffic", resources: [vpc, sample(TYPES.flowLog, "flow", { trafficType: "REJECT" }, { dependsOn: ["vpc"] })] },
        ],
    },
});
