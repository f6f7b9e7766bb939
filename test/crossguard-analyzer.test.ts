import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    aliasUrn,
    damaged,
    EvaluationResult,
    evaluatePolicies,
    isStackPolicy,
    parseUrn,
    ResolvedPolicyConfig,
    ResourceSnapshot,
    sampleSnapshots,
    seededRandom,
    seedOf,
} from "compute-region-policies/engine";
import { durationSeconds } from "compute-region-policies/model";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { plan, ROOT } from "./helpers";
import { PackAnalyzer, startPackAnalyzer } from "./policy-analyzer";

/**
 * The evaluator against Pulumi's own CrossGuard analyzer. The policy pack is served as `pulumi
 * preview --policy-pack policies` serves it: @pulumi/pulumi/cmd/run-policy-pack runs the compiled
 * pack, whose PolicyPack starts @pulumi/policy's gRPC analyzer and prints its port. The test then
 * asks it what the engine asks, over gRPC with the analyzer protocol that ships with @pulumi/pulumi:
 * Configure with the policy config, Analyze for each resource (its inputs), AnalyzeStack for the
 * stack (every resource's outputs, parents and dependencies). On every policy's samples and on the
 * dev plan, as planned and with values unknown as in a preview, each analysis call's diagnostics
 * (policy, enforcement level, resource, message; "can't run during preview" included) must be the
 * evaluator's results for that call, and a call the analyzer fails must be one the evaluator reports
 * as a failed analysis. One server for the file.
 */

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const structPb = require("google-protobuf/google/protobuf/struct_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const LEVELS: Record<number, string> = Object.fromEntries(Object.entries(analyzerPb.EnforcementLevel as Record<string, number>).map(([k, v]) => [v, k.toLowerCase()]));
const LEVEL_OF: Record<string, number> = analyzerPb.EnforcementLevel;

let analyzer: PackAnalyzer | undefined;

/** A unary call to the analyzer, as a promise. */
function call<T>(method: string, request: unknown): Promise<T> {
    return analyzer!.call<T>(method, request);
}

beforeAll(async () => {
    analyzer = await startPackAnalyzer(ROOT, path.join(ROOT, "policies"));
    const info = await call<any>("getAnalyzerInfo", new emptyPb.Empty());
    expect(info.getName()).toBe(PACK_NAME);
    expect(info.getVersion()).toBe(PACK_VERSION);
});

afterAll(() => analyzer?.stop());

const struct = (value: Record<string, unknown>) => structPb.Struct.fromJavaScript(JSON.parse(JSON.stringify(value)));

/** What the engine sends of a resource: its options (alias URNs resolved, timeouts in seconds) and its provider. */
function resourceFields(message: any, r: ResourceSnapshot, properties: Record<string, unknown>, byUrn: ReadonlyMap<string, ResourceSnapshot>): void {
    message.setType(r.type);
    message.setProperties(struct(properties));
    message.setUrn(r.urn);
    message.setName(r.name);
    const options = new analyzerPb.AnalyzerResourceOptions();
    const opts = r.opts ?? {};
    options.setProtect(opts.protect === true);
    options.setIgnorechangesList(opts.ignoreChanges ?? []);
    if (opts.deleteBeforeReplace) {
        options.setDeletebeforereplace(true);
        options.setDeletebeforereplacedefined(true);
    }
    const where = parseUrn(r.urn);
    options.setAliasesList(where ? (opts.aliases ?? []).map((a) => aliasUrn(a, r, where.stack, where.project)) : []);
    if (opts.customTimeouts) {
        const timeouts = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts();
        timeouts.setCreate(durationSeconds(opts.customTimeouts.create) ?? 0);
        timeouts.setUpdate(durationSeconds(opts.customTimeouts.update) ?? 0);
        timeouts.setDelete(durationSeconds(opts.customTimeouts.delete) ?? 0);
        options.setCustomtimeouts(timeouts);
    }
    if (r.parent) options.setParent(r.parent);
    message.setOptions(options);
    const provider = opts.provider ? byUrn.get(opts.provider) : undefined;
    if (provider) {
        const p = new analyzerPb.AnalyzerProviderResource();
        p.setType(provider.type);
        p.setProperties(struct(provider.outputs ?? provider.props));
        p.setUrn(provider.urn);
        p.setName(provider.name);
        message.setProvider(p);
    }
}

/** One analysis call's results, normalised: `policy | level | resource | message`, sorted. */
type Verdicts = string[];
const line = (policy: string, level: string, urn: string | undefined, message: string) => `${policy} | ${level} | ${urn ?? ""} | ${message}`;

function diagnostics(response: any, urn?: string): Verdicts {
    // A diagnostic with no URN is about the resource analyzed (the engine attributes it so).
    return response.getDiagnosticsList().map((d: any) => line(d.getPolicyname(), LEVELS[d.getEnforcementlevel()], d.getUrn() || urn, d.getMessage())).sort();
}

/** The analyzer's verdicts, call by call: each resource's Analyze, then the stack's AnalyzeStack. */
async function analyzerVerdicts(resources: readonly ResourceSnapshot[], config: ResolvedPolicyConfig): Promise<Map<string, Verdicts | { error: string }>> {
    const request = new analyzerPb.ConfigureAnalyzerRequest();
    const map = request.getPolicyconfigMap();
    for (const [name, { enforcementLevel, ...properties }] of Object.entries(config)) {
        const c = new analyzerPb.PolicyConfig();
        c.setEnforcementlevel(LEVEL_OF[String(enforcementLevel ?? "advisory").toUpperCase()]);
        c.setProperties(struct(properties));
        map.set(name, c);
    }
    await call("configure", request);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const out = new Map<string, Verdicts | { error: string }>();
    for (const r of resources) {
        const req = new analyzerPb.AnalyzeRequest();
        resourceFields(req, r, r.props, byUrn);
        try {
            out.set(r.urn, diagnostics(await call("analyze", req), r.urn));
        } catch (e) {
            out.set(r.urn, { error: (e as Error).message });
        }
    }
    const stack = new analyzerPb.AnalyzeStackRequest();
    stack.setResourcesList(
        resources.map((r) => {
            const a = new analyzerPb.AnalyzerResource();
            resourceFields(a, r, r.outputs ?? r.props, byUrn);
            if (r.parent) a.setParent(r.parent);
            a.setDependenciesList(r.dependencies ?? []);
            return a;
        }),
    );
    try {
        out.set("(stack)", diagnostics(await call("analyzeStack", stack)));
    } catch (e) {
        out.set("(stack)", { error: (e as Error).message });
    }
    return out;
}

/** The evaluator's results in the same calls: resource policies' by the resource they judged, stack policies' together. */
function evaluatorVerdicts(resources: readonly ResourceSnapshot[], result: EvaluationResult): Map<string, Verdicts | { error: string }> {
    const stackPolicy = new Set(policies.filter(isStackPolicy).map((p) => p.name));
    const out = new Map<string, Verdicts | { error: string }>([...resources.map((r) => [r.urn, [] as Verdicts] as const), ["(stack)", []]]);
    const scope = (policy: string, urn: string | undefined) => (stackPolicy.has(policy) ? "(stack)" : urn!);
    for (const v of result.violations) (out.get(scope(v.policy, v.urn)) as Verdicts).push(line(v.policy, v.enforcementLevel, v.urn, v.message));
    for (const n of result.notRun) (out.get(scope(n.policy, n.urn)) as Verdicts).push(line(n.policy, "advisory", n.urn, n.message));
    for (const [key, list] of out) if (Array.isArray(list)) out.set(key, list.sort());
    for (const f of result.failedAnalyses) out.set(f.scope === "stack" ? "(stack)" : f.urn!, { error: f.policies.join(", ") });
    return out;
}

/** Both sides on the same resources and config, call by call; an analyzer error must name the policy the evaluator says threw. */
async function compare(resources: readonly ResourceSnapshot[], config: ResolvedPolicyConfig, what: string): Promise<number> {
    const evaluator = evaluatorVerdicts(resources, evaluatePolicies(resources, { policies, config, packName: PACK_NAME, packVersion: PACK_VERSION, packEnforcementLevel: "advisory" }));
    const analyzer = await analyzerVerdicts(resources, config);
    expect([...analyzer.keys()].sort(), what).toEqual([...evaluator.keys()].sort());
    let verdicts = 0;
    for (const [key, theirs] of analyzer) {
        const ours = evaluator.get(key)!;
        if ("error" in ours || "error" in theirs) {
            expect("error" in theirs && "error" in ours, `${what}, ${key}: the analyzer ${"error" in theirs ? `failed (${theirs.error})` : "answered"}, the evaluator ${"error" in ours ? "reports a failed analysis" : "does not"}`).toBe(true);
            for (const p of (ours as { error: string }).error.split(", ")) expect((theirs as { error: string }).error, `${what}, ${key}`).toContain(`policy '${p}'`);
            continue;
        }
        expect(ours, `${what}, ${key === "(stack)" ? "the stack's analysis" : `Analyze of ${key}`}`).toEqual(theirs);
        verdicts += (theirs as Verdicts).length;
    }
    return verdicts;
}

describe("the evaluator and CrossGuard's own analyzer give the same verdicts", () => {
    const samples = policies.flatMap((p) => [...p.samples.allowed.map((s) => [p, s, "allows"] as const), ...p.samples.disallowed.map((s) => [p, s, "rejects"] as const)]);

    it(`on every policy's samples (${samples.length}), each judged by its own policy`, async () => {
        let violations = 0;
        for (const [p, s, verdict] of samples) {
            // Only the sample's policy is enforced, as the policy CLI test runs them.
            const config: ResolvedPolicyConfig = Object.fromEntries(policies.map((q) => [q.name, q === p ? { enforcementLevel: p.enforcementLevel, ...(s.config ?? {}) } : { enforcementLevel: "disabled" as const }]));
            const found = await compare(sampleSnapshots(s), config, `${p.name} ${verdict}: ${s.description}`);
            if (verdict === "rejects") expect(found, `${p.name} rejects: ${s.description}`).toBeGreaterThan(0);
            violations += found;
        }
        expect(violations).toBeGreaterThan(samples.length / 3);
    });

    let dev: OfflinePlanResult;
    beforeAll(async () => {
        dev = await plan();
    });

    it("on the dev plan, every policy at its own level", async () => {
        await compare(dev.resources, {}, "the dev plan");
    });

    it("on the dev plan with values unknown, as a preview has them: the same not run, the same (no) violations", async () => {
        const seed = seedOf(`${dev.resources.length}:${dev.resources.map((r) => r.urn).sort().join()}`);
        const next = seededRandom(seed);
        const log: string[] = [];
        const resources = dev.resources.map((r) => ({
            ...r,
            props: damaged(r.props, next, 0.05, log, "", ["unknown"]) as Record<string, unknown>,
            ...(r.outputs ? { outputs: damaged(r.outputs, next, 0.05, log, "", ["unknown"]) as Record<string, unknown> } : {}),
        }));
        expect(log.length).toBeGreaterThan(100);
        const verdicts = await compare(resources, {}, `the dev plan with ${log.length} values unknown (seed ${seed})`);
        // Not run, in both: the policies that read an unknown said so.
        expect(verdicts).toBeGreaterThan(10);
    });
});
