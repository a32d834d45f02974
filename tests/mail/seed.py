#!/usr/bin/env python3
"""Seed the test mailboxes of a start.sh instance by writing Maildir files directly.

usage: seed.py BASE [--uid 5000 --gid 5000] [--inbox-count 300] [--seed 1]

Deterministic: the same arguments give byte-identical files, file names, flags and
mtimes (no clock, PID or host name is used), so the UIDs Dovecot assigns on the first
SELECT are the order written here (the first UID is 1).

Writes, under BASE/home/example.test/<user>/Maildir:
  alice: INBOX with --inbox-count messages (the full corpus, see README.md), plus the
         folders Entwürfe, 日本語, Отчёты, "Rechnungen & Belege", Sent and Archive/2023
         (Maildir++ directories named in modified UTF-7, e.g. .Entw&APw-rfe);
  bob:   a small INBOX; carol: nothing (an empty INBOX);
  dave:  two threads in INBOX, Trash and Projekte (for the organizing tools).
  erin:  attachments and threads for the composing tools (see erin_corpus); frank and
         grace: empty INBOXes that receive erin's replies and forwards.
and BASE/corpus.json, the manifest: per user and folder (UTF-8 name), one entry per
message in UID order with uid, message_id, subject (decoded; null when there is no
Subject header), has_date, kind, flags and size.
Files are written straight into cur/ (or new/ when unflagged) before the first login;
mtime = Date, which Dovecot reports as INTERNALDATE. Only the Python stdlib is used.
"""
import argparse
import base64
import datetime
import json
import os
import quopri
import random
import sys
import time

DOMAIN = "example.test"
HOST = "postern-seed"  # fixed host part of Maildir file names (determinism)
BASE_TIME = 1704186000  # 2024-01-02 09:00:00 UTC
TZS = [0, 60, -300, 540, 330, -480, 120]  # minutes east of UTC, for Date headers

PEOPLE = [
    ("Alice Example", "alice@example.test"),
    ("Bob Builder", "bob@example.test"),
    ("Carol Écrivain", "carol@example.test"),
    ("山田 太郎", "taro@example.jp"),
    ("Дмитрий Иванов", "dmitri@example.ru"),
    ("王小明", "xiaoming@example.cn"),
    ("François Müller", "francois@example.de"),
    ("", "noreply@example.org"),
]
TOPICS = ["Quarterly report", "Lunch on Friday?", "Invoice #{n}", "Build failed on main",
          "Re-org announcement", "Holiday schedule", "Your order has shipped",
          "Meeting notes", "Server migration", "Budget {n}"]

TEXT_LATIN1 = "Grüße aus München! Der Café kostet 3,50 DM. Naïve façade, señor, ¿qué tal? Æble, Øl, Ågård.\n"
TEXT_CP1252 = "“Smart quotes” – en dash — em dash … ellipsis, € 42, ‰, Šárka, Œuvre, ™.\n"
TEXT_SJIS = "こんにちは、世界。会議は明日の午後三時です。よろしくお願いします。\n"
TEXT_GB2312 = "你好，世界。会议定于明天下午三点举行。请准时参加。\n"
TEXT_KOI8 = "Привет! Отчёт готов, см. вложение. Съешь же ещё этих мягких французских булок.\n"
TEXT_UTF8 = "Hello! Unicode: naïve café, 日本語, Ελληνικά, עברית, emoji 🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.\n"
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


# --------------------------------------------------------------------------- encodings
def mutf7(name):
    """RFC 3501 modified UTF-7, as used for Maildir++ folder directory names."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
            run.clear()
    for c in name:
        if 0x20 <= ord(c) <= 0x7E:
            flush()
            out.append("&-" if c == "&" else c)
        else:
            run.append(c)
    flush()
    return "".join(out)


def ew(text, charset="utf-8", enc="B", lower=False):
    """RFC 2047 encoded-words for text, split so each word stays <= 75 chars; folded."""
    words, chunk = [], ""
    for c in text:
        trial = chunk + c
        if len(_ew1(trial, charset, enc)) > 75 and chunk:
            words.append(_ew1(chunk, charset, enc))
            chunk = c
        else:
            chunk = trial
    if chunk:
        words.append(_ew1(chunk, charset, enc))
    s = "\r\n ".join(words)
    return s.replace("?B?", "?b?").replace("?Q?", "?q?") if lower else s


def _ew1(text, charset, enc):
    raw = text.encode(charset)
    if enc == "B":
        data = base64.b64encode(raw).decode()
    else:
        data = "".join("_" if b == 0x20 else chr(b) if (chr(b).isalnum() and b < 128)
                       else "=%02X" % b for b in raw)
    return "=?%s?%s?%s?=" % (charset, enc, data)


def qp(text, charset="utf-8"):
    return quopri.encodestring(text.encode(charset)).decode("ascii").replace("\n", "\r\n")


def b64(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def fold_ids(ids):
    return "\r\n ".join(ids)


# --------------------------------------------------------------------------- messages
class Msg:
    """One message: header lines (str or raw bytes) and a body (bytes)."""

    def __init__(self, kind, subject, headers, body, flags="", date=None):
        self.kind, self.subject, self.headers, self.body = kind, subject, headers, body
        self.flags, self.date = flags, date
        self.message_id = None

    def raw(self):
        out = bytearray()
        for h in self.headers:
            out += h if isinstance(h, bytes) else h.encode("ascii")
            out += b"\r\n"
        return bytes(out) + b"\r\n" + self.body


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.seed = seed
        self.n = 0
        self.clock = BASE_TIME

    # ---- helpers
    def tick(self):
        self.clock += 600 + self.rnd.randrange(5400)  # 10-100 min apart, strictly increasing
        return self.clock

    def date_hdr(self, t):
        tz = TZS[self.rnd.randrange(len(TZS))]
        dt = datetime.datetime.fromtimestamp(t, datetime.timezone(datetime.timedelta(minutes=tz)))
        return dt.strftime("%a, %d %b %Y %H:%M:%S ") + ("%+03d%02d" % (tz // 60, abs(tz) % 60) if tz >= 0
                                                         else "-%02d%02d" % (-tz // 60, -tz % 60))

    def addr(self, person):
        name, email = person
        if not name:
            return email
        if all(ord(c) < 128 for c in name):
            return '"%s" <%s>' % (name, email)
        k = self.rnd.randrange(3)
        if k == 0:
            return "%s <%s>" % (ew(name, "utf-8", "B"), email)
        if k == 1:
            return "%s <%s>" % (ew(name, "utf-8", "Q"), email)
        cs = {"Дмитрий Иванов": "koi8-r", "山田 太郎": "iso-2022-jp", "王小明": "gb2312"}.get(name, "iso-8859-1")
        return "%s <%s>" % (ew(name, cs, "B" if cs != "iso-8859-1" else "Q"), email)

    def mid(self, tag="m"):
        self.n += 1
        return "<%s%d.%d.%08x@%s>" % (tag, self.seed, self.n, self.rnd.getrandbits(32), DOMAIN)

    def subject_for(self, k, topic):
        """(decoded, header value) in one of several RFC 2047 styles."""
        styles = [
            lambda t: (t, t),
            lambda t: ("Café ✓ " + t, ew("Café ✓ " + t, "utf-8", "Q")),
            lambda t: ("Grüße: " + t, ew("Grüße: " + t, "iso-8859-1", "Q")),
            lambda t: ("会議のお知らせ " + t, ew("会議のお知らせ " + t, "shift_jis", "B")),
            lambda t: ("ご確認ください: " + t, ew("ご確認ください:", "iso-2022-jp", "B") + " " + t),
            lambda t: ("Отчёт: " + t, ew("Отчёт: " + t, "koi8-r", "B")),
            lambda t: ("通知 " + t, ew("通知 " + t, "gb2312", "B")),
            lambda t: ("“" + t + "” – €", ew("“" + t + "” – €", "windows-1252", "Q", lower=True)),
            lambda t: ("📎 " + t + " with a long subject that needs folding across several encoded words",
                       ew("📎 " + t + " with a long subject that needs folding across several encoded words",
                          "utf-8", "B")),
        ]
        return styles[k % len(styles)](topic)

    def envelope(self, subject_hdr, t, frm=None, to=None, extra=(), date=True, msgid=None):
        r = self.rnd
        frm = frm or PEOPLE[r.randrange(len(PEOPLE))]
        to = to or PEOPLE[0]
        msgid = msgid or self.mid()
        h = ["Return-Path: <%s>" % frm[1], "From: %s" % self.addr(frm), "To: %s" % self.addr(to)]
        if r.random() < 0.15:
            h.append("Cc: %s, %s" % (self.addr(PEOPLE[1]), self.addr(PEOPLE[r.randrange(len(PEOPLE))])))
        if subject_hdr is not None:
            h.append("Subject: %s" % subject_hdr if subject_hdr else "Subject:")
        if date:
            h.append("Date: %s" % self.date_hdr(t))
        h += ["Message-ID: %s" % msgid, "MIME-Version: 1.0"]
        h += list(extra)
        return h, msgid

    def boundary(self):
        return "=_postern_%08x" % self.rnd.getrandbits(32)

    # ---- bodies: each returns (content headers, body bytes)
    def text_body(self, kind, n):
        if kind == "plain-ascii":
            return ["Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit"], \
                crlf("Hi,\n\nplain 7-bit text, message %d.\n\n-- \nsig\n" % n).encode()
        if kind == "plain-utf8":
            text = "Hallo,\n\n%sMessage %d. A long line %s\n\n-- \nsig\n" % (TEXT_UTF8, n, "x" * 120)
            return ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"], \
                qp(text).encode()
        if kind == "plain-utf8-8bit":
            return ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"], \
                crlf(TEXT_UTF8 * 2).encode()
        if kind == "plain-latin1":
            return ["Content-Type: text/plain; charset=ISO-8859-1", "Content-Transfer-Encoding: 8bit"], \
                crlf(TEXT_LATIN1 * 3).encode("iso-8859-1")
        if kind == "plain-cp1252":
            return ["Content-Type: text/plain; charset=windows-1252", "Content-Transfer-Encoding: quoted-printable"], \
                qp(TEXT_CP1252 * 2, "windows-1252").encode()
        if kind == "plain-sjis":
            return ["Content-Type: text/plain; charset=Shift_JIS", "Content-Transfer-Encoding: base64"], \
                b64(crlf(TEXT_SJIS * 4).encode("shift_jis")).encode() + b"\r\n"
        if kind == "plain-iso2022jp":
            return ["Content-Type: text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit"], \
                crlf(TEXT_SJIS * 2).encode("iso-2022-jp")
        if kind == "plain-gb2312":
            return ["Content-Type: text/plain; charset=GB2312", "Content-Transfer-Encoding: 8bit"], \
                crlf(TEXT_GB2312 * 3).encode("gb2312")
        if kind == "plain-koi8r":
            return ["Content-Type: text/plain; charset=KOI8-R", "Content-Transfer-Encoding: 8bit"], \
                crlf(TEXT_KOI8 * 3).encode("koi8-r")
        if kind == "no-content-type":  # RFC 2045 default: text/plain; charset=us-ascii
            return [], crlf("No Content-Type header at all; message %d.\n" % n).encode()
        raise ValueError(kind)

    def body(self, kind, n):
        if kind.startswith("plain-") or kind == "no-content-type":
            return self.text_body(kind, n)
        b = self.boundary()
        if kind == "html-only":
            html = ("<html><head><style>p{color:red}</style></head><body><h1>Newsletter %d</h1>"
                    "<p>Caf&eacute; <b>bold</b> &amp; <a href=\"https://example.test/x?a=1&amp;b=2\">link</a></p>"
                    "<table><tr><td>1</td><td>2</td></tr></table><script>alert(1)</script>"
                    "<img src=\"https://tracker.example.org/p.gif\"></body></html>") % n
            return ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"], \
                qp(html).encode()
        if kind == "alternative":
            body = ("--{b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    "{t}\r\n--{b}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    "{h}\r\n--{b}--\r\n").format(b=b, t=qp("Plain part of %d: café\n" % n),
                                                 h=qp("<p>HTML part of %d: caf&eacute; ☕</p>" % n))
            return ['Content-Type: multipart/alternative; boundary="%s"' % b], body.encode()
        if kind == "attachments":
            b2 = b + "_alt"
            pdf = b"%PDF-1.4\n" + self.rnd.randbytes(3000 + self.rnd.randrange(3000)) + b"\n%%EOF\n"
            csv = "id,name,amount\n1,Zoë,3.50\n2,Łukasz,7.25\n3,José,12.00\n"
            notes = "Notes with a long line that quoted-printable must soft-break: " + "é" * 60 + "\n"
            parts = [
                "--{b}\r\nContent-Type: multipart/alternative; boundary=\"{b2}\"\r\n\r\n"
                "--{b2}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached ({n}).\r\n"
                "--{b2}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <i>attached</i> ({n}).</p>\r\n"
                "--{b2}--\r\n".format(b=b, b2=b2, n=n),
                "--{b}\r\nContent-Type: application/pdf; name=\"report-{n}.pdf\"\r\n"
                "Content-Disposition: attachment; filename=\"report-{n}.pdf\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n{d}\r\n".format(b=b, n=n, d=b64(pdf)),
                "--{b}\r\nContent-Type: text/csv; charset=utf-8\r\n"
                "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20{n}.csv\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n{d}\r\n".format(b=b, n=n, d=qp(csv)),
                "--{b}\r\nContent-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\n"
                "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n{d}\r\n".format(b=b, d=qp(notes)),
                "--{b}\r\nContent-Type: image/png; name=\"{f}\"\r\nContent-Disposition: attachment; filename=\"{f}\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n{d}\r\n--{b}--\r\n".format(b=b, f=ew("写真.png"), d=b64(PNG_1x1)),
            ]
            return ['Content-Type: multipart/mixed; boundary="%s"' % b], "".join(parts).encode()
        if kind == "rfc2231":
            # encoded continuations (*0*, *1*), a plain continuation, and a language tag
            parts = [
                "--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThree attachments with RFC 2231 names.\r\n",
                "--{b}\r\nContent-Type: application/pdf;\r\n name*0*=UTF-8''%E5%B9%B4%E6%AC%A1%E5%A0%B1%E5%91%8A;\r\n"
                " name*1*=%E6%9B%B8%20{n};\r\n name*2=\".pdf\"\r\n"
                "Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E5%B9%B4%E6%AC%A1%E5%A0%B1%E5%91%8A;\r\n"
                " filename*1*=%E6%9B%B8%20{n};\r\n filename*2=\".pdf\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n{d}\r\n",
                "--{b}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                "Content-Disposition: attachment; filename*=iso-8859-1'de'Gr%FC%DFe%20aus%20K%F6ln.txt\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n",
                "\r\n--{b}\r\nContent-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment;\r\n filename*0=\"a-very-long-file-name-that-was-split-\";\r\n"
                " filename*1=\"into-two-continuations.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n{d2}\r\n--{b}--\r\n",
            ]
            pdf = b"%PDF-1.4\n" + self.rnd.randbytes(1500) + b"\n%%EOF\n"
            out = b""
            for i, p in enumerate(parts):
                out += p.format(b=b, n=n, d=b64(pdf), d2=b64(self.rnd.randbytes(700))).encode()
                if i == 2:
                    out += crlf(TEXT_LATIN1).encode("iso-8859-1")
            return ['Content-Type: multipart/mixed; boundary="%s"' % b], out
        if kind == "related":
            cid = "logo%d@%s" % (n, DOMAIN)
            body = ("--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Logo: <img src=\"cid:{c}\"></p>\r\n"
                    "--{b}\r\nContent-Type: image/png\r\nContent-ID: <{c}>\r\nContent-Disposition: inline\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n{d}\r\n--{b}--\r\n").format(b=b, c=cid, d=b64(PNG_1x1))
            return ['Content-Type: multipart/related; type="text/html"; boundary="%s"' % b], body.encode()
        if kind == "forward":
            inner = self.inner_message("Original Nachricht für dich", "iso-8859-1", n)
            body = ("--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFYI, forwarded below.\r\n"
                    "--{b}\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n").format(b=b).encode() \
                + inner + ("\r\n--%s--\r\n" % b).encode()
            return ['Content-Type: multipart/mixed; boundary="%s"' % b], body
        if kind == "forward-nested":
            # message/rfc822 containing a multipart with its own message/rfc822 and an attachment
            innermost = self.inner_message("Пересылаемое сообщение", "koi8-r", n)
            b2 = b + "_in"
            middle = (crlf("From: Middle <middle@example.org>\nTo: bob@example.test\nSubject: Fwd: nested\n"
                           "Date: Tue, 02 Jan 2024 08:00:00 +0000\nMIME-Version: 1.0\n")
                      + 'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n' % b2
                      + "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSecond level.\r\n" % b2
                      + "--%s\r\nContent-Type: message/rfc822\r\n\r\n" % b2).encode() + innermost \
                + ("\r\n--{b2}\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
                   "Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   "{d}\r\n--{b2}--\r\n").format(b2=b2, d=b64(self.rnd.randbytes(300))).encode()
            body = ("--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTwo levels of forwarding.\r\n"
                    "--{b}\r\nContent-Type: message/rfc822\r\n\r\n").format(b=b).encode() + middle \
                + ("\r\n--%s--\r\n" % b).encode()
            return ['Content-Type: multipart/mixed; boundary="%s"' % b], body
        raise ValueError(kind)

    def inner_message(self, subject, charset, n):
        text = {"iso-8859-1": TEXT_LATIN1, "koi8-r": TEXT_KOI8}[charset]
        return (crlf("From: Someone <someone@example.org>\nTo: alice@example.test\nSubject: %s\n"
                     "Date: Mon, 01 Jan 2024 12:00:00 +0100\nMessage-ID: <inner%d.%d@example.org>\nMIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: 8bit\n\n")
                % (ew(subject, charset, "Q"), self.seed, n, charset)).encode() + crlf(text).encode(charset)

    def flags(self):
        r = self.rnd
        f = ""
        if r.random() < 0.1:
            f += "F"
        if r.random() < 0.15:
            f += "R"
        if r.random() < 0.65:
            f += "S"
        return "".join(sorted(f))

    # ---- whole messages
    def simple(self, kind):
        t = self.tick()
        topic = TOPICS[self.rnd.randrange(len(TOPICS))].format(n=1000 + self.n)
        subj, subj_hdr = self.subject_for(self.n, topic)
        h, msgid = self.envelope(subj_hdr, t)
        bh, body = self.body(kind, self.n)
        m = Msg(kind, subj, h + bh, body, self.flags(), t)
        m.message_id = msgid
        return m

    def special(self, kind):
        t = self.tick()
        if kind == "missing-date":
            h, msgid = self.envelope("No Date header here", t, date=False)
            subj = "No Date header here"
        elif kind == "missing-subject":
            h, msgid = self.envelope(None, t)
            subj = None
        elif kind == "empty-subject":
            h, msgid = self.envelope("", t)
            subj = ""
        elif kind == "raw-8bit-headers":
            # unencoded 8-bit bytes in headers: UTF-8 in Subject, ISO-8859-1 in the From name
            msgid = self.mid()
            subj = "Grüße aus Köln – ohne RFC 2047"
            h = [b"From: Fran\xe7ois M\xfcller <francois@example.de>",
                 "To: %s" % self.addr(PEOPLE[0]),
                 b"Subject: " + subj.encode("utf-8"),
                 "Date: %s" % self.date_hdr(t), "Message-ID: %s" % msgid, "MIME-Version: 1.0"]
        else:
            raise ValueError(kind)
        bh, body = self.text_body("plain-utf8", self.n)
        m = Msg(kind, subj, h + bh, body, self.flags(), t)
        m.message_id = msgid
        return m

    def huge(self, mbytes=10):
        """One message of about `mbytes` MB: a base64 attachment of pseudo-random bytes."""
        t = self.tick()
        b = self.boundary()
        subj = "Huge message (%d MB attachment)" % mbytes
        h, msgid = self.envelope(subj, t, frm=PEOPLE[1])
        data = self.rnd.randbytes(mbytes * 1024 * 1024 * 3 // 4)
        body = ("--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA big attachment follows.\r\n"
                "--{b}\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
                "Content-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                ).format(b=b).encode() + b64(data).encode() + ("\r\n--%s--\r\n" % b).encode()
        m = Msg("huge", subj, h + ['Content-Type: multipart/mixed; boundary="%s"' % b], body, "S", t)
        m.message_id = msgid
        return m


class Thread:
    """A conversation: replies pick a parent (mostly the latest message) and carry
    In-Reply-To plus References (first id + the last 9 of the parent's chain)."""

    def __init__(self, gen, topic, prefixes=("Re: ",), branch=0.2, drop_irt=0.0):
        self.g, self.topic, self.prefixes = gen, topic, prefixes
        self.branch, self.drop_irt = branch, drop_irt
        self.chains = []  # per message: list of ids from root to it

    def next(self):
        g, r = self.g, self.g.rnd
        t = g.tick()
        subj = self.topic
        extra = []
        if self.chains:
            i = len(self.chains) - 1 if r.random() >= self.branch else r.randrange(len(self.chains))
            parent = self.chains[i]
            subj = self.prefixes[r.randrange(len(self.prefixes))] + self.topic
            refs = parent if len(parent) <= 10 else [parent[0]] + parent[-9:]
            if r.random() >= self.drop_irt:
                extra.append("In-Reply-To: %s" % parent[-1])
            extra.append("References: %s" % fold_ids(refs))
        frm = PEOPLE[r.randrange(len(PEOPLE) - 1)]
        subj_hdr = subj if all(ord(c) < 128 for c in subj) else ew(subj, "utf-8", "Q")
        h, msgid = g.envelope(subj_hdr, t, frm=frm, extra=extra)
        bh, body = g.body("plain-utf8" if len(self.chains) % 3 else "alternative", g.n)
        self.chains.append((self.chains[i] if self.chains else []) + [msgid])
        m = Msg("thread", subj, h + bh, body, g.flags(), t)
        m.message_id = msgid
        return m


# --------------------------------------------------------------------------- corpus
INBOX_KINDS = ["plain-ascii", "plain-utf8", "alternative", "plain-latin1", "html-only", "attachments",
               "plain-cp1252", "plain-sjis", "rfc2231", "plain-gb2312", "related", "plain-koi8r",
               "forward", "plain-iso2022jp", "plain-utf8-8bit", "forward-nested", "no-content-type"]
SPECIAL_KINDS = ["missing-date", "missing-subject", "raw-8bit-headers", "empty-subject"]


def alice_corpus(g, inbox_count):
    folders = {}
    threads = [Thread(g, "Planning the Q3 offsite", branch=0.25),
               Thread(g, "Änderungen am Vertrag", prefixes=("Re: ", "AW: ", "Fwd: ", "RE: "), branch=0.3),
               Thread(g, "Server migration status", drop_irt=0.3)]
    inbox = []
    huge_at = inbox_count // 2
    i = 0
    while len(inbox) < inbox_count:
        slot = len(inbox)
        if slot == huge_at:
            inbox.append(g.huge())
        elif slot % 3 == 2:  # a third of INBOX belongs to the three threads
            inbox.append(threads[(slot // 3) % 3].next())
        elif slot % 25 == 7:
            inbox.append(g.special(SPECIAL_KINDS[(slot // 25) % len(SPECIAL_KINDS)]))
        else:
            inbox.append(g.simple(INBOX_KINDS[i % len(INBOX_KINDS)]))
            i += 1
    folders["INBOX"] = inbox
    drafts = []
    for k in ("plain-utf8", "alternative", "attachments"):
        m = g.simple(k)
        m.flags = "DS"
        drafts.append(m)
    folders["Entwürfe"] = drafts
    jp = []
    for k in ("plain-sjis", "plain-iso2022jp", "plain-utf8", "plain-sjis", "attachments"):
        m = g.simple(k)
        jp.append(m)
    folders["日本語"] = jp
    folders["Отчёты"] = [g.simple(k) for k in ("plain-koi8r", "forward-nested", "plain-koi8r")]
    folders["Rechnungen & Belege"] = [g.simple(k) for k in ("attachments", "rfc2231", "attachments")]
    sent = []
    for k in ("plain-ascii", "plain-utf8", "alternative", "attachments"):
        m = g.simple(k)
        m.flags = "S"
        sent.append(m)
    folders["Sent"] = sent
    folders["Archive"] = [g.simple("plain-ascii")]
    folders["Archive/2023"] = [g.simple(k) for k in ("plain-latin1", "html-only", "plain-utf8", "forward")]
    return folders


def dave_corpus(g):
    """For the organizing tools: INBOX with two linear threads (4 and 3 messages,
    unique topics so no subject threading joins them) between single messages,
    three messages in Trash and two in a plain folder (not empty, so
    delete_folder must refuse it)."""
    garden = Thread(g, "Garden shed plans", branch=0.0)
    budget = Thread(g, "Quarterly budget review", branch=0.0)
    inbox = [g.simple("plain-ascii"), garden.next(), g.simple("plain-utf8"), garden.next(),
             budget.next(), garden.next(), g.simple("alternative"), budget.next(),
             garden.next(), budget.next(), g.simple("plain-latin1"), g.simple("attachments"),
             g.simple("plain-ascii"), g.simple("plain-utf8")]
    return {"INBOX": inbox,
            "Trash": [g.simple(k) for k in ("plain-ascii", "plain-utf8", "alternative")],
            "Projekte": [g.simple(k) for k in ("plain-ascii", "plain-utf8")]}


def tiny_png(width, height):
    """A valid RGB PNG with a deterministic gradient (stdlib only)."""
    import struct
    import zlib
    rows = b"".join(b"\x00" + b"".join(bytes(((x * 37) % 256, (y * 53) % 256, 128)) for x in range(width))
                    for y in range(height))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def erin_corpus():
    """erin's INBOX for the composing tests (get_attachment, replies, forwards, drafts).

    Written by hand, independent of Gen, so other users' corpora never shift it. UIDs:
      1 photo.png (image/png)             2 notes.txt (ISO-8859-1 text, QP) + data.json
      3 report.pdf (binary)               4 archive.bin (300 KB, above the file limit)
      5 "Lunch on Friday?" from frank, To erin, Cc grace, with References
      6 "Re: Budget" from frank with Reply-To grace
      7 "Agenda for Monday" from grace with agenda.txt and map.png (forwarding)
    Mail that the tests send goes to frank and grace (empty INBOXes), never back to alice/bob/carol."""
    erin, frank, grace = ("Erin", "erin@example.test"), ("Frank", "frank@example.test"), ("Grace", "grace@example.test")
    fmt = lambda p: '"%s" <%s>' % p
    t0 = BASE_TIME + 400 * 86400
    msgs = []

    def add(n, subject, frm, body_headers, body, extra=(), msgid=None):
        t = t0 + n * 3600
        date = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
        msgid = msgid or "<erin-%d@%s>" % (n, DOMAIN)
        h = ["From: %s" % fmt(frm), "To: %s" % fmt(erin), "Subject: %s" % subject, "Date: %s" % date,
             "Message-ID: %s" % msgid, "MIME-Version: 1.0"] + list(extra) + body_headers
        m = Msg("compose", subject, h, body, "", t)
        m.message_id = msgid
        msgs.append(m)

    def mixed(n, text, parts):
        b = "=_erin_%d" % n
        out = "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n%s\r\n" % (b, text)
        for headers, data in parts:
            out += "--%s\r\n%s\r\n\r\n%s\r\n" % (b, "\r\n".join(headers), data)
        out += "--%s--\r\n" % b
        return ['Content-Type: multipart/mixed; boundary="%s"' % b], out.encode("ascii")

    def file_part(ctype, name, data):
        return (["Content-Type: %s; name=\"%s\"" % (ctype, name), "Content-Transfer-Encoding: base64",
                 "Content-Disposition: attachment; filename=\"%s\"" % name], b64(data))

    rnd = random.Random(20261126)
    add(1, "Photo from the trip", frank, *mixed(1, "Here is the photo.", [file_part("image/png", "photo.png", tiny_png(16, 12))]))
    notes = (["Content-Type: text/plain; charset=iso-8859-1; name=\"notes.txt\"",
              "Content-Transfer-Encoding: quoted-printable",
              "Content-Disposition: attachment; filename=\"notes.txt\""],
             qp("Grüße aus München\nTagesordnung: Äpfel und Öl\n", "iso-8859-1"))
    add(2, "Meeting notes", grace, *mixed(2, "Notes attached.", [
        notes, file_part("application/json", "data.json", b'{"answer": 42, "city": "M\xc3\xbcnchen"}\n')]))
    pdf = b"%PDF-1.4\n" + rnd.randbytes(2048) + b"\n%%EOF\n"
    add(3, "Quarterly report", frank, *mixed(3, "The report.", [file_part("application/pdf", "report.pdf", pdf)]))
    big = rnd.randbytes(300 * 1024)
    add(4, "Big archive", frank, *mixed(4, "A big file.", [file_part("application/octet-stream", "archive.bin", big)]))
    plain = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit"]
    add(5, "Lunch on Friday?", frank, plain, b"Shall we meet at noon?\r\n\r\nFrank\r\n",
        extra=["Cc: %s" % fmt(grace), "In-Reply-To: <plan-0@example.test>", "References: <plan-0@example.test>"],
        msgid="<lunch-1@example.test>")
    add(6, "Re: Budget", frank, plain, b"Please answer Grace about the budget.\r\n",
        extra=["Reply-To: %s" % fmt(grace), "In-Reply-To: <budget-1@example.test>",
               "References: <budget-0@example.test>\r\n <budget-1@example.test>"],
        msgid="<budget-2@example.test>")
    add(7, "Agenda for Monday", grace, *mixed(7, "Agenda and map attached.", [
        file_part("text/plain", "agenda.txt", b"1. Coffee\n2. Plans\n"),
        file_part("image/png", "map.png", tiny_png(8, 8))]))
    return {"INBOX": msgs}


def bob_corpus(g):
    return {"INBOX": [g.simple(k) for k in ("plain-ascii", "plain-utf8", "alternative", "attachments", "plain-latin1")]}


# --------------------------------------------------------------------------- writing
def folder_dir(maildir, name):
    if name == "INBOX":
        return maildir
    return os.path.join(maildir, "." + ".".join(mutf7(p) for p in name.split("/")))


def write_folder(maildir, name, msgs, uid, gid, manifest):
    d = folder_dir(maildir, name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    if name != "INBOX":
        open(os.path.join(d, "maildirfolder"), "wb").close()
    entries = []
    for i, m in enumerate(msgs):
        raw = m.raw()
        # <secs>.M<usecs>P<n>.<host>,S=<size>,W=<size with CRLF>; already CRLF, so W = S
        base = "%d.M%06dP%d.%s,S=%d,W=%d" % (m.date, i % 1000000, i + 1, HOST, len(raw), len(raw))
        path = os.path.join(d, "new", base) if not m.flags else os.path.join(d, "cur", base + ":2," + m.flags)
        with open(path, "wb") as f:
            f.write(raw)
        os.utime(path, (m.date, m.date))
        entries.append({"uid": i + 1, "message_id": m.message_id, "subject": m.subject,
                        "has_date": m.kind != "missing-date", "kind": m.kind, "flags": m.flags,
                        "size": len(raw)})
    manifest[name] = entries
    if uid is not None:
        for root, dirs, files in os.walk(d if name != "INBOX" else maildir):
            if name == "INBOX" and root == maildir:
                dirs[:] = [x for x in dirs if x in ("cur", "new", "tmp")]
            os.chown(root, uid, gid)
            for f in files:
                os.chown(os.path.join(root, f), uid, gid)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="the BASE directory given to start.sh")
    ap.add_argument("--uid", type=int, default=5000)
    ap.add_argument("--gid", type=int, default=5000)
    ap.add_argument("--inbox-count", type=int, default=300, help="messages in alice's INBOX")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--manifest", help="default: BASE/corpus.json")
    a = ap.parse_args()
    t0 = time.time()
    home = os.path.join(a.base, "home", DOMAIN)
    g = Gen(a.seed)
    users = {"alice@example.test": alice_corpus(g, a.inbox_count), "bob@example.test": bob_corpus(g),
             "carol@example.test": {"INBOX": []},
             # the composing tests (tests/e2e/tools_compose.test.mjs)
             "erin@example.test": erin_corpus(), "frank@example.test": {"INBOX": []},
             "grace@example.test": {"INBOX": []}}
    # after the others, so their messages stay byte-identical
    users["dave@example.test"] = dave_corpus(g)
    manifest = {}
    total = 0
    for user, folders in users.items():
        maildir = os.path.join(home, user.split("@")[0], "Maildir")
        manifest[user] = {}
        for name, msgs in folders.items():
            write_folder(maildir, name, msgs, a.uid, a.gid, manifest[user])
            total += len(msgs)
        os.chown(maildir, a.uid, a.gid)
    with open(a.manifest or os.path.join(a.base, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print("seed.py: %d messages for %d users in %.2f s" % (total, len(users), time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
