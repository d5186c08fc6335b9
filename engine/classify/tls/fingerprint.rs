//! The fingerprints of a ClientHello: JA3 (string and MD5) and JA4 (and
//! JA4_r), GREASE left out as their specifications say.

use super::*;

impl ClientHello {
    /// The JA3 string (Salesforce): SSLVersion,Ciphers,Extensions,
    /// EllipticCurves,EllipticCurvePointFormats — decimal values joined by
    /// `-`, GREASE values left out everywhere.
    pub fn ja3_string(&self) -> String {
        let mut s = String::with_capacity(256);
        push_decimal(&mut s, self.legacy_version);
        s.push(',');
        join_decimal(&mut s, self.cipher_suites.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.extensions.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.supported_groups.iter().copied());
        s.push(',');
        join_decimal(&mut s, self.ec_point_formats.iter().map(|&f| u16::from(f)));
        s
    }

    /// MD5 of [`ja3_string`](Self::ja3_string), lowercase hex.
    pub fn ja3_hash(&self) -> String {
        ja3_hash_of(&self.ja3_string())
    }

    /// The JA4 fingerprint (FoxIO JA4 specification), e.g.
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`. `quic` selects the `q`
    /// prefix (the hello came in QUIC CRYPTO frames) over `t`.
    pub fn ja4(&self, quic: bool) -> String {
        let p = self.ja4_parts(quic);
        let b = if p.ciphers.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.ciphers)
        };
        let c = if p.extensions.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.extensions_and_signatures())
        };
        format!("{}_{}_{}", p.a, b, c)
    }

    /// [`ja4`](Self::ja4) and [`ja4_r`](Self::ja4_r) together, sharing the work.
    pub fn ja4_and_raw(&self, quic: bool) -> (String, String) {
        let p = self.ja4_parts(quic);
        let ext_sig = p.extensions_and_signatures();
        let b = if p.ciphers.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&p.ciphers)
        };
        let c = if p.extensions.is_empty() {
            JA4_EMPTY_HASH.to_owned()
        } else {
            sha256_12(&ext_sig)
        };
        (
            format!("{}_{}_{}", p.a, b, c),
            format!("{}_{}_{}", p.a, p.ciphers, ext_sig),
        )
    }

    /// JA4_r: the same parts before hashing (sorted ciphers; sorted
    /// extensions without SNI and ALPN; signature algorithms in wire order).
    pub fn ja4_r(&self, quic: bool) -> String {
        let p = self.ja4_parts(quic);
        format!("{}_{}_{}", p.a, p.ciphers, p.extensions_and_signatures())
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

    pub(super) fn ja4_parts(&self, quic: bool) -> Ja4Parts {
        let mut ciphers: Vec<u16> = self
            .cipher_suites
            .iter()
            .copied()
            .filter(|&c| !is_grease(c))
            .collect();
        let extensions: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|&e| !is_grease(e))
            .collect();

        let mut a = String::with_capacity(10);
        a.push(if quic { 'q' } else { 't' });
        a.push_str(ja4_version_code(self.ja4_version()));
        a.push(if self.has_sni_extension() { 'd' } else { 'i' });
        let _ = write!(
            a,
            "{:02}{:02}",
            ciphers.len().min(99),
            extensions.len().min(99)
        );
        let [first, last] = ja4_alpn_chars(&self.alpn_first_raw);
        a.push(first);
        a.push(last);

        ciphers.sort_unstable();
        let mut sorted: Vec<u16> = extensions
            .into_iter()
            .filter(|&e| e != ExtensionType::SERVER_NAME.0 && e != ExtensionType::ALPN.0)
            .collect();
        sorted.sort_unstable();
        Ja4Parts {
            a,
            ciphers: join_hex4(ciphers.iter().copied()),
            extensions: join_hex4(sorted.iter().copied()),
            signatures: join_hex4(
                self.signature_algorithms
                    .iter()
                    .copied()
                    .filter(|&s| !is_grease(s)),
            ),
        }
    }
}

/// JA4's hash of an empty list.
pub(super) const JA4_EMPTY_HASH: &str = "000000000000";

pub(super) struct Ja4Parts {
    pub(super) a: String,
    pub(super) ciphers: String,
    pub(super) extensions: String,
    pub(super) signatures: String,
}

impl Ja4Parts {
    /// `extensions_signatures`, or only the extensions when no signature
    /// algorithms were sent (no trailing underscore).
    pub(super) fn extensions_and_signatures(&self) -> String {
        if self.signatures.is_empty() {
            self.extensions.clone()
        } else {
            format!("{}_{}", self.extensions, self.signatures)
        }
    }
}

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
pub(super) fn join_decimal(out: &mut String, values: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in values.filter(|&v| !is_grease(v)) {
        if !first {
            out.push('-');
        }
        first = false;
        push_decimal(out, v);
    }
}

/// Appends `v` in decimal (no `fmt` machinery: this runs once per field of
/// every hello).
pub(super) fn push_decimal(out: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = v;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

pub(super) const HEX: &[u8; 16] = b"0123456789abcdef";

/// Values as 4-digit lowercase hex, joined by `,`.
pub(super) fn join_hex4(values: impl Iterator<Item = u16>) -> String {
    let mut out = String::with_capacity(values.size_hint().0 * 5);
    for v in values {
        if !out.is_empty() {
            out.push(',');
        }
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((v >> shift) & 0xf)]));
        }
    }
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The JA3 hash (MD5, lowercase hex) of a JA3 string.
pub fn ja3_hash_of(ja3_string: &str) -> String {
    hex(&md5::Md5::digest(ja3_string.as_bytes()))
}

/// The first 12 hex characters of SHA-256.
pub(super) fn sha256_12(s: &str) -> String {
    let digest = sha2::Sha256::digest(s.as_bytes());
    hex(digest.get(..6).unwrap_or(&[]))
}
