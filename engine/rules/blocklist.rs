//! Block lists as rule conditions: address lists (`ip list "file"`), URL
//! conditions and lists (`http.url`), and registry dumps (`list registry
//! "file"`), which hold addresses, names and URLs at once.
//!
//! A [`Blocklist`] is what one such condition holds, read and compiled
//! while the rule files are read: an [`IpTable`] (longest prefix), a
//! [`UrlList`], the names of a registry (in the rule set's name table with
//! every other name pattern, see [`super::suffixes`]), and for a registry
//! the record and decision of every entry, so that a hit names the file,
//! line and decision that listed it.
//!
//! Address tables are kept on disk in the rule cache, keyed by a SHA-256
//! of the list files' bytes: a cached address list is not parsed again. A
//! registry is kept there whole, parsed (see [`regcache`]): a cached one
//! is only hashed, not read into memory nor parsed.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::iplist::{self, IpTable, Prefix};
use super::regcache;
use super::registry::{self, Decision};
use super::source::{Loader, Span};
use super::urls::{self, UrlEntry, UrlList};
use super::{NamePattern, Side};

/// What a list condition holds and where it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// `ip list`, `client.ip list`, `server.ip list`.
    Addresses(Side),
    /// `http.url`.
    Urls,
    /// `list registry`: addresses (either end), names (any source), URLs.
    Registry,
}

/// One list condition's contents.
pub struct Blocklist {
    pub kind: ListKind,
    /// The files read, in order (an entry's `source` indexes here).
    pub sources: Vec<PathBuf>,
    pub ips: IpTable,
    pub urls: UrlList,
    /// A registry's names, and the record of each.
    pub names: Vec<NamePattern>,
    name_records: Vec<u32>,
    /// Record → (line, decision).
    records: Vec<(u32, u32)>,
    decisions: Vec<Decision>,
    /// Malformed registry lines (each reported as a warning).
    pub malformed_lines: u64,
    /// Whether the address table came from the cache.
    pub ips_from_cache: bool,
    /// For a registry: how it was obtained.
    pub registry_cache: regcache::State,
    /// A digest of the contents: two conditions with the same key hold
    /// the same entries.
    key: String,
}

impl PartialEq for Blocklist {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind && self.key == o.key
    }
}

impl Eq for Blocklist {}

impl std::hash::Hash for Blocklist {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.kind.hash(h);
        self.key.hash(h);
    }
}

impl fmt::Debug for Blocklist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocklist")
            .field("kind", &self.kind)
            .field("sources", &self.sources)
            .field("addresses", &self.ips.len())
            .field("names", &self.names.len())
            .field("urls", &self.urls.len())
            .finish()
    }
}

impl Blocklist {
    fn empty(kind: ListKind) -> Blocklist {
        Blocklist {
            kind,
            sources: Vec::new(),
            ips: IpTable::default(),
            urls: UrlList::default(),
            names: Vec::new(),
            name_records: Vec::new(),
            records: Vec::new(),
            decisions: Vec::new(),
            malformed_lines: 0,
            ips_from_cache: false,
            registry_cache: regcache::State::Off,
            key: String::new(),
        }
    }

    /// `file:line` of an entry.
    pub fn origin(&self, source: u16, line: u32) -> String {
        let path = self
            .sources
            .get(usize::from(source))
            .map_or("?".into(), |p| p.display().to_string());
        format!("{path}:{line}")
    }

    /// The decision of a registry record.
    pub fn decision(&self, record: u32) -> Option<&Decision> {
        let (_, d) = self.records.get(record as usize)?;
        self.decisions.get(*d as usize)
    }

    /// `file:line` and decision of registry name `i`.
    pub fn name_origin(&self, i: usize) -> Option<(String, Option<&Decision>)> {
        let rec = *self.name_records.get(i)?;
        let (line, _) = self.records.get(rec as usize)?;
        Some((self.origin(0, *line), self.decision(rec)))
    }

    /// Which end's address the list is checked against.
    pub fn side(&self) -> Side {
        match self.kind {
            ListKind::Addresses(s) => s,
            _ => Side::Either,
        }
    }

    /// Entries of every kind.
    pub fn len(&self) -> usize {
        self.ips.len() + self.urls.len() + self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file named in a rule: its quoted name and where.
pub struct Named<'a> {
    pub name: &'a str,
    pub span: Span,
    pub len: usize,
}

fn digest(tag: &str, texts: &[Arc<str>]) -> String {
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update([0]);
    for t in texts {
        h.update((t.len() as u64).to_le_bytes());
        h.update(t.as_bytes());
    }
    crate::hex::string(&h.finalize())
}

/// The address table with content key `key`: from the cache, else built
/// by `make` and stored. Returns the table and whether it was cached.
fn cached_table(
    l: &mut Loader,
    key: &str,
    at: &Named<'_>,
    make: impl FnOnce(&mut Loader) -> Option<Vec<Prefix>>,
) -> Option<(IpTable, bool)> {
    let path = l.cache_dir().map(|d| iplist::cache_path(d, key));
    if let Some(t) = path.as_deref().and_then(iplist::load) {
        return Some((t, true));
    }
    let t = IpTable::build(make(l)?);
    if let Some(p) = &path {
        if let Err(why) = iplist::save(p, &t) {
            l.warn(at.span, at.len, why, None);
        }
    }
    Some((t, false))
}

/// `ip list "a" list "b"`: address lists, one address or block per line.
/// None if a file cannot be read or has errors (reported).
pub fn address_lists(
    l: &mut Loader,
    file: u32,
    side: Side,
    lists: &[Named<'_>],
) -> Option<Blocklist> {
    let mut b = Blocklist::empty(ListKind::Addresses(side));
    let mut read = Vec::new();
    for n in lists {
        let (id, path, text) = l.read_source(file, n.name, n.span, n.len)?;
        b.sources.push(path);
        read.push((id, text));
    }
    let texts: Vec<Arc<str>> = read.iter().map(|(_, t)| t.clone()).collect();
    b.key = digest("sift-iplist-1", &texts);
    let first = lists.first()?;
    let key = b.key.clone();
    let (table, cached) = cached_table(l, &key, first, |l| {
        let before = l.error_count();
        let mut out = Vec::new();
        for (source, (id, text)) in read.iter().enumerate() {
            for (i, raw) in text.lines().enumerate() {
                match iplist::parse_line(raw) {
                    Ok(None) => {}
                    Ok(Some((cidr, _))) => out.push(Prefix {
                        cidr,
                        source: source as u16,
                        line: i as u32 + 1,
                        record: u32::MAX,
                    }),
                    Err(why) => {
                        let word = raw.split_whitespace().next().unwrap_or(raw);
                        let at = Span {
                            file: *id,
                            line: i as u32 + 1,
                            col: super::source::column_of(raw, word),
                        };
                        l.error(
                            at,
                            word.chars().count(),
                            why,
                            Some("one address or block per line: 192.0.2.0/24, 2001:db8::/32, 198.51.100.7".into()),
                        );
                        if l.error_count() - before >= 20 {
                            return None;
                        }
                    }
                }
            }
        }
        (l.error_count() == before).then_some(out)
    })?;
    if table.is_empty() {
        l.warn(
            first.span,
            first.len,
            "the address list holds no addresses".into(),
            None,
        );
    }
    b.ips = table;
    b.ips_from_cache = cached;
    Some(b)
}

/// One value of an `http.url` condition.
pub enum UrlValue<'a> {
    /// A URL written in the rule (a trailing `*` makes a prefix).
    Inline(&'a str, Span, usize),
    /// `list "file"`: one URL per line, `#` comment lines.
    List(Named<'a>),
}

/// `http.url URL... list "file"...`. None on errors (reported).
pub fn url_condition(l: &mut Loader, file: u32, values: &[UrlValue<'_>]) -> Option<Blocklist> {
    let mut b = Blocklist::empty(ListKind::Urls);
    let mut entries = Vec::new();
    let mut texts: Vec<Arc<str>> = Vec::new();
    let before = l.error_count();
    // Source 0 is the rule file (inline URLs), lists follow.
    b.sources.push(l.path_of(file));
    let mut inline = String::new();
    for v in values {
        match v {
            UrlValue::Inline(s, span, len) => match urls::parse_pattern(s) {
                Ok((url, prefix)) => {
                    inline.push_str(s);
                    inline.push('\n');
                    entries.push(UrlEntry {
                        url,
                        prefix,
                        source: 0,
                        line: span.line,
                        record: u32::MAX,
                    });
                }
                Err(why) => l.error(
                    *span,
                    *len,
                    why,
                    Some(
                        "http.url http://example.com/page, or a prefix http://example.com/dir/*"
                            .into(),
                    ),
                ),
            },
            UrlValue::List(n) => {
                let (id, path, text) = l.read_source(file, n.name, n.span, n.len)?;
                let source = b.sources.len() as u16;
                b.sources.push(path);
                for (i, raw) in text.lines().enumerate() {
                    let t = raw.trim();
                    if t.is_empty() || t.starts_with('#') {
                        continue;
                    }
                    match urls::parse_pattern(t) {
                        Ok((url, prefix)) => entries.push(UrlEntry {
                            url,
                            prefix,
                            source,
                            line: i as u32 + 1,
                            record: u32::MAX,
                        }),
                        Err(why) => {
                            let at = Span {
                                file: id,
                                line: i as u32 + 1,
                                col: super::source::column_of(raw, t),
                            };
                            l.error(
                                at,
                                t.chars().count(),
                                why,
                                Some("one URL per line; a trailing `*` makes a prefix".into()),
                            );
                            if l.error_count() - before >= 20 {
                                return None;
                            }
                        }
                    }
                }
                texts.push(text);
            }
        }
    }
    if l.error_count() > before {
        return None;
    }
    texts.push(Arc::from(inline));
    b.key = digest("sift-urls-1", &texts);
    b.urls = UrlList::build(entries);
    Some(b)
}

/// The tag of a registry's content key (see [`regcache::file_key`]).
const REGISTRY_TAG: &str = "sift-registry-1";

/// `list registry "file"`: a registry dump (see [`registry`]). Malformed
/// lines are warnings, each at its file:line:col, then counted; the rest
/// loads. With a rule cache, the parsed dump is kept there (see
/// [`regcache`]): a dump whose bytes match its entry is not parsed again,
/// and reports the same warnings, entries and decisions. None if the file
/// cannot be read.
pub fn registry_dump(l: &mut Loader, file: u32, n: &Named<'_>) -> Option<Blocklist> {
    let path = l.resolve(file, n.name);
    let cache = l.cache_dir().map(|d| regcache::path_for(d, &path));
    let mut state = regcache::State::Off;
    let mut got = None;
    if let Some(entry) = &cache {
        if let Err(why) = l.check_trusted(&path) {
            l.error(n.span, n.len, why, None);
            return None;
        }
        state = regcache::State::Built;
        // The dump is only hashed here, in pieces: on a hit it is never
        // held in memory nor parsed.
        if let Some(key) = regcache::file_key(REGISTRY_TAG, &path) {
            match regcache::load(entry, &key, &path) {
                regcache::Lookup::Hit(c) => got = Some((key, *c)),
                regcache::Lookup::Missing => {}
                regcache::Lookup::Stale => state = regcache::State::Stale,
                regcache::Lookup::Outdated => state = regcache::State::Outdated,
                regcache::Lookup::Damaged(_) => state = regcache::State::Damaged,
            }
        }
    }
    let (id, key, contents) = match got {
        Some((key, c)) => {
            state = regcache::State::Loaded;
            (l.register_path(&path), key, c)
        }
        None => {
            let (id, _, text) = l.read_source(file, n.name, n.span, n.len)?;
            let key = digest(REGISTRY_TAG, std::slice::from_ref(&text));
            let c: regcache::Contents = registry::parse(&text, 0).into();
            if let Some(entry) = &cache {
                if let Err(why) = regcache::store(entry, &key, &path, &c) {
                    l.warn(n.span, n.len, why, None);
                }
            }
            (id, key, c)
        }
    };
    if matches!(
        state,
        regcache::State::Stale | regcache::State::Outdated | regcache::State::Damaged
    ) {
        l.warn(
            n.span,
            n.len,
            format!(
                "{}: {}; its cache entry was replaced",
                path.display(),
                state.describe()
            ),
            None,
        );
    }
    let mut b = Blocklist::empty(ListKind::Registry);
    b.sources.push(path.clone());
    b.key = key;
    for p in &contents.problems {
        let at = Span {
            file: id,
            line: p.line,
            col: p.col,
        };
        l.warn_on_line(
            at,
            p.len,
            format!("malformed registry line: {}", p.message),
            &p.text,
        );
    }
    let malformed = contents.malformed_lines;
    if malformed > 0 {
        let shown = contents.problems.len();
        let more = if malformed as usize > shown {
            format!(" (the first {shown} problems are listed)")
        } else {
            String::new()
        };
        l.warn(
            n.span,
            n.len,
            format!(
                "{}: {malformed} malformed line{}{more}; the valid records and items were loaded",
                path.display(),
                if malformed == 1 { "" } else { "s" }
            ),
            None,
        );
    }
    let regcache::Contents {
        table,
        names,
        urls,
        records,
        decisions,
        ..
    } = contents;
    b.ips = table;
    b.ips_from_cache = state == regcache::State::Loaded;
    b.registry_cache = state;
    b.urls = UrlList::build(urls);
    let (names, recs): (Vec<NamePattern>, Vec<u32>) = names.into_iter().unzip();
    b.names = names;
    b.name_records = recs;
    b.records = records;
    b.decisions = decisions;
    b.malformed_lines = malformed;
    b.records.shrink_to_fit();
    Some(b)
}
