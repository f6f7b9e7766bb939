import { CreditTerm, SLO_WINDOW_DAYS, SloIndicator, SloSpec } from "./slo";

/**
 * What billing reads of the region's service levels (issue 23 part 4): the objectives and credit terms
 * the stack declares, carried in the billing registry document (its `serviceLevels`) so the registry
 * Job records them as history, and the pure rules invoicing applies: which terms judge a month, and
 * what credit a month's attainment owes.
 */

/** An objective as the registry document carries it (and `slo_terms` records it). */
export interface RegistryObjective {
    /** The objective's id: the `slo` label of its series. */
    slo: string;
    service: SloSpec["service"];
    /** The model or pool it is about (none for the gateway). */
    target?: string;
    indicator: SloIndicator;
    /** A dedicated pool's tenant. */
    tenant?: string;
    objective: number;
    window: `${(typeof SLO_WINDOW_DAYS)[number]}d`;
}

/** The registry document's `serviceLevels`: every objective, and the credit terms of hosted models' availability. */
export interface RegistryServiceLevels {
    objectives: RegistryObjective[];
    /** Highest threshold first. */
    credits: CreditTerm[];
}

/** Whether a month below an objective owes credits: a hosted model's availability (what tenants pay per token for). */
export function creditedObjective(o: Pick<RegistryObjective, "service" | "indicator">): boolean {
    return o.service === "model" && o.indicator === "availability";
}

/**
 * The billing tracks whose charges a hosted model's availability credit is a percent of: the shared
 * model's tokens through the gateway, which is what its availability objective measures (a dedicated
 * endpoint's and a batch's requests are labelled apart and are not in it).
 */
export const SLO_CREDIT_TRACKS = ["hosted"] as const;

/** The document's service levels, from the program's objectives and credit terms; none when it has no objective. */
export function registryServiceLevels(slos: readonly SloSpec[], credits: readonly CreditTerm[]): RegistryServiceLevels | undefined {
    if (slos.length === 0) return undefined;
    const byName = (a: { slo: string }, b: { slo: string }) => (a.slo < b.slo ? -1 : a.slo > b.slo ? 1 : 0);
    return {
        objectives: slos
            .map((s) => ({ slo: s.name, service: s.service, ...(s.target ? { target: s.target } : {}), indicator: s.indicator, ...(s.tenant ? { tenant: s.tenant } : {}), objective: s.objective, window: `${s.windowDays}d` as const }))
            .sort(byName),
        credits: [...credits].sort((a, b) => b.below - a.below),
    };
}

const OBJECTIVE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const fraction = (v: unknown): v is number => typeof v === "number" && v > 0 && v < 1;

/** The shape problems of a document's `serviceLevels` (absent: the stack promises nothing), each at its path. */
export function serviceLevelProblems(raw: unknown): { path: string; message: string }[] {
    if (raw === undefined) return [];
    const problems: { path: string; message: string }[] = [];
    const add = (path: string, message: string) => void problems.push({ path: `serviceLevels${path}`, message });
    const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (!obj(raw)) return [{ path: "serviceLevels", message: "must be { objectives, credits }" }];
    if (!Array.isArray(raw.objectives)) add(".objectives", "must be a list");
    else {
        const seen = new Set<string>();
        raw.objectives.forEach((o: unknown, i: number) => {
            const at = `.objectives[${i}]`;
            if (!obj(o)) return add(at, "must be an object");
            if (typeof o.slo !== "string" || !OBJECTIVE_NAME.test(o.slo)) add(`${at}.slo`, `must be an objective's name, got ${JSON.stringify(o.slo)}`);
            else if (seen.has(o.slo)) add(`${at}.slo`, `repeats objective ${o.slo}`);
            else seen.add(o.slo);
            if (!["model", "gateway", "pool"].includes(String(o.service))) add(`${at}.service`, `must be model, gateway or pool, got ${JSON.stringify(o.service)}`);
            if (!["availability", "latency", "gpu-availability"].includes(String(o.indicator))) add(`${at}.indicator`, `must be availability, latency or gpu-availability, got ${JSON.stringify(o.indicator)}`);
            if (o.service !== "gateway" && (typeof o.target !== "string" || o.target === "")) add(`${at}.target`, "must name the model or pool");
            if (o.tenant !== undefined && typeof o.tenant !== "string") add(`${at}.tenant`, "must be a tenant's name");
            if (!fraction(o.objective)) add(`${at}.objective`, `must be strictly between 0 and 1, got ${JSON.stringify(o.objective)}`);
            if (!SLO_WINDOW_DAYS.map((d) => `${d}d`).includes(String(o.window))) add(`${at}.window`, `must be ${SLO_WINDOW_DAYS.map((d) => `${d}d`).join(" or ")}, got ${JSON.stringify(o.window)}`);
        });
    }
    if (!Array.isArray(raw.credits)) add(".credits", "must be a list");
    else {
        raw.credits.forEach((c: unknown, i: number) => {
            const at = `.credits[${i}]`;
            if (!obj(c)) return add(at, "must be { below, percent }");
            if (!fraction(c.below)) add(`${at}.below`, `must be strictly between 0 and 1, got ${JSON.stringify(c.below)}`);
            if (typeof c.percent !== "number" || !(c.percent > 0 && c.percent <= 100)) add(`${at}.percent`, `must be more than 0 and at most 100, got ${JSON.stringify(c.percent)}`);
        });
    }
    return problems;
}

/** One row of an objective's recorded terms: in force from `effectiveFrom`; `objective` null: withdrawn. */
export interface RecordedTerms {
    slo: string;
    effectiveFrom: Date;
    target?: string;
    service: string;
    indicator: string;
    objective: number | null;
    credits: CreditTerm[];
}

/**
 * The terms that judge a month [start, end) for each objective: those in force when it began, or for an
 * objective first promised during the month, its first terms. A change applied during a month judges
 * the months after it, never the one under way (its tenants were promised the terms it began with).
 * An objective withdrawn by then judges nothing (unless promised again during the month).
 */
export function termsForMonth(rows: readonly RecordedTerms[], start: Date, end: Date): RecordedTerms[] {
    const chosen = new Map<string, RecordedTerms>();
    for (const r of [...rows].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime())) {
        const at = r.effectiveFrom.getTime();
        if (at >= end.getTime()) continue;
        const had = chosen.get(r.slo);
        if (at <= start.getTime() || !had || had.objective === null) chosen.set(r.slo, r);
    }
    return [...chosen.values()].filter((r) => r.objective !== null);
}

/**
 * Cents credited for a month's charges at a percent (which may have decimals): percent x charges / 100,
 * rounded half away from zero once, as the database rounds money.
 */
export function creditCents(chargesCents: bigint, percent: number): bigint {
    const micros = BigInt(Math.round(percent * 1_000_000));
    const num = chargesCents * micros;
    const den = 100n * 1_000_000n;
    return num >= 0n ? (2n * num + den) / (2n * den) : -((2n * -num + den) / (2n * den));
}

/** A month's attainment as a percent for people: 99.52% (two decimals, never rounded up to the objective). */
export function attainmentText(attainment: number): string {
    // The nudge keeps an exact 99.8% (0.998 x 10,000 = 9979.999... in binary) from reading 99.79%.
    return `${(Math.floor(attainment * 10_000 + 1e-9) / 100).toFixed(2)}%`;
}
