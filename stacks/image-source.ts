import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A tag for an image built from `context`: a hash of every file the build can see (what
 * `.dockerignore` leaves), so the tag changes exactly when the sources do. The repository's tags
 * are immutable, so a rebuild must never reuse one. Written here rather than taken from a library:
 * the region's `.dockerignore` lists plain paths only, and that is all this reads (a pattern with
 * wildcards is refused rather than misread).
 */
export function sourceTag(context: string): string {
    const ignoreFile = path.join(context, ".dockerignore");
    const ignored = fs.existsSync(ignoreFile)
        ? fs
              .readFileSync(ignoreFile, "utf8")
              .split("\n")
              .map((l) => l.trim().replace(/^\/+|\/+$/g, ""))
              .filter((l) => l && !l.startsWith("#"))
        : [];
    const patterned = ignored.find((l) => /[*?[!]/.test(l));
    if (patterned) throw new Error(`${ignoreFile}: ${JSON.stringify(patterned)} is a pattern; the image tag is computed from plain paths only`);
    const skip = new Set(ignored);
    const hash = createHash("sha256");
    const walk = (relative: string) => {
        for (const entry of fs.readdirSync(path.join(context, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const rel = relative ? `${relative}/${entry.name}` : entry.name;
            if (skip.has(rel)) continue;
            if (entry.isDirectory()) walk(rel);
            else if (entry.isFile()) hash.update(rel).update("\0").update(fs.readFileSync(path.join(context, rel))).update("\0");
        }
    };
    walk("");
    return `src-${hash.digest("hex").slice(0, 16)}`;
}
