//! Server names under the segmentations and orderings that defeat other
//! engines, generated from a real post-quantum ClientHello (Chromium's, in
//! captures/tls-pq-chromium.pcap: 1,987 bytes, key shares X25519MLKEM768 and
//! X25519). Each case is one flow of a generated capture that the `sift`
//! binary analyzes; every flow must yield the right SNI.

mod common;

use common::pcap::{Frame, ACK, PSH_ACK, SYN};
use common::*;

const SNI: &str = "pq.example.test";

/// The ClientHello record of the capture's first connection.
fn client_hello_record() -> Vec<u8> {
    let cap = std::fs::read(project_file("captures/tls-pq-chromium.pcap")).unwrap();
    // The client's port is the source of the first payload to port 443.
    let mut at = 24;
    let mut port = None;
    while at + 16 <= cap.len() && port.is_none() {
        let caplen = u32::from_le_bytes(cap[at + 8..at + 12].try_into().unwrap()) as usize;
        let f = &cap[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        if f.len() > 66 && f[23] == 6 && u16::from_be_bytes([f[36], f[37]]) == 443 {
            port = Some(u16::from_be_bytes([f[34], f[35]]));
        }
    }
    let stream: Vec<u8> = tcp_payloads_from(&cap, port.unwrap()).concat();
    assert_eq!(stream[0], 0x16, "a handshake record");
    let len = usize::from(u16::from_be_bytes([stream[3], stream[4]]));
    assert!(len > 1500, "a ClientHello larger than one segment ({len})");
    stream[..5 + len].to_vec()
}

/// The handshake message (header included) inside a single-record hello.
fn handshake_message(record: &[u8]) -> &[u8] {
    &record[5..]
}

/// Frames the handshake message into records of at most `sizes[i]` bytes.
fn reframe(msg: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = msg;
    for &n in sizes.iter().chain(std::iter::repeat(&usize::MAX)) {
        if rest.is_empty() {
            break;
        }
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(a.len() as u16).to_be_bytes());
        out.extend_from_slice(a);
        rest = b;
    }
    out
}

/// Replaces the server_name in a single-record ClientHello, fixing every
/// length around it.
fn with_server_name(record: &[u8], name: &str) -> Vec<u8> {
    let body = &record[9..];
    let mut p = 2 + 32;
    p += 1 + usize::from(body[p]);
    p += 2 + usize::from(u16::from_be_bytes([body[p], body[p + 1]]));
    p += 1 + usize::from(body[p]);
    let ext_start = p + 2;
    let mut exts = Vec::new();
    let mut q = ext_start;
    while q + 4 <= body.len() {
        let t = u16::from_be_bytes([body[q], body[q + 1]]);
        let l = usize::from(u16::from_be_bytes([body[q + 2], body[q + 3]]));
        if t == 0 {
            let n = name.as_bytes();
            exts.extend_from_slice(&[0, 0]);
            exts.extend_from_slice(&((n.len() + 5) as u16).to_be_bytes());
            exts.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
            exts.push(0);
            exts.extend_from_slice(&(n.len() as u16).to_be_bytes());
            exts.extend_from_slice(n);
        } else {
            exts.extend_from_slice(&body[q..q + 4 + l]);
        }
        q += 4 + l;
    }
    let mut new_body = body[..p].to_vec();
    new_body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    new_body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(new_body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&new_body);
    reframe(&msg, &[])
}

/// One client connection: a SYN, then `segments` (offset into `stream`,
/// length) in the given order.
fn connection(port: u16, stream: &[u8], segments: &[(usize, usize)]) -> Vec<Frame> {
    let isn = 1_000_000u32.wrapping_mul(u32::from(port));
    let c = ([10, 9, 0, 1], port);
    let s = ([10, 9, 0, 2], 443);
    let mut v = vec![
        Frame {
            src: c,
            dst: s,
            tcp: Some((isn, SYN)),
            payload: vec![],
        },
        Frame {
            src: s,
            dst: c,
            tcp: Some((7, SYN | ACK)),
            payload: vec![],
        },
    ];
    for &(off, len) in segments {
        v.push(Frame {
            src: c,
            dst: s,
            tcp: Some((isn.wrapping_add(1 + off as u32), PSH_ACK)),
            payload: stream[off..off + len].to_vec(),
        });
    }
    v
}

/// Runs sift over the frames; returns (client port, SNI) per flow.
fn snis(frames: &[Frame]) -> Vec<(u16, Option<String>)> {
    let f = TempFile::new("adversarial.pcap", &pcap::file(frames));
    let out = sift(["analyze", "--format", "json", "-q", f.path()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    eve(&out.stdout)
        .iter()
        .map(|r| {
            let sni = r["tls"]["sni"].as_str().map(str::to_string);
            (r["src_port"].as_u64().unwrap() as u16, sni)
        })
        .collect()
}

fn assert_all_named(results: &[(u16, Option<String>)], expected_flows: usize, name: &str) {
    assert_eq!(results.len(), expected_flows);
    let wrong: Vec<_> = results
        .iter()
        .filter(|(_, s)| s.as_deref() != Some(name))
        .collect();
    assert!(wrong.is_empty(), "flows without the right SNI: {wrong:?}");
}

#[test]
fn split_at_every_offset_into_two_segments() {
    let rec = client_hello_record();
    let mut frames = Vec::new();
    for cut in 1..rec.len() {
        frames.extend(connection(
            10_000 + cut as u16,
            &rec,
            &[(0, cut), (cut, rec.len() - cut)],
        ));
    }
    assert_all_named(&snis(&frames), rec.len() - 1, SNI);
}

#[test]
fn five_segments_in_every_order() {
    let rec = client_hello_record();
    let cuts = [0, 300, 777, 1200, 1448, rec.len()];
    let segs: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1] - w[0])).collect();
    // All 120 orders (reversed among them), by Heap's algorithm.
    let mut orders = Vec::new();
    let mut idx = [0usize, 1, 2, 3, 4];
    let mut c = [0usize; 5];
    orders.push(idx);
    let mut i = 0;
    while i < 5 {
        if c[i] < i {
            if i % 2 == 0 {
                idx.swap(0, i);
            } else {
                idx.swap(c[i], i);
            }
            orders.push(idx);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    assert!(orders.contains(&[4, 3, 2, 1, 0]));
    let mut frames = Vec::new();
    for (n, o) in orders.iter().enumerate() {
        let ordered: Vec<_> = o.iter().map(|&k| segs[k]).collect();
        frames.extend(connection(20_000 + n as u16, &rec, &ordered));
    }
    assert_all_named(&snis(&frames), 120, SNI);
}

#[test]
fn duplicated_and_overlapping_retransmissions() {
    let rec = client_hello_record();
    let n = rec.len();
    let cases: Vec<Vec<(usize, usize)>> = vec![
        // Every segment twice.
        vec![(0, 1000), (0, 1000), (1000, n - 1000), (1000, n - 1000)],
        // Overlapping retransmissions covering the boundary, out of order.
        vec![(900, n - 900), (0, 1000), (500, 1000)],
        // A small segment inside a later, larger one.
        vec![(100, 50), (0, 700), (0, n)],
        // Tail first, then the head retransmitted in three overlapping pieces.
        vec![(1400, n - 1400), (0, 600), (300, 900), (1000, 500)],
    ];
    let mut frames = Vec::new();
    for (k, segs) in cases.iter().enumerate() {
        frames.extend(connection(30_000 + k as u16, &rec, segs));
    }
    assert_all_named(&snis(&frames), cases.len(), SNI);
}

#[test]
fn split_across_records_and_after_change_cipher_spec() {
    let rec = client_hello_record();
    let msg = handshake_message(&rec);
    let two = reframe(msg, &[1000]);
    let three = reframe(msg, &[40, 1200]);
    let mut ccs_first = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    ccs_first.extend_from_slice(&rec);
    let mut frames = Vec::new();
    for (k, stream) in [&two, &three, &ccs_first].iter().enumerate() {
        // In MSS-sized segments, second before first.
        let first = stream.len().min(1448);
        let segs = if stream.len() > first {
            vec![(first, stream.len() - first), (0, first)]
        } else {
            vec![(0, first)]
        };
        frames.extend(connection(40_000 + k as u16, stream, &segs));
    }
    assert_all_named(&snis(&frames), 3, SNI);
}

#[test]
fn server_name_is_normalized_and_raw_kept() {
    let rec = with_server_name(&client_hello_record(), "PQ.Example.TEST.");
    let f = TempFile::new(
        "sni-case.pcap",
        &pcap::file(&connection(
            50_000,
            &rec,
            &[(1000, rec.len() - 1000), (0, 1000)],
        )),
    );
    let out = sift(["analyze", "--format", "json", "-q", f.path()]);
    let recs = eve(&out.stdout);
    assert_eq!(recs[0]["tls"]["sni"], "pq.example.test");
    assert_eq!(recs[0]["tls"]["sni_raw"], "PQ.Example.TEST.");
}

/// The reassembly budget under a flood of out-of-order data (`--memory-limit
/// 64M`, one worker: 9.6 MB for out-of-order bytes). Bytes deep in a stream
/// may fill only half of it, so hellos arriving out of order after a deep
/// flood are still read; once shallow floods fill the rest, what is refused
/// is counted per flow (EVE `sift.reassembly_lost`) and in the summary
/// (was: dropped silently, "anomalies none").
#[test]
fn reassembly_budget_prefers_first_kilobytes_and_counts_what_it_refuses() {
    let hello = with_server_name(&client_hello_record(), SNI);
    let split = hello.len() / 2;
    let out_of_order = [(split, hello.len() - split), (0, split)];
    let junk = vec![0x42u8; 60_000];
    // Ten 1,400-byte segments from `start`, the bytes before never sent.
    let flood = |start: usize| -> Vec<(usize, usize)> {
        (0..10).map(|k| (start + k * 1400, 1400)).collect()
    };
    let mut frames = Vec::new();
    let mut port = 1024u16;
    let mut next = || {
        port += 1;
        port
    };
    for _ in 0..500 {
        frames.extend(connection(next(), &junk, &flood(17_000)));
    }
    let first_hellos: Vec<u16> = (0..50).map(|_| next()).collect();
    for &p in &first_hellos {
        frames.extend(connection(p, &hello, &out_of_order));
    }
    for _ in 0..700 {
        frames.extend(connection(next(), &junk, &flood(1460)));
    }
    let late_hellos: Vec<u16> = (0..50).map(|_| next()).collect();
    for &p in &late_hellos {
        frames.extend(connection(p, &hello, &out_of_order));
    }
    let f = TempFile::new("budget.pcap", &pcap::file(&frames));
    let out = sift([
        "analyze",
        "--format",
        "json",
        "--threads",
        "1",
        "--memory-limit",
        "64M",
        f.path(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let recs = eve(&out.stdout);
    let by_port = |p: u16| {
        recs.iter()
            .find(|r| r["src_port"] == p)
            .unwrap_or_else(|| panic!("no record for port {p}"))
    };
    for &p in &first_hellos {
        let r = by_port(p);
        assert_eq!(r["tls"]["sni"], SNI, "hello after a deep flood, port {p}");
        assert!(r["sift"].get("reassembly_lost").is_none());
    }
    let mut lost_hellos = 0;
    for &p in &late_hellos {
        let r = by_port(p);
        if r["tls"]["sni"] != SNI {
            lost_hellos += 1;
            assert!(
                r["sift"]["reassembly_lost"]["segments"].as_u64() >= Some(1),
                "a hello lost to the budget says so: {r}"
            );
        }
    }
    assert!(lost_hellos > 0, "the shallow flood fills the budget");
    let summary = text(&out.stderr);
    let line = summary
        .lines()
        .find(|l| l.contains("not buffered: reassembly limits reached"))
        .unwrap_or_else(|| panic!("no summary line:\n{summary}"));
    let refused: u64 = line
        .split_whitespace()
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    let per_flow: u64 = recs
        .iter()
        .filter_map(|r| r["sift"]["reassembly_lost"]["segments"].as_u64())
        .sum();
    assert_eq!(
        refused, per_flow,
        "the summary counts every refused segment"
    );
}
