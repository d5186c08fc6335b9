//! Merging the workers' event streams into input order.
//!
//! Each worker sends batches of events sorted by [`Order`], each with a
//! watermark: the input position below which that worker will send nothing
//! more. An event is released once it is the smallest queued and its
//! position is below every worker's watermark. The lead hands the merger
//! its own batches and has it take whatever the followers have sent
//! ([`Merger::poll`]); at the end it waits for the followers' last batches
//! ([`Merger::finish`]). Memory stays bounded because the work is: the lead
//! cannot run ahead of a follower by more than the work batches in flight
//! between them, and a follower reports only on work it was given.

use std::collections::VecDeque;

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};

use super::worker::{Event, Order};
use super::{Counters, FileEnd, Report};

/// Where released events go, in input order, each with its EVE line when a
/// worker rendered it ahead.
pub type Sink<'s, E> = dyn FnMut(&Event, Option<&[u8]>) -> Result<(), E> + 's;

/// An event waiting to be released, with its EVE line when its worker
/// rendered it ahead of the sink.
pub struct Ready {
    pub order: Order,
    pub event: Event,
    pub line: Option<Vec<u8>>,
}

/// A worker's batch of work.
pub struct Batch {
    pub worker: usize,
    pub events: Vec<(Order, Event)>,
    /// The events' EVE lines, one per event, when the worker rendered them;
    /// else empty.
    pub lines: Vec<Option<Vec<u8>>>,
    /// Every later event of this worker is at this input position or after.
    pub watermark: u64,
    /// Bytes of input read so far (for progress).
    pub offset: u64,
    pub notices: Vec<FileEnd>,
    /// Set on the last batch: the worker's counters and whether it stopped early.
    pub done: Option<(Counters, bool)>,
}

/// Written events of a follower sent back to it at once.
const GIVE_BACK: usize = 256;

pub struct Merger {
    /// The followers' channels: worker `i + 1` reports on `followers[i]`.
    /// The lead (worker 0) hands its batches to [`accept`](Self::accept).
    followers: Vec<Receiver<Batch>>,
    /// Where follower `i + 1`'s events go back once written: it frees them
    /// itself (an allocator frees memory of another thread's heap slowly,
    /// and the cache lines would travel twice).
    spent_tx: Vec<Sender<Vec<Ready>>>,
    /// Per worker: events written and not yet sent back.
    spent: Vec<Vec<Ready>>,
    queues: Vec<VecDeque<Ready>>,
    watermarks: Vec<u64>,
    finished: Vec<bool>,
}

impl Merger {
    /// A merger of the lead's batches and of those arriving on
    /// `followers`, one channel per follower; `spent[i]` takes follower
    /// `i + 1`'s events back once they are written.
    pub fn new(followers: Vec<Receiver<Batch>>, spent: Vec<Sender<Vec<Ready>>>) -> Self {
        let n = followers.len() + 1;
        Merger {
            followers,
            spent_tx: spent,
            spent: (0..n).map(|_| Vec::new()).collect(),
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            watermarks: vec![0; n],
            finished: vec![false; n],
        }
    }

    /// Takes the batches the followers have sent so far, without waiting.
    pub fn poll<E>(
        &mut self,
        progress: &mut dyn FnMut(u64),
        sink: &mut Sink<'_, E>,
        report: &mut Report,
    ) -> Result<(), E> {
        for i in 0..self.followers.len() {
            let w = i + 1;
            while !self.finished[w] {
                match self.followers[i].try_recv() {
                    Ok(batch) => self.accept(w, batch, progress, sink, report)?,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => self.gone(w),
                }
            }
        }
        Ok(())
    }

    /// Waits for every follower's last batch, releasing events in order.
    pub fn finish<E>(
        &mut self,
        progress: &mut dyn FnMut(u64),
        sink: &mut Sink<'_, E>,
        report: &mut Report,
    ) -> Result<(), E> {
        loop {
            let open: Vec<usize> = (1..self.finished.len())
                .filter(|&w| !self.finished[w])
                .collect();
            if open.is_empty() {
                break;
            }
            let mut sel = Select::new();
            for &w in &open {
                sel.recv(&self.followers[w - 1]);
            }
            let op = sel.select();
            let w = open[op.index()];
            match op.recv(&self.followers[w - 1]) {
                Ok(batch) => self.accept(w, batch, progress, sink, report)?,
                Err(_) => self.gone(w),
            }
        }
        self.release(sink)
    }

    /// A follower's thread died (panicked): nothing more will come from it.
    fn gone(&mut self, w: usize) {
        self.finished[w] = true;
        self.watermarks[w] = u64::MAX;
    }

    /// Takes worker `w`'s batch and releases what it allows.
    pub fn accept<E>(
        &mut self,
        w: usize,
        batch: Batch,
        progress: &mut dyn FnMut(u64),
        sink: &mut Sink<'_, E>,
        report: &mut Report,
    ) -> Result<(), E> {
        if batch.worker == 0 {
            progress(batch.offset);
        }
        report.files.extend(batch.notices);
        self.watermarks[w] = batch.watermark;
        if let Some((counters, interrupted)) = batch.done {
            report.counters.add(&counters);
            report.interrupted |= interrupted;
            self.finished[w] = true;
            self.watermarks[w] = u64::MAX;
        }
        let mut lines = batch.lines.into_iter();
        if self.followers.is_empty() {
            // Alone, the lead delivers its events in input order already:
            // none waits for another worker's, so none is queued.
            return batch
                .events
                .into_iter()
                .try_for_each(|(_, event)| sink(&event, lines.next().flatten().as_deref()));
        }
        self.queues[w].extend(batch.events.into_iter().map(|(order, event)| Ready {
            order,
            event,
            line: lines.next().flatten(),
        }));
        self.release(sink)
    }

    fn release<E>(&mut self, sink: &mut Sink<'_, E>) -> Result<(), E> {
        let limit = self.watermarks.iter().copied().min().unwrap_or(u64::MAX);
        loop {
            let mut best: Option<usize> = None;
            for (w, q) in self.queues.iter().enumerate() {
                if let Some(r) = q.front() {
                    if best
                        .is_none_or(|b| r.order < self.queues[b].front().expect("non-empty").order)
                    {
                        best = Some(w);
                    }
                }
            }
            let Some(b) = best else { break };
            let at = self.queues[b].front().expect("non-empty").order.at;
            if at >= limit && limit != u64::MAX {
                break;
            }
            let ready = self.queues[b].pop_front().expect("non-empty");
            sink(&ready.event, ready.line.as_deref())?;
            if b > 0 {
                self.spent[b].push(ready);
            }
        }
        self.give_back();
        Ok(())
    }

    /// Sends the followers the events written since the last call. A
    /// follower that is gone leaves them to be freed here.
    fn give_back(&mut self) {
        for (w, tx) in self.spent_tx.iter().enumerate() {
            let spent = &mut self.spent[w + 1];
            if spent.len() >= GIVE_BACK {
                let _ = tx.send(std::mem::take(spent));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::record::FlowRecord;
    use crossbeam_channel::unbounded;
    use std::cell::RefCell;

    /// A flow record told apart by its id.
    fn record(id: u64) -> Event {
        Event::Flow(Box::new(FlowRecord::sample(id)))
    }

    fn batch(worker: usize, at: &[u64], watermark: u64, last: bool) -> Batch {
        Batch {
            worker,
            events: at
                .iter()
                .map(|&at| {
                    let order = Order {
                        at,
                        first_packet: at,
                        flow: at,
                        part: 0,
                        seq: 0,
                    };
                    (order, record(at))
                })
                .collect(),
            lines: if worker > 0 {
                at.iter()
                    .map(|at| Some(format!("{at}\n").into_bytes()))
                    .collect()
            } else {
                Vec::new()
            },
            watermark,
            offset: 0,
            notices: Vec::new(),
            done: last.then(|| (Counters::default(), false)),
        }
    }

    #[test]
    fn events_leave_in_input_order_and_go_back_to_their_follower() {
        let (report_tx, report_rx) = unbounded();
        let (spent_tx, spent_rx) = unbounded();
        let mut merger = Merger::new(vec![report_rx], vec![spent_tx]);
        let out: RefCell<Vec<(u64, Option<Vec<u8>>)>> = RefCell::default();
        let mut sink = |ev: &Event, line: Option<&[u8]>| -> Result<(), ()> {
            let Event::Flow(r) = ev else {
                panic!("only flows here")
            };
            out.borrow_mut().push((r.flow_id, line.map(<[u8]>::to_vec)));
            Ok(())
        };
        let ids = || out.borrow().iter().map(|(id, _)| *id).collect::<Vec<_>>();
        let mut report = Report::default();
        // The follower has sent events up to position 1200, the lead up to
        // 10: nothing past 10 may leave yet.
        let follower: Vec<u64> = (1..1200).step_by(2).collect();
        report_tx.send(batch(1, &follower, 1200, false)).unwrap();
        merger
            .accept(
                0,
                batch(0, &[0, 4], 10, false),
                &mut |_| {},
                &mut sink,
                &mut report,
            )
            .unwrap();
        merger.poll(&mut |_| {}, &mut sink, &mut report).unwrap();
        assert_eq!(ids(), [0, 1, 3, 4, 5, 7, 9]);
        // The follower's events carry the line it rendered; the lead's none.
        assert_eq!(out.borrow()[1].1.as_deref(), Some(&b"1\n"[..]));
        assert_eq!(out.borrow()[0].1, None);
        // The lead's last batch, then the follower's.
        merger
            .accept(
                0,
                batch(0, &[250], u64::MAX, true),
                &mut |_| {},
                &mut sink,
                &mut report,
            )
            .unwrap();
        report_tx.send(batch(1, &[1201], u64::MAX, true)).unwrap();
        merger.finish(&mut |_| {}, &mut sink, &mut report).unwrap();
        let mut want: Vec<u64> = follower.iter().copied().chain([0, 4, 250, 1201]).collect();
        want.sort_unstable();
        assert_eq!(ids(), want);
        // Written follower events went back in bundles of GIVE_BACK (the
        // rest is freed with the merger); none of the lead's.
        let back: Vec<Vec<Ready>> = spent_rx.try_iter().collect();
        assert!(!back.is_empty());
        assert!(back.iter().all(|b| b.len() >= GIVE_BACK));
        assert!(back
            .iter()
            .flatten()
            .all(|r| r.order.at % 2 == 1 && r.line.is_some()));
    }

    /// Alone, the lead's events go to the sink as they come, in the order
    /// given, its counters taken with the last batch; a sink's error stops
    /// the batch there.
    #[test]
    fn alone_the_lead_delivers_at_once() {
        let mut merger = Merger::new(Vec::new(), Vec::new());
        let out: RefCell<Vec<u64>> = RefCell::default();
        let mut sink = |ev: &Event, line: Option<&[u8]>| -> Result<(), u64> {
            let Event::Flow(r) = ev else {
                panic!("only flows here")
            };
            assert!(line.is_none());
            if r.flow_id == 99 {
                return Err(99);
            }
            out.borrow_mut().push(r.flow_id);
            Ok(())
        };
        let mut report = Report::default();
        let mut accept =
            |b: Batch, report: &mut Report| merger.accept(0, b, &mut |_| {}, &mut sink, report);
        // Events at or past the watermark are not held back.
        accept(batch(0, &[0, 4, 9], 5, false), &mut report).unwrap();
        assert_eq!(*out.borrow(), [0, 4, 9]);
        accept(batch(0, &[12, 99, 13], 20, false), &mut report).unwrap_err();
        assert_eq!(*out.borrow(), [0, 4, 9, 12]);
        accept(batch(0, &[30], u64::MAX, true), &mut report).unwrap();
        assert_eq!(*out.borrow(), [0, 4, 9, 12, 30]);
        assert!(merger.finished[0]);
        assert!(merger.queues[0].is_empty());
    }
}
