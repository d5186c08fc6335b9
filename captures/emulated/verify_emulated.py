#!/usr/bin/env python3
"""
verify_emulated.py - checks the EMULATED captures against expected.csv and writes verify.txt.

    python3 captures/emulated/verify_emulated.py

1. tshark (must be installed): every pcap reads, flow count per file, IP/UDP/TCP
   checksum errors, malformed frames.
2. AmneziaWG 1.0/1.5/2.0 (parameters from expected.csv): every datagram of every flow
   is explained - I/J/junk pre-packets (count Jc + I-packets, junk sizes within
   [Jmin, Jmax], I sizes = CPS length) right before each initiation; initiation size
   148+S1 with H1 at offset S1; response 92+S2 with H2 at offset S2 and its receiver
   index (offset S2+8) == initiation sender index (offset S1+4); transport with H4 at
   offset S4, receiver index == peer's sender index, counters strictly increasing.
   AmneziaWG 3.0-hpk: the same after removing header protection with the key.
3. OpenVPN XOR: undo the scramble with the flow's mode/mask (TCP: per length-prefixed
   record) and check the OpenVPN structure (opcodes, constant session id per side).
4. Negative controls and AWG 3.0-hpk against two parameter-free discriminants:
   "index echo" (init sender index re-appears in the reply at the shifted offset) and
   "OpenVPN session-id repetition under the scramble".
"""

import csv
import collections
import os
import struct
import subprocess
import sys

import dpkt

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_emulated as M  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
out_lines = []


def out(s=''):
    print(s)
    out_lines.append(s)


def details(row):
    d = {}
    for part in row['details'].split('; '):
        if '=' in part:
            k, v = part.split('=', 1)
            d[k] = v
    return d


def rng_of(v):
    if '-' in v:
        a, b = v.split('-')
        return int(a), int(b)
    return int(v), int(v)


def read_flows(path, proto):
    """{(cli_ip, cli_port, srv_ip, srv_port): [(ts, c2s, payload / tcp obj)]} keyed by the
    expected.csv tuple; direction resolved later."""
    flows = collections.defaultdict(list)
    with open(path, 'rb') as f:
        for ts, buf in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            l4 = ip.data
            import socket
            fam = socket.AF_INET6 if isinstance(ip, dpkt.ip6.IP6) else socket.AF_INET
            a = (socket.inet_ntop(fam, ip.src), l4.sport)
            b = (socket.inet_ntop(fam, ip.dst), l4.dport)
            flows[(a, b)].append((ts, l4))
    return flows


def flow_packets(flows, row):
    c = (row['client_ip'], int(row['client_port']))
    s = (row['server_ip'], int(row['server_port']))
    pk = [(ts, True, l4) for ts, l4 in flows.get((c, s), [])] + \
         [(ts, False, l4) for ts, l4 in flows.get((s, c), [])]
    pk.sort(key=lambda x: x[0])
    return pk


# ---------------------------------------------------------------------------------------
def check_awg(path, rows):
    flows = read_flows(path, 17)
    bad = []
    stats = collections.Counter()
    for row in rows:
        d = details(row)
        ver = row['label'].split('-')[1]
        S = [int(d.get('S%d' % k, 0)) for k in (1, 2, 3, 4)]
        H = [rng_of(d['H%d' % k]) for k in (1, 2, 3, 4)]
        jc, jmin, jmax = int(d['Jc']), int(d['Jmin']), int(d['Jmax'])
        ispecs = [d.get('I%d' % k) for k in range(1, 6)]
        jspecs = [d.get('J%d' % k) for k in range(1, 4)]
        hpk = bytes.fromhex(d['HeaderProtectionKey']) if 'HeaderProtectionKey' in d else None
        mtu = int(d['tunnel MTU'])
        pk = flow_packets(flows, row)
        pend = []           # payloads not yet explained (pre-packets)
        idx = {}            # sender index per side
        last_ctr = {True: -1, False: -1}
        err = []
        n_init = n_resp = n_tr = 0

        def unprotect(p, s, full):
            if not hpk:
                return p
            nonce = p[:12]
            if full:
                return p[:s] + M.chacha20_xor(hpk, nonce, p[s:])
            return p[:s] + M.chacha20_xor(hpk, nonce, p[s:s + 16]) + p[s + 16:]

        for n_, (ts, c2s, l4) in enumerate(pk):
            p = bytes(l4.data)
            kind = None
            # the initiation is the last datagram of its burst (pre-packets are sent in the
            # same sendmmsg batch, microseconds apart): a 148+S1 datagram directly followed
            # by another datagram of the same side within 200 us is a pre-packet
            nxt = pk[n_ + 1] if n_ + 1 < len(pk) else None
            burst = nxt is not None and nxt[1] == c2s and nxt[0] - ts < 200e-6
            if len(p) == 148 + S[0] and not burst:
                q = unprotect(p, S[0], True)
                if H[0][0] <= struct.unpack('<I', q[S[0]:S[0] + 4])[0] <= H[0][1]:
                    kind = 'init'
                    # pre-packets: last len(pend) packets of this side must be exactly
                    # I/J packets + Jc junk
                    pre = [x for x in pend if x[0] == c2s]
                    sizes = [len(x[1]) for x in pre]
                    nI = len(sizes) - jc
                    if nI < 0:
                        err.append('init with %d pre-packets < Jc=%d' % (len(sizes), jc))
                    else:
                        junk = sizes[nI:]
                        if any(not (jmin <= z <= jmax) for z in junk):
                            err.append('junk size outside [Jmin,Jmax]: %s' % junk)
                        vv = '1.5' if ver == '1.5' else '2.0'
                        icand = [M.cps_len(s_, vv) for s_ in ispecs if s_]
                        jcand = [M.cps_len(s_, vv) for s_ in jspecs if s_]
                        if sizes[:nI] not in (icand, jcand, []):
                            err.append('I/J pre-packet sizes %s, expected %s or %s' %
                                       (sizes[:nI], icand, jcand))
                        if ver in ('2.0', '3.0') and sizes[:nI] != icand:
                            err.append('2.0: I-packets missing before init')
                        stats['pre_I'] += nI
                        stats['junk'] += len(junk)
                    pend = [x for x in pend if x[0] != c2s]
                    idx[c2s] = q[S[0] + 4:S[0] + 8]
                    n_init += 1
            if kind is None and len(p) == 92 + S[1]:
                q = unprotect(p, S[1], True)
                if H[1][0] <= struct.unpack('<I', q[S[1]:S[1] + 4])[0] <= H[1][1] and \
                        q[S[1] + 8:S[1] + 12] == idx.get(not c2s):
                    kind = 'resp'
                    idx[c2s] = q[S[1] + 4:S[1] + 8]
                    last_ctr = {True: -1, False: -1}
                    n_resp += 1
            if kind is None and len(p) >= 32 + S[3]:
                q = unprotect(p, S[3], False)
                # a real receiver drops a datagram whose receiver index is unknown, so a
                # junk datagram whose bytes happen to fall into a wide H4 range is junk
                if H[3][0] <= struct.unpack('<I', q[S[3]:S[3] + 4])[0] <= H[3][1] and \
                        q[S[3] + 4:S[3] + 8] == idx.get(not c2s):
                    kind = 'data'
                    ctr = struct.unpack('<Q', q[S[3] + 8:S[3] + 16])[0]
                    if ctr <= last_ctr[c2s]:
                        err.append('transport counter not increasing')
                    last_ctr[c2s] = ctr
                    # WireGuard pads to 16, but never beyond the tunnel MTU
                    plen = len(p) - S[3] - 32
                    if not hpk and (plen % 16 and plen != mtu or plen > mtu):
                        err.append('transport payload not 16-aligned')
                    n_tr += 1
            if kind is None:
                pend.append((c2s, p))
        if pend:
            err.append('%d unexplained datagrams' % len(pend))
        if n_init < 1 or n_resp < 1 or n_tr < 1:
            err.append('init/resp/data = %d/%d/%d' % (n_init, n_resp, n_tr))
        stats['flows'] += 1
        stats['init'] += n_init
        stats['resp'] += n_resp
        stats['data'] += n_tr
        if err:
            bad.append((row['client_ip'], row['client_port'], err[:3]))
    out('%s: %d flows checked; init %d, response %d, transport %d, I/J pre-packets %d, '
        'junk %d; flows with errors: %d' % (os.path.basename(path), stats['flows'], stats['init'],
                                            stats['resp'], stats['data'], stats['pre_I'],
                                            stats['junk'], len(bad)))
    for b in bad[:10]:
        out('   ERROR %s' % (b,))
    return not bad


# ---------------------------------------------------------------------------------------
def ovpn_ok(bodies_c, bodies_s, static):
    """Structure check of de-scrambled OpenVPN packets of one flow."""
    if static:
        # static key: HMAC-SHA256(32)+IV(16)+16n: only the size rule can be checked
        return all((len(b) - 48) % 16 == 0 and len(b) >= 64 for b in bodies_c + bodies_s)
    for bodies, first_ops in ((bodies_c, (7, 10)), (bodies_s, (8,))):
        if not bodies:
            return False
        if bodies[0][0] >> 3 not in first_ops:
            return False
        sids = set(b[1:9] for b in bodies if (b[0] >> 3) in M.OVPN_CTRL)
        if len(sids) != 1:
            return False
        if any((b[0] >> 3) not in (3, 4, 5, 6, 7, 8, 9, 10, 11) for b in bodies):
            return False
    return True


def records(stream):
    return [bytes(stream[o:o + n]) for o, n in M.tcp_records(stream)]


def tcp_bodies(pk):
    """Records per direction from a (possibly truncated) TCP flow."""
    st = {True: {}, False: {}}
    isn = {}
    for ts, c2s, t in pk:
        if t.flags & dpkt.tcp.TH_SYN:
            isn[c2s] = t.seq
    streams = {}
    for c2s in (True, False):
        s = bytearray()
        for ts, cc, t in pk:
            if cc == c2s and t.data:
                off = (t.seq - isn[c2s] - 1) & 0xffffffff
                if len(s) < off + len(t.data):
                    s.extend(bytes(off + len(t.data) - len(s)))
                s[off:off + len(t.data)] = bytes(t.data)
        streams[c2s] = s
    return records(streams[True]), records(streams[False])


def check_ovpn(path, rows):
    proto = 'tcp' if path.endswith('-tcp.pcap') else 'udp'
    flows = read_flows(path, 6 if proto == 'tcp' else 17)
    bad = 0
    wrong_ok = 0
    for row in rows:
        d = details(row)
        mode = row['label'].split('openvpn-xor-')[1]
        mask = bytes.fromhex(d['mask_hex']) if 'mask_hex' in d else b''
        static = 'static' in row['details']
        pk = flow_packets(flows, row)
        if proto == 'udp':
            c = [bytes(l4.data) for ts, c2s, l4 in pk if c2s]
            s = [bytes(l4.data) for ts, c2s, l4 in pk if not c2s]
        else:
            c, s = tcp_bodies(pk)
        dec = lambda L, m: [M.scramble_read(mode, b, m) for b in L]  # noqa: E731
        if not ovpn_ok(dec(c, mask), dec(s, mask), static):
            bad += 1
        # control: raw wire bytes (no de-scrambling) must NOT look like OpenVPN
        if not static and ovpn_ok(c, s, False):
            wrong_ok += 1
    out('%s: %d flows; OpenVPN structure after de-scrambling with the listed mode/mask: '
        '%d ok, %d failed; raw (not de-scrambled) bytes parse as OpenVPN in %d flows' %
        (os.path.basename(path), len(rows), len(rows) - bad, bad, wrong_ok))
    return bad == 0


# ---------------------------------------------------------------------------------------
def index_echo(pk):
    """Parameter-free AWG discriminant: the last client datagram before the first server
    datagram is the initiation (148+S1), the first server datagram the response (92+S2);
    the initiation's sender index must re-appear as the response's receiver index."""
    first_srv = next((k for k, x in enumerate(pk) if not x[1]), None)
    if first_srv is None or first_srv == 0:
        return False
    init = bytes(pk[first_srv - 1][2].data)
    resp = bytes(pk[first_srv][2].data)
    s1, s2 = len(init) - 148, len(resp) - 92
    if s1 < 0 or s2 < 0:
        return False
    return init[s1 + 4:s1 + 8] == resp[s2 + 8:s2 + 12]


def sid_repeat(pk, proto):
    """Parameter-free scramble discriminant for xormask/xorptrpos: identical bytes 1..8 in
    the first two client packets (session id at the same offset, same keystream)."""
    if proto == 'udp':
        c = [bytes(l4.data) for ts, c2s, l4 in pk if c2s]
    else:
        c, _ = tcp_bodies(pk)
    return len(c) >= 2 and len(c[0]) > 9 and len(c[1]) > 9 and c[0][1:9] == c[1][1:9]


def discriminants(path, rows, proto):
    flows = read_flows(path, 17 if proto == 'udp' else 6)
    n = collections.Counter()
    for row in rows:
        if row['transport'] != proto:
            continue
        pk = flow_packets(flows, row)
        n['flows'] += 1
        if proto == 'udp' and index_echo(pk):
            n['echo'] += 1
        if sid_repeat(pk, proto):
            n['sid'] += 1
    return n


def tshark_summary(path):
    name = os.path.basename(path)
    r = subprocess.run(['tshark', '-r', path, '-q', '-z', 'conv,udp', '-z', 'conv,tcp'],
                       capture_output=True, text=True)
    conv = {'udp': 0, 'tcp': 0}
    cur = None
    for line in r.stdout.splitlines():
        if line.startswith('UDP Conversations'):
            cur = 'udp'
        elif line.startswith('TCP Conversations'):
            cur = 'tcp'
        elif cur and '<->' in line:
            conv[cur] += 1
    def count(flt):
        r_ = subprocess.run(['tshark', '-r', path, '-o', 'ip.check_checksum:TRUE',
                             '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
                             '-Y', flt, '-T', 'fields', '-e', 'frame.number'],
                            capture_output=True, text=True)
        return len([x for x in r_.stdout.split() if x])
    badf = count('ip.checksum.status==0 || udp.checksum.status==0 || tcp.checksum.status==0')
    malformed = count('_ws.malformed')
    tcpana = count('tcp.analysis.flags && !tcp.analysis.window_update')
    r3 = subprocess.run(['capinfos', path], capture_output=True, text=True)
    info = dict((l.split(':', 1)[0].strip(), l.split(':', 1)[1].strip())
                for l in r3.stdout.splitlines() if ':' in l)
    out('%-36s %7d B %5s frames  conv udp %3d tcp %3d  bad checksums %d  tcp-analysis %d  '
        'malformed %d  (%s, %s)' % (name, os.path.getsize(path), info.get('Number of packets'),
                                    conv['udp'], conv['tcp'], badf, tcpana, malformed,
                                    info.get('File encapsulation'),
                                    info.get('Packet size limit')))
    return r.returncode == 0 and badf == 0, conv


def main():
    rows = list(csv.DictReader(open(os.path.join(HERE, 'expected.csv'))))
    by_cap = collections.defaultdict(list)
    for r in rows:
        by_cap[r['capture']].append(r)
    ok = True
    out('== tshark 4.0.17: frames, conversations (must equal expected.csv rows), bad IP/UDP/TCP')
    out('   checksums (must be 0), TCP analysis flags (retransmission/lost segment...), and')
    out('   "malformed": tshark heuristically dissecting obfuscated bytes on ports 53/443/1194')
    out('   as DNS/QUIC/OpenVPN - expected for obfuscated traffic, not a capture error')
    for cap in sorted(by_cap):
        good, conv = tshark_summary(os.path.join(HERE, cap))
        want = collections.Counter(r['transport'] for r in by_cap[cap])
        if conv['udp'] != want['udp'] or conv['tcp'] != want['tcp']:
            out('   MISMATCH: expected.csv has udp %d tcp %d' % (want['udp'], want['tcp']))
            good = False
        ok &= good
    out()
    out('== AmneziaWG structure with the parameters from expected.csv')
    for cap in sorted(by_cap):
        if cap.startswith('amneziawg'):
            ok &= check_awg(os.path.join(HERE, cap), by_cap[cap])
    out()
    out('== OpenVPN XOR: de-scramble with mode/mask from expected.csv, check OpenVPN structure')
    for cap in sorted(by_cap):
        if cap.startswith('openvpn-xor'):
            ok &= check_ovpn(os.path.join(HERE, cap), by_cap[cap])
    out()
    out('== parameter-free discriminants (what a detector could key on)')
    out('   index-echo = init sender index re-appears as response receiver index at the '
        'offsets implied by the datagram sizes (148+S1 / 92+S2)')
    out('   sid-repeat = bytes 1..8 of the first two client packets (bodies) identical')
    for cap in sorted(by_cap):
        for proto in ('udp', 'tcp'):
            n = discriminants(os.path.join(HERE, cap), by_cap[cap], proto)
            if n['flows']:
                out('%-38s %s flows %3d  index-echo %3d  sid-repeat %3d' %
                    (cap, proto, n['flows'], n['echo'], n['sid']))
    out()
    out('RESULT: %s' % ('all checks passed' if ok else 'FAILURES (see above)'))
    with open(os.path.join(HERE, 'verify.txt'), 'w') as f:
        f.write('\n'.join(out_lines) + '\n')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
