//! Google QUIC (Q0xx): public-flags headers, the CHLO message and its tags.

use super::*;

/// A Google QUIC handshake message (CHLO): a tag, then a map of 4-byte tags
/// to values (each index entry holds the end offset of its value), all
/// little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GquicChlo<'a> {
    pub(super) tag: [u8; 4],
    pub(super) index: &'a [u8],
    pub(super) values: &'a [u8],
}

impl<'a> GquicChlo<'a> {
    /// The tag of the server name.
    pub const SNI: [u8; 4] = *b"SNI\0";
    /// More entries than any CHLO carries.
    pub const MAX_TAGS: usize = 128;

    /// Reads the message at the start of `data`; returns it and its length.
    /// A message cut short is [`QuicError::Truncated`].
    pub fn parse(data: &'a [u8]) -> Result<(Self, usize), QuicError> {
        let mut r = Reader::new(data);
        let tag = r.take(4, "CHLO tag")?;
        if tag != b"CHLO" {
            return Err(QuicError::MalformedChlo("message tag is not CHLO"));
        }
        let n = usize::from(r.uint(2, false, "CHLO tag count")? as u16);
        if n > Self::MAX_TAGS {
            return Err(QuicError::MalformedChlo("too many tags"));
        }
        r.take(2, "CHLO padding")?;
        let index = r.take(8 * n, "CHLO tag index")?;
        let mut end = 0u32;
        for e in index.chunks_exact(8) {
            let e_end = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            if e_end < end {
                return Err(QuicError::MalformedChlo("value offsets go backwards"));
            }
            end = e_end;
        }
        let values = r.take(end as usize, "CHLO values")?;
        Ok((
            GquicChlo {
                tag: *b"CHLO",
                index,
                values,
            },
            r.position(),
        ))
    }

    /// The message tag (`CHLO`).
    pub fn message_tag(&self) -> [u8; 4] {
        self.tag
    }

    /// The tags and their values, in order.
    pub fn iter(&self) -> impl Iterator<Item = ([u8; 4], &'a [u8])> + 'a {
        let values = self.values;
        let mut start = 0usize;
        self.index.chunks_exact(8).map(move |e| {
            let end = u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
            let v = values.get(start..end).unwrap_or(&[]);
            start = end;
            ([e[0], e[1], e[2], e[3]], v)
        })
    }

    pub fn get(&self, tag: [u8; 4]) -> Option<&'a [u8]> {
        self.iter().find(|(t, _)| *t == tag).map(|(_, v)| v)
    }

    /// The server name the client asked for.
    pub fn sni(&self) -> Option<&'a [u8]> {
        self.get(Self::SNI)
    }
}

/// A Google QUIC packet sent in the clear: Q024–Q043 with the public
/// header, or Q046 with its long header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GquicPlainPacket<'a> {
    pub version: QuicVersion,
    pub connection_id: &'a [u8],
    pub packet_number: u64,
    /// The frames, after the 12-byte NULL-encryption hash (and, before
    /// Q034, the private flags).
    pub frames: &'a [u8],
    pub(super) big_endian: bool,
}

/// Public flags of the gQUIC public header.
pub(super) mod public_flags {
    pub const VERSION: u8 = 0x01;
    pub const RESET: u8 = 0x02;
    pub const CID_8: u8 = 0x08;
}

/// True when `buf` opens like a client's first gQUIC packet with the public
/// header: version and 8-byte connection ID flags, no reset, and a `Q0nn`
/// version at bytes 9..13.
/// A cheap first look: could this datagram be QUIC at all (an IETF long
/// header with the fixed bit, or a Google QUIC public header with a
/// version)? Used to avoid setting up a tracker for other UDP traffic.
pub fn might_be_quic(buf: &[u8]) -> bool {
    matches!(buf.first(), Some(b) if b & 0xc0 == 0xc0) || looks_like_gquic_public(buf)
}

pub fn looks_like_gquic_public(buf: &[u8]) -> bool {
    let Some(&flags) = buf.first() else {
        return false;
    };
    let Some(v) = buf.get(9..13) else {
        return false;
    };
    flags & 0x80 == 0
        && flags & public_flags::VERSION != 0
        && flags & public_flags::RESET == 0
        && flags & public_flags::CID_8 != 0
        && QuicVersion(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
            .google()
            .is_some_and(|(l, _)| l == b'Q')
}

/// Reads a client's plaintext gQUIC packet (Q024–Q043 or Q046).
pub fn parse_gquic_plain(buf: &[u8]) -> Result<GquicPlainPacket<'_>, QuicError> {
    let mut r = Reader::new(buf);
    let flags = r.u8("gQUIC flags")?;
    if flags & 0x80 != 0 {
        // Q046 long header: 4-bit connection ID lengths (0, or n + 3).
        let version = QuicVersion(r.u32("version")?);
        if version != QuicVersion::GQUIC_Q046 {
            return Err(QuicError::UnsupportedVersion(version));
        }
        let lens = r.u8("connection ID lengths")?;
        let len = |n: u8| if n == 0 { 0 } else { usize::from(n) + 3 };
        let dcid = r.take(len(lens >> 4), "destination connection ID")?;
        r.take(len(lens & 0x0f), "source connection ID")?;
        let pn_len = usize::from(flags & 0x03) + 1;
        let packet_number = r.uint(pn_len, true, "packet number")?;
        r.take(12, "message authentication hash")?;
        return Ok(GquicPlainPacket {
            version,
            connection_id: dcid,
            packet_number,
            frames: r.rest(),
            big_endian: true,
        });
    }
    if flags & public_flags::VERSION == 0
        || flags & public_flags::RESET != 0
        || flags & public_flags::CID_8 == 0
    {
        return Err(QuicError::MalformedHeader(
            "gQUIC public header without version and 8-byte connection ID",
        ));
    }
    let connection_id = r.take(8, "connection ID")?;
    let version = QuicVersion(r.u32("version")?);
    let n = match version.google() {
        Some((b'Q', n)) if (24..=43).contains(&n) => n,
        _ => return Err(QuicError::UnsupportedVersion(version)),
    };
    let big_endian = n >= 39;
    let pn_len = [1, 2, 4, 6][usize::from((flags >> 4) & 0x03)];
    let packet_number = r.uint(pn_len, big_endian, "packet number")?;
    r.take(12, "message authentication hash")?;
    if n < 34 {
        r.u8("private flags")?;
    }
    Ok(GquicPlainPacket {
        version,
        connection_id,
        packet_number,
        frames: r.rest(),
        big_endian,
    })
}

impl<'a> GquicPlainPacket<'a> {
    /// The data of the first STREAM frame on stream 1 that opens with
    /// `CHLO`; `None` when the frames end (PADDING, or a frame type not
    /// read here) without one.
    pub fn chlo_bytes(&self) -> Result<Option<&'a [u8]>, QuicError> {
        let mut r = Reader::new(self.frames);
        let be = self.big_endian;
        while r.remaining() > 0 {
            let ty = r.u8("frame type")?;
            match ty {
                0x00 => return Ok(None),
                0x07 => {}
                t if t & 0x80 != 0 => {
                    let id_len = usize::from(t & 0x03) + 1;
                    let off_code = usize::from((t >> 2) & 0x07);
                    let off_len = if off_code == 0 { 0 } else { off_code + 1 };
                    let stream = r.uint(id_len, be, "stream ID")?;
                    r.uint(off_len, be, "stream offset")?;
                    let len = if t & 0x20 != 0 {
                        usize_of(r.uint(2, be, "stream data length")?)
                    } else {
                        r.remaining()
                    };
                    let data = r.take(len, "stream data")?;
                    if stream == 1 && data.starts_with(b"CHLO") {
                        return Ok(Some(data));
                    }
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}
