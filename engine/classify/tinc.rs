//! tinc's meta connection on any TCP port: both sides open with the ID
//! request line `0 <name> <protocol version>` and a newline — the node
//! name (letters, digits, `_`), protocol 17 (tinc 1.0), or `17.<minor>`
//! (tinc 1.1) — before their key exchange (tinc 1.0's METAKEY line `1 ...`,
//! tinc 1.1's SPTPS). `tinc` at `High` when the client's ID line is
//! answered by the server's; `Medium` (at the flow's end) for one side's.
//!
//! The data channel ([`TincUdp`]) is encrypted: tinc 1.0 sends each packet
//! as CBC ciphertext (blocks of 8 or 16 bytes) and a 4-byte MAC, so every
//! datagram's length is 4 more than a multiple of 8. A UDP flow between two
//! hosts whose tinc meta connection came first (a link it left) with
//! [`UDP_DATAGRAMS`] such datagrams is `tinc` at `Medium` when both
//! directions send, `Low` for one; without the meta connection nothing is
//! said.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::links::Link;
use super::registry::Kind;
use super::vpn::{side_name, Value, VpnFacts, VpnProtocol};
use super::AppProto;

/// Longest ID line read.
pub const MAX_LINE: usize = 80;
/// Data-channel datagrams needed.
pub const UDP_DATAGRAMS: u32 = 3;

/// What a tinc stream showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub side: usize,
    pub minor: Option<u8>,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tinc ID request line from the {}: \"0 <node name> 17",
            side_name(self.side)
        )?;
        if let Some(m) = self.minor {
            write!(f, ".{m}")?;
        }
        f.write_str("\"")
    }
}

/// The ID line at the start of `b`: `Ok(Some(minor))` when whole (minor
/// version for tinc 1.1), `Ok(None)` when it may still be completed.
fn id_line(b: &[u8]) -> Result<Option<Option<u8>>, ()> {
    let Some(end) = b.iter().take(MAX_LINE).position(|&c| c == b'\n') else {
        let prefix_ok = b.first().is_none_or(|&c| c == b'0')
            && b.get(1).is_none_or(|&c| c == b' ')
            && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ');
        return if prefix_ok && b.len() < MAX_LINE {
            Ok(None)
        } else {
            Err(())
        };
    };
    let line = std::str::from_utf8(&b[..end]).map_err(|_| ())?;
    let mut parts = line.split(' ');
    let (Some("0"), Some(name), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(());
    };
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(());
    }
    match version.split_once('.') {
        None if version == "17" => Ok(Some(None)),
        Some(("17", minor)) => minor.parse::<u8>().map(|m| Some(Some(m))).map_err(|_| ()),
        _ => Err(()),
    }
}

/// The tinc meta-connection dissector.
#[derive(Debug, Default)]
pub struct Tinc {
    buf: [Vec<u8>; 2],
    seen: [Option<(Option<u8>, u64)>; 2],
}

impl Tinc {
    fn verdict(&self, confidence: Confidence) -> Verdict {
        let minor = self.seen.iter().flatten().find_map(|(m, _)| *m);
        let version = if minor.is_some() { "1.1" } else { "1.0" };
        let evidence = self
            .seen
            .iter()
            .enumerate()
            .filter_map(|(side, s)| {
                s.map(|(minor, packet)| Evidence {
                    packet,
                    what: FactClue::Tinc(Clue { side, minor }),
                })
            })
            .collect();
        Verdict {
            proto: AppProto::Tinc,
            confidence,
            found: Findings {
                facts: vec![Fact::Vpn(VpnFacts {
                    protocol: VpnProtocol::Tinc,
                    confidence,
                    details: vec![("version", Value::Text(version))],
                })],
                evidence,
                links: Vec::new(),
            },
            more: false,
        }
    }
}

impl Dissector for Tinc {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if id_line(bytes).is_ok() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Tinc::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side.min(1);
        if self.seen[side].is_some() {
            return Step::NeedMore;
        }
        let buf = &mut self.buf[side];
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&input.bytes[..input.bytes.len().min(room)]);
        match id_line(buf) {
            Err(()) => Step::Refuse,
            Ok(None) => Step::NeedMore,
            Ok(Some(minor)) => {
                self.seen[side] = Some((minor, input.packet));
                self.buf[side] = Vec::new();
                if self.seen.iter().all(Option::is_some) {
                    let mut v = self.verdict(Confidence::High);
                    v.found.links.push(Link {
                        kind: Kind::Tinc,
                        value: 0,
                        packet: input.packet,
                    });
                    Step::Verdict(v)
                } else {
                    Step::NeedMore
                }
            }
        }
    }

    fn settle(&self) -> Option<Verdict> {
        self.seen
            .iter()
            .any(Option::is_some)
            .then(|| self.verdict(Confidence::Medium))
    }
}

/// Whole CBC blocks and a 4-byte MAC.
fn sealed(len: usize) -> bool {
    len >= 20 && len % 8 == 4
}

/// tinc's UDP data channel, after its meta connection.
#[derive(Debug, Default)]
pub struct TincUdp {
    packets: [u32; 2],
    meta: Option<u64>,
}

impl TincUdp {
    fn verdict(&self) -> Option<Verdict> {
        let total = self.packets[0] + self.packets[1];
        let meta = self.meta?;
        if total < UDP_DATAGRAMS {
            return None;
        }
        let confidence = if self.packets.iter().all(|&n| n > 0) {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        Some(Verdict {
            proto: AppProto::Tinc,
            confidence,
            found: Findings {
                facts: vec![Fact::Vpn(VpnFacts {
                    protocol: VpnProtocol::Tinc,
                    confidence,
                    details: vec![("channel", Value::Text("data"))],
                })],
                evidence: vec![Evidence {
                    packet: meta,
                    what: FactClue::TincData(DataClue {
                        meta,
                        packets: self.packets,
                    }),
                }],
                links: Vec::new(),
            },
            more: false,
        })
    }
}

/// What a tinc data channel showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataClue {
    pub meta: u64,
    pub packets: [u32; 2],
}

impl fmt::Display for DataClue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "after a tinc meta connection between the same hosts (packet {}), {} client and {} server datagrams of CBC blocks + 4-byte MAC (length 4 mod 8)",
            self.meta, self.packets[0], self.packets[1]
        )
    }
}

impl Dissector for TincUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;
    const DEFERRED: bool = true;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if sealed(bytes.len()) {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        TincUdp::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if self.meta.is_none() {
            self.meta = input
                .links
                .iter()
                .rev()
                .find(|l| l.kind == Kind::Tinc)
                .map(|l| l.packet);
        }
        if self.meta.is_none() || !sealed(input.bytes.len()) {
            return Step::Refuse;
        }
        self.packets[input.side.min(1)] += 1;
        let both = self.packets.iter().all(|&n| n > 0);
        if both && self.packets[0] + self.packets[1] >= UDP_DATAGRAMS {
            if let Some(v) = self.verdict() {
                return Step::Verdict(v);
            }
        }
        Step::NeedMore
    }

    fn settle(&self) -> Option<Verdict> {
        self.verdict()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8], side: usize) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 3,
            first: true,
            client_from: None,
            ts: 0,
            links: &[],
        }
    }

    #[test]
    fn id_lines_both_ways() {
        let mut t = Tinc::start();
        assert_eq!(Tinc::probe(b"0 cli", 0), Probe::Maybe);
        assert_eq!(t.feed(&input(b"0 cli 17\n", 0)), Step::NeedMore);
        let Step::Verdict(v) = t.feed(&input(b"0 srv 17\n1 429 672 0 0 4D83", 1)) else {
            panic!()
        };
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(id_line(b"0 a-b 17\n"), Err(()));
        assert_eq!(id_line(b"0 node 17.7\n"), Ok(Some(Some(7))));
        assert_eq!(id_line(b"0 node 18\n"), Err(()));
        assert_eq!(Tinc::probe(b"GET / HTTP/1.1\r\n", 0), Probe::No);
    }

    #[test]
    fn data_channel_needs_the_meta_connection() {
        let d = [0u8; 84];
        let mut u = TincUdp::start();
        assert_eq!(u.feed(&input(&d, 0)), Step::Refuse);
        let links = [Link {
            kind: Kind::Tinc,
            value: 0,
            packet: 5,
        }];
        let with = |side| Input {
            ports: [0, 0],
            fingerprints: true,
            links: &links,
            ..input(&d, side)
        };
        let mut u = TincUdp::start();
        assert_eq!(u.feed(&with(0)), Step::NeedMore);
        assert_eq!(u.feed(&with(0)), Step::NeedMore);
        let Step::Verdict(v) = u.feed(&with(1)) else {
            panic!()
        };
        assert_eq!(v.confidence, Confidence::Medium);
        // A length that is not blocks + MAC refuses.
        assert_eq!(
            u.feed(&Input {
                ports: [0, 0],
                fingerprints: true,
                links: &links,
                ..input(&d[..80], 0)
            }),
            Step::Refuse
        );
    }
}
