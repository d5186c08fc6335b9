//! Reading untrusted bytes: checked integer reads at an offset, and one
//! [`Cursor`] that every parser walks a structure with.
//!
//! Nothing here indexes without a check or panics, whatever the input: a
//! read past the end is `None` (the helpers) or a [`ReadError`] that names
//! the field and the offset (the cursor). Parsers with errors of their own
//! convert a `ReadError` with `From`.

/// Where `needle` first occurs in `hay`: candidates found by a vectorised
/// scan for the needle's first byte, each compared in full. Needles are
/// short constants (`\r\n\r\n`, a keyword), so a candidate costs a few
/// byte compares, and nothing is built per call (a general substring
/// searcher's setup cost more than the search on a request head).
#[inline]
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, &hay[from..]) {
        let at = from + i;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The high bit of each byte of `w` equal to `byte`, and no other bit
/// (exact: no carry crosses a byte).
#[inline]
fn byte_bits(w: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let t = w ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !(((t & LOW7) + LOW7) | t) & !LOW7
}

/// Eight bytes at `at` as a little-endian word (the caller knows they are
/// there).
#[inline]
fn word(hay: &[u8], at: usize) -> u64 {
    let w = &hay[at..at + 8];
    u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
}

/// Where `byte` occurs in `hay`, last to first, eight bytes tested a step
/// (a word's occurrences found at once) and the first few one by one. For
/// short texts with many occurrences (a name's dots) it costs a fraction
/// of a vector search started for each (measured on a name's dots: 467
/// instructions a lookup against 620 with a byte loop; on a request
/// head's longer lines a vector search per line is faster).
pub fn each_back(hay: &[u8], byte: u8) -> EachBack<'_> {
    EachBack {
        hay,
        byte,
        end: hay.len(),
        at: 0,
        bits: 0,
    }
}

/// [`each_back`]'s iterator.
pub struct EachBack<'a> {
    hay: &'a [u8],
    byte: u8,
    /// Bytes before it are not tested yet.
    end: usize,
    /// The word tested last starts here; its occurrences not yet given
    /// are the high bits of their bytes in `bits`.
    at: usize,
    bits: u64,
}

impl Iterator for EachBack<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.bits != 0 {
                let bit = 63 - self.bits.leading_zeros() as usize;
                self.bits &= !(1 << bit);
                return Some(self.at + bit / 8);
            }
            if self.end >= 8 {
                self.end -= 8;
                self.at = self.end;
                self.bits = byte_bits(word(self.hay, self.at), self.byte);
                continue;
            }
            while self.end > 0 {
                self.end -= 1;
                if self.hay[self.end] == self.byte {
                    return Some(self.end);
                }
            }
            return None;
        }
    }
}

/// A big-endian `u16` at `at`.
#[inline]
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(array(b, at)?))
}

/// A big-endian `u32` at `at`.
#[inline]
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(array(b, at)?))
}

/// A big-endian `u64` at `at`.
#[inline]
pub fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(array(b, at)?))
}

/// A little-endian `u32` at `at`.
#[inline]
pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(array(b, at)?))
}

/// A little-endian `u64` at `at`.
#[inline]
pub fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(array(b, at)?))
}

/// `N` bytes at `at`.
#[inline]
pub fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// A big-endian `u16` in the field `f` of a header whose length was
/// checked when its view was made (smoltcp's `mod field` ranges): 0 if the
/// field is not all there, which a checked view rules out.
#[inline]
pub fn field16(b: &[u8], f: std::ops::Range<usize>) -> u16 {
    be16(b, f.start).unwrap_or(0)
}

/// A big-endian `u32` in the field `f`; see [`field16`].
#[inline]
pub fn field32(b: &[u8], f: std::ops::Range<usize>) -> u32 {
    be32(b, f.start).unwrap_or(0)
}

/// Why a [`Cursor`] read failed. `what` names the field, `offset` is from
/// the start of the outermost structure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A field, or a length, runs past the end of what encloses it.
    #[error("{what} at offset {offset}: {needed} bytes needed, {available} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// Bytes left over after the last field of a structure.
    #[error("{what} at offset {offset}: {extra} bytes after its end")]
    Trailing {
        what: &'static str,
        offset: usize,
        extra: usize,
    },
    /// A list of 16-bit values of odd length.
    #[error("{what} at offset {offset}: odd length for a list of 16-bit values")]
    OddLength { what: &'static str, offset: usize },
}

/// A read position over borrowed bytes. Every read checks the length first.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the outermost structure, for errors.
    base: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Position in this cursor's bytes.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Position in the outermost structure.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next byte, not consumed.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The bytes from position `start` to the current one.
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or(&[])
    }

    /// The error for a field of `n` bytes that is not all there.
    pub fn short(&self, what: &'static str, n: usize) -> ReadError {
        ReadError::Truncated {
            what,
            offset: self.offset(),
            needed: n,
            available: self.remaining(),
        }
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ReadError> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end));
        match slice {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.short(what, n)),
        }
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ReadError> {
        let short = self.short(what, N);
        self.take(N, what)?.try_into().map_err(|_| short)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, ReadError> {
        self.array::<1>(what).map(|[b]| b)
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, ReadError> {
        self.array::<2>(what).map(u16::from_be_bytes)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, ReadError> {
        self.array::<4>(what).map(u32::from_be_bytes)
    }

    /// An unsigned integer of `n` (at most 8) bytes.
    pub fn uint(
        &mut self,
        n: usize,
        big_endian: bool,
        what: &'static str,
    ) -> Result<u64, ReadError> {
        let s = self.take(n.min(8), what)?;
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        Ok(if big_endian {
            s.iter().fold(0, fold)
        } else {
            s.iter().rev().fold(0, fold)
        })
    }

    /// A QUIC variable-length integer (RFC 9000 §16).
    pub fn varint(&mut self, what: &'static str) -> Result<u64, ReadError> {
        let first = self.peek().ok_or_else(|| self.short(what, 1))?;
        let s = self.take(1usize << (first >> 6), what)?;
        Ok(s.iter()
            .skip(1)
            .fold(u64::from(first & 0x3f), |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// The next `n` bytes as a cursor of their own (offsets in errors stay
    /// those of the outermost structure).
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Cursor<'a>, ReadError> {
        let base = self.offset();
        let buf = self.take(n, what)?;
        Ok(Cursor { buf, pos: 0, base })
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self, what: &'static str) -> Result<Cursor<'a>, ReadError> {
        let n = usize::from(self.u8(what)?);
        self.sub(n, what)
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self, what: &'static str) -> Result<Cursor<'a>, ReadError> {
        let n = usize::from(self.u16(what)?);
        self.sub(n, what)
    }

    /// Skips the bytes equal to `b`.
    pub fn skip_while(&mut self, b: u8) {
        while self.peek() == Some(b) {
            self.pos += 1;
        }
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// The rest as a list of big-endian 16-bit values.
    pub fn u16_list(mut self, what: &'static str) -> Result<Vec<u16>, ReadError> {
        if self.remaining() % 2 != 0 {
            return Err(ReadError::OddLength {
                what,
                offset: self.offset(),
            });
        }
        let mut out = Vec::with_capacity(self.remaining() / 2);
        while !self.is_empty() {
            out.push(self.u16(what)?);
        }
        Ok(out)
    }

    /// Fails if anything is left.
    pub fn finish(&self, what: &'static str) -> Result<(), ReadError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(ReadError::Trailing {
                what,
                offset: self.offset(),
                extra,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, last first, as a byte loop finds them: texts
    /// of every length around a word's, the byte at each position, and
    /// bytes one bit or one step away from it (which a borrow or carry
    /// across bytes would confuse with it).
    #[test]
    fn each_back_finds_what_a_byte_loop_finds() {
        let mut rng = crate::classify::wireguard::controls::XorShift(0x5eed_d075);
        let mut rnd = move || rng.next();
        for byte in [b'.', b'\n', 0, 0x80, 0xff] {
            let near = [
                byte ^ 0x80,
                byte.wrapping_add(1),
                byte.wrapping_sub(1),
                byte ^ 1,
            ];
            for len in 0..40 {
                for _ in 0..100 {
                    let hay: Vec<u8> = (0..len)
                        .map(|_| match rnd() % 6 {
                            0 | 1 => byte,
                            2 => near[(rnd() % 4) as usize],
                            _ => rnd() as u8,
                        })
                        .collect();
                    let want: Vec<usize> = (0..len).rev().filter(|&i| hay[i] == byte).collect();
                    assert_eq!(each_back(&hay, byte).collect::<Vec<_>>(), want, "{hay:?}");
                }
            }
        }
    }

    #[test]
    fn find_agrees_with_a_window_scan() {
        let slow = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
        let hay = b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\nbody\r\n\r\n";
        for needle in [
            &b"\r\n\r\n"[..],
            b"\r\n",
            b"Host",
            b"x",
            b"body\r\n\r\n",
            b"\n\n",
            b"GET ",
        ] {
            for cut in 0..=hay.len() {
                assert_eq!(
                    find(&hay[..cut], needle),
                    slow(&hay[..cut], needle),
                    "{needle:?} in {cut}"
                );
            }
        }
        assert_eq!(find(b"abc", b""), Some(0));
        assert_eq!(find(b"", b"a"), None);
    }

    #[test]
    fn reads_and_bounds() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(be16(&b, 6), Some(0x0708));
        assert_eq!(be16(&b, 7), None);
        assert_eq!(be32(&b, 0), Some(0x0102_0304));
        assert_eq!(le32(&b, 0), Some(0x0403_0201));
        assert_eq!(be64(&b, 0), Some(0x0102_0304_0506_0708));
        assert_eq!(le64(&b, 1), None);
        assert_eq!(be32(&b, usize::MAX), None);
        assert_eq!(field16(&b, 2..4), 0x0304);
        assert_eq!(field32(&b, 6..10), 0, "a field past the end reads 0");
    }

    #[test]
    fn cursor_reads_and_reports_where() {
        let b = [0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x40, 0x25, 0x01];
        let mut c = Cursor::new(&b);
        let mut v = c.vec16("list").unwrap();
        assert_eq!(v.u8("x").unwrap(), 0xaa);
        assert_eq!(v.offset(), 3);
        assert_eq!(v.u16("y"), Ok(0xbbcc));
        assert_eq!(
            v.u8("z"),
            Err(ReadError::Truncated {
                what: "z",
                offset: 5,
                needed: 1,
                available: 0
            })
        );
        assert_eq!(c.varint("v").unwrap(), 0x25);
        assert_eq!(c.position(), 7);
        assert_eq!(
            c.finish("end"),
            Err(ReadError::Trailing {
                what: "end",
                offset: 7,
                extra: 1
            })
        );
        assert_eq!(c.since(5), &[0x40, 0x25]);
        assert_eq!(c.rest(), &[0x01]);
        assert!(c.u8("past").is_err());
        assert_eq!(
            Cursor::new(&[1, 2, 3]).u16_list("l"),
            Err(ReadError::OddLength {
                what: "l",
                offset: 0
            })
        );
        let mut le = Cursor::new(&[1, 2, 3]);
        assert_eq!(le.uint(3, false, "le").unwrap(), 0x030201);
    }
}
