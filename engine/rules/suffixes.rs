//! Exact, domain and subdomain name patterns in one hash table, looked up
//! by the name and by each of its label suffixes.
//!
//! A name `a.b.example.com` can match such a pattern only as itself (an
//! exact or domain pattern `a.b.example.com`) or by a suffix that starts
//! after one of its dots (`b.example.com`, `example.com`, `com`: a domain
//! or subdomain pattern). So a lookup is one probe for the name and one per
//! dot, however many patterns the rules hold: for a registry's million
//! names, a few memory reads instead of scans of Hyperscan databases of
//! hundreds of thousands of literals each (which `names` still uses for
//! content patterns and regexes).
//!
//! The hash runs over a name's labels from the last to the first (each
//! label eight bytes a step), so each suffix's hash is a step on the way
//! to the whole name's: one pass over the name.
//! Names are compared ASCII case-insensitively, as the patterns are
//! (stored lowercase). The table is built while the rules load (a million
//! names in about a tenth of a second), never from packet bytes: its size
//! is the rules', and a lookup's cost is the name's length.

use super::names::Target;
use super::NamePattern;

/// A key matches the name itself.
const WHOLE: u8 = 1;
/// A key matches the names under it.
const UNDER: u8 = 2;

/// What a pattern asks of a key, None for patterns this table does not
/// hold (content patterns, regexes).
pub fn reach(p: &NamePattern) -> Option<(&str, u8)> {
    match p {
        NamePattern::Exact(x) => Some((x, WHOLE)),
        NamePattern::Domain(x) => Some((x, WHOLE | UNDER)),
        NamePattern::Subdomains(x) => Some((x, UNDER)),
        NamePattern::Contains { .. } | NamePattern::Regex(_) => None,
    }
}

/// One distinct key: its text in [`SuffixTable::text`] and the first of
/// its targets (they run to the next key's first).
#[derive(Clone, Copy, Debug)]
struct Key {
    at: usize,
    len: usize,
    first: u32,
}

/// The exact, domain and subdomain patterns of a rule set.
#[derive(Debug, Default)]
pub struct SuffixTable {
    /// Open addressing with linear probing, at most half full: a slot is
    /// 0 (empty) or the key's hash tag (high half) and its index + 1.
    slots: Vec<u64>,
    keys: Vec<Key>,
    /// Every key's text, one after another.
    text: Vec<u8>,
    /// The targets of each key in pattern order, with what each asks.
    targets: Vec<(Target, u8)>,
    /// The most labels a key has: a name's suffixes of more labels (and
    /// the name, if it has more) are neither hashed nor probed — a DNS
    /// tunnel's long first labels cost nothing.
    max_labels: usize,
    /// For a table of [`FILTER_MIN_KEYS`] keys or more, a filter in front
    /// of the slots: a 64-bit word per eight keys, each key setting three
    /// bits of one word. Nearly every suffix a name is probed with is no
    /// key; the filter turns it away with one read of an array 16 times
    /// smaller than the slots, which stays in the caches, instead of a
    /// cache miss in megabytes of slots (a few percent of suffixes get
    /// through anyway and are probed as before). Built at load, never
    /// stored.
    filter: Vec<u64>,
}

/// Keys from which a table keeps its [`SuffixTable::filter`]: below it the
/// slots are few enough to stay in the caches.
const FILTER_MIN_KEYS: usize = 1 << 16;

/// The filter word (before masking) and the three bits of mixed hash `m`:
/// bits of the hash apart from those the word is chosen by.
#[inline]
fn filter_bits(m: u64) -> (usize, u64) {
    let bits = (1 << ((m >> 40) & 63)) | (1 << ((m >> 46) & 63)) | (1 << ((m >> 52) & 63));
    (m as usize, bits)
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Eight bytes with their ASCII capitals made lowercase (other bytes kept).
#[inline]
fn lower8(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = w & LOW7;
    // Per byte: high bit set iff `b` >= 'A', iff `b` > 'Z'.
    let ge_a = b + 0x3f3f_3f3f_3f3f_3f3f;
    let gt_z = b + 0x2525_2525_2525_2525;
    let upper = ge_a & !gt_z & !w & HIGH;
    w | (upper >> 2)
}

/// The hash of one label (bytes between dots), eight bytes a step.
#[inline]
fn label_hash(label: &[u8]) -> u64 {
    let mut h = label.len() as u64;
    let mut words = label.chunks_exact(8);
    for c in &mut words {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ lower8(w)).wrapping_mul(K).rotate_left(31);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h ^ lower8(u64::from_le_bytes(b)))
            .wrapping_mul(K)
            .rotate_left(31);
    }
    h
}

/// The hash of a name whose labels after this one hash to `h` (a suffix
/// is hashed label by label from the last, so each suffix's hash is a
/// step on the way to the whole name's).
#[inline]
fn push_label(h: u64, label: &[u8]) -> u64 {
    (h ^ label_hash(label))
        .wrapping_mul(0xd6e8_feb8_6659_fd93)
        .rotate_left(17)
}

/// The hash of `text` (its labels from the last).
fn hash(text: &[u8]) -> u64 {
    text.rsplit(|b| *b == b'.').fold(SEED, push_label)
}

/// A hash's bits spread over the whole word.
#[inline]
fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    h ^ (h >> 32)
}

impl SuffixTable {
    /// The table of `patterns` (target and pattern, in rule order; those
    /// [`reach`] does not take are skipped).
    pub fn build<'p>(patterns: impl Iterator<Item = (Target, &'p NamePattern)>) -> SuffixTable {
        let mut t = SuffixTable::default();
        // Each pattern's key index, then the targets grouped by key.
        let mut found: Vec<(u32, Target, u8)> = Vec::new();
        let mut want = Vec::new();
        for (target, p) in patterns {
            if let Some((text, r)) = reach(p) {
                want.push((target, text, r));
            }
        }
        let capacity = (want.len() * 2).next_power_of_two().max(16);
        t.slots = vec![0; capacity];
        let mut hashes = Vec::new();
        for (target, text, r) in want {
            let m = mix(hash(text.as_bytes()));
            let k = t.insert(text.as_bytes(), m);
            if k as usize == hashes.len() {
                hashes.push(m);
            }
            found.push((k, target, r));
        }
        if hashes.len() >= FILTER_MIN_KEYS {
            t.filter = vec![0; (hashes.len() / 8).next_power_of_two()];
            let mask = t.filter.len() - 1;
            for m in hashes {
                let (word, bits) = filter_bits(m);
                t.filter[word & mask] |= bits;
            }
        }
        // Targets in key order, pattern order kept within a key.
        let mut counts = vec![0u32; t.keys.len() + 1];
        for (k, _, _) in &found {
            counts[*k as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        for (key, first) in t.keys.iter_mut().zip(&counts) {
            key.first = *first;
        }
        let mut next = counts.clone();
        let placeholder = Target {
            rule: 0,
            cond: 0,
            pattern: 0,
        };
        t.targets = vec![(placeholder, 0); found.len()];
        for (k, target, r) in found {
            let at = &mut next[k as usize];
            t.targets[*at as usize] = (target, r);
            *at += 1;
        }
        t.keys.push(Key {
            at: t.text.len(),
            len: 0,
            first: t.targets.len() as u32,
        });
        t
    }

    /// The index of key `text` (mixed hash `m`), added if new.
    fn insert(&mut self, text: &[u8], m: u64) -> u32 {
        match self.find(m, text) {
            Ok(k) => k as u32,
            Err(slot) => {
                let k = self.keys.len() as u32;
                self.keys.push(Key {
                    at: self.text.len(),
                    len: text.len(),
                    first: 0,
                });
                self.text.extend(text.iter().map(u8::to_ascii_lowercase));
                let labels = 1 + memchr::memchr_iter(b'.', text).count();
                self.max_labels = self.max_labels.max(labels);
                self.slots[slot] = ((m >> 32) << 32) | u64::from(k + 1);
                k
            }
        }
    }

    /// Key `text` (mixed hash `m`): Ok(its index), or Err(the empty slot
    /// where it would go).
    #[inline]
    fn find(&self, m: u64, text: &[u8]) -> Result<usize, usize> {
        let tag = m >> 32;
        let mask = self.slots.len() - 1;
        let mut i = m as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Err(i);
            }
            if s >> 32 == tag {
                let k = (s as u32 - 1) as usize;
                if self.key_is(k, text) {
                    return Ok(k);
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn key_is(&self, k: usize, text: &[u8]) -> bool {
        let key = self.keys[k];
        key.len == text.len() && self.text[key.at..key.at + key.len].eq_ignore_ascii_case(text)
    }

    /// Distinct keys.
    pub fn len(&self) -> usize {
        self.keys.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Patterns held.
    pub fn patterns(&self) -> usize {
        self.targets.len()
    }

    /// Bytes the table takes in memory.
    pub fn bytes(&self) -> usize {
        self.slots.len() * 8
            + self.filter.len() * 8
            + self.keys.len() * std::mem::size_of::<Key>()
            + self.text.len()
            + self.targets.len() * std::mem::size_of::<(Target, u8)>()
    }

    /// Calls `hit` with every pattern `name` matches: those of the name
    /// itself first, then those of its suffixes, longest first (the most
    /// specific entry first); within a key, in pattern order. `suffixes`
    /// is scratch space.
    pub fn lookup(
        &self,
        name: &[u8],
        suffixes: &mut Vec<(u64, usize)>,
        hit: &mut dyn FnMut(Target),
    ) {
        if self.is_empty() {
            return;
        }
        suffixes.clear();
        let mut h = SEED;
        let mut end = name.len();
        let mut whole = true;
        // Labels are short: a word's dots are found at once, not by a
        // vector search started for each.
        for dot in crate::bytes::each_back(name, b'.') {
            if suffixes.len() == self.max_labels {
                whole = false; // longer than every key
                break;
            }
            h = push_label(h, &name[dot + 1..end]);
            suffixes.push((h, dot + 1));
            end = dot;
        }
        if whole && suffixes.len() < self.max_labels {
            self.probe(push_label(h, &name[..end]), name, WHOLE, hit);
        }
        for &(h, at) in suffixes.iter().rev() {
            self.probe(h, &name[at..], UNDER, hit);
        }
    }

    /// The targets of key `text` (hash `h`) that ask for `want`.
    #[inline]
    fn probe(&self, h: u64, text: &[u8], want: u8, hit: &mut dyn FnMut(Target)) {
        let m = mix(h);
        if !self.filter.is_empty() {
            let (word, bits) = filter_bits(m);
            if self.filter[word & (self.filter.len() - 1)] & bits != bits {
                return;
            }
        }
        let Ok(k) = self.find(m, text) else {
            return;
        };
        let (from, to) = (self.keys[k].first, self.keys[k + 1].first);
        for (t, r) in &self.targets[from as usize..to as usize] {
            if r & want != 0 {
                hit(*t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::wireguard::controls::XorShift;

    fn target(rule: u32) -> Target {
        Target {
            rule,
            cond: 0,
            pattern: 0,
        }
    }

    fn table(patterns: &[NamePattern]) -> SuffixTable {
        SuffixTable::build(
            patterns
                .iter()
                .enumerate()
                .map(|(i, p)| (target(i as u32), p)),
        )
    }

    fn hits(t: &SuffixTable, name: &str) -> Vec<u32> {
        let mut v = Vec::new();
        t.lookup(name.as_bytes(), &mut Vec::new(), &mut |x| v.push(x.rule));
        v
    }

    fn p(s: &str) -> NamePattern {
        crate::rules::syntax::name_pattern(s).unwrap()
    }

    #[test]
    fn kinds_match_on_label_boundaries() {
        let t = table(&[p("example.com"), p(".example.com"), p("*.example.com")]);
        assert_eq!(hits(&t, "example.com"), vec![0, 1]);
        assert_eq!(hits(&t, "www.example.com"), vec![1, 2]);
        assert_eq!(hits(&t, "a.b.example.com"), vec![1, 2]);
        assert_eq!(hits(&t, "EXAMPLE.Com"), vec![0, 1]);
        for miss in [
            "badexample.com",
            "example.co",
            "xample.com",
            "example.com.evil.net",
            "com",
            "",
        ] {
            assert!(hits(&t, miss).is_empty(), "{miss}");
        }
        // Empty labels and a leading dot: the suffix after any dot counts.
        assert_eq!(hits(&t, "a..example.com"), vec![1, 2]);
        assert_eq!(hits(&t, ".example.com"), vec![1, 2]);
    }

    #[test]
    fn most_specific_key_first_and_pattern_order_within_a_key() {
        let t = table(&[
            p(".com"),
            p(".example.com"),
            p("www.example.com"),
            p("*.example.com"),
            p(".www.example.com"),
        ]);
        assert_eq!(hits(&t, "www.example.com"), vec![2, 4, 1, 3, 0]);
        assert_eq!(hits(&t, "x.www.example.com"), vec![4, 1, 3, 0]);
    }

    #[test]
    fn lower8_is_ascii_lowercase_of_every_byte() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"AzZa@[`{";
                bytes[at] = b;
                let want = bytes.map(|c| c.to_ascii_lowercase());
                assert_eq!(
                    lower8(u64::from_le_bytes(bytes)),
                    u64::from_le_bytes(want),
                    "{b} at {at}"
                );
            }
        }
        // Names longer than a word and differing only in case.
        let t = table(&[
            p("averyveryverylonglabel.example"),
            p(".Sub-Domain.Example"),
        ]);
        assert_eq!(hits(&t, "AVeryVeryVeryLongLabel.EXAMPLE"), vec![0]);
        assert_eq!(hits(&t, "x.SUB-domain.example"), vec![1]);
        assert!(hits(&t, "averyveryverylonglabek.example").is_empty());
    }

    #[test]
    fn duplicates_keep_every_target() {
        let t = table(&[p("a.example"), p("A.Example"), p(".a.example")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.patterns(), 3);
        assert_eq!(hits(&t, "a.example"), vec![0, 1, 2]);
        assert_eq!(hits(&t, "b.a.example"), vec![2]);
    }

    #[test]
    fn content_patterns_and_regexes_are_not_held() {
        let t = table(&[
            NamePattern::Regex("^a$".into()),
            NamePattern::Contains {
                text: "a".into(),
                start: true,
                end: true,
            },
        ]);
        assert!(t.is_empty());
        assert!(hits(&t, "a").is_empty());
    }

    /// A table large enough for its filter: every key is still found,
    /// under its domains too, names that are no key find nothing, and the
    /// filter turns most of those away before the slots.
    #[test]
    fn the_filter_loses_no_key() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15u64);
        let mut rnd = move |n| rng.below(n);
        let name = |rnd: &mut dyn FnMut(u64) -> u64| -> String {
            let label = |rnd: &mut dyn FnMut(u64) -> u64| -> String {
                (0..3 + rnd(10))
                    .map(|_| char::from(b'a' + rnd(26) as u8))
                    .collect()
            };
            format!(
                "{}.{}",
                label(rnd),
                ["ru", "com", "xn--p1ai", "org"][rnd(4) as usize]
            )
        };
        let listed: std::collections::HashSet<String> =
            (0..100_000).map(|_| name(&mut rnd)).collect();
        let keys: Vec<&String> = listed.iter().collect();
        let patterns: Vec<NamePattern> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                if i % 2 == 0 {
                    NamePattern::Exact(k.to_string())
                } else {
                    NamePattern::Domain(k.to_string())
                }
            })
            .collect();
        let t = table(&patterns);
        assert!(t.filter.len() >= keys.len() / 8, "{}", t.filter.len());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(hits(&t, k), [i as u32], "{k}");
            let under = format!("www.{}", k.to_ascii_uppercase());
            let want: &[u32] = if i % 2 == 0 { &[] } else { &[i as u32] };
            assert_eq!(hits(&t, &under), want, "{under}");
        }
        let mut passed = 0;
        let mut probes = 0;
        for _ in 0..20_000 {
            let n = name(&mut rnd);
            if listed.contains(&n) {
                continue;
            }
            assert!(hits(&t, &n).is_empty(), "{n}");
            let m = mix(hash(n.as_bytes()));
            let (word, bits) = filter_bits(m);
            probes += 1;
            passed += usize::from(t.filter[word & (t.filter.len() - 1)] & bits == bits);
        }
        assert!(
            passed * 10 < probes,
            "{passed} of {probes} passed the filter"
        );
    }

    /// Against the definition, on random names over a small alphabet (so
    /// that names and patterns collide often), with a table of many keys.
    #[test]
    fn agrees_with_the_definition() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1du64);
        let mut rnd = move |n| rng.below(n);
        // Patterns of 1 to 3 labels, names of 1 to 6 (more than any key).
        let word = |rnd: &mut dyn FnMut(u64) -> u64, most: u64| -> String {
            let labels = 1 + rnd(most);
            (0..labels)
                .map(|_| {
                    let len = 1 + rnd(2);
                    (0..len)
                        .map(|_| ['a', 'b', 'C'][rnd(3) as usize])
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join(".")
        };
        let mut patterns = Vec::new();
        for _ in 0..3000 {
            let w = word(&mut rnd, 3).to_ascii_lowercase();
            patterns.push(match rnd(3) {
                0 => NamePattern::Exact(w),
                1 => NamePattern::Domain(w),
                _ => NamePattern::Subdomains(w),
            });
        }
        let t = table(&patterns);
        for _ in 0..3000 {
            let name = word(&mut rnd, 6);
            let lower = name.to_ascii_lowercase();
            let mut want: Vec<u32> = patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| match p {
                    NamePattern::Exact(x) => lower == *x,
                    NamePattern::Domain(x) => lower == *x || lower.ends_with(&format!(".{x}")),
                    NamePattern::Subdomains(x) => lower.ends_with(&format!(".{x}")),
                    _ => false,
                })
                .map(|(i, _)| i as u32)
                .collect();
            let mut got = hits(&t, &name);
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{name}");
        }
    }
}
