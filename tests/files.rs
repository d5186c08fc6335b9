//! Several capture files in one `sift analyze` call, read one after the
//! other: analyzed at once (one file per worker), they give the records,
//! in the order, and the summary of the serial run, byte for byte.

mod common;

use std::process::Output;

use common::*;

/// Corpus captures of several protocols, pcap and pcapng, none more than
/// a quarter of the bytes (so `auto` analyzes them at once).
const CAPTURES: [&str; 8] = [
    "dns_fragmented.pcap",
    "quic_q50.pcap",
    "tls_verylong_certificate.pcap",
    "dtls.pcap",
    "openvpn_obfuscated.pcapng",
    "http_connect.pcap",
    "ssh.pcap",
    "dns-tunnel-iodine.pcap",
];

fn corpus(name: &str) -> String {
    ndpi_corpus().join("pcap").join(name).display().to_string()
}

/// `sift analyze` of `files` writing every event type as JSON, the
/// default rules loaded, with `extra` flags.
fn analyze(extra: &[&str], files: &[String]) -> Output {
    let rules = project_file("rules/default.rules").display().to_string();
    let mut args: Vec<String> = [
        "analyze",
        "--format",
        "json",
        "--events",
        "flow,alert,dns,http,tls,quic",
        "--no-rules-cache",
        "--rules",
        &rules,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().cloned());
    let out = sift(&args);
    assert!(out.status.success(), "{extra:?}: {}", text(&out.stderr));
    out
}

/// The summary (on stderr), without the line of timings.
fn summary(out: &Output) -> String {
    text(&out.stderr)
        .lines()
        .filter(|l| !l.trim_start().starts_with("processed in"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn files_at_once_write_what_the_serial_run_writes() {
    let files: Vec<String> = CAPTURES.iter().map(|c| corpus(c)).collect();
    let serial = analyze(&["--threads", "1"], &files);
    let records = eve(&serial.stdout);
    assert!(records.len() > 100, "{} records", records.len());
    assert!(records.iter().any(|r| r["event_type"] == "alert"));
    let summary_serial = summary(&serial);
    assert!(summary_serial.contains("8 files"), "{summary_serial}");
    for extra in [
        &["--threads", "2"][..],
        &["--threads", "3", "--files-at-once", "always"],
        &["--threads", "2", "--files-at-once", "never"],
    ] {
        let out = analyze(extra, &files);
        assert!(
            out.stdout == serial.stdout,
            "{extra:?}: the records differ from the serial run's"
        );
        assert_eq!(summary(&out), summary_serial, "{extra:?}");
    }
}

/// Every capture under captures/, in one call: a GRE packet opens two
/// flows at once (the tunnel's and the one it carries), which must leave
/// in one order whatever the threads and however the files are read (the
/// order once hung on how a worker's events were cut into batches).
#[test]
fn flows_opened_by_one_packet_leave_in_one_order() {
    fn captures(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                captures(&p, out);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p.display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    captures(&project_file("captures"), &mut files);
    files.sort();
    assert!(files.len() >= 100);
    let serial = analyze(&["--threads", "1"], &files);
    let twins = eve(&serial.stdout)
        .windows(2)
        .filter(|w| {
            w[0]["event_type"] == "flow"
                && w[1]["event_type"] == "flow"
                && w[0]["sift"]["first_packet"] == w[1]["sift"]["first_packet"]
        })
        .count();
    assert!(twins > 0, "no two flows begin at one packet here");
    for extra in [
        &["--threads", "2", "--files-at-once", "never"][..],
        &["--threads", "3", "--files-at-once", "always"],
    ] {
        let out = analyze(extra, &files);
        assert!(out.stdout == serial.stdout, "{extra:?}: the records differ");
    }
}

/// A JSON record without what depends on the files before it: the flow
/// id and the input positions (the `sift` object, every evidence's and
/// alert's `packet`).
fn without_positions(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "flow_id" | "sift" | "packet"))
                .map(|(k, v)| (k, without_positions(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_positions).collect()),
        v => v,
    }
}

#[test]
fn each_file_gives_the_records_of_a_run_over_it_alone() {
    let files: Vec<String> = CAPTURES[..5].iter().map(|c| corpus(c)).collect();
    let together = analyze(&["--threads", "2"], &files);
    let mut alone = Vec::new();
    for f in &files {
        alone.extend(eve(
            &analyze(&["--threads", "2"], std::slice::from_ref(f)).stdout
        ));
    }
    let together = eve(&together.stdout);
    assert_eq!(together.len(), alone.len());
    // The first file's records are the same to the byte; later files'
    // differ only by where their packets sit in the whole input.
    let first = alone
        .iter()
        .take_while(|r| r["pcap_filename"] == files[0].as_str())
        .count();
    assert!(first > 0);
    assert!(
        together[..first] == alone[..first],
        "the first file differs"
    );
    // Later records carry positions, so that stripping them matters.
    assert!(together[first..] != alone[first..]);
    let strip =
        |v: Vec<serde_json::Value>| -> Vec<_> { v.into_iter().map(without_positions).collect() };
    assert!(
        strip(together) == strip(alone),
        "records differ beyond their input positions"
    );
}

#[test]
fn a_broken_file_in_the_middle_is_reported_and_the_others_analyzed() {
    let whole = std::fs::read(corpus(CAPTURES[2])).unwrap();
    // Cut inside a record: the file ends early, with a warning.
    let cut = TempFile::new("files-cut.pcap", &whole[..whole.len() / 2 + 3]);
    let files = vec![
        corpus(CAPTURES[0]),
        corpus(CAPTURES[1]),
        cut.path().to_string(),
        corpus(CAPTURES[3]),
        corpus(CAPTURES[4]),
    ];
    let serial = analyze(&["--threads", "1"], &files);
    let warning = format!("sift: warning: {}: ", cut.path());
    assert!(
        text(&serial.stderr).contains(&warning),
        "{}",
        text(&serial.stderr)
    );
    let out = analyze(&["--threads", "2", "--files-at-once", "always"], &files);
    assert!(out.stdout == serial.stdout, "the records differ");
    assert_eq!(summary(&out), summary(&serial));
    let records = eve(&out.stdout);
    for f in &files {
        assert!(
            records.iter().any(|r| r["pcap_filename"] == f.as_str()),
            "no record of {f}"
        );
    }
}

#[test]
fn sigint_stops_files_analyzed_at_once() {
    // Three captures of 40,000 one-packet flows a second apart: records
    // are written as flows time out, so sift blocks on the full stdout pipe
    // mid-file (the writer on the pipe, the other worker on its queue);
    // SIGINT then stops it, no file is begun after, and what was read is
    // still reported.
    let frames: Vec<pcap::Frame> = (0..40_000u32)
        .map(|i| pcap::Frame {
            src: ([10, 1, (i >> 8) as u8, i as u8], 5000 + (i % 7) as u16),
            dst: ([10, 0, 0, 2], 53),
            tcp: None,
            payload: b"query".to_vec(),
        })
        .collect();
    let t = TempFile::new("files-sigint.pcap", &pcap::file_each_second(&frames));
    let path = t.path();
    let args = [
        "analyze",
        "--format",
        "json",
        "--threads",
        "2",
        path,
        path,
        path,
    ];
    assert_interrupted(&args, 120_000);
}
