#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and passes every test: installs what is missing (compiler, libraries,
# Dovecot, Postfix), builds the ci preset (warnings as errors, ASan + UBSan)
# and runs ctest, which starts and stops the private mail servers itself;
# then builds the fuzz preset (clang, libFuzzer) and replays and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh test
# The MCP end-to-end suite's pinned npm packages; skipped when node_modules
# is already up to date, so this also works offline.
if [ ! -f tests/e2e/node_modules/.package-lock.json ] \
   || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/e2e --no-audit --no-fund
fi
# The dashboard's browser journey: playwright-core, pinned (it drives
# Debian's chromium; no browser is downloaded).
if [ ! -f tests/browser/node_modules/.package-lock.json ] \
   || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/browser --no-audit --no-fund
fi
# The MCP conformance suite and the Node 22 it needs (both from npm, pinned).
if [ ! -f tests/conformance/node_modules/.package-lock.json ] \
   || [ tests/conformance/package-lock.json -nt tests/conformance/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/conformance --no-audit --no-fund
fi
cmake --preset ci >/dev/null
cmake --build --preset ci
built=$(date +%s)
ctest --preset ci "$@"
tested=$(date +%s)
# The fuzz targets (tests/fuzz, clang + libFuzzer): their own tree with only
# the libraries they link; every corpus replayed, then a fixed, repeatable
# run of mutations (at most 30 s) per
# target.
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
fuzz_built=$(date +%s)
ctest --preset fuzz
echo "test.sh: setup+build $((built - start)) s, tests $((tested - built)) s," \
     "fuzz build $((fuzz_built - tested)) s, fuzz tests $(( $(date +%s) - fuzz_built )) s"
