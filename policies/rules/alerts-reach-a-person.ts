import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { AmConfig, canNotify, canPage, receiverIntegrations, ROUTING_LABELS, routeAlert, SEVERITIES, TEAMS, WATCHDOG_ALERT } from "../model/domain/alert-routing";
import { MONITORING_CHARTS } from "../model/domain/conventions";
import { MONITORING_TYPES, TYPES } from "../model/domain/types";
import { reliabilitySamples as s, SAMPLE_ALERTS } from "../samples/reliability";

/** The longest a heartbeat may go unsent for the dead man's switch to notice quickly. */
const HEARTBEAT_MAX_REPEAT_SECONDS = 600;

const seconds = (duration: string | undefined) => {
    const m = /^(\d+)([smh])$/.exec(duration ?? "");
    return m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"] : undefined;
};

interface PlannedAlert {
    alert: string;
    labels: Record<string, string>;
    from: string;
}

export const alertsReachAPerson = stackPolicy({
    name: "alerts-reach-a-person",
    description:
        "Alertmanager routes every alert the region defines: each carries a team and a severity, a critical alert reaches a receiver that pages someone (PagerDuty, Opsgenie, SNS), " +
        "a warning reaches a receiver that notifies someone, and the Watchdog beats to a heartbeat webhook.",
    rationale:
        "An alert nobody receives is no alert: kube-prometheus-stack's default configuration sends everything to a receiver with no integration. " +
        "A page that lands in a chat channel at night waits until morning; a pipeline that silently stops looks exactly like a quiet region unless a dead man's switch expects its heartbeat.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set compute-region:alerting (docs/reliability.md \"Service levels, alerts and threat detection\"): receivers with their credentials in Secrets Manager, a page and a ticket receiver for each team " +
        "(capacity, serving, billing, security), and a heartbeat webhook. Give every alert rule a team and a severity label.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "IR-6", title: "Incident Reporting" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-4(5)", title: "System Monitoring: System-generated Alerts" },
        { framework: "SOC 2 (2017 TSC)", control: "CC7.3", title: "Security events are evaluated and communicated" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Environmental protections and recovery infrastructure are monitored" },
    ],
    validateStack: (args, report) => {
        const release = resourcesOfType(args, TYPES.helmRelease).find((r: PolicyResource) => String(r.props.chart ?? "").split("/").pop() === MONITORING_CHARTS.prometheusStack);
        if (!release) return args.notApplicable(`no ${MONITORING_CHARTS.prometheusStack} release in this stack`);
        const values = (release.props.values) as Record<string, any> | undefined;
        const config = values?.alertmanager?.config as AmConfig | undefined;
        if (!config?.route) {
            report(`Alertmanager runs ${MONITORING_CHARTS.prometheusStack}'s default configuration: every alert goes to its null receiver and nobody is told (set compute-region:alerting).`, release.urn);
            return;
        }
        const alerts: PlannedAlert[] = [];
        for (const r of resourcesOfType(args, MONITORING_TYPES.prometheusRule)) {
            const spec = (r.props.spec) as { groups?: { name?: string; rules?: { alert?: string; labels?: Record<string, string> }[] }[] } | undefined;
            for (const group of spec?.groups ?? []) for (const rule of group?.rules ?? []) if (typeof rule?.alert === "string") alerts.push({ alert: rule.alert, labels: { ...(rule.labels ?? {}) }, from: `${r.name}/${group.name}` });
        }
        // The chart's own rules (not in the plan: Helm renders them) carry the team its values give them all.
        const defaultRules = values?.defaultRules as { create?: boolean; additionalRuleLabels?: Record<string, string> } | undefined;
        if (defaultRules?.create !== false) {
            const team = defaultRules?.additionalRuleLabels?.[ROUTING_LABELS.team];
            if (!team || !(TEAMS as readonly string[]).includes(team)) {
                report(`${MONITORING_CHARTS.prometheusStack}'s own alerts (KubeNodeNotReady, KubePodCrashLooping, ...) carry no team (defaultRules.additionalRuleLabels.${ROUTING_LABELS.team}${team ? ` is ${team}, not one of ${TEAMS.join(", ")}` : " is unset"}): they route to no team's receivers.`, release.urn);
            } else {
                for (const severity of ["critical", "warning"]) alerts.push({ alert: `${MONITORING_CHARTS.prometheusStack} rules`, labels: { team, severity }, from: `${MONITORING_CHARTS.prometheusStack} defaultRules` });
            }
        }
        const describe = (names: string[]) => names.map((n) => `${n} (${receiverIntegrations(config, n).join(", ") || "no integration"})`).join(", ");
        let watchdog = false;
        for (const a of alerts) {
            const team = a.labels[ROUTING_LABELS.team];
            const severity = a.labels[ROUTING_LABELS.severity];
            const named = `${a.alert}${a.labels.pool ? ` (pool ${a.labels.pool})` : ""}${a.labels.slo ? ` (slo ${a.labels.slo})` : ""}`;
            if (!severity || !(SEVERITIES as readonly string[]).includes(severity)) {
                report(`alert ${named} in ${a.from} has ${severity ? `severity ${JSON.stringify(severity)}` : "no severity label"}: routes need one of ${SEVERITIES.join(", ")}.`);
                continue;
            }
            if (!team || !(TEAMS as readonly string[]).includes(team)) {
                report(`alert ${named} in ${a.from} has ${team ? `team ${JSON.stringify(team)}` : "no team label"}: routes need one of ${TEAMS.join(", ")}.`);
                continue;
            }
            const deliveries = routeAlert(config.route, { ...a.labels, alertname: a.alert });
            const receivers = [...new Set(deliveries.map((d) => d.receiver))];
            const missing = receivers.filter((n) => !(config.receivers ?? []).some((r) => r?.name === n));
            if (missing.length > 0) {
                report(`alert ${named} routes to ${missing.join(", ")}, which the configuration does not define.`, release.urn);
                continue;
            }
            if (a.alert === WATCHDOG_ALERT) {
                watchdog = true;
                const heartbeat = deliveries.find((d) => receiverIntegrations(config, d.receiver).includes("webhook_configs"));
                if (!heartbeat) report(`the ${WATCHDOG_ALERT} reaches ${describe(receivers)}, no heartbeat webhook: nothing notices when the alert pipeline stops.`, release.urn);
                else if ((seconds(heartbeat.repeatInterval) ?? Infinity) > HEARTBEAT_MAX_REPEAT_SECONDS) {
                    report(`the ${WATCHDOG_ALERT} beats to ${heartbeat.receiver} only every ${heartbeat.repeatInterval ?? "12h (the default)"}: a dead man's switch needs a beat every ${HEARTBEAT_MAX_REPEAT_SECONDS / 60} minutes or less.`, release.urn);
                }
                continue;
            }
            if (severity === "critical" && !receivers.some((n) => canPage(config, n))) {
                report(`critical alert ${named} (team ${team}) reaches only ${describe(receivers)}, which cannot page anyone: give team ${team} a page receiver (pagerduty or sns) in compute-region:alerting.teams.${team}.page.`, release.urn);
            } else if ((severity === "warning" || severity === "info") && !receivers.some((n) => canNotify(config, n))) {
                report(`${severity} alert ${named} (team ${team}) reaches only ${describe(receivers)}, which notifies nobody: give team ${team} a ticket receiver.`, release.urn);
            }
        }
        if (!watchdog) report(`no ${WATCHDOG_ALERT} alert: nothing proves the alert pipeline works end to end.`);
    },
    samples: {
        allowed: [
            {
                description: "Every team pages on-call for critical alerts and tickets the rest; the Watchdog beats every minute.",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall", serving: "oncall", billing: "oncall", security: "oncall" })), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }])],
            },
        ],
        disallowed: [
            { description: "The chart's default configuration: a null receiver.", expect: "every alert goes to its null receiver", resources: [s.prometheusStack(), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }])] },
            {
                description: "The capacity team has no page receiver: its critical alert lands in the ticket channel.",
                expect: "critical alert GpuHeadroomBelowFloor (pool shared) (team capacity) reaches only tickets (slack_configs), which cannot page anyone",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: undefined, serving: "oncall", billing: "oncall", security: "oncall" })), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }])],
            },
            {
                description: "An alert without a team label.",
                expect: "alert GpuXidError in rules/health has no team label",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall" })), s.rules("rules", [{ name: "health", rules: [...SAMPLE_ALERTS, { alert: "GpuXidError", expr: "vector(1)", labels: { severity: "critical" } }] }])],
            },
            {
                description: "An alert with a severity no route knows.",
                expect: 'alert GpuXidError in rules/health has severity "page"',
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall" })), s.rules("rules", [{ name: "health", rules: [...SAMPLE_ALERTS, { alert: "GpuXidError", expr: "vector(1)", labels: { severity: "page", team: "capacity" } }] }])],
            },
            {
                description: "The Watchdog has no heartbeat route: it goes to the tickets.",
                expect: "the Watchdog reaches tickets (slack_configs), no heartbeat webhook",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall" }, null)), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }])],
            },
            {
                description: "The heartbeat beats twice a day: the switch notices a dead pipeline only hours late.",
                expect: "the Watchdog beats to heartbeat only every 12h",
                resources: [
                    s.prometheusStack({ ...s.alertmanagerConfig({ capacity: "oncall" }), route: { receiver: "tickets", routes: [{ receiver: "heartbeat", matchers: ['alertname="Watchdog"'], repeat_interval: "12h" }, { receiver: "oncall", matchers: ['severity="critical"'] }] } }),
                    s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }]),
                ],
            },
            {
                description: "No Watchdog alert at all.",
                expect: "no Watchdog alert",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall" })), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS.filter((r) => r.alert !== "Watchdog") }])],
            },
            {
                description: "A warning routed to a receiver with no integration.",
                expect: "warning alert GpuPoolSoldOut (pool shared) (team capacity) reaches only silent (no integration), which notifies nobody",
                resources: [
                    s.prometheusStack({ ...s.alertmanagerConfig({ capacity: "oncall" }), route: { receiver: "silent", routes: [{ receiver: "heartbeat", matchers: ['alertname="Watchdog"'], repeat_interval: "1m" }, { receiver: "oncall", matchers: ['severity="critical"'] }] } }),
                    s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }]),
                ],
            },
            {
                description: "A route to a receiver the configuration does not define.",
                expect: "routes to nowhere, which the configuration does not define",
                resources: [
                    s.prometheusStack({ ...s.alertmanagerConfig({ capacity: "oncall" }), route: { receiver: "tickets", routes: [{ receiver: "heartbeat", matchers: ['alertname="Watchdog"'], repeat_interval: "1m" }, { receiver: "nowhere", matchers: ['severity="critical"'] }] } }),
                    s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }]),
                ],
            },
            {
                description: "The chart's own rules carry no team.",
                expect: "own alerts (KubeNodeNotReady, KubePodCrashLooping, ...) carry no team",
                resources: [s.prometheusStack(s.alertmanagerConfig({ capacity: "oncall" }), { disabled: { Watchdog: true } }), s.rules("rules", [{ name: "capacity", rules: SAMPLE_ALERTS }])],
            },
        ],
    },
});
