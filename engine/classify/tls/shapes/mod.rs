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

use std::fmt;

use super::super::dissector::{Confidence, Findings};
use super::super::facts::{self, Evidence, Fact};
use super::super::obfuscation::{Class, Obfuscation, Suspect};
use super::super::summary::{HelloSummary, ServerSummary};
use super::super::vpn::Value;
use super::ContentType;
use crate::capture::Timestamp;
use crate::flow::TO_SERVER;

mod borrowed;
pub mod handshake;
mod tunnel;
pub mod view;
mod websocket;

pub use borrowed::shadowtls_v3;
pub use tunnel::tls_in_tls;
pub use websocket::websocket_in_tls;

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

/// Changes of direction among the application-data records after which
/// no analyzer reads further: the TLS 1.3 server flight and client
/// Finished (2), a WebSocket upgrade and its answer (2), and the bursts
/// the tunnel analyzer looks at.
pub const LOG_TURNS: usize = tunnel::MAX_BURSTS + 4;

/// The hellos of a flow and the records that followed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub hello: LoggedHello,
    pub server: Option<ServerSummary>,
    pub records: Vec<Record>,
    /// Changes of direction among the application-data records so far.
    turns: usize,
    /// The handshake went to its server name's profile
    /// ([`handshake::of`]).
    pub handshake_taken: bool,
}

/// What the analyzers read of the ClientHello (the log holds this, not a
/// copy of the whole summary with its fingerprints and lists).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoggedHello {
    /// Server name, lowercase, no trailing dot.
    pub sni: Option<String>,
    /// The client offered ALPN.
    pub alpn: bool,
    /// The client offered a pre-shared key (pre_shared_key): the server
    /// may resume the session instead of proving itself again.
    pub resumes: bool,
    /// The client allowed session tickets (psk_key_exchange_modes).
    pub tickets: bool,
    /// The client offered certificate compression (compress_certificate).
    pub compress: bool,
}

impl Log {
    pub fn new(hello: &HelloSummary) -> Self {
        Log {
            hello: LoggedHello {
                sni: hello.sni.clone(),
                alpn: !hello.alpn.is_empty(),
                resumes: false,
                tickets: false,
                compress: false,
            },
            server: None,
            records: Vec::with_capacity(LOG_RECORDS),
            turns: 0,
            handshake_taken: false,
        }
    }

    /// Nothing more to log: [`LOG_RECORDS`] records, or [`LOG_TURNS`]
    /// changes of direction (a flow whose records go to and fro in small
    /// exchanges is given up as early).
    pub fn is_full(&self) -> bool {
        self.records.len() >= LOG_RECORDS || self.turns >= LOG_TURNS
    }

    /// Takes a record header in, while there is room.
    pub fn push(&mut self, r: Record) {
        if self.is_full() {
            return;
        }
        if r.content_type == ContentType::APPLICATION_DATA {
            let last = self
                .records
                .iter()
                .rev()
                .find(|p| p.content_type == ContentType::APPLICATION_DATA);
            if last.is_some_and(|p| p.side != r.side) {
                self.turns += 1;
            }
        }
        self.records.push(r);
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
    shadowtls_v3,
    websocket_in_tls,
    tls_in_tls,
];

/// Does any analyzer want the records of a flow with this ClientHello?
pub fn wanted(_hello: &HelloSummary) -> bool {
    !ANALYZERS.is_empty()
}

/// What a shape analyzer saw in a record or a burst of records (EVE
/// `obfuscation.evidence[].what`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A burst of `records` application records of one side, carrying
    /// `plain` bytes (the largest record `largest`), that plays `role`.
    Burst {
        side: usize,
        records: usize,
        plain: usize,
        largest: usize,
        role: &'static str,
    },
    /// The server's last TLS 1.3 handshake record (its Finished) is longer
    /// than the client's Finished record.
    FinishedOffset { server: usize, client: usize },
    /// The server's encrypted handshake flight (`flight` bytes) is unlike
    /// every one of `sessions` earlier sessions to the same name
    /// (`low`..=`high` bytes).
    FlightAgainstName {
        flight: usize,
        low: usize,
        high: usize,
        sessions: u32,
    },
    /// The server's first record after the handshake (`first` bytes) is not
    /// the session ticket every one of `sessions` earlier sessions to the
    /// same name began with (`low`..=`high` bytes).
    NoTicket {
        first: usize,
        low: usize,
        high: usize,
        sessions: u32,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Burst {
                side,
                records,
                plain,
                largest,
                role,
            } => write!(
                f,
                "{} burst of {records} TLS application record(s) carrying {plain} bytes (largest {largest}) after the outer handshake, the shape of {role}",
                if *side == TO_SERVER { "client" } else { "server" }
            ),
            Clue::FinishedOffset { server, client } => write!(
                f,
                "server's TLS 1.3 Finished record is {server} bytes, the client's {client}: {} bytes more than the hash allows",
                server.saturating_sub(*client)
            ),
            Clue::FlightAgainstName {
                flight,
                low,
                high,
                sessions,
            } => write!(
                f,
                "server's TLS 1.3 handshake flight is {flight} bytes; {sessions} earlier session(s) to the same name from other addresses sent {low}-{high}"
            ),
            Clue::NoTicket {
                first,
                low,
                high,
                sessions,
            } => write!(
                f,
                "server's first record after the handshake is {first} bytes, not the session ticket of {low}-{high} bytes that {sessions} earlier session(s) to the same name began with"
            ),
        }
    }
}

/// The findings of one analyzer: an [`Obfuscation`] on the flow.
pub(crate) fn suspicion(
    class: Class,
    suspects: Vec<Suspect>,
    confidence: Confidence,
    features: Vec<(&'static str, Value)>,
    evidence: Vec<(u64, Clue)>,
) -> Findings {
    let evidence = evidence
        .into_iter()
        .map(|(packet, c)| Evidence {
            packet,
            what: facts::Clue::Shape(c),
        })
        .collect();
    Findings {
        facts: vec![Fact::Obfuscation(Box::new(Obfuscation {
            class,
            suspects,
            confidence,
            features,
            evidence,
        }))],
        ..Findings::default()
    }
}

/// What the analyzers find in `log`, and its handshake for the profile
/// of its server name ([`handshake::of`]).
pub fn analyze(log: &Log) -> Findings {
    let mut found = Findings::default();
    for analyzer in ANALYZERS {
        if let Some(f) = analyzer(log) {
            found.extend(f);
        }
    }
    if !log.handshake_taken {
        if let Some(h) = handshake::of(log) {
            found.facts.push(Fact::Handshake(Box::new(h)));
        }
    }
    found
}

/// The log's handshake, once the server's first record after it is in
/// (taken once; a flow that stops before that gives it at [`analyze`]).
pub fn take_handshake(log: &mut Log) -> Option<handshake::Handshake> {
    if log.handshake_taken || log.records.last().is_none_or(|r| r.side == TO_SERVER) {
        return None;
    }
    let h = handshake::of(log).filter(|h| h.first_after.is_some())?;
    log.handshake_taken = true;
    Some(h)
}

#[cfg(test)]
mod tests;
