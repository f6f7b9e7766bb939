import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configWithDefaults, resourcesOfType, stackPolicy } from "../engine/policy";
import { billingTrack, priceInForce, RegistryDocument, registryProblems } from "../model/domain/billing";
import { parseInstant } from "../model/domain/capacity";
import { queueQuotaOn } from "../model/evidence/capacity-evidence";
import { GATEWAY, LABELS, NAMESPACES, QUEUE_KIND_LABEL, SHARD_BUDGET_ANNOTATION, SHARD_LABEL } from "../model/domain/conventions";
import { DEDICATED_ENDPOINT, ENDPOINT_LABEL, parseDedicatedModelName } from "../model/domain/hosted-tiers";
import { credentialSecrets, keySecrets, modelRoutes } from "../model/evidence/gateway-evidence";
import { gpuCount } from "../model/domain/capacity";
import { GATEWAY_TYPES, K8S_TYPES, MONITORING_TYPES } from "../model/domain/types";
import { billingSamples as b, editedRegistry, platformRegistry, PRICES, sampleRegistry } from "../samples/billing";
import { poolSamples as p } from "../samples/pools";
import { registriesOf } from "../model/evidence/billing-evidence";

/** One thing the stack's resources sell: a tenant's GPUs on a pool, its spot allowance, a model it may call, a shard's budget. */
interface Sale {
    tenant?: string;
    shard?: string;
    /** reserved-or-dedicated (the registry's pool role decides), spot, hosted, a shard's budget, a dedicated endpoint's replicas or batch access. */
    kind: "capacity" | "spot" | "hosted" | "budget" | "endpoint" | "batch";
    subject: string;
    quantity: number;
    /** What sells it, for the message. */
    by: string;
    urn?: string;
}

/** The S3 notifications of the batch bucket (each queue entry a tenant's and model's input prefix). */
const BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification";

const metadataName = (r: PolicyResource) => (r.props as Record<string, any>).metadata?.name ?? r.name;

/** What the resources sell, read from the objects that grant it (queues, the gateway's key policies, shard cohorts). */
function salesOf(args: StackValidationArgs): Sale[] {
    const resources = args.resources;
    const sales: Sale[] = [];
    for (const q of resourcesOfType(args, K8S_TYPES.clusterQueue)) {
        const props = q.props as Record<string, any>;
        const labels = props.metadata?.labels ?? {};
        const tenant = labels[LABELS.tenant];
        if (labels[QUEUE_KIND_LABEL] !== "tenant" || typeof tenant !== "string") continue;
        for (const group of [props.spec?.resourceGroups ?? []].flat()) {
            for (const flavor of [group?.flavors ?? []].flat()) {
                const quota = queueQuotaOn(q, flavor?.name);
                if (!quota || quota.invalid) continue;
                const by = `ClusterQueue ${metadataName(q)}`;
                if (quota.nominal > 0) sales.push({ tenant, kind: "capacity", subject: flavor.name, quantity: quota.nominal, by, urn: q.urn });
                if ((quota.borrowingLimit ?? 0) > 0) sales.push({ tenant, kind: "spot", subject: flavor.name, quantity: quota.borrowingLimit!, by, urn: q.urn });
            }
        }
    }
    const secrets = keySecrets(resources as any);
    const routes = modelRoutes(resources as any);
    for (const policy of resourcesOfType(args, GATEWAY_TYPES.securityPolicy).filter((r) => (r.props as Record<string, any>).spec?.apiKeyAuth)) {
        const targets = [...((policy.props as Record<string, any>).spec?.targetRefs ?? [])].filter((t: { kind?: string }) => t?.kind === "HTTPRoute").map((t: { name: string }) => t.name);
        const models = routes.filter((r) => targets.includes(r.name)).flatMap((r) => r.models);
        for (const { secret } of credentialSecrets(policy as any, secrets)) {
            if (!secret?.tenant) continue;
            for (const model of models) {
                // A tenant's own dedicated endpoint (<tenant>/<model>) is sold by its replicas, below.
                if (parseDedicatedModelName(model)?.tenant === secret.tenant) continue;
                sales.push({ tenant: secret.tenant, kind: "hosted", subject: model, quantity: 1, by: `SecurityPolicy ${metadataName(policy)} (${GATEWAY.tenantHeader} ${secret.tenant})`, urn: policy.urn });
            }
        }
    }
    // Dedicated endpoints: each tenant's model servers of its own, by their replicas.
    for (const d of resourcesOfType(args, K8S_TYPES.deployment)) {
        const labels = (d.props as Record<string, any>).metadata?.labels ?? {};
        const replicas = (d.props as Record<string, any>).spec?.replicas;
        if (labels[ENDPOINT_LABEL] !== DEDICATED_ENDPOINT || typeof labels[LABELS.tenant] !== "string" || typeof labels[LABELS.model] !== "string" || typeof replicas !== "number" || replicas === 0) continue;
        sales.push({ tenant: labels[LABELS.tenant], kind: "endpoint", subject: labels[LABELS.model], quantity: replicas, by: `Deployment ${metadataName(d)}`, urn: d.urn });
    }
    // Batch inference: the bucket notifications that start a tenant's batches of a model.
    for (const n of resourcesOfType(args, BUCKET_NOTIFICATION)) {
        for (const q of [(n.props as Record<string, any>).queues ?? []].flat()) {
            const m = typeof q?.filterPrefix === "string" ? /^([a-z0-9-]+)\/([a-z0-9-]+)\/input\/$/.exec(q.filterPrefix) : null;
            if (m) sales.push({ tenant: m[1], kind: "batch", subject: m[2], quantity: 1, by: `BucketNotification ${n.name} (${q.filterPrefix})`, urn: n.urn });
        }
    }
    for (const cohort of resourcesOfType(args, K8S_TYPES.cohort).filter((r) => (r.props as Record<string, any>).metadata?.labels?.[QUEUE_KIND_LABEL] === "shard")) {
        const meta = (cohort.props as Record<string, any>).metadata;
        const budget = gpuCount(meta?.annotations?.[SHARD_BUDGET_ANNOTATION]);
        if (budget && budget > 0) sales.push({ shard: meta.labels[SHARD_LABEL], kind: "budget", subject: meta.labels[LABELS.pool], quantity: budget, by: `Cohort ${meta.name}`, urn: cohort.urn });
    }
    return sales;
}

/** A sale's billing track, when its kind names one outright. */
const TRACK_OF: Partial<Record<Sale["kind"], string>> = { spot: "spot", hosted: "hosted", endpoint: "dedicated_endpoint", batch: "batch" };
/** What sells a commitment of a track in the stack, for the reverse check's message. */
const SOLD_BY: Record<string, string> = { hosted: "gateway grant", dedicated_endpoint: "dedicated model server", batch: "batch bucket notification" };

const what = (s: Sale) =>
    s.kind === "hosted"
        ? `tenant ${s.tenant} may call model ${s.subject} (${s.by})`
        : s.kind === "endpoint"
          ? `tenant ${s.tenant} has a dedicated endpoint of ${s.subject} with ${s.quantity} replicas (${s.by})`
          : s.kind === "batch"
            ? `tenant ${s.tenant} may run batches of ${s.subject} (${s.by})`
            : s.kind === "budget"
          ? `shard ${s.shard} may sell ${s.quantity} GPUs of ${s.subject} (${s.by})`
          : `tenant ${s.tenant} ${s.kind === "spot" ? `may borrow ${s.quantity} spot GPUs` : `holds ${s.quantity} GPUs`} on ${s.subject} (${s.by})`;

/** The sales the registry must bill, checked against its document. */
function judge(doc: RegistryDocument, sales: readonly Sale[], at: Date, report: (message: string, urn?: string) => void): void {
    const day = at.toISOString().slice(0, 10);
    for (const p of registryProblems(doc, at)) report(`the billing registry: ${p.path}: ${p.message}.`);
    const pools = new Map(doc.pools.map((p) => [p.name, p]));
    const tenants = new Map(doc.tenants.map((t) => [t.name, t]));
    const billed = new Set<string>();
    for (const s of sales) {
        if (s.kind === "budget") {
            const gpuModel = pools.get(s.subject)?.gpuModel;
            if (!gpuModel) report(`${what(s)}, but the billing registry does not list pool ${s.subject}: nothing prices its tenants' GPUs.`, s.urn);
            else if (!priceInForce(doc.prices, { track: "reserved", item: gpuModel, unit: "gpu_hour" }, at)) report(`${what(s)}, but the billing registry has no reserved price of ${gpuModel} per GPU-hour in force on ${day}.`, s.urn);
            continue;
        }
        const track = s.kind === "capacity" ? (pools.get(s.subject)?.role === "dedicated" ? "dedicated" : "reserved") : TRACK_OF[s.kind]!;
        const onModel = s.kind === "hosted" || s.kind === "endpoint" || s.kind === "batch";
        const tenant = tenants.get(s.tenant!);
        if (!tenant) {
            report(`${what(s)}, but the billing registry does not list tenant ${s.tenant}: nothing bills it.`, s.urn);
            continue;
        }
        if (tenant.state !== "active") {
            report(`${what(s)}, but the billing registry has tenant ${s.tenant} ${tenant.state}: its commitments are not billed.`, s.urn);
            continue;
        }
        if (!onModel && !pools.has(s.subject)) {
            report(`${what(s)}, but the billing registry does not list pool ${s.subject}: nothing prices it.`, s.urn);
            continue;
        }
        billed.add(`${s.tenant}/${track}/${s.subject}`);
        const c = tenant.commitments.find((c) => c.track === track && c.subject === s.subject);
        const noun = s.kind === "hosted" ? `model ${s.subject}` : s.kind === "endpoint" ? `replicas of its dedicated endpoint of ${s.subject}` : s.kind === "batch" ? `batches of ${s.subject}` : `${track} GPUs on ${s.subject}`;
        if (!c || c.quantity === 0) report(`${what(s)}, but the billing registry does not bill tenant ${s.tenant} for ${noun}.`, s.urn);
        else if (c.quantity !== s.quantity) report(`${what(s)}, but the billing registry bills tenant ${s.tenant} for ${c.quantity} ${noun}.`, s.urn);
    }
    // The other way: nothing is billed that the cluster does not sell (a tenant charged for capacity it never got).
    for (const t of doc.tenants.filter((t) => t.state === "active")) {
        for (const c of t.commitments.filter((c) => c.quantity > 0 && !billed.has(`${t.name}/${c.track}/${c.subject}`))) {
            const track = billingTrack(c.track);
            // A shard's platform, or a region without a gateway yet, sells what its resources show; the registry lists no more.
            report(`the billing registry bills tenant ${t.name} for ${c.quantity} ${track?.item === "model" ? `${c.track} of model ${c.subject}` : `${c.track} GPUs on ${c.subject}`}, but nothing in the stack sells it (no ${SOLD_BY[c.track] ?? "ClusterQueue quota"}).`);
        }
    }
}

export const billingCoversSales = stackPolicy({
    name: "billing-covers-sales",
    description:
        "Everything the stack sells is billed, and nothing else: every tenant's reserved and dedicated GPUs, spot allowance, model grant, dedicated endpoint replicas and batch access (and a platform's shard budgets) is in the billing registry the registry Job applies, with a price in force at the plan's date (policy config `at`, the time of the preview when unset).",
    rationale:
        "A region exists to sell capacity. Quota granted in Kueue or a key granted on the gateway without a registry entry and a price bills nothing: " +
        "metering's records are rejected (the database does not know the tenant) or the invoice cannot price them. A registry that bills more than the " +
        "cluster grants charges a customer for capacity it never got. Both show in the plan, before the up.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Add the missing prices to compute-region:billing.prices (each from the day it takes effect) and keep the tenant in compute-region:tenants with what it bought; " +
        "a region that sells anything needs compute-region:billing. The registry is rendered from the same config as the queues and the gateway, so a mismatch means the resources were changed outside the config.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "PI1.3", title: "Processing is complete, accurate and authorized" },
        { framework: "SOC 2 (2017 TSC)", control: "PI1.1", title: "Information about processing objectives is defined" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-8", title: "System Component Inventory" },
    ],
    configSchema: {
        properties: {
            at: { type: "string", description: "The date prices must be in force at, ISO 8601 with a zone (2026-10-20T00:00:00Z). Unset, the time the preview runs. `npm run plan -- --at DATE` sets it." },
        },
    },
    validateStack: (args, report) => {
        const { at: given } = configWithDefaults<{ at?: string }>({}, args);
        const at = given === undefined ? new Date() : parseInstant(given);
        if (!at) {
            report(`policy config at ${JSON.stringify(given)} is not an ISO 8601 date-time with a zone (such as 2026-10-20T00:00:00Z): no price can be judged.`);
            return;
        }
        const sales = salesOf(args);
        // Reading the registry's text stops the policy (not run) while it is unknown, as a shard's is before the platform is read.
        const registries = registriesOf(resourcesOfType(args, MONITORING_TYPES.configMap).filter((r) => (r.props as Record<string, any>).metadata?.namespace === NAMESPACES.billing) as any);
        if (registries.length === 0) {
            if (sales.length > 0) {
                const who = [...new Set(sales.map((s) => (s.tenant ? `tenant ${s.tenant}` : `shard ${s.shard}`)))];
                report(`${who.join(", ")} ${who.length === 1 ? "buys" : "buy"} capacity or models (${sales.length} sales, such as: ${what(sales[0])}), but the stack has no billing registry (ConfigMap ${NAMESPACES.billing}/billing-registry): nothing would bill them.`);
            }
            return;
        }
        for (const r of registries) {
            if (r.problem) report(`the billing registry does not read as a registry document: ${r.problem}`, r.urn);
            else if (r.doc) judge(r.doc, sales, at, report);
        }
    },
    samples: {
        allowed: [
            { description: "What the queues and the gateway sell is billed, at prices in force.", config: { at: "2026-06-01T00:00:00Z" }, resources: [...b.sales(), b.registry(sampleRegistry())] },
            { description: "A stack that sells nothing (an internal queue) needs no registry.", resources: [p.queue("internal-shared-h100", "shared-h100", "internal", { nominal: 16 })] },
            { description: "A platform's shard budget on a priced pool.", config: { at: "2026-06-01T00:00:00Z" }, resources: [b.registry(platformRegistry()), b.shardCohort("a", "shared-h100", 6)] },
            {
                description: "initech's dedicated endpoint (2 replicas) and its batch access are billed on their own tracks.",
                config: { at: "2026-06-01T00:00:00Z" },
                resources: [...b.sales(), ...b.tierSales({ replicas: 2, batch: true }), b.registry(sampleRegistry({ initechEndpoint: 2, initechBatch: true }))],
            },
            {
                description: "A suspended tenant's queue holds no quota: nothing to bill.",
                config: { at: "2026-06-01T00:00:00Z" },
                resources: [...b.sales({ dedicated: 0, models: [] }), b.registry(sampleRegistry({ initechState: "suspended" }))],
            },
        ],
        disallowed: [
            { description: "Quota and a model sold with no billing registry.", expect: "tenant acme, tenant initech buy capacity or models (4 sales, such as: tenant acme holds 8 GPUs on shared-h100 (ClusterQueue acme-shared-h100)), but the stack has no billing registry", resources: b.sales() },
            {
                description: "The spot allowance has no price in force.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant acme's spot shared-h100 has no spot price of h100 per GPU-hour in force on 2026-06-01",
                resources: [...b.sales(), b.registry(sampleRegistry({ prices: PRICES.filter((p) => p.track !== "spot") }))],
            },
            {
                description: "Prices that take effect only after the plan's date.",
                config: { at: "2025-12-01T00:00:00Z" },
                expect: "in force on 2025-12-01",
                resources: [...b.sales(), b.registry(sampleRegistry())],
            },
            { description: "The queue grants 12 GPUs, the registry bills 8.", config: { at: "2026-06-01T00:00:00Z" }, expect: "tenant acme holds 12 GPUs on shared-h100 (ClusterQueue acme-shared-h100), but the billing registry bills tenant acme for 8 reserved GPUs on shared-h100", resources: [...b.sales({ reserved: 12 }), b.registry(sampleRegistry())] },
            {
                description: "The registry bills acme for spot GPUs no queue lets it borrow.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry bills tenant acme for 4 spot GPUs on shared-h100, but nothing in the stack sells it",
                resources: [...b.sales({ spot: 0 }), b.registry(sampleRegistry())],
            },
            {
                description: "A model granted on the gateway that the registry does not bill.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant initech may call model llama (SecurityPolicy model-llama (x-tenant initech)), but the billing registry does not bill tenant initech for model llama",
                resources: [...b.sales(), b.registry(sampleRegistry({ initechModels: [] }))],
            },
            {
                description: "The registry has the tenant suspended while its queue still grants quota.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "but the billing registry has tenant initech suspended: its commitments are not billed",
                resources: [...b.sales(), b.registry(sampleRegistry({ initechState: "suspended" }))],
            },
            {
                description: "A queue of a tenant the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant hooli holds 2 GPUs on shared-h100 (ClusterQueue hooli-shared-h100), but the billing registry does not list tenant hooli: nothing bills it",
                resources: [...b.sales(), b.registry(sampleRegistry()), b.queue("hooli-shared-h100", "shared-h100", 2, "hooli")],
            },
            {
                description: "A queue on a pool the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant acme holds 2 GPUs on train-h100 (ClusterQueue acme-train-h100), but the billing registry does not list pool train-h100: nothing prices it",
                resources: [...b.sales(), b.registry(sampleRegistry()), b.queue("acme-train-h100", "train-h100", 2, "acme")],
            },
            {
                description: "A shard's budget on a pool with no reserved price.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "shard a may sell 6 GPUs of shared-h100 (Cohort shard-a-shared-h100), but the billing registry has no reserved price of h100 per GPU-hour in force on 2026-06-01",
                resources: [b.registry(platformRegistry(PRICES.filter((p) => p.track !== "reserved"))), b.shardCohort("a", "shared-h100", 6)],
            },
            {
                description: "A shard's budget on a pool the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "shard a may sell 6 GPUs of train-h100 (Cohort shard-a-train-h100), but the billing registry does not list pool train-h100",
                resources: [b.registry(platformRegistry()), b.shardCohort("a", "train-h100", 6)],
            },
            // A registry edited outside the config: the document's own consistency, as the registry Job would refuse it.
            {
                description: "A price row repeated for the same track, item, unit and day.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: prices[9]: repeats prices[7]: one reserved price of h100 per gpu_hour and effective date.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => d.prices.push({ ...d.prices.find((p) => p.track === "reserved")!, unitPrice: "2.9" })))],
            },
            {
                description: "A dedicated pool of a tenant the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: pools[0] (initech-h100): is dedicated to tenant hooli, which the registry does not list (an unknown tenant).",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.pools[0].tenant = "hooli")))],
            },
            {
                description: "A tenant listed twice.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[2].name: repeats tenants[0] (acme).",
                resources: [...b.sales(), b.registry(editedRegistry((d) => d.tenants.push(structuredClone(d.tenants[0]))))],
            },
            {
                description: "A suspended tenant that still holds commitments.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[0].commitments: tenant acme is suspended: only an active tenant holds commitments.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.tenants[0].state = "suspended")))],
            },
            {
                description: "Reserved GPUs on a pool the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[0] (acme).commitments[0]: tenant acme's reserved GPUs are on pool train-h100, which the registry does not list.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.tenants[0].commitments[0].subject = "train-h100")))],
            },
            {
                description: "Reserved GPUs on a dedicated pool.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[0] (acme).commitments[0]: tenant acme has reserved GPUs on pool initech-h100, a dedicated pool: the reserved track sells shared pools.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.tenants[0].commitments[0].subject = "initech-h100")))],
            },
            {
                description: "Dedicated GPUs on another tenant's dedicated pool.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[0] (acme).commitments[0]: tenant acme has dedicated GPUs on pool initech-h100, which is dedicated to tenant initech.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.tenants[0].commitments[0] = { track: "dedicated", subject: "initech-h100", quantity: 8 })))],
            },
            {
                description: "A hosted model the registry does not list.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry: tenants[1] (initech).commitments[1]: tenant initech is granted model mistral, which the registry does not list.",
                resources: [...b.sales(), b.registry(editedRegistry((d) => (d.tenants[1].commitments[1].subject = "mistral")))],
            },
            {
                description: "The dedicated endpoint runs 3 replicas, the registry bills 2.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant initech has a dedicated endpoint of llama with 3 replicas (Deployment dedicated-initech-llama), but the billing registry bills tenant initech for 2 replicas of its dedicated endpoint of llama",
                resources: [...b.sales(), ...b.tierSales({ replicas: 3, batch: true }), b.registry(sampleRegistry({ initechEndpoint: 2, initechBatch: true }))],
            },
            {
                description: "Batches of a tenant the registry does not bill for batch.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant initech may run batches of llama (BucketNotification batch-bucket (initech/llama/input/)), but the billing registry does not bill tenant initech for batches of llama",
                resources: [...b.sales(), ...b.tierSales({ replicas: 2, batch: true }), b.registry(sampleRegistry({ initechEndpoint: 2 }))],
            },
            {
                description: "The registry bills a dedicated endpoint no model server is.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the billing registry bills tenant initech for 2 dedicated_endpoint of model llama, but nothing in the stack sells it (no dedicated model server)",
                resources: [...b.sales(), b.registry(sampleRegistry({ initechEndpoint: 2 }))],
            },
            {
                description: "A dedicated endpoint with no price in force.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "tenant initech's dedicated_endpoint llama has no dedicated_endpoint price of llama per replica-hour in force on 2026-06-01",
                resources: [...b.sales(), ...b.tierSales({ replicas: 2 }), b.registry(sampleRegistry({ initechEndpoint: 2, prices: PRICES.filter((p) => p.track !== "dedicated_endpoint") }))],
            },
            { description: "A registry that is not a registry document.", expect: "the billing registry does not read as a registry document: ConfigMap billing-registry:", resources: [...b.sales(), b.registry('{"version": 2}')] },
            { description: "A date that is not one.", config: { at: "June" }, expect: 'policy config at "June" is not an ISO 8601 date-time', resources: [...b.sales(), b.registry(sampleRegistry())] },
        ],
    },
});

