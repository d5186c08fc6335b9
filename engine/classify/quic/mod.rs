//! QUIC Initial packets: the client's TLS ClientHello, or Google QUIC's
//! CHLO, recovered from the first datagrams of a UDP flow.
//!
//! What it does. [`parse_long_packet`] reads one long-header packet (RFC 9000
//! §17.2 with the RFC 8999 invariants) and [`CoalescedPackets`] walks the
//! packets coalesced in one datagram, skipping each by its Length and
//! stopping at a short header. [`InitialKeys`] derives a version's Initial
//! keys from a Destination Connection ID (HKDF-Extract with the version's
//! salt, HKDF-Expand-Label "client in"/"server in", then "quic key"/"quic
//! iv"/"quic hp", or "quicv2 …" for QUIC v2: RFC 9001 §5.2, RFC 9369
//! §3.3), removes header protection (AES-128-ECB over the 16-byte sample,
//! RFC 9001 §5.4) and opens the AES-128-GCM payload with nonce = iv XOR
//! packet number. [`Frames`] reads the frames an Initial may carry (PADDING,
//! PING, ACK, CRYPTO, CONNECTION_CLOSE) and stops, without panicking, at any
//! other type. [`CryptoAssembler`] puts CRYPTO data back in order, whatever
//! the order, duplication or overlap of the frames (the first copy of a byte
//! wins), until the first handshake message, a ClientHello, is complete.
//! [`QuicInitialTracker`] does all of this per flow: it keys the Initials
//! on the client's original DCID (not the server-chosen DCID of later
//! client Initials), re-keys on the DCID a Retry hands out, starts afresh
//! after a Version Negotiation, and reports a [`QuicProgress`].
//!
//! Versions. Initial protection is known, and each salt was checked by
//! opening a real packet (the AEAD tag authenticates it) in a unit test
//! below or, where marked, in a capture of the nDPI corpus:
//!
//! | version | salt from | checked with |
//! |---|---|---|
//! | v1 `0x00000001`, drafts 33–34 | RFC 9001 §5.2 | RFC 9001 A.2; `quic-34.pcap` (corpus) |
//! | v2 `0x6b3343cf` | RFC 9369 §3.3.1 | RFC 9369 A.2; `quic-v2.pcapng` |
//! | v2 draft `0x709a50c4` | draft-ietf-quic-v2-04 §3.3.1 | the draft's A.1 key vectors |
//! | drafts 29–32 | draft-ietf-quic-tls-29 | `quic_frags_ch_out_of_order…` |
//! | drafts 23–28 | draft-ietf-quic-tls-23 | `quic-23.pcap`; 24, 27, 28 (corpus) |
//! | draft 22 | draft-ietf-quic-tls-22 | via mvfst `0xfaceb001`, `quic-mvfst-22.pcap` |
//! | mvfst `0xfaceb002`, `0xfaceb00e` | draft-23 salt | `quic-mvfst-27.pcapng`, `-exp` (corpus) |
//! | Google T050, T051 | Google's QUIC sources | `quic_t51.pcap`; `quic_t50.pcap` (corpus) |
//! | Google Q050 | Google's QUIC sources | `quic_q50.pcap` |
//! | reserved `0x?a?a?a?a` | whichever of v1, draft-29, draft-23 opens it | `quic-forcing-vn…`, `quic_interop_V` (corpus) |
//!
//! Google's T050/T051 do not use the draft-29 salt: each has its own. Their
//! frames use Google's type numbers (CRYPTO is 0x08, PADDING fills the rest
//! of the packet); inside is a TLS ClientHello. Q050 is protected the same
//! way but carries a CHLO. Q024–Q043 (public header) and Q046 (long header
//! with 4-bit connection ID lengths) send the CHLO in the clear; the CHLO's
//! tag/value map is read by [`GquicChlo`] and gives the SNI.
//!
//! What it refuses. IETF drafts up to 21 (one byte held both connection ID
//! lengths then; draft-22 split it) and drafts after 34; gQUIC Q044, Q045,
//! Q047–Q049 and T048/T049 (no capture to check a layout against); a
//! recognised but unsupported version is [`QuicError::UnsupportedVersion`],
//! any other version [`QuicProgress::NotQuic`]. Server Initials are not
//! opened (their keys are derived the same way, with [`Side::Server`]);
//! Retry integrity tags are not checked; Handshake, 0-RTT and 1-RTT packets
//! are skipped. A gQUIC CHLO must sit whole in one packet, as Google's
//! stacks send it; the NULL-encryption hash of plaintext gQUIC is not
//! checked. Packet numbers are reconstructed against the largest one opened
//! so far (RFC 9000 A.3); the first Initial's truncated number is taken as
//! it is.
//!
//! Limits. CRYPTO data is reassembled up to [`CryptoAssembler::DEFAULT_CAP`]
//! (64 KiB) in at most [`CryptoAssembler::MAX_RANGES`] disjoint pieces; a
//! ClientHello declared longer, or data beyond the cap, fails the flow. A
//! flow gets [`MAX_CLIENT_DATAGRAMS`] client datagrams and
//! [`MAX_AUTH_FAILURES`] Initials that do not authenticate before it fails.
//! Per flow the tracker holds the reassembly buffer (the ClientHello's size
//! in practice), one set of keys (freed at the verdict) and one scratch
//! buffer of one packet's size (freed at the verdict). A client Initial in a
//! datagram under 1200 bytes (RFC 9000 §14.1) is still read, and noted by
//! [`QuicInitialTracker::undersized_initial`].

use std::fmt;
use std::ops::Range;

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{Clue, Evidence, Fact};
use super::summary::{HelloSummary, QuicSummary};
use super::tls::parse_client_hello;
use super::AppProto;
use crate::bytes::{Cursor, ReadError};

mod crypto;
mod dissector;
mod frames;
mod gquic;
mod header;
mod keys;
#[cfg(test)]
mod tests;
mod tracker;

pub use crypto::*;
pub use dissector::*;
pub use frames::*;
pub use gquic::*;
pub use header::*;
pub use keys::*;
pub use tracker::*;

/// Longest connection ID in QUIC v1 and the versions read here
/// (RFC 9000 §17.2). Version Negotiation may carry up to 255 (RFC 8999).
pub const MAX_CID_LEN: usize = 20;
/// Smallest UDP payload a client Initial may travel in (RFC 9000 §14.1).
pub const MIN_INITIAL_DATAGRAM: usize = 1200;
/// Client datagrams a tracker reads before giving up.
pub const MAX_CLIENT_DATAGRAMS: u32 = 32;
/// Client Initials that may fail to authenticate before the flow fails.
pub const MAX_AUTH_FAILURES: u32 = 8;
/// Length of the AES-GCM tag and of the header protection sample.
const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;
/// The TLS handshake type of a ClientHello (RFC 8446 §4).
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;

/// A QUIC version number, as on the wire. Unknown values are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuicVersion(pub u32);

impl QuicVersion {
    /// Version 0: a Version Negotiation packet (RFC 9000 §17.2.1).
    pub const NEGOTIATION: QuicVersion = QuicVersion(0);
    /// QUIC version 1 (RFC 9000).
    pub const V1: QuicVersion = QuicVersion(0x0000_0001);
    /// QUIC version 2 (RFC 9369 §3.1).
    pub const V2: QuicVersion = QuicVersion(0x6b33_43cf);
    /// The QUIC v2 draft codepoint (RFC 9369 §9; draft-ietf-quic-v2-04).
    pub const V2_DRAFT: QuicVersion = QuicVersion(0x709a_50c4);
    pub const DRAFT_22: QuicVersion = QuicVersion::draft(22);
    pub const DRAFT_23: QuicVersion = QuicVersion::draft(23);
    pub const DRAFT_27: QuicVersion = QuicVersion::draft(27);
    pub const DRAFT_29: QuicVersion = QuicVersion::draft(29);
    pub const DRAFT_34: QuicVersion = QuicVersion::draft(34);
    /// Facebook's mvfst, draft-22 based.
    pub const MVFST_DRAFT_22: QuicVersion = QuicVersion(0xface_b001);
    /// Facebook's mvfst, draft-27 based.
    pub const MVFST_DRAFT_27: QuicVersion = QuicVersion(0xface_b002);
    /// Facebook's mvfst experimental version.
    pub const MVFST_EXPERIMENTAL: QuicVersion = QuicVersion(0xface_b00e);
    pub const GQUIC_Q024: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q024"));
    pub const GQUIC_Q035: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q035"));
    pub const GQUIC_Q039: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q039"));
    pub const GQUIC_Q043: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q043"));
    pub const GQUIC_Q046: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q046"));
    pub const GQUIC_Q050: QuicVersion = QuicVersion(u32::from_be_bytes(*b"Q050"));
    pub const GQUIC_T050: QuicVersion = QuicVersion(u32::from_be_bytes(*b"T050"));
    pub const GQUIC_T051: QuicVersion = QuicVersion(u32::from_be_bytes(*b"T051"));

    /// IETF draft `n` (`0xff0000nn`).
    pub const fn draft(n: u8) -> QuicVersion {
        QuicVersion(0xff00_0000 | n as u32)
    }

    /// The IETF draft number, for `0xff0000nn`.
    pub fn ietf_draft(self) -> Option<u8> {
        (self.0 & 0xffff_ff00 == 0xff00_0000 && self.0 & 0xff != 0).then_some(self.0 as u8)
    }

    /// A version reserved for greasing negotiation, `0x?a?a?a?a`
    /// (RFC 9000 §15).
    pub fn is_reserved(self) -> bool {
        self.0 & 0x0f0f_0f0f == 0x0a0a_0a0a
    }

    /// Google QUIC: `Q0nn` (QUIC crypto) or `T0nn` (TLS); the letter and
    /// the number.
    pub fn google(self) -> Option<(u8, u8)> {
        let [l, z, a, b] = self.0.to_be_bytes();
        (matches!(l, b'Q' | b'T') && z == b'0' && a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| (l, (a - b'0') * 10 + (b - b'0')))
    }

    /// Facebook mvfst's range, `0xfaceb0nn`.
    pub fn is_mvfst(self) -> bool {
        self.0 & 0xffff_ff00 == 0xface_b000
    }

    /// A version of some QUIC family, supported here or not.
    pub fn is_recognised(self) -> bool {
        matches!(
            self,
            Self::NEGOTIATION | Self::V1 | Self::V2 | Self::V2_DRAFT
        ) || self.ietf_draft().is_some()
            || self.is_reserved()
            || self.google().is_some()
            || self.is_mvfst()
    }

    /// True when this module can remove the version's Initial protection.
    pub fn has_initial_protection(self) -> bool {
        protection(self).is_some()
    }

    /// Long-header type bits are the QUIC v2 ones (RFC 9369 §3.2).
    fn v2_types(self) -> bool {
        matches!(self, Self::V2 | Self::V2_DRAFT)
    }
}

impl fmt::Display for QuicVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NEGOTIATION => f.write_str("negotiation"),
            Self::V1 => f.write_str("v1"),
            Self::V2 => f.write_str("v2"),
            v => {
                if let Some(n) = v.ietf_draft() {
                    write!(f, "draft-{n}")
                } else if let Some((l, n)) = v.google() {
                    write!(f, "{}{n:03}", l as char)
                } else {
                    write!(f, "{:#010x}", v.0)
                }
            }
        }
    }
}

impl fmt::Debug for QuicVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QuicVersion({self})")
    }
}

/// A frame type number (RFC 9000 §19; for Google versions, Google's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameType(pub u64);

impl FrameType {
    pub const PADDING: FrameType = FrameType(0x00);
    pub const PING: FrameType = FrameType(0x01);
    pub const ACK: FrameType = FrameType(0x02);
    pub const ACK_ECN: FrameType = FrameType(0x03);
    pub const CRYPTO: FrameType = FrameType(0x06);
    pub const CONNECTION_CLOSE: FrameType = FrameType(0x1c);
    pub const CONNECTION_CLOSE_APP: FrameType = FrameType(0x1d);
    /// Google QUIC (Q050, T05x): PING.
    pub const GQUIC_PING: FrameType = FrameType(0x07);
    /// Google QUIC (Q050, T05x): CRYPTO, laid out as the IETF one.
    pub const GQUIC_CRYPTO: FrameType = FrameType(0x08);
}

/// Why a packet, a frame or a flow could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuicError {
    #[error("{what} runs past the end: byte {offset}, {needed} more needed")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
    },
    #[error("first byte {0:#04x} is not a long header")]
    NotLongHeader(u8),
    #[error("{which} connection ID of {len} bytes, more than {MAX_CID_LEN}")]
    ConnectionIdTooLong { which: &'static str, len: usize },
    #[error("QUIC version {0} is not supported (no known Initial protection or layout)")]
    UnsupportedVersion(QuicVersion),
    #[error("Initial packet did not authenticate (wrong keys or altered bytes)")]
    Authentication,
    #[error("frame type {frame_type:?} at payload byte {offset} is not read in Initial packets")]
    UnknownFrame {
        frame_type: FrameType,
        offset: usize,
    },
    #[error("frame {frame_type:?} at payload byte {offset} is malformed: {why}")]
    MalformedFrame {
        frame_type: FrameType,
        offset: usize,
        why: &'static str,
    },
    #[error("CRYPTO data up to offset {end} is beyond the {cap}-byte reassembly cap")]
    CryptoCapExceeded { end: u64, cap: usize },
    #[error("CRYPTO data in more than {0} disjoint pieces")]
    TooFragmented(usize),
    #[error("first handshake message has type {0}, not ClientHello (1)")]
    NotClientHello(u8),
    #[error("ClientHello of {len} bytes is over the {cap}-byte cap")]
    ClientHelloTooLarge { len: usize, cap: usize },
    #[error("malformed header: {0}")]
    MalformedHeader(&'static str),
    #[error("gQUIC CHLO malformed: {0}")]
    MalformedChlo(&'static str),
    #[error("no complete ClientHello in {0} client datagrams")]
    GaveUp(u32),
    #[error("{0} client Initials did not authenticate")]
    Undecryptable(u32),
}

impl From<ReadError> for QuicError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated {
                what,
                offset,
                needed,
                available,
            } => QuicError::Truncated {
                what,
                offset,
                needed: needed.saturating_sub(available),
            },
            ReadError::Trailing { what, .. } | ReadError::OddLength { what, .. } => {
                QuicError::MalformedHeader(what)
            }
        }
    }
}

/// The bounds-checked reader every QUIC parser walks its bytes with.
type Reader<'a> = Cursor<'a>;

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}
