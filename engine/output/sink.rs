//! Where records go besides the EVE file and the summary: the [`Sink`]
//! interface the [recorder](super::recorder) hands every event to, and the
//! counters each sink keeps so that nothing it fails to deliver goes
//! uncounted. The sinks: [`redis`](super::redis) (EVE lines into a list,
//! a channel or a stream), [`ipfix`](super::ipfix) (flow records to a
//! collector). The HTML report and the Prometheus metrics read records
//! too but are not sinks: they keep what they read for the end of the run
//! or for a scrape.

use std::fmt;
use std::io;

use super::record::Event;
use super::summary::thousands;

/// Something that takes a run's events as they are recorded.
pub trait Sink: Send {
    /// True when the sink wants each event's EVE line: the recorder then
    /// renders it (once, shared with the EVE writer) when no worker did.
    fn wants_lines(&self) -> bool {
        false
    }

    /// One event, with its EVE line (no newline) when [`Self::wants_lines`].
    /// An error ends the run (a sink that can lose records counts them
    /// instead of failing).
    fn event(&mut self, ev: &Event, line: Option<&[u8]>) -> io::Result<()>;

    /// After each batch of events.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The end of the run: deliver what is still queued (within the
    /// sink's own time limit), then report.
    fn finish(&mut self) -> SinkStats;

    /// The counters now.
    fn stats(&self) -> SinkStats;
}

/// What a sink delivered and what it did not, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// "redis", "ipfix".
    pub kind: &'static str,
    /// Where it sends, in words (`127.0.0.1:6379 list suricata`).
    pub target: String,
    /// Records the receiver acknowledged (Redis) or that were sent (IPFIX
    /// over UDP has no acknowledgement).
    pub delivered: u64,
    /// Records dropped because the queue was full.
    pub overflow: u64,
    /// Records given up on: still queued or unacknowledged at the end of
    /// the run while the receiver was unreachable, or refused by it.
    pub lost: u64,
    /// Records sent again after a reconnection (possibly twice delivered).
    pub resent: u64,
    /// Connections that broke or could not be made.
    pub reconnects: u64,
    /// The receiver is reachable now.
    pub connected: bool,
    /// The last error, in words.
    pub last_error: Option<String>,
}

impl fmt::Display for SinkStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} records delivered, {} dropped (queue full), {} lost",
            self.kind,
            self.target,
            thousands(self.delivered),
            thousands(self.overflow),
            thousands(self.lost)
        )?;
        if self.resent > 0 {
            write!(f, ", {} sent again", thousands(self.resent))?;
        }
        if self.reconnects > 0 {
            write!(f, ", {} reconnections", thousands(self.reconnects))?;
        }
        if let Some(e) = &self.last_error {
            write!(f, " (last error: {e})")?;
        }
        Ok(())
    }
}
