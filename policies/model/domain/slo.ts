/**
 * Service level objectives: what the region promises, how each promise is measured, and how it is
 * alerted on, as the Google SRE workbook sets it out ("Alerting on SLOs", multiwindow,
 * multi-burn-rate alerts). Plain data and functions: the components generate the recording rules,
 * alerts and dashboard from them, the policies check what was generated against them, and billing
 * reads the same series (SLO_METERING).
 */
import { GATEWAY } from "./conventions";

/** The windows an objective may be measured over, in days (`as const` sets here, so Pulumi's schema inference serves them as enums). */
export const SloWindowDays = {
    /** Four weeks. */
    TwentyEight: 28,
    /** A month of 30 days. */
    Thirty: 30,
} as const;
/** The windows an objective may be measured over, in days. */
export type SloWindowDays = (typeof SloWindowDays)[keyof typeof SloWindowDays];
export const SLO_WINDOW_DAYS = [SloWindowDays.TwentyEight, SloWindowDays.Thirty] as const;

/** Who owns an objective's alerts (Alertmanager routes by this label). */
export const SloTeam = {
    /** The capacity team (GPU pools). */
    Capacity: "capacity",
    /** The serving team (hosted models and the gateway). */
    Serving: "serving",
} as const;
/** Who owns an objective's alerts (Alertmanager routes by this label). */
export type SloTeam = (typeof SloTeam)[keyof typeof SloTeam];

/** What an objective measures. */
export const SloIndicator = {
    /** Requests answered without failure, of all valid requests. */
    Availability: "availability",
    /** Requests answered under a latency threshold, of all requests. */
    Latency: "latency",
    /** GPU-time a pool's tenants could use, of the GPU-time they bought. */
    GpuAvailability: "gpu-availability",
} as const;
/** What an objective measures. */
export type SloIndicator = (typeof SloIndicator)[keyof typeof SloIndicator];

/** What an objective is about. */
export const SloService = {
    /** A hosted model. */
    Model: "model",
    /** The hosted-model gateway as a whole. */
    Gateway: "gateway",
    /** A GPU pool. */
    Pool: "pool",
} as const;
/** What an objective is about. */
export type SloService = (typeof SloService)[keyof typeof SloService];

/** The latency histograms an objective may read (policies/model/upstream/service-metrics.ts). */
export const LatencyMetric = {
    /** Time to the first token of a response. */
    TimeToFirstToken: "timeToFirstToken",
    /** The whole request. */
    RequestDuration: "requestDuration",
} as const;
/** The latency histograms an objective may read (policies/model/upstream/service-metrics.ts). */
export type LatencyMetric = (typeof LatencyMetric)[keyof typeof LatencyMetric];

/** A latency objective's measure: which histogram and the bound a good request stays under. */
export interface SloLatency {
    /** The histogram. */
    metric: LatencyMetric;
    /** The bound a good request stays under, seconds (a bucket boundary of the histogram). */
    thresholdSeconds: number;
}

export interface SloSpec {
    /** The objective's id: the `slo` label of every series and alert made for it. */
    name: string;
    /** The model, the gateway as a whole, or a GPU pool. */
    service: SloService;
    /** The model or pool the objective is about (none for the gateway). */
    target?: string;
    /** What it measures. */
    indicator: SloIndicator;
    /** The fraction of good events promised, strictly between 0 and 1 (0.999 is 99.9%). */
    objective: number;
    /** The window it is measured over, days. */
    windowDays: SloWindowDays;
    /** For latency: which histogram and the bound a good request stays under (a bucket boundary of it). */
    latency?: SloLatency;
    /** The tenant a dedicated pool's objective is owed to. */
    tenant?: string;
    /** Who owns its alerts. */
    team: SloTeam;
    /** One line for people: what is promised. */
    description: string;
}

/** A credit a tenant is owed when a hosted model's availability for a month ends below `below`. */
export interface CreditTerm {
    /** Monthly attainment under which the credit applies, strictly between 0 and 1. */
    below: number;
    /** Percent of the month's charges for the model credited. */
    percent: number;
}

/** The credit for a month's attainment: the largest of the terms it falls under, else 0. */
export function creditPercent(attainment: number, terms: readonly CreditTerm[]): number {
    return terms.filter((t) => attainment < t.below).reduce((best, t) => Math.max(best, t.percent), 0);
}

/** Labels the region's alerts and SLO series carry. */
export const SLO_LABEL = "slo";

/**
 * The workbook's multiwindow, multi-burn-rate alerts for a window: each pages (critical) or tickets
 * (warning) when both its long and its short window burn the error budget faster than `burnRate`
 * times the sustainable rate. The burn rates are those that spend `budgetSpent` of the window's
 * budget within the long window: 2% in 1h (14.4x over 30 days), 5% in 6h (6x), 10% in 1d (3x),
 * 10% in 3d (1x).
 */
export const BURN_RATE_WINDOWS = [
    { severity: "critical", long: "1h", short: "5m", budgetSpent: 0.02 },
    { severity: "critical", long: "6h", short: "30m", budgetSpent: 0.05 },
    { severity: "warning", long: "1d", short: "2h", budgetSpent: 0.1 },
    { severity: "warning", long: "3d", short: "6h", budgetSpent: 0.1 },
] as const;
export type BurnRateWindow = (typeof BURN_RATE_WINDOWS)[number];

/** Every window an error ratio is recorded over, shortest first. */
export const SLO_ERROR_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
export type SloErrorWindow = (typeof SLO_ERROR_WINDOWS)[number];

/** A Prometheus duration (`5m`, `1h`, `3d`, `30d`) in seconds. */
export function promDurationSeconds(duration: string): number {
    const m = /^(\d+)([smhd])$/.exec(duration);
    if (!m) throw new Error(`not a simple Prometheus duration: ${duration}`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "s" | "m" | "h" | "d"];
}

/** The burn rate of an alert window over an SLO window, as the workbook computes it (14.4 for 2% of 30 days in 1 hour). */
export function burnRate(window: Pick<BurnRateWindow, "long" | "budgetSpent">, windowDays: number): number {
    return Number(((window.budgetSpent * windowDays * 86_400) / promDurationSeconds(window.long)).toFixed(4));
}

/** The alert every SLO burn is reported as; `severity` tells a page from a ticket, `slo` the objective. */
export const SLO_ALERT = "SloErrorBudgetBurn";

/**
 * The recording rules every SLO gets, and the contract other readers (the dashboard, billing) rely on.
 * `good` and `valid` are per-second rates of good and valid events, by `slo` and, where the indicator
 * knows it, `tenant`; for a pool's GPU availability an event is a GPU-second.
 */
export const SLO_RECORDS = {
    good: "slo:good_events:rate5m",
    valid: "slo:valid_events:rate5m",
    errorRatio: (window: SloErrorWindow) => `slo:error_ratio:rate${window}`,
    /** Good of valid events over the objective's whole window, by slo (label `window`). */
    attainment: "slo:attainment:ratio",
    /** The same, by slo and tenant. */
    tenantAttainment: "slo:attainment_by_tenant:ratio",
    /** The share of the window's error budget left (1 untouched, 0 spent, negative overspent). */
    budgetRemaining: "slo:error_budget_remaining:ratio",
    /** The objective itself, so a query (and billing) reads what was promised at the time. */
    objective: "slo:objective:ratio",
} as const;

/** Recording rules are evaluated once a minute (set on their groups): billing integrates the rates at this step. */
export const SLO_RULE_INTERVAL_SECONDS = 60;
export const SLO_RULE_INTERVAL = `${SLO_RULE_INTERVAL_SECONDS}s`;

/**
 * A range over recorded series that holds the same samples on Prometheus 2.x and 3.x. Recorded
 * samples sit exactly one evaluation interval apart, so a range of a whole number of intervals ends on
 * one: 2.x's closed range `[t-w, t]` would hold it and 3.x's left-open `(t-w, t]` would not. Half an
 * interval less keeps it out of both.
 */
export function recordedRange(duration: string): string {
    return `${promDurationSeconds(duration) - SLO_RULE_INTERVAL_SECONDS / 2}s`;
}

/**
 * The part of the contract billing reads (issue 23 part 4): the requests (or GPU-seconds) each tenant
 * was served well and in all, per objective, from the recording rules the alerts use. Metering
 * evaluates `stepQuery` as a range query at its 60-second steps (start + 60 s, ..., end of each
 * window), as it reads usage: the value at step instant t is the latest recorded rate (recorded every
 * SLO_RULE_INTERVAL_SECONDS, the same 60 s), and times the step it stands for the events of
 * (t - 60 s, t]. Each recorded sample is read by exactly one step, whatever the rule group's phase, so
 * windows that tile a month add up to the month with no sample lost or counted twice.
 *
 * Prometheus 2.x and 3.x: no range selector is involved (an instant selector reads the latest sample
 * within the lookback delta in both), so the result is the same in both. A `sum_over_time` over a
 * window's range would not tile: cut half an interval short (`recordedRange`, as the rules' window-long
 * figures are, where one sample in 43,200 does not matter) it drops the window's first sample whenever
 * the rule group's phase puts that sample within half an interval of the window's start.
 */
export const SLO_METERING = {
    goodSeries: SLO_RECORDS.good,
    validSeries: SLO_RECORDS.valid,
    /** Seconds each step's rate stands for: the rules' evaluation interval, which is metering's step. */
    stepSeconds: SLO_RULE_INTERVAL_SECONDS,
    /** The label telling a step's good rate from its valid rate in `stepQuery`'s result. */
    eventsLabel: "events",
    /** The tenant label of the per-tenant series (objectives without one are the region's, not a tenant's). */
    tenantLabel: GATEWAY.tenantLabel,
    /** Good and valid event rates by objective and tenant at one instant, labelled `events="good"` or `"valid"`. */
    stepQuery: (): string => {
        const by = (series: string, events: string) => `label_replace(sum by (${SLO_LABEL}, ${GATEWAY.tenantLabel}) (${series}{${GATEWAY.tenantLabel}!=""}), "events", "${events}", "", "")`;
        return `${by(SLO_RECORDS.good, "good")} or ${by(SLO_RECORDS.valid, "valid")}`;
    },
} as const;

/** The text an SLO alert's expression has for one burn window: both windows above the same threshold. */
export function burnCondition(slo: string, window: Pick<BurnRateWindow, "long" | "short" | "budgetSpent">, objective: number, windowDays: number): string {
    const threshold = `${burnRate(window, windowDays)} * ${Number((1 - objective).toPrecision(6))}`;
    const sel = `{${SLO_LABEL}="${slo}"}`;
    return `(${SLO_RECORDS.errorRatio(window.long as SloErrorWindow)}${sel} > (${threshold}) and ${SLO_RECORDS.errorRatio(window.short as SloErrorWindow)}${sel} > (${threshold}))`;
}

/**
 * What is wrong with an SLO alert's expression: each burn window of its severity must compare both
 * its long and its short window's error ratio, in one condition, with the workbook's burn rate.
 * Empty when it is sound. `objective` and `windowDays` are the SLO's, when known.
 */
export function burnAlertProblems(expr: string, slo: string, severity: string, objective?: number, windowDays?: number): string[] {
    const windows = BURN_RATE_WINDOWS.filter((w) => w.severity === severity);
    if (windows.length === 0) return [`has severity ${JSON.stringify(severity)}: an SLO burn alert pages (critical) or tickets (warning)`];
    const clauses = expr.split(/\)\s+or\s+\(/);
    const problems: string[] = [];
    const ratio = (window: string) => `${SLO_RECORDS.errorRatio(window as SloErrorWindow)}{${SLO_LABEL}="${slo}"}`;
    for (const w of windows) {
        const withShort = clauses.filter((c) => c.includes(ratio(w.short)));
        const both = withShort.filter((c) => c.includes(ratio(w.long)));
        if (both.length === 0) {
            problems.push(withShort.length > 0 ? `has no ${w.long} long window beside its ${w.short} short window: a short window alone ${severity === "critical" ? "pages" : "tickets"} on every brief blip` : `has no ${w.long}/${w.short} window pair`);
            continue;
        }
        if (objective !== undefined && windowDays !== undefined) {
            const rate = burnRate(w, windowDays);
            if (!both.some((c) => c.includes(`(${rate} * `))) problems.push(`does not compare its ${w.long}/${w.short} windows at the workbook's ${rate}x burn rate`);
        }
    }
    return problems;
}
