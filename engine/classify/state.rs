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
//! ServerHello), for at most [`REPLY_PACKETS`] packets. A flow that gives
//! no verdict within [`MAX_DATA_PACKETS`] payload packets, whose
//! dissectors have all refused, or (UDP) that started none within
//! [`IDLE_DATAGRAMS`] datagrams, is left `unknown`; what a running
//! dissector's evidence supports by then is asked of it
//! ([`Dissector::settle`](super::dissector::Dissector::settle)). Then the
//! state is freed and later packets cost one branch.

use super::dissector::{Carrier, Confidence, Findings, Input, Probe, Probing, Step};
use super::facts::Names;
use super::reassembly::{Budget, Stream};
use super::registry::{Kind, Live};
use super::AppProto;
use crate::decode::transport::{tcp_flags, Header};
use crate::decode::Decoded;
use crate::flow::{TO_CLIENT, TO_SERVER};

/// Payload packets a flow may take to be classified.
pub const MAX_DATA_PACKETS: u32 = 24;
/// Packets after a verdict during which the deciding dissector is still
/// fed (the TLS ServerHello).
pub const REPLY_PACKETS: u32 = 12;
/// Datagrams after which a UDP flow that no dissector took is given up.
pub const IDLE_DATAGRAMS: u16 = 4;

/// A packet as the classifier sees it.
pub struct Packet<'a, 'p> {
    pub decoded: &'a Decoded<'p>,
    /// `TO_SERVER` or `TO_CLIENT`.
    pub side: usize,
    /// Input position, for evidence.
    pub index: u64,
    /// The flow's packets so far, this one included.
    pub flow_packets: u32,
}

/// A flow's classification.
#[derive(Debug, Default)]
pub struct AppState {
    pub proto: AppProto,
    pub names: Option<Box<Names>>,
    /// Allocated when a dissector starts (or a TCP flow carries data).
    work: Option<Box<Work>>,
    /// Nothing more to learn: later packets are not inspected.
    done: bool,
    /// SYN sequence numbers per side, kept without allocating.
    syn: [Option<u32>; 2],
    /// Payload packets inspected.
    data_packets: u16,
    /// Dissectors refused for this flow ([`Kind::bit`]), kept without
    /// allocating.
    refused: u64,
    /// Bumped whenever `proto` or what rules read of `names` change (rules
    /// check a flow again only then).
    revision: u32,
}

/// What a flow needs while it is classified.
#[derive(Debug, Default)]
struct Work {
    /// TCP: each side's stream.
    streams: [Stream; 2],
    run: Running,
    /// Packets since the verdict, while the deciding dissector reads on.
    after_verdict: u32,
}

/// The dissectors running on a flow.
#[derive(Debug, Default)]
struct Running {
    /// In registry order.
    live: Vec<Live>,
    /// Stream sides whose first bytes were probed.
    opened: [bool; 2],
    /// Input position of the client stream's first byte.
    client_from: Option<u64>,
}

/// What one packet's bytes gave.
#[derive(Debug, Default)]
struct Outcome {
    verdict: Option<(AppProto, Confidence)>,
    found: Findings,
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
        !self.done
    }

    /// True while classification state is held.
    pub fn is_allocated(&self) -> bool {
        self.work.is_some()
    }

    /// Looks at one packet of the flow.
    pub fn inspect(&mut self, p: &Packet<'_, '_>, budget: &mut Budget) {
        if self.done {
            return;
        }
        let payload = p.decoded.transport.payload;
        match p.decoded.transport.header {
            Header::Tcp(h) => {
                if h.has(tcp_flags::SYN) {
                    self.syn[p.side].get_or_insert(h.seq);
                }
                if payload.is_empty() {
                    self.tick();
                    return;
                }
                let started = self
                    .work
                    .as_ref()
                    .is_some_and(|w| w.streams[p.side].delivered() > 0);
                if is_padding(h.flags, payload) && !started {
                    return;
                }
                self.data_packets = self.data_packets.saturating_add(1);
                let decided = self.proto != AppProto::Unknown;
                let work = self.work.get_or_insert_with(Box::default);
                let Work { streams, run, .. } = &mut **work;
                let stream = &mut streams[p.side];
                if let Some(isn) = self.syn[p.side] {
                    stream.syn(isn);
                }
                let mut out = Outcome::default();
                let refused = &mut self.refused;
                stream.segment(h.seq, payload, budget, &mut |bytes| {
                    run.stream(bytes, p, decided, refused, &mut out);
                });
                self.apply(out, p);
                let given_up = self.proto == AppProto::Unknown
                    && u32::from(self.data_packets) >= MAX_DATA_PACKETS;
                if given_up || self.exhausted() {
                    self.finish(budget);
                }
            }
            Header::Udp => {
                if payload.is_empty() {
                    return;
                }
                self.datagram(Carrier::Datagram, payload, p);
                let open = self.work.as_ref().is_some_and(|w| !w.run.live.is_empty());
                if self.proto != AppProto::Unknown
                    || u32::from(self.data_packets) >= MAX_DATA_PACKETS
                    || !open && self.data_packets >= IDLE_DATAGRAMS
                {
                    self.finish(budget);
                }
            }
            Header::Ipsec { .. } => {
                self.datagram(Carrier::Ip(p.decoded.proto), payload, p);
                if self.proto != AppProto::Unknown {
                    self.finish(budget);
                }
            }
            _ => self.done = true,
        }
    }

    /// A datagram (or IP payload) for the dissectors of `carrier`.
    fn datagram(&mut self, carrier: Carrier, payload: &[u8], p: &Packet<'_, '_>) {
        self.data_packets = self.data_packets.saturating_add(1);
        let input = Input {
            bytes: payload,
            side: p.side,
            packet: p.index,
            first: false,
            client_from: None,
        };
        for &kind in Kind::ALL {
            if kind.carrier() != carrier
                || self.refused & kind.bit() != 0
                || self.work.as_ref().is_some_and(|w| w.run.has(kind))
            {
                continue;
            }
            match kind.probe(payload, p.side) {
                Probe::No => {
                    if p.side == TO_SERVER && kind.probing() != Probing::EachMessage {
                        self.refused |= kind.bit();
                    }
                }
                answer => {
                    let work = self.work.get_or_insert_with(Box::default);
                    work.run.begin(kind);
                    if answer == Probe::Yes {
                        break;
                    }
                }
            }
        }
        let Some(work) = self.work.as_mut() else {
            return;
        };
        let mut out = Outcome::default();
        work.run.feed(
            &input,
            self.proto != AppProto::Unknown,
            &mut self.refused,
            &mut out,
        );
        self.apply(out, p);
    }

    /// A packet without payload: after a verdict, counts towards giving up
    /// on the reply.
    fn tick(&mut self) {
        if self.proto == AppProto::Unknown {
            return;
        }
        if let Some(work) = self.work.as_mut() {
            work.after_verdict += 1;
            if work.after_verdict > REPLY_PACKETS {
                self.done = true;
                self.work = None;
            }
        }
    }

    /// Records what a packet gave.
    fn apply(&mut self, out: Outcome, p: &Packet<'_, '_>) {
        let Outcome { verdict, found } = out;
        let first_verdict = self.proto == AppProto::Unknown && verdict.is_some();
        if let Some((proto, _)) = verdict {
            if self.proto == AppProto::Unknown {
                self.proto = proto;
            }
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
            for fact in found.facts {
                mine.add(fact);
            }
            mine.evidence.extend(found.evidence);
        }
        if !first_verdict && self.proto != AppProto::Unknown {
            if let Some(work) = self.work.as_mut() {
                work.after_verdict += 1;
                if work.after_verdict > REPLY_PACKETS {
                    self.done = true;
                    self.work = None;
                }
            }
        }
    }

    /// True when no dissector can say more about a TCP flow: none runs and
    /// none may still start, or both streams are at their depth.
    fn exhausted(&self) -> bool {
        let Some(work) = &self.work else { return true };
        let untried = Kind::ALL.iter().any(|&k| {
            k.carrier() == Carrier::Stream && self.refused & k.bit() == 0 && !work.run.has(k)
        });
        let open = !work.run.live.is_empty() || untried && self.proto == AppProto::Unknown;
        !open || (work.streams[TO_SERVER].is_full() && work.streams[TO_CLIENT].is_full())
    }

    /// Stops inspecting and frees the state; an undecided flow gets the
    /// verdict its running dissectors' evidence supports, if any.
    fn finish(&mut self, budget: &mut Budget) {
        if let Some(mut work) = self.work.take() {
            if self.proto == AppProto::Unknown {
                // The strongest; of equals, the last in registry order.
                let best = work
                    .run
                    .live
                    .iter()
                    .filter_map(Live::settle)
                    .max_by_key(|v| v.confidence);
                if let Some(v) = best {
                    self.proto = v.proto;
                    let mine = self.names.get_or_insert_with(Box::default);
                    mine.confidence = Some(v.confidence);
                    mine.decided();
                    for fact in v.found.facts {
                        mine.add(fact);
                    }
                    mine.evidence.extend(v.found.evidence);
                    self.revision = self.revision.wrapping_add(1);
                }
            }
            for s in work.streams.iter_mut() {
                s.release(budget);
            }
        }
        self.done = true;
    }

    /// The flow ends: frees what is held.
    pub fn close(&mut self, budget: &mut Budget) {
        self.finish(budget);
    }
}

impl Running {
    fn has(&self, kind: Kind) -> bool {
        self.live.iter().any(|l| l.kind() == kind)
    }

    /// Starts `kind`, keeping registry order.
    fn begin(&mut self, kind: Kind) {
        let at = self.live.partition_point(|l| l.kind() < kind);
        self.live.insert(at, kind.start());
    }

    /// In-order stream bytes of one side.
    fn stream(
        &mut self,
        bytes: &[u8],
        p: &Packet<'_, '_>,
        decided: bool,
        refused: &mut u64,
        out: &mut Outcome,
    ) {
        let side = p.side;
        let first = !self.opened[side];
        if side == TO_SERVER {
            self.client_from.get_or_insert(p.index);
        }
        if first {
            self.opened[side] = true;
            let other_opened = self.opened[1 - side];
            for &kind in Kind::ALL {
                if decided
                    || kind.carrier() != Carrier::Stream
                    || *refused & kind.bit() != 0
                    || self.has(kind)
                {
                    continue;
                }
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
        let input = Input {
            bytes,
            side,
            packet: p.index,
            first,
            client_from: self.client_from,
        };
        self.feed(&input, decided || out.verdict.is_some(), refused, out);
    }

    /// Feeds every running dissector, in order, until one decides.
    fn feed(&mut self, input: &Input<'_>, decided: bool, refused: &mut u64, out: &mut Outcome) {
        let mut i = 0;
        while i < self.live.len() {
            let kind = self.live[i].kind();
            match self.live[i].feed(input) {
                Step::NeedMore => i += 1,
                Step::Refuse => {
                    self.live.remove(i);
                    if kind.probing() != Probing::EachMessage {
                        *refused |= kind.bit();
                    }
                }
                Step::Facts { found, more } => {
                    out.found.facts.extend(found.facts);
                    out.found.evidence.extend(found.evidence);
                    if more {
                        i += 1;
                    } else {
                        self.live.remove(i);
                        *refused |= kind.bit();
                    }
                }
                Step::Verdict(v) => {
                    out.found.facts.extend(v.found.facts);
                    out.found.evidence.extend(v.found.evidence);
                    if !decided && out.verdict.is_none() {
                        out.verdict = Some((v.proto, v.confidence));
                    }
                    // The flow is decided: only the deciding dissector
                    // reads on, and only if it has more to read.
                    let keep = v.more.then(|| self.live.swap_remove(i));
                    self.live.clear();
                    self.live.extend(keep);
                    *refused = !kind.bit() | if v.more { 0 } else { kind.bit() };
                    return;
                }
            }
        }
    }
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
            truncated: false,
        }
    }

    fn udp(payload: &[u8]) -> Decoded<'_> {
        let mut d = tcp(0, 0, payload);
        d.proto = 17;
        d.transport.header = Header::Udp;
        d
    }

    fn feed(app: &mut AppState, budget: &mut Budget, packets: &[(usize, Decoded<'_>)]) {
        for (i, (side, d)) in packets.iter().enumerate() {
            let p = Packet {
                decoded: d,
                side: *side,
                index: 100 + i as u64,
                flow_packets: i as u32 + 1,
            };
            app.inspect(&p, budget);
        }
    }

    const REQ: &[u8] = b"GET /x HTTP/1.1\r\nHost: Example.ORG\r\nUser-Agent: t\r\n\r\n";

    #[test]
    fn http_request_split_and_reordered_on_any_port() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        let (a, b) = REQ.split_at(20);
        feed(
            &mut app,
            &mut budget,
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
        assert_eq!(budget.used, 0, "reassembly memory returned");
    }

    #[test]
    fn dns_over_udp_and_tcp() {
        let q = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'W', b'w', b'w', 4, b't', b'e',
            b's', b't', 0, 0, 28, 0, 1,
        ];
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        feed(&mut app, &mut budget, &[(TO_SERVER, udp(&q))]);
        assert_eq!(app.proto, AppProto::Dns);
        assert_eq!(
            app.names.as_ref().unwrap().dns.as_ref().unwrap().rrname,
            "www.test"
        );
        assert!(!app.inspecting() && !app.is_allocated());
        let mut framed = vec![0, q.len() as u8];
        framed.extend_from_slice(&q);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut budget,
            &[
                (TO_SERVER, tcp(1, 0, &framed[..5])),
                (TO_SERVER, tcp(6, 0, &framed[5..])),
            ],
        );
        assert_eq!(app.proto, AppProto::Dns);
    }

    #[test]
    fn response_without_request_is_http() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut budget,
            &[(TO_CLIENT, tcp(5, 0, b"HTTP/1.1 304 Not Modified\r\n\r\n"))],
        );
        assert_eq!(app.proto, AppProto::Http);
    }

    #[test]
    fn gives_up_and_frees_state() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        let junk = [0x5au8; 100];
        let packets: Vec<(usize, Decoded<'_>)> = (0..40u32)
            .map(|i| (TO_SERVER, udp(&junk[..(i % 50 + 20) as usize])))
            .collect();
        feed(&mut app, &mut budget, &packets);
        assert_eq!(app.proto, AppProto::Unknown);
        assert!(!app.inspecting() && !app.is_allocated());
    }
}
