#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Closing a response stream cancels a call in protocol 2026-07-28, and only
there: the mail work still waiting for the account's connection is
abandoned (never reaches the IMAP server), the command already on the wire
runs to its end, and the connection stays usable. In the 2025 revisions a
disconnect is not a cancellation, so the same call still runs.

Between Postern and the test Dovecot sits a small IMAP proxy that records
every command and can hold one back, so a call can be kept busy for as
long as the test needs; ACCOUNT_POOL_SIZE=1 makes the next call wait.

Run through ctest (mcp.cancel: the mail_servers fixture), or by hand with
POSTERN_MAIL_ENV and POSTERN_BIN set.
"""
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_http_test import Postern  # noqa: E402
from support import mail_env  # noqa: E402

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "cancel-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


class ImapProxy:
    """Forwards IMAP between Postern and Dovecot, line by line from the
    client; records each command, and holds any command containing
    `hold_word` until release()."""

    def __init__(self, upstream_port, hold_word):
        self.upstream = upstream_port
        self.hold_word = hold_word.encode()
        self.commands = []
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.held = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self):
        self.gate.set()

    def seen(self, word):
        with self.lock:
            return [c for c in self.commands if word.encode() in c]

    def close(self):
        self.gate.set()
        self.listener.close()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self.sockets += [client, server]
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()
            threading.Thread(target=self._commands, args=(client, server),
                             daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _commands(self, src, dst):
        reader = src.makefile("rb")
        try:
            for line in reader:
                with self.lock:
                    self.commands.append(line)
                if self.hold_word in line and not self.gate.is_set():
                    self.held.set()
                    self.gate.wait(120)
                dst.sendall(line)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class McpCancelTest(unittest.TestCase):
    def setUp(self):
        mail = mail_env()
        self.tmp = tempfile.mkdtemp(prefix="postern-cancel-")
        self.proxy = ImapProxy(int(mail["IMAP_PORT"]), "Hold")
        self.p = Postern(self.tmp, {"ACCOUNT_POOL_SIZE": "1", "TOOL_RATE_LIMIT": "0"})
        self.p.admin("create-user", "alice", stdin="alice-postern-pw\n")
        r = self.p.admin("add-account", "alice", "--label", "Work",
                         "--imap-host", "127.0.0.1", "--imap-port", str(self.proxy.port),
                         "--imap-security", "plain", "--imap-user", mail["MAIL_USER1"],
                         stdin=mail["MAIL_PASS1"] + "\n")
        self.account = r.stdout.decode().strip()
        self.token = self.p.token("alice", self.account, "mail:folders mail:read")
        self.p.start()

    def tearDown(self):
        self.proxy.close()
        self.p.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_for(self, what, f, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = f()
            if value:
                return value
            time.sleep(0.05)
        self.fail("timed out waiting for %s; server log:\n%s" % (what, self.p.output()[-4000:]))

    def post(self, folder, modern):
        """A tools/call list_messages POST as raw bytes."""
        params = {"name": "list_messages", "arguments": {"folder": folder}}
        headers = {"Host": "127.0.0.1:%d" % self.p.port,
                   "Authorization": "Bearer " + self.token,
                   "Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        if modern:
            params["_meta"] = META
            headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                            "Mcp-Name": "list_messages"})
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                               "params": params}).encode()
        else:
            session = self.legacy_session()
            headers.update({"MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": session})
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                               "params": params}).encode()
        headers["Content-Length"] = str(len(body))
        head = "POST /mcp HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items())
        return head.encode() + b"\r\n" + body

    def legacy_session(self):
        status, headers, body = self.p.request("POST", {
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "cancel-test", "version": "1"}}}, self.token)
        self.assertEqual(status, 200, body)
        return headers["mcp-session-id"]

    def send(self, request):
        s = socket.create_connection(("127.0.0.1", self.p.port), timeout=120)
        s.sendall(request)
        return s

    @staticmethod
    def answer(s):
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"content-length: (\d+)", head, re.I)
            if m and len(body) >= int(m.group(1)):
                break
        s.close()
        return data

    def waiting(self):
        return len(re.findall(r"a request waits for a connection", self.p.output()))

    def run_case(self, modern):
        before = self.waiting()
        # A: holds the only connection (its EXAMINE of "Hold" is held back).
        busy = self.send(self.post("Hold", modern))
        self.wait_for("the held command", self.proxy.held.is_set)
        # B: waits in the account's queue; then its client hangs up.
        queued = self.send(self.post("Queued", modern))
        self.wait_for("the second call to wait", lambda: self.waiting() > before)
        queued.shutdown(socket.SHUT_WR)
        queued.close()
        return busy

    def test_modern_hang_up_abandons_the_waiting_call(self):
        busy = self.run_case(modern=True)
        self.wait_for("the waiting call to be abandoned",
                      lambda: "waiting request(s) abandoned" in self.p.output())
        # The command on the wire runs to its end; its answer comes back.
        self.proxy.release()
        answer = self.answer(busy)
        self.assertIn(b"200 OK", answer.split(b"\r\n", 1)[0])
        # The connection is still usable: the next call works...
        s = self.send(self.post("INBOX", modern=True))
        answer = self.answer(s)
        self.assertIn(b"200 OK", answer.split(b"\r\n", 1)[0])
        body = answer.partition(b"\r\n\r\n")[2]
        if body.startswith(b"event:") or body.startswith(b"data:"):
            body = re.search(rb"data: (.*)", body).group(1)
        result = json.loads(body)["result"]
        self.assertFalse(result.get("isError"), result)
        # ... and the abandoned call never reached the IMAP server.
        self.assertEqual(self.proxy.seen("Queued"), [])
        self.assertTrue(self.proxy.seen("INBOX"))

    def test_legacy_hang_up_is_not_a_cancellation(self):
        busy = self.run_case(modern=False)
        self.proxy.release()
        self.answer(busy)
        # The 2025 revisions: the call still runs after its client left.
        self.wait_for("the waiting call to run", lambda: self.proxy.seen("Queued"))
        self.assertNotIn("waiting request(s) abandoned", self.p.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
