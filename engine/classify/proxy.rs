//! Proxied streams: an HTTP `CONNECT` answered with a 2xx status, or a
//! SOCKS5 handshake (RFC 1928, with RFC 1929 username/password
//! authentication) ending in a success reply. Once the proxy has said yes,
//! the rest of the stream is the proxied protocol's: this dissector answers
//! [`Step::Upgrade`] and the dispatcher classifies what follows afresh
//! (OpenVPN, TLS, ...), the new verdict replacing the flow's protocol and
//! the proxy step staying in the evidence.
//!
//! - HTTP: the client stream starts with `CONNECT ` and a whole request
//!   head (read by [`super::http::read_request`]): `http` at `High` with the
//!   request's facts; the server's status line and head are read next (at
//!   most [`MAX_REPLY`] bytes), and a 2xx upgrades the stream after its
//!   blank line. Any other status leaves the flow `http`.
//! - SOCKS5: a greeting (`05`, the number of methods, the methods, and
//!   nothing more) answered by `05` and one of the offered methods is
//!   `socks` at `High`; then, through the optional username/password
//!   sub-negotiation (`01` ... answered `01 00`), a CONNECT request (`05 01
//!   00`, IPv4, domain name or IPv6 address, port) answered by a success
//!   reply (`05 00 00` and a bound address) upgrades the stream after the
//!   reply. A failure reply or anything out of order leaves the flow
//!   `socks`.
//!
//! Each message must be whole in what a side has sent so far (at most
//! [`MAX_REPLY`] bytes are buffered per side); bytes past the reply already
//! belong to the proxied protocol.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::http::{read_request, Head, MAX_HEAD};
use super::AppProto;

/// Bytes buffered per side for a proxy message (SOCKS) or the reply head
/// (HTTP).
pub const MAX_REPLY: usize = 4096;

/// What a proxy step showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// The proxy answered a CONNECT with `status`: the stream from the next
    /// byte on is the target's.
    HttpConnect { target: String, status: u16 },
    /// A SOCKS5 greeting answered with `method`.
    Socks5Method { method: u8 },
    /// A SOCKS5 CONNECT to `target` succeeded.
    Socks5Connect { target: String },
    /// A SOCKS4 CONNECT request, whole.
    Socks4Request { target: String },
    /// A SOCKS4 CONNECT was granted.
    Socks4Granted { target: String },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::HttpConnect { target, status } => write!(
                f,
                "HTTP CONNECT {target} answered {status}: the rest of the stream is classified afresh"
            ),
            Clue::Socks5Method { method } => write!(
                f,
                "SOCKS5 greeting answered with method {method:#04x} ({})",
                match method {
                    0 => "no authentication",
                    2 => "username/password",
                    _ => "other",
                }
            ),
            Clue::Socks5Connect { target } => write!(
                f,
                "SOCKS5 CONNECT {target} succeeded: the rest of the stream is classified afresh"
            ),
            Clue::Socks4Request { target } => {
                write!(f, "SOCKS4 CONNECT request to {target}, NUL-terminated user id")
            }
            Clue::Socks4Granted { target } => write!(
                f,
                "SOCKS4 CONNECT {target} granted: the rest of the stream is classified afresh"
            ),
        }
    }
}

/// Where the handshake stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Stage {
    #[default]
    Start,
    /// HTTP: the CONNECT request was read; waiting for the reply head.
    HttpReply {
        target: String,
    },
    /// SOCKS5: greeting sent (the methods offered, as a bit set over 0..=3
    /// and "other").
    SocksGreeting {
        offered: u8,
    },
    /// Username/password sub-negotiation expected from the client, then
    /// its answer.
    SocksAuth,
    SocksAuthReply,
    /// Waiting for the client's request, then the server's reply.
    SocksRequest,
    SocksReply {
        target: String,
    },
    /// SOCKS4: the request was read; waiting for the 8-byte reply.
    Socks4Reply {
        target: String,
    },
    Done,
}

/// The proxy dissector.
#[derive(Debug, Default)]
pub struct Proxy {
    stage: Stage,
    buf: [Vec<u8>; 2],
}

/// The SOCKS5 target of a request or bound address of a reply at `b[3..]`:
/// its text and the message's length.
fn socks_address(b: &[u8]) -> Option<(String, usize)> {
    let atyp = *b.get(3)?;
    let (text, end) = match atyp {
        1 => {
            let a = b.get(4..8)?;
            (format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]), 8)
        }
        3 => {
            let n = usize::from(*b.get(4)?);
            let name = b.get(5..5 + n)?;
            if n == 0 || !name.iter().all(|c| c.is_ascii_graphic()) {
                return None;
            }
            (String::from_utf8_lossy(name).into_owned(), 5 + n)
        }
        4 => {
            let a: [u8; 16] = b.get(4..20)?.try_into().ok()?;
            (std::net::Ipv6Addr::from(a).to_string(), 20)
        }
        _ => return None,
    };
    let port = crate::bytes::be16(b, end)?;
    Some((format!("{text}:{port}"), end + 2))
}

/// The 3-digit status of an HTTP/1.x reply head and the head's length,
/// once it is whole; `Err` if it is not one.
fn reply_head(b: &[u8]) -> Result<Option<(u16, usize)>, ()> {
    match super::http::is_response(b) {
        Some(false) => return Err(()),
        None => return Ok(None),
        Some(true) => {}
    }
    let end = b
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|e| e + 4)
        .or_else(|| b.windows(2).position(|w| w == b"\n\n").map(|e| e + 2));
    let Some(end) = end else {
        return if b.len() >= MAX_REPLY {
            Err(())
        } else {
            Ok(None)
        };
    };
    let status = b[9..12]
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Ok(Some((status, end)))
}

impl Proxy {
    /// Takes `bytes` into `side`'s buffer; returns how many were taken.
    fn take(&mut self, side: usize, bytes: &[u8], cap: usize) -> usize {
        let buf = &mut self.buf[side];
        let n = bytes.len().min(cap.saturating_sub(buf.len()));
        buf.extend_from_slice(&bytes[..n]);
        n
    }

    fn verdict(proto: AppProto, found: Findings) -> Step {
        Step::Verdict(Verdict {
            proto,
            confidence: Confidence::High,
            found,
            more: true,
        })
    }

    fn evidence(packet: u64, c: Clue) -> Findings {
        Findings {
            facts: Vec::new(),
            evidence: vec![Evidence {
                packet,
                what: FactClue::Proxy(c),
            }],
            links: Vec::new(),
        }
    }
}

/// A SOCKS4 (or 4a) CONNECT request: `04 01 port ip userid 00 [host 00]`,
/// whole: its target and length; `Ok(None)` while it may still be cut.
fn socks4_request(b: &[u8]) -> Result<Option<(String, usize)>, ()> {
    const MAX: usize = 8 + 256 + 256;
    if b.first() != Some(&4) || b.get(1).is_some_and(|&c| c != 1) {
        return Err(());
    }
    let text = |x: &[u8]| x.iter().all(|c| c.is_ascii_graphic());
    let Some(uid_end) = b.iter().skip(8).position(|&c| c == 0).map(|p| p + 8) else {
        return if b.len() >= MAX || !text(b.get(8..).unwrap_or(&[])) {
            Err(())
        } else {
            Ok(None)
        };
    };
    if !text(&b[8..uid_end]) {
        return Err(());
    }
    let port = crate::bytes::be16(b, 2).ok_or(())?;
    let ip = &b[4..8];
    // SOCKS4a: 0.0.0.x (x != 0) and the host name after the user id.
    if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        let Some(host_end) = b.iter().skip(uid_end + 1).position(|&c| c == 0) else {
            return if b.len() >= MAX { Err(()) } else { Ok(None) };
        };
        let host = &b[uid_end + 1..uid_end + 1 + host_end];
        if host.is_empty() || !text(host) {
            return Err(());
        }
        let name = String::from_utf8_lossy(host);
        return Ok(Some((format!("{name}:{port}"), uid_end + 2 + host_end)));
    }
    let target = format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3]);
    Ok(Some((target, uid_end + 1)))
}

/// A SOCKS5 greeting: `05 n m1..mn`, whole, nothing after it.
fn socks_greeting(b: &[u8]) -> Option<u8> {
    let n = usize::from(*b.get(1)?);
    if b[0] != 5 || n == 0 || b.len() != 2 + n {
        return None;
    }
    let mut offered = 0u8;
    for &m in &b[2..] {
        offered |= 1 << m.min(4);
    }
    Some(offered)
}

impl Dissector for Proxy {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        if side != crate::flow::TO_SERVER {
            return Probe::No;
        }
        const CONNECT: &[u8] = b"CONNECT ";
        let n = bytes.len().min(CONNECT.len());
        if bytes.len() >= CONNECT.len() && bytes[..n] == CONNECT[..n] {
            return Probe::Yes;
        }
        if bytes.len() < CONNECT.len() && bytes[..n] == CONNECT[..n] {
            return Probe::Maybe;
        }
        if socks4_request(bytes).is_ok() {
            return Probe::Maybe;
        }
        match bytes {
            [5] => Probe::Maybe,
            [5, n, ..] if *n > 0 && bytes.len() <= 2 + usize::from(*n) => Probe::Maybe,
            _ => Probe::No,
        }
    }

    fn start() -> Self {
        Proxy::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side.min(1);
        let client = input.from_client();
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let cap = if matches!(stage, Stage::Start) && client {
            MAX_HEAD
        } else {
            MAX_REPLY
        };
        let taken = self.take(side, input.bytes, cap);
        let buf = &self.buf[side];
        let (next, step) = match stage {
            Stage::Start if client && buf.first() == Some(&b'C') => match read_request(buf) {
                Head::NeedMore => (Stage::Start, Step::NeedMore),
                Head::Request(r) if r.method == "CONNECT" => {
                    let len = buf.len();
                    let target = r.url.clone();
                    let found = Findings {
                        facts: vec![Fact::Http(Box::new(r))],
                        evidence: vec![Evidence {
                            packet: input.packet,
                            what: FactClue::HttpRequest {
                                len,
                                from: input.client_from.unwrap_or(input.packet),
                            },
                        }],
                        links: Vec::new(),
                    };
                    (
                        Stage::HttpReply { target },
                        Self::verdict(AppProto::Http, found),
                    )
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::Start if client && buf.first() == Some(&4) => match socks4_request(buf) {
                Ok(None) => (Stage::Start, Step::NeedMore),
                Ok(Some((target, len))) if len == buf.len() => {
                    self.buf[side].clear();
                    let found = Self::evidence(
                        input.packet,
                        Clue::Socks4Request {
                            target: target.clone(),
                        },
                    );
                    let step = Step::Verdict(Verdict {
                        proto: AppProto::Socks,
                        confidence: Confidence::Medium,
                        found,
                        more: true,
                    });
                    (Stage::Socks4Reply { target }, step)
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::Start if client => match buf.as_slice() {
                [5] | [5, _] => (Stage::Start, Step::NeedMore),
                b => match socks_greeting(b) {
                    Some(offered) => {
                        self.buf[side].clear();
                        (Stage::SocksGreeting { offered }, Step::NeedMore)
                    }
                    None if b.len() < 2 + usize::from(b[1]) => (Stage::Start, Step::NeedMore),
                    None => (Stage::Done, Step::Refuse),
                },
            },
            Stage::HttpReply { target } if !client => match reply_head(buf) {
                Ok(None) => (Stage::HttpReply { target }, Step::NeedMore),
                Ok(Some((status, end))) if (200..300).contains(&status) => {
                    let rest = after(buf.len(), end, input.bytes.len(), taken);
                    let found = Self::evidence(input.packet, Clue::HttpConnect { target, status });
                    (Stage::Done, Step::Upgrade { found, rest })
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::SocksGreeting { offered } if !client => match buf.as_slice() {
                [_] => (Stage::SocksGreeting { offered }, Step::NeedMore),
                [5, m] if offered & (1 << (*m).min(4)) != 0 && *m != 0xff && *m < 4 => {
                    let method = *m;
                    self.buf[side].clear();
                    let found = Self::evidence(input.packet, Clue::Socks5Method { method });
                    let next = if method == 2 {
                        Stage::SocksAuth
                    } else {
                        Stage::SocksRequest
                    };
                    (next, Self::verdict(AppProto::Socks, found))
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::SocksAuth if client => {
                // 01 ulen user plen pass
                let b = buf.as_slice();
                let ulen = b.get(1).map(|&n| usize::from(n));
                let plen = ulen.and_then(|u| b.get(2 + u)).map(|&n| usize::from(n));
                match (b.first(), ulen, plen) {
                    (Some(1), Some(u), Some(p)) if b.len() == 3 + u + p => {
                        self.buf[side].clear();
                        (Stage::SocksAuthReply, Step::NeedMore)
                    }
                    (Some(1), _, _) if b.len() < 3 + 255 + 255 => {
                        (Stage::SocksAuth, Step::NeedMore)
                    }
                    _ => (Stage::Done, Step::Refuse),
                }
            }
            Stage::SocksAuthReply if !client => match buf.as_slice() {
                [_] => (Stage::SocksAuthReply, Step::NeedMore),
                [1, 0] => {
                    self.buf[side].clear();
                    (Stage::SocksRequest, Step::NeedMore)
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::SocksRequest if client => match (buf.get(..3), socks_address(buf)) {
                (Some([5, 1, 0]), Some((target, len))) if len == buf.len() => {
                    self.buf[side].clear();
                    (Stage::SocksReply { target }, Step::NeedMore)
                }
                (Some([5, 1, 0]), None) | (Some([5, 1]), _) | (Some([5]), _) | (None, _)
                    if buf.len() < 4 + 1 + 255 + 2 =>
                {
                    (Stage::SocksRequest, Step::NeedMore)
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::SocksReply { target } if !client => match (buf.get(..3), socks_address(buf)) {
                (Some([5, 0, 0]), Some((_, len))) if len <= buf.len() => {
                    let rest = after(buf.len(), len, input.bytes.len(), taken);
                    let found = Self::evidence(input.packet, Clue::Socks5Connect { target });
                    (Stage::Done, Step::Upgrade { found, rest })
                }
                (Some([5, 0, 0]), None) | (Some([5, 0]), _) | (Some([5]), _) | (None, _)
                    if buf.len() < 4 + 1 + 255 + 2 =>
                {
                    (Stage::SocksReply { target }, Step::NeedMore)
                }
                _ => (Stage::Done, Step::Refuse),
            },
            Stage::Socks4Reply { target } if !client => match buf.get(..2) {
                None => (Stage::Socks4Reply { target }, Step::NeedMore),
                Some([0, 90]) if buf.len() >= 8 => {
                    let rest = after(buf.len(), 8, input.bytes.len(), taken);
                    let found = Self::evidence(input.packet, Clue::Socks4Granted { target });
                    (Stage::Done, Step::Upgrade { found, rest })
                }
                Some([0, 90]) => (Stage::Socks4Reply { target }, Step::NeedMore),
                _ => (Stage::Done, Step::Refuse),
            },
            // A message from the side that should be waiting: out of order.
            _ => (Stage::Done, Step::Refuse),
        };
        self.stage = next;
        if self.stage == Stage::Done {
            self.buf = Default::default();
        }
        step
    }
}

/// Bytes at the end of this input past a message ending at `end` of a
/// buffer now `buffered` long, `taken` of the input's `input_len` bytes
/// having been buffered.
fn after(buffered: usize, end: usize, input_len: usize, taken: usize) -> usize {
    // The buffer's bytes past the message, plus what the cap left out.
    buffered.saturating_sub(end).min(taken) + (input_len - taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{TO_CLIENT, TO_SERVER};

    fn input(bytes: &[u8], side: usize) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 1,
            first: false,
            client_from: Some(0),
            ts: 0,
            links: &[],
        }
    }

    #[test]
    fn http_connect_upgrades_after_2xx() {
        let mut p = Proxy::start();
        assert_eq!(
            Proxy::probe(b"CONNECT 10.0.0.1:1194", TO_SERVER),
            Probe::Yes
        );
        assert_eq!(
            p.feed(&input(b"CONNECT 10.213.1.2:1194 HTTP/1.0\r\n", TO_SERVER)),
            Step::NeedMore
        );
        let Step::Verdict(v) = p.feed(&input(b"Host: 10.213.1.2\r\n\r\n", TO_SERVER)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Http);
        let reply = b"HTTP/1.0 200 Connection established\r\nProxy-agent: t\r\n\r\n\x00\x0e\x38";
        let Step::Upgrade { rest, .. } = p.feed(&input(reply, TO_CLIENT)) else {
            panic!()
        };
        assert_eq!(rest, 3);
    }

    #[test]
    fn http_connect_refused_stays() {
        let mut p = Proxy::start();
        p.feed(&input(b"CONNECT x:443 HTTP/1.1\r\n\r\n", TO_SERVER));
        assert_eq!(
            p.feed(&input(b"HTTP/1.1 403 Forbidden\r\n\r\n", TO_CLIENT)),
            Step::Refuse
        );
    }

    #[test]
    fn socks5_with_auth_upgrades() {
        let mut p = Proxy::start();
        assert_eq!(Proxy::probe(&[5, 2, 0, 2], TO_SERVER), Probe::Maybe);
        assert_eq!(Proxy::probe(&[5, 1, 0, 2, 9], TO_SERVER), Probe::No);
        assert_eq!(p.feed(&input(&[5, 2, 0, 2], TO_SERVER)), Step::NeedMore);
        let Step::Verdict(v) = p.feed(&input(&[5, 2], TO_CLIENT)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Socks);
        assert_eq!(
            p.feed(&input(&[1, 1, b'u', 2, b'p', b'w'], TO_SERVER)),
            Step::NeedMore
        );
        assert_eq!(p.feed(&input(&[1, 0], TO_CLIENT)), Step::NeedMore);
        assert_eq!(
            p.feed(&input(&[5, 1, 0, 1, 10, 0, 0, 1, 0x01, 0xbb], TO_SERVER)),
            Step::NeedMore
        );
        let Step::Upgrade { rest, found } =
            p.feed(&input(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0], TO_CLIENT))
        else {
            panic!()
        };
        assert_eq!(rest, 0);
        assert!(found.evidence[0].what.to_string().contains("10.0.0.1:443"));
    }

    #[test]
    fn socks4_granted_upgrades() {
        let req = [4, 1, 0, 80, 93, 184, 216, 119, b'u', 0];
        assert_eq!(Proxy::probe(&req, TO_SERVER), Probe::Maybe);
        let mut p = Proxy::start();
        let Step::Verdict(v) = p.feed(&input(&req, TO_SERVER)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Socks);
        let reply = [0, 90, 0, 80, 1, 2, 3, 4, b'H'];
        let Step::Upgrade { rest, .. } = p.feed(&input(&reply, TO_CLIENT)) else {
            panic!()
        };
        assert_eq!(rest, 1);
        // 4a with a host name; a rejected request stays.
        let req = b"\x04\x01\x01\xbb\x00\x00\x00\x01u\x00example.org\x00";
        assert!(matches!(socks4_request(req), Ok(Some((t, 22))) if t == "example.org:443"));
        let mut p = Proxy::start();
        p.feed(&input(&[4, 1, 0, 80, 1, 2, 3, 4, 0], TO_SERVER));
        let no = [0, 91, 0, 0, 0, 0, 0, 0];
        assert_eq!(p.feed(&input(&no, TO_CLIENT)), Step::Refuse);
    }

    #[test]
    fn socks5_failure_or_disorder_refused() {
        let mut p = Proxy::start();
        p.feed(&input(&[5, 1, 0], TO_SERVER));
        p.feed(&input(&[5, 0], TO_CLIENT));
        p.feed(&input(&[5, 1, 0, 3, 1, b'a', 0, 80], TO_SERVER));
        assert_eq!(
            p.feed(&input(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0], TO_CLIENT)),
            Step::Refuse
        );
        let mut p = Proxy::start();
        p.feed(&input(&[5, 1, 0], TO_SERVER));
        // A method that was not offered.
        assert_eq!(p.feed(&input(&[5, 2], TO_CLIENT)), Step::Refuse);
    }
}
