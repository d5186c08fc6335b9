//! TLS handshakes: the messages of one direction of a TCP connection, and
//! the two hellos that name and fingerprint the connection.
//!
//! [`HandshakeReader`] takes the in-order byte stream of one direction (the
//! caller reassembles TCP; chunks may be of any size, one byte included) and
//! yields whole handshake messages. It reads the record layer (RFC 8446
//! §5.1), joins a message split over several records or chunks, splits
//! several messages out of one record, and skips ChangeCipherSpec, alert,
//! application-data and heartbeat records. It decides early: a stream whose
//! first byte cannot start a TLS record is refused after that byte
//! ([`Feed::NotTls`]); the first record header must have content type
//! 20–24, major version 3 and a length of at most [`MAX_RECORD_LEN`]. An
//! SSLv2-compatible ClientHello (RFC 5246 Appendix E.2: first byte with the
//! high bit set, message type 1) is recognised after five bytes and reported
//! as [`Feed::Sslv2ClientHello`], not parsed. It buffers at most `cap` bytes
//! of handshake data ([`DEFAULT_CAP`], 64 KiB, by default) and gives up past
//! that ([`Feed::Overflow`]). Every refusal is final for the stream.
//!
//! [`parse_client_hello`] and [`parse_server_hello`] read a handshake message
//! body (what follows the 4-byte handshake header) through bounds-checked
//! cursors. They do not assume TCP: a QUIC classifier hands them the
//! ClientHello from CRYPTO frames (see [`frame_handshake`] for the 4-byte
//! header). A [`ClientHello`] gives the server name (normalized), ALPN,
//! versions, groups, key shares, ECH, and the JA3 and JA4 fingerprints; a
//! [`ServerHello`] the version, cipher suite and group chosen, and whether
//! it is a HelloRetryRequest. Content that breaks inside one extension does
//! not fail the hello: the error is kept in `extension_errors` and the rest
//! is read; a length that breaks the message's own framing is an error.
//!
//! Out of scope: DTLS (another record header, a cookie in its ClientHello);
//! SSLv2 hellos beyond detection; anything encrypted. TLS 1.3 encrypts every
//! message after the ServerHello (they travel as application-data records and
//! are skipped); TLS 1.2 encrypts the Finished message after
//! ChangeCipherSpec inside a handshake record, which the reader cannot tell
//! from plaintext: read the hellos and stop. Nothing here panics, whatever
//! the input.

use sha2::Digest as _;

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{Clue, Evidence, Fact};
use super::summary::{HelloSummary, ServerSummary};
use super::AppProto;
use crate::bytes::{Cursor, ReadError};
use crate::flow::{TO_CLIENT, TO_SERVER};

mod dissector;
mod ech;
mod fingerprint;
mod hello;
mod record;
mod server;
pub mod shapes;
#[cfg(test)]
mod tests;

pub use dissector::*;
pub use ech::*;
pub use fingerprint::*;
pub use hello::*;
pub use record::*;
pub use server::*;

/// Largest record payload allowed: 2^14 bytes of plaintext plus 2048 of
/// expansion (RFC 5246 §6.2.3, the TLSCiphertext bound).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// Handshake bytes a [`HandshakeReader`] buffers by default before it gives
/// up. A ClientHello with a post-quantum key share is about 2 KB; a
/// certificate chain can exceed this, but the hellos come first.
pub const DEFAULT_CAP: usize = 64 * 1024;

/// A record's content type (RFC 8446 §5.1). Unknown values survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentType(pub u8);

impl ContentType {
    pub const CHANGE_CIPHER_SPEC: Self = Self(20);
    pub const ALERT: Self = Self(21);
    pub const HANDSHAKE: Self = Self(22);
    pub const APPLICATION_DATA: Self = Self(23);
    pub const HEARTBEAT: Self = Self(24);
}

/// A handshake message type (RFC 8446 §4, RFC 5246 §7.4). Unknown values
/// survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    pub const HELLO_REQUEST: Self = Self(0);
    pub const CLIENT_HELLO: Self = Self(1);
    pub const SERVER_HELLO: Self = Self(2);
    pub const NEW_SESSION_TICKET: Self = Self(4);
    pub const END_OF_EARLY_DATA: Self = Self(5);
    pub const ENCRYPTED_EXTENSIONS: Self = Self(8);
    pub const CERTIFICATE: Self = Self(11);
    pub const SERVER_KEY_EXCHANGE: Self = Self(12);
    pub const CERTIFICATE_REQUEST: Self = Self(13);
    pub const SERVER_HELLO_DONE: Self = Self(14);
    pub const CERTIFICATE_VERIFY: Self = Self(15);
    pub const CLIENT_KEY_EXCHANGE: Self = Self(16);
    pub const FINISHED: Self = Self(20);
    pub const KEY_UPDATE: Self = Self(24);
}

/// A hello extension type (IANA "TLS ExtensionType Values"). The hellos keep
/// extension types as plain `u16` in wire order; these name the ones read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionType(pub u16);

impl ExtensionType {
    pub const SERVER_NAME: Self = Self(0x0000);
    pub const SUPPORTED_GROUPS: Self = Self(0x000a);
    pub const EC_POINT_FORMATS: Self = Self(0x000b);
    pub const SIGNATURE_ALGORITHMS: Self = Self(0x000d);
    pub const ALPN: Self = Self(0x0010);
    pub const SUPPORTED_VERSIONS: Self = Self(0x002b);
    pub const KEY_SHARE: Self = Self(0x0033);
    /// RFC 9001 §8.2.
    pub const QUIC_TRANSPORT_PARAMETERS: Self = Self(0x0039);
    /// The codepoint of the QUIC drafts, before RFC 9001 moved it to 0x0039.
    pub const QUIC_TRANSPORT_PARAMETERS_DRAFT: Self = Self(0xffa5);
    /// draft-ietf-tls-esni (ECH).
    pub const ENCRYPTED_CLIENT_HELLO: Self = Self(0xfe0d);
}

/// Is `v` one of the sixteen GREASE values of RFC 8701 (0x0a0a, 0x1a1a, …,
/// 0xfafa), used for cipher suites, extensions, groups, versions and
/// signature algorithms alike?
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// What went wrong, and where. Offsets in a hello are from the start of the
/// message body; offsets in a stream are from the stream's first byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A field, or a length, runs past the end of what encloses it.
    #[error("TLS {what} at offset {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A value the protocol does not allow there.
    #[error("TLS {what} at offset {offset}: {reason}")]
    Invalid {
        what: &'static str,
        offset: usize,
        reason: &'static str,
    },
    /// Bytes left over after the last field of a structure.
    #[error("TLS {what} at offset {offset}: {extra} bytes after its end")]
    Trailing {
        what: &'static str,
        offset: usize,
        extra: usize,
    },
    /// The stream does not start with a TLS record.
    #[error("not TLS: byte 0x{byte:02x} at stream offset {offset}: {reason}")]
    NotTls {
        offset: u64,
        byte: u8,
        reason: &'static str,
    },
    /// A record header after the first is not valid.
    #[error("bad TLS record header at stream offset {offset}: {reason}")]
    BadRecord { offset: u64, reason: &'static str },
    /// The stream starts with an SSLv2-compatible ClientHello.
    #[error("SSLv2-format ClientHello offering version 0x{version:04x} (not parsed)")]
    Sslv2ClientHello { version: u16 },
    /// More handshake data than the reader's cap.
    #[error("TLS handshake data needs {needed} bytes buffered, over the cap of {cap}")]
    Overflow { needed: usize, cap: usize },
}

impl From<ReadError> for TlsError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated {
                what,
                offset,
                needed,
                available,
            } => TlsError::Truncated {
                what,
                offset,
                needed,
                available,
            },
            ReadError::Trailing {
                what,
                offset,
                extra,
            } => TlsError::Trailing {
                what,
                offset,
                extra,
            },
            ReadError::OddLength { what, offset } => TlsError::Invalid {
                what,
                offset,
                reason: "odd length for a list of 16-bit values",
            },
        }
    }
}
