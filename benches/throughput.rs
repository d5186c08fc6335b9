//! Throughput and peak memory of `sift analyze` against `ndpiReader` on the
//! same capture, run side by side in this process so that the ratios hold
//! on a shared, noisy machine.
//!
//! The capture is the one `../shared/tools/make_bench_pcap.py` builds from
//! the nDPI corpus (16 replicas); it is made on first use into
//! `target/bench/bench16.pcap` (needs python3 with `dpkt`).
//!
//! `cargo bench --bench throughput` prints packets/s of sift at 1 and 2
//! threads, of sift at 1 thread writing EVE JSON, and of ndpiReader
//! (`ndpiReader -q -i FILE`), their ratios, and the peak resident memory of
//! each. Each figure is the median of `ROUNDS` runs, the programs taking
//! turns; the ratios are also given as the median of each round's ratio
//! (the machine's drift between rounds cancels). sift runs with the default rule set (`--rules
//! rules/default.rules`); `SIFT_BENCH_ARGS` replaces those flags (empty: no
//! rules).
//!
//! The sift measured is the profile-guided build `benches/pgo.sh` makes
//! (trained on the project's own captures, not on this capture); the plain
//! `cargo build --release` binary runs beside it at one thread.
//! `SIFT_BENCH_PGO=0` measures the plain build alone.

use std::path::Path;
use std::process::{Command, Stdio};

mod common;

use common::{bench_capture, measure, median, root};

const ROUNDS: usize = 9;

fn packets(sift: &str, capture: &Path) -> u64 {
    let out = Command::new(sift)
        .arg("analyze")
        .arg(capture)
        .output()
        .expect("sift");
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s
        .lines()
        .find(|l| l.trim_start().starts_with("packets"))
        .expect("packets line");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not used by this harness.
    let capture = bench_capture();
    let plain = env!("CARGO_BIN_EXE_sift").to_string();
    let pgo = pgo_build();
    let sift = pgo.clone().unwrap_or_else(|| plain.clone());
    let default_rules = root().join("rules/default.rules");
    let extra: Vec<String> = std::env::var("SIFT_BENCH_ARGS")
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_else(|_| vec!["--rules".into(), default_rules.display().to_string()]);
    let have_ndpi = Command::new("ndpiReader")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let n = packets(&sift, &capture);

    let sift_cmd = |bin: &str, threads: &str, json: bool| {
        let mut c = Command::new(bin);
        c.arg("analyze").args(["--threads", threads]).args(&extra);
        if json {
            c.args(["--format", "json", "-o", "/dev/null"]);
        }
        c.arg(&capture);
        c
    };
    let mut programs: Vec<Program> = vec![
        Program::new("sift --threads 1", sift_cmd(&sift, "1", false)),
        Program::new("sift --threads 2", sift_cmd(&sift, "2", false)),
        Program::new("sift -t 1 --format json", sift_cmd(&sift, "1", true)),
    ];
    if pgo.is_some() {
        programs.push(Program::new(
            "sift -t 1, plain build",
            sift_cmd(&plain, "1", false),
        ));
    }
    if have_ndpi {
        let mut c = Command::new("ndpiReader");
        c.args(["-q", "-i"]).arg(&capture);
        programs.push(Program::new("ndpiReader -q -i", c));
    }
    // The programs take turns, each round starting with the next one, so
    // that a slow spell of the shared machine does not always fall on the
    // same program.
    let count = programs.len();
    for round in 0..ROUNDS {
        for turn in 0..count {
            programs[(round + turn) % count].run();
        }
    }
    let pps = |t: f64| n as f64 / t;
    println!(
        "capture: {} ({n} packets), median of {ROUNDS} runs",
        capture.display()
    );
    match &pgo {
        Some(_) => println!(
            "sift: the profile-guided build (benches/pgo.sh); plain: cargo build --release"
        ),
        None => println!("sift: the plain build (cargo build --release)"),
    }
    if !extra.is_empty() {
        println!("sift flags: {}", extra.join(" "));
    }
    println!("{:<26} {:>14} {:>12}", "", "packets/s", "peak RSS");
    for p in &programs {
        println!(
            "{:<26} {:>14.0} {:>9} MiB",
            p.label,
            pps(median(p.times.clone())),
            p.peak / 1024
        );
    }
    println!();
    let by = |label: &str| programs.iter().find(|p| p.label == label);
    let (one, two, json) = (&programs[0], &programs[1], &programs[2]);
    let ratio = |a: &Program, b: &Program| median(b.times.clone()) / median(a.times.clone());
    let fastest = |a: &Program, b: &Program| b.fastest() / a.fastest();
    if let Some(ndpi) = by("ndpiReader -q -i") {
        println!(
            "sift 1 thread / ndpiReader   {:>6.2}x packets/s",
            ratio(one, ndpi)
        );
        println!(
            "sift 2 threads / ndpiReader  {:>6.2}x packets/s",
            ratio(two, ndpi)
        );
    } else {
        println!("ndpiReader not found (apt-get install libndpi-bin): no ratios to it");
    }
    println!("sift 2 threads / 1 thread    {:>6.2}x", ratio(two, one));
    println!("JSON / summary time, 1 thread {:>5.3}x", ratio(one, json));
    if let Some(plain) = by("sift -t 1, plain build") {
        println!(
            "profile-guided / plain build {:>6.2}x packets/s",
            ratio(one, plain)
        );
    }
    // Noise on a shared machine only ever adds time: the fastest run of
    // each is the other fair reading.
    print!(
        "fastest runs: 2 threads / 1 thread {:.2}x, JSON / summary {:.3}x",
        fastest(two, one),
        fastest(one, json)
    );
    if let Some(ndpi) = by("ndpiReader -q -i") {
        print!(
            ", 1 thread / ndpiReader {:.2}x, 2 threads / ndpiReader {:.2}x",
            fastest(one, ndpi),
            fastest(two, ndpi)
        );
        println!();
        println!(
            "sift 1 thread peak memory / ndpiReader's  {:>5.3}",
            one.peak as f64 / ndpi.peak as f64
        );
        println!(
            "sift 2 threads peak memory / ndpiReader's {:>5.3}",
            two.peak as f64 / ndpi.peak as f64
        );
    } else {
        println!();
    }
    // The programs of a round ran within seconds of each other: the
    // machine's slow and fast spells, which move single runs by a third
    // on the bench VM, cancel in their ratio.
    let per_round = |a: &Program, b: &Program| {
        median(a.times.iter().zip(&b.times).map(|(x, y)| y / x).collect())
    };
    print!(
        "per round (median of {ROUNDS} rounds' ratios): 2 threads / 1 thread {:.2}x, JSON / summary {:.3}x",
        per_round(two, one),
        per_round(one, json)
    );
    match by("ndpiReader -q -i") {
        Some(ndpi) => println!(", 1 thread / ndpiReader {:.2}x", per_round(one, ndpi)),
        None => println!(),
    }
}

/// One program measured: its command, wall times and peak memory.
struct Program {
    label: &'static str,
    cmd: Command,
    times: Vec<f64>,
    /// KiB.
    peak: u64,
}

impl Program {
    fn new(label: &'static str, cmd: Command) -> Self {
        Program {
            label,
            cmd,
            times: Vec::new(),
            peak: 0,
        }
    }

    fn run(&mut self) {
        let (s, m, _) = measure(&mut self.cmd);
        self.times.push(s);
        self.peak = self.peak.max(m);
    }

    fn fastest(&self) -> f64 {
        self.times.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// The profile-guided build's path, made (or found up to date) by
/// `benches/pgo.sh`; None when `SIFT_BENCH_PGO=0` or the script fails
/// (its reason is on standard error).
fn pgo_build() -> Option<String> {
    if std::env::var("SIFT_BENCH_PGO").is_ok_and(|v| v == "0") {
        return None;
    }
    eprintln!("building sift with profile-guided optimisation (benches/pgo.sh)...");
    let out = Command::new("bash")
        .arg(root().join("benches/pgo.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("bash");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && Path::new(&path).is_file() {
        Some(path)
    } else {
        eprintln!("benches/pgo.sh failed: measuring the plain build alone");
        None
    }
}
