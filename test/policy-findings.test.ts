import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { changePolicies } from "compute-region-policies/changes";
import { evaluateChanges, evaluatePolicies, sampleSnapshots } from "compute-region-policies/engine";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import { sampleChanges } from "./change-samples";
import { ROOT } from "./helpers";

/**
 * Every finding a policy can report is reached by a disallowed sample that expects it.
 *
 * The findings are read from the policies' code, not listed by hand: every `report(...)` call in a
 * policy's file is a kind of finding, its message a template (literal text, with the interpolated
 * values as wildcards; each branch of a conditional a kind of its own). Where a policy reports what a
 * model computes, the kinds are the model's: the deploy rehearsal's `report(check, ...)` calls for the
 * checks each rehearsal policy forwards (`reportRehearsal(..., [checks], report)`), and for
 * `tenant-network-isolation` the reachability proof's side findings and path kinds (FORWARDED). The
 * test fails when a kind is reached by no sample expecting it, when a sample's finding matches no kind
 * (a finding the reading missed), or when a report site forwards a message the reading cannot see into.
 * The rehearsal's `judgedAtDeploy(...)` calls are not read: what they record always rests on a value
 * unknown during the preview, so the policy says "not run" (test/plan-fuzz.test.ts), never a violation.
 */

const POLICY_DIRS = ["policies/rules", "policies/changes"];
const REHEARSAL = "policies/model/analyses/rehearsal.ts";
const REACHABILITY = "policies/model/analyses/reachability.ts";
const BILLING = "policies/model/domain/billing.ts";
const SQL_GRANTS = "policies/model/analyses/sql-grants.ts";

interface Kind {
    policy: string;
    /** file:line of the code that makes the message. */
    where: string;
    /** The message as a pattern: literal text and wildcards. */
    parts: (string | null)[];
    regex: RegExp;
    /** Literal characters: the more, the more specific. */
    literal: number;
}

const parse = (file: string) => ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
const lineOf = (sf: ts.SourceFile, node: ts.Node) => `${sf.fileName}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A message expression as patterns: literal parts, `null` for an interpolated value; a conditional gives one pattern per branch. */
function patterns(node: ts.Expression): (string | null)[][] {
    if (ts.isParenthesizedExpression(node)) return patterns(node.expression);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [[node.text]];
    if (ts.isConditionalExpression(node)) return [...patterns(node.whenTrue), ...patterns(node.whenFalse)];
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
        return patterns(node.left).flatMap((l) => patterns(node.right).map((r) => [...l, ...r]));
    }
    if (ts.isTemplateExpression(node)) {
        const parts: (string | null)[] = [node.head.text];
        for (const span of node.templateSpans) parts.push(null, span.literal.text);
        return [parts];
    }
    return [[null]];
}

function kind(policy: string, where: string, parts: (string | null)[], anchored: boolean): Kind {
    const body = parts.map((p) => (p === null ? "[\\s\\S]*?" : escape(p))).join("");
    return { policy, where, parts, regex: new RegExp(anchored ? `^${body}$` : body), literal: parts.reduce((n, p) => n + (p?.length ?? 0), 0) };
}

/** Calls to a function named `name` in a file, with the node of each. */
function callsTo(sf: ts.SourceFile, name: string): ts.CallExpression[] {
    const found: ts.CallExpression[] = [];
    const visit = (node: ts.Node) => {
        if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) found.push(node);
        ts.forEachChild(node, visit);
    };
    visit(sf);
    return found;
}

/** The rehearsal's findings, by check: its `report(check, i, missing, message)` calls and the findings it pushes itself. */
function rehearsalKinds(): Map<string, { where: string; parts: (string | null)[] }[]> {
    const sf = parse(REHEARSAL);
    const byCheck = new Map<string, { where: string; parts: (string | null)[] }[]>();
    const add = (check: string, where: string, message: ts.Expression) => {
        for (const parts of patterns(message)) byCheck.set(check, [...(byCheck.get(check) ?? []), { where, parts }]);
    };
    for (const call of callsTo(sf, "report")) {
        const [check, , , message] = call.arguments;
        if (check && ts.isStringLiteral(check) && message) add(check.text, lineOf(sf, call), message);
    }
    const visit = (node: ts.Node) => {
        if (ts.isObjectLiteralExpression(node)) {
            const prop = (n: string) => node.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === n);
            const check = prop("check")?.initializer;
            const message = prop("message")?.initializer;
            if (check && ts.isStringLiteral(check) && message && prop("missing")) add(check.text, lineOf(sf, node), message);
        }
        ts.forEachChild(node, visit);
    };
    visit(sf);
    return byCheck;
}

/** The `message` of every `problems.push({ path, message })` in a model function, as `report` wraps it: `${prefix}<path>: <message>${suffix}`. */
function pushedProblems(file: string, fn: string, prefix: string, suffix: string): { where: string; parts: (string | null)[]; anchored: boolean }[] {
    const sf = parse(file);
    const found: { where: string; parts: (string | null)[]; anchored: boolean }[] = [];
    const visit = (node: ts.Node, inside: boolean) => {
        const here = inside || (ts.isFunctionDeclaration(node) && node.name?.text === fn);
        if (here && ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.getText(sf) === "problems.push") {
            const object = node.arguments[0];
            const message = object && ts.isObjectLiteralExpression(object) ? object.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === "message") : undefined;
            if (message) for (const parts of patterns(message.initializer)) found.push({ where: lineOf(sf, node), parts: [prefix, null, ": ", ...parts, suffix], anchored: true });
        }
        ts.forEachChild(node, (child) => visit(child, here));
    };
    visit(sf, false);
    return found;
}

/** Every `findings.push(message)` in a model function, as `report` wraps it: `${prefix}<message>`. */
function pushedFindings(file: string, fn: string, prefix: string): { where: string; parts: (string | null)[]; anchored: boolean }[] {
    const sf = parse(file);
    const found: { where: string; parts: (string | null)[]; anchored: boolean }[] = [];
    const visit = (node: ts.Node, inside: boolean) => {
        const here = inside || (ts.isFunctionDeclaration(node) && node.name?.text === fn);
        if (here && ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.getText(sf) === "findings.push" && node.arguments[0]) {
            for (const parts of patterns(node.arguments[0])) found.push({ where: lineOf(sf, node), parts: [prefix, ...parts], anchored: true });
        }
        ts.forEachChild(node, (child) => visit(child, here));
    };
    visit(sf, false);
    return found;
}

/**
 * What policies interpolate from a model: tenant-network-isolation the reachability proof's side
 * findings and path kinds, billing-covers-sales the billing registry's own problems,
 * tenant-billing-rows-scoped what the billing migrations let tenants' roles do.
 */
const FORWARDED: Record<string, { hole: string; kinds: () => { where: string; parts: (string | null)[]; anchored: boolean }[] }[]> = {
    "tenant-network-isolation": [
        {
            hole: "side.message",
            kinds: () => {
                const sf = parse(REACHABILITY);
                return callsTo(sf, "add").flatMap((call) => patterns(call.arguments[2]).map((parts) => ({ where: lineOf(sf, call), parts, anchored: false })));
            },
        },
        {
            hole: "path.kind",
            kinds: () => {
                const sf = parse(REACHABILITY);
                const found: { where: string; parts: (string | null)[]; anchored: boolean }[] = [];
                const visit = (node: ts.Node) => {
                    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.getText(sf) === "paths.push") {
                        const object = node.arguments[0];
                        const k = object && ts.isObjectLiteralExpression(object) ? object.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === "kind") : undefined;
                        // "<kind>: " opens the path finding.
                        if (k) for (const parts of patterns(k.initializer)) found.push({ where: lineOf(sf, node), parts: [...parts, ": "], anchored: false });
                    }
                    ts.forEachChild(node, visit);
                };
                visit(sf);
                return found.map((f) => ({ ...f, parts: f.parts }));
            },
        },
    ],
    "billing-covers-sales": [{ hole: "p.message", kinds: () => pushedProblems(BILLING, "registryProblems", "the billing registry: ", ".") }],
    "tenant-billing-rows-scoped": [{ hole: "finding", kinds: () => pushedFindings(SQL_GRANTS, "tenantGrantFindings", "the billing migrations: ") }],
};

/** A report site that interpolates a message made elsewhere (a `.message`, or a hole FORWARDED names): its own text says nothing of what is reported. */
const forwardsMessage = (call: ts.CallExpression, sf: ts.SourceFile, policy: string) => {
    const arg = call.arguments[0];
    if (!arg || !ts.isTemplateExpression(arg)) return false;
    const declared = (FORWARDED[policy] ?? []).map((f) => f.hole);
    return arg.templateSpans.some((s) => /\.message$/.test(s.expression.getText(sf)) || declared.includes(s.expression.getText(sf)));
};

interface PolicyFindings {
    policy: string;
    kinds: Kind[];
    /** Report sites that interpolate a message no entry of FORWARDED names. */
    opaque: string[];
}

function findingsOf(): PolicyFindings[] {
    const rehearsal = rehearsalKinds();
    const out: PolicyFindings[] = [];
    for (const dir of POLICY_DIRS) {
        for (const base of fs.readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
            const file = `${dir}/${base}`;
            const policy = base.replace(/\.ts$/, "");
            const sf = parse(file);
            const kinds: Kind[] = [];
            const opaque: string[] = [];
            const forwarded = FORWARDED[policy] ?? [];
            for (const call of callsTo(sf, "report")) {
                const arg = call.arguments[0];
                if (!arg) continue;
                if (forwardsMessage(call, sf, policy)) {
                    const holes = ts.isTemplateExpression(arg) ? arg.templateSpans.map((s) => s.expression.getText(sf)) : [];
                    const declared = forwarded.filter((f) => holes.includes(f.hole));
                    if (declared.length === 0) opaque.push(`${lineOf(sf, call)}: ${arg.getText(sf).slice(0, 80)}`);
                    for (const f of declared) for (const k of f.kinds()) kinds.push(kind(policy, k.where, k.parts, k.anchored));
                    continue;
                }
                for (const parts of patterns(arg)) kinds.push(kind(policy, lineOf(sf, call), parts, true));
            }
            for (const call of callsTo(sf, "reportRehearsal")) {
                const checks = call.arguments[1];
                if (!checks || !ts.isArrayLiteralExpression(checks)) {
                    opaque.push(`${lineOf(sf, call)}: reportRehearsal without a literal list of checks`);
                    continue;
                }
                for (const c of checks.elements) {
                    if (!ts.isStringLiteral(c)) continue;
                    for (const k of rehearsal.get(c.text) ?? []) kinds.push(kind(policy, k.where, k.parts, false));
                }
            }
            out.push({ policy, kinds, opaque });
        }
    }
    return out;
}

/** The finding text of a violation: CrossGuard prefixes the policy's description. */
const findingText = (message: string, description: string) => (message.startsWith(`${description}\n`) ? message.slice(description.length + 1) : message);

/** The most specific kinds a message matches. */
function kindsOf(message: string, kinds: readonly Kind[]): Kind[] {
    const matching = kinds.filter((k) => k.regex.test(message));
    const best = Math.max(...matching.map((k) => k.literal));
    return matching.filter((k) => k.literal === best);
}

let all: PolicyFindings[];
/** Per policy: every finding of every disallowed sample, with what the sample expects. */
const produced = new Map<string, { sample: string; expect: string; messages: string[] }[]>();

beforeAll(() => {
    all = findingsOf();
    for (const p of policies) {
        produced.set(
            p.name,
            p.samples.disallowed.map((s) => {
                const result = evaluatePolicies(sampleSnapshots(s), { policies: [p], config: s.config ? { [p.name]: s.config } : {}, packName: PACK_NAME, packVersion: PACK_VERSION });
                return { sample: s.description, expect: s.expect, messages: result.violations.map((v) => findingText(v.message, p.description)) };
            }),
        );
    }
    for (const p of changePolicies) {
        produced.set(
            p.name,
            p.samples.disallowed.map((s) => {
                const result = evaluateChanges(sampleChanges(s), { policies: [p], config: s.config ? { [p.name]: s.config } : {}, packName: PACK_NAME, packVersion: PACK_VERSION });
                return { sample: s.description, expect: s.expect, messages: result.violations.map((v) => findingText(v.message, p.description)) };
            }),
        );
    }
});

describe("every finding a policy can report", () => {
    it("is read from the code of every policy, which has a file of its name", () => {
        const names = [...policies, ...changePolicies].map((p) => p.name).sort();
        expect(all.map((f) => f.policy).sort()).toEqual(names);
        for (const f of all) expect(f.kinds.length, `${f.policy}: no report(...) found`).toBeGreaterThan(0);
        expect(all.flatMap((f) => f.opaque), "report sites that interpolate a message made elsewhere: name its source in FORWARDED").toEqual([]);
        // The reading sees what it must: rehearsal checks, reachability sides and paths.
        expect(all.find((f) => f.policy === "tenant-network-isolation")!.kinds.some((k) => k.where.startsWith(REACHABILITY) && /tenant-to-internal/.test(k.parts.join("")))).toBe(true);
    });

    it("maps every finding a disallowed sample produces to a kind read from the code", () => {
        const unmapped: string[] = [];
        for (const f of all) {
            for (const s of produced.get(f.policy) ?? []) for (const m of s.messages) if (kindsOf(m, f.kinds).length === 0) unmapped.push(`${f.policy} (${s.sample}): ${m}`);
        }
        expect(unmapped).toEqual([]);
    });

    it("is reached by a disallowed sample that expects it", () => {
        const unreached: string[] = [];
        let total = 0;
        for (const f of all) {
            const reached = new Set<Kind>();
            for (const s of produced.get(f.policy) ?? []) {
                for (const m of s.messages.filter((m) => m.includes(s.expect))) for (const k of kindsOf(m, f.kinds)) reached.add(k);
            }
            total += f.kinds.length;
            for (const k of f.kinds) if (!reached.has(k)) unreached.push(`${f.policy}: ${k.where}: ${k.parts.map((p) => p ?? "…").join("")}`);
        }
        expect(total).toBeGreaterThan(150);
        expect(unreached).toEqual([]);
    });
});
