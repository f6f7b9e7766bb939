import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import { addonFacts, CONTROL_PLANE_LOG_TYPES, DEPLOYER_USERNAME, EKS_ADDONS, LABELS, PLATFORM_ADMIN_GROUP, PlatformAddressing, SYSTEM_TAINT, VPC_CNI_CONFIGURATION } from "compute-region-policies/model";
import { GPU_POOL_TOLERATIONS } from "./gpu-device-plugins";
import { pinnedAddonVersion } from "./eks-addon";
import { AwsContext, awsContext, keyPolicy, POD_IDENTITY_TRUST_POLICY } from "./kms";
import { NodeGroupScaling } from "./node-group-scaling";
import { NODE_REPAIR, nodeRole, secureLaunchTemplate } from "./nodes";
import { podNetworkPolicies } from "./platform-network-policies";

/**
 * How the region's Kubernetes providers apply objects: server-side apply; ConfigMaps updated in place
 * (by default the provider replaces a ConfigMap whose data changes, deleting the fixed-name dashboard
 * and migration maps first on every change); and an unreachable cluster is an error, never a reason
 * to drop objects from the state.
 */
export const KUBERNETES_PROVIDER_SETTINGS = { enableServerSideApply: true, enableConfigMapMutable: true, deleteUnreachable: false } as const;

/** The system node group: the nodes add-ons and platform controllers run on. */
export interface SystemNodeGroupArgs {
    /** EC2 instance type of the system nodes. */
    instanceType: string;
    /** Fewest nodes (at least one: the add-ons run here). */
    minSize: number;
    /** Most nodes. */
    maxSize: number;
    /** Root volume size, GiB. */
    diskSizeGiB: number;
}

/**
 * The node monitoring agent's add-on configuration: its DCGM host engine tolerates the GPU pool taints
 * (`dcgmAgent.tolerations`, in both the add-on's documented options and the chart's
 * configuration.schema.json at aws/eks-node-monitoring-agent v1.7.0); the agent itself tolerates
 * every taint by default.
 */
export const NODE_MONITORING_AGENT_CONFIGURATION = { dcgmAgent: { tolerations: GPU_POOL_TOLERATIONS } };

/** An EKS cluster in a VPC's private subnets. */
export interface ClusterArgs {
    /** The EKS cluster name, fixed so log groups and tags can name it before it exists. */
    clusterName: string;
    /** Kubernetes minor version, such as "1.34". */
    kubernetesVersion: string;
    /** VPC the cluster lives in. */
    vpcId: pulumi.Input<string>;
    /** Private subnets for the control-plane ENIs and the system nodes. */
    subnetIds: pulumi.Input<string>[];
    /** Service CIDR (must not overlap the VPC). */
    serviceCidr: string;
    /** The region's addresses (the subnets above as CIDRs among them), for the add-ons' NetworkPolicies. */
    addressing: PlatformAddressing;
    /** Expose the API endpoint publicly too, to `publicAccessCidrs` only. */
    publicAccess: boolean;
    /** CIDRs allowed to reach the public endpoint. */
    publicAccessCidrs: string[];
    /** IAM roles that get cluster admin through access entries. */
    adminRoleArns: string[];
    /** IAM role that runs Pulumi: an access entry with cluster admin, and the Kubernetes provider uses it. */
    deployerRoleArn: string;
    /** Control-plane log retention, days. */
    logRetentionDays: number;
    /** The system node group for add-ons and platform controllers. */
    systemNodeGroup: SystemNodeGroupArgs;
    /** Account, partition and region lookups shared across the region (default: looked up here). */
    aws?: AwsContext;
    /** Tags for every AWS resource. */
    tags: Record<string, string>;
    /** Tags for the EKS cluster alone, besides `tags` (GuardDuty's exclusion tag when the region manages its agent). */
    clusterTags?: Record<string, string>;
}

/**
 * An EKS cluster a compliance team can sign off: secrets envelope-encrypted with a rotating KMS key,
 * every control-plane log type to a log group created first (retention, same key), a private API
 * endpoint (public only to an allow-list), access entries rather than the aws-auth ConfigMap, an
 * OIDC provider, deletion protection, managed add-ons (the VPC CNI enforcing NetworkPolicy in strict
 * mode), a tainted system node group and one Kubernetes provider for everything in the cluster.
 *
 * A private-only cluster (publicAccess false) must be deployed from inside the VPC (a CI runner in
 * the VPC, or through a VPN / Direct Connect), because the Kubernetes resources talk to its API.
 */
/** The child resources a Cluster hands to TypeScript callers. */
interface ClusterParts {
    provider: k8s.Provider;
    systemNodeGroup: aws.eks.NodeGroup;
    nodeMonitoringAgent: aws.eks.Addon;
}

/** An EKS cluster with its system node group, add-ons, access entries and the one Kubernetes provider of the region. */
export class Cluster extends pulumi.ComponentResource {
    /** The EKS cluster's name. */
    public readonly clusterName: pulumi.Output<string>;
    /** The API server endpoint. */
    public readonly endpoint: pulumi.Output<string>;
    /** The cluster's certificate authority data (base64). */
    public readonly certificateAuthority: pulumi.Output<string>;
    /** The IAM OIDC provider's ARN. */
    public readonly oidcProviderArn: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL. */
    public readonly oidcIssuer: pulumi.Output<string>;
    /** The security group EKS creates for the cluster. */
    public readonly clusterSecurityGroupId: pulumi.Output<string>;
    /** The KMS key that encrypts Kubernetes secrets and control-plane logs. */
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** Kubeconfig that authenticates with `aws eks get-token` as the deployer role. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The default StorageClass (encrypted gp3). */
    public readonly storageClassName: string = "gp3-encrypted";
    /** The control plane's Kubernetes version: node groups run it, so they follow its upgrades. */
    public readonly kubernetesVersion: pulumi.Output<string>;

    /** The one Kubernetes provider every Kubernetes resource of the region uses. */
    public get provider(): k8s.Provider {
        return partsOf<ClusterParts>(this).provider;
    }
    /** The system node group: depend on it for workloads that must wait for nodes. */
    public get systemNodeGroup(): aws.eks.NodeGroup {
        return partsOf<ClusterParts>(this).systemNodeGroup;
    }
    /** The EKS node monitoring agent, whose node conditions node auto-repair acts on. */
    public get nodeMonitoringAgent(): aws.eks.Addon {
        return partsOf<ClusterParts>(this).nodeMonitoringAgent;
    }

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("Cluster"), name, {}, componentOptions("Cluster", opts));
        if (args.publicAccess && args.publicAccessCidrs.length === 0) {
            throw new pulumi.ResourceError(`Cluster ${name}: publicAccess needs publicAccessCidrs (an empty list opens the endpoint to 0.0.0.0/0)`, this);
        }
        if (args.publicAccessCidrs.includes("0.0.0.0/0")) {
            throw new pulumi.ResourceError(`Cluster ${name}: publicAccessCidrs must not include 0.0.0.0/0`, this);
        }
        const tags = args.tags;
        const context = args.aws ?? awsContext({ parent: this });

        const key = new aws.kms.Key(
            `${name}-secrets`,
            {
                description: `Envelope encryption of Kubernetes secrets and control-plane logs of ${args.clusterName}`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: keyPolicy({ ...context, allowCloudWatchLogs: true }),
                tags: { ...tags, Name: `${args.clusterName}-eks` },
            },
            { parent: this, protect: true },
        );
        new aws.kms.Alias(`${name}-secrets`, { name: `alias/${args.clusterName}-eks`, targetKeyId: key.keyId }, { parent: this });
        this.kmsKeyArn = key.arn;

        // EKS would create this group itself, unencrypted and kept forever; creating it first sets both.
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-control-plane`,
            { name: `/aws/eks/${args.clusterName}/cluster`, retentionInDays: args.logRetentionDays, kmsKeyId: key.arn, tags },
            { parent: this },
        );

        const clusterRole = new aws.iam.Role(
            `${name}-cluster`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
                }),
                tags,
            },
            { parent: this },
        );
        const clusterPolicies = ["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"].map(
            (policy) =>
                new aws.iam.RolePolicyAttachment(
                    `${name}-cluster-${policy}`,
                    { role: clusterRole.name, policyArn: pulumi.interpolate`arn:${context.partition}:iam::aws:policy/${policy}` },
                    { parent: this },
                ),
        );

        const cluster = new aws.eks.Cluster(
            `${name}-eks`,
            {
                name: args.clusterName,
                version: args.kubernetesVersion,
                roleArn: clusterRole.arn,
                vpcConfig: {
                    subnetIds: args.subnetIds,
                    endpointPrivateAccess: true,
                    endpointPublicAccess: args.publicAccess,
                    publicAccessCidrs: args.publicAccess ? args.publicAccessCidrs : undefined,
                },
                kubernetesNetworkConfig: { serviceIpv4Cidr: args.serviceCidr, ipFamily: "ipv4" },
                encryptionConfig: { provider: { keyArn: key.arn }, resources: ["secrets"] },
                enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
                accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
                // The managed add-ons below replace the self-managed ones EKS would otherwise install.
                bootstrapSelfManagedAddons: false,
                deletionProtection: true,
                upgradePolicy: { supportType: "STANDARD" },
                tags: { ...tags, ...args.clusterTags },
            },
            { parent: this, protect: true, dependsOn: [logGroup, ...clusterPolicies] },
        );
        this.clusterName = cluster.name;
        this.kubernetesVersion = cluster.version;
        this.endpoint = cluster.endpoint;
        this.certificateAuthority = cluster.certificateAuthority.data;
        this.clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
        this.oidcIssuer = cluster.identities.apply((ids) => ids?.[0]?.oidcs?.[0]?.issuer ?? "");

        const adminEntries = [...args.adminRoleArns, args.deployerRoleArn].map((principalArn, i) => {
            const label = i < args.adminRoleArns.length ? `admin-${i}` : "deployer";
            const entry = new aws.eks.AccessEntry(
                `${name}-${label}`,
                // The deployer gets a fixed username: the tenant guardrails exempt exactly it.
                { clusterName: cluster.name, principalArn, type: "STANDARD", kubernetesGroups: [PLATFORM_ADMIN_GROUP], ...(label === "deployer" ? { userName: DEPLOYER_USERNAME } : {}), tags },
                { parent: this },
            );
            return new aws.eks.AccessPolicyAssociation(
                `${name}-${label}`,
                {
                    clusterName: cluster.name,
                    principalArn: entry.principalArn,
                    policyArn: pulumi.interpolate`arn:${context.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
                    accessScope: { type: "cluster" },
                },
                { parent: this },
            );
        });

        const oidc = new aws.iam.OpenIdConnectProvider(
            `${name}-oidc`,
            { url: this.oidcIssuer, clientIdLists: ["sts.amazonaws.com"], tags },
            { parent: this },
        );
        this.oidcProviderArn = oidc.arn;

        // The VPC CNI gets its ENI permissions through IRSA, not the node role, so pods cannot use them.
        const cniRole = new aws.iam.Role(
            `${name}-vpc-cni`,
            {
                assumeRolePolicy: pulumi.all([oidc.arn, this.oidcIssuer]).apply(([arn, issuer]) => {
                    const host = issuer.replace(/^https:\/\//, "");
                    return JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Federated: arn },
                                Action: "sts:AssumeRoleWithWebIdentity",
                                Condition: { StringEquals: { [`${host}:sub`]: "system:serviceaccount:kube-system:aws-node", [`${host}:aud`]: "sts.amazonaws.com" } },
                            },
                        ],
                    });
                }),
                tags,
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-vpc-cni`,
            { role: cniRole.name, policyArn: pulumi.interpolate`arn:${context.partition}:iam::aws:policy/AmazonEKS_CNI_Policy` },
            { parent: this },
        );

        // Every add-on at the version published for the cluster's minor: an upgrade of the cluster moves
        // them all in the same deploy, and none floats to a new build between previews.
        const addon = (addonName: string, extra: Partial<aws.eks.AddonArgs>, dependsOn: pulumi.Resource[] = []) =>
            new aws.eks.Addon(
                `${name}-${addonName}`,
                {
                    clusterName: cluster.name,
                    addonName,
                    addonVersion: pinnedAddonVersion(addonName, args.kubernetesVersion, this),
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "PRESERVE",
                    tags,
                    ...extra,
                },
                { parent: this, dependsOn },
            );
        // Networking add-ons come before the nodes, so that nodes become Ready.
        const vpcCni = addon(EKS_ADDONS.vpcCni, { serviceAccountRoleArn: cniRole.arn, configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION) });
        const kubeProxy = addon(EKS_ADDONS.kubeProxy, {});
        const podIdentity = addon(EKS_ADDONS.podIdentityAgent, {});

        const systemRole = nodeRole(`${name}-system`, { partition: context.partition, tags }, this);
        const systemTemplate = secureLaunchTemplate(
            `${name}-system`,
            { rootVolumeGiB: args.systemNodeGroup.diskSizeGiB, tags: { ...tags, Name: `${args.clusterName}-system` } },
            this,
        );
        partsOf<ClusterParts>(this).systemNodeGroup = new aws.eks.NodeGroup(
            `${name}-system`,
            {
                clusterName: cluster.name,
                version: cluster.version,
                nodeRoleArn: systemRole.arn,
                subnetIds: args.subnetIds,
                amiType: "AL2023_x86_64_STANDARD",
                instanceTypes: [args.systemNodeGroup.instanceType],
                scalingConfig: {
                    minSize: args.systemNodeGroup.minSize,
                    maxSize: args.systemNodeGroup.maxSize,
                    desiredSize: args.systemNodeGroup.minSize,
                },
                launchTemplate: { id: systemTemplate.id, version: pulumi.interpolate`${systemTemplate.latestVersion}` },
                labels: { [LABELS.role]: "system" },
                taints: [SYSTEM_TAINT],
                updateConfig: { maxUnavailable: 1 },
                nodeRepairConfig: NODE_REPAIR,
                tags,
            },
            // The networking add-ons (at the cluster's version) come first: on an upgrade, the nodes follow them.
            { parent: this, dependsOn: [vpcCni, kubeProxy, podIdentity], ignoreChanges: ["scalingConfig"] },
        );
        // The autoscaler manages the system group too (EKS tags every managed group for it): it owns the desired size.
        new NodeGroupScaling(
            `${name}-system-scaling`,
            { region: context.region, clusterName: cluster.name, nodeGroupName: this.systemNodeGroup.nodeGroupName, minSize: args.systemNodeGroup.minSize, maxSize: args.systemNodeGroup.maxSize },
            { parent: this },
        );

        this.kubeconfig = pulumi.secret(
            pulumi
                .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data, context.region])
                .apply(([clusterName, endpoint, ca, region]) => renderKubeconfig({ clusterName, endpoint, certificateAuthority: ca, region, roleArn: args.deployerRoleArn })),
        );
        partsOf<ClusterParts>(this).provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, ...KUBERNETES_PROVIDER_SETTINGS },
            { parent: this, dependsOn: adminEntries },
        );
        // Under the strict CNI a pod no policy selects is denied everything: CoreDNS and the EBS CSI
        // driver get theirs before their add-ons start them (else they never become ready and the
        // add-ons end DEGRADED).
        const policiesFor = (addonName: string) =>
            podNetworkPolicies(`${name}-${addonName}`, { facts: addonFacts(addonName)!, chartNamespaces: {} }, args.addressing, { parent: this, provider: this.provider });

        // CoreDNS and the EBS CSI controller need a node to become ACTIVE.
        addon(EKS_ADDONS.coreDns, {}, [this.systemNodeGroup, ...policiesFor(EKS_ADDONS.coreDns)]);
        const ebsRole = new aws.iam.Role(
            `${name}-ebs-csi`,
            {
                assumeRolePolicy: POD_IDENTITY_TRUST_POLICY,
                tags,
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-ebs-csi`,
            { role: ebsRole.name, policyArn: pulumi.interpolate`arn:${context.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` },
            { parent: this },
        );
        const ebsCsi = addon(
            EKS_ADDONS.ebsCsiDriver,
            { podIdentityAssociations: [{ roleArn: ebsRole.arn, serviceAccount: "ebs-csi-controller-sa" }] },
            [this.systemNodeGroup, podIdentity, ...policiesFor(EKS_ADDONS.ebsCsiDriver)],
        );
        // Node health for auto-repair: its DCGM host engine must run on the tainted GPU pools, or GPU
        // XID and double-bit ECC errors never reach the agent (the chart tolerates no taint by default).
        partsOf<ClusterParts>(this).nodeMonitoringAgent = addon(
            EKS_ADDONS.nodeMonitoringAgent,
            { configurationValues: JSON.stringify(NODE_MONITORING_AGENT_CONFIGURATION) },
            [this.systemNodeGroup, ...policiesFor(EKS_ADDONS.nodeMonitoringAgent)],
        );


        // gp3, encrypted, bound where the pod lands (EBS volumes are zonal).
        new k8s.storage.v1.StorageClass(
            `${name}-gp3`,
            {
                metadata: { name: this.storageClassName, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
                provisioner: "ebs.csi.aws.com",
                parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
                volumeBindingMode: "WaitForFirstConsumer",
                allowVolumeExpansion: true,
                reclaimPolicy: "Delete",
            },
            { parent: this, provider: this.provider, dependsOn: [ebsCsi] },
        );

        this.registerOutputs({
            clusterName: this.clusterName,
            endpoint: this.endpoint,
            oidcProviderArn: this.oidcProviderArn,
            kmsKeyArn: this.kmsKeyArn,
            kubeconfig: this.kubeconfig,
        });
    }
}

export interface KubeconfigArgs {
    clusterName: string;
    endpoint: string;
    certificateAuthority: string;
    region: string;
    /** Role `aws eks get-token` assumes; the deployer for Pulumi. */
    roleArn?: string;
}

/** A kubeconfig that authenticates with `aws eks get-token` (no long-lived credential inside). */
export function renderKubeconfig(args: KubeconfigArgs): string {
    const tokenArgs = ["eks", "get-token", "--cluster-name", args.clusterName, "--region", args.region, "--output", "json"];
    if (args.roleArn) tokenArgs.push("--role-arn", args.roleArn);
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: args.clusterName, cluster: { server: args.endpoint, "certificate-authority-data": args.certificateAuthority } }],
        contexts: [{ name: args.clusterName, context: { cluster: args.clusterName, user: args.clusterName } }],
        "current-context": args.clusterName,
        users: [{ name: args.clusterName, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: tokenArgs } } }],
    });
}
