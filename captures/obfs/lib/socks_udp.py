#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE client (RFC 1928), used to push UDP through a local proxy client
(ss-local -u, sing-box "mixed" inbound).

  socks_udp.py --proxy 127.0.0.1:1080 --target 10.210.1.2:53 --dns NAME [--dns NAME ...]
  socks_udp.py --proxy 127.0.0.1:1080 --target 10.210.1.2:7777 --echo N --size BYTES

Keeps the TCP control connection open while the datagrams flow.  Prints one line per
answer; exit status 0 if every datagram got an answer, 1 otherwise.
"""
import argparse, ipaddress, os, random, socket, struct, sys, time


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h.strip("[]"), int(p)


def dns_query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--dns", action="append", default=[])
    ap.add_argument("--echo", type=int, default=0)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--gap", type=float, default=0.2)
    a = ap.parse_args()
    ph, pp = hostport(a.proxy)
    th, tp = hostport(a.target)
    ctl = socket.create_connection((ph, pp), timeout=10)
    ctl.sendall(b"\x05\x01\x00")
    if ctl.recv(2) != b"\x05\x00":
        sys.exit("proxy refused no-auth")
    ctl.sendall(b"\x05\x03\x00\x01" + bytes(4) + b"\x00\x00")
    rep = ctl.recv(262)
    if len(rep) < 10 or rep[1] != 0:
        sys.exit("UDP ASSOCIATE refused: %r" % rep)
    if rep[3] == 1:
        rh = str(ipaddress.IPv4Address(rep[4:8])); rp = struct.unpack("!H", rep[8:10])[0]
    elif rep[3] == 4:
        rh = str(ipaddress.IPv6Address(rep[4:20])); rp = struct.unpack("!H", rep[20:22])[0]
    else:
        n = rep[4]; rh = rep[5:5 + n].decode(); rp = struct.unpack("!H", rep[5 + n:7 + n])[0]
    if rh in ("0.0.0.0", "::"):
        rh = ph
    u = socket.socket(socket.AF_INET6 if ":" in rh else socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    hdr = b"\x00\x00\x00\x01" + ipaddress.IPv4Address(th).packed + struct.pack("!H", tp)
    payloads = [dns_query(n, random.randrange(65536)) for n in a.dns]
    payloads += [os.urandom(a.size) for _ in range(a.echo)]
    ok = 0
    for p in payloads:
        u.sendto(hdr + p, (rh, rp))
        try:
            data, _ = u.recvfrom(65535)
            body = data[10:]
            print("answer %d bytes (sent %d)" % (len(body), len(p)))
            ok += 1
        except socket.timeout:
            print("no answer (sent %d)" % len(p))
        time.sleep(a.gap)
    ctl.close()
    sys.exit(0 if ok == len(payloads) else 1)


if __name__ == "__main__":
    main()
