import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DATA_TYPES, fromSnapshots, parseRegistry, regionRegistry, registryText, rehearse, TYPES } from "compute-region-policies/model";
import { UNKNOWN } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "../offline/harness";
import { monitoringFromResources } from "../offline/evidence";
import { billingChangeLines, billingChanges, billingEvidence, billingJson, billingLines } from "../offline/billing-report";
import type { PlanChanges } from "../offline/diff";
import { ConfigError, parseRegionConfig } from "../stacks/config";
import { sourceTag } from "../stacks/image-source";
import { registryServiceLevelsOf } from "../stacks/config/reliability";
import { devStackConfig, engineValues, ofType, one, plan } from "./helpers";

let dev: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
});

describe("billing database", () => {
    it("is RDS PostgreSQL 16 in the isolated subnets, encrypted, Multi-AZ, backed up, protected twice over, never public", () => {
        const db = one(dev.resources, DATA_TYPES.rdsInstance);
        expect(db.props).toMatchObject({
            engine: "postgres",
            engineVersion: "16",
            autoMinorVersionUpgrade: true,
            storageEncrypted: true,
            multiAz: true,
            publiclyAccessible: false,
            backupRetentionPeriod: 14,
            deletionProtection: true,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: "gpu-dev-use2-billing-final",
            iamDatabaseAuthenticationEnabled: true,
            performanceInsightsEnabled: true,
            manageMasterUserPassword: true,
        });
        expect(db.props.password).toBeUndefined();
        expect(db.opts?.protect).toBe(true);
        const key = one(dev.resources, TYPES.kmsKey, "dev-billing-key");
        expect(key.opts?.protect).toBe(true);
        for (const uses of ["kmsKeyId", "performanceInsightsKmsKeyId"]) expect(db.props[uses]).toBeDefined();
        expect(db.dependencies).toContain(key.urn);
        const subnets = one(dev.resources, "aws:rds/subnetGroup:SubnetGroup");
        const isolated = ofType(dev.resources, TYPES.subnet).filter((s) => s.props.tags["compute-region:subnet-tier"] === "isolated").map((s) => s.urn);
        expect(subnets.dependencies?.filter((d) => isolated.includes(d))).toHaveLength(3);
    });

    it("forces TLS and logs slow statements", () => {
        const params = Object.fromEntries(one(dev.resources, DATA_TYPES.rdsParameterGroup).props.parameters.map((p: { name: string; value: string }) => [p.name, p.value]));
        expect(params["rds.force_ssl"]).toBe("1");
        expect(Number(params.log_min_duration_statement)).toBeGreaterThan(0);
    });

    it("admits 5432 only from the client pods' security group", () => {
        const db = ofType(dev.resources, TYPES.securityGroup).find((g) => g.name === "dev-billing-db")!;
        const clients = ofType(dev.resources, TYPES.securityGroup).find((g) => g.name === "dev-billing-clients")!;
        expect(db.props.ingress).toHaveLength(1);
        expect(db.props.ingress[0]).toMatchObject({ protocol: "tcp", fromPort: 5432, toPort: 5432 });
        expect(db.props.ingress[0].cidrBlocks).toBeUndefined();
        expect(db.dependencies).toContain(clients.urn);
        const sgp = ofType(dev.resources, "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy")[0];
        expect(sgp.props.spec.podSelector).toEqual({ matchLabels: { "compute-region.io/db-client": "true" } });
    });

    it("gives the client pods the clients group and the cluster group, before any of them is created", () => {
        const sgp = ofType(dev.resources, "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy")[0];
        const clients = ofType(dev.resources, TYPES.securityGroup).find((g) => g.name === "dev-billing-clients")!;
        const cluster = one(dev.resources, TYPES.eksCluster);
        // Both ids are known only after deploy: unknown in the preview, never null.
        expect(sgp.props.spec.securityGroups.groupIds).toEqual([UNKNOWN, UNKNOWN]);
        expect(sgp.dependencies).toEqual(expect.arrayContaining([clients.urn, cluster.urn]));
        // Pods get their branch ENI at admission: the Jobs and the metering and statement CronJobs come after the policy.
        const workloads = [...ofType(dev.resources, "kubernetes:batch/v1:Job"), ...ofType(dev.resources, "kubernetes:batch/v1:CronJob")];
        expect(workloads.map((w) => w.name).sort()).toEqual(["dev-billing-metering", "dev-billing-migrate", "dev-billing-registry-sync", "dev-billing-statements"]);
        for (const r of workloads) expect(r.opts?.dependsOn).toContain(sgp.urn);
        // Nothing connects to the client pods, and the preview knows it.
        expect(clients.props.ingress).toEqual([]);
    });

    it("applies the migrations with a Job from a ConfigMap, and meters hourly with a CronJob, both by image digest", () => {
        const cm = ofType(dev.resources, "kubernetes:core/v1:ConfigMap").find((c) => c.props.metadata.name === "billing-migrations")!;
        expect(Object.keys(cm.props.data)).toEqual(["0001_core_schema.sql", "0002_invoices.sql", "0003_roles.sql", "0004_registry_metering_invoices.sql", "0005_billing_roles.sql", "0006_tenant_views.sql", "0007_hosted_tiers.sql", "0008_slo_attainment_credits.sql", "0009_tenant_endpoint_usage.sql"]);
        const job = one(dev.resources, "kubernetes:batch/v1:Job", "dev-billing-migrate");
        expect(job.props.metadata.name).toMatch(/^billing-migrate-[0-9a-f]{10}$/);
        const container = job.props.spec.template.spec.containers[0];
        // No image in the config: the program builds billing/Dockerfile and pushes it to the stack's
        // own repository before the Job; the Job pulls it by the digest the push returns.
        const build = one(dev.resources, "docker-build:index:Image");
        expect(build.props).toMatchObject({ push: true, platforms: ["linux/amd64"], dockerfile: { location: expect.stringMatching(/billing\/Dockerfile$/) } });
        expect(job.dependencies).toContain(build.urn);
        expect(job.props.spec.activeDeadlineSeconds).toBeGreaterThan(0);
        expect(job.opts?.customTimeouts?.create).toBeDefined();
        expect(container.command).toEqual(["node", "bin/billing/cli.js", "migrate", "--dir", "/migrations"]);
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        const cron = one(dev.resources, "kubernetes:batch/v1:CronJob", "dev-billing-metering");
        expect(cron.props.spec).toMatchObject({ schedule: "5 * * * *", concurrencyPolicy: "Forbid" });
        expect(cron.props.spec.jobTemplate.spec.template.spec.containers[0].env).toContainEqual({ name: "PGIAMAUTH", value: "true" });
        const repo = one(dev.resources, DATA_TYPES.ecrRepository);
        expect(repo.props).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    });

    it("applies the registry the program renders from the config with a Job after the migrations, before metering's first run", () => {
        const map = ofType(dev.resources, "kubernetes:core/v1:ConfigMap").find((c) => c.name === "dev-billing-registry")!;
        const text = map.props.data["registry.json"];
        // Exactly the one rendering of the stack's config.
        const config = parseRegionConfig(engineValues(devStackConfig()), "dev");
        expect(text).toBe(registryText(regionRegistry({ ...config, serviceLevels: registryServiceLevelsOf(config) })!));
        const doc = parseRegistry(text);
        expect(doc.tenants.map((t) => [t.name, t.commitments.map((c) => `${c.track} ${c.quantity} ${c.subject}`)])).toEqual([
            ["acme", ["dedicated 4 acme-l40s", "reserved 6 shared-l40s"]],
            ["globex", ["reserved 4 shared-l40s", "spot 4 shared-l40s"]],
            // Its batch access and its dedicated endpoint's one replica (the hosted-model tiers).
            ["initech", ["batch 1 llama-3-8b", "dedicated_endpoint 1 llama-3-8b", "hosted 1 llama-3-8b", "hosted 1 qwen-2-5-32b"]],
        ]);
        const migrate = one(dev.resources, "kubernetes:batch/v1:Job", "dev-billing-migrate");
        const job = one(dev.resources, "kubernetes:batch/v1:Job", "dev-billing-registry-sync");
        const cron = one(dev.resources, "kubernetes:batch/v1:CronJob", "dev-billing-metering");
        // Named by the document's hash: a changed document is a new Job, run once.
        expect(job.props.metadata.name).toMatch(/^billing-registry-[0-9a-f]{10}$/);
        expect(job.props.spec.template.spec.containers[0].command).toEqual(["node", "bin/billing/cli.js", "sync", "--registry", "/registry/registry.json"]);
        expect(job.props.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: "PGUSER", value: "registry" }, { name: "PGIAMAUTH", value: "true" }]));
        expect(job.props.spec.template.spec.volumes).toContainEqual({ name: "registry", configMap: { name: "billing-registry" } });
        expect(job.props.spec.activeDeadlineSeconds).toBe(migrate.props.spec.activeDeadlineSeconds);
        expect(job.opts?.customTimeouts).toEqual(migrate.opts?.customTimeouts);
        expect(job.opts?.dependsOn).toEqual(expect.arrayContaining([migrate.urn, map.urn]));
        expect(cron.opts?.dependsOn).toContain(job.urn);
        // The rehearsal of a first up: the migrations, then the registry, then the CronJob, with no finding.
        const rehearsal = rehearse(fromSnapshots(dev.resources));
        const at = (name: string, type: string) => rehearsal.schedule.find((s) => s.name === name && s.type === type)!;
        const [migrated, synced, metering] = [at("dev-billing-migrate", migrate.type), at("dev-billing-registry-sync", job.type), at("dev-billing-metering", cron.type)];
        expect(synced.startSeconds).toBeGreaterThanOrEqual(migrated.startSeconds + migrated.seconds);
        expect(metering.startSeconds).toBeGreaterThanOrEqual(synced.startSeconds + synced.seconds);
        expect(synced.seconds).toBeGreaterThan(0);
        expect(rehearsal.findings).toEqual([]);
        // Its own database role, through its own Pod Identity association, which its pods wait for.
        const association = ofType(dev.resources, TYPES.eksPodIdentityAssociation).find((a) => a.props.serviceAccount === "billing-registry")!;
        expect(job.opts?.dependsOn).toContain(association.urn);
        expect(association.props.namespace).toBe("billing");
    });

    it("shows reviewers what is sold and a month of it, and what a change does to each tenant's charge", () => {
        const at = new Date("2026-12-06T00:00:00Z");
        const evidence = billingEvidence(dev.resources, at)!;
        // The plan document carries the registry exactly as the ConfigMap holds it.
        const map = ofType(dev.resources, "kubernetes:core/v1:ConfigMap").find((c) => c.name === "dev-billing-registry")!;
        expect(billingJson(evidence).billing!.registry).toEqual(JSON.parse(map.props.data["registry.json"]));
        // acme: 6 reserved at 1.95 and 4 dedicated at 2.10, 10% off, for 730 hours; globex: 4 reserved;
        // initech: its dedicated endpoint's replica at 2.40 a replica-hour (not a pool's GPUs: in no pool row).
        expect(evidence.monthly.tenants.map((t) => [t.tenant, t.monthly])).toEqual([
            ["acme", "13205.70"],
            ["globex", "5694.00"],
            ["initech", "1752.00"],
        ]);
        expect(evidence.monthly.pools).toEqual([
            { pool: "acme-l40s", gpuModel: "l40s", role: "dedicated", soldGpus: 4, unitPrice: "2.1", monthly: "5518.80" },
            { pool: "shared-l40s", gpuModel: "l40s", role: "shared", soldGpus: 10, unitPrice: "1.95", monthly: "13380.90" },
        ]);
        const lines = billingLines(evidence).join("\n");
        expect(lines).toContain("Committed a month: USD 20,651.70");
        expect(lines).toContain("spot up to 4 on shared-l40s at 0.85/GPU-hour");
        // globex's quota raised from 4 to 6: its charge becomes 8,541.00.
        const raised = JSON.parse(map.props.data["registry.json"]);
        raised.tenants[1].commitments[0].quantity = 6;
        const change = { op: "update", type: map.type, name: map.name, old: { props: map.props }, new: { props: { ...map.props, data: { "registry.json": JSON.stringify(raised) } } } };
        const money = billingChanges({ changes: [change] } as unknown as PlanChanges, at);
        expect(billingChangeLines(money)).toEqual(["Monthly charges (commitments, a month of 730 hours at the prices in force on the plan's date, USD)", "  globex: 5,694.00 -> 8,541.00 (+2,847.00)"]);
    });

    it("alerts when a metering window has not been written, and shows billing panels", () => {
        const { rules, dashboards } = monitoringFromResources(dev.resources);
        expect(rules.map((r) => r.alert)).toContain("MeteringWindowMissed");
        expect(dashboards).toContain("Billing and metering");
    });

    it("is optional, and its config is checked", () => {
        const bad = devStackConfig();
        bad["compute-region:billing"].meteringImage = "metering:latest";
        bad["compute-region:billing"].backupRetentionDays = 7;
        bad["compute-region:billing"].engineVersion = "15.4";
        try {
            parseRegionConfig(Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])), "dev");
            throw new Error("accepted");
        } catch (e) {
            const problems = (e as ConfigError).problems.join("\n");
            expect(problems).toContain("compute-region:billing.meteringImage: must be an image referenced by digest");
            expect(problems).toContain("compute-region:billing.backupRetentionDays: must be at least 14 days, got 7");
            expect(problems).toContain('compute-region:billing.engineVersion: must be PostgreSQL 16 or later, given as the major version such as "16", got "15.4"');
        }
    });

    it("takes the major version only, and never an image from the repository the stack creates", () => {
        const bad = devStackConfig();
        bad["compute-region:billing"].engineVersion = "16.6";
        bad["compute-region:billing"].meteringImage = `111122223333.dkr.ecr.us-east-2.amazonaws.com/compute-region/${bad["compute-region:cluster"].name}/metering@sha256:${"a".repeat(64)}`;
        try {
            parseRegionConfig(Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])), "dev");
            throw new Error("accepted");
        } catch (e) {
            const problems = (e as ConfigError).problems.join("\n");
            expect(problems).toContain('compute-region:billing.engineVersion: must be the major version only, such as "16"');
            expect(problems).toContain("compute-region:billing.meteringImage: points into compute-region/gpu-dev-use2/metering, the repository this stack creates");
        }
    });

    it("tags the built image by a hash of what the build sees, so an immutable repository never gets a tag twice", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "source-tag-"));
        fs.mkdirSync(path.join(dir, "billing"));
        fs.mkdirSync(path.join(dir, "node_modules"));
        fs.writeFileSync(path.join(dir, ".dockerignore"), "node_modules\n");
        fs.writeFileSync(path.join(dir, "billing", "cli.ts"), "one");
        const first = sourceTag(dir);
        fs.writeFileSync(path.join(dir, "node_modules", "x.js"), "ignored");
        expect(sourceTag(dir)).toBe(first);
        fs.writeFileSync(path.join(dir, "billing", "cli.ts"), "two");
        expect(sourceTag(dir)).not.toBe(first);
        fs.writeFileSync(path.join(dir, ".dockerignore"), "*.log\n");
        expect(() => sourceTag(dir)).toThrow(/is a pattern/);
    });
});
