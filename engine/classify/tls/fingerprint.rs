//! The fingerprints of a ClientHello: JA3 (string and MD5) and JA4 (and
//! JA4_r), GREASE left out as their specifications say.
//!
//! A flow's record carries all four, and computing them (two SHA-256, an
//! MD5, some hundred numbers written out) cost more than the rest of
//! reading a hello; yet the hellos of a network come from a few client
//! stacks, each sending the same lists on every connection. So the four
//! are remembered per thread ([`ClientHello::fingerprints`]) for the
//! hellos seen last, keyed by everything they are computed from.

use std::cell::RefCell;
use std::sync::Arc;

use smallvec::SmallVec;

use super::*;

/// A hello's four fingerprints, as a flow's record writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fingerprints {
    pub ja3_string: String,
    pub ja3_hash: String,
    pub ja4: String,
    pub ja4_r: String,
}

/// Remembered fingerprints: sets of two entries, chosen by a hash of the
/// hello's inputs; a new hello replaces the entry of its set used less
/// recently. 512 sets of entries of at most [`MEMO_KEY_MAX`] inputs bound
/// what a thread holds to about 2.5 MB whatever the traffic (a few
/// hundred KB for real hellos); a hello with longer lists is computed
/// every time. The nDPI corpus's 1,007 hellos are 268 distinct ones.
const MEMO_SETS: usize = 512;

/// Inputs (16-bit values and list lengths) a remembered hello may have
/// (a browser's hello has about 80).
const MEMO_KEY_MAX: usize = 160;

/// Everything the fingerprints are computed from, flattened: the QUIC
/// flag, the legacy version, then each list behind its length (GREASE
/// values as one).
type MemoKey = SmallVec<[u16; 128]>;

struct MemoEntry {
    key: Box<[u16]>,
    fingerprints: Arc<Fingerprints>,
}

#[derive(Default)]
struct MemoSet {
    ways: [Option<MemoEntry>; 2],
    /// The way used last.
    last: usize,
}

#[derive(Default)]
struct Memo {
    sets: Vec<MemoSet>,
    /// Lookups answered and not (for tests).
    hits: u64,
    misses: u64,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

impl ClientHello {
    /// JA3 (string and hash), JA4 and JA4_r, remembered per thread: a
    /// hello with the same inputs as one seen recently shares its
    /// fingerprints (no copy of the four strings); any other is computed
    /// (and remembered).
    pub fn fingerprints(&self, quic: bool) -> Arc<Fingerprints> {
        let Some(key) = self.memo_key(quic) else {
            return Arc::new(self.compute_fingerprints(quic));
        };
        let set = memo_set(&key);
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if memo.sets.is_empty() {
                memo.sets.resize_with(MEMO_SETS, MemoSet::default);
            }
            let s = &mut memo.sets[set];
            let hit = s.ways.iter().enumerate().find_map(|(way, e)| {
                let e = e.as_ref().filter(|e| *e.key == *key)?;
                Some((way, e.fingerprints.clone()))
            });
            if let Some((way, fingerprints)) = hit {
                s.last = way;
                memo.hits += 1;
                return fingerprints;
            }
            memo.misses += 1;
            let fingerprints = Arc::new(self.compute_fingerprints(quic));
            let s = &mut memo.sets[set];
            s.last = 1 - s.last;
            s.ways[s.last] = Some(MemoEntry {
                key: key.as_slice().into(),
                fingerprints: fingerprints.clone(),
            });
            fingerprints
        })
    }

    /// The four fingerprints, computed.
    pub fn compute_fingerprints(&self, quic: bool) -> Fingerprints {
        let (ja4, ja4_r) = self.ja4_and_raw(quic);
        let ja3_string = self.ja3_string();
        Fingerprints {
            ja3_hash: ja3_hash_of(&ja3_string),
            ja3_string,
            ja4,
            ja4_r,
        }
    }

    /// The memo's key of this hello; None when its lists are too long to
    /// be remembered. Every GREASE value is written as one (0x0a0a): no
    /// fingerprint reads which it was, and a client draws new ones for
    /// each connection.
    fn memo_key(&self, quic: bool) -> Option<MemoKey> {
        let lists = [
            self.cipher_suites.len(),
            self.extensions.len(),
            self.supported_groups.len(),
            self.ec_point_formats.len(),
            self.signature_algorithms.len(),
            self.supported_versions.len(),
            self.alpn_first_raw.len(),
        ];
        if 2 + lists.len() + lists.iter().sum::<usize>() > MEMO_KEY_MAX {
            return None;
        }
        let mut key = MemoKey::new();
        key.push(u16::from(quic));
        key.push(self.legacy_version);
        for list in [
            &self.cipher_suites,
            &self.extensions,
            &self.supported_groups,
            &self.signature_algorithms,
            &self.supported_versions,
        ] {
            key.push(list.len() as u16);
            key.extend(list.iter().map(|&v| if is_grease(v) { 0x0a0a } else { v }));
        }
        for bytes in [&self.ec_point_formats, &self.alpn_first_raw] {
            key.push(bytes.len() as u16);
            key.extend(bytes.iter().map(|&b| u16::from(b)));
        }
        Some(key)
    }

    /// The JA3 string (Salesforce): SSLVersion,Ciphers,Extensions,
    /// EllipticCurves,EllipticCurvePointFormats — decimal values joined by
    /// `-`, GREASE values left out everywhere.
    pub fn ja3_string(&self) -> String {
        // Built as bytes (every one ASCII), made a string once.
        let values = 1
            + self.cipher_suites.len()
            + self.extensions.len()
            + self.supported_groups.len()
            + self.ec_point_formats.len();
        let mut s = Vec::with_capacity(values * 6 + 4);
        push_decimal(&mut s, self.legacy_version);
        s.push(b',');
        join_decimal(&mut s, self.cipher_suites.iter().copied());
        s.push(b',');
        join_decimal(&mut s, self.extensions.iter().copied());
        s.push(b',');
        join_decimal(&mut s, self.supported_groups.iter().copied());
        s.push(b',');
        join_decimal(&mut s, self.ec_point_formats.iter().map(|&f| u16::from(f)));
        ascii(s)
    }

    /// MD5 of [`ja3_string`](Self::ja3_string), lowercase hex.
    pub fn ja3_hash(&self) -> String {
        ja3_hash_of(&self.ja3_string())
    }

    /// The JA4 fingerprint (FoxIO JA4 specification), e.g.
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`. `quic` selects the `q`
    /// prefix (the hello came in QUIC CRYPTO frames) over `t`.
    pub fn ja4(&self, quic: bool) -> String {
        self.ja4_and_raw(quic).0
    }

    /// JA4_r: the same parts before hashing (sorted ciphers; sorted
    /// extensions without SNI and ALPN; signature algorithms in wire order).
    pub fn ja4_r(&self, quic: bool) -> String {
        self.ja4_and_raw(quic).1
    }

    /// [`ja4`](Self::ja4) and [`ja4_r`](Self::ja4_r) together: JA4_r is
    /// written first, each string at its final size, and JA4 hashes its
    /// parts in place (every TLS and QUIC flow's record carries both).
    pub fn ja4_and_raw(&self, quic: bool) -> (String, String) {
        // Sorted copies of the lists, on the stack up to 64 values each
        // (browsers send fewer; a longer list spills to the heap).
        let mut ciphers = without_grease(&self.cipher_suites);
        ciphers.sort_unstable();
        let mut extensions = without_grease(&self.extensions);
        // Counted with SNI and ALPN, listed without them.
        let extension_count = extensions.len();
        extensions.retain(|e| *e != ExtensionType::SERVER_NAME.0 && *e != ExtensionType::ALPN.0);
        extensions.sort_unstable();
        let signatures = self.signature_algorithms.iter().filter(|&&s| !is_grease(s));
        let signature_count = signatures.clone().count();

        // `a`: protocol, version, SNI, counts, ALPN.
        let mut a = [0u8; 10];
        a[0] = if quic { b'q' } else { b't' };
        a[1..3].copy_from_slice(ja4_version_code(self.ja4_version()).as_bytes());
        a[3] = if self.has_sni_extension() { b'd' } else { b'i' };
        for (at, n) in [(4, ciphers.len()), (6, extension_count)] {
            let n = n.min(99) as u8;
            a[at] = b'0' + n / 10;
            a[at + 1] = b'0' + n % 10;
        }
        let [first, last] = ja4_alpn_chars(&self.alpn_first_raw);
        a[8] = first as u8; // ASCII: alphanumerics or hex digits
        a[9] = last as u8;

        // Built as bytes (every one ASCII), made strings once.
        let list = |n: usize| (n * 5).saturating_sub(1);
        let mut raw = Vec::with_capacity(
            a.len()
                + 2
                + list(ciphers.len())
                + 1
                + list(extensions.len())
                + 1
                + list(signature_count),
        );
        raw.extend_from_slice(&a);
        raw.push(b'_');
        let ciphers_at = raw.len();
        push_hex4_list(&mut raw, ciphers.iter().copied());
        let ciphers_end = raw.len();
        raw.push(b'_');
        let extensions_at = raw.len();
        push_hex4_list(&mut raw, extensions.iter().copied());
        // `extensions_signatures`, or the extensions alone when no
        // signature algorithm was sent (no trailing underscore).
        if signature_count > 0 {
            raw.push(b'_');
            push_hex4_list(&mut raw, signatures.copied());
        }

        let mut ja4 = Vec::with_capacity(a.len() + 26);
        ja4.extend_from_slice(&a);
        ja4.push(b'_');
        push_sha256_12(&mut ja4, &raw[ciphers_at..ciphers_end]);
        ja4.push(b'_');
        if extensions.is_empty() {
            ja4.extend_from_slice(JA4_EMPTY_HASH.as_bytes());
        } else {
            push_sha256_12(&mut ja4, &raw[extensions_at..]);
        }
        (ascii(ja4), ascii(raw))
    }

    /// The version JA4 reports: the highest non-GREASE supported_versions
    /// entry when that extension was sent, else legacy_version.
    pub(super) fn ja4_version(&self) -> u16 {
        if !self.has_extension(ExtensionType::SUPPORTED_VERSIONS) {
            return self.legacy_version;
        }
        self.supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .max()
            .unwrap_or(self.legacy_version)
    }
}

/// `list` without its GREASE values, on the stack up to 64 values.
fn without_grease(list: &[u16]) -> SmallVec<[u16; 64]> {
    list.iter().copied().filter(|&v| !is_grease(v)).collect()
}

/// JA4's hash of an empty list.
pub(super) const JA4_EMPTY_HASH: &str = "000000000000";

pub(super) fn ja4_version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4's two ALPN characters: the first and last byte of the first ALPN
/// name when both are ASCII alphanumerics; otherwise the first and last
/// characters of that name's hex form; `00` when there is none. A one-byte
/// name gives its character twice.
pub(super) fn ja4_alpn_chars(name: &[u8]) -> [char; 2] {
    let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
        return ['0', '0'];
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        [char::from(first), char::from(last)]
    } else {
        [hex_digit(first >> 4), hex_digit(last & 0x0f)]
    }
}

pub(super) fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// Non-GREASE values in decimal, joined by `-`.
pub(super) fn join_decimal(out: &mut Vec<u8>, values: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in values.filter(|&v| !is_grease(v)) {
        if !first {
            out.push(b'-');
        }
        first = false;
        push_decimal(out, v);
    }
}

/// Appends `v` in decimal (no `fmt` machinery: this runs once per field of
/// every hello). The digits are gathered in a word, the first in its low
/// byte, and written with one copy of a fixed size.
#[inline]
pub(super) fn push_decimal(out: &mut Vec<u8>, v: u16) {
    let (mut word, mut digits, mut rest) = (0u64, 0, v);
    loop {
        word = (word << 8) | u64::from(b'0' + (rest % 10) as u8);
        digits += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let len = out.len();
    out.extend_from_slice(&word.to_le_bytes()[..5]);
    out.truncate(len + digits);
}

/// Text built of ASCII bytes as a string.
fn ascii(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends values as 4-digit lowercase hex, joined by `,`.
fn push_hex4_list(out: &mut Vec<u8>, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&crate::hex::quad(v));
    }
}

/// The memo's set of a key: a multiplicative hash of its values (the key
/// is compared whole, so a collision costs a computation, never a wrong
/// answer).
fn memo_set(key: &[u16]) -> usize {
    let h = key.iter().fold(0u64, |h, &v| {
        (h ^ u64::from(v))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(23)
    });
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MEMO_SETS.trailing_zeros())) as usize
}

/// The calling thread's memo lookups so far: answered, computed.
#[cfg(test)]
pub(super) fn memo_counts() -> (u64, u64) {
    MEMO.with(|m| {
        let m = m.borrow();
        (m.hits, m.misses)
    })
}

/// The JA3 hash (MD5, lowercase hex) of a JA3 string.
pub fn ja3_hash_of(ja3_string: &str) -> String {
    crate::hex::string(&md5::Md5::digest(ja3_string.as_bytes()))
}

/// Appends the first 12 hex characters of the SHA-256 of `s`; an empty
/// `s` is JA4's [`JA4_EMPTY_HASH`].
fn push_sha256_12(out: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() {
        out.extend_from_slice(JA4_EMPTY_HASH.as_bytes());
        return;
    }
    let digest = sha2::Sha256::digest(s);
    for b in &digest[..6] {
        out.extend_from_slice(&crate::hex::pair(*b));
    }
}
