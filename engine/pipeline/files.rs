//! Several capture files analyzed at once, when each file's flows end with
//! it ([`InputOrder::Sequential`]).
//!
//! Each of the workers takes the next file nobody has taken and analyzes
//! it whole, alone, exactly as the one-thread pipeline would: a packet
//! keeps its input position (a file's first position is the number of
//! packets in the files before it, counted by walking their record
//! headers — by whichever worker needs a count first, unless the worker
//! that analyzed that file has published it), so flow ids, evidence
//! positions and every record are those of a serial run. Nothing passes
//! from one file to the next ([`Worker::end_of_input`] forgets it all).
//!
//! The calling thread is worker 0 and the writer: between its own batches
//! it writes the events of the earliest file not yet written (the *head*),
//! in order, then moves to the next file. So `threads` workers use exactly
//! `threads` threads, as in the packet-by-packet pipeline ([`super`]).
//!
//! Output memory is bounded: a file's events wait in its queue until the
//! file is the head, and a follower whose unwritten files hold more than
//! [`QUEUE_CAP`] events waits until the writer takes them (the head's
//! queue at worker 0's next batch; a later file's when its turn comes), so
//! at most about `threads` × [`QUEUE_CAP`] events are held (plus a batch
//! each). Worker 0 never waits for room: when its own unwritten files are
//! full it writes the head's events until its own file is the head. Each
//! such wait is counted in [`Report::output_waits`].
//!
//! This is chosen ([`FilesAtOnce::Auto`]) only when no file holds more than
//! an even share of the bytes: one large file is better split between the
//! workers packet by packet. Each worker has an even share of the
//! capacities (flows, fragments, reassembly), as in the pipeline: the
//! output is the serial run's as long as no capacity bites (evictions are
//! counted), the same condition as for any `--threads`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use super::merge::{Ready, Sink};
use super::shards::Shards;
use super::worker::{Event, Order, Worker};
use super::{render, Counters, FileEnd, Options, Report, BATCH_ITEMS};
use crate::capture::file::{CaptureFile, Input, Item, Mapping, Order as InputOrder, Reader};
use crate::capture::Timestamp;

/// Whether several capture files are analyzed at once (one file per
/// worker) or read one after the other through one pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FilesAtOnce {
    /// At once when the files are read one after the other (not
    /// `--merge`), with several threads, and no file holds more than an
    /// even share (1/threads) of the bytes.
    #[default]
    Auto,
    /// At once whenever the files are read one after the other with
    /// several threads.
    Always,
    /// Never: one pipeline reads file after file.
    Never,
}

impl FilesAtOnce {
    /// Whether `files` are analyzed at once under `opts`.
    pub fn applies(self, files: &[CaptureFile], opts: &Options) -> bool {
        let possible = opts.order == InputOrder::Sequential && opts.threads > 1 && files.len() > 1;
        match self {
            FilesAtOnce::Never => false,
            FilesAtOnce::Always => possible,
            FilesAtOnce::Auto => {
                let total: u64 = files.iter().map(|f| f.len() as u64).sum();
                let largest = files.iter().map(|f| f.len() as u64).max().unwrap_or(0);
                possible && largest.saturating_mul(opts.threads as u64) <= total
            }
        }
    }
}

/// Events a worker's unwritten files hold before it waits for the writer.
pub const QUEUE_CAP: usize = 8192;

/// One file's events waiting to be written.
#[derive(Default)]
struct FileOut {
    queue: VecDeque<Ready>,
    /// How the file ended (none if it was interrupted).
    end: Option<FileEnd>,
    /// Its worker has delivered everything.
    done: bool,
    /// The worker analyzing it.
    owner: usize,
}

/// What the workers and the writer share, under one lock.
struct Board {
    /// Files taken so far (file `next` is the next to take).
    next: usize,
    /// No file will be taken any more (interrupted, or the output failed).
    closed: bool,
    /// The output failed: workers stop.
    failed: bool,
    interrupted: bool,
    /// The file being written.
    head: usize,
    files: Vec<FileOut>,
    /// Times a worker waited for the writer ([`QUEUE_CAP`]).
    waits: u64,
    /// Per worker: events of its files queued and not yet taken.
    held: Vec<usize>,
    /// Most events queued at once, over all files.
    peak: usize,
}

struct Shared<'a> {
    maps: &'a [Mapping],
    /// Packets per file, once someone counted (or analyzed) it.
    counts: Vec<OnceLock<u64>>,
    board: Mutex<Board>,
    /// A queue grew or a file ended (the writer waits on it).
    filled: Condvar,
    /// The writer took a queue or moved on (full workers wait on it).
    drained: Condvar,
    stop: &'a AtomicBool,
    /// Events a worker's unwritten files hold before it waits.
    cap: usize,
    /// Bytes read so far, over all files (for progress).
    read: AtomicU64,
}

impl<'a> Shared<'a> {
    fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next file to analyze, unless every file is taken or the run
    /// is closing (the caller stopped it: no file is begun after).
    fn take(&self) -> Option<usize> {
        let mut b = self.lock();
        if b.closed || b.next >= b.files.len() {
            return None;
        }
        if self.stop.load(Ordering::Relaxed) {
            b.closed = true;
            b.interrupted = true;
            drop(b);
            self.filled.notify_all();
            return None;
        }
        b.next += 1;
        Some(b.next - 1)
    }

    /// No more files are taken; `interrupted` if by the caller's stop.
    fn close(&self, interrupted: bool, failed: bool) {
        let mut b = self.lock();
        b.closed = true;
        b.interrupted |= interrupted;
        b.failed |= failed;
        drop(b);
        self.filled.notify_all();
        self.drained.notify_all();
    }

    /// Packets of file `k`, counted now if nobody has yet.
    fn count(&self, k: usize) -> u64 {
        *self.counts[k].get_or_init(|| count_packets(&self.maps[k]))
    }

    /// Queues the events of file `k`, analyzed by worker `w`; `end` is set
    /// (to its notice, none if interrupted) when the file is done. A
    /// follower (`wait`) then waits while its unwritten files hold more
    /// than the cap. False if the output failed.
    fn push(
        &self,
        k: usize,
        w: usize,
        events: Vec<(Order, Event)>,
        lines: Vec<Option<Vec<u8>>>,
        end: Option<Option<FileEnd>>,
        wait: bool,
    ) -> bool {
        let mut b = self.lock();
        let mut lines = lines.into_iter();
        b.held[w] += events.len();
        let held: usize = b.held.iter().sum();
        b.peak = b.peak.max(held);
        let f = &mut b.files[k];
        f.owner = w;
        f.queue
            .extend(events.into_iter().map(|(order, event)| Ready {
                order,
                event,
                line: lines.next().flatten(),
            }));
        if let Some(end) = end {
            f.end = end;
            f.done = true;
        }
        self.filled.notify_all();
        if wait && !b.failed && b.held[w] > self.cap {
            b.waits += 1;
            while !b.failed && b.held[w] > self.cap {
                b = self.drained.wait(b).unwrap_or_else(PoisonError::into_inner);
            }
        }
        !b.failed
    }

    /// Adds what a reader consumed since `*seen` to the bytes read.
    fn progress(&self, seen: &mut usize, offset: usize) {
        self.read
            .fetch_add(offset.saturating_sub(*seen) as u64, Ordering::Relaxed);
        *seen = offset;
    }
}

/// Packets a reader yields from `map` before its end or first error.
fn count_packets(map: &Mapping) -> u64 {
    let Ok(mut r) = Reader::new(map.bytes()) else {
        return 0;
    };
    let mut n = 0;
    while let Some(Ok(_)) = r.next_packet() {
        n += 1;
    }
    n
}

/// Marks a worker's file done if the worker panics, so the writer does
/// not wait for it forever (the run closes; what it wrote stays).
struct Taken<'s, 'a> {
    shared: &'s Shared<'a>,
    file: usize,
}

impl Drop for Taken<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut b = self.shared.lock();
            b.files[self.file].done = true;
            drop(b);
            self.shared.close(true, false);
        }
    }
}

/// How a worker hands over a file's events: `(file, events, end)`, `end`
/// set when the file is done. False when the run must stop.
type Deliver<'d> = dyn FnMut(usize, Vec<(Order, Event)>, Option<Option<FileEnd>>) -> bool + 'd;

/// One worker: analyzes file after file until none is left.
fn work(shared: &Shared<'_>, opts: &Options, share: f64, deliver: &mut Deliver<'_>) -> Counters {
    let mut w = Worker::configured(share, opts);
    let shards = Shards::new(&[1.0]);
    // The first input position of file `known.0` (files are taken in
    // increasing order, so the sum only grows).
    let mut known = (0usize, 0u64);
    while let Some(k) = shared.take() {
        let _taken = Taken { shared, file: k };
        while known.0 < k {
            known = (known.0 + 1, known.1 + shared.count(known.0));
        }
        if !analyze(shared, &mut w, &shards, k, known.1, deliver) {
            break;
        }
    }
    w.counters()
}

/// Analyzes file `k`, whose first packet is input position `first`. False
/// when the run must stop (interrupted, or the output failed).
fn analyze(
    shared: &Shared<'_>,
    w: &mut Worker,
    shards: &Shards,
    k: usize,
    first: u64,
    deliver: &mut Deliver<'_>,
) -> bool {
    let mut input = Input::new(&shared.maps[k..=k], InputOrder::Sequential);
    let mut index = first;
    let mut span: (Option<Timestamp>, Option<Timestamp>) = (None, None);
    let mut items = 0u32;
    let mut seen = 0usize;
    while let Some(item) = input.next_item() {
        match item {
            Item::Packet { packet, .. } => {
                w.advance_clock(index, packet.ts);
                if let Some((_, ipp)) = w.route(&packet, shards) {
                    w.owned_packet(index, k as u32, &packet, &ipp);
                }
                index += 1;
                span.0 = Some(span.0.map_or(packet.ts, |t| t.min(packet.ts)));
                span.1 = Some(span.1.map_or(packet.ts, |t| t.max(packet.ts)));
            }
            Item::FileEnd { error, .. } => {
                w.end_of_input(index);
                let packets = index - first;
                let _ = shared.counts[k].set(packets);
                debug_assert_eq!(shared.counts[k].get(), Some(&packets));
                shared.progress(&mut seen, input.offset());
                let end = FileEnd {
                    file: k,
                    packets,
                    first_ts: span.0,
                    last_ts: span.1,
                    error,
                };
                return deliver(k, w.take_events(), Some(Some(end)));
            }
        }
        items += 1;
        if items == BATCH_ITEMS {
            items = 0;
            shared.progress(&mut seen, input.offset());
            if !deliver(k, w.take_events(), None) {
                return false;
            }
            if shared.stop.load(Ordering::Relaxed) {
                // As the serial pipeline: open flows end here, as
                // "shutdown", and the file has no end notice.
                w.end_of_input(index);
                deliver(k, w.take_events(), Some(None));
                shared.close(true, false);
                return false;
            }
        }
    }
    // An input always ends with its file's end; if not, the file is done.
    w.end_of_input(index);
    deliver(k, w.take_events(), Some(None))
}

/// How long the writer writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// What is ready now, without waiting.
    Now,
    /// Until file `k` is the head with nothing queued.
    File(usize),
    /// Until every file taken is written.
    All,
}

/// Worker 0's other job: writing the files' events in order.
struct Writer<'w, 's, E> {
    sink: &'w mut Sink<'s, E>,
    progress: &'w mut dyn FnMut(u64),
    files: Vec<FileEnd>,
    error: Option<E>,
}

impl<E> Writer<'_, '_, E> {
    /// Worker 0's own events: queued, then whatever is ready written; when
    /// its queue is full, the head's events until its own file is the head.
    fn deliver(
        &mut self,
        shared: &Shared<'_>,
        k: usize,
        events: Vec<(Order, Event)>,
        end: Option<Option<FileEnd>>,
    ) -> bool {
        shared.push(k, 0, events, Vec::new(), end, false);
        let full = {
            let mut b = shared.lock();
            let full = b.held[0] > shared.cap;
            b.waits += u64::from(full);
            full
        };
        self.write(shared, if full { Until::File(k) } else { Until::Now })
    }

    /// Writes queued events in file order (see [`Until`]). False if the
    /// output failed (the run is then closed).
    fn write(&mut self, shared: &Shared<'_>, until: Until) -> bool {
        if self.error.is_some() {
            return false;
        }
        loop {
            let batch = {
                let mut b = shared.lock();
                loop {
                    let head = b.head;
                    if let Until::File(k) = until {
                        if head > k || head == k && b.files[k].queue.is_empty() {
                            return true;
                        }
                    }
                    if head >= b.files.len() || b.closed && head >= b.next {
                        return true;
                    }
                    let f = &mut b.files[head];
                    if !f.queue.is_empty() {
                        let (queue, owner) = (std::mem::take(&mut f.queue), f.owner);
                        b.held[owner] -= queue.len();
                        break queue;
                    }
                    if f.done {
                        if let Some(end) = f.end.take() {
                            self.files.push(end);
                        }
                        b.head += 1;
                        shared.drained.notify_all();
                        continue;
                    }
                    if until == Until::Now {
                        return true;
                    }
                    b = shared
                        .filled
                        .wait(b)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            shared.drained.notify_all();
            (self.progress)(shared.read.load(Ordering::Relaxed));
            for r in batch {
                if let Err(e) = (self.sink)(&r.event, r.line.as_deref()) {
                    self.error = Some(e);
                    shared.close(false, true);
                    return false;
                }
            }
        }
    }
}

/// Analyzes `maps` (several files, read one after the other) with
/// `opts.threads` workers at once, handing every event to `sink` in the
/// order of a serial run; fills `report`'s files, counters and
/// interruption.
pub(super) fn run<E>(
    maps: &[Mapping],
    opts: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    sink: &mut Sink<'_, E>,
    report: &mut Report,
) -> Result<(), E> {
    run_capped(maps, opts, stop, progress, sink, report, QUEUE_CAP).0
}

/// [`run`] with `cap` events per worker; also returns the most events
/// queued at once.
fn run_capped<E>(
    maps: &[Mapping],
    opts: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    sink: &mut Sink<'_, E>,
    report: &mut Report,
    cap: usize,
) -> (Result<(), E>, usize) {
    let n = maps.len();
    let workers = opts.threads.clamp(1, n.max(1));
    let share = 1.0 / workers as f64;
    let shared = Shared {
        maps,
        counts: (0..n).map(|_| OnceLock::new()).collect(),
        board: Mutex::new(Board {
            next: 0,
            closed: false,
            failed: false,
            interrupted: false,
            head: 0,
            files: (0..n).map(|_| FileOut::default()).collect(),
            waits: 0,
            held: vec![0; workers],
            peak: 0,
        }),
        filled: Condvar::new(),
        drained: Condvar::new(),
        stop,
        cap,
        read: AtomicU64::new(0),
    };
    let mut writer = Writer {
        sink,
        progress,
        files: Vec::new(),
        error: None,
    };
    let mut counters = Counters::default();
    std::thread::scope(|s| {
        let shared = &shared;
        let followers: Vec<_> = (1..workers)
            .map(|id| {
                std::thread::Builder::new()
                    .name(format!("sift-worker-{id}"))
                    .spawn_scoped(s, move || {
                        work(shared, opts, share, &mut |k, events, end| {
                            let lines = render(&events, opts.render.as_ref());
                            shared.push(k, id, events, lines, end, true)
                        })
                    })
                    .expect("spawn worker thread")
            })
            .collect();
        let own = work(shared, opts, share, &mut |k, events, end| {
            writer.deliver(shared, k, events, end)
        });
        counters.add(&own);
        writer.write(shared, Until::All);
        for f in followers {
            // A follower that panicked closed the run; its counters are lost.
            if let Ok(c) = f.join() {
                counters.add(&c);
            }
        }
    });
    let b = shared.lock();
    report.counters.add(&counters);
    report.files.append(&mut writer.files);
    report.interrupted |= b.interrupted;
    report.output_waits += b.waits;
    let peak = b.peak;
    drop(b);
    (writer.error.map_or(Ok(()), Err), peak)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::tests::tempfile_path::TempPath;
    use crate::capture::pcap::tests::build;
    use crate::pipeline::run_files;

    /// A raw IPv4/UDP packet (link type 101) from 10.0.`net`.`host` to
    /// 10.9.9.9:53.
    fn udp(net: u8, host: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, net, host], [10, 9, 9, 9], 64)
            .udp(4000 + u16::from(host), 53)
            .write(&mut v, payload)
            .expect("a small test packet");
        v
    }

    /// Capture `net`: `flows` one- to three-packet flows, a packet every
    /// 5 s of capture time, so that sweeps end some flows mid-file.
    fn capture(net: u8, flows: u8) -> Vec<u8> {
        let frames: Vec<(u32, Vec<u8>)> = (0..u32::from(flows) * 2)
            .map(|i| {
                let host = (i % u32::from(flows)) as u8;
                (1000 + i * 5, udp(net, host, &[net, host, i as u8]))
            })
            .collect();
        let refs: Vec<(u32, u32, &[u8])> =
            frames.iter().map(|(s, f)| (*s, 0, f.as_slice())).collect();
        build(101, &refs)
    }

    /// What identifies an event and its place: (flow id, file, first
    /// packet, end reason).
    type Seen = Vec<(u64, u32, u64, String)>;

    fn seen(ev: &Event) -> (u64, u32, u64, String) {
        match ev {
            Event::Flow(r) => (r.flow_id, r.file, r.first_packet, format!("{:?}", r.reason)),
            Event::Alert(a) => (a.flow_id, a.file, a.packet, "alert".into()),
        }
    }

    struct Files {
        _temp: Vec<TempPath>,
        files: Vec<CaptureFile>,
    }

    fn files(sizes: &[u8]) -> Files {
        let temp: Vec<TempPath> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| TempPath::with(&capture(i as u8 + 1, n)))
            .collect();
        let files = temp
            .iter()
            .map(|t| CaptureFile::open(t.path()).unwrap())
            .collect();
        Files { _temp: temp, files }
    }

    fn serial(files: &[CaptureFile]) -> (Seen, Report) {
        let opts = Options {
            files_at_once: FilesAtOnce::Never,
            ..Options::default()
        };
        let mut out = Vec::new();
        let report = run_files(
            files,
            &opts,
            &AtomicBool::new(false),
            &mut |_| {},
            &mut |ev: &Event, _: Option<&[u8]>| -> Result<(), ()> {
                out.push(seen(ev));
                Ok(())
            },
        )
        .unwrap();
        (out, report)
    }

    fn at_once(
        files: &[CaptureFile],
        threads: usize,
        cap: usize,
        stop: &AtomicBool,
        fail_after: usize,
    ) -> (Seen, Report, Result<(), usize>) {
        let (out, report, r, _) = at_once_slow(files, threads, cap, stop, fail_after, 0);
        (out, report, r)
    }

    /// As [`at_once`], the sink taking `micros` per event; also the most
    /// events queued at once.
    fn at_once_slow(
        files: &[CaptureFile],
        threads: usize,
        cap: usize,
        stop: &AtomicBool,
        fail_after: usize,
        micros: u64,
    ) -> (Seen, Report, Result<(), usize>, usize) {
        let maps: Vec<Mapping> = files.iter().map(|f| f.map().unwrap()).collect();
        let opts = Options {
            threads,
            ..Options::default()
        };
        let mut out = Vec::new();
        let mut report = Report::default();
        let r = run_capped(
            &maps,
            &opts,
            stop,
            &mut |_| {},
            &mut |ev: &Event, _: Option<&[u8]>| -> Result<(), usize> {
                if out.len() == fail_after {
                    return Err(out.len());
                }
                out.push(seen(ev));
                std::thread::sleep(std::time::Duration::from_micros(micros));
                Ok(())
            },
            &mut report,
            cap,
        );
        (out, report, r.0, r.1)
    }

    #[test]
    fn same_events_as_the_serial_run_even_when_queues_are_full() {
        let f = files(&[40, 3, 25, 60, 1, 30]);
        let (want, serial_report) = serial(&f.files);
        assert!(want.len() > 100);
        assert!(want.iter().any(|e| e.3 == "Timeout"));
        assert!(want.iter().any(|e| e.3 == "Shutdown"));
        for (threads, cap) in [(2, QUEUE_CAP), (3, 1), (2, 4), (8, 0)] {
            let (got, report, r) =
                at_once(&f.files, threads, cap, &AtomicBool::new(false), usize::MAX);
            assert_eq!(r, Ok(()));
            assert_eq!(got, want, "{threads} threads, queues of {cap}");
            assert_eq!(report.files, serial_report.files);
            assert_eq!(report.counters, serial_report.counters);
            assert!(!report.interrupted);
            if cap <= 1 {
                assert!(report.output_waits > 0, "the cap bit and was counted");
            }
        }
    }

    #[test]
    fn a_slow_output_holds_few_events() {
        // 40 files of 6 flows, written slowly: a follower finishing file
        // after file ahead of the writer waits once its unwritten files
        // hold more than the cap, instead of queueing them all.
        let f = files(&[6; 40]);
        let (want, _) = serial(&f.files);
        assert_eq!(want.len(), 240);
        // More than a file's events: only files held together reach it.
        let cap = 8;
        let (got, report, r, peak) =
            at_once_slow(&f.files, 2, cap, &AtomicBool::new(false), usize::MAX, 200);
        assert_eq!(r, Ok(()));
        assert_eq!(got, want);
        // Per worker: the cap, plus one file's events delivered at once
        // (whether the follower ran ahead and waited is up to the
        // scheduler; without the bound it queued 234).
        assert!(peak <= 2 * (cap + 6), "{peak} events queued at once");
        assert_eq!(report.files.len(), 40);
    }

    #[test]
    fn an_output_error_stops_the_run() {
        let f = files(&[40, 30, 50, 20]);
        let (want, _) = serial(&f.files);
        let (got, _, r) = at_once(&f.files, 3, 2, &AtomicBool::new(false), 70);
        assert_eq!(r, Err(70));
        assert_eq!(got[..], want[..70]);
    }

    #[test]
    fn a_stopped_run_begins_no_file() {
        let f = files(&[10, 10, 10]);
        let (got, report, r) = at_once(&f.files, 2, QUEUE_CAP, &AtomicBool::new(true), usize::MAX);
        assert_eq!(r, Ok(()));
        assert!(got.is_empty());
        assert!(report.files.is_empty());
        assert!(report.interrupted);
    }

    #[test]
    fn when_files_are_analyzed_at_once() {
        let even = files(&[10, 10, 10]);
        let lopsided = files(&[10, 60, 10]);
        let opts = |threads, order| Options {
            threads,
            order,
            ..Options::default()
        };
        let seq = InputOrder::Sequential;
        let auto = FilesAtOnce::Auto;
        assert!(auto.applies(&even.files, &opts(2, seq)));
        assert!(auto.applies(&even.files, &opts(3, seq)));
        // One file holds more than half the bytes: split it packet by packet.
        assert!(!auto.applies(&lopsided.files, &opts(2, seq)));
        assert!(FilesAtOnce::Always.applies(&lopsided.files, &opts(2, seq)));
        assert!(!FilesAtOnce::Never.applies(&even.files, &opts(2, seq)));
        // One thread, one file, or files merged by timestamp: never.
        for always in [auto, FilesAtOnce::Always] {
            assert!(!always.applies(&even.files, &opts(1, seq)));
            assert!(!always.applies(&even.files[..1], &opts(2, seq)));
            assert!(!always.applies(&even.files, &opts(2, InputOrder::Merged)));
        }
    }

    #[test]
    fn counting_matches_reading_on_a_cut_file() {
        let mut bytes = capture(1, 20);
        bytes.truncate(bytes.len() - 7);
        let t = TempPath::with(&bytes);
        let f = CaptureFile::open(t.path()).unwrap();
        let m = f.map().unwrap();
        assert_eq!(count_packets(&m), 39);
    }
}
