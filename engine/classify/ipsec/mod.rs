//! IPsec: IKE (v1 and v2) key exchanges, and the ESP and AH packets of the
//! security associations they set up.
//!
//! - [`IkeTracker`] reads IKE messages on UDP (port 500 as is, port 4500
//!   behind the 4-byte zero non-ESP marker of RFC 3948) and on TCP (RFC 8229:
//!   the client's stream opens with `IKETCP`, then every message is framed by
//!   a 2-byte length that counts itself, followed by the non-ESP marker for
//!   IKE or by the SPI for ESP). Each message must have a non-zero initiator
//!   SPI, version 0x10 (IKEv1, RFC 2408/2409) or 0x20 (IKEv2, RFC 7296), a
//!   known exchange type (IKEv2 34-44, with IKE_INTERMEDIATE of RFC 9242 and
//!   IKE_FOLLOWUP_KE of RFC 9370), only its version's flag bits, a length
//!   field equal to the message's size, and a payload chain (generic headers:
//!   next payload, reserved/critical byte, 2-byte length of at least 4) that
//!   ends exactly at the last byte. IKEv2's Encrypted (SK, RFC 7296 §3.14)
//!   and Encrypted Fragment (SKF, RFC 7383) payloads must be last; an IKEv1
//!   message with the encryption flag is a header and ciphertext padded to
//!   the cipher block (a multiple of 8 bytes). Exchange rules on top: an
//!   IKE_SA_INIT request has message id 0, the I flag and a zero responder
//!   SPI, and carries SA, KE and Nonce; later IKEv2 exchanges are encrypted
//!   and name both SPIs; IKEv1 phase-1 messages have message id 0, Quick Mode
//!   is encrypted with a non-zero one.
//! - [`EspTracker`] follows ESP (RFC 4303) over IP protocol 50 or inside UDP
//!   (RFC 3948): per direction a stable SPI of at least 256 (1-255 are
//!   reserved), non-zero sequence numbers increasing about one per packet,
//!   sizes of an encrypted payload (at least [`MIN_ESP_LEN`] bytes, a
//!   multiple of 4). [`AhTracker`] does the same for AH (RFC 4302, IP
//!   protocol 51), whose header it checks too.
//! - [`UdpEncapTracker`] takes a UDP-4500-style flow apart by content:
//!   non-ESP marker then IKE, a single 0xFF byte a NAT-keepalive, anything
//!   else ESP; it calls the flow `esp` (with the IKE details) once ESP is
//!   seen, `ike` if only IKE was.
//!
//! Confidence: IKE is `High` when a request and its response are seen (the
//! response from the other side, same exchange and message id, the
//! initiator SPI echoed and the responder SPI set or kept, IKEv2's R flag
//! set and I flag flipped), `Medium` for fully valid messages without a
//! partner ([`UNPAIRED_MEDIUM`] of them on the way, one when the flow ends).
//! ESP/AH is `High` with both directions in sequence on distinct SPIs — or,
//! in one UDP flow, one direction behind a paired IKE exchange once the
//! other has stayed silent for [`ONE_WAY_PACKETS`] — and `Medium` for one
//! direction only; a lone IP-50/51 packet is `Low` (the protocol number is
//! all there is). In UDP, where only the pattern says ESP, a direction needs
//! three packets in sequence (two, or one SA start, behind paired IKE);
//! over IP, two or one SA start (sequence 1-4). Verdicts: protocol `ike`,
//! `esp`, or `ah`. Each tracker's `verdict()` answers for a flow that ended
//! undecided. Details: `ike_version`, `exchanges` (in order of first
//! appearance in this flow), `initiator_spi`, `responder_spi`, `carrier`,
//! `esp_spi_to_server` / `esp_spi_to_client` (`ah_...` and `icv_bytes` for
//! AH), `nat_keepalives`.
//!
//! Refused (`NotThis`): any message or packet breaking the rules above
//! (reserved flag and payload-header bits too: RFC 7296 has receivers
//! ignore them, a classifier takes them as evidence against IKE), an SPI
//! pair changing within an IKE SA, a side flipping its IKEv2 I flag,
//! an ESP/AH sequence jumping back or far ahead or repeating, a new SPI that
//! does not start a fresh sequence, both directions on one SPI. Random
//! UDP, DNS and QUIC to 500/4500 fail the version byte, the length field or
//! the chain at once; as ESP they fail the SPI/sequence/size pattern within
//! a few packets.
//!
//! Limits: [`MAX_MESSAGES`] datagrams (or TCP frames) are examined; a flow
//! undecided by then is `NotThis`. State is fixed-size (at most
//! [`MAX_IKE_SAS`] IKE SAs, [`MAX_PENDING`] unanswered messages and
//! [`MAX_SPIS`] SPIs per direction; the TCP reader keeps 34 bytes, never a
//! message). [`IkeTracker`] alone refuses a port-4500 flow at its first ESP
//! packet: [`UdpEncapTracker`] is the reader for those.
//!
//! ESP SPIs are not read from IKE: a compliant exchange never shows them in
//! clear. IKEv2's only cleartext SA payloads (IKE_SA_INIT) propose the IKE
//! SA itself; the child SAs' SPIs travel in IKE_AUTH and CREATE_CHILD_SA,
//! which are encrypted, as is IKEv1's Quick Mode after Main Mode. They come
//! from the ESP packets instead: the UDP-4500 flow's own (details
//! `esp_spi_to_server` / `esp_spi_to_client`), or the IP-50 flow's. ESP
//! frames inside RFC 8229 TCP are counted, not followed (the IKE exchange
//! decides those flows). Packets cut short by the snaplen must not be fed:
//! sizes are evidence.

use std::fmt;

use super::dissector::{
    Carrier as Feeds, Confidence, Dissector, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{self, Evidence};
use super::vpn::{side_name, side_of, Hex32, Hex64, Value, VpnDetails};
use super::vpn::{Gate, Progress, VpnProtocol, VpnVerdict};
use crate::bytes::{be16, be32, be64};

mod dissector;
mod encap;
mod esp;
mod evidence;
mod ike;
mod ike_tracker;
#[cfg(test)]
mod tests;

pub use dissector::*;
pub use encap::*;
pub use esp::*;
pub use evidence::*;
pub use ike::*;
pub use ike_tracker::*;

/// IKE header layout (RFC 2408 §3.1, RFC 7296 §3.1), as offsets.
mod field {
    pub const INITIATOR_SPI: usize = 0;
    pub const RESPONDER_SPI: usize = 8;
    pub const NEXT_PAYLOAD: usize = 16;
    pub const VERSION: usize = 17;
    pub const EXCHANGE: usize = 18;
    pub const FLAGS: usize = 19;
    pub const MESSAGE_ID: usize = 20;
    pub const LENGTH: usize = 24;
}

/// Size of the IKE header.
pub const IKE_HEADER_LEN: usize = 28;
/// RFC 3948's non-ESP marker: where ESP has its SPI, IKE has four zeros.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// RFC 3948's NAT-keepalive: a single 0xFF byte.
pub const NAT_KEEPALIVE: u8 = 0xff;
/// RFC 8229's stream prefix, sent once by the TCP client.
pub const TCP_PREFIX: &[u8; 6] = b"IKETCP";
/// The smallest ESP packet taken as real: header (8), a 4-byte trailer,
/// and the smallest IV or payload (8) and ICV (12) in use.
pub const MIN_ESP_LEN: usize = 32;
/// SPIs 1-255 are reserved (RFC 4303 §2.1); 0 is the non-ESP marker.
pub const MIN_SPI: u32 = 256;

/// Datagrams (or TCP frames) examined before a tracker stops looking.
pub const MAX_MESSAGES: u32 = 32;
/// IKE SAs (initiator SPIs) remembered per flow.
pub const MAX_IKE_SAS: usize = 4;
/// Messages remembered while awaiting their response.
pub const MAX_PENDING: usize = 4;
/// Valid IKE messages without a partner that make a `Medium` verdict
/// before the flow ends.
pub const UNPAIRED_MEDIUM: u32 = 3;
/// SPIs per direction (child SA rekeys) in one flow.
pub const MAX_SPIS: usize = 4;
/// How far a sequence number may fall behind the highest seen.
pub const REPLAY_WINDOW: u32 = 64;
/// How far it may jump ahead (packets lost or not captured).
pub const MAX_SEQ_STEP: u32 = 256;
/// A new SA's first sequence number is at most this.
pub const FRESH_SEQ: u32 = 16;
/// Repeated sequence numbers tolerated per direction (duplicated capture).
pub const MAX_REPEATS: u32 = 2;
/// Packets in one direction, the other silent, for a one-way `Medium`.
pub const ONE_WAY_PACKETS: u32 = 6;

/// Why a message, a packet or a flow is not IKE/ESP/AH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpsecRefusal {
    #[error("empty payload")]
    Empty,
    #[error("{len} bytes: shorter than an IKE header")]
    TooShort { len: usize },
    #[error("initiator SPI is zero")]
    InitiatorSpiZero,
    #[error("version byte {0:#04x} is neither IKEv1 (0x10) nor IKEv2 (0x20)")]
    Version(u8),
    #[error("exchange type {exchange} is not an IKEv{major} exchange")]
    Exchange { major: u8, exchange: u8 },
    #[error("flags {flags:#04x} set bits IKEv{major} does not define")]
    Flags { major: u8, flags: u8 },
    #[error("length field {field} but the message has {actual} bytes")]
    LengthField { field: u32, actual: usize },
    #[error("payload type {value} at offset {at} is not an IKEv{major} payload")]
    NextPayload { major: u8, at: usize, value: u8 },
    #[error("reserved bits {value:#04x} set in the payload header at offset {at}")]
    PayloadReserved { at: usize, value: u8 },
    #[error("payload at offset {at} claims {len} bytes (under 4, or past the message end {end})")]
    PayloadLength { at: usize, len: u16, end: usize },
    #[error("payload chain announces type {next} at offset {at}, where the message ends")]
    ChainShort { at: usize, next: u8 },
    #[error("{len} bytes after the last payload at offset {at}")]
    TrailingBytes { at: usize, len: usize },
    #[error("encrypted payload at offset {at} is not the last")]
    EncryptedNotLast { at: usize },
    #[error("encrypted IKEv1 body of {len} bytes is not whole cipher blocks")]
    EncryptedBody { len: usize },
    #[error("{exchange} with message id {id}")]
    MessageId { exchange: &'static str, id: u32 },
    #[error("{exchange} with a zero responder SPI")]
    ResponderSpiZero { exchange: &'static str },
    #[error("{exchange} request with a responder SPI already set")]
    ResponderSpiSet { exchange: &'static str },
    #[error("{exchange} without its {missing} payload")]
    MissingPayload {
        exchange: &'static str,
        missing: &'static str,
    },
    #[error("{exchange} sent in clear")]
    NotEncrypted { exchange: &'static str },
    #[error("{exchange} flags {flags:#04x}: wrong I/R bits for it")]
    Role { exchange: &'static str, flags: u8 },
    #[error("IKE SA {initiator:#018x}: responder SPI {now:#018x} after {was:#018x}")]
    SpiChanged { initiator: u64, was: u64, now: u64 },
    #[error("IKE SA {0:#018x}: the I flag moved to the other side")]
    InitiatorFlag(u64),
    #[error("TCP stream does not open with IKETCP")]
    Prefix,
    #[error("TCP frame length {len} too small for IKE or ESP")]
    FrameLength { len: u16 },
    #[error("ESP/AH packet of {len} bytes: under {MIN_ESP_LEN} or not a multiple of 4")]
    EspLength { len: usize },
    #[error("AH header: {0}")]
    AhHeader(&'static str),
    #[error("SPI {0:#010x} is reserved (0-255)")]
    ReservedSpi(u32),
    #[error("sequence number 0 on SPI {0:#010x}")]
    ZeroSequence(u32),
    #[error("sequence {seq} on SPI {spi:#010x} after {highest}: not in order")]
    Sequence { spi: u32, highest: u32, seq: u32 },
    #[error("sequence {seq} repeated on SPI {spi:#010x}")]
    RepeatedSequence { spi: u32, seq: u32 },
    #[error("new SPI {spi:#010x} starts at sequence {seq}, not a fresh SA")]
    NewSpiMidSequence { spi: u32, seq: u32 },
    #[error("more than {MAX_SPIS} SPIs in one direction")]
    TooManySpis,
    #[error("both directions use SPI {0:#010x}")]
    SameSpi(u32),
    #[error("undecided after {0} packets")]
    Undecided(u32),
}

type Refusal = IpsecRefusal;
