#!/usr/bin/env bash
# usage: stop.sh BASE
# Stops the Dovecot and Postfix master processes that start.sh started under BASE, by the
# PIDs in their pid files (never by name): TERM both, wait up to 10 s, then KILL.
# A PID is only signalled if it still belongs to the expected program and to this BASE's
# configuration, so a stale pid file cannot hit an unrelated process.
set -uo pipefail
BASE="${1:?usage: stop.sh BASE}"
[ -d "$BASE" ] || { echo "stop.sh: no directory $BASE" >&2; exit 0; }
BASE="$(cd "$BASE" && pwd)"

# ours NAME PID: is PID a live process of NAME (dovecot/postfix) started for this BASE?
ours() {
  local name="$1" pid="$2" comm exe
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)"; exe="$(readlink "/proc/$pid/exe" 2>/dev/null)"
  case "$name" in
    dovecot) [ "$comm" = dovecot ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$BASE/etc/dovecot.conf" ;;
    # postfix's master gets its config directory through the environment, not argv
    postfix) [ "$comm" = master ] && [ "$exe" = /usr/lib/postfix/sbin/master ] &&
               tr '\0' '\n' < "/proc/$pid/environ" | grep -qxF -- "MAIL_CONFIG=$BASE/postfix/etc" ;;
  esac
}

declare -A PIDS=()
for pair in "postfix:$BASE/postfix/queue/pid/master.pid" "dovecot:$BASE/run/dovecot/master.pid"; do
  name="${pair%%:*}"; file="${pair#*:}"
  if [ -f "$file" ]; then pid="$(tr -d ' \n' < "$file")"
  else  # pid file gone: fall back to what start.sh recorded
    pid="$(sed -n "s/^${name^^}_PID=//p" "$BASE/servers.env" 2>/dev/null)"
    [ -n "$pid" ] || continue
  fi
  if ours "$name" "$pid"; then kill -TERM "$pid" 2>/dev/null && PIDS[$name]=$pid
  else echo "stop.sh: $name pid ${pid:-?} is not running"; fi
done
# alive PID: running and not a zombie (a daemon's parent may be slow to reap it, and
# kill -0 succeeds on zombies)
alive() { local st; st="$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" && [ -n "$st" ] && [ "$st" != Z ]; }
# wait for both together (bounded: 200 x 0.05 s)
for _ in $(seq 1 200); do
  n=0
  for name in "${!PIDS[@]}"; do alive "${PIDS[$name]}" && n=$((n + 1)); done
  [ $n = 0 ] && break
  sleep 0.05
done
for name in "${!PIDS[@]}"; do
  pid=${PIDS[$name]}
  if alive "$pid"; then
    echo "stop.sh: $name pid $pid still alive after 10 s, sending KILL"; kill -KILL "$pid" 2>/dev/null
  fi
  echo "stop.sh: stopped $name (pid $pid)"
done
# the fake OAuth provider: a python3 whose command line names this BASE's pid file
pf="$BASE/run/oauth_provider.pid"
if [ -f "$pf" ]; then
  pid="$(tr -d ' \n' < "$pf")"
  if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pf"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    echo "stop.sh: stopped the fake OAuth provider (pid $pid)"
  fi
  rm -f "$pf"
fi
rm -f "$BASE/run/dovecot/master.pid" "$BASE/postfix/queue/pid/master.pid"
exit 0
