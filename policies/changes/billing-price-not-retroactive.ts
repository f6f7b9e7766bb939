import { configWithDefaults } from "../engine/policy";
import { changePolicy, isModified } from "../engine/change";
import { priceChanges } from "../model/domain/billing";
import { parseInstant } from "../model/domain/capacity";
import { billingSamples as b, PRICES, sampleRegistry } from "../samples/billing";
import { registryOf } from "../model/evidence/billing-evidence";

const registry = (prices = PRICES, currency = "USD") => b.registry({ ...sampleRegistry({ prices }), currency });
const reserved = PRICES[0];

export const billingPriceNotRetroactive = changePolicy({
    name: "billing-price-not-retroactive",
    description:
        "A price that has taken effect never changes: a change to the price list only adds prices from a day to come (or corrects one that has not taken effect), judged at the plan's date (policy config `at`, the time of the preview when unset).",
    rationale:
        "Usage is billed at the price in force when it happened. Changing a price that took effect, removing it, or adding one from a past day where " +
        "another was in force rewrites what past usage costs: invoices already issued no longer match the registry and the rest of the month bills at " +
        "a price nobody agreed to. The registry Job refuses such a document, so the up would fail halfway; the plan says so first.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Leave the entries of compute-region:billing.prices that took effect as they are, and add the new price as a new entry with an effectiveFrom day to come. " +
        "A mistake in a past price is corrected by an adjustment on the affected invoices (cli.js adjust), not by editing the price.",
    controls: [
        { framework: "SOC 2 (2017 TSC)", control: "PI1.3", title: "Processing is complete, accurate and authorized" },
        { framework: "NIST SP 800-53 Rev. 5", control: "CM-4", title: "Impact Analyses" },
        { framework: "NIST SP 800-53 Rev. 5", control: "AU-9", title: "Protection of Audit Information" },
    ],
    configSchema: {
        properties: {
            at: { type: "string", description: "The date the change is judged at, ISO 8601 with a zone. Unset, the time the preview runs. `npm run plan -- --at DATE` sets it." },
        },
    },
    validateChanges: (args, report) => {
        const { at: given } = configWithDefaults<{ at?: string }>({}, args);
        const at = given === undefined ? new Date() : parseInstant(given);
        if (!at) {
            report(`policy config at ${JSON.stringify(given)} is not an ISO 8601 date-time with a zone (such as 2026-10-20T00:00:00Z): no price change can be judged.`);
            return;
        }
        for (const c of args.changes) {
            if (!isModified(c)) continue;
            const before = registryOf({ type: c.type, name: c.name, props: c.old.props })?.doc;
            const after = registryOf({ type: c.type, name: c.name, props: c.new.props })?.doc;
            if (!before || !after) continue;
            if (before.currency !== after.currency) report(`the billing registry's currency would change from ${before.currency} to ${after.currency}: every price and invoice so far is in ${before.currency}.`, c.urn);
            for (const p of priceChanges(before.prices, after.prices, at)) if (p.retroactive) report(`${p.retroactive}.`, c.urn);
        }
    },
    samples: {
        allowed: [
            { description: "A new reserved price from a day to come.", config: { at: "2026-06-01T00:00:00Z" }, old: [registry()], new: [registry([...PRICES, { ...reserved, perGpuHour: 2.9, effectiveFrom: "2026-07-01" }])] },
            {
                description: "A price announced for later is corrected before it takes effect.",
                config: { at: "2026-06-01T00:00:00Z" },
                old: [registry([...PRICES, { ...reserved, perGpuHour: 2.9, effectiveFrom: "2026-07-01" }])],
                new: [registry([...PRICES, { ...reserved, perGpuHour: 2.8, effectiveFrom: "2026-07-01" }])],
            },
            {
                description: "A first price for a model from a past day (nothing was priced before it).",
                config: { at: "2026-06-01T00:00:00Z" },
                old: [registry()],
                new: [registry([...PRICES, { track: "hosted", model: "qwen", perMillionInputTokens: 0.4, perMillionOutputTokens: 1.2, effectiveFrom: "2026-05-01" }])],
            },
        ],
        disallowed: [
            {
                description: "The reserved price in force since January is edited.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the reserved price of h100 per GPU-hour effective 2026-01-01 would change from 3.1 to 2.9, and it has been in force since before 2026-06-01",
                old: [registry()],
                new: [registry([{ ...reserved, perGpuHour: 2.9 }, ...PRICES.slice(1)])],
            },
            {
                description: "A price that took effect is removed.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the spot price of h100 per GPU-hour effective 2026-01-01 (1.3) would be removed, and it has been in force since before 2026-06-01",
                old: [registry()],
                new: [registry(PRICES.filter((p) => p.track !== "spot"))],
            },
            {
                description: "A new price from a past day, where another was in force.",
                config: { at: "2026-06-01T00:00:00Z" },
                expect: "the reserved price of h100 per GPU-hour would become 2.9 from 2026-05-01, a date already past on 2026-06-01 (3.1 was in force)",
                old: [registry()],
                new: [registry([...PRICES, { ...reserved, perGpuHour: 2.9, effectiveFrom: "2026-05-01" }])],
            },
            { description: "The currency changes.", config: { at: "2026-06-01T00:00:00Z" }, expect: "the billing registry's currency would change from USD to EUR", old: [registry()], new: [registry(PRICES, "EUR")] },
            {
                description: "A date that is not one (the change edits a price of January).",
                config: { at: "soon" },
                expect: 'policy config at "soon" is not an ISO 8601 date-time',
                old: [registry()],
                new: [registry([{ ...reserved, perGpuHour: 2.9 }, ...PRICES.slice(1)])],
            },
        ],
    },
});
