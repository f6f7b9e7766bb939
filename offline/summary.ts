import Table from "cli-table3";
import type { IsolationEvidence } from "compute-region-policies/model";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "./harness";
import { PlanEvidence, planEvidence } from "./evidence";
import { UNKNOWN, isSecretValue } from "compute-region-policies/engine";

/** Plain-text tables for the terminal (cli-table3, no colours so logs stay readable). */
export function textTable(head: string[], rows: (string | number)[][], align: ("left" | "right")[] = []): string {
    const table = new Table({
        head,
        colAligns: head.map((_, i) => align[i] ?? (i === 0 ? "left" : "right")),
        style: { head: [], border: [], compact: true, "padding-left": 1, "padding-right": 1 },
        chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    });
    for (const row of rows) table.push(row.map(String));
    return table.toString();
}

export interface ComponentGroup {
    type: string;
    instances: number;
    /** Custom (cloud or Kubernetes) resources under instances of this component type. */
    resources: number;
}

/**
 * Resources by component type: each custom resource counts once, for its nearest component
 * ancestor, so the rows add up to the total.
 */
export function resourcesByComponent(resources: readonly ResourceSnapshot[]): ComponentGroup[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const groups = new Map<string, ComponentGroup>();
    const group = (type: string) => {
        let g = groups.get(type);
        if (!g) groups.set(type, (g = { type, instances: 0, resources: 0 }));
        return g;
    };
    for (const r of resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        if (r.custom === false) {
            group(r.type).instances++;
            continue;
        }
        const owner = r.parent ? byUrn.get(r.parent) : undefined;
        group(owner && owner.type !== "pulumi:pulumi:Stack" ? owner.type : "(stack)").resources++;
    }
    return [...groups.values()].sort((a, b) => b.resources - a.resources || a.type.localeCompare(b.type));
}

export function resourcesByType(resources: readonly ResourceSnapshot[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources) {
        if (r.custom === false) continue;
        counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** How an output reads in the summary: secrets are never printed, unknowns are named as such. */
export function displayValue(value: unknown): string {
    if (isSecretValue(value)) return "[secret]";
    if (value === UNKNOWN) return "(known after deploy)";
    if (typeof value === "string") return value;
    const text = JSON.stringify(value, (_k, v) => (isSecretValue(v) ? "[secret]" : v === UNKNOWN ? "(known after deploy)" : v));
    return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** `against`: the plan was compared with an earlier state, whose changes lead the output; the resources are then what the program declares, not what it creates. */
export function renderSummary(plan: OfflinePlanResult, source: string, evidence: PlanEvidence = planEvidence(plan.resources), against?: string): string {
    const custom = plan.resources.filter((r) => r.custom !== false);
    const lines: string[] = [];
    lines.push(`Offline plan of ${plan.project}/${plan.stack} from ${source} (a preview${against ? ` against ${against}` : ""}: nothing is deployed)`);
    lines.push("");
    lines.push(`Resources: ${custom.length} ${against ? "declared" : "to create"}, in ${plan.resources.filter((r) => r.custom === false && r.type !== "pulumi:pulumi:Stack").length} components`);
    lines.push("");
    lines.push("By component");
    lines.push(textTable(["component", "instances", "resources"], resourcesByComponent(plan.resources).map((g) => [g.type, g.instances, g.resources])));
    lines.push("");
    lines.push("By type");
    lines.push(textTable(["type", "count"], resourcesByType(plan.resources)));
    lines.push("");
    lines.push("GPU capacity (from the planned node groups and queues)");
    const capacity = evidence.capacity;
    lines.push(
        capacity.length === 0
            ? "  no GPU pools"
            : textTable(
                  ["pool", "role", "instance type", "nodes (min-max)", "GPUs guaranteed", "headroom", "sellable", "sold", "free"],
                  capacity.map((c) => [c.pool, c.role, c.instanceType, `${c.minNodes}-${c.maxNodes}`, c.guaranteed, `${c.headroomGpus} (${Math.round(c.headroom * 100)}%)`, c.sellable, c.sold, c.free]),
                  ["left", "left", "left"],
              ),
    );
    lines.push("");
    const { rules, dashboards } = evidence.monitoring;
    lines.push(`Alert rules (${rules.length})`);
    lines.push(rules.length === 0 ? "  none" : textTable(["group", "alert", "severity", "for", "pool"], rules.map((r) => [r.group, r.alert, r.severity, r.for, r.pool]), ["left", "left", "left", "left", "left"]));
    lines.push("");
    lines.push(`Dashboards (${dashboards.length}): ${dashboards.join(", ") || "none"}`);
    lines.push("");
    lines.push(...isolationLines(evidence.isolation));
    lines.push("");
    lines.push("Stack outputs");
    lines.push(textTable(["output", "value"], Object.entries(plan.outputs).filter(([k]) => !["capacity", "alertRules", "dashboards"].includes(k)).map(([k, v]) => [k, displayValue(v)]), ["left", "left"]));
    lines.push("");
    lines.push(
        plan.placeholderSecrets.length === 0
            ? "Secrets: none in the stack config."
            : `Secrets: ${plan.placeholderSecrets.join(", ")} ${plan.placeholderSecrets.length === 1 ? "is" : "are"} encrypted (secure:) and cannot be decrypted offline; the plan used a placeholder.`,
    );
    return lines.join("\n");
}

/** The isolation evidence as summary lines. */
export function isolationLines(evidence: IsolationEvidence): string[] {
    const lines = [
        `Tenant isolation (reachability proof over ${evidence.policiesAnalysed} NetworkPolicies in ${evidence.namespacesAnalysed} namespaces): ` +
            `${evidence.tenantsAnalysed} tenants analysed, ${evidence.pairsChecked} pairs checked, ${evidence.pathsFound} paths found`,
    ];
    for (const p of evidence.paths) lines.push(`  PATH ${p.kind}: ${p.from} -> ${p.to} (egress: ${p.egress.join(", ")}; ingress: ${p.ingress.join(", ") || "n/a"})`);
    return lines;
}

/** The isolation evidence as a Markdown section of the pull-request report. */
export function isolationMarkdown(evidence: IsolationEvidence): string {
    const out = ["#### Tenant isolation evidence", "", `${evidence.tenantsAnalysed} tenants analysed, ${evidence.pairsChecked} pairs checked (tenant to tenant, to internal namespaces, to the instance metadata address) over ${evidence.policiesAnalysed} NetworkPolicies: **${evidence.pathsFound} paths found**.`, ""];
    if (evidence.paths.length > 0) {
        out.push("| kind | from | to | egress opened by | ingress opened by |", "| --- | --- | --- | --- | --- |");
        for (const p of evidence.paths) out.push(`| ${p.kind} | \`${p.from}\` | \`${p.to}\` | ${p.egress.join("<br>")} | ${p.ingress.join("<br>") || "n/a"} |`);
        out.push("");
    }
    return out.join("\n");
}
