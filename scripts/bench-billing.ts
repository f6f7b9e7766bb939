import * as path from "node:path";
import { regionRegistry, RegistryDocument } from "compute-region-policies/model";
import { issueInvoice } from "../billing/invoice";
import { loadMigrations, migrate } from "../billing/migrate";
import { closedWindows, httpPrometheus, meterWindows, WriteResult } from "../billing/metering";
import { syncRegistry } from "../billing/registry";
import { parseRegionConfig } from "../stacks/config";
import { startPostgres } from "../test/postgres";
import { startPrometheus, Series } from "../test/prometheus";
import { gatewaySeries, nodeSeries, podSeries } from "../test/usage-series";
import { projectRoot } from "../stacks/paths";
import { benchConfig } from "./bench-config";

/**
 * Billing at scale, on the real PostgreSQL and Prometheus the tests use: the bench region's registry
 * (N tenants, rendered by the program's function from the bench config) applied, one hour's window
 * metered end to end (Prometheus queries and the write) with a pod on every raw-capacity tenant and
 * traffic on every hosted one, and a month's invoices issued for every tenant from a month of usage
 * (written straight into the database, as metering would have).
 */
export interface BillingBench {
    tenants: number;
    syncMs: number;
    /** One hour's window metered: queries, computation and the write. */
    meterMs: number;
    meterRecords: number;
    /** Writing the month's usage (setup, not a target). */
    monthRowsMs: number;
    monthRows: number;
    /** Every tenant's invoice for the month. */
    invoiceMs: number;
    invoices: number;
    invoicedTotal: string;
}

const HOUR = 3_600_000;

export async function benchBilling(root: string, tenants: number, log: (line: string) => void = () => {}): Promise<BillingBench> {
    const config = parseRegionConfig(
        Object.fromEntries(Object.entries(benchConfig(path.join(root, "Pulumi.dev.yaml"), tenants)).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        `bench-${tenants}`,
    );
    const doc: RegistryDocument = regionRegistry(config)!;
    const month = new Date(Date.UTC(2026, 9, 1));
    const monthEnd = new Date(Date.UTC(2026, 10, 1));
    // The window metered: the month's last hour.
    const window = { start: new Date(monthEnd.getTime() - HOUR), end: monthEnd };

    log(`billing bench: ${tenants} tenants, backfilling an hour of usage...`);
    const raw = doc.tenants.filter((t) => t.commitments.some((c) => c.track === "reserved"));
    const hosted = doc.tenants.filter((t) => t.commitments.some((c) => c.track === "hosted"));
    const series: Series[] = [...nodeSeries(new Date(window.start.getTime() - HOUR), monthEnd, doc.pools.map((p) => ({ node: `${p.name}-node`, pool: p.name, gpuModel: p.gpuModel })))];
    for (const t of raw) {
        const pool = t.commitments.find((c) => c.track === "reserved")!.subject;
        const start = new Date(window.start.getTime() + 7 * 60_000);
        series.push(...podSeries({ tenant: t.name, pod: "train", node: `${pool}-node`, gpus: 2, start, end: new Date(window.end.getTime() - 11 * 60_000) }));
        if (t.commitments.some((c) => c.track === "spot")) series.push(...podSeries({ tenant: t.name, pod: "burst", node: `${pool}-node`, gpus: 2, start, end: new Date(start.getTime() + 20 * 60_000), priority: "tenant-spot" }));
    }
    for (const t of hosted) series.push(...gatewaySeries({ tenant: t.name, model: "llama-3-8b", from: new Date(window.start.getTime() - 10 * 60_000), to: monthEnd, traffic: () => 3 }).series);

    const [pg, prom] = await Promise.all([startPostgres(), startPrometheus(series)]);
    try {
        await pg.createDatabase("billing");
        const db = await pg.connect("billing");
        try {
            await migrate(db, loadMigrations(path.join(root, "billing", "migrations")));
            let t0 = performance.now();
            await syncRegistry(db, doc, new Date(month.getTime() - 2 * HOUR));
            const syncMs = performance.now() - t0;

            log("billing bench: metering one hour's window...");
            let result: WriteResult | undefined;
            t0 = performance.now();
            await meterWindows(db, httpPrometheus(prom.url), closedWindows(window.end, 3600, 1), (_w, r) => (result = r));
            const meterMs = performance.now() - t0;
            if (!result?.complete) throw new Error(`the metered window is not complete: ${JSON.stringify(result?.rejected.slice(0, 3))}`);

            // The rest of the month, as metering would have written it: every tenant's commitments, a
            // third of the raw ones on spot a quarter of the time, hosted tokens every hour.
            log("billing bench: writing a month of usage...");
            t0 = performance.now();
            const params = [month, window.start];
            await db.query(
                `INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source)
                 SELECT c.tenant_id, c.subject, c.gpu_model, c.track, h, h + interval '1 hour', c.quantity * 3600, 'bench'
                 FROM commitments c CROSS JOIN generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') h
                 WHERE c.track IN ('reserved', 'dedicated') AND c.quantity > 0`,
                params,
            );
            await db.query(
                `INSERT INTO gpu_usage (tenant_id, pool, gpu_model, track, window_start, window_end, gpu_seconds, source)
                 SELECT c.tenant_id, c.subject, c.gpu_model, 'spot', h, h + interval '1 hour', c.quantity * 900, 'bench'
                 FROM commitments c CROSS JOIN generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') h
                 WHERE c.track = 'spot' AND c.quantity > 0`,
                params,
            );
            await db.query(
                `INSERT INTO model_usage (tenant_id, model, track, window_start, window_end, requests, input_tokens, cached_input_tokens, output_tokens, source)
                 SELECT c.tenant_id, c.subject, 'hosted', h, h + interval '1 hour', 180, 144000, 54000, 45000, 'bench'
                 FROM commitments c CROSS JOIN generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') h
                 WHERE c.track = 'hosted'`,
                params,
            );
            await db.query(
                `INSERT INTO metered_windows (window_start, window_end, gpu_records, model_records)
                 SELECT h, h + interval '1 hour', 0, 0 FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') h`,
                params,
            );
            await db.query("ANALYZE");
            const monthRowsMs = performance.now() - t0;
            const monthRows = Number((await db.query("SELECT (SELECT count(*) FROM gpu_usage) + (SELECT count(*) FROM model_usage) AS n")).rows[0].n);

            log("billing bench: issuing the month's invoices...");
            t0 = performance.now();
            let total = 0n;
            for (const t of doc.tenants) {
                const invoice = await issueInvoice(db, t.name, "2026-10", monthEnd);
                const [whole, cents] = invoice.total.split(".");
                total += BigInt(whole) * 100n + BigInt(cents);
            }
            const invoiceMs = performance.now() - t0;
            return {
                tenants,
                syncMs,
                meterMs,
                meterRecords: result.inserted,
                monthRowsMs,
                monthRows,
                invoiceMs,
                invoices: doc.tenants.length,
                invoicedTotal: `${total / 100n}.${String(total % 100n).padStart(2, "0")}`,
            };
        } finally {
            await db.end();
        }
    } finally {
        await Promise.all([pg.stop(), prom.stop()]);
    }
}

/** Targets of the billing bench, as the issue sets them. */
export const BILLING_TARGETS = { meterMs: 10_000, invoiceMs: 60_000 } as const;

if (require.main === module) {
    benchBilling(projectRoot(), Number(process.argv[2] ?? 1000), (l) => process.stderr.write(`${l}\n`)).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
