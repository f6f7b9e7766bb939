/**
 * `compute-region/offline`: the offline plan as a library. A project that builds on compute-region
 * runs its own program as a preview under Pulumi's mock runtime, with the config the engine would
 * hand it, and gets what it would register (inputs, options, parents, dependencies, unknowns where a
 * preview has them): the resources its tests assert on and compute-region-policies' evaluator judges
 * (`evaluatePolicies` of `compute-region-policies/engine`). No Pulumi CLI, no cloud account.
 */
import * as path from "node:path";
import { OfflinePlanOptions, OfflinePlanResult, runOfflinePlan } from "./harness";
import { PlanInputError, readProject, readStackConfig } from "./project";

export { runOfflinePlan, RecordingMonitor } from "./harness";
export type { OfflinePlanOptions, OfflinePlanResult, RegistrationAnswer } from "./harness";
export { PlanInputError, readProject, readStackConfig, SECRET_PLACEHOLDER } from "./project";
export type { EngineConfig, PulumiProject } from "./project";
export type { OfflineFacts } from "./mocks";

export interface PlanProjectOptions {
    /** The Pulumi project's directory (its Pulumi.yaml; `main` names the compiled program). */
    directory: string;
    /** The stack: its config is read from Pulumi.<stack>.yaml in the directory. */
    stack: string;
    /** A stack file to read instead, as `pulumi --config-file` does. */
    configFile?: string;
    /** The AWS account the mocks answer for (ARNs, caller identity). */
    accountId?: string;
    /** Outputs of other stacks by stack name, for StackReference reads. */
    stackOutputs?: Record<string, Record<string, unknown>>;
    /** The program to run instead of the project's compiled `main` (an in-process function). */
    program?: OfflinePlanOptions["program"];
}

/**
 * Plans a Pulumi project's stack offline: reads Pulumi.yaml and the stack file as the engine does
 * (project defaults, namespaced keys, structured values as JSON text; `secure:` values become
 * placeholders), then runs the program under the mock runtime. The AWS region is the stack's
 * `aws:region`.
 */
export async function planProject(options: PlanProjectOptions): Promise<OfflinePlanResult> {
    const project = readProject(path.resolve(options.directory));
    const config = readStackConfig(project, options.stack, options.configFile);
    const region = config.values["aws:region"];
    if (!region) throw new PlanInputError(`${config.source}: aws:region is required (the region the mocks answer for)`);
    return runOfflinePlan({
        project,
        stack: options.stack,
        config,
        facts: { region, accountId: options.accountId ?? "111122223333", ...(options.stackOutputs ? { stackOutputs: options.stackOutputs } : {}) },
        ...(options.program ? { program: options.program } : {}),
    });
}
