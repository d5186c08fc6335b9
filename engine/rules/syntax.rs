//! sift's rule language (specified in rules/README.md):
//!
//! ```text
//! include "vpn.rules"
//! alert 1001 "OpenVPN" priority 2 category "vpn" { app openvpn }
//! drop 2001 "Ad servers" {
//!     name list "lists/ads.list"     # one pattern per line
//!     transport tcp, udp
//! }
//! ```
//!
//! A rule is `ACTION ID "MESSAGE" [priority N] [category "TEXT"] [rev N]
//! { CONDITION ... }`; conditions are separated by newlines or `;` and are
//! ANDed; the values of one condition are alternatives (ORed).

#[path = "syntax_lists.rs"]
mod lists;

use super::source::{Loader, Span};
use super::{
    idn, names, Action, Cidr, Cond, Dialect, EchWant, NamePattern, Rule, Side, Source, Sources,
};
use crate::classify::obfuscation::{Class, Suspect};
use crate::classify::AppProto;

/// Parses one file of sift rules into `l`, one rule at a time (a rule
/// ends on the line where its braces balance), so that memory holds the
/// tokens of one rule, not of the file.
pub fn parse(l: &mut Loader, file: u32, text: &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut toks: Vec<Token> = Vec::new();
    let mut depth = 0i32;
    for (n, line) in text.lines().enumerate() {
        let from = toks.len();
        if let Err((span, len, msg, hint)) = tokenize_line(file, n as u32 + 1, line, &mut toks) {
            l.error(span, len, msg, hint);
            toks.clear();
            depth = 0;
            continue;
        }
        for t in &toks[from..] {
            match t.tok {
                Tok::Open => depth += 1,
                Tok::Close => depth -= 1,
                _ => {}
            }
        }
        if depth <= 0 {
            parse_chunk(l, file, &toks);
            toks.clear();
            depth = 0;
            if l.error_count() >= 50 {
                return;
            }
        }
    }
    if !toks.is_empty() {
        parse_chunk(l, file, &toks);
    }
}

/// Parses the tokens of one rule (or include), reporting its errors.
fn parse_chunk(l: &mut Loader, file: u32, toks: &[Token<'_>]) {
    let mut p = Parser { toks, pos: 0, file };
    while p.pos < p.toks.len() {
        let start = p.pos;
        if let Err(e) = p.item(l) {
            l.error(e.span, e.len, e.msg, e.hint);
            p.recover(start);
        }
    }
}

/// Parses one name as a rule or list writes it: `example.com` (exact),
/// `.example.com` (the domain and names under it), `*.example.com` (names
/// under it). Err: message and hint.
pub fn name_pattern(s: &str) -> Result<NamePattern, (String, Option<String>)> {
    let (kind, rest): (fn(String) -> NamePattern, &str) = if let Some(r) = s.strip_prefix("*.") {
        (NamePattern::Subdomains, r)
    } else if let Some(r) = s.strip_prefix('.') {
        (NamePattern::Domain, r)
    } else {
        (NamePattern::Exact, s)
    };
    let name = rest.strip_suffix('.').unwrap_or(rest);
    // A Unicode name is matched in its xn-- form, as clients send it.
    let name = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        idn::to_ascii(name).map_err(|why| (why, None))?
    };
    if name.is_empty() {
        return Err((format!("`{s}` has no name"), None));
    }
    if name.len() > 253 {
        return Err((
            format!("`{s}` is longer than a DNS name can be (253)"),
            None,
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        let hint = if c == '*' {
            "`*` is allowed only as a whole first label (`*.example.com`); use a regex for other wildcards"
        } else {
            "names hold letters, digits, `-`, `_` and dots (IDNs in their xn-- form)"
        };
        return Err((
            format!("`{c}` cannot appear in a name (`{s}`)"),
            Some(hint.into()),
        ));
    }
    if name.split('.').any(str::is_empty) {
        return Err((format!("`{s}` has an empty label"), None));
    }
    Ok(kind(name))
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Str(String),
    Regex(String),
    Open,
    Close,
    Semi,
    Comma,
    Newline,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    span: Span,
    /// Characters the token covers in its line.
    len: usize,
}

type LexError = (Span, usize, String, Option<String>);

/// Appends the tokens of line `line_no` to `out`, then a newline token.
fn tokenize_line<'a>(
    file: u32,
    line_no: u32,
    line: &'a str,
    out: &mut Vec<Token<'a>>,
) -> Result<(), LexError> {
    let mut it = line.char_indices().peekable();
    // Character column of the next char.
    let mut col: u32 = 1;
    while let Some(&(start, c)) = it.peek() {
        let span = Span {
            file,
            line: line_no,
            col,
        };
        let single = |t: Tok<'a>| -> Token<'a> {
            Token {
                tok: t,
                span,
                len: 1,
            }
        };
        match c {
            c if c.is_whitespace() => {
                it.next();
                col += 1;
            }
            '#' => break,
            '{' | '}' | ';' | ',' => {
                out.push(single(match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ';' => Tok::Semi,
                    _ => Tok::Comma,
                }));
                it.next();
                col += 1;
            }
            '"' | '/' => {
                it.next();
                let mut s = String::new();
                let mut chars = 1usize;
                let mut closed = false;
                while let Some((_, ch)) = it.next() {
                    chars += 1;
                    if ch == '\\' {
                        if let Some((_, next)) = it.next() {
                            chars += 1;
                            // In a regex, keep escapes for Hyperscan except `\/`.
                            if c == '/' && next != '/' {
                                s.push('\\');
                            }
                            s.push(next);
                            continue;
                        }
                    }
                    if ch == c {
                        closed = true;
                        break;
                    }
                    s.push(ch);
                }
                if !closed {
                    let what = if c == '"' { "string" } else { "regex" };
                    return Err((
                        span,
                        chars,
                        format!("unterminated {what}"),
                        Some(format!("close it with `{c}` on the same line")),
                    ));
                }
                let tok = if c == '"' { Tok::Str(s) } else { Tok::Regex(s) };
                out.push(Token {
                    tok,
                    span,
                    len: chars,
                });
                col += chars as u32;
            }
            _ => {
                let mut end = line.len();
                let mut chars = 0usize;
                while let Some(&(i, ch)) = it.peek() {
                    if ch.is_whitespace() || matches!(ch, '{' | '}' | ';' | ',' | '"' | '#') {
                        end = i;
                        break;
                    }
                    it.next();
                    chars += 1;
                }
                out.push(Token {
                    tok: Tok::Word(&line[start..end]),
                    span,
                    len: chars,
                });
                col += chars as u32;
            }
        }
    }
    out.push(Token {
        tok: Tok::Newline,
        span: Span {
            file,
            line: line_no,
            col,
        },
        len: 1,
    });
    Ok(())
}

struct ParseError {
    span: Span,
    len: usize,
    msg: String,
    hint: Option<String>,
}

fn err<T>(t: &Token<'_>, msg: impl Into<String>, hint: Option<String>) -> Result<T, ParseError> {
    Err(ParseError {
        span: t.span,
        len: t.len,
        msg: msg.into(),
        hint,
    })
}

const ACTIONS: &str = "alert, drop, pass or log";
const FIELDS: [&str; 19] = [
    "name",
    "tls.sni",
    "quic.sni",
    "http.host",
    "dns.query",
    "app",
    "transport",
    "ip",
    "client.ip",
    "server.ip",
    "port",
    "client.port",
    "server.port",
    "ja3",
    "ja4",
    "obfuscation",
    "obfuscation.suspect",
    "http.url",
    "list",
];
const APPS: &str = "http, tls, quic, dns, openvpn, wireguard, ike, esp, ah, mtproto, vless, trojan, mdns, llmnr, nbns, pptp, gre, l2tp, dtls, ipsec (ike, esp, ah), vpn (all five VPN protocols), proxy (vless, trojan)";

struct Parser<'t> {
    toks: &'t [Token<'t>],
    pos: usize,
    file: u32,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Token<'t>> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<&'t Token<'t>> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    fn skip_newlines(&mut self) {
        while matches!(
            self.peek(),
            Some(Token {
                tok: Tok::Newline,
                ..
            })
        ) {
            self.pos += 1;
        }
    }

    /// The last token, for errors at the end of the file.
    fn eof(&self) -> &'t Token<'t> {
        &self.toks[self.toks.len() - 1]
    }

    fn expect_next(&mut self, what: &str) -> Result<&'t Token<'t>, ParseError> {
        let eof = self.eof();
        match self.next() {
            Some(t) if t.tok != Tok::Newline || what.contains("newline") => Ok(t),
            Some(t) => err(
                t,
                format!("expected {what}, found the end of the line"),
                None,
            ),
            None => err(
                eof,
                format!("expected {what}, found the end of the file"),
                None,
            ),
        }
    }

    /// Skips past the rule that failed: to the `}` closing it, or to the
    /// next line that starts like a rule.
    fn recover(&mut self, start: usize) {
        let mut depth = 0i32;
        let mut i = start;
        while i < self.toks.len() {
            match &self.toks[i].tok {
                Tok::Open => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if depth <= 0 {
                        self.pos = i + 1;
                        return;
                    }
                }
                Tok::Newline if depth == 0 && i > start => {
                    if let Some(Token {
                        tok: Tok::Word(w), ..
                    }) = self.toks.get(i + 1)
                    {
                        if Action::parse(w).is_some() || *w == "include" {
                            self.pos = i + 1;
                            return;
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.pos = self.toks.len();
    }

    fn item(&mut self, l: &mut Loader) -> Result<(), ParseError> {
        self.skip_newlines();
        let Some(t) = self.next() else {
            return Ok(());
        };
        let word = match &t.tok {
            Tok::Word(w) => *w,
            _ => return err(t, format!("expected a rule ({ACTIONS}) or `include`"), None),
        };
        if word == "include" {
            let p = self.expect_next("a quoted file name after `include`")?;
            let Tok::Str(name) = &p.tok else {
                return err(
                    p,
                    "expected a quoted file name after `include`",
                    Some("include \"other.rules\"".into()),
                );
            };
            l.include(self.file, name, p.span, p.len);
            return self.end_of_line();
        }
        let action = match Action::parse(word) {
            Some(a) => a,
            None if word.starts_with("reject") => {
                return err(
                    t,
                    format!("`{word}` is not a sift action"),
                    Some("sift records verdicts and never resets traffic: use `drop`".into()),
                )
            }
            None => {
                return err(
                    t,
                    format!("expected a rule action ({ACTIONS}) or `include`, found `{word}`"),
                    suggest(word, &["alert", "drop", "pass", "log", "include"]),
                )
            }
        };
        let idt = self.expect_next("a rule id")?;
        let id = match &idt.tok {
            Tok::Word(w) => match w.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return err(
                        idt,
                        format!("expected a rule id (1 to 4294967295), found `{w}`"),
                        None,
                    )
                }
            },
            _ => {
                return err(
                    idt,
                    "expected a rule id (a number)",
                    Some("alert 1001 \"message\" { ... }".into()),
                )
            }
        };
        let mt = self.expect_next("a quoted message")?;
        let Tok::Str(msg) = &mt.tok else {
            return err(
                mt,
                "expected the rule's message in double quotes",
                Some(format!("{word} {id} \"what this rule finds\" {{ ... }}")),
            );
        };
        let mut rule = Rule {
            id,
            rev: 1,
            action,
            msg: msg.clone(),
            priority: super::DEFAULT_PRIORITY,
            category: String::new(),
            conds: Vec::new(),
            span: t.span,
            dialect: Dialect::Sift,
        };
        // Options, then the block.
        loop {
            self.skip_newlines();
            let o = self.expect_next("`{`")?;
            match &o.tok {
                Tok::Open => break,
                Tok::Word(w) if *w == "priority" => {
                    let v = self.expect_next("a priority (1 to 255)")?;
                    rule.priority = match &v.tok {
                        Tok::Word(n) => match n.parse::<u8>() {
                            Ok(p) if p > 0 => p,
                            _ => {
                                return err(
                                    v,
                                    format!("priority must be 1 to 255, found `{n}`"),
                                    Some("1 is the highest priority".into()),
                                )
                            }
                        },
                        _ => return err(v, "expected a priority (1 to 255)", None),
                    };
                }
                Tok::Word(w) if *w == "rev" => {
                    let v = self.expect_next("a revision number")?;
                    rule.rev = match &v.tok {
                        Tok::Word(n) => n.parse().or_else(|_| {
                            err(v, format!("expected a revision number, found `{n}`"), None)
                        })?,
                        _ => return err(v, "expected a revision number", None),
                    };
                }
                Tok::Word(w) if *w == "category" => {
                    let v = self.expect_next("a quoted category")?;
                    match &v.tok {
                        Tok::Str(s) => rule.category = s.clone(),
                        _ => return err(v, "expected the category in double quotes", None),
                    }
                }
                Tok::Word(w) => {
                    return err(
                        o,
                        format!(
                            "expected `{{` or a rule option (priority, category, rev), found `{w}`"
                        ),
                        suggest(w, &["priority", "category", "rev"]),
                    )
                }
                _ => return err(o, "expected `{` to open the rule's conditions", None),
            }
        }
        // Conditions until `}`.
        loop {
            let Some(t) = self.next() else {
                return err(
                    self.eof(),
                    "this rule's `{` is never closed",
                    Some("add `}` after its conditions".into()),
                );
            };
            match &t.tok {
                Tok::Newline | Tok::Semi => continue,
                Tok::Close => break,
                Tok::Word(field) => {
                    let c = self.condition(l, t, field)?;
                    rule.conds.push(c);
                }
                _ => {
                    return err(
                        t,
                        "expected a condition (such as `name example.com` or `app tls`)",
                        None,
                    )
                }
            }
        }
        if rule.conds.is_empty() {
            l.warn(
                rule.span,
                word.len(),
                format!("rule {id} has no conditions and matches every flow"),
                None,
            );
        }
        l.push_rule(rule);
        self.end_of_line()
    }

    fn end_of_line(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            None
            | Some(Token {
                tok: Tok::Newline, ..
            }) => Ok(()),
            Some(t) => err(
                t,
                "expected the end of the line",
                Some("one rule or include per line; a rule's conditions go inside `{ }`".into()),
            ),
        }
    }

    /// The values of a condition: tokens up to a newline, `;` or `}`
    /// (commas between values are optional).
    fn values(&mut self) -> Vec<&'t Token<'t>> {
        let mut v = Vec::new();
        while let Some(t) = self.peek() {
            match t.tok {
                Tok::Newline | Tok::Semi | Tok::Close => break,
                Tok::Comma => self.pos += 1,
                _ => {
                    v.push(t);
                    self.pos += 1;
                }
            }
        }
        v
    }

    fn condition(
        &mut self,
        l: &mut Loader,
        ft: &Token<'_>,
        field: &str,
    ) -> Result<Cond, ParseError> {
        let values = self.values();
        if values.is_empty() {
            return err(ft, format!("`{field}` needs a value"), example(field));
        }
        let words = || -> Result<Vec<(&'t Token<'t>, &'t str)>, ParseError> {
            values
                .iter()
                .map(|t| match &t.tok {
                    Tok::Word(w) => Ok((*t, *w)),
                    _ => err(t, format!("expected a value for `{field}`"), example(field)),
                })
                .collect()
        };
        let sources = match field {
            "name" => Some(Sources::ANY),
            f => f
                .split('|')
                .map(Source::parse)
                .collect::<Option<Vec<Source>>>()
                .map(|v| v.into_iter().fold(Sources::NONE, Sources::with)),
        };
        if let Some(sources) = sources {
            return self.name_condition(l, field, sources, &values);
        }
        let has_list = values.iter().any(|t| matches!(t.tok, Tok::Word("list")));
        let side = |f: &str| match f.split_once('.') {
            Some(("client", _)) => Side::Client,
            Some(("server", _)) => Side::Server,
            _ => Side::Either,
        };
        Ok(match field {
            "app" => {
                let mut apps = Vec::new();
                for (t, w) in words()? {
                    match app_values(w) {
                        Some(v) => apps.extend_from_slice(v),
                        None if w == "unknown" => return err(t, "`app unknown` cannot be matched", Some("a flow is unknown only until it is classified; rules match what sift found".into())),
                        None => return err(t, format!("unknown application protocol `{w}`"), suggest(w, &APP_NAMES).or(Some(format!("one of {APPS}")))),
                    }
                }
                Cond::App(apps)
            }
            "transport" => {
                let mut protos = Vec::new();
                for (t, w) in words()? {
                    match transport_number(w) {
                        Some(p) => protos.push(p),
                        None => return err(t, format!("unknown transport `{w}`"), Some("tcp, udp, sctp, icmp, icmpv6, esp, ah, gre, or an IP protocol number".into())),
                    }
                }
                Cond::Transport(protos)
            }
            "ip" | "client.ip" | "server.ip" if has_list => {
                lists::condition(l, self.file, field, side(field), &values)?
            }
            "http.url" | "list" => lists::condition(l, self.file, field, Side::Either, &values)?,
            "ip" | "client.ip" | "server.ip" => {
                let mut nets = Vec::new();
                for (t, w) in words()? {
                    match Cidr::parse(w) {
                        Ok(c) => nets.push(c),
                        Err(why) => {
                            return err(
                                t,
                                why,
                                Some(
                                    "an address or block: 10.0.0.0/8, 2001:db8::/32, 192.0.2.1"
                                        .into(),
                                ),
                            )
                        }
                    }
                }
                Cond::Ip {
                    side: side(field),
                    nets,
                }
            }
            "port" | "client.port" | "server.port" => {
                let mut ranges = Vec::new();
                for (t, w) in words()? {
                    match port_range(w) {
                        Some(r) => ranges.push(r),
                        None => {
                            return err(
                                t,
                                format!("`{w}` is not a port or port range"),
                                Some("a port 0 to 65535, or a range such as 1024-2048".into()),
                            )
                        }
                    }
                }
                Cond::Port {
                    side: side(field),
                    ranges,
                }
            }
            "ja3" => {
                let mut v = Vec::new();
                for (t, w) in words()? {
                    let lw = w.to_ascii_lowercase();
                    if lw.len() != 32 || !lw.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return err(
                            t,
                            format!("`{w}` is not a JA3 hash"),
                            Some("a JA3 hash is 32 hex digits (an MD5)".into()),
                        );
                    }
                    v.push(lw);
                }
                Cond::Ja3(v)
            }
            "ja4" => {
                let mut v = Vec::new();
                for (t, w) in words()? {
                    if !is_ja4(w) {
                        return err(
                            t,
                            format!("`{w}` is not a JA4 fingerprint"),
                            Some("JA4 looks like t13d1516h2_8daaf6152771_b186095e22b6".into()),
                        );
                    }
                    v.push(w.to_string());
                }
                Cond::Ja4(v)
            }
            "obfuscation" => {
                let mut classes = Vec::new();
                for (t, w) in words()? {
                    match Class::ALL.iter().find(|c| c.as_str() == w) {
                        Some(c) => classes.push(*c),
                        None if w == "any" => classes.extend(Class::ALL),
                        None => {
                            let names: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
                            return err(
                                t,
                                format!("unknown obfuscation class `{w}`"),
                                suggest(w, &names)
                                    .or(Some(format!("one of {}, or any", names.join(", ")))),
                            );
                        }
                    }
                }
                Cond::Obfuscation(classes)
            }
            "obfuscation.suspect" => {
                let mut suspects = Vec::new();
                for (t, w) in words()? {
                    match Suspect::ALL.iter().find(|s| s.as_str() == w) {
                        Some(s) => suspects.push(*s),
                        None => {
                            let names: Vec<&str> =
                                Suspect::ALL.iter().map(|s| s.as_str()).collect();
                            return err(
                                t,
                                format!("unknown obfuscation suspect `{w}`"),
                                suggest(w, &names).or(Some(format!("one of {}", names.join(", ")))),
                            );
                        }
                    }
                }
                Cond::Suspect(suspects)
            }
            "ech" => {
                let w = words()?;
                if w.len() != 1 {
                    return err(w[1].0, "`ech` takes one value", example(field));
                }
                let want = match w[0].1 {
                    "present" | "yes" => EchWant::Present,
                    "absent" | "no" => EchWant::Absent,
                    "real" => EchWant::Real,
                    "grease" => EchWant::Grease,
                    other => {
                        return err(
                            w[0].0,
                            format!("unknown ech value `{other}`"),
                            Some("present, absent, real or grease".into()),
                        )
                    }
                };
                Cond::Ech(want)
            }
            "evasion" => {
                use crate::classify::evasion::Technique;
                let mut v = Vec::new();
                for (t, w) in words()? {
                    if matches!(w, "present" | "yes" | "any") {
                        continue;
                    }
                    match Technique::from_name(w) {
                        Some(tech) => v.push(tech),
                        None => {
                            let names: Vec<&str> =
                                Technique::ALL.iter().map(|t| t.as_str()).collect();
                            return err(
                                t,
                                format!("unknown evasion technique `{w}`"),
                                suggest(w, &names)
                                    .or(Some(format!("present, or {}", names.join(", ")))),
                            );
                        }
                    }
                }
                Cond::Evasion(v)
            }
            _ => {
                let mut all: Vec<&str> = FIELDS.to_vec();
                all.push("ech");
                all.push("evasion");
                return err(
                    ft,
                    format!("unknown condition `{field}`"),
                    suggest(field, &all).or(Some(format!("conditions: {}", all.join(", ")))),
                );
            }
        })
    }

    fn name_condition(
        &mut self,
        l: &mut Loader,
        field: &str,
        sources: Sources,
        values: &[&'t Token<'t>],
    ) -> Result<Cond, ParseError> {
        let mut patterns = Vec::new();
        let mut list = None;
        let mut i = 0;
        while i < values.len() {
            let t = values[i];
            match &t.tok {
                Tok::Word(w) if *w == "list" => {
                    let Some(f) = values.get(i + 1) else {
                        return err(
                            t,
                            "expected a quoted list file after `list`",
                            Some(format!("{field} list \"domains.list\"")),
                        );
                    };
                    let Tok::Str(name) = &f.tok else {
                        return err(
                            f,
                            "expected a quoted list file after `list`",
                            Some(format!("{field} list \"domains.list\"")),
                        );
                    };
                    if let Some((path, pats)) = l.read_list(self.file, name, f.span, f.len) {
                        if pats.is_empty() {
                            l.warn(f.span, f.len, format!("list `{name}` holds no names"), None);
                        }
                        patterns.extend(pats);
                        list = Some(path);
                    }
                    i += 2;
                    continue;
                }
                Tok::Word(w) if FIELDS.contains(w) => {
                    return err(
                        t,
                        format!("`{w}` is a condition, not a name"),
                        Some(format!(
                            "to match names from several sources write `{field}|{w} NAME`"
                        )),
                    )
                }
                Tok::Word(w) => match name_pattern(w) {
                    Ok(p) => patterns.push(p),
                    Err((msg, hint)) => return err(t, msg, hint),
                },
                Tok::Regex(r) => {
                    if let Err(why) = names::check_regex(r) {
                        return err(
                            t,
                            format!("invalid regex: {why}"),
                            Some(
                                "Hyperscan syntax (PCRE without backreferences or lookaround)"
                                    .into(),
                            ),
                        );
                    }
                    patterns.push(NamePattern::Regex(r.clone()));
                }
                Tok::Str(s) => {
                    return err(
                        t,
                        format!("names are written without quotes: `{s}`"),
                        Some("use `list \"file\"` for a list file, /regex/ for a regex".into()),
                    )
                }
                _ => return err(t, format!("expected a name for `{field}`"), example(field)),
            }
            i += 1;
        }
        Ok(Cond::Name {
            sources,
            patterns,
            list,
        })
    }
}

/// Every `app` value.
pub const APP_NAMES: [&str; 22] = [
    "http",
    "tls",
    "quic",
    "dns",
    "openvpn",
    "wireguard",
    "ike",
    "esp",
    "ah",
    "mtproto",
    "vless",
    "trojan",
    "mdns",
    "llmnr",
    "nbns",
    "ipsec",
    "vpn",
    "proxy",
    "pptp",
    "gre",
    "l2tp",
    "dtls",
];

/// The protocols an `app` value stands for.
pub fn app_values(w: &str) -> Option<&'static [AppProto]> {
    use AppProto::*;
    Some(match w {
        "http" => &[Http],
        "tls" => &[Tls],
        "quic" => &[Quic],
        "dns" => &[Dns],
        "openvpn" => &[OpenVpn],
        "wireguard" => &[WireGuard],
        "ike" => &[Ike],
        "esp" => &[Esp],
        "ah" => &[Ah],
        "mtproto" => &[Mtproto],
        "vless" => &[Vless],
        "trojan" => &[Trojan],
        "proxy" => &[Vless, Trojan],
        "mdns" => &[Mdns],
        "llmnr" => &[Llmnr],
        "nbns" => &[Nbns],
        "ipsec" => &[Ike, Esp, Ah],
        "vpn" => &[OpenVpn, WireGuard, Ike, Esp, Ah],
        "pptp" => &[Pptp],
        "gre" => &[Gre],
        "l2tp" => &[L2tp],
        "dtls" => &[Dtls],
        _ => return None,
    })
}

/// An IP protocol by name or number.
pub fn transport_number(w: &str) -> Option<u8> {
    use crate::decode::ip::proto;
    Some(match w {
        "tcp" => proto::TCP,
        "udp" => proto::UDP,
        "sctp" => proto::SCTP,
        "icmp" => proto::ICMP,
        "icmpv6" | "ipv6-icmp" => proto::ICMPV6,
        "esp" => proto::ESP,
        "ah" => proto::AH,
        "gre" => proto::GRE,
        n => return n.parse().ok(),
    })
}

fn port_range(w: &str) -> Option<(u16, u16)> {
    match w.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => w.parse().ok().map(|p| (p, p)),
    }
}

fn is_ja4(w: &str) -> bool {
    let parts: Vec<&str> = w.split('_').collect();
    parts.len() == 3
        && parts[0].len() == 10
        && parts[0].is_ascii()
        && parts[1].len() == 12
        && parts[2].len() == 12
        && parts[1..]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn example(field: &str) -> Option<String> {
    Some(
        match field {
            "name" | "tls.sni" | "quic.sni" | "http.host" | "dns.query" => {
                "name example.com | .example.com | *.example.com | /^cdn[0-9]+\\./ | list \"file\""
            }
            "app" => "app openvpn, wireguard",
            "transport" => "transport tcp",
            "ip" | "client.ip" | "server.ip" => {
                "server.ip 192.0.2.0/24, or ip list \"addresses.list\""
            }
            "http.url" => {
                "http.url http://example.com/page http://example.com/dir/* list \"urls.list\""
            }
            "list" => "list registry \"dump.csv\"",
            "port" | "client.port" | "server.port" => "server.port 443, 8443, 10000-10100",
            "ech" => "ech present",
            "obfuscation" => "obfuscation fully_encrypted, tls_tunnel",
            "obfuscation.suspect" => "obfuscation.suspect shadowsocks, vmess",
            "evasion" => "evasion fake, split",
            "ja3" => "ja3 e7d705a3286e19ea42f587b344ee6865",
            "ja4" => "ja4 t13d1516h2_8daaf6152771_b186095e22b6",
            _ => return None,
        }
        .to_string(),
    )
}

/// "did you mean" for a word close to one of `choices`.
pub fn suggest(w: &str, choices: &[&str]) -> Option<String> {
    // Closest first; among equals, the one sharing the longest prefix
    // (`tsl` → `tls`, not `esp`).
    let common = |c: &str| w.chars().zip(c.chars()).take_while(|(a, b)| a == b).count();
    let best = choices
        .iter()
        .map(|c| (edit_distance(w, c), std::cmp::Reverse(common(c)), *c))
        .min()?;
    (best.0 <= 2 && best.0 < w.len()).then(|| format!("did you mean `{}`?", best.2))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
