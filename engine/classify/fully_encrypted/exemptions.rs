//! The first-payload test of Wu et al., *How the Great Firewall of China
//! Detects and Blocks Fully Encrypted Traffic* (USENIX Security 2023):
//! a payload is let through ("exempt") when any of five rules holds, and
//! judged fully encrypted when none does.
//!
//! | rule | exempt when |
//! |---|---|
//! | Ex1 | set bits per byte ≤ 3.4 or ≥ 4.6 (random bytes average 4.0) |
//! | Ex2 | the first 6 bytes are printable ASCII (0x20–0x7e) |
//! | Ex3 | more than half of the bytes are printable |
//! | Ex4 | a run of more than 20 printable bytes |
//! | Ex5 | it starts like TLS (`[16-17] 03 [00-09]`) or HTTP (`GET `, `PUT `, `POST `, `HEAD `) |
//!
//! sift's additions, each found on flows of the nDPI corpus the five rules
//! alone call random:
//!
//! - A payload shorter than [`MIN_LEN`] is not judged: 16 or 20 random
//!   bytes say little (a key or nonce sent alone opens many protocols).
//! - *Repetitive*: a byte value making up more than a sixteenth of the
//!   payload (plus 4) exempts it — `aa aa aa …` has 4 set bits per byte
//!   and nothing printable, yet is no ciphertext.
//! - Ex5's TLS prefix is widened to every record type (`[14-18] 03
//!   [00-09]`: a lone alert record picked up mid-connection is TLS).
//! - [`judge_datagram`]: a QUIC long header with a known version exempts
//!   a datagram (the QUIC dissector reads what it can of it).
//! - A payload that the TLS or HTTP prefix alone exempts is checked for a
//!   *forged prefix*: the rest of it is random by Ex1, Ex3 and Ex4 and the
//!   prefix does not parse — a TLS record header whose length or
//!   ClientHello is impossible, an HTTP method in front of random bytes.
//!   Such a payload is fully encrypted too. A prefix that parses is left
//!   to the TLS and HTTP dissectors.
//!
//! Pure functions over one payload; nothing is allocated.

use crate::bytes::{be16, be32};

/// Shortest payload judged.
pub const MIN_LEN: usize = 32;

/// Ex1's band of set bits per byte, in hundredths.
const POPCOUNT_LOW: u32 = 340;
const POPCOUNT_HIGH: u32 = 460;
/// Ex4: a printable run longer than this exempts.
const MAX_RUN: usize = 20;
/// The largest TLS record a sender may write (2^14 plus expansion).
const MAX_RECORD: u16 = 18_432;

/// What was measured on a payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    pub len: usize,
    /// Set bits per byte, in hundredths (random bytes: about 400).
    pub popcount: u32,
    /// Printable bytes, in percent of the payload.
    pub printable_pct: u32,
    /// The longest run of printable bytes.
    pub longest_run: usize,
    /// Printable bytes at the start (up to 6 counted).
    pub printable_prefix: usize,
    /// How often the most frequent byte value occurs.
    pub top_count: usize,
}

/// Which Wu et al. rule let a payload through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exemption {
    TooShort,
    Popcount,
    PrintablePrefix,
    MostlyPrintable,
    PrintableRun,
    Prefix,
    Repetitive,
    QuicLongHeader,
}

/// A protocol prefix in front of random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forged {
    Tls,
    Http,
}

impl Forged {
    pub fn as_str(self) -> &'static str {
        match self {
            Forged::Tls => "tls",
            Forged::Http => "http",
        }
    }
}

/// The verdict on a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    Exempt(Exemption),
    /// No rule exempts it; with the prefix it forged, if any.
    Random(Option<Forged>),
}

impl Judgement {
    pub fn is_random(self) -> bool {
        matches!(self, Judgement::Random(_))
    }
}

#[inline]
fn printable(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// Measures `bytes`. The byte histogram (for the repetition rule) is taken
/// only when the other figures leave it deciding: its pass is the costly
/// one, and most payloads are settled by popcount or printables.
pub fn measure(bytes: &[u8]) -> Measure {
    measure_with(bytes, popcount(bytes))
}

/// Set bits per byte of `bytes`, times 100 (4.0 bits: 400).
pub fn popcount(bytes: &[u8]) -> u32 {
    (set_bits(bytes) * 100)
        .checked_div(bytes.len() as u64)
        .unwrap_or(0) as u32
}

/// Does a payload without a TLS or HTTP prefix, at least [`MIN_LEN`] long,
/// pass as structured by its [`popcount`] alone? The cheapest rule, and the
/// one that settles most structured openings (DNS, QUIC, VPN headers)
/// before the other figures are taken.
pub fn exempt_by_popcount(popcount: u32) -> bool {
    popcount <= POPCOUNT_LOW || popcount >= POPCOUNT_HIGH
}

/// [`measure`], its popcount already taken.
pub fn measure_with(bytes: &[u8], popcount: u32) -> Measure {
    let (printable_count, longest) = printables(bytes);
    let len = bytes.len();
    let per = |n: u64, scale: u64| (n * scale).checked_div(len as u64).unwrap_or(0) as u32;
    let mut m = Measure {
        len,
        popcount,
        printable_pct: per(printable_count as u64, 100),
        longest_run: longest,
        printable_prefix: bytes.iter().take(6).take_while(|&&b| printable(b)).count(),
        top_count: 0,
    };
    // `repetitive` matters only inside the widest popcount band any rule
    // uses (250–550) with few printables and no long printable run.
    if (251..550).contains(&m.popcount) && m.printable_pct < 75 && m.longest_run <= MAX_RUN {
        let mut counts = [0u16; 256];
        for &b in bytes {
            let c = &mut counts[usize::from(b)];
            *c = c.saturating_add(1);
        }
        m.top_count = usize::from(counts.iter().copied().max().unwrap_or(0));
    }
    m
}

/// Set bits of `bytes`, eight bytes at a time.
fn set_bits(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut bits: u64 = (&mut words)
        .map(|w| u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones()))
        .sum();
    bits += words
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    bits
}

const LANES_LOW: u64 = 0x0101_0101_0101_0101;
const LANES_HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte lane of `w` set where the byte is printable
/// ASCII (0x20..=0x7e): its low seven bits reach 0x20 without reaching
/// 0x7f, and its high bit is clear.
#[inline]
fn printable_lanes(w: u64) -> u64 {
    let low = w & !LANES_HIGH;
    low.wrapping_add(0x60 * LANES_LOW) & !low.wrapping_add(LANES_LOW) & !w & LANES_HIGH
}

/// Printable bytes in `bytes` and the longest run of them. Sixty-four
/// bytes at a time: their printable flags gathered into one word, whose
/// set bits are counted and whose runs are measured by shifting.
fn printables(bytes: &[u8]) -> (usize, usize) {
    let (mut count, mut run, mut longest) = (0usize, 0usize, 0usize);
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        let mut mask = 0u64;
        for (k, w) in block.chunks_exact(8).enumerate() {
            let lanes = printable_lanes(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
            // One bit per lane, byte 0 lowest.
            mask |= ((lanes >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
        }
        count += mask.count_ones() as usize;
        if mask == u64::MAX {
            run += 64;
            longest = longest.max(run);
            continue;
        }
        longest = longest.max(run + mask.trailing_ones() as usize);
        let (mut x, mut inner) = (mask, 0usize);
        while x != 0 {
            x &= x >> 1;
            inner += 1;
        }
        longest = longest.max(inner);
        run = mask.leading_ones() as usize;
    }
    for &b in blocks.remainder() {
        let p = usize::from(printable(b));
        count += p;
        run = (run + 1) * p;
        longest = longest.max(run);
    }
    (count, longest.max(run))
}

/// Does `m` pass the statistical rules (Ex1, Ex3, Ex4) as random?
fn statistically_random(m: &Measure) -> bool {
    (POPCOUNT_LOW + 1..POPCOUNT_HIGH).contains(&m.popcount)
        && m.printable_pct * 2 <= 100
        && m.longest_run <= MAX_RUN
        && !repetitive(m)
}

/// One byte value too frequent for random bytes.
fn repetitive(m: &Measure) -> bool {
    m.top_count > m.len / 16 + 4
}

/// Is a server's first payload plainly not random (it then refutes a
/// finding on the client's)? Judged more loosely than a client's: the
/// 38-byte reply of VMess must not be refused by chance. Fewer than 8
/// bytes say nothing.
pub fn plainly_structured(m: &Measure) -> bool {
    let (low, high) = if m.len < MIN_LEN {
        (250, 550)
    } else {
        (300, 500)
    };
    m.len >= 8
        && (m.popcount <= low
            || m.popcount >= high
            || m.len >= MIN_LEN
                && (m.printable_pct >= 75 || m.longest_run > MAX_RUN || repetitive(m)))
}

/// The first bytes Ex5 exempts.
fn prefix(bytes: &[u8]) -> Option<Forged> {
    match bytes {
        [0x14..=0x18, 0x03, 0x00..=0x09, ..] => Some(Forged::Tls),
        [b'G', b'E', b'T', b' ', ..]
        | [b'P', b'U', b'T', b' ', ..]
        | [b'P', b'O', b'S', b'T', b' ', ..]
        | [b'H', b'E', b'A', b'D', b' ', ..] => Some(Forged::Http),
        _ => None,
    }
}

/// True when [`judge`] would exempt `bytes` whatever its [`measure`]: too
/// short, or no TLS/HTTP prefix to see through and the first six bytes
/// printable (Ex2). Lets a probe skip measuring most openings.
pub fn exempt_at_a_glance(bytes: &[u8]) -> bool {
    bytes.len() < MIN_LEN
        || prefix(bytes).is_none() && bytes.len() >= 6 && bytes[..6].iter().all(|&b| printable(b))
}

/// The judgement of a first payload that starts like TLS or HTTP (Ex5):
/// exempt, unless the prefix is forged. It needs no figures of the whole
/// payload (a real ClientHello or request is never measured). `None` for
/// any other payload.
pub fn judge_prefixed(bytes: &[u8]) -> Option<Judgement> {
    let p = prefix(bytes)?;
    Some(if forged(bytes, p) {
        Judgement::Random(Some(p))
    } else {
        Judgement::Exempt(Exemption::Prefix)
    })
}

/// Judges a first payload by Wu et al.'s rules, with a forged prefix
/// seen through; `m` is [`measure`] of `bytes`.
pub fn judge(bytes: &[u8], m: &Measure) -> Judgement {
    if bytes.len() < MIN_LEN {
        return Judgement::Exempt(Exemption::TooShort);
    }
    if let Some(j) = judge_prefixed(bytes) {
        return j;
    }
    if exempt_by_popcount(m.popcount) {
        Judgement::Exempt(Exemption::Popcount)
    } else if m.printable_prefix >= 6 {
        Judgement::Exempt(Exemption::PrintablePrefix)
    } else if m.printable_pct * 2 > 100 {
        Judgement::Exempt(Exemption::MostlyPrintable)
    } else if m.longest_run > MAX_RUN {
        Judgement::Exempt(Exemption::PrintableRun)
    } else if repetitive(m) {
        Judgement::Exempt(Exemption::Repetitive)
    } else {
        Judgement::Random(None)
    }
}

/// [`judge`] for a UDP datagram: a QUIC long header with a known version
/// (v1, v2, drafts `ff00xxxx`, Google's `Q0xx`/`T0xx`, version
/// negotiation) exempts it first.
pub fn judge_datagram(bytes: &[u8], m: &Measure) -> Judgement {
    if quic_long_header(bytes) {
        return Judgement::Exempt(Exemption::QuicLongHeader);
    }
    judge(bytes, m)
}

/// A QUIC long header of a known version (1, 2, a draft, Google's Q0xx /
/// T0xx, a version negotiation): exempt whatever follows.
pub fn quic_long_header(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b & 0xc0 == 0xc0)
        && match be32(bytes, 1) {
            Some(0 | 1 | 0x6b33_43cf) => true,
            Some(v) => {
                v >> 8 == 0x00ff_0000 || matches!(v >> 24, 0x51 | 0x54) && v >> 16 & 0xff == 0x30
            }
            None => false,
        }
}

/// A prefix of `kind` on `bytes` that does not parse, with random bytes
/// after it.
fn forged(bytes: &[u8], kind: Forged) -> bool {
    match kind {
        Forged::Tls => {
            let rest = bytes.get(5..).unwrap_or(&[]);
            // The cheap structural test first: most TLS starts are TLS.
            rest.len() >= MIN_LEN && !tls_plausible(bytes) && statistically_random(&measure(rest))
        }
        Forged::Http => {
            let method = bytes.iter().position(|&b| b == b' ').unwrap_or(0) + 1;
            let rest = bytes.get(method..).unwrap_or(&[]);
            // The cheap structural test first: a request line that ends in
            // an HTTP version is a request, not a forged prefix.
            rest.len() >= MIN_LEN
                && !http_request_line(bytes)
                && statistically_random(&measure(rest))
        }
    }
}

/// Does the first line of `b` end with an HTTP version (`... HTTP/1.1`)?
fn http_request_line(b: &[u8]) -> bool {
    let Some(end) = b.iter().position(|&c| c == b'\n') else {
        return false;
    };
    let line = b[..end].strip_suffix(b"\r").unwrap_or(&b[..end]);
    line.len() >= 9 && line[line.len() - 9..].starts_with(b" HTTP/")
}

/// Can a client's first bytes `16|17 03 0x LEN ...` be TLS? The record
/// length must be possible; a handshake record that opens with a
/// ClientHello must carry a TLS version and a handshake length that fits;
/// a second record header in the same payload must be valid too.
fn tls_plausible(b: &[u8]) -> bool {
    let Some(len) = be16(b, 3) else { return true };
    if len == 0 || len > MAX_RECORD {
        return false;
    }
    if b.first() == Some(&0x16) && b.get(5) == Some(&0x01) {
        // ClientHello: 3-byte length (it may continue in later records,
        // but never past 64 KiB), then legacy_version 03 0x.
        let hs_len = be32(b, 5).map_or(0, |v| v & 0x00ff_ffff);
        let version_ok = b.get(9).is_none_or(|&v| v == 0x03);
        if hs_len > 0xffff || !version_ok {
            return false;
        }
    }
    let next = 5 + usize::from(len);
    match b.get(next..next + 3) {
        Some([0x14..=0x18, 0x03, 0x00..=0x04]) | None => true,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-wise count and run agree with a byte-by-byte reading, for
    /// random bytes, text and mixtures, at every length around the blocks.
    #[test]
    fn printables_match_bytewise() {
        fn slow(bytes: &[u8]) -> (usize, usize) {
            let (mut count, mut run, mut longest) = (0, 0, 0);
            for &b in bytes {
                if printable(b) {
                    count += 1;
                    run += 1;
                    longest = longest.max(run);
                } else {
                    run = 0;
                }
            }
            (count, longest)
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in 0..400 {
            let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    if next() % 97 == 0 {
                        0x0a
                    } else {
                        b'a' + (i % 26) as u8
                    }
                })
                .collect();
            let edges: Vec<u8> = (0..len)
                .map(|i| {
                    [0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xa0, 0xff, b'x'][(next() as usize + i) % 8]
                })
                .collect();
            for b in [&random, &text, &edges] {
                assert_eq!(printables(b), slow(b), "len {len}: {b:?}");
            }
        }
    }

    /// Deterministic pseudo-random bytes (xorshift).
    pub(crate) fn noise(seed: u64, n: usize) -> Vec<u8> {
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

    fn verdict(b: &[u8]) -> Judgement {
        judge(b, &measure(b))
    }

    #[test]
    fn random_bytes_are_judged_random() {
        let mut random = 0;
        for seed in 1..=1000u64 {
            if verdict(&noise(seed, 200)).is_random() {
                random += 1;
            }
        }
        // Wu et al.: about 26 % of random payloads are exempted, mostly by
        // Ex1 at short lengths; at 200 bytes few are.
        assert!(random > 900, "{random}");
    }

    #[test]
    fn each_exemption() {
        let r = noise(7, 100);
        assert_eq!(verdict(&r[..10]), Judgement::Exempt(Exemption::TooShort));
        assert_eq!(verdict(&[0u8; 64]), Judgement::Exempt(Exemption::Popcount));
        let mut p = r.clone();
        p[..6].copy_from_slice(b"abcdef");
        // Ex1 may catch it first on unlucky bytes; the popcount stays in band here.
        assert!(!verdict(&p).is_random());
        let mut run = r.clone();
        run[40..62].copy_from_slice(b"0123456789012345678901");
        assert!(!verdict(&run).is_random());
        assert_eq!(
            verdict(b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n"),
            Judgement::Exempt(Exemption::Prefix)
        );
        // fuzz-2006-06-26-2594.pcap (nDPI corpus): a DNS header, then 0xaa.
        let mut aa = vec![0x1a, 0xc8, 0, 0, 0, 1, 0, 0x59];
        aa.extend([0xaa; 32]);
        assert_eq!(verdict(&aa), Judgement::Exempt(Exemption::Repetitive));
    }

    #[test]
    fn quic_long_headers_exempt_datagrams() {
        // quic_cc_ack.pcapng (nDPI corpus): draft-29 Initial, c8 ff00001d.
        let mut d = vec![0xc8, 0xff, 0x00, 0x00, 0x1d];
        d.extend(noise(12, 1345));
        assert_eq!(
            judge_datagram(&d, &measure(&d)),
            Judgement::Exempt(Exemption::QuicLongHeader)
        );
        d[1..5].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        assert!(judge_datagram(&d, &measure(&d)).is_random());
    }

    #[test]
    fn server_replies_plainly_structured() {
        // Oscar.pcap (nDPI corpus): a 10-byte FLAP frame, 2a 01 19 8a 00 04 ...
        let flap = [0x2a, 0x01, 0x19, 0x8a, 0x00, 0x04, 0, 0, 0, 1];
        assert!(plainly_structured(&measure(&flap)));
        // A 38-byte random reply (VMess) is not, on 1000 draws.
        let refused = (1..=1000u64)
            .filter(|&s| plainly_structured(&measure(&noise(s * 2, 38))))
            .count();
        assert!(refused <= 2, "{refused}");
    }

    #[test]
    fn a_real_client_hello_is_not_forged() {
        // Record header 16 03 01 len=0x00c8, ClientHello of 0xc4 bytes, 03 03.
        let mut ch = vec![
            0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
        ];
        ch.extend(noise(3, 0xc8 - 6));
        assert_eq!(verdict(&ch), Judgement::Exempt(Exemption::Prefix));
        // The same cut short by a segment boundary.
        assert_eq!(verdict(&ch[..80]), Judgement::Exempt(Exemption::Prefix));
        // Application data picked up mid-connection: one record, then the next.
        let mut ad = vec![0x17, 0x03, 0x03, 0x00, 0x20];
        ad.extend(noise(4, 0x20));
        ad.extend([0x17, 0x03, 0x03, 0x00, 0x10]);
        ad.extend(noise(5, 0x10));
        assert_eq!(verdict(&ad), Judgement::Exempt(Exemption::Prefix));
    }

    #[test]
    fn forged_prefixes() {
        let mut tls = vec![0x16, 0x03, 0x01, 0x40, 0x00, 0x01];
        tls.extend(noise(9, 300));
        tls[9] = 0x77; // no TLS version where a ClientHello has one
        assert_eq!(verdict(&tls), Judgement::Random(Some(Forged::Tls)));
        let mut long = vec![0x17, 0x03, 0x03, 0xff, 0xff];
        long.extend(noise(10, 300));
        assert_eq!(verdict(&long), Judgement::Random(Some(Forged::Tls)));
        let mut http = b"POST ".to_vec();
        http.extend(noise(11, 300));
        assert_eq!(verdict(&http), Judgement::Random(Some(Forged::Http)));
        // A real request is printable after its method.
        let req = b"POST /upload HTTP/1.1\r\nHost: example.org\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(verdict(req), Judgement::Exempt(Exemption::Prefix));
    }

    #[test]
    fn measures() {
        let m = measure(&[0xff, 0x00, b'a', b'b']);
        assert_eq!(m.popcount, (8 + 3 + 3) * 100 / 4);
        assert_eq!(m.printable_pct, 50);
        assert_eq!(m.longest_run, 2);
        assert_eq!(m.printable_prefix, 0);
        assert_eq!(measure(&[]).popcount, 0);
    }
}
