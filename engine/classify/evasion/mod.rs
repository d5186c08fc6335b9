//! Evasion: what a client did to fool an in-path DPI, and reading the
//! stream the way the server does in spite of it.
//!
//! Desync tools (zapret's nfqws and tpws, GoodbyeDPI, ByeDPI) send decoys
//! a careless DPI reads and the server drops, cut the first message into
//! pieces sent in or out of order, hide an urgent byte in it, put data in
//! the SYN or before the initial sequence number. sift judges every copy of
//! every byte as its receiver would ([`judge`]): a copy the receiver drops
//! never enters the stream, it is evidence. What is left is the real
//! message; the flow's names come from it alone.
//!
//! The [`Evasion`] record lists the techniques seen (EVE `evasion`, a
//! sift-only field): for fakes the fooling that makes them invalid and the
//! decoy's name, and the packet positions. [`watch`] gathers it per flow.
//!
//! What it refuses to call evasion: a direction whose checksums are all
//! bad (offload on the capturing host), full-size segments (a small MSS),
//! a retransmission of the same bytes, fragments of path-MTU size.

pub mod host;
pub mod judge;
pub mod quic;
pub mod watch;

pub use judge::Guard;
pub use watch::Watch;

/// Why a receiver drops a copy: the "fooling" of a fake.
pub mod fooling {
    /// TCP or UDP checksum wrong while the direction's other packets
    /// validate.
    pub const BADSUM: u16 = 1 << 0;
    /// Sequence number outside the receiver's window.
    pub const BADSEQ: u16 = 1 << 1;
    /// TTL / hop limit far below what the side otherwise uses: it dies on
    /// the way.
    pub const TTL: u16 = 1 << 2;
    /// A TCP MD5 signature option the SYN never negotiated.
    pub const MD5SIG: u16 = 1 << 3;
    /// A timestamp older than the flow's (PAWS).
    pub const TS: u16 = 1 << 4;
    /// Data without the ACK flag on an established connection.
    pub const DATANOACK: u16 = 1 << 5;
    /// IPv6 extension headers a host rejects (a Hop-by-Hop header not
    /// first, or twice).
    pub const IPV6_EXT: u16 = 1 << 6;
    /// A QUIC client Initial in a datagram under 1,200 bytes.
    pub const SHORT_INITIAL: u16 = 1 << 7;
    /// A UDP checksum wrong while the direction's other datagrams validate.
    pub const BAD_UDP_CHECKSUM: u16 = 1 << 8;
    /// A QUIC Initial whose connection the server never answered.
    pub const UNANSWERED_DCID: u16 = 1 << 9;

    pub const NAMES: [(u16, &str); 10] = [
        (BADSUM, "badsum"),
        (BADSEQ, "badseq"),
        (TTL, "ttl"),
        (MD5SIG, "md5sig"),
        (TS, "ts"),
        (DATANOACK, "datanoack"),
        (IPV6_EXT, "ipv6_ext"),
        (SHORT_INITIAL, "short_initial"),
        (BAD_UDP_CHECKSUM, "bad_udp_checksum"),
        (UNANSWERED_DCID, "unanswered_dcid"),
    ];

    /// The names of the bits set in `f`, in a fixed order.
    pub fn names(f: u16) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(b, _)| f & b != 0)
            .map(|(_, n)| *n)
    }
}

/// An evasion technique, by the names zapret's documentation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// A decoy copy the receiver drops (see its fooling).
    Fake,
    /// The first message cut into pieces smaller than the segment size.
    Split,
    /// Pieces sent out of order.
    Disorder,
    /// The ClientHello split across TLS records.
    TlsRec,
    /// An urgent (out-of-band) byte inside the message, which the receiving
    /// stack removes.
    Oob,
    /// Data in the SYN the server did not take.
    SynData,
    /// A segment starting before the initial sequence number, or overlaps
    /// that rewrite bytes.
    SeqOvl,
    /// The message in small IP fragments.
    IpFragments,
    /// IPv6 extension headers (Hop-by-Hop, Destination Options) on the
    /// real packets.
    Ipv6Ext,
    /// An HTTP Host header written to confuse a matcher.
    HostHeader,
}

impl Technique {
    pub const ALL: [Technique; 10] = [
        Technique::Fake,
        Technique::Split,
        Technique::Disorder,
        Technique::TlsRec,
        Technique::Oob,
        Technique::SynData,
        Technique::SeqOvl,
        Technique::IpFragments,
        Technique::Ipv6Ext,
        Technique::HostHeader,
    ];

    /// A bit of its own, for sets of techniques.
    pub fn bit(self) -> u16 {
        1 << self as u16
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Fake => "fake",
            Technique::Split => "split",
            Technique::Disorder => "disorder",
            Technique::TlsRec => "tlsrec",
            Technique::Oob => "oob",
            Technique::SynData => "syndata",
            Technique::SeqOvl => "seqovl",
            Technique::IpFragments => "ip_fragments",
            Technique::Ipv6Ext => "ipv6_ext",
            Technique::HostHeader => "host_header",
        }
    }

    pub fn from_name(s: &str) -> Option<Technique> {
        Technique::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Packet positions kept per technique.
const MAX_PACKETS: usize = 16;

/// One technique seen on a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub technique: Technique,
    /// [`fooling`] bits (fakes, and pieces that died on the way).
    pub fooling: u16,
    /// The name a decoy carried (TLS SNI or HTTP Host), the first one.
    pub decoy: Option<String>,
    /// Input positions of the packets that showed it (at most 16).
    pub packets: Vec<u64>,
}

/// What a client did to fool DPI on one flow (EVE `evasion`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evasion {
    /// By technique, in [`Technique`] order.
    pub entries: Vec<Entry>,
}

impl Evasion {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn has(&self, t: Technique) -> bool {
        self.entries.iter().any(|e| e.technique == t)
    }

    fn entry(&mut self, t: Technique) -> &mut Entry {
        let at = self.entries.partition_point(|e| e.technique < t);
        if self.entries.get(at).is_none_or(|e| e.technique != t) {
            self.entries.insert(
                at,
                Entry {
                    technique: t,
                    fooling: 0,
                    decoy: None,
                    packets: Vec::new(),
                },
            );
        }
        &mut self.entries[at]
    }

    /// Records technique `t` seen in packet `packet`, with `fooling` bits.
    pub fn note(&mut self, t: Technique, fooling: u16, packet: Option<u64>) {
        let e = self.entry(t);
        e.fooling |= fooling;
        if let Some(p) = packet {
            if e.packets.len() < MAX_PACKETS && !e.packets.contains(&p) {
                e.packets.push(p);
            }
        }
    }

    /// The decoy name of technique `t` (the first one stays).
    pub fn decoy(&mut self, t: Technique, name: String) {
        self.entry(t).decoy.get_or_insert(name);
    }

    /// Takes in what `other` found.
    pub fn merge(&mut self, other: &Evasion) {
        for e in &other.entries {
            for &p in &e.packets {
                self.note(e.technique, e.fooling, Some(p));
            }
            self.note(e.technique, e.fooling, None);
            if let Some(d) = &e.decoy {
                self.decoy(e.technique, d.clone());
            }
        }
    }
}

/// The server name a decoy's bytes carry: a TLS ClientHello's SNI or an
/// HTTP request's Host, if the bytes hold a whole one from their start.
pub fn decoy_name(bytes: &[u8]) -> Option<String> {
    use crate::bytes::be16;
    if bytes.first() == Some(&0x16) {
        let rec = usize::from(be16(bytes, 3)?);
        let record = bytes.get(5..5 + rec)?;
        if record.first() != Some(&1) {
            return None;
        }
        let len = (usize::from(*record.get(1)?) << 16) | usize::from(be16(record, 2)?);
        let body = record.get(4..4 + len)?;
        return crate::classify::tls::parse_client_hello(body).ok()?.sni;
    }
    match crate::classify::http::read_request(bytes) {
        crate::classify::http::Head::Request(r) => r.hostname,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sorted_and_capped() {
        let mut e = Evasion::default();
        for p in 0..40 {
            e.note(Technique::Split, 0, Some(p));
        }
        e.note(Technique::Fake, fooling::TTL, Some(3));
        e.note(Technique::Fake, fooling::BADSUM, Some(3));
        e.decoy(Technique::Fake, "a.test".into());
        e.decoy(Technique::Fake, "b.test".into());
        assert_eq!(e.entries[0].technique, Technique::Fake);
        assert_eq!(e.entries[0].packets, vec![3]);
        assert_eq!(
            fooling::names(e.entries[0].fooling).collect::<Vec<_>>(),
            ["badsum", "ttl"]
        );
        assert_eq!(e.entries[0].decoy.as_deref(), Some("a.test"));
        assert_eq!(e.entries[1].packets.len(), MAX_PACKETS);
        assert_eq!(
            Technique::from_name("ip_fragments"),
            Some(Technique::IpFragments)
        );
    }

    #[test]
    fn decoy_names() {
        assert_eq!(
            decoy_name(b"GET / HTTP/1.1\r\nHost: www.decoy.test\r\n\r\n").as_deref(),
            Some("www.decoy.test")
        );
        assert_eq!(decoy_name(&[0u8; 16]), None);
        assert_eq!(decoy_name(&[0x16, 3, 1, 0xff, 0xff, 1]), None);
    }
}
