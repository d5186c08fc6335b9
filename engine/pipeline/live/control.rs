//! The control path: a new configuration (a rule set) handed to the
//! workers while they run, taken between two batches of packets.

use super::*;

/// A configuration that can be replaced while workers run: each worker
/// checks for a new one once per batch (one atomic load) and applies it.
pub struct Control<C> {
    pub(super) generation: AtomicU64,
    pub(super) current: Mutex<(u64, Arc<C>)>,
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
