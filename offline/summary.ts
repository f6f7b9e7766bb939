import Table from "cli-table3";
import type { ResourceSnapshot } from "compute-region-policies/engine";
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
