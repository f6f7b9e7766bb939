import { configWithDefaults, resourcesOfType, stackPolicy } from "../engine/policy";
import { EKS_ADDONS } from "../model/domain/conventions";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const cluster = sample(TYPES.eksCluster, "cluster", { name: "prod" });
const cni = (configurationValues?: unknown) =>
    sample(TYPES.eksAddon, "vpc-cni", { clusterName: "prod", addonName: "vpc-cni", ...(configurationValues ? { configurationValues: JSON.stringify(configurationValues) } : {}) }, { dependsOn: ["cluster"] });

export const vpcCniNetworkPolicy = stackPolicy({
    name: "vpc-cni-enforces-network-policy",
    description: "Every EKS cluster runs the vpc-cni add-on with NetworkPolicy enforcement on (and, by default, in strict mode).",
    rationale:
        "Tenant isolation rests on NetworkPolicies; the VPC CNI ignores them unless enableNetworkPolicy is set, and in its " +
        "standard mode a new pod has open networking until its policies are programmed. Strict mode denies until then.",
    severity: "critical",
    enforcementLevel: "mandatory",
    remediationSteps:
        'Create the aws.eks.Addon "vpc-cni" with configurationValues {"enableNetworkPolicy": "true", "env": ' +
        '{"NETWORK_POLICY_ENFORCING_MODE": "strict"}} (the Cluster component does).',
    controls: [
        { framework: "CIS Amazon EKS Benchmark v1.7.0", control: "4.3.1", title: "Ensure CNI plugin supports network policies" },
        { framework: "NIST SP 800-53 Rev. 5", control: "SC-7", title: "Boundary Protection" },
        { framework: "Multi-Tenancy Benchmarks", control: "MTB-PL2-BC-OPS-4", title: "Block network traffic among namespaces" },
        { framework: "SOC 2 (2017 TSC)", control: "CC6.6", title: "Logical access security measures against threats from outside system boundaries" },
    ],
    configSchema: { properties: { requireStrictMode: { type: "boolean", default: true } } },
    validateStack: (args, report) => {
        const { requireStrictMode } = configWithDefaults({ requireStrictMode: true }, args);
        const addons = resourcesOfType(args, TYPES.eksAddon).filter((a) => a.props.addonName === EKS_ADDONS.vpcCni);
        for (const cluster of resourcesOfType(args, TYPES.eksCluster)) {
            const addon = addons.find((a) => a.dependencies.includes(cluster));
            const name = cluster.props.name ?? cluster.name;
            if (!addon) {
                report(`Cluster ${name} has no vpc-cni add-on managed by this stack, so NetworkPolicy enforcement is not guaranteed.`, cluster.urn);
                continue;
            }
            let settings: any = {};
            // Read outside the try: a value unknown during the preview must end the policy as not run, not read as bad JSON.
            const configurationValues = addon.props.configurationValues;
            try {
                settings = configurationValues ? JSON.parse(configurationValues) : {};
            } catch {
                report(`The vpc-cni add-on of cluster ${name} has configurationValues that are not JSON.`, addon.urn);
                continue;
            }
            if (String(settings.enableNetworkPolicy) !== "true") {
                report(`The vpc-cni add-on of cluster ${name} does not set enableNetworkPolicy to "true": NetworkPolicies would be ignored.`, addon.urn);
            } else if (requireStrictMode && settings.env?.NETWORK_POLICY_ENFORCING_MODE !== "strict") {
                report(`The vpc-cni add-on of cluster ${name} enforces NetworkPolicy in standard mode: new pods are open until their policies apply (set env.NETWORK_POLICY_ENFORCING_MODE to "strict").`, addon.urn);
            }
        }
    },
    samples: {
        allowed: [
            { description: "vpc-cni enforcing NetworkPolicy in strict mode.", resources: [cluster, cni({ enableNetworkPolicy: "true", env: { NETWORK_POLICY_ENFORCING_MODE: "strict" } })] },
            { description: "Standard mode where the stack's policy config allows it.", config: { requireStrictMode: false }, resources: [cluster, cni({ enableNetworkPolicy: "true" })] },
        ],
        disallowed: [
            { description: "No vpc-cni add-on.", expect: "has no vpc-cni add-on", resources: [cluster] },
            {
                description: "configurationValues that are not JSON: EKS refuses them, and nothing here can read them.",
                expect: "The vpc-cni add-on of cluster prod has configurationValues that are not JSON",
                resources: [cluster, sample(TYPES.eksAddon, "vpc-cni", { clusterName: "prod", addonName: "vpc-cni", configurationValues: "enableNetworkPolicy: true" }, { dependsOn: ["cluster"] })],
            },
            { description: "vpc-cni with default settings.", expect: 'does not set enableNetworkPolicy to "true"', resources: [cluster, cni()] },
            { description: "Enforcement in standard mode.", expect: "standard mode", resources: [cluster, cni({ enableNetworkPolicy: "true" })] },
        ],
    },
});
