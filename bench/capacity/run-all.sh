#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every measurement of the capacity issue in one run, on this machine:
#   ceiling   the load generator against a trivial responder
#   tools     tools/list at 50 clients, then the same with a wrong-password
#             login flood (4 loops, spoofed addresses) in the second half
#   list/read list_messages and read_message through Postern vs. the direct
#             IMAP baseline at the same connection count, with the message
#             cache on (the default) and off (MESSAGE_CACHE_MB=0)
#   sessions  RSS of 10 000 idle MCP sessions
# usage: bench/capacity/run-all.sh [BUILD_DIR] [SECONDS]   (default build/release, 10)
# Needs root for the private Dovecot/Postfix (tests/mail). Loopback only;
# everything it starts is stopped on exit. Reports go to $OUT (a temp dir).
set -euo pipefail
SECS="${2:-10}"
source "$(dirname "$0")/common.sh" capacity "${1:-}"
printf '%s\n' "$MAIL_PASS1" > "$OUT/pw"; chmod 600 "$OUT/pw"
export DATA_DIR="$OUT/data" ACCOUNT_HOST_DENY=none LOG_LEVEL=warn BIND=127.0.0.1
"$BENCH" setup --postern "$POSTERN" --users 50 --tokens "$OUT/tokens" \
  --imap-host 127.0.0.1 --imap-port "$IMAPS_PORT" --imap-security tls \
  --imap-user "$MAIL_USER1" --imap-password-file "$OUT/pw" --ca-file "$CA_FILE" \
  --scopes "mail:folders mail:read mail:search mail:modify" 2>/dev/null

start_server() { # extra env assignments as arguments
  stop_server
  PORT=$(free_port)
  env TOOL_RATE_LIMIT=0 MCP_SESSIONS_PER_GRANT=1000 TRUST_PROXY=1 PORT="$PORT" "$@" \
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
cpu_ticks() { awk '{print $14+$15}' "/proc/$SERVER_PID/stat"; }

run() { # name, then postern-bench run arguments
  local name="$1"; shift
  local before after
  before=$(cpu_ticks)
  "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$OUT/tokens" \
    --json "$OUT/$name.json" --svg "$OUT/$name.svg" "$@" > "$OUT/$name.txt" 2>"$OUT/$name.err"
  after=$(cpu_ticks)
  echo "== $name ($*)"; grep -vE '^$' "$OUT/$name.txt"
  grep -h "login flood" "$OUT/$name.err" || true
  local n; n=$(awk '/^total/ {print $2}' "$OUT/$name.txt")
  echo "   server CPU: $(( (after - before) * 10000 / (n > 0 ? n : 1) )) us per request"
}

baseline() { # operation
  echo "== direct IMAP $1 (10 connections)"
  "$BENCH" imap --host 127.0.0.1 --port "$IMAPS_PORT" --user "$MAIL_USER1" \
    --password-file "$OUT/pw" --ca-file "$CA_FILE" --clients 10 --duration "$SECS" \
    --operation "$1" 2>/dev/null | grep -E "^(operation|$1|total)"
}

echo "postern-capacity on $(nproc) cores, $(date -u +%FT%TZ), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
RPORT=$(free_port)
"$BENCH" responder --port "$RPORT" --body-bytes 14500 --duration $((SECS + 5)) > /dev/null &
RESPONDER=$!
sleep 0.3
echo "== ceiling: the generator against a trivial responder (50 clients)"
"$BENCH" run --url "http://127.0.0.1:$RPORT/mcp" --tokens "$OUT/tokens" --clients 50 \
  --duration "$SECS" --mix tools/list=1 2>/dev/null | grep -E "^(operation|tools|total)"
wait "$RESPONDER" || true

start_server
run tools_list --clients 50 --duration $((2 * SECS)) --mix tools/list=1 \
  --flood-loops 4 --flood-spoof 1
for op in list_messages read_message; do
  run "$op" --clients 10 --duration "$SECS" --mix "$op=1"
  baseline "$op"
done
echo "== sessions"
"$BENCH" sessions --url "http://127.0.0.1:$PORT/mcp" --tokens "$OUT/tokens" \
  --sessions 10000 --pid "$SERVER_PID"

start_server MESSAGE_CACHE_MB=0
for op in list_messages read_message; do
  run "${op}_nocache" --clients 10 --duration "$SECS" --mix "$op=1"
done
echo "reports in $OUT; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
