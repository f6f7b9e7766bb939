/**
 * Pulumi type tokens the policies and the plan look at. Policies match on these strings rather than
 * importing provider SDK classes, so the pack loads fast and stays small.
 */
export const TYPES = {
    eksCluster: "aws:eks/cluster:Cluster",
    eksAddon: "aws:eks/addon:Addon",
    eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
    eksAccessEntry: "aws:eks/accessEntry:AccessEntry",
    eksAccessPolicyAssociation: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    eksPodIdentityAssociation: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    kmsKey: "aws:kms/key:Key",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    flowLog: "aws:ec2/flowLog:FlowLog",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    sgIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    k8sProvider: "pulumi:providers:kubernetes",
} as const;
