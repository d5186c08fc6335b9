//! The report a person reads at the end of `sift analyze`: volume, rate,
//! flows by transport, application and end reason, and every anomaly.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::record::FlowRecord;
use super::report::Report;
use crate::capture::NANOS_PER_SEC;
use crate::decode::ip::proto::label as proto_name;

/// Flow tallies built from the records as they are written.
#[derive(Clone, Debug, Default)]
pub struct FlowTally {
    pub records: u64,
    /// Flows per IP protocol number (named at render, [`Self::by_transport`]).
    transports: Vec<u64>,
    pub by_app: Counts,
    pub by_reason: Counts,
    /// Flows by the class of their obfuscation finding (suspected, not
    /// proven).
    pub by_obfuscation: Counts,
    /// Flows by the action of their verdict (flows that matched a rule).
    pub by_verdict: Counts,
    /// Alert events written.
    pub alerts: u64,
    /// Flows each rule matched: id → (flows, message).
    pub rule_flows: BTreeMap<u32, (u64, String)>,
    /// Flows with an `evasion` record, and flows by technique.
    pub evasion: u64,
    pub by_evasion: Counts,
}

impl FlowTally {
    /// Flows per transport, by name.
    pub fn by_transport(&self) -> BTreeMap<std::borrow::Cow<'static, str>, u64> {
        (0..=u8::MAX)
            .zip(&self.transports)
            .filter(|(_, &n)| n > 0)
            .map(|(p, &n)| (proto_name(p), n))
            .collect()
    }

    pub fn add(&mut self, r: &FlowRecord) {
        self.records += 1;
        if self.transports.is_empty() {
            self.transports = vec![0; 256];
        }
        self.transports[usize::from(r.proto)] += 1;
        self.by_app.add(r.app_proto.as_str(), 1);
        self.by_reason.add(r.reason.as_str(), 1);
        if let Some(o) = r.names.as_ref().and_then(|n| n.obfuscation.as_ref()) {
            self.by_obfuscation.add(o.class.as_str(), 1);
        }
        if let Some(e) = r.names.as_ref().and_then(|n| n.evasion.as_deref()) {
            self.evasion += 1;
            for t in &e.entries {
                self.by_evasion.add(t.technique.as_str(), 1);
            }
        }
        if let Some(v) = r.verdict.as_deref() {
            if let Some(a) = v.action() {
                self.by_verdict.add(a.as_str(), 1);
            }
            for h in &v.hits {
                self.rule_flows
                    .entry(h.id)
                    .or_insert_with(|| (0, h.msg.clone()))
                    .0 += 1;
            }
        }
    }
}

/// Counts by name, for the few names a tally meets (protocols, end
/// reasons, actions): each record finds its name by a short scan that
/// compares the names' addresses first (static strings from one `match`),
/// where a sorted map compared bytes on every record.
#[derive(Clone, Debug, Default)]
pub struct Counts(Vec<(&'static str, u64)>);

impl Counts {
    pub fn add(&mut self, name: &'static str, n: u64) {
        let at = (self.0.iter())
            .position(|(k, _)| std::ptr::eq(*k, name))
            .or_else(|| self.0.iter().position(|(k, _)| *k == name));
        match at {
            Some(i) => self.0[i].1 += n,
            None => self.0.push((name, n)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// The counts in name order.
    pub fn sorted(&self) -> BTreeMap<&'static str, u64> {
        self.0.iter().copied().collect()
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1500000` as `1.5 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn duration(nanos: u64) -> String {
    let s = nanos as f64 / NANOS_PER_SEC as f64;
    if s < 60.0 {
        format!("{s:.3} s")
    } else if s < 3600.0 {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h {:02}m {:02}s",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64,
            (s % 60.0) as u64
        )
    }
}

fn tally_line(m: &BTreeMap<impl AsRef<str>, u64>) -> String {
    let mut v: Vec<_> = m.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the summary of a run over the named files.
pub fn render(files: &[String], report: &Report, flows: &FlowTally) -> String {
    render_as("sift analyze", files, report, flows)
}

/// Renders the summary under the title `command` (`sift live` names its
/// interfaces instead of files).
pub fn render_as(command: &str, files: &[String], report: &Report, flows: &FlowTally) -> String {
    let c = &report.counters;
    let mut o = String::new();
    // Files read one after the other: the capture time is the sum of each
    // file's span (their clocks may be years apart). Merged: one span.
    let span_of = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    let span = if report.merged {
        span_of(c.first_ts, c.last_ts)
    } else {
        report
            .files
            .iter()
            .map(|f| span_of(f.first_ts, f.last_ts))
            // Wrapping, as release builds always summed (a corrupt file's
            // span can be centuries): a debug build no longer panics, and
            // the figure is unchanged. Known wrong for such inputs.
            .fold(0, u64::wrapping_add)
    };
    let what = if files.len() == 1 {
        files[0].clone()
    } else {
        format!("{} files", files.len())
    };
    let _ = writeln!(
        o,
        "{command}: {what}{}",
        if report.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "  packets   {}   bytes {}   capture time {}",
        thousands(c.packets),
        bytes(c.bytes),
        duration(span)
    );
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let took = if secs < 0.1 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{secs:.3} s")
    };
    let _ = writeln!(
        o,
        "  processed in {took}: {} packets/s, {:.1} Mbit/s",
        thousands((c.packets as f64 / secs) as u64),
        c.bytes as f64 * 8.0 / secs / 1e6
    );
    let _ = writeln!(o, "  flows     {}", thousands(flows.records));
    if flows.records > 0 {
        let _ = writeln!(o, "    by transport: {}", tally_line(&flows.by_transport()));
        let _ = writeln!(
            o,
            "    by app_proto: {}",
            tally_line(&flows.by_app.sorted())
        );
        let _ = writeln!(
            o,
            "    by end:       {}",
            tally_line(&flows.by_reason.sorted())
        );
        if !flows.by_obfuscation.is_empty() {
            let _ = writeln!(
                o,
                "    obfuscation:  {} (suspected)",
                tally_line(&flows.by_obfuscation.sorted())
            );
        }
        if flows.evasion > 0 {
            let _ = writeln!(
                o,
                "    evasion:      {} flows ({})",
                thousands(flows.evasion),
                tally_line(&flows.by_evasion.sorted())
            );
        }
    }
    if let Some(rules) = report.rules {
        let _ = writeln!(
            o,
            "  rules     {} loaded, {} alerts, {} flows matched",
            thousands(rules as u64),
            thousands(flows.alerts),
            thousands(flows.by_verdict.total())
        );
        if !flows.by_verdict.is_empty() {
            let _ = writeln!(
                o,
                "    verdicts:     {}",
                tally_line(&flows.by_verdict.sorted())
            );
            let mut top: Vec<(&u32, &(u64, String))> = flows.rule_flows.iter().collect();
            top.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (id, (n, msg)) in top.into_iter().take(5) {
                let _ = writeln!(o, "    rule {id:<10} {:>8} flows  {msg}", thousands(*n));
            }
        }
    }
    let mut anomalies: Vec<String> = Vec::new();
    let mut note = |n: u64, what: &str| {
        if n > 0 {
            anomalies.push(format!("{} {what}", thousands(n)));
        }
    };
    note(c.truncated, "packets truncated by the snaplen");
    note(c.malformed, "malformed packets");
    note(c.not_ip, "non-IP frames (ARP, LLDP, ...)");
    note(c.evicted, "flows evicted (table full)");
    if let Some(m) = report.memory.filter(|m| m.flows_capped) {
        note(
            m.flows as u64,
            &format!(
                "flows at most in the table: the memory limit of {}",
                bytes(m.limit)
            ),
        );
    }
    note(c.defrag.fragments, "IP fragments");
    note(c.defrag.reassembled, "datagrams reassembled");
    note(
        c.defrag.dropped,
        "fragmented datagrams dropped (incomplete, overlapping or over limits)",
    );
    note(
        c.inner_fragments,
        "fragments inside tunnels (not reassembled)",
    );
    note(
        c.reassembly_refused_segments,
        &format!(
            "out-of-order TCP segments ({}) not buffered: reassembly limits reached",
            bytes(c.reassembly_refused_bytes)
        ),
    );
    note(
        c.links_dropped,
        "facts between flows of the same hosts dropped (links table full)",
    );
    note(
        c.server_names_forgotten,
        "server names' TLS profiles forgotten (profile table full)",
    );
    for (lt, n) in &c.unknown_link {
        note(*n, &format!("frames of unsupported link type {}", lt.0));
    }
    for f in &report.files {
        if let Some(e) = &f.error {
            let name = files.get(f.file).map_or("?", String::as_str);
            anomalies.push(format!(
                "{name}: {e} (after {} packets)",
                thousands(f.packets)
            ));
        }
    }
    if anomalies.is_empty() {
        let _ = writeln!(o, "  anomalies none");
    } else {
        let _ = writeln!(o, "  anomalies");
        for a in anomalies {
            let _ = writeln!(o, "    {a}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(duration(90 * NANOS_PER_SEC), "1m 30s");
    }
}
