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


class Postern(McpPostern):
    def conn(self, timeout=30):
        import http.client
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

CALLBACK = "https://claude.ai/api/mcp/auth_callback"
ALL_SCOPES = "mail:folders mail:read mail:search mail:modify mail:send"


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


class OAuthTest(unittest.TestCase):
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-oauth-")
        cls.p = Postern(cls.tmp, {"TRUST_PROXY": "1"})
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
        OAuthTest.counter += 1
        return "10.9.%d.%d" % (OAuthTest.counter // 250, OAuthTest.counter % 250 + 1)

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

    def register(self, redirect_uris=None, name="Test client", path="/oauth/register", **extra):
        doc = {"redirect_uris": redirect_uris or [CALLBACK], "client_name": name}
        doc.update(extra)
        return self.raw("POST", path, doc)

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
        self.assertIn("client_id_metadata_document_supported", m)

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

    def test_authorize_wrong_redirect_uri_is_a_page(self):
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

    def assert_redirect_error(self, url, error, redirect=CALLBACK):
        status, headers, body = self.raw("GET", url)
        self.assertIn(status, (302, 303), body[:500])
        location = headers["location"]
        self.assertTrue(location.startswith(redirect + "?"), location)
        q = query_of(location)
        self.assertEqual(q["error"], error, q)
        self.assertEqual(q["iss"], self.issuer)
        self.assertEqual(q["state"], "st-123")

    def test_authorize_requires_pkce_s256(self):
        client_id = self.client()
        _, challenge = pkce()
        self.assert_redirect_error(self.authorize_url(client_id, None), "invalid_request")
        self.assert_redirect_error(self.authorize_url(client_id, challenge,
                                                      code_challenge_method="plain"),
                                   "invalid_request")

    def test_authorize_response_type_scope_resource(self):
        client_id = self.client()
        _, challenge = pkce()
        self.assert_redirect_error(self.authorize_url(client_id, challenge, response_type="token"),
                                   "unsupported_response_type")
        self.assert_redirect_error(self.authorize_url(client_id, challenge, scope="mail:everything"),
                                   "invalid_scope")
        self.assert_redirect_error(self.authorize_url(client_id, challenge,
                                                      resource="https://other.example/mcp"),
                                   "invalid_target")

    def test_authorize_accepts_canonical_variants_of_resource_and_any_loopback_port(self):
        client_id = self.client(["http://127.0.0.1:5000/cb"])
        _, challenge = pkce()
        for resource in [self.resource + "/", self.resource.upper().replace("/MCP", "/mcp"),
                         self.issuer + "/", None]:
            status, headers, _ = self.raw("GET", self.authorize_url(
                client_id, challenge, redirect_uri="http://127.0.0.1:61234/cb", resource=resource))
            self.assertEqual(status, 303)
            self.assertTrue(headers["location"].startswith("/login?"), headers["location"])

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
        csp = headers["Content-Security-Policy"]
        self.assertIn("form-action 'self' https://claude.ai", csp)
        self.assertIn("frame-ancestors 'none'", csp)

    def test_deny_redirects_access_denied_with_iss(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        location = self.approve(b, self.authorize_url(client_id, challenge), decision="deny")
        q = query_of(location)
        self.assertEqual(q["error"], "access_denied")
        self.assertEqual(q["iss"], self.issuer)
        self.assertEqual(q["state"], "st-123")
        self.assertNotIn("code", q)

    def test_consent_without_csrf_is_refused(self):
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
        verifier, challenge = pkce()
        b = self.browser("alice")
        location = self.approve(b, self.authorize_url(client_id, challenge),
                                account=self.bob_account)
        status, _, doc = self.exchange(client_id, verifier, query_of(location)["code"])
        self.assertEqual(status, 400, doc)
        self.assertEqual(doc["error"], "invalid_grant")

    # -- token endpoint --------------------------------------------------------------

    def test_token_unknown_client_is_401_invalid_client(self):
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

    def test_code_replay_revokes_the_issued_tokens(self):
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

    def test_concurrent_code_exchanges_exactly_one_wins(self):
        import concurrent.futures
        client_id, verifier, code = self.code_for()
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: self.exchange(client_id, verifier, code)[0], range(6)))
        self.assertEqual(sorted(results), [200] + [400] * 5)

    def test_code_expires_after_60_seconds(self):
        import time
        client_id, verifier, code = self.code_for()
        time.sleep(61)
        status, _, doc = self.exchange(client_id, verifier, code)
        self.assertEqual((status, doc["error"]), (400, "invalid_grant"))

    def test_no_store_on_registration_token_and_revocation(self):
        status, headers, _ = self.register()
        self.assertEqual(headers["cache-control"], "no-store")
        status, headers, _ = self.raw("POST", "/oauth/token", form={"grant_type": "x"})
        self.assertEqual(headers["cache-control"], "no-store")
        status, headers, _ = self.raw("POST", "/oauth/revoke", form={"token": "x"})
        self.assertEqual(headers["cache-control"], "no-store")

    def test_authorize_has_no_cors_and_no_framing(self):
        client_id = self.client()
        _, challenge = pkce()
        b = self.browser("alice")
        status, headers, body, _ = b.get(self.authorize_url(client_id, challenge),
                                         headers={"Origin": "https://evil.example"})
        self.assertEqual(status, 200, body[:500])
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        self.assertIn("frame-ancestors 'none'", headers["Content-Security-Policy"])
        self.assertEqual(headers["X-Frame-Options"], "DENY")

    def test_consent_for_unknown_pending_request_is_400(self):
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

    def test_access_token_in_query_is_ignored(self):
        _, doc = self.tokens()
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        status, _, _ = self.p.request("POST", init,
                                      path="/mcp?access_token=" + doc["access_token"])
        self.assertEqual(status, 401)

    def test_token_for_one_resource_is_refused_at_another(self):
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

    def test_parallel_refreshes_do_not_revoke(self):
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

    # -- refresh ----------------------------------------------------------------------

    def test_refresh_rotates_and_old_access_token_keeps_working(self):
        client_id, doc = self.tokens()
        status, headers, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertNotEqual(r1["refresh_token"], doc["refresh_token"])
        self.assertEqual(self.mcp_status(r1["access_token"]), 200)
        status, _, r2 = self.refresh(client_id, r1["refresh_token"])
        self.assertEqual(status, 200, r2)

    def test_refresh_grace_for_the_immediately_previous_token(self):
        client_id, doc = self.tokens()
        status, _, r1 = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1)
        # A parallel refresh with the previous token, within the grace window.
        status, _, r1b = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 200, r1b)
        self.assertEqual(self.mcp_status(r1b["access_token"]), 200)

    def test_refresh_reuse_of_an_older_token_revokes_the_grant(self):
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

    def test_refresh_cannot_widen_scope_change_resource_or_client(self):
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

    def test_revoke_refresh_token_ends_the_grant(self):
        client_id, doc = self.tokens()
        status, headers, body = self.raw("POST", "/oauth/revoke",
                                         form={"token": doc["refresh_token"], "client_id": client_id})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.mcp_status(doc["access_token"]), 401)
        status, _, r = self.refresh(client_id, doc["refresh_token"])
        self.assertEqual(status, 400, r)

    def test_revoke_access_token_and_unknown_token(self):
        client_id, doc = self.tokens()
        status, _, _ = self.raw("POST", "/oauth/revoke", form={"token": doc["access_token"],
                                                                "token_type_hint": "access_token"})
        self.assertEqual(status, 200)
        self.assertEqual(self.mcp_status(doc["access_token"]), 401)
        status, _, _ = self.raw("POST", "/oauth/revoke", form={"token": "nonsense"})
        self.assertEqual(status, 200)
        status, _, _ = self.raw("POST", "/oauth/revoke", form={})
        self.assertEqual(status, 400)

    def test_oauth_grants_appear_in_the_dashboard(self):
        client_id, _ = self.tokens("bob")
        b = self.browser("bob")
        status, _, body, _ = b.get("/dashboard")
        self.assertEqual(status, 200)
        self.assertIn(client_id, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
