//! Internationalized names as lists write them: a name in Unicode
//! (`пример.рф`) becomes its ASCII form (`xn--e1afmkfd.xn--p1ai`), the form
//! a client puts in a TLS SNI, a DNS query or an HTTP Host.
//!
//! A name with characters outside ASCII goes through UTS #46 processing
//! (the `idna` crate, nontransitional, as browsers do: no hyphen or DNS
//! length checks there, no ASCII deny list — sift's own name syntax checks
//! the result): its characters are mapped (case folded, full-width forms to
//! their usual form, ignored characters dropped, `。` and `．` as dots), the
//! name put in NFC, each label checked (disallowed characters, bidi and
//! joiner rules) and each Unicode label Punycode-encoded (RFC 3492) behind
//! `xn--`. `Bu\u{308}cher.de`, `BÜCHER.DE` and `bücher.de` are all
//! `xn--bcher-kva.de`; `faß.de` stays `xn--fa-hia.de` (not `fass.de`). A
//! name that UTS #46 refuses is an error. ASCII names are only lowercased.
//! Labels longer than a DNS label can be are refused before any of it
//! (names reach here from packets too).

/// Longest label (DNS's limit).
const MAX_LABEL: usize = 63;

/// `name` in ASCII: UTS #46 processing of a name with characters outside
/// ASCII, lowercase of an ASCII one. Err: what is wrong (a label too long,
/// a name UTS #46 refuses).
pub fn to_ascii(name: &str) -> Result<String, String> {
    if name.is_ascii() {
        return Ok(name.to_ascii_lowercase());
    }
    // Punycode's cost grows with the square of a label's length: a label
    // that cannot fit 63 bytes anyway (each character takes at least one
    // output byte) is refused before any processing — HTTP hosts reach
    // here from packets. Labels are split on every dot UTS #46 knows.
    if let Some(label) = name
        .split(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'])
        .find(|l| l.chars().count() > MAX_LABEL)
    {
        return Err(format!(
            "the label `{}…` is longer than a DNS label can be",
            label.chars().take(20).collect::<String>()
        ));
    }
    let ascii = idna::domain_to_ascii_cow(name.as_bytes(), idna::AsciiDenyList::EMPTY)
        .map_err(|_| format!("`{name}` is not a valid internationalized domain name (UTS #46)"))?;
    if let Some(label) = ascii.split('.').find(|l| l.len() > MAX_LABEL) {
        return Err(format!(
            "the label `{label}` is longer than 63 bytes in its xn-- form"
        ));
    }
    Ok(ascii.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3492_samples() {
        // RFC 3492 section 7.1, lowercased, as labels.
        for (label, want) in [
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("pročprostěnemluvíčesky", "proprostnemluvesky-uyb24dma41a"),
            (
                "почемужеонинеговорятпорусски",
                "b1abfaaepdrnnbgefbadotcwatmq2g4l",
            ),
        ] {
            assert_eq!(
                to_ascii(&format!("{label}.example")).unwrap(),
                format!("xn--{want}.example")
            );
        }
    }

    /// What the callers make of names in other forms: a registry mask,
    /// a rule's name, a URL host.
    #[test]
    fn registries_rules_and_urls_map_the_same_way() {
        use crate::rules::{registry, syntax, urls, NamePattern};
        let want = "xn--bcher-kva.de";
        assert_eq!(
            registry::domain_pattern("*.ＢＵ\u{308}ＣＨＥＲ．de"),
            Ok(NamePattern::Domain(want.into()))
        );
        assert_eq!(
            syntax::name_pattern("Bu\u{308}cher.de").map_err(|e| e.0),
            Ok(NamePattern::Exact(want.into()))
        );
        assert_eq!(
            urls::normalize("http://ＢÜCHER．de/x").as_deref(),
            Ok("http://xn--bcher-kva.de/x")
        );
        assert!(registry::domain_pattern("a\u{fffd}b.рф").is_err());
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
        // UTS #46: NFC, case folding, width mapping, other dots, ß kept,
        // ignored characters dropped (each checked against Python's
        // `idna` package with uts46=True).
        assert_eq!(to_ascii("Bu\u{308}cher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(to_ascii("BÜCHER.DE").unwrap(), "xn--bcher-kva.de");
        assert_eq!(to_ascii("ｅｘａｍｐｌｅ．ｃｏｍ").unwrap(), "example.com");
        assert_eq!(to_ascii("пример。рф").unwrap(), "xn--e1afmkfd.xn--p1ai");
        assert_eq!(to_ascii("faß.de").unwrap(), "xn--fa-hia.de");
        assert_eq!(to_ascii("ex\u{ad}ample.рф").unwrap(), "example.xn--p1ai");
        // Refused: a disallowed character, a label mixing directions.
        assert!(to_ascii("a\u{fffd}b.рф").is_err());
        assert!(to_ascii("\u{5d0}a\u{5d1}.com").is_err());
        // Long labels are refused without being encoded (a request's Host
        // can hold 16 KiB of anything).
        let long: String = (0..16_000u32)
            .filter_map(|i| char::from_u32(0x4e00 + i % 20_000))
            .collect();
        let t = std::time::Instant::now();
        assert!(to_ascii(&long).is_err());
        assert!(t.elapsed() < std::time::Duration::from_millis(100));
        // As many labels of the longest length as 16 KiB hold: linear.
        let label: String = (0..63u32)
            .filter_map(|i| char::from_u32(0x4e00 + i * 7))
            .collect();
        let many = vec![label; 90].join(".");
        let t = std::time::Instant::now();
        let _ = to_ascii(&many);
        assert!(t.elapsed() < std::time::Duration::from_millis(500));
    }
}
