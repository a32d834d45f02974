#!/usr/bin/env bash
# Peak RSS of each hostile mail server case, before (main, no byte budgets)
# and after (this tree). Release builds, one process per case, so VmHWM is
# the case's own peak. Usage:
#   bench/hostile/run.sh [BEFORE_REF]     (default: main)
# Once the budgets are on main, pass the commit before them (b6bcb9c).
# The "before" tree is exported with git archive into a temporary directory
# (the checkout of BEFORE_REF is never touched). Each run is capped at 6 GB
# of address space (ulimit -v) so a case without budgets cannot take the
# machine down; a case that hits the cap reports its failure instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
ref=${1:-main}
# Under the tree (and laid out like the release preset) so ccache, whose
# base_dir is /work, reuses objects of earlier release builds.
work=${HOSTILE_WORK:-$tree/build/hostile}
cases="endless-line huge-literal list-lines search-uids lying-part nested endless-ehlo"
jobs=${JOBS:-2}

build() { # SOURCE_TREE BUILD_DIR
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPOSTERN_ENABLE_TESTING=OFF -DPOSTERN_SANITIZERS= \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
  cmake --build "$2" -j"$jobs" --target postern-hostile >/dev/null
}

# After: this tree, in the release preset's directory.
build "$tree" "$tree/build/release"

# Before: BEFORE_REF, with this benchmark's source and target added.
rm -rf "$work/before-src"
mkdir -p "$work/before-src"
git -C "$tree" archive "$ref" | tar -x -C "$work/before-src"
mkdir -p "$work/before-src/bench/hostile"
cp "$here/hostile.cpp" "$work/before-src/bench/hostile/"
grep -q postern-hostile "$work/before-src/bench/CMakeLists.txt" \
  || sed -n '/^# Hostile mail servers/,$p' "$tree/bench/CMakeLists.txt" \
       >> "$work/before-src/bench/CMakeLists.txt"
build "$work/before-src" "$work/before-src/build/release"

run() { # BINARY CASE -> "peak_mb<TAB>outcome"
  local out
  # The result is the last line (log lines may come before it).
  if out=$( (ulimit -v 6000000; timeout 600 "$1" "$2") 2>/dev/null); then
    echo "$out" | tail -n 1 | cut -f2-
  else
    printf -- '-\tfailed (exit %s)\n' "$?"
  fi
}

printf '| case | before: peak RSS | before: outcome | after: peak RSS | after: outcome |\n'
printf '|---|---|---|---|---|\n'
for c in $cases; do
  IFS=$'\t' read -r bpeak bout < <(run "$work/before-src/build/release/bench/postern-hostile" "$c")
  IFS=$'\t' read -r apeak aout < <(run "$tree/build/release/bench/postern-hostile" "$c")
  printf '| %s | %s MB | %s | %s MB | %s |\n' "$c" "$bpeak" "${bout:0:90}" \
    "$apeak" "${aout:0:90}"
done
