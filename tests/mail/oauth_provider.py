#!/usr/bin/env python3
"""A fake OAuth 2 mail provider on 127.0.0.1 (tests only), standing in for
Microsoft or Google: the test Dovecot validates access tokens against its
/tokeninfo (Dovecot's oauth2 passdb), and Postern signs in to it as an OAuth
client.

  GET  /authorize   response_type=code, client_id, redirect_uri, state,
                    code_challenge (S256), login_hint=<address>: consents at
                    once and redirects back with a code (or error=
                    access_denied when the user's control "deny" is set; a
                    control "signin_as" signs in as that address instead, as
                    a person who picks another account at the provider)
  POST /token       grant_type=authorization_code (code, redirect_uri,
                    code_verifier) or refresh_token (rotates it: the old one
                    is spent, and a spent one replayed revokes its family);
                    client_id + client_secret in the form
  GET  /tokeninfo   ?access_token=... -> 200 {"email": ...} or 401 (Dovecot)
  POST /control     JSON {"user", "refuse_refresh", "expires_in",
                    "expire_access", "rotate", "delay_ms", "deny", "signin_as",
                    "reject_tokeninfo": N
                    (the next N checks of a valid token fail, as for a token
                    revoked early)}: per-user behaviour
  GET  /stats       ?user=... -> counters (refreshes, codes, tokeninfo_ok,
                    tokeninfo_rejected, access_tokens)

usage: oauth_provider.py PORT_FILE PID_FILE   (binds 127.0.0.1 on a free port,
       writes the port and its pid, serves until killed)
"""
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CLIENT_ID = "postern-test"
CLIENT_SECRET = "postern-test-secret"

lock = threading.Lock()
codes = {}      # code -> dict(user, redirect_uri, challenge, expires)
refresh = {}    # token -> dict(user, family, spent)
access = {}     # token -> dict(user, expires)
revoked_families = set()
controls = {}   # user -> dict
stats = {}      # user -> dict


def control(user):
    return controls.setdefault(user, {"refuse_refresh": False, "expires_in": 3600,
                                      "rotate": True, "delay_ms": 0,
                                      "reject_tokeninfo": 0, "deny": False,
                                      "signin_as": ""})


def count(user, what):
    s = stats.setdefault(user, {"refreshes": 0, "codes": 0, "tokeninfo_ok": 0,
                                "tokeninfo_rejected": 0, "access_tokens": 0})
    s[what] += 1


def issue(user, family, with_refresh):
    c = control(user)
    tok = "at-" + secrets.token_urlsafe(24)
    access[tok] = {"user": user, "expires": time.time() + c["expires_in"]}
    count(user, "access_tokens")
    body = {"access_token": tok, "token_type": "Bearer", "expires_in": c["expires_in"],
            "scope": "mail"}
    if with_refresh:
        rt = "rt-" + secrets.token_urlsafe(24)
        refresh[rt] = {"user": user, "family": family, "spent": False}
        body["refresh_token"] = rt
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/authorize":
            return self.authorize(q)
        if url.path == "/tokeninfo":
            tok = q.get("access_token") or \
                self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            with lock:
                a = access.get(tok)
                ok = a is not None and a["expires"] > time.time()
                if ok and control(a["user"])["reject_tokeninfo"] > 0:
                    control(a["user"])["reject_tokeninfo"] -= 1
                    ok = False
                if a is not None:
                    count(a["user"], "tokeninfo_ok" if ok else "tokeninfo_rejected")
            if ok:
                return self.reply(200, {"email": a["user"], "active": True})
            return self.reply(401, {"error": "invalid_token"})
        if url.path == "/stats":
            with lock:
                return self.reply(200, dict(stats.get(q.get("user", ""), {})))
        self.reply(404, {"error": "not_found"})

    def authorize(self, q):
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or not redirect:
            return self.reply(400, {"error": "invalid_client"})
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" \
                or not q.get("code_challenge") or not q.get("state"):
            return self.reply(400, {"error": "invalid_request"})
        user = q.get("login_hint", "")
        if "@" not in user:
            return self.reply(400, {"error": "invalid_request", "error_description": "login_hint"})
        sep = "&" if "?" in redirect else "?"
        with lock:
            c = control(user)
            deny, user = c["deny"], c["signin_as"] or user
        if deny:
            return self.redirect(redirect + sep + urlencode({"error": "access_denied",
                                                             "state": q["state"]}))
        code = "code-" + secrets.token_urlsafe(16)
        with lock:
            codes[code] = {"user": user, "redirect_uri": redirect,
                           "challenge": q["code_challenge"], "expires": time.time() + 300}
        self.redirect(redirect + sep + urlencode({"code": code, "state": q["state"]}))

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        url = urlparse(self.path)
        try:
            f = self.form()
        except ValueError:
            return self.reply(400, {"error": "invalid_request"})
        if url.path == "/control":
            with lock:
                c = control(f["user"])
                for k in ("refuse_refresh", "expires_in", "rotate", "delay_ms",
                          "reject_tokeninfo", "deny", "signin_as"):
                    if k in f:
                        c[k] = f[k]
                if f.get("expire_access"):
                    for a in access.values():
                        if a["user"] == f["user"]:
                            a["expires"] = 0
            return self.reply(200, {"ok": True})
        if url.path != "/token":
            return self.reply(404, {"error": "not_found"})
        if f.get("client_id") != CLIENT_ID or f.get("client_secret") != CLIENT_SECRET:
            return self.reply(401, {"error": "invalid_client"})
        grant = f.get("grant_type")
        if grant == "authorization_code":
            with lock:
                c = codes.pop(f.get("code", ""), None)
            if c is None or c["expires"] < time.time() or c["redirect_uri"] != f.get("redirect_uri"):
                return self.reply(400, {"error": "invalid_grant"})
            digest = hashlib.sha256(f.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != c["challenge"]:
                return self.reply(400, {"error": "invalid_grant"})
            with lock:
                count(c["user"], "codes")
                return self.reply(200, issue(c["user"], secrets.token_hex(8), True))
        if grant == "refresh_token":
            with lock:
                r = refresh.get(f.get("refresh_token", ""))
                user = r["user"] if r else None
                delay = control(user)["delay_ms"] if user else 0
            if delay:
                time.sleep(delay / 1000)
            with lock:
                if r is None or r["family"] in revoked_families:
                    return self.reply(400, {"error": "invalid_grant"})
                if r["spent"]:  # replay of a rotated token: revoke the family
                    revoked_families.add(r["family"])
                    return self.reply(400, {"error": "invalid_grant"})
                c = control(user)
                count(user, "refreshes")
                if c["refuse_refresh"]:
                    return self.reply(400, {"error": "invalid_grant",
                                            "error_description": "AADSTS70000 consent revoked"})
                if c["rotate"]:
                    r["spent"] = True
                return self.reply(200, issue(user, r["family"], c["rotate"]))
        self.reply(400, {"error": "unsupported_grant_type"})

    def log_message(self, *args):
        pass


def main():
    port_file, pid_file = sys.argv[1], sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
