//! The analyzers on logs written by hand: the shapes of the recordings in
//! captures/camouflage and of direct TLS, and their edges.

use super::*;
use crate::classify::obfuscation::Class;
use crate::flow::TO_CLIENT;

fn hello() -> HelloSummary {
    HelloSummary::naming(Some("www.example.test"))
}

/// A log: the server's choice, then records written as `S>36 C>98 ...`
/// (`>` application data, `#` handshake, `!` ChangeCipherSpec).
fn log(version: u16, cipher: u16, records: &str) -> Log {
    let mut log = Log::new(&hello());
    log.server = Some(ServerSummary {
        version,
        cipher,
        alpn: None,
        hello_retry_request: false,
    });
    for (i, r) in records.split_whitespace().enumerate() {
        let side = if r.starts_with('C') {
            TO_SERVER
        } else {
            TO_CLIENT
        };
        let content_type = match &r[1..2] {
            ">" => ContentType::APPLICATION_DATA,
            "#" => ContentType::HANDSHAKE,
            _ => ContentType::CHANGE_CIPHER_SPEC,
        };
        log.push(Record {
            side,
            content_type,
            len: r[2..].parse().unwrap(),
            packet: 10 + i as u64,
            ts: 0,
        });
    }
    log
}

/// A TLS 1.3 log: nginx-like handshake (Finished 53 both ways), then `app`.
fn tls13(app: &str) -> Log {
    log(
        0x0304,
        0x1301,
        &format!("S#90 S!1 S>36 S>517 S>96 S>53 C!1 C>53 {app}"),
    )
}

fn class(log: &Log) -> Option<(Class, Confidence)> {
    analyze(log).facts.iter().find_map(|f| match f {
        Fact::Obfuscation(o) => Some((o.class, o.confidence)),
        _ => None,
    })
}

#[test]
fn tunnelled_handshakes() {
    // Trojan over TLS 1.3, curl inside (captures/camouflage/trojan.pcap).
    let trojan = tls13("C>98 C>534 S>887 C>97 S>320 S>304 S>79 C>103 C>119 S>1177");
    assert_eq!(class(&trojan), Some((Class::TlsTunnel, Confidence::Medium)));
    // The Finished read together with the first request: glued, low.
    let glued = tls13("C>98 C>534 S>887 C>283 S>2389 C>48 S>3575");
    assert_eq!(class(&glued), Some((Class::TlsTunnel, Confidence::Low)));
    // Trojan over TLS 1.2 AES-GCM (24 bytes a record).
    let tls12 = log(0x0303, 0xc02b, "C>105 C>541 S>900 C>104 C>175 S>327");
    assert_eq!(class(&tls12), Some((Class::TlsTunnel, Confidence::Medium)));
    // VLESS with Vision: padded.
    let vision = tls13("C>259 C>1405 S>1203 S>191 C>1364 C>1023 C>97 S>1041");
    assert_eq!(class(&vision), Some((Class::TlsTunnel, Confidence::Low)));
    // OpenVPN inside stunnel: the hard-reset pair after two tickets.
    let openvpn = log(
        0x0304,
        0x1302,
        "S>27 S>517 S>96 S>69 C>69 C>33 S>282 S>282 S>45 C>322 S>1241 C>45",
    );
    assert_eq!(
        class(&openvpn),
        Some((Class::TlsTunnel, Confidence::Medium))
    );
}

#[test]
fn direct_tls_is_not_a_tunnel() {
    for app in [
        // Chromium, HTTP/2: headers, response, then a SETTINGS ack.
        "C>87 C>473 S>266 S>266 S>184 S>2293 C>26 C>124 C>69 C>126 C>55 S>7573",
        // curl, HTTP/2 and HTTP/1.1.
        "S>298 S>282 S>57 C>81 S>26 C>97 S>1124 C>26",
        "S>298 S>298 C>146 S>1237 C>147 S>1505 C>145 S>7686 C>19",
        // A WebSocket chat through nginx: its 101 carries Server and Date.
        "S>282 S>282 C>278 S>305 C>47 S>57 C>30 S>29 C>30 S>28 C>46",
        // Requests of a header record and a body record, repeated.
        "C>144 C>592 S>5456 C>144 C>1664 S>4352",
        // A first message bigger than any ClientHello (AnyDesk).
        "C>4110 S>4137 S>51 C>89",
        // Nothing after the handshake, or only tickets.
        "",
        "S>282 S>282",
    ] {
        assert_eq!(class(&tls13(app)), None, "{app}");
    }
}

#[test]
fn shadowtls_v3_finished_is_four_bytes_long() {
    let shadow = log(
        0x0304,
        0x1301,
        "S#90 S!1 S>31 S>520 S>99 S>57 C!1 C>53 C>512 C>555 S>950 C>118",
    );
    assert_eq!(
        class(&shadow),
        Some((Class::BorrowedHandshake, Confidence::Medium))
    );
    // SHA-384: 69 and 73.
    let sha384 = log(0x0304, 0x1302, "S>27 S>516 S>100 S>73 C>69 C>81 S>26");
    assert_eq!(
        class(&sha384),
        Some((Class::BorrowedHandshake, Confidence::Medium))
    );
    // Equal Finished records, or an offset other than 4, or a client
    // Finished of no TLS size: no finding.
    for flight in ["S>95 S>53 C>53", "S>95 S>55 C>53", "S>95 S>58 C>54"] {
        let l = log(0x0304, 0x1301, &format!("S>36 S>516 {flight} C>81 S>26"));
        assert_eq!(class(&l), None, "{flight}");
    }
}

#[test]
fn websocket_tunnels_inside_tls() {
    // VMess over WebSocket: the bare 101, then a tunnelled handshake.
    let vmess = tls13("C>215 S>146 C>25 C>149 S>19 S>55 S>19 C>542 S>897 C>103 S>627 C>176");
    assert_eq!(
        class(&vmess),
        Some((Class::WebsocketTunnel, Confidence::Medium))
    );
    // Plain HTTP inside: the upgrade's shape alone, low.
    let plain = tls13("C>215 S>146 C>25 C>146 S>19 S>55 S>19 C>154 S>1241");
    assert_eq!(
        class(&plain),
        Some((Class::WebsocketTunnel, Confidence::Low))
    );
    // A 101 with more headers, or a client that waits: not this.
    assert_eq!(class(&tls13("C>215 S>181 C>214 S>173")), None);
    assert_eq!(class(&tls13("C>215 S>146 S>30 C>30")), None);
}

#[test]
fn views_skip_the_tls13_handshake_and_join_bursts() {
    let l = tls13("C>98 C>534 S>887 C>97");
    let v = view::View::of(&l).unwrap();
    assert_eq!(v.server_flight.len(), 4);
    assert_eq!(v.client_finished.map(|r| r.len), Some(53));
    let b = v.bursts(8);
    assert_eq!(b.len(), 3);
    assert_eq!(
        (b[0].records, b[0].plain, b[0].first, b[0].largest),
        (2, 598, 81, 517)
    );
    assert_eq!(v.bursts(2).len(), 2);
    // No ServerHello, or a HelloRetryRequest: nothing to read.
    let mut none = tls13("C>98");
    none.server = None;
    assert_eq!(view::View::of(&none), None);
    // The log is bounded.
    let mut full = Log::new(&hello());
    for _ in 0..LOG_RECORDS * 2 {
        full.push(Record {
            side: TO_SERVER,
            content_type: ContentType::APPLICATION_DATA,
            len: 100,
            packet: 1,
            ts: 0,
        });
    }
    assert_eq!(full.records.len(), LOG_RECORDS);
    assert!(full.is_full());
}

#[test]
fn handshakes_for_the_name_profile() {
    // The real site of captures/emulated/reality-like.pcap: flight, client
    // Finished, a client request, then the first ticket.
    let mut l = log(
        0x0304,
        0x1302,
        "S>36 S>2165 S>264 S>69 C>69 C>81 S>298 S>298",
    );
    l.hello.tickets = true;
    let h = handshake::of(&l).unwrap();
    assert_eq!(h.name, "www.example.test");
    assert_eq!((h.flight, h.flight_packet), (36 + 2165 + 264 + 69, 10));
    assert_eq!(h.first_after, Some((298, 16)));
    assert!(h.tickets);
    // Taken once, when the server's first record after is in.
    let mut early = log(0x0304, 0x1302, "S>36 S>2165 S>264 S>69 C>69 C>81");
    assert!(take_handshake(&mut early).is_none());
    assert_eq!(handshake::of(&early).unwrap().first_after, None);
    assert!(take_handshake(&mut l).is_some());
    assert!(take_handshake(&mut l).is_none());
    let handshakes = |found: Findings| {
        found
            .facts
            .iter()
            .filter(|f| matches!(f, Fact::Handshake(_)))
            .count()
    };
    assert_eq!(handshakes(analyze(&l)), 0);
    assert_eq!(handshakes(analyze(&early)), 1);
    // A client that may be resumed, TLS 1.2, a flow cut before the client's
    // Finished, a HelloRetryRequest: nothing to hold against the name.
    let mut resumed = log(0x0304, 0x1302, "S>36 S>2165 S>264 S>69 C>69 S>298");
    resumed.hello.resumes = true;
    assert!(handshake::of(&resumed).is_none());
    assert!(handshake::of(&log(0x0303, 0xc02f, "C>40 S>298 C>100 S>900")).is_none());
    assert!(handshake::of(&log(0x0304, 0x1302, "S>36 S>2165 S>264")).is_none());
    let mut retry = log(0x0304, 0x1302, "S>36 S>2165 S>264 S>69 C>69 S>298");
    retry.server.as_mut().unwrap().hello_retry_request = true;
    assert!(handshake::of(&retry).is_none());
}
