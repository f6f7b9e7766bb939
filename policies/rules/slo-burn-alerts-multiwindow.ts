import { resourcesOfType, stackPolicy } from "../engine/policy";
import { BURN_RATE_WINDOWS, burnAlertProblems, SLO_ALERT, SLO_LABEL, SLO_RECORDS, SloErrorWindow } from "../model/domain/slo";
import { MONITORING_TYPES } from "../model/domain/types";
import { reliabilitySamples as s } from "../samples/reliability";

interface Rule {
    alert?: string;
    record?: string;
    expr?: string;
    labels?: Record<string, string>;
}

const sloName = "model-llama-availability";
const recordsFor = (slo: string, windows: readonly string[] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]): Rule[] => [
    ...windows.map((w) => ({ record: SLO_RECORDS.errorRatio(w as SloErrorWindow), expr: "vector(0)", labels: { [SLO_LABEL]: slo } })),
    { record: SLO_RECORDS.objective, expr: "vector(0.999)", labels: { [SLO_LABEL]: slo } },
];
const condition = (slo: string, long: string, short: string, rate: number) =>
    `(${SLO_RECORDS.errorRatio(long as SloErrorWindow)}{${SLO_LABEL}="${slo}"} > (${rate} * 0.001) and ${SLO_RECORDS.errorRatio(short as SloErrorWindow)}{${SLO_LABEL}="${slo}"} > (${rate} * 0.001))`;
const burnAlerts = (slo: string, page = [condition(slo, "1h", "5m", 14.4), condition(slo, "6h", "30m", 6)], ticket = [condition(slo, "1d", "2h", 3), condition(slo, "3d", "6h", 1)]): Rule[] => [
    { alert: SLO_ALERT, expr: page.join(" or "), labels: { severity: "critical", team: "serving", [SLO_LABEL]: slo } },
    { alert: SLO_ALERT, expr: ticket.join(" or "), labels: { severity: "warning", team: "serving", [SLO_LABEL]: slo } },
];
const window = (slo: string, days: number): Rule => ({ record: SLO_RECORDS.attainment, expr: "vector(1)", labels: { [SLO_LABEL]: slo, window: `${days}d` } });

export const sloBurnAlertsMultiwindow = stackPolicy({
    name: "slo-burn-alerts-multiwindow",
    description:
        "Every service level objective is alerted on as the SRE workbook sets out: a page when both the 1h and 5m windows (or 6h and 30m) burn its error budget 14.4 (6) times too fast, " +
        "a ticket when both 1d and 2h (or 3d and 6h) burn it 3 (1) times too fast, each window recorded for the objective.",
    rationale:
        "A short window alone pages on every brief blip and stops paging the moment a long outage is already eating the budget; a long window alone pages late and keeps paging long after the " +
        "problem is fixed. Only the pair, at burn rates tied to the window, pages fast for real budget loss and resets quickly (Google SRE workbook, \"Alerting on SLOs\").",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Generate an objective's rules with components/slo-rules.ts (from compute-region:slos) rather than writing them by hand.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4(5)", title: "System Monitoring: System-generated Alerts" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity and availability commitments are monitored" },
    ],
    validateStack: (args, report) => {
        const rules: Rule[] = resourcesOfType(args, MONITORING_TYPES.prometheusRule).flatMap((r) => {
            const spec = (r.props.spec) as { groups?: { rules?: Rule[] }[] } | undefined;
            return (spec?.groups ?? []).flatMap((g) => (g?.rules ?? []).filter((x): x is Rule => typeof x === "object" && x !== null));
        });
        const objectives = new Map<string, number>();
        const windows = new Map<string, number>();
        const recorded = new Set<string>();
        for (const r of rules) {
            const slo = r.labels?.[SLO_LABEL];
            if (!r.record || !slo) continue;
            recorded.add(`${r.record}/${slo}`);
            const value = Number(/^vector\(([\d.]+)\)$/.exec(r.expr ?? "")?.[1]);
            if (r.record === SLO_RECORDS.objective && !Number.isNaN(value)) objectives.set(slo, value);
            const days = Number(/^(\d+)d$/.exec(r.labels?.window ?? "")?.[1]);
            if (r.record === SLO_RECORDS.attainment && days) windows.set(slo, days);
        }
        const alerted = new Map<string, Set<string>>();
        for (const r of rules.filter((x) => x.alert === SLO_ALERT)) {
            const slo = r.labels?.[SLO_LABEL];
            const severity = r.labels?.severity ?? "";
            if (!slo) {
                report(`a ${SLO_ALERT} alert has no ${SLO_LABEL} label: nobody can tell which objective burns.`);
                continue;
            }
            alerted.set(slo, (alerted.get(slo) ?? new Set()).add(severity));
            for (const problem of burnAlertProblems(r.expr ?? "", slo, severity, objectives.get(slo), windows.get(slo))) report(`the ${severity || "unlabelled"} ${SLO_ALERT} alert of objective ${slo} ${problem}.`);
            for (const w of BURN_RATE_WINDOWS.filter((b) => b.severity === severity)) {
                for (const window of [w.long, w.short]) {
                    if (!recorded.has(`${SLO_RECORDS.errorRatio(window as SloErrorWindow)}/${slo}`)) report(`objective ${slo} has no ${SLO_RECORDS.errorRatio(window as SloErrorWindow)} recording rule: its ${severity} alert reads a series that is never recorded.`);
                }
            }
        }
        for (const slo of objectives.keys()) {
            const severities = alerted.get(slo) ?? new Set();
            for (const severity of ["critical", "warning"]) if (!severities.has(severity)) report(`objective ${slo} has no ${severity === "critical" ? "page (critical)" : "ticket (warning)"} ${SLO_ALERT} alert.`);
        }
    },
    samples: {
        allowed: [{ description: "An objective with every window recorded and both burn alerts.", resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName), window(sloName, 30), ...burnAlerts(sloName)] }])] }],
        disallowed: [
            {
                description: "The page compares only the 5m window: it pages on every blip.",
                expect: "has no 1h long window beside its 5m short window",
                resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName), ...burnAlerts(sloName, [`(${SLO_RECORDS.errorRatio("5m")}{${SLO_LABEL}="${sloName}"} > (14.4 * 0.001))`, condition(sloName, "6h", "30m", 6)])] }])],
            },
            {
                description: "The ticket's pair is compared at the wrong burn rate for a 30-day window.",
                expect: "does not compare its 1d/2h windows at the workbook's 3x burn rate",
                resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName), window(sloName, 30), ...burnAlerts(sloName, undefined, [condition(sloName, "1d", "2h", 10), condition(sloName, "3d", "6h", 1)])] }])],
            },
            {
                description: "The alerts read a 6h window nobody records.",
                expect: "has no slo:error_ratio:rate6h recording rule",
                resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName, ["5m", "30m", "1h", "2h", "1d", "3d"]), ...burnAlerts(sloName)] }])],
            },
            {
                description: "An objective with no ticket alert.",
                expect: "has no ticket (warning) SloErrorBudgetBurn alert",
                resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName), burnAlerts(sloName)[0]] }])],
            },
            {
                description: "A burn alert that names no objective.",
                expect: "has no slo label",
                resources: [s.rules("slo", [{ name: "slo", rules: [{ alert: SLO_ALERT, expr: "vector(1)", labels: { severity: "critical" } }] }])],
            },
            {
                description: "A burn alert with a severity that is neither a page nor a ticket.",
                expect: "has severity \"info\"",
                resources: [s.rules("slo", [{ name: "slo", rules: [...recordsFor(sloName), ...burnAlerts(sloName), { alert: SLO_ALERT, expr: "vector(1)", labels: { severity: "info", [SLO_LABEL]: sloName } }] }])],
            },
        ],
    },
});
