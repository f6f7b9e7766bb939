import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { StackValidationArgs, unknownCheckingProxy } from "@pulumi/policy";
import {
    evaluatePolicies,
    forType,
    PolicyConfigError,
    policyExitCode,
    RegionPolicy,
    renderMarkdown,
    renderSarif,
    renderText,
    resolvePolicyConfig,
    ResourceSnapshot,
    resourcePolicy,
    stackPolicy,
    UNKNOWN,
    unwrapSecrets,
} from "../engine";
import { changePolicies } from "../changes";
import { renderCatalog } from "../catalog";
import { PACK_NAME, PACK_VERSION, policies } from "../rules";
import { readResources } from "../engine/input";
import { propertyPaths } from "../engine/preview-shapes";
import { propsForPolicies } from "../engine/unknown-view";
import { plain } from "../model/evidence/deploy-input";
import { oncePerStack } from "../model/evidence/per-stack";
import { asList } from "../model/domain/values";
import { selectorMatches } from "../model/domain/label-selectors";
import { resourcesOfType } from "../engine/policy";

const audit = {
    severity: "high" as const,
    rationale: "test rationale long enough",
    remediationSteps: "test remediation long enough",
    controls: [{ framework: "NIST SP 800-53 Rev. 5" as const, control: "SC-7", title: "Boundary Protection" }],
    samples: { allowed: [], disallowed: [] },
};

const bucket = (name: string, props: Record<string, unknown>, extra: Partial<ResourceSnapshot> = {}): ResourceSnapshot => ({
    urn: `urn:pulumi:s::p::aws:s3/bucket:Bucket::${name}`,
    type: "aws:s3/bucket:Bucket",
    name,
    props,
    ...extra,
});

const noPublic = resourcePolicy({
    ...audit,
    name: "no-public-bucket",
    description: "Buckets are private.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowed: { type: "array", items: { type: "string" } } } },
    validateResource: forType("aws:s3/bucket:Bucket", (props, args, report) => {
        const allowed = (args.getConfig<{ allowed?: string[] }>().allowed ?? []) as string[];
        if (props.acl === "public-read" && !allowed.includes(args.name)) report(`bucket ${args.name} is public`);
    }),
    remediateResource: (args) => (args.props.acl === "public-read" ? { ...args.props, acl: "private" } : undefined),
});

describe("evaluator: CrossGuard semantics", () => {
    it("reports description, newline, text; mandatory counts for the exit code", () => {
        const r = evaluatePolicies([bucket("a", { acl: "public-read" })], { policies: [noPublic] });
        expect(r.violations).toEqual([
            { policy: "no-public-bucket", severity: "high", enforcementLevel: "mandatory", urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::a", name: "a", message: "Buckets are private.\nbucket a is public" },
        ]);
        expect(policyExitCode(r)).toBe(1);
    });

    it("takes the enforcement level from config, then the policy, then the pack", () => {
        const advisoryPolicy = { ...noPublic, enforcementLevel: undefined };
        const res = [bucket("a", { acl: "public-read" })];
        expect(evaluatePolicies(res, { policies: [advisoryPolicy] }).violations[0].enforcementLevel).toBe("advisory");
        expect(evaluatePolicies(res, { policies: [advisoryPolicy], packEnforcementLevel: "mandatory" }).violations[0].enforcementLevel).toBe("mandatory");
        const cfg = resolvePolicyConfig({ "no-public-bucket": "advisory" }, [noPublic]);
        expect(evaluatePolicies(res, { policies: [noPublic], config: cfg }).violations[0].enforcementLevel).toBe("advisory");
        const all = resolvePolicyConfig({ all: "disabled" }, [noPublic]);
        const disabled = evaluatePolicies(res, { policies: [noPublic], config: all });
        expect(disabled.violations).toEqual([]);
        expect(disabled.policies[0].status).toBe("disabled");
        // A policy's own entry wins over "all".
        const both = resolvePolicyConfig({ all: "disabled", "no-public-bucket": "mandatory" }, [noPublic]);
        expect(evaluatePolicies(res, { policies: [noPublic], config: both }).violations).toHaveLength(1);
    });

    it("passes policy config (without enforcementLevel) to getConfig", () => {
        const cfg = resolvePolicyConfig({ "no-public-bucket": { enforcementLevel: "mandatory", allowed: ["a"] } }, [noPublic]);
        expect(evaluatePolicies([bucket("a", { acl: "public-read" })], { policies: [noPublic], config: cfg }).violations).toEqual([]);
    });

    it("remediates first, then reports what is still wrong as mandatory", () => {
        const cfg = resolvePolicyConfig({ "no-public-bucket": "remediate" }, [noPublic]);
        const fixed = evaluatePolicies([bucket("a", { acl: "public-read" })], { policies: [noPublic], config: cfg });
        expect(fixed.remediations).toEqual([{ policy: "no-public-bucket", urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::a", name: "a" }]);
        expect(fixed.violations).toEqual([]);
        const stubborn = { ...noPublic, remediateResource: () => undefined };
        const still = evaluatePolicies([bucket("a", { acl: "public-read" })], { policies: [stubborn], config: cfg });
        expect(still.violations[0].enforcementLevel).toBe("mandatory");
    });

    it("reports a policy that reads an unknown value as not run, advisory, with CrossGuard's message", () => {
        const r = evaluatePolicies([bucket("a", { acl: UNKNOWN })], { policies: [noPublic], packVersion: "1.2.3" });
        expect(r.violations).toEqual([]);
        expect(r.notRun).toHaveLength(1);
        expect(r.notRun[0].message).toBe("can't run policy 'no-public-bucket' from policy pack 'compute-region@v1.2.3' during preview: string value at .acl can't be known during preview");
        expect(policyExitCode(r)).toBe(0);
    });

    it("unwraps secrets before policies see them", () => {
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "public-read" };
        expect(evaluatePolicies([bucket("a", { acl: secret })], { policies: [noPublic] }).violations).toHaveLength(1);
    });

    it("turns a throwing policy into a policy error naming the policy and the resource (exit 3)", () => {
        const broken = resourcePolicy({ ...audit, name: "broken", description: "d", enforcementLevel: "mandatory", validateResource: () => { throw new TypeError("boom"); } });
        const r = evaluatePolicies([bucket("a", {})], { policies: [broken] });
        expect(r.errors).toEqual([{ policy: "broken", urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::a", name: "a", message: "Error validating resource with policy 'broken' from policy pack 'compute-region@v0.0.0': boom" }]);
        expect(policyExitCode(r)).toBe(3);
    });

    it("withholds, as CrossGuard's analyzer does, every other result of an analysis call in which a policy throws", () => {
        const throws = stackPolicy({ ...audit, name: "throws", description: "d", enforcementLevel: "mandatory", validateStack: () => { throw new TypeError("boom"); } });
        const finds = stackPolicy({ ...audit, name: "finds", description: "Finds.", enforcementLevel: "mandatory", validateStack: (_a, report) => report("found") });
        const onResource = resourcePolicy({ ...audit, name: "on-resource", description: "On a resource.", enforcementLevel: "advisory", validateResource: (_a, report) => report("seen") });
        const r = evaluatePolicies([bucket("a", {})], { policies: [onResource, finds, throws] });
        // The stack call fails: 'finds' ran before the throw and is still reported, but withheld.
        expect(r.errors).toEqual([{ policy: "throws", message: "Error validating resource with policy 'throws' from policy pack 'compute-region@v0.0.0': boom" }]);
        expect(r.violations.map((v) => [v.policy, v.withheld === true])).toEqual([["on-resource", false], ["finds", true]]);
        expect(r.failedAnalyses).toEqual([{ scope: "stack", policies: ["throws"], withheld: 1 }]);
        expect(r.summary.withheld).toBe(1);
        const text = renderText(r, [onResource, finds, throws]);
        expect(text).toContain("the stack analysis fails in CrossGuard because throws threw: a real preview reports that error and none of the 1 other result of stack policies");
        expect(text).toContain("mandatory (withheld by CrossGuard): found");
        expect(renderMarkdown(r, [onResource, finds, throws])).toContain("> The stack analysis fails in CrossGuard because throws threw");
        const sarif = renderSarif(r, [onResource, finds, throws]).runs[0];
        expect(sarif.invocations[0].toolExecutionNotifications[0].message.text).toMatch(/^the stack analysis fails in CrossGuard/);
        expect((sarif.results.find((x) => x.ruleId === "finds") as { properties?: unknown }).properties).toEqual({ withheldByCrossGuard: true });

        // One resource's call fails alone: the other resource's results are delivered.
        const picky = resourcePolicy({ ...audit, name: "picky", description: "d", enforcementLevel: "mandatory", validateResource: (a) => { if (a.name === "b") throw new Error("no"); } });
        const two = evaluatePolicies([bucket("a", {}), bucket("b", {})], { policies: [onResource, picky] });
        expect(two.violations.map((v) => [v.name, v.withheld === true])).toEqual([["a", false], ["b", true]]);
        expect(two.failedAnalyses).toEqual([{ scope: "resource", urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", name: "b", policies: ["picky"], withheld: 1 }]);
    });

    it("skips resources of other types without calling a typed validation, and honours notApplicable", () => {
        let calls = 0;
        const typed = resourcePolicy({ ...audit, name: "typed", description: "d", enforcementLevel: "mandatory", validateResource: forType("aws:s3/bucket:Bucket", () => void calls++) });
        evaluatePolicies([{ urn: "u", type: "aws:ec2/vpc:Vpc", name: "v", props: {} }, bucket("a", {})], { policies: [typed] });
        expect(calls).toBe(1);
        const na = resourcePolicy({ ...audit, name: "na", description: "d", enforcementLevel: "mandatory", validateResource: (args) => args.notApplicable("n/a") });
        const r = evaluatePolicies([bucket("a", {})], { policies: [na] });
        expect(r.errors).toEqual([]);
        expect(r.violations).toEqual([]);
    });

    it("shows resource policies the inputs and stack policies the outputs, as CrossGuard does", () => {
        const seen: string[] = [];
        const onInputs = resourcePolicy({ ...audit, name: "inputs", description: "d", enforcementLevel: "mandatory", validateResource: (a) => void seen.push(`resource:${a.props.acl}`) });
        const onOutputs = stackPolicy({ ...audit, name: "outputs", description: "d", enforcementLevel: "mandatory", validateStack: (a) => void seen.push(`stack:${a.resources[0].props.acl}`) });
        const r = evaluatePolicies([bucket("a", { acl: "private" }, { outputs: { acl: "private", arn: UNKNOWN } })], { policies: [onInputs, onOutputs] });
        expect(seen).toEqual(["resource:private", "stack:private"]);
        const readsArn = stackPolicy({ ...audit, name: "reads-arn", description: "d", enforcementLevel: "mandatory", validateStack: (a) => void a.resources[0].props.arn });
        expect(evaluatePolicies([bucket("a", {}, { outputs: { arn: UNKNOWN } })], { policies: [readsArn] }).notRun).toHaveLength(1);
        expect(evaluatePolicies([bucket("a", {})], { policies: [readsArn] }).notRun).toHaveLength(0);
        expect(r.errors).toEqual([]);
    });

    it("reads props through its unknown view as through CrossGuard's proxy: same values, same unknowns, same paths", () => {
        const props = {
            name: "a",
            spec: { replicas: 2, template: { containers: [{ image: "x" }, { image: UNKNOWN, ports: [80, UNKNOWN] }] }, labels: { a: "b" } },
            status: UNKNOWN,
            tags: [["k", "v"]],
            // Secrets reach policies unwrapped, an unknown inside one included (CrossGuard unwraps, then proxies).
            password: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: UNKNOWN },
            token: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { id: "t" } },
        };
        /** What reading `path` and then doing `then` to the value gives: its JSON, or the error's message. */
        const outcome = (root: Record<string, unknown>, path: readonly (string | number)[], then: (v: any) => unknown = (v) => v) => {
            try {
                return String(JSON.stringify(then(path.reduce((v: any, k) => v[k], root))));
            } catch (e) {
                return `${(e as Error).constructor.name}: ${(e as Error).message}`;
            }
        };
        const reads: [string, (v: any) => unknown][] = [
            ["value", (v) => v],
            ["entries", (v) => (typeof v === "object" ? Object.entries(v) : v)],
            ["map", (v) => (Array.isArray(v) ? v.map((x) => x) : v)],
            ["spread", (v) => (Array.isArray(v) ? [...v] : typeof v === "object" ? { ...v } : v)],
            ["plain", (v) => plain(v)],
        ];
        const paths = [[], ...propertyPaths(props)];
        let unknowns = 0;
        for (const path of paths) {
            for (const [what, then] of reads) {
                const theirs = outcome(unknownCheckingProxy(unwrapSecrets(props) as typeof props), path, then);
                expect(outcome(propsForPolicies(props), path, then), `${what} of .${path.join(".")}`).toBe(theirs);
                if (theirs.startsWith("UnknownValueError")) unknowns++;
            }
        }
        expect(unknowns).toBeGreaterThan(10);
        // Where no unknown can be read, the values are handed out as they are.
        const view = propsForPolicies(props);
        expect(view.spec.labels).toEqual(props.spec.labels);
        expect(view.token).toEqual({ id: "t" });
        expect((view as Record<string, unknown>).__isSpecialProxy).toBe(true);
        expect((view.spec.template.containers as unknown as Record<string, unknown>).__isSpecialProxy).toBe(true);
        const known = { spec: { labels: { a: "b" } } };
        expect(propsForPolicies(known)).toBe(known);
        expect(plain(known)).toBe(known);
    });

    it("gives stack policies parent and dependencies as resource objects", () => {
        const seen: string[] = [];
        const graph = stackPolicy({
            ...audit,
            name: "graph",
            description: "d",
            enforcementLevel: "mandatory",
            validateStack: (args) => {
                for (const r of args.resources) seen.push(`${r.name}<-${r.parent?.name ?? "-"}:${r.dependencies.map((d) => d.name).join(",")}`);
            },
        });
        evaluatePolicies(
            [bucket("a", {}), bucket("b", {}, { parent: "urn:pulumi:s::p::aws:s3/bucket:Bucket::a", dependencies: ["urn:pulumi:s::p::aws:s3/bucket:Bucket::a"] })],
            { policies: [graph] },
        );
        expect(seen).toEqual(["a<--:", "b<-a:a"]);
    });
});

describe("shared reads of a stack analysis", () => {
    it("resourcesOfType gives what filtering by type gives, a new array each time, per resources array", () => {
        const resources = [bucket("a", {}), { urn: "u", type: "aws:ec2/vpc:Vpc", name: "v", props: {} }, bucket("b", {})] as unknown as StackValidationArgs["resources"];
        const args = { resources } as StackValidationArgs;
        const buckets = resourcesOfType(args, "aws:s3/bucket:Bucket");
        expect(buckets.map((r) => r.name)).toEqual(["a", "b"]);
        buckets.pop();
        expect(resourcesOfType(args, "aws:s3/bucket:Bucket").map((r) => r.name)).toEqual(["a", "b"]);
        expect(resourcesOfType(args, "aws:kms/key:Key")).toEqual([]);
        expect(resourcesOfType({ resources: resources.slice(1) } as StackValidationArgs, "aws:s3/bucket:Bucket").map((r) => r.name)).toEqual(["b"]);
    });

    it("oncePerStack computes once per resources array, and keeps no result of a computation that threw", () => {
        let calls = 0;
        const count = oncePerStack((resources) => {
            calls++;
            if (resources.some((r) => r.name === "unknown")) throw new Error("unknown during the preview");
            return resources.length;
        });
        const one = [bucket("a", {})];
        expect([count(one), count(one), count([...one])]).toEqual([1, 1, 1]);
        expect(calls).toBe(2);
        const failing = [bucket("unknown", {})];
        expect(() => count(failing)).toThrow("unknown during the preview");
        expect(() => count(failing)).toThrow("unknown during the preview");
        expect(calls).toBe(4);
    });

    it("asList reads a list as [x ?? []].flat() does, and selectorMatches labels as Object.entries did: a proxy over an unknown whole first", () => {
        expect([asList(undefined), asList(null), asList("a"), asList(["a", "b"])]).toEqual([[], [], ["a"], ["a", "b"]]);
        const list = ["create", UNKNOWN];
        expect(asList(list)).toBe(list);
        // Through CrossGuard's proxy the unknown ends the read even where the first element would decide.
        const proxied = propsForPolicies({ verbs: list }).verbs;
        expect(() => asList(proxied).some((v) => v === "create")).toThrow(/can't be known during preview/);
        expect(() => [proxied ?? []].flat().some((v) => v === "create")).toThrow(/can't be known during preview/);
        // So does selectorMatches with labels it could already tell apart, as Object.entries read them.
        const selector = propsForPolicies({ matchLabels: { app: "x", tier: UNKNOWN } });
        expect(() => selectorMatches(selector, { app: "y" })).toThrow(/can't be known during preview/);
        expect(selectorMatches({ matchLabels: { app: "x", tier: "a" } }, { app: "y" })).toBe(false);
    });
});

describe("policy config validation", () => {
    it("names unknown policies, bad levels and bad properties", () => {
        try {
            resolvePolicyConfig({ nope: "mandatory", "no-public-bucket": { enforcementLevel: "loud", allowed: "x", extra: 1 }, all: { enforcementLevel: "advisory", x: 1 } }, [noPublic], "cfg.json");
            throw new Error("accepted");
        } catch (e) {
            expect(e).toBeInstanceOf(PolicyConfigError);
            const problems = (e as PolicyConfigError).problems;
            expect(problems).toContain("cfg.json: nope: unknown policy (the pack has: no-public-bucket)");
            expect(problems).toContain("cfg.json: no-public-bucket.enforcementLevel: must be one of advisory, mandatory, remediate, disabled, got \"loud\"");
            expect(problems).toContain("cfg.json: no-public-bucket.allowed: must be array");
            expect(problems).toContain('cfg.json: no-public-bucket: unknown property "extra"');
            expect(problems).toContain("cfg.json: all: may only set enforcementLevel, got x");
        }
    });
});

describe("input files", () => {
    it("accepts a bare array and fills in URNs; rejects wrong shapes with the index", () => {
        const rs = readResources([{ type: "aws:s3/bucket:Bucket", name: "a", props: {} }], "f.json");
        expect(rs[0].urn).toBe("urn:pulumi:stack::project::aws:s3/bucket:Bucket::a");
        expect(() => readResources([{ name: "a" }], "f.json")).toThrow('f.json: resources[0].type: must be a type token such as "aws:eks/cluster:Cluster"');
        expect(() => readResources({ nope: 1 }, "f.json")).toThrow(/must be the plan's --json document/);
    });
});

describe("reports", () => {
    const result = evaluatePolicies([bucket("a", { acl: "public-read" })], { policies: [noPublic] });

    it("writes SARIF 2.1.0 with one rule a policy and one result a violation", () => {
        const sarif = renderSarif(result, [noPublic] as RegionPolicy[], { version: "9.9.9", artifactUri: "Pulumi.dev.yaml" });
        expect(sarif.version).toBe("2.1.0");
        expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
        const run = sarif.runs[0];
        expect(run.tool.driver.rules.map((r) => r.id)).toEqual(["no-public-bucket"]);
        expect(run.results).toHaveLength(1);
        expect(run.results[0]).toMatchObject({ ruleId: "no-public-bucket", ruleIndex: 0, level: "error", message: { text: "Buckets are private.\nbucket a is public" } });
        expect(run.results[0].locations[0].logicalLocations[0].fullyQualifiedName).toBe("urn:pulumi:s::p::aws:s3/bucket:Bucket::a");
        expect(run.results[0].locations[0].physicalLocation?.artifactLocation.uri).toBe("Pulumi.dev.yaml");
    });

    it("writes a pull-request comment with the verdict, the finding and its remediation", () => {
        const md = renderMarkdown(result, [noPublic] as RegionPolicy[]);
        expect(md).toMatch(/^### :x: Policy results/);
        expect(md).toContain("| mandatory | high | `no-public-bucket` | `a` (aws:s3/bucket:Bucket) | bucket a is public | test remediation long enough |");
    });
});

describe("the catalog", () => {
    it("is current (regenerate with npm run policy:catalog)", () => {
        const file = fs.readFileSync(path.resolve(__dirname, "../../docs/policies.md"), "utf8");
        expect(file).toBe(`${renderCatalog(policies, { name: PACK_NAME, version: PACK_VERSION }, changePolicies)}\n`);
    });

    it("documents every policy with its mappings and samples", () => {
        const text = renderCatalog(policies, { name: PACK_NAME, version: PACK_VERSION }, changePolicies);
        for (const p of [...policies, ...changePolicies]) {
            expect(text).toContain(`## ${p.name}`);
            for (const s of p.samples.disallowed) expect(text).toContain(s.expect);
            for (const c of p.controls) expect(text).toContain(`${c.framework} ${c.control}`);
        }
    });
});
