#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs Postern with embedded defaults: installs what is missing,
# builds the release preset, and serves http://localhost:3000 with its data
# (LMDB and generated keys) in ./data. Any postern flag may follow, e.g.
#   scripts/serve.sh --port 8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release
export DATA_DIR="${DATA_DIR:-$PWD/data}"
exec build/release/postern "$@"
