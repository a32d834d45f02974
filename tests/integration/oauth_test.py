#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The OAuth 2.1 authorization server over raw HTTP: metadata, dynamic
client registration, /oauth/authorize (login, consent, CSRF, iss, errors
before the redirect URI is trusted), /oauth/token (PKCE S256, one-time
codes, rotation with reuse detection and a grace window), /oauth/revoke.

Run: POSTERN_BIN=build/dev/postern python3 tests/integration/oauth_test.py
"""
import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_test import Browser  # noqa: E402
from mcp_http_test import Postern as McpPostern  # noqa: E402
from document_server import DocumentServer, make_test_ca  # noqa: E402
from support import TestClock  # noqa: E402


class Postern(McpPostern):
    def conn(self, timeout=30):
        import http.client
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

CALLBACK = "https://claude.ai/api/mcp/auth_callback"
ALL_SCOPES = "mail:folders mail:read mail:search mail:modify mail:send mail:draft"


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


class OAuthHelpers:
    """Plays clients and users against cls.p (a running Postern)."""
    counter = 0

    @classmethod
    def server_env(cls):
        return {"TRUST_PROXY": "1"}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-oauth-")
        # Time stands still for throttles and expiries unless a test moves
        # it: rate limits do not refill while a slow machine works, and
        # expiry tests need not sleep.
        cls.clock = TestClock(cls.tmp)
        cls.p = Postern(cls.tmp, dict(cls.server_env(), **cls.clock.env()))
        cls.alice_account = cls.p.add_user("alice")
        cls.bob_account = cls.p.add_user("bob")
        cls.p.start()
        status, _, body = cls.p.request("GET", path="/.well-known/oauth-authorization-server")
        assert status == 200, body
        cls.meta = json.loads(body)
        cls.issuer = cls.meta["issuer"]
        cls.resource = cls.issuer + "/mcp"

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------

    def address(self):
        """A client address per call, so registration limits do not mix."""
        OAuthHelpers.counter += 1
        return "10.9.%d.%d" % (OAuthHelpers.counter // 250, OAuthHelpers.counter % 250 + 1)

    def raw(self, method, path, body=None, headers=None, form=None):
        h = {"X-Forwarded-For": self.address()}
        data = body
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c = self.p_conn()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def p_conn(self):
        import http.client
        return http.client.HTTPConnection("127.0.0.1", self.p.port, timeout=30)

    def register(self, redirect_uris=None, name="Test client", path="/oauth/register",
                 headers=None, **extra):
        doc = {"redirect_uris": redirect_uris or [CALLBACK], "client_name": name}
        doc.update(extra)
        return self.raw("POST", path, doc, headers=headers)

    def client(self, redirect_uris=None, name="Test client"):
        status, _, body = self.register(redirect_uris, name)
        self.assertEqual(status, 201, body)
        return json.loads(body)["client_id"]

    def authorize_url(self, client_id, challenge, redirect_uri=CALLBACK, **extra):
        q = {"response_type": "code", "client_id": client_id,
             "redirect_uri": redirect_uri, "code_challenge": challenge,
             "code_challenge_method": "S256", "state": "st-123",
             "scope": "mail:folders mail:read", "resource": self.resource}
        q.update(extra)
        q = {k: v for k, v in q.items() if v is not None}
        return "/oauth/authorize?" + urllib.parse.urlencode(q)

    def browser(self, user):
        b = Browser(self.p, address=self.address())
        status, headers, body, _ = b.login(user, user + "-postern-pw")
        self.assertEqual(status, 303, body[:2000])
        return b

    def consent(self, b, url):
        status, headers, body, _ = b.get(url)
        self.assertEqual(status, 200, body[:3000])
        return headers, body

    def approve(self, b, url, decision="approve", scopes=None, account=None):
        headers, body = self.consent(b, url)
        req = re.search(r'name="request" value="([^"]+)"', body).group(1)
        accounts = re.findall(r'name="account" value="([^"]+)"', body)
        fields = [("csrf", Browser.csrf_of(body)), ("request", req),
                  ("account", account or accounts[0]), ("decision", decision)]
        for s in (scopes if scopes is not None else
                  re.findall(r'name="scope" value="([^"]+)"', body)):
            fields.append(("scope", s))
        status, headers, body, _ = self.post_fields(b, fields)
        self.assertEqual(status, 303, body[:2000])
        return headers["Location"]

    def post_fields(self, b, fields):
        c = self.p_conn()
        h = {"Sec-Fetch-Site": "same-origin",
             "Content-Type": "application/x-www-form-urlencoded",
             "Cookie": "; ".join("%s=%s" % kv for kv in b.cookies.items()),
             "X-Forwarded-For": b.address}
        try:
            c.request("POST", "/oauth/authorize", body=urllib.parse.urlencode(fields), headers=h)
            r = c.getresponse()
            return r.status, r.msg, r.read().decode(), None
        finally:
            c.close()

    def code_for(self, user="alice", client_id=None, **extra):
        client_id = client_id or self.client()
        verifier, challenge = pkce()
        b = self.browser(user)
        location = self.approve(b, self.authorize_url(client_id, challenge, **extra))
        q = query_of(location)
        self.assertIn("code", q, location)
        return client_id, verifier, q["code"]

    def token(self, form):
        status, headers, body = self.raw("POST", "/oauth/token", form=form)
        return status, headers, json.loads(body)

    def exchange(self, client_id, verifier, code, **extra):
        form = {"grant_type": "authorization_code", "client_id": client_id,
                "code": code, "code_verifier": verifier}
        form.update(extra)
        return self.token(form)

    def tokens(self, user="alice"):
        client_id, verifier, code = self.code_for(user)
        status, _, doc = self.exchange(client_id, verifier, code)
        self.assertEqual(status, 200, doc)
        return client_id, doc

    def refresh(self, client_id, rt, **extra):
        form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": rt}
        form.update(extra)
        return self.token(form)

    def mcp_status(self, access):
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        status, _, _ = self.p.request("POST", init, token=access)
        return status



class OAuthTest(OAuthHelpers, unittest.TestCase):
    # -- metadata ---------------------------------------------------------------

    def test_authorization_server_metadata(self):
        m = self.meta
        self.assertEqual(m["authorization_endpoint"], self.issuer + "/oauth/authorize")
        self.assertEqual(m["token_endpoint"], self.issuer + "/oauth/token")
        self.assertEqual(m["registration_endpoint"], self.issuer + "/oauth/register")
        self.assertEqual(m["revocation_endpoint"], self.issuer + "/oauth/revoke")
        self.assertEqual(m["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(m["token_endpoint_auth_methods_supported"], ["none"])
        self.assertEqual(m["scopes_supported"], ALL_SCOPES.split())
        self.assertIs(m["authorization_response_iss_parameter_supported"], True)
        self.assertIs(m["client_id_metadata_document_supported"], True)

    def test_protected_resource_metadata_root_and_path(self):
        for path in ["/.well-known/oauth-protected-resource",
                     "/.well-known/oauth-protected-resource/mcp"]:
            status, _, body = self.raw("GET", path)
            self.assertEqual(status, 200, path)
            doc = json.loads(body)
            self.assertEqual(doc["resource"], self.resource)
            self.assertEqual(doc["authorization_servers"], [self.issuer])

    # -- registration -----------------------------------------------------------

    def test_register_returns_public_client(self):
        status, headers, body = self.register()
        self.assertEqual(status, 201, body)
        doc = json.loads(body)
        self.assertTrue(doc["client_id"].startswith("pc_"))
        self.assertEqual(doc["redirect_uris"], [CALLBACK])
        self.assertEqual(doc["token_endpoint_auth_method"], "none")
        self.assertNotIn("client_secret", doc)

    def test_register_alias(self):
        status, _, body = self.register(path="/register")
        self.assertEqual(status, 201, body)

    def test_register_rejects_bad_redirect_uris(self):
        for uris in [["http://evil.example/cb"], ["javascript:alert(1)"],
                     ["https://claude.ai/cb#frag"], [], "https://x", [42],
                     ["https://ok.example/cb"] * 11]:
            status, _, body = self.raw("POST", "/oauth/register", {"redirect_uris": uris})
            self.assertEqual(status, 400, (uris, body))
            self.assertEqual(json.loads(body)["error"], "invalid_redirect_uri", uris)

    def test_register_accepts_loopback_http(self):
        for uri in ["http://127.0.0.1:33418/callback", "http://localhost/cb", "http://[::1]:9/cb"]:
            status, _, body = self.register([uri])
            self.assertEqual(status, 201, (uri, body))

    def test_register_rejects_bad_metadata(self):
        for extra in [{"token_endpoint_auth_method": "client_secret_basic"},
                      {"grant_types": ["implicit"]}, {"response_types": ["token"]},
                      {"client_name": 7}]:
            status, _, body = self.register(**extra)
            self.assertEqual(status, 400, (extra, body))
            self.assertEqual(json.loads(body)["error"], "invalid_client_metadata")
        status, _, body = self.raw("POST", "/oauth/register", b"not json",
                                   {"Content-Type": "application/json"})
        self.assertEqual(status, 400)

    def test_register_refuses_deep_nesting(self):
        # A recursive parser would overflow its stack (ASan aborts at
        # 65 536 levels); the bounded one refuses past 64 levels.
        for levels in (65, 8000):  # 8000 levels stay under the 16 KiB limit
            body = ('{"redirect_uris":["%s"],"client_name":"deep","x":%s%s}'
                    % (CALLBACK, "[" * levels, "]" * levels)).encode()
            status, _, answer = self.raw("POST", "/oauth/register", body,
                                         headers={"Content-Type": "application/json"})
            self.assertEqual(status, 400, answer[:300])
            self.assertEqual(json.loads(answer)["error"], "invalid_client_metadata")
        ok = ('{"redirect_uris":["%s"],"client_name":"deep","x":%s%s}'
              % (CALLBACK, "[" * 60, "]" * 60)).encode()
        status, _, answer = self.raw("POST", "/oauth/register", ok,
                                     headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, answer[:300])

    def test_registrations_are_throttled_per_ipv6_64(self):
        # Many addresses of one /64 are one source: 30 registrations per
        # 10 minutes between them, then 429 with a sentence.
        statuses = []
        for i in range(31):
            status, headers, body = self.register(
                name="flood", headers={"X-Forwarded-For": "2001:db8:15:3::%x" % (i + 1)})
            statuses.append(status)
        self.assertEqual(statuses[:30], [201] * 30, statuses)
        self.assertEqual(statuses[30], 429)
        doc = json.loads(body)
        self.assertEqual(doc["error"], "temporarily_unavailable")
        self.assertIn("from this network", doc["error_description"])
        self.assertGreater(int(headers["retry-after"]), 0)
        # Another /64 and IPv4 clients are not held up.
        status, _, _ = self.register(headers={"X-Forwarded-For": "2001:db8:15:4::1"})
        self.assertEqual(status, 201)
        self.assertEqual(self.register()[0], 201)

    def test_pending_consents_per_user(self):
        self.p.add_user("consenter")
        client_id = self.client()
        b = self.browser("consenter")
        for i in range(20):
            _, challenge = pkce()
            status, _, body, _ = b.get(self.authorize_url(client_id, challenge))
            self.assertEqual(status, 200, (i, body[:500]))
        _, challenge = pkce()
        status, headers, body, _ = b.get(self.authorize_url(client_id, challenge))
        self.assertEqual(status, 429, body[:500])
        self.assertIn("connection requests waiting", body)
        self.assertEqual(headers["Retry-After"], "600")
        # Someone else still gets their consent page.
        self.consent(self.browser("alice"), self.authorize_url(client_id, challenge))

    def test_token_endpoint_is_rate_limited_per_client_and_grant(self):
        client_id = self.client()
        # One code replayed: 10 a minute per presented code or token.
        statuses = [self.exchange(client_id, "v" * 43, "pac_" + "B" * 43)[0]
                    for _ in range(11)]
        self.assertEqual(statuses[:10], [400] * 10, statuses)
        status, headers, doc = self.exchange(client_id, "v" * 43, "pac_" + "B" * 43)
        self.assertEqual(status, 429)
        self.assertEqual(doc["error"], "slow_down")
        self.assertGreater(int(headers["retry-after"]), 0)
        # 60 a minute per client, whatever it presents.
        statuses = [self.exchange(client_id, "v" * 43, "pac_%040d" % i)[0] for i in range(60)]
        self.assertIn(429, statuses)
        # Another client is not held up.
        other = self.client()
        status, _, doc = self.exchange(other, "v" * 43, "pac_" + "C" * 43)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))

    def test_register_is_rate_limited(self):
        address = "10.200.0.1"
        statuses = []
        for _ in range(32):
            status, headers, _ = self.raw("POST", "/oauth/register",
                                          {"redirect_uris": [CALLBACK]},
                                          {"X-Forwarded-For": address})
            statuses.append(status)
        self.assertEqual(statuses[:30], [201] * 30)
        self.assertEqual(statuses[-1], 429)

    # -- authorize: errors before the redirect URI is trusted --------------------

    def assert_error_page(self, url):
        status, headers, body = self.raw("GET", url)
        self.assertEqual(status, 400, body[:500])
        self.assertNotIn("location", headers)
        self.assertTrue(headers["content-type"].startswith("text/html"))

    def test_authorize_unknown_client_is_a_page(self):
        _, challenge = pkce()
        self.assert_error_page(self.authorize_url("pc_nope", challenge))

    def test_n01_redirect_uri_variants_get_an_error_page(self):
        client_id = self.client()
        _, challenge = pkce()
        self.assert_error_page(self.authorize_url(client_id, challenge,
                                                  redirect_uri="https://evil.example/cb"))
        for variant in [CALLBACK + "/", CALLBACK.upper(), CALLBACK + "?x=1", CALLBACK + "#f",
                        "https://claude.com/api/mcp/auth_callback",
                        "http://claude.ai/api/mcp/auth_callback"]:
            self.assert_error_page(self.authorize_url(client_id, challenge, redirect_uri=variant))

    def test_authorize_duplicated_parameter_is_a_page(self):
        client_id = self.client()
        _, challenge = pkce()
        self.assert_error_page(self.authorize_url(client_id, challenge) + "&client_id=" + client_id)

    # -- authorize: errors redirected with iss ------------------------------------

    def assert_redirect_error(self, url, error, redirect=CALLBACK, browser=None):
        if browser is None:
            status, headers, body = self.raw("GET", url)
        else:
            status, msg, body, _ = browser.get(url)
            headers = {k.lower(): v for k, v in msg.items()}
        self.assertIn(status, (302, 303), body[:500])
        location = headers["location"]
        self.assertTrue(location.startswith(redirect + "?"), location)
        q = query_of(location)
        self.assertEqual(q["error"], error, q)
        self.assertEqual(q["iss"], self.issuer)
        self.assertEqual(q["state"], "st-123")

    def test_n03_pkce_is_required_and_s256_only(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        self.assert_redirect_error(self.authorize_url(client_id, None), "invalid_request",
                                   browser=b)
        self.assert_redirect_error(self.authorize_url(client_id, challenge,
                                                      code_challenge_method="plain"),
                                   "invalid_request", browser=b)
        # No code exists without a challenge, so a verifier never finds one.
        status, _, doc = self.exchange(client_id, "v" * 43, "pac_" + "A" * 43)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))

    def test_authorize_response_type_scope_resource(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        self.assert_redirect_error(self.authorize_url(client_id, challenge, response_type="token"),
                                   "unsupported_response_type", browser=b)
        self.assert_redirect_error(self.authorize_url(client_id, challenge, scope="mail:everything"),
                                   "invalid_scope", browser=b)
        self.assert_redirect_error(self.authorize_url(client_id, challenge,
                                                      resource="https://other.example/mcp"),
                                   "invalid_target", browser=b)

    def test_no_open_redirect_before_login(self):
        # Anyone can register any https redirect URI: before someone signs
        # in, its errors are a page on Postern, never a redirect there
        # (RFC 9700 §4.11), so Postern is no redirector for phishing links.
        phishing = "https://phish.example/landing"
        client_id = self.client([phishing])
        _, challenge = pkce()
        for url in [self.authorize_url(client_id, challenge, redirect_uri=phishing,
                                       response_type="token"),
                    self.authorize_url(client_id, None, redirect_uri=phishing),
                    self.authorize_url(client_id, challenge, redirect_uri=phishing,
                                       scope="mail:everything")]:
            status, headers, body = self.raw("GET", url)
            self.assertEqual(status, 400, body[:500])
            self.assertNotIn("location", headers)
            self.assertNotIn(b"phish.example", body)
            # A stale or forged session cookie changes nothing.
            status, headers, _ = self.raw("GET", url, headers={
                "Cookie": "postern_session=" + "A" * 43})
            self.assertEqual(status, 400)
            self.assertNotIn("location", headers)
        # Signed in, the error goes back to the application.
        self.assert_redirect_error(self.authorize_url(client_id, challenge, redirect_uri=phishing,
                                                      response_type="token"),
                                   "unsupported_response_type", redirect=phishing,
                                   browser=self.browser("bob"))
        # Loopback redirects stay on the user's machine: redirected at once.
        loopback = "http://127.0.0.1:5000/cb"
        local_id = self.client([loopback])
        self.assert_redirect_error(self.authorize_url(local_id, challenge, redirect_uri=loopback,
                                                      response_type="token"),
                                   "unsupported_response_type", redirect=loopback)

    def test_n02_loopback_any_port_accepted_and_canonical_resources(self):
        client_id = self.client(["http://127.0.0.1:5000/cb"])
        _, challenge = pkce()
        for resource in [self.resource + "/", self.resource.upper().replace("/MCP", "/mcp"),
                         self.issuer + "/", None]:
            status, headers, _ = self.raw("GET", self.authorize_url(
                client_id, challenge, redirect_uri="http://127.0.0.1:61234/cb", resource=resource))
            self.assertEqual(status, 303)
            self.assertTrue(headers["location"].startswith("/login?"), headers["location"])
        # Plain http elsewhere than loopback is refused at registration.
        status, _, body = self.register(["http://example.com/cb"])
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["error"], "invalid_redirect_uri")

    # -- login and consent ---------------------------------------------------------

    def test_login_then_consent_page(self):
        client_id = self.client(name="<b>Evil & Co</b>")
        _, challenge = pkce()
        url = self.authorize_url(client_id, challenge)
        b = Browser(self.p, address=self.address())
        status, headers, _, _ = b.get(url)
        self.assertEqual(status, 303)
        login = headers["Location"]
        self.assertTrue(login.startswith("/login?next="), login)
        status, _, body, _ = b.get(login)
        self.assertEqual(status, 200)
        nxt = html.unescape(re.search(r'name="next" value="([^"]*)"', body).group(1))
        self.assertEqual(nxt, url)
        status, headers, body, _ = b.post("/login", {"csrf": Browser.csrf_of(body), "next": nxt,
                                                     "username": "alice",
                                                     "password": "alice-postern-pw"})
        self.assertEqual(status, 303, body[:1000])
        self.assertEqual(headers["Location"], url)
        headers, body = self.consent(b, url)
        self.assertIn("&lt;b&gt;Evil &amp; Co&lt;/b&gt;", body)
        self.assertNotIn("<b>Evil", body)
        self.assertIn("claude.ai", body)
        self.assertIn('value="mail:folders" checked', body)
        self.assertIn('value="mail:read" checked', body)
        self.assertNotIn('value="mail:send"', body)
        # Each permission in plain words, the account's address beside its
        # label, and Deny as the secondary button.
        self.assertIn("See your folders", body)
        self.assertIn("Read your messages", body)
        self.assertIn('<span class="choice-title">Test</span> <span class="choice-detail">alice</span>',
                      body)
        self.assertIn('value="approve" class="button primary"', body)
        self.assertIn('value="deny" class="button secondary"', body)
        csp = headers["Content-Security-Policy"]
        self.assertIn("form-action 'self' https://claude.ai", csp)
        self.assertIn("frame-ancestors 'none'", csp)

    def test_consent_page_sets_sending_apart(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        # No scope parameter: every permission is asked for.
        _, body = self.consent(b, self.authorize_url(client_id, challenge, scope=None))
        labels = re.findall(r'<label class="choice[^"]*">.*?</label>', body, re.S)
        by_scope = {re.search(r'value="([^"]+)"', label).group(1): label
                    for label in labels if 'name="scope"' in label}
        self.assertEqual(sorted(by_scope), sorted(["mail:folders", "mail:read", "mail:search",
                                                   "mail:modify", "mail:send", "mail:draft"]))
        send = by_scope.pop("mail:send")
        self.assertIn("Send email as you", send)
        self.assertIn('class="choice powerful"', send)
        self.assertIn('<span class="badge-warn">Powerful</span>', send)
        for name, label in by_scope.items():
            self.assertNotIn("Powerful", label, name)
            self.assertRegex(label, r'<span class="choice-detail">[A-Z][^<]+\.</span>', name)
        # What mail:modify opens is said in full.
        self.assertIn("delete messages", by_scope["mail:modify"])
        self.assertIn("never sends", by_scope["mail:draft"])

    def test_n17_deny_redirects_access_denied_with_state_and_iss(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        location = self.approve(b, self.authorize_url(client_id, challenge), decision="deny")
        q = query_of(location)
        self.assertEqual(q["error"], "access_denied")
        self.assertEqual(q["iss"], self.issuer)
        self.assertEqual(q["state"], "st-123")
        self.assertNotIn("code", q)

    def test_n18b_consent_without_the_csrf_token_is_refused(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        _, body = self.consent(b, self.authorize_url(client_id, challenge))
        req = re.search(r'name="request" value="([^"]+)"', body).group(1)
        status, _, _, _ = self.post_fields(b, [("csrf", "wrong"), ("request", req),
                                               ("decision", "approve"), ("scope", "mail:read")])
        self.assertEqual(status, 403)

    def test_approve_gives_code_iss_state_and_removed_scope_stays_removed(self):
        client_id = self.client()
        verifier, challenge = pkce()
        b = self.browser("alice")
        location = self.approve(b, self.authorize_url(client_id, challenge), scopes=["mail:read"])
        self.assertTrue(location.startswith(CALLBACK + "?"))
        q = query_of(location)
        self.assertEqual(q["iss"], self.issuer)
        self.assertEqual(q["state"], "st-123")
        status, headers, doc = self.exchange(client_id, verifier, q["code"])
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["scope"], "mail:read")
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(doc["token_type"], "Bearer")
        self.assertEqual(doc["expires_in"], 3600)
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)

    def test_scope_not_requested_cannot_be_granted(self):
        client_id = self.client()
        verifier, challenge = pkce()
        b = self.browser("alice")
        location = self.approve(b, self.authorize_url(client_id, challenge),
                                scopes=["mail:read", "mail:send"])
        status, _, doc = self.exchange(client_id, verifier, query_of(location)["code"])
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["scope"], "mail:read")

    def test_user_cannot_consent_to_another_users_account(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        _, body = self.consent(b, self.authorize_url(client_id, challenge))
        req = re.search(r'name="request" value="([^"]+)"', body).group(1)
        status, headers, page, _ = self.post_fields(
            b, [("csrf", Browser.csrf_of(body)), ("request", req), ("account", self.bob_account),
                ("decision", "approve"), ("scope", "mail:read")])
        # No code at all: a page, not a redirect.
        self.assertEqual(status, 400, page[:2000])
        self.assertNotIn("Location", headers)
        self.assertIn("Choose one of your own email accounts", page)

    # -- token endpoint --------------------------------------------------------------

    def test_n09_unknown_client_is_401_invalid_client(self):
        status, _, doc = self.exchange("pc_gone", "x" * 43, "pac_x")
        self.assertEqual(status, 401)
        self.assertEqual(doc["error"], "invalid_client")

    def test_token_wrong_verifier_short_verifier_and_other_client(self):
        client_id, verifier, code = self.code_for()
        other = self.client()
        status, _, doc = self.exchange(client_id, "A" * 43, code)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))
        status, _, doc = self.exchange(client_id, verifier[:42], code)
        self.assertEqual((status, doc["error"]), (400, "invalid_request"))
        status, _, doc = self.exchange(other, verifier, code)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))
        status, _, doc = self.exchange(client_id, verifier, code,
                                       redirect_uri="https://claude.com/api/mcp/auth_callback")
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))
        status, _, doc = self.exchange(client_id, verifier, code,
                                       resource="https://other.example/mcp")
        self.assertEqual((status, doc["error"]), (400, "invalid_target"))
        # The failures above did not burn the code.
        status, _, doc = self.exchange(client_id, verifier, code, redirect_uri=CALLBACK,
                                       resource=self.resource + "/")
        self.assertEqual(status, 200, doc)

    def test_n04_code_replay_revokes_unless_the_verifier_is_wrong(self):
        client_id, verifier, code = self.code_for()
        status, _, doc = self.exchange(client_id, verifier, code)
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)
        # A replay with a wrong verifier is refused without revoking (DoS).
        status, _, bad = self.exchange(client_id, "B" * 43, code)
        self.assertEqual((status, bad["error"]), (400, "invalid_grant"))
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)
        status, _, again = self.exchange(client_id, verifier, code)
        self.assertEqual((status, again["error"]), (400, "invalid_grant"))
        self.assertEqual(self.mcp_status(doc["access_token"]), 401)
        status, _, r = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 400, r)

    def test_n05_concurrent_code_exchanges_exactly_one_wins(self):
        import concurrent.futures
        client_id, verifier, code = self.code_for()
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: self.exchange(client_id, verifier, code)[0], range(6)))
        self.assertEqual(sorted(results), [200] + [400] * 5)

    def test_n06_code_expires_after_60_seconds(self):
        import time
        client_id, verifier, code = self.code_for()
        self.clock.advance(61)
        status, _, doc = self.exchange(client_id, verifier, code)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))

    def test_n08_no_store_on_registration_token_and_revocation(self):
        status, headers, _ = self.register()
        self.assertEqual(headers["cache-control"], "no-store")
        status, headers, _ = self.raw("POST", "/oauth/token", form={"grant_type": "x"})
        self.assertEqual(headers["cache-control"], "no-store")
        status, headers, _ = self.raw("POST", "/oauth/revoke", form={"token": "x"})
        self.assertEqual(headers["cache-control"], "no-store")

    def test_n15_authorize_has_no_cors_no_framing_and_lets_the_redirect_through(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        status, headers, body, _ = b.get(self.authorize_url(client_id, challenge),
                                         headers={"Origin": "https://evil.example"})
        self.assertEqual(status, 200, body[:500])
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        self.assertIn("frame-ancestors 'none'", headers["Content-Security-Policy"])
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        # Chrome applies form-action to the redirect after the consent POST.
        self.assertIn("form-action 'self' https://claude.ai", headers["Content-Security-Policy"])

    def test_n18a_consent_for_unknown_pending_request_is_400(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        _, body = self.consent(b, self.authorize_url(client_id, challenge))
        status, _, _, _ = self.post_fields(b, [("csrf", Browser.csrf_of(body)), ("request", "nope"),
                                               ("decision", "approve"), ("scope", "mail:read")])
        self.assertEqual(status, 400)
        # A pending request belongs to the user who saw it.
        req = re.search(r'name="request" value="([^"]+)"', body).group(1)
        bob = self.browser("bob")
        _, bob_page = self.consent(bob, self.authorize_url(client_id, challenge))
        status, _, _, _ = self.post_fields(bob, [("csrf", Browser.csrf_of(bob_page)), ("request", req),
                                                 ("decision", "approve"), ("scope", "mail:read")])
        self.assertEqual(status, 400)

    def test_n13_access_token_in_query_is_ignored(self):
        _, doc = self.tokens()
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        status, _, _ = self.p.request("POST", init,
                                      path="/mcp?access_token=" + doc["access_token"])
        self.assertEqual(status, 401)

    def test_n12_token_for_one_resource_is_refused_at_another(self):
        _, doc = self.tokens()
        other = Postern(self.tmp, {"BASE_URL": "http://other.localhost:1"})
        other.env = dict(self.p.env, BASE_URL="http://other.localhost:1")
        other.start()
        try:
            init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                               "clientInfo": {"name": "t", "version": "1"}}}
            status, _, _ = other.request("POST", init, token=doc["access_token"],
                                         headers={"Host": "other.localhost:1"})
            self.assertEqual(status, 401)
        finally:
            other.stop()
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)

    def test_n10c_parallel_refreshes_do_not_revoke(self):
        import concurrent.futures
        client_id, doc = self.tokens()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: self.refresh(client_id, doc["refresh_token"]), range(4)))
        self.assertEqual([r[0] for r in results], [200] * 4, results)
        for _, _, r in results:
            self.assertEqual(self.mcp_status(r["access_token"]), 200)

    def test_token_errors(self):
        status, _, doc = self.token({"grant_type": "password", "client_id": "x"})
        self.assertEqual((status, doc["error"]), (400, "unsupported_grant_type"))
        client_id = self.client()
        status, _, doc = self.token({"grant_type": "authorization_code", "client_id": client_id})
        self.assertEqual((status, doc["error"]), (400, "invalid_request"))
        status, _, body = self.raw("POST", "/oauth/token",
                                   b"grant_type=refresh_token&grant_type=refresh_token",
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"], "invalid_request")

    def test_n07_redirect_uri_is_optional_at_the_token_endpoint_but_checked(self):
        client_id, verifier, code = self.code_for()
        status, _, doc = self.exchange(client_id, verifier, code,
                                       redirect_uri=CALLBACK + "/other")
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))
        status, _, doc = self.exchange(client_id, verifier, code)  # OAuth 2.1: omitted
        self.assertEqual(status, 200, doc)

    def test_n16_iss_in_success_and_error_responses(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        ok = query_of(self.approve(b, self.authorize_url(client_id, challenge)))
        self.assertIn("code", ok)
        denied = query_of(self.approve(b, self.authorize_url(client_id, challenge),
                                       decision="deny"))
        self.assertEqual(denied["error"], "access_denied")
        for q in (ok, denied):
            self.assertEqual(q["iss"], self.meta["issuer"])

    # -- refresh ----------------------------------------------------------------------

    def test_n10d_previous_token_after_the_grace_window_revokes_the_family(self):
        import time
        client_id, doc = self.tokens()
        status, _, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        self.clock.advance(31)  # the grace window is 30 s
        status, _, bad = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual((status, bad["error"]), (400, "invalid_grant"))
        self.assertEqual(self.mcp_status(r1["access_token"]), 401)
        status, _, dead = self.refresh(client_id, r1["refresh_token"])
        self.assertEqual(status, 400, dead)

    def test_refresh_rotates_and_old_access_token_keeps_working(self):
        client_id, doc = self.tokens()
        status, headers, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertNotEqual(r1["refresh_token"], doc["refresh_token"])
        self.assertEqual(self.mcp_status(r1["access_token"]), 200)
        status, _, r2 = self.refresh(client_id, r1["refresh_token"])
        self.assertEqual(status, 200, r2)

    def test_n10b_previous_token_within_grace_succeeds(self):
        client_id, doc = self.tokens()
        status, _, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        # A parallel refresh with the previous token, within the grace window.
        status, _, r1b = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1b)
        self.assertEqual(self.mcp_status(r1b["access_token"]), 200)

    def test_n10a_reuse_of_generation_n_minus_2_revokes_the_family(self):
        client_id, doc = self.tokens()
        status, _, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        status, _, r2 = self.refresh(client_id, r1["refresh_token"])
        self.assertEqual(status, 200, r2)
        # Generation 0 is two rotations old: reuse.
        status, _, bad = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual((status, bad["error"]), (400, "invalid_grant"))
        self.assertEqual(self.mcp_status(r2["access_token"]), 401)
        status, _, dead = self.refresh(client_id, r2["refresh_token"])
        self.assertEqual(status, 400, dead)

    def test_n11_refresh_cannot_widen_scope_change_resource_or_client(self):
        client_id, doc = self.tokens()
        status, _, r = self.refresh(client_id, doc["refresh_token"], scope="mail:send")
        self.assertEqual((status, r["error"]), (400, "invalid_scope"))
        status, _, r = self.refresh(client_id, doc["refresh_token"],
                                    resource="https://other.example/mcp")
        self.assertEqual((status, r["error"]), (400, "invalid_target"))
        status, _, r = self.refresh(self.client(), doc["refresh_token"])
        self.assertEqual((status, r["error"]), (400, "invalid_grant"))
        status, _, r = self.refresh(client_id, doc["refresh_token"], scope="mail:read")
        self.assertEqual(status, 200, r)
        self.assertEqual(r["scope"], "mail:read")

    # -- revocation and the dashboard -----------------------------------------------

    def test_n14a_revoking_a_refresh_token_kills_its_access_tokens(self):
        client_id, doc = self.tokens()
        status, headers, body = self.raw("POST", "/oauth/revoke",
                                         form={"token": doc["refresh_token"], "client_id": client_id})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.mcp_status(doc["access_token"]), 401)
        status, _, r = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 400, r)

    def test_n14b_revoking_access_and_unknown_tokens_is_200(self):
        client_id, doc = self.tokens()
        status, _, _ = self.raw("POST", "/oauth/revoke", form={"token": doc["access_token"],
                                                                "token_type_hint": "access_token"})
        self.assertEqual(status, 200)
        self.assertEqual(self.mcp_status(doc["access_token"]), 401)
        status, _, _ = self.raw("POST", "/oauth/revoke", form={"token": "nonsense"})
        self.assertEqual(status, 200)
        status, _, _ = self.raw("POST", "/oauth/revoke", form={})
        self.assertEqual(status, 400)

    def connection_row(self, body, grant_marker=None):
        rows = re.findall(r'<tr data-grant-id="[^"]+">(.*?)</tr>', body, re.S)
        return rows

    def test_oauth_grants_appear_in_the_dashboard_by_client_name(self):
        client_id = self.client(name='Bob\'s <agent> & "co"')
        verifier, challenge = pkce()
        b = self.browser("bob")
        q = query_of(self.approve(b, self.authorize_url(client_id, challenge)))
        status, _, doc = self.exchange(client_id, verifier, q["code"])
        self.assertEqual(status, 200, doc)
        status, _, body, _ = b.get("/dashboard")
        self.assertEqual(status, 200)
        rows = [r for r in self.connection_row(body) if "&lt;agent&gt;" in r]
        self.assertEqual(len(rows), 1, body)
        # The name (escaped), not the client id; never used so far.
        self.assertIn("Bob&#39;s &lt;agent&gt; &amp; &quot;co&quot;", rows[0])
        self.assertNotIn(client_id, rows[0])
        self.assertRegex(rows[0], r'data-label="Last used"[^>]*>\s*<span class="muted">never')
        # A tool call is a use: shown at once, from the TOKEN AUTHORITY.
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)
        _, _, body, _ = b.get("/dashboard")
        row = [r for r in self.connection_row(body) if "&lt;agent&gt;" in r][0]
        self.assertRegex(row, r'data-label="Last used"[^>]*><time datetime=')

    def test_client_without_a_name_is_shown_by_its_redirect_host(self):
        status, _, body = self.raw("POST", "/oauth/register",
                                   {"redirect_uris": ["https://agent.example.org/cb"]})
        self.assertEqual(status, 201, body)
        reg = json.loads(body)
        self.assertEqual(reg["client_name"], "agent.example.org")
        verifier, challenge = pkce()
        b = self.browser("bob")
        url = self.authorize_url(reg["client_id"], challenge,
                                 redirect_uri="https://agent.example.org/cb")
        _, page = self.consent(b, url)
        self.assertIn("<strong>agent.example.org</strong> wants to use your email", page)
        q = query_of(self.approve(b, url))
        status, _, doc = self.exchange(reg["client_id"], verifier, q["code"])
        self.assertEqual(status, 200, doc)
        _, _, body, _ = b.get("/dashboard")
        self.assertTrue(any("agent.example.org" in r for r in self.connection_row(body)), body)

    def test_activity_names_the_agent(self):
        client_id = self.client(name="Activity agent")
        verifier, challenge = pkce()
        b = self.browser("bob")
        q = query_of(self.approve(b, self.authorize_url(client_id, challenge)))
        _, _, doc = self.exchange(client_id, verifier, q["code"])
        session, _ = self.p.initialize(doc["access_token"])
        self.p.rpc(doc["access_token"], session, "tools/call",
                   {"name": "list_folders", "arguments": {}})
        import time
        for _ in range(40):  # audit entries are written in batches
            _, _, body, _ = b.get("/activity")
            if "Agent Activity agent" in body:
                break
            time.sleep(0.05)
        self.assertIn("Agent Activity agent", body)
        self.assertNotIn("Agent " + client_id, body)

    def test_refresh_token_without_offline_access_and_offline_access_accepted(self):
        # Claude.ai never asks for offline_access: a refresh token comes anyway.
        client_id, doc = self.tokens()
        self.assertNotIn("offline_access", doc["scope"])
        self.assertTrue(doc.get("refresh_token"), doc)
        self.assertIn("expires_in", doc)
        status, _, r = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r)
        self.assertTrue(r.get("refresh_token"))
        # Asking for it is accepted too (and changes nothing).
        client_id, verifier, code = self.code_for(scope="mail:read offline_access")
        status, _, doc = self.exchange(client_id, verifier, code)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["scope"], "mail:read")
        self.assertTrue(doc.get("refresh_token"))


# -- client ID metadata documents ---------------------------------------------------


class ClientMetadataTest(OAuthHelpers, unittest.TestCase):
    """URL client ids: the document is fetched over verified HTTPS with
    limits, checked, cached, and refused from internal addresses."""

    @classmethod
    def server_env(cls):
        return {"TRUST_PROXY": "1", "SSL_CERT_FILE": cls.ca,
                "CLIENT_METADATA_ALLOW_LOOPBACK": "1"}

    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="postern-cimd-")
        cls.ca, cert, key = make_test_ca(cls.pki)
        cls.docs = DocumentServer(cert, key)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.docs.stop()
        shutil.rmtree(cls.pki, ignore_errors=True)

    def authorize_page(self, client_id, challenge, **extra):
        """The authorization request before login: an error page, or the
        redirect to the login page when the client checked out."""
        status, headers, body = self.raw("GET", self.authorize_url(client_id, challenge, **extra))
        return status, headers, body.decode()

    def assert_refused(self, client_id, sentence, **extra):
        _, challenge = pkce()
        status, headers, body = self.authorize_page(client_id, challenge, **extra)
        self.assertEqual(status, 400, body[:2000])
        self.assertNotIn("location", headers)
        self.assertIn(html.escape(sentence, quote=True), body)

    def test_document_client_through_consent_token_and_refresh(self):
        url = self.docs.serve("/good.json", self.docs.document(
            "/good.json", name="Metadata <app>"), headers={"Cache-Control": "max-age=300"})
        verifier, challenge = pkce()
        b = self.browser("alice")
        page_url = self.authorize_url(url, challenge)
        _, page = self.consent(b, page_url)
        self.assertIn("<strong>Metadata &lt;app&gt;</strong> wants to use your email", page)
        q = query_of(self.approve(b, page_url))
        self.assertEqual(q["iss"], self.issuer)
        status, _, doc = self.exchange(url, verifier, q["code"])
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.mcp_status(doc["access_token"]), 200)
        status, _, r = self.refresh(url, doc["refresh_token"])
        self.assertEqual(status, 200, r)
        # Fetched once: the consent page, the approval, the token and the
        # refresh requests all used the cache (max-age=300).
        self.assertEqual(self.docs.hits["/good.json"], 1)
        _, _, body, _ = b.get("/dashboard")
        self.assertIn("Metadata &lt;app&gt;", body)

    def test_no_store_documents_are_fetched_every_time(self):
        url = self.docs.serve("/nostore.json", self.docs.document("/nostore.json"),
                              headers={"Cache-Control": "no-store"})
        _, challenge = pkce()
        for _ in range(2):
            status, headers, body = self.authorize_page(url, challenge)
            self.assertEqual(status, 303, body[:2000])
            self.assertRegex(headers["location"], r"^/login\?next=")
        self.assertEqual(self.docs.hits["/nostore.json"], 2)

    def test_concurrent_requests_share_one_fetch(self):
        import concurrent.futures
        url = self.docs.serve("/shared.json", self.docs.document("/shared.json"),
                              headers={"Cache-Control": "no-store"}, delay=1)
        _, challenge = pkce()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: self.authorize_page(url, challenge)[0], range(4)))
        self.assertEqual(results, [303] * 4)
        # no-store: nothing cached, yet the four waited for one fetch.
        self.assertEqual(self.docs.hits["/shared.json"], 1)

    def test_client_id_must_match_the_url_exactly(self):
        doc = self.docs.document("/mismatch.json")
        doc["client_id"] = self.docs.url("/mismatch.json?x")
        url = self.docs.serve("/mismatch.json", doc)
        self.assert_refused(url, "client_id is not exactly the URL it was fetched from")

    def test_redirect_uri_must_be_listed_exactly(self):
        url = self.docs.serve("/cb.json", self.docs.document(
            "/cb.json", redirect_uris=["http://127.0.0.1:4000/cb"]))
        # A registered DCR client could use another loopback port; a
        # document lists its redirect URIs exactly.
        self.assert_refused(url, "The redirect_uri is not one this application registered.",
                            redirect_uri="http://127.0.0.1:4001/cb")
        self.assert_refused(url, "The redirect_uri is not one this application registered.",
                            redirect_uri=CALLBACK)
        _, challenge = pkce()
        status, _, body = self.authorize_page(url, challenge, redirect_uri="http://127.0.0.1:4000/cb")
        self.assertEqual(status, 303, body[:2000])

    def test_oversize_documents_are_refused(self):
        doc = self.docs.document("/big.json", padding="x" * (70 * 1024))
        url = self.docs.serve("/big.json", doc)
        self.assert_refused(url, "larger than 64 KiB")

    def test_slow_servers_are_cut_off(self):
        import time
        url = self.docs.serve("/slow.json", self.docs.document("/slow.json"), delay=8)
        started = time.monotonic()
        self.assert_refused(url, "did not arrive within 5 seconds")
        self.assertLess(time.monotonic() - started, 7.5)

    def test_redirects_are_not_followed(self):
        self.docs.serve("/moved.json", self.docs.document("/moved.json"))
        url = self.docs.serve("/redirect.json", status=302, body=b"",
                              headers={"Location": self.docs.url("/moved.json")})
        self.assert_refused(url, "answered with a redirect, which is not followed")
        self.assertNotIn("/moved.json", self.docs.hits)

    def test_plain_http_and_malformed_urls_are_refused(self):
        self.assert_refused("http://127.0.0.1:%d/good.json" % self.docs.port,
                            "A client_id URL must use https.")
        self.assert_refused(self.docs.url("/"), "A client_id URL must have a path.")
        self.assert_refused(self.docs.url("/a/../good.json"), "must not have . or .. path segments")

    def test_unknown_document_and_bad_json(self):
        self.assert_refused(self.docs.url("/missing.json"), "answered HTTP 404")
        url = self.docs.serve("/notjson.json", body=b"<html>")
        self.assert_refused(url, "is not a JSON object")

    def test_token_endpoint_refuses_a_broken_document_with_invalid_client(self):
        url = self.docs.url("/missing-at-token.json")
        status, _, doc = self.exchange(url, "v" * 43, "pac_x")
        self.assertEqual((status, doc["error"]), (401, "invalid_client"))
        self.assertIn("answered HTTP 404", doc["error_description"])

    def authorize_elsewhere(self, env, path):
        """GET /oauth/authorize for the document at `path` on a second
        Postern with `env`; returns (status, body)."""
        other = Postern(self.tmp, env)
        other.start()
        try:
            url = self.docs.serve(path, self.docs.document(path))
            _, challenge = pkce()
            c = http_client(other.port)
            try:
                c.request("GET", self.authorize_url(url, challenge))
                r = c.getresponse()
                return r.status, r.read().decode()
            finally:
                c.close()
        finally:
            other.stop()

    def test_untrusted_certificates_are_refused(self):
        status, body = self.authorize_elsewhere(
            {"CLIENT_METADATA_ALLOW_LOOPBACK": "1", "SSL_CERT_FILE": "/nonexistent.pem"},
            "/tls.json")
        self.assertEqual(status, 400, body[:2000])
        self.assertIn("TLS with the server of the client_id URL failed", body)

    def test_loopback_is_refused_without_the_test_setting(self):
        status, body = self.authorize_elsewhere({"SSL_CERT_FILE": self.ca}, "/private.json")
        self.assertEqual(status, 400, body[:2000])
        self.assertIn("private, loopback or link-local address", body)
        self.assertNotIn("/private.json", self.docs.hits)


def http_client(port):
    import http.client
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
