//! What OpenVPN packets look like on the wire: opcodes, key and session
//! ids, the control channel under each protection (plain, tls-auth,
//! tls-crypt), the wrapped client key of tls-crypt-v2, data packet headers.

use super::*;

/// Field offsets, as in the layout diagrams above.
pub(super) mod field {
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
pub(super) const ALL_LAYOUTS: u8 = 0xff;
/// Mask bit of [`Protection::TlsCrypt`].
pub(super) const CRYPT_BIT: u8 = 1 << 7;

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
    pub(super) acks: &'a [u8],
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

pub(super) fn short(needed: usize, available: usize) -> ControlError {
    ControlError::Short { needed, available }
}

pub(super) fn session_at(b: &[u8], at: usize) -> Option<SessionId> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(SessionId(s.try_into().ok()?))
}

pub(super) fn replay_at(b: &[u8], at: usize) -> Result<Replay, ControlError> {
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
pub(super) fn read_reliable<'a>(
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
