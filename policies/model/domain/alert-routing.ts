/**
 * Who is told of which alert: the labels every alert routes by, the teams, and Alertmanager's routing
 * and matcher semantics, so the program that writes the routing tree, the policy that judges it and the
 * plan that prints it agree (and `amtool config routes test` checks this reading against Alertmanager's).
 */

/** The teams alerts route to. */
export const TEAMS = ["capacity", "serving", "billing", "security"] as const;
export type Team = (typeof TEAMS)[number];

/** The severities a rule may carry: critical pages, warning and info open a ticket, none is for the pipeline itself. */
export const SEVERITIES = ["critical", "warning", "info", "none"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ROUTING_LABELS = { team: "team", severity: "severity" } as const;

/** The always-firing alert that proves the pipeline end to end, to the heartbeat receiver. */
export const WATCHDOG_ALERT = "Watchdog";

/** Where the region's Alertmanager finds the receivers' credentials: a Secret mounted by the operator. */
export const ALERTMANAGER_SECRET = { name: "alertmanager-receivers", mountDir: "/etc/alertmanager/secrets" } as const;

/** Integrations that can wake a person (the on-call schedule behind them), and those that cannot. */
export const PAGING_INTEGRATIONS = ["pagerduty_configs", "opsgenie_configs", "sns_configs"] as const;
export const NOTIFYING_INTEGRATIONS = [...PAGING_INTEGRATIONS, "slack_configs", "email_configs", "webhook_configs", "msteams_configs", "telegram_configs"] as const;

/** An Alertmanager route, as its configuration file writes it (the subset the region uses and reads). */
export interface AmRoute {
    receiver?: string;
    matchers?: string[];
    continue?: boolean;
    group_by?: string[];
    group_wait?: string;
    group_interval?: string;
    repeat_interval?: string;
    routes?: AmRoute[];
}

export interface AmReceiver {
    name: string;
    [integration: string]: unknown;
}

export interface AmConfig {
    route?: AmRoute;
    receivers?: AmReceiver[];
    inhibit_rules?: { source_matchers?: string[]; target_matchers?: string[]; equal?: string[] }[];
}

export interface Matcher {
    name: string;
    op: "=" | "!=" | "=~" | "!~";
    value: string;
}

/** Parses one matcher as Alertmanager writes them (`team="capacity"`, `alertname=~"A|B"`); undefined when it cannot. */
export function parseMatcher(text: string): Matcher | undefined {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s]*))\s*$/.exec(text);
    if (!m) return undefined;
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : m[4];
    return { name: m[1], op: m[2] as Matcher["op"], value };
}

/** Whether labels satisfy a matcher (regular expressions anchored, a missing label is the empty string). */
export function matcherMatches(matcher: Matcher, labels: Readonly<Record<string, string>>): boolean {
    const value = labels[matcher.name] ?? "";
    switch (matcher.op) {
        case "=":
            return value === matcher.value;
        case "!=":
            return value !== matcher.value;
        case "=~":
            return new RegExp(`^(?:${matcher.value})$`).test(value);
        case "!~":
            return !new RegExp(`^(?:${matcher.value})$`).test(value);
    }
}

function routeMatches(route: AmRoute, labels: Readonly<Record<string, string>>): boolean {
    return (route.matchers ?? []).every((text) => {
        const m = typeof text === "string" ? parseMatcher(text) : undefined;
        return m !== undefined && matcherMatches(m, labels);
    });
}

/** Where an alert is delivered: the receiver and the timing it inherits along its route. */
export interface Delivery {
    receiver: string;
    repeatInterval?: string;
    groupWait?: string;
    /** The route's matchers from the root down, for reports. */
    path: string[];
}

/**
 * The receivers Alertmanager delivers an alert with these labels to: from the root, into the first
 * child route that matches (and the next ones while a matching route says `continue`); where no child
 * matches, the route's own receiver. Receiver and timing are inherited from the parent.
 */
export function routeAlert(root: AmRoute, labels: Readonly<Record<string, string>>): Delivery[] {
    const walk = (route: AmRoute, inherited: Omit<Delivery, "path">, path: string[]): Delivery[] => {
        const here: Omit<Delivery, "path"> = {
            receiver: route.receiver ?? inherited.receiver,
            repeatInterval: route.repeat_interval ?? inherited.repeatInterval,
            groupWait: route.group_wait ?? inherited.groupWait,
        };
        const found: Delivery[] = [];
        for (const child of route.routes ?? []) {
            if (!child || !routeMatches(child, labels)) continue;
            found.push(...walk(child, here, [...path, (child.matchers ?? []).join(",")]));
            if (!child.continue) break;
        }
        return found.length > 0 ? found : [{ ...here, path }];
    };
    return walk(root, { receiver: root.receiver ?? "" }, []);
}

/** The integrations a receiver has (`pagerduty_configs`, ...), those with at least one entry. */
export function receiverIntegrations(config: AmConfig, name: string): string[] {
    const receiver = (config.receivers ?? []).find((r) => r?.name === name);
    if (!receiver) return [];
    return Object.entries(receiver)
        .filter(([key, value]) => key.endsWith("_configs") && Array.isArray(value) && value.length > 0)
        .map(([key]) => key);
}

/** Whether a receiver can page a person. */
export function canPage(config: AmConfig, name: string): boolean {
    return receiverIntegrations(config, name).some((i) => (PAGING_INTEGRATIONS as readonly string[]).includes(i));
}

/** Whether a receiver notifies anyone at all (a receiver without integrations drops what it gets). */
export function canNotify(config: AmConfig, name: string): boolean {
    return receiverIntegrations(config, name).length > 0;
}
