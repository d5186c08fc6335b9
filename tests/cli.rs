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
