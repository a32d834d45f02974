#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Durable state end to end: the admin commands of the real binary, crash
safety under SIGKILL, key rotation proven by logging into the real Dovecot,
wrong keys refused at startup. Loopback only; every wait is bounded.

Needs POSTERN_BIN, POSTERN_STATE_TOOL and POSTERN_MAIL_ENV (the mail fixture).
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from support import mail_env

BIN = os.environ["POSTERN_BIN"]
TOOL = os.environ["POSTERN_STATE_TOOL"]
CRASH_ROUNDS = int(os.environ.get("POSTERN_CRASH_ROUNDS", "60"))


MAIL = mail_env()


class StateTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-state-")
        self.data = os.path.join(self.tmp, "data")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("ENCRYPTION_KEY", "SESSION_SECRET", "PORT", "BASE_URL")}
        self.env.update({"DATA_DIR": self.data, "ACCOUNT_HOST_DENY": "none"})
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cmd(self, args, stdin="", env=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(args, input=stdin.encode(), env=e, capture_output=True,
                              timeout=timeout)

    def admin(self, *args, stdin="", env=None, ok=True):
        r = self.run_cmd([BIN, "admin"] + list(args), stdin=stdin, env=env)
        if ok:
            self.assertEqual(r.returncode, 0, "admin %s failed: %s" % (args, r.stderr.decode()))
        return r

    def add_dovecot_account(self, username="alice", env=None):
        self.admin("create-user", username, stdin="alice-postern-pw\n", env=env)
        r = self.admin("add-account", username, "--label", "Dovecot",
                       "--imap-host", "127.0.0.1", "--imap-port", MAIL["IMAP_PORT"],
                       "--imap-security", "starttls", "--imap-user", MAIL["MAIL_USER1"],
                       "--ca-file", MAIL["CA_FILE"],
                       "--smtp-host", "127.0.0.1", "--smtp-port", MAIL["SUBMISSION_PORT"],
                       "--smtp-security", "starttls",
                       stdin=MAIL["MAIL_PASS1"] + "\n", env=env)
        account_id = r.stdout.decode().strip()
        self.assertRegex(account_id, r"^[0-9a-f-]{36}$")
        return account_id

    def imap_login(self, username="alice", env=None):
        return self.run_cmd([TOOL, "imap-login", username], env=env)

    # -- admin commands -----------------------------------------------------------

    def test_admin_commands_work_beside_a_running_server(self):
        server = subprocess.Popen([BIN], env=dict(self.env, PORT="0"),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.procs.append(server)
        # Wait until it listens.
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline and b"listening" not in line:
            line = server.stdout.readline()
        self.assertIn(b"listening", line)
        user_id = self.admin("create-user", "bob", stdin="bob-postern-password\n").stdout.decode().strip()
        self.assertRegex(user_id, r"^[0-9a-f-]{36}$")
        account_id = self.add_dovecot_account("carol")
        code = self.admin("invite", "--ttl-hours", "1").stdout.decode().strip()
        self.assertGreaterEqual(len(code), 20)
        backup = os.path.join(self.tmp, "backup.mdb")
        self.admin("backup", backup)
        self.assertGreater(os.path.getsize(backup), 0)
        self.assertEqual(oct(os.stat(backup).st_mode & 0o777), "0o600")
        # Errors are sentences with the right exit codes.
        r = self.admin("create-user", "bob", stdin="bob-postern-password\n", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("username is taken", r.stderr.decode())
        r = self.admin("create-user", "x", stdin="bob-postern-password\n", ok=False)
        self.assertEqual(r.returncode, 2)
        r = self.admin("create-user", "eve", stdin="", ok=False)
        self.assertIn("no password", r.stderr.decode())
        r = self.admin("add-account", "nobody", "--label", "x", "--imap-host", "imap.example.com",
                       "--imap-port", "993", "--imap-security", "tls", stdin="pw\n", ok=False)
        self.assertIn("no such user", r.stderr.decode())
        r = self.admin("add-account", "bob", "--label", "x", "--imap-host", "127.0.0.1",
                       "--imap-port", "993", "--imap-security", "tls", stdin="pw\n",
                       env={"ACCOUNT_HOST_DENY": "private"}, ok=False)
        self.assertIn("private or internal addresses", r.stderr.decode())
        r = self.admin("add-account", "bob", "--label", "x", "--imap-host", "h",
                       "--imap-port", "99999", "--imap-security", "tls", stdin="pw\n", ok=False)
        self.assertEqual(r.returncode, 2)
        r = self.admin("frobnicate", ok=False)
        self.assertEqual(r.returncode, 2)
        # The password never shows up anywhere.
        self.assertNotIn(MAIL["MAIL_PASS1"], r.stdout.decode() + r.stderr.decode())
        self.assertEqual(self.imap_login("carol").returncode, 0)
        self.admin("delete-user", "carol")
        self.assertNotEqual(self.imap_login("carol").returncode, 0)
        # The server was fine all along and stops cleanly.
        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(timeout=5), 0)
        self.assertNotIn(MAIL["MAIL_PASS1"].encode(), server.stdout.read())
        del account_id

    def test_wrong_key_is_refused_at_startup(self):
        key_a, key_b = "a" * 64, "b" * 64
        self.admin("create-user", "alice", stdin="alice-postern-pw\n", env={"ENCRYPTION_KEY": key_a})
        r = self.run_cmd([BIN, "--port", "0"], env={"ENCRYPTION_KEY": key_b}, timeout=20)
        self.assertEqual(r.returncode, 1)
        out = r.stdout.decode() + r.stderr.decode()
        self.assertIn("ENCRYPTION_KEY does not match this DATA_DIR", out)
        self.assertNotIn(key_a, out)
        self.assertNotIn(key_b, out)

    # -- key rotation -----------------------------------------------------------

    def test_rotate_key_from_key_file_then_log_into_dovecot(self):
        self.add_dovecot_account()
        r = self.imap_login()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        key_file = os.path.join(self.data, "encryption.key")
        with open(key_file) as f:
            old_key = f.read().strip()
        r = self.admin("rotate-key", stdin="")  # generated, printed once
        new_key = r.stdout.decode().strip()
        self.assertRegex(new_key, r"^[0-9a-f]{64}$")
        self.assertNotEqual(new_key, old_key)
        self.assertIn("re-encrypted 1 account credential", r.stderr.decode())
        with open(key_file) as f:
            self.assertEqual(f.read().strip(), new_key)
        self.assertFalse(os.path.exists(key_file + ".next"))
        # The credential written before the rotation still logs in.
        r = self.imap_login()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"login ok", r.stdout)
        # The old key no longer opens anything.
        r = self.imap_login(env={"ENCRYPTION_KEY": old_key})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not match", r.stderr.decode())

    def test_rotate_key_given_on_stdin_with_env_keys(self):
        key_a, key_b = "c" * 64, "d" * 64
        self.add_dovecot_account(env={"ENCRYPTION_KEY": key_a})
        r = self.admin("rotate-key", stdin=key_b + "\n", env={"ENCRYPTION_KEY": key_a})
        self.assertIn("set ENCRYPTION_KEY to the new key", r.stderr.decode())
        self.assertEqual(self.imap_login(env={"ENCRYPTION_KEY": key_b}).returncode, 0)
        self.assertNotEqual(self.imap_login(env={"ENCRYPTION_KEY": key_a}).returncode, 0)
        r = self.admin("rotate-key", stdin="not-a-key\n", env={"ENCRYPTION_KEY": key_b}, ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.imap_login(env={"ENCRYPTION_KEY": key_b}).returncode, 0)

    def test_interrupted_rotation_is_finished_at_next_start(self):
        self.add_dovecot_account()
        key_file = os.path.join(self.data, "encryption.key")
        shutil.copy(key_file, os.path.join(self.tmp, "old.key"))
        self.admin("rotate-key", stdin="")
        # Recreate the moment after the commit, before the key file swap.
        os.rename(key_file, key_file + ".next")
        shutil.copy(os.path.join(self.tmp, "old.key"), key_file)
        r = self.imap_login()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertFalse(os.path.exists(key_file + ".next"))

    def test_backup_restores_to_a_working_data_dir(self):
        self.add_dovecot_account()
        backup = os.path.join(self.tmp, "backup.mdb")
        self.admin("backup", backup)
        restored = os.path.join(self.tmp, "restored")
        os.makedirs(restored, mode=0o700)
        shutil.move(backup, os.path.join(restored, "data.mdb"))
        for name in ("encryption.key", "session.key"):
            shutil.copy(os.path.join(self.data, name), os.path.join(restored, name))
        r = self.imap_login(env={"DATA_DIR": restored})
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    # -- crash safety -------------------------------------------------------------

    def test_sigkill_at_random_moments_loses_nothing_acknowledged(self):
        ack_file = os.path.join(self.tmp, "acks")
        rng = random.Random(int(os.environ.get("POSTERN_CRASH_SEED", "0")) or None)
        kills = 0
        with open(ack_file, "w") as acks:
            for round_no in range(CRASH_ROUNDS):
                writer = subprocess.Popen([TOOL, "crash-write"], env=self.env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.procs.append(writer)
                first = b""
                if rng.random() < 0.2:
                    # Sometimes during start-up (opening, migrating).
                    time.sleep(rng.uniform(0.0, 0.15))
                else:
                    # Mostly in the middle of writing.
                    first = writer.stdout.readline()
                    time.sleep(rng.uniform(0.0, 0.3))
                writer.kill()  # SIGKILL
                out, err = writer.communicate(timeout=10)
                kills += 1
                for line in (first + out).decode().splitlines():
                    if line.startswith("ack "):
                        acks.write(line + "\n")
                acks.flush()
                if round_no % 10 == 9 or round_no == CRASH_ROUNDS - 1:
                    r = self.run_cmd([TOOL, "crash-verify", ack_file])
                    self.assertEqual(r.returncode, 0,
                                     "after %d kills: %s %s" % (kills, r.stdout.decode(), r.stderr.decode()))
                    print("crash test: %d kills: %s" % (kills, r.stdout.decode().strip()),
                          file=sys.stderr)
        with open(ack_file) as f:
            acked = sum(1 for _ in f)
        self.assertGreater(acked, CRASH_ROUNDS, "the writer hardly wrote anything")


if __name__ == "__main__":
    unittest.main(verbosity=2)
