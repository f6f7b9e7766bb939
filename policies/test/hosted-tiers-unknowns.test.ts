import { describe, expect, it } from "vitest";
import { evaluatePolicies, sampleSnapshots, UNKNOWN } from "../engine";
import { dedicatedEndpointsOneTenant } from "../rules/dedicated-endpoints-one-tenant";
import { dedicatedSample } from "../samples/hosted-tiers";

/**
 * A dedicated route's chain (route -> AIServiceBackend -> Backend -> Service -> Deployment) read
 * while a link of it is unknown, as computed values are during a preview: the policy cannot tell
 * what the route reaches, so it does not run, rather than report the link missing or the route
 * reaching nothing. (A fuzz round of test/plan-fuzz.test.ts found the Service case.)
 */
type Parts = Parameters<NonNullable<Parameters<typeof dedicatedSample>[0]>>[0];

const UNKNOWN_LINKS: Record<string, (p: Parts) => void> = {
    "the Service's name": (p) => (p.dedicatedService.metadata.name = UNKNOWN),
    "the Service's selector": (p) => (p.dedicatedService.spec.selector = UNKNOWN),
    "the Backend's endpoints": (p) => (p.dedicatedBackend.spec.endpoints = UNKNOWN),
    "the route's rules": (p) => (p.dedicatedRoute.spec.rules = UNKNOWN),
    "the AIServiceBackend's name": (p) => (p.dedicatedAiBackend.metadata.name = UNKNOWN),
};

describe("dedicated-endpoints-one-tenant with a link of the route unknown", () => {
    it("passes with every link known (the sample it damages)", () => {
        const result = evaluatePolicies(sampleSnapshots({ description: "", resources: dedicatedSample() }), { policies: [dedicatedEndpointsOneTenant] });
        expect([result.violations, result.notRun, result.errors]).toEqual([[], [], []]);
    });

    for (const [link, damage] of Object.entries(UNKNOWN_LINKS)) {
        it(`does not run when ${link} is unknown`, () => {
            const result = evaluatePolicies(sampleSnapshots({ description: link, resources: dedicatedSample(damage) }), { policies: [dedicatedEndpointsOneTenant] });
            expect(result.violations.map((v) => v.message)).toEqual([]);
            expect(result.errors).toEqual([]);
            expect(result.notRun.map((n) => n.policy)).toEqual(["dedicated-endpoints-one-tenant"]);
        });
    }
});
