import type { PolicyResource } from "@pulumi/policy";
import { resourcesOfType, stackPolicy } from "../engine/policy";
import { nodeGroupBounds, nodeGroupReservation } from "../model/evidence/capacity-evidence";
import { TAGS } from "../model/domain/conventions";
import { plain } from "../model/evidence/deploy-input";
import { TYPES } from "../model/domain/types";
import { poolSamples as s } from "../samples/pools";
import { sample } from "../samples/sample";

const RESERVATION = "cr-0123456789abcdef0";
const template = (name: string, reservation = RESERVATION) => sample(TYPES.launchTemplate, name, { capacityReservationSpecification: { capacityReservationTarget: { capacityReservationId: reservation } } });
const reserved = (pool: string, maxSize: number, tags: Record<string, string> = { [TAGS.capacityReservation]: RESERVATION, [TAGS.reservedInstances]: "4" }) =>
    s.nodeGroup(pool, "internal", "p5.48xlarge", 1, { maxSize, tags, dependsOn: [`${pool}-lt`] });

export const poolScalingWithinReservation = stackPolicy({
    name: "pool-scaling-within-reservation",
    description: "A node group that launches into an On-Demand Capacity Reservation or a Capacity Block declares the reservation and its size, and the groups on one reservation never scale past the instances it holds.",
    rationale:
        "Launches into a targeted reservation beyond its instances fail, so an autoscaler allowed past it keeps asking for nodes that never come and " +
        "marks the pool as unable to provision; and capacity the model counts above the reservation does not exist. A group whose launch template " +
        "targets a reservation without declaring it cannot be judged at all.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set compute-region:gpuPools[].capacityReservation.instances to the reservation's instance count and keep the maxNodes of every pool on that " +
        "reservation within it (config checks the same); the GpuNodeGroup component tags the node group with both.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "A1.1", title: "Capacity is managed to meet availability commitments" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CP-2(2)", title: "Contingency Plan: Capacity Planning" },
    ],
    validateStack: (args, report) => {
        const boundsOf = nodeGroupBounds(args.resources);
        const byReservation = new Map<string, { groups: string[]; maxNodes: number; instances: Set<number> }>();
        for (const g of resourcesOfType(args, TYPES.eksNodeGroup)) {
            const declared = nodeGroupReservation({ ...g, props: plain(g.props) as Record<string, any> });
            const lt = (g.dependencies ?? []).find((d: PolicyResource) => d.type === TYPES.launchTemplate);
            const targeted = lt ? (plain(lt.props) as Record<string, any>).capacityReservationSpecification?.capacityReservationTarget?.capacityReservationId : undefined;
            if (typeof targeted === "string" && targeted !== declared?.id) {
                report(`node group ${g.name} launches into reservation ${targeted} (launch template ${lt!.name}) but its tags declare ${declared ? `reservation ${declared.id}` : "none"} (${TAGS.capacityReservation}): its scaling cannot be held to the reservation.`, g.urn);
                continue;
            }
            if (!declared) continue;
            if (declared.instances === undefined) {
                report(`node group ${g.name} declares reservation ${declared.id} but not how many instances it holds (${TAGS.reservedInstances}).`, g.urn);
                continue;
            }
            const entry = byReservation.get(declared.id) ?? { groups: [], maxNodes: 0, instances: new Set<number>() };
            entry.groups.push(g.name);
            entry.maxNodes += boundsOf(g).maxSize;
            entry.instances.add(declared.instances);
            byReservation.set(declared.id, entry);
        }
        for (const [id, entry] of byReservation) {
            if (entry.instances.size > 1) report(`reservation ${id} is declared with different sizes (${[...entry.instances].join(", ")} instances) by node groups ${entry.groups.join(", ")}.`);
            const instances = Math.min(...entry.instances);
            if (entry.maxNodes > instances) {
                report(`node group${entry.groups.length > 1 ? "s" : ""} ${entry.groups.join(", ")} may scale to ${entry.maxNodes} nodes, past the ${instances} instances reservation ${id} holds.`);
            }
        }
    },
    samples: {
        allowed: [
            { description: "A pool of at most 4 nodes on a reservation of 4.", resources: [template("train-lt"), reserved("train", 4)] },
            { description: "Two pools sharing a reservation of 4, at most 3 and 1 nodes.", resources: [template("train-lt"), template("eval-lt"), reserved("train", 3), reserved("eval", 1)] },
        ],
        disallowed: [
            { description: "A pool allowed past its reservation.", expect: "node group train-nodes may scale to 6 nodes, past the 4 instances reservation cr-0123456789abcdef0 holds", resources: [template("train-lt"), reserved("train", 6)] },
            { description: "Two pools that together exceed the reservation.", expect: "node groups train-nodes, eval-nodes may scale to 5 nodes, past the 4 instances", resources: [template("train-lt"), template("eval-lt"), reserved("train", 3), reserved("eval", 2)] },
            { description: "A launch template targets a reservation the node group does not declare.", expect: "launches into reservation cr-0123456789abcdef0 (launch template train-lt) but its tags declare none", resources: [template("train-lt"), reserved("train", 2, {})] },
            {
                description: "Two pools that disagree on the reservation's size.",
                expect: "reservation cr-0123456789abcdef0 is declared with different sizes (4, 8 instances) by node groups train-nodes, eval-nodes",
                resources: [template("train-lt"), template("eval-lt"), reserved("train", 2), reserved("eval", 2, { [TAGS.capacityReservation]: RESERVATION, [TAGS.reservedInstances]: "8" })],
            },
            { description: "A reservation without its size.", expect: "declares reservation cr-0123456789abcdef0 but not how many instances it holds", resources: [template("train-lt"), reserved("train", 2, { [TAGS.capacityReservation]: RESERVATION })] },
        ],
    },
});
