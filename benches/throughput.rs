//! Throughput and peak memory of `sift analyze` against `ndpiReader` on the
//! same capture, run side by side in this process so that the ratios hold
//! on a shared, noisy machine.
//!
//! The capture is the one `../shared/tools/make_bench_pcap.py` builds from
//! the nDPI corpus (16 replicas); it is made on first use into
//! `target/bench/bench16.pcap` (needs python3 with `dpkt`).
//!
//! `cargo bench --bench throughput` prints packets/s of sift at 1 and 2
//! threads and of ndpiReader (`ndpiReader -q -i FILE`), their ratios, and the
//! peak resident memory of each. Each figure is the median of `ROUNDS` runs,
//! the three programs taking turns. sift runs with the default rule set
//! (`--rules rules/default.rules`); `SIFT_BENCH_ARGS` replaces those flags
//! (empty: no rules).

use std::path::Path;
use std::process::{Command, Stdio};

mod common;

use common::{bench_capture, measure, median, root};

const ROUNDS: usize = 6;

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
    let sift = env!("CARGO_BIN_EXE_sift");
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
    let n = packets(sift, &capture);

    let sift_cmd = |threads: &str| {
        let mut c = Command::new(sift);
        c.arg("analyze")
            .args(["--threads", threads])
            .args(&extra)
            .arg(&capture);
        c
    };
    let (mut t1, mut t2, mut tn) = (Vec::new(), Vec::new(), Vec::new());
    let (mut m1, mut m2, mut mn) = (0u64, 0u64, 0u64);
    // The programs take turns, each round starting with the next one, so
    // that a slow spell of the shared machine does not always fall on the
    // same program.
    let programs = if have_ndpi { 3 } else { 2 };
    for round in 0..ROUNDS {
        for turn in 0..programs {
            match (round + turn) % programs {
                0 => {
                    let (s, m, _) = measure(&mut sift_cmd("1"));
                    t1.push(s);
                    m1 = m1.max(m);
                }
                1 => {
                    let (s, m, _) = measure(&mut sift_cmd("2"));
                    t2.push(s);
                    m2 = m2.max(m);
                }
                _ => {
                    let (s, m, _) =
                        measure(Command::new("ndpiReader").args(["-q", "-i"]).arg(&capture));
                    tn.push(s);
                    mn = mn.max(m);
                }
            }
        }
    }
    let pps = |t: f64| n as f64 / t;
    let (p1, p2) = (pps(median(t1.clone())), pps(median(t2.clone())));
    println!(
        "capture: {} ({n} packets), median of {ROUNDS} runs",
        capture.display()
    );
    if !extra.is_empty() {
        println!("sift flags: {}", extra.join(" "));
    }
    println!("{:<22} {:>14} {:>12}", "", "packets/s", "peak RSS");
    println!(
        "{:<22} {:>14.0} {:>9} MiB",
        "sift --threads 1",
        p1,
        m1 / 1024
    );
    println!(
        "{:<22} {:>14.0} {:>9} MiB",
        "sift --threads 2",
        p2,
        m2 / 1024
    );
    if have_ndpi {
        let pn = pps(median(tn.clone()));
        println!(
            "{:<22} {:>14.0} {:>9} MiB",
            "ndpiReader -q -i",
            pn,
            mn / 1024
        );
        println!();
        println!("sift 1 thread / ndpiReader   {:>6.2}x packets/s", p1 / pn);
        println!("sift 2 threads / ndpiReader  {:>6.2}x packets/s", p2 / pn);
        println!("sift 2 threads / 1 thread    {:>6.2}x", p2 / p1);
        // Noise on a shared machine only ever adds time: the fastest run
        // of each is the other fair reading.
        let best = |t: &[f64]| pps(t.iter().copied().fold(f64::INFINITY, f64::min));
        let (b1, b2, bn) = (best(&t1), best(&t2), best(&tn));
        println!(
            "fastest runs: 1 thread / ndpiReader {:.2}x, 2 threads / ndpiReader {:.2}x, 2 threads / 1 thread {:.2}x",
            b1 / bn,
            b2 / bn,
            b2 / b1
        );
        println!(
            "sift 1 thread peak memory / ndpiReader's  {:>5.3}",
            m1 as f64 / mn as f64
        );
        println!(
            "sift 2 threads peak memory / ndpiReader's {:>5.3}",
            m2 as f64 / mn as f64
        );
    } else {
        println!("ndpiReader not found (apt-get install libndpi-bin): no ratios");
        println!("sift 2 threads / 1 thread    {:>6.2}x", p2 / p1);
    }
}
