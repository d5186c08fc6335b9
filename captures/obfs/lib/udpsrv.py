#!/usr/bin/env python3
"""Tiny UDP services for the "destination" namespace (ob-web).

  udpsrv.py --dns ADDR:PORT [--echo ADDR:PORT]

--dns  : answers DNS queries: type A -> 10.210.1.2 (TTL 60), anything else -> NOERROR, no answer.
--echo : echoes every datagram back unchanged.
Runs until killed.  Only used as the far end of UDP relays (SOCKS5 UDP ASSOCIATE) so that
the proxies have something real to carry.
"""
import argparse, selectors, socket, struct

ANSWER_IP = bytes([10, 210, 1, 2])


def parse_addr(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def dns_reply(q):
    if len(q) < 12:
        return None
    qid, flags, qd, _an, _ns, _ar = struct.unpack("!HHHHHH", q[:12])
    if qd != 1:
        return None
    i = 12
    while i < len(q) and q[i] != 0:
        i += 1 + q[i]
    i += 1
    if i + 4 > len(q):
        return None
    qtype, qclass = struct.unpack("!HH", q[i:i + 4])
    question = q[12:i + 4]
    rd = flags & 0x0100
    hdr_flags = 0x8000 | 0x0400 | rd | 0x0080  # QR, AA, RD copied, RA
    if qtype == 1 and qclass == 1:
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ANSWER_IP
        return struct.pack("!HHHHHH", qid, hdr_flags, 1, 1, 0, 0) + question + ans
    return struct.pack("!HHHHHH", qid, hdr_flags, 1, 0, 0, 0) + question


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dns", action="append", default=[])
    ap.add_argument("--echo", action="append", default=[])
    a = ap.parse_args()
    sel = selectors.DefaultSelector()
    for kind, lst in (("dns", a.dns), ("echo", a.echo)):
        for spec in lst:
            host, port = parse_addr(spec)
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            sel.register(s, selectors.EVENT_READ, kind)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            data, peer = s.recvfrom(65535)
            out = dns_reply(data) if key.data == "dns" else data
            if out:
                s.sendto(out, peer)


if __name__ == "__main__":
    main()
