import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType, partsOf } from "./component-type";
import * as random from "@pulumi/random";
import { addonFacts, ALERTMANAGER, ALERTMANAGER_SECRET, DASHBOARD_LABEL, EKS_ADDONS, KUEUE_METRICS_SERVICE_LABELS, LABELS, MONITORING_CHARTS, NAMESPACES, PlatformAddressing, PoolCapacity, PROMETHEUS, SYSTEM_TAINT } from "compute-region-policies/model";
import { alertmanagerConfig, AlertingArgs } from "./alertmanager-config";
import { ON_SYSTEM_NODES } from "./nodes";
import { gpuAlertRules, RuleGroup } from "./alert-rules";
import type { Dashboard } from "@grafana/schema";
import { capacityDashboard, gpuHealthDashboard } from "./dashboards";
import { GPU_POOL_TOLERATIONS } from "./gpu-device-plugins";
import { MONITORING_CHART_PINS, pinnedRelease } from "./helm";
import { dependsOnOf } from "./options";
import { platformNamespace } from "./platform-namespace";
import { pinnedAddonVersion } from "./eks-addon";
import { POD_IDENTITY_TRUST_POLICY, podIdentityRole } from "./kms";
import { namespaceByName } from "./network-policies";
import { podNetworkPolicies } from "./platform-network-policies";

/** What a region's config says of its monitoring. */
export interface ObservabilitySettings {
    /** Prometheus retention, days. */
    prometheusRetentionDays: number;
    /** Prometheus volume size, GiB. */
    prometheusStorageGiB: number;
    /** Retention of the cluster's CloudWatch log groups, days. */
    logRetentionDays: number;
    /** Base URL of the runbooks the alerts link to. */
    runbookBaseUrl: string;
    /** Days before a Capacity Block pool's block ends that its alert fires. */
    capacityBlockWarningDays?: number;
}

/** The region's monitoring: what the Observability component installs and wires. */
export interface ObservabilityArgs extends ObservabilitySettings {
    /** EKS cluster name (log group names, the CloudWatch add-on). */
    clusterName: pulumi.Input<string>;
    /** Fixed cluster name for log group names known at preview. */
    clusterNameLiteral: string;
    /** KMS key that encrypts the log groups (its policy lets CloudWatch Logs use it). */
    kmsKeyArn: pulumi.Input<string>;
    /** AWS partition, for managed policy ARNs. */
    partition: pulumi.Input<string>;
    /** The cluster's Kubernetes version: the CloudWatch add-on is pinned to the build published for it. */
    kubernetesVersion: string;
    /** The region's GPU pools: alert thresholds and dashboard panels come from their capacity. */
    pools: PoolCapacity[];
    /** Platform namespaces that may reach Prometheus (port 9090), such as billing's metering. */
    prometheusClients?: string[];
    /** Storage class for Prometheus and Alertmanager volumes. */
    storageClassName: string;
    /** The region's addresses, for the NetworkPolicies of the CloudWatch add-on's pods. */
    addressing: PlatformAddressing;
    /** Tags for AWS resources. */
    tags: Record<string, string>;
    /**
     * Who is told of which alert: Alertmanager's receivers and routes. Absent, Alertmanager keeps the
     * chart's configuration, whose only receiver drops everything (the policy alerts-reach-a-person fails it).
     */
    alerting?: AlertingArgs;
    /** The EKS cluster's name, literal: Alertmanager's Pod Identity association (SNS receivers). */
    eksClusterName?: pulumi.Input<string>;
}

/** A service level objective's rule groups: one PrometheusRule (components/slo-rules.ts). */
export interface SloRuleSet {
    /** The objective's name. */
    slo: string;
    /** Its recording and alerting rule groups. */
    groups: RuleGroup[];
}

/** Extra files of the CloudWatch add-on's Fluent Bit, and what they write to. */
export interface FluentBitExtras {
    /** containerLogs.fluentBit.config.extraFiles: each is @INCLUDEd beside the add-on's own. */
    extraFiles: Record<string, string>;
    /** What they write to (made before the add-on). */
    writesTo: pulumi.Resource[];
}

/**
 * What the Region's other layers add to its monitoring: rule groups and dashboards (whose types are
 * unions) and resources, which only a TypeScript program builds, so a separate constructor parameter
 * that schema inference does not read (it reads `args` only).
 */
export interface ObservabilityWiring {
    /** Alert rule groups other layers add (tenants, serving, billing). */
    extraRuleGroups?: RuleGroup[];
    /** Each service level objective's rule groups: one PrometheusRule each. */
    sloRules?: SloRuleSet[];
    /** Dashboards other layers add. */
    extraDashboards?: Dashboard[];
    /** Extra Fluent Bit files of the CloudWatch add-on (invocation logs). */
    fluentBit?: FluentBitExtras;
}

interface ObservabilityParts {
    namespace: k8s.core.v1.Namespace;
    ruleGroups: RuleGroup[];
    prometheusStack: k8s.helm.v3.Release;
    namespacePolicy: k8s.networking.v1.NetworkPolicy;
}


/** Log groups the CloudWatch Observability add-on writes; created first so they get retention and the key. */
export const CONTAINER_INSIGHTS_LOG_GROUPS = ["application", "dataplane", "host", "performance"];

/**
 * The region's monitoring: kube-prometheus-stack (Prometheus with retention and a persistent volume,
 * Alertmanager, Grafana with a generated admin password kept as a secret, kube-state-metrics exposing
 * the tenant and pool labels), the DCGM exporter on every GPU node, Kueue's metrics, the GPU alert
 * rules and dashboards, and CloudWatch log groups with retention and KMS encryption; all in an
 * `observability` namespace that admits no traffic from other namespaces.
 *
 * Options: the cluster's Kubernetes provider (`providers`), and in `dependsOn` what the monitoring
 * stack and the CloudWatch add-on must wait for (the system node group they run on).
 */
export class Observability extends pulumi.ComponentResource {
    /** The titles of the dashboards Grafana loads. */
    public readonly dashboards: string[];
    /** Grafana's generated admin password (a secret). */
    public readonly grafanaAdminPassword: pulumi.Output<string>;
    /** The monitoring namespace. */
    public get namespace(): k8s.core.v1.Namespace {
        return partsOf<ObservabilityParts>(this).namespace;
    }
    /** Every alert and recording rule group the region's Prometheus loads. */
    public get ruleGroups(): RuleGroup[] {
        return partsOf<ObservabilityParts>(this).ruleGroups;
    }
    /** The release that installs the Prometheus operator and its CRDs: ServiceMonitors and PodMonitors wait for it. */
    public get prometheusStack(): k8s.helm.v3.Release {
        return partsOf<ObservabilityParts>(this).prometheusStack;
    }
    /** The NetworkPolicy that selects every pod of the namespace: another release here is governed by it. */
    public get namespacePolicy(): k8s.networking.v1.NetworkPolicy {
        return partsOf<ObservabilityParts>(this).namespacePolicy;
    }

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions, wiring: ObservabilityWiring = {}) {
        super(componentType("Observability"), name, {}, componentOptions("Observability", opts));
        const parts = partsOf<ObservabilityParts>(this);
        const ns = NAMESPACES.monitoring;
        const nodesReady = dependsOnOf(opts);

        // node-exporter and the DCGM exporter need host access; nothing else runs here.
        parts.namespace = platformNamespace(`${name}-ns`, { name: ns, kind: "platform", podSecurity: { enforce: "privileged", warn: "baseline" } }, { parent: this });
        const inNs = { parent: this, dependsOn: [this.namespace] };

        // Tenants never reach the monitoring stack: only the namespace itself may connect. This one
        // policy selects every pod here, so under the strict CNI the charts' pods need no other
        // (their egress stays open: Prometheus scrapes every namespace that admits it).
        const isolate = new k8s.networking.v1.NetworkPolicy(
            `${name}-isolate`,
            {
                metadata: { name: "admit-only-observability", namespace: ns },
                spec: {
                    podSelector: {},
                    policyTypes: ["Ingress"],
                    ingress: [
                        { from: [namespaceByName(ns)] },
                        ...(args.prometheusClients ?? []).map((client) => ({
                            from: [namespaceByName(client)],
                            ports: [{ protocol: "TCP", port: PROMETHEUS.port }],
                        })),
                    ],
                },
            },
            inNs,
        );
        parts.namespacePolicy = isolate;

        const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
        this.grafanaAdminPassword = pulumi.secret(password.result);
        const adminSecret = new k8s.core.v1.Secret(
            `${name}-grafana-admin`,
            { metadata: { name: "grafana-admin", namespace: ns }, type: "Opaque", stringData: { "admin-user": "admin", "admin-password": this.grafanaAdminPassword } },
            inNs,
        );

        // Alertmanager: the configuration from the stack's receivers and routes, and the receivers'
        // credentials from Secrets Manager in a Secret the operator mounts (the files the configuration
        // names). They are read at deploy and held as Pulumi secrets: encrypted in the state, never in
        // the plan, the Helm values or the configuration file.
        const alerting = args.alerting ? alertmanagerConfig(args.alerting) : undefined;
        const receiverSecret = alerting
            ? new k8s.core.v1.Secret(
                  `${name}-alertmanager-receivers`,
                  {
                      metadata: { name: ALERTMANAGER_SECRET.name, namespace: ns },
                      type: "Opaque",
                      stringData: pulumi.secret(
                          pulumi.all(Object.fromEntries(alerting.credentials.map((c) => [c.key, aws.secretsmanager.getSecretVersionOutput({ secretId: c.secretId }, { parent: this }).secretString]))),
                      ),
                  },
                  inNs,
              )
            : undefined;
        const snsTopics = [...new Set((args.alerting?.receivers ?? []).flatMap((r) => (r.sns ? [r.sns.topicArn] : [])))];
        // The association exists before Alertmanager's pods start (Pod Identity sets their credentials at creation).
        const alertmanagerIdentity: pulumi.Resource[] = [];
        if (snsTopics.length > 0) {
            if (!args.eksClusterName) throw new pulumi.ResourceError(`Observability ${name}: an sns receiver needs eksClusterName for Alertmanager's Pod Identity`, this);
            const { association } = podIdentityRole(
                `${name}-alertmanager-sns`,
                {
                    clusterName: args.eksClusterName,
                    namespace: ns,
                    serviceAccount: ALERTMANAGER.serviceAccount,
                    policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: snsTopics }] }),
                    tags: args.tags,
                },
                this,
            );
            alertmanagerIdentity.push(association);
        }

        const storage = (gib: number) => ({
            volumeClaimTemplate: { spec: { storageClassName: args.storageClassName, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${gib}Gi` } } } },
        });
        const stack = (parts.prometheusStack = pinnedRelease(
            `${name}-prometheus-stack`,
            MONITORING_CHART_PINS.prometheusStack,
            {
                releaseName: MONITORING_CHARTS.prometheusStack,
                namespace: ns,
                values: {
                    prometheus: {
                        prometheusSpec: {
                            retention: `${args.prometheusRetentionDays}d`,
                            storageSpec: storage(args.prometheusStorageGiB),
                            // Pick up every ServiceMonitor and PrometheusRule, not only the chart's own.
                            serviceMonitorSelectorNilUsesHelmValues: false,
                            podMonitorSelectorNilUsesHelmValues: false,
                            ruleSelectorNilUsesHelmValues: false,
                            ...ON_SYSTEM_NODES,
                        },
                    },
                    alertmanager: {
                        ...(alerting ? { config: alerting.config } : {}),
                        alertmanagerSpec: { storage: storage(10), ...ON_SYSTEM_NODES, ...(receiverSecret ? { secrets: [ALERTMANAGER_SECRET.name] } : {}) },
                    },
                    // The chart's own rules route like the region's (the cluster's health is the capacity team's); its
                    // Watchdog gives way to the region's (components/alert-rules.ts pipelineAlertRules).
                    defaultRules: { additionalRuleLabels: { team: "capacity" }, disabled: { Watchdog: true } },
                    grafana: {
                        admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
                        sidecar: { dashboards: { enabled: true, label: DASHBOARD_LABEL.key, labelValue: DASHBOARD_LABEL.value, searchNamespace: ns } },
                        ...ON_SYSTEM_NODES,
                    },
                    prometheusOperator: { admissionWebhooks: { enabled: false }, tls: { enabled: false }, ...ON_SYSTEM_NODES },
                    "kube-state-metrics": {
                        ...ON_SYSTEM_NODES,
                        metricLabelsAllowlist: [
                            `namespaces=[${LABELS.tenant},${LABELS.namespaceKind}]`,
                            `nodes=[${LABELS.pool},${LABELS.role},${LABELS.gpuModel},${LABELS.tenant}]`,
                        ],
                    },
                    // node-exporter runs everywhere, GPU pools included.
                    "prometheus-node-exporter": { tolerations: [{ operator: "Exists" }] },
                },
                network: { governedBy: [isolate] },
            },
            { ...inNs, dependsOn: [this.namespace, adminSecret, ...(receiverSecret ? [receiverSecret] : []), ...alertmanagerIdentity, ...nodesReady] },
        ));
        const afterCrds = { parent: this, dependsOn: [stack] };

        if (args.pools.length > 0) {
            pinnedRelease(
                `${name}-dcgm-exporter`,
                MONITORING_CHART_PINS.dcgmExporter,
                {
                    releaseName: MONITORING_CHARTS.dcgmExporter,
                    namespace: ns,
                    values: {
                        tolerations: GPU_POOL_TOLERATIONS,
                        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: LABELS.gpuModel, operator: "Exists" }] }] } } },
                        // honorLabels keeps the namespace and pod of the workload a GPU is allocated to (the
                        // exporter's Kubernetes mapping): the tenant metrics API scopes by that namespace. The
                        // node each exporter runs on, as `node` on its series: a node that is down inhibits their alerts.
                        serviceMonitor: { enabled: true, interval: "15s", honorLabels: true, relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" }] },
                    },
                    network: { governedBy: [isolate] },
                },
                afterCrds,
            );
        }

        // Kueue's quota and usage metrics (the headroom alert reads them).
        new k8s.apiextensions.CustomResource(
            `${name}-kueue-monitor`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: "kueue", namespace: ns },
                spec: {
                    namespaceSelector: { matchNames: [NAMESPACES.kueue] },
                    // The metrics Service only: the visibility server's Service carries the same selector labels and port name.
                    selector: { matchLabels: { ...KUEUE_METRICS_SERVICE_LABELS } },
                    // honorLabels keeps each LocalQueue series' own namespace (the tenant metrics API scopes by it).
                    endpoints: [{ port: "https", scheme: "https", path: "/metrics", honorLabels: true, bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token", tlsConfig: { insecureSkipVerify: true } }],
                },
            },
            afterCrds,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-kueue-metrics`,
            {
                metadata: { name: "prometheus-reads-kueue-metrics" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kueue-metrics-reader" },
                subjects: [{ kind: "ServiceAccount", name: PROMETHEUS.serviceAccount, namespace: ns }],
            },
            { parent: this },
        );

        const regionGroups = [...gpuAlertRules(args.pools, args.runbookBaseUrl, args.capacityBlockWarningDays), ...(wiring.extraRuleGroups ?? [])];
        const prometheusRule = (resourceName: string, ruleName: string, groups: RuleGroup[]) =>
            new k8s.apiextensions.CustomResource(
                resourceName,
                { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: ruleName, namespace: ns, labels: { ...PROMETHEUS.ruleSelector } }, spec: { groups } },
                afterCrds,
            );
        prometheusRule(`${name}-rules`, "compute-region", regionGroups);
        for (const set of wiring.sloRules ?? []) prometheusRule(`${name}-slo-${set.slo}`, `slo-${set.slo}`, set.groups);
        parts.ruleGroups = [...regionGroups, ...(wiring.sloRules ?? []).flatMap((set) => set.groups)];

        const dashboards = [capacityDashboard(args.pools), gpuHealthDashboard(), ...(wiring.extraDashboards ?? [])];
        this.dashboards = dashboards.map((d) => d.title ?? d.uid ?? "");
        for (const d of dashboards) {
            new k8s.core.v1.ConfigMap(
                `${name}-dashboard-${d.uid}`,
                { metadata: { name: `dashboard-${d.uid}`, namespace: ns, labels: { [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value } }, data: { [`${d.uid}.json`]: JSON.stringify(d) } },
                inNs,
            );
        }

        // CloudWatch: the log groups first (retention, the cluster key), then the add-on that fills them.
        const logGroups = CONTAINER_INSIGHTS_LOG_GROUPS.map(
            (kind) =>
                new aws.cloudwatch.LogGroup(
                    `${name}-${kind}-logs`,
                    { name: `/aws/containerinsights/${args.clusterNameLiteral}/${kind}`, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn, tags: args.tags },
                    { parent: this },
                ),
        );
        const agentRole = new aws.iam.Role(
            `${name}-cloudwatch-agent`,
            {
                assumeRolePolicy: POD_IDENTITY_TRUST_POLICY,
                tags: args.tags,
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-cloudwatch-agent`,
            { role: agentRole.name, policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/CloudWatchAgentServerPolicy` },
            { parent: this },
        );
        // The add-on would make its namespace itself; made here first, it holds the NetworkPolicies the
        // operator and the DCGM exporter need under the strict CNI before the add-on starts them.
        const cloudWatchFacts = addonFacts(EKS_ADDONS.cloudWatch)!;
        const cloudWatchNamespace = platformNamespace(`${name}-cloudwatch-ns`, { name: cloudWatchFacts.namespace, kind: "platform", podSecurity: { enforce: "privileged", warn: "baseline" } }, { parent: this });
        const cloudWatchPolicies = podNetworkPolicies(`${name}-cloudwatch`, { facts: cloudWatchFacts, chartNamespaces: {} }, args.addressing, { parent: this, dependsOn: [cloudWatchNamespace] });
        new aws.eks.Addon(
            `${name}-cloudwatch`,
            {
                clusterName: args.clusterName,
                addonName: EKS_ADDONS.cloudWatch,
                addonVersion: pinnedAddonVersion(EKS_ADDONS.cloudWatch, args.kubernetesVersion, this),
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "PRESERVE",
                podIdentityAssociations: [{ roleArn: agentRole.arn, serviceAccount: "cloudwatch-agent" }],
                configurationValues: JSON.stringify({
                    containerLogs: { enabled: true, ...(wiring.fluentBit ? { fluentBit: { config: { extraFiles: wiring.fluentBit.extraFiles } } } : {}) },
                    // The chart's manager.tolerations ([]) overrides its root tolerations: without this the
                    // operator fits no node here (the system nodes are tainted CriticalAddonsOnly).
                    manager: { tolerations: [{ key: SYSTEM_TAINT.key, operator: "Exists" }] },
                }),
                tags: args.tags,
            },
            { parent: this, dependsOn: [...logGroups, ...(wiring.fluentBit?.writesTo ?? []), ...nodesReady, ...cloudWatchPolicies] },
        );

        this.registerOutputs({ ruleGroups: this.ruleGroups.map((g) => g.name), dashboards: this.dashboards });
    }
}
