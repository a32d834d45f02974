#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 18's side-by-side in one sitting: Postern's mail calls against the
# physical floor (postern-bench raw-imap: a hand-written IMAP client doing the
# same FETCH per call) on the same Dovecot, with the same number of IMAP
# connections, each line with throughput, p50/p99, server CPU and context
# switches per call.
#   bench/capacity/mail-calls.sh [BUILD_DIR] [SECONDS] [MESSAGES]
#   (default build/release 10 2500)
# ONLY="list_messages" runs that operation alone (and no uncached reads
# unless it is read_message); PERF=1 also records `perf record -g` of the
# server during each Postern run and prints its top symbols (self cost).
# Cases: 1 account x 10 concurrent calls (ACCOUNT_POOL_SIZE=10, floor: 10
# connections) and 50 accounts x 1 call each (floor: 50 connections), for
# list_messages (a random page of 1-100, 20 envelopes) and read_message
# (cached: the newest 50 messages, read over and over; uncached: the same
# with MESSAGE_CACHE_MB=0). Needs root for the private Dovecot (tests/mail).
# Loopback only; everything it starts is stopped on exit.
set -euo pipefail
SECS="${2:-10}"
MESSAGES="${3:-2500}"
source "$(dirname "$0")/common.sh" mail-calls "${1:-}"
printf 'benchpw\n' > "$OUT/pw"; chmod 600 "$OUT/pw"
IMAP=(--host 127.0.0.1 --port "$IMAPS_PORT" --user bench@example.test
      --password-file "$OUT/pw" --ca-file "$CA_FILE")
"$BENCH" imap-fill "${IMAP[@]}" --messages "$MESSAGES" >/dev/null
export DATA_DIR="$OUT/data" ACCOUNT_HOST_DENY=none LOG_LEVEL=warn BIND=127.0.0.1
"$BENCH" setup --postern "$POSTERN" --users 50 --tokens "$OUT/tokens50" \
  --imap-host 127.0.0.1 --imap-port "$IMAPS_PORT" --imap-security tls \
  --imap-user bench@example.test --imap-password-file "$OUT/pw" --ca-file "$CA_FILE" \
  --scopes "mail:folders mail:read mail:search mail:modify" >/dev/null 2>&1
head -1 "$OUT/tokens50" > "$OUT/tokens1"

start_server() { # extra env assignments as arguments
  stop_server
  PORT=$(free_port)
  env TOOL_RATE_LIMIT=0 ACCOUNT_POOL_SIZE=10 MAX_CONNECTIONS_PER_USER=10 PORT="$PORT" "$@" \
    "$POSTERN" > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "postern did not start; see $OUT/server.log" >&2; exit 1
}
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=""
}
floor() { # operation clients
  echo "== floor: raw IMAP $1, $2 connections"
  "$BENCH" raw-imap "${IMAP[@]}" --clients "$2" --duration "$SECS" --pages 100 \
    --operation "$1" --cpu-of imap,imap-login 2>/dev/null | grep -vE '^$'
}
postern() { # name operation tokens clients
  echo "== postern: $1, $4 clients"
  # A short warm-up fills the pools (and the cache for cached reads).
  "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$3" --clients "$4" \
    --duration 2 --mix "$2=1" --pages 100 >/dev/null 2>&1 || true
  local perf_pid="" data
  data="$OUT/perf-$(echo "$1" | tr -c 'a-z0-9\n' '-').data"
  if [ -n "${PERF:-}" ]; then
    perf record -q -g -p "$SERVER_PID" -o "$data" -- sleep "$SECS" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$3" --clients "$4" \
    --duration "$SECS" --mix "$2=1" --pages 100 --pid "$SERVER_PID" 2>/dev/null | grep -vE '^$'
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    echo "   perf, top symbols by self cost ($data):"
    perf report -i "$data" --no-children --sort dso,sym --stdio 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | head -25 | sed 's/^/   /'
  fi
}

echo "mail-calls on $(nproc) cores, $(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start_server
for op in ${ONLY:-list_messages read_message}; do
  floor "$op" 10
  postern "$op, 1 account" "$op" "$OUT/tokens1" 10
  floor "$op" 50
  postern "$op, 50 accounts" "$op" "$OUT/tokens50" 50
done
if [ -z "${ONLY:-}" ] || [ "$ONLY" = read_message ]; then
  start_server MESSAGE_CACHE_MB=0
  postern "read_message uncached, 1 account" read_message "$OUT/tokens1" 10
fi
echo "reports in $OUT; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
