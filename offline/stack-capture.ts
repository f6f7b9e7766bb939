import * as pulumi from "@pulumi/pulumi";

/**
 * The Node.js SDK records a stack trace for every promise it makes (`debuggablePromise` formats
 * `new Error().stack` to report leaked promises) and for every resource (`Resource.stackTrace`, at
 * unlimited depth, for the source position the engine shows); it also preallocates an Error per
 * registration. The offline plan reads none of them, and they cost about half of a plan's CPU time
 * (the dev plan 0.8 s -> 0.4 s; the 1,000-tenant benchmark 29 s -> 14 s). So the plan turns them off
 * while the program runs, and puts them back after: a plan's document is byte-identical either way
 * (test/offline-plan.test.ts compares them).
 *
 * What is lost is the stack of an error the program throws while they are off: `npm run plan` runs
 * the program once more with them on when it fails, so its message says where
 * (COMPUTE_REGION_STACK_TRACES=1 keeps them on for any caller).
 */

interface ResourceStatics {
    stackTrace(skip: number): unknown[];
}

const statics = pulumi.Resource as unknown as ResourceStatics;
let depth = 0;
let saved: { limit: number; stackTrace: ResourceStatics["stackTrace"] } | undefined;

/** Whether the environment asks to keep stack traces on during plans. */
export function stackTracesRequested(): boolean {
    return process.env.COMPUTE_REGION_STACK_TRACES === "1";
}

/**
 * Runs `work` with the SDK's stack capture off (nested calls share one switch). Everything else in
 * the process sees it off too while `work` runs: a plan runs alone in its process or test file.
 */
export async function withoutStackCapture<T>(work: () => Promise<T>): Promise<T> {
    if (depth === 0) {
        saved = { limit: Error.stackTraceLimit, stackTrace: statics.stackTrace };
        Error.stackTraceLimit = 0;
        // The source position of each registration: only the engine's display reads it.
        statics.stackTrace = () => [];
    }
    depth++;
    try {
        return await work();
    } finally {
        depth--;
        if (depth === 0 && saved) {
            Error.stackTraceLimit = saved.limit;
            statics.stackTrace = saved.stackTrace;
            saved = undefined;
        }
    }
}
