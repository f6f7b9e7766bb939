import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadMigrations } from "../billing/migrate";
import { alertRulesOf } from "../components/alert-rules";
import type { MeteringImageBuild } from "../components/billing-database";
import { Region, RegionArgs } from "../components/region";
import { dedicatedModelName, platformBilling } from "compute-region-policies/model";
import { ConfigError, RegionConfig } from "./config";
import { findingsTopicArn, resolveCredits, resolveSlos } from "./config/reliability";
import { parseRegionSettings, RegionSettings } from "./config/settings";
import { sourceTag } from "./image-source";
import { packageRoot } from "./paths";

/** A region built: the component, the validated config it was built from, and the outputs a stack exports. */
export interface BuiltRegion {
    region: Region;
    config: RegionConfig;
    /**
     * What the program exports as stack outputs: the region's network, cluster, capacity, billing,
     * alerts, service levels and model API. A sharded region's shards read them through a StackReference.
     */
    outputs: Record<string, unknown>;
}

export interface BuildRegionOptions {
    /** The Region component's name (default: the stack's name). */
    name?: string;
    /** Resource options of the Region component (a parent, providers, aliases). */
    resourceOptions?: pulumi.ComponentResourceOptions;
}

/**
 * Builds a region from settings written in code (see `RegionSettings`): validates them as a stack
 * file is validated (every problem at once, nothing registered when there is one), then builds the
 * region exactly as the program does from its stack file.
 */
export function buildRegion(settings: RegionSettings, options: BuildRegionOptions = {}): BuiltRegion {
    const stack = settings.stack ?? pulumi.getStack();
    return regionFromConfig(parseRegionSettings(settings, stack), options);
}

/**
 * Builds a region (or a sharded region's platform) from a validated config: what the program does
 * with its stack file's config, and `buildRegion` with settings from code, so the two cannot drift.
 */
export function regionFromConfig(config: RegionConfig, options: BuildRegionOptions = {}): BuiltRegion {
    const args = regionArgs(config);
    const region = new Region(options.name ?? config.stack, args, options.resourceOptions);
    return { region, config, outputs: regionOutputs(region, config, args) };
}

/**
 * The Region component's arguments from a validated config: the billing schema and image, capacity
 * reservations, resolved objectives. `root` is the package's (its billing migrations and sources).
 */
export function regionArgs(config: RegionConfig, root: string = packageRoot()): RegionArgs {
    const billing = config.billing && { ...config.billing, ...(config.billing.meteringImage ? {} : { meteringImageBuild: billingImageBuild(root) }) };
    // The billing schema ships with the package; the migration Job applies it.
    const migrations = config.billing ? loadMigrations(path.join(root, "billing", "migrations")) : [];
    const gpuPools = config.gpuPools.map(({ capacityReservation: r, ...pool }) => ({
        ...pool,
        ...(r ? { capacityReservation: { id: r.id, type: r.type, instances: r.instances, ...(r.startsAt && r.endsAt ? { window: { startsAt: r.startsAt, endsAt: r.endsAt } } : {}) } } : {}),
    }));
    const { findingsReceiver: _findings, ...threatDetection } = config.threatDetection;
    // The batch worker ships with the package, as the migrations do: each batch Job mounts it.
    const batchWorker = config.models.some((m) => m.batch) ? fs.readFileSync(path.join(root, "components", "batch", "worker.py"), "utf8") : undefined;
    return {
        ...config,
        gpuPools,
        billing,
        migrations,
        slos: resolveSlos(config),
        sloCredits: resolveCredits(config.slos),
        batchWorker,
        threatDetection: { ...threatDetection, findingsTopicArn: findingsTopicArn(config.threatDetection, config.alerting) },
    };
}

/**
 * No image given: the billing image is built from the package's sources (billing/Dockerfile) and
 * pushed before the Jobs use it. Only a source checkout has them; the published package does not,
 * so a library user names an image built from the repository instead.
 */
function billingImageBuild(root: string): MeteringImageBuild {
    if (!fs.existsSync(path.join(root, "billing", "Dockerfile"))) {
        throw new ConfigError([
            `billing.meteringImage: is required when compute-region is used as an installed package (${root} has no billing/Dockerfile to build the billing image from): build it from the compute-region repository (docker build -f billing/Dockerfile .), push it, and give <repository>@sha256:<digest>`,
        ]);
    }
    return { context: root, dockerfile: "billing/Dockerfile", tag: sourceTag(root) };
}

/** The stack outputs of a region: what a platform engineer and the tenant shards read. */
export function regionOutputs(region: Region, config: RegionConfig, args: Pick<RegionArgs, "slos">): Record<string, unknown> {
    const slos = args.slos ?? [];
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
