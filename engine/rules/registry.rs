//! Registry dumps read as they are published: the semicolon-separated dump
//! widely mirrored for Russia's registry of banned resources.
//!
//! ```text
//! Updated: 2026-12-01 10:00:00 +0000
//! 192.0.2.1 | 198.51.100.0/24;example.com;http://example.com/page | https://example.com/x;Org;27-31-2020/Ид2971-20;2020-03-03
//! 2001:db8::7;*.example.net;;Org;2-1234/2021;2021-05-01
//! ```
//!
//! One record per line, six fields separated by `;`:
//!
//! | field | holds |
//! |---|---|
//! | 1 | addresses and blocks, IPv4 or IPv6, separated by ` \| ` (may be empty) |
//! | 2 | a domain: `example.com` (that name), `*.example.com` (read as `.example.com`: the domain and every name under it, as operators enforce such masks), Unicode or `xn--` (may be empty) |
//! | 3 | URLs separated by ` \| ` (may be empty) |
//! | 4 | the organisation that decided (may hold `;`: fields 4.. are joined until the last two) |
//! | 5 | the decision's number |
//! | 6 | the decision's date, `YYYY-MM-DD` |
//!
//! A first line starting with `Updated:` is the dump's date and is skipped,
//! as are blank lines. The file must be UTF-8 (convert a Windows-1251
//! mirror with `iconv -f cp1251 -t utf-8` first).
//!
//! Malformed lines are never dropped silently: each problem is a
//! [`Problem`] at file:line:col saying what was expected, and the number of
//! malformed lines is counted. A line whose structure is wrong (fewer than
//! six fields, no decision, a bad date, nothing to block) gives nothing; a
//! line with one bad address, domain or URL keeps its other items.

use std::io::{self, Write};

use hashbrown::HashMap;

use super::iplist::Prefix;
use super::urls::{self, UrlEntry};
use super::{idn, syntax, Cidr, NamePattern};

/// The decision that put a record in the registry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    pub number: String,
    pub date: String,
    pub org: String,
}

/// One malformed item or line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u32,
    /// Character column (from 1) and characters to underline.
    pub col: u32,
    pub len: usize,
    pub message: String,
    /// The line as read.
    pub text: String,
}

/// A dump read into address, name and URL lists.
#[derive(Debug, Default)]
pub struct Dump {
    pub prefixes: Vec<Prefix>,
    /// Name patterns and the record each came from.
    pub names: Vec<(NamePattern, u32)>,
    pub urls: Vec<UrlEntry>,
    /// Record → (line, decision).
    pub records: Vec<(u32, u32)>,
    pub decisions: Vec<Decision>,
    pub problems: Vec<Problem>,
    /// Lines with at least one problem.
    pub malformed_lines: u64,
}

/// Problems kept in full; the rest are only counted.
pub const MAX_PROBLEMS: usize = 100;

impl Dump {
    fn problem(&mut self, line: u32, raw: &str, part: &str, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                line,
                col: super::source::column_of(raw, part),
                len: part.chars().count().max(1),
                message,
                text: raw.to_string(),
            });
        }
    }

    /// The line and decision of a record.
    pub fn decision_of(&self, record: u32) -> Option<(u32, &Decision)> {
        let (line, d) = *self.records.get(record as usize)?;
        Some((line, self.decisions.get(d as usize)?))
    }
}

fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&d[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&d[8..10].parse::<u8>().unwrap_or(0))
}

/// Items of a ` | `-separated field, each a slice of the line.
fn items(field: &str) -> impl Iterator<Item = &str> {
    field.split('|').map(str::trim).filter(|s| !s.is_empty())
}

/// A registry domain as a name pattern: `*.x` is the domain and every
/// name under it.
pub fn domain_pattern(d: &str) -> Result<NamePattern, String> {
    let (wild, bare) = match d.strip_prefix("*.") {
        Some(b) => (true, b),
        None => (false, d),
    };
    let ascii = idn::to_ascii(bare)?;
    let p = syntax::name_pattern(&ascii).map_err(|(m, _)| m)?;
    Ok(match (wild, p) {
        (true, NamePattern::Exact(x)) => NamePattern::Domain(x),
        (false, p @ NamePattern::Exact(_)) => p,
        _ => return Err(format!("`{d}` is not a domain or a `*.` mask")),
    })
}

/// Reads a dump. `source` is stored in the entries it makes.
pub fn parse(text: &str, source: u16) -> Dump {
    let mut d = Dump::default();
    // Decisions by "number\0date\0org": most records share one.
    let mut interned: HashMap<String, u32> = HashMap::new();
    let mut key = String::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let t = raw.trim_end_matches('\r');
        if t.trim().is_empty() || (line == 1 && t.starts_with("Updated:")) {
            continue;
        }
        let problems_before = d.problems.len();
        let mut bad = false;
        let fields: Vec<&str> = t.split(';').collect();
        if fields.len() < 6 {
            d.problem(
                line,
                raw,
                t,
                format!(
                    "expected 6 fields separated by `;` (addresses;domain;URLs;organisation;decision;date), found {}",
                    fields.len()
                ),
            );
            d.malformed_lines += 1;
            continue;
        }
        let n = fields.len();
        let (number, date) = (fields[n - 2].trim(), fields[n - 1].trim());
        let org = &fields[3..n - 2];
        if number.is_empty() {
            d.problem(
                line,
                raw,
                fields[n - 2],
                "expected the decision's number in field 5".into(),
            );
            d.malformed_lines += 1;
            continue;
        }
        if !valid_date(date) {
            d.problem(
                line,
                raw,
                fields[n - 1],
                format!("expected the decision's date as YYYY-MM-DD in field 6, found `{date}`"),
            );
            d.malformed_lines += 1;
            continue;
        }
        let (addrs, domain, url_field) = (fields[0], fields[1].trim(), fields[2]);
        if items(addrs).next().is_none() && domain.is_empty() && items(url_field).next().is_none() {
            d.problem(
                line,
                raw,
                t,
                "a record with no address, domain or URL".into(),
            );
            d.malformed_lines += 1;
            continue;
        }
        key.clear();
        key.push_str(number);
        key.push('\0');
        key.push_str(date);
        for (k, part) in org.iter().enumerate() {
            key.push(if k == 0 { '\0' } else { ';' });
            key.push_str(part);
        }
        let di = match interned.get(key.as_str()) {
            Some(di) => *di,
            None => {
                let di = d.decisions.len() as u32;
                interned.insert(key.clone(), di);
                d.decisions.push(Decision {
                    number: number.to_string(),
                    date: date.to_string(),
                    org: org.join(";").trim().to_string(),
                });
                di
            }
        };
        let record = d.records.len() as u32;
        d.records.push((line, di));
        for a in items(addrs) {
            match Cidr::parse(a) {
                Ok(cidr) => d.prefixes.push(Prefix {
                    cidr,
                    source,
                    line,
                    record,
                }),
                Err(why) => {
                    bad = true;
                    d.problem(line, raw, a, format!("expected an address or block: {why}"));
                }
            }
        }
        if !domain.is_empty() {
            match domain_pattern(domain) {
                Ok(p) => d.names.push((p, record)),
                Err(why) => {
                    bad = true;
                    d.problem(line, raw, domain, format!("expected a domain: {why}"));
                }
            }
        }
        for u in url_field
            .split(" | ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match urls::normalize(u) {
                Ok(url) => d.urls.push(UrlEntry {
                    url,
                    prefix: false,
                    source,
                    line,
                    record,
                }),
                Err(why) => {
                    bad = true;
                    d.problem(line, raw, u, format!("expected a URL: {why}"));
                }
            }
        }
        if bad || d.problems.len() > problems_before {
            d.malformed_lines += 1;
        }
    }
    d
}

/// What a generated dump holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenSpec {
    pub addresses: u64,
    pub names: u64,
    pub urls: u64,
    /// Deliberately broken lines, of every kind in turn.
    pub broken: u64,
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    pub lines: u64,
    pub addresses: u64,
    pub names: u64,
    pub urls: u64,
    pub broken: u64,
}

/// The broken lines the generator writes, in turn.
const BROKEN: [&str; 6] = [
    "192.0.2.1 | 192.0.2.300;broken-address.example;;Org;1-1/2020;2020-01-01",
    "192.0.2.2;broken-fields.example;Org;2020-01-01",
    "192.0.2.3;broken-date.example;;Org;1-2/2020;2020-13-45",
    ";;;Org;1-3/2020;2020-01-01",
    "192.0.2.4;bad name.example;;Org;1-4/2020;2020-01-01",
    "192.0.2.5;broken-url.example;ftp://broken-url.example/x;Org;1-5/2020;2020-01-01",
];

/// Writes a dump for tests and benchmarks: `addresses` addresses and
/// blocks (IPv4 and IPv6, /20 to /24 blocks on one line in 20, IPv6 /48s
/// that repeat), `names`
/// domains (some `*.` masks, some in Cyrillic), `urls` URLs, over records
/// that share a few thousand decisions, plus `broken` malformed lines.
/// The same spec writes the same bytes.
pub fn generate(w: &mut impl Write, spec: &GenSpec) -> io::Result<GenStats> {
    let mut x = spec.seed | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut st = GenStats::default();
    writeln!(w, "Updated: 2026-12-01 00:00:00 +0000")?;
    st.lines += 1;
    let records = spec.addresses.max(spec.names).max(spec.urls);
    let every_broken = records
        .checked_div(spec.broken)
        .map_or(u64::MAX, |n| n.max(1));
    const WORDS: [&str; 8] = [
        "casino", "mirror", "proxy", "stream", "files", "news", "shop", "bet",
    ];
    const CYR: [&str; 4] = ["зеркало", "казино", "новости", "файлы"];
    const TLDS: [&str; 10] = [
        "ru", "com", "net", "org", "info", "su", "xyz", "io", "me", "top",
    ];
    let mut line = String::with_capacity(256);
    let mut i = 0u64;
    while st.addresses < spec.addresses || st.names < spec.names || st.urls < spec.urls {
        line.clear();
        let r = rnd();
        // Addresses: mostly one IPv4; some blocks, some IPv6, some pairs.
        if st.addresses < spec.addresses {
            let a = (r >> 8) as u32;
            match r % 20 {
                0 => line.push_str(&format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    a >> 16,
                    a & 0xffff,
                    r >> 48
                )),
                1 => line.push_str(&format!("2001:db8:{:x}::/48", a & 0xffff)),
                // One line in 20 a block of /20 to /24: with a million
                // lines they cover about 1 % of the IPv4 space, as real
                // registries' subnets do, not half of it.
                2 => {
                    let len = 20 + (r >> 40) as u32 % 5;
                    let net = a & (u32::MAX << (32 - len));
                    line.push_str(&format!("{}/{len}", std::net::Ipv4Addr::from(net)));
                }
                _ => line.push_str(&std::net::Ipv4Addr::from(a).to_string()),
            }
            st.addresses += 1;
            if r % 7 == 0 && st.addresses < spec.addresses {
                line.push_str(&format!(" | {}", std::net::Ipv4Addr::from(a ^ 0x55)));
                st.addresses += 1;
            }
        }
        line.push(';');
        // Varied labels and TLDs, as in real lists (and unique: the record
        // number is in the name).
        let r2 = rnd();
        let label: String = (0..4 + r2 % 8)
            .map(|k| char::from(b'a' + ((r2 >> (8 + 5 * k)) % 26) as u8))
            .collect();
        let host = format!(
            "{}{label}{i:x}.{}",
            WORDS[(r >> 3) as usize % WORDS.len()],
            TLDS[(r2 >> 4) as usize % TLDS.len()]
        );
        if st.names < spec.names {
            match (r >> 20) % 25 {
                0 => line.push_str(&format!("*.{host}")),
                1 => line.push_str(&format!("{}{i}.рф", CYR[(r >> 5) as usize % CYR.len()])),
                _ => line.push_str(&host),
            }
            st.names += 1;
        }
        line.push(';');
        // URLs spread over the records.
        let only_urls_left = st.addresses >= spec.addresses && st.names >= spec.names;
        if st.urls < spec.urls && (i * spec.urls / records.max(1) >= st.urls || only_urls_left) {
            line.push_str(&format!("http://{host}/page/{}?id={}", r % 1000, i));
            st.urls += 1;
        }
        let dec = (r >> 32) % 5000;
        line.push_str(&format!(
            ";Regulator {};{}-{}/20{:02};20{:02}-{:02}-{:02}",
            dec % 7,
            dec,
            dec % 97,
            12 + dec % 14,
            12 + dec % 14,
            1 + dec % 12,
            1 + dec % 28
        ));
        writeln!(w, "{line}")?;
        st.lines += 1;
        if st.broken < spec.broken && i % every_broken == every_broken / 2 {
            writeln!(w, "{}", BROKEN[st.broken as usize % BROKEN.len()])?;
            st.broken += 1;
            st.lines += 1;
        }
        i += 1;
    }
    while st.broken < spec.broken {
        writeln!(w, "{}", BROKEN[st.broken as usize % BROKEN.len()])?;
        st.broken += 1;
        st.lines += 1;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "Updated: 2026-12-01 10:00:00 +0000\n\
192.0.2.1 | 198.51.100.0/24;example.com;http://example.com/page | https://example.com/x;Org;27-31-2020/Ид2971-20;2020-03-03\n\
2001:db8::7;*.example.net;;Org; with a semicolon;2-1234/2021;2021-05-01\n\
;пример.рф;;Org;2-1234/2021;2021-05-01\n\
\n\
192.0.2.300 | 192.0.2.9;bad..name;http://ok.example/;Org;3/2022;2022-01-01\n\
192.0.2.10;x.example;;Org;4/2022;2022-02-30x\n\
192.0.2.11;x.example;Org;2022-01-01\n";

    #[test]
    fn reads_records_and_reports_problems() {
        let d = parse(DUMP, 0);
        let cidrs: Vec<String> = d.prefixes.iter().map(|p| p.cidr.to_string()).collect();
        assert_eq!(
            cidrs,
            ["192.0.2.1", "198.51.100.0/24", "2001:db8::7", "192.0.2.9"]
        );
        let names: Vec<String> = d.names.iter().map(|(p, _)| p.describe()).collect();
        assert_eq!(
            names,
            ["example.com", ".example.net", "xn--e1afmkfd.xn--p1ai"]
        );
        let urls: Vec<&str> = d.urls.iter().map(|u| u.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://example.com/page",
                "https://example.com/x",
                "http://ok.example/"
            ]
        );
        // Decisions are shared and carried per record.
        assert_eq!(d.decisions.len(), 4);
        let (line, dec) = d.decision_of(d.prefixes[0].record).unwrap();
        assert_eq!(line, 2);
        assert_eq!(
            (dec.number.as_str(), dec.date.as_str()),
            ("27-31-2020/Ид2971-20", "2020-03-03")
        );
        let (_, dec) = d.decision_of(d.names[1].1).unwrap();
        assert_eq!(dec.org, "Org; with a semicolon");
        // Three malformed lines: two bad items on line 6, a bad date on 7,
        // too few fields on 8.
        assert_eq!(d.malformed_lines, 3);
        let where_: Vec<(u32, u32)> = d.problems.iter().map(|p| (p.line, p.col)).collect();
        assert_eq!(where_, [(6, 1), (6, 25), (7, 34), (8, 1)]);
        assert!(
            d.problems[0].message.contains("192.0.2.300"),
            "{:?}",
            d.problems[0]
        );
        assert!(d.problems[2].message.contains("YYYY-MM-DD"));
        assert!(d.problems[3].message.contains("expected 6 fields"));
    }

    #[test]
    fn any_text_reads_without_panic() {
        let alphabet: Vec<char> = ";|.*-/: 0123456789abcdef\nрф\u{0}x:ffff".chars().collect();
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300 {
            let text: String = (0..(next() % 400))
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let d = parse(&text, 0);
            assert!(d.problems.len() <= MAX_PROBLEMS);
            for (_, rec) in &d.names {
                assert!(d.decision_of(*rec).is_some());
            }
        }
    }

    #[test]
    fn generated_dump_holds_what_was_asked() {
        let spec = GenSpec {
            addresses: 3000,
            names: 2000,
            urls: 500,
            broken: 12,
            seed: 7,
        };
        let mut out = Vec::new();
        let st = generate(&mut out, &spec).unwrap();
        assert_eq!(
            (st.addresses, st.names, st.urls, st.broken),
            (3000, 2000, 500, 12)
        );
        let mut again = Vec::new();
        generate(&mut again, &spec).unwrap();
        assert_eq!(out, again, "the same spec writes the same bytes");
        let d = parse(std::str::from_utf8(&out).unwrap(), 0);
        // Every broken line is reported; the good ones all read. Broken
        // lines holding a good address or name keep it.
        assert_eq!(d.problems.len(), 12, "{:?}", &d.problems);
        assert_eq!(d.malformed_lines, 12);
        let kept_from_broken = d
            .prefixes
            .iter()
            .filter(|p| p.cidr.to_string().starts_with("192.0.2."))
            .count();
        assert_eq!(d.prefixes.len() as u64, 3000 + kept_from_broken as u64);
        assert!(d.names.len() as u64 >= 2000);
        assert_eq!(d.urls.len(), 500);
        assert!(d.decisions.len() < 5000);
    }
}
