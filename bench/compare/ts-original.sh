#!/usr/bin/env bash
# Runs the TypeScript original (mkrasselt1/imap-mcp-server) against the test mail servers, so
# that postern-bench can load it exactly as it loads Postern. We only RUN the original here;
# none of its code is part of Postern (see bench/compare/README.md).
#
# usage: ts-original.sh start ORIGINAL_DIR STATE_DIR [USERS]
#          ORIGINAL_DIR: a clone of the original after `npm ci && npm run build` (has dist/index.js)
#          USERS (default 50): users to create, each with one IMAP account (alice@example.test
#          on the IMAPS port) and one OAuth access token, like `postern-bench setup` does
#        ts-original.sh stop STATE_DIR
# environment: ORIGINAL_NODE_FLAGS  extra node flags for the original (e.g. --trace-gc)
#
# start writes, in STATE_DIR:
#   tokens.txt    one bearer token per line (postern-bench run|sessions --tokens)
#   original.env  URL=http://127.0.0.1:PORT/mcp, PID= (the node process, for sessions --pid),
#                 TOKENS=, MAIL_ENV= (the mail servers' ports.env)
#   node.log      the original's stdout/stderr (it prints its generated admin password there)
#   mail/         the test mail servers (tests/mail/fixture.sh)
#
# Every token comes from the original's own OAuth 2.1 flow, driven with curl the way a browser
# and an MCP client would: dynamic client registration, GET /oauth/authorize (-> /login),
# POST /login, the consent page, POST /oauth/authorize, POST /oauth/token with the PKCE
# verifier. Users and accounts are made through the dashboard forms (/signup, /accounts/add).
# Scopes: everything except mail:send. Access tokens live 1 hour: run the benchmark in that time.
# Every wait is bounded; everything listens on 127.0.0.1 only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIXTURE="$HERE/../../tests/mail/fixture.sh"
SCOPES="mail:folders mail:read mail:search mail:modify"
REDIRECT_URI="http://127.0.0.1:9/callback" # never contacted: curl does not follow redirects

die() { echo "ts-original.sh: $*" >&2; exit 1; }
usage() { die "usage: ts-original.sh start ORIGINAL_DIR STATE_DIR [USERS] | stop STATE_DIR"; }

urlencode() { jq -rn --arg v "$1" '$v|@uri'; }

# header FILE NAME: the value of a response header (last one wins), without the CR
header() { sed -n "s/^$2: *//Ip" "$1" | tr -d '\r' | tail -n 1; }

# http METHOD URL JAR [curl args...]: runs one request with a cookie jar; leaves the status in
# $STATUS, headers in $WORK/h, body in $WORK/b. Bounded by --max-time.
http() {
  local method="$1" url="$2" jar="$3"; shift 3
  STATUS="$(curl -sS --max-time 20 -X "$method" -b "$jar" -c "$jar" -D "$WORK/h" -o "$WORK/b" \
                 -w '%{http_code}' "$@" "$url")" || die "$method $url: curl failed"
}

# form METHOD URL JAR < body: an application/x-www-form-urlencoded POST whose body (it may hold
# passwords) comes from standard input, never from the command line
form() {
  http POST "$1" "$2" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @-
}

expect_redirect() { # expect_redirect WHAT PREFIX: a 302 whose Location starts with PREFIX
  local location; location="$(header "$WORK/h" Location)"
  if [ "$STATUS" != 302 ] || [ "${location#"$2"}" = "$location" ]; then
    die "$1: expected a redirect to $2, got HTTP $STATUS to '${location}' ($(head -c 300 "$WORK/b"))"
  fi
}

stop_instance() {
  local dir="$1"
  if [ -s "$dir/node.pid" ]; then
    local pid; pid="$(cat "$dir/node.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/node.pid"
  fi
  rm -f "$dir/original.env"
  if [ -d "$dir/mail" ]; then "$FIXTURE" stop "$dir/mail" || true; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pkce_verifier() { openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n'; }
pkce_challenge() {
  printf '%s' "$1" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# issue_token I: user bench-I signs up, adds the alice account, and authorizes; prints a token
issue_token() {
  local i="$1" user="bench-$1" password="bench-password-$1"
  local dash="$WORK/dash.jar" browser="$WORK/browser.jar"
  rm -f "$dash" "$browser"

  # dashboard: sign up (logs in) and add the IMAP account
  form "$BASE/signup" "$dash" <<< "username=$(urlencode "$user")&password=$(urlencode "$password")"
  expect_redirect "signup $user" /dashboard
  form "$BASE/accounts/add" "$dash" <<EOF
label=alice&imap_host=$(urlencode "$MAIL_HOST")&imap_port=$IMAPS_PORT&imap_tls=1&username=$(urlencode "$MAIL_USER1")&password=$(urlencode "$MAIL_PASS1")&smtp_host=$(urlencode "$MAIL_HOST")&smtp_port=$SUBMISSION_PORT&smtp_tls=1
EOF
  expect_redirect "add account for $user" /dashboard

  # OAuth: a fresh browser is sent to the login page, logs in, is sent back to the consent page
  local verifier challenge state="s$i-$RANDOM" query
  verifier="$(pkce_verifier)"; challenge="$(pkce_challenge "$verifier")"
  query="response_type=code&client_id=$CLIENT_ID&redirect_uri=$(urlencode "$REDIRECT_URI")"
  query+="&scope=$(urlencode "$SCOPES")&state=$state&code_challenge=$challenge&code_challenge_method=S256"
  http GET "$BASE/oauth/authorize?$query" "$browser"
  expect_redirect "authorize before login" /login
  form "$BASE/login" "$browser" <<< "username=$(urlencode "$user")&password=$(urlencode "$password")"
  expect_redirect "login $user" /oauth/authorize
  http GET "$BASE$(header "$WORK/h" Location)" "$browser"
  [ "$STATUS" = 200 ] || die "consent page for $user: HTTP $STATUS"

  # consent: the account the page offers, and the scope boxes it shows checked
  local account scope_fields
  account="$(grep -o '<option value="[^"]*"' "$WORK/b" | head -n 1 | sed 's/.*value="//; s/"$//')"
  [ -n "$account" ] || die "consent page for $user offers no account"
  scope_fields="$(grep -o 'name="scope_[^"]*"' "$WORK/b" | sed 's/name="//; s/"$//' \
                  | grep -vx 'scope_mail:send' | while read -r f; do printf '&%s=1' "$(urlencode "$f")"; done)"
  [ -n "$scope_fields" ] || die "consent page for $user shows no scopes"
  form "$BASE/oauth/authorize" "$browser" <<EOF
client_id=$CLIENT_ID&redirect_uri=$(urlencode "$REDIRECT_URI")&state=$state&code_challenge=$challenge&code_challenge_method=S256&account_id=$(urlencode "$account")$scope_fields
EOF
  expect_redirect "consent of $user" "$REDIRECT_URI?code="
  local location code
  location="$(header "$WORK/h" Location)"
  case "$location" in *"&state=$state"*) ;; *) die "consent of $user: state not echoed" ;; esac
  code="$(sed 's/^[^?]*?code=//; s/&.*//' <<< "$location")"

  # token exchange with the PKCE verifier
  http POST "$BASE/oauth/token" "$WORK/none.jar" -H 'Content-Type: application/json' --data-binary @- \
    <<< "$(jq -n --arg code "$code" --arg client "$CLIENT_ID" --arg uri "$REDIRECT_URI" --arg v "$verifier" \
           '{grant_type:"authorization_code", code:$code, client_id:$client, redirect_uri:$uri, code_verifier:$v}')"
  [ "$STATUS" = 200 ] || die "token exchange for $user: HTTP $STATUS $(head -c 300 "$WORK/b")"
  local granted; granted="$(jq -r .scope "$WORK/b")"
  [ "$granted" = "$SCOPES" ] || die "token of $user has scopes '$granted', wanted '$SCOPES'"
  jq -re .access_token "$WORK/b"
}

# smoke_test TOKEN: one MCP session that lists INBOX, so a broken IMAP setup fails here and not
# as a wall of tool errors in the benchmark
smoke_test() {
  local auth="Authorization: Bearer $1" accept='Accept: application/json, text/event-stream'
  http POST "$URL" "$WORK/none.jar" -H "$auth" -H "$accept" -H 'Content-Type: application/json' \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"ts-original.sh","version":"1"}}}'
  local session; session="$(header "$WORK/h" Mcp-Session-Id)"
  if [ "$STATUS" != 200 ] || [ -z "$session" ]; then die "MCP initialize: HTTP $STATUS"; fi
  http POST "$URL" "$WORK/none.jar" -H "$auth" -H "$accept" -H 'Content-Type: application/json' \
    -H "Mcp-Session-Id: $session" --data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  http POST "$URL" "$WORK/none.jar" -H "$auth" -H "$accept" -H 'Content-Type: application/json' \
    -H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-06-18' \
    --data-binary '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_messages","arguments":{"folder":"INBOX","pageSize":5}}}'
  local text; text="$(sed -n 's/^data: //p' "$WORK/b" | jq -r '.result.content[0].text // empty')"
  local total; total="$(jq -r '.total // empty' <<< "$text" 2>/dev/null || true)"
  [ -n "$total" ] || die "list_messages through the original failed: $(head -c 400 "$WORK/b")"
  http DELETE "$URL" "$WORK/none.jar" -H "$auth" -H "Mcp-Session-Id: $session"
  echo "ts-original.sh: smoke test: list_messages sees $total messages in INBOX" >&2
}

start() {
  local original="$1" dir="$2" users="${3:-50}"
  [ -f "$original/dist/index.js" ] || die "$original/dist/index.js missing: run npm ci && npm run build there"
  [[ "$users" =~ ^[1-9][0-9]*$ ]] || die "USERS must be a positive number"
  for b in node curl jq openssl python3; do command -v "$b" >/dev/null || die "needs $b"; done
  original="$(cd "$original" && pwd)"
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
  stop_instance "$dir"
  rm -rf "$dir/app" "$dir/work"; mkdir -p "$dir/app" "$dir/work"; chmod 700 "$dir/work"
  WORK="$dir/work"

  "$FIXTURE" start "$dir/mail" >/dev/null
  # shellcheck disable=SC1091
  . "$dir/mail/ports.env"

  # The original calls app.listen(PORT), i.e. on all interfaces. This preload (ours, not a change
  # to the original) adds host 127.0.0.1 to a listen(port[, callback]) call.
  cat > "$dir/loopback.cjs" <<'EOF'
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] === "function"))
    args.splice(1, 0, "127.0.0.1");
  return listen.apply(this, args);
};
EOF
  local port; port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  URL="$BASE/mcp"
  # Secrets of this throwaway instance; NODE_ENV is left as the original's Dockerfile leaves it.
  # The original keeps its SQLite file in ./data relative to its working directory: $dir/app.
  (
    cd "$dir/app"
    export PORT="$port" BASE_URL="$BASE" NODE_EXTRA_CA_CERTS="$CA_FILE"
    ENCRYPTION_KEY="$(openssl rand -hex 32)"; SESSION_SECRET="$(openssl rand -hex 32)"
    export ENCRYPTION_KEY SESSION_SECRET
    # shellcheck disable=SC2086 # ORIGINAL_NODE_FLAGS is a list of flags
    exec node ${ORIGINAL_NODE_FLAGS:-} --require "$dir/loopback.cjs" "$original/dist/index.js"
  ) > "$dir/node.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/node.pid"
  chmod 600 "$dir/node.log"
  for _ in $(seq 100); do
    curl -sf --max-time 2 -o /dev/null "$BASE/.well-known/oauth-authorization-server" && break
    kill -0 "$pid" 2>/dev/null || die "the original exited: $(tail -n 20 "$dir/node.log")"
    sleep 0.2
  done
  curl -sf --max-time 2 -o /dev/null "$BASE/.well-known/oauth-authorization-server" \
    || die "the original did not answer on $BASE within 20 s"

  # one client registration, as an MCP client would do once
  http POST "$BASE/oauth/register" "$WORK/none.jar" -H 'Content-Type: application/json' --data-binary @- \
    <<< "$(jq -n --arg uri "$REDIRECT_URI" '{client_name:"postern-bench", redirect_uris:[$uri]}')"
  [ "$STATUS" = 201 ] || die "client registration: HTTP $STATUS $(head -c 300 "$WORK/b")"
  CLIENT_ID="$(jq -re .client_id "$WORK/b")"

  local tokens="$dir/tokens.txt"
  : > "$tokens"; chmod 600 "$tokens"
  for ((i = 0; i < users; i++)); do
    issue_token "$i" >> "$tokens"
  done
  smoke_test "$(head -n 1 "$tokens")"
  rm -rf "$WORK"
  {
    echo "URL=$URL"
    echo "PID=$pid"
    echo "TOKENS=$tokens"
    echo "MAIL_ENV=$dir/mail/ports.env"
  } > "$dir/original.env"
  echo "ts-original.sh: the original (pid $pid) serves $URL; $users tokens in $tokens" >&2
}

[ $# -ge 2 ] || usage
case "$1" in
  start) [ $# -le 4 ] || usage; start "$2" "$3" "${4:-50}" ;;
  stop) [ $# -eq 2 ] || usage; stop_instance "$2" ;;
  *) usage ;;
esac
