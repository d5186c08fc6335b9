//! NetBIOS Name Service (RFC 1001/1002): the name a query, registration,
//! release or refresh is about, decoded from its first-level encoding, over
//! UDP on any port.
//!
//! NBNS reuses the DNS message layout with its own rules, and this module
//! reads only what sets it apart: the name is one 32-byte label of letters
//! `A`..`P` (each half-byte of the 16-byte NetBIOS name plus `A`), maybe
//! followed by the labels of a scope id; the type is NB (0x20) or NBSTAT
//! (0x21) and the class IN; the opcode is one of NBNS's (query,
//! registration, release, WACK, refresh, multi-homed registration) and the
//! two reserved flag bits are clear. A request carries the name as its one
//! question; most responses carry it as their first answer record with no
//! question. Anything else is left to the DNS dissector.
//!
//! The name is written as its 15 characters without the trailing spaces,
//! then the 16th byte (the service suffix) in hex between angle brackets,
//! then the scope: `WORKGROUP<1d>` becomes `workgroup<1d>` (lowercase, as
//! sift writes every name, so rules match it); bytes that are not
//! printable are `\DDD` escapes.

use super::dissector::{Carrier, Dissector, Input, Probe, Probing, Step};
use super::dns::{self, Dialect, DnsQuestion};
use super::facts::Clue;
use crate::bytes::be16;

/// NB: a name's addresses.
pub const TYPE_NB: u16 = 0x0020;
/// NBSTAT: a node's status (its names).
pub const TYPE_NBSTAT: u16 = 0x0021;

/// NBNS's record type names (RFC 1002 §4.2.1.3 and §4.2.1.3's NULL, NS, A).
pub fn type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0x0001 => "A",
        0x0002 => "NS",
        0x000a => "NULL",
        TYPE_NB => "NB",
        TYPE_NBSTAT => "NBSTAT",
        _ => return None,
    })
}

/// Length of the encoded NetBIOS name label.
const ENCODED: usize = 32;

/// Decodes the name at `at`: the 32-byte first-level label, then the scope
/// labels; returns the name as written and the offset after it. Scope
/// labels are held to DNS's limits (63 bytes each, 255 in all).
fn read_name(msg: &[u8], at: usize) -> Option<(String, usize)> {
    if *msg.get(at)? as usize != ENCODED {
        return None;
    }
    let label = msg.get(at + 1..at + 1 + ENCODED)?;
    if !label.iter().all(|c| (b'A'..=b'P').contains(c)) {
        return None;
    }
    let mut raw = [0u8; ENCODED / 2];
    for (r, p) in raw.iter_mut().zip(label.chunks_exact(2)) {
        *r = ((p[0] - b'A') << 4) | (p[1] - b'A');
    }
    let (chars, suffix) = raw.split_at(15);
    let chars = &chars[..chars.iter().rposition(|&c| c != b' ').map_or(0, |e| e + 1)];
    // The name, its suffix and a short scope in one allocation.
    let mut name = String::with_capacity(32);
    for &c in chars {
        push_char(&mut name, c);
    }
    let [hi, lo] = crate::hex::pair(suffix[0]);
    name.extend(['<', char::from(hi), char::from(lo), '>']);
    let mut at = at + 1 + ENCODED;
    let mut total = ENCODED + 1;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len == 0 {
            return Some((name, at + 1));
        }
        if len > 63 {
            return None;
        }
        total += len + 1;
        if total > 255 {
            return None;
        }
        name.push('.');
        for &c in msg.get(at + 1..at + 1 + len)? {
            push_char(&mut name, c);
        }
        at += 1 + len;
    }
}

fn push_char(name: &mut String, c: u8) {
    match c {
        b'A'..=b'Z' => name.push(c.to_ascii_lowercase() as char),
        b'!'..=b'~' if c != b'\\' => name.push(c as char),
        _ => super::dns::push_escape(name, c),
    }
}

/// Parses an NBNS message: the name of its question, or of its first
/// record when it has no question.
pub fn parse(msg: &[u8]) -> Option<DnsQuestion> {
    // Header, the name label, its terminator, type and class.
    if msg.len() < 12 + 1 + ENCODED + 1 + 4 {
        return None;
    }
    let flags = be16(msg, 2)?;
    let response = flags & 0x8000 != 0;
    let opcode = ((flags >> 11) & 0x0f) as u8;
    let rcode = (flags & 0x000f) as u8;
    // Query, registration, release, WACK, refresh (8, and 9 as sent), multi-homed.
    if flags & 0x0060 != 0 || !matches!(opcode, 0 | 5..=9) {
        return None;
    }
    let (qd, an, ns, ar) = (be16(msg, 4)?, be16(msg, 6)?, be16(msg, 8)?, be16(msg, 10)?);
    let records = usize::from(an) + usize::from(ns) + usize::from(ar);
    if qd > 1 || qd == 0 && an == 0 || records > 16 || !response && rcode != 0 {
        return None;
    }
    let (rrname, end) = read_name(msg, 12)?;
    let rrtype = be16(msg, end)?;
    let rrclass = be16(msg, end + 2)?;
    if !matches!(rrtype, TYPE_NB | TYPE_NBSTAT) || rrclass != 1 {
        return None;
    }
    if qd == 0 {
        // A record: TTL and rdata must fit.
        let rdlen = usize::from(be16(msg, end + 8)?);
        if end + 10 + rdlen > msg.len() {
            return None;
        }
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
        dialect: Dialect::Nbns,
    })
}

/// The NBNS dissector: each datagram on its own, like DNS, and ahead of it
/// in the registry (an NBNS message may also parse as DNS).
#[derive(Debug, Default)]
pub struct Nbns;

impl Dissector for Nbns {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachMessage;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        // The encoded label right after the header decides.
        let label = bytes.get(13..13 + ENCODED);
        if bytes.get(12) == Some(&(ENCODED as u8))
            && label.is_some_and(|l| l.iter().all(|c| (b'A'..=b'P').contains(c)))
            && parse(bytes).is_some()
        {
            Probe::Yes
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Nbns
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        match parse(input.bytes) {
            Some(q) => {
                let response = q.response;
                dns::verdict(
                    q,
                    input.packet,
                    Clue::DnsDialect {
                        dialect: Dialect::Nbns,
                        response,
                    },
                )
            }
            None => Step::Refuse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a NetBIOS name (padded with spaces to 15) and suffix.
    fn encode(name: &str, suffix: u8) -> Vec<u8> {
        let mut raw = format!("{name:<15}").into_bytes();
        raw.push(suffix);
        let mut v = vec![32u8];
        for b in raw {
            v.push(b'A' + (b >> 4));
            v.push(b'A' + (b & 15));
        }
        v
    }

    /// A broadcast name query (as Windows sends on UDP 137): WORKGROUP<1d>.
    fn query() -> Vec<u8> {
        let mut m = vec![0x82, 0x28, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&encode("WORKGROUP", 0x1d));
        m.extend_from_slice(&[0, 0, 0x20, 0, 1]);
        m
    }

    #[test]
    fn name_query_is_decoded() {
        let q = parse(&query()).unwrap();
        assert_eq!(q.rrname, "workgroup<1d>");
        assert_eq!((q.rrtype, q.response, q.id), (TYPE_NB, false, 0x8228));
        assert_eq!(q.type_name(), Some("NB"));
        assert_eq!(Nbns::probe(&query(), 0), Probe::Yes);
        // The DNS parser takes it too: that is why NBNS is asked first.
        assert!(dns::parse(&query()).is_some());
    }

    #[test]
    fn wildcard_status_query_and_scope() {
        let mut m = vec![0x00, 0x01, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        let mut name = vec![32u8];
        let mut raw = vec![b'*'];
        raw.resize(16, 0);
        for b in raw {
            name.push(b'A' + (b >> 4));
            name.push(b'A' + (b & 15));
        }
        m.extend_from_slice(&name);
        m.extend_from_slice(&[4, b'C', b'o', b'r', b'p', 0, 0, 0x21, 0, 1]);
        let q = parse(&m).unwrap();
        assert_eq!(
            q.rrname,
            "*\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000<00>.corp"
        );
        assert_eq!(q.type_name(), Some("NBSTAT"));
    }

    #[test]
    fn positive_response_names_its_answer() {
        // Name query response: no question, one NB record with an address.
        let mut m = vec![0x82, 0x28, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&encode("FILESRV", 0x20));
        m.extend_from_slice(&[0, 0, 0x20, 0, 1, 0, 0, 0, 0xa5, 0, 6, 0, 0, 10, 0, 0, 7]);
        let q = parse(&m).unwrap();
        assert_eq!((q.rrname.as_str(), q.response), ("filesrv<20>", true));
        // Its rdata cut: refused.
        assert!(parse(&m[..m.len() - 1]).is_none());
    }

    #[test]
    fn dns_names_and_noise_are_not_nbns() {
        // A DNS query whose label is 32 letters, but lowercase.
        let mut m = query();
        m[13..45].make_ascii_lowercase();
        assert!(parse(&m).is_none());
        // A letter past P.
        let mut m = query();
        m[20] = b'Q';
        assert!(parse(&m).is_none());
        // Another type (A) or class.
        let mut m = query();
        m[47] = 1;
        assert!(parse(&m).is_none());
        let mut x: u32 = 99;
        for _ in 0..20_000 {
            let mut b = [0u8; 64];
            for v in b.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *v = x as u8;
            }
            assert_eq!(Nbns::probe(&b, 0), Probe::No);
        }
        for n in 0..query().len() {
            let _ = parse(&query()[..n]);
        }
    }
}
