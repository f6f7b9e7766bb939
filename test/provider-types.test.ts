import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePolicies, UNKNOWN } from "compute-region-policies/engine";
import { policies } from "compute-region-policies/rules";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import { PROVIDER_TYPES, previewOutputs } from "../offline/preview-outputs";
import { PROVIDER_TYPES_FILE, readProviderTypes } from "../scripts/provider-types";
import { planCli } from "./cli";
import { ofType, plan, ROOT } from "./helpers";

/** Every resource the checked-in stacks plan: dev, the platform and both shards. */
let planned: ResourceSnapshot[];
let dev: ResourceSnapshot[];
beforeAll(async () => {
    dev = (await plan()).resources;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-types-"));
    const cli = async (args: string[]) => {
        const r = await planCli([...args, "--quiet"]);
        expect(r.status, r.stderr).toBe(0);
    };
    await cli(["--stack", "dev-platform", "--json", `${dir}/platform.json`]);
    const docs = [`${dir}/platform.json`];
    for (const shard of ["dev-shard-a", "dev-shard-b"]) {
        await cli(["--stack", shard, "--stack-outputs", `compute-region/dev-platform=${dir}/platform.json`, "--json", `${dir}/${shard}.json`]);
        docs.push(`${dir}/${shard}.json`);
    }
    planned = [...dev, ...docs.flatMap((f) => (JSON.parse(fs.readFileSync(f, "utf8")) as { resources: ResourceSnapshot[] }).resources)];
});

/** True when @pulumi/kubernetes has a class of its own for a type token (so it must have facts). */
function kubernetesHasClass(type: string): boolean {
    const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
    if (!m) return false;
    const group = m[1] === "core" ? "core" : m[1].split(".")[0];
    const file = `${m[3].charAt(0).toLowerCase()}${m[3].slice(1)}.d.ts`;
    return fs.existsSync(path.join(ROOT, "node_modules/@pulumi/kubernetes", group, m[2], file));
}

describe("the providers' type facts (offline/provider-types.json)", () => {
    it("are current: regenerated from the installed SDKs they are the same (npm run provider-types)", () => {
        expect(JSON.parse(fs.readFileSync(path.join(ROOT, PROVIDER_TYPES_FILE), "utf8"))).toEqual(readProviderTypes(ROOT));
    });

    it("cover every resource type the checked-in stacks plan", () => {
        const custom = [...new Set(planned.filter((r) => r.custom && !r.type.startsWith("pulumi:")).map((r) => r.type))];
        expect(custom.length).toBeGreaterThan(60);
        const missing = custom.filter((t) => !PROVIDER_TYPES.resources[t] && (!t.startsWith("kubernetes:") || kubernetesHasClass(t)));
        expect(missing).toEqual([]);
        // The kinds without facts are custom resources: @pulumi/kubernetes has no class for them.
        expect(custom.filter((t) => !PROVIDER_TYPES.resources[t])).toContain("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue");
    });

    it("read computed attributes as unknown and optional ones as absent (known cases of the AWS provider)", () => {
        const cluster = PROVIDER_TYPES.resources["aws:eks/cluster:Cluster"].previewUnknown;
        expect(cluster).toEqual(expect.arrayContaining(["arn", "endpoint", "certificateAuthority", "vpcConfig.clusterSecurityGroupId", "vpcConfig.vpcId", "identities"]));
        expect(cluster).not.toContain("vpcConfig.securityGroupIds");
        expect(cluster).not.toContain("vpcConfig.endpointPrivateAccess");
        expect(PROVIDER_TYPES.resources["aws:ec2/vpc:Vpc"].previewUnknown).toEqual(expect.arrayContaining(["defaultSecurityGroupId", "mainRouteTableId", "arn"]));
        for (const optional of ["ipv4IpamPoolId", "tags", "enableDnsSupport"]) expect(PROVIDER_TYPES.resources["aws:ec2/vpc:Vpc"].previewUnknown).not.toContain(optional);
        expect(PROVIDER_TYPES.resources["random:index/randomPassword:RandomPassword"].previewUnknown).toContain("result");
    });

    it("leave Kubernetes objects their inputs (an unreachable cluster cannot dry-run): only output-only properties are unknown", () => {
        expect(PROVIDER_TYPES.resources["kubernetes:core/v1:Namespace"].previewUnknown).toEqual(["status"]);
        expect(PROVIDER_TYPES.resources["kubernetes:helm.sh/v3:Release"].previewUnknown.sort()).toEqual(["resourceNames", "status"]);
    });

    it("name every provider config key with its type, from ProviderArgs", () => {
        expect(PROVIDER_TYPES.providerConfig.aws.region).toEqual({ type: "string" });
        expect(PROVIDER_TYPES.providerConfig.aws.skipCredentialsValidation).toEqual({ type: "boolean" });
        expect(PROVIDER_TYPES.providerConfig.aws.assumeRoles).toMatchObject({ type: "array", items: { type: "object", properties: { roleArn: { type: "string" } } } });
        expect(PROVIDER_TYPES.providerConfig.random).toEqual({});
    });
});

describe("create preview outputs", () => {
    it("fill computed properties, nested and in lists, with unknowns, and keep what the program set", () => {
        const out = previewOutputs("aws:eks/cluster:Cluster", { name: "c", vpcConfig: { subnetIds: ["s"], publicAccessCidrs: ["1.2.3.0/24"] } });
        expect(out).toMatchObject({ name: "c", arn: UNKNOWN, vpcConfig: { subnetIds: ["s"], publicAccessCidrs: ["1.2.3.0/24"], clusterSecurityGroupId: UNKNOWN, vpcId: UNKNOWN } });
        expect((out.vpcConfig as Record<string, unknown>).securityGroupIds).toBeUndefined();
        const lt = previewOutputs("aws:ec2/launchTemplate:LaunchTemplate", { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 100 } }] });
        expect((lt.blockDeviceMappings as any)[0].ebs).toEqual({ volumeSize: 100, iops: UNKNOWN, throughput: UNKNOWN, volumeInitializationRate: UNKNOWN, volumeType: UNKNOWN });
    });

    it("refuse a provider type the facts do not know, rather than guess", () => {
        expect(() => previewOutputs("aws:sns/topic:Topic", {})).toThrow("offline/provider-types.json has no facts for aws:sns/topic:Topic: run npm run provider-types");
        expect(previewOutputs("kubernetes:example.com/v1:Widget", { spec: { a: 1 } })).toEqual({ spec: { a: 1 } });
    });

    it("reach the program: the billing clients' SecurityGroupPolicy and the GPU launch templates get unknown group ids, never null", () => {
        const sgp = ofType(dev, "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy")[0];
        expect(sgp.props.spec.securityGroups.groupIds).toEqual([UNKNOWN, UNKNOWN]);
        const nulls = (v: unknown, at: string): string[] =>
            v === null ? [at] : Array.isArray(v) ? v.flatMap((x, i) => nulls(x, `${at}[${i}]`)) : typeof v === "object" && v !== undefined ? Object.entries(v as object).flatMap(([k, x]) => nulls(x, `${at}.${k}`)) : [];
        // An absent output the program passes on arrives as null: none may be left in any planned input.
        expect(dev.flatMap((r) => nulls(r.props, r.name))).toEqual([]);
    });

    it("are what stack policies see, as CrossGuard's analyzeStack hands them outputs", () => {
        const cluster = dev.find((r) => r.type === "aws:eks/cluster:Cluster")!;
        expect((cluster.outputs!.vpcConfig as Record<string, unknown>).clusterSecurityGroupId).toBe(UNKNOWN);
        expect((cluster.props.vpcConfig as Record<string, unknown>).clusterSecurityGroupId).toBeUndefined();
        // The admin entries name their group, so it is known at preview; left to EKS it would be
        // unknown, and tenant-rbac-confined could not run, as in a real preview.
        const rbac = policies.filter((p) => p.name === "tenant-rbac-confined");
        expect(evaluatePolicies(dev, { policies: rbac }).notRun).toEqual([]);
        const groupsLeftToEks = dev.map((r) => {
            if (r.type !== "aws:eks/accessEntry:AccessEntry" || r.name !== "dev-cluster-deployer") return r;
            const { kubernetesGroups: _g, ...props } = r.props;
            return { ...r, props, outputs: previewOutputs(r.type, props) };
        });
        const result = evaluatePolicies(groupsLeftToEks, { policies: rbac });
        expect(result.notRun.map((n) => n.message)).toEqual([expect.stringContaining("at .kubernetesGroups can't be known during preview")]);
    });
});
