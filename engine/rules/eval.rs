//! Deciding which rules a flow matches, and why.
//!
//! A worker holds one [`Matcher`] (the shared [`RuleSet`] and its own
//! Hyperscan scratch). It checks a flow each time the flow's
//! classification changes (its first packet, a name, a verdict) and at its
//! end. Names are scanned once per check; the rules their patterns belong
//! to, and the rules without a name condition, are then checked condition
//! by condition. A rule matches a flow at most once.

use std::sync::Arc;

use super::names::{NameScratch, Target};
use super::{Action, Cond, EchWant, Rule, RuleSet, Source};
use crate::classify::tls::Ech;
use crate::classify::{AppProto, Names};
use crate::flow::key::Endpoint;

/// What a flow offers the rules.
#[derive(Debug)]
pub struct Facts<'a> {
    pub proto: u8,
    pub client: Option<Endpoint>,
    pub server: Option<Endpoint>,
    pub app: AppProto,
    /// Names by source (normalized): the first `name_count` entries.
    names: [(Source, &'a str); 4],
    name_count: usize,
    pub ja3: Option<&'a str>,
    pub ja4: Option<&'a str>,
    pub ech: Option<Ech>,
}

impl<'a> Facts<'a> {
    /// The facts of a flow with these endpoints, protocol and findings.
    pub fn new(
        proto: u8,
        client: Endpoint,
        server: Endpoint,
        app: AppProto,
        names: Option<&'a Names>,
    ) -> Self {
        let mut f = Facts {
            proto,
            client: Some(client),
            server: Some(server),
            app,
            names: [(Source::TlsSni, ""); 4],
            name_count: 0,
            ja3: None,
            ja4: None,
            ech: None,
        };
        let Some(n) = names else { return f };
        let hello = n
            .tls
            .as_ref()
            .or_else(|| n.quic.as_ref().and_then(|q| q.hello.as_ref()));
        if let Some(sni) = n.tls.as_ref().and_then(|h| h.sni.as_deref()) {
            f.add_name((Source::TlsSni, sni));
        }
        if let Some(sni) = n.quic.as_ref().and_then(|q| q.sni()) {
            f.add_name((Source::QuicSni, sni));
        }
        // The latest request: each bumps the revision (as DNS below).
        let http = n.http_latest.as_ref().or(n.http.as_ref());
        if let Some(host) = http.and_then(|h| h.hostname.as_deref()) {
            f.add_name((Source::HttpHost, host));
        }
        // The flow's latest DNS message: each new one bumps the flow's
        // revision, so every message's name is checked once.
        if let Some(q) = n.dns_latest.as_ref().or(n.dns.as_ref()) {
            if !q.rrname.is_empty() {
                f.add_name((Source::DnsQuery, &q.rrname));
            }
        }
        if let Some(h) = hello {
            f.ja3 = Some(&h.ja3_hash);
            f.ja4 = Some(&h.ja4);
            f.ech = Some(h.ech);
        }
        f
    }
}

impl<'a> Facts<'a> {
    fn add_name(&mut self, n: (Source, &'a str)) {
        // One name per source: never more than the array holds.
        if let Some(slot) = self.names.get_mut(self.name_count) {
            *slot = n;
            self.name_count += 1;
        }
    }

    /// The flow's names, with their sources.
    pub fn names(&self) -> &[(Source, &'a str)] {
        &self.names[..self.name_count]
    }
}

/// Why one condition held: the value it saw and, for names, the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Why {
    /// The condition's keyword (`tls.sni`, `app`, `server.port`, ...).
    pub condition: String,
    pub value: String,
    /// The name pattern that matched (names only).
    pub pattern: Option<String>,
}

/// A rule a flow matched, self-contained (the rule set may be reloaded
/// while the flow goes on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub id: u32,
    pub rev: u32,
    pub action: Action,
    pub msg: String,
    pub priority: u8,
    pub category: String,
    pub why: Vec<Why>,
}

impl Hit {
    pub fn precedence(&self) -> (Action, u8, u32) {
        (self.action, self.priority, self.id)
    }
}

/// The rules a flow matched, in precedence order: the first decides the
/// flow's verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub hits: Vec<Hit>,
}

impl Verdict {
    pub fn action(&self) -> Option<Action> {
        self.hits.first().map(|h| h.action)
    }

    pub fn has(&self, id: u32) -> bool {
        self.hits.iter().any(|h| h.id == id)
    }

    /// Adds a hit, keeping precedence order.
    pub fn add(&mut self, h: Hit) {
        let at = self
            .hits
            .partition_point(|x| x.precedence() <= h.precedence());
        self.hits.insert(at, h);
    }
}

/// A worker's view of a rule set.
pub struct Matcher {
    set: Arc<RuleSet>,
    scratch: NameScratch,
    /// Name pattern hits of the current check: (target, source, name).
    hits: Vec<(Target, Source, usize)>,
    candidates: Vec<u32>,
}

impl Matcher {
    pub fn new(set: Arc<RuleSet>) -> Self {
        let scratch = set.names.scratch();
        Matcher {
            set,
            scratch,
            hits: Vec::new(),
            candidates: Vec::new(),
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// Appends to `out` the rules `facts` match that `verdict` does not
    /// hold yet, in precedence order.
    pub fn check(&mut self, facts: &Facts<'_>, verdict: &Verdict, out: &mut Vec<Hit>) {
        self.hits.clear();
        self.candidates.clear();
        let set = &*self.set;
        if facts.names().is_empty() && set.unindexed.is_empty() {
            return; // only name rules, and no name yet
        }
        for (i, (source, name)) in facts.names().iter().enumerate() {
            let hits = &mut self.hits;
            let candidates = &mut self.candidates;
            set.names.scan(&mut self.scratch, name, &mut |t| {
                let Some(Cond::Name { sources, .. }) = set
                    .rules
                    .get(t.rule as usize)
                    .and_then(|r| r.conds.get(usize::from(t.cond)))
                else {
                    return;
                };
                if sources.contains(*source) {
                    hits.push((t, *source, i));
                    candidates.push(t.rule);
                }
            });
        }
        // Without name hits the candidates are the unindexed rules, in order.
        let candidates: &[u32] = if self.candidates.is_empty() {
            &set.unindexed
        } else {
            self.candidates.extend_from_slice(&set.unindexed);
            self.candidates.sort_unstable();
            self.candidates.dedup();
            &self.candidates
        };
        let first = out.len();
        for &ri in candidates {
            let rule = &set.rules[ri as usize];
            if verdict.has(rule.id) {
                continue;
            }
            if let Some(why) = explain(rule, ri, facts, &self.hits) {
                out.push(Hit {
                    id: rule.id,
                    rev: rule.rev,
                    action: rule.action,
                    msg: rule.msg.clone(),
                    priority: rule.priority,
                    category: rule.category.clone(),
                    why,
                });
            }
        }
        out[first..].sort_by_key(Hit::precedence);
    }
}

/// Why `rule` matches, condition by condition; None if one fails.
fn explain(
    rule: &Rule,
    ri: u32,
    f: &Facts<'_>,
    hits: &[(Target, Source, usize)],
) -> Option<Vec<Why>> {
    // Most checks fail: decide first, without allocating; only a rule that
    // matched is looked at again and put into words.
    let all = rule
        .conds
        .iter()
        .enumerate()
        .all(|(ci, c)| seen(c, ri, ci as u16, f, hits).is_some());
    if !all {
        return None;
    }
    rule.conds
        .iter()
        .enumerate()
        .map(|(ci, c)| seen(c, ri, ci as u16, f, hits).map(|s| s.why(c, f)))
        .collect()
}

/// What made a condition hold, borrowed from the facts.
enum Seen<'h> {
    /// A name pattern hit: (pattern, source, index into the names).
    Name(&'h (Target, Source, usize)),
    NameLength(Source, usize),
    App,
    Transport,
    Endpoint(Endpoint),
    Ja3(&'h str),
    Ja4(&'h str),
    Ech,
}

/// Whether condition `ci` of rule `ri` holds, and on what.
fn seen<'h>(
    c: &Cond,
    ri: u32,
    ci: u16,
    f: &Facts<'h>,
    hits: &'h [(Target, Source, usize)],
) -> Option<Seen<'h>> {
    match c {
        Cond::Name { .. } => hits
            .iter()
            .find(|(t, _, _)| t.rule == ri && t.cond == ci)
            .map(Seen::Name),
        Cond::NameLength { sources, min, max } => f
            .names()
            .iter()
            .find(|(s, n)| sources.contains(*s) && (*min..=*max).contains(&n.len()))
            .map(|(s, n)| Seen::NameLength(*s, n.len())),
        Cond::App(apps) => apps.contains(&f.app).then_some(Seen::App),
        Cond::Transport(p) => p.contains(&f.proto).then_some(Seen::Transport),
        Cond::Ip { side, nets } => endpoints(*side, f)
            .into_iter()
            .flatten()
            .find(|e| nets.iter().any(|n| n.contains(e.addr)))
            .map(Seen::Endpoint),
        Cond::Port { side, ranges } => endpoints(*side, f)
            .into_iter()
            .flatten()
            .find(|e| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&e.port)))
            .map(Seen::Endpoint),
        Cond::Ja3(v) => f.ja3.filter(|h| v.iter().any(|x| x == h)).map(Seen::Ja3),
        Cond::Ja4(v) => f.ja4.filter(|h| v.iter().any(|x| x == h)).map(Seen::Ja4),
        Cond::Ech(want) => f
            .ech
            .is_some_and(|ech| ech_is(*want, ech))
            .then_some(Seen::Ech),
    }
}

impl Seen<'_> {
    /// In words, for condition `c`.
    fn why(&self, c: &Cond, f: &Facts<'_>) -> Why {
        let plain = |condition: String, value: String| Why {
            condition,
            value,
            pattern: None,
        };
        match (self, c) {
            (Seen::Name((t, source, name)), Cond::Name { patterns, .. }) => Why {
                condition: source.as_str().to_string(),
                value: f.names()[*name].1.to_string(),
                pattern: patterns.get(t.pattern as usize).map(|p| p.describe()),
            },
            (Seen::NameLength(s, len), _) => {
                plain(format!("{} length", s.as_str()), len.to_string())
            }
            (Seen::App, _) => plain("app".into(), f.app.as_str().into()),
            (Seen::Transport, _) => plain(
                "transport".into(),
                crate::decode::ip::proto::label(f.proto).into_owned(),
            ),
            (Seen::Endpoint(e), Cond::Ip { side, .. }) => {
                plain(format!("{}ip", side.prefix()), e.addr.to_string())
            }
            (Seen::Endpoint(e), Cond::Port { side, .. }) => {
                plain(format!("{}port", side.prefix()), e.port.to_string())
            }
            (Seen::Ja3(h), _) => plain("ja3".into(), (*h).into()),
            (Seen::Ja4(h), _) => plain("ja4".into(), (*h).into()),
            (Seen::Ech, Cond::Ech(want)) => plain("ech".into(), want.as_str().into()),
            // `seen` pairs each condition with its own kind.
            _ => plain(c.keyword(), String::new()),
        }
    }
}

fn ech_is(want: EchWant, ech: Ech) -> bool {
    match (want, ech) {
        (EchWant::Absent, Ech::None) => true,
        (EchWant::Present, Ech::Present { .. }) => true,
        (EchWant::Real, Ech::Present { grease_likely, .. }) => !grease_likely,
        (EchWant::Grease, Ech::Present { grease_likely, .. }) => grease_likely,
        _ => false,
    }
}

fn endpoints(side: super::Side, f: &Facts<'_>) -> [Option<Endpoint>; 2] {
    match side {
        super::Side::Client => [f.client, None],
        super::Side::Server => [f.server, None],
        super::Side::Either => [f.client, f.server],
    }
}

/// Whether a verdict lets alerts out: nothing after a `pass`.
pub fn alerts_allowed(v: &Verdict) -> bool {
    v.action() != Some(Action::Pass)
}
