import { resourcesOfType, stackPolicy } from "../engine/policy";
import { LABELS, TAGS, TENANT_STATE_ANNOTATION } from "../model/domain/conventions";
import { DATA_TYPES, K8S_TYPES } from "../model/domain/types";
import { fileSystem } from "../samples/tenant-resources";
import { tenantNs } from "../samples/tenants";

export const tenantNamespacesProtected = stackPolicy({
    name: "tenant-namespaces-protected",
    description: "The namespace and the file system of every tenant that is not decommissioned are Pulumi-protected, so removing the tenant from config cannot silently delete a customer's workloads or data.",
    rationale:
        "Deleting a tenant namespace deletes every pod, volume claim and secret the customer put there. Offboarding goes " +
        "through suspended and decommissioned states; only a decommissioned tenant's namespace may be deleted, by a later change.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Set the tenant's state to decommissioned (compute-region:tenants[].state) and deploy; remove it from config in a later change.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SI-12", title: "Information Management and Retention" },
    ],
    validateStack: (args, report) => {
        const states = new Map<string, string>();
        for (const ns of resourcesOfType(args, K8S_TYPES.namespace)) {
            const tenant = ns.props.metadata?.labels?.[LABELS.tenant];
            if (!tenant) continue;
            const state = ns.props.metadata?.annotations?.[TENANT_STATE_ANNOTATION] ?? "active";
            states.set(tenant, state);
            if (state !== "decommissioned" && ns.opts.protect !== true) report(`namespace ${ns.props.metadata?.name} of ${state} tenant ${tenant} is not protected.`, ns.urn);
        }
        for (const fs of resourcesOfType(args, DATA_TYPES.lustreFileSystem)) {
            const tenant = fs.props.tags?.[TAGS.tenant];
            if (typeof tenant !== "string") continue;
            const state = states.get(tenant) ?? "active";
            if (state !== "decommissioned" && fs.opts.protect !== true) report(`file system ${fs.name} of ${state} tenant ${tenant} is not protected.`, fs.urn);
        }
    },
    samples: {
        allowed: [
            { description: "An active tenant's protected namespace and file system.", resources: [tenantNs("acme"), fileSystem("acme")] },
            {
                description: "A decommissioned tenant's namespace, unprotected so a later change can remove it.",
                resources: [{ ...tenantNs("acme", {}, false), props: { metadata: { name: "tenant-acme", labels: { [LABELS.tenant]: "acme" }, annotations: { [TENANT_STATE_ANNOTATION]: "decommissioned" } } } }],
            },
        ],
        disallowed: [
            { description: "An active tenant's namespace without protection.", expect: "namespace tenant-acme of active tenant acme is not protected", resources: [tenantNs("acme", {}, false)] },
            { description: "An active tenant's file system without protection.", expect: "file system acme-fs of active tenant acme is not protected", resources: [tenantNs("acme"), { ...fileSystem("acme"), protect: false }] },
        ],
    },
});
