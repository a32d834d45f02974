# SPDX-License-Identifier: Apache-2.0
"""A DNS server on 127.0.0.1 for tests (UDP, a random port) answering SRV
and A queries from tables; every other name is NXDOMAIN. Enough of RFC 1035 for
a stub resolver: one question, answers with a pointer to it, SRV rdata per
RFC 2782 (targets uncompressed). Counts the queries it saw."""
import socket
import struct
import threading


def encode_name(name):
    out = b""
    for label in filter(None, name.rstrip(".").split(".")):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"  # the root ("." alone is just this)


class FakeDNS:
    def __init__(self, records, addresses=None):
        # name (lower case, no trailing dot) -> [(priority, weight, port, target)]
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        # name -> ["192.0.2.1", ...] (A records)
        self.addresses = {k.lower().rstrip("."): v
                          for k, v in (addresses or {}).items()}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()

    def serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(data), peer)
            except (OSError, ValueError, IndexError, struct.error):
                continue

    def answer(self, q):
        qid, flags, qd = struct.unpack(">HHH", q[:6])
        pos, labels = 12, []
        while q[pos]:
            n = q[pos]
            labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        pos += 1
        qtype, qclass = struct.unpack(">HH", q[pos:pos + 4])
        question = q[12:pos + 4]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        known = name in self.records or name in self.addresses
        rdatas = []
        if qtype == 33:
            for prio, weight, port, target in self.records.get(name, []):
                rdatas.append(struct.pack(">HHH", prio, weight, port) + encode_name(target))
        elif qtype == 1:
            for a in self.addresses.get(name, []):
                rdatas.append(socket.inet_aton(a))
        rcode = 0 if known else 3
        header = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode,
                             1, len(rdatas), 0, 0)
        answers = b""
        for rdata in rdatas:
            answers += struct.pack(">HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata
        return header + question + answers
