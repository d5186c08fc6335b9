#!/usr/bin/env python3
"""Trim a classic pcap (Ethernet, IPv4/IPv6, TCP/UDP) so long transfers stay small.

Usage: trim_pcap.py IN.pcap OUT.pcap [--head 60] [--tail 8] [--burst 16] [--gap 0.3]

A packet is kept when, counted within its own flow (5-tuple, both directions):
  * it is one of the flow's first HEAD packets, or
  * it is one of the flow's last TAIL packets (FIN/RST exchange), or
  * it is one of the first BURST packets after the flow was idle for >= GAP
    seconds (so a long-lived tunnel that carries several inner requests keeps
    the start of every inner request, e.g. the inner TLS handshake).
Everything else (the middle of bulk transfers) is dropped.  Packets that are not
TCP/UDP over IPv4/IPv6 are kept.  Timestamps and bytes of kept packets are not
changed; TCP sequence numbers therefore jump where packets were removed.
Prints one summary line per flow to stderr.
"""
import struct
import sys


def flow_key(pkt):
    if len(pkt) < 14:
        return None
    eth_type = struct.unpack("!H", pkt[12:14])[0]
    off = 14
    if eth_type == 0x8100 and len(pkt) >= 18:
        eth_type = struct.unpack("!H", pkt[16:18])[0]
        off = 18
    if eth_type == 0x0800:
        if len(pkt) < off + 20:
            return None
        ihl = (pkt[off] & 0x0F) * 4
        proto = pkt[off + 9]
        src, dst = pkt[off + 12:off + 16], pkt[off + 16:off + 20]
        l4 = off + ihl
    elif eth_type == 0x86DD:
        if len(pkt) < off + 40:
            return None
        proto = pkt[off + 6]
        src, dst = pkt[off + 8:off + 24], pkt[off + 24:off + 40]
        l4 = off + 40
    else:
        return None
    if proto not in (6, 17) or len(pkt) < l4 + 4:
        return None
    sport, dport = struct.unpack("!HH", pkt[l4:l4 + 4])
    a, b = (src, sport), (dst, dport)
    return (proto,) + (tuple(sorted([a, b])))


def main():
    args = sys.argv[1:]
    opts = {"--head": 60, "--tail": 8, "--burst": 16, "--gap": 0.3}
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = type(opts[args[i]])(args[i + 1])
            i += 2
        else:
            pos.append(args[i])
            i += 1
    src, dst = pos
    with open(src, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("not a little-endian classic pcap")
    nano = magic == 0xA1B23C4D
    header = data[:24]
    recs = []
    off = 24
    while off + 16 <= len(data):
        ts_s, ts_f, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        t = ts_s + ts_f / (1e9 if nano else 1e6)
        recs.append((t, data[off:off + 16 + incl], flow_key(pkt)))
        off += 16 + incl
    total = {}
    for _, _, k in recs:
        if k is not None:
            total[k] = total.get(k, 0) + 1
    seen, last_t, burst_left, kept = {}, {}, {}, {}
    out = [header]
    for t, raw, k in recs:
        if k is None:
            out.append(raw)
            continue
        idx = seen.get(k, 0)
        seen[k] = idx + 1
        if k in last_t and t - last_t[k] >= opts["--gap"]:
            burst_left[k] = opts["--burst"]
        last_t[k] = t
        keep = idx < opts["--head"] or idx >= total[k] - opts["--tail"]
        if burst_left.get(k, 0) > 0:
            keep = True
            burst_left[k] -= 1
        if keep:
            out.append(raw)
            kept[k] = kept.get(k, 0) + 1
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    for k in total:
        proto = "tcp" if k[0] == 6 else "udp"
        (a, ap), (b, bp) = k[1], k[2]
        fmt = lambda x: ".".join(map(str, x)) if len(x) == 4 else x.hex()
        print(f"trim {proto} {fmt(a)}:{ap} <-> {fmt(b)}:{bp}: kept {kept.get(k, 0)} of {total[k]}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
