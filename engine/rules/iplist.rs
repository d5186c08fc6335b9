//! Address lists: millions of IPv4 and IPv6 addresses and CIDR blocks,
//! overlapping and nested, looked up by longest prefix.
//!
//! The prefixes are flattened once into disjoint ranges: a sorted array of
//! range starts and, for each range, the entry of the longest prefix that
//! covers it (or none). A lookup is one binary search over that array
//! (about 21 steps for a million prefixes); IPv4 and IPv6 have one array
//! each; an IPv4 lookup searches only its /16's ranges, and a large
//! table first asks a bitmap of the /24s any listed range touches (2 MiB,
//! one read: most addresses a flow has are in no list, and that answer
//! then costs no search of megabytes of ranges). Nested prefixes keep the innermost one as the answer
//! (`10.0.0.0/8` and `10.1.0.0/16`: `10.1.2.3` is in the /16); a
//! duplicate keeps its first line and is counted. IPv4-mapped IPv6
//! (`::ffff:192.0.2.0/120`, and a flow's `::ffff:192.0.2.1`) is the IPv4
//! block or address it maps.
//!
//! A table is built from [`Prefix`]es read from list files (one address or
//! block per line, `#` comments) or registry dumps; it is stored on disk
//! like the name databases ([`save`] / [`load`], keyed by a digest of the
//! input), so a list of millions of lines loads without being parsed or
//! sorted again.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use super::Cidr;

/// No entry covers a range.
const NONE: u32 = u32::MAX;

/// IPv4 ranges from which a table keeps the /24 bitmap: below it, the
/// ranges of a lookup's /16 are few and stay in the caches.
const FILTER_MIN_RANGES: usize = 16_384;

/// One address or block as read, and where it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub cidr: Cidr,
    /// Which of the table's sources it came from.
    pub source: u16,
    pub line: u32,
    /// The registry record it belongs to (an index), or `u32::MAX`.
    pub record: u32,
}

/// Disjoint ranges of one address family: `starts[i]..starts[i+1]` is
/// covered by entry `entries[i]` (or by none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Ranges<T> {
    starts: Vec<T>,
    entries: Vec<u32>,
}

impl<T: Copy + Ord> Ranges<T> {
    fn lookup(&self, a: T) -> Option<u32> {
        let i = self.starts.partition_point(|s| *s <= a);
        let e = *self.entries.get(i.checked_sub(1)?)?;
        (e != NONE).then_some(e)
    }
}

/// A compiled address list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpTable {
    v4: Ranges<u32>,
    /// For each /16 (the top 16 bits), the first IPv4 range starting in
    /// it or later, and a last entry = the number of ranges: a lookup
    /// searches only its /16's ranges (a few cache lines instead of the
    /// whole array). Rebuilt from `v4`, never stored.
    v4_index: Vec<u32>,
    /// For a table of [`FILTER_MIN_RANGES`] IPv4 ranges or more, a bit per
    /// /24: set when a listed range holds one of its addresses (a clear
    /// bit answers "not listed" at once). Rebuilt from `v4`, never stored.
    v4_listed: Vec<u64>,
    v6: Ranges<u128>,
    /// The prefixes kept (duplicates dropped), in input order.
    pub entries: Vec<Prefix>,
    /// Prefixes read that another line already gave.
    pub duplicates: u64,
}

/// What a flow's address matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpHit {
    pub addr: IpAddr,
    pub entry: Prefix,
}

/// The IPv4 address an IPv4-mapped IPv6 address stands for.
pub fn unmap(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => a,
        },
        v4 => v4,
    }
}

/// A block written in IPv4-mapped IPv6 (`::ffff:0:0/96` and longer) as the
/// IPv4 block it maps; other blocks unchanged.
pub fn unmap_cidr(c: Cidr) -> Cidr {
    match c.addr {
        IpAddr::V6(v) if c.len >= 96 => match v.to_ipv4_mapped() {
            Some(v4) => Cidr {
                addr: IpAddr::V4(v4),
                len: c.len - 96,
            },
            None => c,
        },
        _ => c,
    }
}

/// The first and last address of a block, as numbers of its family.
fn bounds(c: &Cidr) -> (u128, u128) {
    match c.addr {
        IpAddr::V4(v) => {
            let lo = u128::from(u32::from(v));
            let size = 1u128 << (32 - u32::from(c.len));
            (lo, lo + size - 1)
        }
        IpAddr::V6(v) => {
            let lo = u128::from(v);
            let host = u128::MAX.checked_shr(u32::from(c.len)).unwrap_or(0);
            (lo, lo | host)
        }
    }
}

/// Flattens prefixes of one family (given as bounds and entry index) into
/// disjoint ranges. The prefixes must be sorted by start, then widest
/// first; CIDR blocks either nest or are disjoint, so a stack of the
/// blocks still open is enough.
fn flatten(sorted: &[(u128, u128, u32)], max: u128) -> Ranges<u128> {
    let mut out = Ranges {
        starts: vec![0u128],
        entries: vec![NONE],
    };
    // (last address, entry) of the blocks still open, innermost last.
    let mut stack: Vec<(u128, u32)> = Vec::new();
    for &(lo, hi, e) in sorted {
        close_until(&mut out, &mut stack, Some(lo), max);
        emit(&mut out, lo, e);
        stack.push((hi, e));
    }
    close_until(&mut out, &mut stack, None, max);
    out
}

/// Entry `e` from address `at` on.
fn emit(out: &mut Ranges<u128>, at: u128, e: u32) {
    if out.starts.last() == Some(&at) {
        let n = out.entries.len() - 1;
        out.entries[n] = e;
        // Merge with the range before if it has the same entry.
        if n > 0 && out.entries[n - 1] == e {
            out.starts.pop();
            out.entries.pop();
        }
    } else if out.entries.last() != Some(&e) {
        out.starts.push(at);
        out.entries.push(e);
    }
}

/// Closes the open blocks that end before `lo` (all of them for None):
/// after each, its parent (or none) covers the addresses that follow.
fn close_until(out: &mut Ranges<u128>, stack: &mut Vec<(u128, u32)>, lo: Option<u128>, max: u128) {
    while let Some(&(hi, _)) = stack.last() {
        if lo.is_some_and(|lo| hi >= lo) {
            break;
        }
        stack.pop();
        if hi < max {
            let parent = stack.last().map_or(NONE, |s| s.1);
            emit(out, hi + 1, parent);
        }
    }
}

impl IpTable {
    /// Builds the table from prefixes in input order. Among equal blocks
    /// the first is kept; the others are counted as duplicates.
    pub fn build(prefixes: Vec<Prefix>) -> IpTable {
        let mut prefixes: Vec<Prefix> = prefixes
            .into_iter()
            .map(|mut p| {
                p.cidr = unmap_cidr(p.cidr);
                p
            })
            .collect();
        let mut order: Vec<(bool, u128, u128, u32)> = prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (lo, hi) = bounds(&p.cidr);
                (p.cidr.addr.is_ipv6(), lo, hi, i as u32)
            })
            // Widest first among equal starts: hi descending.
            .collect();
        order.sort_unstable_by(|a, b| (a.0, a.1, b.2, a.3).cmp(&(b.0, b.1, a.2, b.3)));
        let mut keep = vec![false; prefixes.len()];
        let mut duplicates = 0u64;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut last: Option<(bool, u128, u128)> = None;
        for &(is6, lo, hi, i) in &order {
            if last == Some((is6, lo, hi)) {
                duplicates += 1;
                continue;
            }
            last = Some((is6, lo, hi));
            keep[i as usize] = true;
            if is6 {
                v6.push((lo, hi, i));
            } else {
                v4.push((lo, hi, i));
            }
        }
        // Entries renumbered to the kept prefixes, in input order.
        let mut renum = vec![NONE; prefixes.len()];
        let mut n = 0u32;
        for (i, k) in keep.iter().enumerate() {
            if *k {
                renum[i] = n;
                n += 1;
            }
        }
        let fix = |r: Ranges<u128>| -> Ranges<u128> {
            Ranges {
                starts: r.starts,
                entries: r
                    .entries
                    .into_iter()
                    .map(|e| if e == NONE { NONE } else { renum[e as usize] })
                    .collect(),
            }
        };
        let r4 = fix(flatten(&v4, u128::from(u32::MAX)));
        let r6 = fix(flatten(&v6, u128::MAX));
        let mut k = keep.iter();
        prefixes.retain(|_| *k.next().unwrap_or(&false));
        prefixes.shrink_to_fit();
        IpTable {
            v4: Ranges {
                starts: r4.starts.iter().map(|s| *s as u32).collect(),
                entries: r4.entries,
            },
            v4_index: Vec::new(),
            v4_listed: Vec::new(),
            v6: r6,
            entries: prefixes,
            duplicates,
        }
        .index()
    }

    /// The longest prefix holding `a` (IPv4-mapped IPv6 looked up as
    /// IPv4).
    pub fn lookup(&self, a: IpAddr) -> Option<&Prefix> {
        self.entries.get(self.lookup_index(a)? as usize)
    }

    /// [`IpTable::lookup`], as an index into [`IpTable::entries`].
    pub fn lookup_index(&self, a: IpAddr) -> Option<u32> {
        match unmap(a) {
            IpAddr::V4(v) => self.lookup_v4(u32::from(v)),
            IpAddr::V6(v) => self.v6.lookup(u128::from(v)),
        }
    }

    /// Starts loading what a lookup of `a` reads first in a filtered
    /// table (its /24's bit), so that a lookup made packets later finds it
    /// in cache. A hint: changes nothing.
    #[inline]
    pub fn prefetch(&self, a: IpAddr) {
        if let IpAddr::V4(v) = unmap(a) {
            if let Some(word) = self.v4_listed.get((u32::from(v) >> 14) as usize) {
                crate::prefetch::value(word);
            }
        }
    }

    fn lookup_v4(&self, a: u32) -> Option<u32> {
        if let Some(word) = self.v4_listed.get((a >> 14) as usize) {
            if word & (1 << ((a >> 8) & 63)) == 0 {
                return None;
            }
        }
        let h = (a >> 16) as usize;
        let (Some(&lo), Some(&hi)) = (self.v4_index.get(h), self.v4_index.get(h + 1)) else {
            return self.v4.lookup(a);
        };
        // Every start before `lo` is below this /16 (so <= a), every start
        // from `hi` on is above it: the answer lies in lo..=hi.
        let (lo, hi) = (lo as usize, hi as usize);
        let p = lo + self.v4.starts.get(lo..hi)?.partition_point(|s| *s <= a);
        let e = *self.v4.entries.get(p.checked_sub(1)?)?;
        (e != NONE).then_some(e)
    }

    /// Builds [`IpTable::v4_index`].
    fn index(mut self) -> IpTable {
        let mut idx = Vec::with_capacity((1 << 16) + 1);
        let mut i = 0usize;
        for h in 0u32..(1 << 16) {
            while i < self.v4.starts.len() && self.v4.starts[i] < h << 16 {
                i += 1;
            }
            idx.push(i as u32);
        }
        idx.push(self.v4.starts.len() as u32);
        self.v4_index = idx;
        self.v4_listed = if self.v4.starts.len() >= FILTER_MIN_RANGES {
            listed_blocks(&self.v4)
        } else {
            Vec::new()
        };
        self
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ranges in the lookup arrays (IPv4 + IPv6), for reports.
    pub fn ranges(&self) -> usize {
        self.v4.starts.len() + self.v6.starts.len()
    }

    /// Bytes the table takes in memory, roughly.
    pub fn bytes(&self) -> usize {
        self.v4_index.len() * 4
            + self.v4_listed.len() * 8
            + self.v4.starts.len() * 8
            + self.v6.starts.len() * 20
            + self.entries.len() * std::mem::size_of::<Prefix>()
    }
}

/// The bitmap of [`IpTable::v4_listed`]: bit `b` for the /24 `b`, set
/// when a range with an entry holds one of its addresses.
fn listed_blocks(v4: &Ranges<u32>) -> Vec<u64> {
    let mut bits = vec![0u64; (1 << 24) / 64];
    for (i, (start, e)) in v4.starts.iter().zip(&v4.entries).enumerate() {
        if *e == NONE {
            continue;
        }
        let last = v4.starts.get(i + 1).map_or(u32::MAX, |next| next - 1);
        for b in (start >> 8)..=(last >> 8) {
            bits[(b >> 6) as usize] |= 1 << (b & 63);
        }
    }
    bits
}

/// One line of an address list: `192.0.2.0/24`, `2001:db8::1`; `#`
/// starts a comment. Ok(None): a blank or comment line.
pub fn parse_line(raw: &str) -> Result<Option<(Cidr, &str)>, String> {
    let line = raw.split('#').next().unwrap_or("");
    let mut words = line.split_whitespace();
    let Some(w) = words.next() else {
        return Ok(None);
    };
    if let Some(extra) = words.next() {
        return Err(format!(
            "an address list line holds one address or block, found also `{extra}`"
        ));
    }
    Cidr::parse(w).map(|c| Some((c, w)))
}

// ---- the on-disk cache ----

const MAGIC: &[u8; 8] = b"SIFTIP01";

/// Where the table with content key `key` is kept.
pub fn cache_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.iptable"))
}

/// Writes `t` to `path` (a temporary name, then renamed). Err: why not.
pub fn save(path: &Path, t: &IpTable) -> Result<(), String> {
    let mut out: Vec<u8> = Vec::with_capacity(t.bytes() + 64);
    out.extend_from_slice(MAGIC);
    encode(t, &mut out);
    super::cache::write_entry(path, &out)
}

/// Appends `t` in the cache's form (what [`decode`] reads) to `out`.
pub fn encode(t: &IpTable, out: &mut Vec<u8>) {
    let n = |out: &mut Vec<u8>, v: usize| out.extend_from_slice(&(v as u64).to_le_bytes());
    n(out, t.v4.starts.len());
    for (s, e) in t.v4.starts.iter().zip(&t.v4.entries) {
        out.extend_from_slice(&s.to_le_bytes());
        out.extend_from_slice(&e.to_le_bytes());
    }
    n(out, t.v6.starts.len());
    for (s, e) in t.v6.starts.iter().zip(&t.v6.entries) {
        out.extend_from_slice(&s.to_le_bytes());
        out.extend_from_slice(&e.to_le_bytes());
    }
    n(out, t.entries.len());
    for p in &t.entries {
        let (v6, a) = match p.cidr.addr {
            IpAddr::V4(v) => (0u8, u128::from(u32::from(v))),
            IpAddr::V6(v) => (1u8, u128::from(v)),
        };
        out.push(v6);
        out.push(p.cidr.len);
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&p.source.to_le_bytes());
        out.extend_from_slice(&p.line.to_le_bytes());
        out.extend_from_slice(&p.record.to_le_bytes());
    }
    n(out, t.duplicates as usize);
}

/// A little-endian reader over a cache file; every read is checked.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }
    fn count(&mut self, item: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        // A count the rest of the file cannot hold is a damaged file.
        (n.checked_mul(item)? <= self.0.len()).then_some(n)
    }
}

/// The table stored at `path`, if it holds a valid one.
pub fn load(path: &Path) -> Option<IpTable> {
    let bytes = fs::read(path).ok()?;
    decode(bytes.strip_prefix(MAGIC.as_slice())?)
}

/// The table [`encode`] wrote as `bytes` (all of them), if valid.
pub fn decode(bytes: &[u8]) -> Option<IpTable> {
    let mut r = Reader(bytes);
    let mut t = IpTable::default();
    let n4 = r.count(8)?;
    t.v4.starts.reserve_exact(n4);
    t.v4.entries.reserve_exact(n4);
    for _ in 0..n4 {
        t.v4.starts.push(u32::from_le_bytes(r.take()?));
        t.v4.entries.push(u32::from_le_bytes(r.take()?));
    }
    let n6 = r.count(20)?;
    t.v6.starts.reserve_exact(n6);
    t.v6.entries.reserve_exact(n6);
    for _ in 0..n6 {
        t.v6.starts.push(u128::from_le_bytes(r.take()?));
        t.v6.entries.push(u32::from_le_bytes(r.take()?));
    }
    let ne = r.count(28)?;
    t.entries.reserve_exact(ne);
    for _ in 0..ne {
        let [v6, len] = r.take::<2>()?;
        let a = u128::from_le_bytes(r.take()?);
        let addr = match v6 {
            0 => IpAddr::V4(Ipv4Addr::from(u32::try_from(a).ok()?)),
            1 => IpAddr::V6(Ipv6Addr::from(a)),
            _ => return None,
        };
        if len > if v6 == 0 { 32 } else { 128 } {
            return None;
        }
        t.entries.push(Prefix {
            cidr: Cidr { addr, len },
            source: u16::from_le_bytes(r.take()?),
            line: u32::from_le_bytes(r.take()?),
            record: u32::from_le_bytes(r.take()?),
        });
    }
    t.duplicates = r.u64()?;
    // Every range must point at an entry, and starts must be increasing.
    let ok_entries = |v: &[u32]| v.iter().all(|e| *e == NONE || (*e as usize) < ne);
    let sorted4 = t.v4.starts.windows(2).all(|w| w[0] < w[1]);
    let sorted6 = t.v6.starts.windows(2).all(|w| w[0] < w[1]);
    (r.0.is_empty() && ok_entries(&t.v4.entries) && ok_entries(&t.v6.entries) && sorted4 && sorted6)
        .then(|| t.index())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &[&str]) -> IpTable {
        let v = lines
            .iter()
            .enumerate()
            .map(|(i, s)| Prefix {
                cidr: Cidr::parse(s).unwrap(),
                source: 0,
                line: i as u32 + 1,
                record: u32::MAX,
            })
            .collect();
        IpTable::build(v)
    }

    fn hit(t: &IpTable, a: &str) -> Option<String> {
        t.lookup(a.parse().unwrap()).map(|p| p.cidr.to_string())
    }

    #[test]
    fn longest_prefix_wins_whatever_the_order() {
        let lines = [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "10.1.2.3",
            "192.0.2.0/24",
        ];
        let mut rev = lines;
        rev.reverse();
        for t in [table(&lines), table(&rev)] {
            assert_eq!(hit(&t, "10.1.2.3").as_deref(), Some("10.1.2.3"));
            assert_eq!(hit(&t, "10.1.2.4").as_deref(), Some("10.1.2.0/24"));
            assert_eq!(hit(&t, "10.1.3.0").as_deref(), Some("10.1.0.0/16"));
            assert_eq!(hit(&t, "10.255.255.255").as_deref(), Some("10.0.0.0/8"));
            assert_eq!(hit(&t, "10.0.0.0").as_deref(), Some("10.0.0.0/8"));
            assert_eq!(hit(&t, "11.0.0.0"), None);
            assert_eq!(hit(&t, "9.255.255.255"), None);
            assert_eq!(hit(&t, "192.0.2.255").as_deref(), Some("192.0.2.0/24"));
            assert_eq!(hit(&t, "192.0.3.0"), None);
            assert_eq!(hit(&t, "2001:db8::1"), None);
        }
    }

    #[test]
    fn zero_and_full_length_prefixes() {
        let t = table(&["0.0.0.0/0", "255.255.255.255/32", "0.0.0.0/32"]);
        assert_eq!(hit(&t, "1.2.3.4").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(
            hit(&t, "255.255.255.255").as_deref(),
            Some("255.255.255.255")
        );
        assert_eq!(hit(&t, "255.255.255.254").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(hit(&t, "0.0.0.0").as_deref(), Some("0.0.0.0"));
        assert_eq!(hit(&t, "0.0.0.1").as_deref(), Some("0.0.0.0/0"));
        // IPv4 /0 says nothing about IPv6.
        assert_eq!(hit(&t, "2001:db8::1"), None);
        let t = table(&[
            "::/0",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
            "2001:db8::/32",
            "2001:db8::1/128",
        ]);
        assert_eq!(hit(&t, "2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(hit(&t, "2001:db8::2").as_deref(), Some("2001:db8::/32"));
        assert_eq!(hit(&t, "2001:db9::").as_deref(), Some("::/0"));
        assert_eq!(
            hit(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(),
            Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(hit(&t, "1.2.3.4"), None);
    }

    #[test]
    fn ipv4_mapped_ipv6_on_both_sides() {
        let t = table(&["::ffff:192.0.2.0/120", "198.51.100.7"]);
        assert_eq!(hit(&t, "192.0.2.9").as_deref(), Some("192.0.2.0/24"));
        assert_eq!(hit(&t, "::ffff:192.0.2.9").as_deref(), Some("192.0.2.0/24"));
        assert_eq!(
            hit(&t, "::ffff:198.51.100.7").as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(hit(&t, "::ffff:198.51.100.8"), None);
        // Not mapped: the IPv4-compatible form is plain IPv6.
        assert_eq!(hit(&t, "::192.0.2.9"), None);
    }

    #[test]
    fn duplicates_keep_the_first_line() {
        let t = table(&["192.0.2.0/24", "10.0.0.1", "192.0.2.77/24", "10.0.0.1"]);
        assert_eq!(t.duplicates, 2);
        assert_eq!(t.len(), 2);
        let p = t.lookup("192.0.2.1".parse().unwrap()).unwrap();
        assert_eq!(p.line, 1);
        assert_eq!(t.lookup("10.0.0.1".parse().unwrap()).unwrap().line, 2);
    }

    #[test]
    fn adjacent_and_sibling_blocks() {
        let t = table(&["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/24", "10.0.1.0/24"]);
        assert_eq!(hit(&t, "10.0.0.127").as_deref(), Some("10.0.0.0/25"));
        assert_eq!(hit(&t, "10.0.0.128").as_deref(), Some("10.0.0.128/25"));
        assert_eq!(hit(&t, "10.0.1.0").as_deref(), Some("10.0.1.0/24"));
        assert_eq!(hit(&t, "10.0.2.0"), None);
    }

    #[test]
    fn agrees_with_a_linear_scan() {
        // A pseudo-random mix of nested and overlapping blocks.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut lines = Vec::new();
        lines.push("0.0.0.0/1".to_string());
        lines.push("255.255.0.0/16".to_string());
        for _ in 0..2000 {
            let r = next();
            let a = Ipv4Addr::from(0x0a00_0000 | (r as u32 & 0x00ff_ffff));
            let len = 8 + (r >> 40) as u8 % 25;
            lines.push(format!("{a}/{len}"));
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let t = table(&refs);
        let cidrs: Vec<Cidr> = refs.iter().map(|s| Cidr::parse(s).unwrap()).collect();
        for _ in 0..5000 {
            let r = next();
            let bits = if r % 4 == 0 {
                (r >> 8) as u32
            } else {
                0x0a00_0000 | ((r >> 8) as u32 & 0x00ff_ffff)
            };
            let a = IpAddr::V4(Ipv4Addr::from(bits));
            let want = cidrs
                .iter()
                .filter(|c| c.contains(a))
                .max_by_key(|c| c.len)
                .copied();
            assert_eq!(t.lookup(a).map(|p| p.cidr), want, "{a}");
            // The /16 index and a search of the whole array agree.
            let IpAddr::V4(v) = a else { unreachable!() };
            assert_eq!(t.lookup_v4(u32::from(v)), t.v4.lookup(u32::from(v)));
        }
    }

    /// A table large enough for the /24 bitmap answers like a search of
    /// the whole array: at listed addresses, their neighbours and their
    /// /24s' edges, and anywhere.
    #[test]
    fn the_block_bitmap_never_hides_an_entry() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut lines = vec!["203.0.113.0/24".to_string(), "198.51.0.0/16".to_string()];
        let mut probes = Vec::new();
        for _ in 0..20_000 {
            let r = next();
            let a = r as u32;
            let len = if r >> 60 == 0 {
                20 + (r >> 32) as u8 % 12
            } else {
                32
            };
            lines.push(format!(
                "{}/{len}",
                Ipv4Addr::from(a & (u32::MAX << (32 - len)))
            ));
            probes.extend([
                a,
                a.wrapping_add(1),
                a.wrapping_sub(1),
                a | 0xff,
                a & !0xff,
                (r >> 32) as u32,
            ]);
        }
        probes.extend([
            0,
            u32::MAX,
            0xcb00_7100,
            0xcb00_71ff,
            0xcb00_7200,
            0xc633_0000,
            0xc633_ffff,
        ]);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let t = table(&refs);
        assert!(t.v4.starts.len() >= FILTER_MIN_RANGES && !t.v4_listed.is_empty());
        let mut listed = 0;
        for a in probes {
            let got = t.lookup_v4(a);
            assert_eq!(got, t.v4.lookup(a), "{}", Ipv4Addr::from(a));
            listed += usize::from(got.is_some());
        }
        assert!(listed > 20_000, "{listed}");
        // A small table has no bitmap.
        assert!(table(&["10.0.0.0/8"]).v4_listed.is_empty());
    }

    #[test]
    fn cache_round_trip_and_damage() {
        let t = table(&["10.0.0.0/8", "2001:db8::/32", "10.1.0.0/16", "10.1.0.0/16"]);
        let dir = std::env::temp_dir().join(format!("sift-iptable-{}", std::process::id()));
        let p = cache_path(&dir, "k");
        save(&p, &t).unwrap();
        assert_eq!(load(&p), Some(t));
        let bytes = fs::read(&p).unwrap();
        for cut in [0, 8, 20, bytes.len() - 1] {
            fs::write(&p, &bytes[..cut]).unwrap();
            assert_eq!(load(&p), None, "cut at {cut}");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn list_lines() {
        assert_eq!(parse_line("  # c").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
        let (c, w) = parse_line("192.0.2.1/24 # x").unwrap().unwrap();
        assert_eq!(
            (c.to_string().as_str(), w),
            ("192.0.2.0/24", "192.0.2.1/24")
        );
        assert!(parse_line("192.0.2.1 192.0.2.2").is_err());
        assert!(parse_line("192.0.2.300").is_err());
    }
}
