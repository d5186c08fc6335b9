//! URLs as rules and lists write them and as HTTP requests carry them,
//! both brought to one form the way a browser would write the URL:
//!
//! - scheme and host lowercase, the host without a trailing dot, a
//!   Unicode host in its `xn--` form (see [`super::idn`]);
//! - no user info, no default port (80 for `http`, 443 for `https`);
//! - an empty path is `/`; `.` and `..` segments are resolved;
//! - percent-encoding made canonical: `%XX` of an unreserved character
//!   (letters, digits, `-._~`) is the character itself, other escapes get
//!   uppercase hex digits, and bytes a browser would escape (controls,
//!   space, `"<>\`{}`, anything outside ASCII) are escaped;
//! - the fragment (`#...`) is dropped: it never reaches the server.
//!
//! An HTTP request's URL is `http://` + its Host (or the authority of an
//! absolute-form target) + the server port unless 80 + the target. A URL
//! rule can only see plain HTTP: an `https://` URL never matches a request
//! (the path is encrypted); its host is still a name a registry lists.
//!
//! A [`UrlList`] holds exact URLs and prefixes (`http://example.com/dir/*`),
//! grouped by scheme and authority: a request costs one hash lookup for the
//! exact URLs and a check of the prefixes of its own host.

use hashbrown::{HashMap, HashSet};

use super::idn;

/// `url` in canonical form. Err: what is wrong with it.
pub fn normalize(url: &str) -> Result<String, String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not a URL: expected http:// or https://"))?;
    let (scheme, default_port) = if scheme.eq_ignore_ascii_case("http") {
        ("http", 80)
    } else if scheme.eq_ignore_ascii_case("https") {
        ("https", 443)
    } else {
        return Err(format!(
            "`{}` URLs cannot be matched: only http and https",
            scheme.to_ascii_lowercase()
        ));
    };
    let rest = rest.split('#').next().unwrap_or("");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let authority = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = split_host_port(authority)?;
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let host = if host.starts_with('[') {
        host.to_ascii_lowercase()
    } else {
        idn::to_ascii(host)?
    };
    if host
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || b"-_.[]:".contains(&b)))
    {
        return Err(format!("`{host}` is not a host name or address"));
    }
    let mut out = String::with_capacity(url.len() + 8);
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(&host);
    if let Some(p) = port.filter(|p| *p != default_port) {
        out.push(':');
        out.push_str(&p.to_string());
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let start = out.len();
    escape_into(&mut out, path);
    // `.` and `..` segments (only ever after a `/`) resolved; a path
    // without them stays as it is.
    if out[start..].contains("/.") {
        let clean = clean_path(&out[start..]);
        out.truncate(start);
        out.push_str(&clean);
    } else if out.len() == start {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        escape_into(&mut out, q);
    }
    Ok(out)
}

/// `host` and the port of an authority (`[v6]:port` included).
fn split_host_port(a: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if a.starts_with('[') {
        match a.find(']') {
            Some(i) => (&a[..=i], a[i + 1..].strip_prefix(':')),
            None => return Err(format!("`{a}`: unclosed `[`")),
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port"))?,
        ),
    };
    Ok((host, port))
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Bytes a browser escapes in a path or query.
fn must_escape(b: u8) -> bool {
    b <= 0x20 || b >= 0x7f || matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}')
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// Canonical percent-encoding of a path or query, appended to `out`.
fn escape_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let b = s.as_bytes();
    if !b.iter().any(|&c| c == b'%' || must_escape(c)) {
        out.push_str(s);
        return;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                let v = h << 4 | l;
                if unreserved(v) {
                    out.push(char::from(v));
                } else {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(v >> 4)]));
                    out.push(char::from(HEX[usize::from(v & 15)]));
                }
                i += 3;
                continue;
            }
        }
        if must_escape(c) {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push(char::from(c));
        }
        i += 1;
    }
}

/// The path with `.` and `..` segments resolved; `/` when empty.
fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return "/".into();
    }
    let mut segs: Vec<&str> = Vec::new();
    let parts: Vec<&str> = p.split('/').skip(1).collect();
    let n = parts.len();
    for (i, s) in parts.into_iter().enumerate() {
        let last = i + 1 == n;
        match s {
            "." => {
                if last {
                    segs.push("");
                }
            }
            ".." => {
                segs.pop();
                if last {
                    segs.push("");
                }
            }
            s => segs.push(s),
        }
    }
    let mut out = String::with_capacity(p.len());
    for s in segs {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The origin (`http://host[:port]`, canonical) of the URL
/// [`request_url`] makes of the same request, written into `out` (cleared
/// first; false if the request names no resource), found without
/// canonicalizing the whole target when the host is a plain lowercase
/// name: most requests are of origins no list holds, and their URLs need
/// not be made.
pub fn request_origin(target: &str, host: Option<&str>, port: u16, out: &mut String) -> bool {
    let plain = |h: &str| {
        !h.is_empty()
            && !h.ends_with('.')
            && h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    out.clear();
    match host {
        Some(h) if target.starts_with('/') && plain(h) => {
            out.push_str("http://");
            out.push_str(h);
            if port != 80 {
                use std::fmt::Write as _;
                let _ = write!(out, ":{port}");
            }
            true
        }
        _ => match request_url(target, host, port) {
            Some(u) => {
                out.push_str(origin(&u));
                true
            }
            None => false,
        },
    }
}

/// The URL of an HTTP request: its target (origin-form `/path`, whatever
/// its query holds, or absolute-form `http://host/path`), Host and server
/// port. None for targets that name no resource (`*`, CONNECT's
/// `host:port`).
pub fn request_url(target: &str, host: Option<&str>, port: u16) -> Option<String> {
    if !target.starts_with('/') {
        return if target.contains("://") {
            normalize(target).ok()
        } else {
            None
        };
    }
    let host = host?;
    let url = if port == 80 {
        format!("http://{host}{target}")
    } else {
        format!("http://{host}:{port}{target}")
    };
    normalize(&url).ok()
}

/// One URL of a list or rule, and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlEntry {
    /// Canonical form (without the `*` of a prefix).
    pub url: String,
    pub prefix: bool,
    pub source: u16,
    pub line: u32,
    /// The registry record it belongs to, or `u32::MAX`.
    pub record: u32,
}

impl UrlEntry {
    /// As a rule writes it.
    pub fn describe(&self) -> String {
        if self.prefix {
            format!("{}*", self.url)
        } else {
            self.url.clone()
        }
    }
}

/// Parses a URL as a rule or list writes it: a trailing `*` makes it a
/// prefix. Err: what is wrong.
pub fn parse_pattern(s: &str) -> Result<(String, bool), String> {
    let (u, prefix) = match s.strip_suffix('*') {
        Some(u) => (u, true),
        None => (s, false),
    };
    let mut n = normalize(u)?;
    // `http://example.com*` is a prefix of the authority: keep it without
    // the `/` normalize added.
    if prefix && !u.trim_end().ends_with('/') && n.ends_with('/') && !has_path(u) {
        n.pop();
    }
    Ok((n, prefix))
}

fn has_path(u: &str) -> bool {
    u.split_once("://")
        .is_some_and(|(_, r)| r.contains('/') || r.contains('?'))
}

/// The `scheme://authority` part of a canonical URL.
fn origin(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
}

/// Exact URLs and prefixes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UrlList {
    pub entries: Vec<UrlEntry>,
    exact: HashMap<String, u32>,
    /// Prefixes by origin, longest first.
    prefixes: HashMap<String, Vec<u32>>,
    /// The origins of the exact URLs (the prefixes' are the keys above).
    exact_origins: HashSet<String>,
    /// Entries that repeat an earlier one.
    pub duplicates: u64,
}

impl UrlList {
    pub fn build(entries: Vec<UrlEntry>) -> UrlList {
        let mut l = UrlList::default();
        for e in entries {
            let i = l.entries.len() as u32;
            if e.prefix {
                let v = l.prefixes.entry(origin(&e.url).to_string()).or_default();
                if v.iter().any(|j| l.entries[*j as usize].url == e.url) {
                    l.duplicates += 1;
                    continue;
                }
                v.push(i);
            } else {
                if l.exact.contains_key(&e.url) {
                    l.duplicates += 1;
                    continue;
                }
                l.exact.insert(e.url.clone(), i);
                l.exact_origins.insert(origin(&e.url).to_string());
            }
            l.entries.push(e);
        }
        for v in l.prefixes.values_mut() {
            let entries = &l.entries;
            v.sort_by_key(|j| std::cmp::Reverse(entries[*j as usize].url.len()));
        }
        l.entries.shrink_to_fit();
        l
    }

    /// The entry `url` (canonical) matches: the exact URL, else the
    /// longest prefix.
    pub fn lookup(&self, url: &str) -> Option<&UrlEntry> {
        if let Some(i) = self.exact.get(url) {
            return self.entries.get(*i as usize);
        }
        let v = self.prefixes.get(origin(url))?;
        v.iter()
            .map(|i| &self.entries[*i as usize])
            .find(|e| url.starts_with(e.url.as_str()))
    }

    /// Some entry is a URL of `origin` (`scheme://host[:port]`,
    /// canonical): a request of another origin cannot match.
    pub fn has_origin(&self, origin: &str) -> bool {
        self.exact_origins.contains(origin) || self.prefixes.contains_key(origin)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).unwrap()
    }

    #[test]
    fn canonical_form() {
        assert_eq!(n("HTTP://WWW.Example.COM"), "http://www.example.com/");
        assert_eq!(
            n("http://www.example.com.:80/a"),
            "http://www.example.com/a"
        );
        assert_eq!(n("https://example.com:443/"), "https://example.com/");
        assert_eq!(n("http://example.com:8080/"), "http://example.com:8080/");
        assert_eq!(n("https://example.com:80/"), "https://example.com:80/");
        assert_eq!(n("http://user:pw@example.com/x"), "http://example.com/x");
        assert_eq!(n("http://example.com/a#frag"), "http://example.com/a");
        assert_eq!(n("http://example.com?q=1"), "http://example.com/?q=1");
        assert_eq!(n("http://[2001:DB8::1]:80/"), "http://[2001:db8::1]/");
        assert_eq!(
            n("http://[2001:db8::1]:8080/"),
            "http://[2001:db8::1]:8080/"
        );
    }

    #[test]
    fn percent_encoding() {
        // Unreserved escapes are decoded; others get uppercase hex.
        assert_eq!(n("http://e.com/%7Euser/%61"), "http://e.com/~user/a");
        assert_eq!(n("http://e.com/a%2fb"), "http://e.com/a%2Fb");
        assert_eq!(n("http://e.com/a%2Fb"), "http://e.com/a%2Fb");
        // What a browser escapes.
        assert_eq!(n("http://e.com/a b"), "http://e.com/a%20b");
        assert_eq!(
            n("http://e.com/файл"),
            "http://e.com/%D1%84%D0%B0%D0%B9%D0%BB"
        );
        assert_eq!(
            n("http://e.com/%d1%84%D0%B0%D0%B9%D0%BB"),
            "http://e.com/%D1%84%D0%B0%D0%B9%D0%BB"
        );
        assert_eq!(n("http://e.com/?q=<x>"), "http://e.com/?q=%3Cx%3E");
        // A lone % stays.
        assert_eq!(n("http://e.com/100%"), "http://e.com/100%");
    }

    #[test]
    fn dot_segments() {
        assert_eq!(n("http://e.com/a/./b/../c"), "http://e.com/a/c");
        assert_eq!(n("http://e.com/a/.."), "http://e.com/");
        assert_eq!(n("http://e.com/../../x"), "http://e.com/x");
        assert_eq!(n("http://e.com/a/%2e%2E/b"), "http://e.com/b");
    }

    #[test]
    fn idn_hosts() {
        assert_eq!(
            n("http://Пример.РФ/путь"),
            "http://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"
        );
        assert_eq!(
            n("http://xn--e1afmkfd.xn--p1ai/"),
            "http://xn--e1afmkfd.xn--p1ai/"
        );
    }

    #[test]
    fn refused() {
        assert!(normalize("ftp://e.com/").is_err());
        assert!(normalize("e.com/x").is_err());
        assert!(normalize("http:///x").is_err());
        assert!(normalize("http://e.com:99999/").is_err());
        assert!(normalize("http://e com/").is_err());
    }

    #[test]
    fn requests() {
        assert_eq!(
            request_url("/a/../b?x=%41", Some("www.example.test"), 80).as_deref(),
            Some("http://www.example.test/b?x=A")
        );
        assert_eq!(
            request_url("/", Some("example.test"), 8080).as_deref(),
            Some("http://example.test:8080/")
        );
        assert_eq!(
            request_url("http://Other.Test/x", Some("example.test"), 3128).as_deref(),
            Some("http://other.test/x")
        );
        // An origin-form target is a path whatever its query holds.
        assert_eq!(
            request_url("/r?u=http://x.test/", Some("e.test"), 80).as_deref(),
            Some("http://e.test/r?u=http://x.test/")
        );
        assert_eq!(request_url("*", Some("e.test"), 80), None);
        assert_eq!(request_url("e.test:443", Some("e.test"), 80), None);
        assert_eq!(request_url("/", None, 80), None);
    }

    #[test]
    fn hostile_requests_never_panic() {
        // Targets and hosts as packets may carry them: any bytes (read
        // lossily as UTF-8), brackets, colons, percent signs, long runs.
        let alphabet: Vec<char> = "/%:[]@?#.aZ9-~ \u{0}\u{7f}é\u{4e00}\u{10ffff}*"
            .chars()
            .collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let host: String = s.chars().rev().collect();
            let _ = normalize(&s);
            let _ = normalize(&format!("http://{s}"));
            let _ = request_url(&format!("/{s}"), Some(&host), (next() % 65536) as u16);
            let _ = request_url(&s, Some(&s), 80);
            let _ = parse_pattern(&format!("https://{s}*"));
            // The origin found without the whole URL is the URL's.
            for (target, port) in [(format!("/{s}"), 80), (s.clone(), 8080)] {
                for h in [
                    host.as_str(),
                    "www.e-x.test",
                    "e.test.",
                    "E.test",
                    "e.test:81",
                ] {
                    let whole = request_url(&target, Some(h), port);
                    let mut o = String::from("stale");
                    let found = request_origin(&target, Some(h), port, &mut o);
                    assert_eq!(
                        found.then_some(o),
                        whole.as_deref().map(|u| origin(u).to_string()),
                        "{target:?} {h:?} {port}"
                    );
                }
            }
        }
        let long = format!("/{}", "%zz/../".repeat(3000));
        assert!(request_url(&long, Some("e.test"), 80).is_some());
    }

    #[test]
    fn lists() {
        let e = |s: &str, line| {
            let (url, prefix) = parse_pattern(s).unwrap();
            UrlEntry {
                url,
                prefix,
                source: 0,
                line,
                record: u32::MAX,
            }
        };
        let l = UrlList::build(vec![
            e("http://e.com/a", 1),
            e("http://e.com/dir/*", 2),
            e("http://e.com/dir/sub/*", 3),
            e("HTTP://E.COM:80/a", 4),
            e("http://x.com*", 5),
        ]);
        assert_eq!(l.duplicates, 1);
        assert!(l.has_origin("http://e.com") && l.has_origin("http://x.com"));
        assert!(!l.has_origin("http://e.com:8080") && !l.has_origin("http://y.com"));
        let hit = |u: &str| l.lookup(&n(u)).map(|e| e.line);
        assert_eq!(hit("http://e.com/a"), Some(1));
        assert_eq!(hit("http://e.com/a/"), None);
        assert_eq!(hit("http://e.com/dir/x"), Some(2));
        assert_eq!(hit("http://e.com/dir/sub/x"), Some(3));
        assert_eq!(hit("http://e.com/dirx"), None);
        assert_eq!(hit("https://e.com/a"), None);
        assert_eq!(hit("http://x.com/anything"), Some(5));
        assert_eq!(hit("http://x.com:8080/"), None);
    }
}
