//! The CRYPTO stream of the client's Initials, reassembled from frames
//! in any order across packets, up to a whole ClientHello.

use super::*;

/// Reassembles the CRYPTO stream of the Initial packet number space, from
/// frames in any order, duplicated or overlapping: the first copy of a byte
/// wins, later copies are not compared. Bounded by a cap (64 KiB by
/// default) and a number of disjoint pieces; once the first handshake
/// message's length is known, bytes past it are dropped.
///
/// [`client_hello`](Self::client_hello) returns the whole first handshake
/// message, its 4-byte header (type 1, 24-bit length) included.
#[derive(Clone, Debug)]
pub struct CryptoAssembler {
    pub(super) buf: Vec<u8>,
    /// Received byte ranges, sorted, disjoint and not adjacent.
    pub(super) ranges: Vec<Range<usize>>,
    pub(super) cap: usize,
    /// End of the first handshake message, once known.
    pub(super) message_end: Option<usize>,
}

impl Default for CryptoAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl CryptoAssembler {
    /// Default cap on reassembled bytes.
    pub const DEFAULT_CAP: usize = 64 * 1024;
    /// Most disjoint pieces held at once.
    pub const MAX_RANGES: usize = 128;

    pub fn new() -> Self {
        Self::with_cap(Self::DEFAULT_CAP)
    }

    pub fn with_cap(cap: usize) -> Self {
        CryptoAssembler {
            buf: Vec::new(),
            ranges: Vec::new(),
            cap,
            message_end: None,
        }
    }

    /// Forgets everything (a new connection attempt).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ranges.clear();
        self.message_end = None;
    }

    /// Bytes buffered, gaps included.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The bytes received from offset 0 without a gap.
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(r) if r.start == 0 => self.buf.get(..r.end).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Adds CRYPTO data at `offset`.
    pub fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), QuicError> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset.saturating_add(data.len() as u64);
        let limit = self.message_end.unwrap_or(self.cap);
        if offset >= limit as u64 {
            return match self.message_end {
                Some(_) => Ok(()), // after the first message: not wanted
                None => Err(QuicError::CryptoCapExceeded { end, cap: self.cap }),
            };
        }
        if end > limit as u64 && self.message_end.is_none() {
            return Err(QuicError::CryptoCapExceeded { end, cap: self.cap });
        }
        let start = offset as usize; // < limit ≤ cap
        let end = usize::try_from(end).unwrap_or(usize::MAX).min(limit);
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        // Copy only into the gaps: what is held stays.
        let mut cursor = start;
        for r in &self.ranges {
            if cursor >= end {
                break;
            }
            if r.end <= cursor {
                continue;
            }
            if r.start >= end {
                break;
            }
            if r.start > cursor {
                copy_part(&mut self.buf, data, start, cursor..r.start);
            }
            cursor = cursor.max(r.end);
        }
        if cursor < end {
            copy_part(&mut self.buf, data, start, cursor..end);
        }
        self.add_range(start..end)?;
        self.learn_message_end()
    }

    pub(super) fn add_range(&mut self, new: Range<usize>) -> Result<(), QuicError> {
        let mut merged = new;
        let mut i = 0;
        while i < self.ranges.len() {
            let r = &self.ranges[i];
            if r.end < merged.start {
                i += 1;
            } else if r.start > merged.end {
                break;
            } else {
                merged = merged.start.min(r.start)..merged.end.max(r.end);
                self.ranges.remove(i);
            }
        }
        self.ranges.insert(i, merged);
        if self.ranges.len() > Self::MAX_RANGES {
            return Err(QuicError::TooFragmented(Self::MAX_RANGES));
        }
        Ok(())
    }

    /// Once the 4-byte header is in, checks it and trims what lies beyond
    /// the message.
    pub(super) fn learn_message_end(&mut self) -> Result<(), QuicError> {
        if self.message_end.is_some() {
            return Ok(());
        }
        let Some(&[ty, a, b, c]) = self.contiguous().get(..4) else {
            return match self.contiguous().first() {
                Some(&ty) if ty != HANDSHAKE_CLIENT_HELLO => Err(QuicError::NotClientHello(ty)),
                _ => Ok(()),
            };
        };
        if ty != HANDSHAKE_CLIENT_HELLO {
            return Err(QuicError::NotClientHello(ty));
        }
        let end = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        if end > self.cap {
            return Err(QuicError::ClientHelloTooLarge {
                len: end,
                cap: self.cap,
            });
        }
        self.message_end = Some(end);
        self.buf.truncate(end);
        self.ranges.retain(|r| r.start < end);
        if let Some(last) = self.ranges.last_mut() {
            last.end = last.end.min(end);
        }
        Ok(())
    }

    /// The complete first handshake message, 4-byte header included;
    /// `Ok(None)` while bytes are missing.
    pub fn client_hello(&self) -> Result<Option<&[u8]>, QuicError> {
        let have = self.contiguous();
        if let Some(&ty) = have.first() {
            if ty != HANDSHAKE_CLIENT_HELLO {
                return Err(QuicError::NotClientHello(ty));
            }
        }
        Ok(self.message_end.and_then(|end| have.get(..end)))
    }
}

/// Copies the part `part` (absolute offsets) of `data`, which starts at
/// `data_start`, into `buf`.
pub(super) fn copy_part(buf: &mut [u8], data: &[u8], data_start: usize, part: Range<usize>) {
    let src = data.get(part.start - data_start..part.end - data_start);
    if let (Some(dst), Some(src)) = (buf.get_mut(part), src) {
        dst.copy_from_slice(src);
    }
}
