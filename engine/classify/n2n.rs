//! n2n v1 (n2n 1.x) on any UDP port: every packet starts with the fixed
//! header — version 1, a message type (1 register, 2 deregister, 3 packet,
//! 4 register-ack), the TTL, a sent-by-supernode flag (0 or 1) and the
//! community name (up to 15 printable characters, NUL-terminated, in a
//! 16-byte field) — and is at least [`HEADER`] bytes long.
//!
//! `n2n` at `High` when both directions carry one community name; `Medium`
//! (at the flow's end) for several packets of one direction. Any packet
//! breaking the header refuses the flow. The community name is in the
//! evidence. n2n v2/v3 (not recorded) are not read.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::vpn::{Value, VpnFacts, VpnProtocol};
use super::AppProto;

/// The v1 header: 4 bytes, the 16-byte community, two MACs, two peer
/// addresses and the packet fields (a register message is exactly this).
pub const HEADER: usize = 87;
/// Datagrams read.
pub const MAX_DATAGRAMS: u32 = 12;

/// What an n2n packet showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub community: String,
    pub packets: [u32; 2],
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n2n v1 headers (version 1, message type, community \"{}\") in {} client and {} server packets",
            self.community, self.packets[0], self.packets[1]
        )
    }
}

/// The community name of an n2n v1 packet.
fn community(b: &[u8]) -> Option<&[u8]> {
    if b.len() < HEADER || b[0] != 1 || !(1..=4).contains(&b[1]) || b[3] > 1 {
        return None;
    }
    let field = &b[4..20];
    let end = field.iter().position(|&c| c == 0)?;
    let name = &field[..end];
    (!name.is_empty() && name.iter().all(|c| c.is_ascii_graphic())).then_some(name)
}

/// The n2n v1 dissector.
#[derive(Debug, Default)]
pub struct N2n {
    community: Vec<u8>,
    packets: [u32; 2],
    first: Option<u64>,
    examined: u32,
}

impl N2n {
    fn verdict(&self, confidence: Confidence) -> Verdict {
        Verdict {
            proto: AppProto::N2n,
            confidence,
            found: Findings {
                facts: vec![Fact::Vpn(VpnFacts {
                    protocol: VpnProtocol::N2n,
                    confidence,
                    details: vec![("version", Value::Number(1))],
                })],
                evidence: vec![Evidence {
                    packet: self.first.unwrap_or(0),
                    what: FactClue::N2n(Clue {
                        community: String::from_utf8_lossy(&self.community).into_owned(),
                        packets: self.packets,
                    }),
                }],
                links: Vec::new(),
            },
            more: false,
        }
    }
}

impl Dissector for N2n {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;
    const DEFERRED: bool = true;
    /// Settles only on two packets or more.
    const SETTLES_ONE_DATAGRAM: bool = false;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if community(bytes).is_some() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        N2n::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.examined += 1;
        if self.examined > MAX_DATAGRAMS {
            return Step::Refuse;
        }
        let Some(name) = community(input.bytes) else {
            return Step::Refuse;
        };
        if self.community.is_empty() {
            self.community = name.to_vec();
            self.first = Some(input.packet);
        } else if self.community != name {
            return Step::Refuse;
        }
        self.packets[input.side.min(1)] += 1;
        if self.packets.iter().all(|&n| n > 0) {
            return Step::Verdict(self.verdict(Confidence::High));
        }
        Step::NeedMore
    }

    fn settle(&self) -> Option<Verdict> {
        (self.packets[0] + self.packets[1] >= 2).then(|| self.verdict(Confidence::Medium))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header() {
        let mut p = vec![1, 1, 0, 0];
        p.extend(b"siftnet\0\xc0\xec\x7c\xee\x76\x7f\0\0");
        p.resize(HEADER, 0);
        assert_eq!(community(&p), Some(&b"siftnet"[..]));
        let mut q = p.clone();
        q[0] = 2;
        assert_eq!(community(&q), None);
        let mut q = p.clone();
        q[4] = 0;
        assert_eq!(community(&q), None);
        assert_eq!(community(&p[..HEADER - 1]), None);
    }
}
