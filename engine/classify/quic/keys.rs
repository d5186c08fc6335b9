//! Initial packet protection (RFC 9001 §5): the secrets derived from the
//! DCID with each version's salt, header protection removed, the payload
//! opened with AES-128-GCM.

use super::*;

/// Initial salts, one per family of versions (see the table in the module
/// documentation for where each comes from and how it was checked).
pub(super) mod salt {
    pub const V1: [u8; 20] = [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];
    pub const V2: [u8; 20] = [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ];
    pub const V2_DRAFT: [u8; 20] = [
        0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47, 0x18, 0x4a, 0x1d, 0x62, 0xca, 0x57, 0x04, 0x06,
        0xea, 0x7a, 0xe3, 0xe5, 0xd3,
    ];
    pub const DRAFT_29: [u8; 20] = [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ];
    pub const DRAFT_23: [u8; 20] = [
        0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63,
        0x65, 0xbe, 0xf9, 0xf5, 0x02,
    ];
    pub const DRAFT_22: [u8; 20] = [
        0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e,
        0xbd, 0x7a, 0x02, 0x64, 0x4a,
    ];
    pub const Q050: [u8; 20] = [
        0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3, 0xa7,
        0xf0, 0xd3, 0xb5, 0x6b, 0x45,
    ];
    pub const T050: [u8; 20] = [
        0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36,
        0x7c, 0x60, 0x48, 0x83, 0x10,
    ];
    pub const T051: [u8; 20] = [
        0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8,
        0xcc, 0xda, 0x6e, 0x03, 0x3d,
    ];
}

/// The HKDF labels of a version: "quic key" or "quicv2 key", and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Labels {
    V1,
    V2,
}

impl Labels {
    pub(super) fn key(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic key",
            Labels::V2 => b"quicv2 key",
        }
    }
    pub(super) fn iv(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic iv",
            Labels::V2 => b"quicv2 iv",
        }
    }
    pub(super) fn hp(self) -> &'static [u8] {
        match self {
            Labels::V1 => b"quic hp",
            Labels::V2 => b"quicv2 hp",
        }
    }
}

/// How a version protects its Initial packets.
#[derive(Clone, Copy, Debug)]
pub(super) struct Protection {
    pub(super) salt: &'static [u8; 20],
    pub(super) labels: Labels,
}

pub(super) fn protection(v: QuicVersion) -> Option<Protection> {
    let p = |salt, labels| Some(Protection { salt, labels });
    match v {
        QuicVersion::V1 => p(&salt::V1, Labels::V1),
        QuicVersion::V2 => p(&salt::V2, Labels::V2),
        QuicVersion::V2_DRAFT => p(&salt::V2_DRAFT, Labels::V2),
        QuicVersion::MVFST_DRAFT_22 => p(&salt::DRAFT_22, Labels::V1),
        QuicVersion::MVFST_DRAFT_27 | QuicVersion::MVFST_EXPERIMENTAL => {
            p(&salt::DRAFT_23, Labels::V1)
        }
        QuicVersion::GQUIC_Q050 => p(&salt::Q050, Labels::V1),
        QuicVersion::GQUIC_T050 => p(&salt::T050, Labels::V1),
        QuicVersion::GQUIC_T051 => p(&salt::T051, Labels::V1),
        _ => match v.ietf_draft()? {
            22 => p(&salt::DRAFT_22, Labels::V1),
            23..=28 => p(&salt::DRAFT_23, Labels::V1),
            29..=32 => p(&salt::DRAFT_29, Labels::V1),
            33..=34 => p(&salt::V1, Labels::V1),
            _ => None,
        },
    }
}

/// The protections to try for a packet of `v`: its own, or for a reserved
/// (greasing) version those clients are seen to use.
pub(super) fn candidates(v: QuicVersion) -> impl Iterator<Item = Protection> {
    let own = protection(v);
    let greased: &[Protection] = if own.is_none() && v.is_reserved() {
        &[
            Protection {
                salt: &salt::V1,
                labels: Labels::V1,
            },
            Protection {
                salt: &salt::DRAFT_29,
                labels: Labels::V1,
            },
            Protection {
                salt: &salt::DRAFT_23,
                labels: Labels::V1,
            },
        ]
    } else {
        &[]
    };
    own.into_iter().chain(greased.iter().copied())
}

/// Whose Initial keys: the client's ("client in") or the server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, from a 32-byte
/// SHA-256 pseudorandom key.
pub(super) fn expand_label(prk: &[u8; 32], label: &[u8], out: &mut [u8]) {
    const PREFIX: &[u8] = b"tls13 ";
    let mut info = [0u8; 4 + 6 + 16];
    let full = PREFIX.len() + label.len();
    let n = 4 + full;
    let Ok(out_len) = u16::try_from(out.len()) else {
        return;
    };
    let Some(dst) = info.get_mut(..n) else {
        return;
    };
    dst[..2].copy_from_slice(&out_len.to_be_bytes());
    dst[2] = full as u8;
    dst[3..3 + PREFIX.len()].copy_from_slice(PREFIX);
    dst[3 + PREFIX.len()..3 + full].copy_from_slice(label);
    dst[3 + full] = 0; // empty context
    if let Ok(hk) = Hkdf::<Sha256>::from_prk(prk) {
        // Cannot fail for outputs up to 255 * 32 bytes.
        let ok = hk.expand(dst, out).is_ok();
        debug_assert!(ok);
    }
}

/// initial_secret = HKDF-Extract(salt, dcid).
pub(super) fn initial_secret(salt: &[u8; 20], dcid: &[u8]) -> [u8; 32] {
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    prk.into()
}

/// client_initial_secret or server_initial_secret.
pub(super) fn side_secret(initial: &[u8; 32], side: Side) -> [u8; 32] {
    let mut s = [0u8; 32];
    let label: &[u8] = match side {
        Side::Client => b"client in",
        Side::Server => b"server in",
    };
    expand_label(initial, label, &mut s);
    s
}

/// The AEAD key, IV and header protection key of one side's Initials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialSecrets {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

pub(super) fn derive_with(p: Protection, dcid: &[u8], side: Side) -> InitialSecrets {
    let secret = side_secret(&initial_secret(p.salt, dcid), side);
    let mut s = InitialSecrets {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&secret, p.labels.key(), &mut s.key);
    expand_label(&secret, p.labels.iv(), &mut s.iv);
    expand_label(&secret, p.labels.hp(), &mut s.hp);
    s
}

/// Derives the Initial secrets of `version` for the connection whose
/// client chose `dcid` (or that a Retry handed out).
pub fn derive_initial_secrets(
    version: QuicVersion,
    dcid: &[u8],
    side: Side,
) -> Result<InitialSecrets, QuicError> {
    let p = protection(version).ok_or(QuicError::UnsupportedVersion(version))?;
    Ok(derive_with(p, dcid, side))
}

/// Reconstructs a packet number from its `pn_len`-byte truncation and the
/// largest number seen in the space (RFC 9000 §17.1, Appendix A.3).
pub fn decode_packet_number(largest: u64, truncated: u64, pn_len: usize) -> u64 {
    let bits = (pn_len.clamp(1, 4) * 8) as u32;
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let expected = largest.saturating_add(1);
    let candidate = (expected & !mask) | (truncated & mask);
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// A connection ID of at most [`MAX_CID_LEN`] bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Cid {
    pub(super) len: u8,
    pub(super) bytes: [u8; MAX_CID_LEN],
}

impl Cid {
    pub(super) fn new(s: &[u8]) -> Option<Cid> {
        let mut bytes = [0u8; MAX_CID_LEN];
        bytes.get_mut(..s.len())?.copy_from_slice(s);
        Some(Cid {
            len: s.len() as u8,
            bytes,
        })
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Ready-to-use Initial ciphers for one side of one connection.
pub struct InitialKeys {
    pub(super) version: QuicVersion,
    pub(super) dcid: Cid,
    pub(super) hp: Aes128,
    pub(super) aead: Aes128Gcm,
    pub(super) iv: [u8; 12],
}

impl fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitialKeys")
            .field("version", &self.version)
            .field("dcid", &self.dcid)
            .finish_non_exhaustive()
    }
}

/// An Initial whose protection was removed: the payload is plaintext.
#[derive(Debug, PartialEq, Eq)]
pub struct OpenedPacket<'s> {
    pub packet_number: u64,
    /// The unprotected header (the AEAD's associated data).
    pub header: &'s [u8],
    pub payload: &'s [u8],
}

impl InitialKeys {
    /// Keys of `version` for `dcid` (at most 20 bytes).
    pub fn new(version: QuicVersion, dcid: &[u8], side: Side) -> Result<Self, QuicError> {
        let p = protection(version).ok_or(QuicError::UnsupportedVersion(version))?;
        let cid = Cid::new(dcid).ok_or(QuicError::ConnectionIdTooLong {
            which: "key derivation",
            len: dcid.len(),
        })?;
        Ok(Self::with(version, p, cid, side))
    }

    pub(super) fn with(version: QuicVersion, p: Protection, dcid: Cid, side: Side) -> Self {
        let s = derive_with(p, dcid.as_slice(), side);
        InitialKeys {
            version,
            dcid,
            hp: Aes128::new(&GenericArray::from(s.hp)),
            aead: Aes128Gcm::new(&GenericArray::from(s.key)),
            iv: s.iv,
        }
    }

    /// The header protection mask for a 16-byte sample (AES-128-ECB).
    pub(super) fn mask(&self, sample: &[u8]) -> [u8; 16] {
        let mut block = GenericArray::clone_from_slice(sample);
        self.hp.encrypt_block(&mut block);
        block.into()
    }

    pub(super) fn nonce(&self, pn: u64) -> [u8; 12] {
        let mut n = self.iv;
        for (d, p) in n[4..].iter_mut().zip(pn.to_be_bytes()) {
            *d ^= p;
        }
        n
    }

    /// Removes header and payload protection from `packet` (an Initial,
    /// 0-RTT or Handshake packet) into `scratch`. `largest_pn` is the
    /// largest packet number opened so far in this space, if any.
    pub fn open<'s>(
        &self,
        packet: &LongPacket<'_>,
        largest_pn: Option<u64>,
        scratch: &'s mut Vec<u8>,
    ) -> Result<OpenedPacket<'s>, QuicError> {
        let (pn, header_len) = self.open_into(packet, largest_pn, scratch)?;
        let (header, rest) = scratch.split_at(header_len);
        let payload = rest
            .get(..rest.len().saturating_sub(TAG_LEN))
            .unwrap_or(&[]);
        Ok(OpenedPacket {
            packet_number: pn,
            header,
            payload,
        })
    }

    /// As [`open`](Self::open); returns the packet number and the header
    /// length in `scratch` (the plaintext follows, then the 16-byte tag).
    pub(super) fn open_into(
        &self,
        packet: &LongPacket<'_>,
        largest_pn: Option<u64>,
        scratch: &mut Vec<u8>,
    ) -> Result<(u64, usize), QuicError> {
        let bytes = packet.bytes;
        let pn_at = packet.body_offset;
        let sample_at = pn_at.saturating_add(4);
        let sample = bytes
            .get(sample_at..sample_at.saturating_add(SAMPLE_LEN))
            .ok_or(QuicError::Truncated {
                what: "header protection sample",
                offset: bytes.len(),
                needed: (sample_at + SAMPLE_LEN).saturating_sub(bytes.len()),
            })?;
        let mask = self.mask(sample);
        scratch.clear();
        scratch.extend_from_slice(bytes);
        let first = scratch.first_mut().ok_or(QuicError::Authentication)?;
        *first ^= mask[0] & 0x0f;
        let pn_len = usize::from(*first & 0x03) + 1;
        let header_len = pn_at + pn_len;
        let pn_bytes = scratch
            .get_mut(pn_at..header_len)
            .ok_or(QuicError::Authentication)?;
        let mut truncated = 0u64;
        for (b, m) in pn_bytes.iter_mut().zip(&mask[1..]) {
            *b ^= m;
            truncated = (truncated << 8) | u64::from(*b);
        }
        let pn = match largest_pn {
            Some(l) => decode_packet_number(l, truncated, pn_len),
            None => truncated,
        };
        if scratch.len() < header_len + TAG_LEN {
            return Err(QuicError::Truncated {
                what: "AEAD tag",
                offset: scratch.len(),
                needed: header_len + TAG_LEN - scratch.len(),
            });
        }
        let (aad, rest) = scratch.split_at_mut(header_len);
        let (ciphertext, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let nonce = self.nonce(pn);
        self.aead
            .decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                aad,
                ciphertext,
                Tag::from_slice(tag),
            )
            .map_err(|_| QuicError::Authentication)?;
        Ok((pn, header_len))
    }
}
