#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

usage: seed_corpus.py [TARGET...]     (default: every target)

Seeds come from the test mailboxes (tests/mail/seed.py, written to a
temporary directory), hostile shapes like those of bench/adversarial, and
inputs of the test suites. Deterministic: the same files every time, each
named after its content's SHA-1 (as libFuzzer names its own), at most a few
dozen small files per target. Run it again after changing the seeds and
commit the result.
"""
import email
import email.policy
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_FILE = 16 * 1024
MAX_FILES = 48


def mailbox_messages():
    """The raw test messages, in a stable order."""
    with tempfile.TemporaryDirectory() as base:
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/mail/seed.py"), base,
                        "--inbox-count", "40", "--uid", str(os.getuid()), "--gid", str(os.getgid())],
                       check=True, stderr=subprocess.DEVNULL)
        paths = []
        for d, _, files in os.walk(base):
            paths += [os.path.join(d, f) for f in files if "/cur" in d or "/new" in d]
        out = []
        for p in sorted(paths):
            with open(p, "rb") as f:
                out.append(f.read())
        return out


def raw_headers(raw):
    """(name, value) of the top-level header, folding kept."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    fields, cur = [], None
    for line in head.split(b"\n"):
        line = line.rstrip(b"\r")
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur[1] += b"\r\n" + line
        elif b":" in line:
            name, value = line.split(b":", 1)
            cur = [name.strip().lower(), value.strip()]
            fields.append(cur)
    return [(n, v) for n, v in fields]


def html_parts(msgs):
    out = []
    for raw in msgs:
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in m.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True) or b""
                out.append(payload)
    return out


def hostile_html():
    n = 64
    return [
        b"<ul>" * n + b"<li>item" * n,
        b"<ol>" * 40 + b"<li>x</li>" * 10 + b"</ol>" * 40,
        b"<script>" * 20 + b"x" + b"</script>",
        b"<a href=\"https://a.example\">" * 30 + b"label" + b"</a>" * 30,
        b"<blockquote>" * 50 + b"quoted" + b"</blockquote>" * 50,
        b"<table>" + b"<tr><td>cell</td><td>&amp;&lt;&#x41;&#65;&nbsp;&zwnj;</td></tr>" * 20 + b"</table>",
        b"<pre>  keep\n   layout\t</pre><p>para</p><br><hr><img alt=\"pic\" src=\"cid:x\">",
        b"<style>p{}</style><svg><text>no</text></svg><head><title>t</title></head>body",
        b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>",
        b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">\x93q\x94",
        b"&#" + b"9" * 40 + b"; &unknown; &amp &#x110000; &#xD800;",
        b"<!-- comment <p> --><![CDATA[x]]><!DOCTYPE html><p/>",
    ]


def header_seeds(msgs):
    hand = []
    seeds = []
    for raw in msgs:
        for name, value in raw_headers(raw):
            if name in (b"subject", b"from", b"to", b"cc") and (b"=?" in value or any(c > 127 for c in value)):
                seeds.append(b"\x00" + value)
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in m.walk():
            for hdr in ("content-disposition", "content-type"):
                params = part.get_params(header=hdr, unquote=False) or []
                if any("*" in k or "=?" in (v or "") for k, v in params[1:]):
                    seeds.append(b"\x01" + b"\x00".join(
                        (k + "=" + (v or "").strip('"')).encode("utf-8", "surrogateescape")
                        for k, v in params[1:]))
    hand += [
        b"\x00=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=",
        b"\x00=?iso-8859-1?q?caf=E9_cr=E8me?= =?utf-8?Q?=E2=9C=93_done?=",
        b"\x00=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
        b"\x00=?koi8-r?Q?=F0=D2=C9=D7=C5=D4?=\r\n =?koi8-r?Q?=F0?=",
        b"\x00" + b"=?" * 200,
        b"\x00" + b"=?utf-8?b?" * 50 + b"?=",
        b"\x00=?utf-8?B?4oI=?==?utf-8?B?rA==?= split character",
        b"\x01filename*0*=utf-8''%E2%82%AC\x00filename*1=rate.pdf",
        b"\x01filename*=iso-8859-1'de'Gr%FC%DFe.txt",
        b"\x01filename*9999=z\x00filename*0=a\x00filename*3*=%41",
        b"\x01filename==?UTF-8?B?w6Rw?=.txt",
        b"\x02" + "Grüße".encode() + b" \"aus\" =?x?= K\xc3\xb6ln\r\nzwei Zeilen " + "日本語".encode() * 30,
    ]
    return hand + seeds


def jsonrpc_seeds():
    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "a", "method": "tools/list", "params": {"_meta": {"progressToken": 3}}},
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "read_message", "arguments": {"folder": "INBOX", "uid": 12}}},
        {"jsonrpc": "2.0", "id": 8, "result": {}},
        {"jsonrpc": "2.0", "id": 9, "error": {"code": -32600, "message": "x"}},
        {"jsonrpc": "1.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
    ]
    seeds = [json.dumps(m).encode() for m in msgs]
    seeds += [b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", b"{" * 70 + b"}" * 70,
              b"{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\",\"method\":\"x\"}", b"\xef\xbb\xbf{}", b"{\"a\":\"\xff\"}",
              b"{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"ping\"}"]
    return seeds


def form_seeds():
    return [
        b"\x00email=alice%40example.test&password=s3cret+words&csrf=abc",
        b"\x00a=1&a=2&b=&&=x&c",
        b"\x00" + b"k=v&" * 250,
        b"\x00response_type=code&client_id=https%3A%2F%2Fapp.example%2Fm.json&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb"
        b"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=xyz&scope=mail.read",
        b"\x01%zz%4%41%%+%2B%c3%a9",
        b"\x01caf\xc3\xa9 & ? = /",
        b"\x02postern_session=abc; postern_csrf=\"q\"; a=b",
        b"\x02 postern_session = x ;;;=;a\x00postern_csrf=y",
        b"\x02" + b"a=b; " * 100,
    ]


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    seen = set()
    for s in seeds:
        s = s[:MAX_FILE]
        name = hashlib.sha1(s).hexdigest()
        if name in seen:
            continue
        seen.add(name)
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)
        if len(seen) >= MAX_FILES:
            break
    print("seed_corpus.py: %s: %d files" % (target, len(seen)))


def main():
    msgs = mailbox_messages()
    targets = {
        "html": lambda: html_parts(msgs)[:30] + hostile_html(),
        "header": lambda: header_seeds(msgs),
        "jsonrpc": jsonrpc_seeds,
        "form": form_seeds,
    }
    extra = os.path.join(HERE, "seeds.py")
    if os.path.exists(extra):
        sys.path.insert(0, HERE)
        import seeds  # the targets with structured inputs (IMAP, SMTP, MIME, ...)
        targets.update(seeds.targets(msgs))
    wanted = sys.argv[1:] or sorted(targets)
    for t in wanted:
        write(t, targets[t]())


if __name__ == "__main__":
    main()
