#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Raw-HTTP tests of /mcp: every status code of the transport (202, 204,
400, 401, 403, 404, 405, 406, 413, 415), CORS for allowed origins, the WWW-Authenticate challenges,
sessions bound to their grant, idle expiry, the per-grant session cap,
rate limiting, and tokens issued or revoked by `postern admin` while the
server runs. No mail server needed: tool calls that reach the mail engine
fail fast against a closed port, which is all these tests need.

Run: POSTERN_BIN=build/dev/postern python3 tests/integration/mcp_http_test.py
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from support import TestClock

BIN = os.environ.get("POSTERN_BIN", "build/dev/postern")
KEY = "c3" * 32
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "raw-http-test", "version": "1"}}}


def closed_port():
    """A loopback port nobody listens on (the accounts' IMAP server)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postern:
    """A server on a free port, plus the admin commands on its DATA_DIR."""

    def __init__(self, tmp, extra_env=None):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PORT", "BASE_URL", "ALLOWED_ORIGINS", "TOOL_RATE_LIMIT")}
        self.env.update({"DATA_DIR": self.data, "ENCRYPTION_KEY": KEY,
                         "ACCOUNT_HOST_DENY": "none", "LOG_LEVEL": "debug"})
        self.env.update(extra_env or {})
        self.proc = None
        self.port = None

    def admin(self, *args, stdin="", ok=True):
        r = subprocess.run([BIN, "admin"] + list(args), input=stdin.encode(),
                           env=self.env, capture_output=True, timeout=60)
        if ok and r.returncode != 0:
            raise AssertionError("admin %s failed: %s" % (args, r.stderr.decode()))
        return r

    def add_user(self, name):
        self.admin("create-user", name, stdin="%s-postern-pw\n" % name)
        r = self.admin("add-account", name, "--label", "Test", "--imap-host", "127.0.0.1",
                       "--imap-port", str(closed_port()), "--imap-security", "plain",
                       "--imap-user", name, stdin="pw\n")
        return r.stdout.decode().strip()

    def token(self, user, account, scopes, ttl=None):
        args = ["issue-token", user, "--account", account, "--scopes", scopes]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        r = self.admin(*args)
        token = r.stdout.decode().strip()
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token
        return token

    def start(self):
        self.log_path = os.path.join(self.tmp, "postern-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "w+b")
        env = dict(self.env, PORT="0")
        self.proc = subprocess.Popen([BIN], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://[^:]+:(\d+)", self.output())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("postern exited:\n" + self.output())
            time.sleep(0.05)
        raise AssertionError("postern did not start:\n" + self.output())

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    @property
    def base(self):
        return "http://localhost:%d" % self.port

    def request(self, method, body=None, token=None, session=None, headers=None,
                path="/mcp", raw=None):
        """Returns (status, headers with lower-case names, body bytes)."""
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"}
        if token:
            h["Authorization"] = "Bearer " + token
        if session:
            h["Mcp-Session-Id"] = session
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def initialize(self, token, version="2025-11-25"):
        init = json.loads(json.dumps(INIT))
        init["params"]["protocolVersion"] = version
        status, headers, body = self.request("POST", init, token)
        assert status == 200, (status, body)
        return headers["mcp-session-id"], json.loads(body)

    def rpc(self, token, session, method, params=None, rid=7, headers=None):
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        return self.request("POST", msg, token, session, headers)


class McpHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-mcp-")
        cls.p = Postern(cls.tmp, {"MCP_SESSION_IDLE_SECONDS": "3",
                                  "MCP_SESSIONS_PER_GRANT": "3",
                                  "TOOL_RATE_LIMIT": "5",
                                  "ALLOWED_ORIGINS": "https://app.example.com",
                                  "MAX_BODY_BYTES": "65536"})
        cls.account = cls.p.add_user("alice")
        cls.bob_account = cls.p.add_user("bob")
        # Issued before the server starts: found in LMDB on first use.
        cls.reader = cls.p.token("alice", cls.account, "mail:folders mail:read")
        cls.p.start()
        # Issued while it runs, by another process.
        cls.everything = cls.p.token("alice", cls.account,
                                     "mail:folders mail:read mail:search mail:modify mail:send")
        cls.bob = cls.p.token("bob", cls.bob_account, "mail:read")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_rpc_error(self, body, code):
        doc = json.loads(body)
        self.assertEqual(doc["jsonrpc"], "2.0")
        self.assertEqual(doc["error"]["code"], code, doc)
        return doc

    def test_sessions_per_user_refuse_the_newcomer_and_end_nobody(self):
        # A separate server: MCP_SESSIONS_PER_USER=4 over many grants.
        tmp = tempfile.mkdtemp(prefix="postern-mcp-quota-")
        p = Postern(tmp, {"MCP_SESSIONS_PER_USER": "4", "MCP_SESSIONS_PER_GRANT": "2"})
        try:
            account = p.add_user("hoarder")
            other = p.add_user("neighbour")
            p.start()
            tokens = [p.token("hoarder", account, "mail:read") for _ in range(3)]
            sessions = [(t, p.initialize(t)[0]) for t in tokens[:2] for _ in range(2)]
            # A fifth session of the same user, on a third grant: refused
            # with 429 and a sentence; the four others live on.
            status, _, body = p.request("POST", INIT, tokens[2])
            self.assertEqual(status, 429, body)
            self.assertIn("MCP_SESSIONS_PER_USER", json.loads(body)["error"]["message"])
            for t, sid in sessions:
                self.assertEqual(p.rpc(t, sid, "tools/list")[0], 200)
            # Another user is not affected.
            neighbour = p.token("neighbour", other, "mail:read")
            p.initialize(neighbour)
            # Ending one session makes room.
            t, sid = sessions[0]
            status, _, _ = p.request("DELETE", None, t, sid)
            self.assertEqual(status, 204)
            p.initialize(tokens[2])
        finally:
            p.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    # -- 401 ---------------------------------------------------------------------

    def test_401_without_token_has_the_resource_metadata_challenge(self):
        status, headers, body = self.p.request("POST", INIT)
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"],
                         'Bearer resource_metadata="%s/.well-known/oauth-protected-resource/mcp"'
                         % self.p.base)
        self.assertNotIn("error=", headers["www-authenticate"])
        self.assertEqual(json.loads(body)["error"], "unauthorized")
        # Other schemes are not tokens.
        status, headers, _ = self.p.request("POST", INIT, headers={"Authorization": "Basic YTpi"})
        self.assertEqual(status, 401)
        self.assertNotIn("error=", headers["www-authenticate"])

    def test_401_for_a_wrong_token_says_invalid_token(self):
        for token in ("x" * 43, "not a token!", self.reader[:-1]):
            status, headers, body = self.p.request(
                "POST", INIT, headers={"Authorization": "Bearer " + token})
            self.assertEqual(status, 401, token)
            challenge = headers["www-authenticate"]
            self.assertIn('resource_metadata="%s/.well-known/oauth-protected-resource/mcp"'
                          % self.p.base, challenge)
            self.assertIn('error="invalid_token"', challenge)
            self.assertEqual(json.loads(body)["error"], "invalid_token")

    def test_a_token_in_the_query_string_is_ignored(self):
        status, headers, _ = self.p.request("POST", INIT,
                                            path="/mcp?access_token=" + self.reader)
        self.assertEqual(status, 401)
        self.assertNotIn("error=", headers["www-authenticate"])

    def test_the_bearer_scheme_is_case_insensitive(self):
        status, headers, _ = self.p.request("POST", INIT,
                                            headers={"Authorization": "bearer " + self.reader})
        self.assertEqual(status, 200)
        self.assertIn("mcp-session-id", headers)

    # -- 403 ---------------------------------------------------------------------

    def test_403_for_a_foreign_origin_and_200_for_allowed_ones(self):
        for origin in ("https://evil.example.com", "null", "http://localhost:1"):
            status, _, body = self.p.request("POST", INIT, self.reader,
                                             headers={"Origin": origin})
            self.assertEqual(status, 403, origin)
            self.assert_rpc_error(body, -32003)
        for origin in (self.p.base, "https://app.example.com", "HTTPS://APP.EXAMPLE.COM:443"):
            status, _, _ = self.p.request("POST", INIT, self.reader, headers={"Origin": origin})
            self.assertEqual(status, 200, origin)
        status, _, _ = self.p.request("GET", headers={"Origin": "https://evil.example.com"})
        self.assertEqual(status, 403)

    def test_cors_for_allowed_browser_origins_only(self):
        status, headers, _ = self.p.request("OPTIONS", headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], "https://app.example.com")
        self.assertIn("POST", headers["access-control-allow-methods"])
        for h in ("Authorization", "Mcp-Session-Id", "MCP-Protocol-Version"):
            self.assertIn(h, headers["access-control-allow-headers"])
        status, headers, _ = self.p.request("OPTIONS", headers={"Origin": "https://evil.example.com"})
        self.assertEqual(status, 403)
        self.assertNotIn("access-control-allow-origin", headers)
        # Real requests from an allowed origin can read the session id.
        status, headers, _ = self.p.request("POST", INIT, self.reader,
                                            headers={"Origin": "https://app.example.com"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "https://app.example.com")
        self.assertIn("Mcp-Session-Id", headers["access-control-expose-headers"])
        # Even a 401 is readable (so the page can start OAuth).
        status, headers, _ = self.p.request("POST", INIT, headers={"Origin": "https://app.example.com"})
        self.assertEqual(status, 401)
        self.assertIn("WWW-Authenticate", headers["access-control-expose-headers"])
        # Non-browser clients get no CORS headers.
        status, headers, _ = self.p.request("POST", INIT, self.reader)
        self.assertNotIn("access-control-allow-origin", headers)

    def test_403_insufficient_scope_names_the_scopes_needed(self):
        session, _ = self.p.initialize(self.reader)
        status, headers, body = self.p.rpc(self.reader, session, "tools/call",
                                           {"name": "send_mail",
                                            "arguments": {"to": "x@example.com",
                                                          "subject": "s", "body": "b"}})
        self.assertEqual(status, 403)
        challenge = headers["www-authenticate"]
        self.assertTrue(challenge.startswith('Bearer error="insufficient_scope"'), challenge)
        self.assertIn('scope="mail:folders mail:read mail:send"', challenge)
        self.assertIn('resource_metadata="%s/.well-known/oauth-protected-resource/mcp"'
                      % self.p.base, challenge)
        doc = self.assert_rpc_error(body, -32003)
        self.assertEqual(doc["id"], 7)
        self.assertIn("mail:send", doc["error"]["message"])

    # -- 400 ---------------------------------------------------------------------

    def test_400_for_malformed_json_batches_and_bad_messages(self):
        session, _ = self.p.initialize(self.reader)
        for raw, code in ((b"{", -32700), (b"\xff\xfe", -32700), (b"[" * 10000, -32700),
                          (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600),
                          (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600),
                          (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600)):
            status, headers, body = self.p.request("POST", token=self.reader, session=session,
                                                   raw=raw)
            self.assertEqual(status, 400, raw[:40])
            self.assertEqual(headers["content-type"], "application/json")
            doc = self.assert_rpc_error(body, code)
            self.assertNotIn("Traceback", body.decode())
        status, _, body = self.p.request("POST", token=self.reader, session=session,
                                         raw=b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]')
        self.assertIn("batch", json.loads(body)["error"]["message"].lower())

    def test_400_for_an_unsupported_protocol_version_header(self):
        session, _ = self.p.initialize(self.reader)
        status, _, body = self.p.rpc(self.reader, session, "ping",
                                     headers={"MCP-Protocol-Version": "2099-01-01"})
        self.assertEqual(status, 400)
        self.assertIn("2099-01-01", self.assert_rpc_error(body, -32000)["error"]["message"])
        for version in ("2025-11-25", "2025-06-18", "2025-03-26"):
            status, _, _ = self.p.rpc(self.reader, session, "ping",
                                      headers={"MCP-Protocol-Version": version})
            self.assertEqual(status, 200, version)
        # Absent header: allowed (2025-03-26 clients do not send it).
        status, _, _ = self.p.rpc(self.reader, session, "ping")
        self.assertEqual(status, 200)

    def test_400_without_a_session_id(self):
        status, _, body = self.p.rpc(self.reader, None, "tools/list")
        self.assertEqual(status, 400)
        self.assertIn("Mcp-Session-Id", self.assert_rpc_error(body, -32000)["error"]["message"])
        status, _, _ = self.p.request("DELETE", token=self.reader)
        self.assertEqual(status, 400)

    # -- 404 ---------------------------------------------------------------------

    def test_404_for_unknown_and_foreign_sessions(self):
        status, _, body = self.p.rpc(self.reader, "no-such-session", "ping")
        self.assertEqual(status, 404)
        self.assert_rpc_error(body, -32001)
        session, _ = self.p.initialize(self.reader)
        # Another grant (even of the same user) cannot use or end it.
        for other in (self.bob, self.everything):
            status, _, _ = self.p.rpc(other, session, "ping")
            self.assertEqual(status, 404)
            status, _, _ = self.p.request("DELETE", token=other, session=session)
            self.assertEqual(status, 404)
        status, _, _ = self.p.rpc(self.reader, session, "ping")
        self.assertEqual(status, 200)

    def test_delete_ends_the_session(self):
        session, _ = self.p.initialize(self.reader)
        status, _, body = self.p.request("DELETE", token=self.reader, session=session)
        self.assertEqual(status, 204)
        self.assertEqual(body, b"")
        status, _, _ = self.p.rpc(self.reader, session, "ping")
        self.assertEqual(status, 404)
        status, _, _ = self.p.request("DELETE", token=self.reader, session=session)
        self.assertEqual(status, 404)

    def test_each_grant_holds_a_bounded_number_of_sessions(self):
        token = self.p.token("alice", self.account, "mail:read")
        sessions = [self.p.initialize(token)[0] for _ in range(4)]
        self.assertEqual(len(set(sessions)), 4)
        for s in sessions:
            self.assertRegex(s, r"^[\x21-\x7e]{43}$")
        # The cap is 3: the least recently used one made room.
        self.assertEqual(self.p.rpc(token, sessions[0], "ping")[0], 404)
        for s in sessions[1:]:
            self.assertEqual(self.p.rpc(token, s, "ping")[0], 200)

    # -- 405, 406, 413, 415, 202 ---------------------------------------------------

    def test_405_for_get(self):
        status, headers, body = self.p.request("GET", token=self.reader,
                                               headers={"Accept": "text/event-stream"})
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "POST, DELETE")
        self.assert_rpc_error(body, -32000)
        status, _, _ = self.p.request("PUT", INIT, self.reader)
        self.assertEqual(status, 405)

    def test_406_when_json_is_not_acceptable(self):
        status, _, body = self.p.request("POST", INIT, self.reader,
                                         headers={"Accept": "text/html"})
        self.assertEqual(status, 406)
        self.assert_rpc_error(body, -32000)
        for accept in ("application/json", "*/*", "application/*;q=0.5", None):
            status, _, _ = self.p.request("POST", INIT, self.reader, headers={"Accept": accept})
            self.assertEqual(status, 200, accept)

    def test_415_for_other_content_types(self):
        status, _, _ = self.p.request("POST", INIT, self.reader,
                                      headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        status, _, _ = self.p.request("POST", INIT, self.reader,
                                      headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(status, 200)

    def test_413_for_oversized_bodies(self):
        session, _ = self.p.initialize(self.reader)
        big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping",
                          "params": {"pad": "x" * 70000}}).encode()
        status, _, body = self.p.request("POST", token=self.reader, session=session, raw=big)
        self.assertEqual(status, 413)
        self.assertIn("exceeds", body.decode())

    def test_202_for_notifications_and_responses(self):
        session, _ = self.p.initialize(self.reader)
        for msg in ({"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": 3, "reason": "user"}},
                    {"jsonrpc": "2.0", "method": "notifications/unknown"},
                    {"jsonrpc": "2.0", "id": 99, "result": {}}):
            status, _, body = self.p.request("POST", msg, self.reader, session)
            self.assertEqual(status, 202, msg)
            self.assertEqual(body, b"")
        # A notification for a session that does not exist is still a 404.
        status, _, _ = self.p.request("POST", {"jsonrpc": "2.0",
                                               "method": "notifications/initialized"},
                                      self.reader, "gone")
        self.assertEqual(status, 404)

    # -- JSON-RPC behaviour ------------------------------------------------------------

    def test_initialize_negotiates_the_version(self):
        for asked, agreed in (("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"),
                              ("2025-03-26", "2025-03-26"), ("2024-11-05", "2025-11-25"),
                              ("1999-01-01", "2025-11-25")):
            _, doc = self.p.initialize(self.reader, asked)
            self.assertEqual(doc["result"]["protocolVersion"], agreed)
            self.assertEqual(doc["result"]["serverInfo"]["name"], "postern")
            self.assertIn("tools", doc["result"]["capabilities"])
            self.assertEqual(doc["result"]["capabilities"]["resources"],
                             {"listChanged": False, "subscribe": False})
        status, _, body = self.p.request("POST", {"jsonrpc": "2.0", "id": 1,
                                                  "method": "initialize", "params": {}},
                                         self.reader)
        self.assertEqual(status, 200)
        self.assert_rpc_error(body, -32602)

    def test_methods_ping_and_unknown(self):
        session, _ = self.p.initialize(self.reader)
        status, _, body = self.p.rpc(self.reader, session, "ping", rid="abc")
        self.assertEqual(json.loads(body), {"jsonrpc": "2.0", "id": "abc", "result": {}})
        status, _, body = self.p.rpc(self.reader, session, "prompts/list")
        self.assertEqual(status, 200)
        self.assert_rpc_error(body, -32601)
        # Resources: none listed, two templates, reads need a Postern URI.
        status, _, body = self.p.rpc(self.reader, session, "resources/list")
        self.assertEqual(json.loads(body)["result"], {"resources": []})
        status, _, body = self.p.rpc(self.reader, session, "resources/list", {"cursor": "x"})
        self.assert_rpc_error(body, -32602)
        status, _, body = self.p.rpc(self.reader, session, "resources/templates/list")
        self.assertEqual(len(json.loads(body)["result"]["resourceTemplates"]), 2)
        for params in ({}, {"uri": 7}, {"uri": "file:///etc/passwd"},
                       {"uri": "postern://accounts/a/folders/INBOX/messages/x"}):
            status, _, body = self.p.rpc(self.reader, session, "resources/read", params)
            self.assertEqual(status, 200, params)
            self.assert_rpc_error(body, -32602)
        status, _, body = self.p.rpc(self.reader, session, "tools/list", {"cursor": "x"})
        self.assert_rpc_error(body, -32602)
        status, _, body = self.p.rpc(self.reader, session, "tools/call", {"name": "nope"})
        self.assert_rpc_error(body, -32602)

    def test_tools_list_follows_the_scopes(self):
        def names(token):
            session, _ = self.p.initialize(token)
            status, _, body = self.p.rpc(token, session, "tools/list")
            self.assertEqual(status, 200)
            return [t["name"] for t in json.loads(body)["result"]["tools"]]
        self.assertEqual(names(self.reader), ["list_folders", "list_messages", "read_message",
                                              "get_thread", "get_attachment", "list_accounts"])
        self.assertEqual(names(self.bob), ["list_messages", "read_message", "get_thread",
                                           "get_attachment", "list_accounts"])
        everything = names(self.everything)
        self.assertEqual(len(everything), len(set(everything)))
        self.assertLessEqual(
            {"list_folders", "list_messages", "read_message", "search_messages", "move_message",
             "flag_message", "send_mail", "get_thread", "create_folder", "rename_folder",
             "delete_folder", "delete_message", "copy_message", "get_attachment",
             "reply_message", "forward_message"}, set(everything))

    def test_invalid_arguments_and_mail_errors_are_tool_errors(self):
        token = self.p.token("alice", self.account, "mail:read")
        session, _ = self.p.initialize(token)
        status, _, body = self.p.rpc(token, session, "tools/call",
                                     {"name": "list_messages", "arguments": {"pageSize": 500}})
        self.assertEqual(status, 200)
        result = json.loads(body)["result"]
        self.assertTrue(result["isError"])
        self.assertIn("`pageSize` must be between 1 and 50", result["content"][0]["text"])
        # The account's IMAP port is closed: the engine's sentence comes back.
        status, _, body = self.p.rpc(token, session, "tools/call",
                                     {"name": "list_messages", "arguments": {}})
        result = json.loads(body)["result"]
        self.assertTrue(result["isError"], result)
        self.assertNotIn("structuredContent", result)

    def test_tool_calls_are_rate_limited_per_grant(self):
        token = self.p.token("alice", self.account, "mail:read")
        session, _ = self.p.initialize(token)
        texts = []
        for _ in range(7):
            _, _, body = self.p.rpc(token, session, "tools/call",
                                    {"name": "read_message", "arguments": {}})
            texts.append(json.loads(body)["result"]["content"][0]["text"])
        # Five calls pass the limiter (and fail validation), then it refuses.
        self.assertTrue(all("Invalid arguments" in t for t in texts[:5]), texts)
        self.assertRegex(texts[5], r"Too many tool calls: .* 5 per minute\. Retry in \d+ seconds?\.")
        # Another grant has its own budget.
        session2, _ = self.p.initialize(self.bob)
        _, _, body = self.p.rpc(self.bob, session2, "tools/call",
                                {"name": "read_message", "arguments": {}})
        self.assertIn("Invalid arguments", json.loads(body)["result"]["content"][0]["text"])

    # -- revocation by another process -------------------------------------------------

    def test_deleting_the_user_revokes_its_tokens_while_running(self):
        account = self.p.add_user("carol")
        token = self.p.token("carol", account, "mail:read")
        session, _ = self.p.initialize(token)
        self.assertEqual(self.p.rpc(token, session, "ping")[0], 200)
        self.p.admin("delete-user", "carol")
        # The TOKEN AUTHORITY re-reads LMDB within its 2 s re-check.
        deadline = time.monotonic() + 60
        status = 200
        while time.monotonic() < deadline and status == 200:
            status, headers, _ = self.p.rpc(token, session, "ping")
            time.sleep(0.2)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])


class McpClockTest(unittest.TestCase):
    """Expiries on the server's test clock (TEST_CLOCK_FILE): time moves
    only when the test says, so a slow machine cannot expire a token or a
    session before the test looks, nor keep one alive after."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-mcp-clock-")
        cls.clock = TestClock(cls.tmp)
        env = {"MCP_SESSION_IDLE_SECONDS": "30"}
        env.update(cls.clock.env())
        cls.p = Postern(cls.tmp, env)
        cls.account = cls.p.add_user("alice")
        cls.p.start()

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_401_for_an_expired_token(self):
        # `postern admin` stamps the token on the real clock; the server's
        # clock starts at its own start, earlier, so an hour later on it is
        # past a 60 s lifetime whatever the machine's speed.
        short = self.p.token("alice", self.account, "mail:read", ttl=60)
        session, _ = self.p.initialize(short)
        self.assertEqual(self.p.rpc(short, session, "ping")[0], 200)
        self.clock.advance(3600)
        status, headers, body = self.p.rpc(short, session, "ping")
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])
        self.assertIn("expired", json.loads(body)["error_description"])
        # A new session cannot be opened with it either.
        status, _, _ = self.p.request("POST", INIT, short)
        self.assertEqual(status, 401)

    def test_idle_sessions_expire(self):
        token = self.p.token("alice", self.account, "mail:read")
        session, _ = self.p.initialize(token)
        self.clock.advance(20)
        self.assertEqual(self.p.rpc(token, session, "ping")[0], 200)  # refreshes
        self.clock.advance(20)
        self.assertEqual(self.p.rpc(token, session, "ping")[0], 200)
        self.clock.advance(31)
        status, _, body = self.p.rpc(token, session, "ping")
        self.assertEqual(status, 404, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
