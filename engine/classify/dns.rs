//! DNS messages (RFC 1035): the query name and type of a query or response,
//! over UDP (one message per datagram) or TCP (each message behind a 2-byte
//! length), on any port.
//!
//! A payload is taken as DNS only when its header and first question are
//! well formed: a known opcode, the Z bit clear, one to four questions,
//! record counts a message of this size can hold, a name of valid labels
//! (≤ 63 bytes each, ≤ 255 in all, compression pointers only backwards)
//! ending inside the message, and a query class of IN, CH, HS, NONE or ANY
//! (mDNS's unicast-response bit allowed). Names are lowercased and stored
//! without the trailing dot; bytes that are not printable ASCII are kept as
//! `\DDD` escapes so a name is never silently altered.

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{Clue, Evidence, Fact};
use super::AppProto;
use crate::bytes::be16;
use crate::flow::TO_SERVER;

/// Which protocol of the DNS message format a message belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    #[default]
    Dns,
    /// Multicast DNS: DNS messages on UDP port 5353 (RFC 6762).
    Mdns,
    /// LLMNR: DNS messages on port 5355 (RFC 4795).
    Llmnr,
    /// NetBIOS Name Service: RFC 1002's variant of the format, names
    /// first-level encoded ([`super::nbns`]).
    Nbns,
}

impl Dialect {
    /// The dialect of a DNS message on a flow with these ports (the
    /// client's, the server's): the port a protocol is defined on names it.
    pub fn of_ports(ports: [u16; 2]) -> Dialect {
        if ports.contains(&MDNS_PORT) {
            Dialect::Mdns
        } else if ports.contains(&LLMNR_PORT) {
            Dialect::Llmnr
        } else {
            Dialect::Dns
        }
    }

    pub fn proto(self) -> AppProto {
        match self {
            Dialect::Dns => AppProto::Dns,
            Dialect::Mdns => AppProto::Mdns,
            Dialect::Llmnr => AppProto::Llmnr,
            Dialect::Nbns => AppProto::Nbns,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Dns => "DNS",
            Dialect::Mdns => "mDNS",
            Dialect::Llmnr => "LLMNR",
            Dialect::Nbns => "NetBIOS name service",
        }
    }
}

/// mDNS's port (RFC 6762 §3).
pub const MDNS_PORT: u16 = 5353;
/// LLMNR's port (RFC 4795 §2.5).
pub const LLMNR_PORT: u16 = 5355;

/// What a DNS message asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    pub id: u16,
    pub response: bool,
    pub opcode: u8,
    pub rcode: u8,
    /// The first question's name, lowercase, no trailing dot ("" for the root).
    pub rrname: String,
    pub rrtype: u16,
    pub rrclass: u16,
    pub answers: u16,
    pub dialect: Dialect,
}

impl DnsQuestion {
    /// The record type's mnemonic in this dialect ([`type_name`], or
    /// NetBIOS's own); `None`: EVE gets the number.
    pub fn type_name(&self) -> Option<&'static str> {
        match self.dialect {
            Dialect::Nbns => super::nbns::type_name(self.rrtype),
            _ => type_name(self.rrtype),
        }
    }
}

/// Largest DNS message considered (TCP allows 65,535; EDNS UDP rarely 4,096).
const MAX_MESSAGE: usize = 65_535;

/// Parses a DNS message (UDP payload, or a TCP message after its length).
pub fn parse(msg: &[u8]) -> Option<DnsQuestion> {
    parse_questions(msg, 4)
}

/// Questions an mDNS or LLMNR message may carry (a browser asks for
/// several services at once; RFC 6762 §5.3).
const MAX_LOCAL_QUESTIONS: u16 = 64;

/// [`parse`], with up to `max_qd` questions (the first is read).
fn parse_questions(msg: &[u8], max_qd: u16) -> Option<DnsQuestion> {
    if msg.len() < 17 || msg.len() > MAX_MESSAGE {
        return None;
    }
    let flags = be16(msg, 2)?;
    let response = flags & 0x8000 != 0;
    let opcode = ((flags >> 11) & 0x0f) as u8;
    let z = flags & 0x0040 != 0;
    let rcode = (flags & 0x000f) as u8;
    // QUERY, IQUERY, STATUS, NOTIFY, UPDATE.
    if z || !matches!(opcode, 0 | 1 | 2 | 4 | 5) {
        return None;
    }
    let qd = be16(msg, 4)?;
    let an = be16(msg, 6)?;
    let ns = be16(msg, 8)?;
    let ar = be16(msg, 10)?;
    if !(1..=max_qd).contains(&qd) {
        return None;
    }
    // Every record takes at least 11 bytes (root name, type, class, TTL, length).
    let records = usize::from(an) + usize::from(ns) + usize::from(ar);
    if 12 + 5 * usize::from(qd) + 11 * records > msg.len() {
        return None;
    }
    if !response && rcode != 0 {
        return None;
    }
    let (rrname, end) = read_name(msg, 12)?;
    let rrtype = be16(msg, end)?;
    let rrclass = be16(msg, end + 2)?;
    if !matches!(rrclass & 0x7fff, 1 | 3 | 4 | 254 | 255) {
        return None;
    }
    Some(DnsQuestion {
        id: be16(msg, 0)?,
        response,
        opcode,
        rcode,
        rrname,
        rrtype,
        rrclass,
        answers: an,
        dialect: Dialect::Dns,
    })
}

/// Parses a response without a question, as mDNS announces (RFC 6762
/// §6): the first answer's name, type and class stand for the question.
/// The header is held to what a response must be (QR set, opcode QUERY,
/// no question, one to 255 answers), the record to a well-formed name,
/// class IN (cache-flush bit allowed) and an rdata inside the message.
pub fn parse_announcement(msg: &[u8]) -> Option<DnsQuestion> {
    if msg.len() < 12 + 11 || msg.len() > MAX_MESSAGE {
        return None;
    }
    let flags = be16(msg, 2)?;
    let (qd, an) = (be16(msg, 4)?, be16(msg, 6)?);
    if flags & 0xf840 != 0x8000 || qd != 0 || !(1..=255).contains(&an) {
        return None;
    }
    let (rrname, end) = read_name(msg, 12)?;
    let rrtype = be16(msg, end)?;
    let rrclass = be16(msg, end + 2)?;
    let rdlen = usize::from(be16(msg, end + 8)?);
    if rrclass & 0x7fff != 1 || end + 10 + rdlen > msg.len() {
        return None;
    }
    Some(DnsQuestion {
        id: be16(msg, 0)?,
        response: true,
        opcode: 0,
        rcode: (flags & 0x000f) as u8,
        rrname,
        rrtype,
        rrclass,
        answers: an,
        dialect: Dialect::Dns,
    })
}

/// `\ddd`, as dig writes a byte of a name that is not a printable
/// character (or would be misread: `.`, `\`).
pub(super) fn push_escape(name: &mut String, c: u8) {
    escaped(c).iter().for_each(|&b| name.push(char::from(b)));
}

/// `\DDD`: byte `c` in decimal, the way names print bytes that are not
/// printable ASCII (and `.` or `\` inside a label).
fn escaped(c: u8) -> [u8; 4] {
    [b'\\', b'0' + c / 100, b'0' + c / 10 % 10, b'0' + c % 10]
}

/// Reads a (possibly compressed) name at `at`; returns it and the offset
/// after it in the message.
fn read_name(msg: &[u8], at: usize) -> Option<(String, usize)> {
    // Most names fit: one allocation instead of a growth per few labels.
    // Built as bytes: everything pushed is ASCII (escapes included).
    let mut name: Vec<u8> = Vec::with_capacity(64);
    let end = walk_name(msg, at, &mut name)?;
    Some((String::from_utf8(name).ok()?, end))
}

/// Whether the message's first question (or, in an mDNS announcement, its
/// first answer) names `name` as [`parse`] would write it: decided in
/// place, nothing allocated. False when the name is malformed.
pub fn question_is(msg: &[u8], name: &str) -> bool {
    let mut rest = Expect(name.as_bytes());
    walk_name(msg, 12, &mut rest).is_some() && rest.0.is_empty()
}

/// Where [`walk_name`] puts a name's text, piece by piece.
trait NameSink {
    /// Adds `bytes` as they are; false stops the walk.
    fn add(&mut self, bytes: &[u8]) -> bool;
    /// Adds a label as a name's text writes it: lowercased, bytes that are
    /// not printable or would be misread escaped ([`add_escaped`]); false
    /// stops the walk.
    fn add_label(&mut self, label: &[u8]) -> bool;
}

/// A label byte written as it is (lowercased): printable, not a dot or a
/// backslash.
#[inline]
const fn is_plain(c: u8) -> bool {
    c > b' ' && c <= b'~' && c != b'.' && c != b'\\'
}

/// Each label byte as a name's text writes it when it stands for itself:
/// lowercased; 0 for a byte that is written escaped (no text holds a 0).
/// One load a byte, where testing and lowercasing took a dozen operations.
static TEXT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if is_plain(b) {
            t[c] = b.to_ascii_lowercase();
        }
        c += 1;
    }
    t
};

/// A label with bytes to escape, byte by byte.
fn add_escaped<S: NameSink + ?Sized>(sink: &mut S, label: &[u8]) -> bool {
    label.iter().all(|&c| match TEXT[usize::from(c)] {
        0 => sink.add(&escaped(c)),
        t => sink.add(&[t]),
    })
}

impl NameSink for Vec<u8> {
    fn add(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }

    #[inline]
    fn add_label(&mut self, label: &[u8]) -> bool {
        // Most labels need no escape: written in one pass, which notes
        // any byte that does; such a label is written again, escaped.
        let from = self.len();
        let mut escape = false;
        self.extend(label.iter().map(|&c| {
            let t = TEXT[usize::from(c)];
            escape |= t == 0;
            t
        }));
        if escape {
            self.truncate(from);
            return add_escaped(self, label);
        }
        true
    }
}

/// The text a name must have, consumed as the walk matches it.
struct Expect<'a>(&'a [u8]);

impl NameSink for Expect<'_> {
    fn add(&mut self, bytes: &[u8]) -> bool {
        match self.0.strip_prefix(bytes) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// Whether the label is plain and whether it is the text wanted, in
    /// one pass (a repeated question's labels are all plain and equal).
    fn add_label(&mut self, label: &[u8]) -> bool {
        // Escaped, a label is only longer: it cannot fit either.
        let Some((want, rest)) = self.0.split_at_checked(label.len()) else {
            return false;
        };
        let (plain, same) = label
            .iter()
            .zip(want)
            .fold((true, true), |(p, s), (&c, &w)| {
                let t = TEXT[usize::from(c)];
                (p & (t != 0), s & (t == w))
            });
        if plain {
            self.0 = rest;
            same
        } else {
            add_escaped(self, label)
        }
    }
}

/// Walks a (possibly compressed) name at `at`, giving its text to `sink`
/// (labels lowercased, joined by dots, bytes that are not printable or
/// would be misread escaped); returns the offset after it in the message.
/// None when the name is malformed or the sink stopped the walk.
fn walk_name(msg: &[u8], mut at: usize, sink: &mut impl NameSink) -> Option<usize> {
    let mut end = None;
    let mut total = 0usize;
    let mut started = false;
    // Each pointer must go strictly backwards, so this terminates; the bound
    // is a second guard.
    let mut hops = 0;
    loop {
        let len = *msg.get(at)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Some(end.unwrap_or(at + 1));
                }
                let label = msg.get(at + 1..at + 1 + usize::from(len))?;
                total += usize::from(len) + 1;
                if total > 255 {
                    return None;
                }
                if started && !sink.add(b".") {
                    return None;
                }
                started = true;
                if !sink.add_label(label) {
                    return None;
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let ptr = usize::from(be16(msg, at)? & 0x3fff);
                if ptr >= at || hops > 64 {
                    return None;
                }
                end.get_or_insert(at + 2);
                at = ptr;
                hops += 1;
            }
            _ => return None, // extended label types: not in use
        }
    }
}

/// The mnemonic of a record type, as IANA's "Resource Record (RR) TYPEs"
/// registry spells it ("A", "AAAA", "NULL", "SSHFP", ...; 255 as "ANY",
/// the way EVE writes it); `None` for unassigned and private-use numbers
/// (EVE then gets the number).
pub fn type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        66 => "DSYNC",
        67 => "HHIT",
        68 => "BRID",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        128 => "NXNAME",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        261 => "RESINFO",
        262 => "WALLET",
        263 => "CLA",
        264 => "IPN",
        32768 => "TA",
        32769 => "DLV",
        _ => return None,
    })
}

/// Can `msg` start a DNS message: a header with a known opcode, the Z bit
/// clear and one to 64 questions (four for DNS, more for mDNS)? (The first
/// look; [`parse`] decides.)
fn header_fits(msg: &[u8]) -> bool {
    let Some(flags) = be16(msg, 2) else {
        return false;
    };
    let opcode = (flags >> 11) & 0x0f;
    msg.len() >= 17
        && flags & 0x0040 == 0
        && matches!(opcode, 0 | 1 | 2 | 4 | 5)
        && be16(msg, 4).is_some_and(|qd| (1..=MAX_LOCAL_QUESTIONS).contains(&qd))
}

/// A DNS verdict on `q` (in its dialect), shown by `clue` in packet
/// `packet`.
pub(super) fn verdict(q: DnsQuestion, packet: u64, clue: Clue) -> Step {
    Step::Verdict(Verdict {
        proto: q.dialect.proto(),
        confidence: Confidence::High,
        found: Findings {
            facts: vec![Fact::Dns(Box::new(q))],
            evidence: vec![Evidence { packet, what: clue }],
            links: Vec::new(),
        },
        more: false,
    })
}

/// DNS over UDP: one message per datagram.
#[derive(Debug, Default)]
pub struct DnsUdp;

impl Dissector for DnsUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachMessage;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        // Or an answer without a question (mDNS announces so).
        let announcement = || {
            be16(bytes, 2).is_some_and(|f| f & 0xf840 == 0x8000)
                && be16(bytes, 4) == Some(0)
                && be16(bytes, 6).is_some_and(|an| (1..=255).contains(&an))
        };
        if header_fits(bytes) || announcement() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        DnsUdp
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let dialect = Dialect::of_ports(input.ports);
        let q = match dialect {
            Dialect::Dns => parse(input.bytes),
            _ => parse_questions(input.bytes, MAX_LOCAL_QUESTIONS)
                .or_else(|| parse_announcement(input.bytes)),
        };
        match q {
            Some(q) if dialect == Dialect::Dns => {
                let response = q.response;
                verdict(q, input.packet, Clue::DnsDatagram { response })
            }
            Some(mut q) => {
                q.dialect = dialect;
                let clue = Clue::DnsDialect {
                    dialect,
                    response: q.response,
                };
                verdict(q, input.packet, clue)
            }
            None => Step::Refuse,
        }
    }
}

/// Largest DNS-over-TCP message read (length prefix included).
const TCP_MESSAGE: usize = 4096;

/// DNS over TCP: the client's first message, behind its 2-byte length, or
/// the server's when the client's side was not seen (a capture holding only
/// the responses).
#[derive(Debug, Default)]
pub struct DnsTcp {
    /// Each side's first bytes, up to [`TCP_MESSAGE`].
    bufs: [Vec<u8>; 2],
}

impl DnsTcp {
    /// A plausible length prefix (a question's worth to what is buffered).
    fn length_fits(b: &[u8]) -> Option<bool> {
        let len = usize::from(be16(b, 0)?);
        Some((17..=TCP_MESSAGE - 2).contains(&len))
    }
}

impl Dissector for DnsTcp {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        // A server's first message must be a response (QR set).
        let fits = Self::length_fits(bytes) != Some(false)
            && (side == TO_SERVER || bytes.get(4).is_none_or(|f| f & 0x80 != 0));
        if fits {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        // The server's message decides only when the client sent nothing.
        if !input.from_client() && input.client_from.is_some() {
            return if self.bufs[TO_SERVER].is_empty() {
                Step::Refuse
            } else {
                Step::NeedMore
            };
        }
        let buf = &mut self.bufs[input.side];
        if input.first {
            buf.clear();
        } else if buf.is_empty() {
            // This side did not open with DNS.
            return Step::NeedMore;
        }
        let room = TCP_MESSAGE.saturating_sub(buf.len());
        buf.extend_from_slice(&input.bytes[..input.bytes.len().min(room)]);
        match Self::length_fits(buf) {
            None => Step::NeedMore,
            Some(false) if input.from_client() => Step::Refuse,
            Some(false) => {
                buf.clear();
                Step::NeedMore
            }
            Some(true) => {
                let len = usize::from(be16(buf, 0).unwrap_or(0));
                let Some(msg) = buf.get(2..2 + len) else {
                    return Step::NeedMore;
                };
                match parse(msg) {
                    Some(q) if input.from_client() => {
                        verdict(q, input.packet, Clue::DnsOverTcp { len: 2 + len })
                    }
                    Some(q) if q.response => {
                        verdict(q, input.packet, Clue::DnsOverTcpResponse { len: 2 + len })
                    }
                    _ if input.from_client() => Step::Refuse,
                    _ => {
                        buf.clear();
                        Step::NeedMore
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::wireguard::controls::XorShift;

    /// The DNS query of frame 1 of the nDPI corpus' dns_ambiguous_names.pcap
    /// (UDP payload): A? 41-courier.push.apple.com, with an EDNS OPT record.
    const QUERY: &[u8] = &[
        0x66, 0x31, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x34, 0x31,
        0x2d, 0x63, 0x6f, 0x75, 0x72, 0x69, 0x65, 0x72, 0x04, 0x70, 0x75, 0x73, 0x68, 0x05, 0x61,
        0x70, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn real_query() {
        let q = parse(QUERY).unwrap();
        assert_eq!(q.rrname, "41-courier.push.apple.com");
        assert_eq!(
            (q.rrtype, q.rrclass, q.response, q.id),
            (1, 1, false, 0x6631)
        );
    }

    #[test]
    fn uppercase_is_folded_and_odd_bytes_escaped() {
        let mut m = QUERY.to_vec();
        m[13] = b'X';
        m[14] = 0x07;
        let q = parse(&m).unwrap();
        assert!(q.rrname.starts_with("x\\007-courier."), "{}", q.rrname);
        m[15] = 0xff;
        m[16] = b'.';
        m[17] = b'\\';
        let q = parse(&m).unwrap();
        assert!(
            q.rrname.starts_with("x\\007\\255\\046\\092urier."),
            "{}",
            q.rrname
        );
    }

    /// Every byte value of a label is written as the format says: printable
    /// ASCII but `.` and `\` as itself (lowercased), any other byte as
    /// `\DDD`; read and compared in place alike.
    #[test]
    fn every_byte_is_written_as_itself_or_escaped() {
        for c in 0..=255u8 {
            let mut m = QUERY[..12].to_vec();
            m.extend_from_slice(&[3, b'a', c, b'Z', 0]);
            let want = match c {
                b'!'..=b'~' if c != b'.' && c != b'\\' => {
                    format!("a{}z", char::from(c.to_ascii_lowercase()))
                }
                _ => format!("a\\{c:03}z"),
            };
            let read = read_name(&m, 12).map(|(n, _)| n);
            assert_eq!(read.as_deref(), Some(want.as_str()), "{c}");
            assert!(question_is(&m, &want), "{c}");
            assert!(!question_is(&m, &want.to_uppercase()) || want == want.to_uppercase());
        }
    }

    /// A name compared in place agrees with the name read, whatever the
    /// case, escapes or compression, and nothing else is taken for it.
    #[test]
    fn question_compared_in_place() {
        assert!(question_is(QUERY, "41-courier.push.apple.com"));
        for other in [
            "41-courier.push.apple.co",
            "41-courier.push.apple.comm",
            "41-courier.push.apple",
            "41-courier.push.apple.com.",
            "41-courier.push.apple.net",
            "x1-courier.push.apple.com",
            "41-COURIER.push.apple.com",
            "",
        ] {
            assert!(!question_is(QUERY, other), "{other}");
        }
        let mut m = QUERY.to_vec();
        m[13] = b'X';
        m[14] = 0x07;
        m[15] = 0xff;
        m[16] = b'.';
        m[17] = b'\\';
        let read = parse(&m).unwrap().rrname;
        assert!(question_is(&m, &read), "{read}");
        assert!(!question_is(&m, &read.replace("\\255", "\\254")));
        // Mixed case folded; a later name pointing back at the question's
        // labels is compared through the pointer.
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[3, b'W', b'w', b'W', 4, b'p', b'u', b's', b'h', 0]);
        assert!(question_is(&m, "www.push"));
        assert!(!question_is(&m, "www"));
        assert_eq!(
            read_name(&m, 12).map(|(n, _)| n).as_deref(),
            Some("www.push")
        );
        let mut c = m.clone();
        let at = c.len();
        c.extend_from_slice(&[1, b'a', 0xc0, 12]);
        let mut e = Expect(b"a.www.push");
        assert!(walk_name(&c, at, &mut e).is_some() && e.0.is_empty());
        let mut e = Expect(b"a.www.pus");
        assert!(walk_name(&c, at, &mut e).is_none());
    }

    /// Mutated messages: whenever one reads, its name compared in place
    /// is that name and not a longer or shorter one.
    #[test]
    fn question_in_place_agrees_with_reading_under_mutation() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut rnd = move || rng.next();
        let mut read = 0;
        for _ in 0..50_000 {
            let mut m = QUERY.to_vec();
            for _ in 0..1 + rnd() % 3 {
                let at = 12 + (rnd() as usize) % (m.len() - 12);
                m[at] = match rnd() % 4 {
                    0 => rnd() as u8,
                    1 => b'A' + (rnd() % 26) as u8,
                    2 => 0xc0,
                    _ => (rnd() % 12) as u8,
                };
            }
            if let Some(q) = parse(&m).or_else(|| parse_announcement(&m)) {
                read += 1;
                assert!(question_is(&m, &q.rrname), "{m:?}");
                assert!(!question_is(&m, &format!("{}a", q.rrname)), "{m:?}");
                if !q.rrname.is_empty() {
                    assert!(!question_is(&m, &q.rrname[..q.rrname.len() - 1]), "{m:?}");
                }
            }
        }
        assert!(read > 1_000, "{read}");
    }

    #[test]
    fn response_with_compression_in_question_is_refused_forward() {
        let mut m = QUERY[..12].to_vec();
        m.extend_from_slice(&[0xc0, 0x20, 0, 1, 0, 1]);
        m.resize(40, 0);
        assert_eq!(parse(&m), None, "a pointer forward");
    }

    #[test]
    fn random_bytes_are_not_dns() {
        let mut x: u32 = 12345;
        let mut hits = 0;
        for _ in 0..20_000 {
            let mut b = [0u8; 64];
            for v in b.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *v = x as u8;
            }
            if parse(&b).is_some() {
                hits += 1;
            }
        }
        assert!(hits < 5, "{hits} random payloads taken as DNS");
    }

    #[test]
    fn every_truncation_is_safe() {
        for n in 0..QUERY.len() {
            let _ = parse(&QUERY[..n]);
        }
        assert_eq!(type_name(28), Some("AAAA"));
    }

    #[test]
    fn iana_type_names() {
        let named = [
            (10, "NULL"),
            (44, "SSHFP"),
            (23, "NSAP-PTR"),
            (99, "SPF"),
            (251, "IXFR"),
            (256, "URI"),
            (32769, "DLV"),
        ];
        for (t, name) in named {
            assert_eq!(type_name(t), Some(name), "type {t}");
        }
        // Unassigned and private use: the number.
        for t in [54, 69, 98, 110, 248, 265, 65280, 65535] {
            assert_eq!(type_name(t), None, "type {t}");
        }
    }
}
