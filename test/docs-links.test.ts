import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every relative link of the README and of docs/ resolves: the file exists and, for `#anchor`, the
 * Markdown file it names has that heading (GitHub's anchors). Links to other sites are not fetched.
 * Written here rather than taken from a checker: the maintained ones fetch every external URL as well
 * (markdown-link-check) or bring the whole unified/remark toolchain (remark-validate-links) for what
 * is a line scan, a file lookup and GitHub's slug rule.
 */

/** GitHub's heading anchor: markup dropped, lowercased, punctuation but hyphens and underscores dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
    const text = heading.replace(/`([^`]*)`/g, "$1").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[*_]{1,2}([^*_]+)[*_]{1,2}/g, "$1");
    return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Lines outside fenced code, with inline code spans blanked. */
function prose(text: string): string[] {
    let fence: string | undefined;
    const out: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^\s*(```+|~~~+)/.exec(line);
        if (m) {
            fence = fence ? (m[1][0] === fence[0] && m[1].length >= fence.length ? undefined : fence) : m[1];
            continue;
        }
        if (!fence) out.push(line.replace(/`[^`]*`/g, "``"));
    }
    return out;
}

export function anchorsOf(text: string): Set<string> {
    const seen = new Map<string, number>();
    const anchors = new Set<string>();
    for (const line of prose(text)) {
        const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) continue;
        const base = anchorOf(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n ? `${base}-${n}` : base);
    }
    return anchors;
}

/** The broken relative links of one Markdown file (`file` relative to `root`), as `file: target (why)`. */
export function brokenLinks(root: string, file: string, text: string): string[] {
    const broken: string[] = [];
    // Headings keep their backticks for the anchor; read them from the original text.
    const ownAnchors = anchorsOf(text);
    for (const line of prose(text)) {
        for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
            const target = m[1];
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
            const [path, anchor] = target.split("#");
            const abs = path ? normalize(join(dirname(file), decodeURI(path))) : file;
            if (!existsSync(join(root, abs))) {
                broken.push(`${file}: ${target} (no ${abs})`);
                continue;
            }
            if (anchor === undefined) continue;
            if (!abs.endsWith(".md") || statSync(join(root, abs)).isDirectory()) {
                broken.push(`${file}: ${target} (an anchor into a file that is not Markdown)`);
                continue;
            }
            const anchors = abs === file ? ownAnchors : anchorsOf(readFileSync(join(root, abs), "utf8"));
            if (!anchors.has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor} in ${abs})`);
        }
    }
    return broken;
}

const ROOT = process.cwd();
const FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe("the README's and the docs' links", () => {
    it("resolve, anchors included", () => {
        const links = FILES.flatMap((f) => prose(readFileSync(join(ROOT, f), "utf8")).flatMap((l) => [...l.matchAll(/\]\(([^)\s]+)/g)].filter((m) => !/^[a-z]+:/i.test(m[1]))));
        // The README is a landing page pointing into docs/: a check over no links would prove nothing.
        expect(links.length).toBeGreaterThan(20);
        expect(FILES.flatMap((f) => brokenLinks(ROOT, f, readFileSync(join(ROOT, f), "utf8")))).toEqual([]);
    });

    it("a missing file, a missing heading and a heading's anchor as GitHub writes it are told apart", () => {
        expect(anchorOf("What a first `pulumi up` does, in which order, and how long it takes")).toBe("what-a-first-pulumi-up-does-in-which-order-and-how-long-it-takes");
        const doc = ["# Title", "## Same", "## Same", "[ok](#same-1) [gone](#other) [file](docs/nope.md) [x](README.md#title)", "```", "[in code](nowhere.md)", "```"].join("\n");
        expect(brokenLinks(ROOT, "README.md", doc)).toEqual(["README.md: #other (no heading #other in README.md)", "README.md: docs/nope.md (no docs/nope.md)"]);
    });
});
