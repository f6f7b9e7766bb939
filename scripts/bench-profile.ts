import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as path from "node:path";

/**
 * The benchmark's CPU profile, loaded with `node --require` before anything else so that it covers
 * what `npm run plan` does (loading the SDKs, the program, the policy evaluation) and stopped before
 * the benchmark's own diagnostics (each policy and the proof re-run alone), which `--cpu-prof` would
 * count as the project's CPU. Profiles only when BENCH_PROFILE_DIR is set; 1 ms samples, as --cpu-prof.
 */
const dir = process.env.BENCH_PROFILE_DIR;
const session = dir ? new inspector.Session() : undefined;

function post(method: string, params?: object): Promise<any> {
    return new Promise((resolve, reject) => session!.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
}

const started = session
    ? (session.connect(), post("Profiler.enable").then(() => post("Profiler.setSamplingInterval", { interval: 1000 })).then(() => post("Profiler.start")))
    : Promise.resolve();

/** Stops the profile and writes it to BENCH_PROFILE_DIR as a .cpuprofile; nothing when not profiling. */
export async function stopBenchProfile(): Promise<void> {
    if (!session || !dir) return;
    await started;
    const { profile } = await post("Profiler.stop");
    fs.writeFileSync(path.join(dir, `bench-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
}
