//! What the reader knows of Suricata's rule language: the option and
//! sticky-buffer tables, the protocol names, and the helpers that turn a
//! content into name patterns.

use super::*;

/// One option of a rule: `key;` or `key:value;`, as character ranges of
/// the rule's [`Text`] (the value without surrounding whitespace).
pub(super) struct Opt {
    pub(super) key: String,
    pub(super) k0: usize,
    pub(super) k1: usize,
    pub(super) val: Option<(usize, usize)>,
}

/// A sticky buffer as the rule selected it.
pub(super) struct Buffer {
    pub(super) source: Source,
    pub(super) dotprefix: bool,
    /// Whether a content, pcre or bsize used it yet (`dotprefix` must
    /// come before them).
    pub(super) used: bool,
    /// Inclusive byte lengths, in terms of the buffer (with the dot
    /// `dotprefix` adds), and where `bsize`'s value is.
    pub(super) bsize: Option<(usize, usize, usize, usize)>,
}

pub(super) struct Content {
    pub(super) buffer: usize,
    /// Lowercased.
    pub(super) text: String,
    /// As written, when it had uppercase letters.
    pub(super) upper: Option<String>,
    pub(super) nocase: bool,
    pub(super) start: bool,
    pub(super) end: bool,
    /// The value, from `content:` up to the closing quote.
    pub(super) v0: usize,
    pub(super) v1: usize,
}

/// The conditions of the options, in the order the rule writes them.
pub(super) enum Item {
    Content(usize),
    Regex(Source, String),
    App(Vec<AppProto>),
    Length(usize),
}

pub(super) const HEADER: &str =
    "a rule is `action proto src_addr src_port -> dst_addr dst_port (options)`";
pub(super) const NOT_HINT: &str =
    "sift rules cannot say \"not\"; a `pass` rule can carve out exceptions, as it goes first";
pub(super) const BUFFERS: &str = "`tls.sni`, `quic.sni`, `dns.query` or `http.host`";
pub(super) const SUPPORTED: [&str; 21] = [
    "msg",
    "sid",
    "rev",
    "priority",
    "classtype",
    "metadata",
    "reference",
    "flow",
    "tls.sni",
    "quic.sni",
    "dns.query",
    "http.host",
    "content",
    "nocase",
    "startswith",
    "endswith",
    "dotprefix",
    "bsize",
    "pcre",
    "fast_pattern",
    "app-layer-protocol",
];
pub(super) const SIFT_APPS: &str =
    "http, tls, quic, dns, openvpn, wireguard, ike, esp, ah, mdns, llmnr, nbns, ipsec (ike, esp, ah), vpn (all five)";
/// Application protocols Suricata knows and sift does not classify.
pub(super) const OTHER_APPS: [&str; 31] = [
    "ftp",
    "ftp-data",
    "smb",
    "dcerpc",
    "ssh",
    "smtp",
    "imap",
    "pop3",
    "modbus",
    "dnp3",
    "enip",
    "nfs",
    "krb5",
    "bittorrent-dht",
    "ntp",
    "dhcp",
    "rfb",
    "rdp",
    "snmp",
    "tftp",
    "sip",
    "http2",
    "mqtt",
    "pgsql",
    "telnet",
    "websocket",
    "ldap",
    "doh2",
    "mdns",
    "llmnr",
    "mysql",
];
pub(super) const FIELDS: [&str; 7] = [
    "a rule action",
    "a protocol",
    "a source address",
    "a source port",
    "`->` or `<>`",
    "a destination address",
    "a destination port",
];

/// What a header field holds, for messages.
#[derive(Clone, Copy)]
pub(super) struct Kind {
    pub(super) name: &'static str,
    pub(super) plural: &'static str,
    /// With its article.
    pub(super) one: &'static str,
}

pub(super) const ADDRESS: Kind = Kind {
    name: "address",
    plural: "addresses",
    one: "an address",
};
pub(super) const PORT: Kind = Kind {
    name: "port",
    plural: "ports",
    one: "a port",
};

/// The protocols sift classifies for an application protocol name
/// (Suricata's `http1` and `ikev2` too).
pub(super) fn app_of(w: &str) -> Option<&'static [AppProto]> {
    match w {
        "http1" => app_values("http"),
        "ikev2" => app_values("ike"),
        w => app_values(w),
    }
}

/// `s` is a name as rules write one exactly (`example.com`), so a pattern
/// on it can be an exact, domain or subdomain pattern.
pub(super) fn is_name(s: &str) -> bool {
    matches!(name_pattern(s), Ok(NamePattern::Exact(x)) if x == s)
}

/// The name patterns that match where a content (lowercase) matches the
/// buffer, with its anchors. With `dotprefix` the buffer is `.` + the name.
/// None: the content can never match.
pub(super) fn content_patterns(
    text: &str,
    start: bool,
    end: bool,
    dotprefix: bool,
) -> Option<Vec<NamePattern>> {
    use NamePattern::{Contains, Domain, Exact, Subdomains};
    let contains = |t: &str, start: bool, end: bool| Contains {
        text: t.to_string(),
        start,
        end,
    };
    if !dotprefix {
        return Some(vec![match (start, end) {
            (true, true) if is_name(text) => Exact(text.to_string()),
            (false, true) => match text.strip_prefix('.') {
                Some(d) if is_name(d) => Subdomains(d.to_string()),
                _ => contains(text, false, true),
            },
            _ => contains(text, start, end),
        }]);
    }
    let Some(rest) = text.strip_prefix('.') else {
        // The buffer starts with the added dot and this content does not:
        // it can only match inside the name, never at its start.
        return (!start).then(|| vec![contains(text, false, end)]);
    };
    // `.rest` matches at the buffer's start (the name starts with `rest`)
    // or further in (the name holds `.rest`).
    Some(match (start, end) {
        (true, true) if is_name(rest) => vec![Exact(rest.to_string())],
        (true, true) => vec![contains(rest, true, true)],
        (true, false) => vec![contains(rest, true, false)],
        (false, true) if is_name(rest) => vec![Domain(rest.to_string())],
        (false, true) => vec![contains(rest, true, true), contains(text, false, true)],
        (false, false) => vec![contains(rest, true, false), contains(text, false, false)],
    })
}

/// A `bsize` value as inclusive bounds. Err: message and hint.
pub(super) fn bsize_bounds(raw: &str) -> Result<(u64, u64), (String, Option<String>)> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let forms = || Some("`bsize:N`, `<N`, `<=N`, `>N`, `>=N` or `N<>M` (exclusive)".to_string());
    let num = |t: &str| -> Result<u64, (String, Option<String>)> {
        let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None if t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok(),
            None => None,
        };
        n.ok_or_else(|| (format!("`{t}` is not a length"), forms()))
    };
    if s.starts_with('!') {
        return Err((
            "negated `bsize` is not supported".into(),
            Some(NOT_HINT.into()),
        ));
    }
    let range = s.split_once("<>").or_else(|| {
        // Newer Suricata writes ranges `N-M`.
        s.split_once('-').filter(|(a, _)| !a.is_empty())
    });
    if let Some((a, b)) = range {
        let (a, b) = (num(a)?, num(b)?);
        if b < a.saturating_add(2) {
            return Err((
                format!("`bsize:{raw}` allows no length"),
                Some("ranges are exclusive: `5<>8` means 6 or 7".into()),
            ));
        }
        return Ok((a + 1, b - 1));
    }
    let never = || (format!("`bsize:{raw}` can never match"), None);
    if let Some(r) = s.strip_prefix("<=") {
        Ok((0, num(r)?))
    } else if let Some(r) = s.strip_prefix('<') {
        let n = num(r)?;
        n.checked_sub(1).map(|m| (0, m)).ok_or_else(never)
    } else if let Some(r) = s.strip_prefix(">=") {
        Ok((num(r)?, u64::MAX))
    } else if let Some(r) = s.strip_prefix('>') {
        let n = num(r)?;
        n.checked_add(1).map(|m| (m, u64::MAX)).ok_or_else(never)
    } else {
        let n = num(s.strip_prefix('=').unwrap_or(&s))?;
        Ok((n, n))
    }
}

pub(super) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
