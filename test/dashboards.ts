import type { Dashboard } from "@grafana/schema";
import { expect } from "vitest";

/**
 * What Grafana needs of a dashboard the region provisions, beyond its `@grafana/schema` type (which
 * the components are written against): a valid uid, a schema version Grafana migrates from, unique
 * panel ids, panels inside the 24-column grid and never overlapping, and a Prometheus query in every target.
 */
export function expectValidDashboard(d: Dashboard): void {
    const json = JSON.parse(JSON.stringify(d));
    expect(json.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(json.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(json.title).toBeTruthy();
    const ids = json.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of json.panels) {
        expect(["timeseries", "stat", "table"]).toContain(p.type);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
            for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
                expect(cells.has(`${x},${y}`), `panels overlap at ${x},${y}`).toBe(false);
                cells.add(`${x},${y}`);
            }
        }
        expect(p.targets.length).toBeGreaterThan(0);
        for (const t of p.targets) {
            expect(t.refId).toMatch(/^[A-Z]$/);
            expect(t.expr.length).toBeGreaterThan(0);
            expect(t.datasource.type).toBe("prometheus");
        }
    }
}
