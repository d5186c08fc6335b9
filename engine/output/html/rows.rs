//! Flow rows for the report, from the two places they come from: a flow
//! record of this run (its names read through
//! [`crate::output::findings`]) and a line of EVE JSON that sift wrote
//! (its objects read by name: `vpn`, `obfuscation`, `evasion` are the
//! findings, see [`FINDING_KINDS`]). Lines that are not JSON objects, or
//! not sift's flow and alert events, are skipped and counted.

use serde_json::Value;

use super::digest::FlowRow;
use crate::capture::NANOS_PER_SEC;
use crate::decode::ip::proto;
use crate::output::findings::{findings, server_name, Finding};
use crate::output::record::FlowRecord;

/// The EVE objects that are findings, and how each is read: the field
/// naming it and the field with its detail.
pub const FINDING_KINDS: [(&str, &str, &str); 3] = [
    ("vpn", "protocol", ""),
    ("obfuscation", "class", "suspects"),
    // Each element of the `evasion` array: {technique, fooling, decoy, packets}.
    ("evasion", "technique", "fooling"),
];

/// The row of a flow record, without its EVE record (`detail`), which the
/// caller renders only for rows the table keeps.
pub fn of_record(r: &FlowRecord) -> FlowRow {
    let names = r.names.as_deref();
    let has_ports = proto::has_ports(r.proto);
    FlowRow {
        flow_id: r.flow_id,
        start: r.start,
        end: r.end,
        proto: proto::label(r.proto).into_owned(),
        src: r.client.addr.to_string(),
        src_port: has_ports.then_some(r.client.port),
        dest: r.server.addr.to_string(),
        dest_port: has_ports.then_some(r.server.port),
        app: r.app_proto.as_str().to_string(),
        name: names.and_then(server_name).map(str::to_string),
        pkts: [r.pkts_toserver, r.pkts_toclient],
        bytes: [r.bytes_toserver, r.bytes_toclient],
        findings: names.map(findings).unwrap_or_default(),
        rules: r
            .verdict
            .as_deref()
            .map(|v| v.hits.iter().map(|h| (h.id, h.msg.clone())).collect())
            .unwrap_or_default(),
        verdict: r
            .verdict
            .as_deref()
            .and_then(|v| v.action())
            .map(|a| a.as_str().to_string()),
        detail: String::new(),
    }
}

/// What an EVE line is, for the report.
pub enum EveItem {
    Flow(Box<FlowRow>),
    /// An alert: signature id and message.
    Alert(u32, String),
    /// Another event type (sift writes none, Suricata many).
    Other,
}

/// Reads one EVE line; `None` when it is not a JSON object.
pub fn of_eve_line(line: &str) -> Option<EveItem> {
    let v: Value = serde_json::from_str(line).ok()?;
    let o = v.as_object()?;
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    match s("event_type") {
        Some("flow") => {}
        Some("alert") => {
            let a = o.get("alert")?;
            let id = a.get("signature_id").and_then(Value::as_u64).unwrap_or(0) as u32;
            let msg = a.get("signature").and_then(Value::as_str).unwrap_or("");
            return Some(EveItem::Alert(id, msg.to_string()));
        }
        _ => return Some(EveItem::Other),
    }
    let f = o.get("flow");
    let n = |k: &str| {
        f.and_then(|f| f.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let t = |k: &str| {
        f.and_then(|f| f.get(k))
            .and_then(Value::as_str)
            .and_then(parse_time)
    };
    let start = t("start")
        .or_else(|| s("timestamp").and_then(parse_time))
        .unwrap_or(0);
    let port = |k: &str| o.get(k).and_then(Value::as_u64).map(|p| p as u16);
    let name = [
        ("dns", "rrname"),
        ("http", "hostname"),
        ("tls", "sni"),
        ("quic", "sni"),
    ]
    .iter()
    .find_map(|(obj, field)| o.get(*obj)?.get(*field)?.as_str())
    .filter(|n| !n.is_empty())
    .map(str::to_string);
    let mut found = Vec::new();
    for (kind, label, detail) in FINDING_KINDS {
        let items: Vec<&Value> = match o.get(kind) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            _ => continue,
        };
        for it in items {
            let text = |k: &str| match it.get(k) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) if !a.is_empty() => Some(
                    a.iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            };
            found.push(Finding {
                kind,
                label: text(label).unwrap_or_else(|| kind.to_string()),
                detail: (!detail.is_empty()).then(|| text(detail)).flatten(),
                confidence: it
                    .get("confidence")
                    .and_then(Value::as_str)
                    .and_then(confidence),
            });
        }
    }
    let rules = o
        .get("sift")
        .and_then(|x| x.get("rules"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r.get("signature_id").and_then(Value::as_u64).unwrap_or(0) as u32,
                        r.get("signature")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Some(EveItem::Flow(Box::new(FlowRow {
        flow_id: o.get("flow_id").and_then(Value::as_u64).unwrap_or(0),
        start,
        end: t("end").unwrap_or(start),
        proto: s("proto").unwrap_or("").to_string(),
        src: s("src_ip").unwrap_or("").to_string(),
        src_port: port("src_port"),
        dest: s("dest_ip").unwrap_or("").to_string(),
        dest_port: port("dest_port"),
        app: s("app_proto").unwrap_or("unknown").to_string(),
        name,
        pkts: [n("pkts_toserver"), n("pkts_toclient")],
        bytes: [n("bytes_toserver"), n("bytes_toclient")],
        findings: found,
        rules,
        verdict: o
            .get("verdict")
            .and_then(|v| v.get("action"))
            .and_then(Value::as_str)
            .map(str::to_string),
        detail: line.trim_end().to_string(),
    })))
}

fn confidence(c: &str) -> Option<&'static str> {
    Some(match c {
        "high" => "high",
        "medium" => "medium",
        "low" => "low",
        _ => return None,
    })
}

/// An EVE timestamp (`2024-05-01T12:34:56.123456+0000`) as nanoseconds
/// since the epoch.
pub fn parse_time(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let d = b.get(r)?;
        d.iter().try_fold(0u64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut frac = 0u64;
    let mut at = 19;
    if b.get(19) == Some(&b'.') {
        at = 20;
        let mut digits = 0;
        while let Some(c) = b.get(at).filter(|c| c.is_ascii_digit()) {
            if digits < 9 {
                frac = frac * 10 + u64::from(c - b'0');
                digits += 1;
            }
            at += 1;
        }
        frac *= 10u64.pow(9 - digits);
    }
    // Offset: +hhmm or -hhmm (Suricata writes +0000).
    let offset: i64 = match b.get(at) {
        Some(&sign @ (b'+' | b'-')) => {
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 3..at + 5)?);
            let o = (oh * 3600 + om * 60) as i64;
            if sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => 0,
    };
    let days = days_from_civil(y as i64, m as i64, d as i64);
    let secs = days * 86_400 + (hh * 3600 + mm * 60 + ss) as i64 - offset;
    u64::try_from(secs)
        .ok()?
        .checked_mul(NANOS_PER_SEC)?
        .checked_add(frac)
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::time::EveTime;

    #[test]
    fn eve_times_read_back() {
        for ts in [0, 1_259_097_229_016_587_000, 951_782_400 * NANOS_PER_SEC] {
            assert_eq!(parse_time(EveTime::new(ts).as_str()), Some(ts));
        }
        assert_eq!(
            parse_time("2009-11-24T22:13:49.016587+0100"),
            Some(1_259_097_229_016_587_000)
        );
        assert_eq!(parse_time("not a time"), None);
    }

    #[test]
    fn findings_from_eve_objects() {
        let line = r#"{"event_type":"flow","flow_id":7,"src_ip":"1.2.3.4","src_port":1,"dest_ip":"5.6.7.8","dest_port":2,"proto":"UDP","app_proto":"openvpn","vpn":{"protocol":"openvpn","confidence":"high"},"obfuscation":{"class":"fully_encrypted","confidence":"low","suspects":["shadowsocks","vmess"]},"evasion":[{"technique":"fake","fooling":["ttl"]}],"flow":{"pkts_toserver":3,"pkts_toclient":4,"bytes_toserver":10,"bytes_toclient":20,"start":"1970-01-01T00:00:01.000000+0000","end":"1970-01-01T00:00:02.000000+0000"}}"#;
        let Some(EveItem::Flow(r)) = of_eve_line(line) else {
            panic!("not a flow")
        };
        assert_eq!((r.start, r.end), (NANOS_PER_SEC, 2 * NANOS_PER_SEC));
        assert_eq!((r.total_pkts(), r.total_bytes()), (7, 30));
        let f: Vec<(&str, &str, Option<&str>, Option<&str>)> = r
            .findings
            .iter()
            .map(|f| (f.kind, f.label.as_str(), f.detail.as_deref(), f.confidence))
            .collect();
        assert_eq!(
            f,
            vec![
                ("vpn", "openvpn", None, Some("high")),
                (
                    "obfuscation",
                    "fully_encrypted",
                    Some("shadowsocks, vmess"),
                    Some("low")
                ),
                ("evasion", "fake", Some("ttl"), None),
            ]
        );
        assert!(of_eve_line("garbage").is_none());
    }
}
