/**
 * compute-region-policies as a library (`require("compute-region-policies")`): the pack's policies,
 * for another pack to spread into its own (`new PolicyPack("mine", { policies: [...policies, mine] })`),
 * and the pack's name and version. Importing it starts nothing: the pack's server entry is
 * `compute-region-policies/pack`, which only `pulumi preview --policy-pack` should load.
 *
 * The rest of the library is served by subpaths: `/model` (GPU catalog, capacity math, conventions,
 * analyses of a plan), `/rules` (every policy by name), `/changes` (the change policies),
 * `/engine` (the evaluator that runs policies on a plan or on samples, and its reports), `/catalog`
 * (the policy catalog renderer).
 */
export { PACK_NAME, PACK_VERSION, policies, REHEARSAL_POLICIES } from "./rules";
export { changePolicies } from "./changes";
export type { AuditFields, ControlMapping, DisallowedSample, Framework, PolicySample, PolicySamples, RegionPolicy, RegionResourcePolicy, RegionStackPolicy, SampleResource } from "./engine/policy";
