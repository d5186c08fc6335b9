//! Tests of the parent module, with real packet bytes.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn detail(v: &VpnVerdict, name: &str) -> Option<String> {
    v.detail(name)
}

fn verdict(p: Progress) -> VpnVerdict {
    match p {
        Progress::Verdict(v) => v,
        other => panic!("expected a verdict, got {other:?}"),
    }
}

/// Feeds datagrams `(from_client, hex)` in order, numbered from 1; every
/// answer but the last must be `Candidate`.
fn udp_flow(packets: &[(bool, &str)]) -> Progress {
    let mut t = OpenVpnTracker::udp();
    let mut last = Progress::Candidate;
    for (i, (client, h)) in packets.iter().enumerate() {
        assert_eq!(last, Progress::Candidate, "decided before packet {}", i + 1);
        last = t.on_datagram(&hex(h), *client, i as u64 + 1);
    }
    last
}

#[test]
fn tls_auth_sha256_handshake_is_high() {
    let mut t = OpenVpnTracker::udp();
    let c = hex(SHA256_CLIENT_RESET);
    assert_eq!(t.on_datagram(&c, true, 1), Progress::Candidate);
    let v = verdict(t.on_datagram(&hex(SHA256_SERVER_RESET), false, 2));
    assert_eq!(
        (v.protocol, v.confidence),
        (VpnProtocol::OpenVpn, Confidence::High)
    );
    assert_eq!(detail(&v, "transport").as_deref(), Some("udp"));
    assert_eq!(detail(&v, "mode").as_deref(), Some("tls-auth"));
    assert_eq!(detail(&v, "hmac_bytes").as_deref(), Some("32"));
    assert_eq!(detail(&v, "key_id").as_deref(), Some("0"));
    assert_eq!(
        detail(&v, "client_session").as_deref(),
        Some("cf18c8fa68ffaf6d")
    );
    assert_eq!(
        detail(&v, "server_session").as_deref(),
        Some("76e9665044d82cc6")
    );
    assert_eq!(v.evidence.len(), 2);
    assert_eq!(v.evidence[0].packet, 1);
    assert!(v.evidence[0]
        .what
        .to_string()
        .starts_with("P_CONTROL_HARD_RESET_CLIENT_V2 key 0"));
    assert!(v.evidence[0]
        .what
        .to_string()
        .contains("session cf18c8fa68ffaf6d, HMAC 32 bytes"));
    assert_eq!(v.evidence[1].packet, 2);
    assert!(v.evidence[1]
        .what
        .to_string()
        .contains("acks 0 of client session cf18c8fa68ffaf6d"));
    // Decided: later input changes nothing.
    assert_eq!(t.on_datagram(&[0; 3], true, 3), Progress::Verdict(v));
}

#[test]
fn every_hmac_size_and_plain() {
    for (client, server, mode, hmac) in [
        (SHA1_CLIENT_RESET, SHA1_SERVER_RESET, "tls-auth", Some("20")),
        (
            SHA512_CLIENT_RESET,
            SHA512_SERVER_RESET,
            "tls-auth",
            Some("64"),
        ),
        (PLAIN_CLIENT_RESET, PLAIN_SERVER_RESET, "plain", None),
    ] {
        let v = verdict(udp_flow(&[(true, client), (false, server)]));
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(&v, "mode").as_deref(), Some(mode));
        assert_eq!(detail(&v, "hmac_bytes").as_deref(), hmac);
    }
}

#[test]
fn layouts_read_the_fields() {
    let c = hex(SHA256_CLIENT_RESET);
    let v = read_control(&c, c.len(), Protection::TlsAuth { hmac: 32 }).unwrap();
    assert_eq!(v.opcode, Opcode::HARD_RESET_CLIENT_V2);
    assert_eq!(v.session.to_string(), "cf18c8fa68ffaf6d");
    assert_eq!(
        v.replay,
        Some(Replay {
            id: PacketId(1),
            time: 0x6b06_9bb8
        })
    );
    let rel = v.reliable.unwrap();
    assert_eq!((rel.ack_count(), rel.message), (0, Some(PacketId(0))));
    // Plain reads the HMAC's first byte (0x52) as the ack count.
    assert_eq!(
        read_control(&c, c.len(), Protection::Plain),
        Err(ControlError::AckCount(0x52))
    );
    let s = hex(SHA256_SERVER_RESET);
    let v = read_control(&s, s.len(), Protection::TlsAuth { hmac: 32 }).unwrap();
    let rel = v.reliable.unwrap();
    assert_eq!(rel.acks().collect::<Vec<_>>(), [PacketId(0)]);
    assert_eq!(
        rel.remote.map(|r| r.to_string()).as_deref(),
        Some("cf18c8fa68ffaf6d")
    );
    // A P_ACK_V1 must be exactly its acks long.
    let a = hex(RENEG_SERVER_ACK);
    assert!(read_control(&a, a.len(), Protection::TlsCrypt).is_ok());
    assert_eq!(
        read_control(&a, a.len() + 1, Protection::TlsCrypt),
        Err(ControlError::AckLength(a.len() + 1))
    );
    // tls-crypt-v2 only under tls-crypt, with its key length at the end.
    let v3 = hex(V2_CLIENT_RESET);
    assert_eq!(wkc_len(&v3), Ok(299));
    assert_eq!(
        read_control(&v3, v3.len(), Protection::Plain),
        Err(ControlError::NeedsTlsCrypt(Opcode::HARD_RESET_CLIENT_V3))
    );
    let w = u16::from_be_bytes([v3[198], v3[199]]);
    assert_eq!(wkc_len(&v3[..200]), Err(ControlError::WkcLength(w)));
    // Data: opcode, key, peer id, then the AEAD packet id.
    let d = read_data(&hex(DATA_2), 108).unwrap();
    assert_eq!(
        (d.opcode, d.key, d.peer),
        (Opcode::DATA_V2, KeyId(0), Some(PeerId(0)))
    );
    assert_eq!((d.leading, d.body_len), (2, 104));
    assert_eq!(split_first(0x19), (Opcode::SOFT_RESET_V1, KeyId(1)));
}

#[test]
fn tls_crypt_handshake_port_53() {
    let v = verdict(udp_flow(&[
        (true, CRYPT_CLIENT_RESET),
        (false, CRYPT_SERVER_RESET),
        (true, CRYPT_CLIENT_CONTROL),
    ]));
    assert_eq!(v.confidence, Confidence::High);
    assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt"));
    assert_eq!(detail(&v, "hmac_bytes").as_deref(), None);
    assert_eq!(
        detail(&v, "client_session").as_deref(),
        Some("931ded372babc782")
    );
    assert_eq!(
        detail(&v, "server_session").as_deref(),
        Some("64fe7dc48bbf7f82")
    );
    assert_eq!(v.evidence.len(), 3);
    assert!(v.evidence[2]
        .what
        .to_string()
        .contains("P_CONTROL_V1 key 0 from the client, session 931ded372babc782, tls-crypt"));
    assert!(v.evidence[2]
        .what
        .to_string()
        .contains("packet-id 2, time 1795595215"));
}

#[test]
fn tls_crypt_v2_handshake() {
    let v = verdict(udp_flow(&[
        (true, V2_CLIENT_RESET),
        (false, V2_SERVER_RESET),
        (true, V2_CLIENT_ACK),
    ]));
    assert_eq!(v.confidence, Confidence::High);
    assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt-v2"));
    assert_eq!(detail(&v, "wkc_bytes").as_deref(), Some("299"));
    // OpenVPN 2.6 announces early negotiation in the replay id.
    assert!(v.evidence[0]
        .what
        .to_string()
        .contains("packet-id 0x0f000001"));
    assert!(v.evidence[0]
        .what
        .to_string()
        .contains("wrapped client key 299 bytes"));
}

#[test]
fn tcp_stream_cut_at_every_offset() {
    let client = hex(TCP_CLIENT_RESET);
    let server = hex(TCP_SERVER_RESET);
    let check = |v: VpnVerdict| {
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(&v, "transport").as_deref(), Some("tcp"));
        assert_eq!(detail(&v, "mode").as_deref(), Some("tls-auth"));
        assert_eq!(detail(&v, "hmac_bytes").as_deref(), Some("32"));
        assert_eq!(
            detail(&v, "server_session").as_deref(),
            Some("595eb553db46edb8")
        );
    };
    for k in 0..=client.len() {
        let mut t = OpenVpnTracker::tcp();
        let (a, b) = client.split_at(k);
        assert_eq!(
            t.on_stream(a, true, 1),
            Progress::Candidate,
            "client cut {k}"
        );
        assert_eq!(
            t.on_stream(b, true, 2),
            Progress::Candidate,
            "client cut {k}"
        );
        check(verdict(t.on_stream(&server, false, 3)));
    }
    for j in 0..server.len() {
        let mut t = OpenVpnTracker::tcp();
        assert_eq!(t.on_stream(&client, true, 1), Progress::Candidate);
        let (a, b) = server.split_at(j);
        assert_eq!(
            t.on_stream(a, false, 2),
            Progress::Candidate,
            "server cut {j}"
        );
        check(verdict(t.on_stream(b, false, 3)));
    }
    // One byte at a time: the verdict comes with the server's last byte.
    let mut t = OpenVpnTracker::tcp();
    for (i, b) in client.iter().enumerate() {
        assert_eq!(t.on_stream(&[*b], true, i as u64), Progress::Candidate);
    }
    for (i, b) in server.iter().enumerate() {
        let p = t.on_stream(&[*b], false, 100 + i as u64);
        if i + 1 < server.len() {
            assert_eq!(p, Progress::Candidate, "server byte {i}");
        } else {
            let v = verdict(p);
            assert_eq!(v.evidence[1].packet, 100 + i as u64);
            check(v);
        }
    }
    // Two packets in one chunk (the client's reset and its later ack,
    // which names the server session before the server is seen).
    let mut both = client.clone();
    both.extend(hex(TCP_CLIENT_ACK));
    let mut t = OpenVpnTracker::tcp();
    assert_eq!(t.on_stream(&both, true, 1), Progress::Candidate);
    check(verdict(t.on_stream(&server, false, 2)));
}

#[test]
fn tcp_refuses_tls_and_http_at_once() {
    let mut t = OpenVpnTracker::tcp();
    // A TLS record header announces 0x1603 bytes; its first byte,
    // opcode 0, is enough.
    assert_eq!(t.on_stream(&[0x16, 0x03, 0x01], true, 1), Progress::NotThis);
    let mut t = OpenVpnTracker::tcp();
    assert_eq!(
        t.on_stream(b"GET / HTTP/1.1\r\n", true, 1),
        Progress::NotThis
    );
    let mut t = OpenVpnTracker::tcp();
    assert_eq!(t.on_stream(&[0, 0], true, 1), Progress::NotThis);
    // The wrong call for the transport refuses too.
    let mut t = OpenVpnTracker::tcp();
    assert_eq!(
        t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 1),
        Progress::NotThis
    );
    let mut t = OpenVpnTracker::udp();
    assert_eq!(
        t.on_stream(&hex(TCP_CLIENT_RESET), true, 1),
        Progress::NotThis
    );
}

#[test]
fn data_channel_mid_flow_is_low() {
    let v = verdict(udp_flow(&[
        (true, DATA_0),
        (false, DATA_1),
        (true, DATA_2),
        (false, DATA_3),
        (true, DATA_4),
        (false, DATA_5),
    ]));
    assert_eq!(v.confidence, Confidence::Low);
    assert_eq!(detail(&v, "mode").as_deref(), Some("data-only"));
    assert_eq!(detail(&v, "peer_id").as_deref(), Some("0"));
    assert_eq!(detail(&v, "key_id").as_deref(), Some("0"));
    assert_eq!(detail(&v, "client_session").as_deref(), None);
    assert!(v.evidence.iter().any(|f| f.packet == 6
        && f.what
            .to_string()
            .contains("AEAD packet id in the clear rising")));
    assert!(v.evidence[0]
        .what
        .to_string()
        .starts_with("P_DATA_V2 key 0 from the client, peer id 0, AEAD packet id 1"));
    // One direction only is not enough.
    let mut t = OpenVpnTracker::udp();
    for (i, h) in [DATA_0, DATA_2, DATA_4].iter().enumerate() {
        assert_eq!(t.on_datagram(&hex(h), true, i as u64), Progress::Candidate);
    }
    // A peer id that changes breaks the pattern.
    let mut t = OpenVpnTracker::udp();
    t.on_datagram(&hex(DATA_0), true, 1);
    t.on_datagram(&hex(DATA_1), false, 2);
    let mut other = hex(DATA_2);
    other[3] = 1;
    assert_eq!(t.on_datagram(&other, true, 3), Progress::NotThis);
}

#[test]
fn renegotiation_mid_flow_wrapped_tls_crypt() {
    // Data on key 0, then the 2.6 dynamic tls-crypt soft reset of key 1.
    let v = verdict(udp_flow(&[
        (false, RENEG_DATA_74),
        (true, RENEG_DATA_75),
        (true, RENEG_CLIENT_SOFT_RESET),
        (false, RENEG_SERVER_SOFT_RESET),
        (false, RENEG_SERVER_ACK),
    ]));
    assert_eq!(v.confidence, Confidence::High);
    assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt"));
    assert_eq!(detail(&v, "key_id").as_deref(), Some("1"));
    assert_eq!(
        detail(&v, "client_session").as_deref(),
        Some("4da90344ba4a95c5")
    );
    assert!(v.evidence.iter().any(|f| f
        .what
        .to_string()
        .starts_with("P_CONTROL_SOFT_RESET_V1 key 1 from the client")));
    assert!(v
        .evidence
        .iter()
        .any(|f| f.what.to_string().contains("renegotiation")));
    // Frame 78 lost, a data packet that keeps key 0 in between.
    let v = verdict(udp_flow(&[
        (true, RENEG_CLIENT_SOFT_RESET),
        (false, RENEG_SERVER_SOFT_RESET),
        (false, RENEG_DATA_79),
        (true, RENEG_CLIENT_ACK),
    ]));
    assert_eq!(v.confidence, Confidence::High);
}

#[test]
fn mid_handshake_is_medium() {
    // The capture picked up after the resets: acks from the client, TLS
    // records from the server, each naming the other's session.
    let v = verdict(udp_flow(&[
        (true, PLAIN_CLIENT_ACK_10),
        (false, PLAIN_SERVER_CONTROL_11),
        (true, PLAIN_CLIENT_ACK_12),
        (false, PLAIN_SERVER_CONTROL_13),
    ]));
    assert_eq!(v.confidence, Confidence::Medium);
    assert_eq!(detail(&v, "mode").as_deref(), Some("plain"));
    assert_eq!(
        detail(&v, "client_session").as_deref(),
        Some("92b42914fe065192")
    );
    assert!(v.evidence[0].what.to_string().contains(
        "P_ACK_V1 key 0 from the client, session 92b42914fe065192, no HMAC, acks 3 2 1 0 of \
         server session cb321eeececc03c0"
    ));
}

#[test]
fn one_way_client_is_low() {
    // Only the client's direction was captured.
    let v = verdict(udp_flow(&[
        (true, PLAIN_CLIENT_RESET),
        (true, PLAIN_CLIENT_ACK_6),
        (true, PLAIN_CLIENT_ACK_10),
        (true, PLAIN_CLIENT_ACK_12),
    ]));
    assert_eq!(v.confidence, Confidence::Low);
    assert_eq!(detail(&v, "mode").as_deref(), Some("plain"));
    assert_eq!(detail(&v, "server_session").as_deref(), None);
}

#[test]
fn static_key_is_low_after_twelve_packets() {
    let packets = [
        (true, STATIC_0),
        (false, STATIC_1),
        (true, STATIC_2),
        (true, STATIC_3),
        (false, STATIC_4),
        (true, STATIC_5),
        (false, STATIC_6),
        (true, STATIC_7),
        (false, STATIC_8),
        (true, STATIC_9),
        (false, STATIC_10),
        (true, STATIC_11),
    ];
    let v = verdict(udp_flow(&packets));
    assert_eq!(v.confidence, Confidence::Low);
    assert_eq!(detail(&v, "mode").as_deref(), Some("static-key"));
    assert!(v.evidence[0]
        .what
        .to_string()
        .contains("smallest, 80 bytes"));
    // Without the ping-sized packets of both sides it is not enough.
    let mut t = OpenVpnTracker::udp();
    let mut last = Progress::Candidate;
    for (i, (c, h)) in packets
        .iter()
        .skip(3)
        .chain(packets.iter().skip(3))
        .enumerate()
    {
        last = t.on_datagram(&hex(h), *c, i as u64);
        assert!(!matches!(last, Progress::Verdict(_)));
    }
    assert_eq!(last, Progress::Candidate);
}

#[test]
fn broken_pattern_is_not_openvpn() {
    // A client reset, then a server packet that is no OpenVPN.
    assert_eq!(
        udp_flow(&[(true, SHA256_CLIENT_RESET), (false, DNS_RESPONSE)]),
        Progress::NotThis
    );
    // A second client reset under another session id.
    let mut other = hex(SHA256_CLIENT_RESET);
    other[1] ^= 0x55;
    let mut t = OpenVpnTracker::udp();
    t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 1);
    assert_eq!(t.on_datagram(&other, true, 2), Progress::NotThis);
    // A server reset whose acks name another client session.
    let mut s = hex(SHA256_SERVER_RESET);
    let at = 1 + 8 + 32 + 8 + 1 + 4;
    s[at] ^= 1;
    assert_eq!(
        udp_flow(&[(true, SHA256_CLIENT_RESET), (false, &hexify(&s))]),
        Progress::NotThis
    );
    // Client resets from both sides.
    assert_eq!(
        udp_flow(&[(true, SHA256_CLIENT_RESET), (false, SHA1_CLIENT_RESET)]),
        Progress::NotThis
    );
}

fn hexify(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn duplicates_and_the_packet_cap() {
    let c = hex(SHA256_CLIENT_RESET);
    let mut t = OpenVpnTracker::udp();
    for i in 0..u64::from(MAX_PACKETS) - 1 {
        assert_eq!(t.on_datagram(&c, true, i), Progress::Candidate);
    }
    assert_eq!(t.on_datagram(&c, true, 99), Progress::NotThis);
    assert_eq!(
        t.on_datagram(&hex(SHA256_SERVER_RESET), false, 100),
        Progress::NotThis
    );
    // A duplicated frame in the middle of a handshake is harmless.
    let v = verdict(udp_flow(&[
        (true, SHA256_CLIENT_RESET),
        (true, SHA256_CLIENT_RESET),
        (false, SHA256_SERVER_RESET),
    ]));
    assert_eq!(v.confidence, Confidence::High);
}

#[test]
fn real_look_alikes_give_no_verdict() {
    let flows: [(&[(bool, &str)], Progress); 4] = [
        (
            &[(true, DNS_QUERY), (false, DNS_RESPONSE)],
            Progress::NotThis,
        ),
        (
            &[(true, STUN_REQUEST), (false, STUN_RESPONSE)],
            Progress::NotThis,
        ),
        // 1252 bytes ≡ 4 mod 16: one datagram cannot rule out static-key
        // (HMAC-SHA1 + IV + 77 blocks), its first byte rules out the rest.
        (&[(true, QUIC_INITIAL)], Progress::Candidate),
        (
            &[(true, QUIC_INITIAL), (false, DNS_RESPONSE)],
            Progress::NotThis,
        ),
    ];
    for (f, end) in flows {
        let mut t = OpenVpnTracker::udp();
        let mut last = Progress::Candidate;
        for (i, (c, h)) in f.iter().enumerate() {
            last = t.on_datagram(&hex(h), *c, i as u64);
            assert!(!matches!(last, Progress::Verdict(_)));
        }
        assert_eq!(last, end, "{f:?}");
        if end == Progress::Candidate {
            assert!(!t.control && t.static_ok);
        }
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_give_no_verdict() {
    let mut rng = XorShift(0x5eed_0f0e_115e_1f00);
    let mut buf = vec![0u8; 1500];
    for flow in 0..4000 {
        let tcp = flow % 4 == 3;
        let mut t = if tcp {
            OpenVpnTracker::tcp()
        } else {
            OpenVpnTracker::udp()
        };
        for i in 0..40u64 {
            let len = 1 + (rng.next() % 1400) as usize;
            for b in buf[..len].iter_mut() {
                *b = rng.next() as u8;
            }
            // Half the flows start like an OpenVPN packet (any opcode
            // and key id), so the deeper checks are reached.
            if flow % 2 == 0 {
                buf[0] = (rng.next() % 12) as u8 * 8 + (rng.next() % 8) as u8;
            }
            let from_client = rng.next() % 2 == 0;
            let p = if tcp {
                t.on_stream(&buf[..len], from_client, i)
            } else {
                t.on_datagram(&buf[..len], from_client, i)
            };
            assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}");
            if p == Progress::NotThis {
                break;
            }
        }
    }
}

#[test]
fn truncated_and_altered_real_packets_do_not_panic() {
    let all = [
        SHA256_CLIENT_RESET,
        SHA256_SERVER_RESET,
        SHA512_SERVER_RESET,
        PLAIN_SERVER_RESET,
        CRYPT_CLIENT_CONTROL,
        V2_CLIENT_RESET,
        RENEG_SERVER_ACK,
        DATA_0,
        STATIC_3,
        TCP_CLIENT_RESET,
    ];
    let mut rng = XorShift(7);
    for h in all {
        let p = hex(h);
        for cut in 0..=p.len() {
            let mut t = OpenVpnTracker::udp();
            t.on_datagram(&p[..cut], true, 0);
            t.on_datagram(&p[..cut], false, 1);
            let mut t = OpenVpnTracker::tcp();
            t.on_stream(&p[..cut], true, 0);
            t.on_stream(&p[..cut], false, 1);
            for _ in 0..4 {
                let mut q = p[..cut].to_vec();
                if let Some(b) = q.get_mut((rng.next() as usize) % cut.max(1)) {
                    *b = rng.next() as u8;
                }
                let _ = read_control(&q, q.len(), Protection::TlsAuth { hmac: 64 });
                let _ = read_data(&q, q.len());
                let mut t = OpenVpnTracker::udp();
                t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 0);
                t.on_datagram(&q, false, 1);
            }
        }
    }
}

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 1 (client → server): P_CONTROL_HARD_RESET_CLIENT_V2, tls-auth HMAC-SHA256.
const SHA256_CLIENT_RESET: &str = concat!(
    "38cf18c8fa68ffaf6d5224273ca8fcb3778d6f815366e827c7d3c077a08527e605329d07409731c3",
    "cc000000016b069bb80000000000",
);

/// Same capture, frame 2 (server → client): P_CONTROL_HARD_RESET_SERVER_V2 acking the client reset.
const SHA256_SERVER_RESET: &str = concat!(
    "4076e9665044d82cc6e368b2ae3354f3a1adc0caa9516b336dd6f75ac19babe194c4cee7e5c415f4",
    "ff000000016b069bb80100000000cf18c8fa68ffaf6d00000000",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha1.pcap` frame 1: client reset, HMAC-SHA1.
const SHA1_CLIENT_RESET: &str = concat!(
    "3816403f73d2ba6dbc60b5e8acaeb9354ee0baf2230a0571a106c71f22000000016b069bbd000000",
    "0000",
);

/// Same capture, frame 2: server reset.
const SHA1_SERVER_RESET: &str = concat!(
    "40af093ac685aa8991b76953365873ce9e431ea4ad3ef1caae63d38e75000000016b069bbd010000",
    "000016403f73d2ba6dbc00000000",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha512.pcap` frame 1: client reset, HMAC-SHA512.
const SHA512_CLIENT_RESET: &str = concat!(
    "38e7ca3c41ee613eab98e561b0fc1ad4b3fdf399793c81b005b942b3979cb2501b812985315d85c5",
    "6b76b65d77fac19d5a422c665930a5686de2175cb210536a021ee30abce303c6fd000000016b069b",
    "c30000000000",
);

/// Same capture, frame 2: server reset.
const SHA512_SERVER_RESET: &str = concat!(
    "4004a4ac17726c719d3ef51dfe6a3720824de938b1843f72f13e71c24127535fd6196f078117ad03",
    "78b2b616911efb61482c9737cbd744737c7b40d7bf7da0d94d5e935ccf7ea34b00000000016b069b",
    "c30100000000e7ca3c41ee613eab00000000",
);

/// `captures/vpn/openvpn-udp-1194-plain.pcap` frame 1: client reset, no tls-auth.
const PLAIN_CLIENT_RESET: &str = "3892b42914fe0651920000000000";

/// Same capture, frame 2: server reset.
const PLAIN_SERVER_RESET: &str = "40cb321eeececc03c0010000000092b42914fe06519200000000";

/// Same capture, frame 6: client P_ACK_V1 of message ids 1 and 0.
const PLAIN_CLIENT_ACK_6: &str = "2892b42914fe065192020000000100000000cb321eeececc03c0";

/// Same capture, frame 10: client P_ACK_V1 of message ids 3, 2, 1, 0.
const PLAIN_CLIENT_ACK_10: &str =
    "2892b42914fe0651920400000003000000020000000100000000cb321eeececc03c0";

/// Same capture, frame 11: server P_CONTROL_V1, message id 4 (TLS application data).
const PLAIN_SERVER_CONTROL_11: &str = concat!(
    "20cb321eeececc03c00300000003000000020000000192b42914fe0651920000000417030300c37f",
    "638da6b29cad46038bf31e98a62b38a36c22f5d8c0de5f182bec35799942283b5341603611b0e354",
    "9ef4add07ea09bbcb426c8e962bd6d4c97f941bdacbea2c0eede3ed553bb3bb1097c2de68a0cf01c",
    "be40001a88c551c44c996406585ea4fdcd4a0503d13823d1efada1ad50c65dbeb9b38e739b20f7a4",
    "eb89001e85422d5674726011bef78896bed6bcc04a67cc45c6f9c0471efdab323715139ad87cf893",
    "49447b4941dbdff1fd34ad3171c2e738ae3d6661d45332f4e7aecd255cb872b8a644",
);

/// Same capture, frame 12: client P_ACK_V1 of message ids 4, 3, 2, 1.
const PLAIN_CLIENT_ACK_12: &str =
    "2892b42914fe0651920400000004000000030000000200000001cb321eeececc03c0";

/// Same capture, frame 13: server P_CONTROL_V1, message id 5.
const PLAIN_SERVER_CONTROL_13: &str = concat!(
    "20cb321eeececc03c00300000003000000020000000192b42914fe0651920000000517030300d6d2",
    "c05e9ba82db70dcd4a8ffeca974e9443b8f4d3e8f30f3d76aa39acb91dc801a27d37aaeb5a5cdc45",
    "9b44a4b16cb7f69cdbe8540a0f6e5a210f143f7449cdf0d10c2ee1c789ccb437d1b589ac7e0e0d6c",
    "0b9c81960a1aac49fdf679d90f1696af27bda105ecca6a1aa0d0194a0d6de6779d078654a4164dce",
    "850f2bfdae41b39170b489e05fefe56af9aad73c34602cbd271d7700416bc0521b9b78438a82d6f5",
    "3e020447136dbc015578c356ab0cace536556ca833f85dfd1d4be54ab79d581220a4905cc933b107",
    "78cdc47aed74ea4ceb6053b631",
);

/// `captures/vpn/openvpn-udp-53-tlscrypt.pcap` frame 1 (client → server, UDP port 53): P_CONTROL_HARD_RESET_CLIENT_V2 under tls-crypt.
const CRYPT_CLIENT_RESET: &str = concat!(
    "38931ded372babc782000000016b069bcfa4b5677103b6ad03a211398f22241da1b907728637cf23",
    "76b0b0e5a72e3a207e12600d532c",
);

/// Same capture, frame 2: P_CONTROL_HARD_RESET_SERVER_V2 under tls-crypt.
const CRYPT_SERVER_RESET: &str = concat!(
    "4064fe7dc48bbf7f82000000016b069bcfc15f80f3dedabafbb7a296a2af13e1415a775e38956452",
    "05c83d870fe224fe457c8931bc990f9228b2153278637cd33d26",
);

/// Same capture, frame 3: the client P_CONTROL_V1 carrying the (encrypted) TLS ClientHello.
const CRYPT_CLIENT_CONTROL: &str = concat!(
    "20931ded372babc782000000026b069bcf8f7d35f94f6bbfe3c4fae86b674b1c3b212a32a2ec2698",
    "d7fd5e76ad12eb187b83acd52bd87ada424de1a56b3b1f43c72db9fbc0709bed93866202afc766a2",
    "5f3b96f9ea7d59efc67b771433ce61389c96055af3a763570a6cdfd011510ad248f7bee72f2a1122",
    "c5d429054a4b5a08bcbed6afbf344387d56981f746d121a3681a29cad7f61b51a707ff0e80d53a63",
    "3143b7f5fb2dc098d4e2bd3d35e0fffb1ded6fcdce6e14e7658221d72b2befe61b1012470c7195a1",
    "53cd1d820a4fc9f6db2b97327b961c78928977aaed9fe3fbfbdd6832fd587b413a0f519a3f3d629c",
    "7d034afa05c2d7e7413a052e8385bba0d5fa577068d11baf8bf6c3b2cd0ce0fe12250d1feac82ae5",
    "4b3059832dfc85be72ae4bd5c66c71d15864658912d7e7f522ff6f4dba16cb3a1776706dd9b30511",
    "8c668bf9fadfd9275ee97631e9b1f613dbb9e994abe7b4",
);

/// `captures/vpn/openvpn-udp-443-tlscryptv2.pcap` frame 1: P_CONTROL_HARD_RESET_CLIENT_V3 with the wrapped client key (299 bytes).
const V2_CLIENT_RESET: &str = concat!(
    "502fb30f03aaaecc530f0000016b069bd581846e6d099f8373e1cd39242faa6aa814f74751779594",
    "6cc5e3cfb5262ea624dd5d1f9f4fd6a50694518e546ec908deeb3de0df16d7bd9344dd1b847f4b1b",
    "463d272dad26801c4e73dd34715d2f8c96558f6bf21f9f3416debcfa4032bee42f30e82dfcb18e4e",
    "88ab306bd79edc0ff6820a5b49722edc6e64021a9eb12446791a05856a8df2711f6bc07003385854",
    "a813f77358004865570426f47f6278c6fe799d738d5910e45ab91c09631b2773a4eb6f67a20fa188",
    "7e5d2e3e0f4ad83958a221b26885e4be0bff0232882379a8ac4396e25dba4784711708a29f6fc83a",
    "b8c30c5514ad2e75898c5c9ba6b2ed8ef6794f523e7da04ff1c4cea4674e09d480b570c627313b5b",
    "6b58da662890321df32e18e3f7ce6ca86b4f508ccb154c3b918fdd18d82653d9d06e7187cd2b8875",
    "09ec6495aaf08ad6c4fa7eb07850129733d0d608e581913a33691ac3fbbdfd012b",
);

/// Same capture, frame 2: P_CONTROL_HARD_RESET_SERVER_V2 (tls-crypt, early-negotiation TLV).
const V2_SERVER_RESET: &str = concat!(
    "4011710c9f91733205000000016b069bd566dc554be05eb8619a6cb603d84c56f2dca160656e1eb3",
    "2a5b64a66e19f9f77452300a366b9a22cccbdb7aa941a62eac5fda546f2ae489",
);

/// Same capture, frame 6: client P_ACK_V1 under tls-crypt.
const V2_CLIENT_ACK: &str = concat!(
    "282fb30f03aaaecc530f0000036b069bd52b875102f5ee2419213f397726b20cf36c853be613a704",
    "be31a19b7e6ca90deab3efadb53ff1909e5f213b44aef9f514b6",
);

/// `captures/vpn/openvpn-udp-1194-reneg.pcap` frame 76: client P_CONTROL_SOFT_RESET_V1 key 1, wrapped by 2.6 dynamic tls-crypt.
const RENEG_CLIENT_SOFT_RESET: &str = concat!(
    "194da90344ba4a95c5000000016b069bfac97c1e23d1b7a9cb5c2b2a1c6680525af7bcc790d42ba9",
    "dec460db4f616c28145a84f46dbd",
);

/// Same capture, frame 77: server P_CONTROL_SOFT_RESET_V1 key 1.
const RENEG_SERVER_SOFT_RESET: &str = concat!(
    "198985d1a399440210000000016b069bfa5367143b2c19d1109a2804282d36a544335c7ee8df1bfe",
    "574bb40181fd8b697fdc718d1f05",
);

/// Same capture, frame 78: server P_ACK_V1 key 1.
const RENEG_SERVER_ACK: &str = concat!(
    "298985d1a399440210000000026b069bfaf1b73a6ac9e848adf301276ebf62b39742c367344018ef",
    "11510ec89117e7525284bbcc57180dbc7a2abd9303a7",
);

/// Same capture, frame 80: client P_ACK_V1 key 1.
const RENEG_CLIENT_ACK: &str = concat!(
    "294da90344ba4a95c5000000026b069bfa48e6a6cd7a25490fcb641141ad05f67109e805634980a1",
    "2f19bb5f58b3b14f0218a621368d90a89a06b70a3065",
);

/// Same capture, frame 74: server P_DATA_V2 key 0 (AEAD packet id 0x1d), before the renegotiation.
const RENEG_DATA_74: &str = concat!(
    "480000000000001d0abcf245be16608567b6db175eb2aaf9cd7bff0c9861255318f21768e20fd2b1",
    "6cf374d910e832a6847baac87c880c6433d36f0c8ed1bb4b4e5567f17c3d0c1f85df3707b9742d22",
    "875750eb0c8f83a388755019ea40199eaae446ade3e9d4d1975e8f60",
);

/// Same capture, frame 75: client P_DATA_V2 key 0 (AEAD packet id 0x1e).
const RENEG_DATA_75: &str = concat!(
    "480000000000001ec2a2f74ede2be6e19fcf8e89e3c3322a178457733d289cc95b9e0b6fb0703193",
    "97d03efce5bb925adbf991fb7e59ff155bf76c9ae63a2b50b851b06722f869d2d04efb280b44afce",
    "01f31fcfa11a40d0e58262c8ac74a6757c50c439db09056a21f9e2c5",
);

/// Same capture, frame 79: server P_DATA_V2 key 0 (AEAD packet id 0x1e), during the renegotiation.
const RENEG_DATA_79: &str = concat!(
    "480000000000001eba1bdf6961018a373478fc610f65a83467675e4cfcbc1f620bfd2688b074c6fb",
    "4001745409337d8fdbdbca47d62ab61c8cd4dcfd55c447e1f25f2055f3a8847cd7c19b8b0e218eed",
    "c4e9af7e8cb45557d91f71589e7142002e53a51536640b4494075c93",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 15 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 1.
const DATA_0: &str = concat!(
    "4800000000000001eb1d99dc9ab82820ec2571f0f266322d7744cb18aa9b6166c4d189598db1485e",
    "b6901fe2d01d2763d89f05560ae2faca0d2454927df53232608bdcc84fff7d559b7a40c5e630c7c3",
    "0adff150bb622e228a6c13ab2844e1f79a207290056aefff8b042eb1",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 16 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 1.
const DATA_1: &str = concat!(
    "480000000000000127e3e15c659cc549d0f800b1df2ee60199d60a163557fd1a210e8f6bcbebdc11",
    "d419bb6615ae825fca1d999d8680a7be385a9081148e6d41ee411238e2d2785fb87381fe6dedb002",
    "53aca20cd269a4ffafa5d59023f24100196c4b026afbacba97e5f884",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 17 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 2.
const DATA_2: &str = concat!(
    "4800000000000002e0418a18463ce639c93f271385f45976c81fe6d1932068bcb5afed004824a5f0",
    "90a367c70aa7c6b34ca3f48dde3c894a0471238566d89e6601a153b690ef16ddece765e62ae928d6",
    "21e7efcbdeb1ddbdf7b952348c1910d9b13ca152731c0f5f5300eb74",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 18 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 2.
const DATA_3: &str = concat!(
    "48000000000000028f80f2f4ef0901068bcafb0ac91a7d375bfc2f567b1e6bb821ad9b4253e348b9",
    "7f8bea4cd474a4f339b8b11506ef540dd8e47dc27dae37fef2893643d9698565a174f58f7f4266bf",
    "234e1bee98e5b6d04be6439c603d777ee785d97ee7768cd3ece7ee5d",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 19 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 3.
const DATA_4: &str = concat!(
    "48000000000000032e33d85785cb2b2ed573be0df1bcec4287879af892602a4631acdae5f98f2b69",
    "6b0425fb22a6bac059efda27095b2c1c5875a9ebddfd352a140885ae1b696e6fc506aa47819becf6",
    "122d7bfa196a9649eeb22dd6cf95bbc738f6fd1f0198442851fb731e",
);

/// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 20 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 3.
const DATA_5: &str = concat!(
    "4800000000000003559ec27cdf8472d60605a654d07557ea1b8a3ea9f8028a9ad82ffea7487707a0",
    "6cfd643de7a062091f9a2b48fd63a3355201a9eaa7f950ae191df4a17c2719bbf22c8c0a86e0504b",
    "610abe297b7b4a944f9e25eaa61021abe1a4d035e23eb13584ace802",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 1 (client).
const STATIC_0: &str = concat!(
    "77e8a111f18119344afc55ecd1ab9fc0e10edb50bfbf204e93124692198525ec4299d93baedd82d8",
    "cd5f66ae41cfe50952758f47231f9bb45b3f88437d3846436e7fe7f4b78b23e5d1a192584b5dc69d",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 2 (server).
const STATIC_1: &str = concat!(
    "367a2474fc83029f594dbd82d7d075f84da6af0ac7aa22b1a519d818a8851985a9f12a26a74ca20b",
    "30f448fd65d6040e6e835ef92316cdc64d312311c90734099c6da12b58d08437e25d0e94442abc86",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 3 (client).
const STATIC_2: &str = concat!(
    "3496b544c61154344cd304e4026b3b5bd3edfee99c62852f7a224e43045040ce92063dca4cecf698",
    "5d33f5b2f1a1b562bc648efaf16ce266fda301d62f6d6d07647ec1c99ffe387240300029bf8a9da1",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 4 (client).
const STATIC_3: &str = concat!(
    "d50d43fac42e44892805e928c6525b607ea5ba990709c974d1bbb6c5c7dd557a9c02fbaa163b21f7",
    "13945504d5e84829e88ec3cdfba4a00eeb9e1beddbe4185efdd1bdd9e0108d0968568b4a0918acf0",
    "ea3dfd4403e8d1b90317337e8e46f5b2bef91a71b79766a368a7df9dd4f0e8bdf6bba8657ba2010c",
    "dae1939e0fc420912c3c078d8c78bd7e28ca5d64cb5c58f6",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 5 (server).
const STATIC_4: &str = concat!(
    "04f975685000de4bdda901d9edc7153384fd2cde1b6b49abf0888bc7a3ec348da6ff9a7daeebb1cc",
    "f08c921e7c51923688fe4ea9575a41d7bfbf4ff92089779f3ec26279f57955585bac8a8b30e3ae5f",
    "44d98740667a58eacc22a5c86b21060d67359d6528ef69e07e00dbdf69aefbff865b423db04d4292",
    "9809794924816984a46f52bf789e6519cab849c626dfc639",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 6 (client).
const STATIC_5: &str = concat!(
    "14dac3705d0c7d76b94b1a1a2b2ae8ecd3daaaaee21e1a6d3b0cd8bf3f7a14717d42611a180b17e5",
    "5065a61a40b79a22eb9b0a119b2a4f07cdd2cdb7994031aa3004e69d2f77ba20e209e7f92300a2d0",
    "c4e0c6d2375a3c16e95e34b5b5f5eaf1111059d3cd06258034d861399ccb4a357a9dc915dd61f802",
    "ffcb7d5504f52bbd5437a28d6dd3a2035bd87b1d1b745c9e",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 7 (server).
const STATIC_6: &str = concat!(
    "8e1646eb60b0128da84b8386e1f98dccdfb537ca3ccdcb24c5f3f1f801cbc1ff2d75f1755d0d4b78",
    "b851945b5bf7fc6511a025e61681d884a90574b8f75fdb7c57781e4315fd188bd4eb66fa7c2ac61c",
    "c92e23513ccc7839201b413de724bf7a123bfe49705d62ea224b90b97060c0c40f8182728dddc97f",
    "4727e6726db2acafd4035645f711abba681b638d0e1a6f33",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 8 (client).
const STATIC_7: &str = concat!(
    "a7deea44de1c12822aa68415e0697da965d4adfd45ac3207dea55fd3212e50a10ddd7c50c68f8bf7",
    "648d0b98dc5fed5162e4b1d834c30d7979d6711f484bd864b309f8524f39cae951582ac687ef4466",
    "9bb726244fdd33280a1b9f4e589d70053153afcfb16f7c219edb04a4cd0bbc3cd5c940fa2483e5ec",
    "7ae57273072186a45afebaf0cc80f309b7c91ccc832c4593",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 9 (server).
const STATIC_8: &str = concat!(
    "4b5f6cbd04a440aa07f433016800c8c318305f442c21a0b291d58e5ad04d327daafde7ef789d4505",
    "a27a30c39604c1f5854ed8611a5c2474888dac88dd951acbcd70f9264786dbf53dc9cf243f3bcab6",
    "370f540e6010d7a8b1df1bd258b027251f5f64b8109e6d89c519a590169d76434e5d6dad1d56bf5b",
    "b54cd64212f3aac259c30edf423d1ca7280c36497b76711d",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 10 (client).
const STATIC_9: &str = concat!(
    "cf150b65b99f69fe79b6d0741d21ebe9409872e7a51a7ed242e32e22278ac4e4f0db57f0c1b552f2",
    "e1bb7897a8c8404a57cf9476fd637cc3600ab837a07bf6890c939644b63f7b3907ea00a257a86680",
    "0fdf2bd35b61e3dc2a18e3e6167fb30a63e0cb600e9d80810c464444616fec43b366e79f55ae3719",
    "4cd6586981ce494926cb77445ff7cd0aae27ec7423b85daa",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 11 (server).
const STATIC_10: &str = concat!(
    "cab73f1589f40ec59289e64e8c058f1001ccf924a3230d29884ee653d79216034b2f993c036d655a",
    "be0fca22710a66afe3492f013a50218e4891e4b076ffb611beeff24129330108301cb5d0cd82ec4d",
    "01972b0d43f8b72e067d22f3899211cdab82821b590b43977986f70fc42f8b7b12d2661c25ccbe7e",
    "981a93354d89a1e6394c62ef630a8eb9501e74a789dabe32",
);

/// `captures/vpn/openvpn-udp-1194-static.pcap` frame 14 (client).
const STATIC_11: &str = concat!(
    "9371c54b1b54106897608c71dcdb523dd98bfc4f2e584992ff839d5eed8e945ceef965516c101da3",
    "5acdd128ed8af6c0c6087a64116057cb455ee0f884aac417297c58417a7a5dd1a366e5d159c7c55b",
    "0443b54714cbdb768646ad67c734a15985b3230f055a3b8f42143e6b0960886a7f691005ecdefb41",
    "b7616449dfd0e05fb7564fe1087b4a84f6ec7f83b53d29a2",
);

/// nDPI corpus `dns.pcap` frame 2: DNS query for www.example.com (32795 → 53).
const DNS_QUERY: &str = "bc1f0100000100000000000003777777076578616d706c6503636f6d00001c0001";

/// nDPI corpus `dns.pcap` frame 3: its response.
const DNS_RESPONSE: &str = "bc1f8180000100000000000003777777076578616d706c6503636f6d00001c0001";

/// nDPI corpus `stun_google_meet.pcapng` frame 1: STUN Binding Request (38152 → 19302).
const STUN_REQUEST: &str = "000100002112a4426b41474e4e7a76484e483539";

/// Same capture, frame 3: Binding Success Response.
const STUN_RESPONSE: &str = "0101000c2112a4426b41474e4e7a76484e483539002000080001b96a7c310f93";

/// nDPI corpus `quic-34.pcap` frame 1: QUIC draft-34 client Initial.
const QUIC_INITIAL: &str = concat!(
    "c6ff00002208a128fde632355cb7088d4cb7400728be490044caad3d483bb974522b890c5d7e7712",
    "ce689cbcf1b517a6546cae304c5a15b32eb7abc3baa07653f0e9cce7d496ad05bd1b7dad42698d6e",
    "b20ed509ffbd33b73f820d8215f15a4a8502d0b587cf0f79a690a9f617192bad03b829a7dacd5b9c",
    "6f872f57b4f8374bb8dc09c970cb5ce1dfc65e731a69ce157c095f1dee32d750e08343bed1a2a28f",
    "3116a0f5f1c91478b79d5a0bb3646efff427976058a0c1424f70dfb772b5be73c236df407a51565b",
    "8d073647b392380cc67f267341f8fad4caec81997ae9d204765e7c158f34377e534f16071082edbf",
    "253545d0bd770a4c6dffe41995cf41df0068cac12ab8ca4596e542c65869b0936814aee33e0debd9",
    "cfaec51406d29f29719a67bd392c58bf9ff16a854f97282cf3dd665670067d3644a7c64c0fae019d",
    "0b684d0ed646b7e1612982aa6855cf1f6b269369dae32f23bf2654be76afca75ddf2f4a3dedfc8e3",
    "7b1722acead6d7eaa53f3870231f29892a6b84e0b2110636f9f963ad0342a54a0f2afcdd6ac8fef1",
    "8fef80e8b86803574c0b2977e34f642b21970429181610742ec21196dfe50970527c9217279c9cf2",
    "2ca247dccbb109089c465455c04e8a77f5fe5a82aa83809041c5b57b572d3a14ad6a931ff4bbcba1",
    "19f563a952912a6a6bc22f57d64492aa15edd861fc6d9c6388cd35a02e01415efc375f7d460f6d60",
    "9ba946ff25eb2be10d2f6b72dd3ccd658d571af9f2579b41468a35869d411999685b519a7374b318",
    "e4bdcc70794c5b668a0bec4e06188a889634786612e5ce52b713b07ae8e246b50002ed5c91e3a19a",
    "7e7c214f1a771eb3b22f2a19a74470ef171622dcfd4efea54f60680386340d2358f68953a7e0cfca",
    "b327506d2fa91c7346127cdfbe2383a3152993046bff3b318da2ae103c90af216680b7335f454da3",
    "a79de96db9602132b7fe43cb7c040943ee45241faa07c7dbe462711988af7efec7f1e90abcb5a18c",
    "1bf99c58359a6046f7357019aa67f8d451ed794fcec1d9a5652aa8a834b90e5561076c2aeed2f098",
    "b2b1a314e48635576ae9d353f91f7330439b5030925c45c371f0e49e65f8b1ebc0ea2570fae817aa",
    "8b0c191b0cebcea6dc84d65977bc1d2de121f4e96af7eac1f3473d6e090476d40f521d9bcac892bf",
    "482835b80a6c2ea766259d5fffed6277ccd31308ead6a9ac1c40f7f254380ab95b59fa0bbce4777f",
    "7b3fcff4248adbdf1ad1e1559b748f459ea5a90a7b4eff3461d7d55d1d33499382a64a261d88a379",
    "2f16f72d028eac5236c03571744bcc3194eba365b1735b52ce922d425c361674f96af9226dc9e071",
    "5040cdcc567bd55adb9f0b2724d3a91efbccccfa9d455fa77552d97e9c905d212c15ceb9415a1034",
    "ebb43067ab22465aef02ded32e265f4a6723c2ff47fcb52536b0aa225e794c7caf5978e24bbf8376",
    "44dae495109c6eb93758f134875d1331afb9ea66e396a6f4886947064b74354d99ec88e4c561cbc1",
    "5b311b43bd8e992456509cc2080041ce2763883a465b33e485ef3f44eca395cff94d1420ebbad70b",
    "67c08f9dee5d0456c376ba8eccd3e31a1d66c24aa28288a2ce46dc2a58cf3412242aed39e3abe7f7",
    "1ee1cfaadc7c76af32a1760bf959185502bd94576dd335425dd0e92655ea19cecf6ff850dbd0fb4f",
    "3d8543287be326a1c0ccecb5754ca34db75cf948d143f5e1def10c3e1b279c573ed3e967e9bda19e",
    "d64bd33f5e17cc8c24ae0a37",
);

/// `captures/vpn/openvpn-tcp-443-tlsauth.pcap` frame 4: client stream bytes 0..56, length 54 + P_CONTROL_HARD_RESET_CLIENT_V2 (tls-auth SHA256).
const TCP_CLIENT_RESET: &str = concat!(
    "0036385884c42038c86e9ca5a703b2724064b5cc64a76fcaf29bb3beb3f6dc6b64d4612715a26f51",
    "4c4633000000016b069bda0000000000",
);

/// Same capture, frame 6: server stream bytes 0..68, length 66 + P_CONTROL_HARD_RESET_SERVER_V2.
const TCP_SERVER_RESET: &str = concat!(
    "004240595eb553db46edb877646affb949fcaa7313d448e5272d7c2daf3321ed2856611a6b6dd6a0",
    "088f5d000000016b069bda01000000005884c42038c86e9c00000000",
);

/// Same capture, frame 10: length 66 + client P_ACK_V1 (client stream bytes 401..469).
const TCP_CLIENT_ACK: &str = concat!(
    "0042285884c42038c86e9c6581cfc08a519e6cdc167f4515a6edaca66b4a2ce7fbadf45c64856165",
    "8ebb47000000036b069bda020000000100000000595eb553db46edb8",
);

#[test]
fn digests_tell_packets_apart() {
    let base: Vec<u8> = (0..64u8).collect();
    let d = |b: &[u8], len: usize| super::digest(b, len);
    assert_eq!(d(&base, 64), d(&base.clone(), 64));
    let mut seen = std::collections::HashSet::new();
    // Every prefix, every one-byte change and a trailing zero are new.
    for n in 0..=base.len() {
        assert!(seen.insert(d(&base[..n], n)), "prefix {n}");
    }
    for i in 0..base.len() {
        let mut b = base.clone();
        b[i] ^= 0x01;
        assert!(seen.insert(d(&b, 64)), "byte {i}");
    }
    let mut z = base[..5].to_vec();
    z.push(0);
    assert!(seen.insert(d(&z, 5)), "trailing zero, same length");
    // The same kept bytes of a longer packet.
    assert!(seen.insert(d(&base, 65)));
}
