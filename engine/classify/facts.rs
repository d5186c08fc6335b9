//! What classification found on a flow, as typed data: the facts
//! ([`Fact`], gathered into the flow's [`Names`]) and the packets that
//! showed them ([`Evidence`], each with a [`Clue`]). Words are made of them
//! only when a record is written ([`Clue`]'s `Display`).

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

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::DnsDatagram { response } => {
                write!(f, "DNS {} in one datagram", if *response { "response" } else { "query" })
            }
            Clue::DnsDialect { dialect, response } => {
                let what = if *response { "response" } else { "query" };
                let name = dialect.as_str();
                match dialect {
                    dns::Dialect::Mdns => write!(f, "{name} {what} in one datagram (a DNS message on UDP port {})", dns::MDNS_PORT),
                    dns::Dialect::Llmnr => write!(f, "{name} {what} in one datagram (a DNS message on UDP port {})", dns::LLMNR_PORT),
                    dns::Dialect::Nbns => write!(f, "{name} {what} in one datagram (a first-level encoded NetBIOS name)"),
                    dns::Dialect::Dns => write!(f, "{name} {what} in one datagram"),
                }
            }
            Clue::DnsOverTcp { len } => write!(f, "DNS message in client stream bytes 0..{len}"),
            Clue::DnsOverTcpResponse { len } => write!(
                f,
                "DNS response in server stream bytes 0..{len}, client side not seen"
            ),
            Clue::StartTls { dialect, asked_at } => write!(
                f,
                "{} asked in packet {asked_at}, accepted by the server: TLS follows",
                dialect.as_str()
            ),
            Clue::HttpRequest { len, from } => write!(
                f,
                "HTTP request line and headers in client stream bytes 0..{len} (stream from packet {from})"
            ),
            Clue::HttpRequestCut { len, from } => write!(
                f,
                "HTTP request line and headers in client stream bytes 0..{len}, cut before the blank line (stream from packet {from})"
            ),
            Clue::HttpStatusLine => f.write_str("HTTP/1.x status line at the start of the server stream"),
            Clue::TlsClientHello { len, from } => write!(
                f,
                "TLS ClientHello ({len} bytes) complete, client stream from packet {from}"
            ),
            Clue::TlsServerHello { version, cipher } => write!(
                f,
                "TLS ServerHello: {}, cipher 0x{cipher:04x}",
                summary::tls_version_name(*version)
            ),
            Clue::TlsRecords { count, client } => write!(
                f,
                "{count} consecutive TLS record headers in the {} stream, no handshake seen (mid-connection)",
                if *client { "client" } else { "server" }
            ),
            Clue::Sslv2ClientHello => f.write_str("SSLv2-compatible ClientHello (no server name in this format)"),
            Clue::QuicInitial { version } => write!(
                f,
                "QUIC {} client Initial(s) decrypted, ClientHello complete",
                summary::quic_version_name(*version)
            ),
            Clue::GquicChlo { version } => {
                write!(f, "Google QUIC {} CHLO", summary::quic_version_name(*version))
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
