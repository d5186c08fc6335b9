//! GRE flows (IP protocol 47) as records of their own: PPTP's enhanced GRE
//! (RFC 2637, version 1) and plain GRE tunnels (RFC 2784/2890, version 0).
//!
//! The decoder opens GRE to the packets it carries (plain GRE's IPv4, IPv6,
//! Ethernet and ERSPAN; PPTP's PPP when it carries clear IP), which are
//! flows of their own; the pipeline also accounts each GRE packet to the
//! flow of its outer endpoints, which this dissector reads.
//!
//! - **Enhanced GRE** (PPTP's data channel): flags exactly K (key), with S
//!   (sequence) and A (acknowledgement) optional, version 1, protocol
//!   0x880b; the key's low 16 bits are the peer's call id and its high 16
//!   bits the payload length, which must be the bytes that follow (or more,
//!   for a capture cut short); an ack-only packet has no payload, others a
//!   PPP frame. `pptp` at `High` when the call id is one a PPTP control
//!   connection between the same two hosts set up (a link left by
//!   [`super::pptp`]); `Medium` without one, for packets both ways, each
//!   direction on one call id; `Low` (at the flow's end) for one direction.
//!   The PPP payload is not opened when it is MPPE-encrypted (PPP protocol
//!   0x00fd), which the decoder leaves to this flow.
//! - **Plain GRE**: reserved bits zero, version 0, protocol IPv4, IPv6,
//!   transparent Ethernet bridging or ERSPAN II, with the checksum right
//!   when present, and the carried packet well formed (an IPv4 header with
//!   a valid checksum, an IPv6 header whose length fits, an Ethernet frame
//!   with IPv4, IPv6 or ARP). `gre` at `High` for such packets both ways,
//!   `Medium` (at the flow's end) one way. Details: what it carries, the
//!   key, and the optional fields present.
//!
//! Any packet that breaks these rules refuses the flow; [`MAX_PACKETS`]
//! packets are read.

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step, Verdict};
use super::facts::{Clue as FactClue, Evidence};
use super::pptp::Clue as PptpClue;
use super::registry::Kind;
use super::vpn::{side_name, Value, VpnDetails, VpnProtocol, VpnVerdict};
use crate::bytes::{be16, be32};

/// Packets read before giving up.
pub const MAX_PACKETS: u32 = 16;

const C: u16 = 0x8000;
const K: u16 = 0x2000;
const S: u16 = 0x1000;
const A: u16 = 0x0080;
const PPP: u16 = 0x880b;

/// What a plain GRE tunnel carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    Ipv4,
    Ipv6,
    Ethernet,
    Erspan,
}

impl Payload {
    fn of(proto: u16) -> Option<Payload> {
        Some(match proto {
            0x0800 => Payload::Ipv4,
            0x86dd => Payload::Ipv6,
            0x6558 => Payload::Ethernet,
            0x88be => Payload::Erspan,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Payload::Ipv4 => "ipv4",
            Payload::Ipv6 => "ipv6",
            Payload::Ethernet => "ethernet",
            Payload::Erspan => "erspan",
        }
    }
}

/// What a plain GRE packet showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub side: usize,
    pub payload: Payload,
    pub key: Option<u32>,
    pub checksum: bool,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GRE version 0 from the {} carrying a well-formed {} packet",
            side_name(self.side),
            self.payload.as_str()
        )?;
        if let Some(k) = self.key {
            write!(f, ", key {k:#010x}")?;
        }
        if self.checksum {
            f.write_str(", GRE checksum valid")?;
        }
        Ok(())
    }
}

/// A GRE packet's header as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// Version 0.
    Plain {
        payload: Payload,
        key: Option<u32>,
        checksum: bool,
        sequence: bool,
    },
    /// Version 1 (PPTP).
    Enhanced { call: u16, payload: u16 },
}

/// Reads a GRE packet, checking what it carries; `None` if it breaks the
/// rules.
pub fn read(b: &[u8]) -> Option<Header> {
    let flags = be16(b, 0)?;
    let proto = be16(b, 2)?;
    match flags & 7 {
        0 => {
            // R, strict source route, recursion and flag bits are zero.
            if flags & 0x4ff8 != 0 {
                return None;
            }
            let payload = Payload::of(proto)?;
            let mut at = 4;
            let checksum = flags & C != 0;
            if checksum {
                if ones_sum(b) != 0xffff {
                    return None;
                }
                at += 4;
            }
            let key = if flags & K != 0 {
                at += 4;
                Some(be32(b, at - 4)?)
            } else {
                None
            };
            let sequence = flags & S != 0;
            if sequence {
                at += 4;
            }
            let inner = b.get(at..)?;
            let ok = match payload {
                Payload::Ipv4 => ipv4(inner),
                Payload::Ipv6 => ipv6(inner),
                Payload::Ethernet => ethernet(inner),
                Payload::Erspan => ethernet(inner.get(8..)?),
            };
            ok.then_some(Header::Plain {
                payload,
                key,
                checksum,
                sequence,
            })
        }
        1 => {
            if flags & !(S | A) != K | 1 || proto != PPP {
                return None;
            }
            let len = be16(b, 4)?;
            let call = be16(b, 6)?;
            let at = 8 + if flags & S != 0 { 4 } else { 0 } + if flags & A != 0 { 4 } else { 0 };
            let rest = b.get(at..)?;
            // No sequence number, no payload (an ack); the length counts
            // the payload, which a short capture may cut.
            if (flags & S == 0) != (len == 0) || rest.len() > usize::from(len) {
                return None;
            }
            if len > 0 && !ppp(rest) {
                return None;
            }
            Some(Header::Enhanced { call, payload: len })
        }
        _ => None,
    }
}

/// The one's-complement sum of `b` (16-bit words, big-endian).
fn ones_sum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in b.chunks(2) {
        let w = u32::from(pair[0]) << 8 | u32::from(pair.get(1).copied().unwrap_or(0));
        sum += w;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// An IPv4 header: version, length fields and checksum right.
fn ipv4(b: &[u8]) -> bool {
    let Some(&first) = b.first() else {
        return false;
    };
    let ihl = usize::from(first & 15) * 4;
    first >> 4 == 4
        && ihl >= 20
        && b.len() >= ihl
        && be16(b, 2).is_some_and(|total| usize::from(total) >= ihl)
        && ones_sum(&b[..ihl]) == 0xffff
}

/// An IPv6 header whose payload length covers what follows.
fn ipv6(b: &[u8]) -> bool {
    b.len() >= 40
        && b[0] >> 4 == 6
        && be16(b, 4).is_some_and(|len| usize::from(len) + 40 >= b.len())
}

/// An Ethernet frame carrying IPv4, IPv6 or ARP.
fn ethernet(b: &[u8]) -> bool {
    let mut at = 12;
    let mut kind = be16(b, at);
    if kind == Some(0x8100) {
        at += 4;
        kind = be16(b, at);
    }
    let Some(inner) = b.get(at + 2..) else {
        return false;
    };
    match kind {
        Some(0x0800) => ipv4(inner),
        Some(0x86dd) => ipv6(inner),
        // Ethernet/IPv4 ARP.
        Some(0x0806) => inner.len() >= 28 && inner[..6] == [0, 1, 8, 0, 6, 4],
        _ => false,
    }
}

/// A PPP frame's start: address/control `ff 03`, or a protocol number
/// (odd low byte, even high byte; one byte when compressed).
fn ppp(b: &[u8]) -> bool {
    match b {
        [0xff, 0x03, ..] => true,
        [p, ..] if p & 1 == 1 => true,
        [hi, lo, ..] => hi & 1 == 0 && lo & 1 == 1,
        _ => false,
    }
}

/// Per direction.
#[derive(Debug, Default, Clone, Copy)]
struct Way {
    packets: u32,
    /// Enhanced GRE: the call id this direction carries.
    call: Option<u16>,
    /// The call id is one a PPTP control connection set up (its packet).
    linked: Option<u64>,
}

/// The GRE dissector.
#[derive(Debug, Default)]
pub struct Gre {
    examined: u32,
    /// The version the flow started with.
    enhanced: Option<bool>,
    first: Option<Header>,
    ways: [Way; 2],
    evidence: Vec<Evidence>,
    decided: bool,
}

impl Gre {
    fn details(&self) -> VpnDetails {
        let mut d: VpnDetails = Vec::new();
        match self.first {
            Some(Header::Plain {
                payload,
                key,
                checksum,
                sequence,
            }) => {
                d.push(("payload", Value::Text(payload.as_str())));
                if let Some(k) = key {
                    d.push(("key", Value::Hex32(k)));
                }
                let mut fields = Vec::new();
                if checksum {
                    fields.push("checksum");
                }
                if sequence {
                    fields.push("sequence");
                }
                if !fields.is_empty() {
                    d.push(("options", Value::List(fields)));
                }
            }
            Some(Header::Enhanced { .. }) => {
                d.push(("channel", Value::Text("data")));
                for (name, side) in [("call_id_to_server", 0), ("call_id_to_client", 1)] {
                    if let Some(c) = self.ways[side].call {
                        d.push((name, Value::Number(u64::from(c))));
                    }
                }
                if let Some(p) = self.ways.iter().find_map(|w| w.linked) {
                    d.push(("control_packet", Value::Number(p)));
                }
            }
            None => {}
        }
        d
    }

    fn verdict(&self, confidence: Confidence) -> Verdict {
        let protocol = if self.enhanced == Some(true) {
            VpnProtocol::Pptp
        } else {
            VpnProtocol::Gre
        };
        VpnVerdict {
            protocol,
            confidence,
            details: self.details(),
            evidence: self.evidence.clone(),
        }
        .into_verdict()
    }

    /// The confidence the packets so far support.
    fn support(&self) -> Option<Confidence> {
        let both = self.ways.iter().all(|w| w.packets > 0);
        let total: u32 = self.ways.iter().map(|w| w.packets).sum();
        match self.enhanced? {
            true if self.ways.iter().any(|w| w.linked.is_some()) => Some(Confidence::High),
            true if both && total >= 3 => Some(Confidence::Medium),
            true if total >= 2 => Some(Confidence::Low),
            false if both => Some(Confidence::High),
            false if total >= 1 => Some(Confidence::Medium),
            _ => None,
        }
    }
}

impl Dissector for Gre {
    const CARRIER: Carrier = Carrier::Ip(crate::decode::ip::proto::GRE);
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if read(bytes).is_some() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Gre::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if self.decided || self.examined >= MAX_PACKETS {
            return Step::Refuse;
        }
        self.examined += 1;
        let Some(h) = read(input.bytes) else {
            return Step::Refuse;
        };
        let side = input.side.min(1);
        let enhanced = matches!(h, Header::Enhanced { .. });
        if *self.enhanced.get_or_insert(enhanced) != enhanced {
            return Step::Refuse;
        }
        self.first.get_or_insert(h);
        let way = &mut self.ways[side];
        way.packets += 1;
        match h {
            Header::Enhanced { call, payload } => {
                if *way.call.get_or_insert(call) != call {
                    return Step::Refuse;
                }
                if way.packets == 1 {
                    self.evidence.push(Evidence {
                        packet: input.packet,
                        what: FactClue::Pptp(PptpClue::EnhancedGre {
                            side,
                            call,
                            payload,
                        }),
                    });
                    let link = input
                        .links
                        .iter()
                        .rev()
                        .find(|l| l.kind == Kind::PptpControl && l.value == u64::from(call));
                    if let Some(l) = link {
                        way.linked = Some(l.packet);
                        self.evidence.push(Evidence {
                            packet: input.packet,
                            what: FactClue::Pptp(PptpClue::LinkedCall {
                                call,
                                control: l.packet,
                            }),
                        });
                    }
                }
            }
            Header::Plain {
                payload,
                key,
                checksum,
                ..
            } => {
                if way.packets == 1 {
                    self.evidence.push(Evidence {
                        packet: input.packet,
                        what: FactClue::Gre(Clue {
                            side,
                            payload,
                            key,
                            checksum,
                        }),
                    });
                }
            }
        }
        let enough = match self.support() {
            Some(Confidence::High) => true,
            // Enhanced GRE without a control connection: both ways.
            Some(Confidence::Medium) => enhanced,
            _ => false,
        };
        if enough {
            self.decided = true;
            let confidence = self.support().unwrap_or(Confidence::Low);
            return Step::Verdict(self.verdict(confidence));
        }
        if self.examined >= MAX_PACKETS {
            return Step::Refuse;
        }
        Step::NeedMore
    }

    fn settle(&self) -> Option<Verdict> {
        if self.decided {
            return None;
        }
        self.support().map(|c| self.verdict(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::links::Link;

    fn input<'a>(bytes: &'a [u8], side: usize, links: &'a [Link]) -> Input<'a> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 7,
            first: false,
            client_from: None,
            ts: 0,
            links,
        }
    }

    /// IPv4 header, 20 bytes, checksum filled in.
    fn ipv4_header() -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 212, 4, 1, 10, 212, 4, 2,
        ];
        let sum = !ones_sum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    #[test]
    fn plain_gre_both_ways_is_high() {
        let mut p = vec![0, 0, 0x08, 0x00];
        p.extend(ipv4_header());
        assert!(matches!(read(&p), Some(Header::Plain { .. })));
        let mut d = Gre::start();
        assert_eq!(d.feed(&input(&p, 0, &[])), Step::NeedMore);
        assert_eq!(d.settle().unwrap().confidence, Confidence::Medium);
        let Step::Verdict(v) = d.feed(&input(&p, 1, &[])) else {
            panic!()
        };
        assert_eq!(
            (v.proto, v.confidence),
            (crate::classify::AppProto::Gre, Confidence::High)
        );
        // A broken inner checksum is not GRE's.
        let mut bad = p.clone();
        bad[14] ^= 1;
        assert_eq!(read(&bad), None);
    }

    #[test]
    fn gre_checksum_checked() {
        let mut p = vec![0x80, 0, 0x08, 0x00, 0, 0, 0, 0];
        p.extend(ipv4_header());
        let sum = !ones_sum(&p);
        p[4..6].copy_from_slice(&sum.to_be_bytes());
        assert!(read(&p).is_some());
        p[5] ^= 1;
        assert_eq!(read(&p), None);
    }

    /// Enhanced GRE with sequence number, a PPP frame of `ppp` bytes.
    fn enhanced(call: u16, ppp: &[u8]) -> Vec<u8> {
        let mut p = vec![0x30, 0x01, 0x88, 0x0b];
        p.extend((ppp.len() as u16).to_be_bytes());
        p.extend(call.to_be_bytes());
        p.extend([0, 0, 0, 1]);
        p.extend(ppp);
        p
    }

    #[test]
    fn enhanced_gre_linked_to_control_is_high() {
        let p = enhanced(15512, &[0xff, 0x03, 0x00, 0xfd, 0x90, 0x00, 0x11]);
        let links = [Link {
            kind: Kind::PptpControl,
            value: 15512,
            packet: 4,
        }];
        let mut d = Gre::start();
        let Step::Verdict(v) = d.feed(&input(&p, 1, &links)) else {
            panic!()
        };
        assert_eq!(
            (v.proto, v.confidence),
            (crate::classify::AppProto::Pptp, Confidence::High)
        );
    }

    #[test]
    fn enhanced_gre_unlinked_needs_both_ways() {
        let a = enhanced(0, &[0xff, 0x03, 0xc0, 0x21, 1, 1]);
        let b = enhanced(9, &[0xff, 0x03, 0xc0, 0x21, 2, 1]);
        let mut d = Gre::start();
        assert_eq!(d.feed(&input(&a, 0, &[])), Step::NeedMore);
        assert_eq!(d.feed(&input(&a, 0, &[])), Step::NeedMore);
        let Step::Verdict(v) = d.feed(&input(&b, 1, &[])) else {
            panic!()
        };
        assert_eq!(v.confidence, Confidence::Medium);
        // A changed call id refuses.
        let mut d = Gre::start();
        d.feed(&input(&a, 0, &[]));
        assert_eq!(d.feed(&input(&b, 0, &[])), Step::Refuse);
        // A length that is not the payload's.
        let mut bad = a.clone();
        bad[5] = 3;
        assert_eq!(read(&bad), None);
    }
}
