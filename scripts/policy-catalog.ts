#!/usr/bin/env node
/**
 * npm run policy:catalog [-- --check]
 *
 * Writes docs/policies.md from the policies; with --check, exits 1 if the file is out of date.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderCatalog } from "compute-region-policies/catalog";
import { changePolicies } from "compute-region-policies/changes";
import { PACK_NAME, PACK_VERSION, policies } from "compute-region-policies/rules";
import { projectRoot } from "../stacks/paths";

export const CATALOG_PATH = path.join(projectRoot(), "docs/policies.md");

export function catalogText(): string {
    return `${renderCatalog(policies, { name: PACK_NAME, version: PACK_VERSION }, changePolicies)}\n`;
}

if (require.main === module) {
    const text = catalogText();
    if (process.argv.includes("--check")) {
        const current = fs.existsSync(CATALOG_PATH) ? fs.readFileSync(CATALOG_PATH, "utf8") : "";
        if (current !== text) {
            process.stderr.write("docs/policies.md is out of date: run npm run policy:catalog\n");
            process.exit(1);
        }
        process.stdout.write("docs/policies.md is current\n");
    } else {
        fs.mkdirSync(path.dirname(CATALOG_PATH), { recursive: true });
        fs.writeFileSync(CATALOG_PATH, text);
        process.stdout.write(`wrote ${path.relative(process.cwd(), CATALOG_PATH)} (${policies.length + changePolicies.length} policies)\n`);
    }
}
