import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { runPlan } from "../scripts/plan";
import { runPolicyCheck } from "../scripts/policy-check";
import type { CliIo } from "../scripts/io";

/**
 * The command lines as tests run them. In-process (`planCli`, `policyCheckCli`): the same code the
 * command runs after parsing its arguments, its output and exit code, without a Node process that
 * loads the SDKs again for every call (about half a second each). As a process (`planProcess`,
 * `policyCheckProcess`): for what only a process shows (its exit status, argument errors, what it
 * prints), one test a path; the tests of each command keep a few.
 */

const ROOT = path.resolve(__dirname, "..");

export interface CliRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

function buffers(): { io: CliIo; out: () => Pick<CliRun, "stdout" | "stderr"> } {
    let stdout = "";
    let stderr = "";
    return {
        io: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, cwd: ROOT },
        out: () => ({ stdout, stderr }),
    };
}

/** `npm run plan -- ARGS`, in-process (no progress lines: its stderr is no terminal, and the test passes no --progress). */
export async function planCli(args: string[]): Promise<CliRun> {
    const { io, out } = buffers();
    const status = await runPlan(args, io);
    return { status, ...out() };
}

/** `npm run policy:check -- ARGS`, in-process. */
export function policyCheckCli(args: string[]): CliRun {
    const { io, out } = buffers();
    const status = runPolicyCheck(args, io);
    return { status, ...out() };
}

function processRun(script: string, args: string[], env: Record<string, string> = {}): CliRun {
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin/scripts", script), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
    // A spawned command's stderr is a pipe, not a terminal: the plan prints no progress lines there (unless --progress).
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The compiled `npm run plan` as a process (the test command builds first). */
export function planProcess(args: string[], env: Record<string, string> = {}): CliRun {
    return processRun("plan.js", args, env);
}

/** The compiled `npm run policy:check` as a process. */
export function policyCheckProcess(args: string[]): CliRun {
    return processRun("policy-check.js", args);
}
