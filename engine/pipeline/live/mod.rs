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

mod control;
mod direct;
mod dispatch;
mod stats;
#[cfg(test)]
mod tests;

pub use control::*;
use direct::*;
use dispatch::*;
pub use stats::*;

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
    /// Out-of-order TCP bytes held, over all workers.
    pub reassembly: usize,
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
            w: Worker::new(
                shared.share,
                shared.opts.flows,
                shared.opts.defrag,
                shared.opts.reassembly,
            ),
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
        self.gauge.counted(&self.w.counters());
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
        self.gauge.counted(&self.w.counters());
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
        // Reality-like switches, judged as flows are written.
        // (Live rules may be reloaded as the capture goes: the writer does
        // not check them again on this finding.)
        let mut profiles = super::profiles::Profiles::new(false, None);
        loop {
            match out_rx.recv_timeout(WAIT) {
                Ok(Out::Events(events)) if writing => {
                    let r = events
                        .into_iter()
                        .try_for_each(|(_, ev)| match profiles.judge(&ev) {
                            Some(changed) => {
                                changed.into_iter().try_for_each(|e| consumer.event(e))
                            }
                            None => consumer.event(ev),
                        })
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
        counters.server_names_forgotten += profiles.forgotten();
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
