//! L2TP over UDP on any port: L2TPv2 (RFC 2661) control and data messages,
//! and L2TPv3 (RFC 3931) control messages over UDP.
//!
//! A control message has the T, L and S bits set (length, Ns and Nr
//! present), no offset and no priority bit, its length field equal to the
//! datagram, and a chain of AVPs (each with its length, reserved bits zero)
//! filling it exactly, the first being the Message Type AVP (a known type);
//! a control message without AVPs is a ZLB acknowledgement. A data message
//! (v2 only) has T clear, the tunnel and session ids, and a PPP frame.
//!
//! Verdicts:
//! - `High`: a Start-Control-Connection-Request whose Assigned Tunnel ID
//!   (v3: Assigned Control Connection ID) the other side then uses as the
//!   tunnel id of its messages (its Reply, a ZLB, data); or, picked up
//!   later, a Session's Assigned Session ID used the same way.
//! - `Medium`: no assignment seen (picked up mid-flow), valid control
//!   messages both ways, each direction on one tunnel id.
//! - `Low` (at the flow's end): valid control messages from one side.
//!
//! Details: `version`, `tunnel_id_client` / `tunnel_id_server` (the tunnel
//! id each side assigned, which the other side's messages carry), and the
//! control `messages` seen (SCCRQ, SCCRP, ...).
//!
//! Refused at once: a header with reserved bits set or another version, a
//! control message whose length or AVP chain is wrong, an unknown message
//! type, a direction changing tunnel id. [`MAX_DATAGRAMS`] datagrams are
//! read. Data messages alone never decide (six header bytes and PPP's
//! `ff 03` are too little).

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step, Verdict};
use super::facts::{Clue as FactClue, Evidence};
use super::vpn::{side_name, Value, VpnDetails, VpnProtocol, VpnVerdict};
use crate::bytes::{be16, be32};

/// Datagrams read before giving up.
pub const MAX_DATAGRAMS: u32 = 16;
/// Message names kept for the details.
const MAX_NAMES: usize = 8;

const T: u16 = 0x8000;
const L: u16 = 0x4000;
const S: u16 = 0x0800;
const O: u16 = 0x0200;
const P: u16 = 0x0100;

/// A control message type (the Message Type AVP's value); 0 for a ZLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageType(pub u16);

impl MessageType {
    pub const ZLB: MessageType = MessageType(0);
    pub const SCCRQ: MessageType = MessageType(1);
    pub const SCCRP: MessageType = MessageType(2);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "ZLB",
            1 => "SCCRQ",
            2 => "SCCRP",
            3 => "SCCCN",
            4 => "StopCCN",
            6 => "HELLO",
            7 => "OCRQ",
            8 => "OCRP",
            9 => "OCCN",
            10 => "ICRQ",
            11 => "ICRP",
            12 => "ICCN",
            14 => "CDN",
            15 => "WEN",
            16 => "SLI",
            // L2TPv3: Explicit-Acknowledgement and the failover messages.
            20 => "ACK",
            21 => "FSQ",
            22 => "FSR",
            _ => return None,
        })
    }
}

/// What an L2TP datagram showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A control message whose AVP chain parsed.
    Control {
        kind: MessageType,
        side: usize,
        version: u8,
        tunnel: u32,
        avps: u16,
    },
    /// The side's messages carry the tunnel (or session) id its peer
    /// assigned in packet `assigned_at`.
    Echoed {
        side: usize,
        id: u32,
        session: bool,
        assigned_at: u64,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Control {
                kind,
                side,
                version,
                tunnel,
                avps,
            } => write!(
                f,
                "L2TPv{version} {} from the {}, tunnel id {tunnel}, {avps} AVPs parsed to the end",
                kind.name().unwrap_or("control message"),
                side_name(*side)
            ),
            Clue::Echoed {
                side,
                id,
                session,
                assigned_at,
            } => write!(
                f,
                "the {} uses {} id {id}, assigned by its peer in packet {assigned_at}",
                side_name(*side),
                if *session { "session" } else { "tunnel" }
            ),
        }
    }
}

/// An L2TP message as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Control {
        version: u8,
        kind: MessageType,
        /// The header's tunnel id (v3: control connection id).
        tunnel: u32,
        /// Assigned Tunnel ID / Control Connection ID AVP.
        assigned_tunnel: Option<u32>,
        /// Assigned Session ID AVP.
        assigned_session: Option<u32>,
        avps: u16,
    },
    /// A v2 data message.
    Data { tunnel: u16, session: u16 },
}

/// Reads one L2TP datagram; `None` if it breaks the rules.
pub fn read(b: &[u8]) -> Option<Message> {
    let flags = be16(b, 0)?;
    match flags & 0x000f {
        2 => {
            // Reserved bits (x in RFC 2661's TLxxSxOPxxxx) are zero.
            if flags & 0x34f0 != 0 {
                return None;
            }
            if flags & T != 0 {
                if flags & (L | S) != L | S || flags & (O | P) != 0 {
                    return None;
                }
                if usize::from(be16(b, 2)?) != b.len() {
                    return None;
                }
                let tunnel = u32::from(be16(b, 4)?);
                control(2, tunnel, b.get(12..)?)
            } else {
                let mut at = 2;
                if flags & L != 0 {
                    if usize::from(be16(b, 2)?) != b.len() {
                        return None;
                    }
                    at += 2;
                }
                let tunnel = be16(b, at)?;
                let session = be16(b, at + 2)?;
                at += 4;
                if flags & S != 0 {
                    at += 4;
                }
                if flags & O != 0 {
                    at += 2 + usize::from(be16(b, at)?);
                }
                // PPP in HDLC-like framing (address and control).
                (b.get(at..at + 2)? == [0xff, 0x03]).then_some(Message::Data { tunnel, session })
            }
        }
        3 => {
            // L2TPv3 over UDP, control messages only: T, L, S set, the rest
            // zero.
            if flags != T | L | S | 3 || usize::from(be16(b, 2)?) != b.len() {
                return None;
            }
            control(3, be32(b, 4)?, b.get(12..)?)
        }
        _ => None,
    }
}

/// The AVP chain of a control message.
fn control(version: u8, tunnel: u32, mut avps: &[u8]) -> Option<Message> {
    let mut kind = None;
    let mut assigned_tunnel = None;
    let mut assigned_session = None;
    let mut count = 0u16;
    while !avps.is_empty() {
        let head = be16(avps, 0)?;
        let len = usize::from(head & 0x03ff);
        // Reserved bits zero; at least the 6-byte AVP header.
        if head & 0x3c00 != 0 || len < 6 {
            return None;
        }
        let avp = avps.get(..len)?;
        let vendor = be16(avp, 2)?;
        let attr = be16(avp, 4)?;
        let value = &avp[6..];
        let hidden = head & 0x4000 != 0;
        if count == 0 {
            // The first AVP is the Message Type, never hidden.
            if vendor != 0 || attr != 0 || len != 8 || hidden {
                return None;
            }
            let t = MessageType(be16(value, 0)?);
            t.name()?;
            if t == MessageType::ZLB {
                return None;
            }
            kind = Some(t);
        } else if vendor == 0 && !hidden {
            match (version, attr, value.len()) {
                (2, 9, 2) => assigned_tunnel = be16(value, 0).map(u32::from),
                (2, 14, 2) => assigned_session = be16(value, 0).map(u32::from),
                (3, 61, 4) => assigned_tunnel = be32(value, 0),
                (3, 63, 4) => assigned_session = be32(value, 0),
                _ => {}
            }
        }
        count = count.saturating_add(1);
        avps = &avps[len..];
    }
    Some(Message::Control {
        version,
        kind: kind.unwrap_or(MessageType::ZLB),
        tunnel,
        assigned_tunnel,
        assigned_session,
        avps: count,
    })
}

/// Per direction.
#[derive(Debug, Default, Clone, Copy)]
struct Way {
    controls: u32,
    /// The tunnel id this direction's control messages carry (0 before the
    /// peer assigned one, in an SCCRQ).
    tunnel: Option<u32>,
    /// The tunnel and session id this side assigned, and where.
    assigned_tunnel: Option<(u32, u64)>,
    assigned_session: Option<(u32, u64)>,
    /// This direction used an id its peer assigned.
    echoed: bool,
}

/// The L2TP dissector.
#[derive(Debug, Default)]
pub struct L2tp {
    examined: u32,
    version: u8,
    ways: [Way; 2],
    names: Vec<&'static str>,
    evidence: Vec<Evidence>,
    decided: bool,
}

impl L2tp {
    fn support(&self) -> Option<Confidence> {
        let [a, b] = &self.ways;
        if a.echoed || b.echoed {
            Some(Confidence::High)
        } else if a.controls > 0 && b.controls > 0 {
            Some(Confidence::Medium)
        } else if a.controls + b.controls > 0 && self.names.iter().any(|n| *n != "ZLB") {
            Some(Confidence::Low)
        } else {
            None
        }
    }

    fn verdict(&self, confidence: Confidence) -> Verdict {
        let mut details: VpnDetails = vec![("version", Value::Number(u64::from(self.version)))];
        for (name, side) in [("tunnel_id_client", 0), ("tunnel_id_server", 1)] {
            if let Some((id, _)) = self.ways[side].assigned_tunnel {
                details.push((name, Value::Number(u64::from(id))));
            }
        }
        for (name, side) in [("session_id_client", 0), ("session_id_server", 1)] {
            if let Some((id, _)) = self.ways[side].assigned_session {
                details.push((name, Value::Number(u64::from(id))));
            }
        }
        details.push(("messages", Value::List(self.names.clone())));
        VpnVerdict {
            protocol: VpnProtocol::L2tp,
            confidence,
            details,
            evidence: self.evidence.clone(),
        }
        .into_verdict()
    }

    /// Notes that `side` used `id` (a tunnel id, or a session id), if its
    /// peer assigned it.
    fn check_echo(&mut self, side: usize, id: u32, session: bool, packet: u64) {
        let peer = &self.ways[1 - side];
        let assigned = if session {
            peer.assigned_session
        } else {
            peer.assigned_tunnel
        };
        let Some((want, at)) = assigned else {
            return;
        };
        if want == id && !self.ways[side].echoed {
            self.ways[side].echoed = true;
            self.evidence.push(Evidence {
                packet,
                what: FactClue::L2tp(Clue::Echoed {
                    side,
                    id,
                    session,
                    assigned_at: at,
                }),
            });
        }
    }
}

impl Dissector for L2tp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;
    const DEFERRED: bool = true;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if read(bytes).is_some() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        L2tp::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if self.decided || self.examined >= MAX_DATAGRAMS {
            return Step::Refuse;
        }
        self.examined += 1;
        let side = input.side.min(1);
        match read(input.bytes) {
            None => return Step::Refuse,
            Some(Message::Control {
                version,
                kind,
                tunnel,
                assigned_tunnel,
                assigned_session,
                avps,
            }) => {
                if self.version != 0 && self.version != version {
                    return Step::Refuse;
                }
                self.version = version;
                let way = &mut self.ways[side];
                way.controls += 1;
                // Tunnel id 0 only until the peer's assignment (SCCRQ);
                // then one id per direction.
                if tunnel != 0 && *way.tunnel.get_or_insert(tunnel) != tunnel {
                    return Step::Refuse;
                }
                if let Some(t) = assigned_tunnel {
                    way.assigned_tunnel.get_or_insert((t, input.packet));
                }
                if let Some(s) = assigned_session {
                    way.assigned_session = Some((s, input.packet));
                }
                if self.names.len() < MAX_NAMES {
                    self.names.push(kind.name().unwrap_or("?"));
                }
                if self.evidence.len() < 6 {
                    self.evidence.push(Evidence {
                        packet: input.packet,
                        what: FactClue::L2tp(Clue::Control {
                            kind,
                            side,
                            version,
                            tunnel,
                            avps,
                        }),
                    });
                }
                if tunnel != 0 {
                    self.check_echo(side, tunnel, false, input.packet);
                }
            }
            Some(Message::Data { tunnel, session }) => {
                if self.version == 3 {
                    return Step::Refuse;
                }
                let way = &mut self.ways[side];
                if *way.tunnel.get_or_insert(u32::from(tunnel)) != u32::from(tunnel) {
                    return Step::Refuse;
                }
                self.check_echo(side, u32::from(tunnel), false, input.packet);
                self.check_echo(side, u32::from(session), true, input.packet);
            }
        }
        if self.support() == Some(Confidence::High) {
            self.decided = true;
            return Step::Verdict(self.verdict(Confidence::High));
        }
        if self.examined >= MAX_DATAGRAMS {
            return match self.support() {
                Some(c) if c >= Confidence::Medium => {
                    self.decided = true;
                    Step::Verdict(self.verdict(c))
                }
                _ => Step::Refuse,
            };
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

    fn input(bytes: &[u8], side: usize, packet: u64) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet,
            first: false,
            client_from: None,
            ts: 0,
            links: &[],
        }
    }

    /// An L2TPv2 control message: tunnel id, message type, extra AVPs
    /// (attribute, 2-byte value).
    fn control_v2(tunnel: u16, kind: u16, avps: &[(u16, u16)]) -> Vec<u8> {
        let mut m = vec![0xc8, 0x02, 0, 0];
        m.extend(tunnel.to_be_bytes());
        m.extend([0, 0, 0, 0, 0, 0]);
        if kind != 0 {
            m.extend([0x80, 8, 0, 0, 0, 0]);
            m.extend(kind.to_be_bytes());
        }
        for (attr, v) in avps {
            m.extend([0x80, 8, 0, 0]);
            m.extend(attr.to_be_bytes());
            m.extend(v.to_be_bytes());
        }
        let len = m.len() as u16;
        m[2..4].copy_from_slice(&len.to_be_bytes());
        m
    }

    #[test]
    fn sccrq_answered_on_its_tunnel_is_high() {
        let sccrq = control_v2(0, 1, &[(2, 0x0100), (9, 40030)]);
        let sccrp = control_v2(40030, 2, &[(2, 0x0100), (9, 1348)]);
        assert_eq!(L2tp::probe(&sccrq, 0), Probe::Maybe);
        let mut d = L2tp::start();
        assert_eq!(d.feed(&input(&sccrq, 0, 1)), Step::NeedMore);
        let Step::Verdict(v) = d.feed(&input(&sccrp, 1, 2)) else {
            panic!()
        };
        assert_eq!(v.proto, crate::classify::AppProto::L2tp);
        assert_eq!(v.confidence, Confidence::High);
    }

    #[test]
    fn broken_messages_refused() {
        let good = control_v2(0, 1, &[(9, 7)]);
        // Length field not the datagram's.
        let mut bad = good.clone();
        bad.push(0);
        assert_eq!(read(&bad), None);
        // AVP chain overrunning.
        let mut bad = good.clone();
        bad[13] = 9;
        assert_eq!(read(&bad), None);
        // Unknown message type.
        assert_eq!(read(&control_v2(0, 99, &[])), None);
        // First AVP not the message type.
        assert_eq!(read(&control_v2(0, 0, &[(9, 7)])), None);
        // A ZLB is fine.
        assert!(matches!(
            read(&control_v2(5, 0, &[])),
            Some(Message::Control {
                kind: MessageType::ZLB,
                ..
            })
        ));
        // Data: PPP behind the ids.
        let data = [0x00, 0x02, 0x05, 0x44, 0x52, 0x15, 0xff, 0x03, 0xc0, 0x21];
        assert_eq!(
            read(&data),
            Some(Message::Data {
                tunnel: 0x0544,
                session: 0x5215
            })
        );
        assert_eq!(read(&data[..7]), None);
    }

    #[test]
    fn mid_flow_both_ways_is_medium() {
        let a = control_v2(1348, 6, &[]);
        let b = control_v2(40030, 0, &[]);
        let mut d = L2tp::start();
        assert_eq!(d.feed(&input(&a, 0, 1)), Step::NeedMore);
        assert_eq!(d.settle().unwrap().confidence, Confidence::Low);
        assert_eq!(d.feed(&input(&b, 1, 2)), Step::NeedMore);
        assert_eq!(d.settle().unwrap().confidence, Confidence::Medium);
        // A direction changing its tunnel id is refused.
        assert_eq!(d.feed(&input(&control_v2(9, 6, &[]), 0, 3)), Step::Refuse);
    }
}
