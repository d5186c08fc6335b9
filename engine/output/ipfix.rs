//! IPFIX export (RFC 7011) of every flow record over UDP, so that flow
//! collectors (nfcapd, ntopng, ElastiFlow) store sift's flows beside the
//! ones they already count.
//!
//! Each flow is one biflow data record (RFC 5103: the client → server
//! counters in the usual elements, server → client in the reverse ones,
//! PEN 29305): the 5-tuple, start and end in milliseconds, packets and
//! octets each way, the end reason, the application as RFC 6759 names it
//! (`applicationId` with classification engine 20, PANA-L7-PEN: sift's
//! enterprise number then its protocol number; `applicationName`), and
//! sift's own fields as enterprise-specific elements of
//! [`IpfixConfig::pen`] (see [`SIFT_ELEMENTS`]): server name, VPN protocol
//! and confidence, obfuscation class, suspects and confidence, evasion,
//! rule verdict, JA4, and sift's flow id to join the EVE record. Strings
//! are variable-length fields (empty when the flow has none).
//!
//! sift has no enterprise number of its own: the default is 32473, the
//! number IANA reserves for documentation (RFC 5612); `--ipfix-pen` sets
//! the one a deployment uses.
//!
//! Messages are at most [`MAX_MESSAGE`] bytes (no IP fragmentation on an
//! Ethernet path), one template per IP version. The templates go first
//! and again every [`IpfixConfig::template_interval`] (RFC 7011 §8.4: over
//! UDP a collector that starts late, or lost the template, learns it
//! again); 0 sends them in every message. UDP has no acknowledgement:
//! records count as delivered when their message was sent, a failed send
//! counts them lost.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::findings::{findings, server_name};
use super::record::{Event, FlowRecord};
use super::sink::{Sink, SinkStats};
use crate::classify::AppProto;
use crate::flow::EndReason;

/// Largest message sent: fits a 1500-byte MTU with IPv6 and UDP headers.
pub const MAX_MESSAGE: usize = 1400;
/// The IANA enterprise number reserved for documentation (RFC 5612).
pub const DOCUMENTATION_PEN: u32 = 32473;
/// RFC 5103's enterprise number for reverse-direction elements.
const REVERSE_PEN: u32 = 29305;
/// RFC 6759 classification engine: PANA-L7-PEN (the selector starts with
/// the enterprise number).
const ENGINE_PANA_L7_PEN: u8 = 20;
/// IPFIX version.
const VERSION: u16 = 10;
const TEMPLATE_SET: u16 = 2;
const TEMPLATE_V4: u16 = 256;
const TEMPLATE_V6: u16 = 257;

/// Variable length, in a field specifier.
const VARLEN: u16 = 65535;

/// sift's enterprise-specific elements: (id, name). Their values are
/// strings, except `siftFlowId` (unsigned64).
pub const SIFT_ELEMENTS: [(u16, &str); 10] = [
    (1, "siftServerName"),
    (2, "siftVpnProtocol"),
    (3, "siftVpnConfidence"),
    (4, "siftObfuscationClass"),
    (5, "siftObfuscationSuspects"),
    (6, "siftObfuscationConfidence"),
    (7, "siftEvasion"),
    (8, "siftVerdict"),
    (9, "siftJa4"),
    (10, "siftFlowId"),
];

#[derive(Clone, Debug)]
pub struct IpfixConfig {
    /// The collector, `host:port`.
    pub collector: String,
    /// Enterprise number of sift's own elements.
    pub pen: u32,
    pub observation_domain: u32,
    /// Templates are sent again after this long (zero: in every message).
    pub template_interval: Duration,
}

impl Default for IpfixConfig {
    fn default() -> Self {
        IpfixConfig {
            collector: "127.0.0.1:4739".to_string(),
            pen: DOCUMENTATION_PEN,
            observation_domain: 1,
            template_interval: Duration::from_secs(60),
        }
    }
}

/// One field specifier: element id, length, enterprise number.
type Spec = (u16, u16, Option<u32>);

/// The fields of the template for one IP version, in record order.
fn template(v6: bool, pen: u32) -> Vec<Spec> {
    let a = if v6 { 16 } else { 4 };
    let mut t: Vec<Spec> = vec![
        (152, 8, None),                      // flowStartMilliseconds
        (153, 8, None),                      // flowEndMilliseconds
        (if v6 { 27 } else { 8 }, a, None),  // sourceIPv(4|6)Address
        (if v6 { 28 } else { 12 }, a, None), // destinationIPv(4|6)Address
        (7, 2, None),                        // sourceTransportPort
        (11, 2, None),                       // destinationTransportPort
        (4, 1, None),                        // protocolIdentifier
        (1, 8, None),                        // octetDeltaCount
        (2, 8, None),                        // packetDeltaCount
        (1, 8, Some(REVERSE_PEN)),           // reverseOctetDeltaCount
        (2, 8, Some(REVERSE_PEN)),           // reversePacketDeltaCount
        (136, 1, None),                      // flowEndReason
        (95, VARLEN, None),                  // applicationId
        (96, VARLEN, None),                  // applicationName
    ];
    for (id, _) in SIFT_ELEMENTS {
        let len = if id == 10 { 8 } else { VARLEN };
        t.push((id, len, Some(pen)));
    }
    t
}

/// RFC 7011 flowEndReason.
fn end_reason(r: EndReason) -> u8 {
    match r {
        EndReason::Timeout => 1,       // idle timeout
        EndReason::ActiveTimeout => 2, // active timeout
        EndReason::TcpReuse => 3,      // end of flow detected
        EndReason::Shutdown => 4,      // forced end
        EndReason::Forced => 5,        // lack of resources
    }
}

/// RFC 6759 applicationId of `app`: engine PANA-L7-PEN, the enterprise
/// number, sift's protocol number (its place in [`AppProto`]'s list; the
/// name is the stable key, sent beside it).
fn app_id(pen: u32, app: AppProto) -> [u8; 9] {
    let mut id = [0u8; 9];
    id[0] = ENGINE_PANA_L7_PEN;
    id[1..5].copy_from_slice(&pen.to_be_bytes());
    id[5..9].copy_from_slice(&(app as u32).to_be_bytes());
    id
}

/// Appends a variable-length field (RFC 7011 §7): a length byte, or 255
/// and two length bytes; longer values are cut.
fn varlen(out: &mut Vec<u8>, v: &[u8]) {
    let v = &v[..v.len().min(MAX_MESSAGE / 2)];
    if v.len() < 255 {
        out.push(v.len() as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&(v.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(v);
}

/// Builds IPFIX messages from flow records.
pub struct Encoder {
    pen: u32,
    domain: u32,
    /// Data records sent before the message being built (the header's
    /// sequence number).
    sequence: u32,
    msg: Vec<u8>,
    /// The open data set: its template id and where its header is.
    set: Option<(u16, usize)>,
    records: u32,
    record: Vec<u8>,
    /// The last message finished.
    sent: Vec<u8>,
}

impl Encoder {
    pub fn new(pen: u32, domain: u32) -> Self {
        Encoder {
            pen,
            domain,
            sequence: 0,
            msg: Vec::with_capacity(MAX_MESSAGE),
            set: None,
            records: 0,
            record: Vec::with_capacity(256),
            sent: Vec::with_capacity(MAX_MESSAGE),
        }
    }

    fn start(&mut self) {
        self.msg.clear();
        self.msg.extend_from_slice(&VERSION.to_be_bytes());
        self.msg.extend_from_slice(&[0; 2]); // length, set when done
        self.msg.extend_from_slice(&[0; 4]); // export time, set when done
        self.msg.extend_from_slice(&self.sequence.to_be_bytes());
        self.msg.extend_from_slice(&self.domain.to_be_bytes());
        self.set = None;
        self.records = 0;
    }

    /// True when no message is being built.
    pub fn is_empty(&self) -> bool {
        self.msg.is_empty()
    }

    /// Adds the template set (both templates) to the message.
    pub fn templates(&mut self) {
        if self.msg.is_empty() {
            self.start();
        }
        self.close_set();
        let at = self.msg.len();
        self.msg.extend_from_slice(&TEMPLATE_SET.to_be_bytes());
        self.msg.extend_from_slice(&[0; 2]);
        for (id, v6) in [(TEMPLATE_V4, false), (TEMPLATE_V6, true)] {
            let t = template(v6, self.pen);
            self.msg.extend_from_slice(&id.to_be_bytes());
            self.msg.extend_from_slice(&(t.len() as u16).to_be_bytes());
            for (ie, len, pen) in t {
                let ie = if pen.is_some() { ie | 0x8000 } else { ie };
                self.msg.extend_from_slice(&ie.to_be_bytes());
                self.msg.extend_from_slice(&len.to_be_bytes());
                if let Some(p) = pen {
                    self.msg.extend_from_slice(&p.to_be_bytes());
                }
            }
        }
        let len = (self.msg.len() - at) as u16;
        self.msg[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn close_set(&mut self) {
        if let Some((_, at)) = self.set.take() {
            let len = (self.msg.len() - at) as u16;
            self.msg[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }

    /// Encodes `r` as a data record; returns false (adding nothing) when
    /// it does not fit the message being built.
    pub fn add(&mut self, r: &FlowRecord) -> bool {
        let v6 = matches!(r.client.addr, IpAddr::V6(_));
        self.encode(r, v6);
        self.push(if v6 { TEMPLATE_V6 } else { TEMPLATE_V4 })
    }

    /// Adds the record built in `self.record` to a set of template `id`.
    fn push(&mut self, id: u16) -> bool {
        if self.msg.is_empty() {
            self.start();
        }
        let need = self.record.len()
            + if self.set.is_some_and(|s| s.0 == id) {
                0
            } else {
                4
            };
        if self.msg.len() + need > MAX_MESSAGE && self.records > 0 {
            return false;
        }
        if self.set.is_none_or(|s| s.0 != id) {
            self.close_set();
            self.set = Some((id, self.msg.len()));
            self.msg.extend_from_slice(&id.to_be_bytes());
            self.msg.extend_from_slice(&[0; 2]);
        }
        self.msg.extend_from_slice(&self.record);
        self.records += 1;
        true
    }

    fn encode(&mut self, r: &FlowRecord, v6: bool) {
        let o = &mut self.record;
        o.clear();
        let ms = |ns: u64| ns / 1_000_000;
        o.extend_from_slice(&ms(r.start).to_be_bytes());
        o.extend_from_slice(&ms(r.end).to_be_bytes());
        for a in [r.client.addr, r.server.addr] {
            match a {
                IpAddr::V4(a) if !v6 => o.extend_from_slice(&a.octets()),
                IpAddr::V4(a) => o.extend_from_slice(&a.to_ipv6_mapped().octets()),
                IpAddr::V6(a) => o.extend_from_slice(&a.octets()),
            }
        }
        o.extend_from_slice(&r.client.port.to_be_bytes());
        o.extend_from_slice(&r.server.port.to_be_bytes());
        o.push(r.proto);
        for n in [
            r.bytes_toserver,
            r.pkts_toserver,
            r.bytes_toclient,
            r.pkts_toclient,
        ] {
            o.extend_from_slice(&n.to_be_bytes());
        }
        o.push(end_reason(r.reason));
        let app = r.app_proto;
        let known = app != AppProto::Unknown;
        if known {
            varlen(o, &app_id(self.pen, app));
            varlen(o, app.as_str().as_bytes());
        } else {
            varlen(o, &[]);
            varlen(o, &[]);
        }
        let names = r.names.as_deref();
        let found = names.map(findings).unwrap_or_default();
        let of = |kind: &'static str| found.iter().filter(move |f| f.kind == kind);
        let vpn = of("vpn").next();
        let obf = of("obfuscation").next();
        let evasion: Vec<&str> = of("evasion").map(|f| f.label.as_str()).collect();
        let verdict = r
            .verdict
            .as_deref()
            .and_then(|v| v.action())
            .map(|a| a.as_str());
        let ja4 = names.and_then(|n| {
            n.tls
                .as_deref()
                .or_else(|| n.quic.as_ref().and_then(|q| q.hello.as_ref()))
                .map(|h| h.ja4())
        });
        let strings: [&str; 9] = [
            names.and_then(server_name).unwrap_or(""),
            vpn.map_or("", |f| f.label.as_str()),
            vpn.and_then(|f| f.confidence).unwrap_or(""),
            obf.map_or("", |f| f.label.as_str()),
            obf.and_then(|f| f.detail.as_deref()).unwrap_or(""),
            obf.and_then(|f| f.confidence).unwrap_or(""),
            &evasion.join(","),
            verdict.unwrap_or(""),
            ja4.unwrap_or(""),
        ];
        for s in strings {
            varlen(o, s.as_bytes());
        }
        o.extend_from_slice(&r.flow_id.to_be_bytes());
    }

    /// Finishes the message being built (stamped with `export_secs`) and
    /// returns its bytes; the next one starts after its records.
    pub fn finish(&mut self, export_secs: u32) -> Option<&[u8]> {
        if self.msg.is_empty() {
            return None;
        }
        self.close_set();
        let len = self.msg.len() as u16;
        self.msg[2..4].copy_from_slice(&len.to_be_bytes());
        self.msg[4..8].copy_from_slice(&export_secs.to_be_bytes());
        self.sequence = self.sequence.wrapping_add(self.records);
        std::mem::swap(&mut self.msg, &mut self.sent);
        self.msg.clear();
        Some(&self.sent)
    }
}

/// The IPFIX sink: encodes flow records and sends full messages.
pub struct IpfixExporter {
    config: IpfixConfig,
    socket: UdpSocket,
    to: SocketAddr,
    enc: Encoder,
    next_templates: Option<Instant>,
    stats: SinkStats,
    /// Records in the message being built.
    pending: u64,
}

impl IpfixExporter {
    pub fn new(config: IpfixConfig) -> io::Result<Self> {
        let to = config
            .collector
            .to_socket_addrs()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("IPFIX collector {}: {e}", config.collector),
                )
            })?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
        let local: SocketAddr = if to.is_ipv6() {
            "[::]:0".parse().expect("address")
        } else {
            "0.0.0.0:0".parse().expect("address")
        };
        let socket = UdpSocket::bind(local)?;
        Ok(IpfixExporter {
            enc: Encoder::new(config.pen, config.observation_domain),
            stats: SinkStats {
                kind: "ipfix",
                target: format!("{} (enterprise {})", config.collector, config.pen),
                connected: true,
                ..SinkStats::default()
            },
            config,
            socket,
            to,
            next_templates: None,
            pending: 0,
        })
    }

    fn send(&mut self) {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        let n = std::mem::take(&mut self.pending);
        let Some(msg) = self.enc.finish(secs) else {
            return;
        };
        match self.socket.send_to(msg, self.to) {
            Ok(_) => self.stats.delivered += n,
            Err(e) => {
                self.stats.lost += n;
                self.stats.last_error = Some(e.to_string());
            }
        }
    }

    /// Starts a message, with the templates when they are due.
    fn open(&mut self) {
        let now = Instant::now();
        if self.next_templates.is_none_or(|t| now >= t) {
            self.enc.templates();
            self.next_templates = Some(now + self.config.template_interval);
        }
    }

    fn flow(&mut self, r: &FlowRecord) {
        if self.enc.is_empty() {
            self.open();
        }
        if !self.enc.add(r) {
            self.send();
            self.open();
            self.enc.add(r);
        }
        self.pending += 1;
    }
}

impl Sink for IpfixExporter {
    fn event(&mut self, ev: &Event, _line: Option<&[u8]>) -> io::Result<()> {
        if let Event::Flow(r) = ev {
            self.flow(r);
        }
        Ok(())
    }

    /// Sends what is built, so that records do not wait for a full message.
    fn flush(&mut self) -> io::Result<()> {
        self.send();
        Ok(())
    }

    fn finish(&mut self) -> SinkStats {
        self.send();
        self.stats.clone()
    }

    fn stats(&self) -> SinkStats {
        self.stats.clone()
    }
}
