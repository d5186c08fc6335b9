//! SoftEther VPN where it shows in clear text (its TLS sessions are read by
//! the shapes analyzer `tls/shapes/softether.rs`):
//!
//! - **HTTP** ([`SoftEtherHttp`], ahead of the HTTP dissector): the client
//!   stream starts with `POST /vpnsvc/connect.cgi` (the session's first
//!   request, whose body is the GIF89a "watermark"), `POST /vpnsvc/vpn.cgi`
//!   (its Pack exchange) or `POST /ddns/ddns.aspx` (SoftEther's dynamic DNS
//!   client). The request head is read as HTTP's (the flow is `http`, with
//!   its request facts) and the VPN fact says `softether`: `high` for
//!   connect.cgi with `Content-Type: image/jpeg` and a body starting
//!   `GIF89a`, `medium` for vpn.cgi, `low` for the DDNS request.
//! - **UDP** ([`SoftEtherUdp`]): the NAT-traversal address query, a
//!   one-byte `A` answered by `IP=<address>,PORT=<port>` (the client's
//!   public address as the server sees it): `softether` at `high`.

use crate::bytes::find;
use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::http::{read_request, Head, MAX_HEAD};
use super::vpn::{Value, VpnFacts, VpnProtocol};
use super::AppProto;

/// Request lines that only SoftEther sends, with their mode and the
/// confidence of the path alone.
const PATHS: [(&[u8], &str, Confidence); 3] = [
    (b"POST /vpnsvc/connect.cgi ", "connect", Confidence::Medium),
    (b"POST /vpnsvc/vpn.cgi ", "session", Confidence::Medium),
    (b"POST /ddns/ddns.aspx", "ddns", Confidence::Low),
];

/// What SoftEther showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A SoftEther request line (`path`), and whether the GIF89a watermark
    /// body followed an `image/jpeg` content type.
    Request { path: &'static str, watermark: bool },
    /// The NAT-traversal address query and its answer.
    NatQuery,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Request { path, watermark } => {
                write!(f, "SoftEther {path} request")?;
                if *watermark {
                    f.write_str(" with the GIF89a watermark body sent as image/jpeg")?;
                }
                Ok(())
            }
            Clue::NatQuery => f.write_str(
                "SoftEther NAT-traversal query: one byte 'A' answered with IP=<address>,PORT=<port>",
            ),
        }
    }
}

fn vpn(mode: &'static str, confidence: Confidence) -> Fact {
    Fact::Vpn(VpnFacts {
        protocol: VpnProtocol::SoftEther,
        confidence,
        details: vec![("mode", Value::Text(mode))],
    })
}

/// SoftEther's clear-text HTTP requests.
#[derive(Debug, Default)]
pub struct SoftEtherHttp {
    buf: Vec<u8>,
}

impl Dissector for SoftEtherHttp {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        if side != crate::flow::TO_SERVER {
            return Probe::No;
        }
        for (line, _, _) in PATHS {
            let n = bytes.len().min(line.len());
            if bytes[..n] == line[..n] {
                return if n == line.len() {
                    Probe::Yes
                } else {
                    Probe::Maybe
                };
            }
        }
        Probe::No
    }

    fn start() -> Self {
        SoftEtherHttp::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        if !input.from_client() {
            return Step::NeedMore;
        }
        let room = MAX_HEAD.saturating_sub(self.buf.len());
        self.buf
            .extend_from_slice(&input.bytes[..input.bytes.len().min(room)]);
        let Some(&(line, mode, base)) = PATHS.iter().find(|(l, _, _)| self.buf.starts_with(l))
        else {
            return if PATHS.iter().any(|(l, _, _)| l.starts_with(&self.buf)) {
                Step::NeedMore
            } else {
                Step::Refuse
            };
        };
        let _ = line;
        let r = match read_request(&self.buf) {
            Head::NeedMore if self.buf.len() < MAX_HEAD => return Step::NeedMore,
            Head::Request(r) => r,
            _ => return Step::Refuse,
        };
        let head_end = find(&self.buf, b"\r\n\r\n").map_or(self.buf.len(), |e| e + 4);
        let jpeg = find(&self.buf[..head_end], b"image/jpeg").is_some();
        let body = &self.buf[head_end..];
        // The watermark body may still be on its way.
        if mode == "connect" && jpeg && body.len() < 6 && self.buf.len() < MAX_HEAD {
            return Step::NeedMore;
        }
        let watermark = mode == "connect" && jpeg && body.starts_with(b"GIF89a");
        let confidence = if watermark { Confidence::High } else { base };
        let len = self.buf.len();
        Step::Verdict(Verdict {
            proto: AppProto::Http,
            confidence: Confidence::High,
            found: Findings {
                facts: vec![Fact::Http(Box::new(r)), vpn(mode, confidence)],
                evidence: vec![
                    Evidence {
                        packet: input.packet,
                        what: FactClue::HttpRequest {
                            len,
                            from: input.client_from.unwrap_or(input.packet),
                        },
                    },
                    Evidence {
                        packet: input.packet,
                        what: FactClue::SoftEther(Clue::Request {
                            path: mode_path(mode),
                            watermark,
                        }),
                    },
                ],
                links: Vec::new(),
            },
            more: false,
        })
    }
}

fn mode_path(mode: &str) -> &'static str {
    match mode {
        "connect" => "/vpnsvc/connect.cgi",
        "session" => "/vpnsvc/vpn.cgi",
        _ => "/ddns/ddns.aspx (dynamic DNS)",
    }
}

/// `IP=a.b.c.d,PORT=n` (or an IPv6 address), exactly.
fn nat_answer(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let Some((ip, port)) = s
        .strip_prefix("IP=")
        .and_then(|rest| rest.split_once(",PORT="))
    else {
        return false;
    };
    ip.parse::<std::net::IpAddr>().is_ok() && port.parse::<u16>().is_ok()
}

/// SoftEther's NAT-traversal address query over UDP.
#[derive(Debug, Default)]
pub struct SoftEtherUdp {
    asked: Option<u64>,
    seen: u8,
}

impl Dissector for SoftEtherUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;
    const DEFERRED: bool = true;
    /// No settling: only `feed` decides.
    const SETTLES_ONE_DATAGRAM: bool = false;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        let ok = if side == crate::flow::TO_SERVER {
            bytes == b"A"
        } else {
            nat_answer(bytes)
        };
        if ok {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        SoftEtherUdp::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.seen += 1;
        if self.seen > 8 {
            return Step::Refuse;
        }
        if input.from_client() {
            if input.bytes != b"A" {
                return Step::Refuse;
            }
            self.asked.get_or_insert(input.packet);
            return Step::NeedMore;
        }
        if !nat_answer(input.bytes) {
            return Step::Refuse;
        }
        if self.asked.is_none() {
            return Step::NeedMore;
        }
        Step::Verdict(Verdict {
            proto: AppProto::SoftEther,
            confidence: Confidence::High,
            found: Findings {
                facts: vec![vpn("nat-traversal-query", Confidence::High)],
                evidence: vec![Evidence {
                    packet: input.packet,
                    what: FactClue::SoftEther(Clue::NatQuery),
                }],
                links: Vec::new(),
            },
            more: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8], side: usize) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 2,
            first: true,
            client_from: Some(1),
            ts: 0,
            links: &[],
        }
    }

    #[test]
    fn connect_with_watermark_is_high() {
        let req = b"POST /vpnsvc/connect.cgi HTTP/1.1\r\nHost: 10.0.0.2\r\nContent-Type: image/jpeg\r\nContent-Length: 2000\r\n\r\nGIF89a\x01\x02";
        assert_eq!(SoftEtherHttp::probe(&req[..10], 0), Probe::Maybe);
        assert_eq!(SoftEtherHttp::probe(req, 0), Probe::Yes);
        let mut d = SoftEtherHttp::start();
        let Step::Verdict(v) = d.feed(&input(req, 0)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Http);
        let Fact::Vpn(f) = &v.found.facts[1] else {
            panic!()
        };
        assert_eq!(f.confidence, Confidence::High);
        assert_eq!(SoftEtherHttp::probe(b"POST /upload HTTP/1.1", 0), Probe::No);
    }

    #[test]
    fn nat_query() {
        let mut d = SoftEtherUdp::start();
        assert_eq!(d.feed(&input(b"A", 0)), Step::NeedMore);
        let Step::Verdict(v) = d.feed(&input(b"IP=90.186.132.133,PORT=51381", 1)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::SoftEther);
        assert!(!nat_answer(b"IP=90.186.132.133,PORT=x"));
        assert!(!nat_answer(b"IP=hello,PORT=1"));
        assert_eq!(SoftEtherUdp::probe(b"AB", 0), Probe::No);
    }
}
