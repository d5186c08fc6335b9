//! The analyses behind `sift rules check` (duplicate and shadowed rules)
//! and `sift rules test` (what a rule set does to a capture).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hashbrown::HashMap;

use super::{Action, Cond, NamePattern, Rule, RuleSet};
use crate::output::record::FlowRecord;
use crate::output::summary::thousands;

/// Two rules with the same conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// Indices into the rule set: the later rule, then the first one.
    pub rule: u32,
    pub same_as: u32,
}

/// A rule that never decides a verdict: `by` matches every flow it
/// matches and comes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadowed {
    pub rule: u32,
    pub by: u32,
}

/// Findings of `sift rules check`.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    pub duplicates: Vec<Duplicate>,
    pub shadowed: Vec<Shadowed>,
}

/// Candidate shadowing rules considered per rule, at most (a name shared
/// by thousands of rules would otherwise make the check quadratic).
const MAX_CANDIDATES: usize = 4096;

/// The domain a name pattern is about, for indexing.
fn domain_of(p: &NamePattern) -> Option<&str> {
    match p {
        NamePattern::Exact(x) | NamePattern::Domain(x) | NamePattern::Subdomains(x) => Some(x),
        _ => None,
    }
}

/// `name` and each of its parent domains (`a.b.c`, `b.c`, `c`).
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(name), |s| s.split_once('.').map(|(_, rest)| rest))
}

/// Condition lists compared without regard to order.
fn same_conditions(a: &Rule, b: &Rule) -> bool {
    a.conds.len() == b.conds.len()
        && a.conds.iter().all(|c| b.conds.contains(c))
        && b.conds.iter().all(|c| a.conds.contains(c))
}

/// Finds duplicate and shadowed rules.
pub fn check(set: &RuleSet) -> CheckReport {
    let rules = &set.rules;
    // Rules by the domains of their name patterns; rules whose name
    // conditions are not all indexable, or without any, are checked
    // against every rule.
    let mut by_domain: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut everywhere: Vec<u32> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let mut indexed = false;
        for c in &r.conds {
            if let Cond::Name { patterns, .. } = c {
                if patterns.iter().all(|p| domain_of(p).is_some()) {
                    for p in patterns {
                        let d = domain_of(p).unwrap_or_default();
                        by_domain.entry(d).or_default().push(i as u32);
                    }
                    indexed = true;
                    break;
                }
            }
        }
        if !indexed {
            everywhere.push(i as u32);
        }
    }
    let mut report = CheckReport::default();
    let mut cands: Vec<u32> = Vec::new();
    for (bi, b) in rules.iter().enumerate() {
        cands.clear();
        // A rule with a name condition can only be implied by rules whose
        // patterns cover the first name of one of b's name conditions.
        for c in &b.conds {
            if let Cond::Name { patterns, .. } = c {
                if let Some(d) = patterns.first().and_then(domain_of) {
                    for s in suffixes(d) {
                        if let Some(v) = by_domain.get(s) {
                            cands.extend(v.iter().take(MAX_CANDIDATES));
                        }
                    }
                }
            }
        }
        cands.extend(everywhere.iter().take(MAX_CANDIDATES));
        cands.sort_unstable();
        cands.dedup();
        let mut dup: Option<u32> = None;
        let mut shadow: Option<u32> = None;
        for &ai in &cands {
            if ai as usize == bi {
                continue;
            }
            let a = &rules[ai as usize];
            if dup.is_none() && (ai as usize) < bi && same_conditions(a, b) {
                dup = Some(ai);
            }
            if a.precedence() < b.precedence()
                && b.implied_by(a)
                && shadow.is_none_or(|s| a.precedence() < rules[s as usize].precedence())
            {
                shadow = Some(ai);
            }
        }
        if let Some(d) = dup {
            report.duplicates.push(Duplicate {
                rule: bi as u32,
                same_as: d,
            });
        }
        if let Some(s) = shadow {
            report.shadowed.push(Shadowed {
                rule: bi as u32,
                by: s,
            });
        }
    }
    report
}

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
        if r.dialect == super::Dialect::Suricata {
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
        "name patterns: {} literals, {} regexes, {} of Hyperscan databases, {} in {:.0} ms",
        thousands(b.literals as u64),
        thousands(b.regexes as u64),
        crate::output::summary::bytes(b.bytes as u64),
        if b.from_cache {
            "loaded from the cache"
        } else {
            "compiled"
        },
        b.time.as_secs_f64() * 1e3
    );
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
                    let facts =
                        super::eval::Facts::new(r.proto, r.client, r.server, r.app_proto, Some(n));
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
        crate::output::eve::proto_name(r.proto),
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
