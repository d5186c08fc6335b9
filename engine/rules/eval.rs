//! Deciding which rules a flow matches, and why.
//!
//! A worker holds one [`Matcher`] (the shared [`RuleSet`] and its own
//! scratch space for the name index). It checks a flow each time the flow's
//! classification changes (its first packet, a name, a verdict) and at its
//! end. Names are scanned once per check; the rules their patterns belong
//! to, and the rules without a name condition, are then checked condition
//! by condition. A rule matches a flow at most once.

use std::cell::Cell;
use std::sync::Arc;

use super::blocklist::{Blocklist, ListKind};
use super::iplist::Prefix;
use super::names::{NameScratch, Target};
use super::urls::{self, UrlEntry};
use super::{Action, Cond, EchWant, Rule, RuleSet, Source};
use crate::classify::http::HttpRequest;
use crate::classify::obfuscation::{Class, Suspect};
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
    /// The obfuscation finding: its class and suspects.
    pub obfuscation: Option<(Class, &'a [Suspect])>,
    /// Evasion techniques seen ([`Technique::bit`](crate::classify::evasion::Technique::bit)).
    pub evasion: u16,
    /// The HTTP request, for URL conditions.
    pub http: Option<&'a HttpRequest>,
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
            obfuscation: None,
            evasion: 0,
            http: None,
        };
        let Some(n) = names else { return f };
        f.obfuscation = n
            .obfuscation
            .as_ref()
            .map(|o| (o.class, o.suspects.as_slice()));
        let hello = n
            .tls
            .as_deref()
            .or_else(|| n.quic.as_ref().and_then(|q| q.hello.as_ref()));
        if let Some(sni) = n.tls.as_ref().and_then(|h| h.sni.as_deref()) {
            f.add_name((Source::TlsSni, sni));
        }
        if let Some(sni) = n.quic.as_ref().and_then(|q| q.sni()) {
            f.add_name((Source::QuicSni, sni));
        }
        // The latest request: each new Host or URL bumps the revision (as
        // DNS below), so every request's are checked.
        let http = n.http_latest.as_deref().or(n.http.as_deref());
        if let Some(host) = http.and_then(|h| h.hostname.as_deref()) {
            f.add_name((Source::HttpHost, host));
        }
        f.http = http;
        // The flow's latest DNS message: each new one bumps the flow's
        // revision, so every message's name is checked once.
        if let Some(q) = n.dns_latest.as_deref().or(n.dns.as_deref()) {
            if !q.rrname.is_empty() {
                f.add_name((Source::DnsQuery, &q.rrname));
            }
        }
        if let Some(e) = n.evasion.as_deref() {
            f.evasion = e.entries.iter().fold(0, |b, e| b | e.technique.bit());
        }
        if let Some(h) = hello {
            f.ja3 = Some(h.ja3_hash());
            f.ja4 = Some(h.ja4());
            f.ech = Some(h.ech);
        }
        f
    }
}

/// Whether `n` gives the facts a name or an HTTP request (what name, list
/// and URL conditions look at): as [`Facts::new`] reads them, without
/// building them.
fn offers_evidence(n: &Names) -> bool {
    n.tls.as_ref().is_some_and(|h| h.sni.is_some())
        || n.quic.as_ref().is_some_and(|q| q.sni().is_some())
        || n.http_latest.is_some()
        || n.http.is_some()
        || n.dns_latest
            .as_deref()
            .or(n.dns.as_deref())
            .is_some_and(|q| !q.rrname.is_empty())
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
    /// The name pattern that matched (names only), or the list entry
    /// (an address block, a URL).
    pub pattern: Option<String>,
    /// `file:line` of the list entry that matched (address lists, URL
    /// lists, registries).
    pub entry: Option<String>,
    /// The registry decision that listed it: (number, date).
    pub decision: Option<(String, String)>,
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

/// Whether a flow's endpoints are in any address list of the rule set.
/// A flow's addresses never change: the lists are asked once, the first
/// time a check needs them, and when neither endpoint is in any, the
/// flow's later checks look no address up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Listing {
    /// Not asked yet.
    #[default]
    Unknown,
    /// In no address list.
    Unlisted,
    /// In one list at least: each check looks its lists up.
    Listed,
}

/// A worker's view of a rule set.
pub struct Matcher {
    set: Arc<RuleSet>,
    scratch: NameScratch,
    /// Name pattern hits of the current check: (target, source, name).
    hits: Vec<(Target, Source, usize)>,
    candidates: Vec<u32>,
    /// The current check's HTTP request URL (canonical), when a rule
    /// looks at URLs.
    url: Option<String>,
    /// Room for the current request's origin.
    origin: String,
}

impl Matcher {
    /// Starts loading what asking the address lists for `a` and `b` will
    /// read first: called when a flow opens, its first check (packets
    /// later) then finds it in cache.
    #[inline]
    pub fn prefetch_addresses(&self, a: std::net::IpAddr, b: std::net::IpAddr) {
        for list in &self.set.address_lists {
            list.ips.prefetch(a);
            list.ips.prefetch(b);
        }
    }

    /// True when no rule can match a flow with these names and endpoints:
    /// every rule needs a name, a request or a listed address (each has
    /// a name, name-length or list condition), and the flow offers none (its
    /// addresses asked once, as a check would, into `listing`). Such a
    /// flow's check, most first checks, is skipped: nothing would be
    /// added to its verdict.
    #[inline]
    pub fn matches_nothing(
        &self,
        names: Option<&Names>,
        ends: [Endpoint; 2],
        listing: &mut Listing,
    ) -> bool {
        self.set.needs_evidence
            && !names.is_some_and(offers_evidence)
            && !addresses_listed(&self.set, ends.map(Some), listing)
    }

    pub fn new(set: Arc<RuleSet>) -> Self {
        let scratch = set.names.scratch();
        Matcher {
            set,
            scratch,
            hits: Vec::new(),
            candidates: Vec::new(),
            url: None,
            origin: String::new(),
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// Checks `facts` against a flow's `verdict`: the rules newly matched
    /// join it, and `alerts` gets those of them that alert (none under a
    /// `pass`). `listing` is the flow's, kept between its checks. Returns
    /// how many rules the verdict held before.
    pub fn update(
        &mut self,
        facts: &Facts<'_>,
        listing: &mut Listing,
        verdict: &mut Option<Box<Verdict>>,
        alerts: &mut Vec<Hit>,
    ) -> usize {
        alerts.clear();
        let empty = Verdict::default();
        self.check(facts, listing, verdict.as_deref().unwrap_or(&empty), alerts);
        if alerts.is_empty() {
            return verdict.as_ref().map_or(0, |v| v.hits.len());
        }
        let verdict = verdict.get_or_insert_with(Box::default);
        let before = verdict.hits.len();
        for h in alerts.iter() {
            verdict.add(h.clone());
        }
        if alerts_allowed(verdict) {
            alerts.retain(|h| h.action.alerts());
        } else {
            alerts.clear();
        }
        before
    }

    /// Appends to `out` the rules `facts` match that `verdict` does not
    /// hold yet, in precedence order. `listing`: whether the flow's
    /// addresses are in an address list (found here if not known yet).
    pub fn check(
        &mut self,
        facts: &Facts<'_>,
        listing: &mut Listing,
        verdict: &Verdict,
        out: &mut Vec<Hit>,
    ) {
        self.hits.clear();
        self.candidates.clear();
        let set = &*self.set;
        if facts.names().is_empty() && set.unindexed.is_empty() {
            return; // only name rules, and no name yet
        }
        self.url = None;
        if set.has_urls {
            if let (Some(h), Some(server)) = (facts.http, facts.server) {
                let host = h.hostname.as_deref();
                let o = &mut self.origin;
                let listed = urls::request_origin(&h.url, host, server.port, o)
                    && set.url_lists().any(|l| l.has_origin(o));
                if listed {
                    self.url = urls::request_url(&h.url, host, server.port);
                }
            }
        }
        for (i, (source, name)) in facts.names().iter().enumerate() {
            let hits = &mut self.hits;
            let candidates = &mut self.candidates;
            set.names.scan(&mut self.scratch, name, &mut |t| {
                let Some(c) = set
                    .rules
                    .get(t.rule as usize)
                    .and_then(|r| r.conds.get(usize::from(t.cond)))
                else {
                    return;
                };
                if c.name_sources().contains(*source) {
                    hits.push((t, *source, i));
                    candidates.push(t.rule);
                }
            });
        }
        // The unindexed rules the flow's protocol allows; with name hits
        // too, all in rule order.
        let named = !self.candidates.is_empty();
        let bit = super::app_bit(facts.app);
        self.candidates.extend(
            set.unindexed
                .iter()
                .filter(|u| u.apps & bit != 0)
                .map(|u| u.rule),
        );
        if named {
            self.candidates.sort_unstable();
            self.candidates.dedup();
        }
        let candidates: &[u32] = &self.candidates;
        let listing = Cell::from_mut(listing);
        let first = out.len();
        for &ri in candidates {
            let rule = &set.rules[ri as usize];
            if verdict.has(rule.id) {
                continue;
            }
            let ctx = Ctx {
                f: facts,
                hits: &self.hits,
                url: self.url.as_deref(),
                set,
                listing,
            };
            if holds(rule, ri, &ctx) {
                out.push(hit(rule, ri, &ctx));
            }
        }
        out[first..].sort_by_key(Hit::precedence);
    }
}

/// The hit of `rule`, which holds, its conditions put into words. Out of
/// line and cold: most checks match nothing, and the packet path's code
/// stays smaller without it.
#[cold]
#[inline(never)]
fn hit(rule: &Rule, ri: u32, ctx: &Ctx<'_, '_>) -> Hit {
    let mut why = Vec::with_capacity(rule.conds.len());
    for (ci, c) in rule.conds.iter().enumerate() {
        if let Some(s) = seen(c, ri, ci as u16, ctx) {
            s.why(c, ctx.f, &mut why);
        }
    }
    Hit {
        id: rule.id,
        rev: rule.rev,
        action: rule.action,
        msg: rule.msg.clone(),
        priority: rule.priority,
        category: rule.category.clone(),
        why,
    }
}

/// What a check looks at.
struct Ctx<'c, 'a> {
    f: &'c Facts<'a>,
    /// Name pattern hits: (pattern, source, index into the names).
    hits: &'c [(Target, Source, usize)],
    /// The request URL, canonical.
    url: Option<&'c str>,
    set: &'c RuleSet,
    /// The flow's [`Listing`].
    listing: &'c Cell<Listing>,
}

impl Ctx<'_, '_> {
    /// Whether the flow's addresses can be in an address list: asks
    /// every list once per flow.
    fn addresses_listed(&self) -> bool {
        let mut listing = self.listing.get();
        let listed = addresses_listed(self.set, [self.f.client, self.f.server], &mut listing);
        self.listing.set(listing);
        listed
    }
}

/// Whether the endpoints `ends` can be in an address list of `set`: asks
/// every list once per flow, the answer kept in `listing`.
#[inline]
fn addresses_listed(set: &RuleSet, ends: [Option<Endpoint>; 2], listing: &mut Listing) -> bool {
    if *listing == Listing::Unknown {
        let listed = set.address_lists.iter().any(|b| {
            ends.iter()
                .flatten()
                .any(|e| b.ips.lookup_index(e.addr).is_some())
        });
        *listing = if listed {
            Listing::Listed
        } else {
            Listing::Unlisted
        };
    }
    *listing == Listing::Listed
}

/// Whether every condition of `rule` holds. Most checks fail: they are
/// decided without allocating, and only a rule that holds is looked at
/// again and put into words ([`hit`]).
fn holds(rule: &Rule, ri: u32, ctx: &Ctx<'_, '_>) -> bool {
    rule.conds
        .iter()
        .enumerate()
        .all(|(ci, c)| seen(c, ri, ci as u16, ctx).is_some())
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
    Obfuscation(Class),
    Suspect(Suspect),
    Evasion,
    /// A list's entries that matched (at least one).
    Listed {
        name: Option<&'h (Target, Source, usize)>,
        /// `client.` or `server.`, the address and its entry.
        addr: Option<(&'static str, Endpoint, &'h Prefix)>,
        url: Option<(&'h str, &'h UrlEntry)>,
    },
}

/// Whether condition `ci` of rule `ri` holds, and on what.
fn seen<'h>(c: &'h Cond, ri: u32, ci: u16, ctx: &Ctx<'h, '_>) -> Option<Seen<'h>> {
    let f = ctx.f;
    let hits = ctx.hits;
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
        Cond::Obfuscation(classes) => f
            .obfuscation
            .filter(|(c, _)| classes.contains(c))
            .map(|(c, _)| Seen::Obfuscation(c)),
        Cond::Suspect(wanted) => f
            .obfuscation
            .and_then(|(_, s)| s.iter().find(|x| wanted.contains(x)))
            .map(|s| Seen::Suspect(*s)),
        Cond::Evasion(want) => (f.evasion != 0
            && (want.is_empty() || want.iter().any(|t| f.evasion & t.bit() != 0)))
        .then_some(Seen::Evasion),
        Cond::List(b) => listed(b, ri, ci, ctx),
    }
}

/// The entries of list `b` (condition `ci` of rule `ri`) the flow
/// matches; None if none.
fn listed<'h>(b: &'h Blocklist, ri: u32, ci: u16, ctx: &Ctx<'h, '_>) -> Option<Seen<'h>> {
    let name = if b.names.is_empty() {
        None
    } else {
        ctx.hits
            .iter()
            .find(|(t, _, _)| t.rule == ri && t.cond == ci)
    };
    let addr = if b.ips.is_empty() || !ctx.addresses_listed() {
        None
    } else {
        let side = b.side();
        let ends = [
            (super::Side::Client, "client.", ctx.f.client),
            (super::Side::Server, "server.", ctx.f.server),
        ];
        ends.into_iter()
            .filter(|(s, _, _)| side == super::Side::Either || side == *s)
            .find_map(|(_, label, e)| {
                let e = e?;
                let i = b.ips.lookup_index(e.addr)?;
                b.ips.entries.get(i as usize).map(|p| (label, e, p))
            })
    };
    let url = if b.urls.is_empty() {
        None
    } else {
        ctx.url.and_then(|u| b.urls.lookup(u).map(|e| (u, e)))
    };
    (name.is_some() || addr.is_some() || url.is_some()).then_some(Seen::Listed { name, addr, url })
}

/// (number, date) of a registry record.
fn decision_of(b: &Blocklist, record: u32) -> Option<(String, String)> {
    b.decision(record)
        .map(|d| (d.number.clone(), d.date.clone()))
}

impl Seen<'_> {
    /// In words, for condition `c`: one [`Why`], or for a list one per
    /// kind of entry that matched.
    fn why(&self, c: &Cond, f: &Facts<'_>, out: &mut Vec<Why>) {
        let plain = |condition: String, value: String| Why {
            condition,
            value,
            pattern: None,
            entry: None,
            decision: None,
        };
        out.push(match (self, c) {
            (Seen::Name((t, source, name)), Cond::Name { patterns, .. }) => Why {
                condition: source.as_str().to_string(),
                value: f.names()[*name].1.to_string(),
                pattern: patterns.get(t.pattern as usize).map(|p| p.describe()),
                entry: None,
                decision: None,
            },
            (Seen::Listed { name, addr, url }, Cond::List(b)) => {
                let registry = b.kind == ListKind::Registry;
                if let Some((t, source, n)) = name {
                    let origin = b.name_origin(t.pattern as usize);
                    out.push(Why {
                        condition: source.as_str().to_string(),
                        value: f.names()[*n].1.to_string(),
                        pattern: b.names.get(t.pattern as usize).map(|p| p.describe()),
                        entry: origin.as_ref().map(|o| o.0.clone()),
                        decision: origin
                            .and_then(|o| o.1)
                            .map(|d| (d.number.clone(), d.date.clone())),
                    });
                }
                if let Some((side, e, p)) = addr {
                    out.push(Why {
                        condition: format!("{side}ip"),
                        value: e.addr.to_string(),
                        pattern: Some(p.cidr.to_string()),
                        entry: Some(b.origin(p.source, p.line)),
                        decision: if registry {
                            decision_of(b, p.record)
                        } else {
                            None
                        },
                    });
                }
                if let Some((u, e)) = url {
                    out.push(Why {
                        condition: "http.url".into(),
                        value: (*u).to_string(),
                        pattern: Some(e.describe()),
                        entry: Some(b.origin(e.source, e.line)),
                        decision: if registry {
                            decision_of(b, e.record)
                        } else {
                            None
                        },
                    });
                }
                return;
            }
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
            (Seen::Obfuscation(class), _) => plain("obfuscation".into(), class.as_str().into()),
            (Seen::Suspect(s), _) => plain("obfuscation.suspect".into(), s.as_str().into()),
            (Seen::Evasion, _) => plain(
                "evasion".into(),
                crate::classify::evasion::Technique::ALL
                    .iter()
                    .filter(|t| f.evasion & t.bit() != 0)
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            // `seen` pairs each condition with its own kind.
            _ => plain(c.keyword(), String::new()),
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::LoadOptions;

    /// The rule set of `files` ((name, text); the last is the rule file),
    /// written to a directory of their own and read from there.
    fn load(tag: &str, files: &[(&str, &str)]) -> Arc<RuleSet> {
        let dir = std::env::temp_dir().join(format!("sift-eval-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let rules = dir.join(files.last().expect("a rule file").0);
        let set = RuleSet::load(&[rules], &LoadOptions::default()).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        set
    }

    /// The names of a flow that asked DNS for `name`.
    fn asking(name: &str) -> Names {
        let mut n = Names::default();
        n.add(crate::classify::Fact::Dns(Box::new(
            crate::classify::dns::DnsQuestion {
                id: 1,
                response: false,
                opcode: 0,
                rcode: 0,
                rrname: name.into(),
                rrtype: 1,
                rrclass: 1,
                answers: 0,
                dialect: crate::classify::dns::Dialect::Dns,
            },
        )));
        n
    }

    /// A check is skipped exactly when the flow offers the facts no name,
    /// no request and no listed address, and only when every rule needs
    /// one of them: a skipped check would have matched nothing, and every
    /// other check is made.
    #[test]
    fn checks_are_skipped_only_when_nothing_can_match() {
        use crate::classify::summary::{HelloSummary, QuicSummary};
        use crate::classify::Fact;
        let files = |rules: &'static str| {
            [
                ("a.list", "192.0.2.0/24\n"),
                ("n.list", "listed.example\n"),
                ("u.list", "http://listed.example/path\n"),
                ("t.rules", rules),
            ]
        };
        let evidence_only = load(
            "skip-evidence",
            &files(
                "alert 1 \"addr\" { server.ip list \"a.list\" }\n\
                 alert 2 \"names\" { name list \"n.list\" }\n\
                 alert 3 \"urls\" { http.url list \"u.list\" }\n\
                 alert 4 \"dns\" { dns.query .example }\n\
                 alert 5 \"name and app\" { name .example; app tls }\n",
            ),
        );
        let with_app_rule = load(
            "skip-app",
            &files(
                "alert 1 \"addr\" { server.ip list \"a.list\" }\n\
                 alert 2 \"any tls\" { app tls }\n",
            ),
        );
        assert!(evidence_only.needs_evidence);
        assert!(!with_app_rule.needs_evidence);
        // Names offering each kind of evidence, and none.
        let mut all: Vec<(&str, Option<Names>)> =
            vec![("none", None), ("empty", Some(Names::default()))];
        for (what, fact) in [
            (
                "sni",
                Fact::TlsHello(Box::new(HelloSummary::naming(Some("listed.example")))),
            ),
            (
                "sni-less hello",
                Fact::TlsHello(Box::new(HelloSummary::naming(None))),
            ),
            (
                "quic sni",
                Fact::Quic(Box::new(QuicSummary {
                    version: 1,
                    hello: Some(HelloSummary::naming(Some("a.example"))),
                    gquic_sni: None,
                })),
            ),
            (
                "gquic sni",
                Fact::Quic(Box::new(QuicSummary {
                    version: 0x5130_3433,
                    hello: None,
                    gquic_sni: Some("a.example".into()),
                })),
            ),
            (
                "sni-less quic",
                Fact::Quic(Box::new(QuicSummary {
                    version: 1,
                    hello: Some(HelloSummary::naming(None)),
                    gquic_sni: None,
                })),
            ),
            (
                "hostless request",
                Fact::Http(Box::new(crate::classify::http::HttpRequest {
                    url: "/path".into(),
                    ..Default::default()
                })),
            ),
            (
                "request",
                Fact::Http(Box::new(crate::classify::http::HttpRequest {
                    url: "/path".into(),
                    hostname: Some("listed.example".into()),
                    ..Default::default()
                })),
            ),
        ] {
            let mut n = Names::default();
            n.add(fact);
            all.push((what, Some(n)));
        }
        all.push(("dns", Some(asking("abc"))));
        all.push(("root dns", Some(asking(""))));
        let mut latest = asking("");
        latest.dns_latest = Some(Box::new(
            asking("listed.example").dns.unwrap().as_ref().clone(),
        ));
        all.push(("later dns", Some(latest)));
        let ep = |a: &str, port| Endpoint {
            addr: a.parse().unwrap(),
            port,
        };
        for set in [evidence_only, with_app_rule] {
            let mut m = Matcher::new(Arc::clone(&set));
            for server in ["192.0.2.9", "198.51.100.2"] {
                for (what, names) in &all {
                    for app in [AppProto::Unknown, AppProto::Tls, AppProto::Http] {
                        let ends = [ep("198.51.100.1", 50000), ep(server, 80)];
                        let mut skip_listing = Listing::Unknown;
                        let skipped = m.matches_nothing(names.as_ref(), ends, &mut skip_listing);
                        let facts = Facts::new(6, ends[0], ends[1], app, names.as_ref());
                        let mut listing = Listing::Unknown;
                        let mut out = Vec::new();
                        m.check(&facts, &mut listing, &Verdict::default(), &mut out);
                        let offers = !facts.names().is_empty() || facts.http.is_some();
                        let listed = server == "192.0.2.9";
                        let case = format!("{what}, server {server}, {app:?}");
                        assert_eq!(skipped, set.needs_evidence && !offers && !listed, "{case}");
                        if skipped {
                            assert!(out.is_empty(), "{case}: {out:?}");
                            assert_eq!(skip_listing, Listing::Unlisted, "{case}");
                        }
                        if set.needs_evidence && skip_listing != Listing::Unknown {
                            assert_eq!(skip_listing, listing, "{case}");
                        }
                    }
                }
            }
        }
    }

    /// Rules without a name condition are checked only on flows their
    /// `app` condition allows: the others match as before, in rule order,
    /// with and without name hits beside them.
    #[test]
    fn app_conditions_gate_unindexed_rules() {
        let set = load(
            "appgate",
            &[(
                "t.rules",
                "alert 1 \"vpn on 443\" { app openvpn, wireguard\n server.port 443 }\n\
                 alert 2 \"443\" { server.port 443 }\n\
                 alert 3 \"tls\" { app tls }\n\
                 alert 4 \"name\" { name .example.test }\n",
            )],
        );
        let mut m = Matcher::new(set);
        let ep = |port| Endpoint {
            addr: "192.0.2.1".parse().unwrap(),
            port,
        };
        let sni = asking("a.example.test");
        let cases: [(AppProto, u16, Option<&Names>, &[u32]); 7] = [
            (AppProto::OpenVpn, 443, None, &[1, 2]),
            (AppProto::WireGuard, 443, None, &[1, 2]),
            (AppProto::OpenVpn, 1194, None, &[]),
            (AppProto::Tls, 443, None, &[2, 3]),
            (AppProto::Unknown, 443, None, &[2]),
            (AppProto::Tls, 443, Some(&sni), &[2, 3, 4]),
            (AppProto::Quic, 80, Some(&sni), &[4]),
        ];
        for (app, port, names, want) in cases {
            let facts = Facts::new(17, ep(50000), ep(port), app, names);
            let mut out = Vec::new();
            m.check(&facts, &mut Listing::Unknown, &Verdict::default(), &mut out);
            let mut got: Vec<u32> = out.iter().map(|h| h.id).collect();
            got.sort_unstable();
            assert_eq!(got, want, "{app:?} port {port}");
        }
    }

    /// A flow's addresses are asked once: a rule whose other condition
    /// holds only at a later check still sees them listed, and a flow
    /// found unlisted stays so while its names are still checked.
    #[test]
    fn addresses_are_asked_once_per_flow() {
        let set = load(
            "listing",
            &[
                ("a.list", "192.0.2.0/24\n2001:db8::/32\n"),
                ("n.list", "listed.example\n"),
                (
                    "t.rules",
                    "alert 1 \"listed and tls\" { app tls; server.ip list \"a.list\" }\n\
                     alert 2 \"client listed\" { client.ip list \"a.list\" }\n\
                     alert 3 \"name\" { name list \"n.list\" }\n",
                ),
            ],
        );
        let mut m = Matcher::new(set);
        let ep = |a: &str, port| Endpoint {
            addr: a.parse().unwrap(),
            port,
        };
        let named = asking("listed.example");
        let mut check = |client: &str, server: &str, app, names, listing: &mut Listing| {
            let facts = Facts::new(6, ep(client, 50000), ep(server, 443), app, names);
            let mut out = Vec::new();
            m.check(&facts, listing, &Verdict::default(), &mut out);
            let mut got: Vec<u32> = out.iter().map(|h| h.id).collect();
            got.sort_unstable();
            got
        };
        // Server listed: unknown at first (rule 1 waits for its app), then TLS.
        let mut listing = Listing::Unknown;
        assert!(check(
            "198.51.100.1",
            "192.0.2.9",
            AppProto::Unknown,
            None,
            &mut listing
        )
        .is_empty());
        assert_eq!(listing, Listing::Listed);
        assert_eq!(
            check(
                "198.51.100.1",
                "192.0.2.9",
                AppProto::Tls,
                None,
                &mut listing
            ),
            [1]
        );
        // Client listed (IPv6): the side a rule asks for decides.
        let mut listing = Listing::Unknown;
        assert_eq!(
            check(
                "2001:db8::1",
                "198.51.100.2",
                AppProto::Tls,
                None,
                &mut listing
            ),
            [2]
        );
        assert_eq!(listing, Listing::Listed);
        // Neither listed: found so once, names still checked afterwards.
        let mut listing = Listing::Unknown;
        assert!(check(
            "198.51.100.1",
            "198.51.100.2",
            AppProto::Tls,
            None,
            &mut listing
        )
        .is_empty());
        assert_eq!(listing, Listing::Unlisted);
        let named = Some(&named);
        assert_eq!(
            check(
                "198.51.100.1",
                "198.51.100.2",
                AppProto::Dns,
                named,
                &mut listing
            ),
            [3]
        );
        // The listing is what the flow's addresses are: a wrong one (here
        // carried over from another flow) is believed, so it is never reused.
        assert!(check(
            "198.51.100.1",
            "192.0.2.9",
            AppProto::Tls,
            None,
            &mut listing
        )
        .is_empty());
        assert_eq!(
            check(
                "198.51.100.1",
                "192.0.2.9",
                AppProto::Tls,
                None,
                &mut Listing::Unknown
            ),
            [1]
        );
    }
}
