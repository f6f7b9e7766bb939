import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { evaluatePolicies, ResourceSnapshot, unwrapSecrets } from "compute-region-policies/engine";
import { ALERTMANAGER_SECRET, AmConfig, canNotify, canPage, EKS_ADDONS, GUARDDUTY_AGENT, MONITORING_TYPES, receiverIntegrations, routeAlert, SECURITY_TYPES, SEVERITIES, SLO_ALERT, TEAMS, TYPES } from "compute-region-policies/model";
import { policies } from "compute-region-policies/rules";
import type { OfflinePlanResult } from "../offline/harness";
import { SECRET_PLACEHOLDER } from "../offline/project";
import { amtoolCheck, amtoolRoutes, captureServer, eventually, startAlertmanager } from "./alertmanager";
import { devStackConfig, ofType, one, plan, Recorded } from "./helpers";

/**
 * Alert routing and threat detection on the dev plan: Alertmanager's configuration as the program
 * writes it, checked and routed by amtool and run by a real Alertmanager (Debian's 0.25); the
 * receivers' credentials never in the plan; GuardDuty, its agent on every node and its findings'
 * route; and the policies failing each broken variant with a clear message.
 */

let dev: OfflinePlanResult;
let changed: OfflinePlanResult;
beforeAll(async () => {
    dev = await plan();
    // The capacity team loses its pager; GuardDuty is run by the security team instead.
    const config = devStackConfig();
    delete config["compute-region:alerting"].teams.capacity.page;
    config["compute-region:threatDetection"] = { mode: "central", detectorId: "0123456789abcdef0123456789abcdef" };
    changed = await plan(config);
}, 120_000);

const releaseOf = (r: OfflinePlanResult) => ofType(r.resources, TYPES.helmRelease).find((x) => x.props.name === "kube-prometheus-stack")!;
const amConfig = (r: OfflinePlanResult) => releaseOf(r).props.values.alertmanager.config as AmConfig & Record<string, any>;
const alertRules = (r: OfflinePlanResult) =>
    ofType(r.resources, MONITORING_TYPES.prometheusRule).flatMap((x) => x.props.spec.groups.flatMap((g: { rules: { alert?: string; labels?: Record<string, string> }[] }) => g.rules.filter((rule) => rule.alert)));
const judge = (resources: readonly ResourceSnapshot[], name: string) => evaluatePolicies(resources, { policies: policies.filter((p) => p.name === name) });
/** A violation's own finding (CrossGuard puts the policy's description before it). */
const findings = (resources: readonly ResourceSnapshot[], name: string) => judge(resources, name).violations.map((v) => v.message.split("\n").pop()!);
/** A resource with changed inputs, as the preview would also return them (stack policies read the outputs). */
const withProps = (r: ResourceSnapshot, props: Record<string, unknown>): ResourceSnapshot => ({ ...r, props, outputs: props });

describe("alert routing on the dev plan", () => {
    it("passes amtool check-config (Debian's 0.25; the chart runs 0.28, which reads the same fields)", () => {
        const r = amtoolCheck(amConfig(dev));
        expect(r.output).toContain("SUCCESS");
        expect(r.ok).toBe(true);
    });

    it("routes every team and severity as amtool does, each to its receiver", () => {
        const cases = [
            ...TEAMS.flatMap((team) => SEVERITIES.filter((s) => s !== "none").map((severity): Record<string, string> => ({ team, severity, alertname: "SomeAlert" }))),
            { alertname: "Watchdog", severity: "none", team: "capacity" },
            { alertname: "InfoInhibitor", severity: "none", team: "capacity" },
            { alertname: "NoTeam", severity: "critical" },
        ] as Record<string, string>[];
        const config = amConfig(dev);
        const byAmtool = amtoolRoutes(config, cases);
        const expected: Record<string, string> = {
            "capacity/critical": "capacity-oncall", "capacity/warning": "platform-tickets", "capacity/info": "platform-tickets",
            "serving/critical": "serving-oncall", "serving/warning": "platform-tickets", "serving/info": "platform-tickets",
            "billing/critical": "billing-oncall", "billing/warning": "platform-tickets", "billing/info": "platform-tickets",
            "security/critical": "security-oncall", "security/warning": "security-tickets", "security/info": "security-tickets",
        };
        cases.forEach((labels, i) => {
            const ours = routeAlert(config.route!, labels).map((d) => d.receiver);
            expect(ours, JSON.stringify(labels)).toEqual(byAmtool[i]);
            if (labels.alertname === "Watchdog") expect(byAmtool[i]).toEqual(["heartbeat"]);
            else if (labels.alertname === "InfoInhibitor") expect(byAmtool[i]).toEqual(["silent"]);
            else if (labels.alertname === "NoTeam") expect(byAmtool[i]).toEqual(["platform-tickets"]);
            else expect(byAmtool[i]).toEqual([expected[`${labels.team}/${labels.severity}`]]);
        });
    });

    it("sends every critical alert to a receiver that pages, every warning to one that tickets, the Watchdog to the heartbeat", () => {
        const config = amConfig(dev);
        const rules = alertRules(dev);
        expect(rules.length).toBeGreaterThan(20);
        for (const rule of rules) {
            const labels = { ...rule.labels, alertname: rule.alert! };
            const receivers = routeAlert(config.route!, labels).map((d) => d.receiver);
            expect(TEAMS, rule.alert).toContain(labels.team);
            if (labels.alertname === "Watchdog") expect(receiverIntegrations(config, receivers[0])).toEqual(["webhook_configs"]);
            else if (labels.severity === "critical") expect(receivers.every((r) => canPage(config, r)), `${rule.alert} ${receivers}`).toBe(true);
            else expect(receivers.every((r) => canNotify(config, r) && !canPage(config, r)), `${rule.alert} ${receivers}`).toBe(true);
        }
        // The burn alerts page and ticket; the fixed thresholds they supersede are gone, but for what has
        // no objective: initech's dedicated endpoint (issue 25) keeps the fixed p95 latency alert.
        const names = rules.map((r) => r.alert);
        expect(names).toContain(SLO_ALERT);
        expect(rules.filter((r) => r.alert === "ModelLatencyHigh").map((r) => r.labels.model)).toEqual(["initech/llama-3-8b"]);
        expect(names).not.toContain("ModelGatewayErrorsHigh");
        expect(names).toEqual(expect.arrayContaining(["ModelGatewayDown", "ModelQueueDepthHigh", "GuardDutyAgentMissing", "Watchdog"]));
    });

    it("keeps the receivers' credentials out of the plan: files from a Secret filled from Secrets Manager, held as a secret", () => {
        const config = amConfig(dev);
        const text = JSON.stringify(releaseOf(dev).props.values);
        for (const field of ['"routing_key"', '"api_url"', '"auth_password"', '"credentials"', '"service_key"']) expect(text).not.toContain(field);
        expect(text).toContain(`${ALERTMANAGER_SECRET.mountDir}/${ALERTMANAGER_SECRET.name}/capacity-oncall-routing-key`);
        expect(releaseOf(dev).props.values.alertmanager.alertmanagerSpec.secrets).toEqual([ALERTMANAGER_SECRET.name]);
        const secret = one(dev.resources, "kubernetes:core/v1:Secret", "dev-observability-alertmanager-receivers");
        // The engine's secret wrapper around the whole map: the state keeps it encrypted.
        expect(Object.keys(secret.props.stringData)).toContain("4dabf18193072939515e22adb298388d");
        expect(Object.keys((unwrapSecrets(secret.props) as Recorded["props"]).stringData).sort()).toEqual(["billing-oncall-routing-key", "capacity-oncall-routing-key", "heartbeat-credentials", "platform-tickets-webhook-url", "security-tickets-password", "serving-oncall-routing-key"]);
        // Offline the values are placeholders (a real deploy reads them); they appear nowhere else.
        const elsewhere = dev.resources.filter((r) => r !== secret && JSON.stringify(r.props).includes(SECRET_PLACEHOLDER));
        expect(elsewhere.map((r) => r.name)).toEqual([]);
        expect(config.receivers!.map((r) => r.name).sort()).toEqual(["billing-oncall", "capacity-oncall", "heartbeat", "platform-tickets", "security-oncall", "security-tickets", "serving-oncall", "silent"]);
    });

    it("gives Alertmanager a Pod Identity role that may only publish to the SNS receivers' topics, before its pods start", () => {
        const policy = JSON.parse(one(dev.resources, "aws:iam/rolePolicy:RolePolicy", "dev-observability-alertmanager-sns-policy").props.policy);
        expect(policy.Statement).toEqual([{ Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: ["arn:aws:sns:us-east-2:111122223333:security-oncall"] }]);
        const association = one(dev.resources, TYPES.eksPodIdentityAssociation, "dev-observability-alertmanager-sns-identity");
        expect(association.props).toMatchObject({ namespace: "observability", serviceAccount: "kube-prometheus-stack-alertmanager" });
        expect(releaseOf(dev).dependencies).toContain(association.urn);
    });

    it("fails alerts-reach-a-person when the capacity team's paging receiver is removed, naming the alert and the receiver", () => {
        expect(judge(dev.resources, "alerts-reach-a-person").violations).toEqual([]);
        const messages = findings(changed.resources, "alerts-reach-a-person");
        expect(messages).toContain("critical alert GpuHeadroomBelowFloor (pool internal-l40s) (team capacity) reaches only platform-tickets (slack_configs), which cannot page anyone: give team capacity a page receiver (pagerduty or sns) in compute-region:alerting.teams.capacity.page.");
        expect(messages.some((m) => m.startsWith("critical alert kube-prometheus-stack rules (team capacity)"))).toBe(true);
        expect(messages.every((m) => m.includes("team capacity"))).toBe(true);
    });
});

describe("a real Alertmanager (Debian's prometheus-alertmanager) with the dev configuration", () => {
    let am: Awaited<ReturnType<typeof startAlertmanager>>;
    let capture: Awaited<ReturnType<typeof captureServer>>;
    beforeAll(async () => {
        capture = await captureServer();
        // The generated configuration with its credential files written here, the services at the capture
        // server, and the first notification sent after a second instead of half a minute.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-secrets-"));
        const values: Record<string, string> = {
            "capacity-oncall-routing-key": "capacity-routing-key",
            "serving-oncall-routing-key": "serving-routing-key",
            "billing-oncall-routing-key": "billing-routing-key",
            "platform-tickets-webhook-url": `${capture.url}/slack/platform`,
            "security-tickets-password": "smtp-password",
            "heartbeat-credentials": "heartbeat-key",
        };
        for (const [key, value] of Object.entries(values)) fs.writeFileSync(path.join(dir, key), value);
        const text = JSON.stringify(amConfig(dev))
            .replaceAll(`${ALERTMANAGER_SECRET.mountDir}/${ALERTMANAGER_SECRET.name}/`, `${dir}/`)
            .replace("https://api.opsgenie.com/v2/heartbeats/gpu-dev-use2/ping", `${capture.url}/heartbeat`);
        const config = JSON.parse(text);
        config.global.pagerduty_url = `${capture.url}/pagerduty`;
        config.route.group_wait = "1s";
        am = await startAlertmanager(config);
    }, 30_000);
    afterAll(async () => {
        await am?.stop();
        await capture?.close();
    });

    const post = async (alerts: { labels: Record<string, string> }[]) => {
        const r = await fetch(`${am.url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts.map((a) => ({ ...a, annotations: { summary: a.labels.alertname } }))) });
        expect(r.status).toBe(200);
    };
    const statuses = async () => (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];

    it("beats the Watchdog to the heartbeat with the credentials from its file", async () => {
        await post([{ labels: { alertname: "Watchdog", severity: "none", team: "capacity" } }]);
        const beat = await eventually("the heartbeat", () => capture.requests.find((r) => r.path === "/heartbeat"));
        expect(beat.headers.authorization).toBe("GenieKey heartbeat-key");
        expect(beat.body.alerts[0].labels.alertname).toBe("Watchdog");
    });

    it("pages a critical alert through PagerDuty with the routing key from its file, and tickets a warning in Slack at the URL from its file", async () => {
        await post([
            { labels: { alertname: "GpuHeadroomBelowFloor", severity: "critical", team: "capacity", pool: "shared-l40s" } },
            { labels: { alertname: "GpuPoolSoldOut", severity: "warning", team: "capacity", pool: "shared-l40s" } },
        ]);
        const page = await eventually("the page", () => capture.requests.find((r) => r.path === "/pagerduty" && JSON.stringify(r.body).includes("GpuHeadroomBelowFloor")));
        expect(page.body.routing_key).toBe("capacity-routing-key");
        const ticket = await eventually("the ticket", () => capture.requests.find((r) => r.path === "/slack/platform" && JSON.stringify(r.body).includes("GpuPoolSoldOut")));
        expect(ticket.body.channel).toBe("#gpu-dev-alerts");
    });

    it("inhibits the alerts of a node that is down, and the ticket of a burn that pages", async () => {
        await post([
            { labels: { alertname: "GpuNodeNotReady", severity: "critical", team: "capacity", node: "ip-10-40-1-1" } },
            { labels: { alertname: "DcgmExporterDown", severity: "warning", team: "capacity", node: "ip-10-40-1-1" } },
            { labels: { alertname: "GpuXidError", severity: "critical", team: "capacity", node: "ip-10-40-1-1", gpu: "3" } },
            { labels: { alertname: "DcgmExporterDown", severity: "warning", team: "capacity", node: "ip-10-40-2-2" } },
            { labels: { alertname: SLO_ALERT, severity: "critical", team: "serving", slo: "model-llama-3-8b-availability", service: "model", model: "llama-3-8b" } },
            { labels: { alertname: SLO_ALERT, severity: "warning", team: "serving", slo: "model-llama-3-8b-availability", service: "model", model: "llama-3-8b" } },
            { labels: { alertname: SLO_ALERT, severity: "warning", team: "serving", slo: "model-qwen-2-5-32b-availability", service: "model", model: "qwen-2-5-32b" } },
        ]);
        const state = await eventually("the alerts", async () => {
            const all = await statuses();
            return all.length >= 7 ? all : undefined;
        });
        const of = (match: Record<string, string>) => state.find((a) => Object.entries(match).every(([k, v]) => a.labels[k] === v))!.status.state;
        expect(of({ alertname: "DcgmExporterDown", node: "ip-10-40-1-1" })).toBe("suppressed");
        expect(of({ alertname: "GpuXidError", node: "ip-10-40-1-1" })).toBe("suppressed");
        expect(of({ alertname: "DcgmExporterDown", node: "ip-10-40-2-2" })).toBe("active");
        expect(of({ alertname: "GpuNodeNotReady" })).toBe("active");
        expect(of({ alertname: SLO_ALERT, slo: "model-llama-3-8b-availability", severity: "warning" })).toBe("suppressed");
        expect(of({ alertname: SLO_ALERT, slo: "model-llama-3-8b-availability", severity: "critical" })).toBe("active");
        expect(of({ alertname: SLO_ALERT, slo: "model-qwen-2-5-32b-availability", severity: "warning" })).toBe("active");
    });
});

describe("threat detection on the dev plan", () => {
    it("runs GuardDuty with EKS audit logs and runtime monitoring, the agent managed by the region", () => {
        const detector = one(dev.resources, SECURITY_TYPES.guardDutyDetector);
        expect(detector.props.enable).toBe(true);
        expect(detector.opts?.protect).toBe(true);
        const features = ofType(dev.resources, SECURITY_TYPES.guardDutyFeature).map((f) => [f.props.name, f.props.status, f.props.additionalConfigurations ?? []]);
        expect(features).toEqual([
            ["EKS_AUDIT_LOGS", "ENABLED", []],
            ["RUNTIME_MONITORING", "ENABLED", [{ name: "EKS_ADDON_MANAGEMENT", status: "DISABLED" }, { name: "ECS_FARGATE_AGENT_MANAGEMENT", status: "DISABLED" }, { name: "EC2_AGENT_MANAGEMENT", status: "DISABLED" }]],
        ]);
    });

    it("publishes findings of severity 4 and above to the security team's SNS topic", () => {
        const rule = one(dev.resources, SECURITY_TYPES.eventRule);
        expect(JSON.parse(rule.props.eventPattern)).toEqual({ source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"], detail: { severity: [{ numeric: [">=", 4] }] } });
        const target = one(dev.resources, SECURITY_TYPES.eventTarget);
        expect(target.props.arn).toBe("arn:aws:sns:us-east-2:111122223333:security-oncall");
        expect(target.dependencies).toContain(rule.urn);
    });

    it("installs the agent add-on, within its documented schema, after its namespace's NetworkPolicy and the guardduty-data endpoint, and patches tolerations onto its DaemonSet", () => {
        const addon = ofType(dev.resources, TYPES.eksAddon).find((a) => a.props.addonName === EKS_ADDONS.guardDutyAgent)!;
        expect(JSON.parse(addon.props.configurationValues)).toEqual({ priorityClassName: "system-node-critical" });
        const endpoint = ofType(dev.resources, TYPES.vpcEndpoint).find((e) => e.props.serviceName === GUARDDUTY_AGENT.dataEndpointService("us-east-2"))!;
        expect(endpoint.props).toMatchObject({ vpcEndpointType: "Interface", privateDnsEnabled: true });
        expect(JSON.parse(endpoint.props.policy).Statement[1]).toEqual({ Condition: { StringNotEquals: { "aws:PrincipalAccount": "111122223333" } }, Action: "*", Resource: "*", Effect: "Deny", Principal: "*" });
        const netpol = ofType(dev.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => p.props.metadata.namespace === GUARDDUTY_AGENT.namespace)!;
        expect(netpol.props.spec.podSelector).toEqual({ matchLabels: {} });
        expect(netpol.props.spec.egress.map((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port))).toEqual([[443], [53, 53], [443]]);
        expect(addon.dependencies).toEqual(expect.arrayContaining([endpoint.urn, netpol.urn]));
        const patch = one(dev.resources, SECURITY_TYPES.daemonSetPatch);
        expect(patch.props.metadata).toMatchObject({ name: "aws-guardduty-agent", namespace: "amazon-guardduty" });
        expect(patch.props.spec.template.spec.tolerations).toEqual([{ operator: "Exists" }]);
        expect(patch.dependencies).toContain(addon.urn);
        expect(judge(dev.resources, "threat-detection-covers-nodes").violations).toEqual([]);
    });

    it("fails threat-detection-covers-nodes for a GPU pool the agent cannot run on, naming the pool and its taint", () => {
        const narrowed = dev.resources.map((r) =>
            r.type === SECURITY_TYPES.daemonSetPatch ? withProps(r, { ...r.props, spec: { template: { spec: { tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { key: "compute-region.io/pool-role", operator: "Exists" }] } } } }) : r,
        );
        expect(findings(narrowed, "threat-detection-covers-nodes")).toEqual([
            "the GuardDuty agent does not tolerate compute-region.io/tenant=acme of node group dev-acme-l40s-nodes (pool acme-l40s): runtime threats on its nodes go unseen.",
        ]);
    });

    it("in central mode creates no detector or findings route, checks the security team's, tags the cluster out of GuardDuty's automation and still covers every node", () => {
        for (const type of [SECURITY_TYPES.guardDutyDetector, SECURITY_TYPES.guardDutyFeature, SECURITY_TYPES.eventRule]) expect(ofType(changed.resources, type)).toEqual([]);
        expect(one(changed.resources, TYPES.eksCluster).props.tags.GuardDutyManaged).toBe("false");
        expect(one(dev.resources, TYPES.eksCluster).props.tags.GuardDutyManaged).toBeUndefined();
        expect(changed.outputs.threatDetection).toEqual({ mode: "central", detectorId: "0123456789abcdef0123456789abcdef" });
        expect(judge(changed.resources, "threat-detection-covers-nodes").violations).toEqual([]);
    });
});

describe("SLO alerts on the dev plan", () => {
    it("export what is promised and the credit terms billing will issue (stack output serviceLevels)", () => {
        const levels = dev.outputs.serviceLevels as { objectives: { slo: string; objective: number; window: string; team: string; tenant?: string }[]; credits: unknown[] };
        expect(levels.objectives).toHaveLength(8);
        expect(levels.objectives).toContainEqual({ slo: "pool-acme-l40s-gpu-availability", objective: 0.995, window: "30d", team: "capacity", tenant: "acme" });
        expect(levels.credits).toEqual([{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }]);
    });

    it("pass slo-credits-metered: billing reads every credited objective's events per tenant, and an objective whose rules lost its tenant fails", () => {
        const registry = ofType(dev.resources, MONITORING_TYPES.configMap).find((c) => c.props.metadata?.name === "billing-registry")!;
        const levels = JSON.parse(registry.props.data["registry.json"]).serviceLevels;
        expect(levels.credits).toEqual([{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }]);
        expect(levels.objectives.filter((o: { service: string; indicator: string }) => o.service === "model" && o.indicator === "availability").map((o: { slo: string }) => o.slo)).toEqual(["model-llama-3-8b-availability", "model-qwen-2-5-32b-availability"]);
        expect(judge(dev.resources, "slo-credits-metered").violations).toEqual([]);
        const damaged = dev.resources.map((r) => {
            if (r.type !== MONITORING_TYPES.prometheusRule) return r;
            const groups = (r.props.spec as { groups: { rules: { record?: string; expr: string; labels?: Record<string, string> }[] }[] }).groups.map((g) => ({
                ...g,
                rules: g.rules.map((rule) => (rule.record === "slo:valid_events:rate5m" && rule.labels?.slo === "model-qwen-2-5-32b-availability" ? { ...rule, expr: rule.expr.replace("sum by (tenant) (", "sum(") } : rule)),
            }));
            return withProps(r, { ...r.props, spec: { groups } });
        });
        expect(findings(damaged, "slo-credits-metered")).toEqual([
            "objective model-qwen-2-5-32b-availability's slo:valid_events:rate5m is not recorded by tenant (sum by (tenant)): billing cannot tell whose requests failed, so no tenant is credited.",
        ]);
    });

    it("pass slo-burn-alerts-multiwindow, which fails an alert that lost its long window", () => {
        expect(judge(dev.resources, "slo-burn-alerts-multiwindow").violations).toEqual([]);
        const damaged = dev.resources.map((r) => {
            if (r.type !== MONITORING_TYPES.prometheusRule) return r;
            const groups = (r.props.spec as { groups: { rules: { alert?: string; expr: string; labels?: Record<string, string> }[] }[] }).groups.map((g) => ({
                ...g,
                rules: g.rules.map((rule) => (rule.alert === SLO_ALERT && rule.labels?.slo === "gateway-availability" && rule.labels.severity === "critical" ? { ...rule, expr: rule.expr.replace(/slo:error_ratio:rate1h\{slo="gateway-availability"\} > \([^)]*\) and /, "") } : rule)),
            }));
            return withProps(r, { ...r.props, spec: { groups } });
        });
        expect(findings(damaged, "slo-burn-alerts-multiwindow")).toEqual([
            "the critical SloErrorBudgetBurn alert of objective gateway-availability has no 1h long window beside its 5m short window: a short window alone pages on every brief blip.",
        ]);
    });
});
