-- Billing schema, version 1: tenants, the price list, append-only idempotent usage, invoices.
-- PostgreSQL 15 or later. Money is numeric (exact), never float.

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
    display_name text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Prices per GPU model and track: 'raw' is per GPU-hour, 'hosted' is per 1,000 tokens (input and output).
CREATE TABLE price_list (
    gpu_model          text NOT NULL,
    track              text NOT NULL CHECK (track IN ('raw', 'spot', 'hosted')),
    currency           char(3) NOT NULL DEFAULT 'USD',
    per_gpu_hour       numeric(14, 6) CHECK (per_gpu_hour >= 0),
    per_1k_input_tokens  numeric(14, 6) CHECK (per_1k_input_tokens >= 0),
    per_1k_output_tokens numeric(14, 6) CHECK (per_1k_output_tokens >= 0),
    effective_from     date NOT NULL,
    PRIMARY KEY (gpu_model, track, effective_from),
    CHECK ((track IN ('raw', 'spot') AND per_gpu_hour IS NOT NULL) OR (track = 'hosted' AND per_1k_input_tokens IS NOT NULL AND per_1k_output_tokens IS NOT NULL))
);

-- Hosted models and the GPU model that serves them (for hosted prices).
CREATE TABLE hosted_models (
    model     text PRIMARY KEY,
    gpu_model text NOT NULL
);

CREATE TABLE gpu_usage (
    tenant_id    text NOT NULL REFERENCES tenants (tenant_id),
    pool         text NOT NULL,
    gpu_model    text NOT NULL,
    track        text NOT NULL DEFAULT 'raw' CHECK (track IN ('raw', 'spot')),
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    gpu_seconds  numeric(20, 3) NOT NULL CHECK (gpu_seconds >= 0),
    source       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start),
    -- Idempotent: a replayed window is the same row, never a second charge.
    PRIMARY KEY (tenant_id, pool, track, window_start, window_end)
);

CREATE TABLE model_usage (
    tenant_id     text NOT NULL REFERENCES tenants (tenant_id),
    model         text NOT NULL REFERENCES hosted_models (model),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    requests      bigint NOT NULL CHECK (requests >= 0),
    input_tokens  bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
    source        text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start),
    PRIMARY KEY (tenant_id, model, window_start, window_end)
);

-- Usage is append-only: corrections are new records of another source, never edits.
CREATE FUNCTION reject_usage_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'usage records are append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER gpu_usage_append_only BEFORE UPDATE OR DELETE ON gpu_usage FOR EACH ROW EXECUTE FUNCTION reject_usage_change();
CREATE TRIGGER model_usage_append_only BEFORE UPDATE OR DELETE ON model_usage FOR EACH ROW EXECUTE FUNCTION reject_usage_change();

CREATE INDEX gpu_usage_by_tenant_window ON gpu_usage (tenant_id, window_start);
CREATE INDEX model_usage_by_tenant_window ON model_usage (tenant_id, window_start);
