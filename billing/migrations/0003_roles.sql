-- The metering job's own role: it may add usage and read tenants, nothing else. On RDS it logs in
-- with IAM database authentication (rds_iam); elsewhere (tests) the grant is skipped.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'metering') THEN
        CREATE ROLE metering LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO metering;
    END IF;
END;
$$;
GRANT SELECT ON tenants, hosted_models TO metering;
GRANT INSERT ON gpu_usage, model_usage TO metering;
