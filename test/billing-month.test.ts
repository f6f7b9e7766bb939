import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "pg";
import { regionRegistry, RegistryDocument, registryText } from "compute-region-policies/model";
import type { Invoice } from "../billing/invoice";
import { loadMigrations, migrate } from "../billing/migrate";
import { readStatement, Statement } from "../billing/statement";
import { parseRegionConfig } from "../stacks/config";
import { devStackConfig, engineValues } from "./helpers";
import { inProcessCli } from "./billing-cli";
import { startPostgres, TestPostgres } from "./postgres";
import { startPrometheus, TestPrometheus } from "./prometheus";
import { gatewaySeries, nodeSeries, podSeries, utc } from "./usage-series";

/**
 * A first month of billing, end to end, on a real PostgreSQL and a real Prometheus: the dev stack's
 * config rendered into registry documents by the program's own function, applied by `cli.js sync` as
 * the month goes (a price announced for the 16th, globex's quota raised on the 20th at 09:30, globex
 * suspended on the 26th and decommissioned on the 28th), a month of scripted usage (acme's reserved
 * GPUs idle for ten days, spot bursts, an hour beyond what acme bought, hosted tokens through a
 * gateway restart), metered hour by hour by `cli.js meter`, and invoices issued by `cli.js invoice`,
 * compared with figures worked out by hand below, to the cent. Then every step is replayed and
 * nothing changes, and bad documents are refused without changing anything.
 */

const MONTH_START = utc("2026-11-01T00:00");
const MONTH_END = utc("2026-12-01T00:00");
const FIRST_SYNC = utc("2026-10-31T22:00");

let pg: TestPostgres;
let prom: TestPrometheus;
let db: Client;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "billing-month-"));

/** Runs the CLI in-process against the test database; returns its exit code and output. */
const cli = inProcessCli(() => pg.connect("billing"));

/** The dev stack's config, changed by `edit`, as the program renders its registry. */
function registryOf(edit: (config: Record<string, any>) => void = () => {}): RegistryDocument {
    const config = devStackConfig();
    edit(config);
    return regionRegistry(parseRegionConfig(engineValues(config), "dev"))!;
}
const tenant = (config: Record<string, any>, name: string) => config["compute-region:tenants"].find((t: { name: string }) => t.name === name);
const newPrice = (config: Record<string, any>) => config["compute-region:billing"].prices.push({ track: "reserved", gpuModel: "l40s", perGpuHour: 1.8, effectiveFrom: "2026-11-16" });
const raised = (config: Record<string, any>) => {
    newPrice(config);
    tenant(config, "globex").quota["shared-l40s"] = 6;
};
const suspended = (config: Record<string, any>) => {
    raised(config);
    tenant(config, "globex").state = "suspended";
};
const decommissioned = (config: Record<string, any>) => {
    raised(config);
    tenant(config, "globex").state = "decommissioned";
};

/** The month's documents and when each is applied (what a `pulumi up` of each change would run). */
const SYNCS: [Date, (config: Record<string, any>) => void][] = [
    [FIRST_SYNC, () => {}],
    [utc("2026-11-10T12:00"), newPrice],
    [utc("2026-11-20T09:30"), raised],
    [utc("2026-11-26T00:00"), suspended],
    [utc("2026-11-28T00:00"), decommissioned],
];

async function sync(doc: RegistryDocument, at: Date) {
    const file = path.join(dir, `registry-${at.getTime()}.json`);
    fs.writeFileSync(file, registryText(doc));
    return cli("sync", "--registry", file, "--at", at.toISOString());
}

const traffic = (perMinute: number) => (t: number) => {
    const d = new Date(t * 1000);
    // Business hours on weekdays, varying by the minute.
    return d.getUTCDay() % 6 !== 0 && d.getUTCHours() >= 8 && d.getUTCHours() < 20 ? perMinute * (1 + (Math.floor(t / 240) % 5)) : 0;
};
const llama = gatewaySeries({ tenant: "initech", model: "llama-3-8b", from: utc("2026-10-31T20:00"), to: utc("2026-12-01T02:00"), traffic: traffic(12), interval: 240, resetAt: [utc("2026-11-09T14:02")], replacedAt: utc("2026-11-17T03:00") });
const qwen = gatewaySeries({ tenant: "initech", model: "qwen-2-5-32b", from: utc("2026-10-31T20:00"), to: utc("2026-12-01T02:00"), traffic: traffic(3), interval: 240, tokens: { input: 2000, cached: 0, output: 700 } });

/** Every row of the billing tables, to compare before and after a replay. */
async function snapshot(): Promise<Record<string, unknown[]>> {
    const tables = ["tenants", "tenant_states", "contracts", "commitments", "prices", "pools", "hosted_models", "billing_settings", "registry_syncs", "gpu_usage", "model_usage", "metered_windows", "invoices", "invoice_lines", "invoice_adjustments"];
    const out: Record<string, unknown[]> = {};
    for (const t of tables) out[t] = (await db.query(`SELECT * FROM ${t} ORDER BY ${t}::text`)).rows;
    return out;
}

beforeAll(async () => {
    [pg, prom] = await Promise.all([
        (async () => {
            const server = await startPostgres();
            await server.createDatabase("billing");
            return server;
        })(),
        startPrometheus([
            ...nodeSeries(utc("2026-10-31T20:00"), utc("2026-12-01T02:00"), [
                { node: "shared-1", pool: "shared-l40s", gpuModel: "l40s" },
                { node: "shared-2", pool: "shared-l40s", gpuModel: "l40s" },
                { node: "acme-1", pool: "acme-l40s", gpuModel: "l40s" },
            ], 240),
            // acme: its 6 reserved GPUs idle until the 11th, then a run from 09:37 on the 11th to 16:13 on the 14th,
            // and half an hour on 8 GPUs on the 18th (2 beyond what it bought); its dedicated pool busy from the 5th to the 25th.
            ...podSeries({ tenant: "acme", pod: "train-a", node: "shared-1", gpus: 6, start: utc("2026-11-11T09:37"), end: utc("2026-11-14T16:13"), interval: 240 }),
            ...podSeries({ tenant: "acme", pod: "over", node: "shared-1", gpus: 8, start: utc("2026-11-18T12:00"), end: utc("2026-11-18T12:30"), interval: 240 }),
            ...podSeries({ tenant: "acme", pod: "ded-1", node: "acme-1", gpus: 4, start: utc("2026-11-05T00:00"), end: utc("2026-11-25T00:00"), interval: 240 }),
            // globex: 4 reserved GPUs busy on the 3rd from 08:00 to 18:00 with a 4-GPU spot burst from 10:17 to 14:43;
            // after its raise to 6, all 6 busy on the 21st with a 2-GPU spot burst from 06:00 to 08:30; on the 24th
            // a 4-GPU spot job from 10:00 to 11:00 while its reserved GPUs are idle (it rides on them: no spot charge).
            ...podSeries({ tenant: "globex", pod: "steady", node: "shared-2", gpus: 4, start: utc("2026-11-03T08:00"), end: utc("2026-11-03T18:00"), interval: 240 }),
            ...podSeries({ tenant: "globex", pod: "burst-1", node: "shared-2", gpus: 4, start: utc("2026-11-03T10:17"), end: utc("2026-11-03T14:43"), priority: "tenant-spot", interval: 240 }),
            ...podSeries({ tenant: "globex", pod: "big", node: "shared-2", gpus: 6, start: utc("2026-11-21T00:00"), end: utc("2026-11-22T00:00"), interval: 240 }),
            ...podSeries({ tenant: "globex", pod: "burst-2", node: "shared-1", gpus: 2, start: utc("2026-11-21T06:00"), end: utc("2026-11-21T08:30"), priority: "tenant-spot", interval: 240 }),
            ...podSeries({ tenant: "globex", pod: "burst-3", node: "shared-2", gpus: 4, start: utc("2026-11-24T10:00"), end: utc("2026-11-24T11:00"), priority: "tenant-spot", interval: 240 }),
            ...llama.series,
            ...qwen.series.filter((s) => s.labels.gen_ai_token_type !== "cached_input"),
        ]),
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

// ---- The expected invoices, by hand -------------------------------------------------------------

const HOUR = 3600n;
/** Cents of raw units (GPU-seconds, tokens) at a price per `perUnit` raw units, less a discount, rounded half up once. */
function cents(raw: bigint, perUnit: bigint, price: string, discountPercent = 0n): bigint {
    const [whole, frac = ""] = price.split(".");
    const micros = BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, "0"));
    const num = raw * micros * (100n - discountPercent);
    const den = perUnit * 1_000_000n;
    return (2n * num + den) / (2n * den);
}
const gpuHours = (gpus: number, from: string, to: string) => BigInt(gpus) * BigInt((utc(to).getTime() - utc(from).getTime()) / 1000);
const money = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, "0")}`;

// acme, 10% off: 6 reserved GPUs all month (idle or not) at 1.95 until the 16th and 1.80 after; the dedicated pool's 4 GPUs at 2.10.
const ACME = {
    reservedBefore: cents(gpuHours(6, "2026-11-01T00:00", "2026-11-16T00:00"), HOUR, "1.95", 10n),
    reservedAfter: cents(gpuHours(6, "2026-11-16T00:00", "2026-12-01T00:00"), HOUR, "1.8", 10n),
    dedicated: cents(gpuHours(4, "2026-11-01T00:00", "2026-12-01T00:00"), HOUR, "2.1", 10n),
};
// globex: 4 reserved GPUs to the 20th at 09:30, then 6 until it is suspended on the 26th; spot beyond its busy reserved GPUs.
const GLOBEX = {
    reservedBefore: cents(gpuHours(4, "2026-11-01T00:00", "2026-11-16T00:00"), HOUR, "1.95"),
    reservedAfter: cents(gpuHours(4, "2026-11-16T00:00", "2026-11-20T09:30") + gpuHours(6, "2026-11-20T09:30", "2026-11-26T00:00"), HOUR, "1.8"),
    // 4 GPUs from 10:17 to 14:43 on the 3rd, 2 from 06:00 to 08:30 on the 21st; the 24th's job rode on idle reserved GPUs.
    spot: cents(gpuHours(4, "2026-11-03T10:17", "2026-11-03T14:43") + gpuHours(2, "2026-11-21T06:00", "2026-11-21T08:30"), HOUR, "0.85"),
};
// initech: tokens as the gateway counted them in November, input net of cached, less a 25.00 SLO credit.
const M = 1_000_000n;
const llamaMonth = llama.expectedBetween(MONTH_START, MONTH_END);
const qwenMonth = qwen.expectedBetween(MONTH_START, MONTH_END);
const INITECH = {
    llamaInput: cents(BigInt(llamaMonth.inputTokens - llamaMonth.cachedInputTokens), M, "0.1"),
    llamaCached: cents(BigInt(llamaMonth.cachedInputTokens), M, "0.05"),
    llamaOutput: cents(BigInt(llamaMonth.outputTokens), M, "0.2"),
    qwenInput: cents(BigInt(qwenMonth.inputTokens), M, "0.4"),
    qwenOutput: cents(BigInt(qwenMonth.outputTokens), M, "1.2"),
    // Its dedicated endpoint of llama-3-8b: one replica all month at 2.40 a replica-hour, busy or idle.
    dedicatedEndpoint: cents(gpuHours(1, "2026-11-01T00:00", "2026-12-01T00:00"), HOUR, "2.4"),
    credit: -2500n,
};
const total = (o: Record<string, bigint>) => money(Object.values(o).reduce((a, b) => a + b, 0n));

async function invoice(name: string): Promise<Invoice> {
    const r = await cli("invoice", "--tenant", name, "--month", "2026-11", "--format", "json", "--at", "2026-12-01T06:00:00Z");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as Invoice;
}
/** A tenant's statement as the statement Job reads it (its `statements` login acting as the tenant's role), or as an operator (the migrator) when `operator`. */
async function statement(name: string, at: string, operator = false): Promise<Statement> {
    const c = await pg.connect("billing", operator ? "postgres" : "statements");
    try {
        return await readStatement(c, name, "2026-11", utc(at));
    } finally {
        await c.end();
    }
}
const line = (inv: Invoice, track: string, subject: string, unitPrice: string, unit?: string) => inv.lines.find((l) => l.track === track && (l.pool ?? l.model) === subject && l.unitPrice === unitPrice && (!unit || l.unit === unit));

describe("a first month of billing on real PostgreSQL and Prometheus", () => {
    let invoices: Record<string, Invoice>;
    const open: Record<string, Statement> = {};

    it("applies the registry the program renders from the dev stack's config, change by change", async () => {
        for (const [at, edit] of SYNCS) {
            const r = await sync(registryOf(edit), at);
            expect(r.err).toBe("");
            expect(r.code).toBe(0);
            expect(r.out).toMatch(/applied:/);
        }
        const commitments = (await db.query("SELECT tenant_id, track, subject, quantity, effective_from FROM commitments WHERE tenant_id = 'globex' AND track = 'reserved' ORDER BY effective_from")).rows;
        expect(commitments.map((c) => [c.quantity, c.effective_from.toISOString()])).toEqual([
            [4, FIRST_SYNC.toISOString()],
            [6, "2026-11-20T09:30:00.000Z"],
            [0, "2026-11-26T00:00:00.000Z"],
        ]);
        const states = (await db.query("SELECT state, effective_from FROM tenant_states WHERE tenant_id = 'globex' ORDER BY effective_from")).rows;
        expect(states.map((s) => s.state)).toEqual(["active", "suspended", "decommissioned"]);
    });

    it("meters every hour of the month from Prometheus and the registry", async () => {
        const hours = (MONTH_END.getTime() - FIRST_SYNC.getTime()) / 3_600_000;
        const r = await cli("meter", "--at", MONTH_END.toISOString(), "--windows", String(hours));
        expect(r.code).toBe(0);
        // acme's half hour beyond what it bought is reported (and alerted by TenantGpuUseBeyondPurchase), never billed.
        expect(r.err).toBe("unsold: acme used 1.000 GPU-hours on shared-l40s beyond what it bought, not at the spot priority (recorded, not billed)\n");
        expect((await db.query("SELECT count(*)::int AS n FROM metered_windows")).rows[0].n).toBe(hours);
    });

    it("records an SLO credit for initech's month, once however often it is added", async () => {
        const args = ["adjust", "--tenant", "initech", "--month", "2026-11", "--amount=-25.00", "--reason", "SLO credit: llama-3-8b availability 99.52% < 99.9%", "--source", "slo", "--reference", "slo-2026-11-initech-llama-3-8b"];
        const first = await cli(...args);
        expect(first.code).toBe(0);
        expect((await cli(...args)).out).toBe(first.out);
        expect((await db.query("SELECT count(*)::int AS n FROM invoice_adjustments")).rows[0].n).toBe(1);
    });

    it("shows each tenant the month before it is invoiced, as its own role (globex, decommissioned, to operators only)", async () => {
        open.acme = await statement("acme", "2026-12-01T05:00");
        open.initech = await statement("initech", "2026-12-01T05:00");
        await expect(statement("globex", "2026-12-01T05:00")).rejects.toThrow(/the statements of globex are no longer readable as tenant_globex: the tenant is decommissioned or removed/);
        open.globex = await statement("globex", "2026-12-01T05:00", true);
        for (const s of Object.values(open)) expect(s).toMatchObject({ status: "open", meteredThrough: MONTH_END.toISOString(), charges: { unpriced: [] } });
        expect(open.acme.charges.total).toBe(total(ACME));
        expect(open.initech.charges.adjustments).toEqual([{ amount: "-25.00", reason: "SLO credit: llama-3-8b availability 99.52% < 99.9%", source: "slo", reference: "slo-2026-11-initech-llama-3-8b" }]);
        expect(open.globex.state).toBe("decommissioned");
    });

    it("issues each tenant's invoice with a line per track, pool or model and unit price, to the cent of the hand figures", async () => {
        invoices = { acme: await invoice("acme"), globex: await invoice("globex"), initech: await invoice("initech") };
        const acme = invoices.acme;
        expect(line(acme, "reserved", "shared-l40s", "1.95")).toMatchObject({ quantity: "2160", unit: "GPU-hour", discountPercent: "10", amount: money(ACME.reservedBefore) });
        expect(line(acme, "reserved", "shared-l40s", "1.8")).toMatchObject({ quantity: "2160", amount: money(ACME.reservedAfter) });
        expect(line(acme, "dedicated", "acme-l40s", "2.1")).toMatchObject({ quantity: "2880", amount: money(ACME.dedicated) });
        expect(acme.lines).toHaveLength(3);
        expect(acme.total).toBe(total(ACME));
        expect(acme.total).toBe("12733.20");
        expect(acme.reference).toBe("ACME-MSA-2026-014");
        expect(acme.notBilled).toEqual([{ track: "unsold", pool: "shared-l40s", gpuHours: "1" }]);

        const globex = invoices.globex;
        expect(line(globex, "reserved", "shared-l40s", "1.95")).toMatchObject({ quantity: "1440", amount: money(GLOBEX.reservedBefore) });
        expect(line(globex, "reserved", "shared-l40s", "1.8")).toMatchObject({ quantity: "1229", amount: money(GLOBEX.reservedAfter) });
        expect(line(globex, "spot", "shared-l40s", "0.85")).toMatchObject({ amount: money(GLOBEX.spot) });
        expect(globex.lines).toHaveLength(3);
        expect(globex.total).toBe(total(GLOBEX));
        expect(globex.total).toBe("5039.52");

        const initech = invoices.initech;
        expect(line(initech, "hosted", "llama-3-8b", "0.1", "1M input tokens")).toMatchObject({ amount: money(INITECH.llamaInput) });
        expect(line(initech, "hosted", "llama-3-8b", "0.05", "1M cached input tokens")).toMatchObject({ amount: money(INITECH.llamaCached) });
        expect(line(initech, "hosted", "llama-3-8b", "0.2", "1M output tokens")).toMatchObject({ amount: money(INITECH.llamaOutput) });
        expect(line(initech, "hosted", "qwen-2-5-32b", "0.4", "1M input tokens")).toMatchObject({ amount: money(INITECH.qwenInput) });
        expect(line(initech, "hosted", "qwen-2-5-32b", "1.2", "1M output tokens")).toMatchObject({ amount: money(INITECH.qwenOutput) });
        expect(line(initech, "dedicated_endpoint", "llama-3-8b", "2.4", "replica-hour")).toMatchObject({ quantity: "720", amount: money(INITECH.dedicatedEndpoint) });
        expect(initech.lines.find((l) => l.kind === "adjustment")).toMatchObject({ amount: "-25.00", description: "SLO credit: llama-3-8b availability 99.52% < 99.9% (slo slo-2026-11-initech-llama-3-8b)" });
        expect(initech.total).toBe(total(INITECH));
    });

    it("states the invoice's lines and total and the month's usage: the open statement had the same figures", async () => {
        for (const name of ["acme", "globex", "initech"]) {
            const s = await statement(name, "2026-12-02T00:00", name === "globex");
            expect(s.status).toBe("invoiced");
            expect(s.charges.lines).toEqual(invoices[name].lines.filter((l) => l.kind === "charge"));
            expect(s.charges.total).toBe(invoices[name].total);
            expect(open[name].charges.lines).toEqual(s.charges.lines);
            expect(open[name].charges.total).toBe(s.charges.total);
            // The GPU-hours held and borrowed are the invoice's quantities; what was not billed is the invoice's note.
            for (const track of ["reserved", "dedicated", "spot"]) {
                const billed = invoices[name].lines.filter((l) => l.track === track).reduce((a, l) => a + Number(l.quantity), 0);
                expect(s.gpu.filter((g) => g.track === track).reduce((a, g) => a + Number(g.gpuHours), 0), `${name} ${track}`).toBeCloseTo(billed, 9);
            }
            expect(s.gpu.filter((g) => g.track === "unsold").map((g) => ({ track: g.track, pool: g.pool, gpuHours: g.gpuHours }))).toEqual(invoices[name].notBilled);
        }
        const acme = await statement("acme", "2026-12-02T00:00");
        expect(acme.bought.map((b) => [b.track, b.subject, b.quantity, b.from, b.to])).toEqual([
            ["dedicated", "acme-l40s", 4, MONTH_START.toISOString(), MONTH_END.toISOString()],
            ["reserved", "shared-l40s", 6, MONTH_START.toISOString(), MONTH_END.toISOString()],
        ]);
        // acme's own GPU time within what it bought: on shared-l40s 6 GPUs from 09:37 on the 11th to 16:13 on the
        // 14th and 6 of the 8 for half an hour on the 18th; its dedicated pool's 4 GPUs from the 5th to the 25th.
        const used = (pool: string) => acme.gpu.find((g) => g.track === "reserved_use" && g.pool === pool)?.gpuHours;
        expect(used("shared-l40s")).toBe("474.6");
        expect(used("acme-l40s")).toBe("1920");
        const globex = await statement("globex", "2026-12-02T00:00", true);
        expect(globex.bought.filter((b) => b.track === "reserved").map((b) => [b.quantity, b.from, b.to])).toEqual([
            [4, MONTH_START.toISOString(), "2026-11-20T09:30:00.000Z"],
            [6, "2026-11-20T09:30:00.000Z", "2026-11-26T00:00:00.000Z"],
        ]);
        // Tokens per model are the gateway's counts for November.
        const initech = await statement("initech", "2026-12-02T00:00");
        expect(initech.tokens).toEqual([
            { model: "llama-3-8b", track: "hosted", requests: String(llamaMonth.requests), inputTokens: String(llamaMonth.inputTokens), cachedInputTokens: String(llamaMonth.cachedInputTokens), outputTokens: String(llamaMonth.outputTokens) },
            { model: "qwen-2-5-32b", track: "hosted", requests: String(qwenMonth.requests), inputTokens: String(qwenMonth.inputTokens), cachedInputTokens: "0", outputTokens: String(qwenMonth.outputTokens) },
        ]);
    });

    it("prints the invoice for people too", async () => {
        const r = await cli("invoice", "--tenant", "acme", "--month", "2026-11", "--at", "2026-12-02T00:00:00Z");
        expect(r.out).toContain("Invoice");
        expect(r.out).toContain("reserved l40s GPUs on shared-l40s");
        expect(r.out).toContain("Total: USD 12733.20");
        expect(r.out).toContain("Not billed: 1 GPU-hours on shared-l40s beyond what acme bought");
    });

    it("changes nothing when every run is replayed: the registry Job, metering, adjustments and invoices", async () => {
        const before = await snapshot();
        const latest = registryOf(decommissioned);
        const again = await sync(latest, utc("2026-12-01T07:00"));
        expect(again.out).toMatch(/already applied, nothing changed/);
        expect((await cli("meter", "--at", MONTH_END.toISOString(), "--windows", "48")).code).toBe(0);
        for (const name of ["acme", "globex", "initech"]) expect(await invoice(name)).toEqual(invoices[name]);
        expect(await snapshot()).toEqual(before);
    });

    it("refuses bad registry documents with clear errors, changing nothing", async () => {
        const before = await snapshot();
        const latest = registryOf(decommissioned);
        // An unknown tenant: the dedicated pool names a tenant the document does not list.
        const unknown: RegistryDocument = { ...latest, tenants: latest.tenants.filter((t) => t.name !== "acme") };
        const r1 = await sync(unknown, utc("2026-12-01T08:00"));
        expect(r1.code).toBe(2);
        expect(r1.err).toContain("pools[0] (acme-l40s): is dedicated to tenant acme, which the registry does not list (an unknown tenant)");
        // A missing price: initech granted a model nothing prices.
        const missing: RegistryDocument = { ...latest, prices: latest.prices.filter((p) => p.item !== "qwen-2-5-32b") };
        const r2 = await sync(missing, utc("2026-12-01T08:00"));
        expect(r2.code).toBe(2);
        expect(r2.err).toContain("tenant initech's hosted qwen-2-5-32b has no hosted price of qwen-2-5-32b per 1M input tokens in force on 2026-12-01");
        // A retroactive price: the reserved price in force since the 16th changed after the fact.
        const retro: RegistryDocument = { ...latest, prices: latest.prices.map((p) => (p.track === "reserved" && p.effectiveFrom === "2026-11-16" ? { ...p, unitPrice: "1.7" } : p)) };
        const r3 = await sync(retro, utc("2026-12-01T08:00"));
        expect(r3.code).toBe(2);
        expect(r3.err).toContain("the reserved price of l40s per GPU-hour effective 2026-11-16 would change from 1.8 to 1.7, and it has been in force since before 2026-12-01");
        expect(r3.err).toContain("nothing changed");
        // A price added in the past where one was in force, and --at before the last change.
        const backdated: RegistryDocument = { ...latest, prices: [...latest.prices, { track: "spot", item: "l40s", unit: "gpu_hour", unitPrice: "0.5", effectiveFrom: "2026-11-20" }] };
        expect((await sync(backdated, utc("2026-12-01T08:00"))).err).toContain("the spot price of l40s per GPU-hour would become 0.5 from 2026-11-20, a date already past on 2026-12-01 (0.85 was in force)");
        expect((await sync(latest, utc("2026-11-27T00:00"))).err).toContain("is before the registry's last change at 2026-11-28T00:00:00.000Z");
        expect(await snapshot()).toEqual(before);
    });

    it("refuses an invoice it cannot issue in full, and an adjustment on a month already invoiced", async () => {
        expect((await cli("invoice", "--tenant", "hooli", "--month", "2026-11")).err).toMatch(/unknown tenant hooli/);
        expect((await cli("invoice", "--tenant", "acme", "--month", "2026-12", "--at", "2026-12-20T00:00:00Z")).err).toMatch(/2026-12 has not ended/);
        // December is not metered at all: its invoice waits for it.
        expect((await cli("invoice", "--tenant", "acme", "--month", "2026-12", "--at", "2027-01-02T00:00:00Z")).err).toMatch(/metering of 2026-12 is incomplete: 0\.00 of 744\.00 hours since 2026-12-01 .* are metered, the first gap at 2026-12-01/);
        const late = await cli("adjust", "--tenant", "acme", "--month", "2026-11", "--amount=-5", "--reason", "late credit", "--source", "operator", "--reference", "ticket-1");
        expect(late.err).toMatch(/the invoice of acme for 2026-11 was issued at .*: it never changes \(add the adjustment to a later month\)/);
        expect((await cli("invoice", "--tenant", "acme", "--month", "2026-13")).code).toBe(2);
    });
});
