"""Seeds of the fuzz targets with structured inputs (see seed_corpus.py)."""
import base64
import email
import email.policy
import json
import os
import re

CAPS = b"IMAP4rev1 LITERAL+ UIDPLUS MOVE THREAD=REFERENCES SPECIAL-USE ENABLE CONDSTORE"
GREETING = b"* OK [CAPABILITY " + CAPS + b"] Dovecot ready.\r\n"
LOGIN = (b"1 OK [CAPABILITY " + CAPS + b"] Logged in\r\n"
         b"* CAPABILITY " + CAPS + b"\r\n2 OK Capability completed.\r\n")
SELECT = (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
          b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
          b"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 2] First unseen.\r\n"
          b"* OK [UIDVALIDITY 1704186000] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n"
          b"3 OK [READ-WRITE] Select completed.\r\n")


def literal(data):
    return b"{%d}\r\n" % len(data) + data


def envelope(subject=b"Quarterly report", frm=b"Alice Example", mid=b"<m1@example.test>"):
    return (b"(\"Tue, 2 Jan 2024 09:00:00 +0000\" \"" + subject + b"\" ((\"" + frm +
            b"\" NIL \"alice\" \"example.test\")) NIL NIL ((NIL NIL \"bob\" \"example.test\")) NIL NIL NIL \"" +
            mid + b"\")")


BS_PLAIN = b'("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 42 2 NIL NIL NIL NIL)'
BS_ALT = (b'(("text" "plain" ("charset" "iso-8859-1") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)'
          b'("text" "html" ("charset" "utf-8") NIL NIL "base64" 40 1 NIL NIL NIL NIL) "alternative" '
          b'("boundary" "b1") NIL NIL NIL)')
BS_MIXED = (b'(("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)'
            b'("application" "pdf" ("name" "report.pdf") NIL NIL "base64" 24 NIL '
            b'("attachment" ("filename*" "utf-8\'\'r%C3%A9sum%C3%A9.pdf")) NIL NIL)'
            b'("message" "rfc822" NIL NIL NIL "7bit" 100 ' + envelope(b"=?utf-8?B?w6Rw?=") +
            b' ("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 5 NIL NIL NIL NIL)'
            b' "mixed" ("boundary" "b2") NIL NIL NIL)')


def fetch_summary(uid, bs, flags=b"\\Seen"):
    return (b"* %d FETCH (UID %d FLAGS (" % (uid, uid) + flags + b") INTERNALDATE \"02-Jan-2024 09:00:00 +0000\" "
            b"RFC822.SIZE 1234 ENVELOPE " + envelope() + b" BODYSTRUCTURE " + bs +
            b" BODY[HEADER.FIELDS (REFERENCES)] " + literal(b"References: <a@x> <b@y>\r\n\r\n") + b")\r\n")


def imap_seeds():
    pre = GREETING + LOGIN
    ops = {
        0: (b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            b"* LIST (\\Noselect \\HasChildren) \"/\" \"Archive\"\r\n* LIST () \"/\" \"Entw&APw-rfe\"\r\n"
            b"* LIST () \"/\" " + literal("日本語".encode()) + b"\r\n3 OK List completed.\r\n"
            b"* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n4 OK done\r\n* STATUS Sent (MESSAGES 0 UNSEEN 0)\r\n5 OK done\r\n"),
        1: SELECT + b"* SEARCH 1 2 3\r\n4 OK Search completed.\r\n" + fetch_summary(3, BS_PLAIN) +
           fetch_summary(2, BS_ALT, b"") + fetch_summary(1, BS_MIXED) + b"5 OK Fetch completed.\r\n",
        2: SELECT + fetch_summary(1, BS_ALT) + b"4 OK Fetch completed.\r\n"
           b"* 1 FETCH (UID 1 BODY[1]<0> " + literal(b"Gr\xfc\xdfe aus M\xfcnchen\r\n") +
           b" BODY[2]<0> " + literal(b"PHA+SGVsbG8gPGI+d29ybGQ8L2I+PC9wPg==\r\n") + b")\r\n5 OK Fetch completed.\r\n",
        3: SELECT + fetch_summary(1, BS_PLAIN) + fetch_summary(2, BS_MIXED) + b"4 OK Fetch completed.\r\n"
           b"* 1 FETCH (UID 1 BODY[1]<0> " + literal(b"caf=C3=A9 =\r\nsoft break\r\n") + b")\r\n"
           b"* 2 FETCH (UID 2 BODY[1]<0> " + literal(b"flowed \r\nline\r\n") + b")\r\n5 OK Fetch completed.\r\n",
        4: SELECT + b"* SEARCH 3 1\r\n4 OK Search completed.\r\n" + fetch_summary(3, BS_PLAIN) + b"5 OK done\r\n",
        5: SELECT + b"* OK [COPYUID 1704186001 1 7] Moved\r\n* 1 EXPUNGE\r\n4 OK Move completed.\r\n",
        6: SELECT + b"* 1 FETCH (UID 1 FLAGS (\\Seen $Label1))\r\n4 OK Store completed.\r\n",
        7: b"3 OK [APPENDUID 1704186002 9] Append completed.\r\n",
        8: SELECT + b"* THREAD (1 (2)(3 4))\r\n4 OK Thread completed.\r\n" + fetch_summary(1, BS_PLAIN) +
           fetch_summary(2, BS_PLAIN) + b"5 OK done\r\n",
        9: SELECT + b"* SEARCH 1 2\r\n4 OK done\r\n* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n5 OK done\r\n"
           b"* 1 EXPUNGE\r\n6 OK done\r\n",
        10: b"* LIST () \"/\" Projekte\r\n3 OK done\r\n4 OK Rename completed.\r\n",
        11: b"* LIST () \"/\" INBOX\r\n* LIST () \"/\" Archive\r\n3 OK done\r\n" + SELECT +
            b"* SEARCH 2\r\n4 OK done\r\n" + fetch_summary(2, BS_PLAIN) + b"5 OK done\r\n",
        12: SELECT + b"* 1 FETCH (UID 1 BODYSTRUCTURE " + BS_MIXED + b")\r\n4 OK done\r\n"
            b"* 1 FETCH (UID 1 BODY[2]<0> " + literal(b"JVBERi0xLjQK\r\n") + b")\r\n5 OK done\r\n",
        13: SELECT + fetch_summary(1, BS_MIXED) + b"4 OK done\r\n* 1 FETCH (UID 1 BODY[HEADER] " +
            literal(b"From: Alice <alice@example.test>\r\nReply-To: r@example.test\r\nSubject: hi\r\n\r\n") +
            b" BODY[1]<0> " + literal(b"text\r\n") + b" BODY[2]<0> " + literal(b"JVBERi0xLjQK\r\n") + b")\r\n5 OK done\r\n",
        14: b"* LIST (\\Sent) \"/\" \"Sent Items\"\r\n3 OK done\r\n",
    }
    seeds = []
    for op, text in ops.items():
        seeds.append(bytes([op % 16, 63]) + pre + text)
        seeds.append(bytes([op % 16 + 16 * 14, 0]) + pre + text)  # then find_special_use; 1-byte reads
    hostile = [
        b"* OK hi\r\n1 OK logged in\r\n* CAPABILITY IMAP4rev1\r\n2 OK\r\n* LIST () \"/\" " + literal(b"x" * 10) * 3,
        GREETING + LOGIN + b"* LIST () \"/\" {99999999}\r\n",
        GREETING + LOGIN + b"* SEARCH" + b" 1" * 3000 + b"\r\n",
        GREETING + LOGIN + SELECT + b"* 1 FETCH (UID 1 BODYSTRUCTURE " + b"(" * 100 + b")" * 100 + b")\r\n",
        GREETING + b"1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
        b"* BYE go away\r\n",
        b"* PREAUTH ok\r\n* CAPABILITY IMAP4rev1\r\n1 OK\r\n",
    ]
    seeds += [bytes([0x21, 200]) + h for h in hostile]
    # Signing in with an OAuth access token (byte 1 >= 128: XOAUTH2 when
    # even, OAUTHBEARER when odd), with and without SASL-IR, accepted and
    # refused (the error challenge, a server that echoes the token).
    oauth_caps = CAPS + b" SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER"
    oauth_greeting = b"* OK [CAPABILITY " + oauth_caps + b"] Dovecot ready.\r\n"
    no_ir_greeting = b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready.\r\n"
    signed_in = (b"1 OK [CAPABILITY " + oauth_caps + b"] Logged in\r\n"
                 b"* CAPABILITY " + oauth_caps + b"\r\n2 OK Capability completed.\r\n")
    challenge = b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NoZW1lcyI6ImJlYXJlciJ9\r\n"
    oauth = [
        (128, oauth_greeting + signed_in + ops[0]),
        (129, oauth_greeting + signed_in + ops[1]),
        (130, no_ir_greeting + b"+ \r\n" + signed_in + ops[0]),
        (131, oauth_greeting + challenge + b"1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
        (132, oauth_greeting + b"* CAPABILITY IMAP4rev1\r\n1 NO token password-never-in-errors refused\r\n"),
        # echoes the whole SASL response, which carries the token
        (132, oauth_greeting + b"1 BAD [CLIENTBUG] " + base64.b64encode(
            b"user=alice@example.test\x01auth=Bearer password-never-in-errors\x01\x01") + b"\r\n"),
        (134, GREETING + LOGIN),  # the server does not offer the mechanism
        (135, oauth_greeting + challenge + challenge * 10),
    ]
    seeds += [bytes([0x10, b]) + text for b, text in oauth]
    return seeds


def smtp_seeds():
    ehlo = (b"220 mail.example.test ESMTP Postfix\r\n250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
            b"250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
    auth = b"235 2.7.0 Authentication successful\r\n"
    send = (b"250 2.1.0 Ok\r\n" + b"250 2.1.5 Ok\r\n" * 4 + b"354 End data with <CR><LF>.<CR><LF>\r\n"
            b"250 2.0.0 Ok: queued as 4ABC\r\n221 2.0.0 Bye\r\n")
    return [
        bytes([1, 63]) + ehlo + auth + send,
        bytes([6, 0]) + ehlo + send,
        bytes([1, 3]) + ehlo + b"535 5.7.8 Error: authentication failed: password-never-in-errors\r\n",
        bytes([3, 63]) + ehlo + auth + b"250 Ok\r\n550 5.1.1 <bob@example.test>: Recipient address rejected\r\n"
        b"250 Ok\r\n554 5.5.1 Error: no valid recipients\r\n",
        bytes([0, 63]) + b"220 hi\r\n250 mail.example.test\r\n" + send,
        bytes([1, 63]) + b"220 hi\r\n502 5.5.2 Error: command not recognized\r\n250 hi\r\n" + send,
        bytes([1, 63]) + ehlo + b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" + auth + send,
        bytes([0, 1]) + b"554 5.7.1 no service here\r\n",
        bytes([0, 63]) + b"220-multi\r\n220-line\r\n220 greeting\r\n" + b"250-" + b"X" * 900 + b"\r\n250 OK\r\n" + send,
        bytes([0, 63]) + ehlo + b"250 Ok\r\n250 Ok\r\n354 go\r\n452 4.3.1 Insufficient system storage\r\n",
    ]


def mime_seeds(msgs):
    picked = []
    seen_types = set()
    for raw in msgs:
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        shape = tuple(p.get_content_type() for p in m.walk())
        if shape in seen_types or len(raw) > 12000:
            continue
        seen_types.add(shape)
        picked.append(raw)
    deep = b"".join(b"Content-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n--d%d\r\n" % (i, i) for i in range(30))
    many = (b"Content-Type: multipart/mixed; boundary=x\r\n\r\n" +
            b"--x\r\nContent-Type: text/plain\r\n\r\nt\r\n" * 150 + b"--x--\r\n")
    nested = (b"Content-Type: message/rfc822\r\n\r\n" * 25 + b"Subject: =?utf-8?Q?inner?=\r\n\r\ninner text\r\n")
    related = (b"Content-Type: multipart/related; boundary=r; type=\"text/html\"\r\n\r\n--r\r\n"
               b"Content-Type: text/html\r\n\r\n<p>" + b"<ul>" * 40 + b"<img src=cid:a>\r\n--r\r\n"
               b"Content-Type: image/png\r\nContent-ID: <a>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n")
    return picked[:36] + [deep, many, nested, related]


def tools_seeds():
    # (tool index in tool_catalogue order, arguments)
    args = [
        {"includeCounts": True},
        {"folder": "INBOX", "page": 2, "pageSize": 10, "includeBody": True},
        {"folder": "INBOX", "uid": 12, "offset": 0, "maxLength": 2000},
        {"folder": "INBOX", "uids": [1, 2, 3]},
        {"folder": "*", "query": "invoice", "from": "alice", "since": "2024-01-01", "before": "2024-12-31"},
        {"folder": "INBOX", "uid": 3, "destination": "Archive"},
        {"folder": "INBOX", "uids": [3, 4], "seen": True, "flagged": False},
        {"to": ["bob@example.test"], "cc": "Carol <carol@example.test>", "subject": "hi", "body": "text",
         "attachments": [{"filename": "a.txt", "contentType": "text/plain", "content": "aGk="}]},
        {"folder": "INBOX", "uid": 1},
        {"name": "Projekte/2024", "newName": "Archiv"},
        {"folder": "INBOX", "uid": 1, "partId": "2.1"},
        {"folder": "INBOX", "uid": 1, "body": "thanks", "replyAll": True, "to": "x@example.test"},
        {"cursor": "abc", "pageSize": 0},
        {"uid": -1}, {"uid": 4294967296}, {"folder": ""}, [], None, {"uids": list(range(150))},
    ]
    seeds = []
    for i in range(24):
        a = args[i % len(args)]
        seeds.append(bytes([i]) + (b"" if a is None else json.dumps(a).encode()))
    return seeds


def oauth_uri_seeds():
    return [b"https://app.example/cb", b"http://127.0.0.1:3000/callback", b"http://[::1]/cb", b"http://localhost:8080",
            b"com.example.app:/oauth", b"https://user@host/x", b"https://HOST.Example:443/", b"https://h:/x",
            b"http://127.0.0.1/cb\x00http://127.0.0.1:5555/cb", b"https://a.example/cb#frag",
            b"https://a.example/../x", b"no-store, max-age=60", b"max-age=99999999999999999999",
            b"https://a.example/m.json", "Claude \u202e\u0000 Desktop".encode()]


def client_metadata_seeds():
    url = "https://app.example/oauth/client.json"
    docs = [
        {"client_id": url, "client_name": "App", "redirect_uris": ["https://app.example/cb", "http://127.0.0.1/cb"],
         "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"]},
        {"client_id": url, "redirect_uris": []},
        {"client_id": url, "redirect_uris": ["javascript:alert(1)"]},
        {"client_id": url + "x", "redirect_uris": ["https://app.example/cb"]},
        {"client_id": url, "redirect_uris": ["https://a/cb"] * 11},
        {"client_id": url, "redirect_uris": ["https://a/cb"], "token_endpoint_auth_method": "client_secret_basic"},
    ]
    # The part after the newline is read as a registration request too.
    registrations = [
        {"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"], "client_name": "Claude",
         "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]},
        {"redirect_uris": ["http://127.0.0.1:33418/callback"], "grant_types": ["client_credentials"]},
        {"redirect_uris": ["https://a/cb"], "client_name": 7, "response_types": ["token"]},
    ]
    return ([url.encode() + b"\n" + json.dumps(d).encode() for d in docs + registrations]
            + [url.encode() + b"\n[" * 80])


def template_seeds():
    seeds = [b"\x00\x00<p>{{name}}</p>{{#items}}<li>{{.}}{{name}}</li>{{/items}}{{^empty}}none{{/empty}}",
             b"\x00\x00{{>layout}}{{! comment }}{{#flag}}yes{{/flag}}",
             b"\x00\x00{{{x}}}{{&x}}{{#a}}{{/b}}{{",
             b"\x00\x00" + b"{{#items}}" * 33 + b"x" + b"{{/items}}" * 33]
    for i in range(12):
        seeds.append(bytes([1, i]) + b"title=<script>alert(1)</script>\nerror=\"'&\nnotice=ok\n#accounts\n"
                     b"label=Work\nid=a1\n/\ncsrf=tok\nuser=alice@example.test\nflag\n")
    return seeds


def http_seeds():
    return [
        b"GET /dashboard?notice=welcome HTTP/1.1\r\nHost: p.example\r\nCookie: postern_session=abc; postern_csrf=x\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: p\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 33\r\n\r\n"
        b"email=a%40b.test&password=x+y&z=1",
        b"POST /mcp HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nAuthorization: Bearer t\r\n"
        b"Mcp-Session-Id: s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
        b"DELETE /mcp HTTP/1.1\r\nHost: p\r\n\r\nGET /static/app.css HTTP/1.1\r\nHost: p\r\n\r\n"
        b"OPTIONS /mcp HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n",
        b"PUT /oauth/token HTTP/1.1\r\nHost: p\r\n\r\n",
        b"HEAD /healthz HTTP/1.0\r\n\r\n",
        b"GET /accounts/a1/edit HTTP/1.1\r\nHost: p\r\nExpect: 100-continue\r\n\r\n",
        b"GET /../static/x HTTP/1.1\r\nHost: p\r\nContent-Length: 99999999999\r\n\r\n",
        b"GET /oauth/authorize?response_type=code&client_id=https%3A%2F%2Fa%2Fm.json&state=%zz HTTP/1.1\r\nHost: p\r\n\r\n",
        b"POST /tokens/abc/revoke HTTP/1.1\r\nHost: p\r\nContent-Length: 0\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
        # Forwarded chains: ports, brackets, mapped IPv6, quotes, junk hops.
        b"GET /mcp HTTP/1.1\r\nHost: p\r\nX-Forwarded-For: 203.0.113.9:5555, [2001:db8::7]:443, 10.0.0.2\r\n"
        b"X-Forwarded-For: ::ffff:10.9.8.7\r\nForwarded: for=\"[2001:db8::1]:80\";proto=https, for=unknown\r\n\r\n",
        b"GET / HTTP/1.1\r\nForwarded: by=10.0.0.1;FOR=192.0.2.60, for=_hidden;host=x\r\n"
        b"X-Forwarded-For: 300.1.1.1, fe80::1%eth0, \"127.0.0.1\"\r\n\r\n",
    ]


def resource_uri_seeds():
    base = b"postern://accounts/0f4c2a9e-1b7d-4e55-9a3c-5d2e8f6b7a10/folders/"
    return [
        base + b"INBOX/messages/1",
        base + b"INBOX/messages/4294967295/parts/2",
        base + b"Archive%2F2026%2FRechnungen%20f%C3%BCr%20M%C3%A4rz/messages/12/parts/1.2.3",
        base + b"100%25%20%26%20more%3F%23/messages/7",
        base + b"IN%ZZBOX/messages/1",
        base + b"INBOX%/messages/1",
        base + b"%FF%FE/messages/1",
        base + b"INBOX/messages/007",
        base + b"INBOX/messages/1/parts/1..2",
        base + b"INBOX/messages/1?x#y",
        b"postern://accounts/../folders/INBOX/messages/1",
        b"attachment:///1/2",
        b"",
    ]


def autoconfig_seeds():
    # The recorded SRV answer of tests/protocol/mail/autoconfig_test.cpp and
    # autoconfig documents (byte 0: even = DNS answer, odd = document).
    # The recorded answer itself lives in the unit test (one copy).
    test = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol",
                        "mail", "autoconfig_test.cpp")
    with open(test) as f:
        array = re.search(r"srv_answer\[\] = \{([^}]*)\}", f.read()).group(1)
    srv = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-f]{2}", array))
    doc = (b'<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="e.org">'
           b'<displayName>E</displayName><incomingServer type="imap"><hostname>imap.e.org</hostname>'
           b'<port>993</port><socketType>SSL</socketType><username>%EMAILLOCALPART%</username>'
           b'</incomingServer><outgoingServer type="smtp"><hostname>smtp.e.org</hostname><port>587</port>'
           b'<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username></outgoingServer>'
           b'</emailProvider></clientConfig>')
    return [b"\x00" + srv, b"\x01" + doc,
            b"\x01<!DOCTYPE x [<!ENTITY a \"aaaa\">]><clientConfig>&a;</clientConfig>",
            b"\x01" + b"<x>" * 40]


def targets(msgs):
    return {
        "resource_uri": resource_uri_seeds,
        "autoconfig": autoconfig_seeds,
        "imap": imap_seeds,
        "smtp": smtp_seeds,
        "mime": lambda: mime_seeds(msgs),
        "tools": tools_seeds,
        "oauth_uri": oauth_uri_seeds,
        "client_metadata": client_metadata_seeds,
        "template": template_seeds,
        "http": http_seeds,
    }
