#!/usr/bin/env python3
"""Minimal HTTP/3 server and client on aioquic, used by record.sh to record
real QUIC v1 conversations between the ev-cli and ev-srv namespaces.

  quic_h3.py server --cert C --key K --host ADDR --port 443
  quic_h3.py client --host ADDR --port 443 --sni blocked.example.test [--path /]

The client sends one GET, prints the status and body length, and closes the
connection (CONNECTION_CLOSE), so a recording holds a complete conversation.
Written for this project against aioquic's public API (asyncio.serve/connect,
H3Connection); nothing copied from aioquic's examples.
"""
import argparse
import asyncio
import ssl
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated

BODY = b"<!doctype html><p>blocked.example.test over HTTP/3</p>\n"


class ServerProto(QuicConnectionProtocol):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = None

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self.h3 = H3Connection(self._quic)
        if self.h3 is None:
            return
        for ev in self.h3.handle_event(event):
            if isinstance(ev, HeadersReceived) and ev.stream_ended:
                self.h3.send_headers(ev.stream_id, [
                    (b":status", b"200"), (b"server", b"aioquic-sift"),
                    (b"content-type", b"text/html"),
                    (b"content-length", str(len(BODY)).encode())])
                self.h3.send_data(ev.stream_id, BODY, end_stream=True)
        self.transmit()


class ClientProto(QuicConnectionProtocol):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = H3Connection(self._quic)
        self.done = asyncio.get_event_loop().create_future()
        self.status = None
        self.body = b""

    def quic_event_received(self, event):
        for ev in self.h3.handle_event(event):
            if isinstance(ev, HeadersReceived):
                self.status = dict(ev.headers).get(b":status")
                if ev.stream_ended and not self.done.done():
                    self.done.set_result(True)
            elif isinstance(ev, DataReceived):
                self.body += ev.data
                if ev.stream_ended and not self.done.done():
                    self.done.set_result(True)

    async def get(self, authority, path):
        sid = self._quic.get_next_available_stream_id()
        self.h3.send_headers(sid, [
            (b":method", b"GET"), (b":scheme", b"https"),
            (b":authority", authority.encode()), (b":path", path.encode()),
            (b"user-agent", b"sift-evasion/1.0 (aioquic)")], end_stream=True)
        self.transmit()
        await asyncio.wait_for(self.done, 10)


async def run_server(args):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    cfg.load_cert_chain(args.cert, args.key)
    await serve(args.host, args.port, configuration=cfg, create_protocol=ServerProto)
    print("listening", args.host, args.port, flush=True)
    await asyncio.Future()


async def run_client(args):
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    cfg.server_name = args.sni
    cfg.verify_mode = ssl.CERT_NONE
    async with connect(args.host, args.port, configuration=cfg,
                       create_protocol=ClientProto) as proto:
        await proto.get(args.sni, args.path)
        print("status", proto.status.decode() if proto.status else None,
              "body", len(proto.body), flush=True)
        proto.close()
        await proto.wait_closed()
    return 0 if proto.status == b"200" else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--sni", default="blocked.example.test")
    p.add_argument("--path", default="/")
    args = p.parse_args()
    if args.role == "server":
        asyncio.run(run_server(args))
        return 0
    return asyncio.run(run_client(args))


if __name__ == "__main__":
    sys.exit(main())
