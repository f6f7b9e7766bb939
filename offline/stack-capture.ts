import * as pulumi from "@pulumi/pulumi";

/**
 * The Node.js SDK records a stack trace for every promise it makes (`debuggablePromise` formats
 * `new Error().stack` to report leaked promises) and for every resource (`Resource.stackTrace`, at
 * unlimited depth, for the source position the engine shows); it also preallocates an Error per
 * registration. The offline plan reads none of them, and they cost about half of a plan's CPU time
 * (the dev plan 0.8 s -> 0.4 s; the 1,000-tenant benchmark 29 s -> 14 s). So the plan turns them off
 * while the program runs, and puts them back after: a plan registers the same resources either way
 * (test/offline-plan.test.ts compares them; fewer promise turns may interleave registrations in
 * another order, as over gRPC).
 *
 * `debuggablePromise` also labels each promise (an id, a context string, the stack) with three
 * property definitions, which make every promise a slow dictionary-mode object, and chains two
 * promises after it (`then`, then `catch`). The labels are read only to print leaked promises when
 * PULUMI_DEBUG_PROMISE_LEAKS is set; while stack capture is off (and that variable is not set), the
 * plan keeps what the leak check at exit needs (the promise among the leak candidates until it
 * settles, a rejection's `promise`) in one chained promise, without the labels: about 1.5 s of the
 * 1,000-tenant plan.
 *
 * What is lost is the stack of an error the program throws while they are off: `npm run plan` runs
 * the program once more with them on when it fails, so its message says where
 * (COMPUTE_REGION_STACK_TRACES=1 keeps them on for any caller).
 */

interface ResourceStatics {
    stackTrace(skip: number): unknown[];
}

type DebuggablePromise = <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
/** The SDK module that wraps its promises (internal: typed here with what this file uses). */
interface Debuggable {
    debuggablePromise: DebuggablePromise;
    debugPromiseLeaks: boolean;
}

const statics = pulumi.Resource as unknown as ResourceStatics;
/* eslint-disable @typescript-eslint/no-require-imports */
const debuggable: Debuggable = require("@pulumi/pulumi/runtime/debuggable");
const sdkState: { getStore(): { leakCandidates: Set<Promise<unknown>> } } = require("@pulumi/pulumi/runtime/state");
/* eslint-enable @typescript-eslint/no-require-imports */
let depth = 0;
let saved: { limit: number; stackTrace: ResourceStatics["stackTrace"]; debuggablePromise: DebuggablePromise } | undefined;

/**
 * What `debuggablePromise` does for the leak check at exit, without the labels only a leak report
 * reads: the promise is a leak candidate until it settles, and a rejection names its promise.
 */
function unlabelledPromise<T>(p: Promise<T>): Promise<T> {
    const candidates = sdkState.getStore().leakCandidates;
    candidates.add(p);
    return p.then(
        (value) => {
            candidates.delete(p);
            return value;
        },
        (err) => {
            candidates.delete(p);
            err.promise = p;
            throw err;
        },
    );
}

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
        saved = { limit: Error.stackTraceLimit, stackTrace: statics.stackTrace, debuggablePromise: debuggable.debuggablePromise };
        Error.stackTraceLimit = 0;
        // The source position of each registration: only the engine's display reads it.
        statics.stackTrace = () => [];
        if (!debuggable.debugPromiseLeaks) {
            // Once through the SDK's own, which schedules the leak check at exit (once per process).
            void saved.debuggablePromise(Promise.resolve(), "offline plan");
            debuggable.debuggablePromise = unlabelledPromise;
        }
    }
    depth++;
    try {
        return await work();
    } finally {
        depth--;
        if (depth === 0 && saved) {
            Error.stackTraceLimit = saved.limit;
            statics.stackTrace = saved.stackTrace;
            debuggable.debuggablePromise = saved.debuggablePromise;
            saved = undefined;
        }
    }
}
