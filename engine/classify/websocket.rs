//! WebSocket tunnels in clear: an HTTP/1.1 Upgrade to WebSocket, answered
//! `101`, whose first client frame carries what a proxy sends — bytes
//! that look fully encrypted (VMess, Shadowsocks, Trojan-over-WebSocket
//! without TLS) or a TLS record (a tunnelled TLS connection). A chat or a
//! browser's WebSocket sends text, or structured binary, first.
//!
//! The HTTP dissector hands its upgrade requests here ([`upgrade_head`])
//! and feeds the watch the bytes that follow ([`Watch::feed`]): the
//! server's response head (at most [`MAX_RESPONSE`] bytes) and the first
//! [`FRAME_BYTES`] bytes of the client's first frame. Nothing else is
//! kept, and the watch ends with the first frame.
//!
//! "Looks fully encrypted" is the test the Great Firewall of China was
//! found to apply to the first data packet (Wu et al., "How the Great
//! Firewall of China Detects and Blocks Fully Encrypted Traffic", USENIX
//! Security 2023), inverted: random bytes have 3.4 to 4.6 bits set per
//! byte on average, at most half of them printable, no run of
//! [`PRINTABLE_RUN`] printable bytes, and a non-printable byte among the
//! first six.

use super::dissector::{Confidence, Findings};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::obfuscation::{Class, Obfuscation};
use super::vpn::Value;
use crate::bytes::find;
use crate::flow::TO_SERVER;
use std::fmt;

/// Longest response head read for its status.
pub const MAX_RESPONSE: usize = 1024;
/// Bytes of the first frame kept: its header (at most 14) and the start
/// of its payload.
pub const FRAME_BYTES: usize = 14 + 256;
/// Least payload bytes judged.
pub const PAYLOAD_MIN: usize = 32;
/// Bits set per byte, in hundredths, that random bytes show (Wu et al.:
/// 3.4-4.6).
pub const POPCOUNT_MIN: usize = 340;
pub const POPCOUNT_MAX: usize = 460;
/// Printable bytes in a row that no random payload of this size shows.
pub const PRINTABLE_RUN: usize = 20;

/// What the watch saw (EVE `obfuscation.evidence[].what`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// The request asked for a WebSocket upgrade.
    Upgrade { len: usize },
    /// The server switched protocols.
    Switching { len: usize },
    /// The client's first frame.
    Frame {
        opcode: u8,
        len: u64,
        looks: &'static str,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Upgrade { len } => write!(
                f,
                "HTTP request head ({len} bytes) asks for an Upgrade to websocket"
            ),
            Clue::Switching { len } => {
                write!(f, "HTTP 101 Switching Protocols ({len}-byte head)")
            }
            Clue::Frame { opcode, len, looks } => write!(
                f,
                "client's first WebSocket frame (opcode {opcode}, {len} bytes) carries {looks}"
            ),
        }
    }
}

/// The length of the request head at the start of `stream` when it asks
/// for a WebSocket upgrade (an `Upgrade` header naming websocket).
pub fn upgrade_head(stream: &[u8]) -> Option<usize> {
    let end = find(stream, b"\r\n\r\n")? + 4;
    if !mentions_websocket(&stream[..end]) {
        // Most heads: no line to read.
        return None;
    }
    let asks = stream[..end].split(|&b| b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.iter().position(|&b| b == b':') {
            Some(c) => {
                line[..c].eq_ignore_ascii_case(b"upgrade")
                    && line[c + 1..]
                        .windows(9)
                        .any(|w| w.eq_ignore_ascii_case(b"websocket"))
            }
            None => false,
        }
    });
    asks.then_some(end)
}

/// Does `head` hold the word `websocket` in any case? Found by a
/// vectorised scan for its first letter.
fn mentions_websocket(head: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'w', b'W', &head[from..]) {
        let at = from + i;
        if head
            .get(at..at + 9)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"websocket"))
        {
            return true;
        }
        from = at + 1;
    }
    false
}

/// A WebSocket upgrade being watched.
#[derive(Debug)]
pub struct Watch {
    request: (u64, usize),
    response: Vec<u8>,
    switched: Option<(u64, usize)>,
    frame: Vec<u8>,
    frame_packet: u64,
}

/// What a feed gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Watching {
    More,
    /// Done: a finding, or nothing.
    Done(Option<Findings>),
}

impl Watch {
    /// An upgrade request of `head` bytes completed at `packet`; `rest` are
    /// the client bytes after it.
    pub fn new(packet: u64, head: usize, rest: &[u8]) -> Self {
        let mut w = Watch {
            request: (packet, head),
            response: Vec::new(),
            switched: None,
            frame: Vec::new(),
            frame_packet: packet,
        };
        w.take_frame(rest, packet);
        w
    }

    fn take_frame(&mut self, bytes: &[u8], packet: u64) {
        if self.frame.is_empty() && !bytes.is_empty() {
            self.frame_packet = packet;
        }
        let room = FRAME_BYTES.saturating_sub(self.frame.len());
        self.frame
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// The next bytes of `side`.
    pub fn feed(&mut self, side: usize, bytes: &[u8], packet: u64) -> Watching {
        if side == TO_SERVER {
            self.take_frame(bytes, packet);
        } else if self.switched.is_none() {
            let room = MAX_RESPONSE.saturating_sub(self.response.len());
            self.response
                .extend_from_slice(&bytes[..bytes.len().min(room)]);
            match find(&self.response, b"\r\n\r\n") {
                Some(e) => {
                    if !self.response.starts_with(b"HTTP/1.1 101 ") {
                        return Watching::Done(None);
                    }
                    self.switched = Some((packet, e + 4));
                }
                None if self.response.len() >= MAX_RESPONSE => return Watching::Done(None),
                None => {}
            }
        }
        match (self.switched, frame(&self.frame)) {
            (Some(s), Some(f)) => Watching::Done(self.judge(s, f)),
            (_, Some(Frame::Bad)) => Watching::Done(None),
            _ => Watching::More,
        }
    }

    fn judge(&self, switched: (u64, usize), f: Frame) -> Option<Findings> {
        let Frame::Data {
            opcode,
            len,
            payload,
        } = f
        else {
            return None;
        };
        let looks = looks(&payload)?;
        let popcount = popcount(&payload);
        let features = vec![
            (
                "upgrade_request_bytes",
                Value::Number(self.request.1 as u64),
            ),
            ("upgrade_response_bytes", Value::Number(switched.1 as u64)),
            ("frame_opcode", Value::Number(u64::from(opcode))),
            ("frame_bytes", Value::Number(len)),
            ("payload", Value::Text(looks)),
            ("bits_per_byte_x100", Value::Number(popcount as u64)),
            (
                "printable_percent",
                Value::Number((printable(&payload) * 100 / payload.len()) as u64),
            ),
        ];
        let clue = |packet, c| Evidence {
            packet,
            what: FactClue::Websocket(c),
        };
        let evidence = vec![
            clue(
                self.request.0,
                Clue::Upgrade {
                    len: self.request.1,
                },
            ),
            clue(switched.0, Clue::Switching { len: switched.1 }),
            clue(self.frame_packet, Clue::Frame { opcode, len, looks }),
        ];
        Some(Findings {
            facts: vec![Fact::Obfuscation(Box::new(Obfuscation {
                class: Class::WebsocketTunnel,
                suspects: Vec::new(),
                confidence: Confidence::Medium,
                features,
                evidence,
            }))],
            ..Findings::default()
        })
    }
}

/// A client frame's start.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// Not a masked client frame.
    Bad,
    /// Opcode, payload length and the unmasked start of the payload.
    Data {
        opcode: u8,
        len: u64,
        payload: Vec<u8>,
    },
}

/// The first frame in `b`, once its header and [`PAYLOAD_MIN`] bytes (or
/// all of a shorter payload) are there.
fn frame(b: &[u8]) -> Option<Frame> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let opcode = b0 & 0x0f;
    if b1 & 0x80 == 0 || b0 & 0x70 != 0 || !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
        return Some(Frame::Bad);
    }
    let (len, at) = match b1 & 0x7f {
        126 => (u64::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => {
            let raw: [u8; 8] = b.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(raw), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    let want = usize::try_from(len)
        .unwrap_or(usize::MAX)
        .min(FRAME_BYTES - 14);
    let have = b.get(at + 4..)?;
    if have.len() < want {
        return None;
    }
    let payload = have
        .iter()
        .take(want)
        .enumerate()
        .map(|(i, &x)| x ^ mask[i % 4])
        .collect();
    Some(Frame::Data {
        opcode,
        len,
        payload,
    })
}

fn is_printable(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

fn printable(p: &[u8]) -> usize {
    p.iter().filter(|&&b| is_printable(b)).count()
}

/// Bits set per byte, in hundredths.
fn popcount(p: &[u8]) -> usize {
    let bits: usize = p.iter().map(|b| b.count_ones() as usize).sum();
    bits * 100 / p.len().max(1)
}

/// What a first payload looks like, if it is a tunnel's: a TLS record
/// header, or random bytes.
fn looks(p: &[u8]) -> Option<&'static str> {
    if let [t, 3, minor, ..] = p {
        if (0x14..=0x17).contains(t) && *minor <= 4 {
            return Some("a TLS record");
        }
    }
    if p.len() < PAYLOAD_MIN {
        return None;
    }
    let popcount = popcount(p);
    let longest_run = p
        .split(|&b| !is_printable(b))
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    let random = (POPCOUNT_MIN..=POPCOUNT_MAX).contains(&popcount)
        && printable(p) * 2 <= p.len()
        && longest_run < PRINTABLE_RUN
        && !p.iter().take(6).all(|&b| is_printable(b));
    random.then_some("bytes that look fully encrypted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::TO_CLIENT;

    const REQUEST: &[u8] = b"GET /ws HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const SWITCHING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    fn random(n: usize, mut seed: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 32) as u8
            })
            .collect()
    }

    fn watch(first: &[u8]) -> Option<Findings> {
        let head = upgrade_head(REQUEST).unwrap();
        assert_eq!(head, REQUEST.len());
        let mut w = Watch::new(1, head, &[]);
        assert_eq!(w.feed(TO_CLIENT, SWITCHING, 2), Watching::More);
        match w.feed(TO_SERVER, first, 3) {
            Watching::Done(f) => f,
            Watching::More => panic!("undecided"),
        }
    }

    #[test]
    fn tunnels_in_clear() {
        assert!(watch(&masked(2, &random(600, 7))).is_some());
        let mut tls = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
        tls.extend(random(100, 9));
        assert!(watch(&masked(2, &tls)).is_some());
    }

    #[test]
    fn chats_and_structured_binary_are_not() {
        assert!(watch(&masked(
            1,
            b"{\"type\":\"hello\",\"user\":\"alice\",\"room\":\"lobby\"}"
        ))
        .is_none());
        assert!(watch(&masked(2, &[0u8; 200])).is_none());
        assert!(
            watch(&masked(2, &random(16, 3))).is_none(),
            "too short to judge"
        );
        // Unmasked: not a client frame.
        let mut unmasked = masked(2, &random(600, 7));
        unmasked[1] &= 0x7f;
        assert!(watch(&unmasked).is_none());
    }

    #[test]
    fn no_upgrade_or_refused() {
        assert_eq!(upgrade_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), None);
        assert_eq!(
            upgrade_head(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n"),
            None
        );
        let mut w = Watch::new(1, 10, &masked(2, &random(600, 7)));
        assert_eq!(
            w.feed(TO_CLIENT, b"HTTP/1.1 403 Forbidden\r\n\r\n", 2),
            Watching::Done(None)
        );
        // A response head that never ends is given up at MAX_RESPONSE.
        let mut w = Watch::new(1, 10, &[]);
        assert_eq!(
            w.feed(TO_CLIENT, &[b'x'; MAX_RESPONSE], 2),
            Watching::Done(None)
        );
    }
}
