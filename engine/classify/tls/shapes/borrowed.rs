//! Borrowed handshakes: ShadowTLS v3. The client's ClientHello goes to a
//! real TLS server (the "handshake server", any popular site) through the
//! ShadowTLS server, which relays the server's flight but appends a 4-byte
//! HMAC to every application-data record it forwards from then on — the
//! server's encrypted handshake records included. The client's own
//! records are not touched until its Finished is sent. So the server's
//! last handshake record, its Finished, is 4 bytes longer than TLS allows
//! for the hash the client's Finished shows: 57 against 53 (SHA-256), 73
//! against 69 (SHA-384).
//!
//! No real server sends a Finished record of another size than the
//! client's in a full TLS 1.3 handshake (both carry a MAC of the same
//! hash): a TLS 1.3 record may be padded, but no server we know pads its
//! Finished. Measured: all 6 ShadowTLS v3 flows of captures/camouflage,
//! none of the 733 TLS flows of the nDPI corpus with a ServerHello, none
//! of the direct captures.

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::obfuscation::{Class, Suspect};
use super::super::super::vpn::Value;
use super::view::View;
use super::{suspicion, Clue, Log};

/// The ShadowTLS v3 HMAC appended to each relayed record.
pub const HMAC_LEN: usize = 4;
/// A TLS 1.3 Finished record's length (verify data, the 4-byte message
/// header, the inner content type, the 16-byte AEAD tag): SHA-256 and
/// SHA-384 suites.
pub const FINISHED_RECORD: [usize; 2] = [32 + 4 + 1 + 16, 48 + 4 + 1 + 16];

/// The analyzer.
pub fn shadowtls_v3(log: &Log) -> Option<Findings> {
    let view = View::of(log)?;
    let client = view.client_finished?;
    let server = *view.server_flight.last()?;
    if !FINISHED_RECORD.contains(&client.len) || server.len != client.len + HMAC_LEN {
        return None;
    }
    Some(suspicion(
        Class::BorrowedHandshake,
        vec![Suspect::ShadowTls],
        Confidence::Medium,
        vec![
            ("server_finished_record", Value::Number(server.len as u64)),
            ("client_finished_record", Value::Number(client.len as u64)),
            ("offset", Value::Number(HMAC_LEN as u64)),
        ],
        vec![(
            server.packet,
            Clue::FinishedOffset {
                server: server.len,
                client: client.len,
            },
        )],
    ))
}
