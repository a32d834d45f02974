#!/usr/bin/env python3
"""End-to-end check of a running fixture (Python stdlib only), for debugging the mail
environment without building Postern.

usage: smoke.py DIR    (reads DIR/ports.env written by `fixture.sh start DIR`)

Every TLS connection verifies the server against CA_FILE, with host name checks.
Checks: STARTTLS and IMAPS logins; the seeded corpus as IMAP sees it (UIDs and
Message-IDs match corpus.json, non-ASCII folder names, the 10 MB message); no AUTH
before STARTTLS on submission; unauthenticated relay refused; submission with STARTTLS
and implicit TLS delivers to bob; bad passwords refused (from 127.0.0.2, so Dovecot's
auth penalty does not slow the other checks). Exit status 0 when all pass.
"""
import email.utils
import imaplib
import json
import re
import smtplib
import ssl
import sys
import time
import uuid
from email.message import EmailMessage

env = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1] + "/ports.env") if "=" in line)
HOST = env["MAIL_HOST"]
IMAP, IMAPS, SUB, SMTPS = (int(env[k]) for k in ("IMAP_PORT", "IMAPS_PORT", "SUBMISSION_PORT", "SMTPS_PORT"))
ctx = ssl.create_default_context(cafile=env["CA_FILE"])  # verifies chain and host name
fails = passes = 0


def check(ok, what):
    global fails, passes
    print(("PASS " if ok else "FAIL ") + what)
    fails += not ok
    passes += bool(ok)


def mutf7_decode(s):
    import base64

    def dec(m):
        b = m.group(1)
        if not b:
            return "&"
        b = b.replace(",", "/")
        return base64.b64decode(b + "=" * (-len(b) % 4)).decode("utf-16-be")
    return re.sub(r"&([^-]*)-", dec, s)


def message(subject, mid):
    m = EmailMessage()
    m["From"] = "alice@example.test"
    m["To"] = "bob@example.test"
    m["Subject"] = subject
    m["Message-ID"] = mid
    m["Date"] = email.utils.formatdate()
    m.set_content("smoke test\n")
    return m


t_start = time.time()
corpus = json.load(open(env["CORPUS_FILE"], encoding="utf-8"))

# --- IMAP: STARTTLS on the plain port, and the corpus as the server sees it
M = imaplib.IMAP4(HOST, IMAP, timeout=10)
M.starttls(ssl_context=ctx)
M.login(env["MAIL_USER1"], env["MAIL_PASS1"])
typ, data = M.list()
names = {mutf7_decode(re.match(rb'\(.*?\) "/" (.*)', line).group(1).decode().strip('"')) for line in data}
for folder in corpus[env["MAIL_USER1"]]:
    check(folder in names, "folder %r listed" % folder)
typ, caps = M.capability()
caps = caps[0].decode().split()
for c in ("IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "COMPRESS=DEFLATE"):
    check(c in caps, "capability " + c)
inbox = corpus[env["MAIL_USER1"]]["INBOX"]
typ, data = M.select("INBOX", readonly=True)
check(int(data[0]) == len(inbox), "alice INBOX EXISTS %s == %d seeded" % (data[0].decode(), len(inbox)))
typ, data = M.uid("FETCH", "1:*", "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
seen = {}
for item in data:
    if isinstance(item, tuple):
        uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
        size = int(re.search(rb"RFC822.SIZE (\d+)", item[0]).group(1))
        mid = item[1].decode().split(":", 1)[1].strip()
        seen[uid] = (mid, size)
mismatch = [e["uid"] for e in inbox if seen.get(e["uid"]) != (e["message_id"], e["size"])]
check(not mismatch, "UID n is the n-th seeded message (Message-ID and size) %s" % mismatch[:5])
huge = [e for e in inbox if e["kind"] == "huge"]
check(huge and huge[0]["size"] > 10_000_000, "10 MB message present (%d bytes)" % (huge[0]["size"] if huge else 0))
typ, data = M.select('"' + "Entw&APw-rfe" + '"', readonly=True)
check(typ == "OK" and int(data[0]) == len(corpus[env["MAIL_USER1"]]["Entwürfe"]), "SELECT Entw&APw-rfe (Entwürfe)")
M.logout()
M = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ctx, timeout=10)
M.login(env["MAIL_USER3"], env["MAIL_PASS3"])
typ, data = M.select("INBOX")
check(int(data[0]) == 0, "IMAPS login; carol's INBOX is empty")
M.logout()

# --- submission
s = smtplib.SMTP(HOST, SUB, timeout=10, local_hostname="localhost")
s.ehlo()
check(not s.has_extn("auth"), "no AUTH offered before STARTTLS")
s.quit()
tag = uuid.uuid4().hex[:12]
s = smtplib.SMTP(HOST, SUB, timeout=10, local_hostname="localhost")
s.starttls(context=ctx)
try:
    s.send_message(message("noauth", "<noauth-%s@example.test>" % tag))
    check(False, "unauthenticated relay refused")
except smtplib.SMTPException:
    check(True, "unauthenticated relay refused")
s.quit()
mids = {"587": "<smoke-587-%s@example.test>" % tag, "465": "<smoke-465-%s@example.test>" % tag}
s = smtplib.SMTP(HOST, SUB, timeout=10, local_hostname="localhost")
s.starttls(context=ctx)
s.login(env["MAIL_USER1"], env["MAIL_PASS1"])
s.send_message(message("smoke 587", mids["587"]))
s.quit()
s = smtplib.SMTP_SSL(HOST, SMTPS, timeout=10, context=ctx, local_hostname="localhost")
s.login(env["MAIL_USER1"], env["MAIL_PASS1"])
s.send_message(message("smoke 465", mids["465"]))
s.quit()
t0 = time.time()
found = set()
M = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ctx, timeout=10)
M.login(env["MAIL_USER2"], env["MAIL_PASS2"])
while time.time() - t0 < 10 and len(found) < 2:
    M.select("INBOX", readonly=True)
    for k, mid in mids.items():
        typ, d = M.uid("SEARCH", "HEADER", "Message-ID", mid)
        if d[0].split():
            found.add(k)
    if len(found) < 2:
        time.sleep(0.05)
M.logout()
check(len(found) == 2, "both submissions delivered to bob in %.2f s" % (time.time() - t0))

# --- bad passwords, from 127.0.0.2 (Dovecot's auth penalty is per client IP)
class IMAP4From2(imaplib.IMAP4):
    def _create_socket(self, timeout):
        import socket
        return socket.create_connection((self.host, self.port), timeout, source_address=("127.0.0.2", 0))


M = IMAP4From2(HOST, IMAP, timeout=10)
try:
    M.login(env["MAIL_USER1"], "wrong")
    check(False, "IMAP bad password refused")
except imaplib.IMAP4.error:
    check(True, "IMAP bad password refused")
M.shutdown()
s = smtplib.SMTP(HOST, SUB, timeout=10, local_hostname="localhost", source_address=("127.0.0.2", 0))
s.starttls(context=ctx)
s.ehlo()
s.user, s.password = env["MAIL_USER1"], "wrong"
try:
    s.auth("PLAIN", s.auth_plain)  # one mechanism only: login() would also try LOGIN
    check(False, "SMTP bad password refused")
except smtplib.SMTPAuthenticationError:
    check(True, "SMTP bad password refused")
s.quit()
print("%d passed, %d failed in %.2f s" % (passes, fails, time.time() - t_start))
sys.exit(1 if fails else 0)
