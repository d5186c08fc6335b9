//! What `sift rules check` and `sift rules test` print: a rule set's
//! findings (duplicates, shadowed rules, its Hyperscan build) and what it
//! does to the flows of a capture.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hashbrown::HashMap;

use super::record::FlowRecord;
use super::summary::{self, thousands};
use crate::rules::eval::Facts;
use crate::rules::tune::CheckReport;
use crate::rules::{Action, Dialect, Rule, RuleSet};

fn describe(set: &RuleSet, i: u32) -> String {
    let r = &set.rules[i as usize];
    format!(
        "rule {} ({}, {})",
        r.id,
        r.action.as_str(),
        set.locate(r.span)
    )
}

/// The text `sift rules check` prints.
pub fn render_check(set: &RuleSet, report: &CheckReport) -> String {
    let mut o = String::new();
    let mut by_action: BTreeMap<Action, u64> = BTreeMap::new();
    let mut suricata = 0;
    for r in &set.rules {
        *by_action.entry(r.action).or_default() += 1;
        if r.dialect == Dialect::Suricata {
            suricata += 1;
        }
    }
    let actions: Vec<String> = by_action
        .iter()
        .map(|(a, n)| format!("{} {}", a.as_str(), thousands(*n)))
        .collect();
    let b = &set.build;
    let _ = writeln!(
        o,
        "{} rules ({} in the Suricata subset) from {} files: {}",
        thousands(set.rules.len() as u64),
        thousands(suricata),
        set.files.paths().len(),
        actions.join(", ")
    );
    let _ = writeln!(
        o,
        "name patterns: {} names ({} distinct, {}) in the suffix table; {} content literals, \
         {} regexes, {} of Hyperscan databases, {} in {:.0} ms",
        thousands(b.table_patterns as u64),
        thousands(b.table_names as u64),
        summary::bytes(b.table_bytes as u64),
        thousands(b.literals as u64),
        thousands(b.regexes as u64),
        summary::bytes(b.bytes as u64),
        if b.from_cache {
            "loaded from the cache"
        } else {
            "compiled"
        },
        b.time.as_secs_f64() * 1e3
    );
    if let Some(line) = lists_line(set) {
        let _ = writeln!(o, "{line}");
    }
    if report.duplicates.is_empty() && report.shadowed.is_empty() {
        let _ = writeln!(o, "no duplicate or shadowed rules");
    }
    for d in &report.duplicates {
        let _ = writeln!(
            o,
            "duplicate: {} has the same conditions as {}",
            describe(set, d.rule),
            describe(set, d.same_as)
        );
    }
    for s in &report.shadowed {
        let by = &set.rules[s.by as usize];
        let extra = if by.action == Action::Pass {
            "; a pass rule: it never alerts either"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "shadowed: {} never decides a verdict: {} matches every flow it matches and comes first{extra}",
            describe(set, s.rule),
            describe(set, s.by)
        );
    }
    o
}

/// `block lists: …` of `rules check`: entries of the address, URL and
/// registry conditions, and whether their address tables were cached.
/// None without such conditions.
fn lists_line(set: &RuleSet) -> Option<String> {
    let lists: Vec<&crate::rules::blocklist::Blocklist> = set
        .rules
        .iter()
        .flat_map(|r| &r.conds)
        .filter_map(|c| match c {
            crate::rules::Cond::List(b) => Some(&**b),
            _ => None,
        })
        .collect();
    if lists.is_empty() {
        return None;
    }
    let sum = |f: &dyn Fn(&crate::rules::blocklist::Blocklist) -> usize| -> u64 {
        lists.iter().map(|b| f(b) as u64).sum()
    };
    let with_ips: Vec<_> = lists.iter().filter(|b| !b.ips.is_empty()).collect();
    let cached = with_ips.iter().filter(|b| b.ips_from_cache).count();
    let how = if with_ips.is_empty() || cached == 0 {
        "built"
    } else if cached == with_ips.len() {
        "loaded from the cache"
    } else {
        "partly from the cache"
    };
    let malformed = sum(&|b| b.malformed_lines as usize);
    // How each registry was obtained (one word each, in rule order).
    let registries: Vec<&str> = lists
        .iter()
        .filter(|b| b.kind == crate::rules::blocklist::ListKind::Registry)
        .map(|b| b.registry_cache.describe())
        .collect();
    let registries = if registries.is_empty() {
        String::new()
    } else {
        format!("; registry {}", registries.join(", "))
    };
    Some(format!(
        "block lists: {} addresses ({} ranges, {how}), {} names, {} URLs{}{registries}",
        thousands(sum(&|b| b.ips.len())),
        thousands(sum(&|b| b.ips.ranges())),
        thousands(sum(&|b| b.names.len())),
        thousands(sum(&|b| b.urls.len())),
        if malformed > 0 {
            format!(", {} malformed registry lines", thousands(malformed))
        } else {
            String::new()
        }
    ))
}

/// What `sift rules test` gathers from the flows of a capture.
#[derive(Debug, Default)]
pub struct TestReport {
    pub flows: u64,
    pub matched_flows: u64,
    /// Rule id → (flows matched, flows whose verdict it decided).
    pub hits: HashMap<u32, (u64, u64)>,
    pub alerts: u64,
    /// Flows matched by more than one rule: (flow, rule ids).
    pub multi: Vec<(String, Vec<u32>)>,
    pub multi_count: u64,
    /// Names of flows no rule matched: name → flows.
    pub unmatched_names: HashMap<String, u64>,
}

/// Flows matched by several rules listed in full, at most.
const MULTI_LISTED: usize = 20;

impl TestReport {
    pub fn add(&mut self, r: &FlowRecord) {
        self.flows += 1;
        let verdict = r.verdict.as_deref().filter(|v| !v.hits.is_empty());
        match verdict {
            Some(v) => {
                self.matched_flows += 1;
                for (i, h) in v.hits.iter().enumerate() {
                    let e = self.hits.entry(h.id).or_default();
                    e.0 += 1;
                    if i == 0 {
                        e.1 += 1;
                    }
                }
                if v.hits.len() > 1 {
                    self.multi_count += 1;
                    if self.multi.len() < MULTI_LISTED {
                        self.multi
                            .push((flow_label(r), v.hits.iter().map(|h| h.id).collect()));
                    }
                }
            }
            None => {
                if let Some(n) = r.names.as_deref() {
                    let facts = Facts::new(r.proto, r.client, r.server, r.app_proto, Some(n));
                    let mut seen: Vec<&str> = facts.names().iter().map(|(_, n)| *n).collect();
                    seen.sort_unstable();
                    seen.dedup();
                    for name in seen {
                        *self.unmatched_names.entry(name.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }

    /// The text `sift rules test` prints; `top` unmatched names at most.
    pub fn render(&self, set: &RuleSet, top: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} flows, {} matched by a rule, {} alerts",
            thousands(self.flows),
            thousands(self.matched_flows),
            thousands(self.alerts)
        );
        let _ = writeln!(o, "\nhits per rule (flows matched / verdicts decided):");
        let mut hit: Vec<&Rule> = set
            .rules
            .iter()
            .filter(|r| self.hits.contains_key(&r.id))
            .collect();
        hit.sort_by_key(|r| (std::cmp::Reverse(self.hits[&r.id].0), r.id));
        for r in &hit {
            let (m, d) = self.hits[&r.id];
            let _ = writeln!(
                o,
                "  {:>10} {:>8} / {:<8} {:<5} {}",
                r.id,
                thousands(m),
                thousands(d),
                r.action.as_str(),
                r.msg
            );
        }
        if hit.is_empty() {
            let _ = writeln!(o, "  (none)");
        }
        let never: Vec<&Rule> = set
            .rules
            .iter()
            .filter(|r| !self.hits.contains_key(&r.id))
            .collect();
        let _ = writeln!(
            o,
            "\nrules that never hit: {}",
            thousands(never.len() as u64)
        );
        for r in never.iter().take(50) {
            let _ = writeln!(o, "  {:>10} {}  {}", r.id, set.locate(r.span), r.msg);
        }
        if never.len() > 50 {
            let _ = writeln!(o, "  ... and {} more", thousands(never.len() as u64 - 50));
        }
        let _ = writeln!(
            o,
            "\nflows matched by several rules: {}",
            thousands(self.multi_count)
        );
        for (flow, ids) in &self.multi {
            let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
            let _ = writeln!(
                o,
                "  {flow}: rules {} (verdict from {})",
                ids.join(", "),
                ids[0]
            );
        }
        let mut names: Vec<(&String, &u64)> = self.unmatched_names.iter().collect();
        names.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(
            o,
            "\ntop unmatched names ({} names in flows no rule matched):",
            thousands(names.len() as u64)
        );
        for (n, c) in names.into_iter().take(top) {
            let _ = writeln!(o, "  {:>8}  {n}", thousands(*c));
        }
        o
    }
}

/// `proto client -> server` of a flow.
pub fn flow_label(r: &FlowRecord) -> String {
    format!(
        "{} {} -> {}",
        crate::decode::ip::proto::label(r.proto),
        endpoint(r.client),
        endpoint(r.server)
    )
}

fn endpoint(e: crate::flow::key::Endpoint) -> String {
    match e.addr {
        std::net::IpAddr::V6(a) => format!("[{a}]:{}", e.port),
        a => format!("{a}:{}", e.port),
    }
}

/// `--explain`: one flow's hits, condition by condition.
pub fn explain(r: &FlowRecord) -> Option<String> {
    let v = r.verdict.as_deref()?;
    let mut o = format!("{}\n", flow_label(r));
    for (i, h) in v.hits.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {} rule {} \"{}\"{}",
            h.action.as_str(),
            h.id,
            h.msg,
            if i == 0 { " (verdict)" } else { "" }
        );
        for w in &h.why {
            match &w.pattern {
                Some(p) if w.entry.is_some() => {
                    let decision = w
                        .decision
                        .as_ref()
                        .map(|(n, d)| format!(", decision {n} of {d}"))
                        .unwrap_or_default();
                    let e = w.entry.as_deref().unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "    {} {} matched {p} ({e}{decision})",
                        w.condition, w.value
                    );
                }
                Some(p) => {
                    let _ = writeln!(o, "    {} {} matched {p}", w.condition, w.value);
                }
                None => {
                    let _ = writeln!(o, "    {} {}", w.condition, w.value);
                }
            }
        }
    }
    Some(o)
}
