//! The application records of a logged flow, as the analyzers read them:
//! the outer handshake left out, each record's length turned into the
//! length of what it carries, and consecutive records of one side joined
//! into bursts.

use super::{Log, Record};
use crate::classify::tls::ContentType;
use crate::flow::TO_SERVER;

/// One application-data record after the outer handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppRecord {
    pub side: usize,
    /// The record length field.
    pub wire: usize,
    /// What it carries: `wire` less the cipher's overhead (never below 0).
    pub plain: usize,
    pub packet: u64,
}

/// Consecutive application records of one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Burst {
    pub side: usize,
    /// The plaintext bytes of its records.
    pub plain: usize,
    pub records: usize,
    /// What its first, its last and its largest record carry.
    pub first: usize,
    pub last: usize,
    pub largest: usize,
    /// The packet of its first record.
    pub packet: u64,
}

/// What the outer handshake was and what followed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The version the server chose.
    pub version: u16,
    pub cipher: u16,
    /// TLS 1.3: the server's encrypted handshake records (type 23 before
    /// the client's Finished), and the client's Finished.
    pub server_flight: Vec<Record>,
    pub client_finished: Option<Record>,
    pub records: Vec<AppRecord>,
}

/// Bytes a record of this cipher adds to what it carries, and how many
/// more it may add (CBC padding).
pub fn overhead(version: u16, cipher: u16) -> (usize, usize) {
    if is_tls13(version) {
        // AEAD tag and the inner content type.
        return (17, 0);
    }
    match cipher {
        // ChaCha20-Poly1305: the tag only.
        0xcca8..=0xccae => (16, 0),
        // AES-GCM and AES-CCM: 8-byte explicit nonce and a 16-byte tag.
        0x009c..=0x00a7 | 0xc02b..=0xc032 | 0xc09c..=0xc0af => (24, 0),
        // CBC with HMAC-SHA1 (the usual rest): 16-byte IV, 20-byte MAC, 1
        // to 16 bytes of padding.
        _ => (37, 15),
    }
}

/// The record overheads to try on `log`'s records: the negotiated
/// cipher's ([`overhead`]) when the ServerHello was seen, TLS 1.3's and
/// AES-GCM's when not; none for CBC, whose padding leaves a record's
/// content length uncertain.
pub fn overheads(log: &Log) -> &'static [usize] {
    let Some(s) = &log.server else {
        return &[17, 24];
    };
    match overhead(s.version, s.cipher) {
        (17, 0) => &[17],
        (16, 0) => &[16],
        (24, 0) => &[24],
        _ => &[],
    }
}

/// `log`'s application-data records, in order.
pub fn application_data(log: &Log) -> Vec<&Record> {
    log.records
        .iter()
        .filter(|r| r.content_type == ContentType::APPLICATION_DATA)
        .collect()
}

/// The client's records among `data`, each with its index there; with
/// TLS 1.3's overhead the first (the client's Finished) is left out.
pub fn client_records<'r>(data: &[&'r Record], overhead: usize) -> Vec<(usize, &'r Record)> {
    data.iter()
        .enumerate()
        .filter(|(_, r)| r.side == TO_SERVER)
        .skip(usize::from(overhead == 17))
        .map(|(i, r)| (i, *r))
        .collect()
}

/// TLS 1.3, its drafts (0x7fxx) and Facebook's (0xfbxx): the rest of the
/// handshake is encrypted into application-data records.
pub fn is_tls13(version: u16) -> bool {
    version == 0x0304 || matches!(version >> 8, 0x7f | 0xfb)
}

impl View {
    /// The view of `log`, once the server's hello is known.
    pub fn of(log: &Log) -> Option<View> {
        let server = log.server.as_ref()?;
        if server.hello_retry_request {
            return None;
        }
        let (version, cipher) = (server.version, server.cipher);
        let (over, _) = overhead(version, cipher);
        let tls13 = is_tls13(version);
        let mut view = View {
            version,
            cipher,
            server_flight: Vec::new(),
            client_finished: None,
            // At most the log's records: one allocation, no growth.
            records: Vec::with_capacity(log.records.len()),
        };
        for r in &log.records {
            if r.content_type != ContentType::APPLICATION_DATA {
                continue;
            }
            if tls13 && view.client_finished.is_none() {
                if r.side == TO_SERVER {
                    view.client_finished = Some(*r);
                } else {
                    view.server_flight.push(*r);
                }
                continue;
            }
            view.records.push(AppRecord {
                side: r.side,
                wire: r.len,
                plain: r.len.saturating_sub(over),
                packet: r.packet,
            });
        }
        Some(view)
    }

    /// The application records joined into bursts, at most `max`.
    pub fn bursts(&self, max: usize) -> Vec<Burst> {
        let mut out: Vec<Burst> = Vec::with_capacity(max);
        for r in &self.records {
            match out.last_mut() {
                Some(b) if b.side == r.side => {
                    b.plain += r.plain;
                    b.records += 1;
                    b.last = r.plain;
                    b.largest = b.largest.max(r.plain);
                }
                _ => {
                    if out.len() == max {
                        break;
                    }
                    out.push(Burst {
                        side: r.side,
                        plain: r.plain,
                        records: 1,
                        first: r.plain,
                        last: r.plain,
                        largest: r.plain,
                        packet: r.packet,
                    });
                }
            }
        }
        out
    }
}
