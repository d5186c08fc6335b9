//! Proxy protocols meant to run inside TLS, seen without it: VLESS and
//! Trojan request headers in the clear (sing-box and Xray accept both
//! without TLS). Each is decided from its whole header structure.
//!
//! - **Trojan**: 56 lowercase hex digits (SHA-224 of the password), CRLF,
//!   a SOCKS5-like request — command 1 (connect) or 3 (UDP associate),
//!   address type 1 (IPv4), 3 (domain) or 4 (IPv6), the address, a port —
//!   and CRLF. The header must be whole in the client's first bytes (it is
//!   one write); the verdict is high, the structure leaving nothing to
//!   chance.
//! - **VLESS**: version 0, a 16-byte UUID (an RFC 4122 variant with a
//!   version 1–8), an addons length (≤ 64; protobuf fields 1 or 2 when
//!   present), a command (1 TCP, 2 UDP, 3 mux), and for 1 and 2 a port,
//!   an address type (1 IPv4, 2 domain, 3 IPv6) and the address. A
//!   header alone is a few fixed bits, so the verdict waits for the
//!   server's reply, which must open with version 0 and an addons length
//!   (≤ 64) that fits: high then, nothing without it.
//!
//! Only the client's first bytes and the server's first bytes are read.

use std::fmt;

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{self, Evidence};
use super::AppProto;
use crate::bytes::be16;
use crate::flow::TO_SERVER;

/// What a packet showed (EVE `sift.evidence[].what`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A Trojan request header of `len` bytes.
    TrojanRequest { len: usize, command: u8, udp: bool },
    /// A VLESS request header of `len` bytes.
    VlessRequest { len: usize, command: u8 },
    /// The VLESS response header.
    VlessResponse { addons: u8 },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::TrojanRequest { len, command, udp } => write!(
                f,
                "Trojan request without TLS ({len} bytes): 56 hex digits of a password hash, CRLF, command {command} ({}), address, port, CRLF",
                if *udp { "UDP associate" } else { "connect" }
            ),
            Clue::VlessRequest { len, command } => write!(
                f,
                "VLESS request header without TLS ({len} bytes): version 0, a UUID, command {command} ({})",
                match command {
                    1 => "TCP",
                    2 => "UDP",
                    _ => "mux",
                }
            ),
            Clue::VlessResponse { addons } => write!(
                f,
                "VLESS response header: version 0, addons length {addons}"
            ),
        }
    }
}

/// The length of an address of type `atyp` at `b[0..]` (domain: a length
/// byte and printable name), with `ipv4`, `domain`, `ipv6` the type codes.
fn address_len(b: &[u8], atyp: u8, codes: [u8; 3]) -> Option<usize> {
    let [ipv4, domain, ipv6] = codes;
    if atyp == ipv4 {
        Some(4)
    } else if atyp == ipv6 {
        Some(16)
    } else if atyp == domain {
        let n = usize::from(*b.first()?);
        let name = b.get(1..1 + n)?;
        (n > 0 && name.iter().all(|c| c.is_ascii_graphic())).then_some(1 + n)
    } else {
        None
    }
}

/// A Trojan request header at the start of `b`: its length, command.
fn trojan(b: &[u8]) -> Option<(usize, u8)> {
    let hash = b.get(..56)?;
    if !hash.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) || b.get(56..58)? != b"\r\n" {
        return None;
    }
    let command = *b.get(58)?;
    if command != 1 && command != 3 {
        return None;
    }
    let atyp = *b.get(59)?;
    let addr = address_len(b.get(60..)?, atyp, [1, 3, 4])?;
    let end = 60 + addr + 2;
    (b.get(end..end + 2)? == b"\r\n").then_some((end + 2, command))
}

/// A VLESS request header at the start of `b`: its length, command.
fn vless(b: &[u8]) -> Option<(usize, u8)> {
    if *b.first()? != 0 {
        return None;
    }
    let uuid = b.get(1..17)?;
    if !(1..=8).contains(&(uuid[6] >> 4)) || uuid[8] & 0xc0 != 0x80 {
        return None;
    }
    let m = usize::from(*b.get(17)?);
    if m > 64 || m > 0 && !matches!(b.get(18), Some(0x0a | 0x12)) {
        return None;
    }
    let at = 18 + m;
    let command = *b.get(at)?;
    match command {
        3 => Some((at + 1, command)),
        1 | 2 => {
            if be16(b, at + 1)? == 0 {
                return None;
            }
            let atyp = *b.get(at + 3)?;
            let addr = address_len(b.get(at + 4..)?, atyp, [1, 2, 3])?;
            Some((at + 4 + addr, command))
        }
        _ => None,
    }
}

fn verdict(proto: AppProto, evidence: Vec<Evidence>) -> Step {
    Step::Verdict(Verdict {
        proto,
        confidence: Confidence::High,
        found: Findings {
            evidence,
            ..Findings::default()
        },
        more: false,
    })
}

fn ev(packet: u64, clue: Clue) -> Evidence {
    Evidence {
        packet,
        what: facts::Clue::PlainProxy(clue),
    }
}

/// Trojan without TLS; see the module documentation.
#[derive(Debug, Default)]
pub struct Trojan;

impl Dissector for Trojan {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        let hexish = bytes
            .iter()
            .take(56)
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if side == TO_SERVER && bytes.len() >= 56 && hexish {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Trojan
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        match trojan(input.bytes).filter(|_| input.from_client() && input.first) {
            Some((len, command)) => verdict(
                AppProto::Trojan,
                vec![ev(
                    input.packet,
                    Clue::TrojanRequest {
                        len,
                        command,
                        udp: command == 3,
                    },
                )],
            ),
            None => Step::Refuse,
        }
    }
}

/// VLESS without TLS; see the module documentation.
#[derive(Debug, Default)]
pub struct Vless {
    /// The client's header: where, and its clue.
    request: Option<(u64, Clue)>,
}

impl Dissector for Vless {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        if side == TO_SERVER && vless(bytes).is_some() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let b = input.bytes;
        if input.from_client() {
            if !input.first {
                // Data before the server's reply is allowed; keep waiting.
                return if self.request.is_some() {
                    Step::NeedMore
                } else {
                    Step::Refuse
                };
            }
            return match vless(b) {
                Some((len, command)) => {
                    self.request = Some((input.packet, Clue::VlessRequest { len, command }));
                    Step::NeedMore
                }
                None => Step::Refuse,
            };
        }
        let Some((packet, request)) = self.request.take() else {
            return Step::Refuse;
        };
        match b {
            [0, addons, rest @ ..] if *addons <= 64 && rest.len() >= usize::from(*addons) => {
                verdict(
                    AppProto::Vless,
                    vec![
                        ev(packet, request),
                        ev(input.packet, Clue::VlessResponse { addons: *addons }),
                    ],
                )
            }
            _ => Step::Refuse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::TO_CLIENT;

    fn input(bytes: &[u8], side: usize, first: bool) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 3,
            first,
            client_from: Some(3),
            ts: 0,
            links: &[],
        }
    }

    /// captures/obfs/trojan-plain-8080.pcap: 56 hex + CRLF + 01 01 IPv4 port CRLF.
    fn trojan_request() -> Vec<u8> {
        let mut b = b"3a6f4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c".to_vec();
        b.extend(b"\r\n\x01\x01\x0a\xd2\x01\x02\x00\x50\r\nGET / HTTP/1.1\r\n\r\n");
        b
    }

    #[test]
    fn trojan_header() {
        let b = trojan_request();
        assert_eq!(Trojan::probe(&b, TO_SERVER), Probe::Maybe);
        let Step::Verdict(v) = Trojan.feed(&input(&b, TO_SERVER, true)) else {
            panic!()
        };
        assert_eq!(
            (v.proto, v.confidence),
            (AppProto::Trojan, Confidence::High)
        );
        let mut bad = b.clone();
        bad[58] = 2;
        assert_eq!(Trojan.feed(&input(&bad, TO_SERVER, true)), Step::Refuse);
    }

    /// captures/obfs/vless-plain-10443.pcap: the 26-byte header, then "00 00".
    #[test]
    fn vless_header_and_reply() {
        let mut b = vec![0u8];
        b.extend([
            0xb8, 0x31, 0x38, 0x1d, 0x63, 0x24, 0x4d, 0x53, 0xad, 0x4f, 0x8c, 0xda, 0x48, 0xb3,
            0x08, 0x11,
        ]);
        b.extend([0, 1, 0, 80, 1, 10, 210, 1, 2]);
        assert_eq!(b.len(), 26);
        assert_eq!(Vless::probe(&b, TO_SERVER), Probe::Maybe);
        let mut d = Vless::start();
        assert_eq!(d.feed(&input(&b, TO_SERVER, true)), Step::NeedMore);
        let Step::Verdict(v) = d.feed(&input(b"\x00\x00HTTP/1.1 200 OK", TO_CLIENT, true)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Vless);
        // A reply that is not VLESS's refuses.
        let mut d = Vless::start();
        d.feed(&input(&b, TO_SERVER, true));
        assert_eq!(d.feed(&input(b"\x05\x00", TO_CLIENT, true)), Step::Refuse);
    }

    #[test]
    fn any_bytes_no_panic() {
        let base = trojan_request();
        for n in 0..base.len() {
            let _ = Trojan::probe(&base[..n], TO_SERVER);
            let _ = Trojan.feed(&input(&base[..n], TO_SERVER, true));
            let mut v = Vless::start();
            let mut b = vec![0u8; n];
            b.iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = (i * 37) as u8);
            let _ = Vless::probe(&b, TO_SERVER);
            let _ = v.feed(&input(&b, TO_SERVER, true));
            let _ = v.feed(&input(&b, TO_CLIENT, true));
        }
    }
}
