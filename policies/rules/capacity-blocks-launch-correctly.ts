import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { plain } from "../model/evidence/deploy-input";
import { TYPES } from "../model/domain/types";
import { sample } from "../samples/sample";

const template = (extra: Record<string, unknown>) =>
    sample(TYPES.launchTemplate, "block-lt", {
        instanceMarketOptions: { marketType: "capacity-block" },
        capacityReservationSpecification: { capacityReservationTarget: { capacityReservationId: "cr-0123456789abcdef0" } },
        ...extra,
    });
const group = (extra: Record<string, unknown>, dependsOn = ["block-lt"]) =>
    sample(TYPES.eksNodeGroup, "block-nodes", { capacityType: "CAPACITY_BLOCK", scalingConfig: { minSize: 2, maxSize: 2 }, launchTemplate: { id: "lt", version: "1" }, ...extra }, { dependsOn });

export const capacityBlocksLaunchCorrectly = stackPolicy({
    name: "capacity-blocks-launch-correctly",
    description: "A Capacity Block node group names its instance type in its launch template only, with the block's reservation and the capacity-block market type.",
    rationale:
        "EKS rejects a CAPACITY_BLOCK node group whose launch template lacks the instance type, the reservation or the market " +
        "type, and one that also sets instanceTypes on the node group (EKS user guide, capacity-blocks-mng and launch-templates): " +
        "the pool would fail on its first `up`.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps: "Put the instance type, capacityReservationTarget and instanceMarketOptions.marketType capacity-block in the launch template (components/gpu-node-group.ts does) and leave instanceTypes off the node group.",
    controls: [
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-3", title: "Configuration Change Control" },
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
    ],
    validateStack: (args, report) => {
        // A group that leaves capacityType to the provider (ON_DEMAND) has it unknown during a preview: not a block.
        const groups = resourcesOfType(args, TYPES.eksNodeGroup).map((r: PolicyResource) => ({ g: r, props: plain(r.props) as Record<string, any> }));
        for (const { g, props } of groups.filter(({ props }) => props.capacityType === "CAPACITY_BLOCK")) {
            const types = props.instanceTypes;
            if (Array.isArray(types) && types.length > 0) report(`node group ${g.name} is a Capacity Block group but sets instanceTypes (${types.join(", ")}): the type belongs in its launch template only.`, g.urn);
            const lt = (g.dependencies ?? []).find((d: PolicyResource) => d.type === TYPES.launchTemplate);
            if (!lt) {
                report(`node group ${g.name} is a Capacity Block group without a launch template of this stack.`, g.urn);
                continue;
            }
            const template = plain(lt.props) as Record<string, any>;
            const missing = [
                typeof template.instanceType === "string" ? undefined : "instanceType",
                template.instanceMarketOptions?.marketType === "capacity-block" ? undefined : "instanceMarketOptions.marketType capacity-block",
                template.capacityReservationSpecification?.capacityReservationTarget?.capacityReservationId ? undefined : "capacityReservationSpecification.capacityReservationTarget",
            ].filter((m): m is string => m !== undefined);
            if (missing.length > 0) report(`node group ${g.name}'s launch template ${lt.name} lacks ${missing.join(", ")}, which EKS requires for a Capacity Block.`, g.urn);
        }
    },
    samples: {
        allowed: [{ description: "The type, the reservation and the market type in the launch template.", resources: [template({ instanceType: "p5.48xlarge" }), group({})] }],
        disallowed: [
            {
                description: "The instance type on the node group instead.",
                expect: "node group block-nodes is a Capacity Block group but sets instanceTypes (p5.48xlarge)",
                resources: [template({}), group({ instanceTypes: ["p5.48xlarge"] })],
            },
            { description: "No instance type anywhere.", expect: "launch template block-lt lacks instanceType", resources: [template({}), group({})] },
            {
                description: "A launch template made outside the stack (the group's id names one nothing here creates).",
                expect: "node group block-nodes is a Capacity Block group without a launch template of this stack",
                resources: [group({ launchTemplate: { id: "lt-0123456789abcdef0", version: "3" } }, [])],
            },
        ],
    },
});
