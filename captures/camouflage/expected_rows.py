#!/usr/bin/env python3
"""Write the expected.csv rows of one capture.

Usage: expected_rows.py CAPTURE RAW.pcap LABEL COMMON_DETAILS [FLOW_DETAILS ...]

Flows are the TCP connections of RAW.pcap (the untrimmed capture) in the order
of their SYN.  The i-th flow gets FLOW_DETAILS[i] (if given) appended to
COMMON_DETAILS, plus its byte counts per direction in the untrimmed capture.
Rows (no header) go to stdout:
capture,transport,client_ip,client_port,server_ip,server_port,label,details
"""
import csv
import subprocess
import sys


def main():
    cap, raw, label, common, *per_flow = sys.argv[1:]
    out = subprocess.run(
        ["tshark", "-n", "-r", raw, "-T", "fields", "-E", "separator=|",
         "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
         "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "tcp.len",
         "-e", "tcp.flags.syn", "-e", "tcp.flags.ack"],
        capture_output=True, text=True, check=True).stdout
    flows, order = {}, []
    for line in out.splitlines():
        sid, s4, s6, sp, d4, d6, dp, ln, syn, ack = line.split("|")
        src, dst = (s4 or s6, sp), (d4 or d6, dp)
        if sid not in flows:
            if not (syn in ("1", "True") and ack in ("0", "False")):
                continue        # flow started before the capture: not of interest
            flows[sid] = {"c": src, "s": dst, "up": 0, "down": 0}
            order.append(sid)
        f = flows[sid]
        f["up" if src == f["c"] else "down"] += int(ln or 0)
    w = csv.writer(sys.stdout, lineterminator="\n")
    for i, sid in enumerate(order):
        f = flows[sid]
        d = common
        if i < len(per_flow) and per_flow[i]:
            d += "; " + per_flow[i]
        d += f"; TCP payload c2s={f['up']} s2c={f['down']} bytes (untrimmed)"
        w.writerow([cap, "tcp", f["c"][0], f["c"][1], f["s"][0], f["s"][1], label, d])
    if per_flow and len(per_flow) != len(order):
        print(f"WARNING {cap}: {len(order)} flows but {len(per_flow)} flow descriptions",
              file=sys.stderr)


if __name__ == "__main__":
    main()
