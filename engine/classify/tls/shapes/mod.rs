//! What a TLS flow does after its handshake, for the analyzers that read
//! shapes rather than bytes: a tunnel's inner handshake, a VPN's first
//! messages inside TLS, a borrowed handshake.
//!
//! When the ClientHello is in and some analyzer wants the flow
//! ([`wanted`]), the TLS dissector keeps reading record headers of both
//! directions after the hellos — type, length, the packet and its time,
//! never the payload — into a [`Log`] of at most [`LOG_RECORDS`] records.
//! When the log is full, or the flow ends or is given up first, every
//! analyzer of [`ANALYZERS`] looks at it once ([`analyze`]) and what they
//! find joins the flow's facts; then the log is freed. Flows no analyzer
//! wants cost nothing more than before.
//!
//! Adding an analyzer: a module here with a function of type [`Analyzer`]
//! (and, if it only wants some flows, a test in [`wanted`]), and one line in
//! [`ANALYZERS`].

use super::super::dissector::Findings;
use super::super::summary::{HelloSummary, ServerSummary};
use super::ContentType;
use crate::capture::Timestamp;

pub mod openconnect;
pub mod softether;
pub mod sstp;
pub mod tor;

/// Records kept after the hellos, both directions together.
pub const LOG_RECORDS: usize = 32;

/// One record header seen after the ClientHello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// `TO_SERVER` or `TO_CLIENT`.
    pub side: usize,
    pub content_type: ContentType,
    /// The record's payload length (after the 5-byte header).
    pub len: usize,
    /// Input position and capture time of the packet that completed the
    /// header.
    pub packet: u64,
    pub ts: Timestamp,
}

/// The hellos of a flow and the records that followed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub hello: HelloSummary,
    pub server: Option<ServerSummary>,
    pub records: Vec<Record>,
}

impl Log {
    pub fn new(hello: HelloSummary) -> Self {
        Log {
            hello,
            server: None,
            records: Vec::with_capacity(LOG_RECORDS),
        }
    }

    pub fn is_full(&self) -> bool {
        self.records.len() >= LOG_RECORDS
    }

    /// Takes a record header in, while there is room.
    pub fn push(&mut self, r: Record) {
        if !self.is_full() {
            self.records.push(r);
        }
    }
}

/// An analyzer: what the log shows, if anything.
pub type Analyzer = fn(&Log) -> Option<Findings>;

/// Every analyzer, in the order they are asked.
pub const ANALYZERS: &[Analyzer] = &[
    // Tor's link handshake: random host, no ALPN, 514-byte cells.
    tor::analyze,
    // SSTP: request, reply, 14-byte Call-Connect-Request, 48-byte ack.
    sstp::analyze,
    // SoftEther: SNI an IPv4 address, GET / 403 / watermark POST sizes.
    softether::analyze,
    // OpenConnect's CSTP channel: auth POSTs and CONNECT sizes.
    openconnect::analyze,
];

/// Does any analyzer want the records of a flow with this ClientHello?
pub fn wanted(_hello: &HelloSummary) -> bool {
    !ANALYZERS.is_empty()
}

/// What the analyzers find in `log`.
pub fn analyze(log: &Log) -> Findings {
    let mut found = Findings::default();
    for analyzer in ANALYZERS {
        if let Some(f) = analyzer(log) {
            found.extend(f);
        }
    }
    found
}
