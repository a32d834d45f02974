#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Smoke test of postern-bench with tiny counts: setup through the admin
commands, a mixed run against a live Postern and the real Dovecot, the idle
session mode, the direct-IMAP baseline and the raw IMAP floor. Loopback only; bounded."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from support import mail_env

BIN = os.environ["POSTERN_BIN"]
BENCH = os.environ["POSTERN_BENCH"]


MAIL = mail_env()


class BenchSmokeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-bench-")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("ENCRYPTION_KEY", "SESSION_SECRET", "PORT", "BASE_URL")}
        self.env.update({"DATA_DIR": os.path.join(self.tmp, "data"),
                         "ACCOUNT_HOST_DENY": "none", "PORT": "0"})
        self.password_file = os.path.join(self.tmp, "imap-password")
        with open(self.password_file, "w") as f:
            f.write(MAIL["MAIL_PASS1"] + "\n")
        os.chmod(self.password_file, 0o600)
        self.server = None

    def tearDown(self):
        if self.server and self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bench(self, *args, timeout=120):
        return subprocess.run([BENCH] + list(args), env=self.env, capture_output=True,
                              timeout=timeout)

    def test_help_prints_the_usage(self):
        for args in (["--help"], ["-h"]):
            r = self.bench(*args, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            out = r.stdout.decode()
            self.assertIn("usage: postern-bench MODE", out)
            for mode in ("setup", "run", "sessions", "raw-imap", "imap-fill", "responder"):
                self.assertRegex(out, r"\n  %s " % re.escape(mode))
            self.assertNotIn("unknown mode", out + r.stderr.decode())
        r = self.bench(timeout=30)  # no arguments: the usage, as an error
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: postern-bench MODE", r.stderr.decode())
        r = self.bench("--frobnicate", timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown mode "--frobnicate"', r.stderr.decode())
        self.assertIn("usage: postern-bench MODE", r.stderr.decode())

    def start_server(self):
        log = open(os.path.join(self.tmp, "server.log"), "w+b")
        self.server = subprocess.Popen([BIN], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log.seek(0)
            m = re.search(rb"listening on http://[^:]+:(\d+)", log.read())
            if m:
                return int(m.group(1))
            self.assertIsNone(self.server.poll(), "postern exited")
            time.sleep(0.05)
        self.fail("postern did not start")

    def test_setup_run_sessions_and_baseline(self):
        tokens = os.path.join(self.tmp, "tokens")
        r = self.bench("setup", "--postern", BIN, "--users", "3", "--tokens", tokens,
                       "--imap-host", "127.0.0.1", "--imap-port", MAIL["IMAPS_PORT"],
                       "--imap-security", "tls", "--imap-user", MAIL["MAIL_USER1"],
                       "--imap-password-file", self.password_file,
                       "--ca-file", MAIL["CA_FILE"],
                       "--scopes", "mail:folders mail:read mail:search")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(tokens) as f:
            self.assertEqual(len([l for l in f if l.strip()]), 3)
        port = self.start_server()
        report = os.path.join(self.tmp, "report.json")
        svg = os.path.join(self.tmp, "chart.svg")
        r = self.bench("run", "--url", "http://127.0.0.1:%d/mcp" % port, "--tokens", tokens,
                       "--clients", "3", "--requests", "60", "--duration", "30",
                       "--mix", "tools/list=2,list_messages=1,read_message=1,search_messages=1",
                       "--json", report, "--svg", svg)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("p99 ms", out)
        with open(report) as f:
            doc = json.load(f)
        ops = doc["operations"]
        self.assertEqual(sum(o["requests"] for o in ops.values()), 60)
        for name in ("tools/list", "list_messages", "read_message"):
            self.assertIn(name, ops)
            self.assertEqual(ops[name]["errors"], 0, doc)
        with open(svg) as f:
            self.assertIn("<svg", f.read())
        # A scope the tokens lack shows up as errors, not as success.
        r = self.bench("run", "--url", "http://127.0.0.1:%d/mcp" % port, "--tokens", tokens,
                       "--clients", "1", "--requests", "5", "--mix", "flag_message=1",
                       "--json", report)
        with open(report) as f:
            self.assertEqual(json.load(f)["operations"]["flag_message"]["errors"], 5)
        # Idle sessions and the server's RSS.
        r = self.bench("sessions", "--url", "http://127.0.0.1:%d/mcp" % port,
                       "--tokens", tokens, "--sessions", "50", "--pid", str(self.server.pid))
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn("opened 50 sessions", r.stdout.decode())
        # Non-loopback targets are refused.
        r = self.bench("run", "--url", "http://192.0.2.1:3000/mcp", "--tokens", tokens)
        self.assertEqual(r.returncode, 2)
        self.server.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.wait(timeout=5), 0)
        # The direct-IMAP baseline.
        r = self.bench("imap", "--port", MAIL["IMAPS_PORT"], "--user", MAIL["MAIL_USER1"],
                       "--password-file", self.password_file, "--ca-file", MAIL["CA_FILE"],
                       "--clients", "2", "--duration", "1")
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn("list_messages", r.stdout.decode())
        # The floor: a hand-written IMAP client, with the mail server's CPU
        # (Dovecot's imap and imap-login processes) per call.
        r = self.bench("raw-imap", "--port", MAIL["IMAPS_PORT"], "--user", MAIL["MAIL_USER1"],
                       "--password-file", self.password_file, "--ca-file", MAIL["CA_FILE"],
                       "--clients", "2", "--duration", "1", "--pages", "2",
                       "--cpu-of", "imap,imap-login")
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        m = re.search(r"list_messages\s+(\d+)\s.*\s(\d+)\n", out)
        self.assertTrue(m and int(m.group(1)) > 0 and m.group(2) == "0", out)
        self.assertRegex(out, r"imap,imap-login CPU: [\d.]+ s for \d+ calls = [\d.]+ us per call")
        r = self.bench("raw-imap", "--port", MAIL["IMAP_PORT"], "--security", "none",
                       "--user", MAIL["MAIL_USER1"], "--password-file", self.password_file,
                       "--clients", "1", "--duration", "1", "--operation", "read_message")
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn("read_message", r.stdout.decode())
        # imap-fill tops a mailbox up to N messages (the fixture's bench user,
        # which no other test reads), and adds none the second time.
        bench_pw = os.path.join(self.tmp, "bench-password")
        with open(bench_pw, "w") as f:
            f.write("benchpw\n")
        fill = ["imap-fill", "--port", MAIL["IMAP_PORT"], "--security", "none",
                "--user", "bench@example.test", "--password-file", bench_pw, "--messages", "30"]
        r = self.bench(*fill)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertRegex(r.stdout.decode(), r"INBOX holds 30 messages \(\d+ added\)")
        r = self.bench(*fill)
        self.assertIn("INBOX holds 30 messages (0 added)", r.stdout.decode())
        r = self.bench("raw-imap", "--port", MAIL["IMAP_PORT"], "--security", "none",
                       "--user", "bench@example.test", "--password-file", bench_pw,
                       "--clients", "1", "--duration", "1", "--pages", "2")
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        # A refused login is a failed run, not an empty success.
        wrong = os.path.join(self.tmp, "wrong-password")
        with open(wrong, "w") as f:
            f.write("not-the-password\n")
        r = self.bench("raw-imap", "--port", MAIL["IMAP_PORT"], "--security", "none",
                       "--user", MAIL["MAIL_USER1"], "--password-file", wrong,
                       "--clients", "1", "--duration", "1")
        self.assertEqual(r.returncode, 1, r.stdout.decode() + r.stderr.decode())
        self.assertIn("LOGIN or SELECT refused", r.stdout.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
