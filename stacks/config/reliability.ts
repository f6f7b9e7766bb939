import { z } from "zod";
import { CreditTerm, GEN_AI_HISTOGRAMS, registryServiceLevels, RegistryServiceLevels, SLO_WINDOW_DAYS, SloSpec, SloWindowDays, TEAMS } from "compute-region-policies/model";
import { reportDuplicates } from "./checks";
import type { NamespacedRegionConfig, ReceiverConfig } from "./schema";
import { SNS_TOPIC_ARN } from "./schema";

/**
 * The region's reliability config (issue 23) made concrete: the objectives every hosted model, the
 * gateway and every pool that sells GPUs gets (the stack's own, else the defaults below), and the
 * checks across keys that no single schema can make. Each problem names the key to fix.
 */

type Objective = { objective: number; window?: "28d" | "30d" };
type Latency = Objective & { thresholdSeconds: number; indicator: "timeToFirstToken" | "requestDuration" };

/** What a model, the gateway and a pool promise when the stack does not say. */
export const DEFAULT_SLOS: { model: { availability: Objective; latency: Latency }; gateway: { availability: Objective; latency: Latency }; pool: { availability: Objective } } = {
    model: { availability: { objective: 0.999 }, latency: { objective: 0.95, thresholdSeconds: 2.5, indicator: "timeToFirstToken" } },
    gateway: { availability: { objective: 0.999 }, latency: { objective: 0.99, thresholdSeconds: 5, indicator: "timeToFirstToken" } },
    pool: { availability: { objective: 0.99 } },
};

const windowDays = (window: string | undefined, fallback: string): SloWindowDays => Number((window ?? fallback).replace(/d$/, "")) as SloWindowDays;

/** What the objectives are made from: the stack's `slos`, models, pools and gateway. */
export interface SloSources {
    slos?: NamespacedRegionConfig["compute-region:slos"];
    models: readonly { name: string }[];
    gpuPools: readonly { name: string; role: string; tenant?: string }[];
    gateway?: unknown;
}

/** The region's objectives from its config: none when the stack sets no `compute-region:slos`. */
export function resolveSlos(config: SloSources): SloSpec[] {
    const slos = config.slos;
    if (!slos) return [];
    const specs: SloSpec[] = [];
    const defaults = { model: { ...DEFAULT_SLOS.model, ...slos.defaults?.model }, pool: slos.defaults?.pool ?? DEFAULT_SLOS.pool };
    const latencySpec = (latency: Latency) => ({ metric: latency.indicator, thresholdSeconds: latency.thresholdSeconds });
    const latencyWords = (latency: Latency) => (latency.indicator === "timeToFirstToken" ? `first token within ${latency.thresholdSeconds}s` : `answered within ${latency.thresholdSeconds}s`);
    if (config.gateway) {
        const gateway = { ...DEFAULT_SLOS.gateway, ...slos.gateway };
        specs.push({ name: "gateway-availability", service: "gateway", indicator: "availability", objective: gateway.availability.objective, windowDays: windowDays(gateway.availability.window, slos.window), team: "serving", description: `The hosted-model API answers ${percent(gateway.availability.objective)} of requests without a server error` });
        specs.push({ name: "gateway-latency", service: "gateway", indicator: "latency", objective: gateway.latency.objective, windowDays: windowDays(gateway.latency.window, slos.window), latency: latencySpec(gateway.latency), team: "serving", description: `${percent(gateway.latency.objective)} of streamed requests get their ${latencyWords(gateway.latency)}, across models` });
    }
    for (const model of config.models) {
        const own = slos.models.find((m) => m.name === model.name);
        const availability = own?.availability ?? defaults.model.availability;
        const latency = own?.latency ?? defaults.model.latency;
        specs.push({ name: `model-${model.name}-availability`, service: "model", target: model.name, indicator: "availability", objective: availability.objective, windowDays: windowDays(availability.window, slos.window), team: "serving", description: `${model.name} answers ${percent(availability.objective)} of requests successfully` });
        specs.push({ name: `model-${model.name}-latency`, service: "model", target: model.name, indicator: "latency", objective: latency.objective, windowDays: windowDays(latency.window, slos.window), latency: latencySpec(latency), team: "serving", description: `${percent(latency.objective)} of ${model.name}'s streamed requests get their ${latencyWords(latency)}` });
    }
    for (const pool of config.gpuPools.filter((p) => p.role === "shared" || p.role === "dedicated")) {
        const availability = slos.pools.find((p) => p.name === pool.name)?.availability ?? defaults.pool.availability;
        specs.push({
            name: `pool-${pool.name}-gpu-availability`,
            service: "pool",
            target: pool.name,
            indicator: "gpu-availability",
            objective: availability.objective,
            windowDays: windowDays(availability.window, slos.window),
            ...(pool.role === "dedicated" && pool.tenant ? { tenant: pool.tenant } : {}),
            team: "capacity",
            description: `${percent(availability.objective)} of the GPU-time sold on ${pool.name} is on healthy, schedulable nodes`,
        });
    }
    return specs;
}

/** The credit terms of the hosted models' availability objectives, highest threshold first. */
export function resolveCredits(slos: SloSources["slos"]): CreditTerm[] {
    return [...(slos?.credits ?? [])].sort((a, b) => b.below - a.below);
}

/** The billing registry's service levels as the program renders them from a stack's config (the Region passes the same). */
export function registryServiceLevelsOf(config: SloSources): RegistryServiceLevels | undefined {
    return registryServiceLevels(resolveSlos(config), resolveCredits(config.slos));
}

/** The SNS topic GuardDuty findings go to: the findings receiver's, else the security team's pager's, when it is an sns receiver. */
export function findingsTopicArn(threatDetection: { findingsReceiver?: string }, alerting: NamespacedRegionConfig["compute-region:alerting"]): string | undefined {
    const name = threatDetection.findingsReceiver ?? alerting?.teams.security?.page;
    return alerting?.receivers.find((r) => r.name === name)?.sns?.topicArn;
}

/** The namespaced config as the objectives read it. */
export function sloSources(config: NamespacedRegionConfig): SloSources {
    return { slos: config["compute-region:slos"], models: config["compute-region:models"], gpuPools: config["compute-region:gpuPools"], gateway: config["compute-region:gateway"] };
}

function percent(objective: number): string {
    return `${Number((objective * 100).toPrecision(6))}%`;
}

/** The integrations a receiver entry names. */
export const RECEIVER_KINDS = ["pagerduty", "sns", "slack", "email", "webhook"] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];
export function receiverKind(receiver: ReceiverConfig): ReceiverKind | undefined {
    return RECEIVER_KINDS.find((k) => receiver[k] !== undefined);
}

/** The reliability keys' checks across keys. */
export function checkReliability(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    checkSlos(config, ctx);
    checkAlerting(config, ctx);
    checkThreatDetection(config, ctx);
}

function checkSlos(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:slos";
    const slos = config[key];
    if (!slos) return;
    const models = config["compute-region:models"].map((m) => m.name);
    const pools = new Map(config["compute-region:gpuPools"].map((p) => [p.name, p]));
    reportDuplicates(slos.models.map((m) => m.name), (i) => [key, "models", i, "name"], ctx);
    reportDuplicates(slos.pools.map((p) => p.name), (i) => [key, "pools", i, "name"], ctx);
    slos.models.forEach((m, i) => {
        if (!models.includes(m.name)) ctx.addIssue({ code: "custom", path: [key, "models", i, "name"], message: `names no model in compute-region:models (${models.join(", ") || "none"})`, input: m.name });
    });
    slos.pools.forEach((p, i) => {
        const pool = pools.get(p.name);
        if (!pool) ctx.addIssue({ code: "custom", path: [key, "pools", i, "name"], message: `names no pool in compute-region:gpuPools (${[...pools.keys()].join(", ") || "none"})`, input: p.name });
        else if (pool.role !== "shared" && pool.role !== "dedicated") ctx.addIssue({ code: "custom", path: [key, "pools", i, "name"], message: `pool ${p.name} is ${pool.role}: it sells no GPUs, so it promises tenants nothing`, input: p.name });
    });
    if (slos.gateway && !config["compute-region:gateway"]) ctx.addIssue({ code: "custom", path: [key, "gateway"], message: "sets objectives for a gateway this region does not have (compute-region:gateway)" });
    const latencies: { path: (string | number)[]; latency?: { thresholdSeconds: number; indicator: "timeToFirstToken" | "requestDuration" } }[] = [
        { path: [key, "gateway", "latency"], latency: slos.gateway?.latency },
        { path: [key, "defaults", "model", "latency"], latency: slos.defaults?.model?.latency },
        ...slos.models.map((m, i) => ({ path: [key, "models", i, "latency"], latency: m.latency })),
    ];
    for (const { path, latency } of latencies) {
        if (!latency) continue;
        const histogram = GEN_AI_HISTOGRAMS[latency.indicator];
        if (!(histogram.buckets as readonly number[]).includes(latency.thresholdSeconds)) {
            ctx.addIssue({ code: "custom", path: [...path, "thresholdSeconds"], message: `must be a bucket boundary of ${histogram.name} (${histogram.buckets.join(", ")}): the gateway counts requests per bucket, so no other threshold can be measured`, input: latency.thresholdSeconds });
        }
    }
    reportDuplicates(slos.credits.map((c) => String(c.below)), (i) => [key, "credits", i, "below"], ctx);
    const specs = resolveSlos(sloSources(config));
    const modelAvailability = specs.filter((s) => s.service === "model" && s.indicator === "availability");
    const loosest = Math.min(...modelAvailability.map((s) => s.objective));
    slos.credits.forEach((c, i) => {
        if (modelAvailability.length > 0 && c.below > loosest) {
            const which = modelAvailability.find((s) => s.objective === loosest)!;
            ctx.addIssue({ code: "custom", path: [key, "credits", i, "below"], message: `must be at most ${loosest}, the availability objective of ${which.target}: a credit would be owed in a month the objective was met`, input: c.below });
        }
    });
    const longest = Math.max(...SLO_WINDOW_DAYS.filter((d) => specs.some((s) => s.windowDays === d)), 0);
    const retention = config["compute-region:observability"].prometheusRetentionDays;
    if (longest > 0 && retention <= longest) {
        ctx.addIssue({ code: "custom", path: ["compute-region:observability", "prometheusRetentionDays"], message: `must be more than ${longest} days: the objectives' ${longest}-day window (compute-region:slos) is measured from Prometheus' own samples`, input: retention });
    }
}

function checkAlerting(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:alerting";
    const alerting = config[key];
    if (!alerting) return;
    const receivers = new Map(alerting.receivers.map((r) => [r.name, r]));
    reportDuplicates(alerting.receivers.map((r) => r.name), (i) => [key, "receivers", i, "name"], ctx);
    alerting.receivers.forEach((r, i) => {
        const kinds = RECEIVER_KINDS.filter((k) => r[k] !== undefined);
        if (kinds.length !== 1) ctx.addIssue({ code: "custom", path: [key, "receivers", i], message: `must set exactly one of ${RECEIVER_KINDS.join(", ")}${kinds.length > 1 ? ` (sets ${kinds.join(" and ")}: make one receiver each)` : ""}` });
        if (r.email && (r.email.username === undefined) !== (r.email.passwordSecret === undefined)) ctx.addIssue({ code: "custom", path: [key, "receivers", i, "email"], message: "must set both username and passwordSecret, or neither (an unauthenticated relay)" });
    });
    const refer = (path: (string | number)[], name: string | undefined, need?: { kinds: readonly ReceiverKind[]; why: string }) => {
        if (name === undefined) return;
        const receiver = receivers.get(name);
        if (!receiver) return ctx.addIssue({ code: "custom", path, message: `names no receiver in ${key}.receivers (${[...receivers.keys()].join(", ") || "none"})`, input: name });
        const kind = receiverKind(receiver);
        if (need && kind && !need.kinds.includes(kind)) ctx.addIssue({ code: "custom", path, message: `names ${name}, a ${kind} receiver: ${need.why}`, input: name });
    };
    for (const team of TEAMS) {
        const routes = alerting.teams[team];
        refer([key, "teams", team, "page"], routes?.page, { kinds: ["pagerduty", "sns"], why: "a page must reach someone on call (a pagerduty or sns receiver)" });
        refer([key, "teams", team, "ticket"], routes?.ticket);
    }
    refer([key, "heartbeat"], alerting.heartbeat, { kinds: ["webhook"], why: "the heartbeat is a webhook to a dead man's switch (it alarms when the beat stops)" });
    refer([key, "defaultReceiver"], alerting.defaultReceiver);
}

function checkThreatDetection(config: NamespacedRegionConfig, ctx: z.RefinementCtx): void {
    const key = "compute-region:threatDetection";
    const td = config[key];
    if (td.mode === "central") {
        if (!td.detectorId) ctx.addIssue({ code: "custom", path: [key, "detectorId"], message: "is required in central mode: the detector GuardDuty's administrator runs in this account and region, which the stack checks at deploy" });
        if (td.findingsReceiver) ctx.addIssue({ code: "custom", path: [key, "findingsReceiver"], message: "must be unset in central mode: the security team routes the findings of a GuardDuty it runs" });
        return;
    }
    if (td.detectorId) ctx.addIssue({ code: "custom", path: [key, "detectorId"], message: "must be unset in managed mode: the stack creates the detector (set mode: central to use one the security team runs)", input: td.detectorId });
    const alerting = config["compute-region:alerting"];
    const name = td.findingsReceiver ?? alerting?.teams.security?.page;
    if (name === undefined) return;
    const path = td.findingsReceiver ? [key, "findingsReceiver"] : ["compute-region:alerting", "teams", "security", "page"];
    const receiver = alerting?.receivers.find((r) => r.name === name);
    if (!receiver) {
        if (td.findingsReceiver) ctx.addIssue({ code: "custom", path, message: `names no receiver in compute-region:alerting.receivers`, input: name });
        return;
    }
    if (!receiver.sns || !SNS_TOPIC_ARN.test(receiver.sns.topicArn)) {
        ctx.addIssue({
            code: "custom",
            path,
            message: `names ${name}, a ${receiverKind(receiver) ?? "receiver"} receiver: GuardDuty findings reach the security team through EventBridge and SNS, so the findings receiver must be an sns receiver (set ${key}.findingsReceiver to one; its topic can fan out to a pager)`,
            input: name,
        });
    }
}
