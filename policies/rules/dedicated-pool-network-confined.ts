import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { cidrContains, cidrProblem } from "../model/domain/cidr";
import { TAGS } from "../model/domain/conventions";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

function ingressOf(r: PolicyResource): { cidrs: string[]; groups: PolicyResource[]; self: boolean }[] {
    if (r.type === TYPES.securityGroup) return [r.props.ingress ?? []].flat().filter(Boolean).map((rule: any) => ({ cidrs: [rule.cidrBlocks ?? []].flat(), groups: [], self: rule.self === true }));
    return [];
}

const vpc = sample(TYPES.vpc, "vpc", { cidrBlock: "10.40.0.0/16" });
const poolSg = (tenant: string, ingress: unknown[], deps: string[] = []) => sample(TYPES.securityGroup, `${tenant}-pool`, { description: "pool", ingress, tags: { [TAGS.tenant]: tenant } }, { dependsOn: ["vpc", ...deps] });

export const dedicatedPoolNetworkConfined = stackPolicy({
    name: "dedicated-pool-network-confined",
    description: "No security group rule admits another tenant's security group, or the whole VPC CIDR (or more), to a dedicated pool's nodes.",
    rationale:
        "A dedicated pool is sold as one tenant's hardware. Its own security group is open only to itself (EFA needs that); a " +
        "rule admitting the VPC or another tenant's nodes would make it reachable below the NetworkPolicy layer.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Admit specific security groups of the same tenant or of the platform (the cluster security group), never the VPC CIDR or another tenant's group.",
    controls: [
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL1-CC-TI-1", title: "Tenant workload isolation on dedicated nodes" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7(21)", title: "Isolation of System Components" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateStack: (args, report) => {
        const vpcCidrs = resourcesOfType(args, TYPES.vpc).filter((r) => typeof r.props.cidrBlock === "string" && !cidrProblem(r.props.cidrBlock)).map((r) => r.props.cidrBlock as string);
        const groups = resourcesOfType(args, TYPES.securityGroup);
        const tenantOf = (g: PolicyResource | undefined) => g?.props.tags?.[TAGS.tenant] as string | undefined;
        for (const g of groups.filter((x) => tenantOf(x))) {
            const owner = tenantOf(g)!;
            const inline = ingressOf(g);
            const ruleResources = args.resources.filter((r) => (r.type === TYPES.securityGroupRule && r.props.type === "ingress") || r.type === TYPES.sgIngressRule).filter((r) => r.dependencies.includes(g));
            const cidrs = [...inline.flatMap((i) => i.cidrs), ...ruleResources.flatMap((r) => [r.props.cidrBlocks ?? [], r.props.cidrIpv4 ?? []].flat())].filter((c: unknown): c is string => typeof c === "string" && !cidrProblem(c));
            for (const c of cidrs) {
                const wide = vpcCidrs.find((v) => cidrContains(c, v));
                if (wide) report(`security group ${g.name} of tenant ${owner}'s dedicated pool admits ${c}, which covers the whole VPC ${wide}.`, g.urn);
            }
            // Rule resources point at their source group through a dependency (its id is unknown during a preview).
            for (const r of ruleResources) {
                const source = r.dependencies.find((d) => d.type === TYPES.securityGroup && d !== g);
                const other = tenantOf(source);
                if (other && other !== owner) report(`security group ${g.name} of tenant ${owner}'s dedicated pool admits ${source!.name}, a security group of tenant ${other}.`, r.urn);
            }
        }
    },
    samples: {
        allowed: [{ description: "A dedicated pool group open only to itself.", resources: [vpc, poolSg("acme", [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }])] }],
        disallowed: [
            { description: "The pool group admits the whole VPC.", expect: "security group acme-pool of tenant acme's dedicated pool admits 10.0.0.0/8, which covers the whole VPC 10.40.0.0/16", resources: [vpc, poolSg("acme", [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"] }])] },
            {
                description: "A rule admits another tenant's pool group.",
                expect: "admits globex-pool, a security group of tenant globex",
                resources: [
                    vpc,
                    poolSg("acme", [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }]),
                    poolSg("globex", [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }]),
                    sample(TYPES.sgIngressRule, "globex-to-acme", { ipProtocol: "-1", referencedSecurityGroupId: "sg-x" }, { dependsOn: ["acme-pool", "globex-pool"] }),
                ],
            },
        ],
    },
});
