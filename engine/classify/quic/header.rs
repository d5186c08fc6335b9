//! QUIC long headers (RFC 8999, RFC 9000 §17.2): Initial, 0-RTT, Handshake,
//! Retry and Version Negotiation packets of every version read here, up
//! to the protected part.

use super::*;

/// A long-header packet type. Version 0 packets are [`VersionNegotiation`];
/// the others are read from the two type bits, whose meaning QUIC v2
/// changed (RFC 9369 §3.2).
///
/// [`VersionNegotiation`]: LongPacketType::VersionNegotiation
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LongPacketType {
    VersionNegotiation,
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongPacketType {
    /// The type of a packet of `version` whose first byte is `first`.
    pub fn from_first_byte(version: QuicVersion, first: u8) -> Self {
        if version == QuicVersion::NEGOTIATION {
            return LongPacketType::VersionNegotiation;
        }
        let bits = (first >> 4) & 0x03;
        match (version.v2_types(), bits) {
            (false, 0) | (true, 1) => LongPacketType::Initial,
            (false, 1) | (true, 2) => LongPacketType::ZeroRtt,
            (false, 2) | (true, 3) => LongPacketType::Handshake,
            _ => LongPacketType::Retry,
        }
    }

    /// The two type bits for `version` (0 for Version Negotiation).
    pub fn bits(self, version: QuicVersion) -> u8 {
        let v1 = match self {
            LongPacketType::VersionNegotiation | LongPacketType::Initial => 0,
            LongPacketType::ZeroRtt => 1,
            LongPacketType::Handshake => 2,
            LongPacketType::Retry => 3,
        };
        if version.v2_types() && self != LongPacketType::VersionNegotiation {
            (v1 + 1) & 0x03
        } else {
            v1
        }
    }
}

/// One long-header packet, borrowed from its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongPacket<'a> {
    /// The first byte as sent (its low bits are still protected).
    pub first_byte: u8,
    pub version: QuicVersion,
    pub packet_type: LongPacketType,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Initial: the address validation token. Retry: the retry token (the
    /// 16-byte integrity tag excluded). Otherwise empty.
    pub token: &'a [u8],
    /// Where what follows the header starts in [`bytes`](Self::bytes): the
    /// packet number (Initial, 0-RTT, Handshake), the version list
    /// (Version Negotiation) or the token (Retry).
    pub body_offset: usize,
    /// The whole packet: through the end of its Length for Initial, 0-RTT
    /// and Handshake; the rest of the datagram for Retry and Version
    /// Negotiation.
    pub bytes: &'a [u8],
}

impl<'a> LongPacket<'a> {
    /// The versions a Version Negotiation packet offers (none for other
    /// types). A trailing partial version is ignored.
    pub fn offered_versions(&self) -> impl Iterator<Item = QuicVersion> + 'a {
        let list = match self.packet_type {
            LongPacketType::VersionNegotiation => self.bytes.get(self.body_offset..).unwrap_or(&[]),
            _ => &[],
        };
        list.chunks_exact(4)
            .map(|c| QuicVersion(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// A Retry's integrity tag, its last 16 bytes (RFC 9001 §5.8; drafts
    /// before 25 had none and laid the Retry out differently).
    pub fn retry_integrity_tag(&self) -> Option<&'a [u8]> {
        if self.packet_type != LongPacketType::Retry {
            return None;
        }
        let body = self.bytes.get(self.body_offset..)?;
        body.len()
            .checked_sub(TAG_LEN)
            .and_then(|at| body.get(at..))
    }
}

/// Reads the long-header packet at the start of `buf`.
///
/// Initial, 0-RTT and Handshake packets end where their Length says; a
/// Length past the end of `buf` is [`QuicError::Truncated`]. The layout
/// after the connection IDs is QUIC v1's for every version but 0; callers
/// decide which versions they trust it for.
pub fn parse_long_packet(buf: &[u8]) -> Result<LongPacket<'_>, QuicError> {
    let mut r = Reader::new(buf);
    let first = r.u8("long header")?;
    if first & 0x80 == 0 {
        return Err(QuicError::NotLongHeader(first));
    }
    let version = QuicVersion(r.u32("version")?);
    let negotiation = version == QuicVersion::NEGOTIATION;
    let mut cid = |which: &'static str| -> Result<&[u8], QuicError> {
        let len = usize::from(r.u8(which)?);
        if len > MAX_CID_LEN && !negotiation {
            return Err(QuicError::ConnectionIdTooLong { which, len });
        }
        Ok(r.take(len, which)?)
    };
    let dcid = cid("destination connection ID")?;
    let scid = cid("source connection ID")?;
    let packet_type = LongPacketType::from_first_byte(version, first);
    let mut packet = LongPacket {
        first_byte: first,
        version,
        packet_type,
        dcid,
        scid,
        token: &[],
        body_offset: r.position(),
        bytes: buf,
    };
    match packet_type {
        LongPacketType::VersionNegotiation => {}
        LongPacketType::Retry => {
            let body = r.rest();
            packet.token = body
                .get(..body.len().saturating_sub(TAG_LEN))
                .unwrap_or(&[]);
        }
        LongPacketType::Initial | LongPacketType::ZeroRtt | LongPacketType::Handshake => {
            if packet_type == LongPacketType::Initial {
                let n = r.varint("token length")?;
                packet.token = r.take(usize_of(n), "token")?;
            }
            let length = usize_of(r.varint("length")?);
            packet.body_offset = r.position();
            r.take(length, "packet payload")?;
            packet.bytes = buf.get(..r.position()).unwrap_or(buf);
        }
    }
    Ok(packet)
}

/// The long-header packets coalesced in one datagram (RFC 9000 §12.2), each
/// with its offset in the datagram. Iteration stops at a short header (the
/// rest is one 1-RTT packet), after a Retry or Version Negotiation (they
/// fill the datagram) and after the first error.
#[derive(Clone, Debug)]
pub struct CoalescedPackets<'a> {
    pub(super) datagram: &'a [u8],
    pub(super) offset: usize,
    pub(super) done: bool,
}

impl<'a> CoalescedPackets<'a> {
    pub fn new(datagram: &'a [u8]) -> Self {
        CoalescedPackets {
            datagram,
            offset: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for CoalescedPackets<'a> {
    type Item = Result<(usize, LongPacket<'a>), QuicError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.datagram.get(self.offset..).unwrap_or(&[]);
        match rest.first() {
            Some(b) if b & 0x80 != 0 => {}
            _ => {
                self.done = true;
                return None;
            }
        }
        match parse_long_packet(rest) {
            Ok(p) => {
                let at = self.offset;
                match p.packet_type {
                    LongPacketType::Retry | LongPacketType::VersionNegotiation => self.done = true,
                    _ => self.offset += p.bytes.len(),
                }
                Some(Ok((at, p)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
