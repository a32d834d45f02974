#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions the server executes per call, in each era, counted by
# callgrind: repeatable whatever else the machine does, so "a modern call
# costs no more than a legacy one" can be checked without timing noise.
# For each operation and era: two fresh servers under callgrind, one making
# WARMUP calls and one WARMUP + CALLS on one client; the difference over
# CALLS is printed as instructions per call.
#   bench/capacity/eras-callgrind.sh [BUILD_DIR] [CALLS] [WARMUP]   (default build/release 200 50)
# Needs root for the private Dovecot (tests/mail) and valgrind. Loopback only.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build/release}" && pwd)"
CALLS="${2:-200}"
WARMUP="${3:-50}"
POSTERN="$BUILD/postern"
BENCH="$BUILD/bench/postern-bench"
[ -x "$POSTERN" ] && [ -x "$BENCH" ] || { echo "build $BUILD first (release preset)" >&2; exit 2; }
OUT="$(mktemp -d /tmp/postern-eras-cg.XXXXXX)"
MAIL="$OUT/mail"
SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() { stop_server; "$ROOT/tests/mail/fixture.sh" stop "$MAIL" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$ROOT/tests/mail/fixture.sh" start "$MAIL" >/dev/null
source "$MAIL/ports.env"
printf '%s\n' "$MAIL_PASS1" > "$OUT/pw"; chmod 600 "$OUT/pw"
export DATA_DIR="$OUT/data" ACCOUNT_HOST_DENY=none LOG_LEVEL=warn BIND=127.0.0.1
"$BENCH" setup --postern "$POSTERN" --users 1 --tokens "$OUT/tokens" \
  --imap-host 127.0.0.1 --imap-port "$IMAPS_PORT" --imap-security tls \
  --imap-user "$MAIL_USER1" --imap-password-file "$OUT/pw" --ca-file "$CA_FILE" \
  --scopes "mail:folders mail:read mail:search mail:modify" 2>/dev/null

run() { # OP ERA COUNT
  "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$OUT/tokens" --clients 1 \
    --duration 600 --requests "$3" --mix "$1=1" --era "$2" 2>/dev/null | grep -E "^total" || true
}

measure() { # OP ERA CALLS: instructions of a whole server run making CALLS calls
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local cg="$OUT/cg"
  env TOOL_RATE_LIMIT=0 PORT="$PORT" valgrind --tool=callgrind \
    --callgrind-out-file="$cg.%p" "$POSTERN" > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  run "$1" "$2" "$3" >/dev/null
  stop_server
  local total=0 ir
  for f in "$cg".*; do
    ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1; exit}')
    total=$((total + ${ir:-0}))
  done
  rm -f "$cg".*
  echo "$total"
}

# A run of WARMUP calls and one of WARMUP + CALLS: the difference is what
# CALLS calls cost, without start-up, first connections and warm-up.
printf '%-14s %-14s %12s\n' operation era "instr/call"
for op in tools/list list_messages; do
  for era in ${ERAS:-legacy legacy-padded modern}; do
    base=$(measure "$op" "$era" "$WARMUP")
    full=$(measure "$op" "$era" $((WARMUP + CALLS)))
    printf '%-14s %-14s %12d\n' "$op" "$era" $(((full - base) / CALLS))
  done
done
