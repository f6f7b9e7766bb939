import type { ConditionalReplacement, ReplacementRule, RuleSource } from "./types";

/**
 * The AWS resources the program uses: what forces their replacement, read from the Terraform AWS
 * provider that @pulumi/aws bridges (ForceNew attributes, CustomizeDiff and DiffSuppress
 * functions), with Pulumi's property names checked against the @pulumi/aws 7.48.0 typings.
 *
 * Version: read at terraform-provider-aws v6.58.0 through lonegunmanb/terraform-provider-aws-index
 * (the upstream source split one file a symbol). @pulumi/aws 7.48.0 bridges a newer upstream
 * (at least v6.63: its typings have arguments added after that release); pulumi-aws's upstream
 * pin, its patches and its resources.go (AutoName fields, delete-before-replace overrides) could
 * not be read. Properties the 7.48.0 typings have and v6.58.0 lacks are listed as `unverified`.
 */

export const AWS_CAVEAT =
    "read at terraform-provider-aws v6.58.0; @pulumi/aws 7.48.0 bridges v6.63 or later, whose upstream pin, patches and resources.go overrides were not read";

/** A resource function of terraform-provider-aws v6.58.0, read through the per-symbol index of that tag. */
function terraformAws(symbol: string, indexFile: string): RuleSource[] {
    return [
        {
            repo: "hashicorp/terraform-provider-aws",
            ref: "v6.58.0",
            file: symbol,
            readVia: { repo: "lonegunmanb/terraform-provider-aws-index", ref: "v6.58.0", commit: "2f6e22c42759323d69500964ed1d284e5f4dea97", file: indexFile },
        },
    ];
}

/** A resource function read through the same index at the commit it is stored at there (not the v6.58.0 tag's). */
function terraformAwsAt(symbol: string, indexFile: string, commit = "0c75c3cdc5175a7c36797122e2b6db4e13c132f3"): RuleSource[] {
    return [{ repo: "hashicorp/terraform-provider-aws", ref: "v6.58.0 or later (the index's commit)", file: symbol, readVia: { repo: "lonegunmanb/terraform-provider-aws-index", ref: "stored", commit, file: indexFile } }];
}

/**
 * Every regional resource has an injected `region` argument; changing it replaces the resource,
 * except between unset and the provider's own region (forceNewIfRegionChanges, an interceptor the
 * schema does not show). IAM resources are global and have none.
 */
const REGION: ConditionalReplacement = {
    kind: "unlessProviderDefault",
    path: "region",
    providerInput: "region",
    why: "internal/provider/sdkv2 forceNewIfRegionChanges (terraform-provider-aws v6.58.0)",
};

const rules: Omit<ReplacementRule, "caveat">[] = [
    {
        type: "aws:cloudwatch/logGroup:LogGroup",
        forceNew: ["logGroupClass", "name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/logs.resourceGroup", "index/internal/service/logs/func.resourceGroup.goindex"),
    },
    {
        type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        forceNew: ["vpcId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceDefaultSecurityGroup", "index/internal/service/ec2/func.resourceDefaultSecurityGroup.goindex"),
        note: "Pulumi/TF adopt the VPC's default SG; only vpcId forces replacement. ingress/egress (securityGroupRuleSetNestedBlock) have no ForceNew.",
    },
    {
        type: "aws:ec2/eip:Eip",
        forceNew: ["address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceEIP", "index/internal/service/ec2/func.resourceEIP.goindex"),
    },
    {
        type: "aws:ec2/flowLog:FlowLog",
        forceNew: ["deliverCrossAccountRole", "destinationOptions", "eniId", "iamRoleArn", "logDestination", "logDestinationType", "logFormat", "maxAggregationInterval", "regionalNatGatewayId", "subnetId", "tagFieldSpecifications[*]", "trafficType", "transitGatewayAttachmentId", "transitGatewayId", "vpcId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceFlowLog", "index/internal/service/ec2/func.resourceFlowLog.goindex"),
    },
    {
        type: "aws:ec2/internetGateway:InternetGateway",
        forceNew: [],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceInternetGateway", "index/internal/service/ec2/func.resourceInternetGateway.goindex"),
        note: "No ForceNew attribute (vpc_id is updatable: attach/detach).",
    },
    {
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        forceNew: ["name", "namePrefix"],
        conditional: [REGION],
        recomputedOnUpdate: ["latestVersion", "defaultVersion"],
        source: terraformAws("internal/service/ec2.resourceLaunchTemplate", "index/internal/service/ec2/func.resourceLaunchTemplate.goindex"),
        note: "Everything except name/namePrefix updates in place (a new template version); default_version/latest_version become computed on changes.",
    },
    {
        type: "aws:ec2/natGateway:NatGateway",
        forceNew: ["allocationId", "availabilityMode", "connectivityType", "privateIp", "subnetId", "vpcId"],
        conditional: [REGION, { kind: "whenNew", path: "secondaryPrivateIpAddressCount", other: "connectivityType", equals: "private", why: "resourceNATGatewayCustomizeDiff forces new on a private NAT gateway's secondary address count" }],
        source: terraformAws("internal/service/ec2.resourceNATGateway", "index/internal/service/ec2/func.resourceNATGateway.goindex"),
    },
    {
        type: "aws:ec2/routeTable:RouteTable",
        forceNew: ["vpcId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceRouteTable", "index/internal/service/ec2/func.resourceRouteTable.goindex"),
    },
    {
        type: "aws:ec2/routeTableAssociation:RouteTableAssociation",
        forceNew: ["gatewayId", "subnetId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceRouteTableAssociation", "index/internal/service/ec2/func.resourceRouteTableAssociation.goindex"),
    },
    {
        type: "aws:ec2/securityGroup:SecurityGroup",
        forceNew: ["description", "name", "namePrefix", "vpcId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceSecurityGroup", "index/internal/service/ec2/func.resourceSecurityGroup.goindex"),
        note: "description is ForceNew and @pulumi/aws 7.48.0 JS SDK fills description = \"Managed by Pulumi\" when unset (ec2/securityGroup.js line 276), so the planned input is never empty. ingress/egress rules are in place.",
    },
    {
        type: "aws:ec2/subnet:Subnet",
        forceNew: ["availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId", "ipv6Native", "ipv6NetmaskLength", "outpostArn", "vpcId"],
        conditional: [REGION, { kind: "whenOld", path: "ipv6CidrBlock", other: "assignIpv6AddressOnCreation", equals: true, why: "resourceSubnet CustomizeDiff forces new on an IPv6 CIDR change when the subnet assigns IPv6 addresses on creation" }],
        source: terraformAws("internal/service/ec2.resourceSubnet", "index/internal/service/ec2/func.resourceSubnet.goindex"),
    },
    {
        type: "aws:ec2/vpc:Vpc",
        forceNew: ["ipv4IpamPoolId", "ipv4NetmaskLength"],
        conditional: [
            REGION,
            { kind: "exceptTransition", path: "instanceTenancy", from: "dedicated", to: "default", why: "resourceVPCCustomizeDiff forces new on any tenancy change but dedicated to default" },
            { kind: "unlessSet", path: "cidrBlock", unlessSet: "ipv4NetmaskLength", why: "resourceVPCCustomizeDiff: an IPAM-derived CIDR (ipv4_netmask_length set) clears the diff, otherwise forces new" },
        ],
        source: terraformAws("internal/service/ec2.resourceVPC", "index/internal/service/ec2/func.resourceVPC.goindex"),
    },
    {
        type: "aws:ec2/vpcEndpoint:VpcEndpoint",
        forceNew: ["dnsOptions.privateDnsPreference", "dnsOptions.privateDnsSpecifiedDomains", "resourceConfigurationArn", "serviceName", "serviceNetworkArn", "serviceRegion", "vpcEndpointType", "vpcId"],
        conditional: [REGION, { kind: "whenNew", path: "privateDnsEnabled", other: "vpcEndpointType", equals: "Interface", not: true, why: "resourceVPCEndpoint CustomizeDiff forces new on a private DNS change of an endpoint that is not an Interface endpoint" }],
        source: terraformAws("internal/service/ec2.resourceVPCEndpoint", "index/internal/service/ec2/func.resourceVPCEndpoint.goindex"),
    },
    {
        type: "aws:ec2/placementGroup:PlacementGroup",
        forceNew: ["name", "partitionCount", "spreadLevel", "strategy"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourcePlacementGroup", "index/internal/service/ec2/func.resourcePlacementGroup.goindex"),
    },
    {
        type: "aws:ecr/repository:Repository",
        forceNew: ["encryptionConfigurations[*]", "name"],
        conditional: [REGION],
        source: terraformAws("internal/service/ecr.resourceRepository", "index/internal/service/ecr/func.resourceRepository.goindex"),
    },
    {
        type: "aws:eks/accessEntry:AccessEntry",
        forceNew: ["clusterName", "principalArn", "type"],
        conditional: [REGION],
        source: terraformAws("internal/service/eks.resourceAccessEntry", "index/internal/service/eks/func.resourceAccessEntry.goindex"),
    },
    {
        type: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        forceNew: ["accessScope", "clusterName", "policyArn", "principalArn"],
        conditional: [REGION],
        source: terraformAws("internal/service/eks.resourceAccessPolicyAssociation", "index/internal/service/eks/func.resourceAccessPolicyAssociation.goindex"),
    },
    {
        type: "aws:eks/addon:Addon",
        forceNew: ["addonName", "clusterName", "namespaceConfig"],
        conditional: [REGION],
        source: terraformAws("internal/service/eks.resourceAddon", "index/internal/service/eks/func.resourceAddon.goindex"),
    },
    {
        type: "aws:eks/cluster:Cluster",
        forceNew: ["accessConfig.bootstrapClusterCreatorAdminPermissions", "bootstrapSelfManagedAddons", "kubernetesNetworkConfig.ipFamily", "kubernetesNetworkConfig.serviceIpv4Cidr", "name", "outpostConfig.controlPlaneInstanceType", "outpostConfig.controlPlanePlacement.groupName", "outpostConfig.controlPlanePlacement.spreadLevel", "outpostConfig.etcdInstanceType", "outpostConfig.etcdPlacement.spreadLevel", "roleArn"],
        conditional: [
            REGION,
            { kind: "whenRemoved", path: "encryptionConfig", why: "resourceCluster CustomizeDiff forces new when the encryption config is removed; adding one is AssociateEncryptionConfig in place" },
            { kind: "whenTransition", path: "vpcConfig.controlPlaneEgressMode", from: "CUSTOMER_ROUTED", to: "AWS_MANAGED", why: "resourceCluster CustomizeDiff forces new on CUSTOMER_ROUTED to AWS_MANAGED only" },
            { kind: "whenChangedFromSet", path: "computeConfig.nodeRoleArn", why: "validateAutoModeComputeConfigCustomizeDiff forces new when a set node role ARN changes to another" },
        ],
        source: terraformAws("internal/service/eks.resourceCluster", "index/internal/service/eks/func.resourceCluster.goindex"),
        unverified: ["defaultAddonsToRemoves", "kubeApiServerConfig", "kubeControllerManagerConfig", "kubeSchedulerConfig"],
    },
    {
        type: "aws:eks/nodeGroup:NodeGroup",
        forceNew: ["amiType", "capacityType", "clusterName", "diskSize", "instanceTypes", "launchTemplate.id", "launchTemplate.name", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "remoteAccess", "subnetIds"],
        conditional: [REGION],
        source: terraformAws("internal/service/eks.resourceNodeGroup", "index/internal/service/eks/func.resourceNodeGroup.goindex"),
        note: "launchTemplate.version, version, releaseVersion, scalingConfig, labels, taints, updateConfig, nodeRepairConfig, warmPoolConfig are in place; instanceTypes, launchTemplate.id/name, subnetIds, amiType, capacityType, diskSize, remoteAccess force replacement.",
    },
    {
        type: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        forceNew: ["clusterName", "namespace", "serviceAccount"],
        conditional: [REGION],
        source: terraformAws("internal/service/eks.podIdentityAssociationResource.Schema", "index/internal/service/eks/method.podIdentityAssociationResource.Schema.goindex"),
        note: "Plugin Framework resource; RequiresReplace() on cluster_name, namespace, service_account; role_arn, target_role_arn, policy, disable_session_tags update in place.",
    },
    {
        type: "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation",
        forceNew: ["dataRepositoryPath", "fileSystemId", "fileSystemPath"],
        conditional: [REGION],
        source: terraformAws("internal/service/fsx.resourceDataRepositoryAssociation", "index/internal/service/fsx/func.resourceDataRepositoryAssociation.goindex"),
    },
    {
        type: "aws:fsx/lustreFileSystem:LustreFileSystem",
        forceNew: ["backupId", "copyTagsToBackups", "deploymentType", "driveCacheType", "efaEnabled", "exportPath", "importPath", "importedFileChunkSize", "kmsKeyId", "securityGroupIds", "storageType", "subnetIds"],
        conditional: [REGION],
        source: terraformAws("internal/service/fsx.resourceLustreFileSystem", "index/internal/service/fsx/func.resourceLustreFileSystem.goindex"),
        note: "Its CustomizeDiff also replaces on a storageCapacity decrease, a metadataConfiguration.iops decrease (USER_PROVISIONED), a dataReadCacheConfiguration change and a fileSystemTypeVersion downgrade: kinds of condition this table does not hold, so the diff shows those as updates.",
    },
    {
        type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        forceNew: ["url"],
        source: terraformAws("internal/service/iam.resourceOpenIDConnectProvider", "index/internal/service/iam/func.resourceOpenIDConnectProvider.goindex"),
    },
    {
        type: "aws:iam/policy:Policy",
        forceNew: ["description", "name", "namePrefix", "path"],
        source: terraformAws("internal/service/iam.resourcePolicy", "index/internal/service/iam/func.resourcePolicy.goindex"),
    },
    {
        type: "aws:iam/role:Role",
        forceNew: ["name", "namePrefix", "path"],
        source: terraformAws("internal/service/iam.resourceRole", "index/internal/service/iam/func.resourceRole.goindex"),
    },
    {
        type: "aws:iam/rolePolicy:RolePolicy",
        forceNew: ["name", "namePrefix", "role"],
        source: terraformAws("internal/service/iam.resourceRolePolicy", "index/internal/service/iam/func.resourceRolePolicy.goindex"),
    },
    {
        type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        forceNew: ["policyArn", "role"],
        source: terraformAws("internal/service/iam.resourceRolePolicyAttachment", "index/internal/service/iam/func.resourceRolePolicyAttachment.goindex"),
    },
    {
        type: "aws:kms/alias:Alias",
        forceNew: ["name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/kms.resourceAlias", "index/internal/service/kms/func.resourceAlias.goindex"),
    },
    {
        type: "aws:kms/key:Key",
        forceNew: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
        conditional: [REGION],
        source: terraformAws("internal/service/kms.resourceKey", "index/internal/service/kms/func.resourceKey.goindex"),
    },
    {
        type: "aws:rds/instance:Instance",
        forceNew: ["availabilityZone", "backupTarget", "characterSetName", "customIamInstanceProfile", "dbName", "engine", "kmsKeyId", "ncharCharacterSetName", "restoreToPointInTime", "s3Import.bucketName", "s3Import.bucketPrefix", "s3Import.ingestionRole", "s3Import.sourceEngine", "s3Import.sourceEngineVersion", "snapshotIdentifier", "storageEncrypted", "timezone", "username"],
        conditional: [REGION],
        suppressed: [{ kind: "decreaseBelowAutoscalingLimit", path: "allocatedStorage", limit: "maxAllocatedStorage", why: "resourceInstance's DiffSuppressFunc hides a decrease while max_allocated_storage is above the new value (storage autoscaling grew it); RDS cannot shrink storage either way" }],
        source: terraformAws("internal/service/rds.resourceInstance", "index/internal/service/rds/func.resourceInstance.goindex"),
        note: "identifier is NOT ForceNew (rename via ModifyDBInstance NewDBInstanceIdentifier); engine_version and allocated_storage are in place.",
        unverified: ["warningEventCategories"],
    },
    {
        type: "aws:rds/parameterGroup:ParameterGroup",
        forceNew: ["description", "family", "name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/rds.resourceParameterGroup", "index/internal/service/rds/func.resourceParameterGroup.goindex"),
        note: "description ForceNew; JS SDK default \"Managed by Pulumi\" (rds/parameterGroup.js line 207).",
    },
    {
        type: "aws:rds/subnetGroup:SubnetGroup",
        forceNew: ["name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/rds.resourceSubnetGroup", "index/internal/service/rds/func.resourceSubnetGroup.goindex"),
        note: "description is NOT ForceNew; JS SDK default \"Managed by Pulumi\" (rds/subnetGroup.js line 117).",
    },
    {
        type: "aws:secretsmanager/secret:Secret",
        forceNew: ["name", "namePrefix", "type"],
        conditional: [REGION],
        source: terraformAws("internal/service/secretsmanager.resourceSecret", "index/internal/service/secretsmanager/func.resourceSecret.goindex"),
    },
    {
        type: "aws:secretsmanager/secretVersion:SecretVersion",
        forceNew: ["secretId", "secretBinary", "secretStringWoVersion"],
        conditional: [REGION, { kind: "whenPriorValueChanges", path: "secretString", why: "secretVersionForceNewCustomDiffInner forces new when the state has a secret string and the configured one differs or is unknown" }],
        source: terraformAws("internal/service/secretsmanager.resourceSecretVersion", "index/internal/service/secretsmanager/func.resourceSecretVersion.goindex"),
        note: "secret_binary stays ForceNew in schema; secret_string handled by CustomizeDiff (see conditional).",
    },
    {
        type: "aws:secretsmanager/secretPolicy:SecretPolicy",
        forceNew: ["secretArn"],
        conditional: [REGION],
        source: terraformAws("internal/service/secretsmanager.resourceSecretPolicy", "index/internal/service/secretsmanager/func.resourceSecretPolicy.goindex"),
    },
    // Read at the index's stored commit 0c75c3cd (not its v6.58.0 tag commit, where these files were not stored).
    {
        type: "aws:guardduty/detector:Detector",
        forceNew: [],
        conditional: [REGION],
        source: terraformAwsAt("internal/service/guardduty.resourceDetector", "index/internal/service/guardduty/func.resourceDetector.goindex"),
        note: "no attribute forces a new detector (datasources is deprecated in favour of detector features)",
    },
    {
        type: "aws:guardduty/detectorFeature:DetectorFeature",
        forceNew: ["detectorId", "name"],
        conditional: [REGION],
        source: terraformAwsAt("internal/service/guardduty.resourceDetectorFeature", "index/internal/service/guardduty/func.resourceDetectorFeature.goindex"),
        note: "status and additional_configuration are updated in place (Put on create and update; delete is a no-op)",
    },
    {
        type: "aws:cloudwatch/eventRule:EventRule",
        forceNew: ["eventBusName", "name", "namePrefix"],
        conditional: [REGION],
        source: terraformAwsAt("internal/service/events.resourceRule", "index/internal/service/events/func.resourceRule.goindex"),
    },
    {
        type: "aws:cloudwatch/eventTarget:EventTarget",
        forceNew: ["eventBusName", "rule", "targetId"],
        conditional: [REGION],
        source: terraformAwsAt("internal/service/events.resourceTarget", "index/internal/service/events/func.resourceTarget.goindex"),
    },
    // The hosted-model tiers: batch inference's bucket and queues, PrivateLink's load balancer and endpoint service.
    {
        type: "aws:s3/bucket:Bucket",
        forceNew: ["bucket", "bucketNamespace", "bucketPrefix", "objectLockEnabled", "objectLockConfiguration.objectLockEnabled"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucket", "index/internal/service/s3/func.resourceBucket.goindex"),
    },
    {
        type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        forceNew: ["bucket", "expectedBucketOwner"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.bucketLifecycleConfigurationResource.Schema", "index/internal/service/s3/method.bucketLifecycleConfigurationResource.Schema.goindex"),
        note: "A framework resource: stringplanmodifier.RequiresReplace on bucket and expected_bucket_owner.",
    },
    {
        type: "aws:s3/bucketNotification:BucketNotification",
        forceNew: ["bucket"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucketNotification", "index/internal/service/s3/func.resourceBucketNotification.goindex"),
    },
    {
        type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        forceNew: ["bucket"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucketOwnershipControls", "index/internal/service/s3/func.resourceBucketOwnershipControls.goindex"),
    },
    {
        type: "aws:s3/bucketPolicy:BucketPolicy",
        forceNew: ["bucket"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucketPolicy", "index/internal/service/s3/func.resourceBucketPolicy.goindex"),
    },
    {
        type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        forceNew: ["bucket"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucketPublicAccessBlock", "index/internal/service/s3/func.resourceBucketPublicAccessBlock.goindex"),
    },
    {
        type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        forceNew: ["bucket", "expectedBucketOwner"],
        conditional: [REGION],
        source: terraformAws("internal/service/s3.resourceBucketServerSideEncryptionConfiguration", "index/internal/service/s3/func.resourceBucketServerSideEncryptionConfiguration.goindex"),
        note: "expected_bucket_owner by d.ForceNew in its CustomizeDiff.",
    },
    {
        type: "aws:sqs/queue:Queue",
        forceNew: ["fifoQueue", "name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/sqs.queueSchema", "index/internal/service/sqs/var.queueSchema.goindex"),
    },
    {
        type: "aws:sqs/queuePolicy:QueuePolicy",
        forceNew: ["queueUrl"],
        conditional: [REGION],
        source: terraformAws("internal/service/sqs.resourceQueuePolicy", "index/internal/service/sqs/func.resourceQueuePolicy.goindex"),
    },
    {
        type: "aws:lb/loadBalancer:LoadBalancer",
        forceNew: ["customerOwnedIpv4Pool", "internal", "loadBalancerType", "name", "namePrefix"],
        conditional: [REGION],
        source: terraformAws("internal/service/elbv2.resourceLoadBalancer", "index/internal/service/elbv2/func.resourceLoadBalancer.goindex"),
        note: "customizeDiffLoadBalancerNLB also replaces a network load balancer whose subnets shrink or whose security groups go from none to some or from some to none; the program keeps both fixed.",
    },
    {
        type: "aws:lb/targetGroup:TargetGroup",
        forceNew: ["ipAddressType", "name", "namePrefix", "port", "protocol", "protocolVersion", "targetControlPort", "targetType", "vpcId"],
        conditional: [REGION],
        source: terraformAws("internal/service/elbv2.resourceTargetGroup", "index/internal/service/elbv2/func.resourceTargetGroup.goindex"),
        unverified: ["targetControlPort"],
    },
    {
        type: "aws:lb/listener:Listener",
        forceNew: ["loadBalancerArn"],
        conditional: [REGION],
        source: terraformAws("internal/service/elbv2.resourceListener", "index/internal/service/elbv2/func.resourceListener.goindex"),
    },
    {
        type: "aws:ec2/vpcEndpointService:VpcEndpointService",
        forceNew: [],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceVPCEndpointService", "index/internal/service/ec2/func.resourceVPCEndpointService.goindex"),
        note: "No ForceNew attribute: load balancers, principals, acceptance and the private DNS name change in place.",
    },
    {
        type: "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple",
        forceNew: ["principalArn", "vpcEndpointServiceId"],
        conditional: [REGION],
        source: terraformAws("internal/service/ec2.resourceVPCEndpointServiceAllowedPrincipal", "index/internal/service/ec2/func.resourceVPCEndpointServiceAllowedPrincipal.goindex"),
    },
];

export const AWS_RULES: ReplacementRule[] = rules.map((r) => ({ ...r, caveat: AWS_CAVEAT }));
