//! The rule options: keywords and values split, checked and applied to
//! the rule being built.

use super::*;

impl Parser<'_> {
    /// Splits the options after the `(` at `open` into keywords and values.
    pub(super) fn options(&self, open: usize) -> Res<Vec<Opt>> {
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
    pub(super) fn check_keyword(&self, o: &Opt) -> Res<()> {
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
    pub(super) fn apply_options(&mut self, opts: &[Opt], rule: &mut Rule) -> Res<Option<u32>> {
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
    pub(super) fn quoted(
        &self,
        key: &str,
        v0: usize,
        v1: usize,
    ) -> Res<(bool, usize, usize, usize)> {
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
    pub(super) fn unescape(&self, a: usize, b: usize) -> String {
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
    pub(super) fn content_bytes(&self, a: usize, b: usize) -> Res<Vec<u8>> {
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
    pub(super) fn flow(&self, v0: usize, v1: usize) -> Res<()> {
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
    pub(super) fn pcre(&self, v0: usize, v1: usize) -> Res<String> {
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
    pub(super) fn app_layer(&self, v0: usize, v1: usize) -> Res<Vec<AppProto>> {
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
                let all = &APP_NAMES[..APP_NAMES.len() - 2];
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

pub(super) fn example(key: &str) -> Option<String> {
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
