import * as fs from "node:fs";
import * as path from "node:path";

/** Writes a report file, creating its directory. */
export function writeOutput(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
}

/** Where a command writes, and the directory it runs in: the process's own, or a test's buffers. */
export interface CliIo {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
    /** Progress lines for long runs (none when absent). */
    progress?: { write(text: string): unknown };
    cwd: string;
}

export const PROCESS_IO: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    progress: process.stderr,
    get cwd() {
        return process.cwd();
    },
};
