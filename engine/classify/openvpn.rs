//! OpenVPN: a per-flow state machine that tells an OpenVPN flow from
//! anything else, over UDP datagrams or the TCP stream, on any port.
//!
//! What it does. Every OpenVPN packet in TLS mode starts with one byte,
//! opcode (high 5 bits) and key id (low 3 bits); over TCP each packet is
//! preceded by a 2-byte length, which [`OpenVpnTracker::on_stream`] undoes
//! whatever the chunking. Control packets (`P_CONTROL_*`, `P_ACK_V1`) then
//! carry the sender's 8-byte session id and, depending on how the control
//! channel is protected ([`Protection`]):
//!
//! ```text
//! plain:     op | session | ack n | n × ack id | peer session (n > 0) | message id | TLS
//! tls-auth:  op | session | HMAC (16/20/28/32/48/64) | packet id | time | ack n | … as plain
//! tls-crypt: op | session | packet id | time | tag (32) | encrypted (ack n … TLS)
//! ```
//!
//! The HMAC size of tls-auth is not announced, so every candidate layout
//! (plain, six HMAC sizes, tls-crypt) is tried on every control packet and
//! kept only while the packets read consistently under it ([`read_control`]):
//! at most 8 acks, a `P_ACK_V1` exactly as long as its acks, the peer session
//! named in the acks equal to the session the peer sends under (checked
//! later if the peer has not been seen yet), message ids and replay packet
//! ids moving by small steps per direction (a replay id never twice), replay
//! times plausible (after 2001-09-09) and within a day of each other, a
//! tls-crypt `P_ACK_V1` whose sealed part has the length of 1–8 acks, and
//! for tls-crypt-v2 (`P_CONTROL_HARD_RESET_CLIENT_V3`, `P_CONTROL_WKC_V1`) a
//! trailing wrapped-client-key length that fits the packet ([`wkc_len`]).
//! Session ids must look random (at most 2 zero bytes, at least 5 distinct
//! values), stay the same per direction and differ between the two. Key id
//! 0 and key ids 1–7 (renegotiations) are judged apart, because OpenVPN 2.6
//! wraps renegotiation control packets tls-crypt style whatever protected
//! the first handshake. Data packets (`P_DATA_V1`, `P_DATA_V2`) must keep
//! their key id (or move to the next one, or to one a control packet used)
//! and, for `P_DATA_V2`, one 24-bit peer id in both directions. A packet
//! identical to the previous one of its direction (a duplicated frame) is
//! passed over.
//!
//! Verdicts and their confidence ([`Confidence`]):
//! - High: a handshake. A client reset from one side and a server reset from
//!   the other (or soft resets with the same key id from both), under one
//!   layout, where the server's acks name the client's session (plain,
//!   tls-auth) or, under tls-crypt where the acks are encrypted, a third
//!   consistent control packet follows and both sides' times are within a
//!   day.
//! - Medium: control packets from both sides, two or more each, of two
//!   opcodes or more, under one layout, without the resets (a capture that
//!   starts mid-handshake), tied by an echoed session id (or close times
//!   under tls-crypt).
//! - Low: four or more consistent control packets of two opcodes or more,
//!   a hard reset among them, from one side while the other is silent (a
//!   one-way capture, or a client calling a dead server); a data channel
//!   seen mid-flow (`mode` "data-only": three or more data packets each way,
//!   `P_DATA_V2` with one peer id below 65536 (or `0xffffff`), one key id,
//!   and either the AEAD packet id in the clear rising each way, or CBC-shaped
//!   lengths and no fixed byte after the header); static-key mode (below).
//!
//! Static-key mode (`--secret`) has no opcode: every packet is HMAC, IV and
//! CBC ciphertext, with the packet id and time encrypted, so nothing in it
//! is plaintext. It is reported (Low, "static-key") only when the opcode
//! reading has failed and [`STATIC_PACKETS`] packets, three or more each
//! way, all have one length class, HMAC + 16-byte IV + 16·n with n ≥ 2
//! (length ≡ 0, 4 or 12 mod 16), at least two distinct lengths, no fixed
//! byte among their first 16 bytes and about the byte variety of random
//! data there, and the smallest of them, sent both ways, are exactly a
//! ping/OCC message long (16 or 17 bytes after packet id and time: two
//! blocks) for one of the HMAC sizes; no tunnelled IP packet is that short.
//! A block-cipher protocol with random-looking packets of such lengths would
//! look the same; that is the limit of what static-key traffic shows.
//!
//! Evidence: one [`Fact`] per kept control packet (opcode, key id, session,
//! HMAC size or tls-crypt, replay id and time, acks and the session they
//! name, message id, wrapped key length), worded under the layout the flow
//! settled on, and per data packet kept (peer id, AEAD packet id). "From the
//! client" means the direction the caller called `from_client`; the
//! `client_session` detail is the side that sent the client reset.
//!
//! What it refuses. A packet that breaks the pattern after the flow looked
//! like OpenVPN makes it [`Progress::NotThis`]: an unknown opcode, a reset
//! with a non-zero key id (or a soft reset with key id 0), a session id that
//! changes, client resets from both sides, no layout left that reads all
//! control packets, a data key id or peer id that jumps. Once two packets
//! or more read as OpenVPN, such a break also rules out static-key. Not
//! recognised: static-key traffic with an 8-byte block cipher (BF-CBC,
//! 3DES) or `--cipher none`, data-only flows of `P_DATA_V1` only, a TCP
//! stream picked up mid-packet, clocks before 2001 (replay times), and a
//! renegotiation seen without the first handshake tells the renegotiation's
//! wrapping as the mode. Over TCP a zero-length packet refuses the flow, and
//! a packet whose first byte and length fit no reading is refused before
//! the rest of it arrives. Ports are never looked at.
//!
//! Limits. [`MAX_PACKETS`] OpenVPN packets (datagrams, or framed packets over
//! TCP) are examined; a flow still undecided then is `NotThis`. Over TCP a
//! packet's first [`TCP_BUFFER_CAP`] bytes are kept (the rest is counted
//! and skipped), in one buffer per direction that grows to the largest
//! packet's kept bytes. Everything else is fixed size (about 2.5 KB per
//! tracker): per layout and direction a few counters, and the first
//! [`NOTABLE`] control packets' first 128 bytes, kept to word the evidence.
//! After a verdict (or a refusal) the tracker answers the same without
//! reading input, and its TCP buffers are freed.

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step};
use super::facts::{self, Evidence};
use super::vpn::side_of;
use super::vpn::{Progress, Value, VpnDetails, VpnVerdict};
use super::AppProto;
use crate::bytes::{be16, be32};

/// OpenVPN packets examined before an undecided flow is refused.
pub const MAX_PACKETS: u16 = 32;
/// Bytes of one TCP-framed packet kept for reading (per direction).
pub const TCP_BUFFER_CAP: usize = 4096;
/// Control packets whose headers are kept to word the evidence.
pub const NOTABLE: usize = 6;
/// Packets a static-key verdict needs.
pub const STATIC_PACKETS: u16 = 12;

/// Most packet ids one control packet acknowledges.
const MAX_ACKS: usize = 8;
/// Replay times before this (2001-09-09) are not plausible.
const MIN_TIME: u32 = 1_000_000_000;
/// Spread allowed between replay times (one day).
const TIME_SPREAD: u32 = 86_400;
/// How far a packet id may fall behind the highest one seen (reordering,
/// retransmission).
const BACK: u32 = 32;
/// How far a packet id may jump ahead (lost packets).
const STEP: u32 = 256;
/// A hard reset's replay packet id is at most this (retransmissions), in
/// its low 16 bits: the high ones may carry a marker (OpenVPN 2.6 starts at
/// `0x0f000000` to announce early negotiation (HMAC cookies); a 2022
/// tls-crypt-v2 client in the nDPI corpus, `openvpn-tlscrypt.pcap`, starts
/// at `0x0a010001`).
const RESET_MAX_REPLAY: u32 = 64;
/// A reset's message id is at most this.
const RESET_MAX_MESSAGE: u32 = 16;
/// Message and acknowledged ids stay below this.
const MAX_MESSAGE: u32 = 1 << 20;
/// Control packets from one side, the other silent, for a one-way verdict.
const ONE_WAY_PACKETS: u16 = 4;
/// Data packets per direction for a data-only verdict.
const DATA_ONLY_PACKETS: u16 = 3;
/// Wrapped client key: 32-byte tag + 256-byte key + 2-byte length at least.
const MIN_WKC: u16 = 32 + 256 + 2;
const MAX_WKC: u16 = 1024;
/// Bytes of a kept control packet header: enough for the widest reliable
/// header (64-byte HMAC, 8 acks).
const NOTE_HEAD: usize = 128;
/// Smallest data packets: opcode, peer id (V2), a 4-byte id and a 16-byte tag.
const MIN_DATA_V1: usize = 1 + 4 + 16;
const MIN_DATA_V2: usize = 4 + 4 + 16;
/// Smallest control packet (a plain client reset).
const MIN_CONTROL: usize = 14;
/// Smallest static-key packet: 16-byte HMAC, 16-byte IV, two blocks.
const MIN_STATIC: usize = 64;
/// Distinct byte values among the first 16 bytes of [`STATIC_PACKETS`]
/// random packets: about 135 expected, this many required.
const STATIC_BYTE_VALUES: u32 = 100;

/// Field offsets, as in the layout diagrams above.
mod field {
    use std::ops::Range;
    pub const SESSION: Range<usize> = 1..9;
    /// Replay packet id and time.
    pub const REPLAY_LEN: usize = 8;
    pub const TLS_CRYPT_TAG: usize = 32;
    /// opcode, session, packet id, time, tag.
    pub const TLS_CRYPT_HEADER: usize = 9 + REPLAY_LEN + TLS_CRYPT_TAG;
    /// The sealed part of a tls-crypt packet: ack count and message id at least.
    pub const TLS_CRYPT_MIN_SEALED: usize = 1 + 4;
    pub const PEER_ID: Range<usize> = 1..4;
    pub const WKC_LEN: usize = 2;
}

/// Packet opcode: the high 5 bits of the first byte. Unknown values are
/// kept as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    pub const HARD_RESET_CLIENT_V1: Opcode = Opcode(1);
    pub const HARD_RESET_SERVER_V1: Opcode = Opcode(2);
    pub const SOFT_RESET_V1: Opcode = Opcode(3);
    pub const CONTROL_V1: Opcode = Opcode(4);
    pub const ACK_V1: Opcode = Opcode(5);
    pub const DATA_V1: Opcode = Opcode(6);
    pub const HARD_RESET_CLIENT_V2: Opcode = Opcode(7);
    pub const HARD_RESET_SERVER_V2: Opcode = Opcode(8);
    pub const DATA_V2: Opcode = Opcode(9);
    pub const HARD_RESET_CLIENT_V3: Opcode = Opcode(10);
    pub const CONTROL_WKC_V1: Opcode = Opcode(11);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "P_CONTROL_HARD_RESET_CLIENT_V1",
            2 => "P_CONTROL_HARD_RESET_SERVER_V1",
            3 => "P_CONTROL_SOFT_RESET_V1",
            4 => "P_CONTROL_V1",
            5 => "P_ACK_V1",
            6 => "P_DATA_V1",
            7 => "P_CONTROL_HARD_RESET_CLIENT_V2",
            8 => "P_CONTROL_HARD_RESET_SERVER_V2",
            9 => "P_DATA_V2",
            10 => "P_CONTROL_HARD_RESET_CLIENT_V3",
            11 => "P_CONTROL_WKC_V1",
            _ => return None,
        })
    }

    /// Carries a session id (control channel).
    pub fn is_control(self) -> bool {
        matches!(self.0, 1..=5 | 7 | 8 | 10 | 11)
    }

    pub fn is_data(self) -> bool {
        matches!(self.0, 6 | 9)
    }

    pub fn is_client_reset(self) -> bool {
        matches!(self.0, 1 | 7 | 10)
    }

    pub fn is_server_reset(self) -> bool {
        matches!(self.0, 2 | 8)
    }

    pub fn is_hard_reset(self) -> bool {
        self.is_client_reset() || self.is_server_reset()
    }

    /// Exists only under tls-crypt-v2 and ends with a wrapped client key.
    pub fn carries_wkc(self) -> bool {
        matches!(self.0, 10 | 11)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "opcode {}", self.0),
        }
    }
}

/// Key id: the low 3 bits of the first byte; 0 for the first key, 1–7 for
/// renegotiated ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u8);

/// Splits a packet's first byte.
pub fn split_first(b: u8) -> (Opcode, KeyId) {
    (Opcode(b >> 3), KeyId(b & 0x07))
}

/// A control channel session id (64 bits, chosen at random by each side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 8]);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A 32-bit packet id: replay protection, reliable-layer message id or ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(pub u32);

/// The 24-bit peer id of `P_DATA_V2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerId(pub u32);

/// How the control channel is protected, i.e. where its fields sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protection {
    Plain,
    /// `--tls-auth`: an HMAC of this many bytes, then packet id and time.
    TlsAuth {
        hmac: u8,
    },
    /// `--tls-crypt` / `--tls-crypt-v2`: packet id and time, a 32-byte tag,
    /// the rest encrypted.
    TlsCrypt,
}

impl Protection {
    /// The layouts tried, in mask bit order. HMAC sizes: MD5 16, SHA1 20,
    /// SHA224 28, SHA256 32, SHA384 48, SHA512 64.
    pub const CANDIDATES: [Protection; 8] = [
        Protection::Plain,
        Protection::TlsAuth { hmac: 16 },
        Protection::TlsAuth { hmac: 20 },
        Protection::TlsAuth { hmac: 28 },
        Protection::TlsAuth { hmac: 32 },
        Protection::TlsAuth { hmac: 48 },
        Protection::TlsAuth { hmac: 64 },
        Protection::TlsCrypt,
    ];
}

/// Mask of every candidate layout.
const ALL_LAYOUTS: u8 = 0xff;
/// Mask bit of [`Protection::TlsCrypt`].
const CRYPT_BIT: u8 = 1 << 7;

/// Replay protection fields (tls-auth, tls-crypt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replay {
    pub id: PacketId,
    /// Seconds since 1970 on the sender's clock.
    pub time: u32,
}

/// The reliability-layer fields, readable without tls-crypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reliable<'a> {
    /// `4 × n` bytes of acknowledged message ids.
    acks: &'a [u8],
    /// The peer's session id, present when there are acks.
    pub remote: Option<SessionId>,
    /// This packet's message id (none in `P_ACK_V1`).
    pub message: Option<PacketId>,
}

impl<'a> Reliable<'a> {
    pub fn ack_count(&self) -> usize {
        self.acks.len() / 4
    }

    pub fn acks(&self) -> impl Iterator<Item = PacketId> + 'a {
        self.acks
            .chunks_exact(4)
            .map(|c| PacketId(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }
}

/// A control packet read under one [`Protection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlView<'a> {
    pub opcode: Opcode,
    pub key: KeyId,
    pub session: SessionId,
    pub protection: Protection,
    pub replay: Option<Replay>,
    /// None under tls-crypt (encrypted).
    pub reliable: Option<Reliable<'a>>,
    /// The packet's whole length.
    pub len: usize,
}

/// Why bytes are not a control packet under a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("{0} is not a control opcode")]
    NotControl(Opcode),
    /// The layout needs more bytes than there are (for a whole packet: it
    /// does not fit).
    #[error("{needed} bytes needed, {available} available")]
    Short { needed: usize, available: usize },
    #[error("{0} acks, at most 8")]
    AckCount(u8),
    #[error("P_ACK_V1 without acks")]
    EmptyAck,
    #[error("P_ACK_V1 of {0} bytes is not its header and acks exactly")]
    AckLength(usize),
    #[error("{0} exists only under tls-crypt-v2")]
    NeedsTlsCrypt(Opcode),
    #[error("wrapped client key length {0} does not fit")]
    WkcLength(u16),
}

fn short(needed: usize, available: usize) -> ControlError {
    ControlError::Short { needed, available }
}

fn session_at(b: &[u8], at: usize) -> Option<SessionId> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(SessionId(s.try_into().ok()?))
}

fn replay_at(b: &[u8], at: usize) -> Result<Replay, ControlError> {
    match (be32(b, at), be32(b, at + 4)) {
        (Some(id), Some(time)) => Ok(Replay {
            id: PacketId(id),
            time,
        }),
        _ => Err(short(at + field::REPLAY_LEN, b.len())),
    }
}

/// Reads a control packet under `protection`. `head` holds the packet's
/// first bytes (all of it for a datagram; over TCP at least the first
/// [`TCP_BUFFER_CAP`]), `len` its whole length. Nothing is read past
/// `head`.
pub fn read_control(
    head: &[u8],
    len: usize,
    protection: Protection,
) -> Result<ControlView<'_>, ControlError> {
    let len = len.max(head.len());
    let first = *head.first().ok_or(short(1, 0))?;
    let (opcode, key) = split_first(first);
    if !opcode.is_control() {
        return Err(ControlError::NotControl(opcode));
    }
    let session =
        session_at(head, field::SESSION.start).ok_or(short(field::SESSION.end, head.len()))?;
    let view = ControlView {
        opcode,
        key,
        session,
        protection,
        replay: None,
        reliable: None,
        len,
    };
    match protection {
        Protection::TlsCrypt => {
            let replay = replay_at(head, field::SESSION.end)?;
            let sealed = len
                .checked_sub(field::TLS_CRYPT_HEADER)
                .ok_or(short(field::TLS_CRYPT_HEADER, len))?;
            if opcode == Opcode::ACK_V1 {
                // ack count, n acks, the peer session: nothing else.
                let acks = sealed.checked_sub(1 + 8).map(|a| (a % 4, a / 4));
                if !matches!(acks, Some((0, 1..=MAX_ACKS))) {
                    return Err(ControlError::AckLength(len));
                }
            } else if sealed < field::TLS_CRYPT_MIN_SEALED {
                return Err(short(
                    field::TLS_CRYPT_HEADER + field::TLS_CRYPT_MIN_SEALED,
                    len,
                ));
            }
            Ok(ControlView {
                replay: Some(replay),
                ..view
            })
        }
        Protection::Plain => read_reliable(head, len, view, field::SESSION.end),
        Protection::TlsAuth { hmac } => {
            let at = field::SESSION.end + usize::from(hmac);
            let replay = replay_at(head, at)?;
            read_reliable(
                head,
                len,
                ControlView {
                    replay: Some(replay),
                    ..view
                },
                at + field::REPLAY_LEN,
            )
        }
    }
}

/// Reads the ack array, peer session and message id from `at`.
fn read_reliable<'a>(
    head: &'a [u8],
    len: usize,
    view: ControlView<'a>,
    at: usize,
) -> Result<ControlView<'a>, ControlError> {
    if view.opcode.carries_wkc() {
        return Err(ControlError::NeedsTlsCrypt(view.opcode));
    }
    let n = *head.get(at).ok_or(short(at + 1, head.len()))?;
    if usize::from(n) > MAX_ACKS {
        return Err(ControlError::AckCount(n));
    }
    let acks_end = at + 1 + 4 * usize::from(n);
    let acks = head
        .get(at + 1..acks_end)
        .ok_or(short(acks_end, head.len()))?;
    let mut at = acks_end;
    let remote = if n > 0 {
        let s = session_at(head, at).ok_or(short(at + 8, head.len()))?;
        at += 8;
        Some(s)
    } else {
        None
    };
    let message = if view.opcode == Opcode::ACK_V1 {
        if n == 0 {
            return Err(ControlError::EmptyAck);
        }
        if len != at {
            return Err(ControlError::AckLength(len));
        }
        None
    } else {
        let m = be32(head, at).ok_or(short(at + 4, head.len()))?;
        Some(PacketId(m))
    };
    Ok(ControlView {
        reliable: Some(Reliable {
            acks,
            remote,
            message,
        }),
        ..view
    })
}

/// The wrapped client key length at the end of a whole
/// `P_CONTROL_HARD_RESET_CLIENT_V3` or `P_CONTROL_WKC_V1` packet (the key
/// length counts its tag, ciphertext and these 2 bytes). It must leave room
/// for the tls-crypt header and sealed part before it.
pub fn wkc_len(packet: &[u8]) -> Result<u16, ControlError> {
    let at = packet
        .len()
        .checked_sub(field::WKC_LEN)
        .ok_or(short(field::WKC_LEN, packet.len()))?;
    let w = be16(packet, at).ok_or(short(field::WKC_LEN, packet.len()))?;
    let room = usize::from(w) + field::TLS_CRYPT_HEADER + field::TLS_CRYPT_MIN_SEALED;
    if !(MIN_WKC..=MAX_WKC).contains(&w) || room > packet.len() {
        return Err(ControlError::WkcLength(w));
    }
    Ok(w)
}

/// A data channel packet's visible header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataView {
    pub opcode: Opcode,
    pub key: KeyId,
    /// `P_DATA_V2` only.
    pub peer: Option<PeerId>,
    /// The 4 bytes after the header: the packet id in the clear with AEAD
    /// ciphers (GCM, ChaCha20-Poly1305), ciphertext or HMAC otherwise.
    pub leading: u32,
    /// Bytes after the opcode (and peer id).
    pub body_len: usize,
    /// Header length (1 or 4).
    pub header: usize,
}

/// Reads a data packet's header; `None` when it is no data packet or
/// shorter than any real one.
pub fn read_data(head: &[u8], len: usize) -> Option<DataView> {
    let len = len.max(head.len());
    let (opcode, key) = split_first(*head.first()?);
    let (peer, header, min) = match opcode {
        Opcode::DATA_V1 => (None, 1, MIN_DATA_V1),
        Opcode::DATA_V2 => {
            let p = head.get(field::PEER_ID)?;
            let id = u32::from_be_bytes([0, p[0], p[1], p[2]]);
            (Some(PeerId(id)), field::PEER_ID.end, MIN_DATA_V2)
        }
        _ => return None,
    };
    if len < min {
        return None;
    }
    Some(DataView {
        opcode,
        key,
        peer,
        leading: be32(head, header)?,
        body_len: len - header,
        header,
    })
}

/// What one layout has seen from one direction.
#[derive(Clone, Copy, Debug, Default)]
struct LayoutState {
    /// Highest replay packet id (0: none yet; OpenVPN starts at 1).
    replay: u32,
    /// The first replay time.
    time: u32,
    /// Highest message id, and the key id it belongs to.
    message: Option<u32>,
    message_key: u8,
    /// The peer session this direction's acks name.
    remote: Option<SessionId>,
    /// This direction's acks named the other direction's session.
    echoed: bool,
}

/// What the other direction shows, for checking a packet against it.
#[derive(Clone, Copy, Debug)]
struct PeerView {
    session: Option<SessionId>,
    message: Option<u32>,
    message_key: u8,
}

impl LayoutState {
    /// Checks a control packet read under this layout and takes it in;
    /// false when it does not fit what came before.
    fn accept(&mut self, v: &ControlView<'_>, peer: PeerView) -> bool {
        let hard = v.opcode.is_hard_reset();
        let reset = hard || v.opcode == Opcode::SOFT_RESET_V1;
        if let Some(r) = v.replay {
            let id = r.id.0;
            if id == 0 || r.time < MIN_TIME {
                return false;
            }
            if self.replay == 0 {
                if hard && id & 0xffff > RESET_MAX_REPLAY {
                    return false;
                }
                self.time = r.time;
            } else if id == self.replay
                || !near(self.replay, id)
                || r.time.abs_diff(self.time) > TIME_SPREAD
            {
                // OpenVPN never sends a replay id twice (a retransmission
                // gets a new one; a duplicated frame is dropped before).
                return false;
            }
            self.replay = self.replay.max(id);
        }
        if let Some(rel) = v.reliable {
            for a in rel.acks() {
                if a.0 >= MAX_MESSAGE {
                    return false;
                }
                if let Some(m) = peer.message {
                    if peer.message_key == v.key.0 && a.0 > m.saturating_add(BACK) {
                        return false;
                    }
                }
            }
            if let Some(remote) = rel.remote {
                if self.remote.is_some_and(|r| r != remote) {
                    return false;
                }
                if let Some(ps) = peer.session {
                    if ps != remote {
                        return false;
                    }
                    self.echoed = true;
                }
                self.remote = Some(remote);
            }
            if let Some(PacketId(m)) = rel.message {
                if m >= MAX_MESSAGE || (reset && m > RESET_MAX_MESSAGE) {
                    return false;
                }
                match self.message {
                    Some(max) if self.message_key == v.key.0 => {
                        if m > max.saturating_add(BACK) || m.saturating_add(BACK) < max {
                            return false;
                        }
                        self.message = Some(max.max(m));
                    }
                    _ => {
                        self.message = Some(m);
                        self.message_key = v.key.0;
                    }
                }
            }
        }
        true
    }
}

/// `id` is within reach of the highest id so far: at most [`BACK`] behind,
/// at most [`STEP`] ahead.
fn near(highest: u32, id: u32) -> bool {
    id <= highest.saturating_add(STEP) && id.saturating_add(BACK) >= highest
}

/// Control packets of one key class (key id 0, or key ids 1–7) under every
/// candidate layout.
#[derive(Clone, Debug)]
struct Channel {
    /// Layouts still consistent (bit i: `Protection::CANDIDATES[i]`).
    mask: u8,
    state: [[LayoutState; 2]; 8],
    packets: [u16; 2],
    /// Opcodes sent, per side (bit n: opcode n).
    opcodes: [u16; 2],
    /// The resets of both sides were seen.
    handshake: bool,
}

impl Default for Channel {
    fn default() -> Self {
        Channel {
            mask: ALL_LAYOUTS,
            state: [[LayoutState::default(); 2]; 8],
            packets: [0; 2],
            opcodes: [0; 2],
            handshake: false,
        }
    }
}

impl Channel {
    /// The one layout left, if only one is.
    fn layout(&self) -> Option<usize> {
        (self.mask.count_ones() == 1).then(|| self.mask.trailing_zeros() as usize)
    }

    /// Both sides' replay times, under layout `i`, within a day.
    fn times_close(&self, i: usize) -> bool {
        let [a, b] = self.state.get(i).copied().unwrap_or_default();
        a.replay != 0 && b.replay != 0 && a.time.abs_diff(b.time) <= TIME_SPREAD
    }
}

/// The data channel of one direction.
#[derive(Clone, Copy, Debug, Default)]
struct DataSide {
    packets: u16,
    v2: u16,
    key: Option<u8>,
    /// Key ids used by data packets.
    keys: u8,
    peer: Option<PeerId>,
    /// Highest leading id (AEAD packet id) for `key`.
    leading: u32,
    rises: u16,
    aead_broken: bool,
    cbc_broken: bool,
    /// The first packet's 8 bytes after the header, and which of them
    /// differed in a later packet.
    first: Option<[u8; 8]>,
    varied: u8,
}

/// Per direction.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    packets: u16,
    session: Option<SessionId>,
    /// Key ids of soft resets sent.
    soft_resets: u8,
    client_reset: bool,
    server_reset: bool,
    data: DataSide,
    static_packets: u16,
    /// Hash of the last packet (with its length), to drop duplicated frames.
    last: Option<u64>,
}

/// The static-key reading of a flow.
#[derive(Clone, Copy, Debug, Default)]
struct StaticKey {
    residue: Option<u8>,
    sizes: [usize; 2],
    first: Option<[u8; 16]>,
    varied: u16,
    values: [u64; 4],
    first_packet: u64,
    last_packet: u64,
    /// The smallest length seen, and per side whether it sent one.
    smallest: usize,
    smallest_from: [bool; 2],
}

impl StaticKey {
    /// Takes in a packet; false when it cannot be static-key.
    fn accept(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> bool {
        let r = (len % 16) as u8;
        let min = MIN_STATIC + usize::from(r);
        if len < min || !matches!(r, 0 | 4 | 12) || *self.residue.get_or_insert(r) != r {
            return false;
        }
        let Some(lead) = head.get(..16).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
            return false;
        };
        match self.first {
            None => {
                self.first = Some(lead);
                self.first_packet = packet;
            }
            Some(f) => {
                for (i, (a, b)) in f.iter().zip(lead.iter()).enumerate() {
                    if a != b {
                        self.varied |= 1 << i;
                    }
                }
            }
        }
        for b in lead {
            if let Some(w) = self.values.get_mut(usize::from(b >> 6)) {
                *w |= 1 << (b & 63);
            }
        }
        if self.sizes[0] == 0 {
            self.sizes[0] = len;
        } else if self.sizes[0] != len && self.sizes[1] == 0 {
            self.sizes[1] = len;
        }
        if self.smallest == 0 || len < self.smallest {
            self.smallest = len;
            self.smallest_from = [false; 2];
        }
        if len == self.smallest {
            if let Some(f) = self.smallest_from.get_mut(side) {
                *f = true;
            }
        }
        self.last_packet = packet;
        true
    }

    /// The smallest packets, from both sides, have the length of OpenVPN's
    /// ping and OCC messages (16 or 17 bytes after packet id and time: two
    /// blocks) for one of the HMAC sizes; no tunnelled IP packet is that short.
    fn pings_both_ways(&self) -> Option<u8> {
        let hmac = self.smallest.checked_sub(MIN_STATIC - 16)?;
        let fits = matches!(hmac, 16 | 20 | 28 | 32 | 48 | 64);
        (fits && self.smallest_from == [true, true]).then_some(hmac as u8)
    }

    fn byte_values(&self) -> u32 {
        self.values.iter().map(|w| w.count_ones()).sum()
    }
}

/// A control packet's header, kept to word the evidence.
#[derive(Clone, Copy, Debug)]
struct Notable {
    packet: u64,
    side: usize,
    len: usize,
    head_len: usize,
    head: [u8; NOTE_HEAD],
    wkc: Option<u16>,
}

/// A data packet, kept to word the evidence.
#[derive(Clone, Copy, Debug)]
struct DataNote {
    packet: u64,
    side: usize,
    view: DataView,
}

/// Undoes the 2-byte length framing of one TCP direction.
#[derive(Clone, Debug, Default)]
struct Framer {
    prefix: [u8; 2],
    prefix_len: usize,
    /// The current packet's length, and bytes of it seen.
    want: usize,
    got: usize,
    /// Its first [`TCP_BUFFER_CAP`] bytes.
    buf: Vec<u8>,
}

/// Outcome of a reading of the flow, before it is worded.
#[derive(Clone, Copy, Debug)]
enum Reading {
    /// Control packets of key class `channel` under layout `layout`.
    Control {
        channel: usize,
        layout: usize,
    },
    DataOnly,
    StaticKey,
}

/// Where the tracker stands.
#[derive(Clone, Debug)]
enum State {
    Open,
    Refused,
    Decided(VpnVerdict),
}

/// Per-flow OpenVPN fingerprinter; see the module documentation.
#[derive(Clone, Debug)]
pub struct OpenVpnTracker {
    tcp: bool,
    state: State,
    examined: u16,
    /// The opcode-based reading still holds.
    control: bool,
    /// The static-key reading still holds.
    static_ok: bool,
    /// Packets the opcode reading took in.
    control_packets: u16,
    /// Input position of the packet being read.
    last_packet: u64,
    /// `[client, server]` as the caller orients the flow.
    sides: [Side; 2],
    /// Key id 0, key ids 1–7.
    channels: [Channel; 2],
    /// The side that sent a client reset (or the peer of a server reset).
    client_side: Option<usize>,
    /// Key ids seen in control packets.
    control_keys: u8,
    max_key: u8,
    wkc: Option<u16>,
    v3: bool,
    static_key: StaticKey,
    notes: [Option<Notable>; NOTABLE],
    data_notes: [Option<DataNote>; 4],
    framers: [Framer; 2],
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

impl OpenVpnTracker {
    /// A tracker fed with [`OpenVpnTracker::on_datagram`].
    pub fn udp() -> Self {
        Self::new(false)
    }

    /// A tracker fed with [`OpenVpnTracker::on_stream`].
    pub fn tcp() -> Self {
        Self::new(true)
    }

    fn new(tcp: bool) -> Self {
        OpenVpnTracker {
            tcp,
            state: State::Open,
            examined: 0,
            control: true,
            static_ok: true,
            control_packets: 0,
            last_packet: 0,
            sides: [Side::default(); 2],
            channels: [Channel::default(), Channel::default()],
            client_side: None,
            control_keys: 0,
            max_key: 0,
            wkc: None,
            v3: false,
            static_key: StaticKey::default(),
            notes: [None; NOTABLE],
            data_notes: [None; 4],
            framers: [Framer::default(), Framer::default()],
        }
    }

    /// The answer once decided or refused.
    fn settled(&self) -> Option<Progress> {
        match &self.state {
            State::Open => None,
            State::Refused => Some(Progress::NotThis),
            State::Decided(v) => Some(Progress::Verdict(v.clone())),
        }
    }

    fn refuse(&mut self) -> Progress {
        self.state = State::Refused;
        self.framers = [Framer::default(), Framer::default()];
        Progress::NotThis
    }

    /// One UDP datagram's payload, its direction, its input position. An
    /// empty datagram tells nothing. On a tracker made with
    /// [`OpenVpnTracker::tcp`] it refuses.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.settled() {
            return p;
        }
        if self.tcp {
            return self.refuse();
        }
        if payload.is_empty() {
            return Progress::Candidate;
        }
        self.on_packet(payload, payload.len(), side_of(from_client), packet)
    }

    /// TCP: the next in-order bytes of one direction's stream, in any
    /// chunking. Packets are framed by their 2-byte length, several per
    /// chunk or one across several chunks; a packet is read when its last
    /// byte arrives, with `packet` as its position. On a tracker made with
    /// [`OpenVpnTracker::udp`] it refuses.
    pub fn on_stream(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.settled() {
            return p;
        }
        if !self.tcp {
            return self.refuse();
        }
        let side = side_of(from_client);
        let mut fr = std::mem::take(&mut self.framers[side]);
        let progress = self.frame(&mut fr, bytes, side, packet);
        if matches!(self.state, State::Open) {
            self.framers[side] = fr;
        }
        progress
    }

    fn frame(&mut self, fr: &mut Framer, mut rest: &[u8], side: usize, packet: u64) -> Progress {
        while !rest.is_empty() {
            if fr.prefix_len < 2 {
                let take = (2 - fr.prefix_len).min(rest.len());
                let (p, r) = rest.split_at(take);
                for &b in p {
                    if let Some(slot) = fr.prefix.get_mut(fr.prefix_len) {
                        *slot = b;
                    }
                    fr.prefix_len += 1;
                }
                rest = r;
                if fr.prefix_len == 2 {
                    fr.want = usize::from(u16::from_be_bytes(fr.prefix));
                    fr.got = 0;
                    fr.buf.clear();
                    if fr.want == 0 {
                        return self.refuse();
                    }
                    // The buffer grows to the largest packet's kept bytes,
                    // never past the cap.
                    fr.buf.reserve_exact(fr.want.min(TCP_BUFFER_CAP));
                }
                continue;
            }
            let take = fr.want.saturating_sub(fr.got).min(rest.len());
            let (body, r) = rest.split_at(take);
            rest = r;
            let room = TCP_BUFFER_CAP.saturating_sub(fr.buf.len());
            let first_byte = fr.got == 0;
            fr.buf.extend_from_slice(&body[..room.min(body.len())]);
            fr.got += take;
            if first_byte {
                if let Some(&b) = fr.buf.first() {
                    if !self.may_start(b, fr.want) {
                        return self.refuse();
                    }
                }
            }
            if fr.got >= fr.want {
                fr.prefix_len = 0;
                let progress = self.on_packet(&fr.buf, fr.want, side, packet);
                if !matches!(progress, Progress::Candidate) {
                    return progress;
                }
            }
        }
        Progress::Candidate
    }

    /// Cheap test of a TCP packet's first byte and length, so that a stream
    /// that is not OpenVPN (a TLS record, an HTTP request) is refused before
    /// its announced length has arrived. Drops the readings it rules out.
    fn may_start(&mut self, first: u8, len: usize) -> bool {
        let (op, key) = split_first(first);
        let control = if op.is_control() {
            len >= MIN_CONTROL && key_fits(op, key)
        } else {
            op.is_data() && len >= MIN_DATA_V1
        };
        self.control &= control;
        self.static_ok &= len >= MIN_STATIC && matches!(len % 16, 0 | 4 | 12);
        self.control || self.static_ok
    }

    /// One whole packet (`head` is all of it, or its first
    /// [`TCP_BUFFER_CAP`] bytes of `len`).
    fn on_packet(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> Progress {
        self.examined = self.examined.saturating_add(1);
        self.last_packet = packet;
        let digest = fnv1a(head, len);
        if let Some(s) = self.sides.get_mut(side) {
            if s.last == Some(digest) {
                // A duplicated frame (or a byte-identical retransmission of
                // a plain control packet): no new evidence.
                return if self.examined >= MAX_PACKETS {
                    self.refuse()
                } else {
                    Progress::Candidate
                };
            }
            s.last = Some(digest);
            s.packets = s.packets.saturating_add(1);
        }
        if self.static_ok {
            self.static_ok = self.static_key.accept(head, len, side, packet);
            if self.static_ok {
                if let Some(s) = self.sides.get_mut(side) {
                    s.static_packets = s.static_packets.saturating_add(1);
                }
            }
        }
        if self.control {
            self.control = self.control_packet(head, len, side, packet);
            if self.control {
                self.control_packets = self.control_packets.saturating_add(1);
            } else if self.control_packets >= 2 {
                // It looked like OpenVPN for several packets, then broke
                // the pattern: random static-key bytes would not have.
                self.static_ok = false;
            }
        }
        if let Some(verdict) = self.decide() {
            self.state = State::Decided(verdict.clone());
            self.framers = [Framer::default(), Framer::default()];
            return Progress::Verdict(verdict);
        }
        if !self.control && !self.static_ok || self.examined >= MAX_PACKETS {
            return self.refuse();
        }
        Progress::Candidate
    }

    /// Takes in a packet under the opcode reading; false when it breaks it.
    fn control_packet(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> bool {
        let Some(&first) = head.first() else {
            return false;
        };
        let (op, key) = split_first(first);
        self.max_key = self.max_key.max(key.0);
        if op.is_data() {
            return self.data_packet(head, len, side, packet);
        }
        if !op.is_control() || !key_fits(op, key) {
            return false;
        }
        let other = 1 - side;
        let Some(session) = session_at(head, field::SESSION.start) else {
            return false;
        };
        if !looks_random(&session) || self.sides[other].session == Some(session) {
            return false;
        }
        let learned = match self.sides[side].session {
            Some(s) if s != session => return false,
            Some(_) => false,
            None => {
                self.sides[side].session = Some(session);
                true
            }
        };
        if op.is_client_reset() {
            if self.client_side == Some(other) {
                return false;
            }
            self.client_side = Some(side);
            self.sides[side].client_reset = true;
        } else if op.is_server_reset() {
            if self.client_side == Some(side) {
                return false;
            }
            self.client_side.get_or_insert(other);
            self.sides[side].server_reset = true;
        } else if op == Opcode::SOFT_RESET_V1 {
            self.sides[side].soft_resets |= 1 << key.0;
        }
        let mut wkc = None;
        if op.carries_wkc() {
            if len > head.len() {
                return false;
            }
            match wkc_len(head) {
                Ok(w) if self.wkc.is_none_or(|prev| prev == w) => wkc = Some(w),
                _ => return false,
            }
            self.wkc = wkc;
            self.v3 |= op == Opcode::HARD_RESET_CLIENT_V3;
        }
        if learned {
            // The other side may have named this session in its acks
            // before it was seen here.
            for ch in self.channels.iter_mut() {
                for (i, st) in ch.state.iter_mut().enumerate() {
                    let theirs = &mut st[other];
                    match theirs.remote {
                        Some(r) if r != session => ch.mask &= !(1 << i),
                        Some(_) => theirs.echoed = true,
                        None => {}
                    }
                }
            }
        }
        let c = usize::from(key.0 != 0);
        let ch = &mut self.channels[c];
        if op.carries_wkc() {
            ch.mask &= CRYPT_BIT;
        }
        for (i, protection) in Protection::CANDIDATES.iter().enumerate() {
            if ch.mask & (1 << i) == 0 {
                continue;
            }
            let [a, b] = ch.state[i];
            let theirs = if side == CLIENT { b } else { a };
            let peer = PeerView {
                session: self.sides[other].session,
                message: theirs.message,
                message_key: theirs.message_key,
            };
            let fits = match read_control(head, len, *protection) {
                Ok(v) => ch.state[i][side].accept(&v, peer),
                Err(_) => false,
            };
            if !fits {
                ch.mask &= !(1 << i);
            }
        }
        if self.channels.iter().any(|c| c.mask == 0) {
            return false;
        }
        let ch = &mut self.channels[c];
        ch.packets[side] = ch.packets[side].saturating_add(1);
        ch.opcodes[side] |= 1 << op.0;
        ch.handshake |= if c == 0 {
            self.client_side
                .is_some_and(|cs| self.sides[cs].client_reset && self.sides[1 - cs].server_reset)
        } else {
            self.sides[0].soft_resets & self.sides[1].soft_resets != 0
        };
        self.control_keys |= 1 << key.0;
        if let Some(slot) = self.notes.iter_mut().find(|n| n.is_none()) {
            let mut note = Notable {
                packet,
                side,
                len,
                head_len: head.len().min(NOTE_HEAD),
                head: [0; NOTE_HEAD],
                wkc,
            };
            if let Some(src) = head.get(..note.head_len) {
                if let Some(dst) = note.head.get_mut(..note.head_len) {
                    dst.copy_from_slice(src);
                }
            }
            *slot = Some(note);
        }
        true
    }

    /// Takes in a data packet; false when it breaks the pattern.
    fn data_packet(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> bool {
        let Some(v) = read_data(head, len) else {
            return false;
        };
        let other_peer = self.sides[1 - side].data.peer;
        let control_keys = self.control_keys;
        let d = &mut self.sides[side].data;
        let k = v.key.0;
        match d.key {
            Some(cur) if cur != k => {
                let known = (d.keys | control_keys) & (1 << k) != 0;
                let next = k == cur % 7 + 1;
                if !known && !next {
                    return false;
                }
                d.leading = 0;
            }
            _ => {}
        }
        d.key = Some(k);
        d.keys |= 1 << k;
        if d.keys.count_ones() > 3 {
            return false;
        }
        if let Some(p) = v.peer {
            if d.peer.is_some_and(|mine| mine != p) || other_peer.is_some_and(|o| o != p) {
                return false;
            }
            d.peer = Some(p);
            d.v2 = d.v2.saturating_add(1);
        }
        if v.leading == 0 {
            d.aead_broken = true;
        } else if d.leading != 0 {
            if v.leading > d.leading && near(d.leading, v.leading) {
                d.rises = d.rises.saturating_add(1);
            } else if !near(d.leading, v.leading) {
                d.aead_broken = true;
            }
        }
        d.leading = d.leading.max(v.leading);
        // CBC: HMAC (16, 20, 28, 32, 48 or 64), 16-byte IV, n ≥ 2 blocks.
        let r = v.body_len % 16;
        if !matches!(r, 0 | 4 | 12) || v.body_len < MIN_STATIC + r {
            d.cbc_broken = true;
        }
        let lead = head
            .get(v.header..v.header + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok());
        match (d.first, lead) {
            (None, Some(l)) => d.first = Some(l),
            (Some(f), Some(l)) => {
                for (i, (a, b)) in f.iter().zip(l.iter()).enumerate() {
                    if a != b {
                        d.varied |= 1 << i;
                    }
                }
            }
            _ => {}
        }
        d.packets = d.packets.saturating_add(1);
        let keep = self
            .data_notes
            .iter()
            .filter(|n| n.is_some_and(|n| n.side == side))
            .count()
            < 2;
        if keep {
            if let Some(slot) = self.data_notes.iter_mut().find(|n| n.is_none()) {
                *slot = Some(DataNote {
                    packet,
                    side,
                    view: v,
                });
            }
        }
        true
    }

    /// The strongest reading the packets so far support, worded.
    fn decide(&self) -> Option<VpnVerdict> {
        let (confidence, reading) = self.reading()?;
        Some(self.verdict(confidence, reading))
    }

    fn reading(&self) -> Option<(Confidence, Reading)> {
        if self.control {
            let mut best: Option<(Confidence, Reading)> = None;
            for (c, ch) in self.channels.iter().enumerate() {
                let Some(i) = ch.layout() else { continue };
                let crypt = Protection::CANDIDATES.get(i) == Some(&Protection::TlsCrypt);
                let st = ch.state.get(i).copied().unwrap_or_default();
                let echoed = st[CLIENT].echoed || st[SERVER].echoed;
                let total = u32::from(ch.packets[0]) + u32::from(ch.packets[1]);
                let found = if ch.handshake
                    && if crypt {
                        total >= 3 && ch.times_close(i)
                    } else if c == 0 {
                        // The server's acks name the client's session.
                        self.client_side
                            .and_then(|cs| st.get(1 - cs))
                            .is_some_and(|s| s.echoed)
                    } else {
                        echoed
                    } {
                    Some(Confidence::High)
                } else if ch.packets[0] >= 2
                    && ch.packets[1] >= 2
                    && (ch.opcodes[0] | ch.opcodes[1]).count_ones() >= 2
                    && if crypt { ch.times_close(i) } else { echoed }
                {
                    Some(Confidence::Medium)
                } else if (0..2).any(|s| {
                    let reset = self.sides[s].client_reset || self.sides[s].server_reset;
                    ch.packets[s] >= ONE_WAY_PACKETS
                        && self.sides[1 - s].packets == 0
                        && reset
                        && ch.opcodes[s].count_ones() >= 2
                }) {
                    Some(Confidence::Low)
                } else {
                    None
                };
                if let Some(conf) = found {
                    if best.is_none_or(|(b, _)| conf > b) {
                        best = Some((
                            conf,
                            Reading::Control {
                                channel: c,
                                layout: i,
                            },
                        ));
                    }
                }
            }
            if best.is_some() {
                return best;
            }
            if self.data_only() {
                return Some((Confidence::Low, Reading::DataOnly));
            }
        } else if self.static_ok && self.static_enough() {
            return Some((Confidence::Low, Reading::StaticKey));
        }
        None
    }

    /// A data channel without control packets: see the module documentation.
    fn data_only(&self) -> bool {
        if self.channels.iter().any(|c| c.packets != [0, 0]) {
            return false;
        }
        let [a, b] = [self.sides[0].data, self.sides[1].data];
        let enough = a.packets >= DATA_ONLY_PACKETS && b.packets >= DATA_ONLY_PACKETS;
        // Servers number their peers from 0 (`0xffffff`: none assigned).
        let peer_ok = [a, b]
            .iter()
            .all(|d| d.peer.is_none_or(|p| p.0 < 0x1_0000 || p.0 == 0xff_ffff));
        let v2 = (a.v2 > 0 || b.v2 > 0) && peer_ok;
        let aead = [a, b]
            .iter()
            .all(|d| !d.aead_broken && d.rises + 1 >= DATA_ONLY_PACKETS);
        let cbc = [a, b]
            .iter()
            .all(|d| !d.cbc_broken && d.varied == 0xff && d.packets > DATA_ONLY_PACKETS);
        enough && v2 && (aead || cbc)
    }

    fn static_enough(&self) -> bool {
        let s = &self.static_key;
        u32::from(self.sides[0].static_packets) + u32::from(self.sides[1].static_packets)
            >= u32::from(STATIC_PACKETS)
            && self.sides.iter().all(|d| d.static_packets >= 3)
            && s.varied == 0xffff
            && s.sizes[1] != 0
            && s.byte_values() >= STATIC_BYTE_VALUES
            && s.pings_both_ways().is_some()
    }

    /// The protection that names the mode: the key-0 layout when known.
    fn mode_layout(&self, channel: usize, layout: usize) -> Protection {
        let base = if channel != 0 {
            self.channels[0].layout().unwrap_or(layout)
        } else {
            layout
        };
        Protection::CANDIDATES
            .get(base)
            .copied()
            .unwrap_or(Protection::TlsCrypt)
    }

    fn verdict(&self, confidence: Confidence, reading: Reading) -> VpnVerdict {
        let mut details: VpnDetails = Vec::with_capacity(8);
        details.push((
            "transport",
            Value::Text(if self.tcp { "tcp" } else { "udp" }),
        ));
        let mut evidence = Vec::new();
        let mut note = |packet: u64, clue: Clue| {
            evidence.push(Evidence {
                packet,
                what: facts::Clue::OpenVpn(clue),
            })
        };
        match reading {
            Reading::Control { channel, layout } => {
                let protection = self.mode_layout(channel, layout);
                let mode = match protection {
                    Protection::Plain => "plain",
                    Protection::TlsAuth { .. } => "tls-auth",
                    Protection::TlsCrypt if self.v3 => "tls-crypt-v2",
                    Protection::TlsCrypt => "tls-crypt",
                };
                details.push(("mode", Value::Text(mode)));
                if let Protection::TlsAuth { hmac } = protection {
                    details.push(("hmac_bytes", Value::Number(hmac.into())));
                }
                if let Some(w) = self.wkc {
                    details.push(("wkc_bytes", Value::Number(w.into())));
                }
                for n in self.notes.iter().flatten() {
                    note(n.packet, Clue::Control(self.control_note(n)));
                }
                if channel != 0 && self.channels[0].layout().is_none() {
                    let first = self
                        .notes
                        .iter()
                        .flatten()
                        .find(|n| n.head.first().is_some_and(|&b| split_first(b).1 .0 != 0));
                    note(first.map_or(0, |n| n.packet), Clue::RenegotiationOnly);
                }
            }
            Reading::DataOnly => {
                details.push(("mode", Value::Text("data-only")));
                let [c, v] = [self.sides[CLIENT].data, self.sides[SERVER].data];
                note(
                    self.last_packet,
                    Clue::DataOnly {
                        client: c.packets,
                        server: v.packets,
                        aead: [c, v].iter().all(|d| !d.aead_broken),
                    },
                );
            }
            Reading::StaticKey => {
                details.push(("mode", Value::Text("static-key")));
                let s = &self.static_key;
                note(
                    s.last_packet,
                    Clue::StaticKey {
                        packets: u32::from(self.sides[0].static_packets)
                            + u32::from(self.sides[1].static_packets),
                        first: s.first_packet,
                        residue: s.residue.unwrap_or(0),
                        sizes: s.sizes,
                        smallest: s.smallest,
                        hmac: s.pings_both_ways().unwrap_or(0),
                        values: s.byte_values(),
                    },
                );
            }
        }
        if !matches!(reading, Reading::StaticKey) {
            details.push(("key_id", Value::Number(self.max_key.into())));
            if let Some(p) = self.sides.iter().find_map(|s| s.data.peer) {
                details.push(("peer_id", Value::Number(p.0.into())));
            }
        }
        let client = self.client_side.unwrap_or(CLIENT);
        if let Some(s) = self.sides[client].session {
            details.push(("client_session", Value::Bytes8(s.0)));
        }
        if let Some(s) = self.sides[1 - client].session {
            details.push(("server_session", Value::Bytes8(s.0)));
        }
        for n in self.data_notes.iter().flatten() {
            let d = &self.sides[n.side].data;
            note(
                n.packet,
                Clue::Data {
                    view: n.view,
                    side: n.side,
                    rising: !d.aead_broken && d.rises > 0,
                },
            );
        }
        evidence.sort_by_key(|f| f.packet);
        VpnVerdict {
            protocol: AppProto::OpenVpn,
            confidence,
            details,
            evidence,
        }
    }

    /// A kept control packet, read under the layout its key class settled on.
    fn control_note(&self, n: &Notable) -> ControlNote {
        let head = n.head.get(..n.head_len).unwrap_or(&[]);
        let (op, key) = split_first(head.first().copied().unwrap_or(0));
        let channel = usize::from(key.0 != 0);
        let layout = self.channels[channel].layout();
        let view = layout
            .and_then(|i| Protection::CANDIDATES.get(i))
            .and_then(|p| read_control(head, n.len, *p).ok());
        let client = self.client_side.unwrap_or(CLIENT);
        ControlNote {
            op,
            key,
            side: n.side,
            len: n.len,
            wkc: n.wkc,
            view: view.map(|v| ControlFacts {
                session: v.session,
                protection: v.protection,
                replay: v.replay,
                acks: v.reliable.and_then(|rel| {
                    rel.remote.map(|remote| Acks {
                        ids: rel.acks().take(MAX_ACKS).map(|a| a.0).collect(),
                        remote,
                        peer_is_server: n.side == client,
                    })
                }),
                message: v.reliable.and_then(|rel| rel.message),
            }),
        }
    }
}

/// What an OpenVPN packet showed, for a verdict's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A control packet.
    Control(ControlNote),
    /// Renegotiations seen without the first handshake.
    RenegotiationOnly,
    /// A data channel without control packets.
    DataOnly {
        client: u16,
        server: u16,
        aead: bool,
    },
    /// Static-key mode: the packets' length pattern.
    StaticKey {
        packets: u32,
        first: u64,
        residue: u8,
        sizes: [usize; 2],
        smallest: usize,
        hmac: u8,
        values: u32,
    },
    /// A data packet.
    Data {
        view: DataView,
        side: usize,
        rising: bool,
    },
}

/// A control packet as its layout reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlNote {
    op: Opcode,
    key: KeyId,
    side: usize,
    len: usize,
    wkc: Option<u16>,
    /// `None` when no layout reads it.
    view: Option<ControlFacts>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ControlFacts {
    session: SessionId,
    protection: Protection,
    replay: Option<Replay>,
    acks: Option<Acks>,
    message: Option<PacketId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Acks {
    ids: Vec<u32>,
    remote: SessionId,
    /// The acknowledged session is the server's.
    peer_is_server: bool,
}

impl fmt::Display for ControlNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} key {} from the {}",
            self.op,
            self.key.0,
            role(self.side)
        )?;
        let Some(v) = &self.view else {
            return write!(f, ", {} bytes", self.len);
        };
        write!(f, ", session {}", v.session)?;
        match v.protection {
            Protection::Plain => f.write_str(", no HMAC")?,
            Protection::TlsAuth { hmac } => write!(f, ", HMAC {hmac} bytes")?,
            Protection::TlsCrypt => f.write_str(", tls-crypt (32-byte tag, rest encrypted)")?,
        }
        if let Some(r) = v.replay {
            if r.id.0 > 0xffff {
                write!(f, ", packet-id {:#010x}, time {}", r.id.0, r.time)?;
            } else {
                write!(f, ", packet-id {}, time {}", r.id.0, r.time)?;
            }
        }
        if let Some(a) = &v.acks {
            f.write_str(", acks")?;
            for id in &a.ids {
                write!(f, " {id}")?;
            }
            let peer = if a.peer_is_server { "server" } else { "client" };
            write!(f, " of {peer} session {}", a.remote)?;
        }
        if let Some(m) = v.message {
            write!(f, ", message id {}", m.0)?;
        }
        if let Some(w) = self.wkc {
            write!(f, ", wrapped client key {w} bytes")?;
        }
        Ok(())
    }
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Control(n) => n.fmt(f),
            Clue::RenegotiationOnly => f.write_str(
                "renegotiation (key id > 0) without the first handshake: OpenVPN \
                 2.6 wraps renegotiations tls-crypt style whatever protects key id \
                 0, so the mode is that of the renegotiation",
            ),
            Clue::DataOnly {
                client,
                server,
                aead,
            } => write!(
                f,
                "no control packet; {client} and {server} data packets from the client and the \
                 server, each side on one key id and peer id, {}",
                if *aead {
                    "the AEAD packet id in the clear rising each way"
                } else {
                    "lengths of HMAC + IV + 16·n and no fixed byte after the header"
                }
            ),
            Clue::StaticKey {
                packets,
                first,
                residue,
                sizes,
                smallest,
                hmac,
                values,
            } => write!(
                f,
                "{packets} packets from packet {first} on (both directions, no opcode reading): every \
                 length ≡ {residue} mod 16 (HMAC + 16-byte IV + 16·n), lengths {} and {} among \
                 them; the smallest, {smallest} bytes, sent both ways, fit a ping/OCC message \
                 under a {hmac}-byte HMAC; no fixed byte and {values} byte values in their first \
                 16 bytes",
                sizes[0], sizes[1]
            ),
            Clue::Data { view, side, rising } => {
                write!(f, "{} key {} from the {}", view.opcode, view.key.0, role(*side))?;
                if let Some(p) = view.peer {
                    write!(f, ", peer id {}", p.0)?;
                }
                if *rising {
                    write!(f, ", AEAD packet id {} (rising)", view.leading)?;
                }
                write!(f, ", {} bytes after the header", view.body_len)
            }
        }
    }
}

/// OpenVPN draws session ids at random: at most 2 zero bytes and at least 5
/// distinct values among 8 (random bytes fail this about once in a million;
/// counters, flags and length fields of look-alike protocols often do).
fn looks_random(s: &SessionId) -> bool {
    let zeros = s.0.iter().filter(|&&b| b == 0).count();
    let distinct =
        s.0.iter()
            .enumerate()
            .filter(|(i, b)| !s.0.get(..*i).is_some_and(|before| before.contains(b)))
            .count();
    zeros <= 2 && distinct >= 5
}

/// FNV-1a over a packet's kept bytes and its length.
fn fnv1a(head: &[u8], len: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in head.iter().chain(&(len as u64).to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Resets have fixed key ids: 0 for hard resets, not 0 for soft resets.
fn key_fits(op: Opcode, key: KeyId) -> bool {
    if op.is_hard_reset() {
        key.0 == 0
    } else if op == Opcode::SOFT_RESET_V1 {
        key.0 != 0
    } else {
        true
    }
}

fn role(side: usize) -> &'static str {
    if side == CLIENT {
        "client"
    } else {
        "server"
    }
}

// ---------------------------------------------------------------------------
// The dissectors
// ---------------------------------------------------------------------------

/// An OpenVPN packet: opcode 1 to 11 in the top five bits; or, for
/// static-key mode (no opcode), an HMAC (16, 20, 32 or 64 bytes) and an IV
/// before whole cipher blocks: a length of 0 or 4 modulo 16.
fn could_start_udp(b: &[u8]) -> bool {
    b.len() >= 5
        && ((1..=11).contains(&(b[0] >> 3)) || (b.len() >= 48 && matches!(b.len() % 16, 0 | 4)))
}

/// An OpenVPN TCP stream: a 2-byte length, then an opcode byte.
fn could_start_tcp(b: &[u8]) -> bool {
    match b {
        [hi, lo, op, ..] => u16::from_be_bytes([*hi, *lo]) >= 3 && (1..=11).contains(&(op >> 3)),
        [_, _] | [_] => true,
        [] => false,
    }
}

fn answer(yes: bool) -> Probe {
    if yes {
        Probe::Maybe
    } else {
        Probe::No
    }
}

/// OpenVPN over UDP.
#[derive(Debug)]
pub struct OpenVpnUdp(OpenVpnTracker);

impl Dissector for OpenVpnUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachSide;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(could_start_udp(b))
    }

    fn start() -> Self {
        OpenVpnUdp(OpenVpnTracker::udp())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_datagram(input.bytes, input.from_client(), input.packet)
            .step()
    }
}

/// OpenVPN over TCP (2-byte framing).
#[derive(Debug)]
pub struct OpenVpnTcp(OpenVpnTracker);

impl Dissector for OpenVpnTcp {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(could_start_tcp(b))
    }

    fn start() -> Self {
        OpenVpnTcp(OpenVpnTracker::tcp())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_stream(input.bytes, input.from_client(), input.packet)
            .step()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn detail(v: &VpnVerdict, name: &str) -> Option<String> {
        v.detail(name)
    }

    fn verdict(p: Progress) -> VpnVerdict {
        match p {
            Progress::Verdict(v) => v,
            other => panic!("expected a verdict, got {other:?}"),
        }
    }

    /// Feeds datagrams `(from_client, hex)` in order, numbered from 1; every
    /// answer but the last must be `Candidate`.
    fn udp_flow(packets: &[(bool, &str)]) -> Progress {
        let mut t = OpenVpnTracker::udp();
        let mut last = Progress::Candidate;
        for (i, (client, h)) in packets.iter().enumerate() {
            assert_eq!(last, Progress::Candidate, "decided before packet {}", i + 1);
            last = t.on_datagram(&hex(h), *client, i as u64 + 1);
        }
        last
    }

    #[test]
    fn tls_auth_sha256_handshake_is_high() {
        let mut t = OpenVpnTracker::udp();
        let c = hex(SHA256_CLIENT_RESET);
        assert_eq!(t.on_datagram(&c, true, 1), Progress::Candidate);
        let v = verdict(t.on_datagram(&hex(SHA256_SERVER_RESET), false, 2));
        assert_eq!(
            (v.protocol, v.confidence),
            (AppProto::OpenVpn, Confidence::High)
        );
        assert_eq!(detail(&v, "transport").as_deref(), Some("udp"));
        assert_eq!(detail(&v, "mode").as_deref(), Some("tls-auth"));
        assert_eq!(detail(&v, "hmac_bytes").as_deref(), Some("32"));
        assert_eq!(detail(&v, "key_id").as_deref(), Some("0"));
        assert_eq!(
            detail(&v, "client_session").as_deref(),
            Some("cf18c8fa68ffaf6d")
        );
        assert_eq!(
            detail(&v, "server_session").as_deref(),
            Some("76e9665044d82cc6")
        );
        assert_eq!(v.evidence.len(), 2);
        assert_eq!(v.evidence[0].packet, 1);
        assert!(v.evidence[0]
            .what
            .to_string()
            .starts_with("P_CONTROL_HARD_RESET_CLIENT_V2 key 0"));
        assert!(v.evidence[0]
            .what
            .to_string()
            .contains("session cf18c8fa68ffaf6d, HMAC 32 bytes"));
        assert_eq!(v.evidence[1].packet, 2);
        assert!(v.evidence[1]
            .what
            .to_string()
            .contains("acks 0 of client session cf18c8fa68ffaf6d"));
        // Decided: later input changes nothing.
        assert_eq!(t.on_datagram(&[0; 3], true, 3), Progress::Verdict(v));
    }

    #[test]
    fn every_hmac_size_and_plain() {
        for (client, server, mode, hmac) in [
            (SHA1_CLIENT_RESET, SHA1_SERVER_RESET, "tls-auth", Some("20")),
            (
                SHA512_CLIENT_RESET,
                SHA512_SERVER_RESET,
                "tls-auth",
                Some("64"),
            ),
            (PLAIN_CLIENT_RESET, PLAIN_SERVER_RESET, "plain", None),
        ] {
            let v = verdict(udp_flow(&[(true, client), (false, server)]));
            assert_eq!(v.confidence, Confidence::High);
            assert_eq!(detail(&v, "mode").as_deref(), Some(mode));
            assert_eq!(detail(&v, "hmac_bytes").as_deref(), hmac);
        }
    }

    #[test]
    fn layouts_read_the_fields() {
        let c = hex(SHA256_CLIENT_RESET);
        let v = read_control(&c, c.len(), Protection::TlsAuth { hmac: 32 }).unwrap();
        assert_eq!(v.opcode, Opcode::HARD_RESET_CLIENT_V2);
        assert_eq!(v.session.to_string(), "cf18c8fa68ffaf6d");
        assert_eq!(
            v.replay,
            Some(Replay {
                id: PacketId(1),
                time: 0x6b06_9bb8
            })
        );
        let rel = v.reliable.unwrap();
        assert_eq!((rel.ack_count(), rel.message), (0, Some(PacketId(0))));
        // Plain reads the HMAC's first byte (0x52) as the ack count.
        assert_eq!(
            read_control(&c, c.len(), Protection::Plain),
            Err(ControlError::AckCount(0x52))
        );
        let s = hex(SHA256_SERVER_RESET);
        let v = read_control(&s, s.len(), Protection::TlsAuth { hmac: 32 }).unwrap();
        let rel = v.reliable.unwrap();
        assert_eq!(rel.acks().collect::<Vec<_>>(), [PacketId(0)]);
        assert_eq!(
            rel.remote.map(|r| r.to_string()).as_deref(),
            Some("cf18c8fa68ffaf6d")
        );
        // A P_ACK_V1 must be exactly its acks long.
        let a = hex(RENEG_SERVER_ACK);
        assert!(read_control(&a, a.len(), Protection::TlsCrypt).is_ok());
        assert_eq!(
            read_control(&a, a.len() + 1, Protection::TlsCrypt),
            Err(ControlError::AckLength(a.len() + 1))
        );
        // tls-crypt-v2 only under tls-crypt, with its key length at the end.
        let v3 = hex(V2_CLIENT_RESET);
        assert_eq!(wkc_len(&v3), Ok(299));
        assert_eq!(
            read_control(&v3, v3.len(), Protection::Plain),
            Err(ControlError::NeedsTlsCrypt(Opcode::HARD_RESET_CLIENT_V3))
        );
        let w = u16::from_be_bytes([v3[198], v3[199]]);
        assert_eq!(wkc_len(&v3[..200]), Err(ControlError::WkcLength(w)));
        // Data: opcode, key, peer id, then the AEAD packet id.
        let d = read_data(&hex(DATA_2), 108).unwrap();
        assert_eq!(
            (d.opcode, d.key, d.peer),
            (Opcode::DATA_V2, KeyId(0), Some(PeerId(0)))
        );
        assert_eq!((d.leading, d.body_len), (2, 104));
        assert_eq!(split_first(0x19), (Opcode::SOFT_RESET_V1, KeyId(1)));
    }

    #[test]
    fn tls_crypt_handshake_port_53() {
        let v = verdict(udp_flow(&[
            (true, CRYPT_CLIENT_RESET),
            (false, CRYPT_SERVER_RESET),
            (true, CRYPT_CLIENT_CONTROL),
        ]));
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt"));
        assert_eq!(detail(&v, "hmac_bytes").as_deref(), None);
        assert_eq!(
            detail(&v, "client_session").as_deref(),
            Some("931ded372babc782")
        );
        assert_eq!(
            detail(&v, "server_session").as_deref(),
            Some("64fe7dc48bbf7f82")
        );
        assert_eq!(v.evidence.len(), 3);
        assert!(v.evidence[2]
            .what
            .to_string()
            .contains("P_CONTROL_V1 key 0 from the client, session 931ded372babc782, tls-crypt"));
        assert!(v.evidence[2]
            .what
            .to_string()
            .contains("packet-id 2, time 1795595215"));
    }

    #[test]
    fn tls_crypt_v2_handshake() {
        let v = verdict(udp_flow(&[
            (true, V2_CLIENT_RESET),
            (false, V2_SERVER_RESET),
            (true, V2_CLIENT_ACK),
        ]));
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt-v2"));
        assert_eq!(detail(&v, "wkc_bytes").as_deref(), Some("299"));
        // OpenVPN 2.6 announces early negotiation in the replay id.
        assert!(v.evidence[0]
            .what
            .to_string()
            .contains("packet-id 0x0f000001"));
        assert!(v.evidence[0]
            .what
            .to_string()
            .contains("wrapped client key 299 bytes"));
    }

    #[test]
    fn tcp_stream_cut_at_every_offset() {
        let client = hex(TCP_CLIENT_RESET);
        let server = hex(TCP_SERVER_RESET);
        let check = |v: VpnVerdict| {
            assert_eq!(v.confidence, Confidence::High);
            assert_eq!(detail(&v, "transport").as_deref(), Some("tcp"));
            assert_eq!(detail(&v, "mode").as_deref(), Some("tls-auth"));
            assert_eq!(detail(&v, "hmac_bytes").as_deref(), Some("32"));
            assert_eq!(
                detail(&v, "server_session").as_deref(),
                Some("595eb553db46edb8")
            );
        };
        for k in 0..=client.len() {
            let mut t = OpenVpnTracker::tcp();
            let (a, b) = client.split_at(k);
            assert_eq!(
                t.on_stream(a, true, 1),
                Progress::Candidate,
                "client cut {k}"
            );
            assert_eq!(
                t.on_stream(b, true, 2),
                Progress::Candidate,
                "client cut {k}"
            );
            check(verdict(t.on_stream(&server, false, 3)));
        }
        for j in 0..server.len() {
            let mut t = OpenVpnTracker::tcp();
            assert_eq!(t.on_stream(&client, true, 1), Progress::Candidate);
            let (a, b) = server.split_at(j);
            assert_eq!(
                t.on_stream(a, false, 2),
                Progress::Candidate,
                "server cut {j}"
            );
            check(verdict(t.on_stream(b, false, 3)));
        }
        // One byte at a time: the verdict comes with the server's last byte.
        let mut t = OpenVpnTracker::tcp();
        for (i, b) in client.iter().enumerate() {
            assert_eq!(t.on_stream(&[*b], true, i as u64), Progress::Candidate);
        }
        for (i, b) in server.iter().enumerate() {
            let p = t.on_stream(&[*b], false, 100 + i as u64);
            if i + 1 < server.len() {
                assert_eq!(p, Progress::Candidate, "server byte {i}");
            } else {
                let v = verdict(p);
                assert_eq!(v.evidence[1].packet, 100 + i as u64);
                check(v);
            }
        }
        // Two packets in one chunk (the client's reset and its later ack,
        // which names the server session before the server is seen).
        let mut both = client.clone();
        both.extend(hex(TCP_CLIENT_ACK));
        let mut t = OpenVpnTracker::tcp();
        assert_eq!(t.on_stream(&both, true, 1), Progress::Candidate);
        check(verdict(t.on_stream(&server, false, 2)));
    }

    #[test]
    fn tcp_refuses_tls_and_http_at_once() {
        let mut t = OpenVpnTracker::tcp();
        // A TLS record header announces 0x1603 bytes; its first byte,
        // opcode 0, is enough.
        assert_eq!(t.on_stream(&[0x16, 0x03, 0x01], true, 1), Progress::NotThis);
        let mut t = OpenVpnTracker::tcp();
        assert_eq!(
            t.on_stream(b"GET / HTTP/1.1\r\n", true, 1),
            Progress::NotThis
        );
        let mut t = OpenVpnTracker::tcp();
        assert_eq!(t.on_stream(&[0, 0], true, 1), Progress::NotThis);
        // The wrong call for the transport refuses too.
        let mut t = OpenVpnTracker::tcp();
        assert_eq!(
            t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 1),
            Progress::NotThis
        );
        let mut t = OpenVpnTracker::udp();
        assert_eq!(
            t.on_stream(&hex(TCP_CLIENT_RESET), true, 1),
            Progress::NotThis
        );
    }

    #[test]
    fn data_channel_mid_flow_is_low() {
        let v = verdict(udp_flow(&[
            (true, DATA_0),
            (false, DATA_1),
            (true, DATA_2),
            (false, DATA_3),
            (true, DATA_4),
            (false, DATA_5),
        ]));
        assert_eq!(v.confidence, Confidence::Low);
        assert_eq!(detail(&v, "mode").as_deref(), Some("data-only"));
        assert_eq!(detail(&v, "peer_id").as_deref(), Some("0"));
        assert_eq!(detail(&v, "key_id").as_deref(), Some("0"));
        assert_eq!(detail(&v, "client_session").as_deref(), None);
        assert!(v.evidence.iter().any(|f| f.packet == 6
            && f.what
                .to_string()
                .contains("AEAD packet id in the clear rising")));
        assert!(v.evidence[0]
            .what
            .to_string()
            .starts_with("P_DATA_V2 key 0 from the client, peer id 0, AEAD packet id 1"));
        // One direction only is not enough.
        let mut t = OpenVpnTracker::udp();
        for (i, h) in [DATA_0, DATA_2, DATA_4].iter().enumerate() {
            assert_eq!(t.on_datagram(&hex(h), true, i as u64), Progress::Candidate);
        }
        // A peer id that changes breaks the pattern.
        let mut t = OpenVpnTracker::udp();
        t.on_datagram(&hex(DATA_0), true, 1);
        t.on_datagram(&hex(DATA_1), false, 2);
        let mut other = hex(DATA_2);
        other[3] = 1;
        assert_eq!(t.on_datagram(&other, true, 3), Progress::NotThis);
    }

    #[test]
    fn renegotiation_mid_flow_wrapped_tls_crypt() {
        // Data on key 0, then the 2.6 dynamic tls-crypt soft reset of key 1.
        let v = verdict(udp_flow(&[
            (false, RENEG_DATA_74),
            (true, RENEG_DATA_75),
            (true, RENEG_CLIENT_SOFT_RESET),
            (false, RENEG_SERVER_SOFT_RESET),
            (false, RENEG_SERVER_ACK),
        ]));
        assert_eq!(v.confidence, Confidence::High);
        assert_eq!(detail(&v, "mode").as_deref(), Some("tls-crypt"));
        assert_eq!(detail(&v, "key_id").as_deref(), Some("1"));
        assert_eq!(
            detail(&v, "client_session").as_deref(),
            Some("4da90344ba4a95c5")
        );
        assert!(v.evidence.iter().any(|f| f
            .what
            .to_string()
            .starts_with("P_CONTROL_SOFT_RESET_V1 key 1 from the client")));
        assert!(v
            .evidence
            .iter()
            .any(|f| f.what.to_string().contains("renegotiation")));
        // Frame 78 lost, a data packet that keeps key 0 in between.
        let v = verdict(udp_flow(&[
            (true, RENEG_CLIENT_SOFT_RESET),
            (false, RENEG_SERVER_SOFT_RESET),
            (false, RENEG_DATA_79),
            (true, RENEG_CLIENT_ACK),
        ]));
        assert_eq!(v.confidence, Confidence::High);
    }

    #[test]
    fn mid_handshake_is_medium() {
        // The capture picked up after the resets: acks from the client, TLS
        // records from the server, each naming the other's session.
        let v = verdict(udp_flow(&[
            (true, PLAIN_CLIENT_ACK_10),
            (false, PLAIN_SERVER_CONTROL_11),
            (true, PLAIN_CLIENT_ACK_12),
            (false, PLAIN_SERVER_CONTROL_13),
        ]));
        assert_eq!(v.confidence, Confidence::Medium);
        assert_eq!(detail(&v, "mode").as_deref(), Some("plain"));
        assert_eq!(
            detail(&v, "client_session").as_deref(),
            Some("92b42914fe065192")
        );
        assert!(v.evidence[0].what.to_string().contains(
            "P_ACK_V1 key 0 from the client, session 92b42914fe065192, no HMAC, acks 3 2 1 0 of \
             server session cb321eeececc03c0"
        ));
    }

    #[test]
    fn one_way_client_is_low() {
        // Only the client's direction was captured.
        let v = verdict(udp_flow(&[
            (true, PLAIN_CLIENT_RESET),
            (true, PLAIN_CLIENT_ACK_6),
            (true, PLAIN_CLIENT_ACK_10),
            (true, PLAIN_CLIENT_ACK_12),
        ]));
        assert_eq!(v.confidence, Confidence::Low);
        assert_eq!(detail(&v, "mode").as_deref(), Some("plain"));
        assert_eq!(detail(&v, "server_session").as_deref(), None);
    }

    #[test]
    fn static_key_is_low_after_twelve_packets() {
        let packets = [
            (true, STATIC_0),
            (false, STATIC_1),
            (true, STATIC_2),
            (true, STATIC_3),
            (false, STATIC_4),
            (true, STATIC_5),
            (false, STATIC_6),
            (true, STATIC_7),
            (false, STATIC_8),
            (true, STATIC_9),
            (false, STATIC_10),
            (true, STATIC_11),
        ];
        let v = verdict(udp_flow(&packets));
        assert_eq!(v.confidence, Confidence::Low);
        assert_eq!(detail(&v, "mode").as_deref(), Some("static-key"));
        assert!(v.evidence[0]
            .what
            .to_string()
            .contains("smallest, 80 bytes"));
        // Without the ping-sized packets of both sides it is not enough.
        let mut t = OpenVpnTracker::udp();
        let mut last = Progress::Candidate;
        for (i, (c, h)) in packets
            .iter()
            .skip(3)
            .chain(packets.iter().skip(3))
            .enumerate()
        {
            last = t.on_datagram(&hex(h), *c, i as u64);
            assert!(!matches!(last, Progress::Verdict(_)));
        }
        assert_eq!(last, Progress::Candidate);
    }

    #[test]
    fn broken_pattern_is_not_openvpn() {
        // A client reset, then a server packet that is no OpenVPN.
        assert_eq!(
            udp_flow(&[(true, SHA256_CLIENT_RESET), (false, DNS_RESPONSE)]),
            Progress::NotThis
        );
        // A second client reset under another session id.
        let mut other = hex(SHA256_CLIENT_RESET);
        other[1] ^= 0x55;
        let mut t = OpenVpnTracker::udp();
        t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 1);
        assert_eq!(t.on_datagram(&other, true, 2), Progress::NotThis);
        // A server reset whose acks name another client session.
        let mut s = hex(SHA256_SERVER_RESET);
        let at = 1 + 8 + 32 + 8 + 1 + 4;
        s[at] ^= 1;
        assert_eq!(
            udp_flow(&[(true, SHA256_CLIENT_RESET), (false, &hexify(&s))]),
            Progress::NotThis
        );
        // Client resets from both sides.
        assert_eq!(
            udp_flow(&[(true, SHA256_CLIENT_RESET), (false, SHA1_CLIENT_RESET)]),
            Progress::NotThis
        );
    }

    fn hexify(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn duplicates_and_the_packet_cap() {
        let c = hex(SHA256_CLIENT_RESET);
        let mut t = OpenVpnTracker::udp();
        for i in 0..u64::from(MAX_PACKETS) - 1 {
            assert_eq!(t.on_datagram(&c, true, i), Progress::Candidate);
        }
        assert_eq!(t.on_datagram(&c, true, 99), Progress::NotThis);
        assert_eq!(
            t.on_datagram(&hex(SHA256_SERVER_RESET), false, 100),
            Progress::NotThis
        );
        // A duplicated frame in the middle of a handshake is harmless.
        let v = verdict(udp_flow(&[
            (true, SHA256_CLIENT_RESET),
            (true, SHA256_CLIENT_RESET),
            (false, SHA256_SERVER_RESET),
        ]));
        assert_eq!(v.confidence, Confidence::High);
    }

    #[test]
    fn real_look_alikes_give_no_verdict() {
        let flows: [(&[(bool, &str)], Progress); 4] = [
            (
                &[(true, DNS_QUERY), (false, DNS_RESPONSE)],
                Progress::NotThis,
            ),
            (
                &[(true, STUN_REQUEST), (false, STUN_RESPONSE)],
                Progress::NotThis,
            ),
            // 1252 bytes ≡ 4 mod 16: one datagram cannot rule out static-key
            // (HMAC-SHA1 + IV + 77 blocks), its first byte rules out the rest.
            (&[(true, QUIC_INITIAL)], Progress::Candidate),
            (
                &[(true, QUIC_INITIAL), (false, DNS_RESPONSE)],
                Progress::NotThis,
            ),
        ];
        for (f, end) in flows {
            let mut t = OpenVpnTracker::udp();
            let mut last = Progress::Candidate;
            for (i, (c, h)) in f.iter().enumerate() {
                last = t.on_datagram(&hex(h), *c, i as u64);
                assert!(!matches!(last, Progress::Verdict(_)));
            }
            assert_eq!(last, end, "{f:?}");
            if end == Progress::Candidate {
                assert!(!t.control && t.static_ok);
            }
        }
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_bytes_give_no_verdict() {
        let mut rng = XorShift(0x5eed_0f0e_115e_1f00);
        let mut buf = vec![0u8; 1500];
        for flow in 0..4000 {
            let tcp = flow % 4 == 3;
            let mut t = if tcp {
                OpenVpnTracker::tcp()
            } else {
                OpenVpnTracker::udp()
            };
            for i in 0..40u64 {
                let len = 1 + (rng.next() % 1400) as usize;
                for b in buf[..len].iter_mut() {
                    *b = rng.next() as u8;
                }
                // Half the flows start like an OpenVPN packet (any opcode
                // and key id), so the deeper checks are reached.
                if flow % 2 == 0 {
                    buf[0] = (rng.next() % 12) as u8 * 8 + (rng.next() % 8) as u8;
                }
                let from_client = rng.next() % 2 == 0;
                let p = if tcp {
                    t.on_stream(&buf[..len], from_client, i)
                } else {
                    t.on_datagram(&buf[..len], from_client, i)
                };
                assert!(!matches!(p, Progress::Verdict(_)), "flow {flow}");
                if p == Progress::NotThis {
                    break;
                }
            }
        }
    }

    #[test]
    fn truncated_and_altered_real_packets_do_not_panic() {
        let all = [
            SHA256_CLIENT_RESET,
            SHA256_SERVER_RESET,
            SHA512_SERVER_RESET,
            PLAIN_SERVER_RESET,
            CRYPT_CLIENT_CONTROL,
            V2_CLIENT_RESET,
            RENEG_SERVER_ACK,
            DATA_0,
            STATIC_3,
            TCP_CLIENT_RESET,
        ];
        let mut rng = XorShift(7);
        for h in all {
            let p = hex(h);
            for cut in 0..=p.len() {
                let mut t = OpenVpnTracker::udp();
                t.on_datagram(&p[..cut], true, 0);
                t.on_datagram(&p[..cut], false, 1);
                let mut t = OpenVpnTracker::tcp();
                t.on_stream(&p[..cut], true, 0);
                t.on_stream(&p[..cut], false, 1);
                for _ in 0..4 {
                    let mut q = p[..cut].to_vec();
                    if let Some(b) = q.get_mut((rng.next() as usize) % cut.max(1)) {
                        *b = rng.next() as u8;
                    }
                    let _ = read_control(&q, q.len(), Protection::TlsAuth { hmac: 64 });
                    let _ = read_data(&q, q.len());
                    let mut t = OpenVpnTracker::udp();
                    t.on_datagram(&hex(SHA256_CLIENT_RESET), true, 0);
                    t.on_datagram(&q, false, 1);
                }
            }
        }
    }

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 1 (client → server): P_CONTROL_HARD_RESET_CLIENT_V2, tls-auth HMAC-SHA256.
    const SHA256_CLIENT_RESET: &str = concat!(
        "38cf18c8fa68ffaf6d5224273ca8fcb3778d6f815366e827c7d3c077a08527e605329d07409731c3",
        "cc000000016b069bb80000000000",
    );

    /// Same capture, frame 2 (server → client): P_CONTROL_HARD_RESET_SERVER_V2 acking the client reset.
    const SHA256_SERVER_RESET: &str = concat!(
        "4076e9665044d82cc6e368b2ae3354f3a1adc0caa9516b336dd6f75ac19babe194c4cee7e5c415f4",
        "ff000000016b069bb80100000000cf18c8fa68ffaf6d00000000",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha1.pcap` frame 1: client reset, HMAC-SHA1.
    const SHA1_CLIENT_RESET: &str = concat!(
        "3816403f73d2ba6dbc60b5e8acaeb9354ee0baf2230a0571a106c71f22000000016b069bbd000000",
        "0000",
    );

    /// Same capture, frame 2: server reset.
    const SHA1_SERVER_RESET: &str = concat!(
        "40af093ac685aa8991b76953365873ce9e431ea4ad3ef1caae63d38e75000000016b069bbd010000",
        "000016403f73d2ba6dbc00000000",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha512.pcap` frame 1: client reset, HMAC-SHA512.
    const SHA512_CLIENT_RESET: &str = concat!(
        "38e7ca3c41ee613eab98e561b0fc1ad4b3fdf399793c81b005b942b3979cb2501b812985315d85c5",
        "6b76b65d77fac19d5a422c665930a5686de2175cb210536a021ee30abce303c6fd000000016b069b",
        "c30000000000",
    );

    /// Same capture, frame 2: server reset.
    const SHA512_SERVER_RESET: &str = concat!(
        "4004a4ac17726c719d3ef51dfe6a3720824de938b1843f72f13e71c24127535fd6196f078117ad03",
        "78b2b616911efb61482c9737cbd744737c7b40d7bf7da0d94d5e935ccf7ea34b00000000016b069b",
        "c30100000000e7ca3c41ee613eab00000000",
    );

    /// `captures/vpn/openvpn-udp-1194-plain.pcap` frame 1: client reset, no tls-auth.
    const PLAIN_CLIENT_RESET: &str = "3892b42914fe0651920000000000";

    /// Same capture, frame 2: server reset.
    const PLAIN_SERVER_RESET: &str = "40cb321eeececc03c0010000000092b42914fe06519200000000";

    /// Same capture, frame 6: client P_ACK_V1 of message ids 1 and 0.
    const PLAIN_CLIENT_ACK_6: &str = "2892b42914fe065192020000000100000000cb321eeececc03c0";

    /// Same capture, frame 10: client P_ACK_V1 of message ids 3, 2, 1, 0.
    const PLAIN_CLIENT_ACK_10: &str =
        "2892b42914fe0651920400000003000000020000000100000000cb321eeececc03c0";

    /// Same capture, frame 11: server P_CONTROL_V1, message id 4 (TLS application data).
    const PLAIN_SERVER_CONTROL_11: &str = concat!(
        "20cb321eeececc03c00300000003000000020000000192b42914fe0651920000000417030300c37f",
        "638da6b29cad46038bf31e98a62b38a36c22f5d8c0de5f182bec35799942283b5341603611b0e354",
        "9ef4add07ea09bbcb426c8e962bd6d4c97f941bdacbea2c0eede3ed553bb3bb1097c2de68a0cf01c",
        "be40001a88c551c44c996406585ea4fdcd4a0503d13823d1efada1ad50c65dbeb9b38e739b20f7a4",
        "eb89001e85422d5674726011bef78896bed6bcc04a67cc45c6f9c0471efdab323715139ad87cf893",
        "49447b4941dbdff1fd34ad3171c2e738ae3d6661d45332f4e7aecd255cb872b8a644",
    );

    /// Same capture, frame 12: client P_ACK_V1 of message ids 4, 3, 2, 1.
    const PLAIN_CLIENT_ACK_12: &str =
        "2892b42914fe0651920400000004000000030000000200000001cb321eeececc03c0";

    /// Same capture, frame 13: server P_CONTROL_V1, message id 5.
    const PLAIN_SERVER_CONTROL_13: &str = concat!(
        "20cb321eeececc03c00300000003000000020000000192b42914fe0651920000000517030300d6d2",
        "c05e9ba82db70dcd4a8ffeca974e9443b8f4d3e8f30f3d76aa39acb91dc801a27d37aaeb5a5cdc45",
        "9b44a4b16cb7f69cdbe8540a0f6e5a210f143f7449cdf0d10c2ee1c789ccb437d1b589ac7e0e0d6c",
        "0b9c81960a1aac49fdf679d90f1696af27bda105ecca6a1aa0d0194a0d6de6779d078654a4164dce",
        "850f2bfdae41b39170b489e05fefe56af9aad73c34602cbd271d7700416bc0521b9b78438a82d6f5",
        "3e020447136dbc015578c356ab0cace536556ca833f85dfd1d4be54ab79d581220a4905cc933b107",
        "78cdc47aed74ea4ceb6053b631",
    );

    /// `captures/vpn/openvpn-udp-53-tlscrypt.pcap` frame 1 (client → server, UDP port 53): P_CONTROL_HARD_RESET_CLIENT_V2 under tls-crypt.
    const CRYPT_CLIENT_RESET: &str = concat!(
        "38931ded372babc782000000016b069bcfa4b5677103b6ad03a211398f22241da1b907728637cf23",
        "76b0b0e5a72e3a207e12600d532c",
    );

    /// Same capture, frame 2: P_CONTROL_HARD_RESET_SERVER_V2 under tls-crypt.
    const CRYPT_SERVER_RESET: &str = concat!(
        "4064fe7dc48bbf7f82000000016b069bcfc15f80f3dedabafbb7a296a2af13e1415a775e38956452",
        "05c83d870fe224fe457c8931bc990f9228b2153278637cd33d26",
    );

    /// Same capture, frame 3: the client P_CONTROL_V1 carrying the (encrypted) TLS ClientHello.
    const CRYPT_CLIENT_CONTROL: &str = concat!(
        "20931ded372babc782000000026b069bcf8f7d35f94f6bbfe3c4fae86b674b1c3b212a32a2ec2698",
        "d7fd5e76ad12eb187b83acd52bd87ada424de1a56b3b1f43c72db9fbc0709bed93866202afc766a2",
        "5f3b96f9ea7d59efc67b771433ce61389c96055af3a763570a6cdfd011510ad248f7bee72f2a1122",
        "c5d429054a4b5a08bcbed6afbf344387d56981f746d121a3681a29cad7f61b51a707ff0e80d53a63",
        "3143b7f5fb2dc098d4e2bd3d35e0fffb1ded6fcdce6e14e7658221d72b2befe61b1012470c7195a1",
        "53cd1d820a4fc9f6db2b97327b961c78928977aaed9fe3fbfbdd6832fd587b413a0f519a3f3d629c",
        "7d034afa05c2d7e7413a052e8385bba0d5fa577068d11baf8bf6c3b2cd0ce0fe12250d1feac82ae5",
        "4b3059832dfc85be72ae4bd5c66c71d15864658912d7e7f522ff6f4dba16cb3a1776706dd9b30511",
        "8c668bf9fadfd9275ee97631e9b1f613dbb9e994abe7b4",
    );

    /// `captures/vpn/openvpn-udp-443-tlscryptv2.pcap` frame 1: P_CONTROL_HARD_RESET_CLIENT_V3 with the wrapped client key (299 bytes).
    const V2_CLIENT_RESET: &str = concat!(
        "502fb30f03aaaecc530f0000016b069bd581846e6d099f8373e1cd39242faa6aa814f74751779594",
        "6cc5e3cfb5262ea624dd5d1f9f4fd6a50694518e546ec908deeb3de0df16d7bd9344dd1b847f4b1b",
        "463d272dad26801c4e73dd34715d2f8c96558f6bf21f9f3416debcfa4032bee42f30e82dfcb18e4e",
        "88ab306bd79edc0ff6820a5b49722edc6e64021a9eb12446791a05856a8df2711f6bc07003385854",
        "a813f77358004865570426f47f6278c6fe799d738d5910e45ab91c09631b2773a4eb6f67a20fa188",
        "7e5d2e3e0f4ad83958a221b26885e4be0bff0232882379a8ac4396e25dba4784711708a29f6fc83a",
        "b8c30c5514ad2e75898c5c9ba6b2ed8ef6794f523e7da04ff1c4cea4674e09d480b570c627313b5b",
        "6b58da662890321df32e18e3f7ce6ca86b4f508ccb154c3b918fdd18d82653d9d06e7187cd2b8875",
        "09ec6495aaf08ad6c4fa7eb07850129733d0d608e581913a33691ac3fbbdfd012b",
    );

    /// Same capture, frame 2: P_CONTROL_HARD_RESET_SERVER_V2 (tls-crypt, early-negotiation TLV).
    const V2_SERVER_RESET: &str = concat!(
        "4011710c9f91733205000000016b069bd566dc554be05eb8619a6cb603d84c56f2dca160656e1eb3",
        "2a5b64a66e19f9f77452300a366b9a22cccbdb7aa941a62eac5fda546f2ae489",
    );

    /// Same capture, frame 6: client P_ACK_V1 under tls-crypt.
    const V2_CLIENT_ACK: &str = concat!(
        "282fb30f03aaaecc530f0000036b069bd52b875102f5ee2419213f397726b20cf36c853be613a704",
        "be31a19b7e6ca90deab3efadb53ff1909e5f213b44aef9f514b6",
    );

    /// `captures/vpn/openvpn-udp-1194-reneg.pcap` frame 76: client P_CONTROL_SOFT_RESET_V1 key 1, wrapped by 2.6 dynamic tls-crypt.
    const RENEG_CLIENT_SOFT_RESET: &str = concat!(
        "194da90344ba4a95c5000000016b069bfac97c1e23d1b7a9cb5c2b2a1c6680525af7bcc790d42ba9",
        "dec460db4f616c28145a84f46dbd",
    );

    /// Same capture, frame 77: server P_CONTROL_SOFT_RESET_V1 key 1.
    const RENEG_SERVER_SOFT_RESET: &str = concat!(
        "198985d1a399440210000000016b069bfa5367143b2c19d1109a2804282d36a544335c7ee8df1bfe",
        "574bb40181fd8b697fdc718d1f05",
    );

    /// Same capture, frame 78: server P_ACK_V1 key 1.
    const RENEG_SERVER_ACK: &str = concat!(
        "298985d1a399440210000000026b069bfaf1b73a6ac9e848adf301276ebf62b39742c367344018ef",
        "11510ec89117e7525284bbcc57180dbc7a2abd9303a7",
    );

    /// Same capture, frame 80: client P_ACK_V1 key 1.
    const RENEG_CLIENT_ACK: &str = concat!(
        "294da90344ba4a95c5000000026b069bfa48e6a6cd7a25490fcb641141ad05f67109e805634980a1",
        "2f19bb5f58b3b14f0218a621368d90a89a06b70a3065",
    );

    /// Same capture, frame 74: server P_DATA_V2 key 0 (AEAD packet id 0x1d), before the renegotiation.
    const RENEG_DATA_74: &str = concat!(
        "480000000000001d0abcf245be16608567b6db175eb2aaf9cd7bff0c9861255318f21768e20fd2b1",
        "6cf374d910e832a6847baac87c880c6433d36f0c8ed1bb4b4e5567f17c3d0c1f85df3707b9742d22",
        "875750eb0c8f83a388755019ea40199eaae446ade3e9d4d1975e8f60",
    );

    /// Same capture, frame 75: client P_DATA_V2 key 0 (AEAD packet id 0x1e).
    const RENEG_DATA_75: &str = concat!(
        "480000000000001ec2a2f74ede2be6e19fcf8e89e3c3322a178457733d289cc95b9e0b6fb0703193",
        "97d03efce5bb925adbf991fb7e59ff155bf76c9ae63a2b50b851b06722f869d2d04efb280b44afce",
        "01f31fcfa11a40d0e58262c8ac74a6757c50c439db09056a21f9e2c5",
    );

    /// Same capture, frame 79: server P_DATA_V2 key 0 (AEAD packet id 0x1e), during the renegotiation.
    const RENEG_DATA_79: &str = concat!(
        "480000000000001eba1bdf6961018a373478fc610f65a83467675e4cfcbc1f620bfd2688b074c6fb",
        "4001745409337d8fdbdbca47d62ab61c8cd4dcfd55c447e1f25f2055f3a8847cd7c19b8b0e218eed",
        "c4e9af7e8cb45557d91f71589e7142002e53a51536640b4494075c93",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 15 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 1.
    const DATA_0: &str = concat!(
        "4800000000000001eb1d99dc9ab82820ec2571f0f266322d7744cb18aa9b6166c4d189598db1485e",
        "b6901fe2d01d2763d89f05560ae2faca0d2454927df53232608bdcc84fff7d559b7a40c5e630c7c3",
        "0adff150bb622e228a6c13ab2844e1f79a207290056aefff8b042eb1",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 16 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 1.
    const DATA_1: &str = concat!(
        "480000000000000127e3e15c659cc549d0f800b1df2ee60199d60a163557fd1a210e8f6bcbebdc11",
        "d419bb6615ae825fca1d999d8680a7be385a9081148e6d41ee411238e2d2785fb87381fe6dedb002",
        "53aca20cd269a4ffafa5d59023f24100196c4b026afbacba97e5f884",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 17 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 2.
    const DATA_2: &str = concat!(
        "4800000000000002e0418a18463ce639c93f271385f45976c81fe6d1932068bcb5afed004824a5f0",
        "90a367c70aa7c6b34ca3f48dde3c894a0471238566d89e6601a153b690ef16ddece765e62ae928d6",
        "21e7efcbdeb1ddbdf7b952348c1910d9b13ca152731c0f5f5300eb74",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 18 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 2.
    const DATA_3: &str = concat!(
        "48000000000000028f80f2f4ef0901068bcafb0ac91a7d375bfc2f567b1e6bb821ad9b4253e348b9",
        "7f8bea4cd474a4f339b8b11506ef540dd8e47dc27dae37fef2893643d9698565a174f58f7f4266bf",
        "234e1bee98e5b6d04be6439c603d777ee785d97ee7768cd3ece7ee5d",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 19 (client): P_DATA_V2 key 0, peer id 0, AEAD packet id 3.
    const DATA_4: &str = concat!(
        "48000000000000032e33d85785cb2b2ed573be0df1bcec4287879af892602a4631acdae5f98f2b69",
        "6b0425fb22a6bac059efda27095b2c1c5875a9ebddfd352a140885ae1b696e6fc506aa47819becf6",
        "122d7bfa196a9649eeb22dd6cf95bbc738f6fd1f0198442851fb731e",
    );

    /// `captures/vpn/openvpn-udp-1194-tlsauth-sha256.pcap` frame 20 (server): P_DATA_V2 key 0, peer id 0, AEAD packet id 3.
    const DATA_5: &str = concat!(
        "4800000000000003559ec27cdf8472d60605a654d07557ea1b8a3ea9f8028a9ad82ffea7487707a0",
        "6cfd643de7a062091f9a2b48fd63a3355201a9eaa7f950ae191df4a17c2719bbf22c8c0a86e0504b",
        "610abe297b7b4a944f9e25eaa61021abe1a4d035e23eb13584ace802",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 1 (client).
    const STATIC_0: &str = concat!(
        "77e8a111f18119344afc55ecd1ab9fc0e10edb50bfbf204e93124692198525ec4299d93baedd82d8",
        "cd5f66ae41cfe50952758f47231f9bb45b3f88437d3846436e7fe7f4b78b23e5d1a192584b5dc69d",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 2 (server).
    const STATIC_1: &str = concat!(
        "367a2474fc83029f594dbd82d7d075f84da6af0ac7aa22b1a519d818a8851985a9f12a26a74ca20b",
        "30f448fd65d6040e6e835ef92316cdc64d312311c90734099c6da12b58d08437e25d0e94442abc86",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 3 (client).
    const STATIC_2: &str = concat!(
        "3496b544c61154344cd304e4026b3b5bd3edfee99c62852f7a224e43045040ce92063dca4cecf698",
        "5d33f5b2f1a1b562bc648efaf16ce266fda301d62f6d6d07647ec1c99ffe387240300029bf8a9da1",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 4 (client).
    const STATIC_3: &str = concat!(
        "d50d43fac42e44892805e928c6525b607ea5ba990709c974d1bbb6c5c7dd557a9c02fbaa163b21f7",
        "13945504d5e84829e88ec3cdfba4a00eeb9e1beddbe4185efdd1bdd9e0108d0968568b4a0918acf0",
        "ea3dfd4403e8d1b90317337e8e46f5b2bef91a71b79766a368a7df9dd4f0e8bdf6bba8657ba2010c",
        "dae1939e0fc420912c3c078d8c78bd7e28ca5d64cb5c58f6",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 5 (server).
    const STATIC_4: &str = concat!(
        "04f975685000de4bdda901d9edc7153384fd2cde1b6b49abf0888bc7a3ec348da6ff9a7daeebb1cc",
        "f08c921e7c51923688fe4ea9575a41d7bfbf4ff92089779f3ec26279f57955585bac8a8b30e3ae5f",
        "44d98740667a58eacc22a5c86b21060d67359d6528ef69e07e00dbdf69aefbff865b423db04d4292",
        "9809794924816984a46f52bf789e6519cab849c626dfc639",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 6 (client).
    const STATIC_5: &str = concat!(
        "14dac3705d0c7d76b94b1a1a2b2ae8ecd3daaaaee21e1a6d3b0cd8bf3f7a14717d42611a180b17e5",
        "5065a61a40b79a22eb9b0a119b2a4f07cdd2cdb7994031aa3004e69d2f77ba20e209e7f92300a2d0",
        "c4e0c6d2375a3c16e95e34b5b5f5eaf1111059d3cd06258034d861399ccb4a357a9dc915dd61f802",
        "ffcb7d5504f52bbd5437a28d6dd3a2035bd87b1d1b745c9e",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 7 (server).
    const STATIC_6: &str = concat!(
        "8e1646eb60b0128da84b8386e1f98dccdfb537ca3ccdcb24c5f3f1f801cbc1ff2d75f1755d0d4b78",
        "b851945b5bf7fc6511a025e61681d884a90574b8f75fdb7c57781e4315fd188bd4eb66fa7c2ac61c",
        "c92e23513ccc7839201b413de724bf7a123bfe49705d62ea224b90b97060c0c40f8182728dddc97f",
        "4727e6726db2acafd4035645f711abba681b638d0e1a6f33",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 8 (client).
    const STATIC_7: &str = concat!(
        "a7deea44de1c12822aa68415e0697da965d4adfd45ac3207dea55fd3212e50a10ddd7c50c68f8bf7",
        "648d0b98dc5fed5162e4b1d834c30d7979d6711f484bd864b309f8524f39cae951582ac687ef4466",
        "9bb726244fdd33280a1b9f4e589d70053153afcfb16f7c219edb04a4cd0bbc3cd5c940fa2483e5ec",
        "7ae57273072186a45afebaf0cc80f309b7c91ccc832c4593",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 9 (server).
    const STATIC_8: &str = concat!(
        "4b5f6cbd04a440aa07f433016800c8c318305f442c21a0b291d58e5ad04d327daafde7ef789d4505",
        "a27a30c39604c1f5854ed8611a5c2474888dac88dd951acbcd70f9264786dbf53dc9cf243f3bcab6",
        "370f540e6010d7a8b1df1bd258b027251f5f64b8109e6d89c519a590169d76434e5d6dad1d56bf5b",
        "b54cd64212f3aac259c30edf423d1ca7280c36497b76711d",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 10 (client).
    const STATIC_9: &str = concat!(
        "cf150b65b99f69fe79b6d0741d21ebe9409872e7a51a7ed242e32e22278ac4e4f0db57f0c1b552f2",
        "e1bb7897a8c8404a57cf9476fd637cc3600ab837a07bf6890c939644b63f7b3907ea00a257a86680",
        "0fdf2bd35b61e3dc2a18e3e6167fb30a63e0cb600e9d80810c464444616fec43b366e79f55ae3719",
        "4cd6586981ce494926cb77445ff7cd0aae27ec7423b85daa",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 11 (server).
    const STATIC_10: &str = concat!(
        "cab73f1589f40ec59289e64e8c058f1001ccf924a3230d29884ee653d79216034b2f993c036d655a",
        "be0fca22710a66afe3492f013a50218e4891e4b076ffb611beeff24129330108301cb5d0cd82ec4d",
        "01972b0d43f8b72e067d22f3899211cdab82821b590b43977986f70fc42f8b7b12d2661c25ccbe7e",
        "981a93354d89a1e6394c62ef630a8eb9501e74a789dabe32",
    );

    /// `captures/vpn/openvpn-udp-1194-static.pcap` frame 14 (client).
    const STATIC_11: &str = concat!(
        "9371c54b1b54106897608c71dcdb523dd98bfc4f2e584992ff839d5eed8e945ceef965516c101da3",
        "5acdd128ed8af6c0c6087a64116057cb455ee0f884aac417297c58417a7a5dd1a366e5d159c7c55b",
        "0443b54714cbdb768646ad67c734a15985b3230f055a3b8f42143e6b0960886a7f691005ecdefb41",
        "b7616449dfd0e05fb7564fe1087b4a84f6ec7f83b53d29a2",
    );

    /// nDPI corpus `dns.pcap` frame 2: DNS query for www.example.com (32795 → 53).
    const DNS_QUERY: &str = "bc1f0100000100000000000003777777076578616d706c6503636f6d00001c0001";

    /// nDPI corpus `dns.pcap` frame 3: its response.
    const DNS_RESPONSE: &str = "bc1f8180000100000000000003777777076578616d706c6503636f6d00001c0001";

    /// nDPI corpus `stun_google_meet.pcapng` frame 1: STUN Binding Request (38152 → 19302).
    const STUN_REQUEST: &str = "000100002112a4426b41474e4e7a76484e483539";

    /// Same capture, frame 3: Binding Success Response.
    const STUN_RESPONSE: &str = "0101000c2112a4426b41474e4e7a76484e483539002000080001b96a7c310f93";

    /// nDPI corpus `quic-34.pcap` frame 1: QUIC draft-34 client Initial.
    const QUIC_INITIAL: &str = concat!(
        "c6ff00002208a128fde632355cb7088d4cb7400728be490044caad3d483bb974522b890c5d7e7712",
        "ce689cbcf1b517a6546cae304c5a15b32eb7abc3baa07653f0e9cce7d496ad05bd1b7dad42698d6e",
        "b20ed509ffbd33b73f820d8215f15a4a8502d0b587cf0f79a690a9f617192bad03b829a7dacd5b9c",
        "6f872f57b4f8374bb8dc09c970cb5ce1dfc65e731a69ce157c095f1dee32d750e08343bed1a2a28f",
        "3116a0f5f1c91478b79d5a0bb3646efff427976058a0c1424f70dfb772b5be73c236df407a51565b",
        "8d073647b392380cc67f267341f8fad4caec81997ae9d204765e7c158f34377e534f16071082edbf",
        "253545d0bd770a4c6dffe41995cf41df0068cac12ab8ca4596e542c65869b0936814aee33e0debd9",
        "cfaec51406d29f29719a67bd392c58bf9ff16a854f97282cf3dd665670067d3644a7c64c0fae019d",
        "0b684d0ed646b7e1612982aa6855cf1f6b269369dae32f23bf2654be76afca75ddf2f4a3dedfc8e3",
        "7b1722acead6d7eaa53f3870231f29892a6b84e0b2110636f9f963ad0342a54a0f2afcdd6ac8fef1",
        "8fef80e8b86803574c0b2977e34f642b21970429181610742ec21196dfe50970527c9217279c9cf2",
        "2ca247dccbb109089c465455c04e8a77f5fe5a82aa83809041c5b57b572d3a14ad6a931ff4bbcba1",
        "19f563a952912a6a6bc22f57d64492aa15edd861fc6d9c6388cd35a02e01415efc375f7d460f6d60",
        "9ba946ff25eb2be10d2f6b72dd3ccd658d571af9f2579b41468a35869d411999685b519a7374b318",
        "e4bdcc70794c5b668a0bec4e06188a889634786612e5ce52b713b07ae8e246b50002ed5c91e3a19a",
        "7e7c214f1a771eb3b22f2a19a74470ef171622dcfd4efea54f60680386340d2358f68953a7e0cfca",
        "b327506d2fa91c7346127cdfbe2383a3152993046bff3b318da2ae103c90af216680b7335f454da3",
        "a79de96db9602132b7fe43cb7c040943ee45241faa07c7dbe462711988af7efec7f1e90abcb5a18c",
        "1bf99c58359a6046f7357019aa67f8d451ed794fcec1d9a5652aa8a834b90e5561076c2aeed2f098",
        "b2b1a314e48635576ae9d353f91f7330439b5030925c45c371f0e49e65f8b1ebc0ea2570fae817aa",
        "8b0c191b0cebcea6dc84d65977bc1d2de121f4e96af7eac1f3473d6e090476d40f521d9bcac892bf",
        "482835b80a6c2ea766259d5fffed6277ccd31308ead6a9ac1c40f7f254380ab95b59fa0bbce4777f",
        "7b3fcff4248adbdf1ad1e1559b748f459ea5a90a7b4eff3461d7d55d1d33499382a64a261d88a379",
        "2f16f72d028eac5236c03571744bcc3194eba365b1735b52ce922d425c361674f96af9226dc9e071",
        "5040cdcc567bd55adb9f0b2724d3a91efbccccfa9d455fa77552d97e9c905d212c15ceb9415a1034",
        "ebb43067ab22465aef02ded32e265f4a6723c2ff47fcb52536b0aa225e794c7caf5978e24bbf8376",
        "44dae495109c6eb93758f134875d1331afb9ea66e396a6f4886947064b74354d99ec88e4c561cbc1",
        "5b311b43bd8e992456509cc2080041ce2763883a465b33e485ef3f44eca395cff94d1420ebbad70b",
        "67c08f9dee5d0456c376ba8eccd3e31a1d66c24aa28288a2ce46dc2a58cf3412242aed39e3abe7f7",
        "1ee1cfaadc7c76af32a1760bf959185502bd94576dd335425dd0e92655ea19cecf6ff850dbd0fb4f",
        "3d8543287be326a1c0ccecb5754ca34db75cf948d143f5e1def10c3e1b279c573ed3e967e9bda19e",
        "d64bd33f5e17cc8c24ae0a37",
    );

    /// `captures/vpn/openvpn-tcp-443-tlsauth.pcap` frame 4: client stream bytes 0..56, length 54 + P_CONTROL_HARD_RESET_CLIENT_V2 (tls-auth SHA256).
    const TCP_CLIENT_RESET: &str = concat!(
        "0036385884c42038c86e9ca5a703b2724064b5cc64a76fcaf29bb3beb3f6dc6b64d4612715a26f51",
        "4c4633000000016b069bda0000000000",
    );

    /// Same capture, frame 6: server stream bytes 0..68, length 66 + P_CONTROL_HARD_RESET_SERVER_V2.
    const TCP_SERVER_RESET: &str = concat!(
        "004240595eb553db46edb877646affb949fcaa7313d448e5272d7c2daf3321ed2856611a6b6dd6a0",
        "088f5d000000016b069bda01000000005884c42038c86e9c00000000",
    );

    /// Same capture, frame 10: length 66 + client P_ACK_V1 (client stream bytes 401..469).
    const TCP_CLIENT_ACK: &str = concat!(
        "0042285884c42038c86e9c6581cfc08a519e6cdc167f4515a6edaca66b4a2ce7fbadf45c64856165",
        "8ebb47000000036b069bda020000000100000000595eb553db46edb8",
    );

    /// Runs the tracker over every UDP/TCP flow of the recorded VPN captures
    /// and of the nDPI corpus (`SIFT_NDPI_CORPUS`, default
    /// `/work/shared/corpus/ndpi`), and prints which flows it calls OpenVPN
    /// against nDPI's labels. TCP payloads are put in order by sequence
    /// number (retransmitted bytes dropped, gaps passed through).
    #[test]
    #[ignore = "reads capture files outside the crate; run by hand with --nocapture"]
    fn corpus_report() {
        use crate::capture::file::Reader;
        use crate::decode::transport::{tcp_flags, Header};
        use std::collections::HashMap;
        use std::net::IpAddr;
        use std::path::{Path, PathBuf};

        type Key = (u8, (IpAddr, u16), (IpAddr, u16));
        struct Flow {
            client: (IpAddr, u16),
            tracker: OpenVpnTracker,
            next: [Option<u32>; 2],
            outcome: Option<Progress>,
            order: usize,
            seen: usize,
        }
        fn key(proto: u8, a: (IpAddr, u16), b: (IpAddr, u16)) -> Key {
            if a <= b {
                (proto, a, b)
            } else {
                (proto, b, a)
            }
        }
        /// `skip`: payload packets of each flow not fed (a capture that
        /// starts mid-flow).
        fn run(path: &Path, skip: usize) -> Vec<(Key, (IpAddr, u16), Option<Progress>)> {
            let Ok(bytes) = std::fs::read(path) else {
                return Vec::new();
            };
            let Ok(mut reader) = Reader::new(&bytes) else {
                return Vec::new();
            };
            let mut flows: HashMap<Key, Flow> = HashMap::new();
            let mut index = 0u64;
            while let Some(Ok(raw)) = reader.next_packet() {
                index += 1;
                let Ok(net) = crate::decode::link::decode(raw.link, raw.data) else {
                    continue;
                };
                let Ok(ip) = crate::decode::ip::parse(net.bytes) else {
                    continue;
                };
                if ip.fragment.is_some() {
                    continue;
                }
                let Ok(d) = crate::decode::datagram(&ip) else {
                    continue;
                };
                let t = d.transport;
                let (src, dst) = ((d.src, t.src_port), (d.dst, t.dst_port));
                let tcp = match t.header {
                    Header::Tcp(h) => Some(h),
                    Header::Udp => None,
                    _ => continue,
                };
                let n = flows.len();
                let f = flows.entry(key(d.proto, src, dst)).or_insert_with(|| Flow {
                    client: src,
                    tracker: if tcp.is_some() {
                        OpenVpnTracker::tcp()
                    } else {
                        OpenVpnTracker::udp()
                    },
                    next: [None; 2],
                    outcome: None,
                    order: n,
                    seen: 0,
                });
                let from_client = src == f.client;
                let side = usize::from(!from_client);
                if matches!(
                    f.outcome,
                    Some(Progress::NotThis) | Some(Progress::Verdict(_))
                ) {
                    continue;
                }
                let progress = match tcp {
                    None => {
                        if t.payload.is_empty() {
                            continue;
                        }
                        f.seen += 1;
                        if f.seen <= skip {
                            continue;
                        }
                        f.tracker.on_datagram(t.payload, from_client, index)
                    }
                    Some(h) => {
                        let syn = u32::from(h.has(tcp_flags::SYN));
                        let mut data = t.payload;
                        let next = f.next[side].get_or_insert(h.seq.wrapping_add(syn));
                        let seq = h.seq.wrapping_add(syn);
                        let behind = next.wrapping_sub(seq);
                        if behind != 0 && behind < 1 << 30 {
                            data = data.get(behind as usize..).unwrap_or(&[]);
                            *next = next.wrapping_add(data.len() as u32);
                        } else {
                            *next = seq.wrapping_add(data.len() as u32);
                        }
                        if data.is_empty() {
                            continue;
                        }
                        f.seen += 1;
                        if f.seen <= skip {
                            continue;
                        }
                        f.tracker.on_stream(data, from_client, index)
                    }
                };
                if !matches!(progress, Progress::Candidate) {
                    f.outcome = Some(progress);
                }
            }
            let mut out: Vec<_> = flows.into_iter().collect();
            out.sort_by_key(|(_, f)| f.order);
            out.into_iter()
                .map(|(k, f)| (k, f.client, f.outcome))
                .collect()
        }
        fn describe(p: &Option<Progress>) -> String {
            match p {
                Some(Progress::Verdict(v)) => {
                    let get = |n: &str| {
                        v.details
                            .iter()
                            .find(|(k, _)| *k == n)
                            .map_or("-".to_string(), |(_, v)| v.to_string())
                    };
                    format!(
                        "{} {} mode={} hmac={} key={} peer={} facts={}",
                        v.confidence.as_str(),
                        get("transport"),
                        get("mode"),
                        get("hmac_bytes"),
                        get("key_id"),
                        get("peer_id"),
                        v.evidence.len()
                    )
                }
                Some(Progress::NotThis) => "NotThis".into(),
                _ => "undecided".into(),
            }
        }

        let vpn = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/vpn");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&vpn)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
        files.sort();
        println!("== recorded captures");
        let mut missed = 0;
        for p in &files {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            for (k, client, outcome) in run(p, 0) {
                let is_ovpn = name.starts_with("openvpn");
                let verdict = matches!(outcome, Some(Progress::Verdict(_)));
                if is_ovpn && !verdict {
                    missed += 1;
                }
                if is_ovpn || verdict {
                    println!(
                        "{name} {} {client:?} -> {}",
                        if k.0 == 6 { "tcp" } else { "udp" },
                        describe(&outcome)
                    );
                }
                if is_ovpn {
                    if let Some(Progress::Verdict(v)) = &outcome {
                        for f in &v.evidence {
                            println!("    [{}] {}", f.packet, f.what);
                        }
                        println!("    {:?}", v.details);
                    }
                }
            }
        }
        println!("recorded OpenVPN flows without a verdict: {missed}");
        println!("== recorded captures, the first 20 payload packets of each flow not fed");
        for p in &files {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            for (k, client, outcome) in run(p, 20) {
                if name.starts_with("openvpn") || matches!(outcome, Some(Progress::Verdict(_))) {
                    println!(
                        "{name} {} {client:?} -> {}",
                        if k.0 == 6 { "tcp" } else { "udp" },
                        describe(&outcome)
                    );
                }
            }
        }

        let corpus = std::env::var("SIFT_NDPI_CORPUS")
            .unwrap_or_else(|_| "/work/shared/corpus/ndpi".to_string());
        let corpus = Path::new(&corpus);
        let Ok(csv) = std::fs::read_to_string(corpus.join("expected.csv")) else {
            println!("no nDPI corpus at {}", corpus.display());
            return;
        };
        let mut labels: HashMap<(String, Key), (String, String)> = HashMap::new();
        for line in csv.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            if c.len() < 9 {
                continue;
            }
            let proto = if c[1] == "tcp" { 6 } else { 17 };
            let (Ok(a), Ok(ap), Ok(b), Ok(bp)) = (
                c[2].parse::<IpAddr>(),
                c[3].parse::<u16>(),
                c[4].parse::<IpAddr>(),
                c[5].parse::<u16>(),
            ) else {
                continue;
            };
            labels.insert(
                (c[0].to_string(), key(proto, (a, ap), (b, bp))),
                (c[7].to_string(), c[8].to_string()),
            );
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("pcap"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for skip in [0, 10, 20] {
            let (mut ovpn_flows, mut ovpn_found, mut flows_total, mut fps) = (0, 0, 0, 0);
            println!("== nDPI corpus, the first {skip} payload packets of each flow not fed");
            for p in &files {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                for (k, client, outcome) in run(p, skip) {
                    flows_total += 1;
                    let label = labels.get(&(name.clone(), k)).cloned();
                    let family = label.as_ref().map_or("(not in csv)", |l| l.1.as_str());
                    let verdict = matches!(outcome, Some(Progress::Verdict(_)));
                    if family == "openvpn" {
                        ovpn_flows += 1;
                        ovpn_found += usize::from(verdict);
                        println!(
                            "OPENVPN {name} {} {client:?} -> {}",
                            if k.0 == 6 { "tcp" } else { "udp" },
                            describe(&outcome)
                        );
                    } else if verdict {
                        fps += 1;
                        println!(
                            "OTHER-PER-NDPI {name} {} {k:?} client {client:?} nDPI={:?} -> {}",
                            if k.0 == 6 { "tcp" } else { "udp" },
                            label,
                            describe(&outcome)
                        );
                        if let Some(Progress::Verdict(v)) = &outcome {
                            for f in &v.evidence {
                                println!("    [{}] {}", f.packet, f.what);
                            }
                        }
                    }
                }
            }
            println!(
            "nDPI corpus: {flows_total} flows; OpenVPN per nDPI {ovpn_flows}, found {ovpn_found}; \
             verdicts on other flows: {fps}"
        );
        }
    }
}
