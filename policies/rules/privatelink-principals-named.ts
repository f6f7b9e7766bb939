import { resourcesOfType, stackPolicy } from "../engine/policy";
import { known } from "../model/evidence/capacity-evidence";
import { TYPES } from "../model/domain/types";
import { endpointServiceSample } from "../samples/hosted-tiers";

/** An account root, role or user ARN with no wildcard: the principals an endpoint service may name. */
const NAMED_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;

/** Why a principal is not a named one, or undefined. */
export function principalProblem(principal: unknown): string | undefined {
    if (typeof principal !== "string") return `${JSON.stringify(principal)} is not an ARN`;
    if (principal.includes("*")) return `${principal} is a wildcard: it admits ${principal === "*" ? "every AWS account" : "principals nobody named"}`;
    if (!NAMED_PRINCIPAL.test(principal)) return `${principal} is not an account root, role or user ARN`;
    return undefined;
}

export const privatelinkPrincipalsNamed = stackPolicy({
    name: "privatelink-principals-named",
    description: "A VPC endpoint service allows only named principals (an account root, role or user ARN of a tenant), never `*` or a wildcard.",
    rationale:
        "The gateway's endpoint service is how enterprise tenants reach the hosted models privately. `*` lets any AWS account create an endpoint to it " +
        "(with acceptance off, connect at once); a wildcard ARN admits principals nobody named. Each tenant's principals come from its config, so removing the tenant removes them.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps: "List each tenant's principals in compute-region:tenants[].privateLink.principals (its account root or roles); never `*` in allowedPrincipals or a VpcEndpointServiceAllowedPrinciple.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "AC-3", title: "Access Enforcement" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from sources outside system boundaries" },
    ],
    validateStack: (args, report) => {
        for (const service of resourcesOfType(args, TYPES.vpcEndpointService)) {
            for (const principal of [known(() => service.props.allowedPrincipals) ?? []].flat()) {
                const problem = principalProblem(principal);
                if (problem) report(`endpoint service ${service.name} allows ${problem}.`, service.urn);
            }
        }
        for (const allowed of resourcesOfType(args, TYPES.vpcEndpointServiceAllowedPrinciple)) {
            const principal = known(() => allowed.props.principalArn);
            if (principal === undefined) continue; // set at deploy: not decided here
            const problem = principalProblem(principal);
            if (problem) report(`endpoint service principal ${allowed.name} allows ${problem}.`, allowed.urn);
        }
    },
    samples: {
        allowed: [
            { description: "One tenant's account root, as a principal resource of its own.", resources: endpointServiceSample() },
            { description: "A tenant's role, inline.", resources: endpointServiceSample((p) => ((p.service.allowedPrincipals = ["arn:aws:iam::777788889999:role/initech-network"]), (p.principals = []))) },
        ],
        disallowed: [
            { description: "Any account.", expect: "endpoint service principal privatelink-initech-0 allows * is a wildcard: it admits every AWS account", resources: endpointServiceSample((p) => (p.principals[0].principalArn = "*")) },
            { description: "Any account, inline.", expect: "endpoint service privatelink allows * is a wildcard", resources: endpointServiceSample((p) => (p.service.allowedPrincipals = ["*"])) },
            { description: "Every role of an account by wildcard.", expect: "arn:aws:iam::777788889999:role/* is a wildcard: it admits principals nobody named", resources: endpointServiceSample((p) => (p.principals[0].principalArn = "arn:aws:iam::777788889999:role/*")) },
            { description: "Not an IAM principal ARN.", expect: "777788889999 is not an account root, role or user ARN", resources: endpointServiceSample((p) => (p.principals[0].principalArn = "777788889999")) },
        ],
    },
});
