//! The two dissectors fed by hand: random openings reported with their
//! measures and suspects, headers and printable bytes refused.

use super::*;
use crate::flow::TO_CLIENT;

fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn input(bytes: &[u8], side: usize, packet: u64, first: bool) -> Input<'_> {
    Input {
        ports: [0, 0],
        fingerprints: true,
        bytes,
        side,
        packet,
        first,
        client_from: Some(1),
        ts: 0,
        links: &[],
    }
}

fn finding(step: Step) -> Obfuscation {
    let Step::Facts { found, .. } = step else {
        panic!("no finding: {step:?}")
    };
    match found.facts.into_iter().next() {
        Some(Fact::Obfuscation(o)) => *o,
        other => panic!("{other:?}"),
    }
}

#[test]
fn tcp_opening_and_reply_random() {
    let c = noise(1, 187);
    let s = noise(2, 1448);
    assert_eq!(FullyEncrypted::probe(&c, TO_SERVER), Probe::Maybe);
    assert_eq!(FullyEncrypted::probe(&c, TO_CLIENT), Probe::No);
    let mut d = FullyEncrypted::start();
    assert_eq!(d.feed(&input(&c, TO_SERVER, 4, true)), Step::NeedMore);
    let o = finding(d.feed(&input(&s, TO_CLIENT, 5, true)));
    assert_eq!(o.class, Class::FullyEncrypted);
    assert_eq!(o.confidence, Confidence::Medium);
    assert!(o.suspects.contains(&Suspect::ShadowsocksAead));
    assert!(!o.suspects.contains(&Suspect::Hysteria2Salamander));
    assert_eq!(o.evidence[0].packet, 4);
    let words = o.evidence[0].what.to_string();
    assert!(
        words.starts_with("client's first payload (187 bytes): "),
        "{words}"
    );
    assert!(d.settle().is_none(), "reported once");
}

#[test]
fn tcp_printable_or_structured_refused() {
    let req = b"SSH-2.0-OpenSSH_9.6\r\n";
    assert_eq!(FullyEncrypted::probe(req, TO_SERVER), Probe::No);
    assert_eq!(FullyEncrypted::probe(&[0u8; 100], TO_SERVER), Probe::No);
}

#[test]
fn tcp_settles_without_a_reply() {
    let c = noise(3, 300);
    let mut d = FullyEncrypted::start();
    assert_eq!(d.feed(&input(&c, TO_SERVER, 1, true)), Step::NeedMore);
    let v = d.settle().expect("a finding at the end");
    assert_eq!(v.proto, AppProto::Unknown);
    let Some(Fact::Obfuscation(o)) = v.found.facts.first() else {
        panic!()
    };
    assert_eq!(o.confidence, Confidence::Low);
}

#[test]
fn udp_header_refuses_and_random_reports() {
    let a = noise(4, 200);
    let mut b = noise(6, 200);
    let mut d = FullyEncryptedUdp::start();
    assert_eq!(d.feed(&input(&a, TO_SERVER, 1, false)), Step::NeedMore);
    let o = finding(d.feed(&input(&b, TO_SERVER, 2, false)));
    assert_eq!(o.confidence, Confidence::Medium);
    // The same second datagram with an SSRC-like field of the first.
    b[8..12].copy_from_slice(&a[8..12]);
    let mut d = FullyEncryptedUdp::start();
    d.feed(&input(&a, TO_SERVER, 1, false));
    assert_eq!(d.feed(&input(&b, TO_SERVER, 2, false)), Step::Refuse);
}

#[test]
fn any_bytes_any_order_no_panic() {
    // Every length from 0 to 300 and a few shapes, both sides, both carriers.
    for n in 0..300usize {
        for bytes in [noise(n as u64 * 2 + 1, n), vec![0xaa; n], vec![b'a'; n]] {
            for side in [TO_SERVER, TO_CLIENT] {
                let _ = FullyEncrypted::probe(&bytes, side);
                let _ = FullyEncryptedUdp::probe(&bytes, side);
                let mut t = FullyEncrypted::start();
                let mut u = FullyEncryptedUdp::start();
                for (i, first) in [(0u64, true), (1, false), (2, true)] {
                    let _ = t.feed(&input(&bytes, side, i, first));
                    let _ = u.feed(&input(&bytes, 1 - side, i, first));
                }
                let _ = (t.settle(), u.settle());
            }
        }
    }
}

#[test]
fn a_long_first_chunk_is_judged_on_its_first_bytes() {
    let mut c = noise(21, MAX_JUDGED);
    c.extend(vec![b'x'; 4_000]);
    let mut d = FullyEncrypted::start();
    assert_eq!(d.feed(&input(&c, TO_SERVER, 1, true)), Step::NeedMore);
    let o = finding(d.feed(&input(&noise(23, 500), TO_CLIENT, 2, true)));
    assert!(o
        .features
        .contains(&("first_payload_bytes", Value::Number(c.len() as u64))));
}

/// The measured clues spelled in pieces keep the words `Display` always
/// wrote (hundredths zero-padded).
#[test]
fn measured_clues_keep_their_words() {
    let m = |popcount, printable_pct| Measure {
        len: 517,
        popcount,
        printable_pct,
        longest_run: 9,
        printable_prefix: 0,
        top_count: 3,
    };
    let cases = [
        (
            Clue::FirstPayload { udp: false, m: m(401, 37) },
            "client's first payload (517 bytes): 4.01 set bits per byte, 37 % printable, longest printable run 9: no exemption of the GFW's rules applies",
        ),
        (
            Clue::FirstPayload { udp: true, m: m(399, 0) },
            "client's first datagram (517 bytes): 3.99 set bits per byte, 0 % printable, longest printable run 9: no exemption of the GFW's rules applies",
        ),
        (
            Clue::ServerPayload { m: m(400, 100), random: true },
            "server's first payload (517 bytes): 4.00 set bits per byte, 100 % printable, random too",
        ),
        (
            Clue::ServerPayload { m: m(12, 5), random: false },
            "server's first payload (517 bytes): 0.12 set bits per byte, 5 % printable, not random",
        ),
        (
            Clue::NoSharedField,
            "client's second datagram repeats no 4-byte field of the first one's first 16 bytes (no header)",
        ),
    ];
    for (clue, words) in cases {
        assert_eq!(clue.to_string(), words);
        let outer = facts::Clue::FullyEncrypted(clue);
        assert_eq!(facts::tests::spelled(&outer).as_deref(), Some(words));
    }
}

/// Each suspect's reason, word for word, as `Display` writes it and as
/// the EVE writer spells it.
#[test]
fn fits_keep_their_words() {
    use suspects::Fit;
    let cases = [
        (
            Suspect::ShadowsocksAead,
            Fit::ClientAtLeast { min: 57 },
            "shadowsocks shape: client's first payload has the 57 bytes its header needs",
        ),
        (
            Suspect::Shadowsocks2022,
            Fit::BothAtLeast { client: 68, server: 59 },
            "shadowsocks-2022 shape: client's first payload has the 68 bytes its header needs, the server's the 59 of its own salted reply",
        ),
        (
            Suspect::Vmess,
            Fit::VmessResponseHeader,
            "vmess shape: server's first payload is exactly 38 bytes: an encrypted length (2+16) and response header (4+16)",
        ),
        (
            Suspect::Obfs4,
            Fit::Obfs4Handshake { sent: 8192 },
            "obfs4 shape: client sent 8192 bytes (obfs4 handshake: 141 to 8192) and waited for the server",
        ),
        (
            Suspect::Obfs4,
            Fit::Obfs4Both { sent: 141, reply: 10_000 },
            "obfs4 shape: client sent 141 bytes (obfs4 handshake: 141 to 8192) and waited; the server's 10000 bytes fit its handshake (at least 141)",
        ),
        (
            Suspect::Mtproxy,
            Fit::Obfuscated2Opening,
            "mtproxy shape: a 64-byte opening that obfuscated2 allows, whose transport tag does not decrypt without a proxy secret",
        ),
        (
            Suspect::Hysteria2Salamander,
            Fit::SalamanderInitial { len: 1208 },
            "hysteria2-salamander shape: client's first datagram of 1208 bytes: an 8-byte salt and a QUIC Initial padded to 1200 or more",
        ),
    ];
    for (suspect, fit, words) in cases {
        let clue = Clue::Fits(suspect, fit);
        assert_eq!(clue.to_string(), words);
        let outer = facts::Clue::FullyEncrypted(clue);
        assert_eq!(facts::tests::spelled(&outer).as_deref(), Some(words));
    }
}
