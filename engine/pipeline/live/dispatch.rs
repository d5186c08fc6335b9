//! Dispatch: one reader thread per interface routes each packet to its
//! worker in recycled batches over bounded channels (`--no-fanout`, or a
//! kernel that refuses fanout).

use super::*;

/// Packets copied out of libpcap's ring for one worker.
pub(super) struct PacketBatch {
    pub(super) reader: usize,
    pub(super) iface: u32,
    pub(super) link: LinkType,
    pub(super) data: Vec<u8>,
    pub(super) packets: Vec<Copied>,
}

pub(super) struct Copied {
    pub(super) ts: Timestamp,
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) wire_len: u32,
}

impl PacketBatch {
    pub(super) fn new(reader: usize, iface: u32, link: LinkType) -> Self {
        PacketBatch {
            reader,
            iface,
            link,
            data: Vec::with_capacity(BATCH_BYTES / 4),
            packets: Vec::with_capacity(BATCH_PACKETS),
        }
    }

    pub(super) fn push(&mut self, p: &RawPacket<'_>) {
        self.packets.push(Copied {
            ts: p.ts,
            start: self.data.len(),
            len: p.data.len(),
            wire_len: p.wire_len,
        });
        self.data.extend_from_slice(p.data);
    }

    pub(super) fn is_full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }

    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = RawPacket<'_>> {
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
pub(super) struct Dispatcher<'a> {
    /// Counts what no worker owns (frames without IP, malformed headers).
    pub(super) router: Worker,
    pub(super) shards: &'a Shards,
    pub(super) workers: &'a [Sender<PacketBatch>],
    pub(super) free: &'a Receiver<PacketBatch>,
    pub(super) pending: Vec<PacketBatch>,
    pub(super) reader: usize,
    pub(super) link: LinkType,
    /// A worker is gone (it panicked): stop reading.
    pub(super) gone: bool,
}

impl<'a> Dispatcher<'a> {
    pub(super) fn new(
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
    pub(super) fn fresh(&self) -> PacketBatch {
        match self.free.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => PacketBatch::new(self.reader, self.reader as u32, self.link),
        }
    }

    #[inline]
    pub(super) fn route(&mut self, p: &RawPacket<'_>) {
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
    pub(super) fn flush(&mut self) {
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
pub(super) fn reader<C>(
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
    let router = Worker::new(0.0, shared.opts.flows, shared.opts.defrag, 0);
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
pub(super) fn dispatched<C>(
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
