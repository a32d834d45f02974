#!/usr/bin/env bash
# The test mail environment of Postern's integration tests (CTest fixture mail_servers).
#
# usage: fixture.sh start DIR    pick 5 free ports, seed the mailboxes, start Dovecot and
#                                Postfix, write DIR/ports.env (stops an older instance first)
#        fixture.sh stop DIR     stop them by PID and remove DIR/ports.env
#
# DIR/ports.env has KEY=VALUE lines (no quoting, no spaces in values):
#   MAIL_BASE IMAP_PORT IMAPS_PORT LMTP_PORT SUBMISSION_PORT SMTPS_PORT CA_FILE
#   DOVECOT_PID POSTFIX_PID MAIL_HOST MAIL_DOMAIN CORPUS_FILE
#   MAIL_USER1..3 / MAIL_PASS1..3 (alice: full corpus, bob: small INBOX, carol: empty)
#   MAIL_USER_DAVE / MAIL_PASS_DAVE (dave: threads, Trash and a folder, for the organizing tools)
#   MAIL_USER_OSCAR (oscar: XOAUTH2/OAUTHBEARER only, tokens from the fake provider at
#   OAUTH_PROVIDER_URL, tests/mail/oauth_provider.py; OAUTH_PROVIDER_PID)
#   (users.in also has bench@example.test / benchpw, empty, which only postern-bench fills)
# Must run as root (both daemons drop privileges themselves). Every wait is bounded.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
PYTHON="${PYTHON:-python3}"
MAIL_UID="${MAIL_UID:-5000}"; MAIL_GID="${MAIL_GID:-5000}"; export MAIL_UID MAIL_GID
# ports are picked from this range (override for tests of the fixture itself)
PORT_MIN="${POSTERN_MAIL_PORT_MIN:-20000}"; PORT_MAX="${POSTERN_MAIL_PORT_MAX:-40000}"

die() { echo "fixture.sh: $*" >&2; exit 1; }
usage() { die "usage: fixture.sh start|stop DIR"; }
[ $# -eq 2 ] || usage
CMD="$1"; DIR="$2"

# BASE of the instance recorded in DIR (written before anything starts, so a failed
# start can still be stopped), or empty
recorded_base() { if [ -s "$DIR/base" ]; then cat "$DIR/base"; fi; }

stop_instance() {
  local base; base="$(recorded_base)"
  rm -f "$DIR/ports.env"
  if [ -z "$base" ] || [ ! -d "$base" ]; then rm -f "$DIR/base"; return 0; fi
  "$HERE/stop.sh" "$base"
  case "$base" in
    /tmp/postern-mail.*)
      # state lived outside DIR (see choose_base): keep the logs, drop the rest
      rm -rf "$DIR/logs"; cp -r "$base/log" "$DIR/logs" 2>/dev/null || true
      rm -rf "$base" ;;
  esac
  rm -f "$DIR/base"
}

check_prerequisites() {
  [ "$(id -u)" = 0 ] || die "must run as root: Dovecot and Postfix start as root and drop privileges"
  local missing=()
  for b in dovecot postfix openssl "$PYTHON"; do command -v "$b" >/dev/null || missing+=("$b"); done
  for f in /usr/lib/dovecot/imap /usr/lib/dovecot/imap-login /usr/lib/dovecot/lmtp \
           /usr/lib/postfix/sbin/master /usr/lib/postfix/sbin/smtpd; do
    [ -x "$f" ] || missing+=("$f")
  done
  for u in dovecot dovenull postfix; do getent passwd "$u" >/dev/null || missing+=("user $u"); done
  getent group postdrop >/dev/null || missing+=("group postdrop")
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing: ${missing[*]}.
  The test mail servers need the Debian packages dovecot-imapd dovecot-lmtpd postfix openssl python3.
  Install them with the project's install script: sudo scripts/install-deps.sh test
  (fixture.sh itself never installs anything)."
  fi
}

# Dovecot's unprivileged processes must traverse every parent of BASE, and its unix
# sockets (BASE/run/dovecot/...) must fit in sun_path (108 bytes): use DIR/state when
# that works, else a fresh directory under /tmp.
choose_base() {
  local d="$DIR" perm
  case "$DIR" in *[[:space:]]*) mktemp -d /tmp/postern-mail.XXXXXX; return;; esac
  if [ ${#DIR} -gt 60 ]; then mktemp -d /tmp/postern-mail.XXXXXX; return; fi
  while [ "$d" != / ]; do
    perm="$(stat -c %A "$d")"
    case "${perm:9:1}" in x|t) ;; *) mktemp -d /tmp/postern-mail.XXXXXX; return;; esac
    d="$(dirname "$d")"
  done
  echo "$DIR/state"
}

# five distinct ports in [PORT_MIN, PORT_MAX) that 127.0.0.1 can bind right now, starting
# at a random offset (so parallel fixtures rarely collide; start.sh reports a lost race)
pick_ports() {
  "$PYTHON" - "$PORT_MIN" "$PORT_MAX" <<'PY'
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
found, start = [], random.randrange(lo, hi)
for i in range(hi - lo):
    p = lo + (start - lo + i) % (hi - lo)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        found.append(p)
    except OSError:
        pass
    finally:
        s.close()
    if len(found) == 5:
        break
if len(found) < 5:
    sys.exit("fixture.sh: fewer than 5 free ports in %d-%d" % (lo, hi))
print(" ".join(map(str, found)))
PY
}

start_instance() {
  check_prerequisites
  mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
  stop_instance
  rm -rf "$DIR/state" "$DIR/logs"
  local base; base="$(choose_base)"
  mkdir -p "$base"; chmod 755 "$base"
  echo "$base" > "$DIR/base"
  local t0=$EPOCHREALTIME
  # seed before the first start: Dovecot indexes the Maildirs at the first SELECT
  timeout 60 "$PYTHON" "$HERE/seed.py" "$base" --uid "$MAIL_UID" --gid "$MAIL_GID" ||
    { stop_instance; die "seeding failed"; }
  local t1=$EPOCHREALTIME attempt rc ports
  for attempt in 1 2 3 4 5; do
    ports="$(pick_ports)" || { stop_instance; die "no free ports"; }
    rc=0
    # shellcheck disable=SC2086  # five words on purpose
    timeout 60 "$HERE/start.sh" "$base" $ports || rc=$?
    [ $rc = 0 ] && break
    "$HERE/stop.sh" "$base" >/dev/null 2>&1 || true
    if [ $rc != 75 ]; then
      echo "fixture.sh: start.sh failed (status $rc); last log lines:" >&2
      tail -n 20 "$base"/log/*.log >&2 2>/dev/null || true
      stop_instance; exit 1
    fi
    echo "fixture.sh: a port was taken meanwhile (attempt $attempt), picking others" >&2
  done
  [ $rc = 0 ] || { stop_instance; die "could not get free ports after 5 attempts"; }
  {
    cat "$base/servers.env"
    echo "MAIL_HOST=127.0.0.1"
    echo "MAIL_DOMAIN=example.test"
    echo "CORPUS_FILE=$base/corpus.json"
    echo "MAIL_USER1=alice@example.test"; echo "MAIL_PASS1=alicepw"
    echo "MAIL_USER2=bob@example.test";   echo "MAIL_PASS2=bobpw"
    echo "MAIL_USER3=carol@example.test"; echo "MAIL_PASS3=carolpw"
    echo "MAIL_USER_DAVE=dave@example.test"; echo "MAIL_PASS_DAVE=davepw"
    echo "MAIL_USER_OSCAR=oscar@example.test"   # signs in by OAuth only (OAUTH_PROVIDER_URL)
  } > "$DIR/ports.env.tmp"
  mv "$DIR/ports.env.tmp" "$DIR/ports.env"
  awk -v t0="$t0" -v t1="$t1" -v t2="$EPOCHREALTIME" -v f="$DIR/ports.env" 'BEGIN {
    printf "fixture.sh: mail servers up in %.2f s (seed %.2f s, servers %.2f s): %s\n", t2 - t0, t1 - t0, t2 - t1, f }' 
  cat "$DIR/ports.env"
}

case "$CMD" in
  start) start_instance ;;
  stop)
    [ -d "$DIR" ] || exit 0
    DIR="$(cd "$DIR" && pwd)"
    stop_instance ;;
  *) usage ;;
esac
