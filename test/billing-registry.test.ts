import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { RegistryDocument, renderRegistry } from "compute-region-policies/model";
import { addAdjustment, issueInvoice } from "../billing/invoice";
import { loadMigrations, migrate } from "../billing/migrate";
import { writeUsage } from "../billing/metering";
import { SyncError, syncRegistry } from "../billing/registry";
import { startPostgres, TestPostgres } from "./postgres";

/**
 * The registry sync's history on a real PostgreSQL: what changes is a new row from the sync's time,
 * what took effect never changes, a tenant that leaves keeps its rows, a tenant belongs to one
 * registry; and the invoice of a month whose discount changed halfway, with adjustments.
 */

let pg: TestPostgres;
let db: Client;
beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase("billing");
    db = await pg.connect("billing");
    await migrate(db, loadMigrations(path.resolve(__dirname, "../billing/migrations")));
});
afterAll(async () => {
    await db?.end();
    await pg?.stop();
});

const utc = (s: string) => new Date(`${s}Z`);
const POOLS = [{ name: "shared-h100", role: "shared" as const, instanceType: "p5.48xlarge", minNodes: 2, maxNodes: 2, headroom: 0.25 }];
const PRICE = { track: "reserved", gpuModel: "h100", perGpuHour: 3, effectiveFrom: "2030-01-01" };
type Terms = { gpus?: number; discount?: number; prices?: (typeof PRICE)[]; tenants?: string[]; scope?: string };
function doc({ gpus = 4, discount = 0, prices = [PRICE], tenants = ["acme", "hooli"], scope = "region" }: Terms = {}): RegistryDocument {
    return renderRegistry({
        scope,
        currency: "USD",
        prices,
        pools: POOLS,
        models: [],
        tenants: tenants.map((name) => ({ name, state: "active" as const, quota: { "shared-h100": gpus }, spot: {}, models: [], contract: { discountPercent: name === "acme" ? discount : 0 } })),
    });
}
const rows = async (sql: string) => (await db.query(sql)).rows;

describe("the registry sync's history", () => {
    it("applies a first document, and again changes nothing", async () => {
        const first = await syncRegistry(db, doc(), utc("2030-01-01T00:00:00"));
        expect(first.changed).toBe(true);
        expect(first.changes.commitments).toEqual(["acme reserved shared-h100: 0 -> 4", "hooli reserved shared-h100: 0 -> 4"]);
        expect((await syncRegistry(db, doc(), utc("2030-01-01T01:00:00"))).changed).toBe(false);
        expect(await rows("SELECT count(*)::int AS n FROM registry_syncs")).toEqual([{ n: 1 }]);
    });

    it("adds a price from a day to come and corrects it before that day, but never after", async () => {
        const later = { ...PRICE, perGpuHour: 2.5, effectiveFrom: "2030-02-01" };
        await syncRegistry(db, doc({ prices: [PRICE, later] }), utc("2030-01-10T00:00:00"));
        const corrected = await syncRegistry(db, doc({ prices: [PRICE, { ...later, perGpuHour: 2.6 }] }), utc("2030-01-20T00:00:00"));
        expect(corrected.changes.prices.changed).toEqual(["reserved h100 2.6 per GPU-hour from 2030-02-01 (was 2.5)"]);
        const after = syncRegistry(db, doc({ prices: [PRICE, { ...later, perGpuHour: 2.7 }] }), utc("2030-02-02T00:00:00"));
        await expect(after).rejects.toThrow(SyncError);
        await expect(after).rejects.toThrow(/effective 2030-02-01 would change from 2.6 to 2.7, and it has been in force since before 2030-02-02/);
        expect(await rows("SELECT unit_price::text FROM prices WHERE effective_from = '2030-02-01'")).toEqual([{ unit_price: "2.600000" }]);
    });

    it("keeps a tenant that leaves, with its rows, and ends what it held when it left", async () => {
        const r = await syncRegistry(db, doc({ prices: [PRICE, { ...PRICE, perGpuHour: 2.6, effectiveFrom: "2030-02-01" }], tenants: ["acme"] }), utc("2030-02-10T00:00:00"));
        expect(r.changes.tenants.removed).toEqual(["hooli"]);
        expect(await rows("SELECT state FROM tenants WHERE tenant_id = 'hooli'")).toEqual([{ state: "removed" }]);
        expect((await rows("SELECT quantity FROM commitments WHERE tenant_id = 'hooli' ORDER BY effective_from")).map((c) => c.quantity)).toEqual([4, 0]);
    });

    it("lets one registry own a tenant: a shard's document cannot take the region's", async () => {
        const shard = doc({ scope: "shard:a", tenants: ["acme"] });
        await expect(syncRegistry(db, { ...shard, pools: doc().pools }, utc("2030-02-11T00:00:00"))).rejects.toThrow(/tenants: acme is billed by the region registry; a tenant belongs to one stack/);
    });

    it("bills a discount that changes mid-month from the time it changes, on lines of their own", async () => {
        const prices = [PRICE, { ...PRICE, perGpuHour: 2.6, effectiveFrom: "2030-02-01" }];
        await syncRegistry(db, doc({ prices, tenants: ["acme"], discount: 20 }), utc("2030-03-16T00:00:00"));
        // Metered by hand: acme's 4 reserved GPUs, every hour of March.
        const hours = 31 * 24;
        for (let h = 0; h < hours; h++) {
            const window = { start: new Date(utc("2030-03-01T00:00:00").getTime() + h * 3_600_000), end: new Date(utc("2030-03-01T00:00:00").getTime() + (h + 1) * 3_600_000) };
            await writeUsage(db, { gpu: [{ tenant: "acme", pool: "shared-h100", gpuModel: "h100", track: "reserved", window, gpuSeconds: 4 * 3600 }], hosted: [] }, "test", window);
        }
        await addAdjustment(db, { tenant: "acme", month: "2030-03", amount: "-100.00", reason: "SLO credit", source: "slo", reference: "slo-2030-03-acme" });
        // The same reference again is the same adjustment; with another amount it is an error.
        await addAdjustment(db, { tenant: "acme", month: "2030-03", amount: "-100.00", reason: "SLO credit", source: "slo", reference: "slo-2030-03-acme" });
        await expect(addAdjustment(db, { tenant: "acme", month: "2030-03", amount: "-90.00", reason: "SLO credit", source: "slo", reference: "slo-2030-03-acme" })).rejects.toThrow(/already recorded with amount -100.00/);
        const invoice = await issueInvoice(db, "acme", "2030-03", utc("2030-04-01T06:00:00"));
        // 15 days at 0% (4 GPUs x 360 h x 2.6 = 3,744.00), 16 days at 20% (4 x 384 x 2.6 x 0.8 = 3,194.88), less the credit.
        expect(invoice.lines.map((l) => [l.kind, l.quantity, l.unitPrice, l.discountPercent, l.amount])).toEqual([
            ["charge", "1440", "2.6", "0", "3744.00"],
            ["charge", "1536", "2.6", "20", "3194.88"],
            ["adjustment", "1", "-100", "0", "-100.00"],
        ]);
        expect(invoice.total).toBe("6838.88");
        // The invoice never changes: not by SQL, not by another adjustment.
        await expect(db.query("UPDATE invoices SET total = 0")).rejects.toThrow(/invoices rows are history/);
        await expect(addAdjustment(db, { tenant: "acme", month: "2030-03", amount: "5", reason: "late", source: "operator", reference: "t-1" })).rejects.toThrow(/was issued at/);
    });
});
