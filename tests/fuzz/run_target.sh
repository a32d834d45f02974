#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One libFuzzer target as a CTest test (tests/fuzz/CMakeLists.txt):
#   run_target.sh BINARY NAME FUZZ_DIR ARTIFACT_DIR MAX_LEN replay
#   run_target.sh BINARY NAME FUZZ_DIR ARTIFACT_DIR MAX_LEN run RUNS SECONDS
# `replay` runs every input of corpus/NAME and regressions/NAME once;
# `run` mutates a temporary copy of them: RUNS inputs, or fewer if SECONDS
# pass first (a slow machine). The same inputs on every machine and every
# run (see below), so CI stays green until the code or the corpus changes;
# exploring is bench/fuzz/run.sh's job. A crash, leak,
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
    runs=${7:-100000} seconds=${8:-30}
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    for d in "${inputs[@]}"; do cp -r "$d/." "$work/"; done
    # Deterministic: a fixed seed (FUZZ_SEED, default 1), a fixed number of
    # inputs, and no comparison tracing (-use_cmp=0). With tracing on,
    # libFuzzer learns compared values, heap addresses among them, and two
    # runs with one seed drift apart after a few hundred inputs (a CI run
    # met findings no local run had seen). Without it the inputs are the
    # same everywhere; a slower machine runs a prefix of them.
    "$bin" "${flags[@]}" -seed="${FUZZ_SEED:-1}" -use_cmp=0 -runs="$runs" \
      -max_total_time="$seconds" "$work" ;;
  *) echo "run_target.sh: unknown mode $mode" >&2; exit 2 ;;
esac
