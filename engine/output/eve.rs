//! Suricata EVE JSON: one object per line, field names as Suricata writes
//! them, so that jq filters, Elastic/Splunk pipelines and EveBox work on
//! sift's output unchanged. Fields only sift has live under `"sift"`.

use std::io::{self, Write};
use std::net::IpAddr;

mod events;
pub use events::EventTypes;

use super::json::{JsonOut, Run};
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
        tls(o, n.tls.as_deref(), n.tls_server.as_ref());
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

/// A ClientHello's fingerprints: `ja3: {hash, string}, ja4, ja4_r`. The
/// program composes them of ASCII letters, digits and separators (a
/// non-alphanumeric ALPN byte is written in hex): nothing to escape.
fn fingerprints(o: &mut JsonOut, h: &HelloSummary) {
    o.key("ja3").begin_object();
    o.key("hash").raw_str(h.ja3_hash());
    o.key("string").raw_str(h.ja3_string());
    o.end_object();
    o.key("ja4").raw_str(h.ja4());
    o.key("ja4_r").raw_str(h.ja4_r());
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
        o.key("cipher_suite").raw(&hex16(s.cipher));
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
fn hex16(v: u16) -> [u8; 6] {
    let mut b = *b"0x0000";
    b[2..].copy_from_slice(&crate::hex::quad(v));
    b
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
        o.key("what");
        if !o.spelled(|put| e.what.spell(put)) {
            o.display(&e.what);
        }
        o.end_object();
    }
    o.end_array();
}

/// `flow: {...}`: counters, times, state and why it ended.
fn flow_info(o: &mut JsonOut, r: &FlowRecord, start: &EveTime, alerted: bool) {
    o.begin_object();
    o.run::<256>(|w| {
        w.text(b"\"pkts_toserver\":")
            .uint(r.pkts_toserver)
            .text(b",\"pkts_toclient\":")
            .uint(r.pkts_toclient)
            .text(b",\"bytes_toserver\":")
            .uint(r.bytes_toserver)
            .text(b",\"bytes_toclient\":")
            .uint(r.bytes_toclient)
            .text(b",\"start\":\"")
            .text(start.as_bytes())
            .text(b"\",\"end\":\"")
            .text(EveTime::new(r.end).as_bytes())
            .text(b"\",\"age\":")
            .uint(r.end.saturating_sub(r.start) / crate::capture::NANOS_PER_SEC)
            .text(b",\"state\":\"")
            .text(r.state.as_str().as_bytes())
            .text(b"\",\"reason\":\"")
            .text(r.reason.as_str().as_bytes())
            .text(if alerted {
                b"\",\"alerted\":true"
            } else {
                b"\",\"alerted\":false"
            });
    });
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

/// An address's text into a run: IPv6 as RFC 5952 and the standard
/// library write it (`::ffff:a.b.c.d` for IPv4-mapped addresses).
fn ip<const N: usize>(r: &mut Run<'_, N>, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => ipv4(r, v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                r.text(b"::ffff:");
                ipv4(r, v4);
            }
            None => {
                let seg = v6.segments();
                // The longest run of zero groups (the first of equals) is
                // written `::` when it spans two or more.
                let (mut run, mut best) = ((0, 0), (0, 0));
                for (i, &g) in seg.iter().enumerate() {
                    if g != 0 {
                        run = (i + 1, 0);
                        continue;
                    }
                    run.1 += 1;
                    if run.1 > best.1 {
                        best = run;
                    }
                }
                if best.1 > 1 {
                    groups(r, &seg[..best.0]);
                    r.text(b"::");
                    groups(r, &seg[best.0 + best.1..]);
                } else {
                    groups(r, &seg);
                }
            }
        },
    }
}

/// An endpoint's members: its address under `ip_key` (with its opening
/// quote), its port under `port_key` when the protocol has ports.
#[inline(always)]
fn endpoint<const N: usize>(
    r: &mut Run<'_, N>,
    ip_key: &[u8],
    port_key: &[u8],
    e: Endpoint,
    ports: bool,
) {
    r.text(ip_key);
    ip(r, e.addr);
    r.text(b"\"");
    if ports {
        r.text(port_key).uint(e.port.into());
    }
}

/// Dotted decimal, written in one window: each octet's digits copied
/// whole from the table (the window has room past the text), the place
/// advanced by their count.
#[inline]
fn ipv4<const N: usize>(r: &mut Run<'_, N>, v4: std::net::Ipv4Addr) {
    r.window(|w: &mut [u8; 16]| {
        let mut at = 0;
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                w[at] = b'.';
                at += 1;
            }
            let [n, digits @ ..] = OCTETS[usize::from(octet)];
            w[at..at + 3].copy_from_slice(&digits);
            at += usize::from(n);
        }
        at
    });
}

/// IPv6 groups, colon-separated, in lowercase hex without leading zeros.
fn groups<const N: usize>(r: &mut Run<'_, N>, groups: &[u16]) {
    for (i, &g) in groups.iter().enumerate() {
        if i > 0 {
            r.text(b":");
        }
        let digits = (16 - g.leading_zeros()).div_ceil(4).max(1) as usize;
        let hex = crate::hex::quad(g);
        r.text(&hex[4 - digits..]);
    }
}

/// Each octet's decimal text: its length, then its digits (padded).
const OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let d = [(v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8];
        t[v] = if v >= 100 {
            [3, b'0' + d[0], b'0' + d[1], b'0' + d[2]]
        } else if v >= 10 {
            [2, b'0' + d[1], b'0' + d[2], 0]
        } else {
            [1, b'0' + d[2], 0, 0]
        };
        v += 1;
    }
    t
};

/// How records become EVE lines: what the writer needs besides the
/// records (input names). Worker threads render with it ahead of the
/// writer, which then only copies their bytes in order.
#[derive(Clone, Debug)]
pub struct EveFormat {
    /// Each input's member as every line writes it, escaped once:
    /// `"pcap_filename":"..."`, or for an interface `"in_iface":"..."`.
    inputs: Vec<Box<[u8]>>,
    /// The event types written.
    events: EventTypes,
}

/// Writes EVE records to a byte sink, through a buffer of its own: each
/// line is rendered where it will be written from (no copy into a second
/// buffer), and the sink gets [`EveWriter::BUFFER`] bytes or more a write.
/// Whatever is buffered is written by [`EveWriter::flush`], and when the
/// writer is dropped (errors then ignored, as `BufWriter` does).
pub struct EveWriter<W: Write> {
    out: W,
    format: EveFormat,
    /// Lines not yet written.
    buf: Vec<u8>,
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

    /// Bytes gathered before they are written.
    pub const BUFFER: usize = 1 << 16;

    fn with(out: W, format: EveFormat) -> Self {
        EveWriter {
            out,
            format,
            buf: Vec::with_capacity(Self::BUFFER + 4096),
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
        let at = self.buf.len();
        if let Err(e) = self.format.event(ev, &mut self.buf) {
            self.buf.truncate(at);
            return Err(e);
        }
        self.written()
    }

    /// Writes a line [`EveFormat::event`] rendered.
    pub fn rendered(&mut self, line: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(line);
        self.written()
    }

    /// Hands the sink a full buffer.
    fn written(&mut self) -> io::Result<()> {
        if self.buf.len() < Self::BUFFER {
            return Ok(());
        }
        self.drain()
    }

    /// Writes out what is buffered. On an error nothing is kept: a line
    /// is never written twice.
    fn drain(&mut self) -> io::Result<()> {
        let r = self.out.write_all(&self.buf);
        self.buf.clear();
        r
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }
}

impl<W: Write> Drop for EveWriter<W> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.drain();
            let _ = self.out.flush();
        }
    }
}

impl EveFormat {
    /// For capture files: `files` names each input, for `pcap_filename`.
    pub fn files(files: Vec<String>) -> Self {
        Self::inputs("pcap_filename", &files)
    }

    /// Inputs named by `key`, each member rendered once.
    fn inputs(key: &str, names: &[String]) -> Self {
        let inputs = names
            .iter()
            .map(|name| {
                let mut member = Vec::new();
                JsonOut::new(&mut member).key(key).str(name);
                member.into_boxed_slice()
            })
            .collect();
        EveFormat {
            inputs,
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
        Self::inputs("in_iface", &interfaces)
    }

    /// The fields every event starts with: time, flow, tuple, protocol;
    /// input `file` names the capture file (`pcap_filename`), or in a
    /// live capture the interface (`in_iface`).
    #[allow(clippy::too_many_arguments)]
    fn head(
        &self,
        o: &mut JsonOut,
        event_type: &'static str,
        ts: &EveTime,
        flow_id: u64,
        file: u32,
        client: Endpoint,
        server: Endpoint,
        proto: u8,
        app: AppProto,
    ) {
        // Two runs on the stack (see `Run`), around the input's member.
        o.run::<64>(|r| {
            r.text(b"\"timestamp\":\"")
                .text(ts.as_bytes())
                .text(b"\",\"flow_id\":")
                .uint(flow_id);
        });
        if let Some(input) = self.inputs.get(file as usize) {
            o.member(input);
        }
        o.run::<256>(|r| {
            let ports = proto::has_ports(proto);
            r.text(b"\"event_type\":\"")
                .text(event_type.as_bytes())
                .text(b"\"");
            endpoint(r, b",\"src_ip\":\"", b",\"src_port\":", client, ports);
            endpoint(r, b",\"dest_ip\":\"", b",\"dest_port\":", server, ports);
            r.text(b",\"proto\":\"");
            match proto::name(proto) {
                Some(name) => r.text(name.as_bytes()),
                None => r.uint(proto.into()),
            };
            r.text(b"\",\"app_proto\":\"")
                .text(app.as_str().as_bytes())
                .text(b"\"");
        });
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
        // The event's timestamp is the flow's start.
        let start = EveTime::new(r.start);
        line(out, |o| {
            self.head(
                o,
                "flow",
                &start,
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
            flow_info(o, r, &start, alerted);
            o.key("sift");
            sift_info(o, r, names, verdict);
        });
    }

    fn alert(&self, a: &AlertRecord, out: &mut Vec<u8>) {
        line(out, |o| {
            self.head(
                o,
                "alert",
                &EveTime::new(a.ts),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn text(addr: IpAddr) -> String {
        let mut v = Vec::new();
        JsonOut::new(&mut v).run::<64>(|r| {
            r.text(b"\"");
            ip(r, addr);
            r.text(b"\"");
        });
        String::from_utf8(v).unwrap()
    }

    /// A sink that keeps what it is given and counts the writes.
    #[derive(Clone, Default)]
    struct Kept(std::rc::Rc<std::cell::RefCell<(Vec<u8>, usize)>>);

    impl Write for Kept {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let mut k = self.0.borrow_mut();
            k.0.extend_from_slice(b);
            k.1 += 1;
            Ok(b.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The writer's buffer loses, repeats and reorders nothing: its output
    /// is every line as the format renders it, in order, whether written
    /// by `event` or given rendered, written out in large pieces, and the
    /// rest delivered by `flush` or, without one, when it is dropped.
    #[test]
    fn the_writer_delivers_every_line_in_order() {
        let format = EveFormat::files(vec!["a.pcap".into()]);
        let events: Vec<Event> = (0..2_000)
            .map(|i| Event::Flow(Box::new(FlowRecord::sample(i))))
            .collect();
        let mut want = Vec::new();
        for ev in &events {
            format.event(ev, &mut want).unwrap();
        }
        for flush in [true, false] {
            let kept = Kept::default();
            let mut w = EveWriter::new(kept.clone(), vec!["a.pcap".into()]);
            for (i, ev) in events.iter().enumerate() {
                if i % 3 == 0 {
                    let mut line = Vec::new();
                    format.event(ev, &mut line).unwrap();
                    w.rendered(&line).unwrap();
                } else {
                    w.event(ev).unwrap();
                }
            }
            let writes = kept.0.borrow().1;
            assert!(writes >= 1 && writes <= want.len() / EveWriter::<Kept>::BUFFER);
            if flush {
                w.flush().unwrap();
            } else {
                drop(w);
            }
            let k = kept.0.borrow();
            assert_eq!(k.0.len(), want.len());
            assert!(k.0 == want, "flush {flush}");
        }
    }

    /// The standard library's `Display` is the oracle (EVE wrote it).
    #[test]
    fn addresses_as_std_writes_them() {
        let mut addrs: Vec<IpAddr> = [
            "0.0.0.0",
            "9.10.99.100",
            "255.255.255.255",
            "192.168.1.1",
            "::",
            "::1",
            "1::",
            "::ffff:10.0.0.1",
            "::ffff:0:0",
            "::10.0.0.1",
            "64:ff9b::192.0.2.33",
            "2001:db8::1",
            "2001:db8:0:0:1:0:0:1",
            "2001:db8:0:1:1:1:1:1",
            "2001:0:0:1:0:0:0:1",
            "fe80::1:0:0:0",
            "1:0:1:0:1:0:1:0",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "0:0:0:0:0:0:0:1",
            "0:1:0:0:1:0:0:0",
            "ff02::fb",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        // Every pattern of zero and non-zero groups, with groups of each
        // width.
        for mask in 0u32..256 {
            let g = |i: u32| match (mask >> i) & 1 {
                0 => 0,
                _ => [0x1, 0x2a, 0xbcd, 0xf00d][(i % 4) as usize],
            };
            let seg: [u16; 8] = std::array::from_fn(|i| g(i as u32));
            addrs.push(IpAddr::V6(Ipv6Addr::from(seg)));
        }
        for v in [0u32, 1, 0x0a00_0001, 0xffff_ffff, 0x6440_0001] {
            addrs.push(IpAddr::V4(Ipv4Addr::from(v)));
        }
        for a in addrs {
            assert_eq!(text(a), format!("\"{a}\""), "{a:?}");
        }
    }
}
