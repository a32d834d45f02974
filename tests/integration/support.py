# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python integration tests."""
import os


def mail_env():
    """The mail fixture's KEY=VALUE file named by $POSTERN_MAIL_ENV."""
    env = {}
    with open(os.environ["POSTERN_MAIL_ENV"]) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    return env


class TestClock:
    """The server's injected clock (TEST_CLOCK_FILE): time stands still for
    throttles, expiries and memos until advance() moves it, so no test
    depends on how fast the machine is."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "clock-%d" % id(self))
        self.seconds = 0.0
        self._write()

    def env(self):
        return {"TEST_CLOCK_FILE": self.path}

    def advance(self, seconds):
        self.seconds += seconds
        self._write()

    def _write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%.3f\n" % self.seconds)
        os.replace(tmp, self.path)
