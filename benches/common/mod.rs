//! What the benchmark harnesses share: the bench capture, timing a child
//! process with its peak memory, medians.

#![allow(unsafe_code)] // libc calls of the harness; see each SAFETY comment.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The capture `../shared/tools/make_bench_pcap.py` builds from the nDPI
/// corpus (16 replicas), made on first use into `target/bench/bench16.pcap`
/// (needs python3 with `dpkt`), and read once so that no run pays for the
/// disk.
pub fn bench_capture() -> PathBuf {
    let out = root().join("target/bench/bench16.pcap");
    if !out.is_file() {
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        eprintln!("building {} (once)...", out.display());
        let st = Command::new("python3")
            .arg(root().join("../shared/tools/make_bench_pcap.py"))
            .arg(root().join("../shared/corpus/ndpi/pcap"))
            .arg(&out)
            .args(["--replicas", "16"])
            .status()
            .expect("python3");
        assert!(
            st.success(),
            "make_bench_pcap.py failed (pip install dpkt?)"
        );
    }
    // The capture is measured as a file on disk is read: dropped from the
    // page cache, then read back once (streamed, not read whole: a child's
    // peak RSS starts from this process's at fork). Read back, the cache
    // holds it in large folios; as the generator just wrote it, in 4 KiB
    // ones, which costs a program that maps the file a page-table entry
    // per 4 KiB (sift's system time 0.11-0.15 s against 0.00-0.03 s,
    // benches/HISTORY.md). Every program measured reads the same cache.
    if let Ok(mut f) = std::fs::File::open(&out) {
        use std::os::fd::AsRawFd;
        // SAFETY: plain FFI call on a descriptor this function owns; the
        // advice changes no data.
        let _ = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        let _ = std::io::copy(&mut f, &mut std::io::sink());
    }
    out
}

/// Wall seconds, peak RSS (KiB) and standard output of one run of `cmd`,
/// which must succeed. The child is reaped with `wait4` (for its resource
/// usage) rather than `Child::wait`; its output goes through a file so
/// that no pipe fills.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (f64, u64, String) {
    let out_path = root().join(format!("target/bench/out-{}.txt", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("bench output file");
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::from(out))
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
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    (secs, usage.ru_maxrss as u64, text)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
