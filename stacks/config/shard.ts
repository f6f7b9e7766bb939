import { z } from "zod";
import { checkEgressCidrs, checkTenantName, reportDuplicates } from "./checks";
import { dnsLabel, OBSERVABILITY_DEFAULTS, observabilitySchema, regionConfigObject, tenantSchema } from "./schema";

/** A tenant shard stack's config, keyed by Pulumi config key: tenants only, on a platform stack's cluster and pools. */
export const shardConfigObject = z.strictObject({
    "aws:region": regionConfigObject.shape["aws:region"],
    "compute-region:layer": z.literal("shard"),
    "compute-region:shard": z.strictObject({
        /** The shard's name, as the platform stack's compute-region:shards lists it. */
        name: dnsLabel,
        /** The platform stack to read (org/project/stack), through a StackReference. */
        platformStack: z.string().regex(/^([\w.-]+\/){0,2}[\w.-]+$/, "must be a stack name such as my-org/compute-region/prod-use1-platform"),
    }),
    "compute-region:tenants": z.array(tenantSchema).min(1, "must list the shard's tenants"),
    "compute-region:observability": observabilitySchema.default(OBSERVABILITY_DEFAULTS),
});

/** A shard stack's tenants checked against each other; the platform holds everything they are checked against in a region. */
export const shardConfigSchema = shardConfigObject.superRefine((config, ctx) => {
    const tenants = config["compute-region:tenants"];
    reportDuplicates(tenants.map((t) => t.name), (i) => ["compute-region:tenants", i, "name"], ctx);
    tenants.forEach((t, i) => {
        // Its queues share the cluster with the platform's internal and burst queues.
        checkTenantName(t.name, ["compute-region:tenants", i, "name"], ctx);
        // The VPC and service CIDRs are the platform's; its tenants' rules except them in any case.
        checkEgressCidrs(t.egress.allowCidrs, [], ["compute-region:tenants", i, "egress", "allowCidrs"], ctx);
        for (const key of ["fileSystem", "workloadIdentity"] as const) {
            if (t[key]) ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, key], message: "is not available in a shard stack yet: it needs the platform's network and account (give the tenant a region stack, or leave it out)" });
        }
        if (t.models.length > 0) {
            ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, "models"], message: "must be empty in a shard stack: models are served and granted by the platform stack's gateway", input: t.models });
        }
        if (t.dedicated.length > 0) {
            ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, "dedicated"], message: "must be empty in a shard stack: dedicated endpoints are served by the platform stack's gateway", input: t.dedicated });
        }
        for (const key of ["privateLink", "batch"] as const) {
            if (t[key]) ctx.addIssue({ code: "custom", path: ["compute-region:tenants", i, key], message: "is not available in a shard stack: it belongs to the hosted-model tiers of the stack with the gateway" });
        }
    });
});

type NamespacedShardConfig = z.output<typeof shardConfigObject>;

/** A tenant shard stack's validated config, its keys' namespaces dropped. */
export interface ShardConfig {
    layer: "shard";
    stack: string;
    region: string;
    shard: NamespacedShardConfig["compute-region:shard"];
    tenants: NamespacedShardConfig["compute-region:tenants"];
    observability: NamespacedShardConfig["compute-region:observability"];
}
