import { LABELS, NAMESPACES } from "./conventions";

/**
 * How a tenant reads its usage and spend. The billing database is private (isolated subnets, only the
 * billing pods' security group reaches it), and tenants' identities are IAM roles of their own
 * accounts, which cannot be given `rds-db:connect` on this account's database. So a tenant never
 * connects to it: the statement Job (`cli.js publish-statements`, hourly, in the billing namespace)
 * logs in as the `statements` database role, which has no grant of its own, reads each tenant's
 * statement as that tenant's role (`SET ROLE tenant_<name>`: row-level security holds every read to
 * the tenant's rows), and writes it as a `UsageStatement` in the tenant's namespace, one per month.
 * Members read them with their existing access (`kubectl get usagestatements`); they cannot write
 * them, and only the statement Job's service account can.
 */
export const USAGE_STATEMENTS = {
    group: "billing.compute-region.io",
    version: "v1alpha1",
    kind: "UsageStatement",
    plural: "usagestatements",
    singular: "usagestatement",
    shortNames: ["ust"],
    /** The ClusterRole that writes statements, bound in each tenant namespace to the statement Job's service account only. */
    writerRole: "billing-statement-writer",
    /** The statement Job's service account (and Pod Identity association), in the billing namespace. */
    serviceAccount: "billing-statements",
    namespace: NAMESPACES.billing,
    /** The CronJob that publishes them. */
    cronJob: "statements",
    /** Its pods' app label (their NetworkPolicy to the API server selects it). */
    app: "billing-statements",
    /** Server-side apply's field manager. */
    fieldManager: "billing-statements",
    /** Hourly, after metering (minute 5 by default) has written the last window. */
    schedule: "35 * * * *",
} as const;

/** The database roles of the tenant views (billing/migrations/0006). */
export const TENANT_BILLING_DB = {
    /** The statement Job's login role: no grant of its own; it may SET ROLE to an active or suspended tenant's role. */
    statementsRole: "statements",
    /** The group every tenant role is a member of: it holds the tenants' grants. */
    tenantGroup: "billing_tenant",
    /** Prefix of each tenant's role. */
    tenantRolePrefix: "tenant_",
    /** The schema of the tenants' views. */
    viewSchema: "tenant_billing",
    /** The function a row-level security policy holds tenant rows to. */
    currentTenant: "billing_current_tenant",
    /** The billing jobs' roles (their policies let them keep every row their grants reach). */
    jobRoles: ["registry", "metering", "invoicing"],
} as const;

/** The verbs that read a resource (what tenants may do to their statements) and the rest, which write. */
export const READ_VERBS = ["get", "list", "watch"] as const;

/** What a tenant's member Role grants of its statements: reading them. */
export const TENANT_STATEMENT_RULES = [{ apiGroups: [USAGE_STATEMENTS.group], resources: [USAGE_STATEMENTS.plural], verbs: [...READ_VERBS] }];

/** What the statement Job may do in a tenant's namespace: read and write statements, nothing else (never delete: they are the tenant's history). */
export const STATEMENT_WRITER_RULES = [{ apiGroups: [USAGE_STATEMENTS.group], resources: [USAGE_STATEMENTS.plural], verbs: ["get", "list", "create", "patch", "update"] }];

/** The part of an OpenAPI v3 schema the statement's uses (a CRD's JSONSchemaProps). */
export interface SchemaProps {
    type?: string;
    description?: string;
    required?: string[];
    properties?: Record<string, SchemaProps>;
    items?: SchemaProps;
    enum?: string[];
    pattern?: string;
    minimum?: number;
}

const str: SchemaProps = { type: "string" };
const strings = (...names: string[]): Record<string, SchemaProps> => Object.fromEntries(names.map((n) => [n, str]));
const objects = (required: string[], properties: Record<string, SchemaProps>): SchemaProps => ({ type: "array", items: { type: "object", required, properties } });

/** The invoice line as the statement carries it (billing/invoice.ts InvoiceLine). */
const LINE: SchemaProps = objects(["kind", "description", "quantity", "unit", "unitPrice", "discountPercent", "amount"], {
    kind: { type: "string", enum: ["charge", "adjustment"] },
    ...strings("description", "track", "pool", "model", "item", "quantity", "unit", "unitPrice", "discountPercent", "amount"),
});

/** The statement's schema (billing/statement.ts Statement): the API server rejects an object that does not fit it. */
export const STATEMENT_SCHEMA: SchemaProps = {
    type: "object",
    required: ["tenant", "month", "currency", "status", "state", "generatedAt", "period", "contracts", "bought", "gpu", "tokens", "charges"],
    properties: {
        ...strings("tenant", "currency", "state", "generatedAt", "meteredThrough"),
        month: { type: "string", pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$" },
        status: { type: "string", enum: ["open", "invoiced"] },
        period: { type: "object", required: ["from", "to"], properties: strings("from", "to") },
        contracts: objects(["from", "to", "discountPercent"], strings("from", "to", "startsOn", "discountPercent", "reference")),
        bought: objects(["track", "subject", "quantity", "from", "to"], { ...strings("track", "subject", "gpuModel", "from", "to"), quantity: { type: "integer", minimum: 0 } }),
        gpu: objects(["pool", "gpuModel", "track", "billed", "gpuHours"], { ...strings("pool", "gpuModel", "track", "gpuHours"), billed: { type: "boolean" } }),
        tokens: objects(["model", "track", "requests", "inputTokens", "cachedInputTokens", "outputTokens"], strings("model", "track", "requests", "inputTokens", "cachedInputTokens", "outputTokens")),
        charges: {
            type: "object",
            required: ["lines", "adjustments", "unpriced", "total"],
            properties: {
                invoice: { type: "object", required: ["invoiceId", "issuedAt"], properties: { invoiceId: { type: "integer" }, ...strings("issuedAt", "reference") } },
                lines: LINE,
                adjustments: objects(["amount", "reason", "source", "reference"], strings("amount", "reason", "source", "reference")),
                unpriced: { type: "array", items: str },
                total: str,
            },
        },
    },
};

/** The UsageStatement CustomResourceDefinition: namespaced, one object per tenant and month (named YYYY-MM). */
export function usageStatementCrd() {
    return {
        apiVersion: "apiextensions.k8s.io/v1" as const,
        kind: "CustomResourceDefinition" as const,
        metadata: { name: `${USAGE_STATEMENTS.plural}.${USAGE_STATEMENTS.group}` },
        spec: {
            group: USAGE_STATEMENTS.group,
            scope: "Namespaced" as const,
            names: { kind: USAGE_STATEMENTS.kind, plural: USAGE_STATEMENTS.plural, singular: USAGE_STATEMENTS.singular, shortNames: [...USAGE_STATEMENTS.shortNames], listKind: `${USAGE_STATEMENTS.kind}List` },
            versions: [
                {
                    name: USAGE_STATEMENTS.version,
                    served: true,
                    storage: true,
                    additionalPrinterColumns: [
                        { name: "Status", type: "string", jsonPath: ".statement.status" },
                        { name: "Total", type: "string", jsonPath: ".statement.charges.total" },
                        { name: "Currency", type: "string", jsonPath: ".statement.currency" },
                        { name: "Metered-Through", type: "string", jsonPath: ".statement.meteredThrough" },
                        { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
                    ],
                    schema: {
                        openAPIV3Schema: {
                            type: "object",
                            description: "A tenant's usage statement for a month, written by the billing statement Job from the billing database as the tenant's own database role.",
                            required: ["statement"],
                            properties: {
                                apiVersion: str,
                                kind: str,
                                metadata: { type: "object" },
                                statement: STATEMENT_SCHEMA,
                            },
                        },
                    },
                },
            ],
        },
    };
}

/** A month's statement as the object the statement Job applies in the tenant's namespace. */
export function usageStatementObject(namespace: string, statement: { tenant: string; month: string }): Record<string, unknown> {
    return {
        apiVersion: `${USAGE_STATEMENTS.group}/${USAGE_STATEMENTS.version}`,
        kind: USAGE_STATEMENTS.kind,
        metadata: { name: statement.month, namespace, labels: { [LABELS.tenant]: statement.tenant, [LABELS.managedBy]: USAGE_STATEMENTS.fieldManager } },
        statement,
    };
}
