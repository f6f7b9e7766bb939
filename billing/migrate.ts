import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClientBase } from "pg";

/**
 * Versioned SQL migrations, applied in order under an advisory lock so two runs (two Jobs, a retry)
 * never interleave. Applied migrations are recorded with a checksum; a changed applied migration is
 * an error, not a silent re-run.
 */
/** A migration of the billing schema. */
export interface Migration {
    /** Its number, from the file name (0001_...). */
    version: number;
    /** Its name, from the file name. */
    name: string;
    /** The SQL it runs. */
    sql: string;
    /** SHA-256 of the SQL: an applied migration may never change. */
    checksum: string;
}

/** Arbitrary but fixed: the advisory lock every migrator of this schema takes. */
export const MIGRATION_LOCK_KEY = 7_261_903_554;

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Migration numbers agreed for work that has not landed yet, and whose: the only gaps the numbering
 * may have. Branches take numbers in advance so that none is used twice, and may land out of order;
 * the branch whose migration fills a number removes it from here (a number reserved and present is
 * an error, so a stale reservation cannot outlive it). A deployed database gets the reserved
 * migration applied after the later ones it already has, so that migration must apply on either side of them.
 */
export const RESERVED_MIGRATIONS: Readonly<Record<number, string>> = {};

export function loadMigrations(dir: string, reserved: Readonly<Record<number, string>> = RESERVED_MIGRATIONS): Migration[] {
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
    const label = (version: number) => String(version).padStart(4, "0");
    let expected = 1;
    for (const m of migrations) {
        if (reserved[m.version] !== undefined) throw new Error(`migration ${label(m.version)}_${m.name} fills number ${label(m.version)}, reserved for ${reserved[m.version]}: remove the reservation from RESERVED_MIGRATIONS (billing/migrate.ts)`);
        while (reserved[expected] !== undefined && expected < m.version) expected++;
        if (m.version !== expected) throw new Error(`migrations must be numbered 0001, 0002, ... without gaps (but for RESERVED_MIGRATIONS): found ${label(m.version)} where ${label(expected)} was due`);
        expected++;
    }
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
        const result: MigrationResult = { applied: [], alreadyApplied: [] };
        for (const m of migrations) {
            const label = `${String(m.version).padStart(4, "0")}_${m.name}`;
            const previous = done.get(m.version);
            if (previous) {
                if (previous.checksum !== m.checksum) throw new Error(`migration ${label} was changed after it was applied (checksum ${previous.checksum.slice(0, 12)} became ${m.checksum.slice(0, 12)}): add a new migration instead`);
                result.alreadyApplied.push(label);
                continue;
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
