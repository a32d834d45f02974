#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One libFuzzer target as a CTest test (tests/fuzz/CMakeLists.txt):
#   run_target.sh BINARY NAME FUZZ_DIR ARTIFACT_DIR MAX_LEN replay
#   run_target.sh BINARY NAME FUZZ_DIR ARTIFACT_DIR MAX_LEN run SECONDS
# `replay` runs every input of corpus/NAME and regressions/NAME once;
# `run` mutates a temporary copy of them for SECONDS, with a fixed seed. A crash, leak,
# timeout (10 s per input) or allocation past 2 GB fails the test and
# leaves the input in ARTIFACT_DIR.
set -euo pipefail
bin=$1 name=$2 dir=$3 artifacts=$4 max_len=$5 mode=$6
mkdir -p "$artifacts"
flags=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="$max_len"
       -artifact_prefix="$artifacts/$name-" -print_final_stats=1)
[ -f "$dir/$name.dict" ] && flags+=(-dict="$dir/$name.dict")
inputs=()
for d in "$dir/corpus/$name" "$dir/regressions/$name"; do
  [ -d "$d" ] && inputs+=("$d")
done
case $mode in
  replay)
    # -runs=0: the inputs only, no mutation.
    exec "$bin" "${flags[@]}" -runs=0 "${inputs[@]}" ;;
  run)
    seconds=${7:-20}
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    for d in "${inputs[@]}"; do cp -r "$d/." "$work/"; done
    # A fixed seed (FUZZ_SEED, default 1): the mutations are the same on
    # every CI run, so a target that passed keeps passing until the code or
    # corpus changes; bench/fuzz/run.sh explores with random seeds.
    "$bin" "${flags[@]}" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" "$work" ;;
  *) echo "run_target.sh: unknown mode $mode" >&2; exit 2 ;;
esac
