import type { SampleResource } from "../engine/policy";
import { sample } from "./sample";

/** Sample monitoring and threat-detection resources: the Prometheus stack's release, rule objects, GuardDuty. */

type Rule = { alert?: string; record?: string; expr?: string; labels?: Record<string, string> };

export const reliabilitySamples = {
    /** kube-prometheus-stack with an Alertmanager configuration (or none: the chart's null receiver). */
    prometheusStack(config?: Record<string, unknown>, defaultRules: Record<string, unknown> = { additionalRuleLabels: { team: "capacity" }, disabled: { Watchdog: true } }): SampleResource {
        return sample("kubernetes:helm.sh/v3:Release", "prometheus-stack", {
            chart: "kube-prometheus-stack",
            version: "75.15.0",
            values: { ...(config ? { alertmanager: { config } } : {}), defaultRules },
        });
    },
    rules(name: string, groups: { name: string; rules: Rule[]; interval?: string }[]): SampleResource {
        return sample("kubernetes:monitoring.coreos.com/v1:PrometheusRule", name, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name, namespace: "observability" },
            spec: { groups },
        });
    },
    /**
     * A routing tree like the region's: the Watchdog to a heartbeat, and per team critical alerts to
     * `pagers[team]` (absent: to the ticket receiver) and the rest to tickets.
     */
    alertmanagerConfig(pagers: Record<string, string | undefined>, heartbeat: string | null = "heartbeat"): Record<string, unknown> {
        const routes: Record<string, unknown>[] = [];
        if (heartbeat) routes.push({ receiver: heartbeat, matchers: ['alertname="Watchdog"'], repeat_interval: "1m" });
        for (const [team, pager] of Object.entries(pagers)) {
            routes.push({ receiver: pager ?? "tickets", matchers: [`team="${team}"`, 'severity="critical"'] });
            routes.push({ receiver: "tickets", matchers: [`team="${team}"`, 'severity=~"warning|info"'] });
        }
        return {
            route: { receiver: "tickets", routes },
            receivers: [
                { name: "tickets", slack_configs: [{ api_url_file: "/etc/alertmanager/secrets/alertmanager-receivers/tickets-webhook-url", channel: "#alerts" }] },
                { name: "oncall", pagerduty_configs: [{ routing_key_file: "/etc/alertmanager/secrets/alertmanager-receivers/oncall-routing-key" }] },
                { name: "heartbeat", webhook_configs: [{ url: "https://heartbeat.example/ping" }] },
                { name: "silent" },
            ],
        };
    },
};

/** The region's alerts in a sample: a critical and a warning capacity alert, and the Watchdog. */
export const SAMPLE_ALERTS: Rule[] = [
    { alert: "GpuHeadroomBelowFloor", expr: "vector(1) < 4", labels: { severity: "critical", team: "capacity", pool: "shared" } },
    { alert: "GpuPoolSoldOut", expr: "vector(1) <= 0", labels: { severity: "warning", team: "capacity", pool: "shared" } },
    { alert: "Watchdog", expr: "vector(1)", labels: { severity: "none", team: "capacity" } },
];

/** GuardDuty as the region runs it: the detector and its features, the findings rule, the data endpoint, the agent add-on and its tolerations. */
export const threatSamples = {
    detector(features: Record<string, string> = { EKS_AUDIT_LOGS: "ENABLED", RUNTIME_MONITORING: "ENABLED" }, addonManagement = "DISABLED"): SampleResource[] {
        return [
            sample("aws:guardduty/detector:Detector", "detector", { enable: true }),
            ...Object.entries(features).map(([name, status]) =>
                sample("aws:guardduty/detectorFeature:DetectorFeature", name.toLowerCase(), { detectorId: "d", name, status, ...(name === "RUNTIME_MONITORING" ? { additionalConfigurations: [{ name: "EKS_ADDON_MANAGEMENT", status: addonManagement }] } : {}) }, { dependsOn: ["detector"] }),
            ),
        ];
    },
    findings(target = true): SampleResource[] {
        return [
            sample("aws:cloudwatch/eventRule:EventRule", "findings", { eventPattern: JSON.stringify({ source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] }) }),
            ...(target ? [sample("aws:cloudwatch/eventTarget:EventTarget", "findings-target", { rule: "findings", arn: "arn:aws:sns:us-east-2:111122223333:security" }, { dependsOn: ["findings"] })] : []),
        ];
    },
    endpoint(service = "com.amazonaws.us-east-2.guardduty-data", privateDnsEnabled = true): SampleResource {
        return sample("aws:ec2/vpcEndpoint:VpcEndpoint", "guardduty-data", { serviceName: service, vpcEndpointType: "Interface", privateDnsEnabled });
    },
    agent(mode = "managed", configurationValues: Record<string, unknown> = { priorityClassName: "system-node-critical" }): SampleResource {
        return sample("aws:eks/addon:Addon", "guardduty-agent", { addonName: "aws-guardduty-agent", configurationValues: JSON.stringify(configurationValues), tags: { "compute-region:threat-detection": mode } });
    },
    tolerations(tolerations: unknown[] = [{ operator: "Exists" }]): SampleResource {
        return sample("kubernetes:apps/v1:DaemonSetPatch", "guardduty-agent-tolerations", {
            metadata: { name: "aws-guardduty-agent", namespace: "amazon-guardduty" },
            spec: { template: { spec: { tolerations } } },
        }, { dependsOn: ["guardduty-agent"] });
    },
};
