import { BILLING_UNITS, BillingUnit, HOURS_PER_MONTH, moneyText, monthlyValue, priceChanges, registriesOf, registryOf, RegistryDocument, TenantMonthly } from "compute-region-policies/model";
import type { ResourceSnapshot } from "compute-region-policies/engine";
import type { PlanChanges } from "./diff";
import { textTable } from "./summary";

/**
 * The money in a plan: the billing registry the registry Job would apply (exactly the ConfigMap's
 * document), what a month of what is sold is worth at the prices in force at the plan's date, per pool
 * and per tenant, and, against a state or an earlier plan, what each tenant's monthly charge becomes.
 */

export interface BillingEvidence {
    /** The registry document, as the ConfigMap carries it. */
    registry: RegistryDocument;
    /** The date prices are read at (the plan's --at, else now). */
    at: string;
    monthly: ReturnType<typeof monthlyJson>;
}

/** A month of commitments at the prices in force at `at`, money as exact strings. */
function monthlyJson(doc: RegistryDocument, at: Date) {
    const value = monthlyValue(doc, at);
    const money = (c: bigint) => moneyText(c).replace(/,/g, "");
    return {
        currency: doc.currency,
        hoursPerMonth: HOURS_PER_MONTH,
        pools: value.pools.map((p) => ({ pool: p.pool, gpuModel: p.gpuModel, role: p.role, soldGpus: p.soldGpus, unitPrice: p.unitPrice, monthly: money(p.monthlyCents) })),
        tenants: value.tenants.map((t) => ({
            tenant: t.tenant,
            state: t.state,
            discountPercent: t.discountPercent,
            committed: t.charges.map((c) => ({ track: c.track, subject: c.subject, quantity: c.quantity, unit: c.unit, ...(c.unitPrice ? { unitPrice: c.unitPrice } : {}), ...(c.monthlyCents !== undefined ? { monthly: money(c.monthlyCents) } : {}) })),
            byUse: t.byUse.map((c) => ({ track: c.track, subject: c.subject, quantity: c.quantity, unit: c.unit, ...(c.unitPrice ? { unitPrice: c.unitPrice } : {}) })),
            monthly: money(t.committedCents),
        })),
        total: money(value.totalCents),
    };
}

/** The plan's billing evidence, when it has a registry whose document is known. */
export function billingEvidence(resources: readonly ResourceSnapshot[], at: Date): BillingEvidence | undefined {
    const registry = registriesOf(resources as readonly { type: string; name: string; props: Record<string, any> }[]).find((r) => r.doc)?.doc;
    return registry && { registry, at: at.toISOString(), monthly: monthlyJson(registry, at) };
}

const unitLabel = (unit: string) => BILLING_UNITS[unit as BillingUnit]?.label ?? unit;

/** What a tenant commits to and what it may use, in a few words. */
function describeTenant(t: TenantMonthly): { commitments: string; byUse: string } {
    const commitments = t.charges.map((c) => `${c.track} ${c.quantity} on ${c.subject}${c.unitPrice ? ` at ${c.unitPrice}/${unitLabel(c.unit)}` : " (no price)"}`);
    const byModel = new Map<string, string[]>();
    const byUse: string[] = [];
    const batchByModel = new Map<string, string[]>();
    for (const c of t.byUse) {
        if (c.track === "hosted") byModel.set(c.subject, [...(byModel.get(c.subject) ?? []), `${c.unitPrice ?? "?"}`]);
        else if (c.track === "batch") batchByModel.set(c.subject, [...(batchByModel.get(c.subject) ?? []), `${c.unitPrice ?? "?"}`]);
        else byUse.push(`${c.track} up to ${c.quantity} on ${c.subject} at ${c.unitPrice ?? "?"}/${unitLabel(c.unit)}`);
    }
    for (const [model, prices] of byModel) byUse.push(`${model} at ${prices.join("/")} per 1M input/cached/output tokens`);
    for (const [model, prices] of batchByModel) byUse.push(`batch ${model} at ${prices.join("/")} per 1M input/output tokens`);
    return { commitments: commitments.join("; ") || "-", byUse: byUse.join("; ") || "-" };
}

/** The summary's billing section. */
export function billingLines(evidence: BillingEvidence | undefined): string[] {
    if (!evidence) return ["Billing: none (no billing registry in this stack)"];
    const { registry, monthly } = evidence;
    const value = monthlyValue(registry, new Date(evidence.at));
    const lines = [
        `Billing (the registry the registry Job applies, scope ${registry.scope}: ${registry.prices.length} prices, ${registry.tenants.length} tenants; a month of what is sold at the prices in force on ${evidence.at.slice(0, 10)}, ${HOURS_PER_MONTH} hours, ${registry.currency})`,
    ];
    if (monthly.pools.length > 0) {
        lines.push(textTable(["pool", "GPU model", "role", "GPUs sold", "price/GPU-hour", "a month, after discounts"], value.pools.map((p) => [p.pool, p.gpuModel, p.role, p.soldGpus, p.unitPrice ?? "-", moneyText(p.monthlyCents)]), ["left", "left", "left", "right", "right", "right"]));
    }
    if (value.tenants.length > 0) {
        lines.push(
            textTable(
                ["tenant", "state", "committed (billed every hour)", "discount", "a month", "billed by use"],
                value.tenants.map((t) => {
                    const d = describeTenant(t);
                    return [t.tenant, t.state, d.commitments, `${t.discountPercent}%`, moneyText(t.committedCents), d.byUse];
                }),
                ["left", "left", "left", "right", "right", "left"],
            ),
        );
    }
    lines.push(`  Committed a month: ${moneyText(value.totalCents, registry.currency)} (spot GPU time and tokens bill by use on top)`);
    return lines;
}

/** The plan document's `billing`: the registry exactly as the Job applies it, and a month of it. */
export function billingJson(evidence: BillingEvidence | undefined): { billing?: { registry: RegistryDocument; at: string; monthly: BillingEvidence["monthly"] } } {
    return evidence ? { billing: { registry: evidence.registry, at: evidence.at, monthly: evidence.monthly } } : {};
}

export interface BillingChange {
    tenant: string;
    /** Cents a month of its commitments before and after (undefined: not in that registry). */
    before?: bigint;
    after?: bigint;
}

/** What the change does to the money: each tenant's monthly charge before and after, and the price list's changes. */
export function billingChanges(plan: PlanChanges | undefined, at: Date): { tenants: BillingChange[]; prices: string[]; currency: string } | undefined {
    if (!plan) return undefined;
    for (const c of plan.changes) {
        const before = c.old ? registryOf({ type: c.type, name: c.name, props: c.old.props as Record<string, any> })?.doc : undefined;
        const after = c.new ? registryOf({ type: c.type, name: c.name, props: c.new.props as Record<string, any> })?.doc : undefined;
        if (!before && !after) continue;
        if (c.op === "same") return undefined;
        const was = before ? monthlyValue(before, at).tenants : [];
        const now = after ? monthlyValue(after, at).tenants : [];
        const names = [...new Set([...was.map((t) => t.tenant), ...now.map((t) => t.tenant)])].sort();
        const tenants = names
            .map((tenant) => ({ tenant, before: was.find((t) => t.tenant === tenant)?.committedCents, after: now.find((t) => t.tenant === tenant)?.committedCents }))
            .filter((t) => t.before !== t.after || !before || !after);
        const prices = priceChanges(before?.prices ?? [], after?.prices ?? [], at).map(
            (p) => `${p.kind} ${p.price.track} ${p.price.item} ${p.was ? `${p.was} -> ` : ""}${p.price.unitPrice} per ${unitLabel(p.price.unit)} from ${p.price.effectiveFrom}${p.retroactive ? " (RETROACTIVE)" : ""}`,
        );
        return { tenants, prices, currency: (after ?? before)!.currency };
    }
    return undefined;
}

const show = (c: bigint | undefined) => (c === undefined ? "(none)" : moneyText(c));

/** The change section's billing lines (terminal). */
export function billingChangeLines(change: ReturnType<typeof billingChanges>): string[] {
    if (!change || (change.tenants.length === 0 && change.prices.length === 0)) return [];
    const lines = [`Monthly charges (commitments, a month of ${HOURS_PER_MONTH} hours at the prices in force on the plan's date, ${change.currency})`];
    for (const t of change.tenants) lines.push(`  ${t.tenant}: ${show(t.before)} -> ${show(t.after)}${t.before !== undefined && t.after !== undefined ? ` (${t.after >= t.before ? "+" : ""}${moneyText(t.after - t.before)})` : ""}`);
    for (const p of change.prices) lines.push(`  price ${p}`);
    return lines;
}

/** The same for the pull-request comment. */
export function billingChangeMarkdown(change: ReturnType<typeof billingChanges>): string[] {
    if (!change || (change.tenants.length === 0 && change.prices.length === 0)) return [];
    const out = [`**Monthly charges** (commitments, ${HOURS_PER_MONTH} hours, ${change.currency})`, "", "| tenant | before | after |", "| --- | ---: | ---: |"];
    for (const t of change.tenants) out.push(`| ${t.tenant} | ${show(t.before)} | ${show(t.after)} |`);
    out.push("");
    for (const p of change.prices) out.push(`- price ${p}`);
    if (change.prices.length > 0) out.push("");
    return out;
}

/** The same for the plan document's `changes.billing`. */
export function billingChangeJson(change: ReturnType<typeof billingChanges>) {
    if (!change) return undefined;
    const money = (c: bigint | undefined) => (c === undefined ? null : moneyText(c).replace(/,/g, ""));
    return { currency: change.currency, tenants: change.tenants.map((t) => ({ tenant: t.tenant, monthlyBefore: money(t.before), monthlyAfter: money(t.after) })), prices: change.prices };
}
