import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { loadMigrations, migrate, RESERVED_MIGRATIONS } from "../billing/migrate";
import { GpuUsageRecord, writeUsage } from "../billing/metering";
import { startPostgres, TestPostgres } from "./postgres";

const MIGRATIONS = loadMigrations(path.resolve(__dirname, "../billing/migrations"));
const ALL = ["0001_core_schema", "0002_invoices", "0003_roles", "0004_registry_metering_invoices", "0005_billing_roles", "0006_tenant_views", "0007_hosted_tiers", "0008_slo_attainment_credits", "0009_tenant_endpoint_usage"];
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
const window = (day: number, hour = 0) => ({ start: new Date(Date.UTC(2026, 9, day, hour)), end: new Date(Date.UTC(2026, 9, day, hour + 1)) });
const gpu = (tenant: string, w: ReturnType<typeof window>, gpuSeconds: number, track: GpuUsageRecord["track"] = "spot"): GpuUsageRecord => ({ tenant, pool: "shared-l40s", gpuModel: "l40s", track, window: w, gpuSeconds });

describe("billing schema on a real PostgreSQL", () => {
    it("runs the migrations in order, and a second run changes nothing", async () => {
        const first = await migrate(db, MIGRATIONS);
        expect(first.applied).toEqual(ALL);
        const before = (await db.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")).rows;
        const second = await migrate(db, MIGRATIONS);
        expect(second.applied).toEqual([]);
        expect(second.alreadyApplied).toHaveLength(ALL.length);
        expect((await db.query("SELECT version, applied_at FROM schema_migrations ORDER BY version")).rows).toEqual(before);
    });

    it("serialises two migrators with the advisory lock", async () => {
        await pg.createDatabase("billing_race");
        const [a, b] = await Promise.all([pg.connect("billing_race"), pg.connect("billing_race")]);
        try {
            const [ra, rb] = await Promise.all([migrate(a, MIGRATIONS), migrate(b, MIGRATIONS)]);
            // Exactly one applied everything; the other found it all done.
            expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, ALL.length]);
            expect((await a.query("SELECT count(*)::int AS n FROM schema_migrations")).rows[0].n).toBe(ALL.length);
        } finally {
            await a.end();
            await b.end();
        }
    });

    it("refuses a migration that changed after it was applied", async () => {
        const tampered = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, checksum: "0".repeat(64) } : m));
        await expect(migrate(db, tampered)).rejects.toThrow(/migration 0001_core_schema was changed after it was applied/);
    });

    it("keeps tracks and units as data: every track the model sells has its units, and the rest are recorded unpriced", async () => {
        const tracks = (await db.query("SELECT track, priced, basis FROM billing_tracks ORDER BY track")).rows;
        expect(tracks).toEqual([
            { track: "batch", priced: true, basis: "use" },
            { track: "dedicated", priced: true, basis: "commitment" },
            { track: "dedicated_endpoint", priced: true, basis: "commitment" },
            { track: "dedicated_endpoint_use", priced: false, basis: "none" },
            { track: "hosted", priced: true, basis: "use" },
            { track: "raw", priced: false, basis: "none" },
            { track: "reserved", priced: true, basis: "commitment" },
            { track: "reserved_use", priced: false, basis: "none" },
            { track: "spot", priced: true, basis: "use" },
            { track: "unsold", priced: false, basis: "none" },
        ]);
        const { BILLING_TRACKS } = await import("compute-region-policies/model");
        const units = (await db.query("SELECT track, unit FROM billing_units ORDER BY track, unit")).rows.map((r) => `${r.track}/${r.unit}`);
        expect(units).toEqual(Object.entries(BILLING_TRACKS).flatMap(([t, d]) => Object.values(d.prices).map((u) => `${t}/${u}`)).sort());
    });

    it("keeps usage idempotent: the same window written twice is charged once", async () => {
        await db.query("INSERT INTO tenants (tenant_id) VALUES ('acme'), ('globex')");
        await db.query("INSERT INTO hosted_models (model, gpu_model) VALUES ('llama-3-8b', 'l40s')");
        const w = window(1);
        const usage = { gpu: [gpu("acme", w, 7200)], hosted: [{ tenant: "globex", model: "llama-3-8b", window: w, requests: 10, inputTokens: 5000, cachedInputTokens: 1000, outputTokens: 2000 }] };
        expect(await writeUsage(db, usage, "test", w)).toEqual({ inserted: 2, duplicates: 0, rejected: [], complete: true });
        expect(await writeUsage(db, usage, "test", w)).toEqual({ inserted: 0, duplicates: 2, rejected: [], complete: true });
        expect((await db.query("SELECT sum(gpu_seconds)::float AS s FROM gpu_usage WHERE tenant_id = 'acme'")).rows[0].s).toBe(7200);
        expect((await db.query("SELECT count(*)::int AS n FROM metered_windows")).rows[0].n).toBe(1);
    });

    it("never meters a window that overlaps another of another size: no usage is counted twice", async () => {
        const half = { start: window(1).start, end: new Date(window(1).start.getTime() + 1800_000) };
        await expect(writeUsage(db, { gpu: [gpu("acme", half, 60)], hosted: [] }, "test", half)).rejects.toThrow(/metered_windows_tstzrange_excl|conflicting key value violates exclusion constraint/);
        expect((await db.query("SELECT count(*)::int AS n FROM gpu_usage WHERE window_end = $1", [half.end])).rows[0].n).toBe(0);
    });

    it("rejects each kind of bad row with its constraint", async () => {
        const insert = "INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source) VALUES ($1, 'p', 'l40s', $2, $3, $4, $5, 't')";
        await expectError(insert, ["acme", "spot", "2026-10-02T00:00Z", "2026-10-02T01:00Z", -1], /gpu_usage_gpu_seconds_check/);
        await expectError(insert, ["acme", "spot", "2026-10-02T01:00Z", "2026-10-02T00:00Z", 1], /gpu_usage_check/);
        await expectError(insert, ["hooli", "spot", "2026-10-02T00:00Z", "2026-10-02T01:00Z", 1], /gpu_usage_tenant_id_fkey/);
        await expectError(insert, ["acme", "overtime", "2026-10-02T00:00Z", "2026-10-02T01:00Z", 1], /gpu_usage_track_fkey/);
        await expectError("INSERT INTO model_usage (tenant_id, model, window_start, window_end, requests, input_tokens, output_tokens, source) VALUES ('acme', 'llama-3-8b', '2026-10-02T00:00Z', '2026-10-02T01:00Z', 1, -5, 0, 't')", [], /model_usage_input_tokens_check/);
        await expectError("INSERT INTO model_usage (tenant_id, model, window_start, window_end, requests, input_tokens, output_tokens, source) VALUES ('acme', 'gpt-x', '2026-10-02T00:00Z', '2026-10-02T01:00Z', 1, 1, 1, 't')", [], /model_usage_model_fkey/);
        await expectError("INSERT INTO tenants (tenant_id) VALUES ('Bad_Name')", [], /tenants_tenant_id_check/);
        await expectError("UPDATE gpu_usage SET gpu_seconds = 0", [], /usage records are append-only \(UPDATE on gpu_usage\)/);
        await expectError("DELETE FROM model_usage", [], /usage records are append-only \(DELETE on model_usage\)/);
        await expectError("DELETE FROM metered_windows", [], /metered_windows rows are history: append-only \(DELETE refused\)/);
        await expectError("INSERT INTO invoice_adjustments (tenant_id, period_start, amount, currency, reason, source, reference) VALUES ('acme', '2026-10-01', -5, 'USD', ' ', 'slo', 'x')", [], /invoice_adjustments_reason_check/);
    });

    it("reports records of tenants the registry does not know without losing the good ones, and leaves the window unmetered", async () => {
        const w = window(3);
        const result = await writeUsage(db, { gpu: [gpu("acme", w, 60), gpu("hooli", w, 60)], hosted: [] }, "test", w);
        expect(result.inserted).toBe(1);
        expect(result.rejected).toEqual([{ record: "gpu hooli/shared-l40s spot 2026-10-03T00:00:00.000Z", reason: "unknown tenant hooli: the registry does not list it" }]);
        expect(result.complete).toBe(false);
        expect((await db.query("SELECT count(*)::int AS n FROM metered_windows WHERE window_start = $1", [w.start])).rows[0].n).toBe(0);
    });

    it("keeps prices that took effect: they are history, and one announced for later may still change", async () => {
        await db.query("INSERT INTO prices (track, item, unit, currency, unit_price, effective_from) VALUES ('reserved', 'l40s', 'gpu_hour', 'USD', 1.95, '2026-01-01'), ('reserved', 'l40s', 'gpu_hour', 'USD', 1.5, '2999-01-01')");
        await expectError("UPDATE prices SET unit_price = 1 WHERE effective_from = '2026-01-01'", [], /the reserved price of l40s per gpu_hour effective .* has taken effect: prices are history/);
        await expectError("DELETE FROM prices WHERE effective_from = '2026-01-01'", [], /has taken effect/);
        await db.query("UPDATE prices SET unit_price = 1.6 WHERE effective_from = '2999-01-01'");
        await db.query("DELETE FROM prices WHERE effective_from = '2999-01-01'");
        await expectError("INSERT INTO prices (track, item, unit, currency, unit_price, effective_from) VALUES ('spot', 'l40s', 'input_mtok', 'USD', 1, '2026-01-01')", [], /prices_track_unit_fkey/);
    });

    it("lets each job's role do its job and nothing more", async () => {
        const as = async (user: string, run: (c: Client) => Promise<void>) => {
            const c = await pg.connect("billing", user);
            try {
                await run(c);
            } finally {
                await c.end();
            }
        };
        await as("metering", async (c) => {
            await c.query("INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source) VALUES ('acme', 'p', 'l40s', 'spot', '2026-10-05T00:00Z', '2026-10-05T01:00Z', 1, 'm')");
            await c.query("SELECT * FROM commitments");
            await expect(c.query("SELECT * FROM invoices")).rejects.toThrow(/permission denied/);
            await expect(c.query("DELETE FROM gpu_usage")).rejects.toThrow(/permission denied/);
            await expect(c.query("INSERT INTO prices (track, item, unit, currency, unit_price, effective_from) VALUES ('spot', 'l40s', 'gpu_hour', 'USD', 0, '2030-01-01')")).rejects.toThrow(/permission denied/);
        });
        await as("registry", async (c) => {
            await c.query("INSERT INTO commitments (tenant_id, track, subject, gpu_model, quantity, effective_from) VALUES ('acme', 'reserved', 'shared-l40s', 'l40s', 6, '2026-10-01')");
            await c.query("INSERT INTO registry_syncs (scope, at, document_sha256, changes) VALUES ('region', '2026-10-01', 'x', '{}')");
            await expect(c.query("INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source) VALUES ('acme', 'p', 'l40s', 'spot', '2026-10-06T00:00Z', '2026-10-06T01:00Z', 1, 'm')")).rejects.toThrow(/permission denied/);
            await expect(c.query("SELECT * FROM invoices")).rejects.toThrow(/permission denied/);
        });
        await as("invoicing", async (c) => {
            await c.query("SELECT * FROM billable_usage");
            await expect(c.query("INSERT INTO commitments (tenant_id, track, subject, quantity, effective_from) VALUES ('acme', 'spot', 'x', 1, '2026-10-02')")).rejects.toThrow(/permission denied/);
            await expect(c.query("DELETE FROM invoices")).rejects.toThrow(/permission denied/);
        });
    });
});

describe("migration numbering", () => {
    const dirOf = (...files: string[]) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
        for (const f of files) fs.writeFileSync(path.join(dir, f), "SELECT 1;\n");
        return dir;
    };

    it("allows only the gaps RESERVED_MIGRATIONS names, and refuses a reserved number once a migration fills it", () => {
        // Every number agreed across branches has landed: nothing is reserved any more.
        expect(RESERVED_MIGRATIONS).toEqual({});
        expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(() => loadMigrations(dirOf("0001_a.sql", "0003_c.sql"))).toThrow("found 0003 where 0002 was due");
        expect(loadMigrations(dirOf("0001_a.sql", "0003_c.sql"), { 2: "a branch in flight" }).map((m) => m.version)).toEqual([1, 3]);
        expect(() => loadMigrations(dirOf("0001_a.sql", "0002_b.sql", "0003_c.sql"), { 2: "a branch in flight" })).toThrow(
            "migration 0002_b fills number 0002, reserved for a branch in flight: remove the reservation from RESERVED_MIGRATIONS (billing/migrate.ts)",
        );
        expect(() => loadMigrations(dirOf("0001_a.sql", "0004_d.sql"), { 2: "a branch in flight" })).toThrow("found 0004 where 0003 was due");
    });

    it("a database that has the later migrations gets a reserved number's migration when it lands, and keeps the rest", async () => {
        await pg.createDatabase("late");
        const late = await pg.connect("late");
        try {
            // As a database migrated while 0008 was reserved: 0009 applied before it; 0008 applies on top.
            await migrate(late, MIGRATIONS.filter((m) => m.version !== 8));
            const second = await migrate(late, MIGRATIONS);
            expect(second.applied).toEqual(["0008_slo_attainment_credits"]);
            expect(second.alreadyApplied).toEqual(ALL.filter((m) => m !== "0008_slo_attainment_credits"));
        } finally {
            await late.end();
        }
    });
});
