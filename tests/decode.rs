//! Decoding on real captures of the nDPI corpus, through the binary: fragment
//! reassembly and tunnels as a user sees them in the flow records; and the
//! frames the tests build, checked as a receiver would.

mod common;

use common::*;

fn records(capture: &str) -> Vec<serde_json::Value> {
    let path = ndpi_corpus().join("pcap").join(capture);
    let out = sift(["analyze", "--format", "json", "-q", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    eve(&out.stdout)
}

fn flow<'a>(recs: &'a [serde_json::Value], client: &str, port: u64) -> &'a serde_json::Value {
    recs.iter()
        .find(|r| r["src_ip"] == client && r["src_port"] == port)
        .unwrap_or_else(|| panic!("no flow from {client}:{port}"))
}

/// dns_fragmented.pcap: DNSSEC answers split into two IPv4 or IPv6 fragments.
/// Each reassembled answer counts as one packet with both fragments' bytes.
#[test]
fn fragmented_dns_answers_are_reassembled() {
    let recs = records("dns_fragmented.pcap");
    // Frames 1-3: query (82 bytes), answer in fragments of 1514 + 264 bytes.
    let v4 = flow(&recs, "172.217.40.76", 56680);
    assert_eq!(v4["dest_port"], 53);
    assert_eq!(v4["flow"]["pkts_toclient"], 1);
    assert_eq!(v4["flow"]["bytes_toclient"], 1514 + 264);
    // Frames 4-6: IPv6 query (120 bytes), answer in fragments of 1510 + 123.
    let v6 = flow(&recs, "2a00:1450:4013:c03::10a", 46433);
    assert_eq!(v6["flow"]["pkts_toclient"], 1);
    assert_eq!(v6["flow"]["bytes_toclient"], 1510 + 123);
    let path = ndpi_corpus().join("pcap/dns_fragmented.pcap");
    let summary = text(&sift(["analyze", path.to_str().unwrap()]).stdout);
    assert!(
        summary.contains("14 IP fragments") && summary.contains("7 datagrams reassembled"),
        "{summary}"
    );
    assert!(!summary.contains("dropped"), "{summary}");
}

/// 6in4tunnel.pcap: IPv6 in IPv4 (protocol 41); the flows are the inner ones.
#[test]
fn six_in_four_flows_are_the_inner_ones() {
    let recs = records("6in4tunnel.pcap");
    assert!(!recs.is_empty());
    for r in &recs {
        assert!(
            r["src_ip"].as_str().unwrap().contains(':'),
            "outer flow reported: {r}"
        );
        assert_eq!(r["sift"]["tunnels"], 1);
    }
}

/// gre.pcapng: PPTP's enhanced GRE carrying PPP carrying IPv4/UDP SIP.
#[test]
fn pptp_gre_flows_are_the_inner_ones() {
    let recs = records("gre.pcapng");
    let sip = flow(&recs, "192.168.10.210", 5060);
    assert_eq!(
        (sip["dest_ip"].as_str(), sip["proto"].as_str()),
        (Some("192.168.103.40"), Some("UDP"))
    );
    assert_eq!(sip["sift"]["tunnels"], 1);
}

/// Our link, IP and transport decoders against etherparse's, frame by frame,
/// on every Ethernet capture of the corpus: where both read an unfragmented,
/// untunnelled TCP or UDP packet, they must agree on addresses and ports.
#[test]
fn decoders_agree_with_etherparse() {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use sift::capture::file::Reader;
    use sift::capture::LinkType;
    use sift::decode::{self, ip, link};
    use std::net::IpAddr;

    let (mut compared, mut disagreements) = (0usize, Vec::new());
    for path in ndpi_captures() {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(mut reader) = Reader::new(&bytes) else {
            continue;
        };
        while let Some(Ok(p)) = reader.next_packet() {
            if p.link != LinkType::ETHERNET {
                continue;
            }
            let Ok(theirs) = SlicedPacket::from_ethernet(p.data) else {
                continue;
            };
            let (t_src, t_dst, fragmented): (IpAddr, IpAddr, bool) = match &theirs.net {
                Some(NetSlice::Ipv4(v4)) => (
                    v4.header().source_addr().into(),
                    v4.header().destination_addr().into(),
                    v4.payload().fragmented,
                ),
                Some(NetSlice::Ipv6(v6)) => (
                    v6.header().source_addr().into(),
                    v6.header().destination_addr().into(),
                    v6.payload().fragmented,
                ),
                None => continue,
            };
            let t_ports = match &theirs.transport {
                Some(TransportSlice::Tcp(t)) => (6u8, t.source_port(), t.destination_port()),
                Some(TransportSlice::Udp(u)) => (17u8, u.source_port(), u.destination_port()),
                _ => continue,
            };
            if fragmented {
                continue;
            }
            let ours = link::decode(p.link, p.data)
                .ok()
                .and_then(|n| ip::parse(n.bytes).ok())
                .and_then(|ipp| decode::datagram(&ipp).ok());
            let Some(d) = ours else {
                disagreements.push(format!(
                    "{}: sift could not decode a packet etherparse read",
                    path.display()
                ));
                continue;
            };
            if d.tunnels > 0 {
                continue;
            }
            compared += 1;
            let mine = (
                d.src,
                d.dst,
                (d.proto, d.transport.src_port, d.transport.dst_port),
            );
            if mine != (t_src, t_dst, t_ports) {
                disagreements.push(format!(
                    "{}: sift {mine:?}, etherparse {:?}",
                    path.display(),
                    (t_src, t_dst, t_ports)
                ));
            }
        }
    }
    eprintln!("{compared} TCP/UDP packets compared with etherparse");
    assert!(compared > 50_000, "only {compared} packets compared");
    assert!(
        disagreements.is_empty(),
        "{} disagreements: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
}

/// The frames the tests build (`common::pcap`) are what a receiver accepts:
/// IPv4 header, TCP and UDP checksums valid, lengths consistent.
#[test]
fn test_frames_carry_valid_checksums() {
    use common::pcap::{Frame, PSH_ACK, SYN};
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    use sift::capture::file::Reader;

    let frames = [
        Frame {
            src: ([10, 0, 0, 1], 40000),
            dst: ([10, 0, 0, 2], 443),
            tcp: Some((7, SYN)),
            payload: Vec::new(),
        },
        Frame {
            src: ([10, 0, 0, 1], 40000),
            dst: ([10, 0, 0, 2], 443),
            tcp: Some((8, PSH_ACK)),
            payload: (0..=255u8).collect(),
        },
        Frame {
            src: ([192, 0, 2, 7], 5353),
            dst: ([192, 0, 2, 9], 53),
            tcp: None,
            payload: b"\x12\x34\x01\x00".to_vec(),
        },
    ];
    let file = pcap::file(&frames);
    let mut reader = Reader::new(&file).unwrap();
    let mut seen = 0;
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        let s = SlicedPacket::from_ethernet(p.data).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &s.net else {
            panic!("not IPv4")
        };
        let h = ip.header().to_header();
        assert_eq!(h.header_checksum, h.calc_header_checksum());
        assert!(h.dont_fragment && h.time_to_live == 64);
        let (src, dst) = (h.source, h.destination);
        match &s.transport {
            Some(TransportSlice::Tcp(t)) => {
                assert_eq!(t.checksum(), t.calc_checksum_ipv4(src, dst).unwrap());
            }
            Some(TransportSlice::Udp(u)) => {
                let want = u.to_header().calc_checksum_ipv4(&h, u.payload()).unwrap();
                assert_eq!(u.checksum(), want);
                assert_eq!(u.payload(), &frames[2].payload[..]);
            }
            other => panic!("{other:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, frames.len());
}
