/**
 * Pulumi type tokens the policies, the plan and the components look at: the one place each is
 * written. Policies match on these strings rather than importing provider SDK classes, so the pack
 * loads fast and stays small.
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
    secretsManagerSecret: "aws:secretsmanager/secret:Secret",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    k8sProvider: "pulumi:providers:kubernetes",
    stackReference: "pulumi:pulumi:StackReference",
    /** A node group's min and max, owned apart from it so the autoscaler keeps its desired size (components/node-group-scaling.ts). */
    nodeGroupScaling: "pulumi-nodejs:dynamic/compute-region:NodeGroupScaling",
    iamRole: "aws:iam/role:Role",
    iamPolicy: "aws:iam/policy:Policy",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    vpcEndpointService: "aws:ec2/vpcEndpointService:VpcEndpointService",
    vpcEndpointServiceAllowedPrinciple: "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple",
} as const;

/** Threat detection: GuardDuty, and where its findings go. */
export const SECURITY_TYPES = {
    guardDutyDetector: "aws:guardduty/detector:Detector",
    guardDutyFeature: "aws:guardduty/detectorFeature:DetectorFeature",
    eventRule: "aws:cloudwatch/eventRule:EventRule",
    eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
    /** A server-side apply patch of a DaemonSet another manager (an EKS add-on) owns. */
    daemonSetPatch: "kubernetes:apps/v1:DaemonSetPatch",
} as const;

/** Kubernetes types the capacity, isolation, serving and RBAC policies read. */
export const K8S_TYPES = {
    namespace: "kubernetes:core/v1:Namespace",
    service: "kubernetes:core/v1:Service",
    secret: "kubernetes:core/v1:Secret",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    validatingAdmissionPolicy: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    validatingAdmissionPolicyBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    resourceFlavor: "kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor",
    clusterQueue: "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue",
    localQueue: "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue",
    cohort: "kubernetes:kueue.x-k8s.io/v1beta1:Cohort",
    topology: "kubernetes:kueue.x-k8s.io/v1beta1:Topology",
    persistentVolume: "kubernetes:core/v1:PersistentVolume",
    persistentVolumeClaim: "kubernetes:core/v1:PersistentVolumeClaim",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
} as const;

export const MONITORING_TYPES = {
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    configMap: "kubernetes:core/v1:ConfigMap",
} as const;

export const DATA_TYPES = {
    rdsInstance: "aws:rds/instance:Instance",
    rdsParameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    rdsSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    ecrRepository: "aws:ecr/repository:Repository",
    lustreFileSystem: "aws:fsx/lustreFileSystem:LustreFileSystem",
    dataRepositoryAssociation: "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation",
} as const;

/** The hosted-model gateway's objects (Envoy Gateway, the AI Gateway, Gateway API). */
export const GATEWAY_TYPES = {
    aiRoute: "kubernetes:aigateway.envoyproxy.io/v1alpha1:AIGatewayRoute",
    aiServiceBackend: "kubernetes:aigateway.envoyproxy.io/v1alpha1:AIServiceBackend",
    backend: "kubernetes:gateway.envoyproxy.io/v1alpha1:Backend",
    securityPolicy: "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy",
    backendTrafficPolicy: "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
    clientTrafficPolicy: "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy",
    envoyProxy: "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    gatewayClass: "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    secret: K8S_TYPES.secret,
} as const;
