//! AmneziaWG (1.0, 1.5, 2.0): WireGuard with junk datagrams, random
//! prefixes and renumbered message types, recognised from its structure
//! without knowing the parameters.
//!
//! What AmneziaWG changes (amneziawg-go, `device/send.go` and the kernel
//! module's README): before a handshake initiation the initiator sends
//! `Jc` junk datagrams of random bytes (1.5 and 2.0 also up to five
//! "signature" datagrams I1..I5 built from a template, and 1.5 J1..J3);
//! the initiation is `S1` random bytes followed by WireGuard's 148-byte
//! initiation whose first four bytes (type and reserved) are replaced by
//! the little-endian word `H1`; the response is `S2` random bytes and the
//! 92-byte response with type word `H2`; transport data carries type word
//! `H4` (2.0: `S4` random bytes in front, and every packet draws its type
//! word from a range `H4`). Indices and the little-endian counter stay
//! where WireGuard has them, relative to the message start.
//!
//! What is read, parameter-free ([`AwgTracker::on_datagram`]):
//! - every datagram of 148 bytes or more is a possible initiation, with
//!   `S1 = len - 148`: its sender index sits at `len - 144`;
//! - a datagram of 92 bytes or more from the other side is a response to
//!   it when, with `S2 = len - 92`, its receiver index (at `len - 84`)
//!   equals that sender index (a 32-bit echo: chance 2^-32 on random
//!   bytes per pair looked at), its size is not the initiation's
//!   (AmneziaWG forbids S1 + 56 = S2; equal sizes are a server echoing a
//!   patterned datagram), and both indices look like a random allocation
//!   (not zero, not one byte repeated, at least 5 distinct values among
//!   their 8 bytes);
//! - after that, transport data from either side names the peer's index
//!   as receiver at `S4 + 4`, with `S4` searched in `0..=`[`MAX_S4`] and
//!   then fixed, and a little-endian counter at `S4 + 8` that starts
//!   below [`FRESH_COUNTER`] and rises per direction.
//!
//! Verdicts: `High` at the first transport packet confirming the
//! handshake's indices; `Medium` (at the flow's end) for an echoed
//! handshake without transport data. Details: `initiator`,
//! `initiator_index`, `responder_index`, `s1`, `s2`, `s4` (once transport
//! is seen), `h1`, `h2`, `h4` (the type words, as numbers), `junk_packets`
//! (datagrams the initiator sent before the initiation: junk and
//! signature packets) and `version` "2.x" when transport data has a
//! random prefix (S4 > 0, which only 2.0 has); 1.0 and 1.5 cannot be told
//! apart by structure (1.5's signature packets are templated bytes that
//! mimic other protocols) and neither can a 2.0 with S4 = 0, so no version
//! is claimed then.
//!
//! Refused: a first datagram from the server that is not a response to
//! one of the client's (the initiator sends the junk, and the responder
//! answers nothing but its initiation; a responder under load answering
//! with a cookie reply is not followed); a handshake with WireGuard's own layout (S1 = S2 = 0, type
//! words 1 and 2) and nothing sent before it is plain WireGuard, the
//! [`wireguard`](super::wireguard) dissector's; a flow with no echoed
//! handshake within [`MAX_DATAGRAMS`] datagrams; a flow whose transport
//! data after the handshake never names the indices within
//! [`MAX_AFTER`] datagrams keeps the `Medium` handshake verdict only at
//! settle time.
//!
//! AmneziaWG 3.0 with a header-protection key XORs the whole handshake
//! message and every transport header with a ChaCha20 keystream: no type
//! word, no index echo and no counter is left in clear, only the sizes
//! (148 + S1, 92 + S2, S4 + 32 + ...). This dissector then says nothing,
//! by design: sizes alone are not evidence (captures/emulated's
//! `amneziawg-3.0-hpk.pcap`: 16 of 21 flows `unknown`, like its random
//! negatives, and the 5 whose first signature packet imitates a DNS query
//! `dns`, which nothing then overturns).
//!
//! Limits: fixed-size state (the last [`CANDIDATES`] possible initiations
//! per side); at most [`MAX_DATAGRAMS`] datagrams read.

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step, Verdict};
use super::facts::{self, Evidence};
use super::vpn::{side_name, side_of, Hex32, Value, VpnDetails, VpnProtocol, VpnVerdict};
use super::wireguard::{INITIATION_LEN, KEEPALIVE_LEN, RESPONSE_LEN};
use crate::bytes::{le32, le64};

/// Offsets inside WireGuard's messages (whitepaper §5.4).
const SENDER: usize = 4;
const RESPONSE_RECEIVER: usize = 8;
const TRANSPORT_RECEIVER: usize = 4;
const TRANSPORT_COUNTER: usize = 8;

/// Largest transport prefix searched (AmneziaWG 2.0's S4; deployments use
/// up to 32).
pub const MAX_S4: usize = 64;
/// Largest handshake prefix (S1, S2 below 1280 per the kernel module's
/// README).
pub const MAX_PREFIX: usize = 1280;
/// A session's first counter is below this.
pub const FRESH_COUNTER: u64 = 256;
/// How far a counter may jump ahead of the previous one of its direction.
pub const MAX_COUNTER_STEP: u64 = 4096;
/// Possible initiations remembered per side.
pub const CANDIDATES: usize = 4;
/// Datagrams read before an undecided flow is refused.
pub const MAX_DATAGRAMS: u32 = 64;
/// Datagrams read after the handshake without transport confirming it.
pub const MAX_AFTER: u32 = 16;

/// A datagram that may be an initiation.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    s1: usize,
    sender: u32,
    h1: u32,
    packet: u64,
    /// Datagrams its side sent before it.
    before: u32,
}

/// An echoed handshake.
#[derive(Clone, Copy, Debug)]
struct Handshake {
    initiator: usize,
    s1: usize,
    s2: usize,
    h1: u32,
    h2: u32,
    initiator_index: u32,
    responder_index: u32,
    init_packet: u64,
    response_packet: u64,
    junk: u32,
}

/// Transport data confirming the handshake.
#[derive(Clone, Copy, Debug)]
struct Transport {
    side: usize,
    s4: usize,
    h4: u32,
    receiver: u32,
    counter: u64,
    packet: u64,
}

/// The per-flow state.
#[derive(Clone, Debug, Default)]
pub struct AwgTracker {
    examined: u32,
    after: u32,
    refused: bool,
    /// Datagrams per side.
    sent: [u32; 2],
    candidates: [[Option<Candidate>; CANDIDATES]; 2],
    handshake: Option<Handshake>,
    /// The transport prefix, once found.
    s4: Option<usize>,
    /// Highest counter per direction.
    counters: [Option<u64>; 2],
    transport: Option<Transport>,
    decided: bool,
}

/// An index as a peer allocates it: random, so neither zero nor one byte
/// repeated (what zero padding or a fill pattern would give).
fn plausible_index(v: u32) -> bool {
    let b = v.to_le_bytes();
    b.iter().any(|&x| x != b[0])
}

/// Two indices drawn at random: at least 5 distinct values among their 8
/// bytes (random bytes fail this about 4 times in 10 million; a periodic
/// or sparse fill pattern echoed by a server usually does).
fn random_pair(a: u32, b: u32) -> bool {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&a.to_le_bytes());
    bytes[4..].copy_from_slice(&b.to_le_bytes());
    let distinct = bytes
        .iter()
        .enumerate()
        .filter(|(i, x)| !bytes[..*i].contains(x))
        .count();
    a != b && distinct >= 5
}

impl AwgTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one datagram.
    pub fn on_datagram(&mut self, b: &[u8], from_client: bool, packet: u64) -> Step {
        if self.refused || self.decided {
            return Step::Refuse;
        }
        self.examined += 1;
        let side = side_of(from_client);
        if self.handshake.is_none() {
            if let Some(step) = self.try_response(b, side, packet) {
                return step;
            }
            if side == 1 {
                // The responder sends nothing before its response: junk
                // and signature packets are the initiator's, and the flow's
                // first sender is the initiator.
                self.refused = true;
                return Step::Refuse;
            }
            self.remember(b, side, packet);
            self.sent[side] = self.sent[side].saturating_add(1);
            if self.examined >= MAX_DATAGRAMS {
                self.refused = true;
                return Step::Refuse;
            }
            return Step::NeedMore;
        }
        self.sent[side] = self.sent[side].saturating_add(1);
        if let Some(v) = self.try_transport(b, side, packet) {
            self.decided = true;
            return Step::Verdict(v.into_verdict());
        }
        self.after += 1;
        if self.after >= MAX_AFTER || self.examined >= MAX_DATAGRAMS {
            // The settle verdict (the handshake) stands.
            return match self.verdict() {
                Some(v) => {
                    self.decided = true;
                    Step::Verdict(v.into_verdict())
                }
                None => Step::Refuse,
            };
        }
        Step::NeedMore
    }

    fn remember(&mut self, b: &[u8], side: usize, packet: u64) {
        let len = b.len();
        if len < INITIATION_LEN || len - INITIATION_LEN > MAX_PREFIX {
            return;
        }
        let s1 = len - INITIATION_LEN;
        let (Some(h1), Some(sender)) = (le32(b, s1), le32(b, s1 + SENDER)) else {
            return;
        };
        if !plausible_index(sender) {
            return;
        }
        let c = Candidate {
            s1,
            sender,
            h1,
            packet,
            before: self.sent[side],
        };
        let slots = &mut self.candidates[side];
        slots.rotate_right(1);
        slots[0] = Some(c);
    }

    /// A response to one of the other side's possible initiations?
    fn try_response(&mut self, b: &[u8], side: usize, packet: u64) -> Option<Step> {
        let len = b.len();
        if len < RESPONSE_LEN || len - RESPONSE_LEN > MAX_PREFIX {
            return None;
        }
        let s2 = len - RESPONSE_LEN;
        let h2 = le32(b, s2)?;
        let sender = le32(b, s2 + SENDER)?;
        let receiver = le32(b, s2 + RESPONSE_RECEIVER)?;
        if !plausible_index(sender) || !plausible_index(receiver) || !random_pair(sender, receiver)
        {
            return None;
        }
        // AmneziaWG requires S1 + 56 != S2: its receiver tells the two
        // messages apart by size. Equal sizes are an echo.
        let init = self.candidates[1 - side]
            .iter()
            .flatten()
            .find(|c| c.sender == receiver && c.s1 + INITIATION_LEN != len)
            .copied()?;
        if init.s1 == 0 && s2 == 0 && init.h1 == 1 && h2 == 2 && init.before == 0 {
            // WireGuard's own layout: not ours.
            self.refused = true;
            return Some(Step::Refuse);
        }
        self.handshake = Some(Handshake {
            initiator: 1 - side,
            s1: init.s1,
            s2,
            h1: init.h1,
            h2,
            initiator_index: init.sender,
            responder_index: sender,
            init_packet: init.packet,
            response_packet: packet,
            junk: init.before,
        });
        self.sent[side] = self.sent[side].saturating_add(1);
        Some(Step::NeedMore)
    }

    /// Transport data naming the peer's index?
    fn try_transport(&mut self, b: &[u8], side: usize, packet: u64) -> Option<VpnVerdict> {
        let hs = self.handshake?;
        let want = if side == hs.initiator {
            hs.responder_index
        } else {
            hs.initiator_index
        };
        let fits = |s: usize| {
            b.len() >= s + KEEPALIVE_LEN && le32(b, s + TRANSPORT_RECEIVER) == Some(want)
        };
        let s4 = match self.s4 {
            Some(s) => fits(s).then_some(s)?,
            None => (0..=MAX_S4).find(|&s| fits(s))?,
        };
        let counter = le64(b, s4 + TRANSPORT_COUNTER)?;
        match self.counters[side] {
            None if counter >= FRESH_COUNTER => return None,
            Some(high) if counter <= high || counter - high > MAX_COUNTER_STEP => return None,
            _ => {}
        }
        self.counters[side] = Some(counter);
        self.s4 = Some(s4);
        self.transport = Some(Transport {
            side,
            s4,
            h4: le32(b, s4)?,
            receiver: want,
            counter,
            packet,
        });
        self.verdict()
    }

    /// The verdict the evidence supports.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.refused {
            return None;
        }
        let hs = self.handshake?;
        let confidence = if self.transport.is_some() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let mut details: VpnDetails = vec![
            ("initiator", Value::Side(hs.initiator)),
            ("initiator_index", Value::Hex32(hs.initiator_index)),
            ("responder_index", Value::Hex32(hs.responder_index)),
            ("s1", Value::Number(hs.s1 as u64)),
            ("s2", Value::Number(hs.s2 as u64)),
            ("h1", Value::Number(u64::from(hs.h1))),
            ("h2", Value::Number(u64::from(hs.h2))),
            ("junk_packets", Value::Number(u64::from(hs.junk))),
        ];
        let mut evidence = vec![
            Evidence {
                packet: hs.init_packet,
                what: facts::Clue::AmneziaWg(Clue::Initiation {
                    side: hs.initiator,
                    s1: hs.s1,
                    h1: hs.h1,
                    sender: hs.initiator_index,
                    junk: hs.junk,
                }),
            },
            Evidence {
                packet: hs.response_packet,
                what: facts::Clue::AmneziaWg(Clue::Response {
                    side: 1 - hs.initiator,
                    s2: hs.s2,
                    h2: hs.h2,
                    sender: hs.responder_index,
                    receiver: hs.initiator_index,
                }),
            },
        ];
        if let Some(t) = self.transport {
            details.push(("s4", Value::Number(t.s4 as u64)));
            details.push(("h4", Value::Number(u64::from(t.h4))));
            if t.s4 > 0 {
                details.push(("version", Value::Text("2.x")));
            }
            evidence.push(Evidence {
                packet: t.packet,
                what: facts::Clue::AmneziaWg(Clue::Transport {
                    side: t.side,
                    s4: t.s4,
                    h4: t.h4,
                    receiver: t.receiver,
                    counter: t.counter,
                }),
            });
        }
        Some(VpnVerdict {
            protocol: VpnProtocol::AmneziaWg,
            confidence,
            details,
            evidence,
        })
    }
}

/// What an AmneziaWG packet showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    Initiation {
        side: usize,
        s1: usize,
        h1: u32,
        sender: u32,
        junk: u32,
    },
    Response {
        side: usize,
        s2: usize,
        h2: u32,
        sender: u32,
        receiver: u32,
    },
    Transport {
        side: usize,
        s4: usize,
        h4: u32,
        receiver: u32,
        counter: u64,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Clue::Initiation {
                side,
                s1,
                h1,
                sender,
                junk,
            } => write!(
                f,
                "handshake initiation from the {} after {junk} junk/signature datagrams: {s1} random bytes (S1) then type word {h1} and sender index {} ({} bytes = 148 + S1)",
                side_name(side),
                Hex32(sender),
                INITIATION_LEN + s1
            ),
            Clue::Response {
                side,
                s2,
                h2,
                sender,
                receiver,
            } => write!(
                f,
                "handshake response from the {}: {s2} random bytes (S2) then type word {h2}, sender index {}, receiver index {} = the initiation's sender ({} bytes = 92 + S2)",
                side_name(side),
                Hex32(sender),
                Hex32(receiver),
                RESPONSE_LEN + s2
            ),
            Clue::Transport {
                side,
                s4,
                h4,
                receiver,
                counter,
            } => write!(
                f,
                "transport data from the {}: {s4} random bytes (S4) then type word {h4}, receiver index {} = the peer's handshake index, counter {counter}",
                side_name(side),
                Hex32(receiver)
            ),
        }
    }
}

/// The AmneziaWG dissector.
#[derive(Debug)]
pub struct AmneziaWg(AwgTracker);

impl Dissector for AmneziaWg {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;
    /// Signature packets imitate DNS queries (and QUIC, SIP, STUN).
    const OVERTURNS: bool = true;
    /// Every verdict needs the responder's echo of an initiation.
    const SETTLES_ONE_DATAGRAM: bool = false;

    /// Any datagram may be junk before the handshake: the structure, not
    /// the first bytes, decides.
    fn probe(b: &[u8], _side: usize) -> Probe {
        if b.is_empty() {
            Probe::No
        } else {
            Probe::Maybe
        }
    }

    fn start() -> Self {
        AmneziaWg(AwgTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_datagram(input.bytes, input.from_client(), input.packet)
    }

    fn settle(&self) -> Option<Verdict> {
        if self.0.decided {
            return None;
        }
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded xorshift bytes.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// An AmneziaWG message: `pad` random bytes, the type word, then the
    /// WireGuard body with `fields` written at their offsets.
    fn message(
        rng: &mut Rng,
        pad: usize,
        len: usize,
        h: u32,
        fields: &[(usize, &[u8])],
    ) -> Vec<u8> {
        let mut m = rng.bytes(pad + len);
        m[pad..pad + 4].copy_from_slice(&h.to_le_bytes());
        for (at, v) in fields {
            m[pad + at..pad + at + v.len()].copy_from_slice(v);
        }
        m
    }

    fn handshake(
        rng: &mut Rng,
        (s1, s2, s4): (usize, usize, usize),
        (h1, h2, h4): (u32, u32, u32),
    ) -> Vec<(bool, Vec<u8>)> {
        let (ii, ri) = (0x1a2b_3c4du32, 0x5e6f_7081u32);
        let mut out = vec![(true, rng.bytes(77)), (true, rng.bytes(301))];
        out.push((true, message(rng, s1, 148, h1, &[(4, &ii.to_le_bytes())])));
        out.push((
            false,
            message(
                rng,
                s2,
                92,
                h2,
                &[(4, &ri.to_le_bytes()), (8, &ii.to_le_bytes())],
            ),
        ));
        for c in 0u64..3 {
            out.push((
                true,
                message(
                    rng,
                    s4,
                    32,
                    h4,
                    &[(4, &ri.to_le_bytes()), (8, &c.to_le_bytes())],
                ),
            ));
        }
        out
    }

    fn run(packets: &[(bool, Vec<u8>)]) -> (Option<Verdict>, AwgTracker) {
        let mut t = AwgTracker::new();
        for (i, (client, b)) in packets.iter().enumerate() {
            if let Step::Verdict(v) = t.on_datagram(b, *client, i as u64) {
                return (Some(v), t);
            }
        }
        (None, t)
    }

    #[test]
    fn finds_1x_and_2x_layouts() {
        let mut rng = Rng(7);
        let (v, t) = run(&handshake(
            &mut rng,
            (113, 98, 0),
            (1748004355, 778051348, 1100281766),
        ));
        let v = v.expect("verdict");
        assert_eq!(v.confidence, Confidence::High);
        let vpn = t.verdict().unwrap();
        assert_eq!(vpn.detail("s1").as_deref(), Some("113"));
        assert_eq!(vpn.detail("s2").as_deref(), Some("98"));
        assert_eq!(vpn.detail("h1").as_deref(), Some("1748004355"));
        assert_eq!(vpn.detail("junk_packets").as_deref(), Some("2"));
        assert_eq!(vpn.detail("version"), None);

        let (v, t) = run(&handshake(&mut rng, (76, 79, 7), (5, 6, 8)));
        assert!(v.is_some());
        let vpn = t.verdict().unwrap();
        assert_eq!(vpn.detail("s4").as_deref(), Some("7"));
        assert_eq!(vpn.detail("version").as_deref(), Some("2.x"));
    }

    #[test]
    fn plain_wireguard_layout_is_left_to_wireguard() {
        let mut rng = Rng(9);
        let mut p = handshake(&mut rng, (0, 0, 0), (1, 2, 4));
        p.drain(..2);
        let (v, t) = run(&p);
        assert!(v.is_none());
        assert!(t.verdict().is_none());
    }

    #[test]
    fn handshake_without_transport_settles_medium() {
        let mut rng = Rng(11);
        let mut p = handshake(&mut rng, (20, 30, 0), (99, 100, 101));
        p.truncate(4);
        let (v, t) = run(&p);
        assert!(v.is_none());
        assert_eq!(t.verdict().unwrap().confidence, Confidence::Medium);
    }

    #[test]
    fn random_datagrams_get_nothing() {
        let mut rng = Rng(0xdead_beef);
        for _ in 0..3000 {
            let mut t = AwgTracker::new();
            for i in 0..20u64 {
                let len = 1 + (rng.next() % 1400) as usize;
                let b = rng.bytes(len);
                let _ = t.on_datagram(&b, rng.next() % 3 != 0, i);
            }
            assert!(t.verdict().is_none());
        }
    }

    /// A server echoing a patterned datagram: the bytes at the index
    /// offsets repeat, but they are no random allocation.
    #[test]
    fn echoed_patterns_are_no_handshake() {
        for period in [4usize, 6, 12, 20] {
            let pattern: Vec<u8> = (0..200)
                .map(|i| {
                    if i % period < 2 {
                        b'a' + (i % period) as u8
                    } else {
                        0
                    }
                })
                .collect();
            let dense: Vec<u8> = (0..200).map(|i| b'a' + (i % period) as u8).collect();
            for p in [pattern, dense] {
                let mut t = AwgTracker::new();
                let _ = t.on_datagram(&p, true, 0);
                let _ = t.on_datagram(&p, false, 1);
                assert!(t.handshake.is_none(), "period {period}");
                let _ = t.on_datagram(&p, true, 2);
                assert!(t.verdict().is_none(), "period {period}");
            }
        }
    }

    #[test]
    fn zeros_do_not_echo() {
        let mut t = AwgTracker::new();
        assert_eq!(t.on_datagram(&[0; 200], true, 0), Step::NeedMore);
        assert_eq!(t.on_datagram(&[0; 150], false, 1), Step::Refuse);
        assert!(t.verdict().is_none());
    }
}
