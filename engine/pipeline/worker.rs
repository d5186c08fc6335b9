//! A worker: owns one share of the flows (by [`Shards`]) with their table,
//! fragment buffers and counters, and turns its packets into events.
//!
//! The clock and the sweeps for idle flows run on the input position: a
//! sweep happens before the packet whose timestamp makes it due, at the
//! same position whatever the number of workers (followers sweep when the
//! lead tells them, see [`super`]). Each event carries an [`Order`] key
//! that places it in the input; merging the workers' events by that key
//! gives the same output for any thread count.

use crate::capture::{RawPacket, Timestamp, NANOS_PER_SEC};
use crate::classify::state::Shared;
use crate::classify::{self, AppState};
use crate::decode::defrag::{DefragConfig, Defragmenter};
use crate::decode::ip::IpPacket;
use crate::decode::{self, ip, link, DecodeError, Decoded};
use crate::flow::key::FlowKey;
use crate::flow::table::FlowTable;
use crate::flow::{EndReason, Flow, FlowConfig, FlowState};
use crate::output::record::{AlertRecord, FlowRecord};
use crate::pipeline::shards::Shards;
use crate::rules::eval::{self, Facts, Hit, Matcher};
use crate::rules::RuleSet;

use crate::output::report::Counters;

/// Where an event sits in the output: the input position at which it
/// happened, then the position of its flow's first packet, its flow's id
/// (two flows can begin at one packet: a GRE tunnel's own and the one it
/// carries), the record's part and the event's place among its flow's
/// events at that position (alerts before the flow's record). Unique per
/// event and independent of the worker count and of how a worker's events
/// are cut into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Order {
    pub at: u64,
    pub first_packet: u64,
    pub flow: u64,
    pub part: u32,
    pub seq: u32,
}

pub use crate::output::record::Event;

/// What a worker keeps per flow beside flow tracking's own: the flow's
/// classification and the rules it matched.
/// What every packet reads leads (see [`Flow`]'s layout).
#[derive(Debug)]
#[repr(C)]
pub struct Inspection {
    /// `app.revision()` when the rules last checked the flow.
    pub rules_checked: u32,
    /// Whether the flow's addresses are in the rules' address lists.
    pub listing: eval::Listing,
    /// What the payload says: application protocol, names, DPI state.
    pub app: AppState,
    /// The rules the flow matched so far (with a rule set loaded).
    pub verdict: Option<Box<eval::Verdict>>,
}

impl Default for Inspection {
    fn default() -> Self {
        Inspection {
            app: AppState::default(),
            verdict: None,
            rules_checked: u32::MAX,
            listing: eval::Listing::Unknown,
        }
    }
}

/// A flow as a worker holds it.
type WorkerFlow = Flow<Inspection>;

/// Most events a worker keeps room for between batches.
const KEPT_EVENTS: usize = 1 << 14;

/// Time between sweeps for idle flows and stale fragments, in packet time.
const SWEEP_INTERVAL: Timestamp = NANOS_PER_SEC;

pub struct Worker {
    table: FlowTable<Inspection>,
    defrag: Defragmenter,
    counters: Counters,
    /// Highest packet timestamp seen since the input (or file) began.
    clock: Timestamp,
    next_sweep: Timestamp,
    /// What this worker's classifiers share: the out-of-order budget of
    /// its flows' TCP reassembly and the links between flows.
    classify: Shared,
    events: Vec<(Order, Event)>,
    /// The rule set, with this worker's scratch space.
    rules: Option<Matcher>,
    /// New rule hits of the flow being checked.
    hits: Vec<Hit>,
}

impl Worker {
    /// A worker that owns `share` (0 to 1) of the traffic, and as much of
    /// the flow, fragment and reassembly (`reassembly` bytes in all)
    /// capacities.
    pub fn new(share: f64, flows: FlowConfig, defrag: DefragConfig, reassembly: usize) -> Self {
        let part = |n: usize| ((n as f64 * share).ceil() as usize).max(1);
        let defrag = DefragConfig {
            max_datagrams: part(defrag.max_datagrams),
            max_bytes: part(defrag.max_bytes),
            ..defrag
        };
        Worker {
            table: FlowTable::new(flows, part(flows.capacity)),
            defrag: Defragmenter::new(defrag),
            counters: Counters::default(),
            clock: 0,
            next_sweep: 0,
            classify: Shared::new(part(reassembly)),
            events: Vec::new(),
            rules: None,
            hits: Vec::new(),
        }
    }

    /// A worker for `share` of the traffic, set up as the run's options
    /// say (rules, transactions, fingerprints).
    pub fn configured(share: f64, opts: &super::Options) -> Self {
        let mut w = Worker::new(share, opts.flows, opts.defrag, opts.reassembly);
        w.set_rules(opts.rules.clone(), opts.transactions);
        w.set_fingerprints(opts.fingerprints);
        w
    }

    /// JA3/JA4 fingerprints of client hellos (on unless nothing reads them).
    pub fn set_fingerprints(&mut self, on: bool) {
        self.classify.fingerprints = on;
    }

    /// Checks flows against `rules` from now on (None: no rules). Flows
    /// keep the hits they had; a rule is checked again only on news. Every
    /// transaction of a flow is read when per-transaction events are
    /// written (`events`, which keep each whole) or a rule reads them.
    pub fn set_rules(&mut self, rules: Option<std::sync::Arc<RuleSet>>, events: bool) {
        let rules_read = rules.as_ref().is_some_and(|r| r.reads_transactions());
        self.classify.transactions = events || rules_read;
        self.classify.keep_transactions = events;
        self.rules = rules.map(Matcher::new);
    }

    pub fn counters(&self) -> Counters {
        let mut c = self.counters.clone();
        c.defrag = self.defrag.stats();
        c.reassembly_refused_segments = self.classify.budget.refused_segments;
        c.reassembly_refused_bytes = self.classify.budget.refused_bytes;
        c.links_dropped = self.classify.links.dropped;
        c
    }

    /// Flows held now.
    pub fn active_flows(&self) -> usize {
        self.table.len()
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Events produced and not yet taken.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Takes the events produced so far, sorted by their order key.
    pub fn take_events(&mut self) -> Vec<(Order, Event)> {
        // The next batch gets the room this one had (growing a vector of
        // events copies them all into fresh memory), up to a bound: a batch
        // that ended every flow of a file does not set the room held for
        // the rest of the run.
        let keep = self.events.capacity().clamp(16, KEPT_EVENTS);
        let mut ev = std::mem::replace(&mut self.events, Vec::with_capacity(keep));
        // Events come mostly in order already (a packet's, then a sweep's
        // in activity order): the stable sort merges such runs, where the
        // unstable one partitioned them (half the instructions).
        ev.sort_by_key(|(o, _)| *o);
        ev
    }

    /// Advances the packet clock to `ts` at input position `index`, sweeping
    /// idle flows when a sweep is due. Returns true if it swept.
    #[inline]
    pub fn advance_clock(&mut self, index: u64, ts: Timestamp) -> bool {
        if ts > self.clock {
            self.clock = ts;
        }
        if self.clock < self.next_sweep {
            return false;
        }
        self.sweep(index);
        self.next_sweep = self.clock.saturating_add(SWEEP_INTERVAL);
        true
    }

    /// The packet clock (highest timestamp so far).
    pub fn clock(&self) -> Timestamp {
        self.clock
    }

    /// A follower takes the lead's clock before each of its packets.
    pub fn set_clock(&mut self, clock: Timestamp) {
        self.clock = clock;
    }

    /// A follower's sweep, at the position and clock the lead swept at.
    pub fn sweep_at(&mut self, index: u64, clock: Timestamp) {
        self.clock = clock;
        self.sweep(index);
    }

    /// Decides which worker owns a packet: by the address pair of a
    /// fragment's outer header (fragments carry no ports; the owner
    /// reassembles), else by the innermost address pair, so a tunnelled
    /// flow stays on one worker whatever tunnel endpoints carry it. Packets
    /// without IP are counted here (by the caller's worker) and owned by none.
    #[inline]
    pub fn route<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        shards: &Shards,
    ) -> Option<(usize, IpPacket<'a>)> {
        let ipp = self.network(raw)?;
        if shards.workers() == 1 {
            // One worker owns everything: no tunnel is looked into.
            return Some((0, ipp));
        }
        // GRE stays with its outer pair: the tunnel's own flow (and PPTP's
        // control connection) and the flows it carries on one worker.
        let tunnel = ipp.fragment.is_none()
            && (matches!(ipp.proto, ip::proto::IPIP | ip::proto::IPV6)
                || ipp.proto == ip::proto::UDP && decode::udp_tunnel::on_port(ipp.payload));
        if tunnel {
            if let Ok(d) = decode::datagram(&ipp) {
                return Some((shards.owner(d.src, d.dst), ipp));
            }
        }
        Some((shards.owner(ipp.src, ipp.dst), ipp))
    }

    /// A packet the lead routed to this worker: its headers are parsed
    /// again here, which costs less than handing the parsed header across
    /// cores (twice the bytes per packet in the work batches).
    #[inline]
    pub fn routed_packet(&mut self, index: u64, file: u32, raw: &RawPacket<'_>) {
        if let Some(ipp) = self.network(raw) {
            self.owned_packet(index, file, raw, &ipp);
        }
    }

    /// The link and IP headers of a packet; one without IP is counted here.
    #[inline(always)]
    fn network<'a>(&mut self, raw: &RawPacket<'a>) -> Option<IpPacket<'a>> {
        let net = match link::decode(raw.link, raw.data) {
            Ok(n) => n,
            Err(e) => {
                self.counters.saw_packet(raw.ts, raw.wire_len);
                self.count_link_error(e, raw);
                return None;
            }
        };
        let Ok(ipp) = ip::parse(net.bytes) else {
            self.counters.saw_packet(raw.ts, raw.wire_len);
            self.counters.malformed += 1;
            return None;
        };
        Some(ipp)
    }

    /// Processes packet number `index` (from file `file`), which this
    /// worker owns, with the IP header [`route`](Self::route) parsed.
    pub fn owned_packet(&mut self, index: u64, file: u32, raw: &RawPacket<'_>, ipp: &IpPacket<'_>) {
        self.count_owned(raw);
        if ipp.fragment.is_some() {
            let Some(whole) = self.defrag.add(raw.ts, ipp, raw.wire_len) else {
                return;
            };
            let facts = decode::IpFacts {
                ttl: ipp.ttl,
                ext: ipp.ext,
                fragments: whole.fragments,
                first_fragment: whole.first_len,
                fragments_reordered: whole.reordered,
                segment: &[],
            };
            let upper = if ipp.src.is_ipv6() {
                ip::walk_extensions(whole.proto, &whole.payload)
                    .map(|u| (u.proto, u.payload, u.ext))
                    .map_err(DecodeError::from)
            } else {
                Ok((whole.proto, &whole.payload[..], facts.ext))
            };
            let decoded = upper.and_then(|(proto, payload, ext)| {
                let facts = decode::IpFacts {
                    ext: facts.ext | ext,
                    ..facts
                };
                let d = decode::upper_with(ipp.src, ipp.dst, proto, payload, ipp.truncated, facts);
                self.tunnel_flow(
                    &d,
                    ipp,
                    proto,
                    payload,
                    index,
                    file,
                    raw.ts,
                    whole.wire_bytes,
                );
                d
            });
            self.decoded(&decoded, index, file, raw.ts, whole.wire_bytes);
        } else {
            let decoded = decode::datagram(ipp);
            let wire = u64::from(raw.wire_len);
            self.tunnel_flow(
                &decoded,
                ipp,
                ipp.proto,
                ipp.payload,
                index,
                file,
                raw.ts,
                wire,
            );
            self.decoded(&decoded, index, file, raw.ts, wire);
        }
    }

    /// A GRE packet opened to the packet it carries also counts for the
    /// flow of its outer endpoints (the tunnel's own record, which the GRE
    /// dissector reads).
    #[allow(clippy::too_many_arguments)]
    fn tunnel_flow(
        &mut self,
        inner: &Result<Decoded<'_>, DecodeError>,
        ipp: &IpPacket<'_>,
        proto: u8,
        payload: &[u8],
        index: u64,
        file: u32,
        ts: Timestamp,
        wire: u64,
    ) {
        let opened = match inner {
            Ok(d) => d.tunnels > 0,
            Err(DecodeError::InnerFragment) => true,
            Err(_) => false,
        };
        if proto != ip::proto::GRE || !opened {
            return;
        }
        if let Some(outer) = decode::outer(ipp.src, ipp.dst, proto, payload, ipp.truncated) {
            self.track(&outer, index, file, ts, wire);
        }
    }

    #[inline]
    fn count_owned(&mut self, raw: &RawPacket<'_>) {
        self.counters.saw_packet(raw.ts, raw.wire_len);
        if raw.is_truncated() {
            self.counters.truncated += 1;
        }
    }

    fn count_link_error(&mut self, e: link::LinkError, raw: &RawPacket<'_>) {
        match e {
            link::LinkError::Unsupported(_) => {
                *self.counters.unknown_link.entry(raw.link).or_default() += 1
            }
            link::LinkError::NotIp(_) => self.counters.not_ip += 1,
            link::LinkError::Truncated(_) => self.counters.malformed += 1,
        }
    }

    /// (By reference: moved in, the decoded packet was copied whole with
    /// loads wider than the stores that had just written it.)
    fn decoded(
        &mut self,
        d: &Result<Decoded<'_>, DecodeError>,
        index: u64,
        file: u32,
        ts: Timestamp,
        wire: u64,
    ) {
        match d {
            Ok(d) => {
                if d.transport.malformed {
                    self.counters.malformed += 1;
                }
                self.track(d, index, file, ts, wire)
            }
            Err(DecodeError::InnerFragment) => self.counters.inner_fragments += 1,
            Err(_) => self.counters.malformed += 1,
        }
    }

    /// Finds or opens the packet's flow and accounts the packet to it.
    fn track(&mut self, d: &Decoded<'_>, index: u64, file: u32, ts: Timestamp, wire: u64) {
        let (key, dir) = FlowKey::of_packet(
            d.proto,
            &d.src,
            d.transport.src_port,
            &d.dst,
            d.transport.dst_port,
        );
        let active_timeout = self.table.config().active_timeout;
        let r = match self.table.find(&key) {
            Some(r) => {
                let flow = self.table.get_mut(r);
                if flow.state == FlowState::Closed && is_fresh_syn(d) {
                    let mut old = self.table.remove(r);
                    self.end(index, &mut old, EndReason::TcpReuse);
                    self.open(key, dir, d, ts, index, file)
                } else {
                    if ts.saturating_sub(flow.first_ts) > active_timeout {
                        let record = FlowRecord::new(
                            flow,
                            EndReason::ActiveTimeout,
                            flow.ext.app.proto,
                            flow.ext.app.names.clone(),
                            flow.ext.app.lost(),
                            flow.ext.verdict.clone(),
                        );
                        flow.part += 1;
                        flow.ext.app.new_part();
                        flow.first_ts = ts;
                        flow.pkts = [0; 2];
                        flow.bytes = [0; 2];
                        self.events
                            .push((order(index, &record), Event::Flow(Box::new(record))));
                    }
                    r
                }
            }
            None => self.open(key, dir, d, ts, index, file),
        };
        let flow = self.table.get_mut(r);
        let side = flow.side(dir);
        flow.account(side, d, ts, wire);
        flow.active_at = self.clock;
        if flow.ext.app.inspecting() {
            let p = classify::Packet {
                decoded: d,
                side,
                index,
                flow_packets: (flow.pkts[0] + flow.pkts[1]).min(u64::from(u32::MAX)) as u32,
                ts,
            };
            flow.ext.app.inspect(&p, &mut self.classify);
        }
        if let Some(m) = self.rules.as_mut() {
            check_rules(m, flow, index, ts, &mut self.hits, &mut self.events);
        }
        self.table.touch(r);
    }

    fn open(
        &mut self,
        key: FlowKey,
        dir: crate::flow::key::Direction,
        d: &Decoded<'_>,
        ts: Timestamp,
        index: u64,
        file: u32,
    ) -> u32 {
        self.counters.flows += 1;
        if let Some(m) = &self.rules {
            m.prefetch_addresses(key.lo.addr, key.hi.addr);
        }
        let (classify, rules, hits, events, counters) = (
            &mut self.classify,
            &mut self.rules,
            &mut self.hits,
            &mut self.events,
            &mut self.counters,
        );
        self.table.insert_with(
            || Flow::new(key, dir, d, ts, index, file),
            |old| {
                counters.evicted += 1;
                let at = (index, EndReason::Forced);
                end_flow(classify, rules.as_mut(), hits, events, at, old);
            },
        )
    }

    fn end(&mut self, at: u64, flow: &mut WorkerFlow, reason: EndReason) {
        end_flow(
            &mut self.classify,
            self.rules.as_mut(),
            &mut self.hits,
            &mut self.events,
            (at, reason),
            flow,
        );
    }

    /// Ends idle flows (in their slots) and stale fragments; `index` is the
    /// input position.
    fn sweep(&mut self, index: u64) {
        self.defrag.expire(self.clock);
        self.end_in_table(index, Some(self.clock));
    }

    /// Ends, in their slots, the flows idle at `idle_at`, or every flow
    /// (`None`: the input ended); `index` is the input position.
    fn end_in_table(&mut self, index: u64, idle_at: Option<Timestamp>) {
        let (classify, rules, hits, events) = (
            &mut self.classify,
            &mut self.rules,
            &mut self.hits,
            &mut self.events,
        );
        let mut end = |flow: &mut WorkerFlow, reason| {
            end_flow(
                classify,
                rules.as_mut(),
                hits,
                events,
                (index, reason),
                flow,
            );
        };
        match idle_at {
            Some(now) => self
                .table
                .expire_each(now, |flow| end(flow, EndReason::Timeout)),
            None => self.table.drain_each(|flow| end(flow, EndReason::Shutdown)),
        }
    }

    /// The input (or, read file by file, one file) ended at position `index`:
    /// every flow is reported, the links flows left for later ones are
    /// forgotten and the clock starts again (so that a file's records do
    /// not depend on the files before it, which may be analyzed at once).
    pub fn end_of_input(&mut self, index: u64) {
        self.end_in_table(index, None);
        self.classify.links.clear();
        self.defrag.expire(Timestamp::MAX);
        self.clock = 0;
        self.next_sweep = 0;
    }
}

/// Ends `flow` at input position `end.0` for reason `end.1`: its
/// classification settles, the rules look a last time, its record joins
/// `events`. (A free function: a sweep ends flows in the table's slots
/// while the rest of the worker is borrowed apart.)
fn end_flow(
    classify: &mut Shared,
    rules: Option<&mut Matcher>,
    hits: &mut Vec<Hit>,
    events: &mut Vec<(Order, Event)>,
    (at, reason): (u64, EndReason),
    flow: &mut WorkerFlow,
) {
    flow.ext.app.close(classify);
    if let Some(m) = rules {
        let ts = flow.last_ts;
        check_rules(m, flow, at, ts, hits, events);
    }
    let names = flow.ext.app.names.take();
    let verdict = flow.ext.verdict.take();
    let lost = flow.ext.app.lost();
    let record = FlowRecord::new(flow, reason, flow.ext.app.proto, names, lost, verdict);
    events.push((order(at, &record), Event::Flow(Box::new(record))));
}

fn order(at: u64, r: &FlowRecord) -> Order {
    Order {
        at,
        first_packet: r.first_packet,
        flow: r.flow_id,
        part: r.part,
        seq: u32::MAX,
    }
}

/// Checks `flow` against the rules if its classification changed since the
/// last check; new hits join its verdict, and those of `alert` and `drop`
/// rules become alert events at input position `at` (time `ts`) unless a
/// `pass` rule matched.
/// Inlined: most packets change nothing the rules read, and their check
/// is this comparison alone.
#[inline]
fn check_rules(
    m: &mut Matcher,
    flow: &mut WorkerFlow,
    at: u64,
    ts: Timestamp,
    hits: &mut Vec<Hit>,
    events: &mut Vec<(Order, Event)>,
) {
    let revision = flow.ext.app.revision();
    if flow.ext.rules_checked != revision {
        flow.ext.rules_checked = revision;
        check_changed(m, flow, at, ts, hits, events);
    }
}

/// [`check_rules`] on a flow whose revision changed.
#[inline(never)]
fn check_changed(
    m: &mut Matcher,
    flow: &mut WorkerFlow,
    at: u64,
    ts: Timestamp,
    hits: &mut Vec<Hit>,
    events: &mut Vec<(Order, Event)>,
) {
    let names = flow.ext.app.names.as_deref();
    if m.matches_nothing(names, [flow.client(), flow.server()], &mut flow.ext.listing) {
        return;
    }
    let before = {
        let facts = Facts::new(
            flow.key.proto,
            flow.client(),
            flow.server(),
            flow.ext.app.proto,
            names,
        );
        m.update(&facts, &mut flow.ext.listing, &mut flow.ext.verdict, hits)
    };
    for (seq, h) in (before as u32..).zip(hits.drain(..)) {
        let o = Order {
            at,
            first_packet: flow.first_packet,
            flow: flow.id,
            part: flow.part,
            seq,
        };
        let alert = AlertRecord::new(
            flow,
            flow.ext.app.proto,
            flow.ext.app.names.clone(),
            ts,
            at,
            h,
        );
        events.push((o, Event::Alert(Box::new(alert))));
    }
}

fn is_fresh_syn(d: &Decoded<'_>) -> bool {
    use crate::decode::transport::{tcp_flags, Header};
    matches!(d.transport.header, Header::Tcp(h) if h.has(tcp_flags::SYN) && !h.has(tcp_flags::ACK))
}
