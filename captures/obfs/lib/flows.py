#!/usr/bin/env python3
"""Flow table of a capture (via tshark) -> expected.csv rows and a human summary.

  flows.py summary PCAP...
      one line per TCP/UDP flow: client -> server, packet count, the sizes of the first
      payload-carrying packets per direction (TCP: tcp.len; UDP: udp.length - 8), and for
      TCP the verdict of the "fully encrypted traffic" rules of Wu et al. (USENIX Sec 2023)
      on the first client payload (Ex1 popcount/byte <=3.4 or >=4.6, Ex2 first 6 bytes
      printable, Ex3 >50% printable, Ex4 >20 contiguous printable, Ex5 TLS/HTTP start;
      "BLOCK" = none of the exemptions applies).
  flows.py expected --csv FILE --capture NAME --pcap PCAP --rule 'PROTO:PORT=LABEL|DETAILS'...
      replaces the rows of capture NAME in FILE with one row per flow of PCAP.  PROTO is
      tcp, udp or *; PORT is the server port or *; first matching rule wins; a flow that
      matches no rule is an error.
"""
import csv, os, subprocess, sys
from collections import OrderedDict

HDR = ["capture", "transport", "client_ip", "client_port", "server_ip", "server_port",
       "label", "details"]
FIELDS = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.stream",
          "udp.stream", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "tcp.len", "udp.length", "tcp.flags.syn", "tcp.flags.ack", "tcp.payload",
          "udp.payload"]


def packets(pcap):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        yield v


def flows(pcap):
    fl = OrderedDict()
    for v in packets(pcap):
        src = v["ip.src"] or v["ipv6.src"]
        dst = v["ip.dst"] or v["ipv6.dst"]
        if v["tcp.stream"]:
            key = ("tcp", v["tcp.stream"]); sp, dp = v["tcp.srcport"], v["tcp.dstport"]
            ln = int(v["tcp.len"] or 0); pl = v["tcp.payload"]
        elif v["udp.stream"]:
            key = ("udp", v["udp.stream"]); sp, dp = v["udp.srcport"], v["udp.dstport"]
            ln = int(v["udp.length"] or 8) - 8; pl = v["udp.payload"]
        else:
            continue
        f = fl.get(key)
        if f is None:
            f = fl[key] = {"proto": key[0], "cli": src, "cport": sp, "srv": dst, "sport": dp,
                           "n": 0, "c2s": [], "s2c": [], "first": None, "bytes": [0, 0]}
            # a flow whose first packet we see is a SYN/ACK would be reversed: not expected
        f["n"] += 1
        up = (src == f["cli"] and sp == f["cport"])
        if ln > 0:
            (f["c2s"] if up else f["s2c"]).append(ln)
            f["bytes"][0 if up else 1] += ln
            if up and f["first"] is None and pl:
                f["first"] = bytes.fromhex(pl.replace(":", ""))
    return list(fl.values())


def printable(b):
    return 0x20 <= b <= 0x7e


def gfw(p):
    if not p:
        return "-"
    pop = sum(bin(b).count("1") for b in p) / len(p)
    ex = []
    if pop <= 3.4 or pop >= 4.6:
        ex.append("Ex1")
    if len(p) >= 6 and all(printable(b) for b in p[:6]):
        ex.append("Ex2")
    if sum(printable(b) for b in p) * 2 > len(p):
        ex.append("Ex3")
    run = best = 0
    for b in p:
        run = run + 1 if printable(b) else 0
        best = max(best, run)
    if best > 20:
        ex.append("Ex4")
    if (p[0] in (0x16, 0x17) and len(p) > 2 and p[1] == 3 and p[2] <= 9) or \
            p[:4] in (b"GET ", b"PUT ", b"POST", b"HEAD"):
        ex.append("Ex5")
    return ("popcount %.2f " % pop) + ("exempt:" + "+".join(ex) if ex else "BLOCK")


def fmt_sizes(lst, k=6):
    s = ",".join(str(x) for x in lst[:k])
    return s + (",..." if len(lst) > k else "")


def summary(pcaps):
    for pcap in pcaps:
        print("== %s (%d bytes)" % (os.path.basename(pcap), os.path.getsize(pcap)))
        for f in flows(pcap):
            cli = "[%s]" % f["cli"] if ":" in f["cli"] else f["cli"]
            srv = "[%s]" % f["srv"] if ":" in f["srv"] else f["srv"]
            line = "%s %s:%s -> %s:%s pkts=%d bytes c2s=%d s2c=%d | c2s %s | s2c %s" % (
                f["proto"], cli, f["cport"], srv, f["sport"], f["n"], f["bytes"][0],
                f["bytes"][1], fmt_sizes(f["c2s"]) or "-", fmt_sizes(f["s2c"]) or "-")
            if f["proto"] == "tcp":
                line += " | first c2s payload: " + gfw(f["first"])
            print("  " + line)


def expected(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--capture", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--rule", action="append", default=[])
    a = ap.parse_args(argv)
    rules = []
    for r in a.rule:
        m, lab = r.split("=", 1)
        proto, port = m.split(":")
        label, details = lab.split("|", 1)
        rules.append((proto, port, label, details))
    rows = []
    if os.path.exists(a.csv):
        with open(a.csv) as fh:
            rows = [r for r in csv.DictReader(fh) if r["capture"] != a.capture]
    for f in flows(a.pcap):
        for proto, port, label, details in rules:
            if proto in ("*", f["proto"]) and port in ("*", f["sport"]):
                rows.append({"capture": a.capture, "transport": f["proto"],
                             "client_ip": f["cli"], "client_port": f["cport"],
                             "server_ip": f["srv"], "server_port": f["sport"],
                             "label": label, "details": details})
                break
        else:
            sys.exit("flow %s %s:%s -> %s:%s matches no rule" % (
                f["proto"], f["cli"], f["cport"], f["srv"], f["sport"]))
    with open(a.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=HDR)
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "expected":
        expected(sys.argv[2:])
    else:
        sys.exit(__doc__)
