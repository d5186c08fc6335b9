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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const ROUNDS: usize = 5;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bench_capture() -> PathBuf {
    let out = root().join("target/bench/bench16.pcap");
    if out.is_file() {
        return out;
    }
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let tool = root().join("../shared/tools/make_bench_pcap.py");
    let corpus = root().join("../shared/corpus/ndpi/pcap");
    eprintln!("building {} (once)...", out.display());
    let st = Command::new("python3")
        .arg(&tool)
        .arg(&corpus)
        .arg(&out)
        .args(["--replicas", "16"])
        .status()
        .expect("python3");
    assert!(
        st.success(),
        "make_bench_pcap.py failed (pip install dpkt?)"
    );
    out
}

/// Wall seconds and peak RSS (KiB) of one run of `cmd`. The child is reaped
/// with `wait4` (for its resource usage) rather than `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> (f64, u64) {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: plain FFI call with valid pointers; the child is ours to reap.
    let usage = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru);
        assert_eq!(pid, child.id() as libc::pid_t, "wait4");
        ru
    };
    let secs = start.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    (secs, usage.ru_maxrss as u64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

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
    // Warm the page cache so that no run pays for the disk.
    // (Streamed, not read whole: a child's peak RSS starts from this
    // process's at fork.)
    if let Ok(mut f) = std::fs::File::open(&capture) {
        let _ = std::io::copy(&mut f, &mut std::io::sink());
    }
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
    for _ in 0..ROUNDS {
        let (s, m) = measure(&mut sift_cmd("1"));
        t1.push(s);
        m1 = m1.max(m);
        let (s, m) = measure(&mut sift_cmd("2"));
        t2.push(s);
        m2 = m2.max(m);
        if have_ndpi {
            let (s, m) = measure(Command::new("ndpiReader").args(["-q", "-i"]).arg(&capture));
            tn.push(s);
            mn = mn.max(m);
        }
    }
    let pps = |t: f64| n as f64 / t;
    let (p1, p2) = (pps(median(t1)), pps(median(t2)));
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
        let pn = pps(median(tn));
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
