#!/usr/bin/env python3
"""Generator of the EMULATED evasion captures of captures/evasion/ (emu-*.pcap)
and of expected.csv.

It reads the real base conversations recorded by record.sh (base-*.pcap: curl
TLS 1.2 / TLS 1.3, Chromium TLS 1.3 with X25519MLKEM768, curl plain HTTP,
aioquic QUIC v1; IPv4 and IPv6) and rewrites each into what a desync tool
(zapret nfqws/tpws, GoodbyeDPI, ByeDPI) would put on the wire, as described in
their public documentation (see README.md).  Nothing is copied from those
tools; every packet is built here with struct (dpkt only reads and writes the
pcap files).

What changes and what stays:
  * the handshake (SYN, SYN/ACK, ACK) and everything the server sends after
    the client's first message are the real packets of the base recording;
  * the client's first message (TLS ClientHello, HTTP request, QUIC Initial
    datagram) is re-sent the way the technique says (pieces, order, fakes,
    extra headers, fragments);
  * the server's ACKs during the first message are regenerated from a model of
    a Linux receiver (quick ACKs, duplicate ACKs with SACK blocks for
    out-of-order data, duplicate ACKs for out-of-window / PAWS-failing fakes,
    silence for fakes dropped by checksum / MD5 option / missing ACK flag /
    TTL / two hop-by-hop headers);
  * if the technique changes the length of the client's byte stream (OOB byte,
    extra TLS record header, edited HTTP headers), later client sequence
    numbers and server ACK numbers are shifted by that amount;
  * all checksums are recomputed (IPv4 header, TCP/UDP with pseudo-header);
    only the techniques that call for a bad checksum get one;
  * server packets get TTL / hop limit 64-9 = 55 (the emulated server is 9
    hops away, so a decoy with TTL 4 would expire before reaching it); client
    packets keep 64 unless the technique lowers it; IPv4 IDs are renumbered
    per direction in sending order (fakes take IDs like any other packet);
  * timestamps: technique packets 40 us apart (longer where the tool waits),
    server ACKs one base round-trip later, the rest of the base conversation
    shifted to follow.

Deterministic: all random choices come from random.Random seeded with
SEED ^ crc32(capture name).  Same base-*.pcap in -> same bytes out.

  python3 make_evasion.py --dir captures/evasion        # writes emu-*.pcap + expected.csv
  python3 make_evasion.py --dir captures/evasion --list # only print the plan
"""
import argparse
import copy
import csv
import io
import os
import random
import struct
import sys
import zlib

SEED = 0x51F7E5A1
REAL = "blocked.example.test"
DECOY = "www.decoy.test"
HOPS = 9
FAKE_TTL = 4
GAP = 40e-6

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


# ============================================================ checksums
def csum16(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def l4_checksum(v, src, dst, proto, seg):
    if v == 4:
        ph = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        ph = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum16(ph + seg)


# ============================================================ TLS / HTTP / QUIC helpers
def varint(n):
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return struct.pack("!H", 0x4000 | n)
    if n < 0x40000000:
        return struct.pack("!I", 0x80000000 | n)
    return struct.pack("!Q", 0xC000000000000000 | n)


def tls_sni_offsets(msg):
    """(sniext, host, hostlen) in message coordinates (0 = first byte of the
    TLS record header), or None.  Only the first record is parsed; enough
    of it must be present."""
    try:
        if msg[0] != 0x16 or msg[5] != 0x01:
            return None
        p = 5 + 4 + 2 + 32
        p += 1 + msg[p]
        p += 2 + struct.unpack("!H", msg[p:p + 2])[0]
        p += 1 + msg[p]
        end = p + 2 + struct.unpack("!H", msg[p:p + 2])[0]
        p += 2
        while p + 4 <= end:
            et, el = struct.unpack("!HH", msg[p:p + 4])
            if et == 0:
                hl = struct.unpack("!H", msg[p + 7:p + 9])[0]
                return p + 4, p + 9, hl
            p += 4 + el
    except (IndexError, struct.error):
        pass
    return None


def http_host_offsets(msg):
    low = msg.lower()
    i = low.find(b"\nhost:")
    if i < 0:
        return None
    h = i + 6
    while msg[h:h + 1] in (b" ", b"\t"):
        h += 1
    e = msg.find(b"\r\n", h)
    e2 = e
    while e2 > h and msg[e2 - 1:e2] in (b" ", b"\t"):
        e2 -= 1
    return i + 1, h, e2 - h


def name_positions(msg):
    """zapret-style split markers, resolved to offsets in msg: method, host,
    endhost, sld, endsld, midsld, sniext (TLS only); 'sni' = alias of host."""
    m = {}
    t = tls_sni_offsets(msg)
    if t:
        m["sniext"], host, hl = t
    else:
        h = http_host_offsets(msg)
        if not h:
            return m
        _, host, hl = h
        m["method"] = len(msg) - len(msg.lstrip(b"\r\n"))
    name = msg[host:host + hl].decode("latin1")
    m["host"] = m["sni"] = host
    m["endhost"] = host + hl
    labels = name.split(".")
    if len(labels) >= 2:
        sld_start = host + len(".".join(labels[:-2])) + (1 if len(labels) > 2 else 0)
        sld_len = len(labels[-2])
    else:
        sld_start, sld_len = host, hl
    m["sld"] = sld_start
    m["endsld"] = sld_start + sld_len
    m["midsld"] = sld_start + sld_len // 2
    return m


def build_client_hello(rng, sni, quic_scid=None, alpn=(b"h2", b"http/1.1")):
    """A plausible TLS 1.3 ClientHello (record + handshake, or the bare
    handshake message for QUIC when quic_scid is given)."""
    def ext(t, body):
        return struct.pack("!HH", t, len(body)) + body
    name = sni.encode()
    exts = ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    if quic_scid is None:
        exts += ext(11, b"\x01\x00")
    exts += ext(10, struct.pack("!H", 6) + bytes.fromhex("001d00170018"))
    if quic_scid is None:
        exts += ext(35, b"")
    al = b"".join(bytes([len(a)]) + a for a in alpn)
    exts += ext(16, struct.pack("!H", len(al)) + al)
    exts += ext(23, b"")
    sig = bytes.fromhex("0403080404010503080505010806060102010201")
    exts += ext(13, struct.pack("!H", len(sig)) + sig)
    vers = b"\x0304" if quic_scid is not None else bytes.fromhex("0304" "0303")
    exts += ext(43, bytes([len(vers)]) + vers)
    exts += ext(45, b"\x01\x01")
    ks = struct.pack("!HH", 0x001D, 32) + rng.randbytes(32)
    exts += ext(51, struct.pack("!H", len(ks)) + ks)
    if quic_scid is not None:
        tp = b""
        for pid, val in ((0x01, varint(30000)), (0x04, varint(1048576)), (0x05, varint(262144)),
                         (0x06, varint(262144)), (0x07, varint(262144)), (0x08, varint(100)),
                         (0x09, varint(100))):
            tp += varint(pid) + varint(len(val)) + val
        tp += varint(0x0F) + varint(len(quic_scid)) + quic_scid
        exts += ext(0x39, tp)
        suites = bytes.fromhex("130113021303")
        sid = b""
    else:
        suites = bytes.fromhex("130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035")
        sid = rng.randbytes(32)
    body = (b"\x03\x03" + rng.randbytes(32) + bytes([len(sid)]) + sid +
            struct.pack("!H", len(suites)) + suites + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    if quic_scid is not None:
        return hs
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def quic_initial(rng, sni, pad_to=1200, dcid=None, scid=None):
    """A QUIC v1 client Initial carrying a ClientHello for sni, protected with
    the Initial keys of its DCID (aioquic's CryptoPair does the AEAD + header
    protection), padded to pad_to bytes (0 = no padding)."""
    from aioquic.quic.crypto import CryptoPair
    dcid = dcid or rng.randbytes(8)
    scid = scid or rng.randbytes(8)
    ch = build_client_hello(rng, sni, quic_scid=scid, alpn=(b"h3",))
    payload = b"\x06" + varint(0) + varint(len(ch)) + ch
    pn, pn_len = 0, 2
    hdr_len = 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + 2 + pn_len
    if pad_to and hdr_len + len(payload) + 16 < pad_to:
        payload += b"\x00" * (pad_to - hdr_len - len(payload) - 16)
    length = pn_len + len(payload) + 16
    hdr = (bytes([0xC0 | (pn_len - 1)]) + b"\x00\x00\x00\x01" + bytes([len(dcid)]) + dcid +
           bytes([len(scid)]) + scid + b"\x00" + struct.pack("!H", 0x4000 | length) +
           pn.to_bytes(pn_len, "big"))
    cp = CryptoPair()
    cp.setup_initial(cid=dcid, is_client=True, version=1)
    return cp.encrypt_packet(hdr, payload, pn), dcid


# ============================================================ packets
class Pkt:
    """One packet to write (IPv4/IPv6 + TCP/UDP), with evasion knobs."""
    def __init__(self, **kw):
        self.ts = 0.0
        self.esrc = self.edst = b"\x00" * 6
        self.v = 4
        self.src = self.dst = b""
        self.ttl = 64
        self.ipid = 0
        self.tos = 0
        self.df = True
        self.vtcfl = 0x60000000
        self.proto = 6
        self.sport = self.dport = 0
        self.seq = self.ack = 0
        self.flags = 0
        self.win = 0
        self.opts = b""
        self.urp = 0
        self.data = b""
        self.bad_sum = False
        self.ext = []          # IPv6 extension headers before L4: [(type, body6+8n)]
        self.frag = None       # {"cuts": [l4 offsets], "order": [...], "atomic": bool}
        self.frag_gap = GAP
        self.dir = "c"
        self.tag = ""          # for the plan printout
        self.__dict__.update(kw)

    def copy(self, **kw):
        p = copy.copy(self)
        p.ext = list(self.ext)
        p.__dict__.update(kw)
        return p

    # ---- TCP timestamp option helpers
    def tsopt(self):
        o, i = self.opts, 0
        while i < len(o):
            k = o[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            ln = o[i + 1]
            if k == 8:
                return struct.unpack("!II", o[i + 2:i + 10])
            i += ln
        return None

    def l4(self):
        if self.proto == 6:
            opts = self.opts + b"\x00" * (-len(self.opts) % 4)
            hl = 20 + len(opts)
            hdr = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.seq & 0xFFFFFFFF,
                              self.ack & 0xFFFFFFFF, (hl // 4) << 4, self.flags, self.win, 0,
                              self.urp) + opts
            seg = bytearray(hdr + self.data)
            off = 16
        else:
            seg = bytearray(struct.pack("!HHHH", self.sport, self.dport, 8 + len(self.data), 0) +
                            self.data)
            off = 6
        c = l4_checksum(self.v, self.src, self.dst, self.proto, bytes(seg))
        if self.proto == 17 and c == 0:
            c = 0xFFFF
        if self.bad_sum:
            c = (c + 0x5A5A) & 0xFFFF or 0x1
        struct.pack_into("!H", seg, off, c)
        return bytes(seg)

    def _ip4(self, payload, mf=False, foff=0, frag=False):
        flags = 0
        if self.df and not frag:
            flags |= 0x4000
        if mf:
            flags |= 0x2000
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, self.tos, 20 + len(payload),
                                    self.ipid & 0xFFFF, flags | (foff // 8), self.ttl, self.proto,
                                    0, self.src, self.dst))
        struct.pack_into("!H", hdr, 10, csum16(bytes(hdr)))
        return b"\x08\x00", bytes(hdr) + payload

    def _ip6(self, chain, first_nh, payload):
        hdr = struct.pack("!IHBB16s16s", self.vtcfl, len(chain) + len(payload), first_nh,
                          self.ttl, self.src, self.dst)
        return b"\x86\xdd", hdr + chain + payload

    def frames(self):
        """-> [(ts, ethernet frame bytes)]; several for a fragmented packet."""
        seg = self.l4()
        eth = self.edst + self.esrc
        if self.v == 4:
            if not self.frag:
                et, ip = self._ip4(seg)
                return [(self.ts, eth + et + ip)]
            cuts = [0] + self.frag["cuts"] + [len(seg)]
            pieces = [(cuts[i], seg[cuts[i]:cuts[i + 1]], i < len(cuts) - 2)
                      for i in range(len(cuts) - 1)]
            out = []
            for k, i in enumerate(self.frag.get("order", range(len(pieces)))):
                off, data, mf = pieces[i]
                et, ip = self._ip4(data, mf=mf, foff=off, frag=True)
                out.append((self.ts + k * self.frag_gap, eth + et + ip))
            return out
        # IPv6: build the unfragmentable chain of extension headers
        types = [t for t, _ in self.ext]
        if self.frag:
            types.append(44)
        nexts = types[1:] + [self.proto]
        chain = b""
        for (t, body), nh in zip(self.ext, nexts):
            chain += bytes([nh, (len(body) + 2) // 8 - 1]) + body
        first = types[0] if types else self.proto
        if not self.frag:
            et, ip = self._ip6(chain, first, seg)
            return [(self.ts, eth + et + ip)]
        ident = self.frag.get("ident", 0x5EF7A000)
        if self.frag.get("atomic"):
            fh = struct.pack("!BBHI", self.proto, 0, 0, ident)
            et, ip = self._ip6(chain + fh, first, seg)
            return [(self.ts, eth + et + ip)]
        cuts = [0] + self.frag["cuts"] + [len(seg)]
        pieces = [(cuts[i], seg[cuts[i]:cuts[i + 1]], i < len(cuts) - 2) for i in range(len(cuts) - 1)]
        out = []
        for k, i in enumerate(self.frag.get("order", range(len(pieces)))):
            off, data, mf = pieces[i]
            fh = struct.pack("!BBHI", self.proto, 0, (off // 8) << 3 | (1 if mf else 0), ident)
            et, ip = self._ip6(chain + fh, first, data)
            out.append((self.ts + k * self.frag_gap, eth + et + ip))
        return out


def read_pcap(path):
    import dpkt
    pkts = []
    with open(path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP):
                p = Pkt(ts=ts, esrc=eth.src, edst=eth.dst, v=4, src=ip.src, dst=ip.dst, ttl=ip.ttl,
                        ipid=ip.id, tos=ip.tos, df=bool(ip.off & 0x4000), proto=ip.p)
            elif isinstance(ip, dpkt.ip6.IP6):
                p = Pkt(ts=ts, esrc=eth.src, edst=eth.dst, v=6, src=ip.src, dst=ip.dst, ttl=ip.hlim,
                        vtcfl=struct.unpack("!I", bytes(ip)[:4])[0], proto=ip.nxt)
            else:
                continue
            l4 = ip.data
            if isinstance(l4, dpkt.tcp.TCP):
                p.__dict__.update(sport=l4.sport, dport=l4.dport, seq=l4.seq, ack=l4.ack,
                                  flags=l4.flags, win=l4.win, opts=bytes(l4.opts), urp=l4.urp,
                                  data=bytes(l4.data))
            elif isinstance(l4, dpkt.udp.UDP):
                p.__dict__.update(sport=l4.sport, dport=l4.dport, data=bytes(l4.data))
            else:
                continue
            pkts.append(p)
    return pkts


def write_pcap(path, frames):
    import dpkt
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=262144, linktype=dpkt.pcap.DLT_EN10MB)
        for ts, fr in frames:
            w.writepkt(fr, ts=ts)


def ip_str(v, b):
    import socket
    return socket.inet_ntop(socket.AF_INET if v == 4 else socket.AF_INET6, b)


def flows_of(pkts):
    """Group packets into flows, in order of first packet; the client is the
    sender of the SYN (TCP) or of the first datagram (UDP)."""
    flows, order = {}, []
    for p in pkts:
        k = (p.proto,) + tuple(sorted([(p.src, p.sport), (p.dst, p.dport)]))
        if k not in flows:
            flows[k] = []
            order.append(k)
        flows[k].append(p)
    out = []
    for k in order:
        ps = flows[k]
        first = next((p for p in ps if p.proto == 6 and p.flags & SYN and not p.flags & ACK), ps[0])
        for p in ps:
            p.dir = "c" if (p.src, p.sport) == (first.src, first.sport) else "s"
        out.append(ps)
    return out


# ============================================================ base conversation model
class TcpBase:
    def __init__(self, pkts, kind):
        self.kind = kind           # tls / http
        self.pkts = pkts
        self.syn = next(p for p in pkts if p.flags & SYN and not p.flags & ACK)
        self.synack = next(p for p in pkts if p.flags & SYN and p.flags & ACK)
        self.isn_c, self.isn_s = self.syn.seq, self.synack.seq
        self.rtt = max(self.synack.ts - self.syn.ts, 20e-6)
        i_srv = next(i for i, p in enumerate(pkts) if p.dir == "s" and p.data)
        i_first = next(i for i, p in enumerate(pkts) if p.dir == "c" and p.data)
        self.pre = pkts[:i_first]
        self.msg_pkts = [p for p in pkts[i_first:i_srv] if p.dir == "c" and p.data]
        self.post = [p for p in pkts[i_srv:]]
        segs, msg = [], b""
        for p in sorted(self.msg_pkts, key=lambda p: (p.seq - self.isn_c) & 0xFFFFFFFF):
            off = (p.seq - self.isn_c - 1) & 0xFFFFFFFF
            if off == len(msg):
                segs.append((off, len(p.data)))
                msg += p.data
        self.msg, self.segs = msg, segs
        self.tmpl = self.msg_pkts[0]
        self.srv_tmpl = next(p for p in self.post if p.dir == "s")
        mss_opt = self._mss(self.synack.opts) or 1460
        tso = 12 if self.syn.tsopt() else 0
        self.mss = mss_opt - tso
        self.marks = name_positions(msg)
        self.client = (ip_str(self.syn.v, self.syn.src), self.syn.sport)
        self.server = (ip_str(self.syn.v, self.syn.dst), self.syn.dport)

    @staticmethod
    def _mss(o):
        i = 0
        while i < len(o):
            if o[i] == 0:
                break
            if o[i] == 1:
                i += 1
                continue
            if o[i] == 2:
                return struct.unpack("!H", o[i + 2:i + 4])[0]
            i += o[i + 1]
        return None


class UdpBase:
    def __init__(self, pkts):
        self.kind = "quic"
        self.pkts = pkts
        self.first = pkts[0]
        self.client = (ip_str(self.first.v, self.first.src), self.first.sport)
        self.server = (ip_str(self.first.v, self.first.dst), self.first.dport)


# ============================================================ TCP plan items
class Item:
    def __init__(self, off, data, fake=False, fool=(), ttl=None, flags=None, urp=0, ext=(),
                 frag=None, gap=GAP, tag=""):
        self.off, self.data, self.fake, self.fool = off, data, fake, set(fool)
        self.ttl, self.flags, self.urp, self.ext, self.frag = ttl, flags, urp, list(ext), frag
        self.gap, self.tag = gap, tag


def cut(stream, positions, base_off=0, mss=1448):
    """Cut stream at positions (offsets into stream), then cut any piece
    longer than mss; -> [(off, bytes)] with off relative to base_off."""
    pos = sorted(set(p for p in positions if 0 < p < len(stream)))
    b = [0] + pos + [len(stream)]
    out = []
    for i in range(len(b) - 1):
        s = b[i]
        while s < b[i + 1]:
            e = min(b[i + 1], s + mss)
            out.append((base_off + s, stream[s:e]))
            s = e
    return out


def hbh():
    return (0, b"\x00" * 6)        # empty Hop-by-Hop Options header (6 x Pad1)


def dopt():
    return (60, b"\x01\x04\x00\x00\x00\x00")   # Destination Options with one PadN


def marks_at(base, *names):
    out = []
    for n in names:
        if isinstance(n, int):
            out.append(n)
            continue
        name, off = n, 0
        for sgn in "+-":
            if sgn in n:
                name, o = n.split(sgn)
                off = int(o) * (1 if sgn == "+" else -1)
        if name in base.marks:
            out.append(base.marks[name] + off)
    return out


def decoy_for(base, rng):
    if base.kind == "http":
        return (b"GET / HTTP/1.1\r\nHost: " + DECOY.encode() +
                b"\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n")
    return build_client_hello(rng, DECOY)


# ============================================================ techniques (TCP)
# Each returns (items, stream_len, syn_payload, details, techniques, fooling, decoy)
def t_fake(base, rng, fool, repeats=1, then=None, fake_ext=(), real_ext=()):
    fake = decoy_for(base, rng)
    items = [Item(0, fake, fake=True, fool=fool, ext=fake_ext, tag="fake") for _ in range(repeats)]
    if then is None:
        real = [Item(o, base.msg[o:o + n], ext=real_ext, tag="real") for o, n in base.segs]
        det = "fake %s then the real message in its original %d segment(s)" % (
            "+".join(sorted(fool)) or "", len(base.segs))
        tech = "fake"
    else:
        real, det2, tech2 = then
        det = "fake (%s) then %s" % ("+".join(sorted(fool)), det2)
        tech = "fake+" + tech2
    return items + real, len(base.msg), None, det, tech, fool, DECOY


def t_split(base, rng, positions, desc):
    ps = marks_at(base, *positions)
    pieces = cut(base.msg, ps, mss=base.mss)
    items = [Item(o, d, tag="part") for o, d in pieces]
    return (items, len(base.msg), None, "split at %s (%s) -> %d segments in order" %
            (",".join(map(str, positions)), ",".join(map(str, sorted(set(ps)))), len(pieces)),
            "split", set(), "")


def t_disorder(base, rng, positions, reverse_all=True):
    ps = marks_at(base, *positions)
    pieces = cut(base.msg, ps, mss=base.mss)
    items = [Item(o, d, tag="part") for o, d in reversed(pieces)]
    return (items, len(base.msg), None, "multidisorder at %s (%s): %d segments sent last-first" %
            (",".join(map(str, positions)), ",".join(map(str, sorted(set(ps)))), len(pieces)),
            "disorder", set(), "")


def t_byedpi_disorder(base, rng, pos):
    """ByeDPI/tpws --disorder on Linux: the first part goes out with TTL 1 (it
    dies at the first router), the rest with normal TTL; the server SACKs, the
    client kernel retransmits the first part with normal TTL ~200 ms later."""
    p = marks_at(base, pos)[0]
    lead, rest = cut(base.msg[:p], [], mss=base.mss), cut(base.msg[p:], [], base_off=p, mss=base.mss)
    items = [Item(o, d, fake=True, ttl=1, fool={"ttl1"}, tag="part1 TTL=1") for o, d in lead]
    items += [Item(o, d, tag="part2") for o, d in rest]
    items += [Item(o, d, gap=0.21 if i == 0 else GAP, tag="part1 retransmitted")
              for i, (o, d) in enumerate(lead)]
    return (items, len(base.msg), None, "ByeDPI-style disorder at %s: part 1 TTL=1, part 2, "
            "part 1 retransmitted 210 ms later with TTL 64" % pos, "disorder", {"ttl"}, "")


def t_multisplit_tiny(base, rng, size, shuffle=False, count=None):
    if count:   # exactly count pieces of random sizes
        pos = sorted(rng.sample(range(1, len(base.msg)), count - 1))
        size = "1-%d" % max(b - a for a, b in zip([0] + pos, pos + [len(base.msg)]))
        pieces = cut(base.msg, pos, mss=base.mss)
    else:
        pieces = cut(base.msg, list(range(size, len(base.msg), size)), mss=base.mss)
    if shuffle:
        rng.shuffle(pieces)
    items = [Item(o, d, gap=15e-6, tag="piece") for o, d in pieces]
    return (items, len(base.msg), None, "%d pieces of %s byte(s)%s" %
            (len(pieces), size, " in random order" if shuffle else " in order"),
            "split+disorder" if shuffle else "split", set(), "")


def t_fakedsplit(base, rng, pos, fool, disorder=False):
    """nfqws fakedsplit / fakeddisorder (altorder=0): for each part a fake
    of zeros of the same size and sequence, real part, the fake again."""
    p = marks_at(base, pos)[0]
    parts = cut(base.msg, [p], mss=base.mss)
    if disorder:
        parts = parts[::-1]
    items = []
    for o, d in parts:
        z = b"\x00" * len(d)
        items += [Item(o, z, fake=True, fool=fool, tag="zero fake"), Item(o, d, tag="part"),
                  Item(o, z, fake=True, fool=fool, tag="zero fake")]
    name = "fakeddisorder" if disorder else "fakedsplit"
    return (items, len(base.msg), None, "%s at %s: fake(zeros) real fake per part, %d parts%s" %
            (name, pos, len(parts), ", last part first" if disorder else ""),
            "fake+split" + ("+disorder" if disorder else ""), fool, "")


def t_hostfakesplit(base, rng, fool):
    h, e = base.marks["host"], base.marks["endhost"]
    n = e - h
    tmpl = DECOY.split(".", 1)[1]  # decoy.test
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    fake_host = ("".join(rng.choice(alnum) for _ in range(n - len(tmpl) - 1)) + "." + tmpl).encode()
    before = cut(base.msg[:h], [], mss=base.mss)
    after = cut(base.msg[e:], [], base_off=e, mss=base.mss)
    items = [Item(o, d, tag="before host") for o, d in before]
    items += [Item(h, fake_host, fake=True, fool=fool, tag="fake host"),
              Item(h, base.msg[h:e], tag="real host"),
              Item(h, fake_host, fake=True, fool=fool, tag="fake host")]
    items += [Item(o, d, tag="after host") for o, d in after]
    return (items, len(base.msg), None, "hostfakesplit: before-host, fake host %s, real host, "
            "fake host again, after-host" % fake_host.decode(), "fake+split", fool, fake_host.decode())


def t_oob(base, rng, pos, byte=b"a", disorder=False):
    """ByeDPI --oob / tpws --oob: first part + 1 extra byte sent as urgent
    data (URG, urgent pointer past the extra byte); the extra byte takes one
    sequence number and is removed by the receiver."""
    p = marks_at(base, pos)[0]
    lead = cut(base.msg[:p], [], mss=base.mss)        # part 1, MSS-sized pieces
    o_last, d_last = lead[-1]
    first = d_last + byte
    rest = cut(base.msg[p:], [], base_off=p + 1, mss=base.mss)
    items = [Item(o, d, tag="part1") for o, d in lead[:-1]]
    items.append(Item(o_last, first, flags=PSH | ACK | URG, urp=len(first), tag="part1+OOB byte"))
    items += [Item(o, d, tag="rest") for o, d in rest]
    if disorder:
        items = items[len(lead):] + items[:len(lead)]
    return (items, len(base.msg) + 1, None, "oob: URG segment of %d bytes (urgent pointer %d), "
            "OOB byte %r inside the name at message offset %d%s" %
            (len(first), len(first), byte, p, ", sent after the rest (disoob)" if disorder else ""),
            "oob" + ("+disorder" if disorder else ""), set(), "")


def t_tlsrec(base, rng, pos, segmented=False):
    p = marks_at(base, pos)[0]
    m = base.msg
    body = m[5:5 + struct.unpack("!H", m[3:5])[0]]
    tail = m[5 + len(body):]
    k = p - 5
    r1 = m[:3] + struct.pack("!H", k) + body[:k]
    r2 = m[:3] + struct.pack("!H", len(body) - k) + body[k:]
    stream = r1 + r2 + tail
    if segmented:
        pieces = cut(stream, [len(r1)], mss=base.mss)
    else:
        pieces = cut(stream, [], mss=base.mss)
    items = [Item(o, d, tag="records") for o, d in pieces]
    return (items, len(stream), None, "tlsrec at %s: two TLS records (%d + %d bytes of handshake)%s, "
            "%d segment(s)" % (pos, k, len(body) - k, ", each record in its own segment" if segmented
                               else " in one segment", len(pieces)),
            "tlsrec" + ("+split" if segmented else ""), set(), "")


def t_syndata(base, rng, zeros=False):
    fake = b"\x00" * 16 if zeros else decoy_for(base, rng)
    items = [Item(o, base.msg[o:o + n], tag="real") for o, n in base.segs]
    return (items, len(base.msg), fake, "syndata: %d-byte %s in the SYN (no TFO cookie option); "
            "server ignores it, SYN/ACK acks ISN+1" % (len(fake), "zero payload" if zeros else
                                                      "decoy " + ("request" if base.kind == "http"
                                                                  else "ClientHello")),
            "syndata", set(), "" if zeros else DECOY)


def t_seqovl(base, rng, pos, ovl, disorder=False):
    """nfqws --dpi-desync-split-seqovl: the first sent part gets ovl extra
    bytes (taken from a decoy) in front, with its sequence number lowered by
    ovl.  split: the extra bytes lie before ISN+1, the server keeps only the
    in-window part.  disorder: they overlap the first part, which is sent
    later and overwrites them."""
    p = marks_at(base, pos)[0]
    pat = decoy_for(base, rng)
    pat = (pat * (ovl // len(pat) + 1))[:ovl]
    parts = cut(base.msg, [p], mss=base.mss)
    if not disorder:
        o0, d0 = parts[0]
        items = []
        if ovl + len(d0) > base.mss:       # keep the overlapped segment MSS-sized
            k = base.mss - ovl
            items.append(Item(-ovl, pat + d0[:k], tag="seqovl part1"))
            items += [Item(o, d, tag="part1") for o, d in cut(d0[k:], [], base_off=k, mss=base.mss)]
        else:
            items.append(Item(-ovl, pat + d0, tag="seqovl part1"))
        items += [Item(o, d, tag="part") for o, d in parts[1:]]
        det = "split at %s with seqovl=%d: first segment starts %d bytes before ISN+1 (decoy bytes)" % (
            pos, ovl, ovl)
    else:
        assert ovl < p
        (o0, d0), rest = parts[0], parts[1:]
        if ovl + len(rest[0][1]) > base.mss:
            r0 = rest[0]
            k = base.mss - ovl
            rest = [(r0[0], r0[1][:k]), (r0[0] + k, r0[1][k:])] + rest[1:]
        items = [Item(rest[0][0] - ovl, pat + rest[0][1], tag="seqovl part2")]
        items += [Item(o, d, tag="part") for o, d in rest[1:]]
        items.append(Item(o0, d0, tag="part1"))
        det = "disorder at %s with seqovl=%d: part 2 sent first, prefixed with %d decoy bytes that " \
              "overlap the end of part 1; part 1 sent last overwrites them" % (pos, ovl, ovl)
    return items, len(base.msg), None, det, "seqovl+" + ("disorder" if disorder else "split"), set(), \
        DECOY if base.kind != "http" else DECOY


def t_ipfrag(base, rng, pos, reverse=False, at_name=False):
    """nfqws ipfrag2: each segment of the message is sent as IP fragments cut
    pos bytes after the start of the TCP header (multiple of 8)."""
    items = []
    for o, n in base.segs:
        d = base.msg[o:o + n]
        thl = 20 + len(base.tmpl.opts) + (-len(base.tmpl.opts) % 4)
        cutpos = pos
        if at_name and o <= base.marks["host"] < o + n:
            cutpos = (thl + base.marks["host"] - o + 4) // 8 * 8
        fr = {"cuts": [cutpos], "order": [1, 0] if reverse else [0, 1],
              "ident": rng.getrandbits(32)}
        items.append(Item(o, d, frag=fr, tag="fragmented"))
    return (items, len(base.msg), None, "ipfrag2: every message segment in 2 IP fragments cut %s "
            "bytes into the TCP header/payload%s" % (("at %d" % pos) if not at_name else "inside the name",
                                                     ", second fragment sent first" if reverse else ""),
            "ip_fragments" + ("+disorder" if reverse else ""), set(), "")


def t_ipv6ext(base, rng, kind):
    ext = {"hopbyhop": [hbh()], "destopt": [dopt()]}.get(kind, [])
    fr = {"atomic": True, "ident": rng.getrandbits(32)} if kind == "ipfrag1" else None
    # like nfqws: the extra 8 bytes do not fit a full-size segment, which is
    # then sent unmodified
    items = [Item(o, base.msg[o:o + n], ext=ext if n + 8 <= base.mss else [],
                  frag=fr if n + 8 <= base.mss else None, tag=kind) for o, n in base.segs]
    what = {"hopbyhop": "one Hop-by-Hop Options header", "destopt": "one Destination Options header",
            "ipfrag1": "an atomic Fragment header (offset 0, M=0)"}[kind]
    return (items, len(base.msg), None, "%s mode: the real segments carry %s before TCP "
            "(full-size segments, where it does not fit, go unmodified)" % (kind, what),
            "ipv6_ext" if kind != "ipfrag1" else "ip_fragments", set(), "")


# ---- HTTP header tricks: they change the message itself
def http_edit(base, rng, trick):
    m = base.msg
    head, _, body = m.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    hi = next(i for i, l in enumerate(lines) if l.lower().startswith(b"host:"))
    name = lines[hi].split(b":", 1)[1].strip()
    det = ""
    cuts = []
    if trick == "hostcase":
        lines[hi] = b"hOsT: " + name
        det = "Host header name spelled hOsT (tpws --hostcase/--hostspell, ByeDPI hcsmix, GoodbyeDPI -r)"
    elif trick == "hostnospace":
        lines[hi] = b"Host:" + name
        ua = next((i for i, l in enumerate(lines) if l.lower().startswith(b"user-agent:")), None)
        if ua is not None:
            lines[ua] += b" "
        det = "no space after Host: (nfqws --hostnospace; the space moved to the end of User-Agent)"
    elif trick == "domcase":
        lines[hi] = b"Host: " + bytes(c ^ 0x20 if (i % 2 and 97 <= c <= 122) else c for i, c in enumerate(name))
        det = "mixed case host name (GoodbyeDPI -m, tpws --domcase)"
    elif trick == "hostend":
        h = lines.pop(hi)
        lines.append(h)
        det = "Host header moved to the end of the header block"
    elif trick == "spaces":
        lines[0] = lines[0].replace(b" ", b"  ", 1)
        lines[hi] = b"Host:   " + name + b"  "
        det = "extra space after the method (GoodbyeDPI -a, tpws --methodspace) and extra spaces around the host"
    elif trick == "hosttab":
        lines[hi] = b"Host: " + name + b"\t"
        det = ("tab after the host name (tpws --hosttab, ByeDPI rmspace style); the emulation keeps the "
               "base's 200 answer although real nginx 1.22 answers 400 (see real-host-tricks-http.pcap)")
    elif trick == "methodeol":
        lines[0] = b"\n" + lines[0]
        lines[hi] = b"Host:" + name
        det = "newline before the method and no space after Host: (nfqws --methodeol)"
    elif trick == "hostpad":
        pad = b"X-Pad: " + b"p" * 1993
        lines.insert(hi, pad)
        det = "a 2000-byte padding header before Host (tpws --hostpad=2000): Host in the 2nd segment"
    elif trick == "splithost":
        det = "split inside the Host value (host+4) and at midsld: 3 segments"
    new = b"\r\n".join(lines) + b"\r\n\r\n" + body
    if trick == "splithost":
        mk = name_positions(new)
        cuts = [mk["host"] + 4, mk["midsld"]]
    items = [Item(o, d, tag=trick) for o, d in cut(new, cuts, mss=base.mss)]
    return items, len(new), None, det + " [%d -> %d bytes]" % (len(m), len(new)), "host_header" + (
        "+split" if cuts else ""), set(), ""


# ============================================================ emission (TCP)
def srv_ack(base, t, ack_rel, tsecr, blocks, ts_val):
    s = base.srv_tmpl
    opts = b""
    if ts_val is not None:
        opts = b"\x01\x01\x08\x0a" + struct.pack("!II", ts_val, tsecr or 0)
    if blocks:
        bl = blocks[:3]
        opts += b"\x01\x01" + bytes([5, 2 + 8 * len(bl)]) + b"".join(
            struct.pack("!II", (base.isn_c + 1 + a) & 0xFFFFFFFF, (base.isn_c + 1 + b) & 0xFFFFFFFF)
            for a, b in bl)
    return s.copy(ts=t, seq=base.isn_s + 1, ack=(base.isn_c + 1 + ack_rel) & 0xFFFFFFFF, flags=ACK,
                  opts=opts, data=b"", dir="s", tag="server ACK" + (" SACK" if blocks else ""))


class Receiver:
    def __init__(self):
        self.nxt = 0
        self.ooo = []
        self.quick = 16

    def seg(self, s, e):
        """-> (send_ack, sack_blocks)"""
        if e <= self.nxt:
            return True, [(s, e)]          # duplicate: dup ACK with D-SACK
        if s <= self.nxt:
            self.nxt = e
            changed = True
            while changed:
                changed = False
                for b in list(self.ooo):
                    if b[0] <= self.nxt:
                        self.nxt = max(self.nxt, b[1])
                        self.ooo.remove(b)
                        changed = True
            if self.ooo:
                return True, list(self.ooo)
            self.quick -= 1
            return self.quick >= 0, []
        merged = [s, e]
        for b in list(self.ooo):
            if b[0] <= merged[1] and merged[0] <= b[1]:
                merged = [min(b[0], merged[0]), max(b[1], merged[1])]
                self.ooo.remove(b)
        self.ooo.insert(0, tuple(merged))
        return True, list(self.ooo)


DROPPED_BY_SERVER = {"badsum", "md5sig", "datanoack", "ttl", "ttl1", "ipv6_ext"}
DUPACK_BY_SERVER = {"badseq", "ts"}


def emit_tcp(base, plan, rng, port=None, t_shift=0.0):
    items, stream_len, syn_payload = plan[0], plan[1], plan[2]
    delta = stream_len - len(base.msg)
    out = []
    for p in base.pre:
        q = p.copy()
        if syn_payload is not None and q is not None and p is base.syn:
            q.data = syn_payload
            q.tag = "SYN with data"
        out.append(q)
    tm = base.tmpl
    tsv = tm.tsopt()
    srv_ts = base.srv_tmpl.tsopt()
    rcv = Receiver()
    t = tm.ts
    pre_ts = base.pre[-1].tsopt() if base.pre else None
    last_ok_ts = pre_ts[0] if pre_ts else None   # ts_recent of the server
    for k, it in enumerate(items):
        t += it.gap if k else 0
        p = tm.copy(ts=t, seq=(base.isn_c + 1 + it.off) & 0xFFFFFFFF, data=it.data,
                    flags=it.flags if it.flags is not None else (PSH | ACK), urp=it.urp,
                    ext=list(it.ext), frag=it.frag, tag=it.tag)
        if it.ttl is not None:
            p.ttl = it.ttl
        f = it.fool
        if "ttl" in f and it.ttl is None:
            p.ttl = FAKE_TTL
        if "badseq" in f:
            p.seq = (p.seq - 10000) & 0xFFFFFFFF
            p.ack = (p.ack - 66000) & 0xFFFFFFFF
        if "badsum" in f:
            p.bad_sum = True
        if "md5sig" in f:
            p.opts = p.opts + b"\x01\x01\x13\x12" + rng.randbytes(16)
        if "ts" in f and tsv:
            p.opts = p.opts.replace(struct.pack("!II", *tsv),
                                    struct.pack("!II", (tsv[0] - 600000) & 0xFFFFFFFF, tsv[1]))
        if "datanoack" in f:
            p.flags &= ~ACK
        if "ipv6_ext" in f:
            p.ext = [hbh(), hbh()] + p.ext
        if len(p.data) + len(p.opts) - len(tm.opts) + 8 * len(p.ext) > base.mss and not p.frag:
            raise ValueError("%s: segment larger than the path MTU allows" % it.tag)
        out.append(p)
        # what the server's kernel does with it
        if it.fake and (f & DROPPED_BY_SERVER):
            continue
        if it.fake and (f & DUPACK_BY_SERVER):
            # out-of-window (badseq) or PAWS-failing (ts) segment: Linux answers
            # with a duplicate ACK echoing the last accepted TSval
            out.append(srv_ack(base, t + base.rtt, rcv.nxt, last_ok_ts, [],
                               srv_ts[0] if srv_ts else None))
            continue
        if it.fake:   # an undropped fake would corrupt the stream: never planned
            raise ValueError("fake without fooling")
        frames_n = len(p.frames())
        last_ok_ts = tsv[0] if tsv else None
        send, blocks = rcv.seg(it.off, it.off + len(it.data))
        if send:
            a = srv_ack(base, t + base.rtt + (frames_n - 1) * GAP, rcv.nxt,
                        tsv[0] if tsv else None, blocks, srv_ts[0] if srv_ts else None)
            out.append(a)
    if rcv.nxt < stream_len:
        raise ValueError("plan does not deliver the whole stream (%d < %d)" % (rcv.nxt, stream_len))
    t_end = max(q.ts for q in out)
    shift = max(0.0, t_end + base.rtt - base.post[0].ts)
    end_rel = len(base.msg) + 1
    for p in base.post:
        q = p.copy(ts=p.ts + shift)
        if q.dir == "c":
            q.seq = (q.seq + delta) & 0xFFFFFFFF
        elif q.flags & ACK and ((q.ack - base.isn_c) & 0xFFFFFFFF) >= end_rel:
            q.ack = (q.ack + delta) & 0xFFFFFFFF
        out.append(q)
    return finish(out, base, port, t_shift)


def finish(out, base, port, t_shift):
    out.sort(key=lambda p: p.ts)
    ids = {}
    for p in out:
        if p.dir == "s":
            p.ttl = 64 - HOPS
        if port:
            if p.dir == "c":
                p.sport = port
            else:
                p.dport = port
        p.ts += t_shift
        if p.v == 4:
            if p.dir not in ids:
                ids[p.dir] = p.ipid
            p.ipid = ids[p.dir]
            ids[p.dir] = (ids[p.dir] + 1) & 0xFFFF
    return out


# ============================================================ QUIC
def q_plan(base, rng, kind):
    """-> (packets, details, techniques, fooling, decoy)"""
    first = base.pkts[0]
    fakes, det = [], ""
    tech, fool, decoy = "fake", set(), DECOY
    if kind in ("fake-ttl", "fake-badsum", "fake-unanswered", "fake-short"):
        pad = 0 if kind == "fake-short" else 1200 + rng.randrange(0, 40)
        n = 2
        for i in range(n):
            dg, dcid = quic_initial(rng, DECOY, pad_to=pad)
            p = first.copy(data=dg, tag="fake Initial")
            if kind == "fake-ttl":
                p.ttl = FAKE_TTL
                fool = {"ttl", "unanswered_dcid"}
            elif kind == "fake-badsum":
                p.bad_sum = True
                fool = {"bad_udp_checksum", "unanswered_dcid"}
            elif kind == "fake-short":
                fool = {"short_initial", "unanswered_dcid"}
            else:
                fool = {"unanswered_dcid"}
            fakes.append(p)
        det = ("%d fake Initials (SNI %s, own random DCID, %d bytes) before the real Initial; %s" %
               (n, DECOY, len(fakes[0].data), {
                   "fake-ttl": "TTL %d, never reach the 9-hop-away server" % FAKE_TTL,
                   "fake-badsum": "UDP checksum wrong, dropped by the server's stack",
                   "fake-short": "datagram < 1200 bytes, which a server must drop (RFC 9000 14.1)",
                   "fake-unanswered": "valid checksum and TTL: emulates a fake that reached the "
                                      "DPI but was lost before the server (no answer to its DCID)",
               }[kind]))
        real = [first.copy()]
    elif kind in ("ipfrag", "ipfrag-rev"):
        pos = 32 if first.v == 4 else 24
        real = [first.copy(frag={"cuts": [pos], "order": [1, 0] if kind == "ipfrag-rev" else [0, 1],
                                 "ident": rng.getrandbits(32)}, tag="fragmented Initial")]
        det = "ipfrag2: the real Initial datagram in 2 IP fragments cut %d bytes after the UDP header start%s" % (
            pos, ", second fragment first" if kind == "ipfrag-rev" else "")
        tech, decoy = "ip_fragments" + ("+disorder" if kind == "ipfrag-rev" else ""), ""
    elif kind in ("hopbyhop", "destopt"):
        real = [first.copy(ext=[hbh()] if kind == "hopbyhop" else [dopt()], tag=kind)]
        det = "%s mode: the real Initial carries one %s header" % (
            kind, "Hop-by-Hop Options" if kind == "hopbyhop" else "Destination Options")
        tech, decoy = "ipv6_ext", ""
    else:
        raise ValueError(kind)
    out, t = [], first.ts
    for p in fakes + real:
        p.ts = t
        out.append(p)
        t += 60e-6 + (len(p.frames()) - 1) * GAP
    shift = t - first.ts - 60e-6
    for p in base.pkts[1:]:
        out.append(p.copy(ts=p.ts + shift))
    return out, det, tech, fool, decoy


# ============================================================ the plan
def load_base(path):
    pk = read_pcap(path)
    fl = flows_of(pk)
    for f in fl:
        if f[0].proto == 6 and any(p.flags & SYN for p in f) and any(p.dir == "s" and p.data for p in f):
            first = next(p for p in f if p.dir == "c" and p.data)
            kind = "tls" if first.data[:1] == b"\x16" else "http"
            b = TcpBase(f, kind)
            if REAL.encode() in b.msg or kind == "http":
                return b
        if f[0].proto == 17 and f[0].data[:1] and f[0].data[0] & 0xC0 == 0xC0:
            return UdpBase(f)
    raise ValueError("no usable flow in " + path)


TLS_BASES = ["tls12-v4", "tls12-v6", "tls13-v4", "tls13-v6", "tls13pq-v4", "tls13pq-v6"]
HTTP_BASES = ["http-v4", "http-v6"]
QUIC_BASES = ["quic-v4", "quic-v6"]

LABEL = {"tls12": "tls1.2", "tls13": "tls1.3", "tls13pq": "tls1.3-pq", "http": "http", "quic": "quic-v1"}


def plan_list():
    """[(capture name, [(base, technique-callable(base, rng), port_or_None), ...])]"""
    P = []

    def one(name, base, fn):
        P.append((name, [(base, fn, None)]))

    for b in TLS_BASES + HTTP_BASES:
        tls = not b.startswith("http")
        v6 = b.endswith("v6")
        one("emu-fake-badsum-" + b, b, lambda B, r: t_fake(B, r, {"badsum"}))
        one("emu-fake-ttl-" + b, b, lambda B, r: t_fake(B, r, {"ttl"}))
        one("emu-fake-badseq-" + b, b, lambda B, r: t_fake(B, r, {"badseq"}))
        one("emu-fake-md5sig-" + b, b, lambda B, r: t_fake(B, r, {"md5sig"}))
        one("emu-fake-ts-" + b, b, lambda B, r: t_fake(B, r, {"ts"}))
        one("emu-fake-datanoack-" + b, b, lambda B, r: t_fake(B, r, {"datanoack"}))
        one("emu-split-1-" + b, b, lambda B, r: t_split(B, r, [1], "1"))
        one("emu-split-host-" + b, b, lambda B, r: t_split(B, r, ["host"], "host"))
        one("emu-split-midsld-" + b, b, lambda B, r: t_split(B, r, ["midsld"], "midsld"))
        one("emu-disorder-midsld-" + b, b, lambda B, r: t_disorder(B, r, ["midsld"]))
        one("emu-multisplit-" + b, b, lambda B, r: t_split(B, r, [1, 3, "host", "midsld", "endhost-2", 100], "multi"))
        one("emu-multidisorder-" + b, b, lambda B, r: t_disorder(B, r, [1, 3, "host", "midsld", "endhost-2", 100]))
        one("emu-oob-" + b, b, lambda B, r: t_oob(B, r, "host+4"))
        one("emu-syndata-" + b, b, lambda B, r: t_syndata(B, r))
        one("emu-seqovl-" + b, b, lambda B, r, tls=tls: t_seqovl(B, r, "midsld", 336 if tls else 1))
        one("emu-ipfrag-" + b, b, lambda B, r: t_ipfrag(B, r, 24))
        one("emu-ipfrag-reverse-" + b, b, lambda B, r: t_ipfrag(B, r, 24, reverse=True))
        one("emu-fakedsplit-" + b, b, lambda B, r: t_fakedsplit(B, r, "midsld", {"badseq"}))
        if tls:
            one("emu-tlsrec-" + b, b, lambda B, r: t_tlsrec(B, r, "host+5"))
            one("emu-tlsrec-segments-" + b, b, lambda B, r: t_tlsrec(B, r, "host+5", segmented=True))
        if v6:
            one("emu-fake-hopbyhop2-" + b, b, lambda B, r: t_fake(B, r, {"ipv6_ext"}))
            one("emu-hopbyhop-" + b, b, lambda B, r: t_ipv6ext(B, r, "hopbyhop"))
            one("emu-destopt-" + b, b, lambda B, r: t_ipv6ext(B, r, "destopt"))
    # extras on a subset
    one("emu-1byte-tls13-v4", "tls13-v4", lambda B, r: t_multisplit_tiny(B, r, 1))
    one("emu-1byte-http-v4", "http-v4", lambda B, r: t_multisplit_tiny(B, r, 1))
    one("emu-1byte-tls12-v6", "tls12-v6", lambda B, r: t_multisplit_tiny(B, r, 1))
    one("emu-300random-tls13pq-v4", "tls13pq-v4", lambda B, r: t_multisplit_tiny(B, r, 0, shuffle=True, count=300))
    one("emu-300random-tls13-v6", "tls13-v6", lambda B, r: t_multisplit_tiny(B, r, 0, shuffle=True, count=300))
    one("emu-fakeddisorder-tls13-v4", "tls13-v4", lambda B, r: t_fakedsplit(B, r, "midsld", {"md5sig"}, disorder=True))
    one("emu-fakeddisorder-tls13pq-v6", "tls13pq-v6", lambda B, r: t_fakedsplit(B, r, "midsld", {"ts"}, disorder=True))
    one("emu-fakeddisorder-http-v4", "http-v4", lambda B, r: t_fakedsplit(B, r, "host+2", {"md5sig"}, disorder=True))
    one("emu-fakedsplit-md5sig-tls13-v4", "tls13-v4", lambda B, r: t_fakedsplit(B, r, "host+3", {"md5sig"}))
    one("emu-hostfakesplit-tls13-v4", "tls13-v4", lambda B, r: t_hostfakesplit(B, r, {"md5sig"}))
    one("emu-hostfakesplit-tls13-v6", "tls13-v6", lambda B, r: t_hostfakesplit(B, r, {"ts"}))
    one("emu-hostfakesplit-tls13pq-v4", "tls13pq-v4", lambda B, r: t_hostfakesplit(B, r, {"badsum"}))
    one("emu-hostfakesplit-http-v4", "http-v4", lambda B, r: t_hostfakesplit(B, r, {"md5sig"}))
    one("emu-byedpi-disorder-tls13-v4", "tls13-v4", lambda B, r: t_byedpi_disorder(B, r, 1))
    one("emu-byedpi-disorder-http-v6", "http-v6", lambda B, r: t_byedpi_disorder(B, r, "host+2"))
    one("emu-seqovl-disorder-tls13-v4", "tls13-v4", lambda B, r: t_seqovl(B, r, "midsld", 100, disorder=True))
    one("emu-seqovl-zeros-http-v4", "http-v4", lambda B, r: t_seqovl(B, r, 2, 1))
    one("emu-disoob-tls13-v6", "tls13-v6", lambda B, r: t_oob(B, r, "midsld", disorder=True))
    one("emu-oob-tls13pq-v4-zero", "tls13pq-v4", lambda B, r: t_oob(B, r, "host+7", byte=b"\x00"))
    one("emu-ipfrag-at-name-tls13-v4", "tls13-v4", lambda B, r: t_ipfrag(B, r, 24, at_name=True))
    one("emu-ipfrag-at-name-tls13-v6", "tls13-v6", lambda B, r: t_ipfrag(B, r, 24, at_name=True, reverse=True))
    one("emu-ipfrag1-tls13-v6", "tls13-v6", lambda B, r: t_ipv6ext(B, r, "ipfrag1"))
    one("emu-syndata-zeros-tls13-v4", "tls13-v4", lambda B, r: t_syndata(B, r, zeros=True))
    one("emu-fake-ttl-md5sig-tls13pq-v4", "tls13pq-v4", lambda B, r: t_fake(B, r, {"ttl", "md5sig"}))
    one("emu-fake-badsum-badseq-tls12-v4", "tls12-v4", lambda B, r: t_fake(B, r, {"badsum", "badseq"}, repeats=6))
    one("emu-fake-multisplit-tls13pq-v4", "tls13pq-v4",
        lambda B, r: t_fake(B, r, {"md5sig"}, then=_then(t_split(B, r, [1, "midsld"], "m"))))
    one("emu-fake-multidisorder-tls13-v6", "tls13-v6",
        lambda B, r: t_fake(B, r, {"badseq"}, then=_then(t_disorder(B, r, [1, "midsld"]))))
    one("emu-fake-multisplit-http-v4", "http-v4",
        lambda B, r: t_fake(B, r, {"ttl"}, then=_then(t_split(B, r, ["method+2", "midsld"], "m"))))
    one("emu-fake-destopt-tls13-v6", "tls13-v6",
        lambda B, r: t_fake(B, r, {"md5sig"}, fake_ext=[dopt()], real_ext=[dopt()]))
    one("emu-fake-destopt-http-v6", "http-v6",
        lambda B, r: t_fake(B, r, {"ipv6_ext"}, fake_ext=[dopt()], real_ext=[dopt()]))
    for v in ("v4", "v6"):
        tricks = ["hostcase", "hostnospace", "domcase", "hostend", "spaces", "hosttab", "methodeol",
                  "hostpad", "splithost"]
        P.append(("emu-host-tricks-http-" + v,
                  [("http-" + v, (lambda tr: lambda B, r: http_edit(B, r, tr))(tr), 41000 + i)
                   for i, tr in enumerate(tricks)]))
    for b in QUIC_BASES:
        for kind in ("fake-ttl", "fake-badsum", "fake-short", "fake-unanswered", "ipfrag", "ipfrag-rev"):
            one("emu-quic-%s-%s" % (kind, b.split("-")[1]), b, kind)
    one("emu-quic-hopbyhop-v6", "quic-v6", "hopbyhop")
    one("emu-quic-destopt-v6", "quic-v6", "destopt")
    return P


def _then(plan):
    items, _, _, det, tech, _, _ = plan
    return items, det, tech


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", help="substring filter on capture names")
    args = ap.parse_args()
    d = args.dir
    bases = {}
    for n in TLS_BASES + HTTP_BASES + QUIC_BASES:
        bases[n] = load_base(os.path.join(d, "base-%s.pcap" % n))
    rows = []
    for f in sorted(os.listdir(d)):
        if f.startswith("emu-") and f.endswith(".pcap") and not args.only and not args.list:
            os.remove(os.path.join(d, f))
    for name, flows in plan_list():
        if args.only and args.only not in name:
            continue
        rng = random.Random(SEED ^ zlib.crc32(name.encode()))
        pk = []
        for i, (bname, fn, port) in enumerate(flows):
            B = bases[bname]
            if isinstance(B, UdpBase):
                out, det, tech, fool, decoy = q_plan(B, rng, fn)
                out = finish(out, B, port, 0.0)
            else:
                plan = fn(B, rng)
                out = emit_tcp(B, plan, rng, port=port, t_shift=i * 0.25)
                det, tech, fool, decoy = plan[3], plan[4], plan[5], plan[6]
            pk += out
            proto = bname.split("-")[0]
            rows.append({
                "capture": name + ".pcap", "transport": "udp" if proto == "quic" else "tcp",
                "client_ip": B.client[0], "client_port": port or B.client[1],
                "server_ip": B.server[0], "server_port": B.server[1],
                "real_name": REAL, "decoy_name": decoy or "",
                "techniques": tech, "fooling": "+".join(sorted(fool - {"ttl1"})) or "none",
                "label": LABEL[proto], "origin": "emulated from base-%s.pcap" % bname,
                "details": det})
            if args.list:
                print(name, "|", tech, "|", rows[-1]["fooling"], "|", det)
        if args.list:
            continue
        frames = []
        for p in sorted(pk, key=lambda p: p.ts):
            frames += p.frames()
        frames.sort(key=lambda x: x[0])
        write_pcap(os.path.join(d, name + ".pcap"), frames)
    if args.list or args.only:
        return
    rows = real_rows(d) + rows
    with open(os.path.join(d, "expected.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["capture", "transport", "client_ip", "client_port",
                                          "server_ip", "server_port", "real_name", "decoy_name",
                                          "techniques", "fooling", "label", "origin", "details"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print("wrote %d emulated captures, expected.csv with %d rows" % (
        len([n for n, _ in plan_list()]), len(rows)))


# ============================================================ rows for the real captures
REAL_CAPS = [
    # capture, label, [(techniques, fooling, details) per flow in order]
    ("base-tls12-v4", "tls1.2", [("none", "none", "curl --tls-max 1.2 --http1.1, no evasion")]),
    ("base-tls12-v6", "tls1.2", [("none", "none", "curl --tls-max 1.2 --http1.1, no evasion")]),
    ("base-tls13-v4", "tls1.3", [("none", "none", "curl --tlsv1.3 (ALPN h2), no evasion")]),
    ("base-tls13-v6", "tls1.3", [("none", "none", "curl --tlsv1.3 on port 8443, no evasion")]),
    ("base-tls13pq-v4", "tls1.3-pq", [("none", "none", "Chromium, X25519MLKEM768 ClientHello in 2 segments")]),
    ("base-tls13pq-v6", "tls1.3-pq", [("none", "none", "Chromium, X25519MLKEM768 ClientHello in 2 segments")]),
    ("base-http-v4", "http", [("none", "none", "curl GET, no evasion")]),
    ("base-http-v6", "http", [("none", "none", "curl GET on port 8080, no evasion")]),
    ("base-quic-v4", "quic-v1", [("none", "none", "aioquic HTTP/3 client -> aioquic server")]),
    ("base-quic-v6", "quic-v1", [("none", "none", "aioquic HTTP/3 client -> aioquic server")]),
    ("tiny-mss-tls13", "tls1.3", [("none", "none", "server advertises MSS 48: ClientHello in 36-byte segments by the Linux stack (not evasion)")] * 2),
    ("tiny-mss-http", "http", [("none", "none", "server advertises MSS 48: request in 36-byte segments by the Linux stack (not evasion)")] * 2),
    ("real-split-tls13", "tls1.3", [
        ("split", "none", "desync_relay split at host+3 (TCP_NODELAY, 2 send() calls)"),
        ("split", "none", "desync_relay split at 1,host+3,midsld (4 send() calls)")]),
    ("real-oob-tls13", "tls1.3", [
        ("oob", "none", "desync_relay oob at host+4: send(MSG_OOB) of part1+'a', Linux URG segment"),
        ("oob", "none", "desync_relay oob at midsld: send(MSG_OOB) of part1+'a'")]),
    ("real-tlsrec-tls13", "tls1.3", [
        ("tlsrec", "none", "desync_relay tlsrec at host+5: 2 TLS records in one send()"),
        ("tlsrec+split", "none", "desync_relay tlsrec at host+5, each record in its own send()"),
        ("tlsrec", "none", "desync_relay tlsrec at midsld")]),
    ("real-oob-split-http", "http", [
        ("oob", "none", "desync_relay oob at host+2 on HTTP"),
        ("split", "none", "desync_relay split at 2,host+3 on HTTP")]),
    ("real-host-tricks-http", "http", [
        ("host_header", "none", "raw client: 'hOsT: blocked.example.test' (GoodbyeDPI -r, tpws --hostcase)"),
        ("host_header", "none", "raw client: 'Host:blocked.example.test' (no space, GoodbyeDPI -s)"),
        ("host_header", "none", "raw client: 'Host: bLoCkEd.ExAmPlE.tEsT' (GoodbyeDPI -m, tpws --domcase)"),
        ("host_header", "none", "raw client: Host as the last header line"),
        ("host_header", "none", "raw client: 'GET  / HTTP/1.1' + 'Host:   blocked.example.test  ' (extra spaces)"),
        ("host_header", "none", "raw client: LF before the method + 'HOST:blocked.example.test'"),
        ("host_header", "none", "raw client: tab after the name, port 8080; nginx 1.22 answers 400 Bad Request")]),
    ("real-syndata-tfo", "tls1.3", [
        ("syndata", "none", "curl --tcp-fastopen, client tcp_fastopen=5 (no cookie), server TFO off: "
         "the real ClientHello rides in the SYN, is ignored and sent again after the SYN/ACK"),
        ("syndata", "none", "same with plain HTTP over IPv6: the real GET rides in the SYN")]),
    ("ctrl-retrans-tls13", "tls1.3", [
        ("none", "none", "NEGATIVE CONTROL: first ClientHello dropped by the server firewall, genuine retransmission of the same bytes"),
    ] * 2),
    ("ctrl-csum-offload", "tls1.3", [
        ("none", "none", "NEGATIVE CONTROL: tx checksum offload on the capturing veth: all client checksums look wrong"),
        ("none", "none", "NEGATIVE CONTROL: tx checksum offload, plain HTTP over IPv6")]),
]


def real_rows(d):
    rows = []
    for cap, label, flows in REAL_CAPS:
        path = os.path.join(d, cap + ".pcap")
        if not os.path.exists(path):
            continue
        fl = [f for f in flows_of(read_pcap(path))
              if f[0].proto == 17 or any(p.flags & SYN for p in f)]
        if cap.startswith("base-") or cap.startswith("ctrl-") or cap.startswith("tiny"):
            pass
        for i, f in enumerate(fl):
            tech, fool, det = flows[min(i, len(flows) - 1)]
            lab = label
            if cap in ("ctrl-csum-offload", "real-syndata-tfo") and f[0].dport in (80, 8080):
                lab = "http"
            c = next(p for p in f if p.dir == "c")
            rows.append({
                "capture": cap + ".pcap", "transport": "udp" if c.proto == 17 else "tcp",
                "client_ip": ip_str(c.v, c.src), "client_port": c.sport,
                "server_ip": ip_str(c.v, c.dst), "server_port": c.dport,
                "real_name": REAL, "decoy_name": "", "techniques": tech, "fooling": fool,
                "label": lab, "origin": "real recording" if not cap.startswith("ctrl") else
                "real recording (negative control)", "details": det})
    return rows


if __name__ == "__main__":
    main()
