//! Rules: what users write about flows, and the verdicts sift records.
//!
//! Data flows through this module in the same order as the files read:
//! [`source`] reads rule files (following `include`s and list files) and
//! places every token at file:line:col for errors; [`syntax`] parses sift's
//! own rule language and [`suricata`] the Suricata subset, both into the
//! [`Rule`]s defined here; [`names`] indexes every server-name pattern of a
//! rule set — names and domains in a hash table probed per label suffix
//! ([`suffixes`]), contents and regexes in Hyperscan databases, which
//! [`cache`] keeps on disk keyed by their content; [`eval`] decides which rules a flow matches
//! and why; [`tune`] holds the analyses behind `sift rules check` and
//! `sift rules test`. The language is specified in rules/README.md.
//!
//! Precedence, the same everywhere (verdicts, alerts, reports): the action
//! (`pass` before `drop` before `alert` before `log`), then the priority
//! (1 first), then the id (lowest first). See [`Rule::precedence`].

pub mod blocklist;
pub mod cache;
pub mod eval;
pub mod idn;
pub mod iplist;
pub mod names;
pub mod regcache;
pub mod registry;
pub mod source;
pub mod suffixes;
pub mod suricata;
pub mod syntax;
pub mod tune;
pub mod urls;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::classify::obfuscation::{Class, Suspect};
use crate::classify::AppProto;

pub use source::{Diagnostic, Diagnostics, Span};

/// What sift records when a rule matches. sift never alters traffic: `drop`
/// is a verdict written to the flow record, not an action on packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The flow is allowed: its verdict is `pass` and no alert follows.
    Pass,
    /// The flow's verdict is `drop`, with an alert.
    Drop,
    /// An alert, verdict `alert`.
    Alert,
    /// The verdict is recorded on the flow record; no alert event.
    Log,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Alert => "alert",
            Action::Log => "log",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "pass" => Action::Pass,
            "drop" => Action::Drop,
            "alert" => Action::Alert,
            "log" => Action::Log,
            _ => return None,
        })
    }

    /// Whether a match writes an EVE alert event.
    pub fn alerts(self) -> bool {
        matches!(self, Action::Drop | Action::Alert)
    }
}

/// Priority of a rule that does not give one (Suricata's default).
pub const DEFAULT_PRIORITY: u8 = 3;

/// Where a server name was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    TlsSni,
    QuicSni,
    HttpHost,
    DnsQuery,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::TlsSni,
        Source::QuicSni,
        Source::HttpHost,
        Source::DnsQuery,
    ];

    /// The name rules use for it (Suricata's sticky buffer names).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::TlsSni => "tls.sni",
            Source::QuicSni => "quic.sni",
            Source::HttpHost => "http.host",
            Source::DnsQuery => "dns.query",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`Source`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sources(u8);

impl Sources {
    pub const ANY: Sources = Sources(0b1111);
    pub const NONE: Sources = Sources(0);

    /// `self` and `s`.
    pub fn with(self, s: Source) -> Sources {
        Sources(self.0 | s.bit())
    }

    pub fn one(s: Source) -> Sources {
        Sources(s.bit())
    }

    pub fn contains(self, s: Source) -> bool {
        self.0 & s.bit() != 0
    }

    /// Every source of `self` is in `other`.
    pub fn within(self, other: Sources) -> bool {
        self.0 & !other.0 == 0
    }

    /// How a rule names this set: `name` for all of them.
    pub fn describe(self) -> String {
        if self == Sources::ANY {
            return "name".into();
        }
        let v: Vec<&str> = Source::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Source::as_str)
            .collect();
        v.join("|")
    }
}

/// One server-name pattern. Names are compared lowercase, without a
/// trailing dot; patterns are stored the same way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NamePattern {
    /// The name itself: `example.com`.
    Exact(String),
    /// A domain and every name under it: `.example.com` matches
    /// `example.com` and `a.example.com`, never `badexample.com`.
    Domain(String),
    /// Only names under a domain: `*.example.com` matches `a.example.com`,
    /// not `example.com`.
    Subdomains(String),
    /// A byte string the name contains, optionally anchored at its start
    /// and/or end (what a Suricata `content` with `startswith`/`endswith`
    /// is).
    Contains {
        text: String,
        start: bool,
        end: bool,
    },
    /// A Hyperscan regular expression, matched case-insensitively with `^`
    /// and `$` at the name's ends.
    Regex(String),
}

impl NamePattern {
    /// The pattern as a rule would write it.
    pub fn describe(&self) -> String {
        match self {
            NamePattern::Exact(s) => s.clone(),
            NamePattern::Domain(s) => format!(".{s}"),
            NamePattern::Subdomains(s) => format!("*.{s}"),
            NamePattern::Contains { text, start, end } => format!(
                "content \"{text}\"{}{}",
                if *start { " startswith" } else { "" },
                if *end { " endswith" } else { "" }
            ),
            NamePattern::Regex(r) => format!("/{r}/"),
        }
    }

    /// Whether `name` (normalized) matches, without Hyperscan: used by the
    /// analyses of [`tune`] and to cross-check the compiled databases in
    /// tests. Regexes are not evaluated here (None).
    pub fn matches_plain(&self, name: &str) -> Option<bool> {
        Some(match self {
            NamePattern::Exact(s) => name == s,
            NamePattern::Domain(s) => name == s || is_under(name, s),
            NamePattern::Subdomains(s) => is_under(name, s),
            NamePattern::Contains { text, start, end } => match (start, end) {
                (true, true) => name == text,
                (true, false) => name.starts_with(text.as_str()),
                (false, true) => name.ends_with(text.as_str()),
                (false, false) => name.contains(text.as_str()),
            },
            NamePattern::Regex(_) => return None,
        })
    }
}

/// `name` lies under `domain` on a label boundary (`a.example.com` under
/// `example.com`; `badexample.com` not).
pub fn is_under(name: &str, domain: &str) -> bool {
    name.len() > domain.len()
        && name.ends_with(domain)
        && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
}

/// Normalizes a name as the classifiers report it: lowercase, no trailing
/// dot.
pub fn normalize_name(name: &str) -> String {
    let t = name.strip_suffix('.').unwrap_or(name);
    t.to_ascii_lowercase()
}

/// Which end of a flow an address or port condition looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
    Either,
}

impl Side {
    pub fn prefix(self) -> &'static str {
        match self {
            Side::Client => "client.",
            Side::Server => "server.",
            Side::Either => "",
        }
    }
}

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    /// Every address of `self` is in `other`.
    pub fn within(&self, other: &Cidr) -> bool {
        self.len >= other.len && other.contains(self.addr)
    }

    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `v6/n`; the
    /// address is masked to its prefix. Err: what is wrong.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("`{a}` is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix length `{l}` is not 0 to {max}")),
            },
        };
        let masked = match addr {
            IpAddr::V4(v) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4((u32::from(v) & mask).into())
            }
            IpAddr::V6(v) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6((u128::from(v) & mask).into())
            }
        };
        Ok(Cidr { addr: masked, len })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.len == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// Whether a ClientHello carried Encrypted Client Hello.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EchWant {
    /// The extension is there (real or GREASE).
    Present,
    /// No extension.
    Absent,
    /// There, and not shaped like GREASE (a heuristic, see classify::tls).
    Real,
    /// There, with the shape of GREASE ECH.
    Grease,
}

impl EchWant {
    pub fn as_str(self) -> &'static str {
        match self {
            EchWant::Present => "present",
            EchWant::Absent => "absent",
            EchWant::Real => "real",
            EchWant::Grease => "grease",
        }
    }
}

/// One condition of a rule; a rule matches when all of its conditions do.
/// A condition with several values matches when any value does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// A server name from one of `sources` matches one of `patterns`.
    Name {
        sources: Sources,
        patterns: Vec<NamePattern>,
        /// The list file the patterns came from, if any.
        list: Option<PathBuf>,
    },
    /// The name from `sources` is `min..=max` bytes long (Suricata `bsize`).
    NameLength {
        sources: Sources,
        min: usize,
        max: usize,
    },
    App(Vec<AppProto>),
    /// IP protocol numbers.
    Transport(Vec<u8>),
    Ip {
        side: Side,
        nets: Vec<Cidr>,
    },
    /// Inclusive port ranges.
    Port {
        side: Side,
        ranges: Vec<(u16, u16)>,
    },
    /// JA3 hashes (lowercase hex).
    Ja3(Vec<String>),
    /// JA4 fingerprints.
    Ja4(Vec<String>),
    Ech(EchWant),
    /// An obfuscation finding of one of these classes.
    Obfuscation(Vec<Class>),
    /// An obfuscation finding naming one of these suspects.
    Suspect(Vec<Suspect>),
    /// The flow's `evasion` record names one of these techniques (empty:
    /// any).
    Evasion(Vec<crate::classify::evasion::Technique>),
    /// An address list, URLs, or a registry dump (addresses, names and
    /// URLs: any of them).
    List(Arc<blocklist::Blocklist>),
}

impl Cond {
    /// The name patterns compiled for this condition (a name condition's,
    /// a registry's).
    pub fn name_patterns(&self) -> &[NamePattern] {
        match self {
            Cond::Name { patterns, .. } => patterns,
            Cond::List(b) => &b.names,
            _ => &[],
        }
    }

    /// The sources whose names this condition's patterns match.
    pub fn name_sources(&self) -> Sources {
        match self {
            Cond::Name { sources, .. } => *sources,
            Cond::List(_) => Sources::ANY,
            _ => Sources::NONE,
        }
    }

    /// The condition's keyword, as `--explain` and the reports name it.
    pub fn keyword(&self) -> String {
        match self {
            Cond::Name { sources, .. } => sources.describe(),
            Cond::NameLength { sources, .. } => format!("{} length", sources.describe()),
            Cond::App(_) => "app".into(),
            Cond::Transport(_) => "transport".into(),
            Cond::Ip { side, .. } => format!("{}ip", side.prefix()),
            Cond::Port { side, .. } => format!("{}port", side.prefix()),
            Cond::Ja3(_) => "ja3".into(),
            Cond::Ja4(_) => "ja4".into(),
            Cond::Ech(_) => "ech".into(),
            Cond::Obfuscation(_) => "obfuscation".into(),
            Cond::Suspect(_) => "obfuscation.suspect".into(),
            Cond::Evasion(_) => "evasion".into(),
            Cond::List(b) => match b.kind {
                blocklist::ListKind::Addresses(side) => format!("{}ip list", side.prefix()),
                blocklist::ListKind::Urls => "http.url".into(),
                blocklist::ListKind::Registry => "list registry".into(),
            },
        }
    }

    /// Whether every flow matching `self` matches `other` too (used to
    /// find shadowed rules). Conservative: false when unsure.
    pub fn implies(&self, other: &Cond) -> bool {
        use Cond::*;
        match (self, other) {
            (
                Name {
                    sources: s1,
                    patterns: p1,
                    ..
                },
                Name {
                    sources: s2,
                    patterns: p2,
                    ..
                },
            ) => s1.within(*s2) && names::covered(p1, p2),
            (App(a), App(b)) => a.iter().all(|x| b.contains(x)),
            (Transport(a), Transport(b)) => a.iter().all(|x| b.contains(x)),
            (Ip { side: s1, nets: a }, Ip { side: s2, nets: b }) => {
                side_within(*s1, *s2) && a.iter().all(|x| b.iter().any(|y| x.within(y)))
            }
            (
                Port {
                    side: s1,
                    ranges: a,
                },
                Port {
                    side: s2,
                    ranges: b,
                },
            ) => {
                side_within(*s1, *s2)
                    && a.iter()
                        .all(|(lo, hi)| b.iter().any(|(l2, h2)| l2 <= lo && hi <= h2))
            }
            (Ja3(a), Ja3(b)) | (Ja4(a), Ja4(b)) => a.iter().all(|x| b.contains(x)),
            (Obfuscation(a), Obfuscation(b)) => a.iter().all(|x| b.contains(x)),
            (Suspect(a), Suspect(b)) => a.iter().all(|x| b.contains(x)),
            (Evasion(a), Evasion(b)) => {
                b.is_empty() || !a.is_empty() && a.iter().all(|x| b.contains(x))
            }
            (Ech(a), Ech(b)) => {
                a == b || *b == EchWant::Present && matches!(a, EchWant::Real | EchWant::Grease)
            }
            (
                NameLength {
                    sources: s1,
                    min: a1,
                    max: b1,
                },
                NameLength {
                    sources: s2,
                    min: a2,
                    max: b2,
                },
            ) => s1 == s2 && a2 <= a1 && b1 <= b2,
            (List(a), List(b)) => a == b,
            _ => false,
        }
    }
}

/// A condition on side `a` holds only where the same condition on side
/// `b` holds.
fn side_within(a: Side, b: Side) -> bool {
    a == b || b == Side::Either
}

/// The syntax a rule was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sift,
    Suricata,
}

/// One rule, as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The rule's id (Suricata's `sid`).
    pub id: u32,
    pub rev: u32,
    pub action: Action,
    pub msg: String,
    /// 1 (first) to 255.
    pub priority: u8,
    /// EVE `alert.category` (Suricata's classtype); may be empty.
    pub category: String,
    pub conds: Vec<Cond>,
    /// Where the rule starts.
    pub span: Span,
    pub dialect: Dialect,
}

impl Rule {
    /// Sort key: lower goes first (see the module documentation).
    pub fn precedence(&self) -> (Action, u8, u32) {
        (self.action, self.priority, self.id)
    }

    /// Whether every flow this rule matches is matched by `other` too.
    pub fn implied_by(&self, other: &Rule) -> bool {
        other
            .conds
            .iter()
            .all(|oc| self.conds.iter().any(|c| c.implies(oc)))
    }
}

/// How rule files are loaded.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Where compiled databases are kept; None: no cache.
    pub cache_dir: Option<PathBuf>,
    /// The process runs as root: rule files, lists and the cache directory
    /// that someone else could change are refused.
    pub privileged: bool,
}

impl LoadOptions {
    /// The default cache directory: `$SIFT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/sift`, else `~/.cache/sift`.
    pub fn with_default_cache() -> Self {
        let dir = std::env::var_os("SIFT_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| Path::new(&d).join("sift")))
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/sift")));
        LoadOptions {
            cache_dir: dir,
            privileged: false,
        }
    }
}

/// A rule without a name condition: checked on every flow whose
/// application protocol is among `apps` ([`app_bit`]s; all of them when the
/// rule has no `app` condition).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unindexed {
    pub rule: u32,
    pub apps: u64,
}

/// An application protocol's bit in [`Unindexed::apps`]. Two protocols may
/// share one (past 64): the test is then looser, never wrong, since the
/// rule's conditions are all checked afterwards.
pub(crate) fn app_bit(app: AppProto) -> u64 {
    1 << (app as u32 % 64)
}

/// A compiled rule set, shared by all workers (each has its own
/// [`eval::Matcher`] with Hyperscan scratch space).
pub struct RuleSet {
    /// The rules, in the order read.
    pub rules: Vec<Rule>,
    /// The files read (rule files, includes, lists), for messages.
    pub files: source::Files,
    pub(crate) names: names::NameIndex,
    /// Rules without a name condition, which every flow is checked against
    /// unless an `app` condition of theirs rules it out first.
    pub(crate) unindexed: Vec<Unindexed>,
    /// Warnings found while loading (the set is usable).
    pub warnings: Vec<Diagnostic>,
    /// How the name databases were obtained.
    pub build: names::BuildInfo,
    /// Whether a rule looks at HTTP request URLs.
    pub(crate) has_urls: bool,
    /// The (rule, condition) of every list with URLs.
    pub(crate) url_conds: Vec<(u32, u16)>,
    /// The lists with addresses, each once (rules may share a list).
    pub(crate) address_lists: Vec<Arc<blocklist::Blocklist>>,
    /// Every rule has a name, name-length or list condition: none holds
    /// for a flow without a name, a request or a listed address, whose
    /// checks are then spared ([`eval::Matcher::matches_nothing`]).
    pub(crate) needs_evidence: bool,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .field("build", &self.build)
            .finish()
    }
}

impl RuleSet {
    /// Some rule looks at a client hello's JA3 or JA4 fingerprint.
    pub fn reads_fingerprints(&self) -> bool {
        self.rules.iter().any(|r| {
            r.conds
                .iter()
                .any(|c| matches!(c, Cond::Ja3(_) | Cond::Ja4(_)))
        })
    }

    /// Some rule reads what a flow's later transactions bring: a DNS
    /// query or HTTP Host name, a URL (a URL list, a registry). If none
    /// does, the DNS messages and HTTP requests after a flow's first need
    /// not be read for the rules (the first ones are read with the flow's
    /// classification either way).
    pub fn reads_transactions(&self) -> bool {
        self.rules.iter().flat_map(|r| &r.conds).any(|c| match c {
            Cond::Name { sources, .. } | Cond::NameLength { sources, .. } => {
                sources.contains(Source::DnsQuery) || sources.contains(Source::HttpHost)
            }
            Cond::List(b) => matches!(
                b.kind,
                blocklist::ListKind::Urls | blocklist::ListKind::Registry
            ),
            _ => false,
        })
    }

    /// Reads, checks and compiles the rule files at `paths` (each may be
    /// in sift's language or the Suricata subset). A set with any error is
    /// refused whole: every error found is returned.
    pub fn load(paths: &[PathBuf], opts: &LoadOptions) -> Result<Arc<RuleSet>, Diagnostics> {
        let parsed = source::read_all_cached(paths, opts.cache_dir.as_deref(), opts.privileged)?;
        let (index, build) = names::NameIndex::build(&parsed.rules, &parsed.files, opts)?;
        let unindexed = parsed
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.conds.iter().any(|c| matches!(c, Cond::Name { .. })))
            .map(|(i, r)| Unindexed {
                rule: i as u32,
                apps: r
                    .conds
                    .iter()
                    .find_map(|c| match c {
                        Cond::App(apps) => Some(apps.iter().fold(0, |m, &a| m | app_bit(a))),
                        _ => None,
                    })
                    .unwrap_or(u64::MAX),
            })
            .collect();
        let url_conds: Vec<(u32, u16)> = parsed
            .rules
            .iter()
            .enumerate()
            .flat_map(|(ri, r)| {
                r.conds.iter().enumerate().filter_map(move |(ci, c)| {
                    matches!(c, Cond::List(b) if !b.urls.is_empty())
                        .then_some((ri as u32, ci as u16))
                })
            })
            .collect();
        let mut address_lists: Vec<Arc<blocklist::Blocklist>> = Vec::new();
        for c in parsed.rules.iter().flat_map(|r| &r.conds) {
            if let Cond::List(b) = c {
                if !b.ips.is_empty() && !address_lists.iter().any(|x| Arc::ptr_eq(x, b)) {
                    address_lists.push(Arc::clone(b));
                }
            }
        }
        let needs_evidence = parsed.rules.iter().all(|r| {
            r.conds.iter().any(|c| {
                matches!(
                    c,
                    Cond::Name { .. } | Cond::NameLength { .. } | Cond::List(_)
                )
            })
        });
        Ok(Arc::new(RuleSet {
            needs_evidence,
            has_urls: !url_conds.is_empty(),
            url_conds,
            address_lists,
            rules: parsed.rules,
            files: parsed.files,
            names: index,
            unindexed,
            warnings: parsed.warnings,
            build,
        }))
    }

    /// The URL lists of the rules' list conditions.
    pub(crate) fn url_lists(&self) -> impl Iterator<Item = &urls::UrlList> {
        self.url_conds.iter().filter_map(|&(r, c)| {
            match self.rules.get(r as usize)?.conds.get(usize::from(c))? {
                Cond::List(b) => Some(&b.urls),
                _ => None,
            }
        })
    }

    /// Patterns compiled into the name databases.
    pub fn pattern_count(&self) -> usize {
        self.names.len()
    }

    /// `file:line:col` of a span.
    pub fn locate(&self, span: Span) -> String {
        self.files.locate(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_boundaries() {
        assert!(is_under("a.example.com", "example.com"));
        assert!(is_under("x.y.example.com", "example.com"));
        assert!(!is_under("badexample.com", "example.com"));
        assert!(!is_under("example.com", "example.com"));
        assert!(!is_under("com", "example.com"));
        let d = NamePattern::Domain("example.com".into());
        assert_eq!(d.matches_plain("example.com"), Some(true));
        assert_eq!(d.matches_plain("www.example.com"), Some(true));
        assert_eq!(d.matches_plain("badexample.com"), Some(false));
        let s = NamePattern::Subdomains("example.com".into());
        assert_eq!(s.matches_plain("example.com"), Some(false));
        assert_eq!(s.matches_plain("a.example.com"), Some(true));
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains("10.200.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let z = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(z.contains("1.2.3.4".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.1").unwrap().within(&c));
        assert_eq!(
            Cidr::parse("10.0.0.0/33").unwrap_err(),
            "prefix length `33` is not 0 to 32"
        );
        assert!(Cidr::parse("10.0.0").is_err());
    }

    #[test]
    fn precedence_order() {
        assert!(Action::Pass < Action::Drop);
        assert!(Action::Drop < Action::Alert);
        assert!(Action::Alert < Action::Log);
    }
}
