//! The record layer of one direction: records read as their bytes arrive,
//! handshake messages joined across records and split out of them, SSLv2
//! hellos recognised.

use super::*;

/// One handshake message: its type and its body (after the 4-byte header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeMessage<'a> {
    pub msg_type: HandshakeType,
    pub body: &'a [u8],
}

/// The handshake message at the start of a buffer, if it is all there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A whole message; `len` is the bytes it takes (4 + body length).
    Message {
        msg: HandshakeMessage<'a>,
        len: usize,
    },
    /// Only part of it: `needed` is the whole message's size once the
    /// header is there, else 4.
    NeedMore { needed: usize },
}

/// Splits the handshake message at the start of `buf` (type: 1 byte, body
/// length: 3 bytes, body; RFC 8446 §4). The same framing is used in TLS
/// records and in QUIC CRYPTO streams.
pub fn frame_handshake(buf: &[u8]) -> Framed<'_> {
    let Some(&[ty, l0, l1, l2]) = buf.get(..4) else {
        return Framed::NeedMore { needed: 4 };
    };
    let body_len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
    let len = 4 + body_len;
    match buf.get(4..len) {
        Some(body) => Framed::Message {
            msg: HandshakeMessage {
                msg_type: HandshakeType(ty),
                body,
            },
            len,
        },
        None => Framed::NeedMore { needed: len },
    }
}

/// What a [`HandshakeReader`] says after a chunk. `NotTls`,
/// `Sslv2ClientHello`, `Malformed` and `Overflow` are final: later chunks
/// are ignored and return the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// No whole message waits; more bytes are needed.
    NeedMore,
    /// At least one whole message waits in [`HandshakeReader::next_message`].
    Ready,
    /// The stream does not start with a TLS record.
    NotTls,
    /// The stream starts with an SSLv2-compatible ClientHello.
    Sslv2ClientHello,
    /// It started as TLS, but a later record header is invalid.
    Malformed,
    /// More handshake data than the cap.
    Overflow,
}

impl Feed {
    /// Will the reader ignore all further input?
    pub fn is_final(self) -> bool {
        !matches!(self, Feed::NeedMore | Feed::Ready)
    }
}

pub(super) const RECORD_HEADER_LEN: usize = 5;

/// Reads the handshake messages out of one direction of a TLS-over-TCP
/// stream. Feed it bytes in order with [`push`](Self::push) and take the
/// whole messages with [`next_message`](Self::next_message) after every
/// push, whatever the push returned: messages completed before a final
/// verdict stay readable.
///
/// Memory: one buffer of handshake bytes, at most `cap` long, holding only
/// messages not yet taken (plus the one being assembled). Records of other
/// types are skipped without copying.
#[derive(Clone, Debug)]
pub struct HandshakeReader {
    pub(super) cap: usize,
    /// Stream bytes consumed so far.
    pub(super) consumed: u64,
    /// Whole record headers read so far.
    pub(super) records: u64,
    /// The record header being assembled, and how much of it is there.
    pub(super) header: [u8; RECORD_HEADER_LEN],
    pub(super) header_len: usize,
    /// The current record's type and the payload bytes still to come;
    /// `in_record` is false between records.
    pub(super) record_type: ContentType,
    pub(super) record_left: usize,
    pub(super) in_record: bool,
    /// Handshake bytes, from the first message not yet taken.
    pub(super) hs: Vec<u8>,
    /// Start of the next message to hand out.
    pub(super) hs_pos: usize,
    /// End of the last whole message found in `hs`.
    pub(super) complete_end: usize,
    pub(super) verdict: Option<Feed>,
    pub(super) reason: Option<TlsError>,
    /// Past the hellos: record headers are read, payloads skipped whatever
    /// their type (later handshake messages may be encrypted).
    pub(super) headers_only: bool,
}

impl Default for HandshakeReader {
    fn default() -> Self {
        Self::new()
    }
}

impl HandshakeReader {
    /// A reader with the [`DEFAULT_CAP`].
    pub fn new() -> Self {
        Self::with_cap(DEFAULT_CAP)
    }

    /// A reader that buffers at most `cap` bytes of handshake data.
    pub fn with_cap(cap: usize) -> Self {
        HandshakeReader {
            cap,
            consumed: 0,
            records: 0,
            header: [0; RECORD_HEADER_LEN],
            header_len: 0,
            record_type: ContentType(0),
            record_left: 0,
            in_record: false,
            hs: Vec::new(),
            hs_pos: 0,
            complete_end: 0,
            verdict: None,
            reason: None,
            headers_only: false,
        }
    }

    /// `Some(true)` once the first record header (or an SSLv2-compatible
    /// ClientHello) has been read whole, `Some(false)` once the stream was
    /// refused as [`Feed::NotTls`], `None` before either.
    pub fn is_tls(&self) -> Option<bool> {
        match self.verdict {
            Some(Feed::NotTls) => Some(false),
            Some(Feed::Sslv2ClientHello) => Some(true),
            _ if self.records > 0 => Some(true),
            _ => None,
        }
    }

    /// Why the reader stopped (with the stream offset, or the SSLv2 hello's
    /// version), once a final [`Feed`] was returned.
    pub fn stop_reason(&self) -> Option<&TlsError> {
        self.reason.as_ref()
    }

    /// Whole, valid record headers read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Stream bytes consumed so far.
    pub fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// Handshake bytes held: messages not yet taken and the one being
    /// assembled.
    pub fn buffered(&self) -> usize {
        self.hs.len().saturating_sub(self.hs_pos)
    }

    /// Feeds the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) -> Feed {
        self.push_with(bytes, &mut |_, _| {})
    }

    /// From now on, reads record headers only: payloads are skipped, no
    /// handshake message is assembled (what follows the hellos).
    pub fn headers_only(&mut self) {
        self.headers_only = true;
        self.hs = Vec::new();
        self.hs_pos = 0;
        self.complete_end = 0;
    }

    /// Feeds the next bytes of the stream, telling `on_record` the type and
    /// length of each record header as it completes.
    pub fn push_with(
        &mut self,
        bytes: &[u8],
        on_record: &mut dyn FnMut(ContentType, usize),
    ) -> Feed {
        if let Some(verdict) = self.verdict {
            return verdict;
        }
        self.compact();
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.in_record {
                let n = self.record_left.min(rest.len());
                let (payload, tail) = rest.split_at(n);
                rest = tail;
                if self.record_type == ContentType::HANDSHAKE && !self.headers_only {
                    if let Err(e) = self.append(payload) {
                        return self.stop(Feed::Overflow, e);
                    }
                }
                self.consumed += n as u64;
                self.record_left -= n;
                self.in_record = self.record_left > 0;
            } else {
                let have = self.header_len;
                let n = (RECORD_HEADER_LEN - have).min(rest.len());
                let (part, tail) = rest.split_at(n);
                rest = tail;
                if let Some(dst) = self.header.get_mut(have..have + n) {
                    dst.copy_from_slice(part);
                }
                self.header_len += n;
                self.consumed += n as u64;
                if let Err((verdict, e)) = self.check_header() {
                    return self.stop(verdict, e);
                }
                if self.header_len == RECORD_HEADER_LEN {
                    let [ty, _, _, l0, l1] = self.header;
                    self.records += 1;
                    self.header_len = 0;
                    self.record_type = ContentType(ty);
                    self.record_left = usize::from(u16::from_be_bytes([l0, l1]));
                    self.in_record = self.record_left > 0;
                    on_record(self.record_type, self.record_left);
                }
            }
        }
        if self.complete_end > self.hs_pos {
            Feed::Ready
        } else {
            Feed::NeedMore
        }
    }

    /// The next whole handshake message, in stream order.
    pub fn next_message(&mut self) -> Option<HandshakeMessage<'_>> {
        let start = self.hs_pos;
        match frame_handshake(self.hs.get(start..self.complete_end)?) {
            Framed::Message { msg, len } => {
                self.hs_pos = start + len;
                Some(msg)
            }
            Framed::NeedMore { .. } => None,
        }
    }

    pub(super) fn stop(&mut self, verdict: Feed, reason: TlsError) -> Feed {
        self.verdict = Some(verdict);
        self.reason = Some(reason);
        verdict
    }

    /// Drops the messages already handed out.
    pub(super) fn compact(&mut self) {
        if self.hs_pos == 0 {
            return;
        }
        if self.hs_pos >= self.hs.len() {
            self.hs.clear();
        } else {
            self.hs.drain(..self.hs_pos);
        }
        self.complete_end = self.complete_end.saturating_sub(self.hs_pos);
        self.hs_pos = 0;
    }

    /// Appends handshake payload and moves `complete_end` over every
    /// message now whole.
    pub(super) fn append(&mut self, payload: &[u8]) -> Result<(), TlsError> {
        let needed = self.buffered() + payload.len();
        if needed > self.cap {
            return Err(TlsError::Overflow {
                needed,
                cap: self.cap,
            });
        }
        self.hs.extend_from_slice(payload);
        loop {
            let tail = self.hs.get(self.complete_end..).unwrap_or(&[]);
            match frame_handshake(tail) {
                Framed::Message { len, .. } => self.complete_end += len,
                Framed::NeedMore { needed } => {
                    let needed = needed + (self.complete_end - self.hs_pos);
                    if needed > self.cap {
                        return Err(TlsError::Overflow {
                            needed,
                            cap: self.cap,
                        });
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Checks the record header bytes read so far, as soon as each arrives.
    pub(super) fn check_header(&self) -> Result<(), (Feed, TlsError)> {
        let h = self.header.get(..self.header_len).unwrap_or(&[]);
        let start = self.consumed.saturating_sub(self.header_len as u64);
        let first = self.records == 0;
        let fail = |at: usize, reason: &'static str| {
            let byte = h.get(at).copied().unwrap_or(0);
            if first {
                (
                    Feed::NotTls,
                    TlsError::NotTls {
                        offset: start + at as u64,
                        byte,
                        reason,
                    },
                )
            } else {
                (
                    Feed::Malformed,
                    TlsError::BadRecord {
                        offset: start,
                        reason,
                    },
                )
            }
        };
        let Some(&b0) = h.first() else {
            return Ok(());
        };
        if first && b0 & 0x80 != 0 {
            return check_sslv2(h, start);
        }
        if !(20..=24).contains(&b0) {
            return Err(fail(0, "content type not 20-24"));
        }
        if let Some(&major) = h.get(1) {
            if major != 3 {
                return Err(fail(1, "record version major not 3"));
            }
        }
        if let Some(&[l0, l1]) = h.get(3..5) {
            if usize::from(u16::from_be_bytes([l0, l1])) > MAX_RECORD_LEN {
                return Err(fail(3, "record length over 2^14 + 2048"));
            }
        }
        Ok(())
    }
}

/// The 2-byte-header SSLv2 ClientHello that TLS clients once sent for
/// compatibility (RFC 5246 Appendix E.2): length with the high bit set, then
/// msg_type 1 and the highest version offered (0x0002 for SSL 2.0 itself,
/// 0x03xx for SSL 3.0 and TLS).
pub(super) fn check_sslv2(h: &[u8], start: u64) -> Result<(), (Feed, TlsError)> {
    let not_tls = |at: usize, reason: &'static str| {
        (
            Feed::NotTls,
            TlsError::NotTls {
                offset: start + at as u64,
                byte: h.get(at).copied().unwrap_or(0),
                reason,
            },
        )
    };
    if let Some(&ty) = h.get(2) {
        if ty != 1 {
            return Err(not_tls(2, "high bit set but not an SSLv2 CLIENT-HELLO"));
        }
    }
    if let Some(&major) = h.get(3) {
        if major != 0 && major != 3 {
            return Err(not_tls(3, "SSLv2 hello with an unknown version"));
        }
    }
    let Some(&[l0, l1, _, major, minor]) = h.get(..5) else {
        return Ok(());
    };
    if major == 0 && minor != 2 {
        return Err(not_tls(4, "SSLv2 hello with an unknown version"));
    }
    // msg_type, version and three 2-byte lengths at the least.
    if u16::from_be_bytes([l0 & 0x7f, l1]) < 9 {
        return Err(not_tls(1, "SSLv2 hello too short"));
    }
    let version = u16::from_be_bytes([major, minor]);
    Err((
        Feed::Sslv2ClientHello,
        TlsError::Sslv2ClientHello { version },
    ))
}
