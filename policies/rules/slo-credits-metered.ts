import { resourcesOfType, stackPolicy } from "../engine/policy";
import { NAMESPACES } from "../model/domain/conventions";
import { creditedObjective } from "../model/domain/service-levels";
import { SLO_LABEL, SLO_METERING, SLO_RULE_INTERVAL, SLO_RULE_INTERVAL_SECONDS, promDurationSeconds } from "../model/domain/slo";
import { MONITORING_TYPES } from "../model/domain/types";
import { billingSamples as b, sampleRegistry } from "../samples/billing";
import { reliabilitySamples as s } from "../samples/reliability";
import { registriesOf } from "../model/evidence/billing-evidence";

interface Rule {
    record?: string;
    expr?: string;
    labels?: Record<string, string>;
}
interface Group {
    interval?: string;
    rules?: Rule[];
}

/** Whether an expression aggregates by the tenant label somewhere (`sum by (tenant) (...)`). */
const byTenant = (expr: string) => [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].some((m) => m[1].split(",").some((l) => l.trim() === SLO_METERING.tenantLabel));

export const sloCreditsMetered = stackPolicy({
    name: "slo-credits-metered",
    description:
        "Every objective the billing registry carries credit terms for has its good and valid events recorded per tenant, every minute, by the region's Prometheus rules: " +
        "what metering reads (SLO_METERING) to record each tenant's monthly attainment and issue the credits a breach owes.",
    rationale:
        "A credit promised in the contract is owed whether or not anyone measured it. If an objective's per-tenant series are not recorded, metering records nothing, its attainment is never judged, " +
        "and a breached month bills in full; recorded at another interval, metering's one-rate-per-minute steps count its events more or less than once.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Generate the objectives' rules from compute-region:slos (components/slo-rules.ts) in the same stack as the billing registry; do not drop or re-time their slo:good_events and slo:valid_events rules.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity and availability commitments are monitored" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4", title: "System Monitoring" },
    ],
    validateStack: (args, report) => {
        const registries = registriesOf(resourcesOfType(args, MONITORING_TYPES.configMap).filter((r) => (r.props as Record<string, any>).metadata?.namespace === NAMESPACES.billing) as any);
        const credited = registries.flatMap((r) => (r.doc?.serviceLevels && r.doc.serviceLevels.credits.length > 0 ? r.doc.serviceLevels.objectives.filter(creditedObjective).map((o) => ({ slo: o.slo, urn: r.urn })) : []));
        if (credited.length === 0) return;
        const recorded = new Map<string, { rule: Rule; interval?: string }>();
        for (const r of resourcesOfType(args, MONITORING_TYPES.prometheusRule)) {
            for (const g of ((r.props.spec as { groups?: Group[] } | undefined)?.groups ?? []).filter((x) => typeof x === "object" && x !== null)) {
                for (const rule of (g.rules ?? []).filter((x) => typeof x === "object" && x !== null && x.record && x.labels?.[SLO_LABEL])) {
                    recorded.set(`${rule.record}/${rule.labels![SLO_LABEL]}`, { rule, ...(g.interval ? { interval: g.interval } : {}) });
                }
            }
        }
        for (const { slo, urn } of credited) {
            for (const series of [SLO_METERING.goodSeries, SLO_METERING.validSeries]) {
                const found = recorded.get(`${series}/${slo}`);
                if (!found) {
                    report(`objective ${slo} carries credit terms, but no PrometheusRule records its ${series}: metering cannot read its attainment, so a breached month would bill in full.`, urn);
                    continue;
                }
                if (!byTenant(found.rule.expr ?? "")) report(`objective ${slo}'s ${series} is not recorded by ${SLO_METERING.tenantLabel} (sum by (${SLO_METERING.tenantLabel})): billing cannot tell whose requests failed, so no tenant is credited.`, urn);
                const every = found.interval ?? "the global evaluation interval";
                const seconds = found.interval && /^\d+[smhd]$/.test(found.interval) ? promDurationSeconds(found.interval) : undefined;
                if (seconds !== SLO_RULE_INTERVAL_SECONDS) {
                    report(`objective ${slo}'s ${series} is recorded every ${every}, not every ${SLO_RULE_INTERVAL}: metering reads one recorded rate per ${SLO_RULE_INTERVAL} step, so it would count the tenants' events more or less than once.`, urn);
                }
            }
        }
    },
    samples: (() => {
        const slo = "model-llama-availability";
        const withTerms = { ...sampleRegistry(), serviceLevels: { objectives: [{ slo, service: "model" as const, target: "llama", indicator: "availability" as const, objective: 0.999, window: "30d" as const }], credits: [{ below: 0.995, percent: 10 }] } };
        const events = (expr = `sum by (tenant) (rate(gen_ai_server_request_duration_seconds_count{gen_ai_request_model="llama"}[5m]))`) => [
            { record: SLO_METERING.goodSeries, expr, labels: { [SLO_LABEL]: slo } },
            { record: SLO_METERING.validSeries, expr, labels: { [SLO_LABEL]: slo } },
        ];
        const rules = (group: { name: string; rules: Rule[]; interval?: string }) => s.rules(`slo-${slo}`, [group]);
        return {
            allowed: [
                { description: "A credited objective whose good and valid events are recorded per tenant every minute.", resources: [b.registry(withTerms), rules({ name: `compute-region.slo.${slo}`, interval: "60s", rules: events() })] },
                { description: "Objectives without credit terms need nothing of metering.", resources: [b.registry({ ...withTerms, serviceLevels: { ...withTerms.serviceLevels, credits: [] } })] },
            ],
            disallowed: [
                { description: "Credit terms, but the objective's rules are gone.", expect: `objective ${slo} carries credit terms, but no PrometheusRule records its slo:good_events:rate5m`, resources: [b.registry(withTerms)] },
                {
                    description: "The events are recorded for the model as a whole, not per tenant.",
                    expect: `objective ${slo}'s slo:valid_events:rate5m is not recorded by tenant`,
                    resources: [b.registry(withTerms), rules({ name: `compute-region.slo.${slo}`, interval: "60s", rules: events(`sum(rate(gen_ai_server_request_duration_seconds_count{gen_ai_request_model="llama"}[5m]))`) })],
                },
                {
                    description: "The events are recorded every five minutes: metering's minute steps would read each rate five times.",
                    expect: `objective ${slo}'s slo:good_events:rate5m is recorded every 5m, not every 60s`,
                    resources: [b.registry(withTerms), rules({ name: `compute-region.slo.${slo}`, interval: "5m", rules: events() })],
                },
            ],
        };
    })(),
});
