/**
 * The policy pack's model (policies/model/) imports one way, each layer only from those before it:
 *   upstream/  facts about the systems the region runs, at their pinned versions
 *   domain/    the region's own model: conventions, types, catalog, capacity, billing, objectives,
 *              and the rules of the systems it relies on (CIDRs, scheduling, IAM's deny, selectors)
 *   evidence/  what a plan says, read from its resources
 *   analyses/  what is derived and proved over a whole plan (isolation, functional paths, rehearsal)
 * Nothing in the model imports the rest of the pack or the program, and no layer imports the barrel
 * (policies/model/index.ts), which is for the model's users. test/model-layers.test.ts runs these
 * rules; `npx depcruise policies/model` prints the same.
 */
const LAYER = "^policies/model/(upstream|domain|evidence|analyses)/";
module.exports = {
    forbidden: [
        {
            name: "upstream-facts-import-no-layer-above",
            comment: "Upstream facts describe other systems: they depend on nothing of the region's model.",
            severity: "error",
            from: { path: "^policies/model/upstream/" },
            to: { path: "^policies/model/(domain|evidence|analyses)/" },
        },
        {
            name: "domain-imports-only-upstream-facts",
            comment: "The domain model is built on the upstream facts, never on what a plan says or what is proved of it.",
            severity: "error",
            from: { path: "^policies/model/domain/" },
            to: { path: "^policies/model/(evidence|analyses)/" },
        },
        {
            name: "evidence-imports-no-analyses",
            comment: "Evidence reads a plan in the domain's terms; the analyses judge the evidence, not the other way.",
            severity: "error",
            from: { path: "^policies/model/evidence/" },
            to: { path: "^policies/model/analyses/" },
        },
        {
            name: "layers-import-no-barrel",
            comment: "policies/model/index.ts re-exports every layer for the model's users; a layer importing it would import every layer.",
            severity: "error",
            from: { path: LAYER },
            to: { path: "^policies/model/index\\.ts$" },
        },
        {
            name: "model-imports-nothing-outside-it",
            comment: "The model is shared by the program and the pack: it imports neither.",
            severity: "error",
            from: { path: "^policies/model/" },
            to: { path: "^(policies/(rules|changes|engine|samples|catalog|test|index)|components|stacks|offline|billing|scripts|test)(/|\\.ts$)" },
        },
        {
            name: "model-files-live-in-a-layer",
            comment: "Every model file but the barrel is in one of the four layers.",
            severity: "error",
            from: { path: "^policies/model/[^/]+\\.ts$", pathNot: "^policies/model/index\\.ts$" },
            to: {},
        },
    ],
    options: {
        // Type-only imports count: they tie a layer to another as much as value imports do.
        tsPreCompilationDeps: true,
        doNotFollow: { path: "node_modules" },
        exclude: { path: "(^|/)(bin|node_modules)/" },
    },
};
