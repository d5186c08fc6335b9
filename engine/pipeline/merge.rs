//! Merging the workers' event streams into input order.
//!
//! Each worker sends batches of events sorted by [`Order`], each with a
//! watermark: the input position below which that worker will send nothing
//! more. An event is released once it is the smallest queued and its
//! position is below every worker's watermark. The merger takes batches
//! from whichever worker has one ready. Memory stays bounded because every
//! channel is: the lead cannot run ahead of a follower by more than the
//! work batches in flight between them.

use std::collections::VecDeque;

use crossbeam_channel::{Receiver, Select};

use super::stats::Counters;
use super::worker::{Event, Order};
use super::{FileEnd, Report};

/// A worker's batch of work.
pub struct Batch {
    pub worker: usize,
    pub events: Vec<(Order, Event)>,
    /// Every later event of this worker is at this input position or after.
    pub watermark: u64,
    /// Bytes of input read so far (for progress).
    pub offset: u64,
    pub notices: Vec<FileEnd>,
    /// Set on the last batch: the worker's counters and whether it stopped early.
    pub done: Option<(Counters, bool)>,
}

pub struct Merger {
    receivers: Vec<Receiver<Batch>>,
    queues: Vec<VecDeque<(Order, Event)>>,
    watermarks: Vec<u64>,
    finished: Vec<bool>,
}

impl Merger {
    /// A merger of the batches arriving on `receivers`, one per worker.
    pub fn new(receivers: Vec<Receiver<Batch>>) -> Self {
        let mut m = Merger::direct(receivers.len());
        m.receivers = receivers;
        m
    }

    /// A merger of `n` workers' batches given to [`accept`](Self::accept).
    pub fn direct(n: usize) -> Self {
        Merger {
            receivers: Vec::new(),
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            watermarks: vec![0; n],
            finished: vec![false; n],
        }
    }

    /// Receives until every worker is done, releasing events in order.
    pub fn run<E>(
        &mut self,
        progress: &mut dyn FnMut(u64),
        sink: &mut dyn FnMut(Event) -> Result<(), E>,
        report: &mut Report,
    ) -> Result<(), E> {
        loop {
            let open: Vec<usize> = (0..self.receivers.len())
                .filter(|&w| !self.finished[w])
                .collect();
            if open.is_empty() {
                break;
            }
            let mut sel = Select::new();
            for &w in &open {
                sel.recv(&self.receivers[w]);
            }
            let op = sel.select();
            let w = open[op.index()];
            let Ok(batch) = op.recv(&self.receivers[w]) else {
                // A worker thread died (panicked): nothing more will come.
                self.finished[w] = true;
                self.watermarks[w] = u64::MAX;
                continue;
            };
            self.accept(w, batch, progress, sink, report)?;
        }
        self.release(sink)
    }

    /// Takes worker `w`'s batch and releases what it allows.
    pub fn accept<E>(
        &mut self,
        w: usize,
        batch: Batch,
        progress: &mut dyn FnMut(u64),
        sink: &mut dyn FnMut(Event) -> Result<(), E>,
        report: &mut Report,
    ) -> Result<(), E> {
        if batch.worker == 0 {
            progress(batch.offset);
        }
        report.files.extend(batch.notices);
        self.watermarks[w] = batch.watermark;
        self.queues[w].extend(batch.events);
        if let Some((counters, interrupted)) = batch.done {
            report.counters.add(&counters);
            report.interrupted |= interrupted;
            self.finished[w] = true;
            self.watermarks[w] = u64::MAX;
        }
        self.release(sink)
    }

    fn release<E>(&mut self, sink: &mut dyn FnMut(Event) -> Result<(), E>) -> Result<(), E> {
        let limit = self.watermarks.iter().copied().min().unwrap_or(u64::MAX);
        loop {
            let mut best: Option<usize> = None;
            for (w, q) in self.queues.iter().enumerate() {
                if let Some((o, _)) = q.front() {
                    if best.is_none_or(|b| *o < self.queues[b].front().expect("non-empty").0) {
                        best = Some(w);
                    }
                }
            }
            let Some(b) = best else { return Ok(()) };
            let at = self.queues[b].front().expect("non-empty").0.at;
            if at >= limit && limit != u64::MAX {
                return Ok(());
            }
            let (_, ev) = self.queues[b].pop_front().expect("non-empty");
            sink(ev)?;
        }
    }
}
