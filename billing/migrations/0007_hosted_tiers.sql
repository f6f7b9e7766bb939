-- The hosted-model tiers (schema version 7): dedicated endpoints billed per replica-hour, batch
-- inference on its own price track (input and output tokens of the batches that complete), and the
-- tokens through a dedicated endpoint recorded but never invoiced (its replica-hours pay for them).
-- Released migrations are never edited: this one adds tracks, units, a usage table and restates the
-- billable view.

INSERT INTO billing_tracks (track, priced, basis, description) VALUES
    ('dedicated_endpoint', true, 'commitment', 'A tenant''s dedicated endpoint of a model: each replica it bought, every hour it is held, used or not'),
    ('batch', true, 'use', 'Batch inference: the input and output tokens of the batches that complete, on idle serving GPUs'),
    ('dedicated_endpoint_use', false, 'none', 'Tokens through a tenant''s dedicated endpoint (billed through its replica-hours)');
INSERT INTO billing_units (track, unit, label, per_unit) VALUES
    ('dedicated_endpoint', 'replica_hour', 'replica-hour', 3600),
    ('batch', 'input_mtok', '1M input tokens', 1000000),
    ('batch', 'output_mtok', '1M output tokens', 1000000);

-- Replica-seconds of a tenant's dedicated endpoints of a model in a window, as metering bills its
-- commitments: every second the replicas were held, used or not. Idempotent per window, append-only.
CREATE TABLE endpoint_usage (
    tenant_id       text NOT NULL REFERENCES tenants (tenant_id),
    model           text NOT NULL REFERENCES hosted_models (model),
    track           text NOT NULL REFERENCES billing_tracks (track),
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    replica_seconds numeric NOT NULL CHECK (replica_seconds >= 0),
    source          text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end > window_start),
    PRIMARY KEY (tenant_id, model, track, window_start, window_end)
);
CREATE TRIGGER endpoint_usage_append_only BEFORE UPDATE OR DELETE ON endpoint_usage FOR EACH ROW EXECUTE FUNCTION reject_usage_change();
CREATE INDEX endpoint_usage_by_tenant_window ON endpoint_usage (tenant_id, window_start);

-- What invoices price: only priced tracks, of GPU time, tokens (hosted and batch; a token row of an
-- unpriced track, such as a dedicated endpoint's tokens, is recorded and never invoiced) and replica
-- time. The same columns as version 4's view, so what reads it is unchanged.
CREATE OR REPLACE VIEW billable_usage AS
    SELECT u.tenant_id, u.track, u.pool AS subject, u.gpu_model AS item, 'gpu_hour'::text AS unit, u.window_start, u.gpu_seconds::numeric AS raw_quantity
    FROM gpu_usage u JOIN billing_tracks t ON t.track = u.track AND t.priced
    UNION ALL
    SELECT m.tenant_id, m.track, m.model, m.model, 'input_mtok', m.window_start, greatest(m.input_tokens - m.cached_input_tokens, 0)::numeric
    FROM model_usage m JOIN billing_tracks t ON t.track = m.track AND t.priced
    UNION ALL
    SELECT m.tenant_id, m.track, m.model, m.model, 'cached_input_mtok', m.window_start, least(m.cached_input_tokens, m.input_tokens)::numeric
    FROM model_usage m JOIN billing_tracks t ON t.track = m.track AND t.priced
    UNION ALL
    SELECT m.tenant_id, m.track, m.model, m.model, 'output_mtok', m.window_start, m.output_tokens::numeric
    FROM model_usage m JOIN billing_tracks t ON t.track = m.track AND t.priced
    UNION ALL
    SELECT e.tenant_id, e.track, e.model, e.model, 'replica_hour', e.window_start, e.replica_seconds
    FROM endpoint_usage e JOIN billing_tracks t ON t.track = e.track AND t.priced;

GRANT INSERT ON endpoint_usage TO metering;
GRANT SELECT ON endpoint_usage TO invoicing;
