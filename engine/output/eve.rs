//! Suricata EVE JSON: one object per line, field names as Suricata writes
//! them, so that jq filters, Elastic/Splunk pipelines and EveBox work on
//! sift's output unchanged. Fields only sift has live under `"sift"`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

mod events;
pub use events::EventTypes;

use super::record::{AlertRecord, Event, FlowRecord};
use super::time::EveTime;
use crate::classify::evasion::{fooling, Evasion};
use crate::classify::obfuscation::Obfuscation;
use crate::classify::summary::{
    quic_version_name, tls_version_name, HelloSummary, QuicSummary, ServerSummary,
};
use crate::classify::tls::Ech;
use crate::classify::vpn::VpnFacts;
use crate::classify::{AppProto, Evidence, Names};
use crate::decode::ip::proto;
use crate::flow::key::Endpoint;
use crate::rules::eval::{Hit, Verdict};
use crate::rules::Action;

/// The fields every event starts with: time, flow, tuple, protocol.
#[derive(Serialize)]
struct Head<'a> {
    timestamp: EveTime,
    flow_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
    /// The interface a live capture saw the flow on.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a str>,
    event_type: &'static str,
    src_ip: IpText,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    dest_ip: IpText,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: Cow<'static, str>,
    app_proto: &'a str,
}

#[derive(Serialize)]
struct EveFlow<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    #[serde(flatten)]
    app: AppLayer<'a>,
    /// The action of the rule that decides the flow's verdict (Suricata
    /// 7's `verdict` object).
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<EveVerdict>,
    flow: FlowInfo,
    sift: SiftInfo<'a>,
}

/// What the payload showed, per protocol: the same objects in flow and
/// alert events.
#[derive(Serialize)]
struct AppLayer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<EveTls<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quic: Option<EveQuic<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpn: Option<EveVpn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<EveHttp<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<EveDns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    obfuscation: Option<EveObfuscation<'a>>,
    /// sift-only: what the client did to fool DPI.
    #[serde(skip_serializing_if = "Option::is_none")]
    evasion: Option<EveEvasion<'a>>,
}

impl<'a> AppLayer<'a> {
    fn of(names: Option<&'a Names>) -> Self {
        AppLayer {
            tls: names.and_then(|n| EveTls::new(n.tls.as_ref(), n.tls_server.as_ref())),
            quic: names.and_then(|n| n.quic.as_ref()).map(EveQuic::new),
            vpn: names.and_then(|n| n.vpn.as_ref()).map(EveVpn),
            obfuscation: names
                .and_then(|n| n.obfuscation.as_ref())
                .map(EveObfuscation),
            evasion: names.and_then(|n| n.evasion.as_deref()).map(EveEvasion),
            http: names.and_then(|n| n.http.as_ref()).map(EveHttp::of),
            dns: names.and_then(|n| n.dns.as_ref()).map(EveDns::of),
        }
    }
}

impl<'a> EveHttp<'a> {
    fn of(h: &'a crate::classify::http::HttpRequest) -> Self {
        EveHttp {
            hostname: h.hostname.as_deref(),
            url: &h.url,
            http_method: &h.method,
            protocol: &h.version,
            http_user_agent: h.user_agent.as_deref(),
        }
    }
}

impl<'a> EveDns<'a> {
    fn of(d: &'a crate::classify::dns::DnsQuestion) -> Self {
        EveDns {
            kind: if d.response { "answer" } else { "query" },
            id: d.id,
            rrname: &d.rrname,
            rrtype: d
                .type_name()
                .map_or_else(|| d.rrtype.to_string(), str::to_string),
            rcode: d.response.then_some(d.rcode),
        }
    }
}

#[derive(Serialize)]
struct EveVerdict {
    action: &'static str,
}

/// `alert: {...}` as Suricata writes it; `action` is the rule's action
/// (sift records verdicts, it never blocks).
#[derive(Serialize)]
struct AlertInfo<'a> {
    action: &'static str,
    gid: u32,
    signature_id: u32,
    rev: u32,
    signature: &'a str,
    category: &'a str,
    severity: u8,
}

#[derive(Serialize)]
struct EveAlert<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    alert: AlertInfo<'a>,
    #[serde(flatten)]
    app: AppLayer<'a>,
    sift: AlertSift<'a>,
}

#[derive(Serialize)]
struct AlertSift<'a> {
    /// Input position of the packet that completed the match.
    packet: u64,
    /// Which condition saw which value.
    matched: Vec<EveWhy<'a>>,
}

/// One condition that held: `{condition, value, pattern}`.
#[derive(Serialize)]
struct EveWhy<'a> {
    condition: &'a str,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'a str>,
    /// `file:line` of the list entry (address, URL and registry lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a str>,
    /// The registry decision that listed the entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<EveDecision<'a>>,
}

#[derive(Serialize)]
struct EveDecision<'a> {
    number: &'a str,
    date: &'a str,
}

fn whys(h: &Hit) -> Vec<EveWhy<'_>> {
    h.why
        .iter()
        .map(|w| EveWhy {
            condition: &w.condition,
            value: &w.value,
            pattern: w.pattern.as_deref(),
            entry: w.entry.as_deref(),
            decision: w
                .decision
                .as_ref()
                .map(|(number, date)| EveDecision { number, date }),
        })
        .collect()
}

/// A rule a flow matched, in the flow event's `sift.rules`.
#[derive(Serialize)]
struct EveRuleHit<'a> {
    signature_id: u32,
    rev: u32,
    action: &'static str,
    signature: &'a str,
    priority: u8,
    matched: Vec<EveWhy<'a>>,
}

#[derive(Serialize)]
struct EveTls<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni_raw: Option<&'a str>,
    /// Negotiated (ServerHello) when seen, else the highest the client offers.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    client_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alpn: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3: Option<EveJa3<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja4: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja4_r: Option<&'a str>,
    /// "present", "grease" (likely GREASE ECH) or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    ech: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cipher_suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_alpn: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hello_retry_request: bool,
}

#[derive(Serialize)]
struct EveQuic<'a> {
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni_raw: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alpn: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3: Option<EveJa3<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja4: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja4_r: Option<&'a str>,
}

impl<'a> EveQuic<'a> {
    fn new(q: &'a QuicSummary) -> Self {
        let h = q.hello.as_ref();
        EveQuic {
            version: quic_version_name(q.version),
            sni: q.sni(),
            sni_raw: h.and_then(|h| h.sni_raw.as_deref()),
            alpn: h.map(|h| h.alpn.as_slice()).filter(|a| !a.is_empty()),
            ja3: h.map(|h| EveJa3 {
                hash: &h.ja3_hash,
                string: &h.ja3_string,
            }),
            ja4: h.map(|h| h.ja4.as_str()),
            ja4_r: h.map(|h| h.ja4_r.as_str()),
        }
    }
}

/// `vpn: {protocol, confidence, <details>...}`.
struct EveVpn<'a>(&'a VpnFacts);

impl Serialize for EveVpn<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let v = self.0;
        let mut m = s.serialize_map(Some(2 + v.details.len()))?;
        m.serialize_entry("protocol", v.protocol.as_str())?;
        m.serialize_entry("confidence", v.confidence.as_str())?;
        for (k, val) in &v.details {
            m.serialize_entry(k, &val.to_string())?;
        }
        m.end()
    }
}

/// `obfuscation: {class, confidence, suspects, features: {...}, evidence: [...]}`.
struct EveObfuscation<'a>(&'a Obfuscation);

impl Serialize for EveObfuscation<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let o = self.0;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("class", o.class.as_str())?;
        m.serialize_entry("confidence", o.confidence.as_str())?;
        let suspects: Vec<&str> = o.suspects.iter().map(|s| s.as_str()).collect();
        m.serialize_entry("suspects", &suspects)?;
        let features: serde_json::Map<String, serde_json::Value> = o
            .features
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.to_string().into()))
            .collect();
        m.serialize_entry("features", &features)?;
        m.serialize_entry("evidence", &evidence(&o.evidence))?;
        m.end()
    }
}

/// `evasion: [{technique, fooling: [...], decoy, packets: [...]}]`, one
/// object per technique; `fooling` and `decoy` only when known.
struct EveEvasion<'a>(&'a Evasion);

impl Serialize for EveEvasion<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct One<'a>(&'a crate::classify::evasion::Entry);
        impl Serialize for One<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let e = self.0;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("technique", e.technique.as_str())?;
                if e.fooling != 0 {
                    let f: Vec<&str> = fooling::names(e.fooling).collect();
                    m.serialize_entry("fooling", &f)?;
                }
                if let Some(d) = &e.decoy {
                    m.serialize_entry("decoy", d)?;
                }
                m.serialize_entry("packets", &e.packets)?;
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.entries.len()))?;
        for e in &self.0.entries {
            seq.serialize_element(&One(e))?;
        }
        seq.end()
    }
}

/// Evidence as EVE writes it.
fn evidence(e: &[Evidence]) -> Vec<EveEvidence> {
    e.iter()
        .map(|e| EveEvidence {
            packet: e.packet,
            what: e.what.to_string(),
        })
        .collect()
}

#[derive(Serialize)]
struct EveJa3<'a> {
    hash: &'a str,
    string: &'a str,
}

impl<'a> EveTls<'a> {
    fn new(hello: Option<&'a HelloSummary>, server: Option<&'a ServerSummary>) -> Option<Self> {
        if hello.is_none() && server.is_none() {
            return None;
        }
        let version = server
            .map(|s| s.version)
            .or_else(|| hello.map(HelloSummary::max_version))
            .map(tls_version_name);
        Some(EveTls {
            sni: hello.and_then(|h| h.sni.as_deref()),
            sni_raw: hello.and_then(|h| h.sni_raw.as_deref()),
            version,
            client_versions: hello.map_or_else(Vec::new, |h| {
                h.versions.iter().map(|&v| tls_version_name(v)).collect()
            }),
            alpn: hello.map(|h| h.alpn.as_slice()).filter(|a| !a.is_empty()),
            ja3: hello.map(|h| EveJa3 {
                hash: &h.ja3_hash,
                string: &h.ja3_string,
            }),
            ja4: hello.map(|h| h.ja4.as_str()),
            ja4_r: hello.map(|h| h.ja4_r.as_str()),
            ech: hello.and_then(|h| match h.ech {
                Ech::None => None,
                Ech::Present {
                    grease_likely: true,
                    ..
                } => Some("grease"),
                Ech::Present { .. } => Some("present"),
            }),
            cipher_suite: server.map(|s| format!("0x{:04x}", s.cipher)),
            server_alpn: server.and_then(|s| s.alpn.as_deref()),
            hello_retry_request: server.is_some_and(|s| s.hello_retry_request),
        })
    }
}

#[derive(Serialize)]
struct EveHttp<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    url: &'a str,
    http_method: &'a str,
    protocol: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_user_agent: Option<&'a str>,
}

#[derive(Serialize)]
struct EveDns<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u16,
    rrname: &'a str,
    rrtype: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcode: Option<u8>,
}

#[derive(Serialize)]
struct EveEvidence {
    packet: u64,
    what: String,
}

#[derive(Serialize)]
struct FlowInfo {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: EveTime,
    end: EveTime,
    age: u64,
    state: &'static str,
    reason: &'static str,
    alerted: bool,
}

#[derive(Serialize)]
struct SiftInfo<'a> {
    first_packet: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    packets_to_verdict: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<EveEvidence>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    part: u32,
    #[serde(skip_serializing_if = "is_zero_u8")]
    tunnels: u8,
    /// Which kinds of tunnel were opened (`gre`, `vxlan`, `gtpu`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tunnel_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    truncated_pkts: u32,
    /// DNS messages past the per-flow bound of kept transactions.
    #[serde(skip_serializing_if = "is_zero_u32")]
    dns_transactions_dropped: u32,
    /// HTTP requests past that bound.
    #[serde(skip_serializing_if = "is_zero_u32")]
    http_transactions_dropped: u32,
    /// Out-of-order TCP segments and bytes reassembly could not buffer.
    #[serde(skip_serializing_if = "Option::is_none")]
    reassembly_lost: Option<EveLost>,
    /// Every rule the flow matched, the verdict's first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<EveRuleHit<'a>>,
}

#[derive(Serialize)]
struct EveLost {
    segments: u32,
    bytes: u32,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

/// An address as text, written on the stack (two per event).
struct IpText {
    buf: [u8; 46],
    len: usize,
}

impl IpText {
    fn new(addr: IpAddr) -> Self {
        let mut t = IpText {
            buf: [0; 46],
            len: 0,
        };
        match addr {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.push(b'.');
                    }
                    t.decimal(octet);
                }
            }
            // The longest IPv6 text (45 bytes) fits.
            IpAddr::V6(v6) => write!(t, "{v6}").expect("an IPv6 address fits"),
        }
        t
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn decimal(&mut self, v: u8) {
        if v >= 100 {
            self.push(b'0' + v / 100);
        }
        if v >= 10 {
            self.push(b'0' + (v / 10) % 10);
        }
        self.push(b'0' + v % 10);
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("ASCII")
    }
}

impl std::fmt::Write for IpText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Serialize for IpText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How records become EVE lines: what the writer needs besides the
/// records (input names). Worker threads render with it ahead of the
/// writer, which then only copies their bytes in order.
#[derive(Clone, Debug)]
pub struct EveFormat {
    files: Vec<String>,
    /// `files` are interfaces (`in_iface`), not capture files.
    live: bool,
    /// The event types written.
    events: EventTypes,
}

/// Writes EVE records to a byte sink.
pub struct EveWriter<W: Write> {
    out: W,
    format: EveFormat,
    line: Vec<u8>,
}

impl<W: Write> EveWriter<W> {
    /// `files` names each input, for `pcap_filename`.
    pub fn new(out: W, files: Vec<String>) -> Self {
        Self::with(out, EveFormat::files(files))
    }

    /// For a live capture: `interfaces` names each, for `in_iface`.
    pub fn live(out: W, interfaces: Vec<String>) -> Self {
        Self::with(out, EveFormat::interfaces(interfaces))
    }

    fn with(out: W, format: EveFormat) -> Self {
        EveWriter {
            out,
            format,
            line: Vec::new(),
        }
    }

    pub fn format(&self) -> &EveFormat {
        &self.format
    }

    /// Writes these event types (default: `flow` and `alert`).
    pub fn set_events(&mut self, events: EventTypes) {
        self.format.events = events;
    }

    /// Writes an event's line.
    pub fn event(&mut self, ev: &Event) -> io::Result<()> {
        self.line.clear();
        self.format.event(ev, &mut self.line)?;
        self.out.write_all(&self.line)
    }

    /// Writes a line [`EveFormat::event`] rendered.
    pub fn rendered(&mut self, line: &[u8]) -> io::Result<()> {
        self.out.write_all(line)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl EveFormat {
    /// For capture files: `files` names each input, for `pcap_filename`.
    pub fn files(files: Vec<String>) -> Self {
        EveFormat {
            files,
            live: false,
            events: EventTypes::default(),
        }
    }

    /// Writes these event types (default: `flow` and `alert`).
    pub fn with_events(mut self, events: EventTypes) -> Self {
        self.events = events;
        self
    }

    /// For a live capture: `interfaces` names each, for `in_iface`.
    pub fn interfaces(interfaces: Vec<String>) -> Self {
        EveFormat {
            files: interfaces,
            live: true,
            events: EventTypes::default(),
        }
    }

    /// The fields every event starts with; input `file` names the capture
    /// file, or in a live capture the interface.
    #[allow(clippy::too_many_arguments)]
    fn head(
        &self,
        event_type: &'static str,
        ts: crate::capture::Timestamp,
        flow_id: u64,
        file: u32,
        client: Endpoint,
        server: Endpoint,
        proto: u8,
        app: AppProto,
    ) -> Head<'_> {
        let input = self.files.get(file as usize).map(String::as_str);
        let ports = proto::has_ports(proto);
        Head {
            timestamp: EveTime::new(ts),
            flow_id,
            pcap_filename: input.filter(|_| !self.live),
            in_iface: input.filter(|_| self.live),
            event_type,
            src_ip: IpText::new(client.addr),
            src_port: ports.then_some(client.port),
            dest_ip: IpText::new(server.addr),
            dest_port: ports.then_some(server.port),
            proto: proto::label(proto),
            app_proto: app.as_str(),
        }
    }

    /// Appends an event's line (with its newline) to `out`.
    pub fn event(&self, ev: &Event, out: &mut Vec<u8>) -> io::Result<()> {
        match ev {
            Event::Flow(r) => {
                if self.events.transactions() {
                    self.transactions(r, out)?;
                }
                if self.events.has(EventTypes::FLOW) {
                    self.flow(r, out)?;
                }
                Ok(())
            }
            Event::Alert(a) if self.events.has(EventTypes::ALERT) => self.alert(a, out),
            Event::Alert(_) => Ok(()),
        }
    }

    fn flow(&self, r: &FlowRecord, out: &mut Vec<u8>) -> io::Result<()> {
        let names = r.names.as_deref();
        let verdict = r.verdict.as_deref();
        let eve = EveFlow {
            head: self.head(
                "flow",
                r.start,
                r.flow_id,
                r.file,
                r.client,
                r.server,
                r.proto,
                r.app_proto,
            ),
            app: AppLayer::of(names),
            verdict: verdict
                .and_then(Verdict::action)
                .map(|a| EveVerdict { action: a.as_str() }),
            flow: FlowInfo {
                pkts_toserver: r.pkts_toserver,
                pkts_toclient: r.pkts_toclient,
                bytes_toserver: r.bytes_toserver,
                bytes_toclient: r.bytes_toclient,
                start: EveTime::new(r.start),
                end: EveTime::new(r.end),
                age: (r.end.saturating_sub(r.start)) / crate::capture::NANOS_PER_SEC,
                state: r.state.as_str(),
                reason: r.reason.as_str(),
                alerted: verdict.is_some_and(|v| {
                    v.action() != Some(Action::Pass) && v.hits.iter().any(|h| h.action.alerts())
                }),
            },
            sift: SiftInfo {
                first_packet: r.first_packet,
                packets_to_verdict: names.map(|n| n.packets_to_verdict).filter(|&n| n > 0),
                evidence: names.map(|n| evidence(&n.evidence)).unwrap_or_default(),
                part: r.part,
                tunnels: r.tunnels,
                tunnel_types: crate::decode::udp_tunnel::Kind::names(r.tunnel_kinds).collect(),
                truncated_pkts: r.truncated_pkts,
                dns_transactions_dropped: names.map_or(0, |n| n.dns_transactions_dropped),
                http_transactions_dropped: names.map_or(0, |n| n.http_transactions_dropped),
                reassembly_lost: (r.lost.segments > 0).then_some(EveLost {
                    segments: r.lost.segments,
                    bytes: r.lost.bytes,
                }),
                rules: verdict.map_or_else(Vec::new, |v| {
                    v.hits
                        .iter()
                        .map(|h| EveRuleHit {
                            signature_id: h.id,
                            rev: h.rev,
                            action: h.action.as_str(),
                            signature: &h.msg,
                            priority: h.priority,
                            matched: whys(h),
                        })
                        .collect()
                }),
            },
        };
        line(out, &eve)
    }

    fn alert(&self, a: &AlertRecord, out: &mut Vec<u8>) -> io::Result<()> {
        let h = &a.hit;
        let eve = EveAlert {
            head: self.head(
                "alert",
                a.ts,
                a.flow_id,
                a.file,
                a.client,
                a.server,
                a.proto,
                a.app_proto,
            ),
            alert: AlertInfo {
                action: h.action.as_str(),
                gid: 1,
                signature_id: h.id,
                rev: h.rev,
                signature: &h.msg,
                category: &h.category,
                severity: h.priority,
            },
            app: AppLayer::of(a.names.as_deref()),
            sift: AlertSift {
                packet: a.packet,
                matched: whys(h),
            },
        };
        line(out, &eve)
    }
}

/// Appends `eve` as one JSON line to `out`.
fn line(out: &mut Vec<u8>, eve: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, eve)?;
    out.push(b'\n');
    Ok(())
}
