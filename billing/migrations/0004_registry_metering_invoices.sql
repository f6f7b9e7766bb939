-- Billing that earns (schema version 4): the registry the stack config keeps (tracks, pools, prices,
-- tenants' states, contracts and commitments, applied by `cli.js sync`), metering of what was sold
-- (commitments hour by hour, spot and hosted use, use beyond what was bought), and invoices with a
-- line per track, pool or model and unit price, and append-only adjustments. Released migrations
-- (0001-0003) are never edited: this one changes what they made. PostgreSQL 15 or later.

-- Rows that are history: never changed, never removed.
CREATE FUNCTION reject_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are history: append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Tracks and their units are data: a new way of selling is rows here (and its usage source), not new
-- code in the invoice. `priced = false`: recorded for the tenant's and the operator's views, never invoiced.
CREATE TABLE billing_tracks (
    track       text PRIMARY KEY CHECK (track ~ '^[a-z][a-z0-9_]*$'),
    priced      boolean NOT NULL,
    basis       text NOT NULL CHECK (basis IN ('commitment', 'use', 'none')),
    description text NOT NULL
);
CREATE TABLE billing_units (
    track   text NOT NULL REFERENCES billing_tracks (track),
    unit    text NOT NULL CHECK (unit ~ '^[a-z][a-z0-9_]*$'),
    label   text NOT NULL,
    -- A quantity of usage is raw_quantity / per_unit units (seconds per GPU-hour, tokens per million).
    per_unit numeric NOT NULL CHECK (per_unit > 0),
    PRIMARY KEY (track, unit)
);
INSERT INTO billing_tracks (track, priced, basis, description) VALUES
    ('reserved', true, 'commitment', 'Reserved GPUs on a shared pool: every hour they are committed, used or not'),
    ('dedicated', true, 'commitment', 'A dedicated pool''s GPUs: every hour the tenant holds the pool'),
    ('spot', true, 'use', 'GPU time of the tenant''s pods at the spot priority beyond its reserved GPUs'),
    ('hosted', true, 'use', 'Hosted-model tokens through the gateway: input (uncached), cached input and output'),
    ('reserved_use', false, 'none', 'GPU time of the tenant''s pods within its reserved and dedicated GPUs (billed through its commitments)'),
    ('unsold', false, 'none', 'GPU time beyond what the tenant bought at a priority other than spot: recorded and alerted, never billed'),
    ('raw', false, 'none', 'GPU requests of running pods as schema version 1 metered them (no track)');
INSERT INTO billing_units (track, unit, label, per_unit) VALUES
    ('reserved', 'gpu_hour', 'GPU-hour', 3600),
    ('dedicated', 'gpu_hour', 'GPU-hour', 3600),
    ('spot', 'gpu_hour', 'GPU-hour', 3600),
    ('hosted', 'input_mtok', '1M input tokens', 1000000),
    ('hosted', 'cached_input_mtok', '1M cached input tokens', 1000000),
    ('hosted', 'output_mtok', '1M output tokens', 1000000);

-- Settings the registry keeps: the region's currency (one for every price and invoice).
CREATE TABLE billing_settings (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);

-- GPU usage on any track; hosted usage with cached input tokens and a track of its own (tokens may be
-- sold on more than one track).
ALTER TABLE gpu_usage DROP CONSTRAINT gpu_usage_track_check;
ALTER TABLE gpu_usage ADD CONSTRAINT gpu_usage_track_fkey FOREIGN KEY (track) REFERENCES billing_tracks (track);
ALTER TABLE model_usage ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_input_tokens >= 0);
ALTER TABLE model_usage ADD COLUMN track text NOT NULL DEFAULT 'hosted' REFERENCES billing_tracks (track);
ALTER TABLE model_usage DROP CONSTRAINT model_usage_pkey;
ALTER TABLE model_usage ADD PRIMARY KEY (tenant_id, model, track, window_start, window_end);
ALTER TABLE hosted_models ADD COLUMN pool text;

-- The pools the registry sells, with their GPU model (what GPU prices are quoted for).
CREATE TABLE pools (
    pool       text PRIMARY KEY,
    gpu_model  text NOT NULL,
    role       text NOT NULL CHECK (role IN ('internal', 'serving', 'shared', 'dedicated')),
    gpus       integer NOT NULL CHECK (gpus >= 0),
    updated_at timestamptz NOT NULL
);

-- Prices per track, item (a GPU model or a hosted model) and unit, from an instant (00:00 UTC of the
-- configured day) until the next row of the same track, item and unit. Supersedes price_list (schema
-- version 1, priced per GPU model only and never written outside tests), which stays as it was.
CREATE TABLE prices (
    track          text NOT NULL,
    item           text NOT NULL,
    unit           text NOT NULL,
    currency       char(3) NOT NULL,
    unit_price     numeric(14, 6) NOT NULL CHECK (unit_price >= 0),
    effective_from timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (track, item, unit, effective_from),
    FOREIGN KEY (track, unit) REFERENCES billing_units (track, unit)
);
-- A price that has taken effect is history; one announced for later may still be corrected or withdrawn.
CREATE FUNCTION reject_past_price_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.effective_from <= now() THEN
        RAISE EXCEPTION 'the % price of % per % effective % has taken effect: prices are history (add a new price from a later day)', OLD.track, OLD.item, OLD.unit, OLD.effective_from USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER prices_keep_history BEFORE UPDATE OR DELETE ON prices FOR EACH ROW EXECUTE FUNCTION reject_past_price_change();

-- Tenants: which registry owns them (region, platform or shard:<name>) and their state now; the
-- state's history, contracts and commitments are append-only, each row in force from its instant.
ALTER TABLE tenants ADD COLUMN scope text;
ALTER TABLE tenants ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended', 'decommissioned', 'removed'));
CREATE TABLE tenant_states (
    tenant_id      text NOT NULL REFERENCES tenants (tenant_id),
    state          text NOT NULL CHECK (state IN ('active', 'suspended', 'decommissioned', 'removed')),
    effective_from timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, effective_from)
);
CREATE TABLE contracts (
    tenant_id        text NOT NULL REFERENCES tenants (tenant_id),
    effective_from   timestamptz NOT NULL,
    starts_on        date,
    discount_percent numeric(5, 2) NOT NULL CHECK (discount_percent >= 0 AND discount_percent <= 100),
    reference        text,
    PRIMARY KEY (tenant_id, effective_from)
);
-- What a tenant bought on a track: GPUs of a pool (reserved, dedicated, a spot allowance) or a model
-- granted (quantity 1). A change is a new row from when it takes effect; quantity 0 ends it.
CREATE TABLE commitments (
    tenant_id      text NOT NULL REFERENCES tenants (tenant_id),
    track          text NOT NULL REFERENCES billing_tracks (track),
    subject        text NOT NULL,
    gpu_model      text,
    quantity       integer NOT NULL CHECK (quantity >= 0),
    effective_from timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, track, subject, effective_from)
);
CREATE TRIGGER tenant_states_append_only BEFORE UPDATE OR DELETE ON tenant_states FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER contracts_append_only BEFORE UPDATE OR DELETE ON contracts FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER commitments_append_only BEFORE UPDATE OR DELETE ON commitments FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE INDEX commitments_by_time ON commitments (effective_from);

-- Each registry document applied that changed something, with what it changed.
CREATE TABLE registry_syncs (
    sync_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope           text NOT NULL,
    at              timestamptz NOT NULL,
    document_sha256 text NOT NULL,
    changes         jsonb NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER registry_syncs_append_only BEFORE UPDATE OR DELETE ON registry_syncs FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Windows metering has written completely. They never overlap, so no usage is counted twice by two
-- window sizes; an invoice is issued only once every window of its month since billing began is here.
CREATE TABLE metered_windows (
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    gpu_records  integer NOT NULL,
    model_records integer NOT NULL,
    metered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (window_start, window_end),
    CHECK (window_end > window_start),
    EXCLUDE USING gist (tstzrange(window_start, window_end) WITH &&)
);
CREATE TRIGGER metered_windows_append_only BEFORE UPDATE OR DELETE ON metered_windows FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Usage as invoices price it: per tenant, track, subject (pool or model), price item and unit, with
-- its raw quantity (GPU-seconds, tokens). Token tracks bill input tokens net of the cached ones (the
-- gateway's input count includes them) and cached input tokens apart. A new usage source joins here.
CREATE VIEW billable_usage AS
    SELECT u.tenant_id, u.track, u.pool AS subject, u.gpu_model AS item, 'gpu_hour'::text AS unit, u.window_start, u.gpu_seconds::numeric AS raw_quantity
    FROM gpu_usage u JOIN billing_tracks t ON t.track = u.track AND t.priced
    UNION ALL
    SELECT tenant_id, track, model, model, 'input_mtok', window_start, greatest(input_tokens - cached_input_tokens, 0)::numeric FROM model_usage
    UNION ALL
    SELECT tenant_id, track, model, model, 'cached_input_mtok', window_start, least(cached_input_tokens, input_tokens)::numeric FROM model_usage
    UNION ALL
    SELECT tenant_id, track, model, model, 'output_mtok', window_start, output_tokens::numeric FROM model_usage;

-- Invoices are issued once and never change; a line says what it charges (track, subject, item, unit
-- price, discount) or which adjustment it applies.
ALTER TABLE invoices ADD COLUMN reference text;
ALTER TABLE invoice_lines ADD COLUMN line_no integer;
ALTER TABLE invoice_lines ADD COLUMN kind text NOT NULL DEFAULT 'charge' CHECK (kind IN ('charge', 'adjustment'));
ALTER TABLE invoice_lines ADD COLUMN track text;
ALTER TABLE invoice_lines ADD COLUMN subject text;
ALTER TABLE invoice_lines ADD COLUMN item text;
ALTER TABLE invoice_lines ADD COLUMN discount_percent numeric(5, 2) NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN adjustment_id bigint;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_amount_check;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_unit_price_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_charge_check CHECK (kind = 'adjustment' OR (amount >= 0 AND unit_price >= 0));
CREATE TRIGGER invoices_append_only BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION reject_history_change();
CREATE TRIGGER invoice_lines_append_only BEFORE UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- Adjustments (credits negative, charges positive): append-only, each with its reason, who added it
-- (`source`, such as slo or operator) and that source's own key (`reference`), so a job that adds the
-- same credit twice adds it once. Applied on the invoice of their month, which must not be issued yet.
CREATE TABLE invoice_adjustments (
    adjustment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id),
    period_start  date NOT NULL CHECK (extract(day FROM period_start) = 1),
    amount        numeric(16, 2) NOT NULL CHECK (amount <> 0),
    currency      char(3) NOT NULL,
    reason        text NOT NULL CHECK (length(btrim(reason)) > 0),
    source        text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_.:-]*$'),
    reference     text NOT NULL CHECK (length(reference) > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, period_start, source, reference)
);
CREATE TRIGGER invoice_adjustments_append_only BEFORE UPDATE OR DELETE ON invoice_adjustments FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- One tenant's month at a time: an adjustment and the invoice of its month never race.
CREATE FUNCTION lock_tenant_month(p_tenant text, p_period date) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended(p_tenant || '/' || p_period::text, 7261903555));
$$;

-- Adds an adjustment to a tenant's month (negative: a credit). Idempotent on (tenant, month, source,
-- reference): the same one again returns the first; the same key with another amount or reason is an
-- error. Refused once the month's invoice is issued (it never changes).
CREATE FUNCTION add_invoice_adjustment(p_tenant text, p_period date, p_amount numeric, p_reason text, p_source text, p_reference text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_existing invoice_adjustments;
    v_issued timestamptz;
    v_currency char(3);
BEGIN
    IF NOT EXISTS (SELECT FROM tenants WHERE tenant_id = p_tenant) THEN
        RAISE EXCEPTION 'unknown tenant %: the registry has never listed it', p_tenant USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF extract(day FROM p_period) <> 1 THEN
        RAISE EXCEPTION 'an adjustment''s month starts on the first, got %', p_period USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM lock_tenant_month(p_tenant, p_period);
    SELECT * INTO v_existing FROM invoice_adjustments WHERE tenant_id = p_tenant AND period_start = p_period AND source = p_source AND reference = p_reference;
    IF FOUND THEN
        IF v_existing.amount <> round(p_amount, 2) OR v_existing.reason <> p_reason THEN
            RAISE EXCEPTION 'adjustment % of % for % from % is already recorded with amount % (%): adjustments never change (add another with its own reference)', p_reference, p_tenant, to_char(p_period, 'YYYY-MM'), p_source, v_existing.amount, v_existing.reason USING ERRCODE = 'unique_violation';
        END IF;
        RETURN v_existing.adjustment_id;
    END IF;
    SELECT issued_at INTO v_issued FROM invoices WHERE tenant_id = p_tenant AND period_start = p_period;
    IF FOUND THEN
        RAISE EXCEPTION 'the invoice of % for % was issued at %: it never changes (add the adjustment to a later month)', p_tenant, to_char(p_period, 'YYYY-MM'), v_issued USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT currency INTO v_currency FROM billing_settings;
    IF v_currency IS NULL THEN
        RAISE EXCEPTION 'the registry has never been synced: no currency' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO invoice_adjustments (tenant_id, period_start, amount, currency, reason, source, reference)
    VALUES (p_tenant, p_period, round(p_amount, 2), v_currency, p_reason, p_source, p_reference)
    RETURNING adjustment_id INTO v_id;
    RETURN v_id;
END;
$$;

-- Issues (or returns the existing) invoice of a tenant for the month starting p_period, once the month
-- has ended (at p_at) and every window of it since billing began is metered. A line per track, subject,
-- price item, unit, unit price and discount (a price or discount change inside the month splits the
-- line): usage is priced at the price in force at the start of its window and discounted by the
-- contract in force then; the amount is rounded to cents once, from the exact quantity. Adjustments of
-- the month follow. Usage with no price in force is an error naming it, never a line left out.
DROP FUNCTION issue_invoice(text, date);
CREATE FUNCTION issue_invoice(p_tenant text, p_period date, p_at timestamptz DEFAULT now()) RETURNS bigint LANGUAGE plpgsql AS $$
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
    WITH usage AS (
        SELECT b.track, b.subject, b.item, b.unit, b.window_start, b.raw_quantity
        FROM billable_usage b
        WHERE b.tenant_id = p_tenant AND b.window_start >= v_start AND b.window_start < v_end AND b.raw_quantity > 0
    ), price_periods AS (
        SELECT track, item, unit, unit_price, currency, effective_from AS p_from,
               coalesce(lead(effective_from) OVER (PARTITION BY track, item, unit ORDER BY effective_from), 'infinity') AS p_to
        FROM prices
    ), discount_periods AS (
        SELECT discount_percent, effective_from AS d_from, coalesce(lead(effective_from) OVER (ORDER BY effective_from), 'infinity') AS d_to
        FROM contracts WHERE tenant_id = p_tenant
    ), priced AS (
        SELECT u.*, p.unit_price, p.currency, coalesce(d.discount_percent, 0) AS discount_percent
        FROM usage u
        LEFT JOIN price_periods p ON p.track = u.track AND p.item = u.item AND p.unit = u.unit AND u.window_start >= p.p_from AND u.window_start < p.p_to
        LEFT JOIN discount_periods d ON u.window_start >= d.d_from AND u.window_start < d.d_to
    ), lines AS (
        SELECT p.track, p.subject, p.item, p.unit, un.label, sum(p.raw_quantity) / un.per_unit AS quantity, p.unit_price, p.currency, p.discount_percent,
               -- One rounding, of the exact amount: quantity x price x (100 - discount) / 100.
               round(sum(p.raw_quantity) * p.unit_price * (100 - p.discount_percent) / (un.per_unit * 100), 2) AS amount
        FROM priced p JOIN billing_units un ON un.track = p.track AND un.unit = p.unit
        GROUP BY p.track, p.subject, p.item, p.unit, un.label, un.per_unit, p.unit_price, p.currency, p.discount_percent
    )
    SELECT coalesce(jsonb_agg(to_jsonb(lines) ORDER BY track, subject, unit, unit_price, discount_percent), '[]'::jsonb) INTO v_lines FROM lines;

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
    SELECT v_invoice, e.n, 'charge',
           CASE WHEN e.l->>'subject' = e.l->>'item' THEN format('%s %s', e.l->>'track', e.l->>'subject') ELSE format('%s %s GPUs on %s', e.l->>'track', e.l->>'item', e.l->>'subject') END,
           e.l->>'track', e.l->>'subject', e.l->>'item', (e.l->>'quantity')::numeric, e.l->>'label', (e.l->>'unit_price')::numeric, (e.l->>'discount_percent')::numeric, (e.l->>'amount')::numeric
    FROM jsonb_array_elements(v_lines) WITH ORDINALITY AS e(l, n);
    INSERT INTO invoice_lines (invoice_id, line_no, kind, description, quantity, unit, unit_price, amount, adjustment_id)
    SELECT v_invoice, jsonb_array_length(v_lines) + row_number() OVER (ORDER BY a.adjustment_id), 'adjustment', format('%s (%s %s)', a.reason, a.source, a.reference), 1, 'adjustment', a.amount, a.amount, a.adjustment_id
    FROM invoice_adjustments a WHERE a.tenant_id = p_tenant AND a.period_start = p_period;
    RETURN v_invoice;
END;
$$;
