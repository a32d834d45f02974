#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Accounts that sign in at their mail provider by OAuth (issue 16), end to
end: the fixture's fake provider (tests/mail/oauth_provider.py) issues the
tokens, the test Dovecot checks them through its oauth2 passdb (XOAUTH2 and
OAUTHBEARER), and Postfix submission through Dovecot's SASL. Postern reads
the providers from MAIL_OAUTH_PROVIDERS; `postern admin add-account --auth
oauth2` stores the refresh token the test got with a real code + PKCE flow.

Checked: listing and sending with XOAUTH2 and OAUTHBEARER; 20 concurrent
calls on a fresh account make exactly one refresh; a rotated refresh token
is stored at once (a restarted server signs in with it); a token the server
refuses early is replaced and the call retried; a token near its expiry is
renewed before use; a refused refresh token (invalid_grant) is a tool error
naming the account and Reconnect, remembered without asking the provider
again; no token reaches the log; a provider file with a mistake is a startup
error naming the field.

Run: POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=.../ports.env \\
     python3 tests/integration/provider_oauth_test.py
"""
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_test import PASSWORD, Browser  # noqa: E402
from document_server import DocumentServer, make_test_ca  # noqa: E402
from fake_dns import FakeDNS  # noqa: E402
from mcp_http_test import BIN  # noqa: E402
from outbox_test import Agent, Served  # noqa: E402
from support import TestClock, mail_env  # noqa: E402

CLIENT_ID = "postern-test"
CLIENT_SECRET = "postern-test-secret"
REDIRECT = "http://127.0.0.1:9/accounts/oauth/callback"


class Provider:
    """The fixture's fake provider: the code flow a person's browser would
    make, its per-user controls and its counters."""

    def __init__(self, url):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port

    def refresh_token(self, user):
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
            "state": secrets.token_urlsafe(8), "code_challenge": challenge,
            "code_challenge_method": "S256", "login_hint": user})
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request("GET", "/authorize?" + query)
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 302, r.status
        code = urllib.parse.parse_qs(urllib.parse.urlparse(
            r.getheader("Location")).query)["code"][0]
        body = urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}).encode()
        answer = json.load(urllib.request.urlopen(self.url + "/token", body, timeout=10))
        return answer["refresh_token"]

    def control(self, user, **settings):
        body = json.dumps(dict(settings, user=user)).encode()
        req = urllib.request.Request(self.url + "/control", body,
                                     {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def stats(self, user):
        s = json.load(urllib.request.urlopen(
            self.url + "/stats?" + urllib.parse.urlencode({"user": user}), timeout=10))
        for k in ("refreshes", "codes", "tokeninfo_ok", "tokeninfo_rejected"):
            s.setdefault(k, 0)
        return s


def provider_entry(name, title, mail, provider_url, sasl):
    return {
        "name": name, "title": title,
        "authorization_endpoint": provider_url + "/authorize",
        "token_endpoint": provider_url + "/token",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "scopes": "mail offline_access",
        "imap": {"host": "127.0.0.1", "port": int(mail["IMAPS_PORT"]), "security": "tls"},
        "smtp": {"host": "127.0.0.1", "port": int(mail["SUBMISSION_PORT"]),
                 "security": "starttls"},
        "sasl": sasl, "domains": ["example.test"],
    }


class ProviderOAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mail = mail_env()
        cls.user = cls.mail["MAIL_USER_OSCAR"]
        cls.provider = Provider(cls.mail["OAUTH_PROVIDER_URL"])
        cls.tmp = tempfile.mkdtemp(prefix="postern-provider-")
        cls.providers_file = os.path.join(cls.tmp, "providers.json")
        with open(cls.providers_file, "w") as f:
            json.dump([
                provider_entry("testmail", "Test Mail", cls.mail, cls.provider.url, "XOAUTH2"),
                provider_entry("testbearer", "Test Bearer", cls.mail, cls.provider.url,
                               "OAUTHBEARER"),
            ], f)
        cls.refresh_tokens = []
        # Postern's clock for token lifetimes: moved by the test, never
        # waited for.
        cls.clock = TestClock(cls.tmp)
        # SSL_CERT_FILE: accounts added on the dashboard (no per-account CA
        # file) trust the test Dovecot's CA.
        # The address step's SRV lookups go to a DNS server of the test's.
        cls.dns = FakeDNS({
            "_imaps._tcp.srvmail.test": [(10, 0, 993, "imap.srvmail.test"),
                                         (0, 5, 9993, "best.srvmail.test.")],
            "_submissions._tcp.srvmail.test": [(0, 0, 465, "smtp.srvmail.test")],
            "_imap._tcp.starttls.test": [(0, 0, 143, "mx.starttls.test")],
            "_submission._tcp.starttls.test": [(0, 0, 587, "mx.starttls.test")],
            "_imaps._tcp.noservice.test": [(0, 0, 0, ".")],
        }, addresses={
            # Autoconfig hosts: on this machine (the document server), or
            # inside a private network Postern must not fetch from.
            "autoconfig.acmail.test": ["127.0.0.1"],
            "wkmail.test": ["127.0.0.1"],
            "autoconfig.plainmail.test": ["127.0.0.1"],
            "autoconfig.redirmail.test": ["127.0.0.1"],
            "autoconfig.wrongcert.test": ["127.0.0.1"],
            "autoconfig.privmail.test": ["10.9.8.7"],
            "privmail.test": ["192.168.1.1"],
        })
        # Their HTTPS server, with a certificate for every name above but
        # wrongcert.test; SSL_CERT_FILE trusts its CA and the mail CA.
        cls.pki = os.path.join(cls.tmp, "pki")
        os.mkdir(cls.pki)
        ca, cert, key = make_test_ca(cls.pki, names=[
            "autoconfig.acmail.test", "wkmail.test", "autoconfig.plainmail.test",
            "autoconfig.redirmail.test"])
        cls.docs = DocumentServer(cert, key)
        bundle = os.path.join(cls.pki, "trusted.pem")
        with open(bundle, "w") as out:
            for name in (cls.mail["CA_FILE"], ca):
                with open(name) as f:
                    out.write(f.read())
        env = {"MAIL_OAUTH_PROVIDERS": cls.providers_file, "TOOL_RATE_LIMIT": "0",
               "SSL_CERT_FILE": bundle, "MAIL_SETUP_DNS": cls.dns.address,
               "TEST_AUTOCONFIG_PORT": str(cls.docs.port),
               "CLIENT_METADATA_ALLOW_LOOPBACK": "1"}
        env.update(cls.clock.env())
        cls.server = Served(cls.tmp, env).start()
        cls.people = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dns.close()
        cls.docs.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.provider.control(self.user, refuse_refresh=False, expires_in=3600,
                              rotate=True, delay_ms=0, reject_tokeninfo=0,
                              deny=False, signin_as="")

    # -- set-up --------------------------------------------------------------

    def person(self, provider="testmail", label="Work"):
        """A new Postern user whose account is oscar's mailbox, signed in at
        `provider`; returns (agent, account id, refresh token given)."""
        type(self).people += 1
        name = "person%d" % self.people
        s = self.server
        s.admin("create-user", name, stdin=PASSWORD + "\n")
        refresh = self.provider.refresh_token(self.user)
        self.refresh_tokens.append(refresh)
        r = s.admin("add-account", name, "--label", label, "--auth", "oauth2",
                    "--provider", provider, "--imap-user", self.user,
                    "--ca-file", self.mail["CA_FILE"], stdin=refresh + "\n")
        account = r.stdout.decode().strip()
        token = s.token(name, account, "mail:folders mail:read mail:search mail:send")
        self.last_person = name
        return Agent(s, token), account, refresh

    @staticmethod
    def text(result):
        return "".join(c.get("text", "") for c in result.get("content", []))

    def ok(self, result):
        self.assertFalse(result.get("isError"), self.text(result))
        return result

    def wait_for_subject(self, agent, subject):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = self.ok(agent.call("list_messages", {"folder": "INBOX", "pageSize": 50}))
            if subject in json.dumps(listed.get("structuredContent", {})):
                return
            time.sleep(0.2)
        self.fail("the sent message %r never arrived in INBOX" % subject)

    # -- the tests -----------------------------------------------------------

    def test_xoauth2_lists_sends_and_refreshes_once(self):
        before = self.provider.stats(self.user)
        agent, _, _ = self.person()
        folders = self.ok(agent.call("list_folders", {}))
        self.assertIn("INBOX", json.dumps(folders.get("structuredContent", {})))
        subject = "oauth-send " + secrets.token_hex(4)
        sent = self.ok(agent.call("send_mail", {"to": self.user, "subject": subject,
                                                "body": "sent with XOAUTH2"}))
        self.assertIn("sent", self.text(sent).lower())
        self.wait_for_subject(agent, subject)
        after = self.provider.stats(self.user)
        # One refresh served IMAP and SMTP; every login was accepted.
        self.assertEqual(after["refreshes"] - before["refreshes"], 1)
        self.assertEqual(after["tokeninfo_rejected"], before["tokeninfo_rejected"])
        self.assertGreater(after["tokeninfo_ok"], before["tokeninfo_ok"])

    def test_oauthbearer_lists_and_sends(self):
        agent, _, _ = self.person(provider="testbearer", label="Bearer")
        subject = "oauthbearer-send " + secrets.token_hex(4)
        self.ok(agent.call("send_mail", {"to": self.user, "subject": subject,
                                         "body": "sent with OAUTHBEARER"}))
        self.wait_for_subject(agent, subject)

    def test_twenty_concurrent_calls_make_one_refresh(self):
        agent, _, _ = self.person(label="Busy")
        # The token endpoint answers slowly, so the calls arrive while the
        # one refresh is in flight (on a slow machine some may come after
        # it and use the new token: still one refresh, so the assertion
        # holds however fast the machine is).
        self.provider.control(self.user, delay_ms=400)
        before = self.provider.stats(self.user)
        results, errors = [], []
        # Five calls at once on each of four MCP sessions of the grant.
        sessions = [Agent(self.server, agent.token) for _ in range(4)]
        agents = [sessions[i % 4] for i in range(20)]

        def call(a):
            try:
                results.append(a.call("list_messages", {"folder": "INBOX", "pageSize": 5}))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=call, args=(a,)) for a in agents]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 20)
        for r in results:
            self.ok(r)
        after = self.provider.stats(self.user)
        self.assertEqual(after["refreshes"] - before["refreshes"], 1)
        print("20 concurrent calls on one account: %d refresh(es), %d logins accepted"
              % (after["refreshes"] - before["refreshes"],
                 after["tokeninfo_ok"] - before["tokeninfo_ok"]))

    def test_a_token_refused_early_is_replaced_and_the_call_retried(self):
        agent, _, _ = self.person(label="Early")
        before = self.provider.stats(self.user)
        # The first login with the first token fails as if it was revoked.
        self.provider.control(self.user, reject_tokeninfo=1)
        self.ok(agent.call("list_folders", {}))
        after = self.provider.stats(self.user)
        self.assertEqual(after["tokeninfo_rejected"] - before["tokeninfo_rejected"], 1)
        self.assertEqual(after["refreshes"] - before["refreshes"], 2)

    def test_a_token_near_its_expiry_is_renewed_before_use(self):
        agent, _, _ = self.person(label="Short")
        before = self.provider.stats(self.user)
        self.ok(agent.call("list_folders", {}))
        # The provider's token lives an hour and Postern renews it five
        # minutes early: its clock moves past that point while the
        # provider stops accepting the old token.
        self.provider.control(self.user, expire_access=True)
        self.clock.advance(3301)
        # Calls at the same moment: some wait for new connections, which
        # need a token.
        results = []
        sessions = [Agent(self.server, agent.token) for _ in range(4)]
        agents = [sessions[i % 4] for i in range(12)]
        start = threading.Barrier(len(agents))

        def call(a):
            start.wait(30)
            results.append(a.call("list_messages", {"folder": "INBOX", "pageSize": 5}))
        threads = [threading.Thread(target=call, args=(a,)) for a in agents]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(results), 12)
        for r in results:
            self.ok(r)
        after = self.provider.stats(self.user)
        # A second token was fetched for the new connections, and no login
        # presented the expired one (without the renewal it would have
        # been refused and replaced: tokeninfo_rejected would count it).
        self.assertGreaterEqual(after["refreshes"] - before["refreshes"], 2)
        self.assertEqual(after["tokeninfo_rejected"], before["tokeninfo_rejected"])

    def test_a_refused_refresh_token_asks_the_person_to_sign_in_again(self):
        agent, account, _ = self.person(label="Revoked")
        self.provider.control(self.user, refuse_refresh=True)
        first = agent.call("list_folders", {})
        self.assertTrue(first.get("isError"), first)
        sentence = self.text(first)
        self.assertIn('"Revoked"', sentence)
        self.assertIn(self.user, sentence)
        self.assertIn("Test Mail", sentence)
        self.assertIn("Reconnect", sentence)
        self.assertNotIn("AADSTS", sentence)  # the provider's own words stay out
        # Remembered: the next call does not ask the provider again.
        before = self.provider.stats(self.user)
        again = agent.call("list_messages", {"folder": "INBOX"})
        self.assertTrue(again.get("isError"), again)
        self.assertIn("Reconnect", self.text(again))
        self.assertEqual(self.provider.stats(self.user)["refreshes"], before["refreshes"])

    def test_a_rotated_refresh_token_is_stored_at_once(self):
        agent, _, refresh = self.person(label="Rotated")
        self.ok(agent.call("list_folders", {}))
        # The first refresh rotated the token: a new server process (no
        # access token in memory) signs in with the stored, rotated one.
        # Had the old one been kept, the provider would see a replay.
        self.server.stop()
        self.server.start()
        before = self.provider.stats(self.user)
        fresh = Agent(self.server, agent.token)
        self.ok(fresh.call("list_folders", {}))
        after = self.provider.stats(self.user)
        self.assertEqual(after["refreshes"] - before["refreshes"], 1)

    def test_the_dashboard_shows_the_provider_and_tests_through_the_account(self):
        agent, account, _ = self.person(label="Dash")
        before = self.provider.stats(self.user)
        b = Browser(self.server)
        status, _, body, _ = b.login(self.last_person)
        self.assertEqual(status, 303, body[:500])
        _, _, body, _ = b.get("/dashboard")
        self.assertIn("with Test Mail", body)
        self.assertNotIn("no longer accepts this account", body)
        # The edit form has no password fields for it.
        _, _, form, _ = b.get("/accounts/%s/edit" % account)
        self.assertIn("no password is stored", form)
        self.assertNotIn('id="imap_password"', form)
        # "Test connection" signs in with the ACCOUNT's token (one refresh,
        # shared with the calls that follow), over IMAP and SMTP.
        fields = {"label": "Dash", "imap_host": "127.0.0.1",
                  "imap_port": self.mail["IMAPS_PORT"], "imap_security": "tls",
                  "imap_username": self.user, "has_smtp": "1",
                  "smtp_host": "127.0.0.1", "smtp_port": self.mail["SUBMISSION_PORT"],
                  "smtp_security": "starttls", "smtp_username": self.user,
                  "action": "test"}
        json_accept = {"Accept": "application/json"}
        status, _, body, _ = b.form("/accounts/%s/edit" % account,
                                    "/accounts/%s/edit" % account, fields,
                                    headers=json_accept)
        self.assertEqual(status, 200, body)
        report = json.loads(body)
        self.assertTrue(report["imap"]["ok"], report)
        self.assertTrue(report["smtp"]["ok"], report)
        self.ok(agent.call("list_folders", {}))
        after = self.provider.stats(self.user)
        self.assertEqual(after["refreshes"] - before["refreshes"], 1)
        # Saving the edit keeps the provider's sign-in.
        save = dict(fields, label="Dash renamed")
        del save["action"]
        save["save_anyway"] = "1"
        status, _, body, _ = b.form("/accounts/%s/edit" % account,
                                    "/accounts/%s/edit" % account, save)
        self.assertEqual(status, 303, body[:2000])
        self.ok(Agent(self.server, agent.token).call("list_folders", {}))
        # A refused sign-in: the dashboard says so, and the test says why.
        self.provider.control(self.user, refuse_refresh=True)
        other, other_account, _ = self.person(label="Dash refused")
        b2 = Browser(self.server)
        b2.login(self.last_person)
        status, _, body, _ = b2.form("/accounts/%s/edit" % other_account,
                                     "/accounts/%s/edit" % other_account,
                                     dict(fields, label="Dash refused"),
                                     headers=json_accept)
        self.assertEqual(status, 200, body)
        report = json.loads(body)
        self.assertFalse(report["imap"]["ok"], report)
        self.assertIn("Reconnect", report["imap"]["message"])
        _, _, body, _ = b2.get("/dashboard")
        self.assertIn("no longer accepts this account", body)

    # -- "Sign in with <provider>" on the dashboard --------------------------

    def web_person(self):
        """A new Postern user logged in on a Browser (no account yet)."""
        type(self).people += 1
        name = "web%d" % self.people
        self.server.admin("create-user", name, stdin=PASSWORD + "\n")
        b = Browser(self.server)
        status, _, body, _ = b.login(name)
        self.assertEqual(status, 303, body[:500])
        self.last_person = name
        return b

    def provider_round_trip(self, location):
        """What a browser does at the provider: follows its redirect and
        returns the callback's path and query on Postern."""
        u = urllib.parse.urlparse(location)
        self.assertEqual("%s:%s" % (u.hostname, u.port),
                         "%s:%s" % (self.provider.host, self.provider.port))
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.request("GET", u.path + "?" + u.query)
        r = c.getresponse()
        r.read()
        c.close()
        self.assertEqual(r.status, 302)
        back = urllib.parse.urlparse(r.getheader("Location"))
        self.assertEqual(back.path, "/accounts/oauth/callback")
        return back.path + "?" + back.query

    def start_signin(self, b, fields, page="/accounts/add"):
        status, headers, body, _ = b.form(page, "/accounts/oauth/start", fields)
        self.assertEqual(status, 303, body[:1000])
        location = headers["Location"]
        q = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
        return location, q

    def test_the_dashboard_signs_in_with_the_provider(self):
        b = self.web_person()
        # The address step offers the provider of the address's domain.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"address": self.user, "action": "lookup"})
        self.assertEqual(status, 200, body[:1000])
        self.assertIn("Sign in with Test Mail", body)
        self.assertIn('name="provider" value="testmail"', body)
        before = self.provider.stats(self.user)
        location, q = self.start_signin(b, {"provider": "testmail", "address": self.user,
                                            "label": "Signed in"})
        # Code + PKCE S256 + state, for the address, at the redirect URI.
        self.assertEqual(q["response_type"], ["code"])
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertEqual(len(q["code_challenge"][0]), 43)
        self.assertEqual(len(q["state"][0]), 43)
        self.assertEqual(q["login_hint"], [self.user])
        self.assertEqual(q["scope"], ["mail offline_access"])
        self.assertTrue(q["redirect_uri"][0].endswith("/accounts/oauth/callback"))
        callback = self.provider_round_trip(location)
        status, headers, body, _ = b.get(callback)
        self.assertEqual(status, 303, body[:2000])
        self.assertEqual(headers["Location"], "/dashboard?notice=added")
        after = self.provider.stats(self.user)
        self.assertEqual(after["codes"] - before["codes"], 1)
        _, _, dash, _ = b.get("/dashboard")
        self.assertIn("Signed in", dash)
        self.assertIn("with Test Mail", dash)
        self.assertIn("Reconnect", dash)
        account = re.search(r'data-account-id="([^"]+)"', dash).group(1)
        # An agent uses it: the stored refresh token works.
        token = self.server.token(self.last_person, account, "mail:folders mail:read")
        agent = Agent(self.server, token)
        self.ok(agent.call("list_folders", {}))
        # The callback is used once.
        status, _, body, _ = b.get(callback)
        self.assertEqual(status, 400)
        self.assertIn("expired or was already used", body)

    def test_reconnect_renews_a_refused_sign_in(self):
        b = self.web_person()
        location, _ = self.start_signin(b, {"provider": "testmail", "address": self.user,
                                            "label": "Comeback"})
        status, _, body, _ = b.get(self.provider_round_trip(location))
        self.assertEqual(status, 303, body[:2000])
        _, _, dash, _ = b.get("/dashboard")
        account = re.search(r'data-account-id="([^"]+)"', dash).group(1)
        agent = Agent(self.server, self.server.token(self.last_person, account,
                                                     "mail:folders"))
        self.provider.control(self.user, refuse_refresh=True)
        self.assertTrue(agent.call("list_folders", {}).get("isError"))
        # The person fixes it at the provider; the account stays refused
        # until they reconnect.
        self.provider.control(self.user, refuse_refresh=False)
        self.assertTrue(agent.call("list_folders", {}).get("isError"))
        _, _, dash, _ = b.get("/dashboard")
        self.assertIn("no longer accepts this account", dash)
        self.assertIn('data-reconnect="%s"' % account, dash)
        # The dashboard's CSP lets Reconnect's form go on to the provider.
        _, headers, _, _ = b.get("/dashboard")
        self.assertIn(self.provider.url, headers["Content-Security-Policy"])
        location, q = self.start_signin(b, {"provider": "testmail", "account": account},
                                        page="/dashboard")
        self.assertEqual(q["login_hint"], [self.user])
        status, headers, body, _ = b.get(self.provider_round_trip(location))
        self.assertEqual(status, 303, body[:2000])
        self.assertEqual(headers["Location"], "/dashboard?notice=reconnected")
        self.ok(agent.call("list_folders", {}))
        _, _, dash, _ = b.get("/dashboard")
        self.assertNotIn("no longer accepts this account", dash)

    def test_a_sign_in_is_refused_when_it_does_not_fit(self):
        b = self.web_person()
        accounts_before = b.get("/dashboard")[2].count("data-account-id=")
        # The person says no at the provider.
        self.provider.control(self.user, deny=True)
        location, _ = self.start_signin(b, {"provider": "testmail", "address": self.user})
        status, _, body, _ = b.get(self.provider_round_trip(location))
        self.assertEqual(status, 400)
        self.assertIn("You did not allow Postern at Test Mail", body)
        self.provider.control(self.user, deny=False)
        # Signed in as another mailbox than the address named: IMAP refuses
        # the token for oscar, nothing is saved.
        self.provider.control(self.user, signin_as="someone-else@example.test")
        location, _ = self.start_signin(b, {"provider": "testmail", "address": self.user})
        status, _, body, _ = b.get(self.provider_round_trip(location))
        self.assertEqual(status, 422, body[:2000])
        self.assertIn("did not open " + self.user, body)
        self.provider.control(self.user, signin_as="")
        # A callback started in another login (someone else's link) is
        # refused and spent.
        location, _ = self.start_signin(b, {"provider": "testmail", "address": self.user})
        callback = self.provider_round_trip(location)
        other = self.web_person()
        status, _, body, _ = other.get(callback)
        self.assertEqual(status, 400)
        self.assertIn("expired or was already used", body)
        status, _, body, _ = b.get(callback)
        self.assertEqual(status, 400)
        # Unknown state, no state, an error code that is not one, no code.
        for query in ["state=nosuch&code=x", "code=x", "", "state=" + "A" * 300]:
            status, _, body, _ = b.get("/accounts/oauth/callback?" + query)
            self.assertEqual(status, 400, query)
        location, q = self.start_signin(b, {"provider": "testmail", "address": self.user})
        status, _, body, _ = b.get("/accounts/oauth/callback?" + urllib.parse.urlencode(
            {"state": q["state"][0], "error": "<script>x</script>",
             "error_description": "SECRET-DESCRIPTION"}))
        self.assertEqual(status, 400)
        self.assertIn("unknown_error", body)
        self.assertNotIn("<script>x", body)
        self.assertNotIn("SECRET-DESCRIPTION", body)
        location, q = self.start_signin(b, {"provider": "testmail", "address": self.user})
        status, _, body, _ = b.get("/accounts/oauth/callback?state=" + q["state"][0])
        self.assertEqual(status, 400)
        self.assertIn("no usable sign-in", body)
        # A forged code: the provider refuses it, nothing is saved.
        location, q = self.start_signin(b, {"provider": "testmail", "address": self.user})
        status, _, body, _ = b.get("/accounts/oauth/callback?" + urllib.parse.urlencode(
            {"state": q["state"][0], "code": "code-forged"}))
        self.assertEqual(status, 502, body[:2000])
        self.assertIn("Nothing was saved", body)
        self.assertEqual(b.get("/dashboard")[2].count("data-account-id="), accounts_before)
        # Not logged in: the callback goes to the login page.
        status, headers, _, _ = Browser(self.server).get(callback)
        self.assertEqual(status, 303)
        self.assertTrue(headers["Location"].startswith("/login"))

    def test_the_sign_in_start_refuses_bad_forms(self):
        b = self.web_person()
        page = "/accounts/add"
        for fields, status, words in [
                ({"provider": "nosuch", "address": self.user}, 400, "no sign-in with that"),
                ({"provider": "testmail", "address": "not-an-address"}, 400,
                 "Enter the email address"),
                ({"provider": "testmail", "address": self.user, "label": "x" * 101}, 400,
                 "at most 100"),
                ({"provider": "testmail", "account": "../etc"}, 404, "No such"),
                ({"provider": "testmail", "account": "nosuchaccount"}, 404, "")]:
            got, _, body, _ = b.form(page, "/accounts/oauth/start", fields)
            self.assertEqual(got, status, (fields, body[:1000]))
            self.assertIn(words, body)
        # Without the form's token, or from another site.
        got, _, _, _ = b.post("/accounts/oauth/start",
                              {"provider": "testmail", "address": self.user, "csrf": "A" * 43})
        self.assertEqual(got, 403)
        got, _, _, _ = b.post("/accounts/oauth/start",
                              {"provider": "testmail", "address": self.user,
                               "csrf": b.csrf_of(b.get(page)[2])},
                              headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(got, 403)
        # Not logged in: to the login page, and no sign-in starts.
        got, headers, _, _ = Browser(self.server).post(
            "/accounts/oauth/start", {"provider": "testmail", "address": self.user})
        self.assertEqual(got, 303)
        self.assertTrue(headers["Location"].startswith("/login"), headers)
        # Reconnecting an account that signs in with another provider (or a
        # password) is refused.
        self.person(provider="testbearer", label="Bearer acct")
        b2 = Browser(self.server)
        b2.login(self.last_person)
        dash = b2.get("/dashboard")[2]
        account = re.search(r'data-account-id="([^"]+)"', dash).group(1)
        got, _, body, _ = b2.form("/dashboard", "/accounts/oauth/start",
                                  {"provider": "testmail", "account": account})
        self.assertEqual(got, 400)
        self.assertIn("does not sign in with Test Mail", body)

    def test_the_address_step_fills_in_known_servers(self):
        b = self.web_person()
        # A bad address stays on the step.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"address": "nobody", "action": "lookup"})
        self.assertEqual(status, 400)
        self.assertIn("Enter an email address", body)
        # A well-known provider without a configured sign-in: its servers.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"address": "me@fastmail.com", "action": "lookup"})
        self.assertEqual(status, 200, body[:1000])
        self.assertIn('value="imap.fastmail.com"', body)
        self.assertIn('value="me@fastmail.com"', body)
        self.assertIn("Sign in with Test Mail", body)  # offered for own domains
        # "Use a password instead" for the provider's own domain.
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"address": self.user, "action": "manual"})
        self.assertEqual(status, 200)
        self.assertIn('id="imap_password"', body)
        self.assertIn('value="%s"' % self.user, body)
        # The manual form is still there.
        status, _, body, _ = b.get("/accounts/add?manual=1")
        self.assertEqual(status, 200)
        self.assertIn('id="imap_host"', body)

    def lookup_form(self, b, address):
        """The add form the address step answers for `address` (200)."""
        status, _, body, _ = b.form("/accounts/add", "/accounts/add",
                                    {"address": address, "action": "lookup"})
        self.assertEqual(status, 200, body[:1000])
        return body

    def test_the_address_step_reads_srv_records(self):
        b = self.web_person()

        def lookup(address):
            return self.lookup_form(b, address)
        # Implicit TLS first (RFC 8314), the best record (lowest priority).
        body = lookup("me@srvmail.test")
        self.assertIn("DNS records of srvmail.test", body)
        self.assertIn('id="imap_host" name="imap_host" value="best.srvmail.test"', body)
        self.assertIn('value="9993"', body)
        self.assertIn('id="smtp_host" name="smtp_host" value="smtp.srvmail.test"', body)
        self.assertIn('value="me@srvmail.test"', body)
        # Only STARTTLS services: both selects say so.
        body = lookup("me@starttls.test")
        self.assertIn('value="mx.starttls.test"', body)
        self.assertIn('value="143"', body)
        self.assertIn('value="587"', body)
        self.assertEqual(body.count('<option value="starttls" selected>'), 2)
        # "." means no service (RFC 6186 §3.4); nothing else is found.
        body = lookup("me@noservice.test")
        self.assertIn("found no settings for noservice.test", body)
        self.assertIn('id="imap_host" name="imap_host" value=""', body)
        asked = [name for name, qtype in self.dns.queries if qtype == 33]
        for name in ["_imaps._tcp.srvmail.test", "_submissions._tcp.srvmail.test",
                     "_imap._tcp.starttls.test", "_imaps._tcp.noservice.test",
                     "_imap._tcp.noservice.test"]:
            self.assertIn(name, asked)

    def test_the_address_step_reads_autoconfig_documents(self):
        """Without SRV records, the domain's autoconfig document: at
        autoconfig.<domain> (with the address), then at <domain>'s
        .well-known path; verified HTTPS only, never a private address."""
        def config(name, incoming, outgoing):
            return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<clientConfig version="1.1"><emailProvider id="%s">'
                    '<displayName>%s</displayName>%s%s</emailProvider></clientConfig>'
                    % (name, name, incoming, outgoing))

        def server(kind, host, port, socket, user):
            tag = "incomingServer" if kind in ("imap", "pop3") else "outgoingServer"
            return ("<%s type=\"%s\"><hostname>%s</hostname><port>%d</port>"
                    "<socketType>%s</socketType><username>%s</username></%s>"
                    % (tag, kind, host, port, socket, user, tag))
        xml = {"Content-Type": "application/xml"}
        q = "/mail/config-v1.1.xml?emailaddress="
        self.docs.serve(q + "me%40acmail.test", headers=xml, body=config(
            "AC Mail",
            server("pop3", "pop.acmail.test", 995, "SSL", "%EMAILADDRESS%")
            + server("imap", "imap.acmail.test", 993, "SSL", "%EMAILLOCALPART%"),
            server("smtp", "smtp.acmail.test", 587, "STARTTLS", "%EMAILADDRESS%")))
        self.docs.serve("/.well-known/autoconfig/mail/config-v1.1.xml", headers=xml,
                        body=config("WK", server("imap", "mail.wkmail.test", 143,
                                                 "STARTTLS", "%EMAILADDRESS%"), ""))
        self.docs.serve(q + "me%40plainmail.test", headers=xml, body=config(
            "Plain", server("imap", "mail.plainmail.test", 143, "plain", "x"), ""))
        self.docs.serve(q + "me%40redirmail.test", status=302, body="",
                        headers={"Location": self.docs.url(q + "me%40acmail.test")})
        self.docs.serve(q + "me%40wrongcert.test", headers=xml, body=config(
            "Wrong", server("imap", "imap.wrongcert.test", 993, "SSL", "x"), ""))
        b = self.web_person()

        def lookup(address):
            return self.lookup_form(b, address)
        before = len(self.docs.hosts)
        body = lookup("me@acmail.test")
        self.assertIn("Filled in from the autoconfig document of acmail.test", body)
        self.assertIn('id="imap_host" name="imap_host" value="imap.acmail.test"', body)
        self.assertIn('id="imap_username" name="imap_username" value="me"', body)
        self.assertIn('id="smtp_host" name="smtp_host" value="smtp.acmail.test"', body)
        self.assertIn('value="587"', body)
        # Its SMTP login is the whole address, the IMAP one the local part;
        # the sign-in offers keep the address.
        self.assertIn('id="smtp_username" name="smtp_username" value="me@acmail.test"', body)
        self.assertIn('name="address" value="me@acmail.test"', body)
        self.assertEqual(self.docs.hosts[before:],
                         [("autoconfig.acmail.test:%d" % self.docs.port,
                           q + "me%40acmail.test")])
        # No autoconfig host: the domain's own .well-known document.
        body = lookup("me@wkmail.test")
        self.assertIn("autoconfig document of wkmail.test", body)
        self.assertIn('value="mail.wkmail.test"', body)
        self.assertEqual(body.count('<option value="starttls" selected>'), 1)
        self.assertEqual(self.docs.hosts[-1][0], "wkmail.test:%d" % self.docs.port)
        # Refused: plain servers only, a redirect (not followed), a
        # certificate for another name, private addresses (never fetched).
        for domain in ["plainmail.test", "redirmail.test", "wrongcert.test",
                       "privmail.test"]:
            hits = len(self.docs.hosts)
            body = lookup("me@" + domain)
            self.assertIn("found no settings for " + domain, body)
            self.assertIn('id="imap_host" name="imap_host" value=""', body)
            if domain == "redirmail.test":
                self.assertEqual(self.docs.hits.get(q + "me%40acmail.test"), 1)
            if domain in ("wrongcert.test", "privmail.test"):
                self.assertEqual(len(self.docs.hosts), hits, domain)
        asked = [name for name, qtype in self.dns.queries if qtype == 1]
        for name in ["autoconfig.acmail.test", "autoconfig.wkmail.test", "wkmail.test",
                     "autoconfig.privmail.test", "privmail.test"]:
            self.assertIn(name, asked)
        # SRV records still come first: no document asked for srvmail.test.
        lookup("me@srvmail.test")
        self.assertNotIn("autoconfig.srvmail.test", [n for n, t in self.dns.queries])

    def test_zz_no_token_reaches_the_log(self):
        agent, _, _ = self.person(label="Quiet")
        self.ok(agent.call("list_folders", {}))
        log = self.server.output()
        for refresh in self.refresh_tokens:
            self.assertNotIn(refresh, log)
        self.assertIsNone(re.search(r"\b(at|rt)-[A-Za-z0-9_-]{20,}", log),
                          "a provider token is in the log")
        self.assertIn("provider access token refreshed", log)

    def test_admin_refuses_an_unknown_provider_and_a_missing_token(self):
        s = self.server
        s.admin("create-user", "nobody", stdin="nobody-postern-pw\n")
        r = s.admin("add-account", "nobody", "--label", "X", "--auth", "oauth2",
                    "--provider", "nosuch", "--imap-user", self.user,
                    stdin="rt\n", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nosuch", r.stderr.decode())
        self.assertIn("testmail", r.stderr.decode())
        r = s.admin("add-account", "nobody", "--label", "X", "--auth", "oauth2",
                    "--provider", "testmail", "--imap-user", self.user,
                    stdin="\n", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refresh token", r.stderr.decode())
        r = s.admin("add-account", "nobody", "--label", "X", "--auth", "kerberos",
                    stdin="\n", ok=False)
        self.assertIn("--auth must be password or oauth2", r.stderr.decode())

    def test_a_malformed_provider_file_stops_the_start(self):
        bad = os.path.join(self.tmp, "bad-providers.json")
        entry = provider_entry("broken", "Broken", self.mail, self.provider.url, "XOAUTH2")
        del entry["smtp"]["port"]
        with open(bad, "w") as f:
            json.dump([entry], f)
        env = dict(self.server.env, MAIL_OAUTH_PROVIDERS=bad, PORT="0",
                   DATA_DIR=os.path.join(self.tmp, "bad-data"))
        r = subprocess.run([BIN], env=env, capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        out = (r.stdout + r.stderr).decode()
        self.assertIn("MAIL_OAUTH_PROVIDERS", out)
        self.assertIn("smtp.port", out)
        self.assertIn("broken", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
