//! A flow's classification: the dispatcher that runs the registry's
//! dissectors over the flow's payload.
//!
//! While a flow is undecided, its payload goes to the dissectors of its
//! carrier, in registry order:
//!
//! - **TCP**: each side's bytes are put in order by [`Stream`] reassembly.
//!   A side's first in-order bytes are shown to the probe of every
//!   dissector not yet running (per its [`Probing`]); those that answer yes
//!   or maybe start, and every running dissector is fed every chunk of
//!   both sides (with [`Input::first`] telling it a side's opening).
//! - **UDP** (and IP protocols such as ESP): every datagram is shown to the
//!   probes of the dissectors not yet running; a "no" on a client datagram
//!   refuses the dissector for the flow (unless it judges each message on
//!   its own). Running ones are fed each datagram.
//!
//! The first verdict decides the flow: every other dissector is dropped,
//! and the deciding one is kept only while it has more to read (a TLS
//! ServerHello), for at most [`REPLY_PACKETS`] packets. A stream that
//! switches protocol (an HTTP CONNECT answered, STARTTLS) is *upgraded*:
//! what was found stays, and the rest of the stream is classified afresh,
//! its verdict replacing the flow's protocol. A flow that gives no verdict
//! within [`MAX_DATA_PACKETS`] payload packets, whose dissectors have all
//! refused, or (UDP) that started none within [`IDLE_DATAGRAMS`]
//! datagrams, is left `unknown`; what a running dissector's evidence
//! supports by then is asked of it
//! ([`Dissector::settle`](super::dissector::Dissector::settle)), for a
//! decided flow as further facts. Then the state is freed and later
//! packets cost one branch.

use super::dissector::{Carrier, Confidence, Findings, Input, Probe, Probing, Step};
use super::evasion::{self, Guard, Watch};

mod copies;
use super::facts::Names;
use super::links::Links;
use super::reassembly::{Budget, Lost, Stream};
use super::registry::{Kind, Live};
use super::AppProto;
use crate::capture::Timestamp;
use crate::decode::transport::{tcp_flags, Header, TcpHeader};
use crate::decode::Decoded;
use crate::flow::{TO_CLIENT, TO_SERVER};
use copies::Next;

/// Payload packets a flow may take to be classified...
pub const MAX_DATA_PACKETS: u32 = 24;
/// ...unless they carried fewer bytes than this: the window is counted in
/// bytes too, so a hello cut into hundreds of small pieces is still read.
pub const WINDOW_BYTES: u32 = 8 * 1024;
/// Packets after a verdict during which the deciding dissector is still
/// fed (the TLS ServerHello).
pub const REPLY_PACKETS: u32 = 12;
/// Packets after a verdict during which a deciding dissector that keeps a
/// bounded log of what follows (TLS record shapes, see
/// [`Dissector::follows`](super::dissector::Dissector::follows)) is still
/// fed: enough for 32 record headers in flows of small segments and bare
/// ACKs.
pub const FOLLOW_PACKETS: u32 = 160;
/// Datagrams after which a UDP flow that no dissector took is given up.
pub const IDLE_DATAGRAMS: u16 = 4;

/// What a worker's classifiers share: the reassembly budget and the links
/// flows leave for each other.
#[derive(Debug)]
pub struct Shared {
    pub budget: Budget,
    pub links: Links,
    /// Read every DNS message of a decided DNS-family flow
    /// ([`super::transactions`]), for per-transaction events and rules.
    pub transactions: bool,
    /// Keep each transaction read, for per-transaction events (rules alone
    /// read only the latest).
    pub keep_transactions: bool,
    /// Client hellos get their JA3/JA4 fingerprints ([`Input::fingerprints`]).
    pub fingerprints: bool,
}

impl Shared {
    /// Out-of-order reassembly bytes capped at `budget`.
    pub fn new(budget: usize) -> Self {
        Shared {
            budget: Budget::new(budget),
            links: Links::default(),
            transactions: false,
            keep_transactions: false,
            fingerprints: true,
        }
    }
}

/// A packet as the classifier sees it.
pub struct Packet<'a, 'p> {
    pub decoded: &'a Decoded<'p>,
    /// `TO_SERVER` or `TO_CLIENT`.
    pub side: usize,
    /// Input position, for evidence.
    pub index: u64,
    /// The flow's packets so far, this one included.
    pub flow_packets: u32,
    /// Capture time.
    pub ts: Timestamp,
}

/// A flow's classification. What every packet reads leads (a decided
/// flow's packets read only `done`, `following` and `revision`).
#[derive(Debug, Default)]
#[repr(C)]
pub struct AppState {
    /// Nothing more to learn: later packets are not inspected.
    done: bool,
    /// Decided, but each later datagram's DNS message is read, or (done,
    /// with `work` holding only the client stream and its follower) each
    /// later HTTP request or DNS message of the client stream
    /// ([`super::transactions`]).
    following: bool,
    pub proto: AppProto,
    /// The stream was upgraded: the next verdict replaces `proto`.
    reopened: bool,
    /// Bumped whenever `proto` or what rules read of `names` change (rules
    /// check a flow again only then).
    revision: u32,
    pub names: Option<Box<Names>>,
    /// Allocated when a dissector starts (or a TCP flow carries data).
    work: Option<Box<Work>>,
    /// SYN sequence numbers per side, kept without allocating.
    syn: [Option<u32>; 2],
    /// Payload packets inspected (since the last upgrade).
    data_packets: u16,
    /// Dissectors refused for this flow ([`Kind::bit`]), kept without
    /// allocating.
    refused: u64,
    /// What reassembly could not buffer, of streams already released.
    lost: Lost,
    /// Payload bytes inspected (since the last upgrade).
    data_bytes: u32,
    /// The receiver's judge of each copy (learns without allocating).
    guard: Guard,
    /// The client's latest SYN sequence number (several SYNs: the one the
    /// SYN-ACK acknowledges counts).
    syn_last: Option<u32>,
}

/// What a flow needs while it is classified.
#[derive(Debug, Default)]
struct Work {
    /// TCP: each side's stream.
    streams: [Stream; 2],
    run: Running,
    /// Packets since the verdict, while the deciding dissector reads on.
    after_verdict: u32,
    /// Evasion evidence.
    watch: Watch,
    /// Every HTTP request or DNS message of the client stream, when
    /// transactions are read ([`super::transactions`]).
    follower: Option<Box<super::transactions::StreamFollower>>,
}

/// The dissectors running on a flow.
#[derive(Debug, Default)]
struct Running {
    /// In registry order; a few kept inline (most flows run one to four).
    live: LiveSet,
    /// Dissectors whose probe said yes, started only when their turn to
    /// read comes ([`Running::feed`]): when one earlier in the registry
    /// decides on the same bytes, the later ones never cost a state.
    /// Empty between packets.
    pending: u64,
    /// Deferred dissectors ([`Kind::deferred`]) that may start on the
    /// flow's second datagram, and that first datagram.
    deferred: u64,
    first: Option<FirstDatagram>,
    /// Stream sides whose first bytes were probed.
    opened: [bool; 2],
    /// Input position of the client stream's first byte.
    client_from: Option<u64>,
}

/// Running dissectors: up to four without an allocation.
type LiveSet = smallvec::SmallVec<[Live; 4]>;

/// A flow's first datagram, kept for the dissectors that start on the
/// second.
#[derive(Debug)]
struct FirstDatagram {
    bytes: Vec<u8>,
    side: usize,
    packet: u64,
    ts: Timestamp,
    ports: [u16; 2],
    fingerprints: bool,
}

/// What one packet's bytes gave.
#[derive(Debug, Default)]
struct Outcome {
    /// A verdict given before an upgrade in the same packet (the carrier:
    /// HTTP for a CONNECT).
    carrier: Option<(AppProto, Confidence)>,
    verdict: Option<(AppProto, Confidence)>,
    found: Findings,
    /// The stream was upgraded (the new protocol's verdict, if any, is in
    /// `verdict` after it).
    upgraded: bool,
    /// A verdict replacing a one-message verdict ([`Kind::overturns`]).
    overturn: Option<(AppProto, Confidence)>,
}

/// A packet's view for the dissectors, less its bytes.
#[derive(Clone, Copy)]
struct Seen<'a> {
    side: usize,
    packet: u64,
    ts: Timestamp,
    links: &'a [super::links::Link],
    /// The client's port, then the server's.
    ports: [u16; 2],
    /// Every transaction of the flow is read ([`super::transactions`]).
    transactions: bool,
    /// ... and kept whole for its event (else only what rules read).
    keep_transactions: bool,
    /// Hellos are fingerprinted ([`Input::fingerprints`]).
    fingerprints: bool,
}

impl AppState {
    /// Changes each time the protocol, a name or the ClientHello changes.
    #[inline]
    pub fn revision(&self) -> u32 {
        self.revision
    }

    /// True while payload may still change the verdict or add names.
    #[inline]
    pub fn inspecting(&self) -> bool {
        !self.done || self.following
    }

    /// True while classification state is held.
    pub fn is_allocated(&self) -> bool {
        self.work.is_some()
    }

    /// Out-of-order segments and bytes the reassembly caps refused.
    pub fn lost(&self) -> Lost {
        let mut lost = self.lost;
        if let Some(w) = &self.work {
            w.streams.iter().for_each(|s| lost.add(s.lost()));
        }
        lost
    }

    /// Still looking for the flow's protocol (none yet, or the stream was
    /// upgraded).
    fn probing(&self) -> bool {
        self.proto == AppProto::Unknown || self.reopened
    }

    /// Looks at one packet of the flow.
    pub fn inspect(&mut self, p: &Packet<'_, '_>, shared: &mut Shared) {
        if self.following {
            if let Header::Tcp(h) = p.decoded.transport.header {
                self.follow_stream(p, &h, shared);
                return;
            }
            // Each later message is a transaction, also while a dissector
            // may still overturn the verdict.
            self.follow(p, shared.keep_transactions);
        }
        if self.done {
            return;
        }
        let payload = p.decoded.transport.payload;
        // Only datagram and IP dissectors read links (a VPN's data channel
        // after its control connection): a stream packet does not look
        // them up.
        let links = match p.decoded.transport.header {
            Header::Tcp(_) => &[][..],
            _ => shared.links.between(p.decoded.src, p.decoded.dst),
        };
        let seen = Seen::of(p, links, shared);
        let mut out = Outcome::default();
        match p.decoded.transport.header {
            Header::Tcp(h) => match self.tcp(p, &h, &seen, &mut shared.budget, &mut out) {
                Next::Go => self.take_stream(p, shared.keep_transactions),
                Next::Tick if out.is_empty() => {
                    self.tick(shared);
                    return;
                }
                Next::Tick => {}
                Next::Stop => return,
            },
            Header::Udp => {
                if payload.is_empty() {
                    return;
                }
                if self.probing() {
                    let fooling = self.judge_datagram(p);
                    if fooling != 0 {
                        let work = self.work.get_or_insert_with(Box::default);
                        work.watch.fake(fooling, &[], p.index);
                        self.data_packets = self.data_packets.saturating_add(1);
                        return;
                    }
                    if p.decoded.ip.ext != 0 || p.decoded.ip.fragments > 1 {
                        let work = self.work.get_or_insert_with(Box::default);
                        work.watch.ip(&p.decoded.ip, p.index);
                    }
                }
                if !self.quic_aside(p, &seen) {
                    self.datagram(Carrier::Datagram, payload, &seen, &mut out);
                }
            }
            Header::Ipsec { .. } => {
                self.datagram(Carrier::Ip(p.decoded.proto), payload, &seen, &mut out);
            }
            // Another IP protocol a dissector reads (GRE).
            Header::Other if reads_ip(p.decoded.proto) => {
                self.datagram(Carrier::Ip(p.decoded.proto), payload, &seen, &mut out);
            }
            _ => {
                self.done = true;
                return;
            }
        }
        let links = std::mem::take(&mut out.found.links);
        for link in links {
            shared.links.add(p.decoded.src, p.decoded.dst, link);
        }
        self.apply(&mut out, p, shared);
        if self.done {
            return;
        }
        let over = u32::from(self.data_packets) >= MAX_DATA_PACKETS
            && self.data_bytes >= WINDOW_BYTES
            && self.probing();
        let end = match p.decoded.transport.header {
            Header::Tcp(_) => over || self.exhausted(),
            Header::Udp => {
                let over = u32::from(self.data_packets) >= MAX_DATA_PACKETS && self.probing();
                let open =
                    self.work.as_ref().is_some_and(|w| w.run.running()) || self.overturn_pending();
                // A QUIC flow whose client opened several connections waits
                // for the server's answer to tell the real one; a decided
                // flow is done unless the deciding dissector reads on
                // (`Verdict::more`) or one may overturn it.
                let contested = self.work.as_ref().is_some_and(|w| w.watch.quic.waiting())
                    && self.data_packets < evasion::quic::WATCH_DATAGRAMS;
                let decided = !self.probing()
                    && !contested
                    && (!open || u32::from(self.data_packets) >= MAX_DATA_PACKETS);
                decided || over || !open && self.data_packets >= IDLE_DATAGRAMS
            }
            _ => !self.probing(),
        };
        if !self.following && !self.probing() {
            // The first message of a decided DNS-like flow: its first
            // transaction (later ones are read as they come).
            self.start_following(p, shared);
        }
        if end {
            self.finish(shared);
        }
    }

    /// A dissector may still overturn the flow's one-message verdict.
    fn overturn_pending(&self) -> bool {
        self.work.as_ref().is_some_and(|w| w.run.overturning())
    }

    /// A UDP flow decided as DNS (or mDNS, LLMNR, NBNS) when transactions
    /// are read: its first message is the first transaction, and later
    /// datagrams are read by [`Self::follow`].
    fn start_following(&mut self, p: &Packet<'_, '_>, shared: &Shared) {
        if !shared.transactions
            || !super::transactions::follows(self.proto)
            || !matches!(p.decoded.transport.header, Header::Udp)
        {
            return;
        }
        let Some(names) = self.names.as_mut() else {
            return;
        };
        if names.dns.is_none() {
            return;
        }
        // The first message is the flow's own question: kept for events
        // only (rules read it there).
        if shared.keep_transactions {
            if let Some(q) = names.dns.as_deref().cloned() {
                let tx = super::transactions::DnsTransaction {
                    ts: p.ts,
                    side: p.side,
                    packet: p.index,
                    question: q,
                };
                super::transactions::record(names, tx, true, true);
            }
        }
        self.following = true;
    }

    /// A later datagram of a followed flow: its DNS message, if it is one.
    fn follow(&mut self, p: &Packet<'_, '_>, keep: bool) {
        let payload = p.decoded.transport.payload;
        if !keep {
            // For the rules alone, a message that asks the name they saw
            // last (a response, a retry) changes nothing: found in place.
            let shown = self
                .names
                .as_deref()
                .and_then(|n| n.dns_latest.as_deref().or(n.dns.as_deref()));
            if shown.is_some_and(|q| super::transactions::repeats(self.proto, payload, &q.rrname)) {
                return;
            }
        }
        let Some(q) = super::transactions::read(self.proto, payload) else {
            return;
        };
        let tx = super::transactions::DnsTransaction {
            ts: p.ts,
            side: p.side,
            packet: p.index,
            question: q,
        };
        let names = self.names.get_or_insert_with(Box::default);
        if super::transactions::record(names, tx, false, keep) {
            self.revision = self.revision.wrapping_add(1);
        }
    }

    /// A datagram (or IP payload) for the dissectors of `carrier`.
    fn datagram(&mut self, carrier: Carrier, payload: &[u8], seen: &Seen<'_>, out: &mut Outcome) {
        self.data_packets = self.data_packets.saturating_add(1);
        let decided = !(self.proto == AppProto::Unknown || self.reopened);
        if let Some(work) = self.work.as_mut() {
            // The second datagram: the deferred dissectors start, with the
            // first replayed.
            work.run
                .start_deferred(seen.links, decided, &mut self.refused, out);
        }
        let first_datagram = self.data_packets == 1;
        // Neither refused nor running: starting one changes neither for the
        // others, so the set is taken once.
        let running = self.work.as_ref().map_or(0, |w| w.run.kinds());
        for kind in Kind::each(Kind::reading(carrier) & !self.refused & !running) {
            match kind.probe(payload, seen.side) {
                Probe::No => {
                    if seen.side == TO_SERVER && kind.probing() != Probing::EachMessage {
                        self.refused |= kind.bit();
                    }
                }
                answer => {
                    let work = self.work.get_or_insert_with(Box::default);
                    if first_datagram && kind.deferred() {
                        work.run.defer(kind, payload, seen);
                    } else {
                        work.run.begin(kind);
                    }
                    if answer == Probe::Yes {
                        break;
                    }
                }
            }
        }
        let Some(work) = self.work.as_mut() else {
            return;
        };
        let input = seen.input(payload, false, None);
        work.run.feed(&input, decided, &mut self.refused, out);
    }

    /// A packet without payload: after a verdict, counts towards giving up
    /// on the reply.
    fn tick(&mut self, shared: &mut Shared) {
        if self.probing() {
            return;
        }
        if let Some(work) = self.work.as_mut() {
            work.after_verdict += 1;
            if work.after_verdict > work.reply_limit() {
                self.finish(shared);
            }
        }
    }

    /// A TCP flow whose every request (HTTP) or message (DNS) is read:
    /// when its classification is over, its client stream and follower
    /// are kept while the follower reads on.
    fn following_stream(&self) -> bool {
        // Read in the client stream's first DEPTH bytes.
        self.work.as_ref().is_some_and(|w| {
            !w.streams[TO_SERVER].is_full()
                && w.follower.as_ref().is_some_and(|f| f.reads(self.proto))
        })
    }

    /// Takes what the follower read into the names.
    fn take_stream(&mut self, p: &Packet<'_, '_>, keep: bool) {
        let Some(f) = self.work.as_mut().and_then(|w| w.follower.as_mut()) else {
            return;
        };
        if !f.has_pending() {
            return;
        }
        let names = self.names.get_or_insert_with(Box::default);
        if f.drain_into(names, p.ts, p.index, keep) {
            self.revision = self.revision.wrapping_add(1);
        }
    }

    /// Records what a packet gave.
    fn apply(&mut self, out: &mut Outcome, p: &Packet<'_, '_>, shared: &mut Shared) {
        // Taken by reference: moved by value, the outcome was copied on
        // every packet, though it is mostly empty.
        let Outcome {
            carrier,
            verdict,
            ref mut found,
            upgraded,
            overturn,
        } = *out;
        if let Some((proto, confidence)) = carrier.filter(|_| self.proto == AppProto::Unknown) {
            self.proto = proto;
            let mine = self.names.get_or_insert_with(Box::default);
            mine.packets_to_verdict = p.flow_packets;
            mine.confidence = Some(confidence);
            self.revision = self.revision.wrapping_add(1);
        }
        if upgraded {
            self.reopened = true;
            self.data_packets = 0;
            self.data_bytes = 0;
            if let Some(work) = self.work.as_mut() {
                work.after_verdict = 0;
            }
        }
        let first_verdict = self.probing() && verdict.is_some();
        if let Some((proto, _)) = verdict.filter(|_| first_verdict) {
            self.proto = proto;
            self.reopened = false;
        }
        if let Some((proto, confidence)) = overturn.filter(|_| !first_verdict) {
            self.proto = proto;
            let mine = self.names.get_or_insert_with(Box::default);
            mine.packets_to_verdict = p.flow_packets;
            mine.confidence = Some(confidence);
            mine.decided();
            self.revision = self.revision.wrapping_add(1);
        }
        // What rules look at: the protocol, the names and the hello.
        if first_verdict || found.facts.iter().any(|f| f.is_rule_visible()) {
            self.revision = self.revision.wrapping_add(1);
        }
        if first_verdict || !found.is_empty() {
            let mine = self.names.get_or_insert_with(Box::default);
            if first_verdict {
                mine.packets_to_verdict = p.flow_packets;
                mine.confidence = verdict.map(|(_, c)| c);
                mine.decided();
            }
            for fact in found.facts.drain(..) {
                mine.add(fact);
            }
            mine.evidence.append(&mut found.evidence);
        }
        if first_verdict {
            // The client's first message is complete: judge its shape.
            let mss = self.guard.mss(TO_CLIENT);
            let name = self.names.as_ref().and_then(|n| {
                let tls = n.tls.as_ref().and_then(|t| t.sni.as_deref());
                tls.or(n.http.as_ref().and_then(|h| h.hostname.as_deref()))
            });
            if let Some(w) = self.work.as_mut() {
                let end = w.streams[TO_SERVER].delivered();
                w.watch.close(end, mss, name);
            }
        }
        if !first_verdict && !self.probing() && !self.overturn_pending() {
            if let Some(work) = self.work.as_mut() {
                work.after_verdict += 1;
                if work.after_verdict > work.reply_limit() {
                    self.finish(shared);
                }
            }
        }
    }

    /// True when no dissector can say more about a TCP flow: none runs and
    /// none may still start, or both streams are at their depth.
    fn exhausted(&self) -> bool {
        let Some(work) = &self.work else { return true };
        let untried = Kind::STREAM & !self.refused & !work.run.kinds() != 0;
        let open = work.run.running() || untried && self.probing();
        !open || (work.streams[TO_SERVER].is_full() && work.streams[TO_CLIENT].is_full())
    }

    /// Stops inspecting and frees the state (the client stream and its
    /// follower read on when transactions are read). The running
    /// dissectors say what their evidence supports now: an undecided flow
    /// gets the strongest verdict, a decided one the further facts.
    fn finish(&mut self, shared: &mut Shared) {
        let follow = self.following_stream();
        self.end_inspection(shared, follow);
    }

    /// [`Self::finish`]; `follow`: the client stream and its follower are
    /// kept to read on.
    fn end_inspection(&mut self, shared: &mut Shared, follow: bool) {
        if self.done {
            // Only a followed client stream is left: released.
            if let Some(mut work) = self.work.take() {
                self.release_streams(&mut work, shared, false);
            }
            self.following = false;
            return;
        }
        if let Some(mut work) = self.work.take() {
            // A one-datagram flow: the deferred dissectors that may settle
            // on it read it.
            work.run.deferred &= Kind::SETTLING_ONE_DATAGRAM;
            if work.run.deferred != 0 && self.probing() {
                let mut out = Outcome::default();
                let mut refused = self.refused;
                work.run.start_deferred(&[], false, &mut refused, &mut out);
            }
            // A settled "verdict" without a protocol is a finding only
            // (fully-encrypted traffic): its facts are kept, it decides nothing.
            let (findings, settled): (Vec<_>, Vec<_>) = work
                .run
                .live
                .iter()
                .filter_map(Live::settle)
                .partition(|v| v.proto == AppProto::Unknown);
            if self.probing() {
                // The strongest; of equals, the last in registry order.
                if let Some(v) = settled.into_iter().max_by_key(|v| v.confidence) {
                    self.proto = v.proto;
                    self.reopened = false;
                    let mine = self.names.get_or_insert_with(Box::default);
                    mine.confidence = Some(v.confidence);
                    mine.decided();
                    for fact in v.found.facts {
                        mine.add(fact);
                    }
                    mine.evidence.extend(v.found.evidence);
                    self.revision = self.revision.wrapping_add(1);
                }
            } else {
                for v in settled {
                    if v.found.facts.iter().any(|f| f.is_rule_visible()) {
                        self.revision = self.revision.wrapping_add(1);
                    }
                    let mine = self.names.get_or_insert_with(Box::default);
                    for fact in v.found.facts {
                        mine.add(fact);
                    }
                    mine.evidence.extend(v.found.evidence);
                }
            }
            for v in findings {
                self.revision = self.revision.wrapping_add(1);
                let mine = self.names.get_or_insert_with(Box::default);
                for fact in v.found.facts {
                    mine.add(fact);
                }
                mine.evidence.extend(v.found.evidence);
            }
            // The client stream reads on when followed (below).
            self.release_streams(&mut work, shared, follow);
            work.watch.unjudged();
            if work.watch.quic.waiting() {
                self.work = Some(work);
                self.quic_resolve(None);
                work = self.work.take().expect("put back above");
            }
            // SYN data no SYN-ACK or later segment ruled on: taken only if
            // the SYN asked for TCP Fast Open.
            if let Some(d) = work.watch.syn_data.take() {
                if !self.guard.tfo(TO_SERVER) {
                    work.watch.syn_refused(&d);
                }
            }
            if !work.watch.found.is_empty() {
                let mine = self.names.get_or_insert_with(Box::default);
                // A copy that carried the flow's own name is no decoy.
                let real = [
                    mine.tls.as_ref().and_then(|t| t.sni.clone()),
                    mine.http.as_ref().and_then(|h| h.hostname.clone()),
                    mine.quic
                        .as_ref()
                        .and_then(|q| q.hello.as_ref())
                        .and_then(|h| h.sni.clone()),
                ];
                for e in work.watch.found.entries.iter_mut() {
                    if e.decoy.is_some() && real.contains(&e.decoy) {
                        e.decoy = None;
                    }
                }
                match mine.evasion.as_mut() {
                    Some(e) => e.merge(&std::mem::take(&mut work.watch.found)),
                    None => {
                        mine.evasion = Some(Box::new(std::mem::take(&mut work.watch.found)));
                    }
                }
                self.revision = self.revision.wrapping_add(1);
            }
            if follow {
                // Only the client stream and its follower go on, as a run
                // that reads no transactions would have stopped here.
                // Client copies still held for the server's acknowledgement
                // stay held.
                let client = std::mem::take(&mut work.streams[TO_SERVER]);
                let follower = work.follower.take();
                let held = std::mem::take(&mut work.watch.suspects);
                *work = Work {
                    follower,
                    ..Work::default()
                };
                work.streams[TO_SERVER] = client;
                work.watch.suspects = held;
                // Both sides opened: no dissector starts, no follower anew.
                work.run.opened = [true; 2];
                self.work = Some(work);
                self.following = true;
            }
        }
        self.done = true;
    }

    /// Gives back what `work`'s streams hold (their losses counted), but
    /// for the client stream when `keep_client`.
    fn release_streams(&mut self, work: &mut Work, shared: &mut Shared, keep_client: bool) {
        for (side, s) in work.streams.iter_mut().enumerate() {
            if keep_client && side == TO_SERVER {
                continue;
            }
            self.lost.add(s.lost());
            s.release(&mut shared.budget);
        }
    }

    /// A TCP packet of a flow whose classification is over while its
    /// client stream is still read for transactions: the packet takes the
    /// path of any TCP packet (the receiver's judge, copies held until the
    /// server acknowledges them, reassembly), but no dissector runs and
    /// what the evasion watch notes now is not kept — a run that reads no
    /// transactions stopped looking at the flow where this began.
    fn follow_stream(&mut self, p: &Packet<'_, '_>, h: &TcpHeader, shared: &mut Shared) {
        let seen = Seen::of(p, &[], shared);
        let mut out = Outcome::default();
        self.tcp(p, h, &seen, &mut shared.budget, &mut out);
        // Client bytes go on with this packet, or with a server's that
        // acknowledged held copies of them.
        self.take_stream(p, shared.keep_transactions);
        if !self.following_stream() {
            // At its depth, or nothing more to read.
            self.end_inspection(shared, false);
        }
    }

    /// A long flow's record was written and the flow goes on: the
    /// transactions written with it are not written again.
    pub fn new_part(&mut self) {
        if let Some(n) = self.names.as_mut() {
            n.dns_transactions.clear();
            n.dns_transactions_dropped = 0;
            n.http_transactions.clear();
            n.http_transactions_dropped = 0;
        }
    }

    /// The flow ends: frees what is held.
    pub fn close(&mut self, shared: &mut Shared) {
        self.end_inspection(shared, false);
    }
}

impl Outcome {
    fn is_empty(&self) -> bool {
        self.carrier.is_none() && self.verdict.is_none() && self.found.is_empty() && !self.upgraded
    }
}

impl<'a> Seen<'a> {
    /// What dissectors are told of packet `p`, with the `links` between its
    /// hosts.
    fn of(p: &Packet<'_, '_>, links: &'a [super::links::Link], shared: &Shared) -> Self {
        let t = &p.decoded.transport;
        Seen {
            side: p.side,
            packet: p.index,
            ts: p.ts,
            links,
            transactions: shared.transactions,
            keep_transactions: shared.keep_transactions,
            fingerprints: shared.fingerprints,
            ports: if p.side == TO_SERVER {
                [t.src_port, t.dst_port]
            } else {
                [t.dst_port, t.src_port]
            },
        }
    }

    fn input<'b>(&self, bytes: &'b [u8], first: bool, client_from: Option<u64>) -> Input<'b>
    where
        'a: 'b,
    {
        Input {
            bytes,
            side: self.side,
            packet: self.packet,
            first,
            client_from,
            ts: self.ts,
            links: self.links,
            ports: self.ports,
            fingerprints: self.fingerprints,
        }
    }
}

impl Work {
    /// Packets after the verdict the deciding dissector is fed.
    fn reply_limit(&self) -> u32 {
        if self.run.live.iter().any(Live::follows) {
            FOLLOW_PACKETS
        } else {
            REPLY_PACKETS
        }
    }
}

impl Running {
    /// An overturning dissector runs, or waits for the second datagram.
    fn overturning(&self) -> bool {
        self.kinds() & Kind::OVERTURNING != 0
    }

    /// The dissectors running, about to start or deferred, as a set.
    fn kinds(&self) -> u64 {
        self.live
            .iter()
            .fold(self.deferred | self.pending, |set, l| set | l.kind().bit())
    }

    /// Some dissector runs (or is about to).
    fn running(&self) -> bool {
        !self.live.is_empty() || self.pending != 0
    }

    /// Defers `kind` to the flow's second datagram, keeping the first.
    fn defer(&mut self, kind: Kind, payload: &[u8], seen: &Seen<'_>) {
        self.deferred |= kind.bit();
        self.first.get_or_insert_with(|| FirstDatagram {
            bytes: payload.to_vec(),
            side: seen.side,
            packet: seen.packet,
            ts: seen.ts,
            ports: seen.ports,
            fingerprints: seen.fingerprints,
        });
    }

    /// Starts the deferred dissectors and feeds them the first datagram.
    fn start_deferred(
        &mut self,
        links: &[super::links::Link],
        decided: bool,
        refused: &mut u64,
        out: &mut Outcome,
    ) {
        let Some(first) = self.first.take() else {
            return;
        };
        let deferred = std::mem::take(&mut self.deferred);
        let started: LiveSet = Kind::each(deferred).map(Kind::start).collect();
        let input = Input {
            bytes: &first.bytes,
            side: first.side,
            packet: first.packet,
            first: false,
            client_from: None,
            ts: first.ts,
            links,
            ports: first.ports,
            fingerprints: first.fingerprints,
        };
        let mut fresh = Running {
            live: started,
            ..Running::default()
        };
        fresh.feed(&input, decided, refused, out);
        self.live.reserve(fresh.live.len());
        for live in fresh.live {
            let at = self.live.partition_point(|l| l.kind() < live.kind());
            self.live.insert(at, live);
        }
    }

    /// Starts `kind` when its turn to read comes (see `pending`).
    fn begin(&mut self, kind: Kind) {
        self.pending |= kind.bit();
    }

    /// In-order stream bytes of one side.
    fn stream(
        &mut self,
        mut bytes: &[u8],
        seen: &Seen<'_>,
        mut decided: bool,
        refused: &mut u64,
        out: &mut Outcome,
    ) {
        let side = seen.side;
        if side == TO_SERVER {
            self.client_from.get_or_insert(seen.packet);
        }
        decided &= !out.upgraded;
        loop {
            let first = !self.opened[side];
            if first {
                self.opened[side] = true;
                if !decided {
                    self.probe(bytes, side, refused);
                }
            }
            let input = seen.input(bytes, first, self.client_from);
            match self.feed(&input, decided || out.verdict.is_some(), refused, out) {
                Some(rest) if rest > 0 => {
                    // Upgraded: the rest of this chunk opens the new protocol.
                    bytes = bytes.get(bytes.len().saturating_sub(rest)..).unwrap_or(&[]);
                    decided = false;
                }
                _ => return,
            }
        }
    }

    /// The probes of the stream dissectors not yet running, on the first
    /// bytes of `side`.
    fn probe(&mut self, bytes: &[u8], side: usize, refused: &mut u64) {
        let other_opened = self.opened[1 - side];
        for kind in Kind::each(Kind::STREAM & !*refused & !self.kinds()) {
            match (kind.probe(bytes, side), kind.probing()) {
                (Probe::No, Probing::EachSide) => {
                    if other_opened {
                        *refused |= kind.bit();
                    }
                }
                (Probe::No, _) => *refused |= kind.bit(),
                (answer, _) => {
                    self.begin(kind);
                    if answer == Probe::Yes {
                        break;
                    }
                }
            }
        }
    }

    /// Feeds every running dissector, in order, until one decides. On an
    /// upgrade, the dissectors are reset and the bytes of this input that
    /// belong to the new protocol are returned.
    fn feed(
        &mut self,
        input: &Input<'_>,
        decided: bool,
        refused: &mut u64,
        out: &mut Outcome,
    ) -> Option<usize> {
        let mut i = 0;
        loop {
            // The next in registry order: a running dissector, or a pending
            // one that starts now.
            if let Some(next) = Kind::each(self.pending).next() {
                if self.live.get(i).is_none_or(|l| next < l.kind()) {
                    self.pending &= !next.bit();
                    self.live.insert(i, next.start());
                }
            }
            let Some(live) = self.live.get_mut(i) else {
                break;
            };
            let kind = live.kind();
            match live.feed(input) {
                Step::NeedMore => i += 1,
                Step::Refuse => {
                    self.live.remove(i);
                    if kind.probing() != Probing::EachMessage {
                        *refused |= kind.bit();
                    }
                }
                Step::Facts { found, more } => {
                    out.found.extend(found);
                    if more {
                        i += 1;
                    } else {
                        self.live.remove(i);
                        *refused |= kind.bit();
                    }
                }
                Step::Verdict(v) => {
                    out.found.extend(v.found);
                    if !decided && out.verdict.is_none() {
                        out.verdict = Some((v.proto, v.confidence));
                    } else if decided && kind.overturns() && out.overturn.is_none() {
                        out.overturn = Some((v.proto, v.confidence));
                    }
                    // The flow is decided: only the deciding dissector
                    // reads on, and only if it has more to read — and, after
                    // a one-message verdict, the dissectors that may
                    // overturn it.
                    let one_message = !decided && kind.probing() == Probing::EachMessage;
                    let keep = v.more.then(|| self.live.swap_remove(i));
                    let mut overturners = Vec::new();
                    if one_message {
                        overturners.extend(self.live.drain(..).filter(|l| l.kind().overturns()));
                        overturners
                            .extend(Kind::each(self.pending & Kind::OVERTURNING).map(Kind::start));
                        self.deferred &= Kind::OVERTURNING;
                    } else {
                        self.deferred = 0;
                    }
                    self.pending = 0;
                    self.live.clear();
                    self.live.extend(keep);
                    for live in overturners {
                        let at = self.live.partition_point(|l| l.kind() < live.kind());
                        self.live.insert(at, live);
                    }
                    *refused = !kind.bit() | if v.more { 0 } else { kind.bit() };
                    return None;
                }
                Step::Upgrade { found, rest } => {
                    out.found.extend(found);
                    out.upgraded = true;
                    out.carrier = out.verdict.take().or(out.carrier);
                    self.live.clear();
                    self.pending = 0;
                    self.opened = [false; 2];
                    *refused = 0;
                    return Some(rest);
                }
            }
        }
        None
    }
}

/// Some dissector reads the packets of IP protocol `proto`.
fn reads_ip(proto: u8) -> bool {
    Kind::ALL.iter().any(|k| k.carrier() == Carrier::Ip(proto))
}

/// A few zero bytes on a bare ACK before a stream has started: Ethernet
/// padding counted into the IP length by a broken sender or middlebox, not
/// data (the peer goes on as if it had not received them). Taking them as
/// data would put zeros in front of the real first bytes, which arrive
/// later at the same sequence number.
fn is_padding(flags: u8, payload: &[u8]) -> bool {
    payload.len() <= 8 && flags & tcp_flags::PSH == 0 && payload.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::evasion::Technique;
    use crate::decode::transport::{TcpHeader, Transport};

    fn tcp(seq: u32, flags: u8, payload: &[u8]) -> Decoded<'_> {
        Decoded {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 6,
            transport: Transport {
                src_port: 40000,
                dst_port: 8080,
                header: Header::Tcp(TcpHeader {
                    seq,
                    ack: 0,
                    flags,
                    window: 0,
                }),
                payload,
                malformed: false,
            },
            tunnels: 0,
            tunnel_kinds: 0,
            truncated: false,
            ip: Default::default(),
        }
    }

    fn tcp_ack(seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Decoded<'_> {
        let mut d = tcp(seq, flags, payload);
        if let Header::Tcp(h) = &mut d.transport.header {
            h.ack = ack;
        }
        d
    }

    const SYN_ACK: u8 = tcp_flags::SYN | tcp_flags::ACK;

    /// Issue 13, bug 1: data in a SYN starts after the SYN's sequence
    /// number. Taken when the SYN-ACK acknowledges it (TCP Fast Open): `GET`
    /// stays whole. Not taken when the SYN-ACK acknowledges only the SYN:
    /// the data sent again is read, the SYN's is reported (syndata).
    #[test]
    fn syn_data_starts_after_the_syn() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, tcp(999, tcp_flags::SYN, REQ)),
                (
                    TO_CLIENT,
                    tcp_ack(5000, 1000 + REQ.len() as u32, SYN_ACK, &[]),
                ),
            ],
        );
        assert_eq!(app.proto, AppProto::Http);
        let names = app.names.as_ref().unwrap();
        assert_eq!(names.http.as_ref().unwrap().method, "GET");
        assert!(names.evasion.is_none());

        let decoy = b"GET / HTTP/1.1\r\nHost: www.decoy.test\r\n\r\n";
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, tcp(999, tcp_flags::SYN, decoy)),
                (TO_CLIENT, tcp_ack(5000, 1000, SYN_ACK, &[])),
                (TO_SERVER, tcp(1000, tcp_flags::ACK, REQ)),
            ],
        );
        app.close(&mut shared);
        let names = app.names.as_ref().unwrap();
        assert_eq!(
            names.http.as_ref().unwrap().hostname.as_deref(),
            Some("example.org")
        );
        let e = names.evasion.as_ref().unwrap();
        assert_eq!(e.entries[0].technique, Technique::SynData);
        assert_eq!(e.entries[0].decoy.as_deref(), Some("www.decoy.test"));
        assert_eq!(shared.budget.used, 0);
    }

    /// Issue 13, bug 2: a burst of SYNs with random sequence numbers, then
    /// the handshake of the last; the SYN-ACK acknowledges that one, and
    /// the stream starts after it.
    #[test]
    fn the_acknowledged_syn_counts() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        let mut packets: Vec<(usize, Decoded<'_>)> = [17u32, 123_456, 0x8000_0000, 42]
            .iter()
            .map(|&isn| (TO_SERVER, tcp(isn, tcp_flags::SYN, &[])))
            .collect();
        packets.push((TO_SERVER, tcp(7777, tcp_flags::SYN, &[])));
        packets.push((TO_CLIENT, tcp_ack(5000, 7778, SYN_ACK, &[])));
        packets.push((TO_SERVER, tcp_ack(7778, 5001, tcp_flags::ACK, REQ)));
        feed(&mut app, &mut shared, &packets);
        assert_eq!(app.proto, AppProto::Http);
        assert_eq!(
            app.names
                .as_ref()
                .unwrap()
                .http
                .as_ref()
                .unwrap()
                .hostname
                .as_deref(),
            Some("example.org")
        );
    }

    /// An urgent byte inside the request is removed, as the receiving
    /// socket does; the flow says oob.
    #[test]
    fn urgent_byte_removed() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        let (a, b) = REQ.split_at(26);
        let mut first = a.to_vec();
        first.push(b'a');
        let mut seg = [0u8; 20];
        seg[12] = 0x50;
        seg[18..20].copy_from_slice(&(first.len() as u16).to_be_bytes());
        let mut urg = tcp(1000, tcp_flags::ACK | evasion::judge::URG, &first);
        urg.ip.segment = &seg;
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, tcp(999, tcp_flags::SYN, &[])),
                (TO_SERVER, urg),
                (TO_SERVER, tcp(1000 + first.len() as u32, tcp_flags::ACK, b)),
            ],
        );
        let names = app.names.as_ref().unwrap();
        assert_eq!(
            names.http.as_ref().unwrap().hostname.as_deref(),
            Some("example.org")
        );
        app.close(&mut shared);
        let e = app.names.as_ref().unwrap().evasion.as_ref().unwrap();
        assert!(e.has(Technique::Oob));
    }

    fn udp(payload: &[u8]) -> Decoded<'_> {
        let mut d = tcp(0, 0, payload);
        d.proto = 17;
        d.transport.header = Header::Udp;
        d
    }

    fn feed(app: &mut AppState, shared: &mut Shared, packets: &[(usize, Decoded<'_>)]) {
        for (i, (side, d)) in packets.iter().enumerate() {
            let p = Packet {
                decoded: d,
                side: *side,
                index: 100 + i as u64,
                flow_packets: i as u32 + 1,
                ts: i as u64,
            };
            app.inspect(&p, shared);
        }
    }

    const REQ: &[u8] = b"GET /x HTTP/1.1\r\nHost: Example.ORG\r\nUser-Agent: t\r\n\r\n";

    #[test]
    fn http_request_split_and_reordered_on_any_port() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        let (a, b) = REQ.split_at(20);
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, tcp(999, tcp_flags::SYN, &[])),
                (TO_SERVER, tcp(1020, tcp_flags::ACK, b)),
                (TO_SERVER, tcp(1000, tcp_flags::ACK, a)),
            ],
        );
        assert_eq!(app.proto, AppProto::Http);
        let names = app.names.as_ref().unwrap();
        assert_eq!(
            names.http.as_ref().unwrap().hostname.as_deref(),
            Some("example.org")
        );
        assert_eq!(names.packets_to_verdict, 3);
        assert_eq!(names.evidence[0].packet, 102);
        assert_eq!(shared.budget.used, 0, "reassembly memory returned");
    }

    #[test]
    fn dns_over_udp_and_tcp() {
        let q = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'W', b'w', b'w', 4, b't', b'e',
            b's', b't', 0, 0, 28, 0, 1,
        ];
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        feed(&mut app, &mut shared, &[(TO_SERVER, udp(&q))]);
        assert_eq!(app.proto, AppProto::Dns);
        assert_eq!(
            app.names.as_ref().unwrap().dns.as_ref().unwrap().rrname,
            "www.test"
        );
        // AmneziaWG may still overturn the query (its signature packets
        // imitate DNS) until the server answers.
        assert!(app.inspecting() && app.is_allocated());
        let mut response = q;
        response[2] = 0x81;
        feed(&mut app, &mut shared, &[(TO_CLIENT, udp(&response))]);
        assert_eq!(app.proto, AppProto::Dns);
        assert!(!app.inspecting() && !app.is_allocated());
        let mut framed = vec![0, q.len() as u8];
        framed.extend_from_slice(&q);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, tcp(1, 0, &framed[..5])),
                (TO_SERVER, tcp(6, 0, &framed[5..])),
            ],
        );
        assert_eq!(app.proto, AppProto::Dns);
    }

    /// A DNS query opening an AmneziaWG flow (a signature packet), then
    /// junk, the handshake and transport data: the DNS verdict is
    /// overturned.
    #[test]
    fn amneziawg_overturns_a_dns_lookalike() {
        let q = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'W', b'w', b'w', 4, b't', b'e',
            b's', b't', 0, 0, 28, 0, 1,
        ];
        let (ii, ri) = (0x1a2b_3c4du32.to_le_bytes(), 0x5e6f_7081u32.to_le_bytes());
        let junk = [0xa5u8; 90];
        let mut init = vec![0x5cu8; 33 + 148];
        init[33..37].copy_from_slice(&77_777u32.to_le_bytes());
        init[37..41].copy_from_slice(&ii);
        let mut resp = vec![0xc3u8; 17 + 92];
        resp[17..21].copy_from_slice(&88_888u32.to_le_bytes());
        resp[21..25].copy_from_slice(&ri);
        resp[25..29].copy_from_slice(&ii);
        let mut data = vec![0x3eu8; 64];
        data[4..8].copy_from_slice(&ri);
        data[8..16].copy_from_slice(&0u64.to_le_bytes());
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut shared,
            &[
                (TO_SERVER, udp(&q)),
                (TO_SERVER, udp(&junk)),
                (TO_SERVER, udp(&init)),
                (TO_CLIENT, udp(&resp)),
                (TO_SERVER, udp(&data)),
            ],
        );
        assert_eq!(app.proto, AppProto::WireGuard);
        let names = app.names.as_ref().unwrap();
        let vpn = names.vpn.as_ref().unwrap();
        assert_eq!(vpn.protocol, super::super::vpn::VpnProtocol::AmneziaWg);
        assert_eq!(names.packets_to_verdict, 5);
        assert!(names.dns.is_some(), "the imitated query stays on record");
        assert!(!app.inspecting() && !app.is_allocated());
    }

    #[test]
    fn response_without_request_is_http() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut shared,
            &[(TO_CLIENT, tcp(5, 0, b"HTTP/1.1 304 Not Modified\r\n\r\n"))],
        );
        assert_eq!(app.proto, AppProto::Http);
    }

    #[test]
    fn gives_up_and_frees_state() {
        let mut shared = Shared::new(1 << 20);
        let mut app = AppState::default();
        let junk = [0x5au8; 100];
        let packets: Vec<(usize, Decoded<'_>)> = (0..40u32)
            .map(|i| (TO_SERVER, udp(&junk[..(i % 50 + 20) as usize])))
            .collect();
        feed(&mut app, &mut shared, &packets);
        assert_eq!(app.proto, AppProto::Unknown);
        assert!(!app.inspecting() && !app.is_allocated());
    }
}
