//! iodine (IP over DNS) on a DNS flow: the flow stays `dns`, and
//! `vpn.protocol: "iodine"` is added once iodine's own handshake is proven:
//! a version query (a first label starting with `v`, in a NULL or PRIVATE
//! query) answered by the same message id with a NULL record whose data
//! starts with iodine's `VACK`, `VNAK` or `VFUL`.
//!
//! The dissector runs ahead of the DNS one on flows whose first datagram is
//! a NULL (10) or PRIVATE (65399) query — types ordinary resolvers hardly
//! ask — and gives exactly the DNS dissector's verdict on it (so the flow's
//! DNS record is unchanged), then reads on for the reply window
//! ([`super::state::REPLY_PACKETS`] packets) looking for the handshake.
//! Other DNS tunnels are not recognised.

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::dns::{self, DnsUdp};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::vpn::{Value, VpnFacts, VpnProtocol};
use crate::bytes::be16;

const NULL: u16 = 10;
const PRIVATE: u16 = 65399;
/// Datagrams read after the first.
const MAX_DATAGRAMS: u32 = 16;

/// What an iodine handshake showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    /// The server's answer: VACK, VNAK or VFUL.
    pub answer: &'static str,
    /// The packet of the version query.
    pub query: u64,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "iodine version handshake: the query of packet {} (first label 'v...') answered with a NULL record starting {}",
            self.query, self.answer
        )
    }
}

/// Skips a (possibly compressed) name at `at`; the offset after it.
fn skip_name(b: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = *b.get(at)?;
        match len {
            0 => return Some(at + 1),
            0xc0..=0xff => return Some(at + 2),
            1..=63 => at += 1 + usize::from(len),
            _ => return None,
        }
    }
    None
}

/// The data of the first answer record of a response, if it is NULL.
fn null_answer(b: &[u8]) -> Option<&[u8]> {
    let at = skip_name(b, 12)? + 4;
    let at = skip_name(b, at)?;
    if be16(b, at)? != NULL {
        return None;
    }
    let len = usize::from(be16(b, at + 8)?);
    b.get(at + 10..at + 10 + len)
}

/// The first label of the question starts with `v` (iodine's version
/// command).
fn version_query(b: &[u8]) -> bool {
    b.get(12).is_some_and(|&l| (1..=63).contains(&l)) && matches!(b.get(13), Some(b'v' | b'V'))
}

/// The iodine dissector.
#[derive(Debug, Default)]
pub struct Iodine {
    decided: bool,
    query: Option<(u16, u64)>,
    seen: u32,
}

impl Iodine {
    fn look(&mut self, input: &Input<'_>) -> Option<Findings> {
        let q = dns::parse(input.bytes)?;
        if !q.response {
            if matches!(q.rrtype, NULL | PRIVATE) && version_query(input.bytes) {
                self.query = Some((q.id, input.packet));
            }
            return None;
        }
        let (id, packet) = self.query?;
        if q.id != id {
            return None;
        }
        let data = null_answer(input.bytes)?;
        let answer = [&b"VACK"[..], b"VNAK", b"VFUL"]
            .into_iter()
            .find(|a| data.starts_with(a))?;
        let answer = std::str::from_utf8(answer).unwrap_or("VACK");
        let answer = match answer {
            "VACK" => "VACK",
            "VNAK" => "VNAK",
            _ => "VFUL",
        };
        Some(Findings {
            facts: vec![Fact::Vpn(VpnFacts {
                protocol: VpnProtocol::Iodine,
                confidence: Confidence::High,
                details: vec![("carrier", Value::Text("dns"))],
            })],
            evidence: vec![Evidence {
                packet: input.packet,
                what: FactClue::Iodine(Clue {
                    answer,
                    query: packet,
                }),
            }],
            links: Vec::new(),
        })
    }
}

impl Dissector for Iodine {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachMessage;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        match dns::parse(bytes) {
            Some(q) if !q.response && matches!(q.rrtype, NULL | PRIVATE) => Probe::Yes,
            _ => Probe::No,
        }
    }

    fn start() -> Self {
        Iodine::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if !self.decided {
            // Exactly the DNS dissector's verdict, read on afterwards.
            let Step::Verdict(mut v) = DnsUdp.feed(input) else {
                return Step::Refuse;
            };
            self.decided = true;
            let _ = self.look(input);
            v.more = true;
            return Step::Verdict(v);
        }
        self.seen += 1;
        match self.look(input) {
            Some(found) => Step::Facts { found, more: false },
            None if self.seen >= MAX_DATAGRAMS => Step::Facts {
                found: Findings::default(),
                more: false,
            },
            None => Step::NeedMore,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// iodine-dns-mode.pcap frame 4: the server's VACK answer.
    const VACK: &str = "d564840000010001000000000b76616161616b61766233650174076578616d706c65047465737400000a0001c00c000a00010000000000095641434b3bb6f14400";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn vack_answer_read() {
        let b = hex(VACK);
        assert_eq!(null_answer(&b).map(|d| &d[..4]), Some(&b"VACK"[..]));
        assert!(version_query(&b));
        let mut d = Iodine::start();
        d.decided = true;
        d.query = Some((0xd564, 3));
        let input = Input {
            ports: [0, 0],
            fingerprints: true,
            bytes: &b,
            side: 1,
            packet: 4,
            first: false,
            client_from: None,
            ts: 0,
            links: &[],
        };
        let Step::Facts { found, .. } = d.feed(&input) else {
            panic!()
        };
        assert!(matches!(&found.facts[0], Fact::Vpn(v) if v.protocol == VpnProtocol::Iodine));
    }
}
