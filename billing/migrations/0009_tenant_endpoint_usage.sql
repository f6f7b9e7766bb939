-- Tenants' own rows, after the hosted-model tiers (schema version 9). 0006 held every table of
-- tenants' rows to row-level security and made billable_usage a security-invoker view; 0007 came
-- after it on a new database (before it on one that had 0007 first) and, written without it, added
-- endpoint_usage with no row-level security and restated billable_usage with CREATE OR REPLACE VIEW,
-- which resets a view's options: the view would read every tenant's rows with its owner's rights,
-- and a tenant's role could not read the replica-hours its statement's charges are priced from.
-- This puts both back, whichever order 0006 and 0007 ran in. Released migrations are never edited.

-- Usage as invoices price it, with the rights and row-level security of whoever reads it.
ALTER VIEW billable_usage SET (security_invoker = true);

-- A dedicated endpoint's replica-seconds are its tenant's rows: the billing jobs keep theirs, a
-- tenant's role reads its own, any other role none.
ALTER TABLE endpoint_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY billing_jobs ON endpoint_usage TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY own_rows ON endpoint_usage FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());

-- Metering writes it with INSERT ... ON CONFLICT DO NOTHING, as it writes gpu_usage (0006).
GRANT SELECT (tenant_id, model, track, window_start, window_end) ON endpoint_usage TO metering;

-- The tenant's view of it, hour by hour and by month.
CREATE VIEW tenant_billing.endpoint_usage WITH (security_invoker = true) AS
    SELECT e.tenant_id, e.model, e.track, t.priced, e.window_start, e.window_end, e.replica_seconds, e.replica_seconds / 3600 AS replica_hours
    FROM endpoint_usage e JOIN billing_tracks t ON t.track = e.track;

CREATE VIEW tenant_billing.endpoint_usage_monthly WITH (security_invoker = true) AS
    SELECT e.tenant_id, (date_trunc('month', e.window_start AT TIME ZONE 'UTC'))::date AS month, e.model, e.track, t.priced,
           sum(e.replica_seconds) / 3600 AS replica_hours
    FROM endpoint_usage e JOIN billing_tracks t ON t.track = e.track
    GROUP BY 1, 2, 3, 4, 5;

GRANT SELECT ON endpoint_usage, tenant_billing.endpoint_usage, tenant_billing.endpoint_usage_monthly TO billing_tenant;
