import { beforeAll, describe, expect, it } from "vitest";
import { TYPES, UNKNOWN } from "./imports";
import type { OfflinePlanResult } from "../offline/harness";
import { devStackConfig, ofType, one, plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

describe("offline plan records like the engine", () => {
    it("gives URNs the full parent type chain, and children their parent's URN", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.urn).toBe("urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:index:Cluster$aws:eks/cluster:Cluster::dev-cluster-eks");
        expect(cluster.parent).toBe("urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:index:Cluster::dev-cluster");
        const region = one(dev.resources, "compute-region:index:Region");
        expect(region.urn).toBe("urn:pulumi:dev::compute-region::compute-region:index:Region::dev");
        expect(region.parent).toBe("urn:pulumi:dev::compute-region::pulumi:pulumi:Stack::compute-region-dev");
    });

    it("records explicit dependsOn apart from input dependencies", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        const logGroup = one(dev.resources, TYPES.logGroup, "dev-cluster-control-plane");
        expect(cluster.opts?.dependsOn).toContain(logGroup.urn);
        const key = one(dev.resources, TYPES.kmsKey, "dev-cluster-secrets");
        expect(cluster.dependencies).toContain(key.urn);
        expect(cluster.opts?.dependsOn).not.toContain(key.urn);
    });

    it("records the provider: the cluster's Kubernetes provider, or the engine's default provider", () => {
        const provider = one(dev.resources, "pulumi:providers:kubernetes");
        expect(one(dev.resources, "kubernetes:storage.k8s.io/v1:StorageClass").opts?.provider).toBe(provider.urn);
        expect(one(dev.resources, TYPES.vpc).opts?.provider).toMatch(/^urn:pulumi:dev::compute-region::pulumi:providers:aws::default_7_48_0$/);
    });

    it("leaves what only the cloud knows unknown, as a preview does", () => {
        expect(dev.outputs.vpcId).toBe(UNKNOWN);
        expect(dev.outputs.clusterName).toBe("gpu-dev-use2");
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.props.roleArn).toBe(UNKNOWN);
    });
});

describe("network", () => {
    it("has public, private and isolated subnets in each of the three AZs, carved from the VPC CIDR", () => {
        const subnets = ofType(dev.resources, TYPES.subnet);
        expect(subnets).toHaveLength(9);
        for (const tier of ["public", "private", "isolated"]) {
            const tierSubnets = subnets.filter((s) => (s.props.tags as Record<string, string>)["compute-region:subnet-tier"] === tier);
            expect(tierSubnets.map((s) => s.props.availabilityZone).sort()).toEqual(["us-east-2a", "us-east-2b", "us-east-2c"]);
            for (const s of tierSubnets) expect(s.props.mapPublicIpOnLaunch).toBe(false);
        }
        const cidrs = subnets.map((s) => s.props.cidrBlock as string);
        expect(new Set(cidrs).size).toBe(9);
        expect(cidrs.filter((c) => c.endsWith("/18"))).toEqual(["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]);
    });

    it("routes isolated subnets nowhere outside the VPC", () => {
        const isolated = one(dev.resources, "aws:ec2/routeTable:RouteTable", "dev-network-isolated-rt");
        expect(isolated.props.routes ?? []).toEqual([]);
    });

    it("has one NAT gateway when shared, one per AZ otherwise", async () => {
        expect(ofType(dev.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
        const config = devStackConfig();
        config["compute-region:network"].natGateways = "perAz";
        const perAz = await plan(config);
        expect(ofType(perAz.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    });

    it("keeps AWS API traffic private with endpoints", () => {
        const endpoints = ofType(dev.resources, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => String(e.props.serviceName));
        for (const service of ["s3", "ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager", "ec2", "eks-auth"]) {
            expect(endpoints).toContain(`com.amazonaws.us-east-2.${service}`);
        }
    });

    it("sends every flow to an encrypted log group with retention", () => {
        const flowLog = one(dev.resources, TYPES.flowLog);
        expect(flowLog.props.trafficType).toBe("ALL");
        const group = one(dev.resources, TYPES.logGroup, "dev-network-flow-logs");
        expect(group.props.retentionInDays).toBe(90);
        expect(group.dependencies).toContain(one(dev.resources, TYPES.kmsKey, "dev-network-flow-logs").urn);
    });
});

describe("cluster", () => {
    it("encrypts secrets with a rotating, protected KMS key that CloudWatch Logs may use", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.props.encryptionConfig).toMatchObject({ resources: ["secrets"] });
        const key = one(dev.resources, TYPES.kmsKey, "dev-cluster-secrets");
        expect(key.props.enableKeyRotation).toBe(true);
        expect(key.opts?.protect).toBe(true);
        const policy = JSON.parse(key.props.policy as string);
        expect(policy.Statement.map((s: { Principal: unknown }) => s.Principal)).toContainEqual({ Service: "logs.us-east-2.amazonaws.com" });
    });

    it("logs every control-plane log type to a log group created first", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.props.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        const group = one(dev.resources, TYPES.logGroup, "dev-cluster-control-plane");
        expect(group.props.name).toBe("/aws/eks/gpu-dev-use2/cluster");
        expect(group.props.retentionInDays).toBe(90);
    });

    it("keeps the endpoint private unless config opens it to an allow-list", async () => {
        const vpcConfig = one(dev.resources, TYPES.eksCluster).props.vpcConfig as Record<string, unknown>;
        expect(vpcConfig).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] });
        const config = devStackConfig();
        config["compute-region:cluster"].endpoint = { publicAccess: false };
        const privateOnly = await plan(config);
        const privateConfig = one(privateOnly.resources, TYPES.eksCluster).props.vpcConfig as Record<string, unknown>;
        expect(privateConfig.endpointPublicAccess).toBe(false);
        expect(privateConfig.publicAccessCidrs).toBeUndefined();
    });

    it("authenticates through access entries only, for the admins and the deployer", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.props.accessConfig).toEqual({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
        const principals = ofType(dev.resources, TYPES.eksAccessEntry).filter((e) => e.name.startsWith("dev-cluster-")).map((e) => e.props.principalArn);
        expect(principals.sort()).toEqual(["arn:aws:iam::111122223333:role/PlatformAdmin", "arn:aws:iam::111122223333:role/PulumiDeployer"]);
    });

    it("is protected from deletion twice over", () => {
        const cluster = one(dev.resources, TYPES.eksCluster);
        expect(cluster.props.deletionProtection).toBe(true);
        expect(cluster.opts?.protect).toBe(true);
    });

    it("installs the managed add-ons, with the VPC CNI enforcing NetworkPolicy in strict mode", () => {
        const addons = Object.fromEntries(ofType(dev.resources, TYPES.eksAddon).filter((a) => a.name.startsWith("dev-cluster-")).map((a) => [a.props.addonName, a]));
        expect(Object.keys(addons).sort()).toEqual(["aws-ebs-csi-driver", "coredns", "eks-node-monitoring-agent", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
        const cni = JSON.parse(addons["vpc-cni"].props.configurationValues as string);
        expect(cni).toEqual({ enableNetworkPolicy: "true", env: { NETWORK_POLICY_ENFORCING_MODE: "strict", ENABLE_POD_ENI: "true", POD_SECURITY_GROUP_ENFORCING_MODE: "standard" } });
        expect(addons["coredns"].opts?.dependsOn).toContain(one(dev.resources, TYPES.eksNodeGroup, "dev-cluster-system").urn);
    });

    it("taints the system node group and launches it with IMDSv2 (hop limit 1) and an encrypted root volume", () => {
        const group = one(dev.resources, TYPES.eksNodeGroup, "dev-cluster-system");
        expect(group.props.taints).toEqual([{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }]);
        const template = one(dev.resources, TYPES.launchTemplate, "dev-cluster-system-lt");
        expect(template.props.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
        expect((template.props.blockDeviceMappings as { ebs: Record<string, unknown> }[])[0].ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
    });

    it("gives nodes only the managed policies a node needs", () => {
        const attachments = ofType(dev.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.name.startsWith("dev-cluster-system-node-"));
        expect(attachments.map((a) => String(a.props.policyArn).split("/").pop()).sort()).toEqual(["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy"]);
    });

    it("makes an encrypted gp3 StorageClass the default", () => {
        const sc = one(dev.resources, "kubernetes:storage.k8s.io/v1:StorageClass");
        expect(sc.props).toMatchObject({ provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" } });
        expect((sc.props.metadata as { annotations: Record<string, string> }).annotations["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    });

    it("exports what a platform engineer needs", () => {
        expect(Object.keys(dev.outputs)).toEqual(expect.arrayContaining(["vpcId", "clusterName", "clusterEndpoint", "kubeconfig"]));
    });
});
