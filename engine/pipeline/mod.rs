//! The pipeline: capture → decode → flows → output, over N worker threads.
//!
//! **Offline** ([`run_files`]): every worker maps the capture files and
//! walks all of them, keeping the packets of its shard (by a
//! symmetric hash of the two addresses; see [`crate::flow::key::shard`]).
//! There is no dispatch thread and no per-packet hand-off: walking a record
//! costs a few nanoseconds, a channel hop and a cold cache line on another
//! core cost more (DESIGN.md). The calling thread merges the workers' event
//! streams back into input order ([`merge`]), so the output is the same for
//! any `threads`.
//!
//! Determinism holds as long as no capacity limit bites: capacities are
//! split between workers, so evictions (reported) may differ with the
//! thread count.

pub mod merge;
pub mod stats;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

use crate::capture::file::{CaptureFile, Input, Item, Order as InputOrder};
use crate::capture::CaptureError;
use crate::decode::defrag::DefragConfig;
use crate::flow::FlowConfig;
use merge::{Batch, Merger};
use stats::Counters;
use worker::{Event, Worker};

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct Options {
    pub threads: usize,
    pub order: InputOrder,
    pub flows: FlowConfig,
    pub defrag: DefragConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 1,
            order: InputOrder::Sequential,
            flows: FlowConfig::default(),
            defrag: DefragConfig::default(),
        }
    }
}

/// How one input file ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEnd {
    pub file: usize,
    /// Packets read from this file.
    pub packets: u64,
    /// Why it stopped early (truncated or corrupt), if it did.
    pub error: Option<CaptureError>,
}

/// What a finished run reports besides its events.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub counters: Counters,
    pub files: Vec<FileEnd>,
    pub elapsed: Duration,
    /// The run was stopped by the caller before the end of input.
    pub interrupted: bool,
}

/// Items per batch sent from a worker to the merger.
const BATCH_ITEMS: u32 = 4096;
/// Batches in flight per worker before it waits for the merger.
const BATCHES_IN_FLIGHT: usize = 4;

/// Runs the offline pipeline over `files`, handing every event to `sink` in
/// input order. `progress` is told the bytes read so far (of all files).
/// `stop` ends the run early (its events so far are still delivered).
pub fn run_files<E>(
    files: &[CaptureFile],
    opts: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
    sink: &mut dyn FnMut(Event) -> Result<(), E>,
) -> Result<Report, E> {
    let started = Instant::now();
    let threads = opts.threads.max(1);
    let mut report = Report::default();
    let mut result = Ok(());
    std::thread::scope(|s| {
        let mut receivers = Vec::with_capacity(threads);
        for id in 0..threads {
            let (tx, rx) = bounded::<Batch>(BATCHES_IN_FLIGHT);
            receivers.push(rx);
            let opts = opts.clone();
            s.spawn(move || {
                let mut w = Worker::new(id, threads, opts.flows, opts.defrag);
                let maps = match files
                    .iter()
                    .map(CaptureFile::map)
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(m) => m,
                    // The files were mapped once when opened; failing now is
                    // resource exhaustion. Report no packets rather than panic.
                    Err(_) => Vec::new(),
                };
                let mut input = Input::new(&maps, opts.order);
                let mut index: u64 = 0;
                let mut per_file: Vec<u64> = vec![0; files.len()];
                let mut notices = Vec::new();
                let mut items = 0u32;
                let mut interrupted = false;
                loop {
                    let Some(item) = input.next_item() else { break };
                    match item {
                        Item::Packet { file, packet } => {
                            w.packet(index, file as u32, &packet);
                            index += 1;
                            per_file[file] += 1;
                        }
                        Item::FileEnd { file, error } => {
                            if opts.order == InputOrder::Sequential {
                                w.end_of_input(index);
                            }
                            if id == 0 {
                                notices.push(FileEnd {
                                    file,
                                    packets: per_file[file],
                                    error,
                                });
                            }
                        }
                    }
                    items += 1;
                    if items == BATCH_ITEMS {
                        items = 0;
                        if stop.load(Ordering::Relaxed) {
                            interrupted = true;
                            break;
                        }
                        let batch = Batch {
                            worker: id,
                            events: w.take_events(),
                            watermark: index,
                            offset: input.offset() as u64,
                            notices: std::mem::take(&mut notices),
                            done: None,
                        };
                        if tx.send(batch).is_err() {
                            return; // the merger gave up (output error)
                        }
                    }
                }
                w.end_of_input(index);
                let _ = tx.send(Batch {
                    worker: id,
                    events: w.take_events(),
                    watermark: u64::MAX,
                    offset: input.offset() as u64,
                    notices,
                    done: Some((w.counters(), interrupted)),
                });
            });
        }
        let mut merger = Merger::new(receivers);
        result = merger.run(
            &mut |batch_offset| progress(batch_offset),
            &mut |ev| sink(ev),
            &mut report,
        );
    });
    report.elapsed = started.elapsed();
    result.map(|()| report)
}
