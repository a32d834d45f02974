#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of the postern binary: configuration, key files, HTTP
behaviour, TLS and graceful shutdown. Loopback only; every wait is bounded.

Run: POSTERN_BIN=build/dev/postern python3 tests/integration/server_test.py
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import unittest

BIN = os.environ.get("POSTERN_BIN", "build/dev/postern")
KEY_A = "a1" * 32
KEY_B = "b2" * 32


class Server:
    """A postern process on a free port with its own DATA_DIR."""

    def __init__(self, data_dir, env=None, args=None):
        self.data_dir = data_dir
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data_dir)), "postern-%d.log" % time.monotonic_ns())
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("ENCRYPTION_KEY", "SESSION_SECRET", "PORT", "BASE_URL")}
        full_env.update({"DATA_DIR": data_dir, "PORT": "0", "LOG_LEVEL": "debug"})
        full_env.update(env or {})
        self.log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen([BIN] + (args or []), env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        self.scheme = "http"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"listening on (https?)://[^:]+:(\d+)", self.output())
            if m:
                self.scheme, self.port = m.group(1), int(m.group(2))
                return
            if self.proc.poll() is not None:
                raise AssertionError("postern exited early (%s):\n%s" % (self.proc.returncode, self.output()))
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("postern did not start:\n" + self.output())

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path, method="GET", body=None, headers=None):
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Signals the server and returns (exit code, seconds to exit)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("postern did not stop within %s s:\n%s" % (timeout, self.output()))
        finally:
            self.log.close()
        return rc, time.monotonic() - start


def raw_exchange(port, data, timeout=5, read_all=True):
    """Sends raw bytes and returns what the server answers until it closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_all:
                break
        return b"".join(chunks)
    finally:
        s.close()


def run_postern(args, env, timeout=20):
    full_env = {k: v for k, v in os.environ.items() if k not in ("ENCRYPTION_KEY", "SESSION_SECRET")}
    full_env.update(env)
    return subprocess.run([BIN] + args, env=full_env, capture_output=True, timeout=timeout)


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-it-")
        self.data = os.path.join(self.tmp, "data")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
            s.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, env=None, args=None, data=None):
        s = Server(data or self.data, env, args)
        self.servers.append(s)
        return s

    def assert_clean_stop(self, server, sig=signal.SIGTERM):
        rc, seconds = server.stop(sig)
        self.assertEqual(rc, 0, server.output())
        self.assertLess(seconds, 2.0, "shutdown took %.2f s" % seconds)
        self.assertIn("stopped", server.output())

    # -- configuration and keys ------------------------------------------------

    def test_first_start_generates_private_keys_and_warns(self):
        s = self.start()
        status, headers, body = s.get("/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        doc = json.loads(body)
        self.assertEqual(doc["status"], "ok")
        self.assertRegex(doc["version"], r"^\d+\.\d+\.\d+$")
        for name in ("encryption.key", "session.key"):
            path = os.path.join(self.data, name)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, name)
            with open(path) as f:
                self.assertRegex(f.read(), r"^[0-9a-f]{64}\n$")
        self.assertEqual(stat.S_IMODE(os.stat(self.data).st_mode), 0o700)
        out = s.output()
        self.assertIn("Generated a new ENCRYPTION_KEY", out)
        self.assertIn("BACK THESE FILES UP", out)
        with open(os.path.join(self.data, "encryption.key")) as f:
            key = f.read().strip()
        self.assertNotIn(key, out)
        self.assert_clean_stop(s)

        # The second start keeps the keys and does not warn about new ones.
        s2 = self.start()
        with open(os.path.join(self.data, "encryption.key")) as f:
            self.assertEqual(f.read().strip(), key)
        self.assertNotIn("Generated a new", s2.output())
        self.assert_clean_stop(s2)

    def test_configured_keys_are_used_and_never_logged(self):
        s = self.start(env={"ENCRYPTION_KEY": KEY_A, "SESSION_SECRET": KEY_B})
        self.assertEqual(s.get("/healthz")[0], 200)
        self.assertFalse(os.path.exists(os.path.join(self.data, "encryption.key")))
        self.assert_clean_stop(s)
        out = s.output()
        self.assertNotIn(KEY_A, out)
        self.assertNotIn(KEY_B, out)

    def test_the_originals_env_file_starts_postern(self):
        # The TypeScript original's .env as its users have it (read as
        # docker --env-file does: KEY=VALUE lines, # comments): a passphrase
        # SESSION_SECRET, a hex ENCRYPTION_KEY, CORS_ORIGIN, NODE_ENV.
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        passphrase = "the original took any phrase as its session secret"
        dotenv = "\n".join([
            "# imap-mcp-server",
            "BASE_URL=http://localhost:%d" % port,
            "PORT=%d" % port,
            "ENCRYPTION_KEY=%s" % KEY_A,
            "SESSION_SECRET=%s" % passphrase,
            "CORS_ORIGIN=https://claude.ai",
            "NODE_ENV=production",
            "",
        ])
        env = {}
        for line in dotenv.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                env[name] = value
        s = self.start(env=env)
        self.assertEqual(s.port, port)
        self.assertEqual(s.get("/healthz")[0], 200)
        status, _, body = s.get("/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["issuer"], "http://localhost:%d" % port)
        # CORS_ORIGIN's origin may call /mcp (401: no token yet); others not.
        rpc = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        headers = {"Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        status, _, _ = s.get("/mcp", "POST", rpc, dict(headers, Origin="https://claude.ai"))
        self.assertEqual(status, 401)
        status, _, _ = s.get("/mcp", "POST", rpc, dict(headers, Origin="https://evil.example"))
        self.assertEqual(status, 403)
        # The configured keys are used, none generated, none logged.
        self.assertFalse(os.path.exists(os.path.join(self.data, "encryption.key")))
        self.assertFalse(os.path.exists(os.path.join(self.data, "session.key")))
        self.assert_clean_stop(s)
        out = s.output()
        self.assertNotIn(KEY_A, out)
        self.assertNotIn(passphrase, out)
        # The original's "any origin" is ignored, and said so.
        env["CORS_ORIGIN"] = "*"
        env["PORT"] = "0"
        del env["BASE_URL"]
        s2 = self.start(env=env)
        self.assertIn("CORS_ORIGIN asks for every browser origin", s2.output())
        self.assert_clean_stop(s2)

    def test_key_on_the_command_line_is_warned_about(self):
        s = self.start(args=["--encryption-key", KEY_A])
        self.assertIn("command line", s.output())
        self.assertNotIn(KEY_A, s.output())
        self.assert_clean_stop(s)

    def test_malformed_key_is_a_clear_startup_error(self):
        bad = "my-password-is-not-a-key"
        r = run_postern([], {"ENCRYPTION_KEY": bad, "DATA_DIR": self.data})
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode()
        self.assertIn("ENCRYPTION_KEY must be exactly 64 hexadecimal characters", err)
        self.assertNotIn(bad, err + r.stdout.decode())
        self.assertFalse(os.path.exists(self.data), "no data dir on a config error")

    def test_corrupt_key_file_stops_startup(self):
        os.makedirs(self.data, mode=0o700)
        with open(os.path.join(self.data, "encryption.key"), "w") as f:
            f.write("xyz\n")
        os.chmod(os.path.join(self.data, "encryption.key"), 0o600)
        r = run_postern(["--port", "0"], {"DATA_DIR": self.data})
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not hold 64 hexadecimal characters", r.stderr.decode())

    def test_help_lists_every_variable(self):
        r = run_postern(["--help"], {})
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for name in ("BASE_URL", "PORT", "ENCRYPTION_KEY", "SESSION_SECRET", "DATA_DIR",
                     "BIND", "TLS_CERT_FILE", "TLS_KEY_FILE", "TRUST_PROXY"):
            self.assertIn(name, out)
        self.assertEqual(run_postern(["--bogus"], {}).returncode, 2)

    def test_port_in_use_is_a_clear_error(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        try:
            r = run_postern([], {"DATA_DIR": self.data, "PORT": str(port)})
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot listen on 127.0.0.1:%d" % port, r.stderr.decode())
        finally:
            blocker.close()

    # -- HTTP behaviour --------------------------------------------------------

    def test_unknown_paths_get_json_errors(self):
        s = self.start()
        status, headers, body = s.get("/no/such/thing?secret=1")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"], "not_found")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        status, headers, body = s.get("/healthz", method="DELETE")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET")
        status, headers, body = s.get("/healthz", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        # The query string never reaches the log.
        self.assertNotIn("secret=1", s.output())
        self.assert_clean_stop(s)

    def test_metrics_need_a_token_or_an_explicit_open(self):
        # Loopback is no protection (a proxy on the same host forwards the
        # world): without METRICS_TOKEN or METRICS_OPEN, /metrics is off.
        s = self.start()
        status, _, body = s.get("/metrics")
        self.assertEqual(status, 404)
        self.assertIn(b"METRICS_TOKEN", body)
        self.assert_clean_stop(s)
        s = self.start(env={"METRICS_TOKEN": "m3trics-t0ken-for-tests"})
        self.assertEqual(s.get("/metrics")[0], 401)
        for wrong in ("Bearer m3trics-t0ken-for-testS", "Bearer m3trics",
                      "Basic m3trics-t0ken-for-tests", "m3trics-t0ken-for-tests"):
            status, headers, body = s.get("/metrics", headers={"Authorization": wrong})
            self.assertEqual(status, 401, wrong)
            self.assertEqual(headers["WWW-Authenticate"], "Bearer")
            self.assertNotIn(b"m3trics", body)
        status, _, body = s.get("/metrics", headers={"Authorization": "Bearer m3trics-t0ken-for-tests"})
        self.assertEqual(status, 200)
        self.assertIn(b"postern_http_connections", body)
        self.assertNotIn("m3trics-t0ken", s.output())
        self.assert_clean_stop(s)

    def test_metrics_when_set_open(self):
        s = self.start(env={"METRICS_OPEN": "1"})
        for _ in range(3):
            s.get("/healthz")
        s.get("/no/such/%s" % "x" * 3)
        status, headers, body = s.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = body.decode()
        self.assertIn('postern_http_requests_total{route="/healthz",status="200"} 3', text)
        self.assertIn('postern_http_requests_total{route="other",status="404"} 1', text)
        self.assertIn("postern_imap_connections 0", text)
        self.assertIn("postern_http_connections", text)
        # Raw paths never become labels.
        self.assertNotIn("/no/such", text)
        self.assert_clean_stop(s)

    def wait_for_log(self, server, needle, timeout=60):
        """Waits for a line in the server's log (an event, not a time)."""
        deadline = time.monotonic() + timeout
        while needle not in server.output():
            if time.monotonic() > deadline:
                self.fail("no %r in the log:\n%s" % (needle, server.output()[-3000:]))
            time.sleep(0.05)

    def test_forwarded_headers_cannot_choose_the_client_address(self):
        s = self.start(env={"TRUST_PROXY": "1"})
        # HAProxy's option forwardfor adds its own header after the
        # client's: the right-most untrusted entry over all lines counts.
        raw_exchange(s.port, b"GET /healthz?hop=1 HTTP/1.1\r\nHost: a\r\n"
                             b"X-Forwarded-For: 6.6.6.6\r\n"
                             b"X-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n"
                             b"Connection: close\r\n\r\n")
        self.wait_for_log(s, "http: 203.0.113.9 GET /healthz")
        raw_exchange(s.port, b"GET /healthz?hop=2 HTTP/1.1\r\nHost: a\r\n"
                             b"Forwarded: for=6.6.6.7, for=\"[2001:db8::9]:443\"\r\n"
                             b"Connection: close\r\n\r\n")
        self.wait_for_log(s, "http: 2001:db8::9 GET /healthz")
        self.assertNotIn("6.6.6.6 GET", s.output())
        self.assertNotIn("6.6.6.7 GET", s.output())
        self.assert_clean_stop(s)
        # A peer outside TRUSTED_PROXIES is the client, whatever it says.
        s = self.start(env={"TRUST_PROXY": "1", "TRUSTED_PROXIES": "10.0.0.0/8"})
        raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n"
                             b"X-Forwarded-For: 203.0.113.9\r\n"
                             b"Connection: close\r\n\r\n")
        self.wait_for_log(s, "http: 127.0.0.1 GET /healthz")
        self.assertNotIn("203.0.113.9 GET", s.output())
        self.assert_clean_stop(s)

    def test_body_limit(self):
        s = self.start(env={"MAX_BODY_BYTES": "2048"})
        status, _, body = s.get("/healthz", method="POST", body=b"x" * 4096)
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["error"], "request_too_large")
        # Chunked bodies are counted as they arrive.
        chunked = b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunked += b"800\r\n" + b"y" * 2048 + b"\r\n" + b"800\r\n" + b"y" * 2048 + b"\r\n0\r\n\r\n"
        answer = raw_exchange(s.port, chunked)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:80])
        # Within the limit is fine (the route then says 405).
        self.assertEqual(s.get("/healthz", method="POST", body=b"x" * 100)[0], 405)
        self.assert_clean_stop(s)

    def test_garbage_and_huge_headers(self):
        s = self.start()
        answer = raw_exchange(s.port, b"THIS IS NOT HTTP\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:80])
        self.assertIn(b"application/json", answer)
        big = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"z" * 20000 + b"\r\n\r\n"
        answer = raw_exchange(s.port, big)
        self.assertTrue(answer.startswith(b"HTTP/1.1 431"), answer[:80])
        # The server is still fine afterwards.
        self.assertEqual(s.get("/healthz")[0], 200)
        self.assert_clean_stop(s)

    def test_expect_100_continue(self):
        s = self.start()
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        sock.sendall(b"POST /nothing HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        first = sock.recv(1000)
        self.assertTrue(first.startswith(b"HTTP/1.1 100 Continue"), first)
        sock.sendall(b"hello")
        rest = b""
        while b"\r\n\r\n" not in rest:
            rest += sock.recv(1000)
        self.assertTrue(rest.startswith(b"HTTP/1.1 404"), rest)
        sock.close()
        self.assert_clean_stop(s)

    def test_keep_alive_and_concurrency(self):
        s = self.start()
        c = s.conn()
        for _ in range(20):
            c.request("GET", "/healthz")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()
        results = []

        def worker():
            for _ in range(20):
                results.append(s.get("/healthz")[0])

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(results, [200] * 320)
        self.assert_clean_stop(s)

    def test_slow_client_is_cut_off(self):
        s = self.start(env={"REQUEST_TIMEOUT_SECONDS": "1"})
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")  # never finishes
        start = time.monotonic()
        data = sock.recv(1000)
        elapsed = time.monotonic() - start
        self.assertEqual(data, b"")  # closed without an answer
        self.assertLess(elapsed, 3.0)
        sock.close()
        self.assert_clean_stop(s)

    def test_forwarded_for_is_ignored_unless_trusted(self):
        s = self.start()
        s.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertNotIn("203.0.113.9", s.output())
        self.assert_clean_stop(s)
        s = self.start(env={"TRUST_PROXY": "true"}, data=os.path.join(self.tmp, "d2"))
        s.get("/healthz", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
        self.assertIn("203.0.113.9 GET /healthz", s.output())
        self.assert_clean_stop(s)

    # -- shutdown --------------------------------------------------------------

    def test_sigterm_closes_idle_connections_quickly(self):
        s = self.start()
        idle = []
        for _ in range(5):
            c = s.conn()
            c.request("GET", "/healthz")
            c.getresponse().read()
            idle.append(c)  # keep-alive, idle now
        self.assert_clean_stop(s)
        for c in idle:
            c.close()

    def test_sigint_also_stops(self):
        s = self.start()
        self.assertEqual(s.get("/healthz")[0], 200)
        self.assert_clean_stop(s, signal.SIGINT)

    def test_request_in_flight_is_answered_during_shutdown(self):
        s = self.start()
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello")
        time.sleep(0.2)
        start = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(b"world")  # finish the body after the signal
        answer = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 405"), answer[:80])
        self.assertIn(b"Connection: close", answer)
        rc = s.proc.wait(timeout=5)
        self.assertEqual(rc, 0, s.output())
        self.assertLess(time.monotonic() - start, 2.0)

    # -- TLS -------------------------------------------------------------------

    def make_cert(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        return cert, key

    def test_native_tls(self):
        cert, key = self.make_cert()
        s = self.start(env={"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key,
                            "BASE_URL": "https://localhost:3000"})
        self.assertEqual(s.scheme, "https")
        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", s.port, context=ctx, timeout=10)
        c.request("GET", "/healthz")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read())["status"], "ok")
        c.close()
        # Old protocol versions are refused.
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
                with old.wrap_socket(raw) as tls:
                    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
                    if not tls.recv(100):
                        raise ConnectionError("closed")
        # Plain HTTP on the TLS port gets nothing useful, and the server lives on.
        answer = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", timeout=3)
        self.assertFalse(answer.startswith(b"HTTP/1.1 200"))
        c = http.client.HTTPSConnection("127.0.0.1", s.port, context=ctx, timeout=10)
        c.request("GET", "/healthz")
        self.assertEqual(c.getresponse().status, 200)
        c.close()
        self.assert_clean_stop(s)

    def test_missing_tls_file_is_a_startup_error(self):
        r = run_postern(["--port", "0"], {"DATA_DIR": self.data,
                                          "TLS_CERT_FILE": "/nonexistent/cert.pem",
                                          "TLS_KEY_FILE": "/nonexistent/key.pem"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot load TLS_CERT_FILE /nonexistent/cert.pem", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
