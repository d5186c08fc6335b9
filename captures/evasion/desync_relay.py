#!/usr/bin/env python3
"""Socket-level desync relay (what tpws / ByeDPI do, re-implemented from their
public documentation, no code taken from them), used by record.sh to record
REAL Linux-stack versions of the socket-level techniques.

It listens on LISTEN_ADDR:LISTEN_PORT inside the client namespace; curl is
pointed at it with --connect-to.  For each connection it connects to the
server, reads the client's first message (one whole TLS record, or an HTTP
request up to the blank line), sends it to the server in a modified way, then
relays both directions unchanged.

Modes (--mode):
  split      send the message in pieces cut at --pos (TCP_NODELAY, one send()
             per piece, 20 ms apart, so the kernel puts each in its own segment)
  oob        like ByeDPI --oob / tpws --oob: the first piece is sent with
             send(MSG_OOB) with one extra byte (--oob-byte) appended; Linux sets
             URG and the urgent pointer, the extra byte takes one sequence
             number and the receiving kernel removes it from the stream
  tlsrec     like tpws --tlsrec / ByeDPI --tlsrec: the TLS record is cut into
             two records at --pos (a new 5-byte header inserted), sent in one send()
  tlsrec-split  the same two records, each in its own send()/segment

--pos takes comma-separated positions: an integer, or sni[+N|-N] (start of the
host name in the SNI extension / after "Host: "), midsld (middle of the
second-level label of the name).
"""
import argparse
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_evasion import name_positions  # noqa: E402


def read_first_message(c):
    buf = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            return buf
        buf += chunk
        if buf[:1] == b"\x16" and len(buf) >= 5:
            need = 5 + int.from_bytes(buf[3:5], "big")
            if len(buf) >= need:
                return buf
        elif b"\r\n\r\n" in buf:
            return buf


def resolve(positions, msg):
    marks = name_positions(msg)
    out = []
    for p in positions.split(","):
        base, off = p, 0
        for sign in "+-":
            if sign in p[1:]:
                base, o = p.split(sign, 1)
                off = int(o) if sign == "+" else -int(o)
        if base.lstrip("-").isdigit():
            out.append(int(base) + off)
        else:
            out.append(marks[base] + off)
    return sorted(set(x for x in out if 0 < x < len(msg)))


def pump(a, b):
    try:
        while True:
            r, _, _ = select.select([a], [], [], 30)
            if not r:
                break
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def handle(c, args):
    fam = socket.AF_INET6 if ":" in args.target else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((args.target, args.target_port))
    msg = read_first_message(c)
    pos = resolve(args.pos, msg)
    if args.mode == "split":
        cuts = [0] + pos + [len(msg)]
        for i in range(len(cuts) - 1):
            s.send(msg[cuts[i]:cuts[i + 1]])
            time.sleep(0.02)
    elif args.mode == "oob":
        p = pos[0]
        s.send(msg[:p] + args.oob_byte, socket.MSG_OOB)
        time.sleep(0.02)
        s.sendall(msg[p:])
    elif args.mode in ("tlsrec", "tlsrec-split"):
        assert msg[0] == 0x16
        body = msg[5:]
        p = pos[0] - 5   # position given in message coordinates
        r1 = msg[:3] + p.to_bytes(2, "big") + body[:p]
        r2 = msg[:3] + (len(body) - p).to_bytes(2, "big") + body[p:]
        if args.mode == "tlsrec":
            s.sendall(r1 + r2)
        else:
            s.send(r1)
            time.sleep(0.02)
            s.sendall(r2)
    sys.stderr.write("relay: %s %d bytes at %s\n" % (args.mode, len(msg), pos))
    t = threading.Thread(target=pump, args=(s, c), daemon=True)
    t.start()
    pump(c, s)
    t.join(5)
    c.close()
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--mode", required=True, choices=["split", "oob", "tlsrec", "tlsrec-split"])
    ap.add_argument("--pos", required=True)
    ap.add_argument("--oob-byte", default="a", type=lambda x: x.encode("latin1")[:1])
    args = ap.parse_args()
    fam = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.listen, args.listen_port))
    ls.listen(8)
    print("relay listening", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c, args), daemon=True).start()


if __name__ == "__main__":
    main()
