#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Raw-HTTP tests of /mcp in the modern era (protocol 2026-07-28) beside the
legacy one: the era decided per request, server/discover, the `_meta` and
header checks with their status codes (400 -32602, 400 -32020, 400 -32022,
404 -32601, 405), resultType and caching hints, no sessions, the same
authorization as the legacy era, and what Claude clients were seen doing.
No mail server needed (the account points at a closed port).

Run: POSTERN_BIN=build/dev/postern python3 tests/integration/mcp_modern_test.py
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_http_test import INIT, Postern  # noqa: E402

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "raw-modern-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


def modern_headers(method, name=None, version=MODERN):
    h = {"MCP-Protocol-Version": version, "Mcp-Method": method}
    if name is not None:
        h["Mcp-Name"] = name
    return h


class McpModernTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-modern-")
        cls.p = Postern(cls.tmp, {"TOOL_RATE_LIMIT": "1000"})
        cls.account = cls.p.add_user("alice")
        cls.reader = cls.p.token("alice", cls.account, "mail:folders mail:read")
        cls.p.start()

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def call(self, method, params=None, token=None, headers=None, rid=5, meta=META,
             name=None):
        """A modern request: `_meta` in params, the mirrored headers."""
        params = dict(params or {})
        if meta is not None:
            params["_meta"] = meta
        if name is None and method in ("tools/call", "prompts/get"):
            name = params.get("name")
        if name is None and method == "resources/read":
            name = params.get("uri")
        h = modern_headers(method, name)
        h.update(headers or {})
        msg = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        return self.p.request("POST", msg, token or self.reader, headers=h)

    def error_of(self, body, code, rid=5):
        doc = json.loads(body)
        self.assertEqual(doc["error"]["code"], code, doc)
        self.assertEqual(doc["id"], rid, doc)
        return doc["error"]

    # -- server/discover -----------------------------------------------------

    def test_discover_names_versions_capabilities_and_server(self):
        status, headers, body = self.call("server/discover")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertNotIn("mcp-session-id", headers)
        result = json.loads(body)["result"]
        self.assertEqual(result["resultType"], "complete")
        self.assertEqual(result["supportedVersions"], [MODERN])
        self.assertEqual(result["capabilities"], {"tools": {}, "resources": {}})
        self.assertLess(len(result["instructions"].encode()), 2048)
        info = result["_meta"]["io.modelcontextprotocol/serverInfo"]
        self.assertEqual(info["name"], "postern")
        self.assertTrue(info["version"])
        self.assertIsInstance(result["ttlMs"], int)
        self.assertGreaterEqual(result["ttlMs"], 0)
        self.assertEqual(result["cacheScope"], "public")

    def test_discover_without_client_info_is_served(self):
        meta = {k: v for k, v in META.items() if k != "io.modelcontextprotocol/clientInfo"}
        status, _, body = self.call("server/discover", meta=meta)
        self.assertEqual(status, 200, body)

    # -- _meta -------------------------------------------------------------------

    def test_missing_meta_fields_are_400_invalid_params(self):
        cases = [None,
                 {k: v for k, v in META.items()
                  if k != "io.modelcontextprotocol/protocolVersion"},
                 {k: v for k, v in META.items()
                  if k != "io.modelcontextprotocol/clientCapabilities"},
                 dict(META, **{"io.modelcontextprotocol/clientCapabilities": []}),
                 dict(META, **{"io.modelcontextprotocol/logLevel": "loud"})]
        for meta in cases:
            status, headers, body = self.call("server/discover", meta=meta)
            self.assertEqual(status, 400, (meta, body))
            self.error_of(body, -32602)
            self.assertNotIn("mcp-session-id", headers)

    def test_unsupported_version_is_400_with_the_supported_list(self):
        meta = dict(META, **{"io.modelcontextprotocol/protocolVersion": "v999.0.0"})
        status, _, body = self.call("server/discover", meta=meta,
                                    headers={"MCP-Protocol-Version": "v999.0.0"})
        self.assertEqual(status, 400, body)
        err = self.error_of(body, -32022)
        self.assertEqual(err["data"]["supported"], [MODERN])
        self.assertEqual(err["data"]["requested"], "v999.0.0")
        # A legacy version named in _meta is not a modern one either.
        meta = dict(META, **{"io.modelcontextprotocol/protocolVersion": "2025-11-25"})
        status, _, body = self.call("tools/list", meta=meta,
                                    headers={"MCP-Protocol-Version": "2025-11-25"})
        self.assertEqual(status, 400, body)
        self.error_of(body, -32022)

    # -- mirrored headers ----------------------------------------------------

    def test_protocol_version_header_must_match_meta(self):
        # Missing header.
        status, _, body = self.call("server/discover",
                                    headers={"MCP-Protocol-Version": None})
        self.assertEqual(status, 400, body)
        self.error_of(body, -32020)
        # A different version in the body than in the header.
        meta = dict(META, **{"io.modelcontextprotocol/protocolVersion": "v999.0.0"})
        status, _, body = self.call("server/discover", meta=meta)
        self.assertEqual(status, 400, body)
        self.error_of(body, -32020)

    def test_mcp_method_header_is_checked_case_sensitively(self):
        for value in (None, "prompts/list", "TOOLS/LIST"):
            status, _, body = self.call("tools/list", headers={"Mcp-Method": value})
            self.assertEqual(status, 400, (value, body))
            self.error_of(body, -32020)
        # Header names are case-insensitive; blanks around values are dropped.
        status, _, body = self.call("tools/list", headers={"Mcp-Method": None,
                                                           "mcp-method": "  tools/list "})
        self.assertEqual(status, 200, body)

    def test_mcp_name_header_is_checked_with_the_base64_sentinel(self):
        params = {"name": "list_folders", "arguments": {}}
        for value in ("wrong_tool", "=?base64?bGlzdF9mb2xkZXJz?",  # no suffix: literal
                      "=?base64?!!!?=", "=?base64?" + base64.b64encode(b"other").decode() + "?="):
            status, _, body = self.call("tools/call", params, name=value)
            self.assertEqual(status, 400, (value, body))
            self.error_of(body, -32020)
        # Missing while the body names a tool.
        msg = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
               "params": dict(params, _meta=META)}
        status, _, body = self.p.request("POST", msg, self.reader,
                                         headers=modern_headers("tools/call"))
        self.assertEqual(status, 400, body)
        self.error_of(body, -32020)
        # Plain and Base64 forms that match are served (a tool result).
        sentinel = "=?base64?" + base64.b64encode(b"list_folders").decode() + "?="
        for value in ("list_folders", "  list_folders  ", sentinel):
            status, _, body = self.call("tools/call", params, name=value)
            self.assertEqual(status, 200, (value, body))
            self.assertIn("result", json.loads(body))

    # -- methods -------------------------------------------------------------------

    def test_unknown_and_removed_methods_are_404_method_not_found(self):
        for method in ("initialize", "ping", "logging/setLevel", "resources/subscribe",
                       "prompts/list", "unknown/method"):
            status, _, body = self.call(method, rid=9)
            self.assertEqual(status, 404, (method, body))
            self.error_of(body, -32601, rid=9)

    def test_tools_list_has_result_type_and_private_caching(self):
        status, headers, body = self.call("tools/list")
        self.assertEqual(status, 200, body)
        self.assertNotIn("mcp-session-id", headers)
        result = json.loads(body)["result"]
        self.assertEqual(result["resultType"], "complete")
        self.assertEqual(result["cacheScope"], "private")
        self.assertIsInstance(result["ttlMs"], int)
        names = [t["name"] for t in result["tools"]]
        # Filtered by the token's scopes, as in the legacy era.
        self.assertIn("list_folders", names)
        self.assertNotIn("send_mail", names)
        for tool in result["tools"]:
            self.assertLess(len(tool["description"].encode()), 2048, tool["name"])

    def test_resources_have_caching_hints_and_mirror_the_uri(self):
        status, _, body = self.call("resources/templates/list")
        self.assertEqual(status, 200, body)
        result = json.loads(body)["result"]
        self.assertEqual((result["resultType"], result["cacheScope"]), ("complete", "public"))
        self.assertEqual(len(result["resourceTemplates"]), 2)
        status, _, body = self.call("resources/list")
        result = json.loads(body)["result"]
        self.assertEqual((result["resources"], result["cacheScope"]), ([], "private"))
        # Mcp-Name must carry the uri of a resources/read.
        uri = "postern://accounts/x/folders/INBOX/messages/1"
        status, _, body = self.call("resources/read", {"uri": uri}, name="postern://other")
        self.assertEqual(status, 400, body)
        self.error_of(body, -32020)
        # A well-formed URI of an account this token does not reach.
        status, _, body = self.call("resources/read", {"uri": uri})
        self.assertEqual(status, 200, body)
        self.assertIn("does not reach", self.error_of(body, -32602)["message"])

    def test_tools_call_result_has_result_type(self):
        status, _, body = self.call("tools/call", {"name": "list_folders", "arguments": {}})
        self.assertEqual(status, 200, body)
        result = json.loads(body)["result"]
        self.assertEqual(result["resultType"], "complete")
        # The account's IMAP server is a closed port: a tool error.
        self.assertTrue(result["isError"])
        # Errors of the method itself carry no resultType.
        status, _, body = self.call("tools/call", {"name": "no_such_tool"})
        self.assertEqual(status, 200, body)
        self.assertNotIn("result", json.loads(body))
        self.error_of(body, -32602)

    def test_notifications_are_accepted(self):
        msg = {"jsonrpc": "2.0", "method": "notifications/cancelled",
               "params": {"requestId": 1, "_meta": META}}
        status, _, body = self.p.request("POST", msg, self.reader,
                                         headers=modern_headers("notifications/cancelled"))
        self.assertEqual(status, 202, body)
        self.assertEqual(body, b"")

    # -- streams ----------------------------------------------------------------------

    @staticmethod
    def events(body):
        out = []
        for block in body.decode().split("\n\n"):
            for line in block.split("\n"):
                if line.startswith("data: "):
                    out.append(json.loads(line[6:]))
        return out

    def test_subscriptions_listen_is_acknowledged_declaring_nothing(self):
        status, headers, body = self.call(
            "subscriptions/listen",
            {"notifications": {"toolsListChanged": True, "promptsListChanged": True,
                               "resourceSubscriptions": ["x://y"]}}, rid=11)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/event-stream"))
        self.assertEqual(headers["x-accel-buffering"], "no")
        frames = self.events(body)
        ack, done = frames
        self.assertEqual(ack["method"], "notifications/subscriptions/acknowledged")
        self.assertEqual(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 11)
        # Postern sends no change notifications: it agrees to none.
        self.assertEqual(ack["params"]["notifications"], {})
        # ... and ends the subscription gracefully.
        self.assertEqual(done["id"], 11)
        self.assertEqual(done["result"]["resultType"], "complete")
        self.assertEqual(done["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 11)
        # Without a filter: invalid params; without SSE in Accept: 406.
        status, _, body = self.call("subscriptions/listen")
        self.error_of(body, -32602)
        status, _, body = self.call("subscriptions/listen", {"notifications": {}},
                                    headers={"Accept": "application/json"})
        self.assertEqual(status, 406, body)

    def test_log_messages_only_when_the_request_asks_with_log_level(self):
        params = {"name": "list_folders", "arguments": {}}
        status, headers, body = self.call("tools/call", params)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertNotIn(b"notifications/message", body)
        for level, logged in (("warning", False), ("info", True), ("debug", True)):
            meta = dict(META, **{"io.modelcontextprotocol/logLevel": level})
            status, headers, body = self.call("tools/call", params, meta=meta)
            self.assertEqual(status, 200, body)
            if not logged:
                self.assertNotIn(b"notifications/message", body)
                continue
            self.assertTrue(headers["content-type"].startswith("text/event-stream"))
            self.assertEqual(headers["x-accel-buffering"], "no")
            note, response = self.events(body)
            self.assertEqual(note["method"], "notifications/message")
            self.assertEqual(note["params"]["level"], "info")
            self.assertIn("list_folders", note["params"]["data"])
            self.assertEqual(response["id"], 5)
            self.assertEqual(response["result"]["resultType"], "complete")

    # -- no sessions ----------------------------------------------------------------

    def test_a_stray_session_id_is_ignored(self):
        for session in ("no-such-session", "x" * 43):
            status, headers, body = self.call("tools/list",
                                              headers={"Mcp-Session-Id": session})
            self.assertEqual(status, 200, body)
            self.assertNotIn("mcp-session-id", headers)

    def test_get_and_delete_are_405_in_the_modern_era(self):
        for verb in ("GET", "DELETE"):
            status, headers, body = self.p.request(
                verb, token=self.reader,
                headers={"MCP-Protocol-Version": MODERN, "Accept": "text/event-stream"})
            self.assertEqual(status, 405, (verb, body))
            self.assertEqual(headers["allow"], "POST")
        # Without a modern header the legacy DELETE still needs its session.
        status, _, _ = self.p.request("DELETE", token=self.reader)
        self.assertEqual(status, 400)

    # -- authorization is the same in both eras -----------------------------------

    def test_401_and_403_are_the_legacy_ones(self):
        msg = {"jsonrpc": "2.0", "id": 5, "method": "server/discover",
               "params": {"_meta": META}}
        status, headers, _ = self.p.request("POST", msg, headers=modern_headers("server/discover"))
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"],
                         'Bearer resource_metadata="%s/.well-known/oauth-protected-resource/mcp"'
                         % self.p.base)
        status, headers, _ = self.p.request("POST", msg, "x" * 43,
                                            headers=modern_headers("server/discover"))
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])
        # A tool outside the token's scopes: 403 with the step-up challenge.
        status, headers, body = self.call("tools/call", {
            "name": "send_mail", "arguments": {"to": "a@example.com", "subject": "s", "body": "b"}})
        self.assertEqual(status, 403, body)
        challenge = headers["www-authenticate"]
        self.assertIn('error="insufficient_scope"', challenge)
        self.assertIn("mail:send", challenge)
        self.assertIn("resource_metadata=", challenge)

    def test_a_revoked_token_is_refused_in_the_modern_era(self):
        account = self.p.add_user("carol")
        token = self.p.token("carol", account, "mail:read")
        self.assertEqual(self.call("tools/list", token=token)[0], 200)
        self.p.admin("delete-user", "carol")
        # The TOKEN AUTHORITY re-reads LMDB within its 2 s re-check; the
        # bound only keeps a broken server from hanging the test (a loaded
        # machine may take far longer than 2 s to get there).
        deadline = time.monotonic() + 60
        status = 200
        while time.monotonic() < deadline and status == 200:
            status, headers, _ = self.call("tools/list", token=token)
            time.sleep(0.2)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])

    # -- both eras on one endpoint --------------------------------------------------

    def test_legacy_requests_are_served_as_before(self):
        session, init = self.p.initialize(self.reader)
        self.assertEqual(init["result"]["protocolVersion"], "2025-11-25")
        self.assertNotIn("resultType", init["result"])
        status, _, body = self.p.rpc(self.reader, session, "tools/list",
                                     headers={"MCP-Protocol-Version": "2025-11-25"})
        self.assertEqual(status, 200)
        result = json.loads(body)["result"]
        self.assertNotIn("resultType", result)
        self.assertNotIn("ttlMs", result)
        # server/discover without modern _meta or header is a legacy request.
        status, _, body = self.p.rpc(self.reader, session, "server/discover")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["error"]["code"], -32601)
        # A modern request on the same connection and token needs no session.
        status, _, body = self.call("tools/list")
        self.assertEqual(status, 200, body)

    # -- what Claude clients were seen doing -----------------------------------------

    def test_comma_duplicated_version_headers_are_one_value(self):
        session, _ = self.p.initialize(self.reader)
        status, _, body = self.p.rpc(self.reader, session, "tools/list",
                                     headers={"MCP-Protocol-Version": "2025-11-25, 2025-11-25"})
        self.assertEqual(status, 200, body)
        status, _, body = self.call("tools/list",
                                    headers={"MCP-Protocol-Version": MODERN + ", " + MODERN})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["result"]["resultType"], "complete")
        # Different values are not one version.
        status, _, body = self.p.rpc(self.reader, session, "tools/list",
                                     headers={"MCP-Protocol-Version": "2025-11-25, 2025-06-18"})
        self.assertEqual(status, 400, body)

    def test_initialize_again_without_initialized(self):
        first, _ = self.p.initialize(self.reader)
        second, _ = self.p.initialize(self.reader)
        self.assertNotEqual(first, second)
        for session in (first, second):
            status, _, body = self.p.rpc(self.reader, session, "tools/list",
                                         headers={"MCP-Protocol-Version": "2025-11-25"})
            self.assertEqual(status, 200, body)
            self.assertIn("tools", json.loads(body)["result"])

    def test_a_modern_request_with_an_old_session_id(self):
        session, _ = self.p.initialize(self.reader)
        status, headers, body = self.call("tools/list", headers={"Mcp-Session-Id": session})
        self.assertEqual(status, 200, body)
        self.assertNotIn("mcp-session-id", headers)
        # The legacy session is untouched by it.
        status, _, _ = self.p.rpc(self.reader, session, "tools/list")
        self.assertEqual(status, 200)

    def test_loopback_names_of_one_port_are_one_origin(self):
        # BASE_URL is http://localhost:PORT; a page on another loopback name
        # of the same port is the same server.
        port = self.p.port
        for origin in ("http://127.0.0.1:%d" % port, "http://[::1]:%d" % port,
                       "http://LOCALHOST:%d" % port):
            status, _, body = self.call("server/discover",
                                        headers={"Origin": origin, "Host": "127.0.0.1:%d" % port})
            self.assertEqual(status, 200, (origin, body))
            status, _, _ = self.p.request("POST", INIT, self.reader, headers={"Origin": origin})
            self.assertEqual(status, 200, origin)
        for origin in ("http://127.0.0.1:%d" % (port + 1), "https://localhost:%d" % port,
                       "http://localhost.evil.example:%d" % port, "http://evil.example.com"):
            status, _, body = self.call("server/discover", headers={"Origin": origin})
            self.assertEqual(status, 403, (origin, body))

    def test_discover_only_reconnect_then_tools_call(self):
        status, _, _ = self.call("server/discover")
        self.assertEqual(status, 200)
        status, _, body = self.call("tools/call", {"name": "list_folders", "arguments": {}})
        self.assertEqual(status, 200, body)
        result = json.loads(body)["result"]
        self.assertIn("content", result)
        self.assertEqual(result["resultType"], "complete")


if __name__ == "__main__":
    unittest.main(verbosity=2)
