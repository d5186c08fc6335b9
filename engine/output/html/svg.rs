//! The report's charts as inline SVG text: traffic over time stacked by
//! application, findings over time in lanes, horizontal bars. Hand-written
//! (no chart library): a few hundred elements at most, whatever the
//! capture, since [`super::digest::Bins`] holds at most
//! [`super::digest::MAX_BINS`] bins.

use std::fmt::Write as _;

use super::digest::Bins;
use super::esc;
use crate::capture::NANOS_PER_SEC;
use crate::output::summary::bytes as fmt_bytes;
use crate::output::time::EveTime;

/// Series colors (colorblind-friendly first; "other" is grey).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#86bcb6",
];
pub const OTHER: &str = "#bab0ac";

const WIDTH: f64 = 960.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;

/// `1500000` bits/s as `1.5 Mbit/s`.
fn rate(bits_per_sec: f64) -> String {
    const UNITS: [&str; 5] = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
    let mut v = bits_per_sec;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A time label: `HH:MM:SS` (with milliseconds when the span is short).
pub fn clock(ts: u64, fine: bool) -> String {
    let t = EveTime::new(ts);
    let s = t.as_str();
    if fine {
        s.get(11..23).unwrap_or(s).to_string()
    } else {
        s.get(11..19).unwrap_or(s).to_string()
    }
}

/// The x axis under a plot of `n` bins: about five time labels.
fn time_axis(o: &mut String, bins: &Bins, n: usize, y: f64, left: f64) {
    let w = (WIDTH - left - RIGHT) / n as f64;
    let span = bins.res.saturating_mul(n as u64);
    let fine = span < 20 * NANOS_PER_SEC;
    let _ = writeln!(
        o,
        r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#888"/>"##,
        WIDTH - RIGHT
    );
    let step = (n / 5).max(1);
    for i in (0..n).step_by(step) {
        let x = left + i as f64 * w;
        let _ = writeln!(
            o,
            r##"<line x1="{x:.1}" y1="{y}" x2="{x:.1}" y2="{}" stroke="#888"/><text x="{x:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
            y + 4.0,
            y + 16.0,
            clock(bins.time(i), fine)
        );
    }
}

/// Bytes over time, one stacked bar per bin, series in `order` (indexes
/// into the bins' series, with their names); series not in `order` are
/// stacked as "other".
pub fn traffic(bins: &Bins, order: &[(usize, &str)]) -> String {
    let n = bins.bins.len().max(1);
    let height = 260.0;
    let bottom = height - 28.0;
    let plot_h = bottom - TOP;
    let w = (WIDTH - LEFT - RIGHT) / n as f64;
    let secs = bins.res as f64 / NANOS_PER_SEC as f64;
    let total = |b: &Vec<u64>| b.iter().sum::<u64>();
    let max = bins.bins.iter().map(total).max().unwrap_or(0).max(1) as f64;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="traffic over time by application protocol">"#
    );
    // Grid and y labels (rate per bin).
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = bottom - plot_h * k as f64 / 4.0;
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            rate(v * 8.0 / secs)
        );
    }
    let listed: Vec<usize> = order.iter().map(|(s, _)| *s).collect();
    for (i, b) in bins.bins.iter().enumerate() {
        let x = LEFT + i as f64 * w;
        let mut y = bottom;
        let other: u64 = b
            .iter()
            .enumerate()
            .filter(|(s, _)| !listed.contains(s))
            .map(|(_, v)| *v)
            .sum();
        let parts = order
            .iter()
            .enumerate()
            .map(|(k, (s, name))| {
                (
                    b.get(*s).copied().unwrap_or(0),
                    PALETTE[k % PALETTE.len()],
                    *name,
                )
            })
            .chain(std::iter::once((other, OTHER, "other")));
        for (v, color, name) in parts {
            if v == 0 {
                continue;
            }
            let h = plot_h * v as f64 / max;
            y -= h;
            let _ = writeln!(
                o,
                r#"<rect x="{x:.2}" y="{y:.2}" width="{:.2}" height="{h:.2}" fill="{color}"><title>{} {}: {} ({})</title></rect>"#,
                (w - 0.5).max(0.5),
                esc(name),
                clock(bins.time(i), secs < 1.0),
                fmt_bytes(v),
                rate(v as f64 * 8.0 / secs)
            );
        }
    }
    time_axis(&mut o, bins, n, bottom, LEFT);
    o.push_str("</svg>\n");
    o
}

/// Lanes of findings over time: a dot per bin with any, its area by the
/// number of flows. `lanes` are (kind, label), indexed by series.
pub fn lanes(bins: &Bins, lanes: &[(&'static str, String)]) -> String {
    let n = bins.bins.len().max(1);
    let lane_h = 26.0;
    let left = 250.0;
    let bottom = TOP + lane_h * lanes.len() as f64;
    let height = bottom + 28.0;
    let w = (WIDTH - left - RIGHT) / n as f64;
    let max = bins
        .bins
        .iter()
        .flat_map(|b| b.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="findings over time">"#
    );
    for (i, (kind, label)) in lanes.iter().enumerate() {
        let y = TOP + lane_h * (i as f64 + 0.5);
        let color = kind_color(kind);
        let _ = writeln!(
            o,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end"><tspan fill="{color}" font-weight="bold">{}</tspan> {}</text>"##,
            WIDTH - RIGHT,
            left - 8.0,
            y + 4.0,
            esc(kind),
            esc(label)
        );
        for (b, counts) in bins.bins.iter().enumerate() {
            let c = counts.get(i).copied().unwrap_or(0);
            if c == 0 {
                continue;
            }
            let r = 2.5 + 8.0 * (c as f64 / max).sqrt();
            let x = left + (b as f64 + 0.5) * w;
            let _ = writeln!(
                o,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{color}" fill-opacity="0.75"><title>{} {}: {c} flow{} from {}</title></circle>"#,
                esc(kind),
                esc(label),
                if c == 1 { "" } else { "s" },
                clock(bins.time(b), bins.res < NANOS_PER_SEC)
            );
        }
    }
    time_axis(&mut o, bins, n, bottom, left);
    o.push_str("</svg>\n");
    o
}

/// The color of a finding kind.
pub fn kind_color(kind: &str) -> &'static str {
    match kind {
        "vpn" => "#4e79a7",
        "obfuscation" => "#f28e2b",
        "evasion" => "#e15759",
        _ => OTHER,
    }
}

/// Horizontal bars: (label, value, text after the bar).
pub fn bars(items: &[(String, u64, String)], aria: &str) -> String {
    let row = 20.0;
    let left = 300.0;
    let text_w = 200.0;
    let height = TOP * 2.0 + row * items.len() as f64;
    let max = items.iter().map(|i| i.1).max().unwrap_or(1).max(1) as f64;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}">"#,
        esc(aria)
    );
    for (i, (label, v, after)) in items.iter().enumerate() {
        let y = TOP + row * i as f64;
        let w = (WIDTH - left - text_w) * *v as f64 / max;
        let shown: String = if label.chars().count() > 44 {
            label.chars().take(43).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{:.1}" font-size="12" text-anchor="end"><title>{}</title>{}</text><rect x="{left}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            left - 8.0,
            y + 14.0,
            esc(label),
            esc(&shown),
            y + 3.0,
            row - 6.0,
            PALETTE[0],
            left + w + 6.0,
            y + 14.0,
            esc(after)
        );
    }
    o.push_str("</svg>\n");
    o
}
