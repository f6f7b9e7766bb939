import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { creditCents, regionRegistry, RegistryDocument, registryText, SLO_RECORDS } from "compute-region-policies/model";
import type { Invoice } from "../billing/invoice";
import { loadMigrations, migrate } from "../billing/migrate";
import { httpPrometheus } from "../billing/metering";
import { parseRegionConfig } from "../stacks/config";
import { registryServiceLevelsOf } from "../stacks/config/reliability";
import { devStackConfig, engineValues } from "./helpers";
import { inProcessCli } from "./billing-cli";
import { startPostgres, TestPostgres } from "./postgres";
import { Series, startPrometheus, TestPrometheus } from "./prometheus";
import { gatewaySeries, utc } from "./usage-series";

/**
 * What customers are told, end to end on a real PostgreSQL and a real Prometheus: the dev stack's
 * objectives and credit terms rendered into the registry document by the program's own functions and
 * applied by `cli.js sync` (and changed on the 27th, which must not rewrite November), the SLO
 * recording rules' per-tenant series as the rules record them (once a minute, at 15 s past: a phase at
 * which a window-long sum_over_time cut half an interval short drops a sample an hour) beside the
 * gateway's counters, metered hour by hour by `cli.js meter`, and `cli.js invoice` issuing the credit a
 * breached month owes, to the cent, once, each command as its Job's own database role. Billing begins on 22 November at 22:00, so November's
 * invoice covers eight days (a whole month of per-minute series would cost the suite half a minute;
 * the month's bounds, the terms' history and the credit are the same).
 *
 * November: initech's llama-3-8b fails for 90 of its 11,640 billed minutes (99.22% < 99.9%: below the
 * 99.5% credit threshold, not 99%: 10% of its llama charges); its qwen-2-5-32b answers 99.8%
 * (objective 99.5%: met); acme's dedicated pool is unhealthy for two hours (missed, but pools carry no
 * credit); globex's series are all zero (it made no requests: nothing judged, no division by zero); the
 * gateway's region-wide series has no tenant and is no one's. An outage in December's first hour,
 * metered in the same run, is December's.
 */

const MONTH_END = utc("2026-12-01T00:00");
const FIRST_SYNC = utc("2026-11-22T22:00");
const TERMS_CHANGED = utc("2026-11-27T09:00");
const FROM = utc("2026-11-22T20:00");
const TO = utc("2026-12-01T02:00");

let pg: TestPostgres;
let prom: TestPrometheus;
let db: Client;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-slo-"));

/** Each command as the database role its Job logs in as: the grants of 0005 and 0008 are what it may do. */
const ROLE_OF: Record<string, string> = { sync: "registry", meter: "metering", invoice: "invoicing" };

const cli = inProcessCli((argv) => pg.connect("billing", ROLE_OF[argv[0]]));

/** The registry the program renders from the dev stack's config (with its service levels), changed by `edit`. */
function registryOf(edit: (config: Record<string, any>) => void = () => {}): RegistryDocument {
    const raw = devStackConfig();
    edit(raw);
    const config = parseRegionConfig(engineValues(raw), "dev");
    return regionRegistry({ ...config, serviceLevels: registryServiceLevelsOf(config) })!;
}
/** On the 27th the credits become more generous: 20% below 99.5%, 50% below 99%. */
const generous = (config: Record<string, any>) => {
    config["compute-region:slos"].credits = [
        { below: 0.995, percent: 20 },
        { below: 0.99, percent: 50 },
    ];
};

async function sync(doc: RegistryDocument, at: Date) {
    const file = path.join(dir, `registry-${at.getTime()}.json`);
    fs.writeFileSync(file, registryText(doc));
    return cli("sync", "--registry", file, "--at", at.toISOString());
}

const minute = (d: Date) => d.getTime() / 1000;
/** Inside any of the [from, to) spans. */
const within = (t: number, spans: readonly [string, string][]) => spans.some(([a, b]) => t >= minute(utc(a)) && t < minute(utc(b)));

/** A recorded SLO series as the rules write it: a sample every minute at 15 s past, from FROM to TO. */
function recorded(name: string, labels: Record<string, string>, value: (t: number) => number): Series {
    const samples: [number, number][] = [];
    for (let t = minute(FROM) + 15; t < minute(TO); t += 60) samples.push([t, value(t)]);
    return { name, labels, samples };
}

// A rate recorded at t stands for the minute ending at the next whole minute (metering's step there).
const LLAMA_OUTAGES: [string, string][] = [
    ["2026-11-22T20:00", "2026-11-22T22:00"],
    ["2026-11-24T14:00", "2026-11-24T15:00"],
    ["2026-11-29T03:00", "2026-11-29T03:30"],
    ["2026-12-01T00:00", "2026-12-01T01:00"],
];
const ACME_POOL_DOWN: [string, string][] = [["2026-11-26T08:00", "2026-11-26T10:00"]];
const llama = { slo: "model-llama-3-8b-availability", tenant: "initech" };
const qwen = { slo: "model-qwen-2-5-32b-availability", tenant: "initech" };
const pool = { slo: "pool-acme-l40s-gpu-availability", tenant: "acme" };
const SLO_SERIES: Series[] = [
    recorded(SLO_RECORDS.valid, llama, () => 2),
    recorded(SLO_RECORDS.good, llama, (t) => (within(t, LLAMA_OUTAGES) ? 0 : 2)),
    recorded(SLO_RECORDS.valid, qwen, () => 1),
    recorded(SLO_RECORDS.good, qwen, () => 0.998),
    recorded(SLO_RECORDS.valid, pool, () => 4),
    recorded(SLO_RECORDS.good, pool, (t) => (within(t, ACME_POOL_DOWN) ? 0 : 4)),
    recorded(SLO_RECORDS.valid, { slo: "model-llama-3-8b-availability", tenant: "globex" }, () => 0),
    recorded(SLO_RECORDS.good, { slo: "model-llama-3-8b-availability", tenant: "globex" }, () => 0),
    recorded(SLO_RECORDS.valid, { slo: "gateway-availability" }, () => 3),
    recorded(SLO_RECORDS.good, { slo: "gateway-availability" }, () => 2),
];
const llamaTraffic = gatewaySeries({ tenant: "initech", model: "llama-3-8b", from: FROM, to: TO, traffic: () => 400, interval: 240, tokens: { input: 900, cached: 200, output: 300 } });
const qwenTraffic = gatewaySeries({ tenant: "initech", model: "qwen-2-5-32b", from: FROM, to: TO, traffic: () => 100, interval: 240, tokens: { input: 2000, cached: 0, output: 700 } });

beforeAll(async () => {
    [pg, prom] = await Promise.all([
        (async () => {
            const server = await startPostgres();
            await server.createDatabase("billing");
            return server;
        })(),
        startPrometheus([...SLO_SERIES, ...llamaTraffic.series, ...qwenTraffic.series.filter((s) => s.labels.gen_ai_token_type !== "cached_input")]),
    ]);
    process.env.PROMETHEUS_URL = prom.url;
    db = await pg.connect("billing");
    await migrate(db, loadMigrations(path.resolve(__dirname, "../billing/migrations")));
});
afterAll(async () => {
    await db?.end();
    await Promise.all([pg?.stop(), prom?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
});

// ---- By hand ---------------------------------------------------------------------------------------

const MINUTES = (MONTH_END.getTime() - FIRST_SYNC.getTime()) / 60_000;
const spanMinutes = (spans: readonly [string, string][], from: Date, to: Date) =>
    spans.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(utc(b).getTime(), to.getTime()) - Math.max(utc(a).getTime(), from.getTime())) / 60_000, 0);
// November since billing began: 2 requests a second every minute, none good for the 90 outage minutes in it.
const LLAMA_VALID = MINUTES * 120;
const LLAMA_GOOD = LLAMA_VALID - spanMinutes(LLAMA_OUTAGES, FIRST_SYNC, MONTH_END) * 120;

/** Cents of tokens at a price per million, rounded half up once (as an invoice line is). */
function tokenCents(tokens: number, price: string): bigint {
    const [whole, frac = ""] = price.split(".");
    const num = BigInt(tokens) * (BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, "0")));
    const den = 1_000_000n * 1_000_000n / 100n;
    return (2n * num + den) / (2n * den);
}
const llamaMonth = llamaTraffic.expectedBetween(FIRST_SYNC, MONTH_END);
// The dev prices of llama-3-8b: 0.10 per million input tokens (net of cached), 0.05 cached, 0.20 output.
const LLAMA_CHARGES = tokenCents(llamaMonth.inputTokens - llamaMonth.cachedInputTokens, "0.1") + tokenCents(llamaMonth.cachedInputTokens, "0.05") + tokenCents(llamaMonth.outputTokens, "0.2");
// 99.22% is below 99.5% (10%) and not below 99% (25%): November's first terms, not those of the 27th (20%).
const LLAMA_CREDIT = (LLAMA_CHARGES * 10n + 50n) / 100n;
const money = (c: bigint) => `${c < 0n ? "-" : ""}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, "0")}`;

async function invoice(tenant: string, at = "2026-12-01T06:00:00Z"): Promise<Invoice> {
    const r = await cli("invoice", "--tenant", tenant, "--month", "2026-11", "--format", "json", "--at", at);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as Invoice;
}

describe("SLO attainment and credits on real PostgreSQL and Prometheus", () => {
    let invoices: Record<string, Invoice>;

    it("records the objectives and credit terms the program declares, as history the registry Job appends to", async () => {
        const first = await sync(registryOf(), FIRST_SYNC);
        expect(first.err).toBe("");
        expect(first.out).toContain("service levels: gateway-availability: 0.999 over 30d;");
        expect(first.out).toContain("model-llama-3-8b-availability: 0.999 over 30d, credits below 0.995: 10%, below 0.99: 25%");
        const changed = await sync(registryOf(generous), TERMS_CHANGED);
        expect(changed.err).toBe("");
        // Only the credited objectives change; the rest keep their one row.
        expect(changed.out).toMatch(/service levels: model-llama-3-8b-availability: 0\.999 over 30d, credits below 0\.995: 20%, below 0\.99: 50% \(was 0\.999, credits below 0\.995: 10%, below 0\.99: 25%\); model-qwen-2-5-32b-availability: .*\n/);
        const rows = (await db.query("SELECT slo, effective_from, objective::float AS objective, credits FROM slo_terms WHERE slo = 'model-llama-3-8b-availability' ORDER BY effective_from")).rows;
        expect(rows).toEqual([
            { slo: llama.slo, effective_from: FIRST_SYNC, objective: 0.999, credits: [{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }] },
            { slo: llama.slo, effective_from: TERMS_CHANGED, objective: 0.999, credits: [{ below: 0.995, percent: 20 }, { below: 0.99, percent: 50 }] },
        ]);
        expect((await db.query("SELECT count(*)::int AS n FROM slo_terms WHERE slo = 'pool-acme-l40s-gpu-availability'")).rows[0].n).toBe(1);
        expect((await sync(registryOf(generous), utc("2026-11-27T10:00"))).out).toMatch(/already applied, nothing changed/);
    });

    it("refuses a run that would change terms already recorded, changing nothing", async () => {
        const before = (await db.query("SELECT * FROM slo_terms ORDER BY slo, effective_from")).rows;
        // At the instant of the last change, other terms: a rewrite of that change.
        const rewrite = await sync(registryOf(), TERMS_CHANGED);
        expect(rewrite.code).toBe(2);
        expect(rewrite.err).toContain(`serviceLevels: the terms of model-llama-3-8b-availability were recorded from ${TERMS_CHANGED.toISOString()}; a change from ${TERMS_CHANGED.toISOString()} would rewrite them (terms are history: apply it with a later --at)`);
        expect(rewrite.err).toContain("nothing changed");
        // Before it: the past.
        expect((await sync(registryOf(), utc("2026-11-25T00:00"))).err).toContain("is before the registry's last change");
        await expect(db.query("UPDATE slo_terms SET objective = 0.9 WHERE slo = $1", [llama.slo])).rejects.toThrow(/slo_terms rows are history: append-only/);
        expect((await db.query("SELECT * FROM slo_terms ORDER BY slo, effective_from")).rows).toEqual(before);
    });

    it("meters each tenant's good and valid events per objective hour by hour from the recording rules, exact to the step", async () => {
        const hours = (TO.getTime() - FIRST_SYNC.getTime()) / 3_600_000;
        const r = await cli("meter", "--at", TO.toISOString(), "--windows", String(hours));
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
        const month = (await db.query("SELECT tenant_id, slo, good::float AS good, valid::float AS valid, attainment::float AS attainment FROM slo_attainment_monthly WHERE period_start = '2026-11-01' ORDER BY tenant_id, slo")).rows;
        expect(month).toEqual([
            { tenant_id: "acme", slo: pool.slo, good: (MINUTES - 120) * 240, valid: MINUTES * 240, attainment: (MINUTES - 120) / MINUTES },
            { tenant_id: "initech", slo: llama.slo, good: LLAMA_GOOD, valid: LLAMA_VALID, attainment: LLAMA_GOOD / LLAMA_VALID },
            { tenant_id: "initech", slo: qwen.slo, good: 697_003.2, valid: MINUTES * 60, attainment: 0.998 },
        ]);
        // December's outage hour is December's (and what failed before billing began is no one's); globex (all zero) and the region-wide gateway have no rows.
        const december = (await db.query("SELECT period_start::text AS month, good::float AS good, valid::float AS valid FROM slo_attainment_monthly WHERE period_start <> '2026-11-01' AND slo = $1", [llama.slo])).rows;
        expect(december).toEqual([{ month: "2026-12-01", good: 60 * 120, valid: 120 * 120 }]);
        expect((await db.query("SELECT count(*)::int AS n FROM slo_events WHERE tenant_id = 'globex' OR slo = 'gateway-availability'")).rows[0].n).toBe(0);
        // Why steps: the same hour by a range cut half an interval short misses its first sample at this phase.
        const hourEnd = utc("2026-11-25T10:00");
        const [cut] = await httpPrometheus(prom.url).query(`sum_over_time(${SLO_RECORDS.valid}{slo="${llama.slo}",tenant="initech"}[3570s]) * 60`, hourEnd);
        expect(cut.value).toBe(59 * 120);
        const hour = (await db.query("SELECT valid::float AS valid FROM slo_events WHERE slo = $1 AND window_end = $2", [llama.slo, hourEnd])).rows[0];
        expect(hour.valid).toBe(60 * 120);
    });

    it("a tenant's own role reads its attainment and the objective it is judged against in tenant_billing, and no other tenant's (row-level security on 0008's tables)", async () => {
        const asTenant = async (tenant: string, sql: string) => {
            await db.query(`SET ROLE tenant_${tenant}`);
            try {
                return (await db.query(sql)).rows;
            } finally {
                await db.query("RESET ROLE");
            }
        };
        const view = "SELECT tenant_id, slo, month::text AS month, attainment::float AS attainment, objective::float AS objective FROM tenant_billing.slo_attainment_monthly ORDER BY month, slo";
        expect(await asTenant("initech", view)).toEqual([
            { tenant_id: "initech", slo: llama.slo, month: "2026-11-01", attainment: LLAMA_GOOD / LLAMA_VALID, objective: 0.999 },
            { tenant_id: "initech", slo: qwen.slo, month: "2026-11-01", attainment: 0.998, objective: 0.995 },
            { tenant_id: "initech", slo: llama.slo, month: "2026-12-01", attainment: 0.5, objective: 0.999 },
            { tenant_id: "initech", slo: qwen.slo, month: "2026-12-01", attainment: 0.998, objective: 0.995 },
        ]);
        expect((await asTenant("acme", view)).map((r) => [r.tenant_id, r.slo, r.month])).toEqual([
            ["acme", pool.slo, "2026-11-01"],
            ["acme", pool.slo, "2026-12-01"],
        ]);
        expect(await asTenant("globex", view)).toEqual([]);
        // The base tables hold it to its own rows too; the terms it reads are the region's or its own.
        expect(await asTenant("acme", "SELECT DISTINCT tenant_id FROM slo_events")).toEqual([{ tenant_id: "acme" }]);
        expect(await asTenant("acme", "SELECT DISTINCT tenant_id FROM slo_terms WHERE tenant_id IS NOT NULL AND tenant_id <> 'acme'")).toEqual([]);
        await expect(asTenant("acme", "INSERT INTO slo_events (tenant_id, slo, window_start, window_end, good, valid, source) VALUES ('acme', 'x', now(), now() + interval '1 hour', 1, 1, 'me')")).rejects.toThrow(/permission denied/);
    });

    it("issues nothing, credit included, while the month cannot be invoiced", async () => {
        const r = await cli("invoice", "--tenant", "initech", "--month", "2026-11", "--at", "2026-11-30T12:00:00Z");
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/2026-11 has not ended/);
        expect((await db.query("SELECT count(*)::int AS n FROM invoice_adjustments")).rows[0].n).toBe(0);
    });

    it("credits initech 10% of its llama-3-8b charges on November's invoice, to the cent, by the terms November began with", async () => {
        invoices = { initech: await invoice("initech"), acme: await invoice("acme"), globex: await invoice("globex") };
        const initech = invoices.initech;
        // The credit is of its hosted tokens, what the availability objective measures (not its dedicated endpoint's replica-hours).
        const llamaLines = initech.lines.filter((l) => l.kind === "charge" && l.track === "hosted" && l.model === "llama-3-8b");
        expect(llamaLines).toHaveLength(3);
        expect(initech.lines.filter((l) => l.kind === "charge" && l.track !== "hosted").map((l) => l.track)).not.toEqual([]);
        expect(llamaLines.reduce((sum, l) => sum + BigInt(l.amount.replace(".", "")), 0n)).toBe(LLAMA_CHARGES);
        const credits = initech.lines.filter((l) => l.kind === "adjustment");
        expect(credits).toEqual([
            expect.objectContaining({
                amount: money(-LLAMA_CREDIT),
                description: `SLO credit: llama-3-8b availability 99.22% in 2026-11, objective 99.9%: 10% of its charges of USD ${money(LLAMA_CHARGES).replace(/\B(?=(\d{3})+(?!\d))/g, ",")} (slo model-llama-3-8b-availability)`,
            }),
        ]);
        expect(LLAMA_CREDIT).toBe(creditCents(LLAMA_CHARGES, 10));
        // 1,164,000 requests of 900 input (200 cached) and 300 output tokens: 81.48 + 11.64 + 69.84.
        expect([money(LLAMA_CHARGES), money(LLAMA_CREDIT)]).toEqual(["162.96", "16.30"]);
        const charges = initech.lines.filter((l) => l.kind === "charge").reduce((sum, l) => sum + BigInt(l.amount.replace(".", "")), 0n);
        expect(initech.total).toBe(money(charges - LLAMA_CREDIT));
        // What initech is told of its month: llama missed (credited), qwen met.
        expect(initech.serviceLevels).toEqual([
            { slo: llama.slo, target: "llama-3-8b", indicator: "availability", objective: 0.999, good: String(LLAMA_GOOD), valid: String(LLAMA_VALID), attainment: LLAMA_GOOD / LLAMA_VALID, met: false, creditPercent: 10 },
            { slo: qwen.slo, target: "qwen-2-5-32b", indicator: "availability", objective: 0.995, good: "697003.2", valid: String(MINUTES * 60), attainment: expect.closeTo(0.998, 12), met: true, creditPercent: 0 },
        ]);
        // acme missed its pool's objective, which carries no credit; globex made no requests.
        expect(invoices.acme.lines.filter((l) => l.kind === "adjustment")).toEqual([]);
        expect(invoices.acme.serviceLevels).toEqual([expect.objectContaining({ slo: pool.slo, objective: 0.995, met: false })]);
        expect(invoices.acme.serviceLevels[0].creditPercent).toBeUndefined();
        expect(invoices.globex.lines.filter((l) => l.kind === "adjustment")).toEqual([]);
        expect(invoices.globex.serviceLevels).toEqual([]);
    });

    it("tells the tenant in the invoice's text", async () => {
        const r = await cli("invoice", "--tenant", "initech", "--month", "2026-11");
        expect(r.out).toContain("Service levels in 2026-11:\n  llama-3-8b availability: 99.22% (objective 99.9%), missed: credited 10% of its charges\n  qwen-2-5-32b availability: 99.80% (objective 99.5%), met\n");
    });

    it("issues the credit once: invoicing again, and metering again, change nothing", async () => {
        const before = (await db.query("SELECT * FROM invoice_adjustments")).rows;
        expect(before).toHaveLength(1);
        expect((await cli("meter", "--at", MONTH_END.toISOString(), "--windows", "3")).code).toBe(0);
        for (const name of ["initech", "acme", "globex"]) expect(await invoice(name, "2026-12-03T00:00:00Z")).toEqual(invoices[name]);
        expect((await db.query("SELECT * FROM invoice_adjustments")).rows).toEqual(before);
        await expect(db.query("DELETE FROM slo_events")).rejects.toThrow(/slo_events rows are history: append-only/);
    });
});
