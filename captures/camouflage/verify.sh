#!/usr/bin/env bash
# Writes verify.txt: for every *.pcap here, the link type / packet count (capinfos),
# `tshark -q -z conv,tcp -z conv,udp`, and per TCP flow the TCP payload lengths of
# its first 12 non-empty segments per direction (c2s = from the SYN sender).
# Usage: bash captures/camouflage/verify.sh   (needs tshark; no root needed)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
{
for f in trojan trojan-tls12 vless-vision vless-tls vmess-ws-tls anytls shadowtls-v3 ss-v2ray-wstls \
         openvpn-stunnel tls-direct-curl tls-direct-chromium tls-direct-websocket; do
    [ -f "$f.pcap" ] || continue
    echo "=================================================================== $f.pcap"
    capinfos -t -E -l -c -s "$f.pcap" 2>/dev/null | sed 1d
    tshark -n -r "$f.pcap" -q -z conv,tcp -z conv,udp 2>/dev/null | grep -v '^$'
    echo "first TCP payload lengths per direction (trimmed file):"
    tshark -n -r "$f.pcap" -T fields -E separator='|' -e tcp.stream -e ip.src -e ipv6.src \
        -e tcp.srcport -e tcp.len -e tcp.flags.syn -e tcp.flags.ack 2>/dev/null | python3 -c '
import sys
fl = {}
for line in sys.stdin:
    sid, s4, s6, sp, ln, syn, ack = line.rstrip("\n").split("|")
    src = (s4 or s6, sp)
    f = fl.setdefault(sid, {"c": None, "up": [], "down": []})
    if f["c"] is None and syn in ("1", "True") and ack in ("0", "False"):
        f["c"] = src
    if f["c"] is None or not int(ln or 0):
        continue
    (f["up"] if src == f["c"] else f["down"]).append(ln)
for sid, f in fl.items():
    if f["c"]:
        c, up, down = f["c"], " ".join(f["up"][:12]), " ".join(f["down"][:12])
        print("  stream %s client %s:%s: c2s %s | s2c %s" % (sid, c[0], c[1], up, down))
'
done
} > verify.txt
echo "wrote $HERE/verify.txt"
