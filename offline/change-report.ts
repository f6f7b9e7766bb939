import type { ChangeOp } from "compute-region-policies/engine";
import { configBehind, rootCause } from "./config-changes";
import { ENGINE_MESSAGES, PlanChanges, PlannedChange } from "./diff";
import type { PendingOperation } from "./state";
import { displayValue } from "./summary";
import { parsePath, valueAt } from "./values";

/**
 * The plan's changes for people: the counts first, the engine's refusals with the config change
 * behind each, then the changes by component, replacements and deletes first with what forces
 * them. The same for the pull-request comment (Markdown) and the plan document (`--json`).
 */

export interface ChangeContext {
    /** The stack config the plan ran with. */
    config: Record<string, string>;
    /** The earlier config, when the earlier state carries it (an earlier plan does, a checkpoint does not). */
    configBefore?: Record<string, string>;
}

const ORDER: ChangeOp[] = ["replace", "delete", "update", "create", "same"];
const MARK: Record<ChangeOp, string> = { replace: "+-", delete: "- ", update: "~ ", create: "+ ", same: "  " };
/** Entries listed per component in the terminal; the document lists all. */
const LISTED_PER_COMPONENT = 12;
const PATHS_SHOWN = 4;

/** "N to create, N to update, N to replace, N to delete, N unchanged". */
export function changeCounts(counts: Record<ChangeOp, number>): string {
    return `${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ${counts.delete} to delete, ${counts.same} unchanged`;
}

function againstText(plan: PlanChanges): string {
    return plan.against.kind === "state" ? `the state in ${plan.against.source} (${plan.against.resources} resources)` : `the plan ${plan.against.source} (${plan.against.resources} resources)`;
}

/** The nearest component each change belongs to (its own URN for a component), and the components' labels. */
function components(plan: PlanChanges): { groupOf: (c: PlannedChange) => string; label: (urn: string) => string } {
    const byUrn = new Map(plan.changes.map((c) => [c.urn, c]));
    const isComponent = (c: PlannedChange | undefined) => c !== undefined && !c.custom && c.type !== "pulumi:pulumi:Stack";
    const groupOf = (c: PlannedChange) => {
        let current: PlannedChange | undefined = c;
        while (current && !isComponent(current)) current = current.parent ? byUrn.get(current.parent) : undefined;
        return current?.urn ?? "(stack)";
    };
    const label = (urn: string) => {
        const c = byUrn.get(urn);
        return c ? `${c.type} ${c.name}` : "resources of the stack";
    };
    return { groupOf, label };
}

/** `path: before -> after` for the first changed paths. */
function valueChanges(c: PlannedChange): string {
    const shown = c.diffs.slice(0, PATHS_SHOWN).map((p) => {
        const segments = parsePath(p);
        const show = (v: unknown) => (v === undefined ? "(none)" : displayValue(v));
        return `${p}: ${show(valueAt(c.old?.props, segments))} -> ${show(valueAt(c.new?.props, segments))}`;
    });
    return `${shown.join("; ")}${c.diffs.length > PATHS_SHOWN ? `; and ${c.diffs.length - PATHS_SHOWN} more` : ""}`;
}

/** Why a replacement: each forcing path and the rule behind it. */
function replaceText(c: PlannedChange): string {
    return c.reasons.map((r) => `${r.path === "(provider)" || r.path === "(taint)" ? "" : `${r.path}: `}${r.why}`).join("; ");
}

/** `'urn'`, quoted for a shell as the engine quotes URNs. */
function quoted(urn: string): string {
    return `'${urn.replace(/'/g, `'"'"'`)}'`;
}

/**
 * The commands that resolve an interrupted operation (pulumi/pulumi v3.248.0
 * pkg/cmd/pulumi/operations/refresh.go): a pending create is cleared when it failed
 * (`--clear-pending-creates`) or imported with the id the cloud gave it when it succeeded
 * (`--import-pending-creates URN ID`); `pulumi refresh` clears the others from what the provider reads.
 */
export function pendingResolution(op: Pick<PendingOperation, "type" | "urn">): { ifFailed: string; ifSucceeded: string } {
    if (op.type === "creating") {
        return { ifFailed: "pulumi refresh --clear-pending-creates", ifSucceeded: `pulumi refresh --import-pending-creates ${quoted(op.urn)} <id of the resource it created>` };
    }
    return { ifFailed: "pulumi refresh", ifSucceeded: "pulumi refresh" };
}

/** The pending operations section, first in the terminal's output: the engine's own warning and what resolves each. */
function pendingText(plan: PlanChanges): string[] {
    if (plan.pendingOperations.length === 0) return [];
    const lines = [`error: the state has ${plan.pendingOperations.length} pending operation${plan.pendingOperations.length === 1 ? "" : "s"} of an interrupted update: resolve ${plan.pendingOperations.length === 1 ? "it" : "them"} before the next (exit code 6)`];
    for (const op of plan.pendingOperations) {
        const r = pendingResolution(op);
        lines.push(`  ${op.type} ${op.urn}`, r.ifFailed === r.ifSucceeded ? `    resolve: ${r.ifFailed}` : `    if it failed:    ${r.ifFailed}`, ...(r.ifFailed === r.ifSucceeded ? [] : [`    if it succeeded: ${r.ifSucceeded}`]));
    }
    lines.push("", `The engine warns on the next update: ${ENGINE_MESSAGES.pendingOperations(plan.pendingOperations).replace(/\n/g, "\n  ")}`, "");
    return lines;
}

/** The engine's refusals, each with the config change behind it. */
export function refusals(plan: PlanChanges, context: ChangeContext): { urn: string; op: string; message: string; behind: string }[] {
    const byUrn = new Map(plan.changes.map((c) => [c.urn, c]));
    const order = new Map(plan.changes.map((c, i) => [c.urn, i]));
    const labels = new Set<string>();
    if (plan.protectErrors.length > 0) {
        for (const c of plan.changes) for (const v of Object.values(((c.new?.props as { metadata?: { labels?: Record<string, unknown> } })?.metadata?.labels ?? {}))) labels.add(String(v));
    }
    return plan.protectErrors.map((e) => {
        const change = plan.changes.find((c) => c.urn === e.urn && c.op === e.op)!;
        const root = rootCause(change, byUrn, order);
        const through = root === change ? "" : ` (it is replaced because ${change.reasons.map((r) => r.why).join("; ")}, and that goes back to ${root.type} ${root.name})`;
        return { ...e, behind: `${configBehind(root, context.configBefore, context.config, labels)}${through}` };
    });
}

function sorted(plan: PlanChanges): { group: string; changes: PlannedChange[] }[] {
    const { groupOf } = components(plan);
    const groups = new Map<string, PlannedChange[]>();
    for (const c of plan.changes) {
        if (c.op === "same") continue;
        const g = groupOf(c);
        groups.set(g, [...(groups.get(g) ?? []), c]);
    }
    const rank = (list: PlannedChange[]) => Math.min(...list.map((c) => ORDER.indexOf(c.op)));
    return [...groups.entries()]
        .map(([group, changes]) => ({ group, changes: [...changes].sort((a, b) => ORDER.indexOf(a.op) - ORDER.indexOf(b.op) || Number(protectedMark(b) !== "") - Number(protectedMark(a) !== "")) }))
        .sort((a, b) => rank(a.changes) - rank(b.changes) || b.changes.length - a.changes.length);
}

function detail(c: PlannedChange): string[] {
    const lines: string[] = [];
    if (c.op === "replace") {
        lines.push(`forced by ${replaceText(c)}`);
        if (c.deleteBeforeReplace) lines.push(`deleted before its replacement is created: ${c.deleteBeforeReplace}`);
    } else if (c.op === "update") lines.push(valueChanges(c));
    if (c.formerUrn) lines.push(`found in the state under its alias ${c.formerUrn}`);
    if (c.retained) lines.push("retainOnDelete: the cloud resource stays");
    if (c.pendingDelete) lines.push("left over from an interrupted replacement");
    if (c.pendingCreate) lines.push("an interrupted update left this create pending: the resource may exist already (see the pending operations)");
    return lines;
}

const protectedMark = (c: PlannedChange) => ((c.op === "delete" || c.op === "replace") && c.old?.protect && (c.op === "delete" || c.new?.protect) ? " [protected]" : "");

/** The terminal's change section. */
export function renderChanges(plan: PlanChanges, context: ChangeContext): string {
    const { label } = components(plan);
    const lines = [...pendingText(plan), `${changeCounts(plan.counts)} (against ${againstText(plan)})`];
    for (const r of refusals(plan, context)) lines.push("", `error: ${r.message}`, `  behind it: ${r.behind}`);
    if (plan.unruled.length > 0) lines.push("", `note: no replacement rules for ${plan.unruled.join(", ")}: their changes are planned as updates`);
    const groups = sorted(plan);
    if (groups.length > 0) lines.push("", "Changes by component (replacements and deletes first)");
    for (const { group, changes } of groups) {
        lines.push(`  ${label(group)} (${changes.length})`);
        for (const c of changes.slice(0, LISTED_PER_COMPONENT)) {
            lines.push(`    ${MARK[c.op]} ${c.op.padEnd(7)} ${c.type} ${c.name}${protectedMark(c)}`);
            for (const d of detail(c)) lines.push(`                ${d}`);
        }
        if (changes.length > LISTED_PER_COMPONENT) lines.push(`    ... and ${changes.length - LISTED_PER_COMPONENT} more (all in the plan document, --json)`);
    }
    return lines.join("\n");
}

function md(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** The pull-request comment's change section: the counts, refusals, and a collapsible list by component. */
export function changesMarkdown(plan: PlanChanges, context: ChangeContext): string {
    const { label } = components(plan);
    const refused = refusals(plan, context);
    const pending = plan.pendingOperations;
    const out = [`### ${refused.length > 0 || pending.length > 0 ? ":x:" : plan.counts.replace + plan.counts.delete > 0 ? ":warning:" : ":white_check_mark:"} Changes: ${changeCounts(plan.counts)}`, "", `Against ${againstText(plan)}.`, ""];
    for (const op of pending) {
        const r = pendingResolution(op);
        out.push(`- :x: **pending operation** of an interrupted update: \`${op.urn}\` was interrupted while ${op.type}. ${r.ifFailed === r.ifSucceeded ? `Resolve it: \`${r.ifFailed}\`` : `If it failed: \`${r.ifFailed}\`; if it succeeded: \`${md(r.ifSucceeded)}\``}`);
    }
    if (pending.length > 0) out.push("");
    for (const r of refused) out.push(`- :x: **the engine refuses**: ${md(r.message)} **Behind it**: ${md(r.behind)}`);
    if (refused.length > 0) out.push("");
    const groups = sorted(plan);
    if (groups.length > 0) {
        out.push(`<details><summary>Changes by component (${groups.reduce((n, g) => n + g.changes.length, 0)}; replacements and deletes first)</summary>`, "");
        for (const { group, changes } of groups) {
            out.push(`**${md(label(group))}**`, "", "| op | resource | type | detail |", "| --- | --- | --- | --- |");
            for (const c of changes) out.push(`| ${c.op}${protectedMark(c)} | \`${c.name}\` | ${c.type} | ${md(detail(c).join("; "))} |`);
            out.push("");
        }
        out.push("</details>", "");
    }
    return out.join("\n");
}

/** The plan document's `"changes"`: the counts, the refusals, and every change but the unchanged. */
export function changesJson(plan: PlanChanges, context: ChangeContext) {
    const { groupOf } = components(plan);
    return {
        pendingOperations: plan.pendingOperations.map((op) => ({ ...op, resolve: pendingResolution(op) })),
        against: plan.against,
        summary: plan.counts,
        protectErrors: refusals(plan, context),
        unruled: plan.unruled,
        resources: plan.changes
            .filter((c) => c.op !== "same")
            .map((c) => ({
                urn: c.urn,
                type: c.type,
                name: c.name,
                op: c.op,
                component: groupOf(c),
                diffs: c.diffs,
                ...(c.op === "replace" ? { replacedBy: c.reasons } : {}),
                ...(c.deleteBeforeReplace ? { deleteBeforeReplace: c.deleteBeforeReplace } : {}),
                ...(c.formerUrn ? { formerUrn: c.formerUrn } : {}),
                ...(c.old?.protect ? { protect: true } : {}),
                ...(c.retained ? { retainOnDelete: true } : {}),
                ...(c.pendingCreate ? { pendingCreate: true } : {}),
            })),
    };
}

/** The change sections of the plan's outputs, empty when the plan was not compared with anything. */
export function changeSections(plan: PlanChanges | undefined, context: ChangeContext, quiet: boolean): { text: string; json: { changes?: ReturnType<typeof changesJson> }; markdown: string } {
    if (!plan) return { text: "", json: {}, markdown: "" };
    return { text: `${quiet ? [...pendingText(plan), changeCounts(plan.counts)].join("\n") : renderChanges(plan, context)}\n\n`, json: { changes: changesJson(plan, context) }, markdown: `${changesMarkdown(plan, context)}\n` };
}
