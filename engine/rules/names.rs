//! Server-name patterns: a suffix hash table and Hyperscan databases.
//!
//! Exact, domain and subdomain patterns — nearly all of a rule set's
//! names, every name of a list or a registry — go into one hash table
//! probed per label suffix ([`suffixes`]). Content patterns
//! go into literal databases (Hyperscan's literal API). Names are scanned
//! framed by newlines, `\nname\n`, which no name contains, so anchoring is
//! part of the literal: `example.com` exact is `\nexample.com\n`; names
//! under `example.com` are `.example.com\n` — it can only match where a
//! label starts, so `badexample.com` never matches. A domain pattern is
//! both. Hyperscan reports every literal that occurs, whatever the order
//! of the patterns, so the result does not depend on it. Regexes go into
//! one regex database scanned over the bare name (`^` and `$` are its
//! ends). Both are matched caseless.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyperscan::prelude::*;
use hyperscan::{BlockMode, HsError, Literal, LiteralFlags, Literals};
use sha2::{Digest, Sha256};

use super::source::{self, Diagnostic, Diagnostics, Files, Span};
use super::suffixes::{self, SuffixTable};
use super::{cache, is_under, LoadOptions, NamePattern, Rule};

/// Which rule condition a compiled pattern belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub rule: u32,
    pub cond: u16,
    /// Index into the condition's patterns.
    pub pattern: u32,
}

/// How the databases were obtained, for `rules check` and the logs.
#[derive(Clone, Debug, Default)]
pub struct BuildInfo {
    /// Patterns in the suffix table, and its distinct names.
    pub table_patterns: usize,
    pub table_names: usize,
    /// Bytes of the suffix table.
    pub table_bytes: usize,
    pub literals: usize,
    pub regexes: usize,
    pub from_cache: bool,
    /// Time to compile (or to load from the cache).
    pub time: Duration,
    /// Bytes of the databases.
    pub bytes: usize,
    /// The cache file used, and why it could not be, if so.
    pub cache: Option<std::path::PathBuf>,
    pub cache_warning: Option<String>,
}

/// Literals per database. A large name set is compiled as several
/// databases at once (one per core, by rayon): Hyperscan compiles one
/// database on one thread, and its compile time grows faster than the
/// number of literals. A name is then scanned against each; the split
/// depends only on the number of literals, so a cached entry is the same
/// on every machine.
pub const LITERALS_PER_DATABASE: usize = 200_000;

/// The compiled name patterns of a rule set.
#[derive(Default)]
pub struct NameIndex {
    /// Exact, domain and subdomain patterns.
    table: SuffixTable,
    /// Literal databases, each for a consecutive run of `lit_targets`
    /// (pattern ids are indices into the whole list).
    literal: Vec<BlockDatabase>,
    regex: Option<BlockDatabase>,
    lit_targets: Vec<Target>,
    re_targets: Vec<Target>,
    /// Scratch space made when the set was loaded, for the first worker
    /// (sizing it walks every database: for a registry's million names,
    /// about 15 ms and tens of megabytes written — a loading cost, not one
    /// of the first packets).
    spare: Mutex<Option<Scratch>>,
}

/// A worker's Hyperscan scratch space for a [`NameIndex`], and its memo
/// of recent names.
pub struct NameScratch {
    scratch: Option<Scratch>,
    framed: Vec<u8>,
    memo: NameMemo,
    /// The suffix table's scratch space.
    suffixes: Vec<(u64, usize)>,
}

/// Slots of [`NameMemo`] (a power of two).
const NAME_MEMO_SLOTS: usize = 1024;
/// Longest name the memo keeps.
const NAME_MEMO_LEN: usize = 128;
/// Most patterns a name the memo keeps matched.
const NAME_MEMO_TARGETS: usize = 64;

/// The patterns recent names matched (the suffix table's and Hyperscan's),
/// direct-mapped by name: a flow's names are scanned again each time its
/// classification changes, and flows share names (a popular server, a
/// resolver's answers), so most scans are answered here instead of by a
/// hash of every suffix and a Hyperscan call, which cost more than a short
/// name's comparison. Bounded: `NAME_MEMO_SLOTS` names of at most
/// `NAME_MEMO_LEN` bytes and `NAME_MEMO_TARGETS` patterns (under 1 MB);
/// any other name is always scanned.
struct NameMemo {
    slots: Vec<Option<MemoEntry>>,
}

/// A name and the patterns it matched.
type MemoEntry = (Box<str>, Box<[Target]>);

impl NameMemo {
    fn new() -> NameMemo {
        NameMemo {
            slots: vec![None; NAME_MEMO_SLOTS],
        }
    }

    fn slot(name: &str) -> usize {
        let mut h = name.len() as u64;
        for chunk in name.as_bytes().chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(w))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (NAME_MEMO_SLOTS - 1)
    }
}

/// The literals a pattern stands for in the framed name (`\nname\n`), as
/// (before, text, after) pieces.
fn literal_parts(p: &NamePattern) -> [Option<(&'static str, &str, &'static str)>; 2] {
    match p {
        NamePattern::Exact(x) => [Some(("\n", x, "\n")), None],
        NamePattern::Domain(x) => [Some(("\n", x, "\n")), Some((".", x, "\n"))],
        NamePattern::Subdomains(x) => [Some((".", x, "\n")), None],
        NamePattern::Contains { text, start, end } => [
            Some((
                if *start { "\n" } else { "" },
                text,
                if *end { "\n" } else { "" },
            )),
            None,
        ],
        NamePattern::Regex(_) => [None, None],
    }
}

/// The literals a pattern stands for in the framed name (`\nname\n`).
fn literals_of(p: &NamePattern, out: &mut Vec<String>) {
    for (before, text, after) in literal_parts(p).into_iter().flatten() {
        out.push(format!("{before}{text}{after}"));
    }
}

fn regex_flags() -> CompileFlags {
    CompileFlags::CASELESS | CompileFlags::SINGLEMATCH
}

/// Checks that Hyperscan accepts a name regex. Err: Hyperscan's message.
pub fn check_regex(expr: &str) -> Result<(), String> {
    let p = Pattern::with_flags(expr, regex_flags()).map_err(|e| e.to_string())?;
    let db: Result<BlockDatabase, _> = p.build();
    db.map(|_| ()).map_err(|e| hs_message(&e).0)
}

/// Hyperscan's message for a failed compile, and which expression failed.
fn hs_message(e: &hyperscan::Error) -> (String, Option<usize>) {
    match e {
        hyperscan::Error::Hyperscan(HsError::CompileError(c)) => {
            (c.message().to_string(), c.expression())
        }
        other => (other.to_string(), None),
    }
}

impl NameIndex {
    /// Compiles (or loads from the cache) the name patterns of `rules`.
    pub fn build(
        rules: &[Rule],
        files: &Files,
        opts: &LoadOptions,
    ) -> Result<(NameIndex, BuildInfo), Diagnostics> {
        let started = Instant::now();
        // First pass: targets and the content key, without keeping the
        // literal strings (a cache hit never needs them).
        let mut lit_targets = Vec::new();
        let mut regexes: Vec<(String, Span)> = Vec::new();
        let mut re_targets = Vec::new();
        let mut key = Sha256::new();
        key.update(b"sift-names-1\0");
        key.update(hyperscan::version_str().to_bytes());
        key.update([0]);
        let mut pending: Vec<u8> = Vec::with_capacity((1 << 16) + 512);
        for_each_pattern(rules, |t, p, span| {
            if suffixes::reach(p).is_some() {
                return; // in the suffix table
            }
            if let NamePattern::Regex(re) = p {
                regexes.push((re.clone(), span));
                re_targets.push(t);
                return;
            }
            // The bytes of each literal, gathered into one buffer hashed
            // every 64 KB (a million names are neither formatted into
            // strings nor hashed in a million small pieces for a cache
            // hit; the digest of the whole is the same).
            for (before, text, after) in literal_parts(p).into_iter().flatten() {
                let len = before.len() + text.len() + after.len();
                pending.extend_from_slice(&(len as u32).to_le_bytes());
                pending.extend_from_slice(before.as_bytes());
                pending.extend_from_slice(text.as_bytes());
                pending.extend_from_slice(after.as_bytes());
                lit_targets.push(t);
            }
            if pending.len() >= 1 << 16 {
                key.update(&pending);
                pending.clear();
            }
        });
        key.update(&pending);
        drop(pending);
        key.update(b"\0regex\0");
        for (r, _) in &regexes {
            key.update((r.len() as u32).to_le_bytes());
            key.update(r.as_bytes());
        }
        let key = crate::hex::string(&key.finalize());
        let mut table_patterns = Vec::new();
        for_each_pattern(rules, |t, p, _| table_patterns.push((t, p)));
        let table = SuffixTable::build(table_patterns.into_iter());
        let mut info = BuildInfo {
            table_patterns: table.patterns(),
            table_names: table.len(),
            table_bytes: table.bytes(),
            literals: lit_targets.len(),
            regexes: regexes.len(),
            ..BuildInfo::default()
        };
        let mut info_warning = None;
        let cache_dir = opts.cache_dir.as_ref().filter(|d| {
            let why = opts
                .privileged
                .then(|| source::writable_by_others(d))
                .flatten();
            if let Some(why) = &why {
                info_warning = Some(format!(
                    "the rule cache {} is not used: {why}; running as root, sift uses only a \
                     cache directory that only root can change",
                    d.display()
                ));
            }
            why.is_none()
        });
        let cache_file = cache_dir.map(|d| cache::path_for(d, &key));
        info.cache_warning = info_warning;
        if let Some(path) = &cache_file {
            if let Some((l, r)) = cache::load(path) {
                let chunks = lit_targets.len().div_ceil(LITERALS_PER_DATABASE);
                let ok = l.len() == chunks && r.is_some() != regexes.is_empty();
                if ok {
                    info.from_cache = true;
                    info.bytes = l.iter().map(db_bytes).sum::<usize>() + db_size(&r);
                    info.time = started.elapsed();
                    info.cache = cache_file.clone();
                    let index = NameIndex {
                        table,
                        literal: l,
                        regex: r,
                        lit_targets,
                        re_targets,
                        spare: Mutex::new(None),
                    };
                    return Ok((index.prepared(), info));
                }
            }
        }
        // Second pass: the literals to compile, in the same order.
        let mut lits: Vec<String> = Vec::with_capacity(lit_targets.len());
        for_each_pattern(rules, |_, p, _| {
            if suffixes::reach(p).is_none() {
                literals_of(p, &mut lits);
            }
        });
        let literal = match compile_literals(lits) {
            Ok(dbs) => dbs,
            Err(e) => {
                let why = hs_message(&e).0;
                let msg = format!("cannot compile the name patterns: {why}");
                return Err(one_error(Span::default(), files, msg));
            }
        };
        let regex = if regexes.is_empty() {
            None
        } else {
            let set = Patterns(
                regexes
                    .iter()
                    .enumerate()
                    .map(|(i, (re, _))| Pattern {
                        expression: re.clone(),
                        flags: regex_flags(),
                        id: Some(i),
                        ext: Default::default(),
                        som: None,
                    })
                    .collect(),
            );
            match set.build::<BlockMode>() {
                Ok(db) => Some(db),
                Err(e) => {
                    let (why, which) = hs_message(&e);
                    let span = which
                        .and_then(|i| regexes.get(i))
                        .map_or(Span::default(), |r| r.1);
                    return Err(one_error(span, files, format!("invalid regex: {why}")));
                }
            }
        };
        info.time = started.elapsed();
        info.bytes = literal.iter().map(db_bytes).sum::<usize>() + db_size(&regex);
        if let Some(path) = &cache_file {
            match cache::store(path, &literal, regex.as_ref()) {
                Ok(()) => info.cache = Some(path.clone()),
                Err(why) => info.cache_warning = Some(why),
            }
        }
        let index = NameIndex {
            table,
            literal,
            regex,
            lit_targets,
            re_targets,
            spare: Mutex::new(None),
        };
        Ok((index.prepared(), info))
    }

    /// With the first worker's scratch space made.
    fn prepared(self) -> NameIndex {
        *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = self.new_scratch();
        self
    }

    /// Scratch space for every database.
    fn new_scratch(&self) -> Option<Scratch> {
        let mut scratch: Option<Scratch> = None;
        for db in self.literal.iter().chain(&self.regex) {
            scratch = match scratch {
                None => db.alloc_scratch().ok(),
                Some(mut s) => {
                    let _ = db.realloc_scratch(&mut s);
                    Some(s)
                }
            };
        }
        scratch
    }

    /// Patterns compiled.
    pub fn len(&self) -> usize {
        self.table.patterns() + self.lit_targets.len() + self.re_targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Scratch space for one worker: the one made at loading for the
    /// first, new ones for the others.
    pub fn scratch(&self) -> NameScratch {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        let scratch = spare.or_else(|| self.new_scratch());
        NameScratch {
            scratch,
            framed: Vec::with_capacity(256),
            memo: NameMemo::new(),
            suffixes: Vec::new(),
        }
    }

    /// Calls `hit` with every pattern `name` (normalized) matches: the
    /// suffix table's in its order (the name's own patterns, then its
    /// suffixes', longest first), then Hyperscan's in its order (the memo
    /// keeps it).
    pub fn scan(&self, s: &mut NameScratch, name: &str, hit: &mut dyn FnMut(Target)) {
        if name.len() > NAME_MEMO_LEN {
            self.table.lookup(name.as_bytes(), &mut s.suffixes, hit);
            return self.scan_now(s, name, hit);
        }
        let slot = NameMemo::slot(name);
        if let Some((known, targets)) = &s.memo.slots[slot] {
            if **known == *name {
                targets.iter().for_each(|t| hit(*t));
                return;
            }
        }
        let mut found = Vec::new();
        self.table
            .lookup(name.as_bytes(), &mut s.suffixes, &mut |t| found.push(t));
        self.scan_now(s, name, &mut |t| found.push(t));
        found.iter().for_each(|t| hit(*t));
        if found.len() <= NAME_MEMO_TARGETS {
            s.memo.slots[slot] = Some((name.into(), found.into_boxed_slice()));
        }
    }

    /// [`scan`](Self::scan)'s Hyperscan part.
    fn scan_now(&self, s: &mut NameScratch, name: &str, hit: &mut dyn FnMut(Target)) {
        let Some(scratch) = s.scratch.as_ref() else {
            return;
        };
        if !self.literal.is_empty() {
            s.framed.clear();
            s.framed.push(b'\n');
            // Control bytes (a newline above all) would break the framing:
            // no pattern holds them, so they can only stand for themselves.
            s.framed
                .extend(name.bytes().map(|b| if b < 0x20 { b'?' } else { b }));
            s.framed.push(b'\n');
            for db in &self.literal {
                let _ = db.scan(&s.framed[..], scratch, |id, _, _, _| {
                    if let Some(t) = self.lit_targets.get(id as usize) {
                        hit(*t);
                    }
                    Matching::Continue
                });
            }
        }
        if let Some(db) = &self.regex {
            let _ = db.scan(name.as_bytes(), scratch, |id, _, _, _| {
                if let Some(t) = self.re_targets.get(id as usize) {
                    hit(*t);
                }
                Matching::Continue
            });
        }
    }
}

/// Compiles the literals as databases of [`LITERALS_PER_DATABASE`] each,
/// in parallel; ids are indices into `lits`.
fn compile_literals(lits: Vec<String>) -> Result<Vec<BlockDatabase>, hyperscan::Error> {
    use rayon::prelude::*;
    let chunks: Vec<Literals> = {
        let mut chunks = Vec::new();
        let mut it = lits.into_iter().enumerate().peekable();
        while it.peek().is_some() {
            let chunk: Literals = it
                .by_ref()
                .take(LITERALS_PER_DATABASE)
                .map(|(i, s)| Literal {
                    expression: s,
                    flags: LiteralFlags::CASELESS | LiteralFlags::SINGLEMATCH,
                    id: Some(i),
                    som: None,
                })
                .collect();
            chunks.push(chunk);
        }
        chunks
    };
    chunks
        .into_par_iter()
        .map(|set| set.build::<BlockMode>())
        .collect()
}

fn db_bytes(db: &BlockDatabase) -> usize {
    db.size().unwrap_or(0)
}

fn db_size(db: &Option<BlockDatabase>) -> usize {
    db.as_ref().and_then(|d| d.size().ok()).unwrap_or(0)
}

fn one_error(span: Span, files: &Files, message: String) -> Diagnostics {
    let mut d = Diagnostic::error(span, message, None);
    d.location = files.locate(span);
    Diagnostics::one(d)
}

/// Calls `f` with every name pattern of `rules`, in order, with its
/// target and its rule's span.
fn for_each_pattern<'r>(rules: &'r [Rule], mut f: impl FnMut(Target, &'r NamePattern, Span)) {
    for (ri, r) in rules.iter().enumerate() {
        for (ci, c) in r.conds.iter().enumerate() {
            for (pi, p) in c.name_patterns().iter().enumerate() {
                let t = Target {
                    rule: ri as u32,
                    cond: ci as u16,
                    pattern: pi as u32,
                };
                f(t, p, r.span);
            }
        }
    }
}

/// Whether every name that matches one of `a` matches one of `b` (regex
/// and content patterns only cover themselves).
pub fn covered(a: &[NamePattern], b: &[NamePattern]) -> bool {
    a.iter().all(|p| b.iter().any(|q| pattern_within(p, q)))
}

/// Every name `p` matches, `q` matches.
pub fn pattern_within(p: &NamePattern, q: &NamePattern) -> bool {
    use NamePattern::*;
    if p == q {
        return true;
    }
    match (p, q) {
        (Exact(x), _) => q.matches_plain(x) == Some(true),
        (Domain(x), Domain(d)) => is_under(x, d),
        (Domain(x), Subdomains(d)) => is_under(x, d),
        (Subdomains(x), Domain(d) | Subdomains(d)) => x == d || is_under(x, d),
        (
            Domain(x) | Subdomains(x),
            Contains {
                text,
                start: false,
                end: true,
            },
        ) => {
            // Every name under x ends with ".x"; the content must be a suffix of it.
            let dotted = format!(".{x}");
            dotted.ends_with(text.as_str())
                && (matches!(p, Subdomains(_)) || x.ends_with(text.as_str()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::source::read_text;

    fn index(text: &str) -> (Vec<Rule>, NameIndex) {
        let parsed = read_text("t.rules", text).expect("rules parse");
        let (idx, _) = NameIndex::build(&parsed.rules, &parsed.files, &LoadOptions::default())
            .expect("compiles");
        (parsed.rules, idx)
    }

    fn hits(idx: &NameIndex, name: &str) -> Vec<u32> {
        let mut s = idx.scratch();
        let mut v = Vec::new();
        idx.scan(&mut s, name, &mut |t| v.push(t.rule));
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn exact_domain_subdomain_on_label_boundaries() {
        let (_, idx) = index(
            "alert 1 \"exact\" { name example.com }\n\
             alert 2 \"domain\" { name .example.com }\n\
             alert 3 \"subs\" { name *.example.com }\n\
             alert 4 \"regex\" { name /^cdn[0-9]+\\.example\\.net$/ }\n",
        );
        assert_eq!(hits(&idx, "example.com"), vec![0, 1]);
        assert_eq!(hits(&idx, "www.example.com"), vec![1, 2]);
        assert_eq!(hits(&idx, "a.b.example.com"), vec![1, 2]);
        assert!(hits(&idx, "badexample.com").is_empty());
        assert!(hits(&idx, "example.com.evil.net").is_empty());
        assert!(hits(&idx, "example.co").is_empty());
        assert_eq!(hits(&idx, "cdn42.example.net"), vec![3]);
        assert!(hits(&idx, "xcdn42.example.net").is_empty());
        assert!(hits(&idx, "cdn42.example.net.au").is_empty());
    }

    /// A scratch that has seen names answers them again from its memo with
    /// the patterns a fresh scan finds, in the same order: suffix-table and
    /// Hyperscan patterns, names sharing a memo slot, a name matching more
    /// patterns than the memo keeps, and one longer than it keeps.
    #[test]
    fn remembered_names_match_as_scanned() {
        let mut text = String::from(
            "alert 1 \"domain\" { name .example.com }\n\
             alert 2 \"exact\" { name www.example.com }\n\
             alert 3 \"regex\" { name /^cdn[0-9]+\\.example\\.net$/ }\n",
        );
        for i in 0..NAME_MEMO_TARGETS + 6 {
            text.push_str(&format!(
                "alert {} \"many\" {{ name .many.test }}\n",
                100 + i
            ));
        }
        let (_, idx) = index(&text);
        let scan = |s: &mut NameScratch, name: &str| {
            let mut v = Vec::new();
            idx.scan(s, name, &mut |t| v.push(t));
            v
        };
        let long = format!("{}.example.com", "a".repeat(NAME_MEMO_LEN));
        let mut names: Vec<String> = (0..3 * NAME_MEMO_SLOTS)
            .map(|i| format!("h{i}.example.com"))
            .collect();
        names.extend(
            [
                "www.example.com",
                "cdn7.example.net",
                "x.many.test",
                "none.test",
            ]
            .map(String::from),
        );
        names.push(long);
        let mut kept = idx.scratch();
        for round in 0..3 {
            for name in &names {
                let fresh = scan(&mut idx.scratch(), name);
                assert_eq!(scan(&mut kept, name), fresh, "round {round}: {name}");
            }
        }
        assert_eq!(scan(&mut kept, "x.many.test").len(), NAME_MEMO_TARGETS + 6);
        assert_eq!(scan(&mut kept, "www.example.com").len(), 2);
        assert_eq!(scan(&mut kept, "cdn7.example.net").len(), 1);
    }

    #[test]
    fn framing_cannot_be_forged() {
        let (_, idx) = index("alert 1 \"exact\" { name example.com }\n");
        // A name holding the framing byte must not match as if it ended there.
        assert!(hits(&idx, "example.com\nx").is_empty());
        assert!(hits(&idx, "x\nexample.com").is_empty());
    }

    #[test]
    fn result_does_not_depend_on_pattern_order() {
        let a = "alert 1 \"a\" { name .example.com }\nalert 2 \"b\" { name www.example.com }\n";
        let b = "alert 2 \"b\" { name www.example.com }\nalert 1 \"a\" { name .example.com }\n";
        let (ra, ia) = index(a);
        let (rb, ib) = index(b);
        let ids = |rules: &[Rule], v: Vec<u32>| {
            let mut ids: Vec<u32> = v.into_iter().map(|i| rules[i as usize].id).collect();
            ids.sort();
            ids
        };
        for name in ["www.example.com", "example.com", "x.www.example.com"] {
            assert_eq!(
                ids(&ra, hits(&ia, name)),
                ids(&rb, hits(&ib, name)),
                "{name}"
            );
        }
        assert_eq!(ids(&ra, hits(&ia, "www.example.com")), vec![1, 2]);
    }

    #[test]
    fn coverage() {
        let p = |s: &str| crate::rules::syntax::name_pattern(s).unwrap();
        assert!(pattern_within(&p("a.example.com"), &p(".example.com")));
        assert!(pattern_within(&p("example.com"), &p(".example.com")));
        assert!(!pattern_within(&p("example.com"), &p("*.example.com")));
        assert!(pattern_within(&p("*.a.example.com"), &p("*.example.com")));
        assert!(pattern_within(&p(".a.example.com"), &p("*.example.com")));
        assert!(!pattern_within(&p(".example.com"), &p("*.example.com")));
        assert!(!pattern_within(&p(".badexample.com"), &p(".example.com")));
    }

    /// The cache key is the digest of the content literals as Hyperscan
    /// gets them (hashed in pieces, without building them) and of the
    /// regexes; the suffix table's names are not in it (they are never
    /// compiled): entries written before stay valid.
    #[test]
    fn cache_key_is_the_digest_of_the_hyperscan_literals() {
        let parsed = read_text(
            "t.rules",
            "alert 1 \"a\" { name example.com .example.net *.example.org }\n\
             alert 2 \"b\" { name /^x[0-9]$/ }\n",
        )
        .unwrap();
        let mut key = Sha256::new();
        key.update(b"sift-names-1\0");
        key.update(hyperscan::version_str().to_bytes());
        key.update([0]);
        key.update(b"\0regex\0");
        key.update(8u32.to_le_bytes());
        key.update(b"^x[0-9]$");
        let want: String = key.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("sift-names-key-{}", std::process::id()));
        let opts = LoadOptions {
            cache_dir: Some(dir.clone()),
            privileged: false,
        };
        let (idx, info) = NameIndex::build(&parsed.rules, &parsed.files, &opts).unwrap();
        assert_eq!(info.cache, Some(cache::path_for(&dir, &want)));
        assert_eq!(
            (info.table_patterns, info.table_names, info.literals),
            (3, 3, 0)
        );
        assert_eq!(hits(&idx, "a.example.net"), vec![0]);
        assert_eq!(hits(&idx, "x1"), vec![1]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Suricata contents that are not whole names or domains stay
    /// Hyperscan literals, beside the table's names.
    #[test]
    fn contents_are_literals_names_are_in_the_table() {
        let parsed = read_text(
            "t.rules",
            "alert tls any any -> any any (msg:\"a\"; tls.sni; content:\"example.com\"; startswith; endswith; sid:1;)\n\
             alert tls any any -> any any (msg:\"c\"; tls.sni; content:\"bad\"; endswith; sid:3;)\n",
        )
        .unwrap();
        let (idx, info) =
            NameIndex::build(&parsed.rules, &parsed.files, &LoadOptions::default()).unwrap();
        assert_eq!((info.table_patterns, info.literals), (1, 1));
        assert_eq!(hits(&idx, "example.com"), vec![0]);
        assert_eq!(hits(&idx, "very.bad"), vec![1]);
        assert_eq!(hits(&idx, "notbad"), vec![1]);
        assert!(hits(&idx, "bad.example.com").is_empty());
    }

    #[test]
    fn regex_errors_come_from_hyperscan() {
        let e = check_regex("(foo").unwrap_err();
        assert!(e.contains("Missing close parenthesis"), "{e}");
        assert!(check_regex("^foo[0-9]+$").is_ok());
    }
}
