import type { ClientBase } from "pg";
import {
    attainmentText,
    creditCents,
    creditedObjective,
    creditPercent,
    CreditTerm,
    moneyText,
    RecordedTerms,
    RegistryDocument,
    RegistryObjective,
    SLO_CREDIT_TRACKS,
    SLO_METERING,
    termsForMonth,
} from "compute-region-policies/model";

/**
 * What customers are told (issue 23 part 4), over migration 0008: the objectives and credit terms the
 * registry applies as history (`slo_terms`), each tenant's good and valid events per objective and
 * metered window (`slo_events`, written by metering beside usage from the recording rules the alerts
 * use), and at invoicing each tenant's monthly attainment per objective and the credit a hosted
 * model's month below its objective owes, added as an adjustment on that month's invoice.
 */

/** A tenant's good and valid events for one objective in one metered window. */
export interface SloEventRecord {
    tenant: string;
    slo: string;
    window: { start: Date; end: Date };
    good: number;
    valid: number;
}

/**
 * A window's events from `SLO_METERING.stepQuery` evaluated at its step instants: each step's rate
 * times the step, summed per tenant and objective. `index` maps a step's time to its position in the
 * window (or outside it); `stepSeconds` is metering's step.
 */
export function sloEventsOf(series: readonly { metric: Record<string, string>; values: [number, number][] }[], window: { start: Date; end: Date }, steps: number, index: (unixSeconds: number) => number, stepSeconds: number): SloEventRecord[] {
    if (stepSeconds !== SLO_METERING.stepSeconds) throw new Error(`metering's step (${stepSeconds} s) must be the SLO rules' evaluation interval (${SLO_METERING.stepSeconds} s): each step reads one recorded rate`);
    const events = new Map<string, SloEventRecord>();
    for (const s of series) {
        const tenant = s.metric[SLO_METERING.tenantLabel];
        const slo = s.metric.slo;
        const kind = s.metric[SLO_METERING.eventsLabel];
        if (!tenant || !slo || (kind !== "good" && kind !== "valid")) continue;
        const key = `${tenant}\u0000${slo}`;
        let r = events.get(key);
        if (!r) events.set(key, (r = { tenant, slo, window, good: 0, valid: 0 }));
        for (const [t, v] of s.values) {
            const k = index(t);
            if (k >= 0 && k < steps && Number.isFinite(v)) r[kind] += v * stepSeconds;
        }
    }
    return [...events.values()]
        .map((r) => ({ ...r, good: Number(r.good.toFixed(3)), valid: Number(r.valid.toFixed(3)) }))
        .filter((r) => r.good > 0 || r.valid > 0)
        .sort((a, b) => (a.tenant + a.slo < b.tenant + b.slo ? -1 : 1));
}

/** Writes a window's events, inside the caller's transaction: a replayed window changes nothing. Returns the rows added. */
export async function writeSloEvents(client: ClientBase, records: readonly SloEventRecord[], source: string): Promise<number> {
    if (records.length === 0) return 0;
    const r = await client.query(
        `INSERT INTO slo_events (tenant_id, slo, window_start, window_end, good, valid, source)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::numeric[], $6::numeric[], $7::text[])
         ON CONFLICT (tenant_id, slo, window_start, window_end) DO NOTHING`,
        [records.map((e) => e.tenant), records.map((e) => e.slo), records.map((e) => e.window.start), records.map((e) => e.window.end), records.map((e) => e.good.toFixed(3)), records.map((e) => e.valid.toFixed(3)), records.map(() => source)],
    );
    return r.rowCount ?? 0;
}

type Query = <R extends Record<string, any> = Record<string, any>>(sql: string, params?: unknown[]) => Promise<{ rows: R[] }>;

const windowDays = (o: RegistryObjective) => Number(o.window.replace(/d$/, ""));
const creditsText = (credits: readonly CreditTerm[]) => credits.map((c) => `below ${c.below}: ${c.percent}%`).join(", ");
const sameCredits = (a: readonly CreditTerm[], b: readonly CreditTerm[]) => creditsText([...a].sort((x, y) => y.below - x.below)) === creditsText([...b].sort((x, y) => y.below - x.below));

/**
 * Records the document's objectives and credit terms as of `at` (the registry's own transaction): an
 * objective whose terms changed, or that is new, gets a row from `at`; one the document no longer lists
 * a withdrawal row. Terms already recorded from `at` or later are never rewritten: that is a problem.
 * Returns what changed, one line each.
 */
export async function syncServiceLevels(q: Query, doc: RegistryDocument, at: Date, problems: string[]): Promise<string[]> {
    const changes: string[] = [];
    const latest = new Map(
        (
            await q<{ slo: string; effective_from: Date; service: string; target: string | null; indicator: string; tenant_id: string | null; objective: string | null; window_days: number | null; credits: CreditTerm[] }>(
                "SELECT DISTINCT ON (slo) slo, effective_from, service, target, indicator, tenant_id, objective::text, window_days, credits FROM slo_terms ORDER BY slo, effective_from DESC",
            )
        ).rows.map((r) => [r.slo, r]),
    );
    const record = async (slo: string, row: unknown[], line: string) => {
        const was = latest.get(slo);
        if (was && was.effective_from.getTime() >= at.getTime()) {
            problems.push(`serviceLevels: the terms of ${slo} were recorded from ${was.effective_from.toISOString()}; a change from ${at.toISOString()} would rewrite them (terms are history: apply it with a later --at)`);
            return;
        }
        await q("INSERT INTO slo_terms (slo, effective_from, service, target, indicator, tenant_id, objective, window_days, credits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", [slo, at, ...row]);
        changes.push(line);
    };
    const wanted = doc.serviceLevels?.objectives ?? [];
    for (const o of wanted) {
        const credits = creditedObjective(o) ? (doc.serviceLevels?.credits ?? []) : [];
        const was = latest.get(o.slo);
        const same =
            was &&
            was.objective !== null &&
            Number(was.objective) === o.objective &&
            was.window_days === windowDays(o) &&
            was.service === o.service &&
            was.indicator === o.indicator &&
            (was.target ?? undefined) === o.target &&
            (was.tenant_id ?? undefined) === o.tenant &&
            sameCredits(was.credits, credits);
        if (same) continue;
        const before = was?.objective != null ? ` (was ${Number(was.objective)}${was.credits.length > 0 ? `, credits ${creditsText(was.credits)}` : ""})` : "";
        await record(
            o.slo,
            [o.service, o.target ?? null, o.indicator, o.tenant ?? null, o.objective, windowDays(o), JSON.stringify(credits)],
            `${o.slo}: ${o.objective} over ${o.window}${credits.length > 0 ? `, credits ${creditsText(credits)}` : ""}${before}`,
        );
    }
    const listed = new Set(wanted.map((o) => o.slo));
    for (const was of latest.values()) {
        if (listed.has(was.slo) || was.objective === null) continue;
        await record(was.slo, [was.service, was.target, was.indicator, was.tenant_id, null, null, "[]"], `${was.slo}: withdrawn (was ${Number(was.objective)})`);
    }
    return changes;
}

/** An objective's month for one tenant: what was promised, what was delivered, and the credit it owes. */
export interface MonthlyServiceLevel {
    slo: string;
    /** The model or pool it is about. */
    target?: string;
    indicator: string;
    objective: number;
    /** Good and valid events (requests, or GPU-seconds) in the month, exact decimals. */
    good: string;
    valid: string;
    /** good / valid; absent when the tenant made no valid events (nothing to judge). */
    attainment?: number;
    met?: boolean;
    /** The credit tier its attainment falls under (0: none), for an objective with credit terms. */
    creditPercent?: number;
}

/** A month's [start, end) as instants (UTC). */
function monthBounds(period: string): { start: Date; end: Date } {
    const start = new Date(`${period}T00:00:00Z`);
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    return { start, end };
}

/**
 * Each objective that judges the tenant's month (`period`: its first day, YYYY-MM-01) and that the
 * tenant made events for, with its attainment.
 */
export async function monthlyServiceLevels(client: ClientBase, tenant: string, period: string): Promise<MonthlyServiceLevel[]> {
    const { start, end } = monthBounds(period);
    const events = new Map(
        (
            await client.query<{ slo: string; good: string; valid: string }>(
                "SELECT slo, trim_scale(sum(good))::text AS good, trim_scale(sum(valid))::text AS valid FROM slo_events WHERE tenant_id = $1 AND window_start >= $2 AND window_start < $3 GROUP BY slo",
                [tenant, start, end],
            )
        ).rows.map((r) => [r.slo, r]),
    );
    const rows = (
        await client.query<{ slo: string; effective_from: Date; service: string; target: string | null; indicator: string; objective: string | null; credits: CreditTerm[] }>(
            "SELECT slo, effective_from, service, target, indicator, objective::text, credits FROM slo_terms WHERE effective_from < $1",
            [end],
        )
    ).rows;
    const terms = termsForMonth(
        rows.map((r): RecordedTerms => ({ slo: r.slo, effectiveFrom: r.effective_from, ...(r.target ? { target: r.target } : {}), service: r.service, indicator: r.indicator, objective: r.objective === null ? null : Number(r.objective), credits: r.credits })),
        start,
        end,
    );
    // Only the objectives the tenant made events for: a model it never called promised it nothing to judge.
    return terms
        .filter((t) => events.has(t.slo))
        .map((t) => {
            const e = events.get(t.slo)!;
            // No valid events (a window where the rates were zero): nothing to judge, never a division by zero.
            const attainment = Number(e.valid) > 0 ? Number(e.good) / Number(e.valid) : undefined;
            const credited = t.credits.length > 0;
            return {
                slo: t.slo,
                ...(t.target ? { target: t.target } : {}),
                indicator: t.indicator,
                objective: t.objective!,
                good: e.good,
                valid: e.valid,
                ...(attainment !== undefined ? { attainment, met: attainment >= t.objective!, ...(credited ? { creditPercent: attainment >= t.objective! ? 0 : creditPercent(attainment, t.credits) } : {}) } : {}),
            };
        })
        .sort((a, b) => (a.slo < b.slo ? -1 : 1));
}

/** A credit an objective's month owes a tenant. */
export interface SloCredit {
    slo: string;
    model: string;
    attainment: number;
    objective: number;
    percent: number;
    /** The month's charges for the model (its credit tracks), and the credit, in cents. */
    chargesCents: bigint;
    creditCents: bigint;
    reason: string;
    /** The adjustment's reference: the objective (one credit per tenant, month and objective). */
    reference: string;
}

/**
 * The credits a tenant's month owes: for each hosted model's availability objective that judges the
 * month, with valid requests, whose attainment is below a credit threshold, the tier's percent of the
 * month's charges for the model on its credit tracks, priced as the invoice prices them (charge_lines).
 */
export async function sloCredits(client: ClientBase, tenant: string, period: string, currency?: string): Promise<SloCredit[]> {
    const owed = (await monthlyServiceLevels(client, tenant, period)).filter((l) => (l.creditPercent ?? 0) > 0 && l.target);
    if (owed.length === 0) return [];
    const { start, end } = monthBounds(period);
    const charges = new Map(
        (
            await client.query<{ subject: string; cents: string }>("SELECT subject, (sum(amount) * 100)::bigint::text AS cents FROM charge_lines($1, $2, $3) WHERE track = ANY($4) GROUP BY subject", [tenant, start, end, [...SLO_CREDIT_TRACKS]])
        ).rows.map((r) => [r.subject, BigInt(r.cents)]),
    );
    const month = period.slice(0, 7);
    return owed.flatMap((l) => {
        const chargesCents = charges.get(l.target!) ?? 0n;
        const cents = creditCents(chargesCents, l.creditPercent!);
        if (cents <= 0n) return [];
        return [
            {
                slo: l.slo,
                model: l.target!,
                attainment: l.attainment!,
                objective: l.objective,
                percent: l.creditPercent!,
                chargesCents,
                creditCents: cents,
                reason: `SLO credit: ${l.target} availability ${attainmentText(l.attainment!)} in ${month}, objective ${Number((l.objective * 100).toPrecision(6))}%: ${l.creditPercent}% of its charges of ${moneyText(chargesCents, currency)}`,
                reference: l.slo,
            },
        ];
    });
}

/** Adds a month's SLO credits as adjustments (source `slo`, one per objective), inside the caller's transaction. */
export async function addSloCredits(client: ClientBase, tenant: string, period: string): Promise<SloCredit[]> {
    const currency = (await client.query<{ currency: string }>("SELECT currency FROM billing_settings")).rows[0]?.currency;
    const credits = await sloCredits(client, tenant, period, currency);
    for (const c of credits) {
        await client.query("SELECT add_invoice_adjustment($1, $2::date, $3::numeric, $4, 'slo', $5)", [tenant, period, moneyText(-c.creditCents).replace(/,/g, ""), c.reason, c.reference]);
    }
    return credits;
}
