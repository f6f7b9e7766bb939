import type { ClientBase } from "pg";
import { Invoice, InvoiceLine, monthStart, readInvoice } from "./invoice";

/**
 * A tenant's usage statement for a month: what it bought (commitments, its contract), what it used
 * (GPU time by pool and track: held, used within what it bought, spot borrowed beyond it, beyond what
 * it bought), the tokens it sent and received per model, and the charges: the invoice's lines and
 * adjustments once the month is invoiced, and until then the same lines priced from the usage metered
 * so far (`charge_lines`, the function the invoice is issued with) and the adjustments recorded.
 *
 * It is read as the tenant's own database role (billing/migrations/0006: `SET ROLE tenant_<name>` in
 * a read-only transaction), so row-level security, not this code, decides which rows it sees: the
 * same statement is what the tenant's role may read, and nothing of another tenant's can be in it.
 * Amounts and quantities are exact decimals, kept as strings end to end.
 */

export type StatementStatus = "open" | "invoiced";

export interface StatementPurchase {
    /** reserved, dedicated, spot (an allowance) or hosted (a model granted). */
    track: string;
    /** The pool (GPU tracks) or the model (hosted). */
    subject: string;
    gpuModel?: string;
    /** GPUs (a model granted: 1). */
    quantity: number;
    /** When this quantity took effect, or the month's start when it was in force before. */
    from: string;
    /** When it stopped (the next change), or the month's end. */
    to: string;
}

export interface StatementGpuUse {
    pool: string;
    gpuModel: string;
    /** reserved and dedicated: held; reserved_use: used within them; spot: borrowed beyond them; unsold: beyond what was bought. */
    track: string;
    /** Whether the track is billed (reserved, dedicated, spot) or shown only. */
    billed: boolean;
    gpuHours: string;
}

export interface StatementTokens {
    model: string;
    track: string;
    requests: string;
    inputTokens: string;
    cachedInputTokens: string;
    outputTokens: string;
}

export interface StatementAdjustment {
    amount: string;
    reason: string;
    source: string;
    reference: string;
}

export interface Statement {
    tenant: string;
    /** YYYY-MM. */
    month: string;
    currency: string;
    /** invoiced: the invoice's figures, final; open: priced from the usage metered so far. */
    status: StatementStatus;
    /** The tenant's state now (active, suspended, ...). */
    state: string;
    /** When this statement was read. */
    generatedAt: string;
    period: { from: string; to: string };
    /** The end of the last metered window in the month (absent: nothing of it is metered yet). */
    meteredThrough?: string;
    contracts: { from: string; to: string; startsOn?: string; discountPercent: string; reference?: string }[];
    bought: StatementPurchase[];
    gpu: StatementGpuUse[];
    tokens: StatementTokens[];
    charges: {
        /** The invoice, once issued. */
        invoice?: { invoiceId: number; issuedAt: string; reference?: string };
        lines: InvoiceLine[];
        adjustments: StatementAdjustment[];
        /** Lines with no price in force (an open month: the invoice would refuse them until priced). */
        unpriced: string[];
        total: string;
    };
}

/** The statement cannot be read as the tenant: no role, or the tenant's role is no longer readable. */
export class StatementError extends Error {}

/** The tenant's database role (billing/migrations/0006). */
export function tenantRole(tenant: string): string {
    return `tenant_${tenant}`;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Runs `read` as `tenant`'s database role in a read-only transaction, and returns to the session's
 * own role however it ends. The session's role must be allowed to SET ROLE to it (the `statements`
 * role while the tenant is active or suspended; an operator's superuser).
 */
export async function asTenant<T>(client: ClientBase, tenant: string, read: () => Promise<T>): Promise<T> {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tenant)) throw new RangeError(`--tenant must be a tenant name (a DNS label), got ${JSON.stringify(tenant)}`);
    const role = tenantRole(tenant);
    await client.query("BEGIN READ ONLY");
    try {
        const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount! > 0;
        if (!exists) throw new StatementError(`tenant ${tenant} has no database role ${role}: the registry has never listed it`);
        try {
            await client.query(`SET LOCAL ROLE ${quoteIdent(role)}`);
        } catch (e) {
            if ((e as { code?: string }).code === "42501") {
                throw new StatementError(`the statements of ${tenant} are no longer readable as ${role}: the tenant is decommissioned or removed (its rows stay; operators read its invoices with cli.js invoice)`);
            }
            throw e;
        }
        const result = await read();
        await client.query("COMMIT");
        return result;
    } catch (e) {
        await client.query("ROLLBACK");
        throw e;
    }
}

const iso = (d: Date) => d.toISOString();

/** The month's bounds, as instants (UTC). */
export function monthBounds(month: string): { from: Date; to: Date } {
    const first = monthStart(month);
    const from = new Date(`${first}T00:00:00Z`);
    const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
    return { from, to };
}

/**
 * Reads `tenant`'s statement for `month` as its own role. `at` is when it is read: a month that has
 * not begun at `at` is refused.
 */
export async function readStatement(client: ClientBase, tenant: string, month: string, at: Date = new Date()): Promise<Statement> {
    const { from, to } = monthBounds(month);
    if (from.getTime() > at.getTime()) throw new RangeError(`--month ${month} has not begun at ${iso(at)}`);
    return asTenant(client, tenant, () => readOwnStatement(client, month, from, to, at));
}

/** The statement of the tenant whose role is current: every query reads the tenant_billing views (or the invoice, under row-level security). */
async function readOwnStatement(client: ClientBase, month: string, from: Date, to: Date, at: Date): Promise<Statement> {
    const q = <R extends Record<string, any>>(sql: string, params: unknown[] = []) => client.query<R>(sql, params).then((r) => r.rows);
    const [account] = await q<{ tenant_id: string; state: string; currency: string }>("SELECT tenant_id, state, currency FROM tenant_billing.account");
    if (!account) throw new StatementError("the current role reads no tenant's account: is it a tenant's role, and has the registry been synced?");
    const monthDay = from.toISOString().slice(0, 10);
    const [metered] = await q<{ through: Date | null }>("SELECT max(window_end) AS through FROM tenant_billing.metered_windows WHERE window_end > $1 AND window_start < $2", [from, to]);
    const contracts = await q<{ effective_from: Date; effective_to: Date | null; starts_on: string | null; discount_percent: string; reference: string | null }>(
        `SELECT effective_from, effective_to, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, trim_scale(discount_percent)::text AS discount_percent, reference
         FROM tenant_billing.contracts WHERE effective_from < $2 AND (effective_to IS NULL OR effective_to > $1) ORDER BY effective_from`,
        [from, to],
    );
    const bought = await q<{ track: string; subject: string; gpu_model: string | null; quantity: number; effective_from: Date; effective_to: Date | null }>(
        `SELECT track, subject, gpu_model, quantity, effective_from, effective_to FROM tenant_billing.commitments
         WHERE quantity > 0 AND effective_from < $2 AND (effective_to IS NULL OR effective_to > $1) ORDER BY track, subject, effective_from`,
        [from, to],
    );
    const gpu = await q<{ pool: string; gpu_model: string; track: string; priced: boolean; gpu_hours: string }>(
        `SELECT pool, gpu_model, track, priced, trim_scale(round(gpu_hours, 6))::text AS gpu_hours FROM tenant_billing.gpu_usage_monthly
         WHERE month = $1::date ORDER BY pool, track`,
        [monthDay],
    );
    const tokens = await q<{ model: string; track: string; requests: string; input_tokens: string; cached_input_tokens: string; output_tokens: string }>(
        `SELECT model, track, requests::text, input_tokens::text, cached_input_tokens::text, output_tokens::text FROM tenant_billing.model_usage_monthly
         WHERE month = $1::date ORDER BY model, track`,
        [monthDay],
    );
    const [issued] = await q<{ invoice_id: string }>("SELECT invoice_id FROM tenant_billing.invoices WHERE month = $1::date", [monthDay]);
    const clip = (d: Date | null, fallback: Date) => iso(!d || d.getTime() > to.getTime() ? fallback : d.getTime() < from.getTime() ? from : d);
    const base = {
        tenant: account.tenant_id,
        month: month,
        currency: account.currency,
        state: account.state,
        generatedAt: iso(at),
        period: { from: iso(from), to: iso(to) },
        ...(metered?.through ? { meteredThrough: iso(metered.through) } : {}),
        contracts: contracts.map((c) => ({
            from: clip(c.effective_from, from),
            to: clip(c.effective_to, to),
            ...(c.starts_on ? { startsOn: c.starts_on } : {}),
            discountPercent: c.discount_percent,
            ...(c.reference ? { reference: c.reference } : {}),
        })),
        bought: bought.map((b) => ({ track: b.track, subject: b.subject, ...(b.gpu_model ? { gpuModel: b.gpu_model } : {}), quantity: b.quantity, from: clip(b.effective_from, from), to: clip(b.effective_to, to) })),
        gpu: gpu.map((g) => ({ pool: g.pool, gpuModel: g.gpu_model, track: g.track, billed: g.priced, gpuHours: g.gpu_hours })),
        tokens: tokens.map((t) => ({ model: t.model, track: t.track, requests: t.requests, inputTokens: t.input_tokens, cachedInputTokens: t.cached_input_tokens, outputTokens: t.output_tokens })),
    };
    if (issued) {
        const invoice: Invoice = await readInvoice(client, Number(issued.invoice_id));
        const adjustments = await q<StatementAdjustment>(
            "SELECT amount::numeric(16, 2)::text AS amount, reason, source, reference FROM tenant_billing.adjustments WHERE month = $1::date ORDER BY adjustment_id",
            [monthDay],
        );
        return {
            ...base,
            status: "invoiced",
            charges: {
                invoice: { invoiceId: invoice.invoiceId, issuedAt: invoice.issuedAt, ...(invoice.reference ? { reference: invoice.reference } : {}) },
                lines: invoice.lines.filter((l) => l.kind === "charge"),
                adjustments,
                unpriced: [],
                total: invoice.total,
            },
        };
    }
    // Not invoiced yet: the invoice's own pricing of what is metered so far, and the adjustments recorded.
    const lines = await q<{ track: string; subject: string; item: string; unit: string; label: string; description: string; quantity: string; unit_price: string | null; discount_percent: string; amount: string | null; gpu_track: boolean }>(
        `SELECT l.track, l.subject, l.item, l.unit, l.label, l.description, trim_scale(l.quantity::numeric(20, 6))::text AS quantity, trim_scale(l.unit_price)::text AS unit_price,
                trim_scale(l.discount_percent)::text AS discount_percent, l.amount::numeric(16, 2)::text AS amount, l.unit = 'gpu_hour' AS gpu_track
         FROM charge_lines(billing_current_tenant(), $1, $2) l`,
        [from, to],
    );
    const adjustments = await q<StatementAdjustment>(
        "SELECT amount::numeric(16, 2)::text AS amount, reason, source, reference FROM tenant_billing.adjustments WHERE month = $1::date ORDER BY adjustment_id",
        [monthDay],
    );
    const [sum] = await q<{ total: string }>(
        "SELECT (coalesce((SELECT sum(x) FROM unnest($1::numeric[]) x), 0) + coalesce((SELECT sum(x) FROM unnest($2::numeric[]) x), 0))::numeric(16, 2)::text AS total",
        [lines.map((l) => l.amount ?? "0"), adjustments.map((a) => a.amount)],
    );
    return {
        ...base,
        status: "open",
        charges: {
            lines: lines
                .filter((l) => l.unit_price !== null)
                .map((l) => ({
                    kind: "charge" as const,
                    description: l.description,
                    track: l.track,
                    ...(l.gpu_track ? { pool: l.subject } : { model: l.subject }),
                    item: l.item,
                    quantity: l.quantity,
                    unit: l.label,
                    unitPrice: l.unit_price!,
                    discountPercent: l.discount_percent,
                    amount: l.amount!,
                })),
            adjustments,
            unpriced: lines.filter((l) => l.unit_price === null).map((l) => `${l.description} (${l.quantity} ${l.label})`),
            total: sum.total,
        },
    };
}

const TRACK_WORDS: Record<string, string> = {
    reserved: "reserved GPUs held",
    dedicated: "dedicated pool GPUs held",
    reserved_use: "used within what you bought",
    spot: "spot: borrowed beyond what you bought",
    unsold: "beyond what you bought, not at the spot priority (not billed)",
    raw: "GPU requests (schema version 1)",
};

/** A table of rows, the first column left-aligned and the rest right-aligned. */
function table(head: string[], rows: string[][]): string[] {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
    return [fmt(head), ...rows.map(fmt)];
}

/** The statement for people. */
export function statementText(s: Statement): string {
    const day = (t: string) => t.slice(0, 16).replace("T", " ");
    const out = [
        `Usage statement: ${s.tenant}, ${s.month} (${s.status === "invoiced" ? `invoiced: invoice ${s.charges.invoice!.invoiceId}, issued ${s.charges.invoice!.issuedAt}` : `open: not invoiced yet, metered through ${s.meteredThrough ?? "(nothing yet)"}`})`,
        `Account: ${s.state}; amounts in ${s.currency}; read ${s.generatedAt}`,
        "",
        "What you bought",
    ];
    if (s.bought.length === 0) out.push("  (nothing committed this month)");
    else out.push(...table(["track", "pool or model", "quantity", "from", "to"], s.bought.map((b) => [b.track, b.subject, String(b.quantity), day(b.from), day(b.to)])).map((l) => `  ${l}`));
    for (const c of s.contracts) out.push(`  contract${c.reference ? ` ${c.reference}` : ""}: ${c.discountPercent}% off${c.startsOn ? `, billed from ${c.startsOn}` : ""} (${day(c.from)} to ${day(c.to)})`);
    out.push("", "GPU time (GPU-hours)");
    if (s.gpu.length === 0) out.push("  (none)");
    else out.push(...table(["pool", "track", "GPU-hours", "billed"], s.gpu.map((g) => [g.pool, TRACK_WORDS[g.track] ?? g.track, g.gpuHours, g.billed ? "yes" : "no"])).map((l) => `  ${l}`));
    out.push("", "Tokens per model");
    if (s.tokens.length === 0) out.push("  (none)");
    else out.push(...table(["model", "requests", "input", "cached input", "output"], s.tokens.map((t) => [t.model, t.requests, t.inputTokens, t.cachedInputTokens, t.outputTokens])).map((l) => `  ${l}`));
    out.push("", s.status === "invoiced" ? "Charges (the invoice)" : "Charges so far (priced as the invoice will be; final once invoiced)");
    const rows = [
        ...s.charges.lines.map((l) => [l.description, `${l.quantity} ${l.unit}`, `${l.unitPrice}${Number(l.discountPercent) > 0 ? ` -${l.discountPercent}%` : ""}`, l.amount]),
        ...s.charges.adjustments.map((a) => [`${a.reason} (${a.source} ${a.reference})`, "", "", a.amount]),
    ];
    if (rows.length === 0) out.push("  (none)");
    else out.push(...table(["line", "quantity", "unit price", "amount"], rows).map((l) => `  ${l}`));
    for (const u of s.charges.unpriced) out.push(`  not priced yet: ${u}`);
    out.push("", `Total: ${s.currency} ${s.charges.total}${s.status === "open" ? " so far" : ""}`);
    return `${out.join("\n")}\n`;
}
