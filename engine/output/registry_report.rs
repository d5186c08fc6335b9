//! `sift rules test --registry-report`: what a block list (a registry
//! dump, an address or URL list) would catch in a capture, per class of
//! flow, and what slips past it.
//!
//! Flows are put in classes from what sift found in their packets: `vpn`
//! (a VPN protocol was fingerprinted), `obfuscated` (a suspected
//! obfuscation), `evasion` (a DPI-evasion technique; no detector on this
//! branch yet, so the class stays empty until one reports it — see
//! [`class_of`]), else `plain`. For each class: flows, flows caught by
//! a list entry, by address, by name and by URL (a flow may be caught in
//! several ways), and not caught. Then the entries that hit, most flows
//! first, with their file:line and decision; and the flows of the other
//! classes that no list caught, with the names and server they showed —
//! what rides past the registry inside a tunnel or behind an evasion.

use std::fmt::Write as _;

use hashbrown::{HashMap, HashSet};

use super::record::FlowRecord;
use super::rules_report::flow_label;
use super::summary::thousands;
use crate::classify::AppProto;
use crate::rules::eval::Facts;
use crate::rules::{Cond, RuleSet};

/// A class of flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Plain,
    Vpn,
    Obfuscated,
    Evasion,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Plain, Class::Vpn, Class::Obfuscated, Class::Evasion];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Plain => "plain",
            Class::Vpn => "vpn",
            Class::Obfuscated => "obfuscated",
            Class::Evasion => "evasion",
        }
    }
}

/// The class of a flow, from what was found in its packets.
pub fn class_of(r: &FlowRecord) -> Class {
    use AppProto::*;
    let names = r.names.as_deref();
    // An evasion decides over the protocol it hides.
    if names.is_some_and(|n| n.evasion.is_some()) {
        return Class::Evasion;
    }
    if matches!(r.app_proto, OpenVpn | WireGuard | Ike | Esp | Ah)
        || names.is_some_and(|n| n.vpn.is_some())
    {
        return Class::Vpn;
    }
    if names.is_some_and(|n| n.obfuscation.is_some()) {
        return Class::Obfuscated;
    }
    Class::Plain
}

/// Counts of one class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassCounts {
    pub flows: u64,
    pub caught: u64,
    pub by_address: u64,
    pub by_name: u64,
    pub by_url: u64,
}

/// Flows listed as escaping, at most.
const ESCAPES_LISTED: usize = 30;

/// What `--registry-report` gathers.
#[derive(Debug, Default)]
pub struct RegistryReport {
    /// Ids of the rules with a list condition.
    list_rules: HashSet<u32>,
    pub classes: HashMap<Class, ClassCounts>,
    /// (entry, pattern, decision) → flows.
    pub entries: HashMap<(String, String, String), u64>,
    /// Flows of the non-plain classes no list caught: (class, flow, names).
    pub escapes: Vec<(Class, String, Vec<String>)>,
    pub escape_count: u64,
}

impl RegistryReport {
    pub fn new(set: &RuleSet) -> RegistryReport {
        let list_rules = set
            .rules
            .iter()
            .filter(|r| r.conds.iter().any(|c| matches!(c, Cond::List(_))))
            .map(|r| r.id)
            .collect();
        RegistryReport {
            list_rules,
            ..RegistryReport::default()
        }
    }

    pub fn add(&mut self, r: &FlowRecord) {
        let class = class_of(r);
        let c = self.classes.entry(class).or_default();
        c.flows += 1;
        let (mut addr, mut name, mut url) = (false, false, false);
        if let Some(v) = r.verdict.as_deref() {
            for h in v.hits.iter().filter(|h| self.list_rules.contains(&h.id)) {
                for w in h.why.iter().filter(|w| w.entry.is_some()) {
                    if w.condition.ends_with("ip") {
                        addr = true;
                    } else if w.condition == "http.url" {
                        url = true;
                    } else {
                        name = true;
                    }
                    let decision = w
                        .decision
                        .as_ref()
                        .map(|(n, d)| format!("{n} of {d}"))
                        .unwrap_or_default();
                    let key = (
                        w.entry.clone().unwrap_or_default(),
                        w.pattern.clone().unwrap_or_default(),
                        decision,
                    );
                    *self.entries.entry(key).or_default() += 1;
                }
            }
        }
        c.by_address += u64::from(addr);
        c.by_name += u64::from(name);
        c.by_url += u64::from(url);
        let caught = addr || name || url;
        c.caught += u64::from(caught);
        if !caught && class != Class::Plain {
            self.escape_count += 1;
            if self.escapes.len() < ESCAPES_LISTED {
                let mut names: Vec<String> = r
                    .names
                    .as_deref()
                    .map(|n| {
                        Facts::new(r.proto, r.client, r.server, r.app_proto, Some(n))
                            .names()
                            .iter()
                            .map(|(s, n)| format!("{} {n}", s.as_str()))
                            .collect()
                    })
                    .unwrap_or_default();
                names.dedup();
                self.escapes.push((class, flow_label(r), names));
            }
        }
    }

    /// The report, `top` entries at most.
    pub fn render(&self, top: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\nregistry report (flows caught by a list entry, per class):"
        );
        let _ = writeln!(
            o,
            "  {:<11} {:>8} {:>8} {:>10} {:>8} {:>8} {:>10}",
            "class", "flows", "caught", "by address", "by name", "by URL", "not caught"
        );
        for class in Class::ALL {
            let c = self.classes.get(&class).copied().unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:<11} {:>8} {:>8} {:>10} {:>8} {:>8} {:>10}",
                class.as_str(),
                thousands(c.flows),
                thousands(c.caught),
                thousands(c.by_address),
                thousands(c.by_name),
                thousands(c.by_url),
                thousands(c.flows - c.caught)
            );
        }
        let mut entries: Vec<(&(String, String, String), &u64)> = self.entries.iter().collect();
        entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(
            o,
            "\nentries that hit ({} entries; flows, entry, what it lists, decision):",
            thousands(entries.len() as u64)
        );
        for ((entry, pattern, decision), n) in entries.iter().take(top) {
            let _ = writeln!(o, "  {:>8}  {entry}  {pattern}  {decision}", thousands(**n));
        }
        if entries.is_empty() {
            let _ = writeln!(o, "  (none)");
        }
        let _ = writeln!(
            o,
            "\nflows past the lists inside a VPN, obfuscated or behind an evasion: {}",
            thousands(self.escape_count)
        );
        for (class, flow, names) in &self.escapes {
            let shown = if names.is_empty() {
                "no name visible".to_string()
            } else {
                names.join(", ")
            };
            let _ = writeln!(o, "  {:<10} {flow}  ({shown})", class.as_str());
        }
        o
    }
}
