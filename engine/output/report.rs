//! What a run counted, for the summary: each worker's counters (summed
//! over workers), how each input file ended, and the run's totals.

use std::collections::BTreeMap;

use std::time::Duration;

use crate::capture::{CaptureError, LinkType, Timestamp};
use crate::decode::defrag::DefragStats;
use crate::flow::budget::MemoryPlan;

/// What a worker counted. Every packet of the input is counted by exactly
/// one worker, so summing workers gives the input's totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Captured shorter than on the wire (snaplen).
    pub truncated: u64,
    /// Frames of link types sift does not decode, by type.
    pub unknown_link: BTreeMap<LinkType, u64>,
    /// Frames that carry no IP (ARP, LLDP, STP, ...).
    pub not_ip: u64,
    /// Headers that are wrong or cut before the fields sift needs.
    pub malformed: u64,
    /// Fragments found inside tunnels (not reassembled).
    pub inner_fragments: u64,
    pub flows: u64,
    pub evicted: u64,
    pub defrag: DefragStats,
    /// Out-of-order TCP segments (and their bytes) reassembly could not
    /// buffer, its caps reached.
    pub reassembly_refused_segments: u64,
    pub reassembly_refused_bytes: u64,
    /// Facts flows left for later flows between the same hosts, dropped
    /// to stay within the links' bounds ([`crate::classify::links`]).
    pub links_dropped: u64,
    /// Server names whose TLS profiles were forgotten to stay within
    /// their bound ([`crate::classify::server_names`]).
    pub server_names_forgotten: u64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(o.last_ts);
        self.truncated += o.truncated;
        for (k, v) in &o.unknown_link {
            *self.unknown_link.entry(*k).or_default() += v;
        }
        self.not_ip += o.not_ip;
        self.malformed += o.malformed;
        self.inner_fragments += o.inner_fragments;
        self.flows += o.flows;
        self.evicted += o.evicted;
        self.reassembly_refused_segments += o.reassembly_refused_segments;
        self.reassembly_refused_bytes += o.reassembly_refused_bytes;
        self.links_dropped += o.links_dropped;
        self.server_names_forgotten += o.server_names_forgotten;
        let (d, e) = (&mut self.defrag, &o.defrag);
        d.fragments += e.fragments;
        d.reassembled += e.reassembled;
        d.dropped += e.dropped;
        d.timed_out += e.timed_out;
        d.evicted += e.evicted;
        d.overlaps += e.overlaps;
        d.malformed += e.malformed;
    }

    #[inline]
    pub fn saw_packet(&mut self, ts: Timestamp, wire_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(wire_len);
        if self.first_ts.is_none_or(|f| ts < f) {
            self.first_ts = Some(ts);
        }
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }
}

/// How one input file ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEnd {
    pub file: usize,
    /// Packets read from this file.
    pub packets: u64,
    /// Lowest and highest packet timestamps of this file.
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
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
    /// The files were read as one capture (`--merge`).
    pub merged: bool,
    /// Rules loaded, when the run had a rule set.
    pub rules: Option<usize>,
    /// How the memory limit was shared out.
    pub memory: Option<MemoryPlan>,
    /// Times a worker analyzing several files at once waited for the
    /// writer, its file's queue of events full
    /// ([`crate::pipeline::files::QUEUE_CAP`]).
    pub output_waits: u64,
}
