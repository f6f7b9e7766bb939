import * as fs from "node:fs";
import { UNKNOWN } from "compute-region-policies/engine";
import { PlanInputError } from "./project";

/** `NAME=FILE` pairs: each file is a plan --json document (its "outputs") or a plain outputs object. */
export function readStackOutputs(pairs: readonly string[]): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const pair of pairs) {
        const i = pair.indexOf("=");
        if (i <= 0) throw new PlanInputError(`--stack-outputs: expected NAME=FILE, got ${JSON.stringify(pair)}`);
        const file = pair.slice(i + 1);
        let doc: unknown;
        try {
            doc = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch (e) {
            throw new PlanInputError(`--stack-outputs ${pair}: cannot read ${file}: ${(e as Error).message}`);
        }
        const record = doc as Record<string, unknown>;
        const outputs = (record && typeof record.outputs === "object" && Array.isArray(record.resources) ? record.outputs : record) as Record<string, unknown>;
        // A plan's outputs include values only a deploy knows (the kubeconfig, ids). A stack being
        // referenced has been deployed, so they are known there: stand in a placeholder for each.
        out[pair.slice(0, i)] = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, replaceUnknowns(v, `offline-placeholder-${k}`)]));
    }
    return out;
}

function replaceUnknowns(value: unknown, placeholder: string): unknown {
    if (value === UNKNOWN) return placeholder;
    if (Array.isArray(value)) return value.map((v) => replaceUnknowns(v, placeholder));
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceUnknowns(v, placeholder)]));
    return value;
}
