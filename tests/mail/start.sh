#!/usr/bin/env bash
# Start a throw-away Dovecot (IMAP+STARTTLS, IMAPS, LMTP) and Postfix (submission with
# STARTTLS + AUTH, and implicit-TLS submissions) on 127.0.0.1, all state under BASE.
# Most callers want fixture.sh, which picks free ports, seeds the mailboxes and writes
# the ports.env that tests read.
#
# usage: start.sh BASE IMAP_PORT IMAPS_PORT LMTP_PORT SUBMISSION_PORT SMTPS_PORT
#   env MAIL_UID/MAIL_GID (default 5000): owner of the Maildirs (needs no passwd entry)
# Writes BASE/servers.env (ports, CA file, master PIDs). Stop with stop.sh BASE.
# Exit status: 0 up; 75 a port was taken (pick others and retry); other: failure.
# Runs as root: Dovecot and Postfix start as root and drop privileges themselves.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage="usage: start.sh BASE IMAP IMAPS LMTP SUBMISSION SMTPS"
[ $# -eq 6 ] || { echo "$usage" >&2; exit 2; }
BASE="$1"; IMAP_PORT="$2"; IMAPS_PORT="$3"; LMTP_PORT="$4"; SUBMISSION_PORT="$5"; SMTPS_PORT="$6"
MAIL_UID="${MAIL_UID:-5000}"; MAIL_GID="${MAIL_GID:-5000}"
export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$BASE"; BASE="$(cd "$BASE" && pwd)"
INSTANCE="postern-$(echo -n "$BASE" | md5sum | cut -c1-8)"
EX_PORT_BUSY=75

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"; do
  if port_open "$p"; then echo "start.sh: port $p on 127.0.0.1 is in use" >&2; exit $EX_PORT_BUSY; fi
done

# Every parent of BASE must be traversable by dovenull, dovecot, postfix and MAIL_UID
# (root passes any -x test, so look at the "other" x bit): a BASE under a mode-700
# directory fails only at the first login, with an obscure error.
d="$BASE"
while [ "$d" != / ]; do
  d="$(dirname "$d")"; perm="$(stat -c %A "$d")"
  case "${perm:9:1}" in x|t) ;; *) echo "start.sh: $d is not world-traversable (o+x)" >&2; exit 1;; esac
done

mkdir -p "$BASE"/{etc/ssl,run,state,log,home,postfix/etc,postfix/queue,postfix/data}
chmod 755 "$BASE" "$BASE"/{etc,run,home,log}

# --- a real test CA, and a server certificate signed by it (ECDSA P-256: instant to make)
SSL="$BASE/etc/ssl"
if [ ! -s "$SSL/cert.pem" ] || [ ! -s "$SSL/ca.pem" ]; then
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 3650 -subj "/O=Postern tests/CN=Postern Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$SSL/ca.key" -out "$SSL/ca.pem" 2>>"$BASE/log/openssl.log"
  openssl req -new "${ec[@]}" -subj "/O=Postern tests/CN=localhost" \
    -keyout "$SSL/key.pem" -out "$SSL/server.csr" 2>>"$BASE/log/openssl.log"
  cat > "$SSL/server.ext" <<EXT
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT
  openssl x509 -req -in "$SSL/server.csr" -CA "$SSL/ca.pem" -CAkey "$SSL/ca.key" -set_serial 2 \
    -days 825 -extfile "$SSL/server.ext" -out "$SSL/cert.pem" 2>>"$BASE/log/openssl.log"
  chmod 600 "$SSL/ca.key" "$SSL/key.pem"
  chmod 644 "$SSL/ca.pem" "$SSL/cert.pem"
fi

# --- the fake OAuth provider (oauth_provider.py): Dovecot's oauth2 passdb asks its
# /tokeninfo, so it starts first, on a port of its own choosing (written to a file).
rm -f "$BASE/run/oauth_provider.port"
python3 "$HERE/oauth_provider.py" "$BASE/run/oauth_provider.port" "$BASE/run/oauth_provider.pid" \
  </dev/null >>"$BASE/log/oauth_provider.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$BASE/run/oauth_provider.port" ] && break; sleep 0.05; done
[ -s "$BASE/run/oauth_provider.port" ] || { echo "start.sh: the fake OAuth provider did not start" >&2; exit 1; }
OAUTH_PORT="$(cat "$BASE/run/oauth_provider.port")"

render() {
  sed -e "s|@BASE@|$BASE|g" -e "s|@OAUTH_PORT@|$OAUTH_PORT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
      -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@SUBMISSION_PORT@|$SUBMISSION_PORT|g" \
      -e "s|@SMTPS_PORT@|$SMTPS_PORT|g" -e "s|@MAIL_UID@|$MAIL_UID|g" -e "s|@MAIL_GID@|$MAIL_GID|g" \
      -e "s|@INSTANCE@|$INSTANCE|g" "$1" > "$2"
}
render "$HERE/dovecot.conf.in" "$BASE/etc/dovecot.conf"
render "$HERE/users.in" "$BASE/etc/users"
render "$HERE/dovecot-oauth2.conf.ext.in" "$BASE/etc/dovecot-oauth2.conf.ext"
render "$HERE/main.cf.in" "$BASE/postfix/etc/main.cf"
render "$HERE/master.cf.in" "$BASE/postfix/etc/master.cf"
chmod 644 "$BASE/etc/users"   # read by the auth process (user dovecot)
# Postfix re-reads a main.cf whose mtime is under a second old, sleeping 300 ms each time
# (it might be mid-edit): backdate the rendered files, which saves 1.5 s per start.
touch -d "1 minute ago" "$BASE/postfix/etc/main.cf" "$BASE/postfix/etc/master.cf"

# mail homes (fixture.sh seeds them before the first login), owned by the mail uid
while IFS=: read -r u _; do
  mkdir -p "$BASE/home/${u#*@}/${u%@*}/Maildir"/{cur,new,tmp}
done < "$BASE/etc/users"
chown -R "$MAIL_UID:$MAIL_GID" "$BASE/home"

started=0
on_error() {
  local rc=$?
  if [ $started = 1 ]; then echo "start.sh: failed; stopping what started" >&2; "$HERE/stop.sh" "$BASE" >&2 || true; fi
  # a bind failure on one of this attempt's ports (logs may hold earlier attempts):
  # dovecot "listen(127.0.0.1, PORT) failed: Address already in use",
  # postfix "bind 127.0.0.1 port PORT: Address already in use"
  local ports="$IMAP_PORT|$IMAPS_PORT|$LMTP_PORT|$SUBMISSION_PORT|$SMTPS_PORT"
  if grep -qsE "[ ,]($ports)[):].*Address already in use" "$BASE/log/dovecot-start.log" \
       "$BASE/log/dovecot.log" "$BASE/log/postfix.log" "$BASE/log/postfix-start.log"; then
    exit $EX_PORT_BUSY
  fi
  exit $rc
}
trap on_error ERR
wait_port() {   # bounded: 100 x 0.05 s
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.05; done
  echo "start.sh: nothing listens on 127.0.0.1:$1 after 5 s" >&2; return 1
}

# --- Dovecot: daemonizes, pid in BASE/run/dovecot/master.pid. Redirect its stdio, or the
# daemon keeps the caller's pipe open (`start.sh | tail` would hang).
started=1
dovecot -c "$BASE/etc/dovecot.conf" </dev/null >>"$BASE/log/dovecot-start.log" 2>&1

# --- Postfix: master daemonizes, pid in BASE/postfix/queue/pid/master.pid.
# Postfix reports fatal errors only to syslog (absent here) unless stderr is a tty; to see
# one: script -qc "postfix -c BASE/postfix/etc check" /dev/null
PF="$BASE/postfix/etc"
# `postfix start` normally runs `post-install create-missing` and an integrity check first:
# 1.7 s of shell. Create the queue layout of /etc/postfix/postfix-files ourselves instead and
# ask postfix-script to skip that pass with its `quick-start` marker (removed on use).
Q="$BASE/postfix/queue"
for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
  install -d -o postfix -g root -m 700 "$Q/$d"
done
install -d -o postfix -g postdrop -m 730 "$Q/maildrop"
install -d -o postfix -g postdrop -m 710 "$Q/public"
install -d -o root -g root -m 755 "$Q" "$Q/pid"
install -d -o postfix -g root -m 700 "$BASE/postfix/data"   # master.lock lives here
touch "$Q/quick-start"
postfix -c "$PF" start </dev/null >>"$BASE/log/postfix-start.log" 2>&1

for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"; do wait_port "$p"; done

cat > "$BASE/servers.env" <<ENV
MAIL_BASE=$BASE
IMAP_PORT=$IMAP_PORT
IMAPS_PORT=$IMAPS_PORT
LMTP_PORT=$LMTP_PORT
SUBMISSION_PORT=$SUBMISSION_PORT
SMTPS_PORT=$SMTPS_PORT
CA_FILE=$SSL/ca.pem
DOVECOT_PID=$(tr -d ' \n' < "$BASE/run/dovecot/master.pid")
POSTFIX_PID=$(tr -d ' \n' < "$BASE/postfix/queue/pid/master.pid")
OAUTH_PROVIDER_URL=http://127.0.0.1:$OAUTH_PORT
OAUTH_PROVIDER_PID=$(cat "$BASE/run/oauth_provider.pid")
ENV
