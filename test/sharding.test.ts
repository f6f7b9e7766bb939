import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { K8S_TYPES } from "compute-region-policies/model";
import { planCli } from "./cli";
import { ROOT, writeStackFile } from "./helpers";

const PLATFORM = "compute-region/dev-platform";
let dir: string;
let platformJson: string;

const plan = planCli;
const stackConfig = (stack: string) => (parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> }).config;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "shards-"));
    platformJson = path.join(dir, "platform.json");
    const r = await plan(["--stack", "dev-platform", "--json", platformJson]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
});

describe("a sharded dev region", () => {
    it("plans the platform with every policy passing, the shards' budgets counted as sold", async () => {
        const doc = JSON.parse(fs.readFileSync(platformJson, "utf8"));
        expect(doc.policy.summary.mandatoryViolations).toBe(0);
        expect(doc.capacity.find((c: { pool: string }) => c.pool === "shared-l40s")).toMatchObject({ sellable: 12, sold: 12, free: 0 });
        expect(doc.outputs.shards).toEqual({ a: { "shared-l40s": 6 }, b: { "shared-l40s": 6 } });
        const cohorts = doc.resources.filter((r: { type: string }) => r.type === K8S_TYPES.cohort).map((r: any) => [r.props.metadata.name, r.props.spec.parentName, r.props.metadata.annotations["compute-region.io/gpu-budget"]]);
        expect(cohorts).toEqual([
            ["shard-a-shared-l40s", "pool-shared-l40s", "6"],
            ["shard-b-shared-l40s", "pool-shared-l40s", "6"],
        ]);
        // The guardrails are cluster-wide: the platform installs them for the shards' tenants.
        expect(doc.resources.filter((r: { type: string }) => r.type.endsWith("ValidatingAdmissionPolicyBinding"))).toHaveLength(5);
    });

    it.each(["dev-shard-a", "dev-shard-b"])("plans %s from the platform's outputs with every policy passing and no path to other shards", async (stack) => {
        const out = path.join(dir, `${stack}.json`);
        const r = await plan(["--stack", stack, "--stack-outputs", `${PLATFORM}=${platformJson}`, "--json", out]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const doc = JSON.parse(fs.readFileSync(out, "utf8"));
        expect(doc.policy.summary).toMatchObject({ mandatoryViolations: 0, errors: 0, notRun: 0 });
        expect(doc.isolation.pathsFound).toBe(0);
        const queues = doc.resources.filter((x: { type: string }) => x.type.endsWith(":ClusterQueue"));
        for (const q of queues) expect(q.props.spec.cohort).toMatch(new RegExp(`^shard-${stack.slice(-1)}-`));
        expect(doc.resources.filter((x: { type: string }) => x.type.endsWith(":Namespace")).every((n: any) => n.props.metadata.labels["compute-region.io/shard"] === stack.slice(-1))).toBe(true);
        // Its tenants are billed by a registry Job of its own on the platform's cluster, at the platform's prices.
        const registry = doc.billing.registry;
        expect(registry.scope).toBe(`shard:${stack.slice(-1)}`);
        expect(registry.prices).toEqual(JSON.parse(fs.readFileSync(platformJson, "utf8")).outputs.billing.prices);
        expect(registry.tenants.map((t: { name: string }) => t.name)).toEqual(stackConfig(stack)["compute-region:tenants"].map((t: { name: string }) => t.name).sort());
        const job = doc.resources.find((x: any) => x.type === K8S_TYPES.job);
        expect(job.props.metadata.name).toMatch(new RegExp(`^billing-registry-shard-${stack.slice(-1)}-[0-9a-f]{10}$`));
    });

    it("fails a shard that exceeds its budget, naming the pool and the shard", async () => {
        const config = stackConfig("dev-shard-a");
        config["compute-region:tenants"][0].quota["shared-l40s"] = 5; // 5 + 2 = 7 > 6
        const r = await plan(["--stack", "dev-shard-a", "--config-file", writeStackFile(config, "Pulumi.dev-shard-a.yaml"), "--stack-outputs", `${PLATFORM}=${platformJson}`]);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("shard a oversells pool shared-l40s: its tenants hold 7 reserved GPUs (acme-shared-l40s, umbrella-shared-l40s), but its budget is 6");
    });

    it("fails a platform whose shard budgets exceed a pool's sellable GPUs", async () => {
        const config = stackConfig("dev-platform");
        config["compute-region:shards"][0].budget["shared-l40s"] = 7;
        const r = await plan(["--stack", "dev-platform", "--config-file", writeStackFile(config, "Pulumi.dev-platform.yaml")]);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("pool shared-l40s is oversold: tenants hold 13 reserved GPUs, but only 12 are sellable (16 guaranteed, headroom 25% keeps 4)");
    });

    it("needs the platform's outputs to plan a shard", async () => {
        const r = await plan(["--stack", "dev-shard-a"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("pass --stack-outputs compute-region/dev-platform=FILE");
    });
});

describe("isolation across shards, by label convention", () => {
    it("flags a shard's policy that names another shard's tenant namespace", async () => {
        const { isolationFromResources } = await import("compute-region-policies/model");
        const out = path.join(dir, "a.json");
        expect((await plan(["--stack", "dev-shard-a", "--stack-outputs", `${PLATFORM}=${platformJson}`, "--json", out])).status).toBe(0);
        const resources = JSON.parse(fs.readFileSync(out, "utf8")).resources;
        const np = (name: string, spec: Record<string, unknown>) => ({ urn: `urn:x::${name}`, type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name, props: { metadata: { name, namespace: "tenant-acme" }, spec } });
        const toGlobex = np("to-globex", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "tenant-globex" } } }] }] });
        const fromAll = np("from-all", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: {} }] }] });
        const paths = isolationFromResources([...resources, toGlobex, fromAll]).paths.map((p) => `${p.kind}: ${p.from} -> ${p.to} via ${[...p.egress, ...p.ingress].join(", ")}`);
        expect(paths).toContain("tenant-to-other-shard: tenant-acme -> (other shards' tenants) via tenant-acme/to-globex, unknown (another stack)");
        expect(paths).toContain("other-shard-to-tenant: (other shards' tenants) -> tenant-acme via unknown (another stack), tenant-acme/from-all");
    });
});
