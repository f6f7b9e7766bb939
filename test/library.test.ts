import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";
import { policies as libraryPolicies } from "compute-region-policies";
import { policies as packPolicies } from "compute-region-policies/rules";
import { ConfigError, KNOWN_KEYS, parseRegionConfig } from "../stacks/config";
import { parseRegionSettings, RegionSettings } from "../stacks/config/settings";
import { regionArgs } from "../stacks/build";
import { changelogEntry, releaseFacts, releaseProblems } from "../scripts/release-check";
import { devStackConfig, engineValues, ROOT } from "./helpers";

/**
 * compute-region as a library: what its package.json promises (a library entry that runs nothing
 * on import, a policy pack whose library and server entries are apart, one version with its
 * CHANGELOG entry), and settings written in code held to the stack file's rules. The packages as a
 * user installs them (tarballs) are tested by consumer.test.ts.
 */

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const policiesPkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policies/package.json"), "utf8"));

interface ProbeStep {
    /** Resources registered and functions invoked through the mock monitor. */
    registered: string[];
    /** Reads of the Pulumi config the engine passes. */
    reads: string[];
    /** Handles opened (a listening server) and still open. */
    handles: string[];
    /** What the required module exports. */
    exports: string[];
}

/**
 * Requires each of `specifiers` in turn in a fresh Node process (from the repository root, so
 * through the packages' `exports`, as a user's require goes) under Pulumi's mock runtime, and
 * reports what each step did: resources registered or functions invoked, Pulumi config read,
 * handles left open. A step `{ call }` runs code with the last module as `lib` instead: the
 * controls that show the probe sees what it looks for.
 */
function requireProbe(...steps: (string | { call: string })[]): ProbeStep[] {
    const script = `
        const pulumi = require("@pulumi/pulumi");
        let registered = [], reads = [];
        pulumi.runtime.setMocks({ newResource: (a) => { registered.push(a.type); return { id: "id", state: a.inputs }; }, call: (a) => { registered.push(a.token); return {}; } }, "probe", "probe", true);
        const store = require("@pulumi/pulumi/runtime/state").getStore();
        store.config = new Proxy(store.config, { get(t, k) { if (typeof k === "string" && k.startsWith("PULUMI_CONFIG")) reads.push(k); return t[k]; } });
        const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
        (async () => {
            const results = [];
            let lib;
            for (const step of ${JSON.stringify(steps)}) {
                registered = []; reads = [];
                const before = new Set(process.getActiveResourcesInfo());
                if (typeof step === "string") lib = require(step);
                else await (async () => eval(step.call))().catch(() => undefined);
                await settle();
                const handles = process.getActiveResourcesInfo().filter((h) => !before.has(h) && h !== "Timeout" && h !== "Immediate");
                results.push({ registered, reads, handles, exports: Object.keys(lib).sort() });
            }
            process.stdout.write("\\n" + JSON.stringify(results));
            process.exit(0);
        })();
    `;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, PULUMI_CONFIG: JSON.stringify({ "compute-region:layer": "region" }) } });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout.trim().split("\n").pop()!);
}

describe("the library entries run nothing on import", () => {
    it("require('compute-region') and compute-region/offline register no resource, read no config, open nothing; the program reads its config only when run", () => {
        const [library, offline, program] = requireProbe("compute-region", "compute-region/offline", { call: "require('compute-region').regionProgram()" });
        expect(library).toMatchObject({ registered: [], reads: [], handles: [] });
        for (const name of ["buildRegion", "parseRegionSettings", "regionFromConfig", "Region", "Network", "Cluster", "GpuNodeGroup", "Tenant", "TenantShard", "ModelGateway", "BillingDatabase", "regionCapacity", "poolCapacity", "sellableGpus", "GPU_CATALOG", "ConfigError"]) {
            expect(library.exports).toContain(name);
        }
        expect(offline).toMatchObject({ registered: [], reads: [], handles: [] });
        expect(offline.exports).toEqual(expect.arrayContaining(["planProject", "runOfflinePlan", "readProject", "readStackConfig"]));
        // The control: the program the project runs reads the config when called.
        expect(program.reads).toContain("PULUMI_CONFIG");
    });

    it("require('compute-region-policies') starts nothing; the pack's server entry, apart, is what starts CrossGuard's analyzer", () => {
        const [library, pack] = requireProbe("compute-region-policies", "compute-region-policies/pack");
        expect(library).toMatchObject({ registered: [], reads: [], handles: [] });
        expect(library.exports).toEqual(expect.arrayContaining(["policies", "PACK_NAME", "PACK_VERSION", "changePolicies"]));
        expect(pack.handles).toContain("TCPServerWrap");
    });
});

describe("package.json: what npm publishes", () => {
    it("compute-region: a public library entry with types, the program apart, @pulumi/* as peers, the pack at its own version", () => {
        expect(pkg.private).toBeUndefined();
        expect(pkg.exports["."]).toEqual({ types: "./bin/index.d.ts", default: "./bin/index.js" });
        expect(pkg.main).toBe("bin/index.js");
        expect(pkg.types).toBe("bin/index.d.ts");
        // Pulumi runs the program from Pulumi.yaml's main, not from the package's.
        expect(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).toMatch(/^main: bin\/stacks\/index\.js$/m);
        expect(pkg.dependencies["compute-region-policies"]).toBe(pkg.version);
        for (const name of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies }).filter((n) => n.startsWith("@pulumi/"))) {
            expect(pkg.dependencies[name], `${name} is a peer, so a program loads one copy of it`).toBeUndefined();
            expect(pkg.peerDependencies[name], name).toBe(`^${pkg.devDependencies[name]}`);
        }
    });

    it("compute-region-policies: public, its library apart from the pack entry the policy host loads, @pulumi/* as peers", () => {
        expect(policiesPkg.private).toBeUndefined();
        expect(policiesPkg.version).toBe(pkg.version);
        expect(policiesPkg.exports["."]).toEqual({ types: "./bin/index.d.ts", default: "./bin/index.js" });
        expect(policiesPkg.exports["./pack"]).toBe("./bin/pack.js");
        // `pulumi preview --policy-pack <dir>` requires the directory, which Node resolves through main.
        expect(policiesPkg.main).toBe("bin/pack.js");
        expect(Object.keys(policiesPkg.dependencies).filter((n) => n.startsWith("@pulumi/"))).toEqual([]);
        expect(Object.keys(policiesPkg.peerDependencies).sort()).toEqual(["@pulumi/policy", "@pulumi/pulumi"]);
    });

    it("every compute-region-policies import of the program, the components and the tools goes through a declared export", () => {
        const exported = new Set(Object.keys(policiesPkg.exports).map((k) => (k === "." ? "compute-region-policies" : `compute-region-policies/${k.slice(2)}`)));
        const seen = new Map<string, string>();
        const scan = (rel: string) => {
            const source = ts.createSourceFile(rel, fs.readFileSync(path.join(ROOT, rel), "utf8"), ts.ScriptTarget.ES2022);
            for (const statement of source.statements) {
                const spec = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
                if (spec?.startsWith("compute-region-policies")) seen.set(spec, rel);
            }
        };
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
                const rel = `${dir}/${entry.name}`;
                if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== "bin") walk(rel);
                else if (entry.isFile() && rel.endsWith(".ts")) scan(rel);
            }
        };
        for (const dir of ["components", "stacks", "offline", "billing", "scripts", "examples"]) walk(dir);
        scan("index.ts");
        expect(seen.size).toBeGreaterThan(4);
        for (const [spec, file] of seen) expect(exported.has(spec), `${file} imports ${spec}, which compute-region-policies does not export`).toBe(true);
    });
});

describe("releases", () => {
    it("CHANGELOG.md has an entry for the package version, and the checkout passes the release check", () => {
        expect(changelogEntry(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8"), pkg.version)).toMatch(new RegExp(`^## \\[${pkg.version.replace(/\./g, "\\.")}\\]`));
        expect(releaseProblems(releaseFacts(ROOT))).toEqual([]);
    });

    it("the release check refuses a tag other than v<version>, versions that differ, and a version without its entry", () => {
        const good = { version: "0.2.0", policiesVersion: "0.2.0", policiesDependency: "0.2.0", packVersion: "0.2.0", changelog: "# Changelog\n\n## [0.2.0] - 2027-01-04\n- more\n", tagsAtHead: ["v0.2.0"] };
        expect(releaseProblems(good)).toEqual([]);
        expect(releaseProblems({ ...good, tagsAtHead: ["v0.1.9", "deployed-prod"] })).toEqual(["git tag v0.1.9 at HEAD, but the package version is 0.2.0: tag v0.2.0, or set the version to 0.1.9"]);
        expect(releaseProblems({ ...good, tagsAtHead: undefined })).toEqual([]);
        expect(releaseProblems({ ...good, policiesVersion: "0.1.0", packVersion: "0.1.0" })).toEqual(["policies/package.json: version 0.1.0 must be the package's 0.2.0 (the two are released together)"]);
        expect(releaseProblems({ ...good, policiesDependency: "^0.1.0" })[0]).toMatch(/dependencies.compute-region-policies must be exactly 0.2.0/);
        expect(releaseProblems({ ...good, packVersion: "0.1.0" })[0]).toMatch(/PACK_VERSION 0.1.0 must be/);
        expect(releaseProblems({ ...good, changelog: "## [0.2.1] - 2027-01-05\n## [0.2.0-rc.1]\n" })).toEqual([`CHANGELOG.md: no entry for 0.2.0 (a "## [0.2.0] - YYYY-MM-DD" section saying what changed)`]);
        expect(releaseProblems({ ...good, changelog: "## [0.2.0]\n" })).toEqual(["CHANGELOG.md: the released 0.2.0 entry needs its date (## [0.2.0] - YYYY-MM-DD)"]);
        expect(releaseProblems({ ...good, version: "0.2", policiesVersion: "0.2", policiesDependency: "0.2", packVersion: "0.2", tagsAtHead: [] })[0]).toMatch(/is not a semantic version/);
    });
});

/** The dev stack file's config as settings in code: keys without their namespaces. */
function devSettings(): RegionSettings {
    return Object.fromEntries(Object.entries(devStackConfig()).map(([k, v]) => [k === "aws:region" ? "region" : k.replace(/^compute-region:/, ""), v])) as RegionSettings;
}

describe("settings in code are held to the stack file's rules", () => {
    it("the dev stack's config, written as settings, validates to the config the program builds from", () => {
        expect(parseRegionSettings(devSettings(), "dev")).toEqual(parseRegionConfig(engineValues(devStackConfig()), "dev"));
    });

    it("every problem at once, each naming the settings key as written", () => {
        const settings = devSettings() as Record<string, any>;
        settings.network.vpcCidr = "10.40.0.0/33";
        settings.tenants[0].quota = { "no-such-pool": 2 };
        settings.gpuPool = [];
        let problems: string[] = [];
        try {
            parseRegionSettings(settings as RegionSettings, "dev");
        } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            problems = (e as ConfigError).problems;
        }
        const known = KNOWN_KEYS.map((k) => (k === "aws:region" ? "region" : k.replace(/^compute-region:/, "")));
        expect(known).toEqual(expect.arrayContaining(["region", "network", "gpuPools", "tenants"]));
        expect(problems).toContain(`region settings: gpuPool: unknown key (known: stack, ${known.join(", ")})`);
        expect(problems.some((p) => p.startsWith("region settings: network.vpcCidr: "))).toBe(true);
        expect(problems.some((p) => p.startsWith("region settings: tenants[0] (acme).quota"))).toBe(true);
        // Messages speak of settings keys, never of the stack file's namespaced ones.
        expect(problems.join("\n")).not.toContain("compute-region:");
    });

    it("an installed package cannot build the billing image: billing without meteringImage names the setting to give", () => {
        const config = parseRegionSettings(devSettings(), "dev");
        const installed = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-installed-"));
        expect(() => regionArgs(config, installed)).toThrow(/billing\.meteringImage: is required when compute-region is used as an installed package/);
        // From the repository (its billing/Dockerfile), the program builds and pushes it.
        expect(regionArgs(config, ROOT).billing?.meteringImageBuild).toMatchObject({ context: ROOT, dockerfile: "billing/Dockerfile" });
        expect(regionArgs(config, ROOT).migrations?.length).toBeGreaterThan(0);
    });

    it("the policy library's entry serves the pack's policies", () => {
        expect(libraryPolicies).toBe(packPolicies);
    });
});
