import { describe, expect, it } from "vitest";
import { parseRegionConfig } from "../stacks/config";
import * as path from "node:path";
import { benchConfig } from "../scripts/bench-config";
import { configProblems, devStackConfig, engineValues, ROOT } from "./helpers";

const problemsOf = configProblems;

describe("stack config", () => {
    it("accepts the dev stack and fills in defaults", () => {
        const config = parseRegionConfig(engineValues(devStackConfig()), "dev");
        expect(config.region).toBe("us-east-2");
        expect(config.availabilityZones).toHaveLength(3);
        expect(config.network.subnetPrefixLengths).toEqual({ public: 24, private: 18, isolated: 24 });
        expect(config.cluster.systemNodeGroup.diskSizeGiB).toBe(100);
    });

    const cases: [string, (c: Record<string, any>) => void, string][] = [
        ["a typo in a top-level key", (c) => (c["compute-region:netwrok"] = c["compute-region:network"]), 'Pulumi.dev.yaml: compute-region:netwrok: unknown key'],
        ["a typo inside an object", (c) => (c["compute-region:cluster"].kubernetesVerison = "1.34"), 'Pulumi.dev.yaml: compute-region:cluster: unknown key "kubernetesVerison"'],
        ["a CIDR that does not parse", (c) => (c["compute-region:network"].vpcCidr = "10.40.0.0/33"), 'Pulumi.dev.yaml: compute-region:network.vpcCidr: is not a valid IPv4 CIDR, got "10.40.0.0/33"'],
        ["a CIDR with host bits", (c) => (c["compute-region:network"].vpcCidr = "10.40.1.0/16"), "compute-region:network.vpcCidr: has host bits set: the network address of 10.40.1.0/16 is 10.40.0.0/16"],
        ["an AZ outside the region", (c) => (c["compute-region:availabilityZones"][1] = "us-west-2b"), 'Pulumi.dev.yaml: compute-region:availabilityZones[1]: must be an availability zone of us-east-2 (such as us-east-2a), got "us-west-2b"'],
        ["a repeated AZ", (c) => (c["compute-region:availabilityZones"][2] = "us-east-2a"), 'compute-region:availabilityZones[2]: must be unique: already used at [0], got "us-east-2a"'],
        ["a service CIDR overlapping the VPC", (c) => (c["compute-region:cluster"].serviceCidr = "10.40.128.0/20"), 'compute-region:cluster.serviceCidr: must not overlap the VPC CIDR 10.40.0.0/16, got "10.40.128.0/20"'],
        ["an unsupported Kubernetes version", (c) => (c["compute-region:cluster"].kubernetesVersion = "1.21"), 'compute-region:cluster.kubernetesVersion: must be one of 1.31, 1.32, 1.33, 1.34, 1.35 (a quoted string such as "1.34"), got "1.21"'],
        ["a number where a string belongs", (c) => (c["compute-region:cluster"].kubernetesVersion = 1.34), "compute-region:cluster.kubernetesVersion: must be one of"],
        ["a public endpoint open to the world", (c) => (c["compute-region:cluster"].endpoint.publicAccessCidrs = ["0.0.0.0/0"]), 'compute-region:cluster.endpoint.publicAccessCidrs[0]: must not be 0.0.0.0/0'],
        ["a public endpoint with no allow-list", (c) => (c["compute-region:cluster"].endpoint.publicAccessCidrs = []), "compute-region:cluster.endpoint.publicAccessCidrs: must list the CIDRs allowed"],
        ["a role that is not an IAM role ARN", (c) => (c["compute-region:cluster"].deployerRoleArn = "PulumiDeployer"), 'compute-region:cluster.deployerRoleArn: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "PulumiDeployer"'],
        ["a missing required key", (c) => delete c["compute-region:cluster"].name, "Pulumi.dev.yaml: compute-region:cluster.name: is required"],
        ["a missing region", (c) => delete c["aws:region"], "Pulumi.dev.yaml: aws:region: is required"],
        ["a retention CloudWatch does not offer", (c) => (c["compute-region:network"].flowLogRetentionDays = 100), "compute-region:network.flowLogRetentionDays: must be a CloudWatch Logs retention period"],
        ["max below min", (c) => (c["compute-region:cluster"].systemNodeGroup.maxSize = 1), "compute-region:cluster.systemNodeGroup.maxSize: must be at least minSize (2), got 1"],
        ["a single AZ", (c) => (c["compute-region:availabilityZones"] = ["us-east-2a"]), "compute-region:availabilityZones: must list at least 2 availability zones"],
        ["the deployer also an admin", (c) => c["compute-region:cluster"].adminRoleArns.push(c["compute-region:cluster"].deployerRoleArn), "compute-region:cluster.deployerRoleArn: must not also be listed in adminRoleArns"],
    ];
    it.each(cases)("rejects %s with a message naming the key", (_what, mutate, expected) => {
        const problems = problemsOf(mutate);
        expect(problems.some((p) => p.includes(expected)), `expected "${expected}" in:\n${problems.join("\n")}`).toBe(true);
        for (const p of problems) expect(p).toMatch(/^Pulumi\.dev\.yaml: /);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf((c) => {
            c["compute-region:network"].vpcCidr = "not-a-cidr";
            c["compute-region:cluster"].deployerRoleArn = "nope";
            c["compute-region:cluster"].extra = true;
        });
        expect(problems).toHaveLength(3);
    });

    it("names the file it read in every message", () => {
        const config = devStackConfig();
        config["compute-region:network"].vpcCidr = "x";
        expect(() => parseRegionConfig(engineValues(config), "prod", "stacks/Pulumi.prod-use1.yaml")).toThrow(/^invalid stack configuration \(1 problem\):\n  stacks\/Pulumi\.prod-use1\.yaml: compute-region:network\.vpcCidr: /);
    });

    it("ignores other namespaces' keys but checks its own completely", () => {
        const config = devStackConfig();
        config["kubernetes:enableServerSideApply"] = "true";
        expect(() => parseRegionConfig(engineValues(config), "dev")).not.toThrow();
    });
});

describe("the benchmark's generated regions (npm run bench)", () => {
    it("are valid stack configs at every size the bench plans, whatever the dev stack they scale has grown", () => {
        for (const tenants of [10, 100, 1000]) {
            const config = parseRegionConfig(engineValues(benchConfig(path.join(ROOT, "Pulumi.dev.yaml"), tenants)), `bench-${tenants}`);
            expect(config.tenants).toHaveLength(tenants);
            expect(config.models.filter((m) => m.batch)).toEqual([]);
        }
    });
});
