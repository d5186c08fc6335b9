//! The frames of a decrypted Initial: CRYPTO, PADDING, PING, ACK and
//! CONNECTION_CLOSE read; anything else ends the packet's reading.

use super::*;

/// ECN counts of an ACK frame of type 0x03.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcnCounts {
    pub ect0: u64,
    pub ect1: u64,
    pub ce: u64,
}

/// An ACK frame (RFC 9000 §19.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckFrame<'a> {
    pub largest: u64,
    pub delay: u64,
    pub first_range: u64,
    pub range_count: u64,
    /// The encoded (gap, length) pairs after the first range, already
    /// checked to be well formed.
    pub(super) ranges: &'a [u8],
    pub ecn: Option<EcnCounts>,
}

impl<'a> AckFrame<'a> {
    /// The (gap, ack range length) pairs after the first range.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let mut r = Reader::new(self.ranges);
        std::iter::from_fn(move || {
            let gap = r.varint("ack gap").ok()?;
            let len = r.varint("ack range").ok()?;
            Some((gap, len))
        })
    }
}

/// A CONNECTION_CLOSE frame (RFC 9000 §19.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionClose<'a> {
    /// Type 0x1d: an application error; 0x1c: a transport error.
    pub application: bool,
    pub error_code: u64,
    /// The frame type that caused a transport error (0x1c only).
    pub frame_type: Option<u64>,
    pub reason: &'a [u8],
}

/// A frame of an Initial packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING (for Google versions, the rest of the packet).
    Padding {
        len: usize,
    },
    Ping,
    Ack(AckFrame<'a>),
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    ConnectionClose(ConnectionClose<'a>),
}

/// The frames of a decrypted Initial payload. Yields an error for an
/// unknown or malformed frame, then stops.
#[derive(Clone)]
pub struct Frames<'a> {
    pub(super) r: Reader<'a>,
    pub(super) google: bool,
    pub(super) done: bool,
}

impl<'a> Frames<'a> {
    /// Frames with RFC 9000 type numbers.
    pub fn new(payload: &'a [u8]) -> Self {
        Frames {
            r: Reader::new(payload),
            google: false,
            done: false,
        }
    }

    /// Frames with Google QUIC's type numbers (Q050, T050, T051): PADDING
    /// 0x00 fills the rest of the packet, PING is 0x07, CRYPTO 0x08.
    pub fn google(payload: &'a [u8]) -> Self {
        Frames {
            google: true,
            ..Frames::new(payload)
        }
    }

    pub(super) fn frame(&mut self, at: usize, ty: u64) -> Result<Frame<'a>, QuicError> {
        let r = &mut self.r;
        let malformed = |why| QuicError::MalformedFrame {
            frame_type: FrameType(ty),
            offset: at,
            why,
        };
        let crypto = |r: &mut Reader<'a>| -> Result<Frame<'a>, QuicError> {
            let offset = r.varint("CRYPTO offset")?;
            let len = r.varint("CRYPTO length")?;
            if offset.saturating_add(len) > (1 << 62) - 1 {
                return Err(malformed("offset + length over 2^62 - 1"));
            }
            let data = r.take(usize_of(len), "CRYPTO data")?;
            Ok(Frame::Crypto { offset, data })
        };
        if self.google {
            return match ty {
                0x00 => Ok(Frame::Padding {
                    len: 1 + r.rest().len(),
                }),
                0x07 => Ok(Frame::Ping),
                0x08 => crypto(r),
                _ => Err(QuicError::UnknownFrame {
                    frame_type: FrameType(ty),
                    offset: at,
                }),
            };
        }
        match ty {
            0x00 => {
                let start = r.position();
                r.skip_while(0);
                Ok(Frame::Padding {
                    len: 1 + r.position() - start,
                })
            }
            0x01 => Ok(Frame::Ping),
            0x02 | 0x03 => {
                let largest = r.varint("ACK largest")?;
                let delay = r.varint("ACK delay")?;
                let range_count = r.varint("ACK range count")?;
                let first_range = r.varint("ACK first range")?;
                if first_range > largest {
                    return Err(malformed("first range below packet 0"));
                }
                let start = r.position();
                // Each pair takes at least two bytes: a count beyond that
                // is caught before looping.
                if range_count > (r.remaining() / 2) as u64 {
                    return Err(r
                        .short("ACK ranges", usize_of(range_count).saturating_mul(2))
                        .into());
                }
                for _ in 0..range_count {
                    r.varint("ACK gap")?;
                    r.varint("ACK range")?;
                }
                let ranges = r.since(start);
                let ecn = if ty == 0x03 {
                    Some(EcnCounts {
                        ect0: r.varint("ECT0 count")?,
                        ect1: r.varint("ECT1 count")?,
                        ce: r.varint("ECN-CE count")?,
                    })
                } else {
                    None
                };
                Ok(Frame::Ack(AckFrame {
                    largest,
                    delay,
                    first_range,
                    range_count,
                    ranges,
                    ecn,
                }))
            }
            0x06 => crypto(r),
            0x1c | 0x1d => {
                let application = ty == 0x1d;
                let error_code = r.varint("error code")?;
                let frame_type = if application {
                    None
                } else {
                    Some(r.varint("frame type")?)
                };
                let n = r.varint("reason length")?;
                let reason = r.take(usize_of(n), "reason phrase")?;
                Ok(Frame::ConnectionClose(ConnectionClose {
                    application,
                    error_code,
                    frame_type,
                    reason,
                }))
            }
            _ => Err(QuicError::UnknownFrame {
                frame_type: FrameType(ty),
                offset: at,
            }),
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, QuicError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.r.remaining() == 0 {
            return None;
        }
        let at = self.r.position();
        let ty = if self.google {
            self.r.u8("frame type").map(u64::from)
        } else {
            self.r.varint("frame type")
        };
        let item = ty
            .map_err(QuicError::from)
            .and_then(|ty| self.frame(at, ty));
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}
