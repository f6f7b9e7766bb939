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

/**
 * The root of the compute-region package: the repository from source and from bin/, or the
 * installed package (node_modules/compute-region) when it is used as a library. What the package
 * ships (the billing schema's migrations) is read from here, never from the user's project.
 */
export function packageRoot(from: string = __dirname): string {
    let dir = from;
    while (!isThisPackage(path.join(dir, "package.json"))) {
        const up = path.dirname(dir);
        if (up === dir) throw new Error(`cannot find the compute-region package root (its package.json) above ${from}`);
        dir = up;
    }
    return dir;
}

function isThisPackage(file: string): boolean {
    try {
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown }).name === "compute-region";
    } catch {
        return false;
    }
}
