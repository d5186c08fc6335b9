//! PPTP's control connection (RFC 2637) on any TCP port: fixed-length
//! control messages behind the magic cookie, tied across the two directions
//! by the request/reply pairs and the call ids the peer echoes.
//!
//! Every control message starts with a 2-byte length, the PPTP message type
//! (1, control) and the magic cookie 0x1A2B3C4D, then the control message
//! type (1..=15) and two reserved zero bytes; each control message type has
//! one exact length (156 bytes for Start-Control-Connection-Request/Reply,
//! 168 for Outgoing-Call-Request, 32 for its reply, ...). A message whose
//! length, cookie, type or reserved field is wrong refuses the flow.
//!
//! Verdicts:
//! - `High`: a Start-Control-Connection-Request from one side answered by a
//!   Reply from the other, and, when a call is set up within the messages
//!   read, the call reply naming the request's call id as its peer call id.
//!   The verdict waits for the call (at most [`MAX_MESSAGES`] messages per
//!   side) so that its call ids are in the details (`call_id_client`,
//!   `call_id_server`: the ids each side chose, which the other side's GRE
//!   packets carry in their key field).
//! - `Medium` (at the flow's end, [`Dissector::settle`]): valid control
//!   messages from one side only.
//!
//! The call ids are left as links ([`super::links`]) for the GRE flow
//! between the same two hosts ([`super::gre`]), which is reported as PPTP
//! when its call ids are these.
//!
//! Limits: a side's partial message is buffered up to [`MAX_MESSAGE`] bytes
//! (the longest control message); [`MAX_MESSAGES`] messages are read per
//! side.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence};
use super::links::Link;
use super::registry::Kind;
use super::vpn::{side_name, Value, VpnDetails, VpnProtocol, VpnVerdict};
use crate::bytes::be16;

/// The magic cookie at offset 4 of every control message.
pub const MAGIC: u32 = 0x1A2B_3C4D;
/// The longest control message (Incoming-Call-Request).
pub const MAX_MESSAGE: usize = 220;
/// Control messages read per side.
pub const MAX_MESSAGES: u8 = 8;

/// A control message type, with its name and exact length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageType(pub u16);

impl MessageType {
    pub const SCCRQ: MessageType = MessageType(1);
    pub const SCCRP: MessageType = MessageType(2);
    pub const OCRQ: MessageType = MessageType(7);
    pub const OCRP: MessageType = MessageType(8);
    pub const ICRQ: MessageType = MessageType(9);
    pub const ICRP: MessageType = MessageType(10);

    /// The exact length of a message of this type, `None` for an unknown
    /// type.
    pub fn length(self) -> Option<usize> {
        Some(match self.0 {
            1 | 2 => 156,
            3 | 4 | 5 | 12 => 16,
            6 => 20,
            7 => 168,
            8 => 32,
            9 => 220,
            10 => 24,
            11 => 28,
            13 => 148,
            14 => 32,
            15 => 24,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "Start-Control-Connection-Request",
            2 => "Start-Control-Connection-Reply",
            3 => "Stop-Control-Connection-Request",
            4 => "Stop-Control-Connection-Reply",
            5 => "Echo-Request",
            6 => "Echo-Reply",
            7 => "Outgoing-Call-Request",
            8 => "Outgoing-Call-Reply",
            9 => "Incoming-Call-Request",
            10 => "Incoming-Call-Reply",
            11 => "Incoming-Call-Connected",
            12 => "Call-Clear-Request",
            13 => "Call-Disconnect-Notify",
            14 => "WAN-Error-Notify",
            15 => "Set-Link-Info",
            _ => "unknown",
        }
    }

    /// A call request (outgoing or incoming): its call id at offset 12.
    fn is_call_request(self) -> bool {
        self == Self::OCRQ || self == Self::ICRQ
    }

    /// A call reply: call id at 12, peer call id at 14.
    fn is_call_reply(self) -> bool {
        self == Self::OCRP || self == Self::ICRP
    }
}

/// What a PPTP packet showed (control connection or enhanced GRE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A control message, whole and of its type's exact length.
    Control { kind: MessageType, side: usize },
    /// A call reply naming the request's call id as its peer call id.
    CallEchoed { request: u16, reply: u16 },
    /// An enhanced GRE (version 1, PPP) packet with `call` in its key.
    EnhancedGre {
        side: usize,
        call: u16,
        payload: u16,
    },
    /// The GRE call id is one the control connection (packet `control`)
    /// set up.
    LinkedCall { call: u16, control: u64 },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Control { kind, side } => write!(
                f,
                "PPTP {} from the {} (magic cookie 0x1a2b3c4d, {} bytes)",
                kind.name(),
                side_name(*side),
                kind.length().unwrap_or(0)
            ),
            Clue::CallEchoed { request, reply } => write!(
                f,
                "PPTP call reply (call id {reply}) names the request's call id {request} as its peer"
            ),
            Clue::EnhancedGre { side, call, payload } => write!(
                f,
                "enhanced GRE (version 1, protocol 0x880b) from the {}, call id {call}, payload length {payload}",
                side_name(*side)
            ),
            Clue::LinkedCall { call, control } => write!(
                f,
                "GRE call id {call} set up by the PPTP control connection (packet {control})"
            ),
        }
    }
}

fn clue(packet: u64, c: Clue) -> Evidence {
    Evidence {
        packet,
        what: FactClue::Pptp(c),
    }
}

/// The control message at the start of `b`, if its header is PPTP's: its
/// type, with `Err(())` for a header that breaks the rules, `Ok(None)` for
/// too few bytes to tell.
fn header(b: &[u8]) -> Result<Option<MessageType>, ()> {
    // Check what is there of the fixed header, byte by byte.
    let want_type = [0u8, 1];
    let cookie = MAGIC.to_be_bytes();
    for (i, &x) in b.iter().take(12).enumerate() {
        let ok = match i {
            0 | 1 => true,
            2 | 3 => x == want_type[i - 2],
            4..=7 => x == cookie[i - 4],
            8 => x == 0,
            9 => (1..=15).contains(&x),
            _ => x == 0,
        };
        if !ok {
            return Err(());
        }
    }
    if b.len() < 12 {
        return Ok(None);
    }
    let kind = MessageType(be16(b, 8).ok_or(())?);
    let len = usize::from(be16(b, 0).ok_or(())?);
    if kind.length() != Some(len) {
        return Err(());
    }
    Ok(Some(kind))
}

/// One side of the control connection.
#[derive(Debug, Default)]
struct SideState {
    pending: Vec<u8>,
    messages: u8,
    /// A Start-Control-Connection-Request / Reply was sent.
    start_request: bool,
    start_reply: bool,
    /// The call id this side chose (from its call request or reply).
    call_id: Option<u16>,
    /// A call reply's peer call id.
    peer_call_id: Option<u16>,
}

/// The PPTP control connection dissector.
#[derive(Debug, Default)]
pub struct PptpControl {
    sides: [SideState; 2],
    evidence: Vec<Evidence>,
    names: Vec<&'static str>,
    /// A call reply from `side` named the other side's call id.
    echoed: bool,
    /// The packet of the call reply.
    call_packet: Option<u64>,
    decided: bool,
    refused: bool,
}

impl PptpControl {
    /// Reads the complete messages of `side` buffered so far.
    fn messages(&mut self, side: usize, packet: u64) -> Result<(), ()> {
        loop {
            let s = &mut self.sides[side];
            let Some(kind) = header(&s.pending)? else {
                return Ok(());
            };
            let len = kind.length().unwrap_or(MAX_MESSAGE);
            if s.pending.len() < len {
                return Ok(());
            }
            let msg: Vec<u8> = s.pending.drain(..len).collect();
            s.messages += 1;
            if kind == MessageType::SCCRQ {
                // Protocol version 1.0.
                if be16(&msg, 12) != Some(0x0100) {
                    return Err(());
                }
                s.start_request = true;
            } else if kind == MessageType::SCCRP {
                s.start_reply = true;
            } else if kind.is_call_request() {
                s.call_id = be16(&msg, 12);
            } else if kind.is_call_reply() {
                s.call_id = be16(&msg, 12);
                s.peer_call_id = be16(&msg, 14);
                let other = self.sides[1 - side].call_id;
                if other.is_none() {
                    // The request was before the capture.
                } else if other == self.sides[side].peer_call_id {
                    self.echoed = true;
                    self.call_packet = Some(packet);
                    self.evidence.push(clue(
                        packet,
                        Clue::CallEchoed {
                            request: other.unwrap_or(0),
                            reply: self.sides[side].call_id.unwrap_or(0),
                        },
                    ));
                } else {
                    return Err(());
                }
            }
            if self.evidence.len() < 8 {
                self.evidence
                    .push(clue(packet, Clue::Control { kind, side }));
            }
            if self.names.len() < 8 {
                self.names.push(short_name(kind));
            }
        }
    }

    /// Both sides started the control connection (request one way, reply
    /// the other).
    fn started(&self) -> bool {
        let [a, b] = &self.sides;
        (a.start_request && b.start_reply) || (b.start_request && a.start_reply)
    }

    fn verdict(&self, confidence: Confidence) -> VpnVerdict {
        let mut details: VpnDetails = vec![("channel", Value::Text("control"))];
        details.push(("messages", Value::List(self.names.clone())));
        for (name, side) in [("call_id_client", 0), ("call_id_server", 1)] {
            if let Some(id) = self.sides[side].call_id {
                details.push((name, Value::Number(u64::from(id))));
            }
        }
        VpnVerdict {
            protocol: VpnProtocol::Pptp,
            confidence,
            details,
            evidence: self.evidence.clone(),
        }
    }

    /// The call ids, as links for the GRE flow.
    fn links(&self) -> Vec<Link> {
        let packet = self.call_packet.unwrap_or(0);
        self.sides
            .iter()
            .filter_map(|s| s.call_id)
            .map(|id| Link {
                kind: Kind::PptpControl,
                value: u64::from(id),
                packet,
            })
            .collect()
    }

    fn read_all(&self) -> bool {
        self.sides.iter().all(|s| s.messages >= MAX_MESSAGES)
            || self.sides.iter().any(|s| s.messages >= MAX_MESSAGES * 2)
    }
}

fn short_name(kind: MessageType) -> &'static str {
    match kind.0 {
        1 => "SCCRQ",
        2 => "SCCRP",
        3 => "StopCCRQ",
        4 => "StopCCRP",
        5 => "ECHORQ",
        6 => "ECHORP",
        7 => "OCRQ",
        8 => "OCRP",
        9 => "ICRQ",
        10 => "ICRP",
        11 => "ICCN",
        12 => "CCRQ",
        13 => "CDN",
        14 => "WEN",
        _ => "SLI",
    }
}

impl Dissector for PptpControl {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        match header(bytes) {
            Err(()) => Probe::No,
            Ok(_) => Probe::Maybe,
        }
    }

    fn start() -> Self {
        PptpControl::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if self.refused {
            return Step::Refuse;
        }
        let side = input.side.min(1);
        let mut rest = input.bytes;
        while !rest.is_empty() {
            let s = &mut self.sides[side];
            if s.messages >= MAX_MESSAGES * 2 {
                break;
            }
            // Take at most one message's worth at a time, so the buffer
            // stays within MAX_MESSAGE.
            let room = MAX_MESSAGE - s.pending.len();
            let (now, later) = rest.split_at(rest.len().min(room));
            s.pending.extend_from_slice(now);
            rest = later;
            if self.messages(side, input.packet).is_err() {
                self.refused = true;
                return if self.decided {
                    Step::Facts {
                        found: Findings::default(),
                        more: false,
                    }
                } else {
                    Step::Refuse
                };
            }
        }
        if self.decided {
            return Step::Facts {
                found: Findings::default(),
                more: false,
            };
        }
        if self.started() && (self.echoed || self.read_all()) {
            self.decided = true;
            let mut found = self.verdict(Confidence::High).into_findings();
            found.links = self.links();
            return Step::Verdict(Verdict {
                proto: super::AppProto::Pptp,
                confidence: Confidence::High,
                found,
                more: false,
            });
        }
        if self.read_all() {
            return Step::Refuse;
        }
        Step::NeedMore
    }

    fn settle(&self) -> Option<Verdict> {
        if self.decided || self.refused {
            return None;
        }
        let confidence = if self.started() {
            Confidence::High
        } else if self.sides.iter().any(|s| s.messages > 0) {
            Confidence::Medium
        } else {
            return None;
        };
        let mut v = self.verdict(confidence).into_verdict();
        v.found.links = self.links();
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A control message of `kind` with its exact length, `fill` written at
    /// offset 12.
    pub(crate) fn message(kind: u16, fill: &[u8]) -> Vec<u8> {
        let len = MessageType(kind).length().unwrap();
        let mut m = vec![0u8; len];
        m[..2].copy_from_slice(&(len as u16).to_be_bytes());
        m[2..4].copy_from_slice(&[0, 1]);
        m[4..8].copy_from_slice(&MAGIC.to_be_bytes());
        m[8..10].copy_from_slice(&kind.to_be_bytes());
        m[12..12 + fill.len()].copy_from_slice(fill);
        m
    }

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

    #[test]
    fn handshake_and_call_decide_with_call_ids() {
        let mut d = PptpControl::start();
        let sccrq = message(1, &[1, 0]);
        assert_eq!(PptpControl::probe(&sccrq[..6], 0), Probe::Maybe);
        // Split across two segments.
        assert_eq!(d.feed(&input(&sccrq[..50], 0, 1)), Step::NeedMore);
        assert_eq!(d.feed(&input(&sccrq[50..], 0, 2)), Step::NeedMore);
        assert_eq!(
            d.feed(&input(&message(2, &[1, 0, 1]), 1, 3)),
            Step::NeedMore
        );
        assert_eq!(
            d.feed(&input(&message(7, &[0x3c, 0x98]), 0, 4)),
            Step::NeedMore
        );
        let Step::Verdict(v) = d.feed(&input(&message(8, &[0, 0, 0x3c, 0x98]), 1, 5)) else {
            panic!("no verdict");
        };
        assert_eq!(v.proto, crate::classify::AppProto::Pptp);
        assert_eq!(v.confidence, Confidence::High);
        let values: Vec<u64> = v.found.links.iter().map(|l| l.value).collect();
        assert_eq!(values, vec![15512, 0]);
        let crate::classify::Fact::Vpn(facts) = &v.found.facts[0] else {
            panic!()
        };
        assert!(facts
            .details
            .contains(&("call_id_client", Value::Number(15512))));
    }

    #[test]
    fn wrong_echo_or_length_refuses() {
        let mut d = PptpControl::start();
        d.feed(&input(&message(1, &[1, 0]), 0, 1));
        d.feed(&input(&message(2, &[1, 0]), 1, 2));
        d.feed(&input(&message(7, &[0, 9]), 0, 3));
        assert_eq!(
            d.feed(&input(&message(8, &[0, 1, 0, 8]), 1, 4)),
            Step::Refuse
        );
        let mut bad = message(5, &[]);
        bad[1] = 17;
        assert_eq!(PptpControl::probe(&bad, 0), Probe::No);
        let mut cookie = message(1, &[1, 0]);
        cookie[7] ^= 1;
        assert_eq!(PptpControl::probe(&cookie, 0), Probe::No);
        assert_eq!(PptpControl::probe(b"GET / HTTP/1.1\r\n", 0), Probe::No);
    }

    #[test]
    fn one_side_settles_medium() {
        let mut d = PptpControl::start();
        assert_eq!(d.feed(&input(&message(1, &[1, 0]), 0, 1)), Step::NeedMore);
        let v = d.settle().unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
    }
}
