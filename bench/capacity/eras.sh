#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Legacy (2025-11-25 sessions) against modern (2026-07-28, per-request _meta)
# on the same server: throughput and the server's CPU per request for
# tools/list and list_messages in both eras, one after the other.
#
#   bench/capacity/eras.sh [BUILD_DIR (build/release)] [SECONDS (10)] [CLIENTS (20)]
#   ERAS="modern legacy" runs the eras in that order (to rule out order effects)
set -euo pipefail
SECS="${2:-10}"
CLIENTS="${3:-20}"
source "$(dirname "$0")/common.sh" eras "${1:-}"
printf '%s\n' "$MAIL_PASS1" > "$OUT/pw"; chmod 600 "$OUT/pw"
export DATA_DIR="$OUT/data" ACCOUNT_HOST_DENY=none LOG_LEVEL=warn BIND=127.0.0.1
"$BENCH" setup --postern "$POSTERN" --users 20 --tokens "$OUT/tokens" \
  --imap-host 127.0.0.1 --imap-port "$IMAPS_PORT" --imap-security tls \
  --imap-user "$MAIL_USER1" --imap-password-file "$OUT/pw" --ca-file "$CA_FILE" \
  --scopes "mail:folders mail:read mail:search mail:modify" 2>/dev/null
PORT=$(free_port)
env TOOL_RATE_LIMIT=0 MCP_SESSIONS_PER_GRANT=1000 PORT="$PORT" "$POSTERN" > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "postern-bench eras on $(nproc) cores, $(date -u +%FT%TZ), $CLIENTS clients, $SECS s each, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for op in tools/list list_messages; do
  for era in ${ERAS:-legacy modern}; do
    echo "== $op, $era era"
    "$BENCH" run --url "http://127.0.0.1:$PORT/mcp" --tokens "$OUT/tokens" --clients "$CLIENTS" \
      --duration "$SECS" --mix "$op=1" --era "$era" --pid "$SERVER_PID" 2>/dev/null \
      | grep -E "^(operation|$op|total|server CPU)"
  done
done
