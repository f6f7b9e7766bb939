import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DATA_TYPES, TYPES } from "compute-region-policies/model";
import { UNKNOWN } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "../offline/harness";
import { monitoringFromResources } from "../offline/evidence";
import { ConfigError, parseRegionConfig } from "../stacks/config";
import { sourceTag } from "../stacks/image-source";
import { devStackConfig, ofType, one, plan } from "./helpers";

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
        // Pods get their branch ENI at admission: the migration Job and the metering CronJob come after the policy.
        for (const type of ["kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"]) expect(one(dev.resources, type).opts?.dependsOn).toContain(sgp.urn);
        // Nothing connects to the client pods, and the preview knows it.
        expect(clients.props.ingress).toEqual([]);
    });

    it("applies the migrations with a Job from a ConfigMap, and meters hourly with a CronJob, both by image digest", () => {
        const cm = ofType(dev.resources, "kubernetes:core/v1:ConfigMap").find((c) => c.props.metadata.name === "billing-migrations")!;
        expect(Object.keys(cm.props.data)).toEqual(["0001_core_schema.sql", "0002_invoices.sql", "0003_roles.sql"]);
        const job = one(dev.resources, "kubernetes:batch/v1:Job");
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
        const cron = one(dev.resources, "kubernetes:batch/v1:CronJob");
        expect(cron.props.spec).toMatchObject({ schedule: "5 * * * *", concurrencyPolicy: "Forbid" });
        expect(cron.props.spec.jobTemplate.spec.template.spec.containers[0].env).toContainEqual({ name: "PGIAMAUTH", value: "true" });
        const repo = one(dev.resources, DATA_TYPES.ecrRepository);
        expect(repo.props).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
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
