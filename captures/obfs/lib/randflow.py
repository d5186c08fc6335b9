#!/usr/bin/env python3
"""Negative control: uniformly random bytes over TCP and UDP (no protocol at all).

  randflow.py server --ports 443,53,1194,51820,8388,47123 [--bind ::]
  randflow.py client --host 10.210.0.2 --ports ... --tcp-flows 2 --udp-flows 2 [--rounds 3]

Server: on every TCP port it accepts connections; for each chunk received it answers with
os.urandom(N), N uniform in 40..1400; closes when the client closes.  On every UDP port
it answers each datagram with os.urandom(N), N uniform in 40..1200.
Client: per port and flow, a new socket (new source port); `rounds` times it sends
os.urandom(N) (N uniform in 60..1400 for TCP, 40..1200 for UDP) and reads the answer;
then closes (TCP FIN).  Nothing in any payload is structured.
"""
import argparse, os, random, selectors, socket, sys, threading, time


def serve_tcp(sock):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()


def tcp_conn(c):
    with c:
        while True:
            d = c.recv(65535)
            if not d:
                return
            c.sendall(os.urandom(random.randint(40, 1400)))


def serve_udp(sock):
    while True:
        d, peer = sock.recvfrom(65535)
        sock.sendto(os.urandom(random.randint(40, 1200)), peer)


def server(a):
    ths = []
    for p in a.ports:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        t.bind((a.bind, p)); t.listen(16)
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        u.bind((a.bind, p))
        for fn, s in ((serve_tcp, t), (serve_udp, u)):
            th = threading.Thread(target=fn, args=(s,), daemon=True); th.start(); ths.append(th)
    print("listening", a.ports, flush=True)
    while True:
        time.sleep(3600)


def client(a):
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    for p in a.ports:
        for _ in range(a.tcp_flows):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect((a.host, p))
            for _ in range(a.rounds):
                s.sendall(os.urandom(random.randint(60, 1400)))
                s.recv(65535)
                time.sleep(0.05)
            s.close()
            time.sleep(0.1)
        for _ in range(a.udp_flows):
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.settimeout(5)
            for _ in range(a.rounds):
                u.sendto(os.urandom(random.randint(40, 1200)), (a.host, p))
                u.recvfrom(65535)
                time.sleep(0.05)
            u.close()
            time.sleep(0.1)
        print("port %d done" % p, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--ports", type=lambda s: [int(x) for x in s.split(",")], required=True)
    ap.add_argument("--bind", default="::")
    ap.add_argument("--host")
    ap.add_argument("--tcp-flows", type=int, default=2)
    ap.add_argument("--udp-flows", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    server(a) if a.mode == "server" else client(a)


if __name__ == "__main__":
    main()
