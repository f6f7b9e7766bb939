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

/** Kubernetes types the capacity and isolation policies read. */
export const K8S_TYPES = {
    namespace: "kubernetes:core/v1:Namespace",
    priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    resourceFlavor: "kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor",
    clusterQueue: "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue",
    localQueue: "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue",
    cohort: "kubernetes:kueue.x-k8s.io/v1alpha1:Cohort",
    stackReference: "pulumi:pulumi:StackReference",
} as const;

export const MONITORING_TYPES = {
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    configMap: "kubernetes:core/v1:ConfigMap",
} as const;

export const DATA_TYPES = {
    rdsInstance: "aws:rds/instance:Instance",
    rdsParameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    ecrRepository: "aws:ecr/repository:Repository",
} as const;
