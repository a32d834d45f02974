#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the MCP end-to-end suite (ctest: mcp.e2e). Installs the pinned npm
# packages with `npm ci` only when node_modules is missing or older than
# package-lock.json, so it also works offline once installed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v node >/dev/null || {
  echo "run.sh: node is not installed; run scripts/install-deps.sh test" >&2; exit 1; }
if [ ! -f "$HERE/node_modules/.package-lock.json" ] \
   || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$HERE" --no-audit --no-fund
fi
# With arguments: those suites only (e.g. eras.test.mjs for mcp.e2e.eras).
if [ $# -gt 0 ]; then
  exec node --test "${@/#/$HERE/}"
fi
exec node --test "$HERE/mcp.test.mjs" "$HERE/oauth.test.mjs" "$HERE/tools_imap.test.mjs" "$HERE/tools_compose.test.mjs"
