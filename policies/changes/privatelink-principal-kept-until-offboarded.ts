import { changePolicy, isGone } from "../engine/change";
import { TYPES } from "../model/domain/types";
import { hostedTenantRecords } from "../model/evidence/hosted-tiers-evidence";
import { allowedPrincipal, hostedKeySecret } from "../samples/hosted-tiers";

export const privatelinkPrincipalKeptUntilOffboarded = changePolicy({
    name: "privatelink-principal-kept-until-offboarded",
    description: "A tenant's principal leaves the gateway's endpoint service only when the tenant is offboarded (decommissioned); never while it is active or suspended.",
    rationale:
        "A tenant on PrivateLink reaches the models only through its interface endpoints: a principal removed from the endpoint service stops new endpoint " +
        "connections from that account (a new VPC, a recreated endpoint), cutting off a customer that is still under contract. Principals go with the tenant's " +
        "offboarding, which the program does when the tenant is decommissioned.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Keep the principal in compute-region:tenants[].privateLink.principals while the tenant is active or suspended; to offboard, set the tenant to decommissioned (the program removes its principals). To replace a principal, add the new one in one change and remove the old one with this policy advisory once the tenant has moved.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "CC8.1", title: "Changes are authorized, tested and approved" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.2", title: "Availability: protection against disruption" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-2", title: "Account Management" },
    ],
    validateChanges: (args, report) => {
        const before = hostedTenantRecords(args.changes.filter((c) => c.old).map((c) => ({ type: c.type, name: c.name, props: c.old!.props })));
        const after = hostedTenantRecords(args.changes.filter((c) => c.new).map((c) => ({ type: c.type, name: c.name, props: c.new!.props })));
        for (const c of args.changes) {
            if (c.type !== TYPES.vpcEndpointServiceAllowedPrinciple || !c.old || !isGone(c)) continue;
            const principal = c.old.props.principalArn;
            // Replaced by the same principal (a new endpoint service id): not removed.
            if (c.op === "replace" && c.new?.props.principalArn === principal) continue;
            const owner = [...before.values()].find((t) => t.principals.includes(principal));
            if (!owner) {
                report(`principal ${principal} is removed from the gateway's endpoint service, and no tenant's key Secret records it: whose access ends cannot be told.`, c.urn);
                continue;
            }
            const state = after.get(owner.tenant)?.state ?? owner.state;
            if (state === "decommissioned") continue;
            const how = after.has(owner.tenant) ? `while the tenant is ${state}` : `with the tenant removed from config while ${owner.state}`;
            report(`principal ${principal} of tenant ${owner.tenant} is removed from the gateway's endpoint service ${how}: decommission ${owner.tenant} first.`, c.urn);
        }
    },
    samples: {
        allowed: [
            {
                description: "The tenant is decommissioned: its principal goes.",
                old: [hostedKeySecret("initech", "suspended", ["arn:aws:iam::777788889999:root"]), allowedPrincipal("initech", "arn:aws:iam::777788889999:root")],
                new: [hostedKeySecret("initech", "decommissioned")],
            },
            {
                description: "A principal is added.",
                old: [hostedKeySecret("initech", "active", ["arn:aws:iam::777788889999:root"]), allowedPrincipal("initech", "arn:aws:iam::777788889999:root")],
                new: [hostedKeySecret("initech", "active", ["arn:aws:iam::777788889999:root", "arn:aws:iam::444455556666:root"]), allowedPrincipal("initech", "arn:aws:iam::777788889999:root"), allowedPrincipal("initech", "arn:aws:iam::444455556666:root")],
            },
        ],
        disallowed: [
            {
                description: "An active tenant's principal is dropped from its config.",
                expect: "principal arn:aws:iam::777788889999:root of tenant initech is removed from the gateway's endpoint service while the tenant is active",
                old: [hostedKeySecret("initech", "active", ["arn:aws:iam::777788889999:root"]), allowedPrincipal("initech", "arn:aws:iam::777788889999:root")],
                new: [hostedKeySecret("initech", "active")],
            },
            {
                description: "A suspended tenant is removed from config.",
                expect: "with the tenant removed from config while suspended",
                old: [hostedKeySecret("initech", "suspended", ["arn:aws:iam::777788889999:root"]), allowedPrincipal("initech", "arn:aws:iam::777788889999:root")],
                new: [],
            },
            {
                description: "A principal no tenant records is removed.",
                expect: "no tenant's key Secret records it",
                old: [hostedKeySecret("initech", "active"), allowedPrincipal("initech", "arn:aws:iam::777788889999:root")],
                new: [hostedKeySecret("initech", "active")],
            },
        ],
    },
});
