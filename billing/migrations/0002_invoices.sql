-- Invoices: one per tenant and month, with their lines, computed from usage and the price list.

CREATE TABLE invoices (
    invoice_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (tenant_id),
    period_start date NOT NULL CHECK (extract(day FROM period_start) = 1),
    currency     char(3) NOT NULL DEFAULT 'USD',
    total        numeric(16, 4) NOT NULL CHECK (total >= 0),
    issued_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, period_start)
);

CREATE TABLE invoice_lines (
    invoice_id  bigint NOT NULL REFERENCES invoices (invoice_id) ON DELETE CASCADE,
    description text NOT NULL,
    quantity    numeric(20, 6) NOT NULL CHECK (quantity >= 0),
    unit        text NOT NULL,
    unit_price  numeric(14, 6) NOT NULL CHECK (unit_price >= 0),
    amount      numeric(16, 4) NOT NULL CHECK (amount >= 0)
);

-- The price in force for a GPU model and track on a day.
CREATE FUNCTION price_on(p_gpu_model text, p_track text, p_day date) RETURNS price_list LANGUAGE sql STABLE AS $$
    SELECT * FROM price_list
    WHERE gpu_model = p_gpu_model AND track = p_track AND effective_from <= p_day
    ORDER BY effective_from DESC LIMIT 1
$$;

-- Issues (or returns the existing) invoice of a tenant for the month starting p_period.
-- GPU usage is charged per GPU-hour at the price in force at the start of each window; hosted usage
-- per 1,000 input and output tokens. Amounts are rounded to cents per line.
CREATE FUNCTION issue_invoice(p_tenant text, p_period date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_invoice bigint;
    v_end date := (p_period + interval '1 month')::date;
BEGIN
    IF extract(day FROM p_period) <> 1 THEN
        RAISE EXCEPTION 'invoice period must start on the first of a month, got %', p_period;
    END IF;
    SELECT invoice_id INTO v_invoice FROM invoices WHERE tenant_id = p_tenant AND period_start = p_period;
    IF FOUND THEN
        RETURN v_invoice;
    END IF;
    INSERT INTO invoices (tenant_id, period_start, total) VALUES (p_tenant, p_period, 0) RETURNING invoice_id INTO v_invoice;

    INSERT INTO invoice_lines (invoice_id, description, quantity, unit, unit_price, amount)
    SELECT v_invoice, format('%s GPUs (%s) on pool %s', g.gpu_model, g.track, g.pool), hours, 'GPU-hour', price, round(hours * price, 2)
    FROM (
        SELECT u.gpu_model, u.track, u.pool, (price_on(u.gpu_model, u.track, u.window_start::date)).per_gpu_hour AS price, sum(u.gpu_seconds) / 3600 AS hours
        FROM gpu_usage u
        WHERE u.tenant_id = p_tenant AND u.window_start >= p_period AND u.window_start < v_end
        GROUP BY 1, 2, 3, 4
    ) g
    WHERE g.price IS NOT NULL;

    INSERT INTO invoice_lines (invoice_id, description, quantity, unit, unit_price, amount)
    SELECT v_invoice, format('%s %s tokens', m.model, m.kind), m.tokens / 1000.0, '1k tokens', m.price, round(m.tokens / 1000.0 * m.price, 2)
    FROM (
        SELECT u.model, 'input' AS kind, (price_on(h.gpu_model, 'hosted', u.window_start::date)).per_1k_input_tokens AS price, sum(u.input_tokens) AS tokens
        FROM model_usage u JOIN hosted_models h USING (model)
        WHERE u.tenant_id = p_tenant AND u.window_start >= p_period AND u.window_start < v_end
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT u.model, 'output', (price_on(h.gpu_model, 'hosted', u.window_start::date)).per_1k_output_tokens, sum(u.output_tokens)
        FROM model_usage u JOIN hosted_models h USING (model)
        WHERE u.tenant_id = p_tenant AND u.window_start >= p_period AND u.window_start < v_end
        GROUP BY 1, 2, 3
    ) m
    WHERE m.price IS NOT NULL;

    UPDATE invoices SET total = coalesce((SELECT sum(amount) FROM invoice_lines WHERE invoice_id = v_invoice), 0) WHERE invoice_id = v_invoice;
    RETURN v_invoice;
END;
$$;
