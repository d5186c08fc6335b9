//! Suricata EVE JSON: one object per line, field names as Suricata writes
//! them, so that jq filters, Elastic/Splunk pipelines and EveBox work on
//! sift's output unchanged. Fields only sift has live under `"sift"`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

mod events;
pub use events::EventTypes;

use super::json::JsonOut;
use super::record::{AlertRecord, Event, FlowRecord};
use super::time::EveTime;
use crate::classify::dns::DnsQuestion;
use crate::classify::evasion::{fooling, Evasion};
use crate::classify::http::HttpRequest;
use crate::classify::obfuscation::Obfuscation;
use crate::classify::summary::{HelloSummary, QuicSummary, QuicVersion, ServerSummary, TlsVersion};
use crate::classify::tls::Ech;
use crate::classify::vpn::{Value, VpnFacts};
use crate::classify::{AppProto, Evidence, Names};
use crate::decode::ip::proto;
use crate::flow::key::Endpoint;
use crate::rules::eval::{Hit, Verdict};
use crate::rules::Action;

/// Appends one event as a JSON line: `{`, what `body` writes, `}\n`.
fn line(out: &mut Vec<u8>, body: impl FnOnce(&mut JsonOut)) {
    let mut o = JsonOut::new(out);
    o.begin_object();
    body(&mut o);
    o.end_object();
    out.push(b'\n');
}

/// What the payload showed, per protocol: the same objects in flow and
/// alert events (`tls`, `quic`, `vpn`, `http`, `dns`, `obfuscation` and
/// sift's own `evasion`, each when known).
fn app_layer(o: &mut JsonOut, names: Option<&Names>) {
    let Some(n) = names else {
        return;
    };
    if n.tls.is_some() || n.tls_server.is_some() {
        o.key("tls");
        tls(o, n.tls.as_ref(), n.tls_server.as_ref());
    }
    if let Some(q) = &n.quic {
        o.key("quic");
        quic(o, q);
    }
    if let Some(v) = &n.vpn {
        o.key("vpn");
        vpn(o, v);
    }
    if let Some(h) = &n.http {
        o.key("http");
        http(o, h);
    }
    if let Some(d) = &n.dns {
        o.key("dns").begin_object();
        dns_fields(o, d);
        o.end_object();
    }
    if let Some(ob) = &n.obfuscation {
        o.key("obfuscation");
        obfuscation(o, ob);
    }
    if let Some(e) = n.evasion.as_deref() {
        o.key("evasion");
        evasion(o, e);
    }
}

/// `{hostname, url, http_method, protocol, http_user_agent}`.
fn http(o: &mut JsonOut, h: &HttpRequest) {
    o.begin_object();
    if let Some(host) = &h.hostname {
        o.key("hostname").str(host);
    }
    o.key("url").str(&h.url);
    o.key("http_method").str(&h.method);
    o.key("protocol").str(&h.version);
    if let Some(ua) = &h.user_agent {
        o.key("http_user_agent").str(ua);
    }
    o.end_object();
}

/// The `dns` object's fields: `type, id, rrname, rrtype, rcode` (the last
/// in answers only); the type is its mnemonic, else its number as text.
fn dns_fields(o: &mut JsonOut, d: &DnsQuestion) {
    o.key("type")
        .raw_str(if d.response { "answer" } else { "query" });
    o.key("id").uint(d.id.into());
    o.key("rrname").str(&d.rrname);
    o.key("rrtype");
    match d.type_name() {
        Some(name) => o.raw_str(name),
        None => o.uint_str(d.rrtype.into()),
    };
    if d.response {
        o.key("rcode").uint(d.rcode.into());
    }
}

/// `alert: {...}` as Suricata writes it; `action` is the rule's action
/// (sift records verdicts, it never blocks).
fn alert_info(o: &mut JsonOut, h: &Hit) {
    o.begin_object();
    o.key("action").raw_str(h.action.as_str());
    o.key("gid").uint(1);
    o.key("signature_id").uint(h.id.into());
    o.key("rev").uint(h.rev.into());
    o.key("signature").str(&h.msg);
    o.key("category").str(&h.category);
    o.key("severity").uint(h.priority.into());
    o.end_object();
}

/// The conditions of a hit that held: `[{condition, value, pattern, entry,
/// decision: {number, date}}]`; `pattern` is the name pattern that matched
/// or the list entry, `entry` the list entry's `file:line`, `decision` the
/// registry decision that listed it, each when known.
fn whys(o: &mut JsonOut, h: &Hit) {
    o.begin_array();
    for w in &h.why {
        o.begin_object();
        o.key("condition").str(&w.condition);
        o.key("value").str(&w.value);
        if let Some(p) = &w.pattern {
            o.key("pattern").str(p);
        }
        if let Some(e) = &w.entry {
            o.key("entry").str(e);
        }
        if let Some((number, date)) = &w.decision {
            o.key("decision").begin_object();
            o.key("number").str(number);
            o.key("date").str(date);
            o.end_object();
        }
        o.end_object();
    }
    o.end_array();
}

/// The rules a flow matched, the verdict's first, in the flow event's
/// `sift.rules`: `[{signature_id, rev, action, signature, priority,
/// matched}]`.
fn rule_hits(o: &mut JsonOut, hits: &[Hit]) {
    o.begin_array();
    for h in hits {
        o.begin_object();
        o.key("signature_id").uint(h.id.into());
        o.key("rev").uint(h.rev.into());
        o.key("action").raw_str(h.action.as_str());
        o.key("signature").str(&h.msg);
        o.key("priority").uint(h.priority.into());
        o.key("matched");
        whys(o, h);
        o.end_object();
    }
    o.end_array();
}

/// A version's name: those named by a constant copied, others formatted.
fn tls_version(o: &mut JsonOut, v: u16) {
    let v = TlsVersion(v);
    match v.known() {
        Some(name) => o.raw_str(name),
        None => o.display(v),
    };
}

fn quic_version(o: &mut JsonOut, v: u32) {
    let v = QuicVersion(v);
    match v.known() {
        Some(name) => o.raw_str(name),
        None => o.display(v),
    };
}

fn strings(o: &mut JsonOut, list: &[String]) {
    o.begin_array();
    for s in list {
        o.str(s);
    }
    o.end_array();
}

/// A ClientHello's fingerprints: `ja3: {hash, string}, ja4, ja4_r`.
fn fingerprints(o: &mut JsonOut, h: &HelloSummary) {
    o.key("ja3").begin_object();
    o.key("hash").str(&h.ja3_hash);
    o.key("string").str(&h.ja3_string);
    o.end_object();
    o.key("ja4").str(&h.ja4);
    o.key("ja4_r").str(&h.ja4_r);
}

/// `tls: {...}` from the hellos seen (at least one is). `version` is the
/// negotiated one (ServerHello) when seen, else the highest the client
/// offers; `ech` is "present", "grease" (likely GREASE ECH) or absent.
fn tls(o: &mut JsonOut, hello: Option<&HelloSummary>, server: Option<&ServerSummary>) {
    o.begin_object();
    if let Some(sni) = hello.and_then(|h| h.sni.as_deref()) {
        o.key("sni").str(sni);
    }
    if let Some(raw) = hello.and_then(|h| h.sni_raw.as_deref()) {
        o.key("sni_raw").str(raw);
    }
    if let Some(v) = server
        .map(|s| s.version)
        .or_else(|| hello.map(HelloSummary::max_version))
    {
        o.key("version");
        tls_version(o, v);
    }
    if let Some(h) = hello {
        if !h.versions.is_empty() {
            o.key("client_versions").begin_array();
            for &v in &h.versions {
                tls_version(o, v);
            }
            o.end_array();
        }
        if !h.alpn.is_empty() {
            o.key("alpn");
            strings(o, &h.alpn);
        }
        fingerprints(o, h);
        match h.ech {
            Ech::None => {}
            Ech::Present {
                grease_likely: true,
                ..
            } => {
                o.key("ech").raw_str("grease");
            }
            Ech::Present { .. } => {
                o.key("ech").raw_str("present");
            }
        }
    }
    if let Some(s) = server {
        o.key("cipher_suite").raw_str(hex16(s.cipher).as_str());
        if let Some(alpn) = &s.alpn {
            o.key("server_alpn").str(alpn);
        }
        if s.hello_retry_request {
            o.key("hello_retry_request").bool(true);
        }
    }
    o.end_object();
}

/// `0x1301`, on the stack.
struct Hex16([u8; 6]);

fn hex16(v: u16) -> Hex16 {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b = *b"0x0000";
    for (i, c) in b[2..].iter_mut().enumerate() {
        *c = HEX[usize::from((v >> (12 - 4 * i)) & 0xf)];
    }
    Hex16(b)
}

impl Hex16 {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII")
    }
}

/// `quic: {version, sni, sni_raw, alpn, ja3, ja4, ja4_r}`.
fn quic(o: &mut JsonOut, q: &QuicSummary) {
    o.begin_object();
    o.key("version");
    quic_version(o, q.version);
    if let Some(sni) = q.sni() {
        o.key("sni").str(sni);
    }
    if let Some(h) = &q.hello {
        if let Some(raw) = &h.sni_raw {
            o.key("sni_raw").str(raw);
        }
        if !h.alpn.is_empty() {
            o.key("alpn");
            strings(o, &h.alpn);
        }
        fingerprints(o, h);
    }
    o.end_object();
}

/// `vpn: {protocol, confidence, <details>...}`.
fn vpn(o: &mut JsonOut, v: &VpnFacts) {
    o.begin_object();
    o.key("protocol").raw_str(v.protocol.as_str());
    o.key("confidence").raw_str(v.confidence.as_str());
    for (k, val) in &v.details {
        o.key(k);
        value(o, val);
    }
    o.end_object();
}

/// A detail or feature value, as text.
fn value(o: &mut JsonOut, v: &Value) {
    match v {
        Value::Text(t) => o.str(t),
        Value::Number(n) => o.uint_str(*n),
        v => o.display(v),
    };
}

/// `obfuscation: {class, confidence, suspects, features: {...}, evidence:
/// [...]}`; the features by name (the order EVE always wrote them in; of
/// a name given twice, the last value).
fn obfuscation(o: &mut JsonOut, ob: &Obfuscation) {
    o.begin_object();
    o.key("class").raw_str(ob.class.as_str());
    o.key("confidence").raw_str(ob.confidence.as_str());
    o.key("suspects").begin_array();
    for s in &ob.suspects {
        o.raw_str(s.as_str());
    }
    o.end_array();
    o.key("features").begin_object();
    // A handful of features: a selection in place, no sorted copy.
    let mut prev: Option<&str> = None;
    loop {
        let mut next: Option<&(&str, Value)> = None;
        for f in &ob.features {
            if prev.is_some_and(|p| f.0 <= p) {
                continue;
            }
            if next.is_none_or(|n| f.0 <= n.0) {
                next = Some(f);
            }
        }
        let Some((k, v)) = next else {
            break;
        };
        o.key(k);
        value(o, v);
        prev = Some(k);
    }
    o.end_object();
    o.key("evidence");
    evidence(o, &ob.evidence);
    o.end_object();
}

/// `evasion: [{technique, fooling: [...], decoy, packets: [...]}]`, one
/// object per technique; `fooling` and `decoy` only when known.
fn evasion(o: &mut JsonOut, ev: &Evasion) {
    o.begin_array();
    for e in &ev.entries {
        o.begin_object();
        o.key("technique").raw_str(e.technique.as_str());
        if e.fooling != 0 {
            o.key("fooling").begin_array();
            for name in fooling::names(e.fooling) {
                o.raw_str(name);
            }
            o.end_array();
        }
        if let Some(d) = &e.decoy {
            o.key("decoy").str(d);
        }
        o.key("packets").begin_array();
        for &p in &e.packets {
            o.uint(p);
        }
        o.end_array();
        o.end_object();
    }
    o.end_array();
}

/// Evidence as EVE writes it: `[{packet, what}]`.
fn evidence(o: &mut JsonOut, e: &[Evidence]) {
    o.begin_array();
    for e in e {
        o.begin_object();
        o.key("packet").uint(e.packet);
        o.key("what").display(&e.what);
        o.end_object();
    }
    o.end_array();
}

/// `flow: {...}`: counters, times, state and why it ended.
fn flow_info(o: &mut JsonOut, r: &FlowRecord, alerted: bool) {
    o.begin_object();
    o.key("pkts_toserver").uint(r.pkts_toserver);
    o.key("pkts_toclient").uint(r.pkts_toclient);
    o.key("bytes_toserver").uint(r.bytes_toserver);
    o.key("bytes_toclient").uint(r.bytes_toclient);
    o.key("start").raw_str(EveTime::new(r.start).as_str());
    o.key("end").raw_str(EveTime::new(r.end).as_str());
    o.key("age")
        .uint(r.end.saturating_sub(r.start) / crate::capture::NANOS_PER_SEC);
    o.key("state").raw_str(r.state.as_str());
    o.key("reason").raw_str(r.reason.as_str());
    o.key("alerted").bool(alerted);
    o.end_object();
}

/// `sift: {...}`, what only sift records of a flow; counts and lists
/// written only when not zero or empty.
fn sift_info(o: &mut JsonOut, r: &FlowRecord, names: Option<&Names>, verdict: Option<&Verdict>) {
    o.begin_object();
    o.key("first_packet").uint(r.first_packet);
    if let Some(n) = names.map(|n| n.packets_to_verdict).filter(|&n| n > 0) {
        o.key("packets_to_verdict").uint(n.into());
    }
    if let Some(n) = names.filter(|n| !n.evidence.is_empty()) {
        o.key("evidence");
        evidence(o, &n.evidence);
    }
    if r.part != 0 {
        o.key("part").uint(r.part.into());
    }
    if r.tunnels != 0 {
        o.key("tunnels").uint(r.tunnels.into());
    }
    // Which kinds of tunnel were opened (`gre`, `vxlan`, `gtpu`, ...).
    let mut kinds = crate::decode::udp_tunnel::Kind::names(r.tunnel_kinds).peekable();
    if kinds.peek().is_some() {
        o.key("tunnel_types").begin_array();
        for k in kinds {
            o.raw_str(k);
        }
        o.end_array();
    }
    if r.truncated_pkts != 0 {
        o.key("truncated_pkts").uint(r.truncated_pkts.into());
    }
    // DNS messages and HTTP requests past the per-flow bound of kept
    // transactions.
    let (dns_dropped, http_dropped) = names.map_or((0, 0), |n| {
        (n.dns_transactions_dropped, n.http_transactions_dropped)
    });
    if dns_dropped != 0 {
        o.key("dns_transactions_dropped").uint(dns_dropped.into());
    }
    if http_dropped != 0 {
        o.key("http_transactions_dropped").uint(http_dropped.into());
    }
    // Out-of-order TCP segments and bytes reassembly could not buffer.
    if r.lost.segments > 0 {
        o.key("reassembly_lost").begin_object();
        o.key("segments").uint(r.lost.segments.into());
        o.key("bytes").uint(r.lost.bytes.into());
        o.end_object();
    }
    if let Some(v) = verdict.filter(|v| !v.hits.is_empty()) {
        o.key("rules");
        rule_hits(o, &v.hits);
    }
    o.end_object();
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

    /// The fields every event starts with: time, flow, tuple, protocol;
    /// input `file` names the capture file (`pcap_filename`), or in a
    /// live capture the interface (`in_iface`).
    #[allow(clippy::too_many_arguments)]
    fn head(
        &self,
        o: &mut JsonOut,
        event_type: &'static str,
        ts: crate::capture::Timestamp,
        flow_id: u64,
        file: u32,
        client: Endpoint,
        server: Endpoint,
        proto: u8,
        app: AppProto,
    ) {
        o.key("timestamp").raw_str(EveTime::new(ts).as_str());
        o.key("flow_id").uint(flow_id);
        if let Some(input) = self.files.get(file as usize) {
            o.key(if self.live { "in_iface" } else { "pcap_filename" })
                .str(input);
        }
        o.key("event_type").raw_str(event_type);
        let ports = proto::has_ports(proto);
        o.key("src_ip").raw_str(IpText::new(client.addr).as_str());
        if ports {
            o.key("src_port").uint(client.port.into());
        }
        o.key("dest_ip").raw_str(IpText::new(server.addr).as_str());
        if ports {
            o.key("dest_port").uint(server.port.into());
        }
        o.key("proto");
        match proto::name(proto) {
            Some(name) => o.raw_str(name),
            None => o.uint_str(proto.into()),
        };
        o.key("app_proto").raw_str(app.as_str());
    }

    /// Appends an event's line (with its newline) to `out`.
    pub fn event(&self, ev: &Event, out: &mut Vec<u8>) -> io::Result<()> {
        match ev {
            Event::Flow(r) => {
                if self.events.transactions() {
                    self.transactions(r, out);
                }
                if self.events.has(EventTypes::FLOW) {
                    self.flow(r, out);
                }
            }
            Event::Alert(a) if self.events.has(EventTypes::ALERT) => self.alert(a, out),
            Event::Alert(_) => {}
        }
        Ok(())
    }

    fn flow(&self, r: &FlowRecord, out: &mut Vec<u8>) {
        let names = r.names.as_deref();
        let verdict = r.verdict.as_deref();
        line(out, |o| {
            self.head(
                o,
                "flow",
                r.start,
                r.flow_id,
                r.file,
                r.client,
                r.server,
                r.proto,
                r.app_proto,
            );
            app_layer(o, names);
            // The action of the rule that decides the flow's verdict
            // (Suricata 7's `verdict` object).
            if let Some(action) = verdict.and_then(Verdict::action) {
                o.key("verdict").begin_object();
                o.key("action").raw_str(action.as_str());
                o.end_object();
            }
            let alerted = verdict.is_some_and(|v| {
                v.action() != Some(Action::Pass) && v.hits.iter().any(|h| h.action.alerts())
            });
            o.key("flow");
            flow_info(o, r, alerted);
            o.key("sift");
            sift_info(o, r, names, verdict);
        });
    }

    fn alert(&self, a: &AlertRecord, out: &mut Vec<u8>) {
        line(out, |o| {
            self.head(
                o,
                "alert",
                a.ts,
                a.flow_id,
                a.file,
                a.client,
                a.server,
                a.proto,
                a.app_proto,
            );
            o.key("alert");
            alert_info(o, &a.hit);
            app_layer(o, a.names.as_deref());
            // The input position of the packet that completed the match,
            // and which condition saw which value.
            o.key("sift").begin_object();
            o.key("packet").uint(a.packet);
            o.key("matched");
            whys(o, &a.hit);
            o.end_object();
        });
    }
}
