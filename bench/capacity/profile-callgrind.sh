#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where a mail call's instructions go (issue 18): one server under callgrind
# with instrumentation off during start-up and WARMUP calls, on for CALLS calls of
# OP on one client, then the top functions by inclusive and by self cost,
# per call. Instruction counts are repeatable whatever else the machine does,
# so a change to the hot path can be judged by this alone.
#   bench/capacity/profile-callgrind.sh [BUILD_DIR] [OP] [CALLS] [WARMUP] [MESSAGES]
#   (default build/release list_messages 200 30 2500; OP as in `run --mix`)
# MESSAGES: INBOX of the bench user is filled to that many first (pages 1-100
# of 20 are listed at random with 2500). The profile is kept in
# $OUT/callgrind.out (printed at the end) for callgrind_annotate.
# Needs root for the private Dovecot (tests/mail) and valgrind. Loopback only.
set -euo pipefail
OP="${2:-list_messages}"
CALLS="${3:-200}"
WARMUP="${4:-30}"
MESSAGES="${5:-2500}"
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 2; }
source "$(dirname "$0")/common.sh" profile "${1:-}"
printf 'benchpw\n' > "$OUT/pw"; chmod 600 "$OUT/pw"
"$BENCH" imap-fill --host 127.0.0.1 --port "$IMAPS_PORT" --user bench@example.test \
  --password-file "$OUT/pw" --ca-file "$CA_FILE" --messages "$MESSAGES" >/dev/null
export DATA_DIR="$OUT/data" ACCOUNT_HOST_DENY=none LOG_LEVEL=warn BIND=127.0.0.1
"$BENCH" setup --postern "$POSTERN" --users 1 --tokens "$OUT/tokens" \
  --imap-host 127.0.0.1 --imap-port "$IMAPS_PORT" --imap-security tls \
  --imap-user bench@example.test --imap-password-file "$OUT/pw" --ca-file "$CA_FILE" \
  --scopes "mail:folders mail:read mail:search mail:modify" >/dev/null 2>&1

PORT=$(free_port)
env TOOL_RATE_LIMIT=0 PORT="$PORT" valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$OUT/callgrind.out" "$POSTERN" > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
run() { # COUNT
  "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$OUT/tokens" --clients 1 \
    --duration 600 --requests "$1" --mix "$OP=1" --pages 100 2>/dev/null | grep -E "^total" || true
}
run "$WARMUP" >/dev/null
callgrind_control -i on "$SERVER_PID" >/dev/null
run "$CALLS"
callgrind_control -i off "$SERVER_PID" >/dev/null
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
total=$(callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",","",$1); t=$1} END {print t+0}')
echo "$OP: $((total / CALLS)) instructions per call ($CALLS calls after $WARMUP)"
echo "-- inclusive --"
callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 3,40p || true
echo "-- self --"
callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 3,45p || true
echo "profile: $OUT/callgrind.out"
