import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { LABELS, TAGS, tenantNamespace } from "../model/domain/conventions";
import { DATA_TYPES, K8S_TYPES } from "../model/domain/types";
import { fileSystem, tenantVolume, volume } from "../samples/tenant-resources";

/** The tenant a file system belongs to (its tag), or undefined. */
const tenantOf = (fs: PolicyResource): string | undefined => (typeof fs.props.tags?.[TAGS.tenant] === "string" ? fs.props.tags[TAGS.tenant] : undefined);

export const tenantVolumesBound = stackPolicy({
    name: "tenant-volumes-bound",
    description: "Every volume of a tenant's file system is pre-bound (claimRef) to a claim in that tenant's own namespace, and no other volume points at the file system.",
    rationale:
        "A PersistentVolume is cluster-scoped: without a claimRef any claim that fits, in any namespace, can bind it, and a second " +
        "volume on the same file system would hand its data to whoever claims that one. Pre-binding the one volume to the tenant's " +
        "claim is what keeps another tenant's pods from mounting its file system, on shared nodes as anywhere.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "Give each tenant file system exactly one PersistentVolume, with spec.claimRef naming the claim shared-fs in tenant-<name> (the TenantFileSystem component does).",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-DI-1", title: "Data isolation between tenants" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-4", title: "Information Flow Enforcement" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.1", title: "Logical access to information assets is restricted" },
    ],
    validateStack: (args, report) => {
        const volumesOf = new Map<PolicyResource, PolicyResource[]>();
        for (const pv of resourcesOfType(args, K8S_TYPES.persistentVolume)) {
            // The volume handle is the file system's id, unknown during a preview: the volume depends on it.
            const systems = pv.dependencies.filter((d) => d.type === DATA_TYPES.lustreFileSystem);
            const labelled = pv.props.metadata?.labels?.[LABELS.tenant];
            const owners = [...new Set([...systems.map(tenantOf), typeof labelled === "string" ? labelled : undefined].filter((t): t is string => !!t))];
            for (const fs of systems) volumesOf.set(fs, [...(volumesOf.get(fs) ?? []), pv]);
            const name = pv.props.metadata?.name ?? pv.name;
            const claim = pv.props.spec?.claimRef;
            for (const tenant of owners) {
                const own = tenantNamespace(tenant);
                if (typeof claim?.namespace !== "string" || typeof claim?.name !== "string") {
                    report(`volume ${name} of tenant ${tenant} is not pre-bound to a claim (spec.claimRef with namespace and name): any claim, in any namespace, could bind it.`, pv.urn);
                } else if (claim.namespace !== own) {
                    report(`volume ${name} of tenant ${tenant} is bound to a claim in namespace ${claim.namespace}, not in ${own}.`, pv.urn);
                }
            }
        }
        for (const [fs, volumes] of volumesOf) {
            if (volumes.length > 1) report(`file system ${fs.name}${tenantOf(fs) ? ` of tenant ${tenantOf(fs)}` : ""} has ${volumes.length} volumes (${volumes.map((v) => v.props.metadata?.name ?? v.name).join(", ")}): only its tenant's one may point at it.`, fs.urn);
        }
    },
    samples: {
        allowed: [{ description: "A tenant's file system and its one volume, pre-bound to the claim in its namespace.", resources: [fileSystem("acme"), tenantVolume("acme")] }],
        disallowed: [
            { description: "The volume of acme's file system is bound to a claim in globex's namespace.", expect: "volume tenant-acme-fsx of tenant acme is bound to a claim in namespace tenant-globex, not in tenant-acme", resources: [fileSystem("acme"), volume("tenant-acme-fsx", "acme-fs", "tenant-globex", "acme")] },
            { description: "The volume is not pre-bound: any claim could take it.", expect: "volume tenant-acme-fsx of tenant acme is not pre-bound to a claim", resources: [fileSystem("acme"), volume("tenant-acme-fsx", "acme-fs", undefined)] },
            {
                description: "A second volume points at acme's file system.",
                expect: "file system acme-fs of tenant acme has 2 volumes (tenant-acme-fsx, copy-of-acme): only its tenant's one may point at it",
                resources: [fileSystem("acme"), tenantVolume("acme"), volume("copy-of-acme", "acme-fs", "tenant-acme")],
            },
        ],
    },
});
