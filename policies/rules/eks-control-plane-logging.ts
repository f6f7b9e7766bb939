import { configWithDefaults, forType, resourcePolicy } from "../engine/policy";
import { CONTROL_PLANE_LOG_TYPES } from "../model/domain/conventions";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const ALL_LOG_TYPES: string[] = [...CONTROL_PLANE_LOG_TYPES];
const base = { name: "prod", roleArn: "arn:aws:iam::111122223333:role/eks" };

export const eksControlPlaneLogging = resourcePolicy({
    name: "eks-control-plane-logging",
    description: "EKS clusters send the required control-plane log types (by default all five) to CloudWatch Logs.",
    rationale:
        "The audit and authenticator logs are the only record of who did what to the cluster, which an incident " +
        "investigation or a tenant dispute needs; they are off unless enabled.",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps: `Set enabledClusterLogTypes on the aws.eks.Cluster to include ${ALL_LOG_TYPES.join(", ")}.`,
    controls: [
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "2.1.1", title: "Enable audit Logs" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-12", title: "Audit Record Generation" },
        { framework: "SOC 2 (2017 TSC)", control: "CC7.2", title: "Monitoring of system components for anomalies" },
    ],
    configSchema: {
        properties: {
            requiredLogTypes: { type: "array", items: { type: "string", enum: ALL_LOG_TYPES }, default: ALL_LOG_TYPES },
        },
    },
    validateResource: forType(TYPES.eksCluster, (cluster, args, report) => {
        const { requiredLogTypes } = configWithDefaults({ requiredLogTypes: ALL_LOG_TYPES }, args);
        const enabled: string[] = cluster.enabledClusterLogTypes ?? [];
        const missing = requiredLogTypes.filter((t) => !enabled.includes(t));
        if (missing.length > 0) report(`Cluster ${cluster.name ?? ""} does not log ${missing.join(", ")}.`);
    }),
    samples: {
        allowed: [
            { description: "All five log types.", resources: [sample(TYPES.eksCluster, "cluster", { ...base, enabledClusterLogTypes: ALL_LOG_TYPES })] },
            {
                description: "A stack that requires only audit and authenticator logs (policy config).",
                config: { requiredLogTypes: ["audit", "authenticator"] },
                resources: [sample(TYPES.eksCluster, "cluster", { ...base, enabledClusterLogTypes: ["audit", "authenticator"] })],
            },
        ],
        disallowed: [
            { description: "No control-plane logging.", expect: "does not log api, audit, authenticator, controllerManager, scheduler", resources: [sample(TYPES.eksCluster, "cluster", base)] },
            { description: "Audit logs missing.", expect: "does not log audit", resources: [sample(TYPES.eksCluster, "cluster", { ...base, enabledClusterLogTypes: ["api", "authenticator", "controllerManager", "scheduler"] })] },
        ],
    },
});
