//! DTLS on any UDP port (`app_proto: "dtls"`): a datagram whose first
//! record is a DTLS handshake record carrying a whole ClientHello,
//! ServerHello or HelloVerifyRequest, read with the TLS hello parsers
//! (the ClientHello's DTLS cookie taken out first). The ClientHello gives
//! the names and fingerprints of a TLS flow, its JA4 with the `d` (DTLS)
//! prefix.
//!
//! OpenConnect / Cisco AnyConnect's DTLS channel is noted inside (a VPN
//! fact, `vpn.protocol: "openconnect"`), from what its ClientHello shows:
//! - the pre-standard DTLS version 0x0100 (Cisco's "legacy" DTLS, which
//!   only AnyConnect-compatible stacks still speak): `medium`, `high` when
//!   a TLS flow between the same two hosts came first (a link left by the
//!   TLS dissector: the CSTP channel that set the DTLS session up);
//! - a DTLS 1.x ClientHello resuming a 32-byte session id with an empty
//!   cookie and no server name, offering one cipher suite (the one named in
//!   the CSTP `X-DTLS12-CipherSuite` header) or only PSK suites
//!   (`PSK-NEGOTIATE`): `medium` after a TLS flow between the same hosts,
//!   otherwise nothing is said.
//!
//! Each datagram is judged on its own (STUN or RTP may come first on the
//! same flow); records picked up mid-session, fragmented hellos and
//! anything else get no verdict. The record must fit the datagram and the
//! handshake message its record; nothing is buffered.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence, Fact};
use super::registry::Kind;
use super::summary::{HelloSummary, ServerSummary};
use super::tls::{parse_client_hello, parse_server_hello, ClientHello};
use super::vpn::{Value, VpnFacts, VpnProtocol};
use super::AppProto;
use crate::bytes::be16;

/// Record versions: DTLS 1.0, 1.2, 1.3, and Cisco's pre-standard 0x0100.
const VERSIONS: [u16; 4] = [0xfeff, 0xfefd, 0xfefc, 0x0100];
const LEGACY: u16 = 0x0100;
const HANDSHAKE: u8 = 22;
const RECORD_HEADER: usize = 13;
const HANDSHAKE_HEADER: usize = 12;

/// What a DTLS datagram showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A whole handshake message of `kind` (1 ClientHello, 2 ServerHello,
    /// 3 HelloVerifyRequest) in a record of version `version`.
    Hello { kind: u8, version: u16, len: usize },
    /// A TLS flow between the same hosts came first (its ClientHello).
    AfterTls { tls: u64 },
    /// An OpenConnect-shaped ClientHello: why.
    OpenConnect(&'static str),
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Hello { kind, version, len } => write!(
                f,
                "DTLS {} ({len} bytes) whole in a handshake record of version {version:#06x}",
                match kind {
                    1 => "ClientHello",
                    2 => "ServerHello",
                    _ => "HelloVerifyRequest",
                }
            ),
            Clue::AfterTls { tls } => write!(
                f,
                "a TLS flow between the same hosts sent its ClientHello first (packet {tls})"
            ),
            Clue::OpenConnect(why) => write!(f, "OpenConnect/AnyConnect DTLS: {why}"),
        }
    }
}

/// A DTLS handshake message at the start of a datagram: record version,
/// message type, body.
fn handshake(b: &[u8]) -> Option<(u16, u8, &[u8])> {
    if *b.first()? != HANDSHAKE {
        return None;
    }
    let version = be16(b, 1)?;
    if !VERSIONS.contains(&version) {
        return None;
    }
    // Epoch 0: the first handshake.
    if be16(b, 3)? != 0 {
        return None;
    }
    let len = usize::from(be16(b, 11)?);
    let record = b.get(RECORD_HEADER..RECORD_HEADER + len)?;
    let kind = *record.first()?;
    let msg_len = u24(record, 1)?;
    let offset = u24(record, 6)?;
    let frag = u24(record, 9)?;
    // Whole, unfragmented.
    if offset != 0 || frag != msg_len {
        return None;
    }
    let body = record.get(HANDSHAKE_HEADER..HANDSHAKE_HEADER + msg_len)?;
    Some((version, kind, body))
}

fn u24(b: &[u8], at: usize) -> Option<usize> {
    let x = b.get(at..at + 3)?;
    Some(usize::from(x[0]) << 16 | usize::from(x[1]) << 8 | usize::from(x[2]))
}

/// A DTLS ClientHello body as TLS's: the cookie taken out. Returns the
/// hello, its session id length and cookie length.
fn client_hello(body: &[u8]) -> Option<(ClientHello, usize, usize)> {
    let sid = usize::from(*body.get(34)?);
    let cookie_at = 35 + sid;
    let cookie = usize::from(*body.get(cookie_at)?);
    let rest = body.get(cookie_at + 1 + cookie..)?;
    let mut tls = Vec::with_capacity(body.len());
    tls.extend_from_slice(body.get(..cookie_at)?);
    tls.extend_from_slice(rest);
    let ch = parse_client_hello(&tls).ok()?;
    Some((ch, sid, cookie))
}

/// A PSK cipher suite (RFC 4279, 5487, 5489, 6655, 7905 ranges).
fn is_psk(c: u16) -> bool {
    matches!(
        c,
        0x008a..=0x0095
            | 0x00a8..=0x00b9
            | 0xc034..=0xc03b
            | 0xc064..=0xc06b
            | 0xc08e..=0xc095
            | 0xc0a4..=0xc0ab
            | 0xccab..=0xccae
    )
}

/// The DTLS dissector: one datagram at a time.
#[derive(Debug, Default)]
pub struct Dtls;

impl Dtls {
    /// The OpenConnect finding for a ClientHello, if its shape says so.
    fn openconnect(
        version: u16,
        ch: &ClientHello,
        sid: usize,
        cookie: usize,
        tls: Option<u64>,
    ) -> Option<(Confidence, &'static str, &'static str)> {
        if version == LEGACY || ch.legacy_version == LEGACY {
            let c = if tls.is_some() {
                Confidence::High
            } else {
                Confidence::Medium
            };
            return Some((c, "legacy-0x0100", "pre-standard DTLS version 0x0100"));
        }
        tls?;
        if sid != 32 || cookie != 0 || ch.sni.is_some() {
            return None;
        }
        let suites: Vec<u16> = ch
            .cipher_suites
            .iter()
            .copied()
            .filter(|&c| c != 0x00ff)
            .collect();
        if !suites.is_empty() && suites.iter().all(|&c| is_psk(c)) {
            return Some((
                Confidence::Medium,
                "psk-negotiate",
                "resumes a 32-byte session id offering only PSK suites, after TLS to the same host",
            ));
        }
        if suites.len() == 1 {
            return Some((
                Confidence::Medium,
                "resumed",
                "resumes a 32-byte session id with one cipher suite, after TLS to the same host",
            ));
        }
        None
    }
}

impl Dissector for Dtls {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachMessage;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        match handshake(bytes) {
            Some((_, 1..=3, _)) => Probe::Maybe,
            _ => Probe::No,
        }
    }

    fn start() -> Self {
        Dtls
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let Some((version, kind, body)) = handshake(input.bytes) else {
            return Step::Refuse;
        };
        let mut found = Findings::default();
        found.evidence.push(Evidence {
            packet: input.packet,
            what: FactClue::Dtls(Clue::Hello {
                kind,
                version,
                len: body.len() + HANDSHAKE_HEADER,
            }),
        });
        match (kind, input.from_client()) {
            (1, true) => {
                let Some((ch, sid, cookie)) = client_hello(body) else {
                    return Step::Refuse;
                };
                let mut hello = HelloSummary::new(&ch, false, input.fingerprints);
                // DTLS's JA4 starts with `d`: the shared TLS fingerprints
                // are copied before they are changed.
                if let Some(fp) = hello.fingerprints.as_mut() {
                    let fp = std::sync::Arc::make_mut(fp);
                    for s in [&mut fp.ja4, &mut fp.ja4_r] {
                        if s.starts_with('t') {
                            s.replace_range(..1, "d");
                        }
                    }
                }
                found.facts.push(Fact::TlsHello(Box::new(hello)));
                let tls = input
                    .links
                    .iter()
                    .rev()
                    .find(|l| l.kind == Kind::Tls)
                    .map(|l| l.packet);
                if let Some((confidence, mode, why)) =
                    Self::openconnect(version, &ch, sid, cookie, tls)
                {
                    if let Some(tls) = tls {
                        found.evidence.push(Evidence {
                            packet: input.packet,
                            what: FactClue::Dtls(Clue::AfterTls { tls }),
                        });
                    }
                    found.evidence.push(Evidence {
                        packet: input.packet,
                        what: FactClue::Dtls(Clue::OpenConnect(why)),
                    });
                    let mut details = vec![
                        ("channel", Value::Text("dtls")),
                        ("mode", Value::Text(mode)),
                    ];
                    if let Some(tls) = tls {
                        details.push(("tls_packet", Value::Number(tls)));
                    }
                    found.facts.push(Fact::Vpn(VpnFacts {
                        protocol: VpnProtocol::OpenConnect,
                        confidence,
                        details,
                    }));
                }
            }
            (2, false) => {
                let Ok(sh) = parse_server_hello(body) else {
                    return Step::Refuse;
                };
                found.facts.push(Fact::TlsServer(ServerSummary::new(&sh)));
            }
            (3, false) => {
                // HelloVerifyRequest: server_version and a cookie, exactly.
                let cookie = usize::from(*body.get(2).unwrap_or(&0));
                if body.len() != 3 + cookie || !VERSIONS.contains(&be16(body, 0).unwrap_or(0)) {
                    return Step::Refuse;
                }
            }
            _ => return Step::Refuse,
        }
        Step::Verdict(Verdict {
            proto: AppProto::Dtls,
            confidence: Confidence::High,
            found,
            more: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::links::Link;

    /// A DTLS ClientHello datagram: record version, client version, session
    /// id length, cipher suites.
    fn hello(record: u16, client: u16, sid: usize, suites: &[u16]) -> Vec<u8> {
        let mut body = client.to_be_bytes().to_vec();
        body.extend([7u8; 32]);
        body.push(sid as u8);
        body.extend(vec![9u8; sid]);
        body.push(0); // cookie
        body.extend(((suites.len() * 2) as u16).to_be_bytes());
        for s in suites {
            body.extend(s.to_be_bytes());
        }
        body.extend([1, 0]); // compression: null
        body.extend([0, 5, 0xff, 0x01, 0, 1, 0]); // renegotiation_info
        let mut hs = vec![1];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend([0, 0, 0, 0, 0]);
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(body);
        let mut rec = vec![22];
        rec.extend(record.to_be_bytes());
        rec.extend([0; 8]);
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    fn input<'a>(bytes: &'a [u8], links: &'a [Link]) -> Input<'a> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side: 0,
            packet: 9,
            first: false,
            client_from: None,
            ts: 0,
            links,
        }
    }

    fn vpn(step: &Step) -> Option<VpnFacts> {
        let Step::Verdict(v) = step else {
            panic!("no verdict: {step:?}")
        };
        assert_eq!(v.proto, AppProto::Dtls);
        v.found.facts.iter().find_map(|f| match f {
            Fact::Vpn(v) => Some(v.clone()),
            _ => None,
        })
    }

    #[test]
    fn client_hello_gives_dtls_with_d_ja4() {
        let b = hello(0xfeff, 0xfefd, 0, &[0xc02b, 0xc02f]);
        assert_eq!(Dtls::probe(&b, 0), Probe::Maybe);
        let step = Dtls.feed(&input(&b, &[]));
        let Step::Verdict(v) = &step else { panic!() };
        let Fact::TlsHello(h) = &v.found.facts[0] else {
            panic!()
        };
        assert!(h.ja4().starts_with("dd2i02"), "{}", h.ja4());
        // The fingerprints are shared with the thread's memo: the same
        // hello again is changed from the remembered TLS ones once more.
        let again = Dtls.feed(&input(&b, &[]));
        let Step::Verdict(w) = &again else { panic!() };
        let Fact::TlsHello(g) = &w.found.facts[0] else {
            panic!()
        };
        assert_eq!((g.ja4(), g.ja4_r()), (h.ja4(), h.ja4_r()));
        assert!(g.ja4_r().starts_with('d'), "{}", g.ja4_r());
        assert_eq!(vpn(&step), None);
        // Cut short, or a record longer than the datagram: nothing.
        assert_eq!(Dtls::probe(&b[..b.len() - 1], 0), Probe::No);
    }

    #[test]
    fn openconnect_shapes() {
        let tls = [Link {
            kind: Kind::Tls,
            value: 0,
            packet: 3,
        }];
        let legacy = hello(0x0100, 0x0100, 32, &[0x002f]);
        assert_eq!(
            vpn(&Dtls.feed(&input(&legacy, &[]))).unwrap().confidence,
            Confidence::Medium
        );
        assert_eq!(
            vpn(&Dtls.feed(&input(&legacy, &tls))).unwrap().confidence,
            Confidence::High
        );
        let psk = hello(0xfeff, 0xfefd, 32, &[0x00a9, 0xccab, 0x008c]);
        assert_eq!(vpn(&Dtls.feed(&input(&psk, &[]))), None);
        assert_eq!(
            vpn(&Dtls.feed(&input(&psk, &tls))).unwrap().confidence,
            Confidence::Medium
        );
        // A browser-like hello after TLS: no VPN.
        let web = hello(0xfeff, 0xfefd, 0, &[0xc02b, 0xc02f, 0x009c]);
        assert_eq!(vpn(&Dtls.feed(&input(&web, &tls))), None);
    }
}
