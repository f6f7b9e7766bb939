import * as fs from "node:fs";
import * as path from "node:path";

/** The project root: the nearest folder up from here with Pulumi.yaml (the same from source and from bin/). */
export function projectRoot(from: string = __dirname): string {
    let dir = from;
    while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        const up = path.dirname(dir);
        if (up === dir) throw new Error(`cannot find the project root (Pulumi.yaml) above ${from}`);
        dir = up;
    }
    return dir;
}
