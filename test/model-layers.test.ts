import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ICruiseResult, IForbiddenRuleType } from "dependency-cruiser" with { "resolution-mode": "import" };

/**
 * policies/model/ is split by what each part is (upstream facts, domain, evidence, analyses) and
 * imports run one way between them: the rules are .dependency-cruiser.cjs, read here and run by
 * dependency-cruiser over the model's real imports (type-only imports included).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RULES = require("../.dependency-cruiser.cjs") as { forbidden: IForbiddenRuleType[]; options: Record<string, unknown> };

async function cruiseModel(baseDir: string): Promise<ICruiseResult> {
    const { cruise } = await import("dependency-cruiser");
    const out = await cruise(["policies/model"], { ...RULES.options, baseDir, validate: true, ruleSet: { forbidden: RULES.forbidden } });
    return out.output as ICruiseResult;
}

const violations = (r: ICruiseResult) => r.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);

describe("the model's layers", () => {
    it("import one way: upstream facts <- domain <- evidence <- analyses", async () => {
        const result = await cruiseModel(process.cwd());
        expect(violations(result)).toEqual([]);
        // The cruise saw the model's real imports between layers, so an upward one would show above.
        const layerOf = (p: string) => /^policies\/model\/(upstream|domain|evidence|analyses)\//.exec(p)?.[1];
        const crossings = new Set(result.modules.flatMap((m) => m.dependencies.map((d) => `${layerOf(m.source)}->${layerOf(d.resolved)}`)));
        for (const edge of ["domain->upstream", "evidence->domain", "evidence->upstream", "analyses->evidence", "analyses->domain"]) expect(crossings).toContain(edge);
    });

    it("an upward import, a type-only one included, and a file outside the layers are violations", async () => {
        const dir = mkdtempSync(join(tmpdir(), "model-layers-"));
        try {
            const model = join(dir, "policies/model");
            for (const layer of ["upstream", "domain", "evidence", "analyses"]) mkdirSync(join(model, layer), { recursive: true });
            writeFileSync(join(model, "analyses/proof.ts"), `import { read } from "../evidence/reader";\nexport const proof = read();\n`);
            writeFileSync(join(model, "evidence/reader.ts"), `import { proof } from "../analyses/proof";\nexport const read = () => proof;\n`);
            writeFileSync(join(model, "domain/names.ts"), `import type { Reader } from "../evidence/types";\nexport const NAME: Reader | undefined = undefined;\n`);
            writeFileSync(join(model, "evidence/types.ts"), `export interface Reader { name: string }\n`);
            writeFileSync(join(model, "upstream/facts.ts"), `import { NAME } from "../domain/names";\nexport const FACT = NAME;\n`);
            writeFileSync(join(model, "loose.ts"), `import { FACT } from "./upstream/facts";\nexport const LOOSE = FACT;\n`);
            writeFileSync(join(model, "index.ts"), `export * from "./loose";\n`);
            expect(violations(await cruiseModel(dir)).sort()).toEqual([
                "domain-imports-only-upstream-facts: policies/model/domain/names.ts -> policies/model/evidence/types.ts",
                "evidence-imports-no-analyses: policies/model/evidence/reader.ts -> policies/model/analyses/proof.ts",
                "model-files-live-in-a-layer: policies/model/loose.ts -> policies/model/upstream/facts.ts",
                "upstream-facts-import-no-layer-above: policies/model/upstream/facts.ts -> policies/model/domain/names.ts",
            ]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
