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
