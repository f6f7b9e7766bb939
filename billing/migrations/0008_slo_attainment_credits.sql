-- What customers are told (issue 23, part 4): each tenant's service levels as metering recorded them
-- from the region's SLO recording rules, the objectives and credit terms the registry applied (history:
-- a change is a new row from when it was applied), and what invoicing reads to issue a credit. Applies
-- after 0007 (and 0006, whose charge_lines prices what a credit is a percent of); on a database that
-- had 0009 first it applies the same, as it touches nothing 0009 does.

-- The objectives the stack promises, from the registry document's serviceLevels, as history: a change
-- (or a withdrawal: objective NULL) is a new row from the sync that applied it, never an update.
-- `credits`: the tiers a month below the objective owes ([{ "below": 0.995, "percent": 10 }, ...]),
-- for a hosted model's availability; [] for the rest.
CREATE TABLE slo_terms (
    slo            text NOT NULL CHECK (slo ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
    effective_from timestamptz NOT NULL,
    service        text NOT NULL CHECK (service IN ('model', 'gateway', 'pool')),
    target         text,
    indicator      text NOT NULL CHECK (indicator IN ('availability', 'latency', 'gpu-availability')),
    tenant_id      text,
    objective      numeric CHECK (objective > 0 AND objective < 1),
    window_days    integer CHECK (window_days IN (28, 30)),
    credits        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(credits) = 'array'),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slo, effective_from),
    CHECK ((objective IS NULL) = (window_days IS NULL))
);
CREATE TRIGGER slo_terms_append_only BEFORE UPDATE OR DELETE ON slo_terms FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Good and valid events per tenant, objective and metered window (requests, or GPU-seconds for a
-- pool), integrated by metering from slo:good_events:rate5m and slo:valid_events:rate5m. Written in the
-- window's own transaction with its usage, so a metered window has its events; idempotent like usage.
CREATE TABLE slo_events (
    tenant_id    text NOT NULL REFERENCES tenants (tenant_id),
    slo          text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    good         numeric(20, 3) NOT NULL CHECK (good >= 0),
    valid        numeric(20, 3) NOT NULL CHECK (valid >= 0),
    source       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, slo, window_start, window_end),
    CHECK (window_end > window_start)
);
CREATE TRIGGER slo_events_append_only BEFORE UPDATE OR DELETE ON slo_events FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE INDEX slo_events_by_time ON slo_events (window_start);

-- Each tenant's attainment per objective and calendar month (UTC): good over valid events of the
-- windows starting in it; NULL when it made no valid events (nothing to judge, never a division by zero).
CREATE VIEW slo_attainment_monthly WITH (security_invoker = true) AS
    SELECT tenant_id, slo, date_trunc('month', window_start AT TIME ZONE 'UTC')::date AS period_start,
           sum(good) AS good, sum(valid) AS valid,
           CASE WHEN sum(valid) > 0 THEN sum(good) / sum(valid) END AS attainment
    FROM slo_events
    GROUP BY tenant_id, slo, date_trunc('month', window_start AT TIME ZONE 'UTC')::date;

-- The registry writes the terms, metering the events, invoicing reads both (and adds the credits
-- through add_invoice_adjustment, which it already may).
GRANT SELECT, INSERT ON slo_terms TO registry;
GRANT SELECT, INSERT ON slo_events TO metering;
-- Metering's inserts name their conflict target (ON CONFLICT (...) DO NOTHING), which PostgreSQL allows
-- only with SELECT on those columns: SELECT on slo_events above; 0006 and 0009 grant it on the usage tables.
GRANT SELECT ON slo_terms, slo_events, slo_attainment_monthly TO invoicing;

-- Tenants' rows under row-level security, as 0006 holds every such table: the billing jobs keep every
-- row they had, a tenant's role reads its own events and the terms that are the region's or its own,
-- any other role none.
ALTER TABLE slo_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE slo_terms ENABLE ROW LEVEL SECURITY;
CREATE POLICY billing_jobs ON slo_events TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON slo_terms TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY own_rows ON slo_events FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON slo_terms FOR SELECT TO billing_tenant USING (tenant_id IS NULL OR tenant_id = billing_current_tenant());

-- The tenant's view: its attainment per objective and month, beside the objective in force at the
-- month's end (what a credit is judged against), read with the tenant's rights and row-level security.
CREATE VIEW tenant_billing.slo_attainment_monthly WITH (security_invoker = true) AS
    SELECT a.tenant_id, a.slo, a.period_start AS month, a.good, a.valid, a.attainment, t.objective, t.window_days
    FROM slo_attainment_monthly a
    LEFT JOIN LATERAL (
        SELECT st.objective, st.window_days FROM slo_terms st
        WHERE st.slo = a.slo AND st.effective_from < (a.period_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        ORDER BY st.effective_from DESC LIMIT 1
    ) t ON true;
GRANT SELECT ON slo_events, slo_terms, slo_attainment_monthly, tenant_billing.slo_attainment_monthly TO billing_tenant;
