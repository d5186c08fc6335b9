//! What the report shows, folded from flow rows as they come, in memory
//! bounded whatever the number of flows: totals and per-application
//! tallies, traffic over time and findings over time in [`Bins`] that
//! coarsen to stay within [`MAX_BINS`], server names up to
//! [`MAX_NAMES`] distinct ones, rule hits, and the rows of the flow table
//! ([`Digest::rows`]: at most `rows` of them, every flow with a finding or
//! a rule hit first, then the flows with the most bytes).

use std::collections::{BTreeMap, HashMap};

use crate::output::findings::Finding;

/// Time bins of a chart at most.
pub const MAX_BINS: usize = 240;
/// Distinct server names counted; flows naming others are counted apart.
pub const MAX_NAMES: usize = 65_536;
/// Finest bin: 1 ms.
const FINEST_BIN: u64 = 1_000_000;

/// One flow as the report sees it, from a record or from an EVE line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowRow {
    pub flow_id: u64,
    /// Nanoseconds since the epoch.
    pub start: u64,
    pub end: u64,
    pub proto: String,
    pub src: String,
    pub src_port: Option<u16>,
    pub dest: String,
    pub dest_port: Option<u16>,
    pub app: String,
    pub name: Option<String>,
    /// To the server, to the client.
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    pub findings: Vec<Finding>,
    /// Rules matched: (signature id, message), the verdict's first.
    pub rules: Vec<(u32, String)>,
    /// The verdict's action.
    pub verdict: Option<String>,
    /// The flow's EVE record (JSON), shown when its row is opened.
    pub detail: String,
}

impl FlowRow {
    pub fn total_bytes(&self) -> u64 {
        self.bytes[0] + self.bytes[1]
    }

    pub fn total_pkts(&self) -> u64 {
        self.pkts[0] + self.pkts[1]
    }

    fn notable(&self) -> bool {
        !self.findings.is_empty() || !self.rules.is_empty()
    }
}

/// Values over time, per series, in bins of `res` nanoseconds that double
/// (merging pairs) whenever the span would exceed [`MAX_BINS`].
#[derive(Clone, Debug, Default)]
pub struct Bins {
    /// Nanoseconds per bin.
    pub res: u64,
    /// Index (time / res) of `bins[0]`.
    pub first: u64,
    /// Per bin, per series.
    pub bins: Vec<Vec<u64>>,
}

impl Bins {
    fn new() -> Self {
        Bins {
            res: FINEST_BIN,
            first: 0,
            bins: Vec::new(),
        }
    }

    /// Start time of bin `i`.
    pub fn time(&self, i: usize) -> u64 {
        (self.first + i as u64).saturating_mul(self.res)
    }

    /// Makes room for [t0, t1] (coarsening as needed).
    fn cover(&mut self, t0: u64, t1: u64) {
        loop {
            let (b0, b1) = (t0 / self.res, t1 / self.res);
            let (lo, hi) = if self.bins.is_empty() {
                (b0, b1)
            } else {
                (
                    b0.min(self.first),
                    b1.max(self.first + self.bins.len() as u64 - 1),
                )
            };
            if hi - lo < MAX_BINS as u64 {
                if self.bins.is_empty() {
                    self.first = lo;
                    self.bins
                        .resize(usize::try_from(hi - lo + 1).unwrap_or(1), Vec::new());
                } else {
                    if lo < self.first {
                        let more = (self.first - lo) as usize;
                        self.bins
                            .splice(0..0, std::iter::repeat_n(Vec::new(), more));
                        self.first = lo;
                    }
                    let len = (hi - self.first + 1) as usize;
                    if len > self.bins.len() {
                        self.bins.resize(len, Vec::new());
                    }
                }
                return;
            }
            self.coarsen();
        }
    }

    /// Doubles the bin width.
    fn coarsen(&mut self) {
        let first = self.first / 2;
        let mut merged: Vec<Vec<u64>> = Vec::with_capacity(self.bins.len() / 2 + 1);
        for (i, b) in std::mem::take(&mut self.bins).into_iter().enumerate() {
            let at = ((self.first + i as u64) / 2 - first) as usize;
            if merged.len() <= at {
                merged.resize(at + 1, Vec::new());
            }
            add_series(&mut merged[at], &b);
        }
        self.res = self.res.saturating_mul(2);
        self.first = first;
        self.bins = merged;
    }

    /// Adds `value` to `series`, spread evenly over the bins [t0, t1] covers.
    pub fn add(&mut self, t0: u64, t1: u64, series: usize, value: u64) {
        let t1 = t1.max(t0);
        self.cover(t0, t1);
        let b0 = (t0 / self.res - self.first) as usize;
        let b1 = (t1 / self.res - self.first) as usize;
        let n = (b1 - b0 + 1) as u64;
        let (each, mut rest) = (value / n, value % n);
        for b in &mut self.bins[b0..=b1] {
            if b.len() <= series {
                b.resize(series + 1, 0);
            }
            b[series] += each + u64::from(rest > 0);
            rest = rest.saturating_sub(1);
        }
    }

    /// Sum of `series` over all bins.
    pub fn total(&self, series: usize) -> u64 {
        self.bins
            .iter()
            .map(|b| b.get(series).copied().unwrap_or(0))
            .sum()
    }
}

fn add_series(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// Per application protocol: flows, packets, bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub flows: u64,
    pub pkts: u64,
    pub bytes: u64,
}

/// A rule's hits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleHits {
    pub msg: String,
    /// Flows that matched it.
    pub flows: u64,
    /// Alert events it wrote.
    pub alerts: u64,
}

/// Everything the report shows, folded as rows come.
#[derive(Debug)]
pub struct Digest {
    pub flows: u64,
    pub pkts: u64,
    pub bytes: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
    pub by_app: BTreeMap<String, Tally>,
    /// Application names, indexed by their series in `traffic`.
    pub apps: Vec<String>,
    /// Bytes over time per application.
    pub traffic: Bins,
    /// Finding lanes ("vpn openvpn high"), indexed by series in `found`.
    pub lanes: Vec<(&'static str, String)>,
    /// Flows with findings over time per lane.
    pub found: Bins,
    /// Flows per finding kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Server name → (flows, bytes).
    pub names: HashMap<String, (u64, u64)>,
    /// Flows whose name was not counted (past [`MAX_NAMES`]).
    pub names_uncounted: u64,
    pub rules: BTreeMap<u32, RuleHits>,
    /// Flows with a verdict, by action.
    pub verdicts: BTreeMap<String, u64>,
    /// Rows of the table: notable ones (findings, rules) and the others
    /// with the most bytes.
    rows_cap: usize,
    notable: Vec<FlowRow>,
    /// Notable rows past the cap (counted, not kept).
    pub notable_dropped: u64,
    biggest: Vec<FlowRow>,
    /// Bytes of the smallest row kept at the last trim: smaller rows
    /// cannot make the table.
    threshold: u64,
}

impl Digest {
    /// A digest whose table keeps at most `rows` rows.
    pub fn new(rows: usize) -> Self {
        Digest {
            flows: 0,
            pkts: 0,
            bytes: 0,
            first: None,
            last: None,
            by_app: BTreeMap::new(),
            apps: Vec::new(),
            traffic: Bins::new(),
            lanes: Vec::new(),
            found: Bins::new(),
            by_kind: BTreeMap::new(),
            names: HashMap::new(),
            names_uncounted: 0,
            rules: BTreeMap::new(),
            verdicts: BTreeMap::new(),
            rows_cap: rows,
            notable: Vec::new(),
            notable_dropped: 0,
            biggest: Vec::new(),
            threshold: 0,
        }
    }

    /// Would `row` be kept for the table (so that its record is worth
    /// rendering)?
    pub fn would_keep(&self, row: &FlowRow) -> bool {
        if self.rows_cap == 0 {
            false
        } else if row.notable() {
            self.notable.len() < self.rows_cap
        } else {
            self.biggest.len() < self.rows_cap || row.total_bytes() > self.threshold
        }
    }

    pub fn add(&mut self, row: FlowRow) {
        let (pkts, bytes) = (row.total_pkts(), row.total_bytes());
        self.flows += 1;
        self.pkts += pkts;
        self.bytes += bytes;
        self.first = Some(self.first.map_or(row.start, |f| f.min(row.start)));
        self.last = Some(self.last.map_or(row.end, |l| l.max(row.end)));
        let t = self.by_app.entry(row.app.clone()).or_default();
        t.flows += 1;
        t.pkts += pkts;
        t.bytes += bytes;
        let app = match self.apps.iter().position(|a| *a == row.app) {
            Some(i) => i,
            None => {
                self.apps.push(row.app.clone());
                self.apps.len() - 1
            }
        };
        self.traffic.add(row.start, row.end, app, bytes);
        for f in &row.findings {
            *self.by_kind.entry(f.kind).or_default() += 1;
            let lane = format!(
                "{}{}",
                f.label,
                f.confidence.map(|c| format!(" ({c})")).unwrap_or_default()
            );
            let i = match self.lanes.iter().position(|l| l.0 == f.kind && l.1 == lane) {
                Some(i) => i,
                None => {
                    self.lanes.push((f.kind, lane));
                    self.lanes.len() - 1
                }
            };
            self.found.add(row.start, row.start, i, 1);
        }
        if let Some(n) = &row.name {
            let room = self.names.len() < MAX_NAMES;
            match self.names.get_mut(n.as_str()) {
                Some(e) => {
                    e.0 += 1;
                    e.1 += bytes;
                }
                None if room => {
                    self.names.insert(n.clone(), (1, bytes));
                }
                None => self.names_uncounted += 1,
            }
        }
        for (id, msg) in &row.rules {
            let r = self.rules.entry(*id).or_insert_with(|| RuleHits {
                msg: msg.clone(),
                ..RuleHits::default()
            });
            r.flows += 1;
        }
        if let Some(v) = &row.verdict {
            *self.verdicts.entry(v.clone()).or_default() += 1;
        }
        self.keep(row);
    }

    /// An alert event of rule `id`.
    pub fn alert(&mut self, id: u32, msg: &str) {
        self.rules
            .entry(id)
            .or_insert_with(|| RuleHits {
                msg: msg.to_string(),
                ..RuleHits::default()
            })
            .alerts += 1;
    }

    fn keep(&mut self, row: FlowRow) {
        if self.rows_cap == 0 {
            return;
        }
        if row.notable() {
            if self.notable.len() < self.rows_cap {
                self.notable.push(row);
            } else {
                self.notable_dropped += 1;
            }
            return;
        }
        if self.biggest.len() >= self.rows_cap && row.total_bytes() <= self.threshold {
            return;
        }
        self.biggest.push(row);
        if self.biggest.len() >= 2 * self.rows_cap {
            self.trim_biggest();
        }
    }

    fn trim_biggest(&mut self) {
        self.biggest.sort_by(|a, b| {
            b.total_bytes()
                .cmp(&a.total_bytes())
                .then(a.start.cmp(&b.start))
        });
        self.biggest.truncate(self.rows_cap);
        if self.biggest.len() == self.rows_cap {
            self.threshold = self.biggest.last().map_or(0, FlowRow::total_bytes);
        }
    }

    /// The table's rows, by start time: every notable row kept, then the
    /// biggest others up to the cap.
    pub fn rows(&mut self) -> Vec<&FlowRow> {
        self.trim_biggest();
        let room = self.rows_cap.saturating_sub(self.notable.len());
        let mut rows: Vec<&FlowRow> = self
            .notable
            .iter()
            .chain(self.biggest.iter().take(room))
            .collect();
        rows.sort_by(|a, b| a.start.cmp(&b.start).then(a.flow_id.cmp(&b.flow_id)));
        rows
    }

    /// The `n` server names with the most flows.
    pub fn top_names(&self, n: usize) -> Vec<(&str, u64, u64)> {
        let mut v: Vec<(&str, u64, u64)> = self
            .names
            .iter()
            .map(|(k, &(f, b))| (k.as_str(), f, b))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_coarsen_and_keep_totals() {
        let mut b = Bins::new();
        b.add(0, 0, 0, 5);
        // 1 s later at 1 ms bins: 1001 bins, more than MAX_BINS.
        b.add(1_000_000_000, 1_000_000_000, 1, 7);
        assert!(b.bins.len() <= MAX_BINS, "{}", b.bins.len());
        assert_eq!((b.total(0), b.total(1)), (5, 7));
        // Earlier than the first bin, spread over a span.
        b.add(0, 2_000_000_000, 0, 100);
        assert!(b.bins.len() <= MAX_BINS);
        assert_eq!(b.total(0), 105);
    }

    #[test]
    fn table_keeps_notable_rows_then_the_biggest() {
        let mut d = Digest::new(3);
        for i in 0..10u64 {
            let mut r = FlowRow {
                flow_id: i,
                start: i,
                end: i,
                app: "tls".into(),
                bytes: [i * 10, 0],
                ..FlowRow::default()
            };
            if i == 2 {
                r.findings.push(Finding {
                    kind: "vpn",
                    label: "openvpn".into(),
                    detail: None,
                    confidence: Some("high"),
                });
            }
            d.add(r);
        }
        let ids: Vec<u64> = d.rows().iter().map(|r| r.flow_id).collect();
        assert_eq!(ids, vec![2, 8, 9]);
        assert_eq!(d.flows, 10);
        assert_eq!(d.by_kind.get("vpn"), Some(&1));
    }
}
