import type { PolicyResource } from "@pulumi/policy";
import { stackPolicy } from "../engine/policy";
import { LOAD_BALANCER_PURPOSE, TAGS } from "../model/domain/conventions";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const WORLD = ["0.0.0.0/0", "::/0"];
const WEB_PORTS = [80, 443];

interface IngressRule {
    fromPort?: number;
    toPort?: number;
    protocol?: string;
    cidrs: string[];
}

/** The ingress rules a resource adds, normalised over the three ways AWS and Pulumi express them. */
function ingressRules(r: PolicyResource): IngressRule[] {
    const p = r.props;
    switch (r.type) {
        case TYPES.securityGroup:
            return [p.ingress ?? []].flat().filter((rule: unknown) => typeof rule === "object" && rule !== null).map((rule: any) => ({
                fromPort: rule.fromPort,
                toPort: rule.toPort,
                protocol: String(rule.protocol ?? ""),
                cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])],
            }));
        case TYPES.securityGroupRule:
            if (p.type !== "ingress") return [];
            return [{ fromPort: p.fromPort, toPort: p.toPort, protocol: String(p.protocol ?? ""), cidrs: [...(p.cidrBlocks ?? []), ...(p.ipv6CidrBlocks ?? [])] }];
        case TYPES.sgIngressRule:
            return [{ fromPort: p.fromPort, toPort: p.toPort, protocol: String(p.ipProtocol ?? ""), cidrs: [p.cidrIpv4, p.cidrIpv6].filter((c) => typeof c === "string") }];
        default:
            return [];
    }
}

function isLoadBalancerGroup(group: PolicyResource | undefined): boolean {
    return group?.type === TYPES.securityGroup && group.props.tags?.[TAGS.purpose] === LOAD_BALANCER_PURPOSE;
}

function webOnly(rule: IngressRule): boolean {
    return rule.protocol !== "-1" && rule.protocol !== "all" && rule.fromPort === rule.toPort && WEB_PORTS.includes(Number(rule.fromPort));
}

function describePorts(rule: IngressRule): string {
    if (rule.protocol === "-1" || rule.protocol === "all") return "all traffic";
    return rule.fromPort === rule.toPort ? `port ${rule.fromPort}` : `ports ${rule.fromPort}-${rule.toPort}`;
}

const lbGroup = (ingress: unknown[]) => sample(TYPES.securityGroup, "alb", { description: "ALB", ingress, tags: { [TAGS.purpose]: LOAD_BALANCER_PURPOSE } });

export const noPublicIngress = stackPolicy({
    name: "no-public-ingress",
    description: "No security group admits 0.0.0.0/0 or ::/0, except ports 80 and 443 on load balancer security groups.",
    rationale:
        "Nodes, databases and endpoints are reached through load balancers and private networking; a world-open rule " +
        "anywhere else exposes SSH, kubelets, node ports or databases to the internet.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Restrict the rule's source to the VPC CIDR, a security group or a prefix list. A load balancer's group may admit the " +
        `internet on 80/443 only, and must carry the tag ${TAGS.purpose}=${LOAD_BALANCER_PURPOSE}.`,
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "5.2", title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports" },
        { framework: "CIS AWS Foundations Benchmark v3.0.0", control: "5.3", title: "Ensure no security groups allow ingress from ::/0 to remote server administration ports" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    validateStack: (args, report) => {
        for (const r of args.resources) {
            if (r.type !== TYPES.securityGroup && r.type !== TYPES.securityGroupRule && r.type !== TYPES.sgIngressRule) continue;
            // A rule resource belongs to the group it depends on (its securityGroupId is unknown during a preview).
            const group = r.type === TYPES.securityGroup ? r : r.dependencies.find((d) => d.type === TYPES.securityGroup);
            for (const rule of ingressRules(r)) {
                const open = rule.cidrs.filter((c) => WORLD.includes(c));
                if (open.length === 0) continue;
                if (isLoadBalancerGroup(group) && webOnly(rule)) continue;
                const where = isLoadBalancerGroup(group) ? "a load balancer group (only 80 and 443 may be public)" : "a group that is not a load balancer's";
                report(`${r.type.split(":").pop()} ${r.name} admits ${open.join(" and ")} on ${describePorts(rule)}, in ${where}.`, r.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "A node group admitting only the VPC.", resources: [sample(TYPES.securityGroup, "nodes", { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }] })] },
            { description: "A load balancer admitting the internet on 443.", resources: [lbGroup([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }])] },
            {
                description: "A separate rule resource opening 80 on a load balancer group.",
                resources: [lbGroup([]), sample(TYPES.sgIngressRule, "http", { ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0" }, { dependsOn: ["alb"] })],
            },
        ],
        disallowed: [
            {
                description: "SSH open to the world on a node group.",
                expect: "SecurityGroup nodes admits 0.0.0.0/0 on port 22, in a group that is not a load balancer's",
                resources: [sample(TYPES.securityGroup, "nodes", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] })],
            },
            {
                description: "A load balancer group open on every port over IPv6.",
                expect: "admits ::/0 on all traffic, in a load balancer group",
                resources: [lbGroup([{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }])],
            },
            {
                description: "A rule resource opening the database port to the world.",
                expect: "SecurityGroupRule db-open admits 0.0.0.0/0 on port 5432",
                resources: [
                    sample(TYPES.securityGroup, "db", { description: "db" }),
                    sample(TYPES.securityGroupRule, "db-open", { type: "ingress", protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }, { dependsOn: ["db"] }),
                ],
            },
        ],
    },
});
