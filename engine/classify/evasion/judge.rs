//! The receiver's judgement of one copy: would the host it is sent to take
//! this segment or datagram into its stream?
//!
//! A [`Guard`] per flow learns, from the packets before, what each side
//! normally does — its TTL, whether its checksums validate, its SYN's
//! options, its latest timestamp — and a copy that breaks what the
//! receiver enforces is invalid, with the reason as a [`fooling`] bit:
//!
//! - **checksum** wrong, but only when an earlier packet of the same
//!   direction validated (a capture on the sending host shows offloaded
//!   checksums as wrong), and then only a *suspect*: it is a fake when a
//!   valid copy of the same bytes follows, real when the peer acknowledges
//!   it (some hosts offload checksums of data segments only);
//! - **TTL / hop limit** at least [`TTL_MARGIN`] below the side's first
//!   packet (the SYN): a decoy set to die between the DPI and the server —
//!   a suspect too, as honest paths change;
//! - **MD5 signature** option (RFC 2385) the SYN did not carry;
//! - **timestamp** older than the side's latest in-order one by more than
//!   one tick (PAWS, RFC 7323);
//! - **no ACK flag** on data once the handshake was seen;
//! - **IPv6** Hop-by-Hop header not first, or twice (RFC 8200).
//!
//! Only the client's copies are judged: desync tools run on the client, and
//! a server's side varies for honest reasons (a SYN proxy's TTL).
//!
//! Sequence numbers outside the window are judged by reassembly, which
//! knows the window ([`crate::classify::reassembly`]). The guard lives in
//! each flow's state without allocating (20 bytes); checksums are computed
//! only while a flow is classified, so a decided flow costs nothing.

use super::fooling;
use crate::decode::ip::{ext, proto};
use crate::decode::transport::{tcp_flags, TcpHeader};
use crate::decode::Decoded;
use crate::flow::{TO_CLIENT, TO_SERVER};

/// TCP URG flag.
pub const URG: u8 = 0x20;
/// How far below a side's usual TTL a copy must be to be taken for one that
/// cannot arrive (route changes move it by one or two).
pub const TTL_MARGIN: u8 = 8;

/// What one side of the flow does, as learnt so far.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// TTL of the side's SYN (or first packet); 0 unknown.
    ttl: u8,
    flags: u8,
    /// The MSS its SYN announced (the most the other side sends).
    mss: u16,
    /// Latest timestamp value of an accepted in-order segment.
    ts_recent: u32,
}

const SYN_SEEN: u8 = 1;
const MD5: u8 = 2;
const TFO: u8 = 4;
const SUM_GOOD: u8 = 8;
const TS_SEEN: u8 = 16;
const OFFLOAD: u8 = 32;

/// The per-flow judge of TCP copies.
#[derive(Clone, Copy, Debug, Default)]
pub struct Guard {
    sides: [Side; 2],
    /// A SYN-ACK was seen: data must carry ACK.
    established: bool,
}

/// The TCP options the judge reads from one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub md5: bool,
    /// TCP Fast Open (kind 34, or the experimental 254 with magic 0xF989).
    pub tfo: bool,
    pub tsval: Option<u32>,
}

/// Reads the options of the TCP header at the start of `segment`.
pub fn tcp_options(segment: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    let Some(&off) = segment.get(12) else {
        return o;
    };
    let end = (usize::from(off >> 4) * 4).min(segment.len());
    // Most segments carry exactly NOP, NOP, timestamps: read at once.
    if end == 32 && segment[20..24] == [1, 1, 8, 10] {
        o.tsval = crate::bytes::be32(segment, 24);
        return o;
    }
    let mut i = 20;
    while i < end {
        let kind = segment[i];
        match kind {
            0 => break,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = segment.get(i + 1) else {
            break;
        };
        let len = usize::from(len);
        if len < 2 || i + len > end {
            break;
        }
        let body = &segment[i + 2..i + len];
        match (kind, body.len()) {
            (2, 2) => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            (8, 8) => o.tsval = Some(u32::from_be_bytes([body[0], body[1], body[2], body[3]])),
            (19, _) => o.md5 = true,
            (34, _) => o.tfo = true,
            (254, n) if n >= 2 && body[..2] == [0xf9, 0x89] => o.tfo = true,
            _ => {}
        }
        i += len;
    }
    o
}

/// The urgent pointer of the TCP header at the start of `segment`.
pub fn urgent_pointer(segment: &[u8]) -> u16 {
    crate::bytes::be16(segment, 18).unwrap_or(0)
}

/// Is the TCP or UDP checksum right? `None` when it cannot be told: the
/// packet was cut by the snaplen, or an IPv4 UDP datagram without one.
pub fn checksum_ok(d: &Decoded<'_>) -> Option<bool> {
    let seg = d.ip.segment;
    if d.truncated || seg.is_empty() {
        return None;
    }
    let at = match d.proto {
        proto::TCP => 16,
        proto::UDP => 6,
        _ => return None,
    };
    let stored = crate::bytes::be16(seg, at)?;
    if d.proto == proto::UDP && stored == 0 && d.src.is_ipv4() {
        return None;
    }
    let len = seg.len() as u32;
    let mut sum: u64 = 0;
    match (d.src, d.dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(t)) => {
            sum += add_bytes(&s.octets()) + add_bytes(&t.octets());
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(t)) => {
            sum += add_bytes(&s.octets()) + add_bytes(&t.octets());
        }
        _ => return None,
    }
    sum += u64::from(d.proto) + u64::from(len >> 16) + u64::from(len & 0xffff);
    sum += add_bytes(seg);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    Some(sum == 0xffff)
}

/// The 16-bit big-endian words of `b` added in ones' complement (an odd
/// last byte padded), folded to 16 bits. Summed as 64-bit words into a
/// 128-bit total (an add with carry each), in the machine's byte order: a
/// ones' complement sum is the same over words of any width, folded with
/// end-around carries, and does not depend on the byte order but for a
/// final swap (RFC 1071, section 2).
fn add_bytes(b: &[u8]) -> u64 {
    let mut wide = 0u128;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        wide += u128::from(u64::from_ne_bytes([
            w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
        ]));
    }
    let (lo, carry) = (wide as u64).overflowing_add((wide >> 64) as u64);
    let folded = lo + u64::from(carry);
    let mut sum = (folded & 0xffff_ffff) + (folded >> 32);
    let mut quads = words.remainder().chunks_exact(4);
    for w in &mut quads {
        sum += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
    match *quads.remainder() {
        [a, b, c] => {
            sum += u64::from(u16::from_ne_bytes([a, b])) + u64::from(u16::from_ne_bytes([c, 0]))
        }
        [a, b] => sum += u64::from(u16::from_ne_bytes([a, b])),
        [a] => sum += u64::from(u16::from_ne_bytes([a, 0])),
        _ => {}
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    u64::from(u16::from_be(sum as u16))
}

/// A TCP copy as its receiver judges it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpCopy {
    /// [`fooling`] bits: why the receiver drops it (0: it takes it).
    pub fooling: u16,
    /// [`fooling`] bits (BADSUM, TTL) that make it *suspect*: its checksum
    /// is wrong although earlier packets of the side validated (a decoy, or
    /// a host that offloads checksums of some packets only), or its TTL is
    /// far below the SYN's (a decoy, or a path that changed). Its bytes
    /// wait: a valid copy of the same range makes it a fake, the peer
    /// acknowledging it makes it real.
    pub suspect: u16,
    pub options: TcpOptions,
    /// The urgent pointer, when the URG flag is set.
    pub urgent: Option<u16>,
}

impl Guard {
    /// The MSS side `side`'s SYN announced (what the other side may send).
    pub fn mss(&self, side: usize) -> Option<u16> {
        Some(self.sides[side].mss).filter(|&m| m != 0)
    }

    /// True when side `side`'s SYN asked for TCP Fast Open.
    pub fn tfo(&self, side: usize) -> bool {
        self.sides[side].flags & TFO != 0
    }

    /// True once the handshake's SYN-ACK was seen.
    pub fn established(&self) -> bool {
        self.established
    }

    /// Judges a TCP packet of `side`; learns from it if it is valid.
    pub fn tcp(&mut self, d: &Decoded<'_>, h: &TcpHeader, side: usize) -> TcpCopy {
        let seg = d.ip.segment;
        let options = tcp_options(seg);
        let urgent = (h.flags & URG != 0).then(|| urgent_pointer(seg));
        let s = &mut self.sides[side];
        let data = !d.transport.payload.is_empty();
        let syn = h.has(tcp_flags::SYN);
        let mut f = 0;
        let mut suspect = 0;
        // Checksums: once one validates, a wrong one makes its data suspect
        // (see [`TcpCopy::suspect`]).
        // Only the client's data can be judged suspect: once a server
        // packet validated, the server's data is not summed again.
        if syn || s.flags & SUM_GOOD == 0 || data && side == TO_SERVER {
            match checksum_ok(d) {
                Some(true) => s.flags |= SUM_GOOD,
                Some(false) if s.flags & (SUM_GOOD | OFFLOAD) == SUM_GOOD => {
                    suspect |= fooling::BADSUM;
                }
                _ => {}
            }
        }
        if syn {
            if f == 0 {
                s.ttl = d.ip.ttl;
                s.flags |= SYN_SEEN;
                if options.md5 {
                    s.flags |= MD5;
                }
                if options.tfo {
                    s.flags |= TFO;
                }
                if let Some(m) = options.mss {
                    s.mss = m;
                }
                if let Some(t) = options.tsval {
                    s.ts_recent = t;
                    s.flags |= TS_SEEN;
                }
                if side == TO_CLIENT && h.has(tcp_flags::ACK) {
                    self.established = true;
                }
            }
            return TcpCopy {
                fooling: f,
                suspect: 0,
                options,
                urgent,
            };
        }
        if s.ttl == 0 {
            s.ttl = d.ip.ttl;
        }
        // Desync tools run on the client: only its copies are judged (a
        // server's SYN-ACK may come from a SYN proxy with another TTL).
        if data && side == TO_SERVER {
            if d.ip.ttl != 0 && d.ip.ttl.saturating_add(TTL_MARGIN) <= s.ttl {
                suspect |= fooling::TTL;
            }
            if options.md5 && s.flags & (SYN_SEEN | MD5) == SYN_SEEN {
                f |= fooling::MD5SIG;
            }
            if let Some(t) = options.tsval {
                if s.flags & TS_SEEN != 0 && s.ts_recent.wrapping_sub(t) as i32 > 1 {
                    f |= fooling::TS;
                }
            }
            if !h.has(tcp_flags::ACK) && self.established {
                f |= fooling::DATANOACK;
            }
            if d.ip.ext & ext::MISPLACED_HBH != 0 {
                f |= fooling::IPV6_EXT;
            }
        }
        if side != TO_SERVER || f != 0 {
            suspect = 0;
        }
        TcpCopy {
            fooling: f,
            suspect,
            options,
            urgent,
        }
    }

    /// A copy of `side` with a wrong checksum was taken by its receiver (the
    /// peer acknowledged it): the capture shows checksum offload, wrong
    /// checksums of that side are no evidence any more.
    pub fn offload(&mut self, side: usize) {
        self.sides[side].flags |= OFFLOAD;
    }

    /// A valid segment of `side` was taken in order: its timestamp is the
    /// side's latest.
    pub fn in_order(&mut self, side: usize, copy: &TcpCopy) {
        if let Some(t) = copy.options.tsval {
            let s = &mut self.sides[side];
            if s.flags & TS_SEEN == 0 || t.wrapping_sub(s.ts_recent) as i32 > 0 {
                s.ts_recent = t;
                s.flags |= TS_SEEN;
            }
        }
    }

    /// Judges a UDP datagram of `side` (checksum and TTL); learns from it.
    pub fn udp(&mut self, d: &Decoded<'_>, side: usize) -> u16 {
        let s = &mut self.sides[side];
        let mut f = 0;
        match checksum_ok(d) {
            Some(true) => s.flags |= SUM_GOOD,
            Some(false) if s.flags & SUM_GOOD != 0 => f |= fooling::BAD_UDP_CHECKSUM,
            _ => {}
        }
        if s.ttl == 0 || d.ip.ttl > s.ttl {
            s.ttl = d.ip.ttl;
        } else if d.ip.ttl != 0 && d.ip.ttl.saturating_add(TTL_MARGIN) <= s.ttl {
            f |= fooling::TTL;
        }
        if d.ip.ext & ext::MISPLACED_HBH != 0 {
            f |= fooling::IPV6_EXT;
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time sum folds to what a sum of big-endian 16-bit
    /// words folds to, for every length and alignment of the tail.
    #[test]
    fn sum_matches_word_by_word() {
        fn slow(b: &[u8]) -> u64 {
            let mut sum: u64 = b
                .chunks(2)
                .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
                .sum();
            while sum >> 16 != 0 {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            sum
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            assert_eq!(add_bytes(&b), slow(&b), "len {len}");
            let ones = vec![0xffu8; len];
            assert_eq!(add_bytes(&ones), slow(&ones), "0xff len {len}");
        }
        // Carries out of every word, over the longest IP payloads.
        for len in [1500, 9000, 65_535] {
            let ones = vec![0xffu8; len];
            assert_eq!(add_bytes(&ones), slow(&ones), "0xff len {len}");
        }
    }

    #[test]
    fn options_of_a_real_syn() {
        // The TCP header of frame 1 of the nDPI corpus' 443-curl.pcap.
        const SYN: [u8; 44] = [
            0xd8, 0xe3, 0x01, 0xbb, 0xcc, 0x77, 0x76, 0x95, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02,
            0xff, 0xff, 0x7b, 0xc1, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x05,
            0x01, 0x01, 0x08, 0x0a, 0x1e, 0x62, 0x45, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02,
            0x00, 0x00,
        ];
        let o = tcp_options(&SYN);
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.tsval, Some(0x1e6245b7));
        assert!(!o.md5 && !o.tfo);
        // Cut anywhere: no panic, what is whole is read.
        for n in 0..SYN.len() {
            let _ = tcp_options(&SYN[..n]);
        }
        let mut md5 = SYN.to_vec();
        md5[40] = 19;
        md5[41] = 2;
        assert!(tcp_options(&md5).md5);
    }

    /// The common data segment's options (NOP, NOP, timestamps) read at
    /// once give what the option walk gives; any other byte there is
    /// walked.
    #[test]
    fn options_of_a_timestamped_segment() {
        let mut seg = [0u8; 32];
        seg[12] = 0x80;
        seg[20..32].copy_from_slice(&[1, 1, 8, 10, 0x1e, 0x62, 0x45, 0xb7, 0, 0, 0, 1]);
        let want = TcpOptions {
            tsval: Some(0x1e62_45b7),
            ..TcpOptions::default()
        };
        assert_eq!(tcp_options(&seg), want);
        // Timestamps first, then two NOPs: the walk, same answer.
        seg[20..32].copy_from_slice(&[8, 10, 0x1e, 0x62, 0x45, 0xb7, 0, 0, 0, 1, 1, 1]);
        assert_eq!(tcp_options(&seg), want);
        // MD5 signature instead: not timestamps.
        seg[20..24].copy_from_slice(&[1, 1, 19, 10]);
        assert_eq!(
            tcp_options(&seg),
            TcpOptions {
                md5: true,
                ..TcpOptions::default()
            }
        );
    }

    /// A client data segment 10.0.0.1:40000 -> 10.0.0.2:443 with `options`
    /// (raw, a multiple of 4 bytes), its checksum right or wrong.
    fn segment(seq: u32, ack: bool, options: &[u8], payload: &[u8], good: bool) -> Vec<u8> {
        let mut h = etherparse::TcpHeader::new(40000, 443, seq, 65535);
        h.ack = ack;
        h.psh = true;
        h.set_options_raw(options).unwrap();
        h.checksum = h
            .calc_checksum_ipv4_raw([10, 0, 0, 1], [10, 0, 0, 2], payload)
            .unwrap()
            ^ if good { 0 } else { 0x5a5a };
        let mut v = h.to_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    fn judge(g: &mut Guard, seg: &[u8], ttl: u8, side: usize) -> TcpCopy {
        use crate::decode::transport::parse;
        let t = parse(proto::TCP, seg).unwrap();
        let crate::decode::transport::Header::Tcp(h) = t.header else {
            panic!()
        };
        let d = Decoded {
            tunnel_kinds: 0,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: proto::TCP,
            transport: t,
            tunnels: 0,
            truncated: false,
            ip: crate::decode::IpFacts {
                ttl,
                segment: seg,
                ..Default::default()
            },
        };
        g.tcp(&d, &h, side)
    }

    const TS: fn(u32) -> [u8; 12] = |v| {
        let mut o = [1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        o[4..8].copy_from_slice(&v.to_be_bytes());
        o
    };

    /// The foolings desync tools use, each judged on its own, and an honest
    /// segment that passes.
    #[test]
    fn foolings() {
        let fresh = || {
            let mut g = Guard::default();
            let mut syn = segment(1000, false, &TS(5000), &[], true);
            syn[13] = 0x02; // SYN only
            let sum = etherparse::TcpHeader::from_slice(&syn).unwrap().0;
            let fixed = sum
                .calc_checksum_ipv4_raw([10, 0, 0, 1], [10, 0, 0, 2], &[])
                .unwrap();
            syn[16..18].copy_from_slice(&fixed.to_be_bytes());
            assert_eq!(judge(&mut g, &syn, 64, TO_SERVER).fooling, 0);
            g.established = true;
            g
        };
        let data = b"hello";
        let ok = segment(1001, true, &TS(5001), data, true);
        let c = judge(&mut fresh(), &ok, 64, TO_SERVER);
        assert_eq!((c.fooling, c.suspect), (0, 0));
        let mut md5 = TS(5001).to_vec();
        md5.extend_from_slice(&[19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        let c = judge(
            &mut fresh(),
            &segment(1001, true, &md5, data, true),
            64,
            TO_SERVER,
        );
        assert_eq!(c.fooling, fooling::MD5SIG);
        let old = segment(1001, true, &TS(5000u32.wrapping_sub(600_000)), data, true);
        assert_eq!(
            judge(&mut fresh(), &old, 64, TO_SERVER).fooling,
            fooling::TS
        );
        let noack = segment(1001, false, &TS(5001), data, true);
        assert_eq!(
            judge(&mut fresh(), &noack, 64, TO_SERVER).fooling,
            fooling::DATANOACK
        );
        let bad = segment(1001, true, &TS(5001), data, false);
        let c = judge(&mut fresh(), &bad, 64, TO_SERVER);
        assert_eq!((c.fooling, c.suspect), (0, fooling::BADSUM));
        let c = judge(&mut fresh(), &ok, 4, TO_SERVER);
        assert_eq!((c.fooling, c.suspect), (0, fooling::TTL));
        // The server's copies are not judged.
        let c = judge(&mut fresh(), &noack, 4, TO_CLIENT);
        assert_eq!((c.fooling, c.suspect), (0, 0));
        // Offload: once the side is known to offload, a wrong checksum is
        // no evidence.
        let mut g = fresh();
        g.offload(TO_SERVER);
        assert_eq!(judge(&mut g, &bad, 64, TO_SERVER).suspect, 0);
    }

    #[test]
    fn ones_complement() {
        assert_eq!(add_bytes(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }
}
