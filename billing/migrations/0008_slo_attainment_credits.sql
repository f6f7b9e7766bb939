-- What customers are told (issue 23, part 4): each tenant's service levels as metering recorded them
-- from the region's SLO recording rules, the objectives and credit terms the registry applied (history:
-- a change is a new row from when it was applied), and what invoicing reads to issue a credit. Applies
-- after 0007, with or without 0006 (another change's number).

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
CREATE VIEW slo_attainment_monthly AS
    SELECT tenant_id, slo, date_trunc('month', window_start AT TIME ZONE 'UTC')::date AS period_start,
           sum(good) AS good, sum(valid) AS valid,
           CASE WHEN sum(valid) > 0 THEN sum(good) / sum(valid) END AS attainment
    FROM slo_events
    GROUP BY tenant_id, slo, date_trunc('month', window_start AT TIME ZONE 'UTC')::date;

-- The charge lines of a tenant's usage between two instants, priced and discounted as issue_invoice
-- prices them: a credit is a percent of exactly what the invoice charges. 0006 (issue 24) makes this
-- function and makes issue_invoice read it; a schema without 0006 gets the same function here (so a
-- 0006 applied after this one must create it with CREATE OR REPLACE, which keeps this signature).
DO $migration$
BEGIN
    IF to_regprocedure('charge_lines(text, timestamptz, timestamptz)') IS NULL THEN
        EXECUTE $fn$
CREATE FUNCTION charge_lines(p_tenant text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (track text, subject text, item text, unit text, label text, description text, quantity numeric, unit_price numeric, currency char(3), discount_percent numeric, amount numeric)
LANGUAGE sql STABLE AS $$
    WITH usage AS (
        SELECT b.track, b.subject, b.item, b.unit, b.window_start, b.raw_quantity
        FROM billable_usage b
        WHERE b.tenant_id = p_tenant AND b.window_start >= p_from AND b.window_start < p_to AND b.raw_quantity > 0
    ), price_periods AS (
        SELECT pr.track, pr.item, pr.unit, pr.unit_price, pr.currency, pr.effective_from AS p_from,
               coalesce(lead(pr.effective_from) OVER (PARTITION BY pr.track, pr.item, pr.unit ORDER BY pr.effective_from), 'infinity') AS p_to
        FROM prices pr
    ), discount_periods AS (
        SELECT c.discount_percent, c.effective_from AS d_from, coalesce(lead(c.effective_from) OVER (ORDER BY c.effective_from), 'infinity') AS d_to
        FROM contracts c WHERE c.tenant_id = p_tenant
    ), priced AS (
        SELECT u.*, p.unit_price, p.currency, coalesce(d.discount_percent, 0) AS discount_percent
        FROM usage u
        LEFT JOIN price_periods p ON p.track = u.track AND p.item = u.item AND p.unit = u.unit AND u.window_start >= p.p_from AND u.window_start < p.p_to
        LEFT JOIN discount_periods d ON u.window_start >= d.d_from AND u.window_start < d.d_to
    )
    SELECT p.track, p.subject, p.item, p.unit, un.label,
           CASE WHEN p.subject = p.item THEN format('%s %s', p.track, p.subject) ELSE format('%s %s GPUs on %s', p.track, p.item, p.subject) END,
           sum(p.raw_quantity) / un.per_unit, p.unit_price, p.currency, p.discount_percent,
           round(sum(p.raw_quantity) * p.unit_price * (100 - p.discount_percent) / (un.per_unit * 100), 2)
    FROM priced p JOIN billing_units un ON un.track = p.track AND un.unit = p.unit
    GROUP BY p.track, p.subject, p.item, p.unit, un.label, un.per_unit, p.unit_price, p.currency, p.discount_percent
    ORDER BY p.track, p.subject, p.unit, p.unit_price, p.discount_percent
$$;
$fn$;
    END IF;
END;
$migration$;
-- Invoicing reads it; nobody else needs to (0006 grants tenants' statements their own use of it).
REVOKE EXECUTE ON FUNCTION charge_lines(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION charge_lines(text, timestamptz, timestamptz) TO invoicing;

-- The registry writes the terms, metering the events, invoicing reads both (and adds the credits
-- through add_invoice_adjustment, which it already may).
GRANT SELECT, INSERT ON slo_terms TO registry;
GRANT SELECT, INSERT ON slo_events TO metering;
-- Metering's inserts name their conflict target (ON CONFLICT (...) DO NOTHING: a replayed window adds
-- nothing), which PostgreSQL allows only with SELECT on those columns: without it every run as the
-- metering role fails at its first usage row. 0006 grants the same on gpu_usage and model_usage
-- (granting twice is harmless); nothing granted it on endpoint_usage.
GRANT SELECT (tenant_id, pool, track, window_start, window_end) ON gpu_usage TO metering;
GRANT SELECT (tenant_id, model, track, window_start, window_end) ON model_usage TO metering;
GRANT SELECT (tenant_id, model, track, window_start, window_end) ON endpoint_usage TO metering;
GRANT SELECT ON slo_terms, slo_events, slo_attainment_monthly TO invoicing;
