#!/usr/bin/env bash
# Vendors one Helm chart's source, byte for byte, from a clone of its upstream repository:
#
#   scripts/vendor-chart.sh GIT_DIR OWNER/REPO REF PATH NAME-VERSION [NOTE]
#
# GIT_DIR is any clone of https://github.com/OWNER/REPO (bare or not) that has REF (a tag or commit).
# It writes vendor/charts/NAME-VERSION/:
#   chart/       the tree REF:PATH exactly (git archive), which Helm renders (scripts/render-charts.ts)
#   LICENSE      the repository's license at REF (the chart's own, when PATH holds one, is in chart/)
#   SOURCE.json  repository, ref, the commit it resolves to, path, the git tree id of REF:PATH, license
# test/chart-facts.test.ts recomputes the tree id from chart/ and fails when a file differs from upstream.
# Nothing here is code from the chart: templates, values and CRD YAML are data, kept with their license.
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 GIT_DIR OWNER/REPO REF PATH NAME-VERSION [NOTE]" >&2; exit 2; }
git_dir=$1 repo=$2 ref=$3 path=${4%/} name=$5 note=${6:-}
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/vendor/charts/$name"
g() { git -C "$git_dir" "$@"; }

commit=$(g rev-parse --verify "$ref^{commit}")
tree=$(g rev-parse --verify "$commit:$path")
license=$(g ls-tree --name-only "$commit" | grep -i -m1 -E '^(LICENSE|LICENCE|COPYING)(\.(md|txt))?$' || true)
[ -n "$license" ] || { echo "no license file at the root of $repo at $ref" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/chart"
# git archive writes the tree's files with their modes; --format=tar keeps symlinks as symlinks.
g archive --format=tar "$commit" "$path" | tar -x -C "$dest/chart" --strip-components="$(awk -F/ '{print NF}' <<<"$path")"
g show "$commit:$license" >"$dest/LICENSE"
node -e '
const [repo, ref, commit, path, tree, license, note] = process.argv.slice(1);
const source = { repository: `https://github.com/${repo}`, ref, commit, path, tree, license: `LICENSE (${license} at the root of ${repo} at ${ref})`, ...(note ? { note } : {}) };
process.stdout.write(JSON.stringify(source, null, 2) + "\n");
' "$repo" "$ref" "$commit" "$path" "$tree" "$license" "$note" >"$dest/SOURCE.json"
echo "vendored $repo $ref:$path ($tree) into vendor/charts/$name"
