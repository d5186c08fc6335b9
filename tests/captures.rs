//! The project's own recorded captures (captures/): sift's flow records
//! match what each capture's `.expected` file says it holds.

mod common;

use common::*;

/// (transport, IP version, server port) of each TCP/UDP flow, in order.
fn flows_of(capture: &str) -> Vec<(String, u8, u64)> {
    let out = sift([
        "analyze",
        "--format",
        "json",
        "-q",
        project_file(capture).to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut recs = eve(&out.stdout);
    recs.retain(|r| matches!(r["proto"].as_str(), Some("TCP" | "UDP")));
    recs.sort_by_key(|r| r["sift"]["first_packet"].as_u64());
    recs.iter()
        .map(|r| {
            let v = if r["src_ip"].as_str().unwrap().contains(':') {
                6
            } else {
                4
            };
            (
                r["proto"].as_str().unwrap().to_lowercase(),
                v,
                r["dest_port"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(project_file(file))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn sample_capture_flows_match_expected() {
    let want: Vec<(String, u8, u64)> = expected("captures/sample.expected")
        .iter()
        .map(|f| (f[0].clone(), f[1].parse().unwrap(), f[2].parse().unwrap()))
        .collect();
    assert_eq!(want.len(), 16);
    assert_eq!(flows_of("captures/sample.pcap"), want);
}

#[test]
fn post_quantum_capture_has_two_tls_flows() {
    let flows = flows_of("captures/tls-pq-chromium.pcap");
    assert_eq!(flows, vec![("tcp".into(), 4, 443), ("tcp".into(), 4, 443)]);
}
