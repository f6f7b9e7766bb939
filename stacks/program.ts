import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { dedicatedModelName } from "compute-region-policies/model";
import { loadMigrations } from "../billing/migrate";
import { alertRulesOf } from "../components/alert-rules";
import { Region } from "../components/region";
import { TenantShard } from "../components/tenant-shard";
import { platformBilling } from "compute-region-policies/model";
import { loadStackConfig, ShardConfig } from "./config";
import { findingsTopicArn, resolveCredits, resolveSlos } from "./config/reliability";
import { sourceTag } from "./image-source";
import { projectRoot } from "./paths";

/**
 * The program: validate the whole stack config first (a bad config registers nothing), then build
 * a region (or a sharded region's platform) or one tenant shard, and return the outputs a platform
 * engineer (or the shards) need.
 */
export async function regionProgram(): Promise<Record<string, unknown>> {
    const config = loadStackConfig();
    if (config.layer === "shard") return shardProgram(config);
    // The billing schema ships with the program; the migration Job applies it.
    const migrations = config.billing ? loadMigrations(path.join(projectRoot(), "billing", "migrations")) : [];
    // No image given: the program builds the billing image and pushes it before the Jobs use it.
    const billing = config.billing && {
        ...config.billing,
        meteringImage: config.billing.meteringImage ?? { context: projectRoot(), dockerfile: "billing/Dockerfile", tag: sourceTag(projectRoot()) },
    };
    const gpuPools = config.gpuPools.map(({ capacityReservation: r, ...pool }) => ({
        ...pool,
        ...(r ? { capacityReservation: { id: r.id, type: r.type, instances: r.instances, ...(r.startsAt && r.endsAt ? { window: { startsAt: r.startsAt, endsAt: r.endsAt } } : {}) } } : {}),
    }));
    const slos = resolveSlos(config);
    const { findingsReceiver: _findings, ...threatDetection } = config.threatDetection;
    // The batch worker ships with the program, as the migrations do: each batch Job mounts it.
    const batchWorker = config.models.some((m) => m.batch) ? fs.readFileSync(path.join(projectRoot(), "components", "batch", "worker.py"), "utf8") : undefined;
    const region = new Region(config.stack, {
        ...config,
        gpuPools,
        billing,
        migrations,
        slos,
        sloCredits: resolveCredits(config.slos),
        batchWorker,
        threatDetection: { ...threatDetection, findingsTopicArn: findingsTopicArn(config.threatDetection, config.alerting) },
    });
    return {
        region: config.region,
        layer: config.layer,
        vpcId: region.network.vpcId,
        vpcCidr: config.network.vpcCidr,
        serviceCidr: config.cluster.serviceCidr,
        subnetCidrs: region.network.subnetCidrs,
        clusterName: region.cluster.clusterName,
        clusterEndpoint: region.cluster.endpoint,
        oidcProviderArn: region.cluster.oidcProviderArn,
        kubeconfig: pulumi.secret(region.cluster.kubeconfig),
        capacity: region.capacity,
        // What each tenant shard may sell, per pool (read by the shards through a StackReference).
        shards: Object.fromEntries(config.shards.map((s) => [s.name, s.budget])),
        // What the shards' registry Jobs need: the prices and pools their tenants are billed at, the billing image and database.
        ...(config.layer === "platform" && region.billing ? { billing: { ...platformBilling(region.billing.registry), image: region.billing.image, databaseHost: region.billing.endpoint } } : {}),
        alertRules: region.observability.ruleGroups.flatMap((g) => alertRulesOf([g]).map((r) => `${g.name}/${r.alert}${r.labels.pool ? `{pool=${r.labels.pool}}` : ""}${r.labels.slo ? `{slo=${r.labels.slo},severity=${r.labels.severity}}` : ""}`)),
        dashboards: region.observability.dashboards,
        grafanaAdminPassword: region.observability.grafanaAdminPassword,
        // What the region promises, and the GuardDuty detector watching it.
        // (and the credits a hosted model's month below its availability objective owes: billing issues them).
        serviceLevels: {
            objectives: slos.map((s) => ({ slo: s.name, objective: s.objective, window: `${s.windowDays}d`, team: s.team, ...(s.tenant ? { tenant: s.tenant } : {}) })),
            credits: resolveCredits(config.slos),
        },
        threatDetection: { mode: config.threatDetection.mode, detectorId: region.threatDetection.detectorId },
        // The hosted-model API and where each tenant's key is kept (the ARN, never the key).
        ...(region.gateway
            ? {
                  modelApi: {
                      url: `https://${region.gateway.hostname}/v1`,
                      apiKeySecrets: region.gateway.apiKeySecretArns,
                      // What each tenant with dedicated endpoints sends as `model`.
                      dedicatedModels: Object.fromEntries(config.tenants.filter((t) => t.dedicated.length > 0 && t.state === "active").map((t) => [t.name, t.dedicated.map((d) => dedicatedModelName(t.name, d.model))])),
                      ...(region.invocationLogs ? { invocationLogGroup: region.invocationLogs.logGroupName } : {}),
                      // Tenants create interface endpoints for serviceName; prove the private DNS name with the TXT record.
                      ...(region.privateLink
                          ? { privateLink: { serviceName: region.privateLink.serviceName, privateDnsName: region.privateLink.privateDnsName, domainVerification: region.privateLink.domainVerification } }
                          : {}),
                  },
              }
            : {}),
        ...(region.batch ? { batch: { bucket: region.batch.bucketName, kmsKeyArn: region.batch.kmsKeyArn, inputPrefixes: region.batch.inputPrefixes } } : {}),
    };
}

function shardProgram(config: ShardConfig): Record<string, unknown> {
    const platform = new pulumi.StackReference(config.shard.platformStack);
    const shard = new TenantShard(`${config.stack}`, { shardName: config.shard.name, tenants: config.tenants, platform });
    return { region: config.region, layer: "shard", shard: config.shard.name, tenants: shard.tenants.map((t) => t.namespace) };
}
