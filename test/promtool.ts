import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";

/**
 * Runs `promtool test rules` (Debian's prometheus package; scripts/install-system-deps.sh installs
 * it) on a unit-test document, with the rule groups it names as `rules.yaml` beside it.
 */
export function promtoolTestRules(testDoc: unknown, groups?: unknown[]): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
    if (groups) fs.writeFileSync(path.join(dir, "rules.yaml"), toYaml({ groups }));
    fs.writeFileSync(path.join(dir, "tests.yaml"), toYaml(testDoc));
    const r = spawnSync("promtool", ["test", "rules", "tests.yaml"], { cwd: dir, encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
