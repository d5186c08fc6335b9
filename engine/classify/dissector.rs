//! The interface every classifier implements, datagram and stream alike.
//!
//! A dissector is asked twice, the way Retina splits probing from parsing:
//!
//! 1. [`Dissector::probe`] looks at the first bytes of a side (a TCP
//!    stream's first in-order bytes, or a datagram) and answers
//!    [`Probe::Yes`], [`Probe::Maybe`] or [`Probe::No`]. It is a pure
//!    function of the bytes: it allocates nothing, so the flows a dissector
//!    refuses at once cost it nothing.
//! 2. On yes or maybe, the flow gets the dissector's state
//!    ([`Dissector::start`]) and [`Dissector::feed`] is given the side's
//!    bytes (and, per [`Dissector::PROBING`], the other side's), each call
//!    answering [`Step::NeedMore`], [`Step::Verdict`] or [`Step::Refuse`].
//!
//! A [`Verdict`] names the flow's [`AppProto`] with a [`Confidence`], the
//! typed facts found ([`Fact`]: hellos, requests, VPN details) and the
//! packets that showed them ([`Evidence`]); words are made of them only
//! when a record is written. Dissectors never see the flow table, the clock
//! or the output: bytes, a side and an input position in, a step out.
//!
//! Which dissectors run, in which order, is the [registry](super::registry).

use super::facts::{Evidence, Fact};
use super::links::Link;
use super::AppProto;
use crate::capture::Timestamp;

/// What carries the bytes a dissector reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// The reassembled TCP stream of each side, in order, in chunks of any
    /// size.
    Stream,
    /// Each UDP datagram's payload.
    Datagram,
    /// The payload of each packet of this IP protocol (ESP, AH, GRE, ...).
    Ip(u8),
}

/// What a probe's "no" means, and so which bytes a dissector is probed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probing {
    /// The flow's opening decides. Streams: the first side to send is
    /// probed, a no refuses the dissector for the flow, and once started
    /// it is fed both sides (a VPN's framing runs both ways). Datagrams:
    /// every datagram is probed until the dissector starts; a no on a
    /// client datagram refuses it (the client's opening decides), a no on
    /// a server datagram waits for the client's.
    FlowOpening,
    /// Streams: each side is probed on its own first bytes; a no closes
    /// that side only (TLS reads the client's and the server's hello, HTTP
    /// a request or a status line). Datagrams: as `FlowOpening`.
    EachSide,
    /// Every datagram is a message judged on its own: a no never refuses,
    /// and the dissector's state lives for one message (DNS: a flow's first
    /// datagrams may be responses without a question).
    EachMessage,
}

/// A probe's answer on the first bytes of a side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// These bytes can only start this protocol: the dissector starts, and
    /// dissectors later in the registry are not probed on them.
    Yes,
    /// These bytes can start this protocol: the dissector starts.
    Maybe,
    /// They cannot.
    No,
}

/// How sure a verdict is.
///
/// - `Low`: one direction only, or a pattern that could occur by chance in
///   a few packets (e.g. a data channel picked up mid-flow).
/// - `Medium`: a consistent pattern over several packets, without the
///   handshake.
/// - `High`: a handshake whose fields tie both directions together
///   (session ids echoed, indices paired, SPIs in a valid exchange), or a
///   message whose whole structure parsed (a ClientHello, a DNS message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One feed of bytes.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Stream bytes in order, or one datagram, or one IP payload.
    pub bytes: &'a [u8],
    /// `TO_SERVER` (sent by the client) or `TO_CLIENT`.
    pub side: usize,
    /// Input position of the packet that brought them, for evidence.
    pub packet: u64,
    /// These are the first bytes of their side's stream (streams only).
    pub first: bool,
    /// Input position of the packet that brought the client stream's first
    /// byte (streams only; `None` while the client has sent nothing).
    pub client_from: Option<u64>,
    /// Capture time of the packet.
    pub ts: Timestamp,
    /// What other flows between the same two hosts left (oldest first);
    /// given to datagram and IP dissectors only (a stream's get none).
    pub links: &'a [Link],
    /// The flow's ports, the client's then the server's (0 for a carrier
    /// without ports). A port never decides a protocol; it names the
    /// dialect of one the bytes proved (a DNS message on mDNS's port 5353
    /// is mDNS).
    pub ports: [u16; 2],
    /// Client hellos get their JA3 and JA4 fingerprints (off when nothing
    /// reads them: a summary-only run without fingerprint rules).
    pub fingerprints: bool,
}

impl Input<'_> {
    /// Sent by the client (the flow's originator).
    #[inline]
    pub fn from_client(&self) -> bool {
        self.side == crate::flow::TO_SERVER
    }
}

/// What a dissector found: facts, the packets that showed them, and facts
/// left for other flows between the same two hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub facts: Vec<Fact>,
    pub evidence: Vec<Evidence>,
    pub links: Vec<Link>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.evidence.is_empty() && self.links.is_empty()
    }

    /// Takes in what `other` found.
    pub fn extend(&mut self, other: Findings) {
        fn take_in<T>(into: &mut Vec<T>, from: Vec<T>) {
            if into.is_empty() {
                *into = from;
            } else {
                into.extend(from);
            }
        }
        take_in(&mut self.facts, other.facts);
        take_in(&mut self.evidence, other.evidence);
        take_in(&mut self.links, other.links);
    }
}

/// A protocol proven by the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub proto: AppProto,
    pub confidence: Confidence,
    pub found: Findings,
    /// The dissector has more to read after the verdict (the server's
    /// reply): keep feeding it, for a few packets.
    pub more: bool,
}

/// A dissector's answer to a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Consistent so far: feed more.
    NeedMore,
    /// Not this protocol, or nothing more to learn: drop the state.
    Refuse,
    /// The protocol is proven (once per flow: a dissector fed after its
    /// verdict answers with [`Step::Facts`]).
    Verdict(Verdict),
    /// Facts about a flow already decided (the server's hello), or
    /// findings that are not a protocol; `more` as in [`Verdict::more`].
    Facts { found: Findings, more: bool },
    /// The stream carries another protocol from here on (after an HTTP
    /// CONNECT and its success reply, a SOCKS handshake, STARTTLS): what
    /// was found so far is kept and the stream is classified afresh, the
    /// new verdict replacing the flow's protocol. `rest` is how many bytes
    /// at the end of this input already belong to the new protocol.
    Upgrade { found: Findings, rest: usize },
}

/// A classifier; see the module documentation.
pub trait Dissector: Sized {
    /// Where its bytes come from.
    const CARRIER: Carrier;
    /// What its probe's "no" means.
    const PROBING: Probing;
    /// Datagrams only: it never decides on one datagram (a handshake needs
    /// the peer's answer), so the dispatcher keeps a flow's first datagram
    /// and starts it on the second, replaying the first — or at the flow's
    /// end, to settle. One-packet flows (scans, floods) then cost a copy
    /// of one datagram, not a tracker per protocol.
    const DEFERRED: bool = false;
    /// Datagrams only: a verdict reached on one datagram by a dissector
    /// that judges each message on its own (DNS) does not stop this one.
    /// It reads the flow on, for at most `MAX_DATA_PACKETS` datagrams, and
    /// its own verdict replaces that one: the protocol it proves sends a
    /// first datagram built to imitate another (AmneziaWG's signature
    /// packets imitate DNS, QUIC, SIP or STUN).
    const OVERTURNS: bool = false;
    /// Deferred dissectors only: whether [`settle`](Self::settle) can say
    /// anything of a flow that carried a single datagram. One that needs
    /// the peer's answer for every verdict and finding (an echoed
    /// handshake) says false, and a one-datagram flow's end does not start
    /// it only to hear nothing.
    const SETTLES_ONE_DATAGRAM: bool = true;

    /// Can `bytes`, the first of side `side`, start this protocol?
    fn probe(bytes: &[u8], side: usize) -> Probe;

    /// The per-flow state, made after a yes or maybe.
    fn start() -> Self;

    /// Reads the next bytes.
    fn feed(&mut self, input: &Input<'_>) -> Step;

    /// After its verdict, it keeps a bounded log of what follows (TLS
    /// record shapes) and wants up to
    /// [`FOLLOW_PACKETS`](super::state::FOLLOW_PACKETS) packets instead of
    /// [`REPLY_PACKETS`](super::state::REPLY_PACKETS).
    fn follows(&self) -> bool {
        false
    }

    /// The flow ends, or is given up, before a verdict: the verdict the
    /// evidence so far supports, if any.
    fn settle(&self) -> Option<Verdict> {
        None
    }
}
