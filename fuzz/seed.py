#!/usr/bin/env python3
"""Seeds the fuzz corpora from real captures (nothing is committed: the
corpora live in fuzz/corpus/, which git ignores).

  capture/  small capture files as they are (pcap and pcapng readers)
  decode/   runs of frames in the `decode` target's input format:
            [link selector][length, 2 bytes big-endian][frame] ...
  tls/      TCP payloads that start a TLS record, behind a chunking byte
  quic/     UDP payloads with a QUIC long header, in the `quic` target's
            framing: [direction + length high bits][length low byte][datagram]

usage: python3 fuzz/seed.py [CAPTURE_DIR ...]
       (default: ../shared/corpus/ndpi/pcap and captures/)
"""
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Selector index of each link type in fuzz_targets/decode.rs's LINKS table.
SELECTOR = {1: 0, 101: 1, 228: 2, 229: 3, 0: 4, 108: 5, 9: 6, 51: 7, 104: 8,
            113: 9, 276: 10, 192: 11, 197: 12}

def pcap_frames(b):
    """(linktype, frame) of a classic little/big endian pcap, as far as it reads."""
    if len(b) < 24:
        return
    magic = b[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        return
    link = struct.unpack(e + 'I', b[20:24])[0] & 0xffff
    off = 24
    while off + 16 <= len(b):
        caplen = struct.unpack(e + 'I', b[off + 8:off + 12])[0]
        if caplen > 65535 or off + 16 + caplen > len(b):
            return
        yield link, b[off + 16:off + 16 + caplen]
        off += 16 + caplen

def ip_payloads(frame):
    """(proto, transport bytes) of an Ethernet/IPv4 frame, else None."""
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        return None
    ihl = (frame[14] & 15) * 4
    return frame[23], frame[14 + ihl:]

def main(dirs):
    for sub in ('capture', 'decode', 'tls', 'quic'):
        os.makedirs(os.path.join(HERE, 'corpus', sub), exist_ok=True)
    n_tls = n_quic = 0
    n_cap = n_dec = 0
    for d in dirs:
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not os.path.isfile(path):
                continue
            b = open(path, 'rb').read()
            if len(b) <= 64 * 1024:
                open(os.path.join(HERE, 'corpus', 'capture', name), 'wb').write(b)
                n_cap += 1
            for i, (link, frame) in enumerate(pcap_frames(b)):
                got = ip_payloads(frame) if link == 1 else None
                if not got:
                    continue
                proto, l4 = got
                if proto == 6 and len(l4) > 20:
                    data = l4[(l4[12] >> 4) * 4:]
                    if data[:1] == b'\x16' and n_tls < 3000:
                        open(os.path.join(HERE, 'corpus', 'tls', f'{name}-{i}'), 'wb').write(bytes([i % 64]) + data)
                        n_tls += 1
                elif proto == 17 and len(l4) > 8 and l4[8] & 0xc0 == 0xc0 and n_quic < 3000:
                    dg = l4[8:8 + 2047]
                    open(os.path.join(HERE, 'corpus', 'quic', f'{name}-{i}'), 'wb').write(
                        bytes([len(dg) >> 8, len(dg) & 0xff]) + dg)
                    n_quic += 1
            run = bytearray()
            for i, (link, frame) in enumerate(pcap_frames(b)):
                if link not in SELECTOR:
                    break
                run += bytes([SELECTOR[link]]) + struct.pack('>H', len(frame)) + frame
                if i % 8 == 7 or len(run) > 4096:
                    open(os.path.join(HERE, 'corpus', 'decode', f'{name}-{i}'), 'wb').write(run)
                    n_dec += 1
                    run = bytearray()
                if n_dec > 20000:
                    break
    print(f'seeded {n_cap} capture files, {n_dec} frame runs, {n_tls} TLS streams, {n_quic} QUIC datagrams')

def seed_rules(root):
    """Rule files: the shipped ones and the Suricata examples of the docs."""
    out = os.path.join(HERE, 'corpus', 'rules')
    os.makedirs(out, exist_ok=True)
    n = 0
    for d in ('rules', 'rules/lists'):
        for f in sorted(os.listdir(os.path.join(root, d))):
            if f.endswith(('.rules', '.list')):
                data = open(os.path.join(root, d, f), 'rb').read()
                open(os.path.join(out, f), 'wb').write(data)
                n += 1
    doc = open(os.path.join(root, 'rules', 'README.md')).read()
    for i, block in enumerate(doc.split('```text')[1:]):
        open(os.path.join(out, f'readme-{i}'), 'w').write(block.split('```')[0])
        n += 1
    print(f'seeded {n} rule files')

if __name__ == '__main__':
    root = os.path.dirname(HERE)
    seed_rules(root)
    main(sys.argv[1:] or [os.path.join(root, '..', 'shared', 'corpus', 'ndpi', 'pcap'),
                          os.path.join(root, 'captures')])
