#!/usr/bin/env python3
"""Checks every pcap of captures/evasion/ with tshark (Debian 12 tshark 4.0)
and writes verify.txt: per capture the packet and flow counts, which names
tshark decodes (TLS SNI incl. QUIC, HTTP Host), checksum failures (with
checksum validation switched on), malformed packets, IP fragments and the TCP
analysis flags tshark raises.  Also checks that every flow of expected.csv is
in its capture.

  python3 verify.py [--dir DIR]      -> DIR/verify.txt, exit 1 on a problem
"""
import argparse
import collections
import csv
import os
import subprocess
import sys

FIELDS = ["frame.number", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
          "_ws.malformed", "tls.handshake.extensions_server_name", "http.host",
          "tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.lost_segment",
          "tcp.analysis.duplicate_ack", "ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset",
          "ipv6.hopopts.nxt", "ipv6.dstopts.nxt", "tcp.flags.urg", "tcp.option_kind", "ip.ttl",
          "ipv6.hlim", "ip.src", "ipv6.src"]
OPTS = ["-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-o", "ip.check_checksum:TRUE", "-d", "tcp.port==8443,tls"]


def tshark(args):
    return subprocess.run(["tshark"] + args, capture_output=True, text=True).stdout


def check(path):
    out = tshark(["-r", path] + OPTS + ["-T", "fields", "-E", "separator=\t", "-E",
                                          "aggregator=,"] + sum([["-e", f] for f in FIELDS], []))
    c = collections.Counter()
    names = collections.Counter()
    npk = 0
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        npk += 1
        for k in ("ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"):
            if v.get(k) == "0":
                c["bad " + k.split(".")[0] + " checksum"] += 1
        if v.get("_ws.malformed"):
            c["malformed"] += 1
        for n in filter(None, (v.get("tls.handshake.extensions_server_name", "") + "," +
                               v.get("http.host", "")).split(",")):
            names[n] += 1
        for k in ("retransmission", "out_of_order", "lost_segment", "duplicate_ack"):
            if v.get("tcp.analysis." + k):
                c[k.replace("_", "-")] += 1
        if v.get("ip.flags.mf") == "1" or v.get("ip.frag_offset", "0") not in ("", "0"):
            c["ipv4 fragment"] += 1
        if v.get("ipv6.fraghdr.offset"):
            c["ipv6 fragment"] += 1
        if v.get("ipv6.hopopts.nxt"):
            c["ipv6 hop-by-hop x%d" % (v["ipv6.hopopts.nxt"].count(",") + 1)] += 1
        if v.get("ipv6.dstopts.nxt"):
            c["ipv6 dest-opts"] += 1
        if v.get("tcp.flags.urg") == "1":
            c["URG"] += 1
        if "19" in v.get("tcp.option_kind", "").split(","):
            c["md5sig option"] += 1
        ttl = v.get("ip.ttl") or v.get("ipv6.hlim") or ""
        for t in ttl.split(","):
            if t and int(t) < 50:
                c["ttl<50"] += 1
                break
    conv = tshark(["-r", path, "-q", "-z", "conv,tcp", "-z", "conv,udp"])
    flows = sum(1 for l in conv.splitlines() if "<->" in l)
    return npk, flows, names, c, conv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    d = a.dir
    files = sorted(f for f in os.listdir(d) if f.endswith(".pcap"))
    exp = collections.defaultdict(list)
    with open(os.path.join(d, "expected.csv")) as f:
        for r in csv.DictReader(f):
            exp[r["capture"]].append(r)
    problems = []
    lines = ["# verify.txt - written by verify.py (tshark %s); checksum validation ON" %
             tshark(["--version"]).splitlines()[0].split()[1],
             "# (tshark is told -d tcp.port==8443,tls: without it, it does not recognise TLS on"
             " 8443 when the first segment is shorter than a record header)",
             "# columns: capture | packets | flows (tshark conv) | bytes | names decoded by tshark "
             "(SNI/Host: count) | notable counts", ""]
    total = 0
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(lambda fn: check(os.path.join(d, fn)), files))
    for fn, (npk, flows, names, c, conv) in zip(files, results):
        p = os.path.join(d, fn)
        size = os.path.getsize(p)
        total += size
        nm = " ".join("%s:%d" % kv for kv in sorted(names.items())) or "-"
        cc = " ".join("%s=%d" % kv for kv in sorted(c.items())) or "-"
        lines.append("%s | %d pkts | %d flows | %d B | %s | %s" % (fn, npk, flows, size, nm, cc))
        if fn not in exp:
            problems.append("%s not in expected.csv" % fn)
        else:
            for r in exp[fn]:
                cip = r["client_ip"] if ":" not in r["client_ip"] else r["client_ip"]
                if ("%s:%s" % (cip, r["client_port"])) not in conv:
                    problems.append("%s: flow %s:%s not found" % (fn, cip, r["client_port"]))
            if len(exp[fn]) != flows:
                problems.append("%s: %d flows in tshark, %d rows in expected.csv" % (fn, flows, len(exp[fn])))
        if size > 400 * 1024:
            problems.append("%s larger than 400 KB" % fn)
    lines.append("")
    lines.append("total %d files, %d bytes" % (len(files), total))
    for pr in problems:
        lines.append("PROBLEM: " + pr)
    with open(os.path.join(d, "verify.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[-3 - len(problems):]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
