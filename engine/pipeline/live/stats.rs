//! The counters behind the periodic stats line: per handle and per worker
//! gauges, snapshots of them, and the monitor that prints the line.

use super::*;

/// What one thread publishes for the stats line (relaxed atomics, written
/// once per batch).
#[derive(Default)]
pub(super) struct Gauge {
    /// Packets and bytes this thread read from its handles.
    pub(super) read_packets: AtomicU64,
    pub(super) read_bytes: AtomicU64,
    /// Workers only: packets processed, flows held, flows evicted, and the
    /// control generation applied.
    pub(super) processed: AtomicU64,
    pub(super) active_flows: AtomicU64,
    pub(super) evicted: AtomicU64,
    /// Out-of-order TCP segments reassembly refused.
    pub(super) reassembly_refused: AtomicU64,
    pub(super) generation: AtomicU64,
}

impl Gauge {
    /// Publishes what a worker counted.
    pub(super) fn counted(&self, c: &Counters) {
        self.evicted.store(c.evicted, Ordering::Relaxed);
        self.reassembly_refused
            .store(c.reassembly_refused_segments, Ordering::Relaxed);
    }
}

/// Drop counters of one handle.
pub(super) struct HandleGauge {
    pub(super) iface: usize,
    pub(super) dropped: AtomicU64,
    pub(super) if_dropped: AtomicU64,
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
    /// Out-of-order TCP segments reassembly refused.
    pub reassembly_refused: u64,
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
             flows {} active, {} evicted | reassembly refused {} | memory {} | per worker {}",
            thousands(pps as u64),
            fmt_bytes(bps as u64),
            self.packets,
            fmt_bytes(self.bytes),
            self.kernel_drops,
            self.iface_drops,
            thousands(self.active_flows),
            thousands(self.evicted),
            thousands(self.reassembly_refused),
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
    pub(super) started: Instant,
    pub(super) control: &'a Control<C>,
    pub(super) gauges: &'a [Gauge],
    /// Which gauges are workers'.
    pub(super) workers: usize,
    pub(super) handles: &'a [HandleGauge],
    pub(super) interfaces: usize,
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
            reassembly_refused: workers.iter().map(|g| r(&g.reassembly_refused)).sum(),
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
