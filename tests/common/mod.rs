//! Helpers shared by the integration tests: where things are, running the
//! `sift` binary, reading its EVE output.

#![allow(dead_code)]

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Seeded xorshift bytes, for the random-payload negative controls.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The nDPI regression corpus, read in place beside the project.
pub fn ndpi_corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ndpi");
    assert!(
        dir.join("expected.csv").is_file(),
        "the nDPI corpus is expected at {} (../shared beside the checkout)",
        dir.display()
    );
    dir
}

/// Every capture of the corpus, sorted by name.
pub fn ndpi_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(ndpi_corpus().join("pcap"))
        .expect("corpus pcap dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    v
}

pub fn project_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs `sift` with `args`.
pub fn sift<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_sift"))
        .args(args)
        .output()
        .expect("run sift")
}

/// Runs `sift` with `args` (an EVE JSON run), interrupts it with SIGINT
/// once its first output byte is out (the handlers are installed, the run
/// is on) and 200 ms more have passed, and checks that it stopped as an
/// interrupted run does: exit 130, between one and `max_records` - 1
/// records written, open flows ended as `shutdown`, and the interruption
/// said on standard error.
pub fn assert_interrupted(args: &[&str], max_records: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sift"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let mut all = first.to_vec();
    all.extend_from_slice(&rest);
    let recs = eve(&all);
    assert!(
        !recs.is_empty() && recs.len() < max_records,
        "{} records",
        recs.len()
    );
    assert!(recs.iter().any(|r| r["flow"]["reason"] == "shutdown"));
    let err = text(&out.stderr);
    assert!(err.contains("(interrupted)"), "{err}");
    assert!(err.contains("sift: interrupted:"), "{err}");
}

/// Parses EVE JSON lines.
pub fn eve(stdout: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// The server name an EVE record carries, whichever protocol found it
/// ("-" for none).
pub fn server_name(r: &serde_json::Value) -> String {
    [
        &r["dns"]["rrname"],
        &r["http"]["hostname"],
        &r["tls"]["sni"],
        &r["quic"]["sni"],
    ]
    .iter()
    .find_map(|v| v.as_str())
    .unwrap_or("-")
    .to_string()
}

/// A flow as the comparisons with nDPI's `expected.csv` key it: capture
/// file name, transport as the CSV names it, and both endpoints in order.
pub type FlowKey = (String, String, (String, u64), (String, u64));

fn flow_key(file: String, transport: String, a: (String, u64), b: (String, u64)) -> FlowKey {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (file, transport, lo, hi)
}

/// The key of an EVE flow record.
pub fn eve_flow_key(r: &serde_json::Value) -> FlowKey {
    let file = r["pcap_filename"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let end = |ip: &str, port: &str| {
        (
            r[ip].as_str().unwrap().to_string(),
            r[port].as_u64().unwrap_or(0),
        )
    };
    let transport = match r["proto"].as_str().unwrap() {
        "IPv6-ICMP" => "icmpv6".to_string(),
        p => p.to_lowercase(),
    };
    flow_key(
        file.to_string(),
        transport,
        end("src_ip", "src_port"),
        end("dest_ip", "dest_port"),
    )
}

/// The key of a row of `expected.csv`, split at its commas (addresses
/// written as sift writes them).
pub fn expected_flow_key(f: &[&str]) -> FlowKey {
    let end = |ip: &str, port: &str| {
        let ip = ip
            .parse::<std::net::IpAddr>()
            .map_or(ip.to_string(), |a| a.to_string());
        (ip, port.parse::<u64>().unwrap())
    };
    flow_key(
        f[0].to_string(),
        f[1].to_string(),
        end(f[2], f[3]),
        end(f[4], f[5]),
    )
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Builds capture files for tests: classic pcap, Ethernet, IPv4.
pub mod pcap {
    /// A TCP or UDP packet from `src` to `dst` (a.b.c.d, port).
    pub struct Frame {
        pub src: ([u8; 4], u16),
        pub dst: ([u8; 4], u16),
        /// `Some((seq, flags))` for TCP, `None` for UDP.
        pub tcp: Option<(u32, u8)>,
        pub payload: Vec<u8>,
    }

    pub const SYN: u8 = 0x02;
    pub const ACK: u8 = 0x10;
    pub const PSH_ACK: u8 = 0x18;

    /// The frame on the wire: Ethernet 00:01:02:03:04:06 -> 00:01:02:03:04:05,
    /// IPv4 (TTL 64, don't fragment), TCP (window 65535, no options) or UDP,
    /// every length and checksum valid (etherparse's builder).
    fn frame_bytes(f: &Frame) -> Vec<u8> {
        frame_bytes_acking(f, None)
    }

    /// [`frame_bytes`], the TCP header acknowledging `ack` if given.
    fn frame_bytes_acking(f: &Frame, ack: Option<u32>) -> Vec<u8> {
        use etherparse::{IpHeaders, Ipv4Header, PacketBuilder, TcpHeader};
        let ip = Ipv4Header {
            dont_fragment: true,
            time_to_live: 64,
            source: f.src.0,
            destination: f.dst.0,
            ..Ipv4Header::default()
        };
        let link = PacketBuilder::ethernet2([0, 1, 2, 3, 4, 6], [0, 1, 2, 3, 4, 5])
            .ip(IpHeaders::Ipv4(ip, Default::default()));
        let mut v = Vec::new();
        match f.tcp {
            Some((seq, flags)) => {
                let mut h = TcpHeader::new(f.src.1, f.dst.1, seq, 0xffff);
                h.fin = flags & 0x01 != 0;
                h.syn = flags & 0x02 != 0;
                h.rst = flags & 0x04 != 0;
                h.psh = flags & 0x08 != 0;
                h.ack = flags & 0x10 != 0;
                h.urg = flags & 0x20 != 0;
                h.ece = flags & 0x40 != 0;
                h.cwr = flags & 0x80 != 0;
                if let Some(a) = ack {
                    h.acknowledgment_number = a;
                }
                link.tcp_header(h).write(&mut v, &f.payload)
            }
            None => link.udp(f.src.1, f.dst.1).write(&mut v, &f.payload),
        }
        .expect("a test frame within IPv4's limits");
        v
    }

    /// A pcap file of the frames, one millisecond apart.
    pub fn file(frames: &[Frame]) -> Vec<u8> {
        file_timed(frames, |i| (1_700_000_000, i as u32 * 1000 % 1_000_000))
    }

    /// [`file`] with the frames a second apart: a capture whose flows
    /// time out, and whose records are written, as it is read.
    pub fn file_each_second(frames: &[Frame]) -> Vec<u8> {
        file_timed(frames, |i| (1_700_000_000 + i as u32, 0))
    }

    /// [`file`] with TCP acknowledgement numbers (`acks[i]` for frame `i`;
    /// frames past the list acknowledge nothing), the TCP checksum of the
    /// frames `bad_sum` picks made wrong (as a capture of checksum
    /// offload, or a desync tool's fake, shows them).
    pub fn file_acking(frames: &[Frame], acks: &[u32], bad_sum: impl Fn(usize) -> bool) -> Vec<u8> {
        let bytes = frames.iter().enumerate().map(|(i, f)| {
            let mut b = frame_bytes_acking(f, acks.get(i).copied());
            if bad_sum(i) {
                // Ethernet 14 + IPv4 20 + the checksum's offset 16.
                b[14 + 20 + 16] ^= 0x5a;
            }
            b
        });
        file_of(bytes, |i| (1_700_000_000, i as u32 * 1000 % 1_000_000))
    }

    /// Frame `i` at (seconds, microseconds) `at(i)`.
    fn file_timed(frames: &[Frame], at: impl Fn(usize) -> (u32, u32)) -> Vec<u8> {
        file_of(frames.iter().map(frame_bytes), at)
    }

    /// A pcap file of the frames' bytes, frame `i` at `at(i)`.
    fn file_of(frames: impl Iterator<Item = Vec<u8>>, at: impl Fn(usize) -> (u32, u32)) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&262_144u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for (i, b) in frames.enumerate() {
            let (secs, micros) = at(i);
            v.extend_from_slice(&secs.to_le_bytes());
            v.extend_from_slice(&micros.to_le_bytes());
            v.extend_from_slice(&(b.len() as u32).to_le_bytes());
            v.extend_from_slice(&(b.len() as u32).to_le_bytes());
            v.extend_from_slice(&b);
        }
        v
    }
}

/// A temporary file that removes itself.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, bytes: &[u8]) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sift-test-{}-{n}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        TempFile(p)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The TCP payloads sent from `port` in a capture, in capture order
/// (classic pcap, Ethernet, IPv4 without options).
pub fn tcp_payloads_from(capture: &[u8], port: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= capture.len() {
        let caplen = u32::from_le_bytes(capture[at + 8..at + 12].try_into().unwrap()) as usize;
        let f = &capture[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        if f.len() < 54 || f[12..14] != [8, 0] || f[23] != 6 {
            continue;
        }
        let ihl = usize::from(f[14] & 15) * 4;
        let total = usize::from(u16::from_be_bytes([f[16], f[17]]));
        let tcp = &f[14 + ihl..14 + total];
        let off = usize::from(tcp[12] >> 4) * 4;
        if u16::from_be_bytes([tcp[0], tcp[1]]) == port && tcp.len() > off {
            out.push(tcp[off..].to_vec());
        }
    }
    out
}

/// Checks a set of differences from nDPI against the committed list that
/// explains each (`tests/ndpi/FILE`, CSV with a header, `#` comments; the
/// first `key_fields` columns identify a row): every difference must be
/// listed, and every listed one must still occur.
pub fn assert_differences_listed(
    file: &str,
    key_fields: usize,
    found: &std::collections::BTreeSet<String>,
) {
    let listed: std::collections::BTreeSet<String> =
        std::fs::read_to_string(project_file(&format!("tests/ndpi/{file}")))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1)
            .map(|l| {
                l.splitn(key_fields + 1, ',')
                    .take(key_fields)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
    let unexplained: Vec<_> = found.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(found).collect();
    assert!(
        unexplained.is_empty(),
        "differences not explained in tests/ndpi/{file}: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "listed in tests/ndpi/{file} but no longer seen (update the file): {stale:#?}"
    );
}

/// A registry dump in the regulator's CSV form that hits
/// captures/sample.pcap by address (fd00:5f17::2, both ends), by name
/// (tls.sni, dns.query, a `*.` mask) and by URL, with two malformed lines.
pub const REGISTRY_DUMP: &str = "Updated: 2026-12-01 10:00:00 +0000
;secure.example.test;;Regulator;27-31-2020/Ид2971-20;2020-03-03
fd00:5f17::2;;;Regulator;2-1/2021;2021-01-01
;;http://api.example.test/v1/status | https://api.example.test/secret;Regulator;3-1/2022;2022-02-02
;*.cdn.example.test;;Regulator;4/2023;2023-01-01
;пример.рф;;Regulator;5/2023;2023-01-01
192.0.2.300 | 198.51.100.1;broken.example;;Regulator;6/2023;2023-01-01
;;;Regulator;7/2023;2023-01-01
";
