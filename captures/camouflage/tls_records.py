#!/usr/bin/env python3
"""Summarise the outer TLS of every TCP flow in a pcap, with tshark (-T json).

Usage: tls_records.py FILE.pcap [N_RECORDS] [-d tcp.port==PORT,tls ...]

For each TCP stream with a TLS ClientHello prints: client -> server, SNI, ALPN
offered by the client / chosen by the server (visible in a TLS 1.2 ServerHello
only; TLS 1.3 moves it into the encrypted EncryptedExtensions, shown as `-`),
negotiated version and cipher suite, then the TLS records of type 23
(application_data; `tls.record.content_type` in TLS 1.2, `tls.record.opaque_type`
in TLS 1.3) in wire order as `C>len` (client to server) and `S>len` (server to
client): the first N_RECORDS (default 15) after the handshake.  len is the TLS
record length field (ciphertext incl. AEAD tag, without the 5-byte header).

TLS 1.3 encrypts the rest of the handshake (EncryptedExtensions, Certificate,
CertificateVerify, Finished) into type-23 records too.  Those are not counted:
the server's type-23 records before the client's first type-23 record, and that
first client record (its Finished), are listed separately as `hs13=[...]`.
NewSessionTicket messages sent by a TLS 1.3 server after the handshake cannot be
told apart from data on the wire and ARE in the sequence (nginx/OpenSSL sends
two, of 250-300 bytes).  Only as good as tshark's TCP reassembly: run it on
untrimmed captures.
"""
import json
import subprocess
import sys

VERS = {"0x0301": "TLS1.0", "0x0302": "TLS1.1", "0x0303": "TLS1.2", "0x0304": "TLS1.3"}


def pairs(kv):
    """json object hook that keeps repeated keys as lists"""
    d = {}
    for k, v in kv:
        if k in d:
            if not isinstance(d[k], list) or not d.get("__multi_" + k):
                d[k] = [d[k]]
                d["__multi_" + k] = True
            d[k].append(v)
        else:
            d[k] = v
    return d


def as_list(x):
    if x is None or isinstance(x, str):
        return []
    return x if isinstance(x, list) else [x]


def walk(obj, key):
    """all values of `key` anywhere below obj"""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                yield from (v if isinstance(v, list) else [v])
            else:
                yield from walk(v, key)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v, key)


def main():
    args = sys.argv[1:]
    decode = []
    pos = []
    i = 0
    while i < len(args):
        if args[i] == "-d":
            decode += ["-d", args[i + 1]]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    path = pos[0]
    nrec = int(pos[1]) if len(pos) > 1 else 15
    cmd = ["tshark", "-n", "-r", path, *decode, "-o", "tcp.desegment_tcp_streams:TRUE",
           "-Y", "tls", "-T", "json", "-J", "ip ipv6 tcp tls"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    streams = {}
    for pkt in json.loads(out, object_pairs_hook=pairs):
        lay = pkt["_source"]["layers"]
        tcp = lay["tcp"]
        ip = lay.get("ip") or lay.get("ipv6")
        if ip is None:
            continue
        ipsrc = ip.get("ip.src") or ip.get("ipv6.src")
        ipdst = ip.get("ip.dst") or ip.get("ipv6.dst")
        sid = tcp["tcp.stream"]
        st = streams.setdefault(sid, {"client": None, "recs": [], "sni": "", "alpn_c": "",
                                      "alpn_s": "", "ver": "", "cs": ""})
        src = (ipsrc, tcp["tcp.srcport"])
        dst = (ipdst, tcp["tcp.dstport"])
        for tls in as_list(lay.get("tls")):
            if not isinstance(tls, dict):
                continue
            for rec in as_list(tls.get("tls.record")):
                if not isinstance(rec, dict):
                    continue
                ctype = rec.get("tls.record.content_type") or rec.get("tls.record.opaque_type")
                length = int(rec.get("tls.record.length", 0))
                for hs in as_list(rec.get("tls.handshake")):
                    if not isinstance(hs, dict):
                        continue
                    htype = hs.get("tls.handshake.type")
                    if htype == "1" and st["client"] is None:
                        st["client"], st["server"] = src, dst
                        st["sni"] = ",".join(walk(hs, "tls.handshake.extensions_server_name"))
                        st["alpn_c"] = ",".join(walk(hs, "tls.handshake.extensions_alpn_str"))
                    elif htype == "2":
                        sv = list(walk(hs, "tls.handshake.extensions.supported_version"))
                        v = sv[0] if sv else hs.get("tls.handshake.version", "")
                        st["ver"] = VERS.get(v, v)
                        st["cs"] = hs.get("tls.handshake.ciphersuite", "")
                        st["alpn_s"] = ",".join(walk(hs, "tls.handshake.extensions_alpn_str"))
                if st["client"] is None or ctype is None:
                    continue
                st["recs"].append(("C" if src == st["client"] else "S", ctype, length))
    for sid in sorted(streams, key=int):
        st = streams[sid]
        if st["client"] is None:
            continue
        recs = [(d, ln) for d, t, ln in st["recs"] if t == "23"]
        hs13 = []
        if st["ver"] == "TLS1.3":
            while recs and recs[0][0] == "S":
                hs13.append(recs.pop(0))
            if recs:
                hs13.append(recs.pop(0))
        seq = " ".join(f"{d}>{ln}" for d, ln in recs[:nrec])
        c, s = st["client"], st["server"]
        print(f"- {c[0]}:{c[1]} -> {s[0]}:{s[1]} SNI={st['sni'] or '-'} "
              f"ALPN offered={st['alpn_c'] or '-'} chosen={st['alpn_s'] or '-'} "
              f"version={st['ver'] or '?'} cipher={st['cs'] or '?'}")
        if hs13:
            print("  hs13=[" + " ".join(f"{d}>{ln}" for d, ln in hs13) + "]")
        print(f"  app records ({min(nrec, len(recs))} of {len(recs)}): {seq}")


if __name__ == "__main__":
    main()
