import { resourcesOfType, stackPolicy } from "../engine/policy";
import { NAMESPACES, TENANT_NAMESPACE_PREFIX } from "../model/domain/conventions";
import { readSqlFacts, tenantGrantFindings } from "../model/analyses/sql-grants";
import { TENANT_BILLING_DB, USAGE_STATEMENTS } from "../model/domain/tenant-billing";
import { K8S_TYPES, MONITORING_TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const SECURITY_GROUP_POLICY = "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy";
/** The billing image's commands that read tenants' statements. */
const STATEMENT_COMMANDS = ["publish-statements", "statement"];

/** The SQL of the migrations ConfigMap in file order. */
function migrationsOf(data: unknown): { file: string; sql: string }[] {
    if (!data || typeof data !== "object") return [];
    return Object.entries(data as Record<string, unknown>)
        .filter(([file, sql]) => file.endsWith(".sql") && typeof sql === "string")
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([file, sql]) => ({ file, sql: sql as string }));
}

/** Every pod template of a Job or CronJob. */
const podSpecOf = (r: { type: string; props: Record<string, any> }) => (r.type === K8S_TYPES.cronJob ? r.props.spec?.jobTemplate?.spec?.template?.spec : r.props.spec?.template?.spec);

const migrationsMap = (sql: Record<string, string>) => sample(MONITORING_TYPES.configMap, "migrations", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "billing-migrations", namespace: "billing" }, data: sql });

/** A schema as the billing migrations make it: a tenant table under row-level security, an invoker view, a definer function for the registry only. */
const GOOD_SCHEMA = `CREATE TABLE tenants (tenant_id text PRIMARY KEY);
CREATE TABLE gpu_usage (tenant_id text NOT NULL REFERENCES tenants (tenant_id), gpu_seconds numeric NOT NULL);
CREATE TABLE invoices (invoice_id bigint PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (tenant_id));
CREATE TABLE invoice_lines (invoice_id bigint NOT NULL REFERENCES invoices (invoice_id), amount numeric NOT NULL);
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE FUNCTION billing_current_tenant() RETURNS text LANGUAGE sql STABLE AS $$ SELECT substr(current_user, 8) $$;
GRANT EXECUTE ON FUNCTION billing_current_tenant() TO billing_tenant;
ALTER TABLE gpu_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY billing_jobs ON gpu_usage TO metering USING (true) WITH CHECK (true);
CREATE POLICY own_rows ON gpu_usage FOR SELECT TO billing_tenant USING (tenant_id = billing_current_tenant());
CREATE POLICY own_rows ON invoice_lines FOR SELECT TO billing_tenant USING (invoice_id IN (SELECT i.invoice_id FROM invoices i WHERE i.tenant_id = billing_current_tenant()));
CREATE SCHEMA tenant_billing;
CREATE VIEW tenant_billing.gpu_usage WITH (security_invoker = true) AS SELECT tenant_id, gpu_seconds / 3600 AS gpu_hours FROM gpu_usage;
GRANT USAGE ON SCHEMA tenant_billing TO billing_tenant;
GRANT SELECT ON ALL TABLES IN SCHEMA tenant_billing TO billing_tenant;
GRANT SELECT ON gpu_usage, invoice_lines TO billing_tenant;
CREATE FUNCTION sync_tenant_roles() RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE format('GRANT billing_tenant TO %I', 'tenant_acme'); END; $$;
GRANT EXECUTE ON FUNCTION sync_tenant_roles() TO registry;
`;
const withSql = (extra: string) => [migrationsMap({ "0001_schema.sql": GOOD_SCHEMA, "0002_change.sql": extra })];

const statementsJob = (user: string, command = "publish-statements") =>
    sample(K8S_TYPES.cronJob, "statements", {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: USAGE_STATEMENTS.cronJob, namespace: NAMESPACES.billing },
        spec: {
            schedule: USAGE_STATEMENTS.schedule,
            jobTemplate: { spec: { template: { spec: { serviceAccountName: USAGE_STATEMENTS.serviceAccount, containers: [{ name: "billing", command: ["node", "bin/billing/cli.js", command], env: [{ name: "PGUSER", value: user }, { name: "PGIAMAUTH", value: "true" }] }] } } } },
        },
    });

export const tenantBillingRowsScoped = stackPolicy({
    name: "tenant-billing-rows-scoped",
    description:
        "Tenants read their billing rows only as their own database role, held to them by row-level security: the billing migrations grant tenants' roles no write, no role membership, no table of tenants' rows without a row-level security policy holding them to tenant_id = billing_current_tenant(), no view that reads such rows with its owner's rights, and no function that runs with its owner's rights; the statement Job reads as the statements role; no tenant namespace gets security groups for pods.",
    rationale:
        "The billing database holds every customer's usage, commitments, discounts and invoices. A tenant's statement is read as the tenant's role " +
        "so that the database, not the statement code, decides which rows it holds: a grant that writes, a table without row-level security, a " +
        "policy that is not the tenant's own rows, a view or function running with its owner's rights (which row-level security exempts) would put " +
        "another customer's figures into a statement. A statement Job reading as a role that sees every row (invoicing) would do the same from " +
        "a bug in a query. Security groups for pods are the only way to the database's security group; a tenant namespace with one has a " +
        "path to the database beside its NetworkPolicies.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Grant tenants' roles (billing_tenant) SELECT only, on tables with row-level security and a policy USING (tenant_id = billing_current_tenant()), " +
        "on views WITH (security_invoker = true), and EXECUTE only on invoker functions; revoke EXECUTE on SECURITY DEFINER functions from PUBLIC. " +
        "Run the statement Job as PGUSER=statements. Never select tenant namespaces in a SecurityGroupPolicy.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-2", title: "Block access to other tenant resources" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-3", title: "Access Enforcement" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-6", title: "Least Privilege" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access security" },
    ],
    validateStack: (args, report) => {
        for (const map of resourcesOfType(args, MONITORING_TYPES.configMap).filter((r) => r.props.metadata?.namespace === NAMESPACES.billing && r.props.metadata?.name === "billing-migrations")) {
            for (const finding of tenantGrantFindings(readSqlFacts(migrationsOf(map.props.data)))) report(`the billing migrations: ${finding}`, map.urn);
        }
        for (const job of [...resourcesOfType(args, K8S_TYPES.cronJob), ...resourcesOfType(args, K8S_TYPES.job)]) {
            const spec = podSpecOf(job as any);
            for (const c of [spec?.containers ?? []].flat() as any[]) {
                const command: string[] = [...[c?.command ?? []].flat(), ...[c?.args ?? []].flat()].map(String);
                const reads = STATEMENT_COMMANDS.find((cmd) => command.includes(cmd));
                if (!reads) continue;
                const user = [c?.env ?? []].flat().find((e: any) => e?.name === "PGUSER")?.value;
                if (user !== TENANT_BILLING_DB.statementsRole) {
                    report(`${job.props.kind ?? "Job"} ${job.props.metadata?.namespace}/${job.props.metadata?.name} runs ${reads} as database user ${user ?? "(none set)"}, not ${TENANT_BILLING_DB.statementsRole}: tenants' statements are read by a role that holds no rows of its own and acts as each tenant's role.`, job.urn);
                }
            }
        }
        for (const sgp of resourcesOfType(args, SECURITY_GROUP_POLICY)) {
            const ns = String(sgp.props.metadata?.namespace ?? "");
            if (ns.startsWith(TENANT_NAMESPACE_PREFIX)) report(`SecurityGroupPolicy ${ns}/${sgp.props.metadata?.name} gives pods of tenant namespace ${ns} security groups: the billing database admits pods by security group, so tenants' pods must never have one.`, sgp.urn);
        }
    },
    samples: {
        allowed: [
            { description: "Tenants read their rows under row-level security, through an invoker view; the role-making function is the registry's only; the statement Job reads as statements.", resources: [...withSql(""), statementsJob("statements")] },
            { description: "The billing jobs' own grants and policies are theirs to have.", resources: withSql("GRANT INSERT ON gpu_usage TO metering;\nGRANT SELECT ON invoices TO invoicing;") },
        ],
        disallowed: [
            { description: "Tenants may write usage.", expect: "grants INSERT on gpu_usage to billing_tenant: tenants' roles read, they never write", resources: withSql("GRANT INSERT ON gpu_usage TO billing_tenant;") },
            { description: "A tenant's role made a member of a billing job's role.", expect: "makes tenant_acme a member of invoicing", resources: withSql("GRANT invoicing TO tenant_acme;") },
            { description: "Invoices readable by tenants without row-level security.", expect: "lets billing_tenant read invoices, which holds every tenant's rows and has no row-level security", resources: withSql("GRANT SELECT ON invoices TO billing_tenant;") },
            { description: "Row-level security turned off where tenants read.", expect: "lets billing_tenant read gpu_usage, which holds every tenant's rows and has no row-level security", resources: withSql("ALTER TABLE gpu_usage DISABLE ROW LEVEL SECURITY;") },
            { description: "A row-level security policy for tenants that is not their own rows.", expect: "row-level security policy everything on gpu_usage applies to PUBLIC with USING (true)", resources: withSql("CREATE POLICY everything ON gpu_usage FOR SELECT USING (true);") },
            {
                description: "A view that reads tenants' rows with its owner's rights.",
                expect: "lets billing_tenant read the view tenant_billing.invoices, which reads tenants' rows with its owner's rights",
                resources: withSql("CREATE VIEW tenant_billing.invoices AS SELECT * FROM invoices;\nGRANT SELECT ON tenant_billing.invoices TO billing_tenant;"),
            },
            {
                description: "An invoker view turned back into an owner's-rights one.",
                expect: "lets billing_tenant read the view tenant_billing.gpu_usage, which reads tenants' rows with its owner's rights",
                resources: withSql("ALTER VIEW tenant_billing.gpu_usage SET (security_invoker = false);"),
            },
            {
                description: "Tenants may execute a function that runs with its owner's rights.",
                expect: "lets billing_tenant execute sync_tenant_roles, which runs with its owner's rights",
                resources: withSql("GRANT EXECUTE ON FUNCTION sync_tenant_roles() TO billing_tenant;"),
            },
            {
                description: "A SECURITY DEFINER function left to PUBLIC (no default privileges revoked).",
                expect: "function usage_of runs with its owner's rights and PUBLIC may execute it",
                resources: [migrationsMap({ "0001_schema.sql": "CREATE TABLE gpu_usage (tenant_id text NOT NULL, gpu_seconds numeric);\nCREATE FUNCTION usage_of(p text) RETURNS numeric LANGUAGE sql SECURITY DEFINER AS $$ SELECT sum(gpu_seconds) FROM gpu_usage WHERE tenant_id = p $$;" })],
            },
            { description: "The statement Job reading as invoicing, which sees every tenant's rows.", expect: "CronJob billing/statements runs publish-statements as database user invoicing, not statements", resources: [statementsJob("invoicing")] },
            {
                description: "Security groups for pods in a tenant's namespace.",
                expect: "SecurityGroupPolicy tenant-acme/db gives pods of tenant namespace tenant-acme security groups",
                resources: [sample(SECURITY_GROUP_POLICY, "db", { apiVersion: "vpcresources.k8s.aws/v1beta1", kind: "SecurityGroupPolicy", metadata: { name: "db", namespace: "tenant-acme" }, spec: { podSelector: {}, securityGroups: { groupIds: ["sg-0123456789abcdef0"] } } })],
            },
        ],
    },
});
