//! What classification found on a flow, as typed data: the facts
//! ([`Fact`], gathered into the flow's [`Names`]) and the packets that
//! showed them ([`Evidence`], each with a [`Clue`]). Words are made of them
//! only when a record is written: [`Clue`]'s `Display`, or the [`Piece`]s
//! of the most frequent clues, which the EVE writer copies in place
//! ([`Clue::spell`]).

use std::fmt;

use super::dissector::Confidence;
use super::summary::{self, HelloSummary, QuicSummary, ServerSummary};
use super::{
    amneziawg, dns, dtls, fully_encrypted, gre, http, iodine, ipsec, l2tp, mtproto, n2n,
    obfuscation, openvpn, plain_proxy, pptp, proxy, softether, ssh, starttls, tinc, vpn, wireguard,
};

/// One fact a dissector established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// A TLS ClientHello.
    TlsHello(Box<HelloSummary>),
    /// A TLS ServerHello.
    TlsServer(ServerSummary),
    /// The client Initials of a QUIC flow.
    Quic(Box<QuicSummary>),
    Http(Box<http::HttpRequest>),
    Dns(Box<dns::DnsQuestion>),
    /// A VPN the flow carries.
    Vpn(vpn::VpnFacts),
    /// A suspicion of hiding, not a protocol.
    Obfuscation(Box<obfuscation::Obfuscation>),
    /// A full TLS 1.3 handshake, for its server name's profile
    /// ([`super::server_names`]).
    Handshake(Box<super::tls::shapes::handshake::Handshake>),
}

impl Fact {
    /// Is this something rules read (a name, a hello, a VPN)? A server's
    /// hello alone is not, nor a handshake's sizes.
    pub fn is_rule_visible(&self) -> bool {
        !matches!(self, Fact::TlsServer(_) | Fact::Handshake(_))
    }
}

/// Where a verdict came from: the input position of a packet and what it
/// showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub packet: u64,
    pub what: Clue,
}

/// What a packet showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    DnsDatagram {
        response: bool,
    },
    /// A message of the DNS format in one datagram, of another protocol
    /// than DNS: mDNS or LLMNR (on its port), NetBIOS name service (its
    /// encoded name).
    DnsDialect {
        dialect: dns::Dialect,
        response: bool,
    },
    /// A DNS message of `len` bytes (length prefix included) in the client stream.
    DnsOverTcp {
        len: usize,
    },
    /// A DNS response of `len` bytes (length prefix included) at the start
    /// of the server stream, the client's side not seen.
    DnsOverTcpResponse {
        len: usize,
    },
    /// The server accepted a client's request to switch to TLS (the
    /// request in packet `asked_at`): the stream is read afresh.
    StartTls {
        dialect: starttls::Dialect,
        asked_at: u64,
    },
    /// An HTTP request head of `len` bytes in the client stream, which
    /// started at packet `from`.
    HttpRequest {
        len: usize,
        from: u64,
    },
    HttpStatusLine,
    /// An HTTP request line and headers in client stream bytes 0..`len`
    /// without the blank line that ends a head (the flow stopped first).
    HttpRequestCut {
        len: usize,
        from: u64,
    },
    /// A TLS ClientHello of `len` bytes completed, the client stream having
    /// started at packet `from`.
    TlsClientHello {
        len: usize,
        from: u64,
    },
    TlsServerHello {
        version: u16,
        cipher: u16,
    },
    /// Consecutive valid TLS record headers and no handshake.
    TlsRecords {
        count: u64,
        client: bool,
    },
    Sslv2ClientHello,
    QuicInitial {
        version: u32,
    },
    GquicChlo {
        version: u32,
    },
    OpenVpn(openvpn::Clue),
    /// Scrambled OpenVPN (the XOR patch).
    OpenVpnXor(openvpn::XorClue),
    WireGuard(wireguard::Clue),
    Ipsec(ipsec::Clue),
    /// TLS record shapes after the handshake (tunnels, borrowed handshakes).
    Shape(super::tls::shapes::Clue),
    /// A WebSocket upgrade in clear and its first frame.
    Websocket(super::websocket::Clue),
    FullyEncrypted(fully_encrypted::Clue),
    Mtproto(mtproto::Clue),
    PlainProxy(plain_proxy::Clue),
    AmneziaWg(amneziawg::Clue),
    Pptp(pptp::Clue),
    Gre(gre::Clue),
    L2tp(l2tp::Clue),
    Dtls(dtls::Clue),
    Tor(super::tls::shapes::tor::Clue),
    Proxy(proxy::Clue),
    Ssh(ssh::Clue),
    Sstp(super::tls::shapes::sstp::Clue),
    SoftEther(softether::Clue),
    SoftEtherTls(super::tls::shapes::softether::Clue),
    Tinc(tinc::Clue),
    TincData(tinc::DataClue),
    N2n(n2n::Clue),
    Iodine(iodine::Clue),
    OpenConnectTls(super::tls::shapes::openconnect::Clue),
}

/// A piece of a clue's words: text of the program's own (never anything a
/// packet said), a number in decimal (`Decimal2`: two digits at least, as
/// hundredths after a point), or four lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(&'static str),
    Decimal(u64),
    Decimal2(u64),
    Hex4(u16),
}

impl Piece {
    /// Writes the piece as a clue's `Display` words have it.
    pub fn fmt(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Piece::Text(t) => f.write_str(t),
            Piece::Decimal(n) => write!(f, "{n}"),
            Piece::Decimal2(n) => write!(f, "{n:02}"),
            Piece::Hex4(h) => write!(f, "{h:04x}"),
        }
    }
}

/// Where a clue's pieces go, one after the other.
pub type Put<'p> = dyn FnMut(Piece) + 'p;

/// Gives `pieces` to `put`; true (the clue was spelled).
pub fn spell_all(put: &mut Put<'_>, pieces: &[Piece]) -> bool {
    pieces.iter().for_each(|&p| put(p));
    true
}

/// Formats what `spell` spells (how `Display` writes a spelled clue); None
/// when it spells nothing.
pub fn fmt_spelled(
    f: &mut fmt::Formatter<'_>,
    spell: impl FnOnce(&mut Put<'_>) -> bool,
) -> Option<fmt::Result> {
    let mut result = Ok(());
    let spelled = spell(&mut |p: Piece| {
        if result.is_ok() {
            result = p.fmt(f);
        }
    });
    spelled.then_some(result)
}

/// A TLS version's name as pieces (as [`summary::TlsVersion`] writes it).
fn version_pieces(v: u16) -> [Piece; 2] {
    use Piece::{Decimal, Hex4, Text};
    match summary::TlsVersion(v).known() {
        Some(name) => [Text(name), Text("")],
        None if v >> 8 == 0x7f => [Text("TLS 1.3 draft "), Decimal(u64::from(v & 0xff))],
        None => [Text("0x"), Hex4(v)],
    }
}

impl Clue {
    /// Gives `put` the words of a clue made only of the program's own
    /// text and numbers (the most frequent ones), for writers that spell
    /// them without formatting (EVE); false, giving nothing, for the
    /// others, which only `Display` writes. `Display` writes these from
    /// the same pieces.
    pub fn spell(&self, put: &mut Put<'_>) -> bool {
        use Piece::{Decimal, Hex4, Text};
        let what = |response: bool| Text(if response { "response" } else { "query" });
        let n = |v: usize| Decimal(v as u64);
        match *self {
            Clue::DnsDatagram { response } => spell_all(
                put,
                &[Text("DNS "), what(response), Text(" in one datagram")],
            ),
            Clue::DnsDialect { dialect, response } => {
                let (name, what) = (Text(dialect.as_str()), what(response));
                let on_port = |port: u16| {
                    [
                        name,
                        Text(" "),
                        what,
                        Text(" in one datagram (a DNS message on UDP port "),
                        Decimal(u64::from(port)),
                        Text(")"),
                    ]
                };
                match dialect {
                    dns::Dialect::Mdns => spell_all(put, &on_port(dns::MDNS_PORT)),
                    dns::Dialect::Llmnr => spell_all(put, &on_port(dns::LLMNR_PORT)),
                    dns::Dialect::Nbns => spell_all(
                        put,
                        &[
                            name,
                            Text(" "),
                            what,
                            Text(" in one datagram (a first-level encoded NetBIOS name)"),
                        ],
                    ),
                    dns::Dialect::Dns => {
                        spell_all(put, &[name, Text(" "), what, Text(" in one datagram")])
                    }
                }
            }
            Clue::DnsOverTcp { len } => spell_all(
                put,
                &[Text("DNS message in client stream bytes 0.."), n(len)],
            ),
            Clue::DnsOverTcpResponse { len } => spell_all(
                put,
                &[
                    Text("DNS response in server stream bytes 0.."),
                    n(len),
                    Text(", client side not seen"),
                ],
            ),
            Clue::StartTls { dialect, asked_at } => spell_all(
                put,
                &[
                    Text(dialect.as_str()),
                    Text(" asked in packet "),
                    Decimal(asked_at),
                    Text(", accepted by the server: TLS follows"),
                ],
            ),
            Clue::HttpRequest { len, from } => spell_all(
                put,
                &[
                    Text("HTTP request line and headers in client stream bytes 0.."),
                    n(len),
                    Text(" (stream from packet "),
                    Decimal(from),
                    Text(")"),
                ],
            ),
            Clue::HttpRequestCut { len, from } => spell_all(
                put,
                &[
                    Text("HTTP request line and headers in client stream bytes 0.."),
                    n(len),
                    Text(", cut before the blank line (stream from packet "),
                    Decimal(from),
                    Text(")"),
                ],
            ),
            Clue::HttpStatusLine => spell_all(
                put,
                &[Text(
                    "HTTP/1.x status line at the start of the server stream",
                )],
            ),
            Clue::TlsClientHello { len, from } => spell_all(
                put,
                &[
                    Text("TLS ClientHello ("),
                    n(len),
                    Text(" bytes) complete, client stream from packet "),
                    Decimal(from),
                ],
            ),
            Clue::TlsServerHello { version, cipher } => {
                let [v0, v1] = version_pieces(version);
                spell_all(
                    put,
                    &[
                        Text("TLS ServerHello: "),
                        v0,
                        v1,
                        Text(", cipher 0x"),
                        Hex4(cipher),
                    ],
                )
            }
            Clue::TlsRecords { count, client } => spell_all(
                put,
                &[
                    Decimal(count),
                    Text(" consecutive TLS record headers in the "),
                    Text(if client { "client" } else { "server" }),
                    Text(" stream, no handshake seen (mid-connection)"),
                ],
            ),
            Clue::Sslv2ClientHello => spell_all(
                put,
                &[Text(
                    "SSLv2-compatible ClientHello (no server name in this format)",
                )],
            ),
            Clue::FullyEncrypted(ref c) => c.spell(put),
            // QUIC versions can be named by their own bytes; the rest are
            // other modules' clues.
            Clue::QuicInitial { .. }
            | Clue::GquicChlo { .. }
            | Clue::OpenVpn(_)
            | Clue::OpenVpnXor(_)
            | Clue::WireGuard(_)
            | Clue::Ipsec(_)
            | Clue::Shape(_)
            | Clue::Websocket(_)
            | Clue::Mtproto(_)
            | Clue::PlainProxy(_)
            | Clue::AmneziaWg(_)
            | Clue::Pptp(_)
            | Clue::Gre(_)
            | Clue::L2tp(_)
            | Clue::Dtls(_)
            | Clue::Tor(_)
            | Clue::Proxy(_)
            | Clue::Ssh(_)
            | Clue::Sstp(_)
            | Clue::SoftEther(_)
            | Clue::SoftEtherTls(_)
            | Clue::Tinc(_)
            | Clue::TincData(_)
            | Clue::N2n(_)
            | Clue::Iodine(_)
            | Clue::OpenConnectTls(_) => false,
        }
    }
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(result) = fmt_spelled(f, |put| self.spell(put)) {
            return result;
        }
        match self {
            Clue::QuicInitial { version } => write!(
                f,
                "QUIC {} client Initial(s) decrypted, ClientHello complete",
                summary::quic_version_name(*version)
            ),
            Clue::GquicChlo { version } => {
                write!(
                    f,
                    "Google QUIC {} CHLO",
                    summary::quic_version_name(*version)
                )
            }
            Clue::OpenVpn(c) => c.fmt(f),
            Clue::OpenVpnXor(c) => c.fmt(f),
            Clue::WireGuard(c) => c.fmt(f),
            Clue::Ipsec(c) => c.fmt(f),
            Clue::Shape(c) => c.fmt(f),
            Clue::Websocket(c) => c.fmt(f),
            Clue::FullyEncrypted(c) => c.fmt(f),
            Clue::Mtproto(c) => c.fmt(f),
            Clue::PlainProxy(c) => c.fmt(f),
            Clue::AmneziaWg(c) => c.fmt(f),
            Clue::Pptp(c) => c.fmt(f),
            Clue::Gre(c) => c.fmt(f),
            Clue::L2tp(c) => c.fmt(f),
            Clue::Dtls(c) => c.fmt(f),
            Clue::Tor(c) => c.fmt(f),
            Clue::Proxy(c) => c.fmt(f),
            Clue::Ssh(c) => c.fmt(f),
            Clue::Sstp(c) => c.fmt(f),
            Clue::SoftEther(c) => c.fmt(f),
            Clue::SoftEtherTls(c) => c.fmt(f),
            Clue::Tinc(c) => c.fmt(f),
            Clue::TincData(c) => c.fmt(f),
            Clue::N2n(c) => c.fmt(f),
            Clue::Iodine(c) => c.fmt(f),
            Clue::OpenConnectTls(c) => c.fmt(f),
            // Spelled above.
            Clue::DnsDatagram { .. }
            | Clue::DnsDialect { .. }
            | Clue::DnsOverTcp { .. }
            | Clue::DnsOverTcpResponse { .. }
            | Clue::StartTls { .. }
            | Clue::HttpRequest { .. }
            | Clue::HttpRequestCut { .. }
            | Clue::HttpStatusLine
            | Clue::TlsClientHello { .. }
            | Clue::TlsServerHello { .. }
            | Clue::TlsRecords { .. }
            | Clue::Sslv2ClientHello => unreachable!("spelled clue {self:?}"),
        }
    }
}

/// What a flow asked for and showed, per protocol (EVE's `tls`, `quic`,
/// `http`, `dns`, `vpn`), with the evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// The ClientHello of a TLS flow.
    pub tls: Option<Box<HelloSummary>>,
    /// The ServerHello of a TLS flow.
    pub tls_server: Option<ServerSummary>,
    /// The client Initials of a QUIC flow.
    pub quic: Option<Box<QuicSummary>>,
    /// A VPN the flow carries.
    pub vpn: Option<vpn::VpnFacts>,
    pub http: Option<Box<http::HttpRequest>>,
    pub dns: Option<Box<dns::DnsQuestion>>,
    /// Every DNS message of the flow, the first included, when they are
    /// read ([`super::transactions`]); at most `MAX_TRANSACTIONS`.
    pub dns_transactions: Vec<super::transactions::DnsTransaction>,
    /// DNS messages past that bound.
    pub dns_transactions_dropped: u32,
    /// The latest DNS message after the first (what rules check).
    pub dns_latest: Option<Box<dns::DnsQuestion>>,
    /// Every HTTP request of the flow, the first included, when they are
    /// read; at most `MAX_TRANSACTIONS`.
    pub http_transactions: Vec<super::transactions::HttpTransaction>,
    /// HTTP requests past that bound.
    pub http_transactions_dropped: u32,
    /// The latest request after the first (what rules check).
    pub http_latest: Option<Box<http::HttpRequest>>,
    /// Transactions were read on this flow: its events are the lists
    /// above (empty in a later record of a long flow with no new one),
    /// not the first request or message.
    pub transactions_read: bool,
    /// The strongest suspicion of hiding.
    pub obfuscation: Option<Box<obfuscation::Obfuscation>>,
    /// The flow's full TLS 1.3 handshake, held against its server name's
    /// profile where flows are written ([`super::server_names`]); not
    /// written itself.
    pub handshake: Option<Box<super::tls::shapes::handshake::Handshake>>,
    /// What the client did to fool DPI (decoys, pieces, ...).
    pub evasion: Option<Box<super::evasion::Evasion>>,
    pub evidence: Vec<Evidence>,
    /// How sure the flow's verdict is.
    pub confidence: Option<Confidence>,
    /// The flow's packet count when the verdict was reached.
    pub packets_to_verdict: u32,
}

impl Names {
    /// Takes a fact in; the first of each kind stays.
    pub fn add(&mut self, fact: Fact) {
        match fact {
            Fact::TlsHello(h) => {
                self.tls.get_or_insert(h);
            }
            Fact::TlsServer(s) => {
                self.tls_server.get_or_insert(s);
            }
            Fact::Quic(q) => {
                self.quic.get_or_insert(q);
            }
            Fact::Http(h) => {
                self.http.get_or_insert(h);
            }
            Fact::Dns(d) => {
                self.dns.get_or_insert(d);
            }
            Fact::Vpn(v) => {
                self.vpn.get_or_insert(v);
            }
            Fact::Handshake(h) => {
                self.handshake.get_or_insert(h);
            }
            Fact::Obfuscation(o) => {
                // A flow with a protocol (a verdict's confidence) keeps no
                // suspicion that needs none.
                let decided = self.confidence.is_some() && o.needs_unknown();
                if !decided
                    && self
                        .obfuscation
                        .as_ref()
                        .is_none_or(|have| o.confidence > have.confidence)
                {
                    self.obfuscation = Some(o);
                }
            }
        }
    }

    /// The flow's protocol is proven: suspicions that hold only for flows
    /// without one go.
    pub fn decided(&mut self) {
        if self.obfuscation.as_ref().is_some_and(|o| o.needs_unknown()) {
            self.obfuscation = None;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The words `clue` spells, as `Display` would write its pieces; None
    /// if it spells none.
    pub(crate) fn spelled(clue: &Clue) -> Option<String> {
        struct Words<'c>(&'c Clue);
        impl fmt::Display for Words<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_spelled(f, |put| self.0.spell(put)).unwrap_or(Err(fmt::Error))
            }
        }
        let mut s = String::new();
        fmt::write(&mut s, format_args!("{}", Words(clue)))
            .ok()
            .map(|()| s)
    }

    /// Every clue spelled in pieces, with the words it has always had
    /// (EVE output reads the same as when only `Display` wrote them).
    #[test]
    fn spelled_clues_keep_their_words() {
        let cases: Vec<(Clue, &str)> = vec![
            (Clue::DnsDatagram { response: true }, "DNS response in one datagram"),
            (Clue::DnsDatagram { response: false }, "DNS query in one datagram"),
            (
                Clue::DnsDialect { dialect: dns::Dialect::Mdns, response: false },
                "mDNS query in one datagram (a DNS message on UDP port 5353)",
            ),
            (
                Clue::DnsDialect { dialect: dns::Dialect::Llmnr, response: true },
                "LLMNR response in one datagram (a DNS message on UDP port 5355)",
            ),
            (
                Clue::DnsDialect { dialect: dns::Dialect::Nbns, response: false },
                "NetBIOS name service query in one datagram (a first-level encoded NetBIOS name)",
            ),
            (
                Clue::DnsDialect { dialect: dns::Dialect::Dns, response: true },
                "DNS response in one datagram",
            ),
            (Clue::DnsOverTcp { len: 31 }, "DNS message in client stream bytes 0..31"),
            (
                Clue::DnsOverTcpResponse { len: 0 },
                "DNS response in server stream bytes 0..0, client side not seen",
            ),
            (
                Clue::StartTls { dialect: starttls::Dialect::Smtp, asked_at: 7 },
                "SMTP STARTTLS asked in packet 7, accepted by the server: TLS follows",
            ),
            (
                Clue::HttpRequest { len: 412, from: 18_446_744_073_709_551_615 },
                "HTTP request line and headers in client stream bytes 0..412 (stream from packet 18446744073709551615)",
            ),
            (
                Clue::HttpRequestCut { len: 9, from: 10 },
                "HTTP request line and headers in client stream bytes 0..9, cut before the blank line (stream from packet 10)",
            ),
            (
                Clue::HttpStatusLine,
                "HTTP/1.x status line at the start of the server stream",
            ),
            (
                Clue::TlsClientHello { len: 517, from: 3 },
                "TLS ClientHello (517 bytes) complete, client stream from packet 3",
            ),
            (
                Clue::TlsServerHello { version: 0x0303, cipher: 0xc02f },
                "TLS ServerHello: TLS 1.2, cipher 0xc02f",
            ),
            (
                Clue::TlsServerHello { version: 0x7f1c, cipher: 0x1301 },
                "TLS ServerHello: TLS 1.3 draft 28, cipher 0x1301",
            ),
            (
                Clue::TlsServerHello { version: 0x0a0a, cipher: 0x000a },
                "TLS ServerHello: 0x0a0a, cipher 0x000a",
            ),
            (
                Clue::TlsRecords { count: 4, client: false },
                "4 consecutive TLS record headers in the server stream, no handshake seen (mid-connection)",
            ),
            (
                Clue::Sslv2ClientHello,
                "SSLv2-compatible ClientHello (no server name in this format)",
            ),
        ];
        for (clue, words) in cases {
            assert_eq!(spelled(&clue).as_deref(), Some(words));
            assert_eq!(clue.to_string(), words);
        }
        // Clues with words from elsewhere are not spelled.
        assert_eq!(
            spelled(&Clue::QuicInitial {
                version: 0x5130_3530
            }),
            None
        );
        assert_eq!(
            Clue::QuicInitial {
                version: 0x5130_3530
            }
            .to_string(),
            "QUIC Q050 client Initial(s) decrypted, ClientHello complete"
        );
    }
}
