#!/usr/bin/env python3
"""MTProto transport test client + stand-in server (written from core.telegram.org's
"MTProto transports" and "Transport obfuscation" pages; FakeTLS from the MTProxy scheme as
described in README.md).  Test material for sift: NOT a Telegram implementation.

Client:
  mtproto.py client --transport abridged|intermediate|padded \
                    --wrap plain|obfuscated2|secret|faketls \
                    --host H --port P [--secret HEX16] [--domain D] [--dc 2] [--rounds 3]
Stand-in server (speaks every transport, plain or obfuscated2 without proxy secret):
  mtproto.py server --bind 10.210.0.2 --ports 443,80,5222

What goes over the wire (client side), see README.md "MTProto" for the full description:
 plain        : tag (ef | eeeeeeee | dddddddd) once, then framed MTProto messages
 obfuscated2  : 64-byte init (bytes 56..60 = tag, 60..62 = DC id, encrypted with
                AES-256-CTR key=init[8:40], iv=init[40:56]; bytes 0..56 sent as generated,
                56..64 sent encrypted), then framed messages encrypted with the same CTR
                stream; server->client uses key/iv from the reversed init[8:56]
 secret       : as obfuscated2 but key = SHA256(init[8:40] + secret) for both directions
                (MTProxy "dd" secret -> padded intermediate)
 faketls      : 517-byte TLS 1.3-looking ClientHello whose 32-byte random is
                HMAC-SHA256(secret, hello-with-zero-random) XOR (28 zero bytes || LE32 unix
                time); after the server flight: ChangeCipherSpec record + application-data
                records carrying the "secret" stream above.
Message script: req_pq_multi (40 bytes) -> resPQ (84), a 340-byte unencrypted message shaped
like req_DH_params -> 652-byte server_DH_params-shaped answer, 396-byte set_client_DH_params
shape -> 72-byte dh_gen_ok shape, then `rounds` "encrypted message"-shaped exchanges
(8-byte auth_key_id, 16-byte msg_key, 16*n random bytes).  Bodies after req_pq_multi/resPQ
are random filler of the real sizes (no RSA/DH is done).
"""
import argparse, hashlib, hmac, os, random, socket, struct, sys, threading, time
from Crypto.Cipher import AES

TAGS = {"abridged": b"\xef\xef\xef\xef", "intermediate": b"\xee\xee\xee\xee",
        "padded": b"\xdd\xdd\xdd\xdd"}
FORBIDDEN_START = [b"HEAD", b"POST", b"GET ", b"OPTI", b"\x16\x03\x01\x02",
                   b"\xdd\xdd\xdd\xdd", b"\xee\xee\xee\xee"]


def ctr(key, iv):
    return AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=iv)


class Ident:
    def encrypt(self, b):
        return b
    decrypt = encrypt


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


# ---------------------------------------------------------------- framing
def frame(transport, payload):
    if transport == "abridged":
        n = len(payload) // 4
        hdr = bytes([n]) if n < 0x7f else b"\x7f" + n.to_bytes(3, "little")
        return hdr + payload
    if transport == "intermediate":
        return struct.pack("<I", len(payload)) + payload
    pad = os.urandom(random.randint(0, 15))
    return struct.pack("<I", len(payload) + len(pad)) + payload + pad


def read_frame(transport, rd):
    """rd(n) returns n decrypted bytes"""
    if transport == "abridged":
        b = rd(1)[0]
        n = int.from_bytes(rd(3), "little") if b == 0x7f else b
        return rd(n * 4)
    n = struct.unpack("<I", rd(4))[0] & 0x7fffffff
    return rd(n)


# ---------------------------------------------------------------- message shapes
def msg_id(server=False):
    t = time.time()
    mid = (int(t) << 32) | (int((t % 1) * 2**32) & 0xfffffffc)
    return mid | (1 if server else 0)


def unenc(body, server=False):
    return bytes(8) + struct.pack("<QI", msg_id(server), len(body)) + body


def tl_bytes(b):
    if len(b) < 254:
        r = bytes([len(b)]) + b
    else:
        r = b"\xfe" + len(b).to_bytes(3, "little") + b
    return r + bytes(-len(r) % 4)


def req_pq_multi(nonce):
    return unenc(struct.pack("<I", 0xbe7e8ef1) + nonce)                         # 40 bytes


def res_pq(nonce):
    body = struct.pack("<I", 0x05162463) + nonce + os.urandom(16)
    body += tl_bytes(os.urandom(8)) + struct.pack("<II", 0x1cb5c415, 1) + os.urandom(8)
    return unenc(body, server=True)                                                # 84 bytes


def req_dh_params(nonce):
    body = struct.pack("<I", 0xd712e4be) + nonce + os.urandom(16)
    body += tl_bytes(os.urandom(4)) + tl_bytes(os.urandom(4)) + os.urandom(8)
    body += tl_bytes(os.urandom(256))
    return unenc(body)                                                             # 340


def server_dh_params(nonce):
    body = struct.pack("<I", 0xd0e8075c) + nonce + os.urandom(16) + tl_bytes(os.urandom(592))
    return unenc(body, server=True)                                                # 652


def set_client_dh(nonce):
    body = struct.pack("<I", 0xf5045f1f) + nonce + os.urandom(16) + tl_bytes(os.urandom(336))
    return unenc(body)                                                             # 396


def dh_gen_ok(nonce):
    return unenc(struct.pack("<I", 0x3bcbf734) + nonce + os.urandom(32), server=True)  # 72


def encrypted_msg(auth_key_id, blocks):
    return auth_key_id + os.urandom(16) + os.urandom(16 * blocks)


# ---------------------------------------------------------------- obfuscated2 init
def make_init(tag, dc, secret=None):
    while True:
        init = bytearray(os.urandom(64))
        if init[0] == 0xef or bytes(init[:4]) in FORBIDDEN_START or init[4:8] == bytes(4):
            continue
        break
    init[56:60] = tag
    init[60:62] = struct.pack("<h", dc)
    init = bytes(init)
    ek, eiv = init[8:40], init[40:56]
    rev = init[8:56][::-1]
    dk, div = rev[:32], rev[32:48]
    if secret:
        ek = hashlib.sha256(ek + secret).digest()
        dk = hashlib.sha256(dk + secret).digest()
    enc, dec = ctr(ek, eiv), ctr(dk, div)
    encrypted = enc.encrypt(init)
    wire = init[:56] + encrypted[56:64]
    return wire, enc, dec


# ---------------------------------------------------------------- FakeTLS ClientHello
def grease():
    g = random.randrange(16)
    return bytes([g * 16 + 0x0a, g * 16 + 0x0a])


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def fake_tls_hello(secret, domain):
    g1, g2, g3, g4 = grease(), grease(), grease(), grease()
    suites = g1 + bytes.fromhex("130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035")
    sni = domain.encode()
    exts = ext(int.from_bytes(g2, "big"), b"")
    exts += ext(0x0000, struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni)   # server_name
    exts += ext(0x0017, b"")                                                       # ems
    exts += ext(0xff01, b"\x00")                                                   # reneg info
    exts += ext(0x000a, struct.pack("!H", 8) + g3 + bytes.fromhex("001d00170018"))  # groups
    exts += ext(0x000b, b"\x01\x00")                                               # ec formats
    exts += ext(0x0023, b"")                                                       # ticket
    alpn = b"\x02h2\x08http/1.1"
    exts += ext(0x0010, struct.pack("!H", len(alpn)) + alpn)                       # ALPN
    exts += ext(0x0005, b"\x01\x00\x00\x00\x00")                                   # status_req
    sig = bytes.fromhex("040308040401050308050501080606 01".replace(" ", ""))
    exts += ext(0x000d, struct.pack("!H", len(sig)) + sig)                         # sig algs
    exts += ext(0x0012, b"")                                                       # SCT
    ks = g3 + b"\x00\x01\x00" + b"\x00\x1d\x00\x20" + os.urandom(32)
    exts += ext(0x0033, struct.pack("!H", len(ks)) + ks)                           # key_share
    exts += ext(0x002d, b"\x01\x01")                                               # psk modes
    exts += ext(0x002b, b"\x06" + g4 + b"\x03\x04\x03\x03")                        # versions
    exts += ext(0x001b, b"\x02\x00\x02")                                           # compress cert
    exts += ext(int.from_bytes(grease(), "big"), b"\x00")
    body_wo_ext = b"\x03\x03" + bytes(32) + b"\x20" + os.urandom(32)
    body_wo_ext += struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    # handshake body must be 508 bytes (record 512, total 517): fill with padding ext (21)
    pad_len = 508 - (len(body_wo_ext) + 2 + len(exts)) - 4
    assert pad_len >= 0, pad_len
    exts += ext(0x0015, bytes(pad_len))
    hs_body = body_wo_ext + struct.pack("!H", len(exts)) + exts
    assert len(hs_body) == 508
    hello = b"\x16\x03\x01\x02\x00" + b"\x01" + len(hs_body).to_bytes(3, "big") + hs_body
    assert len(hello) == 517
    mac = hmac.new(secret, hello, hashlib.sha256).digest()
    ts = struct.pack("<I", int(time.time()))
    rnd = mac[:28] + bytes(a ^ b for a, b in zip(mac[28:], ts))
    return hello[:11] + rnd + hello[43:], rnd


def read_record(s):
    hdr = recv_exact(s, 5)
    return hdr, recv_exact(s, struct.unpack("!H", hdr[3:5])[0])


# ---------------------------------------------------------------- client
def client(a):
    secret = bytes.fromhex(a.secret) if a.secret else None
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tag = TAGS[a.transport]
    enc = dec = Ident()
    rbuf = bytearray()
    tls = a.wrap == "faketls"
    first = b""
    if a.wrap == "plain":
        first = tag[:1] if a.transport == "abridged" else tag
    elif a.wrap in ("obfuscated2", "secret", "faketls"):
        first, enc, dec = make_init(tag, a.dc, secret if a.wrap != "obfuscated2" else None)
    if tls:
        hello, crandom = fake_tls_hello(secret, a.domain)
        s.sendall(hello)
        flight = b""
        types = []
        while 0x17 not in types:
            hdr, body = read_record(s)
            types.append(hdr[0]); flight += hdr + body
        zeroed = flight[:11] + bytes(32) + flight[43:]
        good = hmac.new(secret, crandom + zeroed, hashlib.sha256).digest() == flight[11:43]
        print("faketls: server flight %d bytes, record types %s, server-random HMAC %s"
              % (len(flight), types, "OK" if good else "MISMATCH"), flush=True)

    def send(payload, prefix=b""):
        data = prefix + enc.encrypt(frame(a.transport, payload))
        if tls:
            out = b""
            if prefix:                       # first application data: CCS record first
                out += b"\x14\x03\x03\x00\x01\x01"
            for i in range(0, len(data), 16384):
                chunk = data[i:i + 16384]
                out += b"\x17\x03\x03" + struct.pack("!H", len(chunk)) + chunk
            data = out
        s.sendall(data)

    def rd(n):
        while len(rbuf) < n:
            if tls:
                hdr, body = read_record(s)
                if hdr[0] != 0x17:
                    continue
                rbuf.extend(dec.decrypt(body))
            else:
                d = s.recv(65536)
                if not d:
                    raise EOFError("closed by server")
                rbuf.extend(dec.decrypt(d))
        out = bytes(rbuf[:n]); del rbuf[:n]
        return out

    nonce = os.urandom(16)
    script = [req_pq_multi(nonce), req_dh_params(nonce), set_client_dh(nonce)]
    akid = os.urandom(8)
    script += [encrypted_msg(akid, random.randint(3, 40)) for _ in range(a.rounds)]
    try:
        for i, m in enumerate(script):
            send(m, first if i == 0 else b"")
            ans = read_frame(a.transport, rd)
            print("sent %d-byte message, got %d-byte answer" % (len(m), len(ans)), flush=True)
            time.sleep(0.05)
    except (EOFError, ConnectionResetError, socket.timeout) as e:
        print("server ended the exchange: %s: %s" % (type(e).__name__, e), flush=True)
        s.close()
        return 0 if a.expect_close else 1
    s.close()
    return 0


# ---------------------------------------------------------------- stand-in server
def serve_conn(c, peer):
    c.settimeout(30)
    rbuf = bytearray()
    try:
        b0 = recv_exact(c, 1)
        enc = dec = Ident()
        if b0 == b"\xef":
            transport, what = "abridged", "plain"
        else:
            b4 = b0 + recv_exact(c, 3)
            if b4 == TAGS["intermediate"]:
                transport, what = "intermediate", "plain"
            elif b4 == TAGS["padded"]:
                transport, what = "padded", "plain"
            else:
                init = b4 + recv_exact(c, 60)
                rev = init[8:56][::-1]
                dec = ctr(init[8:40], init[40:56])       # client's encrypt stream
                enc = ctr(rev[:32], rev[32:48])
                tag = dec.decrypt(init)[56:60]
                transport = {v: k for k, v in TAGS.items()}.get(tag)
                what = "obfuscated2"
                if transport is None:
                    print("%s: bad obfuscated2 tag %s" % (peer, tag.hex()), flush=True)
                    return

        def rd(n):
            while len(rbuf) < n:
                d = c.recv(65536)
                if not d:
                    raise EOFError
                rbuf.extend(dec.decrypt(d))
            out = bytes(rbuf[:n]); del rbuf[:n]
            return out

        i = 0
        while True:
            m = read_frame(transport, rd)
            nonce = m[24:40] if len(m) >= 40 else os.urandom(16)
            if i == 0:
                r = res_pq(nonce)
            elif i == 1:
                r = server_dh_params(nonce)
            elif i == 2:
                r = dh_gen_ok(nonce)
            else:
                r = encrypted_msg(m[:8], random.randint(2, 60))
            c.sendall(enc.encrypt(frame(transport, r)))
            i += 1
    except (EOFError, ConnectionResetError, socket.timeout):
        pass
    finally:
        print("%s: %s %s, %d messages" % (peer, locals().get("what"), locals().get("transport"),
                                          locals().get("i", 0)), flush=True)
        c.close()


def server(a):
    for p in a.ports:
        fam = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, p)); ls.listen(16)

        def loop(ls=ls):
            while True:
                c, peer = ls.accept()
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(target=serve_conn, args=(c, peer), daemon=True).start()
        threading.Thread(target=loop, daemon=True).start()
    print("listening on", a.ports, flush=True)
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["client", "server"])
    ap.add_argument("--transport", choices=list(TAGS), default="abridged")
    ap.add_argument("--wrap", choices=["plain", "obfuscated2", "secret", "faketls"],
                    default="plain")
    ap.add_argument("--host"); ap.add_argument("--port", type=int)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--ports", type=lambda s: [int(x) for x in s.split(",")], default=[443])
    ap.add_argument("--secret"); ap.add_argument("--domain", default="www.example.test")
    ap.add_argument("--dc", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--expect-close", action="store_true",
                    help="exit 0 when the server closes early (mtprotoproxy cannot reach Telegram)")
    a = ap.parse_args()
    sys.exit(client(a) if a.mode == "client" else server(a))


if __name__ == "__main__":
    main()
