#!/usr/bin/env python3
"""
make_emulated.py - EMULATED AmneziaWG and XOR-patched ("scramble") OpenVPN captures.

Nothing here was produced by AmneziaWG or by a patched OpenVPN: neither exists as a
package on this machine. This script takes the project's own REAL recordings in
captures/vpn/ (wireguard-*.pcap, openvpn-udp-*.pcap, openvpn-tcp-*.pcap, made with
wireguard-go / OpenVPN 2.6.14 between two network namespaces) and rewrites every
datagram / TCP record into what the obfuscated variant puts on the wire, following
the published specifications (amneziawg-go device/send.go + receive.go + obf*.go,
amneziawg-linux-kernel-module, the Tunnelblick openvpn_xorpatch a-e). See README.md.

Usage (no root needed, no network):
    pip install dpkt            # only dependency besides python3 (tested: 3.11.7, dpkt 1.9.8)
    python3 captures/emulated/make_emulated.py
    python3 captures/emulated/verify_emulated.py      # structural checks + tshark summary

Deterministic: one seeded random.Random (SEED below) drives every choice; the same
base pcaps give byte-identical output. Outputs (all in this directory):
    amneziawg-1.0.pcap amneziawg-1.5.pcap amneziawg-2.0.pcap amneziawg-3.0-hpk.pcap
    openvpn-xor-{xormask,xorptrpos,reverse,obfuscate}-{udp,tcp}.pcap
    emulated-random-udp.pcap emulated-random-openvpn-like.pcap
    expected.csv
"""

import csv
import hashlib
import os
import random
import struct
import sys

import dpkt

SEED = 20251206
HERE = os.path.dirname(os.path.abspath(__file__))
BASE_DIR = os.path.normpath(os.path.join(HERE, '..', 'vpn'))
OUT_DIR = HERE
BASE_CLIENT_IP = bytes([10, 202, 0, 1])

WG_BASES = ['wireguard-udp-51820.pcap', 'wireguard-udp-443.pcap', 'wireguard-udp-51820-rekey.pcap']
OVPN_UDP_BASES = [
    'openvpn-udp-1194-plain.pcap', 'openvpn-udp-1194-tlsauth-sha1.pcap',
    'openvpn-udp-1194-tlsauth-sha256.pcap', 'openvpn-udp-1194-tlsauth-sha512.pcap',
    'openvpn-udp-53-tlscrypt.pcap', 'openvpn-udp-443-tlscryptv2.pcap',
    'openvpn-udp-5000-cipher-chacha.pcap', 'openvpn-udp-1194-cipher-aes128cbc-sha1.pcap',
    'openvpn-udp-1194-reneg.pcap', 'openvpn-udp-1194-static.pcap',
]
OVPN_TCP_BASES = ['openvpn-tcp-443-tlsauth.pcap', 'openvpn-tcp-1194-tlscrypt.pcap']
BASE_DESC = {
    'wireguard-udp-51820.pcap': 'wireguard-go handshake + ping + 16 KiB HTTP + keepalive 1 s',
    'wireguard-udp-443.pcap': 'wireguard-go on 443, handshake + ping + 16 KiB HTTP + keepalive 1 s',
    'wireguard-udp-51820-rekey.pcap': 'wireguard-go 130 s, 2nd handshake (rekey) at ~120 s',
    'openvpn-udp-1194-plain.pcap': 'TLS mode, no tls-auth (HARD_RESET 14 B)',
    'openvpn-udp-1194-tlsauth-sha1.pcap': 'tls-auth SHA1 (HARD_RESET 42 B)',
    'openvpn-udp-1194-tlsauth-sha256.pcap': 'tls-auth SHA256 (HARD_RESET 54 B)',
    'openvpn-udp-1194-tlsauth-sha512.pcap': 'tls-auth SHA512 (HARD_RESET 86 B)',
    'openvpn-udp-53-tlscrypt.pcap': 'tls-crypt',
    'openvpn-udp-443-tlscryptv2.pcap': 'tls-crypt-v2 (HARD_RESET_CLIENT_V3 353 B)',
    'openvpn-udp-5000-cipher-chacha.pcap': 'no tls-auth, CHACHA20-POLY1305 data',
    'openvpn-udp-1194-cipher-aes128cbc-sha1.pcap': 'no tls-auth, AES-128-CBC+HMAC-SHA1 data',
    'openvpn-udp-1194-reneg.pcap': 'tls-auth SHA256, reneg-sec 10; trimmed: handshake + first data, plus 2 key-id-1 data packets at ~18 s',
    'openvpn-udp-1194-static.pcap': 'static-key mode (--secret; no opcode byte)',
    'openvpn-tcp-443-tlsauth.pcap': 'TCP, tls-auth SHA256',
    'openvpn-tcp-1194-tlscrypt.pcap': 'TCP, tls-crypt',
}

rng = random.Random(SEED)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def rbytes(n):
    return rng.getrandbits(8 * n).to_bytes(n, 'little') if n > 0 else b''


def rand_mac():
    return bytes([0x02]) + rbytes(5)


class Packet:
    """One IPv4 UDP/TCP packet of a base recording."""
    __slots__ = ('ts', 'c2s', 'proto', 'payload', 'seq', 'ack', 'flags', 'win', 'opts')

    def __init__(self, ts, c2s, proto, payload, seq=0, ack=0, flags=0, win=0, opts=b''):
        self.ts, self.c2s, self.proto, self.payload = ts, c2s, proto, payload
        self.seq, self.ack, self.flags, self.win, self.opts = seq, ack, flags, win, opts


def read_base(name):
    """Read a base pcap; keep IPv4 UDP/TCP packets (drops ARP). Times relative to first."""
    out = []
    with open(os.path.join(BASE_DIR, name), 'rb') as f:
        for ts, buf in dpkt.pcap.Reader(f):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if not isinstance(ip, dpkt.ip.IP):
                continue
            c2s = ip.src == BASE_CLIENT_IP
            l4 = ip.data
            if isinstance(l4, dpkt.udp.UDP):
                out.append(Packet(ts, c2s, 17, bytes(l4.data)))
            elif isinstance(l4, dpkt.tcp.TCP):
                out.append(Packet(ts, c2s, 6, bytes(l4.data), l4.seq, l4.ack, l4.flags, l4.win,
                                  bytes(l4.opts)))
    t0 = out[0].ts
    for p in out:
        p.ts = float(p.ts - t0)
    return out


def base_sha256(name):
    with open(os.path.join(BASE_DIR, name), 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class AddrPool:
    """Distinct synthetic endpoints per capture file."""

    def __init__(self, second_octet, v6_prefix):
        self.o2 = second_octet
        self.v6 = v6_prefix
        self.used = set()

    def pair(self, v6=False):
        while True:
            if v6:
                c = '%s:1::%x' % (self.v6, rng.randint(2, 0xfffe))
                s = '%s:2::%x' % (self.v6, rng.randint(2, 0xfffe))
            else:
                c = '10.%d.%d.%d' % (self.o2, rng.randint(1, 127), rng.randint(2, 254))
                s = '10.%d.%d.%d' % (self.o2, rng.randint(128, 254), rng.randint(2, 254))
            if (c, s) not in self.used:
                self.used.add((c, s))
                return c, s


def ip_to_bytes(a):
    import socket
    if ':' in a:
        return socket.inet_pton(socket.AF_INET6, a)
    return socket.inet_aton(a)


class FlowWriter:
    """Builds Ethernet/IP/UDP|TCP frames for one synthetic flow."""

    def __init__(self, cli_ip, srv_ip, cli_port, srv_port, proto):
        self.cli_ip, self.srv_ip = cli_ip, srv_ip
        self.cli_port, self.srv_port, self.proto = cli_port, srv_port, proto
        self.v6 = ':' in cli_ip
        self.cb, self.sb = ip_to_bytes(cli_ip), ip_to_bytes(srv_ip)
        self.cmac, self.smac = rand_mac(), rand_mac()
        self.ipid = {True: rng.randint(0, 0xffff), False: rng.randint(0, 0xffff)}
        self.frames = []   # (abs_ts, bytes)

    def _ip(self, c2s, l4, p):
        src, dst = (self.cb, self.sb) if c2s else (self.sb, self.cb)
        if self.v6:
            ip = dpkt.ip6.IP6(src=src, dst=dst, nxt=p, hlim=64, data=l4, plen=len(bytes(l4)))
            ip.extension_hdrs = {}
            et = dpkt.ethernet.ETH_TYPE_IP6
        else:
            self.ipid[c2s] = (self.ipid[c2s] + 1) & 0xffff
            ip = dpkt.ip.IP(src=src, dst=dst, p=p, ttl=64, id=self.ipid[c2s], data=l4)
            ip.df = 1
            ip.len = 20 + len(bytes(l4))
            et = dpkt.ethernet.ETH_TYPE_IP
        smac, dmac = (self.cmac, self.smac) if c2s else (self.smac, self.cmac)
        return bytes(dpkt.ethernet.Ethernet(src=smac, dst=dmac, type=et, data=ip))

    def udp(self, ts, c2s, payload):
        sp, dp = (self.cli_port, self.srv_port) if c2s else (self.srv_port, self.cli_port)
        u = dpkt.udp.UDP(sport=sp, dport=dp, data=payload)
        u.ulen = 8 + len(payload)
        self.frames.append((ts, self._ip(c2s, u, 17)))

    def tcp(self, ts, c2s, seq, ack, flags, win, opts, payload):
        sp, dp = (self.cli_port, self.srv_port) if c2s else (self.srv_port, self.cli_port)
        t = dpkt.tcp.TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags=flags, win=win,
                         opts=opts, data=payload)
        t.off = (20 + len(opts)) // 4
        self.frames.append((ts, self._ip(c2s, t, 6)))


def write_pcap(name, flows):
    frames = []
    for fi, fw in enumerate(flows):
        for k, (ts, fr) in enumerate(fw.frames):
            frames.append((ts, fi, k, fr))
    frames.sort(key=lambda x: (x[0], x[1], x[2]))
    path = os.path.join(OUT_DIR, name)
    with open(path, 'wb') as f:
        w = dpkt.pcap.Writer(f, snaplen=262144, linktype=dpkt.pcap.DLT_EN10MB, nano=False)
        for ts, _, _, fr in frames:
            w.writepkt(fr, ts=ts)
    return path, len(frames), os.path.getsize(path)


def pick_port():
    r = rng.random()
    if r < 0.30:
        return 51820
    if r < 0.50:
        return 443
    if r < 0.60:
        return 53
    return rng.randint(1024, 65535)


def pick_client_port():
    return rng.randint(32768, 60999)


# file start time: the full hour of the earliest base recording (set in main()), so that
# OpenVPN packet-id times and <t> tags match the pcap clock; deterministic for given bases.
T0 = 0.0


def flow_start(i, gap):
    return T0 + i * gap + rng.uniform(0, gap * 0.8)


# ----------------------------------------------------------------------------------------
# packet selection (size budget): first N packets, bulk packets capped
# ----------------------------------------------------------------------------------------

def select_udp(pkts, max_pkts, big_cap, protect, tail=0):
    keep, big = [], 0
    for i, p in enumerate(pkts):
        if len(keep) >= max_pkts:
            break
        isbig = len(p.payload) > 1000
        if protect(i, p) or not isbig:
            keep.append(i)
        elif big < big_cap:
            keep.append(i)
            big += 1
    for i in range(max(len(pkts) - tail, 0), len(pkts)):
        if i not in keep and i > keep[-1]:
            keep.append(i)
    return keep


# ----------------------------------------------------------------------------------------
# WireGuard: parse + per-flow re-randomisation (new indices, fresh random crypto bytes)
# ----------------------------------------------------------------------------------------

class WgMsg:
    __slots__ = ('ts', 'c2s', 'type', 'body')

    def __init__(self, ts, c2s, t, body):
        self.ts, self.c2s, self.type, self.body = ts, c2s, t, body


def wg_rerandomise(pkts, idxs):
    """Return WgMsg list with new sender/receiver indices (consistent mapping) and fresh
    random bytes in every encrypted / MAC field; counters and lengths unchanged."""
    imap = {}

    def mi(b):
        if b not in imap:
            imap[b] = rbytes(4)
        return imap[b]

    def keepzero(b):
        return b if b == bytes(len(b)) else rbytes(len(b))

    out = []
    for i in idxs:
        p = pkts[i]
        d = p.payload
        t = d[0]
        if t == 1 and len(d) == 148:
            body = d[:4] + mi(d[4:8]) + rbytes(108) + rbytes(16) + keepzero(d[132:148])
        elif t == 2 and len(d) == 92:
            body = d[:4] + mi(d[4:8]) + mi(d[8:12]) + rbytes(48) + rbytes(16) + keepzero(d[76:92])
        elif t == 3 and len(d) == 64:
            body = d[:4] + mi(d[4:8]) + rbytes(56)
        elif t == 4 and len(d) >= 32:
            body = d[:4] + mi(d[4:8]) + d[8:16] + rbytes(len(d) - 16)
        else:
            raise ValueError('unexpected WireGuard message in base: type %d len %d' % (t, len(d)))
        out.append(WgMsg(p.ts, p.c2s, t, body))
    return out


def wg_select(name, pkts):
    """Packet indices kept for one flow (size budget)."""
    inits = [i for i, p in enumerate(pkts) if p.payload[0] == 1 and len(p.payload) == 148]
    max_pkts = rng.randint(16, 24)
    if len(inits) > 1:   # rekey base: start of session + window around the re-handshake
        first = select_udp(pkts[:inits[1]], max_pkts - 8, 2, lambda i, p: i < 3)
        second = list(range(inits[1] - 2, min(inits[1] + 7, len(pkts))))
        return first + [i for i in second if i > first[-1]]
    return select_udp(pkts, max_pkts, rng.randint(0, 1), lambda i, p: i < 3, tail=2)


# ----------------------------------------------------------------------------------------
# AmneziaWG CPS ("custom protocol signature") tag language for I1..I5 / J1..J3
# ----------------------------------------------------------------------------------------

CHARS_62 = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'   # go 1.5 <rc>
CHARS_52 = b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'             # 2.0 <rc>


def parse_cps(spec):
    tags = []
    rest = spec
    while '<' in rest:
        s = rest.index('<')
        e = rest.index('>', s)
        parts = rest[s + 1:e].split()
        tags.append((parts[0], parts[1] if len(parts) > 1 else None))
        rest = rest[e + 1:]
    return tags


def render_cps(spec, version, now, counter):
    """Bytes of one CPS packet. version '1.5' (amneziawg-go 1.5: <t>,<c> 8 bytes, <rc>
    alphanumeric) or '2.0' (amneziawg-go 2.x: <t>,<c> 4 bytes BE, <rc> letters)."""
    out = b''
    for k, v in parse_cps(spec):
        if k == 'b':
            out += bytes.fromhex(v[2:])
        elif k == 'r':
            out += rbytes(int(v))
        elif k == 'rc':
            alpha = CHARS_62 if version == '1.5' else CHARS_52
            out += bytes(alpha[b % len(alpha)] for b in rbytes(int(v)))
        elif k == 'rd':
            out += bytes(0x30 + b % 10 for b in rbytes(int(v)))
        elif k == 't':
            out += struct.pack('>Q' if version == '1.5' else '>I', int(now))
        elif k == 'c':
            out += struct.pack('>Q' if version == '1.5' else '>I', counter)
        else:
            raise ValueError(k)
    return out


def cps_len(spec, version):
    n = 0
    for k, v in parse_cps(spec):
        if k == 'b':
            n += (len(v) - 2) // 2
        elif k in ('r', 'rc', 'rd'):
            n += int(v)
        elif k in ('t', 'c'):
            n += 8 if version == '1.5' else 4
    return n


def hexs(b):
    return '0x' + b.hex()


def i1_template():
    """A first signature packet like people configure (mimicry of a common UDP protocol)."""
    kind = rng.choice(['quic', 'quic', 'dns', 'dns', 'sip', 'stun', 'dtls', 'random'])
    if kind == 'quic':
        # QUIC v1 long header Initial: flags, version 1, DCID len 8 + DCID, SCID len 0/8,
        # token len 0, 2-byte varint length, then random (looks like protected payload)
        dcid = rbytes(8)
        scil = rng.choice([0, 8])
        hdr = bytes([0xc0 | rng.randint(0, 3)]) + b'\x00\x00\x00\x01' + b'\x08' + dcid + \
            bytes([scil]) + rbytes(scil) + b'\x00' + b'\x44\xd0'
        rest = 1200 - len(hdr)      # amneziawg-go 1.5 rejects <r N> with N > 1000: split
        return kind, '<b %s><r 1000><r %d>' % (hexs(hdr), rest - 1000)
    if kind == 'dns':
        name = rng.choice(['www.google.com', 'yandex.ru', 'vk.com', 'api.telegram.org',
                           'cloudflare.com', 'example.com', 'gosuslugi.ru'])
        q = b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\x00'
        if rng.random() < 0.5:   # fixed transaction id inside <b>, as pasted from a capture
            return kind, '<b %s>' % hexs(rbytes(2) + b'\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' +
                                         q + b'\x00\x01\x00\x01')
        return kind, '<r 2><b %s>' % hexs(b'\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + q +
                                          b'\x00\x01\x00\x01')
    if kind == 'sip':
        host = rng.choice(['sip.example.net', 'voip.mts.ru', 'pbx.local'])
        line = ('REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP ' % host).encode()
        return kind, '<b %s><rd 3><b 0x2e><rd 3><b %s><rc 10><b %s>' % (
            hexs(line), hexs(b';branch=z9hG4bK'), hexs(b'\r\nMax-Forwards: 70\r\n\r\n'))
    if kind == 'stun':
        # Binding Request, length 0, magic cookie, 12-byte transaction id
        return kind, '<b 0x000100002112a442><r 12>'
    if kind == 'dtls':
        # DTLS 1.2 record header (content type 22, version fefd, epoch 0, seq 0, length)
        # + handshake type 1 (ClientHello), rest random
        n = rng.randint(180, 400)
        hdr = b'\x16\xfe\xfd\x00\x00' + bytes(6) + struct.pack('>H', n) + b'\x01'
        return kind, '<b %s><r %d>' % (hexs(hdr), n - 1)
    return kind, '<r %d>' % rng.randint(32, 400)


def ix_template():
    """I2..I5 / J1..J3: entropy packets (counters, timestamps, random)."""
    return rng.choice([
        '<r %d>' % rng.randint(8, 200),
        '<rc %d>' % rng.randint(8, 64),
        '<rd %d>' % rng.randint(4, 32),
        '<b %s><c><t><r %d>' % (hexs(rbytes(rng.randint(2, 8))), rng.randint(4, 60)),
        '<t><r %d>' % rng.randint(10, 100),
        '<c><rc %d>' % rng.randint(5, 40),
        '<b %s><r %d>' % (hexs(rbytes(rng.randint(1, 6))), rng.randint(20, 300)),
    ])


# ----------------------------------------------------------------------------------------
# AmneziaWG parameter sets
# ----------------------------------------------------------------------------------------

def junk_params():
    jc = 0 if rng.random() < 0.12 else rng.randint(1, 10)
    jmin = rng.randint(8, 120)
    jmax = rng.randint(jmin + 10, min(1280, jmin + rng.choice([60, 200, 600, 1000])))
    return jc, jmin, jmax


def s12():
    while True:
        s1 = 0 if rng.random() < 0.08 else rng.randint(1, 150)
        s2 = 0 if rng.random() < 0.08 else rng.randint(1, 150)
        if s1 + 56 != s2:
            return s1, s2


def h_values():
    hi = 2147483647 if rng.random() < 0.8 else 0xffffffff
    vals = set()
    while len(vals) < 4:
        vals.add(rng.randint(5, hi))
    return list(vals)


def h_ranges():
    """Four non-overlapping ranges in [5, 2^32-1] (2.0 'H1 = a-b'); some single values."""
    while True:
        rs = []
        for _ in range(4):
            w = rng.choice([0, rng.randint(1, 1000), rng.randint(1000, 10 ** 6),
                            rng.randint(10 ** 6, 10 ** 8), rng.randint(10 ** 8, 4 * 10 ** 8)])
            lo = rng.randint(5, 0xffffffff - w)
            rs.append((lo, lo + w))
        ok = all(a[1] < b[0] or b[1] < a[0] for x, a in enumerate(rs) for b in rs[x + 1:])
        if ok:
            return rs


def sizes_distinct(s1, s2, s3, s4):
    v = [148 + s1, 92 + s2, 64 + s3, 32 + s4]
    return len(set(v)) == 4


def make_awg_params(version):
    P = {'version': version}
    P['Jc'], P['Jmin'], P['Jmax'] = junk_params()
    if version in ('1.0', '1.5'):
        P['S1'], P['S2'] = s12()
        P['S3'] = P['S4'] = 0
        h = h_values()
        P['H'] = [(v, v) for v in h]
    else:
        while True:
            if version == '3.0':
                s1, s2 = rng.randint(12, 150), rng.randint(12, 150)
                s3, s4 = rng.randint(12, 64), rng.randint(12, 32)
            else:
                s1, s2 = s12()
                s3 = 0 if rng.random() < 0.15 else rng.randint(1, 64)
                s4 = 0 if rng.random() < 0.15 else rng.randint(1, 32)
            if s1 + 56 != s2 and sizes_distinct(s1, s2, s3, s4):
                break
        P['S1'], P['S2'], P['S3'], P['S4'] = s1, s2, s3, s4
        P['H'] = h_ranges()
    P['I'] = [None] * 5
    P['J'] = [None] * 3
    P['Itime'] = None
    if version in ('1.5', '2.0', '3.0'):
        if rng.random() < 0.85:
            kind, spec = i1_template()
            P['I'][0] = spec
            P['I1kind'] = kind
        for k in range(1, 5):
            if rng.random() < 0.35:
                P['I'][k] = ix_template()
        if version == '1.5':
            P['Itime'] = rng.choice([0, 60, 120, 300])
            for k in range(3):
                if rng.random() < 0.3:
                    P['J'][k] = ix_template()
    if version == '3.0':
        P['HPK'] = rbytes(32)
        P['CPA'] = None
        if rng.random() < 0.5:
            lo = rng.randint(0, 32)
            P['CPA'] = (lo, lo + rng.randint(8, 96))
    return P


def awg_details(P, base, extra):
    d = ['emulated from base=%s (%s)' % (base, BASE_DESC[base]), 'AWG %s' % P['version'],
         'Jc=%d' % P['Jc'], 'Jmin=%d' % P['Jmin'], 'Jmax=%d' % P['Jmax'],
         'S1=%d' % P['S1'], 'S2=%d' % P['S2']]
    if P['version'] in ('2.0', '3.0'):
        d += ['S3=%d' % P['S3'], 'S4=%d' % P['S4']]
        for k, (lo, hi) in enumerate(P['H']):
            d.append('H%d=%d-%d' % (k + 1, lo, hi) if hi != lo else 'H%d=%d' % (k + 1, lo))
    else:
        for k, (lo, hi) in enumerate(P['H']):
            d.append('H%d=%d' % (k + 1, lo))
    present = [k for k in range(5) if P['I'][k]]
    if P['version'] != '1.0':
        d.append('I-packets=%s' % (','.join('I%d' % (k + 1) for k in present) or 'none'))
        for k in present:
            d.append('I%d=%s' % (k + 1, P['I'][k]))
        if P.get('I1kind'):
            d.append('I1 mimics %s' % P['I1kind'])
    if P['version'] == '1.5':
        d.append('Itime=%d' % P['Itime'])
        for k in range(3):
            if P['J'][k]:
                d.append('J%d=%s' % (k + 1, P['J'][k]))
    if P['version'] == '3.0':
        d.append('HeaderProtectionKey=%s' % P['HPK'].hex())
        d.append('ContentPaddingAddition=%s' % ('%d-%d' % P['CPA'] if P['CPA'] else 'unset'))
    d.append('tunnel MTU=%d' % P['MTU'])
    return d + extra


# ----------------------------------------------------------------------------------------
# ChaCha20 (RFC 8439 block function; IETF 96-bit nonce; counter starts at 0 like
# golang.org/x/crypto/chacha20.NewUnauthenticatedCipher) for AWG 3.x header protection
# ----------------------------------------------------------------------------------------

def _chacha_block(key, counter, nonce):
    def rotl(v, c):
        return ((v << c) & 0xffffffff) | (v >> (32 - c))
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] + list(struct.unpack('<8I', key)) + \
        [counter] + list(struct.unpack('<3I', nonce))
    x = s[:]

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack('<16I', *[(x[i] + s[i]) & 0xffffffff for i in range(16)])


def chacha20_xor(key, nonce, data):
    out = bytearray()
    for blk in range((len(data) + 63) // 64):
        ks = _chacha_block(key, blk, nonce)
        chunk = data[blk * 64:(blk + 1) * 64]
        out += bytes(a ^ b for a, b in zip(chunk, ks))
    return bytes(out)


assert _chacha_block(bytes(range(32)), 1, bytes.fromhex('000000090000004a00000000'))[:16] == \
    bytes.fromhex('10f1e7e4d13b5915500fdd1fa32071c4'), 'chacha20 self-test (RFC 8439 2.3.2)'


# ----------------------------------------------------------------------------------------
# AmneziaWG emulation of one flow
# ----------------------------------------------------------------------------------------

BASE_WG_MTU = 1420      # wg-quick default MTU of the base recordings


def awg_flow(P, base, pkts, fw, start):
    """Rewrite one WireGuard session into AmneziaWG (version P['version']) on fw.
    Returns per-flow notes for expected.csv."""
    v = P['version']
    idxs = wg_select(base, pkts)
    msgs = wg_rerandomise(pkts, idxs)
    sent_by = {True: 0, False: 0}       # packets sent per side (for <c>)
    last_special = None                 # 1.5 Itime bookkeeping
    notes = []
    hs = 0
    for m in msgs:
        ts = start + m.ts
        if m.type == 1:
            hs += 1
            pre = []                    # (label, bytes) sent right before the initiation
            specs = []
            if v == '1.5':
                due = last_special is None or P['Itime'] == 0 or m.ts - last_special >= P['Itime']
                if any(P['I']) and due:
                    specs = [('I%d' % (k + 1), s) for k, s in enumerate(P['I']) if s]
                    last_special = m.ts
                elif any(P['J']):
                    specs = [('J%d' % (k + 1), s) for k, s in enumerate(P['J']) if s]
            elif v in ('2.0', '3.0'):
                specs = [('I%d' % (k + 1), s) for k, s in enumerate(P['I']) if s]
            for lab, s in specs:
                b = render_cps(s, '1.5' if v == '1.5' else '2.0', ts, sent_by[m.c2s])
                pre.append((lab, b))
                sent_by[m.c2s] += 1
            for _ in range(P['Jc']):
                pre.append(('junk', rbytes(rng.randint(P['Jmin'], P['Jmax']))))
            gaps = [rng.uniform(8e-6, 30e-6) for _ in pre]
            t = ts - sum(gaps)
            for (lab, b), g in zip(pre, gaps):
                fw.udp(t, m.c2s, b)
                t += g
            notes.append('handshake%d(%s): %s' % (
                hs, 'client' if m.c2s else 'server',
                ' '.join('%s:%d' % (lab, len(b)) for lab, b in pre) or 'no pre-packets'))
        pad_len = {1: P['S1'], 2: P['S2'], 3: P['S3'], 4: P['S4']}[m.type]
        lo, hi = P['H'][m.type - 1]
        hval = rng.randint(lo, hi)
        body = m.body
        if m.type == 4:
            # padded plaintext length; full-size inner packets (base tunnel MTU 1420) are
            # re-sized to this flow's tunnel MTU, which is chosen so that the padded
            # datagram still fits a 1500-byte IP MTU (as AmneziaWG users lower MTU)
            plen = len(body) - 32
            plen = P['MTU'] if plen >= BASE_WG_MTU else min(plen, P['MTU'])
            if v == '3.0' and P['CPA']:
                # ContentPaddingAddition: random padding instead of the 16-alignment,
                # capped at the MTU (send.go randomPaddingAddition); emulated on top of
                # the 16-aligned base length (real sizes can be up to 15 bytes smaller)
                plen = min(plen + rng.randint(*P['CPA']), P['MTU'])
            if plen != len(body) - 32:
                body = body[:16] + rbytes(plen + 16)
        msg = struct.pack('<I', hval) + body[4:]
        pad = rbytes(pad_len)
        if v == '3.0':
            nonce = pad[:12]
            if m.type == 4:     # transport: only the 16-byte header is protected
                msg = chacha20_xor(P['HPK'], nonce, msg[:16]) + msg[16:]
            else:               # handshake / cookie: whole message
                msg = chacha20_xor(P['HPK'], nonce, msg)
        fw.udp(ts, m.c2s, pad + msg)
        sent_by[m.c2s] += 1
    return notes, len(idxs)


def gen_awg(version, nflows, rows):
    name = 'amneziawg-%s.pcap' % ('3.0-hpk' if version == '3.0' else version)
    label = 'amneziawg-%s' % ('3.0-hpk' if version == '3.0' else version)
    bases = {b: read_base(b) for b in WG_BASES}
    pool = AddrPool(216, 'fd00:216')
    flows = []
    for i in range(nflows):
        base = WG_BASES[i % len(WG_BASES)]
        P = make_awg_params(version)
        v6 = rng.random() < 0.12
        cip, sip = pool.pair(v6)
        fw = FlowWriter(cip, sip, pick_client_port(), pick_port(), 17)
        fit = 1500 - (40 if v6 else 20) - 8 - 32 - P['S4']
        P['MTU'] = min(rng.choice([1420, 1420, 1376, 1280]), fit)
        notes, nb = awg_flow(P, base, bases[base], fw, flow_start(i, 1.2))
        flows.append(fw)
        det = awg_details(P, base, ['%d base packets kept' % nb] + notes)
        rows.append([name, 'udp', cip, fw.cli_port, sip, fw.srv_port, label, '; '.join(det)])
    return write_pcap(name, flows)


# ----------------------------------------------------------------------------------------
# OpenVPN XOR patch ("scramble") - Tunnelblick openvpn_xorpatch semantics
# ----------------------------------------------------------------------------------------

def x_mask(b, mask):
    return bytes(c ^ mask[i % len(mask)] for i, c in enumerate(b)) if mask else b


def x_ptrpos(b):
    return bytes(c ^ ((i + 1) & 0xff) for i, c in enumerate(b))


def x_reverse(b):
    return b if len(b) <= 2 else b[:1] + b[1:][::-1]


def scramble_write(mode, b, mask):
    """link_socket_write(): applied to every UDP datagram / every TCP packet body
    (before the 2-byte TCP length prefix is prepended)."""
    if mode == 'xormask':
        return x_mask(b, mask)
    if mode == 'xorptrpos':
        return x_ptrpos(b)
    if mode == 'reverse':
        return x_reverse(b)
    if mode == 'obfuscate':
        return x_mask(x_ptrpos(x_reverse(x_ptrpos(b))), mask)
    raise ValueError(mode)


def scramble_read(mode, b, mask):
    """link_socket_read() inverse (used for self-checks)."""
    if mode == 'xormask':
        return x_mask(b, mask)
    if mode == 'xorptrpos':
        return x_ptrpos(b)
    if mode == 'reverse':
        return x_reverse(b)
    if mode == 'obfuscate':
        return x_ptrpos(x_reverse(x_ptrpos(x_mask(b, mask))))
    raise ValueError(mode)


BAD_CFG = set(b' \t\n\r\x0b\x0c"\'\\')


def make_mask():
    n = rng.randint(1, 32)
    if rng.random() < 0.5:
        kind = 'printable'
        alpha = [c for c in range(0x21, 0x7f) if c not in BAD_CFG]
    else:
        kind = 'binary'
        alpha = [c for c in range(1, 256) if c not in BAD_CFG]
    return bytes(rng.choice(alpha) for _ in range(n)), kind


def mask_repr(mask):
    if all(0x21 <= c < 0x7f for c in mask):
        return '"%s"' % mask.decode()
    return 'hex:%s' % mask.hex()


OVPN_CTRL = {1, 2, 3, 4, 5, 7, 8, 10, 11}


def ovpn_session_ids(payloads, static):
    if static:
        return []
    sids = []
    for d in payloads:
        if len(d) >= 9 and (d[0] >> 3) in OVPN_CTRL and d[1:9] not in sids:
            sids.append(d[1:9])
    return sids


def replace_sids(d, smap):
    for old, new in smap.items():
        if old in d:
            d = d.replace(old, new)
    return d


def ovpn_udp_select(pkts, static, max_pkts=None):
    max_pkts = max_pkts or rng.randint(16, 22)

    def protect(i, p):
        return i < 4 if static else (p.payload[0] >> 3) in OVPN_CTRL
    return select_udp(pkts, max_pkts, 0, protect, tail=2)


def ovpn_udp_flow(mode, mask, base, pkts, fw, start, transform=None, max_pkts=None):
    static = 'static' in base
    if 'reneg' in base:     # keep it small: up to (not incl.) the 2nd soft reset
        pkts = [p for p in pkts if p.ts < 19.0]
    idxs = ovpn_udp_select(pkts, static, max_pkts)
    smap = {s: rbytes(8) for s in ovpn_session_ids([pkts[i].payload for i in idxs], static)}
    for i in idxs:
        p = pkts[i]
        d = replace_sids(p.payload, smap)
        d = transform(d) if transform else scramble_write(mode, d, mask)
        fw.udp(start + p.ts, p.c2s, d)
    return len(idxs)


def tcp_streams(pkts):
    """Reassemble each direction of a base TCP flow. Returns isn per direction and the
    stream bytes per direction (offset 0 = first byte after SYN)."""
    isn = {}
    for p in pkts:
        if p.flags & dpkt.tcp.TH_SYN:
            isn[p.c2s] = p.seq
    streams = {True: bytearray(), False: bytearray()}
    for p in pkts:
        if p.payload:
            off = (p.seq - isn[p.c2s] - 1) & 0xffffffff
            s = streams[p.c2s]
            if len(s) < off + len(p.payload):
                s.extend(bytes(off + len(p.payload) - len(s)))
            s[off:off + len(p.payload)] = p.payload
    return isn, streams


def tcp_records(stream):
    """Split an OpenVPN TCP stream into (offset_of_body, body_len) records."""
    recs, pos = [], 0
    while pos + 2 <= len(stream):
        n = struct.unpack('>H', stream[pos:pos + 2])[0]
        if pos + 2 + n > len(stream):
            break
        recs.append((pos + 2, n))
        pos += 2 + n
    return recs


def ovpn_tcp_flow(mode, mask, base, pkts, fw, start, transform=None, max_pkts=None):
    n_keep = max_pkts or rng.randint(20, 26)
    isn, streams = tcp_streams(pkts)
    bodies = []
    for c2s in (True, False):
        for off, n in tcp_records(streams[c2s]):
            bodies.append(bytes(streams[c2s][off:off + n]))
    smap = {s: rbytes(8) for s in ovpn_session_ids(bodies, False)}
    new = {}
    nrec = 0
    for c2s in (True, False):
        s = bytearray(streams[c2s])
        for off, n in tcp_records(s):
            body = replace_sids(bytes(s[off:off + n]), smap)
            s[off:off + n] = transform(body) if transform else scramble_write(mode, body, mask)
            nrec += 1
        new[c2s] = s
    delta = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
    for p in pkts[:n_keep]:
        seq = (p.seq + delta[p.c2s]) & 0xffffffff
        ack = (p.ack + delta[not p.c2s]) & 0xffffffff if p.flags & dpkt.tcp.TH_ACK else 0
        pl = b''
        if p.payload:
            off = (p.seq - isn[p.c2s] - 1) & 0xffffffff
            pl = bytes(new[p.c2s][off:off + len(p.payload)])
        fw.tcp(start + p.ts, p.c2s, seq, ack, p.flags, p.win, p.opts, pl)
    return n_keep


def gen_ovpn(mode, proto, nflows, rows):
    name = 'openvpn-xor-%s-%s.pcap' % (mode, proto)
    label = 'openvpn-xor-%s' % mode
    bnames = OVPN_UDP_BASES if proto == 'udp' else OVPN_TCP_BASES
    bases = {b: read_base(b) for b in bnames}
    pool = AddrPool(218, 'fd00:218')
    flows = []
    for i in range(nflows):
        base = bnames[i % len(bnames)]
        mask, kind = (make_mask() if mode in ('xormask', 'obfuscate') else (b'', None))
        v6 = rng.random() < 0.1
        cip, sip = pool.pair(v6)
        r = rng.random()
        sport = 1194 if r < 0.4 else 443 if r < 0.6 else 53 if (r < 0.7 and proto == 'udp') \
            else rng.randint(1024, 65535)
        fw = FlowWriter(cip, sip, pick_client_port(), sport, 17 if proto == 'udp' else 6)
        fn = ovpn_udp_flow if proto == 'udp' else ovpn_tcp_flow
        nb = fn(mode, mask, base, bases[base], fw, flow_start(i, 0.9))
        flows.append(fw)
        det = ['emulated from base=%s (%s)' % (base, BASE_DESC[base]),
               'OpenVPN 2.6.14 + Tunnelblick xor patch semantics', 'scramble %s' % mode]
        if mask:
            det += ['mask=%s' % mask_repr(mask), 'mask_hex=%s' % mask.hex(),
                    'mask_len=%d' % len(mask), 'mask_kind=%s' % kind,
                    'config: scramble %s %s' % (mode, mask_repr(mask) if kind == 'printable'
                                                 else '<bytes %s>' % mask.hex())]
        if proto == 'tcp':
            det.append('2-byte TCP length prefix NOT scrambled; each packet body scrambled '
                       'from its own byte 0')
        det.append('session ids re-randomised per flow; %d base packets kept' % nb)
        rows.append([name, proto, cip, fw.cli_port, sip, fw.srv_port, label, '; '.join(det)])
    return write_pcap(name, flows)


# ----------------------------------------------------------------------------------------
# negative controls
# ----------------------------------------------------------------------------------------

def gen_random_udp(nflows, awg_templates, rows):
    """Random payloads whose sizes look like AmneziaWG: no index echo, no counters."""
    name = 'emulated-random-udp.pcap'
    pool = AddrPool(219, 'fd00:219')
    flows = []
    for i in range(nflows):
        v6 = rng.random() < 0.1
        cip, sip = pool.pair(v6)
        fw = FlowWriter(cip, sip, pick_client_port(), pick_port(), 17)
        start = flow_start(i, 0.35)
        style = 'size-twin' if (i % 5 in (1, 3) and awg_templates) else 'loose'
        if style == 'size-twin':
            src_name, tpl = awg_templates[rng.randrange(len(awg_templates))]
            tpl = tpl[:rng.randint(5, 8)]
            t_first = tpl[0][0]
            for ts, c2s, n in tpl:
                fw.udp(start + ts - t_first, c2s, rbytes(n))
            det = 'negative control (random bytes); sizes/directions/timing of the first %d ' \
                  'packets of a flow in %s, content random: no H-type, no index echo, ' \
                  'no counters' % (len(tpl), src_name)
        else:
            t = start
            jc = rng.choice([0, 0, 0, rng.randint(1, 6)])
            for _ in range(jc):
                fw.udp(t, True, rbytes(rng.randint(10, 400)))
                t += rng.uniform(5e-6, 3e-5)
            k, m = rng.randint(0, 150), rng.randint(0, 150)
            fw.udp(t, True, rbytes(148 + k))
            t += rng.uniform(2e-4, 0.05)
            fw.udp(t, False, rbytes(92 + m))
            n = rng.randint(3, 9)
            ka = rng.random() < 0.5
            kasize = 32 + rng.randint(0, 32)
            for _ in range(n):
                t += rng.expovariate(3.0)
                if ka and rng.random() < 0.4:
                    fw.udp(t, True, rbytes(kasize))
                else:
                    r = rng.random()
                    size = rng.randint(32, 200) if r < 0.6 else \
                        32 + 16 * rng.randint(1, 25) + rng.randint(0, 30) if r < 0.9 else \
                        rng.randint(200, 1400)
                    fw.udp(t, rng.random() < 0.5, rbytes(size))
            det = 'negative control (random bytes): %d leading random datagrams, first ' \
                  'datagram %d B (=148+%d), reply %d B (=92+%d), then %d random-sized ' \
                  'datagrams%s' % (jc, 148 + k, k, 92 + m, m, n,
                                   ', periodic %d B "keepalives"' % kasize if ka else '')
        flows.append(fw)
        rows.append([name, 'udp', cip, fw.cli_port, sip, fw.srv_port, 'random-udp',
                     det + '; must NOT be classified amneziawg'])
    return write_pcap(name, flows)


def gen_random_ovpn(n_udp, n_tcp, rows):
    """Random bytes with exactly the lengths/timing of real OpenVPN packets (UDP) or of
    real OpenVPN TCP records (correct 2-byte length prefixes, random bodies)."""
    name = 'emulated-random-openvpn-like.pcap'
    pool = AddrPool(220, 'fd00:220')
    flows = []
    ub = {b: read_base(b) for b in OVPN_UDP_BASES}
    tb = {b: read_base(b) for b in OVPN_TCP_BASES}

    def rnd(b):
        return rbytes(len(b))
    for i in range(n_udp + n_tcp):
        udp = i < n_udp
        base = OVPN_UDP_BASES[i % len(OVPN_UDP_BASES)] if udp else \
            OVPN_TCP_BASES[i % len(OVPN_TCP_BASES)]
        cip, sip = pool.pair(rng.random() < 0.1)
        fw = FlowWriter(cip, sip, pick_client_port(), rng.choice([1194, 443, 53, rng.randint(1024, 65535)]),
                        17 if udp else 6)
        if udp:
            ovpn_udp_flow(None, None, base, ub[base], fw, flow_start(i, 0.5), transform=rnd,
                          max_pkts=rng.randint(12, 16))
            det = 'negative control: random bytes with the datagram sizes/timing of %s' % base
        else:
            ovpn_tcp_flow(None, None, base, tb[base], fw, flow_start(i, 0.5), transform=rnd,
                          max_pkts=rng.randint(14, 18))
            det = 'negative control: real TCP handshake + valid 2-byte length prefixes with ' \
                  'the record sizes of %s, random record bodies' % base
        flows.append(fw)
        rows.append([name, 'udp' if udp else 'tcp', cip, fw.cli_port, sip, fw.srv_port,
                     'random-openvpn-like', det + '; must NOT be classified openvpn(-xor)'])
    return write_pcap(name, flows)


def awg_size_templates(path):
    """(ts, c2s, size) sequences per UDP flow of an emulated AWG pcap (client = lower
    sender of the first packet)."""
    flows = {}
    with open(path, 'rb') as f:
        for ts, buf in dpkt.pcap.Reader(f):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            u = ip.data
            a, b = (ip.src, u.sport), (ip.dst, u.dport)
            key = (a, b) if (a, b) in flows or (b, a) not in flows else (b, a)
            flows.setdefault(key, []).append((ts, (ip.src, u.sport) == key[0], len(u.data)))
    return list(flows.values())


# ----------------------------------------------------------------------------------------

def main():
    for b in WG_BASES + OVPN_UDP_BASES + OVPN_TCP_BASES:
        if not os.path.exists(os.path.join(BASE_DIR, b)):
            sys.exit('missing base recording %s (run captures/vpn/record.sh)' % b)
    global T0
    firsts = []
    for b in WG_BASES + OVPN_UDP_BASES + OVPN_TCP_BASES:
        with open(os.path.join(BASE_DIR, b), 'rb') as f:
            firsts.append(next(iter(dpkt.pcap.Reader(f)))[0])
    T0 = float(int(min(firsts)) // 3600 * 3600)
    rows = []
    results = []
    for v, n in (('1.0', 51), ('1.5', 51), ('2.0', 51), ('3.0', 21)):
        results.append(gen_awg(v, n, rows))
    for mode in ('xormask', 'xorptrpos', 'reverse', 'obfuscate'):
        results.append(gen_ovpn(mode, 'udp', 50, rows))
        results.append(gen_ovpn(mode, 'tcp', 50, rows))
    tpls = []
    for v in ('1.0', '1.5', '2.0'):
        fn = 'amneziawg-%s.pcap' % v
        tpls += [(fn, t) for t in awg_size_templates(os.path.join(OUT_DIR, fn))]
    results.append(gen_random_udp(200, tpls, rows))
    results.append(gen_random_ovpn(40, 25, rows))
    with open(os.path.join(OUT_DIR, 'expected.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['capture', 'transport', 'client_ip', 'client_port', 'server_ip',
                    'server_port', 'label', 'details'])
        w.writerows(rows)
    total = 0
    for path, nfr, size in results:
        total += size
        print('%-40s %6d frames %8d bytes' % (os.path.basename(path), nfr, size))
    print('total %d bytes; %d expected.csv rows' % (total, len(rows)))
    print('base sha256:')
    for b in WG_BASES + OVPN_UDP_BASES + OVPN_TCP_BASES:
        print('  %s  %s' % (base_sha256(b), b))


if __name__ == '__main__':
    main()
