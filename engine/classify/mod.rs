//! Classifiers: what a flow carries, decided from its payload on any port.
//!
//! Each flow has an [`AppState`]. While the flow is undecided it holds a
//! lazily allocated [`Dpi`] — TCP stream reassembly per direction and the
//! probes still in the running — fed every payload packet. When a probe
//! decides, the flow gets its application protocol, the names it asked for
//! ([`Names`]) and the evidence, and the DPI state is freed: later packets
//! of the flow cost one branch. A flow that gives no verdict within
//! [`MAX_DATA_PACKETS`] payload packets, or whose probes have all refused,
//! is left `unknown` and freed the same way.
//!
//! Protocol parsers live one per module ([`dns`], [`http`], [`tls`],
//! [`quic`]); they are pure functions or small state machines over bytes,
//! with no knowledge of flows, so they are tested and fuzzed alone.

pub mod bytes;
pub mod dns;
pub mod http;
pub mod ipsec;
pub mod openvpn;
pub mod quic;
pub mod summary;
pub mod tls;
pub mod vpn;
pub mod wireguard;

use crate::decode::transport::{tcp_flags, Header};
use crate::decode::Decoded;
use crate::flow::reassembly::{Budget, Stream};
use crate::flow::{TO_CLIENT, TO_SERVER};

/// Payload packets a flow may take to be classified.
pub const MAX_DATA_PACKETS: u32 = 24;
/// Valid TLS record headers in a row that make a flow TLS without a hello.
const MIDSTREAM_RECORDS: u64 = 3;
/// Packets after a verdict during which the server's reply is still read
/// (the TLS ServerHello).
const REPLY_PACKETS: u32 = 12;

/// The application protocol of a flow (EVE `app_proto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppProto {
    #[default]
    Unknown,
    Http,
    Tls,
    Quic,
    Dns,
    OpenVpn,
    WireGuard,
    Ike,
    Esp,
    Ah,
}

impl AppProto {
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Quic => "quic",
            AppProto::Dns => "dns",
            AppProto::OpenVpn => "openvpn",
            AppProto::WireGuard => "wireguard",
            AppProto::Ike => "ike",
            AppProto::Esp => "esp",
            AppProto::Ah => "ah",
        }
    }

    /// The protocol of a VPN verdict.
    fn of_vpn(v: &vpn::VpnVerdict) -> AppProto {
        match v.protocol {
            "openvpn" => AppProto::OpenVpn,
            "wireguard" => AppProto::WireGuard,
            "ike" => AppProto::Ike,
            "ah" => AppProto::Ah,
            _ => AppProto::Esp,
        }
    }
}

/// Where a verdict came from: the input position of a packet and what it
/// showed. Kept as data and put into words only when written out.
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
    /// A DNS message of `len` bytes (length prefix included) in the client stream.
    DnsOverTcp {
        len: usize,
    },
    /// An HTTP request head of `len` bytes in the client stream, which
    /// started at packet `from`.
    HttpRequest {
        len: usize,
        from: u64,
    },
    HttpStatusLine,
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
    /// A fact a VPN fingerprinter found.
    Vpn(String),
}

impl std::fmt::Display for Clue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clue::DnsDatagram { response } => {
                write!(f, "DNS {} in one datagram", if *response { "response" } else { "query" })
            }
            Clue::DnsOverTcp { len } => write!(f, "DNS message in client stream bytes 0..{len}"),
            Clue::HttpRequest { len, from } => write!(
                f,
                "HTTP request line and headers in client stream bytes 0..{len} (stream from packet {from})"
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
            Clue::Vpn(what) => f.write_str(what),
            Clue::GquicChlo { version } => {
                write!(f, "Google QUIC {} CHLO", summary::quic_version_name(*version))
            }
        }
    }
}

/// What a flow asked for, per protocol (EVE's `tls`, `quic`, `http`, `dns`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// The ClientHello of a TLS flow.
    pub tls: Option<summary::HelloSummary>,
    /// The ServerHello of a TLS flow.
    pub tls_server: Option<summary::ServerSummary>,
    /// The client Initials of a QUIC flow.
    pub quic: Option<summary::QuicSummary>,
    /// A VPN fingerprinter's verdict.
    pub vpn: Option<vpn::VpnVerdict>,
    pub http: Option<http::HttpRequest>,
    pub dns: Option<dns::DnsQuestion>,
    pub evidence: Vec<Evidence>,
    /// The flow's packet count when the verdict was reached.
    pub packets_to_verdict: u32,
}

/// A packet as a classifier sees it.
pub struct Packet<'a, 'p> {
    pub decoded: &'a Decoded<'p>,
    /// `TO_SERVER` or `TO_CLIENT`.
    pub side: usize,
    /// Input position, for evidence.
    pub index: u64,
    /// The flow's packets so far, this one included.
    pub flow_packets: u32,
}

/// A flow's classification.
#[derive(Debug, Default)]
pub struct AppState {
    pub proto: AppProto,
    pub names: Option<Box<Names>>,
    dpi: Option<Box<Dpi>>,
    /// Nothing more to learn: later packets are not inspected.
    done: bool,
    /// SYN sequence numbers per side, kept without allocating DPI state.
    syn: [Option<u32>; 2],
    /// Payload packets inspected.
    data_packets: u16,
    /// QUIC Initial reader (UDP flows), allocated when a datagram could be
    /// QUIC, dropped when it refuses.
    quic: Option<Box<quic::QuicInitialTracker>>,
    /// The client's first datagram cannot be QUIC.
    quic_refused: bool,
    /// VPN fingerprinters, while any runs.
    vpn: Option<Box<vpn::VpnProbes>>,
    /// The client's first datagram can start no VPN protocol.
    vpn_refused: bool,
    /// Bumped whenever `proto` or what rules read of `names` change (rules
    /// check a flow again only then).
    revision: u32,
}

/// What a flow needs while it is being classified.
#[derive(Debug, Default)]
struct Dpi {
    streams: [Stream; 2],
    probes: Probes,
    /// Packets since the verdict, while a reply is awaited.
    after_verdict: u32,
}

/// The protocols a TCP flow may still turn out to be, and their buffers.
#[derive(Debug)]
struct Probes {
    http: Option<Vec<u8>>,
    /// DNS over TCP: the client's first message, length-prefixed.
    dns_tcp: Option<Vec<u8>>,
    /// The server stream's first bytes, for an HTTP status line.
    http_response: Option<Vec<u8>>,
    /// TLS handshake readers per side.
    tls: [TlsProbe; 2],
    /// The flow's first client stream byte came at this input position.
    first_client_byte: Option<u64>,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            http: Some(Vec::new()),
            dns_tcp: Some(Vec::new()),
            http_response: Some(Vec::new()),
            tls: [TlsProbe::Untried, TlsProbe::Untried],
            first_client_byte: None,
        }
    }
}

/// One side's TLS reader, allocated only when the stream's first byte can
/// start a TLS record (or an SSLv2 hello).
#[derive(Debug)]
enum TlsProbe {
    Untried,
    Reading(Box<tls::HandshakeReader>),
    Off,
}

impl TlsProbe {
    fn is_open(&self) -> bool {
        !matches!(self, TlsProbe::Off)
    }
}

/// Outcome of feeding stream bytes to the probes.
#[derive(Debug, Default)]
struct Found {
    proto: Option<AppProto>,
    names: Names,
}

impl Found {
    /// A VPN fingerprinter decided.
    fn vpn(&mut self, v: vpn::VpnVerdict) {
        self.proto = Some(AppProto::of_vpn(&v));
        for f in &v.evidence {
            self.note(f.packet, Clue::Vpn(f.what.clone()));
        }
        self.names.vpn = Some(v);
    }

    /// The flow is `proto`, as packet `packet` shows.
    fn decide(&mut self, proto: AppProto, packet: u64, what: Clue) {
        self.proto = Some(proto);
        self.note(packet, what);
    }

    /// Packet `packet` shows something worth keeping.
    fn note(&mut self, packet: u64, what: Clue) {
        self.names.evidence.push(Evidence { packet, what });
    }
}

impl AppState {
    /// True while payload may still change the verdict or add names.
    #[inline]
    /// Changes each time the protocol, a name or the ClientHello changes.
    pub fn revision(&self) -> u32 {
        self.revision
    }

    pub fn inspecting(&self) -> bool {
        !self.done
    }

    /// Bytes of DPI state held (for accounting).
    pub fn is_allocated(&self) -> bool {
        self.dpi.is_some()
    }

    /// Looks at one packet of the flow.
    pub fn inspect(&mut self, p: &Packet<'_, '_>, budget: &mut Budget) {
        if self.done {
            return;
        }
        let payload = p.decoded.transport.payload;
        match p.decoded.transport.header {
            Header::Tcp(h) => {
                if h.has(tcp_flags::SYN) {
                    self.syn[p.side].get_or_insert(h.seq);
                }
                if payload.is_empty() {
                    self.tick(p);
                    return;
                }
                let syn = self.syn[p.side];
                if is_padding(h.flags, payload)
                    && self
                        .dpi
                        .as_ref()
                        .is_none_or(|d| d.streams[p.side].delivered() == 0)
                {
                    return;
                }
                self.data_packets = self.data_packets.saturating_add(1);
                let dpi = self.dpi.get_or_insert_with(Box::default);
                let Dpi {
                    streams, probes, ..
                } = &mut **dpi;
                let stream = &mut streams[p.side];
                if let Some(isn) = syn {
                    stream.syn(isn);
                }
                let mut found = Found::default();
                let vpn = self.vpn.get_or_insert_with(Box::default);
                stream.segment(h.seq, payload, budget, &mut |bytes| {
                    probes.feed(p.side, bytes, p.index, &mut found);
                    if found.proto.is_none() && vpn.tcp_open() {
                        if let Some(v) = vpn.stream(bytes, p.side == TO_SERVER, p.index) {
                            found.vpn(v);
                        }
                    }
                });
                self.settle(found, p);
                if self.probes_exhausted() {
                    self.finish(budget);
                }
            }
            Header::Udp => {
                if payload.is_empty() {
                    return;
                }
                self.data_packets = self.data_packets.saturating_add(1);
                let mut found = Found::default();
                if self.proto == AppProto::Unknown {
                    if let Some(q) = dns::parse(payload) {
                        found.decide(
                            AppProto::Dns,
                            p.index,
                            Clue::DnsDatagram {
                                response: q.response,
                            },
                        );
                        found.names.dns = Some(q);
                    }
                }
                if found.proto.is_none() && !self.quic_refused {
                    if self.quic.is_none() {
                        if quic::might_be_quic(payload) {
                            self.quic = Some(Box::default());
                        } else if p.side == TO_SERVER {
                            self.quic_refused = true;
                        }
                    }
                    if let Some(tracker) = self.quic.as_mut() {
                        if quic_probe(tracker, payload, p, &mut found) {
                            self.quic = None;
                            self.quic_refused = true;
                        }
                    }
                }
                let plainly_not_vpn = self.vpn.is_none() && vpn::VpnProbes::unlikely_udp(payload);
                if found.proto.is_none() && !self.vpn_refused && !plainly_not_vpn {
                    let vpn = self.vpn.get_or_insert_with(Box::default);
                    if vpn.udp_open() {
                        if let Some(v) = vpn.datagram(payload, p.side == TO_SERVER, p.index) {
                            found.vpn(v);
                        }
                    }
                }
                self.settle(found, p);
                if plainly_not_vpn && p.side == TO_SERVER {
                    // The client's first datagram decides, as for QUIC.
                    self.vpn_refused = true;
                }
                let open = self.quic.is_some() || self.vpn.as_ref().is_some_and(|v| v.udp_open());
                if self.proto != AppProto::Unknown
                    || self.data_packets >= MAX_DATA_PACKETS as u16
                    || !open && self.data_packets >= 4
                {
                    self.finish(budget);
                }
                return;
            }
            Header::Ipsec { .. } => {
                self.data_packets = self.data_packets.saturating_add(1);
                let from_client = p.side == TO_SERVER;
                let vpn = self.vpn.get_or_insert_with(Box::default);
                let v = if p.decoded.proto == crate::decode::ip::proto::AH {
                    vpn.ah(payload, from_client, p.index)
                } else {
                    vpn.esp(payload, from_client, p.index)
                };
                let mut found = Found::default();
                if let Some(v) = v {
                    found.vpn(v);
                }
                self.settle(found, p);
                if self.proto != AppProto::Unknown {
                    self.finish(budget);
                }
                return;
            }
            _ => self.done = true,
        }
        if self.proto == AppProto::Unknown && self.data_packets >= MAX_DATA_PACKETS as u16 {
            self.finish(budget);
        }
    }

    /// A packet without payload: after a verdict, counts towards giving up
    /// on the reply.
    fn tick(&mut self, _p: &Packet<'_, '_>) {
        if let Some(dpi) = self.dpi.as_mut() {
            if self.proto != AppProto::Unknown {
                dpi.after_verdict += 1;
                if dpi.after_verdict > REPLY_PACKETS {
                    self.done = true;
                    self.dpi = None;
                }
            }
        }
    }

    /// Records what the probes found.
    fn settle(&mut self, found: Found, p: &Packet<'_, '_>) {
        let Found { proto, names } = found;
        let first_verdict = self.proto == AppProto::Unknown && proto.is_some();
        if let Some(proto) = proto {
            if self.proto == AppProto::Unknown {
                self.proto = proto;
            }
        }
        let has_news = names.tls.is_some()
            || names.quic.is_some()
            || names.vpn.is_some()
            || names.tls_server.is_some()
            || names.http.is_some()
            || names.dns.is_some()
            || !names.evidence.is_empty();
        // What rules look at: the protocol, the names and the hello.
        if first_verdict
            || names.tls.is_some()
            || names.quic.is_some()
            || names.http.is_some()
            || names.dns.is_some()
            || names.vpn.is_some()
        {
            self.revision = self.revision.wrapping_add(1);
        }
        if has_news {
            let mine = self.names.get_or_insert_with(Box::default);
            if first_verdict {
                mine.packets_to_verdict = p.flow_packets;
            }
            merge_names(mine, names);
        }
        if !first_verdict && self.proto != AppProto::Unknown {
            if let Some(dpi) = self.dpi.as_mut() {
                dpi.after_verdict += 1;
                if dpi.after_verdict > REPLY_PACKETS {
                    self.done = true;
                    self.dpi = None;
                }
            }
        }
    }

    /// True when nothing more can be learnt from the TCP streams.
    fn probes_exhausted(&self) -> bool {
        let Some(dpi) = &self.dpi else { return true };
        if self.proto == AppProto::Unknown && self.vpn.as_ref().is_some_and(|v| v.tcp_open()) {
            return false;
        }
        let p = &dpi.probes;
        let open = p.http.is_some()
            || p.dns_tcp.is_some()
            || p.http_response.is_some()
            || p.tls.iter().any(TlsProbe::is_open);
        !open || (dpi.streams[TO_SERVER].is_full() && dpi.streams[TO_CLIENT].is_full())
    }

    /// Stops inspecting and frees the state.
    fn finish(&mut self, budget: &mut Budget) {
        self.quic = None;
        if let Some(vpn) = self.vpn.take() {
            if self.proto == AppProto::Unknown {
                if let Some(v) = vpn.settle() {
                    let mut found = Found::default();
                    found.vpn(v);
                    self.proto = found.proto.unwrap_or_default();
                    let mine = self.names.get_or_insert_with(Box::default);
                    merge_names(mine, found.names);
                    self.revision = self.revision.wrapping_add(1);
                }
            }
        }
        if let Some(mut dpi) = self.dpi.take() {
            for s in dpi.streams.iter_mut() {
                s.release(budget);
            }
        }
        self.done = true;
    }

    /// The flow ends: frees what is held.
    pub fn close(&mut self, budget: &mut Budget) {
        self.finish(budget);
    }
}

/// Feeds a datagram to the QUIC reader; true when it has nothing more to
/// say (decided, or refused).
fn quic_probe(
    tracker: &mut quic::QuicInitialTracker,
    payload: &[u8],
    p: &Packet<'_, '_>,
    found: &mut Found,
) -> bool {
    let version = |t: &quic::QuicInitialTracker| t.version().map_or(0, |v| v.0);
    match tracker.on_datagram(payload, p.side == TO_SERVER) {
        quic::QuicProgress::NeedMore
        | quic::QuicProgress::VersionNegotiation
        | quic::QuicProgress::Retry => false,
        quic::QuicProgress::NotQuic | quic::QuicProgress::Failed(_) => true,
        quic::QuicProgress::ClientHello => {
            let hello = tracker
                .client_hello()
                .and_then(|m| m.get(4..))
                .and_then(|body| tls::parse_client_hello(body).ok())
                .map(|ch| summary::HelloSummary::new(&ch, true));
            found.decide(
                AppProto::Quic,
                p.index,
                Clue::QuicInitial {
                    version: version(tracker),
                },
            );
            found.names.quic = Some(summary::QuicSummary {
                version: version(tracker),
                hello,
                gquic_sni: None,
            });
            true
        }
        quic::QuicProgress::Chlo => {
            let sni = tracker.gquic_sni().map(|s| {
                String::from_utf8_lossy(s)
                    .to_ascii_lowercase()
                    .trim_end_matches('.')
                    .to_string()
            });
            found.decide(
                AppProto::Quic,
                p.index,
                Clue::GquicChlo {
                    version: version(tracker),
                },
            );
            found.names.quic = Some(summary::QuicSummary {
                version: version(tracker),
                hello: None,
                gquic_sni: sni,
            });
            true
        }
    }
}

/// A few zero bytes on a bare ACK before a stream has started: Ethernet
/// padding counted into the IP length by a broken sender or middlebox, not
/// data (the peer goes on as if it had not received them). Taking them as
/// data would put zeros in front of the real first bytes, which arrive
/// later at the same sequence number.
fn is_padding(flags: u8, payload: &[u8]) -> bool {
    payload.len() <= 8 && flags & tcp_flags::PSH == 0 && payload.iter().all(|&b| b == 0)
}

fn merge_names(into: &mut Names, from: Names) {
    if into.tls.is_none() {
        into.tls = from.tls;
    }
    if into.tls_server.is_none() {
        into.tls_server = from.tls_server;
    }
    if into.quic.is_none() {
        into.quic = from.quic;
    }
    if into.vpn.is_none() {
        into.vpn = from.vpn;
    }
    if from.http.is_some() && into.http.is_none() {
        into.http = from.http;
    }
    if from.dns.is_some() && into.dns.is_none() {
        into.dns = from.dns;
    }
    into.evidence.extend(from.evidence);
}

impl Probes {
    /// Feeds in-order stream bytes of `side` to the probes still running.
    fn feed(&mut self, side: usize, bytes: &[u8], index: u64, found: &mut Found) {
        if side == TO_CLIENT {
            if let Some(buf) = self.http_response.as_mut() {
                buf.extend_from_slice(&bytes[..bytes.len().min(16usize.saturating_sub(buf.len()))]);
                match http::is_response(buf) {
                    None => {}
                    Some(false) => self.http_response = None,
                    Some(true) => {
                        // Only a verdict when the request was not seen.
                        if found.proto.is_none() && self.first_client_byte.is_none() {
                            found.decide(AppProto::Http, index, Clue::HttpStatusLine);
                        }
                        self.http_response = None;
                    }
                }
            }
        }
        if side == TO_SERVER {
            self.first_client_byte.get_or_insert(index);
            if let Some(buf) = self.http.as_mut() {
                buf.extend_from_slice(
                    &bytes[..bytes.len().min(http::MAX_HEAD.saturating_sub(buf.len()))],
                );
                match http::probe(buf) {
                    http::Probe::NeedMore if buf.len() < http::MAX_HEAD => {}
                    http::Probe::Request(r) => {
                        found.decide(
                            AppProto::Http,
                            index,
                            Clue::HttpRequest {
                                len: buf.len(),
                                from: self.first_client_byte.unwrap_or(index),
                            },
                        );
                        found.names.http = Some(r);
                        self.http = None;
                        self.reject_all_but_http();
                        return;
                    }
                    _ => self.http = None,
                }
            }
            if let Some(buf) = self.dns_tcp.as_mut() {
                buf.extend_from_slice(
                    &bytes[..bytes.len().min(4096usize.saturating_sub(buf.len()))],
                );
                if buf.len() >= 2 {
                    let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
                    if !(17..=4094).contains(&len) {
                        self.dns_tcp = None;
                    } else if buf.len() >= 2 + len {
                        if let Some(q) = dns::parse(&buf[2..2 + len]) {
                            found.decide(AppProto::Dns, index, Clue::DnsOverTcp { len: 2 + len });
                            found.names.dns = Some(q);
                            self.http = None;
                        }
                        self.dns_tcp = None;
                    }
                }
            }
        }
        self.feed_tls(side, bytes, index, found);
    }

    /// Feeds the TLS reader of `side`; a ClientHello decides the flow, a
    /// ServerHello adds the server's choices.
    fn feed_tls(&mut self, side: usize, bytes: &[u8], index: u64, found: &mut Found) {
        if let TlsProbe::Untried = self.tls[side] {
            self.tls[side] = match bytes.first() {
                Some(0x14..=0x18) | Some(0x80..) => TlsProbe::Reading(Box::default()),
                _ => TlsProbe::Off,
            };
        }
        let TlsProbe::Reading(reader) = &mut self.tls[side] else {
            return;
        };
        let feed = reader.push(bytes);
        let mut done = feed.is_final();
        if let Some(msg) = reader.next_message() {
            done = true;
            let stream = self.first_client_byte.unwrap_or(index);
            match (side, msg.msg_type) {
                (TO_SERVER, tls::HandshakeType::CLIENT_HELLO) => {
                    if let Ok(ch) = tls::parse_client_hello(msg.body) {
                        found.decide(
                            AppProto::Tls,
                            index,
                            Clue::TlsClientHello {
                                len: msg.body.len() + 4,
                                from: stream,
                            },
                        );
                        found.names.tls = Some(summary::HelloSummary::new(&ch, false));
                    }
                }
                (TO_CLIENT, tls::HandshakeType::SERVER_HELLO) => {
                    if let Ok(sh) = tls::parse_server_hello(msg.body) {
                        found.note(
                            index,
                            Clue::TlsServerHello {
                                version: sh.version,
                                cipher: sh.cipher,
                            },
                        );
                        found.names.tls_server = Some(summary::ServerSummary::new(&sh));
                    }
                }
                _ => {}
            }
        }
        // A capture that starts mid-connection shows records but no hello:
        // consecutive valid record headers, each where the previous record
        // ended, with no handshake message under way, are TLS all the same
        // (without names).
        if !done
            && found.proto.is_none()
            && reader.records() >= MIDSTREAM_RECORDS
            && reader.buffered() == 0
        {
            found.decide(
                AppProto::Tls,
                index,
                Clue::TlsRecords {
                    count: reader.records(),
                    client: side == TO_SERVER,
                },
            );
            done = true;
        }
        if feed == tls::Feed::Sslv2ClientHello && side == TO_SERVER {
            found.decide(AppProto::Tls, index, Clue::Sslv2ClientHello);
        }
        if done {
            self.tls[side] = TlsProbe::Off;
        }
        if found.proto == Some(AppProto::Tls) {
            self.http = None;
            self.dns_tcp = None;
            self.http_response = None;
        }
    }

    fn reject_all_but_http(&mut self) {
        self.dns_tcp = None;
        self.http_response = None;
        self.tls = [TlsProbe::Off, TlsProbe::Off];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::transport::{TcpHeader, Transport};

    fn tcp(seq: u32, flags: u8, payload: &[u8]) -> Decoded<'_> {
        Decoded {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 6,
            transport: Transport {
                src_port: 40000,
                dst_port: 8080,
                header: Header::Tcp(TcpHeader {
                    seq,
                    ack: 0,
                    flags,
                    window: 0,
                }),
                payload,
                malformed: false,
            },
            tunnels: 0,
            truncated: false,
        }
    }

    fn udp(payload: &[u8]) -> Decoded<'_> {
        let mut d = tcp(0, 0, payload);
        d.proto = 17;
        d.transport.header = Header::Udp;
        d
    }

    fn feed(app: &mut AppState, budget: &mut Budget, packets: &[(usize, Decoded<'_>)]) {
        for (i, (side, d)) in packets.iter().enumerate() {
            let p = Packet {
                decoded: d,
                side: *side,
                index: 100 + i as u64,
                flow_packets: i as u32 + 1,
            };
            app.inspect(&p, budget);
        }
    }

    const REQ: &[u8] = b"GET /x HTTP/1.1\r\nHost: Example.ORG\r\nUser-Agent: t\r\n\r\n";

    #[test]
    fn http_request_split_and_reordered_on_any_port() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        let (a, b) = REQ.split_at(20);
        feed(
            &mut app,
            &mut budget,
            &[
                (TO_SERVER, tcp(999, tcp_flags::SYN, &[])),
                (TO_SERVER, tcp(1020, tcp_flags::ACK, b)),
                (TO_SERVER, tcp(1000, tcp_flags::ACK, a)),
            ],
        );
        assert_eq!(app.proto, AppProto::Http);
        let names = app.names.as_ref().unwrap();
        assert_eq!(
            names.http.as_ref().unwrap().hostname.as_deref(),
            Some("example.org")
        );
        assert_eq!(names.packets_to_verdict, 3);
        assert_eq!(names.evidence[0].packet, 102);
        assert_eq!(budget.used, 0, "reassembly memory returned");
    }

    #[test]
    fn dns_over_udp_and_tcp() {
        let q = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'W', b'w', b'w', 4, b't', b'e',
            b's', b't', 0, 0, 28, 0, 1,
        ];
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        feed(&mut app, &mut budget, &[(TO_SERVER, udp(&q))]);
        assert_eq!(app.proto, AppProto::Dns);
        assert_eq!(
            app.names.as_ref().unwrap().dns.as_ref().unwrap().rrname,
            "www.test"
        );
        assert!(!app.inspecting() && !app.is_allocated());
        let mut framed = vec![0, q.len() as u8];
        framed.extend_from_slice(&q);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut budget,
            &[
                (TO_SERVER, tcp(1, 0, &framed[..5])),
                (TO_SERVER, tcp(6, 0, &framed[5..])),
            ],
        );
        assert_eq!(app.proto, AppProto::Dns);
    }

    #[test]
    fn response_without_request_is_http() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        feed(
            &mut app,
            &mut budget,
            &[(TO_CLIENT, tcp(5, 0, b"HTTP/1.1 304 Not Modified\r\n\r\n"))],
        );
        assert_eq!(app.proto, AppProto::Http);
    }

    #[test]
    fn gives_up_and_frees_state() {
        let mut budget = Budget::new(1 << 20);
        let mut app = AppState::default();
        let junk = [0x5au8; 100];
        let packets: Vec<(usize, Decoded<'_>)> = (0..40u32)
            .map(|i| (TO_SERVER, udp(&junk[..(i % 50 + 20) as usize])))
            .collect();
        feed(&mut app, &mut budget, &packets);
        assert_eq!(app.proto, AppProto::Unknown);
        assert!(!app.inspecting() && !app.is_allocated());
    }
}
