//! The rule reader's cursor over one rule's text, and the rule header:
//! action, protocol, addresses and ports.

use super::*;

pub(super) struct Parser<'t> {
    pub(super) t: &'t Text,
    pub(super) warnings: Vec<Warning>,
}

impl Parser<'_> {
    pub(super) fn len(&self) -> usize {
        self.t.chars.len()
    }

    pub(super) fn ch(&self, i: usize) -> Option<char> {
        self.t.chars.get(i).copied()
    }

    pub(super) fn span(&self, i: usize) -> Span {
        self.t.at.get(i).copied().unwrap_or(self.t.end)
    }

    /// Characters `a..b` that are on `a`'s line (what can be underlined).
    pub(super) fn width(&self, a: usize, b: usize) -> usize {
        let line = self.span(a).line;
        (a..b.min(self.len()))
            .filter(|&k| self.t.at[k].line == line)
            .count()
            .max(1)
    }

    pub(super) fn text(&self, a: usize, b: usize) -> String {
        let b = b.min(self.len());
        self.t.chars[a.min(b)..b].iter().collect()
    }

    pub(super) fn fail<T>(
        &self,
        a: usize,
        b: usize,
        msg: impl Into<String>,
        hint: Option<String>,
    ) -> Res<T> {
        Err(ParseError {
            span: self.span(a),
            len: self.width(a, b),
            msg: msg.into(),
            hint,
        })
    }

    pub(super) fn warn(
        &mut self,
        a: usize,
        b: usize,
        msg: String,
        hint: Option<String>,
        var: Option<String>,
    ) {
        self.warnings.push(Warning {
            span: self.span(a),
            len: self.width(a, b),
            msg,
            hint,
            var,
        });
    }

    pub(super) fn is_ws(&self, i: usize) -> bool {
        self.ch(i).is_some_and(char::is_whitespace)
    }

    pub(super) fn skip_ws(&self, mut i: usize, end: usize) -> usize {
        while i < end && self.is_ws(i) {
            i += 1;
        }
        i
    }

    /// `a..b` without surrounding whitespace.
    pub(super) fn trim(&self, mut a: usize, mut b: usize) -> (usize, usize) {
        a = self.skip_ws(a, b);
        while b > a && self.is_ws(b - 1) {
            b -= 1;
        }
        (a, b)
    }

    /// The header field at `i`: up to whitespace or `(`, a `[...]` list
    /// whole.
    pub(super) fn field(&self, i: usize) -> (usize, usize) {
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

    pub(super) fn rule(&mut self) -> Res<Rule> {
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
            priority: crate::rules::DEFAULT_PRIORITY,
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

    pub(super) fn protocol(
        &self,
        (a, b): (usize, usize),
        w: &str,
        conds: &mut Vec<Cond>,
    ) -> Res<()> {
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
    pub(super) fn variable(&mut self, a: usize, b: usize, what: Kind) {
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
    pub(super) fn addresses(&mut self, (a, b): (usize, usize)) -> Res<Option<Vec<Cidr>>> {
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
    pub(super) fn ports(&mut self, (a, b): (usize, usize)) -> Res<Option<Vec<(u16, u16)>>> {
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
    pub(super) fn list(
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

    pub(super) fn element(
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
}
