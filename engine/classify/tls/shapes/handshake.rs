//! A TLS 1.3 session's handshake in the terms another session to the same
//! name can be held against ([`crate::classify::server_names`]): how much
//! the server sent before the client's Finished, and the first record it
//! sent after — a server that gives session tickets sends them there, one
//! or two records of one length per server configuration.
//!
//! Only full handshakes: a client offering a pre-shared key may be
//! resumed, and a resumed server sends no certificate (a small flight that
//! says nothing about the server).

use super::Log;
use crate::classify::tls::ContentType;
use crate::flow::{TO_CLIENT, TO_SERVER};

/// What a finished TLS 1.3 handshake showed of its server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The server name the client asked for.
    pub name: String,
    /// Wire length of the server's encrypted handshake records (before the
    /// client's Finished), all together.
    pub flight: usize,
    /// Packet of the server's first encrypted handshake record.
    pub flight_packet: u64,
    /// Wire length and packet of the server's first application record
    /// after the client's Finished, when the log has one.
    pub first_after: Option<(usize, u64)>,
    /// The client allowed session tickets (psk_key_exchange_modes): a
    /// server may send none to a client that did not.
    pub tickets: bool,
    /// The client offered certificate compression (compress_certificate):
    /// a server may send it a compressed, smaller chain.
    pub compressed: bool,
}

/// The handshake `log` shows, when it is a full TLS 1.3 one with a server
/// name that was seen to its client Finished (and, if the log has it, the
/// server's first record after). Reads the log in place: it is asked after
/// each server record until the answer is complete.
pub fn of(log: &Log) -> Option<Handshake> {
    let name = log.hello.sni.as_ref()?;
    let server = log.server.as_ref()?;
    if log.hello.resumes || server.hello_retry_request || server.version != 0x0304 {
        return None;
    }
    let mut data = log
        .records
        .iter()
        .filter(|r| r.content_type == ContentType::APPLICATION_DATA);
    let (mut flight, mut flight_packet) = (0, None);
    let mut finished = false;
    for r in data.by_ref() {
        if r.side == TO_SERVER {
            finished = true;
            break;
        }
        flight += r.len;
        flight_packet.get_or_insert(r.packet);
    }
    if !finished {
        return None;
    }
    Some(Handshake {
        name: name.clone(),
        flight,
        flight_packet: flight_packet?,
        first_after: data
            .find(|r| r.side == TO_CLIENT)
            .map(|r| (r.len, r.packet)),
        tickets: log.hello.tickets,
        compressed: log.hello.compress,
    })
}
