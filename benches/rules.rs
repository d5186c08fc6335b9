//! What name rules cost: packet throughput of `sift analyze` on the bench
//! capture with 0, 1k, 100k and 1M name rules, the cold compile and cached
//! load times of each rule set, and peak memory.
//!
//! The rule sets are generated deterministically into `target/bench/`:
//! N rules `alert ID "..." { name PATTERN }`, half exact names, half
//! `.domain` patterns (two literals each), with labels from a fixed
//! xorshift sequence, plus the real server names of the bench capture's
//! busiest domains so that matches happen. Throughput is sift's own
//! packets/s (from its summary: the packet path, rule loading excluded);
//! loading is timed on its own by analyzing the 175-packet sample capture
//! with the rules (cold: empty cache directory; cached: second load).
//! Each throughput figure is the median of `ROUNDS` runs at 1 thread, the
//! rule sets taking turns.
//!
//! Two forms of the same names: N rules of one name each (`rules`), and
//! one rule whose list file holds the N names (`list`), the form meant for
//! blocklists.
//!
//! Then a registry (issue 19's budget): a generated dump of 1 M addresses,
//! 1 M names and 100 k URLs (`sift rules make-registry`) under one rule,
//! `drop 10 "registry" { list registry "..." }`, against no rules in
//! `REGISTRY_ROUNDS` rounds that alternate which runs first; its cost is
//! given as the median of the per-round throughput ratios (the machine's
//! drift cancels within a round) and as the ratio of the fastest runs.
//!
//! `cargo bench --bench rules` (builds the bench capture like the
//! throughput bench on first use). `SIFT_RULES_BENCH_SIZES=0,1000` limits
//! the sizes; `SIFT_RULES_BENCH_REGISTRY=0` skips the registry.

#![allow(unsafe_code)] // libc calls of the harness; see each SAFETY comment.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{bench_capture, measure, median, root};

const ROUNDS: usize = 5;

/// Rounds of the registry against no rules: single runs on the bench VM
/// spread by a third (0.73–1.13 of each other in one set of 15 rounds),
/// so the median of the ratios needs many rounds to settle.
const REGISTRY_ROUNDS: usize = 31;

/// Names that occur in the bench capture (nDPI corpus SNIs), matched by
/// every generated rule set so that the match path runs.
const REAL: [&str; 6] = [
    ".google.com",
    ".googleapis.com",
    ".facebook.com",
    ".whatsapp.net",
    ".apple.com",
    ".microsoft.com",
];

/// The `n` generated name patterns, half exact, half `.domain`.
fn generated(n: usize) -> impl Iterator<Item = String> {
    const TLDS: [&str; 8] = ["com", "net", "org", "info", "io", "ru", "de", "xyz"];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n).map(move |i| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let tld = TLDS[(x >> 50) as usize % TLDS.len()];
        let dot = if i % 2 == 0 { "" } else { "." };
        format!(
            "{dot}{:x}-{i}.example-{}.{tld}",
            x & 0xff_ffff_ffff,
            (x >> 40) % 1000
        )
    })
}

/// Writes the rule file with `n` generated names (plus the real ones), as
/// one rule per name or as one list rule; returns its path.
fn rule_file(n: usize, list: bool) -> PathBuf {
    let form = if list { "list" } else { "rules" };
    let path = root().join(format!("target/bench/names-{n}-{form}.rules"));
    if path.is_file() {
        return path;
    }
    let mut s = String::with_capacity(n * 64 + 1024);
    for (i, name) in REAL.iter().enumerate() {
        let _ = writeln!(s, "alert {} \"real name {name}\" {{ name {name} }}", i + 1);
    }
    if list {
        let lp = root().join(format!("target/bench/names-{n}.list"));
        let mut l = String::with_capacity(n * 40);
        for name in generated(n) {
            l.push_str(&name);
            l.push('\n');
        }
        std::fs::write(&lp, l).unwrap();
        let _ = writeln!(
            s,
            "alert 100 \"generated list\" {{ name list \"{}\" }}",
            lp.display()
        );
    } else {
        for (i, name) in generated(n).enumerate() {
            let _ = writeln!(s, "alert {} \"generated {i}\" {{ name {name} }}", 100 + i);
        }
    }
    std::fs::write(&path, s).unwrap();
    path
}

/// sift's packets/s and alert count from its summary.
fn rate_and_alerts(summary: &str) -> (f64, u64) {
    let num = |s: &str| s.replace(',', "").parse::<f64>().unwrap_or(0.0);
    let rate = summary
        .lines()
        .find(|l| l.trim_start().starts_with("processed in"))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .map_or(0.0, num);
    let alerts = summary
        .lines()
        .find(|l| l.trim_start().starts_with("rules "))
        .and_then(|l| l.split(", ").find(|p| p.ends_with("alerts")))
        .and_then(|p| p.split_whitespace().next())
        .map_or(0.0, num);
    (rate, alerts as u64)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("SIFT_RULES_BENCH_SIZES")
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![0, 1_000, 100_000, 1_000_000]);
    let capture = bench_capture();
    let sift = env!("CARGO_BIN_EXE_sift");
    let cache = root().join("target/bench/rules-cache");
    let sample = root().join("captures/sample.pcap");
    // (label, rule file): no rules, then each size in both forms.
    let mut files: Vec<(String, Option<PathBuf>)> = Vec::new();
    for &n in &sizes {
        if n == 0 {
            files.push(("0".into(), None));
        } else {
            files.push((format!("{n} rules"), Some(rule_file(n, false))));
            files.push((format!("{n} list"), Some(rule_file(n, true))));
        }
    }
    // A child's peak RSS counts from this process's when it is spawned:
    // give back the heap that generating the files left behind.
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }

    // Loading: cold (empty cache) and cached.
    let mut load = Vec::new();
    for (_, f) in &files {
        let Some(f) = f else {
            load.push(None);
            continue;
        };
        let _ = std::fs::remove_dir_all(&cache);
        let check = |p: &Path| {
            let mut c = Command::new(sift);
            c.args(["analyze", "-q", "--threads", "1", "--rules"])
                .arg(p)
                .arg("--rules-cache")
                .arg(&cache)
                .arg(&sample);
            c
        };
        let (cold, cold_rss, _) = measure(&mut check(f));
        let (warm, warm_rss, _) = measure(&mut check(f));
        load.push(Some((cold, cold_rss, warm, warm_rss)));
    }

    // Throughput, rule sets taking turns, cache warm.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); files.len()];
    let mut rss = vec![0u64; files.len()];
    let mut alerts = vec![0u64; files.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in files.iter().enumerate() {
            let mut c = Command::new(sift);
            c.args(["analyze", "--threads", "1", "--rules-cache"])
                .arg(&cache);
            if let Some(f) = f {
                c.arg("--rules").arg(f);
            }
            c.arg(&capture);
            let (_, m, out) = measure(&mut c);
            let (r, a) = rate_and_alerts(&out);
            rates[i].push(r);
            rss[i] = rss[i].max(m);
            alerts[i] = a;
        }
    }
    let _ = std::fs::remove_dir_all(&cache);
    println!(
        "capture: {}, sift --threads 1, median of {ROUNDS} runs",
        capture.display()
    );
    println!(
        "load: sift analyze -q captures/sample.pcap with the rules, cold (empty cache) and cached"
    );
    println!(
        "{:>14} {:>14} {:>9} {:>10} {:>9} {:>12} {:>11} {:>12}",
        "names",
        "packets/s",
        "vs 0",
        "peak RSS",
        "alerts",
        "cold load",
        "(peak RSS)",
        "cached load"
    );
    let base = median(rates[0].clone());
    for (i, (n, _)) in files.iter().enumerate() {
        let r = median(rates[i].clone());
        let (cold, crss, warm) = match load[i] {
            Some((c, cr, w, _)) => (
                format!("{c:.2} s"),
                format!("{} MiB", cr / 1024),
                format!("{w:.2} s"),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>14} {:>14.0} {:>8.3}x {:>6} MiB {:>9} {:>12} {:>11} {:>12}",
            n,
            r,
            r / base,
            rss[i] / 1024,
            alerts[i],
            cold,
            crss,
            warm
        );
    }
    if std::env::var("SIFT_RULES_BENCH_REGISTRY").as_deref() != Ok("0") {
        registry(sift, &capture, &sample);
    }
}

/// The registry's load and its throughput against no rules.
fn registry(sift: &str, capture: &Path, sample: &Path) {
    let dump = root().join("target/bench/registry-1m.csv");
    if !dump.is_file() {
        let out = std::fs::File::create(&dump).expect("registry dump");
        let st = Command::new(sift)
            .args(["rules", "make-registry", "--addresses", "1000000"])
            .args(["--names", "1000000", "--urls", "100000", "--broken", "6"])
            .stdout(out)
            .status()
            .expect("sift rules make-registry");
        assert!(st.success(), "make-registry failed");
    }
    let rules = root().join("target/bench/registry-1m.rules");
    let text = format!(
        "drop 10 \"registry\" {{ list registry \"{}\" }}\n",
        dump.display()
    );
    std::fs::write(&rules, text).unwrap();
    let cache = root().join("target/bench/registry-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let load = || {
        let mut c = Command::new(sift);
        c.args(["analyze", "-q", "--threads", "1", "--rules"])
            .arg(&rules)
            .arg("--rules-cache")
            .arg(&cache)
            .arg(sample);
        c
    };
    let (cold, cold_rss, _) = measure(&mut load());
    let warm: Vec<(f64, u64)> = (0..3)
        .map(|_| measure(&mut load()))
        .map(|(t, m, _)| (t, m))
        .collect();
    let run = |with: bool| {
        let mut c = Command::new(sift);
        c.args(["analyze", "--threads", "1", "--rules-cache"])
            .arg(&cache);
        if with {
            c.arg("--rules").arg(&rules);
        }
        c.arg(capture);
        let (_, rss, out) = measure(&mut c);
        (rate_and_alerts(&out).0, rss)
    };
    let (mut ratios, mut none, mut with, mut rss) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for round in 0..REGISTRY_ROUNDS {
        let (a, b) = if round % 2 == 0 {
            let a = run(false);
            (a, run(true))
        } else {
            let b = run(true);
            (run(false), b)
        };
        ratios.push(b.0 / a.0);
        none.push(a.0);
        with.push(b.0);
        rss = rss.max(b.1);
    }
    let _ = std::fs::remove_dir_all(&cache);
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    println!();
    println!(
        "registry: 1 M addresses + 1 M names + 100 k URLs (sift rules make-registry), one rule"
    );
    println!(
        "  load (captures/sample.pcap): cold {cold:.2} s, {} MiB; cached {:.2} s (median of 3), {} MiB",
        cold_rss / 1024,
        median(warm.iter().map(|w| w.0).collect()),
        warm.iter().map(|w| w.1).max().unwrap_or(0) / 1024
    );
    println!(
        "  throughput, {REGISTRY_ROUNDS} rounds against no rules: {:.0} against {:.0} packets/s by median; \
         per-round ratio median {:.3} (cost {:.1} %), range {:.3}-{:.3}; fastest runs {:.3}; peak RSS {} MiB",
        median(with.clone()),
        median(none.clone()),
        median(ratios.clone()),
        (1.0 - median(ratios.clone())) * 100.0,
        ratios.iter().cloned().fold(f64::MAX, f64::min),
        best(&ratios),
        best(&with) / best(&none),
        rss / 1024
    );
}
