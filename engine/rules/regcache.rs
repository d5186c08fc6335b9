//! Registry dumps read once: what [`super::registry::parse`] made of a dump
//! (its address table, names with their records, URLs, records, decisions,
//! and the malformed-line report) kept in the rule cache, so that loading a
//! rule set again does not parse the dump again.
//!
//! One file per dump path: `<SHA-256 of the dump's canonical path>.registry`
//! (a registry is republished under the same name every day: an updated
//! dump replaces its entry instead of piling up a new one). The file holds
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic and format version, `SIFTRG01` |
//! | 32 | SHA-256 of everything after it |
//! | | the reader's version ([`READER_VERSION`]), the dump's content key (a SHA-256 of its bytes) and its path |
//! | | the address table (as [`iplist::encode`] writes it) |
//! | | names (kind, name, record), URLs (URL, prefix, source, line, record), records (line, decision), decisions (number, date, organisation), problems (line, column, length, message, line text), the count of malformed lines |
//!
//! Integers are little-endian, strings a `u32` length and UTF-8 bytes.
//!
//! An entry is used only if its digest matches (a damaged file is never
//! decoded), its reader version and content key are those of the dump as
//! read now (an edited dump is read again), and every index in it points
//! inside it. Anything else is reported as [`Lookup::Damaged`] or
//! [`Lookup::Stale`], and the caller reads the dump and replaces the entry.
//! Files are written to a temporary name and renamed: readers never see
//! half a file.

#![allow(unsafe_code)] // See the SAFETY comment of the one block.

use std::fs;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::iplist::{self, IpTable, Prefix};
use super::registry::{self, Decision, Problem};
use super::urls::UrlEntry;
use super::NamePattern;

const MAGIC: &[u8; 8] = b"SIFTRG01";
const DIGEST: usize = 32;

/// Bumped whenever [`super::registry::parse`] reads a dump differently:
/// entries written by another reader are stale. 1: the first; 2: Unicode
/// names and URL hosts through UTS #46 (see [`super::idn`]).
pub const READER_VERSION: u32 = 2;

/// A registry dump as parsed: everything a `list registry` condition
/// holds and reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Contents {
    pub table: IpTable,
    pub names: Vec<(NamePattern, u32)>,
    pub urls: Vec<UrlEntry>,
    /// Record → (line, decision).
    pub records: Vec<(u32, u32)>,
    pub decisions: Vec<Decision>,
    pub problems: Vec<Problem>,
    pub malformed_lines: u64,
}

impl From<registry::Dump> for Contents {
    /// A dump's parse as a `list registry` condition holds it: its
    /// prefixes built into the address table.
    fn from(d: registry::Dump) -> Self {
        Contents {
            table: IpTable::build(d.prefixes),
            names: d.names,
            urls: d.urls,
            records: d.records,
            decisions: d.decisions,
            problems: d.problems,
            malformed_lines: d.malformed_lines,
        }
    }
}

/// How a registry was obtained, for `rules check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// No cache directory: read from the dump.
    #[default]
    Off,
    /// Read from the cache; the dump was not parsed.
    Loaded,
    /// No entry yet: read from the dump and stored.
    Built,
    /// The entry was for other contents (the dump changed): read again
    /// and replaced.
    Stale,
    /// The entry was written by another reader version: read again and
    /// replaced.
    Outdated,
    /// The entry was damaged: read again and replaced.
    Damaged,
}

impl State {
    pub fn describe(self) -> &'static str {
        match self {
            State::Off => "read (no cache)",
            State::Loaded => "loaded from the cache",
            State::Built => "read and cached",
            State::Stale => "read again (the dump changed since it was cached)",
            State::Outdated => "read again (its cache entry was made by another version of sift)",
            State::Damaged => "read again (its cache entry was damaged)",
        }
    }
}

/// What the cache holds for a dump.
#[derive(Debug)]
pub enum Lookup {
    Hit(Box<Contents>),
    /// No entry (or none readable).
    Missing,
    /// An entry for other contents of the dump (or another path).
    Stale,
    /// An entry written by another version of the reader.
    Outdated,
    /// An entry that is not a valid one; why.
    Damaged(String),
}

/// The cache file of the dump at `dump` (its canonical path if it has one).
pub fn path_for(dir: &Path, dump: &Path) -> PathBuf {
    let canon = dump.canonicalize().unwrap_or_else(|_| dump.to_path_buf());
    let mut h = Sha256::new();
    h.update(b"sift-registry-path\0");
    h.update(canon.as_os_str().as_encoded_bytes());
    let hex = crate::hex::string(&h.finalize());
    dir.join(format!("{hex}.registry"))
}

/// The content key of a dump: a SHA-256 of `tag`, a zero byte, the
/// dump's length (u64, little-endian) and its bytes — what
/// [`super::blocklist`] computes over the text it read. Read from the file
/// in pieces (nothing held in memory); None if the file cannot be read
/// or changed length while it was read.
pub fn file_key(tag: &str, path: &Path) -> Option<String> {
    let mut f = fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update([0]);
    h.update(len.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        seen += n as u64;
        h.update(&buf[..n]);
    }
    (seen == len).then(|| crate::hex::string(&h.finalize()))
}

/// The entry at `path` for contents `key` of dump `dump`. The file is
/// mapped, not read into a buffer: a 90 MB entry is decoded in place and
/// leaves no freed heap behind for the allocator to give back while the
/// packets are processed.
pub fn load(path: &Path, key: &str, dump: &Path) -> Lookup {
    let Ok(file) = fs::File::open(path) else {
        return Lookup::Missing;
    };
    // SAFETY: the mapping is read-only and only read while `map` lives;
    // entries are replaced by rename, never written in place (a cache
    // directory others can change is not used when running as root).
    let Ok(map) = (unsafe { memmap2::Mmap::map(&file) }) else {
        return Lookup::Missing;
    };
    let bytes: &[u8] = &map;
    let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Lookup::Damaged("not a registry cache entry of this version".into());
    };
    let (Some(digest), Some(body)) = (rest.get(..DIGEST), rest.get(DIGEST..)) else {
        return Lookup::Damaged("cut short".into());
    };
    if Sha256::digest(body).as_slice() != digest {
        return Lookup::Damaged("its digest does not match its contents".into());
    }
    let mut r = Reader(body);
    let head = (|| Some((r.u32()?, r.string()?, r.string()?)))();
    let Some((version, stored_key, stored_path)) = head else {
        return Lookup::Damaged("cut short".into());
    };
    if version != READER_VERSION {
        return Lookup::Outdated;
    }
    if stored_key != key
        || Path::new(&stored_path) != dump.canonicalize().unwrap_or_else(|_| dump.into())
    {
        return Lookup::Stale;
    }
    match decode(&mut r) {
        Some(c) if r.0.is_empty() => Lookup::Hit(Box::new(c)),
        _ => Lookup::Damaged("its contents do not decode".into()),
    }
}

/// Writes the entry for contents `key` of dump `dump` to `path`. Err: why
/// not (the caller warns).
pub fn store(path: &Path, key: &str, dump: &Path, c: &Contents) -> Result<(), String> {
    let mut out = Vec::with_capacity(c.table.bytes() + c.names.len() * 32 + (1 << 16));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; DIGEST]);
    out.extend_from_slice(&READER_VERSION.to_le_bytes());
    string(&mut out, key);
    let canon = dump.canonicalize().unwrap_or_else(|_| dump.into());
    string(&mut out, &canon.to_string_lossy());
    encode(&mut out, c)?;
    let digest = Sha256::digest(&out[MAGIC.len() + DIGEST..]);
    out[MAGIC.len()..MAGIC.len() + DIGEST].copy_from_slice(&digest);
    super::cache::write_entry(path, &out)
}

fn string(out: &mut Vec<u8>, s: &str) {
    // Strings of a dump come from its lines: far below 4 GB each.
    out.extend_from_slice(&(s.len().min(u32::MAX as usize) as u32).to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..s.len().min(u32::MAX as usize)]);
}

fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn encode(out: &mut Vec<u8>, c: &Contents) -> Result<(), String> {
    let mut table = Vec::with_capacity(c.table.bytes() + 64);
    iplist::encode(&c.table, &mut table);
    count(out, table.len());
    out.extend_from_slice(&table);
    drop(table);
    count(out, c.names.len());
    for (p, rec) in &c.names {
        let (kind, s) = match p {
            NamePattern::Exact(s) => (0u8, s),
            NamePattern::Domain(s) => (1, s),
            NamePattern::Subdomains(s) => (2, s),
            other => return Err(format!("a registry name cannot be {}", other.describe())),
        };
        out.push(kind);
        string(out, s);
        out.extend_from_slice(&rec.to_le_bytes());
    }
    count(out, c.urls.len());
    for u in &c.urls {
        string(out, &u.url);
        out.push(u8::from(u.prefix));
        out.extend_from_slice(&u.source.to_le_bytes());
        out.extend_from_slice(&u.line.to_le_bytes());
        out.extend_from_slice(&u.record.to_le_bytes());
    }
    count(out, c.records.len());
    for (line, d) in &c.records {
        out.extend_from_slice(&line.to_le_bytes());
        out.extend_from_slice(&d.to_le_bytes());
    }
    count(out, c.decisions.len());
    for d in &c.decisions {
        string(out, &d.number);
        string(out, &d.date);
        string(out, &d.org);
    }
    count(out, c.problems.len());
    for p in &c.problems {
        out.extend_from_slice(&p.line.to_le_bytes());
        out.extend_from_slice(&p.col.to_le_bytes());
        count(out, p.len);
        string(out, &p.message);
        string(out, &p.text);
    }
    count(out, c.malformed_lines as usize);
    Ok(())
}

/// A little-endian reader; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(head)
    }
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    /// A count of items of at least `min` bytes each: one the rest cannot
    /// hold is damage (and never reserves memory).
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(min)? <= self.0.len()).then_some(n)
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.bytes(n)?).ok().map(str::to_string)
    }
}

fn decode(r: &mut Reader<'_>) -> Option<Contents> {
    let n = r.count(1)?;
    let table = iplist::decode(r.bytes(n)?)?;
    let n = r.count(9)?;
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let kind = r.u8()?;
        let s = r.string()?;
        let p = match kind {
            0 => NamePattern::Exact(s),
            1 => NamePattern::Domain(s),
            2 => NamePattern::Subdomains(s),
            _ => return None,
        };
        names.push((p, r.u32()?));
    }
    let n = r.count(15)?;
    let mut urls = Vec::with_capacity(n);
    for _ in 0..n {
        urls.push(UrlEntry {
            url: r.string()?,
            prefix: r.u8()? != 0,
            source: r.u16()?,
            line: r.u32()?,
            record: r.u32()?,
        });
    }
    let n = r.count(8)?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        records.push((r.u32()?, r.u32()?));
    }
    let n = r.count(12)?;
    let mut decisions = Vec::with_capacity(n);
    for _ in 0..n {
        decisions.push(Decision {
            number: r.string()?,
            date: r.string()?,
            org: r.string()?,
        });
    }
    let n = r.count(24)?;
    let mut problems = Vec::with_capacity(n);
    for _ in 0..n {
        problems.push(Problem {
            line: r.u32()?,
            col: r.u32()?,
            len: usize::try_from(r.u64()?).ok()?,
            message: r.string()?,
            text: r.string()?,
        });
    }
    let malformed_lines = r.u64()?;
    // Every record, decision and source index must point inside.
    let recs = records.len() as u32;
    let rec_ok = |rec: u32| rec < recs;
    let ok = records.iter().all(|(_, d)| (*d as usize) < decisions.len())
        && names.iter().all(|(_, rec)| rec_ok(*rec))
        && urls.iter().all(|u| rec_ok(u.record) && u.source == 0)
        && table
            .entries
            .iter()
            .all(|p: &Prefix| rec_ok(p.record) && p.source == 0 && family_ok(p));
    ok.then_some(Contents {
        table,
        names,
        urls,
        records,
        decisions,
        problems,
        malformed_lines,
    })
}

fn family_ok(p: &Prefix) -> bool {
    match p.cidr.addr {
        IpAddr::V4(_) => p.cidr.len <= 32,
        IpAddr::V6(_) => p.cidr.len <= 128,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::registry;

    fn contents(text: &str) -> Contents {
        registry::parse(text, 0).into()
    }

    const DUMP: &str = "Updated: 2026-12-01 10:00:00 +0000\n\
192.0.2.1 | 198.51.100.0/24;example.com;http://example.com/page | https://example.com/x;Org;27-31-2020/Ид2971-20;2020-03-03\n\
2001:db8::7;*.example.net;;Org; with a semicolon;2-1234/2021;2021-05-01\n\
;пример.рф;;Org;2-1234/2021;2021-05-01\n\
192.0.2.300 | 192.0.2.9;bad..name;http://ok.example/;Org;3/2022;2022-01-01\n\
192.0.2.11;x.example;Org;2022-01-01\n";

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn tmp(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("sift-regcache-{}-{tag}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }

    #[test]
    fn round_trip_keeps_everything() {
        let t = tmp("rt");
        let dump = t.0.join("dump.csv");
        fs::write(&dump, DUMP).unwrap();
        let c = contents(DUMP);
        assert_eq!(c.problems.len(), 3);
        let key = file_key("k", &dump).unwrap();
        let path = path_for(&t.0, &dump);
        assert!(matches!(load(&path, &key, &dump), Lookup::Missing));
        store(&path, &key, &dump, &c).unwrap();
        match load(&path, &key, &dump) {
            Lookup::Hit(got) => assert_eq!(*got, c),
            other => panic!("{other:?}"),
        }
        // Written by another reader version: outdated, not used.
        let mut other = fs::read(&path).unwrap();
        let body_at = MAGIC.len() + DIGEST;
        other[body_at..body_at + 4].copy_from_slice(&(READER_VERSION - 1).to_le_bytes());
        let d = Sha256::digest(&other[body_at..]);
        other[MAGIC.len()..body_at].copy_from_slice(&d);
        fs::write(&path, &other).unwrap();
        assert!(matches!(load(&path, &key, &dump), Lookup::Outdated));
        store(&path, &key, &dump, &c).unwrap();
        // Other contents of the same dump: stale, not used.
        assert!(matches!(load(&path, "other", &dump), Lookup::Stale));
        // The same entry claimed for another dump: stale.
        let other = t.0.join("other.csv");
        fs::write(&other, DUMP).unwrap();
        assert!(matches!(load(&path, &key, &other), Lookup::Stale));
    }

    /// A generated dump (IPv4 and IPv6, nested blocks, duplicates, `*.`
    /// masks, Cyrillic names, URLs, shared decisions, broken lines of
    /// every kind) comes back from its entry field for field.
    #[test]
    fn generated_dump_round_trips() {
        let t = tmp("gen");
        let spec = registry::GenSpec {
            addresses: 3000,
            names: 2000,
            urls: 500,
            broken: 12,
            seed: 11,
        };
        let mut bytes = Vec::new();
        registry::generate(&mut bytes, &spec).unwrap();
        let dump = t.0.join("gen.csv");
        fs::write(&dump, &bytes).unwrap();
        let c = contents(std::str::from_utf8(&bytes).unwrap());
        assert_eq!(c.problems.len(), 12);
        // Every form is there to be stored.
        assert!(c
            .names
            .iter()
            .any(|(p, _)| matches!(p, NamePattern::Domain(_))));
        assert!(c.names.iter().any(|(p, _)| p.describe().contains("xn--")));
        assert!(c.table.entries.iter().any(|p| p.cidr.addr.is_ipv6()));
        assert!(c
            .table
            .entries
            .iter()
            .any(|p| p.cidr.len < 32 && p.cidr.addr.is_ipv4()));
        let key = file_key("k", &dump).unwrap();
        let path = path_for(&t.0, &dump);
        store(&path, &key, &dump, &c).unwrap();
        match load(&path, &key, &dump) {
            Lookup::Hit(got) => assert!(*got == c, "the entry differs from the dump"),
            other => panic!("{other:?}"),
        }
    }

    /// Every cut and every flipped byte of an entry is refused (never a
    /// panic, never a wrong hit).
    #[test]
    fn damage_is_refused() {
        let t = tmp("dmg");
        let dump = t.0.join("dump.csv");
        fs::write(&dump, DUMP).unwrap();
        let c = contents(DUMP);
        let key = file_key("k", &dump).unwrap();
        let path = path_for(&t.0, &dump);
        store(&path, &key, &dump, &c).unwrap();
        let good = fs::read(&path).unwrap();
        for cut in [0, 5, 8, 20, 40, good.len() / 2, good.len() - 1] {
            fs::write(&path, &good[..cut]).unwrap();
            assert!(
                matches!(load(&path, &key, &dump), Lookup::Damaged(_)),
                "cut at {cut}"
            );
        }
        for at in (0..good.len()).step_by(good.len() / 97 + 1) {
            let mut bad = good.clone();
            bad[at] ^= 0x41;
            fs::write(&path, &bad).unwrap();
            assert!(
                matches!(load(&path, &key, &dump), Lookup::Damaged(_)),
                "byte {at} flipped"
            );
        }
        // A body with a valid digest but bytes past its end (written by
        // something else) is refused by the structure checks.
        let mut forged = good.clone();
        let body_at = MAGIC.len() + DIGEST;
        forged.push(0);
        let d = Sha256::digest(&forged[body_at..]);
        forged[MAGIC.len()..body_at].copy_from_slice(&d);
        fs::write(&path, &forged).unwrap();
        assert!(matches!(load(&path, &key, &dump), Lookup::Damaged(_)));
    }

    #[test]
    fn file_key_is_the_digest_of_tag_length_and_bytes() {
        let t = tmp("key");
        let dump = t.0.join("d.csv");
        fs::write(&dump, DUMP).unwrap();
        let mut h = Sha256::new();
        h.update(b"tag\0");
        h.update((DUMP.len() as u64).to_le_bytes());
        h.update(DUMP.as_bytes());
        let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(file_key("tag", &dump).as_deref(), Some(want.as_str()));
        assert_eq!(file_key("tag", &t.0.join("missing")), None);
    }
}
