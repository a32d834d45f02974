#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The setup every capacity script shares, sourced as
#   source "$(dirname "$0")/common.sh" NAME "${1:-}"
# NAME names the private run directory, the second argument is the build
# directory (default build/release). It sets ROOT, BUILD, POSTERN, BENCH,
# OUT (a fresh /tmp/postern-NAME.XXXXXX) and MAIL, starts the private Dovecot
# and Postfix (tests/mail, needs root; loopback only) and sources their
# ports.env, defines free_port, and stops the mail servers and any
# $SERVER_PID on exit.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "${2:-$ROOT/build/release}" && pwd)"
POSTERN="$BUILD/postern"
BENCH="$BUILD/bench/postern-bench"
[ -x "$POSTERN" ] && [ -x "$BENCH" ] || { echo "build $BUILD first (release preset)" >&2; exit 2; }
OUT="$(mktemp -d "/tmp/postern-$1.XXXXXX")"
MAIL="$OUT/mail"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  "$ROOT/tests/mail/fixture.sh" stop "$MAIL" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$ROOT/tests/mail/fixture.sh" start "$MAIL" >/dev/null
# shellcheck disable=SC1091
source "$MAIL/ports.env"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
