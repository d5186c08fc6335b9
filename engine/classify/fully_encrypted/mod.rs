//! Fully-encrypted traffic: flows whose every byte, from the first, looks
//! random — Shadowsocks, VMess, obfs4, Hysteria2 with Salamander, MTProxy.
//! They are found the way the Great Firewall finds them (Wu et al., USENIX
//! Security 2023: [`exemptions`]) and reported as an
//! [`Obfuscation`] of class `fully_encrypted` with the protocols whose
//! shape the opening fits ([`suspects`]) — never as an application
//! protocol. The finding holds only while no dissector proves a protocol
//! (the two dissectors here are the last of their carrier in the
//! registry).
//!
//! - **TCP** ([`FullyEncrypted`]): the client's first payload must pass
//!   none of the five exemptions (or forge a TLS/HTTP prefix in front of
//!   random bytes); a server that speaks first refuses it. It then waits
//!   for the server's first payload (judged the same way) or for 8 KiB or
//!   [`MAX_CLIENT_WRITES`] chunks of the client, and reports: confidence
//!   medium when the server's reply is random too, low otherwise.
//!   A server's reply that is plainly structured, or repeats 3 bytes of
//!   the client's opening at the same offset, refutes the finding.
//! - **UDP** ([`FullyEncryptedUdp`]): the client's first datagram, by the
//!   same rules (a QUIC long header exempts); a second client datagram that repeats any 4-byte field of
//!   the first one's first 16 bytes (a session id, an SSRC, a connection
//!   id) refuses it — a protocol header, not random bytes. Medium when the
//!   second datagram shares nothing, low on one datagram.
//!
//! Cost: one pass over the client's first payload (popcount, printable
//! runs) on flows no earlier dissector took with a "yes"; the state, a few
//! dozen bytes, lives for at most a few packets.

pub mod exemptions;
pub mod suspects;

#[cfg(test)]
mod tests;

use std::fmt;

use self::exemptions::{
    judge, judge_datagram, measure, plainly_structured, Forged, Judgement, Measure,
};
use self::suspects::{Fit, Opening};
use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{self, Evidence, Fact};
use super::obfuscation::{Class, Obfuscation, Suspect};
use super::vpn::Value;
use super::AppProto;
use crate::flow::TO_SERVER;

/// Client chunks read before the server's reply, at most.
pub const MAX_CLIENT_WRITES: u32 = 8;
/// Client bytes read before the server's reply, at most (obfs4's largest
/// handshake).
pub const MAX_CLIENT_BYTES: usize = 8192;
/// Datagrams a UDP flow is watched for.
pub const MAX_DATAGRAMS: u32 = 4;
/// Bytes of a payload judged (a packet's worth; a reassembled first chunk
/// may be longer).
pub const MAX_JUDGED: usize = 2048;

/// The part of a payload that is judged.
fn judged(bytes: &[u8]) -> &[u8] {
    bytes.get(..MAX_JUDGED).unwrap_or(bytes)
}

/// What a packet showed (EVE `obfuscation.evidence[].what`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// The client's first payload passes no exemption.
    FirstPayload { udp: bool, m: Measure },
    /// ... or starts like TLS or HTTP, does not parse, and is random after.
    ForgedPrefix { kind: Forged, len: usize },
    /// The server's first payload, and whether it is random too.
    ServerPayload { m: Measure, random: bool },
    /// The client's second datagram repeats no field of the first.
    NoSharedField,
    /// The opening fits a suspect's shape.
    Fits(Suspect, Fit),
}

impl Clue {
    /// Gives `put` the words of the clues made of the program's text and
    /// numbers ([`facts::Clue::spell`]); false for the others.
    pub fn spell(&self, put: &mut facts::Put<'_>) -> bool {
        use facts::Piece::{Decimal, Text};
        match self {
            Clue::FirstPayload { udp, m } => {
                put(Text("client's first "));
                put(Text(if *udp { "datagram" } else { "payload" }));
                spell_measure(put, m);
                facts::spell_all(put, &[
                    Text(", longest printable run "),
                    Decimal(m.longest_run as u64),
                    Text(": no exemption of the GFW's rules applies"),
                ])
            }
            Clue::ServerPayload { m, random } => {
                put(Text("server's first payload"));
                spell_measure(put, m);
                put(Text(if *random { ", random too" } else { ", not random" }));
                true
            }
            Clue::NoSharedField => facts::spell_all(put, &[Text(
                "client's second datagram repeats no 4-byte field of the first one's first 16 bytes (no header)",
            )]),
            Clue::Fits(suspect, fit) => {
                put(Text(suspect.as_str()));
                put(Text(" shape: "));
                fit.spell(put);
                true
            }
            // Words from a closed set made uppercase.
            Clue::ForgedPrefix { .. } => false,
        }
    }
}

/// ` (N bytes): B.BB set bits per byte, P % printable`: a payload's
/// measures as its clues word them.
fn spell_measure(put: &mut facts::Put<'_>, m: &Measure) {
    use facts::Piece::{Decimal, Decimal2, Text};
    facts::spell_all(
        put,
        &[
            Text(" ("),
            Decimal(m.len as u64),
            Text(" bytes): "),
            Decimal(u64::from(m.popcount / 100)),
            Text("."),
            Decimal2(u64::from(m.popcount % 100)),
            Text(" set bits per byte, "),
            Decimal(u64::from(m.printable_pct)),
            Text(" % printable"),
        ],
    );
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(result) = facts::fmt_spelled(f, |put| self.spell(put)) {
            return result;
        }
        match self {
            Clue::ForgedPrefix { kind, len } => write!(
                f,
                "client's first payload ({len} bytes) starts like {} but does not parse, random bytes after the prefix",
                kind.as_str().to_uppercase()
            ),
            Clue::FirstPayload { .. }
            | Clue::ServerPayload { .. }
            | Clue::NoSharedField
            | Clue::Fits(..) => {
                unreachable!("spelled clue {self:?}")
            }
        }
    }
}

/// What both dissectors gather.
#[derive(Clone, Debug, Default)]
struct Watch {
    opening: Opening,
    measure: Measure,
    forged: Option<Forged>,
    client_packet: u64,
    /// The server's first payload: where, and what it measured.
    server: Option<(u64, Measure, bool)>,
    /// UDP: the client's second datagram shared no field with the first.
    unshared: Option<u64>,
    /// UDP: the first 16 bytes of the client's first datagram.
    head16: [u8; 16],
    client_writes: u32,
    seen: u32,
    reported: bool,
}

impl Watch {
    /// Takes the client's first payload; false if it is not random.
    fn open(&mut self, whole: &[u8], packet: u64, udp: bool) -> bool {
        let bytes = judged(whole);
        let m = measure(bytes);
        let judged = if udp {
            judge_datagram(bytes, &m)
        } else {
            judge(bytes, &m)
        };
        let Judgement::Random(forged) = judged else {
            return false;
        };
        self.measure = m;
        self.forged = forged;
        self.client_packet = packet;
        self.opening.udp = udp;
        self.opening.client_first = whole.len();
        for (d, s) in self.opening.head.iter_mut().zip(bytes) {
            *d = *s;
        }
        for (d, s) in self.head16.iter_mut().zip(bytes) {
            *d = *s;
        }
        self.client_writes = 1;
        self.opening.client_before_reply = whole.len();
        true
    }

    /// Takes the server's first payload; false if it refutes the
    /// finding: plainly structured, or repeating a field of the client's
    /// opening (both sides of one protocol's header).
    fn server_reply(&mut self, whole: &[u8], packet: u64) -> bool {
        let bytes = judged(whole);
        let m = measure(bytes);
        if plainly_structured(&m) || shares_field(&self.head16, bytes, 3) {
            return false;
        }
        let random = judge(bytes, &m).is_random();
        self.opening.server_first = Some(whole.len());
        self.server = Some((packet, m, random));
        true
    }

    /// The finding, once.
    fn report(&mut self) -> Findings {
        self.reported = true;
        let fits = suspects::fits(&self.opening);
        let confirmed = self.unshared.is_some() || self.server.is_some_and(|(_, _, r)| r);
        let mut features = vec![
            (
                "first_payload_bytes",
                Value::Number(self.opening.client_first as u64),
            ),
            (
                "popcount_per_byte",
                Value::Hundredths(self.measure.popcount),
            ),
            (
                "printable_pct",
                Value::Number(u64::from(self.measure.printable_pct)),
            ),
            (
                "longest_printable_run",
                Value::Number(self.measure.longest_run as u64),
            ),
        ];
        if let Some(kind) = self.forged {
            features.push(("forged_prefix", Value::Text(kind.as_str())));
        }
        if let Some(n) = self.opening.server_first {
            features.push(("server_first_payload_bytes", Value::Number(n as u64)));
        }
        let clue = |what: Clue| facts::Clue::FullyEncrypted(what);
        let first = match self.forged {
            Some(kind) => Clue::ForgedPrefix {
                kind,
                len: self.opening.client_first,
            },
            None => Clue::FirstPayload {
                udp: self.opening.udp,
                m: self.measure,
            },
        };
        let mut evidence = vec![Evidence {
            packet: self.client_packet,
            what: clue(first),
        }];
        if let Some(packet) = self.unshared {
            evidence.push(Evidence {
                packet,
                what: clue(Clue::NoSharedField),
            });
        }
        if let Some((packet, m, random)) = self.server {
            evidence.push(Evidence {
                packet,
                what: clue(Clue::ServerPayload { m, random }),
            });
        }
        for &(s, fit) in &fits {
            evidence.push(Evidence {
                packet: self.client_packet,
                what: clue(Clue::Fits(s, fit)),
            });
        }
        let finding = Obfuscation {
            class: Class::FullyEncrypted,
            suspects: fits.iter().map(|(s, _)| *s).collect(),
            confidence: if confirmed {
                Confidence::Medium
            } else {
                Confidence::Low
            },
            features,
            evidence,
        };
        Findings {
            facts: vec![Fact::Obfuscation(Box::new(finding))],
            ..Findings::default()
        }
    }

    fn step(&mut self) -> Step {
        Step::Facts {
            found: self.report(),
            more: false,
        }
    }

    /// At the flow's end, before the finding was made: a finding with no
    /// protocol (the dispatcher keeps only its facts).
    fn settle(&self) -> Option<Verdict> {
        if self.reported || self.client_writes == 0 {
            return None;
        }
        let mut me = self.clone();
        Some(Verdict {
            proto: AppProto::Unknown,
            confidence: Confidence::Low,
            found: me.report(),
            more: false,
        })
    }
}

/// Fully-encrypted TCP streams; see the module documentation.
#[derive(Debug, Default)]
pub struct FullyEncrypted(Watch);

fn probe_first(bytes: &[u8], side: usize, udp: bool) -> Probe {
    if side != TO_SERVER {
        return Probe::No;
    }
    let bytes = judged(bytes);
    if exemptions::exempt_at_a_glance(bytes) || udp && exemptions::quic_long_header(bytes) {
        // Decided without reading every byte (most protocols' openings).
        return Probe::No;
    }
    if let Some(j) = exemptions::judge_prefixed(bytes) {
        // TLS or HTTP (a QUIC long header starts with neither).
        return if j.is_random() {
            Probe::Maybe
        } else {
            Probe::No
        };
    }
    // The one cheap figure first; the others only when it leaves the
    // payload in doubt.
    let popcount = exemptions::popcount(bytes);
    if exemptions::exempt_by_popcount(popcount) {
        return Probe::No;
    }
    let m = exemptions::measure_with(bytes, popcount);
    let verdict = if udp {
        judge_datagram(bytes, &m)
    } else {
        judge(bytes, &m)
    };
    if verdict.is_random() {
        Probe::Maybe
    } else {
        Probe::No
    }
}

impl Dissector for FullyEncrypted {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        probe_first(bytes, side, Self::CARRIER == Carrier::Datagram)
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let w = &mut self.0;
        if w.reported {
            return Step::Refuse;
        }
        if input.from_client() {
            if input.first {
                if !w.open(input.bytes, input.packet, false) {
                    return Step::Refuse;
                }
            } else {
                w.client_writes += 1;
                w.opening.client_before_reply += input.bytes.len();
            }
            if w.client_writes >= MAX_CLIENT_WRITES
                || w.opening.client_before_reply > MAX_CLIENT_BYTES
            {
                return w.step();
            }
            Step::NeedMore
        } else if w.client_writes == 0 {
            Step::Refuse
        } else if w.server_reply(input.bytes, input.packet) {
            w.step()
        } else {
            Step::Refuse
        }
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.settle()
    }
}

/// Fully-encrypted UDP flows; see the module documentation.
#[derive(Debug, Default)]
pub struct FullyEncryptedUdp(Watch);

impl Dissector for FullyEncryptedUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        probe_first(bytes, side, Self::CARRIER == Carrier::Datagram)
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let w = &mut self.0;
        if w.reported {
            return Step::Refuse;
        }
        w.seen += 1;
        if input.from_client() {
            if w.client_writes == 0 {
                if !w.open(input.bytes, input.packet, true) {
                    return Step::Refuse;
                }
            } else {
                if shares_field(&w.head16, input.bytes, 4) {
                    return Step::Refuse;
                }
                w.client_writes += 1;
                w.unshared = Some(input.packet);
                return w.step();
            }
        } else if w.client_writes == 0 {
            return Step::NeedMore;
        } else if w.server.is_none() && !w.server_reply(input.bytes, input.packet) {
            return Step::Refuse;
        }
        if w.seen >= MAX_DATAGRAMS {
            return w.step();
        }
        Step::NeedMore
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.settle()
    }
}

/// Does `b` repeat, at the same offset, any `width` bytes of `head` (the
/// first 16 bytes of the client's opening)?
fn shares_field(head: &[u8; 16], b: &[u8], width: usize) -> bool {
    (0..=16 - width).any(|i| {
        b.get(i..i + width)
            .is_some_and(|w| head.get(i..i + width) == Some(w))
    })
}
