#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Long libFuzzer runs of the fuzz preset's targets, one after the other:
#   bench/fuzz/run.sh [SECONDS-PER-TARGET] [TARGET...]
# (default 600 s, every target built in build/fuzz). FUZZ_RUNS=n ends a
# target's run after n inputs if that comes first (issue 14's long run:
# FUZZ_RUNS=10000000 bench/fuzz/run.sh 3600). Each run starts from a
# copy of tests/fuzz/corpus/<target> and regressions/<target> (the
# repository stays clean), niced, one process (the machine is shared), and
# prints per target: executions, exec/s, corpus size at the end, and the
# finding if any. A crash, leak, timeout (10 s per input) or allocation past
# 2 GB ends that target's run (libFuzzer's own rule; fork mode would go on
# but runs many times slower); the input is kept in
# build/fuzz/fuzz-artifacts/. FUZZ_JOBS=n runs n targets at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
bin_dir=build/fuzz/tests/fuzz
[ -d "$bin_dir" ] || { echo "run.sh: build the fuzz preset first (cmake --preset fuzz && cmake --build --preset fuzz)" >&2; exit 2; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$bin_dir"/postern-fuzz-*; do targets+=("${b##*/postern-fuzz-}"); done
fi
artifacts=$PWD/build/fuzz/fuzz-artifacts
logs=$PWD/build/fuzz/fuzz-logs
mkdir -p "$artifacts" "$logs"
export UBSAN_OPTIONS="suppressions=$PWD/tests/ubsan.supp:print_stacktrace=1:halt_on_error=1"
# Full stacks at every allocation: libetpan has no frame pointers, and the
# suppressions (lsan.supp) name the parse functions deep in its stacks.
export ASAN_OPTIONS="fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp"
max_len_of() {
  # The max_len the CTest run uses (tests/fuzz/CMakeLists.txt).
  local line
  line=$(grep -E "^postern_fuzz_target\($1 " tests/fuzz/CMakeLists.txt || true)
  [[ $line =~ MAX_LEN\ ([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 4096
}
run_one() {
  local t=$1 work log
  work=$(mktemp -d)
  for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
    [ -d "$d" ] && cp -r "$d/." "$work/"
  done
  log=$logs/$t.log
  local dict=()
  [ -f tests/fuzz/$t.dict ] && dict=(-dict=tests/fuzz/$t.dict)
  local rc=0
  nice -n 15 "$bin_dir/postern-fuzz-$t" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -max_len="$(max_len_of "$t")" "${dict[@]}" -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" \
    -artifact_prefix="$artifacts/$t-" -print_final_stats=1 "$work" >"$log" 2>&1 || rc=$?
  local execs rate corpus finding=none
  # (|| true: a log without the line must not end the script, set -e)
  execs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | awk '{print $2}' || true)
  rate=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{print $2}' || true)
  if [ -z "$execs" ]; then # ended by a finding: the last status line
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  fi
  corpus=$(find "$work" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    finding=$(grep -oE 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //' || true)
    what=$(grep -m1 -oE '(ERROR: [A-Za-z]+: [a-z -]+|broken promise: .*|runtime error: .*|SUMMARY: .*)' "$log" | head -c 120 || true)
    finding="${what:-exit $rc} -> ${finding:-?}"
  fi
  printf '%-16s %12s execs %8s exec/s %6s inputs  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$finding"
  rm -rf "$work"
}
echo "bench/fuzz: ${seconds} s per target: ${targets[*]}"
jobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
  if [ "$jobs" -gt 1 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$t" &
  else
    run_one "$t"
  fi
done
wait
