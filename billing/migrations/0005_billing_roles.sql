-- The roles of the registry Job (applies what the stack config sells) and of invoicing (issues invoices
-- and records adjustments), and what metering now reads and writes. Each may do its job and nothing
-- more: only the registry writes prices and commitments, only metering writes usage, only invoicing
-- writes invoices. On RDS they log in with IAM database authentication (rds_iam); elsewhere (tests)
-- that grant is skipped.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'registry') THEN
        CREATE ROLE registry LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'invoicing') THEN
        CREATE ROLE invoicing LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO registry, invoicing;
    END IF;
END;
$$;
GRANT SELECT ON billing_tracks, billing_units TO registry, metering, invoicing;

GRANT SELECT, INSERT, UPDATE ON tenants, pools, hosted_models, billing_settings TO registry;
-- UPDATE and DELETE reach only prices that have not taken effect (the trigger refuses the rest).
GRANT SELECT, INSERT, UPDATE, DELETE ON prices TO registry;
GRANT SELECT, INSERT ON tenant_states, contracts, commitments, registry_syncs TO registry;

GRANT SELECT ON pools, contracts, commitments, metered_windows TO metering;
GRANT INSERT ON metered_windows TO metering;

GRANT SELECT ON tenants, prices, contracts, billing_settings, registry_syncs, metered_windows, gpu_usage, model_usage, billable_usage, invoices, invoice_lines, invoice_adjustments TO invoicing;
GRANT INSERT ON invoices, invoice_lines, invoice_adjustments TO invoicing;
