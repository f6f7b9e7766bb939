#!/usr/bin/env bash
# Debian packages the test suite needs, installed when missing (CI and local runs alike).
# Later layers add PostgreSQL (billing schema tests) and promtool (alert rule tests) here.
set -euo pipefail
needed=()
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ "${#needed[@]}" -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}"
fi
