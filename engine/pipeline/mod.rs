//! The pipeline: capture → decode → flows → output, over N worker threads.
//!
//! **Offline** ([`run_files`]): the capture files are mapped once. Worker 0,
//! the *lead*, walks every packet: it advances the packet clock, decodes
//! the link and IP headers, and routes each packet by a symmetric hash of
//! its addresses ([`Shards`]). Its own packets it processes at once; the
//! others go, as references into the mapping, in batches over bounded
//! channels to the *followers*, which only process. The lead also tells the
//! followers where its sweeps for idle flows happen, so expiry falls at the
//! same input position for any number of workers. Because the lead pays for
//! reading, routing and merging, it owns a smaller share of the traffic
//! ([`Options::lead_share`]; the default, four fifths of an even split, ran
//! two threads 1.48x one thread against 1.38x for half an even split in
//! interleaved rounds on the bench machine: a follower pays more per packet
//! than the lead, which read it last — see benches/HISTORY.md).
//!
//! This beat the alternative DESIGN.md describes (every worker walking the
//! whole capture and keeping its own share): on the 2-core bench machine
//! two such workers spent as much time walking as processing, and reached
//! 1.4x one worker; see benches/HISTORY.md.
//!
//! The lead runs on the calling thread and also merges the workers' event
//! streams back into input order ([`merge`]) between its own batches, so
//! `threads` workers use exactly `threads` threads: a separate merger
//! thread competed with the workers for the cores (on the 2-vCPU bench
//! machine every wake-up of it preempted a worker). The output is the same
//! for any `threads`, as long as no capacity limit bites: capacities are
//! split between workers, so evictions (reported) may differ with the
//! thread count.
//!
//! Handing packets to another core is what a follower pays for: it polls
//! its channel before sleeping (waking a thread is an inter-processor
//! interrupt), prefetches the packets ahead in its batch, and reports to
//! the merger only now and then. Memory goes back to the thread that
//! allocated it: the follower returns its emptied work vectors to the lead
//! to fill again, and the merger returns the follower's written events for
//! it to free (freeing another thread's memory is slow in any allocator,
//! and the cache lines travel twice). With JSON output the followers also
//! render their events' EVE lines ([`Options::render`]), so that the lead
//! only copies them out. See benches/HISTORY.md for each step.
//!
//! **Several files** read one after the other, none holding more than an
//! even share of the bytes, are instead analyzed at once, one per worker,
//! and written file after file ([`files`]): the same records in the same
//! order, without the cost of handing packets between cores.

pub mod files;
pub mod live;
pub mod merge;
pub mod profiles;
pub mod shards;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use crate::capture::file::{CaptureFile, Input, Item, Mapping, Order as InputOrder};
use crate::capture::{RawPacket, Timestamp};
use crate::decode::defrag::DefragConfig;
use crate::flow::budget::{self, MemoryPlan};
use crate::flow::FlowConfig;
use crate::output::eve::EveFormat;
pub use crate::output::report::{Counters, FileEnd, Report};
use crate::pipeline::shards::Shards;
use crate::rules::RuleSet;
use merge::{Batch, Merger, Ready, Sink};
use worker::{Event, Order, Worker};

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct Options {
    pub threads: usize,
    pub order: InputOrder,
    pub flows: FlowConfig,
    pub defrag: DefragConfig,
    /// Out-of-order TCP bytes held, over all workers.
    pub reassembly: usize,
    /// How the memory limit was shared out (for the summary).
    pub memory: Option<MemoryPlan>,
    /// With several threads, worker 0's share of the traffic relative to an
    /// even split (with 2 threads, 0.8 gives it 40 % and the other 60 %),
    /// since it also reads and routes every packet.
    pub lead_share: f64,
    /// Rules every flow is checked against.
    pub rules: Option<Arc<RuleSet>>,
    /// The EVE format of the output, when there is one: followers render
    /// their events' lines with it, so that writing them is all the lead
    /// does for them.
    pub render: Option<EveFormat>,
    /// Read every DNS message of a flow, not only the first (for
    /// per-transaction events; rules turn it on too).
    pub transactions: bool,
    /// Fingerprint client hellos (JA3, JA4). Off only when nothing reads
    /// them: no EVE records, no sinks, no rule on `ja3`/`ja4`.
    pub fingerprints: bool,
    /// Whether several files read one after the other are analyzed at
    /// once, one per worker ([`files`]).
    pub files_at_once: files::FilesAtOnce,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 1,
            order: InputOrder::Sequential,
            flows: FlowConfig::default(),
            defrag: DefragConfig::default(),
            reassembly: budget::REASSEMBLY_MAX as usize,
            memory: None,
            lead_share: 0.8,
            rules: None,
            render: None,
            transactions: false,
            fingerprints: true,
            files_at_once: files::FilesAtOnce::Auto,
        }
    }
}

impl Options {
    /// The share of the traffic each worker owns.
    fn shares(&self) -> Vec<f64> {
        let n = self.threads.max(1);
        if n == 1 {
            return vec![1.0];
        }
        let lead = (self.lead_share / n as f64).clamp(0.0, 1.0);
        let rest = (1.0 - lead) / (n - 1) as f64;
        std::iter::once(lead)
            .chain(std::iter::repeat_n(rest, n - 1))
            .collect()
    }
}

/// Items the lead reads between two batches to the merger and followers.
const BATCH_ITEMS: u32 = 4096;
/// Packets sent to a follower at once.
const FOLLOWER_BATCH: usize = 256;

/// What the lead sends a follower, in input order.
enum Work<'a> {
    /// A packet the follower owns.
    Packet {
        index: u64,
        file: u32,
        clock: Timestamp,
        raw: RawPacket<'a>,
    },
    /// The lead swept idle flows before packet `index`, at `clock`.
    Sweep { index: u64, clock: Timestamp },
    /// The input (or a file, read file by file) ended at `index`.
    End { index: u64 },
}

/// The lead's ends of the channels to one follower.
struct FollowerLink<'a> {
    work: Sender<WorkBatch<'a>>,
    /// Work vectors the follower has emptied, to be filled again.
    empties: Receiver<Vec<Work<'a>>>,
}

impl<'a> FollowerLink<'a> {
    /// A vector for this follower's next batch.
    fn empty(&self) -> Vec<Work<'a>> {
        self.empties
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(FOLLOWER_BATCH))
    }
}

/// A batch of work: everything the lead routed before input position `upto`.
struct WorkBatch<'a> {
    work: Vec<Work<'a>>,
    upto: u64,
}

/// Runs the offline pipeline over `files`, handing every event to `sink` in
/// input order. `progress` is told the bytes read so far (of all files).
/// `stop` ends the run early (its events so far are still delivered).
pub fn run_files<E>(
    files: &[CaptureFile],
    opts: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    sink: &mut Sink<'_, E>,
) -> Result<Report, E> {
    let started = Instant::now();
    let mut report = Report::default();
    // Each file was mapped once when opened; failing now is resource
    // exhaustion: read nothing rather than panic.
    let maps: Vec<Mapping> = files
        .iter()
        .map(CaptureFile::map)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    // Reality-like switches are judged as flows are written, in order.
    let mut profiles =
        profiles::Profiles::new(opts.order == InputOrder::Sequential, opts.rules.clone());
    let mut judged = |e: &Event, line: Option<&[u8]>| match profiles.judge(e) {
        Some(changed) => changed.iter().try_for_each(|e| sink(e, None)),
        None => sink(e, line),
    };
    let result = if opts.files_at_once.applies(files, opts) {
        files::run(&maps, opts, stop, progress, &mut judged, &mut report)
    } else {
        run_pipeline(&maps, opts, stop, progress, &mut judged, &mut report)
    };
    report.counters.server_names_forgotten += profiles.forgotten();
    report.elapsed = started.elapsed();
    report.merged = opts.order == InputOrder::Merged;
    report.rules = opts.rules.as_ref().map(|r| r.rules.len());
    report.memory = opts.memory;
    result.map(|()| report)
}

/// The packet-by-packet pipeline (see the module's documentation).
fn run_pipeline<E>(
    maps: &[Mapping],
    opts: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    sink: &mut Sink<'_, E>,
    report: &mut Report,
) -> Result<(), E> {
    let threads = opts.threads.max(1);
    let shares = opts.shares();
    let shards = Shards::new(&shares);
    let mut result = Ok(());
    std::thread::scope(|s| {
        let mut reports = Vec::with_capacity(threads - 1);
        let mut spent = Vec::with_capacity(threads - 1);
        let mut to_followers = Vec::with_capacity(threads - 1);
        for (id, share) in shares.iter().copied().enumerate().skip(1) {
            let (work_tx, work_rx) =
                bounded::<WorkBatch<'_>>(4 * BATCH_ITEMS as usize / FOLLOWER_BATCH);
            // Unbounded: the lead takes reports only between its own
            // batches, and may then be waiting to hand this follower work.
            // What a follower can report is bounded by the work in flight.
            let (tx, rx) = unbounded::<Batch>();
            let (spent_tx, spent_rx) = unbounded::<Vec<Ready>>();
            let (empties_tx, empties_rx) = unbounded::<Vec<Work<'_>>>();
            to_followers.push(FollowerLink {
                work: work_tx,
                empties: empties_rx,
            });
            reports.push(rx);
            spent.push(spent_tx);
            let opts = opts.clone();
            std::thread::Builder::new()
                .name(format!("sift-worker-{id}"))
                .spawn_scoped(s, move || {
                    follow(id, share, &opts, &work_rx, &empties_tx, &tx, &spent_rx)
                })
                .expect("spawn worker thread");
        }
        let mut merger = Merger::new(reports, spent);
        lead(
            maps.len(),
            maps,
            opts,
            shares[0],
            &shards,
            stop,
            &to_followers,
            &mut |batch| {
                let merged = merger
                    .accept(0, batch, progress, sink, report)
                    .and_then(|()| merger.poll(progress, sink, report));
                match merged {
                    Ok(()) => true,
                    Err(e) => {
                        result = Err(e);
                        false
                    }
                }
            },
        );
        // Followers see their channel close and send their last batch.
        drop(to_followers);
        if result.is_ok() {
            result = merger.finish(progress, sink, report);
        }
    });
    result
}

/// Worker 0: reads the input, routes packets, processes its own share.
#[allow(clippy::too_many_arguments)]
fn lead<'a>(
    nfiles: usize,
    maps: &'a [Mapping],
    opts: &Options,
    share: f64,
    shards: &Shards,
    stop: &AtomicBool,
    followers: &[FollowerLink<'a>],
    merger: &mut dyn FnMut(Batch) -> bool,
) {
    let mut w = Worker::configured(share, opts);
    let mut input = Input::new(maps, opts.order);
    if !followers.is_empty() {
        input = input.shared_with_followers();
    }
    let mut pending: Vec<Vec<Work<'a>>> = followers.iter().map(FollowerLink::empty).collect();
    let mut index: u64 = 0;
    let mut per_file: Vec<(u64, Option<Timestamp>, Option<Timestamp>)> =
        vec![(0, None, None); nfiles];
    let mut notices = Vec::new();
    let mut items = 0u32;
    let mut interrupted = false;
    // Sends what the followers have pending; false if one is gone.
    let flush = |pending: &mut Vec<Vec<Work<'a>>>, upto: u64| {
        pending.iter_mut().zip(followers).all(|(p, link)| {
            let work = std::mem::replace(p, link.empty());
            send_work(&link.work, WorkBatch { work, upto })
        })
    };
    while let Some(item) = input.next_item() {
        match item {
            Item::Packet { file, packet } => {
                if w.advance_clock(index, packet.ts) {
                    let clock = w.clock();
                    for p in pending.iter_mut() {
                        p.push(Work::Sweep { index, clock });
                    }
                }
                match w.route(&packet, shards) {
                    Some((0, ipp)) => w.owned_packet(index, file as u32, &packet, &ipp),
                    Some((f, _)) => {
                        let p = &mut pending[f - 1];
                        p.push(Work::Packet {
                            index,
                            file: file as u32,
                            clock: w.clock(),
                            raw: packet,
                        });
                        // Small batches: the follower reads the packet
                        // while it is still in cache.
                        if p.len() >= FOLLOWER_BATCH {
                            let link = &followers[f - 1];
                            let work = std::mem::replace(p, link.empty());
                            let batch = WorkBatch {
                                work,
                                upto: index + 1,
                            };
                            if !send_work(&link.work, batch) {
                                return;
                            }
                        }
                    }
                    None => {}
                }
                index += 1;
                let f = &mut per_file[file];
                f.0 += 1;
                f.1 = Some(f.1.map_or(packet.ts, |t| t.min(packet.ts)));
                f.2 = Some(f.2.map_or(packet.ts, |t| t.max(packet.ts)));
            }
            Item::FileEnd { file, error } => {
                if opts.order == InputOrder::Sequential {
                    w.end_of_input(index);
                    for p in pending.iter_mut() {
                        p.push(Work::End { index });
                    }
                }
                notices.push(FileEnd {
                    file,
                    packets: per_file[file].0,
                    first_ts: per_file[file].1,
                    last_ts: per_file[file].2,
                    error,
                });
            }
        }
        items += 1;
        if items == BATCH_ITEMS {
            items = 0;
            if !flush(&mut pending, index) {
                return;
            }
            let batch = Batch {
                worker: 0,
                events: w.take_events(),
                lines: Vec::new(),
                watermark: index,
                offset: input.offset() as u64,
                notices: std::mem::take(&mut notices),
                done: None,
            };
            if !merger(batch) {
                return; // the merger gave up (output error)
            }
            if stop.load(Ordering::Relaxed) {
                interrupted = true;
                break;
            }
        }
    }
    w.end_of_input(index);
    for p in pending.iter_mut() {
        p.push(Work::End { index });
    }
    flush(&mut pending, u64::MAX);
    merger(Batch {
        worker: 0,
        events: w.take_events(),
        lines: Vec::new(),
        watermark: u64::MAX,
        offset: input.offset() as u64,
        notices,
        done: Some((w.counters(), interrupted)),
    });
}

/// The follower's next batch. It polls a while before it sleeps: the lead
/// sends a batch every few microseconds, and waking a sleeping thread costs
/// an inter-processor interrupt (dear on a virtual machine).
fn next_work<'a>(work: &Receiver<WorkBatch<'a>>) -> Option<WorkBatch<'a>> {
    use crossbeam_channel::TryRecvError;
    for spin in 0..SPINS_BEFORE_SLEEP {
        match work.try_recv() {
            Ok(b) => return Some(b),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {
                if spin % 64 == 63 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
    work.recv().ok()
}

/// Sends a follower a batch; when its channel is full, polls a while
/// before sleeping (see [`next_work`]). False if the follower is gone.
fn send_work<'a>(tx: &Sender<WorkBatch<'a>>, mut batch: WorkBatch<'a>) -> bool {
    use crossbeam_channel::TrySendError;
    for spin in 0..SPINS_BEFORE_SLEEP {
        match tx.try_send(batch) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(b)) => {
                batch = b;
                if spin % 64 == 63 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
    tx.send(batch).is_ok()
}

/// Work batches between a follower's reports to the merger.
const REPORT_EVERY: u32 = 16;
/// Events that make a follower report sooner.
const REPORT_EVENTS: usize = 1024;

/// Packets ahead whose first bytes a follower prefetches.
const PREFETCH_AHEAD: usize = 4;

/// Polls of an empty (or full) work channel before a thread sleeps.
const SPINS_BEFORE_SLEEP: u32 = 1024;

/// Workers 1..n: process the packets the lead routes to them.
fn follow<'a>(
    id: usize,
    share: f64,
    opts: &Options,
    work: &Receiver<WorkBatch<'a>>,
    empties: &Sender<Vec<Work<'a>>>,
    merger: &Sender<Batch>,
    spent: &Receiver<Vec<Ready>>,
) {
    let mut w = Worker::configured(share, opts);
    let mut quiet = 0u32;
    while let Some(batch) = next_work(work) {
        // The packets' bytes were last in the lead's cache: ask for the
        // next ones' first lines while this one is processed.
        for (i, item) in batch.work.iter().enumerate() {
            if let Some(Work::Packet { raw, .. }) = batch.work.get(i + PREFETCH_AHEAD) {
                crate::prefetch::bytes(raw.data, 0, raw.data.len().min(192));
            }
            match *item {
                Work::Packet {
                    index,
                    file,
                    clock,
                    raw,
                } => {
                    w.set_clock(clock);
                    w.routed_packet(index, file, &raw);
                }
                Work::Sweep { index, clock } => w.sweep_at(index, clock),
                Work::End { index } => w.end_of_input(index),
            }
        }
        // The lead fills the vector again (no allocation on either side).
        let mut emptied = batch.work;
        emptied.clear();
        let _ = empties.send(emptied);
        // Free the events the merger has written (this thread allocated them).
        while let Ok(events) = spent.try_recv() {
            drop(events);
        }
        let last = batch.upto == u64::MAX;
        quiet += 1;
        // Report to the merger every REPORT_EVERY batches (about as often
        // as the lead merges), or sooner when many events wait.
        if !last && w.pending_events() < REPORT_EVENTS && quiet < REPORT_EVERY {
            continue;
        }
        quiet = 0;
        let events = w.take_events();
        let out = Batch {
            worker: id,
            lines: render(&events, opts.render.as_ref()),
            events,
            watermark: batch.upto,
            offset: 0,
            notices: Vec::new(),
            done: last.then(|| (w.counters(), false)),
        };
        if merger.send(out).is_err() || last {
            return;
        }
    }
    // The lead stopped without a last batch (it failed to send): report
    // what there is.
    let events = w.take_events();
    let _ = merger.send(Batch {
        worker: id,
        lines: render(&events, opts.render.as_ref()),
        events,
        watermark: u64::MAX,
        offset: 0,
        notices: Vec::new(),
        done: Some((w.counters(), true)),
    });
}

/// The EVE lines of a follower's events, when the output has a format. An
/// event that fails to render goes without: the sink renders it again and
/// reports the error.
fn render(events: &[(Order, Event)], format: Option<&EveFormat>) -> Vec<Option<Vec<u8>>> {
    let Some(format) = format else {
        return Vec::new();
    };
    events
        .iter()
        .map(|(_, event)| {
            let mut line = Vec::new();
            format.event(event, &mut line).ok().map(|()| line)
        })
        .collect()
}
