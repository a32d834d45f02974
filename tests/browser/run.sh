#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the dashboard's browser journey (ctest: browser.journey) in Debian's
# Chromium with the pinned playwright-core. Installs the npm package with
# `npm ci` only when node_modules is missing or older than package-lock.json,
# so it also works offline once installed. Screenshots of failed steps land
# in tests/artifacts/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v node >/dev/null || {
  echo "run.sh: node is not installed; run scripts/install-deps.sh test" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || {
  echo "run.sh: Debian's chromium is not installed; run scripts/install-deps.sh test" >&2; exit 1; }
if [ ! -f "$HERE/node_modules/.package-lock.json" ] \
   || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$HERE" --no-audit --no-fund
fi
exec node --test "$HERE/journey.test.mjs" "$HERE/signin.test.mjs"
