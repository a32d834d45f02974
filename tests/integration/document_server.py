# SPDX-License-Identifier: Apache-2.0
"""An HTTPS document server on 127.0.0.1 for tests, with its own CA: client
metadata documents (oauth_test) and mail autoconfig documents
(provider_oauth_test)."""
import http.server
import json
import os
import ssl
import subprocess
import threading
import time

# The OAuth tests' redirect URI (oauth_test.CALLBACK), document()'s default.
CALLBACK = "https://claude.ai/api/mcp/auth_callback"


def make_test_ca(tmp, names=()):
    """A CA and a certificate for 127.0.0.1 (and the DNS `names`) signed by
    it (openssl CLI): (CA file, certificate file, key file)."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=tmp, check=True,
                       capture_output=True, timeout=60)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Postern CIMD test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "srv.ext"), "w") as f:
        alt = ",".join(["IP:127.0.0.1"] + ["DNS:" + n for n in names])
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=CA:FALSE\n" % alt)
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "srv.ext")
    return os.path.join(tmp, "ca.pem"), os.path.join(tmp, "srv.pem"), os.path.join(tmp, "srv.key")


class DocumentServer:
    """An HTTPS server on 127.0.0.1 serving documents, good and bad (client
    metadata, mail autoconfig); counts the requests per path and keeps the
    Host header of each."""

    def __init__(self, cert, key):
        self.hits = {}
        self.hosts = []  # (Host header, path) per request
        self.docs = {}  # path -> (status, headers, body bytes, delay seconds)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                outer.hosts.append((self.headers.get("Host", ""), self.path))
                status, headers, body, delay = outer.docs.get(
                    self.path, (404, {}, b"{}", 0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def serve(self, path, doc=None, status=200, headers=None, body=None, delay=0):
        if body is None:
            body = json.dumps(doc).encode()
        elif isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.docs[path] = (status, h, body, delay)
        return self.url(path)

    def document(self, path, name="Metadata app", redirect_uris=None, **extra):
        """A client metadata document for the client_id at `path`."""
        doc = {"client_id": self.url(path), "client_name": name,
               "redirect_uris": redirect_uris or [CALLBACK]}
        doc.update(extra)
        return doc

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
