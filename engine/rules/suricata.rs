//! The Suricata rule subset: existing rule files about server names, read
//! into sift's [`Rule`]s.
//!
//! ```text
//! alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"Example"; \
//!     flow:established,to_server; tls.sni; dotprefix; \
//!     content:".example.com"; endswith; classtype:policy-violation; sid:1000001; rev:2;)
//! ```
//!
//! What it reads: the actions `alert`, `drop` and `pass`; the protocols
//! `ip`/`any`, `tcp`/`udp`/`icmp`/`sctp` and the application protocols sift
//! classifies; addresses and ports (lists, ranges; `$VARIABLES` are taken as
//! `any`, with a warning once per file); the sticky buffers `tls.sni`,
//! `quic.sni`, `dns.query` and `http.host` with `content` (`nocase`,
//! `startswith`, `endswith`), the `dotprefix` transform, `bsize` and `pcre`;
//! `app-layer-protocol`; `msg`, `sid`, `rev`, `priority`, `classtype`,
//! `flow` (only the values that hold for names a client sends) and the
//! informational `metadata`, `reference` and `fast_pattern`.
//!
//! What it refuses: everything else, with an error naming the keyword at
//! its column, because a rule sift would read differently from Suricata
//! must not load quietly; negations (`!`) too, which sift rules cannot
//! express. Each `content` becomes a name condition of its own (contents are
//! ANDed, as in Suricata), written as the most precise [`NamePattern`] that
//! means the same thing. A rule with an error is skipped and reading goes on
//! with the next one; a file stops after [`MAX_ERRORS`] errors.

use std::collections::HashSet;

use super::source::{Loader, Span};
use super::syntax::{app_values, name_pattern, suggest, APP_NAMES};
use super::{names, Action, Cidr, Cond, Dialect, NamePattern, Rule, Side, Source, Sources};
use crate::classify::AppProto;
use crate::decode::ip::proto;

/// Errors after which a file is no longer read.
pub const MAX_ERRORS: usize = 50;

/// Address lists nested deeper than this are refused (Suricata rules nest
/// one or two levels).
const MAX_NESTING: u32 = 8;

/// Parses one file of Suricata rules into `l`.
pub fn parse(l: &mut Loader, file: u32, text: &str) {
    let before = l.error_count();
    // Variables already warned about in this file.
    let mut warned: HashSet<String> = HashSet::new();
    for t in rule_texts(file, text) {
        if t.chars.iter().all(|c| c.is_whitespace()) {
            continue;
        }
        let mut p = Parser {
            t: &t,
            warnings: Vec::new(),
        };
        match p.rule() {
            Ok(rule) => {
                for w in p.warnings {
                    if let Some(var) = &w.var {
                        if !warned.insert(var.clone()) {
                            continue;
                        }
                    }
                    l.warn(w.span, w.len, w.msg, w.hint);
                }
                l.push_rule(rule);
            }
            Err(e) => {
                l.error(e.span, e.len, e.msg, e.hint);
                if l.error_count() - before >= MAX_ERRORS {
                    return;
                }
            }
        }
    }
}

/// One rule's text, joined over lines that end with `\`, and where each
/// of its characters is in the file.
#[derive(Default)]
struct Text {
    chars: Vec<char>,
    at: Vec<Span>,
    /// Just past the last character.
    end: Span,
}

/// Splits a file into rules: `#` comment lines and blank lines are
/// skipped; a line ending with `\` continues on the next (the `\` and the
/// line break are removed, as Suricata does).
fn rule_texts(file: u32, text: &str) -> Vec<Text> {
    let mut out = Vec::new();
    let mut cur: Option<Text> = None;
    for (n, line) in text.lines().enumerate() {
        let line_no = n as u32 + 1;
        let chars: Vec<char> = line.chars().collect();
        let first = usize::from(n == 0 && chars.first() == Some(&'\u{feff}'));
        if cur.is_none() {
            let lead = chars[first..].iter().find(|c| !c.is_whitespace());
            if matches!(lead, None | Some('#')) {
                continue;
            }
        }
        let mut last = chars.len();
        while last > first && chars[last - 1].is_whitespace() {
            last -= 1;
        }
        let continues = last > first && chars[last - 1] == '\\';
        let upto = if continues { last - 1 } else { last };
        let t = cur.get_or_insert_with(Text::default);
        for (i, &c) in chars.iter().enumerate().take(upto).skip(first) {
            t.chars.push(c);
            t.at.push(Span {
                file,
                line: line_no,
                col: i as u32 + 1,
            });
        }
        t.end = Span {
            file,
            line: line_no,
            col: upto as u32 + 1,
        };
        if !continues {
            out.extend(cur.take());
        }
    }
    // A file that ends in the middle of a continued rule.
    out.extend(cur);
    out
}

struct ParseError {
    span: Span,
    len: usize,
    msg: String,
    hint: Option<String>,
}

type Res<T> = Result<T, ParseError>;

struct Warning {
    span: Span,
    len: usize,
    msg: String,
    hint: Option<String>,
    /// The variable warned about, reported once per file.
    var: Option<String>,
}

/// One option of a rule: `key;` or `key:value;`, as character ranges of
/// the rule's [`Text`] (the value without surrounding whitespace).
struct Opt {
    key: String,
    k0: usize,
    k1: usize,
    val: Option<(usize, usize)>,
}

/// A sticky buffer as the rule selected it.
struct Buffer {
    source: Source,
    dotprefix: bool,
    /// Whether a content, pcre or bsize used it yet (`dotprefix` must
    /// come before them).
    used: bool,
    /// Inclusive byte lengths, in terms of the buffer (with the dot
    /// `dotprefix` adds), and where `bsize`'s value is.
    bsize: Option<(usize, usize, usize, usize)>,
}

struct Content {
    buffer: usize,
    /// Lowercased.
    text: String,
    /// As written, when it had uppercase letters.
    upper: Option<String>,
    nocase: bool,
    start: bool,
    end: bool,
    /// The value, from `content:` up to the closing quote.
    v0: usize,
    v1: usize,
}

/// The conditions of the options, in the order the rule writes them.
enum Item {
    Content(usize),
    Regex(Source, String),
    App(Vec<AppProto>),
    Length(usize),
}

const HEADER: &str = "a rule is `action proto src_addr src_port -> dst_addr dst_port (options)`";
const NOT_HINT: &str =
    "sift rules cannot say \"not\"; a `pass` rule can carve out exceptions, as it goes first";
const BUFFERS: &str = "`tls.sni`, `quic.sni`, `dns.query` or `http.host`";
const SUPPORTED: [&str; 21] = [
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
const SIFT_APPS: &str =
    "http, tls, quic, dns, openvpn, wireguard, ike, esp, ah, ipsec (ike, esp, ah), vpn (all five)";
/// Application protocols Suricata knows and sift does not classify.
const OTHER_APPS: [&str; 31] = [
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
const FIELDS: [&str; 7] = [
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
struct Kind {
    name: &'static str,
    plural: &'static str,
    /// With its article.
    one: &'static str,
}

const ADDRESS: Kind = Kind {
    name: "address",
    plural: "addresses",
    one: "an address",
};
const PORT: Kind = Kind {
    name: "port",
    plural: "ports",
    one: "a port",
};

/// The protocols sift classifies for an application protocol name
/// (Suricata's `http1` and `ikev2` too).
fn app_of(w: &str) -> Option<&'static [AppProto]> {
    match w {
        "http1" => app_values("http"),
        "ikev2" => app_values("ike"),
        w => app_values(w),
    }
}

/// `s` is a name as rules write one exactly (`example.com`), so a pattern
/// on it can be an exact, domain or subdomain pattern.
fn is_name(s: &str) -> bool {
    matches!(name_pattern(s), Ok(NamePattern::Exact(x)) if x == s)
}

/// The name patterns that match where a content (lowercase) matches the
/// buffer, with its anchors. With `dotprefix` the buffer is `.` + the name.
/// None: the content can never match.
fn content_patterns(
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
fn bsize_bounds(raw: &str) -> Result<(u64, u64), (String, Option<String>)> {
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

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

struct Parser<'t> {
    t: &'t Text,
    warnings: Vec<Warning>,
}

impl Parser<'_> {
    fn len(&self) -> usize {
        self.t.chars.len()
    }

    fn ch(&self, i: usize) -> Option<char> {
        self.t.chars.get(i).copied()
    }

    fn span(&self, i: usize) -> Span {
        self.t.at.get(i).copied().unwrap_or(self.t.end)
    }

    /// Characters `a..b` that are on `a`'s line (what can be underlined).
    fn width(&self, a: usize, b: usize) -> usize {
        let line = self.span(a).line;
        (a..b.min(self.len()))
            .filter(|&k| self.t.at[k].line == line)
            .count()
            .max(1)
    }

    fn text(&self, a: usize, b: usize) -> String {
        let b = b.min(self.len());
        self.t.chars[a.min(b)..b].iter().collect()
    }

    fn fail<T>(&self, a: usize, b: usize, msg: impl Into<String>, hint: Option<String>) -> Res<T> {
        Err(ParseError {
            span: self.span(a),
            len: self.width(a, b),
            msg: msg.into(),
            hint,
        })
    }

    fn warn(&mut self, a: usize, b: usize, msg: String, hint: Option<String>, var: Option<String>) {
        self.warnings.push(Warning {
            span: self.span(a),
            len: self.width(a, b),
            msg,
            hint,
            var,
        });
    }

    fn is_ws(&self, i: usize) -> bool {
        self.ch(i).is_some_and(char::is_whitespace)
    }

    fn skip_ws(&self, mut i: usize, end: usize) -> usize {
        while i < end && self.is_ws(i) {
            i += 1;
        }
        i
    }

    /// `a..b` without surrounding whitespace.
    fn trim(&self, mut a: usize, mut b: usize) -> (usize, usize) {
        a = self.skip_ws(a, b);
        while b > a && self.is_ws(b - 1) {
            b -= 1;
        }
        (a, b)
    }

    /// The header field at `i`: up to whitespace or `(`, a `[...]` list
    /// whole.
    fn field(&self, i: usize) -> (usize, usize) {
        let mut j = i;
        let mut depth = 0u32;
        while let Some(c) = self.ch(j) {
            match c {
                '(' => break,
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                c if c.is_whitespace() && depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        (i, j)
    }

    fn rule(&mut self) -> Res<Rule> {
        // The header: up to seven fields before `(`.
        let mut fields: Vec<(usize, usize)> = Vec::with_capacity(7);
        let mut i = self.skip_ws(0, self.len());
        while fields.len() < 7 && i < self.len() && self.ch(i) != Some('(') {
            let f = self.field(i);
            fields.push(f);
            i = self.skip_ws(f.1, self.len());
        }
        if fields.is_empty() {
            return self.fail(
                i,
                i + 1,
                "expected a rule action (alert, drop or pass), found `(`",
                Some(HEADER.into()),
            );
        }
        let words: Vec<String> = fields.iter().map(|&(a, b)| self.text(a, b)).collect();
        let arrow = words.iter().position(|w| w == "->" || w == "<>");
        let (a0, a1) = fields[0];
        let action = match words[0].as_str() {
            "alert" => Action::Alert,
            "drop" => Action::Drop,
            "pass" => Action::Pass,
            w @ ("reject" | "rejectsrc" | "rejectdst" | "rejectboth") => {
                return self.fail(
                    a0,
                    a1,
                    format!("`{w}` is not a sift action"),
                    Some("sift records verdicts and never resets traffic: use `drop`".into()),
                )
            }
            "log" => return self.fail(
                a0,
                a1,
                "`log` is not a Suricata action",
                Some(
                    "Suricata rules use alert, drop or pass (`log` is in sift's own rule language)"
                        .into(),
                ),
            ),
            w => {
                return self.fail(
                    a0,
                    a1,
                    format!("expected a rule action (alert, drop or pass), found `{w}`"),
                    suggest(w, &["alert", "drop", "pass"]),
                )
            }
        };
        // A list left open takes in the fields after it.
        for &(x0, x1) in &fields {
            let mut depth = 0i64;
            let mut open = x0;
            for k in x0..x1 {
                match self.ch(k) {
                    Some('[') => {
                        if depth == 0 {
                            open = k;
                        }
                        depth += 1;
                    }
                    Some(']') => depth -= 1,
                    _ => {}
                }
            }
            if depth > 0 {
                return self.fail(
                    open,
                    open + 1,
                    "this `[` is never closed",
                    Some("close the list with `]`".into()),
                );
            }
        }
        match arrow {
            Some(4) => {}
            Some(k) if k < 4 => {
                let (x0, x1) = fields[k];
                return self.fail(
                    x0,
                    x1,
                    format!("expected {} before `{}`", FIELDS[k], words[k]),
                    Some(HEADER.into()),
                );
            }
            _ if fields.len() > 4 => {
                let (x0, x1) = fields[4];
                let w = &words[4];
                let hint = if w == "<-" {
                    "there is no `<-`: swap the two sides and write `->`".to_string()
                } else {
                    HEADER.to_string()
                };
                return self.fail(
                    x0,
                    x1,
                    format!("expected `->` or `<>`, found `{w}`"),
                    Some(hint),
                );
            }
            _ => {}
        }
        if fields.len() < 7 {
            let found = match self.ch(i) {
                Some(_) => "`(`",
                None => "the end of the rule",
            };
            return self.fail(
                i,
                i + 1,
                format!("expected {}, found {found}", FIELDS[fields.len()]),
                Some(HEADER.into()),
            );
        }
        match self.ch(i) {
            Some('(') => {}
            Some(_) => {
                let (x0, x1) = self.field(i);
                return self.fail(
                    x0,
                    x1,
                    format!(
                        "expected `(` to open the rule's options, found `{}`",
                        self.text(x0, x1)
                    ),
                    Some(HEADER.into()),
                );
            }
            None => {
                return self.fail(
                    i,
                    i + 1,
                    "expected `(` and the rule's options, found the end of the rule",
                    Some(HEADER.into()),
                )
            }
        }
        let mut conds = Vec::new();
        self.protocol(fields[1], &words[1], &mut conds)?;
        let (client, server) = if words[4] == "->" {
            (Side::Client, Side::Server)
        } else {
            (Side::Either, Side::Either)
        };
        if let Some(nets) = self.addresses(fields[2])? {
            conds.push(Cond::Ip { side: client, nets });
        }
        if let Some(ranges) = self.ports(fields[3])? {
            conds.push(Cond::Port {
                side: client,
                ranges,
            });
        }
        if let Some(nets) = self.addresses(fields[5])? {
            conds.push(Cond::Ip { side: server, nets });
        }
        if let Some(ranges) = self.ports(fields[6])? {
            conds.push(Cond::Port {
                side: server,
                ranges,
            });
        }
        let opts = self.options(i)?;
        let mut rule = Rule {
            id: 0,
            rev: 0,
            action,
            msg: String::new(),
            priority: super::DEFAULT_PRIORITY,
            category: String::new(),
            conds,
            span: self.span(a0),
            dialect: Dialect::Suricata,
        };
        let sid = self.apply_options(&opts, &mut rule)?;
        let Some(sid) = sid else {
            return self.fail(
                a0,
                a1,
                "this rule has no `sid`",
                Some(
                    "every rule needs a sid: add `sid:N;` with a number no other rule uses".into(),
                ),
            );
        };
        rule.id = sid;
        if rule.conds.is_empty() {
            self.warn(
                a0,
                a1,
                format!("rule {sid} has no conditions and matches every flow"),
                None,
                None,
            );
        }
        Ok(rule)
    }

    fn protocol(&self, (a, b): (usize, usize), w: &str, conds: &mut Vec<Cond>) -> Res<()> {
        let lw = w.to_ascii_lowercase();
        let transport = |p: &[u8]| Cond::Transport(p.to_vec());
        match lw.as_str() {
            "ip" | "any" | "pkthdr" => {}
            "tcp" => conds.push(transport(&[proto::TCP])),
            "udp" => conds.push(transport(&[proto::UDP])),
            "sctp" => conds.push(transport(&[proto::SCTP])),
            // Suricata's `icmp` is both versions.
            "icmp" => conds.push(transport(&[proto::ICMP, proto::ICMPV6])),
            "icmpv4" => conds.push(transport(&[proto::ICMP])),
            "icmpv6" => conds.push(transport(&[proto::ICMPV6])),
            other => match app_of(other) {
                Some(apps) => conds.push(Cond::App(apps.to_vec())),
                None if OTHER_APPS.contains(&other) => {
                    return self.fail(
                        a,
                        b,
                        format!("sift does not classify `{w}`"),
                        Some(format!(
                            "sift classifies {SIFT_APPS}; ip, tcp, udp, icmp and sctp work too"
                        )),
                    )
                }
                None => {
                    let mut all = vec!["ip", "any", "tcp", "udp", "icmp", "sctp"];
                    all.extend(APP_NAMES);
                    return self.fail(
                        a,
                        b,
                        format!("unknown protocol `{w}`"),
                        suggest(&lw, &all).or(Some(format!(
                            "ip, any, tcp, udp, icmp, sctp, or what sift classifies: {SIFT_APPS}"
                        ))),
                    );
                }
            },
        }
        Ok(())
    }

    /// A `$VARIABLE`, taken as `any`.
    fn variable(&mut self, a: usize, b: usize, what: Kind) {
        let var = self.text(a, b);
        self.warn(
            a,
            b,
            format!("`{var}` is taken as any {}", what.name),
            Some(format!(
                "sift has no rule variables; write the {} to restrict the rule (reported once per file)",
                what.plural
            )),
            Some(var),
        );
    }

    /// An address field: None for `any`.
    fn addresses(&mut self, (a, b): (usize, usize)) -> Res<Option<Vec<Cidr>>> {
        let mut any = false;
        let mut nets = Vec::new();
        let mut atom = |p: &mut Self, x0: usize, x1: usize| -> Res<()> {
            let w = p.text(x0, x1);
            if w == "any" {
                any = true;
            } else if w.starts_with('$') {
                p.variable(x0, x1, ADDRESS);
                any = true;
            } else {
                match Cidr::parse(&w) {
                    Ok(c) => nets.push(c),
                    Err(why) => {
                        return p.fail(
                            x0,
                            x1,
                            why,
                            Some("an address or block (192.0.2.1, 10.0.0.0/8, 2001:db8::/32), a list `[a, b]`, `any` or a `$VARIABLE`".into()),
                        )
                    }
                }
            }
            Ok(())
        };
        self.list(a, b, ADDRESS, &mut atom)?;
        Ok((!any).then_some(nets))
    }

    /// A port field: None for `any`.
    fn ports(&mut self, (a, b): (usize, usize)) -> Res<Option<Vec<(u16, u16)>>> {
        let mut any = false;
        let mut ranges = Vec::new();
        let mut atom = |p: &mut Self, x0: usize, x1: usize| -> Res<()> {
            let w: String = p
                .text(x0, x1)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if w == "any" {
                any = true;
                return Ok(());
            }
            if w.starts_with('$') {
                p.variable(x0, x1, PORT);
                any = true;
                return Ok(());
            }
            let hint = || {
                Some("a port (443), a range (1024:2048, 1024:, :1023), a list `[80, 443]`, `any` or a `$VARIABLE`".to_string())
            };
            let port = |s: &str, default: u16| -> Option<u16> {
                if s.is_empty() {
                    Some(default)
                } else if s.bytes().all(|b| b.is_ascii_digit()) {
                    s.parse().ok()
                } else {
                    None
                }
            };
            let range = match w.split_once(':') {
                Some((lo, hi)) => port(lo, 0).zip(port(hi, u16::MAX)),
                None if !w.is_empty() => port(&w, 0).map(|p| (p, p)),
                None => None,
            };
            match range {
                Some((lo, hi)) if lo <= hi => ranges.push((lo, hi)),
                Some(_) => {
                    return p.fail(x0, x1, format!("port range `{w}` runs backwards"), hint())
                }
                None => {
                    return p.fail(
                        x0,
                        x1,
                        format!("`{w}` is not a port or port range (0 to 65535)"),
                        hint(),
                    )
                }
            }
            Ok(())
        };
        self.list(a, b, PORT, &mut atom)?;
        Ok((!any).then_some(ranges))
    }

    /// Walks a header field made of `atom`s, `[ ... ]` lists (nested) and
    /// commas; `!` is refused.
    fn list(
        &mut self,
        a: usize,
        b: usize,
        what: Kind,
        atom: &mut dyn FnMut(&mut Self, usize, usize) -> Res<()>,
    ) -> Res<()> {
        let mut i = a;
        self.element(&mut i, b, 0, what, atom)?;
        i = self.skip_ws(i, b);
        if i < b {
            let c = self.ch(i).unwrap_or(' ');
            return self.fail(
                i,
                b,
                format!("unexpected `{c}` in the {} field", what.name),
                None,
            );
        }
        Ok(())
    }

    fn element(
        &mut self,
        i: &mut usize,
        b: usize,
        depth: u32,
        what: Kind,
        atom: &mut dyn FnMut(&mut Self, usize, usize) -> Res<()>,
    ) -> Res<()> {
        *i = self.skip_ws(*i, b);
        match self.ch(*i).filter(|_| *i < b) {
            Some('!') => self.fail(
                *i,
                b,
                format!("negated {} are not supported", what.plural),
                Some(format!(
                    "{NOT_HINT}; or list the {} the rule is for",
                    what.plural
                )),
            ),
            Some('[') => {
                if depth >= MAX_NESTING {
                    return self.fail(
                        *i,
                        *i + 1,
                        format!("{} lists nested too deep", what.name),
                        None,
                    );
                }
                let open = *i;
                *i += 1;
                if self.ch(self.skip_ws(*i, b)) == Some(']') {
                    return self.fail(
                        open,
                        self.skip_ws(*i, b) + 1,
                        format!("empty {} list", what.name),
                        None,
                    );
                }
                loop {
                    self.element(i, b, depth + 1, what, atom)?;
                    *i = self.skip_ws(*i, b);
                    match self.ch(*i).filter(|_| *i < b) {
                        Some(',') => *i += 1,
                        Some(']') => {
                            *i += 1;
                            return Ok(());
                        }
                        Some(c) => {
                            return self.fail(
                                *i,
                                *i + 1,
                                format!(
                                    "expected `,` or `]` in the {} list, found `{c}`",
                                    what.name
                                ),
                                None,
                            )
                        }
                        None => {
                            return self.fail(
                                open,
                                open + 1,
                                "this `[` is never closed",
                                Some(format!("close the {} list with `]`", what.name)),
                            )
                        }
                    }
                }
            }
            Some(_) => {
                let x0 = *i;
                while *i < b && !matches!(self.ch(*i), Some(',' | '[' | ']')) {
                    *i += 1;
                }
                let (x0, x1) = self.trim(x0, *i);
                if x0 == x1 {
                    return self.fail(x0, x0 + 1, format!("expected {}", what.one), None);
                }
                atom(self, x0, x1)
            }
            None => self.fail(*i, *i + 1, format!("expected {}", what.one), None),
        }
    }

    /// Splits the options after the `(` at `open` into keywords and values.
    fn options(&self, open: usize) -> Res<Vec<Opt>> {
        let mut last = self.len();
        while last > open + 1 && self.is_ws(last - 1) {
            last -= 1;
        }
        let closed = last > open + 1 && self.ch(last - 1) == Some(')');
        let end = if closed { last - 1 } else { last };
        let mut opts = Vec::new();
        let mut i = open + 1;
        loop {
            i = self.skip_ws(i, end);
            if i >= end {
                break;
            }
            let k0 = i;
            if self.ch(k0) == Some(')') {
                let x = self.skip_ws(k0 + 1, self.len());
                return self.fail(
                    x,
                    self.len(),
                    format!(
                        "unexpected `{}` after the rule's closing `)`",
                        self.text(x, self.len())
                    ),
                    Some("one rule per line".into()),
                );
            }
            while i < end && !self.is_ws(i) && !matches!(self.ch(i), Some(':' | ';')) {
                i += 1;
            }
            let k1 = i;
            if k0 == k1 {
                let c = self.ch(k0).unwrap_or(' ');
                return self.fail(
                    k0,
                    k0 + 1,
                    format!("expected an option keyword, found `{c}`"),
                    None,
                );
            }
            let key = self.text(k0, k1);
            i = self.skip_ws(i, end);
            match self.ch(i).filter(|_| i < end) {
                // The last option may lack its `;`.
                None => {
                    opts.push(Opt {
                        key,
                        k0,
                        k1,
                        val: None,
                    });
                    break;
                }
                Some(';') => {
                    opts.push(Opt {
                        key,
                        k0,
                        k1,
                        val: None,
                    });
                    i += 1;
                }
                Some(':') => {
                    i += 1;
                    let v0 = i;
                    let mut quote: Option<usize> = None;
                    while i < end {
                        match self.ch(i) {
                            Some('\\') => {
                                i += 2;
                                continue;
                            }
                            Some('"') => quote = if quote.is_some() { None } else { Some(i) },
                            Some(';') if quote.is_none() => break,
                            _ => {}
                        }
                        i += 1;
                    }
                    if let Some(q) = quote {
                        return self.fail(
                            q,
                            end,
                            "unterminated string",
                            Some("close it with `\"`; inside it, write `\\\"` for a quote and `\\;` for a semicolon".into()),
                        );
                    }
                    let (a, b) = self.trim(v0, i.min(end));
                    // `key:;` is a key without a value.
                    opts.push(Opt {
                        key,
                        k0,
                        k1,
                        val: (a < b).then_some((a, b)),
                    });
                    i += 1;
                }
                Some(c) => {
                    return self.fail(
                        i,
                        i + 1,
                        format!("expected `:` or `;` after `{key}`, found `{c}`"),
                        None,
                    );
                }
            }
        }
        if !closed {
            let e = self.len();
            return self.fail(
                e,
                e + 1,
                "expected `)` at the end of the rule",
                Some("a rule's options end with `)`; a rule goes on to the next line only after a `\\` at the end of the line".into()),
            );
        }
        Ok(opts)
    }

    /// Refuses a keyword sift does not read, with what to do instead.
    fn check_keyword(&self, o: &Opt) -> Res<()> {
        let k = o.key.as_str();
        if SUPPORTED.contains(&k) {
            return Ok(());
        }
        let hint = match k {
            "tls_sni" => {
                "the old name of the sticky buffer: write `tls.sni;` before the content".to_string()
            }
            "http_host" => {
                "the old content modifier: write `http.host;` before the content".to_string()
            }
            "dns_query" => {
                "the old name of the sticky buffer: write `dns.query;` before the content"
                    .to_string()
            }
            "http_raw_host" | "http.host.raw" => {
                "sift matches the normalized host (lowercase, without the port): use `http.host`"
                    .to_string()
            }
            "depth" | "offset" | "distance" | "within" | "isdataat" => {
                "sift matches whole names: use `startswith`, `endswith`, `bsize` or `pcre`"
                    .to_string()
            }
            "ja3.hash" | "ja3_hash" | "ja4.hash" => {
                "sift's own rule language matches fingerprints: `ja3 <hash>`, `ja4 <fingerprint>`"
                    .to_string()
            }
            _ => suggest(k, &SUPPORTED)
                .unwrap_or_else(|| format!("sift reads {}", SUPPORTED.join(", "))),
        };
        self.fail(o.k0, o.k1, format!("unsupported keyword `{k}`"), Some(hint))
    }

    /// Reads the options into `rule`; returns the sid.
    fn apply_options(&mut self, opts: &[Opt], rule: &mut Rule) -> Res<Option<u32>> {
        for o in opts {
            self.check_keyword(o)?;
        }
        let mut sid = None;
        let mut seen: Vec<&str> = Vec::new();
        let mut buffers: Vec<Buffer> = Vec::new();
        let mut cur: Option<usize> = None;
        let mut contents: Vec<Content> = Vec::new();
        let mut last_content: Option<usize> = None;
        let mut items: Vec<Item> = Vec::new();
        for o in opts {
            let k = o.key.as_str();
            let flag = matches!(
                k,
                "tls.sni"
                    | "quic.sni"
                    | "dns.query"
                    | "http.host"
                    | "nocase"
                    | "startswith"
                    | "endswith"
                    | "dotprefix"
            );
            let optional = matches!(k, "metadata" | "reference" | "fast_pattern");
            let (v0, v1) = match o.val {
                Some((a, b)) if flag => {
                    return self.fail(
                        a,
                        b,
                        format!("`{k}` takes no value"),
                        Some(format!("write `{k};`")),
                    );
                }
                Some(v) => v,
                None if flag || optional => (o.k1, o.k1),
                None => {
                    return self.fail(o.k0, o.k1, format!("`{k}` needs a value"), example(k));
                }
            };
            if matches!(k, "msg" | "sid" | "rev" | "priority" | "classtype") {
                if seen.contains(&k) {
                    return self.fail(
                        o.k0,
                        o.k1,
                        format!("`{k}` appears twice in this rule"),
                        None,
                    );
                }
                seen.push(k);
            }
            let need_buffer = |p: &Self, cur: Option<usize>| -> Res<usize> {
                cur.map_or_else(
                    || {
                        p.fail(
                            o.k0,
                            o.k1,
                            format!("`{k}` needs a buffer first: {BUFFERS}"),
                            Some(format!("sift matches server names: write `tls.sni;` (or another) before `{k}`")),
                        )
                    },
                    Ok,
                )
            };
            match k {
                "msg" => {
                    let (neg, q, a, b) = self.quoted(k, v0, v1)?;
                    if neg {
                        return self.fail(v0, q + 1, "`msg` cannot be negated", None);
                    }
                    rule.msg = self.unescape(a, b);
                }
                "sid" => {
                    let w = self.text(v0, v1);
                    match w.parse::<u32>() {
                        Ok(n) if n > 0 => sid = Some(n),
                        _ => {
                            return self.fail(
                                v0,
                                v1,
                                format!("`sid` must be 1 to 4294967295, found `{w}`"),
                                None,
                            )
                        }
                    }
                }
                "rev" => {
                    let w = self.text(v0, v1);
                    rule.rev = w.parse().or_else(|_| {
                        self.fail(
                            v0,
                            v1,
                            format!("`rev` must be 0 to 4294967295, found `{w}`"),
                            None,
                        )
                    })?;
                }
                "priority" => {
                    let w = self.text(v0, v1);
                    rule.priority = match w.parse::<u8>() {
                        Ok(p) if p > 0 => p,
                        _ => {
                            return self.fail(
                                v0,
                                v1,
                                format!("`priority` must be 1 to 255, found `{w}`"),
                                Some("1 is the highest priority".into()),
                            )
                        }
                    };
                }
                "classtype" => rule.category = self.text(v0, v1),
                "metadata" | "reference" | "fast_pattern" => {}
                "flow" => self.flow(v0, v1)?,
                "tls.sni" | "quic.sni" | "dns.query" | "http.host" => {
                    let Some(source) = Source::parse(k) else {
                        return self.fail(o.k0, o.k1, format!("unsupported keyword `{k}`"), None);
                    };
                    buffers.push(Buffer {
                        source,
                        dotprefix: false,
                        used: false,
                        bsize: None,
                    });
                    cur = Some(buffers.len() - 1);
                    last_content = None;
                }
                "dotprefix" => {
                    let b = need_buffer(self, cur)?;
                    let buf = &mut buffers[b];
                    if buf.used || buf.dotprefix {
                        return self.fail(
                            o.k0,
                            o.k1,
                            format!("`dotprefix` must come right after `{}`, once", buf.source.as_str()),
                            Some(format!(
                                "it transforms the whole buffer: `{}; dotprefix; content:\".example.com\"; endswith;`",
                                buf.source.as_str()
                            )),
                        );
                    }
                    buf.dotprefix = true;
                }
                "content" => {
                    let b = need_buffer(self, cur)?;
                    let (neg, q, a, e) = self.quoted(k, v0, v1)?;
                    if neg {
                        return self.fail(
                            v0,
                            q + 1,
                            "negated content is not supported",
                            Some(NOT_HINT.into()),
                        );
                    }
                    let bytes = self.content_bytes(a, e)?;
                    if bytes.is_empty() {
                        return self.fail(v0, v1, "empty content", None);
                    }
                    if let Some(&c) = bytes.iter().find(|&&c| c < 0x20) {
                        return self.fail(
                            v0,
                            v1,
                            format!(
                                "content holds the byte `|{c:02x}|`, which no server name holds"
                            ),
                            None,
                        );
                    }
                    let Ok(raw) = String::from_utf8(bytes) else {
                        return self.fail(
                            v0,
                            v1,
                            "content is not UTF-8 text",
                            Some("names are compared as text; an internationalized name is matched in its xn-- form".into()),
                        );
                    };
                    buffers[b].used = true;
                    contents.push(Content {
                        buffer: b,
                        text: raw.to_ascii_lowercase(),
                        upper: raw
                            .bytes()
                            .any(|c| c.is_ascii_uppercase())
                            .then(|| raw.clone()),
                        nocase: false,
                        start: false,
                        end: false,
                        v0,
                        v1,
                    });
                    last_content = Some(contents.len() - 1);
                    items.push(Item::Content(contents.len() - 1));
                }
                "nocase" | "startswith" | "endswith" => {
                    let Some(c) = last_content.and_then(|c| contents.get_mut(c)) else {
                        return self.fail(
                            o.k0,
                            o.k1,
                            format!("`{k}` must follow a `content`"),
                            Some(format!(
                                "it modifies the content before it: `content:\"example\"; {k};`"
                            )),
                        );
                    };
                    match k {
                        "nocase" => c.nocase = true,
                        "startswith" => c.start = true,
                        _ => c.end = true,
                    }
                }
                "bsize" => {
                    let b = need_buffer(self, cur)?;
                    if buffers[b].bsize.is_some() {
                        return self.fail(
                            o.k0,
                            o.k1,
                            format!(
                                "`bsize` appears twice for this `{}`",
                                buffers[b].source.as_str()
                            ),
                            None,
                        );
                    }
                    let (lo, hi) = bsize_bounds(&self.text(v0, v1))
                        .or_else(|(m, h)| self.fail(v0, v1, m, h))?;
                    buffers[b].bsize = Some((to_usize(lo), to_usize(hi), v0, v1));
                    buffers[b].used = true;
                    items.push(Item::Length(b));
                }
                "pcre" => {
                    let b = need_buffer(self, cur)?;
                    if buffers[b].dotprefix {
                        return self.fail(
                            o.k0,
                            o.k1,
                            "`pcre` on a `dotprefix` buffer is not supported",
                            Some("sift matches a regex against the bare name (`^` and `$` are its ends): drop `dotprefix` and write the regex for the name".into()),
                        );
                    }
                    let re = self.pcre(v0, v1)?;
                    buffers[b].used = true;
                    items.push(Item::Regex(buffers[b].source, re));
                }
                "app-layer-protocol" => items.push(Item::App(self.app_layer(v0, v1)?)),
                _ => return self.fail(o.k0, o.k1, format!("unsupported keyword `{k}`"), None),
            }
        }
        // Contents against the lengths `bsize` allows for their buffer; a
        // content as long as an exact bsize is the whole buffer.
        let mut implied = vec![false; buffers.len()];
        for c in &mut contents {
            let Some((lo, hi, b0, b1)) = buffers[c.buffer].bsize else {
                continue;
            };
            let n = c.text.len();
            if lo == hi && n == lo {
                c.start = true;
                c.end = true;
                implied[c.buffer] = true;
            }
            if n > hi || (c.start && c.end && n < lo) {
                return self.fail(
                    b0,
                    b1,
                    format!(
                        "`bsize:{}` can never match: content `{}` is {n} bytes",
                        self.text(b0, b1),
                        c.text
                    ),
                    None,
                );
            }
        }
        for item in items {
            let cond = match item {
                Item::Content(ci) => {
                    let c = &contents[ci];
                    let buf = &buffers[c.buffer];
                    let Some(patterns) = content_patterns(&c.text, c.start, c.end, buf.dotprefix)
                    else {
                        return self.fail(
                            c.v0,
                            c.v1,
                            format!("content `{}` can never match at the start of a `dotprefix` buffer", c.text),
                            Some(format!(
                                "`dotprefix` puts a `.` before the name: write the content as `.{}`",
                                c.text
                            )),
                        );
                    };
                    if let Some(shown) = c.upper.as_ref().filter(|_| !c.nocase) {
                        self.warn(
                            c.v0,
                            c.v1,
                            format!(
                                "content `{shown}` matches as `{}`: names are compared case-insensitively",
                                c.text
                            ),
                            Some("add `nocase;` after the content, or write it in lowercase".into()),
                            None,
                        );
                    }
                    Cond::Name {
                        sources: Sources::one(buf.source),
                        patterns,
                        list: None,
                    }
                }
                Item::Regex(source, re) => Cond::Name {
                    sources: Sources::one(source),
                    patterns: vec![NamePattern::Regex(re)],
                    list: None,
                },
                Item::App(apps) => Cond::App(apps),
                Item::Length(b) => {
                    let buf = &buffers[b];
                    let Some((mut lo, mut hi, b0, b1)) = buf.bsize else {
                        continue;
                    };
                    if implied[b] {
                        continue;
                    }
                    if buf.dotprefix {
                        // The buffer is one byte longer than the name.
                        if hi == 0 {
                            return self.fail(
                                b0,
                                b1,
                                format!(
                                    "`bsize:{}` can never match a `dotprefix` buffer",
                                    self.text(b0, b1)
                                ),
                                Some("the buffer holds at least the added `.`".into()),
                            );
                        }
                        lo = lo.saturating_sub(1);
                        if hi != usize::MAX {
                            hi -= 1;
                        }
                    }
                    Cond::NameLength {
                        sources: Sources::one(buf.source),
                        min: lo,
                        max: hi,
                    }
                }
            };
            if !rule.conds.contains(&cond) {
                rule.conds.push(cond);
            }
        }
        Ok(sid)
    }

    /// A quoted value `"..."`, maybe negated with `!`: (negated, the
    /// opening quote, the text inside the quotes).
    fn quoted(&self, key: &str, v0: usize, v1: usize) -> Res<(bool, usize, usize, usize)> {
        let neg = self.ch(v0) == Some('!');
        let q = if neg { self.skip_ws(v0 + 1, v1) } else { v0 };
        if q >= v1 || self.ch(q) != Some('"') {
            return self.fail(
                v0,
                v1,
                format!("expected a quoted value for `{key}`"),
                example(key),
            );
        }
        let mut j = q + 1;
        while j < v1 {
            match self.ch(j) {
                Some('\\') => j += 2,
                Some('"') => break,
                _ => j += 1,
            }
        }
        if j >= v1 {
            return self.fail(
                q,
                v1,
                "unterminated string",
                Some("close it with `\"`".into()),
            );
        }
        let after = self.skip_ws(j + 1, v1);
        if after < v1 {
            return self.fail(
                after,
                v1,
                format!(
                    "unexpected `{}` after the closing quote",
                    self.text(after, v1)
                ),
                Some("a quote inside the value is written `\\\"`".into()),
            );
        }
        Ok((neg, q, q + 1, j))
    }

    /// Text with its `\` escapes removed.
    fn unescape(&self, a: usize, b: usize) -> String {
        let mut out = String::new();
        let mut i = a;
        while i < b {
            match self.ch(i) {
                Some('\\') if i + 1 < b => {
                    out.extend(self.ch(i + 1));
                    i += 2;
                }
                c => {
                    out.extend(c);
                    i += 1;
                }
            }
        }
        out
    }

    /// The bytes of a content: text, `|hex|` runs, and the escapes `\;`,
    /// `\"`, `\:` and `\\`.
    fn content_bytes(&self, a: usize, b: usize) -> Res<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = a;
        while i < b {
            let Some(c) = self.ch(i) else { break };
            match c {
                '\\' => match self.ch(i + 1).filter(|_| i + 1 < b) {
                    Some(n @ (';' | '"' | ':' | '\\')) => {
                        out.push(n as u8);
                        i += 2;
                    }
                    n => {
                        let shown: String = n.into_iter().collect();
                        return self.fail(
                            i,
                            i + 2,
                            format!("unknown escape `\\{shown}` in content"),
                            Some("in a content `\\` escapes only `;`, `\"`, `:` and `\\`; write other bytes in hex, such as `|2e|`".into()),
                        );
                    }
                },
                '|' => {
                    let open = i;
                    i += 1;
                    let mut high: Option<(u32, usize)> = None;
                    loop {
                        let Some(h) = self.ch(i).filter(|_| i < b) else {
                            return self.fail(
                                open,
                                b,
                                "this `|` is never closed",
                                Some("hex bytes go between two pipes: `|2e 63 6f 6d|`".into()),
                            );
                        };
                        if h == '|' || h.is_whitespace() {
                            if let Some((_, at)) = high {
                                return self.fail(
                                    at,
                                    at + 1,
                                    "a hex byte is two digits",
                                    Some("write `|0a|`, not `|a|`".into()),
                                );
                            }
                            i += 1;
                            if h == '|' {
                                break;
                            }
                            continue;
                        }
                        let Some(d) = h.to_digit(16) else {
                            return self.fail(
                                i,
                                i + 1,
                                format!("`{h}` is not a hex digit"),
                                Some("between pipes, write bytes in hex: `|2e 63 6f 6d|`".into()),
                            );
                        };
                        match high.take() {
                            None => high = Some((d, i)),
                            Some((hi, _)) => out.push(((hi << 4) | d) as u8),
                        }
                        i += 1;
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    /// `flow:`: only what always holds for names a client sends.
    fn flow(&self, v0: usize, v1: usize) -> Res<()> {
        let mut i = v0;
        while i <= v1 {
            let start = i;
            while i < v1 && self.ch(i) != Some(',') {
                i += 1;
            }
            let (a, b) = self.trim(start, i);
            let w = self.text(a, b);
            if !matches!(w.as_str(), "established" | "to_server" | "from_client") {
                let shown = if w.is_empty() {
                    "(empty)".to_string()
                } else {
                    w
                };
                return self.fail(
                    a,
                    b.max(a + 1),
                    format!("unsupported flow value `{shown}`"),
                    Some("sift matches names the client sends, so only `established`, `to_server` and `from_client` apply".into()),
                );
            }
            i += 1;
        }
        Ok(())
    }

    /// `pcre:"/regex/flags"`: the regex, checked by Hyperscan.
    fn pcre(&self, v0: usize, v1: usize) -> Res<String> {
        let (neg, q, a, b) = self.quoted("pcre", v0, v1)?;
        if neg {
            return self.fail(
                v0,
                q + 1,
                "negated pcre is not supported",
                Some(NOT_HINT.into()),
            );
        }
        let form = || Some("pcre:\"/^cdn[0-9]+\\./i\";".to_string());
        if self.ch(a) != Some('/') || a >= b {
            return self.fail(q, b + 1, "expected `\"/regex/flags\"` for `pcre`", form());
        }
        let Some(close) = (a + 1..b).rev().find(|&k| self.ch(k) == Some('/')) else {
            return self.fail(q, b + 1, "this pcre has no closing `/`", form());
        };
        for f in close + 1..b {
            match self.ch(f) {
                Some('i') => {}
                Some(c) => {
                    let hint = match c {
                        'W' => "`W` selects the HTTP host: write `http.host;` before the pcre instead".to_string(),
                        _ => "sift reads only `i` (names are matched case-insensitively); the regex is matched against the whole name".to_string(),
                    };
                    return self.fail(f, f + 1, format!("unsupported pcre flag `{c}`"), Some(hint));
                }
                None => break,
            }
        }
        let re = self.text(a + 1, close);
        if let Err(why) = names::check_regex(&re) {
            return self.fail(
                a,
                close + 1,
                format!("invalid regex: {why}"),
                Some("Hyperscan syntax (PCRE without backreferences or lookaround)".into()),
            );
        }
        Ok(re)
    }

    /// `app-layer-protocol:NAME`.
    fn app_layer(&self, v0: usize, v1: usize) -> Res<Vec<AppProto>> {
        let w = self.text(v0, v1);
        if w.starts_with('!') {
            return self.fail(
                v0,
                v1,
                "negated `app-layer-protocol` is not supported",
                Some(NOT_HINT.into()),
            );
        }
        if let Some(comma) = (v0..v1).find(|&k| self.ch(k) == Some(',')) {
            return self.fail(
                comma,
                v1,
                "`app-layer-protocol` takes one protocol, without a mode",
                Some("write `app-layer-protocol:tls;`".into()),
            );
        }
        match app_of(&w) {
            Some(apps) => Ok(apps.to_vec()),
            None if OTHER_APPS.contains(&w.as_str()) => self.fail(
                v0,
                v1,
                format!("sift does not classify `{w}`"),
                Some(format!("sift classifies {SIFT_APPS}")),
            ),
            None => {
                // The protocols themselves, not the `ipsec`/`vpn` groups.
                let all = &APP_NAMES[..9];
                self.fail(
                    v0,
                    v1,
                    format!("unknown application protocol `{w}`"),
                    suggest(&w, all).or(Some(format!("one of {SIFT_APPS}"))),
                )
            }
        }
    }
}

fn example(key: &str) -> Option<String> {
    Some(
        match key {
            "msg" => "msg:\"what this rule finds\";",
            "sid" => "sid:1000001;",
            "rev" => "rev:1;",
            "priority" => "priority:1;",
            "classtype" => "classtype:policy-violation;",
            "flow" => "flow:established,to_server;",
            "content" => "content:\"example.com\";",
            "bsize" => "bsize:11;",
            "pcre" => "pcre:\"/^cdn[0-9]+\\./i\";",
            "app-layer-protocol" => "app-layer-protocol:tls;",
            _ => return None,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::rules::names::NameIndex;
    use crate::rules::source::{read_text, Parsed, Severity};
    use crate::rules::LoadOptions;

    /// A valid first rule, so that a file whose next rule has a broken
    /// header is still read as Suricata rules.
    const FIRST: &str =
        "alert tls any any -> any any (tls.sni; content:\"first.example\"; sid:999;)\n";

    fn parsed(text: &str) -> Parsed {
        read_text("t.rules", text).unwrap_or_else(|d| panic!("{d}"))
    }

    fn rule(text: &str) -> Rule {
        let p = parsed(text);
        assert_eq!(p.rules.len(), 1, "{:?}", p.rules);
        p.rules.into_iter().next().unwrap()
    }

    fn conds(text: &str) -> Vec<Cond> {
        rule(text).conds
    }

    /// Every error: (line, col, message, hint).
    fn errors(text: &str) -> Vec<(u32, u32, String, Option<String>)> {
        let d = read_text("t.rules", text).expect_err("the rules should be refused");
        d.0.iter()
            .filter(|x| x.severity == Severity::Error)
            .map(|x| (x.span.line, x.span.col, x.message.clone(), x.hint.clone()))
            .collect()
    }

    /// The one error of a one-rule text: (col, message, hint).
    fn error(text: &str) -> (u32, String, Option<String>) {
        let mut e = errors(text);
        assert_eq!(e.len(), 1, "{e:?}");
        let (line, col, msg, hint) = e.remove(0);
        assert_eq!(line, 1, "{msg}");
        (col, msg, hint)
    }

    /// The error of a one-rule text, its column and message.
    fn err_at(text: &str) -> (u32, String) {
        let (col, msg, _) = error(text);
        (col, msg)
    }

    fn warnings(p: &Parsed) -> Vec<(u32, u32, String)> {
        p.warnings
            .iter()
            .filter(|w| w.severity == Severity::Warning)
            .map(|w| (w.span.line, w.span.col, w.message.clone()))
            .collect()
    }

    fn name(sources: Source, patterns: Vec<NamePattern>) -> Cond {
        Cond::Name {
            sources: Sources::one(sources),
            patterns,
            list: None,
        }
    }

    fn contains(text: &str, start: bool, end: bool) -> NamePattern {
        NamePattern::Contains {
            text: text.into(),
            start,
            end,
        }
    }

    fn tls(opts: &str) -> String {
        format!("alert tls any any -> any any ({opts})")
    }

    // ---- Rules in the style of real SNI rule sets ----

    #[test]
    fn et_style_policy_rule() {
        let text = "# Emerging-Threats-style policy rules\n\
            \n\
            alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET POLICY Observed Example Domain (example .com in TLS SNI)\"; \\\n\
            \x20   flow:established,to_server; tls.sni; content:\"example.com\"; bsize:11; fast_pattern; \\\n\
            \x20   reference:url,www.example.org/analysis; classtype:policy-violation; sid:2030000; rev:1; \\\n\
            \x20   metadata:attack_target Client_Endpoint, created_at 2020_04_20, deployment Perimeter, signature_severity Informational, updated_at 2020_04_20;)\n\
            alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET INFO Example CDN (cdn .example .net in TLS SNI)\"; flow:established,to_server; tls.sni; dotprefix; content:\".cdn.example.net\"; endswith; fast_pattern; classtype:misc-activity; sid:2030001; rev:3;)\n";
        let p = parsed(text);
        assert_eq!(p.rules.len(), 2);
        let r = &p.rules[0];
        assert_eq!(r.id, 2030000);
        assert_eq!(r.rev, 1);
        assert_eq!(r.action, Action::Alert);
        assert_eq!(
            r.msg,
            "ET POLICY Observed Example Domain (example .com in TLS SNI)"
        );
        assert_eq!(r.priority, crate::rules::DEFAULT_PRIORITY);
        assert_eq!(r.category, "policy-violation");
        assert_eq!(r.dialect, Dialect::Suricata);
        assert_eq!(
            r.span,
            Span {
                file: 0,
                line: 3,
                col: 1
            }
        );
        // bsize equal to the content's length: the content is the whole name.
        assert_eq!(
            r.conds,
            vec![
                Cond::App(vec![AppProto::Tls]),
                name(
                    Source::TlsSni,
                    vec![NamePattern::Exact("example.com".into())]
                ),
            ]
        );
        let r = &p.rules[1];
        assert_eq!(
            (r.id, r.rev, r.category.as_str()),
            (2030001, 3, "misc-activity")
        );
        assert_eq!(
            r.conds,
            vec![
                Cond::App(vec![AppProto::Tls]),
                name(
                    Source::TlsSni,
                    vec![NamePattern::Domain("cdn.example.net".into())]
                ),
            ]
        );
        // Each variable is reported once per file, where first seen.
        assert_eq!(
            warnings(&p),
            vec![
                (3, 11, "`$HOME_NET` is taken as any address".to_string()),
                (3, 28, "`$EXTERNAL_NET` is taken as any address".to_string()),
            ]
        );
    }

    #[test]
    fn dns_query_nocase() {
        let p = parsed(
            "alert dns $HOME_NET any -> any any (msg:\"ET DNS Query for Evil\"; dns.query; content:\"Evil\"; nocase; sid:2;)\n\
             alert dns $HOME_NET any -> any any (msg:\"no nocase\"; dns.query; content:\"Evil.Example\"; sid:3;)\n",
        );
        assert_eq!(
            p.rules[0].conds,
            vec![
                Cond::App(vec![AppProto::Dns]),
                name(Source::DnsQuery, vec![contains("evil", false, false)]),
            ]
        );
        assert_eq!(
            p.rules[1].conds[1],
            name(
                Source::DnsQuery,
                vec![contains("evil.example", false, false)]
            )
        );
        // With nocase the content says it is caseless: only rule 3 warns.
        let w = warnings(&p);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[1],
            (
                2,
                73,
                "content `Evil.Example` matches as `evil.example`: names are compared case-insensitively".to_string()
            )
        );
    }

    #[test]
    fn quic_http_and_pcre() {
        assert_eq!(
            conds("alert quic any any -> any any (msg:\"QUIC to example\"; quic.sni; content:\"example.org\"; startswith; endswith; sid:4;)"),
            vec![
                Cond::App(vec![AppProto::Quic]),
                name(Source::QuicSni, vec![NamePattern::Exact("example.org".into())]),
            ]
        );
        assert_eq!(
            conds("alert http $HOME_NET any -> $EXTERNAL_NET any (msg:\"host starts with x\"; flow:established,to_server; http.host; content:\"x\"; startswith; sid:5;)"),
            vec![
                Cond::App(vec![AppProto::Http]),
                name(Source::HttpHost, vec![contains("x", true, false)]),
            ]
        );
        assert_eq!(
            conds(
                r#"alert tls any any -> any any (msg:"cdn"; tls.sni; pcre:"/^cdn[0-9]+\./i"; sid:6;)"#
            ),
            vec![
                Cond::App(vec![AppProto::Tls]),
                name(
                    Source::TlsSni,
                    vec![NamePattern::Regex(r"^cdn[0-9]+\.".into())]
                ),
            ]
        );
        // Contents are ANDed: one condition each; a pcre is one more.
        assert_eq!(
            conds(
                r#"alert ip any any -> any any (tls.sni; content:"cdn"; content:".example.com"; endswith; pcre:"/^cdn[0-9]/"; sid:7;)"#
            ),
            vec![
                name(Source::TlsSni, vec![contains("cdn", false, false)]),
                name(
                    Source::TlsSni,
                    vec![NamePattern::Subdomains("example.com".into())]
                ),
                name(Source::TlsSni, vec![NamePattern::Regex("^cdn[0-9]".into())]),
            ]
        );
        // Several buffers in one rule.
        assert_eq!(
            conds(
                r#"alert ip any any -> any any (tls.sni; content:"a"; http.host; content:"b"; endswith; sid:8;)"#
            ),
            vec![
                name(Source::TlsSni, vec![contains("a", false, false)]),
                name(Source::HttpHost, vec![contains("b", false, true)]),
            ]
        );
    }

    #[test]
    fn content_to_patterns() {
        use NamePattern::{Domain, Exact, Subdomains};
        let p = |t: &str, s: bool, e: bool, d: bool| content_patterns(t, s, e, d);
        // Without dotprefix.
        assert_eq!(
            p("example.com", false, false, false),
            Some(vec![contains("example.com", false, false)])
        );
        assert_eq!(
            p("example.com", true, false, false),
            Some(vec![contains("example.com", true, false)])
        );
        assert_eq!(
            p("example.com", false, true, false),
            Some(vec![contains("example.com", false, true)])
        );
        assert_eq!(
            p("example.com", true, true, false),
            Some(vec![Exact("example.com".into())])
        );
        assert_eq!(
            p(".example.com", false, true, false),
            Some(vec![Subdomains("example.com".into())])
        );
        assert_eq!(
            p(".example.com", true, true, false),
            Some(vec![contains(".example.com", true, true)])
        );
        assert_eq!(
            p("a b", true, true, false),
            Some(vec![contains("a b", true, true)])
        );
        assert_eq!(
            p(".a*b", false, true, false),
            Some(vec![contains(".a*b", false, true)])
        );
        // With dotprefix: the buffer is `.name`.
        assert_eq!(
            p(".example.com", false, true, true),
            Some(vec![Domain("example.com".into())])
        );
        assert_eq!(
            p(".example.com", true, true, true),
            Some(vec![Exact("example.com".into())])
        );
        assert_eq!(
            p(".example", true, false, true),
            Some(vec![contains("example", true, false)])
        );
        assert_eq!(
            p(".example.com", false, false, true),
            Some(vec![
                contains("example.com", true, false),
                contains(".example.com", false, false)
            ])
        );
        assert_eq!(
            p(".ex*mple", false, true, true),
            Some(vec![
                contains("ex*mple", true, true),
                contains(".ex*mple", false, true)
            ])
        );
        assert_eq!(
            p(".x y", true, true, true),
            Some(vec![contains("x y", true, true)])
        );
        assert_eq!(
            p("example", false, false, true),
            Some(vec![contains("example", false, false)])
        );
        assert_eq!(
            p("example.com", false, true, true),
            Some(vec![contains("example.com", false, true)])
        );
        assert_eq!(p("example", true, false, true), None);
        assert_eq!(p("example", true, true, true), None);
    }

    #[test]
    fn dotprefix_forms() {
        assert_eq!(
            conds(
                r#"alert dns any any -> any any (dns.query; dotprefix; content:".microsoft.com"; sid:1;)"#
            )[1],
            name(
                Source::DnsQuery,
                vec![
                    contains("microsoft.com", true, false),
                    contains(".microsoft.com", false, false)
                ]
            )
        );
        assert_eq!(
            conds(
                r#"alert dns any any -> any any (dns.query; dotprefix; content:".example.net"; endswith; sid:1;)"#
            )[1],
            name(
                Source::DnsQuery,
                vec![NamePattern::Domain("example.net".into())]
            )
        );
        // A content without its dot matches inside the name.
        assert_eq!(
            conds(
                r#"alert dns any any -> any any (dns.query; dotprefix; content:"example.net"; endswith; sid:1;)"#
            )[1],
            name(Source::DnsQuery, vec![contains("example.net", false, true)])
        );
    }

    #[test]
    fn dotprefix_errors() {
        assert_eq!(
            error(&tls(
                r#"tls.sni; dotprefix; content:"example"; startswith; sid:1;"#
            )),
            (
                59,
                "content `example` can never match at the start of a `dotprefix` buffer"
                    .to_string(),
                Some(
                    "`dotprefix` puts a `.` before the name: write the content as `.example`"
                        .into()
                )
            )
        );
        assert_eq!(
            error(&tls(r#"tls.sni; content:".example.com"; dotprefix; endswith; sid:1;"#)),
            (
                64,
                "`dotprefix` must come right after `tls.sni`, once".to_string(),
                Some("it transforms the whole buffer: `tls.sni; dotprefix; content:\".example.com\"; endswith;`".into())
            )
        );
        assert_eq!(
            err_at(&tls(
                r#"tls.sni; dotprefix; dotprefix; content:".a"; sid:1;"#
            )),
            (
                51,
                "`dotprefix` must come right after `tls.sni`, once".to_string()
            )
        );
        assert_eq!(
            error(&tls(r#"dotprefix; content:".a"; sid:1;"#)),
            (
                31,
                "`dotprefix` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`".to_string(),
                Some("sift matches server names: write `tls.sni;` (or another) before `dotprefix`".into())
            )
        );
        assert_eq!(
            error(&tls(r#"tls.sni; dotprefix; pcre:"/^a/"; sid:1;"#)),
            (
                51,
                "`pcre` on a `dotprefix` buffer is not supported".to_string(),
                Some("sift matches a regex against the bare name (`^` and `$` are its ends): drop `dotprefix` and write the regex for the name".into())
            )
        );
        // A new sticky buffer starts without the transform.
        assert_eq!(
            conds(&tls(
                r#"tls.sni; dotprefix; content:".a.com"; endswith; tls.sni; content:"b"; startswith; sid:1;"#
            ))[1..],
            [
                name(Source::TlsSni, vec![NamePattern::Domain("a.com".into())]),
                name(Source::TlsSni, vec![contains("b", true, false)]),
            ]
        );
    }

    #[test]
    fn bsize_forms() {
        let len = |opts: &str| conds(&tls(&format!("tls.sni; {opts} sid:1;")))[1..].to_vec();
        let length = |min: usize, max: usize| Cond::NameLength {
            sources: Sources::one(Source::TlsSni),
            min,
            max,
        };
        assert_eq!(len("bsize:11;"), vec![length(11, 11)]);
        assert_eq!(len("bsize:=0x0b;"), vec![length(11, 11)]);
        assert_eq!(len("bsize:<11;"), vec![length(0, 10)]);
        assert_eq!(len("bsize:<=11;"), vec![length(0, 11)]);
        assert_eq!(len("bsize:>11;"), vec![length(12, usize::MAX)]);
        assert_eq!(len("bsize:>=11;"), vec![length(11, usize::MAX)]);
        assert_eq!(len("bsize:5<>9;"), vec![length(6, 8)]);
        assert_eq!(len("bsize: 5 <> 9 ;"), vec![length(6, 8)]);
        assert_eq!(len("bsize:5-9;"), vec![length(6, 8)]);
        // Suricata checks the transformed buffer: one byte more than the name.
        assert_eq!(len("dotprefix; bsize:12;"), vec![length(11, 11)]);
        assert_eq!(len("dotprefix; bsize:<=1;"), vec![length(0, 0)]);
        assert_eq!(len("dotprefix; bsize:>3;"), vec![length(3, usize::MAX)]);
        // An exact bsize as long as a content makes it the whole name; a
        // different one is kept as a length.
        assert_eq!(
            len(r#"content:"example.com"; bsize:11;"#),
            vec![name(
                Source::TlsSni,
                vec![NamePattern::Exact("example.com".into())]
            )]
        );
        assert_eq!(
            len(r#"bsize:11; content:"example.com";"#),
            vec![
                length(11, 11),
                name(
                    Source::TlsSni,
                    vec![NamePattern::Exact("example.com".into())]
                )
            ]
            .into_iter()
            .filter(|c| !matches!(c, Cond::NameLength { .. }))
            .collect::<Vec<_>>()
        );
        assert_eq!(
            len(r#"dotprefix; content:".example.com"; bsize:12;"#),
            vec![name(
                Source::TlsSni,
                vec![NamePattern::Exact("example.com".into())]
            )]
        );
        assert_eq!(
            len(r#"content:"example"; bsize:<20;"#),
            vec![
                name(Source::TlsSni, vec![contains("example", false, false)]),
                length(0, 19)
            ]
        );
        assert_eq!(
            len(r#"content:"google.com"; bsize:12;"#),
            vec![
                name(Source::TlsSni, vec![contains("google.com", false, false)]),
                length(12, 12)
            ]
        );
    }

    #[test]
    fn bsize_errors() {
        let e = |opts: &str| error(&tls(&format!("tls.sni; {opts} sid:1;")));
        assert_eq!(
            e(r#"content:"example.com"; bsize:5;"#),
            (
                69,
                "`bsize:5` can never match: content `example.com` is 11 bytes".to_string(),
                None
            )
        );
        assert_eq!(
            e(r#"content:"example.com"; startswith; endswith; bsize:>20;"#).1,
            "`bsize:>20` can never match: content `example.com` is 11 bytes"
        );
        assert_eq!(
            e("bsize:<0;"),
            (46, "`bsize:<0` can never match".to_string(), None)
        );
        assert_eq!(
            e("bsize:5<>6;"),
            (
                46,
                "`bsize:5<>6` allows no length".to_string(),
                Some("ranges are exclusive: `5<>8` means 6 or 7".into())
            )
        );
        assert_eq!(
            e("bsize:!5;"),
            (
                46,
                "negated `bsize` is not supported".to_string(),
                Some(NOT_HINT.into())
            )
        );
        assert_eq!(
            e("bsize:abc;"),
            (
                46,
                "`abc` is not a length".to_string(),
                Some("`bsize:N`, `<N`, `<=N`, `>N`, `>=N` or `N<>M` (exclusive)".into())
            )
        );
        assert_eq!(
            e("bsize:99999999999999999999999;").1,
            "`99999999999999999999999` is not a length"
        );
        assert_eq!(
            e("bsize:>18446744073709551615;").1,
            "`bsize:>18446744073709551615` can never match"
        );
        assert_eq!(
            e("bsize:1; bsize:2;"),
            (
                49,
                "`bsize` appears twice for this `tls.sni`".to_string(),
                None
            )
        );
        assert_eq!(
            e("dotprefix; bsize:0;"),
            (
                57,
                "`bsize:0` can never match a `dotprefix` buffer".to_string(),
                Some("the buffer holds at least the added `.`".into())
            )
        );
        assert_eq!(
            err_at(&tls("bsize:3; sid:1;")),
            (
                31,
                "`bsize` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                    .to_string()
            )
        );
    }

    // ---- Header ----

    #[test]
    fn actions() {
        let with = |a: &str| format!("{a} tls any any -> any any (tls.sni; content:\"x\"; sid:1;)");
        assert_eq!(rule(&with("alert")).action, Action::Alert);
        assert_eq!(rule(&with("drop")).action, Action::Drop);
        assert_eq!(rule(&with("pass")).action, Action::Pass);
        for r in ["reject", "rejectsrc", "rejectdst", "rejectboth"] {
            let (col, msg, hint) = error(&with(r));
            assert_eq!(col, 1);
            assert_eq!(msg, format!("`{r}` is not a sift action"));
            assert_eq!(
                hint.as_deref(),
                Some("sift records verdicts and never resets traffic: use `drop`")
            );
        }
        assert_eq!(
            error(&with("log")),
            (
                1,
                "`log` is not a Suricata action".to_string(),
                Some(
                    "Suricata rules use alert, drop or pass (`log` is in sift's own rule language)"
                        .into()
                )
            )
        );
        assert_eq!(
            error(&with("alret")),
            (
                1,
                "expected a rule action (alert, drop or pass), found `alret`".to_string(),
                Some("did you mean `alert`?".into())
            )
        );
    }

    #[test]
    fn protocols() {
        use crate::decode::ip::proto;
        let with = |p: &str| conds(&format!("alert {p} any any -> any any (sid:1;)"));
        assert!(with("ip").is_empty());
        assert!(with("any").is_empty());
        assert!(with("pkthdr").is_empty());
        assert_eq!(with("tcp"), vec![Cond::Transport(vec![proto::TCP])]);
        assert_eq!(with("udp"), vec![Cond::Transport(vec![proto::UDP])]);
        assert_eq!(with("sctp"), vec![Cond::Transport(vec![proto::SCTP])]);
        assert_eq!(
            with("icmp"),
            vec![Cond::Transport(vec![proto::ICMP, proto::ICMPV6])]
        );
        assert_eq!(with("icmpv4"), vec![Cond::Transport(vec![proto::ICMP])]);
        assert_eq!(with("icmpv6"), vec![Cond::Transport(vec![proto::ICMPV6])]);
        assert_eq!(with("TCP"), vec![Cond::Transport(vec![proto::TCP])]);
        assert_eq!(with("http"), vec![Cond::App(vec![AppProto::Http])]);
        assert_eq!(with("http1"), vec![Cond::App(vec![AppProto::Http])]);
        assert_eq!(with("dns"), vec![Cond::App(vec![AppProto::Dns])]);
        assert_eq!(with("ikev2"), vec![Cond::App(vec![AppProto::Ike])]);
        assert_eq!(
            with("wireguard"),
            vec![Cond::App(vec![AppProto::WireGuard])]
        );
        assert_eq!(
            error("alert ssh any any -> any any (sid:1;)"),
            (
                7,
                "sift does not classify `ssh`".to_string(),
                Some(format!(
                    "sift classifies {SIFT_APPS}; ip, tcp, udp, icmp and sctp work too"
                ))
            )
        );
        assert_eq!(
            error("alert tlss any any -> any any (sid:1;)"),
            (
                7,
                "unknown protocol `tlss`".to_string(),
                Some("did you mean `tls`?".into())
            )
        );
        assert_eq!(
            error("alert frobnicate any any -> any any (sid:1;)").2,
            Some(format!(
                "ip, any, tcp, udp, icmp, sctp, or what sift classifies: {SIFT_APPS}"
            ))
        );
    }

    #[test]
    fn addresses_and_ports() {
        // (A first rule, as source::detect looks for the arrow within
        // the first words, which lists with spaces push further.)
        let p = parsed(&format!(
            "{FIRST}alert tcp [10.0.0.0/8, 192.0.2.1,[2001:db8::/32]] [1024:, 22] -> 198.51.100.0/24 [80,443,8000:8080,:10] (sid:1;)"
        ));
        let c = p.rules[1].conds.clone();
        let net = |s: &str| Cidr::parse(s).unwrap();
        assert_eq!(
            c[1..],
            [
                Cond::Ip {
                    side: Side::Client,
                    nets: vec![net("10.0.0.0/8"), net("192.0.2.1"), net("2001:db8::/32")]
                },
                Cond::Port {
                    side: Side::Client,
                    ranges: vec![(1024, 65535), (22, 22)]
                },
                Cond::Ip {
                    side: Side::Server,
                    nets: vec![net("198.51.100.0/24")]
                },
                Cond::Port {
                    side: Side::Server,
                    ranges: vec![(80, 80), (443, 443), (8000, 8080), (0, 10)]
                },
            ]
        );
        // `<>`: either end; `any` in a list is any; spaces in lists.
        assert_eq!(
            parsed(&format!(
                "{FIRST}alert udp 192.0.2.7 [53, any] <> any [80: 82] (sid:1;)"
            ))
            .rules[1]
                .conds[1..],
            [
                Cond::Ip {
                    side: Side::Either,
                    nets: vec![net("192.0.2.7")]
                },
                Cond::Port {
                    side: Side::Either,
                    ranges: vec![(80, 82)]
                },
            ]
        );
        // Variables are any, with a warning once per file.
        let p = parsed(
            "alert tls $HOME_NET $HTTP_PORTS -> [$EXTERNAL_NET, 10.0.0.1] any (sid:1;)\n\
             alert tls $HOME_NET any -> any $HTTP_PORTS (sid:2;)\n",
        );
        assert_eq!(p.rules[0].conds, vec![Cond::App(vec![AppProto::Tls])]);
        assert_eq!(
            warnings(&p),
            vec![
                (1, 11, "`$HOME_NET` is taken as any address".to_string()),
                (1, 21, "`$HTTP_PORTS` is taken as any port".to_string()),
                (1, 37, "`$EXTERNAL_NET` is taken as any address".to_string()),
            ]
        );
        assert_eq!(
            p.warnings[1].hint.as_deref(),
            Some("sift has no rule variables; write the ports to restrict the rule (reported once per file)")
        );
    }

    #[test]
    fn header_errors() {
        let neg = format!("{NOT_HINT}; or list the addresses the rule is for");
        assert_eq!(
            error("alert tls !10.0.0.1 any -> any any (sid:1;)"),
            (
                11,
                "negated addresses are not supported".to_string(),
                Some(neg)
            )
        );
        assert_eq!(
            err_at("alert tls [10.0.0.0/8, !10.0.0.5] any -> any any (sid:1;)"),
            (24, "negated addresses are not supported".to_string())
        );
        assert_eq!(
            err_at("alert tls any !80 -> any any (sid:1;)"),
            (15, "negated ports are not supported".to_string())
        );
        assert_eq!(
            err_at("alert tls any any -> 10.0.0.300 any (sid:1;)"),
            (
                22,
                "`10.0.0.300` is not an IPv4 or IPv6 address".to_string()
            )
        );
        assert_eq!(
            err_at("alert tls any any -> 10.0.0.0/40 any (sid:1;)"),
            (22, "prefix length `40` is not 0 to 32".to_string())
        );
        assert_eq!(
            error("alert tls any any -> any 70000 (sid:1;)"),
            (
                26,
                "`70000` is not a port or port range (0 to 65535)".to_string(),
                Some("a port (443), a range (1024:2048, 1024:, :1023), a list `[80, 443]`, `any` or a `$VARIABLE`".into())
            )
        );
        assert_eq!(
            err_at("alert tls any any -> any 90:80 (sid:1;)"),
            (26, "port range `90:80` runs backwards".to_string())
        );
        assert_eq!(
            err_at("alert tls any any -> any [] (sid:1;)"),
            (26, "empty port list".to_string())
        );
        assert_eq!(
            err_at("alert tls any any -> any [80 443] (sid:1;)"),
            (
                27,
                "`80443` is not a port or port range (0 to 65535)".to_string()
            )
        );
        assert_eq!(
            error("alert tls [1.2.3.4 any -> any any (sid:1;)"),
            (
                11,
                "this `[` is never closed".to_string(),
                Some("close the list with `]`".into())
            )
        );
        assert_eq!(
            err_at("alert tls [1.2.3.4 any] any -> any any (sid:1;)"),
            (
                12,
                "`1.2.3.4 any` is not an IPv4 or IPv6 address".to_string()
            )
        );
        assert_eq!(
            err_at("alert tls [1.2.3.4[5.6.7.8]] any -> any any (sid:1;)"),
            (
                19,
                "expected `,` or `]` in the address list, found `[`".to_string()
            )
        );
        assert_eq!(
            err_at("alert tls [1.2.3.4,[5.6.7.8] any -> any any (sid:1;)"),
            (11, "this `[` is never closed".to_string())
        );
        assert_eq!(
            err_at("alert tls [1.2.3.4],5.6.7.8 any -> any any (sid:1;)"),
            (20, "unexpected `,` in the address field".to_string())
        );
        let deep = format!(
            "alert tls {}1.2.3.4{} any -> any any (sid:1;)",
            "[".repeat(20),
            "]".repeat(20)
        );
        assert_eq!(
            err_at(&deep),
            (19, "address lists nested too deep".to_string())
        );
        // Directions and missing fields; a first rule makes these files
        // Suricata rules.
        let second = |r: &str| {
            let e = errors(&format!("{FIRST}{r}"));
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!(e[0].0, 2);
            (e[0].1, e[0].2.clone(), e[0].3.clone())
        };
        assert_eq!(
            second("alert tls any any <- any any (sid:1;)"),
            (
                19,
                "expected `->` or `<>`, found `<-`".to_string(),
                Some("there is no `<-`: swap the two sides and write `->`".into())
            )
        );
        assert_eq!(
            second("alert tls any -> any any (sid:1;)"),
            (
                15,
                "expected a source port before `->`".to_string(),
                Some(HEADER.into())
            )
        );
        assert_eq!(
            second("alert tls any any -> any (sid:1;)").1,
            "expected a destination port, found `(`"
        );
        assert_eq!(
            second("alert tls any any -> any any").1,
            "expected `(` and the rule's options, found the end of the rule"
        );
        assert_eq!(
            second("alert tls any any -> any any any (sid:1;)"),
            (
                30,
                "expected `(` to open the rule's options, found `any`".to_string(),
                Some(HEADER.into())
            )
        );
        assert_eq!(
            second("alert tls any any any -> any (sid:1;)").1,
            "expected `->` or `<>`, found `any`"
        );
        assert_eq!(
            second("alert"),
            (
                6,
                "expected a protocol, found the end of the rule".to_string(),
                Some(HEADER.into())
            )
        );
        assert_eq!(
            second("(sid:1;)").1,
            "expected a rule action (alert, drop or pass), found `(`"
        );
    }

    // ---- Options ----

    #[test]
    fn meta_options() {
        let r = rule(
            r#"drop tls any any -> any any (msg:"a \"quoted\"\; semi\\colon"; priority:1; rev:7; classtype:trojan-activity; reference:url,example.org; metadata:created_at 2024_01_01; tls.sni; content:"x"; fast_pattern; sid:4294967295;)"#,
        );
        assert_eq!(r.msg, r#"a "quoted"; semi\colon"#);
        assert_eq!((r.priority, r.rev, r.id), (1, 7, u32::MAX));
        assert_eq!(r.category, "trojan-activity");
        assert_eq!(r.action, Action::Drop);
        // Defaults: no msg, rev 0 (as Suricata reports it), priority 3.
        let r = rule("pass tls any any -> any any (tls.sni; content:\"x\"; sid:1)");
        assert_eq!(
            (r.msg.as_str(), r.rev, r.priority),
            ("", 0, crate::rules::DEFAULT_PRIORITY)
        );
        // The flow values that hold for names a client sends.
        for f in [
            "established",
            "to_server",
            "from_client",
            "established,to_server",
            " established , to_server ",
        ] {
            assert_eq!(
                rule(&tls(&format!("flow:{f}; tls.sni; content:\"x\"; sid:1;"))).id,
                1,
                "{f}"
            );
        }
    }

    #[test]
    fn meta_errors() {
        assert_eq!(
            error(&tls(r#"msg:"no sid"; tls.sni; content:"x";"#)),
            (
                1,
                "this rule has no `sid`".to_string(),
                Some(
                    "every rule needs a sid: add `sid:N;` with a number no other rule uses".into()
                )
            )
        );
        assert_eq!(
            err_at(&tls("sid:0;")),
            (35, "`sid` must be 1 to 4294967295, found `0`".to_string())
        );
        assert_eq!(
            err_at(&tls("sid:4294967296;")),
            (
                35,
                "`sid` must be 1 to 4294967295, found `4294967296`".to_string()
            )
        );
        assert_eq!(
            err_at(&tls("sid:1; sid:2;")),
            (38, "`sid` appears twice in this rule".to_string())
        );
        assert_eq!(
            error(&tls("sid:1; priority:0;")),
            (
                47,
                "`priority` must be 1 to 255, found `0`".to_string(),
                Some("1 is the highest priority".into())
            )
        );
        assert_eq!(
            err_at(&tls("sid:1; priority:256;")).1,
            "`priority` must be 1 to 255, found `256`"
        );
        assert_eq!(
            err_at(&tls("sid:1; rev:x;")),
            (42, "`rev` must be 0 to 4294967295, found `x`".to_string())
        );
        assert_eq!(
            error(&tls("sid:1; msg:hello;")),
            (
                42,
                "expected a quoted value for `msg`".to_string(),
                Some("msg:\"what this rule finds\";".into())
            )
        );
        assert_eq!(
            error(&tls("sid:1; msg;")),
            (
                38,
                "`msg` needs a value".to_string(),
                Some("msg:\"what this rule finds\";".into())
            )
        );
        assert_eq!(
            err_at(&tls("sid:; msg:\"x\";")),
            (31, "`sid` needs a value".to_string())
        );
        assert_eq!(
            err_at(&tls(r#"sid:1; msg:"a" "b";"#)),
            (46, "unexpected `\"b\"` after the closing quote".to_string())
        );
        assert_eq!(
            error(&tls("sid:1; flow:established,to_client;")),
            (
                55,
                "unsupported flow value `to_client`".to_string(),
                Some("sift matches names the client sends, so only `established`, `to_server` and `from_client` apply".into())
            )
        );
        assert_eq!(
            err_at(&tls("sid:1; flow:established,;")).1,
            "unsupported flow value `(empty)`"
        );
        assert_eq!(
            error(&tls("sid:1; nocase:1;")),
            (
                45,
                "`nocase` takes no value".to_string(),
                Some("write `nocase;`".into())
            )
        );
        assert_eq!(
            error(&tls(r#"msg "x"; sid:1;"#)),
            (
                35,
                "expected `:` or `;` after `msg`, found `\"`".to_string(),
                None
            )
        );
        // Without its `;`, the next option is part of the value.
        assert_eq!(
            err_at(&tls(r#"sid:1 msg:"x";"#)),
            (
                35,
                "`sid` must be 1 to 4294967295, found `1 msg:\"x\"`".to_string()
            )
        );
        assert_eq!(
            err_at(&tls("sid:1;; msg:\"x\";")),
            (37, "expected an option keyword, found `;`".to_string())
        );
    }

    #[test]
    fn unsupported_keywords_at_their_column() {
        let e = |opts: &str| error(&tls(opts));
        assert_eq!(
            e(r#"http.uri; content:"/x"; sid:1;"#),
            (
                31,
                "unsupported keyword `http.uri`".to_string(),
                Some(format!("sift reads {}", SUPPORTED.join(", ")))
            )
        );
        let whole = "sift matches whole names: use `startswith`, `endswith`, `bsize` or `pcre`";
        for (k, col) in [
            ("depth:4", 59),
            ("offset:1", 59),
            ("distance:0", 59),
            ("within:5", 59),
            ("isdataat:!1,relative", 59),
        ] {
            let (c, msg, hint) = e(&format!(r#"tls.sni; content:"example"; {k}; sid:1;"#));
            let key = k.split(':').next().unwrap();
            assert_eq!(
                (c, msg.as_str()),
                (col, format!("unsupported keyword `{key}`").as_str())
            );
            assert_eq!(hint.as_deref(), Some(whole));
        }
        assert_eq!(
            e(r#"tls.sni; content:"x"; byte_test:1,>,2,0; flowbits:set,x; sid:1;"#).0,
            53
        );
        assert_eq!(
            e(r#"flowbits:isset,foo; tls.sni; content:"x"; sid:1;"#).1,
            "unsupported keyword `flowbits`"
        );
        assert_eq!(
            e(r#"tls.sni; content:"x"; threshold:type limit, track by_src, count 1, seconds 60; sid:1;"#).1,
            "unsupported keyword `threshold`"
        );
        assert_eq!(
            e("ja3.hash; content:\"e7d705a3286e19ea42f587b344ee6865\"; sid:1;"),
            (
                31,
                "unsupported keyword `ja3.hash`".to_string(),
                Some("sift's own rule language matches fingerprints: `ja3 <hash>`, `ja4 <fingerprint>`".into())
            )
        );
        assert_eq!(
            e(r#"content:"example.com"; http_host; sid:1;"#),
            (
                54,
                "unsupported keyword `http_host`".to_string(),
                Some("the old content modifier: write `http.host;` before the content".into())
            )
        );
        assert_eq!(
            e(r#"tls_sni; content:"example.com"; sid:1;"#).2,
            Some("the old name of the sticky buffer: write `tls.sni;` before the content".into())
        );
        assert_eq!(
            e(r#"dns_query; content:"example.com"; sid:1;"#).2,
            Some("the old name of the sticky buffer: write `dns.query;` before the content".into())
        );
        assert_eq!(
            e(r#"http.host.raw; content:"x"; sid:1;"#).2,
            Some(
                "sift matches the normalized host (lowercase, without the port): use `http.host`"
                    .into()
            )
        );
        assert_eq!(
            e(r#"tls.sn; content:"x"; sid:1;"#).2,
            Some("did you mean `tls.sni`?".into())
        );
        // A keyword on a continuation line is placed on that line.
        let errs = errors("alert tls any any -> any any (tls.sni; \\\n   content:\"x\"; \\\n  \tdepth:3; sid:1;)\n");
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].0, errs[0].1), (3, 4));
    }

    #[test]
    fn content_forms() {
        let c = |v: &str| conds(&tls(&format!("tls.sni; content:{v}; sid:1;")))[1].clone();
        assert_eq!(
            c(r#""|65 78|ample|2E|com""#),
            name(Source::TlsSni, vec![contains("example.com", false, false)])
        );
        assert_eq!(
            c(r#""a|3a|b""#),
            name(Source::TlsSni, vec![contains("a:b", false, false)])
        );
        assert_eq!(
            c(r#""a\;b\"c\\d\:e""#),
            name(Source::TlsSni, vec![contains("a;b\"c\\d:e", false, false)])
        );
        assert_eq!(
            c(r#" "spaced" "#),
            name(Source::TlsSni, vec![contains("spaced", false, false)])
        );
        assert_eq!(
            c(r#""a;b""#),
            name(Source::TlsSni, vec![contains("a;b", false, false)])
        );
        assert_eq!(
            c(r#""bücher.example""#),
            name(
                Source::TlsSni,
                vec![contains("bücher.example", false, false)]
            )
        );
        // The same content twice is one condition.
        assert_eq!(
            conds(&tls(r#"tls.sni; content:"a"; content:"a"; sid:1;"#)).len(),
            2
        );
    }

    #[test]
    fn content_errors() {
        let e = |v: &str| error(&tls(&format!("tls.sni; {v} sid:1;")));
        assert_eq!(
            e(r#"content:!"example.com";"#),
            (
                48,
                "negated content is not supported".to_string(),
                Some(NOT_HINT.into())
            )
        );
        assert_eq!(e(r#"content:"";"#), (48, "empty content".to_string(), None));
        assert_eq!(
            e(r#"content:example;"#),
            (
                48,
                "expected a quoted value for `content`".to_string(),
                Some("content:\"example.com\";".into())
            )
        );
        assert_eq!(
            e(r#"content:"a|0a|b";"#),
            (
                48,
                "content holds the byte `|0a|`, which no server name holds".to_string(),
                None
            )
        );
        assert_eq!(
            e(r#"content:"|ff fe|";"#),
            (
                48,
                "content is not UTF-8 text".to_string(),
                Some("names are compared as text; an internationalized name is matched in its xn-- form".into())
            )
        );
        assert_eq!(
            e(r#"content:"a|2g|";"#),
            (
                52,
                "`g` is not a hex digit".to_string(),
                Some("between pipes, write bytes in hex: `|2e 63 6f 6d|`".into())
            )
        );
        assert_eq!(
            e(r#"content:"a|2e 6|";"#),
            (
                54,
                "a hex byte is two digits".to_string(),
                Some("write `|0a|`, not `|a|`".into())
            )
        );
        assert_eq!(
            e(r#"content:"a|2e";"#),
            (
                50,
                "this `|` is never closed".to_string(),
                Some("hex bytes go between two pipes: `|2e 63 6f 6d|`".into())
            )
        );
        assert_eq!(
            e(r#"content:"a\xb";"#),
            (
                50,
                "unknown escape `\\x` in content".to_string(),
                Some("in a content `\\` escapes only `;`, `\"`, `:` and `\\`; write other bytes in hex, such as `|2e|`".into())
            )
        );
        assert_eq!(
            error(&tls(r#"content:"example.com"; sid:1;"#)),
            (
                31,
                "`content` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                    .to_string(),
                Some(
                    "sift matches server names: write `tls.sni;` (or another) before `content`"
                        .into()
                )
            )
        );
        for m in ["nocase", "startswith", "endswith"] {
            assert_eq!(
                error(&tls(&format!("tls.sni; {m}; sid:1;"))),
                (
                    40,
                    format!("`{m}` must follow a `content`"),
                    Some(format!(
                        "it modifies the content before it: `content:\"example\"; {m};`"
                    ))
                )
            );
        }
        // A new buffer leaves the previous content behind.
        assert_eq!(
            err_at(&tls(r#"tls.sni; content:"a"; dns.query; nocase; sid:1;"#)),
            (64, "`nocase` must follow a `content`".to_string())
        );
    }

    #[test]
    fn pcre_forms_and_errors() {
        let e = |v: &str| error(&tls(&format!("tls.sni; {v} sid:1;")));
        assert_eq!(
            conds(&tls(r#"tls.sni; pcre:"/\"q\;x\//"; sid:1;"#))[1],
            name(
                Source::TlsSni,
                vec![NamePattern::Regex(r#"\"q\;x\/"#.into())]
            )
        );
        assert_eq!(
            e(r#"pcre:"/^a/R";"#),
            (
                50,
                "unsupported pcre flag `R`".to_string(),
                Some("sift reads only `i` (names are matched case-insensitively); the regex is matched against the whole name".into())
            )
        );
        assert_eq!(
            e(r#"pcre:"/^a/iW";"#),
            (
                51,
                "unsupported pcre flag `W`".to_string(),
                Some(
                    "`W` selects the HTTP host: write `http.host;` before the pcre instead".into()
                )
            )
        );
        assert_eq!(
            e(r#"pcre:!"/^a/";"#),
            (
                45,
                "negated pcre is not supported".to_string(),
                Some(NOT_HINT.into())
            )
        );
        assert_eq!(
            e(r#"pcre:"^a";"#),
            (
                45,
                "expected `\"/regex/flags\"` for `pcre`".to_string(),
                Some("pcre:\"/^cdn[0-9]+\\./i\";".into())
            )
        );
        assert_eq!(e(r#"pcre:"/^a";"#).1, "this pcre has no closing `/`");
        let (col, msg, hint) = e(r#"pcre:"/(foo/";"#);
        assert_eq!(col, 46);
        assert!(
            msg.starts_with("invalid regex: ") && msg.contains("Missing close parenthesis"),
            "{msg}"
        );
        assert_eq!(
            hint.as_deref(),
            Some("Hyperscan syntax (PCRE without backreferences or lookaround)")
        );
        assert_eq!(
            err_at(&tls(r#"pcre:"/a/"; sid:1;"#)),
            (
                31,
                "`pcre` needs a buffer first: `tls.sni`, `quic.sni`, `dns.query` or `http.host`"
                    .to_string()
            )
        );
    }

    #[test]
    fn app_layer_protocol() {
        assert_eq!(
            conds("alert ip any any -> any any (app-layer-protocol:tls; tls.sni; content:\"x\"; sid:1;)")[0],
            Cond::App(vec![AppProto::Tls])
        );
        // Said twice (header and keyword), kept once.
        assert_eq!(
            conds("alert tls any any -> any any (app-layer-protocol:tls; sid:1;)"),
            vec![Cond::App(vec![AppProto::Tls])]
        );
        assert_eq!(
            conds("alert ip any any -> any any (app-layer-protocol:ipsec; sid:1;)"),
            vec![Cond::App(vec![AppProto::Ike, AppProto::Esp, AppProto::Ah])]
        );
        let e = |v: &str| {
            error(&format!(
                "alert ip any any -> any any (app-layer-protocol:{v}; sid:1;)"
            ))
        };
        assert_eq!(
            e("!tls"),
            (
                49,
                "negated `app-layer-protocol` is not supported".to_string(),
                Some(NOT_HINT.into())
            )
        );
        assert_eq!(
            e("smb"),
            (
                49,
                "sift does not classify `smb`".to_string(),
                Some(format!("sift classifies {SIFT_APPS}"))
            )
        );
        assert_eq!(
            e("dnss"),
            (
                49,
                "unknown application protocol `dnss`".to_string(),
                Some("did you mean `dns`?".into())
            )
        );
        assert_eq!(
            e("tls,final"),
            (
                52,
                "`app-layer-protocol` takes one protocol, without a mode".to_string(),
                Some("write `app-layer-protocol:tls;`".into())
            )
        );
    }

    // ---- Files ----

    #[test]
    fn comments_blank_lines_and_continuations() {
        let t = rule_texts(0, "\u{feff}# a comment\n\u{feff}x\n");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].chars, vec!['\u{feff}', 'x']);
        let t = rule_texts(0, "\u{feff}alert \\\n  x\n");
        assert_eq!(t[0].chars.iter().collect::<String>(), "alert   x");
        assert_eq!(
            t[0].at[0],
            Span {
                file: 0,
                line: 1,
                col: 2
            }
        );
        assert_eq!(
            t[0].at[6],
            Span {
                file: 0,
                line: 2,
                col: 1
            }
        );
        let p = parsed(
            "# a comment\r\n\
             \r\n\
             \x20  # an indented comment\n\
             alert tls any any -> any any ( \\\n\
             \x20   msg:\"two\\\n\
             lines\"; \\\n\
             \x20   tls.sni; content:\"x\"; sid:1; )   \n\
             #alert tls any any -> any any (tls.sni; content:\"y\"; sid:2;)\n",
        );
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].msg, "twolines");
        assert_eq!(p.rules[0].span.line, 4);
        // A rule cut short by the end of the file.
        let e = errors(&format!("{FIRST}alert tls any any -> any any (sid:2; \\\n"));
        assert_eq!(
            e,
            vec![(
                2,
                38,
                "expected `)` at the end of the rule".to_string(),
                Some("a rule's options end with `)`; a rule goes on to the next line only after a `\\` at the end of the line".into())
            )]
        );
    }

    #[test]
    fn columns_count_characters() {
        // `é` is two bytes, one column.
        let (col, msg) = err_at(
            r#"alert tls any any -> any any (msg:"éé"; tls.sni; content:"x"; depth:1; sid:1;)"#,
        );
        assert_eq!((col, msg.as_str()), (63, "unsupported keyword `depth`"));
        // The rendered diagnostic underlines the keyword.
        let d = read_text(
            "t.rules",
            "alert tls any any -> any any (tls.sni; offset:2; sid:1;)",
        )
        .unwrap_err();
        let shown = d.to_string();
        assert!(
            shown.starts_with("t.rules:1:40: error: unsupported keyword `offset`\n 1 | alert tls"),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("\n   | {}^^^^^^\n", " ".repeat(39))),
            "{shown}"
        );
    }

    #[test]
    fn unterminated_and_trailing() {
        assert_eq!(
            error(&tls(r#"msg:"oops; sid:1;"#)),
            (
                35,
                "unterminated string".to_string(),
                Some("close it with `\"`; inside it, write `\\\"` for a quote and `\\;` for a semicolon".into())
            )
        );
        assert_eq!(
            error("alert tls any any -> any any (tls.sni; content:\"x\"; sid:1;) trailing"),
            (
                61,
                "unexpected `trailing` after the rule's closing `)`".to_string(),
                Some("one rule per line".into())
            )
        );
        assert_eq!(
            err_at("alert tls any any -> any any (tls.sni; content:\"x\"; sid:1;))"),
            (
                60,
                "unexpected `)` after the rule's closing `)`".to_string()
            )
        );
    }

    #[test]
    fn recovers_rule_by_rule() {
        let text = format!(
            "{FIRST}\
             alert tls any any -> any any (tls.sni; depth:1; sid:2;)\n\
             alert tls any any -> any any (tls.sni; content:\"ok\"; sid:3;)\n\
             reject tls any any -> any any (sid:4;)\n\
             alert tls any any -> any any (msg:\"x\"; sid:5\n\
             alert ssh any any -> any any (sid:6;)\n"
        );
        let e = errors(&text);
        let at: Vec<(u32, u32)> = e.iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(at, vec![(2, 40), (4, 1), (5, 45), (6, 7)], "{e:?}");
        // A file stops after MAX_ERRORS errors.
        let many = format!(
            "{FIRST}{}",
            "alert tls any any -> any any (tls.sni; depth:1; sid:2;)\n".repeat(80)
        );
        assert_eq!(errors(&many).len(), MAX_ERRORS);
    }

    #[test]
    fn no_conditions_warns() {
        let p = parsed("alert ip any any -> any any (msg:\"everything\"; sid:9;)");
        assert_eq!(
            warnings(&p),
            vec![(
                1,
                1,
                "rule 9 has no conditions and matches every flow".to_string()
            )]
        );
    }

    #[test]
    fn nothing_panics() {
        let good = "alert tls [10.0.0.0/8,$HOME_NET] [1:2,3] <> any any (msg:\"a\\;b\"; flow:established; \
                    tls.sni; dotprefix; content:\".Ex|41|mple.com\"; endswith; nocase; bsize:5<>30; \
                    dns.query; content:\"x\"; startswith; pcre:\"/^x[0-9]+/i\"; app-layer-protocol:dns; sid:77; rev:2;)";
        // Every cut of a full rule, and every character replaced by
        // characters that matter to the parser.
        let chars: Vec<char> = good.chars().collect();
        let mut texts = Vec::new();
        for n in 0..=chars.len() {
            texts.push(chars[..n].iter().collect::<String>());
            texts.push(format!("{}\\\n", chars[..n].iter().collect::<String>()));
        }
        for i in 0..chars.len() {
            for c in [
                '"', '\\', ';', ':', '|', '[', ']', '(', ')', '!', ' ', 'é', '\u{feff}', '/',
            ] {
                let mut v = chars.clone();
                v[i] = c;
                texts.push(v.into_iter().collect());
            }
        }
        texts.extend(
            [
                "(",
                ")",
                "\\",
                "alert tls any any -> any any (",
                "alert tls any any -> any any ()",
                "alert tls any any -> any any (;)",
                "alert tls any any -> any any (:)",
                "alert tls any any -> any any (\"\")",
                "alert tls any any -> any any (content:\"\\",
                "alert tls any any -> any any (tls.sni; content:\"|",
                "alert tls any any -> any any (tls.sni; content:\"|\"",
                "alert tls any any -> any any (tls.sni; pcre:\"/\"; sid:1;)",
                "alert tls any any -> any any (tls.sni; pcre:\"\"; sid:1;)",
                "alert tls any any -> any any (tls.sni; pcre:\"//\"; sid:1;)",
                "alert tls any any -> any any (tls.sni; bsize:<>; sid:1;)",
                "alert tls any any -> any any (tls.sni; bsize:-; sid:1;)",
                "alert tls any any -> any any (tls.sni; bsize:0x; sid:1;)",
                "alert tls [ any -> any any (sid:1;)",
                "alert tls ] any -> any any (sid:1;)",
                "alert tls [,] any -> any any (sid:1;)",
                "alert tls any : -> any any (sid:1;)",
                "alert tls any any -> any any (sid:99999999999999999999999999;)",
                "alert tls any any -> any any (tls.sni; content:\"x\"; bsize:18446744073709551615; sid:1;)",
            ]
            .map(String::from),
        );
        for t in &texts {
            for text in [t.clone(), format!("{FIRST}{t}\n{FIRST}")] {
                let _ = read_text("t.rules", &text);
                // Directly too: a broken text may not be detected as Suricata rules.
                parse(&mut Loader::default(), 0, &text);
            }
        }
    }

    // ---- Matching, through the compiled name index ----

    /// The ids of the rules whose name and length conditions all hold for
    /// `name` (whatever its source).
    fn matching(p: &Parsed, idx: &NameIndex, name: &str) -> Vec<u32> {
        let mut s = idx.scratch();
        let mut hit: HashSet<(u32, u16)> = HashSet::new();
        idx.scan(&mut s, name, &mut |t| {
            hit.insert((t.rule, t.cond));
        });
        p.rules
            .iter()
            .enumerate()
            .filter(|(ri, r)| {
                r.conds.iter().enumerate().all(|(ci, c)| match c {
                    Cond::Name { .. } => hit.contains(&(*ri as u32, ci as u16)),
                    Cond::NameLength { min, max, .. } => (*min..=*max).contains(&name.len()),
                    _ => true,
                })
            })
            .map(|(_, r)| r.id)
            .collect()
    }

    fn index(text: &str) -> (Parsed, NameIndex) {
        let p = parsed(text);
        let (idx, _) =
            NameIndex::build(&p.rules, &p.files, &LoadOptions::default()).expect("compiles");
        (p, idx)
    }

    #[test]
    fn matches_as_suricata_would() {
        let (p, idx) = index(
            "alert dns any any -> any any (dns.query; dotprefix; content:\".example.com\"; endswith; sid:1;)\n\
             alert dns any any -> any any (dns.query; dotprefix; content:\".example.com\"; sid:2;)\n\
             alert dns any any -> any any (dns.query; content:\"example.com\"; endswith; sid:3;)\n\
             alert dns any any -> any any (dns.query; content:\"cdn\"; startswith; sid:4;)\n\
             alert dns any any -> any any (dns.query; content:\"ample\"; sid:5;)\n\
             alert dns any any -> any any (dns.query; content:\"example.com\"; bsize:11; sid:6;)\n\
             alert dns any any -> any any (dns.query; content:\".example.com\"; endswith; sid:7;)\n\
             alert dns any any -> any any (dns.query; pcre:\"/^cdn[0-9]+\\./i\"; sid:8;)\n\
             alert dns any any -> any any (dns.query; content:\"cdn\"; content:\"example.com\"; endswith; bsize:<16; sid:9;)\n",
        );
        let m = |n: &str| matching(&p, &idx, n);
        assert_eq!(m("example.com"), vec![1, 2, 3, 5, 6]);
        assert_eq!(m("a.example.com"), vec![1, 2, 3, 5, 7]);
        assert_eq!(m("badexample.com"), vec![3, 5]);
        assert_eq!(m("example.com.au"), vec![2, 5]);
        assert_eq!(m("cdn1.example.com"), vec![1, 2, 3, 4, 5, 7, 8]);
        assert_eq!(m("cdn.example.com"), vec![1, 2, 3, 4, 5, 7, 9]);
        assert_eq!(m("www.cdn.example.com"), vec![1, 2, 3, 5, 7]);
        assert_eq!(m("other.net"), Vec::<u32>::new());
    }

    /// Suricata's reading of a content on a buffer, for the cross-check.
    fn suricata_model(name: &str, content: &str, start: bool, end: bool, dotprefix: bool) -> bool {
        let buffer = if dotprefix {
            format!(".{name}")
        } else {
            name.to_string()
        };
        let (b, c) = (buffer.to_ascii_lowercase(), content.to_ascii_lowercase());
        match (start, end) {
            (true, true) => b == c,
            (true, false) => b.starts_with(&c),
            (false, true) => b.ends_with(&c),
            (false, false) => b.contains(&c),
        }
    }

    #[test]
    fn compiled_patterns_agree_with_suricata() {
        let contents = [
            ".example.com",
            "example.com",
            ".example",
            "example",
            ".com",
            "com",
            ".",
            "a.example.com",
            "Ex*mple",
        ];
        let names = [
            "example.com",
            "a.example.com",
            "badexample.com",
            "example.com.au",
            "example",
            "example.org",
            "x.example",
            "com",
            "a.b.example.com",
            "ex*mple.net",
            "cdn.com",
            "notexample.com",
        ];
        let mut text = String::new();
        let mut cases = Vec::new();
        let mut sid = 0u32;
        for c in contents {
            for start in [false, true] {
                for end in [false, true] {
                    for dotprefix in [false, true] {
                        if dotprefix && start && !c.starts_with('.') {
                            continue; // refused: can never match
                        }
                        sid += 1;
                        text.push_str(&format!(
                            "alert tls any any -> any any (tls.sni; {}content:\"{c}\"; nocase; {}{}sid:{sid};)\n",
                            if dotprefix { "dotprefix; " } else { "" },
                            if start { "startswith; " } else { "" },
                            if end { "endswith; " } else { "" },
                        ));
                        cases.push((sid, c, start, end, dotprefix));
                    }
                }
            }
        }
        let (p, idx) = index(&text);
        assert!(p.warnings.is_empty());
        for n in names {
            let got: HashSet<u32> = matching(&p, &idx, n).into_iter().collect();
            for &(sid, c, start, end, dotprefix) in &cases {
                let want = suricata_model(n, c, start, end, dotprefix);
                assert_eq!(
                    got.contains(&sid),
                    want,
                    "name {n}, content {c:?} start {start} end {end} dotprefix {dotprefix}"
                );
            }
        }
        // The refused combination is refused.
        let e = errors("alert tls any any -> any any (tls.sni; dotprefix; content:\"example\"; startswith; endswith; sid:1;)");
        assert_eq!(e.len(), 1);
    }
}
