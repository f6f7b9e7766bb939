import { changePolicy, isGone } from "../engine/change";
import { K8S_TYPES } from "../model/domain/types";
import { LABELS } from "../model/domain/conventions";
import { DEDICATED_ENDPOINT, ENDPOINT_LABEL } from "../model/domain/hosted-tiers";
import { hostedTenantRecords } from "../model/evidence/hosted-tiers-evidence";
import { dedicatedServer, hostedKeySecret } from "../samples/hosted-tiers";

export const dedicatedEndpointKeptWhileActive = changePolicy({
    name: "dedicated-endpoint-kept-while-active",
    description: "A tenant's dedicated endpoint (its model server) is never deleted or replaced while the tenant is active: it goes only once the tenant is suspended or decommissioned.",
    rationale:
        "A dedicated endpoint is throughput a customer pays for by the replica-hour and builds its product on (Bedrock's Provisioned Throughput). Removing it from " +
        "config, or a change that replaces its Deployment, takes it down under the customer (a new one loads for up to an hour) without the tenant's lifecycle " +
        "saying so. Suspending the tenant first (its endpoint scales to zero and its key stops working) makes the stop deliberate and visible.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep the tenant's compute-region:tenants[].dedicated entry until the customer ends the contract; then set the tenant's state to suspended (or decommissioned) in one change and remove the endpoint in a later one. A change that must replace the Deployment (a new name) needs the tenant's agreement and a maintenance window: run it with this policy set to advisory for that update.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Availability: protection against disruption" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
    ],
    validateChanges: (args, report) => {
        const before = hostedTenantRecords(args.changes.filter((c) => c.old).map((c) => ({ type: c.type, name: c.name, props: c.old!.props })));
        const after = hostedTenantRecords(args.changes.filter((c) => c.new).map((c) => ({ type: c.type, name: c.name, props: c.new!.props })));
        for (const c of args.changes) {
            if (c.type !== K8S_TYPES.deployment || !c.old || !isGone(c)) continue;
            const labels = c.old.props.metadata?.labels ?? {};
            if (labels[ENDPOINT_LABEL] !== DEDICATED_ENDPOINT) continue;
            const tenant = labels[LABELS.tenant];
            // The tenant's state after the change; a tenant removed with it keeps the state it had.
            const state = after.get(tenant)?.state ?? before.get(tenant)?.state ?? "active";
            if (state !== "active") continue;
            const what = c.op === "delete" ? "deleted" : "replaced (deleted and created again)";
            report(`tenant ${tenant}'s dedicated endpoint ${c.old.props.metadata?.name} is ${what} while the tenant is active: suspend or decommission ${tenant} first.`, c.urn);
        }
    },
    samples: {
        allowed: [
            { description: "A suspended tenant's dedicated endpoint is removed.", old: [hostedKeySecret("initech", "active"), dedicatedServer("initech", "llama")], new: [hostedKeySecret("initech", "suspended")] },
            { description: "An active tenant buys more replicas.", old: [hostedKeySecret("initech", "active"), dedicatedServer("initech", "llama", 1)], new: [hostedKeySecret("initech", "active"), dedicatedServer("initech", "llama", 2)] },
            { description: "A decommissioned tenant is removed with its endpoint.", old: [hostedKeySecret("initech", "decommissioned"), dedicatedServer("initech", "llama")], new: [] },
        ],
        disallowed: [
            {
                description: "The endpoint is removed from an active tenant's config.",
                expect: "tenant initech's dedicated endpoint dedicated-initech-llama is deleted while the tenant is active",
                old: [hostedKeySecret("initech", "active"), dedicatedServer("initech", "llama")],
                new: [hostedKeySecret("initech", "active")],
            },
            {
                description: "An active tenant is removed from config with its endpoint.",
                expect: "tenant initech's dedicated endpoint dedicated-initech-llama is deleted while the tenant is active",
                old: [hostedKeySecret("initech", "active"), dedicatedServer("initech", "llama")],
                new: [],
            },
        ],
    },
});
