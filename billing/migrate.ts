import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClientBase } from "pg";

/**
 * Versioned SQL migrations, applied in order under an advisory lock so two runs (two Jobs, a retry)
 * never interleave. Applied migrations are recorded with a checksum; a changed applied migration is
 * an error, not a silent re-run. Numbers are reserved per change before it lands (billing/migrations
 * of parallel branches), so they may have gaps; a migration numbered below one already applied is
 * refused rather than run out of order.
 */
export interface Migration {
    version: number;
    name: string;
    sql: string;
    checksum: string;
}

/** Arbitrary but fixed: the advisory lock every migrator of this schema takes. */
export const MIGRATION_LOCK_KEY = 7_261_903_554;

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string): Migration[] {
    const migrations = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".sql"))
        .map((file) => {
            const m = FILE.exec(file);
            if (!m) throw new Error(`migration file ${file} must be named NNNN_name.sql`);
            const sql = fs.readFileSync(path.join(dir, file), "utf8");
            return { version: Number(m[1]), name: m[2], sql, checksum: createHash("sha256").update(sql).digest("hex") };
        })
        .sort((a, b) => a.version - b.version);
    migrations.forEach((m, i) => {
        if (m.version < 1 || (i > 0 && m.version === migrations[i - 1].version)) throw new Error(`migrations must be numbered from 0001, each number once: found ${String(m.version).padStart(4, "0")} at position ${i + 1}`);
    });
    return migrations;
}

export interface MigrationResult {
    applied: string[];
    alreadyApplied: string[];
}

export async function migrate(client: ClientBase, migrations: readonly Migration[], log: (line: string) => void = () => {}): Promise<MigrationResult> {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )`);
        const { rows } = await client.query<{ version: number; name: string; checksum: string }>("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
        const done = new Map(rows.map((r) => [r.version, r]));
        const latest = rows.length > 0 ? rows[rows.length - 1] : undefined;
        const result: MigrationResult = { applied: [], alreadyApplied: [] };
        for (const m of migrations) {
            const label = `${String(m.version).padStart(4, "0")}_${m.name}`;
            const previous = done.get(m.version);
            if (previous) {
                if (previous.checksum !== m.checksum) throw new Error(`migration ${label} was changed after it was applied (checksum ${previous.checksum.slice(0, 12)} became ${m.checksum.slice(0, 12)}): add a new migration instead`);
                result.alreadyApplied.push(label);
                continue;
            }
            if (latest && m.version < latest.version) {
                throw new Error(`migration ${label} is numbered below ${String(latest.version).padStart(4, "0")}_${latest.name}, already applied: migrations apply in order (number it above the latest)`);
            }
            await client.query("BEGIN");
            try {
                await client.query(m.sql);
                await client.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [m.version, m.name, m.checksum]);
                await client.query("COMMIT");
            } catch (e) {
                await client.query("ROLLBACK");
                throw new Error(`migration ${label} failed: ${(e as Error).message}`);
            }
            log(`applied ${label}`);
            result.applied.push(label);
        }
        return result;
    } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
}
