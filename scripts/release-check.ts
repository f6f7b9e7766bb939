#!/usr/bin/env node
/**
 * npm run release:check
 *
 * What a release needs before `npm publish` of both packages: one semantic version in
 * package.json and policies/package.json (the pack reports it too), compute-region's dependency on
 * compute-region-policies at exactly that version, a CHANGELOG.md entry for it, and, when HEAD is
 * tagged `v<something>`, the tag `v<version>`. Exit 1 with every problem listed, 0 when ready.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import semver from "semver";
import { PACK_VERSION } from "compute-region-policies/rules";
import { packageRoot } from "../stacks/paths";

export interface ReleaseFacts {
    version: string;
    policiesVersion: string;
    /** compute-region's declared dependency on compute-region-policies. */
    policiesDependency: string | undefined;
    /** The version the pack reports to the engine (PACK_VERSION). */
    packVersion: string;
    changelog: string;
    /** Tags at HEAD (`git tag --points-at HEAD`); undefined outside a git checkout. */
    tagsAtHead: string[] | undefined;
}

/** The CHANGELOG's heading for `version` (`## [0.1.0] - 2026-12-06`), if it has one. */
export function changelogEntry(changelog: string, version: string): string | undefined {
    return changelog.split("\n").find((line) => new RegExp(`^## \\[${version.replace(/\./g, "\\.")}\\](\\s|$)`).test(line));
}

export function releaseProblems(facts: ReleaseFacts): string[] {
    const problems: string[] = [];
    const { version } = facts;
    if (!semver.valid(version)) problems.push(`package.json: version ${JSON.stringify(version)} is not a semantic version (MAJOR.MINOR.PATCH)`);
    if (facts.policiesVersion !== version) problems.push(`policies/package.json: version ${facts.policiesVersion} must be the package's ${version} (the two are released together)`);
    if (facts.policiesDependency !== version) {
        problems.push(`package.json: dependencies.compute-region-policies must be exactly ${version} (the pack released with it), got ${JSON.stringify(facts.policiesDependency)}`);
    }
    if (facts.packVersion !== facts.policiesVersion) problems.push(`policies/rules/index.ts: PACK_VERSION ${facts.packVersion} must be policies/package.json's ${facts.policiesVersion}`);
    const entry = changelogEntry(facts.changelog, version);
    if (!entry) problems.push(`CHANGELOG.md: no entry for ${version} (a "## [${version}] - YYYY-MM-DD" section saying what changed)`);
    const releaseTags = (facts.tagsAtHead ?? []).filter((t) => /^v\d/.test(t));
    for (const tag of releaseTags) {
        if (tag !== `v${version}`) problems.push(`git tag ${tag} at HEAD, but the package version is ${version}: tag v${version}, or set the version to ${tag.slice(1)}`);
    }
    if (releaseTags.length > 0 && entry && !/ - \d{4}-\d{2}-\d{2}\s*$/.test(entry)) problems.push(`CHANGELOG.md: the released ${version} entry needs its date (## [${version}] - YYYY-MM-DD)`);
    return problems;
}

/** The facts of the checkout at `root`. */
export function releaseFacts(root: string = packageRoot()): ReleaseFacts {
    const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
    const pkg = JSON.parse(read("package.json")) as { version: string; dependencies?: Record<string, string> };
    const policies = JSON.parse(read("policies/package.json")) as { version: string };
    let tagsAtHead: string[] | undefined;
    try {
        tagsAtHead = execFileSync("git", ["tag", "--points-at", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
            .split("\n")
            .filter(Boolean);
    } catch {
        tagsAtHead = undefined;
    }
    return { version: pkg.version, policiesVersion: policies.version, policiesDependency: pkg.dependencies?.["compute-region-policies"], packVersion: PACK_VERSION, changelog: read("CHANGELOG.md"), tagsAtHead };
}

if (require.main === module) {
    const facts = releaseFacts();
    const problems = releaseProblems(facts);
    if (problems.length > 0) {
        process.stderr.write(`not releasable (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}\n`);
        process.exit(1);
    }
    const tag = (facts.tagsAtHead ?? []).find((t) => t === `v${facts.version}`);
    process.stdout.write(`compute-region and compute-region-policies ${facts.version}: versions agree, CHANGELOG.md has the entry${tag ? `, HEAD is tagged ${tag}` : facts.tagsAtHead ? ", HEAD is not tagged (no release here)" : " (not a git checkout: tags not checked)"}\n`);
}
