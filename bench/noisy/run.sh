#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The noisy-neighbour measurement of issue 15: the tenant's tool-call
# latency alone (quiet) and under the hostile tenant's and the stranger's
# floods (noisy), with tests/e2e/noisy.test.mjs, ROUNDS times each,
# alternating so neither mode always runs on a warmer machine.
#   bench/noisy/run.sh [BUILD_DIR] [CALLS] [ROUNDS]   (default build/release 1000 3)
# NOISY_FLOOD_RATE and NOISY_FLOODS (see tests/e2e/noisy.test.mjs) pass through.
# Needs root for the private Dovecot (tests/mail) and the e2e npm packages
# (scripts/test.sh installs them). Loopback only; stops what it starts.
# The goal: noisy p99 within 25 % of quiet p99.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build/release}" && pwd)"
CALLS="${2:-1000}"
ROUNDS="${3:-3}"
[ -x "$BUILD/postern" ] || { echo "build $BUILD first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
OUT="$(mktemp -d /tmp/postern-noisy.XXXXXX)"
cleanup() { "$ROOT/tests/mail/fixture.sh" stop "$OUT/mail" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$ROOT/tests/mail/fixture.sh" start "$OUT/mail" >/dev/null
export POSTERN_MAIL_ENV="$OUT/mail/ports.env" POSTERN_BIN="$BUILD/postern" NOISY_CALLS="$CALLS"
for round in $(seq "$ROUNDS"); do
  for mode in quiet noisy; do
    quiet=0; [ "$mode" = quiet ] && quiet=1
    NOISY_QUIET=$quiet NOISY_REPORT="$OUT/$mode-$round.json" \
      node --test "$ROOT/tests/e2e/noisy.test.mjs" >"$OUT/$mode-$round.log" 2>&1 \
      || { echo "round $round $mode failed:"; tail -40 "$OUT/$mode-$round.log"; exit 1; }
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(-(-p * len(xs) // 1)) - 1))]
lat = {"quiet": [], "noisy": []}
print("round  mode   calls  p50 ms  p99 ms")
for r in range(1, rounds + 1):
    for mode in ("quiet", "noisy"):
        doc = json.load(open("%s/%s-%d.json" % (out, mode, r)))
        lat[mode] += doc["latencies"]
        print("%5d  %-5s  %5d  %6.2f  %6.2f" % (r, mode, doc["calls"], doc["p50_ms"], doc["p99_ms"]))
        if mode == "noisy":
            floods = doc["floods"]
print("all    quiet  %5d  %6.2f  %6.2f" % (len(lat["quiet"]), pct(lat["quiet"], .5), pct(lat["quiet"], .99)))
print("all    noisy  %5d  %6.2f  %6.2f" % (len(lat["noisy"]), pct(lat["noisy"], .5), pct(lat["noisy"], .99)))
ratio = pct(lat["noisy"], .99) / pct(lat["quiet"], .99)
print("noisy/quiet p99: %.2f (goal <= 1.25)" % ratio)
print("last noisy round, answers per flood:", json.dumps(floods, sort_keys=True))
PY
