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

/// IKE major version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IkeVersion {
    V1,
    V2,
}

impl IkeVersion {
    pub fn major(self) -> u8 {
        match self {
            IkeVersion::V1 => 1,
            IkeVersion::V2 => 2,
        }
    }
}

/// An exchange type, kept as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExchangeType(pub u8);

impl ExchangeType {
    pub const V1_BASE: Self = Self(1);
    pub const V1_MAIN_MODE: Self = Self(2);
    pub const V1_AUTH_ONLY: Self = Self(3);
    pub const V1_AGGRESSIVE: Self = Self(4);
    pub const V1_INFORMATIONAL: Self = Self(5);
    pub const V1_TRANSACTION: Self = Self(6);
    pub const V1_QUICK_MODE: Self = Self(32);
    pub const V1_NEW_GROUP: Self = Self(33);
    pub const IKE_SA_INIT: Self = Self(34);
    pub const IKE_AUTH: Self = Self(35);
    pub const CREATE_CHILD_SA: Self = Self(36);
    pub const INFORMATIONAL: Self = Self(37);
    pub const IKE_SESSION_RESUME: Self = Self(38);
    pub const IKE_INTERMEDIATE: Self = Self(43);
    pub const IKE_FOLLOWUP_KE: Self = Self(44);

    /// The exchange's name, `None` when `version` has no such exchange.
    pub fn name(self, version: IkeVersion) -> Option<&'static str> {
        Some(match (version, self.0) {
            (IkeVersion::V1, 1) => "BASE",
            (IkeVersion::V1, 2) => "MAIN_MODE",
            (IkeVersion::V1, 3) => "AUTH_ONLY",
            (IkeVersion::V1, 4) => "AGGRESSIVE",
            (IkeVersion::V1, 5) => "INFORMATIONAL",
            (IkeVersion::V1, 6) => "TRANSACTION",
            (IkeVersion::V1, 32) => "QUICK_MODE",
            (IkeVersion::V1, 33) => "NEW_GROUP",
            (IkeVersion::V2, 34) => "IKE_SA_INIT",
            (IkeVersion::V2, 35) => "IKE_AUTH",
            (IkeVersion::V2, 36) => "CREATE_CHILD_SA",
            (IkeVersion::V2, 37) => "INFORMATIONAL",
            (IkeVersion::V2, 38) => "IKE_SESSION_RESUME",
            (IkeVersion::V2, 39) => "GSA_AUTH",
            (IkeVersion::V2, 40) => "GSA_REGISTRATION",
            (IkeVersion::V2, 41) => "GSA_REKEY",
            (IkeVersion::V2, 42) => "EXCHANGE_42",
            (IkeVersion::V2, 43) => "IKE_INTERMEDIATE",
            (IkeVersion::V2, 44) => "IKE_FOLLOWUP_KE",
            _ => return None,
        })
    }

    /// IKEv1 phase-1 exchanges, whose message id is zero.
    fn is_v1_phase1(self) -> bool {
        matches!(self.0, 1..=4)
    }
}

/// A payload type, kept as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u8);

impl PayloadType {
    pub const NONE: Self = Self(0);
    pub const V1_SA: Self = Self(1);
    pub const V1_NOTIFY: Self = Self(11);
    pub const SA: Self = Self(33);
    pub const KE: Self = Self(34);
    pub const NONCE: Self = Self(40);
    pub const NOTIFY: Self = Self(41);
    pub const ENCRYPTED: Self = Self(46);
    pub const ENCRYPTED_FRAGMENT: Self = Self(53);

    /// A payload type `version` defines (RFC 2408 §3.1 with GDOI's 15-19
    /// and NAT-T's 20-21; RFC 7296 §3.2 with later IANA additions up to
    /// 54), or private use (128-255).
    pub fn is_valid(self, version: IkeVersion) -> bool {
        match version {
            IkeVersion::V1 => matches!(self.0, 1..=21 | 128..=255),
            IkeVersion::V2 => matches!(self.0, 33..=54 | 128..=255),
        }
    }

    fn label(self, version: IkeVersion) -> Option<&'static str> {
        Some(match (version, self.0) {
            (IkeVersion::V1, 1) => "SA",
            (IkeVersion::V1, 4) => "KE",
            (IkeVersion::V1, 5) => "ID",
            (IkeVersion::V1, 6) => "CERT",
            (IkeVersion::V1, 7) => "CR",
            (IkeVersion::V1, 8) => "HASH",
            (IkeVersion::V1, 9) => "SIG",
            (IkeVersion::V1, 10) => "NONCE",
            (IkeVersion::V1, 11) => "N",
            (IkeVersion::V1, 12) => "D",
            (IkeVersion::V1, 13) => "VID",
            (IkeVersion::V1, 20) => "NAT-D",
            (IkeVersion::V1, 21) => "NAT-OA",
            (IkeVersion::V2, 33) => "SA",
            (IkeVersion::V2, 34) => "KE",
            (IkeVersion::V2, 35) => "IDi",
            (IkeVersion::V2, 36) => "IDr",
            (IkeVersion::V2, 37) => "CERT",
            (IkeVersion::V2, 38) => "CERTREQ",
            (IkeVersion::V2, 39) => "AUTH",
            (IkeVersion::V2, 40) => "Nonce",
            (IkeVersion::V2, 41) => "N",
            (IkeVersion::V2, 42) => "D",
            (IkeVersion::V2, 43) => "V",
            (IkeVersion::V2, 44) => "TSi",
            (IkeVersion::V2, 45) => "TSr",
            (IkeVersion::V2, 46) => "SK",
            (IkeVersion::V2, 47) => "CP",
            (IkeVersion::V2, 48) => "EAP",
            (IkeVersion::V2, 53) => "SKF",
            _ => return None,
        })
    }
}

/// IKE header flag bits.
pub mod flags {
    /// IKEv1: the payloads after the header are encrypted.
    pub const V1_ENCRYPTION: u8 = 0x01;
    pub const V1_COMMIT: u8 = 0x02;
    pub const V1_AUTH_ONLY: u8 = 0x04;
    /// IKEv2: sent by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// IKEv2: the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// IKEv2: this message is a response.
    pub const RESPONSE: u8 = 0x20;
}

/// A parsed IKE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeHeader {
    pub initiator_spi: u64,
    pub responder_spi: u64,
    pub next_payload: PayloadType,
    pub version: IkeVersion,
    pub exchange: ExchangeType,
    pub flags: u8,
    pub message_id: u32,
    pub length: u32,
}

impl IkeHeader {
    /// Reads and checks the fixed header: initiator SPI, version, exchange
    /// type, flags and first payload type. The length field is checked by
    /// the caller, who knows the message size.
    pub fn parse(b: &[u8]) -> Result<IkeHeader, Refusal> {
        let too_short = Refusal::TooShort { len: b.len() };
        if b.len() < IKE_HEADER_LEN {
            return Err(too_short);
        }
        let byte = |at: usize| b.get(at).copied().ok_or(too_short);
        let initiator_spi = be64(b, field::INITIATOR_SPI).ok_or(too_short)?;
        if initiator_spi == 0 {
            return Err(Refusal::InitiatorSpiZero);
        }
        let version = match byte(field::VERSION)? {
            0x10 => IkeVersion::V1,
            0x20 => IkeVersion::V2,
            other => return Err(Refusal::Version(other)),
        };
        let major = version.major();
        let exchange = ExchangeType(byte(field::EXCHANGE)?);
        if exchange.name(version).is_none() {
            return Err(Refusal::Exchange {
                major,
                exchange: exchange.0,
            });
        }
        let flag_bits = byte(field::FLAGS)?;
        let allowed = match version {
            IkeVersion::V1 => flags::V1_ENCRYPTION | flags::V1_COMMIT | flags::V1_AUTH_ONLY,
            IkeVersion::V2 => flags::INITIATOR | flags::VERSION | flags::RESPONSE,
        };
        if flag_bits & !allowed != 0 {
            return Err(Refusal::Flags {
                major,
                flags: flag_bits,
            });
        }
        let next_payload = PayloadType(byte(field::NEXT_PAYLOAD)?);
        if !next_payload.is_valid(version) {
            return Err(Refusal::NextPayload {
                major,
                at: field::NEXT_PAYLOAD,
                value: next_payload.0,
            });
        }
        Ok(IkeHeader {
            initiator_spi,
            responder_spi: be64(b, field::RESPONDER_SPI).ok_or(too_short)?,
            next_payload,
            version,
            exchange,
            flags: flag_bits,
            message_id: be32(b, field::MESSAGE_ID).ok_or(too_short)?,
            length: be32(b, field::LENGTH).ok_or(too_short)?,
        })
    }

    /// IKEv2 R flag.
    pub fn is_response(&self) -> bool {
        self.version == IkeVersion::V2 && self.flags & flags::RESPONSE != 0
    }

    /// IKEv2 I flag.
    pub fn from_original_initiator(&self) -> bool {
        self.flags & flags::INITIATOR != 0
    }

    fn v1_encrypted(&self) -> bool {
        self.version == IkeVersion::V1 && self.flags & flags::V1_ENCRYPTION != 0
    }

    fn exchange_name(&self) -> &'static str {
        self.exchange.name(self.version).unwrap_or("exchange")
    }
}

/// The payload types of a message's top-level chain, in order (the first
/// [`PayloadList::CAP`] of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayloadList {
    types: [u8; PayloadList::CAP],
    count: u8,
}

impl PayloadList {
    pub const CAP: usize = 12;

    fn push(&mut self, t: PayloadType) {
        if let Some(slot) = self.types.get_mut(usize::from(self.count)) {
            *slot = t.0;
        }
        self.count = self.count.saturating_add(1);
    }

    /// The types recorded (at most [`Self::CAP`]).
    pub fn types(&self) -> impl Iterator<Item = PayloadType> + '_ {
        self.types
            .iter()
            .take(usize::from(self.count))
            .map(|&t| PayloadType(t))
    }

    /// Payloads in the chain (all of them, also past the cap).
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn contains(&self, t: PayloadType) -> bool {
        self.types().any(|x| x == t)
    }

    fn only(&self, t: PayloadType) -> bool {
        !self.is_empty() && usize::from(self.count) <= Self::CAP && self.types().all(|x| x == t)
    }

    fn describe(&self, version: IkeVersion) -> String {
        let mut s = String::new();
        for (i, t) in self.types().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match t.label(version) {
                Some(l) => s.push_str(l),
                None => s.push_str(&t.0.to_string()),
            }
        }
        if usize::from(self.count) > Self::CAP {
            s.push_str(",...");
        }
        s
    }
}

/// A validated IKE message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeMessage {
    pub header: IkeHeader,
    pub payloads: PayloadList,
    /// The payloads are encrypted (IKEv1 E flag, or IKEv2 SK/SKF last).
    pub encrypted: bool,
}

/// Walks a message of known size as its bytes arrive (one datagram at once,
/// or a TCP frame in pieces), keeping only the header and the payload
/// header being read.
#[derive(Clone, Copy, Debug)]
struct MessageWalk {
    len: usize,
    pos: usize,
    header_buf: [u8; IKE_HEADER_LEN],
    header: Option<IkeHeader>,
    /// Offset and type of the next payload header.
    next_at: usize,
    next_type: PayloadType,
    /// An encrypted part runs to the end: nothing more to walk.
    terminal: bool,
    generic: [u8; 4],
    generic_have: usize,
    payloads: PayloadList,
}

impl MessageWalk {
    fn new(len: usize) -> Result<Self, Refusal> {
        if len < IKE_HEADER_LEN {
            return Err(Refusal::TooShort { len });
        }
        Ok(MessageWalk {
            len,
            pos: 0,
            header_buf: [0; IKE_HEADER_LEN],
            header: None,
            next_at: IKE_HEADER_LEN,
            next_type: PayloadType::NONE,
            terminal: false,
            generic: [0; 4],
            generic_have: 0,
            payloads: PayloadList::default(),
        })
    }

    /// Feeds the next bytes of the message (never more than it has left).
    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Refusal> {
        if bytes.len() > self.len - self.pos {
            return Err(Refusal::TrailingBytes {
                at: self.len,
                len: bytes.len() - (self.len - self.pos),
            });
        }
        while !bytes.is_empty() {
            if self.pos < IKE_HEADER_LEN {
                let take = (IKE_HEADER_LEN - self.pos).min(bytes.len());
                let (now, rest) = bytes.split_at(take);
                if let Some(dst) = self.header_buf.get_mut(self.pos..self.pos + take) {
                    dst.copy_from_slice(now);
                }
                self.pos += take;
                bytes = rest;
                if self.pos == IKE_HEADER_LEN {
                    self.start()?;
                }
                continue;
            }
            let header = self.header.ok_or(Refusal::TooShort { len: self.pos })?;
            if self.terminal || self.pos < self.next_at {
                let until = if self.terminal {
                    self.len
                } else {
                    self.next_at
                };
                let skip = (until - self.pos).min(bytes.len());
                self.pos += skip;
                bytes = bytes.get(skip..).unwrap_or_default();
                continue;
            }
            if self.next_type == PayloadType::NONE {
                return Err(Refusal::TrailingBytes {
                    at: self.pos,
                    len: self.len - self.pos,
                });
            }
            let take = (4 - self.generic_have).min(bytes.len());
            let (now, rest) = bytes.split_at(take);
            if let Some(dst) = self
                .generic
                .get_mut(self.generic_have..self.generic_have + take)
            {
                dst.copy_from_slice(now);
            }
            self.generic_have += take;
            self.pos += take;
            bytes = rest;
            if self.generic_have == 4 {
                self.generic_have = 0;
                self.payload_header(header)?;
            }
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), Refusal> {
        let h = IkeHeader::parse(&self.header_buf)?;
        if h.length as usize != self.len {
            return Err(Refusal::LengthField {
                field: h.length,
                actual: self.len,
            });
        }
        self.next_type = h.next_payload;
        if h.v1_encrypted() {
            let body = self.len - IKE_HEADER_LEN;
            if body == 0 || body % 8 != 0 {
                return Err(Refusal::EncryptedBody { len: body });
            }
            self.payloads.push(h.next_payload);
            self.terminal = true;
        }
        self.header = Some(h);
        Ok(())
    }

    /// Checks the generic payload header just read at `next_at`.
    fn payload_header(&mut self, h: IkeHeader) -> Result<(), Refusal> {
        let at = self.next_at;
        let [next, reserved, l0, l1] = self.generic;
        let plen = u16::from_be_bytes([l0, l1]);
        // IKEv2 keeps the top bit for "critical"; the rest is reserved.
        let reserved_bits = match h.version {
            IkeVersion::V1 => reserved,
            IkeVersion::V2 => reserved & 0x7f,
        };
        if reserved_bits != 0 {
            return Err(Refusal::PayloadReserved {
                at: at + 1,
                value: reserved,
            });
        }
        let end = at + usize::from(plen);
        if plen < 4 || end > self.len {
            return Err(Refusal::PayloadLength {
                at,
                len: plen,
                end: self.len,
            });
        }
        let next = PayloadType(next);
        if next != PayloadType::NONE && !next.is_valid(h.version) {
            return Err(Refusal::NextPayload {
                major: h.version.major(),
                at,
                value: next.0,
            });
        }
        let this = self.next_type;
        self.payloads.push(this);
        let encrypted = h.version == IkeVersion::V2
            && (this == PayloadType::ENCRYPTED || this == PayloadType::ENCRYPTED_FRAGMENT);
        if encrypted {
            // Its next-payload field names the first inner payload.
            if end != self.len {
                return Err(Refusal::EncryptedNotLast { at });
            }
            self.terminal = true;
            self.next_type = PayloadType::NONE;
        } else {
            self.next_type = next;
        }
        self.next_at = end;
        Ok(())
    }

    /// Ends the message: the chain must have ended exactly at its last byte
    /// and the exchange's rules hold.
    fn finish(self) -> Result<IkeMessage, Refusal> {
        let header = match self.header {
            Some(h) if self.pos == self.len => h,
            _ => return Err(Refusal::TooShort { len: self.pos }),
        };
        if !self.terminal && (self.next_type != PayloadType::NONE || self.next_at != self.len) {
            return Err(Refusal::ChainShort {
                at: self.next_at,
                next: self.next_type.0,
            });
        }
        let msg = IkeMessage {
            header,
            payloads: self.payloads,
            encrypted: self.terminal,
        };
        exchange_rules(&msg)?;
        Ok(msg)
    }
}

/// Checks a whole IKE message (header, length, payload chain, exchange
/// rules). `b` is the message itself, without marker or framing.
pub fn parse_message(b: &[u8]) -> Result<IkeMessage, Refusal> {
    let mut walk = MessageWalk::new(b.len())?;
    walk.feed(b)?;
    walk.finish()
}

/// What each exchange requires of its messages.
fn exchange_rules(m: &IkeMessage) -> Result<(), Refusal> {
    let h = &m.header;
    let exchange = h.exchange_name();
    let p = &m.payloads;
    match h.version {
        IkeVersion::V2 => {
            if h.exchange == ExchangeType::IKE_SA_INIT {
                if h.message_id != 0 {
                    return Err(Refusal::MessageId {
                        exchange,
                        id: h.message_id,
                    });
                }
                if m.encrypted {
                    return Err(Refusal::MissingPayload {
                        exchange,
                        missing: "cleartext",
                    });
                }
                let request = !h.is_response();
                if request != h.from_original_initiator() {
                    return Err(Refusal::Role {
                        exchange,
                        flags: h.flags,
                    });
                }
                let notify_only = p.only(PayloadType::NOTIFY);
                if request {
                    if h.responder_spi != 0 {
                        return Err(Refusal::ResponderSpiSet { exchange });
                    }
                } else if h.responder_spi == 0 && !notify_only {
                    // Only a stateless answer (COOKIE, INVALID_KE_PAYLOAD,
                    // errors) leaves the responder SPI zero.
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if !notify_only || request {
                    for (t, name) in [
                        (PayloadType::SA, "SA"),
                        (PayloadType::KE, "KE"),
                        (PayloadType::NONCE, "Nonce"),
                    ] {
                        if !p.contains(t) && p.len() <= PayloadList::CAP {
                            return Err(Refusal::MissingPayload {
                                exchange,
                                missing: name,
                            });
                        }
                    }
                }
            } else if h.exchange == ExchangeType::IKE_SESSION_RESUME {
                // RFC 5723: a ticket in clear, the responder SPI zero in
                // the request; nothing more to check here.
            } else if h.exchange == ExchangeType::INFORMATIONAL && !m.encrypted {
                // Outside an IKE SA (RFC 7296 §1.5): notifications only.
                if !p.only(PayloadType::NOTIFY) {
                    return Err(Refusal::NotEncrypted { exchange });
                }
            } else {
                if h.responder_spi == 0 {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if !m.encrypted {
                    return Err(Refusal::NotEncrypted { exchange });
                }
                if h.exchange == ExchangeType::IKE_AUTH && h.message_id == 0 {
                    return Err(Refusal::MessageId { exchange, id: 0 });
                }
            }
        }
        IkeVersion::V1 => {
            if h.exchange.is_v1_phase1() {
                if h.message_id != 0 {
                    return Err(Refusal::MessageId {
                        exchange,
                        id: h.message_id,
                    });
                }
                if h.responder_spi == 0 {
                    if m.encrypted {
                        return Err(Refusal::ResponderSpiZero { exchange });
                    }
                    // The first message offers the SA (RFC 2409 §5).
                    if p.types().next() != Some(PayloadType::V1_SA) {
                        return Err(Refusal::MissingPayload {
                            exchange,
                            missing: "SA",
                        });
                    }
                }
            } else if h.exchange == ExchangeType::V1_INFORMATIONAL {
                if h.responder_spi == 0 && m.encrypted {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
            } else {
                // Quick Mode, New Group, Transaction: phase 2, under the
                // phase-1 SA.
                if h.responder_spi == 0 {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if h.message_id == 0 {
                    return Err(Refusal::MessageId { exchange, id: 0 });
                }
                if !m.encrypted && h.exchange == ExchangeType::V1_QUICK_MODE {
                    return Err(Refusal::NotEncrypted { exchange });
                }
            }
        }
    }
    Ok(())
}

/// How a message reached the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// UDP, the message first (port 500).
    Udp,
    /// UDP behind the non-ESP marker (port 4500).
    UdpMarker,
    /// TCP, RFC 8229 framing.
    Tcp,
}

impl Carrier {
    fn as_str(self) -> &'static str {
        match self {
            Carrier::Udp => "udp",
            Carrier::UdpMarker => "udp-non-esp-marker",
            Carrier::Tcp => "tcp-rfc8229",
        }
    }
}

/// One message as remembered for pairing and evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    packet: u64,
    side: usize,
    header: IkeHeader,
    payloads: PayloadList,
    encrypted: bool,
    carrier: Carrier,
}

impl Seen {
    /// Words the message as a `role` (request, response, ...).
    fn describe(&self, role: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.header;
        write!(
            f,
            "IKEv{} {} {role} from the {}: {} bytes = its length field, initiator SPI {}, responder SPI {}, message id {}, flags {:#04x}, ",
            h.version.major(),
            h.exchange_name(),
            side_name(self.side),
            h.length,
            Hex64(h.initiator_spi),
            Hex64(h.responder_spi),
            h.message_id,
            h.flags
        )?;
        if self.encrypted && h.version == IkeVersion::V1 {
            write!(
                f,
                "encrypted body of {} bytes in whole cipher blocks",
                h.length as usize - IKE_HEADER_LEN
            )
        } else {
            write!(
                f,
                "payload chain {} ending at the last byte",
                self.payloads.describe(h.version)
            )
        }
    }
}

/// An IKE SA seen in the flow.
#[derive(Clone, Copy, Debug)]
struct KnownSa {
    initiator_spi: u64,
    responder_spi: u64,
    /// IKEv2: the side sending with the I flag.
    initiator_side: Option<usize>,
    last_packet: u64,
}

/// RFC 8229 reader state of one direction.
#[derive(Clone, Copy, Debug, Default)]
struct StreamSide {
    /// Bytes of `IKETCP` matched (client side).
    prefix: usize,
    frame_header: [u8; 6],
    frame_have: usize,
    /// Bytes of the current frame's body still to come.
    frame_left: usize,
    walk: Option<MessageWalk>,
    esp_frames: u32,
}

/// Per-flow IKE fingerprinter; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct IkeTracker {
    examined: u32,
    refused: Option<Refusal>,
    valid: u32,
    sas: [Option<KnownSa>; MAX_IKE_SAS],
    pending: [Option<Seen>; MAX_PENDING],
    /// The first request/response pair.
    matched: Option<(Seen, Seen)>,
    /// The latest valid message.
    latest: Option<Seen>,
    /// Exchanges seen, in order of first appearance.
    exchanges: [Option<(IkeVersion, ExchangeType)>; 8],
    streams: [StreamSide; 2],
    decided: Option<VpnVerdict>,
}

impl IkeTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Why the flow was refused, once it was.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.refused.as_ref()
    }

    /// True once a request and its response were seen.
    pub fn is_paired(&self) -> bool {
        self.matched.is_some()
    }

    /// Reads one UDP payload: an IKE message, the same behind the non-ESP
    /// marker (port 4500), or a NAT-keepalive (ignored). ESP packets are
    /// not IKE: feed a port-4500 flow to [`UdpEncapTracker`] instead.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.gate() {
            return p;
        }
        self.examined += 1;
        if payload == [NAT_KEEPALIVE] {
            return self.progress();
        }
        let side = side_of(from_client);
        let result = match payload.strip_prefix(&NON_ESP_MARKER) {
            Some(inner) => match parse_message(inner) {
                Ok(m) => Ok((m, Carrier::UdpMarker)),
                // An initiator SPI starting with four zero bytes, unmarked.
                Err(e) => parse_message(payload)
                    .map(|m| (m, Carrier::Udp))
                    .map_err(|_| e),
            },
            None => parse_message(payload).map(|m| (m, Carrier::Udp)),
        };
        match result.and_then(|(m, carrier)| self.accept(m, side, packet, carrier)) {
            Ok(()) => self.progress(),
            Err(e) => self.refuse(e),
        }
    }

    /// Reads in-order TCP stream bytes of one direction (RFC 8229).
    pub fn on_stream(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.gate() {
            return p;
        }
        let side = side_of(from_client);
        match self.stream(bytes, side, packet) {
            Ok(()) => self.progress(),
            Err(e) => self.refuse(e),
        }
    }

    /// What the evidence so far supports, for a caller that stops feeding:
    /// also a single valid message (`Medium`).
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.refused.is_some() {
            return None;
        }
        self.level(true).map(|l| self.build(l))
    }

    /// Stops a refused or exhausted tracker; `None` to go on.
    fn gate(&mut self) -> Option<Progress> {
        if self.refused.is_some() {
            return Some(Progress::NotThis);
        }
        if self.examined >= MAX_MESSAGES {
            return Some(match &self.decided {
                Some(v) => Progress::Verdict(v.clone()),
                None => {
                    self.refused = Some(Refusal::Undecided(self.examined));
                    Progress::NotThis
                }
            });
        }
        None
    }

    fn refuse(&mut self, why: Refusal) -> Progress {
        self.refused = Some(why);
        self.decided = None;
        Progress::NotThis
    }

    fn progress(&mut self) -> Progress {
        match self.level(false) {
            Some(l) => {
                let v = self.build(l);
                self.decided = Some(v.clone());
                Progress::Verdict(v)
            }
            None if self.examined >= MAX_MESSAGES => self.refuse(Refusal::Undecided(self.examined)),
            None => Progress::Candidate,
        }
    }

    fn level(&self, at_end: bool) -> Option<Confidence> {
        if self.matched.is_some() {
            Some(Confidence::High)
        } else if self.valid >= UNPAIRED_MEDIUM || (at_end && self.valid > 0) {
            Some(Confidence::Medium)
        } else {
            None
        }
    }

    fn stream(&mut self, mut bytes: &[u8], side: usize, packet: u64) -> Result<(), Refusal> {
        while !bytes.is_empty() {
            let s = &mut self.streams[side];
            if side == 0 && s.prefix < TCP_PREFIX.len() {
                let want = TCP_PREFIX.get(s.prefix..).unwrap_or_default();
                let n = want.len().min(bytes.len());
                if bytes.get(..n) != want.get(..n) {
                    return Err(Refusal::Prefix);
                }
                s.prefix += n;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            if s.frame_left > 0 {
                let n = s.frame_left.min(bytes.len());
                let (now, rest) = bytes.split_at(n);
                bytes = rest;
                s.frame_left -= n;
                if let Some(walk) = s.walk.as_mut() {
                    walk.feed(now)?;
                }
                if s.frame_left == 0 {
                    self.examined += 1;
                    if let Some(walk) = self.streams[side].walk.take() {
                        let m = walk.finish()?;
                        self.accept(m, side, packet, Carrier::Tcp)?;
                    }
                }
                continue;
            }
            let need = s.frame_header.len() - s.frame_have;
            let n = need.min(bytes.len());
            let (now, rest) = bytes.split_at(n);
            if let Some(dst) = s.frame_header.get_mut(s.frame_have..s.frame_have + n) {
                dst.copy_from_slice(now);
            }
            s.frame_have += n;
            bytes = rest;
            if s.frame_have < s.frame_header.len() {
                continue;
            }
            s.frame_have = 0;
            let [l0, l1, m0, m1, m2, m3] = s.frame_header;
            let len = u16::from_be_bytes([l0, l1]);
            let marker = [m0, m1, m2, m3];
            if marker == NON_ESP_MARKER {
                let msg_len = usize::from(len).saturating_sub(6);
                if usize::from(len) < 6 + IKE_HEADER_LEN {
                    return Err(Refusal::FrameLength { len });
                }
                s.walk = Some(MessageWalk::new(msg_len)?);
                s.frame_left = msg_len;
            } else {
                let spi = u32::from_be_bytes(marker);
                if spi < MIN_SPI {
                    return Err(Refusal::ReservedSpi(spi));
                }
                if usize::from(len) < 2 + MIN_ESP_LEN {
                    return Err(Refusal::FrameLength { len });
                }
                s.walk = None;
                s.esp_frames += 1;
                s.frame_left = usize::from(len) - 6;
                self.examined += 1;
            }
            if self.examined >= MAX_MESSAGES {
                break;
            }
        }
        Ok(())
    }

    fn accept(
        &mut self,
        m: IkeMessage,
        side: usize,
        packet: u64,
        carrier: Carrier,
    ) -> Result<(), Refusal> {
        let h = m.header;
        let seen = Seen {
            packet,
            side,
            header: h,
            payloads: m.payloads,
            encrypted: m.encrypted,
            carrier,
        };
        self.track_sa(&h, side, packet)?;
        self.pair(seen);
        if !self
            .exchanges
            .iter()
            .flatten()
            .any(|&(v, e)| v == h.version && e == h.exchange)
        {
            if let Some(slot) = self.exchanges.iter_mut().find(|s| s.is_none()) {
                *slot = Some((h.version, h.exchange));
            }
        }
        self.valid += 1;
        self.latest = Some(seen);
        Ok(())
    }

    /// Keeps each IKE SA's SPIs and (IKEv2) initiator side consistent.
    fn track_sa(&mut self, h: &IkeHeader, side: usize, packet: u64) -> Result<(), Refusal> {
        let v2_initiator = (h.version == IkeVersion::V2).then(|| {
            if h.from_original_initiator() {
                side
            } else {
                1 - side
            }
        });
        if let Some(sa) = self
            .sas
            .iter_mut()
            .flatten()
            .find(|sa| sa.initiator_spi == h.initiator_spi)
        {
            if h.responder_spi != 0 {
                if sa.responder_spi != 0 && sa.responder_spi != h.responder_spi {
                    return Err(Refusal::SpiChanged {
                        initiator: h.initiator_spi,
                        was: sa.responder_spi,
                        now: h.responder_spi,
                    });
                }
                sa.responder_spi = h.responder_spi;
            }
            if let (Some(known), Some(now)) = (sa.initiator_side, v2_initiator) {
                if known != now {
                    return Err(Refusal::InitiatorFlag(h.initiator_spi));
                }
            }
            sa.initiator_side = sa.initiator_side.or(v2_initiator);
            sa.last_packet = packet;
            return Ok(());
        }
        let new = Some(KnownSa {
            initiator_spi: h.initiator_spi,
            responder_spi: h.responder_spi,
            initiator_side: v2_initiator,
            last_packet: packet,
        });
        let slot = match self.sas.iter().position(Option::is_none) {
            Some(free) => free,
            None => self
                .sas
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.map_or(0, |s| s.last_packet))
                .map_or(0, |(i, _)| i),
        };
        if let Some(s) = self.sas.get_mut(slot) {
            *s = new;
        }
        Ok(())
    }

    /// Pairs a message with an earlier one from the other side: same SA,
    /// exchange and message id, the responder SPI kept or newly set, and in
    /// IKEv2 a request answered by a response with the I flag flipped.
    fn pair(&mut self, seen: Seen) {
        let h = seen.header;
        let answers = |p: &Seen| {
            let q = &p.header;
            p.side != seen.side
                && q.version == h.version
                && q.initiator_spi == h.initiator_spi
                && q.exchange == h.exchange
                && q.message_id == h.message_id
                && (q.responder_spi == h.responder_spi
                    || (q.responder_spi == 0
                        && h.version == IkeVersion::V1
                        && h.responder_spi != 0)
                    || (q.responder_spi == 0 && h.version == IkeVersion::V2))
                && match h.version {
                    IkeVersion::V2 => {
                        h.is_response()
                            && !q.is_response()
                            && h.from_original_initiator() != q.from_original_initiator()
                    }
                    IkeVersion::V1 => h.exchange != ExchangeType::V1_INFORMATIONAL,
                }
        };
        let found = self
            .pending
            .iter()
            .position(|p| p.as_ref().is_some_and(answers));
        if let Some(i) = found {
            if let Some(request) = self.pending.get_mut(i).and_then(Option::take) {
                if self.matched.is_none() {
                    self.matched = Some((request, seen));
                }
            }
            return;
        }
        if h.is_response() {
            return;
        }
        match self.pending.iter().position(Option::is_none) {
            Some(free) => self.pending[free] = Some(seen),
            None => {
                self.pending.rotate_left(1);
                self.pending[MAX_PENDING - 1] = Some(seen);
            }
        }
    }

    /// The verdict's details: version, exchanges, SPIs, carrier.
    fn details(&self) -> VpnDetails {
        let mut d = Vec::new();
        let Some(basis) = self.matched.map(|(_, r)| r).or(self.latest) else {
            return d;
        };
        let h = basis.header;
        d.push(("ike_version", Value::Number(h.version.major().into())));
        let names: Vec<&'static str> = self
            .exchanges
            .iter()
            .flatten()
            .filter_map(|&(v, e)| e.name(v))
            .collect();
        d.push(("exchanges", Value::List(names)));
        d.push(("initiator_spi", Value::Hex64(h.initiator_spi)));
        d.push(("responder_spi", Value::Hex64(h.responder_spi)));
        d.push(("carrier", Value::Text(basis.carrier.as_str())));
        d
    }

    fn evidence(&self) -> Vec<Evidence> {
        let note = |packet: u64, clue: Clue| Evidence {
            packet,
            what: facts::Clue::Ipsec(clue),
        };
        match (self.matched, self.latest) {
            (Some((req, resp)), _) => vec![
                note(req.packet, Clue::IkeRequest(req)),
                note(
                    resp.packet,
                    Clue::IkeAnswer {
                        request: req,
                        answer: resp,
                    },
                ),
            ],
            (None, Some(m)) => vec![note(m.packet, Clue::IkeAlone(m))],
            (None, None) => Vec::new(),
        }
    }

    fn build(&self, confidence: Confidence) -> VpnVerdict {
        VpnVerdict {
            protocol: VpnProtocol::Ike,
            confidence,
            details: self.details(),
            evidence: self.evidence(),
        }
    }
}

/// What carries ESP packets: the IP protocol number says ESP, or UDP
/// (RFC 3948) where only the pattern does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspCarrier {
    Ip,
    Udp,
}

/// One SPI's sequence in one direction.
#[derive(Clone, Copy, Debug)]
struct SpiSeq {
    spi: u32,
    highest: u32,
    last_packet: u64,
}

/// What one direction of an SA pair has sent.
#[derive(Clone, Copy, Debug, Default)]
struct SaDirection {
    spis: [Option<SpiSeq>; MAX_SPIS],
    packets: u32,
    /// Packets that raised their SPI's sequence.
    steps: u32,
    repeats: u32,
    /// First and latest packets: (input position, SPI, sequence).
    first: Option<(u64, u32, u32)>,
    latest: Option<(u64, u32, u32)>,
}

impl SaDirection {
    fn first_spi(&self) -> Option<u32> {
        self.first.map(|f| f.1)
    }

    fn fresh(&self) -> bool {
        self.first.is_some_and(|f| f.2 <= 4)
    }
}

/// Sequence-number tracking shared by ESP and AH.
#[derive(Clone, Copy, Debug, Default)]
struct SaPair {
    dirs: [SaDirection; 2],
}

impl SaPair {
    fn accept(&mut self, side: usize, spi: u32, seq: u32, packet: u64) -> Result<(), Refusal> {
        if spi < MIN_SPI {
            return Err(Refusal::ReservedSpi(spi));
        }
        if seq == 0 {
            return Err(Refusal::ZeroSequence(spi));
        }
        let other = &self.dirs[1 - side];
        if other.spis.iter().flatten().any(|s| s.spi == spi) {
            return Err(Refusal::SameSpi(spi));
        }
        let dir = &mut self.dirs[side];
        let known = dir.spis.iter_mut().flatten().find(|s| s.spi == spi);
        let mut stepped = false;
        match known {
            Some(s) => {
                if seq > s.highest {
                    if seq - s.highest > MAX_SEQ_STEP {
                        return Err(Refusal::Sequence {
                            spi,
                            highest: s.highest,
                            seq,
                        });
                    }
                    s.highest = seq;
                    stepped = true;
                } else if seq == s.highest {
                    dir.repeats += 1;
                    if dir.repeats > MAX_REPEATS {
                        return Err(Refusal::RepeatedSequence { spi, seq });
                    }
                } else if s.highest - seq > REPLAY_WINDOW {
                    return Err(Refusal::Sequence {
                        spi,
                        highest: s.highest,
                        seq,
                    });
                }
                s.last_packet = packet;
            }
            None => {
                // Mid-flow, the first SPI may be anywhere in its sequence;
                // a later one is a new SA and starts afresh.
                if dir.packets > 0 && seq > FRESH_SEQ {
                    return Err(Refusal::NewSpiMidSequence { spi, seq });
                }
                let slot = dir
                    .spis
                    .iter_mut()
                    .find(|s| s.is_none())
                    .ok_or(Refusal::TooManySpis)?;
                *slot = Some(SpiSeq {
                    spi,
                    highest: seq,
                    last_packet: packet,
                });
            }
        }
        dir.packets += 1;
        dir.steps += u32::from(stepped);
        dir.first.get_or_insert((packet, spi, seq));
        dir.latest = Some((packet, spi, seq));
        Ok(())
    }

    /// A direction is in sequence: enough ordered packets for the carrier,
    /// or (`lenient`) one fresh SA start.
    fn confirmed(d: &SaDirection, needed: u32, lenient: bool) -> bool {
        (d.packets >= needed && d.steps + 1 >= needed) || (lenient && d.fresh())
    }

    /// Confidence for the carrier; `ike_paired` says a paired IKE exchange
    /// in the same flow vouches for it; `at_end` that no more packets come.
    ///
    /// Both directions in sequence make `High`. One direction in sequence
    /// counts once the other has stayed silent for [`ONE_WAY_PACKETS`]
    /// (or the flow ended): `High` behind paired IKE, else `Medium` from
    /// two packets on. A single IP-50/51 packet at the end is `Low`.
    fn level(&self, carrier: EspCarrier, ike_paired: bool, at_end: bool) -> Option<Confidence> {
        let (needed, lenient) = match (carrier, ike_paired) {
            (EspCarrier::Ip, _) | (EspCarrier::Udp, true) => (2, true),
            (EspCarrier::Udp, false) => (3, false),
        };
        let [c, s] = &self.dirs;
        let (cc, sc) = (
            Self::confirmed(c, needed, lenient),
            Self::confirmed(s, needed, lenient),
        );
        if cc && sc {
            return Some(Confidence::High);
        }
        let lone = match (cc, sc) {
            (true, _) => Some((c, s)),
            (_, true) => Some((s, c)),
            _ => None,
        };
        if let Some((d, other)) = lone {
            if at_end || (other.packets == 0 && d.packets >= ONE_WAY_PACKETS) {
                if ike_paired {
                    return Some(Confidence::High);
                }
                if d.packets >= 2 {
                    return Some(Confidence::Medium);
                }
            }
        }
        if at_end && carrier == EspCarrier::Ip && c.packets + s.packets > 0 {
            return Some(Confidence::Low);
        }
        None
    }

    fn details(&self, prefix: &'static str, d: &mut VpnDetails) {
        let keys = match prefix {
            "ah" => ["ah_spi_to_server", "ah_spi_to_client"],
            _ => ["esp_spi_to_server", "esp_spi_to_client"],
        };
        for (dir, key) in self.dirs.iter().zip(keys) {
            if let Some(spi) = dir.first_spi() {
                d.push((key, Value::Hex32(spi)));
            }
        }
    }

    fn evidence(&self, what: &'static str, carrier: &'static str) -> Vec<Evidence> {
        let mut facts = Vec::new();
        for (side, dir) in self.dirs.iter().enumerate() {
            let (Some(first), Some(latest)) = (dir.first, dir.latest) else {
                continue;
            };
            facts.push(Evidence {
                packet: first.0,
                what: facts::Clue::Ipsec(Clue::SaFirst {
                    what,
                    carrier,
                    side,
                    spi: first.1,
                    seq: first.2,
                }),
            });
            if latest.0 != first.0 {
                facts.push(Evidence {
                    packet: latest.0,
                    what: facts::Clue::Ipsec(Clue::SaRun {
                        count: dir.packets,
                        what,
                        side,
                        from: first.2,
                        to: latest.2,
                        spi: latest.1,
                    }),
                });
            }
        }
        facts
    }
}

/// Per-flow ESP fingerprinter; see the module documentation.
#[derive(Clone, Debug)]
pub struct EspTracker {
    carrier: EspCarrier,
    gate: Gate<Refusal>,
    sas: SaPair,
    /// IKE paired in the same flow (set by [`UdpEncapTracker`]).
    ike_paired: bool,
}

impl Default for EspTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl EspTracker {
    /// ESP over IP protocol 50.
    pub fn new() -> Self {
        Self::with_carrier(EspCarrier::Ip)
    }

    /// ESP inside UDP (RFC 3948): a stricter bar, since nothing but the
    /// pattern says ESP.
    pub fn in_udp() -> Self {
        Self::with_carrier(EspCarrier::Udp)
    }

    fn with_carrier(carrier: EspCarrier) -> Self {
        EspTracker {
            carrier,
            gate: Gate::default(),
            sas: SaPair::default(),
            ike_paired: false,
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.gate.refusal()
    }

    /// Reads one ESP packet, SPI first (the IP payload of protocol 50, or
    /// the UDP payload of an ESP-in-UDP packet).
    pub fn on_packet(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(done) = self.gate.enter(MAX_MESSAGES, Refusal::Undecided) {
            return done;
        }
        if let Err(e) = self.read(payload, side_of(from_client), packet) {
            return self.gate.refuse(e);
        }
        let v = self
            .sas
            .level(self.carrier, self.ike_paired, false)
            .map(|l| self.build(l));
        self.gate.conclude(MAX_MESSAGES, v, Refusal::Undecided)
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.gate.is_refused() {
            return None;
        }
        self.sas
            .level(self.carrier, self.ike_paired, true)
            .map(|l| self.build(l))
    }

    fn read(&mut self, b: &[u8], side: usize, packet: u64) -> Result<(), Refusal> {
        if b.len() < MIN_ESP_LEN || b.len() % 4 != 0 {
            return Err(Refusal::EspLength { len: b.len() });
        }
        let spi = be32(b, 0).ok_or(Refusal::EspLength { len: b.len() })?;
        let seq = be32(b, 4).ok_or(Refusal::EspLength { len: b.len() })?;
        self.sas.accept(side, spi, seq, packet)
    }

    fn packets(&self) -> u32 {
        self.sas.dirs.iter().map(|d| d.packets).sum()
    }

    fn build(&self, confidence: Confidence) -> VpnVerdict {
        let mut details = Vec::new();
        self.sas.details("esp", &mut details);
        let carrier = match self.carrier {
            EspCarrier::Ip => "IP protocol 50",
            EspCarrier::Udp => "in UDP",
        };
        VpnVerdict {
            protocol: VpnProtocol::Esp,
            confidence,
            details,
            evidence: self.sas.evidence("ESP", carrier),
        }
    }
}

/// Per-flow AH fingerprinter (IP protocol 51): the header's own rules,
/// then the SPI and sequence pattern of ESP.
#[derive(Clone, Debug, Default)]
pub struct AhTracker {
    gate: Gate<Refusal>,
    sas: SaPair,
    icv_len: Option<usize>,
}

impl AhTracker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.gate.refusal()
    }

    /// Reads one AH packet: the IP payload of protocol 51, AH header first.
    pub fn on_packet(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(done) = self.gate.enter(MAX_MESSAGES, Refusal::Undecided) {
            return done;
        }
        if let Err(e) = self.read(payload, side_of(from_client), packet) {
            return self.gate.refuse(e);
        }
        let v = self
            .sas
            .level(EspCarrier::Ip, false, false)
            .map(|l| self.build(l));
        self.gate.conclude(MAX_MESSAGES, v, Refusal::Undecided)
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.gate.is_refused() {
            return None;
        }
        self.sas
            .level(EspCarrier::Ip, false, true)
            .map(|l| self.build(l))
    }

    /// AH header (RFC 4302 §2): next header, payload length in 32-bit
    /// words minus 2, 16 reserved bits (zero), SPI, sequence, ICV.
    fn read(&mut self, b: &[u8], side: usize, packet: u64) -> Result<(), Refusal> {
        let (Some(&next), Some(&words), Some(reserved)) = (b.first(), b.get(1), be16(b, 2)) else {
            return Err(Refusal::AhHeader("shorter than 12 bytes"));
        };
        if reserved != 0 {
            return Err(Refusal::AhHeader("reserved bits set"));
        }
        let ah_len = (usize::from(words) + 2) * 4;
        // An ICV of at least 8 bytes: AH always authenticates.
        if ah_len < 20 || ah_len > b.len() {
            return Err(Refusal::AhHeader(
                "length leaves no ICV or runs past the packet",
            ));
        }
        // What AH protects is in clear: an inner IP header must say so.
        let inner_version = b.get(ah_len).map(|v| v >> 4);
        match (next, inner_version) {
            (0 | 51, _) => return Err(Refusal::AhHeader("next header cannot follow AH")),
            (4, Some(v)) if v != 4 => return Err(Refusal::AhHeader("inner IPv4 header is not v4")),
            (41, Some(v)) if v != 6 => {
                return Err(Refusal::AhHeader("inner IPv6 header is not v6"))
            }
            _ => {}
        }
        let icv = ah_len - 12;
        if self.icv_len.is_some_and(|l| l != icv) {
            return Err(Refusal::AhHeader("ICV length changed"));
        }
        self.icv_len = Some(icv);
        let spi = be32(b, 4).ok_or(Refusal::AhHeader("shorter than 12 bytes"))?;
        let seq = be32(b, 8).ok_or(Refusal::AhHeader("shorter than 12 bytes"))?;
        self.sas.accept(side, spi, seq, packet)
    }

    fn build(&self, confidence: Confidence) -> VpnVerdict {
        let mut details = Vec::new();
        self.sas.details("ah", &mut details);
        if let Some(icv) = self.icv_len {
            details.push(("icv_bytes", Value::Number(icv as u64)));
        }
        VpnVerdict {
            protocol: VpnProtocol::Ah,
            confidence,
            details,
            evidence: self.sas.evidence("AH", "IP protocol 51"),
        }
    }
}

/// Per-flow reader of a UDP-encapsulated IPsec flow (RFC 3948, port 4500):
/// IKE behind the non-ESP marker, NAT-keepalives and ESP share it.
#[derive(Clone, Debug)]
pub struct UdpEncapTracker {
    examined: u32,
    refused: Option<Refusal>,
    ike: IkeTracker,
    esp: EspTracker,
    ike_messages: u32,
    keepalives: u32,
    decided: Option<VpnVerdict>,
}

impl Default for UdpEncapTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl UdpEncapTracker {
    pub fn new() -> Self {
        UdpEncapTracker {
            examined: 0,
            refused: None,
            ike: IkeTracker::new(),
            esp: EspTracker::in_udp(),
            ike_messages: 0,
            keepalives: 0,
            decided: None,
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.refused
            .as_ref()
            .or(self.ike.refusal())
            .or(self.esp.refusal())
    }

    /// Reads one UDP payload of the flow.
    ///
    /// Returns `Verdict` with protocol `esp` once ESP is in sequence (with
    /// IKE's details when IKE was seen); a flow with IKE only stays
    /// `Candidate` (ESP usually follows) until [`MAX_MESSAGES`], then is
    /// `ike` — or ask [`Self::verdict`] when it ends.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if self.refused.is_some() {
            return Progress::NotThis;
        }
        if self.examined >= MAX_MESSAGES {
            return match &self.decided {
                Some(v) => Progress::Verdict(v.clone()),
                None => {
                    self.refused = Some(Refusal::Undecided(self.examined));
                    Progress::NotThis
                }
            };
        }
        self.examined += 1;
        let outcome = if payload == [NAT_KEEPALIVE] {
            self.keepalives += 1;
            Progress::Candidate
        } else if payload.starts_with(&NON_ESP_MARKER) {
            self.ike_messages += 1;
            self.ike.on_datagram(payload, from_client, packet)
        } else {
            self.esp.ike_paired = self.ike.is_paired();
            self.esp.on_packet(payload, from_client, packet)
        };
        if outcome == Progress::NotThis {
            self.refused = self
                .ike
                .refusal()
                .or(self.esp.refusal())
                .copied()
                .or(Some(Refusal::Empty));
            self.decided = None;
            return Progress::NotThis;
        }
        let last = self.examined >= MAX_MESSAGES;
        match self.conclude(last) {
            Some(v) => {
                self.decided = Some(v.clone());
                Progress::Verdict(v)
            }
            None if last => {
                self.refused = Some(Refusal::Undecided(self.examined));
                Progress::NotThis
            }
            None => Progress::Candidate,
        }
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.refused.is_some() {
            return None;
        }
        self.conclude(true)
    }

    fn conclude(&self, at_end: bool) -> Option<VpnVerdict> {
        let paired = self.ike.is_paired();
        if let Some(level) = self.esp.sas.level(EspCarrier::Udp, paired, at_end) {
            let mut v = self.esp.build(level);
            if let Some(ike) = self.ike.verdict() {
                v.details.extend(ike.details);
                v.evidence.splice(0..0, ike.evidence);
            }
            v.details
                .push(("nat_keepalives", Value::Number(self.keepalives.into())));
            return Some(v);
        }
        // IKE alone decides only when no more ESP can come, and not when
        // unconfirmed ESP-like packets are all the flow had.
        if !at_end || (self.esp.packets() > 0 && self.ike_messages == 0) {
            return None;
        }
        let mut v = self.ike.verdict()?;
        v.details
            .push(("nat_keepalives", Value::Number(self.keepalives.into())));
        Some(v)
    }
}

/// What an IPsec packet showed, for a verdict's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// An IKE request (or IKEv1 message) that was answered.
    IkeRequest(Seen),
    /// The answer to `request`.
    IkeAnswer { request: Seen, answer: Seen },
    /// An IKE message whose partner was not seen.
    IkeAlone(Seen),
    /// The first ESP or AH packet of a side.
    SaFirst {
        /// "ESP" or "AH".
        what: &'static str,
        /// "IP protocol 50", "in UDP", ...
        carrier: &'static str,
        side: usize,
        spi: u32,
        seq: u32,
    },
    /// A side's run of ESP or AH packets.
    SaRun {
        count: u32,
        what: &'static str,
        side: usize,
        from: u32,
        to: u32,
        spi: u32,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::IkeRequest(m) => {
                let role = if m.header.version == IkeVersion::V2 {
                    "request"
                } else {
                    "message"
                };
                m.describe(role, f)
            }
            Clue::IkeAnswer { request, answer } => {
                let role = if answer.header.version == IkeVersion::V2 {
                    "response (R flag, I flag flipped)"
                } else {
                    "reply"
                };
                let tie = if request.header.responder_spi == 0 {
                    "initiator SPI echoed, responder SPI set"
                } else {
                    "both SPIs echoed"
                };
                answer.describe(role, f)?;
                write!(
                    f,
                    "; answers packet {}: {tie}, same exchange and message id",
                    request.packet
                )
            }
            Clue::IkeAlone(m) => {
                m.describe("message", f)?;
                f.write_str(" (no partner seen)")
            }
            Clue::SaFirst {
                what,
                carrier,
                side,
                spi,
                seq,
            } => write!(
                f,
                "{what} {carrier} from the {}: SPI {}, sequence {seq}{}",
                side_name(*side),
                Hex32(*spi),
                if *seq <= 4 { " (SA start)" } else { "" }
            ),
            Clue::SaRun {
                count,
                what,
                side,
                from,
                to,
                spi,
            } => write!(
                f,
                "{count} {what} packets from the {}, sequence {from}..={to} increasing on SPI {}",
                side_name(*side),
                Hex32(*spi)
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// The dissectors
// ---------------------------------------------------------------------------

/// Cheap first looks: can these bytes start this protocol at all? (The
/// trackers check the same and much more; these only spare setting one up
/// for flows that are plainly something else.)
mod first_look {
    /// An IKE header (version byte 0x10 or 0x20 at offset 17), bare or
    /// behind the 4-byte non-ESP marker.
    pub fn ike(b: &[u8]) -> bool {
        let v = |at: usize| matches!(b.get(at), Some(0x10 | 0x20));
        (b.len() >= 28 && v(17)) || (b.len() >= 32 && b[..4] == [0; 4] && v(21))
    }

    /// RFC 8229: IKE over TCP starts with "IKETCP".
    pub fn ike_tcp(b: &[u8]) -> bool {
        let n = b.len().min(6);
        n > 0 && b[..n] == b"IKETCP"[..n]
    }

    /// UDP encapsulation: IKE behind the marker, a NAT-T keepalive, or ESP
    /// (an SPI of at least 256, a sequence number, some payload).
    pub fn encap(b: &[u8]) -> bool {
        b == [0xff]
            || ike(b)
            || (b.len() >= 16 && crate::bytes::be32(b, 0).is_some_and(|spi| spi >= 256))
    }
}

fn answer(yes: bool) -> Probe {
    if yes {
        Probe::Maybe
    } else {
        Probe::No
    }
}

/// IKE over TCP (RFC 8229).
#[derive(Debug)]
pub struct IkeTcp(IkeTracker);

impl Dissector for IkeTcp {
    const CARRIER: Feeds = Feeds::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(first_look::ike_tcp(b))
    }

    fn start() -> Self {
        IkeTcp(IkeTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_stream(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// One tracker of [`IpsecUdp`]: not yet tried, running, or refused.
#[derive(Debug)]
enum Slot<T> {
    Untried,
    Live(Box<T>),
    Refused,
}

impl<T> Slot<T> {
    /// Feeds the tracker, setting it up first if `looks` lets these bytes
    /// start its protocol.
    fn feed(
        &mut self,
        looks: fn(&[u8]) -> bool,
        make: impl FnOnce() -> T,
        run: impl FnOnce(&mut T) -> Progress,
        bytes: &[u8],
    ) -> Option<VpnVerdict> {
        if matches!(self, Slot::Untried) {
            *self = if looks(bytes) {
                Slot::Live(Box::new(make()))
            } else {
                Slot::Refused
            };
        }
        let Slot::Live(t) = self else {
            return None;
        };
        match run(t) {
            Progress::NotThis => {
                *self = Slot::Refused;
                None
            }
            Progress::Candidate => None,
            Progress::Verdict(v) => Some(v),
        }
    }

    fn is_open(&self) -> bool {
        !matches!(self, Slot::Refused)
    }
}

/// IKE on UDP 500 and 4500 and the ESP-in-UDP (RFC 3948) it sets up. An
/// IKE verdict that came behind the non-ESP marker is held while ESP may
/// follow in the same flow, which is then reported as ESP with the IKE
/// details.
#[derive(Debug)]
pub struct IpsecUdp {
    ike: Slot<IkeTracker>,
    encap: Slot<UdpEncapTracker>,
    held_ike: Option<VpnVerdict>,
}

impl Dissector for IpsecUdp {
    const CARRIER: Feeds = Feeds::Datagram;
    const PROBING: Probing = Probing::EachSide;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(first_look::ike(b) || first_look::encap(b))
    }

    fn start() -> Self {
        IpsecUdp {
            ike: Slot::Untried,
            encap: Slot::Untried,
            held_ike: None,
        }
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let (b, c, p) = (input.bytes, input.from_client(), input.packet);
        let ike = self.ike.feed(
            first_look::ike,
            IkeTracker::new,
            |t| t.on_datagram(b, c, p),
            b,
        );
        let encap = self.encap.feed(
            first_look::encap,
            UdpEncapTracker::new,
            |t| t.on_datagram(b, c, p),
            b,
        );
        let mut found = encap.filter(|v| v.protocol == VpnProtocol::Esp);
        if let Some(v) = ike {
            let behind_marker = v
                .details
                .iter()
                .any(|(k, val)| *k == "carrier" && *val == "udp-non-esp-marker");
            if behind_marker && self.encap.is_open() {
                self.held_ike = Some(v);
            } else {
                found = found.or(Some(v));
            }
        }
        if let Some(v) = found {
            return Step::Verdict(v.into_verdict());
        }
        let ike_open = self.ike.is_open() && self.held_ike.is_none();
        match (ike_open || self.encap.is_open(), self.held_ike.take()) {
            (true, held) => {
                self.held_ike = held;
                Step::NeedMore
            }
            // No ESP can follow: the held IKE verdict stands.
            (false, Some(v)) => Step::Verdict(v.into_verdict()),
            (false, None) => Step::Refuse,
        }
    }

    fn settle(&self) -> Option<Verdict> {
        let encap = match &self.encap {
            Slot::Live(t) => t.verdict(),
            _ => None,
        };
        let ike = match &self.ike {
            Slot::Live(t) => t.verdict(),
            _ => None,
        };
        // The strongest; of equals, the later.
        [encap, self.held_ike.clone(), ike]
            .into_iter()
            .flatten()
            .max_by_key(|v| v.confidence)
            .map(VpnVerdict::into_verdict)
    }
}

/// ESP (IP protocol 50).
#[derive(Debug)]
pub struct Esp(EspTracker);

impl Dissector for Esp {
    const CARRIER: Feeds = Feeds::Ip(crate::decode::ip::proto::ESP);
    const PROBING: Probing = Probing::EachSide;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(b.len() >= 8)
    }

    fn start() -> Self {
        Esp(EspTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_packet(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// AH (IP protocol 51).
#[derive(Debug)]
pub struct Ah(AhTracker);

impl Dissector for Ah {
    const CARRIER: Feeds = Feeds::Ip(crate::decode::ip::proto::AH);
    const PROBING: Probing = Probing::EachSide;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(b.len() >= 12)
    }

    fn start() -> Self {
        Ah(AhTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_packet(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::wireguard::controls::{self, hex, XorShift};

    /// IKEv2 IKE_SA_INIT request, 10.202.0.1:500 -> 10.202.0.2:500, ipsec-ikev2.pcap frame 1 (464 bytes).
    const IKEV2_SA_INIT_REQUEST: &str = "\
        c4416f87fefa05e400000000000000002120220800000000000001d022000030\
        0000002c010100040300000c0100000c800e0080030000080300000c03000008\
        02000005000000080400000e28000108000e000026152fc64c2def329215f026\
        47ca182447e890c824506c438e4b08b0e268d6d6e6632d0ae1b17f9ca3b66618\
        7723d968bf64c184729d91fa31a26e7de078a910d49de39dffc3460e321566bc\
        90f322a4f7c13e8606fd345ae84ca9e89a4e653d5c5498f5c642fe614c67296d\
        9d680a9eb35545d6a382d75574662a333d99834499771cba007094cb693c2918\
        4cc721f4f2d6a5014859540b18d5997ca05136eeb4e9c6cc40db4a816763096a\
        2aa2b93b7f4cb7f8b4488ab54ff82b9ef272cb1a574b24e35dcbf7679aa5b966\
        6e07f35b3fa2451e4e7793fd6f6ac6d50a1b411c98583743c544e03ba8a1c8d2\
        f6524a000d1126cf43ea66538b75b3b14e1b995a290000244eb9735761a537ac\
        60c811ded9eac7785abf110f7daff11a0133fa4b895ea0622900001c00004004\
        a5357e92da79b4a957c7934ed8532f258fea84c32900001c00004005ad701888\
        e5e5f2fd063bd04167843cb36dfb8cb9290000080000402e290000100000402f\
        00020003000400050000000800004016";

    /// IKE_SA_INIT response, ipsec-ikev2.pcap frame 2 (472 bytes).
    const IKEV2_SA_INIT_RESPONSE: &str = "\
        c4416f87fefa05e4e5ce8e19b62cfb2f2120222000000000000001d822000030\
        0000002c010100040300000c0100000c800e0080030000080300000c03000008\
        02000005000000080400000e28000108000e00008740266d34c80215780ad691\
        1d14a1a097214c724c5c7a3457b97658b1ad2f058095a68fb9dc67d102531a37\
        e2b1699f5fdeba3c00d2818293d4f7054feaf9755e83d5f632a3176dd5dff655\
        b2071d6dd7565708a9301b98732bcad3539bdbc70ebe1da9b9ba0e9ad8e74a8a\
        3a524e1e48574f5ed0fcb385da300049fb8579188ebc0edac3cfb66424809c47\
        45b49095868103d778a601823a69d9faa0f0618c619990771a4eed0e105ecc46\
        7cdd7ea1319484b7cba9c395ee0bdf4519b26636b0bb9fb7fc308db324dfc158\
        c8624728897ec5a1dc0af9fbecaa0d082fcaf5d34934d720948edd96eb87578f\
        19d6ae51bc2729371d5abc817866e4c7c24d77eb290000242d10c8efcb911df9\
        029d0c4dc5fcd19c11964e75f730f2a76a20badf42311e052900001c00004004\
        6d6666edc13d54a612de5ff97ffb883e9dad7c842900001c00004005e6631148\
        3137ad8a0f54efbbf37c54ad8a730415290000080000402e290000100000402f\
        000200030004000529000008000040220000000800004014";

    /// IKEv1 Main Mode message 1 (SA, vendor ids), ipsec-ikev1.pcap frame 1 (180 bytes).
    const IKEV1_MM1: &str = "\
        5a317d23cd179c9c00000000000000000110020000000000000000b40d000038\
        00000001000000010000002c01010001000000240101000080010007800e0080\
        800200048004000e80030001800b0001800c3de00d00000c09002689dfd6b712\
        0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce885\
        25e7de7f00d6c2d3800000000d0000144a131c81070358455c5728f20e95452f\
        0000001490cb80913ebb696e086381b5ec427b1f";

    /// IKEv1 Main Mode message 2, ipsec-ikev1.pcap frame 2 (160 bytes).
    const IKEV1_MM2: &str = "\
        5a317d23cd179c9c3f3fda936352109c0110020000000000000000a00d000038\
        00000001000000010000002c01010001000000240101000080010007800e0080\
        800200048004000e80030001800b0001800c3de00d00000c09002689dfd6b712\
        0d000014afcad71368a1f1c96b8696fc775701000d0000184048b7d56ebce885\
        25e7de7f00d6c2d380000000000000144a131c81070358455c5728f20e95452f";

    /// IKEv1 Main Mode message 5 (encrypted) behind the non-ESP marker on 4500, ipsec-ikev1.pcap frame 5 (112 bytes).
    const IKEV1_MM5_MARKER: &str = "\
        000000005a317d23cd179c9c3f3fda936352109c05100201000000000000006c\
        b56f09c84d260fea525c21ef1a27949f70f422049be626768f9bae947d3f69c3\
        508a1d0302612111cc335760f2e5d7170c98dfd2b5e8f6912839c8ce5e203d53\
        68f320c5f397c86ab741c51ab303a2db";

    /// IKEv1 Main Mode message 6, ipsec-ikev1.pcap frame 6 (96 bytes).
    const IKEV1_MM6_MARKER: &str = "\
        000000005a317d23cd179c9c3f3fda936352109c05100201000000000000005c\
        0b70532ca92200e6111284bf783b0d1203aadbbf1a1f6e9610650eb411011150\
        6f6e17329a099e0ca17d4f3221ff55d2239cee7eafde9ad342d0e3330563653a";

    /// IKEv2 IKE_AUTH request behind the non-ESP marker, 10.202.0.1:4500 -> 10.202.0.2:4500, ipsec-ikev2-natt.pcap frame 3 (276 bytes).
    const IKE_AUTH_REQUEST_MARKER: &str = "\
        000000003b7108e88e365c2af24324cce53c4fdc2e2023080000000100000110\
        230000f4ab4a697d858247824479ef2d35893fdba54ae9f94a922caaef88954e\
        9a9beef2d1f7ca6a330498a4365224c8a0ab52d49060e46887e628bb8b457bbe\
        5a2bf115f8b0caf5c8f3171e7e58faaf2a4e03ac331ec8526366e28a84af59ac\
        96b8afb6bdbd1ef15dea63179bed3b95232350915d8a2343df4874841912e348\
        fe149897207d369704430333eb1e52a89fffc84550f204cbbb77e53b9e16d70a\
        176fbce127cbdc96d5c9d6c2f9ac6a109449d033863356fbceeeb2c6a3da0228\
        c0071028d38e974ce28bd7299b00e1e13d2aec953f2ea5c7af4d5bb2d0b43416\
        e497aaf15b0a53dbaebfb9d8dedcfd0e579710e5";

    /// IKE_AUTH response, ipsec-ikev2-natt.pcap frame 4 (244 bytes).
    const IKE_AUTH_RESPONSE_MARKER: &str = "\
        000000003b7108e88e365c2af24324cce53c4fdc2e20232000000001000000f0\
        240000d447c76a184842a75d651f1e1087dae8a7cb7c96172dd200f80d0dff59\
        e85c0a8e5db94256d70bc132d97045c03d0a3295d677d86257ebc3610a888fc1\
        787157a4468df91d51dc60147f3b9f924718e494f2d195dda153b4a7dbb635de\
        6f7cb6db5e5bd3ec40953ae4bcfa90ebaa5a5598c4962ae9e27f88e4bc15ea1f\
        d2c869951260fb22359f93e1068baf1c3d095cef647ec45e35b3a129031cbd3e\
        27b6e73ae5f044e905f764886dcff4d79d1ae8930057f90510e9695fab334e19\
        c7d56b3962b4083921556a0374410b347691572d";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 5 (136 bytes).
    const ESP_UDP_5: &str = "\
        0c1bfe96000000018fd5b898d4a866bf05b4489d957056d0097199d7253ec5f6\
        842851a3936f5f01db7d530c2cabf22a82833d82b755653b4eb633758fe88feb\
        45c4452628c78bc2293eb1a96101d8a66c99b13c599ccd83f8bad3363946b4c3\
        3614eda5100265dfee000970eb7a481be4d1710086133ebed2e9f583b36927f8\
        aac283c14d4b9413";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 6 (136 bytes).
    const ESP_UDP_6: &str = "\
        cf2d3d2600000001cd25f0215a7b69e2fb840445a243aedf5f2193c43ef03c2b\
        5db98a63f037b2b964d1b99c928226efda09f6bb3070ee3f186971f58bf23860\
        6824fe1e2bdd0464003d035f34849f2081982a62fc7d45bda33b1b3f3e5257d6\
        af5e5642c8a0e1592c318967377adb6e3c3085c65383a2da4448697965733976\
        3d0d2e426d0f7682";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 7 (136 bytes).
    const ESP_UDP_7: &str = "\
        0c1bfe9600000002f31a49634f6e26220a34f3539a5e418e1a86109472d16e4f\
        701e470b6bcb312251c4409f55fa3bebc7de0da72c12c28d9fef2b3adc9b2ff8\
        c425afc5b11f8ecd802f86b2ca256b7830d434a1d9c4c3eba898146a112bb474\
        79712971733e77d858361062413dafa610c5ba25e6ca5af1a34a1d9739ae065d\
        616bb2f8678f03f8";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 8 (136 bytes).
    const ESP_UDP_8: &str = "\
        cf2d3d2600000002e780cf2e03c3730914924af15a176aae3fffb5e2eaf6f116\
        dad6733e9f71422a06012ddf131cde309e358c990e157e0056183d930dc7dfe2\
        4775ee453d19f3f2403a0281b3091d524dda126d95eea5c31aa0dca4f527ca3e\
        161c87e2cf7100ba0d37f1294e26da1e2e25d2514243e83ac5744824988f88b5\
        f3badb2423308e31";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 9 (136 bytes).
    const ESP_UDP_9: &str = "\
        0c1bfe9600000003c351a80051056e5574363b57ea204b2777e7ba761d5ac966\
        fe3a0d304493e9b60de0c44a4c443f9379e0a3a6e97e5fb4d2bcba11436ddfa6\
        c39d383e65d344ce067f048453c77d5694926b877154bc3da103613190296e18\
        2a3bc812d458f3f138a38f0c44ad88cec77256442a88bd7bfbe783a1e986625f\
        ae08b8855221e88b";

    /// ESP in UDP, ipsec-ikev2-natt.pcap frame 10 (136 bytes).
    const ESP_UDP_10: &str = "\
        cf2d3d26000000035a56081f1519b60a57ef77435dc75730c6aa7eaf5ee5d785\
        b6e97033ad8d16e2fe00ff4245b00d38de72056009e391b8bd46f9d02272aa02\
        1b1eedf34bff0a5210c8c95e7c253ad99107728898222505c162b948fc340087\
        16a13570d74501ee8cd6222a39cd49fbf4044d55dbe2983c1da4aabbc16d7c4d\
        11671bfb93903567";

    /// ESP over IP (protocol 50), SPI 0x2360b0e3, sequence 1, esp.pcapng frame 5 (132 bytes).
    const ESP_IP_CLIENT: &str = "\
        2360b0e30000000179cb5f816525d386146f359c0bee3177550e57749496e315\
        49cd4efae18ace39561b7295f6bd12eb5974ec500c0adbc3969805cd4e587550\
        13660babeec31bae40bba3797fba93dd377336d0434718983b4b2560108f10ad\
        d4c056997555702eeedf9208b5456706824185169c5159bca483645a85e92002\
        a5330164";

    /// ESP over IP, SPI 0xf0092cb5, sequence 1, esp.pcapng frame 6 (132 bytes).
    const ESP_IP_SERVER: &str = "\
        f0092cb5000000012d7f968d542cc11a586c57a26997505ba79626cc3a052d9e\
        07b38ff7fe5e1f08b6998a5467a1b7b7be795c6c2e60b6a7324db92ba84c0700\
        52c5c67fc9d3593ebaf106bc92025701005578bfab434ee1e99e7bfcf4148e9e\
        82ba805d121b79d2080308c72c4a415e14f9e7089cd3b977f127ae0096ece588\
        ecdb9766";

    /// AH (protocol 51) over an ICMP echo request, SPI 0x604816f6, ah.pcapng frame 5 (104 bytes).
    const AH_CLIENT: &str = "\
        01040000604816f600000001e732abace1c60046eec641ed0800670400050001\
        000000000014172cabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
        abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
        abcdabcdabcdabcd";

    /// AH over the echo reply, SPI 0xaf8683ef, ah.pcapng frame 6 (104 bytes).
    const AH_SERVER: &str = "\
        01040000af8683ef0000000102ee2dd7fb6854f1cbe8109c00006f0400050001\
        000000000014172cabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
        abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd\
        abcdabcdabcdabcd";

    fn verdict(p: &Progress) -> &VpnVerdict {
        match p {
            Progress::Verdict(v) => v,
            other => panic!("expected a verdict, got {other:?}"),
        }
    }

    fn detail(v: &VpnVerdict, key: &str) -> Option<String> {
        v.detail(key)
    }

    /// An RFC 8229 frame: 2-byte length counting itself, the non-ESP
    /// marker, the IKE message.
    fn tcp_frame(msg: &[u8]) -> Vec<u8> {
        let mut v = ((msg.len() + 6) as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&NON_ESP_MARKER);
        v.extend_from_slice(msg);
        v
    }

    #[test]
    fn reads_an_ikev2_sa_init_request() {
        let m = parse_message(&hex(IKEV2_SA_INIT_REQUEST)).unwrap();
        let h = m.header;
        assert_eq!(h.initiator_spi, 0xc441_6f87_fefa_05e4);
        assert_eq!(h.responder_spi, 0);
        assert_eq!(
            (h.version, h.exchange),
            (IkeVersion::V2, ExchangeType::IKE_SA_INIT)
        );
        assert_eq!(
            (h.flags, h.message_id, h.length),
            (flags::INITIATOR, 0, 464)
        );
        assert!(!m.encrypted);
        assert_eq!(m.payloads.describe(h.version), "SA,KE,Nonce,N,N,N,N,N");
    }

    #[test]
    fn ikev2_sa_init_request_and_response_are_high() {
        let mut t = IkeTracker::new();
        assert_eq!(
            t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1),
            Progress::Candidate
        );
        let p = t.on_datagram(&hex(IKEV2_SA_INIT_RESPONSE), false, 2);
        let v = verdict(&p);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Ike, Confidence::High)
        );
        assert_eq!(detail(v, "ike_version").as_deref(), Some("2"));
        assert_eq!(detail(v, "exchanges").as_deref(), Some("IKE_SA_INIT"));
        assert_eq!(
            detail(v, "initiator_spi").as_deref(),
            Some("0xc4416f87fefa05e4")
        );
        assert_eq!(
            detail(v, "responder_spi").as_deref(),
            Some("0xe5ce8e19b62cfb2f")
        );
        assert_eq!(detail(v, "carrier").as_deref(), Some("udp"));
        assert_eq!(
            v.evidence.iter().map(|f| f.packet).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(v.evidence[1].what.to_string().contains("responder SPI set"));
    }

    #[test]
    fn a_lone_valid_message_is_medium_when_the_flow_ends() {
        let mut t = IkeTracker::new();
        t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1);
        let v = t.verdict().unwrap();
        assert_eq!(v.confidence, Confidence::Medium);
        assert!(v.evidence[0].what.to_string().contains("no partner seen"));
        // Retransmitted, still unanswered: Medium on the way.
        t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 2);
        let p = t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 3);
        assert_eq!(verdict(&p).confidence, Confidence::Medium);
    }

    #[test]
    fn ikev1_main_mode_is_high() {
        let mut t = IkeTracker::new();
        assert_eq!(t.on_datagram(&hex(IKEV1_MM1), true, 1), Progress::Candidate);
        let p = t.on_datagram(&hex(IKEV1_MM2), false, 2);
        let v = verdict(&p);
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(v, "ike_version").as_deref(), Some("1"));
        assert_eq!(detail(v, "exchanges").as_deref(), Some("MAIN_MODE"));
        assert_eq!(
            detail(v, "initiator_spi").as_deref(),
            Some("0x5a317d23cd179c9c")
        );
        assert_eq!(
            detail(v, "responder_spi").as_deref(),
            Some("0x3f3fda936352109c")
        );
    }

    #[test]
    fn ike_behind_the_non_esp_marker_is_high() {
        // IKEv2 IKE_AUTH (encrypted: one SK payload) and IKEv1 Main Mode
        // 5/6 (encrypted body), both on 4500 behind the marker.
        for (req, resp, version) in [
            (IKE_AUTH_REQUEST_MARKER, IKE_AUTH_RESPONSE_MARKER, "2"),
            (IKEV1_MM5_MARKER, IKEV1_MM6_MARKER, "1"),
        ] {
            let mut t = IkeTracker::new();
            assert_eq!(t.on_datagram(&hex(req), true, 1), Progress::Candidate);
            let p = t.on_datagram(&hex(resp), false, 2);
            let v = verdict(&p);
            assert_eq!(v.confidence, Confidence::High);
            assert_eq!(detail(v, "carrier").as_deref(), Some("udp-non-esp-marker"));
            assert_eq!(detail(v, "ike_version").as_deref(), Some(version));
        }
        let m = parse_message(&hex(IKE_AUTH_REQUEST_MARKER)[4..]).unwrap();
        assert!(m.encrypted);
        assert_eq!(m.header.exchange, ExchangeType::IKE_AUTH);
    }

    fn natt_flow() -> Vec<(Vec<u8>, bool)> {
        let mut v = vec![
            (hex(IKE_AUTH_REQUEST_MARKER), true),
            (hex(IKE_AUTH_RESPONSE_MARKER), false),
        ];
        for (i, h) in [
            ESP_UDP_5, ESP_UDP_6, ESP_UDP_7, ESP_UDP_8, ESP_UDP_9, ESP_UDP_10,
        ]
        .iter()
        .enumerate()
        {
            v.push((hex(h), i % 2 == 0));
        }
        v
    }

    #[test]
    fn esp_after_ike_on_4500_is_esp_with_ike_details() {
        let mut t = UdpEncapTracker::new();
        let p: Vec<Progress> = natt_flow()
            .iter()
            .enumerate()
            .map(|(i, (b, c))| t.on_datagram(b, *c, i as u64 + 3))
            .collect();
        // IKE paired at packet 4; the flow waits for ESP both ways.
        assert!(p[..3].iter().all(|p| *p == Progress::Candidate), "{p:?}");
        let v = verdict(&p[3]);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Esp, Confidence::High)
        );
        assert_eq!(
            detail(v, "esp_spi_to_server").as_deref(),
            Some("0x0c1bfe96")
        );
        assert_eq!(
            detail(v, "esp_spi_to_client").as_deref(),
            Some("0xcf2d3d26")
        );
        assert_eq!(detail(v, "ike_version").as_deref(), Some("2"));
        assert_eq!(detail(v, "exchanges").as_deref(), Some("IKE_AUTH"));
        assert_eq!(detail(v, "nat_keepalives").as_deref(), Some("0"));
        // Evidence: the IKE pair, then each direction's first ESP packet.
        assert_eq!(
            v.evidence.iter().map(|f| f.packet).collect::<Vec<_>>(),
            [3, 4, 5, 6]
        );
    }

    #[test]
    fn esp_in_udp_without_ike_needs_three_in_order_each_way() {
        let flow = natt_flow();
        let mut t = UdpEncapTracker::new();
        let p: Vec<Progress> = flow[2..]
            .iter()
            .enumerate()
            .map(|(i, (b, c))| t.on_datagram(b, *c, i as u64 + 1))
            .collect();
        assert!(p[..5].iter().all(|p| *p == Progress::Candidate), "{p:?}");
        let v = verdict(&p[5]);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Esp, Confidence::High)
        );
        assert_eq!(detail(v, "ike_version").as_deref(), None);
        // The same packets one way only: Medium when the flow ends.
        let mut t = EspTracker::in_udp();
        for (i, (b, _)) in flow[2..].iter().enumerate().step_by(2) {
            assert_eq!(t.on_packet(b, true, i as u64), Progress::Candidate);
        }
        assert_eq!(t.verdict().map(|v| v.confidence), Some(Confidence::Medium));
    }

    #[test]
    fn nat_keepalives_are_counted_not_judged() {
        let mut t = UdpEncapTracker::new();
        let mut last = Progress::Candidate;
        for (i, (b, c)) in natt_flow().iter().enumerate() {
            let p = t.on_datagram(&[NAT_KEEPALIVE], *c, 100 + i as u64);
            assert_ne!(p, Progress::NotThis);
            last = t.on_datagram(b, *c, i as u64 + 1);
        }
        assert_eq!(
            detail(verdict(&last), "nat_keepalives").as_deref(),
            Some("8")
        );
        // The IKE tracker alone skips them too.
        let mut t = IkeTracker::new();
        assert_eq!(
            t.on_datagram(&[NAT_KEEPALIVE], true, 1),
            Progress::Candidate
        );
    }

    #[test]
    fn ike_only_on_4500_is_ike_when_the_flow_ends() {
        let mut t = UdpEncapTracker::new();
        for (i, (b, c)) in natt_flow()[..2].iter().enumerate() {
            assert_eq!(t.on_datagram(b, *c, i as u64 + 1), Progress::Candidate);
        }
        let v = t.verdict().unwrap();
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Ike, Confidence::High)
        );
    }

    #[test]
    fn esp_and_ah_over_ip_both_directions_are_high() {
        let mut t = EspTracker::new();
        assert_eq!(
            t.on_packet(&hex(ESP_IP_CLIENT), true, 5),
            Progress::Candidate
        );
        let p = t.on_packet(&hex(ESP_IP_SERVER), false, 6);
        let v = verdict(&p);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Esp, Confidence::High)
        );
        assert_eq!(
            detail(v, "esp_spi_to_server").as_deref(),
            Some("0x2360b0e3")
        );
        assert_eq!(
            detail(v, "esp_spi_to_client").as_deref(),
            Some("0xf0092cb5")
        );
        // One packet alone: only the protocol number vouches for it.
        let mut t = EspTracker::new();
        t.on_packet(&hex(ESP_IP_CLIENT), true, 5);
        assert_eq!(t.verdict().map(|v| v.confidence), Some(Confidence::Low));

        let mut t = AhTracker::new();
        assert_eq!(t.on_packet(&hex(AH_CLIENT), true, 5), Progress::Candidate);
        let p = t.on_packet(&hex(AH_SERVER), false, 6);
        let v = verdict(&p);
        assert_eq!(
            (v.protocol, v.confidence),
            (VpnProtocol::Ah, Confidence::High)
        );
        assert_eq!(detail(v, "ah_spi_to_server").as_deref(), Some("0x604816f6"));
        assert_eq!(detail(v, "icv_bytes").as_deref(), Some("12"));
    }

    #[test]
    fn ike_over_tcp_in_any_segmentation() {
        let mut client = TCP_PREFIX.to_vec();
        client.extend(tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)));
        let server = tcp_frame(&hex(IKEV2_SA_INIT_RESPONSE));
        for size in [1, 2, 5, 7, 29, 100, 4096] {
            let mut t = IkeTracker::new();
            for (i, chunk) in client.chunks(size).enumerate() {
                assert_eq!(t.on_stream(chunk, true, i as u64), Progress::Candidate);
            }
            let mut last = Progress::Candidate;
            for (i, chunk) in server.chunks(size).enumerate() {
                last = t.on_stream(chunk, false, 1000 + i as u64);
            }
            let v = verdict(&last);
            assert_eq!(v.confidence, Confidence::High, "chunks of {size}");
            assert_eq!(detail(v, "carrier").as_deref(), Some("tcp-rfc8229"));
        }
        // Without the IKETCP prefix the stream is not RFC 8229.
        let mut t = IkeTracker::new();
        assert_eq!(
            t.on_stream(&tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)), true, 1),
            Progress::NotThis
        );
        assert_eq!(t.refusal(), Some(&Refusal::Prefix));
        // ESP frames (SPI where the marker would be) are skipped whole.
        let mut t = IkeTracker::new();
        let mut stream = client.clone();
        let esp = hex(ESP_UDP_5);
        stream.extend(((esp.len() + 2) as u16).to_be_bytes());
        stream.extend(&esp);
        stream.extend(tcp_frame(&hex(IKEV2_SA_INIT_REQUEST)));
        assert_eq!(t.on_stream(&stream, true, 1), Progress::Candidate);
        assert_eq!(t.streams[0].esp_frames, 1);
    }

    #[test]
    fn header_and_chain_rules_refuse() {
        let req = hex(IKEV2_SA_INIT_REQUEST);
        let resp = hex(IKEV2_SA_INIT_RESPONSE);
        let set = |b: &[u8], at: usize, v: u8| {
            let mut m = b.to_vec();
            m[at] = v;
            m
        };
        type Check = fn(&Refusal) -> bool;
        let mut longer = req.clone();
        longer.push(0);
        let cases: Vec<(&str, Vec<u8>, Check)> = vec![
            (
                "zero initiator SPI",
                {
                    let mut m = req.clone();
                    m[..8].fill(0);
                    m
                },
                |r| *r == Refusal::InitiatorSpiZero,
            ),
            ("version 2.1", set(&req, 17, 0x21), |r| {
                *r == Refusal::Version(0x21)
            }),
            ("exchange 33", set(&req, 18, 33), |r| {
                matches!(r, Refusal::Exchange { .. })
            }),
            ("reserved flag", set(&req, 19, 0x09), |r| {
                matches!(r, Refusal::Flags { .. })
            }),
            ("length field", set(&req, 27, 0xd1), |r| {
                matches!(r, Refusal::LengthField { .. })
            }),
            ("one byte short", req[..req.len() - 1].to_vec(), |r| {
                matches!(r, Refusal::LengthField { .. })
            }),
            ("one byte more", longer, |r| {
                matches!(r, Refusal::LengthField { .. })
            }),
            ("first payload type", set(&req, 16, 99), |r| {
                matches!(r, Refusal::NextPayload { .. })
            }),
            ("payload reserved bits", set(&req, 29, 0x01), |r| {
                matches!(r, Refusal::PayloadReserved { .. })
            }),
            (
                "payload length 3",
                {
                    let mut m = req.clone();
                    m[30..32].copy_from_slice(&3u16.to_be_bytes());
                    m
                },
                |r| matches!(r, Refusal::PayloadLength { .. }),
            ),
            (
                "chain not ending at the last byte",
                {
                    let mut m = req.clone();
                    let len = m.len() as u32 + 8;
                    m.extend([0; 8]);
                    m[24..28].copy_from_slice(&len.to_be_bytes());
                    m
                },
                |r| matches!(r, Refusal::TrailingBytes { .. }),
            ),
            (
                "responder SPI in an IKE_SA_INIT request",
                set(&req, 15, 1),
                |r| matches!(r, Refusal::ResponderSpiSet { .. }),
            ),
            ("IKE_SA_INIT with message id 1", set(&req, 23, 1), |r| {
                matches!(r, Refusal::MessageId { .. })
            }),
            (
                "response flag on the initiator's IKE_SA_INIT",
                set(&req, 19, 0x28),
                |r| matches!(r, Refusal::Role { .. }),
            ),
            (
                "IKE_SA_INIT response without responder SPI",
                {
                    let mut m = resp.clone();
                    m[8..16].fill(0);
                    m
                },
                |r| matches!(r, Refusal::ResponderSpiZero { .. }),
            ),
            (
                "IKE_AUTH in clear",
                {
                    let mut m = resp.clone();
                    m[18] = 35;
                    m[23] = 1;
                    m
                },
                |r| matches!(r, Refusal::NotEncrypted { .. }),
            ),
            (
                "encrypted IKEv1 body not in blocks",
                {
                    let mut m = hex(IKEV1_MM5_MARKER)[4..].to_vec();
                    m.truncate(m.len() - 4);
                    let len = m.len() as u32;
                    m[24..28].copy_from_slice(&len.to_be_bytes());
                    m
                },
                |r| matches!(r, Refusal::EncryptedBody { .. }),
            ),
        ];
        for (what, bytes, expected) in cases {
            let got = parse_message(&bytes).map(|_| ()).unwrap_err();
            assert!(expected(&got), "{what}: refused for {got}");
            let mut t = IkeTracker::new();
            assert_eq!(t.on_datagram(&bytes, true, 1), Progress::NotThis, "{what}");
        }
        // Every proper prefix of a valid message is refused.
        for cut in 0..req.len() {
            assert!(parse_message(&req[..cut]).is_err(), "prefix {cut}");
        }
    }

    #[test]
    fn sa_consistency_across_messages() {
        // The responder SPI changing within one IKE SA.
        let mut other = hex(IKEV1_MM2);
        other[15] ^= 1;
        let mut t = IkeTracker::new();
        t.on_datagram(&hex(IKEV1_MM1), true, 1);
        t.on_datagram(&hex(IKEV1_MM2), false, 2);
        assert_eq!(t.on_datagram(&other, false, 3), Progress::NotThis);
        assert!(matches!(t.refusal(), Some(Refusal::SpiChanged { .. })));
        // The client sending as the original initiator, then as responder.
        let mut flipped = hex(IKE_AUTH_REQUEST_MARKER);
        flipped[4 + 19] = 0x00;
        let mut t = IkeTracker::new();
        t.on_datagram(&hex(IKE_AUTH_REQUEST_MARKER), true, 1);
        assert_eq!(t.on_datagram(&flipped, true, 2), Progress::NotThis);
        assert_eq!(
            t.refusal(),
            Some(&Refusal::InitiatorFlag(0x3b71_08e8_8e36_5c2a))
        );
        // A response from the same side as its request does not pair.
        let mut t = IkeTracker::new();
        t.on_datagram(&hex(IKEV2_SA_INIT_REQUEST), true, 1);
        t.on_datagram(&hex(IKEV2_SA_INIT_RESPONSE), true, 2);
        assert!(!t.is_paired());
    }

    #[test]
    fn esp_sequence_rules_refuse() {
        let esp = |spi: u32, seq: u32, len: usize| {
            let mut b = hex(ESP_UDP_5);
            b[..4].copy_from_slice(&spi.to_be_bytes());
            b[4..8].copy_from_slice(&seq.to_be_bytes());
            b.resize(len, 0);
            b
        };
        type Check = fn(&Refusal) -> bool;
        type Packets = Vec<(Vec<u8>, bool)>;
        let cases: Vec<(&str, Packets, Check)> = vec![
            ("reserved SPI", vec![(esp(255, 1, 136), true)], |r| {
                *r == Refusal::ReservedSpi(255)
            }),
            ("sequence 0", vec![(esp(0x1000, 0, 136), true)], |r| {
                matches!(r, Refusal::ZeroSequence(_))
            }),
            (
                "size not a multiple of 4",
                vec![(esp(0x1000, 1, 135), true)],
                |r| matches!(r, Refusal::EspLength { .. }),
            ),
            ("too small", vec![(esp(0x1000, 1, 28), true)], |r| {
                matches!(r, Refusal::EspLength { .. })
            }),
            (
                "sequence leaping ahead",
                vec![
                    (esp(0x1000, 1, 136), true),
                    (esp(0x1000, 2 + MAX_SEQ_STEP, 136), true),
                ],
                |r| matches!(r, Refusal::Sequence { .. }),
            ),
            (
                "sequence falling back",
                vec![
                    (esp(0x1000, 200, 136), true),
                    (esp(0x1000, 200 - REPLAY_WINDOW - 1, 136), true),
                ],
                |r| matches!(r, Refusal::Sequence { .. }),
            ),
            (
                "sequence repeating",
                vec![
                    (esp(0x1000, 7, 136), true),
                    (esp(0x1000, 7, 136), true),
                    (esp(0x1000, 7, 136), true),
                    (esp(0x1000, 7, 136), true),
                ],
                |r| matches!(r, Refusal::RepeatedSequence { .. }),
            ),
            (
                "new SPI mid-sequence",
                vec![(esp(0x1000, 1, 136), true), (esp(0x2000, 5000, 136), true)],
                |r| matches!(r, Refusal::NewSpiMidSequence { .. }),
            ),
            (
                "one SPI both ways",
                vec![(esp(0x1000, 1, 136), true), (esp(0x1000, 1, 136), false)],
                |r| *r == Refusal::SameSpi(0x1000),
            ),
        ];
        for (what, packets, expected) in cases {
            let mut t = EspTracker::in_udp();
            let mut last = Progress::Candidate;
            for (i, (b, c)) in packets.iter().enumerate() {
                last = t.on_packet(b, *c, i as u64);
            }
            assert_eq!(last, Progress::NotThis, "{what}");
            let r = t.refusal().unwrap();
            assert!(expected(r), "{what}: refused for {r}");
        }
        // A child SA rekey: a new SPI starting afresh is fine.
        let mut t = EspTracker::in_udp();
        for (i, b) in [
            esp(0x1000, 90, 136),
            esp(0x1000, 91, 136),
            esp(0x2000, 1, 136),
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(t.on_packet(b, true, i as u64), Progress::Candidate);
        }
    }

    #[test]
    fn look_alikes_are_refused() {
        let mut samples = controls::all();
        samples.push(("WireGuard initiation", {
            // wireguard-udp-51820.pcap frame 1 starts 01 00 00 00.
            let mut b = vec![1, 0, 0, 0];
            b.resize(148, 0x5a);
            b
        }));
        for (name, b) in samples {
            let mut t = IkeTracker::new();
            assert_eq!(t.on_datagram(&b, true, 1), Progress::NotThis, "IKE: {name}");
            let mut t = IkeTracker::new();
            assert_eq!(
                t.on_stream(&b, true, 1),
                Progress::NotThis,
                "IKE/TCP: {name}"
            );
            // As ESP-in-UDP the same packet, repeated, must not pass.
            let mut t = UdpEncapTracker::new();
            let mut p = Progress::Candidate;
            for i in 0..12 {
                p = t.on_datagram(&b, i % 2 == 0, i);
                if p == Progress::NotThis {
                    break;
                }
            }
            assert!(!matches!(p, Progress::Verdict(_)), "4500: {name}: {p:?}");
            assert_eq!(t.verdict(), None, "4500: {name}");
        }
    }

    #[test]
    fn random_payloads_never_decide() {
        let mut rng = XorShift(0x4950_5345_4321);
        for flow in 0..3000 {
            let mut ike = IkeTracker::new();
            let mut tcp = IkeTracker::new();
            let mut encap = UdpEncapTracker::new();
            let mut esp_ip = EspTracker::new();
            let mut ah = AhTracker::new();
            let packets = 1 + rng.below(12);
            for i in 0..packets {
                let len = rng.below(1500) as usize;
                let mut b = rng.bytes(len);
                // A third of the flows get IKE's version byte and a
                // matching length field, a third the non-ESP marker.
                match flow % 3 {
                    0 if len >= IKE_HEADER_LEN => {
                        b[17] = if rng.below(2) == 0 { 0x10 } else { 0x20 };
                        b[24..28].copy_from_slice(&(len as u32).to_be_bytes());
                    }
                    1 if len >= 4 => b[..4].fill(0),
                    _ => {}
                }
                let c = rng.below(2) == 0;
                for p in [
                    ike.on_datagram(&b, c, i),
                    tcp.on_stream(&b, c, i),
                    encap.on_datagram(&b, c, i),
                    ah.on_packet(&b, c, i),
                ] {
                    assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}: {p:?}");
                }
                // IP protocol 50 itself says ESP: a random packet may be
                // a Low candidate, never an in-sequence pair.
                let p = esp_ip.on_packet(&b, c, i);
                assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}: {p:?}");
            }
            assert_eq!(ike.verdict(), None, "flow {flow}");
            assert_eq!(tcp.verdict(), None, "flow {flow}");
            assert_eq!(encap.verdict(), None, "flow {flow}");
            assert!(
                esp_ip
                    .verdict()
                    .is_none_or(|v| v.confidence == Confidence::Low),
                "flow {flow}"
            );
            assert!(
                ah.verdict().is_none_or(|v| v.confidence == Confidence::Low),
                "flow {flow}"
            );
        }
    }

    #[test]
    fn truncated_and_mutated_packets_never_panic() {
        let mut rng = XorShift(11);
        let mut fixtures: Vec<Vec<u8>> = [
            IKEV2_SA_INIT_REQUEST,
            IKEV1_MM1,
            IKEV1_MM5_MARKER,
            IKE_AUTH_REQUEST_MARKER,
            ESP_UDP_5,
            ESP_IP_CLIENT,
            AH_CLIENT,
        ]
        .iter()
        .map(|h| hex(h))
        .collect();
        fixtures.extend(controls::all().into_iter().map(|(_, b)| b));
        for f in &fixtures {
            for cut in 0..=f.len() {
                let part = &f[..cut];
                let _ = parse_message(part);
                IkeTracker::new().on_datagram(part, true, 1);
                IkeTracker::new().on_stream(part, true, 1);
                UdpEncapTracker::new().on_datagram(part, true, 1);
                EspTracker::new().on_packet(part, true, 1);
                AhTracker::new().on_packet(part, true, 1);
            }
            for _ in 0..300 {
                let mut m = f.clone();
                if !m.is_empty() {
                    let i = rng.below(m.len() as u64) as usize;
                    m[i] ^= 1 << rng.below(8);
                }
                let mut ike = IkeTracker::new();
                ike.on_datagram(f, true, 1);
                ike.on_datagram(&m, false, 2);
                let mut tcp = IkeTracker::new();
                tcp.on_stream(TCP_PREFIX, true, 0);
                tcp.on_stream(&tcp_frame(&m), true, 1);
                let mut encap = UdpEncapTracker::new();
                encap.on_datagram(f, true, 1);
                encap.on_datagram(&m, false, 2);
                let _ = (ike.verdict(), tcp.verdict(), encap.verdict());
            }
        }
    }

    #[test]
    fn undecided_flows_stop_at_the_cap_and_state_is_small() {
        let mut t = UdpEncapTracker::new();
        for i in 1..MAX_MESSAGES {
            assert_eq!(
                t.on_datagram(&[NAT_KEEPALIVE], true, u64::from(i)),
                Progress::Candidate
            );
        }
        assert_eq!(t.on_datagram(&[NAT_KEEPALIVE], true, 99), Progress::NotThis);
        assert_eq!(t.refusal(), Some(&Refusal::Undecided(MAX_MESSAGES)));
        for size in [
            std::mem::size_of::<IkeTracker>(),
            std::mem::size_of::<UdpEncapTracker>(),
            std::mem::size_of::<EspTracker>(),
            std::mem::size_of::<AhTracker>(),
        ] {
            assert!(size < 4096, "{size} bytes");
        }
    }
}
