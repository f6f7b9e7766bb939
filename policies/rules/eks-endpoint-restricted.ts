import { forType, resourcePolicy } from "../engine/policy";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const base = { name: "prod", roleArn: "arn:aws:iam::111122223333:role/eks" };

export const eksEndpointRestricted = resourcePolicy({
    name: "eks-endpoint-restricted",
    description: "The EKS API endpoint is private, or public only to an allow-list that excludes 0.0.0.0/0.",
    rationale:
        "A control-plane endpoint reachable from the whole internet is one stolen credential or one API server CVE away " +
        "from every tenant. EKS opens the public endpoint to 0.0.0.0/0 unless told otherwise.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set compute-region:cluster.endpoint.publicAccess to false (deploy from inside the VPC), or list the administrating " +
        "networks in compute-region:cluster.endpoint.publicAccessCidrs. Never 0.0.0.0/0.",
    controls: [
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "5.4.2", title: "Ensure clusters are created with Private Endpoint Enabled and Public Access Disabled" },
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "5.4.1", title: "Restrict Access to the Control Plane Endpoint" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateResource: forType(TYPES.eksCluster, (cluster, _args, report) => {
        const vpc = cluster.vpcConfig ?? {};
        // EKS defaults: public access on, private access off, public CIDRs 0.0.0.0/0.
        const publicAccess = vpc.endpointPublicAccess ?? true;
        if (vpc.endpointPrivateAccess !== true) report(`Cluster ${cluster.name ?? ""} does not enable the private endpoint (vpcConfig.endpointPrivateAccess).`);
        if (!publicAccess) return;
        const cidrs: string[] = vpc.publicAccessCidrs ?? [];
        if (cidrs.length === 0) report(`Cluster ${cluster.name ?? ""} has a public endpoint with no publicAccessCidrs, which EKS opens to 0.0.0.0/0.`);
        const open = cidrs.filter((c) => c === "0.0.0.0/0" || c === "::/0");
        if (open.length > 0) report(`Cluster ${cluster.name ?? ""} has a public endpoint open to ${open.join(", ")}.`);
    }),
    samples: {
        allowed: [
            { description: "Private endpoint only.", resources: [sample(TYPES.eksCluster, "cluster", { ...base, vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false } })] },
            {
                description: "Public endpoint restricted to an administration network.",
                resources: [sample(TYPES.eksCluster, "cluster", { ...base, vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] } })],
            },
        ],
        disallowed: [
            {
                description: "Public endpoint open to the internet.",
                expect: "open to 0.0.0.0/0",
                resources: [sample(TYPES.eksCluster, "cluster", { ...base, vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } })],
            },
            {
                description: "A restricted public endpoint, but no private one: nodes and pods reach the API over the internet.",
                expect: "Cluster prod does not enable the private endpoint (vpcConfig.endpointPrivateAccess)",
                resources: [sample(TYPES.eksCluster, "cluster", { ...base, vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] } })],
            },
            { description: "EKS defaults: public to everyone, no private endpoint.", expect: "which EKS opens to 0.0.0.0/0", resources: [sample(TYPES.eksCluster, "cluster", { ...base, vpcConfig: {} })] },
        ],
    },
});
