import Table from "cli-table3";
import type { RegionIsolationEvidence, Rehearsal, ScheduledResource } from "compute-region-policies/model";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import type { OfflinePlanResult } from "./harness";
import { CapacityRow, PlanEvidence, planEvidence } from "./evidence";
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
    // A long or multi-line string (a document in a ConfigMap) reads as its start, on one line.
    if (typeof value === "string") return value.length > 100 || value.includes("\n") ? `${value.replace(/\s*\n\s*/g, " ").slice(0, 97)}...` : value;
    const text = JSON.stringify(value, (_k, v) => (isSecretValue(v) ? "[secret]" : v === UNKNOWN ? "(known after deploy)" : v));
    return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/**
 * The capacity table (guaranteed GPUs, burst the autoscaler may add, and a Capacity Block's window
 * with what it counts at the plan's date) and how capacity moves (the autoscaler, each node group's
 * bounds, version and repair).
 */
export function capacityLines(evidence: PlanEvidence): string[] {
    const lines: string[] = [];
    const capacity = evidence.capacity;
    lines.push(`GPU capacity (from the planned node groups and queues; counted at ${capacity[0]?.countedAt ?? "now"})`);
    const window = (c: CapacityRow) => (c.window ? `${c.window.startsAt} to ${c.window.endsAt} (${c.windowPhase}: ${c.guaranteedAt} GPUs)` : "");
    lines.push(
        capacity.length === 0
            ? "  no GPU pools"
            : textTable(
                  ["pool", "role", "instance type", "nodes (min-max)", "GPUs guaranteed", "burst", "headroom", "sellable", "sold", "free", "Capacity Block window"],
                  capacity.map((c) => [c.pool, c.role, c.instanceType, `${c.minNodes}-${c.maxNodes}`, c.guaranteed, c.burst, `${c.headroomGpus} (${Math.round(c.headroom * 100)}%)`, c.sellable, c.sold, c.free, window(c)]),
                  ["left", "left", "left", "right", "right", "right", "right", "right", "right", "right", "left"],
              ),
    );
    lines.push("");
    const { autoscaler, nodeGroups, nodeMonitoringAgent } = evidence.autoscaling;
    lines.push("Autoscaling and node health");
    lines.push(
        autoscaler
            ? `  Cluster Autoscaler: chart ${autoscaler.chartVersion ?? "?"}, image ${autoscaler.imageTag ?? "(chart default)"}, discovers the node groups of ${autoscaler.clusterName ?? "(none: no autoscaler is deployed)"}; scale-down removes only GPU nodes below ${autoscaler.gpuScaleDownThreshold} GPU utilization`
            : "  Cluster Autoscaler: none (no node group grows above its minimum)",
    );
    lines.push(`  Node monitoring agent: ${nodeMonitoringAgent ? "installed (node conditions for auto-repair)" : "none"}`);
    if (nodeGroups.length > 0) {
        lines.push(
            textTable(
                ["node group", "pool", "nodes (min-max)", "bounds set by", "Kubernetes", "auto-repair"],
                nodeGroups.map((g) => [g.nodeGroup, g.pool ?? "(system)", `${g.minNodes}-${g.maxNodes}`, g.scaledBy ?? "the node group", g.version === UNKNOWN ? "(the cluster's)" : (g.version ?? "(kept from creation)"), g.repair ? "on" : "off"]),
                ["left", "left", "right", "left", "left", "left"],
            ),
        );
    }
    return lines;
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
    lines.push(...capacityLines(evidence));
    lines.push("");
    const { rules, dashboards } = evidence.monitoring;
    lines.push(`Alert rules (${rules.length})`);
    lines.push(
        rules.length === 0
            ? "  none"
            : textTable(["group", "alert", "severity", "team", "for", "objective, pool or model", "routed to"], rules.map((r) => [r.group.replace(/^compute-region\./, ""), r.alert, r.severity, r.team, r.for, r.slo || r.pool || r.model, r.receivers.join(", ") || "(no Alertmanager configuration)"]), ["left", "left", "left", "left", "left", "left", "left"]),
    );
    lines.push("");
    lines.push(`Dashboards (${dashboards.length}): ${dashboards.join(", ") || "none"}`);
    lines.push("");
    lines.push(...isolationLines(evidence.isolation));
    lines.push("");
    lines.push(...rehearsalLines(evidence.rehearsal));
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
export function isolationLines(evidence: RegionIsolationEvidence): string[] {
    const lines = [
        `Tenant isolation (reachability proof over ${evidence.policiesAnalysed} NetworkPolicies in ${evidence.namespacesAnalysed} namespaces, CNI policy mode ${evidence.cni}): ` +
            `${evidence.tenantsAnalysed} tenants analysed, ${evidence.pairsChecked} pairs checked in both directions, ${evidence.pathsFound} paths found, ` +
            `${evidence.sides.length} tenant-side findings, ${evidence.declared.length} declared paths in, ${evidence.declaredRoutes.length} declared routes out`,
    ];
    for (const p of evidence.paths) lines.push(`  PATH ${p.kind}: ${p.from} -> ${p.to} (egress: ${p.egress.join(", ")}; ingress: ${p.ingress.join(", ") || "n/a"})`);
    for (const f of evidence.sides) lines.push(`  SIDE ${f.message}`);
    const declaredFrom = [...new Set(evidence.declared.map((d) => `${d.from} on ${d.ports} (${d.why})`))];
    for (const d of declaredFrom) lines.push(`  declared: ${d}, into ${evidence.declared.filter((x) => `${x.from} on ${x.ports} (${x.why})` === d).length} tenants`);
    const routes = [...new Set(evidence.declaredRoutes.map((d) => `${d.to} on ${d.ports} (${d.why})`))];
    for (const d of routes) lines.push(`  declared route: to ${d}, from ${evidence.declaredRoutes.filter((x) => `${x.to} on ${x.ports} (${x.why})` === d).length} tenants`);
    const declaredTo = [...new Set(evidence.declaredOut.map((d) => `${d.to} on ${d.ports} (${d.why})`))];
    for (const d of declaredTo) lines.push(`  declared out: to ${d}, from ${evidence.declaredOut.filter((x) => `${x.to} on ${x.ports} (${x.why})` === d).length} tenants`);
    for (const v6 of evidence.ipv6Egress) lines.push(`  IPv6 egress ${v6}: reaches no pod (pods are IPv4), but opens the IPv6 internet where the VPC routes IPv6`);
    return lines;
}

/** The isolation evidence as a Markdown section of the pull-request report. */
export function isolationMarkdown(evidence: RegionIsolationEvidence): string {
    const out = [
        "#### Tenant isolation evidence",
        "",
        `${evidence.tenantsAnalysed} tenants analysed, ${evidence.pairsChecked} pairs checked (tenant to tenant, to internal namespaces, to the instance metadata address, and into every tenant from every other namespace) ` +
            `over ${evidence.policiesAnalysed} NetworkPolicies, CNI policy mode ${evidence.cni}: **${evidence.pathsFound} paths found**, **${evidence.sides.length} tenant-side findings**; ${evidence.declared.length} declared paths in, ${evidence.declaredRoutes.length} declared routes out.`,
        "",
    ];
    for (const f of evidence.sides) out.push(`- tenant side: ${f.message}`);
    if (evidence.sides.length > 0) out.push("");
    if (evidence.paths.length > 0) {
        out.push("| kind | from | to | egress opened by | ingress opened by |", "| --- | --- | --- | --- | --- |");
        for (const p of evidence.paths) out.push(`| ${p.kind} | \`${p.from}\` | \`${p.to}\` | ${p.egress.join("<br>")} | ${p.ingress.join("<br>") || "n/a"} |`);
        out.push("");
    }
    for (const v6 of evidence.ipv6Egress) out.push(`- IPv6 egress \`${v6}\`: reaches no pod (pods are IPv4), but opens the IPv6 internet where the VPC routes IPv6.`);
    return out.join("\n");
}

/** `1h22m`, `14m`, `45s`. */
export function formatDuration(seconds: number): string {
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m`;
}

/** Per wave: how many resources start in it, and the one that takes longest. */
export function rehearsalWaves(rehearsal: Rehearsal): { wave: number; resources: number; startsAt: number; longest: ScheduledResource }[] {
    const waves = new Map<number, ScheduledResource[]>();
    for (const s of rehearsal.schedule) waves.set(s.wave, [...(waves.get(s.wave) ?? []), s]);
    return [...waves.entries()]
        .sort(([a], [b]) => a - b)
        .map(([wave, list]) => ({
            wave,
            resources: list.length,
            startsAt: Math.min(...list.map((s) => s.startSeconds)),
            longest: list.reduce((a, b) => (b.seconds > a.seconds ? b : a)),
        }));
}

/** The first-`up` rehearsal as summary lines. */
export function rehearsalLines(rehearsal: Rehearsal): string[] {
    const lines = [
        `First pulumi up (rehearsal of ${rehearsal.resources} resources against the installed systems' upstream facts; CNI policy mode ${rehearsal.cni}): ` +
            `${rehearsal.waves} waves, expected about ${formatDuration(rehearsal.expectedSeconds)}, at most ${formatDuration(rehearsal.boundSeconds)} (every create at its time-out)`,
        `  Functional paths: ${rehearsal.functional.pathsChecked} checked, ${rehearsal.functional.pathsCut} cut; pods no NetworkPolicy selects: ${rehearsal.functional.podsUnselected}`,
        `  Findings: ${rehearsal.findings.length === 0 ? "none" : rehearsal.findings.length}`,
    ];
    for (const f of rehearsal.findings) lines.push(`  FINDING ${f.check}: ${f.message}`);
    if (rehearsal.undecided.length > 0) lines.push(`  Undecided until the deploy (they rest on values unknown during the preview; their policies say not run): ${rehearsal.undecided.length}`);
    for (const f of rehearsal.undecided) lines.push(`  UNDECIDED ${f.check}: ${f.message} (rests on ${f.undecided})`);
    lines.push("  Waves (a resource starts once everything it depends on is created)");
    lines.push(
        textTable(
            ["wave", "resources", "starts at", "longest", "takes"],
            rehearsalWaves(rehearsal).map((w) => [w.wave, w.resources, formatDuration(w.startsAt), `${w.longest.name} (${shortType(w.longest.type)})`, formatDuration(w.longest.seconds)]),
            ["right", "right", "right", "left", "right"],
        ),
    );
    lines.push("  Critical path (expected)");
    lines.push(
        textTable(
            ["starts at", "takes", "resource", "why that long"],
            rehearsal.criticalPath.map((s) => [formatDuration(s.startSeconds), formatDuration(s.seconds), `${s.name} (${shortType(s.type)})`, s.basis]),
            ["right", "right", "left", "left"],
        ),
    );
    return lines;
}

/** The rehearsal as a Markdown section of the pull-request report. */
export function rehearsalMarkdown(rehearsal: Rehearsal): string {
    const out = [
        "#### First deploy rehearsal",
        "",
        `${rehearsal.resources} resources in ${rehearsal.waves} waves; a first \`pulumi up\` is expected to take about **${formatDuration(rehearsal.expectedSeconds)}** ` +
            `(at most ${formatDuration(rehearsal.boundSeconds)} with every create at its time-out). CNI policy mode ${rehearsal.cni}; ` +
            `${rehearsal.functional.pathsChecked} required paths checked, ${rehearsal.functional.pathsCut} cut. **${rehearsal.findings.length} findings.**`,
        "",
    ];
    if (rehearsal.findings.length > 0) {
        out.push("| check | resource | missing | provided by |", "| --- | --- | --- | --- |");
        for (const f of rehearsal.findings) out.push(`| ${f.check} | \`${f.resource}\` | ${f.missing} | ${f.providedBy ? `\`${f.providedBy}\`` : "nothing in the plan"} |`);
        out.push("");
    }
    if (rehearsal.undecided.length > 0) out.push(`${rehearsal.undecided.length} more rest on values unknown during the preview (their policies say not run): ${rehearsal.undecided.map((f) => `\`${f.resource}\` (${f.check}, on \`${f.undecided}\`)`).join(", ")}.`, "");
    out.push("<details><summary>Critical path</summary>", "", "| starts at | takes | resource | why that long |", "| --- | --- | --- | --- |");
    for (const s of rehearsal.criticalPath) out.push(`| ${formatDuration(s.startSeconds)} | ${formatDuration(s.seconds)} | \`${s.name}\` (${shortType(s.type)}) | ${s.basis} |`);
    out.push("", "</details>");
    return out.join("\n");
}

function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}
