import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { priceRows, regionRegistry } from "compute-region-policies/model";
import { parseRegionConfig, parseStackConfig } from "../stacks/config";
import { configProblems, devStackConfig, engineValues, ROOT } from "./helpers";

/** The commercial terms of the stack config: the price list, contracts, and everything sold priced. */

const prices = (c: Record<string, any>) => c["compute-region:billing"].prices as Record<string, any>[];
/** The dev price list's entry of a track and item. */
const entry = (c: Record<string, any>, track: string, item: string) => prices(c).findIndex((p) => p.track === track && (p.gpuModel ?? p.model) === item);
const tenant = (c: Record<string, any>, name: string) => c["compute-region:tenants"].find((t: { name: string }) => t.name === name);
const today = new Date().toISOString().slice(0, 10);

describe("commercial terms in the stack config", () => {
    it("reads the dev stack's price list, with cached input tokens at their own price or, left out, the input price", () => {
        const config = parseRegionConfig(engineValues(devStackConfig()), "dev");
        expect(config.billing!.currency).toBe("USD");
        expect(config.tenants.find((t) => t.name === "acme")!.contract).toEqual({ startsOn: "2026-01-01", discountPercent: 10, reference: "ACME-MSA-2026-014" });
        expect(priceRows({ track: "hosted", model: "m", perMillionInputTokens: 0.3, perMillionOutputTokens: 0.9, effectiveFrom: "2026-01-01" }).map((r) => [r.unit, r.unitPrice])).toEqual([
            ["input_mtok", "0.3"],
            ["cached_input_mtok", "0.3"],
            ["output_mtok", "0.9"],
        ]);
        // Dev prices are plausible: L40S reserved about 2 dollars a GPU-hour, spot less, tokens cents a million.
        const reserved = regionRegistry(config)!.prices.find((p) => p.track === "reserved" && p.item === "l40s")!;
        expect(Number(reserved.unitPrice)).toBeGreaterThan(1.5);
        expect(Number(reserved.unitPrice)).toBeLessThan(2.5);
    });

    const cases: [string, (c: Record<string, any>) => void, string][] = [
        ["a price of a track that does not exist", (c) => (prices(c)[0].track = "ondemand"), "compute-region:billing.prices[0].track: must name its track: one of reserved, dedicated, spot, hosted"],
        ["a GPU model outside the catalog", (c) => (prices(c)[0].gpuModel = "b200"), 'compute-region:billing.prices[0].gpuModel: must be a GPU model of the catalog (a100, a10g, h100, h200, l40s), got "b200"'],
        ["a price with more than 6 decimals", (c) => (prices(c)[0].perGpuHour = 1.0000001), "compute-region:billing.prices[0].perGpuHour: must have at most 6 decimals, got 1.0000001"],
        ["a negative price", (c) => (prices(c)[0].perGpuHour = -1), "compute-region:billing.prices[0].perGpuHour: must be a price of at least 0, got -1"],
        ["a day that is not one", (c) => (prices(c)[0].effectiveFrom = "2026-02-30"), 'compute-region:billing.prices[0].effectiveFrom: must be a date, YYYY-MM-DD (quote it in YAML), got "2026-02-30"'],
        ["a hosted price without its output price", (c) => delete prices(c)[entry(c, "hosted", "llama-3-8b")].perMillionOutputTokens, "compute-region:billing.prices[6].perMillionOutputTokens: is required"],
        ["a GPU price field on a hosted price", (c) => (prices(c)[entry(c, "hosted", "llama-3-8b")].perGpuHour = 1), 'compute-region:billing.prices[6]: unknown key "perGpuHour"'],
        ["two prices of a track and item on one day", (c) => prices(c).push({ ...prices(c)[0], perGpuHour: 2 }), "compute-region:billing.prices[10]: repeats prices[0]: one reserved price of l40s per effective date"],
        ["a currency that is not a code", (c) => (c["compute-region:billing"].currency = "dollars"), 'compute-region:billing.currency: must be an ISO 4217 currency code such as USD, got "dollars"'],
        ["a discount over 100%", (c) => (tenant(c, "acme").contract.discountPercent = 120), "compute-region:tenants[0] (acme).contract.discountPercent: must be at most 100 (percent), got 120"],
        ["a contract start that is not a day", (c) => (tenant(c, "acme").contract.startsOn = "next year"), 'compute-region:tenants[0] (acme).contract.startsOn: must be a date, YYYY-MM-DD'],
        ["reserved quota with no price", (c) => prices(c).splice(entry(c, "reserved", "l40s"), 1), `compute-region:tenants[0] (acme).quota.shared-l40s: tenant acme's reserved quota on shared-l40s has no reserved price of l40s per GPU-hour in force on ${today}: add one to compute-region:billing.prices`],
        ["a dedicated pool with no price", (c) => prices(c).splice(entry(c, "dedicated", "l40s"), 1), `compute-region:gpuPools[3] (acme-l40s).tenant: dedicated pool acme-l40s of tenant acme has no dedicated price of l40s per GPU-hour in force on ${today}`],
        ["a spot allowance with no price", (c) => prices(c).splice(entry(c, "spot", "l40s"), 1), `compute-region:tenants[1] (globex).spot.shared-l40s: tenant globex's spot allowance on shared-l40s has no spot price of l40s per GPU-hour in force on ${today}`],
        ["a granted model with no price", (c) => prices(c).splice(entry(c, "hosted", "qwen-2-5-32b"), 1), `compute-region:tenants[2] (initech).models[1]: model qwen-2-5-32b granted to tenant initech has no hosted price of qwen-2-5-32b per 1M input tokens in force on ${today}`],
        ["a price only from a day to come", (c) => (prices(c)[0].effectiveFrom = "2999-01-01"), `compute-region:tenants[0] (acme).quota.shared-l40s: tenant acme's reserved quota on shared-l40s has no reserved price of l40s per GPU-hour in force on ${today}`],
        ["tenants that buy with no billing at all", (c) => delete c["compute-region:billing"], "compute-region:billing: is required: tenants acme, globex, initech buy capacity or models, and nothing would bill them"],
    ];
    it.each(cases)("rejects %s, naming the key", (_what, mutate, expected) => {
        const problems = configProblems(mutate);
        expect(problems.some((p) => p.includes(expected)), `expected "${expected}" in:\n${problems.join("\n")}`).toBe(true);
    });

    it("prices what a contract starting later bills from its start, and a suspended tenant's purchases not at all", () => {
        const config = devStackConfig();
        // A price from 2999 covers a tenant whose contract starts then.
        prices(config).push({ track: "spot", gpuModel: "a100", perGpuHour: 1, effectiveFrom: "2999-01-01" });
        config["compute-region:gpuPools"].push({ name: "shared-a100", role: "shared", instanceType: "p4d.24xlarge", minNodes: 1, maxNodes: 1, headroom: 0.25 });
        config["compute-region:tenants"].push({ name: "hooli", spot: { "shared-a100": 2 }, contract: { startsOn: "2999-01-01" } });
        // globex suspended: its spot allowance is not sold, so its price may go.
        tenant(config, "globex").state = "suspended";
        prices(config).splice(entry(config, "spot", "l40s"), 1);
        expect(() => parseRegionConfig(engineValues(config), "dev")).not.toThrow();
    });

    it("prices a platform's shard budgets, and the sharded stacks' tenants carry their contracts", () => {
        const platform = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.dev-platform.yaml"), "utf8")).config as Record<string, any>;
        platform["compute-region:billing"].prices = platform["compute-region:billing"].prices.filter((p: { track: string }) => p.track !== "reserved");
        expect(() => parseStackConfig(engineValues(platform), "dev-platform")).toThrow(/compute-region:shards\[0\] \(a\)\.budget\.shared-l40s: shard a's budget on shared-l40s has no reserved price of l40s per GPU-hour in force/);
        for (const shard of ["dev-shard-a", "dev-shard-b"]) {
            const config = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${shard}.yaml`), "utf8")).config as Record<string, any>;
            const parsed = parseStackConfig(engineValues(config), shard);
            expect(parsed.tenants.every((t) => t.contract?.reference)).toBe(true);
        }
    });
});
