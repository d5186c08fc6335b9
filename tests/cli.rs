//! `sift analyze` as a user meets it: errors, warnings, exit codes, output.

mod common;

use std::io::Write;
use std::path::PathBuf;

use common::*;

/// A temporary file that removes itself.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, bytes: &[u8]) -> Temp {
        let p = std::env::temp_dir().join(format!("sift-cli-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        Temp(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A classic pcap (µs, little endian) of `link` with the given frames.
fn pcap(link: u32, frames: &[(u32, &[u8])]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&link.to_le_bytes());
    for (sec, f) in frames {
        v.extend_from_slice(&sec.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(f);
    }
    v
}

/// A raw IPv4/UDP packet (link type 101) from `src` to `dst`, TTL 64,
/// identification 1, lengths and checksums valid (etherparse's builder).
fn ipv4_udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    use etherparse::{IpHeaders, Ipv4Header, PacketBuilder};
    let ip = Ipv4Header {
        identification: 1,
        time_to_live: 64,
        source: src.0,
        destination: dst.0,
        ..Ipv4Header::default()
    };
    let mut v = Vec::new();
    PacketBuilder::ip(IpHeaders::Ipv4(ip, Default::default()))
        .udp(src.1, dst.1)
        .write(&mut v, payload)
        .expect("a test packet within IPv4's limits");
    v
}

/// Raw IPv4/UDP packet 10.0.0.`src_last`:5000 -> 10.0.0.2:53 with `payload`.
fn udp(src_last: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_udp(([10, 0, 0, src_last], 5000), ([10, 0, 0, 2], 53), payload)
}

#[test]
fn missing_file_is_a_one_line_error_with_exit_2() {
    let out = sift(["analyze", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "sift: error: /nonexistent/capture.pcap: no such file\n"
    );
}

#[test]
fn not_a_capture_and_empty_file() {
    let t = Temp::new(
        "notpcap.txt",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    );
    let out = sift(["analyze", t.path()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "sift: error: {}: not a pcap or pcapng capture",
            t.path()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let e = Temp::new("empty.pcap", b"");
    let out = sift(["analyze", e.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("file too short for a capture header (0 bytes)"));
}

#[test]
fn directory_is_refused() {
    let out = sift(["analyze", std::env::temp_dir().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn truncated_capture_keeps_flows_and_warns() {
    let a = udp(1, b"first");
    let b = udp(3, b"second flow");
    let mut bytes = pcap(101, &[(1, &a), (2, &b), (3, &a)]);
    bytes.truncate(bytes.len() - 10);
    let t = Temp::new("truncated.pcap", &bytes);
    let out = sift(["analyze", "--format", "json", "-q", t.path()]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("sift: warning:")
            && err.contains("truncated capture")
            && err.contains("2 packets before it were analyzed"),
        "{err}"
    );
    let recs = eve(&out.stdout);
    assert_eq!(recs.len(), 2, "both flows read before the cut are reported");
    assert_eq!(recs[0]["src_ip"], "10.0.0.1");
    assert_eq!(recs[0]["flow"]["pkts_toserver"], 1);
}

#[test]
fn unknown_link_type_is_counted_not_fatal() {
    let t = Temp::new("link147.pcap", &pcap(147, &[(1, b"user-defined frame")]));
    let out = sift(["analyze", t.path()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("1 frames of unsupported link type 147"), "{s}");
}

#[test]
fn eve_flow_record_fields() {
    let q = udp(1, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
    // The reply: 10.0.0.2:53 -> 10.0.0.1:5000.
    let r = ipv4_udp(
        ([10, 0, 0, 2], 53),
        ([10, 0, 0, 1], 5000),
        b"\x12\x34\x81\x80",
    );
    let t = Temp::new(
        "dns.pcap",
        &pcap(101, &[(1_600_000_000, &q), (1_600_000_001, &r)]),
    );
    let out = sift(["analyze", "--format", "json", "-q", t.path()]);
    let recs = eve(&out.stdout);
    assert_eq!(recs.len(), 1);
    let f = &recs[0];
    assert_eq!(f["event_type"], "flow");
    assert_eq!(
        (f["src_ip"].as_str(), f["src_port"].as_u64()),
        (Some("10.0.0.1"), Some(5000))
    );
    assert_eq!(
        (f["dest_ip"].as_str(), f["dest_port"].as_u64()),
        (Some("10.0.0.2"), Some(53))
    );
    assert_eq!(f["proto"], "UDP");
    assert_eq!(f["app_proto"], "unknown");
    assert!(f["flow_id"].as_u64().unwrap() < (1 << 53));
    let flow = &f["flow"];
    assert_eq!(
        (
            flow["pkts_toserver"].as_u64(),
            flow["pkts_toclient"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(flow["bytes_toserver"].as_u64(), Some(q.len() as u64));
    assert_eq!(flow["start"], "2020-09-13T12:26:40.000000+0000");
    assert_eq!(flow["end"], "2020-09-13T12:26:41.000000+0000");
    assert_eq!(
        (flow["state"].as_str(), flow["reason"].as_str()),
        (Some("established"), Some("shutdown"))
    );
}

#[test]
fn json_to_file_and_summary_to_stdout() {
    let t = Temp::new("one.pcap", &pcap(101, &[(1, &udp(1, b"x"))]));
    let o = std::env::temp_dir().join(format!("sift-cli-{}-out.json", std::process::id()));
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-o",
        o.to_str().unwrap(),
        t.path(),
    ]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(
        s.contains("flows     1") && s.contains("by transport: UDP 1"),
        "{s}"
    );
    assert_eq!(eve(&std::fs::read(&o).unwrap()).len(), 1);
    let _ = std::fs::remove_file(o);
}

#[test]
fn bad_flags_exit_2() {
    let t = Temp::new("flags.pcap", &pcap(101, &[(1, &udp(1, b"x"))]));
    let out = sift(["analyze", "--threads", "0", t.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "sift: error: --threads must be at least 1\n"
    );
    let out = sift(["analyze", "--format", "xml", t.path()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn closed_pipe_ends_quietly() {
    // Many flows, read by a consumer that stops after one line.
    let frames: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| udp((i % 250) as u8 + 1, &i.to_be_bytes()))
        .collect();
    let refs: Vec<(u32, &[u8])> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (i as u32, f.as_slice()))
        .collect();
    let t = Temp::new("many.pcap", &pcap(101, &refs));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sift"))
        .args([
            "analyze",
            "--format",
            "json",
            "--udp-timeout",
            "0",
            "--new-timeout",
            "0",
            "-q",
            t.path(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
    let _ = std::io::stderr().flush();
}

/// sift with `stdin` as its standard input.
fn sift_stdin(args: &[&str], stdin: std::process::Stdio) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sift"))
        .args(args)
        .stdin(stdin)
        .output()
        .expect("run sift")
}

/// The records with the input's name taken out: what a stream and the
/// file it came from must agree on.
fn records_without_name(stdout: &[u8]) -> Vec<serde_json::Value> {
    eve(stdout)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("pcap_filename");
            r
        })
        .collect()
}

#[test]
fn standard_input_a_fifo_and_dev_stdin_read_as_the_file() {
    let sample = project_file("captures/sample.pcap");
    let sample = sample.to_str().unwrap();
    let from_file =
        records_without_name(&sift(["analyze", "--format", "json", "-q", sample]).stdout);
    assert!(from_file.len() > 10);

    // `cat file | sift analyze -`: a pipe.
    let mut cat = std::process::Command::new("cat")
        .arg(sample)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = sift_stdin(
        &["analyze", "--format", "json", "-q", "-"],
        cat.stdout.take().unwrap().into(),
    );
    cat.wait().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(records_without_name(&out.stdout), from_file);
    assert_eq!(eve(&out.stdout)[0]["pcap_filename"], "-");

    // /dev/stdin redirected from the file.
    let out = sift_stdin(
        &["analyze", "--format", "json", "-q", "/dev/stdin"],
        std::fs::File::open(sample).unwrap().into(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(records_without_name(&out.stdout), from_file);

    // A FIFO written by another process.
    let fifo = std::env::temp_dir().join(format!("sift-cli-{}-fifo", std::process::id()));
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let (fifo, sample) = (fifo.clone(), sample.to_string());
        std::thread::spawn(move || std::fs::write(&fifo, std::fs::read(sample).unwrap()))
    };
    let out = sift(["analyze", "--format", "json", "-q", fifo.to_str().unwrap()]);
    writer.join().unwrap().unwrap();
    let _ = std::fs::remove_file(&fifo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(records_without_name(&out.stdout), from_file);

    // Standard input twice is refused.
    let out = sift(["analyze", "-", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "sift: error: -: standard input can be named only once\n"
    );
}

#[test]
fn streams_that_are_not_captures_are_refused_at_once() {
    // /dev/zero would never end: its first bytes decide.
    let out = sift(["analyze", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "sift: error: /dev/zero: not a pcap or pcapng capture (first bytes [00, 00, 00, 00])\n"
    );
    // An empty stream says how much it held, once.
    let out = sift_stdin(&["analyze", "-"], std::process::Stdio::null());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "sift: error: -: file too short for a capture header (0 bytes)\n"
    );
}

#[test]
fn a_capture_header_cut_short_is_an_error_for_both_formats() {
    // pcapng: a section header block is 28 bytes at least; pcap's header 24.
    let ng = std::fs::read(ndpi_corpus().join("pcap/ah.pcapng")).unwrap();
    for n in [12, 20, 27] {
        let t = Temp::new(&format!("cut{n}.pcapng"), &ng[..n]);
        let out = sift(["analyze", t.path()]);
        assert_eq!(out.status.code(), Some(2), "{n} bytes");
        assert_eq!(
            text(&out.stderr),
            format!(
                "sift: error: {}: file too short for a capture header ({n} bytes)\n",
                t.path()
            )
        );
    }
    let p = std::fs::read(project_file("captures/sample.pcap")).unwrap();
    let t = Temp::new("cut23.pcap", &p[..23]);
    assert_eq!(sift(["analyze", t.path()]).status.code(), Some(2));
    // A whole header and a cut record: a truncated capture, a warning.
    let t = Temp::new("cut30.pcap", &p[..30]);
    let out = sift(["analyze", "-q", t.path()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("sift: warning:"));
}

#[test]
fn more_files_than_descriptors_in_one_call() {
    // Files are opened when read, not all at once: 300 files under a limit
    // of 64 descriptors (was: every file held open until the end).
    let dir = std::env::temp_dir().join(format!("sift-cli-{}-many", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = pcap(101, &[(1, &udp(1, b"x"))]);
    let mut names = String::new();
    for i in 0..300 {
        let p = dir.join(format!("f{i:03}.pcap"));
        std::fs::write(&p, &one).unwrap();
        names.push_str(&format!(" '{}'", p.display()));
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec '{}' analyze --format json -q{names}",
            env!("CARGO_BIN_EXE_sift")
        ))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(eve(&out.stdout).len(), 300, "one flow per file");
}

#[test]
fn a_timeout_of_zero_is_off_for_every_timeout_flag() {
    // Three packets a minute apart: with every timeout at 0 (never), one
    // record of three packets (was: --active-timeout 0 split the flow at
    // every packet, while 0 idle timeouts expired it at once).
    let a = udp(1, b"x");
    let t = Temp::new(
        "zero-timeouts.pcap",
        &pcap(101, &[(1, &a), (61, &a), (121, &a)]),
    );
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-q",
        "--active-timeout",
        "0",
        "--udp-timeout",
        "0",
        "--new-timeout",
        "0",
        "--tcp-timeout",
        "0",
        t.path(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let recs = eve(&out.stdout);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["flow"]["pkts_toserver"], 3);
    // Real timeouts still end it: three records.
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-q",
        "--active-timeout",
        "30",
        t.path(),
    ]);
    assert_eq!(eve(&out.stdout).len(), 3);
}

#[test]
fn sigint_during_analyze_reports_what_was_read() {
    // 100,000 one-packet flows a second apart: records are written as flows
    // time out. sift blocks on the full stdout pipe mid-run; SIGINT then
    // stops the reading, and what was read is still reported.
    let frames: Vec<(u32, Vec<u8>)> = (0..100_000u32)
        .map(|i| {
            let src = [10, 1, (i >> 8) as u8, i as u8];
            (
                i,
                ipv4_udp((src, 5000 + (i % 7) as u16), ([10, 0, 0, 2], 53), b"query"),
            )
        })
        .collect();
    let refs: Vec<(u32, &[u8])> = frames.iter().map(|(s, f)| (*s, f.as_slice())).collect();
    let t = Temp::new("sigint.pcap", &pcap(101, &refs));
    assert_interrupted(
        &["analyze", "--format", "json", "--threads", "1", t.path()],
        100_000,
    );
}

/// Every line names its capture file, escaped as JSON needs: the name
/// is rendered once per run, so a quote, a backslash or a control byte in
/// it must survive that.
#[test]
fn file_names_are_escaped_in_every_line() {
    let sample = std::fs::read(project_file("captures/sample.pcap")).unwrap();
    let odd = Temp::new("we\"ird\\na\tme.pcap", &sample);
    let out = sift(["analyze", "--format", "json", "-q", odd.path()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = eve(&out.stdout);
    assert!(records.len() > 10);
    for r in &records {
        assert_eq!(r["pcap_filename"], odd.path());
    }
    let raw = text(&out.stdout);
    assert!(raw.contains(r#"we\"ird\\na\tme.pcap""#), "{raw:.300}");
}
