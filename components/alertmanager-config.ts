import { ALERTMANAGER_SECRET, ALERTS, AmConfig, AmReceiver, AmRoute, Team, TEAMS, WATCHDOG_ALERT } from "compute-region-policies/model";

/**
 * The region's Alertmanager configuration, written by the program from the stack's receivers and
 * teams: routes by team and severity (a critical alert pages the team's on-call receiver, a warning
 * or info alert opens a ticket), the Watchdog to the heartbeat, grouping, and inhibition (a page
 * inhibits the ticket of the same problem; a node that is down inhibits the alerts of what ran on it).
 *
 * Receivers' keys and URLs are never in it: each integration reads its credential from a file
 * (`routing_key_file`, `api_url_file`, `auth_password_file`, `credentials_file`) in the Secret
 * ALERTMANAGER_SECRET, which the operator mounts into the Alertmanager pods and which the program
 * fills from Secrets Manager (components/observability.ts). Every field used here is read by
 * Alertmanager 0.25 (Debian's amtool checks the file) and 0.28 (the version the chart runs); SNS
 * needs no credential, as Alertmanager signs with its own Pod Identity role.
 */

/** PagerDuty Events API v2. */
export interface PagerDutyReceiver {
    /** The Secrets Manager secret holding the routing key. */
    routingKeySecret: string;
}

/** An SNS topic Alertmanager publishes to. */
export interface SnsReceiver {
    /** The topic's ARN. */
    topicArn: string;
}

/** A Slack incoming webhook. */
export interface SlackReceiver {
    /** The Secrets Manager secret holding the webhook's URL. */
    webhookUrlSecret: string;
    /** The channel. */
    channel: string;
}

/** Email through an SMTP relay, with TLS. */
export interface EmailReceiver {
    /** The recipient. */
    to: string;
    /** The sender. */
    from: string;
    /** The relay, host:port. */
    smarthost: string;
    /** The relay's user name. */
    username?: string;
    /** The Secrets Manager secret holding the relay's password. */
    passwordSecret?: string;
}

/** A webhook. */
export interface WebhookReceiver {
    /** Its URL (no credential in it). */
    url: string;
    /** The Secrets Manager secret holding the Authorization credentials. */
    credentialsSecret?: string;
    /** The Authorization scheme (Bearer). */
    credentialsType: string;
}

/** A receiver, with exactly one integration. */
export interface AlertReceiver {
    /** Its name in Alertmanager. */
    name: string;
    /** PagerDuty Events API v2: the Secrets Manager secret holding the routing key. */
    pagerduty?: PagerDutyReceiver;
    /** An SNS topic Alertmanager publishes to. */
    sns?: SnsReceiver;
    /** A Slack incoming webhook: the secret holding its URL, and the channel. */
    slack?: SlackReceiver;
    /** Email through an SMTP relay, with TLS. */
    email?: EmailReceiver;
    /** A webhook: its URL (no credential in it), and the secret holding the Authorization credentials. */
    webhook?: WebhookReceiver;
}

/** A team's receivers. */
export interface TeamReceivers {
    /** The receiver critical alerts page. */
    page?: string;
    /** The receiver warnings open a ticket in. */
    ticket?: string;
}

/** Each team's receivers (the teams of TEAMS). */
export interface AlertTeams {
    /** The capacity team (GPU pools, tenants' quota). */
    capacity?: TeamReceivers;
    /** The serving team (hosted models, the gateway). */
    serving?: TeamReceivers;
    /** The billing team. */
    billing?: TeamReceivers;
    /** The security team. */
    security?: TeamReceivers;
}
/** Every team of TEAMS has its field in AlertTeams: a new team fails to compile here until it is added. */
const _everyTeam: [Exclude<Team, keyof AlertTeams>] extends [never] ? true : Exclude<Team, keyof AlertTeams> = true;
void _everyTeam;

/** How Alertmanager groups and repeats notifications (durations such as 30s, 5m, 4h). */
export interface AlertTiming {
    /** How long a new group waits for more alerts. */
    groupWait: string;
    /** How long before a group's new alerts are sent. */
    groupInterval: string;
    /** How often a page repeats while firing. */
    pageRepeat: string;
    /** How often a ticket repeats while firing. */
    ticketRepeat: string;
}

/** Alertmanager's receivers and routes. */
export interface AlertingArgs {
    /** The receivers. */
    receivers: AlertReceiver[];
    /** Per team: the receiver critical alerts page, and the one warnings open a ticket in. */
    teams: AlertTeams;
    /** The receiver the Watchdog beats to. */
    heartbeat?: string;
    /** Where an alert without a known team goes (default: the capacity team's ticket receiver). */
    defaultReceiver?: string;
    /** Grouping and repeat intervals. */
    timing: AlertTiming;
}

/** A credential the configuration reads from a file: the Secret's key, and the Secrets Manager secret that fills it. */
export interface ReceiverCredential {
    key: string;
    secretId: string;
}

/** The receiver that drops what it gets: only the chart's severity `none` helpers (InfoInhibitor) go there. */
export const SILENT_RECEIVER = "silent";

/** Alerts a node that is down makes meaningless on it: they carry its `node` label. */
export const NODE_DOWN_ALERTS = [ALERTS.gpuNodeNotReady, "KubeNodeNotReady", "KubeNodeUnreachable"];

/** Labels that tell one problem from another: a page inhibits a ticket only when they agree on all of them. */
export const PROBLEM_LABELS = ["alertname", "team", "slo", "pool", "model", "namespace", "node"];

const fileOf = (key: string) => `${ALERTMANAGER_SECRET.mountDir}/${ALERTMANAGER_SECRET.name}/${key}`;
const snsRegion = (topicArn: string) => topicArn.split(":")[3];

/** The Alertmanager configuration and the credentials its files need. */
export function alertmanagerConfig(args: AlertingArgs): { config: AmConfig & Record<string, unknown>; credentials: ReceiverCredential[] } {
    const credentials: ReceiverCredential[] = [];
    const credential = (receiver: string, what: string, secretId: string) => {
        const key = `${receiver}-${what}`;
        credentials.push({ key, secretId });
        return fileOf(key);
    };
    const receivers: AmReceiver[] = args.receivers.map((r): AmReceiver => {
        if (r.pagerduty) return { name: r.name, pagerduty_configs: [{ routing_key_file: credential(r.name, "routing-key", r.pagerduty.routingKeySecret), send_resolved: true }] };
        if (r.sns) return { name: r.name, sns_configs: [{ topic_arn: r.sns.topicArn, sigv4: { region: snsRegion(r.sns.topicArn) }, send_resolved: true }] };
        if (r.slack) return { name: r.name, slack_configs: [{ api_url_file: credential(r.name, "webhook-url", r.slack.webhookUrlSecret), channel: r.slack.channel, send_resolved: true }] };
        if (r.email) {
            const auth = r.email.username && r.email.passwordSecret ? { auth_username: r.email.username, auth_password_file: credential(r.name, "password", r.email.passwordSecret) } : {};
            return { name: r.name, email_configs: [{ to: r.email.to, from: r.email.from, smarthost: r.email.smarthost, require_tls: true, send_resolved: true, ...auth }] };
        }
        if (r.webhook) {
            const authorization = r.webhook.credentialsSecret ? { http_config: { authorization: { type: r.webhook.credentialsType, credentials_file: credential(r.name, "credentials", r.webhook.credentialsSecret) } } } : {};
            return { name: r.name, webhook_configs: [{ url: r.webhook.url, send_resolved: false, ...authorization }] };
        }
        throw new Error(`receiver ${r.name} has no integration`);
    });
    receivers.push({ name: SILENT_RECEIVER });

    const ticketOf = (team: Team) => args.teams[team]?.ticket ?? args.teams[team]?.page;
    const fallback = args.defaultReceiver ?? ticketOf("capacity") ?? args.receivers[0]?.name ?? SILENT_RECEIVER;
    const routes: AmRoute[] = [];
    if (args.heartbeat) {
        // A steady beat: sent at once and again every minute while the pipeline works.
        routes.push({ receiver: args.heartbeat, matchers: [`alertname="${WATCHDOG_ALERT}"`], group_by: ["alertname"], group_wait: "0s", group_interval: "1m", repeat_interval: "1m" });
    }
    routes.push({ receiver: SILENT_RECEIVER, matchers: [`severity="none"`, `alertname!="${WATCHDOG_ALERT}"`] });
    for (const team of TEAMS) {
        const page = args.teams[team]?.page;
        const ticket = ticketOf(team);
        // A team with no receiver of its own goes to the default; one with no pager has its pages go to its tickets (the policy alerts-reach-a-person fails that).
        routes.push({ receiver: page ?? ticket ?? fallback, matchers: [`team="${team}"`, `severity="critical"`], repeat_interval: args.timing.pageRepeat });
        routes.push({ receiver: ticket ?? fallback, matchers: [`team="${team}"`, `severity=~"warning|info"`], repeat_interval: args.timing.ticketRepeat });
    }
    const nodeDown = NODE_DOWN_ALERTS.join("|");
    return {
        config: {
            global: { resolve_timeout: "5m" },
            route: {
                receiver: fallback,
                group_by: [...PROBLEM_LABELS],
                group_wait: args.timing.groupWait,
                group_interval: args.timing.groupInterval,
                repeat_interval: args.timing.ticketRepeat,
                routes,
            },
            inhibit_rules: [
                // A page inhibits the ticket of the same problem (an SLO's fast burn its slow one).
                { source_matchers: [`severity="critical"`], target_matchers: [`severity=~"warning|info"`], equal: [...PROBLEM_LABELS] },
                // A node that is down inhibits the alerts of what ran on it (they carry its name).
                { source_matchers: [`alertname=~"${nodeDown}"`], target_matchers: [`node=~".+"`, `alertname!~"${nodeDown}"`], equal: ["node"] },
            ],
            receivers,
            // The chart mounts its template files here (kept, so the file is the same merged into the chart's defaults).
            templates: ["/etc/alertmanager/config/*.tmpl"],
        },
        credentials,
    };
}
