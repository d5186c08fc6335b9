#!/usr/bin/env python3
"""Verify the kernel-VPN captures with tshark; write verify.txt and expected.csv.

    python3 verify.py [DIR]      (DIR defaults to this script's directory)

Called by record.sh after the UML guest has finished. Only reads the pcaps.
"""
import collections
import os
import subprocess
import sys

D = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
C_IP, S_IP, C_IP6, S_IP6 = "10.212.0.1", "10.212.0.2", "fd00:212::1", "fd00:212::2"

# capture -> (decode-as options, detail text)
META = {
    "l2tp-udp1701": ([], "L2TPv2 (RFC 2661) xl2tpd 1.3.18 LAC->LNS, kernel pppol2tp data path; "
                     "PPP CHAP-MD5, no CCP; 65 s idle -> HELLO + LCP echo; CDN + StopCCN"),
    "l2tp-udp8701": (["-d", "udp.port==8701,l2tp"],
                     "L2TPv2 xl2tpd 1.3.18 on non-standard ports (client 41701 -> LNS 8701); PPP CHAP-MD5"),
    "l2tp-ipsec-ikev1-natt": ([], None),
    "l2tp-ipsec-ikev1-esp": ([], None),
    "pptp-mppe128": ([], None),
    "pptp-nomppe": ([], None),
    "sstp-tcp443": ([], "SSTP sstp-client 1.0.18 -> sstp-server (PyPI) on 443, TLS 1.3, self-signed cert; "
                    "PPP MS-CHAPv2, no MPPE (SSTP crypto binding via sstp-pppd-plugin)"),
    "sstp-tcp8443-tls12": (["-d", "tcp.port==8443,tls"],
                           "SSTP sstp-client 1.0.18 -> sstp-server (PyPI) on 8443, client capped to TLS 1.2; "
                           "PPP MS-CHAPv2, no MPPE"),
    "gre-plain": ([], "ip link type gre (Linux 6.1 ip_gre), no key/seq/csum, inner IPv4 ping + HTTP"),
    "gre-key-seq-csum": ([], "ip link type gre key 0x5a1f7001 seq csum (flags C,K,S), inner IPv4 ping + HTTP"),
    "gretap": ([], "ip link type gretap: Ethernet over GRE (proto 0x6558), inner ARP + IPv4 ping + HTTP"),
    "ip6gre": ([], "ip link type ip6gre over IPv6 outer (encaplimit dest-option), inner IPv4 ping + HTTP"),
}


def tshark(pcap, *args):
    r = subprocess.run(["tshark", "-n", "-r", pcap, *args], capture_output=True, text=True)
    return r.stdout


def fields(pcap, dec, flt, names):
    a = list(dec)
    if flt:
        a += ["-Y", flt]
    a += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for n in names:
        a += ["-e", n]
    rows = []
    for line in tshark(pcap, *a).splitlines():
        r = line.split("\t")
        # outer header only for addresses (tunnelled packets have two IP layers)
        r = [v.split(",")[0] if n in ("ip.src", "ipv6.src", "ipv6.nxt") else v for n, v in zip(names, r)]
        rows.append(r)
    return rows


def table(rows, names, limit=60):
    out = ["  " + " | ".join(names)]
    for r in rows[:limit]:
        out.append("  " + " | ".join(r))
    if len(rows) > limit:
        out.append(f"  ... {len(rows) - limit} more")
    return out


def sizes_per_dir(pcap, dec, flt, n=10):
    rows = fields(pcap, dec, flt, ["ip.src", "ipv6.src", "frame.len"])
    per = collections.OrderedDict()
    for r in rows:
        src = r[0] or r[1]
        per.setdefault(src, []).append(r[2])
    return [f"  first frame sizes from {k}: {' '.join(v[:n])}" for k, v in per.items()]


def main():
    out, csv = [], ["capture,transport,client_ip,client_port,server_ip,server_port,label,details"]
    pcaps = sorted(f for f in os.listdir(D) if f.endswith(".pcap"))
    for f in pcaps:
        name = f[:-5]
        p = os.path.join(D, f)
        dec, detail = META.get(name, ([], ""))
        npk = len(tshark(p).splitlines())
        out += ["", "=" * 78, f"{f}: {os.path.getsize(p)} bytes, {npk} packets", "=" * 78]
        conv = tshark(p, *dec, "-q", "-z", "conv,tcp", "-z", "conv,udp", "-z", "conv,ip", "-z", "conv,ipv6")
        out += ["  " + l for l in conv.splitlines() if "<->" in l or l.startswith(("TCP", "UDP", "IPv"))]
        hier = tshark(p, *dec, "-q", "-z", "io,phs")
        out += ["  protocol hierarchy:"] + ["  " + l for l in hier.splitlines() if l.startswith(" ")]
        mal = tshark(p, *dec, "-Y", "_ws.malformed || _ws.expert.severity >= error")
        out.append(f"  malformed/error frames: {len(mal.splitlines())}")

        if name.startswith("l2tp"):
            ctrl = "l2tp.type == 1"
            names = ["frame.number", "frame.time_relative", "ip.src", "udp.srcport", "frame.len",
                     "l2tp.avp.message_type", "l2tp.tunnel", "l2tp.session", "l2tp.Ns", "l2tp.Nr",
                     "l2tp.avp.assigned_tunnel_id", "l2tp.avp.assigned_session_id", "l2tp.avp.host_name"]
            if "ipsec" in name:
                names2 = ["frame.number", "frame.time_relative", "ip.src", "udp.srcport", "udp.dstport",
                          "frame.len", "isakmp.exchangetype", "isakmp.ispi", "isakmp.rspi", "esp.spi",
                          "esp.sequence"]
                out.append("  IKE + ESP packets (ESP payload is encrypted; L2TP not visible):")
                out += table(fields(p, dec, "isakmp || esp", names2), names2, 80)
                out += sizes_per_dir(p, dec, "isakmp || esp", 15)
            else:
                out.append("  L2TP control messages (type 1; message_type empty = ZLB ack):")
                out += table(fields(p, dec, ctrl, names), names)
                names3 = ["frame.number", "ip.src", "frame.len", "l2tp.tunnel", "l2tp.session",
                          "ppp.protocol", "_ws.col.Info"]
                out.append("  L2TP data messages (type 0), first 40:")
                out += table(fields(p, dec, "l2tp.type == 0", names3), names3, 40)
                out += sizes_per_dir(p, dec, "l2tp", 15)
        elif name.startswith("pptp"):
            names = ["frame.number", "frame.time_relative", "ip.src", "tcp.srcport", "frame.len",
                     "pptp.control_message_type", "pptp.call_id", "pptp.peer_call_id", "_ws.col.Info"]
            out.append("  PPTP control (TCP 1723) messages:")
            out += table(fields(p, dec, "pptp", names), names)
            names2 = ["frame.number", "ip.src", "frame.len", "gre.flags_and_version", "gre.key.payload_length",
                      "gre.key.call_id", "gre.sequence_number", "gre.ack_number", "ppp.protocol", "_ws.col.Info"]
            out.append("  Enhanced GRE (v1) packets, first 50:")
            out += table(fields(p, dec, "gre", names2), names2, 50)
            out += sizes_per_dir(p, dec, "gre", 15)
        elif name.startswith("sstp"):
            names = ["frame.number", "ip.src", "tcp.srcport", "frame.len", "tcp.len",
                     "tls.record.content_type", "tls.record.opaque_type", "tls.record.length",
                     "tls.handshake.type", "_ws.col.Info"]
            out.append("  TLS records (first 30 frames with TLS):")
            out += table(fields(p, dec, "tls", names), names, 30)
            # first 15 application-data records per direction
            recs = collections.OrderedDict()
            # (TLS 1.3 puts the outer type in tls.record.opaque_type; tshark lists a
            # frame's records in order, so merge the two type fields by position)
            for r in fields(p, dec, "tls", ["ip.src", "tls.record", "tls.record.content_type",
                                             "tls.record.opaque_type", "tls.record.length"]):
                ct = [x for x in r[2].split(",") if x]
                ot = [x for x in r[3].split(",") if x]
                lens = r[4].split(",")
                types = ct + ot if len(ct) + len(ot) == len(lens) else []
                if ot and ct:   # handshake records come first, then the opaque ones
                    types = ct + ot
                for t, ln in zip(types, lens):
                    if t == "23":
                        recs.setdefault(r[0], []).append(ln)
            for k, v in recs.items():
                out.append(f"  application-data record lengths from {k} (first 15 of {len(v)}): {' '.join(v[:15])}")
            out += sizes_per_dir(p, dec, "tcp", 15)
        elif name.startswith(("gre", "ip6gre")):
            names = ["frame.number", "ip.src", "ipv6.src", "ipv6.nxt", "frame.len", "gre.flags_and_version", "gre.proto",
                     "gre.key", "gre.sequence_number", "gre.checksum", "_ws.col.Info"]
            out.append("  GRE packets (first 40):")
            out += table(fields(p, dec, "gre", names), names, 40)
            out += sizes_per_dir(p, dec, "gre", 15)

        # expected.csv rows
        if name in ("l2tp-udp1701", "l2tp-udp8701"):
            sp = "1701" if name.endswith("1701") else "8701"
            cp = "1701" if name.endswith("1701") else "41701"
            csv.append(f"{f},udp,{C_IP},{cp},{S_IP},{sp},l2tp,{detail}")
        elif name == "l2tp-ipsec-ikev1-natt":
            csv.append(f"{f},udp,{C_IP},500,{S_IP},500,l2tp-ipsec,IKEv1 main mode PSK (strongSwan 5.9.8 charon); "
                       "NAT-T forced (encap=yes) so it moves to 4500 after message 4; protects L2TP UDP 1701 in transport mode")
            csv.append(f"{f},udp,{C_IP},4500,{S_IP},4500,l2tp-ipsec,IKEv1 main mode 5-6 + quick mode + deletes "
                       "(non-ESP marker) and ESP-in-UDP (RFC 3948) transport mode AES-256-CBC/HMAC-SHA1-96 carrying L2TPv2 "
                       "(xl2tpd 1.3.18) + PPP")
        elif name == "l2tp-ipsec-ikev1-esp":
            csv.append(f"{f},udp,{C_IP},500,{S_IP},500,l2tp-ipsec,IKEv1 main mode PSK + quick mode (strongSwan 5.9.8), "
                       "no NAT-T; transport mode for L2TP UDP 1701")
            csv.append(f"{f},esp,{C_IP},0,{S_IP},0,esp,raw ESP (IP proto 50) transport mode AES-256-CBC/HMAC-SHA1-96 "
                       "carrying L2TPv2 (xl2tpd) + PPP; ports 0 = no ports (SPIs in verify.txt)")
        elif name.startswith("pptp"):
            mppe = "MPPE 128-bit (require-mppe-128)" if "mppe128" in name else "no MPPE (nomppe noccp): PPP/IP visible in GRE"
            rows = fields(p, dec, "tcp.flags.syn == 1 && tcp.flags.ack == 0", ["tcp.srcport"])
            cport = rows[0][0] if rows else ""
            short = {"1": "SCCRQ", "2": "SCCRP", "3": "StopCCRQ", "4": "StopCCRP", "5": "ECHO-RQ", "6": "ECHO-RP",
                     "7": "OCRQ", "8": "OCRP", "9": "ICRQ", "10": "ICRP", "11": "ICCN", "12": "CCRQ",
                     "13": "CDN", "14": "WEN", "15": "SLI"}
            msgs = "/".join(short.get(r[0], r[0]) for r in fields(p, dec, "pptp", ["pptp.control_message_type"]))
            csv.append(f"{f},tcp,{C_IP},{cport},{S_IP},1723,pptp-control,pptpd 1.4.0 (server) / pptp-linux 1.10.0 "
                       f"(client); messages {msgs}; PPP MS-CHAPv2; {mppe}")
            csv.append(f"{f},gre,{C_IP},0,{S_IP},0,pptp-gre,enhanced GRE v1 (proto 0x880b) PPP; {mppe}; "
                       "ports 0 = no ports (call ids in verify.txt)")
        elif name.startswith("sstp"):
            rows = fields(p, dec, "tcp.flags.syn == 1 && tcp.flags.ack == 0", ["tcp.srcport", "tcp.dstport"])
            cport, sport = (rows[0][0], rows[0][1]) if rows else ("", "")
            csv.append(f"{f},tcp,{C_IP},{cport},{S_IP},{sport},sstp,{detail}")
        elif name in ("gre-plain", "gre-key-seq-csum", "gretap"):
            csv.append(f"{f},gre,{C_IP},0,{S_IP},0,gre,{detail}")
        elif name == "ip6gre":
            csv.append(f"{f},gre,{C_IP6},0,{S_IP6},0,gre,{detail}")

    with open(os.path.join(D, "verify.txt"), "w") as fh:
        fh.write("# Generated by verify.py (tshark "
                 + subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
                 + ") from the pcaps in this directory.\n")
        fh.write("\n".join(out) + "\n")
    with open(os.path.join(D, "expected.csv"), "w") as fh:
        fh.write("\n".join(csv) + "\n")
    print(f"verify.py: {len(pcaps)} pcaps, {len(csv) - 1} flows -> verify.txt, expected.csv")


if __name__ == "__main__":
    main()
