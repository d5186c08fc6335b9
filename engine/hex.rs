//! Bytes and numbers written as lowercase hexadecimal digits, the form
//! EVE's escapes, the TLS fingerprints, NetBIOS names' suffixes and the
//! rule caches' digest names use.
//! (URLs' percent-escapes are uppercase and written where URLs are.)

/// The sixteen digits, lowercase.
pub const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The two digits of `b`.
#[inline]
pub fn pair(b: u8) -> [u8; 2] {
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]
}

/// `bytes` as text, two digits a byte (digests written as names).
pub fn string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let [hi, lo] = pair(b);
        out.extend([char::from(hi), char::from(lo)]);
    }
    out
}

/// The four digits of `v`.
#[inline]
pub fn quad(v: u16) -> [u8; 4] {
    let [hi, lo] = v.to_be_bytes();
    let ([a, b], [c, d]) = (pair(hi), pair(lo));
    [a, b, c, d]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte and a spread of 16-bit values as `format!` writes them.
    #[test]
    fn digits_are_formats_lowercase_hex() {
        for b in 0..=255u8 {
            assert_eq!(pair(b), format!("{b:02x}").as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        let want: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(string(&all), want);
        assert_eq!(string(&[]), "");
        for v in (0..=u16::MAX).step_by(257).chain([0x0a0b, 0xfffe, 0xffff]) {
            assert_eq!(quad(v), format!("{v:04x}").as_bytes());
        }
    }
}
