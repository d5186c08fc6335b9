//! The HTML report (`sift report`, `sift analyze --report FILE`): one
//! self-contained file to look at a capture with — traffic over time by
//! application protocol, VPN, obfuscation and evasion findings on a
//! timeline, top server names, rule hits, and a sortable, filterable flow
//! table whose rows open the flow's EVE record with its evidence.
//!
//! Self-contained: the charts are inline SVG ([`svg`]), the style and the
//! script inline, the data a JSON block in the page; a
//! Content-Security-Policy of `default-src 'none'` forbids the browser
//! any request when the file is opened.
//!
//! Bounded whatever the capture ([`digest`]): the charts fold all flows
//! into at most [`digest::MAX_BINS`] time bins; the table carries at most
//! [`DEFAULT_ROWS`] rows (`--report-rows`): every flow with a finding or a
//! rule hit first, then the flows with the most bytes, which the page
//! shows 50 at a time. The totals and the per-protocol table count every
//! flow.
//!
//! Rows come from this run's flow records or from EVE lines sift wrote
//! ([`rows`]); what a flow found is read generically (its findings, by
//! kind), so a new kind of finding shows without changes here.

pub mod digest;
pub mod rows;
pub mod svg;

use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex};

use digest::{Digest, FlowRow};

use super::eve::EveFormat;
use super::record::Event;
use super::report::Report;
use super::sink::{Sink, SinkStats};
use super::summary::{bytes as fmt_bytes, thousands};
use super::time::EveTime;
use crate::capture::NANOS_PER_SEC;

/// Flows in the table at most, by default.
pub const DEFAULT_ROWS: usize = 1000;
/// Server names charted.
const TOP_NAMES: usize = 25;
/// Applications given their own color in the traffic chart.
const CHART_APPS: usize = 9;

/// Text escaped for HTML (and SVG) text and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Feeds a shared [`Digest`] from a run's events (the caller keeps the
/// other handle and writes the page when the run is over). It renders the
/// EVE record only of the flows the table keeps.
pub struct DigestSink {
    digest: Arc<Mutex<Digest>>,
    format: EveFormat,
    line: Vec<u8>,
}

impl DigestSink {
    pub fn new(digest: Arc<Mutex<Digest>>, format: EveFormat) -> Self {
        DigestSink {
            digest,
            format,
            line: Vec::new(),
        }
    }
}

impl Sink for DigestSink {
    fn event(&mut self, ev: &Event, _line: Option<&[u8]>) -> io::Result<()> {
        let mut d = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        match ev {
            Event::Flow(r) => {
                let mut row = rows::of_record(r);
                if d.would_keep(&row) {
                    self.line.clear();
                    self.format.event(ev, &mut self.line)?;
                    let l = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                    row.detail = String::from_utf8_lossy(l).into_owned();
                }
                d.add(row);
            }
            Event::Alert(a) => d.alert(a.hit.id, &a.hit.msg),
        }
        Ok(())
    }

    fn finish(&mut self) -> SinkStats {
        self.stats()
    }

    fn stats(&self) -> SinkStats {
        let d = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        SinkStats {
            kind: "report",
            target: String::new(),
            delivered: d.flows,
            connected: true,
            ..SinkStats::default()
        }
    }
}

/// Folds the EVE lines of `input` (as sift writes them) into `d`;
/// returns how many lines were skipped.
pub fn read_eve(input: impl io::BufRead, d: &mut Digest) -> io::Result<u64> {
    let mut skipped = 0;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match rows::of_eve_line(&line) {
            Some(rows::EveItem::Flow(r)) => d.add(*r),
            Some(rows::EveItem::Alert(id, msg)) => d.alert(id, &msg),
            Some(rows::EveItem::Other) | None => skipped += 1,
        }
    }
    Ok(skipped)
}

/// What the page says about where the flows came from.
pub struct Source<'a> {
    /// Capture files, or EVE files.
    pub inputs: &'a [String],
    /// The run's report when the flows come from a capture read now.
    pub run: Option<&'a Report>,
    /// EVE lines skipped (not JSON, or not flow or alert events).
    pub skipped: u64,
}

/// The page.
pub fn render(d: &mut Digest, src: &Source<'_>) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let title = match src.inputs {
        [one] => one.clone(),
        many => format!("{} files", many.len()),
    };
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sift {}">
<title>sift report: {}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>sift report</h1>{}</header>
"#,
        env!("CARGO_PKG_VERSION"),
        esc(&title),
        inputs(src.inputs)
    );
    overview(&mut o, d, src);
    // Traffic over time.
    o.push_str("<section id=\"traffic\"><h2>Traffic over time by application protocol</h2>\n");
    if d.flows == 0 {
        o.push_str("<p class=\"none\">No flows.</p>\n");
    } else {
        let mut by_bytes: Vec<(usize, u64)> =
            (0..d.apps.len()).map(|i| (i, d.traffic.total(i))).collect();
        by_bytes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let order: Vec<(usize, &str)> = by_bytes
            .iter()
            .take(CHART_APPS)
            .map(|&(i, _)| (i, d.apps[i].as_str()))
            .collect();
        o.push_str(&svg::traffic(&d.traffic, &order));
        o.push_str("<p class=\"legend\">");
        for (k, (_, name)) in order.iter().enumerate() {
            let _ = write!(
                o,
                r#"<span><i style="background:{}"></i>{}</span>"#,
                svg::PALETTE[k % svg::PALETTE.len()],
                esc(name)
            );
        }
        if d.apps.len() > order.len() {
            let _ = write!(
                o,
                r#"<span><i style="background:{}"></i>other</span>"#,
                svg::OTHER
            );
        }
        let _ = writeln!(
            o,
            "</p><p class=\"note\">Bytes of each flow spread evenly over the time it spans; bins of {}.</p>",
            span(d.traffic.res)
        );
    }
    o.push_str("</section>\n");
    // Findings.
    o.push_str(
        "<section id=\"findings\"><h2>VPN, obfuscation and evasion findings over time</h2>\n",
    );
    if d.lanes.is_empty() {
        o.push_str("<p class=\"none\">No findings.</p>\n");
    } else {
        o.push_str(&svg::lanes(&d.found, &d.lanes));
        let _ = writeln!(
            o,
            "<p class=\"note\">One lane per finding and confidence; a dot per {} with any, by the flows' start.</p>",
            span(d.found.res)
        );
    }
    o.push_str("</section>\n");
    // Names.
    o.push_str("<section id=\"names\"><h2>Top server names</h2>\n");
    let top = d.top_names(TOP_NAMES);
    if top.is_empty() {
        o.push_str("<p class=\"none\">No server names.</p>\n");
    } else {
        let items: Vec<(String, u64, String)> = top
            .iter()
            .map(|(n, f, b)| {
                (
                    n.to_string(),
                    *f,
                    format!(
                        "{} flow{}, {}",
                        thousands(*f),
                        if *f == 1 { "" } else { "s" },
                        fmt_bytes(*b)
                    ),
                )
            })
            .collect();
        o.push_str(&svg::bars(&items, "top server names by flows"));
        let _ = writeln!(
            o,
            "<p class=\"note\">{} distinct names (TLS and QUIC SNI, HTTP Host, DNS queries){}.</p>",
            thousands(d.names.len() as u64),
            if d.names_uncounted > 0 {
                format!(
                    "; {} flows naming others past the first {} names not counted",
                    thousands(d.names_uncounted),
                    thousands(digest::MAX_NAMES as u64)
                )
            } else {
                String::new()
            }
        );
    }
    o.push_str("</section>\n");
    rules(&mut o, d);
    table(&mut o, d);
    o.push_str("<script>");
    o.push_str(SCRIPT);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}

/// The inputs, folded away when there are many.
fn inputs(inputs: &[String]) -> String {
    let list = inputs
        .iter()
        .map(|i| esc(i))
        .collect::<Vec<_>>()
        .join("<br>");
    if inputs.len() <= 3 {
        format!("<p class=\"inputs\">{list}</p>")
    } else {
        format!(
            "<details class=\"inputs\"><summary>{} inputs</summary>{list}</details>",
            inputs.len()
        )
    }
}

/// A bin width in words.
fn span(ns: u64) -> String {
    let s = ns as f64 / NANOS_PER_SEC as f64;
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn overview(o: &mut String, d: &Digest, src: &Source<'_>) {
    o.push_str("<section id=\"overview\"><h2>Overview</h2>\n<table class=\"kv\">\n");
    let mut kv = |id: &str, label: &str, value: u64, text: String| {
        let _ = writeln!(
            o,
            r#"<tr><th>{label}</th><td id="{id}" data-value="{value}">{}</td></tr>"#,
            esc(&text)
        );
    };
    kv("sum-flows", "flows", d.flows, thousands(d.flows));
    if let Some(r) = src.run {
        let c = &r.counters;
        kv(
            "sum-packets",
            "packets read",
            c.packets,
            thousands(c.packets),
        );
        kv(
            "sum-bytes",
            "bytes read",
            c.bytes,
            format!("{} ({})", thousands(c.bytes), fmt_bytes(c.bytes)),
        );
    }
    kv(
        "sum-flow-packets",
        "packets in flows",
        d.pkts,
        thousands(d.pkts),
    );
    kv(
        "sum-flow-bytes",
        "bytes in flows",
        d.bytes,
        format!("{} ({})", thousands(d.bytes), fmt_bytes(d.bytes)),
    );
    if let (Some(a), Some(b)) = (d.first, d.last) {
        let _ = writeln!(
            o,
            r#"<tr><th>flows from</th><td id="sum-span">{} to {} ({})</td></tr>"#,
            EveTime::new(a).as_str(),
            EveTime::new(b).as_str(),
            span(b.saturating_sub(a))
        );
    }
    let kinds: Vec<String> = d
        .by_kind
        .iter()
        .map(|(k, n)| format!("<span class=\"k-{k}\">{k}</span> {}", thousands(*n)))
        .collect();
    let _ = writeln!(
        o,
        r#"<tr><th>flows with findings</th><td id="sum-findings">{}</td></tr>"#,
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        }
    );
    if !d.verdicts.is_empty() {
        let v: Vec<String> = d
            .verdicts
            .iter()
            .map(|(a, n)| format!("{} {}", esc(a), thousands(*n)))
            .collect();
        let _ = writeln!(
            o,
            r#"<tr><th>rule verdicts</th><td id="sum-verdicts">{}</td></tr>"#,
            v.join(", ")
        );
    }
    if src.skipped > 0 {
        let _ = writeln!(
            o,
            r#"<tr><th>lines skipped</th><td id="sum-skipped">{} (not JSON, or not flow or alert events)</td></tr>"#,
            thousands(src.skipped)
        );
    }
    o.push_str("</table>\n<h3>By application protocol</h3>\n<table id=\"apps\" class=\"grid\"><thead><tr><th>app_proto</th><th>flows</th><th>packets</th><th>bytes</th><th>share of bytes</th></tr></thead><tbody>\n");
    let mut apps: Vec<(&String, &digest::Tally)> = d.by_app.iter().collect();
    apps.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then(a.0.cmp(b.0)));
    for (app, t) in apps {
        let share = if d.bytes > 0 {
            t.bytes as f64 * 100.0 / d.bytes as f64
        } else {
            0.0
        };
        let _ = writeln!(
            o,
            r#"<tr data-app="{a}"><td>{a}</td><td class="n" data-flows="{}">{}</td><td class="n">{}</td><td class="n">{}</td><td><span class="bar" style="width:{:.1}%"></span> {share:.1} %</td></tr>"#,
            t.flows,
            thousands(t.flows),
            thousands(t.pkts),
            fmt_bytes(t.bytes),
            share,
            a = esc(app)
        );
    }
    o.push_str("</tbody></table>\n</section>\n");
}

fn rules(o: &mut String, d: &Digest) {
    o.push_str("<section id=\"rules\"><h2>Rule hits</h2>\n");
    if d.rules.is_empty() {
        o.push_str("<p class=\"none\">No rule matched (or no rules were given).</p>\n</section>\n");
        return;
    }
    let max = d.rules.values().map(|r| r.flows).max().unwrap_or(1).max(1);
    let mut v: Vec<(&u32, &digest::RuleHits)> = d.rules.iter().collect();
    v.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then(a.0.cmp(b.0)));
    o.push_str("<table class=\"grid\" id=\"rule-table\"><thead><tr><th>signature id</th><th>rule</th><th>flows matched</th><th>alerts</th><th></th></tr></thead><tbody>\n");
    for (id, r) in v {
        let _ = writeln!(
            o,
            r#"<tr data-sid="{id}"><td class="n">{id}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="barcell"><span class="bar" style="width:{:.1}%"></span></td></tr>"#,
            esc(&r.msg),
            thousands(r.flows),
            thousands(r.alerts),
            r.flows as f64 * 100.0 / max as f64
        );
    }
    o.push_str("</tbody></table>\n</section>\n");
}

/// One table row as the script reads it: start, seconds, proto, source,
/// destination, app, name, packets, bytes, findings, rule ids, record,
/// rule messages.
fn row_json(r: &FlowRow) -> serde_json::Value {
    let ep = |a: &str, p: Option<u16>| match p {
        Some(p) if a.contains(':') => format!("[{a}]:{p}"),
        Some(p) => format!("{a}:{p}"),
        None => a.to_string(),
    };
    let findings: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            let mut s = format!("{} {}", f.kind, f.label);
            if let Some(d) = &f.detail {
                let _ = write!(s, " [{d}]");
            }
            if let Some(c) = f.confidence {
                let _ = write!(s, " ({c})");
            }
            s
        })
        .collect();
    let rules: Vec<String> = r.rules.iter().map(|(id, _)| id.to_string()).collect();
    let messages: Vec<&str> = r.rules.iter().map(|(_, m)| m.as_str()).collect();
    let detail: serde_json::Value = serde_json::from_str(&r.detail)
        .unwrap_or_else(|_| serde_json::Value::String(r.detail.clone()));
    serde_json::json!([
        EveTime::new(r.start).as_str(),
        (r.end.saturating_sub(r.start)) as f64 / NANOS_PER_SEC as f64,
        r.proto,
        ep(&r.src, r.src_port),
        ep(&r.dest, r.dest_port),
        r.app,
        r.name.as_deref().unwrap_or(""),
        r.total_pkts(),
        r.total_bytes(),
        findings.join("; "),
        rules.join(" "),
        detail,
        messages.join("\n"),
    ])
}

fn table(o: &mut String, d: &mut Digest) {
    let total = d.flows;
    let dropped = d.notable_dropped;
    let rows = d.rows();
    let shown = rows.len() as u64;
    o.push_str("<section id=\"flows\"><h2>Flows</h2>\n");
    let how = if shown == total {
        format!("All {} flows.", thousands(total))
    } else {
        format!(
            "{} of {} flows: every flow with a finding or a rule hit{}, then those with the most bytes (all flows are counted above).",
            thousands(shown),
            thousands(total),
            if dropped > 0 {
                format!(" up to the limit ({} more not listed)", thousands(dropped))
            } else {
                String::new()
            }
        )
    };
    let _ = writeln!(
        o,
        r#"<p id="table-note" data-shown="{shown}" data-total="{total}">{} Click a column to sort, a row to open its record.</p>"#,
        esc(&how)
    );
    o.push_str(
        r#"<div class="controls"><input id="filter" type="search" placeholder="filter: address, name, app, finding..." size="40"> <select id="app-filter"><option value="">every app_proto</option></select> <label><input type="checkbox" id="notable-only"> with findings or rules only</label> <button id="prev" type="button">&lsaquo; prev</button> <span id="page"></span> <button id="next" type="button">next &rsaquo;</button> <span id="flow-count"></span></div>
<table id="flow-table" class="grid"><thead><tr><th data-col="0">start</th><th data-col="1">seconds</th><th data-col="2">proto</th><th data-col="3">source</th><th data-col="4">destination</th><th data-col="5">app_proto</th><th data-col="6">server name</th><th data-col="7">packets</th><th data-col="8">bytes</th><th data-col="9">findings</th><th data-col="10">rules</th></tr></thead><tbody></tbody></table>
"#,
    );
    let data = serde_json::Value::Array(rows.iter().map(|r| row_json(r)).collect());
    // In a script element only "</" could end it early: '<' is written as
    // \u003c, which JSON reads as the same character.
    let text = data.to_string().replace('<', "\\u003c");
    let _ = writeln!(
        o,
        r#"<script type="application/json" id="flow-data">{text}</script>"#
    );
    o.push_str("</section>\n");
}

const STYLE: &str = r###"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1040px;padding:0 16px 40px;color:#222;background:#fff}
header{border-bottom:2px solid #4e79a7;margin-bottom:8px}h1{margin:16px 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:16px 0 6px}
.inputs{color:#555;margin:0 0 8px;word-break:break-all;font-family:ui-monospace,monospace;font-size:12px}
table.kv th{text-align:left;padding:2px 16px 2px 0;font-weight:600;color:#444}table.kv td{padding:2px 0}
table.grid{border-collapse:collapse;width:100%;font-size:12.5px}table.grid th,table.grid td{border-bottom:1px solid #e5e5e5;padding:3px 6px;text-align:left;vertical-align:top}
table.grid th{background:#f5f7fa;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:10px;background:#4e79a7;vertical-align:middle}td.barcell{width:30%}
.legend span{margin-right:14px;white-space:nowrap}.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
.note,.none{color:#666;font-size:12.5px}svg.chart{max-width:100%;height:auto;font-family:inherit}
.controls{margin:8px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
#flow-table th{cursor:pointer;user-select:none}#flow-table th.asc:after{content:" \25B2"}#flow-table th.desc:after{content:" \25BC"}
#flow-table tbody tr.row{cursor:pointer}#flow-table tbody tr.row:hover{background:#f0f4fa}#flow-table tr.open{background:#eaf0f8}
#flow-table td.find{color:#b35900}#flow-table td.rules{color:#8a1c1c}
tr.detail pre{margin:0;padding:8px;background:#fafafa;border:1px solid #ddd;max-height:420px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
.k-vpn{color:#4e79a7;font-weight:600}.k-obfuscation{color:#f28e2b;font-weight:600}.k-evasion{color:#e15759;font-weight:600}
"###;

const SCRIPT: &str = r###"
(function () {
  "use strict";
  var rows = JSON.parse(document.getElementById("flow-data").textContent);
  var PAGE = 50, page = 0, sortCol = 0, sortDir = 1, view = rows;
  var tbody = document.querySelector("#flow-table tbody");
  var filter = document.getElementById("filter"), appSel = document.getElementById("app-filter");
  var notable = document.getElementById("notable-only");
  var apps = {};
  rows.forEach(function (r) { apps[r[5]] = true; });
  Object.keys(apps).sort().forEach(function (a) {
    var o = document.createElement("option"); o.value = a; o.textContent = a; appSel.appendChild(o);
  });
  function num(v) { return typeof v === "number"; }
  function apply() {
    var q = filter.value.trim().toLowerCase(), app = appSel.value, only = notable.checked;
    view = rows.filter(function (r) {
      if (app && r[5] !== app) return false;
      if (only && !r[9] && !r[10]) return false;
      if (!q) return true;
      for (var i = 0; i < 13; i++) { if (i !== 11 && String(r[i]).toLowerCase().indexOf(q) >= 0) return true; }
      return false;
    });
    view.sort(function (a, b) {
      var x = a[sortCol], y = b[sortCol];
      var c = num(x) && num(y) ? x - y : String(x).localeCompare(String(y));
      return c * sortDir;
    });
    page = Math.min(page, Math.max(0, Math.ceil(view.length / PAGE) - 1));
    draw();
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td);
  }
  function draw() {
    tbody.textContent = "";
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    view.slice(page * PAGE, page * PAGE + PAGE).forEach(function (r) {
      var tr = document.createElement("tr"); tr.className = "row";
      cell(tr, r[0].slice(0, 23).replace("T", " "));
      cell(tr, r[1].toFixed(3), "n"); cell(tr, r[2]); cell(tr, r[3]); cell(tr, r[4]); cell(tr, r[5]); cell(tr, r[6]);
      cell(tr, r[7].toLocaleString("en-US"), "n"); cell(tr, r[8].toLocaleString("en-US"), "n");
      cell(tr, r[9], "find"); cell(tr, r[10], "rules"); tr.lastChild.title = r[12];
      tr.addEventListener("click", function () {
        var next = tr.nextSibling;
        if (next && next.className === "detail") { next.remove(); tr.classList.remove("open"); return; }
        var d = document.createElement("tr"); d.className = "detail";
        var td = document.createElement("td"); td.colSpan = 11;
        var pre = document.createElement("pre"); pre.textContent = JSON.stringify(r[11], null, 2);
        td.appendChild(pre); d.appendChild(td); tr.after(d); tr.classList.add("open");
      });
      tbody.appendChild(tr);
    });
    document.getElementById("page").textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("flow-count").textContent = view.length.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " rows";
    document.getElementById("flow-count").setAttribute("data-rows", String(view.length));
  }
  document.querySelectorAll("#flow-table th").forEach(function (th) {
    th.addEventListener("click", function () {
      var c = Number(th.getAttribute("data-col"));
      if (c === sortCol) sortDir = -sortDir; else { sortCol = c; sortDir = c === 7 || c === 8 || c === 1 ? -1 : 1; }
      document.querySelectorAll("#flow-table th").forEach(function (h) { h.className = ""; });
      th.className = sortDir > 0 ? "asc" : "desc";
      apply();
    });
  });
  filter.addEventListener("input", function () { page = 0; apply(); });
  appSel.addEventListener("change", function () { page = 0; apply(); });
  notable.addEventListener("change", function () { page = 0; apply(); });
  document.getElementById("prev").addEventListener("click", function () { if (page > 0) { page--; draw(); } });
  document.getElementById("next").addEventListener("click", function () { if ((page + 1) * PAGE < view.length) { page++; draw(); } });
  document.querySelector('#flow-table th[data-col="0"]').className = "asc";
  apply();
})();
"###;
