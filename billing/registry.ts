import { createHash } from "node:crypto";
import type { ClientBase } from "pg";
import {
    BILLING_UNITS,
    billedFrom,
    billingTrack,
    BillingUnit,
    decimalText,
    priceChanges,
    priceInForce,
    priceItem,
    RegistryDocument,
    registryProblems,
    RegistryPrice,
    registryText,
} from "compute-region-policies/model";
import { syncServiceLevels } from "./slo";

/**
 * The registry Job: applies a registry document (rendered from the stack config by the program, in
 * the `billing-registry` ConfigMap) to the billing database, idempotently, in one transaction under
 * an advisory lock. History is never rewritten: a price, a tenant's state, contract or commitment that
 * changes is a new row from `at` (the time of the `up`), a tenant the document no longer lists is
 * marked removed and keeps its rows, and a document that would change a price that has taken effect
 * is refused with every reason at once, changing nothing.
 */

/** Arbitrary but fixed: the advisory lock every registry sync takes (the migrator's key + 2). */
export const REGISTRY_LOCK_KEY = 7_261_903_556;

export class SyncError extends Error {
    constructor(readonly problems: string[]) {
        super(`the registry document was not applied (${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing changed):\n  ${problems.join("\n  ")}`);
        this.name = "SyncError";
    }
}

export interface SyncChanges {
    currency?: string;
    prices: { added: string[]; changed: string[]; removed: string[] };
    pools: string[];
    models: string[];
    tenants: { added: string[]; states: string[]; removed: string[] };
    contracts: string[];
    commitments: string[];
    /** Tenants' database roles made, and which of them the statement Job may act as (billing/migrations/0006). */
    roles: string[];
    /** Objectives and credit terms recorded from this sync (billing/slo.ts). */
    serviceLevels?: string[];
}

export interface SyncResult {
    /** False when the database already matched the document (a replay). */
    changed: boolean;
    changes: SyncChanges;
    documentSha256: string;
}

const describePrice = (p: RegistryPrice) => `${p.track} ${p.item} ${p.unitPrice} per ${BILLING_UNITS[p.unit as BillingUnit]?.label ?? p.unit} from ${p.effectiveFrom}`;

/** A numeric from the database as the document writes it (no trailing zeros). */
const canonical = (numeric: string) => decimalText(numeric);

/**
 * Applies `doc` as of `at`. Throws a `SyncError` (nothing changed) when the document is inconsistent,
 * would rewrite a price that took effect, claims a tenant another registry owns, or leaves something
 * sold without a price in force.
 */
export async function syncRegistry(client: ClientBase, doc: RegistryDocument, at: Date): Promise<SyncResult> {
    const sha = createHash("sha256").update(registryText(doc)).digest("hex");
    const problems = registryProblems(doc, at).map((p) => `${p.path}: ${p.message}`);
    if (problems.length > 0) throw new SyncError(problems);
    const changes: SyncChanges = { prices: { added: [], changed: [], removed: [] }, pools: [], models: [], tenants: { added: [], states: [], removed: [] }, contracts: [], commitments: [], roles: [] };
    const q = <R extends Record<string, any> = Record<string, any>>(sql: string, params: unknown[] = []) => client.query<R>(sql, params);
    const ownsCatalog = doc.scope === "region" || doc.scope === "platform";
    await q("BEGIN");
    try {
        await q("SELECT pg_advisory_xact_lock($1)", [REGISTRY_LOCK_KEY]);
        const last = (await q<{ at: Date | null }>("SELECT max(at) AS at FROM registry_syncs")).rows[0].at;
        if (last && last.getTime() > at.getTime()) {
            throw new SyncError([`--at ${at.toISOString()} is before the registry's last change at ${last.toISOString()}: what is sold changes from now on, never in the past`]);
        }

        // The currency is the region's, once and for all.
        const settings = (await q<{ currency: string }>("SELECT currency FROM billing_settings")).rows[0];
        if (settings && settings.currency !== doc.currency) problems.push(`currency: the registry bills in ${settings.currency}; a document in ${doc.currency} cannot change it (prices and invoices are history)`);
        if (!settings && !ownsCatalog) problems.push(`scope ${doc.scope}: the platform's registry has not been applied yet (deploy the platform stack first)`);
        if (!settings && ownsCatalog) {
            await q("INSERT INTO billing_settings (currency) VALUES ($1)", [doc.currency]);
            changes.currency = doc.currency;
        }

        if (ownsCatalog) {
            const stored = (
                await q<{ track: string; item: string; unit: string; unit_price: string; day: string }>(
                    "SELECT track, item, unit, unit_price::text, to_char(effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM prices",
                )
            ).rows.map((r) => ({ track: r.track, item: r.item, unit: r.unit, unitPrice: canonical(r.unit_price), effectiveFrom: r.day }));
            for (const c of priceChanges(stored, doc.prices, at)) {
                if (c.retroactive) {
                    problems.push(`prices: ${c.retroactive}`);
                    continue;
                }
                const p = c.price;
                const key = [p.track, p.item, p.unit, `${p.effectiveFrom}T00:00:00Z`];
                if (c.kind === "added") {
                    await q("INSERT INTO prices (track, item, unit, currency, unit_price, effective_from) VALUES ($1, $2, $3, $5, $6, $4)", [...key, doc.currency, p.unitPrice]);
                    changes.prices.added.push(describePrice(p));
                } else if (c.kind === "changed") {
                    await q("UPDATE prices SET unit_price = $5, recorded_at = now() WHERE track = $1 AND item = $2 AND unit = $3 AND effective_from = $4", [...key, p.unitPrice]);
                    changes.prices.changed.push(`${describePrice(p)} (was ${c.was})`);
                } else {
                    await q("DELETE FROM prices WHERE track = $1 AND item = $2 AND unit = $3 AND effective_from = $4", key);
                    changes.prices.removed.push(describePrice(p));
                }
            }
            const pools = new Map((await q<{ pool: string; gpu_model: string; role: string; gpus: number }>("SELECT pool, gpu_model, role, gpus FROM pools")).rows.map((r) => [r.pool, r]));
            for (const p of doc.pools) {
                const was = pools.get(p.name);
                if (was && was.gpu_model === p.gpuModel && was.role === p.role && was.gpus === p.gpus) continue;
                await q(
                    "INSERT INTO pools (pool, gpu_model, role, gpus, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pool) DO UPDATE SET gpu_model = EXCLUDED.gpu_model, role = EXCLUDED.role, gpus = EXCLUDED.gpus, updated_at = EXCLUDED.updated_at",
                    [p.name, p.gpuModel, p.role, p.gpus, at],
                );
                changes.pools.push(`${p.name} (${p.role}, ${p.gpus} ${p.gpuModel} GPUs)`);
            }
            const models = new Map((await q<{ model: string; gpu_model: string; pool: string | null }>("SELECT model, gpu_model, pool FROM hosted_models")).rows.map((r) => [r.model, r]));
            for (const m of doc.models) {
                const was = models.get(m.name);
                if (was && was.gpu_model === m.gpuModel && was.pool === m.pool) continue;
                await q("INSERT INTO hosted_models (model, gpu_model, pool) VALUES ($1, $2, $3) ON CONFLICT (model) DO UPDATE SET gpu_model = EXCLUDED.gpu_model, pool = EXCLUDED.pool", [m.name, m.gpuModel, m.pool]);
                changes.models.push(`${m.name} (on ${m.pool}, ${m.gpuModel})`);
            }
            // What the region promises and the credits a breach owes: history, like prices.
            const levels = await syncServiceLevels(q, doc, at, problems);
            if (levels.length > 0) changes.serviceLevels = levels;
        }

        // Tenants: their owner, their state's history and their contract.
        const tenants = new Map((await q<{ tenant_id: string; scope: string | null; state: string }>("SELECT tenant_id, scope, state FROM tenants")).rows.map((r) => [r.tenant_id, r]));
        const listed = new Set(doc.tenants.map((t) => t.name));
        const stateAt = async (tenant: string, state: string) => {
            await q("INSERT INTO tenant_states (tenant_id, state, effective_from) VALUES ($1, $2, $3)", [tenant, state, at]);
        };
        for (const t of doc.tenants) {
            const was = tenants.get(t.name);
            if (was?.scope && was.scope !== doc.scope) {
                problems.push(`tenants: ${t.name} is billed by the ${was.scope} registry; a tenant belongs to one stack (remove it there first)`);
                continue;
            }
            if (!was) {
                await q("INSERT INTO tenants (tenant_id, scope, state) VALUES ($1, $2, $3)", [t.name, doc.scope, t.state]);
                await stateAt(t.name, t.state);
                changes.tenants.added.push(`${t.name} (${t.state})`);
            } else if (was.state !== t.state || was.scope !== doc.scope) {
                await q("UPDATE tenants SET state = $2, scope = $3 WHERE tenant_id = $1", [t.name, t.state, doc.scope]);
                if (was.state !== t.state) {
                    await stateAt(t.name, t.state);
                    changes.tenants.states.push(`${t.name}: ${was.state} -> ${t.state}`);
                }
            }
        }
        const removed = [...tenants.values()].filter((t) => t.scope === doc.scope && !listed.has(t.tenant_id) && t.state !== "removed").map((t) => t.tenant_id);
        for (const name of removed) {
            await q("UPDATE tenants SET state = 'removed' WHERE tenant_id = $1", [name]);
            await stateAt(name, "removed");
            changes.tenants.removed.push(name);
        }
        const contracts = new Map(
            (
                await q<{ tenant_id: string; starts_on: string | null; discount_percent: string; reference: string | null }>(
                    "SELECT DISTINCT ON (tenant_id) tenant_id, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, discount_percent::text, reference FROM contracts ORDER BY tenant_id, effective_from DESC",
                )
            ).rows.map((r) => [r.tenant_id, r]),
        );
        for (const t of doc.tenants.filter((t) => !problems.some((p) => p.startsWith(`tenants: ${t.name} `)))) {
            const was = contracts.get(t.name);
            const c = t.contract;
            if (was && was.starts_on === (c.startsOn ?? null) && Number(was.discount_percent) === c.discountPercent && was.reference === (c.reference ?? null)) continue;
            await q("INSERT INTO contracts (tenant_id, effective_from, starts_on, discount_percent, reference) VALUES ($1, $2, $3, $4, $5)", [t.name, at, c.startsOn ?? null, c.discountPercent, c.reference ?? null]);
            changes.contracts.push(`${t.name}: ${c.startsOn ? `billed from ${c.startsOn}` : "billed from its commitments"}, ${c.discountPercent}% off${c.reference ? `, ${c.reference}` : ""}`);
        }

        // Commitments: what each listed tenant holds now; anything it held and no longer does ends at `at`.
        const gpuModelOf = new Map([...(await q<{ pool: string; gpu_model: string }>("SELECT pool, gpu_model FROM pools")).rows.map((r) => [r.pool, r.gpu_model] as const), ...doc.pools.map((p) => [p.name, p.gpuModel] as const)]);
        const latest = (
            await q<{ tenant_id: string; track: string; subject: string; gpu_model: string | null; quantity: number; effective_from: Date }>(
                "SELECT DISTINCT ON (tenant_id, track, subject) tenant_id, track, subject, gpu_model, quantity, effective_from FROM commitments ORDER BY tenant_id, track, subject, effective_from DESC",
            )
        ).rows;
        const held = new Map(latest.map((r) => [`${r.tenant_id}/${r.track}/${r.subject}`, r]));
        const wanted = new Map<string, { tenant: string; track: string; subject: string; quantity: number; gpuModel: string | null }>();
        for (const t of doc.tenants) {
            for (const c of t.commitments) {
                const gpuModel = billingTrack(c.track)?.item === "gpuModel" ? (gpuModelOf.get(c.subject) ?? null) : null;
                wanted.set(`${t.name}/${c.track}/${c.subject}`, { tenant: t.name, track: c.track, subject: c.subject, quantity: c.quantity, gpuModel });
            }
        }
        const covered = new Set([...listed, ...removed]);
        const commit = async (tenant: string, track: string, subject: string, quantity: number, gpuModel: string | null, was?: { quantity: number; effective_from: Date }) => {
            if (was && was.effective_from.getTime() === at.getTime()) {
                problems.push(`commitments: ${tenant}'s ${track} ${subject} already changed at ${at.toISOString()}: a second change at the same instant (sync with a later --at)`);
                return;
            }
            await q("INSERT INTO commitments (tenant_id, track, subject, gpu_model, quantity, effective_from) VALUES ($1, $2, $3, $4, $5, $6)", [tenant, track, subject, gpuModel, quantity, at]);
            changes.commitments.push(`${tenant} ${track} ${subject}: ${was?.quantity ?? 0} -> ${quantity}`);
        };
        for (const [key, w] of wanted) {
            const was = held.get(key);
            if (was && was.quantity === w.quantity && (was.gpu_model ?? null) === w.gpuModel) continue;
            if (!was && w.quantity === 0) continue;
            await commit(w.tenant, w.track, w.subject, w.quantity, w.gpuModel, was);
        }
        for (const [key, was] of held) {
            if (wanted.has(key) || was.quantity === 0 || !covered.has(was.tenant_id)) continue;
            await commit(was.tenant_id, was.track, was.subject, 0, was.gpu_model, was);
        }

        // Everything this registry sells has a price in force in the database (a shard's document
        // names the platform's prices, which the platform's registry applied).
        const prices = (
            await q<{ track: string; item: string; unit: string; unit_price: string; day: string }>(
                "SELECT track, item, unit, unit_price::text, to_char(effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM prices",
            )
        ).rows.map((r) => ({ track: r.track, item: r.item, unit: r.unit, unitPrice: canonical(r.unit_price), effectiveFrom: r.day }));
        for (const t of doc.tenants.filter((t) => t.state === "active")) {
            const from = billedFrom(t, at);
            for (const c of t.commitments.filter((c) => c.quantity > 0)) {
                const track = billingTrack(c.track)!;
                const item = priceItem(c, (p) => gpuModelOf.get(p));
                if (!item) {
                    problems.push(`tenants: ${t.name}'s ${c.track} GPUs are on pool ${c.subject}, which the registry does not know`);
                    continue;
                }
                for (const unit of Object.values(track.prices)) {
                    if (!priceInForce(prices, { track: c.track, item, unit }, from)) problems.push(`tenants: ${t.name}'s ${c.track} ${c.subject} has no ${c.track} price of ${item} per ${BILLING_UNITS[unit].label} in force on ${from.toISOString().slice(0, 10)}`);
                }
            }
        }
        if (problems.length > 0) throw new SyncError(problems);
        // Each tenant's database role follows its state: readable (its statements) while active or suspended.
        changes.roles = (await q<{ change: string }>("SELECT sync_tenant_roles() AS change")).rows.map((r) => r.change);
        const changed =
            changes.currency !== undefined ||
            Object.values(changes.prices).some((l) => l.length > 0) ||
            changes.pools.length + changes.models.length + changes.contracts.length + changes.commitments.length + changes.roles.length + (changes.serviceLevels?.length ?? 0) > 0 ||
            Object.values(changes.tenants).some((l) => l.length > 0);
        if (changed) await q("INSERT INTO registry_syncs (scope, at, document_sha256, changes) VALUES ($1, $2, $3, $4)", [doc.scope, at, sha, JSON.stringify(changes)]);
        await q("COMMIT");
        return { changed, changes, documentSha256: sha };
    } catch (e) {
        await q("ROLLBACK");
        throw e;
    }
}

/** The changes of a sync in a few lines, for the Job's log. */
export function describeSync(result: SyncResult): string[] {
    if (!result.changed) return [`registry ${result.documentSha256.slice(0, 12)}: already applied, nothing changed`];
    const c = result.changes;
    const lines = [`registry ${result.documentSha256.slice(0, 12)} applied:`];
    const list = (label: string, items: string[]) => items.length > 0 && lines.push(`  ${label}: ${items.join("; ")}`);
    if (c.currency) lines.push(`  currency: ${c.currency}`);
    list("prices added", c.prices.added);
    list("prices changed", c.prices.changed);
    list("prices withdrawn", c.prices.removed);
    list("pools", c.pools);
    list("models", c.models);
    list("tenants added", c.tenants.added);
    list("tenant states", c.tenants.states);
    list("tenants removed (their rows stay)", c.tenants.removed);
    list("contracts", c.contracts);
    list("commitments", c.commitments);
    list("tenant database roles", c.roles);
    list("service levels", c.serviceLevels ?? []);
    return lines;
}

