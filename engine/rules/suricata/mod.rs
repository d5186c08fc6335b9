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

mod header;
mod options;
mod tables;
#[cfg(test)]
mod tests;

use header::*;

use tables::*;

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
