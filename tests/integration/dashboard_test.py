#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP-level tests of the web dashboard: CSRF, session fixation, logout by
POST only, login rate limiting, HTML escaping, security headers, and every
page's negative cases. The real browser journey is tests/browser/.

Tests that log into the real Dovecot need POSTERN_MAIL_ENV (the mail
fixture); the rest run without it.

Run: POSTERN_BIN=build/dev/postern python3 tests/integration/dashboard_test.py
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_test import BIN, Server  # noqa: E402
from support import TestClock  # noqa: E402

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self'; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
PASSWORD = "a long enough password"
EVIL = "<script>alert(1)</script>\"'&"


def mail_env():
    path = os.environ.get("POSTERN_MAIL_ENV")
    if not path or not os.path.exists(path):
        return None
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


class Browser:
    """Just enough of a browser: a cookie jar, forms, CSRF tokens."""

    def __init__(self, server, address=None):
        self.server = server
        self.cookies = {}
        self.address = address  # sent as X-Forwarded-For (TRUST_PROXY)
        self.last_body = ""

    def request(self, method, path, fields=None, headers=None, cookies=None):
        h = {"Sec-Fetch-Site": "same-origin"}
        jar = dict(self.cookies if cookies is None else cookies)
        if jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        if self.address:
            h["X-Forwarded-For"] = self.address
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        c = self.server.conn(timeout=60)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            cookies_set = r.msg.get_all("Set-Cookie") or []
            if cookies is None:
                for sc in cookies_set:
                    name, value = sc.split(";", 1)[0].split("=", 1)
                    if "Max-Age=0" in sc:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = value
            self.last_body = data
            return r.status, r.msg, data, cookies_set
        finally:
            c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw):
        return self.request("POST", path, fields=fields, **kw)

    @staticmethod
    def csrf_of(body):
        m = re.search(r'name="csrf" value="([^"]+)"', body)
        assert m, "no CSRF token in the page:\n" + body[:2000]
        return m.group(1)

    def form(self, page_path, action, fields, **kw):
        """GETs the page, then posts its form with the page's token."""
        status, _, body, _ = self.get(page_path)
        assert status == 200, (status, page_path, body[:500])
        fields = dict(fields)
        fields.setdefault("csrf", self.csrf_of(body))
        return self.post(action, fields, **kw)

    def signup(self, username, password=PASSWORD):
        status, headers, body, _ = self.form(
            "/signup", "/signup",
            {"username": username, "password": password, "confirm": password})
        assert status == 303, (status, body[:2000])
        return headers

    def login(self, username, password=PASSWORD, **kw):
        return self.form("/login", "/login",
                         {"username": username, "password": password}, **kw)

    def session(self):
        return self.cookies.get("postern_session")


def account_fields(label="Work", host="127.0.0.1", port="1", password="pw-not-shown-0",
                   security="plain", username="me@example.test", **extra):
    fields = {"label": label, "imap_host": host, "imap_port": port,
              "imap_security": security, "imap_username": username,
              "imap_password": password, "smtp_host": "", "smtp_port": "",
              "smtp_security": "tls", "smtp_username": ""}
    fields.update(extra)
    return fields


class DashboardTest(unittest.TestCase):
    servers = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-dash-")
        cls.server = cls.start_server("main", {"ACCOUNT_HOST_DENY": "none"})

    @classmethod
    def start_server(cls, name, env):
        env = dict(env)
        mail = mail_env()
        if mail:
            env.setdefault("SSL_CERT_FILE", mail["CA_FILE"])
        s = Server(os.path.join(cls.tmp, name), env)
        cls.servers.append(s)
        return s

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
            s.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def user(self, name):
        b = Browser(self.server)
        b.signup(name)
        return b

    def add_account(self, b, **fields):
        """Saves an account without testing it; returns its id."""
        f = account_fields(**fields)
        f["save_anyway"] = "1"
        f["action"] = "save"
        _, _, body, _ = b.get("/dashboard")
        before = set(re.findall(r'data-account-id="([^"]+)"', body))
        status, headers, body, _ = b.form("/accounts/add", "/accounts/add", f)
        self.assertEqual(status, 303, body[:3000])
        self.assertEqual(headers["Location"], "/dashboard?notice=added")
        _, _, body, _ = b.get("/dashboard")
        ids = set(re.findall(r'data-account-id="([^"]+)"', body)) - before
        self.assertEqual(len(ids), 1)
        return ids.pop()

    # -- headers and markup --------------------------------------------------

    def assert_page_headers(self, headers, path):
        self.assertEqual(headers["Content-Security-Policy"], PAGE_CSP, path)
        self.assertEqual(headers["X-Frame-Options"], "DENY", path)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff", path)
        self.assertEqual(headers["Cache-Control"], "no-store", path)
        self.assertEqual(headers["Referrer-Policy"], "same-origin", path)
        self.assertTrue(headers["Content-Type"].startswith("text/html; charset=utf-8"), path)

    def assert_no_inline_code(self, body, path):
        self.assertNotRegex(body, r"<script(?![^>]*\bsrc=)", path)
        self.assertNotRegex(body, r"<style", path)
        self.assertNotRegex(body, r"\sstyle=", path)
        self.assertNotRegex(body, r"\son[a-z]+=", path)
        self.assertNotRegex(body, r"javascript:", path)

    def test_security_headers_and_no_inline_code(self):
        anon = Browser(self.server)
        for path in ["/login", "/signup"]:
            status, headers, body, _ = anon.get(path)
            self.assertEqual(status, 200, path)
            self.assert_page_headers(headers, path)
            self.assert_no_inline_code(body, path)
        b = self.user("headers-user")
        account = self.add_account(b)
        for path in ["/dashboard", "/accounts/add", "/accounts/%s/edit" % account,
                     "/accounts/%s/delete" % account, "/activity", "/change-password",
                     "/logout"]:
            status, headers, body, _ = b.get(path)
            self.assertEqual(status, 200, path)
            self.assert_page_headers(headers, path)
            self.assert_no_inline_code(body, path)
        # Error pages too.
        status, headers, body, _ = b.get("/accounts/nope/edit")
        self.assertEqual(status, 404)
        self.assert_page_headers(headers, "404")
        # Static files are cacheable and typed.
        status, headers, _, _ = anon.get("/static/postern.css")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/css"))
        status, headers, _, _ = anon.get("/static/postern.js")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/javascript"))

    # -- authentication required ---------------------------------------------

    def test_pages_need_a_login(self):
        anon = Browser(self.server)
        for path in ["/dashboard", "/accounts/add", "/accounts/x/edit", "/accounts/x/delete",
                     "/activity", "/change-password", "/logout"]:
            status, headers, _, _ = anon.get(path)
            self.assertEqual(status, 303, path)
            location = headers["Location"]
            self.assertTrue(location.startswith("/login"), (path, location))
            if path != "/dashboard":
                self.assertEqual(location, "/login?next=" + urllib.parse.quote(path, safe=""))
        for path in ["/accounts/add", "/accounts/x/edit", "/accounts/x/delete",
                     "/tokens/x/revoke", "/change-password", "/logout"]:
            status, headers, _, _ = anon.post(path, {"csrf": "x"})
            self.assertEqual(status, 303, path)
            self.assertEqual(headers["Location"], "/login", path)
        # An unknown or forged session cookie is no login either.
        status, headers, _, _ = anon.get("/dashboard", cookies={"postern_session": "forged"})
        self.assertEqual(status, 303)
        # Login returns to the page that was asked for, and only on this server.
        b = self.user("next-user")
        for nxt, expected in [("/activity", "/activity"), ("//evil.example/x", "/dashboard"),
                              ("https://evil.example/", "/dashboard"), ("/\\evil.example", "/dashboard"),
                              ("", "/dashboard")]:
            b.cookies.pop("postern_session", None)
            status, headers, body, _ = b.form(
                "/login?next=" + urllib.parse.quote(nxt), "/login",
                {"username": "next-user", "password": PASSWORD, "next": nxt})
            self.assertEqual(status, 303, body[:500])
            self.assertEqual(headers["Location"], expected, nxt)

    # -- CSRF ------------------------------------------------------------------

    def test_csrf_is_required_on_every_form(self):
        anon = Browser(self.server)
        self.user("csrf-user")
        _, _, body, _ = anon.get("/login")
        token = Browser.csrf_of(body)
        fields = {"username": "csrf-user", "password": PASSWORD}
        # No token, a wrong token, another browser's token.
        status, _, body, _ = anon.post("/login", fields)
        self.assertEqual(status, 403)
        self.assertIn("This form has expired", body)
        status, _, _, _ = anon.post("/login", dict(fields, csrf="A" * 43))
        self.assertEqual(status, 403)
        other = Browser(self.server)
        _, _, other_body, _ = other.get("/login")
        status, _, _, _ = anon.post("/login", dict(fields, csrf=Browser.csrf_of(other_body)))
        self.assertEqual(status, 403)
        # A valid token sent by another site (fetch metadata, or Origin).
        status, _, _, _ = anon.post("/login", dict(fields, csrf=token),
                                    headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(status, 403)
        status, _, _, _ = anon.post("/login", dict(fields, csrf=token),
                                    headers={"Sec-Fetch-Site": None,
                                             "Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _, _ = anon.post("/login", dict(fields, csrf=token),
                                    headers={"Sec-Fetch-Site": None, "Origin": "null"})
        self.assertEqual(status, 403)
        self.assertIsNone(anon.session())
        # The right token works.
        status, _, _, _ = anon.post("/login", dict(fields, csrf=token))
        self.assertEqual(status, 303)
        self.assertIsNotNone(anon.session())
        # Logged in: the pre-login token is no good, nor is none.
        for path, f in [("/accounts/add", account_fields()), ("/change-password", {}),
                        ("/logout", {}), ("/tokens/x/revoke", {}),
                        ("/accounts/x/delete", {}), ("/accounts/x/edit", account_fields())]:
            status, _, _, _ = anon.post(path, f)
            self.assertEqual(status, 403, path)
            status, _, _, _ = anon.post(path, dict(f, csrf=token))
            self.assertEqual(status, 403, path)
        _, _, body, _ = anon.get("/dashboard")
        self.assertIn("No email accounts yet", body)
        status, _, _, _ = anon.get("/dashboard")
        self.assertEqual(status, 200, "the session survived the rejected forms")

    # -- sessions -----------------------------------------------------------

    def test_session_fixation(self):
        self.user("fixation-user")
        b = Browser(self.server)
        chosen = "attacker-chosen-session-id-0123456789abcdefghijk"
        b.cookies["postern_session"] = chosen
        status, headers, _, _ = b.get("/dashboard")
        self.assertEqual(status, 303)
        b.cookies["postern_session"] = chosen  # the redirect deleted it
        status, headers, _, set_cookies = b.login("fixation-user")
        self.assertEqual(status, 303)
        session_cookies = [c for c in set_cookies if c.startswith("postern_session=")]
        self.assertEqual(len(session_cookies), 1)
        fresh = b.session()
        self.assertNotEqual(fresh, chosen)
        self.assertRegex(fresh, r"^[A-Za-z0-9_-]{43}$")
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"]:
            self.assertIn(attr, session_cookies[0])
        self.assertNotIn("Secure", session_cookies[0])  # plain http here
        status, _, _, _ = b.get("/dashboard", cookies={"postern_session": chosen})
        self.assertEqual(status, 303, "a client-chosen id never becomes a login")
        status, _, _, _ = b.get("/dashboard")
        self.assertEqual(status, 200)
        # Logged in, the login page moves on; a second login elsewhere gets
        # another id again.
        status, headers, _, _ = b.get("/login?next=/activity")
        self.assertEqual((status, headers["Location"]), (303, "/activity"))
        second = Browser(self.server)
        self.assertEqual(second.login("fixation-user")[0], 303)
        self.assertNotIn(second.session(), (fresh, chosen))

    def test_secure_cookies_behind_https(self):
        s = self.start_server("https", {"BASE_URL": "https://postern.example"})
        b = Browser(s)
        status, _, body, set_cookies = b.get("/signup")
        self.assertEqual(status, 200)
        self.assertTrue(any(c.startswith("__Host-postern_pre=") and "Secure" in c
                            for c in set_cookies), set_cookies)
        status, _, body, set_cookies = b.post("/signup", {
            "csrf": Browser.csrf_of(body), "username": "secure-user",
            "password": PASSWORD, "confirm": PASSWORD})
        self.assertEqual(status, 303, body[:500])
        cookie = [c for c in set_cookies if c.startswith("__Host-postern_session=")]
        self.assertEqual(len(cookie), 1, set_cookies)
        for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"]:
            self.assertIn(attr, cookie[0])
        self.assertNotIn("Domain=", cookie[0])

    def test_logout_is_post_only(self):
        b = self.user("logout-user")
        status, _, body, _ = b.get("/logout")
        self.assertEqual(status, 200)
        self.assertIn('action="/logout"', body)
        status, _, _, _ = b.get("/dashboard")
        self.assertEqual(status, 200, "GET /logout must not log out")
        old = b.session()
        status, _, _, _ = b.post("/logout", {"csrf": "wrong"})
        self.assertEqual(status, 403)
        self.assertEqual(b.get("/dashboard")[0], 200)
        status, headers, body, set_cookies = b.form("/dashboard", "/logout", {})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/login?notice=logged-out")
        self.assertTrue(any(c.startswith("postern_session=;") and "Max-Age=0" in c
                            for c in set_cookies), set_cookies)
        status, _, _, _ = b.get("/dashboard", cookies={"postern_session": old})
        self.assertEqual(status, 303, "the session ended on the server")
        _, _, body, _ = b.get("/login?notice=logged-out")
        self.assertIn("You are logged out.", body)
        _, _, body, _ = Browser(self.server).get("/login?notice=%3Cb%3E")
        self.assertNotIn("&lt;b&gt;", body, "notices are fixed texts, never reflected")

    def test_password_change_ends_other_sessions(self):
        a = self.user("passwd-user")
        other = Browser(self.server)
        self.assertEqual(other.login("passwd-user")[0], 303)
        # Errors next to their fields.
        status, _, body, _ = a.form("/change-password", "/change-password", {
            "current": "wrong password here", "new_password": "the new password",
            "confirm": "the new password"})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-current">The current password is wrong.<')
        status, _, body, _ = a.form("/change-password", "/change-password", {
            "current": PASSWORD, "new_password": "short", "confirm": "short"})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-new_password">The password must be at least 10')
        status, _, body, _ = a.form("/change-password", "/change-password", {
            "current": PASSWORD, "new_password": "the new password",
            "confirm": "another new password"})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-confirm">The two new passwords differ.<')
        old = a.session()
        status, headers, _, _ = a.form("/change-password", "/change-password", {
            "current": PASSWORD, "new_password": "the new password",
            "confirm": "the new password"})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/dashboard?notice=password-changed")
        self.assertNotEqual(a.session(), old)
        self.assertEqual(a.get("/dashboard")[0], 200)
        self.assertEqual(other.get("/dashboard")[0], 303, "other browsers are logged out")
        self.assertEqual(Browser(self.server).login("passwd-user", "the new password")[0], 303)
        _, _, body, _ = a.get("/activity")
        self.assertIn("Changed the password", body)
        self.assertIn("Password change failed", body)

    # -- rate limiting ------------------------------------------------------

    def test_device_cookie_exempts_the_owner_from_a_username_lockout(self):
        clock = TestClock(self.tmp)
        s = self.start_server("device", dict(clock.env(), TRUST_PROXY="true"))
        Browser(s, "10.6.0.1").signup("owner8")
        Browser(s, "10.6.0.1").signup("other8")
        owner = Browser(s, "10.6.0.2")
        self.assertEqual(owner.login("owner8")[0], 303)
        self.assertIn("postern_device", owner.cookies)
        attacker = Browser(s, "10.6.0.3")

        def lock(username):
            statuses = [attacker.login(username, "wrong %d" % i)[0] for i in range(6)]
            self.assertEqual(statuses, [401] * 5 + [429])

        lock("owner8")
        # Without the owner's device cookie even the right password waits.
        self.assertEqual(Browser(s, "10.6.0.4").login("owner8")[0], 429)
        # A forged device cookie does not help.
        forged = Browser(s, "10.6.0.5")
        value = owner.cookies["postern_device"]
        forged.cookies["postern_device"] = value[:-1] + ("A" if value[-1] != "A" else "B")
        self.assertEqual(forged.login("owner8")[0], 429)
        # The owner's browser gets in, from any address, at once (signed out
        # first: a signed-in browser is sent from /login to the dashboard).
        owner.address = "10.6.0.6"
        owner.cookies.pop("postern_session", None)
        self.assertEqual(owner.login("owner8")[0], 303)
        owner.cookies.pop("postern_session", None)
        # The cookie is bound to its username: it does not unlock another.
        lock("other8")
        self.assertEqual(owner.login("other8")[0], 429)
        # Guesses with a stolen device cookie are throttled on their own.
        thief = Browser(s, "10.6.0.7")
        thief.cookies["postern_device"] = owner.cookies["postern_device"]
        statuses = [thief.login("owner8", "guess %d" % i)[0] for i in range(6)]
        self.assertEqual(statuses, [401] * 5 + [429])
        # An expired device cookie is worth nothing.
        late = Browser(s, "10.6.0.8")
        self.assertEqual(late.login("other8")[0], 429)
        clock.advance(3600)  # the lockout is forgotten after an hour
        self.assertEqual(late.login("other8")[0], 303)
        late.cookies.pop("postern_session", None)
        clock.advance(91 * 86400)
        lock("other8")
        self.assertEqual(late.login("other8")[0], 429,
                         "a device cookie older than 90 days is expired")

    def test_login_rate_limits_per_username_and_address(self):
        # The server's clock stands still unless the test moves it, so a
        # slow machine cannot let a throttle expire between two steps.
        clock = TestClock(self.tmp)
        s = self.start_server("throttle", dict(clock.env(), TRUST_PROXY="true"))
        Browser(s, "10.1.0.1").signup("victim")
        Browser(s, "10.1.0.2").signup("bystander")
        attacker = Browser(s, "10.2.0.1")
        for i in range(5):
            status, _, body, _ = attacker.login("victim", "wrong password %d" % i)
            self.assertEqual(status, 401, i)
            self.assertIn("Wrong username or password.", body)
        started = time.monotonic()
        status, headers, body, _ = attacker.login("victim", "wrong password 6")
        held = time.monotonic() - started
        # Refusals are held on a timer for half the wait, at most a second (a
        # guessing loop that ignores Retry-After slows down).
        self.assertGreaterEqual(held, 0.45, "a refusal is held back")
        self.assertEqual(status, 429)
        self.assertNotIn("X-Postern-Hold-Ms", headers, "the internal header is not sent")
        retry = int(headers["Retry-After"])
        self.assertGreaterEqual(retry, 1)
        self.assertIn("Too many attempts", body)
        # Per username: even the right password from elsewhere waits, however
        # long the steps above took.
        owner = Browser(s, "10.3.0.1")
        status, _, _, _ = owner.login("victim")
        self.assertEqual(status, 429)
        # Nobody else is throttled.
        status, _, _, _ = Browser(s, "10.4.0.1").login("bystander")
        self.assertEqual(status, 303)
        # Just before the wait ends it still holds; after it the right
        # password works, and clears the record.
        clock.advance(retry - 0.1)
        self.assertEqual(owner.login("victim")[0], 429)
        clock.advance(0.2)
        status, _, _, _ = owner.login("victim")
        self.assertEqual(status, 303)
        # The delays grow: the next wrong guesses wait longer each time.
        _, _, body, _ = attacker.get("/login")
        waits = []
        for i in range(8):
            status, headers, _, _ = attacker.login("victim", "again wrong %d" % i)
            if status == 429:
                waits.append(int(headers["Retry-After"]))
                clock.advance(int(headers["Retry-After"]) + 0.1)
                if len(waits) == 2:
                    break
        self.assertEqual(len(waits), 2, waits)
        self.assertGreater(waits[1], waits[0])
        # Per address: 20 attempts on any usernames, then a wait.
        sprayer = Browser(s, "10.5.0.1")
        statuses = [sprayer.login("nobody-%d" % i, "guess")[0] for i in range(21)]
        self.assertEqual(statuses[:20], [401] * 20)
        self.assertEqual(statuses[20], 429)
        self.assertEqual(Browser(s, "10.5.0.2").login("bystander")[0], 303)
        # The victim sees the failed logins with their address.
        victim = Browser(s, "10.3.0.1")
        status, headers, _, _ = victim.login("victim")
        if status == 429:  # the attacker's last guesses may still count
            clock.advance(int(headers["Retry-After"]) + 0.1)
            status, _, _, _ = victim.login("victim")
        self.assertEqual(status, 303)
        _, _, body, _ = victim.get("/activity")
        self.assertIn("Login failed", body)
        self.assertIn("10.2.0.1", body)

    # -- escaping -----------------------------------------------------------

    def test_everything_is_escaped(self):
        b = self.user("escape-user")
        account = self.add_account(b, label=EVIL, username=EVIL + "@x")
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"
        for path in ["/dashboard", "/accounts/%s/edit" % account,
                     "/accounts/%s/delete" % account, "/activity"]:
            status, _, body, _ = b.get(path)
            self.assertEqual(status, 200, path)
            self.assertIn(escaped, body, path)
            self.assertNotIn("<script>alert", body, path)
            self.assertNotIn("\"'&", body, path)
        # Reflected input: the username of a failed login, the next field.
        anon = Browser(self.server)
        status, _, body, _ = anon.login('<b>"x\'', "whatever")
        self.assertEqual(status, 401)
        self.assertIn("&lt;b&gt;&quot;x&#39;", body)
        self.assertNotIn("<b>", body)
        _, _, body, _ = anon.get("/login?next=" + urllib.parse.quote('/x"><script>alert(1)</script>'))
        self.assertNotIn("<script>alert", body)
        self.assertIn("/x&quot;&gt;&lt;script&gt;", body)
        # The account form keeps what was typed, escaped.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    account_fields(label=EVIL, host="", action="save"))
        self.assertEqual(status, 400)
        self.assertIn('value="' + escaped + '"', body)

    # -- accounts ---------------------------------------------------------------

    def test_other_users_accounts_are_not_found(self):
        owner = self.user("owner-user")
        account = self.add_account(owner, label="Owner's mail")
        intruder = self.user("intruder-user")
        for path in ["/accounts/%s/edit" % account, "/accounts/%s/delete" % account]:
            status, _, body, _ = intruder.get(path)
            self.assertEqual(status, 404, path)
            self.assertIn("does not exist, or it is not yours", body)
            self.assertNotIn("Owner&#39;s mail", body)
        _, _, body, _ = intruder.get("/dashboard")
        token = Browser.csrf_of(body)
        status, _, _, _ = intruder.post("/accounts/%s/delete" % account, {"csrf": token})
        self.assertEqual(status, 404)
        status, _, _, _ = intruder.post("/accounts/%s/edit" % account,
                                        dict(account_fields(label="mine now"), csrf=token,
                                             action="save", save_anyway="1"))
        self.assertEqual(status, 404)
        status, _, body, _ = intruder.post("/accounts/%s/edit" % account,
                                           dict(account_fields(password=""), csrf=token,
                                                action="test"),
                                           headers={"Accept": "application/json"})
        self.assertEqual(status, 404)
        status, _, _, _ = intruder.post("/tokens/%s/revoke" % "AAAAAAAAAAAAAAAAAAAAAA", {"csrf": token})
        self.assertEqual(status, 404)
        for bad in ["/accounts/../edit", "/accounts/%s" % account, "/accounts/%s/what" % account,
                    "/accounts/a/b/edit"]:
            self.assertEqual(intruder.get(bad)[0], 404, bad)
        _, _, body, _ = owner.get("/dashboard")
        self.assertIn("Owner&#39;s mail", body, "the owner still has it")

    def test_account_form_errors_and_no_secrets(self):
        b = self.user("form-user")
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"label": "", "imap_host": "", "imap_port": "x",
                                     "imap_security": "tls", "imap_username": "",
                                     "imap_password": "", "action": "save"})
        self.assertEqual(status, 400)
        for field in ["label", "imap_host", "imap_port", "imap_username", "imap_password"]:
            self.assertRegex(body, r'id="err-%s"[^>]*>[A-Z][^<]+<' % field, field)
        self.assertIn('aria-invalid="true"', body)
        # Unencrypted only to this machine.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    account_fields(host="mail.example.com", security="plain",
                                                   action="save"))
        self.assertEqual(status, 400)
        self.assertIn("Without encryption only this machine", body)
        # The password never comes back: not on the edit page, not anywhere.
        secret = "S3cret-Imap-Pass-XYZ"
        account = self.add_account(b, password=secret, label="Secret keeper")
        for path in ["/dashboard", "/accounts/%s/edit" % account,
                     "/accounts/%s/delete" % account, "/activity"]:
            _, _, body, _ = b.get(path)
            self.assertNotIn(secret, body, path)
        _, _, body, _ = b.get("/accounts/%s/edit" % account)
        self.assertRegex(body, r'id="imap_password" name="imap_password" type="password" value=""')
        self.assertRegex(body, r'id="smtp_password" name="smtp_password" type="password" value=""')
        # A form that fails to save does not echo the typed password either.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    account_fields(password=secret, host="", action="save"))
        self.assertEqual(status, 400)
        self.assertNotIn(secret, body)
        # Moving the account to another server needs the password again.
        status, _, body, _ = b.form("/accounts/%s/edit" % account, "/accounts/%s/edit" % account,
                                    account_fields(host="127.0.0.2", password="", action="save",
                                                   save_anyway="1", label="Secret keeper"))
        self.assertEqual(status, 400)
        self.assertIn("Enter the password again", body)
        # Renaming keeps the saved password.
        status, headers, body, _ = b.form("/accounts/%s/edit" % account, "/accounts/%s/edit" % account,
                                          account_fields(password="", action="save", save_anyway="1",
                                                         label="Renamed"))
        self.assertEqual(status, 303, body[:2000])
        self.assertEqual(headers["Location"], "/dashboard?notice=updated")
        # Delete asks first, then deletes.
        status, headers, _, _ = b.form("/accounts/%s/delete" % account,
                                       "/accounts/%s/delete" % account, {})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/dashboard?notice=deleted")
        self.assertEqual(b.get("/accounts/%s/edit" % account)[0], 404)
        _, _, body, _ = b.get("/activity")
        for what in ["Added email account", "Changed email account", "Deleted email account"]:
            self.assertIn(what, body)

    def test_other_from_addresses_are_set_on_the_account_form(self):
        b = self.user("alias-user")
        account = self.add_account(b, label="Aliased")
        edit = "/accounts/%s/edit" % account
        _, _, body, _ = b.get(edit)
        self.assertIn('id="aliases" name="aliases" value=""', body)
        status, _, body, _ = b.form(edit, edit, account_fields(
            password="", action="save", save_anyway="1", label="Aliased",
            aliases="sales@example.test,\n Billing@example.test"))
        self.assertEqual(status, 303, body[:2000])
        _, _, body, _ = b.get(edit)
        self.assertIn('value="sales@example.test, Billing@example.test"', body)
        # Each refusal marks the field and keeps what was typed, escaped.
        for typed, said in [("sales@example.test <script>x</script>", "is not an email address"),
                            ("ME@example.test", "own address"),
                            ("a@example.test, A@example.test", "listed twice"),
                            (",".join("a%d@example.test" % i for i in range(21)), "at most 20")]:
            status, _, body, _ = b.form(edit, edit, account_fields(
                password="", action="save", save_anyway="1", label="Aliased", aliases=typed))
            self.assertEqual(status, 400, typed)
            self.assertRegex(body, r'id="err-aliases"[^>]*>[^<]*%s' % said, typed)
            self.assertNotIn("<script>x", body)
        # Nothing of a refused edit was saved.
        _, _, body, _ = b.get(edit)
        self.assertIn('value="sales@example.test, Billing@example.test"', body)
        # Emptying the field removes them.
        status, _, _, _ = b.form(edit, edit, account_fields(
            password="", action="save", save_anyway="1", label="Aliased", aliases=" "))
        self.assertEqual(status, 303)
        _, _, body, _ = b.get(edit)
        self.assertIn('id="aliases" name="aliases" value=""', body)

    def test_a_passphrase_session_secret_keys_the_forms(self):
        """SESSION_SECRET takes any string of 32 characters or more, as the
        original did: the CSRF key is derived from it, so a passphrase signs
        and checks the forms; a shorter one stops startup with the reason."""
        passphrase = "a passphrase of forty-eight characters, not hex!"
        self.assertEqual(len(passphrase), 48)
        server = self.start_server("passphrase", {"SESSION_SECRET": passphrase,
                                                  "ACCOUNT_HOST_DENY": "none"})
        b = Browser(server)
        b.signup("passphrase-user")
        self.add_account(b, label="Passphrase box")
        # The same session with a token it was not given is refused.
        status, _, _, _ = b.post("/accounts/add", dict(account_fields(), csrf="A" * 43))
        self.assertEqual(status, 403)
        self.assertNotIn(passphrase, server.output())
        short = "only-twenty-chars-ok"
        env = {k: v for k, v in os.environ.items()
               if k not in ("ENCRYPTION_KEY", "SESSION_SECRET", "PORT", "BASE_URL")}
        env.update({"DATA_DIR": os.path.join(self.tmp, "short-secret"), "SESSION_SECRET": short})
        r = subprocess.run([BIN], env=env, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode()
        self.assertIn("SESSION_SECRET must be at least 32 characters long", err)
        self.assertIn("got 20 characters", err)
        self.assertNotIn(short, err + r.stdout.decode())

    def test_key_rotation_beside_the_running_server_keeps_every_password(self):
        """postern admin rotate-key while the server runs: accounts added and
        edited afterwards through the dashboard and the admin command must
        still log in after a restart (the VAULT seals with the key the
        database names, never a stale one it holds in memory)."""
        mail = mail_env()
        if not mail:
            self.skipTest("POSTERN_MAIL_ENV is not set")
        env = {"ACCOUNT_HOST_DENY": "none"}
        server = self.start_server("rotate", env)
        data_dir = server.data_dir
        admin_env = {k: v for k, v in os.environ.items()
                     if k not in ("ENCRYPTION_KEY", "SESSION_SECRET", "PORT", "BASE_URL")}
        admin_env.update({"DATA_DIR": data_dir, "ACCOUNT_HOST_DENY": "none"})

        def admin(*args, stdin=""):
            r = subprocess.run([BIN, "admin"] + list(args), input=stdin.encode(),
                               env=admin_env, capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, "admin %s: %s" % (args, r.stderr.decode()))
            return r.stdout.decode().strip()

        def dovecot(label, password):
            return account_fields(label=label, host=mail["MAIL_HOST"], port=mail["IMAPS_PORT"],
                                  security="tls", username=mail["MAIL_USER2"],
                                  password=password)

        b = Browser(server)
        b.signup("rotator")
        json_accept = {"Accept": "application/json"}
        before = self.add_account(b, **dovecot("Before", mail["MAIL_PASS2"]))
        admin("rotate-key")
        # After the rotation: one account added and one edited through the
        # dashboard, one added by the admin command.
        after = self.add_account(b, **dovecot("After", mail["MAIL_PASS2"]))
        f = dovecot("Before", mail["MAIL_PASS2"])
        f.update(save_anyway="1", action="save")
        status, _, body, _ = b.form("/accounts/%s/edit" % before, "/accounts/%s/edit" % before, f)
        self.assertEqual(status, 303, body[:2000])
        admin("add-account", "rotator", "--label", "ByAdmin",
              "--imap-host", mail["MAIL_HOST"], "--imap-port", mail["IMAPS_PORT"],
              "--imap-security", "tls", "--imap-user", mail["MAIL_USER2"],
              "--ca-file", mail["CA_FILE"], stdin=mail["MAIL_PASS2"] + "\n")
        server.stop()
        restarted = self.start_server("rotate", env)
        b2 = Browser(restarted)
        status, _, body, _ = b2.login("rotator")
        self.assertEqual(status, 303, body[:2000])
        _, _, body, _ = b2.get("/dashboard")
        ids = re.findall(r'data-account-id="([^"]+)"', body)
        self.assertEqual(len(ids), 3, body[:3000])
        self.assertIn(before, ids)
        self.assertIn(after, ids)
        for account in ids:
            # An empty password on the edit form tests with the stored one.
            status, _, body, _ = b2.form(
                "/accounts/%s/edit" % account, "/accounts/%s/edit" % account,
                dict(dovecot("x", ""), action="test"), headers=json_accept)
            self.assertEqual(status, 200, body)
            report = json.loads(body)
            self.assertTrue(report["imap"]["ok"], (account, report))

    def test_connection_test_against_dovecot(self):
        mail = mail_env()
        if not mail:
            self.skipTest("POSTERN_MAIL_ENV is not set")
        b = self.user("probe-user")
        base = account_fields(label="Bob", host=mail["MAIL_HOST"], port=mail["IMAPS_PORT"],
                              security="tls", username=mail["MAIL_USER2"],
                              has_smtp="1", smtp_host=mail["MAIL_HOST"],
                              smtp_port=mail["SUBMISSION_PORT"], smtp_security="starttls")
        json_accept = {"Accept": "application/json"}
        # The script's way: JSON, the form stays as it is.
        status, headers, body, _ = b.form("/accounts/add", "/accounts/add",
                                          dict(base, imap_password="wrong", action="test"),
                                          headers=json_accept)
        self.assertEqual(status, 200, body)
        report = json.loads(body)
        self.assertFalse(report["ok"])
        self.assertFalse(report["imap"]["ok"])
        self.assertIn("password", report["imap"]["message"])
        self.assertTrue(report["smtp"]["tested"])
        self.assertFalse(report["smtp"]["ok"])
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    dict(base, imap_password=mail["MAIL_PASS2"], action="test"),
                                    headers=json_accept)
        report = json.loads(body)
        self.assertTrue(report["ok"], report)
        self.assertIn("Logged in to", report["imap"]["message"])
        self.assertTrue(report["smtp"]["ok"], report)
        # Field errors come back as JSON too, without testing anything.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    dict(base, imap_host="", action="test"), headers=json_accept)
        self.assertEqual(status, 400)
        self.assertIn("imap_host", json.loads(body)["errors"])
        # Without the script: the page shows the answer, passwords are not sent back.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    dict(base, imap_password="wrong", action="test"))
        self.assertEqual(status, 200)
        self.assertRegex(body, r'probe-line bad"><strong>IMAP:</strong> [^<]*password')
        self.assertIn("passwords are never sent back", body)
        self.assertNotIn('value="wrong"', body)
        # Saving tests first: a failing account is not saved...
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    dict(base, imap_password="wrong", action="save"))
        self.assertEqual(status, 422)
        self.assertIn("nothing was saved", body)
        self.assertIn('name="save_anyway"', body)
        self.assertIn("No email accounts yet", b.get("/dashboard")[2])
        # ... a working one is.
        status, headers, body, _ = b.form("/accounts/add", "/accounts/add",
                                          dict(base, imap_password=mail["MAIL_PASS2"], action="save"))
        self.assertEqual(status, 303, body[:3000])
        _, _, body, _ = b.get("/dashboard")
        account = re.findall(r'data-account-id="([^"]+)"', body)[0]
        # On the edit page, an empty password means the saved one.
        status, _, body, _ = b.form("/accounts/%s/edit" % account, "/accounts/%s/edit" % account,
                                    dict(base, imap_password="", action="test"), headers=json_accept)
        self.assertTrue(json.loads(body)["ok"], body)
        # ... but only for the server and login name it was typed for: a
        # test with another login name or SMTP server needs it typed again.
        for change in [{"imap_username": mail["MAIL_USER1"]}, {"smtp_host": "127.0.0.2"}]:
            status, _, body, _ = b.form("/accounts/%s/edit" % account, "/accounts/%s/edit" % account,
                                        dict(base, imap_password="", action="test", **change),
                                        headers=json_accept)
            self.assertEqual(status, 400, body)
            report = json.loads(body)
            self.assertFalse(report["ok"])
            self.assertNotIn("imap", report)
            self.assertIn("again", report["errors"]["imap_password"])

    # -- connecting an agent ------------------------------------------------------

    def test_connect_card_shows_the_address_first_then_below_the_connections(self):
        b = self.user("connect-user")
        address = "http://localhost:%d/mcp" % self.server.port
        _, _, body, _ = b.get("/dashboard")
        card = body.find("data-connect-card")
        self.assertGreater(card, 0, body)
        self.assertIn('id="mcp-url" value="%s" readonly' % address, body)
        self.assertIn("claude mcp add --transport http postern " + address, body)
        for client in ("Claude.ai", "Claude Desktop", "Claude Code", "Any other MCP client"):
            self.assertIn(client, body)
        # A new person reads it before anything else, and learns that a
        # mailbox comes first.
        self.assertLess(card, body.find('id="accounts-heading"'))
        self.assertIn("Add an email account first", body)
        # The Copy buttons wait for the script (the address is selectable).
        self.assertEqual(len(re.findall(r'<button[^>]*data-copy="[^"]+"[^>]*hidden>', body)), 2)
        account = self.add_account(b, label="Connect mailbox")
        _, _, body, _ = b.get("/dashboard")
        self.assertNotIn("Add an email account first", body)
        self.assertLess(body.find("data-connect-card"), body.find('id="accounts-heading"'))
        env = dict(os.environ, DATA_DIR=self.server.data_dir)
        env.pop("ENCRYPTION_KEY", None)
        env.pop("SESSION_SECRET", None)
        subprocess.run([BIN, "admin", "issue-token", "connect-user", "--account", account,
                        "--scopes", "mail:read"],
                       env=env, capture_output=True, timeout=30, check=True)
        _, _, body, _ = b.get("/dashboard")
        self.assertEqual(body.count("data-connect-card"), 1, body)
        # Once an agent is connected, the connections come first.
        self.assertGreater(body.find("data-connect-card"), body.find('data-grant-id="'))
        self.assertLess(body.find("data-connect-card"), body.find('id="recent-heading"'))

    def test_one_account_is_taken_out_of_a_connection_of_several(self):
        b = self.user("several-user")
        work = self.add_account(b, label="Work box")
        home = self.add_account(b, label="Home box")
        env = dict(os.environ, DATA_DIR=os.path.join(self.tmp, "main"))
        env.pop("ENCRYPTION_KEY", None)
        env.pop("SESSION_SECRET", None)
        token = subprocess.run([BIN, "admin", "issue-token", "several-user", "--account",
                                work + "," + home, "--scopes", "mail:read"],
                               env=env, capture_output=True, timeout=30, check=True
                               ).stdout.decode().strip()

        def list_accounts():
            c = self.server.conn()
            try:
                c.request("POST", "/mcp", body=json.dumps({
                    "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "list_accounts", "arguments": {}, "_meta": {
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                        "io.modelcontextprotocol/clientCapabilities": {}}}}),
                    headers={"Authorization": "Bearer " + token,
                             "Content-Type": "application/json",
                             "MCP-Protocol-Version": "2026-07-28",
                             "Mcp-Method": "tools/call", "Mcp-Name": "list_accounts",
                             "Accept": "application/json, text/event-stream"})
                r = c.getresponse()
                body = r.read().decode()
                self.assertEqual(r.status, 200, body)
                result = json.loads(body)["result"]
                return [a["label"] for a in result["structuredContent"]["accounts"]]
            finally:
                c.close()
        self.assertEqual(list_accounts(), ["Work box", "Home box"])
        _, _, body, _ = b.get("/dashboard")
        grant = re.findall(r'data-grant-id="([^"]+)"', body)
        self.assertEqual(len(grant), 1, body)
        row = body[body.index('data-grant-id="%s"' % grant[0]):]
        row = row[:row.index("</tr>")]
        self.assertIn("Work box", row)
        self.assertIn("Home box", row)
        self.assertIn("(default)", row)
        self.assertEqual(row.count("/remove-account"), 2, row)
        action = "/tokens/%s/remove-account" % grant[0]
        # Only the owner, only an account the connection reaches, and never
        # its last one.
        other = self.user("several-other")
        _, _, obody, _ = other.get("/dashboard")
        status, _, _, _ = other.post(action, {"csrf": Browser.csrf_of(obody), "account": work})
        self.assertEqual(status, 404)
        status, _, _, _ = b.form("/dashboard", action, {"account": "no-such-account"})
        self.assertEqual(status, 404)
        status, headers, _, _ = b.form("/dashboard", action, {"account": work})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/dashboard?notice=account_removed")
        # The same token goes on, with the other account only.
        self.assertEqual(list_accounts(), ["Home box"])
        _, _, body, _ = b.get("/dashboard?notice=account_removed")
        self.assertIn("its other accounts keep working", body)
        row = body[body.index('data-grant-id="%s"' % grant[0]):]
        row = row[:row.index("</tr>")]
        self.assertNotIn("Work box", row)
        self.assertNotIn("/remove-account", row)
        status, _, body, _ = b.form("/dashboard", action, {"account": home})
        self.assertEqual(status, 400)
        self.assertIn("revoke the connection instead", body)
        self.assertEqual(list_accounts(), ["Home box"])
        _, _, body, _ = b.get("/activity")
        self.assertIn("Took an account out of an agent connection", body)
        # The entry itself names the account taken out (the page also lists
        # the account's earlier "Added" entry).
        entry = body[body.index("Took an account out of an agent connection"):]
        self.assertIn("Work box", entry[:entry.index("</td>")])

    def test_send_rules_are_the_owners_to_change(self):
        b = self.user("rules-owner")
        account = self.add_account(b, label="Rules box")
        env = dict(os.environ, DATA_DIR=os.path.join(self.tmp, "main"))
        env.pop("ENCRYPTION_KEY", None)
        env.pop("SESSION_SECRET", None)
        r = subprocess.run([BIN, "admin", "issue-token", "rules-owner", "--account", account,
                            "--scopes", "mail:read mail:send",
                            "--allow-recipients", "Bob@Example.org,*@example.com"],
                           env=env, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("may write only to bob@example.org or anyone at example.com",
                      r.stderr.decode())
        bad = subprocess.run([BIN, "admin", "issue-token", "rules-owner", "--account", account,
                              "--scopes", "mail:send", "--allow-recipients", "bob"],
                             env=env, capture_output=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--allow-recipients: The recipient \"bob\" is neither an address",
                      bad.stderr.decode())
        _, _, body, _ = b.get("/dashboard")
        grant = re.search(r'action="/tokens/([^/]+)/send-rules"', body).group(1)
        self.assertIn('value="bob@example.org, *@example.com"', body)
        self.assertIn("Writes to only", body)
        path = "/tokens/%s/send-rules" % grant
        # Without the form's token, for another person, for no such grant.
        status, _, _, _ = b.post(path, {"allow_recipients": ""})
        self.assertEqual(status, 403)
        other = self.user("rules-other")
        status, _, body, _ = other.form("/dashboard", path, {"allow_recipients": ""})
        self.assertEqual(status, 404, body[:500])
        status, _, _, _ = b.form("/dashboard", "/tokens/nope/send-rules",
                                 {"allow_recipients": ""})
        self.assertEqual(status, 404)
        status, _, body, _ = b.form("/dashboard", path, {"allow_recipients": "x@y@z"})
        self.assertEqual(status, 400)
        self.assertIn("is neither an address", body)
        _, _, body, _ = b.get("/dashboard")
        self.assertIn('value="bob@example.org, *@example.com"', body, "unchanged")
        status, headers, _, _ = b.form("/dashboard", path, {"allow_recipients": ""})
        self.assertEqual(status, 303)
        _, _, body, _ = b.get("/dashboard?notice=send_rules")
        self.assertIn("follow the new rules", body)
        self.assertIn("Writes to anyone", body)
        self.assertNotIn('name="ask_first" value="yes" checked', body)
        # Asking first is switched on and off in the same form.
        status, _, _, _ = b.form("/dashboard", path, {"allow_recipients": "",
                                                      "ask_first": "yes"})
        self.assertEqual(status, 303)
        _, _, body, _ = b.get("/dashboard")
        self.assertIn('name="ask_first" value="yes" checked', body)
        _, _, body, _ = b.get("/activity")
        self.assertIn("Changed how an agent connection may send", body)
        status, _, _, _ = b.form("/dashboard", path, {"allow_recipients": ""})
        self.assertEqual(status, 303)
        _, _, body, _ = b.get("/dashboard")
        self.assertNotIn('name="ask_first" value="yes" checked', body)
        # A connection that cannot send shows no such form.
        subprocess.run([BIN, "admin", "issue-token", "rules-owner", "--account", account,
                        "--scopes", "mail:read"], env=env, capture_output=True, timeout=30,
                       check=True)
        _, _, body, _ = b.get("/dashboard")
        self.assertEqual(len(re.findall(r'/send-rules"', body)), 1)

    def test_revoke_takes_effect_on_the_next_request(self):
        b = self.user("revoke-user")
        account = self.add_account(b, label="Agent mailbox")
        env = dict(os.environ, DATA_DIR=os.path.join(self.tmp, "main"))
        env.pop("ENCRYPTION_KEY", None)
        env.pop("SESSION_SECRET", None)
        token = subprocess.run([BIN, "admin", "issue-token", "revoke-user", "--account", account,
                                "--scopes", "mail:read mail:search"],
                               env=env, capture_output=True, timeout=30, check=True
                               ).stdout.decode().strip()
        _, _, body, _ = b.get("/dashboard")
        grants = re.findall(r'data-grant-id="([^"]+)"', body)
        self.assertEqual(len(grants), 1, body)
        self.assertIn("Read your messages", body)
        self.assertIn("Search your mail", body)

        def mcp():
            c = self.server.conn()
            try:
                c.request("POST", "/mcp", body=json.dumps({
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                               "clientInfo": {"name": "t", "version": "1"}}}),
                    headers={"Authorization": "Bearer " + token,
                             "Content-Type": "application/json",
                             "MCP-Protocol-Version": "2025-06-18",
                             "Accept": "application/json, text/event-stream"})
                r = c.getresponse()
                r.read()
                return r.status
            finally:
                c.close()
        mcp_live = mcp() != 404
        if mcp_live:
            self.assertEqual(mcp(), 200)
        other = self.user("revoke-other")
        _, _, body, _ = other.get("/dashboard")
        status, _, _, _ = other.post("/tokens/%s/revoke" % grants[0], {"csrf": Browser.csrf_of(body)})
        self.assertEqual(status, 404, "only the owner can revoke")
        status, headers, _, _ = b.form("/dashboard", "/tokens/%s/revoke" % grants[0], {})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/dashboard?notice=revoked")
        if mcp_live:
            self.assertEqual(mcp(), 401)
        _, _, body, _ = b.get("/dashboard")
        self.assertNotIn("data-grant-id", body)
        self.assertIn("No agents connected", body)
        _, _, body, _ = b.get("/activity")
        self.assertIn("Revoked agent connection", body)
        self.assertIn("Agent mailbox", body)

    # -- sign-up policies ---------------------------------------------------

    def test_signup_rules_and_policies(self):
        b = Browser(self.server)
        status, _, body, _ = b.form("/signup", "/signup", {
            "username": "x", "password": "short", "confirm": "short"})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-username">The username must be 3 to 64')
        self.assertRegex(body, r'id="err-password">The password must be at least 10')
        status, _, body, _ = b.form("/signup", "/signup", {
            "username": "mismatch-user", "password": PASSWORD, "confirm": PASSWORD + "x"})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-confirm">The two passwords differ.<')
        self.user("taken-user")
        status, _, body, _ = Browser(self.server).form("/signup", "/signup", {
            "username": "taken-user", "password": PASSWORD, "confirm": PASSWORD})
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-username">This username is taken')

        closed = self.start_server("closed", {"SIGNUP": "closed"})
        c = Browser(closed)
        status, _, body, _ = c.get("/signup")
        self.assertEqual(status, 403)
        self.assertIn("Sign-up is closed", body)
        _, _, login_body, _ = c.get("/login")
        self.assertNotIn("Create an account", login_body)
        status, _, _, _ = c.post("/signup", {"csrf": Browser.csrf_of(login_body),
                                             "username": "nope-user", "password": PASSWORD,
                                             "confirm": PASSWORD})
        self.assertEqual(status, 403)

        invite = self.start_server("invite", {"SIGNUP": "invite"})
        i = Browser(invite)
        fields = {"username": "invited-user", "password": PASSWORD, "confirm": PASSWORD}
        status, _, body, _ = i.form("/signup", "/signup", fields)
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-invite">Enter the invite code')
        status, _, body, _ = i.form("/signup", "/signup", dict(fields, invite="not-a-code"))
        self.assertEqual(status, 400)
        self.assertRegex(body, r'id="err-invite">This invite code is not valid')
        env = dict(os.environ, DATA_DIR=invite.data_dir)
        env.pop("ENCRYPTION_KEY", None)
        env.pop("SESSION_SECRET", None)
        code = subprocess.run([BIN, "admin", "invite"], env=env, capture_output=True,
                              timeout=30, check=True).stdout.decode().strip()
        status, _, body, _ = i.form("/signup?invite=" + urllib.parse.quote(code), "/signup",
                                    dict(fields, invite=code))
        self.assertEqual(status, 303, body[:1000])


if __name__ == "__main__":
    unittest.main(verbosity=2)
