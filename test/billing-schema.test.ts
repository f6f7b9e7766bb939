import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { loadMigrations, migrate } from "../billing/migrate";
import { writeUsage } from "../billing/metering";
import { startPostgres, TestPostgres } from "./postgres";

const MIGRATIONS = loadMigrations(path.resolve(__dirname, "../billing/migrations"));
let pg: TestPostgres;
let db: Client;

beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase("billing");
    db = await pg.connect("billing");
});
afterAll(async () => {
    await db?.end();
    await pg?.stop();
});

const expectError = async (sql: string, params: unknown[], pattern: RegExp) => {
    await expect(db.query(sql, params)).rejects.toThrow(pattern);
};

describe("billing schema on a real PostgreSQL", () => {
    it("runs the migrations in order, and a second run changes nothing", async () => {
        const first = await migrate(db, MIGRATIONS);
        expect(first.applied).toEqual(["0001_core_schema", "0002_invoices", "0003_roles"]);
        const before = (await db.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")).rows;
        const second = await migrate(db, MIGRATIONS);
        expect(second.applied).toEqual([]);
        expect(second.alreadyApplied).toHaveLength(3);
        expect((await db.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")).rows).toEqual(before);
    });

    it("serialises two migrators with the advisory lock", async () => {
        await pg.createDatabase("billing_race");
        const [a, b] = await Promise.all([pg.connect("billing_race"), pg.connect("billing_race")]);
        try {
            const [ra, rb] = await Promise.all([migrate(a, MIGRATIONS), migrate(b, MIGRATIONS)]);
            // Exactly one applied everything; the other found it all done.
            expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, 3]);
            expect((await a.query("SELECT count(*)::int AS n FROM schema_migrations")).rows[0].n).toBe(3);
        } finally {
            await a.end();
            await b.end();
        }
    });

    it("refuses a migration that changed after it was applied", async () => {
        const tampered = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, checksum: "0".repeat(64) } : m));
        await expect(migrate(db, tampered)).rejects.toThrow(/migration 0001_core_schema was changed after it was applied/);
    });

    it("keeps usage idempotent: the same window written twice is charged once", async () => {
        await db.query("INSERT INTO tenants (tenant_id) VALUES ('acme'), ('globex')");
        await db.query("INSERT INTO hosted_models (model, gpu_model) VALUES ('llama-3-8b', 'l40s')");
        const window = { start: new Date("2026-10-01T00:00:00Z"), end: new Date("2026-10-01T01:00:00Z") };
        const usage = { gpu: [{ tenant: "acme", pool: "shared-l40s", gpuModel: "l40s", window, gpuSeconds: 7200 }], hosted: [{ tenant: "globex", model: "llama-3-8b", window, requests: 10, inputTokens: 5000, outputTokens: 2000 }] };
        expect(await writeUsage(db, usage, "test")).toEqual({ inserted: 2, duplicates: 0, rejected: [] });
        expect(await writeUsage(db, usage, "test")).toEqual({ inserted: 0, duplicates: 2, rejected: [] });
        expect((await db.query("SELECT sum(gpu_seconds)::float AS s FROM gpu_usage WHERE tenant_id = 'acme'")).rows[0].s).toBe(7200);
    });

    it("rejects each kind of bad row with its constraint", async () => {
        const insert = "INSERT INTO gpu_usage (tenant_id, pool, gpu_model, window_start, window_end, gpu_seconds, source) VALUES ($1, 'p', 'l40s', $2, $3, $4, 't')";
        await expectError(insert, ["acme", "2026-10-02T00:00Z", "2026-10-02T01:00Z", -1], /gpu_usage_gpu_seconds_check/);
        await expectError(insert, ["acme", "2026-10-02T01:00Z", "2026-10-02T00:00Z", 1], /gpu_usage_check/);
        await expectError(insert, ["hooli", "2026-10-02T00:00Z", "2026-10-02T01:00Z", 1], /gpu_usage_tenant_id_fkey/);
        await expectError("INSERT INTO model_usage (tenant_id, model, window_start, window_end, requests, input_tokens, output_tokens, source) VALUES ('acme', 'llama-3-8b', '2026-10-02T00:00Z', '2026-10-02T01:00Z', 1, -5, 0, 't')", [], /model_usage_input_tokens_check/);
        await expectError("INSERT INTO model_usage (tenant_id, model, window_start, window_end, requests, input_tokens, output_tokens, source) VALUES ('acme', 'gpt-x', '2026-10-02T00:00Z', '2026-10-02T01:00Z', 1, 1, 1, 't')", [], /model_usage_model_fkey/);
        await expectError("INSERT INTO tenants (tenant_id) VALUES ('Bad_Name')", [], /tenants_tenant_id_check/);
        await expectError("UPDATE gpu_usage SET gpu_seconds = 0", [], /usage records are append-only \(UPDATE on gpu_usage\)/);
        await expectError("DELETE FROM model_usage", [], /usage records are append-only \(DELETE on model_usage\)/);
    });

    it("reports bad records from the metering writer without losing the good ones", async () => {
        const window = { start: new Date("2026-10-03T00:00:00Z"), end: new Date("2026-10-03T01:00:00Z") };
        const result = await writeUsage(db, { gpu: [{ tenant: "acme", pool: "shared-l40s", gpuModel: "l40s", window, gpuSeconds: 60 }, { tenant: "hooli", pool: "shared-l40s", gpuModel: "l40s", window, gpuSeconds: 60 }], hosted: [] }, "test");
        expect(result.inserted).toBe(1);
        expect(result.rejected).toEqual([{ record: "gpu hooli/shared-l40s 2026-10-03T00:00:00.000Z", reason: expect.stringMatching(/gpu_usage_tenant_id_fkey/) }]);
    });

    it("issues an invoice for a sample month that matches the hand-computed figure", async () => {
        await db.query(`INSERT INTO price_list (gpu_model, track, per_gpu_hour, per_1k_input_tokens, per_1k_output_tokens, effective_from) VALUES
            ('h100', 'raw', 2.500000, NULL, NULL, '2026-01-01'),
            ('h100', 'raw', 2.250000, NULL, NULL, '2026-11-16'),
            ('l40s', 'hosted', NULL, 0.000200, 0.000800, '2026-01-01')`);
        await db.query("INSERT INTO tenants (tenant_id) VALUES ('initech')");
        const at = (day: number, hour: number) => new Date(Date.UTC(2026, 10, day, hour));
        const gpu = [
            // 8 GPUs for 2 hours on 3 November at 2.50: 16 GPU-hours = 40.00
            { tenant: "initech", pool: "shared-h100", gpuModel: "h100", window: { start: at(3, 0), end: at(3, 1) }, gpuSeconds: 8 * 3600 },
            { tenant: "initech", pool: "shared-h100", gpuModel: "h100", window: { start: at(3, 1), end: at(3, 2) }, gpuSeconds: 8 * 3600 },
            // 4 GPUs for 1.5 hours on 20 November at the new price 2.25: 6 GPU-hours = 13.50
            { tenant: "initech", pool: "shared-h100", gpuModel: "h100", window: { start: at(20, 5), end: at(20, 6) }, gpuSeconds: 4 * 5400 },
            // October usage belongs to another invoice.
            { tenant: "initech", pool: "shared-h100", gpuModel: "h100", window: { start: new Date(Date.UTC(2026, 9, 31, 23)), end: at(1, 0) }, gpuSeconds: 3600 },
        ];
        // 1,234,000 input tokens at 0.0002 per 1k = 0.2468 -> 0.25; 567,000 output at 0.0008 per 1k = 0.4536 -> 0.45
        const hosted = [
            { tenant: "initech", model: "llama-3-8b", window: { start: at(10, 0), end: at(10, 1) }, requests: 900, inputTokens: 1_000_000, outputTokens: 500_000 },
            { tenant: "initech", model: "llama-3-8b", window: { start: at(11, 0), end: at(11, 1) }, requests: 100, inputTokens: 234_000, outputTokens: 67_000 },
        ];
        expect((await writeUsage(db, { gpu, hosted }, "test")).rejected).toEqual([]);
        const id = (await db.query("SELECT issue_invoice('initech', '2026-11-01') AS id")).rows[0].id;
        const invoice = (await db.query("SELECT total::text FROM invoices WHERE invoice_id = $1", [id])).rows[0];
        // 40.00 + 13.50 + 0.25 + 0.45 = 54.20
        expect(invoice.total).toBe("54.2000");
        const lines = (await db.query("SELECT description, quantity::text, unit_price::text, amount::text FROM invoice_lines WHERE invoice_id = $1 ORDER BY amount DESC", [id])).rows;
        expect(lines).toEqual([
            { description: "h100 GPUs (raw) on pool shared-h100", quantity: "16.000000", unit_price: "2.500000", amount: "40.0000" },
            { description: "h100 GPUs (raw) on pool shared-h100", quantity: "6.000000", unit_price: "2.250000", amount: "13.5000" },
            { description: "llama-3-8b output tokens", quantity: "567.000000", unit_price: "0.000800", amount: "0.4500" },
            { description: "llama-3-8b input tokens", quantity: "1234.000000", unit_price: "0.000200", amount: "0.2500" },
        ]);
        // Issuing again returns the same invoice, never a second one.
        expect((await db.query("SELECT issue_invoice('initech', '2026-11-01') AS id")).rows[0].id).toBe(id);
        expect((await db.query("SELECT count(*)::int AS n FROM invoices WHERE tenant_id = 'initech'")).rows[0].n).toBe(1);
    });

    it("lets the metering role add usage but not change it or read invoices", async () => {
        const metering = await pg.connect("billing", "metering");
        try {
            await metering.query("INSERT INTO gpu_usage (tenant_id, pool, gpu_model, window_start, window_end, gpu_seconds, source) VALUES ('acme', 'p', 'l40s', '2026-10-05T00:00Z', '2026-10-05T01:00Z', 1, 'm')");
            await expect(metering.query("SELECT * FROM invoices")).rejects.toThrow(/permission denied/);
            await expect(metering.query("DELETE FROM gpu_usage")).rejects.toThrow(/permission denied/);
        } finally {
            await metering.end();
        }
    });
});
