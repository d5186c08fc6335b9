#!/usr/bin/env python3
"""EMULATION of a Reality-like server's visible behaviour, for
record_reality_like.sh: a TLS 1.3 server for the claimed name with a
throw-away self-signed Ed25519 certificate and session tickets off (as a
REALITY server runs), relaying each accepted connection's plaintext to an
upstream proxy. Not REALITY itself (no client authentication, no relay of
strangers to the real site).

usage: reality_like_server.py ADDR PORT CERT KEY UPSTREAM_ADDR UPSTREAM_PORT
"""
import socket
import ssl
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, ctx, upstream):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake failed:", e, flush=True)
        conn.close()
        return
    up = socket.create_connection(upstream)
    threading.Thread(target=pipe, args=(up, tls), daemon=True).start()
    pipe(tls, up)


def main():
    addr, port, cert, key, uaddr, uport = sys.argv[1:7]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.num_tickets = 0
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    srv = socket.create_server((addr, int(port)))
    print("listening", addr, port, flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, ctx, (uaddr, int(uport))), daemon=True).start()


if __name__ == "__main__":
    main()
