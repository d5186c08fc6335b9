//! The analysis behind `sift rules check`: duplicate and shadowed rules.
//! (What the commands print is `output::rules_report`.)

use hashbrown::HashMap;

use super::{Cond, NamePattern, Rule, RuleSet};

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
