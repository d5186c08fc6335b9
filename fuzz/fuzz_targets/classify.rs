//! Every dissector of the registry, through a flow's classifier, over
//! input-chosen packets of one flow: TCP segments (in or out of order),
//! UDP datagrams, ESP and AH packets, from either side.
//! Input: [kind and side][seq step][length hi][length lo][bytes]... repeated;
//! kind = byte % 4: TCP segment, UDP datagram, ESP packet, AH packet
//! (one flow per kind); side = bit 7; the TCP segment's sequence number
//! moves by the signed seq step before it. The seq step also picks the
//! segment's flags (0: SYN, odd: URG added) and its TTL, and the bytes
//! double as the transport header the evasion judge reads (options, urgent
//! pointer, checksum).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::state::Shared;
use sift::classify::{AppProto, AppState, Packet};
use sift::decode::ip::proto;
use sift::decode::transport::{tcp_flags, Header, TcpHeader, Transport};
use sift::decode::Decoded;

fn packet(kind: u8, seq: u32, step: i8, payload: &[u8]) -> Decoded<'_> {
    let flags = match step {
        0 => tcp_flags::SYN,
        s if s & 1 != 0 => tcp_flags::ACK | tcp_flags::PSH | 0x20,
        _ => tcp_flags::ACK | tcp_flags::PSH,
    };
    let (p, header) = match kind {
        0 => (
            proto::TCP,
            Header::Tcp(TcpHeader {
                seq,
                ack: 0,
                flags,
                window: 0,
            }),
        ),
        1 => (proto::UDP, Header::Udp),
        k => (
            if k == 2 { proto::ESP } else { proto::AH },
            Header::Ipsec { spi: 0, seq: 0 },
        ),
    };
    Decoded {
        src: "10.0.0.1".parse().unwrap(),
        dst: "10.0.0.2".parse().unwrap(),
        proto: p,
        transport: Transport {
            src_port: 40000,
            dst_port: 443,
            header,
            payload,
            malformed: false,
        },
        tunnels: 0,
        tunnel_kinds: 0,
        truncated: false,
        ip: sift::decode::IpFacts {
            ttl: step as u8,
            segment: payload,
            ..Default::default()
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut shared = Shared::new(1 << 20);
    // Half the inputs also read every transaction (DNS messages, HTTP
    // requests) after the verdict.
    shared.transactions = data.first().is_some_and(|b| b & 0x40 != 0);
    let mut flows: [AppState; 4] = Default::default();
    let mut seqs = [1000u32; 2];
    let mut counts = [0u32; 4];
    let mut rest = data;
    let mut index = 0u64;
    while rest.len() >= 4 {
        let (kind, side) = (rest[0] % 4, usize::from(rest[0] >> 7));
        let step = rest[1] as i8;
        let len = (usize::from(rest[2] & 0x07) << 8 | usize::from(rest[3])).min(rest.len() - 4);
        let bytes = &rest[4..4 + len];
        rest = &rest[4 + len..];
        seqs[side] = seqs[side].wrapping_add_signed(i32::from(step));
        let d = packet(kind, seqs[side], step, bytes);
        if kind == 0 {
            seqs[side] = seqs[side].wrapping_add(len as u32);
        }
        let k = usize::from(kind);
        counts[k] += 1;
        let p = Packet {
            decoded: &d,
            side,
            index,
            flow_packets: counts[k],
            ts: index * 1000,
        };
        flows[k].inspect(&p, &mut shared);
        index += 1;
    }
    for app in flows.iter_mut() {
        app.close(&mut shared);
        if app.proto != AppProto::Unknown {
            assert!(app.names.as_ref().is_some_and(|n| !n.evidence.is_empty()));
        }
    }
    assert_eq!(shared.budget.used, 0, "every reassembly byte returned");
});
