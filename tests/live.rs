//! `sift live` on a veth pair in a network namespace of the test's own:
//! tcpreplay sends a committed capture into one end, sift captures on the
//! other, and its flow records must be those `sift analyze` reports for
//! the same capture. Needs root (namespaces, raw sockets); without it the
//! tests say so and pass.

#![allow(unsafe_code)] // libc calls of the harness; see each SAFETY comment.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// True (after saying why) when the test cannot run here.
fn skip() -> bool {
    if is_root() {
        return false;
    }
    eprintln!("skipping: live capture tests need root (network namespaces, raw sockets)");
    true
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        text(&out.stderr)
    );
    out
}

/// A network namespace with a veth pair `va` (where packets are sent) and
/// `vb` (where sift captures), both up, without IPv6 (no router
/// solicitations or DAD noise) and without addresses. Deleted on drop,
/// which also deletes the pair.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "sift-live-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        // Best effort (a kernel without IPv6 has nothing to turn off);
        // noise is filtered out by address anyway.
        let _ = ns
            .exec("sh")
            .args([
                "-c",
                "for c in all default; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6; done",
            ])
            .stderr(Stdio::null())
            .status();
        run(Command::new("ip").args([
            "-n", &ns.name, "link", "add", "va", "type", "veth", "peer", "name", "vb",
        ]));
        for dev in ["va", "vb"] {
            run(Command::new("ip").args(["-n", &ns.name, "link", "set", dev, "up"]));
        }
        ns
    }

    /// `program` to run inside the namespace.
    fn exec(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    fn replay(&self, capture: &str) {
        run(self
            .exec("tcpreplay")
            .args(["-q", "-i", "va", "--topspeed", capture]));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A running `sift live`, killed on drop if still running; its stderr
/// lines are collected as they come.
struct Live {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    /// What sift writes on stdout (the summary, records going to a file).
    stdout: std::thread::JoinHandle<String>,
    output: TempFile,
}

impl Live {
    /// Starts sift on `vb` with JSON records to a file (and no periodic
    /// stats, unless `args` ask), and waits until it captures.
    fn start(ns: &Netns, args: &[&str]) -> Live {
        let mut args = args.to_vec();
        if !args.contains(&"--stats-interval") {
            args.extend(["--stats-interval", "0"]);
        }
        let output = TempFile::new("live.json", b"");
        let mut child = ns
            .exec(env!("CARGO_BIN_EXE_sift"))
            .args(["live", "-i", "vb", "--format", "json", "-o", output.path()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sift live");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().unwrap());
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for l in lines.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        let mut so = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut so, &mut s);
            s
        });
        let live = Live {
            child,
            stderr,
            stdout,
            output,
        };
        live.wait_for_line("sift: capturing on ", Duration::from_secs(10));
        live
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The first stderr line starting with `prefix` after the first `skip`
    /// lines, waiting up to `limit`.
    fn line_after(&self, skip: usize, prefix: &str, limit: Duration) -> String {
        let until = Instant::now() + limit;
        loop {
            if let Some(l) = self.stderr()[skip.min(self.stderr().len())..]
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < until,
                "no line {prefix:?} from sift; stderr: {:#?}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_line(&self, prefix: &str, limit: Duration) -> String {
        self.line_after(0, prefix, limit)
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our
        // child's (`ip netns exec` execs sift in place).
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill failed");
    }

    /// Packets sift has read, from a SIGUSR1 stats line.
    fn packets_read(&self) -> u64 {
        let before = self.stderr().len();
        self.signal(libc::SIGUSR1);
        let line = self.line_after(before, "sift: stats: ", Duration::from_secs(5));
        packets_in(&line)
    }

    /// Waits until sift has read `n` packets.
    fn wait_packets(&self, n: u64) {
        let until = Instant::now() + Duration::from_secs(10);
        while self.packets_read() < n {
            assert!(Instant::now() < until, "sift did not read {n} packets");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn records(&self) -> Vec<Value> {
        let bytes = std::fs::read(&self.output.0).unwrap();
        // Lines are written whole per batch; a partial last line is not yet
        // complete.
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(&[][..], |i| &bytes[..=i]);
        eve(complete)
    }

    /// Sends SIGTERM and waits for exit code 0; returns the records, the
    /// stderr lines and stdout.
    fn stop(mut self) -> (Vec<Value>, Vec<String>, String) {
        self.signal(libc::SIGTERM);
        let until = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < until, "sift did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        assert!(status.success(), "{status}; stderr {:#?}", self.stderr());
        let records = self.records();
        let stderr = self.stderr();
        let stdout = std::mem::replace(&mut self.stdout, std::thread::spawn(String::new));
        (records, stderr, stdout.join().unwrap())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `N` from "... | packets N (...".
fn packets_in(line: &str) -> u64 {
    line.split(" | ")
        .find_map(|part| part.strip_prefix("packets "))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count in {line:?}"))
}

/// Packets in a classic little-endian pcap file.
fn pcap_packets(bytes: &[u8]) -> u64 {
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
        n += 1;
    }
    n
}

/// What must agree between live and offline: the 5-tuple, the application
/// and its names, and the packet and byte counts.
fn key(r: &Value) -> String {
    let name = server_name(r);
    let f = &r["flow"];
    format!(
        "{} {}:{} -> {}:{} {} {} pkts {}/{} bytes {}/{}",
        r["proto"],
        r["src_ip"],
        r["src_port"],
        r["dest_ip"],
        r["dest_port"],
        r["app_proto"],
        name,
        f["pkts_toserver"],
        f["pkts_toclient"],
        f["bytes_toserver"],
        f["bytes_toclient"],
    )
}

fn analyze(capture: &str) -> Vec<Value> {
    let out = sift(["analyze", "--format", "json", "-q", capture]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    eve(&out.stdout)
}

/// The live records between the capture's own addresses (anything else is
/// local noise), checked against `sift analyze`'s: every flow, each once,
/// with the same counts.
fn assert_same_flows(live: &[Value], offline: &[Value]) {
    let addrs: BTreeSet<&str> = offline
        .iter()
        .flat_map(|r| {
            [
                r["src_ip"].as_str().unwrap(),
                r["dest_ip"].as_str().unwrap(),
            ]
        })
        .collect();
    let mut got: Vec<String> = live
        .iter()
        .filter(|r| {
            addrs.contains(r["src_ip"].as_str().unwrap())
                && addrs.contains(r["dest_ip"].as_str().unwrap())
        })
        .map(key)
        .collect();
    let mut want: Vec<String> = offline.iter().map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "live records differ from analyze's");
}

/// Packets each worker processed, from the "sift: stopped:" line.
fn per_worker(stderr: &[String]) -> Vec<u64> {
    let line = stderr
        .iter()
        .find(|l| l.starts_with("sift: stopped: "))
        .unwrap_or_else(|| panic!("no final stats line: {stderr:#?}"));
    line.rsplit("per worker ")
        .next()
        .unwrap()
        .split('/')
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Replays the sample capture; waits until sift has read it all and its
/// UDP and ICMPv6 flows timed out (1 s idle) and were written while it ran;
/// stops it with SIGTERM: the TCP flows, still open (FIN-closed flows wait
/// 10 s), come out with reason "shutdown". Every record matches analyze's.
fn sample_while_running(args: &[&str]) -> Vec<String> {
    if skip() {
        return Vec::new();
    }
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let offline = analyze(capture);
    let idle: usize = offline.iter().filter(|r| r["proto"] != "TCP").count();
    assert!(idle > 0 && idle < offline.len());

    let ns = Netns::new();
    let mut all = vec!["--udp-timeout", "1", "--new-timeout", "1"];
    all.extend_from_slice(args);
    let live = Live::start(&ns, &all);
    ns.replay(capture);
    live.wait_packets(pcap_packets(&std::fs::read(capture).unwrap()));
    // SIGHUP reaches the control path (and says what it reloaded).
    let before = live.stderr().len();
    live.signal(libc::SIGHUP);
    live.line_after(before, "sift: SIGHUP: ", Duration::from_secs(5));
    let until = Instant::now() + Duration::from_secs(10);
    while live.records().len() < idle {
        assert!(
            Instant::now() < until,
            "idle flows were not written while running: {:#?}",
            live.records()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (records, stderr, stdout) = live.stop();
    assert_same_flows(&records, &offline);
    for r in &records {
        let want = if r["proto"] == "TCP" {
            "shutdown"
        } else {
            "timeout"
        };
        assert_eq!(r["flow"]["reason"], want, "{r}");
        assert!(r.get("pcap_filename").is_none());
        assert_eq!(r["in_iface"], "vb");
    }
    assert!(stdout.starts_with("sift live: vb\n"), "{stdout}");
    let ends = format!(
        "by end:       shutdown {}, timeout {idle}",
        offline.len() - idle
    );
    assert!(stdout.contains(&ends), "{stdout}");
    stderr
}

#[test]
fn fanout_records_match_analyze() {
    let stderr = sample_while_running(&["--threads", "2"]);
    if stderr.is_empty() {
        return;
    }
    assert!(
        stderr.iter().any(|l| l.contains("AF_PACKET fanout")),
        "{stderr:#?}"
    );
    // Both workers got traffic, and still no flow was split.
    let w = per_worker(&stderr);
    assert!(w.len() == 2 && w.iter().all(|&n| n > 0), "{w:?}");
}

#[test]
fn dispatch_records_match_analyze() {
    let stderr = sample_while_running(&["--threads", "2", "--no-fanout"]);
    if stderr.is_empty() {
        return;
    }
    assert!(
        stderr.iter().any(|l| l.contains("dispatching")),
        "{stderr:#?}"
    );
    let w = per_worker(&stderr);
    assert!(w.len() == 2 && w.iter().all(|&n| n > 0), "{w:?}");
}

/// SIGTERM right after the replay, without waiting: what the kernel
/// captured is still processed (also the last ring block, handed over only
/// after the block timeout), and every flow comes out, with reason
/// "shutdown".
fn sigterm_loses_no_flow(args: &[&str]) {
    if skip() {
        return;
    }
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let offline = analyze(capture);
    let ns = Netns::new();
    let live = Live::start(&ns, args);
    ns.replay(capture);
    let (records, stderr, _) = live.stop();
    assert_same_flows(&records, &offline);
    assert!(records.iter().all(|r| r["flow"]["reason"] == "shutdown"));
    assert!(
        stderr.iter().any(|l| l.starts_with("sift: stopped: ")),
        "{stderr:#?}"
    );
}

#[test]
fn sigterm_loses_no_flow_block_mode() {
    sigterm_loses_no_flow(&["--threads", "1", "--block-timeout", "1000"]);
}

#[test]
fn sigterm_loses_no_flow_immediate_mode() {
    sigterm_loses_no_flow(&["--threads", "1", "--block-timeout", "0"]);
}

/// The kernel's fanout hash is symmetric: with 4 workers, each of 96
/// request/response pairs (one packet each way, distinct ports and
/// addresses) is one flow with both packets, never two half flows.
#[test]
fn fanout_keeps_both_directions_together() {
    if skip() {
        return;
    }
    let mut frames = Vec::new();
    for i in 0..96u16 {
        let client = ([10, 9, (i / 200) as u8, (i % 200) as u8 + 1], 20000 + i * 7);
        let server = ([10, 8, 0, (i % 5) as u8 + 1], 53 + (i % 3) * 1000);
        frames.push(common::pcap::Frame {
            src: client,
            dst: server,
            tcp: None,
            payload: vec![0xab; 20],
        });
        frames.push(common::pcap::Frame {
            src: server,
            dst: client,
            tcp: None,
            payload: vec![0xcd; 30],
        });
    }
    let file = TempFile::new("pairs.pcap", &common::pcap::file(&frames));
    let ns = Netns::new();
    let live = Live::start(&ns, &["--threads", "4"]);
    ns.replay(file.path());
    live.wait_packets(frames.len() as u64);
    let (records, stderr, _) = live.stop();
    let flows: Vec<&Value> = records
        .iter()
        .filter(|r| r["src_ip"].as_str().unwrap().starts_with("10.9."))
        .collect();
    assert_eq!(flows.len(), 96, "{records:#?}");
    for r in flows {
        assert_eq!(r["flow"]["pkts_toserver"], 1, "{r}");
        assert_eq!(r["flow"]["pkts_toclient"], 1, "{r}");
    }
    let w = per_worker(&stderr);
    assert!(w.len() == 4 && w.iter().all(|&n| n > 0), "{w:?}");
}

/// A stats line every `--stats-interval` seconds, without signals.
#[test]
fn periodic_stats() {
    if skip() {
        return;
    }
    let ns = Netns::new();
    let live = Live::start(&ns, &["--threads", "1", "--stats-interval", "1"]);
    let started = Instant::now();
    let first = live.line_after(0, "sift: stats: ", Duration::from_secs(3));
    let n = live.stderr().len();
    live.line_after(n, "sift: stats: ", Duration::from_secs(3));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(
        first.contains(" | dropped: kernel 0, interface 0 | "),
        "{first}"
    );
    assert!(first.contains(" | memory "), "{first}");
    live.stop();
}

/// One-line errors with exit code 2.
#[test]
fn errors_are_one_line_with_exit_2() {
    let one_line_error = |out: &Output| -> String {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("sift: error: "), "{err}");
        err
    };
    let err = one_line_error(&sift(["live", "-i", "sift-nosuch0"]));
    assert!(err.contains("no such interface: sift-nosuch0"), "{err}");
    assert!(err.contains("lo"), "the interfaces that exist: {err}");

    let out = sift(["live"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--interface"));

    let out = sift(["live", "--list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).lines().any(|l| l.starts_with("lo ")));

    if skip() {
        return;
    }
    let err = one_line_error(&sift(["live", "-i", "lo", "--bpf", "tcp port nonsense"]));
    assert!(
        err.contains("invalid --bpf expression \"tcp port nonsense\": "),
        "{err}"
    );
    // libpcap's own words follow.
    assert!(err.contains("nonsense'"), "{err}");

    // Without privileges (as nobody): what capture needs.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args([env!("CARGO_BIN_EXE_sift"), "live", "-i", "lo"])
        .output()
        .expect("run setpriv");
    if text(&out.stderr).starts_with("setpriv:") {
        // The built binary is not reachable by nobody (a private checkout).
        eprintln!("skipping the permission check: {}", text(&out.stderr));
        return;
    }
    let err = one_line_error(&out);
    assert!(
        err.contains(
            "lo: permission denied: capture needs root or the CAP_NET_RAW and CAP_NET_ADMIN"
        ),
        "{err}"
    );
}

/// Alerts (signature, tuple) and flow verdicts of EVE events.
fn alerts_of(events: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            format!(
                "{} {}:{} -> {}:{}",
                e["alert"]["signature_id"],
                e["src_ip"],
                e["src_port"],
                e["dest_ip"],
                e["dest_port"]
            )
        })
        .collect();
    v.sort();
    v
}

fn verdicts_of(events: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter(|e| e["event_type"] == "flow" && e["verdict"].is_object())
        .map(|e| format!("{} {}", key(e), e["verdict"]["action"]))
        .collect();
    v.sort();
    v
}

/// With rules, live writes the alerts and verdicts analyze writes; SIGHUP
/// with a broken rule file keeps the running rules, with a good one swaps
/// them for the flows that follow.
#[test]
fn rules_match_analyze_and_reload_on_sighup() {
    if skip() {
        return;
    }
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let first = "pass 9001 \"lab lookups\" { app dns; dns.query .example.test }\n\
                 alert 9002 \"lab connections\" { tls.sni|http.host .example.test }\n";
    let rules = TempFile::new("live.rules", first.as_bytes());
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-q",
        "--no-rules-cache",
        "--rules",
        rules.path(),
        capture,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let offline = eve(&out.stdout);
    assert_eq!(alerts_of(&offline).len(), 10);

    let ns = Netns::new();
    let args = [
        "--threads",
        "2",
        "--udp-timeout",
        "1",
        "--new-timeout",
        "1",
        "--no-rules-cache",
        "--rules",
        rules.path(),
    ];
    let live = Live::start(&ns, &args);
    ns.replay(capture);
    live.wait_packets(pcap_packets(&std::fs::read(capture).unwrap()));
    // Alerts come out as soon as they match, before the flows end.
    let until = Instant::now() + Duration::from_secs(10);
    while alerts_of(&live.records()).len() < 10 {
        assert!(
            Instant::now() < until,
            "alerts not written while running: {:#?}",
            live.records()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A broken rule file: refused, the running rules stay.
    std::fs::write(&rules.0, "alert 1 \"x\" { app nope }\n").unwrap();
    let before = live.stderr().len();
    live.signal(libc::SIGHUP);
    let l = live.line_after(before, "sift: SIGHUP: ", Duration::from_secs(5));
    assert_eq!(
        l,
        "sift: SIGHUP: rule files not reloaded, the running rules stay:"
    );
    // A good one: taken for what follows.
    std::fs::write(
        &rules.0,
        "alert 7 \"lab lookups\" { dns.query .example.test }\n",
    )
    .unwrap();
    let before = live.stderr().len();
    live.signal(libc::SIGHUP);
    let l = live.line_after(before, "sift: SIGHUP: ", Duration::from_secs(5));
    assert!(
        l.starts_with("sift: SIGHUP: reloaded 1 rules from 1 files"),
        "{l}"
    );
    // The first round's DNS flows time out (1 s) before the second round.
    std::thread::sleep(Duration::from_millis(2500));
    let read = live.packets_read();
    ns.replay(capture);
    live.wait_packets(read + pcap_packets(&std::fs::read(capture).unwrap()));
    let (records, _, _) = live.stop();
    let alerts = alerts_of(&records);
    let first_round: Vec<String> = alerts
        .iter()
        .filter(|a| a.starts_with("9002 "))
        .cloned()
        .collect();
    assert_eq!(
        first_round,
        alerts_of(&offline),
        "first round: the alerts analyze writes"
    );
    assert_eq!(
        alerts.iter().filter(|a| a.starts_with("7 ")).count(),
        5,
        "{alerts:#?}"
    );
    assert_eq!(
        alerts.len(),
        15,
        "no 9002 alert after the reload: {alerts:#?}"
    );
    // Verdicts of the first round's flows are analyze's.
    let live_verdicts = verdicts_of(&records);
    for v in verdicts_of(&offline) {
        assert!(
            live_verdicts.contains(&v),
            "{v} missing from {live_verdicts:#?}"
        );
    }
}

/// Brings up the namespace's loopback, for servers the test runs in it.
fn loopback_up(ns: &Netns) {
    run(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
}

/// Waits until `cond` holds (10 s at most).
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Records as comparable text (keys sorted).
fn canonical(records: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = records.iter().map(Value::to_string).collect();
    v.sort();
    v
}

/// `N` of "N word" in the summary line of sink `kind` ("0" when absent).
fn sink_count(stdout: &str, kind: &str, word: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{kind} ")))
        .unwrap_or_else(|| panic!("no {kind} line in {stdout}"));
    line.split([':', ',', '('])
        .map(str::trim)
        .find_map(|part| part.strip_suffix(word).map(str::trim))
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or(0)
}

/// `sift live` writes to Redis while Redis stops and comes back: every
/// record of the EVE file is in the Redis list, except those the summary
/// counts as dropped or lost, and a record is there twice only if it was
/// sent again after the reconnection.
#[test]
fn redis_restart_in_a_live_run_loses_nothing_uncounted() {
    if skip() {
        return;
    }
    use common::servers::Redis;
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let idle = analyze(capture)
        .iter()
        .filter(|r| r["proto"] != "TCP")
        .count();
    let ns = Netns::new();
    loopback_up(&ns);
    let mut redis = Redis::start_in(Some(&ns.name), 6390, true);
    let llen = |r: &Redis| {
        r.cli(&["LLEN", "live"])
            .trim()
            .parse::<usize>()
            .unwrap_or(0)
    };
    let live = Live::start(
        &ns,
        &[
            "--udp-timeout",
            "1",
            "--new-timeout",
            "1",
            "--redis",
            "127.0.0.1:6390",
            "--redis-key",
            "live",
        ],
    );
    ns.replay(capture);
    wait_until("the first records in Redis", || {
        let n = live.records().len();
        n >= idle && llen(&redis) == n
    });
    redis.stop();
    // Records written while Redis is down: the new UDP flows, and the TCP
    // flows the replay's SYNs end (tcp_reuse).
    let before = live.records().len();
    ns.replay(capture);
    wait_until("records while Redis is down", || {
        live.records().len() >= before + idle
    });
    redis.restart();
    ns.replay(capture);
    std::thread::sleep(Duration::from_millis(1500));
    let (records, _, stdout) = live.stop();
    let mut got: Vec<Value> = redis
        .cli(&["LRANGE", "live", "0", "-1"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    got.reverse();
    let want = canonical(&records);
    let got = canonical(&got);
    // Multiset difference both ways.
    let (mut missing, mut extra) = (0u64, 0u64);
    let (mut i, mut j) = (0, 0);
    while i < want.len() || j < got.len() {
        match (want.get(i), got.get(j)) {
            (Some(a), Some(b)) if a == b => (i, j) = (i + 1, j + 1),
            (Some(a), Some(b)) if a < b => (missing, i) = (missing + 1, i + 1),
            (Some(_), None) => (missing, i) = (missing + 1, i + 1),
            _ => (extra, j) = (extra + 1, j + 1),
        }
    }
    let counted =
        sink_count(&stdout, "redis", "dropped (queue full)") + sink_count(&stdout, "redis", "lost");
    assert_eq!(
        missing, counted,
        "records missing from Redis vs counted: {stdout}"
    );
    assert!(
        extra <= sink_count(&stdout, "redis", "sent again"),
        "{extra} duplicates: {stdout}"
    );
    assert!(
        sink_count(&stdout, "redis", "reconnections") > 0,
        "{stdout}"
    );
    assert!(
        records.len() >= 2 * idle + idle,
        "{} records",
        records.len()
    );
    assert_eq!(
        missing, 0,
        "nothing dropped with a queue this size: {stdout}"
    );
}

/// `sift live --metrics`: the scrape is valid for promtool, and its counts
/// are those of the run.
#[test]
fn metrics_scrape_passes_promtool() {
    if skip() {
        return;
    }
    common::servers::require("promtool");
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let rules = project_file("rules/default.rules");
    let ns = Netns::new();
    loopback_up(&ns);
    let live = Live::start(
        &ns,
        &[
            "--udp-timeout",
            "1",
            "--new-timeout",
            "1",
            "--metrics",
            "127.0.0.1:9464",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    ns.replay(capture);
    let packets = pcap_packets(&std::fs::read(capture).unwrap());
    live.wait_packets(packets);
    let scrape = || -> String {
        let out = run(ns.exec("bash").args([
            "-c",
            "exec 3<>/dev/tcp/127.0.0.1/9464; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3",
        ]));
        let t = text(&out.stdout);
        assert!(t.starts_with("HTTP/1.1 200 OK\r\n"), "{t}");
        assert!(t.contains("Content-Type: text/plain; version=0.0.4"), "{t}");
        t.split_once("\r\n\r\n").unwrap().1.to_string()
    };
    let metric = |body: &str, name: &str| -> u64 {
        body.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    // Counts agree once no flow ends between two reads of the records.
    let mut checked = false;
    for _ in 0..20 {
        let before = live.records();
        let body = scrape();
        if live.records().len() != before.len() || before.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        let mut check = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut check.stdin.take().unwrap(), body.as_bytes()).unwrap();
        let out = check.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}\n{body}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(metric(&body, "sift_packets_total ") >= packets, "{body}");
        let flows = before.iter().filter(|r| r["event_type"] == "flow").count() as u64;
        assert_eq!(metric(&body, "sift_flows_ended_total{"), flows, "{body}");
        assert_eq!(metric(&body, "sift_flow_verdicts_total{"), flows, "{body}");
        let dns = before.iter().filter(|r| r["app_proto"] == "dns").count();
        assert_eq!(
            metric(&body, "sift_flow_verdicts_total{app_proto=\"dns\"}"),
            dns as u64,
            "{body}"
        );
        let alerts = before.iter().filter(|r| r["event_type"] == "alert").count() as u64;
        assert_eq!(metric(&body, "sift_alerts_total{"), alerts, "{body}");
        assert!(
            metric(&body, "process_resident_memory_bytes ") > 0,
            "{body}"
        );
        checked = true;
        break;
    }
    assert!(checked, "the records kept changing");
    live.stop();
}

/// A field of `/proc/<pid>/status` (`Uid:`, `Gid:`, `Groups:`, `CapEff:`).
fn proc_status(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn started_as_root_it_runs_as_nobody_without_capabilities() {
    if skip() {
        return;
    }
    let ns = Netns::new();
    let rules = TempFile::new("drop.rules", b"alert 1 \"x\" { tls.sni .example.test }\n");
    let live = Live::start(&ns, &["--no-rules-cache", "--rules", rules.path()]);
    let line = live.wait_for_line("sift: running as user ", Duration::from_secs(10));
    assert_eq!(
        line,
        "sift: running as user nobody (uid 65534, gid 65534), no capabilities"
    );
    let pid = live.child.id();
    // Real, effective, saved and file-system ids all dropped.
    assert_eq!(proc_status(pid, "Uid:"), "65534 65534 65534 65534");
    assert_eq!(proc_status(pid, "Gid:"), "65534 65534 65534 65534");
    assert_eq!(proc_status(pid, "Groups:"), "65534");
    assert_eq!(proc_status(pid, "CapEff:"), "0000000000000000");
    assert_eq!(proc_status(pid, "CapPrm:"), "0000000000000000");
    // Rules still reload as nobody, and the records still reach the file.
    let before = live.stderr().len();
    live.signal(libc::SIGHUP);
    let reloaded = live.line_after(before, "sift: SIGHUP: ", Duration::from_secs(10));
    assert!(
        reloaded.starts_with("sift: SIGHUP: reloaded 1 rules"),
        "{reloaded}"
    );
    ns.replay(project_file("captures/sample.pcap").to_str().unwrap());
    let (records, _, _) = live.stop();
    assert!(!records.is_empty());
}

#[test]
fn as_root_rule_files_others_can_write_are_refused() {
    if skip() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let rules = TempFile::new("open.rules", b"alert 1 \"x\" { tls.sni .example.test }\n");
    std::fs::set_permissions(&rules.0, std::fs::Permissions::from_mode(0o666)).unwrap();
    let ns = Netns::new();
    let out = ns
        .exec(env!("CARGO_BIN_EXE_sift"))
        .args([
            "live",
            "-i",
            "vb",
            "--no-rules-cache",
            "--rules",
            rules.path(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("writable by every user; running as root, sift reads only rule files"),
        "{err}"
    );
}

/// `--events` on a live capture: the same per-transaction events as
/// `sift analyze --events` on the replayed capture.
#[test]
fn transaction_events_match_analyze() {
    if skip() {
        return;
    }
    let capture = project_file("captures/sample.pcap");
    let capture = capture.to_str().unwrap();
    let events = "flow,dns,http,tls";
    let out = sift([
        "analyze", "--format", "json", "-q", "--events", events, capture,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let offline = eve(&out.stdout);
    let ns = Netns::new();
    let live = Live::start(&ns, &["--events", events]);
    ns.replay(capture);
    let (records, _, _) = live.stop();
    let addrs: BTreeSet<&str> = offline
        .iter()
        .flat_map(|r| {
            [
                r["src_ip"].as_str().unwrap(),
                r["dest_ip"].as_str().unwrap(),
            ]
        })
        .collect();
    let names = |rs: &[Value], t: &str| -> Vec<String> {
        let mut v: Vec<String> = rs
            .iter()
            .filter(|r| r["event_type"] == t && addrs.contains(r["src_ip"].as_str().unwrap()))
            .map(common::server_name)
            .collect();
        v.sort();
        v
    };
    for t in ["dns", "http", "tls"] {
        let want = names(&offline, t);
        assert!(!want.is_empty(), "the sample has {t} events");
        assert_eq!(names(&records, t), want, "{t}");
    }
}
