import * as fs from "node:fs";
import * as path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

/**
 * What `npm ci` installs runs on the Node.js the project supports (package.json `engines`, Node 20):
 * every package the lock file pins declares an engines range this Node satisfies, so npm prints no
 * EBADENGINE warning (npm reads the same `engines` the lock file records).
 */
describe("the installed packages", () => {
    it("all support this Node (npm ci prints no engine warning)", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
        const ranged = Object.entries(lock.packages).filter(([, p]) => !Array.isArray(p.engines) && typeof p.engines?.node === "string");
        expect(ranged.length).toBeGreaterThan(50);
        const unsupported = ranged.filter(([, p]) => !semver.satisfies(process.versions.node, (p.engines as { node: string }).node)).map(([name, p]) => `${name}@${p.version}: node ${(p.engines as { node: string }).node}`);
        expect(unsupported, `Node ${process.versions.node}`).toEqual([]);
        // The project's own floor.
        const own = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
        expect(semver.satisfies(process.versions.node, own.engines.node)).toBe(true);
    });
});
