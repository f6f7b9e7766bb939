import type { ClientBase } from "pg";
import { attainmentText } from "compute-region-policies/model";
import { addSloCredits, MonthlyServiceLevel, monthlyServiceLevels } from "./slo";

/**
 * Invoices and adjustments, over the schema's `issue_invoice` and `add_invoice_adjustment` (billing/
 * migrations/0004): an invoice is issued once per tenant and month, after the month has ended and
 * every window of it is metered, and never changes; issuing it again returns it as it was. The SLO
 * credits a month owes (billing/slo.ts) are added as its adjustments in the same transaction, just
 * before it is issued, so an invoice is never issued without them and they are added once.
 * Amounts are exact decimals, kept as strings end to end.
 */

export interface InvoiceLine {
    kind: "charge" | "adjustment";
    description: string;
    track?: string;
    /** GPU tracks: the pool; model tracks: the model. */
    pool?: string;
    model?: string;
    /** The GPU model or model the unit price is quoted for. */
    item?: string;
    quantity: string;
    unit: string;
    unitPrice: string;
    discountPercent: string;
    amount: string;
}

export interface Invoice {
    invoiceId: number;
    tenant: string;
    /** YYYY-MM. */
    month: string;
    currency: string;
    reference?: string;
    issuedAt: string;
    lines: InvoiceLine[];
    total: string;
    /** Recorded usage that no price applies to (GPU time beyond what was bought): shown, never billed. */
    notBilled: { track: string; pool: string; gpuHours: string }[];
    /** The month's attainment of each objective the tenant made requests (or held GPUs) under. */
    serviceLevels: MonthlyServiceLevel[];
}

/** YYYY-MM, checked, as the first day of the month. */
export function monthStart(month: string): string {
    const m = /^(\d{4})-(\d{2})$/.exec(month);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new RangeError(`--month must be YYYY-MM, got ${JSON.stringify(month)}`);
    return `${month}-01`;
}

/** Issues (or returns the existing) invoice of `tenant` for `month`, judged at `at` (has the month ended?). */
export async function issueInvoice(client: ClientBase, tenant: string, month: string, at: Date = new Date()): Promise<Invoice> {
    const period = monthStart(month);
    let id: number;
    await client.query("BEGIN");
    try {
        // The month's lock first: an invoice issued meanwhile is found, never credited again.
        await client.query("SELECT lock_tenant_month($1, $2::date)", [tenant, period]);
        const issued = (await client.query<{ invoice_id: string }>("SELECT invoice_id FROM invoices WHERE tenant_id = $1 AND period_start = $2::date", [tenant, period])).rows[0];
        if (!issued) await addSloCredits(client, tenant, period);
        // issue_invoice checks the month has ended and is metered in full: if not, the credits go with it.
        id = Number((await client.query<{ id: string }>("SELECT issue_invoice($1, $2::date, $3) AS id", [tenant, period, at])).rows[0].id);
        await client.query("COMMIT");
    } catch (e) {
        await client.query("ROLLBACK");
        throw e;
    }
    return readInvoice(client, id);
}

export async function readInvoice(client: ClientBase, invoiceId: number): Promise<Invoice> {
    const head = (
        await client.query<{ tenant_id: string; month: string; currency: string; reference: string | null; issued_at: Date; total: string }>(
            "SELECT tenant_id, to_char(period_start, 'YYYY-MM') AS month, currency, reference, issued_at, total::numeric(16, 2)::text AS total FROM invoices WHERE invoice_id = $1",
            [invoiceId],
        )
    ).rows[0];
    if (!head) throw new Error(`no invoice ${invoiceId}`);
    const lines = (
        await client.query<{ kind: "charge" | "adjustment"; description: string; track: string | null; subject: string | null; item: string | null; quantity: string; unit: string; unit_price: string; discount_percent: string; amount: string; gpu_track: boolean }>(
            `SELECT l.kind, l.description, l.track, l.subject, l.item, trim_scale(l.quantity)::text AS quantity, l.unit, trim_scale(l.unit_price)::text AS unit_price,
                    trim_scale(l.discount_percent)::text AS discount_percent, l.amount::numeric(16, 2)::text AS amount, coalesce(u.unit = 'gpu_hour', false) AS gpu_track
             FROM invoice_lines l LEFT JOIN billing_units u ON u.track = l.track AND u.label = l.unit
             WHERE l.invoice_id = $1 ORDER BY l.line_no`,
            [invoiceId],
        )
    ).rows;
    const notBilled = (
        await client.query<{ track: string; pool: string; hours: string }>(
            `SELECT u.track, u.pool, trim_scale(round(sum(u.gpu_seconds) / 3600, 6))::text AS hours
             FROM gpu_usage u JOIN billing_tracks t ON t.track = u.track AND NOT t.priced AND t.track <> 'reserved_use'
             JOIN invoices i ON i.tenant_id = u.tenant_id AND u.window_start >= i.period_start AND u.window_start < i.period_start + interval '1 month'
             WHERE i.invoice_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
            [invoiceId],
        )
    ).rows;
    return {
        invoiceId,
        tenant: head.tenant_id,
        month: head.month,
        currency: head.currency,
        ...(head.reference ? { reference: head.reference } : {}),
        issuedAt: head.issued_at.toISOString(),
        lines: lines.map((l) => ({
            kind: l.kind,
            description: l.description,
            ...(l.track ? { track: l.track } : {}),
            ...(l.subject ? (l.gpu_track ? { pool: l.subject } : { model: l.subject }) : {}),
            ...(l.item ? { item: l.item } : {}),
            quantity: l.quantity,
            unit: l.unit,
            unitPrice: l.unit_price,
            discountPercent: l.discount_percent,
            amount: l.amount,
        })),
        total: head.total,
        notBilled: notBilled.map((n) => ({ track: n.track, pool: n.pool, gpuHours: n.hours })),
        serviceLevels: await monthlyServiceLevels(client, head.tenant_id, `${head.month}-01`),
    };
}

/** The invoice for people: one line per charge and adjustment, then the total. */
export function invoiceText(invoice: Invoice): string {
    const rows = invoice.lines.map((l) => [
        l.description,
        l.kind === "charge" ? `${l.quantity} ${l.unit}` : "",
        l.kind === "charge" ? `${l.unitPrice}${Number(l.discountPercent) > 0 ? ` -${l.discountPercent}%` : ""}` : "",
        l.amount,
    ]);
    const head = ["line", "quantity", `unit price (${invoice.currency})`, `amount (${invoice.currency})`];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    const out = [
        `Invoice ${invoice.invoiceId}: ${invoice.tenant}, ${invoice.month}${invoice.reference ? ` (${invoice.reference})` : ""}, issued ${invoice.issuedAt}`,
        "",
        fmt(head),
        ...rows.map(fmt),
        "",
        `Total: ${invoice.currency} ${invoice.total}`,
    ];
    if (invoice.serviceLevels.length > 0) out.push("", `Service levels in ${invoice.month}:`, ...invoice.serviceLevels.map(serviceLevelText));
    for (const n of invoice.notBilled) out.push(`Not billed: ${n.gpuHours} GPU-hours on ${n.pool} beyond what ${invoice.tenant} bought (${n.track}; see the TenantGpuUseBeyondPurchase alert)`);
    return `${out.join("\n")}\n`;
}

/** One objective's month for people: what was promised, what was delivered, and what it owed. */
function serviceLevelText(l: MonthlyServiceLevel): string {
    const what = `${l.target ? `${l.target} ` : ""}${l.indicator}`;
    const promised = `objective ${Number((l.objective * 100).toPrecision(6))}%`;
    if (l.attainment === undefined) return `  ${what}: no requests (${promised})`;
    const verdict = l.met ? "met" : l.creditPercent ? `missed: credited ${l.creditPercent}% of its charges` : "missed";
    return `  ${what}: ${attainmentText(l.attainment)} (${promised}), ${verdict}`;
}

export interface Adjustment {
    tenant: string;
    /** YYYY-MM: the month whose invoice applies it. */
    month: string;
    /** Negative for a credit. */
    amount: string;
    reason: string;
    /** Who adds it: `slo`, `operator`, ... */
    source: string;
    /** The source's own key for it: adding the same reference twice adds it once. */
    reference: string;
}

/** Records an adjustment on a month not invoiced yet; returns its id (the first one's, when it was already recorded). */
export async function addAdjustment(client: ClientBase, a: Adjustment): Promise<number> {
    if (!/^-?\d+(\.\d{1,2})?$/.test(a.amount) || Number(a.amount) === 0) throw new RangeError(`--amount must be a non-zero amount with at most 2 decimals (negative for a credit), got ${JSON.stringify(a.amount)}`);
    const { rows } = await client.query<{ id: string }>("SELECT add_invoice_adjustment($1, $2::date, $3::numeric, $4, $5, $6) AS id", [a.tenant, monthStart(a.month), a.amount, a.reason, a.source, a.reference]);
    return Number(rows[0].id);
}
