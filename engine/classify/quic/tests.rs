//! Tests of the parent module, with real packet bytes.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn varint(v: u64) -> Vec<u8> {
    match v {
        0..=63 => vec![v as u8],
        64..=16383 => (v as u16 | 0x4000).to_be_bytes().to_vec(),
        16384..=0x3fff_ffff => (v as u32 | 0x8000_0000).to_be_bytes().to_vec(),
        _ => (v | 0xc000_0000_0000_0000).to_be_bytes().to_vec(),
    }
}

fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend(varint(offset));
    f.extend(varint(data.len() as u64));
    f.extend_from_slice(data);
    f
}

/// The encoded server_name extension (RFC 6066 §3) for one host name.
fn server_name_ext(name: &[u8]) -> Vec<u8> {
    let n = name.len() as u16;
    let mut v = vec![0, 0];
    v.extend((n + 5).to_be_bytes());
    v.extend((n + 3).to_be_bytes());
    v.push(0);
    v.extend(n.to_be_bytes());
    v.extend_from_slice(name);
    v
}

/// A ClientHello: type 1, its 24-bit length matching, legacy_version
/// 0x0303, and (if given) a server_name extension naming `sni`.
fn assert_client_hello(ch: &[u8], sni: Option<&[u8]>) {
    assert_eq!(ch[0], HANDSHAKE_CLIENT_HELLO);
    let len = u32::from_be_bytes([0, ch[1], ch[2], ch[3]]) as usize;
    assert_eq!(ch.len(), 4 + len);
    assert_eq!(&ch[4..6], &[3, 3]);
    if let Some(name) = sni {
        assert!(
            contains(ch, &server_name_ext(name)),
            "no server_name {:?}",
            String::from_utf8_lossy(name)
        );
    }
}

/// Test-only: protects an Initial as a client would (RFC 9001 §5),
/// with a 4-byte packet number, the frames zero-padded to
/// `payload_len`, and a 2-byte Length.
struct Sealer<'a> {
    version: QuicVersion,
    secrets: InitialSecrets,
    dcid: &'a [u8],
    scid: &'a [u8],
    token: &'a [u8],
}

impl<'a> Sealer<'a> {
    fn new(version: QuicVersion, dcid: &'a [u8]) -> Self {
        Sealer {
            version,
            secrets: derive_initial_secrets(version, dcid, Side::Client).unwrap(),
            dcid,
            scid: &[],
            token: &[],
        }
    }

    fn seal(&self, pn: u32, frames: &[u8], payload_len: usize) -> Vec<u8> {
        let s = &self.secrets;
        let mut payload = frames.to_vec();
        payload.resize(payload_len.max(frames.len()), 0);
        let ty = LongPacketType::Initial.bits(self.version);
        let mut p = vec![0xc0 | (ty << 4) | 0x03];
        p.extend(self.version.0.to_be_bytes());
        p.push(self.dcid.len() as u8);
        p.extend_from_slice(self.dcid);
        p.push(self.scid.len() as u8);
        p.extend_from_slice(self.scid);
        p.extend(varint(self.token.len() as u64));
        p.extend_from_slice(self.token);
        let length = 4 + payload.len() + TAG_LEN;
        p.extend((0x4000 | length as u16).to_be_bytes());
        let pn_at = p.len();
        p.extend(pn.to_be_bytes());
        let aead = Aes128Gcm::new(&GenericArray::from(s.key));
        let mut nonce = s.iv;
        for (n, b) in nonce[4..].iter_mut().zip(u64::from(pn).to_be_bytes()) {
            *n ^= b;
        }
        let tag = aead
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &p, &mut payload)
            .unwrap();
        p.extend(&payload);
        p.extend(tag);
        let hp = Aes128::new(&GenericArray::from(s.hp));
        let mut mask = GenericArray::clone_from_slice(&p[pn_at + 4..pn_at + 20]);
        hp.encrypt_block(&mut mask);
        p[0] ^= mask[0] & 0x0f;
        for i in 0..4 {
            p[pn_at + i] ^= mask[1 + i];
        }
        p
    }
}

/// A long-header packet of `ty` with `len` bytes of filler after its
/// Length, as a Handshake or 0-RTT packet looks to a reader without keys.
fn opaque_packet(version: QuicVersion, ty: LongPacketType, dcid: &[u8], len: usize) -> Vec<u8> {
    let mut p = vec![0xc0 | (ty.bits(version) << 4) | 0x01];
    p.extend(version.0.to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend_from_slice(dcid);
    p.push(0);
    p.extend((0x4000 | len as u16).to_be_bytes());
    p.extend((0..len).map(|i| (i * 7 + 3) as u8));
    p
}

const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// The ClientHello of RFC 9001 A.2 (the CRYPTO frame's data).
fn rfc_client_hello() -> Vec<u8> {
    hex(RFC9001_CRYPTO_FRAME)[4..].to_vec()
}

fn feed_all(t: &mut QuicInitialTracker, datagrams: &[&[u8]]) -> Vec<QuicProgress> {
    datagrams.iter().map(|d| t.on_datagram(d, true)).collect()
}

/// Deterministic pseudo-random bytes (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// --- versions -------------------------------------------------------

#[test]
fn versions_are_named_and_classified() {
    assert_eq!(QuicVersion::V1.to_string(), "v1");
    assert_eq!(QuicVersion::DRAFT_29.to_string(), "draft-29");
    assert_eq!(QuicVersion::GQUIC_Q043.to_string(), "Q043");
    assert_eq!(QuicVersion::GQUIC_T051.to_string(), "T051");
    assert_eq!(QuicVersion(0x1a2a_3a4a).to_string(), "0x1a2a3a4a");
    assert_eq!(QuicVersion::GQUIC_Q050.google(), Some((b'Q', 50)));
    assert_eq!(QuicVersion::draft(34), QuicVersion(0xff00_0022));
    assert!(QuicVersion(0xbaba_baba).is_reserved());
    assert!(QuicVersion(0x0a0a_0a0a).is_recognised());
    assert!(!QuicVersion(0x1234_5678).is_recognised());
    for v in [
        QuicVersion::V1,
        QuicVersion::V2,
        QuicVersion::V2_DRAFT,
        QuicVersion::DRAFT_22,
        QuicVersion::draft(28),
        QuicVersion::draft(32),
        QuicVersion::DRAFT_34,
        QuicVersion::MVFST_DRAFT_22,
        QuicVersion::MVFST_DRAFT_27,
        QuicVersion::MVFST_EXPERIMENTAL,
        QuicVersion::GQUIC_Q050,
        QuicVersion::GQUIC_T050,
        QuicVersion::GQUIC_T051,
    ] {
        assert!(v.has_initial_protection(), "{v}");
    }
    for v in [
        QuicVersion::draft(21),
        QuicVersion::draft(35),
        QuicVersion::GQUIC_Q043,
        QuicVersion(0xbaba_baba),
    ] {
        assert!(!v.has_initial_protection(), "{v}");
    }
    assert_eq!(
        derive_initial_secrets(QuicVersion::draft(21), &RFC_DCID, Side::Client),
        Err(QuicError::UnsupportedVersion(QuicVersion::draft(21)))
    );
}

#[test]
fn packet_type_bits_differ_in_v2() {
    use LongPacketType::*;
    for (bits, v1, v2) in [
        (0, Initial, Retry),
        (1, ZeroRtt, Initial),
        (2, Handshake, ZeroRtt),
        (3, Retry, Handshake),
    ] {
        let first = 0xc0 | (bits << 4);
        assert_eq!(LongPacketType::from_first_byte(QuicVersion::V1, first), v1);
        assert_eq!(LongPacketType::from_first_byte(QuicVersion::V2, first), v2);
        assert_eq!(v1.bits(QuicVersion::V1), bits);
        assert_eq!(v2.bits(QuicVersion::V2), bits);
    }
}

#[test]
fn packet_numbers_decode_as_rfc9000_a3() {
    assert_eq!(decode_packet_number(0xa82f_30ea, 0x9b32, 2), 0xa82f_9b32);
    assert_eq!(decode_packet_number(7, 1, 4), 1);
    assert_eq!(decode_packet_number(0xfe, 0x01, 1), 0x101);
    assert_eq!(decode_packet_number(0x101, 0xff, 1), 0xff);
    // Out of range, but no overflow.
    assert_eq!(decode_packet_number(u64::MAX, 5, 4), 0xffff_ffff_0000_0005);
}

// --- RFC 9001 Appendix A (QUIC v1) ----------------------------------

#[test]
fn rfc9001_key_schedule() {
    let initial = initial_secret(&salt::V1, &RFC_DCID);
    assert_eq!(
        initial.to_vec(),
        hex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44")
    );
    assert_eq!(
        side_secret(&initial, Side::Client).to_vec(),
        hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
    );
    let c = derive_initial_secrets(QuicVersion::V1, &RFC_DCID, Side::Client).unwrap();
    assert_eq!(c.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(c.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(c.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    let s = derive_initial_secrets(QuicVersion::V1, &RFC_DCID, Side::Server).unwrap();
    assert_eq!(s.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
    assert_eq!(s.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
    assert_eq!(s.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
}

#[test]
fn rfc9001_client_initial_opens() {
    let packet = hex(RFC9001_CLIENT_INITIAL);
    let p = parse_long_packet(&packet).unwrap();
    assert_eq!(p.version, QuicVersion::V1);
    assert_eq!(p.packet_type, LongPacketType::Initial);
    assert_eq!(p.dcid, RFC_DCID);
    assert!(p.scid.is_empty() && p.token.is_empty());
    assert_eq!(p.body_offset, 18);
    assert_eq!(p.bytes.len(), 1200);
    let keys = InitialKeys::new(QuicVersion::V1, &RFC_DCID, Side::Client).unwrap();
    let mut scratch = Vec::new();
    let opened = keys.open(&p, None, &mut scratch).unwrap();
    assert_eq!(opened.packet_number, 2);
    assert_eq!(
        opened.header.to_vec(),
        hex("c300000001088394c8f03e5157080000449e00000002")
    );
    assert_eq!(opened.payload.len(), 1162);
    let frame = hex(RFC9001_CRYPTO_FRAME);
    assert_eq!(&opened.payload[..frame.len()], &frame[..]);
    let frames: Vec<_> = Frames::new(opened.payload).collect();
    assert_eq!(
        frames,
        vec![
            Ok(Frame::Crypto {
                offset: 0,
                data: &frame[4..]
            }),
            Ok(Frame::Padding {
                len: 1162 - frame.len()
            }),
        ]
    );
    // The server's keys do not open it.
    let server = InitialKeys::new(QuicVersion::V1, &RFC_DCID, Side::Server).unwrap();
    assert_eq!(
        server.open(&p, None, &mut scratch),
        Err(QuicError::Authentication)
    );
}

#[test]
fn rfc9001_sealer_reproduces_the_packet() {
    let sealed = Sealer::new(QuicVersion::V1, &RFC_DCID).seal(2, &hex(RFC9001_CRYPTO_FRAME), 1162);
    assert_eq!(sealed, hex(RFC9001_CLIENT_INITIAL));
}

#[test]
fn rfc9001_tracker_yields_client_hello() {
    let mut t = QuicInitialTracker::new();
    let packet = hex(RFC9001_CLIENT_INITIAL);
    assert_eq!(t.on_datagram(&packet, true), QuicProgress::ClientHello);
    let ch = t.client_hello().unwrap();
    assert_eq!(ch, &rfc_client_hello()[..]);
    assert_client_hello(ch, Some(b"example.com"));
    assert_eq!(t.version(), Some(QuicVersion::V1));
    assert_eq!(t.key_dcid(), Some(&RFC_DCID[..]));
    assert!(!t.undersized_initial());
    // The verdict stays; nothing more is read.
    assert_eq!(t.on_datagram(b"junk", true), QuicProgress::ClientHello);
    assert!(t.client_hello().is_some());
}

#[test]
fn rfc9001_retry_is_recognised() {
    let retry = hex(RFC9001_RETRY);
    let p = parse_long_packet(&retry).unwrap();
    assert_eq!(p.packet_type, LongPacketType::Retry);
    assert_eq!(p.scid, hex("f067a5502a4262b5"));
    assert!(p.dcid.is_empty());
    assert_eq!(p.token, b"token");
    assert_eq!(
        p.retry_integrity_tag().unwrap(),
        &hex("04a265ba2eff4d829058fb3f0f2496ba")[..]
    );
}

// --- RFC 9369 Appendix A (QUIC v2) ----------------------------------

#[test]
fn rfc9369_key_schedule() {
    let initial = initial_secret(&salt::V2, &RFC_DCID);
    assert_eq!(
        initial.to_vec(),
        hex("2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba")
    );
    assert_eq!(
        side_secret(&initial, Side::Client).to_vec(),
        hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
    );
    let c = derive_initial_secrets(QuicVersion::V2, &RFC_DCID, Side::Client).unwrap();
    assert_eq!(c.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
    assert_eq!(c.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
    assert_eq!(c.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    let s = derive_initial_secrets(QuicVersion::V2, &RFC_DCID, Side::Server).unwrap();
    assert_eq!(s.key.to_vec(), hex("82db637861d55e1d011f19ea71d5d2a7"));
    assert_eq!(s.iv.to_vec(), hex("dd13c276499c0249d3310652"));
    assert_eq!(s.hp.to_vec(), hex("edf6d05c83121201b436e16877593c3a"));
}

#[test]
fn v2_draft_codepoint_keys_match_draft_04() {
    // draft-ietf-quic-v2-04 Appendix A.1 (version 0x709a50c4).
    let c = derive_initial_secrets(QuicVersion::V2_DRAFT, &RFC_DCID, Side::Client).unwrap();
    assert_eq!(c.key.to_vec(), hex("95df2be2e8d549c82e996fc9339f4563"));
    assert_eq!(c.iv.to_vec(), hex("ea5e3c95f933db14b7020ad8"));
    assert_eq!(c.hp.to_vec(), hex("091efb735702447d07908f6501845794"));
}

#[test]
fn rfc9369_client_initial_opens_and_tracks() {
    let packet = hex(RFC9369_CLIENT_INITIAL);
    let p = parse_long_packet(&packet).unwrap();
    assert_eq!(p.version, QuicVersion::V2);
    assert_eq!(p.first_byte, 0xd7);
    assert_eq!(p.packet_type, LongPacketType::Initial);
    let keys = InitialKeys::new(QuicVersion::V2, &RFC_DCID, Side::Client).unwrap();
    let mut scratch = Vec::new();
    let opened = keys.open(&p, None, &mut scratch).unwrap();
    assert_eq!(opened.packet_number, 2);
    assert_eq!(
        opened.header.to_vec(),
        hex("d36b3343cf088394c8f03e5157080000449e00000002")
    );
    let sealed = Sealer::new(QuicVersion::V2, &RFC_DCID).seal(2, &hex(RFC9001_CRYPTO_FRAME), 1162);
    assert_eq!(sealed, packet);
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&packet, true), QuicProgress::ClientHello);
    assert_eq!(t.client_hello().unwrap(), &rfc_client_hello()[..]);
    assert_eq!(t.version(), Some(QuicVersion::V2));
}

#[test]
fn rfc9369_retry_is_recognised() {
    let retry = hex(RFC9369_RETRY);
    let p = parse_long_packet(&retry).unwrap();
    assert_eq!(p.version, QuicVersion::V2);
    assert_eq!(p.packet_type, LongPacketType::Retry);
    assert_eq!(p.token, b"token");
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&retry, false), QuicProgress::Retry);
    assert_eq!(t.key_dcid(), Some(&hex("f067a5502a4262b5")[..]));
}

// --- real captures --------------------------------------------------

/// Feeds client datagrams; the last must complete the ClientHello.
fn client_hello_of(datagrams: &[Vec<u8>]) -> (QuicInitialTracker, Vec<u8>) {
    let mut t = QuicInitialTracker::new();
    let refs: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
    let progress = feed_all(&mut t, &refs);
    let (last, before) = progress.split_last().unwrap();
    assert_eq!(*last, QuicProgress::ClientHello, "{progress:?}");
    assert!(
        before.iter().all(|p| *p == QuicProgress::NeedMore),
        "{progress:?}"
    );
    let ch = t.client_hello().unwrap().to_vec();
    (t, ch)
}

#[test]
fn capture_v1_client_hello_in_two_initials_any_order() {
    let a = hex(QUIC_V1_MULTI_1);
    let b = hex(QUIC_V1_MULTI_2);
    let (t, ch) = client_hello_of(&[a.clone(), b.clone()]);
    assert_eq!(ch.len(), 4 + 1574);
    assert_client_hello(&ch, None);
    assert!(contains(&ch, b"\x05h3-34"), "ALPN list");
    assert_eq!(t.key_dcid(), Some(&hex("e0ea07d1045fdfdf")[..]));
    let (_, reversed) = client_hello_of(&[b, a]);
    assert_eq!(reversed, ch);
}

#[test]
fn capture_v1_second_initial_to_server_cid_uses_original_keys() {
    let first = hex(QUIC_V1_DCID_1);
    let second = hex(QUIC_V1_DCID_3);
    assert_eq!(parse_long_packet(&second).unwrap().dcid.len(), 20);
    let (t, ch) = client_hello_of(&[first, second]);
    assert_client_hello(&ch, Some(b"cdnjs.cloudflare.com"));
    assert_eq!(t.key_dcid(), Some(&hex("ac49898ddc4590e8")[..]));
}

#[test]
fn capture_v2_initial_coalesced_with_0rtt() {
    let d = hex(QUIC_V2_COALESCED);
    let kinds: Vec<_> = CoalescedPackets::new(&d)
        .map(|p| p.unwrap().1.packet_type)
        .collect();
    assert_eq!(kinds, [LongPacketType::Initial, LongPacketType::ZeroRtt]);
    let (t, ch) = client_hello_of(&[d]);
    assert_client_hello(&ch, Some(b"test"));
    assert_eq!(t.version(), Some(QuicVersion::V2));
}

#[test]
fn capture_google_t051() {
    let (t, ch) = client_hello_of(&[hex(QUIC_T051)]);
    assert_client_hello(&ch, Some(b"www.google.com"));
    assert_eq!(t.version(), Some(QuicVersion::GQUIC_T051));
}

#[test]
fn capture_draft_23_and_mvfst_draft_22() {
    let (_, ch) = client_hello_of(&[hex(QUIC_DRAFT23)]);
    assert_client_hello(&ch, Some(b"quic.aiortc.org"));
    let (t, ch) = client_hello_of(&[hex(QUIC_MVFST22)]);
    assert_client_hello(&ch, Some(b"graph.facebook.com"));
    assert_eq!(t.version(), Some(QuicVersion::MVFST_DRAFT_22));
}

#[test]
fn capture_draft_29_scrambled_crypto_frames() {
    // Chrome scrambles its ClientHello: each of the flow's four Initials
    // carries all of it, in out-of-order CRYPTO fragments with PING and
    // PADDING between them.
    let packets = [CRAZY_1, CRAZY_2, CRAZY_3, CRAZY_4].map(hex);
    let (t, ch) = client_hello_of(&packets[..1]);
    assert_client_hello(&ch, Some(b"update.googleapis.com"));
    assert_eq!(t.version(), Some(QuicVersion::DRAFT_29));
    for p in &packets[1..] {
        assert_eq!(client_hello_of(std::slice::from_ref(p)).1, ch);
    }
    // All their fragments, shuffled and re-sealed into three Initials
    // delivered in shuffled order, give the same ClientHello.
    let dcid = parse_long_packet(&packets[0]).unwrap().dcid.to_vec();
    let keys = InitialKeys::new(QuicVersion::DRAFT_29, &dcid, Side::Client).unwrap();
    let mut fragments = Vec::new();
    for p in &packets {
        let mut scratch = Vec::new();
        let packet = parse_long_packet(p).unwrap();
        let opened = keys.open(&packet, None, &mut scratch).unwrap();
        for f in Frames::new(opened.payload) {
            if let Ok(Frame::Crypto { offset, data }) = f {
                fragments.push(crypto_frame(offset, data));
            }
        }
    }
    assert!(fragments.len() > 12, "{} fragments", fragments.len());
    let sealer = Sealer::new(QuicVersion::DRAFT_29, &dcid);
    let mut rng = Rng(0x5eed);
    for round in 0..50 {
        for i in (1..fragments.len()).rev() {
            fragments.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        let third = fragments.len() / 3;
        let mut datagrams: Vec<Vec<u8>> = fragments
            .chunks(third.max(1))
            .enumerate()
            .map(|(pn, group)| sealer.seal(pn as u32, &group.concat(), 1250))
            .collect();
        let n = datagrams.len();
        datagrams.rotate_left(round % n);
        let mut t = QuicInitialTracker::new();
        for d in &datagrams {
            t.on_datagram(d, true);
        }
        assert_eq!(t.client_hello(), Some(&ch[..]), "round {round}");
    }
}

#[test]
fn capture_gquic_chlo_sni() {
    for (fixture, version, sni) in [
        (GQUIC_Q024, QuicVersion::GQUIC_Q024, &b"mail.google.com"[..]),
        (GQUIC_Q043, QuicVersion::GQUIC_Q043, &b"dns.google.com"[..]),
        (GQUIC_Q046, QuicVersion::GQUIC_Q046, &b"i.ytimg.com"[..]),
        (
            GQUIC_Q050,
            QuicVersion::GQUIC_Q050,
            &b"www.googletagmanager.com"[..],
        ),
    ] {
        let mut t = QuicInitialTracker::new();
        assert_eq!(
            t.on_datagram(&hex(fixture), true),
            QuicProgress::Chlo,
            "{version}"
        );
        assert_eq!(t.version(), Some(version));
        assert_eq!(t.gquic_sni(), Some(sni), "{version}");
        let chlo = t.chlo().unwrap();
        assert_eq!(chlo.message_tag(), *b"CHLO");
        assert_eq!(
            chlo.get(*b"VER\0"),
            Some(&version.0.to_be_bytes()[..]),
            "{version}"
        );
        assert!(t.client_hello().is_none());
    }
}

#[test]
fn gquic_plain_headers_parse() {
    let q43 = hex(GQUIC_Q043);
    let p = parse_gquic_plain(&q43).unwrap();
    assert_eq!(p.version, QuicVersion::GQUIC_Q043);
    assert_eq!(p.packet_number, 1);
    assert_eq!(p.connection_id.len(), 8);
    assert!(looks_like_gquic_public(&q43));
    let q46 = hex(GQUIC_Q046);
    let p = parse_gquic_plain(&q46).unwrap();
    assert_eq!(p.version, QuicVersion::GQUIC_Q046);
    assert_eq!(p.packet_number, 1);
    let chlo = GquicChlo::parse(p.chlo_bytes().unwrap().unwrap())
        .unwrap()
        .0;
    assert_eq!(chlo.iter().count(), 25);
    assert_eq!(chlo.get(*b"PAD\0").map(<[u8]>::len), Some(0x1f0));
}

// --- adversarial ----------------------------------------------------

#[test]
fn client_hello_in_three_initials_reversed_with_coalesced_handshake() {
    let ch = rfc_client_hello();
    let dcid = hex("0011223344556677");
    let sealer = Sealer::new(QuicVersion::V1, &dcid);
    let parts = [(0usize, 80usize), (80, 160), (160, ch.len())];
    let packets: Vec<Vec<u8>> = parts
        .iter()
        .enumerate()
        .map(|(pn, &(a, b))| sealer.seal(pn as u32, &crypto_frame(a as u64, &ch[a..b]), 1100))
        .collect();
    // The middle one carries a Handshake packet after its Initial.
    let mut middle = packets[1].clone();
    middle.extend(opaque_packet(
        QuicVersion::V1,
        LongPacketType::Handshake,
        &dcid,
        60,
    ));
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&packets[2], true), QuicProgress::NeedMore);
    assert_eq!(t.on_datagram(&middle, true), QuicProgress::NeedMore);
    assert_eq!(t.on_datagram(&packets[0], true), QuicProgress::ClientHello);
    assert_eq!(t.client_hello().unwrap(), &ch[..]);
}

#[test]
fn duplicates_and_overlaps_first_copy_wins() {
    let ch = rfc_client_hello();
    let dcid = hex("a1a2a3a4a5a6a7a8a9");
    let sealer = Sealer::new(QuicVersion::V1, &dcid);
    let wrong = vec![0xee; 120];
    let mut a = crypto_frame(0, &ch[..120]);
    a.extend(crypto_frame(100, &ch[100..200]));
    a.extend([0x01, 0x00, 0x00]); // PING, PADDING
    a.extend(crypto_frame(0, &ch[..120])); // duplicate
    let mut b = crypto_frame(60, &wrong); // over held bytes: ignored
    b.extend(crypto_frame(150, &ch[150..]));
    b.extend(crypto_frame(190, &ch[190..]));
    let mut t = QuicInitialTracker::new();
    assert_eq!(
        t.on_datagram(&sealer.seal(0, &a, 1150), true),
        QuicProgress::NeedMore
    );
    assert_eq!(
        t.on_datagram(&sealer.seal(1, &b, 1150), true),
        QuicProgress::ClientHello
    );
    assert_eq!(t.client_hello().unwrap(), &ch[..]);
    // A wrong first copy is kept: the assembler does not arbitrate.
    let mut asm = CryptoAssembler::new();
    asm.insert(10, &[0xee; 10]).unwrap();
    asm.insert(0, &ch).unwrap();
    let got = asm.client_hello().unwrap().unwrap();
    assert_eq!(&got[10..20], &[0xee; 10]);
    assert_eq!(&got[20..], &ch[20..]);
}

#[test]
fn retry_rekeys_on_the_server_chosen_cid() {
    let ch = rfc_client_hello();
    let original = RFC_DCID;
    let retry = hex(RFC9001_RETRY); // hands out f067a5502a4262b5
    let new_dcid = hex("f067a5502a4262b5");
    let first = Sealer::new(QuicVersion::V1, &original).seal(0, &crypto_frame(0, &ch[..100]), 1162);
    let mut after = Sealer::new(QuicVersion::V1, &new_dcid);
    after.token = &b"token"[..];
    let second = after.seal(1, &crypto_frame(0, &ch), 1162);
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&first, true), QuicProgress::NeedMore);
    assert_eq!(t.on_datagram(&retry, false), QuicProgress::Retry);
    assert_eq!(t.retries(), 1);
    assert_eq!(t.on_datagram(&second, true), QuicProgress::ClientHello);
    assert_eq!(t.client_hello().unwrap(), &ch[..]);
    assert_eq!(t.key_dcid(), Some(&new_dcid[..]));

    // The same without the Retry in the capture: the new Initial does
    // not open with the original keys, then opens with its own DCID.
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&first, true), QuicProgress::NeedMore);
    assert_eq!(t.on_datagram(&second, true), QuicProgress::ClientHello);
    assert_eq!(t.client_hello().unwrap(), &ch[..]);
}

#[test]
fn version_negotiation_then_new_attempt() {
    let ch = rfc_client_hello();
    let mut vn = vec![0x80 | 0x3a, 0, 0, 0, 0, 4, 1, 2, 3, 4, 8];
    vn.extend(RFC_DCID);
    vn.extend([0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf]);
    let p = parse_long_packet(&vn).unwrap();
    assert_eq!(p.packet_type, LongPacketType::VersionNegotiation);
    assert_eq!(
        p.offered_versions().collect::<Vec<_>>(),
        [QuicVersion::V1, QuicVersion::V2]
    );
    // The client greased: a reserved version, protected with v1's salt.
    let greased = QuicVersion(0x1a2a_3a4a);
    let mut sealer = Sealer::new(QuicVersion::V1, &RFC_DCID);
    sealer.version = greased;
    let first = sealer.seal(0, &crypto_frame(0, &ch[..50]), 1162);
    let second =
        Sealer::new(QuicVersion::V1, &hex("0102030405060708")).seal(0, &crypto_frame(0, &ch), 1162);
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&first, true), QuicProgress::NeedMore);
    assert_eq!(t.version(), Some(greased));
    assert_eq!(t.on_datagram(&vn, false), QuicProgress::VersionNegotiation);
    assert_eq!(t.version_negotiations(), 1);
    assert_eq!(t.on_datagram(&second, true), QuicProgress::ClientHello);
    assert_eq!(t.version(), Some(QuicVersion::V1));
    assert_eq!(t.key_dcid(), Some(&hex("0102030405060708")[..]));
    assert_eq!(t.client_hello().unwrap(), &ch[..]);
}

#[test]
fn greased_version_opens_with_a_known_salt() {
    let ch = rfc_client_hello();
    let dcid = hex("99aa99aa99aa99aa");
    let mut sealer = Sealer::new(QuicVersion::DRAFT_29, &dcid);
    sealer.version = QuicVersion(0x0a0a_0a0a);
    let mut t = QuicInitialTracker::new();
    let d = sealer.seal(0, &crypto_frame(0, &ch), 1162);
    assert_eq!(t.on_datagram(&d, true), QuicProgress::ClientHello);
}

#[test]
fn undersized_initial_is_read_and_noted() {
    let ch = rfc_client_hello();
    let d = Sealer::new(QuicVersion::V1, &RFC_DCID).seal(0, &crypto_frame(0, &ch), 250);
    assert!(d.len() < MIN_INITIAL_DATAGRAM);
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&d, true), QuicProgress::ClientHello);
    assert!(t.undersized_initial());
}

#[test]
fn not_quic_is_rejected_quickly() {
    let dns = hex("12340100000100000000000003777777076578616d706c6503636f6d0000010001");
    let mut unknown = hex(RFC9001_CLIENT_INITIAL);
    unknown[1..5].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    let mut no_fixed_bit = hex(RFC9001_CLIENT_INITIAL);
    no_fixed_bit[0] &= !0x40;
    let cases: [&[u8]; 6] = [
        &dns,
        &[],
        &[0x40, 1, 2, 3],
        &[0xc0, 0, 0],
        &unknown,
        &no_fixed_bit,
    ];
    for d in cases {
        let mut t = QuicInitialTracker::new();
        assert_eq!(t.on_datagram(d, true), QuicProgress::NotQuic, "{d:02x?}");
        // Latched: a real Initial later does not change it.
        assert_eq!(
            t.on_datagram(&hex(RFC9001_CLIENT_INITIAL), true),
            QuicProgress::NotQuic
        );
    }
    // A server datagram first does not latch.
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&dns, false), QuicProgress::NotQuic);
    assert_eq!(
        t.on_datagram(&hex(RFC9001_CLIENT_INITIAL), true),
        QuicProgress::ClientHello
    );
    // Recognised but unsupported.
    let mut old = hex(RFC9001_CLIENT_INITIAL);
    old[1..5].copy_from_slice(&QuicVersion::draft(21).0.to_be_bytes());
    let mut t = QuicInitialTracker::new();
    assert_eq!(
        t.on_datagram(&old, true),
        QuicProgress::Failed(QuicError::UnsupportedVersion(QuicVersion::draft(21)))
    );
}

#[test]
fn budgets_bound_a_flow() {
    let sealer = Sealer::new(QuicVersion::V1, &RFC_DCID);
    let start = sealer.seal(0, &crypto_frame(0, &rfc_client_hello()[..10]), 1162);
    let mut t = QuicInitialTracker::new();
    assert_eq!(t.on_datagram(&start, true), QuicProgress::NeedMore);
    let mut last = QuicProgress::NeedMore;
    for _ in 0..MAX_CLIENT_DATAGRAMS {
        last = t.on_datagram(&[0x41, 1, 2, 3, 4, 5], true);
    }
    assert_eq!(
        last,
        QuicProgress::Failed(QuicError::GaveUp(MAX_CLIENT_DATAGRAMS))
    );
    // Initials that do not authenticate.
    let mut bad = hex(RFC9001_CLIENT_INITIAL);
    bad[100] ^= 0xff;
    let mut t = QuicInitialTracker::new();
    let progress: Vec<_> = (0..=MAX_AUTH_FAILURES)
        .map(|_| t.on_datagram(&bad, true))
        .collect();
    assert!(progress[..MAX_AUTH_FAILURES as usize]
        .iter()
        .all(|p| *p == QuicProgress::NeedMore));
    assert_eq!(
        progress.last(),
        Some(&QuicProgress::Failed(QuicError::Undecryptable(
            MAX_AUTH_FAILURES + 1
        )))
    );
}

#[test]
fn handshake_message_checks() {
    let dcid = hex("5555555555555555");
    let sealer = Sealer::new(QuicVersion::V1, &dcid);
    // A ServerHello-typed first message is refused.
    let d = sealer.seal(0, &crypto_frame(0, &[2, 0, 0, 4, 1, 2, 3, 4]), 1162);
    let mut t = QuicInitialTracker::new();
    assert_eq!(
        t.on_datagram(&d, true),
        QuicProgress::Failed(QuicError::NotClientHello(2))
    );
    // A ClientHello declared over the cap.
    let d = sealer.seal(0, &crypto_frame(0, &[1, 0xff, 0xff, 0xff]), 1162);
    let mut t = QuicInitialTracker::new();
    assert_eq!(
        t.on_datagram(&d, true),
        QuicProgress::Failed(QuicError::ClientHelloTooLarge {
            len: 4 + 0xff_ffff,
            cap: CryptoAssembler::DEFAULT_CAP
        })
    );
    // CRYPTO data far beyond the cap.
    let d = sealer.seal(0, &crypto_frame(1 << 40, b"x"), 1162);
    let mut t = QuicInitialTracker::new();
    assert!(matches!(
        t.on_datagram(&d, true),
        QuicProgress::Failed(QuicError::CryptoCapExceeded { .. })
    ));
}

#[test]
fn assembler_reorders_and_bounds() {
    let ch = rfc_client_hello();
    let mut asm = CryptoAssembler::new();
    asm.insert(200, &ch[200..]).unwrap();
    asm.insert(50, &ch[50..120]).unwrap();
    assert_eq!(asm.client_hello(), Ok(None));
    assert!(asm.contiguous().is_empty());
    asm.insert(0, &[]).unwrap();
    asm.insert(0, &ch[..60]).unwrap();
    assert_eq!(asm.contiguous(), &ch[..120]);
    assert_eq!(asm.client_hello(), Ok(None));
    asm.insert(110, &ch[110..210]).unwrap();
    assert_eq!(asm.client_hello(), Ok(Some(&ch[..])));
    // Bytes past the message are not kept.
    asm.insert(ch.len() as u64, &[9; 500]).unwrap();
    assert_eq!(asm.buffered(), ch.len());

    let mut asm = CryptoAssembler::with_cap(1000);
    assert_eq!(
        asm.insert(990, &[0; 20]),
        Err(QuicError::CryptoCapExceeded {
            end: 1010,
            cap: 1000
        })
    );
    let mut asm = CryptoAssembler::new();
    let mut result = Ok(());
    for i in 0..=CryptoAssembler::MAX_RANGES {
        result = asm.insert(10 + 2 * i as u64, &[0]);
    }
    assert_eq!(
        result,
        Err(QuicError::TooFragmented(CryptoAssembler::MAX_RANGES))
    );
    let mut asm = CryptoAssembler::new();
    assert_eq!(asm.insert(0, &[0x16]), Err(QuicError::NotClientHello(0x16)));
}

#[test]
fn frames_parse_and_stop_safely() {
    let mut p = vec![0x02];
    p.extend([0x40, 0x64, 0x05, 0x02, 0x03, 0x01, 0x02, 0x00, 0x01]); // largest 100, delay 5, 2 ranges
    p.extend([0x03, 0x0a, 0x00, 0x00, 0x02, 0x04, 0x05, 0x06]); // ACK_ECN, no ranges
    p.extend([0x1c, 0x0a, 0x06, 0x03, b'b', b'a', b'd']); // transport close
    p.extend([0x1d, 0x41, 0x00, 0x00]); // application close, no reason
    p.extend([0x00, 0x00, 0x01]); // PADDING x2, PING
    p.extend([0x08, 0x01, 0x02]); // STREAM: not in Initials
    p.extend([0x06, 0x00, 0x01, b'z']); // never reached
    let frames: Vec<_> = Frames::new(&p).collect();
    let Ok(Frame::Ack(ack)) = frames[0] else {
        panic!("{frames:?}")
    };
    assert_eq!(
        (ack.largest, ack.delay, ack.first_range, ack.range_count),
        (100, 5, 3, 2)
    );
    assert_eq!(ack.ranges().collect::<Vec<_>>(), [(1, 2), (0, 1)]);
    assert_eq!(ack.ecn, None);
    let Ok(Frame::Ack(ecn)) = frames[1] else {
        panic!()
    };
    assert_eq!(
        ecn.ecn,
        Some(EcnCounts {
            ect0: 4,
            ect1: 5,
            ce: 6
        })
    );
    assert_eq!(
        frames[2],
        Ok(Frame::ConnectionClose(ConnectionClose {
            application: false,
            error_code: 10,
            frame_type: Some(6),
            reason: b"bad"
        }))
    );
    assert_eq!(
        frames[3],
        Ok(Frame::ConnectionClose(ConnectionClose {
            application: true,
            error_code: 0x100,
            frame_type: None,
            reason: b""
        }))
    );
    assert_eq!(frames[4], Ok(Frame::Padding { len: 2 }));
    assert_eq!(frames[5], Ok(Frame::Ping));
    assert_eq!(
        frames[6],
        Err(QuicError::UnknownFrame {
            frame_type: FrameType(0x08),
            offset: 32
        })
    );
    assert_eq!(frames.len(), 7);
    // A range count the payload cannot hold, and a CRYPTO frame cut short.
    let huge = [0x02, 0x05, 0x00, 0x80, 0xff, 0xff, 0xff, 0x00, 0x01, 0x01];
    assert!(matches!(
        Frames::new(&huge).next(),
        Some(Err(QuicError::Truncated { .. }))
    ));
    let cut = [0x06, 0x00, 0x10, 1, 2, 3];
    assert!(matches!(
        Frames::new(&cut).next(),
        Some(Err(QuicError::Truncated {
            what: "CRYPTO data",
            ..
        }))
    ));
    // Google numbering.
    let g = [0x07, 0x08, 0x00, 0x02, b'h', b'i', 0x00, 0x05, 0x05];
    let frames: Vec<_> = Frames::google(&g).collect();
    assert_eq!(
        frames,
        [
            Ok(Frame::Ping),
            Ok(Frame::Crypto {
                offset: 0,
                data: b"hi"
            }),
            Ok(Frame::Padding { len: 3 })
        ]
    );
}

#[test]
fn chlo_parse_checks_offsets() {
    let mut m = b"CHLO".to_vec();
    m.extend([2, 0, 0, 0]);
    m.extend(b"SNI\0");
    m.extend(5u32.to_le_bytes());
    m.extend(b"VER\0");
    m.extend(9u32.to_le_bytes());
    m.extend(b"a.bcdQ043");
    let (c, n) = GquicChlo::parse(&m).unwrap();
    assert_eq!(n, m.len());
    assert_eq!(c.sni(), Some(&b"a.bcd"[..]));
    assert_eq!(c.get(*b"VER\0"), Some(&b"Q043"[..]));
    assert!(matches!(
        GquicChlo::parse(&m[..m.len() - 1]),
        Err(QuicError::Truncated { .. })
    ));
    let mut back = m.clone();
    back[20..24].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(
        GquicChlo::parse(&back),
        Err(QuicError::MalformedChlo("value offsets go backwards"))
    );
}

/// Every single-datagram fixture, and whether it is a TLS Initial.
fn single_fixtures() -> Vec<(Vec<u8>, bool)> {
    let mut v: Vec<(Vec<u8>, bool)> = [
        RFC9001_CLIENT_INITIAL,
        RFC9369_CLIENT_INITIAL,
        QUIC_V2_COALESCED,
        QUIC_T051,
        QUIC_DRAFT23,
        QUIC_MVFST22,
        QUIC_V1_MULTI_1,
        CRAZY_1,
    ]
    .into_iter()
    .map(|f| (hex(f), true))
    .collect();
    v.extend([GQUIC_Q024, GQUIC_Q043, GQUIC_Q046, GQUIC_Q050].map(|f| (hex(f), false)));
    v
}

#[test]
fn every_truncation_is_safe() {
    for (d, tls) in single_fixtures() {
        let first_len = parse_long_packet(&d).map_or(d.len(), |p| p.bytes.len());
        for n in 0..d.len() {
            let cut = &d[..n];
            let mut t = QuicInitialTracker::new();
            let p = t.on_datagram(cut, true);
            if tls && n < first_len {
                assert_ne!(p, QuicProgress::ClientHello, "cut at {n}");
            }
            let _ = t.on_datagram(cut, false);
            let _ = parse_long_packet(cut);
            let _ = CoalescedPackets::new(cut).count();
            let _ = parse_gquic_plain(cut).map(|p| p.chlo_bytes());
        }
    }
    // Every truncation of a decrypted payload, and of a CHLO.
    let packet = hex(QUIC_T051);
    let p = parse_long_packet(&packet).unwrap();
    let keys = InitialKeys::new(p.version, p.dcid, Side::Client).unwrap();
    let mut scratch = Vec::new();
    let plain = keys.open(&p, None, &mut scratch).unwrap().payload.to_vec();
    let chlo = parse_gquic_plain(&hex(GQUIC_Q043))
        .unwrap()
        .chlo_bytes()
        .unwrap()
        .unwrap()
        .to_vec();
    for n in 0..plain.len() {
        let _ = Frames::google(&plain[..n]).count();
        let _ = Frames::new(&plain[..n]).count();
    }
    let (_, chlo_len) = GquicChlo::parse(&chlo).unwrap();
    for n in 0..chlo_len {
        assert!(GquicChlo::parse(&chlo[..n]).is_err());
    }
}

#[test]
fn altered_bytes_never_authenticate() {
    let packet = hex(RFC9001_CLIENT_INITIAL);
    for i in 0..packet.len() {
        let mut d = packet.clone();
        d[i] ^= 0x04;
        let mut t = QuicInitialTracker::new();
        assert_ne!(
            t.on_datagram(&d, true),
            QuicProgress::ClientHello,
            "byte {i}"
        );
    }
}

#[test]
fn random_input_does_not_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let versions = [
        QuicVersion::V1,
        QuicVersion::V2,
        QuicVersion::DRAFT_29,
        QuicVersion::GQUIC_Q050,
        QuicVersion::GQUIC_Q046,
        QuicVersion::GQUIC_T051,
        QuicVersion(0x0a1a_2a3a),
        QuicVersion::NEGOTIATION,
    ];
    for i in 0..3000 {
        let len = (rng.next() % 1400) as usize;
        let mut d = rng.bytes(len);
        if let Some(first) = d.first_mut() {
            *first |= if i % 3 == 0 { 0x08 } else { 0xc0 };
        }
        if d.len() >= 6 && i % 3 != 0 {
            let v = versions[i % versions.len()];
            d[1..5].copy_from_slice(&v.0.to_be_bytes());
            d[5] %= 24;
        }
        if d.len() >= 13 && i % 3 == 0 {
            d[9..13].copy_from_slice(b"Q043");
        }
        let mut t = QuicInitialTracker::new();
        let _ = t.on_datagram(&d, i % 2 == 0);
        let _ = t.on_datagram(&d, true);
        let _ = Frames::new(&d).count();
        let _ = Frames::google(&d).count();
        let _ = GquicChlo::parse(&d);
        let mut asm = CryptoAssembler::with_cap(4096);
        for chunk in d.chunks(7) {
            let off = u64::from(chunk[0]) * 16;
            if asm.insert(off, chunk).is_err() {
                break;
            }
        }
        let _ = asm.client_hello();
    }
}

// --- fixtures -------------------------------------------------------

/// RFC 9001 Appendix A.2: the protected client Initial (1200 bytes).
const RFC9001_CLIENT_INITIAL: &str = "\
    c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c\
    0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c\
    8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89\
    eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208\
    4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e\
    610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db\
    059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7\
    961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556\
    be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7\
    fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00\
    f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf\
    330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd\
    14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff2\
    8f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd\
    c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accd\
    d5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e\
    fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a07\
    1b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2\
    162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499d\
    bd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e\
    8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723\
    c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab\
    760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905dd\
    f3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064\
    7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934";

/// RFC 9369 Appendix A.2: the same client Initial protected as QUIC v2.
const RFC9369_CLIENT_INITIAL: &str = "\
    d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071bf03dceebfa162e75d6c\
    96058bdbfb127cdfcbf903388e99ad049f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d\
    250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a12834e3f249a78d395e0d18f4d766004\
    f1a2674802a747eaa901c3f10cda5500cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68\
    18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff3312ae50b187c1433c0f028edcc4c2838b\
    6a9bfc226ca4b4530e7a4ccee1bfa2a3d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd\
    6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520bcfb7966fc49b393f0061d974a2706df\
    8c4a9449f11d7f3d2dcbb90c6b877045636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f\
    ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c1216ccce2d0193f958bb3850a833f7ae43\
    2b65bc5a53975c155aa4bcb4f7b2c4e54df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4\
    fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b8017c25ca9052ca1079d8b78aebd4787\
    6d330a30f6a8c6d61dd1ab5589329de714d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9\
    9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91abfe43960977c87471cf9ad4074d30e1\
    0d6a7f03c63bd5d4317f68ff325ba3bd80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db\
    848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18d703dd84045a274ae8bfa73379661388\
    d6991fe39b0d93debb41700b41f90a15c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc\
    7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61f6b5b984d4d3dfa033c1bb7e4f0037fe\
    bf406d91c0dccf32acf423cfa1e7071010d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b\
    3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e06ebfde206bfb0fcbc0edc4ebec30966\
    1bdd908d532eb0c6adc38b7ca7331dce8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1\
    34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1e86215c2d54e6670e07383a27bbffb5a\
    ddf47d66aa85a0c6f9f32e59d85a44dd5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3\
    8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89d5974ee12e5cf7d5da4d6a31123041f3\
    3e61407e76cffcdcfd7e19ba58cf4b536f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19\
    9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96ba18b2faa745b6fe189cf772a9f84cbfc";

/// RFC 9001 Appendix A.2 (and RFC 9369 A.2): the unprotected CRYPTO frame.
const RFC9001_CRYPTO_FRAME: &str = "\
    060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c000004130113\
    02010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d00170018001000070005\
    04616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce1\
    5d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c0002400100\
    3900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806\
    048000ffff";

/// RFC 9001 Appendix A.4: a Retry (SCID 0xf067a5502a4262b5, token "token").
const RFC9001_RETRY: &str = "\
    ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";

/// RFC 9369 Appendix A.4: the same Retry in QUIC v2 (type bits 0b00).
const RFC9369_RETRY: &str = "\
    cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";

/// QUIC v1, ClientHello in two Initials (first part).
/// Source: corpus/ndpi/pcap/quic_frags_ch_in_multiple_packets.pcapng, frame 1 (UDP 58822 -> 4443, 1232 bytes of payload).
const QUIC_V1_MULTI_1: &str = "\
    c30000000108e0ea07d1045fdfdf085bb4b299cb9dcac40044b6b9cce1dff4908dedd93e453b7453113bc0dc71a19ab6\
    f09d099af923d83e7f22618b8774a6905bc4a8bd7d3e5787673ec7983bee154d266575e89f813f15350401d38b5addc1\
    3264c0e9291b5e816e1d7a4928e473d46c48a274d99240eb8fde91fff12a0bf71eed4c143383638bdd4a42aa30275f5e\
    a9140750f95fd16ea2757b2cd615d6f00507761ee0b1fc88f5e75051448d979ffcfe003078ad51785833aeb739b5d0ef\
    2c876b2c2c57b663230a11e4858643b65b131c01ab4d036950e2a257237d8ada4ca01b8582ed0f016f485314c1bf9b2c\
    049fbcb8d79d4e493e276540cabc39587155a3b85faa4d5b296bf887edcd94bb23e1a5362f2231f441e654c59cd98524\
    c57a3d8b5b01653f6605ce91b08894b005a88b318fb9ffbd038a80259aac950bb48534b026e3eedf51cfc226c7f47fc1\
    436cf1a3304178af87f9fb42d5647f78532e16774b6c4ac00e988c63c703188602d5566ad5b7b4c1471668b4bb0c3001\
    392a06380b7ec9ec0282bef874e2f5c98f5cf7510558189878f19f63d831fad9af3f0d05d2ef871479ab20a1723ffdf7\
    2acaa1bff9d127904cb2425f5fe74562c13cd4cea841c2bd351d96a907c74104875274e2dc53fc6eef7db9078804e8c6\
    eb66beb0e8363b0a1ace81cd955b0a317a1b19a38d6b58166c390348c8fccbbfd2740518a9fb0ec626663173edee6dee\
    a0c5d6b3f56f929f8dc2b1b44842b85b0a01c66972df2c6df761c694e17fba961669643211ae97c796278d9341381c77\
    ef996ea74d79307291ca51cfcb5ade7e5a8b875afc4c9f8c7e95d403bd7d7ed79f3b095dd7330c0164cd916b36ad1211\
    d6d51277393fb10b78227bab669a731076e5ec78599cf95d89693e7faba31153f4e5c18d11abb12d27cf996f3197a88b\
    aee23c42c7da0c9a2ebacfae6e5f0dea20d34e794c475c9c9ca405b0e437b8573695478970ca0cca1aa967c782f7254b\
    de223fa839bca1ec5e7a36a4dee42e14570d2b5ce2b9bea0ca69fad2383be489e2134e0c74dc1da950d296f512eed4f8\
    6d6d7519b98d2088f9e03df2a08cc116c1b81a87922fc939ef79a2fab04a9ff637ebde416bb32f86356fceca8ae40e74\
    6923c4687f31b0d6d2f188394f821d67f6b1f2475a5175bcbd0677ffac31c47936b1a2d3f45a10298201c21daff21491\
    02cd5aacf5a4bb8b6c960dc25f4b8d001729d43f55062a125efee5315e287ba97b61790ec55f122402156fddc3e80910\
    3bd427ecd84fc47b2d5f54a456e653095bd3eb88973b1a85adcb1ef4a4e759b0af075e24043e260a25a4a2a0dd1caf6f\
    010eba4c51fba72515a7f0f88b9975264edb883086e11721b2f8443ac619c3f80ff484b24d58d1cc5cbbbf91f501a2ea\
    402504c271fb0286881a7aa803e9ee5e49808de4f4fdf97a46377f867f83f125f0ec4e3b11632f6925cb5f68f0b786a8\
    723a340a7c2c76adba6f802f4f311541c898ed2c9c469e425402e1b797a5056a4515be8b19fb933ade551cb37f7eaf7a\
    ae883039caeecd009f00fe2f3b941c641becb599dc835ec6810c27dc2b76713ffb2865c638afed1009a48a6312b74e77\
    224dbb954f67a68097baa04d7b24568c28bffea0da80de5cbe4a7cb9dcb1eddc39c65737d64069d22694f6c35c468a29\
    72f654df0322ec77e7ef981b6e1f6d25a7c3ebb3b66055420631dfe9592455fe";

/// QUIC v1, ClientHello in two Initials (second part).
/// Source: corpus/ndpi/pcap/quic_frags_ch_in_multiple_packets.pcapng, frame 2 (UDP 58822 -> 4443, 1232 bytes of payload).
const QUIC_V1_MULTI_2: &str = "\
    c80000000108e0ea07d1045fdfdf085bb4b299cb9dcac40044b6743ffa9c06bb24575ed08f4b89eaed25fa82b0f12dfb\
    9efc45a30439c5b1a1c2fef0b23c9ba9627f7907de2e21cdf945001727376c69b2f6a4c5d3e5283f245ba7e87014c3bb\
    0d96f7adab9a5d1b9a0a137bcaffd483cc95d3ce07af120f5708b2b9def98a28d900a7ca483cbe6e3fce76c82c560ee7\
    df4d20e1de3be6a1ccaea8fc91ef02b2d9a9964264532dc8e1618d66b4dfc027b420ba092644f9153bf4a83876fcbdfc\
    154e5379401237d4f827d15fbeeeb43f8631e3ae00ea1f9f42ed4bd4e0dbbff6aa03c674ce981a0770af782cfa08d7fc\
    b8fa17b167c7b5781c1a85c460631acfedd5935ab47e2703c3f62529505bf1a3c4888268155a2fda6cce8c3702a66130\
    8d2d7a3ad31e07b5a37f04224fec8d525ff2d285fd1cc9ed4e7f58a6b81292adeb92f21479feda58692cee3e577cdb27\
    529afb33010d06af2a8e27f654fa3af14774edfc0691c395c1ecb010e62822db8ae4d151daf278940836c7a94012b192\
    6f7a39030db63a3263ea95f61a2029a290a58c2f850c16e93bb1f0f26348bfa7cbcbbafb9a770c1dbe735f8b099e8922\
    73aefb67e2328951d73325ea90a04008364a0ec356d50590c9551f84501aa19bb69b69466738f534925b029adce9b518\
    6f19d8c6202c1edf189a82a1042a0150c01fffbde6f3d760c4099101414ba485bb021311e997c1ee7805ef29203203ad\
    836539cf8c16c50d1a065279ac375c3aaeffc490a993f7c28e9d6fe46b6dd3f07a50c865b4dd00bea897732b682081c2\
    9f3b0b33ea177dcf728f8c3d3a5004841ea7dc674bb761be7f30bba6a58f0ba30e1802ecf88f5acfb11fb2fc442459e1\
    da60b17ff34c09a7dc9beffda9fab6ec65aec3fcfcfdc1d6188f4727ad7621ae0f47607b8f67dc0a0df192e6f6088a16\
    5844631b10c6c670580b74e00d95b4eba9ea7ba9e61a22ee5bb38dabb6ff7119800be3dcb3c53909263ee86e99345838\
    378663a8d06d062ae30de43dc32ec77a0807a4b6d81cfd1c9018658f7f539d06b18e67cf3ab1595261f548e773bcc0ba\
    75630098d50985cdd3e949ebed8b32765d8bc527e630df38abd6ac01c43e1b867b680e0f9a106c2a23288dc97807088d\
    7724e429257b616e94408faf1693836e5417519a6b3ab49b1117af4930bfd8f81fc1507de856648234b89c4961e38af3\
    704831bf77b41ea404b5c0d606c0d993cd643f3c28f98fd09dc3aea69ba4436566abc439bfa1293d344305ad8ef128ae\
    c87ae6efacf59de960c3749f41a2fa7937384788abb05524b1fddd1ed40e9b535162e5d7d411cad8e26095acb42daebc\
    cbfd4aae85949d9f5a7288ecb4308d18fdb9db0782ba274e2b5d9ea712da75114fcd9124b2cfef901aec1af2ffbe9816\
    60c9145d1d7932ff2392ad31b16e63629103ff05739a3b79e5af1794ed2aae3a1a3aa1f3069000fd9bd9e70f4e090695\
    c36ecca69c1b869135200293d1a7e347360f9a021c17d105efdb59d3d463891a4819fe43a4dbdada6b951eaf3c473f8d\
    ff64d9f0a9c5464b67a4d3115d6b0ca88bba72be3d0655ae029e04e652e2472c74a05d76058285cb2333f2e7131d1189\
    19165c4a453e0feafbc699f1c194bed9665f345a61c09ef54b0388a73fd37a350ea0a44b9a7d03078810bc459eebee9f\
    fb360496f3f37e7548420fb069d2e39098151b624b727668b614586f1117db25";

/// QUIC v1, first client Initial (client-chosen DCID).
/// Source: corpus/ndpi/pcap/quic_frags_different_dcid.pcapng, frame 1 (UDP 37229 -> 443, 1250 bytes of payload).
const QUIC_V1_DCID_1: &str = "\
    c20000000108ac49898ddc4590e8000044d0e9cb3a09cab5a4d10430d26e3416fd96eefd7418f504757bfc769bf65a38\
    ee9e50121a803a41326c05a59cefd45236f8354f8f919897d6946ccd7743eac055526782521d82a4c03861e138409bb0\
    7048c38ec73de90f0b6a0d94af676042eb7d797fa9bd55a17a6d34330ccff899eeadb90e62b8efd1b5c6f1402307d59d\
    0c97eeb59d771299358323b2214a1a730fe3288ecedf7424aee6723bd5b51900824e52fd17747be150a6ef5922f96395\
    0f830e53ca6fd0bc8d195ab2128f1e8e14c19860a8170b36d3464bea491f59883aeb3fac88054d9aa6fabca3f91351c4\
    259db3e42358145a93fb45955e8615c670f7e19cb3cac1490581b2a1093aa2310964af730dd3e581423c319174a84fd2\
    870ae024ebc01b6a616c79797fa2ec92e6ede49e09f5ce1090ccde7b625df31f47ac25b7d77ab9cf4186b0284bfbc1e3\
    328c5c2168a0af3e182b91b0cb241a1b5be4c21d45e2013cf8879a0a4c24392a50bef6896ca79c37f10d9a0394006531\
    972436e7a44d55a59effcf9876adba10657b31faeb0dd5a46581ccf4f4227185bd8bf0c0bd74d711f147c139a302e531\
    1cfbcf4f773329839bf979429dedaac60a40506d7f6cb495f5cc9ad3d41fbf01e7f0820eca7235d3d26a0a1bc67e5ae6\
    79505c80a9b8f6c167dc109f9ad70e1083430b038c6d27488ba8033181c0d9ef50b0e183a8c358e0eaeda0a6aa634cd8\
    f0124f6308a26e6dbe39ac582df4a5e726399d5dc30d5fbf3a669465a78e2d3c64aa0ccd6dc186cbe10a314c2e04c1a2\
    666d6cf8832a29b7707f8ec1fb4b90dcbf71af34f235dfd4062983c32cf3082e435535a94a4a1a18f75850be542cf0cc\
    64541d837832374240796404e6c0ada7224fc4cea7e5c9fa7926105eecf944b1e74121088c660fadf18272d027f76ecd\
    c6706e521ab4cedf861716361eed56099c917ea76d7da09b8db62d55e23fa804c3144f64d55bdcdb3eed318d8de6ee04\
    3fb70895ecc41ddda820ea63a219c3abbc7c8d149a06b8d368e19d1fec4843ef428e8ad74e35c30ebb4bb430e80de218\
    9f2c1a9a6f9b6de56c511c99691fc310c26993232cd260d7c040d31af036a954cc638fd33deaf0910181980ea4188b1a\
    55d8d2d4b4592dc7a1533fe26d6b74eaf8800a56154e6e37dfc136f3e143d1d780dfba8dd2e5bc5d0211f0d889cc42b3\
    58ddc5a04c640a45a21eab20e257ef25ab12f1f2b2d2bd08bdd22d01d2ac7e7d1630b0670a6913ff08aa25056097c496\
    62236ac7c47d32981c56206e358fc74840c0ef4b46c3cf40939cfc85f7787ca4b4628271a4ab4d9eff1a736980e6bd87\
    6ec90e63075eda75db650754494b326f7d1d6586967456df0f52e1bb9b654611e3a1b37dd34f141ac47ce6609527cdc6\
    8b5af5d6f26051812f190cd2132f40e754954a1c43109e75ad3b636fdf95f702824202c9f6e62c920e8670018da3137c\
    7260b2d327ec6c68ac0fcf885151a531d21fd81d428bf163a6ee88f5871478f68ce80969c85c683520f088b9db1dea3a\
    9a5f8c9f675ca044b99d891cc5cacfc19dec17f1bbce3e00db153d7a7eeded57c9ca4ab31db01daa1f1d44993e3976e8\
    5fb88c6b133c0b67e76e20d4d3f4bb8c6cca06575fe704c05945cad3153821e9e2cc23b5b150deadb4536a641bd29a4b\
    4faabbd7682f9005fd6d12bc2240c0923dd66caa1e836405eed217bc9a0f08a3fe7c2d582bc8b25632cc4635692bd675\
    7555";

/// QUIC v1, second client Initial: DCID is the server-chosen 20-byte CID, keys still from the original DCID.
/// Source: corpus/ndpi/pcap/quic_frags_different_dcid.pcapng, frame 3 (UDP 37229 -> 443, 1250 bytes of payload).
const QUIC_V1_DCID_3: &str = "\
    c100000001140164bccb0bceb2de8f64afc9a9cea6a36437ab44000044c465a98e88b2a7c64ebee9c954f9b5d3cceb2d\
    399f1ce5c5d3f6c34ea1016488e5600d846631a15ade1329d3bac26430db719bd6ae0b057d4ee1b038a68c20df09ac45\
    a60ef2f7e5ab4eb30b1c9efe367c676013d611857ab29ae50302cb4f2d40b6ed1e4fa3c1a70aef040893b6038c219cec\
    4446b1560c8e22206f684f2939ce2a420de3fc01f0f127e16716bf5bdf5c81e4e49e51fc239b95411d2017b2983c7161\
    72aa389d9f597e7684f02f33341eda861353c22f25e75664bee1838ade229409574375ecc42135bbaec213e4a5daee61\
    b9e050e7b2c3b8a45562318ba5da3de239a3eaf76e91badb2676032d1cfe087064ee6c7b711314fd95b5122488aa2ee6\
    b421615aa9c28e3361975c545b1bb100a1aa055505232d33c6fbe98fcf1618c106f63050e1799c358dd0008f7dd0fe7b\
    c906ff249e0511a1520d71d626dd61d359b6f79cd894cb2a12aa513757dfb823fda191763322d11ef5da6d775e5a6bf9\
    4f448c3647e81f430b38933601f2bf9496a8b3937e2d58d1db376b5ed15929991cc26a971c8b74374243f0528e66df41\
    135903a95870e8fe42ada077dfa605437d258638175142eaf4daf73c1428cb284d721c5f3f7c30c091df426ccffb3542\
    d0e2b86467897638b34e06365dfdb09319d8f276c7d25cd30e902baaee92d5be9777233e026ab203bbf3edba23ec7b05\
    45a14f0e87d07662e14da4b26dab568877adb9d2517e4c46db87f16626b6766f8da4ce65786c33c1f866dfbcad9e3eda\
    9ed44e83389eaa80763ba1c82a47d44199664fe0b3f89b4b598de96b67e873b6962cfcbc59a2f41ff8f42382b2a044ef\
    65801702fb56f4d16e46fa1ab23172f32616602b67bdf1448c153f62917caab55a5c2f7f66e0feea7ea613c296003693\
    87b23594aa7b97022edb4e37632db4c955307be0e21925d1e3f2c6bc6f4daedfb94d7ac0b1d0c7896c24ca77240bb715\
    e203e43c30b190b6e28ec8a2b8739065461265360d2c377204b462236c0820d36643968678f998639b9e0199319d6f55\
    e95844c73e1454d4c325e8b6cd592831e7d49cffcf2a22011084624770cd21394a3c044e4a10b4b11dd6bd3e8fb0a5ce\
    e4cf915997829f92466782cb42b771379c98f7dac97e061378596bbc21fc5f5d26d2ddccebc6c52a7cd69d12cf7b6084\
    dac0de265ba431c1a87bd7b24ebd4494bcafd1bef5a807a31e3ca6b979d9ff3d59aa6f5370e514651c893ebd1c1efee9\
    4025292eb4161d6bf50bb46ebd375eaeb4e30cf3ddd3b2476be990f1405b00be5d3f055cbeb4cb80109a4a1013ef5e64\
    c267b2f63265f7c9879618a5d3cfa9a98a57645d9c3af4bd44f103a1da5a44d922e988c947c9816c8d2e06f45f894abf\
    b397aa940fa36cfe67b4e2f5fbb1253d65ebd737b442c3cf4c591ba2f64150e291db9f60e8c8f72a513276c7854002b8\
    619d5e901ec6870867618c98a1b9c299c0a33b8c521acf817251c9689fde17700d6e46bb5f75e59c85780f210ff47582\
    9d6a1fa8df7802863e93367b0ca1fd3b0c70f99c99826234b6b56973ee2ab4c46be7cc4d4bc0ab3a0c12f2e451916056\
    d2816bb4c87ce0dd319e531189c2e64fb852ca1e4d8d54eb4c02ecc0699c4c680aceecd8ea92cf6977709cf8ec0c1d6d\
    d0286e4c50cdadd09d10f6d3b21e0f6a5e4769d4dbc0a6370c901f17be464c2ca129a5fb340659c509a7ddfad78a2e85\
    67a8";

/// QUIC v2 (0x6b3343cf): Initial coalesced with a 0-RTT packet.
/// Source: corpus/ndpi/pcap/quic-v2.pcapng, frame 1 (UDP 42086 -> 4443, 1232 bytes of payload).
const QUIC_V2_COALESCED: &str = "\
    d66b3343cf080726272642fc2eb20811fffdea452422b832a196c2fa15ec4a99b399b9116eb2c5ef233065423a33ac16\
    db1be7c47541e1dbc9337bc0326b173b40bfcb11d25b647d0e8141c89fd5d4fe0ae06a3a4962392c9e91c2e1b3920ae3\
    f12a7128aed5573623691908c9962a936cabe187e5acf4e4047e6fe88834c87e48cab6336dcf659934dffc133e0b4672\
    e74e81a0d801d41fd6abdb6e04c27d9c831771e2c8fe0e025fe22818a653f609bbf7f500392b83579bdb2ef50507795f\
    7bf7a63c939e9c6b8292d9fafbfd0daff19350ccb31c473981ddcff35e2d44465427a3ce8f5f91da78c35e9479bf6d37\
    2b5ac20129844c77052541040d4f2f1567dddd86ebe0b18efcde66d1098ee7a330ec771df5edc99baaa853ef72b0a49b\
    685d976f83600e5bbed12fb1c123e189b90a7585bf3e3bc42ef017d060cb4638a4e693cc9e04916be5ea6bf5f0b46aaa\
    166619dc465a0ddb25b89226216b70dc49014284ee512ca3ba354cdd26fdc3a36e5e41693069e7fa89fb45d8c687802c\
    8362440d78ab2c727e7827af5663be939dd4888ace2214195d0e8861f7dfbcc0c3c886c03ee2424d960192010158c016\
    737b5a6edaf09f13f65d830e476c41a07c7e6badfc1ff2e2a70b0f1ad551ef429e0ef6b0d85b0834c08ffdef70af1745\
    ad61b83381339680ae39b9c92e5cdb8475f5efd7b76b3f7877126431960b60a5a61b3a12ee1e5f1eea7958b16d0c4859\
    9bf4f6bee36b3343cf080726272642fc2eb20811fffdea452422b842a36e46d441f8c3f756c608d417943fb77a8fdc13\
    b99403e5bb94d6a809d67cdfbffe00d687862536d8dcbb9a0d94a3aa080c8fe40379d52d3f982a521af9900d8034fb0a\
    e504b28073dc59a189c126ab9fe636588d1034f9dc00ebb01e8729d663404e00f0e38e902af72e2b92387dcab96bea2b\
    445b8f3f6c2bafb3fc01aa152bf874c8d4b3b46bfbf5b6167a139ca4cda71a917762b3013a7b6e7bcb9fe6fc13b32136\
    36dd97389174e56d63302a1fde2f20938e20c7bc6bdfe8890528b53c72f1f346d5a8d964a46f2f49ea554eb3754a8788\
    caeed7fc6e49acd25302f3f8e53b1173264a443e665bc09d3a73f183ed3deb90974a6c993cd0aa6fae24e23fef2e4934\
    16d858f981dda4632e306b7544ec9fb65c144baeb456c895baf6e310f611537be8e07e4ebddec383c455fe882539b08f\
    a0073a7e66cc5ee81f836dfec3ef43d77dc30b260ebe17f1c13eb609897cba3648ebe0a7dae509fddfddf290e69d7a25\
    ac5db1920dd5806c6165fe4905fccdd96355636883c977d68d987672c1d96c6efae19bfa7494f89b66d61e0980847448\
    463834485b07515833ed34ae181adfb4ec769836a626d4efa240c6f1f010a1f142c9f948edde0a0840b66c9e248698f4\
    56397ed4dc6c3e3ec5bac71812ad41e36531e8ba62faf269cbbce55ae5e3201d443f3504ea9727787ad20ff0b8e73eda\
    0d7c522fd467beec602f7a536da1c248262305d26efe21f17ddb9b5409fe19145aa3df1629d5a381c83035284fc94941\
    0a7c1d66e727cd2e96b0c2664754dfa7c7c465be6555e462bf83b9404a4f266b0df00373f8de23b90c28c92a9c33e7a6\
    5aa6258cb1d5b26ec1f74c05430d67c0122e19c0f5b066e16727145c0047e77b8113d41e73456795f5c6db66d4caaab7\
    d25c18a72a163d75b9ec4569146cb20de5ac44b365b03452be4c05734b28603c";

/// Google QUIC T051 (TLS inside, Google salt and frame types).
/// Source: corpus/ndpi/pcap/quic_t51.pcap, frame 1 (UDP 55356 -> 443, 1350 bytes of payload).
const QUIC_T051: &str = "\
    c15430353108ff9415b5b005860d0000453495cd6c78ab2880cd312769b2e008aaa61f91ff63764e5a29bfa2f509327b\
    e26808a2975e4ccb1b7589a66473fcd0e5e2cf3a2d6ba6051d567d55e01c119a3ca6012089865483bd1b35e774db6b81\
    6369f80080496a84da65ce1d94afc1e13894142f9689831dc5cbc7dd2d9596684af91736814407a8060b933aafcf933a\
    3582e576294ac5c0b0fd3a09fb3bb97c74c06d08a9145a9b0fde462daee804253b8cf13fc23d9013533d5a4e76f92ae0\
    6cd88a0879b43a2f3ffda0bef1047ca0f4155ac4338e47326a03160dac9c1e8f99da087662a1822687a914db2a82d3bc\
    b9658d0e26a2b0734740308fac2b7910356f2cc2e4659413704f5bc48849b9c07808dafddba911023681e18e42a83004\
    79aaf94ed089dc8bb40b66f3063a22e49f4b3e2c150506217f1b6a19d5fd3b79c034a8dd6cc56abd897be36306a36605\
    9b6279d3ba0f3015cba8f256d9ada3fd796b74872a2c92d7cb5aee89eb7661fa1fe5c4da317429eb0c8eabcb3690b11e\
    6f446a1b7f34cc702152fc137c288462fc1237cf8b3dbeddd472aedc946f6df338036bba0f7fdc71ce3407c8e9b7ab7c\
    9954c26bdd8ceecf218157c31c2be889a4f1445d3b50b6564dbb911632d70371bf40bce5d1bd90400dcf46a30ed6be18\
    2ccf4884bfbd4e3226f64b2493cd6716c6dca9e50f3c2225e52bda928a19d4d7b8be51c933bbdc3f01e44491daf8f323\
    b649dfd43f4599c691a0ada0cb0153464da3d9129778d3463f77ce181311995b2d9ed30ef47942411d29a9690827e8f0\
    faf0ea147315641c1ca37a71e6d24ab188a4d56e08eef0d5a249fcb589025ee5a40ea9b0f4abe792d39e354f9ea0b6e7\
    6d08bf0099da097db6fe93a7bcc04352a700132c6184f503c5a7134eec82cb4d60f43eea349980873de4e4c0b6cd39ba\
    ec820b63585e67602e62f4306103acb376c9b633cd6beb95d6955b422570e92da7bf12a0b6ae59f434ae5e1bec6d33a9\
    e464aad5857479ec0c513ea707a7a349c1561aff97339d117f5d22b9280eea95f39f2636f6a30c39c75fc4531693c661\
    1002e428b5deaa333e1631e03ea55886d8ddd0cc5adf10a2e291277dfd581789e3efc2981d9ad5db3c65ea285c955561\
    e221d7345188faceb7bec15710e4c17a37cfb2bebe5664c3275fa8d64364f775d413f6d0f366b5f0d24f75743a91fdba\
    42371ce11aa74ef026ad687fe9f986e3322b898ec0f73f2de1e3bd41fafd4cb3b793407924e5675954ea95b3afac9804\
    cd5f791efd22a0ed31223e419f1adb2e79706cd7cf8d519371134087bd60537d89f2bafaac2c7109a4efe1153b29d890\
    fb38a00b42ca2bbc7838fb3d9f629ad8a50fcb6e66acb43f864e488edcecaeaa90d8cccd7198716f4924342c442f3390\
    50c6e99059f0dd71af10308956997247552a8e20c538bf3f25fb9ea61135a321d678e615c157760b0bf63c61b1d394f9\
    2495a2c05c5650d3d1741a53bc34b4c3fa7835dfdcd863daa2b602bf5ac41406d826917817a237d07f167925cacf3842\
    0c928ad3e703c2c523aac4912715387ed4beb980745de2662a1285b927cc115234ab5629310644fc6d8c0b8cc08a084d\
    b04a14c0dc16612db9e3922edfe11e8287b8ec1fe4f2d09285e6af6681c243a18b9f360a11d72d306bd9a8c54e5ec3d0\
    9d89686e655f842a07600a932fefab23e5765e02a6ce97440f2730c2c48b9155a8614e25180a0f30fde4c5ab1f0a7507\
    53f57a82473b0b76ec9246bd729959777a42d03b48f009acf16d552249d8a4724385b8ab19245373aa096c940af0d6c5\
    d26060fbb400cc5ec2836d1548f1f5a02ab5104a1dc211e54014c71240c850e3969bc03691e3efd9bc76053c55b820f3\
    d83efcce1e75";

/// IETF draft-23 (0xff000017) client Initial.
/// Source: corpus/ndpi/pcap/quic-23.pcap, frame 1 (UDP 50339 -> 443, 1280 bytes of payload).
const QUIC_DRAFT23: &str = "\
    c8ff00001708606b1da9e0cb7f5008dc65691dc735aa730044e6b1055625d4574227eddd9d5d90f85bcfbece36432410\
    209a823eb2f74d6982e878bda3a8797cd083bda447d49a480558bad3e08950a3cb7ff3bc9742adc84425ac6da0958795\
    bdf6a34b175ea87d56fadb944a84940a377894defa4fdd66884b20b11a8257887b0feec8f6ee7cbb2d734d2b31f72616\
    776e18902d2dae99c776f57e970a1aa10166639f6dc0e041d6b6ae2835d86416ef0b648ff37c6fab519490af99716a46\
    c7c8fb9e6d63dba95bb3d3d4f97ac0488e89ed870cc3498bd865ad3249b21d99a797761954f84e202c2e161eba2ae4b6\
    71f699ebef2444b7d0e9d8726250eb7510ccd30af7832677dc3c7a91d5debf604baf07193019cc4aecc42c8175558d08\
    cbb1560cdf3804fe77a7bade572b72bb6c978019f67152b9ff63f4ba35a2f1335160754c9a3e45cc0132f5ddf1ce2e7d\
    933db5326a7a0d1ec5946864b3eb40bea149c922d063bf8f407dcad5e409f10239e29f20954fb8a56ee29105843948f2\
    c7781b13fcd6e7609ccad08d598f723bc1e51492472bc1e441891d3af574c9b5662acd252a594e6c00b920951bee7fac\
    5bbd8ba54348d7f28cc712b8a90398eef0a40198f2593fb592508325c92f20dba3dbda4e38dc6651cfd8653d836b4ec1\
    d173cf056f31bcf9a861cb5508be6836edbea028b58a7a83d13ea4ffdb71b45a8d6290ce05a17297cef9c359ed57f19f\
    4f567f8b3921d84752ea268329d9fda6590bfce3b72b440c00c35616c4f54a945a576f4ad1fb486c48af9121d42002a0\
    c1036417dbac6530b3cb695e459e844a7d3262ee8f63e936a69c843247f6ff83f2031f605eeb639143b2b8a76ececaa8\
    eee4de82f5bd2f89dd05e3e819d7744d7b9bcf6ef7061b00d44821f31f91ee2ab1a1db9512fd7f75c49f208acb7decbd\
    0baead12f345112a97311ea0b44316c8e2c822d3830e0bfebfe5fda271a897e48714fe17688c5aa080ef799b682b14e5\
    3cc9d6b567e6bed01f944cf016cd4806c723a40ad84c751d7154665f46f957c068df04c77a75cfefc1fca9d5bf18a277\
    d29d25b7bd1659a0ebc682a460135704c940f8b9747e23d27e53b6f794010dcaa104e92e0f545c0f938c5c68d08d1001\
    6c0262d045f327aa09b811c950d9fbbf5f8ad7627ff0e153e1c5227b819500e0d80d795ca72d12aa1d46bbdbb1b0a38c\
    970367cb2c2668b78a8d7c8f4657c8041a188cae69c90eeb8738dbd88bc545c1282240ff63b1102a1809ef0c411a522a\
    f30137fe0a413dd1cf6ef4124ddb4f1a46678bd0781dfd91cce9394bc929ecb2052084068e6c865709d048b18c739131\
    97de3bf7e63ba73c67d29784912e4da0be74a9b653d1fd19fab1c5e71f2c5cc58d53b61ebd41c529a9ef5c007dd24ee4\
    1a14d6630f57557f647b76318118ff17169004a780dae922f441286aab64c8e3ac0e316a721845a0a790ae140959ca1f\
    65b313cf49508d445e99207143100d7be9acbb3e75e87169692fadaac853a6f084c3a4eaa614d2c20dd126d466f8b98e\
    4382696a84021d0ae214ccd70b3c102e707488425bdcea3c2c528bfe132aac6c29a1a20b8d8d8a985a44d77d139571df\
    9b253988f9c3ce80f041c1ada839693e04bad0e9a073d5d42f85be58ba864cc00d3d004918fb633b35c4312a38ce53ec\
    94e07c75167d274eb837b057f163ac0096eb1f161420cc7cf872e03096f05769ed348ea89759752f410d51b5fadadd7f\
    9335b6420a9d5eda4f95922d91ca907f724c074bb803f709ccfbffeb83317fef";

/// mvfst 0xfaceb001 client Initial (draft-22 salt).
/// Source: corpus/ndpi/pcap/quic-mvfst-22.pcap, frame 1 (UDP 35601 -> 443, 1232 bytes of payload).
const QUIC_MVFST22: &str = "\
    c9faceb0010856de054b498059dc000044be8251ec2ba3bf3aaec8ab1ba729ad67dd716ff1e54476b3bf6ee6762cc015\
    101d8dc960a0ea17cee843febcb54b99fb644b53c942a565ecbfbb97b048e3cd8aa63e287d3f499ce434c44138572b37\
    478a705e23dcd65309c77d915fdcca626f99d5f6cc3b26b28bbcd4d2afa2eb739ac98ad80f78d2b7e56fbfb04cc8880c\
    276c8144c2f80af976edd9103b2d363cacbd8496f853d21a93267d8f126f2541bab5f07f2c9654697db3f31685b7e27a\
    94463700e8f55a00711ce63bf31490725d1c7c068948829c03d567e2cbff7e23c02a29746b9848c7a4173368e2bf8bc5\
    4aa7204073e18dbc659a4b02503ef5f8170496f4f1d3db289ac7a3a53117397e43ba6893bbe466a31cc03f169dff2a07\
    526a55b49c129e3934cf0953a063ba4833e710e0e762ddcb22f1d1b31ee69c51312d69ebfb24077d814278b34c72d186\
    64132e6c2c78823b74e3c39682e46f335f2e775c70de24624b9adecfc38c2487dc3274656e7240e0cc8e85649651bb98\
    c0a1d70598cd25202b803a44b2c50054110e650a670559d70c6b2a7535f3d1e335cbb9a77a7328898a9078c9cd3010f2\
    b6ead12a310089580f133399f02b9f82060431f9c01c2b8ec05d3882faa9953aeb65628e48da5d40d785ad1b1693bcb5\
    45b20ac376fc8d6393cc0ff7c27a1c53b2c222a2e98c10e1798c3e60a2ff412b4d8ef71fe3ad900d3d9f313133776a85\
    504e7f1c876f8050a3af5d500187f349af5c685e28aebc52b4c1413302eb9e088f12834ada82f58b14afa9c0c7d5e0ab\
    c9acbeb9f6c27e0b69f66376d5c3fd6d2d5fa7e28eb497518e4f96c08ae72c4ef214bda43e5e18d6e6fc21cfb40e004e\
    c3152b61ad254aaeb5d62c4baaf8015551ea91596c9b2e45cd896de272b0033684f94325552b1ed32e5c88ff50623ecf\
    814390b184492ce767501d676f570b215cc84acafd98439ce19fd5e7241fc7425ee0a667ac16e74f1ab33c999cce2a0f\
    9c4a96237492250be26f37ea7eda29a61a7af58608be69e0c10f5ba2a4bc9eeff467dd05e2d5eb5e512a565932b7ccf7\
    e3938226178a337e4ede0d7e82d0e05deb3d2253aad1564759cd71598032bb77b9958a6cf466b01e0ced4ca7790e1ea9\
    848b40afb5897630bb139f87c340e393e8d1d903cd004c9736f0455987430922aa08bd045b893cbb8e8c9212e46280ff\
    5392e211a881e584ae197f07643244c1d38f3c459c4f68649e3503890232eedb847811e4671972df2f6bf13b52127025\
    0c66c1545013f83235b14ee27d91ca39e96768d6f3257dbd26a70b7c91fa39d142d37e462fc414d6fbe4d7da9b19fb58\
    dc305fe8424086b0b2106f13ebc9ebe26a72355a279034b3acc875a858c865cc055e381658cebec317eb23b101e473a0\
    5b41f6454fbc8c157c6d3029d1c6141085bcdc096148818985a378873a3841b890fcd10a48be15e8703baf6cb7410bbb\
    5908867ae856ce27870bfadef8d3aa998f1467635bb5ce7677d2b6e6040a13b057361ab6cec8ee2212c999eec1048ef9\
    46512a17f71a9a32d572aba8b4f80b529eee5c8ca89b3d339a4ac21a21b1cb81e59254c2704d5ab2161a5d903ff475f7\
    f4f8faa81f962a09737e26e1fa574d597701efd45a1c10b713bac6c284493398e468c12458b255a693ee6595170f408b\
    659e5222dbec4e62750f90398b79655cd2c5136ab87332ec3db7b916deebdadd";

/// draft-29 flow from port 56528, Initial 1 of 4 (CRYPTO fragments out of order).
/// Source: corpus/ndpi/pcap/quic_frags_ch_out_of_order_same_packet_craziness.pcapng, frame 1 (UDP 56528 -> 443, 1350 bytes of payload).
const CRAZY_1: &str = "\
    caff00001d08465dca5c15bf2d3b00004534632e21d96eecfeb94b79f2066109ebcd4d6ec7cc7558717d3f64d130cfee\
    320ae4d6893995df7de3be2c1f3088b2605a00130142ec1a8df88eca9175dcb74ebd46e7cbab0a6e73ec8909d6751cb7\
    e16cd80c851259b140fff172640b96761550ad8e9beb2e8b375f67d3f4f28b041969180e8fd0da87457964468046926b\
    0d8f66fbd58058bd44e5f974019079a15ae97d1a7053eef67531e34eb75ecd92eb1b4cb82d4649578645496fdb39335e\
    ca261e78bcecb3b302334a3b933fc006696cbd24d7949df559d4ef7057ca65af84aececc5fabeb32b7982032c3fedb3e\
    763aadde87a90443c7d6d270c9b4b217acce52671465236344debaabb3643a3c4816c51f2fabd221fb34f64179cea82d\
    faca4bde77cc9261046c813b61be9545af1aa8ef1b62b90c5b27db15b3c128112e0f0bf15c7aca1c1c709d6ef4ac8b2e\
    9c4cd748649f657b6db24087237e9a4243c411f31aa280962c3ec5dde93bbd07d817d50178fdd42270f5fdf60e28ac97\
    961f1fd5785fe59b5383fb741ffad8b222a3b7fb5b37ee1c39f1e66ff3db26e2c08abac6b4c44eba0e38b6e0d0343813\
    9d660041e5c81ab8a64badfe25ed719fc8acf083262015498272ad05672b9293171b8a8879d9ce8753d4dd0f7ff68b45\
    42798fa6c55e96e06b9218271383effa337b301f4c2ac185d2c482d6b3b11445030b566772b285da92c342009d4ec083\
    93f09c7212783372874bdc825111d34e7c2d66d678e816b5d3b2bafc2faf0c72cb1f4020b627b5a71ec40f0b013f5485\
    714f34f004506fc6c62c239e9f6db9d6c81fb36d8b0b462c7b064e3095b708eb0c4fb5530100b83c54addc9820d79e4e\
    e5230e05e8cab331633f4b2c2d3438e6794c7a086f2a6cc8fb37cd14efa4999c61172c6a3e5ae0755e162ab748459478\
    2035cc8a20695a80a592e33d29c9be4dcb4af213c3045a31eceaa9741747920455ce0824355105502240a32eecb729c8\
    c9ee46fdcd0f3ba68ad8abc6027fb7c886e72503be18597e0f3cd3439fb39ef24a96bac76d9274438b3a57c10feec5c4\
    82cd63ac6ab208623dc176d2a3ff3015a9a5a78a2e155841a98650e86a272f070cd812f612a716d46aee99cc52ae972d\
    2106ccf8c2cce539999c332974c669924cd9d8788c1f57b87c3810eb283b19bab5a1200fecf98fa8e75a1f7a570ea204\
    fb42b237ae7a65d6986f4656e6a571559ff28250520834d372ffa889965dcc8e1c1fc0e0f409d3221198b3dec80119f3\
    3e7707a92f7ce2c79526c55edd0173964abb3d6ffecbcefb3ff6c503fb229f6f2e2d65fb7772b72147a0b933c75d6167\
    064f74bc43e8570518ca3f400a977158b600cec84cf1427f5b8f77d7078bfbd638e493f9dc202f21419773258f11b03f\
    1d49728b3b3e81f6e8bb373a9e3b620a74853622a2c4c9c377a1a7048922ffa9c329c8b0c4f0939a08190e32914a4851\
    d1fa27d6764ed383b2f863e348aab2b88e88e7efeacfef3b5bc96bb5d36757531382aa815d78501a496862388e38eec7\
    af67ae30fc7f0fc654066ce3125d50d2fc9b839562cc07081448ad57aef69bdb41c899d95429aa3aa1d2b10c92b479af\
    5ed707c06dc59a028b96a0c42cd27cade7f0d41725b729a21694d41d7ba322ada6ff6479971129dc8669834ca426a1e6\
    00ff31d4340fd4efa0a6791e64c9419fbb198316d2e62e3ae0e34ee1a89d4a918412ce3861d672ff43cb357bdb828852\
    37b3524a5bbfdce0526530a37c43a43d1bbd7ddddbf7c232954e1220eccd0dc72e95404aac21dbe6226a2b71ca5a582e\
    931750430cf09fd4bb6a535063bd1db25f6f505efa44f30beacb4dbb665bfbf658c6a689645bb714ebeb61c5c460a66e\
    5cc2fc15e745";

/// draft-29 flow from port 56528, Initial 2 of 4.
/// Source: corpus/ndpi/pcap/quic_frags_ch_out_of_order_same_packet_craziness.pcapng, frame 2 (UDP 56528 -> 443, 1350 bytes of payload).
const CRAZY_2: &str = "\
    caff00001d08465dca5c15bf2d3b00004534c41b649c2f974dd64637adbdd0202844a1e06e6285260dc707073f8c7509\
    c280dac5d15e602134532833f951ecd0752723de006e384733345a9f6909af318e2ec20556bb4dccbe0e91310326add4\
    52b7f20dc891f6a71cb1fa9020629ee3e9a8bfbda3b5a7ba753e3a86443e4139c8dea6bdc3862bcf829494f81f3bdcd5\
    093ea65d25d3a1fc27292e907dd8fd4bb4c7f3242ec6b443b454169e14cdcb4b7550a873eaaafb1d973b397531b846ad\
    08bb3418ced14395c34415c0e5a7c6f76497d77538dacaa9c91d83aae72399fc2df80649a99c4a67cf17080a0f881835\
    9e1041aa570b422e5be7949746b8fc275e4287c0a2e02c4f08e3f373787fe43ed46616e98cba28dbfc198ac4fb47b2b1\
    689dd24f6b19ddabb91f1d7d36f6c7af0c171728ec5569a9065899019d5e83c83176aeebe34bbef1b4a335ea794b95f8\
    ce17fe02436e57c8debeec5b83f5309738d37bc9f6bca34ee129fc7b34fd0e21fdc15c68a948140b9e89e41c3f614f61\
    d08ee48ad587e067b404e0f0c36f7e01ae3c7c5cae74619126bd32abae4f3b2d3f9d22dbbcb1aac19a75ce102422a52c\
    3f6ccf3c38552dc6e42ae51bcdb2c39dcc1c42a59bb33329757e9740ca1bf0d12a7daad97d46d694b43356a350f2dfab\
    56ec4ee84d18e5139aaa0bd4e886b0eb9be77df5f86e77e219762ab0d88eb55702d001b381d15b8191eebf635bee4734\
    6f24542aca73d3d5a7f735a1b867eb2028d69aaac1f10e153ea50e22a868a979641a41cd6c97f9f0f6a317a9cd4e92eb\
    48a4bfb3bfcf0328602f8f771a66127c8cbd3f72ad0b9bd2e0abb4cc65af0e8f120b1865f2150a3a795a486a57a92462\
    dec807babd2c01948fa581e043d963cb0072745b2d2eb779cd9c00c50f7ebd5d9dcaf979135d2a6eddeeb564f24015ce\
    18cf3e7116d9dc871e2ba5fc96611c5527bf946218dcbf25334047e0d55dc5f94045ee71dbb6b3db6f773ee6225ab7a9\
    8cb80bfedf062675481007dd1030efea794e97a7f078559302f88d5f49fb1f6dc00c75c3049a107a030ee382661a99cf\
    c9e67ba5e3a296991b5b1f404eafabd266716dab11977e1c73fa94a3371f847791291c3e858a5a4fd09067c030a1b3e6\
    6c16e07b53e72db4bd109e8a21d78d335c6f8f9a8d4023e9769db5a6c277fb0bb107959dac2e5c446996fa97d1197909\
    4a6fc7c66f43076b58637cdf2e300a329a93356302e2d49ea3bcf48d4e328e0fd8e9f475f7c540c9c96f491d0ee5354e\
    d689622efc68f2c57fde93b46507648f3b4640392530408a44b9861d67aad3b4e852303bfeeabfd6ad5969528ef7e873\
    31d8b2f115bf6a56cf1ee66690c72ffe17661a650aae535a05e959626dc91df90e9204ece6771dea08931b1dfe829fbb\
    ee7d029765ff50c11356837a7890b668d7631f4e17b4f5dd3b5cc47c741d28867abcb7cc04571bea5cb20501d8a71a8c\
    a633a65a211a06eecd04381b3839d57fe4efabb8aa739bd47decc900126036cfb0424147be3727b166edf21778967b21\
    46785f108086056bfa509b14f4ebf8452d5e58637abbe5896752aa5237146bec23ae18a36c6b1032f8c44ae7297857bd\
    c69280f070259cf48997638d21dcd0047bbfdf2cd2f6eda1d55edd7fc4ff8bc19d96ee8707ddd3f3d623c3a7219fbce6\
    ef3d85b4681c79b75897b06941148d8cf273f38c2daceab33f956495dc5619c26fbccf4988e885b26a2c574617082b8d\
    d12d48dc60f7e11671bf1ca0f19523beca918b613f88320babafc51053440ca50fc78e41cda9bf42849b2a1943671694\
    8f32e944b9c2779f180374faa8c07b841781055ee6d8c241bd363cea1f9336b7d4ca1f50bf88909eac862a414365288e\
    d40a524a0512";

/// draft-29 flow from port 56528, Initial 3 of 4.
/// Source: corpus/ndpi/pcap/quic_frags_ch_out_of_order_same_packet_craziness.pcapng, frame 3 (UDP 56528 -> 443, 1350 bytes of payload).
const CRAZY_3: &str = "\
    cdff00001d08465dca5c15bf2d3b0000453409a50328dfbb1d07ab5b158d6b16310af45c7e728e3bec9b7cc45a1e5332\
    2d5e7f89fbcb8ba36c44a99b29435c094bbfbbf3359105fcf620b583bd4414bf61a501e3a2880144ae973b6714e524df\
    e4df491c093ef013e7e399b19c1dbd6a252374cf8401f2177a97630cd42329cd3daf37b56beb87b69ad9e7e61cae3dac\
    d688ae61851bf4500d35168aae908687c435ae7458c7bef4b017f33c709de2b1fbca01c0a9903daf341750a3581635e0\
    84270165ab5867d43c270000fdf298dff94800e56d2149b5196556256440ad81b104211066978de503e5c3c70b6e53bf\
    dc07ec6b290459b23af631423860768d4a6d198386bde83f9564d873787c932f377d6f0670a9b101dbfbe2bde38dd8d4\
    110c11f8e925c52c3c9d9989273eef388befa87b066a35e973ab250d20a2f2dd74f6ee093f9256f230fcc01f16bb6acc\
    364a661a596f9c96a32653e598d72fd6deb778943bb46b7d786a877c83a02fd4e9cd44473539ba8604acb6e22980af4b\
    dfc6c3a62a68b16ddb1dd35d892196f187dc9d2d3528207dcc05cd92a81f3655be1a76a36627b377510935328284cb59\
    577a0b7c3554f5c011bd1f71b6574d3eba163b05ce6583c062d7cc6ff8a8fd5bb9080c4d4616ae0108f9895dfb16f28c\
    8288cdb707b72626af29c0ff151997cd553f5694560b46e6b82a8746a19414fd6df8371e18a6ed9def16355bbfc66589\
    addf3dd2ca000831c2de97249ddfe71cad5497048d910f12a6e06dbfa0e9dd915125db06443bdab92f8d4c4362269aa2\
    a017909a319d92c651034ff3c9e799dad4e82cac02b00043a630f7c103d34a0b3f41d3effc0e7e4ae3a370689856e92d\
    160b254f45b2d6dca6b374c0dfa59c97a6443e442533fa26c740abe7836b7868c48be566e64623993d9f9c1bdfd80435\
    d8383d03ea425ad59ae0b30682d618303551453eafa8a9e16d5b71c5048087f31604ccaa8901e49247ffbd7849fdd394\
    f0dd4577598ed4a051967eb59b2f6825ccc33b08a91d93c096bd78c40b1d91d181ffe1d9f29a44b89b6ab6412d70ec3d\
    c630b97423db6a452d7ee68bcc3a380c75cfae9b7f7feae966553cd44071246d1a7c6d2f40ec84dd9b9832590ce08560\
    3ea331faecf2fac2beda8d70fb2642cb00e55cecac245d91f0113f2952d94692fabb1b1f50e1671d5e1540539ddd5c32\
    90d3ad9bbc292b027cc921b556b46a48bbb0dd2959f1d257159f202145474518e9d777b2fe4b9aef32cfac0105cf6bdf\
    d596136799ba53d29ec1e640df03ceba287ce096ee1c797dbe5b160dbeecf6aadab1e8da1884534b4c9a12428e5c6d9a\
    5e4c0e4cacc7bee1342aeba74ac41c0377ba240417ae5be07911fb70d87cab93688a581af08cfdf62699fada61d24bee\
    7c2236087969e3576eeec3579f20b677c4593d00097bb0f83a1d4140b229697e888d11ebe999e1b792f4976bb1cf63d0\
    1dca145fa9f8b7775c1a2db90301e33f9237b98ab930406c33eb9fcdad1e4961fff5971c3b470801768cfd92bbc89ee1\
    d7c9506bf5eb0ba4f41fe886e982dc06cf8d9ff5a97f13b45fe166d3106fde473a7c99a52473eb4e033e1428b3662c9b\
    4a5ea4bbf8fad2b1c3434eafa48924f594b9dca489cc056f1dc304c38452f461a195260026ec7f9d9a7ac5a47154098b\
    19aca392b660e09aab01a60b5053d9c42627a1aa0e51e777f437e3c982067553be945b57f777cf9ee7b0529a17f8a99b\
    42547b29ad74a6e908e1f8a84417451e2101fc69fcf4aaf0856e80480d29f50d0e7397017c0ba28336595363264058c9\
    8b6ce94154deff93c45e679216c5900931f7814b7c503124cbbab366003ec458b9df510c7bf417ea559401b3a157d165\
    56401530efb7";

/// draft-29 flow from port 56528, Initial 4 of 4.
/// Source: corpus/ndpi/pcap/quic_frags_ch_out_of_order_same_packet_craziness.pcapng, frame 4 (UDP 56528 -> 443, 1350 bytes of payload).
const CRAZY_4: &str = "\
    c8ff00001d08465dca5c15bf2d3b00004534a3b164480ff48a44b246a42f5c6aeb1a85f901edd7d2ba402fce2ae7d33d\
    ab0907f5f081253cd9c62e95e2bd10282c4e40475bfc53f47df09c5490f74157034cb40a1f2238b802bce841132f686f\
    2423a3bf88b2a015867396d9f85a27365faea0c778b332c8a83777345f0bcae97c5dd582e5dd483cd1b0080602b7e3a0\
    fe2c0f74e7c71c4188f60b4cb3bc06b926bb30a433831687f4a2f48096cde0de73ee46d2ef0aab139086a91fa3cf060c\
    64848a63fb0e92e5ce3cd15c157d43b14b8d84a7bc3b98889451ac8465a5f77928dd077fb3c226e7ecbc08ab56dc6cb2\
    3ff68f905e438d7108d79e5ebcd87d588b3a30ea5a964d7a1544fec122bd854d76b1e5b34aeb55ca094f96dd3c3d8abb\
    329b93608d2406f43c978dbe7a2c12809665b4c024296a926c6401fcafd626b52bf1d6b3efb6ef004ed0f9214b2f83cc\
    03b45e9540a96668dd9145de3c7d2bbb8e30a60a75626484842146fa16116474437033bacc3faae47f92a9ce8b0e319e\
    85d9d1e66f08ef43f2c92d95b39b91b7a3bf524a1740c4d0eb5e7589cb9ba57b830f80efc060c4daffcd06ec454c0569\
    61a8e6e2ce04febf0652d5b054f3c763924dafb5c03eef90a02a7053783dd5b878fe15814f37a70fa4a12fb139cc71b2\
    d23ec254f99b4311c92f4977e6a7595a8448f38ef3ac71eecad909388051e9dca9ff237502de59300bbaab1ad63350e6\
    0e0d77b81df6d5ac7da8939a83c81f0bb1d8e4c5e18350d0f3667ffe7f80a1fb40c638d6da052e37fae4ce9c3b880441\
    359acdfaadddac4f4ae26fa7509538bb448b15644333d8510bac52fb702d987fd8378d07ffbaaab2f2118fac445082ce\
    81d0d663b68e032a54ce9b62aa6c99ea07757e98d6ab7ef1ab9f2d526c3e226ea254bc6c82dc68dc1bacf89abdcb8658\
    76848b11e6e9f1621b1b4f725d93df1e3c20dc5d20905d9a48bf893a64d3632811041f7fb99a8999ed3ef227d350b84a\
    c0da780106051362a584f1688103f59d20e25679a304e9345c213823d7f341ceeb8709c626c5ce312a6079414728ac1b\
    7d40aa1ec718f06fd33641603d6692195b7ea9f0b205232d9121433fc9051a3fd1634617dfc6b6f9f706f58bfde9c21b\
    2c33d61f108f8c6b4414e3480020e17f2b708161d9f1110444b83ea081b75fcf768537d62c8b9439252d3f122f57f964\
    5152db6e040e115fce88ad989db699c29cb6c47641407201c5f94f0ed78f150a38c4146221fa33f56ec5c552d0ef3e14\
    92fedfbe903eaa294201f54ffc78adf1626c0e584c72bf2ce470dd89d615cfbf29e7b9ff8591029751c33653238b905e\
    c9fc3dca768740b05be344d6b31b91138f239fa8e16b8f36d03a913e1684d9ab404d79e109c2507e69390d79242a2bd0\
    0a0181f62bc35a17c955fc717d5d731e3859f77b6dfb0667881e291320344e403acc83cd62cd80fb52a90410eee7cc48\
    7dc4e5cec4e838872e92039d7f7ece7592fcc8a3244039158a7993b29c160e684d6a7e4031a1dff0e3b9f45fc9bbdbba\
    90c73bae60d3daa5e55b655b51e6de258bee67762bc74cc8820382903b7a723030509be4a3828f652e03c0012203be0a\
    fbf750d93da6d4c7693a6dddb53ca82209b81cd63c08f364f12ba970f6c39f81cdde2e8d29c77a030d44c99cc6e522a7\
    533caba600208b0cb888d5d955c94df54da1a94abf431a017334cc40efc240ac9bdd824cafd76471851b7c81dfb36f3f\
    2d890beac62ce70b24316b24402d5d5cda376f79be268c30ad1ab0b651ff3625f9b7089ffb7608b4bcd759e808cd4037\
    26e87ba138b73daf834a07818342425ee6e2e3b4f0ee1b7227543b3668534fa15db4d0cbcb10d13f8da35aada9fc2a95\
    4370bfddbcb3";

/// gQUIC Q024 public header, private flags, little-endian STREAM frame.
/// Source: corpus/ndpi/pcap/quic.pcap, frame 1 (UDP 57833 -> 443, 1350 bytes of payload).
const GQUIC_Q024: &str = "\
    0db2de5df14f5545eb51303234013b6e8986f83cf3b7a6ab5d0501a001000443484c4f18000000504144008701000053\
    4e49009601000053544b00d001000056455200d401000043435300e40100004e4f4e43040200004d5350430802000041\
    4541440c02000055414944240200005343494434020000544349443802000050444d443c020000535242464002000049\
    43534c44020000505542536402000053434c53680200004b4558536c020000434f50546c020000434352548402000043\
    47535488020000495254548c0200004345545630030000434643573403000053464357380300002d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d6d61\
    696c2e676f6f676c652e636f6d3d3ebfa7b081c46fae50c597822008a06d2d25d5c3bde492f6d20e6bdc98e7f64c1331\
    ba5beb1b3f3219315d1798cb3447ebc5d0d8953e3ac15851303234399ff95340f7fec97b26e9e7e45c71ff554db350b5\
    902b71af4095f543c82cda09eb0da178d3aed131d79999dba978df640000004145534762657461204368726f6d652f34\
    332e302e323335372e343592805b8a4bd6ee4ade261cdcc5e545bc0000000058353039000004001e000000b522ba0c12\
    e577ba955efedf94ab0e3850362d970cf30cfd201aebbe39abad310100000043323535b2ca6412d9a4f3c31247fd4d42\
    91e508400b7b90a9ae79eb514249433860010025e68382969dad1307a79de61db488b540d734ded051833a9b7314a688\
    955c2ff4ae8b37bb8c740e33c15648075881c979262033de6808d1f0a0c78845e22cc7658a59cd2315ebb1fdfafa74a6\
    032c03f7d30c89ae504a88c360f427931fe4a5cdbe5a480bb930fbc7a26e80a9ed549d0e7200516b765b79a5736c8cd7\
    4fd0eeb6c2b4cdd9854e54fb3f317fd58d0aba961ff6e93892a9e51af40ba14bb2c8a6c5a2fbba0000a0000000a00000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000";

/// gQUIC Q043 public header, big-endian STREAM frame.
/// Source: corpus/ndpi/pcap/quic_q43.pcap, frame 1 (UDP 49241 -> 443, 1350 bytes of payload).
const GQUIC_Q043: &str = "\
    0de83c77bd8f8915f95130343301d4a6cc79cf5763921201d4caa001040043484c4f180000005041440028020000534e\
    49003602000053544b006c020000564552007002000043435300800200004e4f4e43a002000041454144a40200005343\
    4944b402000054434944b802000050444d44bc020000534d484cc00200004943534cc40200004e4f4e50e40200005055\
    4253040300004d4944530803000053434c530c0300004b45585310030000584c4354180300004353435418030000434f\
    50541c030000434352542c0300004952545430030000434643573403000053464357380300002d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d646e732e676f6f676c652e636f6d1f3290420b723fed146adc9385df3f2209232d56\
    a7610eca3f7a49bbf93b16d0ec6b7376a5d51ecb517af4eee63f6c38a2a85773046d5130343301e8816092921ae87eed\
    8086a21582915ee8984c30303030303030302fcc38c673c189a85e344d7cc97fa2f69a11f7d8414553477e729f7c8c65\
    f5a0ed021564ac1b5e600000000058353039010000001e000000ecff4622d6632f27e31e14b54cd3ab05c533ed1bb89c\
    8076c977a14f82ecd9e43b29480af5aa624e028806a9d7f23bd409d3916fb24d67e1983b402584d03922640000000100\
    0000433235355bec77d2f64499534e5354505bec77d2f64499536032cb92a0414ddff98002000000f000000060000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000";

/// gQUIC Q046 long header (4-bit CID lengths), plaintext CHLO.
/// Source: corpus/ndpi/pcap/quic046.pcap, frame 1 (UDP 50587 -> 443, 1350 bytes of payload).
const GQUIC_Q046: &str = "\
    c35130343650b4a4f9f5f42edd39000000019993d3b3cdfe6d824e9945e5a001040043484c4f1900000050414400f001\
    0000534e4900fb01000053544b0031020000564552003502000043435300450200004e4f4e4365020000414541446902\
    0000554149449802000053434944a802000054434944ac02000050444d44b0020000534d484cb40200004943534cb802\
    00004e4f4e50d802000050554253f80200004d494453fc02000053434c53000300004b45585304030000584c43540c03\
    0000435343540c030000434f50541403000043435254240300004952545428030000434643572c030000534643573003\
    00002d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d\
    2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d692e7974696d672e636f6de25254ddf7559bc9a71e75ce0a59bbd800ef5e\
    cd2a18386de384c79069f2dfa472af20bcfd61efa67b93f99ebc3963f95e42c5fb31c95130343601e8816092921ae87e\
    ed8086a21582915e70e1fe3030303030303030bd3100a491513da263adaf6022d29487e4ba82b0414553474368726f6d\
    652f38302e302e333938372e3133322057696e646f7773204e5420362e333b2057696e36343b2078363498ca8ff6f17e\
    93325d2ea7ef3530efe70000000058353039010000001e00000061257bd0f7ee87bbcdebb8439ad58e98e5f8db59dde4\
    cbcfc9753f9dfbf01966cbd99e7d410c0cd2ca42b752b6f0fc8acba01b656dca6a6280c4a26963ce1930640000000100\
    000043323535f2e6ccc43d87c6523552544f41434b44f2e6ccc43d87c6526032cb92a0414ddffa4700000000f0000000\
    600000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
    000000000000";

/// gQUIC Q050: IETF-style long header, Initial protected with the Q050 salt, CHLO in CRYPTO frame.
/// Source: corpus/ndpi/pcap/quic_q50.pcap, frame 1 (UDP 39203 -> 443, 1350 bytes of payload).
const GQUIC_Q050: &str = "\
    cb5130353008df4a089e4eff5e7a000045344a1f86ea325a43e59578aa9f561c1e93255c740837555b78c9702822fba4\
    48495a77765d17b70fdda2bc4309ce11da696592f83654b5275e1032426448a2c7eca4ecfc9d60e50cbb4ddda8262bcc\
    814e217818ecac4297f8a97ecee9821a3eebdebc7f3e2186a1eac30ae51856cf3fdc33f1ae9d39bcfa4be2833a626db4\
    44bd782e4764725a59128b4fcc055f2aba7e6ce448ac4b0e6a408e15c9e644bc6968f7beb24b85c50edef8da3cea2fbe\
    6575291c835120eaeb00a3ba327aa11e0d77e931f7d09472e55d6fbebc7d991be8ce4bf347846b9a6396158cbd307718\
    bd1f68cec7a754c459ee661190f5a60883d7a67844138a2d066f8f6052529d5667a10627d87bc380a657f881b4b43b55\
    6ac9efb885ad5327a164c380dc0bb3d8937e9d28f17c3115f50e5e19e87c64beed5c89c80974299930688541acd27c94\
    8bf11fc438650913c44f2058c4fcad8339f008e4d19c657ac940cd60d5ba576b70a6f6db170d79179ed8db88bdf0de37\
    82561825456a1e6570ae8b2c790bdd58bb4e2c45e900abf06022779c9a5254ec8161777ca2400ed3c55e55bc9da5e9f4\
    89438448df37002c26e34d9a9e78cc22a6c912429b66bd44fdb58b504f5acabc9cdede12234adf015dcfec1ce887e78f\
    4b49451b69846d1dd2b65e237a3540e5b6c135d4009765d50af95f90c72037ac0dce4694b6863f579c09a9ca967f3c54\
    ffb0b1232baa8ecdade469008ab6d1e860f5bd2306f00e3d70174921ed185303842fde2f25967a9201712d2cdb92a21b\
    fc919eba70a9dc898fb70e7596948a98ece0bbe6a2440c34d3bd9b71979d9a8c2fc8d98c67a67017d1b6fd3d41cd389a\
    c54422bb0a61d0ca4336ad0a13c64bc7bdb9dbeac72589296ad8c778fa45bce6f75da51f3fb2aa306417cac5f30eeae0\
    30dfa2509991076ee07d5ec171e2dc68abf826c38495aec3fee8e1b90d14e98172a363b899952cd3ac8c956dfa261f56\
    91e8e080703a484e7c0ba68cd2d65502ae0fcd456695416ce76a76daa811ab9bdec7be1312ee7c85d902423af5a50f78\
    5c5997aa093e0152b49d7b6a74ce096213de695d1e747b9cae7a61b6b0da950214c075fbce816a3ff033604a1e0b3b6a\
    0e2fe46b0a1dc5ce0f9846fa34cdb993f09751e097e2e530bf9fa9e3a6cddced4cfb1be56f6ad14451bd519d79ece87e\
    8de6cebbed2b4dd88aebbcb20c90cc7b6553bc6b178befc6da0376cc85b01b275cfc89c73d134d40a7c7842da382077a\
    c2fe1def5a4f39a23e5cd7b597b24d3331f07db9190439426dc4a3fabaf25d118f408842b1c0d9885146ac6067cb21f9\
    ede6bab0633f777ee05556beba42539e8bcdabff4b69f4ab581685d91acd60613e4dca653582344aae5e6fd0eb7c7a68\
    cf81cf8cee30eaec1921e1d08e5c34d3e75a3186d4a4d62fcc1aeee096281b8f859df2e7689d915faad581f05022a9cf\
    7bef21a3ea157c35099ec03a7b9253942e6e0d469a45cac2d3e262ff062f869afd2a2c5670836bfd0e8825ff11b9a34c\
    58652861046649f2521abf5dd8ed5394eea62e98b43f263dadaa3ea2b6a6244655312f42bda17360c3387a438312d23d\
    96f9bc19533052ec216eab9c64108d22502e7aebc303d9856b1f47dc36b41675c5f341db905d06d290aab5648b6c3140\
    16d57d4880a9df3c074c9d88724532cdf2baa5a0faf2b2ca161514048ed6797e3eb3477826bd7484b1e1793868a179eb\
    e71387b4179211a4050bdce51b0c08ba85f30ea029ab705b54aa1dbba1e83884ecb6669d9b7fcc21ceff2ae6aa23d363\
    320685495984556387e166d0722f47b281db9e92567bc29e3f7a752d2a8639233ac97a336e9924d21311bc027f1a7cea\
    f0ac4de87e94";
