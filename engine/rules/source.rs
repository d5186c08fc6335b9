//! Rule files as text: reading them (with `include`s and list files),
//! telling the two dialects apart, and errors placed at file:line:col the
//! way a compiler places them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{suricata, syntax, Dialect, NamePattern, Rule};

/// Where something is in the rule files: file number (see [`Files`]),
/// line and column (both from 1; the column counts characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// The files a rule set was read from, in the order they were read.
#[derive(Clone, Debug, Default)]
pub struct Files {
    paths: Vec<PathBuf>,
}

impl Files {
    pub fn path(&self, file: u32) -> &Path {
        self.paths
            .get(file as usize)
            .map_or(Path::new("?"), PathBuf::as_path)
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// `file:line:col`.
    pub fn locate(&self, s: Span) -> String {
        format!("{}:{}:{}", self.path(s.file).display(), s.line, s.col)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One message about the rule files, rendered like a compiler's:
///
/// ```text
/// rules/local.rules:3:20: error: unknown application protocol `openvpm`
///     3 | alert 10 "vpn" { app openvpm }
///       |                      ^^^^^^^
///   = hint: did you mean `openvpn`?
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `file:line:col`, filled in when the diagnostic is placed.
    pub location: String,
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    /// The line of source, and how many characters to underline.
    source_line: Option<(String, usize)>,
}

impl Diagnostic {
    pub fn error(span: Span, message: String, hint: Option<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            location: String::new(),
            span,
            message,
            hint,
            source_line: None,
        }
    }

    pub fn warning(span: Span, message: String, hint: Option<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message, hint)
        }
    }

    /// The first line: `file:line:col: error: message`.
    pub fn headline(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{}: {sev}: {}", self.location, self.message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        if let Some((text, len)) = &self.source_line {
            let n = self.span.line.to_string();
            let pad = " ".repeat(n.len());
            let lead: String = text
                .chars()
                .take(self.span.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n {n} | {text}\n {pad} | {lead}{}",
                "^".repeat((*len).max(1))
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {h}")?;
        }
        Ok(())
    }
}

/// Most diagnostics kept (and printed); past it they are only counted.
pub const MAX_SHOWN: usize = 100;

/// Every error (and warning) found in a rule set: the first [`MAX_SHOWN`]
/// kept in full, all of them counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    shown: Vec<Diagnostic>,
    errors: usize,
    warnings: usize,
}

impl Diagnostics {
    /// One diagnostic.
    pub fn one(d: Diagnostic) -> Self {
        let mut all = Diagnostics::default();
        all.push(d);
        all
    }

    pub fn push(&mut self, d: Diagnostic) {
        match d.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        if self.shown.len() < MAX_SHOWN {
            self.shown.push(d)
        }
    }

    /// Whether the next diagnostic would be kept in full (one past the
    /// cap is only counted: callers skip the work of placing it).
    pub fn has_room(&self) -> bool {
        self.shown.len() < MAX_SHOWN
    }

    pub fn is_empty(&self) -> bool {
        self.errors + self.warnings == 0
    }

    /// Errors found, shown or not.
    pub fn errors(&self) -> usize {
        self.errors
    }

    /// The diagnostics kept, in the order found.
    pub fn shown(&self) -> &[Diagnostic] {
        &self.shown
    }

    /// Diagnostics found but not kept.
    pub fn hidden(&self) -> usize {
        self.errors + self.warnings - self.shown.len()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.shown {
            writeln!(f, "{d}")?;
        }
        let hidden = self.hidden();
        if hidden > 0 {
            writeln!(f, "... and {hidden} more not shown")?;
        }
        let n = self.errors;
        write!(
            f,
            "{n} error{} in the rule files; the rule set was not loaded",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// Rule files read and parsed, not yet compiled.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rules: Vec<Rule>,
    pub files: Files,
    pub warnings: Vec<Diagnostic>,
}

/// Deepest chain of `include`s.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads the rule files at `paths` and everything they include. All errors
/// are collected; any error refuses the whole set.
pub fn read_all(paths: &[PathBuf], privileged: bool) -> Result<Parsed, Diagnostics> {
    read_all_cached(paths, None, privileged)
}

/// [`read_all`], keeping compiled address tables in `cache_dir`.
pub fn read_all_cached(
    paths: &[PathBuf],
    cache_dir: Option<&Path>,
    privileged: bool,
) -> Result<Parsed, Diagnostics> {
    let mut l = Loader {
        privileged,
        // Running as root, a cache directory others could change is not
        // used (the name databases say so; see `names`).
        cache_dir: cache_dir
            .filter(|d| !privileged || writable_by_others(d).is_none())
            .map(Path::to_path_buf),
        ..Loader::default()
    };
    for p in paths {
        l.load_file(p, None);
    }
    l.finish()
}

/// Reads one rule text (no includes or lists relative to a file: paths
/// resolve from the current directory), for tests and tools.
pub fn read_text(name: &str, text: &str) -> Result<Parsed, Diagnostics> {
    let mut l = Loader::default();
    let file = l.register(Path::new(name), Arc::from(text));
    l.parse(file, text);
    l.finish()
}

/// State while reading a rule set: the files so far, their text (for
/// messages), the include chain.
#[derive(Default)]
pub struct Loader {
    files: Files,
    texts: Vec<Arc<str>>,
    /// Byte offset of each line's start, per text: a message finds its
    /// line without walking the file again.
    line_starts: Vec<Vec<u32>>,
    rules: Vec<Rule>,
    diags: Diagnostics,
    /// Files being read, innermost last (include cycles).
    stack: Vec<PathBuf>,
    /// Running as root: only files that only root can change are read.
    privileged: bool,
    /// Where compiled address tables are kept, if anywhere.
    cache_dir: Option<PathBuf>,
}

impl Loader {
    fn register(&mut self, path: &Path, text: Arc<str>) -> u32 {
        self.files.paths.push(path.to_path_buf());
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1))
            .collect();
        self.line_starts.push(starts);
        self.texts.push(text);
        (self.files.paths.len() - 1) as u32
    }

    /// Reads a rule file; `from` is the `include` that names it.
    fn load_file(&mut self, path: &Path, from: Option<(Span, usize)>) {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canon) {
            if let Some((span, len)) = from {
                self.error(
                    span,
                    len,
                    format!("`{}` includes itself", path.display()),
                    Some("an include cycle: remove one of the includes".into()),
                );
            }
            return;
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            if let Some((span, len)) = from {
                self.error(
                    span,
                    len,
                    format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"),
                    None,
                );
            }
            return;
        }
        let text = match self.read_trusted(path) {
            Ok(t) => t,
            Err(why) => {
                match from {
                    Some((span, len)) => self.error(span, len, why, None),
                    None => self.diags.push(Diagnostic {
                        location: path.display().to_string(),
                        ..Diagnostic::error(Span::default(), why, None)
                    }),
                }
                return;
            }
        };
        let text: Arc<str> = Arc::from(text);
        let file = self.register(path, text.clone());
        self.stack.push(canon);
        self.parse(file, &text);
        self.stack.pop();
    }

    fn parse(&mut self, file: u32, text: &str) {
        match detect(text) {
            Dialect::Sift => syntax::parse(self, file, text),
            Dialect::Suricata => suricata::parse(self, file, text),
        }
    }

    /// Reads an included rule file named at `span` of `file`.
    pub fn include(&mut self, file: u32, name: &str, span: Span, len: usize) {
        let path = self.resolve(file, name);
        self.load_file(&path, Some((span, len)));
    }

    /// A path named in `file`, relative to that file's directory.
    pub fn resolve(&self, file: u32, name: &str) -> PathBuf {
        let p = Path::new(name);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match self.files.path(file).parent() {
            Some(dir) => dir.join(p),
            None => p.to_path_buf(),
        }
    }

    /// Reads a list file named at `span` of `file`: one name pattern per
    /// line (`example.com`, `.example.com`, `*.example.com`, or a hosts-file
    /// line `0.0.0.0 example.com`), `#` comments. None if it cannot be read
    /// or has errors (reported).
    pub fn read_list(
        &mut self,
        file: u32,
        name: &str,
        span: Span,
        len: usize,
    ) -> Option<(PathBuf, Vec<NamePattern>)> {
        let path = self.resolve(file, name);
        let text = match self.read_trusted(&path) {
            Ok(t) => t,
            Err(why) => {
                self.error(span, len, why, None);
                return None;
            }
        };
        let text: Arc<str> = Arc::from(text);
        let list = self.register(&path, text.clone());
        let before = self.diags.errors();
        let mut out = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            let fields: Vec<&str> = line.split_whitespace().collect();
            let field = match fields.as_slice() {
                [] => continue,
                [one] => *one,
                [ip, host] if ip.parse::<std::net::IpAddr>().is_ok() => *host,
                _ => {
                    let col = column_of(raw, fields[1]);
                    self.error(
                        Span {
                            file: list,
                            line: i as u32 + 1,
                            col,
                        },
                        fields[1].len(),
                        "a list line holds one name".into(),
                        Some("write one name per line, or a hosts-file line `0.0.0.0 name`".into()),
                    );
                    continue;
                }
            };
            let col = column_of(raw, field);
            let at = Span {
                file: list,
                line: i as u32 + 1,
                col,
            };
            match syntax::name_pattern(field) {
                Ok(p) => out.push(p),
                Err((msg, hint)) => self.error(at, field.chars().count(), msg, hint),
            }
            if self.diags.errors() - before >= 20 {
                break; // enough to show what is wrong with the list
            }
        }
        (self.diags.errors() == before).then_some((path, out))
    }

    /// Reads a list file named at `span` of `file` and registers it (for
    /// messages placed in it): its file number, path and text. None if it
    /// cannot be read (reported).
    pub fn read_source(
        &mut self,
        file: u32,
        name: &str,
        span: Span,
        len: usize,
    ) -> Option<(u32, PathBuf, Arc<str>)> {
        let path = self.resolve(file, name);
        match self.read_trusted(&path) {
            Ok(t) => {
                let text: Arc<str> = Arc::from(t);
                let id = self.register(&path, text.clone());
                Some((id, path, text))
            }
            Err(why) => {
                self.error(span, len, why, None);
                None
            }
        }
    }

    /// Registers a list file whose text is not kept (its messages carry
    /// their own source line): its file number.
    pub fn register_path(&mut self, path: &Path) -> u32 {
        self.register(path, Arc::from(""))
    }

    /// Whether a list file may be read: while privileged, not if anyone
    /// but root could change it. Err: why not.
    pub fn check_trusted(&self, path: &Path) -> Result<(), String> {
        if self.privileged {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            for (what, p) in [("", path), (" (its directory)", dir)] {
                if let Some(why) = writable_by_others(p) {
                    return Err(format!(
                        "{}{what}: {why}; running as root, sift reads only rule files that \
                         only root can change (fix the permissions, or run as that user)",
                        p.display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The path of file `file`.
    pub fn path_of(&self, file: u32) -> PathBuf {
        self.files.path(file).to_path_buf()
    }

    /// Where compiled address tables are kept.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    pub fn push_rule(&mut self, mut r: Rule) {
        // A vector that grew by pushes holds room for four or more: with a
        // million one-name rules that slack was a third of the memory.
        for c in &mut r.conds {
            if let super::Cond::Name { patterns, .. } = c {
                patterns.shrink_to_fit();
            }
        }
        r.conds.shrink_to_fit();
        r.msg.shrink_to_fit();
        self.rules.push(r)
    }

    /// The rules read, or every error found.
    fn finish(mut self) -> Result<Parsed, Diagnostics> {
        self.check_ids();
        if self.diags.errors() > 0 {
            return Err(self.diags);
        }
        Ok(Parsed {
            rules: self.rules,
            files: self.files,
            warnings: self.diags.shown,
        })
    }

    /// A rule or list file's text; while privileged, refused if anyone but
    /// root could have changed the file or replaced it in its directory.
    fn read_trusted(&self, path: &Path) -> Result<String, String> {
        self.check_trusted(path)?;
        read_text_file(path)
    }

    /// Duplicate ids are errors, both places named.
    fn check_ids(&mut self) {
        let mut seen: hashbrown::HashMap<u32, Span> =
            hashbrown::HashMap::with_capacity(self.rules.len());
        let mut dups = Vec::new();
        for r in &self.rules {
            match seen.get(&r.id) {
                Some(first) => dups.push((r.span, r.id, *first)),
                None => {
                    seen.insert(r.id, r.span);
                }
            }
        }
        for (span, id, first) in dups {
            if !self.diags.has_room() {
                // Counted, not placed: the true total is still reported.
                self.diags
                    .push(Diagnostic::error(span, String::new(), None));
                continue;
            }
            let hint = format!(
                "{} already uses it; every rule needs its own id",
                self.files.locate(first)
            );
            let len = self.action_len(span);
            self.error(span, len, format!("duplicate rule id {id}"), Some(hint));
        }
    }

    /// Line `line` (1-based) of text `file`, without its line ending.
    fn line(&self, file: u32, line: u32) -> Option<&str> {
        let text = self.texts.get(file as usize)?;
        let starts = self.line_starts.get(file as usize)?;
        let i = (line as usize).checked_sub(1)?;
        let start = *starts.get(i)? as usize;
        let end = starts.get(i + 1).map_or(text.len(), |&e| e as usize - 1);
        let l = text.get(start..end)?;
        Some(l.strip_suffix('\r').unwrap_or(l))
    }

    /// Length of the word at `span` (a rule's action), for underlining.
    fn action_len(&self, span: Span) -> usize {
        self.line(span.file, span.line)
            .and_then(|l| {
                l.chars()
                    .skip(span.col.saturating_sub(1) as usize)
                    .collect::<String>()
                    .split_whitespace()
                    .next()
                    .map(|w| w.chars().count())
            })
            .unwrap_or(1)
    }

    /// An error at `span`, underlining `len` characters.
    pub fn error(&mut self, span: Span, len: usize, message: String, hint: Option<String>) {
        let mut d = Diagnostic::error(span, message, hint);
        if self.diags.has_room() {
            d = self.place(d, len);
        }
        self.diags.push(d);
    }

    pub fn warn(&mut self, span: Span, len: usize, message: String, hint: Option<String>) {
        let mut d = Diagnostic::warning(span, message, hint);
        if self.diags.has_room() {
            d = self.place(d, len);
        }
        self.diags.push(d);
    }

    /// A warning at `span` whose source line the caller already holds
    /// (placing it would otherwise look the line up in a file that may be
    /// millions of lines long).
    pub fn warn_on_line(&mut self, span: Span, len: usize, message: String, line: &str) {
        let mut d = Diagnostic::warning(span, message, None);
        d.location = self.files.locate(span);
        d.source_line = Some((line.trim_end().to_string(), len));
        self.diags.push(d);
    }

    /// Errors so far (a parser stops a file after many).
    pub fn error_count(&self) -> usize {
        self.diags.errors()
    }

    fn place(&self, mut d: Diagnostic, len: usize) -> Diagnostic {
        d.location = self.files.locate(d.span);
        if let Some(line) = self.line(d.span.file, d.span.line) {
            d.source_line = Some((line.trim_end().to_string(), len));
        }
        d
    }
}

/// The 1-based character column of `part`, a slice of `line`.
pub fn column_of(line: &str, part: &str) -> u32 {
    let off = (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
    let off = off.min(line.len());
    line[..off].chars().count() as u32 + 1
}

/// Why a file (or directory) that a privileged process reads could be
/// changed by someone else: world-writable (a directory without the sticky
/// bit), writable by a group other than root's, or owned by another user
/// than root or the process. `None` if only root could have written it.
pub fn writable_by_others(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.mode();
    let is_dir = meta.is_dir();
    if mode & 0o002 != 0 && !(is_dir && mode & 0o1000 != 0) {
        return Some("writable by every user".into());
    }
    if mode & 0o020 != 0 && meta.gid() != 0 {
        return Some(format!("writable by group {}", meta.gid()));
    }
    if meta.uid() != 0 {
        return Some(format!("owned by user {}", meta.uid()));
    }
    None
}

fn read_text_file(path: &Path) -> Result<String, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "{}: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{}: no such file", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(format!("{}: permission denied", path.display()))
        }
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

/// Which language a rule file is in, from its first rule: Suricata rules
/// are `action proto src sport -> dst dport (options)`; sift rules are
/// `action id "message" { conditions }` or start with `include`.
pub fn detect(text: &str) -> Dialect {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut words = t.split_whitespace();
        let _action = words.next();
        let second = words.next().unwrap_or("");
        if second.parse::<u32>().is_ok() || t.starts_with("include") {
            return Dialect::Sift;
        }
        // Address lists may hold spaces: look at every word before the
        // options.
        let head = t.split('(').next().unwrap_or(t);
        if head.split_whitespace().any(|w| w == "->" || w == "<>") {
            return Dialect::Suricata;
        }
        return Dialect::Sift;
    }
    Dialect::Sift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects() {
        assert_eq!(detect("# c\n\nalert 1 \"x\" { app tls }"), Dialect::Sift);
        assert_eq!(detect("include \"a.rules\"\n"), Dialect::Sift);
        assert_eq!(
            detect("alert tls any any -> any any (msg:\"x\"; sid:1;)"),
            Dialect::Suricata
        );
        assert_eq!(
            detect("drop tls $HOME_NET any <> [1.2.3.4,5.6.7.8] 443 (sid:1;)"),
            Dialect::Suricata
        );
        assert_eq!(
            detect("alert tcp [10.0.0.0/8, 192.0.2.1] [1024:, 22] -> any any (sid:1;)"),
            Dialect::Suricata
        );
        assert_eq!(detect("\u{feff}alert 1 \"x\" { app tls }"), Dialect::Sift);
    }

    #[test]
    fn columns() {
        let line = "  alert 1";
        assert_eq!(column_of(line, &line[2..7]), 3);
        let line = "é x";
        assert_eq!(column_of(line, &line[3..]), 3);
    }

    /// 40,000 rules with one id: every duplicate counted, the first
    /// hundred shown in full (was: 39,999 printed, each re-walking the
    /// file to find its line).
    #[test]
    fn duplicate_ids_are_counted_and_capped() {
        let text: String = (0..40_000)
            .map(|i| format!("alert 7 \"r{i}\" {{ app tls }}\n"))
            .collect();
        let err = read_text("dups.rules", &text).unwrap_err();
        assert_eq!(err.errors(), 39_999);
        assert_eq!(err.shown().len(), MAX_SHOWN);
        let printed = err.to_string();
        assert!(printed.contains("dups.rules:101:1: error: duplicate rule id 7"));
        assert!(!printed.contains("dups.rules:102:1:"));
        assert!(printed.contains("... and 39899 more not shown"));
        assert!(printed.ends_with("39999 errors in the rule files; the rule set was not loaded"));
        // The shown ones are placed: their source line and underline.
        assert!(printed.contains(" 2 | alert 7 \"r1\" { app tls }"));
    }

    #[test]
    fn lines_are_found_by_index() {
        let mut l = Loader::default();
        let f = l.register(Path::new("x"), Arc::from("a\r\nbb\n\nccc"));
        assert_eq!(l.line(f, 1), Some("a"));
        assert_eq!(l.line(f, 2), Some("bb"));
        assert_eq!(l.line(f, 3), Some(""));
        assert_eq!(l.line(f, 4), Some("ccc"));
        assert_eq!(l.line(f, 5), None);
        assert_eq!(l.line(f, 0), None);
    }

    #[test]
    fn files_others_can_write_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let p = std::env::temp_dir().join(format!("sift-priv-{}", std::process::id()));
        std::fs::write(&p, b"x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            writable_by_others(&p).as_deref(),
            Some("writable by every user")
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        if std::fs::metadata(&p)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .ok()
            == Some(0)
        {
            assert_eq!(writable_by_others(&p), None);
        }
        // The temporary directory is world-writable with the sticky bit.
        assert_eq!(writable_by_others(&std::env::temp_dir()), None);
        let _ = std::fs::remove_file(&p);
    }
}
