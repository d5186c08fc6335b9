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

use std::fmt::Write as _;

use sha2::Digest as _;

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{Clue, Evidence, Fact};
use super::summary::{HelloSummary, ServerSummary};
use super::AppProto;
use crate::bytes::{Cursor, ReadError};
use crate::flow::{TO_CLIENT, TO_SERVER};

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

// ---------------------------------------------------------------------------
// Handshake framing and the stream reader
// ---------------------------------------------------------------------------

/// One handshake message: its type and its body (after the 4-byte header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeMessage<'a> {
    pub msg_type: HandshakeType,
    pub body: &'a [u8],
}

/// The handshake message at the start of a buffer, if it is all there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A whole message; `len` is the bytes it takes (4 + body length).
    Message {
        msg: HandshakeMessage<'a>,
        len: usize,
    },
    /// Only part of it: `needed` is the whole message's size once the
    /// header is there, else 4.
    NeedMore { needed: usize },
}

/// Splits the handshake message at the start of `buf` (type: 1 byte, body
/// length: 3 bytes, body; RFC 8446 §4). The same framing is used in TLS
/// records and in QUIC CRYPTO streams.
pub fn frame_handshake(buf: &[u8]) -> Framed<'_> {
    let Some(&[ty, l0, l1, l2]) = buf.get(..4) else {
        return Framed::NeedMore { needed: 4 };
    };
    let body_len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    let len = 4 + body_len;
    match buf.get(4..len) {
        Some(body) => Framed::Message {
            msg: HandshakeMessage {
                msg_type: HandshakeType(ty),
                body,
            },
            len,
        },
        None => Framed::NeedMore { needed: len },
    }
}

/// What a [`HandshakeReader`] says after a chunk. `NotTls`,
/// `Sslv2ClientHello`, `Malformed` and `Overflow` are final: later chunks
/// are ignored and return the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// No whole message waits; more bytes are needed.
    NeedMore,
    /// At least one whole message waits in [`HandshakeReader::next_message`].
    Ready,
    /// The stream does not start with a TLS record.
    NotTls,
    /// The stream starts with an SSLv2-compatible ClientHello.
    Sslv2ClientHello,
    /// It started as TLS, but a later record header is invalid.
    Malformed,
    /// More handshake data than the cap.
    Overflow,
}

impl Feed {
    /// Will the reader ignore all further input?
    pub fn is_final(self) -> bool {
        !matches!(self, Feed::NeedMore | Feed::Ready)
    }
}

const RECORD_HEADER_LEN: usize = 5;

/// Reads the handshake messages out of one direction of a TLS-over-TCP
/// stream. Feed it bytes in order with [`push`](Self::push) and take the
/// whole messages with [`next_message`](Self::next_message) after every
/// push, whatever the push returned: messages completed before a final
/// verdict stay readable.
///
/// Memory: one buffer of handshake bytes, at most `cap` long, holding only
/// messages not yet taken (plus the one being assembled). Records of other
/// types are skipped without copying.
#[derive(Clone, Debug)]
pub struct HandshakeReader {
    cap: usize,
    /// Stream bytes consumed so far.
    consumed: u64,
    /// Whole record headers read so far.
    records: u64,
    /// The record header being assembled, and how much of it is there.
    header: [u8; RECORD_HEADER_LEN],
    header_len: usize,
    /// The current record's type and the payload bytes still to come;
    /// `in_record` is false between records.
    record_type: ContentType,
    record_left: usize,
    in_record: bool,
    /// Handshake bytes, from the first message not yet taken.
    hs: Vec<u8>,
    /// Start of the next message to hand out.
    hs_pos: usize,
    /// End of the last whole message found in `hs`.
    complete_end: usize,
    verdict: Option<Feed>,
    reason: Option<TlsError>,
}

impl Default for HandshakeReader {
    fn default() -> Self {
        Self::new()
    }
}

impl HandshakeReader {
    /// A reader with the [`DEFAULT_CAP`].
    pub fn new() -> Self {
        Self::with_cap(DEFAULT_CAP)
    }

    /// A reader that buffers at most `cap` bytes of handshake data.
    pub fn with_cap(cap: usize) -> Self {
        HandshakeReader {
            cap,
            consumed: 0,
            records: 0,
            header: [0; RECORD_HEADER_LEN],
            header_len: 0,
            record_type: ContentType(0),
            record_left: 0,
            in_record: false,
            hs: Vec::new(),
            hs_pos: 0,
            complete_end: 0,
            verdict: None,
            reason: None,
        }
    }

    /// `Some(true)` once the first record header (or an SSLv2-compatible
    /// ClientHello) has been read whole, `Some(false)` once the stream was
    /// refused as [`Feed::NotTls`], `None` before either.
    pub fn is_tls(&self) -> Option<bool> {
        match self.verdict {
            Some(Feed::NotTls) => Some(false),
            Some(Feed::Sslv2ClientHello) => Some(true),
            _ if self.records > 0 => Some(true),
            _ => None,
        }
    }

    /// Why the reader stopped (with the stream offset, or the SSLv2 hello's
    /// version), once a final [`Feed`] was returned.
    pub fn stop_reason(&self) -> Option<&TlsError> {
        self.reason.as_ref()
    }

    /// Whole, valid record headers read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Stream bytes consumed so far.
    pub fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// Handshake bytes held: messages not yet taken and the one being
    /// assembled.
    pub fn buffered(&self) -> usize {
        self.hs.len().saturating_sub(self.hs_pos)
    }

    /// Feeds the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) -> Feed {
        if let Some(verdict) = self.verdict {
            return verdict;
        }
        self.compact();
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.in_record {
                let n = self.record_left.min(rest.len());
                let (payload, tail) = rest.split_at(n);
                rest = tail;
                if self.record_type == ContentType::HANDSHAKE {
                    if let Err(e) = self.append(payload) {
                        return self.stop(Feed::Overflow, e);
                    }
                }
                self.consumed += n as u64;
                self.record_left -= n;
                self.in_record = self.record_left > 0;
            } else {
                let have = self.header_len;
                let n = (RECORD_HEADER_LEN - have).min(rest.len());
                let (part, tail) = rest.split_at(n);
                rest = tail;
                if let Some(dst) = self.header.get_mut(have..have + n) {
                    dst.copy_from_slice(part);
                }
                self.header_len += n;
                self.consumed += n as u64;
                if let Err((verdict, e)) = self.check_header() {
                    return self.stop(verdict, e);
                }
                if self.header_len == RECORD_HEADER_LEN {
                    let [ty, _, _, l0, l1] = self.header;
                    self.records += 1;
                    self.header_len = 0;
                    self.record_type = ContentType(ty);
                    self.record_left = usize::from(u16::from_be_bytes([l0, l1]));
                    self.in_record = self.record_left > 0;
                }
            }
        }
        if self.complete_end > self.hs_pos {
            Feed::Ready
        } else {
            Feed::NeedMore
        }
    }

    /// The next whole handshake message, in stream order.
    pub fn next_message(&mut self) -> Option<HandshakeMessage<'_>> {
        let start = self.hs_pos;
        match frame_handshake(self.hs.get(start..self.complete_end)?) {
            Framed::Message { msg, len } => {
                self.hs_pos = start + len;
                Some(msg)
            }
            Framed::NeedMore { .. } => None,
        }
    }

    fn stop(&mut self, verdict: Feed, reason: TlsError) -> Feed {
        self.verdict = Some(verdict);
        self.reason = Some(reason);
        verdict
    }

    /// Drops the messages already handed out.
    fn compact(&mut self) {
        if self.hs_pos == 0 {
            return;
        }
        if self.hs_pos >= self.hs.len() {
            self.hs.clear();
        } else {
            self.hs.drain(..self.hs_pos);
        }
        self.complete_end = self.complete_end.saturating_sub(self.hs_pos);
        self.hs_pos = 0;
    }

    /// Appends handshake payload and moves `complete_end` over every
    /// message now whole.
    fn append(&mut self, payload: &[u8]) -> Result<(), TlsError> {
        let needed = self.buffered() + payload.len();
        if needed > self.cap {
            return Err(TlsError::Overflow {
                needed,
                cap: self.cap,
            });
        }
        self.hs.extend_from_slice(payload);
        loop {
            let tail = self.hs.get(self.complete_end..).unwrap_or(&[]);
            match frame_handshake(tail) {
                Framed::Message { len, .. } => self.complete_end += len,
                Framed::NeedMore { needed } => {
                    let needed = needed + (self.complete_end - self.hs_pos);
                    if needed > self.cap {
                        return Err(TlsError::Overflow {
                            needed,
                            cap: self.cap,
                        });
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Checks the record header bytes read so far, as soon as each arrives.
    fn check_header(&self) -> Result<(), (Feed, TlsError)> {
        let h = self.header.get(..self.header_len).unwrap_or(&[]);
        let start = self.consumed.saturating_sub(self.header_len as u64);
        let first = self.records == 0;
        let fail = |at: usize, reason: &'static str| {
            let byte = h.get(at).copied().unwrap_or(0);
            if first {
                (
                    Feed::NotTls,
                    TlsError::NotTls {
                        offset: start + at as u64,
                        byte,
                        reason,
                    },
                )
            } else {
                (
                    Feed::Malformed,
                    TlsError::BadRecord {
                        offset: start,
                        reason,
                    },
                )
            }
        };
        let Some(&b0) = h.first() else {
            return Ok(());
        };
        if first && b0 & 0x80 != 0 {
            return check_sslv2(h, start);
        }
        if !(20..=24).contains(&b0) {
            return Err(fail(0, "content type not 20-24"));
        }
        if let Some(&major) = h.get(1) {
            if major != 3 {
                return Err(fail(1, "record version major not 3"));
            }
        }
        if let Some(&[l0, l1]) = h.get(3..5) {
            if usize::from(u16::from_be_bytes([l0, l1])) > MAX_RECORD_LEN {
                return Err(fail(3, "record length over 2^14 + 2048"));
            }
        }
        Ok(())
    }
}

/// The 2-byte-header SSLv2 ClientHello that TLS clients once sent for
/// compatibility (RFC 5246 Appendix E.2): length with the high bit set, then
/// msg_type 1 and the highest version offered (0x0002 for SSL 2.0 itself,
/// 0x03xx for SSL 3.0 and TLS).
fn check_sslv2(h: &[u8], start: u64) -> Result<(), (Feed, TlsError)> {
    let not_tls = |at: usize, reason: &'static str| {
        (
            Feed::NotTls,
            TlsError::NotTls {
                offset: start + at as u64,
                byte: h.get(at).copied().unwrap_or(0),
                reason,
            },
        )
    };
    if let Some(&ty) = h.get(2) {
        if ty != 1 {
            return Err(not_tls(2, "high bit set but not an SSLv2 CLIENT-HELLO"));
        }
    }
    if let Some(&major) = h.get(3) {
        if major != 0 && major != 3 {
            return Err(not_tls(3, "SSLv2 hello with an unknown version"));
        }
    }
    let Some(&[l0, l1, _, major, minor]) = h.get(..5) else {
        return Ok(());
    };
    if major == 0 && minor != 2 {
        return Err(not_tls(4, "SSLv2 hello with an unknown version"));
    }
    // msg_type, version and three 2-byte lengths at the least.
    if u16::from_be_bytes([l0 & 0x7f, l1]) < 9 {
        return Err(not_tls(1, "SSLv2 hello too short"));
    }
    let version = u16::from_be_bytes([major, minor]);
    Err((
        Feed::Sslv2ClientHello,
        TlsError::Sslv2ClientHello { version },
    ))
}

// ---------------------------------------------------------------------------
// ClientHello
// ---------------------------------------------------------------------------

/// The encrypted_client_hello extension (0xfe0d) of a ClientHello.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ech {
    #[default]
    None,
    /// `outer`: an ECHClientHello of type outer (0), the form seen on the
    /// wire; type inner (1) only travels encrypted. `grease_likely`: the
    /// extension has exactly the shape BoringSSL (Chrome, and the uTLS
    /// copies of it) gives GREASE ECH — see [`ClientHello::ech`]. A
    /// heuristic, not a proof.
    Present { outer: bool, grease_likely: bool },
}

/// HPKE identifiers (RFC 9180 §7) that BoringSSL's GREASE ECH uses.
const HPKE_KDF_HKDF_SHA256: u16 = 0x0001;
const HPKE_AEAD_AES_128_GCM: u16 = 0x0001;
const HPKE_AEAD_CHACHA20_POLY1305: u16 = 0x0003;
/// X25519 `enc` length.
const GREASE_ECH_ENC_LEN: usize = 32;
/// 32 × {4, 5, 6, 7} random bytes plus the 16-byte AEAD tag.
const GREASE_ECH_PAYLOAD_LENS: [usize; 4] = [144, 176, 208, 240];

/// A parsed ClientHello (RFC 8446 §4.1.2). Lists keep wire order and GREASE
/// values; the fingerprints drop GREASE themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub cipher_suites: Vec<u16>,
    /// Every extension type, in wire order, duplicates included.
    pub extensions: Vec<u16>,
    /// The first host_name of server_name (0x0000), ASCII-lowercased, one
    /// trailing dot removed. Bytes that are not UTF-8 become U+FFFD.
    pub sni: Option<String>,
    /// The host_name as sent (lossy UTF-8), only when its bytes differ from
    /// `sni` (case, trailing dot, or bytes that are not UTF-8).
    pub sni_raw: Option<String>,
    /// ALPN protocol names (0x0010), lossy UTF-8.
    pub alpn: Vec<String>,
    /// The exact bytes of the first ALPN name (JA4 reads these), empty when
    /// there is none.
    pub alpn_first_raw: Vec<u8>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// The group of each key_share entry (0x0033), in order.
    pub key_share_groups: Vec<u16>,
    /// encrypted_client_hello (0xfe0d). `grease_likely` is set when the
    /// outer ECHClientHello has the shape of BoringSSL's GREASE ECH:
    /// KDF HKDF-SHA256, AEAD AES-128-GCM or ChaCha20-Poly1305, a 32-byte
    /// `enc` (an X25519 key) and a payload of 144, 176, 208 or 240 bytes
    /// (32 × 4..=7 random bytes plus a 16-byte tag); the config_id is random
    /// and tells nothing. Real ECH from the same library to a server whose
    /// ECHConfig uses X25519, HKDF-SHA256 and AES-128-GCM pads its payload
    /// to a multiple of 32 as well, and often lands on these lengths: from
    /// one ClientHello, without the server's ECHConfig (its config_id), the
    /// two cannot be told apart. So `true` means "consistent with GREASE",
    /// `false` means "not BoringSSL's GREASE shape" (real ECH, or another
    /// library's GREASE).
    pub ech: Ech,
    /// quic_transport_parameters is present (0x0039, or the drafts' 0xffa5).
    pub quic_transport_parameters: bool,
    /// Extensions whose content did not parse; the fields they fill are
    /// left empty.
    pub extension_errors: Vec<TlsError>,
}

/// Known extensions whose value is read, for first-occurrence-wins.
const SEEN_SNI: u16 = 1 << 0;
const SEEN_ALPN: u16 = 1 << 1;
const SEEN_VERSIONS: u16 = 1 << 2;
const SEEN_GROUPS: u16 = 1 << 3;
const SEEN_POINT_FORMATS: u16 = 1 << 4;
const SEEN_SIG_ALGS: u16 = 1 << 5;
const SEEN_KEY_SHARE: u16 = 1 << 6;
const SEEN_ECH: u16 = 1 << 7;

/// Parses a ClientHello body (after the 4-byte handshake header), from TLS
/// over TCP or from QUIC CRYPTO frames. The body must be whole: a length
/// that runs past its end is an error. A hello with no extensions at all
/// (SSL 3.0 style) is accepted.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16("ClientHello legacy_version")?;
    c.take(32, "ClientHello random")?;
    c.vec8("ClientHello legacy_session_id")?;
    let suites = c.vec16("ClientHello cipher_suites")?;
    if suites.is_empty() {
        return Err(TlsError::Invalid {
            what: "ClientHello cipher_suites",
            offset: suites.offset(),
            reason: "empty list",
        });
    }
    let cipher_suites = suites.u16_list("ClientHello cipher_suites")?;
    let compression = c.vec8("ClientHello legacy_compression_methods")?;
    if compression.is_empty() {
        return Err(TlsError::Invalid {
            what: "ClientHello legacy_compression_methods",
            offset: compression.offset(),
            reason: "empty list",
        });
    }
    let mut ch = ClientHello {
        legacy_version,
        cipher_suites,
        ..ClientHello::default()
    };
    if c.is_empty() {
        return Ok(ch);
    }
    let mut exts = c.vec16("ClientHello extensions")?;
    c.finish("ClientHello")?;
    let mut seen = 0u16;
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        ch.extensions.push(ty);
        if let Err(e) = ch.read_extension(ExtensionType(ty), data, &mut seen) {
            ch.extension_errors.push(e);
        }
    }
    Ok(ch)
}

/// Is this the first time `bit` is seen? Marks it.
fn first_time(seen: &mut u16, bit: u16) -> bool {
    let first = *seen & bit == 0;
    *seen |= bit;
    first
}

impl ClientHello {
    fn read_extension(
        &mut self,
        ty: ExtensionType,
        mut d: Cursor<'_>,
        seen: &mut u16,
    ) -> Result<(), TlsError> {
        match ty {
            ExtensionType::SERVER_NAME if first_time(seen, SEEN_SNI) => {
                // RFC 6066 §3. Every name type shares the opaque<1..2^16-1>
                // encoding, so unknown ones can be skipped.
                if d.is_empty() {
                    return Ok(());
                }
                let mut list = d.vec16("server_name list")?;
                d.finish("server_name")?;
                let mut host = None;
                while !list.is_empty() {
                    let name_type = list.u8("server_name name_type")?;
                    let mut name = list.vec16("server_name host_name")?;
                    if name_type == 0 && host.is_none() {
                        host = Some(name.rest());
                    }
                }
                if let Some(raw) = host {
                    self.set_sni(raw);
                }
            }
            ExtensionType::ALPN if first_time(seen, SEEN_ALPN) => {
                // RFC 7301 §3.1.
                let mut list = d.vec16("ALPN list")?;
                d.finish("ALPN")?;
                let mut names = Vec::new();
                let mut first_raw = None;
                while !list.is_empty() {
                    let name = list.vec8("ALPN protocol name")?.rest();
                    first_raw.get_or_insert(name);
                    names.push(String::from_utf8_lossy(name).into_owned());
                }
                self.alpn = names;
                self.alpn_first_raw = first_raw.unwrap_or_default().to_vec();
            }
            ExtensionType::SUPPORTED_VERSIONS if first_time(seen, SEEN_VERSIONS) => {
                let list = d.vec8("supported_versions")?;
                d.finish("supported_versions")?;
                self.supported_versions = list.u16_list("supported_versions")?;
            }
            ExtensionType::SUPPORTED_GROUPS if first_time(seen, SEEN_GROUPS) => {
                let list = d.vec16("supported_groups")?;
                d.finish("supported_groups")?;
                self.supported_groups = list.u16_list("supported_groups")?;
            }
            ExtensionType::EC_POINT_FORMATS if first_time(seen, SEEN_POINT_FORMATS) => {
                let mut list = d.vec8("ec_point_formats")?;
                d.finish("ec_point_formats")?;
                self.ec_point_formats = list.rest().to_vec();
            }
            ExtensionType::SIGNATURE_ALGORITHMS if first_time(seen, SEEN_SIG_ALGS) => {
                let list = d.vec16("signature_algorithms")?;
                d.finish("signature_algorithms")?;
                self.signature_algorithms = list.u16_list("signature_algorithms")?;
            }
            ExtensionType::KEY_SHARE if first_time(seen, SEEN_KEY_SHARE) => {
                // RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>.
                let mut list = d.vec16("key_share list")?;
                d.finish("key_share")?;
                let mut groups = Vec::new();
                while !list.is_empty() {
                    groups.push(list.u16("key_share group")?);
                    list.vec16("key_share key_exchange")?;
                }
                self.key_share_groups = groups;
            }
            ExtensionType::ENCRYPTED_CLIENT_HELLO if first_time(seen, SEEN_ECH) => {
                self.ech = read_ech(d)?;
            }
            ExtensionType::QUIC_TRANSPORT_PARAMETERS
            | ExtensionType::QUIC_TRANSPORT_PARAMETERS_DRAFT => {
                self.quic_transport_parameters = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn set_sni(&mut self, raw: &[u8]) {
        let lossy = String::from_utf8_lossy(raw);
        let mut normalized = lossy.to_ascii_lowercase();
        if normalized.ends_with('.') {
            normalized.pop();
        }
        if normalized.as_bytes() != raw {
            self.sni_raw = Some(lossy.into_owned());
        }
        self.sni = Some(normalized);
    }

    /// Was this extension sent (whatever its content)?
    pub fn has_extension(&self, ty: ExtensionType) -> bool {
        self.extensions.contains(&ty.0)
    }

    /// Was a server_name extension sent (whatever its content)?
    pub fn has_sni_extension(&self) -> bool {
        self.has_extension(ExtensionType::SERVER_NAME)
    }

    /// The JA3 string (Salesforce): SSLVersion,Ciphers,Extensions,
    /// EllipticCurves,EllipticCurvePointFormats — decimal values joined by
    /// `-`, GREASE values left out everywhere.
    pub fn ja3_string(&self) -> String {
        let mut s = String::with_capacity(256);
        push_decimal(&mut s, self.legacy_version);
        s.push(',');
        join_decimal(&mut s, self.cipher_suites.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.extensions.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.supported_groups.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.ec_point_formats.iter().map(|&f| u16::from(f)));
        s
    }

    /// MD5 of [`ja3_string`](Self::ja3_string), lowercase hex.
    pub fn ja3_hash(&self) -> String {
        ja3_hash_of(&self.ja3_string())
    }

    /// The JA4 fingerprint (FoxIO JA4 specification), e.g.
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`. `quic` selects the `q`
    /// prefix (the hello came in QUIC CRYPTO frames) over `t`.
    pub fn ja4(&self, quic: bool) -> String {
        let p = self.ja4_parts(quic);
        let b = if p.ciphers.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.ciphers)
        };
        let c = if p.extensions.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.extensions_and_signatures())
        };
        format!("{}_{}_{}", p.a, b, c)
    }

    /// [`ja4`](Self::ja4) and [`ja4_r`](Self::ja4_r) together, sharing the work.
    pub fn ja4_and_raw(&self, quic: bool) -> (String, String) {
        let p = self.ja4_parts(quic);
        let ext_sig = p.extensions_and_signatures();
        let b = if p.ciphers.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.ciphers)
        };
        let c = if p.extensions.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&ext_sig)
        };
        (
            format!("{}_{}_{}", p.a, b, c),
            format!("{}_{}_{}", p.a, p.ciphers, ext_sig),
        )
    }

    /// JA4_r: the same parts before hashing (sorted ciphers; sorted
    /// extensions without SNI and ALPN; signature algorithms in wire order).
    pub fn ja4_r(&self, quic: bool) -> String {
        let p = self.ja4_parts(quic);
        format!("{}_{}_{}", p.a, p.ciphers, p.extensions_and_signatures())
    }

    /// The version JA4 reports: the highest non-GREASE supported_versions
    /// entry when that extension was sent, else legacy_version.
    fn ja4_version(&self) -> u16 {
        if !self.has_extension(ExtensionType::SUPPORTED_VERSIONS) {
            return self.legacy_version;
        }
        self.supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
            .unwrap_or(self.legacy_version)
    }

    fn ja4_parts(&self, quic: bool) -> Ja4Parts {
        let mut ciphers: Vec<u16> = self
            .cipher_suites
            .iter()
            .copied()
            .filter(|&c| !is_grease(c))
            .collect();
        let extensions: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|&e| !is_grease(e))
            .collect();

        let mut a = String::with_capacity(10);
        a.push(if quic { 'q' } else { 't' });
        a.push_str(ja4_version_code(self.ja4_version()));
        a.push(if self.has_sni_extension() { 'd' } else { 'i' });
        let _ = write!(
            a,
            "{:02}{:02}",
            ciphers.len().min(99),
            extensions.len().min(99)
        );
        let [first, last] = ja4_alpn_chars(&self.alpn_first_raw);
        a.push(first);
        a.push(last);

        ciphers.sort_unstable();
        let mut sorted: Vec<u16> = extensions
            .into_iter()
            .filter(|&e| e != ExtensionType::SERVER_NAME.0 && e != ExtensionType::ALPN.0)
            .collect();
        sorted.sort_unstable();
        Ja4Parts {
            a,
            ciphers: join_hex4(ciphers.iter().copied()),
            extensions: join_hex4(sorted.iter().copied()),
            signatures: join_hex4(
                self.signature_algorithms
                    .iter()
                    .copied()
                    .filter(|&s| !is_grease(s)),
            ),
        }
    }
}

/// JA4's hash of an empty list.
const JA4_EMPTY_HASH: &str = "000000000000";

struct Ja4Parts {
    a: String,
    ciphers: String,
    extensions: String,
    signatures: String,
}

impl Ja4Parts {
    /// `extensions_signatures`, or only the extensions when no signature
    /// algorithms were sent (no trailing underscore).
    fn extensions_and_signatures(&self) -> String {
        if self.signatures.is_empty() {
            self.extensions.clone()
        } else {
            format!("{}_{}", self.extensions, self.signatures)
        }
    }
}

fn ja4_version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4's two ALPN characters: the first and last byte of the first ALPN
/// name when both are ASCII alphanumerics; otherwise the first and last
/// characters of that name's hex form; `00` when there is none. A one-byte
/// name gives its character twice.
fn ja4_alpn_chars(name: &[u8]) -> [char; 2] {
    let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
        return ['0', '0'];
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [char::from(first), char::from(last)]
    } else {
        [hex_digit(first >> 4), hex_digit(last & 0x0f)]
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// Non-GREASE values in decimal, joined by `-`.
fn join_decimal(out: &mut String, values: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in values.filter(|&v| !is_grease(v)) {
        if !first {
            out.push('-');
        }
        first = false;
        push_decimal(out, v);
    }
}

/// Appends `v` in decimal (no `fmt` machinery: this runs once per field of
/// every hello).
fn push_decimal(out: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Values as 4-digit lowercase hex, joined by `,`.
fn join_hex4(values: impl Iterator<Item = u16>) -> String {
    let mut out = String::new();
    for v in values {
        if !out.is_empty() {
            out.push(',');
        }
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((v >> shift) & 0xf)]));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The JA3 hash (MD5, lowercase hex) of a JA3 string.
pub fn ja3_hash_of(ja3_string: &str) -> String {
    hex(&md5::Md5::digest(ja3_string.as_bytes()))
}

/// The first 12 hex characters of SHA-256.
fn sha256_12(s: &str) -> String {
    let digest = sha2::Sha256::digest(s.as_bytes());
    hex(digest.get(..6).unwrap_or(&[]))
}

/// The ECHClientHello (draft-ietf-tls-esni §5): type outer (0) carries
/// cipher_suite, config_id, enc and payload; type inner (1) is empty.
fn read_ech(mut d: Cursor<'_>) -> Result<Ech, TlsError> {
    match d.u8("ECHClientHello type")? {
        0 => {
            let kdf = d.u16("ECH kdf_id")?;
            let aead = d.u16("ECH aead_id")?;
            d.u8("ECH config_id")?;
            let enc = d.vec16("ECH enc")?;
            let payload = d.vec16("ECH payload")?;
            d.finish("ECHClientHello")?;
            let grease_likely = kdf == HPKE_KDF_HKDF_SHA256
                && (aead == HPKE_AEAD_AES_128_GCM || aead == HPKE_AEAD_CHACHA20_POLY1305)
                && enc.remaining() == GREASE_ECH_ENC_LEN
                && GREASE_ECH_PAYLOAD_LENS.contains(&payload.remaining());
            Ok(Ech::Present {
                outer: true,
                grease_likely,
            })
        }
        1 => {
            d.finish("ECHClientHello")?;
            Ok(Ech::Present {
                outer: false,
                grease_likely: false,
            })
        }
        _ => Err(TlsError::Invalid {
            what: "ECHClientHello type",
            offset: d.offset().saturating_sub(1),
            reason: "neither outer (0) nor inner (1)",
        }),
    }
}

// ---------------------------------------------------------------------------
// ServerHello
// ---------------------------------------------------------------------------

/// The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A parsed ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The version chosen: supported_versions when sent (TLS 1.3), else
    /// legacy_version.
    pub version: u16,
    pub cipher: u16,
    pub compression_method: u8,
    /// Every extension type, in wire order.
    pub extensions: Vec<u16>,
    /// The protocol chosen, when ALPN is in the ServerHello (TLS 1.2). In
    /// TLS 1.3 it travels in the encrypted EncryptedExtensions: `None`.
    pub alpn: Option<String>,
    /// The key_share group: of the server's share, or the one a
    /// HelloRetryRequest asks for.
    pub key_share_group: Option<u16>,
    /// The random is the HelloRetryRequest value.
    pub hello_retry_request: bool,
    /// Extensions whose content did not parse.
    pub extension_errors: Vec<TlsError>,
}

/// Parses a ServerHello body (after the 4-byte handshake header). A
/// HelloRetryRequest has the same layout and comes out with
/// `hello_retry_request` set.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16("ServerHello legacy_version")?;
    let random = c.take(32, "ServerHello random")?;
    c.vec8("ServerHello legacy_session_id_echo")?;
    let cipher = c.u16("ServerHello cipher_suite")?;
    let compression_method = c.u8("ServerHello legacy_compression_method")?;
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        cipher,
        compression_method,
        hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        ..ServerHello::default()
    };
    if c.is_empty() {
        return Ok(sh);
    }
    let mut exts = c.vec16("ServerHello extensions")?;
    c.finish("ServerHello")?;
    let mut seen = 0u16;
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        sh.extensions.push(ty);
        if let Err(e) = sh.read_extension(ExtensionType(ty), data, &mut seen) {
            sh.extension_errors.push(e);
        }
    }
    Ok(sh)
}

impl ServerHello {
    fn read_extension(
        &mut self,
        ty: ExtensionType,
        mut d: Cursor<'_>,
        seen: &mut u16,
    ) -> Result<(), TlsError> {
        match ty {
            ExtensionType::SUPPORTED_VERSIONS if first_time(seen, SEEN_VERSIONS) => {
                let v = d.u16("supported_versions selected_version")?;
                d.finish("supported_versions")?;
                self.version = v;
            }
            ExtensionType::ALPN if first_time(seen, SEEN_ALPN) => {
                let mut list = d.vec16("ALPN list")?;
                d.finish("ALPN")?;
                let name = list.vec8("ALPN protocol name")?.rest();
                list.finish("ALPN list")?;
                self.alpn = Some(String::from_utf8_lossy(name).into_owned());
            }
            ExtensionType::KEY_SHARE if first_time(seen, SEEN_KEY_SHARE) => {
                // HelloRetryRequest: selected_group only; ServerHello: one
                // KeyShareEntry.
                let group = d.u16("key_share group")?;
                if !self.hello_retry_request {
                    d.vec16("key_share key_exchange")?;
                }
                d.finish("key_share")?;
                self.key_share_group = Some(group);
            }
            _ => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The dissector
// ---------------------------------------------------------------------------

/// Valid TLS record headers in a row that make a flow TLS without a hello.
const MIDSTREAM_RECORDS: u64 = 3;

/// One side's handshake reader, made only when the side's first byte can
/// start a TLS record (or an SSLv2 hello).
#[derive(Debug, Default)]
enum SideReader {
    #[default]
    Untried,
    Reading(Box<HandshakeReader>),
    Off,
}

/// The TLS dissector: the ClientHello decides the flow and names it, the
/// ServerHello adds the server's choices; a capture that starts
/// mid-connection is TLS after [`MIDSTREAM_RECORDS`] valid record headers
/// in a row.
#[derive(Debug, Default)]
pub struct TlsDissector {
    sides: [SideReader; 2],
}

impl Dissector for TlsDissector {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        match bytes.first() {
            Some(0x14..=0x18) | Some(0x80..) => Probe::Maybe,
            _ => Probe::No,
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side;
        let slot = &mut self.sides[side];
        if let SideReader::Untried = slot {
            *slot = if input.first && Self::probe(input.bytes, side) != Probe::No {
                SideReader::Reading(Box::default())
            } else {
                SideReader::Off
            };
        }
        let mut decided = None;
        let mut found = Findings::default();
        if let SideReader::Reading(reader) = slot {
            let feed = reader.push(input.bytes);
            let mut done = feed.is_final();
            if let Some(msg) = reader.next_message() {
                done = true;
                match (side, msg.msg_type) {
                    (TO_SERVER, HandshakeType::CLIENT_HELLO) => {
                        if let Ok(ch) = parse_client_hello(msg.body) {
                            decided = Some(Confidence::High);
                            found.evidence.push(Evidence {
                                packet: input.packet,
                                what: Clue::TlsClientHello {
                                    len: msg.body.len() + 4,
                                    from: input.client_from.unwrap_or(input.packet),
                                },
                            });
                            found
                                .facts
                                .push(Fact::TlsHello(Box::new(HelloSummary::new(&ch, false))));
                        }
                    }
                    (TO_CLIENT, HandshakeType::SERVER_HELLO) => {
                        if let Ok(sh) = parse_server_hello(msg.body) {
                            found.evidence.push(Evidence {
                                packet: input.packet,
                                what: Clue::TlsServerHello {
                                    version: sh.version,
                                    cipher: sh.cipher,
                                },
                            });
                            found.facts.push(Fact::TlsServer(ServerSummary::new(&sh)));
                        }
                    }
                    _ => {}
                }
            }
            // A capture that starts mid-connection shows records but no
            // hello: consecutive valid record headers, each where the
            // previous record ended, with no handshake message under way,
            // are TLS all the same (without names).
            if !done
                && decided.is_none()
                && reader.records() >= MIDSTREAM_RECORDS
                && reader.buffered() == 0
            {
                decided = Some(Confidence::Medium);
                found.evidence.push(Evidence {
                    packet: input.packet,
                    what: Clue::TlsRecords {
                        count: reader.records(),
                        client: side == TO_SERVER,
                    },
                });
                done = true;
            }
            if feed == Feed::Sslv2ClientHello && side == TO_SERVER {
                decided = Some(Confidence::High);
                found.evidence.push(Evidence {
                    packet: input.packet,
                    what: Clue::Sslv2ClientHello,
                });
            }
            if done {
                *slot = SideReader::Off;
            }
        }
        let more = self.sides.iter().any(|s| !matches!(s, SideReader::Off));
        match decided {
            Some(confidence) => Step::Verdict(Verdict {
                proto: AppProto::Tls,
                confidence,
                found,
                more,
            }),
            None if !found.is_empty() => Step::Facts { found, more },
            None if more => Step::NeedMore,
            None => Step::Refuse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- fixtures -------------------------------------------------------

    /// RFC 8448 §3 "Simple 1-RTT Handshake": the client's ClientHello
    /// handshake message (header `01 00 00 c0` included), copied from the
    /// RFC text.
    #[rustfmt::skip]
    const RFC8448_CLIENT_HELLO: &[u8] = &[
        0x01, 0x00, 0x00, 0xc0, 0x03, 0x03, 0xcb, 0x34, 0xec, 0xb1, 0xe7, 0x81, 0x63,
        0xba, 0x1c, 0x38, 0xc6, 0xda, 0xcb, 0x19, 0x6a, 0x6d, 0xff, 0xa2, 0x1a, 0x8d,
        0x99, 0x12, 0xec, 0x18, 0xa2, 0xef, 0x62, 0x83, 0x02, 0x4d, 0xec, 0xe7, 0x00,
        0x00, 0x06, 0x13, 0x01, 0x13, 0x03, 0x13, 0x02, 0x01, 0x00, 0x00, 0x91, 0x00,
        0x00, 0x00, 0x0b, 0x00, 0x09, 0x00, 0x00, 0x06, 0x73, 0x65, 0x72, 0x76, 0x65,
        0x72, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x14, 0x00, 0x12, 0x00,
        0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02,
        0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x33, 0x00, 0x26, 0x00,
        0x24, 0x00, 0x1d, 0x00, 0x20, 0x99, 0x38, 0x1d, 0xe5, 0x60, 0xe4, 0xbd, 0x43,
        0xd2, 0x3d, 0x8e, 0x43, 0x5a, 0x7d, 0xba, 0xfe, 0xb3, 0xc0, 0x6e, 0x51, 0xc1,
        0x3c, 0xae, 0x4d, 0x54, 0x13, 0x69, 0x1e, 0x52, 0x9a, 0xaf, 0x2c, 0x00, 0x2b,
        0x00, 0x03, 0x02, 0x03, 0x04, 0x00, 0x0d, 0x00, 0x20, 0x00, 0x1e, 0x04, 0x03,
        0x05, 0x03, 0x06, 0x03, 0x02, 0x03, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04,
        0x01, 0x05, 0x01, 0x06, 0x01, 0x02, 0x01, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02,
        0x02, 0x02, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x1c, 0x00, 0x02, 0x40,
        0x01,
    ];

    /// RFC 8448 §3: the server's ServerHello handshake message.
    #[rustfmt::skip]
    const RFC8448_SERVER_HELLO: &[u8] = &[
        0x02, 0x00, 0x00, 0x56, 0x03, 0x03, 0xa6, 0xaf, 0x06, 0xa4, 0x12, 0x18, 0x60,
        0xdc, 0x5e, 0x6e, 0x60, 0x24, 0x9c, 0xd3, 0x4c, 0x95, 0x93, 0x0c, 0x8a, 0xc5,
        0xcb, 0x14, 0x34, 0xda, 0xc1, 0x55, 0x77, 0x2e, 0xd3, 0xe2, 0x69, 0x28, 0x00,
        0x13, 0x01, 0x00, 0x00, 0x2e, 0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20,
        0xc9, 0x82, 0x88, 0x76, 0x11, 0x20, 0x95, 0xfe, 0x66, 0x76, 0x2b, 0xdb, 0xf7,
        0xc6, 0x72, 0xe1, 0x56, 0xd6, 0xcc, 0x25, 0x3b, 0x83, 0x3d, 0xf1, 0xdd, 0x69,
        0xb1, 0xb0, 0x4e, 0x75, 0x1f, 0x0f, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
    ];

    /// RFC 8448 §5 "HelloRetryRequest": the server's HelloRetryRequest
    /// (key_share asks for secp256r1, with a cookie).
    #[rustfmt::skip]
    const RFC8448_HELLO_RETRY_REQUEST: &[u8] = &[
        0x02, 0x00, 0x00, 0xac, 0x03, 0x03, 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d,
        0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e,
        0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c, 0x00, 0x13, 0x01, 0x00, 0x00, 0x84, 0x00, 0x33, 0x00, 0x02,
        0x00, 0x17, 0x00, 0x2c, 0x00, 0x74, 0x00, 0x72, 0x71, 0xdc, 0xd0, 0x4b, 0xb8, 0x8b, 0xc3, 0x18,
        0x91, 0x19, 0x39, 0x8a, 0x00, 0x00, 0x00, 0x00, 0xee, 0xfa, 0xfc, 0x76, 0xc1, 0x46, 0xb8, 0x23,
        0xb0, 0x96, 0xf8, 0xaa, 0xca, 0xd3, 0x65, 0xdd, 0x00, 0x30, 0x95, 0x3f, 0x4e, 0xdf, 0x62, 0x56,
        0x36, 0xe5, 0xf2, 0x1b, 0xb2, 0xe2, 0x3f, 0xcc, 0x65, 0x4b, 0x1b, 0x5b, 0x40, 0x31, 0x8d, 0x10,
        0xd1, 0x37, 0xab, 0xcb, 0xb8, 0x75, 0x74, 0xe3, 0x6e, 0x8a, 0x1f, 0x02, 0x5f, 0x7d, 0xfa, 0x5d,
        0x6e, 0x50, 0x78, 0x1b, 0x5e, 0xda, 0x4a, 0xa1, 0x5b, 0x0c, 0x8b, 0xe7, 0x78, 0x25, 0x7d, 0x16,
        0xaa, 0x30, 0x30, 0xe9, 0xe7, 0x84, 0x1d, 0xd9, 0xe4, 0xc0, 0x34, 0x22, 0x67, 0xe8, 0xca, 0x0c,
        0xaf, 0x57, 0x1f, 0xb2, 0xb7, 0xcf, 0xf0, 0xf9, 0x34, 0xb0, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
    ];

    /// RFC 9001 Appendix A.2 "Client Initial": the CRYPTO frame of the
    /// unprotected payload, copied from the RFC text (the PADDING after it
    /// left out). Frame type 0x06, offset 0 (varint 0x00), length 241
    /// (varint 0x40f1), then the ClientHello handshake message.
    #[rustfmt::skip]
    const RFC9001_CRYPTO_FRAME: &[u8] = &[
        0x06, 0x00, 0x40, 0xf1, 0x01, 0x00, 0x00, 0xed, 0x03, 0x03, 0xeb, 0xf8, 0xfa, 0x56, 0xf1, 0x29,
        0x39, 0xb9, 0x58, 0x4a, 0x38, 0x96, 0x47, 0x2e, 0xc4, 0x0b, 0xb8, 0x63, 0xcf, 0xd3, 0xe8, 0x68,
        0x04, 0xfe, 0x3a, 0x47, 0xf0, 0x6a, 0x2b, 0x69, 0x48, 0x4c, 0x00, 0x00, 0x04, 0x13, 0x01, 0x13,
        0x02, 0x01, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b, 0x65, 0x78,
        0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a,
        0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x10, 0x00, 0x07, 0x00, 0x05,
        0x04, 0x61, 0x6c, 0x70, 0x6e, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x33,
        0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x93, 0x70, 0xb2, 0xc9, 0xca, 0xa4, 0x7f, 0xba,
        0xba, 0xf4, 0x55, 0x9f, 0xed, 0xba, 0x75, 0x3d, 0xe1, 0x71, 0xfa, 0x71, 0xf5, 0x0f, 0x1c, 0xe1,
        0x5d, 0x43, 0xe9, 0x94, 0xec, 0x74, 0xd7, 0x48, 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04, 0x00,
        0x0d, 0x00, 0x10, 0x00, 0x0e, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x02, 0x03, 0x08, 0x04, 0x08,
        0x05, 0x08, 0x06, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x01, 0x00,
        0x39, 0x00, 0x32, 0x04, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x04, 0x80,
        0x00, 0xff, 0xff, 0x07, 0x04, 0x80, 0x00, 0xff, 0xff, 0x08, 0x01, 0x10, 0x01, 0x04, 0x80, 0x00,
        0x75, 0x30, 0x09, 0x01, 0x10, 0x0f, 0x08, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0x06,
        0x04, 0x80, 0x00, 0xff, 0xff,
    ];

    /// captures/tls-pq-chromium.pcap (recorded by captures/record_tls_pq.sh),
    /// TCP stream 0, client to server: the ClientHello record (5 + 1982
    /// bytes) as reassembled from frames 6 and 7 (1448 + 539 bytes of TCP
    /// payload). Chromium 156: X25519MLKEM768 key share (0x11ec), GREASE
    /// ECH, a GREASE signature algorithm (0x5a5a).
    #[rustfmt::skip]
    const PQ_CHROMIUM_CLIENT_HELLO_RECORD: &[u8] = &[
        0x16, 0x03, 0x01, 0x07, 0xbe, 0x01, 0x00, 0x07, 0xba, 0x03, 0x03, 0xea, 0x83, 0xb0, 0xd4, 0x27,
        0x9a, 0x12, 0x99, 0xd8, 0xf4, 0x91, 0x05, 0x08, 0x9c, 0xa6, 0xfc, 0x40, 0x2d, 0x16, 0x65, 0xa3,
        0xc7, 0xb4, 0xb9, 0x15, 0x2c, 0x44, 0xc6, 0x7c, 0x36, 0xcb, 0x09, 0x20, 0x8f, 0x5c, 0x06, 0xe3,
        0x5c, 0x13, 0x38, 0x7b, 0x4a, 0x1c, 0x53, 0xdb, 0x7f, 0xc8, 0xb1, 0xd8, 0x71, 0x62, 0x25, 0x67,
        0x01, 0xdf, 0x6b, 0xba, 0x0f, 0xa0, 0x42, 0x39, 0x5f, 0x49, 0xa3, 0x96, 0x00, 0x20, 0xfa, 0xfa,
        0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9,
        0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35, 0x01, 0x00,
        0x07, 0x51, 0x7a, 0x7a, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x17, 0x00, 0x00,
        0x00, 0x12, 0x00, 0x00, 0xfe, 0x0d, 0x00, 0xfa, 0x00, 0x00, 0x01, 0x00, 0x01, 0x97, 0x00, 0x20,
        0xdb, 0x55, 0x3a, 0x4b, 0xff, 0x99, 0x94, 0x9f, 0xe1, 0x14, 0xf8, 0x0d, 0xf4, 0xb8, 0x31, 0x9f,
        0xe9, 0x31, 0xca, 0xf3, 0x16, 0x5e, 0x40, 0xd2, 0xa4, 0xcb, 0x0d, 0xc0, 0x19, 0xc4, 0xcf, 0x08,
        0x00, 0xd0, 0xa4, 0x03, 0x4c, 0xb0, 0xab, 0xda, 0x69, 0x42, 0xf0, 0xf7, 0x47, 0x09, 0x5e, 0xe1,
        0xcd, 0x43, 0x92, 0x13, 0xc9, 0x67, 0x3d, 0xaa, 0x97, 0x7d, 0xce, 0x6b, 0xd7, 0xb2, 0x87, 0xae,
        0xa3, 0x82, 0x45, 0x79, 0x90, 0x51, 0xb2, 0xf8, 0xf7, 0x55, 0x9b, 0xcd, 0x70, 0x89, 0x88, 0x4a,
        0x76, 0xef, 0x72, 0x5d, 0x28, 0x3f, 0x5f, 0x78, 0x98, 0xbd, 0x04, 0x95, 0xd4, 0x92, 0x18, 0x30,
        0x17, 0xca, 0x5a, 0xc9, 0x80, 0x20, 0xc5, 0x7c, 0x3f, 0xc1, 0x84, 0x21, 0x37, 0x6e, 0xbc, 0x68,
        0x05, 0xde, 0x0f, 0xea, 0xcb, 0x51, 0xbf, 0xf5, 0x1e, 0x62, 0x56, 0x30, 0x88, 0x42, 0x28, 0xac,
        0x4c, 0x17, 0x7c, 0x67, 0xaa, 0x83, 0x6d, 0xac, 0xe3, 0xdf, 0x24, 0xc9, 0x66, 0x5d, 0xf6, 0x99,
        0x7d, 0xa3, 0x42, 0xe1, 0x30, 0x0c, 0x9a, 0xc5, 0x09, 0x39, 0x93, 0xbc, 0x41, 0xa4, 0x98, 0x76,
        0x21, 0xba, 0x8e, 0xc5, 0x87, 0xc7, 0x73, 0x08, 0xd7, 0x02, 0x55, 0xb1, 0x09, 0xa4, 0x9a, 0x66,
        0xa2, 0xb1, 0x9f, 0xba, 0x73, 0x34, 0x13, 0xa7, 0x61, 0x57, 0x81, 0xde, 0xa1, 0x75, 0xe9, 0x5b,
        0xf5, 0x81, 0xc2, 0x65, 0x6f, 0x66, 0x67, 0x5a, 0x07, 0x5f, 0x7f, 0x11, 0x27, 0x77, 0x5a, 0xbb,
        0xfb, 0x43, 0x12, 0x54, 0x06, 0x32, 0xe4, 0x84, 0x02, 0x44, 0xdf, 0x0a, 0x8d, 0xf2, 0x46, 0x7e,
        0xbe, 0xca, 0x93, 0x4d, 0x2d, 0x83, 0xe5, 0x9e, 0xa2, 0xe3, 0x88, 0xb3, 0x98, 0x2c, 0x48, 0x1a,
        0x77, 0x0f, 0x00, 0x0d, 0x00, 0x1a, 0x00, 0x18, 0x5a, 0x5a, 0x09, 0x04, 0x09, 0x05, 0x09, 0x06,
        0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01,
        0x00, 0x23, 0x00, 0x00, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0xca, 0x34, 0x00,
        0xba, 0x00, 0xb8, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x01, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x06, 0x05,
        0x82, 0xdf, 0x13, 0x02, 0x0d, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x0e, 0x05, 0x82, 0xdf, 0x13, 0x02,
        0x0f, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x12, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x13, 0x05, 0x82, 0xdf,
        0x13, 0x02, 0x14, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x07, 0x08, 0x83, 0x9a, 0x64,
        0x8c, 0x9b, 0x2d, 0x01, 0x08, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x09, 0x08, 0x83,
        0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0a, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0b,
        0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0c, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d,
        0x01, 0x0d, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x12, 0x08, 0x83, 0x9a, 0x64, 0x8c,
        0x9b, 0x2d, 0x01, 0x13, 0x04, 0xd6, 0x79, 0x09, 0x01, 0x04, 0xd6, 0x79, 0x09, 0x04, 0x04, 0xd6,
        0x79, 0x09, 0x05, 0x04, 0xd6, 0x79, 0x09, 0x06, 0x04, 0xd6, 0x79, 0x09, 0x07, 0x04, 0xd6, 0x79,
        0x09, 0x08, 0x04, 0xd6, 0x79, 0x09, 0x0a, 0x04, 0xd6, 0x79, 0x09, 0x0b, 0x04, 0xd6, 0x79, 0x09,
        0x0c, 0x04, 0xd6, 0x79, 0x09, 0x0d, 0x04, 0xd6, 0x79, 0x09, 0x0f, 0x00, 0x33, 0x04, 0xef, 0x04,
        0xed, 0x8a, 0x8a, 0x00, 0x01, 0x00, 0x11, 0xec, 0x04, 0xc0, 0x6d, 0xaa, 0x57, 0x3c, 0xd2, 0xa6,
        0xff, 0xbb, 0x05, 0x10, 0x88, 0x90, 0x7d, 0x76, 0xcb, 0xe8, 0x51, 0x16, 0xec, 0x20, 0x9b, 0x55,
        0x7a, 0x97, 0xe8, 0xf1, 0xac, 0x9f, 0x3a, 0x09, 0xe5, 0x16, 0xcb, 0x15, 0x56, 0x46, 0xd9, 0x60,
        0xbf, 0xb5, 0xb9, 0x16, 0xe2, 0xa9, 0xaa, 0x1d, 0x6c, 0x54, 0xbd, 0xa9, 0x08, 0xf2, 0x82, 0x70,
        0x33, 0x02, 0x9c, 0xed, 0x59, 0xb1, 0x51, 0x09, 0x6f, 0xd9, 0x10, 0x2d, 0x8a, 0x44, 0x81, 0xac,
        0x40, 0x45, 0x3f, 0x38, 0x86, 0x12, 0x42, 0xc9, 0xbd, 0x9b, 0x09, 0x78, 0xea, 0x91, 0x16, 0x98,
        0x33, 0x04, 0x10, 0xca, 0xd1, 0xca, 0xc4, 0x0a, 0xdc, 0x4e, 0x0f, 0x21, 0x37, 0x6e, 0x72, 0x2b,
        0x3e, 0x2b, 0x1c, 0x39, 0x01, 0x7f, 0x8e, 0x47, 0x96, 0x42, 0x4b, 0xca, 0xa5, 0x84, 0x72, 0x85,
        0x1c, 0x29, 0xa5, 0x88, 0x75, 0xa4, 0xa7, 0x2f, 0x44, 0xa4, 0x1d, 0x92, 0xc4, 0xb6, 0x9c, 0x1b,
        0x8b, 0x2b, 0x5c, 0x1c, 0xb3, 0x13, 0x32, 0x2f, 0xc0, 0xcb, 0xf0, 0x45, 0x23, 0xbe, 0x64, 0xaf,
        0x74, 0x78, 0xa6, 0xb2, 0x81, 0x4b, 0x83, 0xc7, 0x16, 0xed, 0x55, 0x8e, 0xcf, 0x64, 0x4f, 0x0b,
        0x94, 0x80, 0x44, 0x98, 0x7d, 0xd7, 0x37, 0x9e, 0xf8, 0x78, 0xa8, 0xd5, 0xa1, 0x74, 0xaa, 0x00,
        0x0d, 0xbb, 0x83, 0xb0, 0xba, 0xe1, 0x77, 0xe7, 0xb8, 0xbb, 0x41, 0xd4, 0x0d, 0xb8, 0x28, 0x2d,
        0x00, 0x25, 0x62, 0x1b, 0x37, 0x44, 0x77, 0xd0, 0xae, 0x1a, 0x40, 0x92, 0xb1, 0xb7, 0xc2, 0x18,
        0x60, 0xb0, 0x27, 0x20, 0x08, 0x55, 0x64, 0x0e, 0x0a, 0x3c, 0x33, 0x4f, 0xe4, 0x7d, 0x34, 0x69,
        0x11, 0x14, 0x58, 0x9d, 0xf9, 0x01, 0xc2, 0xf5, 0xf7, 0x47, 0xf7, 0xac, 0x38, 0x5e, 0x18, 0xb7,
        0x4c, 0x59, 0x30, 0xe1, 0x44, 0x5e, 0xe4, 0xc8, 0xb1, 0x76, 0x67, 0xa5, 0xe8, 0x20, 0x40, 0xae,
        0xe3, 0x24, 0xfd, 0x94, 0x30, 0x28, 0x87, 0x8d, 0x91, 0x2c, 0x4f, 0xeb, 0x90, 0x19, 0x00, 0x0c,
        0x77, 0x68, 0x14, 0x39, 0x7c, 0x3c, 0x0d, 0xcc, 0x18, 0x6e, 0x25, 0x64, 0x24, 0xf8, 0x26, 0xb9,
        0xad, 0xe4, 0x31, 0x59, 0x2a, 0x98, 0x39, 0xe5, 0x1d, 0x37, 0x69, 0x14, 0x4c, 0x3c, 0x39, 0x9f,
        0x62, 0xc5, 0xba, 0x72, 0x1d, 0x14, 0x16, 0xb9, 0x1b, 0xb0, 0x66, 0x8b, 0x95, 0xc9, 0x43, 0x19,
        0x9b, 0x15, 0x9a, 0xcc, 0x05, 0x04, 0x21, 0xe9, 0x38, 0x26, 0x51, 0x33, 0x14, 0x75, 0xe5, 0x59,
        0x3d, 0xac, 0x92, 0x9b, 0x7c, 0x9c, 0xb1, 0xba, 0x58, 0xc5, 0x7b, 0x76, 0xa9, 0x99, 0x8b, 0xa7,
        0x98, 0x63, 0x6f, 0xb2, 0x2b, 0xbe, 0x39, 0x78, 0x4c, 0x7a, 0x8a, 0xeb, 0x62, 0xa0, 0xb6, 0x28,
        0x40, 0x98, 0xd6, 0x2a, 0xf4, 0xb9, 0x2d, 0x6e, 0xa8, 0x2a, 0xf3, 0x85, 0xb8, 0x2e, 0x91, 0x7b,
        0x93, 0x61, 0x9f, 0xab, 0x1b, 0x1d, 0x64, 0xd4, 0x7a, 0x16, 0x01, 0x49, 0x41, 0xca, 0x16, 0x56,
        0xc2, 0x47, 0x80, 0x17, 0xc4, 0xc5, 0x99, 0x9a, 0x64, 0xf7, 0x62, 0xb4, 0xc9, 0x07, 0x7f, 0xd0,
        0x5a, 0x74, 0x56, 0xaf, 0xc3, 0x55, 0x7f, 0x78, 0x22, 0x89, 0x0d, 0xe6, 0x7d, 0xed, 0xe9, 0x0f,
        0x14, 0x0c, 0x6e, 0x38, 0x77, 0x80, 0xcd, 0x9a, 0xba, 0x6f, 0xc0, 0x12, 0xa2, 0x80, 0x64, 0x77,
        0x88, 0x88, 0xa2, 0xd8, 0xc1, 0xd2, 0xb8, 0x82, 0x8d, 0x13, 0xb6, 0x76, 0x41, 0xc0, 0xbb, 0xdc,
        0x46, 0x4a, 0xab, 0x33, 0x88, 0xc6, 0x81, 0x25, 0xa0, 0x55, 0x43, 0x80, 0x58, 0xba, 0x3b, 0x61,
        0x63, 0xbc, 0x5f, 0x3b, 0x3b, 0x9f, 0x59, 0xca, 0x47, 0xa8, 0x12, 0x3c, 0xc9, 0x15, 0x38, 0x51,
        0x1b, 0xc7, 0x0d, 0xa3, 0x57, 0x1f, 0x24, 0x2e, 0xed, 0x87, 0x9d, 0xbe, 0xd8, 0x4c, 0x98, 0x08,
        0x46, 0xab, 0x8a, 0xb8, 0x48, 0xa9, 0x2d, 0x32, 0xf5, 0xa9, 0x98, 0xe3, 0x3a, 0x8b, 0xd5, 0x27,
        0xb0, 0x97, 0x92, 0x44, 0xe5, 0x11, 0x13, 0xa4, 0x00, 0x0f, 0xd8, 0x37, 0x87, 0x9a, 0xc9, 0xa5,
        0xe1, 0x83, 0x17, 0xa1, 0xba, 0x76, 0x50, 0x15, 0xe3, 0xf1, 0x51, 0x2e, 0x09, 0x1d, 0xea, 0x39,
        0x39, 0xf2, 0x04, 0x62, 0xa7, 0x30, 0x6a, 0x0a, 0x95, 0x78, 0x26, 0x25, 0x77, 0x17, 0xb2, 0xac,
        0x05, 0x36, 0xa4, 0x3d, 0x86, 0x3e, 0xb2, 0xd4, 0x74, 0x41, 0x49, 0x43, 0x16, 0x2c, 0x83, 0x2e,
        0xc2, 0x6d, 0x2d, 0xa1, 0x34, 0xa9, 0x19, 0xbe, 0xb0, 0xc7, 0x90, 0xd4, 0x77, 0x9f, 0xe0, 0xf4,
        0x8e, 0x0a, 0x37, 0x3a, 0xdb, 0xd9, 0x5f, 0x14, 0xb4, 0x85, 0xf9, 0xc8, 0x41, 0xce, 0x34, 0xcd,
        0xc8, 0x47, 0x6e, 0x48, 0x19, 0x4a, 0x4b, 0xa1, 0x53, 0x7c, 0x4b, 0x0b, 0x03, 0x11, 0x1c, 0x44,
        0x0c, 0x65, 0x91, 0x7b, 0x30, 0x41, 0x42, 0xb1, 0xe3, 0xe2, 0x02, 0x94, 0x09, 0x9f, 0x69, 0xd5,
        0x0b, 0x3d, 0x69, 0x25, 0x73, 0x35, 0x2b, 0x9a, 0xb5, 0x2b, 0x06, 0x2c, 0x70, 0x89, 0xf3, 0xba,
        0x7f, 0x3c, 0x4e, 0xc3, 0x50, 0x3c, 0x30, 0xa8, 0x30, 0xea, 0x47, 0xbb, 0xd4, 0x70, 0x4f, 0x8e,
        0x91, 0x93, 0x49, 0xe9, 0x88, 0xf8, 0x85, 0x53, 0x1f, 0x20, 0x12, 0x4c, 0xe2, 0x18, 0x29, 0x9a,
        0x64, 0x96, 0x52, 0xc3, 0x87, 0x17, 0xb6, 0x5d, 0xc4, 0x72, 0x49, 0x4a, 0x99, 0xe9, 0x85, 0x83,
        0xe2, 0x67, 0x53, 0x9f, 0x72, 0xb1, 0xf4, 0x22, 0xaa, 0x34, 0xf3, 0x24, 0xfa, 0x53, 0x4c, 0xa5,
        0xc3, 0x9d, 0xef, 0x0a, 0x7a, 0xe3, 0x16, 0x30, 0x68, 0x66, 0xc8, 0xd0, 0xa4, 0x9c, 0x8e, 0x70,
        0x7e, 0x37, 0x7a, 0xb2, 0x96, 0xc6, 0x8f, 0xb0, 0xfa, 0x4b, 0x1d, 0x93, 0x17, 0x69, 0xe3, 0xa7,
        0xb3, 0xea, 0x04, 0x8b, 0x63, 0x25, 0xae, 0x13, 0x29, 0xbe, 0x1c, 0x18, 0x3e, 0x1b, 0xb5, 0xd3,
        0x12, 0xc1, 0xcb, 0x47, 0x70, 0xab, 0xd1, 0x52, 0x8a, 0xe8, 0x78, 0x0d, 0x82, 0x64, 0x7b, 0x41,
        0xa1, 0x6f, 0x26, 0x9b, 0xcb, 0x31, 0x16, 0xc0, 0x69, 0x6a, 0x56, 0xa4, 0xbe, 0x61, 0x44, 0xba,
        0x52, 0x18, 0x2d, 0xfc, 0x78, 0xa8, 0xff, 0xe9, 0xca, 0xfc, 0x72, 0x56, 0xe1, 0xab, 0xb7, 0xe1,
        0xaa, 0x4d, 0x21, 0xab, 0x83, 0xf8, 0xcb, 0x9e, 0xfb, 0x2c, 0x06, 0x30, 0x66, 0x4f, 0xd6, 0x97,
        0x50, 0xc7, 0x85, 0x2a, 0xc6, 0x35, 0x92, 0x6d, 0x26, 0xb8, 0x08, 0x12, 0x5f, 0xa5, 0xa3, 0x06,
        0xc3, 0x16, 0xbd, 0xa2, 0x94, 0x59, 0xdf, 0x7c, 0xbd, 0xa8, 0x42, 0x6f, 0x0b, 0x1a, 0x16, 0xd8,
        0x05, 0x27, 0x38, 0x06, 0xaa, 0x5a, 0x95, 0x7e, 0xbf, 0xc9, 0xc4, 0xa7, 0x3c, 0xbd, 0x10, 0xd8,
        0xa6, 0x7d, 0xd6, 0x48, 0xd8, 0x9a, 0x10, 0x5a, 0x29, 0x6f, 0x9b, 0xc9, 0x8e, 0xe4, 0x96, 0xb1,
        0x3e, 0xe1, 0x0a, 0xfb, 0x29, 0x7a, 0xd5, 0xc8, 0xaf, 0x07, 0xb1, 0xb2, 0x11, 0x23, 0x30, 0x0a,
        0x71, 0x83, 0x7d, 0xd4, 0x18, 0xa3, 0xb8, 0x21, 0x83, 0xa7, 0x2f, 0xc8, 0x21, 0xcc, 0xa6, 0x01,
        0x5c, 0xf6, 0x11, 0xc8, 0xb7, 0x58, 0x07, 0x3a, 0x84, 0x3b, 0xac, 0x05, 0xb1, 0x26, 0xd1, 0x8b,
        0xcd, 0x20, 0x44, 0x45, 0x51, 0x0a, 0xcd, 0xd0, 0xb5, 0x86, 0xc7, 0xa6, 0x41, 0xab, 0x50, 0xb0,
        0xb2, 0x7f, 0xb7, 0x25, 0x72, 0x36, 0x71, 0x59, 0x47, 0x98, 0x5c, 0xf0, 0xc4, 0xcd, 0x09, 0xda,
        0x58, 0x6a, 0x16, 0x3c, 0xec, 0xb7, 0xa5, 0x9b, 0x70, 0xa3, 0x6b, 0xda, 0x24, 0xbb, 0x95, 0xa5,
        0x5f, 0x86, 0x02, 0xa8, 0x80, 0x73, 0x65, 0xdc, 0x4a, 0x25, 0xa5, 0x63, 0x52, 0x0a, 0xb1, 0x7e,
        0xf9, 0xaf, 0x1c, 0x60, 0x46, 0x67, 0xd7, 0x37, 0xec, 0xc5, 0x17, 0x9d, 0x63, 0x21, 0xab, 0xf6,
        0x0b, 0x44, 0xf4, 0xcb, 0x70, 0x48, 0x27, 0x31, 0x31, 0xc5, 0x04, 0x96, 0xb6, 0x02, 0xf1, 0x72,
        0x19, 0xf2, 0x37, 0xa7, 0x10, 0x7b, 0x4c, 0xe8, 0x7d, 0x64, 0x27, 0x90, 0x5b, 0xd3, 0x47, 0xff,
        0xa0, 0x73, 0x06, 0x80, 0x54, 0xe7, 0x8a, 0x90, 0x0c, 0xb2, 0xc1, 0x12, 0x8c, 0xbb, 0x4d, 0xdc,
        0x08, 0x13, 0xd1, 0x1e, 0x18, 0xd6, 0x6a, 0xbc, 0x9a, 0x78, 0x07, 0x18, 0x2c, 0x41, 0x1a, 0x46,
        0xc2, 0xa0, 0x8a, 0xc8, 0x53, 0x50, 0xb5, 0x28, 0x55, 0xdf, 0x73, 0x41, 0x49, 0xca, 0x18, 0x45,
        0x88, 0x22, 0xbb, 0x91, 0xa6, 0xa0, 0x8b, 0x19, 0xf5, 0x60, 0xb9, 0x55, 0x5b, 0x5e, 0xdf, 0x15,
        0x42, 0x74, 0x34, 0x36, 0xc9, 0xf1, 0x25, 0xdb, 0xa3, 0x71, 0xaf, 0x4c, 0x6b, 0x40, 0x07, 0x6f,
        0xf0, 0x1e, 0x67, 0x60, 0x89, 0x11, 0xe1, 0xc1, 0x59, 0x0a, 0xee, 0xcc, 0xff, 0xc4, 0xa5, 0xbf,
        0xe5, 0x9a, 0x6c, 0x5f, 0x5b, 0x93, 0xfe, 0x35, 0x34, 0xcf, 0x42, 0x7e, 0xb9, 0xcc, 0x1b, 0x7f,
        0xd3, 0x90, 0xe2, 0xf4, 0xfe, 0x1e, 0x86, 0x14, 0xf3, 0x78, 0x36, 0x58, 0x27, 0xed, 0xac, 0xe8,
        0xe4, 0x2a, 0x29, 0x00, 0x93, 0x5a, 0x40, 0x70, 0xdd, 0x23, 0x00, 0x1d, 0x00, 0x20, 0xd2, 0xdc,
        0x23, 0x58, 0xee, 0x81, 0xdd, 0x1c, 0x89, 0xd5, 0x13, 0xf2, 0xc4, 0x01, 0xb6, 0x8a, 0xe3, 0x68,
        0x16, 0x4a, 0x90, 0x11, 0x2f, 0xcf, 0xd9, 0x9d, 0x78, 0x86, 0xfc, 0xa1, 0xce, 0x3d, 0x00, 0x2d,
        0x00, 0x02, 0x01, 0x01, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a, 0x8a,
        0x8a, 0x11, 0xec, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x00, 0x00, 0x14, 0x00, 0x12, 0x00,
        0x00, 0x0f, 0x70, 0x71, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73,
        0x74, 0x44, 0xcd, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c,
        0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00, 0x1b, 0x00, 0x03,
        0x02, 0x00, 0x02, 0x00, 0x2b, 0x00, 0x07, 0x06, 0x9a, 0x9a, 0x03, 0x04, 0x03, 0x03, 0x6a, 0x6a,
        0x00, 0x01, 0x00,
    ];

    /// The same capture, stream 0, server to client (frame 17): its first
    /// 174 bytes: the ServerHello record (nginx 1.22.1 with OpenSSL 3.0,
    /// TLS 1.3, x25519), a ChangeCipherSpec record and the first
    /// application-data record (36 bytes).
    #[rustfmt::skip]
    const PQ_NGINX_SERVER_FLIGHT_PREFIX: &[u8] = &[
        0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, 0xc2, 0xd9, 0x91, 0x7b, 0x95,
        0xee, 0xe9, 0x8d, 0xa1, 0x31, 0xd4, 0xed, 0x09, 0x10, 0xf2, 0x26, 0x61, 0x05, 0xa5, 0x46, 0xf4,
        0xa2, 0x7c, 0xb4, 0xdb, 0xca, 0xc3, 0xb7, 0x44, 0x13, 0xf8, 0x0b, 0x20, 0x8f, 0x5c, 0x06, 0xe3,
        0x5c, 0x13, 0x38, 0x7b, 0x4a, 0x1c, 0x53, 0xdb, 0x7f, 0xc8, 0xb1, 0xd8, 0x71, 0x62, 0x25, 0x67,
        0x01, 0xdf, 0x6b, 0xba, 0x0f, 0xa0, 0x42, 0x39, 0x5f, 0x49, 0xa3, 0x96, 0x13, 0x01, 0x00, 0x00,
        0x2e, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x1a,
        0x6e, 0x94, 0x1b, 0xd6, 0xc8, 0x0e, 0x4d, 0xaf, 0x34, 0x46, 0x88, 0x07, 0xf0, 0x70, 0x3f, 0x01,
        0x67, 0x3f, 0xcf, 0x46, 0x11, 0xf9, 0xd9, 0xe0, 0x5f, 0xaa, 0xd4, 0x65, 0xfe, 0x8b, 0x49, 0x14,
        0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03, 0x00, 0x24, 0x09, 0x45, 0xf6, 0xe6, 0xc7, 0xdf,
        0xc0, 0xd4, 0x05, 0xe1, 0xe6, 0xa4, 0xba, 0x6b, 0x19, 0xce, 0x04, 0xee, 0x0c, 0x13, 0x76, 0x12,
        0x81, 0x84, 0xa8, 0x23, 0xf7, 0x83, 0xee, 0x71, 0x39, 0x58, 0xf9, 0xea, 0xb5, 0x25,
    ];

    /// nDPI test corpus (shared/corpus/ndpi/pcap/),
    /// tls_1.2_unidirectional_client.pcapng, frame 3: a TLS 1.2-only
    /// ClientHello record (no supported_versions) for
    /// notifications-pa.googleapis.com.
    #[rustfmt::skip]
    const NDPI_TLS12_CLIENT_HELLO_RECORD: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0xaf, 0x01, 0x00, 0x00, 0xab, 0x03, 0x03, 0x8e, 0x45, 0x20, 0x70, 0x99,
        0xff, 0x58, 0x92, 0x76, 0x92, 0xf4, 0xe2, 0x48, 0xd3, 0x3f, 0xa3, 0xe2, 0x38, 0xe1, 0xcf, 0xef,
        0x86, 0xe5, 0x4c, 0xa3, 0xc9, 0x3a, 0xf6, 0x18, 0x39, 0xaf, 0xdc, 0x00, 0x00, 0x08, 0xc0, 0x2b,
        0xc0, 0x2c, 0xc0, 0x2f, 0xc0, 0x30, 0x01, 0x00, 0x00, 0x7a, 0x00, 0x00, 0x00, 0x24, 0x00, 0x22,
        0x00, 0x00, 0x1f, 0x6e, 0x6f, 0x74, 0x69, 0x66, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x73,
        0x2d, 0x70, 0x61, 0x2e, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x61, 0x70, 0x69, 0x73, 0x2e, 0x63,
        0x6f, 0x6d, 0x00, 0x17, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00,
        0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x23, 0x00,
        0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f,
        0x31, 0x2e, 0x31, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x14,
        0x00, 0x12, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06,
        0x06, 0x01, 0x02, 0x01,
    ];

    // ---- helpers --------------------------------------------------------

    /// A ChangeCipherSpec record and a warning close_notify alert record.
    const CCS_RECORD: &[u8] = &[0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    const ALERT_RECORD: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00];

    type Messages = Vec<(HandshakeType, Vec<u8>)>;

    fn record(content_type: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len()).unwrap();
        let mut r = vec![content_type, 0x03, 0x03];
        r.extend_from_slice(&len.to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    /// The body of a whole handshake message (its 4-byte header checked).
    fn body(message: &[u8]) -> &[u8] {
        match frame_handshake(message) {
            Framed::Message { msg, len } => {
                assert_eq!(len, message.len());
                msg.body
            }
            Framed::NeedMore { needed } => panic!("fixture short: {needed}"),
        }
    }

    fn drain(r: &mut HandshakeReader, out: &mut Messages) {
        while let Some(m) = r.next_message() {
            out.push((m.msg_type, m.body.to_vec()));
        }
    }

    /// Feeds the chunks in order; the last verdict and every message.
    fn read_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Feed, Messages) {
        let mut r = HandshakeReader::new();
        let mut out = Vec::new();
        let mut last = Feed::NeedMore;
        for c in chunks {
            last = r.push(c);
            drain(&mut r, &mut out);
        }
        (last, out)
    }

    fn client_hello_of_record(rec: &[u8]) -> ClientHello {
        let (_, msgs) = read_chunks([rec]);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].0, HandshakeType::CLIENT_HELLO);
        parse_client_hello(&msgs[0].1).unwrap()
    }

    /// Exercises everything a caller might call on a parse result.
    fn touch(ch: &ClientHello) {
        let _ = (
            ch.ja3_string(),
            ch.ja3_hash(),
            ch.ja4(false),
            ch.ja4_r(true),
        );
    }

    // ---- ClientHello: fields and fingerprints -----------------------------

    #[test]
    fn rfc8448_client_hello() {
        let ch = parse_client_hello(body(RFC8448_CLIENT_HELLO)).unwrap();
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.cipher_suites, [0x1301, 0x1303, 0x1302]);
        assert_eq!(
            ch.extensions,
            [0x0000, 0xff01, 0x000a, 0x0023, 0x0033, 0x002b, 0x000d, 0x002d, 0x001c]
        );
        assert_eq!(ch.sni.as_deref(), Some("server"));
        assert_eq!(ch.sni_raw, None);
        assert!(ch.alpn.is_empty() && ch.alpn_first_raw.is_empty());
        assert_eq!(ch.supported_versions, [0x0304]);
        assert_eq!(
            ch.supported_groups,
            [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]
        );
        assert!(ch.ec_point_formats.is_empty());
        assert_eq!(
            ch.signature_algorithms,
            [
                0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
                0x0201, 0x0402, 0x0502, 0x0602, 0x0202
            ]
        );
        assert_eq!(ch.key_share_groups, [0x001d]);
        assert_eq!(ch.ech, Ech::None);
        assert!(!ch.quic_transport_parameters);
        assert!(ch.extension_errors.is_empty());

        // tshark 4.0.17 on this hello put in a TCP record
        // (tls.handshake.ja3_full, tls.handshake.ja3). No ec_point_formats:
        // the last field is empty.
        assert_eq!(
            ch.ja3_string(),
            "771,4865-4867-4866,0-65281-10-35-51-43-13-45-28,29-23-24-25-256-257-258-259-260,"
        );
        assert_eq!(ch.ja3_hash(), "da4dea34fe6d4ce5f0725df3f2682fa0");

        // JA4 by hand from tshark's fields: t, 13 (supported_versions
        // 0x0304), d (server_name), 03 ciphers, 09 extensions, 00 (no ALPN).
        // b = sha256("1301,1302,1303")[..12]; c = sha256 of the sorted
        // extensions without 0000 and 0010, "_", the signature algorithms
        // in wire order (python3 hashlib).
        assert_eq!(
            ch.ja4_r(false),
            "t13d030900_1301,1302,1303_000a,000d,001c,0023,002b,002d,0033,ff01_\
             0403,0503,0603,0203,0804,0805,0806,0401,0501,0601,0201,0402,0502,0602,0202"
        );
        assert_eq!(ch.ja4(false), "t13d030900_55b375c5d22e_59cd3dafc54d");
    }

    #[test]
    fn rfc9001_quic_client_hello() {
        // CRYPTO frame (RFC 9000 §19.6): type 0x06, offset 0 (1-byte
        // varint), length 0x40f1 = 241 (2-byte varint).
        let (frame_header, data) = RFC9001_CRYPTO_FRAME.split_at(4);
        assert_eq!(frame_header, [0x06, 0x00, 0x40, 0xf1]);
        assert_eq!(data.len(), 241);
        let Framed::Message { msg, len } = frame_handshake(data) else {
            panic!("CRYPTO data is one whole message");
        };
        assert_eq!((msg.msg_type, len), (HandshakeType::CLIENT_HELLO, 241));

        let ch = parse_client_hello(msg.body).unwrap();
        assert_eq!(ch.cipher_suites, [0x1301, 0x1302]);
        assert_eq!(
            ch.extensions,
            [
                0x0000, 0xff01, 0x000a, 0x0010, 0x0005, 0x0033, 0x002b, 0x000d, 0x002d, 0x001c,
                0x0039
            ]
        );
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, ["alpn"]);
        assert_eq!(ch.key_share_groups, [0x001d]);
        assert!(ch.quic_transport_parameters);
        assert!(ch.extension_errors.is_empty());

        // tshark 4.0.17, the same hello put in a TCP record.
        assert_eq!(
            ch.ja3_string(),
            "771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,"
        );
        assert_eq!(ch.ja3_hash(), "41bc9ae914d6cb3bd0bd0a5453ab7d7f");

        // By hand: q (QUIC), 13, d, 02 ciphers, 11 extensions, "an" (first
        // and last byte of "alpn"); hashes with python3 hashlib.
        assert_eq!(
            ch.ja4_r(true),
            "q13d0211an_1301,1302_0005,000a,000d,001c,002b,002d,0033,0039,ff01_\
             0403,0503,0603,0203,0804,0805,0806"
        );
        assert_eq!(ch.ja4(true), "q13d0211an_62ed6f6ca7ad_4d634acda6c0");
        assert_eq!(ch.ja4(false), "t13d0211an_62ed6f6ca7ad_4d634acda6c0");
    }

    #[test]
    fn chromium_post_quantum_client_hello() {
        let rec = PQ_CHROMIUM_CLIENT_HELLO_RECORD;
        assert_eq!(rec.len(), 5 + 1982);
        let ch = client_hello_of_record(rec);
        assert_eq!(ch.sni.as_deref(), Some("pq.example.test"));
        assert_eq!(ch.sni_raw, None);
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.alpn_first_raw, b"h2");
        assert_eq!(ch.supported_versions, [0x9a9a, 0x0304, 0x0303]);
        assert_eq!(
            ch.supported_groups,
            [0x8a8a, 0x11ec, 0x001d, 0x0017, 0x0018]
        );
        assert_eq!(ch.key_share_groups, [0x8a8a, 0x11ec, 0x001d]);
        assert_eq!(ch.ec_point_formats, [0]);
        assert_eq!(ch.signature_algorithms.first(), Some(&0x5a5a));
        assert_eq!(ch.signature_algorithms.len(), 12);
        // nginx has no ECH: this is Chrome's GREASE ECH (kdf 1, aead 1,
        // 32-byte enc, 208-byte payload).
        assert_eq!(
            ch.ech,
            Ech::Present {
                outer: true,
                grease_likely: true
            }
        );
        assert!(!ch.quic_transport_parameters);
        assert!(ch.extension_errors.is_empty());

        // tshark 4.0.17 on the capture, frame 7 (tls.handshake.ja3_full,
        // tls.handshake.ja3).
        assert_eq!(
            ch.ja3_string(),
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
             11-23-18-65037-13-35-5-51764-51-45-65281-10-0-17613-16-27-43,4588-29-23-24,0"
        );
        assert_eq!(ch.ja3_hash(), "06409c30d637aef2e95cb6f23d7ab5e5");

        // By hand from tshark's fields: 15 ciphers and 17 extensions once
        // GREASE (0xfafa; 0x7a7a, 0x6a6a) is dropped; the signature
        // algorithms lose GREASE 0x5a5a. The cipher hash is the one the JA4
        // specification shows for Chrome's cipher list.
        assert_eq!(
            ch.ja4_r(false),
            "t13d1517h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,\
             cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,ca34,\
             fe0d,ff01_0904,0905,0906,0403,0804,0401,0503,0805,0501,0806,0601"
        );
        assert_eq!(ch.ja4(false), "t13d1517h2_8daaf6152771_cb7bf5808d99");
    }

    #[test]
    fn tls12_only_client_hello() {
        let ch = client_hello_of_record(NDPI_TLS12_CLIENT_HELLO_RECORD);
        assert_eq!(ch.sni.as_deref(), Some("notifications-pa.googleapis.com"));
        assert!(ch.supported_versions.is_empty());
        assert_eq!(ch.ech, Ech::None);
        // tshark 4.0.17 on the capture, frame 3.
        assert_eq!(
            ch.ja3_string(),
            "771,49195-49196-49199-49200,0-23-65281-10-11-35-16-5-13,29-23-24,0"
        );
        assert_eq!(ch.ja3_hash(), "66fdcab9689b131fd04777de513ae009");
        // By hand: no supported_versions, so 12 from legacy_version 0x0303.
        assert_eq!(
            ch.ja4_r(false),
            "t12d0409h2_c02b,c02c,c02f,c030_0005,000a,000b,000d,0017,0023,ff01_\
             0403,0804,0401,0503,0805,0501,0806,0601,0201"
        );
        assert_eq!(ch.ja4(false), "t12d0409h2_dd22d19553a2_b39be8c56a14");
    }

    /// The worked example of the JA4 specification (FoxIO, JA4.md), with
    /// GREASE added everywhere it can appear: it must not count.
    #[test]
    fn ja4_specification_example() {
        let mut ch = ClientHello {
            legacy_version: 0x0303,
            cipher_suites: vec![
                0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
                0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa,
            ],
            supported_versions: vec![0x3a3a, 0x0304, 0x0303],
            alpn: vec!["h2".into()],
            alpn_first_raw: b"h2".to_vec(),
            signature_algorithms: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            ..ClientHello::default()
        };
        assert_eq!(ch.ja4(false), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(
            ch.ja4_r(false),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,\
             cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
             0403,0804,0401,0503,0805,0501,0806,0601"
        );
        // "If there are no signature algorithms ... the string ends without
        // an underscore": the specification's second value.
        ch.signature_algorithms.clear();
        assert_eq!(ch.ja4(false), "t13d1516h2_8daaf6152771_6d807ffa2a79");
        // The shared computation gives the same two strings.
        assert_eq!(ch.ja4_and_raw(false), (ch.ja4(false), ch.ja4_r(false)));
        assert_eq!(ch.ja4_and_raw(true), (ch.ja4(true), ch.ja4_r(true)));
        assert_eq!(ja3_hash_of(&ch.ja3_string()), ch.ja3_hash());
    }

    #[test]
    fn ja4_empty_lists_and_versions() {
        let mut ch = ClientHello {
            legacy_version: 0x0303,
            ..ClientHello::default()
        };
        assert_eq!(ch.ja4(false), "t12i000000_000000000000_000000000000");
        assert_eq!(ch.ja4_r(false), "t12i000000__");
        // Only SNI and ALPN: the sorted list is empty, so JA4_c is zeros.
        ch.extensions = vec![0x0000, 0x0010];
        ch.signature_algorithms = vec![0x0403];
        assert_eq!(ch.ja4(true), "q12d000200_000000000000_000000000000");
        // supported_versions rules over legacy_version; GREASE and unknown
        // versions.
        ch.extensions.push(0x002b);
        ch.supported_versions = vec![0x0a0a, 0x0302];
        assert!(ch.ja4(false).starts_with("t11d"));
        ch.supported_versions = vec![0x7f1c];
        assert!(ch.ja4(false).starts_with("t00d"));
        ch.supported_versions = vec![0x0a0a];
        assert!(ch.ja4(false).starts_with("t12d"));
        ch.legacy_version = 0x0300;
        assert!(ch.ja4(false).starts_with("ts3d"));
        // Counts stop at 99.
        ch.cipher_suites = (1..=150).collect();
        assert!(ch.ja4(false).starts_with("ts3d9903"));
    }

    /// The ALPN cases of the JA4 specification.
    #[test]
    fn ja4_alpn_characters() {
        let cases: [(&[u8], &str); 9] = [
            (b"h2", "h2"),
            (b"http/1.1", "h1"),
            (b"h", "hh"),
            (b"", "00"),
            (&[0xab], "ab"),
            (&[0xab, 0xcd], "ad"),
            (&[0x30, 0xab], "3b"),
            (&[0x30, 0x31, 0xab, 0xcd], "3d"),
            (&[0x30, 0xab, 0xcd, 0x31], "01"),
        ];
        for (name, want) in cases {
            let got: String = ja4_alpn_chars(name).iter().collect();
            assert_eq!(got, want, "ALPN {name:02x?}");
        }
    }

    #[test]
    fn grease_values() {
        let all: Vec<u16> = (0..16).map(|i| 0x0a0a + 0x1010 * i).collect();
        assert!(all.iter().all(|&v| is_grease(v)));
        assert_eq!(all.last(), Some(&0xfafa));
        for v in [0x0a1a, 0x1a0a, 0x0b0b, 0x0000, 0xffff, 0x0a0b] {
            assert!(!is_grease(v), "{v:#06x}");
        }
        assert_eq!((0..=u16::MAX).filter(|&v| is_grease(v)).count(), 16);
    }

    #[test]
    fn sni_is_normalized_and_raw_kept() {
        // RFC 8448's hello with "server" patched in place (same length).
        let mut rec = record(22, RFC8448_CLIENT_HELLO);
        let at = rec.windows(6).position(|w| w == b"server").unwrap();
        rec[at..at + 6].copy_from_slice(b"SeRvE.");
        let ch = client_hello_of_record(&rec);
        assert_eq!(ch.sni.as_deref(), Some("serve"));
        assert_eq!(ch.sni_raw.as_deref(), Some("SeRvE."));
        // JA4 reads the extension's presence, never the name.
        let plain = parse_client_hello(body(RFC8448_CLIENT_HELLO)).unwrap();
        assert_eq!(ch.ja4(false), plain.ja4(false));

        // A byte that is not UTF-8: kept lossily, and flagged by sni_raw.
        rec[at..at + 6].copy_from_slice(b"se\xffver");
        let ch = client_hello_of_record(&rec);
        assert_eq!(ch.sni.as_deref(), Some("se\u{fffd}ver"));
        assert_eq!(ch.sni_raw.as_deref(), Some("se\u{fffd}ver"));
    }

    #[test]
    fn malformed_extension_is_set_aside() {
        // server_name's list length 9 becomes 7: two bytes left over inside
        // the extension. The rest of the hello still reads.
        let mut msg = RFC8448_CLIENT_HELLO.to_vec();
        let at = msg
            .windows(7)
            .position(|w| w == [0x00, 0x00, 0x00, 0x0b, 0x00, 0x09, 0x00])
            .unwrap();
        msg[at + 5] = 0x07;
        let ch = parse_client_hello(body(&msg)).unwrap();
        assert_eq!(ch.sni, None);
        assert!(matches!(
            ch.extension_errors.as_slice(),
            [TlsError::Trailing {
                what: "server_name",
                ..
            }]
        ));
        let plain = parse_client_hello(body(RFC8448_CLIENT_HELLO)).unwrap();
        assert_eq!(ch.ja3_hash(), plain.ja3_hash());
        assert_eq!(ch.ja4(false), plain.ja4(false));
        assert_eq!(ch.key_share_groups, plain.key_share_groups);
    }

    #[test]
    fn ech_shapes() {
        fn ech(kdf: u16, aead: u16, enc: usize, payload: usize) -> Vec<u8> {
            let mut e = vec![0u8];
            e.extend_from_slice(&kdf.to_be_bytes());
            e.extend_from_slice(&aead.to_be_bytes());
            e.push(0x42);
            e.extend_from_slice(&u16::try_from(enc).unwrap().to_be_bytes());
            e.resize(e.len() + enc, 0x11);
            e.extend_from_slice(&u16::try_from(payload).unwrap().to_be_bytes());
            e.resize(e.len() + payload, 0x22);
            e
        }
        let read = |b: &[u8]| read_ech(Cursor::new(b));
        let grease = Ech::Present {
            outer: true,
            grease_likely: true,
        };
        let not_grease = Ech::Present {
            outer: true,
            grease_likely: false,
        };
        for payload in [144, 176, 208, 240] {
            assert_eq!(read(&ech(1, 1, 32, payload)), Ok(grease));
            assert_eq!(read(&ech(1, 3, 32, payload)), Ok(grease));
        }
        assert_eq!(read(&ech(1, 1, 32, 200)), Ok(not_grease));
        assert_eq!(read(&ech(1, 2, 32, 208)), Ok(not_grease)); // AES-256-GCM
        assert_eq!(read(&ech(1, 1, 65, 208)), Ok(not_grease)); // P-256 enc
        assert_eq!(read(&ech(2, 1, 32, 208)), Ok(not_grease)); // HKDF-SHA384
        assert_eq!(
            read(&[1]),
            Ok(Ech::Present {
                outer: false,
                grease_likely: false
            })
        );
        assert!(read(&[2]).is_err());
        assert!(read(&[]).is_err());
        let mut long = ech(1, 1, 32, 208);
        long.push(0);
        assert!(matches!(read(&long), Err(TlsError::Trailing { .. })));
    }

    // ---- ServerHello --------------------------------------------------------

    #[test]
    fn rfc8448_server_hello() {
        let sh = parse_server_hello(body(RFC8448_SERVER_HELLO)).unwrap();
        assert_eq!(sh.legacy_version, 0x0303);
        assert_eq!(sh.version, 0x0304);
        assert_eq!(sh.cipher, 0x1301);
        assert_eq!(sh.extensions, [0x0033, 0x002b]);
        assert_eq!(sh.key_share_group, Some(0x001d));
        assert_eq!(sh.alpn, None);
        assert!(!sh.hello_retry_request);
        assert!(sh.extension_errors.is_empty());
    }

    #[test]
    fn rfc8448_hello_retry_request() {
        let hrr = parse_server_hello(body(RFC8448_HELLO_RETRY_REQUEST)).unwrap();
        assert!(hrr.hello_retry_request);
        assert_eq!(hrr.version, 0x0304);
        assert_eq!(hrr.cipher, 0x1301);
        assert_eq!(hrr.extensions, [0x0033, 0x002c, 0x002b]);
        // HRR's key_share is only the selected group: secp256r1.
        assert_eq!(hrr.key_share_group, Some(0x0017));
        assert!(hrr.extension_errors.is_empty());
    }

    #[test]
    fn server_flight_from_capture() {
        let mut r = HandshakeReader::new();
        let mut msgs = Vec::new();
        assert_eq!(r.push(PQ_NGINX_SERVER_FLIGHT_PREFIX), Feed::Ready);
        drain(&mut r, &mut msgs);
        // ChangeCipherSpec and application data are skipped.
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].0, HandshakeType::SERVER_HELLO);
        assert_eq!(r.is_tls(), Some(true));
        assert_eq!(r.stream_offset(), 174);
        assert_eq!(r.buffered(), 0);
        let sh = parse_server_hello(&msgs[0].1).unwrap();
        assert_eq!(sh.legacy_version, 0x0303);
        assert_eq!(sh.version, 0x0304);
        assert_eq!(sh.cipher, 0x1301);
        assert_eq!(sh.extensions, [0x002b, 0x0033]);
        assert_eq!(sh.key_share_group, Some(0x001d));
        assert!(!sh.hello_retry_request);
        assert_eq!(r.push(&[0x17, 0x03, 0x03]), Feed::NeedMore);
    }

    #[test]
    fn server_hello_tls12_with_alpn() {
        // A TLS 1.2 ServerHello body built by hand: no supported_versions,
        // ALPN "h2", extended_master_secret.
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[0x5a; 32]);
        b.push(0); // empty session id
        b.extend_from_slice(&[0xc0, 0x2f, 0x00]); // cipher, compression
        let exts = [
            0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'2', // ALPN
            0x00, 0x17, 0x00, 0x00, // extended_master_secret
        ];
        b.extend_from_slice(&u16::try_from(exts.len()).unwrap().to_be_bytes());
        b.extend_from_slice(&exts);
        let sh = parse_server_hello(&b).unwrap();
        assert_eq!((sh.version, sh.cipher), (0x0303, 0xc02f));
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert_eq!(sh.key_share_group, None);
        // Without extensions at all.
        let sh = parse_server_hello(&b[..38]).unwrap();
        assert!(sh.extensions.is_empty());
    }

    // ---- HandshakeReader: framing ----------------------------------------

    #[test]
    fn split_at_every_offset() {
        for rec in [
            PQ_CHROMIUM_CLIENT_HELLO_RECORD,
            NDPI_TLS12_CLIENT_HELLO_RECORD,
        ] {
            let want = [(HandshakeType::CLIENT_HELLO, rec[9..].to_vec())];
            for at in 0..=rec.len() {
                let (a, b) = rec.split_at(at);
                let (_, msgs) = read_chunks([a, b]);
                assert_eq!(msgs, want, "split at {at}");
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let rec = PQ_CHROMIUM_CLIENT_HELLO_RECORD;
        let mut r = HandshakeReader::new();
        for (i, byte) in rec.iter().enumerate() {
            let feed = r.push(std::slice::from_ref(byte));
            if i + 1 < rec.len() {
                assert_eq!(feed, Feed::NeedMore, "byte {i}");
                assert!(r.next_message().is_none());
            } else {
                assert_eq!(feed, Feed::Ready);
            }
            assert_eq!(r.is_tls(), if i < 4 { None } else { Some(true) });
        }
        let m = r.next_message().unwrap();
        assert_eq!(m.msg_type, HandshakeType::CLIENT_HELLO);
        assert_eq!(m.body, &rec[9..]);
        assert!(r.next_message().is_none());
    }

    #[test]
    fn message_across_two_and_three_records() {
        let msg = &PQ_CHROMIUM_CLIENT_HELLO_RECORD[5..];
        let n = msg.len();
        let want = [(HandshakeType::CLIENT_HELLO, msg[4..].to_vec())];
        let cuts: [&[usize]; 12] = [
            &[1],
            &[2],
            &[3],
            &[4],
            &[5],
            &[1000],
            &[n - 1],
            &[1, 3],
            &[4, 1500],
            &[700, 1400],
            &[n - 2, n - 1],
            &[2, n - 1],
        ];
        for cut in cuts {
            let mut bounds = vec![0];
            bounds.extend_from_slice(cut);
            bounds.push(n);
            let records: Vec<Vec<u8>> = bounds
                .windows(2)
                .map(|w| record(22, &msg[w[0]..w[1]]))
                .collect();
            // Whole, in 7-byte chunks, and with ChangeCipherSpec and an
            // alert between the records.
            let stream = records.concat();
            assert_eq!(read_chunks([stream.as_slice()]).1, want, "{cut:?}");
            assert_eq!(read_chunks(stream.chunks(7)).1, want, "{cut:?} by 7");
            let mut mixed = Vec::new();
            for r in &records {
                mixed.extend_from_slice(r);
                mixed.extend_from_slice(CCS_RECORD);
                mixed.extend_from_slice(ALERT_RECORD);
            }
            assert_eq!(read_chunks(mixed.chunks(3)).1, want, "{cut:?} mixed");
        }
    }

    #[test]
    fn several_messages_in_one_record() {
        const SERVER_HELLO_DONE: &[u8] = &[0x0e, 0x00, 0x00, 0x00];
        let payload = [
            RFC8448_SERVER_HELLO,
            SERVER_HELLO_DONE,
            RFC8448_HELLO_RETRY_REQUEST,
        ]
        .concat();
        let rec = record(22, &payload);
        let (feed, msgs) = read_chunks([rec.as_slice()]);
        assert_eq!(feed, Feed::Ready);
        let types: Vec<_> = msgs.iter().map(|m| m.0).collect();
        assert_eq!(
            types,
            [
                HandshakeType::SERVER_HELLO,
                HandshakeType::SERVER_HELLO_DONE,
                HandshakeType::SERVER_HELLO
            ]
        );
        assert_eq!(msgs[0].1, body(RFC8448_SERVER_HELLO));
        assert!(msgs[1].1.is_empty());
        assert_eq!(msgs[2].1, body(RFC8448_HELLO_RETRY_REQUEST));
        // Byte by byte gives the same.
        assert_eq!(read_chunks(rec.chunks(1)).1, msgs);
    }

    #[test]
    fn change_cipher_spec_and_alert_first() {
        let stream = [
            CCS_RECORD,
            ALERT_RECORD,
            NDPI_TLS12_CLIENT_HELLO_RECORD,
            CCS_RECORD,
        ]
        .concat();
        let mut r = HandshakeReader::new();
        assert_eq!(r.push(&stream[..6]), Feed::NeedMore);
        assert_eq!(r.is_tls(), Some(true));
        assert_eq!(r.push(&stream[6..]), Feed::Ready);
        let m = r.next_message().unwrap();
        assert_eq!(m.msg_type, HandshakeType::CLIENT_HELLO);
        assert_eq!(m.body, &NDPI_TLS12_CLIENT_HELLO_RECORD[9..]);
        assert!(r.next_message().is_none());
    }

    #[test]
    fn frame_handshake_needs_more() {
        assert_eq!(frame_handshake(&[]), Framed::NeedMore { needed: 4 });
        assert_eq!(frame_handshake(&[1, 0, 0]), Framed::NeedMore { needed: 4 });
        assert_eq!(
            frame_handshake(&[1, 0, 0, 5, 9]),
            Framed::NeedMore { needed: 9 }
        );
        assert_eq!(
            frame_handshake(&[1, 0xff, 0xff, 0xff]),
            Framed::NeedMore {
                needed: 4 + 0xff_ffff
            }
        );
        let Framed::Message { msg, len } = frame_handshake(&[14, 0, 0, 0, 99]) else {
            panic!("whole");
        };
        assert_eq!(
            (msg.msg_type, msg.body, len),
            (HandshakeType(14), &[][..], 4)
        );
    }

    // ---- HandshakeReader: refusals and limits ------------------------------

    /// An SSLv2-compatible ClientHello (RFC 5246 Appendix E.2), built by
    /// hand: TLS 1.0 offered, seven 3-byte cipher specs, no session id, a
    /// 16-byte challenge.
    #[rustfmt::skip]
    const SSLV2_CLIENT_HELLO: &[u8] = &[
        0x80, 0x2e,             // length 46, high bit set
        0x01,                   // msg_type CLIENT-HELLO
        0x03, 0x01,             // version TLS 1.0
        0x00, 0x15,             // cipher_spec_length 21
        0x00, 0x00,             // session_id_length 0
        0x00, 0x10,             // challenge_length 16
        0x00, 0x00, 0x39, 0x00, 0x00, 0x38, 0x00, 0x00, 0x35, 0x00, 0x00, 0x33,
        0x00, 0x00, 0x32, 0x00, 0x00, 0x2f, 0x00, 0x00, 0xff,
        0x9e, 0x12, 0x44, 0x7c, 0x01, 0xb3, 0x5d, 0x60, 0x0a, 0xe4, 0x71, 0x2c,
        0x88, 0x3f, 0xd0, 0x57,
    ];

    #[test]
    fn sslv2_client_hello_is_reported() {
        assert_eq!(SSLV2_CLIENT_HELLO.len(), 2 + 46);
        let mut r = HandshakeReader::new();
        for (i, byte) in SSLV2_CLIENT_HELLO.iter().take(4).enumerate() {
            assert_eq!(r.push(&[*byte]), Feed::NeedMore, "byte {i}");
        }
        assert_eq!(r.push(&SSLV2_CLIENT_HELLO[4..]), Feed::Sslv2ClientHello);
        assert_eq!(
            r.stop_reason(),
            Some(&TlsError::Sslv2ClientHello { version: 0x0301 })
        );
        assert_eq!(r.is_tls(), Some(true));
        assert!(r.next_message().is_none());
        assert_eq!(
            r.push(NDPI_TLS12_CLIENT_HELLO_RECORD),
            Feed::Sslv2ClientHello
        );
        assert!(r.next_message().is_none());

        // SSL 2.0 itself (version 0x0002) is reported the same way.
        let mut v2 = SSLV2_CLIENT_HELLO.to_vec();
        v2[3..5].copy_from_slice(&[0x00, 0x02]);
        let mut r = HandshakeReader::new();
        assert_eq!(r.push(&v2), Feed::Sslv2ClientHello);
        assert_eq!(
            r.stop_reason(),
            Some(&TlsError::Sslv2ClientHello { version: 0x0002 })
        );
    }

    #[test]
    fn not_tls_is_refused_at_once() {
        // (stream, bytes needed to refuse it)
        let cases: [(&[u8], u64); 9] = [
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1),
            (b"SSH-2.0-OpenSSH_9.2\r\n", 1),
            (&[0x00, 0x00, 0x00, 0x00], 1),
            (&[0x19, 0x03, 0x01, 0x00, 0x10], 1),
            (&[0x16, 0x04, 0x01, 0x00, 0x10], 2),
            (&[0x16, 0x03, 0x01, 0x48, 0x01], 5),
            (&[0x80, 0x2e, 0x02, 0x03, 0x01], 3),
            (&[0x80, 0x2e, 0x01, 0x07, 0x01], 4),
            (&[0x80, 0x05, 0x01, 0x03, 0x01], 5),
        ];
        for (stream, needed) in cases {
            let mut r = HandshakeReader::new();
            assert_eq!(r.push(&[]), Feed::NeedMore);
            assert_eq!(r.is_tls(), None);
            let mut verdict = Feed::NeedMore;
            for byte in stream {
                verdict = r.push(std::slice::from_ref(byte));
                if verdict != Feed::NeedMore {
                    break;
                }
            }
            assert_eq!(verdict, Feed::NotTls, "{stream:02x?}");
            assert_eq!(r.stream_offset(), needed, "{stream:02x?}");
            assert_eq!(r.is_tls(), Some(false));
            assert!(matches!(r.stop_reason(), Some(TlsError::NotTls { .. })));
            assert_eq!(r.push(PQ_CHROMIUM_CLIENT_HELLO_RECORD), Feed::NotTls);
            assert!(r.next_message().is_none());
        }
        // The error says where and what.
        let mut r = HandshakeReader::new();
        r.push(b"GET /");
        assert_eq!(
            r.stop_reason(),
            Some(&TlsError::NotTls {
                offset: 0,
                byte: b'G',
                reason: "content type not 20-24"
            })
        );
    }

    #[test]
    fn bad_record_later_is_malformed_but_keeps_messages() {
        let stream = [
            NDPI_TLS12_CLIENT_HELLO_RECORD,
            &[0x16, 0x03, 0x03, 0xff, 0xff],
        ]
        .concat();
        let mut r = HandshakeReader::new();
        assert_eq!(r.push(&stream), Feed::Malformed);
        assert_eq!(
            r.stop_reason(),
            Some(&TlsError::BadRecord {
                offset: 180,
                reason: "record length over 2^14 + 2048"
            })
        );
        assert_eq!(r.is_tls(), Some(true));
        let m = r.next_message().unwrap();
        assert_eq!(m.msg_type, HandshakeType::CLIENT_HELLO);
        let mut r = HandshakeReader::new();
        r.push(NDPI_TLS12_CLIENT_HELLO_RECORD);
        assert_eq!(r.push(b"HTTP/1.1 400"), Feed::Malformed);
    }

    #[test]
    fn buffering_is_capped() {
        // A message larger than the cap is refused once its header is seen.
        let mut r = HandshakeReader::with_cap(1000);
        assert_eq!(r.push(PQ_CHROMIUM_CLIENT_HELLO_RECORD), Feed::Overflow);
        assert!(r.buffered() <= 1000);
        assert_eq!(
            r.stop_reason(),
            Some(&TlsError::Overflow {
                needed: 4 + 1978,
                cap: 1000
            })
        );
        assert!(r.next_message().is_none());

        // A 16 MiB length claim costs nothing.
        let mut r = HandshakeReader::new();
        assert_eq!(
            r.push(&record(22, &[0x0b, 0xff, 0xff, 0xff])),
            Feed::Overflow
        );
        assert!(r.buffered() <= DEFAULT_CAP);

        // Messages left untaken fill the buffer; those complete before the
        // overflow can still be taken.
        let sh = record(22, RFC8448_SERVER_HELLO);
        let mut r = HandshakeReader::with_cap(500);
        let mut verdict = Feed::NeedMore;
        let mut pushed = 0;
        while verdict != Feed::Overflow {
            verdict = r.push(&sh);
            pushed += 1;
            assert!(pushed < 10);
        }
        let mut taken = 0;
        while let Some(m) = r.next_message() {
            assert_eq!(m.body, body(RFC8448_SERVER_HELLO));
            taken += 1;
        }
        assert_eq!(taken, 500 / RFC8448_SERVER_HELLO.len());

        // Taken messages free their room.
        let mut r = HandshakeReader::with_cap(200);
        for _ in 0..100 {
            assert_eq!(r.push(&sh), Feed::Ready);
            assert!(r.next_message().is_some());
            assert!(r.next_message().is_none());
        }
    }

    // ---- hostile input ---------------------------------------------------

    fn client_hello_bodies() -> Vec<Vec<u8>> {
        vec![
            body(RFC8448_CLIENT_HELLO).to_vec(),
            RFC9001_CRYPTO_FRAME[8..].to_vec(),
            PQ_CHROMIUM_CLIENT_HELLO_RECORD[9..].to_vec(),
            NDPI_TLS12_CLIENT_HELLO_RECORD[9..].to_vec(),
        ]
    }

    #[test]
    fn every_truncation_is_safe() {
        for b in client_hello_bodies() {
            assert!(parse_client_hello(&b).is_ok());
            for end in 0..b.len() {
                if let Ok(ch) = parse_client_hello(&b[..end]) {
                    touch(&ch);
                }
                let _ = parse_server_hello(&b[..end]);
            }
        }
        for m in [RFC8448_SERVER_HELLO, RFC8448_HELLO_RETRY_REQUEST] {
            let b = body(m);
            assert!(parse_server_hello(b).is_ok());
            for end in 0..b.len() {
                assert!(parse_server_hello(&b[..end]).is_err() || end == 38);
                let _ = parse_client_hello(&b[..end]);
            }
        }
        // A record cut anywhere yields nothing, and never fails.
        let rec = PQ_CHROMIUM_CLIENT_HELLO_RECORD;
        for end in 0..rec.len() {
            let mut r = HandshakeReader::new();
            assert_eq!(r.push(&rec[..end]), Feed::NeedMore, "cut at {end}");
            assert!(r.next_message().is_none());
        }
    }

    /// Parses whatever messages a (possibly mangled) stream yields.
    fn read_and_parse(stream: &[u8]) {
        let mut r = HandshakeReader::new();
        r.push(stream);
        while let Some(m) = r.next_message() {
            match m.msg_type {
                HandshakeType::CLIENT_HELLO => {
                    if let Ok(ch) = parse_client_hello(m.body) {
                        touch(&ch);
                    }
                }
                _ => {
                    let _ = parse_server_hello(m.body);
                }
            }
        }
    }

    #[test]
    fn every_byte_mangled_is_safe() {
        let streams = [
            record(22, RFC8448_CLIENT_HELLO),
            PQ_CHROMIUM_CLIENT_HELLO_RECORD.to_vec(),
            PQ_NGINX_SERVER_FLIGHT_PREFIX.to_vec(),
            record(22, RFC8448_HELLO_RETRY_REQUEST),
        ];
        for stream in &streams {
            let mut s = stream.clone();
            for i in 0..s.len() {
                let orig = s[i];
                for v in [0x00, 0xff, orig ^ 0x01, orig ^ 0x80] {
                    s[i] = v;
                    read_and_parse(&s);
                }
                s[i] = orig;
            }
        }
    }

    #[test]
    fn random_mangling_is_safe() {
        // xorshift64: a fixed sequence, so a failure reproduces.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let base = record(22, RFC8448_CLIENT_HELLO);
        for _ in 0..20_000 {
            let mut s = base.clone();
            for _ in 0..1 + next() % 6 {
                let at = (next() % s.len() as u64) as usize;
                s[at] = next() as u8;
            }
            if next() % 4 == 0 {
                s.truncate((next() % s.len() as u64) as usize);
            }
            read_and_parse(&s);
            if let Some(b) = s.get(9..) {
                if let Ok(ch) = parse_client_hello(b) {
                    touch(&ch);
                }
            }
        }
    }
}
