//! WireGuard over UDP, on any port: handshake messages recognised by type,
//! exact size and zero reserved bytes, and tied across the two directions by
//! their session indices; transport data recognised by a stable receiver
//! index and an increasing 64-bit counter per direction.
//!
//! The wire format (WireGuard whitepaper, §5.4): every message starts with a
//! type byte and three zero bytes. A handshake initiation (type 1) is exactly
//! 148 bytes and carries the initiator's sender index; the response (type 2,
//! exactly 92 bytes) carries the responder's own index and, as receiver
//! index, the initiator's; a cookie reply (type 3, exactly 64 bytes) carries
//! as receiver the index of the message it answers. Transport data (type 4)
//! is a 16-byte header (receiver index, little-endian counter), the
//! encrypted packet zero-padded to a multiple of 16 bytes, and a 16-byte
//! tag: so at least 32 bytes (32 exactly is a keepalive), and
//! `len - 32` a multiple of 16 — except that the padding never goes past the
//! tunnel MTU, so a full-sized packet may end unaligned; all unaligned
//! packets of one direction then share one length (MTU + 32), and aligned
//! ones are shorter. Each direction's transport packets name, as receiver,
//! the index its peer announced in the handshake.
//!
//! Verdicts ([`WireGuardTracker::on_datagram`]):
//! - `High`: an initiation and a response (or cookie reply) from the other
//!   side naming the initiation's sender index; or a response whose sender
//!   index the other side then uses for its transport data.
//! - `Medium`: no handshake seen (picked up mid-flow), transport data in both
//!   directions, each on one stable receiver index (distinct from the other
//!   direction's) with valid sizes and increasing counters, over at least
//!   [`PICKUP_EACH_WAY`] packets per direction.
//! - `Low`: the same in one direction only, over [`PICKUP_ONE_WAY`] packets
//!   with the other direction silent.
//!
//! A verdict may rise as more datagrams are fed (a `Low` flow turning out
//! two-way, a rekey handshake). [`WireGuardTracker::verdict`] answers for a
//! flow that ended undecided, with lower bars: a lone initiation, or half
//! the packets above, is `Low`; [`PICKUP_EACH_WAY`] - 1 each way `Medium`.
//! Details: `initiator` (client/server), `initiator_index`,
//! `responder_index` (little-endian indices shown as `0x` hex, as `wg` and
//! tshark show them), or for a mid-flow pickup `server_index` /
//! `client_index` (the index each side allocated, seen as the receiver of
//! the other side's packets), and `keepalives` (seen up to the verdict).
//!
//! Refused (`NotThis`, for the whole flow, as soon as it happens): an
//! unknown type, non-zero reserved bytes, a handshake message of the wrong
//! size, transport data too short or badly padded, a counter beyond 2^40 or
//! jumping back more than [`REORDER_WINDOW`] or forward more than
//! [`MAX_COUNTER_STEP`] (a session announced by a handshake must start below
//! [`FRESH_COUNTER`]), a receiver index no handshake announced once the
//! direction has adopted one such index (the session running when the
//! capture began) or has sent on an announced one, a response or cookie
//! reply naming an index the other side never sent once that side's
//! handshake messages are seen, or both directions on the same receiver
//! index. That is what keeps BitTorrent
//! uTP out (its ST_DATA header starts with 0x01 like an initiation, but the
//! connection id sits where the zero bytes must be and its sizes vary; its
//! timestamps sit where the receiver index must stay constant), and DNS,
//! STUN, QUIC and random payloads, whose first four bytes are almost never
//! `1..=4, 0, 0, 0`.
//!
//! Limits: [`MAX_DATAGRAMS`] datagrams are examined; undecided by then, the
//! flow is `NotThis`, decided, the verdict stays as it was. State is fixed
//! size (at most [`MAX_SESSIONS`] sessions per direction and
//! [`MAX_HANDSHAKE_INDICES`] handshake indices; older ones are forgotten).
//! Vendor variants that change the handshake format (TunnelBear's 204-byte
//! initiation, AmneziaWG's junk and renumbered types) are refused as not
//! WireGuard. A flow that roams to another address is a new flow here and is
//! judged on its own (mid-flow pickup).

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step, Verdict};
use super::facts::{self, Evidence};
use super::vpn::{side_name, side_of, Hex32, Value, VpnDetails};
use super::vpn::{Gate, Progress, VpnProtocol, VpnVerdict};
use crate::bytes::{le32, le64};

/// Byte layout of the messages (whitepaper §5.4), as offsets.
mod field {
    use std::ops::Range;
    pub const TYPE: usize = 0;
    pub const RESERVED: Range<usize> = 1..4;
    /// Initiation and response: the sender's own index.
    pub const SENDER: usize = 4;
    /// Response: the initiator's index it answers.
    pub const RESPONSE_RECEIVER: usize = 8;
    /// Cookie reply and transport data: the receiver's index.
    pub const RECEIVER: usize = 4;
    /// Transport data: the little-endian 64-bit counter.
    pub const COUNTER: usize = 8;
}

/// A WireGuard message type: the first byte, kept as a number so that an
/// unknown one can be reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    pub const INITIATION: Self = Self(1);
    pub const RESPONSE: Self = Self(2);
    pub const COOKIE_REPLY: Self = Self(3);
    pub const TRANSPORT: Self = Self(4);
}

/// Size of a handshake initiation.
pub const INITIATION_LEN: usize = 148;
/// Size of a handshake response.
pub const RESPONSE_LEN: usize = 92;
/// Size of a cookie reply.
pub const COOKIE_REPLY_LEN: usize = 64;
/// Transport header: type, reserved, receiver index, counter.
pub const TRANSPORT_HEADER_LEN: usize = 16;
/// Poly1305 tag closing every transport message.
pub const TAG_LEN: usize = 16;
/// A keepalive: transport data with an empty plaintext.
pub const KEEPALIVE_LEN: usize = TRANSPORT_HEADER_LEN + TAG_LEN;

/// Datagrams examined before the tracker stops looking.
pub const MAX_DATAGRAMS: u32 = 32;
/// Transport packets in each direction for a mid-flow `Medium`.
pub const PICKUP_EACH_WAY: u32 = 3;
/// Transport packets in one direction (the other silent) for a mid-flow `Low`.
pub const PICKUP_ONE_WAY: u32 = 8;
/// How far a counter may fall behind the highest seen on its session
/// (reordering in the network).
pub const REORDER_WINDOW: u64 = 64;
/// How far a counter may jump ahead of the highest seen (packets lost or not
/// captured, or sent on another path).
pub const MAX_COUNTER_STEP: u64 = 4096;
/// The first counter of a session announced by a handshake is below this.
pub const FRESH_COUNTER: u64 = 256;
/// Counters stay below this: a session lives at most three minutes, far
/// fewer than 2^40 packets even at line rate.
pub const MAX_COUNTER: u64 = 1 << 40;
/// Unaligned transport sizes (capped at the MTU) carry at least this much
/// plaintext: no tunnel has a smaller MTU.
pub const MIN_CAPPED_PLAINTEXT: usize = 576;
/// Sessions (receiver indices) tracked per direction.
pub const MAX_SESSIONS: usize = 4;
/// Handshake sender indices remembered for pairing.
pub const MAX_HANDSHAKE_INDICES: usize = 8;

/// One WireGuard message read from a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Initiation {
        sender: u32,
    },
    Response {
        sender: u32,
        receiver: u32,
    },
    CookieReply {
        receiver: u32,
    },
    Transport {
        receiver: u32,
        counter: u64,
        len: usize,
    },
}

/// Why a datagram, or the flow it belongs to, is not WireGuard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("empty datagram")]
    Empty,
    #[error("message type {0} is not one of WireGuard's (1 to 4)")]
    UnknownType(u8),
    #[error("reserved bytes {0:02x?} after the type are not zero")]
    Reserved([u8; 3]),
    #[error("{kind} of {len} bytes where WireGuard's is {expected}")]
    Size {
        kind: &'static str,
        len: usize,
        expected: usize,
    },
    #[error(
        "transport data of {len} bytes: under 32, or padded neither to 16 bytes nor to an MTU"
    )]
    TransportSize { len: usize },
    #[error("transport data of {len} bytes after an unaligned (MTU-capped) length of {capped}")]
    PaddingCap { len: usize, capped: usize },
    #[error("transport counter {0} beyond any session's lifetime")]
    CounterRange(u64),
    #[error("counter {counter} on receiver index {index:#010x} after {highest}: not in sequence")]
    Counter {
        index: u32,
        highest: u64,
        counter: u64,
    },
    #[error("receiver index {index:#010x} belongs to no session of this direction")]
    UnknownReceiver { index: u32 },
    #[error("{kind} for index {index:#010x}, which the other side never announced")]
    Unanswered { kind: &'static str, index: u32 },
    #[error("both directions send to receiver index {0:#010x}")]
    SameIndex(u32),
    #[error("undecided after {0} datagrams")]
    Undecided(u32),
}

impl Message {
    /// Reads one datagram: type, zero reserved bytes, exact size, and the
    /// indices and counter. Counter plausibility is the tracker's business.
    pub fn parse(b: &[u8]) -> Result<Message, Refusal> {
        let kind = MessageType(*b.get(field::TYPE).ok_or(Refusal::Empty)?);
        if !(1..=4).contains(&kind.0) {
            return Err(Refusal::UnknownType(kind.0));
        }
        let reserved = b.get(field::RESERVED).unwrap_or(&[0xff; 3]);
        if reserved != [0, 0, 0] {
            let mut r = [0xff; 3];
            for (d, s) in r.iter_mut().zip(reserved) {
                *d = *s;
            }
            return Err(Refusal::Reserved(r));
        }
        let exact = |kind, expected| {
            if b.len() == expected {
                Ok(())
            } else {
                Err(Refusal::Size {
                    kind,
                    len: b.len(),
                    expected,
                })
            }
        };
        let short = Refusal::Size {
            kind: "message",
            len: b.len(),
            expected: KEEPALIVE_LEN,
        };
        match kind {
            MessageType::INITIATION => {
                exact("handshake initiation", INITIATION_LEN)?;
                Ok(Message::Initiation {
                    sender: le32(b, field::SENDER).ok_or(short)?,
                })
            }
            MessageType::RESPONSE => {
                exact("handshake response", RESPONSE_LEN)?;
                Ok(Message::Response {
                    sender: le32(b, field::SENDER).ok_or(short)?,
                    receiver: le32(b, field::RESPONSE_RECEIVER).ok_or(short)?,
                })
            }
            MessageType::COOKIE_REPLY => {
                exact("cookie reply", COOKIE_REPLY_LEN)?;
                Ok(Message::CookieReply {
                    receiver: le32(b, field::RECEIVER).ok_or(short)?,
                })
            }
            _ => {
                let len = b.len();
                let aligned = (len - KEEPALIVE_LEN.min(len)) % 16 == 0;
                if len < KEEPALIVE_LEN || !(aligned || len - KEEPALIVE_LEN >= MIN_CAPPED_PLAINTEXT)
                {
                    return Err(Refusal::TransportSize { len });
                }
                Ok(Message::Transport {
                    receiver: le32(b, field::RECEIVER).ok_or(short)?,
                    counter: le64(b, field::COUNTER).ok_or(short)?,
                    len,
                })
            }
        }
    }
}

/// One session seen from the sending side: the peer's index as receiver,
/// and the counters sent on it.
#[derive(Clone, Copy, Debug)]
struct Session {
    receiver: u32,
    /// Highest counter seen; `None` until the first packet.
    highest: Option<u64>,
    /// Announced by a handshake seen in this flow (counters start at 0).
    from_handshake: bool,
    /// Input position of the latest packet, to evict the stalest session.
    last_packet: u64,
}

/// What one direction has sent.
#[derive(Clone, Copy, Debug, Default)]
struct Direction {
    sessions: [Option<Session>; MAX_SESSIONS],
    /// Transport packets accepted, and how many of them raised their
    /// session's counter.
    transport: u32,
    increases: u32,
    keepalives: u32,
    /// A receiver index no handshake announced was taken as the session
    /// running when the capture began (once per direction).
    adopted: bool,
    /// Transport packets sent on sessions a handshake announced.
    on_announced: u32,
    /// The one unaligned transport length (MTU-capped padding), and the
    /// longest aligned one.
    capped: Option<usize>,
    longest_aligned: usize,
    /// First and latest transport packets: (input position, receiver, counter).
    first: Option<(u64, u32, u64)>,
    latest: Option<(u64, u32, u64)>,
}

impl Direction {
    fn session_mut(&mut self, receiver: u32) -> Option<&mut Session> {
        self.sessions
            .iter_mut()
            .flatten()
            .find(|s| s.receiver == receiver)
    }

    /// Adds a session, forgetting the stalest when all slots are taken.
    fn add_session(&mut self, receiver: u32, from_handshake: bool, packet: u64) {
        if let Some(s) = self.session_mut(receiver) {
            s.from_handshake |= from_handshake;
            return;
        }
        let new = Session {
            receiver,
            highest: None,
            from_handshake,
            last_packet: packet,
        };
        let slot = match self.sessions.iter().position(Option::is_none) {
            Some(free) => free,
            None => self
                .sessions
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.map_or(0, |s| s.last_packet))
                .map_or(0, |(i, _)| i),
        };
        if let Some(s) = self.sessions.get_mut(slot) {
            *s = Some(new);
        }
    }

    /// The receiver index of the only session, when there is exactly one.
    fn only_receiver(&self) -> Option<u32> {
        let mut it = self.sessions.iter().flatten();
        let first = it.next()?;
        it.next().is_none().then_some(first.receiver)
    }

    /// Checks a transport length against this direction's padding.
    fn check_size(&mut self, len: usize) -> Result<(), Refusal> {
        let body = len.saturating_sub(KEEPALIVE_LEN);
        if body % 16 == 0 {
            if let Some(capped) = self.capped {
                if len > capped {
                    return Err(Refusal::PaddingCap { len, capped });
                }
            }
            self.longest_aligned = self.longest_aligned.max(len);
        } else {
            match self.capped {
                Some(capped) if capped != len => {
                    return Err(Refusal::PaddingCap { len, capped });
                }
                None if self.longest_aligned > len => {
                    return Err(Refusal::PaddingCap {
                        len: self.longest_aligned,
                        capped: len,
                    });
                }
                _ => self.capped = Some(len),
            }
        }
        Ok(())
    }
}

/// A handshake sender index seen: which side sent it, in which message.
#[derive(Clone, Copy, Debug)]
struct Announced {
    side: usize,
    index: u32,
    packet: u64,
    initiation: bool,
}

/// How the handshake tied the directions together.
#[derive(Clone, Copy, Debug)]
enum Pairing {
    /// Initiation then response (or cookie reply) naming it.
    Answered {
        initiator_side: usize,
        initiator_index: u32,
        initiation_packet: u64,
        /// The responder's index (none for a cookie reply).
        responder_index: Option<u32>,
        answer_packet: u64,
    },
    /// A response seen without its initiation, whose sender index the
    /// initiator's transport data then used.
    Confirmed {
        initiator_side: usize,
        initiator_index: u32,
        responder_index: u32,
        response_packet: u64,
        transport_packet: u64,
    },
}

/// Per-flow WireGuard fingerprinter; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct WireGuardTracker {
    /// Datagrams examined, refusal, the verdict reached.
    gate: Gate<Refusal>,
    directions: [Direction; 2],
    announced: [Option<Announced>; MAX_HANDSHAKE_INDICES],
    /// Responses seen without their initiation: (responder side, responder
    /// index, initiator index, packet), awaiting the initiator's transport.
    unpaired_response: Option<(usize, u32, u32, u64)>,
    pairing: Option<Pairing>,
}

impl WireGuardTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Why the flow was refused, once it was.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.gate.refusal()
    }

    /// Reads one UDP payload of the flow. `from_client` says which side
    /// sent it; `packet` is its input position, for evidence.
    ///
    /// Returns `Verdict` as soon as the evidence reaches a level; feeding
    /// more datagrams can raise it (a `Low` flow turning out two-way) or
    /// refuse the flow. After [`MAX_DATAGRAMS`] nothing more is read.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(done) = self.gate.enter(MAX_DATAGRAMS, Refusal::Undecided) {
            return done;
        }
        let side = side_of(from_client);
        if let Err(why) = Message::parse(payload).and_then(|m| self.apply(m, side, packet)) {
            return self.gate.refuse(why);
        }
        let v = self.level(false).map(|level| self.build(level));
        self.gate.conclude(MAX_DATAGRAMS, v, Refusal::Undecided)
    }

    /// What the evidence so far supports, for a caller that stops feeding
    /// (the flow ended or its inspection budget ran out). The bars are
    /// lower than on the way: a lone initiation, or [`PICKUP_EACH_WAY`] - 1
    /// transport packets each way, count.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.gate.is_refused() {
            return None;
        }
        self.level(true).map(|l| self.build(l))
    }

    fn announce(&mut self, side: usize, index: u32, packet: u64, initiation: bool) {
        let new = Some(Announced {
            side,
            index,
            packet,
            initiation,
        });
        match self.announced.iter().position(Option::is_none) {
            Some(free) => self.announced[free] = new,
            None => {
                self.announced.rotate_left(1);
                self.announced[MAX_HANDSHAKE_INDICES - 1] = new;
            }
        }
    }

    /// The handshake message that `side` sent with sender index `index`.
    fn announced_by(&self, side: usize, index: u32, initiation_only: bool) -> Option<Announced> {
        self.announced
            .iter()
            .flatten()
            .rev()
            .find(|a| a.side == side && a.index == index && (a.initiation || !initiation_only))
            .copied()
    }

    fn any_announced_by(&self, side: usize) -> bool {
        self.announced.iter().flatten().any(|a| a.side == side)
    }

    fn apply(&mut self, msg: Message, side: usize, packet: u64) -> Result<(), Refusal> {
        let other = 1 - side;
        match msg {
            Message::Initiation { sender } => {
                self.announce(side, sender, packet, true);
            }
            Message::Response { sender, receiver } => {
                match self.announced_by(other, receiver, true) {
                    Some(init) => {
                        self.pairing = Some(Pairing::Answered {
                            initiator_side: other,
                            initiator_index: receiver,
                            initiation_packet: init.packet,
                            responder_index: Some(sender),
                            answer_packet: packet,
                        });
                    }
                    None if self.any_announced_by(other) => {
                        return Err(Refusal::Unanswered {
                            kind: "handshake response",
                            index: receiver,
                        });
                    }
                    None => self.unpaired_response = Some((side, sender, receiver, packet)),
                }
                self.announce(side, sender, packet, false);
                // The initiator sends to the responder's index, the
                // responder to the initiator's.
                self.directions[other].add_session(sender, true, packet);
                self.directions[side].add_session(receiver, true, packet);
            }
            Message::CookieReply { receiver } => match self.announced_by(other, receiver, false) {
                // A cookie reply to a response, or after a pairing: fine.
                Some(a) if a.initiation && self.pairing.is_none() => {
                    self.pairing = Some(Pairing::Answered {
                        initiator_side: other,
                        initiator_index: receiver,
                        initiation_packet: a.packet,
                        responder_index: None,
                        answer_packet: packet,
                    });
                }
                Some(_) => {}
                None if self.any_announced_by(other) => {
                    return Err(Refusal::Unanswered {
                        kind: "cookie reply",
                        index: receiver,
                    });
                }
                None => {}
            },
            Message::Transport {
                receiver,
                counter,
                len,
            } => self.transport(side, receiver, counter, len, packet)?,
        }
        Ok(())
    }

    fn transport(
        &mut self,
        side: usize,
        receiver: u32,
        counter: u64,
        len: usize,
        packet: u64,
    ) -> Result<(), Refusal> {
        if counter >= MAX_COUNTER {
            return Err(Refusal::CounterRange(counter));
        }
        let dir = &mut self.directions[side];
        dir.check_size(len)?;
        if dir.session_mut(receiver).is_none() {
            // Picked up mid-flow: the session under way when the capture
            // began. Any other index must come from a handshake.
            if dir.adopted || dir.on_announced > 0 {
                return Err(Refusal::UnknownReceiver { index: receiver });
            }
            dir.adopted = true;
            dir.add_session(receiver, false, packet);
        }
        let Some(session) = dir.session_mut(receiver) else {
            return Err(Refusal::UnknownReceiver { index: receiver });
        };
        let raised = match session.highest {
            None if session.from_handshake && counter >= FRESH_COUNTER => {
                return Err(Refusal::Counter {
                    index: receiver,
                    highest: 0,
                    counter,
                });
            }
            None => {
                session.highest = Some(counter);
                false
            }
            Some(h) if counter > h => {
                if counter - h > MAX_COUNTER_STEP {
                    return Err(Refusal::Counter {
                        index: receiver,
                        highest: h,
                        counter,
                    });
                }
                session.highest = Some(counter);
                true
            }
            Some(h) => {
                if h - counter > REORDER_WINDOW {
                    return Err(Refusal::Counter {
                        index: receiver,
                        highest: h,
                        counter,
                    });
                }
                false
            }
        };
        session.last_packet = packet;
        let announced = session.from_handshake;
        dir.on_announced += u32::from(announced);
        dir.transport += 1;
        dir.increases += u32::from(raised);
        dir.keepalives += u32::from(len == KEEPALIVE_LEN);
        dir.first.get_or_insert((packet, receiver, counter));
        dir.latest = Some((packet, receiver, counter));

        let [a, b] = &self.directions;
        if let (Some(x), Some(y)) = (a.only_receiver(), b.only_receiver()) {
            if x == y && a.transport > 0 && b.transport > 0 {
                return Err(Refusal::SameIndex(x));
            }
        }
        // A response seen without its initiation is confirmed when the
        // initiator sends to the responder's index.
        if let Some((resp_side, responder_index, initiator_index, response_packet)) =
            self.unpaired_response
        {
            if side != resp_side && receiver == responder_index && self.pairing.is_none() {
                self.pairing = Some(Pairing::Confirmed {
                    initiator_side: side,
                    initiator_index,
                    responder_index,
                    response_packet,
                    transport_packet: packet,
                });
            }
        }
        Ok(())
    }

    /// The confidence the evidence supports; `at_end` lowers the bars for
    /// a flow that will send no more.
    fn level(&self, at_end: bool) -> Option<Confidence> {
        if self.pairing.is_some() {
            return Some(Confidence::High);
        }
        let [c, s] = &self.directions;
        let (each, one) = if at_end {
            (PICKUP_EACH_WAY - 1, PICKUP_ONE_WAY / 2)
        } else {
            (PICKUP_EACH_WAY, PICKUP_ONE_WAY)
        };
        let steady = |d: &Direction, n: u32| d.transport >= n && d.increases + 1 >= n;
        if steady(c, each) && steady(s, each) {
            return Some(Confidence::Medium);
        }
        if (steady(c, one) && s.transport == 0) || (steady(s, one) && c.transport == 0) {
            return Some(Confidence::Low);
        }
        if at_end && self.announced.iter().flatten().any(|a| a.initiation) {
            return Some(Confidence::Low);
        }
        None
    }

    fn build(&self, confidence: Confidence) -> VpnVerdict {
        let mut details: VpnDetails = Vec::new();
        let mut evidence = Vec::new();
        let mut note = |packet: u64, clue: Clue| {
            evidence.push(Evidence {
                packet,
                what: facts::Clue::WireGuard(clue),
            })
        };
        match self.pairing {
            Some(Pairing::Answered {
                initiator_side,
                initiator_index,
                initiation_packet,
                responder_index,
                answer_packet,
            }) => {
                details.push(("initiator", Value::Side(initiator_side)));
                details.push(("initiator_index", Value::Hex32(initiator_index)));
                note(
                    initiation_packet,
                    Clue::Initiation {
                        side: initiator_side,
                        sender: initiator_index,
                    },
                );
                match responder_index {
                    Some(r) => {
                        details.push(("responder_index", Value::Hex32(r)));
                        note(
                            answer_packet,
                            Clue::Response {
                                side: 1 - initiator_side,
                                sender: r,
                                receiver: initiator_index,
                            },
                        );
                    }
                    None => note(
                        answer_packet,
                        Clue::CookieReply {
                            side: 1 - initiator_side,
                            receiver: initiator_index,
                        },
                    ),
                }
            }
            Some(Pairing::Confirmed {
                initiator_side,
                initiator_index,
                responder_index,
                response_packet,
                transport_packet,
            }) => {
                details.push(("initiator", Value::Side(initiator_side)));
                details.push(("initiator_index", Value::Hex32(initiator_index)));
                details.push(("responder_index", Value::Hex32(responder_index)));
                note(
                    response_packet,
                    Clue::ResponseAlone {
                        side: 1 - initiator_side,
                        sender: responder_index,
                        receiver: initiator_index,
                    },
                );
                note(
                    transport_packet,
                    Clue::TransportToResponder {
                        side: initiator_side,
                        receiver: responder_index,
                    },
                );
            }
            None => {
                for (side, d) in self.directions.iter().enumerate() {
                    let (Some(first), Some(latest)) = (d.first, d.latest) else {
                        continue;
                    };
                    // The receiver index a side sends to was allocated by its peer.
                    let key = if side == 0 {
                        "server_index"
                    } else {
                        "client_index"
                    };
                    details.push((key, Value::Hex32(first.1)));
                    note(
                        first.0,
                        Clue::TransportFirst {
                            side,
                            receiver: first.1,
                            counter: first.2,
                        },
                    );
                    note(
                        latest.0,
                        Clue::TransportRun {
                            count: d.transport,
                            side,
                            receiver: first.1,
                            from: first.2,
                            to: latest.2,
                        },
                    );
                }
                if evidence.is_empty() {
                    if let Some(a) = self.announced.iter().flatten().find(|a| a.initiation) {
                        details.push(("initiator", Value::Side(a.side)));
                        details.push(("initiator_index", Value::Hex32(a.index)));
                        evidence.push(Evidence {
                            packet: a.packet,
                            what: facts::Clue::WireGuard(Clue::InitiationUnanswered {
                                side: a.side,
                                sender: a.index,
                            }),
                        });
                    }
                }
            }
        }
        let keepalives: u32 = self.directions.iter().map(|d| d.keepalives).sum();
        details.push(("keepalives", Value::Number(keepalives.into())));
        VpnVerdict {
            protocol: VpnProtocol::WireGuard,
            confidence,
            details,
            evidence,
        }
    }
}

/// What a WireGuard packet showed, for a verdict's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    Initiation {
        side: usize,
        sender: u32,
    },
    /// A response answering the initiation seen.
    Response {
        side: usize,
        sender: u32,
        receiver: u32,
    },
    CookieReply {
        side: usize,
        receiver: u32,
    },
    /// A response whose initiation was not seen.
    ResponseAlone {
        side: usize,
        sender: u32,
        receiver: u32,
    },
    /// Transport data to the index a response announced.
    TransportToResponder {
        side: usize,
        receiver: u32,
    },
    /// The first transport packet of a side, no handshake seen.
    TransportFirst {
        side: usize,
        receiver: u32,
        counter: u64,
    },
    /// A side's run of transport packets.
    TransportRun {
        count: u32,
        side: usize,
        receiver: u32,
        from: u64,
        to: u64,
    },
    InitiationUnanswered {
        side: usize,
        sender: u32,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Clue::Initiation { side, sender } => write!(
                f,
                "handshake initiation from the {}: type 1, {INITIATION_LEN} bytes, reserved zero, sender index {}",
                side_name(side),
                Hex32(sender)
            ),
            Clue::Response {
                side,
                sender,
                receiver,
            } => write!(
                f,
                "handshake response from the {}: type 2, {RESPONSE_LEN} bytes, sender index {}, receiver index {} = the initiation's sender",
                side_name(side),
                Hex32(sender),
                Hex32(receiver)
            ),
            Clue::CookieReply { side, receiver } => write!(
                f,
                "cookie reply from the {}: type 3, {COOKIE_REPLY_LEN} bytes, receiver index {} = the initiation's sender",
                side_name(side),
                Hex32(receiver)
            ),
            Clue::ResponseAlone {
                side,
                sender,
                receiver,
            } => write!(
                f,
                "handshake response from the {} (its initiation not seen): type 2, {RESPONSE_LEN} bytes, sender index {}, receiver index {}",
                side_name(side),
                Hex32(sender),
                Hex32(receiver)
            ),
            Clue::TransportToResponder { side, receiver } => write!(
                f,
                "transport data from the {} to receiver index {} = the response's sender",
                side_name(side),
                Hex32(receiver)
            ),
            Clue::TransportFirst {
                side,
                receiver,
                counter,
            } => write!(
                f,
                "transport data from the {} (no handshake seen): type 4, receiver index {}, counter {counter}",
                side_name(side),
                Hex32(receiver)
            ),
            Clue::TransportRun {
                count,
                side,
                receiver,
                from,
                to,
            } => write!(
                f,
                "{count} transport packets from the {} on receiver index {}, counters {from}..={to} increasing, sizes 16-byte padded",
                side_name(side),
                Hex32(receiver)
            ),
            Clue::InitiationUnanswered { side, sender } => write!(
                f,
                "handshake initiation from the {}, unanswered: type 1, {INITIATION_LEN} bytes, sender index {}",
                side_name(side),
                Hex32(sender)
            ),
        }
    }
}

/// The WireGuard dissector.
#[derive(Debug)]
pub struct WireGuard(WireGuardTracker);

impl Dissector for WireGuard {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;

    /// A WireGuard message: type 1 to 4, three zero bytes, at least a
    /// keepalive's size.
    fn probe(b: &[u8], _side: usize) -> Probe {
        if b.len() >= 32 && (1..=4).contains(&b[0]) && b[1..4] == [0, 0, 0] {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        WireGuard(WireGuardTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_datagram(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// Negative controls and helpers shared by the VPN fingerprinters' tests:
/// real packets of protocols that must never pass for a VPN.
#[cfg(test)]
pub(crate) mod controls {
    /// Decodes a hex fixture (whitespace and line continuations ignored).
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// A seeded xorshift64 generator: the same "random" payloads every run.
    pub(crate) struct XorShift(pub u64);

    impl XorShift {
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }

        pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    /// The negative controls, by name.
    pub(crate) fn all() -> Vec<(&'static str, Vec<u8>)> {
        [
            ("uTP ST_SYN", UTP_SYN),
            ("uTP ST_STATE", UTP_STATE),
            ("uTP ST_DATA", UTP_DATA),
            ("uTP ST_STATE 2", UTP_STATE_2),
            ("uTP ST_DATA 2", UTP_DATA_2),
            ("DNS query", DNS_QUERY),
            ("DNS response", DNS_RESPONSE),
            ("STUN request", STUN_REQUEST),
            ("STUN response", STUN_RESPONSE),
            ("QUIC Initial", QUIC_INITIAL),
        ]
        .into_iter()
        .map(|(n, h)| (n, hex(h)))
        .collect()
    }

    /// BitTorrent uTP, bittorrent_utp.pcap frame 3: ST_SYN (20 bytes).
    pub(crate) const UTP_SYN: &str = "\
        4100530210eeb2f00000000000000000e7f50000";

    /// BitTorrent uTP, bittorrent_utp.pcap frame 4: ST_STATE (30 bytes).
    pub(crate) const UTP_STATE: &str = "\
        2102530206ff3f5f7fffffff0000f00049c7e7f500080000000000000000";

    /// BitTorrent uTP, bittorrent_utp.pcap frame 5: ST_DATA (210 bytes).
    pub(crate) const UTP_DATA: &str = "\
        0100530310f0687609f1291700100000e7f649c613426974546f7272656e7420\
        70726f746f636f6c00000000001800050ca4c8e7fb26a354b1a7aa15baeaf260\
        67c668112d4c54313130302d31466135333152744c7576770000007105000000\
        0000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000\
        00000000000000000000000007ffffffffffffffffffffefffdf7fffbfffffef\
        fbeffbfff7ff7fffffb7ffb9800000000101";

    /// BitTorrent uTP, bittorrent_utp.pcap frame 7: ST_STATE (20 bytes).
    pub(crate) const UTP_STATE_2: &str = "\
        210053020702908cf6109f290000f00049c8e7f6";

    /// BitTorrent uTP, bittorrent_utp.pcap frame 9: ST_DATA (75 bytes).
    pub(crate) const UTP_DATA_2: &str = "\
        010053020704b2def610895f0000f00049c8e7f600000003099fff0000000102\
        0000000d060000037800000000000040000000000d0600000378000040000000\
        400000000005040000015c";

    /// DNS query for www.example.com AAAA, dns.pcap frame 2 (33 bytes).
    pub(crate) const DNS_QUERY: &str = "\
        bc1f0100000100000000000003777777076578616d706c6503636f6d00001c00\
        01";

    /// its response, dns.pcap frame 3 (33 bytes).
    pub(crate) const DNS_RESPONSE: &str = "\
        bc1f8180000100000000000003777777076578616d706c6503636f6d00001c00\
        01";

    /// STUN Binding Request, stun_classic.pcap frame 1 (28 bytes).
    pub(crate) const STUN_REQUEST: &str = "\
        000100089429ef88294dd52632c72931cb8dbb4c0003000400000000";

    /// STUN Binding Success Response, stun_classic.pcap frame 3 (32 bytes).
    pub(crate) const STUN_RESPONSE: &str = "\
        8092ae1504e9f9983aa6d92292d8852000fad4afbd2c19c8c2835fb215692dd6";

    /// QUIC v1 client Initial, quic_frags_ch_in_multiple_packets.pcapng frame 1 (1232 bytes).
    pub(crate) const QUIC_INITIAL: &str = "\
        c30000000108e0ea07d1045fdfdf085bb4b299cb9dcac40044b6b9cce1dff490\
        8dedd93e453b7453113bc0dc71a19ab6f09d099af923d83e7f22618b8774a690\
        5bc4a8bd7d3e5787673ec7983bee154d266575e89f813f15350401d38b5addc1\
        3264c0e9291b5e816e1d7a4928e473d46c48a274d99240eb8fde91fff12a0bf7\
        1eed4c143383638bdd4a42aa30275f5ea9140750f95fd16ea2757b2cd615d6f0\
        0507761ee0b1fc88f5e75051448d979ffcfe003078ad51785833aeb739b5d0ef\
        2c876b2c2c57b663230a11e4858643b65b131c01ab4d036950e2a257237d8ada\
        4ca01b8582ed0f016f485314c1bf9b2c049fbcb8d79d4e493e276540cabc3958\
        7155a3b85faa4d5b296bf887edcd94bb23e1a5362f2231f441e654c59cd98524\
        c57a3d8b5b01653f6605ce91b08894b005a88b318fb9ffbd038a80259aac950b\
        b48534b026e3eedf51cfc226c7f47fc1436cf1a3304178af87f9fb42d5647f78\
        532e16774b6c4ac00e988c63c703188602d5566ad5b7b4c1471668b4bb0c3001\
        392a06380b7ec9ec0282bef874e2f5c98f5cf7510558189878f19f63d831fad9\
        af3f0d05d2ef871479ab20a1723ffdf72acaa1bff9d127904cb2425f5fe74562\
        c13cd4cea841c2bd351d96a907c74104875274e2dc53fc6eef7db9078804e8c6\
        eb66beb0e8363b0a1ace81cd955b0a317a1b19a38d6b58166c390348c8fccbbf\
        d2740518a9fb0ec626663173edee6deea0c5d6b3f56f929f8dc2b1b44842b85b\
        0a01c66972df2c6df761c694e17fba961669643211ae97c796278d9341381c77\
        ef996ea74d79307291ca51cfcb5ade7e5a8b875afc4c9f8c7e95d403bd7d7ed7\
        9f3b095dd7330c0164cd916b36ad1211d6d51277393fb10b78227bab669a7310\
        76e5ec78599cf95d89693e7faba31153f4e5c18d11abb12d27cf996f3197a88b\
        aee23c42c7da0c9a2ebacfae6e5f0dea20d34e794c475c9c9ca405b0e437b857\
        3695478970ca0cca1aa967c782f7254bde223fa839bca1ec5e7a36a4dee42e14\
        570d2b5ce2b9bea0ca69fad2383be489e2134e0c74dc1da950d296f512eed4f8\
        6d6d7519b98d2088f9e03df2a08cc116c1b81a87922fc939ef79a2fab04a9ff6\
        37ebde416bb32f86356fceca8ae40e746923c4687f31b0d6d2f188394f821d67\
        f6b1f2475a5175bcbd0677ffac31c47936b1a2d3f45a10298201c21daff21491\
        02cd5aacf5a4bb8b6c960dc25f4b8d001729d43f55062a125efee5315e287ba9\
        7b61790ec55f122402156fddc3e809103bd427ecd84fc47b2d5f54a456e65309\
        5bd3eb88973b1a85adcb1ef4a4e759b0af075e24043e260a25a4a2a0dd1caf6f\
        010eba4c51fba72515a7f0f88b9975264edb883086e11721b2f8443ac619c3f8\
        0ff484b24d58d1cc5cbbbf91f501a2ea402504c271fb0286881a7aa803e9ee5e\
        49808de4f4fdf97a46377f867f83f125f0ec4e3b11632f6925cb5f68f0b786a8\
        723a340a7c2c76adba6f802f4f311541c898ed2c9c469e425402e1b797a5056a\
        4515be8b19fb933ade551cb37f7eaf7aae883039caeecd009f00fe2f3b941c64\
        1becb599dc835ec6810c27dc2b76713ffb2865c638afed1009a48a6312b74e77\
        224dbb954f67a68097baa04d7b24568c28bffea0da80de5cbe4a7cb9dcb1eddc\
        39c65737d64069d22694f6c35c468a2972f654df0322ec77e7ef981b6e1f6d25\
        a7c3ebb3b66055420631dfe9592455fe";
}

#[cfg(test)]
mod tests {
    use super::controls::{hex, XorShift};
    use super::*;

    /// Handshake initiation, client 10.202.0.1:43822 -> 51820, sender index 0x187fb19a: wireguard-udp-51820.pcap frame 1 (148 bytes).
    const INITIATION: &str = "\
        010000009ab17f180559c73885e754de9bf130a8043401c19c58c844a63cd523\
        4ef6dd0b20780d59374660685522b5c008eec95cb82672d4c248444adaff517b\
        719a7b966a9ad1391da5825f837913af182ea9dc1e394f22698cf0a43df934c4\
        b1e57427d923e72ad4fb7c2ceddbf92e9dc1bb8e1c7a24402142e751d0662378\
        642b7fed00000000000000000000000000000000";

    /// Handshake response, sender 0x4b84a6f0, receiver 0x187fb19a: frame 2 (92 bytes).
    const RESPONSE: &str = "\
        02000000f0a6844b9ab17f18ac76bb6efca5c8070a0eb0acd06be2e716f8a0f7\
        296bc64d04393d43bb624b0289d7363fc3736e7bae38bb2e6712808b2830ebb8\
        0f2a2f0219ace509e220bb1200000000000000000000000000000000";

    /// Keepalive from the client, receiver 0x4b84a6f0, counter 0: frame 3 (32 bytes).
    const KEEPALIVE: &str = "\
        04000000f0a6844b0000000000000000f87d3a03e1cbcb590b2dc2d03610303d";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 4 (128 bytes).
    const CLIENT_DATA_4: &str = "\
        04000000f0a6844b01000000000000009337b727fb8b71d39b780945beeecb04\
        93e28edcba51ebb1f3e275ebd8105c5014c8182fe7cb5e0e6cbd2f9e705fe5bd\
        09e91ca92ebab405e05efa6c36ca8d65132e5a9a0748dce1cf885eb8fadf9080\
        62c9899896621ed2e2856747a794003dd926acb61620630d4a61af928665b3fa";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 6 (128 bytes).
    const CLIENT_DATA_6: &str = "\
        04000000f0a6844b0200000000000000b434476d1f4591ff8fb3dd7a44d907b6\
        1cd2bd4ec2a85e1047a73379b9cc8f1c48ddef786f9a8a468f65e3352f97cc48\
        3fcb995d1a56dad46cd47ddcbe1776bf7b8c51fe02f6d7e299b41102bfaba53f\
        2055503d2d97fd6fb00d157e71ef2f0eb03d6dc890e9767932f391fc6704f39d";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 8 (128 bytes).
    const CLIENT_DATA_8: &str = "\
        04000000f0a6844b0300000000000000699233e57367b6060b7793ff6c6e283e\
        1df909f654e35606b713125d755bb2c05ce6ba9cd8db4207a201e203544ea766\
        94ab1c1aec4f6072ed092288ef6fccaff1ad1fa41644433ef81ee525899a2d60\
        765ae067c0df7444c761f0517312bbf33435485df142315a6b11fd8c54e06ea0";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 10 (128 bytes).
    const CLIENT_DATA_10: &str = "\
        04000000f0a6844b04000000000000000b66b441072d907b21cd9f6b39cf7dcb\
        699a112018d17a2dbaa15813dc0ec163e5388d34f76fe431e41248d2ca18758d\
        82ded183674f0bf23121012e9150ee07dddac924aeee2ca67bcbda538699adf5\
        51e3929ebb3f64cf593a59a5d065a981da95b91886c92dc6bd3af4a1f43e7cdc";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 12 (128 bytes).
    const CLIENT_DATA_12: &str = "\
        04000000f0a6844b05000000000000000631dc268c901c4b54ed2f6e6890e86c\
        67a04bb944d256f8d449d06798de5be36c89945d3b8895c450586519be4fa272\
        c8e947c1b97a4c141d308fe5fc0561f6b21af25f2b72966ff876cdfa9e4007ad\
        5210d925881de65d08d64e170547d39de9872e505e7d3498129f1d7d1a118a3f";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 14 (96 bytes).
    const CLIENT_DATA_14: &str = "\
        04000000f0a6844b060000000000000048da2333f3ca17dce0324912027b4fe4\
        cf34df23afa04ca09d609bbf2783535007444541d08241b0a2303c463bb7844a\
        63599d65962bcf501b48eeb5ca17039f9301511977009c1191c92f54728888a3";

    /// Transport data from the client, receiver 0x4b84a6f0: frame 16 (96 bytes).
    const CLIENT_DATA_16: &str = "\
        04000000f0a6844b0700000000000000db452caa541c65ec8f28867529c6727f\
        c300cbcd94810f83991c1f586f7c996971a09c5ee1b30f514fcddeae3054b831\
        07f998e06aaba62845886ac5b0e40e8d1deff98a0225c8914c9b6b7f5efbd2df";

    /// mullvad_wireguard.pcap frame 1 (96 bytes).
    const MULLVAD_1: &str = "\
        040000001576497913000000000000003bc85395c81aa144b19f96e639fb04b8\
        9c8880767cf1142a03a1ec927c93f14471f015aca7fab94ec21d632e0e94af5a\
        3b50604bd5f5c3280cfe33233e6e04dcc64cd10007c40ff94e1dbb0d31b619bf";

    /// mullvad_wireguard.pcap frame 2 (96 bytes).
    const MULLVAD_2: &str = "\
        04000000b048101c0f000000000000000b084e9cecdcdaa3fe69e005cc0bb9cb\
        40d096d1d35e314bf0e81535c3ae4f30d6c71f7f03c65d542193cf4f59bf2fb7\
        0fa938fad9372a285aee6d1e6f4a71756ae2189eaf5e042a71293edaead29cbe";

    /// mullvad_wireguard.pcap frame 3 (80 bytes).
    const MULLVAD_3: &str = "\
        04000000157649791400000000000000bf0c8ca1563fbb8fea9cb26b4dd7235a\
        888db64d4ac45e1e7aa1421a5b526399379ab48870533e68a7ca6f4e85f5ff22\
        642f68afed7808a08882cfae97c60550";

    /// mullvad_wireguard.pcap frame 5 (80 bytes).
    const MULLVAD_5: &str = "\
        04000000b048101c1000000000000000e9ae8002c47d20ed3f212751ae0654fe\
        160fabf1eaf99c76aef8a79b9623cc199ddc1e4e0d9a20be84d804048bbe0aa1\
        19b3fafc7f066588d8eeada0cebe464d";

    /// mullvad_wireguard.pcap frame 7 (80 bytes).
    const MULLVAD_7: &str = "\
        04000000157649791600000000000000ac9cff55afec53e6207b1bb3e140e69b\
        0e4e4c2b6d901dd569b3b5a13addd90f9b0acb5df858514923edd5ab47027567\
        c0af7488c4aba85ebb14f5b823f626a7";

    /// mullvad_wireguard.pcap frame 8 (80 bytes).
    const MULLVAD_8: &str = "\
        040000001576497917000000000000001306513aa2c0418f76ae86c9ba0f0402\
        49d42f589288d17fd8b27575e82d4e9af49182174d425d1a051b6b324c084be5\
        262e1fb58cbcff49638de9b8f9d93efe";

    /// mullvad_wireguard.pcap frame 9 (80 bytes).
    const MULLVAD_9: &str = "\
        04000000b048101c1200000000000000c81247ccccbbc4026c026d1967077de0\
        217a6ffece57e2b5d0b5d9d8dc57a12dd25c6e97e981d82328614735765a3837\
        10d7492c579c160201e154fba133fdf4";

    /// mullvad_wireguard.pcap frame 10 (80 bytes).
    const MULLVAD_10: &str = "\
        04000000157649791800000000000000e1fd795dda7f53496de56dcebc27fdf0\
        2716e291e3f9742178a3939e5b8965254dd2bb5ee2220225045c39ae17148086\
        c95261777d05ef9a0f6064236bfc0678";

    const CLIENT_DATA: [&str; 7] = [
        CLIENT_DATA_4,
        CLIENT_DATA_6,
        CLIENT_DATA_8,
        CLIENT_DATA_10,
        CLIENT_DATA_12,
        CLIENT_DATA_14,
        CLIENT_DATA_16,
    ];

    /// Feeds (payload, from_client) pairs numbered from 1; returns the
    /// progress after each.
    fn feed(t: &mut WireGuardTracker, packets: &[(Vec<u8>, bool)]) -> Vec<Progress> {
        packets
            .iter()
            .enumerate()
            .map(|(i, (p, c))| t.on_datagram(p, *c, i as u64 + 1))
            .collect()
    }

    fn verdict(p: &Progress) -> &VpnVerdict {
        match p {
            Progress::Verdict(v) => v,
            other => panic!("expected a verdict, got {other:?}"),
        }
    }

    fn detail(v: &VpnVerdict, key: &str) -> Option<String> {
        v.detail(key)
    }

    fn with_counter(mut b: Vec<u8>, counter: u64) -> Vec<u8> {
        b[8..16].copy_from_slice(&counter.to_le_bytes());
        b
    }

    #[test]
    fn reads_each_message_kind() {
        assert_eq!(
            Message::parse(&hex(INITIATION)),
            Ok(Message::Initiation {
                sender: 0x187f_b19a
            })
        );
        assert_eq!(
            Message::parse(&hex(RESPONSE)),
            Ok(Message::Response {
                sender: 0x4b84_a6f0,
                receiver: 0x187f_b19a
            })
        );
        assert_eq!(
            Message::parse(&hex(KEEPALIVE)),
            Ok(Message::Transport {
                receiver: 0x4b84_a6f0,
                counter: 0,
                len: KEEPALIVE_LEN
            })
        );
        // tshark: "Transport Data, receiver=0x79497615, counter=19, datalen=64".
        assert_eq!(
            Message::parse(&hex(MULLVAD_1)),
            Ok(Message::Transport {
                receiver: 0x7949_7615,
                counter: 19,
                len: 96
            })
        );
    }

    #[test]
    fn initiation_and_matching_response_are_high() {
        let mut t = WireGuardTracker::new();
        let p = feed(&mut t, &[(hex(INITIATION), true), (hex(RESPONSE), false)]);
        assert_eq!(p[0], Progress::Candidate);
        let v = verdict(&p[1]);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::WireGuard, Confidence::High)
        );
        assert_eq!(detail(v, "initiator").as_deref(), Some("client"));
        assert_eq!(detail(v, "initiator_index").as_deref(), Some("0x187fb19a"));
        assert_eq!(detail(v, "responder_index").as_deref(), Some("0x4b84a6f0"));
        assert_eq!(
            v.evidence.iter().map(|f| f.packet).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(v.evidence[1]
            .what
            .to_string()
            .contains("= the initiation's sender"));
    }

    #[test]
    fn keepalive_and_data_after_the_handshake_keep_the_verdict() {
        let mut t = WireGuardTracker::new();
        let mut packets = vec![
            (hex(INITIATION), true),
            (hex(RESPONSE), false),
            (hex(KEEPALIVE), true),
        ];
        packets.extend(CLIENT_DATA.iter().map(|h| (hex(h), true)));
        let p = feed(&mut t, &packets);
        for v in &p[1..] {
            assert_eq!(verdict(v).confidence, Confidence::High);
        }
        assert_eq!(
            detail(verdict(&p[p.len() - 1]), "keepalives").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn one_way_transport_picked_up_mid_flow_is_low() {
        // The client's side of the recorded flow without its handshake: a
        // keepalive and seven data packets on one receiver index.
        let mut t = WireGuardTracker::new();
        let mut packets = vec![(hex(KEEPALIVE), true)];
        packets.extend(CLIENT_DATA.iter().map(|h| (hex(h), true)));
        let p = feed(&mut t, &packets);
        assert!(p[..7].iter().all(|p| *p == Progress::Candidate), "{p:?}");
        let v = verdict(&p[7]);
        assert_eq!(v.confidence, Confidence::Low);
        assert_eq!(detail(v, "server_index").as_deref(), Some("0x4b84a6f0"));
        assert_eq!(detail(v, "keepalives").as_deref(), Some("1"));
        assert_eq!(v.evidence.len(), 2);

        // A flow that ends after four such packets is Low as well.
        let mut t = WireGuardTracker::new();
        feed(&mut t, &packets[..4]);
        assert_eq!(t.verdict().map(|v| v.confidence), Some(Confidence::Low));
        let mut t = WireGuardTracker::new();
        feed(&mut t, &packets[..3]);
        assert_eq!(t.verdict(), None);
    }

    #[test]
    fn mullvad_transport_both_ways_without_handshake_is_medium() {
        // mullvad_wireguard.pcap starts mid-session: client 192.168.122.11
        // on receiver 0x79497615 (counters 19..24), server on 0x1c1048b0
        // (15..18); frames 4 and 6 are left out (counter gaps are fine).
        let client = [true, false, true, false, true, true, false, true];
        let frames = [
            MULLVAD_1, MULLVAD_2, MULLVAD_3, MULLVAD_5, MULLVAD_7, MULLVAD_8, MULLVAD_9, MULLVAD_10,
        ];
        let packets: Vec<_> = frames
            .iter()
            .zip(client)
            .map(|(h, c)| (hex(h), c))
            .collect();
        let mut t = WireGuardTracker::new();
        let p = feed(&mut t, &packets);
        assert!(p[..6].iter().all(|p| *p == Progress::Candidate), "{p:?}");
        let v = verdict(&p[6]);
        assert_eq!(v.confidence, Confidence::Medium);
        assert_eq!(detail(v, "server_index").as_deref(), Some("0x79497615"));
        assert_eq!(detail(v, "client_index").as_deref(), Some("0x1c1048b0"));
        assert_eq!(verdict(&p[7]).confidence, Confidence::Medium);
    }

    #[test]
    fn the_session_running_before_a_rekey_is_adopted_once() {
        // A capture opening on a rekey: right after the new handshake the
        // initiator may still send on the session it had before (whose
        // index no captured handshake announced). One such index per
        // direction is taken; a second is not.
        let mut t = WireGuardTracker::new();
        let p = feed(
            &mut t,
            &[
                (hex(INITIATION), true),
                (hex(RESPONSE), false),
                (hex(MULLVAD_1), true),
                (hex(KEEPALIVE), true),
            ],
        );
        assert_eq!(verdict(&p[3]).confidence, Confidence::High);
        let mut other = hex(MULLVAD_3);
        other[4] ^= 1;
        assert_eq!(t.on_datagram(&other, true, 5), Progress::NotThis);
    }

    #[test]
    fn response_without_its_initiation_is_confirmed_by_transport() {
        let mut t = WireGuardTracker::new();
        let p = feed(&mut t, &[(hex(RESPONSE), false), (hex(KEEPALIVE), true)]);
        assert_eq!(p[0], Progress::Candidate);
        let v = verdict(&p[1]);
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(v, "responder_index").as_deref(), Some("0x4b84a6f0"));
    }

    #[test]
    fn a_flow_breaking_the_pattern_is_not_this() {
        let hs = || vec![(hex(INITIATION), true), (hex(RESPONSE), false)];
        type Packets = Vec<(Vec<u8>, bool)>;
        type Check = fn(&Refusal) -> bool;
        let cases: Vec<(&str, Packets, Check)> = vec![
            (
                "uTP after a handshake",
                {
                    let mut v = hs();
                    v.push((hex(super::controls::UTP_DATA), true));
                    v
                },
                |r| matches!(r, Refusal::Reserved(_)),
            ),
            (
                "a receiver index no handshake announced, once the side uses its session",
                {
                    let mut v = hs();
                    v.push((hex(KEEPALIVE), true));
                    v.push((hex(MULLVAD_1), true));
                    v
                },
                |r| matches!(r, Refusal::UnknownReceiver { index: 0x7949_7615 }),
            ),
            (
                "a counter leaping ahead",
                vec![
                    (hex(CLIENT_DATA_4), true),
                    (
                        with_counter(hex(CLIENT_DATA_6), 2 + MAX_COUNTER_STEP + 1),
                        true,
                    ),
                ],
                |r| matches!(r, Refusal::Counter { .. }),
            ),
            (
                "a counter falling far back",
                vec![
                    (with_counter(hex(CLIENT_DATA_4), 1000), true),
                    (
                        with_counter(hex(CLIENT_DATA_6), 1000 - REORDER_WINDOW - 1),
                        true,
                    ),
                ],
                |r| matches!(r, Refusal::Counter { .. }),
            ),
            (
                "a counter beyond a session's life",
                vec![(with_counter(hex(CLIENT_DATA_4), MAX_COUNTER), true)],
                |r| matches!(r, Refusal::CounterRange(_)),
            ),
            (
                "a response to an initiation never sent",
                {
                    let mut r = hex(RESPONSE);
                    r[8] ^= 1;
                    vec![(hex(INITIATION), true), (r, false)]
                },
                |r| matches!(r, Refusal::Unanswered { .. }),
            ),
            (
                "both directions on one index",
                vec![(hex(CLIENT_DATA_4), true), (hex(CLIENT_DATA_6), false)],
                |r| matches!(r, Refusal::SameIndex(0x4b84_a6f0)),
            ),
            (
                "a fresh session's counter far from zero",
                {
                    let mut v = hs();
                    v.push((with_counter(hex(KEEPALIVE), FRESH_COUNTER), true));
                    v
                },
                |r| matches!(r, Refusal::Counter { .. }),
            ),
        ];
        for (what, packets, expected) in cases {
            let mut t = WireGuardTracker::new();
            let p = feed(&mut t, &packets);
            assert_eq!(p.last(), Some(&Progress::NotThis), "{what}: {p:?}");
            let r = t.refusal().expect("a refusal");
            assert!(expected(r), "{what}: refused for {r}");
            // Once refused, always refused.
            assert_eq!(t.on_datagram(&hex(KEEPALIVE), true, 99), Progress::NotThis);
            assert_eq!(t.verdict(), None);
        }
    }

    #[test]
    fn sizes_are_exact() {
        let init = hex(INITIATION);
        let resp = hex(RESPONSE);
        let data = hex(CLIENT_DATA_4);
        let mut longer = init.clone();
        longer.push(0);
        for (what, b) in [
            ("initiation + 1", longer),
            ("initiation - 1", init[..147].to_vec()),
            ("response - 4", resp[..88].to_vec()),
            ("transport 33", data[..33].to_vec()),
            ("transport 31", data[..31].to_vec()),
            ("transport 100 (unaligned, small)", data[..100].to_vec()),
        ] {
            assert!(Message::parse(&b).is_err(), "{what}");
        }
        // Unaligned transport is only a full-MTU packet, one size per
        // direction, longer than every aligned one.
        let mtu = |len: usize| {
            let mut b = data.clone();
            b.resize(len, 0);
            b
        };
        let mut t = WireGuardTracker::new();
        assert_eq!(
            feed(
                &mut t,
                &[
                    (mtu(1452), true),
                    (with_counter(mtu(1440), 9), true),
                    (with_counter(mtu(1452), 10), true)
                ]
            ),
            vec![
                Progress::Candidate,
                Progress::Candidate,
                Progress::Candidate
            ]
        );
        assert_eq!(
            t.on_datagram(&with_counter(mtu(1444), 11), true, 4),
            Progress::NotThis
        );
        assert!(matches!(t.refusal(), Some(Refusal::PaddingCap { .. })));
    }

    #[test]
    fn utp_never_passes() {
        use super::controls::*;
        // Each uTP packet alone, and the flow as captured.
        for (name, b) in all().into_iter().filter(|(n, _)| n.starts_with("uTP")) {
            let mut t = WireGuardTracker::new();
            assert_eq!(t.on_datagram(&b, true, 1), Progress::NotThis, "{name}");
        }
        // The worst case: uTP with extension 0 and connection id 0, so the
        // three bytes after an ST_DATA's 0x01 are zero. Only a packet of
        // exactly 148 bytes reads as an initiation; the next uTP packet of
        // the flow (ST_STATE, 0x21) ends it.
        let mut data = hex(UTP_DATA);
        data[1..4].fill(0);
        data.truncate(INITIATION_LEN);
        let mut state = hex(UTP_STATE);
        state[1..4].fill(0);
        let mut t = WireGuardTracker::new();
        assert_eq!(t.on_datagram(&data, true, 1), Progress::Candidate);
        assert_eq!(t.on_datagram(&state, false, 2), Progress::NotThis);
        // ST_DATA packets whose first four bytes were rewritten to a
        // transport header still fail: uTP's timestamp sits where the
        // receiver index must stay constant.
        let mut t = WireGuardTracker::new();
        let mut last = Progress::Candidate;
        for (i, mut b) in [hex(UTP_DATA), hex(UTP_DATA_2)].into_iter().enumerate() {
            b[..4].copy_from_slice(&[4, 0, 0, 0]);
            b.resize(KEEPALIVE_LEN + 16 * (b.len() / 16), 0);
            last = t.on_datagram(&b, true, i as u64 + 1);
        }
        assert_eq!(last, Progress::NotThis);
    }

    #[test]
    fn dns_stun_and_quic_are_refused_at_once() {
        for (name, b) in super::controls::all() {
            let mut t = WireGuardTracker::new();
            assert_eq!(t.on_datagram(&b, true, 1), Progress::NotThis, "{name}");
        }
    }

    #[test]
    fn random_payloads_never_decide() {
        let mut rng = XorShift(0x5157_4947_5541_5244);
        for flow in 0..4000 {
            let mut t = WireGuardTracker::new();
            let packets = 1 + rng.below(12);
            // Half the flows get WireGuard's first four bytes, to reach the
            // index and counter rules.
            let shaped = flow % 2 == 0;
            for i in 0..packets {
                let len = rng.below(1500) as usize;
                let mut b = rng.bytes(len);
                if shaped && len >= 4 {
                    b[..4].copy_from_slice(&[1 + (rng.below(4) as u8), 0, 0, 0]);
                }
                let p = t.on_datagram(&b, rng.below(2) == 0, i + 1);
                assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}: {p:?}");
                if p == Progress::NotThis {
                    break;
                }
            }
            // A lone shaped 148-byte datagram would be a Low initiation;
            // random lengths essentially never give one.
            assert_eq!(t.verdict(), None, "flow {flow}");
        }
    }

    #[test]
    fn truncated_and_mutated_messages_never_panic() {
        let mut rng = XorShift(7);
        let mut fixtures: Vec<Vec<u8>> = [INITIATION, RESPONSE, KEEPALIVE, MULLVAD_1]
            .iter()
            .map(|h| hex(h))
            .collect();
        fixtures.extend(super::controls::all().into_iter().map(|(_, b)| b));
        for f in &fixtures {
            for cut in 0..=f.len() {
                let _ = Message::parse(&f[..cut]);
                let mut t = WireGuardTracker::new();
                t.on_datagram(&f[..cut], true, 1);
                t.on_datagram(f, false, 2);
                let _ = t.verdict();
            }
            for _ in 0..200 {
                let mut m = f.clone();
                if !m.is_empty() {
                    let i = rng.below(m.len() as u64) as usize;
                    m[i] ^= 1 << rng.below(8);
                }
                let mut t = WireGuardTracker::new();
                t.on_datagram(f, true, 1);
                t.on_datagram(&m, false, 2);
            }
        }
    }

    #[test]
    fn undecided_flows_stop_at_the_cap() {
        // Unanswered initiations, retransmitted: consistent, never decided.
        let mut t = WireGuardTracker::new();
        let init = hex(INITIATION);
        for i in 1..MAX_DATAGRAMS {
            assert_eq!(
                t.on_datagram(&init, true, u64::from(i)),
                Progress::Candidate
            );
        }
        assert_eq!(t.on_datagram(&init, true, 99), Progress::NotThis);
        assert_eq!(t.refusal(), Some(&Refusal::Undecided(MAX_DATAGRAMS)));
        // A decided flow keeps its verdict past the cap, without reading.
        let mut t = WireGuardTracker::new();
        feed(&mut t, &[(hex(INITIATION), true), (hex(RESPONSE), false)]);
        let ka = hex(KEEPALIVE);
        for i in 0..100u64 {
            let p = t.on_datagram(&with_counter(ka.clone(), i), true, i + 3);
            assert_eq!(verdict(&p).confidence, Confidence::High);
        }
        assert!(std::mem::size_of::<WireGuardTracker>() < 1024);
    }
}
