#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sending that waits for a yes, end to end against the real Dovecot and
Postfix: a connection issued with --ask-before-send holds what its agent
sends (send_mail, reply_message) in its person's outbox; the person sends
or discards it on the dashboard; get_send_status follows it; a message
left alone expires (OUTBOX_TTL_HOURS, on the injected clock). Every page
and form also has its negative case (another person, no session, no CSRF
token, a decided message, a malformed id).

Run: POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=.../ports.env \
     python3 tests/integration/outbox_test.py
"""
import http.client
import imaplib
import json
import os
import shutil
import ssl
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_test import PASSWORD, Browser  # noqa: E402
from mcp_http_test import Postern  # noqa: E402
from support import TestClock, mail_env  # noqa: E402


class Served(Postern):
    """The MCP test server, reachable by dashboard_test's Browser too."""

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


class Agent:
    """An MCP client of one token: initialize once, then tools/call."""

    def __init__(self, server, token):
        self.server = server
        self.token = token
        self.session, _ = server.initialize(token)
        self.rid = 10

    def call(self, name, arguments):
        self.rid += 1
        params = {"name": name, "arguments": arguments}
        status, _, body = self.server.rpc(self.token, self.session, "tools/call",
                                          params, rid=self.rid)
        if status == 404:  # the session idled out while the clock moved
            self.session, _ = self.server.initialize(self.token)
            status, _, body = self.server.rpc(self.token, self.session, "tools/call",
                                              params, rid=self.rid)
        assert status == 200, (status, body)
        reply = json.loads(body)
        assert "result" in reply, reply
        return reply["result"]


class OutboxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mail = mail_env()
        cls.tmp = tempfile.mkdtemp(prefix="postern-outbox-")
        cls.clock = TestClock(cls.tmp)
        extra = {"SSL_CERT_FILE": cls.mail["CA_FILE"], "OUTBOX_TTL_HOURS": "2"}
        extra.update(cls.clock.env())
        cls.server = Served(cls.tmp, extra).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- set-up --------------------------------------------------------------

    def person(self, name, *flags, scopes="mail:read mail:search mail:send"):
        """A user with bob's real mailbox as their account and a connection
        issued with `flags`; returns (browser, agent, account id)."""
        s = self.server
        s.admin("create-user", name, stdin=PASSWORD + "\n")
        account = s.admin(
            "add-account", name, "--label", "Bob's mail",
            "--imap-host", "127.0.0.1", "--imap-port", self.mail["IMAP_PORT"],
            "--imap-security", "starttls", "--imap-user", self.mail["MAIL_USER2"],
            "--ca-file", self.mail["CA_FILE"],
            "--smtp-host", "127.0.0.1", "--smtp-port", self.mail["SUBMISSION_PORT"],
            "--smtp-security", "starttls",
            stdin=self.mail["MAIL_PASS2"] + "\n").stdout.decode().strip()
        r = s.admin("issue-token", name, "--account", account, "--scopes", scopes, *flags)
        token = r.stdout.decode().strip()
        b = Browser(s)
        status, _, body, _ = b.login(name)
        self.assertEqual(status, 303, body[:500])
        return b, Agent(s, token), account

    def inbox_subjects(self):
        ctx = ssl.create_default_context(cafile=self.mail["CA_FILE"])
        m = imaplib.IMAP4("127.0.0.1", int(self.mail["IMAP_PORT"]), timeout=10)
        try:
            m.starttls(ssl_context=ctx)
            m.login(self.mail["MAIL_USER2"], self.mail["MAIL_PASS2"])
            m.select("INBOX", readonly=True)
            _, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subjects = []
            for item in data:
                if isinstance(item, tuple):
                    subjects.append(item[1].decode("utf-8", "replace").strip())
            return subjects
        finally:
            m.logout()

    def wait_for_subject(self, subject):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(subject in s for s in self.inbox_subjects()):
                return
            time.sleep(0.2)
        self.fail("%r never arrived in bob's INBOX" % subject)

    @staticmethod
    def structured(result):
        assert not result.get("isError"), result
        return result["structuredContent"]

    def path_of(self, url):
        parsed = urllib.parse.urlsplit(url)
        self.assertEqual("%s://%s" % (parsed.scheme, parsed.netloc),
                         "http://localhost:%d" % self.server.port)
        return parsed.path

    # -- the journey ---------------------------------------------------------

    def test_a_held_message_waits_for_its_persons_yes(self):
        b, agent, account = self.person("outbox-owner", "--ask-before-send")
        tag = uuid.uuid4().hex[:10]
        # 1. Held, not sent: the answer says where the person decides.
        first = self.structured(agent.call("send_mail", {
            "to": self.mail["MAIL_USER2"], "subject": "held-no " + tag,
            "body": "Please do not send this one."}))
        self.assertEqual(first["status"], "awaiting_approval")
        self.assertTrue(first["success"])
        self.assertIsNone(first["sentFolder"])
        self.assertIn("do not send it again", first["notice"])
        first_path = self.path_of(first["approveUrl"])
        self.assertEqual(first_path, "/outbox/" + first["outboxId"])
        status = self.structured(agent.call("get_send_status", {"outboxId": first["outboxId"]}))
        self.assertEqual(status["status"], "pending")
        self.assertEqual(status["subject"], "held-no " + tag)
        self.assertEqual(status["approveUrl"], first["approveUrl"])
        self.assertIsNone(status["decidedAt"])
        second = self.structured(agent.call("send_mail", {
            "to": self.mail["MAIL_USER2"], "subject": "held-yes " + tag,
            "body": "Send this one.", "bcc": "carol-not-really@example.test"}))
        self.assertEqual(second["status"], "awaiting_approval")

        # 2. The dashboard shows both, with what they say and to whom.
        _, _, body, _ = b.get("/dashboard")
        self.assertIn("Waiting for your yes", body)
        self.assertIn("held-no " + tag, body)
        self.assertIn("held-yes " + tag, body)
        status_code, _, page, _ = b.get(first_path)
        self.assertEqual(status_code, 200)
        self.assertIn("Send this message?", page)
        self.assertIn("Please do not send this one.", page)
        self.assertIn(self.mail["MAIL_USER2"], page)
        _, _, page, _ = b.get("/outbox/" + second["outboxId"])
        self.assertIn("carol-not-really@example.test", page, "Bcc is shown to the person")

        # 3. Nobody else reaches them, and no form works without its token.
        stranger = Browser(self.server)
        status_code, headers, _, _ = stranger.get(first_path)
        self.assertEqual(status_code, 303)
        self.assertTrue(headers["Location"].startswith("/login?next="), headers["Location"])
        self.server.admin("create-user", "outbox-other", stdin=PASSWORD + "\n")
        other = Browser(self.server)
        other.login("outbox-other")
        status_code, _, _, _ = other.get(first_path)
        self.assertEqual(status_code, 404)
        status_code, _, _, _ = other.form("/dashboard", first_path + "/send", {})
        self.assertEqual(status_code, 404)
        status_code, _, _, _ = b.post(first_path + "/send", {})
        self.assertEqual(status_code, 403, "no CSRF token")
        status_code, _, _, _ = b.get("/outbox/no%2Fsuch")
        self.assertEqual(status_code, 404)
        status_code, _, _, _ = b.form("/dashboard", "/outbox/nosuchmessage/send", {})
        self.assertEqual(status_code, 404)
        status_code, _, _, _ = b.form("/dashboard", first_path + "/forward", {})
        self.assertEqual(status_code, 404)

        # 4. Discard the first; it can be neither sent nor discarded again.
        status_code, headers, _, _ = b.form(first_path, first_path + "/discard", {})
        self.assertEqual(status_code, 303)
        self.assertEqual(headers["Location"], first_path + "?notice=outbox_discarded")
        _, _, page, _ = b.get(headers["Location"])
        self.assertIn("will not be sent", page)
        self.assertIn("Discarded", page)
        status_code, _, page, _ = b.form("/dashboard", first_path + "/send", {})
        self.assertEqual(status_code, 409)
        self.assertIn("discarded", page)
        status = self.structured(agent.call("get_send_status", {"outboxId": first["outboxId"]}))
        self.assertEqual(status["status"], "discarded")
        self.assertIsNotNone(status["decidedAt"])

        # 5. Send the second from the dashboard: it arrives, once.
        second_path = "/outbox/" + second["outboxId"]
        status_code, headers, body, _ = b.form(
            "/dashboard", second_path + "/send", {"back": "/dashboard"})
        self.assertEqual(status_code, 303, body[:1000])
        self.assertEqual(headers["Location"], "/dashboard?notice=outbox_sent")
        self.wait_for_subject("held-yes " + tag)
        # It was submitted after the first would have been: had the first
        # gone out, it would be here by now.
        self.assertFalse([s for s in self.inbox_subjects() if "held-no " + tag in s])
        status = self.structured(agent.call("get_send_status", {"outboxId": second["outboxId"]}))
        self.assertEqual(status["status"], "sent")
        self.assertEqual(status["sentFolder"], "Sent")
        status_code, _, page, _ = b.form("/dashboard", second_path + "/send", {})
        self.assertEqual(status_code, 409)
        self.assertIn("sent already", page)
        self.assertEqual(
            len([s for s in self.inbox_subjects() if "held-yes " + tag in s]), 1)
        _, _, body, _ = b.get("/dashboard")
        self.assertNotIn("Waiting for your yes", body)

        # 6. A forward (composed from the original in the mailbox) is held
        # the same way.
        found = self.structured(agent.call("search_messages", {"subject": "held-yes " + tag}))
        uid = found["messages"][0]["uid"]
        reply = self.structured(agent.call("forward_message", {
            "uid": uid, "to": self.mail["MAIL_USER2"], "body": "FYI, see below."}))
        self.assertEqual(reply["status"], "awaiting_approval")
        self.assertEqual(reply["subject"], "Fwd: held-yes " + tag)
        _, _, page, _ = b.get(self.path_of(reply["approveUrl"]))
        self.assertIn("Fwd: held-yes " + tag, page)
        self.assertIn("FYI, see below.", page)
        self.assertIn("Send this one.", page, "the forwarded text is shown too")

        # 7. Another connection of the same person cannot follow it.
        token = self.server.admin("issue-token", "outbox-owner", "--account", account,
                                  "--scopes", "mail:send").stdout.decode().strip()
        result = Agent(self.server, token).call("get_send_status",
                                                {"outboxId": reply["outboxId"]})
        self.assertTrue(result.get("isError"))
        self.assertIn("no held message with that outboxId", result["content"][0]["text"])

        # 8. The activity log has each decision.
        _, _, page, _ = b.get("/activity")
        self.assertIn("Sent a message held for your yes", page)
        self.assertIn("Discarded a message held for your yes", page)
        self.assertIn("awaiting_approval", page)

    def test_a_message_nobody_approves_expires(self):
        b, agent, _ = self.person("outbox-late", "--ask-before-send")
        held = self.structured(agent.call("send_mail", {
            "to": self.mail["MAIL_USER2"], "subject": "too late " + uuid.uuid4().hex[:8],
            "body": "nobody says yes"}))
        self.assertEqual(held["status"], "awaiting_approval")
        path = self.path_of(held["approveUrl"])
        self.clock.advance(2 * 3600 - 10)
        status = self.structured(agent.call("get_send_status", {"outboxId": held["outboxId"]}))
        self.assertEqual(status["status"], "pending", "OUTBOX_TTL_HOURS=2 not reached")
        self.clock.advance(20)
        status = self.structured(agent.call("get_send_status", {"outboxId": held["outboxId"]}))
        self.assertEqual(status["status"], "expired")
        self.assertIn("expired unsent", status["notice"])
        status_code, _, page, _ = b.form("/dashboard", path + "/send", {})
        self.assertEqual(status_code, 409)
        self.assertIn("expired", page)
        _, _, page, _ = b.get("/activity")
        self.assertIn("A message held for your yes expired unsent", page)

    def test_connections_that_do_not_ask_send_at_once(self):
        _, agent, _ = self.person("outbox-direct")
        tag = uuid.uuid4().hex[:10]
        sent = self.structured(agent.call("send_mail", {
            "to": self.mail["MAIL_USER2"], "subject": "direct " + tag, "body": "now"}))
        self.assertNotIn("status", sent, "the original's answer, unchanged")
        self.assertNotIn("outboxId", sent)
        self.wait_for_subject("direct " + tag)
        result = agent.call("get_send_status", {"outboxId": "AAAAAAAAAAAAAAAAAAAAAAAA"})
        self.assertTrue(result.get("isError"))

    def test_the_admin_switch_is_checked(self):
        s = self.server
        s.admin("create-user", "outbox-admin", stdin=PASSWORD + "\n")
        account = s.admin("add-account", "outbox-admin", "--label", "x", "--imap-host",
                          "127.0.0.1", "--imap-port", "1", "--imap-security", "plain",
                          "--imap-user", "x",
                          stdin="pw\n").stdout.decode().strip()
        r = s.admin("issue-token", "outbox-admin", "--account", account, "--scopes",
                    "mail:read", "--ask-before-send", ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ask-before-send needs the mail:send scope", r.stderr.decode())
        r = s.admin("issue-token", "outbox-admin", "--account", account, "--scopes",
                    "mail:send", "--ask-before-send=yes", ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ask-before-send takes no value", r.stderr.decode())
        r = s.admin("issue-token", "outbox-admin", "--account", account, "--scopes",
                    "mail:send", "--ask-before-send")
        self.assertIn("holds every message for the person's yes", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
