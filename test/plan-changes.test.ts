import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { containsUnknown, evaluatePolicies, forType, ResourceSnapshot, resourcePolicy, UNKNOWN } from "compute-region-policies/engine";
import { addonVersionPin, durationSeconds, K8S_TYPES, TYPES } from "compute-region-policies/model";
import { changePolicies } from "compute-region-policies/changes";
import { startComparison } from "../offline/compare";
import { checkpointFromPlan, planDeployed } from "../offline/deployed-state";
import { diffResources, ENGINE_MESSAGES, PlanChanges } from "../offline/diff";
import { checkedResourceInputs } from "../offline/provider-check";
import { REPLACEMENT_RULES } from "../offline/rules";
import { readProject, readStackConfig } from "../offline/project";
import { PriorState, priorResources, readCheckpoint, readPlanDocument } from "../offline/state";
import { regionProgram } from "../stacks/program";
import { planCli, planProcess } from "./cli";
import { devStackConfig, plan, ROOT, writeStackFile } from "./helpers";

const FACTS = { region: "us-east-2", accountId: "111122223333" };
const DEV = { project: "compute-region", stack: "dev" };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-changes-"));

/** The state `pulumi stack export` would print had this config been deployed (ids and computed outputs made up). */
async function exportedState(config: Record<string, unknown>, stack = "dev", options: { features?: string[] } = {}) {
    const project = readProject(ROOT);
    const engineConfig = readStackConfig(project, stack, writeStackFile(config));
    const deployed = await planDeployed({ project, stack, config: engineConfig, facts: FACTS, program: regionProgram }, FACTS);
    return checkpointFromPlan(deployed, { ...FACTS, config: engineConfig.values, ...options });
}

function writeJson(name: string, doc: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
    return file;
}

/** The plan of `config` against a state, as `npm run plan -- --state` runs it, in-process. */
async function planAgainst(config: Record<string, unknown>, prior: PriorState, stack = "dev"): Promise<{ resources: ResourceSnapshot[]; changes: PlanChanges }> {
    const engineValues = readStackConfig(readProject(ROOT), stack, writeStackFile(config)).values;
    const comparison = startComparison(prior, { stack, project: "compute-region", config: engineValues });
    const result = await plan(config, stack, { onRegister: comparison.onRegister });
    return { resources: result.resources, changes: comparison.finish(result.resources) };
}

const named = (changes: PlanChanges, type: string, name: string) => changes.changes.find((c) => c.type === type && c.name === name)!;
const ops = (changes: PlanChanges) => Object.fromEntries(Object.entries(changes.counts).filter(([, n]) => n > 0));
const tenants = (config: Record<string, any>) => config["compute-region:tenants"] as Record<string, any>[];

/** `npm run plan` in-process (test/cli.ts); the exit-5 test runs it as a process. */
const runPlanCli = planCli;

let checkpoint: Awaited<ReturnType<typeof exportedState>>;
let stateFile: string;
let state: PriorState;

beforeAll(async () => {
    checkpoint = await exportedState(devStackConfig());
    stateFile = writeJson("dev-state.json", checkpoint);
    state = readCheckpoint(stateFile, DEV);
});

describe("a checkpoint in pulumi stack export's format, built from the dev stack's plan", () => {
    it("is version 3 with the root stack first, ids, secrets encrypted and provider references", () => {
        expect(checkpoint.version).toBe(3);
        const resources = checkpoint.deployment.resources as Record<string, any>[];
        expect(resources[0]).toMatchObject({ type: "pulumi:pulumi:Stack", custom: false });
        for (const r of resources) expect(Object.keys(r)).toEqual(expect.arrayContaining(["urn", "type", "custom"]));
        for (const r of resources.filter((x) => x.custom)) expect(r.id, r.urn).toEqual(expect.any(String));
        // A default provider comes before the first resource that uses it, and references name it with its id.
        const aws = resources.findIndex((r) => r.type === "pulumi:providers:aws");
        const vpc = resources.find((r) => r.type === TYPES.vpc)!;
        expect(aws).toBeLessThan(resources.indexOf(vpc));
        expect(vpc.provider).toBe(`${resources[aws].urn}::${resources[aws].id}`);
        // The engine's version and __internal, and the AWS provider's CheckConfig defaults; outputs without __internal.
        expect(resources[aws].inputs).toEqual({ region: "us-east-2", version: "7.48.0", __internal: {}, skipCredentialsValidation: "false", skipRegionValidation: "true" });
        expect(resources[aws].outputs).toEqual({ region: "us-east-2", version: "7.48.0", skipCredentialsValidation: "false", skipRegionValidation: "true" });
        // Secrets are ciphertext, never the value.
        const text = JSON.stringify(checkpoint);
        expect(text).toContain('"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext"');
        expect(text).not.toMatch(/"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","(value|plaintext)"/);
    });

    it("has what pulumi stack export writes at v3.248.0: the manifest's magic, metadata, created and modified, and the inputs as the providers' Check stored them", () => {
        const { manifest, metadata } = checkpoint.deployment;
        // ManifestV1.NewMagic: sha256 of the engine version; pulumi stack import refuses any other.
        expect(manifest).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), magic: createHash("sha256").update("v3.248.0").digest("hex"), version: "v3.248.0" });
        expect(metadata).toEqual({});
        const resources = checkpoint.deployment.resources as Record<string, any>[];
        expect(resources.length).toBeGreaterThan(300);
        for (const r of resources) expect([r.created, r.modified], r.urn).toEqual([manifest.time, manifest.time]);
        const named = (type: string, name: string) => resources.find((r) => r.type === type && r.urn.endsWith(`::${name}`))!;
        // The explicit Kubernetes provider: the version its SDK registers it with, and the engine's __internal.
        expect(named("pulumi:providers:kubernetes", "dev-cluster-k8s").inputs).toMatchObject({ version: "4.34.2", __internal: {} });
        // AWS SDKv2 resources: the region and tagsAll the provider's Check adds, and the bridge's __defaults.
        const vpc = named(TYPES.vpc, "dev-network-vpc");
        expect(vpc.inputs).toMatchObject({ region: "us-east-2", tagsAll: vpc.inputs.tags, __defaults: [] });
        expect(vpc.outputs).toMatchObject({ region: "us-east-2", tagsAll: vpc.inputs.tags, id: vpc.id });
        // IAM is global: no region. A Plugin Framework resource: the region, but neither tagsAll nor __defaults.
        const role = resources.find((r) => r.type === TYPES.iamRole)!;
        expect(Object.keys(role.inputs)).not.toContain("region");
        expect(role.inputs.tagsAll).toEqual(role.inputs.tags);
        const association = resources.find((r) => r.type === TYPES.eksPodIdentityAssociation)!;
        expect(association.inputs.region).toBe("us-east-2");
        expect(Object.keys(association.inputs)).not.toEqual(expect.arrayContaining(["tagsAll"]));
        expect(Object.keys(association.inputs)).not.toContain("__defaults");
    });

    it("writes version 4 and its features when asked", async () => {
        const v4 = await exportedState(devStackConfig(), "dev", { features: ["taint"] });
        expect(v4).toMatchObject({ version: 4, features: ["taint"] });
    });
});

describe("reading an earlier state strictly", () => {
    const bad = (doc: unknown, flag: "state" | "against" = "state") => () => (flag === "state" ? readCheckpoint(writeJson(`bad-${Math.random()}.json`, doc), DEV) : readPlanDocument(writeJson(`bad-${Math.random()}.json`, doc), DEV));

    it("refuses truncated JSON, saying so", () => {
        const text = JSON.stringify(checkpoint);
        expect(bad(text.slice(0, Math.floor(text.length / 2)))).toThrow(/the JSON ends early .*truncated\?/);
    });

    it("refuses format versions it does not know", () => {
        expect(bad({ ...checkpoint, version: 5 })).toThrow(/has format version 5, newer than this reader knows \(it reads versions 3 and 4/);
        expect(bad({ ...checkpoint, version: 2 })).toThrow(/has format version 2, older than this reader knows/);
        expect(bad({ deployment: checkpoint.deployment })).toThrow(/has no format version/);
    });

    it("refuses features it does not know, and those it cannot plan", () => {
        expect(bad({ ...checkpoint, version: 4, features: ["teleport"] })).toThrow(/uses the deployment feature teleport, which this reader does not know/);
        expect(bad({ ...checkpoint, version: 4, features: ["views"] })).toThrow(/uses the deployment feature views \(view resources a provider owns .*\), which this reader does not plan/);
        expect(() => readCheckpoint(writeJson("v4-taint.json", { ...checkpoint, version: 4, features: ["taint"] }), DEV)).not.toThrow();
    });

    it("refuses a checkpoint whose magic is not its engine version's, as pulumi stack import does", () => {
        const manifest = checkpoint.deployment.manifest;
        expect(bad({ ...checkpoint, deployment: { ...checkpoint.deployment, manifest: { ...manifest, magic: "0".repeat(64) } } })).toThrow(/magic "0{64}" is not the one engine "v3\.248\.0" writes .*magic cookie mismatch/);
        expect(bad({ ...checkpoint, deployment: { ...checkpoint.deployment, manifest: { ...manifest, version: "v3.249.0" } } })).toThrow(/is not the one engine "v3\.249\.0" writes/);
    });

    it("refuses pending operations it cannot read, naming the entry", () => {
        const withPending = (ops: unknown) => ({ ...checkpoint, deployment: { ...checkpoint.deployment, pending_operations: ops } });
        expect(bad(withPending({}))).toThrow(/deployment\.pending_operations must be a list/);
        expect(bad(withPending([{ type: "creating" }]))).toThrow(/pending_operations\[0\]: must have "resource" with "urn" and "type"/);
        expect(bad(withPending([{ type: "teleporting", resource: { urn: checkpoint.deployment.resources[0].urn, type: "x" } }]))).toThrow(/"type" must be one of creating, updating, deleting, reading, importing, got "teleporting"/);
    });

    it("refuses the state of another stack or project, naming both", () => {
        expect(() => readCheckpoint(stateFile, { project: "compute-region", stack: "prod-use1" })).toThrow(/is the state of compute-region\/dev, not of compute-region\/prod-use1 .*pulumi stack export -s prod-use1/);
        expect(() => readCheckpoint(stateFile, { project: "other", stack: "dev" })).toThrow(/is the state of compute-region\/dev, not of other\/dev/);
    });

    it("tells a plan document from a stack export", () => {
        expect(bad({ stack: "dev", project: "compute-region", resources: [] })).toThrow(/is a plan document, not a stack export: pass it with --against/);
        expect(bad(checkpoint, "against")).toThrow(/is a stack export, not a plan document: pass it with --state/);
        expect(bad({ stack: "prod", project: "compute-region", resources: [] }, "against")).toThrow(/is a plan of compute-region\/prod, not of compute-region\/dev/);
    });
});

describe("the dev stack against its own state", () => {
    // The unchanged config against its own state, planned once for both tests (read only).
    let own: ReturnType<typeof planAgainst> | undefined;
    const againstOwnState = () => (own ??= planAgainst(devStackConfig(), state));

    it("changes nothing: every resource, provider and component is matched and the same", async () => {
        const { changes } = await againstOwnState();
        expect(changes.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0, same: checkpoint.deployment.resources.length });
        expect(changes.protectErrors).toEqual([]);
        expect(changes.unruled).toEqual([]);
        expect(changes.changes.filter((c) => c.type.startsWith("pulumi:providers:")).map((c) => c.name).sort()).toEqual(["default", "default_0_0_22", "default_4_21_2", "default_7_48_0", "dev-cluster-k8s"]);
        expect(changes.changes.some((c) => !c.custom && c.type === "compute-region:index:Tenant")).toBe(true);
    });

    it("knows what a fresh preview cannot: the state's ids and outputs reach the program, so policies that could not run now do", async () => {
        const fresh = await plan();
        const { resources } = await againstOwnState();
        expect(fresh.resources.filter((r) => containsUnknown(r.props)).length).toBeGreaterThan(20);
        expect(resources.filter((r) => containsUnknown(r.props))).toEqual([]);
        // The launch templates are unchanged, so the node groups keep their launch template's version.
        const nodeGroups = resources.filter((r) => r.type === TYPES.eksNodeGroup);
        expect(nodeGroups).toHaveLength(5);
        for (const g of nodeGroups) expect((g.props.launchTemplate as { version?: unknown }).version, g.name).toBe("1");
        // The role a pod identity association names is an ARN only the cloud knows: a policy reading it cannot run at preview.
        const roleArnKnown = resourcePolicy({
            name: "pod-identity-role-in-account",
            description: "Pod identity associations use roles of the region's account.",
            rationale: "test policy reading a value only a deploy knows",
            severity: "low",
            enforcementLevel: "mandatory",
            remediationSteps: "test policy remediation text",
            controls: [{ framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" }],
            validateResource: forType(TYPES.eksPodIdentityAssociation, (props, _args, report) => {
                if (!String(props.roleArn).startsWith(`arn:aws:iam::${FACTS.accountId}:role/`)) report(`role ${props.roleArn} is not of the account`);
            }),
            samples: { allowed: [], disallowed: [] },
        });
        const before = evaluatePolicies(fresh.resources, { policies: [roleArnKnown] });
        const after = evaluatePolicies(resources, { policies: [roleArnKnown] });
        expect(before.notRun.length).toBeGreaterThan(0);
        expect(after.notRun).toEqual([]);
        expect(after.summary.passed).toBe(1);
    });
});

describe("a state an interrupted update left with pending operations", () => {
    const hooliNs = "urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:index:Tenant$kubernetes:core/v1:Namespace::dev-tenant-hooli-ns";
    const withHooli = () => {
        const config = devStackConfig();
        tenants(config).push({ name: "hooli", quota: { "shared-l40s": 1 }, members: ["arn:aws:iam::111122223333:role/Hooli"] });
        return config;
    };
    // An up adding hooli, killed while the namespace was being created: the operation stays pending, the namespace is in no resource list.
    const pendingCreate = () => ({
        ...checkpoint,
        deployment: { ...checkpoint.deployment, pending_operations: [{ resource: { urn: hooliNs, custom: true, type: "kubernetes:core/v1:Namespace", inputs: { metadata: { name: "tenant-hooli" } } }, type: "creating" }] },
    });

    it("reads them, and marks the create the next update would attempt again", async () => {
        const prior = readCheckpoint(writeJson("pending.json", pendingCreate()), DEV);
        expect(prior.pendingOperations).toEqual([{ type: "creating", urn: hooliNs, resourceType: "kubernetes:core/v1:Namespace" }]);
        const { changes } = await planAgainst(withHooli(), prior);
        expect(changes.pendingOperations).toEqual(prior.pendingOperations);
        expect(changes.changes.find((c) => c.urn === hooliNs)).toMatchObject({ op: "create", pendingCreate: true });
        expect(changes.changes.filter((c) => c.pendingCreate)).toHaveLength(1);
    });

    it("npm run plan reports them first, with the engine's warning and the commands that resolve them, in text and JSON, and exits 6", () => {
        const file = writeJson("pending-cli.json", pendingCreate());
        const out = path.join(dir, "pending-plan.json");
        // As a process: the exit status is what a pipeline gating the update reads.
        const r = planProcess(["--stack", "dev", "--config-file", writeStackFile(withHooli(), "Pulumi.dev.yaml"), "--state", file, "--json", out]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(6);
        const lines = r.stdout.split("\n");
        expect(lines[0]).toBe("error: the state has 1 pending operation of an interrupted update: resolve it before the next (exit code 6)");
        expect(lines.slice(1, 4)).toEqual([`  creating ${hooliNs}`, "    if it failed:    pulumi refresh --clear-pending-creates", `    if it succeeded: pulumi refresh --import-pending-creates '${hooliNs}' <id of the resource it created>`]);
        expect(r.stdout).toContain(`Attempting to deploy or update resources with 1 pending operations from previous deployment.\n    * ${hooliNs}, interrupted while creating`);
        expect(r.stdout).toContain("an interrupted update left this create pending: the resource may exist already");
        const doc = JSON.parse(fs.readFileSync(out, "utf8"));
        expect(Object.keys(doc.changes)[0]).toBe("pendingOperations");
        expect(doc.changes.pendingOperations).toEqual([
            { type: "creating", urn: hooliNs, resourceType: "kubernetes:core/v1:Namespace", resolve: { ifFailed: "pulumi refresh --clear-pending-creates", ifSucceeded: `pulumi refresh --import-pending-creates '${hooliNs}' <id of the resource it created>` } },
        ]);
        expect(doc.changes.resources.find((c: { urn: string }) => c.urn === hooliNs)).toMatchObject({ op: "create", pendingCreate: true });
    });

    it("an interrupted update or delete is resolved by a refresh", async () => {
        const vpc = (checkpoint.deployment.resources as Record<string, any>[]).find((x) => x.type === TYPES.vpc)!;
        const file = writeJson("pending-update.json", { ...checkpoint, deployment: { ...checkpoint.deployment, pending_operations: [{ resource: vpc, type: "updating" }] } });
        const r = await runPlanCli(["--stack", "dev", "--state", file, "--quiet"]);
        expect(r.status).toBe(6);
        expect(r.stdout.split("\n").slice(0, 3)).toEqual(["error: the state has 1 pending operation of an interrupted update: resolve it before the next (exit code 6)", `  updating ${vpc.urn}`, "    resolve: pulumi refresh"]);
    });
});

describe("each kind of change against the dev stack's state", () => {
    it("adding a tenant creates its component and resources, and updates the pool's internal queue", async () => {
        const config = devStackConfig();
        tenants(config).push({ name: "hooli", quota: { "shared-l40s": 1 }, members: ["arn:aws:iam::111122223333:role/Hooli"] });
        const { changes } = await planAgainst(config, state);
        // The component and its 19 resources (five NetworkPolicies in its namespace, no internet egress;
        // its route's ingress policy in observability; two Roles and bindings; the statement Job's binding;
        // its dashboards); the billing registry's document lists hooli, so its ConfigMap changes and its
        // Job (named by it) is a new one.
        expect(ops(changes)).toEqual({ create: 20, update: 2, replace: 1, same: checkpoint.deployment.resources.length - 3 });
        expect(named(changes, "kubernetes:core/v1:ConfigMap", "dev-billing-registry").op).toBe("update");
        expect(named(changes, "kubernetes:batch/v1:Job", "dev-billing-registry-sync").op).toBe("replace");
        expect(named(changes, "compute-region:index:Tenant", "dev-tenant-hooli").op).toBe("create");
        expect(named(changes, "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "dev-queues-shared-l40s-internal").diffs).toEqual([
            "spec.resourceGroups[0].flavors[0].resources[0].lendingLimit",
            "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota",
        ]);
    });

    it("raising a quota updates the tenant's queue and quota in place, with the changed paths", async () => {
        const config = devStackConfig();
        tenants(config)[1].quota["shared-l40s"] = 5;
        const { changes } = await planAgainst(config, state);
        // In place, but for the billing registry's Job: a new document is a new Job.
        expect(changes.counts.create + changes.counts.delete).toBe(0);
        expect(changes.changes.filter((c) => c.op === "replace").map((c) => c.name)).toEqual(["dev-billing-registry-sync"]);
        const queue = named(changes, "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "dev-tenant-globex-shared-l40s-queue");
        expect(queue).toMatchObject({ op: "update", diffs: ["spec.resourceGroups[0].flavors[0].resources[0].nominalQuota"] });
    });

    it("rotating a key replaces the password, its secret version and the gateway's Secret (deleted first: its name is fixed), and keeps the protected secret", async () => {
        const config = devStackConfig();
        tenants(config)[2].apiKeyVersion = 2;
        const { changes } = await planAgainst(config, state);
        expect(ops(changes)).toEqual({ replace: 3, same: checkpoint.deployment.resources.length - 3 });
        expect(named(changes, "random:index/randomPassword:RandomPassword", "dev-gateway-key-initech").replacedBy).toEqual(["keepers.version"]);
        expect(named(changes, "aws:secretsmanager/secretVersion:SecretVersion", "dev-gateway-key-initech").replacedBy).toEqual(["secretString"]);
        const secret = named(changes, "kubernetes:core/v1:Secret", "dev-gateway-key-initech");
        expect(secret.replacedBy).toEqual(["stringData"]);
        expect(secret.deleteBeforeReplace).toMatch(/metadata.name api-key-initech is fixed/);
        expect(named(changes, TYPES.secretsManagerSecret, "dev-gateway-key-initech").op).toBe("same");
        expect(changes.protectErrors).toEqual([]);
    });

    it("removing a decommissioned tenant deletes its resources without complaint", async () => {
        const decommissioned = devStackConfig();
        tenants(decommissioned)[1].state = "decommissioned";
        const prior = readCheckpoint(writeJson("decommissioned.json", await exportedState(decommissioned)), DEV);
        const removed = devStackConfig();
        removed["compute-region:tenants"] = tenants(removed).filter((t) => t.name !== "globex");
        const { changes } = await planAgainst(removed, prior);
        expect(changes.counts.delete).toBeGreaterThan(1);
        expect(named(changes, "kubernetes:core/v1:Namespace", "dev-tenant-globex-ns").op).toBe("delete");
        expect(changes.protectErrors).toEqual([]);
    });

    it("removing an active tenant fails as the engine does: its namespace is protected", async () => {
        const config = devStackConfig();
        config["compute-region:tenants"] = tenants(config).filter((t) => t.name !== "globex");
        const { changes } = await planAgainst(config, state);
        const namespace = named(changes, "kubernetes:core/v1:Namespace", "dev-tenant-globex-ns");
        expect(namespace.op).toBe("delete");
        expect(changes.protectErrors).toEqual([{ urn: namespace.urn, op: "delete", message: ENGINE_MESSAGES.deleteProtected(namespace.urn) }]);
        expect(ENGINE_MESSAGES.deleteProtected(namespace.urn)).toBe(
            `resource "${namespace.urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\`, or use the command:\n\`pulumi state unprotect '${namespace.urn}'\``,
        );
    });

    it("renaming the cluster replaces it and everything on it, and fails on the protected ones", async () => {
        const config = devStackConfig();
        config["compute-region:cluster"].name = "gpu-dev2-use2";
        const { changes } = await planAgainst(config, state);
        const cluster = named(changes, TYPES.eksCluster, "dev-cluster-eks");
        expect(cluster).toMatchObject({ op: "replace", replacedBy: ["name"] });
        expect(cluster.reasons[0].source).toMatch(/^hashicorp\/terraform-provider-aws@v6\.58\.0 internal\/service\/eks\.resourceCluster/);
        // Its Kubernetes provider cannot know the new cluster at preview: it and every object it manages are replaced.
        expect(named(changes, "pulumi:providers:kubernetes", "dev-cluster-k8s").op).toBe("replace");
        const k8s = changes.changes.filter((c) => c.type.startsWith("kubernetes:"));
        expect(k8s.every((c) => c.op === "replace")).toBe(true);
        expect(changes.protectErrors.map((e) => e.op)).toEqual(["replace", "replace", "replace", "replace", "replace", "replace"]);
        // The batch bucket and the invocation log group are named after the cluster too: history is never dropped by a rename.
        expect(changes.protectErrors.map((e) => e.urn.split("::").pop()).filter((n) => /batch|invocation/.test(n!))).toEqual(["dev-invocation-logs-group", "dev-batch-bucket"]);
        expect(changes.protectErrors.map((e) => e.message)).toContain(ENGINE_MESSAGES.replaceProtected(cluster.urn));
    });

    it("a Kubernetes upgrade updates the cluster, the version-bound add-ons, the autoscaler and every node group in place, in that order", async () => {
        const config = devStackConfig();
        config["compute-region:cluster"].kubernetesVersion = "1.35";
        const { changes, resources } = await planAgainst(config, state);
        const updated = changes.changes.filter((c) => c.op === "update");
        expect(changes.counts).toMatchObject({ create: 0, replace: 0, delete: 0 });
        expect(named(changes, TYPES.eksCluster, "dev-cluster-eks").diffs).toEqual(["version"]);
        const groups = updated.filter((c) => c.type === TYPES.eksNodeGroup);
        expect(groups.map((c) => c.name).sort()).toEqual(["dev-acme-l40s-nodes", "dev-cluster-system", "dev-internal-l40s-nodes", "dev-serving-l40s-nodes", "dev-shared-l40s-nodes"]);
        for (const g of groups) expect(g.diffs).toEqual(["version"]);
        // The add-ons whose published build differs between 1.34 and 1.35 move to it (ADDON_VERSION_PINS); the rest stay.
        const addons = resources.filter((r) => r.type === TYPES.eksAddon);
        const moving = addons.filter((a) => addonVersionPin(String(a.props.addonName), "1.34") !== addonVersionPin(String(a.props.addonName), "1.35"));
        expect(moving.map((a) => a.props.addonName).sort()).toEqual(["amazon-cloudwatch-observability", "aws-ebs-csi-driver", "kube-proxy"]);
        expect(updated.filter((c) => c.type === TYPES.eksAddon).map((c) => `${c.name} ${c.diffs.join(",")}`).sort()).toEqual(moving.map((a) => `${a.name} addonVersion`).sort());
        for (const a of addons) expect(a.props.addonVersion, a.name).toBe(addonVersionPin(String(a.props.addonName), "1.35"));
        const autoscaler = updated.find((c) => c.type === TYPES.helmRelease && c.name.includes("autoscaler"))!;
        expect(autoscaler.diffs.sort()).toEqual(["values.image.tag", "version"]);
        expect(updated.length).toBe(groups.length + moving.length + 2);
        // The order the engine walks: control plane, add-ons, system nodes, GPU pools.
        const byName = new Map(resources.map((r) => [r.name, r]));
        const dependsOn = (name: string, on: string) => (byName.get(name)!.dependencies ?? []).includes(byName.get(on)!.urn);
        expect(dependsOn("dev-cluster-kube-proxy", "dev-cluster-eks")).toBe(true);
        expect(byName.get("dev-cluster-system")!.props.version).toBe("1.35");
        expect(dependsOn("dev-cluster-system", "dev-cluster-kube-proxy")).toBe(true);
        expect(dependsOn("dev-shared-l40s-nodes", "dev-cluster-system")).toBe(true);
    });

    it("a tainted resource is replaced (state format 4, feature taint)", async () => {
        const tainted = { ...checkpoint, version: 4, features: ["taint"], deployment: { ...checkpoint.deployment, resources: checkpoint.deployment.resources.map((r: any) => (r.type === TYPES.vpc ? { ...r, taint: true } : r)) } };
        const { changes } = await planAgainst(devStackConfig(), readCheckpoint(writeJson("tainted.json", tainted), DEV));
        expect(named(changes, TYPES.vpc, "dev-network-vpc")).toMatchObject({ op: "replace", replacedBy: ["(taint)"] });
    });

    it("ignoreChanges keeps the state's value: the node groups' scaling, which the autoscaler and NodeGroupScaling own", async () => {
        const moved = { ...checkpoint, deployment: { ...checkpoint.deployment, resources: checkpoint.deployment.resources.map((r: any) => (r.type === TYPES.eksNodeGroup ? { ...r, inputs: { ...r.inputs, scalingConfig: { ...r.inputs.scalingConfig, desiredSize: 3 } } } : r)) } };
        const { changes } = await planAgainst(devStackConfig(), readCheckpoint(writeJson("moved.json", moved), DEV));
        expect(changes.counts).toMatchObject({ update: 0, replace: 0 });
    });

    it("a raised minNodes updates the pool's NodeGroupScaling only (min and max in one call that keeps the live desired size); the node group is untouched", async () => {
        const config = devStackConfig();
        Object.assign(config["compute-region:gpuPools"].find((p: { name: string }) => p.name === "shared-l40s"), { minNodes: 3, maxNodes: 5 });
        const { changes } = await planAgainst(config, state);
        const scaling = named(changes, TYPES.nodeGroupScaling, "dev-shared-l40s-scaling");
        expect(scaling).toMatchObject({ op: "update" });
        expect(scaling.diffs.sort()).toEqual(["maxSize", "minSize"]);
        expect(named(changes, TYPES.eksNodeGroup, "dev-shared-l40s-nodes").op).toBe("same");
    });
});

describe("against an earlier plan (a branch against main): both sides are previews", () => {
    it("an input unknown in both is the same value unless what it comes from changes: a rotated key replaces only what reads it", async () => {
        const base = await plan();
        const config = devStackConfig();
        tenants(config)[2].apiKeyVersion = 2;
        const head = await plan(config);
        const prior: PriorState = { kind: "plan", source: "base", project: "compute-region", stack: "dev", resources: priorResources(base.resources) };
        const changes = diffResources(prior, head.resources, { stack: "dev", project: "compute-region", config: {} });
        expect(changes.changes.filter((c) => c.op !== "same").map((c) => [c.type, c.op, c.replacedBy])).toEqual([
            ["random:index/randomPassword:RandomPassword", "replace", ["keepers.version"]],
            // Its secretId is unknown in both plans too, but the Secret it comes from is the same.
            ["aws:secretsmanager/secretVersion:SecretVersion", "replace", ["secretString"]],
            ["kubernetes:core/v1:Secret", "replace", ["stringData"]],
        ]);
        expect(diffResources(prior, base.resources, { stack: "dev", project: "compute-region", config: {} }).counts).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    });
});

describe("a state exported before the components' tokens moved to compute-region:index:<Name>", () => {
    /** The tokens the components had before the first release (0.1.0) (what a deployed stack's state holds), written out as the facts they are. */
    const FORMER_TOKENS: Record<string, string> = {
        BatchInference: "compute-region:serving:BatchInference",
        DedicatedEndpoints: "compute-region:serving:DedicatedEndpoints",
        GatewayPrivateLink: "compute-region:gateway:GatewayPrivateLink",
        InvocationLogs: "compute-region:gateway:InvocationLogs",
        BillingDatabase: "compute-region:billing:BillingDatabase",
        CapacityQueues: "compute-region:queues:CapacityQueues",
        ClusterAutoscaler: "compute-region:capacity:ClusterAutoscaler",
        Cluster: "compute-region:cluster:Cluster",
        GpuDevicePlugins: "compute-region:gpu:GpuDevicePlugins",
        GpuNodeGroup: "compute-region:gpu:GpuNodeGroup",
        InferenceService: "compute-region:serving:InferenceService",
        LoadBalancerController: "compute-region:gateway:LoadBalancerController",
        ModelGateway: "compute-region:gateway:ModelGateway",
        Network: "compute-region:network:Network",
        Observability: "compute-region:observability:Observability",
        ServingPlatform: "compute-region:serving:ServingPlatform",
        TenantFileSystem: "compute-region:tenants:TenantFileSystem",
        TenantGuardrails: "compute-region:tenants:TenantGuardrails",
        TenantShard: "compute-region:tenants:TenantShard",
        TenantWorkloadIdentity: "compute-region:tenants:TenantWorkloadIdentity",
        Tenant: "compute-region:tenants:Tenant",
        ThreatDetection: "compute-region:security:ThreatDetection",
    };
    /** The checkpoint as the former tokens wrote it: every URN, parent, dependency and provider reference. */
    const formerCheckpoint = (doc: unknown) => JSON.parse(JSON.stringify(doc).replace(/compute-region:index:(\w+)/g, (token, name: string) => FORMER_TOKENS[name] ?? token));

    it("matches every resource through the components' aliases and their children's inherited ones: nothing is created, deleted or replaced", async () => {
        const former = formerCheckpoint(checkpoint);
        const moved = (former.deployment.resources as { urn: string }[]).filter((r) => /compute-region:(?!index:)[a-z]+:/.test(r.urn)).length;
        expect(moved).toBeGreaterThan(300);
        const formerState = readCheckpoint(writeJson("dev-state-former-tokens.json", former), DEV);
        const { changes, resources } = await planAgainst(devStackConfig(), formerState);
        expect(changes.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0, same: checkpoint.deployment.resources.length });
        // Without the components' aliases, the engine would delete every moved resource and create it anew.
        const unaliased = resources.map((r) => (r.opts?.aliases ? { ...r, opts: { ...r.opts, aliases: r.opts.aliases.filter((a) => !("type" in a)) } } : r));
        expect(diffResources(formerState, unaliased, { stack: "dev", project: "compute-region", config: {} }).counts).toMatchObject({ create: moved, delete: moved });
        // Every moved resource is found under its former URN: a component by its own alias, its children by the alias they inherit.
        expect(changes.changes.filter((c) => c.formerUrn).length).toBe(moved);
        const tenantNs = changes.changes.find((c) => c.name === "dev-tenant-acme-ns")!;
        expect(tenantNs.formerUrn).toBe("urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:tenants:Tenant$kubernetes:core/v1:Namespace::dev-tenant-acme-ns");
        // A file system under its tenant: found through the tenant's alias and its own (two levels moved).
        const fileSystem = changes.changes.find((c) => c.name === "dev-tenant-acme-fsx")!;
        expect(fileSystem.formerUrn).toBe("urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:tenants:Tenant$compute-region:tenants:TenantFileSystem::dev-tenant-acme-fsx");
    });
});

describe("aliases", () => {
    it("finds a shard's Cohort where the platform declared it before (its alias), instead of a create and a delete", async () => {
        const platform = await plan(stackConfig("dev-platform"), "dev-platform");
        const cohort = platform.resources.find((r) => r.type === K8S_TYPES.cohort && r.name === "dev-platform-queues-shard-a-shared-l40s")!;
        const formerUrn = `urn:pulumi:dev-platform::compute-region::compute-region:index:Region$${K8S_TYPES.cohort}::dev-platform-shard-a-shared-l40s`;
        const before = priorResources(platform.resources).map((r) => (r.urn === cohort.urn ? { ...r, urn: formerUrn, parent: "urn:pulumi:dev-platform::compute-region::compute-region:index:Region::dev-platform" } : r));
        const prior: PriorState = { kind: "plan", source: "test", project: "compute-region", stack: "dev-platform", resources: before };
        const options = { stack: "dev-platform", project: "compute-region", config: {} };
        const changes = diffResources(prior, platform.resources, options);
        expect(changes.changes.find((c) => c.urn === cohort.urn)).toMatchObject({ op: "same", formerUrn });
        expect(changes.counts).toMatchObject({ create: 0, delete: 0 });
        // Without the alias, the engine would create the Cohort anew and delete the old one.
        const unaliased = platform.resources.map((r) => (r.urn === cohort.urn ? { ...r, opts: { ...r.opts, aliases: [] } } : r));
        expect(diffResources(prior, unaliased, options).counts).toMatchObject({ create: 1, delete: 1 });
    });

    it("are recorded with the other lifecycle options, and policies read them as CrossGuard's options", async () => {
        const platform = await plan(stackConfig("dev-platform"), "dev-platform");
        const cohort = platform.resources.find((r) => r.name === "dev-platform-queues-shard-a-shared-l40s")!;
        expect(cohort.opts?.aliases).toEqual([{ name: "dev-platform-shard-a-shared-l40s", parentUrn: "urn:pulumi:dev-platform::compute-region::compute-region:index:Region::dev-platform" }]);
        const nodeGroup = platform.resources.find((r) => r.type === TYPES.eksNodeGroup)!;
        expect(nodeGroup.opts?.ignoreChanges).toEqual(["scalingConfig"]);
        const seen: Record<string, unknown> = {};
        const recorder = resourcePolicy({
            name: "options-seen",
            description: "Records the options a policy is handed.",
            rationale: "test policy reading resource options",
            severity: "low",
            enforcementLevel: "advisory",
            remediationSteps: "test policy remediation text",
            controls: [{ framework: "NIST SP 800-53 Rev. 5", control: "CM-2", title: "Baseline Configuration" }],
            validateResource: (args) => {
                if (args.urn === cohort.urn || args.urn === nodeGroup.urn) seen[args.name] = { aliases: args.opts.aliases, ignoreChanges: args.opts.ignoreChanges };
            },
            samples: { allowed: [], disallowed: [] },
        });
        evaluatePolicies(platform.resources, { policies: [recorder] });
        expect(seen[cohort.name]).toEqual({ aliases: [`urn:pulumi:dev-platform::compute-region::compute-region:index:Region$${K8S_TYPES.cohort}::dev-platform-shard-a-shared-l40s`], ignoreChanges: [] });
        expect(seen[nodeGroup.name]).toEqual({ aliases: [], ignoreChanges: ["scalingConfig"] });
    });

    it("custom timeouts reach policies in seconds, from the Go durations the SDK sends", () => {
        expect([durationSeconds("30m"), durationSeconds("1h30m"), durationSeconds("90s"), durationSeconds("1.5h"), durationSeconds("soon"), durationSeconds(undefined)]).toEqual([1800, 5400, 90, 5400, undefined, undefined]);
    });

    it("children follow a parent found under an alias, renamed with it (the engine's inherited child aliases)", () => {
        const urn = (chain: string, name: string) => `urn:pulumi:dev::compute-region::${chain}::${name}`;
        const old = [
            { urn: urn("compute-region:tenants:Tenant", "acme"), type: "compute-region:tenants:Tenant", custom: false, inputs: {}, outputs: {}, protect: false, dependencies: [] },
            { urn: urn("compute-region:tenants:Tenant$kubernetes:core/v1:Namespace", "acme-ns"), type: "kubernetes:core/v1:Namespace", custom: true, parent: urn("compute-region:tenants:Tenant", "acme"), inputs: { metadata: { name: "tenant-acme" } }, outputs: {}, protect: true, dependencies: [] },
        ];
        const parent: ResourceSnapshot = { urn: urn("compute-region:tenants:Tenant", "tenant-acme"), type: "compute-region:tenants:Tenant", name: "tenant-acme", props: {}, custom: false, opts: { aliases: [{ name: "acme" }] } };
        const child: ResourceSnapshot = { urn: urn("compute-region:tenants:Tenant$kubernetes:core/v1:Namespace", "tenant-acme-ns"), type: "kubernetes:core/v1:Namespace", name: "tenant-acme-ns", parent: parent.urn, props: { metadata: { name: "tenant-acme" } }, custom: true, opts: { protect: true } };
        const changes = diffResources({ kind: "plan", source: "test", project: "compute-region", stack: "dev", resources: old }, [parent, child], { stack: "dev", project: "compute-region", config: {} });
        expect(changes.changes.map((c) => [c.name, c.op, c.formerUrn])).toEqual([
            ["tenant-acme", "same", old[0].urn],
            ["tenant-acme-ns", "same", old[1].urn],
        ]);
    });
});

describe("replacement rules", () => {
    const diffOne = (type: string, before: Record<string, unknown>, after: Record<string, unknown>, opts: ResourceSnapshot["opts"] = {}) => {
        const urn = `urn:pulumi:dev::compute-region::${type}::r`;
        // A state holds the inputs its provider's Check returned.
        const stored = checkedResourceInputs(type, before, undefined);
        const prior: PriorState = { kind: "state", source: "test", project: "compute-region", stack: "dev", resources: [{ urn, type, custom: true, id: "x", inputs: stored, outputs: stored, protect: false, dependencies: [] }] };
        return diffResources(prior, [{ urn, type, name: "r", props: after, custom: true, opts }], { stack: "dev", project: "compute-region", config: {} }).changes[0];
    };

    it("cover every resource type the dev, platform and shard stacks use, each with its source", async () => {
        const types = new Set<string>();
        for (const stack of ["dev", "dev-platform"]) for (const r of (await plan(stackConfig(stack), stack)).resources) if (r.custom !== false) types.add(r.type);
        types.add("pulumi:providers:aws").add("pulumi:providers:random");
        const ruled = new Set(REPLACEMENT_RULES.map((r) => r.type));
        expect([...types].filter((t) => !ruled.has(t))).toEqual([]);
        for (const rule of REPLACEMENT_RULES) {
            expect(rule.source.length, rule.type).toBeGreaterThan(0);
            for (const s of rule.source) expect(s.repo && s.ref && s.file, rule.type).toBeTruthy();
        }
    });

    it("apply the providers' conditional rules", () => {
        expect(diffOne(TYPES.vpc, { cidrBlock: "10.0.0.0/16", instanceTenancy: "dedicated" }, { cidrBlock: "10.0.0.0/16", instanceTenancy: "default" }).op).toBe("update");
        expect(diffOne(TYPES.vpc, { cidrBlock: "10.0.0.0/16", instanceTenancy: "default" }, { cidrBlock: "10.0.0.0/16", instanceTenancy: "dedicated" }).op).toBe("replace");
        expect(diffOne(TYPES.vpc, { cidrBlock: "10.0.0.0/16", ipv4NetmaskLength: 16 }, { cidrBlock: "10.1.0.0/16", ipv4NetmaskLength: 16 }).op).toBe("update");
        expect(diffOne(TYPES.eksCluster, { name: "c", encryptionConfig: { resources: ["secrets"] } }, { name: "c" }).op).toBe("replace");
        expect(diffOne(TYPES.eksCluster, { name: "c" }, { name: "c", encryptionConfig: { resources: ["secrets"] } }).op).toBe("update");
        expect(diffOne(TYPES.eksNodeGroup, { launchTemplate: { id: "lt-1", version: "1" } }, { launchTemplate: { id: "lt-1", version: "2" } }).op).toBe("update");
        expect(diffOne(TYPES.eksNodeGroup, { launchTemplate: { id: "lt-1", version: "1" } }, { launchTemplate: { id: "lt-2", version: "1" } }).replacedBy).toEqual(["launchTemplate.id"]);
        // RDS hides a storage decrease while autoscaling's ceiling is above it.
        expect(diffOne("aws:rds/instance:Instance", { allocatedStorage: 100, maxAllocatedStorage: 200 }, { allocatedStorage: 50, maxAllocatedStorage: 200 }).op).toBe("same");
        expect(diffOne("aws:rds/instance:Instance", { allocatedStorage: 100 }, { allocatedStorage: 50 }).op).toBe("update");
        // A region set to the provider's own is no change of region.
        expect(diffOne(TYPES.subnet, { cidrBlock: "10.0.1.0/24" }, { cidrBlock: "10.0.1.0/24", region: "us-west-2" }).replacedBy).toEqual(["region"]);
    });

    it("replace on an unknown value in a replacing property, and on replaceOnChanges", () => {
        expect(diffOne(TYPES.eksAccessEntry, { clusterName: "c", principalArn: "a" }, { clusterName: UNKNOWN, principalArn: "a" })).toMatchObject({ op: "replace", replacedBy: ["clusterName"] });
        expect(diffOne(TYPES.eksAccessEntry, { clusterName: "c", principalArn: "a", userName: "u" }, { clusterName: "c", principalArn: "a", userName: "v" }).op).toBe("update");
        expect(diffOne(TYPES.eksAccessEntry, { clusterName: "c", userName: "u" }, { clusterName: "c", userName: "v" }, { replaceOnChanges: ["userName"] })).toMatchObject({ op: "replace", replacedBy: ["userName"] });
    });

    it("compare secrets by presence: the state's ciphertext is never read", () => {
        const sig = "4dabf18193072939515e22adb298388d";
        const secret = "1b47061264138c4ac30d75fd1eb44270";
        const before = { secretId: "s", secretString: { [sig]: secret, ciphertext: "v1:abc" } };
        expect(diffOne("aws:secretsmanager/secretVersion:SecretVersion", before, { secretId: "s", secretString: { [sig]: secret, value: "anything" } }).op).toBe("same");
        expect(diffOne("aws:secretsmanager/secretVersion:SecretVersion", before, { secretId: "s", secretString: { [sig]: secret, value: UNKNOWN } }).replacedBy).toEqual(["secretString"]);
    });

    it("say when a type has no rule, and plan its changes as updates", () => {
        const change = diffOne("aws:sns/topic:Topic", { name: "a" }, { name: "b" });
        expect(change.op).toBe("update");
    });
});

describe("npm run plan against a state or an earlier plan", () => {
    it("--state of its own deployment: leads with the counts, changes nothing, exits 0, prints no secret", async () => {
        const r = await runPlanCli(["--stack", "dev", "--state", stateFile]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout.split("\n")[0]).toBe(`0 to create, 0 to update, 0 to replace, 0 to delete, ${checkpoint.deployment.resources.length} unchanged (against the state in ${stateFile} (${checkpoint.deployment.resources.length} resources))`);
        const ciphertexts = [...JSON.stringify(checkpoint).matchAll(/"ciphertext":"([^"]+)"/g)].map((m) => m[1]);
        expect(ciphertexts.length).toBeGreaterThan(0);
        for (const c of ciphertexts) expect(r.stdout).not.toContain(c);
    });

    it("a protected delete exits 5 with the engine's message and the config change behind it", async () => {
        const config = devStackConfig();
        config["compute-region:tenants"] = tenants(config).filter((t) => t.name !== "globex");
        // As a process: the engine's refusal is the command's exit status 5.
        const r = planProcess(["--stack", "dev", "--config-file", writeStackFile(config, "Pulumi.dev.yaml"), "--state", stateFile]);
        expect(r.status).toBe(5);
        expect(r.stdout).toContain(`error: resource "urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:index:Tenant$kubernetes:core/v1:Namespace::dev-tenant-globex-ns" cannot be deleted\nbecause it is protected.`);
        expect(r.stdout).toContain("behind it: nothing in the plan carries its label compute-region.io/tenant=globex any more");
        expect(r.stdout).toMatch(/\[FAIL\] tenant-offboarded-in-order .*\n.*namespace tenant-globex of active tenant globex is deleted/);
    });

    it("a protected replace exits 5 naming the resource and the config key", async () => {
        const config = devStackConfig();
        config["compute-region:cluster"].name = "gpu-dev2-use2";
        const r = await runPlanCli(["--stack", "dev", "--config-file", writeStackFile(config, "Pulumi.dev.yaml"), "--state", stateFile, "--quiet"]);
        expect(r.status).toBe(5);
        expect(r.stdout.split("\n")[0]).toMatch(/^0 to create, \d+ to update, \d+ to replace, 0 to delete, \d+ unchanged$/);
        const full = await runPlanCli(["--stack", "dev", "--config-file", writeStackFile(config, "Pulumi.dev.yaml"), "--state", stateFile]);
        expect(full.stdout).toContain('error: unable to replace resource "urn:pulumi:dev::compute-region::compute-region:index:Region$compute-region:index:Cluster$aws:eks/cluster:Cluster::dev-cluster-eks"\nas it is currently marked for protection.');
        expect(full.stdout).toContain('behind it: compute-region:cluster.name is now "gpu-dev2-use2"');
        expect(full.stdout).toMatch(/foundation-not-replaced.*\n.*dev-cluster-eks would be replaced: the EKS cluster/);
    });

    it("--against an earlier plan: the config diff is behind it; --json, the report and SARIF carry the changes", async () => {
        const base = path.join(dir, "base.json");
        expect((await runPlanCli(["--stack", "dev", "--json", base])).status).toBe(0);
        const config = devStackConfig();
        config["compute-region:tenants"] = tenants(config).filter((t) => t.name !== "globex");
        const out = path.join(dir, "head");
        const r = await runPlanCli(["--stack", "dev", "--config-file", writeStackFile(config, "Pulumi.dev.yaml"), "--against", base, "--json", `${out}.json`, "--report", `${out}.md`, "--sarif", `${out}.sarif`]);
        expect(r.status).toBe(5);
        expect(r.stdout).toContain("behind it: compute-region:tenants[globex] removed");
        const doc = JSON.parse(fs.readFileSync(`${out}.json`, "utf8"));
        // Everything of the base plan (its resources and the default providers the engine adds) but
        // globex's 28 resources (21 of a tenant, 7 of its workload identity), the one update they cause and
        // the billing registry's (its ConfigMap updated, its Job a new one) stays.
        const baseDoc = JSON.parse(fs.readFileSync(base, "utf8")) as { resources: ResourceSnapshot[] };
        const urns = new Set(baseDoc.resources.map((x) => x.urn));
        const defaultProviders = new Set(baseDoc.resources.map((x) => x.opts?.provider).filter((p): p is string => !!p && !urns.has(p)));
        expect(doc.changes.summary).toEqual({ create: 0, update: 2, replace: 1, delete: 28, same: baseDoc.resources.length + defaultProviders.size - 31 });
        expect(doc.changes.protectErrors[0]).toMatchObject({ op: "delete", behind: "compute-region:tenants[globex] removed" });
        expect(doc.changes.resources.find((c: { name: string }) => c.name === "dev-tenant-globex-ns")).toMatchObject({ op: "delete", protect: true, component: expect.stringMatching(/Tenant::dev-tenant-globex$/) });
        expect(doc.policy.policies.map((p: { policy: string }) => p.policy)).toEqual(expect.arrayContaining(changePolicies.map((p) => p.name)));
        const md = fs.readFileSync(`${out}.md`, "utf8");
        expect(md.split("\n")[0]).toBe(`### :x: Changes: 0 to create, 2 to update, 1 to replace, 28 to delete, ${doc.changes.summary.same} unchanged`);
        expect(md).toContain("<details><summary>Changes by component (31; replacements and deletes first)</summary>");
        const sarif = JSON.parse(fs.readFileSync(`${out}.sarif`, "utf8"));
        expect(sarif.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(changePolicies.map((p) => p.name)));
        // An active tenant dropped: its namespace, and its billing history.
        expect(sarif.runs[0].results).toEqual([expect.objectContaining({ ruleId: "tenant-offboarded-in-order", level: "error" }), expect.objectContaining({ ruleId: "billing-history-kept", level: "error" })]);
    });

    it("a Kubernetes version that skips a minor exits 1 on the change policy", async () => {
        const at133 = devStackConfig();
        at133["compute-region:cluster"].kubernetesVersion = "1.33";
        const base = path.join(dir, "base-133.json");
        expect((await runPlanCli(["--stack", "dev", "--config-file", writeStackFile(at133, "Pulumi.dev.yaml"), "--json", base])).status).toBe(0);
        const at135 = devStackConfig();
        at135["compute-region:cluster"].kubernetesVersion = "1.35";
        const r = await runPlanCli(["--stack", "dev", "--config-file", writeStackFile(at135, "Pulumi.dev.yaml"), "--against", base]);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("cluster gpu-dev-use2 would go from 1.33 to 1.35, skipping 1 minor version: EKS updates one minor version at a time.");
    });

    it("exits 2 on a bad state file or both inputs, before planning", async () => {
        const truncated = writeJson("truncated.json", JSON.stringify(checkpoint).slice(0, 5000));
        const cases: [string[], RegExp][] = [
            [["--state", truncated], /--state .*truncated\.json: the JSON ends early/],
            [["--state", writeJson("v9.json", { ...checkpoint, version: 9 })], /has format version 9, newer than this reader knows/],
            [["--state", writeJson("feature.json", { ...checkpoint, version: 4, features: ["replaceWith"] })], /uses the deployment feature replaceWith .* which this reader does not plan/],
            [["--stack", "dev-platform", "--state", stateFile], /is the state of compute-region\/dev, not of compute-region\/dev-platform/],
            [["--state", stateFile, "--against", stateFile], /--state and --against are alternatives/],
        ];
        for (const [args, message] of cases) {
            const r = await runPlanCli(args[0] === "--stack" ? args : ["--stack", "dev", ...args]);
            expect(r.status, args.join(" ")).toBe(2);
            expect(r.stderr).toMatch(message);
            expect(r.stdout).toBe("");
        }
    });
});

function stackConfig(stack: string): Record<string, any> {
    return (parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> }).config;
}
