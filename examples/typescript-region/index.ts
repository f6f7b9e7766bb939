// A research lab's GPU region, built with compute-region as a library. The lab keeps its own config
// (gpu-lab:* in Pulumi.<stack>.yaml: a few facts and its teams' GPU budgets) and derives the
// region's settings from it in code; buildRegion validates them as compute-region validates a
// stack file (every problem at once, nothing registered when there is one) and builds the region.
import * as pulumi from "@pulumi/pulumi";
import { buildRegion, gpuInstanceType, RegionSettings, sellableGpus } from "compute-region";

/** A research team: a tenant of the lab's shared H100 pool with a GPU budget. */
interface Team {
    name: string;
    gpus: number;
}

const config = new pulumi.Config();
const awsRegion = new pulumi.Config("aws").require("region");
const account = config.require("accountId");
const teams = config.requireObject<Team[]>("teams");
const h100Nodes = config.requireNumber("h100Nodes");
const pager = "lab-oncall";

// What the shared pool can sell after its headroom: the lab refuses budgets beyond it here, before
// compute-region's own check would (this is the library's capacity model, the one its policies use).
const SHARED_INSTANCE = "p5.48xlarge";
const HEADROOM = 0.25;
const sellable = sellableGpus(h100Nodes * gpuInstanceType(SHARED_INSTANCE)!.gpusPerNode, HEADROOM);
const budgeted = teams.reduce((sum, t) => sum + t.gpus, 0);
if (budgeted > sellable) throw new pulumi.RunError(`gpu-lab:teams: the teams' budgets (${budgeted} GPUs) exceed what ${h100Nodes} H100 nodes sell (${sellable})`);

const settings: RegionSettings = {
    region: awsRegion,
    availabilityZones: [`${awsRegion}a`, `${awsRegion}b`, `${awsRegion}c`],
    network: { vpcCidr: config.require("vpcCidr"), natGateways: "perAz" },
    cluster: {
        name: config.require("clusterName"),
        kubernetesVersion: "1.34",
        serviceCidr: "172.20.0.0/16",
        endpoint: { publicAccess: false, publicAccessCidrs: [] },
        adminRoleArns: [`arn:aws:iam::${account}:role/LabAdmin`],
        deployerRoleArn: `arn:aws:iam::${account}:role/LabDeployer`,
        logRetentionDays: 365,
        systemNodeGroup: { instanceType: "m7i.xlarge", minSize: 2, maxSize: 4 },
    },
    gpuPools: [{ name: "shared-h100", role: "shared", instanceType: SHARED_INSTANCE, minNodes: h100Nodes, maxNodes: h100Nodes * 2, headroom: HEADROOM }],
    tenants: teams.map((t) => ({ name: t.name, quota: { "shared-h100": t.gpus }, members: [`arn:aws:iam::${account}:role/${t.name}-researchers`] })),
    // Metering by the billing image the lab builds from the compute-region repository (an installed package cannot build it).
    billing: {
        instanceClass: "db.t4g.medium",
        engineVersion: "16",
        meteringImage: config.require("billingImage"),
        prices: [{ track: "reserved", gpuModel: "h100", perGpuHour: 2.9, effectiveFrom: "2026-01-01" }],
    },
    // One pager for the lab; GuardDuty's findings to the security team's SNS topic; a heartbeat to a dead man's switch.
    alerting: {
        receivers: [
            { name: pager, pagerduty: { routingKeySecret: config.require("pagerdutyRoutingKeySecret") } },
            { name: "security", sns: { topicArn: `arn:aws:sns:${awsRegion}:${account}:lab-security` } },
            { name: "heartbeat", webhook: { url: config.require("heartbeatUrl"), credentialsSecret: "gpu-lab/alerting/heartbeat" } },
        ],
        teams: { capacity: { page: pager, ticket: pager }, serving: { page: pager, ticket: pager }, billing: { page: pager, ticket: pager }, security: { page: "security", ticket: pager } },
        heartbeat: "heartbeat",
    },
};

const { region, outputs } = buildRegion(settings);

export const clusterName = region.cluster.clusterName;
export const kubeconfig = outputs.kubeconfig;
export const capacity = region.capacity;
export const tenantNamespaces = region.tenants.map((t) => t.namespace);
