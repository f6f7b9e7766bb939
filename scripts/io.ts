import * as fs from "node:fs";
import * as path from "node:path";

/** Writes a report file, creating its directory. */
export function writeOutput(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
}
