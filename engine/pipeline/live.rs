//! Live capture: the threads that feed workers from libpcap handles, the
//! control path that hands them a new configuration while they run, and
//! the counters behind the periodic stats line.
//!
//! Two ways in ([`open`] picks one):
//!
//! - **Direct** (the default): each worker owns one handle per interface
//!   and reads it itself. With several workers the handles of an interface
//!   form an AF_PACKET fanout group, so the kernel hashes each packet to
//!   one worker, both directions of a flow to the same one (see
//!   [`crate::capture::live`]); no thread dispatches. A packet is processed
//!   in place in libpcap's ring, never copied.
//! - **Dispatch** (`--no-fanout`, or when the kernel refuses a fanout
//!   group): one reader thread per interface routes each packet with
//!   [`Worker::route`] and the symmetric [`Shards`] hash, as the offline
//!   lead does, copying it into a batch for its worker; batches travel over
//!   bounded channels and are recycled.
//!
//! Timestamps are the packets' (wall clock); a worker also advances its
//! clock with the wall clock about once a second, so idle flows time out
//! and are reported while no packet arrives. Events go to the calling
//! thread as soon as a worker has them; their order is not deterministic.
//! Packet numbers (`first_packet`, evidence) count the packets of the
//! worker that processed the flow.
//!
//! On stop each handle's ring is drained (what the kernel already captured
//! is processed, including a last block handed over only at its timeout,
//! for at most [`DRAIN_TIME`] or twice the block timeout), then every open
//! flow is reported with reason `shutdown`.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use super::worker::{Event, Order, Worker};
use super::Report;
use crate::capture::live::{self, HandleConfig, HandleStats, LiveError, LiveHandle};
use crate::capture::{LinkType, RawPacket, Timestamp};
use crate::decode::defrag::DefragConfig;
use crate::flow::FlowConfig;
use crate::output::report::Counters;
use crate::output::summary::{bytes as fmt_bytes, thousands};
use crate::pipeline::shards::Shards;

/// How a live run is set up.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub interfaces: Vec<String>,
    pub handle: HandleConfig,
    pub threads: usize,
    /// Try AF_PACKET fanout for several workers (false: always dispatch).
    pub fanout: bool,
    pub flows: FlowConfig,
    pub defrag: DefragConfig,
}

/// Packets a thread reads from one handle before it looks at anything else.
const BURST: usize = 256;
/// Longest sleep waiting for packets: how fast a stop is noticed.
const WAIT: Duration = Duration::from_millis(100);
/// How often the clock follows the wall clock and drop counters are read.
const TICK: Duration = Duration::from_secs(1);
/// Longest time spent on stop processing what the rings still hold (more
/// with a longer block timeout).
pub const DRAIN_TIME: Duration = Duration::from_millis(500);
/// Packets per dispatched batch, and its bytes.
const BATCH_PACKETS: usize = 256;
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight to each worker before a reader waits.
const BATCHES_IN_FLIGHT: usize = 8;

/// A configuration that can be replaced while workers run: each worker
/// checks for a new one once per batch (one atomic load) and applies it.
pub struct Control<C> {
    generation: AtomicU64,
    current: Mutex<(u64, Arc<C>)>,
}

impl<C> Control<C> {
    /// Generation 1 is `initial`.
    pub fn new(initial: C) -> Self {
        Control {
            generation: AtomicU64::new(1),
            current: Mutex::new((1, Arc::new(initial))),
        }
    }

    /// Hands `config` to every worker; returns its generation.
    pub fn publish(&self, config: C) -> u64 {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let generation = cur.0 + 1;
        *cur = (generation, Arc::new(config));
        self.generation.store(generation, Ordering::Release);
        generation
    }

    /// The latest generation published.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The configuration, if it is newer than generation `seen` (which is
    /// then updated).
    #[inline]
    pub fn newer(&self, seen: &mut u64) -> Option<Arc<C>> {
        if self.generation.load(Ordering::Acquire) == *seen {
            return None;
        }
        let cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *seen = cur.0;
        Some(Arc::clone(&cur.1))
    }
}

/// Applies a configuration from the control path to a worker.
pub type Apply<C> = dyn Fn(&mut Worker, &Arc<C>) + Sync;

/// What one thread publishes for the stats line (relaxed atomics, written
/// once per batch).
#[derive(Default)]
struct Gauge {
    /// Packets and bytes this thread read from its handles.
    read_packets: AtomicU64,
    read_bytes: AtomicU64,
    /// Workers only: packets processed, flows held, flows evicted, and the
    /// control generation applied.
    processed: AtomicU64,
    active_flows: AtomicU64,
    evicted: AtomicU64,
    generation: AtomicU64,
}

/// Drop counters of one handle.
struct HandleGauge {
    iface: usize,
    dropped: AtomicU64,
    if_dropped: AtomicU64,
}

/// What a run looks like now, for the stats line.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub packets: u64,
    pub bytes: u64,
    /// Dropped by the kernel (rings full), summed over handles.
    pub kernel_drops: u64,
    /// Dropped by the interfaces, counted once per interface.
    pub iface_drops: u64,
    pub active_flows: u64,
    pub evicted: u64,
    /// Resident memory of the process.
    pub memory: Option<u64>,
    /// Packets processed by each worker.
    pub per_worker: Vec<u64>,
}

impl Snapshot {
    /// The stats line: rates since `prev` (since the start without one).
    pub fn line(&self, prev: Option<&Snapshot>) -> String {
        let base = prev.cloned().unwrap_or_default();
        let secs = self
            .elapsed
            .saturating_sub(base.elapsed)
            .as_secs_f64()
            .max(1e-3);
        let pps = self.packets.saturating_sub(base.packets) as f64 / secs;
        let bps = self.bytes.saturating_sub(base.bytes) as f64 / secs;
        format!(
            "{} packets/s, {}/s | packets {} ({}) | dropped: kernel {}, interface {} | \
             flows {} active, {} evicted | memory {} | per worker {}",
            thousands(pps as u64),
            fmt_bytes(bps as u64),
            self.packets,
            fmt_bytes(self.bytes),
            self.kernel_drops,
            self.iface_drops,
            thousands(self.active_flows),
            thousands(self.evicted),
            self.memory.map_or_else(|| "?".to_string(), fmt_bytes),
            self.per_worker
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("/"),
        )
    }
}

/// The run as the caller sees it while it goes on.
pub struct Monitor<'a, C> {
    started: Instant,
    control: &'a Control<C>,
    gauges: &'a [Gauge],
    /// Which gauges are workers'.
    workers: usize,
    handles: &'a [HandleGauge],
    interfaces: usize,
}

impl<C> Monitor<'_, C> {
    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut if_drops = vec![0u64; self.interfaces];
        let mut kernel_drops = 0;
        for h in self.handles {
            kernel_drops += r(&h.dropped);
            // Every handle of an interface reads the same interface counter.
            if let Some(d) = if_drops.get_mut(h.iface) {
                *d = (*d).max(r(&h.if_dropped));
            }
        }
        let workers = &self.gauges[..self.workers];
        Snapshot {
            elapsed: self.started.elapsed(),
            packets: self.gauges.iter().map(|g| r(&g.read_packets)).sum(),
            bytes: self.gauges.iter().map(|g| r(&g.read_bytes)).sum(),
            kernel_drops,
            iface_drops: if_drops.iter().sum(),
            active_flows: workers.iter().map(|g| r(&g.active_flows)).sum(),
            evicted: workers.iter().map(|g| r(&g.evicted)).sum(),
            memory: live::resident_bytes(),
            per_worker: workers.iter().map(|g| r(&g.processed)).collect(),
        }
    }

    /// The control path, to publish a new configuration.
    pub fn control(&self) -> &Control<C> {
        self.control
    }

    /// True once every worker applied generation `generation` (or later).
    pub fn applied(&self, generation: u64) -> bool {
        self.gauges[..self.workers]
            .iter()
            .all(|g| g.generation.load(Ordering::Acquire) >= generation)
    }
}

/// Takes what a live run produces, on the calling thread.
pub trait Consumer<C> {
    type Error;
    fn event(&mut self, ev: Event) -> Result<(), Self::Error>;
    /// After each batch of events: make them visible (flush).
    fn flush(&mut self) -> Result<(), Self::Error>;
    /// Called after every batch and at least every 100 ms while running.
    fn tick(&mut self, monitor: &Monitor<'_, C>);
}

/// How workers get their packets.
pub enum Feed {
    /// Each worker reads its own handles (one per interface).
    Direct(Vec<Vec<LiveHandle>>),
    /// One reader per interface dispatches to the workers.
    Dispatch {
        readers: Vec<LiveHandle>,
        /// Why, when fanout was wanted but refused.
        fallback: Option<LiveError>,
    },
}

/// Opened handles, ready to run.
pub struct LiveCapture {
    pub feed: Feed,
    pub interfaces: Vec<String>,
    pub links: Vec<LinkType>,
    threads: usize,
}

/// Opens the interfaces for `opts.threads` workers: with fanout when asked
/// and possible, else for dispatch. Errors are those of the first handle
/// that failed (missing interface, permissions, a bad filter).
pub fn open(opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
    let threads = opts.threads.max(1);
    let mut links = Vec::with_capacity(opts.interfaces.len());
    let dispatch = |fallback| -> Result<Feed, LiveError> {
        let readers = opts
            .interfaces
            .iter()
            .map(|i| LiveHandle::open(i, &opts.handle))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Feed::Dispatch { readers, fallback })
    };
    let feed = if !opts.fanout {
        dispatch(None)?
    } else if threads == 1 {
        let handles = opts
            .interfaces
            .iter()
            .map(|i| LiveHandle::open(i, &opts.handle))
            .collect::<Result<Vec<_>, _>>()?;
        Feed::Direct(vec![handles])
    } else {
        let mut per_worker: Vec<Vec<LiveHandle>> = (0..threads).map(|_| Vec::new()).collect();
        let mut refused = None;
        for iface in &opts.interfaces {
            match LiveHandle::open_fanout(iface, &opts.handle, threads) {
                Ok(hs) => {
                    for (w, h) in per_worker.iter_mut().zip(hs) {
                        w.push(h);
                    }
                }
                Err(e @ LiveError::Fanout { .. }) => {
                    refused = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match refused {
            Some(e) => {
                drop(per_worker);
                dispatch(Some(e))?
            }
            None => Feed::Direct(per_worker),
        }
    };
    match &feed {
        Feed::Direct(per_worker) => links.extend(per_worker[0].iter().map(LiveHandle::link)),
        Feed::Dispatch { readers, .. } => links.extend(readers.iter().map(LiveHandle::link)),
    }
    Ok(LiveCapture {
        feed,
        interfaces: opts.interfaces.clone(),
        links,
        threads,
    })
}

impl LiveCapture {
    /// "eth0 (ETHERNET), 2 workers, AF_PACKET fanout", for the start line.
    pub fn describe(&self) -> String {
        let ifaces: Vec<String> = self
            .interfaces
            .iter()
            .zip(&self.links)
            .map(|(i, l)| format!("{i} ({})", l.name().unwrap_or("unsupported link type")))
            .collect();
        let how = match &self.feed {
            Feed::Direct(_) if self.threads > 1 => "AF_PACKET fanout",
            Feed::Direct(_) => "reading in the worker",
            Feed::Dispatch { .. } => "one reader thread per interface dispatching",
        };
        format!(
            "{}, {} worker{}, {how}",
            ifaces.join(", "),
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )
    }

    /// Why fanout was not used although it was wanted.
    pub fn fallback(&self) -> Option<&LiveError> {
        match &self.feed {
            Feed::Dispatch { fallback, .. } => fallback.as_ref(),
            Feed::Direct(_) => None,
        }
    }
}

/// How a live run ended.
pub struct LiveReport {
    /// Counters of all workers; `elapsed` is the capture's wall time.
    pub report: Report,
    /// The last counters, after every thread ended.
    pub last: Snapshot,
    /// A capture error that ended the run early.
    pub error: Option<LiveError>,
}

/// What threads send the calling thread.
enum Out {
    Events(Vec<(Order, Event)>),
    Done(Counters),
    Failed(LiveError),
}

/// What every capture thread shares.
struct Shared<'a, C> {
    opts: &'a LiveOptions,
    control: &'a Control<C>,
    apply: &'a Apply<C>,
    stop: &'a AtomicBool,
    share: f64,
}

/// The wall clock as a packet timestamp.
fn wall_clock() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A worker and its position, between packets.
struct Driven<'a, C> {
    w: Worker,
    /// Packets this worker processed (its input positions).
    index: u64,
    seen: u64,
    gauge: &'a Gauge,
    shared: &'a Shared<'a, C>,
    out: Sender<Out>,
    single: Shards,
}

impl<'a, C> Driven<'a, C> {
    fn new(shared: &'a Shared<'a, C>, gauge: &'a Gauge, out: Sender<Out>) -> Self {
        let mut d = Driven {
            out,
            w: Worker::new(shared.share, shared.opts.flows, shared.opts.defrag),
            index: 0,
            seen: 0,
            gauge,
            shared,
            single: Shards::new(&[1.0]),
        };
        d.reconfigure();
        d
    }

    /// Applies a newer configuration, if one was published.
    #[inline]
    fn reconfigure(&mut self) {
        if let Some(c) = self.shared.control.newer(&mut self.seen) {
            (self.shared.apply)(&mut self.w, &c);
            self.gauge.generation.store(self.seen, Ordering::Release);
        }
    }

    #[inline]
    fn packet(&mut self, iface: u32, raw: &RawPacket<'_>) {
        self.w.advance_clock(self.index, raw.ts);
        if let Some((_, ip)) = self.w.route(raw, &self.single) {
            self.w.owned_packet(self.index, iface, raw, &ip);
        }
        self.index += 1;
    }

    /// Lets idle flows time out on the wall clock.
    fn tick(&mut self) {
        self.w.advance_clock(self.index, wall_clock());
        let evicted = self.w.counters().evicted;
        self.gauge.evicted.store(evicted, Ordering::Relaxed);
    }

    /// Sends events and publishes counters.
    fn publish(&mut self) {
        let g = self.gauge;
        g.processed.store(self.index, Ordering::Relaxed);
        g.active_flows
            .store(self.w.active_flows() as u64, Ordering::Relaxed);
        if self.w.has_events() {
            // The caller keeps receiving until every thread ended.
            let _ = self.out.send(Out::Events(self.w.take_events()));
        }
    }

    fn finish(mut self) {
        self.w.end_of_input(self.index);
        self.publish();
        let evicted = self.w.counters().evicted;
        self.gauge.evicted.store(evicted, Ordering::Relaxed);
        let _ = self.out.send(Out::Done(self.w.counters()));
    }
}

/// Reads up to [`BURST`] packets of `h`, handing each to `f`. Returns how
/// many it read.
#[inline]
fn burst(
    h: &mut LiveHandle,
    mut f: impl FnMut(&RawPacket<'_>),
    gauge: &Gauge,
) -> Result<usize, LiveError> {
    let mut n = 0;
    let mut bytes = 0u64;
    while n < BURST {
        let Some(p) = h.next_packet()? else { break };
        bytes += u64::from(p.wire_len);
        f(&p);
        n += 1;
    }
    if n > 0 {
        gauge.read_packets.fetch_add(n as u64, Ordering::Relaxed);
        gauge.read_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    Ok(n)
}

/// On stop: processes what the kernel already captured on `h` until the
/// handle has been quiet for its settle time (a block-mode ring hands its
/// last block over only after the block timeout), or until `until`.
fn drain(h: &mut LiveHandle, until: Instant, mut f: impl FnMut(&RawPacket<'_>), gauge: &Gauge) {
    let mut last = Instant::now();
    while Instant::now() < until {
        match burst(h, &mut f, gauge) {
            Ok(0) => {
                let quiet = last.elapsed();
                if quiet >= h.settle() || live::wait(&[h.fd()], h.settle() - quiet).is_err() {
                    break;
                }
            }
            Ok(_) => last = Instant::now(),
            Err(_) => break,
        }
    }
}

/// The longest a stop may spend draining `handles`: [`DRAIN_TIME`], or
/// more if a block timeout is longer.
fn drain_time(handles: &[LiveHandle]) -> Duration {
    handles
        .iter()
        .map(|h| 2 * h.settle())
        .fold(DRAIN_TIME, Duration::max)
}

/// Reads drop counters of `handles` into their gauges.
fn read_drops(handles: &mut [LiveHandle], gauges: &[&HandleGauge]) {
    for (h, g) in handles.iter_mut().zip(gauges) {
        if let Ok(HandleStats {
            dropped,
            if_dropped,
        }) = h.stats()
        {
            g.dropped.store(dropped, Ordering::Relaxed);
            g.if_dropped.store(if_dropped, Ordering::Relaxed);
        }
    }
}

/// A worker that reads its own handles (one per interface).
fn direct<C>(
    shared: &Shared<'_, C>,
    gauge: &Gauge,
    out: Sender<Out>,
    mut handles: Vec<LiveHandle>,
    hgauges: Vec<&HandleGauge>,
) {
    let mut d = Driven::new(shared, gauge, out);
    let fds: Vec<RawFd> = handles.iter().map(LiveHandle::fd).collect();
    let mut next_tick = Instant::now() + TICK;
    let mut failed = None;
    'run: while !shared.stop.load(Ordering::Relaxed) {
        d.reconfigure();
        let mut got = 0;
        for (iface, h) in handles.iter_mut().enumerate() {
            match burst(h, |p| d.packet(iface as u32, p), gauge) {
                Ok(n) => got += n,
                Err(e) => {
                    failed = Some(e);
                    break 'run;
                }
            }
        }
        let now = Instant::now();
        if now >= next_tick {
            d.tick();
            read_drops(&mut handles, &hgauges);
            next_tick = now + TICK;
        }
        d.publish();
        if got == 0 {
            let timeout = next_tick.saturating_duration_since(now).min(WAIT);
            if let Err(e) = live::wait(&fds, timeout) {
                failed = Some(e);
                break;
            }
        }
    }
    match failed {
        Some(e) => {
            shared.stop.store(true, Ordering::Relaxed);
            let _ = d.out.send(Out::Failed(e));
        }
        None => {
            // Process what the kernel already captured.
            let until = Instant::now() + drain_time(&handles);
            for (iface, h) in handles.iter_mut().enumerate() {
                drain(h, until, |p| d.packet(iface as u32, p), gauge);
            }
        }
    }
    read_drops(&mut handles, &hgauges);
    d.finish();
}

/// Packets copied out of libpcap's ring for one worker.
struct PacketBatch {
    reader: usize,
    iface: u32,
    link: LinkType,
    data: Vec<u8>,
    packets: Vec<Copied>,
}

struct Copied {
    ts: Timestamp,
    start: usize,
    len: usize,
    wire_len: u32,
}

impl PacketBatch {
    fn new(reader: usize, iface: u32, link: LinkType) -> Self {
        PacketBatch {
            reader,
            iface,
            link,
            data: Vec::with_capacity(BATCH_BYTES / 4),
            packets: Vec::with_capacity(BATCH_PACKETS),
        }
    }

    fn push(&mut self, p: &RawPacket<'_>) {
        self.packets.push(Copied {
            ts: p.ts,
            start: self.data.len(),
            len: p.data.len(),
            wire_len: p.wire_len,
        });
        self.data.extend_from_slice(p.data);
    }

    fn is_full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }

    fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
    }

    fn iter(&self) -> impl Iterator<Item = RawPacket<'_>> {
        self.packets.iter().map(|c| RawPacket {
            ts: c.ts,
            link: self.link,
            data: self.data.get(c.start..c.start + c.len).unwrap_or(&[]),
            wire_len: c.wire_len,
        })
    }
}

/// A reader's routing: which worker owns each packet, and the batches
/// being filled for them.
struct Dispatcher<'a> {
    /// Counts what no worker owns (frames without IP, malformed headers).
    router: Worker,
    shards: &'a Shards,
    workers: &'a [Sender<PacketBatch>],
    free: &'a Receiver<PacketBatch>,
    pending: Vec<PacketBatch>,
    reader: usize,
    link: LinkType,
    /// A worker is gone (it panicked): stop reading.
    gone: bool,
}

impl<'a> Dispatcher<'a> {
    fn new(
        router: Worker,
        reader: usize,
        link: LinkType,
        shards: &'a Shards,
        workers: &'a [Sender<PacketBatch>],
        free: &'a Receiver<PacketBatch>,
    ) -> Self {
        let mut d = Dispatcher {
            router,
            shards,
            workers,
            free,
            pending: Vec::with_capacity(workers.len()),
            reader,
            link,
            gone: false,
        };
        for _ in 0..workers.len() {
            let b = d.fresh();
            d.pending.push(b);
        }
        d
    }

    /// An empty batch, recycled when a worker returned one.
    fn fresh(&self) -> PacketBatch {
        match self.free.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => PacketBatch::new(self.reader, self.reader as u32, self.link),
        }
    }

    #[inline]
    fn route(&mut self, p: &RawPacket<'_>) {
        if let Some((owner, _)) = self.router.route(p, self.shards) {
            self.pending[owner].push(p);
            if self.pending[owner].is_full() {
                let b = self.fresh();
                let full = std::mem::replace(&mut self.pending[owner], b);
                self.gone |= self.workers[owner].send(full).is_err();
            }
        }
    }

    /// Sends every batch that holds packets.
    fn flush(&mut self) {
        for owner in 0..self.pending.len() {
            if !self.pending[owner].packets.is_empty() {
                let b = self.fresh();
                let batch = std::mem::replace(&mut self.pending[owner], b);
                self.gone |= self.workers[owner].send(batch).is_err();
            }
        }
    }
}

/// One reader per interface: routes packets to workers in copied batches.
#[allow(clippy::too_many_arguments)]
fn reader<C>(
    shared: &Shared<'_, C>,
    gauge: &Gauge,
    out: Sender<Out>,
    id: usize,
    mut h: LiveHandle,
    hgauge: &HandleGauge,
    shards: &Shards,
    workers: &[Sender<PacketBatch>],
    free: &Receiver<PacketBatch>,
) {
    let router = Worker::new(0.0, shared.opts.flows, shared.opts.defrag);
    let mut d = Dispatcher::new(router, id, h.link(), shards, workers, free);
    let fd = [h.fd()];
    let mut next_tick = Instant::now() + TICK;
    let mut failed = None;
    while !shared.stop.load(Ordering::Relaxed) && !d.gone {
        let got = match burst(&mut h, |p| d.route(p), gauge) {
            Ok(n) => n,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        // The ring is empty for now: let the workers have what there is.
        if got < BURST {
            d.flush();
        }
        let now = Instant::now();
        if now >= next_tick {
            read_drops(std::slice::from_mut(&mut h), &[hgauge]);
            next_tick = now + TICK;
        }
        if got == 0 {
            if let Err(e) = live::wait(&fd, next_tick.saturating_duration_since(now).min(WAIT)) {
                failed = Some(e);
                break;
            }
        }
    }
    match failed {
        Some(e) => {
            shared.stop.store(true, Ordering::Relaxed);
            let _ = out.send(Out::Failed(e));
        }
        None => {
            let until = Instant::now() + drain_time(std::slice::from_ref(&h));
            drain(&mut h, until, |p| d.route(p), gauge);
        }
    }
    d.flush();
    read_drops(std::slice::from_mut(&mut h), &[hgauge]);
    let _ = out.send(Out::Done(d.router.counters()));
}

/// A worker fed by the readers; ends when every reader has.
fn dispatched<C>(
    shared: &Shared<'_, C>,
    gauge: &Gauge,
    out: Sender<Out>,
    work: &Receiver<PacketBatch>,
    recycle: &[Sender<PacketBatch>],
) {
    let mut d = Driven::new(shared, gauge, out);
    let mut next_tick = Instant::now() + TICK;
    loop {
        let timeout = next_tick.saturating_duration_since(Instant::now());
        match work.recv_timeout(timeout) {
            Ok(batch) => {
                d.reconfigure();
                for p in batch.iter() {
                    d.packet(batch.iface, &p);
                }
                if let Some(tx) = recycle.get(batch.reader) {
                    let _ = tx.try_send(batch);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_tick {
            d.reconfigure();
            d.tick();
            next_tick = now + TICK;
        }
        d.publish();
    }
    d.finish();
}

/// Runs a live capture until `stop` is set (by a signal, or on a capture or
/// output error), then drains the rings, flushes every flow and returns.
/// Events go to `consumer` on the calling thread as workers produce them;
/// `control` carries configurations to the workers, applied with `apply`.
pub fn run<C: Send + Sync, E>(
    capture: LiveCapture,
    opts: &LiveOptions,
    control: &Control<C>,
    apply: &Apply<C>,
    stop: &AtomicBool,
    consumer: &mut dyn Consumer<C, Error = E>,
) -> Result<LiveReport, E> {
    let started = Instant::now();
    let threads = capture.threads;
    let interfaces = capture.interfaces.len();
    let (out_tx, out_rx) = bounded::<Out>(4 * threads + 16);
    let shared = Shared {
        opts,
        control,
        apply,
        stop,
        share: 1.0 / threads as f64,
    };
    let (feed, readers) = match capture.feed {
        Feed::Direct(per_worker) => (Some(per_worker), Vec::new()),
        Feed::Dispatch { readers, .. } => (None, readers),
    };
    let handle_ifaces: Vec<usize> = match &feed {
        Some(per_worker) => per_worker.iter().flat_map(|hs| 0..hs.len()).collect(),
        None => (0..readers.len()).collect(),
    };
    let hgauges: Vec<HandleGauge> = handle_ifaces
        .iter()
        .map(|&iface| HandleGauge {
            iface,
            dropped: AtomicU64::new(0),
            if_dropped: AtomicU64::new(0),
        })
        .collect();
    // Workers' gauges first, then readers'.
    let gauges: Vec<Gauge> = (0..threads + readers.len())
        .map(|_| Gauge::default())
        .collect();
    let monitor = Monitor {
        started,
        control,
        gauges: &gauges,
        workers: threads,
        handles: &hgauges,
        interfaces,
    };
    let mut counters = Counters::default();
    let mut error = None;
    let mut result = Ok(());
    std::thread::scope(|s| {
        let spawn_err = "spawn capture thread";
        let shared = &shared;
        match feed {
            Some(per_worker) => {
                let mut hg = hgauges.iter();
                for (id, handles) in per_worker.into_iter().enumerate() {
                    let mine: Vec<&HandleGauge> = hg.by_ref().take(handles.len()).collect();
                    let gauge = &gauges[id];
                    let out = out_tx.clone();
                    std::thread::Builder::new()
                        .name(format!("sift-live-{id}"))
                        .spawn_scoped(s, move || direct(shared, gauge, out, handles, mine))
                        .expect(spawn_err);
                }
            }
            None => {
                let shards = Shards::new(&vec![1.0 / threads as f64; threads]);
                let mut to_workers = Vec::with_capacity(threads);
                let mut recycle_tx = Vec::new();
                let mut recycle_rx = Vec::new();
                for _ in 0..readers.len() {
                    let (tx, rx) = bounded::<PacketBatch>(threads * (BATCHES_IN_FLIGHT + 2));
                    recycle_tx.push(tx);
                    recycle_rx.push(rx);
                }
                for (id, gauge) in gauges.iter().enumerate().take(threads) {
                    let (tx, rx) = bounded::<PacketBatch>(BATCHES_IN_FLIGHT);
                    to_workers.push(tx);
                    let recycle = recycle_tx.clone();
                    let out = out_tx.clone();
                    std::thread::Builder::new()
                        .name(format!("sift-live-{id}"))
                        .spawn_scoped(s, move || dispatched(shared, gauge, out, &rx, &recycle))
                        .expect(spawn_err);
                }
                drop(recycle_tx);
                for (id, ((h, hgauge), free)) in readers
                    .into_iter()
                    .zip(&hgauges)
                    .zip(recycle_rx)
                    .enumerate()
                {
                    let gauge = &gauges[threads + id];
                    let to_workers = to_workers.clone();
                    let shards = shards.clone();
                    let out = out_tx.clone();
                    std::thread::Builder::new()
                        .name(format!("sift-read-{id}"))
                        .spawn_scoped(s, move || {
                            reader(
                                shared,
                                gauge,
                                out,
                                id,
                                h,
                                hgauge,
                                &shards,
                                &to_workers,
                                &free,
                            )
                        })
                        .expect(spawn_err);
                }
            }
        }
        // Only the threads hold senders now: the channel ends with them.
        drop(out_tx);
        let mut writing = true;
        loop {
            match out_rx.recv_timeout(WAIT) {
                Ok(Out::Events(events)) if writing => {
                    let r = events
                        .into_iter()
                        .try_for_each(|(_, ev)| consumer.event(ev))
                        .and_then(|()| consumer.flush());
                    if let Err(e) = r {
                        // Stop; go on receiving until every thread ended.
                        result = Err(e);
                        writing = false;
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Ok(Out::Events(_)) => {}
                Ok(Out::Done(c)) => counters.add(&c),
                Ok(Out::Failed(e)) => {
                    error.get_or_insert(e);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            consumer.tick(&monitor);
        }
    });
    let last = monitor.snapshot();
    let report = Report {
        counters,
        elapsed: started.elapsed(),
        // One capture: its time is the span of all packets.
        merged: true,
        ..Report::default()
    };
    result.map(|()| LiveReport {
        report,
        last,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_reaches_every_worker_once_per_generation() {
        let control = Control::new(0u32);
        let done = AtomicBool::new(false);
        let applied: Vec<Mutex<Vec<u32>>> = (0..3).map(|_| Mutex::new(Vec::new())).collect();
        // Workers take the configuration when they start, before anything
        // is published.
        let started = std::sync::Barrier::new(applied.len() + 1);
        std::thread::scope(|s| {
            for a in &applied {
                let (control, done, started) = (&control, &done, &started);
                s.spawn(move || {
                    let mut seen = 0;
                    if let Some(c) = control.newer(&mut seen) {
                        a.lock().unwrap().push(*c);
                    }
                    started.wait();
                    loop {
                        if let Some(c) = control.newer(&mut seen) {
                            a.lock().unwrap().push(*c);
                        }
                        if done.load(Ordering::Acquire) && seen == control.generation() {
                            break;
                        }
                        std::thread::yield_now();
                    }
                });
            }
            started.wait();
            for v in 1..=5 {
                assert_eq!(control.publish(v), u64::from(v) + 1);
                std::thread::sleep(Duration::from_millis(2));
            }
            done.store(true, Ordering::Release);
        });
        for a in &applied {
            let got = a.lock().unwrap().clone();
            // The first and last always; none twice, never out of order.
            assert_eq!(got.first(), Some(&0));
            assert_eq!(got.last(), Some(&5));
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        }
    }

    #[test]
    fn batches_copy_packets_out() {
        let mut b = PacketBatch::new(0, 2, LinkType::ETHERNET);
        let frames: [&[u8]; 3] = [b"abc", b"", b"defgh"];
        for (i, f) in frames.iter().enumerate() {
            b.push(&RawPacket {
                ts: i as u64,
                link: LinkType::ETHERNET,
                data: f,
                wire_len: 100,
            });
        }
        let got: Vec<(u64, Vec<u8>)> = b.iter().map(|p| (p.ts, p.data.to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (0, b"abc".to_vec()),
                (1, Vec::new()),
                (2, b"defgh".to_vec())
            ]
        );
        assert!(!b.is_full());
        b.clear();
        assert_eq!(b.iter().count(), 0);
    }

    #[test]
    fn stats_line_rates() {
        let a = Snapshot {
            elapsed: Duration::from_secs(10),
            packets: 1000,
            bytes: 1_000_000,
            per_worker: vec![600, 400],
            ..Snapshot::default()
        };
        let b = Snapshot {
            elapsed: Duration::from_secs(12),
            packets: 3000,
            bytes: 3_000_000,
            kernel_drops: 7,
            memory: Some(20_000_000),
            per_worker: vec![1600, 1400],
            ..Snapshot::default()
        };
        let l = b.line(Some(&a));
        assert!(
            l.starts_with("1,000 packets/s, 1.0 MB/s | packets 3000"),
            "{l}"
        );
        assert!(l.contains("kernel 7"), "{l}");
        assert!(l.contains("memory 20.0 MB"), "{l}");
        assert!(l.ends_with("per worker 1600/1400"), "{l}");
    }
}
