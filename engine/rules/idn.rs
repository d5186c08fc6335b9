//! Internationalized names as lists write them: a label in Unicode
//! (`пример.рф`) becomes its ASCII form (`xn--e1afmkfd.xn--p1ai`), the form
//! a client puts in a TLS SNI, a DNS query or an HTTP Host.
//!
//! Each label with characters outside ASCII is lowercased (Unicode's
//! lowercase mapping) and encoded with Punycode (RFC 3492), prefixed
//! `xn--`. This is the common core of IDNA, not all of UTS #46: no NFC
//! normalization and no mapping tables beyond lowercase, so a list should
//! hold names as users type them in their usual form. ASCII labels are
//! only lowercased.

const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 0x80;

/// Longest label Punycode output may make (DNS's limit is 63).
const MAX_LABEL: usize = 63;

fn digit(d: u32) -> char {
    // 0..25 are a..z, 26..35 are 0..9.
    if d < 26 {
        char::from(b'a' + d as u8)
    } else {
        char::from(b'0' + (d - 26) as u8)
    }
}

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (((BASE - T_MIN + 1) * delta) / (delta + SKEW))
}

/// The Punycode of one label (without `xn--`). None on overflow.
pub fn punycode(label: &str) -> Option<String> {
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let mut n = INITIAL_N;
    let mut delta: u32 = 0;
    let mut bias = INITIAL_BIAS;
    let mut h = basic;
    let total = input.len() as u32;
    while h < total {
        let m = *input.iter().filter(|c| **c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(h + 1)?)?;
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, h + 1, h == basic);
                delta = 0;
                h += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(out)
}

/// `name` in ASCII: Unicode labels lowercased and Punycode-encoded.
/// Err: what is wrong (a label too long once encoded).
pub fn to_ascii(name: &str) -> Result<String, String> {
    if name.is_ascii() {
        return Ok(name.to_ascii_lowercase());
    }
    let mut out = String::with_capacity(name.len() * 2);
    for (i, label) in name.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_ascii() {
            out.push_str(&label.to_ascii_lowercase());
            continue;
        }
        // Punycode's cost grows with the square of a label's length: a
        // label that cannot fit 63 bytes anyway (each character takes at
        // least one output byte) is refused before encoding — HTTP hosts
        // reach here from packets.
        if label.chars().count() > MAX_LABEL {
            return Err(format!(
                "the label `{}…` is longer than a DNS label can be",
                label.chars().take(20).collect::<String>()
            ));
        }
        let lower = label.to_lowercase();
        let enc = punycode(&lower).ok_or_else(|| format!("cannot encode the label `{label}`"))?;
        if enc.len() + 4 > MAX_LABEL {
            return Err(format!(
                "the label `{label}` is longer than 63 bytes in its xn-- form"
            ));
        }
        out.push_str("xn--");
        out.push_str(&enc);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3492_samples() {
        // RFC 3492 section 7.1, lowercased.
        assert_eq!(
            punycode("ليهمابتكلموشعربي؟").as_deref(),
            Some("egbpdaj6bu4bxfgehfvwxn")
        );
        assert_eq!(
            punycode("他们为什么不说中文").as_deref(),
            Some("ihqwcrb4cv8a8dqg056pqjye")
        );
        assert_eq!(
            punycode("pročprostěnemluvíčesky").as_deref(),
            Some("proprostnemluvesky-uyb24dma41a")
        );
        assert_eq!(
            punycode("почемужеонинеговорятпорусски").as_deref(),
            Some("b1abfaaepdrnnbgefbadotcwatmq2g4l")
        );
    }

    #[test]
    fn names() {
        assert_eq!(to_ascii("пример.рф").unwrap(), "xn--e1afmkfd.xn--p1ai");
        assert_eq!(to_ascii("ПРИМЕР.РФ").unwrap(), "xn--e1afmkfd.xn--p1ai");
        assert_eq!(to_ascii("www.Bücher.de").unwrap(), "www.xn--bcher-kva.de");
        assert_eq!(to_ascii("Example.COM").unwrap(), "example.com");
        assert_eq!(
            to_ascii("xn--e1afmkfd.xn--p1ai").unwrap(),
            "xn--e1afmkfd.xn--p1ai"
        );
        assert!(to_ascii(&"ж".repeat(60)).is_err());
        // Long labels are refused without being encoded (a request's Host
        // can hold 16 KiB of anything).
        let long: String = (0..16_000u32)
            .filter_map(|i| char::from_u32(0x4e00 + i % 20_000))
            .collect();
        let t = std::time::Instant::now();
        assert!(to_ascii(&long).is_err());
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
    }
}
