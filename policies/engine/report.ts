import type { EvaluationResult, FailedAnalysis, Violation } from "./evaluate";
import type { PackPolicy } from "./policy";

/** Exit codes shared by `npm run policy:check` and `npm run plan`. */
export const POLICY_EXIT = { ok: 0, mandatoryViolation: 1, badInput: 2, policyError: 3 } as const;

/** 3 when a policy failed to run (a real preview would fail), else 1 on a mandatory violation, else 0. */
export function policyExitCode(result: EvaluationResult): number {
    if (result.errors.length > 0) return POLICY_EXIT.policyError;
    if (result.summary.mandatoryViolations > 0) return POLICY_EXIT.mandatoryViolation;
    return POLICY_EXIT.ok;
}

export function summaryLine(result: EvaluationResult): string {
    const s = result.summary;
    const verdict = s.errors > 0 ? "POLICY ERRORS" : s.mandatoryViolations > 0 ? "FAILED" : "PASSED";
    return (
        `${verdict}: ${s.policies} policies on ${s.resources} resources: ${s.passed} passed, ` +
        `${s.mandatoryViolations} mandatory and ${s.advisoryViolations} advisory violations, ${s.notRun} not run during preview, ` +
        `${s.errors} policy errors${s.withheld ? ` (${s.withheld} results withheld by CrossGuard)` : ""}${s.disabled ? `, ${s.disabled} disabled` : ""}`
    );
}

/**
 * What a real preview would show of a run with policy errors: CrossGuard's analyzer fails a whole
 * analysis call when one policy in it throws, so the other results of that call never reach the engine.
 */
export function withheldNotes(result: EvaluationResult): string[] {
    const where = (f: FailedAnalysis) => (f.scope === "stack" ? "the stack analysis" : `the analysis of ${f.name ?? f.urn}`);
    return result.failedAnalyses.map(
        (f) =>
            `${where(f)} fails in CrossGuard because ${f.policies.join(", ")} threw: a real preview reports that error and none of the ${f.withheld} other result${f.withheld === 1 ? "" : "s"} of ${f.scope === "stack" ? "stack policies" : "policies on that resource"} (shown here, marked withheld)`,
    );
}

/** The JSON document of `policy:check --format json` and the plan's `"policy"` section. */
export function policyJson(result: EvaluationResult) {
    return {
        violations: result.violations.map(({ policy, severity, enforcementLevel, urn, name, message, withheld }) => ({ policy, severity, enforcementLevel, urn, name, message, ...(withheld ? { withheld } : {}) })),
        notRun: result.notRun,
        errors: result.errors,
        failedAnalyses: result.failedAnalyses,
        summary: { ...result.summary, remediations: result.remediations.length },
        policies: result.policies,
    };
}

function detail(message: string): string {
    // The first line is the policy description; the rest is what was found.
    const lines = message.split("\n");
    return lines.length > 1 ? lines.slice(1).join(" ") : lines[0];
}

/** Terminal output, grouped by policy. */
export function renderText(result: EvaluationResult, policies: readonly PackPolicy[]): string {
    const lines = [`Policy results (compute-region pack)`, summaryLine(result), ...withheldNotes(result).map((n) => `  ${n}`), ""];
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const outcome of result.policies) {
        const mark = { passed: "pass", violated: "FAIL", disabled: "off ", "not-run": "n/a ", error: "ERR " }[outcome.status];
        lines.push(`  [${mark}] ${outcome.policy} (${outcome.severity}, ${outcome.enforcementLevel})${outcome.violations ? `: ${outcome.violations} violation${outcome.violations > 1 ? "s" : ""}` : ""}`);
        for (const v of result.violations.filter((x) => x.policy === outcome.policy)) {
            lines.push(`         ${v.enforcementLevel}${v.withheld ? " (withheld by CrossGuard)" : ""}: ${detail(v.message)}`);
            if (v.urn) lines.push(`           resource: ${v.urn}`);
        }
        if (outcome.status === "violated") lines.push(`         remediation: ${byName.get(outcome.policy)?.remediationSteps ?? ""}`);
        for (const e of result.errors.filter((x) => x.policy === outcome.policy)) lines.push(`         error: ${e.message}${e.urn ? ` (${e.urn})` : ""}`);
        for (const n of result.notRun.filter((x) => x.policy === outcome.policy)) lines.push(`         not run${n.withheld ? " (withheld by CrossGuard)" : ""}: ${n.message}${n.urn ? ` (${n.urn})` : ""}`);
    }
    return lines.join("\n");
}

function mdEscape(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function resourceLabel(v: { name?: string; urn?: string }): string {
    if (!v.urn) return "(stack)";
    const type = v.urn.split("::")[2]?.split("$").pop() ?? "";
    return `\`${v.name ?? v.urn.split("::").pop()}\` (${type})`;
}

/** A pull-request comment: verdict, violations with severity, resource and remediation, passing policies folded. */
export function renderMarkdown(result: EvaluationResult, policies: readonly PackPolicy[], title = "Policy results"): string {
    const byName = new Map(policies.map((p) => [p.name, p]));
    const s = result.summary;
    const icon = s.errors > 0 || s.mandatoryViolations > 0 ? ":x:" : s.advisoryViolations > 0 ? ":warning:" : ":white_check_mark:";
    const out: string[] = [`### ${icon} ${title}`, "", summaryLine(result), ""];
    const ordered: Violation[] = [...result.violations].sort((a, b) => (a.enforcementLevel === b.enforcementLevel ? 0 : a.enforcementLevel === "mandatory" ? -1 : 1));
    if (ordered.length > 0) {
        out.push("| level | severity | policy | resource | finding | remediation |", "| --- | --- | --- | --- | --- | --- |");
        for (const v of ordered) {
            out.push(`| ${v.enforcementLevel}${v.withheld ? " (withheld)" : ""} | ${v.severity} | \`${v.policy}\` | ${resourceLabel(v)} | ${mdEscape(detail(v.message))} | ${mdEscape(byName.get(v.policy)?.remediationSteps ?? "")} |`);
        }
        out.push("");
    }
    if (result.errors.length > 0) {
        out.push("**Policy errors** (a real `pulumi preview` would fail):", "");
        for (const e of result.errors) out.push(`- \`${e.policy}\`${e.urn ? ` on ${resourceLabel(e)}` : ""}: ${mdEscape(e.message)}`);
        out.push("");
        for (const note of withheldNotes(result)) out.push(`> ${note.charAt(0).toUpperCase()}${note.slice(1)}.`, "");
    }
    if (result.notRun.length > 0) {
        out.push(`<details><summary>${result.notRun.length} checks could not run during the preview (values known only after deploy)</summary>`, "");
        for (const n of result.notRun) out.push(`- \`${n.policy}\`${n.urn ? ` on ${resourceLabel(n)}` : ""}: ${mdEscape(n.message)}`);
        out.push("", "</details>", "");
    }
    const passed = result.policies.filter((o) => o.status === "passed" || o.status === "disabled");
    out.push(`<details><summary>${passed.length} policies passed or disabled</summary>`, "", "| policy | severity | level | status |", "| --- | --- | --- | --- |");
    for (const o of passed) out.push(`| \`${o.policy}\` | ${o.severity} | ${o.enforcementLevel} | ${o.status} |`);
    out.push("", "</details>", "");
    return out.join("\n");
}

/** SARIF 2.1.0: one rule a policy, one result a violation (mandatory as error, advisory as warning). */
export function renderSarif(result: EvaluationResult, policies: readonly PackPolicy[], options: { version?: string; artifactUri?: string } = {}) {
    const index = new Map(policies.map((p, i) => [p.name, i]));
    const sarifLevel = { low: "note", medium: "warning", high: "error", critical: "error" } as const;
    const location = (urn: string | undefined, name: string | undefined) => [
        {
            ...(options.artifactUri ? { physicalLocation: { artifactLocation: { uri: options.artifactUri }, region: { startLine: 1 } } } : {}),
            logicalLocations: [{ fullyQualifiedName: urn ?? "stack", name: name ?? "stack", kind: "resource" }],
        },
    ];
    return {
        $schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [
            {
                tool: {
                    driver: {
                        name: "compute-region-policies",
                        version: options.version ?? "0.0.0",
                        rules: policies.map((p) => ({
                            id: p.name,
                            name: p.name,
                            shortDescription: { text: p.description },
                            fullDescription: { text: p.rationale },
                            help: { text: p.remediationSteps },
                            defaultConfiguration: { level: sarifLevel[p.severity], enabled: p.enforcementLevel !== "disabled" },
                            properties: { severity: p.severity, tags: p.controls.map((c) => `${c.framework} ${c.control}`) },
                        })),
                    },
                },
                results: [
                    ...result.violations.map((v) => ({
                        ruleId: v.policy,
                        ruleIndex: index.get(v.policy) ?? -1,
                        level: v.enforcementLevel === "mandatory" ? "error" : "warning",
                        message: { text: v.message },
                        locations: location(v.urn, v.name),
                        ...(v.withheld ? { properties: { withheldByCrossGuard: true } } : {}),
                    })),
                    ...result.errors.map((e) => ({
                        ruleId: e.policy,
                        ruleIndex: index.get(e.policy) ?? -1,
                        level: "error",
                        kind: "fail",
                        message: { text: `policy error: ${e.message}` },
                        locations: location(e.urn, e.name),
                    })),
                ],
                invocations: [
                    {
                        executionSuccessful: result.errors.length === 0,
                        toolExecutionNotifications: withheldNotes(result).map((text) => ({ level: "error", message: { text } })),
                    },
                ],
            },
        ],
    };
}
