//! The registry cache (engine/rules/regcache.rs): a registry loaded from
//! the cache reports exactly what a cold read reports (EVE output, `rules
//! test --explain --registry-report`, warnings); a damaged entry and an
//! edited dump are read again, said so, and replaced.

mod common;

use std::path::{Path, PathBuf};

use common::{eve, project_file, sift, text, REGISTRY_DUMP as DUMP};

/// A temporary directory that removes itself.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("sift-regcache-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn file(&self, name: &str, body: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run reports: the EVE output, the warnings (without the timing
/// line of the summary), and `rules test --explain --registry-report`.
#[derive(Debug, PartialEq)]
struct Run {
    eve: String,
    stderr: String,
    test: String,
}

fn run(rules: &str, cache: &[&str]) -> Run {
    let cap = project_file("captures/sample.pcap");
    let cap = cap.to_str().unwrap();
    let mut args = vec![
        "analyze",
        "--format",
        "json",
        "--threads",
        "1",
        "--rules",
        rules,
    ];
    args.extend_from_slice(cache);
    args.push(cap);
    let out = sift(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr)
        .lines()
        .filter(|l| !l.contains("processed in"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut args = vec![
        "rules",
        "test",
        "--explain",
        "--registry-report",
        "--threads",
        "1",
        "--capture",
        cap,
    ];
    args.extend_from_slice(cache);
    args.push(rules);
    let t = sift(&args);
    assert!(t.status.success(), "{}", text(&t.stderr));
    Run {
        eve: text(&out.stdout),
        stderr,
        test: text(&t.stdout),
    }
}

fn check(rules: &str, cache: &str) -> (String, String) {
    let out = sift(["rules", "check", "--rules-cache", cache, rules]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

fn registry_entries(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "registry"))
        .collect()
}

#[test]
fn cached_registry_reports_what_a_cold_read_reports() {
    let d = Dir::new("same");
    let cache = Dir::new("same-cache");
    let c = cache.path().to_str().unwrap();
    let dump = d.file("dump.csv", DUMP);
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let cold = run(&rules, &["--no-rules-cache"]);
    // Not vacuous: hits by address, name and URL, with entries and
    // decisions, and the malformed lines reported.
    let events = eve(cold.eve.as_bytes());
    let conditions: Vec<String> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            e["sift"]["matched"][0]["condition"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for want in ["client.ip", "server.ip", "tls.sni", "dns.query", "http.url"] {
        assert!(conditions.iter().any(|c| c == want), "{conditions:?}");
    }
    assert!(
        cold.eve.contains(&format!("\"entry\":\"{dump}:4\"")),
        "{}",
        cold.eve
    );
    assert!(cold.eve.contains("\"number\":\"27-31-2020/Ид2971-20\""));
    assert!(cold
        .stderr
        .contains(&format!("{dump}:7:1: warning: malformed registry line")));
    assert!(
        cold.test
            .contains(&format!("({dump}:4, decision 3-1/2022 of 2022-02-02)")),
        "{}",
        cold.test
    );

    let (o, _) = check(&rules, c);
    assert!(o.contains("; registry read and cached"), "{o}");
    assert_eq!(registry_entries(cache.path()).len(), 1);
    let (o, e) = check(&rules, c);
    assert!(o.contains("(6 ranges, loaded from the cache)"), "{o}");
    assert!(o.contains("; registry loaded from the cache"), "{o}");
    assert!(
        e.contains("2 malformed lines; the valid records and items were loaded"),
        "{e}"
    );
    assert_eq!(run(&rules, &["--rules-cache", c]), cold);
}

#[test]
fn damaged_entries_and_edited_dumps_are_read_again() {
    let d = Dir::new("rebuild");
    let cache = Dir::new("rebuild-cache");
    let c = cache.path().to_str().unwrap();
    d.file("dump.csv", DUMP);
    let rules = d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    );
    let cold = run(&rules, &["--no-rules-cache"]);
    check(&rules, c);
    let entries = registry_entries(cache.path());
    assert_eq!(entries.len(), 1);
    // One byte changed in the middle of the entry.
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&entries[0], &bytes).unwrap();
    let (o, e) = check(&rules, c);
    assert!(
        o.contains("; registry read again (its cache entry was damaged)"),
        "{o}"
    );
    assert!(
        e.contains(
            "dump.csv: read again (its cache entry was damaged); its cache entry was replaced"
        ),
        "{e}"
    );
    let (o, e) = check(&rules, c);
    assert!(o.contains("; registry loaded from the cache"), "{o}");
    assert!(!e.contains("cache entry"), "{e}");
    // Cut short, and not an entry at all.
    for junk in [&bytes[..40], b"SIFTRG00".as_slice()] {
        std::fs::write(&entries[0], junk).unwrap();
        let (o, _) = check(&rules, c);
        assert!(o.contains("(its cache entry was damaged)"), "{o}");
    }
    assert_eq!(run(&rules, &["--rules-cache", c]), cold);

    // The dump edited: a record listing the TLS server 10.201.0.2 added.
    let edited = format!("{DUMP}10.201.0.2;;;Regulator;8/2024;2024-04-04\n");
    d.file("dump.csv", &edited);
    let (o, e) = check(&rules, c);
    assert!(
        o.contains("; registry read again (the dump changed since it was cached)"),
        "{o}"
    );
    assert!(o.contains("block lists: 3 addresses"), "{o}");
    assert!(
        e.contains("read again (the dump changed since it was cached)"),
        "{e}"
    );
    // One entry per dump: replaced, not added.
    assert_eq!(registry_entries(cache.path()).len(), 1);
    let (o, _) = check(&rules, c);
    assert!(o.contains("; registry loaded from the cache"), "{o}");
    let fresh = run(&rules, &["--no-rules-cache"]);
    assert!(fresh.eve.contains("\"number\":\"8/2024\""), "{}", fresh.eve);
    assert_ne!(fresh.eve, cold.eve);
    assert_eq!(run(&rules, &["--rules-cache", c]), fresh);
}

/// Running as root, a registry others could change is refused like a rule
/// file, and a cache directory others could change is not used.
#[test]
fn privileged_loads_trust_neither_others_files_nor_their_cache() {
    use sift::rules::source::read_all_cached;
    use std::os::unix::fs::PermissionsExt;
    if uid_is_not_root() {
        return; // the ownership checks need files owned by root
    }
    let d = Dir::new("priv");
    let cache = Dir::new("priv-cache");
    let dump = d.file("dump.csv", DUMP);
    let rules = PathBuf::from(d.file(
        "t.rules",
        "drop 10 \"registry\" { list registry \"dump.csv\" }\n",
    ));
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    // The cache directory writable by every user (no sticky bit): not used.
    mode(cache.path(), 0o777);
    let parsed = read_all_cached(std::slice::from_ref(&rules), Some(cache.path()), true).unwrap();
    assert_eq!(parsed.rules.len(), 1);
    assert!(registry_entries(cache.path()).is_empty());
    mode(cache.path(), 0o755);
    read_all_cached(std::slice::from_ref(&rules), Some(cache.path()), true).unwrap();
    assert_eq!(registry_entries(cache.path()).len(), 1);
    // The dump writable by every user: refused, cached or not.
    mode(Path::new(&dump), 0o666);
    for dir in [Some(cache.path()), None] {
        let err = read_all_cached(std::slice::from_ref(&rules), dir, true).unwrap_err();
        assert!(err.to_string().contains("writable by every user"), "{err}");
    }
    // Not privileged: read as before.
    assert!(read_all_cached(std::slice::from_ref(&rules), Some(cache.path()), false).is_ok());
}

/// Whether this process runs as someone other than root (read from
/// /proc, without unsafe code).
fn uid_is_not_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u != "0"))
        })
        .unwrap_or(true)
}
