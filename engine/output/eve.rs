//! Suricata EVE JSON: one object per line, field names as Suricata writes
//! them, so that jq filters, Elastic/Splunk pipelines and EveBox work on
//! sift's output unchanged. Fields only sift has live under `"sift"`.

use std::io::{self, Write};

use serde::Serialize;

use super::record::FlowRecord;
use super::time::eve_timestamp;
use crate::classify::dns;
use crate::decode::ip::proto;

#[derive(Serialize)]
struct EveFlow<'a> {
    timestamp: String,
    flow_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
    event_type: &'static str,
    src_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    dest_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: String,
    app_proto: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<EveHttp<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<EveDns<'a>>,
    flow: FlowInfo,
    sift: SiftInfo<'a>,
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
struct EveEvidence<'a> {
    packet: u64,
    what: &'a str,
}

#[derive(Serialize)]
struct FlowInfo {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: String,
    end: String,
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
    evidence: Vec<EveEvidence<'a>>,
    #[serde(skip_serializing_if = "is_zero_u32")]
    part: u32,
    #[serde(skip_serializing_if = "is_zero_u8")]
    tunnels: u8,
    #[serde(skip_serializing_if = "is_zero_u32")]
    truncated_pkts: u32,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

/// The EVE name of IP protocol `p` (its number when it has no name).
pub fn proto_name(p: u8) -> String {
    proto::name(p).map_or_else(|| p.to_string(), str::to_string)
}

/// Writes EVE records to a byte sink.
pub struct EveWriter<W: Write> {
    out: W,
    files: Vec<String>,
}

impl<W: Write> EveWriter<W> {
    /// `files` names each input, for `pcap_filename`.
    pub fn new(out: W, files: Vec<String>) -> Self {
        EveWriter { out, files }
    }

    pub fn flow(&mut self, r: &FlowRecord) -> io::Result<()> {
        let ports = proto::has_ports(r.proto);
        let names = r.names.as_deref();
        let eve = EveFlow {
            timestamp: eve_timestamp(r.start),
            flow_id: r.flow_id,
            pcap_filename: self.files.get(r.file as usize).map(String::as_str),
            event_type: "flow",
            src_ip: r.client.addr.to_string(),
            src_port: ports.then_some(r.client.port),
            dest_ip: r.server.addr.to_string(),
            dest_port: ports.then_some(r.server.port),
            proto: proto_name(r.proto),
            app_proto: r.app_proto.as_str(),
            http: names.and_then(|n| n.http.as_ref()).map(|h| EveHttp {
                hostname: h.hostname.as_deref(),
                url: &h.url,
                http_method: &h.method,
                protocol: &h.version,
                http_user_agent: h.user_agent.as_deref(),
            }),
            dns: names.and_then(|n| n.dns.as_ref()).map(|d| EveDns {
                kind: if d.response { "answer" } else { "query" },
                id: d.id,
                rrname: &d.rrname,
                rrtype: dns::type_name(d.rrtype)
                    .map_or_else(|| d.rrtype.to_string(), str::to_string),
                rcode: d.response.then_some(d.rcode),
            }),
            flow: FlowInfo {
                pkts_toserver: r.pkts_toserver,
                pkts_toclient: r.pkts_toclient,
                bytes_toserver: r.bytes_toserver,
                bytes_toclient: r.bytes_toclient,
                start: eve_timestamp(r.start),
                end: eve_timestamp(r.end),
                age: (r.end.saturating_sub(r.start)) / crate::capture::NANOS_PER_SEC,
                state: r.state.as_str(),
                reason: r.reason.as_str(),
                alerted: false,
            },
            sift: SiftInfo {
                first_packet: r.first_packet,
                packets_to_verdict: names.map(|n| n.packets_to_verdict).filter(|&n| n > 0),
                evidence: names
                    .map(|n| {
                        n.evidence
                            .iter()
                            .map(|e| EveEvidence {
                                packet: e.packet,
                                what: &e.what,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                part: r.part,
                tunnels: r.tunnels,
                truncated_pkts: r.truncated_pkts,
            },
        };
        serde_json::to_writer(&mut self.out, &eve)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
