-- Tenants' own views (schema version 6): each tenant's usage, commitments, invoices and adjustments,
-- readable only as that tenant's database role, with PostgreSQL's row-level security holding every
-- read to the tenant's own rows. Released migrations (0001-0005) are never edited. PostgreSQL 15 or
-- later (security_invoker views).
--
-- Who is who:
--   billing_tenant   NOLOGIN; holds every grant tenants have (SELECT, EXECUTE of invoker functions).
--   tenant_<name>    NOLOGIN, one per tenant the registry ever listed, a member of billing_tenant; made
--                    and kept by sync_tenant_roles() (the registry Job calls it on every sync).
--   statements       LOGIN (IAM database authentication on RDS): the statement Job's role. It has no
--                    grant of its own; it may SET ROLE to the role of a tenant that is active or
--                    suspended, and reads each tenant's statement as that tenant. A decommissioned or
--                    removed tenant's role stays (its rows are history) but nobody may act as it.
-- A row is a tenant's when billing_current_tenant() (the tenant of current_user) is its tenant_id.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'billing_tenant') THEN
        CREATE ROLE billing_tenant NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'statements') THEN
        CREATE ROLE statements LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO statements;
    END IF;
    -- A session's temporary tables are writes too: no role of this database needs them.
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END;
$$;

-- Functions this and later migrations make are executable by the roles they are granted to, not by
-- everyone (PostgreSQL's default). The ones before stay as they were, except those below.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION issue_invoice(text, date, timestamptz), add_invoice_adjustment(text, date, numeric, text, text, text), lock_tenant_month(text, date), price_on(text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION issue_invoice(text, date, timestamptz), add_invoice_adjustment(text, date, numeric, text, text, text), lock_tenant_month(text, date) TO invoicing;

-- The tenant whose role is current_user: tenant_<name> roles that are members of billing_tenant.
-- Tenant names are DNS labels (no underscore), so the name after the prefix is the tenant's.
CREATE FUNCTION billing_current_tenant() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT substr(current_user, length('tenant_') + 1)
    WHERE current_user LIKE 'tenant\_%' AND pg_has_role(current_user, 'billing_tenant', 'MEMBER')
$$;
GRANT EXECUTE ON FUNCTION billing_current_tenant() TO billing_tenant;

-- Row-level security on every table with tenants' rows. The billing jobs keep every row they had
-- (their grants still decide what they may do); a tenant's role reads its own rows; any other role,
-- now or later, reads none until a policy says otherwise. The tables' owner (the migrator) is exempt.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE contracts ENABLE ROW LEVEL SECURITY;
ALTER TABLE commitments ENABLE ROW LEVEL SECURITY;
ALTER TABLE gpu_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE model_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_adjustments ENABLE ROW LEVEL SECURITY;

CREATE POLICY billing_jobs ON tenants TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON tenant_states TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON contracts TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON commitments TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON gpu_usage TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON model_usage TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON invoices TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON invoice_lines TO registry, metering, invoicing USING (true) WITH CHECK (true);
CREATE POLICY billing_jobs ON invoice_adjustments TO registry, metering, invoicing USING (true) WITH CHECK (true);

CREATE POLICY own_rows ON tenants FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON tenant_states FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON contracts FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON commitments FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON gpu_usage FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON model_usage FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON invoices FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
-- A line is the tenant's when its invoice is (the invoice's own policy applies inside the subquery too).
CREATE POLICY own_rows ON invoice_lines FOR SELECT TO billing_tenant USING (invoice_id IN (SELECT i.invoice_id FROM invoices i WHERE i.tenant_id = billing_current_tenant()));
CREATE POLICY own_rows ON invoice_adjustments FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());

-- Metering writes usage with INSERT ... ON CONFLICT DO NOTHING (a replayed window is no second charge),
-- which PostgreSQL allows only to a role that may read the conflict target's columns: without these,
-- the metering role's every write is refused (0003 and 0005 granted INSERT alone).
GRANT SELECT (tenant_id, pool, track, window_start, window_end) ON gpu_usage TO metering;
GRANT SELECT (tenant_id, model, track, window_start, window_end) ON model_usage TO metering;

-- Usage as invoices price it, with the rights (and row-level security) of whoever reads it: invoicing
-- reads every tenant's, a tenant its own.
ALTER VIEW billable_usage SET (security_invoker = true);

-- The charge lines of a tenant's usage between two instants, priced at the price in force at the start
-- of each window and discounted by the contract in force then, the amount rounded to cents once from
-- the exact quantity: what issue_invoice bills for a month, and what a statement shows of a month not
-- invoiced yet. Unit price NULL: usage with no price in force (issue_invoice refuses to bill it).
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
           -- One rounding, of the exact amount: quantity x price x (100 - discount) / 100.
           round(sum(p.raw_quantity) * p.unit_price * (100 - p.discount_percent) / (un.per_unit * 100), 2)
    FROM priced p JOIN billing_units un ON un.track = p.track AND un.unit = p.unit
    GROUP BY p.track, p.subject, p.item, p.unit, un.label, un.per_unit, p.unit_price, p.currency, p.discount_percent
    ORDER BY p.track, p.subject, p.unit, p.unit_price, p.discount_percent
$$;
GRANT EXECUTE ON FUNCTION charge_lines(text, timestamptz, timestamptz) TO invoicing, billing_tenant;

-- issue_invoice as 0004 made it, its lines from charge_lines (the same query, now shared with statements).
CREATE OR REPLACE FUNCTION issue_invoice(p_tenant text, p_period date, p_at timestamptz DEFAULT now()) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_invoice bigint;
    v_end timestamptz;
    v_start timestamptz;
    v_first_sync timestamptz;
    v_need_from timestamptz;
    v_covered numeric;
    v_gap timestamptz;
    v_currency char(3);
    v_unpriced text;
    v_total numeric;
    v_reference text;
    v_lines jsonb;
BEGIN
    IF extract(day FROM p_period) <> 1 THEN
        RAISE EXCEPTION 'invoice period must start on the first of a month, got %', p_period USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM tenants WHERE tenant_id = p_tenant) THEN
        RAISE EXCEPTION 'unknown tenant %: the registry has never listed it', p_tenant USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM lock_tenant_month(p_tenant, p_period);
    SELECT invoice_id INTO v_invoice FROM invoices WHERE tenant_id = p_tenant AND period_start = p_period;
    IF FOUND THEN
        RETURN v_invoice;
    END IF;
    v_start := p_period::timestamp AT TIME ZONE 'UTC';
    v_end := (p_period + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    IF p_at < v_end THEN
        RAISE EXCEPTION '% has not ended (it ends at %): its invoice is issued once it has', to_char(p_period, 'YYYY-MM'), v_end USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT min(at) INTO v_first_sync FROM registry_syncs;
    SELECT currency INTO v_currency FROM billing_settings;
    IF v_first_sync IS NULL OR v_currency IS NULL THEN
        RAISE EXCEPTION 'the registry has never been synced: nothing is priced' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- Every instant of the month since billing began lies in a metered window (they never overlap).
    v_need_from := greatest(v_start, v_first_sync);
    IF v_need_from < v_end THEN
        SELECT coalesce(sum(extract(epoch FROM least(window_end, v_end) - greatest(window_start, v_need_from))), 0) INTO v_covered
        FROM metered_windows WHERE window_end > v_need_from AND window_start < v_end;
        IF v_covered < extract(epoch FROM v_end - v_need_from) THEN
            SELECT min(g) INTO v_gap FROM (SELECT v_need_from AS g UNION SELECT window_end FROM metered_windows WHERE window_end >= v_need_from AND window_end < v_end) c
            WHERE NOT EXISTS (SELECT FROM metered_windows w WHERE w.window_start <= c.g AND w.window_end > c.g);
            RAISE EXCEPTION 'metering of % is incomplete: % of % hours since % are metered, the first gap at %: meter the missing windows first (cli.js meter --at ... --windows N)',
                to_char(p_period, 'YYYY-MM'), round(v_covered / 3600, 2), round(extract(epoch FROM v_end - v_need_from) / 3600, 2), v_need_from, v_gap USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;

    -- The charge lines, priced and discounted, before anything is written.
    SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.track, l.subject, l.unit, l.unit_price, l.discount_percent), '[]'::jsonb) INTO v_lines FROM charge_lines(p_tenant, v_start, v_end) l;

    SELECT string_agg(DISTINCT format('%s %s (%s) per %s', l.track, l.subject, l.item, l.label), ', ') INTO v_unpriced
    FROM jsonb_to_recordset(v_lines) AS l(track text, subject text, item text, label text, unit_price numeric) WHERE l.unit_price IS NULL;
    IF v_unpriced IS NOT NULL THEN
        RAISE EXCEPTION 'usage of % in % has no price in force: %', p_tenant, to_char(p_period, 'YYYY-MM'), v_unpriced USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT string_agg(DISTINCT l.currency, ', ') INTO v_unpriced FROM jsonb_to_recordset(v_lines) AS l(currency text) WHERE l.currency <> v_currency;
    IF v_unpriced IS NOT NULL THEN
        RAISE EXCEPTION 'usage of % in % is priced in % but the region bills in %', p_tenant, to_char(p_period, 'YYYY-MM'), v_unpriced, v_currency USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    SELECT coalesce((SELECT sum(l.amount) FROM jsonb_to_recordset(v_lines) AS l(amount numeric)), 0)
         + coalesce((SELECT sum(amount) FROM invoice_adjustments WHERE tenant_id = p_tenant AND period_start = p_period), 0) INTO v_total;
    IF v_total < 0 THEN
        RAISE EXCEPTION 'the adjustments of % for % bring its invoice to %: an invoice never goes below zero (record an adjustment that offsets the excess)', p_tenant, to_char(p_period, 'YYYY-MM'), v_total USING ERRCODE = 'check_violation';
    END IF;
    SELECT reference INTO v_reference FROM contracts WHERE tenant_id = p_tenant AND effective_from < v_end ORDER BY effective_from DESC LIMIT 1;
    INSERT INTO invoices (tenant_id, period_start, currency, total, reference, issued_at) VALUES (p_tenant, p_period, v_currency, v_total, v_reference, p_at) RETURNING invoice_id INTO v_invoice;

    INSERT INTO invoice_lines (invoice_id, line_no, kind, description, track, subject, item, quantity, unit, unit_price, discount_percent, amount)
    SELECT v_invoice, e.n, 'charge', e.l->>'description', e.l->>'track', e.l->>'subject', e.l->>'item', (e.l->>'quantity')::numeric, e.l->>'label', (e.l->>'unit_price')::numeric, (e.l->>'discount_percent')::numeric, (e.l->>'amount')::numeric
    FROM jsonb_array_elements(v_lines) WITH ORDINALITY AS e(l, n);
    INSERT INTO invoice_lines (invoice_id, line_no, kind, description, quantity, unit, unit_price, amount, adjustment_id)
    SELECT v_invoice, jsonb_array_length(v_lines) + row_number() OVER (ORDER BY a.adjustment_id), 'adjustment', format('%s (%s %s)', a.reason, a.source, a.reference), 1, 'adjustment', a.amount, a.amount, a.adjustment_id
    FROM invoice_adjustments a WHERE a.tenant_id = p_tenant AND a.period_start = p_period;
    RETURN v_invoice;
END;
$$;
-- CREATE OR REPLACE keeps the function's grants: invoicing's above, none to PUBLIC.

-- The tenant's views: its usage, what it bought, its invoices and adjustments, with the rights and
-- row-level security of the tenant reading them.
CREATE SCHEMA tenant_billing;

CREATE VIEW tenant_billing.account WITH (security_invoker = true) AS
    SELECT t.tenant_id, t.state, s.currency
    FROM tenants t CROSS JOIN billing_settings s;

CREATE VIEW tenant_billing.states WITH (security_invoker = true) AS
    SELECT tenant_id, state, effective_from,
           lead(effective_from) OVER (PARTITION BY tenant_id ORDER BY effective_from) AS effective_to
    FROM tenant_states;

CREATE VIEW tenant_billing.contracts WITH (security_invoker = true) AS
    SELECT tenant_id, effective_from, lead(effective_from) OVER (PARTITION BY tenant_id ORDER BY effective_from) AS effective_to,
           starts_on, discount_percent, reference
    FROM contracts;

-- What the tenant bought, each change a row in force until the next of the same track and subject.
CREATE VIEW tenant_billing.commitments WITH (security_invoker = true) AS
    SELECT c.tenant_id, c.track, t.description AS track_description, c.subject, c.gpu_model, c.quantity, c.effective_from,
           lead(c.effective_from) OVER (PARTITION BY c.tenant_id, c.track, c.subject ORDER BY c.effective_from) AS effective_to
    FROM commitments c JOIN billing_tracks t ON t.track = c.track;

-- GPU time by hour as metered, on every track: reserved and dedicated (what was held), reserved_use
-- (used within it), spot (borrowed beyond it), unsold (beyond what was bought, never billed).
CREATE VIEW tenant_billing.gpu_usage WITH (security_invoker = true) AS
    SELECT u.tenant_id, u.pool, u.gpu_model, u.track, t.priced, u.window_start, u.window_end, u.gpu_seconds, u.gpu_seconds / 3600 AS gpu_hours
    FROM gpu_usage u JOIN billing_tracks t ON t.track = u.track;

CREATE VIEW tenant_billing.model_usage WITH (security_invoker = true) AS
    SELECT tenant_id, model, track, window_start, window_end, requests, input_tokens, cached_input_tokens, output_tokens
    FROM model_usage;

-- Usage by calendar month (UTC), for statements.
CREATE VIEW tenant_billing.gpu_usage_monthly WITH (security_invoker = true) AS
    SELECT u.tenant_id, (date_trunc('month', u.window_start AT TIME ZONE 'UTC'))::date AS month, u.pool, u.gpu_model, u.track, t.priced,
           sum(u.gpu_seconds) / 3600 AS gpu_hours
    FROM gpu_usage u JOIN billing_tracks t ON t.track = u.track
    GROUP BY 1, 2, 3, 4, 5, 6;

CREATE VIEW tenant_billing.model_usage_monthly WITH (security_invoker = true) AS
    SELECT tenant_id, (date_trunc('month', window_start AT TIME ZONE 'UTC'))::date AS month, model, track,
           sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens, sum(output_tokens) AS output_tokens
    FROM model_usage
    GROUP BY 1, 2, 3, 4;

CREATE VIEW tenant_billing.invoices WITH (security_invoker = true) AS
    SELECT invoice_id, tenant_id, period_start AS month, currency, total, reference, issued_at
    FROM invoices;

CREATE VIEW tenant_billing.invoice_lines WITH (security_invoker = true) AS
    SELECT l.invoice_id, i.tenant_id, i.period_start AS month, l.line_no, l.kind, l.description, l.track, l.subject, l.item, l.quantity, l.unit, l.unit_price, l.discount_percent, l.amount, l.adjustment_id
    FROM invoice_lines l JOIN invoices i ON i.invoice_id = l.invoice_id;

CREATE VIEW tenant_billing.adjustments WITH (security_invoker = true) AS
    SELECT adjustment_id, tenant_id, period_start AS month, amount, currency, reason, source, reference, created_at
    FROM invoice_adjustments;

-- How far metering has got (no tenant's data: the windows every tenant's usage is written in).
CREATE VIEW tenant_billing.metered_windows WITH (security_invoker = true) AS
    SELECT window_start, window_end FROM metered_windows;

-- Tenants read; nothing else. Base tables are granted because the views read them with the reader's
-- rights: row-level security keeps each tenant to its own rows there too.
GRANT USAGE ON SCHEMA tenant_billing TO billing_tenant;
GRANT SELECT ON ALL TABLES IN SCHEMA tenant_billing TO billing_tenant;
GRANT SELECT ON tenants, tenant_states, contracts, commitments, gpu_usage, model_usage, invoices, invoice_lines, invoice_adjustments, billable_usage TO billing_tenant;
-- Not tenants' rows: the catalogue (tracks, units, the price list), the currency and the metered windows.
GRANT SELECT ON billing_tracks, billing_units, prices, billing_settings, metered_windows TO billing_tenant;

-- Makes and keeps a role per tenant the registry lists: tenant_<name>, NOLOGIN, a member of
-- billing_tenant; the statements role may act as it (SET ROLE) while the tenant is active or
-- suspended, and no longer once it is decommissioned or removed. Roles are never dropped: a tenant's
-- rows stay, and so does the role they are read as. Returns what it changed. It runs with its
-- owner's rights (the migrator: roles are made by a role that may make them), so it is executable by
-- the registry Job's role only, and names roles only from the tenants table.
CREATE FUNCTION sync_tenant_roles() RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    t record;
    v_role text;
    v_may_read boolean;
    v_granted boolean;
BEGIN
    FOR t IN SELECT tenant_id, state FROM public.tenants ORDER BY tenant_id LOOP
        v_role := 'tenant_' || t.tenant_id;
        IF length(v_role) > 63 THEN
            RAISE EXCEPTION 'tenant %: its database role % would be longer than 63 bytes', t.tenant_id, v_role USING ERRCODE = 'name_too_long';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = v_role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
            RETURN NEXT format('%s created', v_role);
        ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = v_role AND rolcanlogin) THEN
            EXECUTE format('ALTER ROLE %I NOLOGIN', v_role);
            RETURN NEXT format('%s may no longer log in', v_role);
        END IF;
        IF NOT EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = 'billing_tenant' AND r.rolname = v_role) THEN
            EXECUTE format('GRANT billing_tenant TO %I', v_role);
        END IF;
        v_may_read := t.state IN ('active', 'suspended');
        v_granted := EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = v_role AND r.rolname = 'statements');
        IF v_may_read AND NOT v_granted THEN
            EXECUTE format('GRANT %I TO statements', v_role);
            RETURN NEXT format('%s readable by statements (%s)', v_role, t.state);
        ELSIF v_granted AND NOT v_may_read THEN
            EXECUTE format('REVOKE %I FROM statements', v_role);
            RETURN NEXT format('%s no longer readable (%s): its rows stay', v_role, t.state);
        END IF;
    END LOOP;
END;
$$;
REVOKE EXECUTE ON FUNCTION sync_tenant_roles() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sync_tenant_roles() TO registry;

-- Tenants already listed get their roles now; later syncs keep them.
SELECT sync_tenant_roles();
